/* SPDX-License-Identifier: MIT */
/*
 * switch/switch.c - the switch itself (SPEC 2): made around a device, its
 * uplink, its counters.  The data flow lives in the other files of this
 * directory (see switch/internal.h).
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

#include <sodium.h>

#include "internal.h"
#include "handoff.h"

const char *sw_drop_name(enum sw_drop d)
{
	static const char *const n[] = {
#define SW_DROP_NAME(e, name) [SWD_##e] = name,
		SW_DROPS(SW_DROP_NAME)
#undef SW_DROP_NAME
	};
	_Static_assert(sizeof(n) / sizeof(n[0]) == SWD__COUNT, "a name for every reason");
	return (unsigned)d < SWD__COUNT ? n[d] : "?";
}

void *vmdq_sw_mem(size_t bytes)
{
	return port_mem(bytes); /* no swap reserved: only the pages a vif uses ever exist */
}

void vmdq_sw_unmem(void *m, size_t bytes)
{
	port_unmem(m, bytes);
}

/* Gives queue q a ring of SW_RING buffers carved from m. */
int vmdq_sw_queue_arm(struct vmdq_dev *dev, unsigned q, uint8_t *m, uint32_t buf)
{
	int rc = vmdq_rxq_setup(dev, q, SW_RING);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < SW_RING; i++) {
		struct vmdq_rxd d = { .buf = m + (size_t)i * buf, .buf_size = buf };
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
	sw->rx_buf = SW_BUF;
	sw->wk[0].cpu = -1;
	sw->wk[0].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&sw->park_mu, NULL);
	pthread_cond_init(&sw->park_cv, NULL);
	for (unsigned q = 0; q < VMDQ_MAX_QUEUES; q++)
		sw->queue_vif[q] = -1;
	sw->fdb = vmdq_fdb_create(SW_FDB_ENTRIES);
	/* the wire may fill the FDB but for the vifs' own entries; a vif
	 * learns nothing today, and would learn a VM's few MACs */
	if (sw->fdb) {
		vmdq_fdb_set_learn_limit(sw->fdb, -1, SW_FDB_VIF_LEARN);
		vmdq_fdb_set_learn_limit(sw->fdb, UPLINK_PORT, SW_FDB_UPLINK_LEARN);
	}
	bool ok = sodium_init() >= 0 && vmdq_sw_worker_arrays(sw, 0, 0) == 0;
	if (ok)
		randombytes_buf(sw->ix_key, sizeof(sw->ix_key));
	/* the default queue takes whatever the uplink gives, super-frames
	 * included (address space; pages as frames touch them) */
	sw->defmem = vmdq_sw_mem((size_t)SW_RING * SW_BUF_SUPER);
	struct vmdq_dev_config c;
	vmdq_dev_get_config(dev, &c);
	sw->default_queue = c.default_queue;
	/* a transparent switch (WP 3.1): sorting on, promiscuous */
	if (!ok || !sw->fdb || !sw->defmem || sw->wk[0].efd < 0 || vmdq_dev_set_vmdq(dev, true) < 0 ||
	    vmdq_dev_set_promisc(dev, true) < 0 || vmdq_sw_queue_arm(dev, c.default_queue, sw->defmem, SW_BUF_SUPER) < 0) {
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
	vmdq_sw_workers_stop(sw);
	while (sw->nvifs)
		vmdq_switch_vif_del(sw, sw->live[sw->nvifs - 1]->port.name, NULL, 0);
	for (int w = 0; w < sw->nworkers; w++)
		if (sw->wk[w].efd > 0)
			close(sw->wk[w].efd);
	for (int w = 0; w < sw->nworkers; w++)
		if (sw->wk[w].has_epfd)
			close(sw->wk[w].epfd);
	for (int w = 0; w < SW_MAX_WORKERS; w++)
		vmdq_sw_gso_scratch_free(&sw->wk[w]);
	pthread_mutex_destroy(&sw->park_mu);
	pthread_cond_destroy(&sw->park_cv);
	if (sw->has_uplink)
		sw->uplink.ops->close(&sw->uplink);
	vmdq_fdb_destroy(sw->fdb);
	vmdq_sw_unmem(sw->defmem, (size_t)SW_RING * SW_BUF_SUPER);
	vmdq_sw_table_free(sw);
	free(sw);
}

/* Opens a port; a vif's port learns its device queue first (Level 2). */
int vmdq_sw_open_port(struct vmdq_switch *sw, struct port *p, const char *name,
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
	int rc = vmdq_sw_open_port(sw, &sw->uplink, name, kind, -1, 0, 0, args, nargs, err, errlen);
	if (rc == 0)
		sw->has_uplink = true;
	/* an uplink that gives super-frames: the vifs added from now on get
	 * receive buffers that hold them (SPEC 5; DESIGN.md "Offloads") */
	if (rc == 0 && sw->rx_buf == SW_BUF &&
	    (sw->uplink.caps.rx_offloads & (PORT_OFF_TSO4 | PORT_OFF_TSO6 | PORT_OFF_USO)))
		sw->rx_buf = SW_BUF_SUPER;
	return rc;
}


int vmdq_switch_set_rx_buf(struct vmdq_switch *sw, uint32_t bytes)
{
	if (bytes < 64 || bytes > SW_BUF_SUPER)
		return -EINVAL;
	sw->rx_buf = bytes;
	return 0;
}

void vmdq_switch_vif_counters(const struct vmdq_switch *sw, int vi, struct sw_cnt *out)
{
	memset(out, 0, sizeof(*out));
	if (vi < 0 || (unsigned)vi >= sw->vif_cap || !sw->vif[vi])
		return;
	const struct sw_vif *v = sw->vif[vi];
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
		for (int o = 0; o < SWO__COUNT; o++)
			out->off[o] += c->off[o];
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
	for (unsigned j = 0; j < sw->nvifs; j++) {
		struct sw_vif *v = sw->live[j];
		if (!v->port.ops->done || !v->port.ops->done(&v->port))
			return false;
		for (unsigned q = 0; q < v->nq; q++)
			if (vmdq_rxq_ready(sw->dev, (unsigned)v->queue + q) ||
			    vmdq_txq_pending(sw->dev, (unsigned)v->queue + q))
				return false;
		for (int p = 0; p < SW_MAX_WORKERS; p++)
			if (!inbox_empty(v->inbox[p]))
				return false;
	}
	return vmdq_rxq_ready(sw->dev, sw->default_queue) == 0;
}

