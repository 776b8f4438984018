/* SPDX-License-Identifier: MIT */
/*
 * Offloads as a library (vmdq/offload.h): checking hostile offload state
 * against the frame, completing partial checksums, cutting super-frames into
 * wire frames the way the kernel's software GSO does, and the virtio-net
 * header.  Pure functions: no allocation, no locks, no syscalls.
 *
 * What the virtio spec (1.x, 5.1.6.2 "Packet Transmission") says, and what
 * vmdq_off_check() makes of it, per case:
 *  - gso_type other than NONE/TCPV4/TCPV6/UDP_L4: the driver may only use a
 *    type whose feature was negotiated, and vmdq never offers UFO
 *    (HOST_UFO): drop, GSO_TYPE.
 *  - GSO without NEEDS_CSUM: "If gso_type differs from NONE, the driver MUST
 *    also set NEEDS_CSUM and MUST set gso_size to the MSS": drop, GSO_CSUM
 *    (and GSO_SIZE for gso_size 0).
 *  - csum_start/csum_offset outside the frame: the checksum cannot be
 *    completed there; the kernel (virtio_net_hdr_to_skb ->
 *    skb_partial_csum_set) refuses it too: drop, CSUM_RANGE.  For GSO they
 *    must name the TCP/UDP checksum field (the kernel checks csum_offset and
 *    takes csum_start as the transport header): drop, GSO_CSUM.
 *  - hdr_len: "The device MUST NOT rely on hdr_len to be correct" (it is a
 *    hint unless GUEST_HDRLEN): never used, recomputed from the headers (a
 *    fix-up, no drop).
 *  - a payload no longer than gso_size: the kernel treats it as an ordinary
 *    frame ("too small packets are not really GSO ones"): GSO cleared.
 *  - GSO_ECN: meaningful for TCP only ("TCP packets ... which have the ECN
 *    bit set"): on UDP_L4 drop (GSO_ECN), on NONE ignored (cleared).
 *  - unknown flag bits: "The device MUST ignore flag bits that it does not
 *    recognize": ignored (cleared).
 *  - headers that do not parse, an IP length other than the frame's: the
 *    segments could not be what the sender meant; drop (GSO_HEADERS,
 *    GSO_IP_LEN).  The kernel drops most of these later, in its GSO.
 *  - longer than VMDQ_MAX_SUPER: no IPv4 datagram is; drop, SUPER_LONG.
 *  - UDP_L4 with more than 128 segments: the kernel's UDP_MAX_SEGMENTS;
 *    drop, GSO_SIZE.
 *
 * Checksums are ones'-complement sums over 64-bit words with the carry
 * added back (a sum modulo 2^64 - 1, which folds to the 16-bit sum since
 * 2^16 - 1 divides 2^64 - 1).  Words are loaded in host order and the folded
 * result stored in host order: byte order does not change a ones'-complement
 * sum, only where its bytes land, and storing the way we loaded puts them
 * back.
 */
#include <errno.h>
#include <string.h>

#include "vmdq/device.h"
#include "vmdq/offload.h"

#define ETH_HLEN_ 14u
#define TCP_CSUM_OFF 16u
#define UDP_CSUM_OFF 6u
#define UDP_MAX_SEGS 128u
#define TCP_FIN 0x01u
#define TCP_PSH 0x08u
#define TCP_CWR 0x80u

const char *vmdq_off_err_name(enum vmdq_off_err e)
{
	static const char *const names[] = {
#define NAME_(e, name, what) [VMDQ_OFF_ERR_##e] = name,
		VMDQ_OFF_ERR_LIST(NAME_)
#undef NAME_
	};
	return (unsigned)e < VMDQ_OFF_ERR__COUNT ? names[e] : "?";
}

static inline uint16_t rd16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t rd32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint64_t add64(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b); /* end-around carry */
}

/* The ones'-complement sum of n bytes at p (host-order words), added to
 * acc. */
