/* SPDX-License-Identifier: MIT */
/* Captures in and out, through libpcap. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "vmdq/pcapio.h"

struct vmdq_pcap_reader {
	pcap_t *p;
	FILE *fp;
	long size;
	char err[PCAP_ERRBUF_SIZE + 64];
};

struct vmdq_pcap_writer {
	pcap_t *p;
	pcap_dumper_t *d;
	int werr;
};

struct vmdq_pcap_reader *vmdq_pcap_open(const char *path, char *err, size_t errlen)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	long size = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) ? (long)st.st_size : -1;
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!p) {
		fclose(fp);
		if (strstr(eb, "unknown file format") || strstr(eb, "too short") ||
		    strstr(eb, "truncated"))
			snprintf(err, errlen, "%s: not a pcap or pcapng capture (%s)", path, eb);
		else
			snprintf(err, errlen, "%s: %s", path, eb);
		return NULL;
	}
	int dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);
		snprintf(err, errlen, "%s: link type %s (%d) is not Ethernet; vmdq reads "
			 "Ethernet captures only", path, name ? name : "unknown", dlt);
		pcap_close(p);
		return NULL;
	}
	struct vmdq_pcap_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		pcap_close(p);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->p = p;
	r->fp = fp;
	r->size = size;
	return r;
}

int vmdq_pcap_next(struct vmdq_pcap_reader *r, struct vmdq_frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(r->p, &h, &data);
	if (rc == 1) {
		/* the handle was opened with nanosecond precision; a capture
		 * holds frames as on the wire: no offload state */
		*f = (struct vmdq_frame){ .data = data, .caplen = h->caplen, .len = h->len,
					  .ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull +
						   (uint64_t)h->ts.tv_usec };
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	snprintf(r->err, sizeof(r->err), "%s", pcap_geterr(r->p));
	return -1;
}

const char *vmdq_pcap_error(struct vmdq_pcap_reader *r)
{
	return r->err;
}

double vmdq_pcap_progress(struct vmdq_pcap_reader *r)
{
	if (r->size <= 0)
		return -1;
	long pos = ftell(r->fp);
	return pos < 0 ? -1 : (double)pos / (double)r->size;
}

void vmdq_pcap_close(struct vmdq_pcap_reader *r)
{
	if (!r)
		return;
	pcap_close(r->p); /* closes fp too */
	free(r);
}

struct vmdq_pcap_writer *vmdq_pcap_create(const char *path, char *err, size_t errlen)
{
	struct vmdq_pcap_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	w->p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, VMDQ_PCAP_SNAPLEN,
						    PCAP_TSTAMP_PRECISION_NANO);
	if (!w->p) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(w);
		return NULL;
	}
	w->d = pcap_dump_open(w->p, path);
	if (!w->d) {
		snprintf(err, errlen, "%s", pcap_geterr(w->p));
		pcap_close(w->p);
		free(w);
		return NULL;
	}
	return w;
}

int vmdq_pcap_write(struct vmdq_pcap_writer *w, const uint8_t *data,
		    uint32_t caplen, uint32_t len, uint64_t ts_ns)
{
	struct pcap_pkthdr h;
	if (caplen > VMDQ_PCAP_SNAPLEN)
		caplen = VMDQ_PCAP_SNAPLEN;
	h.ts.tv_sec = (time_t)(ts_ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000ull);
	h.caplen = caplen;
	h.len = len < caplen ? caplen : len;
	pcap_dump((u_char *)w->d, &h, data);
	if (ferror(pcap_dump_file(w->d))) {
		if (!w->werr)
			w->werr = errno ? errno : EIO;
		errno = w->werr;
		return -1;
	}
	return 0;
}

int vmdq_pcap_finish(struct vmdq_pcap_writer *w)
{
	if (!w)
		return 0;
	int rc = 0;
	if (pcap_dump_flush(w->d) < 0 || ferror(pcap_dump_file(w->d)) || w->werr) {
		rc = -1;
		errno = w->werr ? w->werr : EIO;
	}
	int e = errno;
	pcap_dump_close(w->d);
	pcap_close(w->p);
	free(w);
	errno = e;
	return rc;
}
