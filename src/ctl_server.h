/* SPDX-License-Identifier: MIT */
/*
 * The control server of vmdq switch (the protocol: ctl_proto.h).  A thread
 * of its own serves the clients; the requests run in the main worker,
 * which calls ctl_serve between two polls and wakes for ctl_wake_fd.
 */
#ifndef VMDQ_CTL_SERVER_H
#define VMDQ_CTL_SERVER_H

#include <stddef.h>

struct ctl;
struct apply_env;

/* Listens on path (which must outlive the server) and starts the control
 * thread; requests apply to env.  NULL with the reason in err. */
struct ctl *ctl_open(const char *path, struct apply_env *env, char *err, size_t errlen);
/* The main worker: runs the request waiting, if any (c may be NULL). */
void ctl_serve(struct ctl *c);
/* Readable when a request waits for the main worker (-1 for NULL). */
int ctl_wake_fd(const struct ctl *c);
/* Stops the control thread (a request in flight still gets its answer),
 * closes and removes the socket.  c may be NULL. */
void ctl_close(struct ctl *c);

#endif
