/* SPDX-License-Identifier: MIT */
/*
 * gso_ref: vmdq's software segmentation of the super-frames in a capture,
 * for tests/system/gso_kernel.sh to compare with the kernel's.
 *
 *   gso_ref IN.pcap OUT.pcap MSS...
 *
 * Each frame of IN (TCP over IPv4 or IPv6, or UDP: a super-frame as a
 * sender hands it over, its L4 checksum field holding the pseudo-header
 * sum) is given the offload state a virtio-net header would give it
 * (CSUM_PARTIAL at the TCP/UDP checksum, gso_size the next MSS argument),
 * checked with vmdq_off_check() and cut with vmdq_gso_segment(); every
 * segment goes to OUT.  Exits 1 when a frame is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdq/vmdq.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The offload state for frame f: 0, or -1 if it is not TCP/UDP over IP. */
static int offload_for(const uint8_t *f, uint32_t len, uint16_t mss, struct vmdq_offload *o)
{
	uint32_t l3 = 14;
	if (len < 14)
		return -1;
	uint16_t et = be16(f + 12);
	while ((et == 0x8100 || et == 0x88a8) && l3 + 4 <= len) {
		et = be16(f + l3 + 2);
		l3 += 4;
	}
	uint32_t l4;
	uint8_t proto;
	if (et == 0x0800 && l3 + 20 <= len) {
		l4 = l3 + (f[l3] & 0xfu) * 4u;
		proto = f[l3 + 9];
	} else if (et == 0x86dd && l3 + 40 <= len) {
		l4 = l3 + 40;
		proto = f[l3 + 6];
	} else {
		return -1;
	}
	*o = (struct vmdq_offload){ .flags = VMDQ_OFF_CSUM_PARTIAL, .gso_size = mss,
				    .csum_start = (uint16_t)l4 };
	if (proto == 6) {
		o->gso_type = et == 0x0800 ? VMDQ_GSO_TCPV4 : VMDQ_GSO_TCPV6;
		o->csum_offset = 16;
	} else if (proto == 17) {
		o->gso_type = VMDQ_GSO_UDP_L4;
		o->csum_offset = 6;
	} else {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: gso_ref IN.pcap OUT.pcap MSS...\n");
		return 2;
	}
	char err[256];
	struct vmdq_pcap_reader *r = vmdq_pcap_open(argv[1], err, sizeof(err));
	if (!r) {
		fprintf(stderr, "gso_ref: %s\n", err);
		return 2;
	}
	struct vmdq_pcap_writer *w = vmdq_pcap_create(argv[2], err, sizeof(err));
	if (!w) {
		fprintf(stderr, "gso_ref: %s\n", err);
		return 2;
	}
	static uint8_t out[4u << 20];
	static struct vmdq_frame segs[VMDQ_GSO_MAX_SEGS];
	struct vmdq_frame f;
	int argi = 3, status = 0;
	unsigned n = 0;
	while (vmdq_pcap_next(r, &f) == 1) {
		n++;
		if (argi >= argc) {
			fprintf(stderr, "gso_ref: frame %u: no MSS given\n", n);
			status = 2;
			break;
		}
		struct vmdq_offload o;
		uint16_t mss = (uint16_t)atoi(argv[argi++]);
		if (f.caplen != f.len || offload_for(f.data, f.len, mss, &o)) {
			fprintf(stderr, "gso_ref: frame %u: not a TCP/UDP super-frame\n", n);
			status = 1;
			continue;
		}
		enum vmdq_off_err e = vmdq_off_check(f.data, f.len, &o);
		if (e != VMDQ_OFF_ERR_NONE) {
			fprintf(stderr, "gso_ref: frame %u: refused: %s\n", n, vmdq_off_err_name(e));
			status = 1;
			continue;
		}
		int k = vmdq_gso_segment(f.data, f.len, &o, out, sizeof(out), segs,
					 VMDQ_GSO_MAX_SEGS);
		if (k < 0) {
			fprintf(stderr, "gso_ref: frame %u: segmentation failed (%d)\n", n, k);
			status = 1;
			continue;
		}
		for (int i = 0; i < k; i++)
			if (vmdq_pcap_write(w, segs[i].data, segs[i].caplen, segs[i].len, f.ts_ns)) {
				status = 2;
				break;
			}
	}
	vmdq_pcap_close(r);
	if (vmdq_pcap_finish(w))
		status = 2;
	return status;
}
