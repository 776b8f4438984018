/* SPDX-License-Identifier: MIT */
/* SPEC 1.6: targeted receive.  Shared buffers are checked against the
 * owner's registered memory; a frame is written once into the VM's buffer
 * and its header replicated into the switch's; VLAN strip; retract. */
#include <errno.h>

#include "helpers.h"

static uint8_t vm_mem[4096];   /* "guest memory" the VM registered */
static uint8_t outside[256];   /* memory it did not */
static uint8_t hdr[8][VMDQ_MAX_HDR];

static struct vmdq_dev *dev_with_vm(void)
{
	struct vmdq_dev *dev = vmdq_dev_create();
	vmdq_dev_set_vmdq(dev, true);
	assert_int_equal(vmdq_queue_alloc(dev, 1, 7), 1); /* owner 7 */
	assert_true(vmdq_filter_add(dev, MAC(VM1), 0, 1) > 0);
	assert_true(vmdq_filter_add(dev, MAC(VM2), 100, 1) > 0);
	assert_int_equal(vmdq_rxq_setup(dev, 1, 8), 0);
	struct vmdq_mem_region r = { vm_mem, sizeof(vm_mem) };
	assert_int_equal(vmdq_rxq_share_mem(dev, 1, 7, &r, 1), 0);
	return dev;
}

static struct vmdq_rxd shared(uint8_t *buf, uint32_t size, unsigned i, uint16_t hl)
{
	return (struct vmdq_rxd){ .buf = buf, .buf_size = size, .cookie = i, .hdr = hdr[i],
				  .hdr_len = hl };
}

static void one_copy_and_header_replica(void **s)
{
	(void)s;
	struct vmdq_dev *dev = dev_with_vm();
	struct vmdq_rxd b[2] = { shared(vm_mem + 12, 2000, 0, 64),
				 shared(vm_mem + 2060, 2000, 1, 32) };
	int err;
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, b, 2, &err), 2);
	assert_int_equal(err, 0);
	struct tframe f, g;
	untagged(&f, VM1, 300);
	untagged(&g, VM1, 20); /* shorter than the header buffer */
	struct vmdq_frame in[2] = { { .data = f.b, .caplen = 300, .len = 300, .ts_ns = 1 }, { .data = g.b, .caplen = 20, .len = 20, .ts_ns = 2 } };
	assert_int_equal(vmdq_rx_burst(dev, in, 2, NULL), 2);
	struct vmdq_rxd d[2];
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 2), 2);
	assert_true(d[0].flags & VMDQ_RXD_TARGETED);
	assert_int_equal(d[0].len, 300);
	assert_ptr_equal(d[0].buf, vm_mem + 12);
	assert_memory_equal(vm_mem + 12, f.b, 300);     /* the frame, in VM memory */
	assert_int_equal(d[0].hdr_len, 64);
	assert_memory_equal(hdr[0], f.b, 64);           /* the replica */
	assert_int_equal(d[1].hdr_len, 20);             /* no more than the frame */
	assert_memory_equal(hdr[1], g.b, 20);
	vmdq_queue_stop(dev, 1);
	vmdq_dev_destroy(dev);
}

static void buffer_outside_memory_refused(void **s)
{
	(void)s;
	struct vmdq_dev *dev = dev_with_vm();
	memset(outside, 0xee, sizeof(outside));
	int err;
	/* wholly outside, straddling the end, wrapping the address space */
	struct vmdq_rxd bad[3] = {
		shared(outside, sizeof(outside), 0, 64),
		shared(vm_mem + sizeof(vm_mem) - 100, 200, 1, 64),
		shared(vm_mem + 16, UINT32_MAX, 2, 64),
	};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, &bad[i], 1, &err), 0);
		assert_int_equal(err, -EFAULT);
	}
	/* posting stops at the first bad one; the good one before it stands */
	struct vmdq_rxd mix[2] = { shared(vm_mem, 1000, 3, 64), bad[0] };
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, mix, 2, &err), 1);
	assert_int_equal(err, -EFAULT);
	/* a frame goes to the good buffer; nothing is written outside */
	struct tframe f;
	untagged(&f, VM1, 600);
	struct vmdq_frame in[2] = { { .data = f.b, .caplen = 600, .len = 600 }, { .data = f.b, .caplen = 600, .len = 600 } };
	assert_int_equal(vmdq_rx_burst(dev, in, 2, NULL), 1);
	for (size_t i = 0; i < sizeof(outside); i++)
		assert_int_equal(outside[i], 0xee);
	struct vmdq_queue_stats st;
	vmdq_queue_stats(dev, 1, &st);
	assert_int_equal(st.frames, 1);
	assert_int_equal(st.missed, 1);
	/* only the owner shares; memory changes only with nothing posted */
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 8, mix, 1, &err), 0);
	assert_int_equal(err, -EPERM);
	struct vmdq_mem_region r = { vm_mem, 100 };
	assert_int_equal(vmdq_rxq_share_mem(dev, 1, 8, &r, 1), -EPERM);
	struct vmdq_rxd d[2];
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 2), 1);
	assert_int_equal(vmdq_rxq_share_mem(dev, 1, 7, &r, 1), 0); /* nothing out now */
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, mix, 1, &err), 0); /* 1000 > 100 */
	assert_int_equal(err, -EFAULT);
	vmdq_queue_stop(dev, 1);
	vmdq_dev_destroy(dev);
}

