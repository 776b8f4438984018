/* SPDX-License-Identifier: MIT */
/*
 * switch/forward.c - wire -> VMs (WP 3.5): the uplink's sources learned,
 * a vif queue's group handed to its port with one decision, the default
 * queue switched through the FDB, floods to a VLAN's vifs, and the frames
 * other workers left in a vif's inboxes.
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

/* Adds a frame for vif `to` (worker w's own) to its batch of this burst;
 * handed to its port by vmdq_sw_batch_flush. */
static void batch_add(struct vmdq_switch *sw, int w, struct sw_vif *to, const uint8_t *data,
		      uint32_t len, uint64_t ts, unsigned src, const struct vmdq_offload *off)
{
	struct sw_batch *b = &to->batch;
	struct sw_worker *k = &sw->wk[w];
	if (b->n == BURST) /* cannot happen: a burst adds a frame once per vif */
		vmdq_sw_batch_flush(sw, w, NULL, NULL);
	if (!b->n)
		k->touched[k->ntouched++] = to;
	b->f[b->n] = (struct vmdq_frame){ .data = data, .caplen = len, .len = len, .ts_ns = ts,
					  .off = *off };
	b->src[b->n++] = (uint8_t)src;
}

/* Hands frame `src` of the burst to vif `to` from worker w: its own vif's
 * port with the rest of the burst (batch), another worker's through the
 * inbox.  Returns false (counted) if the inbox refused it. */
bool vmdq_sw_hand_to(struct vmdq_switch *sw, int w, struct sw_vif *to, const uint8_t *data,
		     uint32_t len, uint64_t ts, unsigned src, const struct vmdq_offload *off)
{
	if (to->worker == w) {
		batch_add(sw, w, to, data, len, ts, src, off);
		return true;
	}
	struct sw_inbox *ib = to->inbox[w];
	if (!inbox_push(ib, data, len, ts, off)) {
		to->c[w].drops[SWD_HANDOFF_FULL]++;
		return false;
	}
	if (!ib->listed && inbox_used(ib) > SW_INBOX - BURST) {
		/* backpressure: vmdq_sw_inboxes_have_room watches it */
		ib->listed = true;
		sw->wk[w].full[sw->wk[w].nfull++] = to;
	}
	want_signal(sw, w, to);
	want_ring(sw, w, to->worker);
	return true;
}

void vmdq_sw_batch_flush(struct vmdq_switch *sw, int w, const uint8_t *kind, unsigned *got)
{
	struct sw_worker *k = &sw->wk[w];
	for (unsigned t = 0; t < k->ntouched; t++) {
		struct sw_vif *v = k->touched[t];
		struct sw_batch *b = &v->batch;
		unsigned sent = vmdq_sw_port_tx(sw, w, &v->port, b->f, b->n);
		v->c[w].to_vm += sent;
		want_flush(sw, w, v);
		for (unsigned i = 0; i < b->n; i++) {
			bool uni = kind && kind[b->src[i]] == SW_K_UNI;
			if (i < sent) {
				k->wc.delivered += uni;
				if (got)
					got[b->src[i]]++;
			} else {
				v->c[w].drops[SWD_PORT_TX]++;
				k->wc.drops[SWD_PORT_TX] += uni;
			}
		}
		b->n = 0;
	}
	k->ntouched = 0;
}

/* ---- wire -> VMs ------------------------------------------------------ */

static void drop_wire(struct vmdq_switch *sw, int w, struct sw_vif *v, enum sw_drop why)
{
	sw->wk[w].wc.drops[why]++;
	if (v)
		v->c[w].drops[why]++;
}

/* Makes a frame from the wire fit for vif v: an access vif gets its VLAN's
 * frames untagged (in place); the untagged domain never gets a tagged frame
 * (SPEC 2).  Returns false, with the drop counted, if v must not get it. */
