/* SPDX-License-Identifier: MIT */
/*
 * SPEC 1.3: filters change while a sorter runs at full speed.  A writer
 * thread moves one MAC between queues (delete + add, and single-step
 * swaps through pair filters) while the reader sorts bursts.  Every frame
 * must land where the table as it was before or after some change puts it
 * (never a state that never existed), and none may go missing.
 *
 * The writer alternates between two table states by single published
 * changes, and records the sequence of states; because each change is one
 * publication, the set of states a frame may see is {A, B}, where
 *   A: MAC filter VM1 -> queue 1,   B: MAC filter VM1 -> queue 2
 * and the transient state between del and add (no filter: default queue 3
 * in promiscuous mode) is itself a published table, C.  A frame sorted to
 * any queue other than 1, 2 or 3 would be a half-applied change.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "helpers.h"

#define RING 1024
static struct vmdq_dev *dev;
static atomic_bool stop;
static atomic_ulong changes;
static atomic_int writer_failed; /* cmocka asserts belong to the main thread */

static void *writer(void *arg)
{
	(void)arg;
	int64_t id = vmdq_filter_add(dev, MAC(VM1), 0, 1);
	while (!atomic_load(&stop)) {
		unsigned to = (atomic_load(&changes) & 1) ? 1 : 2;
		if (vmdq_filter_del(dev, (uint32_t)id) != 0)
			atomic_store(&writer_failed, 1);
		id = vmdq_filter_add(dev, MAC(VM1), 0, to);
		/* a pair filter that never matches untagged frames: churns the
		 * table without changing where this traffic goes */
		int64_t p = vmdq_filter_add(dev, MAC(VM1), 77, 5);
		if (id <= 0 || p <= 0 || vmdq_filter_del(dev, (uint32_t)p) != 0) {
			atomic_store(&writer_failed, 1);
			break;
		}
		atomic_fetch_add(&changes, 1);
	}
	return NULL;
}

static void churn_while_sorting(void **s)
{
	(void)s;
	dev = vmdq_dev_create();
	vmdq_dev_set_vmdq(dev, true);
	vmdq_dev_set_promisc(dev, true);
	vmdq_dev_set_default_queue(dev, 3);
	static uint8_t mem[8][RING][128];
	for (unsigned q = 0; q < 8; q++) {
		vmdq_rxq_setup(dev, q, RING);
		for (unsigned i = 0; i < RING; i++) {
			struct vmdq_rxd d = { .buf = mem[q][i], .buf_size = 128 };
			vmdq_rxq_post(dev, q, &d, 1);
		}
	}
	static struct tframe f;
	untagged(&f, VM1, 64);
	struct vmdq_frame in[32];
	for (int i = 0; i < 32; i++)
		in[i] = (struct vmdq_frame){ .data = f.b, .caplen = 64, .len = 64 };
	pthread_t w;
	pthread_create(&w, NULL, writer, NULL);
	uint64_t sent = 0, got[8] = { 0 };
	struct vmdq_rx_result r[32];
	struct vmdq_rxd g[RING];
	vmdq_thread_online();
	/* until enough churn, and frames saw both states (on a loaded machine
	 * the writer may sit still for a while): a minute at most */
	time_t t0 = time(NULL);
	while ((atomic_load(&changes) < 2000 || sent < 2000000 || !got[1] || !got[2]) &&
	       !atomic_load(&writer_failed) && time(NULL) - t0 < 60) {
		unsigned n = vmdq_rx_burst(dev, in, 32, r);
		assert_int_equal(n, 32); /* nothing missed, nothing filtered */
		/* one snapshot per burst: every frame of it went the same way */
		for (int i = 1; i < 32; i++)
			assert_int_equal(r[i].queue, r[0].queue);
		sent += 32;
		for (unsigned q = 0; q < 8; q++) {
			unsigned k = vmdq_rxq_poll(dev, q, g, RING);
			got[q] += k;
			vmdq_rxq_post(dev, q, g, k);
		}
	}
	atomic_store(&stop, true);
	pthread_join(w, NULL);
	vmdq_thread_offline();
	assert_int_equal(atomic_load(&writer_failed), 0);
	assert_int_equal(got[1] + got[2] + got[3], sent);
	assert_int_equal(got[0] + got[4] + got[5] + got[6] + got[7], 0);
	/* the churn really happened while frames flowed */
	assert_true(got[1] > 0 && got[2] > 0);
	print_message("%llu frames, %lu changes: q1 %llu q2 %llu default %llu\n",
		      (unsigned long long)sent, atomic_load(&changes),
		      (unsigned long long)got[1], (unsigned long long)got[2],
		      (unsigned long long)got[3]);
	assert_conserved(dev);
	vmdq_dev_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(churn_while_sorting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
