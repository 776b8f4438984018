/* SPDX-License-Identifier: MIT */
/*
 * ports/port.h - the one interface every backend (uplink or vif) implements.
 *
 * A port moves Ethernet frames in bursts between the switch and something
 * outside (a capture, a TAP, a NIC, a VM).  The switch knows a port only
 * through struct port_ops; everything a port keeps is behind p->priv.
 *
 * Threads.  A port is opened and closed by the main worker with every other
 * worker parked (config load, `vif add`, `vif del`, the end).  Between the
 * two, every data-path callback is made by one thread only, the port's
 * owning worker: the main worker for the uplink, the vif's worker for a vif
 * (switch.h).  The control callbacks (status, drops, describe) are made by
 * the main worker while the others are parked, so they read the port's
 * fields without racing its owner.  No callback may block: a port that must
 * wait for its peer returns and is called again next round.
 *
 * Frames.  struct vmdq_frame points at bytes someone else owns:
 *  - what rx returns is the port's: valid until the next rx call on the
 *    same port (whichever pair), never written by the switch;
 *  - what tx is given is the caller's: tx copies what it takes and holds no
 *    pointer into it after it returns.
 *
 * Queue pairs.  A vif may use several (its `queues N`, at most
 * ops->max_queues): pair i is the vif's device queue p->queue + i, its RX
 * queue for frames to the VM and its TX queue for the VM's frames to the
 * wire.  rx is called once per pair per round; a frame it returns leaves
 * through that pair's TX queue.  An uplink and a one-pair vif have pair 0.
 *
 * Level 2 (targeted receive, SPEC 1.6).  A targeted port posts its VM's
 * own buffers on its device queues (vmdq_rxq_post_shared with p->dev,
 * p->queue and p->owner); the device writes frames straight into them and
 * the switch decides on header replicas, then hands the buffers back
 * through complete().  The buffers are the port's to post and the switch's
 * to complete; a buffer the port took back (vmdq_rxq_retract) never comes
 * through complete.  Before its VM's rings or memory change, the port takes
 * its buffers back and asks the worker to hand over the completions still
 * in its queues (service returns PORT_SERVICE_DRAIN): no callback of the
 * port ever calls back into the switch.
 */
#ifndef VMDQ_PORT_H
#define VMDQ_PORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "vmdq/device.h"

struct port;

/* Offloads a port can give (rx: done or recorded as metadata instead of in
 * the frame) or take (tx: left for the port or its peer to do).  None is
 * used yet: every port gives and takes whole, tagged, checksummed frames,
 * and declares 0 (issue 14 adds them without touching the switch's core). */
/* Offload capabilities: the offload library's bits (VMDQ_OFF_CAP_*, what
 * vmdq_off_needs() says a frame needs), plus the VLAN tag as metadata. */
enum port_offload {
	PORT_OFF_CSUM = VMDQ_OFF_CAP_CSUM, /* rx: frames may come with a partial
					    * L4 checksum or one marked verified;
					    * tx: takes partial checksums */
	PORT_OFF_TSO4 = VMDQ_OFF_CAP_TSO4, /* TCP over IPv4 super-frames */
	PORT_OFF_TSO6 = VMDQ_OFF_CAP_TSO6, /* TCP over IPv6 super-frames */
	PORT_OFF_USO = VMDQ_OFF_CAP_USO,   /* UDP segmentation (VMDQ_GSO_UDP_L4) */
	PORT_OFF_ECN = VMDQ_OFF_CAP_ECN,   /* TCP super-frames with CWR */
	PORT_OFF_VLAN = 1u << 5,           /* the 802.1Q tag as metadata */
};

/* What a port can do; filled by open (the switch zeroes it before); a
 * frame size of 0 means the port cannot tell. */
struct port_caps {
	uint32_t max_frame_in;   /* largest frame rx gives (bytes, no FCS) */
	uint32_t max_frame_out;  /* largest frame tx takes whole; a larger one is
				  * refused (counted by the port) */
	uint32_t rx_offloads;    /* enum port_offload bits rx may give */
	uint32_t tx_offloads;    /* enum port_offload bits tx may take */
	/* Offloads (SPEC 5).  rx sets each frame's f->off (all zero for an
	 * ordinary frame) only as rx_offloads allows, and only after
	 * vmdq_off_check() accepted it for that frame (a refused one is
	 * dropped and counted by the port under its reason).  tx is only
	 * given frames whose vmdq_off_needs() are within tx_offloads: the
	 * switch segments super-frames and completes checksums for a port
	 * that cannot take them.  A port whose peer negotiates (vhost-user)
	 * may change both masks in service (owning worker); the switch reads
	 * them on the owning worker before each tx. */
};

