/* SPDX-License-Identifier: MIT */
/* The switch's FDB: (MAC, VLAN) keys, learning, static entries, ageing. */
#include <errno.h>
#include <sodium.h>
#include "helpers.h"
#include "vmdq/fdb.h"

#define S 1000000000ull

static void key_is_mac_and_vlan(void **s)
{
	(void)s;
	struct vmdq_fdb *f = vmdq_fdb_create(16);
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 0, 7, 1), 0);
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 100, 8, 1), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), 7);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 100), 8);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 200), -1);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM2), 0), -1);
	/* learning moves a station */
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 0, 9, 2), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), 9);
	assert_int_equal(vmdq_fdb_count(f), 2);
	vmdq_fdb_destroy(f);
}

static void static_entries_win(void **s)
{
	(void)s;
	struct vmdq_fdb *f = vmdq_fdb_create(16);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(VM1), 0, 1), 0);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(VM1), 0, 2), -EEXIST);
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 0, 0, 5), -EPERM);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), 1);
	/* a static entry replaces a learned one */
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM2), 0, 0, 5), 0);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(VM2), 0, 3), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM2), 0), 3);
	assert_int_equal(vmdq_fdb_age(f, 1000 * S, 1), 0); /* static never ages */
	assert_int_equal(vmdq_fdb_count(f), 2);
	vmdq_fdb_destroy(f);
}

static void ageing(void **s)
{
	(void)s;
	struct vmdq_fdb *f = vmdq_fdb_create(64);
	vmdq_fdb_learn(f, MAC(VM1), 0, 0, 10 * S);
	vmdq_fdb_learn(f, MAC(VM2), 0, 0, 200 * S);
	vmdq_fdb_learn(f, MAC(VM3), 0, 0, 10 * S);
	vmdq_fdb_learn(f, MAC(VM3), 0, 0, 250 * S); /* refreshed */
	assert_int_equal(vmdq_fdb_age(f, 311 * S, 300 * S), 1);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), -1);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM2), 0), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM3), 0), 0);
	vmdq_fdb_destroy(f);
}

static void full_and_flush(void **s)
{
	(void)s;
	struct vmdq_fdb *f = vmdq_fdb_create(1000);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000010000ull + i), 0, (int)(i % 4), 1), 0);
	assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000020000ull), 0, 0, 1), -ENOSPC);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(0x020000020000ull), 0, 0), -ENOSPC);
	assert_int_equal(vmdq_fdb_flush_port(f, 2), 250);
	assert_int_equal(vmdq_fdb_count(f), 750);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(vmdq_fdb_lookup(f, MAC(0x020000010000ull + i), 0),
				 i % 4 == 2 ? -1 : (int)(i % 4));
	struct vmdq_fdb_entry e[800];
	assert_int_equal(vmdq_fdb_dump(f, e, 800), 750);
	for (unsigned i = 0; i < 750; i++)
		assert_int_not_equal(e[i].port, 2);
	/* delete everything one by one: every lookup stays right */
	for (unsigned i = 0; i < 1000; i++) {
		int rc = vmdq_fdb_del(f, MAC(0x020000010000ull + i), 0);
		assert_int_equal(rc, i % 4 == 2 ? -ENOENT : 0);
		if (i + 1 < 1000 && (i + 1) % 4 != 2)
			assert_int_equal(vmdq_fdb_lookup(f, MAC(0x020000010000ull + i + 1), 0),
					 (int)((i + 1) % 4));
	}
	assert_int_equal(vmdq_fdb_count(f), 0);
	vmdq_fdb_destroy(f);
}

/* ---- hash flooding (issue 12, point 8) ---------------------------------- */

static const uint8_t KEY[VMDQ_FDB_KEY_BYTES] = "vmdq-fdb-test-k";

static uint64_t key_u64(uint64_t mac, uint16_t vlan)
{
	return mac | (uint64_t)vlan << 48 | 1ull << 63;
}

/* The hash the FDB had before: a fixed multiplicative hash of the key, top
 * bits of 2*max_entries slots. */
static uint32_t old_home(uint64_t mac, unsigned bits)
{
	return (uint32_t)((key_u64(mac, 0) * 0x9E3779B97F4A7C15ull) >> (64 - bits)) &
	       ((1u << bits) - 1);
}

/* The attack that worked on the old hash: source MACs chosen so that all
 * their home slots fall in 8 neighbouring slots, one probe cluster as long
 * as the set.  Under the keyed hash the same MACs spread like any others. */
