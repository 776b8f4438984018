/* SPDX-License-Identifier: MIT */
/*
 * vmdq sort: every frame of a capture through the device, as configured.
 *
 * The ideal consumer: every queue has one posted buffer at all times, all
 * of them the same memory (frames are sorted one at a time and the queue a
 * frame lands in is drained at once), so nothing is ever missed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "config.h"
#include "subcmds.h"
#include "vmdq/vmdq.h"

static const char sort_help[] =
	"usage: vmdq sort -c CONFIG -r IN.pcap -w OUTDIR [--trace]\n"
	"\n"
	"Runs every frame of IN.pcap through the VMDq device configured by CONFIG\n"
	"(the command language: device/filter/queue lines, and `at K COMMAND` to\n"
	"run COMMAND just before frame K, counting from 0).  An ideal consumer\n"
	"drains every queue, so no frame is missed.\n"
	"\n"
	"Writes OUTDIR/rxq-Q.pcap for each queue Q that received frames (input\n"
	"timestamps kept, nanosecond pcap) and OUTDIR/stats.json.  With --trace,\n"
	"OUTDIR/trace.jsonl has one JSON line per input frame.\n"
	"\n"
	"  -c, --config CONFIG   device configuration (required)\n"
	"  -r, --read IN.pcap    input capture, pcap or pcapng, Ethernet (required)\n"
	"  -w, --write OUTDIR    output directory, created if missing (required)\n"
	"      --trace           also write OUTDIR/trace.jsonl\n"
	"  -h, --help            this text\n"
	"\n"
	"Exit status: 0 done, 1 an input or output failed, 2 bad usage or config.\n";

struct qout {
	struct vmdq_pcap_writer *w;
};

static json_t *errors_json(uint8_t e)
{
	json_t *a = json_array();
	static const struct { uint8_t bit; const char *name; } order[] = {
		{ VMDQ_ERR_RUNT, "runt" }, { VMDQ_ERR_TRUNCATED, "truncated" },
		{ VMDQ_ERR_OVERSIZE, "oversize" }, { VMDQ_ERR_CRC, "crc" },
	};
	for (size_t i = 0; i < 4; i++)
		if (e & order[i].bit)
			json_array_append_new(a, json_string(order[i].name));
	return a;
}

static int write_trace(FILE *tf, uint64_t i, const struct vmdq_rx_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "frame", json_integer((json_int_t)i));
	bool queued = r->drop == VMDQ_DROP_NONE || r->drop == VMDQ_DROP_MISSED;
	json_object_set_new(o, "queue", queued ? json_integer(r->queue) : json_null());
	json_object_set_new(o, "drop", r->drop == VMDQ_DROP_NONE
				       ? json_null() : json_string(vmdq_drop_name(r->drop)));
	json_object_set_new(o, "match", json_boolean(r->match));
	json_object_set_new(o, "filter", r->filter_id ? json_integer(r->filter_id) : json_null());
	json_object_set_new(o, "errors", errors_json(r->errors));
	int rc = json_dumpf(o, tf, JSON_PRESERVE_ORDER);
	json_decref(o);
	if (rc == 0 && fputc('\n', tf) == EOF)
		rc = -1;
	return rc;
}

static int write_stats(const char *dir, struct vmdq_dev *dev, uint64_t frames,
		       unsigned nq)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/stats.json", dir);
	json_t *o = json_object(), *qs = json_array(), *drops = json_object();
	json_object_set_new(o, "frames", json_integer((json_int_t)frames));
	for (unsigned q = 0; q < nq; q++) {
		struct vmdq_queue_stats s;
		vmdq_queue_stats(dev, q, &s);
		json_t *e = json_object();
		json_object_set_new(e, "queue", json_integer(q));
		json_object_set_new(e, "frames", json_integer((json_int_t)s.frames));
		json_object_set_new(e, "bytes", json_integer((json_int_t)s.bytes));
		json_object_set_new(e, "missed", json_integer((json_int_t)s.missed));
		json_object_set_new(e, "errors", json_integer((json_int_t)s.errors));
		json_array_append_new(qs, e);
	}
	json_object_set_new(o, "queues", qs);
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(dev, &ds);
	static const enum vmdq_drop reasons[] = { VMDQ_DROP_FILTERED, VMDQ_DROP_RUNT,
		VMDQ_DROP_OVERSIZE, VMDQ_DROP_CRC, VMDQ_DROP_TRUNCATED };
	for (size_t i = 0; i < 5; i++)
		json_object_set_new(drops, vmdq_drop_name(reasons[i]),
				    json_integer((json_int_t)ds.drops[reasons[i]]));
	json_object_set_new(o, "drops", drops);
	int rc = json_dump_file(o, path, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(o);
	if (rc < 0)
		fprintf(stderr, "vmdq: %s: cannot write\n", path);
	return rc;
}

/* The most queues the device will have at any point of the run. */
static unsigned max_queues(const struct config *cfg)
{
	unsigned m = 16;
	for (int pass = 0; pass < 2; pass++) {
		const struct config_line *v = pass ? cfg->sched : cfg->init;
		size_t n = pass ? cfg->nsched : cfg->ninit;
		for (size_t i = 0; i < n; i++) {
			const struct vmdq_cmd *c = v[i].cmd.kind == VMDQ_CMD_AT ? v[i].cmd.sub : &v[i].cmd;
			unsigned q = c->kind == VMDQ_CMD_DEV_QUEUES ? c->num
				   : c->kind == VMDQ_CMD_DEV_PROFILE
				     ? vmdq_profile_limits(c->profile)->default_queues : 0;
			if (q > m)
				m = q;
		}
	}
	return m;
}

