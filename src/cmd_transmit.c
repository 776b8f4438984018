/* SPDX-License-Identifier: MIT */
/*
 * vmdq transmit: per-queue captures through the TX arbiter onto a wire.
 *
 * Discrete-event simulation on the inputs' clock.  Each frame is posted to
 * its TX queue at its timestamp; whenever the wire is free the arbiter picks
 * the next frame, which occupies the wire for (max(L,60)+4+20)*8/R seconds.
 * Time is kept exactly: a busy period's start in ns plus the bits sent since,
 * so no rounding accumulates.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "subcmds.h"
#include "vmdq/vmdq.h"

static const char transmit_help[] =
	"usage: vmdq transmit -c CONFIG -w WIRE.pcap [--rate RATE] [-s STATS.json]\n"
	"                     Q=IN.pcap [Q=IN.pcap ...]\n"
	"\n"
	"Posts each frame of each IN.pcap to TX queue Q at its timestamp (time 0 is\n"
	"the earliest frame of all inputs), runs the device's arbiter (device\n"
	"arbiter rr|drr|fifo; queue Q weight W for drr) against a wire of RATE, and\n"
	"writes the frames in wire order to WIRE.pcap, each stamped with its\n"
	"transmission start time on the inputs' clock (nanosecond pcap).\n"
	"\n"
	"  -c, --config CONFIG     device configuration (required)\n"
	"  -w, --write WIRE.pcap   output capture (required)\n"
	"  -r, --rate RATE         1g, 10g, 25g, 100g or bits/s (default 10g)\n"
	"  -s, --stats STATS.json  per-queue frames, bytes and latency (p50, p99,\n"
	"                          max, in microseconds: start minus posting time)\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 done, 1 an input or output failed, 2 bad usage or config.\n";

struct txframe {
	uint8_t *data;
	uint32_t caplen, len;
	uint64_t ts;
	uint16_t queue;
	uint32_t order; /* input order within the run, for stable ties */
};

struct qacc {
	bool given;
	uint64_t frames, bytes;
	uint64_t *lat; /* ns */
	size_t nlat;
};

static int frame_cmp(const void *a, const void *b)
{
	const struct txframe *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->queue != y->queue)
		return x->queue < y->queue ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p% of values <= it. */