static void crafted_cluster_spreads(void **s)
{
	(void)s;
	enum { N = 1000, BITS = 11 }; /* the old table for 1000 entries: 2048 slots */
	static uint64_t mac[N];
	unsigned n = 0;
	for (uint64_t m = 0x020000000000ull; n < N; m++)
		if (old_home(m, BITS) < 8)
			mac[n++] = m;
	/* the old table: linear probing from those homes */
	static uint8_t used[1u << BITS];
	unsigned longest = 0;
	for (unsigned i = 0; i < N; i++) {
		unsigned d = 0;
		while (used[(old_home(mac[i], BITS) + d) & ((1u << BITS) - 1)])
			d++;
		used[(old_home(mac[i], BITS) + d) & ((1u << BITS) - 1)] = 1;
		longest = d + 1 > longest ? d + 1 : longest;
	}
	assert_true(longest >= N - 7); /* one cluster: the last probes ~1000 slots */

	for (int k = 0; k < 4; k++) {
		uint8_t key[VMDQ_FDB_KEY_BYTES];
		memcpy(key, KEY, sizeof(key));
		key[0] = (uint8_t)k;
		struct vmdq_fdb *f = vmdq_fdb_create_keyed(N, key);
		for (unsigned i = 0; i < N; i++)
			assert_int_equal(vmdq_fdb_learn(f, MAC(mac[i]), 0, (int)(i % 3), 1), 0);
		struct vmdq_fdb_stats st;
		vmdq_fdb_get_stats(f, &st);
		assert_int_equal(st.learned, N);
		assert_int_equal(st.refused_probe + st.refused_full + st.refused_port, 0);
		print_message("key %d: longest probe %u (old hash: %u)\n", k, st.max_probe, longest);
		assert_true(st.max_probe <= VMDQ_FDB_PROBE_MAX / 2);
		for (unsigned i = 0; i < N; i++) {
			assert_int_equal(vmdq_fdb_lookup(f, MAC(mac[i]), 0), (int)(i % 3));
			assert_true(vmdq_fdb_probes(f, MAC(mac[i]), 0) <= st.max_probe);
		}
		vmdq_fdb_destroy(f);
	}
}

/* Whoever knows the key (here: the test) can aim every MAC at one slot, and
 * fill the table to capacity: still no lookup, hit or miss, examines more
 * than VMDQ_FDB_PROBE_MAX slots; what does not fit within reach is refused
 * and counted. */
static void probing_bounded_for_any_input(void **s)
{
	(void)s;
	enum { MAX = 64, L = VMDQ_FDB_PROBE_MAX };
	struct vmdq_fdb *f = vmdq_fdb_create_keyed(MAX, KEY);
	static uint64_t aimed[2 * MAX];
	unsigned n = 0;
	for (uint64_t m = 0x020000000000ull; n < 2 * MAX; m++)
		if (vmdq_fdb_home(f, MAC(m), 0) == 0)
			aimed[n++] = m;
	for (unsigned i = 0; i < 2 * MAX; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(aimed[i]), 0, 1, 1), i < L ? 0 : -ENOSPC);
	struct vmdq_fdb_stats st;
	vmdq_fdb_get_stats(f, &st);
	assert_int_equal(st.learned, L);
	assert_int_equal(st.refused_probe, 2 * MAX - L);
	assert_int_equal(st.max_probe, L);
	assert_int_equal(vmdq_fdb_count(f), L);
	for (unsigned i = 0; i < 2 * MAX; i++) {
		assert_int_equal(vmdq_fdb_lookup(f, MAC(aimed[i]), 0), i < L ? 1 : -1);
		assert_int_equal(vmdq_fdb_probes(f, MAC(aimed[i]), 0), i < L ? i + 1 : L);
	}
	/* fill to capacity with MACs aimed at the slots just after it: what
	 * finds no free slot within reach is refused */
	static uint64_t more[MAX];
	n = 0;
	unsigned tried = 0;
	for (uint64_t m = 0x020000100000ull; n < MAX - L; m++) {
		uint32_t h = vmdq_fdb_home(f, MAC(m), 0);
		if (h < 1 || h >= 2 * L)
			continue;
		tried++;
		int rc = vmdq_fdb_learn(f, MAC(m), 0, 2, 1);
		assert_true(rc == 0 || rc == -ENOSPC);
		if (rc == 0)
			more[n++] = m;
	}
	assert_int_equal(vmdq_fdb_count(f), MAX);
	assert_int_equal(vmdq_fdb_learn(f, MAC(0x02ffffffffffull), 0, 2, 1), -ENOSPC);
	vmdq_fdb_get_stats(f, &st);
	print_message("%u aimed after the window, %u refused\n", tried, tried - n);
	assert_int_equal(st.refused_probe, 2 * MAX - L + tried - (MAX - L));
	assert_int_equal(st.refused_full, 1);
	assert_true(st.max_probe <= L);
	unsigned worst = 0;
	for (unsigned i = 0; i < MAX - L; i++) {
		assert_int_equal(vmdq_fdb_lookup(f, MAC(more[i]), 0), 2);
		unsigned p = vmdq_fdb_probes(f, MAC(more[i]), 0);
		worst = p > worst ? p : worst;
	}
	for (uint64_t m = 0x020000200000ull; m < 0x020000200000ull + 100000; m++) {
		unsigned p = vmdq_fdb_probes(f, MAC(m), 0);
		assert_true(p >= 1 && p <= L);
		worst = p > worst ? p : worst;
	}
	assert_int_equal(worst, L); /* misses aimed at the full window walk all of it */
	/* deleting in the window keeps every entry reachable */
	for (unsigned i = 0; i < L; i += 2)
		assert_int_equal(vmdq_fdb_del(f, MAC(aimed[i]), 0), 0);
	for (unsigned i = 0; i < L; i++)
		assert_int_equal(vmdq_fdb_lookup(f, MAC(aimed[i]), 0), i % 2 ? 1 : -1);
	for (unsigned i = 0; i < MAX - L; i++)
		assert_int_equal(vmdq_fdb_lookup(f, MAC(more[i]), 0), 2);
	vmdq_fdb_destroy(f);
}

