/* SPDX-License-Identifier: MIT */
/*
 * vhost/vu_ring.h - private to vhost/: what vu.c (messages, memory, the
 * public ring calls) shares with the two ring layouts, vu_split.c (virtio
 * 2.7) and vu_packed.c (virtio 2.8).  The port sees none of this: it calls
 * vu.h, and vu.c picks the layout the guest negotiated (v->packed).
 *
 * The shared validation lives here once, inline because the ring walks
 * call it for every descriptor: guest addresses are translated through the
 * memory table one region at a time (vu_gpa_piece), a buffer element is
 * checked for direction, wrap and region and counted against VU_MAX_SEGS
 * (vu_add_element), and a packed ring's positions are checked below
 * 2 * num wherever they index it (vu_pk_pos_ok).  Every check that fails
 * breaks the device (vu_break), counted by reason.
 */
#ifndef VMDQ_VU_RING_H
#define VMDQ_VU_RING_H

#include "vu.h"

/* ---- shared validation -------------------------------------------------- */

/* Breaks the device for e; returns -1 (a walk's failure). */
static inline int vu_fail(struct vu_dev *d, enum vu_err e)
{
	vu_break(d, e);
	return -1;
}

/* The host address of gpa and how many bytes follow it in its region. */
static inline uint8_t *vu_gpa_piece(const struct vu_mem *m, uint64_t gpa, uint64_t *room)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct vu_region *r = &m->r[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*room = r->size - (gpa - r->gpa);
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

/* One buffer element of a chain: its direction checked (w: the device may
 * write it; write: we want to), translated into pieces of host memory that
 * each lie inside one region, at most VU_MAX_SEGS pieces a chain.  0, or
 * -1 with the device broken. */
static inline int vu_add_element(struct vu_dev *d, struct vu_chain *c, uint64_t addr,
				 uint32_t len, bool w, bool write)
{
	if (write && !w)
		return vu_fail(d, VU_E_RO);
	if (!write && w)
		return vu_fail(d, VU_E_WO);
	if (addr + len < addr)
		return vu_fail(d, VU_E_WRAP);
	uint64_t a = addr, left = len;
	while (left) {
		uint64_t room;
		uint8_t *p = vu_gpa_piece(&d->mem, a, &room);
		if (!p)
			return vu_fail(d, VU_E_ADDR);
		if (c->nseg == VU_MAX_SEGS)
			return vu_fail(d, VU_E_LONG);
		uint64_t k = left < room ? left : room;
		c->seg[c->nseg++] = (struct vu_seg){ p, (uint32_t)k };
		a += k;
		left -= k;
	}
	c->total += len;
	return 0;
}

/* An indirect table's descriptor (addr, len): checked against the features,
 * its length (VU_MAX_SEGS entries and the ring size at most) and alignment;
 * the table's host address, or NULL with the device broken (vu.c). */
const uint8_t *vu_indirect_table(struct vu_dev *d, const struct vu_vring *v, uint64_t addr,
				 uint32_t len);

/* ---- packed ring positions ------------------------------------------- */

/* last_avail, used_idx and signalled of a packed ring count modulo 2 * num
 * (vu.h): these turn them into slots and wrap counters and move them on. */
static inline uint32_t vu_pk_slot(const struct vu_vring *v, uint32_t c)
{
	return c < v->num ? c : c - v->num;
}

static inline bool vu_pk_wrap(const struct vu_vring *v, uint32_t c)
{
	return c < v->num;
}

static inline uint16_t vu_pk_add(const struct vu_vring *v, uint32_t c, uint32_t k)
{
	c += k;
	return (uint16_t)(c >= 2 * v->num ? c - 2 * v->num : c);
}

static inline uint16_t vu_pk_sub(const struct vu_vring *v, uint32_t c, uint32_t k)
{
	return (uint16_t)(c >= k ? c - k : c + 2 * v->num - k);
}

/* Every position of a packed ring lies below 2 * num: checked wherever
 * they are used to index the ring, so that no state (carried over from
 * another ring size or layout, or set by the front-end) can reach past it. */
static inline bool vu_pk_pos_ok(const struct vu_vring *v)
{
	uint32_t m = 2 * v->num;
	return v->last_avail < m && v->used_idx < m && v->signalled < m;
}

/* A ring index as vhost-user carries it: slot, wrap counter in bit 15. */
static inline uint16_t vu_pk_index(const struct vu_vring *v, uint32_t c)
{
	return (uint16_t)(vu_pk_slot(v, c) | (vu_pk_wrap(v, c) ? 0x8000u : 0u));
}

/* ---- the two layouts, behind vu.h's ring calls ---------------------------
 * vu.c checks what both share (a mapped ring, packed positions) and calls
 * one of these; each has the meaning of the vu.h call it serves. */

/* vu_split.c */
unsigned vu_split_avail_count(struct vu_dev *d, struct vu_vring *v);
int vu_split_pop(struct vu_dev *d, struct vu_vring *v, bool write, struct vu_chain *c);
void vu_split_unpop(struct vu_vring *v, const uint16_t *heads, unsigned n);
void vu_split_used_put(struct vu_vring *v, uint16_t head, uint32_t len);
void vu_split_used_put_many(struct vu_vring *v, const struct vring_used_elem *e, unsigned n);
void vu_split_publish(struct vu_vring *v);
bool vu_split_want_call(const struct vu_dev *d, const struct vu_vring *v);
void vu_split_notify(const struct vu_dev *d, struct vu_vring *v, bool enable);

/* vu_packed.c (positions checked by the caller: vu_pk_pos_ok) */
unsigned vu_packed_avail_count(struct vu_dev *d, struct vu_vring *v);
int vu_packed_pop(struct vu_dev *d, struct vu_vring *v, bool write, struct vu_chain *c);
void vu_packed_unpop(struct vu_vring *v, const uint16_t *heads, unsigned n);
void vu_packed_used_put(struct vu_vring *v, uint16_t id, uint32_t len);
bool vu_packed_want_call(const struct vu_dev *d, const struct vu_vring *v);
void vu_packed_notify(const struct vu_dev *d, struct vu_vring *v, bool enable);

#endif
