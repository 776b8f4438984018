/* SPDX-License-Identifier: MIT */
/*
 * vhost-user, guest -> switch: a burst from the transmit ring of one of the
 * guest's queue pairs.  Each chain is copied out into the port's buffer
 * before the switch looks at it (anti-spoofing on guest memory would be a
 * time-of-check bug: the guest may rewrite it meanwhile) and returned to the
 * guest at once.  Its virtio-net header is hostile input: parsed from the
 * copy, refused unless the guest negotiated what it asks for (a partial
 * checksum needs CSUM, segmentation HOST_TSO4/6 or HOST_USO, ECN HOST_ECN),
 * and checked against the copied frame (vmdq_off_check): a refused frame is
 * dropped and counted under its reason (`show vifs`), the guest's other
 * frames unaffected.  The port's control: vhost_user.c.
 */
#include <string.h>

#include "vhost_user_int.h"

enum vmdq_off_err vhu_chain_frame(const struct vu_chain *c, uint32_t hl, uint32_t rx_caps,
				  uint8_t *dst, struct vmdq_frame *f)
{
	if (c->total - hl > VMDQ_MAX_SUPER)
		return VMDQ_OFF_ERR_SUPER_LONG;
	/* the header (wherever the chain's pieces put it), then the frame */
	uint8_t vh[VU_HDR_MAX] = { 0 };
	uint32_t hgot = 0, len = 0;
	for (unsigned s = 0; s < c->nseg; s++) {
		uint32_t l = c->seg[s].len;
		const uint8_t *src = c->seg[s].p;
		if (hgot < hl) {
			uint32_t k = hl - hgot < l ? hl - hgot : l;
			memcpy(vh + hgot, src, k);
			hgot += k;
			src += k;
			l -= k;
		}
		memcpy(dst + len, src, l);
		len += l;
	}
	*f = (struct vmdq_frame){ .data = dst, .caplen = len, .len = len };
	if (!(vh[0] | vh[1]))
		return VMDQ_OFF_ERR_NONE; /* no checksum to complete, no GSO: ordinary */
	struct vmdq_offload o;
	enum vmdq_off_err e = vmdq_vnet_hdr_parse(vh, hl, &o);
	if (e != VMDQ_OFF_ERR_NONE)
		return e;
	/* DATA_VALID is the device's to set, never the driver's */
	o.flags &= (uint16_t)~VMDQ_OFF_CSUM_VALID;
	if (!(o.flags | o.gso_type))
		return VMDQ_OFF_ERR_NONE;
	if (vmdq_off_needs(&o) & ~rx_caps)
		return VMDQ_OFF_ERR_NOT_NEGOTIATED;
	e = vmdq_off_check(dst, len, &o);
	if (e == VMDQ_OFF_ERR_NONE)
		f->off = o;
	return e;
}

/* VM -> switch: a burst from the transmit queue of queue pair `pair`. */
unsigned vhu_rx(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n)
{
	struct vhu *h = p->priv;
	if (pair >= h->nqp)
		return 0;
	struct vu_vring *v = &h->d.vq[TXQ(pair)];
	if (!vu_ring_live(&h->d, TXQ(pair)) || !v->inflight)
		return 0;
	unsigned have = vu_avail_count(&h->d, v);
	if (!have)
		return 0;
	quiet(h);
	if (n > VHU_BURST)
		n = VHU_BURST;
	if (have > n)
		have = n;
	unsigned got = 0, nused = 0;
	struct vring_used_elem used[VHU_BURST];
	uint32_t hl = h->d.hdr_len, caps = p->caps.rx_offloads;
	/* the longest chain taken: a super-frame's if the guest negotiated
	 * segmentation (a longer one is dropped, counted), else a jumbo frame's
	 * (a longer one breaks the device, as any lying length does) */
	uint32_t max = (caps & VHU_OFF_SUPER) ? VMDQ_MAX_SUPER : VHU_FRAME;
	size_t pos = 0;
	for (unsigned i = 0; i < have && VHU_TXBUF - pos >= max; i++) {
		struct vu_chain c;
		if (vu_pop(&h->d, v, false, &c) < 0)
			break;
		used[nused++] = (struct vring_used_elem){ c.head, 0 };
		if (c.total < hl + 14 || (c.total > hl + VHU_FRAME && !(caps & VHU_OFF_SUPER))) {
			vu_break(&h->d, VU_E_LEN);
			break;
		}
		enum vmdq_off_err e = vhu_chain_frame(&c, hl, caps, h->txbuf + pos, &f[got]);
		if (e != VMDQ_OFF_ERR_NONE) {
			h->off_err[e]++; /* dropped, the buffer back to the guest */
			continue;
		}
		uint32_t len = f[got].len;
		pos += (len + 63u) & ~(size_t)63;
		got++;
		p->rx_frames++;
		p->rx_bytes += len;
	}
	vu_used_put_many(v, used, nused);
	vu_used_publish(v);
	return got;
}
