/* SPDX-License-Identifier: MIT */
/*
 * vmdq bench switch: frames per second from the wire through the switch as
 * its vif count grows (issue 13), on dummy ports: no root, no kernel, the
 * switch's own cost alone.
 *
 * One switch per vif count, all built first, their vifs in 64 VLANs (VLAN
 * 1 + i % 64).  The uplink is a dummy that replays a set of frames for ever;
 * every vif a dummy that counts what it gets and keeps nothing.  Three
 * kinds of traffic, each frame 64 bytes with its VLAN's tag:
 *  - group: unicast to every vif in turn, sorted by its filter to its queue
 *    (group receive, one hand-over per group);
 *  - default: the same frames with the device's VMDq sorting off, so all
 *    go through the default queue and the FDB, frame by frame;
 *  - flood: broadcasts, one per VLAN in turn (VLANs with members only).
 * The runs are interleaved (each run: every kind on every switch, a slice
 * of --ms each) and the medians printed, so that the machine's noise falls
 * on all of them alike.  Resident memory per vif: the VmRSS the vifs added
 * to a built switch (idle), and what destroying the switch gave back after
 * the runs, less the empty switch's (after traffic), each divided by the
 * vifs.  Before the runs each switch is warmed up: every receive buffer of
 * every vif written once (the time it takes is printed: the page faults of
 * a first touch, not the switch's steady cost).  The receive buffers are
 * RX_BUF bytes (vmdq_switch_set_rx_buf), not the switch's 16448: 4095
 * vifs' rings are then 128 MiB, not 16 GiB, and warm up in seconds.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "subcmds.h"
#include "vmdq/vmdq.h"
#include "../switch/switch.h"
#include "../ports/dummy.h"

static const char switch_help[] =
	"usage: vmdq bench switch [--vifs LIST] [--runs N] [--ms M]\n"
	"\n"
	"Frames/s from the wire through the switch with dummy ports (no root):\n"
	"group receive (unicast to each vif's queue), the default queue (VMDq\n"
	"sorting off: every frame through the FDB) and floods across 64 VLANs, for\n"
	"each vif count, measured side by side: N interleaved runs, medians\n"
	"printed.  The vifs' receive buffers are 128 bytes (the frames are 64).\n"
	"Then the ratio of the largest count's figures to the smallest's\n"
	"(target for 4095 against 8: 0.7 or more) and the resident memory per vif.\n"
	"A count the switch refuses is named with the switch's reason and left out.\n"
	"\n"
	"  --vifs LIST   vif counts, comma-separated (default 8,256,4095: the\n"
	"                device's 4096 queues less the default queue)\n"
	"  --runs N      interleaved runs (default 5)\n"
	"  --ms M        milliseconds per kind, switch and run (default 200)\n";

#define MAX_COUNTS 8
#define NVLANS 64
#define FRAME_LEN 64
#define RX_BUF 128 /* bytes a vif's receive buffer has (vmdq_switch_set_rx_buf) */
enum kind { K_GROUP, K_DEFAULT, K_FLOOD, K__COUNT };
static const char *const kind_name[] = { "group", "default", "flood" };

struct rig {
	unsigned n;                /* vifs asked for */
	bool ok;                   /* built with all of them */
	char why[256];
	struct vmdq_dev *dev;
	struct vmdq_switch *sw;
	struct vmdq_dummy *wire;
	struct vmdq_dummy **vif;
	long base_kb, idle_kb;     /* RSS the empty switch, its vifs added */
	double fps[K__COUNT][32];  /* per run */
	double flood_cps[32];      /* flood: frames/s the vifs got, per run */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void mac_of(uint64_t v, uint8_t m[6])
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		m[i] = (uint8_t)v;
}

static uint64_t vif_mac(unsigned i)
{
	return 0x020200000000ull + i;
}

static uint16_t vif_vlan(unsigned i)
{
	return (uint16_t)(1 + i % NVLANS);
}

static void frame(uint8_t *b, uint64_t dst, uint16_t vlan)
{
	memset(b, 0, FRAME_LEN);
	mac_of(dst, b);
	mac_of(0x02ee00000001ull, b + 6);
	b[12] = 0x81;
	b[14] = (uint8_t)(vlan >> 8);
	b[15] = (uint8_t)vlan;
	b[16] = 0x08;
}

