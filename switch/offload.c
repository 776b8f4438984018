/* SPDX-License-Identifier: MIT */
/*
 * switch/offload.c - frames made fit for the port they leave through
 * (SPEC 5).  A frame carries its offload state (f->off) from the port or
 * the device that gave it; a port's tx takes only what its caps.tx_offloads
 * say.  For the rest the worker does the work in software, in its own
 * scratch area, never in the frame's own memory (which may be a VM's or the
 * port's): a super-frame is cut into the frames the kernel's GSO would
 * have sent (vmdq_gso_segment), a partial checksum is completed on a copy
 * (vmdq_csum_complete).  Runs of frames that fit go out in one tx call as
 * before; a super-frame that had to be cut goes in a call of its own (one
 * call per super-frame, not per segment); a run of frames whose checksums
 * had to be completed goes in one call too (one per burst, not per frame:
 * an AF_XDP port's call may be a system call).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

bool vmdq_sw_gso_scratch(struct sw_worker *k)
{
	if (k->gso_out)
		return true;
	k->gso_out = vmdq_sw_mem(SW_GSO_BYTES + SW_GSO_MAX_SEGS * sizeof(struct vmdq_frame));
	if (!k->gso_out)
		return false;
	k->gso_f = (struct vmdq_frame *)(k->gso_out + SW_GSO_BYTES);
	return true;
}

void vmdq_sw_gso_scratch_free(struct sw_worker *k)
{
	if (k->gso_out)
		vmdq_sw_unmem(k->gso_out, SW_GSO_BYTES + SW_GSO_MAX_SEGS * sizeof(struct vmdq_frame));
	k->gso_out = NULL;
	k->gso_f = NULL;
}

bool vmdq_sw_off_admit(struct vmdq_switch *sw, int w, const struct vmdq_frame *f,
		       uint32_t len, struct sw_cnt *c)
{
	if (!f->off.gso_type)
		return true;
	if (vmdq_gso_segs(&f->off, len) > SW_GSO_MAX_SEGS ||
	    vmdq_gso_out_size(&f->off, len) > SW_GSO_BYTES) {
		if (c)
			c->drops[SWD_GSO_SEGS]++;
		sw->wk[w].wc.drops[SWD_GSO_SEGS]++;
		return false;
	}
	sw->wk[w].wc.off[SWO_SUPER]++;
	return true;
}

/* f made fit for p in the worker's scratch, sent in one call: true if p
 * took all of it. */
static bool send_fitted(struct sw_worker *k, struct port *p, const struct vmdq_frame *f)
{
	uint32_t len = f->caplen < f->len ? f->caplen : f->len;
	if (!vmdq_sw_gso_scratch(k))
		return false;
	if (f->off.gso_type) {
		/* p lacks some of what the super-frame needs: segments, every
		 * checksum complete */
		int n = vmdq_gso_segment(f->data, len, &f->off, k->gso_out, SW_GSO_BYTES, k->gso_f,
					 SW_GSO_MAX_SEGS);
		if (n <= 0)
			return false; /* refused at admission: cannot happen */
		k->wc.off[SWO_SEGMENTS] += (unsigned)n;
		for (int i = 0; i < n; i++)
			k->gso_f[i].ts_ns = f->ts_ns;
		/* in bursts, as every port is used to being called */
		for (unsigned i = 0; i < (unsigned)n; i += BURST) {
			unsigned m = (unsigned)n - i < BURST ? (unsigned)n - i : BURST;
			if (p->ops->tx(p, k->gso_f + i, m) != m)
				return false;
		}
		return true;
	}
	/* a partial checksum p cannot leave partial: completed on a copy */
	if (len > SW_GSO_BYTES)
		return false;
	memcpy(k->gso_out, f->data, len);
	struct vmdq_frame g = *f;
	g.data = k->gso_out;
	g.caplen = g.len = len;
	if (vmdq_csum_complete(k->gso_out, len, &g.off) < 0)
		return false;
	k->wc.off[SWO_CSUM]++;
	return p->ops->tx(p, &g, 1) == 1;
}

