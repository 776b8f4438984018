/* SPDX-License-Identifier: MIT */
/*
 * vhost/vu_log.c - the dirty-page bitmap (vu_log.h): page arithmetic,
 * marking a range, its bounds.
 */
#include "vu_log.h"

void vu_log_mark(struct vu_log *l, uint64_t gpa, uint64_t len)
{
	if (!len || !l->base || !l->size)
		return;
	uint64_t last = gpa + len - 1;
	if (last < gpa)
		last = UINT64_MAX; /* wraps: to the top */
	uint64_t p0 = gpa >> VU_LOG_PAGE_SHIFT, p1 = last >> VU_LOG_PAGE_SHIFT;
	/* pages 0 .. npages - 1 exist (size <= VU_LOG_MAX_MAP: no overflow) */
	uint64_t npages = l->size << 3;
	if (p1 >= npages) {
		l->beyond += p1 - (p0 > npages ? p0 : npages) + 1;
		if (p0 >= npages)
			return;
		p1 = npages - 1;
	}
	/* a byte at a time: the bits of [p0, p1] it holds, one atomic OR */
	for (uint64_t b = p0 >> 3; b <= p1 >> 3; b++) {
		unsigned lo = b == p0 >> 3 ? (unsigned)(p0 & 7) : 0;
		unsigned hi = b == p1 >> 3 ? (unsigned)(p1 & 7) : 7;
		uint8_t mask = (uint8_t)((0xffu << lo) & (0xffu >> (7 - hi)));
		/* release: pairs with the front-end's exchange of the byte's
		 * word before it copies the page (the write is seen first) */
		uint8_t old = __atomic_fetch_or(&l->base[b], mask, __ATOMIC_RELEASE);
		l->marked += (unsigned)__builtin_popcount((unsigned)(mask & (uint8_t)~old));
	}
}

bool vu_log_test(const struct vu_log *l, uint64_t page)
{
	if (!l->base || page >= l->size << 3)
		return false;
	return __atomic_load_n(&l->base[page >> 3], __ATOMIC_RELAXED) & (1u << (page & 7));
}