static void vlan_strip_into_shared_buffer(void **s)
{
	(void)s;
	struct vmdq_dev *dev = dev_with_vm();
	assert_int_equal(vmdq_queue_set_vlan_strip(dev, 1, true), 0);
	int err;
	struct vmdq_rxd b = shared(vm_mem, 2000, 0, 64);
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, &b, 1, &err), 1);
	struct tframe f;
	tagged(&f, VM2, 100, 128);
	struct vmdq_frame in = { .data = f.b, .caplen = 128, .len = 128, .ts_ns = 0 };
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
	struct vmdq_rxd d;
	assert_int_equal(vmdq_rxq_poll(dev, 1, &d, 1), 1);
	assert_int_equal(d.flags & (VMDQ_RXD_STRIPPED | VMDQ_RXD_TAGGED | VMDQ_RXD_TARGETED),
			 VMDQ_RXD_STRIPPED | VMDQ_RXD_TAGGED | VMDQ_RXD_TARGETED);
	assert_int_equal(d.vlan, 100);
	assert_int_equal(d.len, 124);
	assert_memory_equal(vm_mem, f.b, 12);            /* addresses */
	assert_memory_equal(vm_mem + 12, f.b + 16, 112); /* then what followed the tag */
	assert_memory_equal(hdr[0], f.b, 64);            /* the replica is as on the wire */
	struct vmdq_queue_stats st;
	vmdq_queue_stats(dev, 1, &st);
	assert_int_equal(st.bytes, 124);
	vmdq_queue_stop(dev, 1);
	vmdq_dev_destroy(dev);
}

static void retract_while_running(void **s)
{
	(void)s;
	struct vmdq_dev *dev = dev_with_vm();
	int err;
	struct vmdq_rxd b[4];
	for (unsigned i = 0; i < 4; i++)
		b[i] = shared(vm_mem + i * 1024, 1000, i, 64);
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, b, 4, &err), 4);
	struct tframe f;
	untagged(&f, VM1, 64);
	struct vmdq_frame in = { .data = f.b, .caplen = 64, .len = 64, .ts_ns = 0 };
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
	/* three never filled come back cancelled, in order; the filled one
	 * stays for poll */
	struct vmdq_rxd r[8];
	assert_int_equal(vmdq_rxq_retract(dev, 1, r, 8), 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(r[i].cookie, i + 1);
		assert_true(r[i].flags & VMDQ_RXD_CANCELLED);
	}
	/* the queue runs on: nothing posted, so the next frame is missed */
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 0);
	assert_int_equal(vmdq_rxq_poll(dev, 1, r, 8), 1);
	assert_int_equal(r[0].cookie, 0);
	/* and takes new buffers */
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, &b[1], 1, &err), 1);
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
	assert_int_equal(vmdq_rxq_poll(dev, 1, r, 8), 1);
	assert_int_equal(r[0].cookie, 1);
	/* a partial retract keeps the rest posted */
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, b, 4, &err), 4);
	assert_int_equal(vmdq_rxq_retract(dev, 1, r, 1), 1);
	assert_int_equal(r[0].cookie, 0);
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
	assert_int_equal(vmdq_rxq_poll(dev, 1, r, 8), 1);
	assert_int_equal(r[0].cookie, 1);
	assert_int_equal(vmdq_rxq_retract(dev, 1, r, 8), 2);
	assert_conserved(dev);
	vmdq_queue_stop(dev, 1);
	vmdq_dev_destroy(dev);
}

