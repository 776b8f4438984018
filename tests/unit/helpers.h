/* SPDX-License-Identifier: MIT */
/* Shared helpers for the unit tests: frame building and a draining device. */
#ifndef VMDQ_TEST_HELPERS_H
#define VMDQ_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "vmdq/vmdq.h"

#define TQ 16       /* queues with rings in test devices */
#define TBUF 20000  /* buffer size: holds any test frame */

struct tframe {
	uint8_t b[TBUF];
	uint32_t len;
};

static inline void mac_from_u64(uint64_t v, uint8_t *m)
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		m[i] = (uint8_t)v;
}

/* Builds dst/src, optional tags (TPID, VID pairs; tpid 0 ends), ethertype
 * 0x0800, padded with a pattern to len bytes (FCS not included). */
static inline void build(struct tframe *f, uint64_t dst, uint32_t len, int ntags,
			 const uint16_t (*tags)[2])
{
	memset(f->b, 0, sizeof(f->b));
	mac_from_u64(dst, f->b);
	mac_from_u64(0x02aa00000001ull, f->b + 6);
	size_t o = 12;
	for (int i = 0; i < ntags; i++) {
		f->b[o++] = (uint8_t)(tags[i][0] >> 8);
		f->b[o++] = (uint8_t)tags[i][0];
		f->b[o++] = (uint8_t)(tags[i][1] >> 8);
		f->b[o++] = (uint8_t)tags[i][1];
	}
	f->b[o++] = 0x08;
	f->b[o++] = 0x00;
	for (size_t k = o; k < len; k++)
		f->b[k] = (uint8_t)k;
	f->len = len;
}

static inline void untagged(struct tframe *f, uint64_t dst, uint32_t len)
{
	build(f, dst, len, 0, NULL);
}

static inline void tagged(struct tframe *f, uint64_t dst, uint16_t vid, uint32_t len)
{
	const uint16_t t[1][2] = { { 0x8100, vid } };
	build(f, dst, len, 1, t);
}

/* Appends a correct (or, with bad, a wrong) FCS. */
static inline void add_fcs(struct tframe *f, int bad)
{
	uint32_t c = (uint32_t)crc32(0L, f->b, f->len);
	if (bad)
		c ^= 1;
	for (int i = 0; i < 4; i++)
		f->b[f->len + i] = (uint8_t)(c >> (8 * i));
	f->len += 4;
}

struct tdev {
	struct vmdq_dev *dev;
	uint8_t *mem;
};

/* A device whose first TQ queues each have `ring` descriptors, all posted. */
static inline struct tdev tdev_new(unsigned ring)
{
	struct tdev t = { vmdq_dev_create(), NULL };
	assert_non_null(t.dev);
	t.mem = malloc((size_t)TQ * ring * TBUF);
	assert_non_null(t.mem);
	for (unsigned q = 0; q < TQ; q++) {
		assert_int_equal(vmdq_rxq_setup(t.dev, q, ring), 0);
		for (unsigned i = 0; i < ring; i++) {
			struct vmdq_rxd d = { .buf = t.mem + ((size_t)q * ring + i) * TBUF,
					      .buf_size = TBUF };
			assert_int_equal(vmdq_rxq_post(t.dev, q, &d, 1), 1);
		}
	}
	return t;
}

static inline void tdev_free(struct tdev *t)
{
	vmdq_dev_destroy(t->dev);
	free(t->mem);
}

/* Sorts one frame (caplen = len unless cap given) and returns the outcome;
 * a queued frame is polled back and its buffer re-posted, and *out gets
 * its descriptor. */
static inline struct vmdq_rx_result sort_cap(struct tdev *t, const struct tframe *f,
					     uint32_t cap, struct vmdq_rxd *out)
{
	struct vmdq_frame fr = { .data = f->b, .caplen = cap, .len = f->len, .ts_ns = 42 };
	struct vmdq_rx_result r;
	memset(&r, 0xff, sizeof(r));
	unsigned queued = vmdq_rx_burst(t->dev, &fr, 1, &r);
	assert_int_equal(queued, r.drop == VMDQ_DROP_NONE ? 1 : 0);
	if (r.drop == VMDQ_DROP_NONE) {
		struct vmdq_rxd d;
		assert_int_equal(vmdq_rxq_poll(t->dev, (unsigned)r.queue, &d, 1), 1);
		assert_int_equal(vmdq_rxq_post(t->dev, (unsigned)r.queue, &d, 1), 1);
		if (out)
			*out = d;
	}
	return r;
}

static inline struct vmdq_rx_result sort1(struct tdev *t, const struct tframe *f)
{
	return sort_cap(t, f, f->len, NULL);
}

/* frames in == queued + missed + dropped */
static inline void assert_conserved(struct vmdq_dev *dev)
{
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(dev, &ds);
	uint64_t acc = 0;
	for (unsigned q = 0; q < VMDQ_MAX_QUEUES; q++) {
		struct vmdq_queue_stats s;
		vmdq_queue_stats(dev, q, &s);
		acc += s.frames;
	}
	for (unsigned d = VMDQ_DROP_FILTERED; d < VMDQ_DROP__COUNT; d++)
		acc += ds.drops[d];
	assert_int_equal(acc, ds.frames_in);
}

#define MAC(x) ((const uint8_t *)(uint8_t[6]){ (uint8_t)((uint64_t)(x) >> 40), (uint8_t)((uint64_t)(x) >> 32), \
	(uint8_t)((uint64_t)(x) >> 24), (uint8_t)((uint64_t)(x) >> 16), (uint8_t)((uint64_t)(x) >> 8), (uint8_t)(x) })

#define VM1 0x020000000001ull
#define VM2 0x020000000002ull
#define VM3 0x020000000003ull
#define OTHER 0x020000000099ull
#define BCAST 0xffffffffffffull
#define MCAST 0x01005e0000fbull

#endif
