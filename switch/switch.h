/* SPDX-License-Identifier: MIT */
/*
 * switch/switch.h - the virtual switch (SPEC 2) on top of the VMDq device.
 *
 *   uplink port --rx--> vmdq_rx_burst --> RX queue per vif --group--> vif port
 *                                    \--> default queue --FDB/flood--> vif ports
 *   vif port --rx--> anti-spoof --> local vif (VM to VM)
 *                              \--> vif's TX queue --arbiter--> uplink port
 *
 * Port 0 is the uplink, vif i is port i + 1.
 *
 * Workers (SPEC 2, issue 3 point 5).  Worker 0, the main worker, owns the
 * uplink: it reads the wire, sorts (vmdq_rx_burst), switches the default
 * queue through the FDB (a burst classified, then one port tx call per
 * destination), runs the transmit arbiter and ages the FDB.  Every vif belongs to one worker: the worker pinned to the CPU
 * of the vif's queue (`queue Q cpu N`), or the main worker when the queue
 * has no CPU.  A vif's worker polls its RX queue and hands each group to
 * the vif's port, reads the vif's port (anti-spoofing, VM to VM, VM to
 * wire through the vif's TX queue), and drains its inboxes.
 *
 * Nothing on the data path is shared for writing: the device's RX and TX
 * queues are single-producer single-consumer; a frame for a vif of another
 * worker goes through that vif's inbox from this worker (SPSC as well);
 * every counter has one copy per worker and is summed when read; the FDB
 * is the main worker's alone (VM-to-VM lookups use the vif table, which
 * only changes while the workers are parked).  Workers sleep on a doorbell
 * eventfd, their queues' interrupt eventfds and their ports' descriptors.
 *
 * Control calls (vif add/del, uplink, counters) are made from the main
 * worker between polls with the other workers parked (vmdq_switch_park).
 */
#ifndef VMDQ_SWITCH_H
#define VMDQ_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmdq/device.h"
#include "vmdq/fdb.h"
#include "../ports/port.h"

/* The most vifs a switch may have: each needs a device queue of its own (the
 * default queue is nobody's), so the device's queue count bounds it first. */
#define SW_MAX_VIFS VMDQ_MAX_QUEUES
#define SW_RING 256          /* RX descriptors per vif queue */
#define SW_BUF 16448         /* RX buffer: max max-frame + tags + FCS */
#define SW_BUF_SUPER 65600   /* RX buffer behind an uplink that gives super-frames:
			      * VMDQ_MAX_SUPER + FCS, rounded up */
#define SW_TX_SLOTS 256      /* frames a vif may have waiting for the wire */
#define SW_TX_BUF 65600      /* a TX or inbox slot: a super-frame plus the tag the
			      * switch pushes (address space: pages are touched
			      * as frames fill them) */
#define SW_GSO_MAX_SEGS 1366 /* segments one super-frame may make (64 KiB at Linux's
			      * smallest TCP MSS, 48): more is dropped (gso-segs)
			      * where it enters the switch */
#define SW_GSO_BYTES (512u * 1024) /* a worker's scratch for segments and copies */
#define SW_MAX_WORKERS 8
#define SW_INBOX 256         /* frames one worker may have waiting for a vif */
#define SW_MAX_QP 4          /* queue pairs of one vif (virtio-net multiqueue) */

/* Why the switch dropped a frame: one list, the enum and the names (an
 * output format: `show`, JSON keys; add new ones at the end, never rename). */
#define SW_DROPS(X) \
	X(SPOOFED, "spoofed")           /* source MAC not the vif's */ \
	X(TAGGED, "tagged")             /* a tagged frame for/from the untagged domain */ \
	X(WRONG_VLAN, "wrong-vlan")     /* a VLAN other than the vif's access VLAN */ \
	X(NOT_LOCAL, "not-local")       /* from the wire, for a station learned on the wire */ \
	X(NO_VIF, "no-vif")             /* flood or lookup found no vif in that VLAN */ \
	X(TX_FULL, "tx-full")           /* the vif's TX queue was full */ \
	X(TOO_BIG, "too-big")           /* a frame from a VM larger than a TX buffer */ \
	X(PORT_TX, "port-tx")           /* the destination port refused the frame */ \
	X(VIF_GONE, "vif-gone")         /* frames drained from a queue whose vif left */ \
	X(BAD, "bad")                   /* delivered by the device with error bits (store-bad) */ \
	X(HANDOFF_FULL, "handoff-full") /* the vif's inbox from another worker was full */ \
	X(RUNT, "runt")                 /* a frame from a VM shorter than an Ethernet header */ \
	X(GSO_SEGS, "gso-segs")         /* a super-frame that would make more than
					 * SW_GSO_MAX_SEGS segments */

