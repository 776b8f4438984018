/* SPDX-License-Identifier: MIT */
/*
 * vmdq/device.h - the VMDq device in software (SPEC section 1).
 *
 * A device has N queue pairs.  Frames offered with vmdq_rx_burst() are
 * checked for errors, accepted or refused, and sorted by destination MAC and
 * VLAN into one RX queue each, or counted under one drop reason:
 *
 *     frames in == sum(queue frames) + sum(queue missed) + sum(drops)
 *
 * always holds (conservation).  Each RX queue is a ring of descriptors whose
 * buffers are posted by the queue's consumer; sorting a frame to a queue
 * copies it into the next posted buffer (the software "DMA") and completes
 * the descriptor.  The consumer polls completed descriptors in groups.
 *
 * RX ring ownership, free-running 32-bit indices (netmap style):
 *
 *     reap            fill               post            reap + size
 *      |  completed    |  posted, empty   |   free slots    |
 *      |  (consumer    |  (device fills   |   (consumer may |
 *      |   polls)      |   these next)    |    post here)   |
 *
 * Threads:
 *  - Control calls (configuration, filters, queue lifecycle, counters) may be
 *    made from any thread; they serialise on a control mutex that the data
 *    path never takes.  Every change to what sorting depends on is published
 *    as a new immutable snapshot through RCU (liburcu): a burst is sorted
 *    entirely by one snapshot, so no frame ever sees half a change.
 *  - vmdq_rx_burst() is called by at most one thread at a time per device
 *    (the uplink's receive thread); it must be registered with
 *    vmdq_thread_online() first.  It never locks, allocates or makes a
 *    syscall, except writing a queue's interrupt eventfd (moderated).
 *  - Each RX queue has one consumer thread (post/poll/reclaim), each TX
 *    queue one producer thread (post); the arbiter (vmdq_tx_pick) runs in
 *    one thread.  Rings are single-producer single-consumer.
 *
 * Errors: int functions return 0 or a negative errno; burst functions return
 * a count; constructors return NULL and set errno.  Destroy accepts NULL.
 */
#ifndef VMDQ_DEVICE_H
#define VMDQ_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's API: the only symbols libvmdq exports (meson.build builds it
 * with hidden visibility; tests/symbols.sh checks). */
#pragma GCC visibility push(default)

#define VMDQ_MAX_QUEUES 4096
#define VMDQ_SOFT_MAX_FILTERS 65536
#define VMDQ_MAX_BURST 256
#define VMDQ_MIN_MAX_FRAME 60
#define VMDQ_MAX_MAX_FRAME 16384

struct vmdq_dev;

/* Profiles (SPEC 1 table).  Limits are hard: going past one is -ENOSPC. */
enum vmdq_profile {
	VMDQ_PROFILE_82575,
	VMDQ_PROFILE_82598,
	VMDQ_PROFILE_82576,
	VMDQ_PROFILE_82599,
	VMDQ_PROFILE_SOFT,
};

struct vmdq_profile_limits {
	const char *name;
	unsigned max_queues;
	unsigned mac_table;  /* MAC and pair filters; 0 = shared limit */
	unsigned vlan_table; /* VLAN filters; 0 = shared limit */
	unsigned any_table;  /* filters of any kind (soft) ; 0 = none */
	unsigned default_queues;
};

const struct vmdq_profile_limits *vmdq_profile_limits(enum vmdq_profile p);
/* Returns 0 and sets *p, or -EINVAL for an unknown name. */
int vmdq_profile_from_name(const char *name, enum vmdq_profile *p);

enum vmdq_arbiter { VMDQ_ARB_RR, VMDQ_ARB_DRR, VMDQ_ARB_FIFO };

/* Drop reasons (SPEC 1): the one list the enum and the names
 * (vmdq_drop_name, hence the output formats) are made from.
 * X(ENUM, "name", what it means).  A frame with several errors is counted
 * under the first of runt, truncated, oversize, crc (lib/sort.c). */
