/* SPDX-License-Identifier: MIT */
/*
 * vmdq bench sort: the sorter's throughput, and what batching buys.
 *
 * Frames are real 64-byte Ethernet frames laid out in a buffer far larger
 * than the caches, each addressed to one filter's MAC drawn at random.  The
 * device sorts them with its real entry point, vmdq_rx_burst(), copying each
 * into a posted buffer of its queue and completing the descriptor, exactly
 * as on the live path; a consumer drains every queue and posts the buffers
 * back after each burst, and its cost is included.
 *
 * The baseline is the same device fed one frame at a time (a burst of 1:
 * one lookup, one enqueue and one publication per frame, no prefetching
 * across frames), which is how a plain software bridge works (WP 1.4.1).
 */
#include <getopt.h>
#include <sched.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rng.h"
#include "subcmds.h"
#include "vmdq/vmdq.h"

#define NQ 16
#define RING 512
#define BUF 2176 /* as DPDK's default mbuf: 2 KiB + headroom; not a power of two */
#define FRAME 64

static const char sort_bench_help[] =
	"usage: vmdq bench sort [--frames N] [--passes P] [--burst B] [--vms V]\n"
	"                       [--filters F] [--cpu C]\n"
	"\n"
	"Sorts N 64-byte frames (default 4194304, i.e. 256 MiB of frames) with 8,\n"
	"1024 and 65536 MAC filters spread over V destination queues (default 8),\n"
	"in bursts of B (default 32) and one at a time (the per-frame baseline).\n"
	"Each figure is the median of P passes over all frames (default 5); one\n"
	"core.  Only the device is timed; 'with consumer' adds draining.\n"
	"--filters F runs only the row for F filters (for profiling); the bench\n"
	"runs pinned to CPU C (default: the last CPU).\n";

struct consumer {
	struct vmdq_rxd posted[NQ][RING];
};

static void consumer_init(struct vmdq_dev *dev, struct consumer *c, uint8_t *bufmem)
{
	for (unsigned q = 0; q < NQ; q++) {
		vmdq_rxq_setup(dev, q, RING);
		for (unsigned i = 0; i < RING; i++)
			c->posted[q][i] = (struct vmdq_rxd){
				.buf = bufmem + ((size_t)q * RING + i) * BUF, .buf_size = BUF };
		vmdq_rxq_post(dev, q, c->posted[q], RING);
	}
}

