/* SPDX-License-Identifier: MIT */
/* The virtual switch; see switch/switch.h and SPEC 2. */
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

#include "switch.h"

#define UPLINK_PORT 0
#define VIF_PORT(i) ((i) + 1)
#define SW_FDB_ENTRIES 16384
#define SW_FDB_VIF_LEARN 64  /* entries one vif may have learned */
#define SW_AGE_SLOTS 4096    /* FDB slots one round's ageing examines */
#define BURST 32

_Static_assert(SW_RING % BURST == 0 && SW_INBOX % BURST == 0,
	       "the drain loops take whole bursts: a full ring or inbox in SW_RING / BURST bursts");
/* to_wire queues at most a burst of a VM's frames before to_wire_flush */
_Static_assert(sizeof(((struct sw_txp *)0)->pend) / sizeof(struct vmdq_txd) >= BURST,
	       "a TX queue's pending posts hold a burst");

const char *sw_drop_name(enum sw_drop d)
{
	static const char *const n[] = {
		[SWD_SPOOFED] = "spoofed", [SWD_TAGGED] = "tagged",
		[SWD_WRONG_VLAN] = "wrong-vlan", [SWD_NOT_LOCAL] = "not-local",
		[SWD_NO_VIF] = "no-vif", [SWD_TX_FULL] = "tx-full",
		[SWD_TOO_BIG] = "too-big", [SWD_PORT_TX] = "port-tx",
		[SWD_VIF_GONE] = "vif-gone", [SWD_BAD] = "bad",
		[SWD_HANDOFF_FULL] = "handoff-full",
	};
	return (unsigned)d < SWD__COUNT ? n[d] : "?";
}

static void workers_stop(struct vmdq_switch *sw);
static int worker_of_queue(struct vmdq_switch *sw, unsigned q, char *err, size_t errlen);
static void vif_hash_rebuild(struct vmdq_switch *sw);
static unsigned drain_inboxes(struct vmdq_switch *sw, int w, struct sw_vif *v);

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
	sw->nworkers = 1;
	sw->wk[0].cpu = -1;
	sw->wk[0].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&sw->park_mu, NULL);
	pthread_cond_init(&sw->park_cv, NULL);
	memset(sw->vif_hash, -1, sizeof(sw->vif_hash));
	for (unsigned q = 0; q < VMDQ_MAX_QUEUES; q++)
		sw->queue_vif[q] = -1;
	sw->fdb = vmdq_fdb_create(SW_FDB_ENTRIES);
	/* the wire may fill the FDB but for the vifs' own entries; a vif
	 * learns nothing today, and would learn a VM's few MACs */
	if (sw->fdb) {
		vmdq_fdb_set_learn_limit(sw->fdb, -1, SW_FDB_VIF_LEARN);
		vmdq_fdb_set_learn_limit(sw->fdb, UPLINK_PORT, SW_FDB_ENTRIES - SW_MAX_VIFS);
	}
	sw->defmem = mem((size_t)SW_RING * SW_BUF);
	struct vmdq_dev_config c;
	vmdq_dev_get_config(dev, &c);
	sw->default_queue = c.default_queue;
	/* a transparent switch (WP 3.1): sorting on, promiscuous */
	if (!sw->fdb || !sw->defmem || sw->wk[0].efd < 0 || vmdq_dev_set_vmdq(dev, true) < 0 ||
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
	workers_stop(sw);
	for (int i = 0; i < SW_MAX_VIFS; i++)
		if (sw->vif[i].used)
			vmdq_switch_vif_del(sw, sw->vif[i].port.name, NULL, 0);
	for (int w = 0; w < sw->nworkers; w++)
		if (sw->wk[w].efd > 0)
			close(sw->wk[w].efd);
	pthread_mutex_destroy(&sw->park_mu);
	pthread_cond_destroy(&sw->park_cv);
	if (sw->has_uplink)
		sw->uplink.ops->close(&sw->uplink);
	vmdq_fdb_destroy(sw->fdb);
	unmem(sw->defmem, (size_t)SW_RING * SW_BUF);
	free(sw);
}


static void free_inboxes(struct sw_vif *v)
{
	for (int p = 0; p < SW_MAX_WORKERS; p++) {
		unmem(v->inbox[p].mem, (size_t)SW_INBOX * SW_TX_BUF);
		v->inbox[p].mem = NULL;
	}
}

static void drain_rx(struct port *p);

