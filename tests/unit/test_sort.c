/* SPDX-License-Identifier: MIT */
/* SPEC 1, 1.1-1.3: modes, acceptance, filters and their order, errors. */
#include <errno.h>
#include "helpers.h"

static struct tdev T;
static struct tframe F;

static int setup(void **s)
{
	(void)s;
	T = tdev_new(8);
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	assert_conserved(T.dev);
	tdev_free(&T);
	return 0;
}

static void vmdq_on(void)
{
	assert_int_equal(vmdq_dev_set_vmdq(T.dev, true), 0);
}

/* ---- modes (SPEC 1, WP 3.3) ---- */

static void nonvmdq_accepted_go_to_queue0(void **s)
{
	(void)s;
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 0, 3) > 0);
	untagged(&F, VM1, 64);
	struct vmdq_rx_result r = sort1(&T, &F);
	assert_int_equal(r.queue, 0); /* filter accepts, but does not choose */
	assert_false(r.match);
	untagged(&F, OTHER, 64);
	r = sort1(&T, &F);
	assert_int_equal(r.drop, VMDQ_DROP_FILTERED);
	untagged(&F, BCAST, 64);
	assert_int_equal(sort1(&T, &F).queue, 0);
}

static void nonvmdq_ignores_default_queue(void **s)
{
	(void)s;
	assert_int_equal(vmdq_dev_set_default_queue(T.dev, 5), 0);
	untagged(&F, BCAST, 64);
	assert_int_equal(sort1(&T, &F).queue, 0);
	vmdq_on();
	assert_int_equal(sort1(&T, &F).queue, 5);
}

/* ---- acceptance (SPEC 1.2) ---- */

static void broadcast_default_queue_even_with_vlan_filter(void **s)
{
	(void)s;
	vmdq_on();
	assert_true(vmdq_filter_add(T.dev, NULL, 100, 4) > 0);
	tagged(&F, BCAST, 100, 64);
	struct vmdq_rx_result r = sort1(&T, &F);
	assert_int_equal(r.queue, 0);
	assert_false(r.match);
	assert_int_equal(r.filter_id, 0);
}

static void broadcast_off_drops_even_promisc(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_broadcast(T.dev, false);
	vmdq_dev_set_promisc(T.dev, true);
	untagged(&F, BCAST, 64);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_FILTERED);
}

static void multicast_rules(void **s)
{
	(void)s;
	vmdq_on();
	untagged(&F, MCAST, 64);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_FILTERED);
	vmdq_dev_set_allmulti(T.dev, true);
	assert_int_equal(sort1(&T, &F).queue, 0);
	vmdq_dev_set_allmulti(T.dev, false);
	vmdq_dev_set_promisc(T.dev, true);
	assert_int_equal(sort1(&T, &F).queue, 0);
	int64_t id = vmdq_filter_add(T.dev, MAC(MCAST), 0, 6);
	struct vmdq_rx_result r = sort1(&T, &F);
	assert_int_equal(r.queue, 6);
	assert_true(r.match);
	assert_int_equal(r.filter_id, id);
}

static void multicast_ignores_vlan_filters(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_allmulti(T.dev, true);
	assert_true(vmdq_filter_add(T.dev, NULL, 100, 4) > 0);
	tagged(&F, MCAST, 100, 64);
	assert_int_equal(sort1(&T, &F).queue, 0);
}

static void unicast_own_address_and_promisc(void **s)
{
	(void)s;
	vmdq_on();
	untagged(&F, OTHER, 64);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_FILTERED);
	assert_int_equal(vmdq_dev_set_mac(T.dev, MAC(OTHER)), 0);
	assert_int_equal(sort1(&T, &F).queue, 0);
	untagged(&F, VM2, 64);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_FILTERED);
	vmdq_dev_set_promisc(T.dev, true);
	struct vmdq_rx_result r = sort1(&T, &F);
	assert_int_equal(r.queue, 0);
	assert_false(r.match);
}

static void filters_apply_in_promisc(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_promisc(T.dev, true);
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 0, 2) > 0);
	untagged(&F, VM1, 64);
	assert_int_equal(sort1(&T, &F).queue, 2);
}

