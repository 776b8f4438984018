/* SPDX-License-Identifier: MIT */
/*
 * vhost/vu_log.h - the dirty-page log of live migration (QEMU
 * docs/interop/vhost-user.rst, "Migration"): a bitmap in memory the
 * front-end shares (SET_LOG_BASE), one bit per 4 KiB page of guest
 * physical address, bit (page % 8) of byte (page / 8).  While the
 * front-end has VHOST_F_LOG_ALL negotiated, every write the back-end makes
 * into guest memory sets the bits of the pages it touched, after the write,
 * with an atomic OR: the front-end reads and clears the bitmap at the same
 * time and copies the pages whose bits it found set.
 *
 * Trust: the bitmap is the front-end's memory (the guest's side may change
 * it as it likes: it only loses its own migration); it is never indexed
 * past the size it was mapped with.  A write past what the log covers
 * (a memory table that grew after the log was sized) is not marked but
 * counted (beyond).  The callers translate and check the guest addresses
 * they mark (vu.c: vu_log_host, the rings' log addresses).
 */
#ifndef VMDQ_VU_LOG_H
#define VMDQ_VU_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VU_LOG_PAGE_SHIFT 12
#define VU_LOG_PAGE (1ull << VU_LOG_PAGE_SHIFT)
/* The largest log we map (offset + size): 256 MiB covers 8 TiB of guest
 * physical address space (a 1 TiB guest above any hole fits many times). */
#define VU_LOG_MAX_MAP (256ull << 20)

struct vu_log {
	uint8_t *base;     /* the bitmap (map + offset); NULL: no log */
	uint64_t size;     /* its bytes: pages 0 .. 8 * size - 1 */
	void *map;         /* what was mapped (map_len bytes from offset 0) */
	size_t map_len;
	uint64_t marked;   /* bits we set that were clear (pages newly dirty) */
	uint64_t beyond;   /* pages written past the log's end: not marked */
};

/* Bytes of bitmap that cover guest-physical [0, end). */
static inline uint64_t vu_log_bytes_for(uint64_t end)
{
	uint64_t pages = (end >> VU_LOG_PAGE_SHIFT) + ((end & (VU_LOG_PAGE - 1)) != 0);
	return (pages >> 3) + ((pages & 7) != 0);
}

/* Marks the pages of guest-physical [gpa, gpa + len) dirty (len 0: none;
 * a range that wraps ends at the top of the address space).  Release: the
 * write being logged is visible before its bit (the front-end reads the
 * bitmap with an atomic exchange, then the page). */
void vu_log_mark(struct vu_log *l, uint64_t gpa, uint64_t len);

/* Is page's bit set (tests, the fuzzer's model)? */
bool vu_log_test(const struct vu_log *l, uint64_t page);

#endif
