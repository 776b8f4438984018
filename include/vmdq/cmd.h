/* SPDX-License-Identifier: MIT */
/*
 * vmdq/cmd.h - the command language (SPEC 3): one command per line, `#`
 * starts a comment.  The same parser serves config files, `at` schedules and
 * the control socket.
 *
 * Parsing is pure (no device needed) and checks syntax and ranges; applying
 * checks what depends on the device's state (queue count, duplicates, table
 * sizes).  Both report failures as one line of text for the user.
 */
#ifndef VMDQ_CMD_H
#define VMDQ_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "vmdq/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's API: the only symbols libvmdq exports (meson.build builds it
 * with hidden visibility; tests/symbols.sh checks). */
#pragma GCC visibility push(default)

#define VMDQ_ERRMSG_MAX 256

enum vmdq_cmd_kind {
	VMDQ_CMD_NONE,           /* blank line or comment */
	VMDQ_CMD_DEV_PROFILE,
	VMDQ_CMD_DEV_QUEUES,
	VMDQ_CMD_DEV_VMDQ,
	VMDQ_CMD_DEV_DEFAULT_QUEUE,
	VMDQ_CMD_DEV_MAC,
	VMDQ_CMD_DEV_PROMISC,
	VMDQ_CMD_DEV_ALLMULTI,
	VMDQ_CMD_DEV_BROADCAST,
	VMDQ_CMD_DEV_STORE_BAD,
	VMDQ_CMD_DEV_FCS,
	VMDQ_CMD_DEV_MAX_FRAME,
	VMDQ_CMD_DEV_ARBITER,
	VMDQ_CMD_FILTER_ADD,
	VMDQ_CMD_FILTER_DEL,
	VMDQ_CMD_QUEUE_WEIGHT,
	VMDQ_CMD_QUEUE_ITR,
	VMDQ_CMD_QUEUE_CPU,
	VMDQ_CMD_QUEUE_RSS,       /* an extension: VMDq + RSS in a pool */
	VMDQ_CMD_AT,             /* at K COMMAND: `at` and `sub` are set */
};

struct vmdq_cmd {
	enum vmdq_cmd_kind kind;
	uint64_t at;          /* VMDQ_CMD_AT: frame index */
	unsigned num;         /* queue number for QUEUE_*, value otherwise */
	unsigned value;       /* QUEUE_*: the value */
	bool on;              /* on|off commands */
	bool has_mac;         /* FILTER_ADD */
	uint8_t mac[6];
	uint16_t vlan;        /* FILTER_ADD: 0 = none */
	enum vmdq_profile profile;
	enum vmdq_arbiter arbiter;
	struct vmdq_cmd *sub; /* VMDQ_CMD_AT: the command to run (owned) */
};

/* Parses one line.  Returns 0 and fills cmd (kind NONE for a blank line or
 * a comment), or -EINVAL and writes the reason to err.  A VMDQ_CMD_AT
 * result owns cmd->sub: release it with vmdq_cmd_clear(). */
int vmdq_cmd_parse(const char *line, struct vmdq_cmd *cmd, char *err,
		   size_t errlen);
void vmdq_cmd_clear(struct vmdq_cmd *cmd);

/* Applies a device command.  Returns 0 and, for commands that print
 * something (filter add prints the new id), writes it to out (may be NULL);
 * or a negative errno with the reason in err, the device unchanged. */
int vmdq_cmd_apply(struct vmdq_dev *dev, const struct vmdq_cmd *cmd,
		   char *out, size_t outlen, char *err, size_t errlen);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
