/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the FDB against a model.  Input is a sequence of (at most 128) 4-byte
 * operations on a 64-entry FDB (256 slots) over 96 addresses, half of them
 * aimed (with the key known) at two home slots, so probe windows fill and
 * learning is refused, static entries evict learned ones, entries collide,
 * move, shift back on deletion and age out.
 * After every sixteenth operation (and the last) each entry the model holds is found on its port,
 * no lookup walks more than VMDQ_FDB_PROBE_MAX slots, and the counts (all
 * entries, learned per port) agree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vmdq/fdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 64
#define MACS 96
#define AIMED 48
#define PORTS 4

static const uint8_t key[VMDQ_FDB_KEY_BYTES] = "fuzz-fdb-key-01";
static uint64_t addr[MACS]; /* mac | vlan << 48 */

struct ment {
	bool used, is_static;
	int port;
	uint64_t last;
};

static void addresses(void)
{
	/* a table of the fuzzer's size and key says where addresses land */
	struct vmdq_fdb *f = vmdq_fdb_create_keyed(MAX, key);
	if (!f)
		abort();
	unsigned n = 0;
	for (uint64_t m = 0x020000000000ull; n < AIMED; m++) {
		uint8_t mac[6];
		for (int b = 5; b >= 0; b--)
			mac[b] = (uint8_t)(m >> (8 * (5 - b)));
		if (vmdq_fdb_home(f, mac, 0) <= 1)
			addr[n++] = m;
	}
	vmdq_fdb_destroy(f);
	for (uint64_t m = 0x020000100000ull; n < MACS; m++)
		addr[n++] = m | 5ull << 48; /* VLAN 5 */
}

static void mac_of(unsigned i, uint16_t *vlan, uint8_t m[6])
{
	uint64_t a = addr[i];
	for (int b = 5; b >= 0; b--, a >>= 8)
		m[b] = (uint8_t)a;
	*vlan = (uint16_t)(addr[i] >> 48);
}

static void check(struct vmdq_fdb *f, const struct ment *e)
{
	size_t count = 0, learned[PORTS] = { 0 };
	for (unsigned i = 0; i < MACS; i++) {
		uint8_t m[6];
		uint16_t vlan;
		mac_of(i, &vlan, m);
		int port = vmdq_fdb_lookup(f, m, vlan);
		if (port != (e[i].used ? e[i].port : -1))
			abort();
		unsigned p = vmdq_fdb_probes(f, m, vlan);
		if (p < 1 || p > VMDQ_FDB_PROBE_MAX)
			abort();
		if (e[i].used) {
			count++;
			if (!e[i].is_static)
				learned[e[i].port]++;
		}
	}
	if (vmdq_fdb_count(f) != count)
		abort();
	for (int p = 0; p < PORTS; p++)
		if (vmdq_fdb_learned_on(f, p) != learned[p])
			abort();
	struct vmdq_fdb_entry d[MAX + 1];
	if (vmdq_fdb_dump(f, d, MAX + 1) != count)
		abort();
}

/* After an operation that may remove entries the model cannot predict
 * (eviction, an ageing step): drop from the model what the FDB dropped,
 * checking that it was allowed to. */
