/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "../switch/switch.h"

/* `queue Q cpu N` names a CPU a worker can be pinned to: checked before
 * the command changes anything. */
static int check_cpu(const struct apply_env *env, const struct vmdq_cmd *c, char *err,
		     size_t errlen)
{
	if (c->kind != VMDQ_CMD_QUEUE_CPU)
		return 0;
	if (c->value < CPU_SETSIZE && CPU_ISSET(c->value, &env->cpus))
		return 0;
	snprintf(err, errlen, "queue %u cpu %u: the switch cannot run on CPU %u", c->num,
		 c->value, c->value);
	return -EINVAL;
}

int switch_apply(struct apply_env *env, const struct vmdq_cmd *c, char *out, size_t outlen,
		 char *err, size_t errlen)
{
	struct vmdq_switch *sw = env->sw;
	int rc = 0;
	if (out && outlen)
		out[0] = '\0';
	switch (c->kind) {
	case VMDQ_CMD_NONE:
		return 0;
	case VMDQ_CMD_AT:
		snprintf(err, errlen, "at: only vmdq sort runs a schedule");
		return -EINVAL;
	case VMDQ_CMD_UPLINK:
		rc = vmdq_switch_set_uplink(sw, c->name, c->backend, (char **)c->args, c->nargs,
					    err, errlen);
		if (rc == 0)
			vmdq_switch_set_tx_rate(sw, c->txrate);
		return rc;
	case VMDQ_CMD_UPLINK_TXRATE:
		vmdq_switch_set_tx_rate(sw, c->txrate);
		return 0;
	case VMDQ_CMD_VIF_ADD: {
		struct sw_vif_spec s = { .name = c->name, .kind = c->backend,
					 .args = (char **)c->args, .nargs = c->nargs,
					 .vlan = c->vlan, .queue = c->queue, .queues = c->queues };
		memcpy(s.mac, c->mac, 6);
		rc = vmdq_switch_vif_add(sw, &s, err, errlen);
		return rc < 0 ? rc : 0;
	}
	case VMDQ_CMD_VIF_DEL:
		return vmdq_switch_vif_del(sw, c->name, err, errlen);
	default:
		break;
	}
	/* the device's commands */
	if ((rc = check_cpu(env, c, err, errlen)) < 0)
		return rc;
	char dout[64];
	rc = vmdq_cmd_apply(vmdq_switch_dev(sw), c, dout, sizeof(dout), err, errlen);
	if (rc < 0)
		return rc;
	/* a queue's CPU changed: its vif moves to that CPU's worker */
	if (c->kind == VMDQ_CMD_QUEUE_CPU && env->live &&
	    (rc = vmdq_switch_remap(sw, err, errlen)) < 0)
		return rc;
	if (out && outlen && dout[0])
		snprintf(out, outlen, "%s\n", dout);
	return 0;
}