#define VMDQ_DROP_LIST(X) \
	X(NONE,      "none",      "not dropped") \
	X(FILTERED,  "filtered",  "no filter matched and no default queue took it") \
	X(RUNT,      "runt",      "shorter than 14 bytes (18 when tagged)") \
	X(OVERSIZE,  "oversize",  "longer than max-frame (+4 per tag)") \
	X(CRC,       "crc",       "with fcs on: a bad CRC-32") \
	X(TRUNCATED, "truncated", "the input says it was cut short") \
	X(MISSED,    "missed",    "no posted buffer on the chosen queue")

enum vmdq_drop {
#define VMDQ_DROP_ENUM_(e, name, what) VMDQ_DROP_##e,
	VMDQ_DROP_LIST(VMDQ_DROP_ENUM_)
#undef VMDQ_DROP_ENUM_
	VMDQ_DROP__COUNT
};
const char *vmdq_drop_name(enum vmdq_drop d);

/* Error bits (descriptor flags and vmdq_rx_result.errors). */
#define VMDQ_ERR_RUNT      0x01u
#define VMDQ_ERR_TRUNCATED 0x02u
#define VMDQ_ERR_OVERSIZE  0x04u
#define VMDQ_ERR_CRC       0x08u
#define VMDQ_ERR_MASK      0x0fu

/* Other descriptor flags. */
#define VMDQ_RXD_MATCH    0x0100u /* placed by a filter (filter_id valid) */
#define VMDQ_RXD_TAGGED   0x0200u /* frame carries a VLAN tag (vlan valid) */
#define VMDQ_RXD_CANCELLED 0x0400u /* buffer returned unused by reclaim */
#define VMDQ_RXD_TARGETED 0x0800u /* a VM's shared buffer (Level 2): hdr holds
				   * a replica of the frame's first bytes */
#define VMDQ_RXD_STRIPPED 0x1000u /* the outer VLAN tag was removed on the way
				   * into buf (vlan says which it was) */
#define VMDQ_RXD_REFUSED  0x2000u /* a shared buffer the frame was not admitted
				   * to (vmdq_queue_set_access_vlan): not a byte
				   * written into buf, len 0; flags, vlan and
				   * filter_id as sorted */
#define VMDQ_RXD_OFFLOAD  0x4000u /* the frame came with offload state: off is
				   * valid (else off is stale, the frame is
				   * ordinary) */

#define VMDQ_MAX_HDR 128 /* header replica of a targeted frame, at most */

/* A frame offered to the device.  data points at caplen readable bytes;
 * len is the frame's length as its source reports it (FCS included when the
 * device is in `fcs on` mode); caplen < len means the source cut it short.
 * off is its offload state (vmdq/offload.h; all zero for an ordinary
 * frame), which whoever built the frame has had vmdq_off_check() accept.
 * A super-frame (off.gso_type set) may be up to VMDQ_MAX_SUPER bytes long:
 * the oversize check applies to the segments it stands for (hdr_len +
 * gso_size, SPEC 5), and it is sorted, placed and counted as one frame into
 * one buffer, which must be large enough to take it whole (else it is
 * missed, as any frame larger than the buffer posted). */
struct vmdq_frame {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t len;
	uint64_t ts_ns;
	struct vmdq_offload off;
};

/* An RX descriptor.  The consumer fills buf, buf_size and cookie when it
 * posts (and, for a shared buffer, hdr and hdr_len); the device fills the
 * rest when it completes it. */
struct vmdq_rxd {
	uint8_t *buf;
	uint64_t cookie;
	uint8_t *hdr;       /* shared buffers: the switch's header buffer */
	uint32_t buf_size;
	uint32_t len;       /* bytes written to buf (FCS stripped) */
	uint32_t wire_len;  /* frame length as reported, FCS excluded */
	uint32_t filter_id; /* with VMDQ_RXD_MATCH, else 0 */
	uint64_t ts_ns;
	uint16_t vlan;      /* outermost VID, 0 = none */
	uint16_t flags;     /* VMDQ_ERR_* | VMDQ_RXD_* */
	uint16_t queue;
	uint16_t hdr_len;   /* posted: hdr's size (<= VMDQ_MAX_HDR); completed:
			     * bytes replicated (the frame as on the wire) */
	uint16_t lead;      /* posted: bytes of the queue's lead-in written at buf,
			     * the frame after them (vmdq_rxq_set_lead); 0 = none.
			     * len does not count them; buf_size does. */
	struct vmdq_offload off; /* completed, with VMDQ_RXD_OFFLOAD: the frame's
				  * offload state, its offsets as in buf (a
				  * stripped tag moved csum_start and hdr_len
				  * back by 4); without it, not written */
};