static void lead_in_written_with_the_frame(void **s)
{
	(void)s;
	struct vmdq_dev *dev = dev_with_vm();
	static const uint8_t vnh[12] = { [10] = 1 };
	assert_int_equal(vmdq_rxq_set_lead(dev, 1, vnh, 12), 0);
	assert_int_equal(vmdq_rxq_set_lead(dev, 1, vnh, VMDQ_MAX_LEAD + 1), -EINVAL);
	memset(vm_mem, 0xcc, sizeof(vm_mem));
	struct vmdq_rxd b[3] = { shared(vm_mem, 1000, 0, 32), shared(vm_mem + 2048, 1000, 1, 32),
				 shared(vm_mem + 1024, 71, 2, 32) };
	b[0].lead = 12;
	b[2].lead = 12; /* 12 + 60 > 71: too small for a 60-byte frame with its lead-in */
	int err;
	struct vmdq_rxd bad = b[1];
	bad.lead = VMDQ_MAX_LEAD + 1;
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, &bad, 1, &err), 0);
	assert_int_equal(err, -EINVAL);
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, b, 3, &err), 3);
	struct tframe f;
	untagged(&f, VM1, 60);
	struct vmdq_frame in = { .data = f.b, .caplen = 60, .len = 60, .ts_ns = 1 };
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1); /* b[1]: no lead-in */
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 0); /* b[2]: too small, missed */
	struct vmdq_rxd d[3];
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 3), 2);
	assert_ptr_equal(d[0].buf, vm_mem);
	assert_int_equal(d[0].len, 60);                 /* the frame alone */
	assert_memory_equal(vm_mem, vnh, 12);           /* the lead-in, then the frame */
	assert_memory_equal(vm_mem + 12, f.b, 60);
	assert_int_equal(vm_mem[72], 0xcc);             /* nothing past it */
	assert_memory_equal(vm_mem + 2048, f.b, 60);    /* b[1] from its first byte */
	assert_int_equal(vm_mem[1024], 0xcc);           /* the small one untouched */
	struct vmdq_queue_stats st;
	vmdq_queue_stats(dev, 1, &st);
	assert_int_equal(st.missed, 1);
	vmdq_queue_stop(dev, 1);
	vmdq_dev_destroy(dev);
}

/* Issue 12 point 5: a frame the switch would drop never reaches the VM's
 * memory.  Every shared buffer starts as a canary; a refused frame comes
 * back flagged REFUSED (its header replica for the switch's verdict, len 0)
 * with the buffer, lead-in included, exactly as it was. */
static uint8_t canary_mem[2048];

static struct vmdq_rxd post_canary(struct vmdq_dev *dev, unsigned i)
{
	memset(vm_mem, 0xcc, sizeof(vm_mem));
	struct vmdq_rxd b = shared(vm_mem + 64, 2000, i, 32);
	b.lead = 12;
	int err;
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, &b, 1, &err), 1);
	return b;
}

static void assert_canary(void)
{
	memset(canary_mem, 0xcc, sizeof(canary_mem));
	assert_memory_equal(vm_mem, canary_mem, sizeof(canary_mem));
	assert_memory_equal(vm_mem + 2048, canary_mem, sizeof(vm_mem) - 2048);
}

/* Sorts f to queue 1; returns its completion. */
static struct vmdq_rxd sort_one(struct vmdq_dev *dev, const struct tframe *f)
{
	struct vmdq_frame in = { .data = f->b, .caplen = f->len, .len = f->len, .ts_ns = 0 };
	struct vmdq_rx_result r;
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, &r), 1);
	assert_int_equal(r.queue, 1);
	struct vmdq_rxd d;
	assert_int_equal(vmdq_rxq_poll(dev, 1, &d, 1), 1);
	return d;
}

