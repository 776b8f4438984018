/* SPDX-License-Identifier: MIT */
/*
 * vhost/vu.h - the vhost-user back-end's core: the protocol's messages
 * (QEMU docs/interop/vhost-user.rst), the guest's memory table, and split
 * and packed virtqueues (virtio 1.1, 2.7 and 2.8).  No sockets and no switch here: the port
 * (ports/vhost_user.c) reads messages and moves frames; this file decides
 * what a message does and walks descriptors, so both can be fuzzed alone.
 * Behind it: vu.c (messages, each request declared once in its request
 * table; guest memory; the ring calls below, which pick the layout),
 * vu_split.c and vu_packed.c (the two ring layouts), vu_ring.h (what
 * those three share: address translation, chain limits, packed positions).
 *
 * Trust: everything the front-end sends and everything in guest memory is
 * hostile.  Message sizes are checked against each request's payload; every
 * guest address is translated through the memory table, and a range that is
 * not wholly inside one mapped region (or wraps) is refused before anything
 * is read or written; fields of descriptors and ring indices are read once
 * into locals (the guest may change them under us); a chain is followed at
 * most as many steps as its table has entries and VU_MAX_SEGS descriptors
 * (empty ones too); a ring's size and layout cannot change while it runs,
 * and its positions are checked against it wherever they index it;
 * notification fds must be eventfds (made non-blocking); a memory region
 * must lie inside its file and a table maps VU_MAX_MAPPED at most.  A violation marks the
 * device broken (vu_break): it then moves no frames until the front-end
 * resets it (a new connection, RESET_OWNER/RESET_DEVICE, status 0 while
 * broken (status 0 otherwise only stops the rings, keeping their positions), or the
 * rings set up afresh).
 */
#ifndef VMDQ_VU_H
#define VMDQ_VU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "vu_log.h"

/* requests (front-end to back-end) */
enum {
	VU_GET_FEATURES = 1, VU_SET_FEATURES = 2, VU_SET_OWNER = 3, VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5, VU_SET_LOG_BASE = 6, VU_SET_LOG_FD = 7, VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9, VU_SET_VRING_BASE = 10, VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12, VU_SET_VRING_CALL = 13, VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15, VU_SET_PROTOCOL_FEATURES = 16, VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18, VU_SEND_RARP = 19, VU_NET_SET_MTU = 20,
	VU_RESET_DEVICE = 34, VU_GET_MAX_MEM_SLOTS = 36, VU_SET_STATUS = 39,
	VU_GET_STATUS = 40,
};

#define VU_VERSION 0x1u
#define VU_FLAG_VERSION_MASK 0x3u
#define VU_FLAG_REPLY 0x4u
#define VU_FLAG_NEED_REPLY 0x8u

/* protocol feature bits */
#define VU_PF_MQ 0
#define VU_PF_LOG_SHMFD 1     /* the log comes as an fd with SET_LOG_BASE */
#define VU_PF_RARP 2          /* SEND_RARP: the destination announces the VM */
#define VU_PF_REPLY_ACK 3
#define VU_PF_RESET_DEVICE 13
#define VU_PF_STATUS 16

/* virtio feature bits we use (linux/virtio_*.h have the rest) */
#define VU_F_PROTOCOL_FEATURES 30
#define VU_F_LOG_ALL 26       /* VHOST_F_LOG_ALL: dirty-page logging on */
#define VU_VRING_F_LOG 0      /* SET_VRING_ADDR flags: log the used ring's writes */
#define VU_F_RING_PACKED 34   /* VIRTIO_F_RING_PACKED */
/* virtio-net offloads (virtio 1.x, 5.1.3; UDP segmentation is newer than
 * some linux/virtio_net.h) */
#define VU_NET_F_CSUM 0       /* the guest may send partial checksums */
#define VU_NET_F_GUEST_CSUM 1 /* the guest takes partial checksums, DATA_VALID */
#define VU_NET_F_GUEST_TSO4 7
#define VU_NET_F_GUEST_TSO6 8
#define VU_NET_F_GUEST_ECN 9
#define VU_NET_F_HOST_TSO4 11
#define VU_NET_F_HOST_TSO6 12
#define VU_NET_F_HOST_ECN 13
#define VU_NET_F_MRG_RXBUF 15
#define VU_NET_F_GUEST_USO4 54
#define VU_NET_F_GUEST_USO6 55
#define VU_NET_F_HOST_USO 56