/* Drain every queue and give the buffers back; returns frames drained. */
static inline unsigned consumer_run(struct vmdq_dev *dev, struct vmdq_rxd *tmp)
{
	unsigned total = 0;
	for (unsigned q = 0; q < NQ; q++) {
		unsigned k = vmdq_rxq_poll(dev, q, tmp, VMDQ_MAX_BURST);
		if (k) {
			vmdq_rxq_post(dev, q, tmp, k);
			total += k;
		}
	}
	return total;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct result {
	double mpps, best_mpps, ns, wall_mpps;
	uint64_t queued, missed;
};

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t ticks(void) { return __rdtsc(); }
#else
static inline uint64_t ticks(void) { return mono_now_ns(); }
#endif

/*
 * One pass over all frames.  Only the device is timed: each burst of `burst`
 * frames (or, for the baseline, `burst` separate one-frame calls) is timed
 * with the TSC; the consumer then drains the queues untimed.  Returns the
 * device's rate and sets *wall to the rate of the whole pass (device +
 * consumer) and adds the frames drained to *queued.
 */
static double pass(struct vmdq_dev *dev, const struct vmdq_frame *fr, size_t n,
		   unsigned burst, bool one_by_one, double *wall, uint64_t *queued)
{
	struct vmdq_rxd tmp[VMDQ_MAX_BURST];
	uint64_t dev_ticks = 0;
	uint64_t t0 = mono_now_ns(), k0 = ticks();
	for (size_t i = 0; i < n; i += burst) {
		unsigned m = n - i < burst ? (unsigned)(n - i) : burst;
		uint64_t a = ticks();
		if (one_by_one)
			for (unsigned j = 0; j < m; j++)
				vmdq_rx_burst(dev, fr + i + j, 1, NULL);
		else
			vmdq_rx_burst(dev, fr + i, m, NULL);
		dev_ticks += ticks() - a;
		*queued += consumer_run(dev, tmp);
	}
	uint64_t t1 = mono_now_ns(), k1 = ticks();
	double ns_per_tick = (double)(t1 - t0) / (double)(k1 - k0);
	*wall = (double)n / ((double)(t1 - t0) / 1e9);
	return (double)n / ((double)dev_ticks * ns_per_tick / 1e9);
}

static void summarise(double *rates, double *walls, unsigned passes, struct result *r)
{
	qsort(rates, passes, sizeof(double), dcmp);
	qsort(walls, passes, sizeof(double), dcmp);
	r->mpps = rates[passes / 2] / 1e6;
	r->best_mpps = rates[passes - 1] / 1e6;
	r->ns = 1e3 / r->mpps;
	r->wall_mpps = walls[passes / 2] / 1e6;
}

/* One table size under test: its own frames, device, queues and buffers,
 * so that all sizes can be measured pass by pass, side by side. */
struct setup {
	unsigned nf;
	uint8_t *mem, *bufmem;
	struct vmdq_frame *fr;
	struct vmdq_dev *dev;
	struct consumer *cons;
	double *rb, *wb, *ro, *wo;
	struct result b, one;
};

static int setup_make(struct setup *su, unsigned nf, size_t n, unsigned vms,
		      unsigned passes)
{
	memset(su, 0, sizeof(*su));
	su->nf = nf;
	su->mem = mmap(NULL, n * FRAME, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	su->bufmem = mmap(NULL, (size_t)NQ * RING * BUF, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	su->fr = malloc(n * sizeof(*su->fr));
	su->cons = malloc(sizeof(*su->cons));
	su->dev = vmdq_dev_create();
	su->rb = calloc(passes, sizeof(double));
	su->wb = calloc(passes, sizeof(double));
	su->ro = calloc(passes, sizeof(double));
	su->wo = calloc(passes, sizeof(double));
	if (su->mem == MAP_FAILED || su->bufmem == MAP_FAILED || !su->fr || !su->cons ||
	    !su->dev || !su->rb || !su->wb || !su->ro || !su->wo)
		return -1;
	/* Packet memory on huge pages where the kernel offers them, as any
	 * packet-processing system arranges (DPDK requires it). */
	madvise(su->mem, n * FRAME, MADV_HUGEPAGE);
	madvise(su->bufmem, (size_t)NQ * RING * BUF, MADV_HUGEPAGE);
	vmdq_dev_batch_begin(su->dev);
	vmdq_dev_set_vmdq(su->dev, true);
	uint8_t mac[6] = { 0x02, 0x10, 0, 0, 0, 0 };
	for (unsigned k = 0; k < nf; k++) {
		mac[2] = (uint8_t)(k >> 24); mac[3] = (uint8_t)(k >> 16);
		mac[4] = (uint8_t)(k >> 8); mac[5] = (uint8_t)k;
		vmdq_filter_add(su->dev, mac, 0, 1 + k % vms);
	}
	vmdq_dev_batch_commit(su->dev);
	uint64_t s = 0x9e3779b97f4a7c15ull ^ nf;
	for (size_t i = 0; i < n; i++) {
		uint8_t *f = su->mem + i * FRAME;
		uint32_t k = rng_below(&s, nf);
		/* dst: a filter's MAC drawn at random; src 02:00:00:00:00:01;
		 * IPv4 ethertype; a payload pattern */
		memset(f, 0, FRAME);
		f[0] = 0x02; f[1] = 0x10;
		f[2] = (uint8_t)(k >> 24); f[3] = (uint8_t)(k >> 16);
		f[4] = (uint8_t)(k >> 8); f[5] = (uint8_t)k;
		f[6] = 0x02; f[11] = 0x01; f[12] = 0x08; f[13] = 0x00;
		for (unsigned b = 14; b < FRAME; b++)
			f[b] = (uint8_t)(i + b);
		su->fr[i] = (struct vmdq_frame){ .data = f, .caplen = FRAME, .len = FRAME };
	}
	consumer_init(su->dev, su->cons, su->bufmem);
	return 0;
}

static void setup_free(struct setup *su, size_t n)
{
	vmdq_dev_destroy(su->dev);
	if (su->mem && su->mem != MAP_FAILED)
		munmap(su->mem, n * FRAME);
	if (su->bufmem && su->bufmem != MAP_FAILED)
		munmap(su->bufmem, (size_t)NQ * RING * BUF);
	free(su->fr);
	free(su->cons);
	free(su->rb);
	free(su->wb);
	free(su->ro);
	free(su->wo);
}

int bench_sort(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "passes", required_argument, NULL, 'p' },
		{ "burst", required_argument, NULL, 'b' },
		{ "filters", required_argument, NULL, 'f' },
		{ "vms", required_argument, NULL, 'v' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n = 4u << 20;
	unsigned passes = 5, burst = 32, only = 0, vms = 8;
	int cpu = -1;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'p': passes = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': burst = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f': only = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'v': vms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': cpu = (int)strtol(optarg, NULL, 10); break;
		case 'h': fputs(sort_bench_help, stdout); return 0;
		default: fputs(sort_bench_help, stderr); return EXIT_USAGE;
		}
	}
	if (only && only != 8 && only != 1024 && only != 65536) {
		fprintf(stderr, "vmdq bench sort: --filters is 8, 1024 or 65536\n");
		return EXIT_USAGE;
	}
	if (vms < 1 || vms > NQ - 1) {
		fprintf(stderr, "vmdq bench sort: --vms is 1..%d\n", NQ - 1);
		return EXIT_USAGE;
	}
	if (n < 1024 || passes < 1 || burst < 1 || burst > VMDQ_MAX_BURST) {
		fprintf(stderr, "vmdq bench sort: need --frames >= 1024, --passes >= 1, "
			"--burst 1..%d\n", VMDQ_MAX_BURST);
		return EXIT_USAGE;
	}
	/* One core, and the same one throughout: pin.  By default the last
	 * CPU, which on small VMs takes fewer of the host's interrupts. */
	if (cpu < 0)
		cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		fprintf(stderr, "vmdq bench sort: cannot run on CPU %d\n", cpu);
		return EXIT_USAGE;
	}
	static const unsigned nfilters[] = { 8, 1024, 65536 };
	printf("vmdq bench sort: %zu frames of %d bytes (%zu MiB), %d queues, filters spread\n"
	       "over queues 1..%d (%d destinations whatever the table size), pinned to CPU %d,\n"
	       "bursts of %u, median of %u passes, batched and per-frame passes alternating.\n"
	       "Mpps and ns/frame time the device (vmdq_rx_burst); 'with consumer' is the\n"
	       "wall rate of sorting plus draining and re-posting every queue after each\n"
	       "burst.\n\n",
	       n, FRAME, n * FRAME >> 20, NQ, vms, vms, cpu, burst, passes);
	/* Table sizes one after another, each with its own frames, device and
	 * buffers.  (Interleaving the sizes pass by pass as well was tried: on
	 * the development VM it slowed the batched path of every size by a
	 * quarter, so the sizes are run in turn; see BENCHMARKS.md.) */
	struct setup su[3];
	unsigned nsu = 0;
	vmdq_thread_online();
	for (size_t c = 0; c < 3; c++) {
		if (only && nfilters[c] != only)
			continue;
		struct setup *x = &su[nsu];
		if (setup_make(x, nfilters[c], n, vms, passes) < 0) {
			fprintf(stderr, "vmdq bench sort: out of memory\n");
			setup_free(x, n);
			for (unsigned k = 0; k < nsu; k++)
				setup_free(&su[k], n);
			return 1;
		}
		uint64_t warm = 0;
		double wall;
		pass(x->dev, x->fr, n, burst, false, &wall, &warm); /* warm-up */
		for (unsigned p = 0; p < passes; p++) {
			x->rb[p] = pass(x->dev, x->fr, n, burst, false, &x->wb[p], &x->b.queued);
			x->ro[p] = pass(x->dev, x->fr, n, burst, true, &x->wo[p], &x->one.queued);
		}
		/* keep the counters and rates; give the packet memory back */
		munmap(x->mem, n * FRAME);
		x->mem = NULL;
		free(x->fr);
		x->fr = NULL;
		nsu++;
	}
	vmdq_thread_offline();
	printf("%8s  %10s %8s %9s  %10s %8s %9s  %8s\n", "", "burst", "", "with",
	       "per-frame", "", "with", "");
	printf("%8s  %10s %8s %9s  %10s %8s %9s  %8s\n", "filters", "Mpps", "ns/frame",
	       "consumer", "Mpps", "ns/frame", "consumer", "speed-up");
	int status = 0;
	for (unsigned k = 0; k < nsu; k++) {
		summarise(su[k].rb, su[k].wb, passes, &su[k].b);
		summarise(su[k].ro, su[k].wo, passes, &su[k].one);
		struct vmdq_dev_stats ds;
		vmdq_dev_stats(su[k].dev, &ds);
		uint64_t expect = (uint64_t)n * (2 * passes + 1);
		if (ds.frames_in != expect || ds.drops[VMDQ_DROP_MISSED] != 0 ||
		    ds.drops[VMDQ_DROP_FILTERED] != 0 ||
		    su[k].b.queued + su[k].one.queued != (uint64_t)n * 2 * passes) {
			fprintf(stderr, "vmdq bench sort: frames went missing (in %llu, "
				"missed %llu, filtered %llu)\n",
				(unsigned long long)ds.frames_in,
				(unsigned long long)ds.drops[VMDQ_DROP_MISSED],
				(unsigned long long)ds.drops[VMDQ_DROP_FILTERED]);
			status = 1;
		}
		const struct result *b = &su[k].b, *one = &su[k].one;
		printf("%8u  %10.1f %8.2f %9.1f  %10.1f %8.2f %9.1f  %7.2fx\n", su[k].nf,
		       b->mpps, b->ns, b->wall_mpps, one->mpps, one->ns, one->wall_mpps,
		       b->mpps / one->mpps);
	}
	if (nsu == 3) {
		printf("\n8 filters: %.1f Mpps per core, median (best pass %.1f) (target >= 60)\n",
		       su[0].b.mpps, su[0].b.best_mpps);
		printf("65536 filters vs 8: %.2fx slower (target <= 1.5)\n",
		       su[0].b.mpps / su[2].b.mpps);
	}
	printf("every frame sorted into its queue: %s\n", status ? "NO" : "yes");
	for (unsigned k = 0; k < nsu; k++)
		setup_free(&su[k], n);
	return status;
}
