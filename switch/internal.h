/* SPDX-License-Identifier: MIT */
/*
 * switch/internal.h - the switch's own structures, shared by its files and
 * seen by nobody else (switch/switch.h keeps struct vmdq_switch opaque).
 *
 * Who may write each field (netmap style tags, in the field's comment):
 *   (c) at create (or at open, for a vif: before the vif is in the table)
 *   (m) the main worker (worker 0): control calls, uplink, default queue,
 *       FDB, arbiter
 *   (o) the vif's owning worker, on the data path
 *   (p) the main worker while every other worker is parked (vif add/del,
 *       remap, worker made); the others read it without locks
 *   (w) worker w on its own struct sw_worker (its counters, its doorbell set)
 *   (a) atomic: the comment says who writes it and what it pairs with
 * Files, along the white paper's data flow:
 *   switch.c   - the switch itself: create, uplink, counters
 *   vif.c      - a vif's life: add (one unwind path), del, the vif table
 *   forward.c  - wire -> VMs: groups from the vifs' queues, the default
 *                queue through the FDB, floods, inboxes handed over
 *   transmit.c - VM -> wire and VM -> VM: anti-spoofing, TX queues, the
 *                arbiter and the txrate
 *   worker.c   - rounds, sleeping and waking, threads, parking
 *   handoff.h  - inboxes and doorbells between workers
 */
#ifndef VMDQ_SWITCH_INTERNAL_H
#define VMDQ_SWITCH_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "switch.h"

#define UPLINK_PORT 0
#define VIF_PORT(i) ((i) + 1)
/* The FDB: what the wire may learn, and room for every vif's own entry
 * (the wire never takes the vifs' room); a vif learns nothing today, and
 * would learn a VM's few MACs. */
#define SW_FDB_UPLINK_LEARN 16384
#define SW_FDB_ENTRIES (SW_FDB_UPLINK_LEARN + SW_MAX_VIFS)
#define SW_FDB_VIF_LEARN 64  /* entries one vif may have learned */
#define SW_AGE_SLOTS 4096    /* FDB slots one round's ageing examines */
#define SW_VLANS 4096
#define SW_COLD_ROUNDS 64
#define SW_COLD_EVERY 32
#define BURST 32

/* Frames for a vif from one other worker: a single-producer
 * single-consumer ring of copies (switch/handoff.h).  One mapping: this
 * header, then SW_INBOX slots of SW_TX_BUF; made for the workers that
 * exist, touched only when used. */
struct sw_inbox {
	_Atomic uint32_t head;  /* (a) consumer (the vif's worker), release: slots free */
	_Atomic uint32_t tail;  /* (a) producer (worker of this index), release: slots full */
	bool listed;            /* (producer) in its worker's `full` list */
	bool signal;            /* (producer) in its worker's `sig` list: the vif's
				 * worker is told at the end of the producer's round */
	uint32_t len[SW_INBOX]; /* (producer) slot's frame, before tail moves */
	uint64_t ts[SW_INBOX];
	struct vmdq_offload off[SW_INBOX]; /* (producer) */
};

/* Frames for a vif of this worker collected during one burst, handed to
 * its port in one call when the burst is done (VALE's way). */
struct sw_batch {
	unsigned n;                 /* (o) */
	struct vmdq_frame f[BURST]; /* (o) */
	uint8_t src[BURST];         /* (o) the frame of the burst each came from */
};

