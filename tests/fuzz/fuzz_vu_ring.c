/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the descriptor walker and ring indices (vhost/vu.c) against
 * a guest whose memory is the input.  Layout of the input: byte 0 picks
 * features (bit 0 INDIRECT, bit 1 EVENT_IDX), byte 1 the ring size (a power
 * of two up to 256), the rest is guest memory at guest-physical 0x10000:
 * descriptor table at +0, avail ring at +0x1000, used ring at +0x1800
 * (an input too short for the used ring of the size it picks is skipped:
 * the port maps a ring only when all of it lies in guest memory).
 * Every chain the walker accepts is written and read in full: ASan proves
 * no piece lies outside guest memory (allocated to its exact size).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>

#include "../../vhost/vu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GPA 0x10000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 + 0x2000 || size > 2 + 65536)
		return 0;
	size_t mem = size - 2;
	unsigned num = 1u << (data[1] % 9); /* 1..256 */
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
	d.mem.n = 1;
	d.mem.r[0] = (struct vu_region){ .gpa = GPA, .size = mem, .uva = GPA, .host = guest };
	struct vu_vring *v = &d.vq[0];
	v->num = num;
	v->desc = (struct vring_desc *)(void *)guest;
	v->avail = (struct vring_avail *)(void *)(guest + 0x1000);
	v->used = (struct vring_used *)(void *)(guest + 0x1800);
	v->inflight = calloc(v->num, 1);
	v->started = v->enabled = true;
	bool write = data[0] & 4;
	unsigned n = vu_avail_count(&d, v);
	for (unsigned i = 0; i < n && !d.broken; i++) {
		struct vu_chain c;
		if (vu_pop(&d, v, write, &c) < 0)
			break;
		uint32_t sum = 0;
		for (unsigned s = 0; s < c.nseg; s++) {
			if (write)
				memset(c.seg[s].p, 0xa5, c.seg[s].len);
			for (uint32_t k = 0; k < c.seg[s].len; k++)
				sum += c.seg[s].p[k];
		}
		vu_used_put(v, c.head, sum & 0xff);
	}
	vu_used_publish(v);
	vu_notify_enable(&d, v, true);
	vu_call(&d, v);
	vu_dev_reset(&d);
	free(guest);
	return 0;
}
