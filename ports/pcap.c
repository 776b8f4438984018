/* SPDX-License-Identifier: MIT */
/*
 * The pcap backend: `pcap IN.pcap OUT.pcap [loop N]`.  Frames are read from
 * IN (replayed as fast as the switch takes them; with loop N, N times over,
 * loop 0 forever) and everything sent to the port is written to OUT.  It is
 * an uplink for offline use and, as a vif, the switch's test backend (no
 * root needed, output compared exactly).
 *
 * With loop, IN is read into memory once (up to LOOP_MAX_BYTES) and replayed
 * from there without a copy: a traffic source for benchmarks that costs the
 * switch next to nothing.  OUT /dev/null counts frames and writes nothing.
 *
 * No call may keep the worker from its next round (SPEC 4): IN and OUT are
 * regular files (a pipe or a device could block a read or a write for
 * ever), loop 0 on a capture with no frame is refused when the port opens,
 * and a pass over the file that yields no frame ends the port, so one rx
 * call reopens the file at most twice whatever N is or the file becomes.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "vmdq/pcapio.h"

struct pcap_port {
	char *in_path;
	struct vmdq_pcap_reader *in;
	struct vmdq_pcap_writer *out;
	uint64_t loops_left; /* 0 = forever when looping */
	bool forever, eof;
	uint64_t pass_frames; /* read from the file since it was last opened */
	uint8_t *hold;       /* frames of the current burst, owned */
	/* loop: the whole capture in memory */
	uint8_t *mem;
	struct vmdq_frame *frames;
	size_t nframes, next;
	bool discard;        /* OUT is /dev/null */
};

#define LOOP_MAX_BYTES (64u << 20)
#define LOOP_MAX_FRAMES (1u << 20)

#define HOLD_FRAMES 32

static void pp_close(struct port *p)
{
	struct pcap_port *pp = p->priv;
	if (!pp)
		return;
	vmdq_pcap_close(pp->in);
	if (vmdq_pcap_finish(pp->out) < 0)
		fprintf(stderr, "vmdq: port %s: output: %s\n", p->name, strerror(errno));
	free(pp->in_path);
	free(pp->hold);
	free(pp->mem);
	free(pp->frames);
	free(pp);
	p->priv = NULL;
}

/* Reads the whole capture into memory (loop mode).  A capture too large
 * for it is replayed from the file instead. */
static int load(struct pcap_port *pp, char *err, size_t errlen)
{
	size_t used = 0, cap = 0;
	struct vmdq_frame fr;
	bool any = false;
	int rc;
	while ((rc = vmdq_pcap_next(pp->in, &fr)) == 1) {
		any = true;
		uint32_t cl = fr.caplen < fr.len ? fr.caplen : fr.len;
		if (used + cl > LOOP_MAX_BYTES || pp->nframes == LOOP_MAX_FRAMES) {
			free(pp->mem);
			free(pp->frames);
			pp->mem = NULL;
			pp->frames = NULL;
			pp->nframes = 0;
			break; /* too big: from the file, then */
		}
		if (pp->nframes == cap) {
			cap = cap ? 2 * cap : 1024;
			struct vmdq_frame *nf = realloc(pp->frames, cap * sizeof(*nf));
			if (!nf)
				return -ENOMEM;
			pp->frames = nf;
		}
		if (!pp->mem && !(pp->mem = malloc(LOOP_MAX_BYTES)))
			return -ENOMEM;
		memcpy(pp->mem + used, fr.data, cl);
		fr.data = (const uint8_t *)(uintptr_t)used; /* an offset until the end */
		fr.caplen = cl;
		pp->frames[pp->nframes++] = fr;
		used += cl;
	}
	if (rc < 0) {
		snprintf(err, errlen, "pcap: %s", vmdq_pcap_error(pp->in));
		return -EINVAL;
	}
	for (size_t i = 0; i < pp->nframes; i++)
		pp->frames[i].data = pp->mem + (uintptr_t)pp->frames[i].data;
	if (!pp->nframes) {
		/* empty (or too big): the file path below does the work */
		vmdq_pcap_close(pp->in);
		pp->in = vmdq_pcap_open(pp->in_path, err, errlen);
		if (!pp->in)
			return -EINVAL;
		if (!any && pp->forever) {
			/* replaying nothing for ever would spin the worker */
			snprintf(err, errlen, "pcap %s: loop 0 needs at least one frame; the "
				 "capture has none", pp->in_path);
			return -EINVAL;
		}
	}
	return 0;
}

/* A pipe, socket or device as IN or OUT could block the worker in a read
 * or a write; only regular files (and OUT /dev/null, never written) do. */
static int regular(const char *path, bool may_be_missing, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT && may_be_missing)
			return 0;
		snprintf(err, errlen, "pcap %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "pcap %s: not a regular file (a pipe or a device "
			 "could block the switch)", path);
		return -EINVAL;
	}
	return 0;
}