/* Opens a port; a vif's port learns its device queue first (Level 2). */
static int open_port(struct vmdq_switch *sw, struct port *p, const char *name,
		     const char *kind, int vq, unsigned nq, uint64_t owner, char **args,
		     int nargs, char *err, size_t errlen)
{
	bool uplink = vq < 0;
	const struct port_ops *ops = port_ops_find(kind);
	if (!ops || (uplink ? !ops->uplink_ok : !ops->vif_ok)) {
		snprintf(err, errlen, "%s %s: unknown backend '%s'", uplink ? "uplink" : "vif",
			 name, kind);
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	if (!uplink) {
		p->dev = sw->dev;
		p->queue = vq;
		p->nqueues = nq;
		p->owner = owner;
		p->drain_rx = drain_rx;
		p->sw = sw;
	}
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
	int rc = open_port(sw, &sw->uplink, name, kind, -1, 0, 0, args, nargs, err, errlen);
	if (rc == 0)
		sw->has_uplink = true;
	return rc;
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
	int w = worker_of_queue(sw, (unsigned)q, err, errlen);
	if (w < 0) {
		rc = w;
		goto undo_queue;
	}
	v->worker = w;
	v->rxmem = mem((size_t)nq * SW_RING * SW_BUF);
	v->txmem = mem((size_t)nq * SW_TX_SLOTS * SW_TX_BUF);
	bool inbox_ok = true;
	for (int p = 0; p < sw->nworkers; p++)
		inbox_ok &= (v->inbox[p].mem = mem((size_t)SW_INBOX * SW_TX_BUF)) != NULL;
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
	rc = open_port(sw, &v->port, s->name, s->kind, q, nq, (uint64_t)idx + 1, s->args,
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
			rc = queue_arm(sw->dev, qi, v->rxmem + (size_t)i * SW_RING * SW_BUF);
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
	unmem(v->rxmem, (size_t)nq * SW_RING * SW_BUF);
	unmem(v->txmem, (size_t)nq * SW_TX_SLOTS * SW_TX_BUF);
	free_inboxes(v);
	memset(v, 0, sizeof(*v));
	return rc;
}

static void deliver_to_vif(struct vmdq_switch *sw, int w, struct sw_vif *v, uint8_t *data,
			   uint32_t len, uint16_t vid, bool tagged, uint64_t ts);
static void switch_group(struct vmdq_switch *sw, int w, int vi, struct vmdq_rxd *d,
			 unsigned n);

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
			switch_group(sw, 0, idx, d, k);
		else
			for (unsigned i = 0; i < k; i++) {
				sw->wk[0].wc.polled++;
				deliver_to_vif(sw, 0, v, d[i].buf, d[i].len, d[i].vlan,
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
	drain_inboxes(sw, 0, v);
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
	unmem(v->rxmem, (size_t)nq * SW_RING * SW_BUF);
	unmem(v->txmem, (size_t)nq * SW_TX_SLOTS * SW_TX_BUF);
	free_inboxes(v);
	memset(v, 0, sizeof(*v));
	vif_hash_rebuild(sw);
	return rc;
}

/* ---- workers' shared helpers ------------------------------------------ */

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

static int vif_lookup(const struct vmdq_switch *sw, const uint8_t *mac, uint16_t vlan)
{
	for (unsigned h = vh_slot(mac, vlan);; h = (h + 1) & 255) {
		int i = sw->vif_hash[h];
		if (i < 0)
			return -1;
		if (sw->vif[i].vlan == vlan && memcmp(sw->vif[i].mac, mac, 6) == 0)
			return i;
	}
}

/* Rings worker m's doorbell after this round (if it sleeps). */
static inline void want_ring(struct vmdq_switch *sw, int self, int m)
{
	if (m != self)
		sw->wk[self].ring |= 1u << m;
}

static void ring_doorbells(struct vmdq_switch *sw, int self)
{
	uint32_t r = sw->wk[self].ring;
	if (!r)
		return;
	sw->wk[self].ring = 0;
	/* pairs with the fence in vmdq_switch_wait: either the sleeper sees
	 * our frames when it looks once more, or we see it sleeping */
	atomic_thread_fence(memory_order_seq_cst);
	for (int m = 0; m < SW_MAX_WORKERS; m++) {
		if (!(r & (1u << m)) || !atomic_load_explicit(&sw->wk[m].sleeping,
							       memory_order_relaxed))
			continue;
		uint64_t one = 1;
		if (write(sw->wk[m].efd, &one, sizeof(one)) < 0) {
			/* saturated: it is awake anyway */
		}
	}
}

static bool inbox_push(struct sw_inbox *ib, const uint8_t *d, uint32_t len, uint64_t ts)
{
	uint32_t tail = atomic_load_explicit(&ib->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&ib->head, memory_order_acquire);
	if (!ib->mem || tail - head >= SW_INBOX || len > SW_TX_BUF)
		return false;
	unsigned k = tail % SW_INBOX;
	memcpy(ib->mem + (size_t)k * SW_TX_BUF, d, len);
	ib->len[k] = len;
	ib->ts[k] = ts;
	atomic_store_explicit(&ib->tail, tail + 1, memory_order_release);
	return true;
}

static bool inbox_empty(struct sw_inbox *ib)
{
	return atomic_load_explicit(&ib->tail, memory_order_acquire) ==
	       atomic_load_explicit(&ib->head, memory_order_relaxed);
}

/* Hands one frame to vif `to` from worker w: its own vif's port directly,
 * another worker's through the inbox.  Returns false (counted) if refused. */
static bool hand_to(struct vmdq_switch *sw, int w, struct sw_vif *to, const uint8_t *data,
		    uint32_t len, uint64_t ts)
{
	if (to->worker == w) {
		struct vmdq_frame f = { .data = data, .caplen = len, .len = len, .ts_ns = ts };
		if (to->port.ops->tx(&to->port, &f, 1) == 1) {
			to->c[w].to_vm++;
			return true;
		}
		to->c[w].drops[SWD_PORT_TX]++;
		return false;
	}
	if (!inbox_push(&to->inbox[w], data, len, ts)) {
		to->c[w].drops[SWD_HANDOFF_FULL]++;
		return false;
	}
	want_ring(sw, w, to->worker);
	return true;
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
			uint32_t *len, uint16_t vid, bool tagged)
{
	if (v->vlan) {
		if (!tagged || vid != v->vlan || *len < 18) {
			drop_wire(sw, w, v, SWD_WRONG_VLAN);
			return false;
		}
		memmove(*data + 4, *data, 12); /* untag in place */
		*data += 4;
		*len -= 4;
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
	unsigned sent = v->port.ops->tx(&v->port, f, n);
	v->c[w].to_vm += sent;
	sw->wk[w].wc.delivered += sent;
	for (unsigned i = sent; i < n; i++)
		drop_wire(sw, w, v, SWD_PORT_TX);
}

/* One frame from the wire to vif v (the default queue's per-frame path,
 * on the main worker). */
static void deliver_to_vif(struct vmdq_switch *sw, int w, struct sw_vif *v, uint8_t *data,
			   uint32_t len, uint16_t vid, bool tagged, uint64_t ts)
{
	if (!fit_for_vif(sw, w, v, &data, &len, vid, tagged))
		return;
	if (v->worker == w) {
		struct vmdq_frame f = { .data = data, .caplen = len, .len = len, .ts_ns = ts };
		send_to_vif(sw, w, v, &f, 1);
	} else if (hand_to(sw, w, v, data, len, ts)) {
		sw->wk[w].wc.delivered++;
	} else {
		sw->wk[w].wc.drops[SWD_HANDOFF_FULL]++;
	}
}

/* Floods a frame from the wire to every vif of its VLAN (copies: each
 * delivery may untag in place). */
static void flood_from_wire(struct vmdq_switch *sw, int w, const uint8_t *data, uint32_t len,
			    uint16_t vid, bool tagged, uint64_t ts)
{
	static uint8_t copy[SW_BUF];
	unsigned n = 0;
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (!v->used || v->vlan != (tagged ? vid : 0))
			continue;
		memcpy(copy, data, len);
		uint8_t *d = copy;
		uint32_t l = len;
		if (v->vlan) {
			memmove(d + 4, d, 12);
			d += 4;
			l -= 4;
		}
		n += hand_to(sw, w, v, d, l, ts);
	}
	if (n) {
		sw->wk[w].wc.delivered++;
		sw->wk[w].wc.flooded++;
	} else {
		sw->wk[w].wc.drops[SWD_NO_VIF]++;
	}
}

/* The default queue: frame by frame, through the FDB (SPEC 2). */
static void switch_default(struct vmdq_switch *sw, int w, struct vmdq_rxd *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *data = d[i].buf;
		uint32_t len = d[i].len;
		bool tagged = d[i].flags & VMDQ_RXD_TAGGED;
		uint16_t vid = d[i].vlan;
		sw->wk[w].wc.polled++;
		if (len < 14 || (d[i].flags & VMDQ_ERR_MASK)) {
			/* bad frames (device store-bad on) are counted, not switched */
			drop_wire(sw, w, NULL, SWD_BAD);
			continue;
		}
		if (data[0] & 1) {
			flood_from_wire(sw, w, data, len, vid, tagged, d[i].ts_ns);
			continue;
		}
		int port = vmdq_fdb_lookup(sw->fdb, data, tagged ? vid : 0);
		if (port == UPLINK_PORT) {
			drop_wire(sw, w, NULL, SWD_NOT_LOCAL);
		} else if (port > 0) {
			deliver_to_vif(sw, w, &sw->vif[port - 1], data, len, vid, tagged,
				       d[i].ts_ns);
		} else {
			flood_from_wire(sw, w, data, len, vid, tagged, d[i].ts_ns);
		}
	}
}

/* A group from a vif's queue: one decision for all of it (WP 3.5.1), and
 * one hand-over to the vif's port.  At most BURST descriptors (ok[], f[]);
 * switch_group cuts longer groups (vif del's reclaim: a whole ring). */
static void switch_burst(struct vmdq_switch *sw, int w, int vi, struct vmdq_rxd *d,
			 unsigned n)
{
	sw->wk[w].wc.polled += n;
	if (vi < 0) {
		for (unsigned i = 0; i < n; i++)
			drop_wire(sw, w, NULL, SWD_VIF_GONE);
		return;
	}
	struct sw_vif *v = &sw->vif[vi];
	if (v->targeted) {
		/* Level 2: the frames are in the VM's buffers already; decide on
		 * the header replicas and complete the buffers (no copy) */
		bool ok[BURST];
		for (unsigned i = 0; i < n; i++) {
			uint16_t fl = d[i].flags;
			ok[i] = false;
			if (fl & VMDQ_ERR_MASK)
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
		if (d[i].flags & VMDQ_ERR_MASK) {
			drop_wire(sw, w, v, SWD_BAD);
			continue;
		}
		if (fit_for_vif(sw, w, v, &data, &len, d[i].vlan, d[i].flags & VMDQ_RXD_TAGGED))
			f[k++] = (struct vmdq_frame){ .data = data, .caplen = len, .len = len,
						      .ts_ns = d[i].ts_ns };
	}
	send_to_vif(sw, w, v, f, k);
}

static void switch_group(struct vmdq_switch *sw, int w, int vi, struct vmdq_rxd *d,
			 unsigned n)
{
	for (unsigned off = 0; off < n; off += BURST)
		switch_burst(sw, w, vi, d + off, n - off < BURST ? n - off : BURST);
}

static unsigned drain_queue(struct vmdq_switch *sw, int w, unsigned q)
{
	struct vmdq_rxd d[BURST];
	unsigned n = vmdq_rxq_poll(sw->dev, q, d, BURST);
	if (!n)
		return 0;
	if (q == sw->default_queue) {
		switch_default(sw, w, d, n);
	} else {
		int vi = sw->queue_vif[q];
		switch_group(sw, w, vi, d, n);
		if (vi >= 0 && sw->vif[vi].targeted)
			return n; /* the VM's buffers: its port posts them again */
	}
	/* the buffers are free again: every delivery copied */
	for (unsigned i = 0; i < n; i++)
		d[i].len = 0;
	vmdq_rxq_post(sw->dev, q, d, n);
	return n;
}

/* A port asks for the completions waiting in its queue (before its VM's
 * rings change): the owning worker, from the port's service call. */
static void drain_rx(struct port *p)
{
	struct vmdq_switch *sw = p->sw;
	struct sw_vif *v = (struct sw_vif *)(void *)((char *)p - offsetof(struct sw_vif, port));
	if (!v->used)
		return;
	/* what is in the ring, at most: the port took its buffers back first */
	for (unsigned i = 0; i < v->nq; i++)
		for (unsigned b = 0; b <= SW_RING / BURST; b++)
			if (drain_queue(sw, v->worker, (unsigned)v->queue + i) == 0)
				break;
}

/* Frames other workers left for vif v: a hand-over per burst, until the
 * inboxes are empty or a whole inbox's worth was handed over (the other
 * worker may refill it as fast: the round must end). */
static unsigned drain_inboxes(struct vmdq_switch *sw, int w, struct sw_vif *v)
{
	(void)sw;
	unsigned total = 0;
	for (int p = 0; p < SW_MAX_WORKERS; p++) {
		struct sw_inbox *ib = &v->inbox[p];
		if (!ib->mem)
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
				f[i] = (struct vmdq_frame){ .data = ib->mem + (size_t)k * SW_TX_BUF,
							    .caplen = ib->len[k], .len = ib->len[k],
							    .ts_ns = ib->ts[k] };
			}
			unsigned sent = v->port.ops->tx(&v->port, f, n);
			v->c[w].to_vm += sent;
			v->c[w].drops[SWD_PORT_TX] += n - sent;
			atomic_store_explicit(&ib->head, head + n, memory_order_release);
			total += n;
		}
	}
	return total;
}

/* ---- VMs -> anywhere ---------------------------------------------------- */

static void learn_from_wire(struct vmdq_switch *sw, const struct vmdq_frame *f, unsigned n,
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
		vmdq_fdb_learn(sw->fdb, d + 6, vid, UPLINK_PORT, now);
		last = d + 6;
		last_vid = vid;
	}
}

