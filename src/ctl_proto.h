/* SPDX-License-Identifier: MIT */
/*
 * The control socket's protocol (between `vmdq ctl` and `vmdq switch`).
 * Request: one line, "[-j ]COMMAND\n".  Reply: a status line, "ok\n" or
 * "error: REASON\n", then the command's output; the switch closes the
 * connection after the reply.
 */
#ifndef VMDQ_CTL_PROTO_H
#define VMDQ_CTL_PROTO_H

#define CTL_DEFAULT_SOCKET "/run/vmdq/vmdq.sock"
#define CTL_MAX_REQUEST 4096
#define CTL_TIMEOUT_MS 5000

#endif