static void untagged_queue_refuses_tagged_frames(void **s)
{
	(void)s;
	struct vmdq_dev *dev = dev_with_vm();
	static const uint8_t vnh[12] = { [10] = 1 };
	assert_int_equal(vmdq_rxq_set_lead(dev, 1, vnh, 12), 0);
	assert_int_equal(vmdq_queue_set_access_vlan(dev, 1, 4095), -EINVAL);
	assert_int_equal(vmdq_queue_set_access_vlan(dev, 1, 0), 0); /* untagged domain */
	struct tframe f;
	/* VLAN 200 for VM1: its MAC filter matches, the buffer stays as it was */
	tagged(&f, VM1, 200, 300);
	post_canary(dev, 0);
	struct vmdq_rxd d = sort_one(dev, &f);
	assert_canary();
	assert_int_equal(d.flags & (VMDQ_RXD_REFUSED | VMDQ_RXD_TAGGED | VMDQ_RXD_TARGETED |
				    VMDQ_RXD_MATCH | VMDQ_RXD_STRIPPED),
			 VMDQ_RXD_REFUSED | VMDQ_RXD_TAGGED | VMDQ_RXD_TARGETED | VMDQ_RXD_MATCH);
	assert_int_equal(d.len, 0);
	assert_int_equal(d.vlan, 200);
	assert_int_equal(d.hdr_len, 32);
	assert_memory_equal(hdr[0], f.b, 32); /* the switch's replica: its verdict */
	/* a priority tag (VID 0) is a tag too */
	tagged(&f, VM1, 0, 300);
	post_canary(dev, 1);
	d = sort_one(dev, &f);
	assert_canary();
	assert_int_equal(d.flags & VMDQ_RXD_REFUSED, VMDQ_RXD_REFUSED);
	/* VLAN 100 for VM2 (its pair filter): tagged all the same */
	tagged(&f, VM2, 100, 300);
	post_canary(dev, 2);
	d = sort_one(dev, &f);
	assert_canary();
	assert_int_equal(d.flags & VMDQ_RXD_REFUSED, VMDQ_RXD_REFUSED);
	/* an untagged frame goes in, lead-in first */
	untagged(&f, VM1, 300);
	post_canary(dev, 3);
	d = sort_one(dev, &f);
	assert_int_equal(d.flags & VMDQ_RXD_REFUSED, 0);
	assert_int_equal(d.len, 300);
	assert_memory_equal(vm_mem + 64, vnh, 12);
	assert_memory_equal(vm_mem + 76, f.b, 300);
	/* frames counted on the queue, bytes only for the one written */
	struct vmdq_queue_stats st;
	vmdq_queue_stats(dev, 1, &st);
	assert_int_equal(st.frames, 4);
	assert_int_equal(st.bytes, 300);
	assert_conserved(dev);
	/* a freed queue forgets the rule */
	assert_int_equal(vmdq_queue_free(dev, 1), 0);
	assert_int_equal(vmdq_queue_alloc(dev, 1, 7), 1);
	assert_true(vmdq_filter_add(dev, MAC(VM1), 0, 1) > 0);
	struct vmdq_mem_region r = { vm_mem, sizeof(vm_mem) };
	assert_int_equal(vmdq_rxq_share_mem(dev, 1, 7, &r, 1), 0);
	tagged(&f, VM1, 200, 300);
	post_canary(dev, 4);
	d = sort_one(dev, &f);
	assert_int_equal(d.flags & VMDQ_RXD_REFUSED, 0);
	assert_int_equal(d.len, 300);
	vmdq_queue_stop(dev, 1);
	vmdq_dev_destroy(dev);
}

static void access_vlan_queue_takes_its_vlan_only(void **s)
{
	(void)s;
	struct vmdq_dev *dev = dev_with_vm();
	assert_int_equal(vmdq_queue_set_vlan_strip(dev, 1, true), 0);
	assert_int_equal(vmdq_queue_set_access_vlan(dev, 1, 100), 0);
	struct tframe f;
	/* untagged for VM1 (its MAC filter): refused */
	untagged(&f, VM1, 200);
	post_canary(dev, 0);
	struct vmdq_rxd d = sort_one(dev, &f);
	assert_canary();
	assert_int_equal(d.flags & VMDQ_RXD_REFUSED, VMDQ_RXD_REFUSED);
	/* VLAN 200 for VM1 (MAC filter): refused, and not stripped */
	tagged(&f, VM1, 200, 200);
	post_canary(dev, 1);
	d = sort_one(dev, &f);
	assert_canary();
	assert_int_equal(d.flags & (VMDQ_RXD_REFUSED | VMDQ_RXD_STRIPPED), VMDQ_RXD_REFUSED);
	assert_int_equal(d.vlan, 200);
	/* VLAN 100 for VM2: stripped into the buffer */
	tagged(&f, VM2, 100, 200);
	post_canary(dev, 2);
	d = sort_one(dev, &f);
	assert_int_equal(d.flags & (VMDQ_RXD_REFUSED | VMDQ_RXD_STRIPPED), VMDQ_RXD_STRIPPED);
	assert_int_equal(d.len, 196);
	/* VLAN 100 without stripping: the switch would not deliver it */
	assert_int_equal(vmdq_queue_set_vlan_strip(dev, 1, false), 0);
	post_canary(dev, 3);
	d = sort_one(dev, &f);
	assert_canary();
	assert_int_equal(d.flags & VMDQ_RXD_REFUSED, VMDQ_RXD_REFUSED);
	/* back to any VLAN: the device's behaviour before the rule */
	assert_int_equal(vmdq_queue_set_access_vlan(dev, 1, VMDQ_ACCESS_ANY), 0);
	tagged(&f, VM1, 200, 200);
	post_canary(dev, 4);
	d = sort_one(dev, &f);
	assert_int_equal(d.flags & VMDQ_RXD_REFUSED, 0);
	assert_int_equal(d.len, 200);
	vmdq_queue_stop(dev, 1);
	vmdq_dev_destroy(dev);
}