static int pp_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	if (nargs != 2 && !(nargs == 4 && strcmp(args[2], "loop") == 0)) {
		snprintf(err, errlen, "pcap: expected 'pcap IN.pcap OUT.pcap [loop N]'");
		return -EINVAL;
	}
	struct pcap_port *pp = calloc(1, sizeof(*pp));
	if (!pp)
		return -ENOMEM;
	p->priv = pp;
	pp->loops_left = 1;
	/* a capture's frames are cut at its snap length; written, likewise */
	p->caps = (struct port_caps){ .max_frame_in = VMDQ_PCAP_SNAPLEN,
				      .max_frame_out = VMDQ_PCAP_SNAPLEN };
	if (nargs == 4) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(args[3], &end, 10);
		if (errno || *end || end == args[3] || args[3][0] == '-') {
			snprintf(err, errlen, "pcap: loop: '%s' is not a number", args[3]);
			return -EINVAL;
		}
		pp->loops_left = n;
		pp->forever = n == 0;
	}
	pp->in_path = strdup(args[0]);
	/* virtual memory: only the pages of frames actually held get used */
	pp->hold = malloc((size_t)HOLD_FRAMES * VMDQ_PCAP_SNAPLEN);
	if (!pp->in_path || !pp->hold)
		return -ENOMEM;
	pp->discard = strcmp(args[1], "/dev/null") == 0;
	if (regular(args[0], false, err, errlen) < 0 ||
	    (!pp->discard && regular(args[1], true, err, errlen) < 0))
		return -EINVAL;
	pp->in = vmdq_pcap_open(args[0], err, errlen);
	if (!pp->in)
		return -EINVAL;
	if (!pp->discard) {
		pp->out = vmdq_pcap_create(args[1], err, errlen);
		if (!pp->out)
			return -EIO;
	}
	return nargs == 4 ? load(pp, err, errlen) : 0;
}

static unsigned pp_rx(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n)
{
	(void)pair; /* one pair */
	struct pcap_port *pp = p->priv;
	unsigned got = 0;
	char err[256];
	if (pp->nframes) {
		/* from memory: pointers into the loaded capture, no copy */
		while (got < n && !pp->eof) {
			f[got++] = pp->frames[pp->next];
			p->rx_frames++;
			p->rx_bytes += pp->frames[pp->next].len;
			if (++pp->next == pp->nframes) {
				pp->next = 0;
				if (!pp->forever && --pp->loops_left == 0)
					pp->eof = true;
			}
		}
		return got;
	}
	if (n > HOLD_FRAMES)
		n = HOLD_FRAMES;
	while (got < n && !pp->eof) {
		struct vmdq_frame fr;
		int rc = vmdq_pcap_next(pp->in, &fr);
		if (rc == 1) {
			/* libpcap reuses its buffer: keep a copy for the burst */
			uint8_t *slot = pp->hold + (size_t)got * VMDQ_PCAP_SNAPLEN;
			uint32_t cl = fr.caplen < fr.len ? fr.caplen : fr.len;
			if (cl > VMDQ_PCAP_SNAPLEN)
				cl = VMDQ_PCAP_SNAPLEN;
			memcpy(slot, fr.data, cl);
			f[got] = fr;
			f[got].data = slot;
			f[got].caplen = cl;
			got++;
			p->rx_frames++;
			p->rx_bytes += fr.len;
			pp->pass_frames++;
			continue;
		}
		/* end of file (or damage): next loop, or done; a pass that found
		 * no frame ends it (the next would find none either, at the
		 * cost of a reopen, N times over) */
		if (rc == 0 && pp->pass_frames && (pp->forever || --pp->loops_left > 0)) {
			vmdq_pcap_close(pp->in);
			pp->in = vmdq_pcap_open(pp->in_path, err, sizeof(err));
			pp->pass_frames = 0;
			if (!pp->in)
				pp->eof = true;
		} else {
			pp->eof = true; /* a damaged file is not replayed */
		}
	}
	return got;
}

static unsigned pp_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct pcap_port *pp = p->priv;
	for (unsigned i = 0; i < n; i++) {
		uint32_t cl = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		if (!pp->discard && vmdq_pcap_write(pp->out, f[i].data, cl, f[i].len, f[i].ts_ns) < 0) {
			p->tx_errors++;
			return i;
		}
		p->tx_frames++;
		p->tx_bytes += f[i].len;
	}
	return n;
}

static int pp_fd(struct port *p)
{
	(void)p;
	return -1;
}

static bool pp_done(struct port *p)
{
	struct pcap_port *pp = p->priv;
	return pp->eof;
}

const struct port_ops port_pcap_ops = {
	.kind = "pcap", .uplink_ok = true, .vif_ok = true,
	.open = pp_open, .close = pp_close, .rx = pp_rx, .tx = pp_tx,
	.fd = pp_fd, .done = pp_done,
};