static uint64_t csum_add_bytes(const uint8_t *p, size_t n, uint64_t acc)
{
	uint64_t a = acc, b = 0, c = 0, d = 0, w[4];
	while (n >= 32) {
		memcpy(w, p, 32);
		a = add64(a, w[0]);
		b = add64(b, w[1]);
		c = add64(c, w[2]);
		d = add64(d, w[3]);
		p += 32;
		n -= 32;
	}
	a = add64(add64(a, b), add64(c, d));
	while (n >= 8) {
		memcpy(w, p, 8);
		a = add64(a, w[0]);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t t = 0; /* the tail at its own addresses, zero after it */
		memcpy(&t, p, n);
		a = add64(a, t);
	}
	return a;
}

/* Folds a 64-bit sum to 16 bits (host order). */
static inline uint16_t csum_fold64(uint64_t s)
{
	uint32_t t = (uint32_t)(s >> 32), u = (uint32_t)s;
	u += t;
	u += (u < t);
	u = (u >> 16) + (u & 0xffff);
	u = (u >> 16) + (u & 0xffff);
	return (uint16_t)u;
}

/* A 16-bit value in network order as a host-order word of the sum. */
static inline uint64_t be16_word(uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	uint16_t h;
	memcpy(&h, b, 2);
	return h;
}

static inline void store_csum(uint8_t *p, uint16_t folded_sum)
{
	uint16_t c = (uint16_t)~folded_sum;
	memcpy(p, &c, 2);
}

/* What the headers of a super-frame are, found by hdr_parse(). */
struct hdrs {
	uint32_t l3;     /* the IP header */
	uint32_t l4;     /* the TCP/UDP header */
	uint32_t hdr;    /* end of the TCP/UDP header: the real hdr_len */
	uint8_t ipv6;
	uint8_t tcp;
};

/* Parses Ethernet, tags, IP and TCP/UDP as gso_type says.  0, GSO_HEADERS
 * or GSO_IP_LEN.  Reads only [frame, frame + len). */
static enum vmdq_off_err hdr_parse(const uint8_t *f, uint32_t len, uint8_t gso_type,
				   struct hdrs *h)
{
	if (len < ETH_HLEN_)
		return VMDQ_OFF_ERR_GSO_HEADERS;
	uint32_t l3 = ETH_HLEN_;
	uint16_t et = rd16be(f + 12);
	for (unsigned n = 0; n < 2 && (et == 0x8100 || et == 0x88a8); n++) {
		if (l3 + 4 > len)
			return VMDQ_OFF_ERR_GSO_HEADERS;
		et = rd16be(f + l3 + 2);
		l3 += 4;
	}
	uint8_t proto;
	uint32_t l4;
	if (et == 0x0800 && gso_type != VMDQ_GSO_TCPV6) {
		if (l3 + 20 > len || f[l3] >> 4 != 4)
			return VMDQ_OFF_ERR_GSO_HEADERS;
		uint32_t ihl = (f[l3] & 0xfu) * 4u;
		if (ihl < 20 || l3 + ihl > len)
			return VMDQ_OFF_ERR_GSO_HEADERS;
		if (rd16be(f + l3 + 6) & 0x3fff) /* MF or an offset: a fragment */
			return VMDQ_OFF_ERR_GSO_HEADERS;
		proto = f[l3 + 9];
		l4 = l3 + ihl;
		if (rd16be(f + l3 + 2) != len - l3)
			return VMDQ_OFF_ERR_GSO_IP_LEN;
		h->ipv6 = 0;
	} else if (et == 0x86dd && gso_type != VMDQ_GSO_TCPV4) {
		if (l3 + 40 > len || f[l3] >> 4 != 6)
			return VMDQ_OFF_ERR_GSO_HEADERS;
		proto = f[l3 + 6];
		l4 = l3 + 40;
		/* hop-by-hop (first only) and destination options */
		for (unsigned n = 0; proto == 60 || (proto == 0 && n == 0); n++) {
			if (n == 4 || l4 + 8 > len)
				return VMDQ_OFF_ERR_GSO_HEADERS;
			proto = f[l4];
			l4 += (f[l4 + 1] + 1u) * 8u;
		}
		if (rd16be(f + l3 + 4) != len - l3 - 40)
			return VMDQ_OFF_ERR_GSO_IP_LEN;
		h->ipv6 = 1;
	} else {
		return VMDQ_OFF_ERR_GSO_HEADERS;
	}
	uint32_t end;
	if (gso_type == VMDQ_GSO_UDP_L4) {
		if (proto != 17)
			return VMDQ_OFF_ERR_GSO_HEADERS;
		end = l4 + 8;
		h->tcp = 0;
	} else {
		if (proto != 6 || l4 + 20 > len)
			return VMDQ_OFF_ERR_GSO_HEADERS;
		uint32_t doff = (f[l4 + 12] >> 4) * 4u;
		if (doff < 20)
			return VMDQ_OFF_ERR_GSO_HEADERS;
		end = l4 + doff;
		h->tcp = 1;
	}
	if (end > len)
		return VMDQ_OFF_ERR_GSO_HEADERS;
	h->l3 = l3;
	h->l4 = l4;
	h->hdr = end;
	return VMDQ_OFF_ERR_NONE;
}