static bool fit_for_vif(struct vmdq_switch *sw, int w, struct sw_vif *v, uint8_t **data,
			uint32_t *len, uint16_t vid, bool tagged, struct vmdq_offload *off)
{
	if (v->vlan) {
		if (!tagged || vid != v->vlan || *len < 18) {
			drop_wire(sw, w, v, SWD_WRONG_VLAN);
			return false;
		}
		memmove(*data + 4, *data, 12); /* untag in place */
		*data += 4;
		*len -= 4;
		vmdq_off_moved(off, -4);
	} else if (tagged) {
		drop_wire(sw, w, v, SWD_TAGGED);
		return false;
	}
	return true;
}

/* Hands n prepared frames to vif v (worker w's own) in one call; counts
 * what it refused. */
static void send_to_vif(struct vmdq_switch *sw, int w, struct sw_vif *v, struct vmdq_frame *f,
			unsigned n)
{
	if (!n)
		return;
	unsigned sent = vmdq_sw_port_tx(sw, w, &v->port, f, n);
	v->c[w].to_vm += sent;
	want_flush(sw, w, v);
	sw->wk[w].wc.delivered += sent;
	for (unsigned i = sent; i < n; i++)
		drop_wire(sw, w, v, SWD_PORT_TX);
}

/* One frame from the wire to vif v (the default queue's per-frame path,
 * on the main worker). */
void vmdq_sw_deliver_to_vif(struct vmdq_switch *sw, int w, struct sw_vif *v, uint8_t *data,
			   uint32_t len, uint16_t vid, bool tagged, uint64_t ts,
			   const struct vmdq_offload *off)
{
	struct vmdq_offload o = *off;
	if (!fit_for_vif(sw, w, v, &data, &len, vid, tagged, &o))
		return;
	if (v->worker == w) {
		struct vmdq_frame f = { .data = data, .caplen = len, .len = len, .ts_ns = ts,
					.off = o };
		send_to_vif(sw, w, v, &f, 1);
	} else if (vmdq_sw_hand_to(sw, w, v, data, len, ts, 0, &o)) {
		sw->wk[w].wc.delivered++;
	} else {
		sw->wk[w].wc.drops[SWD_HANDOFF_FULL]++;
	}
}

/* Floods frame `src` from the wire to every vif of its VLAN (the VLAN's
 * member list).  Every member gets the same bytes: untagged in place once
 * for an access VLAN.  Deliveries are counted in got[src] (the batches'
 * when they are flushed). */
static void flood_from_wire(struct vmdq_switch *sw, int w, uint8_t *data, uint32_t len,
			    uint16_t vid, bool tagged, uint64_t ts, unsigned src, unsigned *got,
			    struct vmdq_offload *off)
{
	unsigned l = tagged ? vid & 0xfff : 0;
	uint32_t from = sw->vlan_off[l], to = sw->vlan_off[l + 1];
	if (from == to)
		return;
	if (l) {
		memmove(data + 4, data, 12);
		data += 4;
		len -= 4;
		vmdq_off_moved(off, -4);
	}
	for (uint32_t j = from; j < to; j++)
		got[src] += vmdq_sw_hand_to(sw, w, sw->vlan_vifs[j], data, len, ts, src, off) &&
			    sw->vlan_vifs[j]->worker != w;
}

/* The default queue, as VALE does it: every frame of the burst classified
 * first (flood, or the FDB's port), then one port tx call per destination
 * for the whole burst (SPEC 2). */