int cmd_sort(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "read", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'w' },
		{ "trace", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cpath = NULL, *in = NULL, *outdir = NULL;
	bool trace = false;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:r:w:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': cpath = optarg; break;
		case 'r': in = optarg; break;
		case 'w': outdir = optarg; break;
		case 'T': trace = true; break;
		case 'h': fputs(sort_help, stdout); return 0;
		default: fputs(sort_help, stderr); return EXIT_USAGE;
		}
	}
	if (!cpath || !in || !outdir || optind != argc) {
		if (optind != argc)
			fprintf(stderr, "vmdq sort: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "vmdq sort: -c, -r and -w are required\n");
		fputs(sort_help, stderr);
		return EXIT_USAGE;
	}

	struct config cfg;
	if (config_load(cpath, &cfg, true) < 0)
		return EXIT_USAGE;

	int status = 1;
	char err[512];
	struct vmdq_dev *dev = NULL;
	struct qout *qo = NULL;
	FILE *tf = NULL;
	uint8_t *buf = NULL;
	struct vmdq_pcap_reader *rd = vmdq_pcap_open(in, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "vmdq: %s\n", err);
		goto out;
	}
	if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "vmdq: %s: %s\n", outdir, strerror(errno));
		goto out;
	}
	raise_nofile();
	dev = vmdq_dev_create();
	buf = malloc(VMDQ_PCAP_SNAPLEN);
	qo = calloc(VMDQ_MAX_QUEUES, sizeof(*qo));
	if (!dev || !buf || !qo) {
		fprintf(stderr, "vmdq: out of memory\n");
		goto out;
	}
	vmdq_thread_online();
	if (config_apply_init(&cfg, dev) < 0)
		goto out_offline;
	struct vmdq_rxd post = { .buf = buf, .buf_size = VMDQ_PCAP_SNAPLEN };
	const unsigned nq = max_queues(&cfg);
	for (unsigned q = 0; q < nq; q++) {
		if (vmdq_rxq_setup(dev, q, 2) < 0 || vmdq_rxq_post(dev, q, &post, 1) != 1) {
			fprintf(stderr, "vmdq: out of memory\n");
			goto out_offline;
		}
	}
	char path[4096];
	if (trace) {
		snprintf(path, sizeof(path), "%s/trace.jsonl", outdir);
		tf = fopen(path, "w");
		if (!tf) {
			fprintf(stderr, "vmdq: %s: %s\n", path, strerror(errno));
			goto out_offline;
		}
	}

	struct progress pg;
	progress_init(&pg, "vmdq sort");
	uint64_t i = 0;
	size_t next_at = 0;
	unsigned max_q = 0;
	struct vmdq_frame f;
	int rr;
	status = 0;
	while ((rr = vmdq_pcap_next(rd, &f)) == 1) {
		while (next_at < cfg.nsched && cfg.sched[next_at].cmd.at == i) {
			if (config_run(&cfg, &cfg.sched[next_at], dev) < 0) {
				status = 1; /* cannot happen: validated */
				goto done;
			}
			next_at++;
		}
		struct vmdq_rx_result r;
		vmdq_rx_burst(dev, &f, 1, &r);
		if (r.drop == VMDQ_DROP_NONE) {
			unsigned q = (unsigned)r.queue;
			struct vmdq_rxd d;
			if (vmdq_rxq_poll(dev, q, &d, 1) != 1 || vmdq_rxq_post(dev, q, &post, 1) != 1) {
				fprintf(stderr, "vmdq: internal error: queue %u lost a frame\n", q);
				status = 1;
				goto done;
			}
			if (!qo[q].w) {
				snprintf(path, sizeof(path), "%s/rxq-%u.pcap", outdir, q);
				qo[q].w = vmdq_pcap_create(path, err, sizeof(err));
				if (!qo[q].w) {
					fprintf(stderr, "vmdq: %s\n", err);
					status = 1;
					goto done;
				}
			}
			if (vmdq_pcap_write(qo[q].w, d.buf, d.len, d.wire_len, d.ts_ns) < 0) {
				fprintf(stderr, "vmdq: %s/rxq-%u.pcap: %s\n", outdir, q, strerror(errno));
				status = 1;
				goto done;
			}
			if (q + 1 > max_q)
				max_q = q + 1;
		}
		if (tf && write_trace(tf, i, &r) < 0) {
			fprintf(stderr, "vmdq: %s/trace.jsonl: %s\n", outdir, strerror(errno));
			status = 1;
			goto done;
		}
		i++;
		if ((i & 1023) == 0)
			progress_update(&pg, i, vmdq_pcap_progress(rd));
	}
	if (rr < 0)
		fprintf(stderr, "vmdq: %s: damaged after frame %llu: %s; the %llu frames "
			"before it were sorted\n", in, (unsigned long long)i,
			vmdq_pcap_error(rd), (unsigned long long)i);