static void clear_gso(struct vmdq_offload *o)
{
	o->gso_type = VMDQ_GSO_NONE;
	o->gso_size = 0;
	o->hdr_len = 0;
	o->flags &= (uint16_t)~(VMDQ_OFF_ECN | VMDQ_OFF_FIXEDID);
}

enum vmdq_off_err vmdq_off_check(const uint8_t *frame, uint32_t len, struct vmdq_offload *o)
{
	if (len > VMDQ_MAX_SUPER)
		return VMDQ_OFF_ERR_SUPER_LONG;
	if (o->gso_type > VMDQ_GSO_UDP_L4)
		return VMDQ_OFF_ERR_GSO_TYPE;
	o->rsvd_ = 0;
	o->flags &= VMDQ_OFF_FLAGS_MASK;
	if (o->flags & VMDQ_OFF_CSUM_PARTIAL) {
		o->flags &= (uint16_t)~VMDQ_OFF_CSUM_VALID;
		if (o->csum_start < ETH_HLEN_ ||
		    (uint32_t)o->csum_start + o->csum_offset + 2u > len)
			return VMDQ_OFF_ERR_CSUM_RANGE;
	} else {
		o->csum_start = 0;
		o->csum_offset = 0;
	}
	if (o->gso_type == VMDQ_GSO_NONE) {
		clear_gso(o);
		return VMDQ_OFF_ERR_NONE;
	}
	if ((o->flags & VMDQ_OFF_ECN) && o->gso_type == VMDQ_GSO_UDP_L4)
		return VMDQ_OFF_ERR_GSO_ECN;
	if (o->gso_size == 0)
		return VMDQ_OFF_ERR_GSO_SIZE;
	if (!(o->flags & VMDQ_OFF_CSUM_PARTIAL))
		return VMDQ_OFF_ERR_GSO_CSUM;
	struct hdrs h;
	enum vmdq_off_err e = hdr_parse(frame, len, o->gso_type, &h);
	if (e)
		return e;
	if (o->csum_start != h.l4 ||
	    o->csum_offset != (h.tcp ? TCP_CSUM_OFF : UDP_CSUM_OFF))
		return VMDQ_OFF_ERR_GSO_CSUM;
	o->hdr_len = (uint16_t)h.hdr;
	if (o->gso_type != VMDQ_GSO_TCPV4)
		o->flags &= (uint16_t)~VMDQ_OFF_FIXEDID;
	if (h.tcp && (frame[h.l4 + 13] & TCP_CWR))
		o->flags |= VMDQ_OFF_ECN;
	uint32_t payload = len - h.hdr;
	if (payload <= o->gso_size) {
		clear_gso(o);
		return VMDQ_OFF_ERR_NONE;
	}
	if (!h.tcp && payload > (uint32_t)o->gso_size * UDP_MAX_SEGS)
		return VMDQ_OFF_ERR_GSO_SIZE;
	return VMDQ_OFF_ERR_NONE;
}

/* The pseudo-header sum without its length: the addresses of the IP
 * header at l3 and the protocol. */
static uint64_t pseudo_addr_sum(const uint8_t *frame, uint32_t l3, int ipv6, uint8_t proto)
{
	uint64_t a = ipv6 ? csum_add_bytes(frame + l3 + 8, 32, 0)
			  : csum_add_bytes(frame + l3 + 12, 8, 0);
	return add64(a, be16_word(proto));
}

