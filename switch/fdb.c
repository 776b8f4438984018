/* SPDX-License-Identifier: MIT */
/* The forwarding database; see vmdq/fdb.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vmdq/fdb.h"

struct slot {
	uint64_t key; /* mac | vlan << 48 | 1 << 63 (so a used key is never 0) */
	uint64_t last_ns;
	int32_t port;
	uint8_t is_static;
	uint8_t dist; /* slots from its home slot: < VMDQ_FDB_PROBE_MAX */
};

struct vmdq_fdb {
	struct slot *s;
	uint32_t mask;
	size_t count, max;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	bool age_active;
	uint32_t age_cursor;
	struct vmdq_fdb_stats st;
	uint32_t learned[VMDQ_FDB_PORTS + 1]; /* learned entries per port */
	uint32_t limit[VMDQ_FDB_PORTS + 1];   /* 0: none */
};

_Static_assert(VMDQ_FDB_KEY_BYTES == crypto_shorthash_KEYBYTES, "SipHash key size");
_Static_assert(VMDQ_FDB_PROBE_MAX <= 255, "dist is 8 bits");

#define USED (1ull << 63)

static uint64_t key_of(const uint8_t m[6], uint16_t vlan)
{
	uint64_t k = 0;
	for (int i = 0; i < 6; i++)
		k = (k << 8) | m[i];
	return k | ((uint64_t)(vlan & 0xfff) << 48) | USED;
}

/* The home slot: SipHash-2-4 of the key under the FDB's secret key, so the
 * home of an address cannot be predicted from outside. */
static uint32_t home_of(const struct vmdq_fdb *f, uint64_t key)
{
	uint8_t in[8], out[crypto_shorthash_BYTES];
	for (int i = 0; i < 8; i++, key >>= 8)
		in[i] = (uint8_t)key;
	crypto_shorthash(out, in, sizeof(in), f->hkey);
	uint32_t h;
	memcpy(&h, out, sizeof(h));
	return h & f->mask;
}

uint32_t vmdq_fdb_home(const struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan)
{
	return home_of(f, key_of(mac, vlan));
}

static unsigned port_idx(int port)
{
	return port >= 0 && port < VMDQ_FDB_PORTS ? (unsigned)port : VMDQ_FDB_PORTS;
}

struct vmdq_fdb *vmdq_fdb_create_keyed(size_t max_entries,
				       const uint8_t key[VMDQ_FDB_KEY_BYTES])
{
	if (max_entries < 1 || max_entries > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = ENOSYS;
		return NULL;
	}
	struct vmdq_fdb *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	/* 4 slots an entry at least: at load 1/4 a random hash keeps every
	 * entry far inside VMDQ_FDB_PROBE_MAX of its home */
	uint32_t bits = 6;
	while ((1ull << bits) < 4 * (uint64_t)max_entries)
		bits++;
	f->s = calloc((size_t)1 << bits, sizeof(*f->s));
	if (!f->s) {
		free(f);
		return NULL;
	}
	f->mask = (1u << bits) - 1;
	f->max = max_entries;
	if (key)
		memcpy(f->hkey, key, sizeof(f->hkey));
	else
		crypto_shorthash_keygen(f->hkey);
	return f;
}

struct vmdq_fdb *vmdq_fdb_create(size_t max_entries)
{
	return vmdq_fdb_create_keyed(max_entries, NULL);
}

void vmdq_fdb_destroy(struct vmdq_fdb *f)
{
	if (!f)
		return;
	sodium_memzero(f->hkey, sizeof(f->hkey));
	free(f->s);
	free(f);
}

enum probe_res { P_FOUND, P_EMPTY, P_NONE };

/* Walks key's probe window: the slot holding key, or the first free slot
 * (where key would go), or P_NONE when the window is full without it.
 * *idx: the slot; *n: slots examined (<= VMDQ_FDB_PROBE_MAX). */
