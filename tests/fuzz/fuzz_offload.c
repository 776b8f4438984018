/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: offload state and the frame it describes (lib/offload.c).
 * Input: a mode byte, 12 bytes of offload state, then the frame.  Mode bit
 * 0 clear: the 12 bytes are a virtio-net header (vmdq_vnet_hdr_parse);
 * set: they are a struct vmdq_offload as it is in memory (what any port
 * could hand over).  Then vmdq_off_check, and for what it accepts:
 * vmdq_csum_complete and vmdq_gso_segment into buffers of exactly the size
 * promised, asserting:
 *   - the segments' lengths sum to payload + hdr_len * n, each at most
 *     hdr_len + gso_size, n = vmdq_gso_segs(), the bytes = vmdq_gso_out_size();
 *   - one byte less of output is refused (-ENOSPC), never overflowed (ASan);
 *   - a checked state survives vmdq_vnet_hdr_build + parse unchanged.
 * Segmenting with the unchecked state (mode bit 1) must stay in bounds
 * too; mode bit 2 runs vmdq_off_gso_partial before the check.
 * Seeds: tests/fuzz/corpus/offload (TCPv4/v6, tagged, UDP super-frames).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmdq/vmdq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void segment_all(const uint8_t *f, uint32_t len, const struct vmdq_offload *o)
{
	uint32_t n = vmdq_gso_segs(o, len);
	size_t need = vmdq_gso_out_size(o, len);
	if (n < 2)
		abort(); /* check accepted GSO only for more than one segment */
	if (need != (size_t)n * o->hdr_len + (len - o->hdr_len))
		abort();
	uint8_t *out = malloc(need);
	struct vmdq_frame *segs = malloc(n * sizeof(*segs));
	if (!out || !segs)
		abort();
	if (vmdq_gso_segment(f, len, o, out, need - 1, segs, n) != -ENOSPC)
		abort();
	if (vmdq_gso_segment(f, len, o, out, need, segs, n - 1) != -ENOSPC)
		abort();
	if (vmdq_gso_segment(f, len, o, out, need, segs, n) != (int)n)
		abort();
	size_t sum = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (segs[i].len != segs[i].caplen || segs[i].len <= o->hdr_len ||
		    segs[i].len > (uint32_t)o->hdr_len + o->gso_size ||
		    segs[i].data != out + sum ||
		    (i + 1 < n && segs[i].len != (uint32_t)o->hdr_len + o->gso_size) ||
		    memcmp(segs[i].data, f, 12) != 0 ||
		    segs[i].off.flags != VMDQ_OFF_CSUM_VALID)
			abort();
		sum += segs[i].len;
	}
	if (sum != need || sum != (size_t)(len - o->hdr_len) + (size_t)o->hdr_len * n)
		abort();
	free(out);
	free(segs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 13)
		return 0;
	uint8_t mode = data[0];
	struct vmdq_offload o;
	if (mode & 1) {
		memcpy(&o, data + 1, sizeof(o));
	} else {
		if (vmdq_vnet_hdr_parse(data + 1, 12, &o) != VMDQ_OFF_ERR_NONE)
			return 0;
	}
	uint32_t len = (uint32_t)(size - 13);
	/* the frame in a buffer of its own size: any read past it is caught */
	uint8_t *f = malloc(len ? len : 1);
	if (!f)
		abort();
	memcpy(f, data + 13, len);

	if (mode & 2) {
		/* unchecked state straight into segmentation: refused or in
		 * bounds, whatever it says */
		static uint8_t out[1u << 18];
		static struct vmdq_frame segs[512];
		int r = vmdq_gso_segment(f, len, &o, out, sizeof(out), segs, 512);
		if (r == 0 || r == 1 || r > 512)
			abort();
	}

	struct vmdq_offload c = o;
	if (mode & 4) {
		/* a verified super-frame made partial first (writes 2 bytes
		 * inside the frame, or nothing) */
		enum vmdq_off_err pe = vmdq_off_gso_partial(f, len, &c);
		if ((unsigned)pe >= VMDQ_OFF_ERR__COUNT)
			abort();
		if (pe != VMDQ_OFF_ERR_NONE) {
			free(f);
			return 0;
		}
	}
	enum vmdq_off_err e = vmdq_off_check(f, len, &c);
	if ((unsigned)e >= VMDQ_OFF_ERR__COUNT || !vmdq_off_err_name(e))
		abort();
	if (e == VMDQ_OFF_ERR_NONE) {
		if (c.flags & VMDQ_OFF_CSUM_PARTIAL) {
			if ((uint32_t)c.csum_start + c.csum_offset + 2 > len || c.csum_start < 14)
				abort();
		} else if (c.csum_start || c.csum_offset) {
			abort();
		}
		if (c.gso_type != VMDQ_GSO_NONE) {
			if (!c.gso_size || !c.hdr_len || c.hdr_len >= len ||
			    !(c.flags & VMDQ_OFF_CSUM_PARTIAL))
				abort();
			segment_all(f, len, &c);
		} else if (c.gso_size || c.hdr_len) {
			abort();
		}
		/* checked twice: nothing changes */
		struct vmdq_offload again = c;
		if (vmdq_off_check(f, len, &again) != VMDQ_OFF_ERR_NONE ||
		    memcmp(&again, &c, sizeof(c)) != 0)
			abort();
		/* the header round trip (FIXEDID is not a header field) */
		uint8_t h[12];
		struct vmdq_offload back;
		if (vmdq_vnet_hdr_build(&c, h, sizeof(h)) ||
		    vmdq_vnet_hdr_parse(h, sizeof(h), &back) != VMDQ_OFF_ERR_NONE)
			abort();
		c.flags &= (uint16_t)~VMDQ_OFF_FIXEDID;
		if (memcmp(&back, &c, sizeof(c)) != 0)
			abort();
		if (c.flags & VMDQ_OFF_CSUM_PARTIAL) {
			if (vmdq_csum_complete(f, len, &c) != 0 || c.flags & VMDQ_OFF_CSUM_PARTIAL ||
			    !(c.flags & VMDQ_OFF_CSUM_VALID))
				abort();
		}
	}
	free(f);
	return 0;
}