/* The pseudo-header sum (addresses and protocol) of parsed headers h. */
static uint64_t pseudo_sum(const uint8_t *frame, const struct hdrs *h)
{
	return pseudo_addr_sum(frame, h->l3, h->ipv6, h->tcp ? 6 : 17);
}

uint16_t vmdq_csum_pseudo(const uint8_t *frame, uint32_t l3, int ipv6, uint8_t proto,
			  uint32_t l4len)
{
	uint64_t a = pseudo_addr_sum(frame, l3, ipv6, proto);
	a = add64(a, be16_word((uint16_t)(l4len >> 16)));
	return csum_fold64(add64(a, be16_word((uint16_t)l4len)));
}

enum vmdq_off_err vmdq_off_gso_partial(uint8_t *frame, uint32_t len, struct vmdq_offload *o)
{
	if (o->gso_type == VMDQ_GSO_NONE || o->gso_type > VMDQ_GSO_UDP_L4 ||
	    (o->flags & VMDQ_OFF_CSUM_PARTIAL) || !(o->flags & VMDQ_OFF_CSUM_VALID))
		return VMDQ_OFF_ERR_NONE;
	if (len > VMDQ_MAX_SUPER)
		return VMDQ_OFF_ERR_SUPER_LONG;
	struct hdrs h;
	enum vmdq_off_err e = hdr_parse(frame, len, o->gso_type, &h);
	if (e)
		return e;
	uint16_t off = h.tcp ? TCP_CSUM_OFF : UDP_CSUM_OFF;
	/* the sum itself, not complemented: what a sender leaves in the field
	 * for the checksum to be completed over [l4, len) */
	uint16_t s = vmdq_csum_pseudo(frame, h.l3, h.ipv6, h.tcp ? 6 : 17, len - h.l4);
	memcpy(frame + h.l4 + off, &s, 2);
	o->flags = (uint16_t)((o->flags | VMDQ_OFF_CSUM_PARTIAL) & ~VMDQ_OFF_CSUM_VALID);
	o->csum_start = (uint16_t)h.l4;
	o->csum_offset = off;
	return VMDQ_OFF_ERR_NONE;
}

unsigned vmdq_off_needs(const struct vmdq_offload *o)
{
	unsigned n = 0;
	if (o->flags & VMDQ_OFF_CSUM_PARTIAL)
		n |= VMDQ_OFF_CAP_CSUM;
	switch (o->gso_type) {
	case VMDQ_GSO_TCPV4:
		n |= VMDQ_OFF_CAP_TSO4;
		break;
	case VMDQ_GSO_TCPV6:
		n |= VMDQ_OFF_CAP_TSO6;
		break;
	case VMDQ_GSO_UDP_L4:
		n |= VMDQ_OFF_CAP_USO;
		break;
	default:
		break;
	}
	if (o->gso_type != VMDQ_GSO_NONE && (o->flags & VMDQ_OFF_ECN))
		n |= VMDQ_OFF_CAP_ECN;
	return n;
}

void vmdq_off_moved(struct vmdq_offload *o, int delta)
{
	if (o->hdr_len)
		o->hdr_len = (uint16_t)(o->hdr_len + delta);
	if (o->flags & VMDQ_OFF_CSUM_PARTIAL)
		o->csum_start = (uint16_t)(o->csum_start + delta);
}

int vmdq_csum_complete(uint8_t *frame, uint32_t len, struct vmdq_offload *o)
{
	if (!(o->flags & VMDQ_OFF_CSUM_PARTIAL) ||
	    (uint32_t)o->csum_start + o->csum_offset + 2u > len)
		return -EINVAL;
	uint16_t s = csum_fold64(csum_add_bytes(frame + o->csum_start,
						len - o->csum_start, 0));
	/* skb_checksum_help: a result of 0 goes out as 0xffff (CSUM_MANGLED_0:
	 * for UDP, 0 would mean "no checksum") */
	if (s == 0xffff)
		s = 0;
	store_csum(frame + o->csum_start + o->csum_offset, s);
	o->flags = (uint16_t)((o->flags & ~VMDQ_OFF_CSUM_PARTIAL) | VMDQ_OFF_CSUM_VALID);
	return 0;
}

