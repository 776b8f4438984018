/* SPDX-License-Identifier: MIT */
/*
 * ports/dummy.h - the in-memory port's handle, for unit tests and
 * benchmarks: `dummy [targeted] [capacity N] [offload LIST]`.
 *
 * A dummy port moves frames between the switch and the test that drives
 * it, through memory only:
 *
 *   test --vmdq_dummy_inject--> [rx ring] --rx--> switch
 *   switch --tx--> [sent store] --vmdq_dummy_frame--> test
 *   switch --complete (targeted)--> [sent store]
 *
 * offload LIST (csum,tso4,tso6,uso,ecn) declares those offloads both ways
 * (caps) and makes slots hold super-frames (VMDQ_DUMMY_SUPER_SLOT).
 *
 * capacity N (default 256, 0..65536) bounds both the frames injected and
 * not yet read by the switch, and the frames kept in the sent store.  With
 * capacity 0 the port keeps nothing: tx takes every frame and only counts
 * it (a sink for benchmarks).  Otherwise tx refuses what would not fit in
 * the store (a full receiver: the switch counts port-tx), and what the test
 * allows with vmdq_dummy_set_room (backpressure).  Slots hold frames of up
 * to VMDQ_DUMMY_SLOT bytes; the memory is reserved when the port opens and
 * only the pages a frame touches become resident.
 *
 * targeted (a vif only): the port shares its "VM" memory with its device
 * queue as vhost-user's targeted receive does.  VMDQ_DUMMY_GUEST_BUFS
 * buffers of VMDQ_DUMMY_GUEST_BUF bytes, filled with VMDQ_DUMMY_FILL when
 * the port opens, are posted on the queue (vmdq_rxq_post_shared) on every
 * service call and by vmdq_dummy_refill.  complete() copies each delivered
 * frame into the sent store (what the VM received) and posts every buffer
 * again at once, delivered or refused, while the port still has its queue.
 * Frames the switch copies to the port (tx: floods, VM to VM, inboxes) land
 * in the sent store too.
 *
 * Descriptor: fd() is an eventfd, readable from the first frame injected
 * (or replay turned on) until the next rx call, so an idle dummy vif goes
 * cold like any port with a descriptor and wakes when the test injects.
 *
 * Threads: a dummy is not thread-safe.  Inject into it and read it only
 * from the thread that drives the switch (vmdq_switch_poll or
 * vmdq_switch_poll_worker, or with the workers parked).
 *
 * Handles.  Every open dummy is found by name (vmdq_dummy_find, the most
 * recently opened of that name) and vmdq_dummy_last gives the one opened
 * last (e.g. right after vmdq_switch_vif_add).  A handle is freed when its
 * port closes, unless the test holds it (vmdq_dummy_hold): it then keeps its
 * counters and sent store after the close (e.g. to count what a vif del
 * handed over) until vmdq_dummy_forget.
 */
#ifndef VMDQ_PORT_DUMMY_H
#define VMDQ_PORT_DUMMY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"

#define VMDQ_DUMMY_SLOT 16448      /* bytes a stored frame may have */
#define VMDQ_DUMMY_SUPER_SLOT 65600 /* ... with `offload LIST` (super-frames) */
#define VMDQ_DUMMY_GUEST_BUFS 256  /* targeted: the VM's receive buffers */
#define VMDQ_DUMMY_GUEST_BUF 2048  /* bytes each */
#define VMDQ_DUMMY_HDR 32          /* targeted: the header replica */
#define VMDQ_DUMMY_FILL 0xcc       /* targeted: the VM memory's first bytes */
#define VMDQ_DUMMY_UNLIMITED UINT64_MAX

struct vmdq_dummy;

