/* SPDX-License-Identifier: MIT */
/* The virtual switch; see switch/switch.h and SPEC 2. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "switch.h"

#define UPLINK_PORT 0
#define VIF_PORT(i) ((i) + 1)
#define BURST 32

const char *sw_drop_name(enum sw_drop d)
{
	static const char *const n[] = {
		[SWD_SPOOFED] = "spoofed", [SWD_TAGGED] = "tagged",
		[SWD_WRONG_VLAN] = "wrong-vlan", [SWD_NOT_LOCAL] = "not-local",
		[SWD_NO_VIF] = "no-vif", [SWD_TX_FULL] = "tx-full",
		[SWD_TOO_BIG] = "too-big", [SWD_PORT_TX] = "port-tx",
		[SWD_VIF_GONE] = "vif-gone", [SWD_BAD] = "bad",
	};
	return (unsigned)d < SWD__COUNT ? n[d] : "?";
}

static void *mem(size_t bytes)
{
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

static void unmem(void *m, size_t bytes)
{
	if (m)
		munmap(m, bytes);
}

/* Gives queue q a ring of SW_RING buffers carved from m. */
static int queue_arm(struct vmdq_dev *dev, unsigned q, uint8_t *m)
{
	int rc = vmdq_rxq_setup(dev, q, SW_RING);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < SW_RING; i++) {
		struct vmdq_rxd d = { .buf = m + (size_t)i * SW_BUF, .buf_size = SW_BUF };
		if (vmdq_rxq_post(dev, q, &d, 1) != 1)
			return -ENOSPC;
	}
	return 0;
}

struct vmdq_switch *vmdq_switch_create(struct vmdq_dev *dev)
{
	struct vmdq_switch *sw = calloc(1, sizeof(*sw));
	if (!sw)
		return NULL;
	sw->dev = dev;
	sw->age_ns = 300ull * 1000000000ull;
	for (unsigned q = 0; q < VMDQ_MAX_QUEUES; q++)
		sw->queue_vif[q] = -1;
	sw->fdb = vmdq_fdb_create(16384);
	sw->defmem = mem((size_t)SW_RING * SW_BUF);
	struct vmdq_dev_config c;
	vmdq_dev_get_config(dev, &c);
	sw->default_queue = c.default_queue;
	/* a transparent switch (WP 3.1): sorting on, promiscuous */
	if (!sw->fdb || !sw->defmem || vmdq_dev_set_vmdq(dev, true) < 0 ||
	    vmdq_dev_set_promisc(dev, true) < 0 || queue_arm(dev, c.default_queue, sw->defmem) < 0) {
		vmdq_switch_destroy(sw);
		errno = ENOMEM;
		return NULL;
	}
	return sw;
}

void vmdq_switch_destroy(struct vmdq_switch *sw)
{
	if (!sw)
		return;
	for (int i = 0; i < SW_MAX_VIFS; i++)
		if (sw->vif[i].used)
			vmdq_switch_vif_del(sw, sw->vif[i].port.name, NULL, 0);
	if (sw->has_uplink)
		sw->uplink.ops->close(&sw->uplink);
	vmdq_fdb_destroy(sw->fdb);
	unmem(sw->defmem, (size_t)SW_RING * SW_BUF);
	free(sw);
}