/* ---- filter order (SPEC 1.2) ---- */

static void pair_then_mac_then_vlan(void **s)
{
	(void)s;
	vmdq_on();
	int64_t vf = vmdq_filter_add(T.dev, NULL, 100, 3);
	int64_t mf = vmdq_filter_add(T.dev, MAC(VM1), 0, 2);
	int64_t pf = vmdq_filter_add(T.dev, MAC(VM1), 100, 1);
	assert_true(vf > 0 && mf > vf && pf > mf);
	tagged(&F, VM1, 100, 64);
	struct vmdq_rx_result r = sort1(&T, &F);
	assert_int_equal(r.queue, 1);
	assert_int_equal(r.filter_id, pf);
	tagged(&F, VM1, 200, 64); /* other VLAN: MAC filter */
	r = sort1(&T, &F);
	assert_int_equal(r.queue, 2);
	assert_int_equal(r.filter_id, mf);
	tagged(&F, VM2, 100, 64); /* other MAC on VLAN 100: VLAN filter */
	r = sort1(&T, &F);
	assert_int_equal(r.queue, 3);
	assert_int_equal(r.filter_id, vf);
	untagged(&F, VM1, 64); /* untagged: pair cannot match */
	assert_int_equal(sort1(&T, &F).filter_id, mf);
}

static void pair_tells_same_mac_on_two_vlans_apart(void **s)
{
	(void)s;
	vmdq_on();
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 10, 1) > 0);
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 20, 2) > 0);
	tagged(&F, VM1, 10, 64);
	assert_int_equal(sort1(&T, &F).queue, 1);
	tagged(&F, VM1, 20, 64);
	assert_int_equal(sort1(&T, &F).queue, 2);
	untagged(&F, VM1, 64);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_FILTERED);
}

static void vlan_filter_only_for_tagged(void **s)
{
	(void)s;
	vmdq_on();
	assert_true(vmdq_filter_add(T.dev, NULL, 100, 3) > 0);
	untagged(&F, VM2, 64);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_FILTERED);
}

static void vid0_is_untagged(void **s)
{
	(void)s;
	vmdq_on();
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 0, 2) > 0);
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 5, 4) > 0);
	tagged(&F, VM1, 0, 64); /* priority tag */
	struct vmdq_rxd d = { 0 };
	struct vmdq_rx_result r = sort_cap(&T, &F, F.len, &d);
	assert_int_equal(r.queue, 2);
	assert_int_equal(d.vlan, 0);
}

static void qinq_outermost_tag_counts(void **s)
{
	(void)s;
	vmdq_on();
	assert_true(vmdq_filter_add(T.dev, NULL, 300, 5) > 0);
	assert_true(vmdq_filter_add(T.dev, NULL, 7, 6) > 0);
	const uint16_t t[2][2] = { { 0x88a8, 300 }, { 0x8100, 7 } };
	build(&F, VM2, 68, 2, t);
	struct vmdq_rxd d = { 0 };
	assert_int_equal(sort_cap(&T, &F, F.len, &d).queue, 5);
	assert_int_equal(d.vlan, 300);
	assert_true(d.flags & VMDQ_RXD_TAGGED);
	const uint16_t u[2][2] = { { 0x8100, 7 }, { 0x8100, 300 } }; /* 802.1Q outer too */
	build(&F, VM2, 68, 2, u);
	assert_int_equal(sort1(&T, &F).queue, 6);
}

static void default_queue_is_any_queue(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_promisc(T.dev, true);
	assert_int_equal(vmdq_dev_set_default_queue(T.dev, 9), 0);
	untagged(&F, OTHER, 64);
	assert_int_equal(sort1(&T, &F).queue, 9);
	assert_int_equal(vmdq_dev_set_default_queue(T.dev, 16), -EINVAL);
}

/* ---- errors (SPEC 1.1) ---- */