static void bad_frames_and_short_replicas_refused(void **s)
{
	(void)s;
	struct vmdq_dev *dev = dev_with_vm();
	assert_int_equal(vmdq_dev_set_store_bad(dev, true), 0);
	assert_int_equal(vmdq_dev_set_max_frame(dev, 1000), 0);
	struct tframe f;
	/* oversize with store-bad on: sorted with its error bit, never written
	 * (whatever the VLAN rule: none here) */
	untagged(&f, VM1, 1200);
	post_canary(dev, 0);
	struct vmdq_rxd d = sort_one(dev, &f);
	assert_canary();
	assert_int_equal(d.flags & (VMDQ_RXD_REFUSED | VMDQ_ERR_OVERSIZE),
			 VMDQ_RXD_REFUSED | VMDQ_ERR_OVERSIZE);
	/* truncated (caplen < len) likewise */
	untagged(&f, VM1, 300);
	struct vmdq_frame in = { .data = f.b, .caplen = 200, .len = 300, .ts_ns = 0 };
	post_canary(dev, 1);
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
	assert_int_equal(vmdq_rxq_poll(dev, 1, &d, 1), 1);
	assert_canary();
	assert_int_equal(d.flags & (VMDQ_RXD_REFUSED | VMDQ_ERR_TRUNCATED),
			 VMDQ_RXD_REFUSED | VMDQ_ERR_TRUNCATED);
	/* a header buffer shorter than an Ethernet header: nothing the switch
	 * could decide on */
	memset(vm_mem, 0xcc, sizeof(vm_mem));
	struct vmdq_rxd b = shared(vm_mem + 64, 2000, 2, 8);
	int err;
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, &b, 1, &err), 1);
	untagged(&f, VM1, 300);
	d = sort_one(dev, &f);
	assert_canary();
	assert_int_equal(d.flags & VMDQ_RXD_REFUSED, VMDQ_RXD_REFUSED);
	vmdq_queue_stop(dev, 1);
	vmdq_dev_destroy(dev);
}

static void frame_too_long_for_buffer_not_written(void **s)
{
	(void)s;
	struct vmdq_dev *dev = dev_with_vm();
	assert_int_equal(vmdq_queue_set_access_vlan(dev, 1, 0), 0);
	memset(vm_mem, 0xcc, sizeof(vm_mem));
	struct vmdq_rxd b = shared(vm_mem + 64, 299, 0, 32); /* one byte short */
	int err;
	assert_int_equal(vmdq_rxq_post_shared(dev, 1, 7, &b, 1, &err), 1);
	struct tframe f;
	untagged(&f, VM1, 300);
	struct vmdq_frame in = { .data = f.b, .caplen = 300, .len = 300, .ts_ns = 0 };
	struct vmdq_rx_result r;
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, &r), 0);
	assert_int_equal(r.drop, VMDQ_DROP_MISSED); /* no partial copy */
	assert_canary();
	struct vmdq_queue_stats st;
	vmdq_queue_stats(dev, 1, &st);
	assert_int_equal(st.missed, 1);
	assert_int_equal(st.frames, 0);
	vmdq_queue_stop(dev, 1);
	vmdq_dev_destroy(dev);
}

int main(void)
{
	vmdq_thread_online();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_copy_and_header_replica),
		cmocka_unit_test(buffer_outside_memory_refused),
		cmocka_unit_test(vlan_strip_into_shared_buffer),
		cmocka_unit_test(retract_while_running),
		cmocka_unit_test(lead_in_written_with_the_frame),
		cmocka_unit_test(untagged_queue_refuses_tagged_frames),
		cmocka_unit_test(access_vlan_queue_takes_its_vlan_only),
		cmocka_unit_test(bad_frames_and_short_replicas_refused),
		cmocka_unit_test(frame_too_long_for_buffer_not_written),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