static int open_port(struct port *p, const char *name, const char *kind, bool uplink,
		     char **args, int nargs, char *err, size_t errlen)
{
	const struct port_ops *ops = port_ops_find(kind);
	if (!ops || (uplink ? !ops->uplink_ok : !ops->vif_ok)) {
		snprintf(err, errlen, "%s %s: unknown backend '%s'", uplink ? "uplink" : "vif",
			 name, kind);
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	snprintf(p->name, sizeof(p->name), "%s", name);
	int rc = ops->open(p, args, nargs, err, errlen);
	if (rc < 0) {
		ops->close(p);
	} else if (ops->describe) {
		char d[128];
		ops->describe(p, d, sizeof(d));
		fprintf(stderr, "vmdq: %s %s: %s\n", uplink ? "uplink" : "vif", name, d);
	}
	return rc;
}

int vmdq_switch_set_uplink(struct vmdq_switch *sw, const char *name, const char *kind,
			   char **args, int nargs, char *err, size_t errlen)
{
	if (sw->has_uplink) {
		snprintf(err, errlen, "uplink %s: the switch has an uplink already (%s)", name,
			 sw->uplink.name);
		return -EEXIST;
	}
	int rc = open_port(&sw->uplink, name, kind, true, args, nargs, err, errlen);
	if (rc == 0)
		sw->has_uplink = true;
	return rc;
}

int vmdq_switch_vif_find(const struct vmdq_switch *sw, const char *name)
{
	for (int i = 0; i < SW_MAX_VIFS; i++)
		if (sw->vif[i].used && strcmp(sw->vif[i].port.name, name) == 0)
			return i;
	return -1;
}

int vmdq_switch_vif_add(struct vmdq_switch *sw, const struct sw_vif_spec *s, char *err,
			size_t errlen)
{
	if (strlen(s->name) >= sizeof(sw->vif[0].port.name)) {
		snprintf(err, errlen, "vif %s: name too long", s->name);
		return -EINVAL;
	}
	if (vmdq_switch_vif_find(sw, s->name) >= 0) {
		snprintf(err, errlen, "vif %s: exists already", s->name);
		return -EEXIST;
	}
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		if (sw->vif[i].used && memcmp(sw->vif[i].mac, s->mac, 6) == 0 &&
		    sw->vif[i].vlan == s->vlan) {
			snprintf(err, errlen, "vif %s: vif %s has that MAC on that VLAN already",
				 s->name, sw->vif[i].port.name);
			return -EEXIST;
		}
	}
	int idx = -1;
	for (int i = 0; i < SW_MAX_VIFS && idx < 0; i++)
		if (!sw->vif[i].used)
			idx = i;
	if (idx < 0) {
		snprintf(err, errlen, "vif %s: the switch has %d vifs, its limit", s->name,
			 SW_MAX_VIFS);
		return -ENOSPC;
	}
	struct sw_vif *v = &sw->vif[idx];
	memset(v, 0, sizeof(*v));
	int q = vmdq_queue_alloc(sw->dev, s->queue, (uint64_t)idx + 1);
	if (q < 0) {
		snprintf(err, errlen, "vif %s: %s", s->name,
			 q == -ENOSPC ? "no free queue left on the device"
			 : q == -EBUSY ? "that queue is in use"
			 : "queue out of range");
		return q;
	}
	int rc;
	v->rxmem = mem((size_t)SW_RING * SW_BUF);
	v->txmem = mem((size_t)SW_TX_SLOTS * SW_TX_BUF);
	if (!v->rxmem || !v->txmem) {
		rc = -ENOMEM;
		snprintf(err, errlen, "vif %s: out of memory", s->name);
		goto undo_queue;
	}
	if ((rc = queue_arm(sw->dev, (unsigned)q, v->rxmem)) < 0 ||
	    (rc = vmdq_txq_setup(sw->dev, (unsigned)q, SW_TX_SLOTS)) < 0) {
		snprintf(err, errlen, "vif %s: queue %d: %s", s->name, q, strerror(-rc));
		goto undo_queue;
	}
	rc = open_port(&v->port, s->name, s->kind, false, s->args, s->nargs, err, errlen);
	if (rc < 0)
		goto undo_queue;
	int64_t id = vmdq_filter_add(sw->dev, s->mac, s->vlan, (unsigned)q);
	if (id < 0) {
		rc = (int)id;
		snprintf(err, errlen, "vif %s: filter: %s", s->name,
			 rc == -ENOSPC ? "the device's filter table is full" : strerror(-rc));
		goto undo_port;
	}
	rc = vmdq_fdb_add_static(sw->fdb, s->mac, s->vlan, VIF_PORT(idx));
	if (rc < 0) {
		snprintf(err, errlen, "vif %s: FDB: %s", s->name, strerror(-rc));
		vmdq_filter_del(sw->dev, (uint32_t)id);
		goto undo_port;
	}
	memcpy(v->mac, s->mac, 6);
	v->vlan = s->vlan;
	v->queue = q;
	v->filter_id = (uint32_t)id;
	v->used = true;
	sw->queue_vif[q] = (int16_t)idx;
	return idx;
undo_port:
	v->port.ops->close(&v->port);
undo_queue:
	vmdq_queue_stop(sw->dev, (unsigned)q);
	{
		struct vmdq_rxd tmp[SW_RING];
		while (vmdq_rxq_reclaim(sw->dev, (unsigned)q, tmp, SW_RING) > 0) {
		}
	}
	vmdq_queue_free(sw->dev, (unsigned)q);
	unmem(v->rxmem, (size_t)SW_RING * SW_BUF);
	unmem(v->txmem, (size_t)SW_TX_SLOTS * SW_TX_BUF);
	memset(v, 0, sizeof(*v));
	return rc;
}

