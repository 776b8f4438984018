/* SPDX-License-Identifier: MIT */
/*
 * The control socket's protocol (between `vmdq ctl` and `vmdq switch`).
 * Request: one line, "[-j ]COMMAND\n".  Reply: a status line, "ok\n" or
 * "error: REASON\n", then the command's output; the switch closes the
 * connection after the reply.
 *
 * A batch (`vmdq ctl -f FILE`): the line "-f", then the commands one per
 * line up to the end of the client's stream (it shuts down its side):
 * CTL_MAX_BATCH bytes and CTL_MAX_BATCH_CMDS commands at most.  Every line
 * is parsed first (one bad line refuses the lot: "error: LINE: REASON",
 * LINE counted from 1 after "-f"); then the commands run in order, with the
 * other workers parked for CTL_BATCH_CHUNK commands at a time (the switch
 * forwards in between), up to the first one refused ("error: LINE:
 * REASON"; the ones before it stay done).  The output: that of every
 * command that ran, in order.
 *
 * The switch bounds what a client may hold (SPEC 4): CTL_MAX_CLIENTS
 * connections at a time (a newcomer past it closes the one idle longest),
 * CTL_MAX_REQUEST bytes for the request line, which must be complete within
 * CTL_TIMEOUT_MS of the connection, and CTL_TIMEOUT_MS for the client to
 * take its whole reply.
 */
#ifndef VMDQ_CTL_PROTO_H
#define VMDQ_CTL_PROTO_H

#define CTL_DEFAULT_SOCKET "/run/vmdq/vmdq.sock"
#define CTL_MAX_REQUEST 4096
#define CTL_TIMEOUT_S 5
#define CTL_TIMEOUT_MS (CTL_TIMEOUT_S * 1000)
#define CTL_MAX_CLIENTS 16
#define CTL_BATCH_HDR "-f"
#define CTL_MAX_BATCH 1048576
#define CTL_MAX_BATCH_CMDS 4096
#define CTL_BATCH_CHUNK 64
#define CTL_STR_(x) #x
#define CTL_STR(x) CTL_STR_(x)

#endif
