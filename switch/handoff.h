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
 * A pending bit (sw_worker.pend, bit q for the vif whose first queue is q)
 * tells the vif's worker to visit it: a producer notes the vif in its `sig`
 * list when it pushes (once per round: ib->signal) and, at the end of its
 * round, after every push of the round was published, sets the bit with an
 * atomic OR (release: pairs with the consumer's exchange of the word,
 * acquire, after which its acquire load of tail sees the frames).  The
 * device sets bits the same way for the frames it places on a vif's queue
 * (vmdq_rxq_set_notify).  A bit is never cleared but by the exchange that
 * reads it, so a push is either seen by a look that follows the exchange,
 * or sets the bit again for the next round: nothing is lost.
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

/* Tells worker v->worker to visit v (its pending bit; see above). */
static inline void pend_set(struct vmdq_switch *sw, const struct sw_vif *v)
{
	unsigned q = (unsigned)v->queue;
	__atomic_fetch_or(&sw->wk[v->worker].pend[q / 64], 1ull << (q % 64), __ATOMIC_RELEASE);
}

/* Producer w pushed into v's inbox from it: v's worker hears of it at the
 * end of w's round (signal_inboxes), once per round. */
static inline void want_signal(struct vmdq_switch *sw, int w, struct sw_vif *v)
{
	struct sw_inbox *ib = v->inbox[w];
	if (!ib->signal) {
		ib->signal = true;
		sw->wk[w].sig[sw->wk[w].nsig++] = v;
	}
}

/* End of worker w's round: every vif it pushed frames to gets its bit,
 * before the doorbells ring (ring_doorbells' fence orders them). */
static inline void signal_inboxes(struct vmdq_switch *sw, int w)
{
	struct sw_worker *k = &sw->wk[w];
	for (unsigned i = 0; i < k->nsig; i++) {
		struct sw_vif *v = k->sig[i];
		v->inbox[w]->signal = false;
		pend_set(sw, v);
	}
	k->nsig = 0;
}

/* The port of v (worker w's own) is flushed after the round, once. */
static inline void want_flush(struct vmdq_switch *sw, int w, struct sw_vif *v)
{
	if (!v->flush_due) {
		v->flush_due = true;
		sw->wk[w].flushq[sw->wk[w].nflush++] = v;
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
static inline bool inbox_push(struct sw_inbox *ib, const uint8_t *d, uint32_t len, uint64_t ts,
			      const struct vmdq_offload *off)
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
	ib->off[k] = *off;
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