static void deliver_to_vif(struct vmdq_switch *sw, struct sw_vif *v, uint8_t *data,
			   uint32_t len, uint16_t vid, bool tagged, uint64_t ts);

int vmdq_switch_vif_del(struct vmdq_switch *sw, const char *name, char *err, size_t errlen)
{
	int idx = vmdq_switch_vif_find(sw, name);
	if (idx < 0) {
		if (err)
			snprintf(err, errlen, "vif del: no vif named '%s'", name);
		return -ENOENT;
	}
	struct sw_vif *v = &sw->vif[idx];
	unsigned q = (unsigned)v->queue;
	/* 1. no new frames: FDB entry and filter go (stop removes filters) */
	vmdq_fdb_flush_port(sw->fdb, VIF_PORT(idx));
	vmdq_queue_stop(sw->dev, q);
	/* 2. frames already sorted to the queue still reach the VM; the
	 *    posted buffers come back; frames waiting for the wire are sent */
	struct vmdq_rxd d[SW_RING];
	unsigned n;
	while ((n = vmdq_rxq_reclaim(sw->dev, q, d, SW_RING)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (d[i].flags & VMDQ_RXD_CANCELLED)
				continue;
			sw->wire_polled++;
			deliver_to_vif(sw, v, d[i].buf, d[i].len, d[i].vlan,
				       d[i].flags & VMDQ_RXD_TAGGED, d[i].ts_ns);
		}
	}
	while (vmdq_txq_pending(sw->dev, q) > 0 && sw->has_uplink)
		vmdq_switch_poll(sw, 0);
	int rc = vmdq_queue_free(sw->dev, q);
	if (rc < 0 && err)
		snprintf(err, errlen, "vif del %s: queue %u: %s", name, q, strerror(-rc));
	sw->queue_vif[q] = -1;
	v->port.ops->close(&v->port);
	unmem(v->rxmem, (size_t)SW_RING * SW_BUF);
	unmem(v->txmem, (size_t)SW_TX_SLOTS * SW_TX_BUF);
	memset(v, 0, sizeof(*v));
	return rc;
}

/* ---- wire -> VMs ------------------------------------------------------ */

static void drop_wire(struct vmdq_switch *sw, struct sw_vif *v, enum sw_drop why)
{
	sw->wire_drops[why]++;
	if (v)
		v->drops[why]++;
}

/* Makes a frame from the wire fit for vif v: an access vif gets its VLAN's
 * frames untagged (in place); the untagged domain never gets a tagged frame
 * (SPEC 2).  Returns false, with the drop counted, if v must not get it. */
static bool fit_for_vif(struct vmdq_switch *sw, struct sw_vif *v, uint8_t **data,
			uint32_t *len, uint16_t vid, bool tagged)
{
	if (v->vlan) {
		if (!tagged || vid != v->vlan || *len < 18) {
			drop_wire(sw, v, SWD_WRONG_VLAN);
			return false;
		}
		memmove(*data + 4, *data, 12); /* untag in place */
		*data += 4;
		*len -= 4;
	} else if (tagged && vid != 0) {
		drop_wire(sw, v, SWD_TAGGED);
		return false;
	}
	return true;
}

