/* SPDX-License-Identifier: MIT */
/*
 * The one `apply` of the switch: every command of the language (vmdq/cmd.h),
 * device and switch alike, from the config file and from the control
 * socket.  The caller prints the reason: `FILE:LINE: reason` for a config
 * line, `error: reason` on the control socket.
 */
#ifndef VMDQ_APPLY_H
#define VMDQ_APPLY_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "vmdq/cmd.h"

struct vmdq_switch;

struct apply_env {
	struct vmdq_switch *sw;
	cpu_set_t cpus;       /* the CPUs the switch may run on (checked by `queue Q cpu N`) */
	bool live;            /* the vifs have their workers: `queue Q cpu N` moves one now
			       * (while the config is read, they are placed once at the end) */
};

/* Applies c (`at` is refused; NONE does nothing) with the other workers
 * parked.  0, with the command's output (if any, newline-ended) in out; or
 * a negative errno with the reason in err and nothing changed (but for a
 * `queue Q cpu N` whose vif then cannot move to that CPU's worker: the
 * queue keeps its CPU, as before the one apply). */
int switch_apply(struct apply_env *env, const struct vmdq_cmd *c, char *out, size_t outlen,
		 char *err, size_t errlen);

#endif
