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

#include <stddef.h>
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

/* With the flags above (never from a virtio-net header; the caller's own
 * knowledge): a TCPv4 super-frame whose segments all keep the IPv4 id of the
 * super-frame (the kernel's SKB_GSO_TCP_FIXEDID, from GRO of DF segments with
 * one id).  Without it the id goes up by one per segment. */
#define VMDQ_OFF_FIXEDID      0x08u
#define VMDQ_OFF_FLAGS_MASK   0x0fu

/*
 * The offload library (lib/offload.c): pure functions of a frame and its
 * offload state, no allocation, no locks, no syscalls; any thread.
 *
 *   port rx:  vmdq_vnet_hdr_parse()  (a virtio-net header -> struct)
 *             vmdq_off_needs() & ~negotiated  -> VMDQ_OFF_ERR_NOT_NEGOTIATED
 *             vmdq_off_check()       (the struct against the frame; fixes
 *                                     hdr_len, drops what cannot be right)
 *   switch:   a frame for a next hop that cannot take what it needs
 *             (vmdq_off_needs() & ~caps):
 *               GSO  -> vmdq_gso_segment() into the caller's buffer
 *               CSUM -> vmdq_csum_complete() in place
 *   port tx:  vmdq_vnet_hdr_build()  (struct -> a virtio-net header)
 *
 * Only vmdq_off_check() may be given unchecked state; the other functions
 * expect what it accepted, but still never read or write outside the frame
 * and the buffers they are given whatever they get (they refuse instead).
 */

/* Why vmdq_off_check() or vmdq_vnet_hdr_parse() refused a frame (drop it
 * and count it under the name), or why vmdq_off_needs() says the port did
 * not negotiate it.  X(ENUM, "name", what it means).  What the virtio spec
 * (1.x, 5.1.6.2) says about each case, and why a drop: lib/offload.c. */
#define VMDQ_OFF_ERR_LIST(X) \
	X(NONE,           "none",           "accepted (possibly fixed up)") \
	X(VNET_SHORT,     "vnet-short",     "the virtio-net header is shorter than 10 bytes") \
	X(GSO_TYPE,       "gso-type",       "an unknown gso_type, or UFO (never offered)") \
	X(NOT_NEGOTIATED, "off-not-negotiated", "an offload the port did not negotiate") \
	X(SUPER_LONG,     "super-long",     "longer than VMDQ_MAX_SUPER") \
	X(CSUM_RANGE,     "csum-range",     "csum_start below 14, or csum_start + csum_offset + 2 beyond the frame") \
	X(GSO_SIZE,       "gso-size",       "GSO with gso_size 0, or UDP with more than 128 segments") \
	X(GSO_CSUM,       "gso-csum",       "GSO without a partial checksum at the TCP/UDP checksum field") \
	X(GSO_HEADERS,    "gso-headers",    "GSO headers that do not parse as gso_type says") \
	X(GSO_IP_LEN,     "gso-ip-len",     "GSO whose IP length field is not the frame's") \
	X(GSO_ECN,        "gso-ecn",        "ECN on a UDP super-frame")

enum vmdq_off_err {
#define VMDQ_OFF_ERR_ENUM_(e, name, what) VMDQ_OFF_ERR_##e,
	VMDQ_OFF_ERR_LIST(VMDQ_OFF_ERR_ENUM_)
#undef VMDQ_OFF_ERR_ENUM_
	VMDQ_OFF_ERR__COUNT
};
const char *vmdq_off_err_name(enum vmdq_off_err e);

/* Counters the switch keeps for offloads (the library counts nothing):
 * X(ENUM, "name", what it counts). */
#define VMDQ_OFF_COUNTER_LIST(X) \
	X(SUPER,    "gso-super",      "super-frames accepted (gso_type not NONE)") \
	X(SEGMENTS, "gso-segments",   "frames made by vmdq_gso_segment()") \
	X(CSUM,     "csum-completed", "checksums completed by vmdq_csum_complete()")