/* Hands n prepared frames to vif v in one call; counts what it refused. */
static void send_to_vif(struct vmdq_switch *sw, struct sw_vif *v, struct vmdq_frame *f,
			unsigned n)
{
	if (!n)
		return;
	unsigned sent = v->port.ops->tx(&v->port, f, n);
	v->to_vm += sent;
	sw->wire_delivered += sent;
	for (unsigned i = sent; i < n; i++)
		drop_wire(sw, v, SWD_PORT_TX);
}

/* One frame from the wire to vif v (the default queue's per-frame path). */
static void deliver_to_vif(struct vmdq_switch *sw, struct sw_vif *v, uint8_t *data,
			   uint32_t len, uint16_t vid, bool tagged, uint64_t ts)
{
	if (!fit_for_vif(sw, v, &data, &len, vid, tagged))
		return;
	struct vmdq_frame f = { .data = data, .caplen = len, .len = len, .ts_ns = ts };
	send_to_vif(sw, v, &f, 1);
}

/* Floods a frame from the wire to every vif of its VLAN (copies: each
 * delivery may untag in place). */
static void flood_from_wire(struct vmdq_switch *sw, const uint8_t *data, uint32_t len,
			    uint16_t vid, bool tagged, uint64_t ts)
{
	static uint8_t copy[SW_BUF];
	unsigned n = 0;
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (!v->used || v->vlan != (tagged ? vid : 0))
			continue;
		memcpy(copy, data, len);
		struct vmdq_frame f;
		uint8_t *d = copy;
		uint32_t l = len;
		if (v->vlan) {
			memmove(d + 4, d, 12);
			d += 4;
			l -= 4;
		}
		f = (struct vmdq_frame){ .data = d, .caplen = l, .len = l, .ts_ns = ts };
		if (v->port.ops->tx(&v->port, &f, 1) == 1) {
			v->to_vm++;
			n++;
		} else {
			v->drops[SWD_PORT_TX]++;
		}
	}
	if (n) {
		sw->wire_delivered++;
		sw->wire_flooded++;
	} else {
		sw->wire_drops[SWD_NO_VIF]++;
	}
}

/* The default queue: frame by frame, through the FDB (SPEC 2). */
static void switch_default(struct vmdq_switch *sw, struct vmdq_rxd *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *data = d[i].buf;
		uint32_t len = d[i].len;
		bool tagged = d[i].flags & VMDQ_RXD_TAGGED;
		uint16_t vid = d[i].vlan;
		sw->wire_polled++;
		if (len < 14 || (d[i].flags & VMDQ_ERR_MASK)) {
			/* bad frames (device store-bad on) are counted, not switched */
			drop_wire(sw, NULL, SWD_BAD);
			continue;
		}
		if (data[0] & 1) {
			flood_from_wire(sw, data, len, vid, tagged, d[i].ts_ns);
			continue;
		}
		int port = vmdq_fdb_lookup(sw->fdb, data, tagged ? vid : 0);
		if (port == UPLINK_PORT) {
			drop_wire(sw, NULL, SWD_NOT_LOCAL);
		} else if (port > 0) {
			deliver_to_vif(sw, &sw->vif[port - 1], data, len, vid, tagged, d[i].ts_ns);
		} else {
			flood_from_wire(sw, data, len, vid, tagged, d[i].ts_ns);
		}
	}
}

/* A group from a vif's queue: one decision for all of it (WP 3.5.1), and
 * one hand-over to the vif's port. */
static void switch_group(struct vmdq_switch *sw, int vi, struct vmdq_rxd *d, unsigned n)
{
	sw->wire_polled += n;
	if (vi < 0) {
		for (unsigned i = 0; i < n; i++)
			drop_wire(sw, NULL, SWD_VIF_GONE);
		return;
	}
	struct sw_vif *v = &sw->vif[vi];
	struct vmdq_frame f[BURST];
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *data = d[i].buf;
		uint32_t len = d[i].len;
		if (d[i].flags & VMDQ_ERR_MASK) {
			drop_wire(sw, v, SWD_BAD);
			continue;
		}
		if (fit_for_vif(sw, v, &data, &len, d[i].vlan, d[i].flags & VMDQ_RXD_TAGGED))
			f[k++] = (struct vmdq_frame){ .data = data, .caplen = len, .len = len,
						      .ts_ns = d[i].ts_ns };
	}
	send_to_vif(sw, v, f, k);
}

