/* SPDX-License-Identifier: MIT */
/*
 * ports/port.h - the one interface every backend (uplink or vif) implements.
 *
 * A port moves Ethernet frames in bursts.  Contract of each callback:
 *  - open: parse the backend's arguments (the words after its kind in the
 *    config line), acquire the resource; 0, or -errno with a reason in err.
 *  - close: release everything open acquired (may be called after a failed
 *    open); never fails.
 *  - rx: up to n frames into f[]; their data stays valid until the next rx
 *    call on this port.  Returns how many (0: nothing now).  May be NULL for
 *    a port that never receives.
 *  - tx: sends up to n frames, copying them (the caller's buffers are free
 *    again when tx returns); returns how many were taken, the rest are the
 *    caller's to count as dropped.
 *  - fd: a descriptor that polls readable when rx has frames, or -1.
 *  - done: true when a finite source (a capture) has nothing more to give;
 *    NULL means never done.
 *  - drops: frames the kernel dropped before the port could read them
 *    (a full receive ring), accumulated; NULL if it cannot tell.
 *  - describe: one line on what was opened (mode, queue), for the log; may
 *    be NULL.
 *
 * Optional, for ports with a control channel and Level 2 (vhost-user):
 *  - service: called by the owning worker every round before anything else
 *    (control messages, connection, refilling shared buffers).
 *  - idle: the worker is about to sleep; true if the port has nothing
 *    pending (it may re-enable its peer's notifications first).
 *  - flush: the round is over: notify the peer once for all of it.
 *  - targeted: true if the port shares its VM's receive buffers with the
 *    device queue (p->dev, p->queue, p->owner, set before open): the switch
 *    then posts no buffers of its own on that queue.
 *  - complete: the switch's verdict on n targeted completions: deliver[i]
 *    true hands d[i] to the VM (no copy), false gives the buffer back to
 *    the device.  Returns how many were delivered.
 *  - state: a word on the port's peer ("connected", "waiting", "broken:
 *    loop", ...) and counters for `show vifs` (names NULL-terminated).
 *  - ring: the layout of the peer's virtqueues ("split", "packed"), NULL
 *    while none is negotiated.
 * The switch sets drain_rx before open: the port calls it (from service)
 * to have every completion already in its queues handed over now.
 *
 * Several queue pairs (ops->max_queues > 1, a vif's `queues N`): the vif
 * owns device queues queue .. queue + nqueues - 1; rx sets rx_pair to the
 * pair a burst came from (its frames leave through that pair's TX queue);
 * complete is called with the completions of one queue at a time.
 */
#ifndef VMDQ_PORT_H
#define VMDQ_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmdq/device.h"

struct port;

struct port_ops {
	const char *kind;
	bool uplink_ok, vif_ok;
	unsigned max_queues;   /* queue pairs a vif of this kind can use (0 = 1) */
	int (*open)(struct port *p, char **args, int nargs, char *err, size_t errlen);
	void (*close)(struct port *p);
	unsigned (*rx)(struct port *p, struct vmdq_frame *f, unsigned n);
	unsigned (*tx)(struct port *p, const struct vmdq_frame *f, unsigned n);
	int (*fd)(struct port *p);
	bool (*done)(struct port *p);
	uint64_t (*drops)(struct port *p);
	void (*describe)(struct port *p, char *buf, size_t len);
	int (*service)(struct port *p, uint64_t now_ns);
	bool (*idle)(struct port *p);
	void (*flush)(struct port *p);
	bool (*targeted)(struct port *p);
	unsigned (*complete)(struct port *p, struct vmdq_rxd *d, unsigned n,
			     const bool *deliver);
	const char *(*state)(struct port *p, const char *const **names,
			     const uint64_t **vals, unsigned *n);
	const char *(*ring)(struct port *p);
};

struct port {
	const struct port_ops *ops;
	void *priv;
	char name[32];
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, tx_errors;
	/* set by the switch before open (vifs) */
	struct vmdq_dev *dev;
	int queue;             /* the first of nqueues queue pairs */
	unsigned nqueues;
	unsigned rx_pair;      /* set by rx: the queue pair its frames came from */
	uint64_t owner;
	void (*drain_rx)(struct port *p);
	void *sw;
};

const struct port_ops *port_ops_find(const char *kind);

extern const struct port_ops port_pcap_ops;
extern const struct port_ops port_tap_ops;
extern const struct port_ops port_afpacket_ops;
extern const struct port_ops port_afxdp_ops;
extern const struct port_ops port_vhost_user_ops;
extern const struct port_ops port_dummy_ops;

#endif