/* A window full of learned entries does not keep a vif's static entry out:
 * one learned entry gives up its slot. */
static void static_entry_evicts_learned(void **s)
{
	(void)s;
	enum { MAX = 64, L = VMDQ_FDB_PROBE_MAX };
	struct vmdq_fdb *f = vmdq_fdb_create_keyed(MAX, KEY);
	uint64_t aimed[L + 2];
	unsigned n = 0;
	for (uint64_t m = 0x020000000000ull; n < L + 2; m++)
		if (vmdq_fdb_home(f, MAC(m), 0) == 5)
			aimed[n++] = m;
	for (unsigned i = 0; i < L; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(aimed[i]), 0, 0, 1), 0);
	assert_int_equal(vmdq_fdb_learn(f, MAC(aimed[L]), 0, 0, 1), -ENOSPC);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(aimed[L + 1]), 0, 9), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(aimed[L + 1]), 0), 9);
	struct vmdq_fdb_stats st;
	vmdq_fdb_get_stats(f, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(vmdq_fdb_count(f), L);
	assert_int_equal(vmdq_fdb_learned_on(f, 0), L - 1);
	unsigned found = 0;
	for (unsigned i = 0; i < L; i++)
		found += vmdq_fdb_lookup(f, MAC(aimed[i]), 0) == 0;
	assert_int_equal(found, L - 1);
	vmdq_fdb_destroy(f);
}

/* Ageing a part at a time: one call examines exactly its budget of slots;
 * calls resume where the last stopped until every expired entry is gone. */
