/* SPDX-License-Identifier: MIT */
/*
 * vhost/guard.h - survive a guest's memory file shrinking under us.
 *
 * A guest's memory is a file it shares (memfd, hugetlbfs) and the guest
 * keeps a descriptor of it: it may truncate the file after we mapped it.
 * A load or store to a page past the new end of the file then raises
 * SIGBUS, on whatever thread touched it (the port's worker, or the device's
 * sorter writing a targeted frame from the uplink's worker).  Without a
 * handler that kills the process and every VM with it.
 *
 * The guard is one process-wide SIGBUS handler (installed once) and a
 * fixed-size registry of guest mappings.  A SIGBUS whose address lies in a
 * registered mapping replaces that whole mapping with anonymous zero pages
 * (mmap MAP_FIXED), sets the mapping's owner flag and returns: the faulting
 * instruction runs again on zero memory and the owner (the vhost-user
 * port) breaks its vif at its next service.  Any other SIGBUS goes to the
 * handler that was there before ours, or kills the process as it would
 * have without us.  Everything the handler touches is async-signal-safe:
 * atomics on a static array, mmap, sigaction, raise.
 *
 * A memfd sealed against shrinking (F_SEAL_SHRINK) cannot fault like this;
 * such mappings are registered all the same (the guard costs nothing until
 * a fault) and vmdq_guard_add says so (returns 1).
 */
#ifndef VMDQ_GUARD_H
#define VMDQ_GUARD_H

#include <stdatomic.h>
#include <stddef.h>

/* Mappings guarded at once, at most: 8 regions (VU_MAX_REGIONS) of the
 * live table and 8 of the table it replaces, for 4096 vifs (SW_MAX_VIFS,
 * one per device queue). */
#define VMDQ_GUARD_SLOTS (16 * 4096)

/* Guards [addr, addr + len), a MAP_SHARED mapping of fd (fd is looked at
 * for seals only, -1: none).  On a fault in it, *faulted is set to 1 (it
 * must outlive the registration).  Returns 0, 1 (fd sealed against
 * shrinking: guarded all the same) or -ENOSPC / -errno (handler). */
int vmdq_guard_add(void *addr, size_t len, int fd, atomic_uint *faulted);
/* Stops guarding the mapping at addr (before it is unmapped); waits for a
 * handler that is replacing it at that moment.  Unknown addr: nothing. */
void vmdq_guard_del(void *addr);
/* Mappings guarded now (tests). */
unsigned vmdq_guard_count(void);

#endif
