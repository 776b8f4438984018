/* SPDX-License-Identifier: MIT */
/*
 * Frame checks (SPEC 1.1), the general case: any length, truncation, FCS.
 * The common case is frame_parse() in internal.h.  Everything here reads
 * only the bytes the input says it captured.
 */
#include <zlib.h>

#include "internal.h"

uint32_t frame_crc32(const uint8_t *data, uint32_t len)
{
	/* zlib's CRC-32 is the IEEE 802.3 polynomial, reflected, with the
	 * same initial value and final inversion as the Ethernet FCS. */
	return (uint32_t)crc32(0L, data, len);
}


void frame_parse_slow(const struct vmdq_frame *f, bool fcs, uint32_t max_frame,
		      struct parsed *p)
{
	const uint8_t *d = f->data;
	uint32_t len = f->len;
	/* A malformed source may claim more captured bytes than the frame
	 * has: never look past the frame's own length. */
	uint32_t cap = f->caplen < len ? f->caplen : len;
	uint32_t wl = len;
	uint8_t err = 0;

	if (fcs)
		wl = len >= 4 ? len - 4 : 0;
	p->wlen = wl;
	p->dlen = cap < wl ? cap : wl;
	p->tagged = false;
	p->hdr_ok = false;
	p->ntags = 0;
	p->vid = 0;
	p->dst = 0;

	if (likely(cap >= ETH_HLEN)) {
		uint16_t et = load_be16(d + 12);
		p->dst = mac_to_u64(d);
		if (likely(!is_vlan_tpid(et))) {
			p->hdr_ok = true;
		} else {
			p->tagged = true;
			p->ntags = 1;
			if (cap >= ETH_HLEN + VLAN_HLEN) {
				p->hdr_ok = true;
				p->vid = load_be16(d + 14) & 0x0fff;
				if (is_vlan_tpid(load_be16(d + 16)))
					p->ntags = 2;
			}
		}
	}

	if (unlikely(wl < ETH_HLEN || (p->tagged && wl < ETH_HLEN + VLAN_HLEN)))
		err |= VMDQ_ERR_RUNT;
	if (unlikely(f->caplen < f->len))
		err |= VMDQ_ERR_TRUNCATED;
	/* a super-frame is measured by the segments it stands for (SPEC 5) */
	uint32_t seg = wl;
	if (f->off.gso_type != VMDQ_GSO_NONE && f->off.gso_size &&
	    (uint32_t)f->off.hdr_len + f->off.gso_size < wl) {
		seg = (uint32_t)f->off.hdr_len + f->off.gso_size;
		if (wl > VMDQ_MAX_SUPER)
			seg = wl; /* no segment size excuses this length */
	}
	if (unlikely(seg > max_frame + VLAN_HLEN * (uint32_t)p->ntags))
		err |= VMDQ_ERR_OVERSIZE;
	if (fcs && !(err & VMDQ_ERR_TRUNCATED) && len >= 4) {
		const uint8_t *t = d + wl;
		uint32_t want = (uint32_t)t[0] | ((uint32_t)t[1] << 8) |
				((uint32_t)t[2] << 16) | ((uint32_t)t[3] << 24);
		if (frame_crc32(d, wl) != want)
			err |= VMDQ_ERR_CRC;
	}
	p->errors = err;
	p->dflags = (uint16_t)(err | (p->tagged ? VMDQ_RXD_TAGGED : 0));
}

/* ---- flow hash for RSS (vmdq_flow_hash) ------------------------------- */

/* The RSS key NICs ship with by default (the one in Microsoft's RSS
 * specification), so the spread matches what a NIC would do. */
static const uint8_t rss_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Toeplitz over n <= 36 bytes: for every set input bit, the 32-bit key
 * window starting at that bit is folded in. */
static uint32_t toeplitz(const uint8_t *in, unsigned n)
{
	uint32_t h = 0;
	uint32_t win = (uint32_t)rss_key[0] << 24 | (uint32_t)rss_key[1] << 16 |
		       (uint32_t)rss_key[2] << 8 | rss_key[3];
	for (unsigned i = 0; i < n; i++) {
		uint8_t next = rss_key[i + 4];
		for (int b = 7; b >= 0; b--) {
			if (in[i] >> b & 1)
				h ^= win;
			win = win << 1 | ((uint32_t)next >> b & 1);
		}
	}
	return h;
}

uint32_t vmdq_flow_hash(const uint8_t *d, uint32_t len)
{
	uint8_t in[36];
	unsigned n = 0;
	if (len < ETH_HLEN)
		return 0;
	uint32_t o = 12;
	uint16_t et = (uint16_t)(d[o] << 8 | d[o + 1]);
	for (int tags = 0; is_vlan_tpid(et) && tags < 2 && o + 6 <= len; tags++) {
		o += 4;
		et = (uint16_t)(d[o] << 8 | d[o + 1]);
	}
	o += 2; /* the network header */
	if (et == 0x0800 && o + 20 <= len && (d[o] >> 4) == 4 && (d[o] & 15) >= 5) {
		uint32_t ihl = (uint32_t)(d[o] & 15) * 4;
		uint8_t proto = d[o + 9];
		bool frag = ((d[o + 6] << 8 | d[o + 7]) & 0x3fff) != 0;
		memcpy(in, d + o + 12, 8);
		n = 8;
		if ((proto == 6 || proto == 17) && !frag && o + ihl + 4 <= len) {
			memcpy(in + 8, d + o + ihl, 4);
			n = 12;
		}
	} else if (et == 0x86dd && o + 40 <= len && (d[o] >> 4) == 6) {
		uint8_t nh = d[o + 6];
		memcpy(in, d + o + 8, 32);
		n = 32;
		if ((nh == 6 || nh == 17) && o + 44 <= len) {
			memcpy(in + 32, d + o + 40, 4);
			n = 36;
		}
	} else {
		memcpy(in, d, 12); /* not IP: the two MACs */
		n = 12;
	}
	return toeplitz(in, n);
}
