/* SPDX-License-Identifier: MIT */
/* The forwarding database; see vmdq/fdb.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmdq/fdb.h"

struct slot {
	uint64_t key; /* mac | vlan << 48 | 1 << 63 (so a used key is never 0) */
	uint64_t last_ns;
	int32_t port;
	uint8_t is_static;
};

struct vmdq_fdb {
	struct slot *s;
	uint32_t mask, shift;
	size_t count, max;
};

#define USED (1ull << 63)

static uint64_t key_of(const uint8_t m[6], uint16_t vlan)
{
	uint64_t k = 0;
	for (int i = 0; i < 6; i++)
		k = (k << 8) | m[i];
	return k | ((uint64_t)(vlan & 0xfff) << 48) | USED;
}

static uint32_t hash(const struct vmdq_fdb *f, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> f->shift) & f->mask;
}

struct vmdq_fdb *vmdq_fdb_create(size_t max_entries)
{
	if (max_entries < 1 || max_entries > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	struct vmdq_fdb *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	uint32_t bits = 4;
	while ((1ull << bits) < 2 * (uint64_t)max_entries)
		bits++;
	f->s = calloc((size_t)1 << bits, sizeof(*f->s));
	if (!f->s) {
		free(f);
		return NULL;
	}
	f->mask = (1u << bits) - 1;
	f->shift = 64 - bits;
	f->max = max_entries;
	return f;
}

void vmdq_fdb_destroy(struct vmdq_fdb *f)
{
	if (!f)
		return;
	free(f->s);
	free(f);
}

static struct slot *find(const struct vmdq_fdb *f, uint64_t key)
{
	for (uint32_t i = hash(f, key);; i = (i + 1) & f->mask) {
		if (f->s[i].key == key)
			return &f->s[i];
		if (f->s[i].key == 0)
			return NULL;
	}
}

static struct slot *insert(struct vmdq_fdb *f, uint64_t key)
{
	if (f->count >= f->max)
		return NULL;
	uint32_t i = hash(f, key);
	while (f->s[i].key != 0)
		i = (i + 1) & f->mask;
	f->s[i].key = key;
	f->count++;
	return &f->s[i];
}

static void remove_slot(struct vmdq_fdb *f, struct slot *sl)
{
	uint32_t hole = (uint32_t)(sl - f->s);
	for (uint32_t j = (hole + 1) & f->mask; f->s[j].key != 0; j = (j + 1) & f->mask) {
		uint32_t home = hash(f, f->s[j].key);
		bool movable = hole <= j ? (home <= hole || home > j)
					 : (home <= hole && home > j);
		if (movable) {
			f->s[hole] = f->s[j];
			hole = j;
		}
	}
	memset(&f->s[hole], 0, sizeof(f->s[hole]));
	f->count--;
}

int vmdq_fdb_lookup(const struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan)
{
	const struct slot *sl = find(f, key_of(mac, vlan));
	return sl ? sl->port : -1;
}

int vmdq_fdb_learn(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port,
		   uint64_t now_ns)
{
	uint64_t key = key_of(mac, vlan);
	struct slot *sl = find(f, key);
	if (sl) {
		if (sl->is_static)
			return sl->port == port ? 0 : -EPERM;
		sl->port = port;
		sl->last_ns = now_ns;
		return 0;
	}
	sl = insert(f, key);
	if (!sl)
		return -ENOSPC;
	sl->port = port;
	sl->last_ns = now_ns;
	sl->is_static = 0;
	return 0;
}

int vmdq_fdb_add_static(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port)
{
	uint64_t key = key_of(mac, vlan);
	struct slot *sl = find(f, key);
	if (sl && sl->is_static)
		return -EEXIST;
	if (!sl)
		sl = insert(f, key);
	if (!sl)
		return -ENOSPC;
	sl->port = port;
	sl->is_static = 1;
	sl->last_ns = 0;
	return 0;
}

int vmdq_fdb_del(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan)
{
	struct slot *sl = find(f, key_of(mac, vlan));
	if (!sl)
		return -ENOENT;
	remove_slot(f, sl);
	return 0;
}

/* Removes entries matching a predicate; restarts the scan at a slot whose
 * contents were shifted back, so none is skipped. */
static size_t remove_if(struct vmdq_fdb *f, bool (*pred)(const struct slot *, const void *),
			const void *arg)
{
	size_t n = 0;
	for (uint32_t i = 0; i <= f->mask;) {
		if (f->s[i].key && pred(&f->s[i], arg)) {
			remove_slot(f, &f->s[i]);
			n++;
			continue; /* slot i may hold a shifted entry now */
		}
		i++;
	}
	return n;
}

static bool on_port(const struct slot *s, const void *arg)
{
	return s->port == *(const int *)arg;
}

size_t vmdq_fdb_flush_port(struct vmdq_fdb *f, int port)
{
	return remove_if(f, on_port, &port);
}

struct age_arg {
	uint64_t now, max;
};

static bool too_old(const struct slot *s, const void *arg)
{
	const struct age_arg *a = arg;
	return !s->is_static && a->now - s->last_ns > a->max;
}

size_t vmdq_fdb_age(struct vmdq_fdb *f, uint64_t now_ns, uint64_t max_age_ns)
{
	struct age_arg a = { now_ns, max_age_ns };
	return remove_if(f, too_old, &a);
}

size_t vmdq_fdb_count(const struct vmdq_fdb *f)
{
	return f->count;
}

size_t vmdq_fdb_dump(const struct vmdq_fdb *f, struct vmdq_fdb_entry *out, size_t max)
{
	size_t n = 0;
	for (uint32_t i = 0; i <= f->mask; i++) {
		const struct slot *s = &f->s[i];
		if (!s->key)
			continue;
		if (n < max) {
			struct vmdq_fdb_entry *e = &out[n];
			uint64_t k = s->key;
			for (int b = 5; b >= 0; b--, k >>= 8)
				e->mac[b] = (uint8_t)k;
			e->vlan = (uint16_t)((s->key >> 48) & 0xfff);
			e->port = s->port;
			e->is_static = s->is_static;
			e->last_ns = s->last_ns;
		}
		n++;
	}
	return n;
}
