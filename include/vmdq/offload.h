/* SPDX-License-Identifier: MIT */
/*
 * vmdq/offload.h - a frame's offload state (SPEC 5).
 *
 * A frame may stand for more than one frame on the wire (a super-frame: a
 * TCP or UDP payload to be cut into segments of gso_size bytes, each behind
 * a copy of the headers), and its layer-4 checksum may still be partial (the
 * sender left the pseudo-header sum at csum_start + csum_offset, and the
 * sum over the bytes from csum_start to the end is yet to be folded in).
 * These are the fields of the virtio-net header (virtio 1.x, 5.1.6), in
 * host order, with offsets counted from the frame's first byte (the
 * Ethernet destination address).
 *
 * All zero means: an ordinary frame whose checksums are as they are on the
 * wire.  Whoever adds or removes bytes before csum_start (a VLAN tag) moves
 * csum_start and hdr_len with them.
 *
 * Everything here comes from a VM, a container or the wire and is hostile
 * until vmdq_off_check() accepted it for the frame it describes.
 */
#ifndef VMDQ_OFFLOAD_H
#define VMDQ_OFFLOAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* The largest super-frame, headers included (an IPv4 datagram's limit plus
 * an Ethernet header and two tags). */
#define VMDQ_MAX_SUPER 65562u

enum vmdq_gso_type {
	VMDQ_GSO_NONE = 0,
	VMDQ_GSO_TCPV4 = 1,
	VMDQ_GSO_TCPV6 = 2,
	VMDQ_GSO_UDP_L4 = 3,   /* UDP segmentation (USO): each segment a datagram */
};

/* flags */
#define VMDQ_OFF_CSUM_PARTIAL 0x01u /* the checksum at csum_start + csum_offset
				     * is to be completed (virtio NEEDS_CSUM) */
#define VMDQ_OFF_CSUM_VALID   0x02u /* the checksums were verified, or the
				     * frame never left this host's memory
				     * (virtio DATA_VALID) */
#define VMDQ_OFF_ECN          0x04u /* TCP super-frame with CWR set: only the
				     * first segment keeps CWR (virtio GSO_ECN) */

struct vmdq_offload {
	uint16_t flags;       /* VMDQ_OFF_* */
	uint8_t gso_type;     /* enum vmdq_gso_type */
	uint8_t rsvd_;        /* zero */
	uint16_t gso_size;    /* payload bytes per segment; 0 without GSO */
	uint16_t hdr_len;     /* header bytes repeated in every segment (a hint:
			       * the headers themselves are what counts) */
	uint16_t csum_start;  /* with CSUM_PARTIAL: where the checksummed part
			       * starts */
	uint16_t csum_offset; /* with CSUM_PARTIAL: the checksum field, from
			       * csum_start */
};

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