enum sw_drop {
#define SW_DROP_ENUM(e, name) SWD_##e,
	SW_DROPS(SW_DROP_ENUM)
#undef SW_DROP_ENUM
	SWD__COUNT
};
const char *sw_drop_name(enum sw_drop d);

/* A vif's counters; each worker keeps its own copy (sum them to read). */
struct sw_cnt {
	uint64_t to_vm, from_vm, to_wire;
	uint64_t drops[SWD__COUNT];
};

/* Offload counters (SPEC 5), named by the offload library's list. */
enum sw_off_cnt {
#define SW_OFF_ENUM(e, name, what) SWO_##e,
	VMDQ_OFF_COUNTER_LIST(SW_OFF_ENUM)
#undef SW_OFF_ENUM
	SWO__COUNT
};

/* The wire side: every frame polled from a queue is delivered or dropped. */
struct sw_wire_cnt {
	uint64_t polled, delivered, flooded;
	uint64_t drops[SWD__COUNT];
	uint64_t to_wire, tx_drops;
	uint64_t off[SWO__COUNT]; /* super-frames in, segments made,
				   * checksums completed (SPEC 5) */
};

struct vmdq_switch; /* opaque: its members are in switch/internal.h */

/* A switch around dev (which it configures: vmdq on, promiscuous; the
 * config's device lines may change that afterwards).  NULL + errno. */
struct vmdq_switch *vmdq_switch_create(struct vmdq_dev *dev);
void vmdq_switch_destroy(struct vmdq_switch *sw);

/* Opens the uplink: kind and its args (e.g. "pcap", {IN, OUT}). */
int vmdq_switch_set_uplink(struct vmdq_switch *sw, const char *name, const char *kind,
			   char **args, int nargs, char *err, size_t errlen);

struct sw_vif_spec {
	const char *name, *kind;
	char **args;       /* backend arguments */
	int nargs;
	uint8_t mac[6];
	uint16_t vlan;
	int queue;         /* -1: allocate */
	unsigned queues;   /* queue pairs (0 = 1); more than 1 only for ports that
			    * have several (vhost-user: one per virtio queue pair) */
};
/* Adds a vif: opens its port, allocates its queue, adds its filter and FDB
 * entry.  Returns the vif index or -errno (err says why; nothing left). */
int vmdq_switch_vif_add(struct vmdq_switch *sw, const struct sw_vif_spec *spec,
			char *err, size_t errlen);
/* Removes a vif: FDB entries and filters first, then its queue is drained
 * (frames already sorted to it are still delivered to its port, frames
 * waiting for the wire are sent), its buffers reclaimed and the queue freed,
 * then its port is closed.  vif-gone counts only frames that reach a queue
 * with no vif (test_switch vif_del_with_frames_in_flight). */
int vmdq_switch_vif_del(struct vmdq_switch *sw, const char *name, char *err, size_t errlen);
int vmdq_switch_vif_find(const struct vmdq_switch *sw, const char *name);

/* One round of every worker's work in the calling thread: uplink in,
 * queues out, vifs in, wire out.  Returns the number of frames moved (0:
 * idle).  For a switch without worker threads (tests, captures). */
unsigned vmdq_switch_poll(struct vmdq_switch *sw, uint64_t now_ns);
/* One round of worker w's work. */
unsigned vmdq_switch_poll_worker(struct vmdq_switch *sw, int w, uint64_t now_ns);
/* Worker w's round at now moved `work` frames: true when the worker has
 * been idle for SW_SPIN_NS and should sleep (vmdq_switch_wait).  Spinning
 * a little first keeps a busy guest's frames from waiting for a wake-up
 * (and the guest from kicking us on every burst meanwhile). */
#define SW_SPIN_NS 200000ull
bool vmdq_switch_idle(struct vmdq_switch *sw, int w, uint64_t now, unsigned work);
/* Worker w found nothing to do: sleeps until a port, queue interrupt,
 * doorbell or extra_fd (may be -1) has something, or timeout_ms passes. */
void vmdq_switch_wait(struct vmdq_switch *sw, int w, int extra_fd, int timeout_ms);