static enum probe_res probe(const struct vmdq_fdb *f, uint64_t key, uint32_t *idx, unsigned *n)
{
	uint32_t i = home_of(f, key);
	for (unsigned d = 0; d < VMDQ_FDB_PROBE_MAX; d++, i = (i + 1) & f->mask) {
		*idx = i;
		*n = d + 1;
		if (f->s[i].key == key)
			return P_FOUND;
		if (f->s[i].key == 0)
			return P_EMPTY;
	}
	return P_NONE;
}

static struct slot *find(const struct vmdq_fdb *f, uint64_t key)
{
	uint32_t i;
	unsigned n;
	return probe(f, key, &i, &n) == P_FOUND ? &f->s[i] : NULL;
}

/* Fills slot i (free, or taken over) with key, d slots from its home. */
static struct slot *place(struct vmdq_fdb *f, uint32_t i, uint64_t key, unsigned n, bool fresh)
{
	struct slot *sl = &f->s[i];
	sl->key = key;
	sl->dist = (uint8_t)(n - 1);
	if (fresh)
		f->count++;
	if (n > f->st.max_probe)
		f->st.max_probe = n;
	return sl;
}

static void unlearned(struct vmdq_fdb *f, const struct slot *sl)
{
	if (!sl->is_static)
		f->learned[port_idx(sl->port)]--;
}

/* Backward-shift deletion.  An entry may move back into the hole only if
 * the hole is on its probe path (no further back than its home); past
 * VMDQ_FDB_PROBE_MAX slots from the hole none can, so the walk stops
 * there at the latest. */
