/* SPDX-License-Identifier: MIT */
/*
 * vhost/vu_packed.c - packed virtqueues (virtio 2.8): counting the chains
 * the driver made available, taking a chain (consecutive descriptors, or
 * one with an indirect table), used descriptors, and event suppression
 * (the driver area for calls, the device area for kicks).  Reached through
 * vu.h's ring calls (vu.c), which check the ring's positions first
 * (vu_pk_pos_ok); the positions' arithmetic and the checks both layouts
 * share are in vu_ring.h.
 */
#include <stdatomic.h>

#include <linux/virtio_ring.h>

#include "vu_ring.h"

/* Made available in the lap whose wrap counter is wrap: AVAIL equal to it,
 * USED not (virtio 2.8.1). */
static inline bool pk_avail(uint16_t flags, bool wrap)
{
	return !!(flags & (1u << VRING_PACKED_DESC_F_AVAIL)) == wrap &&
	       !!(flags & (1u << VRING_PACKED_DESC_F_USED)) != wrap;
}

static inline volatile struct vring_packed_desc *pk_ring(const struct vu_vring *v)
{
	return (volatile struct vring_packed_desc *)(void *)v->desc;
}

/* Chains the driver made available from last_avail on: a chain counts once
 * its last descriptor (no NEXT) is seen available.  The driver makes a
 * chain's first descriptor available after the rest, and we read them in
 * ring order: a chain that runs into a descriptor not available, or round
 * the whole ring, is a lie (too long for what was made available), and the
 * device breaks. */
unsigned vu_packed_avail_count(struct vu_dev *d, struct vu_vring *v)
{
	volatile struct vring_packed_desc *r = pk_ring(v);
	uint32_t c = v->last_avail, steps = 0, len = 0;
	unsigned chains = 0;
	bool open = false;
	for (; steps < v->num && chains < VU_PACKED_SCAN; steps++) {
		uint16_t f = r[vu_pk_slot(v, c)].flags;
		if (!pk_avail(f, vu_pk_wrap(v, c)))
			break;
		/* the next one's flags after this one's */
		atomic_thread_fence(memory_order_acquire);
		c = vu_pk_add(v, c, 1);
		open = f & VRING_DESC_F_NEXT;
		if (++len > VU_MAX_SEGS)
			break; /* longer than a chain may be */
		if (!open) {
			chains++;
			len = 0;
		}
	}
	if (len > VU_MAX_SEGS)
		open = true;
	if (open) {
		vu_break(d, VU_E_LONG);
		return 0;
	}
	/* the descriptors are read after their flags */
	atomic_thread_fence(memory_order_acquire);
	return chains;
}

/* The chain at last_avail: consecutive descriptors (NEXT on all but the
 * last, which carries the buffer id), or one descriptor with an indirect
 * table.  Every descriptor must be available in its lap; a chain longer
 * than the ring is a loop; the buffer id must be below the ring size (it
 * indexes our per-buffer state) and not in flight. */
int vu_packed_pop(struct vu_dev *d, struct vu_vring *v, bool write, struct vu_chain *c)
{
	volatile struct vring_packed_desc *ring = pk_ring(v);
	uint32_t pos = v->last_avail, taken = 0, nd = 0;
	uint16_t id;
	for (;;) {
		volatile struct vring_packed_desc *e = &ring[vu_pk_slot(v, pos)];
		uint16_t flags = e->flags;
		/* the first is available (counted); one of the rest that is not
		 * means the chain runs past what the driver made available */
		if (!pk_avail(flags, vu_pk_wrap(v, pos)))
			return vu_fail(d, taken ? VU_E_LONG : VU_E_AVAIL);
		atomic_thread_fence(memory_order_acquire);
		/* every field once: the guest may be rewriting them */
		uint64_t addr = e->addr;
		uint32_t len = e->len;
		id = e->id;
		pos = vu_pk_add(v, pos, 1);
		if (++taken > v->num)
			return vu_fail(d, VU_E_LOOP);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (taken > 1 || (flags & VRING_DESC_F_NEXT))
				return vu_fail(d, VU_E_INDIRECT);
			const uint8_t *t = vu_indirect_table(d, v, addr, len);
			if (!t)
				return -1;
			const volatile struct vring_packed_desc *tab =
				(const volatile struct vring_packed_desc *)(const void *)t;
			/* every entry belongs to the buffer; only WRITE counts */
			for (uint32_t k = 0; k < len / 16; k++) {
				uint64_t ea = tab[k].addr;
				uint32_t el = tab[k].len;
				uint16_t ef = tab[k].flags;
				if (++nd > VU_MAX_SEGS)
					return vu_fail(d, VU_E_LONG);
				if (vu_add_element(d, c, ea, el, ef & VRING_DESC_F_WRITE, write) < 0)
					return -1;
			}
			break;
		}
		if (++nd > VU_MAX_SEGS)
			return vu_fail(d, VU_E_LONG);
		if (vu_add_element(d, c, addr, len, flags & VRING_DESC_F_WRITE, write) < 0)
			return -1;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
	}
	if (id >= v->num)
		return vu_fail(d, VU_E_INDEX);
	if (v->inflight[id])
		return vu_fail(d, VU_E_REUSED);
	c->head = id;
	c->ndesc = nd;
	v->inflight[id] = 1;
	v->ndesc[id] = (uint16_t)taken;
	v->last_avail = (uint16_t)pos;
	return 0;
}