#define VU_MAX_REGIONS 8
#define VU_MAX_QP 4           /* virtio queue pairs at most (vu_dev.max_qp) */
#define VU_MAX_VRINGS (2 * VU_MAX_QP)
#define VU_MAX_RING 32768     /* ring size limit (virtio 2.7, 2.8) */
#define VU_PACKED_SCAN 64     /* chains vu_avail_count counts at most (packed) */
/* Descriptors of one chain we follow (buffer descriptors, direct and in an
 * indirect table, empty ones counted), and pieces it may translate into.
 * The largest frame (9216 bytes and a 12-byte header) fits in 4 pages:
 * an honest driver uses a few descriptors (Linux: at most MAX_SKB_FRAGS + 2,
 * 19 by default); 64 leaves it room and bounds one chain's cost. */
#define VU_MAX_SEGS 64
#define VU_MAX_PAYLOAD 512    /* largest payload we accept (SET_MEM_TABLE: 264) */
#define VU_MAX_FDS 8
/* Address space one guest's memory table may map (the sum of its regions'
 * mappings, offset + size each): 1 TiB.  A guest of up to 512 GiB fits
 * (QEMU maps its RAM at most twice: below and above 4 GiB from one file);
 * all guests together map at most VHU_MAPPED_MAX (64 TiB, the port's
 * limit), half of the 128 TiB of user address space. */
#define VU_MAX_MAPPED (1ull << 40)
#define VU_HDR_MAX 12         /* struct virtio_net_hdr_mrg_rxbuf */

/* Why a device broke (hostile or buggy front-end).  Counted per reason;
 * the one list the enum and the names (`show vifs`, the guest reasons of
 * SPEC 2) are made from.  X(ENUM, "name", what it means) */
#define VU_ERR_LIST(X) \
	X(ADDR,     "bad-address",          "an address outside the guest's memory") \
	X(WRAP,     "wrap",                 "a range that wraps the address space") \
	X(LOOP,     "loop",                 "a chain longer than its table: a loop") \
	X(LONG,     "chain-too-long",       "a chain with more pieces than we follow") \
	X(RO,       "write-to-read-only",   "a write into a descriptor the device may only read") \
	X(WO,       "read-from-write-only", "a TX buffer the device may only write") \
	X(LEN,      "bad-length",           "a length that lies (short or past max-frame)") \
	X(INDEX,    "bad-index",            "a head or next outside the table") \
	X(INDIRECT, "bad-indirect",         "a bad indirect table") \
	X(AVAIL,    "bad-avail-idx",        "avail idx moved more than the ring size") \
	X(REUSED,   "head-reused",          "a head made available twice while in flight") \
	X(MSG,      "bad-message",          "a malformed message") \
	X(LOG,      "bad-log",              "a dirty log refused: its size, offset or fd, or a ring's log address")

enum vu_err {
#define VU_ERR_ENUM_(e, name, what) VU_E_##e,
	VU_ERR_LIST(VU_ERR_ENUM_)
#undef VU_ERR_ENUM_
	VU_E__COUNT
};
const char *vu_err_name(enum vu_err e);

struct vu_region {
	uint64_t gpa, size, uva, mmap_off;
	uint8_t *map;       /* what we mmapped (map_len bytes) */
	size_t map_len;
	uint8_t *host;      /* host address of gpa (map + mmap_off) */
};

struct vu_mem {
	unsigned n;
	struct vu_region r[VU_MAX_REGIONS];
};

/* A virtqueue, split or packed (VIRTIO_F_RING_PACKED negotiated).  Packed:
 * desc is the descriptor ring (struct vring_packed_desc), avail the driver
 * area and used the device area (struct vring_packed_desc_event each), and
 * last_avail, used_idx and signalled are ring positions counted modulo
 * 2 * num: the slot is the position modulo num, the wrap counter is 1 in
 * the first lap (position below num) and 0 in the second. */