/* Queues a VM's frame for the wire on the vif's TX queue, tagged with its
 * access VLAN.  The frame is copied into the vif's TX buffer slot. */
static void to_wire(struct vmdq_switch *sw, int w, struct sw_vif *v, unsigned pair,
		    const uint8_t *data, uint32_t len, uint64_t ts)
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
	t->pend[t->npend++] = (struct vmdq_txd){ .data = slot, .len = out_len,
						 .caplen = out_len, .ts_ns = ts };
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

static unsigned from_vif(struct vmdq_switch *sw, int w, int vi)
{
	struct sw_vif *v = &sw->vif[vi];
	if (!v->port.ops->rx)
		return 0;
	struct vmdq_frame f[BURST];
	v->port.rx_pair = 0;
	unsigned n = v->port.ops->rx(&v->port, f, BURST);
	/* a VM's frames leave through the TX queue of the pair they came on */
	unsigned pair = v->port.rx_pair < v->nq ? v->port.rx_pair : 0;
	struct sw_cnt *c = &v->c[w];
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = f[i].data;
		uint32_t len = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		c->from_vm++;
		if (len < 14) {
			c->drops[SWD_TOO_BIG]++; /* runt from a VM: cannot be switched */
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
		if (d[0] & 1) {
			/* broadcast/multicast: the other vifs of the VLAN, and the wire */
			for (int k = 0; k < SW_MAX_VIFS; k++)
				if (k != vi && sw->vif[k].used && sw->vif[k].vlan == v->vlan)
					hand_to(sw, w, &sw->vif[k], d, len, f[i].ts_ns);
			to_wire(sw, w, v, pair, d, len, f[i].ts_ns);
			continue;
		}
		int to = vif_lookup(sw, d, v->vlan);
		if (to >= 0 && to != vi)
			hand_to(sw, w, &sw->vif[to], d, len, f[i].ts_ns);
		else
			to_wire(sw, w, v, pair, d, len, f[i].ts_ns);
	}
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
static unsigned wire_out(struct vmdq_switch *sw, int w, uint64_t now)
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
					    .len = t[i].len, .ts_ns = t[i].ts_ns };
	unsigned sent = sw->uplink.ops->tx(&sw->uplink, f, n);
	sw->wk[w].wc.to_wire += sent;
	sw->wk[w].wc.tx_drops += n - sent;
	for (unsigned i = 0; i < n; i++) {
		int vi = sw->queue_vif[t[i].queue];
		if (vi >= 0) {
			struct sw_vif *v = &sw->vif[vi];
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
static bool inboxes_have_room(const struct vmdq_switch *sw, int w)
{
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		const struct sw_inbox *ib = &sw->vif[i].inbox[w];
		if (!sw->vif[i].used || sw->vif[i].worker == w || !ib->mem)
			continue;
		uint32_t used = atomic_load_explicit(&ib->tail, memory_order_relaxed) -
				atomic_load_explicit(&ib->head, memory_order_acquire);
		if (used > SW_INBOX - BURST)
			return false;
	}
	return true;
}

/* ... and when its TX queues have room for a burst (the port says which
 * pair a burst came from only once it has read it). */
static bool tx_has_room(struct sw_vif *v)
{
	for (unsigned i = 0; i < v->nq; i++)
		if (v->tx[i].posted - atomic_load_explicit(&v->tx[i].done, memory_order_acquire) >
		    SW_TX_SLOTS - BURST)
			return false;
	return true;
}

unsigned vmdq_switch_poll_worker(struct vmdq_switch *sw, int w, uint64_t now)
{
	unsigned work = 0;
	if (w == 0) {
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
		work += drain_queue(sw, w, sw->default_queue);
	}
	bool room = inboxes_have_room(sw, w);
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (!v->used || v->worker != w)
			continue;
		if (v->port.ops->service)
			v->port.ops->service(&v->port, now);
		/* a ring's worth at most: the sorter on another worker may
		 * refill the queue as fast as it drains, and the round must end
		 * (the stop and park requests are seen between rounds) */
		for (unsigned qi = 0; qi < v->nq; qi++) {
			unsigned k, bursts = 0;
			do {
				k = drain_queue(sw, w, (unsigned)v->queue + qi);
				work += k;
			} while (k == BURST && ++bursts < SW_RING / BURST);
		}
		work += drain_inboxes(sw, w, v);
		if (room && (tx_has_room(v) || !sw->has_uplink))
			work += from_vif(sw, w, i);
	}
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (v->used && v->worker == w && v->port.ops->flush)
			v->port.ops->flush(&v->port); /* one notification per round */
	}
	if (w == 0) {
		work += wire_out(sw, w, now);
		/* a pass over the FDB each second, SW_AGE_SLOTS slots a round */
		if (now && (vmdq_fdb_age_pending(sw->fdb) ||
			    now - sw->last_age_ns > 1000000000ull)) {
			if (!vmdq_fdb_age_pending(sw->fdb))
				sw->last_age_ns = now;
			vmdq_fdb_age_step(sw->fdb, now, sw->age_ns, SW_AGE_SLOTS);
		}
	}
	ring_doorbells(sw, w);
	return work;
}