static void rig_free(struct rig *r)
{
	vmdq_switch_destroy(r->sw);
	vmdq_dev_destroy(r->dev);
	free(r->vif);
	r->sw = NULL;
	r->dev = NULL;
	r->vif = NULL;
}

static int rig_build(struct rig *r)
{
	char err[256] = "";
	if (r->n + 1 > VMDQ_MAX_QUEUES) {
		snprintf(r->why, sizeof(r->why),
			 "the device has %u queues, one of them the default queue", VMDQ_MAX_QUEUES);
		return -ERANGE;
	}
	long kb0 = rss_kb();
	r->dev = vmdq_dev_create();
	r->vif = calloc(r->n, sizeof(*r->vif));
	if (!r->dev || !r->vif || vmdq_dev_set_queues(r->dev, r->n < 16 ? 16 : r->n + 1) < 0)
		return -ENOMEM;
	struct vmdq_dev_config c;
	vmdq_dev_get_config(r->dev, &c);
	r->sw = vmdq_switch_create(r->dev);
	if (!r->sw)
		return -errno;
	/* buffers for the bench's 64-byte frames: a ring of them is 32 KiB
	 * instead of 4 MiB (4095 vifs' rings fit in RAM and fault in fast) */
	if (vmdq_switch_set_rx_buf(r->sw, RX_BUF) < 0)
		return -EINVAL;
	if (c.default_queue != 0) {
		/* the default kind turns VMDq off: every frame then goes to queue 0 */
		snprintf(r->why, sizeof(r->why), "the default queue is %u, not 0", c.default_queue);
		return -EINVAL;
	}
	char *uargs[] = { (char[]){ "capacity" }, (char[]){ "4096" } };
	if (vmdq_switch_set_uplink(r->sw, "wire", "dummy", uargs, 2, err, sizeof(err)) < 0) {
		snprintf(r->why, sizeof(r->why), "%s", err);
		return -EINVAL;
	}
	r->wire = vmdq_dummy_last();
	long kb1 = rss_kb();
	r->base_kb = kb1 - kb0;
	for (unsigned i = 0; i < r->n; i++) {
		char name[16], a0[] = "capacity", a1[] = "0";
		char *args[] = { a0, a1 };
		snprintf(name, sizeof(name), "v%u", i);
		struct sw_vif_spec s = { .name = name, .kind = "dummy", .vlan = vif_vlan(i),
					 .queue = -1, .args = args, .nargs = 2 };
		mac_of(vif_mac(i), s.mac);
		int rc = vmdq_switch_vif_add(r->sw, &s, err, sizeof(err));
		if (rc < 0) {
			snprintf(r->why, sizeof(r->why), "refused vif %u: %s", i, err);
			return rc;
		}
		r->vif[i] = vmdq_dummy_last();
	}
	r->idle_kb = rss_kb() - kb1;
	return 0;
}

static unsigned gcd(unsigned a, unsigned b)
{
	while (b) {
		unsigned t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* The uplink replays this kind's frames from now on. */
static int rig_load(struct rig *r, enum kind k)
{
	uint8_t b[FRAME_LEN];
	vmdq_dummy_replay(r->wire, false);
	vmdq_dummy_discard(r->wire);
	if (vmdq_dev_set_vmdq(r->dev, k != K_DEFAULT) < 0)
		return -1;
	unsigned n = k == K_FLOOD ? (r->n < NVLANS ? r->n : NVLANS) : r->n;
	/* each vif once, in a scattered order (a burst meets 32 queues) */
	unsigned step = n / 3 * 2 + 1;
	while (gcd(step, n) != 1)
		step++;
	for (unsigned i = 0, j = 0; i < n; i++, j = (j + step) % n) {
		if (k == K_FLOOD)
			frame(b, 0xffffffffffffull, vif_vlan(j));
		else
			frame(b, vif_mac(j), vif_vlan(j));
		if (vmdq_dummy_inject(r->wire, b, FRAME_LEN) < 0)
			return -1;
	}
	vmdq_dummy_replay(r->wire, true);
	return 0;
}

static uint64_t vifs_got(const struct rig *r)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < r->n; i++) {
		struct vmdq_dummy_stats st;
		vmdq_dummy_stats(r->vif[i], &st);
		t += st.tx_frames;
	}
	return t;
}