struct sw_vif {
	struct port port;   /* (c) opened by vif add; the port's own fields: (o) */
	int idx;            /* (c) its index in the vif table; its port is VIF_PORT(idx) */
	bool used;          /* (p) in the table and ready */
	uint8_t mac[6];     /* (c) */
	uint16_t vlan;      /* (c) access VLAN, 0 = untagged domain */
	int queue;          /* (c) its first queue pair; pair i is queue + i */
	unsigned nq;        /* (c) queue pairs: 1, or one per virtio queue pair */
	int worker;         /* (p) the worker that owns it */
	bool targeted;      /* (c) its port shares the VM's buffers (Level 2) */
	uint32_t filter_id; /* (c) */
	/* Its VM left (live migration): its MAC was seen on the wire while its
	 * port said the VM was gone (port.peer_gone), so its FDB entry moved
	 * to the uplink and the VMs here reach that MAC through the wire
	 * (vmdq_sw_vif_lookup skips it while the VM is still gone).  (a)
	 * written by the main worker (release), read by every worker. */
	_Atomic bool away;
	uint32_t key_hash;  /* (c) keyed hash of (MAC, VLAN) */
	uint32_t name_hash; /* (c) */
	/* A round visits only the vifs on its worker's active list (`act`):
	 * a vif whose port is warm stays there; a cold one comes when its
	 * queues or inboxes got frames (the worker's `pend` bitmap), its
	 * descriptor is readable, or the cold sweep picks it, and stays only
	 * while its visit left something behind (`more`).  A port whose
	 * visits saw no frames either way for SW_COLD_ROUNDS visits, that
	 * says so (idle) and has a descriptor goes cold: the descriptor goes
	 * into its worker's epoll and its rx is called only when the
	 * descriptor woke it or the sweep picked it (frames to it are
	 * delivered whenever they come); it is warm again when its rx gives
	 * frames, or when it is handed frames again within SW_COLD_ROUNDS
	 * rounds of the last time (doc/DESIGN.md: cold vifs and idle). */
	bool active;        /* (o) on its worker's act list (set for all by reindex, (p)) */
	bool more;          /* (o) its last visit left frames behind (a drain's limit,
			     * backpressure): visited again next round */
	bool cold;          /* (o) its port's descriptor is in its worker's epoll */
	int cold_fd;        /* (o) that descriptor */
	bool wake;          /* (o) call its port's rx at its next visit (the descriptor
			     * was readable, or the sweep) */
	bool flush_due;     /* (o) on its worker's flush list: its port got frames or was
			     * served this round */
	uint32_t idle_rounds; /* (o) visits with no frames either way, in a row */
	uint32_t given_round; /* (o) its worker's round when frames were last handed to it */
	uint32_t rx_buf;    /* (c) bytes of each of its receive buffers */
	uint8_t *rxmem;     /* (c) nq * SW_RING buffers of rx_buf; NULL when targeted */
	uint8_t *txmem;     /* (c) nq * SW_TX_SLOTS buffers of SW_TX_BUF */
	struct sw_inbox *inbox[SW_MAX_WORKERS]; /* (p) by producing worker; NULL: none */
	struct sw_batch batch;                  /* (o) */
	struct sw_cnt c[SW_MAX_WORKERS];       /* (w) copy w written by worker w only */
	struct sw_txp {     /* one per TX queue of the vif (nq of them) */
		uint64_t posted;             /* (o) */
		struct vmdq_txd pend[BURST]; /* (o) to_wire's frames of the burst, not posted yet */
		unsigned npend;              /* (o) */
		_Atomic uint64_t done;       /* (a) main worker, release after the wire took a
					      * slot; owner acquires before reusing it */
	} tx[];
};

#define SW_PEND_WORDS (VMDQ_MAX_QUEUES / 64)

struct sw_worker {
	/* Bit q: queue q has something for this worker: set by the device
	 * when it placed frames on a vif queue (vmdq_rxq_set_notify), and by
	 * another worker at the end of a round in which it pushed frames into
	 * an inbox of the vif whose first queue is q (signal_inboxes).  (a):
	 * both set it with an atomic OR (release) after publishing the frames;
	 * the worker takes a word with an exchange (acquire), then looks. */
	uint64_t pend[SW_PEND_WORDS] __attribute__((aligned(64)));
	int id;             /* (c) */
	int cpu;            /* (p) pinned there; -1: not pinned */
	bool running;       /* (m) has its own thread */
	pthread_t thread;   /* (m) */
	int efd;            /* (c) doorbell */
	_Atomic bool sleeping; /* (a) the worker itself; seq_cst fences in
				* vmdq_switch_wait and ring_doorbells pair */
	_Atomic bool parked;   /* (a) the worker itself, under park_mu */
	uint32_t ring;      /* (w) doorbells to ring after this round (bit per worker) */
	uint64_t idle_since; /* (w) first idle round since the last work (0: busy) */
	struct sw_wire_cnt wc; /* (w) */
	/* arrays of vif_cap entries (vmdq_switch_wait's: per queue and port) */
	struct sw_vif **vifs;    /* (p) the nvifs vifs it owns */
	unsigned nvifs;          /* (p) */
	struct sw_vif **full;    /* (w) vifs whose inbox from it has less than a burst free */
	unsigned nfull;          /* (w) */
	struct sw_vif **touched; /* (w) vifs with a batch in this burst */
	unsigned ntouched;       /* (w) */
	struct sw_vif **act;     /* (w) the vifs the next round visits; (p) reindex */
	unsigned nact;           /* (w) */
	struct sw_vif **flushq;  /* (w) vifs whose port is to be flushed after the round */
	unsigned nflush;         /* (w) */
	struct sw_vif **sig;     /* (w) vifs it pushed frames to this round (another
				  * worker's): their worker's pend bit set at the end */
	unsigned nsig;           /* (w) */
	unsigned sweep;          /* (w) the cold sweep's place in vifs[] */
	struct pollfd *pfd;      /* (w) */
	struct sw_vif **pfd_vif; /* (w) the vif of each pfd entry (NULL: none) */
	uint32_t round;          /* (w) rounds done */
	int epfd;                /* (w) its cold vifs' descriptors (made at the first) */
	bool has_epfd;           /* (w) */
	unsigned ncold;          /* (w) */
	int *irq_q, *irq_fd;     /* (w) */
	/* offload.c: where super-frames are cut and checksums completed for
	 * ports that cannot take them (made at the first need; NORESERVE) */
	uint8_t *gso_out;        /* (w) SW_GSO_BYTES, then gso_f */
	struct vmdq_frame *gso_f; /* (w) SW_GSO_MAX_SEGS */
};