unsigned vmdq_switch_poll(struct vmdq_switch *sw, uint64_t now)
{
	unsigned work = 0;
	for (int w = 0; w < sw->nworkers; w++)
		work += vmdq_switch_poll_worker(sw, w, now);
	return work;
}

bool vmdq_switch_idle(struct vmdq_switch *sw, int w, uint64_t now, unsigned work)
{
	struct sw_worker *k = &sw->wk[w];
	if (work) {
		k->idle_since = 0;
		return false;
	}
	if (!k->idle_since) {
		k->idle_since = now;
		return false;
	}
	return now - k->idle_since >= SW_SPIN_NS;
}

/* Is there work for worker w that a descriptor would not announce? */
static bool has_work(struct vmdq_switch *sw, int w)
{
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (!v->used)
			continue;
		/* (with a txrate, frames waiting for the wire wake the worker by
		 * the timeout instead) */
		for (unsigned q = 0; q < v->nq; q++)
			if (w == 0 && !sw->tx_rate &&
			    vmdq_txq_pending(sw->dev, (unsigned)v->queue + q))
				return true;
		if (v->worker != w)
			continue;
		for (unsigned q = 0; q < v->nq; q++)
			if (vmdq_rxq_ready(sw->dev, (unsigned)v->queue + q))
				return true;
		if (v->port.ops->idle && !v->port.ops->idle(&v->port))
			return true;
		for (int p = 0; p < SW_MAX_WORKERS; p++)
			if (v->inbox[p].mem && !inbox_empty(&v->inbox[p]))
				return true;
	}
	return w == 0 && vmdq_rxq_ready(sw->dev, sw->default_queue);
}

