/* SPDX-License-Identifier: MIT */
/*
 * Transmit queues and the arbiter (SPEC 1.5).
 *
 * Each TX queue is a single-producer single-consumer FIFO.  Producers set
 * their queue's bit in tx_nonempty after publishing a frame; the arbiter
 * clears a bit only after it has seen the ring empty, and looks at the ring
 * again after clearing, so a frame posted in between is never stranded.
 *
 *   rr:   one frame from each non-empty queue in turn, starting after the
 *         queue served last (the first pick is the lowest non-empty queue).
 *   drr:  deficit round robin over bytes, quantum = weight x max-frame, the
 *         same cyclic order as rr.
 *   fifo: the frame posted first of all queues' heads (one shared queue).
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

int vmdq_txq_setup(struct vmdq_dev *dev, unsigned q, unsigned size)
{
	if (q >= VMDQ_MAX_QUEUES || size < 2 || size > (1u << 22) || (size & (size - 1)))
		return -EINVAL;
	struct vmdq_txd *ring = calloc(size, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	pthread_mutex_lock(&dev->ctl);
	dev_touch_queue(dev, q);
	struct txq *t = &dev->txq[q];
	if (t->ring && atomic_load(&t->tail) != atomic_load(&t->head)) {
		pthread_mutex_unlock(&dev->ctl);
		free(ring);
		return -EBUSY;
	}
	struct vmdq_txd *old = t->ring;
	t->ring = ring;
	t->mask = size - 1;
	atomic_store(&t->head, 0);
	atomic_store(&t->tail, 0);
	t->deficit = 0;
	pthread_mutex_unlock(&dev->ctl);
	free(old);
	return 0;
}

unsigned vmdq_txq_post(struct vmdq_dev *dev, unsigned q,
		       const struct vmdq_txd *d, unsigned n)
{
	if (q >= VMDQ_MAX_QUEUES || !dev->txq[q].ring)
		return 0;
	struct txq *t = &dev->txq[q];
	uint32_t tail = atomic_load_explicit(&t->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&t->head, memory_order_acquire);
	uint32_t space = t->mask + 1 - (tail - head);
	if (n > space)
		n = space;
	if (!n)
		return 0;
	uint64_t seq = atomic_fetch_add_explicit(&dev->tx_seq, n, memory_order_relaxed);
	for (unsigned i = 0; i < n; i++) {
		struct vmdq_txd *s = &t->ring[(tail + i) & t->mask];
		*s = d[i];
		s->seq = seq + i;
		s->queue = (uint16_t)q;
	}
	/* Pairs with the arbiter's acquire load of tail. */
	atomic_store_explicit(&t->tail, tail + n, memory_order_release);
	_Atomic uint64_t *w = &dev->tx_nonempty[q / 64];
	uint64_t bit = 1ull << (q % 64);
	/* the arbiter scans only the words queues have used (grows only);
	 * before the bit, so a scan that sees the bit covers its word */
	unsigned have = atomic_load_explicit(&dev->tx_words, memory_order_relaxed);
	while (have < q / 64 + 1 &&
	       !atomic_compare_exchange_weak(&dev->tx_words, &have, q / 64 + 1)) {
		/* another producer raised it meanwhile: look again */
	}
	if (!(atomic_load_explicit(w, memory_order_relaxed) & bit))
		atomic_fetch_or(w, bit);
	return n;
}

unsigned vmdq_txq_pending(struct vmdq_dev *dev, unsigned q)
{
	if (q >= VMDQ_MAX_QUEUES)
		return 0;
	struct txq *t = &dev->txq[q];
	return atomic_load(&t->tail) - atomic_load(&t->head);
}

static bool txq_empty(struct txq *t)
{
	return atomic_load_explicit(&t->tail, memory_order_acquire) ==
	       atomic_load_explicit(&t->head, memory_order_relaxed);
}

/* Is queue q non-empty?  Clears a stale bit (see the file comment). */
static bool tx_check(struct vmdq_dev *dev, unsigned q)
{
	struct txq *t = &dev->txq[q];
	if (!txq_empty(t))
		return true;
	atomic_fetch_and(&dev->tx_nonempty[q / 64], ~(1ull << (q % 64)));
	if (!txq_empty(t)) {
		atomic_fetch_or(&dev->tx_nonempty[q / 64], 1ull << (q % 64));
		return true;
	}
	return false;
}