done:
	progress_done(&pg);
	struct vmdq_dev_config dc;
	vmdq_dev_get_config(dev, &dc);
	if (dc.queues > max_q)
		max_q = dc.queues;
	/* conservation: every frame is in a queue or a drop counter */
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(dev, &ds);
	uint64_t acc = 0;
	for (unsigned q = 0; q < nq; q++) {
		struct vmdq_queue_stats s;
		vmdq_queue_stats(dev, q, &s);
		acc += s.frames;
	}
	for (unsigned d = VMDQ_DROP_FILTERED; d < VMDQ_DROP__COUNT; d++)
		acc += ds.drops[d];
	if (acc != i || ds.frames_in != i) {
		fprintf(stderr, "vmdq: internal error: %llu frames in, %llu accounted for\n",
			(unsigned long long)i, (unsigned long long)acc);
		status = 1;
	}
	for (unsigned q = 0; q < VMDQ_MAX_QUEUES; q++) {
		if (qo[q].w && vmdq_pcap_finish(qo[q].w) < 0) {
			fprintf(stderr, "vmdq: %s/rxq-%u.pcap: %s\n", outdir, q, strerror(errno));
			status = 1;
		}
		qo[q].w = NULL;
	}
	if (tf && (fflush(tf) != 0 || ferror(tf))) {
		fprintf(stderr, "vmdq: %s/trace.jsonl: %s\n", outdir, strerror(errno));
		status = 1;
	}
	if (write_stats(outdir, dev, i, max_q) < 0)
		status = 1;
out_offline:
	vmdq_thread_offline();
out:
	if (tf)
		fclose(tf);
	if (qo)
		for (unsigned q = 0; q < VMDQ_MAX_QUEUES; q++)
			vmdq_pcap_finish(qo[q].w);
	free(qo);
	free(buf);
	vmdq_dev_destroy(dev);
	vmdq_pcap_close(rd);
	config_free(&cfg);
	return status;
}