static uint64_t wire_drops(const struct sw_wire_cnt *c)
{
	uint64_t t = 0;
	for (int d = 0; d < SWD__COUNT; d++)
		t += c->drops[d];
	return t;
}

/* One slice: frames/s taken from the wire, and frames/s the vifs got. */
static int slice(struct rig *r, enum kind k, double secs, double *fps, double *cps)
{
	if (rig_load(r, k) < 0) {
		fprintf(stderr, "vmdq bench switch: %u vifs, %s: cannot load the uplink's frames\n",
			r->n, kind_name[k]);
		return -1;
	}
	for (int i = 0; i < 64; i++) /* warm: the queues fill up */
		vmdq_switch_poll(r->sw, 0);
	struct vmdq_dummy_stats w0, w1;
	struct sw_wire_cnt c0, c1;
	vmdq_dummy_stats(r->wire, &w0);
	vmdq_switch_wire_counters(r->sw, &c0);
	uint64_t g0 = vifs_got(r);
	double t0 = now_s(), t;
	do {
		for (int i = 0; i < 32; i++)
			vmdq_switch_poll(r->sw, 0);
	} while ((t = now_s()) - t0 < secs);
	vmdq_dummy_stats(r->wire, &w1);
	vmdq_switch_wire_counters(r->sw, &c1);
	*fps = (double)(w1.rx_frames - w0.rx_frames) / (t - t0);
	*cps = (double)(vifs_got(r) - g0) / (t - t0);
	/* the self-check: no frame of the slice dropped anywhere */
	if (wire_drops(&c1) != wire_drops(&c0)) {
		fprintf(stderr, "vmdq bench switch: %u vifs, %s: %llu frames dropped\n", r->n,
			kind_name[k], (unsigned long long)(wire_drops(&c1) - wire_drops(&c0)));
		return -1;
	}
	return 0;
}

/* Every receive buffer of every vif queue written once (the first write to
 * a buffer's page faults it in: in a first pass that, not the switch, is
 * what would be measured).  Seconds it took, or -1 past `limit`. */