/* The main worker runs on main_cpu (-1: not pinned).  Queues with a CPU get
 * a worker pinned to it.  Before vmdq_switch_start every worker's work is
 * done by vmdq_switch_poll in the calling thread; start gives the other
 * workers threads.  0 or -errno (err says why). */
int vmdq_switch_set_main_cpu(struct vmdq_switch *sw, int main_cpu);
int vmdq_switch_start(struct vmdq_switch *sw, char *err, size_t errlen);
/* Moves every vif to the worker of its queue's CPU (after `queue Q cpu N`);
 * call with the workers parked. */
int vmdq_switch_remap(struct vmdq_switch *sw, char *err, size_t errlen);
/* Stops the other workers between two rounds / lets them go on.  Called by
 * the main worker around control calls; nests nothing. */
void vmdq_switch_park(struct vmdq_switch *sw);
void vmdq_switch_unpark(struct vmdq_switch *sw);

/* Receive buffers of `bytes` (64 .. SW_BUF_SUPER) for the vifs added from now
 * on instead of SW_BUF, or SW_BUF_SUPER behind an uplink that gives
 * super-frames (set_uplink; a frame larger than a buffer is counted missed by the
 * device).  For benchmarks of small frames: 4095 vifs' rings of SW_BUF
 * buffers span 16 GiB, and each buffer's first write faults a page in.
 * 0 or -EINVAL. */
int vmdq_switch_set_rx_buf(struct vmdq_switch *sw, uint32_t bytes);

/* Counters summed over the workers (call with the workers parked for a
 * consistent picture). */
void vmdq_switch_vif_counters(const struct vmdq_switch *sw, int vi, struct sw_cnt *out);
void vmdq_switch_wire_counters(const struct vmdq_switch *sw, struct sw_wire_cnt *out);
/* True when every finite source is exhausted and nothing is in flight. */
bool vmdq_switch_drained(struct vmdq_switch *sw);

/* ---- queries and settings for the program (src/), in switch/query.c -----
 * src/ reads and writes the switch only through these (its structures are
 * in switch/internal.h, the switch's own).  Call them from the main worker
 * with the other workers parked, as every control call. */

/* A port as the program shows it. */
struct sw_port_info {
	const char *name;         /* valid while the port is */
	const char *kind;         /* its backend: pcap, tap, vhost-user ... */
	uint64_t rx_frames, tx_frames, tx_errors;
	bool has_kernel_drops;    /* the backend counts what its kernel side dropped */
	uint64_t kernel_drops;
	bool finite;              /* a source that ends (a capture) */
};

/* A vif's place in the switch. */
struct sw_vif_info {
	struct sw_port_info port;
	uint8_t mac[6];
	uint16_t vlan;            /* access VLAN, 0 = untagged domain */
	int queue;                /* its first queue pair */
	unsigned nq;              /* queue pairs (1 or more) */
	int worker;               /* the worker that owns it */
	bool targeted;            /* its port shares the VM's buffers */
};


struct vmdq_dev *vmdq_switch_dev(const struct vmdq_switch *sw);
struct vmdq_fdb *vmdq_switch_fdb(const struct vmdq_switch *sw);
int vmdq_switch_nworkers(const struct vmdq_switch *sw);
/* Frames per second the uplink takes (0: all it can). */
uint64_t vmdq_switch_tx_rate(const struct vmdq_switch *sw);
void vmdq_switch_set_tx_rate(struct vmdq_switch *sw, uint64_t fps);
/* false when the switch has no uplink (out untouched). */
bool vmdq_switch_uplink_info(const struct vmdq_switch *sw, struct sw_port_info *out);
/* The first vif index after `after` that is in use (-1 to start), or -1. */
int vmdq_switch_vif_next(const struct vmdq_switch *sw, int after);
/* 0, or -ENOENT when vif vi is not in use. */
int vmdq_switch_vif_info(const struct vmdq_switch *sw, int vi, struct sw_vif_info *out);
/* The VM's side of a vif's port (vhost-user): its status callback's report
 * (ports/port.h); out->state is NULL for a port that has none. */
void vmdq_switch_vif_status(const struct vmdq_switch *sw, int vi, struct port_status *out);
/* The vif that owns queue q, or -1. */
int vmdq_switch_queue_vif(const struct vmdq_switch *sw, unsigned q);
/* The name of FDB port p (0: the uplink, i + 1: vif i); NULL if none. */
const char *vmdq_switch_port_name(const struct vmdq_switch *sw, unsigned p);

#endif