static void incremental_ageing(void **s)
{
	(void)s;
	enum { OLD = 500, FRESH = 100, SLOTS = 4096, BUDGET = 256 };
	struct vmdq_fdb *f = vmdq_fdb_create_keyed(1000, KEY); /* 4096 slots */
	for (unsigned i = 0; i < OLD; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000010000ull + i), 0, 0, 10 * S), 0);
	for (unsigned i = 0; i < FRESH; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000020000ull + i), 0, 0, 250 * S), 0);
	assert_false(vmdq_fdb_age_pending(f));
	size_t gone = vmdq_fdb_age_step(f, 311 * S, 300 * S, BUDGET);
	struct vmdq_fdb_stats st;
	vmdq_fdb_get_stats(f, &st);
	assert_int_equal(st.age_examined, BUDGET);
	assert_true(gone < OLD);
	assert_true(vmdq_fdb_age_pending(f));
	unsigned calls = 1;
	while (vmdq_fdb_age_pending(f)) {
		uint64_t before = st.age_examined;
		gone += vmdq_fdb_age_step(f, 311 * S, 300 * S, BUDGET);
		vmdq_fdb_get_stats(f, &st);
		assert_true(st.age_examined - before <= BUDGET);
		calls++;
	}
	/* every slot once, and once more each slot an entry left */
	assert_int_equal(st.age_examined, SLOTS + OLD);
	assert_int_equal(calls, (SLOTS + OLD + BUDGET - 1) / BUDGET);
	assert_int_equal(gone, OLD);
	assert_int_equal(st.aged, OLD);
	assert_int_equal(vmdq_fdb_count(f), FRESH);
	for (unsigned i = 0; i < OLD; i++)
		assert_int_equal(vmdq_fdb_lookup(f, MAC(0x020000010000ull + i), 0), -1);
	for (unsigned i = 0; i < FRESH; i++)
		assert_int_equal(vmdq_fdb_lookup(f, MAC(0x020000020000ull + i), 0), 0);
	/* the next pass starts over at slot 0: nothing more to age */
	assert_int_equal(vmdq_fdb_age_step(f, 312 * S, 300 * S, 2 * SLOTS), 0);
	vmdq_fdb_get_stats(f, &st);
	assert_int_equal(st.age_examined, 2 * SLOTS + OLD);
	assert_false(vmdq_fdb_age_pending(f));
	vmdq_fdb_destroy(f);
}

/* Like Linux's bridge max_learned: one port cannot learn more than its
 * limit, and a neighbour port keeps learning. */
static void per_port_learning_limit(void **s)
{
	(void)s;
	enum { LIMIT = 64, FLOOD = 1000 };
	struct vmdq_fdb *f = vmdq_fdb_create_keyed(4096, KEY);
	assert_int_equal(vmdq_fdb_set_learn_limit(f, -1, LIMIT), 0);
	assert_int_equal(vmdq_fdb_set_learn_limit(f, 0, 1000), 0); /* the uplink */
	for (unsigned i = 0; i < FLOOD; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000010000ull + i), 0, 1, 1 * S),
				 i < LIMIT ? 0 : -EDQUOT);
	struct vmdq_fdb_stats st;
	vmdq_fdb_get_stats(f, &st);
	assert_int_equal(st.refused_port, FLOOD - LIMIT);
	assert_int_equal(vmdq_fdb_learned_on(f, 1), LIMIT);
	/* the honest neighbour and the uplink still learn */
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000020000ull + i), 0, 2, 1 * S), 0);
	for (unsigned i = 0; i < 200; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000030000ull + i), 0, 0, 1 * S), 0);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(vmdq_fdb_lookup(f, MAC(0x020000020000ull + i), 0), 2);
	assert_int_equal(vmdq_fdb_learned_on(f, 2), 10);
	assert_int_equal(vmdq_fdb_learned_on(f, 0), 200);
	/* refreshing a known entry is not learning a new one */
	assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000010000ull), 0, 1, 2 * S), 0);
	/* a station moving to the neighbour frees a place on port 1 */
	assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000010001ull), 0, 2, 2 * S), 0);
	assert_int_equal(vmdq_fdb_learned_on(f, 1), LIMIT - 1);
	assert_int_equal(vmdq_fdb_learned_on(f, 2), 11);
	assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000040000ull), 0, 1, 2 * S), 0);
	assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000040001ull), 0, 1, 2 * S), -EDQUOT);
	/* a move onto a port at its limit is refused too */
	assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000020000ull), 0, 1, 2 * S), -EDQUOT);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(0x020000020000ull), 0), 2);
	vmdq_fdb_get_stats(f, &st);
	assert_int_equal(st.refused_port, FLOOD - LIMIT + 2);
	assert_int_equal(st.moved, 1);
	/* a static entry, a delete, ageing and a flush give places back */
	assert_int_equal(vmdq_fdb_add_static(f, MAC(0x020000010002ull), 0, 5), 0);
	assert_int_equal(vmdq_fdb_del(f, MAC(0x020000010003ull), 0), 0);
	assert_int_equal(vmdq_fdb_learned_on(f, 1), LIMIT - 2);
	assert_int_equal(vmdq_fdb_age(f, 302 * S, 300 * S), LIMIT - 2 - 2 + 10 + 200);
	assert_int_equal(vmdq_fdb_learned_on(f, 1), 2);  /* seen at 2 s */
	assert_int_equal(vmdq_fdb_learned_on(f, 2), 1);
	assert_int_equal(vmdq_fdb_learned_on(f, 0), 0);
	assert_int_equal(vmdq_fdb_flush_port(f, 1), 2);
	assert_int_equal(vmdq_fdb_learned_on(f, 1), 0);
	for (unsigned i = 0; i < LIMIT; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000050000ull + i), 0, 1, 3 * S), 0);
	assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000060000ull), 0, 1, 3 * S), -EDQUOT);
	vmdq_fdb_destroy(f);
}