struct vu_vring {
	uint32_t num;            /* 0: not set */
	bool packed;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t desc_uva, avail_uva, used_uva;
	bool addr_set;
	uint16_t last_avail;     /* next avail entry we take */
	uint16_t used_idx;       /* our copy of used->idx */
	uint16_t signalled;      /* used idx at the last call */
	uint16_t pk_base;        /* packed: SET/GET_VRING_BASE's avail index and
				  * wrap counter (bit 15), used when the ring starts */
	bool pk_base_set;
	uint16_t pk_used_base;   /* packed: the used index and wrap counter
				  * (bits 16-31 of SET/GET_VRING_BASE), checked
				  * against pk_base when the ring starts */
	bool pk_used_set;
	bool signalled_valid;
	bool need_call;          /* used entries since the last call */
	int kick_fd, call_fd, err_fd;
	bool enabled, started;
	uint8_t *inflight;       /* per head: 1 while we hold it (num bytes) */
	uint16_t *ndesc;         /* packed, per buffer id: ring slots its chain took */
	/* dirty-page logging: SET_VRING_ADDR's VHOST_VRING_F_LOG and
	 * log_guest_addr (the used area's guest-physical address, checked
	 * against the memory table: it must be where used is); log is the
	 * device's log while logging is on and this ring's flag is set, else
	 * NULL (the one test the ring calls make) */
	bool log_flag;
	uint64_t log_addr;
	uint64_t desc_gpa;       /* packed: the descriptor ring's guest-physical
				  * address (used descriptors are written there) */
	struct vu_log *log;
};

/* What the message handler needs from its host (the port, or a fuzzer). */
struct vu_host_ops {
	/* maps len bytes of fd from offset 0 read-write shared; NULL on error */
	void *(*map)(void *arg, int fd, size_t len);
	void (*unmap)(void *arg, void *addr, size_t len);
	/* the rings are about to change or go (GET_VRING_BASE, memory table,
	 * reset): the host must stop using them and finish in-flight buffers
	 * before this returns */
	void (*quiesce)(void *arg);
	void *arg;
};

struct vu_dev {
	uint64_t offer;          /* features offered (GET_FEATURES; SET_FEATURES
				  * may take no other): vu_offered_features()
				  * after vu_dev_init, the host may add
				  * vu_offload_features() */
	uint64_t features, protocol_features;
	bool features_set, owner;
	uint8_t status;
	unsigned hdr_len;        /* virtio-net header: 10 or 12 */
	unsigned max_qp;         /* queue pairs offered (GET_QUEUE_NUM): 1..VU_MAX_QP,
				  * set by the host after vu_dev_init (default 1) */
	struct vu_mem mem;
	struct vu_vring vq[VU_MAX_VRINGS];
	bool broken;
	enum vu_err broken_why;
	uint64_t errors[VU_E__COUNT];
	uint64_t messages, resets;
	uint64_t calls_lost;     /* call fd full (the guest does not read it) */
	/* Rings started where the positions handed over disagree (a
	 * migration's source or an earlier back-end held buffers it never
	 * gave back): split, SET_VRING_BASE's index is not used->idx at the
	 * kick; packed, the used half of SET_VRING_BASE is not the avail half
	 * (taken as the used position).  base_refused: a packed used half
	 * that is no position up to a ring behind the avail one (ignored: the
	 * used position follows the avail one).  base_last: the last of
	 * either, for the host's log (ring, avail and used index as the
	 * front-end gave them, refused or not). */
	uint64_t base_mismatch, base_refused;
	struct { uint32_t ring, avail, used; bool refused; } base_last;
	struct vu_log log;       /* SET_LOG_BASE's, mapped; logging is on while
				  * it is and VU_F_LOG_ALL is negotiated */
	/* SEND_RARP (after a live migration, on the destination): the MAC the
	 * front-end asks us to announce; the host sends the announcement (a
	 * RARP from that MAC, as if the guest sent it) and clears rarp_due */
	uint8_t rarp_mac[6];
	bool rarp_due;
	uint64_t rarps;          /* SEND_RARP messages taken */
	struct vu_host_ops ops;
};

struct vu_msg {
	uint32_t request, flags, size;
	union {
		uint64_t u64;
		struct { uint32_t index, num; } state;
		struct { uint32_t index, flags; uint64_t desc, used, avail, log; } addr;
		struct {
			uint32_t nregions, padding;
			struct { uint64_t gpa, size, uva, mmap_off; } r[VU_MAX_REGIONS];
		} mem;
		struct { uint64_t size, offset; } log;
		uint8_t raw[VU_MAX_PAYLOAD];
	} u;
	int fds[VU_MAX_FDS];
	unsigned nfds;
};
#define VU_HDR_SIZE 12 /* request, flags, size on the wire; then size bytes */

/* Features and protocol features we offer (the base: no offloads). */
uint64_t vu_offered_features(void);
/* The virtio-net offload features a host may add to d->offer: CSUM,
 * GUEST_CSUM, HOST/GUEST_TSO4/6, HOST/GUEST_ECN, HOST_USO, GUEST_USO4/6. */
uint64_t vu_offload_features(void);
uint64_t vu_offered_protocol_features(void);

void vu_dev_init(struct vu_dev *d, const struct vu_host_ops *ops);
/* Forgets the front-end: unmaps memory, closes every fd, rings unset. */
void vu_dev_reset(struct vu_dev *d);

