/* SPDX-License-Identifier: MIT */
/*
 * The sorter: vmdq_rx_burst(), the device's receive engine.
 *
 * A burst is handled in chunks of 32 frames, in two passes (after VALE):
 *   1. parse every frame, settle errors and acceptance that need no table,
 *      compute its first lookup key and prefetch that hash bucket;
 *   2. in arrival order, resolve the lookups (pair -> MAC -> VLAN, SPEC 1.2)
 *      into a queue and deliver: copy the frame into the next posted buffer
 *      of its queue (a shared one only if the queue's rule admits it) and
 *      complete the descriptor.
 * Then each touched queue's index is published once, its counters updated
 * once and its interrupt raised if due.
 * The whole burst is sorted under one RCU read-side section, i.e. by one
 * snapshot of the configuration and filter table.
 */
#include <string.h>
#include <unistd.h>

/* The read-side lock is two instructions once inlined; liburcu inlines it
 * for code under a GPL-compatible licence, which vmdq's (MIT) is. */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#include "internal.h"

#define CHUNK 32

enum { ST_DONE, ST_LOOKUP };

static inline uint8_t first_drop(uint8_t err)
{
	if (err & VMDQ_ERR_RUNT)
		return VMDQ_DROP_RUNT;
	if (err & VMDQ_ERR_TRUNCATED)
		return VMDQ_DROP_TRUNCATED;
	if (err & VMDQ_ERR_OVERSIZE)
		return VMDQ_DROP_OVERSIZE;
	return VMDQ_DROP_CRC;
}

/* The key of the first table lookup a frame needs, 0 if none. */
static inline uint64_t first_key(const struct ftable *t, const struct parsed *p)
{
	if (p->vid && t->n_pair)
		return ft_key(p->dst, p->vid);
	if (t->n_mac)
		return ft_key(p->dst, 0);
	if (p->vid && t->n_vlan && !mac_is_multicast(p->dst))
		return ft_key(0, p->vid);
	return 0;
}

/* The full lookup chain of SPEC 1.2 for a non-broadcast destination. */
static inline const struct ft_entry *lookup(const struct ftable *t,
					    const struct parsed *p,
					    uint64_t k1, uint32_t h1)
{
	const struct ft_entry *e = NULL;
	if (k1)
		e = ft_find_at(t, k1, h1);
	if (e)
		return e;
	uint64_t pair = p->vid && t->n_pair ? ft_key(p->dst, p->vid) : 0;
	uint64_t mac = t->n_mac ? ft_key(p->dst, 0) : 0;
	if (k1 == pair && mac) {
		e = ft_find(t, mac);
		if (e)
			return e;
	}
	if (p->vid && t->n_vlan && !mac_is_multicast(p->dst)) {
		uint64_t vk = ft_key(0, p->vid);
		if (vk != k1)
			e = ft_find(t, vk);
	}
	return e;
}

/* The software DMA.  Small frames (the common case on a busy link) are
 * copied with two overlapping fixed-size moves instead of a call. */
static inline void copy_frame(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	if (len == 64) {
		memcpy(dst, src, 64);
	} else if (len >= 32 && len < 64) {
		memcpy(dst, src, 32);
		memcpy(dst + len - 32, src + len - 32, 32);
	} else {
		memcpy(dst, src, len);
	}
}

static void flush_queue(struct rxq *q)
{
	atomic_store_explicit(&q->fill_pub, q->fill, memory_order_release);
	uint32_t frames = q->fill - q->fill0;
	if (frames) {
		counter_add(&q->frames, frames);
		counter_add(&q->bytes, q->acc_bytes);
		if (q->acc_errors)
			counter_add(&q->errors, q->acc_errors);
	}
	if (q->acc_missed)
		counter_add(&q->missed, q->acc_missed);
	q->acc_errors = q->acc_missed = 0;
	q->acc_bytes = 0;
	q->touched = false;
}