static void remove_slot(struct vmdq_fdb *f, struct slot *sl)
{
	unlearned(f, sl);
	uint32_t hole = (uint32_t)(sl - f->s);
	for (uint32_t j = (hole + 1) & f->mask; f->s[j].key != 0; j = (j + 1) & f->mask) {
		uint32_t gap = (j - hole) & f->mask;
		if (gap >= VMDQ_FDB_PROBE_MAX)
			break;
		if (f->s[j].dist >= gap) {
			f->s[hole] = f->s[j];
			f->s[hole].dist = (uint8_t)(f->s[j].dist - gap);
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

unsigned vmdq_fdb_probes(const struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan)
{
	uint32_t i;
	unsigned n = 0;
	probe(f, key_of(mac, vlan), &i, &n);
	return n;
}

static bool may_learn(struct vmdq_fdb *f, int port)
{
	unsigned p = port_idx(port);
	if (f->limit[p] && f->learned[p] >= f->limit[p]) {
		f->st.refused_port++;
		return false;
	}
	return true;
}

int vmdq_fdb_learn(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port,
		   uint64_t now_ns)
{
	uint64_t key = key_of(mac, vlan);
	uint32_t i;
	unsigned n;
	enum probe_res r = probe(f, key, &i, &n);
	struct slot *sl = &f->s[i];
	if (r == P_FOUND) {
		if (sl->is_static) {
			if (sl->port == port)
				return 0;
			f->st.refused_static++;
			return -EPERM;
		}
		if (sl->port != port) {
			if (!may_learn(f, port))
				return -EDQUOT;
			f->learned[port_idx(sl->port)]--;
			f->learned[port_idx(port)]++;
			f->st.moved++;
			sl->port = port;
		}
		sl->last_ns = now_ns;
		return 0;
	}
	if (f->count >= f->max) {
		f->st.refused_full++;
		return -ENOSPC;
	}
	if (!may_learn(f, port))
		return -EDQUOT;
	if (r == P_NONE) {
		f->st.refused_probe++;
		return -ENOSPC;
	}
	place(f, i, key, n, true);
	sl->port = port;
	sl->last_ns = now_ns;
	sl->is_static = 0;
	f->learned[port_idx(port)]++;
	f->st.learned++;
	return 0;
}

int vmdq_fdb_set_learn_limit(struct vmdq_fdb *f, int port, size_t max)
{
	if (port < -1 || max > UINT32_MAX)
		return -EINVAL;
	if (port == -1) {
		for (unsigned p = 0; p <= VMDQ_FDB_PORTS; p++)
			f->limit[p] = (uint32_t)max;
	} else {
		f->limit[port_idx(port)] = (uint32_t)max;
	}
	return 0;
}

size_t vmdq_fdb_learned_on(const struct vmdq_fdb *f, int port)
{
	return port < 0 ? 0 : f->learned[port_idx(port)];
}

int vmdq_fdb_add_static(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port)
{
	uint64_t key = key_of(mac, vlan);
	uint32_t i;
	unsigned n;
	enum probe_res r = probe(f, key, &i, &n);
	struct slot *sl = &f->s[i];
	if (r == P_FOUND) {
		if (sl->is_static)
			return -EEXIST;
		unlearned(f, sl); /* the static entry replaces the learned one */
	} else {
		if (f->count >= f->max)
			return -ENOSPC;
		if (r == P_EMPTY) {
			place(f, i, key, n, true);
		} else {
			/* every slot within reach is taken: a learned entry
			 * (soft state, learned again when seen) makes room */
			uint32_t j = (i + 1) & f->mask; /* the window's first slot */
			j = (j - VMDQ_FDB_PROBE_MAX) & f->mask;
			unsigned d = 0;
			while (d < VMDQ_FDB_PROBE_MAX && f->s[j].is_static) {
				d++;
				j = (j + 1) & f->mask;
			}
			if (d == VMDQ_FDB_PROBE_MAX)
				return -ENOSPC;
			sl = &f->s[j];
			unlearned(f, sl);
			f->st.evicted++;
			place(f, j, key, d + 1, false);
		}
	}
	sl->port = port;
	sl->is_static = 1;
	sl->last_ns = 0;
	return 0;
}

int vmdq_fdb_yield(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int from, int to,
		   uint64_t now_ns)
{
	struct slot *sl = find(f, key_of(mac, vlan));
	if (!sl || !sl->is_static || sl->port != from)
		return -ENOENT;
	f->st.yielded++;
	if (!may_learn(f, to)) {
		remove_slot(f, sl); /* static: no learned count to take back */
		return -EDQUOT;
	}
	sl->is_static = 0;
	sl->port = to;
	sl->last_ns = now_ns;
	f->learned[port_idx(to)]++;
	return 0;
}

int vmdq_fdb_reclaim(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port)
{
	const struct slot *sl = find(f, key_of(mac, vlan));
	if (sl && sl->is_static && sl->port == port)
		return 0;
	int rc = vmdq_fdb_add_static(f, mac, vlan, port);
	if (rc == 0)
		f->st.reclaimed++;
	return rc;
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
	size_t n = remove_if(f, too_old, &a);
	f->st.aged += n;
	return n;
}

size_t vmdq_fdb_age_step(struct vmdq_fdb *f, uint64_t now_ns, uint64_t max_age_ns,
			 size_t budget)
{
	struct age_arg a = { now_ns, max_age_ns };
	size_t n = 0;
	if (!f->age_active) {
		f->age_active = true;
		f->age_cursor = 0;
	}
	while (budget > 0) {
		budget--;
		f->st.age_examined++;
		struct slot *sl = &f->s[f->age_cursor];
		if (sl->key && too_old(sl, &a)) {
			remove_slot(f, sl);
			n++;
			continue; /* the slot may hold a shifted entry now */
		}
		if (f->age_cursor == f->mask) {
			f->age_active = false;
			break;
		}
		f->age_cursor++;
	}
	f->st.aged += n;
	return n;
}

bool vmdq_fdb_age_pending(const struct vmdq_fdb *f)
{
	return f->age_active;
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

void vmdq_fdb_get_stats(const struct vmdq_fdb *f, struct vmdq_fdb_stats *out)
{
	*out = f->st;
}