/* Per-frame outcome, for traces and tests (optional in vmdq_rx_burst). */
struct vmdq_rx_result {
	int32_t queue;       /* -1 when dropped */
	uint32_t filter_id;  /* 0 = no match */
	uint8_t drop;        /* enum vmdq_drop, VMDQ_DROP_NONE when queued */
	uint8_t errors;      /* VMDQ_ERR_* bits */
	bool match;
};

/* ---- lifecycle and configuration ---------------------------------- */

/* A new device: profile soft, 16 queues, non-VMDq mode, defaults of SPEC 3. */
struct vmdq_dev *vmdq_dev_create(void);
void vmdq_dev_destroy(struct vmdq_dev *dev);

/* Registers / unregisters the calling thread as a data-path thread. */
void vmdq_thread_online(void);
void vmdq_thread_offline(void);

int vmdq_dev_set_profile(struct vmdq_dev *dev, enum vmdq_profile p);
int vmdq_dev_set_queues(struct vmdq_dev *dev, unsigned n);
int vmdq_dev_set_vmdq(struct vmdq_dev *dev, bool on);
int vmdq_dev_set_default_queue(struct vmdq_dev *dev, unsigned q);
int vmdq_dev_set_mac(struct vmdq_dev *dev, const uint8_t mac[6]);
int vmdq_dev_set_promisc(struct vmdq_dev *dev, bool on);
int vmdq_dev_set_allmulti(struct vmdq_dev *dev, bool on);
int vmdq_dev_set_broadcast(struct vmdq_dev *dev, bool on);
int vmdq_dev_set_store_bad(struct vmdq_dev *dev, bool on);
int vmdq_dev_set_fcs(struct vmdq_dev *dev, bool on);
int vmdq_dev_set_max_frame(struct vmdq_dev *dev, unsigned bytes);
int vmdq_dev_set_arbiter(struct vmdq_dev *dev, enum vmdq_arbiter a);

struct vmdq_dev_config {
	enum vmdq_profile profile;
	unsigned queues;
	bool vmdq, promisc, allmulti, broadcast, store_bad, fcs, has_mac;
	unsigned default_queue;
	unsigned max_frame;
	enum vmdq_arbiter arbiter;
	uint8_t mac[6];
};
void vmdq_dev_get_config(struct vmdq_dev *dev, struct vmdq_dev_config *out);
/* The default queue as the sorter sees it now: no lock, for data-path
 * threads (registered with vmdq_thread_online). */
unsigned vmdq_dev_default_queue(struct vmdq_dev *dev);

/* Batching: between begin and commit, changes are made but published once,
 * at commit (one snapshot for the lot).  Nests. */
void vmdq_dev_batch_begin(struct vmdq_dev *dev);
void vmdq_dev_batch_commit(struct vmdq_dev *dev);

/* ---- filters (SPEC 1.2, 1.3) ---------------------------------------- */

enum vmdq_filter_kind { VMDQ_FILTER_MAC, VMDQ_FILTER_PAIR, VMDQ_FILTER_VLAN };

struct vmdq_filter {
	uint32_t id;
	enum vmdq_filter_kind kind;
	uint8_t mac[6];
	uint16_t vlan;
	uint16_t queue;
};

/* Adds a filter; vlan 0 with a MAC makes a MAC filter, mac NULL a VLAN
 * filter.  Returns the new id (>= 1) or -EEXIST, -ENOSPC, -EINVAL (queue out
 * of range, VLAN outside 1..4094, broadcast or all-zero MAC). */
