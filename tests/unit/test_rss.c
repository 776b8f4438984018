/* SPDX-License-Identifier: MIT */
/* VMDq + RSS inside a pool (`queue Q rss N`): the flow hash is the
 * standard Toeplitz hash, a flow always lands on one queue of the pool,
 * and the spread is what the hash says. */
#include <errno.h>

#include "helpers.h"

/* An IPv4 frame to VM1 (tags: 0 or 1) with TCP (proto 6) or UDP ports. */
static void ip4(struct tframe *f, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
		uint16_t dport, uint8_t proto, int vlan)
{
	if (vlan)
		tagged(f, VM1, (uint16_t)vlan, 80);
	else
		untagged(f, VM1, 80);
	uint8_t *ip = f->b + 14 + (vlan ? 4 : 0);
	memset(ip, 0, 40);
	ip[0] = 0x45;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	ip[20] = (uint8_t)(sport >> 8);
	ip[21] = (uint8_t)sport;
	ip[22] = (uint8_t)(dport >> 8);
	ip[23] = (uint8_t)dport;
}

static void toeplitz_reference_values(void **s)
{
	(void)s;
	/* the verification values published with the RSS specification */
	static const uint8_t a[4] = { 66, 9, 149, 187 }, b[4] = { 161, 142, 100, 80 };
	struct tframe f;
	ip4(&f, a, b, 2794, 1766, 6, 0);
	assert_int_equal(vmdq_flow_hash(f.b, f.len), 0x51ccc178);
	ip4(&f, a, b, 2794, 1766, 1, 0); /* not TCP/UDP: addresses only */
	assert_int_equal(vmdq_flow_hash(f.b, f.len), 0x323e8fc2);
	ip4(&f, a, b, 2794, 1766, 6, 100); /* a VLAN tag changes nothing */
	assert_int_equal(vmdq_flow_hash(f.b, f.len), 0x51ccc178);
	f.b[14 + 4 + 6] = 0x20; /* more fragments: no ports */
	assert_int_equal(vmdq_flow_hash(f.b, f.len), 0x323e8fc2);
	/* cut short: only what it has is read (ASan) */
	ip4(&f, a, b, 2794, 1766, 6, 0);
	assert_int_equal(vmdq_flow_hash(f.b, 14 + 20), 0x323e8fc2);
	assert_int_equal(vmdq_flow_hash(f.b, 13), 0);
	/* IPv6: 3ffe:2501:200:1fff::7 -> 3ffe:2501:200:3::1, 2794 -> 1766 */
	untagged(&f, VM1, 80);
	f.b[12] = 0x86;
	f.b[13] = 0xdd;
	uint8_t *ip = f.b + 14;
	memset(ip, 0, 44);
	ip[0] = 0x60;
	ip[6] = 6;
	static const uint8_t s6[16] = { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff,
					0, 0, 0, 0, 0, 0, 0, 7 };
	static const uint8_t d6[16] = { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03,
					0, 0, 0, 0, 0, 0, 0, 1 };
	memcpy(ip + 8, s6, 16);
	memcpy(ip + 24, d6, 16);
	ip[40] = 2794 >> 8;
	ip[41] = 2794 & 255;
	ip[42] = 1766 >> 8;
	ip[43] = 1766 & 255;
	assert_int_equal(vmdq_flow_hash(f.b, f.len), 0x40207d3d);
}

