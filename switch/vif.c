/* SPDX-License-Identifier: MIT */
/*
 * switch/vif.c - a vif's life: add (queues, buffers, port, filter, FDB
 * entry, with one unwind path), del (no new frames, the queued ones still
 * delivered, then everything freed), and the vif table with its indexes.
 * All of it runs on the main worker with the other workers parked: the
 * workers read the table, its lists and its indexes without locks.
 *
 * The table (sw->vif, vif_cap entries) grows by doubling in vif add, up to
 * SW_MAX_VIFS; every allocation a vif needs is made here, none on the data
 * path.  From the table, vmdq_sw_reindex rebuilds on every change: the
 * dense list of vifs, each worker's own vifs, each VLAN's members (floods
 * cost what the VLAN has members), and two open-addressing indexes of
 * 2 vif_cap slots or more: by name, and by (MAC, VLAN) under a keyed hash
 * (SipHash: a VM chooses the destination MACs looked up in it).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "handoff.h"

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a: names come from the config */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static uint32_t key_hash(const struct vmdq_switch *sw, const uint8_t *mac, uint16_t vlan)
{
	uint8_t in[8] = { mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
			  (uint8_t)(vlan >> 8), (uint8_t)vlan };
	uint8_t out[crypto_shorthash_BYTES];
	crypto_shorthash(out, in, sizeof(in), sw->ix_key);
	uint32_t h;
	memcpy(&h, out, sizeof(h));
	return h;
}

int vmdq_switch_vif_find(const struct vmdq_switch *sw, const char *name)
{
	if (!sw->name_ix)
		return -1;
	for (uint32_t h = name_hash(name) & sw->ix_mask;; h = (h + 1) & sw->ix_mask) {
		int32_t i = sw->name_ix[h];
		if (i < 0)
			return -1;
		if (strcmp(sw->vif[i]->port.name, name) == 0)
			return i;
	}
}

/* The vif that has (mac, vlan), away or not (vif add: one vif a MAC). */
static int vif_of_key(const struct vmdq_switch *sw, const uint8_t *mac, uint16_t vlan)
{
	if (!sw->key_ix)
		return -1;
	for (uint32_t h = key_hash(sw, mac, vlan) & sw->ix_mask;; h = (h + 1) & sw->ix_mask) {
		int32_t i = sw->key_ix[h];
		if (i < 0)
			return -1;
		if (sw->vif[i]->vlan == vlan && memcmp(sw->vif[i]->mac, mac, 6) == 0)
			return i;
	}
}

int vmdq_sw_vif_lookup(const struct vmdq_switch *sw, const uint8_t *mac, uint16_t vlan)
{
	int i = vif_of_key(sw, mac, vlan);
	/* a vif whose VM moved to another host while it is still gone: that
	 * MAC is on the wire now (forward.c, station_on_wire) */
	if (i >= 0 && atomic_load_explicit(&sw->vif[i]->away, memory_order_relaxed) &&
	    atomic_load_explicit(&sw->vif[i]->port.peer_gone, memory_order_relaxed))
		return -1;
	return i;
}

static void ix_put(int32_t *ix, uint32_t mask, uint32_t h, int32_t i)
{
	for (h &= mask; ix[h] >= 0; h = (h + 1) & mask) {
	}
	ix[h] = i;
}