/*
 * Checks the offload state o of the frame [frame, frame + len) (the whole
 * frame: len bytes readable) and fixes what the virtio spec lets the device
 * fix.  Returns VMDQ_OFF_ERR_NONE and leaves o as it must be used from then
 * on, or a reason to drop the frame (o then undefined).  Reads nothing
 * outside the frame.  In order:
 *  - len > VMDQ_MAX_SUPER: SUPER_LONG; gso_type not one of enum
 *    vmdq_gso_type: GSO_TYPE.
 *  - flags: unknown bits and rsvd_ cleared; CSUM_VALID cleared when
 *    CSUM_PARTIAL is set (the partial checksum is not valid yet); ECN cleared
 *    without GSO, GSO_ECN on UDP_L4.
 *  - CSUM_PARTIAL: csum_start >= 14 and csum_start + csum_offset + 2 <= len,
 *    or CSUM_RANGE; without it csum_start and csum_offset are zeroed.
 *  - no GSO: gso_size and hdr_len zeroed; accepted (the headers are not
 *    parsed: any protocol may carry a partial ones'-complement checksum).
 *  - GSO: gso_size 0: GSO_SIZE; no CSUM_PARTIAL: GSO_CSUM.  The headers must
 *    parse as gso_type says (GSO_HEADERS): Ethernet, at most two VLAN tags
 *    (0x8100 or 0x88a8), then IPv4 (options allowed; not a fragment) or IPv6
 *    (extension headers: hop-by-hop first, destination options; no routing
 *    or fragment header), then TCP (TCPV4: IPv4, TCPV6: IPv6, data offset
 *    >= 5) or UDP (UDP_L4: either); all inside the frame.  The IPv4 total
 *    length / IPv6 payload length must be the frame's (GSO_IP_LEN);
 *    csum_start must be the TCP/UDP header and csum_offset its checksum
 *    field (GSO_CSUM).  hdr_len is set to the real header length (Ethernet
 *    to the end of the TCP/UDP header), whatever it said.  ECN is set when
 *    a TCP super-frame has CWR.  A payload of gso_size bytes or fewer is not
 *    a super-frame: GSO is cleared (gso_type, gso_size, hdr_len, ECN), the
 *    partial checksum stays.  UDP_L4 making more than 128 segments: GSO_SIZE.
 */
enum vmdq_off_err vmdq_off_check(const uint8_t *frame, uint32_t len,
				 struct vmdq_offload *o);

/* A super-frame whose checksums were verified rather than left partial
 * (GSO with CSUM_VALID and no CSUM_PARTIAL: what the kernel hands a packet
 * socket for LRO and hardware-GRO frames, DATA_VALID in the virtio-net
 * header) is refused by vmdq_off_check (GSO_CSUM: passed on whole, its
 * checksum field would be wrong for the super-frame).  Called before the
 * check, this makes it the usual form: writes the pseudo-header sum of the
 * whole super-frame into its TCP/UDP checksum field (2 bytes inside the
 * frame), sets CSUM_PARTIAL at that field and clears CSUM_VALID.  Does
 * nothing to any other state.  Returns VMDQ_OFF_ERR_NONE, or (nothing
 * written) the reason vmdq_off_check would give for the headers. */
enum vmdq_off_err vmdq_off_gso_partial(uint8_t *frame, uint32_t len, struct vmdq_offload *o);

/* The pseudo-header sum a sender leaves in a partial TCP/UDP checksum
 * field (the form vmdq_csum_complete completes): the ones'-complement sum
 * of the source and destination addresses of the IP header at frame + l3
 * (IPv4: 8 bytes from l3 + 12; ipv6 non-zero: 32 bytes from l3 + 8), the
 * protocol proto and the layer-4 length l4len, folded, not complemented.
 * Returned as the two bytes to store in the field (memcpy: network order in
 * memory).  Reads only those address bytes: the caller has checked they are
 * inside the frame.  Used by vmdq_off_gso_partial and by the AF_XDP port
 * (a veth peer's checksums). */
uint16_t vmdq_csum_pseudo(const uint8_t *frame, uint32_t l3, int ipv6, uint8_t proto,
			  uint32_t l4len);

/* What a frame with (checked) offload state o needs from whoever takes it
 * whole: VMDQ_OFF_CAP_* bits.  A port refuses what it did not negotiate
 * (needs & ~negotiated: VMDQ_OFF_ERR_NOT_NEGOTIATED); the switch segments or
 * completes for a next hop without the capability. */
#define VMDQ_OFF_CAP_CSUM 0x01u /* takes a partial checksum */
#define VMDQ_OFF_CAP_TSO4 0x02u
#define VMDQ_OFF_CAP_TSO6 0x04u
#define VMDQ_OFF_CAP_USO  0x08u /* UDP_L4 over IPv4 and IPv6 */
#define VMDQ_OFF_CAP_ECN  0x10u /* TCP super-frames with CWR */
unsigned vmdq_off_needs(const struct vmdq_offload *o);

/* Bytes were added (delta > 0) or removed before the frame's headers (a
 * VLAN tag pushed or popped at offset 12): moves hdr_len and csum_start. */
