/* SPDX-License-Identifier: MIT */
/*
 * The filter table the sorter reads: one open-addressing hash over 64-bit
 * keys (MAC | VID << 48), linear probing, load factor at most 1/2, entries
 * of 16 bytes (four to a cache line).
 *
 * The control path keeps one mutable copy (the index) and publishes an exact
 * duplicate of it inside each snapshot; a published table is never modified,
 * so readers need nothing beyond the RCU dereference of their snapshot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

static size_t ft_bytes(uint32_t size)
{
	return (sizeof(struct ftable) + (size_t)size * sizeof(struct ft_entry) +
		63) & ~(size_t)63;
}

#define HUGE_ALIGN (2u << 20)

/* Large tables go on transparent huge pages where the kernel offers them:
 * a 65 536-filter table is 2 MiB, and sorting reads it at random, so 4 KiB
 * pages would cost a TLB miss on most lookups. */
static void *table_mem(size_t bytes)
{
	if (bytes < HUGE_ALIGN / 2)
		return aligned_alloc(64, bytes);
	size_t rounded = (bytes + HUGE_ALIGN - 1) & ~(size_t)(HUGE_ALIGN - 1);
	void *m = aligned_alloc(HUGE_ALIGN, rounded);
	if (m)
		madvise(m, rounded, MADV_HUGEPAGE);
	return m;
}

static struct ftable *ft_alloc(uint32_t bits)
{
	uint32_t size = 1u << bits;
	struct ftable *t = table_mem(ft_bytes(size));
	if (!t)
		return NULL;
	memset(t, 0, ft_bytes(size));
	t->mask = size - 1;
	t->shift = 64 - bits;
	return t;
}

struct ftable *ftable_new(void)
{
	return ft_alloc(4);
}

static uint32_t *kind_count(struct ftable *t, enum vmdq_filter_kind kind)
{
	switch (kind) {
	case VMDQ_FILTER_PAIR: return &t->n_pair;
	case VMDQ_FILTER_VLAN: return &t->n_vlan;
	default: return &t->n_mac;
	}
}

static void ft_place(struct ftable *t, const struct ft_entry *e)
{
	uint32_t h = ft_hash(t, e->key);
	while (t->e[h].key != 0)
		h = (h + 1) & t->mask;
	t->e[h] = *e;
}

int ftable_insert(struct ftable **tp, uint64_t key, uint32_t id, uint16_t queue,
		  enum vmdq_filter_kind kind)
{
	struct ftable *t = *tp;
	uint32_t count = t->n_mac + t->n_pair + t->n_vlan;
	if (2 * (uint64_t)(count + 1) > (uint64_t)t->mask + 1) {
		uint32_t bits = 64 - t->shift + 1;
		struct ftable *n = ft_alloc(bits);
		if (!n)
			return -ENOMEM;
		for (uint32_t i = 0; i <= t->mask; i++)
			if (t->e[i].key)
				ft_place(n, &t->e[i]);
		n->n_mac = t->n_mac;
		n->n_pair = t->n_pair;
		n->n_vlan = t->n_vlan;
		free(t);
		*tp = t = n;
	}
	struct ft_entry e = { .key = key, .id = id, .queue = queue };
	ft_place(t, &e);
	(*kind_count(t, kind))++;
	return 0;
}

void ftable_remove(struct ftable *t, uint64_t key, enum vmdq_filter_kind kind)
{
	uint32_t i = ft_hash(t, key);
	while (t->e[i].key != key) {
		if (t->e[i].key == 0)
			return;
		i = (i + 1) & t->mask;
	}
	/* Backward-shift deletion: pull later members of the probe run into
	 * the hole so lookups never need tombstones. */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & t->mask; t->e[j].key != 0; j = (j + 1) & t->mask) {
		uint32_t home = ft_hash(t, t->e[j].key);
		/* e[j] may move to hole if hole lies cyclically in [home, j). */
		bool movable = hole <= j ? (home <= hole || home > j)
					 : (home <= hole && home > j);
		if (movable) {
			t->e[hole] = t->e[j];
			hole = j;
		}
	}
	t->e[hole] = (struct ft_entry){ 0 };
	(*kind_count(t, kind))--;
}

struct ftable *ftable_dup(const struct ftable *t)
{
	size_t bytes = ft_bytes(t->mask + 1);
	struct ftable *n = table_mem(bytes);
	if (n)
		memcpy(n, t, bytes);
	return n;
}

void ftable_free(struct ftable *t)
{
	free(t);
}