static unsigned drain_queue(struct vmdq_switch *sw, unsigned q)
{
	struct vmdq_rxd d[BURST];
	unsigned n = vmdq_rxq_poll(sw->dev, q, d, BURST);
	if (!n)
		return 0;
	if (q == sw->default_queue)
		switch_default(sw, d, n);
	else
		switch_group(sw, sw->queue_vif[q], d, n);
	/* the buffers are free again: every delivery copied */
	for (unsigned i = 0; i < n; i++)
		d[i].len = 0;
	vmdq_rxq_post(sw->dev, q, d, n);
	return n;
}

/* ---- VMs -> anywhere ---------------------------------------------------- */

static void learn_from_wire(struct vmdq_switch *sw, const struct vmdq_frame *f, unsigned n,
			    uint64_t now)
{
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = f[i].data;
		uint32_t cl = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		if (cl < 14 || (d[6] & 1))
			continue;
		uint16_t vid = 0;
		uint16_t et = (uint16_t)(d[12] << 8 | d[13]);
		if ((et == 0x8100 || et == 0x88a8) && cl >= 18)
			vid = (uint16_t)((d[14] << 8 | d[15]) & 0xfff);
		vmdq_fdb_learn(sw->fdb, d + 6, vid, UPLINK_PORT, now);
	}
}

/* Queues a VM's frame for the wire on the vif's TX queue, tagged with its
 * access VLAN.  The frame is copied into the vif's TX buffer slot. */
static void to_wire(struct vmdq_switch *sw, struct sw_vif *v, const uint8_t *data,
		    uint32_t len, uint64_t ts)
{
	if (!sw->has_uplink) {
		v->drops[SWD_PORT_TX]++;
		return;
	}
	uint32_t out_len = len + (v->vlan ? 4 : 0);
	if (out_len > SW_TX_BUF) {
		v->drops[SWD_TOO_BIG]++;
		return;
	}
	if (v->tx_posted - v->tx_done >= SW_TX_SLOTS) {
		v->drops[SWD_TX_FULL]++;
		return;
	}
	uint8_t *slot = v->txmem + (v->tx_posted % SW_TX_SLOTS) * (size_t)SW_TX_BUF;
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
	struct vmdq_txd t = { .data = slot, .len = out_len, .caplen = out_len, .ts_ns = ts };
	if (vmdq_txq_post(sw->dev, (unsigned)v->queue, &t, 1) != 1) {
		v->drops[SWD_TX_FULL]++;
		return;
	}
	v->tx_posted++;
}

static void deliver_local(struct vmdq_switch *sw, struct sw_vif *to, const uint8_t *data,
			  uint32_t len, uint64_t ts)
{
	(void)sw;
	struct vmdq_frame f = { .data = data, .caplen = len, .len = len, .ts_ns = ts };
	if (to->port.ops->tx(&to->port, &f, 1) == 1)
		to->to_vm++;
	else
		to->drops[SWD_PORT_TX]++;
}

