/* SPDX-License-Identifier: MIT */
/* SPEC 5 in the device: a super-frame is sorted and placed as one frame, its
 * oversize check is on the segments it stands for, and its offload state
 * travels with it through RX descriptors and TX queues. */
#include <stdlib.h>

#include "helpers.h"

#define BIG 70000u

static uint8_t *frame_of(uint64_t dst, uint32_t len, bool tag, uint16_t vid)
{
	uint8_t *b = calloc(1, BIG);
	assert_non_null(b);
	mac_from_u64(dst, b);
	mac_from_u64(0x02aa00000001ull, b + 6);
	uint32_t o = 12;
	if (tag) {
		b[o++] = 0x81;
		b[o++] = 0x00;
		b[o++] = (uint8_t)(vid >> 8);
		b[o++] = (uint8_t)vid;
	}
	b[o++] = 0x08;
	b[o++] = 0x00;
	for (uint32_t i = o; i < len; i++)
		b[i] = (uint8_t)(i * 7);
	return b;
}

struct rig {
	struct vmdq_dev *dev;
	uint8_t *mem;
	uint32_t bufsz;
};

/* VM1 on queue 1 (4 buffers of bufsz), max-frame 1518 */
static void rig_up(struct rig *r, uint32_t bufsz, bool strip)
{
	r->dev = vmdq_dev_create();
	assert_non_null(r->dev);
	r->bufsz = bufsz;
	assert_int_equal(vmdq_dev_set_vmdq(r->dev, true), 0);
	assert_true(vmdq_filter_add(r->dev, MAC(VM1), 0, 1) > 0);
	assert_int_equal(vmdq_rxq_setup(r->dev, 1, 4), 0);
	if (strip)
		assert_int_equal(vmdq_queue_set_vlan_strip(r->dev, 1, true), 0);
	r->mem = calloc(4, bufsz);
	assert_non_null(r->mem);
	for (unsigned i = 0; i < 4; i++) {
		struct vmdq_rxd d = { .buf = r->mem + (size_t)i * bufsz, .buf_size = bufsz };
		assert_int_equal(vmdq_rxq_post(r->dev, 1, &d, 1), 1);
	}
}

static void rig_down(struct rig *r)
{
	vmdq_dev_destroy(r->dev);
	free(r->mem);
}

static struct vmdq_rx_result offer(struct rig *r, const uint8_t *b, uint32_t len,
				   struct vmdq_offload off)
{
	struct vmdq_frame f = { .data = b, .caplen = len, .len = len, .off = off };
	struct vmdq_rx_result res;
	vmdq_rx_burst(r->dev, &f, 1, &res);
	return res;
}

static const struct vmdq_offload TSO4 = {
	.flags = VMDQ_OFF_CSUM_PARTIAL, .gso_type = VMDQ_GSO_TCPV4, .gso_size = 1448,
	.hdr_len = 66, .csum_start = 34, .csum_offset = 16,
};

static void superframe_placed_whole(void **s)
{
	(void)s;
	struct rig r;
	rig_up(&r, BIG, false);
	uint8_t *b = frame_of(VM1, 65000, false, 0);
	struct vmdq_rx_result res = offer(&r, b, 65000, TSO4);
	assert_int_equal(res.drop, VMDQ_DROP_NONE);
	assert_int_equal(res.queue, 1);
	struct vmdq_rxd d[4];
	assert_int_equal(vmdq_rxq_poll(r.dev, 1, d, 4), 1);
	assert_int_equal(d[0].len, 65000);
	assert_memory_equal(d[0].buf, b, 65000);
	assert_int_equal(d[0].flags & VMDQ_RXD_OFFLOAD, VMDQ_RXD_OFFLOAD);
	assert_int_equal(d[0].off.gso_type, VMDQ_GSO_TCPV4);
	assert_int_equal(d[0].off.gso_size, 1448);
	assert_int_equal(d[0].off.hdr_len, 66);
	assert_int_equal(d[0].off.csum_start, 34);
	assert_int_equal(d[0].off.csum_offset, 16);
	assert_int_equal(d[0].off.flags, VMDQ_OFF_CSUM_PARTIAL);
	struct vmdq_queue_stats qs;
	vmdq_queue_stats(r.dev, 1, &qs);
	assert_int_equal(qs.frames, 1);
	assert_int_equal(qs.bytes, 65000);
	free(b);
	rig_down(&r);
}

/* the oversize rule: segments (hdr_len + gso_size) against max-frame, the
 * whole against VMDQ_MAX_SUPER, an ordinary frame against max-frame */