void vmdq_sw_wire_in(struct vmdq_switch *sw, int w, const struct vmdq_frame *f, unsigned n)
{
	struct sw_worker *k = &sw->wk[w];
	unsigned i = 0;
	if (!sw->ntargeted)
		goto whole;
	while (i < n) {
		unsigned j = i;
		while (j < n && !f[j].off.gso_type)
			j++;
		if (j > i)
			vmdq_rx_burst(sw->dev, f + i, j - i, NULL);
		if (j == n)
			return;
		/* f[j], a super-frame: its segments into the device, a burst at a
		 * time (counted as a super-frame and its segments) */
		uint32_t len = f[j].caplen < f[j].len ? f[j].caplen : f[j].len;
		int m = vmdq_sw_gso_scratch(k) && vmdq_gso_segs(&f[j].off, len) <= SW_GSO_MAX_SEGS ?
			vmdq_gso_segment(f[j].data, len, &f[j].off, k->gso_out, SW_GSO_BYTES,
					 k->gso_f, SW_GSO_MAX_SEGS) : -EINVAL;
		if (m > 0) {
			k->wc.off[SWO_SUPER]++;
			k->wc.off[SWO_SEGMENTS] += (unsigned)m;
			for (int s = 0; s < m; s += BURST) {
				for (int t = s; t < m && t < s + BURST; t++)
					k->gso_f[t].ts_ns = f[j].ts_ns;
				vmdq_rx_burst(sw->dev, k->gso_f + s,
					      (unsigned)(m - s < BURST ? m - s : BURST), NULL);
			}
		} else {
			/* cannot be cut: the device judges it whole (a targeted
			 * vif's buffer counts it missed) */
			vmdq_rx_burst(sw->dev, f + j, 1, NULL);
		}
		i = j + 1;
	}
	return;
whole:
	vmdq_rx_burst(sw->dev, f, n, NULL);
}

/* What f's offload state o needs that a port taking can cannot: nothing for
 * an ordinary frame (no partial checksum, no GSO: most frames), tested
 * inline; the library's answer for the others. */
static inline unsigned lacks(const struct vmdq_offload *o, uint32_t can)
{
	if (!(o->flags & VMDQ_OFF_CSUM_PARTIAL) && o->gso_type == VMDQ_GSO_NONE)
		return 0;
	return vmdq_off_needs(o) & ~can;
}

/* f[0..n), frames whose only lack is a partial checksum (n <= BURST):
 * copied one after the other into the worker's scratch, as many as fit,
 * completed there and handed to p in one call.  *tried gets how many were
 * handed over (0 when f[0] cannot be fitted); returns how many p took. */
static unsigned send_completed(struct sw_worker *k, struct port *p, const struct vmdq_frame *f,
			       unsigned n, unsigned *tried)
{
	*tried = 0;
	if (!vmdq_sw_gso_scratch(k))
		return 0;
	size_t used = 0;
	unsigned m = 0;
	while (m < n) {
		uint32_t len = f[m].caplen < f[m].len ? f[m].caplen : f[m].len;
		if (len > SW_GSO_BYTES - used)
			break;
		struct vmdq_frame *g = &k->gso_f[m];
		uint8_t *c = k->gso_out + used;
		*g = f[m];
		g->data = c;
		g->caplen = g->len = len;
		memcpy(c, f[m].data, len);
		if (vmdq_csum_complete(c, len, &g->off) < 0)
			break;
		used += len;
		m++;
	}
	*tried = m;
	if (!m)
		return 0;
	k->wc.off[SWO_CSUM] += m;
	return p->ops->tx(p, k->gso_f, m);
}

unsigned vmdq_sw_port_tx(struct vmdq_switch *sw, int w, struct port *p,
			 const struct vmdq_frame *f, unsigned n)
{
	struct sw_worker *k = &sw->wk[w];
	uint32_t can = p->caps.tx_offloads;
	unsigned done = 0;
	while (done < n) {
		unsigned end = done;
		while (end < n && !lacks(&f[end].off, can))
			end++;
		if (end > done) {
			unsigned sent = p->ops->tx(p, f + done, end - done);
			done += sent;
			if (done < end)
				return done;
			continue;
		}
		if (!f[done].off.gso_type) {
			/* partial checksums the port cannot leave partial: a
			 * run of them completed and sent in one call */
			unsigned want = 0;
			while (done + want < n && want < BURST &&
			       lacks(&f[done + want].off, can) == VMDQ_OFF_CAP_CSUM &&
			       !f[done + want].off.gso_type)
				want++;
			unsigned tried, sent = send_completed(k, p, f + done, want, &tried);
			done += sent;
			if (!tried || sent < tried)
				return done;
			continue;
		}
		if (!send_fitted(k, p, &f[done]))
			return done;
		done++;
	}
	return done;
}