/* Back by as many slots as each chain took, newest first. */
void vu_packed_unpop(struct vu_vring *v, const uint16_t *heads, unsigned n)
{
	for (unsigned k = n; k-- > 0;) {
		uint16_t h = heads[k];
		if (h >= v->num)
			continue;
		v->inflight[h] = 0;
		v->last_avail = vu_pk_sub(v, v->last_avail, v->ndesc[h]);
	}
}

/* Buffer id back to the driver: a used descriptor at used_idx, its flags
 * written last (they publish it), then on by as many slots as its chain
 * took. */
void vu_packed_used_put(struct vu_vring *v, uint16_t id, uint32_t len)
{
	if (v->used_idx >= 2 * v->num) {
		v->need_call = true; /* cannot happen (pk_pos_ok at start): vu_call breaks */
		return;
	}
	volatile struct vring_packed_desc *e = &pk_ring(v)[vu_pk_slot(v, v->used_idx)];
	uint16_t f = vu_pk_wrap(v, v->used_idx)
			     ? (uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL | 1u << VRING_PACKED_DESC_F_USED)
			     : 0;
	if (len)
		f |= VRING_DESC_F_WRITE;
	e->id = id;
	e->len = len;
	atomic_thread_fence(memory_order_release);
	e->flags = f;
	uint32_t took = 1;
	if (id < v->num) {
		v->inflight[id] = 0;
		took = v->ndesc[id] ? v->ndesc[id] : 1;
	}
	v->used_idx = vu_pk_add(v, v->used_idx, took);
	v->need_call = true;
}

/* Does the driver want a used buffer notification now (its event
 * suppression structure, in the driver area)?  With EVENT_IDX it names a
 * position: notify if the used positions since the last call passed it. */
bool vu_packed_want_call(const struct vu_dev *d, const struct vu_vring *v)
{
	const volatile struct vring_packed_desc_event *ev =
		(const volatile struct vring_packed_desc_event *)(const void *)v->avail;
	uint16_t flags = ev->flags & 3;
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC ||
	    !(d->features & (1ull << VIRTIO_RING_F_EVENT_IDX)) || !v->signalled_valid)
		return true;
	uint16_t ow = ev->off_wrap;
	uint32_t off = ow & 0x7fff, m = 2 * v->num;
	if (off >= v->num)
		return true; /* a position that does not exist: tell it anyway */
	uint32_t event = off + ((ow >> VRING_PACKED_EVENT_F_WRAP_CTR) ? 0 : v->num);
	uint32_t now = v->used_idx, old = v->signalled;
	return (now + 2 * m - event - 1) % m < (now + m - old) % m;
}

/* The device area: kick us (for the next slot), or do not. */
void vu_packed_notify(const struct vu_dev *d, struct vu_vring *v, bool enable)
{
	volatile struct vring_packed_desc_event *ev =
		(volatile struct vring_packed_desc_event *)(void *)v->used;
	bool at = d->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	if (enable && at)
		ev->off_wrap = vu_pk_index(v, v->last_avail);
	ev->flags = !enable ? VRING_PACKED_EVENT_FLAG_DISABLE
		    : at    ? VRING_PACKED_EVENT_FLAG_DESC
			    : VRING_PACKED_EVENT_FLAG_ENABLE;
}
