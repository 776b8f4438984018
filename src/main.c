/* SPDX-License-Identifier: MIT */
/* vmdq: one program, subcommands. */
#include <stdio.h>
#include <string.h>

#include "subcmds.h"

static const struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} subcmds[] = {
	{ "sort", cmd_sort, "run a capture through the device; one capture per queue" },
	{ "transmit", cmd_transmit, "run per-queue captures through the TX arbiter onto a wire" },
	{ "switch", cmd_switch, "the virtual switch: an uplink, VMs on vifs (foreground)" },
	{ "ctl", cmd_ctl, "one command to a running switch (show vifs, filter add, ...)" },
	{ "bench", cmd_bench, "benchmarks: sort, hol" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmdq [--help | --version] COMMAND [ARGS...]\n"
		"\n"
		"vmdq does in software what Intel's VMDq does in a NIC: it sorts frames\n"
		"by destination MAC and VLAN into one queue per VM and shares the wire\n"
		"fairly between the VMs' transmit queues.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		fprintf(out, "  %-10s %s\n", subcmds[i].name, subcmds[i].summary);
	fprintf(out, "\n'vmdq COMMAND --help' describes a command; 'man vmdq' describes\n"
		     "the command language of config files.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("vmdq %s\n", VMDQ_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (strcmp(argv[1], subcmds[i].name) == 0)
			return subcmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vmdq: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