static double warm(struct rig *r, double limit)
{
	if (rig_load(r, K_GROUP) < 0)
		return -2;
	uint64_t want = (uint64_t)r->n * SW_RING + vifs_got(r);
	double t0 = now_s(), t = t0;
	while (vifs_got(r) < want && (t = now_s()) - t0 < limit)
		for (int i = 0; i < 64; i++)
			vmdq_switch_poll(r->sw, 0);
	return vifs_got(r) >= want ? t - t0 : -1;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned n)
{
	double s[32];
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_d);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int bench_switch(int argc, char **argv)
{
	unsigned counts[MAX_COUNTS] = { 8, 256, 4095 }, ncounts = 3, runs = 5, ms = 200;
	static const struct option lo[] = {
		{ "vifs", required_argument, NULL, 'v' },
		{ "runs", required_argument, NULL, 'r' },
		{ "ms", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end, *p;
		unsigned long v;
		switch (c) {
		case 'v':
			ncounts = 0;
			p = optarg;
			do {
				v = strtoul(p, &end, 10);
				if (end == p || v < 1 || v > 65536 || ncounts == MAX_COUNTS ||
				    (*end && *end != ',')) {
					fprintf(stderr, "vmdq bench switch: --vifs: up to %d counts "
						"1..65536, comma-separated\n", MAX_COUNTS);
					return EXIT_USAGE;
				}
				counts[ncounts++] = (unsigned)v;
				p = end + 1;
			} while (*end);
			break;
		case 'r':
			v = strtoul(optarg, &end, 10);
			if (*end || v < 1 || v > 31) {
				fprintf(stderr, "vmdq bench switch: --runs: 1..31\n");
				return EXIT_USAGE;
			}
			runs = (unsigned)v;
			break;
		case 'm':
			v = strtoul(optarg, &end, 10);
			if (*end || v < 1 || v > 60000) {
				fprintf(stderr, "vmdq bench switch: --ms: 1..60000\n");
				return EXIT_USAGE;
			}
			ms = (unsigned)v;
			break;
		case 'h':
			fputs(switch_help, stdout);
			return 0;
		default:
			fputs(switch_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fputs(switch_help, stderr);
		return EXIT_USAGE;
	}
	vmdq_thread_online();
	struct rig *rig = calloc(ncounts, sizeof(*rig));
	if (!rig)
		return 1;
	printf("switch: %u interleaved runs of %u ms per kind and switch, %d-byte frames, "
	       "vifs in %d VLANs, dummy ports\n", runs, ms, FRAME_LEN, NVLANS);
	unsigned built = 0;
	for (unsigned i = 0; i < ncounts; i++) {
		rig[i].n = counts[i];
		int rc = rig_build(&rig[i]);
		rig[i].ok = rc == 0;
		if (rc < 0) {
			printf("%u vifs: not measured: %s\n", rig[i].n,
			       rig[i].why[0] ? rig[i].why : strerror(-rc));
			rig_free(&rig[i]);
		} else {
			built++;
			double w = warm(&rig[i], 300);
			if (w == -2)
				printf("%u vifs: cannot load the uplink's frames\n", rig[i].n);
			else if (w < 0)
				printf("%u vifs: warm-up: not every receive buffer written in 300 s\n",
				       rig[i].n);
			else
				printf("%u vifs: warm-up (every receive buffer written once): %.2f s\n",
				       rig[i].n, w);
		}
	}
	int status = 0;
	for (unsigned run = 0; run < runs && status == 0; run++)
		for (int k = 0; k < K__COUNT && status == 0; k++)
			for (unsigned i = 0; i < ncounts && status == 0; i++) {
				if (!rig[i].ok)
					continue;
				double cps = 0;
				if (slice(&rig[i], (enum kind)k, ms / 1000.0, &rig[i].fps[k][run],
					  &cps) < 0)
					status = 1;
				if (k == K_FLOOD)
					rig[i].flood_cps[run] = cps;
			}
	if (status == 0 && built) {
		printf("%8s %12s %12s %12s %14s %12s %12s\n", "vifs", "group f/s", "default f/s",
		       "flood f/s", "flood copies/s", "KiB/vif idle", "KiB/vif used");
	}
	int lo_i = -1, hi_i = -1;
	for (unsigned i = 0; i < ncounts; i++) {
		if (!rig[i].ok)
			continue;
		struct rig *r = &rig[i];
		/* what destroying it gives back, less the empty switch's */
		long before = rss_kb();
		rig_free(r);
		long used = before - rss_kb() - r->base_kb;
		if (status)
			continue;
		printf("%8u %12.0f %12.0f %12.0f %14.0f %12.1f %12.1f\n", r->n,
		       median(r->fps[K_GROUP], runs), median(r->fps[K_DEFAULT], runs),
		       median(r->fps[K_FLOOD], runs), median(r->flood_cps, runs),
		       (double)r->idle_kb / r->n, (double)used / r->n);
		if (lo_i < 0 || r->n < rig[lo_i].n)
			lo_i = (int)i;
		if (hi_i < 0 || r->n > rig[hi_i].n)
			hi_i = (int)i;
	}
	if (status == 0 && lo_i >= 0 && hi_i != lo_i) {
		double g = median(rig[hi_i].fps[K_GROUP], runs) / median(rig[lo_i].fps[K_GROUP], runs);
		double d = median(rig[hi_i].fps[K_DEFAULT], runs) /
			   median(rig[lo_i].fps[K_DEFAULT], runs);
		printf("ratio %u/%u vifs: group %.2f, default %.2f (target 0.70 or more)\n",
		       rig[hi_i].n, rig[lo_i].n, g, d);
	}
	if (status == 0 && built)
		printf("switch: every frame from the wire delivered: yes\n");
	free(rig);
	vmdq_dummy_forget();
	vmdq_thread_offline();
	return status;
}