static void runt_sizes(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_promisc(T.dev, true);
	untagged(&F, OTHER, 13);
	struct vmdq_rx_result r = sort1(&T, &F);
	assert_int_equal(r.drop, VMDQ_DROP_RUNT);
	assert_int_equal(r.errors, VMDQ_ERR_RUNT);
	untagged(&F, OTHER, 14);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_NONE);
	tagged(&F, OTHER, 5, 17);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_RUNT);
	tagged(&F, OTHER, 5, 18);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_NONE);
	/* the reported length counts, not the captured bytes */
	untagged(&F, OTHER, 64);
	r = sort_cap(&T, &F, 10, NULL);
	assert_int_equal(r.drop, VMDQ_DROP_TRUNCATED);
	assert_int_equal(r.errors, VMDQ_ERR_TRUNCATED);
}

static void oversize_limit_and_tags(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_promisc(T.dev, true);
	untagged(&F, OTHER, 1518);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_NONE);
	untagged(&F, OTHER, 1519);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_OVERSIZE);
	tagged(&F, OTHER, 5, 1522);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_NONE);
	tagged(&F, OTHER, 5, 1523);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_OVERSIZE);
	const uint16_t t[2][2] = { { 0x88a8, 1 }, { 0x8100, 2 } };
	build(&F, OTHER, 1526, 2, t);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_NONE);
	build(&F, OTHER, 1527, 2, t);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_OVERSIZE);
	assert_int_equal(vmdq_dev_set_max_frame(T.dev, 9000), 0);
	untagged(&F, OTHER, 9000);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_NONE);
	assert_int_equal(vmdq_dev_set_max_frame(T.dev, 59), -EINVAL);
	assert_int_equal(vmdq_dev_set_max_frame(T.dev, 16385), -EINVAL);
}

static void fcs_checked_and_stripped(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_promisc(T.dev, true);
	vmdq_dev_set_fcs(T.dev, true);
	untagged(&F, OTHER, 100);
	add_fcs(&F, 0);
	struct vmdq_rxd d = { 0 };
	struct vmdq_rx_result r = sort_cap(&T, &F, F.len, &d);
	assert_int_equal(r.drop, VMDQ_DROP_NONE);
	assert_int_equal(d.len, 100);
	assert_int_equal(d.wire_len, 100);
	untagged(&F, OTHER, 100);
	add_fcs(&F, 1);
	r = sort1(&T, &F);
	assert_int_equal(r.drop, VMDQ_DROP_CRC);
	assert_int_equal(r.errors, VMDQ_ERR_CRC);
	/* 1518 + FCS is not oversize: FCS excluded */
	untagged(&F, OTHER, 1518);
	add_fcs(&F, 0);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_NONE);
	struct vmdq_queue_stats qs;
	vmdq_queue_stats(T.dev, 0, &qs);
	assert_int_equal(qs.bytes, 100 + 1518); /* bytes as delivered */
}

static void crc_not_checked_without_fcs(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_promisc(T.dev, true);
	untagged(&F, OTHER, 100);
	add_fcs(&F, 1);
	struct vmdq_rxd d = { 0 };
	assert_int_equal(sort_cap(&T, &F, F.len, &d).drop, VMDQ_DROP_NONE);
	assert_int_equal(d.len, 104);
}

static void several_errors_counted_once_in_order(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_promisc(T.dev, true);
	vmdq_dev_set_fcs(T.dev, true);
	/* oversize + crc: counted as oversize */
	untagged(&F, OTHER, 2000);
	add_fcs(&F, 1);
	struct vmdq_rx_result r = sort1(&T, &F);
	assert_int_equal(r.drop, VMDQ_DROP_OVERSIZE);
	assert_int_equal(r.errors, VMDQ_ERR_OVERSIZE | VMDQ_ERR_CRC);
	/* truncated + oversize: truncated first */
	untagged(&F, OTHER, 2000);
	r = sort_cap(&T, &F, 100, NULL);
	assert_int_equal(r.drop, VMDQ_DROP_TRUNCATED);
	assert_int_equal(r.errors, VMDQ_ERR_TRUNCATED | VMDQ_ERR_OVERSIZE);
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(T.dev, &ds);
	assert_int_equal(ds.drops[VMDQ_DROP_OVERSIZE], 1);
	assert_int_equal(ds.drops[VMDQ_DROP_TRUNCATED], 1);
	assert_int_equal(ds.drops[VMDQ_DROP_CRC], 0);
}