static void switch_default(struct vmdq_switch *sw, int w, struct vmdq_rxd *d, unsigned n)
{
	struct sw_worker *k = &sw->wk[w];
	uint8_t kind[BURST];
	unsigned got[BURST];
	for (unsigned i = 0; i < n; i++) {
		uint8_t *data = d[i].buf;
		uint32_t len = d[i].len;
		bool tagged = d[i].flags & VMDQ_RXD_TAGGED;
		uint16_t vid = d[i].vlan;
		kind[i] = SW_K_DROP;
		got[i] = 0;
		k->wc.polled++;
		if (len < 14 || (d[i].flags & VMDQ_ERR_MASK)) {
			/* bad frames (device store-bad on) are counted, not switched */
			drop_wire(sw, w, NULL, SWD_BAD);
			continue;
		}
		struct vmdq_offload *off = &d[i].off;
		if (!(d[i].flags & VMDQ_RXD_OFFLOAD))
			*off = (struct vmdq_offload){ 0 };
		else if (!vmdq_sw_off_admit(sw, w, &(struct vmdq_frame){ .data = data, .caplen = len,
									 .len = len, .off = *off },
					    len, NULL))
			continue;
		int port = data[0] & 1 ? -1 : vmdq_fdb_lookup(sw->fdb, data, tagged ? vid : 0);
		if (port == UPLINK_PORT) {
			drop_wire(sw, w, NULL, SWD_NOT_LOCAL);
		} else if (port > 0 && (unsigned)port <= sw->vif_cap && sw->vif[port - 1]) {
			struct sw_vif *v = sw->vif[port - 1];
			if (!fit_for_vif(sw, w, v, &data, &len, vid, tagged, off))
				continue;
			kind[i] = SW_K_UNI;
			if (v->worker == w)
				batch_add(sw, w, v, data, len, d[i].ts_ns, i, off);
			else if (vmdq_sw_hand_to(sw, w, v, data, len, d[i].ts_ns, i, off))
				k->wc.delivered++;
			else
				k->wc.drops[SWD_HANDOFF_FULL]++;
		} else {
			kind[i] = SW_K_FLOOD;
			flood_from_wire(sw, w, data, len, vid, tagged, d[i].ts_ns, i, got, off);
		}
	}
	vmdq_sw_batch_flush(sw, w, kind, got);
	for (unsigned i = 0; i < n; i++) {
		if (kind[i] != SW_K_FLOOD)
			continue;
		if (got[i]) {
			k->wc.delivered++;
			k->wc.flooded++;
		} else {
			k->wc.drops[SWD_NO_VIF]++;
		}
	}
}

/* A group from a vif's queue: one decision for all of it (WP 3.5.1), and
 * one hand-over to the vif's port.  At most BURST descriptors (ok[], f[]);
 * vmdq_sw_switch_group cuts longer groups (vif del's reclaim: a whole ring). */
static void switch_burst(struct vmdq_switch *sw, int w, int vi, struct vmdq_rxd *d,
			 unsigned n)
{
	sw->wk[w].wc.polled += n;
	if (vi < 0) {
		for (unsigned i = 0; i < n; i++)
			drop_wire(sw, w, NULL, SWD_VIF_GONE);
		return;
	}
	struct sw_vif *v = sw->vif[vi];
	/* its VM moved to another host and is gone from here: the wire has
	 * that MAC (frames from the wire never go back to it) */
	bool moved = atomic_load_explicit(&v->away, memory_order_relaxed) &&
		     atomic_load_explicit(&v->port.peer_gone, memory_order_relaxed);
	if (v->targeted) {
		/* Level 2: the frames are in the VM's buffers already; decide on
		 * the header replicas and complete the buffers (no copy) */
		bool ok[BURST];
		for (unsigned i = 0; i < n; i++) {
			uint16_t fl = d[i].flags;
			ok[i] = false;
			if (moved)
				drop_wire(sw, w, v, SWD_NOT_LOCAL);
			else if (fl & VMDQ_ERR_MASK)
				drop_wire(sw, w, v, SWD_BAD);
			else if (v->vlan && (!(fl & VMDQ_RXD_STRIPPED) || d[i].vlan != v->vlan))
				drop_wire(sw, w, v, SWD_WRONG_VLAN);
			else if (!v->vlan && (fl & VMDQ_RXD_TAGGED))
				drop_wire(sw, w, v, SWD_TAGGED);
			else if (!(fl & VMDQ_RXD_TARGETED) || (fl & VMDQ_RXD_REFUSED) ||
				 d[i].hdr_len < 14)
				drop_wire(sw, w, v, SWD_BAD); /* (not in the VM's buffer) */
			else
				ok[i] = true;
		}
		unsigned want = 0;
		for (unsigned i = 0; i < n; i++)
			want += ok[i];
		unsigned got = v->port.ops->complete(&v->port, d, n, ok);
		v->c[w].to_vm += got;
		sw->wk[w].wc.delivered += got;
		for (unsigned i = got; i < want; i++)
			drop_wire(sw, w, v, SWD_PORT_TX);
		return;
	}
	struct vmdq_frame f[BURST];
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *data = d[i].buf;
		uint32_t len = d[i].len;
		if (moved || (d[i].flags & VMDQ_ERR_MASK)) {
			drop_wire(sw, w, v, moved ? SWD_NOT_LOCAL : SWD_BAD);
			continue;
		}
		struct vmdq_frame *g = &f[k];
		g->off = (d[i].flags & VMDQ_RXD_OFFLOAD) ? d[i].off : (struct vmdq_offload){ 0 };
		if (g->off.gso_type && !vmdq_sw_off_admit(sw, w, &(struct vmdq_frame){
				.data = data, .caplen = len, .len = len, .off = g->off }, len, &v->c[w]))
			continue;
		if (fit_for_vif(sw, w, v, &data, &len, d[i].vlan, d[i].flags & VMDQ_RXD_TAGGED,
				&g->off)) {
			g->data = data;
			g->caplen = g->len = len;
			g->ts_ns = d[i].ts_ns;
			k++;
		}
	}
	send_to_vif(sw, w, v, f, k);
}