static void oversize_is_judged_by_segments(void **s)
{
	(void)s;
	struct rig r;
	rig_up(&r, BIG, false);
	uint8_t *b = frame_of(VM1, BIG, false, 0);
	struct vmdq_offload none = { 0 };
	assert_int_equal(offer(&r, b, 9000, none).drop, VMDQ_DROP_OVERSIZE);
	struct vmdq_offload big = TSO4;
	big.gso_size = 1453; /* 66 + 1453 = 1519 > 1518 */
	assert_int_equal(offer(&r, b, 9000, big).drop, VMDQ_DROP_OVERSIZE);
	big.gso_size = 1452; /* exactly 1518 */
	assert_int_equal(offer(&r, b, 9000, big).drop, VMDQ_DROP_NONE);
	assert_int_equal(offer(&r, b, VMDQ_MAX_SUPER, TSO4).drop, VMDQ_DROP_NONE);
	assert_int_equal(offer(&r, b, VMDQ_MAX_SUPER + 1, TSO4).drop, VMDQ_DROP_OVERSIZE);
	/* GSO with no segment size says nothing about segments */
	struct vmdq_offload zero = TSO4;
	zero.gso_size = 0;
	assert_int_equal(offer(&r, b, 9000, zero).drop, VMDQ_DROP_OVERSIZE);
	/* checksum offload alone does not excuse a length */
	struct vmdq_offload csum = { .flags = VMDQ_OFF_CSUM_PARTIAL, .csum_start = 34,
				     .csum_offset = 16 };
	assert_int_equal(offer(&r, b, 1519, csum).drop, VMDQ_DROP_OVERSIZE);
	assert_int_equal(offer(&r, b, 1518, csum).drop, VMDQ_DROP_NONE);
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(r.dev, &ds);
	assert_int_equal(ds.frames_in, 8);
	assert_int_equal(ds.drops[VMDQ_DROP_OVERSIZE], 5);
	struct vmdq_queue_stats qs;
	vmdq_queue_stats(r.dev, 1, &qs);
	assert_int_equal(qs.frames, 3);
	assert_int_equal(qs.missed, 0);
	free(b);
	rig_down(&r);
}

/* a super-frame larger than the buffer posted is missed, and counted */
static void small_buffer_misses_superframe(void **s)
{
	(void)s;
	struct rig r;
	rig_up(&r, 2048, false);
	uint8_t *b = frame_of(VM1, 9000, false, 0);
	assert_int_equal(offer(&r, b, 9000, TSO4).drop, VMDQ_DROP_MISSED);
	assert_int_equal(offer(&r, b, 1500, TSO4).drop, VMDQ_DROP_NONE);
	struct vmdq_offload none = { 0 };
	assert_int_equal(offer(&r, b, 1000, none).drop, VMDQ_DROP_NONE);
	struct vmdq_rxd d[4];
	assert_int_equal(vmdq_rxq_poll(r.dev, 1, d, 4), 2);
	assert_int_equal(d[0].flags & VMDQ_RXD_OFFLOAD, VMDQ_RXD_OFFLOAD);
	assert_int_equal(d[1].flags & VMDQ_RXD_OFFLOAD, 0); /* an ordinary frame */
	struct vmdq_queue_stats qs;
	vmdq_queue_stats(r.dev, 1, &qs);
	assert_int_equal(qs.frames, 2);
	assert_int_equal(qs.missed, 1);
	free(b);
	rig_down(&r);
}

/* a stripped tag moves the offsets with the bytes */
static void stripped_tag_moves_offsets(void **s)
{
	(void)s;
	struct rig r;
	rig_up(&r, BIG, true);
	assert_true(vmdq_filter_add(r.dev, MAC(VM1), 10, 1) > 0);
	uint8_t *b = frame_of(VM1, 20000, true, 10);
	struct vmdq_offload o = TSO4;
	o.hdr_len = 70;
	o.csum_start = 38;
	assert_int_equal(offer(&r, b, 20000, o).drop, VMDQ_DROP_NONE);
	struct vmdq_rxd d[1];
	assert_int_equal(vmdq_rxq_poll(r.dev, 1, d, 1), 1);
	assert_true(d[0].flags & VMDQ_RXD_STRIPPED);
	assert_true(d[0].flags & VMDQ_RXD_OFFLOAD);
	assert_int_equal(d[0].len, 19996);
	assert_int_equal(d[0].off.hdr_len, 66);
	assert_int_equal(d[0].off.csum_start, 34);
	assert_int_equal(d[0].off.csum_offset, 16);
	assert_int_equal(d[0].off.gso_size, 1448);
	assert_memory_equal(d[0].buf + 12, b + 16, 19996 - 12);
	free(b);
	rig_down(&r);
}

/* transmit queues carry the offload state from post to the arbiter */
static void tx_carries_offload(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_int_equal(vmdq_txq_setup(dev, 1, 8), 0);
	uint8_t *b = frame_of(VM2, 30000, false, 0);
	struct vmdq_txd t = { .data = b, .len = 30000, .caplen = 30000, .off = TSO4 };
	assert_int_equal(vmdq_txq_post(dev, 1, &t, 1), 1);
	struct vmdq_txd out[2];
	assert_int_equal(vmdq_tx_pick(dev, out, 2), 1);
	assert_ptr_equal(out[0].data, b);
	assert_int_equal(out[0].len, 30000);
	assert_int_equal(out[0].off.gso_type, VMDQ_GSO_TCPV4);
	assert_int_equal(out[0].off.gso_size, 1448);
	assert_int_equal(out[0].off.csum_start, 34);
	assert_int_equal(out[0].queue, 1);
	free(b);
	vmdq_dev_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(superframe_placed_whole),
		cmocka_unit_test(oversize_is_judged_by_segments),
		cmocka_unit_test(small_buffer_misses_superframe),
		cmocka_unit_test(stripped_tag_moves_offsets),
		cmocka_unit_test(tx_carries_offload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