struct vmdq_switch {
	struct vmdq_dev *dev;   /* (c) */
	struct port uplink;     /* (m) */
	bool has_uplink;        /* (p) */
	/* The vif table: grown in vif add (doubling, workers parked); every
	 * index below is rebuilt from it on each vif change (vmdq_sw_reindex). */
	struct sw_vif **vif;    /* (p) vif index -> vif; NULL: free */
	unsigned vif_cap;       /* (p) entries of vif[] and of every per-vif array */
	unsigned nvifs;         /* (p) */
	unsigned ntargeted;     /* (p) vifs whose port shares its VM's buffers */
	struct sw_vif **live;   /* (p) the nvifs vifs, dense */
	int32_t *name_ix;       /* (p) name -> vif index (-1: empty), open addressing */
	int32_t *key_ix;        /* (p) (MAC, VLAN) -> vif index, keyed hash (key_ix_key) */
	uint32_t ix_mask;       /* (p) both hold ix_mask + 1 >= 2 vif_cap slots */
	uint8_t ix_key[16];     /* (c) SipHash key of key_ix: a VM picks the MACs it looks up */
	uint32_t vlan_off[SW_VLANS + 1]; /* (p) VLAN v's vifs: vlan_vifs[vlan_off[v] .. vlan_off[v + 1]) */
	struct sw_vif **vlan_vifs;       /* (p) */
	int16_t queue_vif[VMDQ_MAX_QUEUES]; /* (p) -1: no vif */
	uint16_t away[SW_MAX_VIFS]; /* (m) the vifs away (sw_vif.away), naway of them:
				     * each round looks whether their VM came back */
	unsigned naway;         /* (m) */
	struct vmdq_fdb *fdb;   /* (m) the main worker's alone */
	uint8_t *defmem;        /* (c) the default queue's buffers */
	uint32_t rx_buf;        /* (p) receive buffer bytes for vifs added from now on */
	unsigned default_queue; /* (m) */
	uint64_t age_ns;        /* (m) */
	uint64_t last_age_ns;   /* (m) */
	uint64_t tx_rate;   /* (p) frames/s the uplink takes (0: all it can) */
	uint64_t tx_credit; /* (m) frames that may leave now, in 1e-9 units */
	uint64_t tx_last_ns; /* (m) */
	int nworkers;       /* (p) */
	bool threaded;      /* (m) workers other than the main one run threads */
	struct sw_worker wk[SW_MAX_WORKERS];
	_Atomic bool park_req, stopping; /* (a) main worker, under park_mu */
	pthread_mutex_t park_mu;
	pthread_cond_t park_cv;
};

_Static_assert(SW_RING % BURST == 0 && SW_INBOX % BURST == 0,
	       "the drain loops take whole bursts: a full ring or inbox in SW_RING / BURST bursts");
_Static_assert(SW_MAX_VIFS <= INT16_MAX, "queue_vif holds a vif index");
_Static_assert(BURST <= UINT8_MAX + 1, "a batch entry's src is 8 bits");

/* Sizes of a vif's mappings. */
#define SW_RXMEM(nq, buf) ((size_t)(nq) * SW_RING * (buf))
#define SW_TXMEM(nq) ((size_t)(nq) * SW_TX_SLOTS * SW_TX_BUF)
#define SW_INBOX_HDR ((sizeof(struct sw_inbox) + 4095) & ~(size_t)4095)
#define SW_INBOX_BYTES (SW_INBOX_HDR + (size_t)SW_INBOX * SW_TX_BUF)
#define SW_INBOX_SLOT(ib, k) ((uint8_t *)(ib) + SW_INBOX_HDR + (size_t)(k) * SW_TX_BUF)

/* switch.c */
void *vmdq_sw_mem(size_t bytes);
void vmdq_sw_unmem(void *m, size_t bytes);
int vmdq_sw_queue_arm(struct vmdq_dev *dev, unsigned q, uint8_t *m, uint32_t buf);
int vmdq_sw_open_port(struct vmdq_switch *sw, struct port *p, const char *name,
		      const char *kind, int vq, unsigned nq, uint64_t owner, char **args,
		      int nargs, char *err, size_t errlen);
