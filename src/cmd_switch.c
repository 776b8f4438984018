/* SPDX-License-Identifier: MIT */
/*
 * vmdq switch: the virtual switch in the foreground (SPEC 2, 3).
 *
 * The config holds device commands and switch lines, applied in order:
 *   uplink NAME KIND ARGS...                 (pcap IN OUT [loop N])
 *   vif NAME KIND ARGS... mac MAC [vlan VID] [queue Q] [queues N]
 *                                            (tap IFNAME [netns NS]; pcap IN OUT)
 *   vif del NAME
 * every line read by the one loader (config.c) and applied through the one
 * apply (apply.c) that the control socket uses too.  When every port is a
 * finite source (captures), the switch exits once all of it has been
 * forwarded; otherwise it runs until SIGTERM or SIGINT.
 *
 * This file is the program: options, the config, the main loop.  The
 * control server is ctl_server.c, the show commands show.c.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apply.h"
#include "config.h"
#include "ctl_proto.h"
#include "ctl_server.h"
#include "show.h"
#include "subcmds.h"
#include "util.h"
#include "vmdq/vmdq.h"
#include "../switch/switch.h"

static const char switch_help[] =
	"usage: vmdq switch -c CONFIG [--ctl SOCKET] [-s STATS.json] [--cpu N]\n"
	"\n"
	"Runs the virtual switch in the foreground: an uplink, VMs on vifs, frames\n"
	"sorted by the VMDq device into one queue per vif and handed over in groups,\n"
	"the default queue switched frame by frame through the FDB, VMs' frames to\n"
	"the wire through their own TX queues and the arbiter.  Logs to stderr;\n"
	"SIGTERM or SIGINT stops it, closing every port and removing its TAPs.\n"
	"\n"
	"CONFIG has device commands (see 'man vmdq') and:\n"
	"  uplink NAME afpacket IFNAME\n"
	"  uplink NAME afxdp IFNAME [queue N] [mode auto|native|generic] [copy|zerocopy]\n"
	"      [no-vlan-meta]\n"
	"  uplink NAME pcap IN.pcap OUT.pcap [loop N]\n"
	"  vif NAME tap IFNAME mac MAC [vlan VID] [queue Q] [netns NS]\n"
	"  vif NAME afpacket IFNAME mac MAC [vlan VID] [queue Q]\n"
	"  vif NAME afxdp IFNAME [AF_XDP options] mac MAC [vlan VID] [queue Q]\n"
	"  vif NAME pcap IN.pcap OUT.pcap mac MAC [vlan VID] [queue Q]\n"
	"  vif NAME vhost-user SOCKPATH [targeted on|off] [client] mac MAC [vlan VID]\n"
	"      [queue Q] [queues N]   (a VM's virtio-net; vmdq listens on SOCKPATH,\n"
	"                   or connects to it with 'client'; targeted receive is on\n"
	"                   by default; N virtio queue pairs, 1..4, default 1)\n"
	"  vif del NAME\n"
	"An uplink line may end in 'txrate FPS': the wire takes at most FPS frames\n"
	"per second (a slower wire, to see the arbiter at work); 'uplink txrate FPS'\n"
	"changes it at runtime (0: unlimited).\n"
	"\n"
	"  -c, --config CONFIG    the configuration (required)\n"
	"      --ctl SOCKET       control socket for 'vmdq ctl' (default\n"
	"                         " CTL_DEFAULT_SOCKET ", mode 0600)\n"
	"  -s, --stats FILE       write the switch's counters as JSON on exit\n"
	"      --cpu N            pin the main worker (uplink, sorting, arbiter) to\n"
	"                         CPU N (default: the first CPU it may run on);\n"
	"                         'queue Q cpu N' gives queue Q's vif a worker on N\n"
	"  -h, --help             this text\n"
	"\n"
	"With only capture ports the switch stops when they are exhausted.\n"
	"Exit status: 0 stopped cleanly, 1 a port failed, 2 bad usage or config.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Every port a capture: then the run ends when they are exhausted.  A
 * switch started with no port at all waits for vifs from `vmdq ctl`. */
static bool all_finite(struct vmdq_switch *sw)
{
	struct sw_port_info u;
	bool has_uplink = vmdq_switch_uplink_info(sw, &u);
	int first = vmdq_switch_vif_next(sw, -1);
	if (!has_uplink && first < 0)
		return false;
	if (has_uplink && !u.finite)
		return false;
	for (int i = first; i >= 0; i = vmdq_switch_vif_next(sw, i)) {
		struct sw_vif_info v;
		if (vmdq_switch_vif_info(sw, i, &v) == 0 && !v.port.finite)
			return false;
	}
	return true;
}

