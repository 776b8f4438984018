/* SPDX-License-Identifier: MIT */
/*
 * vmdq/cmd.h - the command language (SPEC 3): one command per line, `#`
 * starts a comment.  The same parser serves config files, `at` schedules and
 * the control socket: the device's commands and the switch's (`uplink`,
 * `vif`), one tokenizer, one set of reasons.  A reason is printed as
 * `FILE:LINE: reason` for a config file and `error: reason` on the control
 * socket.
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
#define VMDQ_CMD_MAX_WORDS 32     /* words in one line */
#define VMDQ_CMD_MAX_LINE 1024    /* characters in one line */
#define VMDQ_VIF_MAX_QP 4         /* `queues N` of a vif: 1..this */
#define VMDQ_TXRATE_MAX 100000000 /* `txrate FPS`: frames per second */

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
	/* the switch's commands (vmdq switch only; vmdq_cmd_apply refuses them) */
	VMDQ_CMD_UPLINK,         /* uplink NAME KIND ARGS... [txrate FPS] */
	VMDQ_CMD_UPLINK_TXRATE,  /* uplink txrate FPS (0: unlimited) */
	VMDQ_CMD_VIF_ADD,        /* vif NAME KIND ARGS... mac MAC [vlan VID]
				  * [queue Q] [queues N] */
	VMDQ_CMD_VIF_DEL,        /* vif del NAME */
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
	/* UPLINK, VIF_ADD (mac and vlan above), VIF_DEL: the strings point into
	 * words, owned by the command */
	char *name;           /* the port's name */
	char *backend;        /* its kind: pcap, tap, afpacket, afxdp, vhost-user */
	char *args[VMDQ_CMD_MAX_WORDS]; /* the backend's own words, in order */
	int nargs;
	int queue;            /* VIF_ADD: its first queue, -1 = allocate */
	unsigned queues;      /* VIF_ADD: queue pairs, 0 = 1 */
	uint64_t txrate;      /* UPLINK (0: unlimited), UPLINK_TXRATE */
	char *words;          /* owned storage */
};

/* Parses one line.  Returns 0 and fills cmd (kind NONE for a blank line or
 * a comment), or -EINVAL and writes the reason to err.  A command may own
 * memory (cmd->sub, cmd->words): release it with vmdq_cmd_clear(). */
int vmdq_cmd_parse(const char *line, struct vmdq_cmd *cmd, char *err,
		   size_t errlen);
void vmdq_cmd_clear(struct vmdq_cmd *cmd);
/* True for the switch's commands (uplink, vif): only a switch applies them. */
bool vmdq_cmd_is_switch(const struct vmdq_cmd *cmd);

/* The tokenizer every command goes through, for a caller that has words of
 * its own to read first (the control socket's `show`): splits line into at
 * most max words (in buf, of buflen bytes), drops a `#` comment.  Returns
 * the number of words, or -EINVAL with the reason in err. */
int vmdq_cmd_words(const char *line, char *buf, size_t buflen, char **words, int max,
		   char *err, size_t errlen);

/* Applies a device command.  Returns 0 and, for commands that print
 * something (filter add prints the new id), writes it to out (may be NULL);
 * or a negative errno with the reason in err, the device unchanged.  The
 * switch's commands are refused here: vmdq switch applies them. */
int vmdq_cmd_apply(struct vmdq_dev *dev, const struct vmdq_cmd *cmd,
		   char *out, size_t outlen, char *err, size_t errlen);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
