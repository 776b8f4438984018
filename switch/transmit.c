/* SPDX-License-Identifier: MIT */
/*
 * switch/transmit.c - VMs -> anywhere: a vif's frames checked
 * (anti-spoofing, untagged only), VM to VM through the vif table, VM to
 * wire through the vif's TX queues; the arbiter (vmdq_tx_pick) and the
 * uplink's txrate; the backpressure that holds a VM back.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "handoff.h"

/* Queues a VM's frame for the wire on the vif's TX queue, tagged with its
 * access VLAN.  The frame is copied into the vif's TX buffer slot. */
static void to_wire(struct vmdq_switch *sw, int w, struct sw_vif *v, unsigned pair,
		    const uint8_t *data, uint32_t len, uint64_t ts,
		    const struct vmdq_offload *off)
{
	struct sw_txp *t = &v->tx[pair];
	if (!sw->has_uplink) {
		v->c[w].drops[SWD_PORT_TX]++;
		return;
	}
	uint32_t out_len = len + (v->vlan ? 4 : 0);
	if (out_len > SW_TX_BUF) {
		v->c[w].drops[SWD_TOO_BIG]++;
		return;
	}
	if (t->posted - atomic_load_explicit(&t->done, memory_order_acquire) >= SW_TX_SLOTS) {
		v->c[w].drops[SWD_TX_FULL]++;
		return;
	}
	uint8_t *slot = v->txmem + ((size_t)pair * SW_TX_SLOTS + t->posted % SW_TX_SLOTS) *
				   SW_TX_BUF;
	if (v->vlan) {
		memcpy(slot, data, 12);
		slot[12] = 0x81;
		slot[13] = 0x00;
		slot[14] = (uint8_t)(v->vlan >> 8);
		slot[15] = (uint8_t)v->vlan;
		memcpy(slot + 16, data + 12, len - 12);
	} else {
		memcpy(slot, data, len);
	}
	/* posted with the rest of the burst (to_wire_flush): one publication */
	struct vmdq_txd *d = &t->pend[t->npend++];
	*d = (struct vmdq_txd){ .data = slot, .len = out_len, .caplen = out_len, .ts_ns = ts,
				.off = *off };
	if (v->vlan)
		vmdq_off_moved(&d->off, 4); /* the headers moved behind the tag */
	t->posted++;
}

/* Posts the frames to_wire queued during this burst on the pair's TX queue. */
static void to_wire_flush(struct vmdq_switch *sw, int w, struct sw_vif *v, unsigned pair)
{
	struct sw_txp *t = &v->tx[pair];
	if (!t->npend)
		return;
	unsigned k = vmdq_txq_post(sw->dev, (unsigned)v->queue + pair, t->pend, t->npend);
	if (k < t->npend) {
		/* cannot happen while posted - done bounds the ring; counted */
		v->c[w].drops[SWD_TX_FULL] += t->npend - k;
		atomic_fetch_add_explicit(&t->done, t->npend - k, memory_order_release);
	}
	t->npend = 0;
	want_ring(sw, w, 0); /* the arbiter runs on the main worker */
}

/* A burst from queue pair `pair` of vif vi: a VM's frames leave through
 * the TX queue of the pair they came on. */
unsigned vmdq_sw_from_vif(struct vmdq_switch *sw, int w, int vi, unsigned pair)
{
	struct sw_vif *v = sw->vif[vi];
	struct vmdq_frame f[BURST];
	unsigned n = v->port.ops->rx(&v->port, pair, f, BURST);
	struct sw_cnt *c = &v->c[w];
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = f[i].data;
		uint32_t len = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		c->from_vm++;
		if (len < 14) {
			c->drops[SWD_RUNT]++; /* cannot be switched */
			continue;
		}
		if (memcmp(d + 6, v->mac, 6) != 0) {
			c->drops[SWD_SPOOFED]++; /* anti-spoofing (SPEC 2) */
			continue;
		}
		uint16_t et = (uint16_t)(d[12] << 8 | d[13]);
		if (et == 0x8100 || et == 0x88a8) {
			c->drops[SWD_TAGGED]++; /* VMs send untagged; the switch tags */
			continue;
		}
		if (!vmdq_sw_off_admit(sw, w, &f[i], len, c))
			continue;
		if (d[0] & 1) {
			/* broadcast/multicast: the other vifs of the VLAN, and the wire */
			for (uint32_t j = sw->vlan_off[v->vlan]; j < sw->vlan_off[v->vlan + 1]; j++)
				if (sw->vlan_vifs[j] != v)
					vmdq_sw_hand_to(sw, w, sw->vlan_vifs[j], d, len, f[i].ts_ns, i,
							&f[i].off);
			to_wire(sw, w, v, pair, d, len, f[i].ts_ns, &f[i].off);
			continue;
		}
		int to = vmdq_sw_vif_lookup(sw, d, v->vlan);
		if (to >= 0 && to != vi)
			vmdq_sw_hand_to(sw, w, sw->vif[to], d, len, f[i].ts_ns, i, &f[i].off);
		else
			to_wire(sw, w, v, pair, d, len, f[i].ts_ns, &f[i].off);
	}
	vmdq_sw_batch_flush(sw, w, NULL, NULL); /* one tx call per vif of this worker */
	to_wire_flush(sw, w, v, pair);
	return n;
}

