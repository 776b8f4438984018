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
	if (unlikely(wl > max_frame + VLAN_HLEN * (uint32_t)p->ntags))
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