static void pool_spreads_by_flow(void **s)
{
	(void)s;
	struct tdev t = tdev_new(64);
	vmdq_dev_set_vmdq(t.dev, true);
	assert_true(vmdq_filter_add(t.dev, MAC(VM1), 0, 4) > 0);
	assert_int_equal(vmdq_queue_set_rss(t.dev, 4, 4), 0);
	struct vmdq_queue_info qi;
	vmdq_queue_get_info(t.dev, 4, &qi);
	assert_int_equal(qi.rss, 4);
	unsigned want[4] = { 0 }, flows_seen[4] = { 0 };
	for (unsigned flow = 0; flow < 64; flow++) {
		/* one client, 64 connections: only the source port differs */
		const uint8_t src[4] = { 10, 0, 0, 2 }, dst[4] = { 10, 0, 1, 1 };
		struct tframe f;
		ip4(&f, src, dst, (uint16_t)(1000 + flow), 80, 17, 0);
		unsigned q = 4 + vmdq_flow_hash(f.b, f.len) % 4;
		flows_seen[q - 4]++;
		for (int k = 0; k < 3; k++) { /* every frame of a flow: one queue */
			struct vmdq_rx_result r = sort1(&t, &f);
			assert_int_equal(r.drop, VMDQ_DROP_NONE);
			assert_int_equal(r.queue, q);
			want[q - 4]++;
		}
	}
	for (unsigned i = 0; i < 4; i++) {
		struct vmdq_queue_stats st;
		vmdq_queue_stats(t.dev, 4 + i, &st);
		assert_int_equal(st.frames, want[i]);
		/* 64 flows, 4 queues: an even spread, give or take */
		assert_in_range(flows_seen[i], 8, 24);
	}
	/* off again: all to the filter's queue */
	assert_int_equal(vmdq_queue_set_rss(t.dev, 4, 1), 0);
	const uint8_t src[4] = { 10, 0, 0, 9 }, dst[4] = { 10, 0, 1, 1 };
	for (unsigned p = 0; p < 16; p++) {
		struct tframe f;
		ip4(&f, src, dst, (uint16_t)p, 80, 6, 0);
		assert_int_equal(sort1(&t, &f).queue, 4);
	}
	assert_conserved(t.dev);
	tdev_free(&t);
}

static void rss_limits(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_int_equal(vmdq_dev_set_queues(dev, 8), 0);
	assert_int_equal(vmdq_queue_set_rss(dev, 4, 5), -ERANGE); /* 4..8: no queue 8 */
	assert_int_equal(vmdq_queue_set_rss(dev, 4, 4), 0);
	assert_int_equal(vmdq_queue_set_rss(dev, 4, 0), -EINVAL);
	assert_int_equal(vmdq_queue_set_rss(dev, 4, VMDQ_MAX_RSS + 1), -EINVAL);
	assert_int_equal(vmdq_queue_set_rss(dev, 8, 1), -EINVAL);
	/* freeing the queue turns it off */
	assert_int_equal(vmdq_queue_alloc(dev, 2, 9), 2);
	assert_int_equal(vmdq_queue_set_rss(dev, 2, 2), 0);
	vmdq_queue_stop(dev, 2);
	assert_int_equal(vmdq_queue_free(dev, 2), 0);
	struct vmdq_queue_info qi;
	vmdq_queue_get_info(dev, 2, &qi);
	assert_int_equal(qi.rss, 1);
	/* the command language */
	struct vmdq_cmd c;
	char err[256];
	assert_int_equal(vmdq_cmd_parse("queue 1 rss 4", &c, err, sizeof(err)), 0);
	assert_int_equal(vmdq_cmd_apply(dev, &c, NULL, 0, err, sizeof(err)), 0);
	vmdq_queue_get_info(dev, 1, &qi);
	assert_int_equal(qi.rss, 4);
	assert_int_equal(vmdq_cmd_parse("queue 6 rss 4", &c, err, sizeof(err)), 0);
	assert_int_equal(vmdq_cmd_apply(dev, &c, NULL, 0, err, sizeof(err)), -ERANGE);
	assert_string_equal(err, "queue rss: queues 6..9 do not all exist (the device has 8 queues)");
	assert_true(vmdq_cmd_parse("queue 1 rss 0", &c, err, sizeof(err)) < 0);
	vmdq_dev_destroy(dev);
}

int main(void)
{
	vmdq_thread_online();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(toeplitz_reference_values),
		cmocka_unit_test(pool_spreads_by_flow),
		cmocka_unit_test(rss_limits),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