static uint64_t pct(const uint64_t *v, size_t n, unsigned p)
{
	if (!n)
		return 0;
	size_t rank = ((size_t)p * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

static unsigned pow2_at_least(size_t n)
{
	unsigned s = 2;
	while (s < n && s < (1u << 22))
		s <<= 1;
	return s;
}

static int load_inputs(int argc, char **argv, unsigned nq, struct txframe **out,
		       size_t *nout, struct qacc *acc)
{
	size_t n = 0, cap = 0;
	struct txframe *v = NULL;
	char err[512];
	for (int a = 0; a < argc; a++) {
		char *eq = strchr(argv[a], '=');
		char *end;
		errno = 0;
		unsigned long q = eq ? strtoul(argv[a], &end, 10) : 0;
		if (!eq || end != eq || eq == argv[a] || errno || eq[1] == '\0') {
			fprintf(stderr, "vmdq transmit: '%s': expected Q=IN.pcap\n", argv[a]);
			goto fail_usage;
		}
		if (q >= nq) {
			fprintf(stderr, "vmdq transmit: '%s': queue %lu is out of range (the "
				"device has %u queues)\n", argv[a], q, nq);
			goto fail_usage;
		}
		acc[q].given = true;
		struct vmdq_pcap_reader *r = vmdq_pcap_open(eq + 1, err, sizeof(err));
		if (!r) {
			fprintf(stderr, "vmdq: %s\n", err);
			goto fail;
		}
		struct vmdq_frame f;
		int rc;
		while ((rc = vmdq_pcap_next(r, &f)) == 1) {
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				struct txframe *nv = realloc(v, cap * sizeof(*nv));
				if (!nv) {
					vmdq_pcap_close(r);
					fprintf(stderr, "vmdq: out of memory\n");
					goto fail;
				}
				v = nv;
			}
			uint32_t cl = f.caplen < f.len ? f.caplen : f.len;
			uint8_t *d = malloc(cl ? cl : 1);
			if (!d) {
				vmdq_pcap_close(r);
				fprintf(stderr, "vmdq: out of memory\n");
				goto fail;
			}
			memcpy(d, f.data, cl);
			v[n] = (struct txframe){ .data = d, .caplen = cl, .len = f.len,
						 .ts = f.ts_ns, .queue = (uint16_t)q,
						 .order = (uint32_t)n };
			n++;
		}
		if (rc < 0)
			fprintf(stderr, "vmdq: %s: damaged after %llu frames: %s; using the "
				"frames before it\n", eq + 1, (unsigned long long)n,
				vmdq_pcap_error(r));
		vmdq_pcap_close(r);
	}
	*out = v;
	*nout = n;
	return 0;
fail_usage:
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
	return -2;
fail:
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
	return -1;
}

static json_t *stats_json(struct qacc *acc, unsigned nq)
{
	json_t *o = json_object(), *qs = json_array();
	for (unsigned q = 0; q < nq; q++) {
		if (!acc[q].given)
			continue;
		qsort(acc[q].lat, acc[q].nlat, sizeof(uint64_t), u64_cmp);
		json_t *e = json_object(), *l = json_object();
		json_object_set_new(e, "queue", json_integer(q));
		json_object_set_new(e, "frames", json_integer((json_int_t)acc[q].frames));
		json_object_set_new(e, "bytes", json_integer((json_int_t)acc[q].bytes));
		json_object_set_new(l, "p50", json_real(pct(acc[q].lat, acc[q].nlat, 50) / 1000.0));
		json_object_set_new(l, "p99", json_real(pct(acc[q].lat, acc[q].nlat, 99) / 1000.0));
		json_object_set_new(l, "max", json_real(acc[q].nlat
			? acc[q].lat[acc[q].nlat - 1] / 1000.0 : 0.0));
		json_object_set_new(e, "latency_us", l);
		json_array_append_new(qs, e);
	}
	json_object_set_new(o, "queues", qs);
	return o;
}

int cmd_transmit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "write", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "stats", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cpath = NULL, *wire = NULL, *spath = NULL;
	uint64_t rate = 10000000000ull;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:w:r:s:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': cpath = optarg; break;
		case 'w': wire = optarg; break;
		case 's': spath = optarg; break;
		case 'r':
			if (parse_rate(optarg, &rate) < 0) {
				fprintf(stderr, "vmdq transmit: --rate: '%s' is not a rate (1g, 10g, "
					"25g, 100g or bits/s)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': fputs(transmit_help, stdout); return 0;
		default: fputs(transmit_help, stderr); return EXIT_USAGE;
		}
	}
	if (!cpath || !wire || optind == argc) {
		fprintf(stderr, "vmdq transmit: -c, -w and at least one Q=IN.pcap are required\n");
		fputs(transmit_help, stderr);
		return EXIT_USAGE;
	}
	struct config cfg;
	if (config_load(cpath, &cfg, false) < 0)
		return EXIT_USAGE;

	int status = 1;
	char err[512];
	struct txframe *fr = NULL;
	size_t n = 0;
	struct vmdq_pcap_writer *w = NULL;
	struct qacc *acc = calloc(VMDQ_MAX_QUEUES, sizeof(*acc));
	struct vmdq_dev *dev = vmdq_dev_create();
	if (!acc || !dev) {
		fprintf(stderr, "vmdq: out of memory\n");
		goto out;
	}
	if (config_apply_init(&cfg, dev) < 0)
		goto out;
	struct vmdq_dev_config dc;
	vmdq_dev_get_config(dev, &dc);
	int lr = load_inputs(argc - optind, argv + optind, dc.queues, &fr, &n, acc);
	if (lr < 0) {
		status = lr == -2 ? EXIT_USAGE : 1;
		goto out;
	}
	if (n)
		qsort(fr, n, sizeof(*fr), frame_cmp);
	size_t *perq = calloc(VMDQ_MAX_QUEUES, sizeof(size_t));
	if (!perq)
		goto out;
	for (size_t i = 0; i < n; i++)
		perq[fr[i].queue]++;
	for (unsigned q = 0; q < dc.queues; q++) {
		if (!acc[q].given)
			continue;
		acc[q].lat = malloc((perq[q] ? perq[q] : 1) * sizeof(uint64_t));
		if (!acc[q].lat || vmdq_txq_setup(dev, q, pow2_at_least(perq[q])) < 0) {
			free(perq);
			fprintf(stderr, "vmdq: out of memory\n");
			goto out;
		}
	}
	free(perq);
	w = vmdq_pcap_create(wire, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "vmdq: %s\n", err);
		goto out;
	}

	/* now = base + bits * 1e9 / rate, exactly (bits since base) */
	uint64_t base = n ? fr[0].ts : 0;
	unsigned __int128 bits = 0;
	size_t next = 0, sent = 0;
	status = 0;
	while (sent < n) {
		uint64_t now = base + (uint64_t)(bits * 1000000000u / rate);
		/* post everything whose time has come: ts <= exact now */
		while (next < n && (unsigned __int128)(fr[next].ts - base) * rate <=
					   bits * 1000000000u) {
			struct vmdq_txd d = { .data = fr[next].data, .len = fr[next].len,
					      .caplen = fr[next].caplen, .ts_ns = fr[next].ts };
			if (vmdq_txq_post(dev, fr[next].queue, &d, 1) != 1) {
				fprintf(stderr, "vmdq: internal error: TX queue %u full\n",
					fr[next].queue);
				status = 1;
				goto out;
			}
			next++;
		}
		struct vmdq_txd d;
		if (vmdq_tx_pick(dev, &d, 1) == 1) {
			if (vmdq_pcap_write(w, d.data, d.caplen, d.len, now) < 0) {
				fprintf(stderr, "vmdq: %s: %s\n", wire, strerror(errno));
				status = 1;
				goto out;
			}
			struct qacc *a = &acc[d.queue];
			a->frames++;
			a->bytes += d.len;
			a->lat[a->nlat++] = now - d.ts_ns;
			bits += (unsigned __int128)((d.len < 60 ? 60 : d.len) + 4 + 20) * 8;
			sent++;
		} else {
			/* wire idle until the next posting */
			base = fr[next].ts;
			bits = 0;
		}
	}
	if (vmdq_pcap_finish(w) < 0) {
		fprintf(stderr, "vmdq: %s: %s\n", wire, strerror(errno));
		status = 1;
	}
	w = NULL;
	if (spath) {
		json_t *js = stats_json(acc, dc.queues);
		if (json_dump_file(js, spath, JSON_PRESERVE_ORDER | JSON_INDENT(2) |
					      JSON_REAL_PRECISION(12)) < 0) {
			fprintf(stderr, "vmdq: %s: cannot write\n", spath);
			status = 1;
		}
		json_decref(js);
	}
out:
	vmdq_pcap_finish(w);
	for (size_t i = 0; i < n; i++)
		free(fr[i].data);
	free(fr);
	if (acc)
		for (unsigned q = 0; q < VMDQ_MAX_QUEUES; q++)
			free(acc[q].lat);
	free(acc);
	vmdq_dev_destroy(dev);
	config_free(&cfg);
	return status;
}