int64_t vmdq_filter_add(struct vmdq_dev *dev, const uint8_t *mac,
			uint16_t vlan, unsigned queue);
/* Removes filter id: 0 or -ENOENT. */
int vmdq_filter_del(struct vmdq_dev *dev, uint32_t id);
/* Copies up to max filters, in id order, into out (may be NULL with max 0,
 * to ask how many there are); returns how many exist. */
size_t vmdq_filter_list(struct vmdq_dev *dev, struct vmdq_filter *out,
			size_t max);

/* ---- RX queues (SPEC 1.4) -------------------------------------------- */

/* Gives queue q a ring of size descriptors (a power of two, 2..65536).
 * -EBUSY if it already has one with buffers outstanding. */
int vmdq_rxq_setup(struct vmdq_dev *dev, unsigned q, unsigned size);

/* Consumer side.  Posts up to n empty buffers; returns how many fit. */
unsigned vmdq_rxq_post(struct vmdq_dev *dev, unsigned q,
		       const struct vmdq_rxd *bufs, unsigned n);
/* Takes up to n completed descriptors (a group, in arrival order).  Each
 * buffer is the consumer's again.  A filtered queue's group shares one
 * destination (each descriptor carries the match indicator and filter id),
 * so the consumer decides once per group. */
unsigned vmdq_rxq_poll(struct vmdq_dev *dev, unsigned q, struct vmdq_rxd *out,
		       unsigned n);
/* Number of completed descriptors waiting. */
unsigned vmdq_rxq_ready(struct vmdq_dev *dev, unsigned q);
/* After vmdq_queue_stop(): returns posted buffers the device never filled,
 * flagged VMDQ_RXD_CANCELLED.  Returns 0 while the queue is running. */
unsigned vmdq_rxq_reclaim(struct vmdq_dev *dev, unsigned q,
			  struct vmdq_rxd *out, unsigned n);

/* Level 2, targeted receive (SPEC 1.6).  The queue's owner registers the
 * memory its VM shares (host addresses of the VM's mapped regions; n = 0
 * withdraws it), then posts buffers inside it with vmdq_rxq_post_shared:
 * each buffer must lie wholly inside one region, or it is refused (*err =
 * -EFAULT) and never written; posting stops at the first refused buffer.
 * A frame sorted to a shared buffer is copied there once, its first
 * hdr_len bytes are replicated into the descriptor's hdr (a buffer of the
 * consumer's own, which the VM cannot change under the switch's feet) and
 * the completion carries VMDQ_RXD_TARGETED.  Only the owner may share
 * (-EPERM); the memory can change only while no shared buffer is posted
 * (-EBUSY: retract them first).  Consumer thread only. */
struct vmdq_mem_region {
	const uint8_t *base;
	size_t len;
};
#define VMDQ_MAX_MEM_REGIONS 8
int vmdq_rxq_share_mem(struct vmdq_dev *dev, unsigned q, uint64_t owner,
		       const struct vmdq_mem_region *r, unsigned n);
unsigned vmdq_rxq_post_shared(struct vmdq_dev *dev, unsigned q, uint64_t owner,
			      const struct vmdq_rxd *bufs, unsigned n, int *err);
/* Takes back the posted buffers the device has not filled yet, while the
 * queue keeps running (a VM resetting its rings); flagged CANCELLED.
 * Completed descriptors stay for vmdq_rxq_poll.  Waits for a sort in
 * progress to finish (an RCU grace period): never on the data path. */
unsigned vmdq_rxq_retract(struct vmdq_dev *dev, unsigned q, struct vmdq_rxd *out,
			  unsigned n);
/* VLAN stripping (the 82576's per-pool VLAN strip): the outer tag of a
 * tagged frame is left out on the way into the queue's buffers; the
 * completion says VMDQ_RXD_STRIPPED and keeps the VID in vlan. */