void vmdq_off_moved(struct vmdq_offload *o, int delta);

/*
 * Completes the partial checksum of a checked frame in place, as the
 * kernel's skb_checksum_help does: the ones'-complement sum of
 * [csum_start, len) (the field holds the pseudo-header sum) is folded,
 * complemented (0 written as 0xffff) and stored at csum_start + csum_offset;
 * CSUM_PARTIAL cleared, CSUM_VALID set.  Returns 0, or -EINVAL (nothing
 * written) when o has no CSUM_PARTIAL or its offsets are not inside len.
 * GSO state is left as it is: a super-frame's partial checksum is the
 * segmentation's business.
 */
int vmdq_csum_complete(uint8_t *frame, uint32_t len, struct vmdq_offload *o);

/* The most segments one super-frame can make (gso_size 1): fewer than
 * VMDQ_MAX_SUPER. */
#define VMDQ_GSO_MAX_SEGS VMDQ_MAX_SUPER

/* The segments a checked super-frame of len bytes makes, and the output
 * bytes they take (each segment the hdr_len header bytes plus at most
 * gso_size payload bytes); 0 for a frame without GSO. */
uint32_t vmdq_gso_segs(const struct vmdq_offload *o, uint32_t len);
size_t vmdq_gso_out_size(const struct vmdq_offload *o, uint32_t len);

struct vmdq_frame;

/*
 * Cuts a checked super-frame into the frames the kernel's software GSO
 * would send, written one after the other into out (out_size bytes).
 * segs[i] gets data (into out), len = caplen, ts_ns 0 and off = {flags:
 * CSUM_VALID} (every checksum complete).  Per segment: the headers copied;
 * IPv4 total length, id (+i, unless FIXEDID) and header checksum; IPv6
 * payload length; TCP sequence number (+i * gso_size), FIN and PSH only on
 * the last segment, CWR only on the first; UDP length; the TCP/UDP checksum
 * computed over the segment (not from the sender's pseudo-header sum; a UDP
 * checksum of 0 written as 0xffff).
 * Returns the number of segments (>= 2), -ENOSPC (and nothing promised in
 * out) when they need more than out_size bytes or max_segs entries, or
 * -EINVAL when frame and o are not a super-frame vmdq_off_check() accepted.
 */
int vmdq_gso_segment(const uint8_t *frame, uint32_t len, const struct vmdq_offload *o,
		     uint8_t *out, size_t out_size, struct vmdq_frame *segs,
		     unsigned max_segs);

/*
 * The virtio-net header (virtio 1.x, little-endian; also what TAP's
 * IFF_VNET_HDR and AF_PACKET's PACKET_VNET_HDR use on a little-endian host):
 *   0 flags (NEEDS_CSUM 1, DATA_VALID 2)   1 gso_type (NONE 0, TCPV4 1,
 *   UDP 3, TCPV6 4, UDP_L4 5; | ECN 0x80)  2 hdr_len  4 gso_size
 *   6 csum_start  8 csum_offset  [10 num_buffers: the 12-byte layout]
 */
#define VMDQ_VNET_HDR_LEN     10u
#define VMDQ_VNET_HDR_LEN_MRG 12u

/* Reads a header of hlen bytes (>= 10; bytes past 10 ignored) into o, which
 * is then still to be checked (vmdq_off_check).  NEEDS_CSUM -> CSUM_PARTIAL
 * (csum_start/offset kept only then), DATA_VALID -> CSUM_VALID (a guest MUST
 * NOT set it: a vif from a guest should clear CSUM_VALID rather than trust
 * it), other flag bits ignored (the spec: the device MUST ignore them);
 * gso_size and hdr_len kept only with GSO.  Returns VMDQ_OFF_ERR_NONE,
 * VNET_SHORT (hlen < 10) or GSO_TYPE (an unknown type or UFO). */
enum vmdq_off_err vmdq_vnet_hdr_parse(const void *h, size_t hlen, struct vmdq_offload *o);

/* Writes o as a header of hlen bytes (>= 10): CSUM_PARTIAL -> NEEDS_CSUM
 * with csum_start/offset, else CSUM_VALID -> DATA_VALID; GSO type, ECN,
 * gso_size and hdr_len with GSO; bytes past 10 zeroed except num_buffers
 * (the 12-byte layout) = 1, which a mergeable-buffer writer overwrites.
 * Returns 0, or -EINVAL for hlen < 10 or an unknown gso_type. */
int vmdq_vnet_hdr_build(const struct vmdq_offload *o, void *h, size_t hlen);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
