/* SPDX-License-Identifier: MIT */
/*
 * switch/vif.c - a vif's life: add (queues, buffers, port, filter, FDB
 * entry, with one unwind path), del (no new frames, the queued ones still
 * delivered, then everything freed), and the vif table's lookups.  All of it
 * runs on the main worker with the other workers parked.
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

/* Which vif has (mac, vlan)?  The vif table's own index, rebuilt on every
 * vif change (workers parked): read by every worker without locks. */
static unsigned vh_slot(const uint8_t *mac, uint16_t vlan)
{
	uint32_t h = (uint32_t)mac[5] * 0x9e3779b1u ^ (uint32_t)mac[4] * 0x85ebca6bu ^
		     (uint32_t)mac[3] * 0xc2b2ae35u ^ vlan * 0x27d4eb2fu;
	return (h ^ h >> 16) & 255;
}

static void vif_hash_rebuild(struct vmdq_switch *sw)
{
	memset(sw->vif_hash, -1, sizeof(sw->vif_hash));
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		if (!sw->vif[i].used)
			continue;
		unsigned h = vh_slot(sw->vif[i].mac, sw->vif[i].vlan);
		while (sw->vif_hash[h] >= 0)
			h = (h + 1) & 255;
		sw->vif_hash[h] = (int8_t)i;
	}
}

int vmdq_sw_vif_lookup(const struct vmdq_switch *sw, const uint8_t *mac, uint16_t vlan)
{
	for (unsigned h = vh_slot(mac, vlan);; h = (h + 1) & 255) {
		int i = sw->vif_hash[h];
		if (i < 0)
			return -1;
		if (sw->vif[i].vlan == vlan && memcmp(sw->vif[i].mac, mac, 6) == 0)
			return i;
	}
}

static void free_inboxes(struct sw_vif *v)
{
	for (int p = 0; p < SW_MAX_WORKERS; p++) {
		vmdq_sw_unmem(v->inbox[p].mem, (size_t)SW_INBOX * SW_TX_BUF);
		v->inbox[p].mem = NULL;
	}
}

/* nq queues in a row for one vif: from want, or the first run of free
 * queues that leaves the default queue out.  The first, or -errno. */
static int alloc_queues(struct vmdq_dev *dev, int want, unsigned nq, uint64_t owner)
{
	if (nq == 1)
		return vmdq_queue_alloc(dev, want, owner);
	struct vmdq_dev_config dc;
	vmdq_dev_get_config(dev, &dc);
	int from = want >= 0 ? want : 0, to = want >= 0 ? want : (int)dc.queues - (int)nq;
	for (int s = from; s <= to; s++) {
		if (want < 0 && (unsigned)s <= dc.default_queue &&
		    dc.default_queue < (unsigned)s + nq)
			continue;
		unsigned i;
		int rc = 0;
		for (i = 0; i < nq; i++)
			if ((rc = vmdq_queue_alloc(dev, s + (int)i, owner)) < 0)
				break;
		if (i == nq)
			return s;
		while (i--)
			vmdq_queue_free(dev, (unsigned)s + i);
		if (want >= 0)
			return rc;
	}
	return -ENOSPC;
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
	unsigned nq = s->queues ? s->queues : 1;
	const struct port_ops *ops = port_ops_find(s->kind);
	unsigned maxq = ops && ops->max_queues ? ops->max_queues : 1;
	if (nq > maxq || nq > SW_MAX_QP) {
		snprintf(err, errlen, "vif %s: queues %u: a %s vif has at most %u queue pair%s",
			 s->name, nq, s->kind, maxq < SW_MAX_QP ? maxq : SW_MAX_QP,
			 maxq == 1 ? "" : "s");
		return -EINVAL;
	}
	struct sw_vif *v = &sw->vif[idx];
	memset(v, 0, sizeof(*v));
	int q = alloc_queues(sw->dev, s->queue, nq, (uint64_t)idx + 1);
	if (q < 0) {
		snprintf(err, errlen, "vif %s: %s", s->name,
			 q == -ENOSPC ? (nq > 1 ? "no run of free queues that long left on the device"
				       : "no free queue left on the device")
			 : q == -EBUSY ? (nq > 1 ? "one of those queues is in use" : "that queue is in use")
			 : "queue out of range");
		return q;
	}
	v->nq = nq;
	int rc;
	/* a frame goes into the VM's own (shared) buffers only if the switch
	 * delivers it there: the device admits the vif's VLAN only (SPEC 2:
	 * the untagged domain gets untagged frames, an access VLAN its own);
	 * set before the port can share a buffer */
	for (unsigned i = 0; i < nq; i++) {
		if ((rc = vmdq_queue_set_access_vlan(sw->dev, (unsigned)q + i, s->vlan)) < 0) {
			snprintf(err, errlen, "vif %s: vlan %u: %s", s->name, s->vlan,
				 strerror(-rc));
			goto undo_queue;
		}
	}
	int w = vmdq_sw_worker_of_queue(sw, (unsigned)q, err, errlen);
	if (w < 0) {
		rc = w;
		goto undo_queue;
	}
	v->worker = w;
	v->rxmem = vmdq_sw_mem((size_t)nq * SW_RING * SW_BUF);
	v->txmem = vmdq_sw_mem((size_t)nq * SW_TX_SLOTS * SW_TX_BUF);
	bool inbox_ok = true;
	for (int p = 0; p < sw->nworkers; p++)
		inbox_ok &= (v->inbox[p].mem = vmdq_sw_mem((size_t)SW_INBOX * SW_TX_BUF)) != NULL;
	if (!v->rxmem || !v->txmem || !inbox_ok) {
		rc = -ENOMEM;
		snprintf(err, errlen, "vif %s: out of memory", s->name);
		goto undo_queue;
	}
	for (unsigned i = 0; i < nq; i++) {
		if ((rc = vmdq_txq_setup(sw->dev, (unsigned)q + i, SW_TX_SLOTS)) < 0) {
			snprintf(err, errlen, "vif %s: queue %u: %s", s->name, q + i,
				 strerror(-rc));
			goto undo_queue;
		}
	}
	rc = vmdq_sw_open_port(sw, &v->port, s->name, s->kind, q, nq, (uint64_t)idx + 1, s->args,
		       s->nargs, err, errlen);
	if (rc < 0)
		goto undo_queue;
	/* a targeted port posts its VM's buffers on the queues; the device
	 * strips an access VLAN's tag on the way into them (no second move).
	 * Several pairs: the port spreads the filter's frames over the pairs
	 * its guest uses (vmdq_queue_set_rss). */
	v->targeted = v->port.ops->targeted && v->port.ops->targeted(&v->port);
	for (unsigned i = 0; i < nq && rc == 0; i++) {
		unsigned qi = (unsigned)q + i;
		if (v->targeted)
			rc = vmdq_rxq_setup(sw->dev, qi, SW_RING);
		else
			rc = vmdq_sw_queue_arm(sw->dev, qi, v->rxmem + (size_t)i * SW_RING * SW_BUF);
		if (rc == 0)
			rc = vmdq_queue_set_vlan_strip(sw->dev, qi, v->targeted && s->vlan);
		if (rc < 0)
			snprintf(err, errlen, "vif %s: queue %u: %s", s->name, qi, strerror(-rc));
	}
	if (rc < 0)
		goto undo_port;
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
	for (unsigned i = 0; i < nq; i++)
		sw->queue_vif[q + (int)i] = (int16_t)idx;
	vif_hash_rebuild(sw);
	return idx;
undo_port:
	v->port.ops->close(&v->port);
undo_queue:
	for (unsigned i = 0; i < nq; i++) {
		struct vmdq_rxd tmp[SW_RING];
		vmdq_queue_stop(sw->dev, (unsigned)q + i);
		while (vmdq_rxq_reclaim(sw->dev, (unsigned)q + i, tmp, SW_RING) > 0) {
		}
		vmdq_queue_free(sw->dev, (unsigned)q + i);
	}
	vmdq_sw_unmem(v->rxmem, (size_t)nq * SW_RING * SW_BUF);
	vmdq_sw_unmem(v->txmem, (size_t)nq * SW_TX_SLOTS * SW_TX_BUF);
	free_inboxes(v);
	memset(v, 0, sizeof(*v));
	return rc;
}