uint32_t vmdq_gso_segs(const struct vmdq_offload *o, uint32_t len)
{
	if (o->gso_type == VMDQ_GSO_NONE || o->gso_size == 0 || o->hdr_len >= len)
		return 0;
	return (len - o->hdr_len + o->gso_size - 1u) / o->gso_size;
}

size_t vmdq_gso_out_size(const struct vmdq_offload *o, uint32_t len)
{
	uint32_t n = vmdq_gso_segs(o, len);
	return n ? (size_t)n * o->hdr_len + (len - o->hdr_len) : 0;
}

int vmdq_gso_segment(const uint8_t *frame, uint32_t len, const struct vmdq_offload *o,
		     uint8_t *out, size_t out_size, struct vmdq_frame *segs,
		     unsigned max_segs)
{
	/* Everything re-derived from the frame: whatever o says, nothing is
	 * read or written out of bounds. */
	struct hdrs h;
	if (len > VMDQ_MAX_SUPER || o->gso_type == VMDQ_GSO_NONE ||
	    o->gso_type > VMDQ_GSO_UDP_L4 || o->gso_size == 0 ||
	    hdr_parse(frame, len, o->gso_type, &h) || o->hdr_len != h.hdr ||
	    len - h.hdr <= o->gso_size)
		return -EINVAL;
	const uint32_t hl = h.hdr, mss = o->gso_size, payload = len - hl;
	const uint32_t n = (payload + mss - 1) / mss;
	if (n > max_segs || (size_t)n * hl + payload > out_size)
		return -ENOSPC;

	/* the pseudo-header without its length: addresses and protocol */
	const uint64_t pseudo = pseudo_sum(frame, &h);
	const uint32_t seq0 = h.tcp ? rd32be(frame + h.l4 + 4) : 0;
	const uint16_t id0 = h.ipv6 ? 0 : rd16be(frame + h.l3 + 4);
	const int fixedid = !h.ipv6 && (o->flags & VMDQ_OFF_FIXEDID);
	const uint32_t ihl = h.ipv6 ? 0 : h.l4 - h.l3;
	const uint32_t csum_at = h.l4 + (h.tcp ? TCP_CSUM_OFF : UDP_CSUM_OFF);

	uint8_t *p = out;
	for (uint32_t i = 0; i < n; i++) {
		const uint32_t plen = i + 1 < n ? mss : payload - i * mss;
		const uint32_t sl = hl + plen;
		memcpy(p, frame, hl);
		memcpy(p + hl, frame + hl + (size_t)i * mss, plen);
		if (h.ipv6) {
			wr16be(p + h.l3 + 4, (uint16_t)(sl - h.l3 - 40));
		} else {
			wr16be(p + h.l3 + 2, (uint16_t)(sl - h.l3));
			if (!fixedid)
				wr16be(p + h.l3 + 4, (uint16_t)(id0 + i));
			p[h.l3 + 10] = p[h.l3 + 11] = 0;
			store_csum(p + h.l3 + 10, csum_fold64(csum_add_bytes(p + h.l3, ihl, 0)));
		}
		if (h.tcp) {
			wr32be(p + h.l4 + 4, seq0 + i * mss);
			uint8_t fl = p[h.l4 + 13];
			if (i + 1 < n)
				fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (i > 0)
				fl &= (uint8_t)~TCP_CWR;
			p[h.l4 + 13] = fl;
		} else {
			wr16be(p + h.l4 + 4, (uint16_t)(sl - h.l4));
		}
		p[csum_at] = p[csum_at + 1] = 0;
		const uint32_t l4len = sl - h.l4;
		/* the length: 16 bits for IPv4, 32 for IPv6 whose upper half is 0
		 * (l4len < 65536) */
		uint64_t s = add64(pseudo, be16_word((uint16_t)l4len));
		uint16_t f = csum_fold64(csum_add_bytes(p + h.l4, l4len, s));
		if (!h.tcp && f == 0xffff)
			f = 0; /* UDP: 0 is "no checksum", 0xffff says the same sum */
		store_csum(p + csum_at, f);
		segs[i] = (struct vmdq_frame){ .data = p, .caplen = sl, .len = sl,
					       .off = { .flags = VMDQ_OFF_CSUM_VALID } };
		p += sl;
	}
	return (int)n;
}

