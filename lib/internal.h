/* SPDX-License-Identifier: MIT */
/*
 * Private to libvmdq: the device's layout.
 *
 * What the sorter reads lives in two places:
 *  - struct sortcfg, an immutable snapshot (modes, limits, the filter hash
 *    table) replaced as a whole and published with rcu_assign_pointer();
 *    the control path waits a grace period before freeing the old one;
 *  - struct rxq, per-queue ring state.  The sorter owns `fill` and the
 *    counters; the consumer owns `reap` and `post`.  Each side publishes its
 *    index with a release store that pairs with the other side's acquire
 *    load.  Producer and consumer state sit on separate cache lines.
 */
#ifndef VMDQ_INTERNAL_H
#define VMDQ_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmdq/device.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define CACHE_ALIGNED __attribute__((aligned(64)))

#define MAC_BCAST 0xffffffffffffull

/* Destination MAC as a 48-bit integer, first byte most significant. */
static inline uint64_t mac_to_u64(const uint8_t *m)
{
	return ((uint64_t)m[0] << 40) | ((uint64_t)m[1] << 32) |
	       ((uint64_t)m[2] << 24) | ((uint64_t)m[3] << 16) |
	       ((uint64_t)m[4] << 8) | (uint64_t)m[5];
}

static inline void u64_to_mac(uint64_t v, uint8_t *m)
{
	for (int i = 5; i >= 0; i--) {
		m[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline bool mac_is_multicast(uint64_t mac)
{
	return (mac >> 40) & 1;
}

/* ---- frame parsing (frame.c) --------------------------------------- */

struct parsed {
	uint64_t dst;     /* valid when hdr_ok */
	uint16_t vid;     /* outermost VID, 0 = none */
	uint8_t ntags;    /* VLAN tags seen at the front (at most 2 counted) */
	bool tagged;      /* outermost ethertype is a VLAN TPID */
	bool hdr_ok;      /* dst and the outer tag could be read */
	uint8_t errors;   /* VMDQ_ERR_* */
	uint16_t dflags;  /* descriptor flags: errors | VMDQ_RXD_TAGGED */
	uint32_t dlen;    /* bytes to deliver (FCS stripped, capped to caplen) */
	uint32_t wlen;    /* reported length, FCS excluded */
};

uint32_t frame_crc32(const uint8_t *data, uint32_t len);

#define ETH_HLEN 14
#define VLAN_HLEN 4

static inline bool is_vlan_tpid(uint16_t et)
{
	return et == 0x8100 || et == 0x88a8;
}

static inline uint16_t load_be16(const uint8_t *d)
{
	uint16_t v;
	memcpy(&v, d, 2);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return v;
}

/* The 48-bit destination MAC; reads 8 bytes, so the frame must have them. */
static inline uint64_t load_dst(const uint8_t *d)
{
	uint64_t w;
	memcpy(&w, d, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w >> 16;
}

/* Everything the checks of SPEC 1.1 need; the general case (errors,
 * truncation, FCS) is frame_parse_slow() in frame.c. */
void frame_parse_slow(const struct vmdq_frame *f, bool fcs, uint32_t max_frame,
		      struct parsed *p);

/* The offsets of o after the tag at bytes 12..15 of its frame was removed:
 * what lay behind the tag moved 4 bytes forward. */
static inline void off_untag(struct vmdq_offload *o)
{
	if (o->csum_start >= ETH_HLEN + VLAN_HLEN)
		o->csum_start = (uint16_t)(o->csum_start - VLAN_HLEN);
	if (o->hdr_len >= ETH_HLEN + VLAN_HLEN)
		o->hdr_len = (uint16_t)(o->hdr_len - VLAN_HLEN);
}

static inline void frame_parse(const struct vmdq_frame *f, bool fcs,
			       uint32_t max_frame, struct parsed *p)
{
	const uint8_t *d = f->data;
	uint32_t len = f->len;
	/* The common case: wholly captured, no FCS, at least a tagged
	 * header's length and at most max-frame, so no error is possible. */
	if (likely(!fcs && f->caplen == len && len >= ETH_HLEN + VLAN_HLEN &&
		   len <= max_frame)) {
		uint16_t et = load_be16(d + 12);
		p->dst = load_dst(d);
		p->wlen = p->dlen = len;
		p->errors = 0;
		p->hdr_ok = true;
		if (likely(!is_vlan_tpid(et))) {
			p->tagged = false;
			p->ntags = 0;
			p->vid = 0;
			p->dflags = 0;
		} else {
			p->tagged = true;
			p->dflags = VMDQ_RXD_TAGGED;
			p->vid = load_be16(d + 14) & 0x0fff;
			p->ntags = (uint8_t)(1 + is_vlan_tpid(load_be16(d + 16)));
		}
		return;
	}
	frame_parse_slow(f, fcs, max_frame, p);
}


/* ---- filter hash table (ftable.c) ---------------------------------- */

/* Key: MAC in bits 0..47, VID in bits 48..59.  MAC filter: VID 0; VLAN
 * filter: MAC 0; pair: both.  Key 0 marks an empty slot (no filter can have
 * an all-zero MAC and VID 0). */
static inline uint64_t ft_key(uint64_t mac, uint16_t vid)
{
	return mac | ((uint64_t)vid << 48);
}

struct ft_entry {
	uint64_t key;
	uint32_t id;
	uint16_t queue;
	uint16_t _pad;
};

struct ftable {
	uint32_t mask;
	uint32_t shift;
	uint32_t n_mac, n_pair, n_vlan;
	struct ft_entry e[];
};

/* Control side: a mutable table.  insert grows it (it may move: *t is
 * updated); -ENOMEM leaves it as it was. */
struct ftable *ftable_new(void);
int ftable_insert(struct ftable **t, uint64_t key, uint32_t id, uint16_t queue,
		  enum vmdq_filter_kind kind);
void ftable_remove(struct ftable *t, uint64_t key, enum vmdq_filter_kind kind);
struct ftable *ftable_dup(const struct ftable *t);
void ftable_free(struct ftable *t);

static inline uint32_t ft_hash(const struct ftable *t, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> t->shift) & t->mask;
}

static inline const struct ft_entry *ft_find_at(const struct ftable *t,
						uint64_t key, uint32_t i)
{
	for (;;) {
		const struct ft_entry *e = &t->e[i];
		if (e->key == key)
			return e;
		if (e->key == 0)
			return NULL;
		i = (i + 1) & t->mask;
	}
}

static inline const struct ft_entry *ft_find(const struct ftable *t,
					     uint64_t key)
{
	return ft_find_at(t, key, ft_hash(t, key));
}

/* ---- the device ----------------------------------------------------- */

struct sortcfg {
	bool vmdq, promisc, allmulti, broadcast, store_bad, fcs, has_mac;
	uint64_t own_mac;
	uint32_t max_frame;
	uint32_t nqueues;
	uint32_t default_queue;
	struct ftable *ft;
};

struct rxq {
	/* sorter side */
	uint32_t fill CACHE_ALIGNED; /* next slot to complete (private) */
	uint32_t post_cache;         /* last seen value of post */
	uint32_t mask;
	bool touched;
	_Atomic bool stopped;
	_Atomic bool strip;          /* VLAN strip on */
	_Atomic uint16_t access;     /* shared buffers: 0 any VLAN, 1 untagged only,
				      * 1 + V: VLAN V only (vmdq_queue_set_access_vlan) */
	_Atomic uint32_t rss;        /* frames for it spread over rss queues (0, 1: none) */
	uint8_t lead[16];            /* lead-in template (vmdq_rxq_set_lead) */
	uint32_t fill0;              /* fill when this burst first touched it */
	uint32_t acc_errors, acc_missed; /* this burst */
	uint64_t acc_bytes;
	struct vmdq_rxd *ring;
	_Atomic uint32_t fill_pub;   /* fill, published to the consumer */
	_Atomic uint64_t frames, bytes, missed, errors;
	uint64_t last_irq_ns;
	uint64_t itr_ns;
	bool irq_pending;
	int irq_fd1;       /* eventfd + 1; 0 = no vector (zeroed memory) */
	uint64_t *notify;  /* vmdq_rxq_set_notify's bitmap, or NULL (__atomic) */
	/* consumer side */
	_Atomic uint32_t post CACHE_ALIGNED; /* next slot the consumer posts */
	uint32_t reap;                       /* next slot the consumer polls */
	uint32_t reclaim;                    /* after stop: next to reclaim */
	_Atomic bool irq_enabled;
	/* control */
	unsigned weight_m1, itr_us, cpu; /* weight - 1: zeroed memory is weight 1 */
	bool cpu_set;                     /* cpu was given (else: the main worker's) */
	bool allocated;
	/* Level 2: the owner's shared memory (consumer side) */
	struct vmdq_mem_region shm[VMDQ_MAX_MEM_REGIONS];
	unsigned nshm;
	uint64_t owner;
};

struct txq {
	_Atomic uint32_t tail CACHE_ALIGNED; /* producer */
	_Atomic uint32_t head CACHE_ALIGNED; /* arbiter */
	uint32_t mask;
	struct vmdq_txd *ring;
	int64_t deficit;
	_Atomic uint64_t frames, bytes;
};

struct vmdq_dev {
	struct sortcfg *cfg; /* RCU-published snapshot (rcu_dereference) */

	/* control-side state, under ctl */
	pthread_mutex_t ctl;
	int batch;
	bool dirty_cfg, dirty_ft;
	struct sortcfg work; /* next snapshot's values (ft unused) */
	enum vmdq_profile profile;
	enum vmdq_arbiter arbiter;
	struct vmdq_filter *filters; /* sorted by id */
	size_t nfilters, cap_filters;
	struct ftable *index; /* control-side key index; copied to publish */
	uint32_t next_id;

	/* data-path counters */
	_Atomic uint64_t frames_in CACHE_ALIGNED;
	_Atomic uint64_t drops[VMDQ_DROP__COUNT];

	uint64_t (*now_ns)(void *);
	void *now_arg;
	uint16_t *pending; /* queues with a held-back interrupt */
	unsigned npending;

	/* transmit arbiter (one thread) */
	_Atomic uint64_t tx_seq;
	_Atomic uint64_t tx_nonempty[VMDQ_MAX_QUEUES / 64];
	_Atomic unsigned tx_words; /* words of tx_nonempty ever used (scan limit) */
	int tx_last;        /* rr: queue served last; drr: queue in service */
	_Atomic int arb;    /* enum vmdq_arbiter, read by the arbiter */
	_Atomic uint32_t tx_max_frame; /* drr quantum unit */

	_Atomic unsigned q_hw; /* no queue at or above this was ever used */
	struct rxq *rxq; /* VMDQ_MAX_QUEUES */
	struct txq *txq; /* VMDQ_MAX_QUEUES */
};

uint64_t dev_now(struct vmdq_dev *dev);

/* Notes that queue q is in use, so walks over all queues can stop early. */
static inline void dev_touch_queue(struct vmdq_dev *dev, unsigned q)
{
	unsigned hw = atomic_load_explicit(&dev->q_hw, memory_order_relaxed);
	while (q >= hw && !atomic_compare_exchange_weak(&dev->q_hw, &hw, q + 1)) {
	}
}
void rxq_fire_irq(struct vmdq_dev *dev, struct rxq *q, unsigned qi,
		  uint64_t now);

static inline void counter_add(_Atomic uint64_t *c, uint64_t v)
{
	/* One writer per counter: a relaxed load and store is enough, and
	 * readers on other threads see whole values. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

#endif
