/* SPDX-License-Identifier: MIT */
/*
 * vhost-user, switch -> guest.
 *  - Targeted receive (Level 2): the guest's receive buffers, checked
 *    against its memory table, are posted on the vif's device queues
 *    (vhu_refill: up to three quarters of the ring, VHU_POST_MAX at most);
 *    the device writes each frame straight into one; the switch's verdict
 *    comes back through vhu_complete, which writes the virtio-net header
 *    and the used entry (no copy) or posts a dropped frame's buffer again.
 *    vhu_take_back retracts what the device has not filled (before the
 *    guest's rings change, or when it breaks).
 *  - Copies (Level 1, and frames that do not come through the vif's
 *    queues: floods, other VMs): vhu_tx picks the pair by flow hash, and
 *    tx_pair copies into the guest's buffers, several per frame when
 *    mergeable buffers are negotiated.
 * The virtio-net header says what the frame's offload state says, as far
 * as the guest negotiated it (vnet_hdr): a partial checksum (NEEDS_CSUM)
 * or a verified one (DATA_VALID) with GUEST_CSUM, segmentation with
 * GUEST_TSO4/6 (ECN) or GUEST_USO4/6.  tx is given only what tx_offloads
 * allow (the switch segments and completes for the rest); a targeted
 * frame, placed by the device before the switch looked at it, may need
 * what the guest cannot take: a partial checksum is completed in the
 * guest's buffer (not yet the guest's again), a super-frame is not
 * delivered (offload_refused).
 * The port's control: vhost_user.c.
 */
#include <string.h>

#include "vhost_user_int.h"

/* Writes the hl-byte virtio-net header of a frame with offload state o to
 * the guest at vh (num_buffers, if hl is 12, says 1).  -1 (nothing
 * written) if the guest did not negotiate what the frame needs. */
static int vnet_hdr(const struct port *p, const struct vmdq_offload *o, uint8_t *vh,
		    uint32_t hl)
{
	if (!(o->flags | o->gso_type)) {
		static const uint8_t one[12] = { [10] = 1 };
		memcpy(vh, one, hl);
		return 0;
	}
	uint32_t can = p->caps.tx_offloads;
	if (vmdq_off_needs(o) & ~can)
		return -1;
	struct vmdq_offload x = *o;
	if (!(can & PORT_OFF_CSUM)) /* without GUEST_CSUM the flags stay 0 */
		x.flags &= (uint16_t)~VMDQ_OFF_CSUM_VALID;
	return vmdq_vnet_hdr_build(&x, vh, hl) == 0 ? 0 : -1;
}

/* Takes every shared buffer the device has not filled back from the
 * vif's queues; they go back to the guest empty (if the ring is still
 * there).  The filled ones stay counted in posted until they come through
 * complete (the worker drains the queues after service). */
void vhu_take_back(struct port *p, bool to_guest)
{
	struct vhu *h = p->priv;
	if (!h->targeted || !p->dev || h->retracted)
		return;
	for (unsigned i = 0; i < h->nqp; i++) {
		struct vhu_rxr *r = &h->r[i];
		struct vmdq_rxd d[VHU_POST_MAX];
		unsigned n;
		while (r->posted && (n = vmdq_rxq_retract(p->dev, (unsigned)p->queue + i, d,
							 VHU_POST_MAX)) > 0) {
			r->posted -= n < r->posted ? n : r->posted;
			if (to_guest && rx_intact(h, i))
				for (unsigned k = 0; k < n; k++)
					if ((uint16_t)d[k].cookie < r->ring_num)
						vu_used_put(&h->d.vq[RXQ(i)], (uint16_t)d[k].cookie, 0);
		}
		if (rx_live(h, i) || rx_intact(h, i)) {
			vu_used_publish(&h->d.vq[RXQ(i)]);
			vu_call(&h->d, &h->d.vq[RXQ(i)]);
		}
	}
	h->retracted = true;
}