void vmdq_sw_reindex(struct vmdq_switch *sw)
{
	uint32_t pos[SW_VLANS];
	unsigned n = 0;
	sw->ntargeted = 0;
	for (int w = 0; w < sw->nworkers; w++)
		sw->wk[w].nvifs = sw->wk[w].nact = 0;
	memset(sw->vlan_off, 0, sizeof(sw->vlan_off));
	for (unsigned i = 0; i < sw->vif_cap; i++) {
		struct sw_vif *v = sw->vif[i];
		if (!v)
			continue;
		sw->live[n++] = v;
		sw->ntargeted += v->targeted;
		struct sw_worker *k = &sw->wk[v->worker];
		k->vifs[k->nvifs++] = v;
		sw->vlan_off[v->vlan + 1]++;
		/* each vif visited once after a change (a pending bit for it may
		 * have gone to its old worker); its queues tell its worker now */
		v->active = true;
		k->act[k->nact++] = v;
		for (unsigned qi = 0; qi < v->nq; qi++)
			vmdq_rxq_set_notify(sw->dev, (unsigned)v->queue + qi, k->pend);
	}
	sw->nvifs = n;
	for (unsigned l = 0; l < SW_VLANS; l++) {
		sw->vlan_off[l + 1] += sw->vlan_off[l];
		pos[l] = sw->vlan_off[l];
	}
	if (!sw->name_ix)
		return;
	memset(sw->name_ix, -1, ((size_t)sw->ix_mask + 1) * sizeof(int32_t));
	memset(sw->key_ix, -1, ((size_t)sw->ix_mask + 1) * sizeof(int32_t));
	for (unsigned j = 0; j < n; j++) {
		struct sw_vif *v = sw->live[j];
		sw->vlan_vifs[pos[v->vlan]++] = v;
		ix_put(sw->name_ix, sw->ix_mask, v->name_hash, v->idx);
		ix_put(sw->key_ix, sw->ix_mask, v->key_hash, v->idx);
	}
}

/* realloc to n elements of size sz (at least one); false: *p as it was */
static bool grow(void *pp, size_t n, size_t sz)
{
	void **p = pp;
	void *m = realloc(*p, (n ? n : 1) * sz);
	if (!m)
		return false;
	*p = m;
	return true;
}

int vmdq_sw_worker_arrays(struct vmdq_switch *sw, int w, unsigned cap)
{
	struct sw_worker *k = &sw->wk[w];
	bool ok = grow(&k->vifs, cap, sizeof(*k->vifs)) && grow(&k->full, cap, sizeof(*k->full)) &&
		  grow(&k->touched, cap, sizeof(*k->touched)) &&
		  grow(&k->act, cap, sizeof(*k->act)) && grow(&k->flushq, cap, sizeof(*k->flushq)) &&
		  grow(&k->sig, cap, sizeof(*k->sig)) &&
		  grow(&k->pfd, (1 + SW_MAX_QP) * (size_t)cap + 3, sizeof(*k->pfd)) &&
		  grow(&k->pfd_vif, (1 + SW_MAX_QP) * (size_t)cap + 3, sizeof(*k->pfd_vif)) &&
		  grow(&k->irq_q, SW_MAX_QP * (size_t)cap, sizeof(*k->irq_q)) &&
		  grow(&k->irq_fd, SW_MAX_QP * (size_t)cap, sizeof(*k->irq_fd));
	return ok ? 0 : -ENOMEM;
}

/* Room for `need` vifs: the table and every per-vif array grown (doubled),
 * the new ones swapped in (the workers are parked). */
static int table_reserve(struct vmdq_switch *sw, unsigned need)
{
	if (need <= sw->vif_cap)
		return 0;
	unsigned cap = sw->vif_cap ? sw->vif_cap : 16;
	while (cap < need)
		cap *= 2;
	if (cap > SW_MAX_VIFS)
		cap = SW_MAX_VIFS;
	for (int w = 0; w < sw->nworkers; w++)
		if (vmdq_sw_worker_arrays(sw, w, cap) < 0)
			return -ENOMEM;
	size_t slots = 2 * (size_t)cap; /* a power of two */
	struct sw_vif **vif = calloc(cap, sizeof(*vif)), **live = calloc(cap, sizeof(*live));
	struct sw_vif **vv = calloc(cap, sizeof(*vv));
	int32_t *nix = malloc(slots * sizeof(*nix)), *kix = malloc(slots * sizeof(*kix));
	if (!vif || !live || !vv || !nix || !kix) {
		free(vif), free(live), free(vv), free(nix), free(kix);
		return -ENOMEM;
	}
	if (sw->vif_cap)
		memcpy(vif, sw->vif, sw->vif_cap * sizeof(*vif));
	free(sw->vif), free(sw->live), free(sw->vlan_vifs), free(sw->name_ix), free(sw->key_ix);
	sw->vif = vif;
	sw->live = live;
	sw->vlan_vifs = vv;
	sw->name_ix = nix;
	sw->key_ix = kix;
	sw->ix_mask = (uint32_t)slots - 1;
	sw->vif_cap = cap;
	vmdq_sw_reindex(sw);
	return 0;
}