void vmdq_switch_wait(struct vmdq_switch *sw, int w, int extra_fd, int timeout_ms)
{
	struct sw_worker *k = &sw->wk[w];
	struct pollfd pfd[(1 + SW_MAX_QP) * SW_MAX_VIFS + 3];
	int irq_q[SW_MAX_QP * SW_MAX_VIFS], irq_fd[SW_MAX_QP * SW_MAX_VIFS];
	nfds_t n = 0;
	int nirq = 0;
	pfd[n++] = (struct pollfd){ .fd = k->efd, .events = POLLIN };
	if (extra_fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = extra_fd, .events = POLLIN };
	if (w == 0 && sw->has_uplink && sw->uplink.ops->fd(&sw->uplink) >= 0)
		pfd[n++] = (struct pollfd){ .fd = sw->uplink.ops->fd(&sw->uplink),
					    .events = POLLIN };
	atomic_store_explicit(&k->sleeping, true, memory_order_relaxed);
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (!v->used || v->worker != w)
			continue;
		int fd = v->port.ops->fd(&v->port);
		if (fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		for (unsigned qi = 0; w != 0 && qi < v->nq; qi++) {
			/* another worker sorts into this queue: its interrupt wakes us */
			unsigned q = (unsigned)v->queue + qi;
			int ifd = vmdq_rxq_irq_fd(sw->dev, q);
			if (ifd >= 0) {
				vmdq_rxq_irq_enable(sw->dev, q);
				pfd[n++] = (struct pollfd){ .fd = ifd, .events = POLLIN };
				irq_fd[nirq] = ifd;
				irq_q[nirq++] = (int)q;
			}
		}
	}
	atomic_thread_fence(memory_order_seq_cst);
	if (w == 0) {
		/* interrupts held back by moderation are due some time */
		uint64_t due = vmdq_dev_irq_service(sw->dev);
		if (due != UINT64_MAX && (timeout_ms < 0 || due / 1000000 < (uint64_t)timeout_ms))
			timeout_ms = (int)(due / 1000000) + 1;
		if (sw->tx_rate)
			for (int i = 0; i < SW_MAX_VIFS; i++)
				for (unsigned q = 0; sw->vif[i].used && q < sw->vif[i].nq; q++)
					if (vmdq_txq_pending(sw->dev, (unsigned)sw->vif[i].queue + q))
						timeout_ms = 1; /* the wire takes more in a moment */
	}
	if (!has_work(sw, w) && !atomic_load(&sw->park_req) && !atomic_load(&sw->stopping))
		poll(pfd, n, timeout_ms);
	atomic_store_explicit(&k->sleeping, false, memory_order_relaxed);
	for (int i = 0; i < nirq; i++)
		vmdq_rxq_irq_disable(sw->dev, (unsigned)irq_q[i]);
	uint64_t v;
	for (nfds_t i = 0; i < n; i++) {
		if (!(pfd[i].revents & POLLIN) || pfd[i].fd == extra_fd)
			continue;
		/* eventfds (doorbell, interrupts) are reset; reading a port's
		 * descriptor is its rx call's business */
		bool evfd = pfd[i].fd == k->efd;
		for (int j = 0; j < nirq && !evfd; j++)
			evfd = pfd[i].fd == irq_fd[j];
		if (evfd && read(pfd[i].fd, &v, sizeof(v)) < 0) {
			/* already reset */
		}
	}
}