static void store_bad_delivers_with_error_bits(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_store_bad(T.dev, true);
	vmdq_dev_set_fcs(T.dev, true);
	int64_t id = vmdq_filter_add(T.dev, MAC(VM1), 0, 4);
	untagged(&F, VM1, 100);
	add_fcs(&F, 1);
	struct vmdq_rxd d = { 0 };
	struct vmdq_rx_result r = sort_cap(&T, &F, F.len, &d);
	assert_int_equal(r.queue, 4); /* sorted like a good frame */
	assert_int_equal(r.filter_id, id);
	assert_int_equal(d.flags & VMDQ_ERR_MASK, VMDQ_ERR_CRC);
	assert_true(d.flags & VMDQ_RXD_MATCH);
	/* a runt goes to the default queue */
	untagged(&F, VM1, 12);
	r = sort_cap(&T, &F, F.len, &d);
	assert_int_equal(r.queue, 0);
	assert_false(r.match);
	assert_true(d.flags & VMDQ_ERR_RUNT);
	/* truncated, header readable: sorted */
	untagged(&F, VM1, 300);
	r = sort_cap(&T, &F, 50, &d);
	assert_int_equal(r.queue, 4);
	assert_int_equal(d.len, 50);
	assert_true(d.flags & VMDQ_ERR_TRUNCATED);
	/* a bad frame that fails acceptance is still filtered */
	untagged(&F, OTHER, 2000);
	add_fcs(&F, 0);
	assert_int_equal(sort1(&T, &F).drop, VMDQ_DROP_FILTERED);
	struct vmdq_queue_stats qs;
	vmdq_queue_stats(T.dev, 4, &qs);
	assert_int_equal(qs.errors, 2);
	assert_int_equal(qs.frames, 2);
}

static void match_indicator_and_descriptor(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_promisc(T.dev, true);
	int64_t id = vmdq_filter_add(T.dev, MAC(VM2), 0, 7);
	untagged(&F, VM2, 80);
	struct vmdq_rxd d = { 0 };
	sort_cap(&T, &F, F.len, &d);
	assert_true(d.flags & VMDQ_RXD_MATCH);
	assert_int_equal(d.filter_id, id);
	assert_int_equal(d.queue, 7);
	assert_int_equal(d.len, 80);
	assert_int_equal(d.ts_ns, 42);
	assert_memory_equal(d.buf, F.b, 80);
	untagged(&F, OTHER, 80);
	sort_cap(&T, &F, F.len, &d);
	assert_false(d.flags & VMDQ_RXD_MATCH);
	assert_int_equal(d.filter_id, 0);
}

/* ---- filters: ids, errors, profiles (SPEC 1, 1.2, 1.3) ---- */

static void ids_never_reused(void **s)
{
	(void)s;
	int64_t a = vmdq_filter_add(T.dev, MAC(VM1), 0, 1);
	int64_t b = vmdq_filter_add(T.dev, MAC(VM2), 0, 1);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(vmdq_filter_del(T.dev, (uint32_t)b), 0);
	assert_int_equal(vmdq_filter_add(T.dev, MAC(VM2), 0, 1), 3);
	assert_int_equal(vmdq_filter_del(T.dev, (uint32_t)b), -ENOENT);
	/* a failed add does not consume an id */
	assert_int_equal(vmdq_filter_add(T.dev, MAC(VM2), 0, 1), -EEXIST);
	assert_int_equal(vmdq_filter_add(T.dev, MAC(VM3), 0, 1), 4);
}