/* How many frames the wire takes now (the uplink's txrate: a token
 * bucket of at most a burst). */
static unsigned wire_budget(struct vmdq_switch *sw, uint64_t now)
{
	if (!sw->tx_rate || !now)
		return BURST;
	if (!sw->tx_last_ns)
		sw->tx_last_ns = now;
	uint64_t dt = now - sw->tx_last_ns;
	sw->tx_last_ns = now;
	const uint64_t cap = (uint64_t)BURST * 1000000000ull;
	sw->tx_credit = dt > cap / sw->tx_rate ? cap : sw->tx_credit + dt * sw->tx_rate;
	if (sw->tx_credit > cap)
		sw->tx_credit = cap;
	return (unsigned)(sw->tx_credit / 1000000000ull);
}

/* The arbiter's picks go to the wire (main worker). */
unsigned vmdq_sw_wire_out(struct vmdq_switch *sw, int w, uint64_t now)
{
	if (!sw->has_uplink)
		return 0;
	struct vmdq_txd t[BURST];
	unsigned budget = wire_budget(sw, now);
	if (!budget)
		return 0;
	unsigned n = vmdq_tx_pick(sw->dev, t, budget);
	if (sw->tx_rate && now)
		sw->tx_credit -= (uint64_t)n * 1000000000ull;
	if (!n)
		return 0;
	struct vmdq_frame f[BURST];
	for (unsigned i = 0; i < n; i++)
		f[i] = (struct vmdq_frame){ .data = t[i].data, .caplen = t[i].caplen,
					    .len = t[i].len, .ts_ns = t[i].ts_ns, .off = t[i].off };
	unsigned sent = vmdq_sw_port_tx(sw, w, &sw->uplink, f, n);
	sw->wk[w].wc.to_wire += sent;
	sw->wk[w].wc.tx_drops += n - sent;
	for (unsigned i = 0; i < n; i++) {
		int vi = sw->queue_vif[t[i].queue];
		if (vi >= 0) {
			struct sw_vif *v = sw->vif[vi];
			/* the uplink copied it: the TX slot is the owner's again */
			atomic_fetch_add_explicit(&v->tx[t[i].queue - (unsigned)v->queue].done, 1,
						  memory_order_release);
			if (i < sent)
				v->c[w].to_wire++;
			else
				v->c[w].drops[SWD_PORT_TX]++;
		}
	}
	return n;
}

/* Backpressure: worker w reads a burst from a VM only when every inbox it
 * feeds has room for a whole burst (a burst goes at most once to each vif),
 * so a slower receiver on another worker holds the sender back (its frames
 * wait in its port, e.g. the TAP's queue) instead of overflowing the
 * hand-over. */
bool vmdq_sw_inboxes_have_room(struct vmdq_switch *sw, int w)
{
	/* the inboxes from w that had less than a burst free when w last
	 * pushed (vmdq_sw_hand_to lists them): the only ones that can lack
	 * room now, since only w fills them */
	struct sw_worker *k = &sw->wk[w];
	for (unsigned j = 0; j < k->nfull; j++) {
		struct sw_inbox *ib = k->full[j]->inbox[w];
		if (inbox_used(ib) > SW_INBOX - BURST)
			return false;
		ib->listed = false;
		k->full[j--] = k->full[--k->nfull];
	}
	return true;
}

/* ... and when the pair's TX queue has room for a burst. */
bool vmdq_sw_tx_has_room(struct sw_vif *v, unsigned pair)
{
	return v->tx[pair].posted -
		       atomic_load_explicit(&v->tx[pair].done, memory_order_acquire) <=
	       SW_TX_SLOTS - BURST;
}