static int write_stats(const char *path, struct vmdq_switch *sw)
{
	json_t *o = show_stats_json(sw);
	int rc = json_dump_file(o, path, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(o);
	return rc;
}

/* The config's lines in order through the one apply; the first refused
 * stops the switch (FILE:LINE: reason). */
static int apply_config(struct apply_env *env, const struct config *cfg)
{
	char err[VMDQ_ERRMSG_MAX];
	for (size_t i = 0; i < cfg->ninit; i++) {
		const struct config_line *l = &cfg->init[i];
		if (switch_apply(env, &l->cmd, NULL, 0, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s:%u: %s\n", cfg->path, l->line, err);
			return -1;
		}
	}
	return 0;
}

int cmd_switch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "stats", required_argument, NULL, 's' },
		{ "ctl", required_argument, NULL, 'C' },
		{ "cpu", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cpath = NULL, *spath = NULL, *ctl_path = CTL_DEFAULT_SOCKET;
	int o, main_cpu = -1;
	char *end;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': cpath = optarg; break;
		case 's': spath = optarg; break;
		case 'C': ctl_path = optarg; break;
		case 'P':
			main_cpu = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || main_cpu < 0 || main_cpu >= CPU_SETSIZE) {
				fprintf(stderr, "vmdq switch: --cpu: '%s' is not a CPU number\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': fputs(switch_help, stdout); return 0;
		default: fputs(switch_help, stderr); return EXIT_USAGE;
		}
	}
	if (!cpath || optind != argc) {
		fprintf(stderr, "vmdq switch: -c CONFIG is required\n");
		fputs(switch_help, stderr);
		return EXIT_USAGE;
	}
	struct config cfg;
	if (config_load_switch(cpath, &cfg) < 0)
		return EXIT_USAGE;

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int status = 0;
	struct ctl *ctl = NULL;
	struct apply_env env = { 0 };
	vmdq_thread_online();
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = dev ? vmdq_switch_create(dev) : NULL;
	if (!sw) {
		fprintf(stderr, "vmdq: out of memory\n");
		status = 1;
		goto out;
	}
	/* the main worker is pinned: to --cpu, or the first CPU it may use */
	env.sw = sw;
	sched_getaffinity(0, sizeof(env.cpus), &env.cpus);
	if (main_cpu < 0)
		for (int i = 0; i < CPU_SETSIZE && main_cpu < 0; i++)
			if (CPU_ISSET(i, &env.cpus))
				main_cpu = i;
	if (!CPU_ISSET(main_cpu, &env.cpus) || vmdq_switch_set_main_cpu(sw, main_cpu) < 0) {
		fprintf(stderr, "vmdq switch: --cpu %d: the switch cannot run on that CPU\n",
			main_cpu);
		status = EXIT_USAGE;
		goto out;
	}
	/* one snapshot of the device's filters for the whole config, not one
	 * per vif (nothing is sorted before the switch runs) */
	vmdq_dev_batch_begin(dev);
	int arc = apply_config(&env, &cfg);
	vmdq_dev_batch_commit(dev);
	if (arc < 0) {
		status = EXIT_USAGE;
		goto out;
	}
	/* the vifs go to their workers once, now that every queue has its CPU;
	 * from now on `queue Q cpu N` moves its vif at once */
	char rerr[VMDQ_ERRMSG_MAX];
	if (vmdq_switch_remap(sw, rerr, sizeof(rerr)) < 0) {
		fprintf(stderr, "vmdq: %s\n", rerr);
		status = 1;
		goto out;
	}
	env.live = true;
	struct sw_port_info up;
	if (!vmdq_switch_uplink_info(sw, &up))
		fprintf(stderr, "vmdq: warning: no uplink; VMs can reach each other only\n");
	char cerr[VMDQ_ERRMSG_MAX];
	if (!(ctl = ctl_open(ctl_path, &env, cerr, sizeof(cerr)))) {
		fprintf(stderr, "vmdq: control socket %s\n", cerr);
		status = 1;
		goto out;
	}
	fprintf(stderr, "vmdq: switch running, control socket %s\n", ctl_path);
	bool finite = all_finite(sw);
	if (!finite && vmdq_switch_start(sw, rerr, sizeof(rerr)) < 0) {
		fprintf(stderr, "vmdq: %s\n", rerr);
		status = 1;
		goto out;
	}
	fprintf(stderr, "vmdq: main worker on CPU %d\n", main_cpu);
	while (!stop_flag) {
		ctl_serve(ctl);
		if (finite) {
			/* captures: every worker's share in this thread, to the end */
			unsigned work = vmdq_switch_poll(sw, mono_now_ns());
			if (!work && vmdq_switch_drained(sw))
				break;
			continue;
		}
		uint64_t now = mono_now_ns();
		if (vmdq_switch_idle(sw, 0, now, vmdq_switch_poll_worker(sw, 0, now)))
			vmdq_switch_wait(sw, 0, ctl_wake_fd(ctl), 100); /* idle: ~0% CPU */
	}
	fprintf(stderr, "vmdq: switch stopping\n");
	vmdq_switch_park(sw); /* counters stand still while they are written */
	if (spath && write_stats(spath, sw) < 0) {
		fprintf(stderr, "vmdq: %s: cannot write\n", spath);
		status = 1;
	}
out:
	ctl_close(ctl);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
	vmdq_thread_offline();
	config_free(&cfg);
	return status;
}
