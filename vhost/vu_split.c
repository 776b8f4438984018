/* SPDX-License-Identifier: MIT */
/*
 * vhost/vu_split.c - split virtqueues (virtio 2.7): the avail ring's count,
 * chain walks through the descriptor table (direct and one level of
 * indirect), the used ring and its index, and notification suppression
 * (used_event / avail_event with EVENT_IDX, else the flags).  Reached
 * through vu.h's ring calls (vu.c); the checks both layouts share are in
 * vu_ring.h.  A split ring's size is a power of two (SET_VRING_NUM and the
 * ring's start check it), so indices are taken modulo it by a mask.
 */
#include <stdatomic.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "vu_ring.h"

unsigned vu_split_avail_count(struct vu_dev *d, struct vu_vring *v)
{
	uint16_t idx = ((volatile struct vring_avail *)v->avail)->idx;
	unsigned n = (uint16_t)(idx - v->last_avail);
	if (n > v->num) {
		vu_break(d, VU_E_AVAIL);
		return 0;
	}
	/* the entries are read after the index */
	atomic_thread_fence(memory_order_acquire);
	return n;
}

int vu_walk(struct vu_dev *d, struct vu_vring *v, uint16_t head, bool write,
	    struct vu_chain *c)
{
	c->head = head;
	c->nseg = 0;
	c->ndesc = 0;
	c->total = 0;
	if (head >= v->num)
		return vu_fail(d, VU_E_INDEX);
	const volatile struct vring_desc *tab = v->desc;
	uint32_t tabn = v->num, i = head, steps = 0, nd = 0;
	bool indirect = false;
	for (;;) {
		/* every field once: the guest may be rewriting them */
		uint64_t addr = tab[i].addr;
		uint32_t len = tab[i].len;
		uint16_t flags = tab[i].flags, next = tab[i].next;
		if (++steps > tabn)
			return vu_fail(d, VU_E_LOOP);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect || (flags & VRING_DESC_F_NEXT) || c->nseg)
				return vu_fail(d, VU_E_INDIRECT);
			const uint8_t *t = vu_indirect_table(d, v, addr, len);
			if (!t)
				return -1;
			tab = (const volatile struct vring_desc *)(const void *)t;
			tabn = len / 16;
			indirect = true;
			i = 0;
			steps = 0;
			continue;
		}
		/* every buffer descriptor counts, empty ones too */
		if (++nd > VU_MAX_SEGS)
			return vu_fail(d, VU_E_LONG);
		if (vu_add_element(d, c, addr, len, flags & VRING_DESC_F_WRITE, write) < 0)
			return -1;
		c->ndesc = nd;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = next;
		if (i >= tabn)
			return vu_fail(d, VU_E_INDEX);
	}
}

int vu_split_pop(struct vu_dev *d, struct vu_vring *v, bool write, struct vu_chain *c)
{
	uint16_t head = ((volatile struct vring_avail *)v->avail)->ring[v->last_avail & (v->num - 1)];
	v->last_avail++;
	if (vu_walk(d, v, head, write, c) < 0)
		return -1;
	if (v->inflight[head])
		return vu_fail(d, VU_E_REUSED);
	v->inflight[head] = 1;
	return 0;
}

void vu_split_unpop(struct vu_vring *v, const uint16_t *heads, unsigned n)
{
	for (unsigned k = n; k-- > 0;) {
		uint16_t h = heads[k];
		if (h >= v->num)
			continue;
		v->inflight[h] = 0;
		v->last_avail--;
	}
}

void vu_split_used_put(struct vu_vring *v, uint16_t head, uint32_t len)
{
	volatile struct vring_used_elem *e = &v->used->ring[v->used_idx & (v->num - 1)];
	e->id = head;
	e->len = len;
	v->used_idx++;
	if (head < v->num)
		v->inflight[head] = 0;
	v->need_call = true;
}

void vu_split_used_put_many(struct vu_vring *v, const struct vring_used_elem *e, unsigned n)
{
	/* whole runs of entries at once: the guest reads these lines, so
	 * write each of them in one go (a shadow of the used ring) */
	unsigned done = 0;
	while (done < n) {
		unsigned at = (uint16_t)(v->used_idx + done) & (v->num - 1);
		unsigned k = n - done < v->num - at ? n - done : v->num - at;
		memcpy((void *)&v->used->ring[at], e + done, k * sizeof(*e));
		done += k;
	}
	for (unsigned i = 0; i < n; i++)
		if (e[i].id < v->num)
			v->inflight[e[i].id] = 0;
	v->used_idx = (uint16_t)(v->used_idx + n);
	if (n)
		v->need_call = true;
}

/* The entries are visible before this (vu_used_publish's fence). */
void vu_split_publish(struct vu_vring *v)
{
	((volatile struct vring_used *)v->used)->idx = v->used_idx;
}

/* Does the guest want a call for what was published since the last one:
 * with EVENT_IDX, has used_idx passed its used_event; else is NO_INTERRUPT
 * clear? */
bool vu_split_want_call(const struct vu_dev *d, const struct vu_vring *v)
{
	if (d->features & (1ull << VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t ev = ((volatile uint16_t *)v->avail->ring)[v->num]; /* used_event */
		return !v->signalled_valid || vring_need_event(ev, v->used_idx, v->signalled);
	}
	return !(((volatile struct vring_avail *)v->avail)->flags & VRING_AVAIL_F_NO_INTERRUPT);
}

void vu_split_notify(const struct vu_dev *d, struct vu_vring *v, bool enable)
{
	if (d->features & (1ull << VIRTIO_RING_F_EVENT_IDX)) {
		if (enable) /* avail_event: kick us for the next one */
			((volatile uint16_t *)(void *)v->used->ring)[4 * v->num] = v->last_avail;
	} else {
		((volatile struct vring_used *)v->used)->flags =
			enable ? 0 : VRING_USED_F_NO_NOTIFY;
	}
}
