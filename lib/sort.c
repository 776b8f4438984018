/* SPDX-License-Identifier: MIT */
/*
 * The sorter: vmdq_rx_burst(), the device's receive engine.
 *
 * A burst is handled in chunks of 32 frames, in three passes (after VALE):
 *   1. parse every frame, settle errors and acceptance that need no table,
 *      compute its first lookup key and prefetch that hash bucket;
 *   2. resolve the lookups (pair -> MAC -> VLAN, SPEC 1.2) into a queue;
 *   3. deliver: copy each frame into the next posted buffer of its queue and
 *      complete the descriptor; then publish each touched queue's index once,
 *      update its counters once and raise its interrupt if due.
 * The whole burst is sorted under one RCU read-side section, i.e. by one
 * snapshot of the configuration and filter table.
 */
#include <string.h>
#include <unistd.h>

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

static void flush_queue(struct vmdq_dev *dev, struct rxq *q)
{
	atomic_store_explicit(&q->fill_pub, q->fill, memory_order_release);
	if (q->acc_frames) {
		counter_add(&q->frames, q->acc_frames);
		counter_add(&q->bytes, q->acc_bytes);
		if (q->acc_errors)
			counter_add(&q->errors, q->acc_errors);
	}
	if (q->acc_missed)
		counter_add(&q->missed, q->acc_missed);
	q->acc_frames = q->acc_errors = q->acc_missed = 0;
	q->acc_bytes = 0;
	q->touched = false;
	(void)dev;
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

static unsigned sort_chunk(struct vmdq_dev *dev, const struct sortcfg *c,
			   const struct vmdq_frame *fr, unsigned n,
			   struct vmdq_rx_result *res, uint64_t *drops,
			   uint16_t *touched, unsigned *ntouched)
{
	const struct ftable *t = c->ft;
	struct parsed p[CHUNK];
	uint64_t key[CHUNK];
	uint32_t hash[CHUNK];
	int32_t qsel[CHUNK];
	uint32_t fid[CHUNK];
	uint8_t st[CHUNK], drop[CHUNK];
	const uint32_t home = c->vmdq ? c->default_queue : 0;
	unsigned queued = 0;

	/* Start every frame's header on its way before touching any. */
	for (unsigned i = 0; i < n; i++)
		__builtin_prefetch(fr[i].data);

	/* pass 1: parse, settle what needs no table, prefetch buckets */
	for (unsigned i = 0; i < n; i++) {
		frame_parse(&fr[i], c->fcs, c->max_frame, &p[i]);
		qsel[i] = -1;
		fid[i] = 0;
		drop[i] = VMDQ_DROP_NONE;
		st[i] = ST_DONE;
		uint8_t err = p[i].errors;
		if (unlikely(err)) {
			if (!c->store_bad) {
				drop[i] = first_drop(err);
				continue;
			}
			if (err & VMDQ_ERR_RUNT) {
				qsel[i] = (int32_t)home;
				continue;
			}
		}
		if (unlikely(!p[i].hdr_ok)) {
			qsel[i] = (int32_t)home; /* truncated before the header */
			continue;
		}
		if (unlikely(p[i].dst == MAC_BCAST)) {
			if (c->broadcast)
				qsel[i] = (int32_t)home;
			else
				drop[i] = VMDQ_DROP_FILTERED;
			continue;
		}
		st[i] = ST_LOOKUP;
		key[i] = first_key(t, &p[i]);
		if (key[i]) {
			hash[i] = ft_hash(t, key[i]);
			__builtin_prefetch(&t->e[hash[i]]);
		}
	}

	/* pass 2: resolve lookups into queues */
	for (unsigned i = 0; i < n; i++) {
		if (st[i] != ST_LOOKUP)
			continue;
		const struct ft_entry *e = lookup(t, &p[i], key[i], hash[i]);
		if (e) {
			if (c->vmdq) {
				qsel[i] = e->queue;
				fid[i] = e->id;
			} else {
				qsel[i] = 0;
			}
		} else if (mac_is_multicast(p[i].dst)) {
			if (c->allmulti || c->promisc)
				qsel[i] = (int32_t)home;
			else
				drop[i] = VMDQ_DROP_FILTERED;
		} else if ((c->has_mac && p[i].dst == c->own_mac) || c->promisc) {
			qsel[i] = (int32_t)home;
		} else {
			drop[i] = VMDQ_DROP_FILTERED;
		}
	}

	/* Start the descriptors each frame will complete on their way, then
	 * (once they have had time to arrive) the buffers they point at.  A
	 * slot beyond the posted ones is harmless to prefetch: pass 3 checks. */
	struct vmdq_rxd *slot[CHUNK];
	for (unsigned i = 0; i < n; i++) {
		slot[i] = NULL;
		if (qsel[i] < 0)
			continue;
		struct rxq *q = &dev->rxq[qsel[i]];
		if (likely(q->ring)) {
			slot[i] = &q->ring[(q->fill + q->resv++) & q->mask];
			__builtin_prefetch(slot[i], 1);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (!slot[i])
			continue;
		dev->rxq[qsel[i]].resv = 0;
		__builtin_prefetch(slot[i]->buf, 1);
	}

	/* pass 3: deliver into posted buffers */
	for (unsigned i = 0; i < n; i++) {
		int32_t qi = qsel[i];
		if (qi < 0) {
			drops[drop[i]]++;
			goto result;
		}
		struct rxq *q = &dev->rxq[qi];
		if (unlikely(atomic_load_explicit(&q->stopped, memory_order_acquire))) {
			/* A stopped queue's ring belongs to its consumer now
			 * (reclaim): count the frame without touching it. */
			counter_add(&q->missed, 1);
			qsel[i] = -1;
			drop[i] = VMDQ_DROP_MISSED;
			fid[i] = 0;
			goto result;
		}
		if (!q->touched) {
			q->touched = true;
			touched[(*ntouched)++] = (uint16_t)qi;
		}
		uint32_t dlen = p[i].dlen;
		if (unlikely(q->fill == q->post_cache)) {
			q->post_cache = atomic_load_explicit(&q->post, memory_order_acquire);
			if (q->fill == q->post_cache)
				goto missed;
		}
		struct vmdq_rxd *d = &q->ring[q->fill & q->mask];
		if (unlikely(dlen > d->buf_size))
			goto missed; /* a buffer too small for the frame */
		memcpy(d->buf, fr[i].data, dlen);
		d->len = dlen;
		d->wire_len = p[i].wlen;
		d->filter_id = fid[i];
		d->ts_ns = fr[i].ts_ns;
		d->vlan = p[i].vid;
		d->flags = (uint16_t)(p[i].errors | (fid[i] ? VMDQ_RXD_MATCH : 0) |
				      (p[i].tagged ? VMDQ_RXD_TAGGED : 0));
		d->queue = (uint16_t)qi;
		q->fill++;
		q->acc_frames++;
		q->acc_bytes += dlen;
		q->acc_errors += p[i].errors != 0;
		queued++;
		goto result;
missed:
		q->acc_missed++;
		qsel[i] = -1;
		drop[i] = VMDQ_DROP_MISSED;
		fid[i] = 0;
result:
		if (res) {
			res[i] = (struct vmdq_rx_result){
				.queue = qsel[i] < 0 && drop[i] == VMDQ_DROP_MISSED ? qi : qsel[i],
				.filter_id = fid[i], .drop = drop[i],
				.errors = p[i].errors, .match = fid[i] != 0,
			};
		}
	}
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
		queued += sort_chunk(dev, c, frames + off, m, res ? res + off : NULL,
				     drops, touched, &ntouched);
	}
	for (unsigned i = 0; i < ntouched; i++)
		flush_queue(dev, &dev->rxq[touched[i]]);
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
