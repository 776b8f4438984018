/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: frame parsing and sorting.  The first bytes pick a device
 * configuration and filters; the rest is cut into frames whose reported
 * length and captured length are also fuzzer-chosen.  Checks that every
 * frame is accounted for, that delivered lengths never exceed the posted
 * buffer or the captured bytes, and (ASan) that nothing outside a frame's
 * captured bytes is read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmdq/vmdq.h"

#define NQ 8
#define RING 64

static uint8_t bufs[NQ][RING][512];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int online;
	if (!online) {
		vmdq_thread_online();
		online = 1;
	}
	if (size < 8)
		return 0;
	struct vmdq_dev *dev = vmdq_dev_create();
	uint8_t f0 = data[0], f1 = data[1];
	vmdq_dev_batch_begin(dev); /* one publication for the whole setup */
	vmdq_dev_set_vmdq(dev, f0 & 1);
	vmdq_dev_set_promisc(dev, f0 & 2);
	vmdq_dev_set_allmulti(dev, f0 & 4);
	vmdq_dev_set_broadcast(dev, f0 & 8);
	vmdq_dev_set_store_bad(dev, f0 & 16);
	vmdq_dev_set_fcs(dev, f0 & 32);
	vmdq_dev_set_max_frame(dev, 60 + (unsigned)data[2] * 8);
	vmdq_dev_set_default_queue(dev, f1 % NQ);
	/* filters keyed on bytes of the input, so frames can match them */
	for (unsigned i = 0; i < (f1 >> 4) && 8 + 6 * (i + 1) <= size; i++) {
		const uint8_t *m = data + 3 + i;
		uint16_t vlan = (uint16_t)(i % 3 == 1 ? m[0] % 4095 : 0);
		if (i % 3 == 2)
			vmdq_filter_add(dev, NULL, (uint16_t)(1 + m[1] % 4094), i % NQ);
		else
			vmdq_filter_add(dev, m, vlan, i % NQ);
	}
	vmdq_dev_batch_commit(dev);
	for (unsigned q = 0; q < NQ; q++) {
		vmdq_rxq_setup(dev, q, RING);
		for (unsigned i = 0; i < RING; i++) {
			struct vmdq_rxd d = { .buf = bufs[q][i], .buf_size = 256 + (i % 2) * 256 };
			vmdq_rxq_post(dev, q, &d, 1);
		}
	}
	/* frames: [caplen byte][len-extra byte][caplen bytes] ... each copied
	 * to its own heap block so ASan catches any read past caplen */
	struct vmdq_frame fr[VMDQ_MAX_BURST];
	uint8_t *blocks[VMDQ_MAX_BURST];
	unsigned n = 0;
	size_t off = 8;
	while (off + 2 <= size && n < VMDQ_MAX_BURST) {
		size_t cap = data[off];
		unsigned extra = data[off + 1];
		off += 2;
		if (cap > size - off)
			cap = size - off;
		blocks[n] = malloc(cap ? cap : 1);
		memcpy(blocks[n], data + off, cap);
		/* extra 0..127: len = cap + extra; 128..255: caplen > len */
		uint32_t len = extra < 128 ? (uint32_t)cap + extra
					   : (uint32_t)(cap > (extra - 127u) ? cap - (extra - 127u) : 0);
		fr[n] = (struct vmdq_frame){ .data = blocks[n], .caplen = (uint32_t)cap,
					     .len = len, .ts_ns = n };
		off += cap;
		n++;
	}
	struct vmdq_rx_result res[VMDQ_MAX_BURST];
	unsigned queued = vmdq_rx_burst(dev, fr, n, res);
	unsigned q_seen = 0;
	for (unsigned i = 0; i < n; i++) {
		if (res[i].drop == VMDQ_DROP_NONE) {
			check(res[i].queue >= 0 && res[i].queue < NQ);
			q_seen++;
		}
	}
	check(q_seen == queued);
	unsigned polled = 0;
	for (unsigned q = 0; q < NQ; q++) {
		struct vmdq_rxd d[RING];
		unsigned k = vmdq_rxq_poll(dev, q, d, RING);
		for (unsigned i = 0; i < k; i++) {
			check(d[i].len <= d[i].buf_size);
			check(d[i].queue == q);
		}
		polled += k;
	}
	check(polled == queued);
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(dev, &ds);
	uint64_t dropped = 0;
	for (unsigned d = 1; d < VMDQ_DROP__COUNT; d++)
		dropped += ds.drops[d];
	check(ds.frames_in == n && queued + dropped == n);
	for (unsigned i = 0; i < n; i++)
		free(blocks[i]);
	vmdq_dev_destroy(dev);
	return 0;
}
