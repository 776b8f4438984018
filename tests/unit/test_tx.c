/* SPDX-License-Identifier: MIT */
/* SPEC 1.5: the transmit arbiter. */
#include <errno.h>
#include "helpers.h"

static uint8_t data[2048];

static void post(struct vmdq_dev *dev, unsigned q, uint32_t len, uint64_t cookie)
{
	struct vmdq_txd d = { .data = data, .len = len, .caplen = len, .cookie = cookie };
	assert_int_equal(vmdq_txq_post(dev, q, &d, 1), 1);
}

static struct vmdq_dev *mkdev(enum vmdq_arbiter a)
{
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_int_equal(vmdq_dev_set_arbiter(dev, a), 0);
	for (unsigned q = 0; q < 8; q++)
		assert_int_equal(vmdq_txq_setup(dev, q, 64), 0);
	return dev;
}

/* Picks everything; writes queue numbers to out, checks per-queue order. */
static unsigned drain(struct vmdq_dev *dev, unsigned *out, unsigned max)
{
	struct vmdq_txd d;
	unsigned n = 0;
	uint64_t last[8] = { 0 };
	while (n < max && vmdq_tx_pick(dev, &d, 1) == 1) {
		assert_true(d.cookie > last[d.queue]); /* never reordered */
		last[d.queue] = d.cookie;
		out[n++] = d.queue;
	}
	return n;
}

static void rr_one_from_each_in_turn(void **s)
{
	(void)s;
	struct vmdq_dev *dev = mkdev(VMDQ_ARB_RR);
	for (uint64_t i = 1; i <= 3; i++)
		post(dev, 5, 64, i);
	post(dev, 2, 64, 1);
	post(dev, 7, 64, 1);
	post(dev, 7, 64, 2);
	unsigned got[16];
	assert_int_equal(drain(dev, got, 16), 6);
	const unsigned want[] = { 2, 5, 7, 5, 7, 5 };
	assert_memory_equal(got, want, sizeof(want));
	/* next round starts after the queue served last (5), not at 0 */
	post(dev, 1, 64, 10);
	post(dev, 6, 64, 10);
	assert_int_equal(drain(dev, got, 16), 2);
	assert_int_equal(got[0], 6);
	assert_int_equal(got[1], 1);
	vmdq_dev_destroy(dev);
}

static void drr_shares_bytes_by_weight(void **s)
{
	(void)s;
	struct vmdq_dev *dev = mkdev(VMDQ_ARB_DRR);
	assert_int_equal(vmdq_queue_set_weight(dev, 2, 2), 0);
	for (uint64_t i = 1; i <= 30; i++) {
		post(dev, 1, 1000, i);
		post(dev, 2, 1000, i);
	}
	unsigned got[64];
	assert_int_equal(drain(dev, got, 64), 60);
	const unsigned want[] = { 1, 2, 2, 2, 1, 1, 2, 2, 2 };
	assert_memory_equal(got, want, sizeof(want));
	unsigned q2 = 0;
	for (int i = 0; i < 30; i++)
		q2 += got[i] == 2;
	assert_int_equal(q2, 20); /* 2:1 while both are backlogged */
	vmdq_dev_destroy(dev);
}

static void drr_small_and_large_frames_fair_in_bytes(void **s)
{
	(void)s;
	struct vmdq_dev *dev = mkdev(VMDQ_ARB_DRR);
	for (uint64_t i = 1; i <= 40; i++)
		post(dev, 0, 1500, i);
	for (uint64_t i = 1; i <= 63; i++)
		post(dev, 3, 100, i);
	struct vmdq_txd d;
	uint64_t bytes[8] = { 0 };
	for (int i = 0; i < 40; i++) {
		assert_int_equal(vmdq_tx_pick(dev, &d, 1), 1);
		bytes[d.queue] += d.len;
	}
	/* rr would give 20 x 1500 vs 20 x 100; drr gives equal bytes */
	assert_true(bytes[0] >= 3000 && bytes[0] <= 4500);
	assert_true(bytes[3] >= 3000);
	vmdq_dev_destroy(dev);
}

static void fifo_posting_order(void **s)
{
	(void)s;
	struct vmdq_dev *dev = mkdev(VMDQ_ARB_FIFO);
	post(dev, 4, 64, 1);
	post(dev, 4, 64, 2);
	post(dev, 1, 64, 1);
	post(dev, 4, 64, 3);
	post(dev, 0, 64, 1);
	unsigned got[8];
	assert_int_equal(drain(dev, got, 8), 5);
	const unsigned want[] = { 4, 4, 1, 4, 0 };
	assert_memory_equal(got, want, sizeof(want));
	vmdq_dev_destroy(dev);
}

static void tx_ring_full_and_counters(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_int_equal(vmdq_txq_setup(dev, 0, 3), -EINVAL);
	assert_int_equal(vmdq_txq_setup(dev, 0, 2), 0);
	struct vmdq_txd d[3] = { { .data = data, .len = 100 }, { .data = data, .len = 200 },
				 { .data = data, .len = 300 } };
	assert_int_equal(vmdq_txq_post(dev, 0, d, 3), 2);
	assert_int_equal(vmdq_txq_pending(dev, 0), 2);
	struct vmdq_txd o[4];
	assert_int_equal(vmdq_tx_pick(dev, o, 4), 2);
	struct vmdq_queue_stats st;
	vmdq_queue_stats(dev, 0, &st);
	assert_int_equal(st.tx_frames, 2);
	assert_int_equal(st.tx_bytes, 300);
	assert_int_equal(vmdq_tx_pick(dev, o, 4), 0);
	vmdq_dev_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rr_one_from_each_in_turn),
		cmocka_unit_test(drr_shares_bytes_by_weight),
		cmocka_unit_test(drr_small_and_large_frames_fair_in_bytes),
		cmocka_unit_test(fifo_posting_order),
		cmocka_unit_test(tx_ring_full_and_counters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