/* Handles one message.  Takes ownership of m->fds (closes those it does not
 * keep).  Fills reply and returns 1 when one must be sent, 0 when not, and
 * -1 when the connection must be closed (the stream cannot be trusted). */
int vu_handle(struct vu_dev *d, struct vu_msg *m, struct vu_msg *reply);
/* Does request r change or remove rings or memory (so in-flight buffers
 * must be finished first)? */
bool vu_request_quiesces(uint32_t r);
/* Does message m, on d as it is, need the rings quiesced (a request that
 * may quiesce, but not one that only turns logging on or off, nor a
 * non-zero SET_STATUS)? */
bool vu_msg_quiesces(const struct vu_dev *d, const struct vu_msg *m);
/* Request r's name for logs ("SET_MEM_TABLE"), "UNKNOWN" if we do not know it. */
const char *vu_request_name(uint32_t r);

void vu_break(struct vu_dev *d, enum vu_err why);

/* Guest memory: host address of [gpa, gpa + len) if it lies wholly inside
 * one region, else NULL (err says ADDR or WRAP). */
uint8_t *vu_gpa(const struct vu_mem *m, uint64_t gpa, uint64_t len, enum vu_err *err);
uint8_t *vu_uva(const struct vu_mem *m, uint64_t uva, uint64_t len);

/* Dirty-page logging (vu_log.h): the device's log while logging is on (the
 * front-end negotiated VU_F_LOG_ALL and sent a log), else NULL.  Callers
 * test it once per batch; the ring calls below mark their own writes. */
static inline struct vu_log *vu_log_on(struct vu_dev *d)
{
	return (d->features & (1ull << VU_F_LOG_ALL)) && d->log.base ? &d->log : NULL;
}
/* Marks the guest pages of host memory [p, p + len) (inside one region of
 * the memory table, as the pieces of a chain are: anything else is not
 * marked).  Only while vu_log_on(d). */
void vu_log_host(struct vu_dev *d, const void *p, uint64_t len);

/* Is vring i ready to move frames? */
static inline bool vu_ring_live(const struct vu_dev *d, unsigned i)
{
	const struct vu_vring *v = &d->vq[i];
	return !d->broken && v->started && v->enabled && v->desc;
}

/* A chain, translated: pieces of host memory in order. */
struct vu_seg {
	uint8_t *p;
	uint32_t len;
};
struct vu_chain {
	uint16_t head;
	unsigned nseg;
	unsigned ndesc;          /* buffer descriptors read (VU_MAX_SEGS at most) */
	uint64_t total;
	struct vu_seg seg[VU_MAX_SEGS];
};

/* How many heads are waiting in vring v's avail ring (0 if it lies: the
 * device breaks).  Packed: the chains made available, VU_PACKED_SCAN at most. */
unsigned vu_avail_count(struct vu_dev *d, struct vu_vring *v);
/* Takes the next head and walks its chain: every piece must be writable
 * (write = true, a receive buffer) or readable (a transmit buffer).
 * Returns 0, or -1 with the device broken (counted). */
int vu_pop(struct vu_dev *d, struct vu_vring *v, bool write, struct vu_chain *c);
/* Gives the last n chains taken by vu_pop (heads, in the order taken) back
 * to the ring unused: the next vu_pop takes them again. */
void vu_unpop(struct vu_vring *v, const uint16_t *heads, unsigned n);
/* Walks the chain of head (for the fuzzer and vu_pop). */
int vu_walk(struct vu_dev *d, struct vu_vring *v, uint16_t head, bool write,
	    struct vu_chain *c);
/* Returns head to the guest with len bytes written (no index update). */
void vu_used_put(struct vu_vring *v, uint16_t head, uint32_t len);
/* The same for n entries at once (ids below the ring size). */
void vu_used_put_many(struct vu_vring *v, const struct vring_used_elem *e, unsigned n);
/* Publishes the used entries put so far. */
void vu_used_publish(struct vu_vring *v);
/* Signals the guest if it wants to be told (notification suppression:
 * EVENT_IDX's used_event, else NO_INTERRUPT); one call for everything
 * published since the last.  Returns true if it wrote the call fd. */
bool vu_call(struct vu_dev *d, struct vu_vring *v);
/* Kick suppression: while we poll, the guest need not kick (enable =
 * false); before we sleep, enable = true, then check vu_avail_count. */
void vu_notify_enable(struct vu_dev *d, struct vu_vring *v, bool enable);

#endif
