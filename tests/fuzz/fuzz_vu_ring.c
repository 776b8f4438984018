/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the descriptor walker and ring indices (vhost/vu.c) against
 * a guest whose memory is the input.  Layout of the input: byte 0 picks
 * features (bit 0 INDIRECT, bit 1 EVENT_IDX, bit 3 a packed ring) and the
 * direction (bit 2: receive buffers), byte 1 the ring size (split: a power
 * of two up to 256; packed: 1 to 256), the rest is guest memory at
 * guest-physical 0x10000: descriptor table (ring) at +0, avail ring (the
 * driver area) at +0x1000, used ring (the device area) at +0x1800 (an input
 * too short for the used ring of the size it picks is skipped: the port
 * maps a ring only when all of it lies in guest memory).
 * Every chain the walker accepts is written and read in full: ASan proves
 * no piece lies outside guest memory (allocated to its exact size).
 * Every transmit chain then goes through the port's frame path
 * (vhu_chain_frame): its virtio-net header (the chain's first 12 bytes,
 * from the input) parsed and checked against what the guest negotiated
 * (bit 6: every offload, else none) and the copied frame; an accepted
 * frame's offsets must lie inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>

#include "../../ports/vhost_user_int.h"
#include "../../vhost/vu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GPA 0x10000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 + 0x2000 || size > 2 + 65536)
		return 0;
	size_t mem = size - 2;
	bool packed = data[0] & 8;
	unsigned num = packed ? data[1] + 1u : 1u << (data[1] % 9); /* 1..256 */
	if (mem < 0x1800 + 6 + 8 * (size_t)num)
		return 0; /* used ring with avail_event */
	uint8_t *guest = malloc(mem);
	memcpy(guest, data + 2, mem);
	struct vu_dev d;
	vu_dev_init(&d, NULL);
	d.features = 1ull << VIRTIO_F_VERSION_1;
	if (data[0] & 1)
		d.features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (data[0] & 2)
		d.features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (packed)
		d.features |= 1ull << VU_F_RING_PACKED;
	d.mem.n = 1;
	d.mem.r[0] = (struct vu_region){ .gpa = GPA, .size = mem, .uva = GPA, .host = guest };
	struct vu_vring *v = &d.vq[0];
	v->num = num;
	v->desc = (struct vring_desc *)(void *)guest;
	v->avail = (struct vring_avail *)(void *)(guest + 0x1000);
	v->used = (struct vring_used *)(void *)(guest + 0x1800);
	v->inflight = calloc(v->num, 1);
	v->ndesc = calloc(v->num, sizeof(*v->ndesc));
	v->packed = packed;
	v->started = v->enabled = true;
	bool write = data[0] & 4;
	/* bit 4: the last chain taken is given back and taken again; bit 5:
	 * completions in reverse order */
	unsigned n = vu_avail_count(&d, v), got = 0;
	uint16_t heads[256];
	uint32_t sums[256];
	bool again = data[0] & 16;
	uint32_t caps = (data[0] & 64) ? PORT_OFF_CSUM | PORT_OFF_TSO4 | PORT_OFF_TSO6 |
					 PORT_OFF_USO | PORT_OFF_ECN : 0;
	static uint8_t *frame;
	if (!frame)
		frame = malloc(VMDQ_MAX_SUPER);
	for (unsigned i = 0; i < n && !d.broken && got < 256; i++) {
		struct vu_chain c;
		if (vu_pop(&d, v, write, &c) < 0)
			break;
		if (again) {
			again = false;
			vu_unpop(v, &c.head, 1);
			i--;
			continue;
		}
		uint32_t sum = 0;
		for (unsigned s = 0; s < c.nseg; s++) {
			if (write)
				memset(c.seg[s].p, 0xa5, c.seg[s].len);
			for (uint32_t k = 0; k < c.seg[s].len; k++)
				sum += c.seg[s].p[k];
		}
		heads[got] = c.head;
		sums[got++] = sum & 0xff;
		if (!write && c.total >= VU_HDR_MAX) {
			struct vmdq_frame f;
			if (vhu_chain_frame(&c, VU_HDR_MAX, caps, frame, &f) == VMDQ_OFF_ERR_NONE) {
				const struct vmdq_offload *o = &f.off;
				if (f.len != c.total - VU_HDR_MAX || (o->gso_type && !caps) ||
				    ((o->flags & VMDQ_OFF_CSUM_PARTIAL) &&
				     (uint32_t)o->csum_start + o->csum_offset + 2 > f.len) ||
				    o->hdr_len > f.len || (o->flags & VMDQ_OFF_CSUM_VALID))
					__builtin_trap();
			}
		}
	}
	for (unsigned i = 0; i < got; i++) {
		unsigned k = (data[0] & 32) ? got - 1 - i : i;
		vu_used_put(v, heads[k], sums[k]);
	}
	vu_used_publish(v);
	vu_notify_enable(&d, v, true);
	vu_call(&d, v);
	vu_dev_reset(&d);
	free(guest);
	return 0;
}