static void sync_removed(struct vmdq_fdb *f, struct ment *e, uint64_t now, uint64_t max_age,
			 bool ageing)
{
	for (unsigned i = 0; i < MACS; i++) {
		if (!e[i].used)
			continue;
		uint8_t m[6];
		uint16_t vlan;
		mac_of(i, &vlan, m);
		if (vmdq_fdb_lookup(f, m, vlan) >= 0)
			continue;
		if (e[i].is_static || (ageing && now - e[i].last <= max_age))
			abort();
		e[i].used = false;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!addr[0]) {
		if (sodium_init() < 0)
			abort();
		addresses();
	}
	struct vmdq_fdb *f = vmdq_fdb_create_keyed(MAX, key);
	if (!f)
		abort();
	vmdq_fdb_set_learn_limit(f, 3, 5); /* port 3 may learn 5 */
	struct ment e[MACS] = { 0 };
	uint64_t now = 1000;
	const uint64_t max_age = 100;
	for (size_t at = 0; at + 4 <= size && at < 4 * 128; at += 4) {
		const uint8_t *op = data + at;
		unsigned i = op[1] % MACS;
		int port = op[2] % PORTS;
		now += op[3] % 64;
		uint8_t m[6];
		uint16_t vlan;
		mac_of(i, &vlan, m);
		size_t count = vmdq_fdb_count(f);
		int rc;
		switch (op[0] % 7) {
		case 0:
		case 1: /* learn */
			rc = vmdq_fdb_learn(f, m, vlan, port, now);
			if (rc == 0) {
				if (e[i].used && e[i].is_static && e[i].port != port)
					abort();
				if (!e[i].used || !e[i].is_static) {
					e[i] = (struct ment){ true, false, port, now };
				}
			} else if (rc == -EPERM) {
				if (!e[i].used || !e[i].is_static || e[i].port == port)
					abort();
			} else if (rc == -EDQUOT) {
				if (port != 3 || vmdq_fdb_learned_on(f, 3) < 5)
					abort();
			} else if (rc == -ENOSPC) {
				if (e[i].used)
					abort(); /* a known entry is always found */
				if (count < MAX && i >= AIMED && vmdq_fdb_probes(f, m, vlan) < VMDQ_FDB_PROBE_MAX)
					abort(); /* room, and a free slot in reach */
			} else {
				abort();
			}
			break;
		case 2: { /* static */
			struct vmdq_fdb_stats s0, s1;
			vmdq_fdb_get_stats(f, &s0);
			rc = vmdq_fdb_add_static(f, m, vlan, port);
			vmdq_fdb_get_stats(f, &s1);
			if (rc == 0) {
				e[i] = (struct ment){ true, true, port, 0 };
				if (s1.evicted != s0.evicted)
					sync_removed(f, e, now, max_age, false);
			} else if (rc == -EEXIST) {
				if (!e[i].used || !e[i].is_static)
					abort();
			} else if (rc == -ENOSPC) {
				if (e[i].used)
					abort();
				if (count < MAX && s1.evicted != s0.evicted)
					abort();
			} else {
				abort();
			}
			break;
		}
		case 3: /* delete */
			rc = vmdq_fdb_del(f, m, vlan);
			if (rc != (e[i].used ? 0 : -ENOENT))
				abort();
			e[i].used = false;
			break;
		case 4: { /* flush a port */
			size_t n = 0;
			for (unsigned j = 0; j < MACS; j++)
				if (e[j].used && e[j].port == port) {
					e[j].used = false;
					n++;
				}
			if (vmdq_fdb_flush_port(f, port) != n)
				abort();
			break;
		}
		case 5: /* an ageing step of a few slots */
			vmdq_fdb_age_step(f, now, max_age, 1 + op[2] % 16);
			sync_removed(f, e, now, max_age, true);
			break;
		case 6: { /* a whole ageing pass */
			size_t n = 0;
			for (unsigned j = 0; j < MACS; j++)
				if (e[j].used && !e[j].is_static && now - e[j].last > max_age) {
					e[j].used = false;
					n++;
				}
			if (vmdq_fdb_age(f, now, max_age) != n)
				abort();
			break;
		}
		}
		/* the address just used at once; the whole table every sixteenth
		 * operation and at the end (a divergence stays until checked) */
		if (vmdq_fdb_lookup(f, m, vlan) != (e[i].used ? e[i].port : -1))
			abort();
		if ((at / 4) % 16 == 15)
			check(f, e);
	}
	check(f, e);
	struct vmdq_fdb_stats st;
	vmdq_fdb_get_stats(f, &st);
	if (st.max_probe > VMDQ_FDB_PROBE_MAX)
		abort();
	vmdq_fdb_destroy(f);
	return 0;
}