void vmdq_sw_switch_group(struct vmdq_switch *sw, int w, int vi, struct vmdq_rxd *d,
			 unsigned n)
{
	for (unsigned off = 0; off < n; off += BURST)
		switch_burst(sw, w, vi, d + off, n - off < BURST ? n - off : BURST);
}

unsigned vmdq_sw_drain_queue(struct vmdq_switch *sw, int w, unsigned q)
{
	struct vmdq_rxd d[BURST];
	unsigned n = vmdq_rxq_poll(sw->dev, q, d, BURST);
	if (!n)
		return 0;
	if (q == sw->default_queue) {
		switch_default(sw, w, d, n);
	} else {
		int vi = sw->queue_vif[q];
		vmdq_sw_switch_group(sw, w, vi, d, n);
		if (vi >= 0 && sw->vif[vi]->targeted)
			return n; /* the VM's buffers: its port posts them again */
	}
	/* the buffers are free again: every delivery copied */
	for (unsigned i = 0; i < n; i++)
		d[i].len = 0;
	vmdq_rxq_post(sw->dev, q, d, n);
	return n;
}

/* The port asked for the completions waiting in its queues (its service
 * returned PORT_SERVICE_DRAIN: its VM's rings are about to change); the
 * owning worker. */
void vmdq_sw_drain_rx(struct vmdq_switch *sw, struct sw_vif *v)
{
	/* what is in the ring, at most: the port took its buffers back first */
	for (unsigned i = 0; i < v->nq; i++)
		for (unsigned b = 0; b <= SW_RING / BURST; b++)
			if (vmdq_sw_drain_queue(sw, v->worker, (unsigned)v->queue + i) == 0)
				break;
}

/* Frames other workers left for vif v: a hand-over per burst, until the
 * inboxes are empty or a whole inbox's worth was handed over (the other
 * worker may refill it as fast: the round must end). */
unsigned vmdq_sw_drain_inboxes(struct vmdq_switch *sw, int w, struct sw_vif *v)
{
	unsigned total = 0;
	for (int p = 0; p < SW_MAX_WORKERS; p++) {
		struct sw_inbox *ib = v->inbox[p];
		if (!ib)
			continue;
		for (unsigned b = 0; b < SW_INBOX / BURST; b++) {
			uint32_t head = atomic_load_explicit(&ib->head, memory_order_relaxed);
			uint32_t n = atomic_load_explicit(&ib->tail, memory_order_acquire) - head;
			if (!n)
				break;
			if (n > BURST)
				n = BURST;
			struct vmdq_frame f[BURST];
			for (uint32_t i = 0; i < n; i++) {
				unsigned k = (head + i) % SW_INBOX;
				f[i] = (struct vmdq_frame){ .data = SW_INBOX_SLOT(ib, k),
							    .caplen = ib->len[k], .len = ib->len[k],
							    .ts_ns = ib->ts[k], .off = ib->off[k] };
			}
			unsigned sent = vmdq_sw_port_tx(sw, w, &v->port, f, n);
			v->c[w].to_vm += sent;
			v->c[w].drops[SWD_PORT_TX] += n - sent;
			atomic_store_explicit(&ib->head, head + n, memory_order_release);
			total += n;
		}
	}
	return total;
}