/* ---- workers ---------------------------------------------------------- */

static int pin(pthread_t t, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(t, sizeof(set), &set);
}

static void *worker_main(void *arg)
{
	struct sw_worker *k = arg;
	struct vmdq_switch *sw = (struct vmdq_switch *)((char *)(k - k->id) -
						       offsetof(struct vmdq_switch, wk));
	vmdq_thread_online();
	while (!atomic_load(&sw->stopping)) {
		if (atomic_load_explicit(&sw->park_req, memory_order_acquire)) {
			pthread_mutex_lock(&sw->park_mu);
			atomic_store(&k->parked, true);
			pthread_cond_broadcast(&sw->park_cv);
			while (atomic_load(&sw->park_req) && !atomic_load(&sw->stopping))
				pthread_cond_wait(&sw->park_cv, &sw->park_mu);
			atomic_store(&k->parked, false);
			pthread_mutex_unlock(&sw->park_mu);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		if (vmdq_switch_idle(sw, k->id, now, vmdq_switch_poll_worker(sw, k->id, now)))
			vmdq_switch_wait(sw, k->id, -1, 100);
	}
	vmdq_thread_offline();
	return NULL;
}

/* Gives worker k its thread, pinned to its CPU. */
static int worker_run(struct sw_worker *k, char *err, size_t errlen)
{
	int rc = -pthread_create(&k->thread, NULL, worker_main, k);
	if (rc == 0) {
		k->running = true;
		if (k->cpu >= 0)
			rc = pin(k->thread, k->cpu);
	}
	if (rc < 0) {
		snprintf(err, errlen, "worker on CPU %d: %s", k->cpu, strerror(-rc));
		return rc;
	}
	fprintf(stderr, "vmdq: worker %d on CPU %d\n", k->id, k->cpu);
	return 0;
}

static int worker_new(struct vmdq_switch *sw, int cpu, char *err, size_t errlen)
{
	if (sw->nworkers >= SW_MAX_WORKERS) {
		snprintf(err, errlen, "CPU %d: the switch has %d workers, its limit", cpu,
			 SW_MAX_WORKERS);
		return -ENOSPC;
	}
	int w = sw->nworkers;
	struct sw_worker *k = &sw->wk[w];
	memset(k, 0, sizeof(*k));
	k->id = w;
	k->cpu = cpu;
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0) {
		snprintf(err, errlen, "worker: %s", strerror(errno));
		return -errno;
	}
	sw->nworkers++;
	/* every vif gets an inbox from the new worker */
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (v->used && !v->inbox[w].mem &&
		    !(v->inbox[w].mem = mem((size_t)SW_INBOX * SW_TX_BUF))) {
			snprintf(err, errlen, "worker: out of memory");
			return -ENOMEM;
		}
	}
	if (sw->threaded) {
		int rc = worker_run(k, err, errlen);
		if (rc < 0)
			return rc;
	}
	return w;
}