/* The first non-empty queue cyclically after `after` (-1: from 0). */
static int tx_next(struct vmdq_dev *dev, int after)
{
	unsigned words = atomic_load_explicit(&dev->tx_words, memory_order_acquire);
	if (!words)
		return -1;
	unsigned start = (unsigned)(after + 1) % (words * 64);
	for (unsigned k = 0; k <= words; k++) {
		unsigned wi = (start / 64 + k) % words;
		uint64_t w = atomic_load_explicit(&dev->tx_nonempty[wi], memory_order_acquire);
		if (k == 0)
			w &= ~0ull << (start % 64);
		else if (k == words)
			w &= (start % 64) ? ~(~0ull << (start % 64)) : 0;
		while (w) {
			unsigned q = wi * 64 + (unsigned)__builtin_ctzll(w);
			if (tx_check(dev, q))
				return (int)q;
			w &= w - 1;
		}
	}
	return -1;
}

static const struct vmdq_txd *tx_head(struct vmdq_dev *dev, unsigned q)
{
	struct txq *t = &dev->txq[q];
	return &t->ring[atomic_load_explicit(&t->head, memory_order_relaxed) & t->mask];
}

static void tx_take(struct vmdq_dev *dev, unsigned q, struct vmdq_txd *out)
{
	struct txq *t = &dev->txq[q];
	uint32_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
	*out = t->ring[head & t->mask];
	/* Pairs with the producer's acquire load of head: the slot is free. */
	atomic_store_explicit(&t->head, head + 1, memory_order_release);
	counter_add(&t->frames, 1);
	counter_add(&t->bytes, out->len);
}

static int pick_fifo(struct vmdq_dev *dev)
{
	int best = -1;
	uint64_t best_seq = UINT64_MAX;
	for (int q = tx_next(dev, -1), first = q; q >= 0;) {
		uint64_t s = tx_head(dev, (unsigned)q)->seq;
		if (s < best_seq) {
			best_seq = s;
			best = q;
		}
		q = tx_next(dev, q);
		if (q <= first)
			break;
	}
	return best;
}

static int pick_drr(struct vmdq_dev *dev)
{
	uint32_t unit = atomic_load_explicit(&dev->tx_max_frame, memory_order_relaxed);
	int q = dev->tx_last;
	for (;;) {
		if (q >= 0) {
			struct txq *t = &dev->txq[q];
			if (tx_check(dev, (unsigned)q)) {
				uint32_t len = tx_head(dev, (unsigned)q)->len;
				if (len <= t->deficit) {
					t->deficit -= len;
					dev->tx_last = q;
					return q;
				}
			} else {
				t->deficit = 0; /* an idle queue keeps no credit */
			}
		}
		int nq = tx_next(dev, q);
		if (nq < 0) {
			dev->tx_last = -1;
			return -1;
		}
		unsigned w = __atomic_load_n(&dev->rxq[nq].weight_m1, __ATOMIC_RELAXED) + 1;
		dev->txq[nq].deficit += (int64_t)w * unit;
		q = nq;
	}
}

/* Round robin for a burst: the queues with frames now, found once, then
 * one frame from each in turn (the order the per-frame scan gives, without
 * a scan per frame).  Queues that fill meanwhile wait for the next call. */
#define RR_SNAP 256
static unsigned pick_rr_batch(struct vmdq_dev *dev, struct vmdq_txd *out, unsigned n)
{
	uint16_t qs[RR_SNAP];
	uint32_t left[RR_SNAP];
	unsigned nq = 0;
	for (int q = tx_next(dev, dev->tx_last), first = q; q >= 0 && nq < RR_SNAP;) {
		qs[nq] = (uint16_t)q;
		left[nq++] = vmdq_txq_pending(dev, (unsigned)q);
		q = tx_next(dev, q);
		if (q == first)
			break;
	}
	unsigned done = 0;
	while (done < n) {
		bool any = false;
		for (unsigned i = 0; i < nq && done < n; i++) {
			if (!left[i])
				continue;
			tx_take(dev, qs[i], &out[done++]);
			left[i]--;
			dev->tx_last = qs[i];
			any = true;
		}
		if (!any)
			break;
	}
	return done;
}

unsigned vmdq_tx_pick(struct vmdq_dev *dev, struct vmdq_txd *out, unsigned n)
{
	enum vmdq_arbiter a = (enum vmdq_arbiter)atomic_load_explicit(&dev->arb, memory_order_relaxed);
	unsigned done = 0;
	while (done < n) {
		int q;
		switch (a) {
		case VMDQ_ARB_FIFO:
			q = pick_fifo(dev);
			break;
		case VMDQ_ARB_DRR:
			q = pick_drr(dev);
			break;
		default:
			if (n - done > 1)
				return done + pick_rr_batch(dev, out + done, n - done);
			q = tx_next(dev, dev->tx_last);
			if (q >= 0)
				dev->tx_last = q;
			break;
		}
		if (q < 0)
			break;
		tx_take(dev, (unsigned)q, &out[done++]);
		if (a == VMDQ_ARB_DRR && txq_empty(&dev->txq[q]))
			dev->txq[q].deficit = 0;
	}
	return done;
}