/* virtio-net header values */
#define VNET_F_NEEDS_CSUM 1u
#define VNET_F_DATA_VALID 2u
#define VNET_GSO_NONE 0u
#define VNET_GSO_TCPV4 1u
#define VNET_GSO_UDP 3u
#define VNET_GSO_TCPV6 4u
#define VNET_GSO_UDP_L4 5u
#define VNET_GSO_ECN 0x80u

static inline uint16_t rd16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void wr16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

enum vmdq_off_err vmdq_vnet_hdr_parse(const void *hv, size_t hlen, struct vmdq_offload *o)
{
	const uint8_t *h = hv;
	*o = (struct vmdq_offload){ 0 };
	if (hlen < VMDQ_VNET_HDR_LEN)
		return VMDQ_OFF_ERR_VNET_SHORT;
	switch (h[1] & ~VNET_GSO_ECN) {
	case VNET_GSO_NONE:
		o->gso_type = VMDQ_GSO_NONE;
		break;
	case VNET_GSO_TCPV4:
		o->gso_type = VMDQ_GSO_TCPV4;
		break;
	case VNET_GSO_TCPV6:
		o->gso_type = VMDQ_GSO_TCPV6;
		break;
	case VNET_GSO_UDP_L4:
		o->gso_type = VMDQ_GSO_UDP_L4;
		break;
	default: /* UFO (3) and anything else */
		return VMDQ_OFF_ERR_GSO_TYPE;
	}
	if (o->gso_type != VMDQ_GSO_NONE) {
		if (h[1] & VNET_GSO_ECN)
			o->flags |= VMDQ_OFF_ECN;
		o->hdr_len = rd16le(h + 2);
		o->gso_size = rd16le(h + 4);
	}
	if (h[0] & VNET_F_NEEDS_CSUM) {
		o->flags |= VMDQ_OFF_CSUM_PARTIAL;
		o->csum_start = rd16le(h + 6);
		o->csum_offset = rd16le(h + 8);
	} else if (h[0] & VNET_F_DATA_VALID) {
		o->flags |= VMDQ_OFF_CSUM_VALID;
	}
	return VMDQ_OFF_ERR_NONE;
}

int vmdq_vnet_hdr_build(const struct vmdq_offload *o, void *hv, size_t hlen)
{
	static const uint8_t types[] = {
		[VMDQ_GSO_NONE] = VNET_GSO_NONE, [VMDQ_GSO_TCPV4] = VNET_GSO_TCPV4,
		[VMDQ_GSO_TCPV6] = VNET_GSO_TCPV6, [VMDQ_GSO_UDP_L4] = VNET_GSO_UDP_L4,
	};
	uint8_t *h = hv;
	if (hlen < VMDQ_VNET_HDR_LEN || o->gso_type >= sizeof(types))
		return -EINVAL;
	memset(h, 0, hlen);
	if (o->flags & VMDQ_OFF_CSUM_PARTIAL) {
		h[0] = VNET_F_NEEDS_CSUM;
		wr16le(h + 6, o->csum_start);
		wr16le(h + 8, o->csum_offset);
	} else if (o->flags & VMDQ_OFF_CSUM_VALID) {
		h[0] = VNET_F_DATA_VALID;
	}
	if (o->gso_type != VMDQ_GSO_NONE) {
		h[1] = types[o->gso_type];
		if ((o->flags & VMDQ_OFF_ECN) && o->gso_type != VMDQ_GSO_UDP_L4)
			h[1] |= VNET_GSO_ECN;
		wr16le(h + 2, o->hdr_len);
		wr16le(h + 4, o->gso_size);
	}
	if (hlen >= VMDQ_VNET_HDR_LEN_MRG)
		wr16le(h + 10, 1);
	return 0;
}
