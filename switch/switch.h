/* SPDX-License-Identifier: MIT */
/*
 * switch/switch.h - the virtual switch (SPEC 2) on top of the VMDq device.
 *
 *   uplink port --rx--> vmdq_rx_burst --> RX queue per vif --group--> vif port
 *                                    \--> default queue --FDB/flood--> vif ports
 *   vif port --rx--> anti-spoof --> local vif (VM to VM)
 *                              \--> vif's TX queue --arbiter--> uplink port
 *
 * Port 0 is the uplink, vif i is port i + 1.  The switch is driven by one
 * worker thread (vmdq_switch_poll); configuration calls are made from the
 * same thread between polls (the daemon's control requests are handed to the
 * worker), so switch state needs no locks.  The device's filter tables are
 * published by the device itself (RCU).
 */
#ifndef VMDQ_SWITCH_H
#define VMDQ_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmdq/device.h"
#include "vmdq/fdb.h"
#include "../ports/port.h"

#define SW_MAX_VIFS 64
#define SW_RING 256          /* RX descriptors per vif queue */
#define SW_BUF 16448         /* RX buffer: max max-frame + tags + FCS */
#define SW_TX_SLOTS 256      /* frames a vif may have waiting for the wire */
#define SW_TX_BUF 9216

enum sw_drop {
	SWD_SPOOFED,        /* source MAC not the vif's */
	SWD_TAGGED,         /* a tagged frame for/from the untagged domain */
	SWD_WRONG_VLAN,     /* a VLAN other than the vif's access VLAN */
	SWD_NOT_LOCAL,      /* from the wire, for a station learned on the wire */
	SWD_NO_VIF,         /* flood or lookup found no vif in that VLAN */
	SWD_TX_FULL,        /* the vif's TX queue was full */
	SWD_TOO_BIG,        /* a frame from a VM larger than a TX buffer */
	SWD_PORT_TX,        /* the destination port refused the frame */
	SWD_VIF_GONE,       /* frames drained from a queue whose vif left */
	SWD_BAD,            /* delivered by the device with error bits (store-bad) */
	SWD__COUNT
};
const char *sw_drop_name(enum sw_drop d);

struct sw_vif {
	struct port port;
	bool used;
	uint8_t mac[6];
	uint16_t vlan;      /* access VLAN, 0 = untagged domain */
	int queue;
	uint32_t filter_id;
	uint8_t *rxmem;     /* SW_RING buffers of SW_BUF */
	uint8_t *txmem;     /* SW_TX_SLOTS buffers of SW_TX_BUF */
	uint64_t tx_posted, tx_done;
	uint64_t to_vm, from_vm, to_wire;
	uint64_t drops[SWD__COUNT];
};

struct vmdq_switch {
	struct vmdq_dev *dev;
	struct port uplink;
	bool has_uplink;
	struct sw_vif vif[SW_MAX_VIFS];
	int16_t queue_vif[VMDQ_MAX_QUEUES]; /* -1: no vif */
	struct vmdq_fdb *fdb;
	uint8_t *defmem;    /* the default queue's buffers */
	unsigned default_queue;
	uint64_t age_ns;
	uint64_t last_age_ns;
	/* wire side: every frame polled from a queue is delivered or dropped */
	uint64_t wire_polled, wire_delivered, wire_flooded;
	uint64_t wire_drops[SWD__COUNT];
	uint64_t to_wire, wire_tx_drops;
};

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
};
/* Adds a vif: opens its port, allocates its queue, adds its filter and FDB
 * entry.  Returns the vif index or -errno (err says why; nothing left). */
int vmdq_switch_vif_add(struct vmdq_switch *sw, const struct sw_vif_spec *spec,
			char *err, size_t errlen);
/* Removes a vif: filter and FDB entries first, then drains and frees its
 * queue (frames still in it are counted as vif-gone), then closes its port. */
int vmdq_switch_vif_del(struct vmdq_switch *sw, const char *name, char *err, size_t errlen);
int vmdq_switch_vif_find(const struct vmdq_switch *sw, const char *name);

/* One round of work: uplink in, queues out, vifs in, wire out.  Returns the
 * number of frames moved (0: idle). */
unsigned vmdq_switch_poll(struct vmdq_switch *sw, uint64_t now_ns);
/* True when every finite source is exhausted and nothing is in flight. */
bool vmdq_switch_drained(struct vmdq_switch *sw);

#endif