/* ---- targeted receive: the guest's buffers on the device queue ---------- */

static void refill_pair(struct port *p, unsigned pair)
{
	struct vhu *h = p->priv;
	struct vhu_rxr *r = &h->r[pair];
	if (!rx_live(h, pair) || r->ring_num != h->d.vq[RXQ(pair)].num)
		return;
	struct vu_vring *v = &h->d.vq[RXQ(pair)];
	unsigned batch, limit = post_limit(v, &batch);
	if (r->posted + batch > limit)
		return;
	unsigned want = limit - r->posted, have = vu_avail_count(&h->d, v);
	if (want > have)
		want = have;
	if (!want)
		return;
	/* the descriptors of the heads to come, on their way before we walk
	 * (a packed ring's are in ring order: the count just read them) */
	for (unsigned i = 0; i < want && !v->packed; i++) {
		uint16_t hd = ((volatile struct vring_avail *)v->avail)->ring[(uint16_t)(v->last_avail + i) &
										(v->num - 1)];
		if (hd < v->num)
			__builtin_prefetch(&v->desc[hd]);
	}
	struct vmdq_rxd d[VHU_POST_MAX];
	unsigned k = 0;
	bool put = false;
	for (unsigned i = 0; i < want; i++) {
		struct vu_chain c;
		if (vu_pop(&h->d, v, true, &c) < 0)
			break;
		uint8_t *vh, *buf;
		uint32_t size;
		uint16_t lead = 0;
		if (c.nseg && c.seg[0].len > h->d.hdr_len && h->lead_len == h->d.hdr_len) {
			vh = NULL; /* the device writes the header with the frame */
			buf = c.seg[0].p;
			size = c.seg[0].len;
			lead = (uint16_t)h->d.hdr_len;
		} else if (c.nseg && c.seg[0].len > h->d.hdr_len) {
			vh = c.seg[0].p;
			buf = vh + h->d.hdr_len;
			size = c.seg[0].len - h->d.hdr_len;
		} else if (c.nseg > 1 && c.seg[0].len == h->d.hdr_len) {
			vh = c.seg[0].p; /* header and frame in separate pieces */
			buf = c.seg[1].p;
			size = c.seg[1].len;
		} else {
			h->c[C_SHORT_BUF]++; /* cannot hold a frame: back, empty */
			vu_used_put(v, c.head, 0);
			put = true;
			continue;
		}
		r->vhdr[c.head] = vh;
		d[k++] = (struct vmdq_rxd){ .buf = buf, .buf_size = size,
					    .cookie = cookie(h, pair, c.head),
					    .hdr = r->hdrbuf + (size_t)c.head * VHU_HDR,
					    .hdr_len = VHU_HDR, .lead = lead };
	}
	int err = 0;
	unsigned posted = k ? vmdq_rxq_post_shared(p->dev, (unsigned)p->queue + pair, p->owner,
						  d, k, &err) : 0;
	r->posted += posted;
	if (posted)
		h->retracted = false;
	if (posted < k) {
		/* the device refused what we had checked: never write it */
		vu_break(&h->d, VU_E_ADDR);
		for (unsigned i = posted; i < k; i++)
			v->inflight[(uint16_t)d[i].cookie] = 0;
	}
	if (put)
		vu_used_publish(v);
}

void vhu_refill(struct port *p)
{
	struct vhu *h = p->priv;
	if (!h->targeted || !p->dev || h->quiescing)
		return;
	vhu_share_mem(p, false);
	if (!h->mem_shared)
		return;
	for (unsigned i = 0; i < h->nqp; i++)
		refill_pair(p, i);
}