int vmdq_queue_set_vlan_strip(struct vmdq_dev *dev, unsigned q, bool on);
/* Admission to shared buffers (containment: no frame reaches a VM's memory
 * unless its consumer will deliver it).  A shared buffer never takes a frame
 * with error bits (store-bad on), nor one whose header replica would be
 * shorter than 14 bytes.  With an access VLAN set on the queue it also
 * takes only: vid 0, untagged frames (no tag at all, not even a priority
 * tag); vid 1..4094, frames whose outer tag has that VID, stripped (the
 * queue must strip).  Any other frame sorted to the queue completes its
 * descriptor flagged VMDQ_RXD_REFUSED, with the header replica but nothing
 * written into buf (nor the lead-in): the consumer counts the drop and
 * posts the buffer again.  VMDQ_ACCESS_ANY (a new queue's, and a freed
 * one's) leaves the VLAN out of it.  Buffers the consumer posts itself
 * (vmdq_rxq_post) are not concerned.  -EINVAL for a VID past 4094. */
#define VMDQ_ACCESS_ANY 0xffffu
int vmdq_queue_set_access_vlan(struct vmdq_dev *dev, unsigned q, uint16_t vid);
/* Lead-in: bytes the device writes in front of each frame in a buffer that
 * asks for them (rxd.lead), e.g. a virtio-net header, so the consumer need
 * not touch the buffer again.  Set before posting such buffers.  -EINVAL
 * past VMDQ_MAX_LEAD bytes. */
#define VMDQ_MAX_LEAD 16
int vmdq_rxq_set_lead(struct vmdq_dev *dev, unsigned q, const void *bytes, unsigned n);

/* Interrupt vector: an eventfd written when frames land while the queue's
 * interrupt is enabled, at most once per itr microseconds.  Firing disables
 * the interrupt (auto-mask); the consumer re-enables it when it has drained
 * the queue.  Returns the fd (owned by the device) or -errno. */
int vmdq_rxq_irq_fd(struct vmdq_dev *dev, unsigned q);
void vmdq_rxq_irq_enable(struct vmdq_dev *dev, unsigned q);
void vmdq_rxq_irq_disable(struct vmdq_dev *dev, unsigned q);
/* Pending bitmap (a poll-mode consumer's interrupt-pending register):
 * with map set, every vmdq_rx_burst that places frames on queue q sets bit
 * q of map (map[q / 64], bit q % 64; VMDQ_MAX_QUEUES bits) with an atomic
 * OR (__atomic_fetch_or, release) after it published them, whether or not
 * the interrupt is enabled.  The consumer takes a word with an atomic
 * exchange (acquire) and then finds the frames with vmdq_rxq_poll.  It
 * costs one atomic OR per queue a burst touched; no syscall, and a sleeping
 * consumer is not woken (that is the interrupt's job).  NULL stops it.
 * Call from the sorting thread or while no burst runs.  -EINVAL: no such
 * queue. */
int vmdq_rxq_set_notify(struct vmdq_dev *dev, unsigned q, uint64_t *map);
/* Fires interrupts held back by moderation whose time has come; returns
 * nanoseconds until the next one is due, or UINT64_MAX if none is.  The
 * sorting thread calls it when idle (vmdq_rx_burst calls it too). */
uint64_t vmdq_dev_irq_service(struct vmdq_dev *dev);
/* Test hook: the clock the device reads (monotonic nanoseconds). */
void vmdq_dev_set_clock(struct vmdq_dev *dev, uint64_t (*now_ns)(void *),
			void *arg);

int vmdq_queue_set_weight(struct vmdq_dev *dev, unsigned q, unsigned weight);
int vmdq_queue_set_itr(struct vmdq_dev *dev, unsigned q, unsigned usec);
int vmdq_queue_set_cpu(struct vmdq_dev *dev, unsigned q, unsigned cpu);
/* Receive-side scaling inside a pool (VMDq + RSS, as the 82599 does it):
 * frames sorted to queue q are spread over queues q .. q+n-1 by their
 * flow hash (vmdq_flow_hash), so one VM's queue pairs each get whole
 * flows.  n = 1 turns it off.  -EINVAL (n out of 1..VMDQ_MAX_RSS, q not
 * a queue), -ERANGE (q+n-1 past the device's queues). */
