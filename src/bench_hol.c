/* SPDX-License-Identifier: MIT */
/*
 * vmdq bench hol: the head-of-line claim of WP 1.4.3 and 3.6, as the classic
 * result it comes from (Karol, Hluchyj and Morgan, 1987).
 *
 * An N x N switch in time slots, saturated (every input always has a cell),
 * destinations uniform.  FIFO: one queue per input; each output serves one
 * of the head cells addressed to it, chosen at random; the losers stay at
 * the head and block the cells behind them.  VOQ: one queue per destination
 * at each input (what VMDq gives each VM), matched by iSLIP with one
 * iteration (rotating grant and accept pointers).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "subcmds.h"

static const char hol_help[] =
	"usage: vmdq bench hol [--slots N] [--seed S]\n"
	"\n"
	"Saturation throughput of an N x N switch, N = 2..64, uniform destinations:\n"
	"one FIFO per input (head-of-line blocking) against one queue per\n"
	"destination matched by one-iteration iSLIP.  The FIFO column is checked\n"
	"against the classic values (0.750, 0.655, 0.618, 0.601 -> 2 - sqrt(2)).\n"
	"\n"
	"  --slots N   time slots simulated per size (default 400000)\n"
	"  --seed S    random seed (default 1)\n";

static double sim_fifo(unsigned n, uint64_t slots, uint64_t seed)
{
	uint32_t *head = malloc(n * sizeof(*head));
	uint32_t *cnt = malloc(n * sizeof(*cnt));
	uint32_t *win = malloc(n * sizeof(*win));
	uint64_t s = seed, served = 0;
	const uint64_t warm = slots / 10;
	for (unsigned i = 0; i < n; i++)
		head[i] = rng_below(&s, n);
	for (uint64_t t = 0; t < warm + slots; t++) {
		memset(cnt, 0, n * sizeof(*cnt));
		for (unsigned i = 0; i < n; i++) {
			uint32_t j = head[i];
			/* reservoir choice: each contender equally likely */
			if (rng_below(&s, ++cnt[j]) == 0)
				win[j] = i;
		}
		for (unsigned j = 0; j < n; j++) {
			if (!cnt[j])
				continue;
			head[win[j]] = rng_below(&s, n); /* next cell moves up */
			if (t >= warm)
				served++;
		}
	}
	free(head);
	free(cnt);
	free(win);
	return (double)served / ((double)slots * n);
}

static double sim_islip(unsigned n, uint64_t slots)
{
	/* Saturated: every VOQ is non-empty, so every input requests every
	 * output and no randomness is involved. */
	uint32_t *g = calloc(n, sizeof(*g)), *a = calloc(n, sizeof(*a));
	int32_t *grant_to = malloc(n * sizeof(*grant_to));
	uint64_t served = 0;
	const uint64_t warm = slots / 10;
	for (uint64_t t = 0; t < warm + slots; t++) {
		for (unsigned j = 0; j < n; j++)
			grant_to[j] = (int32_t)g[j]; /* first requester from g[j] */
		for (unsigned i = 0; i < n; i++) {
			/* accept the first granting output from a[i] */
			for (unsigned k = 0; k < n; k++) {
				unsigned j = (a[i] + k) % n;
				if (grant_to[j] == (int32_t)i) {
					a[i] = (j + 1) % n;
					g[j] = (i + 1) % n;
					if (t >= warm)
						served++;
					break;
				}
			}
		}
	}
	free(g);
	free(a);
	free(grant_to);
	return (double)served / ((double)slots * n);
}

int bench_hol(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "slots", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t slots = 400000, seed = 1;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's': slots = strtoull(optarg, NULL, 10); break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'h': fputs(hol_help, stdout); return 0;
		default: fputs(hol_help, stderr); return EXIT_USAGE;
		}
	}
	if (slots < 1000 || seed == 0) {
		fprintf(stderr, "vmdq bench hol: --slots must be >= 1000 and --seed > 0\n");
		return EXIT_USAGE;
	}
	static const struct { unsigned n; double classic; } rows[] = {
		{ 2, 0.7500 }, { 4, 0.6553 }, { 8, 0.6184 }, { 16, 0.6013 },
		{ 32, NAN }, { 64, NAN },
	};
	printf("vmdq bench hol: saturation throughput, N x N switch, uniform destinations,\n"
	       "%llu slots per size (+10%% warm-up)\n\n",
	       (unsigned long long)slots);
	printf("%4s  %12s  %9s  %7s  %16s\n", "N", "FIFO (HOL)", "classic", "diff",
	       "VOQ + iSLIP-1");
	int bad = 0;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		double f = sim_fifo(rows[r].n, slots, seed + r);
		double v = sim_islip(rows[r].n, slots);
		if (isnan(rows[r].classic)) {
			printf("%4u  %12.4f  %9s  %7s  %16.4f\n", rows[r].n, f, "-", "-", v);
		} else {
			double d = f - rows[r].classic;
			bool ok = fabs(d) <= 0.005;
			bad += !ok;
			printf("%4u  %12.4f  %9.4f  %+7.4f  %16.4f%s\n", rows[r].n, f,
			       rows[r].classic, d, v, ok ? "" : "  <- outside +-0.005");
		}
	}
	printf("%4s  %12s  %9.4f\n\n", "inf", "", 2 - sqrt(2));
	printf("With one FIFO per input, throughput falls towards 2 - sqrt(2) = 0.586:\n"
	       "each output idles %.0f%% of the time behind blocked heads.  One queue per\n"
	       "destination (one per VM, as VMDq gives) removes the blocking.\n",
	       (1 - (2 - sqrt(2))) * 100);
	return bad ? 1 : 0;
}