/* The switch's verdict on completions of one of the vif's queues. */
unsigned vhu_complete(struct port *p, struct vmdq_rxd *d, unsigned n,
			     const bool *deliver)
{
	struct vhu *h = p->priv;
	if (!n)
		return 0;
	unsigned pair = (unsigned)(d[0].cookie >> 16 & 0xffff);
	if (pair >= h->nqp)
		return 0; /* not ours: cannot happen */
	/* Each entry is judged by its own generation: one posted before the
	 * rings changed and given up on (vhu_quiesce: posted was set to 0 for
	 * it) is skipped, never written and not counted off posted; the
	 * current ones in the same batch go on as usual. */
	unsigned cur = 0;
	for (unsigned i = 0; i < n; i++)
		cur += (uint32_t)(d[i].cookie >> 32) == h->gen;
	if (!cur)
		return 0;
	struct vhu_rxr *r = &h->r[pair];
	unsigned done = 0, back = 0, nused = 0;
	struct vmdq_rxd again[VHU_POST_MAX];
	struct vring_used_elem used[VHU_POST_MAX];
	r->posted -= cur < r->posted ? cur : r->posted;
	bool live = rx_live(h, pair) && r->ring_num == h->d.vq[RXQ(pair)].num;
	/* not live but intact: the guest disabled the ring (rx_intact) */
	bool intact = !live && rx_intact(h, pair), put_back = false;
	if (live)
		quiet(h);
	struct vu_vring *v = &h->d.vq[RXQ(pair)];
	for (unsigned i = 0; i < n; i++) {
		uint16_t head = (uint16_t)d[i].cookie;
		if ((uint32_t)(d[i].cookie >> 32) != h->gen)
			continue; /* given up on (above) */
		if (!live || head >= r->ring_num) {
			/* not delivered (the switch counts it: port-tx); the
			 * buffer goes back to a disabled ring empty, and stays
			 * with a ring that broke or stopped (its restart forgets
			 * it); counted off posted either way (above) */
			if (intact && head < r->ring_num) {
				vu_used_put(v, head, 0);
				put_back = true;
			}
			continue;
		}
		if (!deliver[i]) {
			/* the switch dropped it: the buffer goes back to the device */
			if (back < VHU_POST_MAX && !h->quiescing && p->dev)
				again[back++] = (struct vmdq_rxd){
					.buf = d[i].buf, .buf_size = d[i].buf_size,
					.cookie = cookie(h, pair, head),
					.hdr = r->hdrbuf + (size_t)head * VHU_HDR,
					.hdr_len = VHU_HDR, .lead = d[i].lead };
			else
				vu_used_put(v, head, 0);
			continue;
		}
		uint8_t *vh = r->vhdr[head];
		uint32_t len = d[i].len;
		if (d[i].flags & VMDQ_RXD_OFFLOAD) {
			/* the frame's own header, over the device's constant
			 * lead-in if it wrote one (the buffer is still ours) */
			struct vmdq_offload o = d[i].off;
			uint8_t *frame = vh ? d[i].buf : d[i].buf + d[i].lead;
			if ((o.flags & VMDQ_OFF_CSUM_PARTIAL) && !o.gso_type &&
			    !(p->caps.tx_offloads & PORT_OFF_CSUM))
				vmdq_csum_complete(frame, len, &o); /* bounds checked */
			if (vnet_hdr(p, &o, vh ? vh : d[i].buf, h->d.hdr_len) < 0) {
				h->c[C_OFF_REFUSED]++; /* back to the guest, empty */
				vu_used_put(v, head, 0);
				continue;
			}
		} else if (!vh) {
			/* written by the device in front of the frame */
		} else if (h->d.hdr_len == 12) {
			static const uint8_t one[12] = { [10] = 1 }; /* num_buffers 1 */
			memcpy(vh, one, 12);
		} else {
			memset(vh, 0, 10);
		}
		used[nused++] = (struct vring_used_elem){ head, h->d.hdr_len + len };
		p->tx_frames++;
		p->tx_bytes += len;
		done++;
	}
	if (vhu_logging(h) && live) {
		/* logging (migration): the pages of what was written into the
		 * guest's buffers, before the used entries are published: the
		 * device's frame (and lead-in), a completed checksum, the
		 * virtio-net header.  Written on the sorter's thread, marked
		 * here, on the vif's: the buffer is not the guest's until
		 * published, and the log is only ever touched by this thread */
		for (unsigned i = 0; i < n; i++) {
			uint16_t head = (uint16_t)d[i].cookie;
			if (head >= r->ring_num || (uint32_t)(d[i].cookie >> 32) != h->gen)
				continue;
			if (d[i].len || d[i].lead)
				vu_log_host(&h->d, d[i].buf, (uint64_t)d[i].lead + d[i].len);
			if (r->vhdr[head])
				vu_log_host(&h->d, r->vhdr[head], h->d.hdr_len);
		}
	}
	vu_used_put_many(v, used, nused);
	if (back) {
		int err;
		unsigned k = vmdq_rxq_post_shared(p->dev, (unsigned)p->queue + pair, p->owner,
						  again, back, &err);
		r->posted += k;
		if (k)
			h->retracted = false;
		for (unsigned i = k; i < back; i++)
			vu_used_put(v, (uint16_t)again[i].cookie, 0);
	}
	if (live) {
		vu_used_publish(v);
		if (h->targeted && p->dev && !h->quiescing && h->mem_shared)
			refill_pair(p, pair);
	} else if (put_back) {
		vu_used_publish(v);
		vu_call(&h->d, v); /* (flush calls running rings only) */
	}
	return done;
}

