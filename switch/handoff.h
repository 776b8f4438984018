/* SPDX-License-Identifier: MIT */
/*
 * switch/handoff.h - frames and wake-ups between workers (the hand-over
 * arrows of the data flow: default queue -> a vif of another worker, VM ->
 * VM across workers, VM -> the arbiter on the main worker).
 *
 * An inbox (struct sw_inbox) is an SPSC ring of copies: the producer is
 * the worker of its index in vif->inbox[], the consumer the vif's worker.
 *   tail: written by the producer only.  Its release store publishes the
 *         slot's bytes, len and ts; the consumer's acquire load of tail
 *         pairs with it.
 *   head: written by the consumer only.  Its release store gives slots
 *         back after the port's tx copied them; the producer's acquire load
 *         of head pairs with it before it writes a slot again.
 * A doorbell is a worker's eventfd.  A producer notes whom to wake during a
 * round (want_ring, plain: the round's own word) and rings after the round
 * (ring_doorbells): its seq_cst fence pairs with the one in
 * vmdq_switch_wait, between the sleeper's store of `sleeping` and its last
 * look for work: either the sleeper sees the frames, or the producer sees
 * it sleeping and writes the eventfd.
 */
#ifndef VMDQ_SWITCH_HANDOFF_H
#define VMDQ_SWITCH_HANDOFF_H

#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Rings worker m's doorbell after this round (if it sleeps). */
static inline void want_ring(struct vmdq_switch *sw, int self, int m)
{
	if (m != self)
		sw->wk[self].ring |= 1u << m;
}

static inline void ring_doorbells(struct vmdq_switch *sw, int self)
{
	uint32_t r = sw->wk[self].ring;
	if (!r)
		return;
	sw->wk[self].ring = 0;
	/* pairs with the fence in vmdq_switch_wait: either the sleeper sees
	 * our frames when it looks once more, or we see it sleeping */
	atomic_thread_fence(memory_order_seq_cst);
	for (int m = 0; m < SW_MAX_WORKERS; m++) {
		if (!(r & (1u << m)) || !atomic_load_explicit(&sw->wk[m].sleeping,
							       memory_order_relaxed))
			continue;
		uint64_t one = 1;
		if (write(sw->wk[m].efd, &one, sizeof(one)) < 0) {
			/* saturated: it is awake anyway */
		}
	}
}

/* Producer: frames waiting in ib (NULL: no inbox). */
static inline uint32_t inbox_used(const struct sw_inbox *ib)
{
	return atomic_load_explicit(&ib->tail, memory_order_relaxed) -
	       atomic_load_explicit(&ib->head, memory_order_acquire);
}

/* Producer: copies a frame into ib.  False if there is no inbox (a vif
 * made before the worker, or whose owner changed in vif del), it is full,
 * or the frame is larger than a slot. */
static inline bool inbox_push(struct sw_inbox *ib, const uint8_t *d, uint32_t len, uint64_t ts)
{
	if (!ib)
		return false;
	uint32_t tail = atomic_load_explicit(&ib->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&ib->head, memory_order_acquire);
	if (tail - head >= SW_INBOX || len > SW_TX_BUF)
		return false;
	unsigned k = tail % SW_INBOX;
	memcpy(SW_INBOX_SLOT(ib, k), d, len);
	ib->len[k] = len;
	ib->ts[k] = ts;
	atomic_store_explicit(&ib->tail, tail + 1, memory_order_release);
	return true;
}

/* Consumer: nothing waiting (or no inbox). */
static inline bool inbox_empty(const struct sw_inbox *ib)
{
	return !ib || atomic_load_explicit(&ib->tail, memory_order_acquire) ==
		      atomic_load_explicit(&ib->head, memory_order_relaxed);
}

#endif