static int worker_for_cpu(struct vmdq_switch *sw, int cpu, char *err, size_t errlen)
{
	for (int w = 0; w < sw->nworkers; w++)
		if (sw->wk[w].cpu == cpu)
			return w;
	return worker_new(sw, cpu, err, errlen);
}

/* The worker that is to serve queue q. */
static int worker_of_queue(struct vmdq_switch *sw, unsigned q, char *err, size_t errlen)
{
	struct vmdq_queue_info qi;
	if (vmdq_queue_get_info(sw->dev, q, &qi) < 0 || !qi.cpu_set || (int)qi.cpu == sw->wk[0].cpu)
		return 0;
	return worker_for_cpu(sw, (int)qi.cpu, err, errlen);
}

int vmdq_switch_set_main_cpu(struct vmdq_switch *sw, int cpu)
{
	if (cpu >= 0) {
		int rc = pin(pthread_self(), cpu);
		if (rc < 0)
			return rc;
	}
	sw->wk[0].cpu = cpu;
	return 0;
}

int vmdq_switch_remap(struct vmdq_switch *sw, char *err, size_t errlen)
{
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (!v->used)
			continue;
		int w = worker_of_queue(sw, (unsigned)v->queue, err, errlen);
		if (w < 0)
			return w;
		if (w != v->worker) {
			fprintf(stderr, "vmdq: vif %s (queue %d) moves to worker %d\n",
				v->port.name, v->queue, w);
			v->worker = w;
		}
	}
	return 0;
}

