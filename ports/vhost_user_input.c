/* SPDX-License-Identifier: MIT */
/*
 * vhost-user, guest -> switch: a burst from the transmit ring of one of the
 * guest's queue pairs.  Each chain is copied out into the port's buffer
 * before the switch looks at it (anti-spoofing on guest memory would be a
 * time-of-check bug: the guest may rewrite it meanwhile) and returned to the
 * guest at once.  The port's control: vhost_user.c.
 */
#include <string.h>

#include "vhost_user_int.h"

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
	uint32_t hl = h->d.hdr_len;
	for (unsigned i = 0; i < have; i++) {
		struct vu_chain c;
		if (vu_pop(&h->d, v, false, &c) < 0)
			break;
		if (c.total < hl + 14 || c.total > hl + VHU_FRAME) {
			used[nused++] = (struct vring_used_elem){ c.head, 0 };
			vu_break(&h->d, VU_E_LEN);
			break;
		}
		/* copy the frame out (skipping the virtio-net header) */
		uint8_t *dst = h->txbuf + (size_t)got * VHU_FRAME;
		uint32_t skip = hl, len = 0;
		for (unsigned s = 0; s < c.nseg; s++) {
			uint32_t l = c.seg[s].len;
			const uint8_t *src = c.seg[s].p;
			if (skip >= l) {
				skip -= l;
				continue;
			}
			src += skip;
			l -= skip;
			skip = 0;
			memcpy(dst + len, src, l);
			len += l;
		}
		used[nused++] = (struct vring_used_elem){ c.head, 0 };
		f[got++] = (struct vmdq_frame){ .data = dst, .caplen = len, .len = len };
		p->rx_frames++;
		p->rx_bytes += len;
	}
	vu_used_put_many(v, used, nused);
	vu_used_publish(v);
	return got;
}
