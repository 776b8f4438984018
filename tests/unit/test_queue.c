/* SPDX-License-Identifier: MIT */
/* SPEC 1.4: rings, missed isolation, groups, interrupt vectors, lifecycle. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h" /* dev->npending */

static struct tframe F;

static uint64_t fake_now;
static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void burst_to(struct vmdq_dev *dev, uint64_t dst, unsigned n)
{
	static struct tframe fr;
	untagged(&fr, dst, 64);
	struct vmdq_frame in[64];
	for (unsigned i = 0; i < n; i++)
		in[i] = (struct vmdq_frame){ .data = fr.b, .caplen = 64, .len = 64, .ts_ns = i };
	vmdq_rx_burst(dev, in, n, NULL);
}

static void full_queue_misses_alone(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	vmdq_dev_set_vmdq(dev, true);
	vmdq_filter_add(dev, MAC(VM1), 0, 1);
	vmdq_filter_add(dev, MAC(VM2), 0, 2);
	static uint8_t mem[2][4][128];
	for (unsigned q = 1; q <= 2; q++) {
		assert_int_equal(vmdq_rxq_setup(dev, q, 4), 0);
		for (unsigned i = 0; i < 4; i++) {
			struct vmdq_rxd d = { .buf = mem[q - 1][i], .buf_size = 128 };
			assert_int_equal(vmdq_rxq_post(dev, q, &d, 1), 1);
		}
	}
	/* ring full of posted buffers: a fifth post does not fit */
	struct vmdq_rxd extra = { .buf = mem[0][0], .buf_size = 128 };
	assert_int_equal(vmdq_rxq_post(dev, 1, &extra, 1), 0);
	burst_to(dev, VM1, 10); /* 4 fit, 6 missed */
	burst_to(dev, VM2, 3);
	struct vmdq_queue_stats a, b;
	vmdq_queue_stats(dev, 1, &a);
	vmdq_queue_stats(dev, 2, &b);
	assert_int_equal(a.frames, 4);
	assert_int_equal(a.missed, 6);
	assert_int_equal(b.frames, 3);
	assert_int_equal(b.missed, 0);
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(dev, &ds);
	assert_int_equal(ds.drops[VMDQ_DROP_MISSED], 6);
	/* poll returns the group in order, with the match indicator */
	struct vmdq_rxd g[8];
	assert_int_equal(vmdq_rxq_ready(dev, 1), 4);
	assert_int_equal(vmdq_rxq_poll(dev, 1, g, 8), 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(g[i].ts_ns, i);
		assert_true(g[i].flags & VMDQ_RXD_MATCH);
		assert_int_equal(g[i].filter_id, 1);
	}
	/* re-posting makes room again */
	assert_int_equal(vmdq_rxq_post(dev, 1, g, 4), 4);
	burst_to(dev, VM1, 2);
	vmdq_queue_stats(dev, 1, &a);
	assert_int_equal(a.frames, 6);
	assert_conserved(dev);
	vmdq_dev_destroy(dev);
}

static void no_ring_or_small_buffer_is_missed(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	vmdq_dev_set_promisc(dev, true);
	burst_to(dev, OTHER, 2); /* queue 0 has no ring */
	struct vmdq_queue_stats q;
	vmdq_queue_stats(dev, 0, &q);
	assert_int_equal(q.missed, 2);
	static uint8_t small[32];
	vmdq_rxq_setup(dev, 0, 2);
	struct vmdq_rxd d = { .buf = small, .buf_size = 32 };
	vmdq_rxq_post(dev, 0, &d, 1);
	burst_to(dev, OTHER, 1); /* 64 bytes do not fit in 32 */
	vmdq_queue_stats(dev, 0, &q);
	assert_int_equal(q.missed, 3);
	assert_int_equal(q.frames, 0);
	assert_conserved(dev);
	vmdq_dev_destroy(dev);
}