struct vmdq_dummy_stats {
	uint64_t injected;        /* frames vmdq_dummy_inject took */
	uint64_t rx_calls, rx_frames;
	uint64_t tx_calls;        /* calls of tx, whatever they took */
	uint64_t tx_frames;       /* frames tx took */
	uint64_t tx_refused;      /* frames tx refused (room, full store) */
	uint64_t tx_most;         /* the most frames one tx call was given */
	/* targeted */
	uint64_t complete_calls, complete_most; /* calls, the biggest n */
	uint64_t delivered;       /* deliver[i] true and taken */
	uint64_t refused;         /* deliver[i] false: the buffer went back */
	uint64_t not_taken;       /* deliver[i] true, refused by room or store */
	uint64_t posted;          /* buffers posted on the device queue */
};

/* The dummy of that name opened last and still open, or NULL. */
struct vmdq_dummy *vmdq_dummy_find(const char *name);
/* The dummy opened last (open or held), or NULL. */
struct vmdq_dummy *vmdq_dummy_last(void);
/* The dummy behind a port (NULL if p is not a dummy). */
struct vmdq_dummy *vmdq_dummy_of(struct port *p);
/* Keeps d after its port closes, until vmdq_dummy_forget. */
void vmdq_dummy_hold(struct vmdq_dummy *d);
/* Frees every held dummy whose port has closed. */
void vmdq_dummy_forget(void);
bool vmdq_dummy_is_open(const struct vmdq_dummy *d);

/* Queues one frame for the switch to read (rx).  0, -ENOSPC (capacity
 * frames waiting), -EMSGSIZE (past VMDQ_DUMMY_SLOT) or -EPIPE (closed). */
int vmdq_dummy_inject(struct vmdq_dummy *d, const void *frame, uint32_t len);
/* The same with offload state (the test's to make valid: the dummy does
 * not check it). */
int vmdq_dummy_inject_off(struct vmdq_dummy *d, const void *frame, uint32_t len,
			  const struct vmdq_offload *off);
/* With on, rx gives the injected frames over and over (a traffic source
 * that never runs dry and costs the switch no copy); done is then false. */
void vmdq_dummy_replay(struct vmdq_dummy *d, bool on);
/* Frames injected and not read yet (replay: all of them). */
unsigned vmdq_dummy_waiting(const struct vmdq_dummy *d);
/* Forgets the frames waiting (e.g. a replayed set, to inject another);
 * the next inject may overwrite what the last rx call gave out. */
void vmdq_dummy_discard(struct vmdq_dummy *d);

/* Frames in the sent store, oldest first; frame i's data and length
 * (NULL past the end).  Valid until vmdq_dummy_clear or the next forget. */
unsigned vmdq_dummy_sent(const struct vmdq_dummy *d);
const uint8_t *vmdq_dummy_frame(const struct vmdq_dummy *d, unsigned i, uint32_t *len);
/* Frame i's offload state as the port was given it (NULL past the end). */
const struct vmdq_offload *vmdq_dummy_frame_off(const struct vmdq_dummy *d, unsigned i);
/* Empties the sent store. */
void vmdq_dummy_clear(struct vmdq_dummy *d);
/* tx (and complete) take at most n more frames, then refuse until the
 * room is set again; VMDQ_DUMMY_UNLIMITED (the default) lifts the bound. */
void vmdq_dummy_set_room(struct vmdq_dummy *d, uint64_t n);

void vmdq_dummy_stats(const struct vmdq_dummy *d, struct vmdq_dummy_stats *out);

/* Targeted: posts every free VM buffer on the device queue now (the port
 * does it on each service call anyway); returns how many it posted. */
unsigned vmdq_dummy_refill(struct vmdq_dummy *d);
/* Targeted: the VM's memory (VMDQ_DUMMY_GUEST_BUFS * VMDQ_DUMMY_GUEST_BUF
 * bytes), NULL otherwise or once closed. */
const uint8_t *vmdq_dummy_guest(const struct vmdq_dummy *d, size_t *len);
/* The port's first device queue (a vif), -1 for an uplink or once closed. */
int vmdq_dummy_queue(const struct vmdq_dummy *d);

#endif
