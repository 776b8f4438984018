/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "subcmds.h"
#include "vmdq/fdb.h"

static const char bench_help[] =
	"usage: vmdq bench sort [OPTIONS]   sorting throughput, bursts vs per-frame\n"
	"       vmdq bench hol [OPTIONS]    head-of-line blocking: FIFO vs per-VM queues\n"
	"       vmdq bench fdb [OPTIONS]    FDB lookups and ageing: random vs crafted source MACs\n"
	"       vmdq bench switch [OPTIONS] frames/s through the switch with 8 to 4095 vifs\n"
	"\n"
	"'vmdq bench NAME --help' lists a benchmark's options.  Results and the\n"
	"machine they were measured on are recorded in BENCHMARKS.md.\n";

static const char fdb_help[] =
	"usage: vmdq bench fdb [--entries N] [--lookups M]\n"
	"Learns N-64 source MACs (as the switch's uplink may) into an N-entry FDB\n"
	"(default 16384, the switch's), looks them up M times (default 4000000)\n"
	"and ages them all out 4096 slots a step (as the switch does), for three\n"
	"sets of MACs: random; crafted against the FDB's old fixed hash (all in\n"
	"one probe cluster there); aimed with the hash key known (all at a few\n"
	"home slots: the worst any input can do).  Prints ns a lookup and the ratio\n"
	"to the random set, and the longest ageing step.\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void mac_of(uint64_t v, uint8_t m[6])
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		m[i] = (uint8_t)v;
}

enum fdb_set { SET_RANDOM, SET_CRAFTED_OLD, SET_AIMED };

/* n MACs of the set, for a table of `entries` (f: where it puts them) */
static void fdb_macs(enum fdb_set set, uint64_t *mac, size_t n, size_t entries,
		     const struct vmdq_fdb *f)
{
	unsigned old_bits = 4;
	while ((1ull << old_bits) < 2 * (uint64_t)entries)
		old_bits++;
	uint64_t m = 0x020000000000ull;
	for (size_t i = 0; i < n; m++) {
		uint64_t k = m | 1ull << 63; /* VLAN 0 */
		if (set == SET_RANDOM) {
			uint64_t r;
			randombytes_buf(&r, sizeof(r));
			mac[i++] = (r & 0xfeffffffffffull) | 0x020000000000ull; /* unicast, local */
		} else if (set == SET_CRAFTED_OLD) {
			/* the old hash: top bits of k * golden ratio; homes 0..15 */
			if (((k * 0x9E3779B97F4A7C15ull) >> (64 - old_bits)) < 16)
				mac[i++] = m;
		} else {
			uint8_t a[6];
			mac_of(m, a);
			if (vmdq_fdb_home(f, a, 0) < 64)
				mac[i++] = m;
		}
	}
}

static int bench_fdb(int argc, char **argv)
{
	size_t entries = 16384;
	unsigned long lookups = 4000000;
	static const struct option lo[] = {
		{ "entries", required_argument, NULL, 'n' },
		{ "lookups", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'n':
			entries = strtoul(optarg, &end, 10);
			if (*end || entries < 128 || entries > (1u << 22)) {
				fprintf(stderr, "vmdq bench fdb: --entries: 128..4194304\n");
				return EXIT_USAGE;
			}
			break;
		case 'm':
			lookups = strtoul(optarg, &end, 10);
			if (*end || lookups < 1) {
				fprintf(stderr, "vmdq bench fdb: --lookups: a positive number\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(fdb_help, stdout);
			return 0;
		default:
			fputs(fdb_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (sodium_init() < 0)
		return 1;
	size_t n = entries - 64;
	uint64_t *mac = malloc(n * sizeof(*mac));
	if (!mac)
		return 1;
	uint8_t key[VMDQ_FDB_KEY_BYTES];
	randombytes_buf(key, sizeof(key));
	static const char *const names[] = { "random", "crafted-old", "aimed-at-key" };
	printf("fdb: %zu source MACs into a %zu-entry FDB, %lu lookups, ageing 4096 slots a step\n",
	       n, entries, lookups);
	printf("%-13s %8s %8s %8s %10s %6s %9s %12s %10s\n", "set", "learned", "refused",
	       "longest", "lookup ns", "ratio", "learn ns", "age step us", "age pass us");
	double base = 0;
	for (int set = SET_RANDOM; set <= SET_AIMED; set++) {
		struct vmdq_fdb *f = vmdq_fdb_create_keyed(entries, key);
		if (!f) {
			free(mac);
			return 1;
		}
		fdb_macs((enum fdb_set)set, mac, n, entries, f);
		vmdq_fdb_set_learn_limit(f, 0, n);
		uint8_t m6[6];
		for (size_t i = 0; i < n; i++) { /* the table's pages touched once */
			mac_of(mac[i], m6);
			vmdq_fdb_learn(f, m6, 0, 0, 1);
		}
		vmdq_fdb_flush_port(f, 0);
		struct vmdq_fdb_stats st0, st;
		vmdq_fdb_get_stats(f, &st0);
		double t0 = now_s();
		for (size_t i = 0; i < n; i++) {
			mac_of(mac[i], m6);
			vmdq_fdb_learn(f, m6, 0, 0, 1);
		}
		double learn_ns = (now_s() - t0) * 1e9 / (double)n;
		long hits = 0;
		t0 = now_s();
		for (unsigned long i = 0; i < lookups; i++) {
			mac_of(mac[i % n], m6);
			hits += vmdq_fdb_lookup(f, m6, 0) >= 0;
		}
		double look_ns = (now_s() - t0) * 1e9 / (double)lookups;
		if (set == SET_RANDOM)
			base = look_ns;
		double worst = 0, pass = 0;
		do {
			t0 = now_s();
			vmdq_fdb_age_step(f, 1000000000000ull, 1, 4096);
			double d = now_s() - t0;
			pass += d;
			worst = d > worst ? d : worst;
		} while (vmdq_fdb_age_pending(f));
		vmdq_fdb_get_stats(f, &st);
		printf("%-13s %8llu %8llu %8u %10.1f %6.2f %9.1f %12.1f %10.1f\n", names[set],
		       (unsigned long long)(st.learned - st0.learned),
		       (unsigned long long)(st.refused_probe + st.refused_full + st.refused_port -
					    st0.refused_probe - st0.refused_full - st0.refused_port),
		       st.max_probe, look_ns, look_ns / base, learn_ns, worst * 1e6, pass * 1e6);
		if (vmdq_fdb_count(f) != 0 || hits < 0) {
			fprintf(stderr, "vmdq bench fdb: ageing left %zu entries\n", vmdq_fdb_count(f));
			vmdq_fdb_destroy(f);
			free(mac);
			return 1;
		}
		vmdq_fdb_destroy(f);
	}
	free(mac);
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(bench_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "sort") == 0)
		return bench_sort(argc - 1, argv + 1);
	if (strcmp(argv[1], "hol") == 0)
		return bench_hol(argc - 1, argv + 1);
	if (strcmp(argv[1], "fdb") == 0)
		return bench_fdb(argc - 1, argv + 1);
	if (strcmp(argv[1], "switch") == 0)
		return bench_switch(argc - 1, argv + 1);
	fprintf(stderr, "vmdq bench: unknown benchmark '%s'\n", argv[1]);
	fputs(bench_help, stderr);
	return EXIT_USAGE;
}