static void filter_errors(void **s)
{
	(void)s;
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 0, 1) > 0);
	assert_int_equal(vmdq_filter_add(T.dev, MAC(VM1), 0, 2), -EEXIST);
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 9, 2) > 0); /* pair differs */
	assert_int_equal(vmdq_filter_add(T.dev, MAC(VM1), 9, 3), -EEXIST);
	assert_true(vmdq_filter_add(T.dev, NULL, 9, 2) > 0);
	assert_int_equal(vmdq_filter_add(T.dev, NULL, 9, 3), -EEXIST);
	assert_int_equal(vmdq_filter_add(T.dev, MAC(VM2), 0, 16), -EINVAL);
	assert_int_equal(vmdq_filter_add(T.dev, NULL, 0, 1), -EINVAL);
	assert_int_equal(vmdq_filter_add(T.dev, NULL, 4095, 1), -EINVAL);
	assert_int_equal(vmdq_filter_add(T.dev, MAC(VM2), 4095, 1), -EINVAL);
	assert_int_equal(vmdq_filter_add(T.dev, MAC(BCAST), 0, 1), -EINVAL);
	assert_int_equal(vmdq_filter_add(T.dev, MAC(0), 0, 1), -EINVAL);
	assert_int_equal(vmdq_filter_del(T.dev, 999), -ENOENT);
	struct vmdq_filter fl[8];
	assert_int_equal(vmdq_filter_list(T.dev, fl, 8), 3);
	assert_int_equal(fl[1].kind, VMDQ_FILTER_PAIR);
	assert_int_equal(fl[2].kind, VMDQ_FILTER_VLAN);
}

static void profile_limits_are_hard(void **s)
{
	(void)s;
	static const struct { enum vmdq_profile p; unsigned q, mac, vlan; } pr[] = {
		{ VMDQ_PROFILE_82575, 4, 16, 32 }, { VMDQ_PROFILE_82598, 16, 16, 64 },
		{ VMDQ_PROFILE_82576, 16, 24, 32 }, { VMDQ_PROFILE_82599, 64, 128, 64 },
	};
	for (size_t i = 0; i < 4; i++) {
		struct vmdq_dev *d = vmdq_dev_create();
		assert_int_equal(vmdq_dev_set_profile(d, pr[i].p), 0);
		struct vmdq_dev_config c;
		vmdq_dev_get_config(d, &c);
		assert_int_equal(c.queues, pr[i].q);
		assert_int_equal(vmdq_dev_set_queues(d, pr[i].q + 1), -EINVAL);
		for (unsigned k = 0; k < pr[i].mac; k++) {
			/* half MAC filters, half pair filters: one shared table */
			int64_t id = vmdq_filter_add(d, MAC(0x020000100000ull + k), k % 2 ? 7 : 0, 0);
			assert_true(id > 0);
		}
		assert_int_equal(vmdq_filter_add(d, MAC(0x020000200000ull), 0, 0), -ENOSPC);
		assert_int_equal(vmdq_filter_add(d, MAC(0x020000200000ull), 3, 0), -ENOSPC);
		for (unsigned k = 0; k < pr[i].vlan; k++)
			assert_true(vmdq_filter_add(d, NULL, (uint16_t)(k + 1), 0) > 0);
		assert_int_equal(vmdq_filter_add(d, NULL, 4000, 0), -ENOSPC);
		struct vmdq_filter fl[256];
		assert_int_equal(vmdq_filter_list(d, fl, 256), pr[i].mac + pr[i].vlan);
		/* a profile whose tables the filters do not fit is refused */
		if (pr[i].p == VMDQ_PROFILE_82599)
			assert_int_equal(vmdq_dev_set_profile(d, VMDQ_PROFILE_82575), -ENOSPC);
		vmdq_dev_destroy(d);
	}
	struct vmdq_dev *d = vmdq_dev_create();
	struct vmdq_dev_config c;
	vmdq_dev_get_config(d, &c);
	assert_int_equal(c.queues, 16);
	assert_int_equal(vmdq_dev_set_queues(d, 4096), 0);
	assert_int_equal(vmdq_dev_set_queues(d, 4097), -EINVAL);
	vmdq_dev_batch_begin(d);
	for (unsigned k = 0; k < VMDQ_SOFT_MAX_FILTERS; k++)
		assert_true(vmdq_filter_add(d, MAC(0x020000000000ull + k + 1), 0, k % 4096) > 0);
	vmdq_dev_batch_commit(d);
	assert_int_equal(vmdq_filter_add(d, NULL, 5, 0), -ENOSPC);
	vmdq_dev_destroy(d);
}