static unsigned from_vif(struct vmdq_switch *sw, int vi)
{
	struct sw_vif *v = &sw->vif[vi];
	if (!v->port.ops->rx)
		return 0;
	struct vmdq_frame f[BURST];
	unsigned n = v->port.ops->rx(&v->port, f, BURST);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = f[i].data;
		uint32_t len = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		v->from_vm++;
		if (len < 14) {
			v->drops[SWD_TOO_BIG]++; /* runt from a VM: cannot be switched */
			continue;
		}
		if (memcmp(d + 6, v->mac, 6) != 0) {
			v->drops[SWD_SPOOFED]++; /* anti-spoofing (SPEC 2) */
			continue;
		}
		uint16_t et = (uint16_t)(d[12] << 8 | d[13]);
		if (et == 0x8100 || et == 0x88a8) {
			v->drops[SWD_TAGGED]++; /* VMs send untagged; the switch tags */
			continue;
		}
		if (d[0] & 1) {
			/* broadcast/multicast: the other vifs of the VLAN, and the wire */
			for (int k = 0; k < SW_MAX_VIFS; k++)
				if (k != vi && sw->vif[k].used && sw->vif[k].vlan == v->vlan)
					deliver_local(sw, &sw->vif[k], d, len, f[i].ts_ns);
			to_wire(sw, v, d, len, f[i].ts_ns);
			continue;
		}
		int port = vmdq_fdb_lookup(sw->fdb, d, v->vlan);
		if (port > 0 && port - 1 != vi)
			deliver_local(sw, &sw->vif[port - 1], d, len, f[i].ts_ns);
		else
			to_wire(sw, v, d, len, f[i].ts_ns);
	}
	return n;
}

/* The arbiter feeds the wire. */
static unsigned wire_out(struct vmdq_switch *sw)
{
	if (!sw->has_uplink)
		return 0;
	struct vmdq_txd t[BURST];
	unsigned n = vmdq_tx_pick(sw->dev, t, BURST);
	if (!n)
		return 0;
	struct vmdq_frame f[BURST];
	for (unsigned i = 0; i < n; i++)
		f[i] = (struct vmdq_frame){ .data = t[i].data, .caplen = t[i].caplen,
					    .len = t[i].len, .ts_ns = t[i].ts_ns };
	unsigned sent = sw->uplink.ops->tx(&sw->uplink, f, n);
	sw->to_wire += sent;
	sw->wire_tx_drops += n - sent;
	for (unsigned i = 0; i < n; i++) {
		int vi = sw->queue_vif[t[i].queue];
		if (vi >= 0) {
			sw->vif[vi].tx_done++;
			if (i < sent)
				sw->vif[vi].to_wire++;
			else
				sw->vif[vi].drops[SWD_PORT_TX]++;
		}
	}
	return n;
}

unsigned vmdq_switch_poll(struct vmdq_switch *sw, uint64_t now)
{
	unsigned work = 0;
	if (sw->has_uplink && sw->uplink.ops->rx) {
		struct vmdq_frame f[BURST];
		unsigned n = sw->uplink.ops->rx(&sw->uplink, f, BURST);
		if (n) {
			learn_from_wire(sw, f, n, now);
			vmdq_rx_burst(sw->dev, f, n, NULL);
			work += n;
		}
	}
	unsigned dq = vmdq_dev_default_queue(sw->dev);
	if (dq != sw->default_queue) {
		/* the default queue moved (device default-queue): arm it */
		sw->default_queue = dq;
		queue_arm(sw->dev, dq, sw->defmem);
	}
	work += drain_queue(sw, sw->default_queue);
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		if (!sw->vif[i].used)
			continue;
		unsigned k;
		do {
			k = drain_queue(sw, (unsigned)sw->vif[i].queue);
			work += k;
		} while (k == BURST);
	}
	for (int i = 0; i < SW_MAX_VIFS; i++)
		if (sw->vif[i].used)
			work += from_vif(sw, i);
	work += wire_out(sw);
	if (now && now - sw->last_age_ns > 1000000000ull) {
		vmdq_fdb_age(sw->fdb, now, sw->age_ns);
		sw->last_age_ns = now;
	}
	return work;
}

bool vmdq_switch_drained(struct vmdq_switch *sw)
{
	if (sw->has_uplink && sw->uplink.ops->done && !sw->uplink.ops->done(&sw->uplink))
		return false;
	if (sw->has_uplink && !sw->uplink.ops->done)
		return false;
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (!v->used)
			continue;
		if (!v->port.ops->done || !v->port.ops->done(&v->port))
			return false;
		if (vmdq_rxq_ready(sw->dev, (unsigned)v->queue) ||
		    vmdq_txq_pending(sw->dev, (unsigned)v->queue))
			return false;
	}
	return vmdq_rxq_ready(sw->dev, sw->default_queue) == 0;
}