/* switch -> VM by copy (Level 1, and frames that did not come through the
 * vif's queue).  Mergeable buffers when negotiated, else one buffer per
 * frame; a frame that does not fit is dropped, its buffers untouched. */
#define VHU_MRG_MAX 64
/* log: dirty-page logging is on (a constant in each of tx_pair's two
 * copies of this: off, the copy loop has no test for it) */
static inline __attribute__((always_inline)) unsigned
tx_pair_do(struct port *p, struct vhu *h, struct vu_vring *v, const struct vmdq_frame *f,
	   unsigned n, bool log)
{
	uint32_t hl = h->d.hdr_len;
	bool mrg = hl == 12 && (h->d.features & (1ull << 15)); /* VIRTIO_NET_F_MRG_RXBUF */
	unsigned sent = 0, have = vu_avail_count(&h->d, v), nused = 0;
	unsigned pops = 0, descs = 0; /* chains and descriptors walked: VHU_TX_POPS,
				       * VHU_TX_DESCS at most */
	struct vring_used_elem used[VHU_POST_MAX];
	for (unsigned i = 0; i < n && have && !h->d.broken && pops < VHU_TX_POPS &&
			     descs < VHU_TX_DESCS; i++) {
		uint32_t len = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		uint32_t need = hl + len, off = 0; /* bytes of header + frame placed */
		uint8_t hdr[VU_HDR_MAX];
		if (vnet_hdr(p, &f[i].off, hdr, hl) < 0) {
			h->c[C_OFF_REFUSED]++; /* not the switch's promise: dropped */
			continue;
		}
		uint16_t heads[VHU_MRG_MAX];
		uint32_t lens[VHU_MRG_MAX];
		unsigned nb = 0;
		uint8_t *vh = NULL;
		uint32_t vh_len = 0; /* bytes written from vh in its piece */
		bool short_hdr = false;
		while (off < need && have && nb < VHU_MRG_MAX && pops < VHU_TX_POPS &&
		       descs < VHU_TX_DESCS) {
			struct vu_chain c;
			if (vu_pop(&h->d, v, true, &c) < 0)
				break;
			have--;
			pops++;
			descs += c.ndesc;
			heads[nb] = c.head;
			lens[nb] = 0;
			if (!c.nseg || (nb == 0 && c.seg[0].len < hl)) {
				nb++;
				h->c[C_SHORT_BUF]++;
				short_hdr = true;
				break; /* the header must be in one piece */
			}
			if (nb == 0) {
				vh = c.seg[0].p;
				memcpy(vh, hdr, hl);
			}
			for (unsigned s = 0; s < c.nseg && off < need; s++) {
				uint8_t *dst = c.seg[s].p;
				uint32_t room = c.seg[s].len;
				if (off < hl) { /* first piece: the header is there */
					dst += hl;
					room -= hl;
					off = hl;
					lens[nb] = hl;
				}
				uint32_t k = need - off < room ? need - off : room;
				memcpy(dst, f[i].data + (off - hl), k);
				/* the piece with the header is marked once its last
				 * write (num_buffers) is done, below */
				if (log && c.seg[s].p != vh)
					vu_log_host(&h->d, c.seg[s].p,
						    (uint64_t)(dst - c.seg[s].p) + k);
				else if (log)
					vh_len = (uint32_t)(dst - vh) + k;
				off += k;
				lens[nb] += k;
			}
			nb++;
			if (!mrg)
				break;
		}
		if (off < need || !vh) {
			/* not placed: the buffers were never used, the guest keeps
			 * them (they are taken again for the next frame) */
			bool ran_out = !have;
			vu_unpop(v, heads, nb);
			have += nb;
			/* every buffer it posted was not enough: the rest of the
			 * burst is not walked through them again (dropped) */
			if (h->d.broken || ran_out)
				break;
			if (!short_hdr)
				h->c[C_TOO_BIG]++;
			continue; /* too big for the buffers: dropped */
		}
		if (nused + nb > VHU_POST_MAX) {
			vu_used_put_many(v, used, nused);
			nused = 0;
		}
		for (unsigned k = 0; k < nb; k++)
			used[nused++] = (struct vring_used_elem){ heads[k], lens[k] };
		if (hl == 12) {
			vh[10] = (uint8_t)nb; /* num_buffers, little-endian */
			vh[11] = (uint8_t)(nb >> 8);
		}
		if (log) /* the piece with the header, after its last write (num_buffers) */
			vu_log_host(&h->d, vh, vh_len);
		p->tx_frames++;
		p->tx_bytes += len;
		sent++;
	}
	vu_used_put_many(v, used, nused);
	vu_used_publish(v);
	return sent;
}