/* The table's arrays and every worker's (switch destroy). */
void vmdq_sw_table_free(struct vmdq_switch *sw)
{
	free(sw->vif), free(sw->live), free(sw->vlan_vifs), free(sw->name_ix), free(sw->key_ix);
	for (int w = 0; w < SW_MAX_WORKERS; w++) {
		struct sw_worker *k = &sw->wk[w];
		free(k->vifs), free(k->full), free(k->touched), free(k->pfd), free(k->pfd_vif),
			free(k->irq_q), free(k->irq_fd), free(k->act), free(k->flushq), free(k->sig);
	}
}

struct sw_inbox *vmdq_sw_inbox_new(void)
{
	return vmdq_sw_mem(SW_INBOX_BYTES); /* zero: empty; untouched until used */
}

void vmdq_sw_inbox_free(struct sw_inbox *ib)
{
	vmdq_sw_unmem(ib, SW_INBOX_BYTES);
}

static void free_vif(struct sw_vif *v)
{
	for (int p = 0; p < SW_MAX_WORKERS; p++)
		if (v->inbox[p])
			vmdq_sw_inbox_free(v->inbox[p]);
	vmdq_sw_unmem(v->rxmem, SW_RXMEM(v->nq, v->rx_buf));
	vmdq_sw_unmem(v->txmem, SW_TXMEM(v->nq));
	free(v);
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

int vmdq_switch_vif_add(struct vmdq_switch *sw, const struct sw_vif_spec *s, char *err,
			size_t errlen)
{
	if (strlen(s->name) >= sizeof(((struct port *)0)->name)) {
		snprintf(err, errlen, "vif %s: name too long", s->name);
		return -EINVAL;
	}
	if (vmdq_switch_vif_find(sw, s->name) >= 0) {
		snprintf(err, errlen, "vif %s: exists already", s->name);
		return -EEXIST;
	}
	int other = vif_of_key(sw, s->mac, s->vlan);
	if (other >= 0) {
		snprintf(err, errlen, "vif %s: vif %s has that MAC on that VLAN already", s->name,
			 sw->vif[other]->port.name);
		return -EEXIST;
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
	if (sw->nvifs >= SW_MAX_VIFS) {
		snprintf(err, errlen, "vif %s: the switch has %u vifs, its limit", s->name,
			 sw->nvifs);
		return -ENOSPC;
	}
	struct sw_vif *v = NULL;
	if (table_reserve(sw, sw->nvifs + 1) < 0 ||
	    !(v = calloc(1, sizeof(*v) + nq * sizeof(v->tx[0])))) {
		snprintf(err, errlen, "vif %s: out of memory", s->name);
		return -ENOMEM;
	}
	int idx = 0;
	while (sw->vif[idx])
		idx++;
	v->idx = idx;
	int q = alloc_queues(sw->dev, s->queue, nq, (uint64_t)idx + 1);
	if (q < 0) {
		snprintf(err, errlen, "vif %s: %s", s->name,
			 q == -ENOSPC ? (nq > 1 ? "no run of free queues that long left on the device"
				       : "no free queue left on the device")
			 : q == -EBUSY ? (nq > 1 ? "one of those queues is in use" : "that queue is in use")
			 : "queue out of range");
		free(v);
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
	/* inboxes from the other workers (none while there is one) */
	bool mem_ok = (v->txmem = vmdq_sw_mem(SW_TXMEM(nq))) != NULL;
	for (int p = 0; p < sw->nworkers; p++)
		if (p != w)
			mem_ok &= (v->inbox[p] = vmdq_sw_inbox_new()) != NULL;
	if (!mem_ok) {
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
	 * its guest uses (vmdq_queue_set_rss).  Only the others get receive
	 * buffers of the switch's. */
	v->targeted = v->port.ops->targeted && v->port.ops->targeted(&v->port);
	v->rx_buf = sw->rx_buf;
	if (!v->targeted && !(v->rxmem = vmdq_sw_mem(SW_RXMEM(nq, v->rx_buf)))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "vif %s: out of memory", s->name);
		goto undo_port;
	}
	for (unsigned i = 0; i < nq && rc == 0; i++) {
		unsigned qi = (unsigned)q + i;
		if (v->targeted)
			rc = vmdq_rxq_setup(sw->dev, qi, SW_RING);
		else
			rc = vmdq_sw_queue_arm(sw->dev, qi, v->rxmem + (size_t)i * SW_RING * v->rx_buf,
					       v->rx_buf);
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
	v->name_hash = name_hash(s->name);
	v->key_hash = key_hash(sw, s->mac, s->vlan);
	v->used = true;
	for (unsigned i = 0; i < nq; i++)
		sw->queue_vif[q + (int)i] = (int16_t)idx;
	sw->vif[idx] = v;
	vmdq_sw_reindex(sw);
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
	free_vif(v);
	return rc;
}

/* Step 2 of vif del for one of the vif's queues (stopped): frames already
 * sorted to it still reach the VM, the posted buffers come back, frames
 * waiting for the wire are sent; then the queue is freed. */
static int finish_queue(struct vmdq_switch *sw, int idx, unsigned q)
{
	struct sw_vif *v = sw->vif[idx];
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
				struct vmdq_offload off = { 0 };
				if (d[i].flags & VMDQ_RXD_OFFLOAD)
					off = d[i].off;
				vmdq_sw_deliver_to_vif(sw, 0, v, d[i].buf, d[i].len, d[i].vlan,
					       d[i].flags & VMDQ_RXD_TAGGED, d[i].ts_ns, &off);
			}
	}
	while (vmdq_txq_pending(sw->dev, q) > 0 && sw->has_uplink)
		vmdq_switch_poll(sw, 0);
	vmdq_rxq_set_notify(sw->dev, q, NULL);
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
	struct sw_vif *v = sw->vif[idx];
	unsigned q0 = (unsigned)v->queue, nq = v->nq;
	vmdq_sw_warm(sw, v); /* out of its worker's epoll */
	/* 1. no new frames: FDB entry and filter go (stop removes filters);
	 *    the other workers are parked: the main worker finishes the vif */
	/* its own entry (no walk of the table), unless its VM moved away and
	 * the entry is the wire's now */
	if (vmdq_fdb_lookup(sw->fdb, v->mac, v->vlan) == VIF_PORT(idx))
		vmdq_fdb_del(sw->fdb, v->mac, v->vlan);
	vmdq_sw_away_drop(sw, idx);
	if (vmdq_fdb_learned_on(sw->fdb, VIF_PORT(idx)))
		vmdq_fdb_flush_port(sw->fdb, VIF_PORT(idx));
	for (unsigned i = 0; i < nq; i++)
		vmdq_queue_stop(sw->dev, q0 + i);
	v->worker = 0;
	vmdq_sw_reindex(sw);
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
	/* 3. out of the table, the lists and the indexes, then freed */
	for (int w = 0; w < sw->nworkers; w++) {
		struct sw_worker *k = &sw->wk[w];
		for (unsigned j = 0; j < k->nfull; j++)
			if (k->full[j] == v)
				k->full[j--] = k->full[--k->nfull];
		/* (what was handed to it here was flushed or never will be) */
		for (unsigned j = 0; j < k->nflush; j++)
			if (k->flushq[j] == v)
				k->flushq[j--] = k->flushq[--k->nflush];
		for (unsigned j = 0; j < k->nsig; j++)
			if (k->sig[j] == v)
				k->sig[j--] = k->sig[--k->nsig];
	}
	sw->vif[idx] = NULL;
	vmdq_sw_reindex(sw);
	free_vif(v);
	return rc;
}