/* A VM left its vif (live migration): its static entry becomes one learned
 * on the uplink, ageing as any; back, it is static again; each counted. */
static void yield_and_reclaim(void **s)
{
	(void)s;
	struct vmdq_fdb *f = vmdq_fdb_create(16);
	struct vmdq_fdb_stats st;
	assert_int_equal(vmdq_fdb_add_static(f, MAC(VM1), 0, 3), 0);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(VM2), 100, 4), 0);
	/* only the static entry of that port */
	assert_int_equal(vmdq_fdb_yield(f, MAC(VM1), 0, 4, 0, 5), -ENOENT);
	assert_int_equal(vmdq_fdb_yield(f, MAC(VM1), 100, 3, 0, 5), -ENOENT);
	assert_int_equal(vmdq_fdb_yield(f, MAC(OTHER), 0, 3, 0, 5), -ENOENT);
	vmdq_fdb_get_stats(f, &st);
	assert_int_equal(st.yielded, 0);
	assert_int_equal(vmdq_fdb_yield(f, MAC(VM1), 0, 3, 0, 5 * S), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), 0);
	assert_int_equal(vmdq_fdb_learned_on(f, 0), 1);
	/* learned now: the wire refreshes it, a vif's learn would move it */
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 0, 0, 6 * S), 0);
	assert_int_equal(vmdq_fdb_yield(f, MAC(VM1), 0, 3, 0, 6 * S), -ENOENT);
	/* back on its vif: static again, the learned count given back */
	assert_int_equal(vmdq_fdb_reclaim(f, MAC(VM1), 0, 3), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), 3);
	assert_int_equal(vmdq_fdb_learned_on(f, 0), 0);
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 0, 0, 7 * S), -EPERM);
	assert_int_equal(vmdq_fdb_reclaim(f, MAC(VM1), 0, 3), 0); /* static already */
	assert_int_equal(vmdq_fdb_reclaim(f, MAC(VM2), 100, 3), -EEXIST);
	vmdq_fdb_get_stats(f, &st);
	assert_int_equal(st.yielded, 1);
	assert_int_equal(st.reclaimed, 1);
	/* yielded, the entry ages as any learned one; reclaimed after that it
	 * is added afresh */
	assert_int_equal(vmdq_fdb_yield(f, MAC(VM1), 0, 3, 0, 10 * S), 0);
	assert_int_equal(vmdq_fdb_age(f, 20 * S, 5 * S), 1);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), -1);
	assert_int_equal(vmdq_fdb_reclaim(f, MAC(VM1), 0, 3), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), 3);
	/* the uplink at its learning limit: the entry goes all the same */
	assert_int_equal(vmdq_fdb_set_learn_limit(f, 0, 1), 0);
	assert_int_equal(vmdq_fdb_learn(f, MAC(OTHER), 0, 0, 21 * S), 0);
	assert_int_equal(vmdq_fdb_yield(f, MAC(VM2), 100, 4, 0, 21 * S), -EDQUOT);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM2), 100), -1);
	assert_int_equal(vmdq_fdb_learned_on(f, 0), 1);
	assert_int_equal(vmdq_fdb_count(f), 2);
	vmdq_fdb_get_stats(f, &st);
	assert_int_equal(st.yielded, 3);
	assert_int_equal(st.reclaimed, 2);
	assert_int_equal(st.refused_port, 1);
	vmdq_fdb_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_is_mac_and_vlan),
		cmocka_unit_test(static_entries_win),
		cmocka_unit_test(ageing),
		cmocka_unit_test(full_and_flush),
		cmocka_unit_test(crafted_cluster_spreads),
		cmocka_unit_test(probing_bounded_for_any_input),
		cmocka_unit_test(static_entry_evicts_learned),
		cmocka_unit_test(incremental_ageing),
		cmocka_unit_test(per_port_learning_limit),
		cmocka_unit_test(yield_and_reclaim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