/* A port's report on its peer (`vmdq ctl show vifs`), filled by status
 * into storage the caller owns; the port keeps no pointer into it. */
#define PORT_STATUS_MAX 32
struct port_status {
	const char *state;       /* "waiting", "connecting", "connected", "running",
				  * "broken: REASON"; NULL: the port has no peer
				  * to report on (then nothing below is shown) */
	const char *ring;        /* the peer's ring layout ("split", "packed"),
				  * NULL while none is negotiated */
	unsigned n;              /* counters, at most PORT_STATUS_MAX */
	const char *names[PORT_STATUS_MAX];  /* static strings */
	uint64_t vals[PORT_STATUS_MAX];
	char buf[64];            /* room for state, if the port composes it */
	/* live migration (a vhost-user vif's dirty-page log): shown when set */
	struct {
		bool shown;
		bool logging;        /* logging on (VHOST_F_LOG_ALL and a log) */
		uint64_t log_size;   /* bytes of the log's bitmap, 0: no log */
		uint64_t marked;     /* bits the port set that were clear */
		uint64_t beyond;     /* pages written past the log's end */
	} migration;
};

/* What service asks of the worker. */
enum port_service {
	PORT_SERVICE_OK = 0,
	/* The port has taken its shared buffers back from its device queues
	 * and must see the completions still in them (complete) before it can
	 * go on (its VM's rings or memory are about to change).  The worker
	 * drains the vif's queues (a ring's worth each), then calls service
	 * again; at most PORT_SERVICE_DRAINS times a round. */
	PORT_SERVICE_DRAIN = 1,
};
#define PORT_SERVICE_DRAINS 4

struct port_ops {
	const char *kind;        /* the backend's name in config lines */
	bool uplink_ok, vif_ok;  /* where it may be used */
	unsigned max_queues;     /* queue pairs a vif of this kind can use (0 = 1) */

	/* Parses the backend's arguments (the words after its kind) and
	 * acquires its resources; fills p->caps.  The switch has set p->name
	 * and, for a vif, p->dev, p->queue, p->nqueues and p->owner.  Returns
	 * 0, or -errno with a one-line reason in err.  Main worker.  Never
	 * NULL. */
	int (*open)(struct port *p, char **args, int nargs, char *err, size_t errlen);
	/* Releases everything open acquired; also called after a failed open
	 * (p->priv may be NULL).  For a vif, p->dev is NULL by then: its queues
	 * were stopped and emptied (every targeted buffer came back through
	 * complete).  Never fails.  Main worker, others parked.  Never NULL. */
	void (*close)(struct port *p);
	/* Up to n frames from the peer into f[] for queue pair `pair`
	 * (0 .. p->nqueues - 1; 0 for an uplink); see "Frames" for how long
	 * they stay valid.  Returns how many (0: nothing now).  Owning worker.
	 * NULL: the port never receives (the switch skips it). */
	unsigned (*rx)(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n);
	/* Sends up to n frames to the peer, in order, copying them; returns
	 * how many were taken: the rest (f[ret .. n-1]) are the caller's to
	 * count as dropped.  Owning worker.  Never NULL. */
	unsigned (*tx)(struct port *p, const struct vmdq_frame *f, unsigned n);
	/* A descriptor that polls readable when rx may have frames or service
	 * has work, or -1; the worker sleeps on it.  Owning worker.  Never
	 * NULL (return -1). */
	int (*fd)(struct port *p);
	/* True when a finite source (a capture) has nothing more to give.
	 * NULL: never done.  Main worker. */
	bool (*done)(struct port *p);
	/* Frames the kernel dropped before the port could read them (a full
	 * receive ring), accumulated.  NULL: cannot tell (shown as null).
	 * Main worker, others parked. */
	uint64_t (*drops)(struct port *p);
	/* One line on what was opened (mode, queue) for the log.  NULL:
	 * nothing logged.  Main worker, after open. */
	void (*describe)(struct port *p, char *buf, size_t len);

