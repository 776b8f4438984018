/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "subcmds.h"

static const char bench_help[] =
	"usage: vmdq bench sort [OPTIONS]   sorting throughput, bursts vs per-frame\n"
	"       vmdq bench hol [OPTIONS]    head-of-line blocking: FIFO vs per-VM queues\n"
	"\n"
	"'vmdq bench NAME --help' lists a benchmark's options.  Results and the\n"
	"machine they were measured on are recorded in BENCHMARKS.md.\n";

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
	fprintf(stderr, "vmdq bench: unknown benchmark '%s'\n", argv[1]);
	fputs(bench_help, stderr);
	return EXIT_USAGE;
}