void rxq_fire_irq(struct vmdq_dev *dev, struct rxq *q, unsigned qi,
		  uint64_t now)
{
	(void)dev;
	(void)qi;
	atomic_store_explicit(&q->irq_enabled, false, memory_order_relaxed);
	q->last_irq_ns = now;
	q->irq_pending = false;
	uint64_t one = 1;
	if (q->irq_fd1 && write(q->irq_fd1 - 1, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the consumer is
		 * already due to wake up. */
	}
}

/* Interrupts for the queues this burst touched. */
static void raise_irqs(struct vmdq_dev *dev, const uint16_t *touched,
		       unsigned nt)
{
	/* Pairs with the fence in vmdq_rxq_irq_enable(): either the consumer
	 * sees the frames we just published, or we see its enable.  Queues
	 * without an interrupt vector (pure polling, as in the benchmark)
	 * need no fence; it costs a store-buffer drain per burst. */
	bool any = false;
	for (unsigned i = 0; i < nt && !any; i++)
		any = __atomic_load_n(&dev->rxq[touched[i]].irq_fd1, __ATOMIC_RELAXED) != 0;
	if (!any)
		return;
	atomic_thread_fence(memory_order_seq_cst);
	uint64_t now = 0;
	for (unsigned i = 0; i < nt; i++) {
		struct rxq *q = &dev->rxq[touched[i]];
		if (!atomic_load_explicit(&q->irq_enabled, memory_order_relaxed) ||
		    q->irq_pending)
			continue;
		if (!now)
			now = dev_now(dev);
		uint64_t itr = __atomic_load_n(&q->itr_ns, __ATOMIC_RELAXED);
		if (itr == 0 || now - q->last_irq_ns >= itr) {
			rxq_fire_irq(dev, q, touched[i], now);
		} else {
			/* each queue at most once (irq_pending): the list has a
			 * slot per queue */
			q->irq_pending = true;
			dev->pending[dev->npending++] = touched[i];
		}
	}
}

uint64_t vmdq_dev_irq_service(struct vmdq_dev *dev)
{
	if (!dev->npending)
		return UINT64_MAX;
	uint64_t now = dev_now(dev), next = UINT64_MAX;
	unsigned keep = 0;
	for (unsigned i = 0; i < dev->npending; i++) {
		unsigned qi = dev->pending[i];
		struct rxq *q = &dev->rxq[qi];
		if (!atomic_load_explicit(&q->irq_enabled, memory_order_relaxed)) {
			q->irq_pending = false; /* consumer is polling anyway */
			continue;
		}
		uint64_t itr = __atomic_load_n(&q->itr_ns, __ATOMIC_RELAXED);
		uint64_t due = q->last_irq_ns + itr;
		if (now >= due) {
			rxq_fire_irq(dev, q, qi, now);
		} else {
			if (due - now < next)
				next = due - now;
			dev->pending[keep++] = (uint16_t)qi;
		}
	}
	dev->npending = keep;
	return next;
}

/* May a frame go into a shared buffer of queue q (vmdq_queue_set_access_vlan)?
 * The same rules the switch applies to a targeted vif's frames: no error
 * bits, a header replica it can read, and the vif's VLAN (untagged domain:
 * no tag at all; access VLAN V: the outer tag is V and is stripped). */
static inline bool shared_admits(struct rxq *q, const struct parsed *p, bool strip,
				 uint16_t hdr_len)
{
	if (p->errors || hdr_len < ETH_HLEN)
		return false;
	uint16_t a = atomic_load_explicit(&q->access, memory_order_relaxed);
	if (a == 0)
		return true;
	if (a == 1)
		return !p->tagged;
	return strip && p->vid == a - 1;
}

/* qsel values other than a queue number */
#define SEL_DROP (-1)   /* drop[i] says why */
#define SEL_LOOKUP (-2) /* needs the filter table */

/* Places one frame: a filter-table lookup if it needs one, then delivery
 * into the next posted buffer of its queue.  Returns 1 if queued. */
static inline unsigned place(struct vmdq_dev *dev, const struct sortcfg *c,
			     const struct vmdq_frame *f, const struct parsed *p,
			     int32_t qi, const uint64_t *key, const uint32_t *hash,
			     uint32_t home, const uint8_t *dropp, uint64_t *drops, uint16_t *touched,
			     unsigned *ntouched, struct vmdq_rx_result *res)
{
	uint32_t fid = 0;
	uint8_t drop = VMDQ_DROP_NONE;
	if (qi == SEL_LOOKUP) {
		const struct ft_entry *e = lookup(c->ft, p, *key, *hash);
		if (e) {
			qi = c->vmdq ? e->queue : 0;
			fid = c->vmdq ? e->id : 0;
		} else if (mac_is_multicast(p->dst) ? (c->allmulti || c->promisc)
			   : ((c->has_mac && p->dst == c->own_mac) || c->promisc)) {
			qi = (int32_t)home;
		} else {
			qi = SEL_DROP;
			drop = VMDQ_DROP_FILTERED;
		}
	}
	if (qi == SEL_DROP) {
		if (drop == VMDQ_DROP_NONE)
			drop = *dropp;
		drops[drop]++;
		goto result;
	}
	uint32_t spread = atomic_load_explicit(&dev->rxq[qi].rss, memory_order_relaxed);
	if (unlikely(spread > 1)) {
		/* VMDq + RSS: the pool's queue for this frame's flow */
		if ((uint32_t)qi + spread > c->nqueues)
			spread = c->nqueues - (uint32_t)qi; /* the device shrank */
		if (spread > 1)
			qi += (int32_t)(vmdq_flow_hash(f->data, p->dlen) % spread);
	}
	struct rxq *q = &dev->rxq[qi];
	if (unlikely(!q->touched)) {
		/* First frame for this queue in the burst.  A stopped queue's
		 * ring belongs to its consumer now (reclaim): count the frame
		 * without touching the ring, and leave the queue untouched so
		 * the next frame for it comes here too. */
		if (unlikely(atomic_load_explicit(&q->stopped, memory_order_acquire))) {
			counter_add(&q->missed, 1);
			goto missed;
		}
		q->touched = true;
		q->fill0 = q->fill;
		touched[(*ntouched)++] = (uint16_t)qi;
	}
	if (unlikely(q->fill == q->post_cache)) {
		q->post_cache = atomic_load_explicit(&q->post, memory_order_acquire);
		if (q->fill == q->post_cache) {
			q->acc_missed++;
			goto missed;
		}
	}
	struct vmdq_rxd *d = &q->ring[q->fill & q->mask];
	uint32_t dlen = p->dlen;
	uint16_t xflags = 0;
	bool strip = unlikely(p->tagged) && dlen >= ETH_HLEN + VLAN_HLEN &&
		     atomic_load_explicit(&q->strip, memory_order_relaxed);
	uint32_t blen = strip ? dlen - VLAN_HLEN : dlen;
	uint32_t lead = d->lead;
	if (unlikely(blen + lead > d->buf_size)) {
		q->acc_missed++; /* a buffer too small for the frame */
		goto missed;
	}
	if (likely(!strip && !d->hdr && !lead)) {
		copy_frame(d->buf, f->data, dlen);
	} else {
		uint8_t *dst = d->buf;
		bool admit = true;
		if (d->hdr) {
			/* Level 2: the frame goes once into the VM's buffer;
			 * the switch decides on its own replica of the header */
			uint16_t h = (uint16_t)(dlen < d->hdr_len ? dlen : d->hdr_len);
			if (h == 32) /* the usual size: a fixed move, no call */
				memcpy(d->hdr, f->data, 32);
			else
				memcpy(d->hdr, f->data, h);
			d->hdr_len = h;
			xflags |= VMDQ_RXD_TARGETED;
			/* ... but only a frame its consumer will deliver:
			 * decided before any byte reaches the VM's memory */
			admit = shared_admits(q, p, strip, h);
		}
		if (unlikely(!admit)) {
			xflags |= VMDQ_RXD_REFUSED;
			blen = 0;
		} else {
			if (lead) {
				/* the consumer's lead-in (a virtio-net header)
				 * goes with the frame: one pass over the
				 * buffer's lines */
				if (lead == 12)
					memcpy(dst, q->lead, 12);
				else
					memcpy(dst, q->lead, lead);
				dst += lead;
			}
			if (strip) {
				memcpy(dst, f->data, 12);
				memcpy(dst + 12, f->data + 16, dlen - 16);
				xflags |= VMDQ_RXD_STRIPPED;
			} else {
				copy_frame(dst, f->data, dlen);
			}
		}
	}
	if (unlikely(f->off.flags | f->off.gso_type)) {
		d->off = f->off;
		if (xflags & VMDQ_RXD_STRIPPED)
			off_untag(&d->off);
		xflags |= VMDQ_RXD_OFFLOAD;
	}
	d->len = blen;
	d->wire_len = p->wlen;
	d->filter_id = fid;
	d->ts_ns = f->ts_ns;
	d->vlan = p->vid;
	d->flags = (uint16_t)(p->dflags | xflags | (fid ? VMDQ_RXD_MATCH : 0));
	d->queue = (uint16_t)qi;
	q->fill++;
	q->acc_bytes += blen;
	if (unlikely(p->errors))
		q->acc_errors++;
	if (res)
		*res = (struct vmdq_rx_result){ .queue = qi, .filter_id = fid,
						.drop = VMDQ_DROP_NONE,
						.errors = p->errors, .match = fid != 0 };
	return 1;
missed:
	drop = VMDQ_DROP_MISSED;
	fid = 0;
result:
	if (res)
		*res = (struct vmdq_rx_result){ .queue = drop == VMDQ_DROP_MISSED ? qi : -1,
						.filter_id = fid, .drop = drop,
						.errors = p->errors, .match = false };
	return 0;
}

static inline __attribute__((always_inline)) unsigned
sort_chunk(struct vmdq_dev *dev, const struct sortcfg *c,
			   const struct vmdq_frame *fr, unsigned n,
			   struct vmdq_rx_result *res, uint64_t *drops,
			   uint16_t *touched, unsigned *ntouched)
{
	const struct ftable *t = c->ft;
	struct parsed p[CHUNK];
	uint64_t key[CHUNK];
	uint32_t hash[CHUNK];
	int32_t qsel[CHUNK];
	uint8_t drop[CHUNK];
	const uint32_t home = c->vmdq ? c->default_queue : 0;
	unsigned queued = 0;

	/* Start every frame's header on its way before touching any. */
	for (unsigned i = 0; i < n; i++)
		__builtin_prefetch(fr[i].data);

	/* pass 1: parse, settle what needs no table, prefetch buckets */
	for (unsigned i = 0; i < n; i++) {
		frame_parse(&fr[i], c->fcs, c->max_frame, &p[i]);
		uint8_t err = p[i].errors;
		/* (no error implies a readable header) */
		if (unlikely(err)) {
			if (!c->store_bad) {
				qsel[i] = SEL_DROP;
				drop[i] = first_drop(err);
				continue;
			}
			if ((err & VMDQ_ERR_RUNT) || !p[i].hdr_ok) {
				/* a runt, or truncated before the header ends */
				qsel[i] = (int32_t)home;
				continue;
			}
		}
		if (unlikely(p[i].dst == MAC_BCAST)) {
			qsel[i] = c->broadcast ? (int32_t)home : SEL_DROP;
			drop[i] = VMDQ_DROP_FILTERED;
			continue;
		}
		qsel[i] = SEL_LOOKUP;
		key[i] = first_key(t, &p[i]);
		hash[i] = ft_hash(t, key[i]);
		__builtin_prefetch(&t->e[hash[i]]);
	}

	/* pass 2: resolve lookups and deliver, in arrival order */
	for (unsigned i = 0; i < n; i++)
		queued += place(dev, c, &fr[i], &p[i], qsel[i], &key[i], &hash[i], home,
				&drop[i], drops, touched, ntouched, res ? &res[i] : NULL);
	return queued;
}

unsigned vmdq_rx_burst(struct vmdq_dev *dev, const struct vmdq_frame *frames,
		       unsigned n, struct vmdq_rx_result *res)
{
	uint64_t drops[VMDQ_DROP__COUNT] = { 0 };
	uint16_t touched[VMDQ_MAX_BURST];
	unsigned ntouched = 0, queued = 0;

	if (n > VMDQ_MAX_BURST)
		n = VMDQ_MAX_BURST;
	urcu_memb_read_lock();
	const struct sortcfg *c = rcu_dereference(dev->cfg);
	for (unsigned off = 0; off < n; off += CHUNK) {
		unsigned m = n - off < CHUNK ? n - off : CHUNK;
		/* two copies of the loop: the live path asks for no results */
		if (res)
			queued += sort_chunk(dev, c, frames + off, m, res + off, drops,
					     touched, &ntouched);
		else
			queued += sort_chunk(dev, c, frames + off, m, NULL, drops,
					     touched, &ntouched);
	}
	for (unsigned i = 0; i < ntouched; i++) {
		struct rxq *q = &dev->rxq[touched[i]];
		flush_queue(q);
		/* the consumer's pending bit, after the frames are published:
		 * its exchange of the word (acquire) pairs with this release */
		uint64_t *nb = __atomic_load_n(&q->notify, __ATOMIC_RELAXED);
		if (nb && q->fill != q->fill0)
			__atomic_fetch_or(&nb[touched[i] / 64], 1ull << (touched[i] % 64),
					  __ATOMIC_RELEASE);
	}
	urcu_memb_read_unlock();

	counter_add(&dev->frames_in, n);
	for (unsigned d = VMDQ_DROP_FILTERED; d < VMDQ_DROP_MISSED; d++)
		if (drops[d])
			counter_add(&dev->drops[d], drops[d]);
	if (ntouched)
		raise_irqs(dev, touched, ntouched);
	if (dev->npending)
		vmdq_dev_irq_service(dev);
	return queued;
}