static void ring_sizes(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_int_equal(vmdq_rxq_setup(dev, 0, 3), -EINVAL);
	assert_int_equal(vmdq_rxq_setup(dev, 0, 1), -EINVAL);
	assert_int_equal(vmdq_rxq_setup(dev, 0, 131072), -EINVAL);
	assert_int_equal(vmdq_rxq_setup(dev, 4096, 4), -EINVAL);
	assert_int_equal(vmdq_rxq_setup(dev, 0, 4), 0);
	static uint8_t b[64];
	struct vmdq_rxd d = { .buf = b, .buf_size = 64 };
	vmdq_rxq_post(dev, 0, &d, 1);
	assert_int_equal(vmdq_rxq_setup(dev, 0, 8), -EBUSY); /* a buffer is out */
	vmdq_dev_destroy(dev);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

static void drain_fd(int fd)
{
	uint64_t v;
	while (read(fd, &v, sizeof(v)) == sizeof(v)) {
	}
}

static void interrupt_with_moderation(void **s)
{
	(void)s;
	struct tdev t = tdev_new(8);
	vmdq_dev_set_clock(t.dev, fake_clock, NULL);
	fake_now = 1000000;
	vmdq_dev_set_promisc(t.dev, true);
	int fd = vmdq_rxq_irq_fd(t.dev, 0);
	assert_true(fd >= 0);
	burst_to(t.dev, OTHER, 1);
	assert_false(readable(fd)); /* not enabled */
	vmdq_rxq_irq_enable(t.dev, 0);
	burst_to(t.dev, OTHER, 1);
	assert_true(readable(fd));
	drain_fd(fd);
	/* firing masks the vector until the consumer re-enables it */
	burst_to(t.dev, OTHER, 1);
	assert_false(readable(fd));
	/* itr 100 us: a second interrupt within the window is held back */
	assert_int_equal(vmdq_queue_set_itr(t.dev, 0, 100), 0);
	struct vmdq_rxd g[8];
	vmdq_rxq_post(t.dev, 0, g, vmdq_rxq_poll(t.dev, 0, g, 8));
	vmdq_rxq_irq_enable(t.dev, 0);
	fake_now += 50000; /* 50 us after the last interrupt */
	burst_to(t.dev, OTHER, 1);
	assert_false(readable(fd));
	uint64_t wait = vmdq_dev_irq_service(t.dev);
	assert_int_equal(wait, 50000);
	assert_false(readable(fd));
	fake_now += 50000;
	assert_int_equal(vmdq_dev_irq_service(t.dev), UINT64_MAX);
	assert_true(readable(fd));
	drain_fd(fd);
	/* a disabled vector never fires */
	vmdq_rxq_post(t.dev, 0, g, vmdq_rxq_poll(t.dev, 0, g, 8));
	vmdq_rxq_irq_disable(t.dev, 0);
	fake_now += 1000000;
	burst_to(t.dev, OTHER, 1);
	assert_false(readable(fd));
	/* another queue's vector is untouched */
	int fd1 = vmdq_rxq_irq_fd(t.dev, 1);
	assert_false(readable(fd1));
	assert_int_equal(vmdq_queue_set_itr(t.dev, 0, 10000001), -EINVAL);
	tdev_free(&t);
}

static void cpu_and_weight_attributes(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_int_equal(vmdq_queue_set_cpu(dev, 3, 1), 0);
	assert_int_equal(vmdq_queue_set_weight(dev, 3, 4), 0);
	struct vmdq_queue_info qi;
	vmdq_queue_get_info(dev, 3, &qi);
	assert_int_equal(qi.cpu, 1);
	assert_int_equal(qi.weight, 4);
	assert_int_equal(vmdq_queue_set_cpu(dev, 16, 0), -EINVAL);
	assert_int_equal(vmdq_queue_set_weight(dev, 3, 0), -EINVAL);
	vmdq_dev_destroy(dev);
}

static void lifecycle(void **s)
{
	(void)s;
	struct tdev t = tdev_new(4);
	vmdq_dev_set_vmdq(t.dev, true);
	int q = vmdq_queue_alloc(t.dev, -1, 77);
	assert_int_equal(q, 1); /* lowest free, not the default queue */
	assert_int_equal(vmdq_queue_alloc(t.dev, 1, 78), -EBUSY);
	int64_t id = vmdq_filter_add(t.dev, MAC(VM1), 0, (unsigned)q);
	assert_true(id > 0);
	burst_to(t.dev, VM1, 2);
	assert_int_equal(vmdq_rxq_ready(t.dev, 1), 2);
	/* free: filters cleared, delivery stopped, buffers outstanding */
	assert_int_equal(vmdq_queue_free(t.dev, 1), -EBUSY);
	struct vmdq_filter fl[4];
	assert_int_equal(vmdq_filter_list(t.dev, fl, 4), 0);
	assert_int_equal(vmdq_filter_add(t.dev, MAC(VM2), 0, 1), -EBUSY);
	burst_to(t.dev, VM1, 1); /* no filter now: filtered, not delivered */
	struct vmdq_queue_stats st;
	vmdq_queue_stats(t.dev, 1, &st);
	assert_int_equal(st.frames, 2);
	/* reclaim: the two frames first, then the two unused buffers */
	struct vmdq_rxd g[8];
	assert_int_equal(vmdq_rxq_reclaim(t.dev, 1, g, 8), 4);
	assert_int_equal(g[0].flags & VMDQ_RXD_CANCELLED, 0);
	assert_int_equal(g[1].flags & VMDQ_RXD_CANCELLED, 0);
	assert_true(g[2].flags & VMDQ_RXD_CANCELLED);
	assert_true(g[3].flags & VMDQ_RXD_CANCELLED);
	assert_int_equal(vmdq_queue_free(t.dev, 1), 0);
	struct vmdq_queue_info qi;
	vmdq_queue_get_info(t.dev, 1, &qi);
	assert_false(qi.allocated);
	/* the default queue cannot be freed or stopped */
	assert_int_equal(vmdq_queue_free(t.dev, 0), -EPERM);
	assert_int_equal(vmdq_queue_stop(t.dev, 0), -EPERM);
	/* a running queue has nothing to reclaim */
	assert_int_equal(vmdq_rxq_reclaim(t.dev, 2, g, 8), 0);
	/* the freed queue can be allocated and used again */
	assert_int_equal(vmdq_queue_alloc(t.dev, -1, 79), 1);
	vmdq_rxq_post(t.dev, 1, g, 4);
	assert_true(vmdq_filter_add(t.dev, MAC(VM1), 0, 1) > 0);
	burst_to(t.dev, VM1, 1);
	assert_int_equal(vmdq_rxq_ready(t.dev, 1), 1);
	assert_conserved(t.dev);
	tdev_free(&t);
}

static void stopped_queue_counts_missed(void **s)
{
	(void)s;
	struct tdev t = tdev_new(4);
	/* non-VMDq mode sends to queue 0 without a filter; stop queue 0
	 * after moving the default queue elsewhere */
	vmdq_dev_set_promisc(t.dev, true);
	vmdq_dev_set_default_queue(t.dev, 5);
	assert_int_equal(vmdq_queue_stop(t.dev, 0), 0);
	assert_int_equal(vmdq_dev_set_default_queue(t.dev, 0), -EBUSY);
	burst_to(t.dev, OTHER, 3);
	struct vmdq_queue_stats st;
	vmdq_queue_stats(t.dev, 0, &st);
	assert_int_equal(st.missed, 3);
	assert_int_equal(st.frames, 0);
	assert_conserved(t.dev);
	tdev_free(&t);
}

/* Issue 12 point 7 (fixed-size arrays): the list of queues with a held-back
 * interrupt has one slot per queue.  Freeing a queue whose interrupt is
 * held back must not let the queue in a second time: a control client
 * cycling one vif (add, traffic, del) within the moderation window used to
 * add an entry per cycle, past the list's end after VMDQ_MAX_QUEUES. */
static void held_back_interrupt_of_a_freed_queue_listed_once(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	vmdq_dev_set_clock(dev, fake_clock, NULL);
	fake_now = 1000000;
	vmdq_dev_set_vmdq(dev, true);
	static uint8_t buf[2048];
	struct tframe f;
	untagged(&f, VM1, 64);
	struct vmdq_frame in = { .data = f.b, .caplen = 64, .len = 64, .ts_ns = 0 };
	int fd = vmdq_rxq_irq_fd(dev, 1);
	assert_true(fd >= 0);
	for (unsigned i = 0; i < VMDQ_MAX_QUEUES + 16; i++) {
		assert_int_equal(vmdq_queue_alloc(dev, 1, 9), 1);
		if (i == 0)
			assert_int_equal(vmdq_rxq_setup(dev, 1, 2), 0);
		assert_int_equal(vmdq_queue_set_itr(dev, 1, 10000000), 0); /* 10 s */
		assert_true(vmdq_filter_add(dev, MAC(VM1), 0, 1) > 0);
		struct vmdq_rxd d = { .buf = buf, .buf_size = sizeof(buf) };
		assert_int_equal(vmdq_rxq_post(dev, 1, &d, 1), 1);
		vmdq_rxq_irq_enable(dev, 1);
		assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
		assert_int_equal(vmdq_rxq_poll(dev, 1, &d, 1), 1);
		assert_int_equal(vmdq_queue_free(dev, 1), 0);
	}
	assert_int_equal(dev->npending, 1);
	/* the freed queue's entry goes at the next service: nothing fires */
	assert_int_equal(vmdq_dev_irq_service(dev), UINT64_MAX);
	assert_int_equal(dev->npending, 0);
	assert_false(readable(fd));
	vmdq_dev_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_queue_misses_alone),
		cmocka_unit_test(no_ring_or_small_buffer_is_missed),
		cmocka_unit_test(ring_sizes),
		cmocka_unit_test(interrupt_with_moderation),
		cmocka_unit_test(held_back_interrupt_of_a_freed_queue_listed_once),
		cmocka_unit_test(cpu_and_weight_attributes),
		cmocka_unit_test(lifecycle),
		cmocka_unit_test(stopped_queue_counts_missed),
	};
	(void)F;
	vmdq_thread_online();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