static void queue_count_guards_filters(void **s)
{
	(void)s;
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 0, 10) > 0);
	assert_int_equal(vmdq_dev_set_queues(T.dev, 8), -EBUSY);
	assert_int_equal(vmdq_dev_set_profile(T.dev, VMDQ_PROFILE_82575), -EBUSY);
	assert_int_equal(vmdq_dev_set_queues(T.dev, 11), 0);
}

static void filter_del_takes_effect(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_promisc(T.dev, true);
	int64_t id = vmdq_filter_add(T.dev, MAC(VM1), 0, 3);
	untagged(&F, VM1, 64);
	assert_int_equal(sort1(&T, &F).queue, 3);
	assert_int_equal(vmdq_filter_del(T.dev, (uint32_t)id), 0);
	assert_int_equal(sort1(&T, &F).queue, 0);
}

static void conservation_over_mixed_traffic(void **s)
{
	(void)s;
	vmdq_on();
	vmdq_dev_set_fcs(T.dev, true);
	assert_true(vmdq_filter_add(T.dev, MAC(VM1), 0, 1) > 0);
	assert_true(vmdq_filter_add(T.dev, NULL, 100, 2) > 0);
	/* a burst of 40 mixed frames, some of each fate */
	static struct tframe fr[40];
	struct vmdq_frame in[40];
	for (int i = 0; i < 40; i++) {
		switch (i % 5) {
		case 0: untagged(&fr[i], VM1, 64); add_fcs(&fr[i], 0); break;
		case 1: tagged(&fr[i], VM2, 100, 64); add_fcs(&fr[i], 0); break;
		case 2: untagged(&fr[i], OTHER, 64); add_fcs(&fr[i], 0); break;
		case 3: untagged(&fr[i], VM1, 64); add_fcs(&fr[i], 1); break;
		default: untagged(&fr[i], VM1, 8); break;
		}
		in[i] = (struct vmdq_frame){ .data = fr[i].b, .caplen = fr[i].len, .len = fr[i].len };
	}
	struct vmdq_rx_result r[40];
	/* queue 1 has 8 posted buffers: exactly 8 frames fit */
	assert_int_equal(vmdq_rx_burst(T.dev, in, 40, r), 16);
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(T.dev, &ds);
	assert_int_equal(ds.frames_in, 40);
	assert_int_equal(ds.drops[VMDQ_DROP_FILTERED], 8);
	assert_int_equal(ds.drops[VMDQ_DROP_CRC], 8);
	assert_int_equal(ds.drops[VMDQ_DROP_RUNT], 8);
	assert_int_equal(ds.drops[VMDQ_DROP_MISSED], 0);
	assert_conserved(T.dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T_(nonvmdq_accepted_go_to_queue0),
		T_(nonvmdq_ignores_default_queue),
		T_(broadcast_default_queue_even_with_vlan_filter),
		T_(broadcast_off_drops_even_promisc),
		T_(multicast_rules),
		T_(multicast_ignores_vlan_filters),
		T_(unicast_own_address_and_promisc),
		T_(filters_apply_in_promisc),
		T_(pair_then_mac_then_vlan),
		T_(pair_tells_same_mac_on_two_vlans_apart),
		T_(vlan_filter_only_for_tagged),
		T_(vid0_is_untagged),
		T_(qinq_outermost_tag_counts),
		T_(default_queue_is_any_queue),
		T_(runt_sizes),
		T_(oversize_limit_and_tags),
		T_(fcs_checked_and_stripped),
		T_(crc_not_checked_without_fcs),
		T_(several_errors_counted_once_in_order),
		T_(store_bad_delivers_with_error_bits),
		T_(match_indicator_and_descriptor),
		T_(ids_never_reused),
		T_(filter_errors),
		T_(profile_limits_are_hard),
		T_(queue_count_guards_filters),
		T_(filter_del_takes_effect),
		T_(conservation_over_mixed_traffic),
	};
	vmdq_thread_online();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
