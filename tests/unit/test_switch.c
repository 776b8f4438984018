/* SPDX-License-Identifier: MIT */
/* The switch's wire -> VM path for targeted (Level 2) vifs, through a fake
 * targeted port that shares "guest memory" with its queue: vif del of a
 * busy targeted vif (issue 12 point 7) and frames the switch drops never
 * written into the VM's buffers (point 5). */
#include <errno.h>

#include "helpers.h"
#include "../../switch/switch.h"

#include "../../ports/dummy.h"

/* A targeted dummy vif (ports/dummy.c): its "VM" shares its memory with the
 * vif's queue, every buffer posted (the whole ring). */
static int add_vif(struct vmdq_switch *sw, const char *name, uint64_t mac, uint16_t vlan)
{
	char *args[] = { (char[]){ "targeted" } };
	struct sw_vif_spec s = { .name = name, .kind = "dummy", .vlan = vlan, .queue = -1,
				 .args = args, .nargs = 1 };
	mac_from_u64(mac, s.mac);
	char err[256] = "";
	int vi = vmdq_switch_vif_add(sw, &s, err, sizeof(err));
	if (vi < 0)
		fail_msg("vif add: %s", err);
	struct vmdq_dummy *k = vmdq_dummy_last();
	assert_non_null(k);
	assert_int_equal(vmdq_dummy_refill(k), SW_RING);
	return vi;
}

static void send(struct vmdq_switch *sw, const struct tframe *f, unsigned n)
{
	struct vmdq_frame in[32];
	for (unsigned i = 0; i < 32; i++)
		in[i] = (struct vmdq_frame){ f->b, f->len, f->len, 0 };
	while (n) {
		unsigned m = n < 32 ? n : 32;
		vmdq_rx_burst(sw->dev, in, m, NULL);
		n -= m;
	}
}

static bool guest_untouched(const struct vmdq_dummy *k)
{
	size_t n;
	const uint8_t *g = vmdq_dummy_guest(k, &n);
	assert_non_null(g);
	for (size_t i = 0; i < n; i++)
		if (g[i] != VMDQ_DUMMY_FILL)
			return false;
	return true;
}

/* Point 7: 100 frames waiting in a targeted vif's queue when it is deleted:
 * finish_queue hands them over at most a burst at a time. */
static void vif_del_of_a_busy_targeted_vif(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	add_vif(sw, "vm", VM1, 0);
	struct tframe f;
	untagged(&f, VM1, 100);
	send(sw, &f, 100);
	struct vmdq_dummy *k = vmdq_dummy_find("vm");
	assert_int_equal(vmdq_rxq_ready(dev, (unsigned)vmdq_dummy_queue(k)), 100);
	vmdq_dummy_hold(k); /* its counters outlive the close */
	char err[256] = "";
	assert_int_equal(vmdq_switch_vif_del(sw, "vm", err, sizeof(err)), 0);
	assert_false(vmdq_dummy_is_open(k));
	struct vmdq_dummy_stats st;
	vmdq_dummy_stats(k, &st);
	assert_int_equal(st.delivered, 100);
	assert_int_equal(st.complete_most, 32);
	assert_int_equal(st.complete_calls, 4); /* 32 + 32 + 32 + 4 */
	struct sw_wire_cnt wc;
	vmdq_switch_wire_counters(sw, &wc);
	assert_int_equal(wc.polled, 100);
	assert_int_equal(wc.delivered, 100);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
	vmdq_dummy_forget();
}

/* Point 5: what the switch drops on a targeted vif's queue is counted as
 * before, and never reached the VM's memory. */
static void dropped_frames_never_in_guest_memory(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	assert_int_equal(vmdq_dev_set_store_bad(dev, true), 0);
	int u = add_vif(sw, "untagged", VM1, 0);
	int t = add_vif(sw, "tagged", VM2, 100);
	struct vmdq_dummy *ku = vmdq_dummy_find("untagged"), *kt = vmdq_dummy_find("tagged");
	/* whatever filter placed it (SPEC 2): VM2's MAC alone, on its queue */
	assert_true(vmdq_filter_add(dev, MAC(VM2), 0, (unsigned)vmdq_dummy_queue(kt)) > 0);
	struct tframe f;
	tagged(&f, VM1, 200, 300);  /* tagged, for the untagged domain */
	send(sw, &f, 3);
	tagged(&f, VM1, 0, 300);    /* a priority tag is a tag */
	send(sw, &f, 1);
	untagged(&f, VM2, 300);     /* untagged, for an access VLAN */
	send(sw, &f, 2);
	tagged(&f, VM2, 200, 300);  /* another VLAN */
	send(sw, &f, 1);
	untagged(&f, VM1, 1600);    /* oversize, store-bad on */
	send(sw, &f, 1);
	while (vmdq_switch_poll(sw, 0)) {
	}
	assert_true(guest_untouched(ku));
	assert_true(guest_untouched(kt));
	struct sw_cnt c;
	vmdq_switch_vif_counters(sw, u, &c);
	assert_int_equal(c.drops[SWD_TAGGED], 4);
	assert_int_equal(c.drops[SWD_BAD], 1);
	assert_int_equal(c.to_vm, 0);
	struct vmdq_dummy_stats su, stt;
	vmdq_dummy_stats(ku, &su);
	vmdq_dummy_stats(kt, &stt);
	assert_int_equal(su.refused, 5);
	vmdq_switch_vif_counters(sw, t, &c);
	assert_int_equal(c.drops[SWD_WRONG_VLAN], 3);
	assert_int_equal(c.to_vm, 0);
	assert_int_equal(stt.refused, 3);
	/* and what it delivers still goes in */
	untagged(&f, VM1, 300);
	send(sw, &f, 1);
	tagged(&f, VM2, 100, 300);
	send(sw, &f, 1);
	while (vmdq_switch_poll(sw, 0)) {
	}
	vmdq_switch_vif_counters(sw, u, &c);
	assert_int_equal(c.to_vm, 1);
	vmdq_switch_vif_counters(sw, t, &c);
	assert_int_equal(c.to_vm, 1);
	vmdq_dummy_stats(ku, &su);
	vmdq_dummy_stats(kt, &stt);
	assert_int_equal(su.delivered, 1);
	assert_int_equal(stt.delivered, 1);
	assert_false(guest_untouched(ku));
	assert_false(guest_untouched(kt));
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

int main(void)
{
	vmdq_thread_online();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vif_del_of_a_busy_targeted_vif),
		cmocka_unit_test(dropped_frames_never_in_guest_memory),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