/* Step 2 of vif del for one of the vif's queues (stopped): frames already
 * sorted to it still reach the VM, the posted buffers come back, frames
 * waiting for the wire are sent; then the queue is freed. */
static int finish_queue(struct vmdq_switch *sw, int idx, unsigned q)
{
	struct sw_vif *v = &sw->vif[idx];
	struct vmdq_rxd d[SW_RING];
	unsigned n;
	while ((n = vmdq_rxq_reclaim(sw->dev, q, d, SW_RING)) > 0) {
		unsigned k = 0;
		for (unsigned i = 0; i < n; i++)
			if (!(d[i].flags & VMDQ_RXD_CANCELLED))
				d[k++] = d[i];
		if (v->targeted)
			vmdq_sw_switch_group(sw, 0, idx, d, k);
		else
			for (unsigned i = 0; i < k; i++) {
				sw->wk[0].wc.polled++;
				vmdq_sw_deliver_to_vif(sw, 0, v, d[i].buf, d[i].len, d[i].vlan,
					       d[i].flags & VMDQ_RXD_TAGGED, d[i].ts_ns);
			}
	}
	while (vmdq_txq_pending(sw->dev, q) > 0 && sw->has_uplink)
		vmdq_switch_poll(sw, 0);
	int rc = vmdq_queue_free(sw->dev, q);
	sw->queue_vif[q] = -1;
	return rc;
}

int vmdq_switch_vif_del(struct vmdq_switch *sw, const char *name, char *err, size_t errlen)
{
	int idx = vmdq_switch_vif_find(sw, name);
	if (idx < 0) {
		if (err)
			snprintf(err, errlen, "vif del: no vif named '%s'", name);
		return -ENOENT;
	}
	struct sw_vif *v = &sw->vif[idx];
	unsigned q0 = (unsigned)v->queue, nq = v->nq;
	/* 1. no new frames: FDB entry and filter go (stop removes filters);
	 *    the other workers are parked: the main worker finishes the vif */
	vmdq_fdb_flush_port(sw->fdb, VIF_PORT(idx));
	for (unsigned i = 0; i < nq; i++)
		vmdq_queue_stop(sw->dev, q0 + i);
	v->worker = 0;
	vmdq_sw_drain_inboxes(sw, 0, v);
	/* a targeted port keeps its hands off the stopped queues from now on */
	v->port.dev = NULL;
	/* 2. each queue emptied and freed */
	int rc = 0;
	for (unsigned i = 0; i < nq; i++) {
		int r = finish_queue(sw, idx, q0 + i);
		if (r < 0 && rc == 0) {
			rc = r;
			if (err)
				snprintf(err, errlen, "vif del %s: queue %u: %s", name, q0 + i,
					 strerror(-r));
		}
	}
	v->port.ops->close(&v->port);
	vmdq_sw_unmem(v->rxmem, (size_t)nq * SW_RING * SW_BUF);
	vmdq_sw_unmem(v->txmem, (size_t)nq * SW_TX_SLOTS * SW_TX_BUF);
	free_inboxes(v);
	memset(v, 0, sizeof(*v));
	vif_hash_rebuild(sw);
	return rc;
}
