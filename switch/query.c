/* SPDX-License-Identifier: MIT */
/*
 * What the program (src/) may know of the switch and change in it: the one
 * file outside the switch's own that reads its structures (internal.h).  Every call is
 * made by the main worker with the other workers parked (switch.h).
 */
#include <errno.h>
#include <string.h>

#include "vmdq/cmd.h"
#include "internal.h"

/* the command language checks `queues N` against the same bound */
_Static_assert(VMDQ_VIF_MAX_QP == SW_MAX_QP, "vif queue pairs: cmd.h and switch.h differ");

struct vmdq_dev *vmdq_switch_dev(const struct vmdq_switch *sw)
{
	return sw->dev;
}

struct vmdq_fdb *vmdq_switch_fdb(const struct vmdq_switch *sw)
{
	return sw->fdb;
}

int vmdq_switch_nworkers(const struct vmdq_switch *sw)
{
	return sw->nworkers;
}

uint64_t vmdq_switch_tx_rate(const struct vmdq_switch *sw)
{
	return sw->tx_rate;
}

void vmdq_switch_set_tx_rate(struct vmdq_switch *sw, uint64_t fps)
{
	sw->tx_rate = fps;
}

static void port_info(const struct port *p, struct sw_port_info *out)
{
	struct port *q = (struct port *)p; /* the backend's callbacks take it so */
	*out = (struct sw_port_info){
		.name = p->name,
		.kind = p->ops->kind,
		.rx_frames = p->rx_frames,
		.tx_frames = p->tx_frames,
		.tx_errors = p->tx_errors,
		.has_kernel_drops = p->ops->drops != NULL,
		.kernel_drops = p->ops->drops ? p->ops->drops(q) : 0,
		.finite = p->ops->done != NULL,
	};
}

bool vmdq_switch_uplink_info(const struct vmdq_switch *sw, struct sw_port_info *out)
{
	if (!sw->has_uplink)
		return false;
	port_info(&sw->uplink, out);
	return true;
}

int vmdq_switch_vif_next(const struct vmdq_switch *sw, int after)
{
	for (unsigned i = after < 0 ? 0 : (unsigned)after + 1; i < sw->vif_cap; i++)
		if (sw->vif[i] && sw->vif[i]->used)
			return (int)i;
	return -1;
}

static const struct sw_vif *vif_at(const struct vmdq_switch *sw, int vi)
{
	if (vi < 0 || (unsigned)vi >= sw->vif_cap || !sw->vif[vi] || !sw->vif[vi]->used)
		return NULL;
	return sw->vif[vi];
}

int vmdq_switch_vif_info(const struct vmdq_switch *sw, int vi, struct sw_vif_info *out)
{
	const struct sw_vif *v = vif_at(sw, vi);
	if (!v)
		return -ENOENT;
	port_info(&v->port, &out->port);
	memcpy(out->mac, v->mac, 6);
	out->vlan = v->vlan;
	out->queue = v->queue;
	out->nq = v->nq;
	out->worker = v->worker;
	out->targeted = v->targeted;
	return 0;
}

void vmdq_switch_vif_status(const struct vmdq_switch *sw, int vi, struct port_status *out)
{
	memset(out, 0, sizeof(*out));
	const struct sw_vif *v = vif_at(sw, vi);
	if (!v || !v->port.ops->status)
		return;
	v->port.ops->status((struct port *)&v->port, out);
	if (out->n > PORT_STATUS_MAX)
		out->n = PORT_STATUS_MAX;
}

int vmdq_switch_queue_vif(const struct vmdq_switch *sw, unsigned q)
{
	return q < VMDQ_MAX_QUEUES ? sw->queue_vif[q] : -1;
}

const char *vmdq_switch_port_name(const struct vmdq_switch *sw, unsigned p)
{
	if (p == 0)
		return sw->has_uplink ? sw->uplink.name : NULL;
	const struct sw_vif *v = vif_at(sw, (int)p - 1);
	return v ? v->port.name : NULL;
}