/* vif.c */
int vmdq_sw_vif_lookup(const struct vmdq_switch *sw, const uint8_t *mac, uint16_t vlan);
/* Rebuilds the lists and indexes from the vif table (workers parked). */
void vmdq_sw_reindex(struct vmdq_switch *sw);
/* Gives worker w its arrays for vif_cap vifs.  0 or -ENOMEM. */
int vmdq_sw_worker_arrays(struct vmdq_switch *sw, int w, unsigned cap);
struct sw_inbox *vmdq_sw_inbox_new(void);
void vmdq_sw_inbox_free(struct sw_inbox *ib);
void vmdq_sw_table_free(struct vmdq_switch *sw);
/* forward.c */
bool vmdq_sw_hand_to(struct vmdq_switch *sw, int w, struct sw_vif *to, const uint8_t *data,
		     uint32_t len, uint64_t ts, unsigned src, const struct vmdq_offload *off);
/* Hands every batch of this burst to its port: one tx call per vif.  With
 * kind (per frame of the burst: SW_K_UNI from the default queue counts on
 * the wire's counters too), got[src] counts the frame's deliveries. */
enum { SW_K_DROP, SW_K_UNI, SW_K_FLOOD };
void vmdq_sw_batch_flush(struct vmdq_switch *sw, int w, const uint8_t *kind, unsigned *got);
void vmdq_sw_deliver_to_vif(struct vmdq_switch *sw, int w, struct sw_vif *v, uint8_t *data,
			    uint32_t len, uint16_t vid, bool tagged, uint64_t ts,
			    const struct vmdq_offload *off);
void vmdq_sw_switch_group(struct vmdq_switch *sw, int w, int vi, struct vmdq_rxd *d,
			  unsigned n);
unsigned vmdq_sw_drain_queue(struct vmdq_switch *sw, int w, unsigned q);
void vmdq_sw_drain_rx(struct vmdq_switch *sw, struct sw_vif *v);
unsigned vmdq_sw_drain_inboxes(struct vmdq_switch *sw, int w, struct sw_vif *v);
void vmdq_sw_learn_from_wire(struct vmdq_switch *sw, const struct vmdq_frame *f, unsigned n,
			     uint64_t now);
/* The vifs away whose VM is back (its port no longer says peer_gone) get
 * their MAC back: FDB entry static on the vif again (main worker, when
 * naway). */
void vmdq_sw_reclaim(struct vmdq_switch *sw);
/* Vif vi leaves the away list (vif del). */
void vmdq_sw_away_drop(struct vmdq_switch *sw, int vi);
/* offload.c */
/* Admits a frame with offload state where it enters the switch: a
 * super-frame that would make more segments than a worker can make is
 * dropped (gso-segs, counted in c if given); the others are counted
 * (gso-super). */
bool vmdq_sw_off_admit(struct vmdq_switch *sw, int w, const struct vmdq_frame *f,
		       uint32_t len, struct sw_cnt *c);
/* The port's tx for the switch: what p's caps.tx_offloads do not take is
 * segmented or has its checksum completed first.  Returns how many of f
 * were taken (a prefix, as tx). */
unsigned vmdq_sw_port_tx(struct vmdq_switch *sw, int w, struct port *p,
			 const struct vmdq_frame *f, unsigned n);
/* The uplink's burst into the device.  While a targeted vif exists, its
 * super-frames are cut first: the device would place one whole into a VM's
 * buffer, and a VM's buffers (a Linux guest's are 1.5-4 KiB) are smaller
 * than a super-frame. */
void vmdq_sw_wire_in(struct vmdq_switch *sw, int w, const struct vmdq_frame *f, unsigned n);
bool vmdq_sw_gso_scratch(struct sw_worker *k);
void vmdq_sw_gso_scratch_free(struct sw_worker *k);

/* transmit.c */
unsigned vmdq_sw_from_vif(struct vmdq_switch *sw, int w, int vi, unsigned pair);
unsigned vmdq_sw_wire_out(struct vmdq_switch *sw, int w, uint64_t now);
bool vmdq_sw_inboxes_have_room(struct vmdq_switch *sw, int w);
bool vmdq_sw_tx_has_room(struct sw_vif *v, unsigned pair);
/* worker.c */
void vmdq_sw_workers_stop(struct vmdq_switch *sw);
/* v is no longer cold (vif del, remap: before its worker changes). */
void vmdq_sw_warm(struct vmdq_switch *sw, struct sw_vif *v);
int vmdq_sw_worker_of_queue(struct vmdq_switch *sw, unsigned q, char *err, size_t errlen);

#endif