#define VMDQ_MAX_RSS 64
int vmdq_queue_set_rss(struct vmdq_dev *dev, unsigned q, unsigned n);
/* The flow hash RSS spreads by: Toeplitz (the RSS key every NIC ships
 * with) over IPv4/IPv6 source and destination addresses, and TCP/UDP
 * ports when the frame is not a fragment; over the two MACs for anything
 * else.  Reads only the len bytes given; VLAN tags are skipped. */
uint32_t vmdq_flow_hash(const uint8_t *data, uint32_t len);
struct vmdq_queue_info {
	unsigned weight, itr_us, cpu;
	bool cpu_set;      /* false: never given; the consumer picks */
	bool allocated, stopped;
	uint64_t owner;
	unsigned rss;      /* queues its frames spread over (1: itself) */
};
int vmdq_queue_get_info(struct vmdq_dev *dev, unsigned q,
			struct vmdq_queue_info *out);

/* Lifecycle (after NDIS VMQ).  alloc: queue q (or, with q < 0, the lowest
 * free one other than the default) is given to owner; returns the queue or
 * -ENOSPC/-EBUSY.  stop: clears the queue's filters and stops delivery; when
 * it returns no sorter touches the queue any more.  free: -EBUSY while the
 * consumer still has completed descriptors to poll or posted buffers to
 * reclaim, -EPERM for the default queue, 0 once the queue is free again. */
int vmdq_queue_alloc(struct vmdq_dev *dev, int q, uint64_t owner);
int vmdq_queue_stop(struct vmdq_dev *dev, unsigned q);
int vmdq_queue_free(struct vmdq_dev *dev, unsigned q);

/* ---- receive ---------------------------------------------------------- */

/* Sorts n frames (n <= VMDQ_MAX_BURST).  Every frame ends in one queue or
 * one drop counter.  res, if not NULL, receives one outcome per frame.
 * Returns the number of frames queued. */
unsigned vmdq_rx_burst(struct vmdq_dev *dev, const struct vmdq_frame *frames,
		       unsigned n, struct vmdq_rx_result *res);

/* ---- transmit (SPEC 1.5) ---------------------------------------------- */

struct vmdq_txd {
	const uint8_t *data;
	uint32_t len;
	uint32_t caplen;
	uint64_t ts_ns;   /* posting time */
	uint64_t cookie;
	uint64_t seq;     /* set by the device: global posting order */
	uint16_t queue;   /* set by vmdq_tx_pick */
	struct vmdq_offload off; /* carried through as posted */
};

int vmdq_txq_setup(struct vmdq_dev *dev, unsigned q, unsigned size);
/* Posts up to n frames on TX queue q; returns how many fit. */
unsigned vmdq_txq_post(struct vmdq_dev *dev, unsigned q,
		       const struct vmdq_txd *d, unsigned n);
unsigned vmdq_txq_pending(struct vmdq_dev *dev, unsigned q);
/* The arbiter: takes up to n frames in wire order. */
unsigned vmdq_tx_pick(struct vmdq_dev *dev, struct vmdq_txd *out, unsigned n);

/* ---- counters --------------------------------------------------------- */

struct vmdq_queue_stats {
	uint64_t frames, bytes, missed, errors;
	uint64_t tx_frames, tx_bytes;
};
int vmdq_queue_stats(struct vmdq_dev *dev, unsigned q,
		     struct vmdq_queue_stats *out);
struct vmdq_dev_stats {
	uint64_t frames_in;
	uint64_t drops[VMDQ_DROP__COUNT]; /* [MISSED] = sum of queue missed */
};
void vmdq_dev_stats(struct vmdq_dev *dev, struct vmdq_dev_stats *out);

/* ---- helpers ------------------------------------------------------------ */

/* Parses "aa:bb:cc:dd:ee:ff"; 0 or -EINVAL. */
int vmdq_mac_parse(const char *s, uint8_t mac[6]);
void vmdq_mac_format(const uint8_t mac[6], char out[18]);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