static unsigned tx_pair(struct port *p, unsigned pair, const struct vmdq_frame *f,
			unsigned n)
{
	struct vhu *h = p->priv;
	if (!rx_live(h, pair) || h->r[pair].ring_num != h->d.vq[RXQ(pair)].num)
		return 0;
	struct vu_vring *v = &h->d.vq[RXQ(pair)];
	quiet(h);
	/* the one test of logging a batch pays */
	return vhu_logging(h) ? tx_pair_do(p, h, v, f, n, true) : tx_pair_do(p, h, v, f, n, false);
}

/* Several pairs: each frame goes to the pair its flow hashes to, as the
 * device's spread does for frames that come through the vif's queues. */
unsigned vhu_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct vhu *h = p->priv;
	unsigned spread = h->spread;
	if (spread <= 1)
		return tx_pair(p, 0, f, n);
	unsigned sent = 0;
	for (unsigned off = 0; off < n; off += VHU_BURST) {
		unsigned m = n - off < VHU_BURST ? n - off : VHU_BURST;
		struct vmdq_frame by[VU_MAX_QP][VHU_BURST];
		unsigned cnt[VU_MAX_QP] = { 0 };
		for (unsigned i = 0; i < m; i++) {
			const struct vmdq_frame *x = &f[off + i];
			uint32_t len = x->caplen < x->len ? x->caplen : x->len;
			unsigned k = vmdq_flow_hash(x->data, len) % spread;
			by[k][cnt[k]++] = *x;
		}
		for (unsigned k = 0; k < spread; k++)
			if (cnt[k])
				sent += tx_pair(p, k, by[k], cnt[k]);
	}
	return sent;
}
