/* SPDX-License-Identifier: MIT */
/*
 * vmdq/pcapio.h - reading and writing Ethernet captures (libpcap).
 *
 * The reader accepts pcap and pcapng files of link type Ethernet only and
 * gives timestamps in nanoseconds whatever the file's precision.  The writer
 * always writes nanosecond-precision pcap.  Frame data returned by
 * vmdq_pcap_next() stays valid until the next call.
 */
#ifndef VMDQ_PCAPIO_H
#define VMDQ_PCAPIO_H

#include <stddef.h>
#include <stdint.h>

#include "vmdq/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's API: the only symbols libvmdq exports (meson.build builds it
 * with hidden visibility; tests/symbols.sh checks). */
#pragma GCC visibility push(default)

#define VMDQ_PCAP_SNAPLEN 262144

struct vmdq_pcap_reader;
struct vmdq_pcap_writer;

/* NULL with a reason in err when the file cannot be opened, is not a
 * capture, or is not Ethernet. */
struct vmdq_pcap_reader *vmdq_pcap_open(const char *path, char *err, size_t errlen);
/* 1 and *f filled, 0 at the end, -1 on a damaged file (vmdq_pcap_error()). */
int vmdq_pcap_next(struct vmdq_pcap_reader *r, struct vmdq_frame *f);
const char *vmdq_pcap_error(struct vmdq_pcap_reader *r);
/* Fraction of the file read so far, 0..1 (-1 if unknown). */
double vmdq_pcap_progress(struct vmdq_pcap_reader *r);
void vmdq_pcap_close(struct vmdq_pcap_reader *r);

struct vmdq_pcap_writer *vmdq_pcap_create(const char *path, char *err, size_t errlen);
/* 0, or -1 with errno set. */
int vmdq_pcap_write(struct vmdq_pcap_writer *w, const uint8_t *data,
		    uint32_t caplen, uint32_t len, uint64_t ts_ns);
/* Flushes and closes; 0, or -1 with errno set if anything failed to reach
 * the file.  Accepts NULL. */
int vmdq_pcap_finish(struct vmdq_pcap_writer *w);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