/* ---- a VM that moved: its MAC on the wire -------------------------------
 * A live migration moves a VM to another host's switch, which announces it
 * (SEND_RARP): its MAC then comes from the wire here, while a vif of ours
 * has it as its own (a static FDB entry: learning refuses, -EPERM).  The
 * rule (DESIGN.md, threat model): the MAC moves to the wire only if the
 * vif's VM is gone (port.peer_gone: a vhost-user guest disconnected or with
 * every ring stopped, as a migration's source is once the VM runs on the
 * destination); a live VM's MAC is never taken by a frame from the wire
 * (refused_static counts the attempts).  The vif is then away: the VMs here
 * reach that MAC through the wire, frames the filter still sorts to it from
 * the wire are not delivered into it (not-local), and its MAC comes back to
 * it as soon as its VM runs again (vmdq_sw_reclaim). */

static void station_on_wire(struct vmdq_switch *sw, const uint8_t *mac, uint16_t vid,
			    uint64_t now)
{
	int port = vmdq_fdb_lookup(sw->fdb, mac, vid);
	if (port <= 0 || (unsigned)port > sw->vif_cap || !sw->vif[port - 1])
		return;
	struct sw_vif *v = sw->vif[port - 1];
	if (!atomic_load_explicit(&v->port.peer_gone, memory_order_acquire) ||
	    atomic_load_explicit(&v->away, memory_order_relaxed) || sw->naway >= SW_MAX_VIFS)
		return; /* a live VM keeps its MAC */
	vmdq_fdb_yield(sw->fdb, mac, vid, port, UPLINK_PORT, now);
	atomic_store_explicit(&v->away, true, memory_order_release);
	sw->away[sw->naway++] = (uint16_t)v->idx;
}

void vmdq_sw_reclaim(struct vmdq_switch *sw)
{
	for (unsigned j = 0; j < sw->naway;) {
		struct sw_vif *v = sw->vif[sw->away[j]];
		if (atomic_load_explicit(&v->port.peer_gone, memory_order_acquire)) {
			j++;
			continue;
		}
		vmdq_fdb_reclaim(sw->fdb, v->mac, v->vlan, VIF_PORT(v->idx));
		atomic_store_explicit(&v->away, false, memory_order_release);
		sw->away[j] = sw->away[--sw->naway];
	}
}

void vmdq_sw_away_drop(struct vmdq_switch *sw, int vi)
{
	for (unsigned j = 0; j < sw->naway; j++)
		if (sw->away[j] == vi) {
			sw->away[j] = sw->away[--sw->naway];
			return;
		}
}

void vmdq_sw_learn_from_wire(struct vmdq_switch *sw, const struct vmdq_frame *f, unsigned n,
			    uint64_t now)
{
	/* a burst mostly repeats a few senders: learn each run of one once */
	const uint8_t *last = NULL;
	uint16_t last_vid = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = f[i].data;
		uint32_t cl = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		if (cl < 14 || (d[6] & 1))
			continue;
		uint16_t vid = 0;
		uint16_t et = (uint16_t)(d[12] << 8 | d[13]);
		if ((et == 0x8100 || et == 0x88a8) && cl >= 18)
			vid = (uint16_t)((d[14] << 8 | d[15]) & 0xfff);
		if (last && vid == last_vid && memcmp(last, d + 6, 6) == 0)
			continue;
		if (vmdq_fdb_learn(sw->fdb, d + 6, vid, UPLINK_PORT, now) == -EPERM)
			station_on_wire(sw, d + 6, vid, now); /* a vif's MAC */
		last = d + 6;
		last_vid = vid;
	}
}