	/* Optional, for ports with a control channel and Level 2 (vhost-user);
	 * NULL: nothing to do. */

	/* Called by the owning worker every round before anything else of the
	 * port (control messages, connection, refilling shared buffers).
	 * now_ns: the round's monotonic clock, 0 if the caller has none.
	 * Returns enum port_service. */
	int (*service)(struct port *p, uint64_t now_ns);
	/* The worker is about to sleep: true if the port has nothing pending
	 * (it may re-enable its peer's notifications first).  NULL: idle.
	 * Owning worker. */
	bool (*idle)(struct port *p);
	/* The round is over: notify the peer once for all of it.  Owning
	 * worker. */
	void (*flush)(struct port *p);
	/* True if the port shares its VM's receive buffers with its device
	 * queues (Level 2): the switch then posts no buffers of its own there
	 * and hands each completion to complete().  Asked once, after open.
	 * NULL: false. */
	bool (*targeted)(struct port *p);
	/* The switch's verdict on n completions of one of the vif's queues
	 * (all from one queue pair): deliver[i] true hands d[i]'s frame to
	 * the VM (no copy), false gives the buffer back (to the device or the
	 * VM: the port's choice).  The descriptors are the port's again when
	 * it returns.  Returns how many were delivered.  Owning worker (the
	 * main worker during vif del, with p->dev NULL).  Must be set when
	 * targeted can return true. */
	unsigned (*complete)(struct port *p, struct vmdq_rxd *d, unsigned n,
			     const bool *deliver);
	/* The peer's state, ring layout and counters for `show vifs` into st
	 * (zeroed by the caller).  Main worker, others parked.  NULL: no peer
	 * to report on. */
	void (*status)(struct port *p, struct port_status *st);
};

struct port {
	const struct port_ops *ops;
	void *priv;                /* the backend's */
	char name[32];
	struct port_caps caps;     /* filled by open */
	/* counted by the port, read by the main worker while others are parked */
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, tx_errors;
	/* set by the switch before open (vifs); p->dev is set to NULL before
	 * close, once the vif's queues are stopped */
	struct vmdq_dev *dev;
	int queue;                 /* the first of nqueues queue pairs */
	unsigned nqueues;
	uint64_t owner;            /* the vif's owner id on its queues */
	/* True while the port's VM is not there: a vhost-user vif without its
	 * guest (not connected, or every ring stopped: GET_VRING_BASE, reset,
	 * a live migration's source).  Only then may the switch let the VM's
	 * MAC move to the wire (DESIGN.md, threat model: a frame from the wire
	 * never takes a live VM's MAC).  Written by the owning worker (release),
	 * read by the main worker (acquire); false for ports that never set it. */
	_Atomic bool peer_gone;
};

/* Appends the counts of frames refused for their offload state, one per
 * named reason (refused[] indexed by enum vmdq_off_err), to st. */
void port_status_off_refused(struct port_status *st, const uint64_t *refused);

/* The backend named kind, or NULL. */
const struct port_ops *port_ops_find(const char *kind);
/* The largest frame interface ifname sends (its MTU, an Ethernet header
 * and one 802.1Q tag), or 0 if it cannot tell.  For open. */
uint32_t port_link_frame_max(const char *ifname);
/* Buffers a port keeps for its whole life (receive slots sized for
 * super-frames): an anonymous mapping without swap reserved, so only the
 * pages frames land on ever exist (malloc may hand out pages already
 * written, or write them itself: MALLOC_PERTURB_).  NULL on failure;
 * port_unmem(NULL, ...) does nothing.  (The switch's own buffers too:
 * vmdq_sw_mem.) */
static inline void *port_mem(size_t bytes)
{
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

static inline void port_unmem(void *m, size_t bytes)
{
	if (m)
		munmap(m, bytes);
}

extern const struct port_ops port_pcap_ops;
extern const struct port_ops port_tap_ops;
extern const struct port_ops port_afpacket_ops;
extern const struct port_ops port_afxdp_ops;
extern const struct port_ops port_vhost_user_ops;
extern const struct port_ops port_dummy_ops;

#endif