int vmdq_switch_start(struct vmdq_switch *sw, char *err, size_t errlen)
{
	sw->threaded = true;
	for (int w = 1; w < sw->nworkers; w++) {
		int rc = worker_run(&sw->wk[w], err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void vmdq_switch_park(struct vmdq_switch *sw)
{
	if (!sw->threaded || sw->nworkers < 2)
		return;
	pthread_mutex_lock(&sw->park_mu);
	atomic_store(&sw->park_req, true);
	for (int w = 1; w < sw->nworkers; w++) {
		uint64_t one = 1;
		if (write(sw->wk[w].efd, &one, sizeof(one)) < 0) {
			/* saturated: it wakes anyway */
		}
	}
	for (int w = 1; w < sw->nworkers; w++)
		while (sw->wk[w].running && !atomic_load(&sw->wk[w].parked))
			pthread_cond_wait(&sw->park_cv, &sw->park_mu);
	pthread_mutex_unlock(&sw->park_mu);
}

void vmdq_switch_unpark(struct vmdq_switch *sw)
{
	if (!sw->threaded || sw->nworkers < 2)
		return;
	pthread_mutex_lock(&sw->park_mu);
	atomic_store(&sw->park_req, false);
	pthread_cond_broadcast(&sw->park_cv);
	pthread_mutex_unlock(&sw->park_mu);
}

static void workers_stop(struct vmdq_switch *sw)
{
	pthread_mutex_lock(&sw->park_mu);
	atomic_store(&sw->stopping, true);
	pthread_cond_broadcast(&sw->park_cv);
	pthread_mutex_unlock(&sw->park_mu);
	for (int w = 1; w < sw->nworkers; w++) {
		if (!sw->wk[w].running)
			continue;
		uint64_t one = 1;
		if (write(sw->wk[w].efd, &one, sizeof(one)) < 0) {
			/* saturated: it wakes anyway */
		}
		pthread_join(sw->wk[w].thread, NULL);
		sw->wk[w].running = false;
	}
}

void vmdq_switch_vif_counters(const struct vmdq_switch *sw, int vi, struct sw_cnt *out)
{
	memset(out, 0, sizeof(*out));
	const struct sw_vif *v = &sw->vif[vi];
	for (int w = 0; w < SW_MAX_WORKERS; w++) {
		out->to_vm += v->c[w].to_vm;
		out->from_vm += v->c[w].from_vm;
		out->to_wire += v->c[w].to_wire;
		for (int d = 0; d < SWD__COUNT; d++)
			out->drops[d] += v->c[w].drops[d];
	}
}

void vmdq_switch_wire_counters(const struct vmdq_switch *sw, struct sw_wire_cnt *out)
{
	memset(out, 0, sizeof(*out));
	for (int w = 0; w < SW_MAX_WORKERS; w++) {
		const struct sw_wire_cnt *c = &sw->wk[w].wc;
		out->polled += c->polled;
		out->delivered += c->delivered;
		out->flooded += c->flooded;
		out->to_wire += c->to_wire;
		out->tx_drops += c->tx_drops;
		for (int d = 0; d < SWD__COUNT; d++)
			out->drops[d] += c->drops[d];
	}
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
		for (unsigned q = 0; q < v->nq; q++)
			if (vmdq_rxq_ready(sw->dev, (unsigned)v->queue + q) ||
			    vmdq_txq_pending(sw->dev, (unsigned)v->queue + q))
				return false;
		for (int p = 0; p < SW_MAX_WORKERS; p++)
			if (v->inbox[p].mem && !inbox_empty(&v->inbox[p]))
				return false;
	}
	return vmdq_rxq_ready(sw->dev, sw->default_queue) == 0;
}
