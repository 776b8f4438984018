/* SPDX-License-Identifier: MIT */
/* vhost-user core (issue 4 point 3): hostile guests.  Every bad descriptor
 * or message is refused, counted, breaks the device until it is reset, and
 * nothing outside guest memory is touched. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "../../vhost/vu.h"

#define GPA 0x100000ull    /* guest-physical base of the one region */
#define MEM 65536
#define NUM 64

static _Alignas(4096) uint8_t guest[MEM];
static uint8_t beyond[64]; /* just past guest memory: must stay untouched */

/* ring layout inside guest memory */
#define DESC 0x0
#define AVAIL 0x1000
#define USED 0x2000
#define DATA 0x4000

static struct vu_dev D;

static struct vring_desc *desc(void) { return (struct vring_desc *)(void *)(guest + DESC); }
static struct vring_avail *avail(void) { return (struct vring_avail *)(void *)(guest + AVAIL); }

static void setup_dev(uint64_t features)
{
	static bool inited;
	if (inited)
		vu_dev_reset(&D); /* what the last test left */
	inited = true;
	memset(guest, 0, sizeof(guest));
	memset(beyond, 0x5a, sizeof(beyond));
	vu_dev_init(&D, NULL);
	D.features = features | 1ull << VIRTIO_F_VERSION_1;
	D.hdr_len = 12;
	D.mem.n = 1;
	D.mem.r[0] = (struct vu_region){ .gpa = GPA, .size = MEM, .uva = GPA, .host = guest };
	struct vu_msg m = { .request = VU_SET_VRING_NUM, .flags = VU_VERSION, .size = 8 };
	struct vu_msg r;
	for (uint32_t i = 0; i < 2; i++) {
		m.request = VU_SET_VRING_NUM;
		m.size = 8;
		m.u.state.index = i;
		m.u.state.num = NUM;
		assert_int_equal(vu_handle(&D, &m, &r), 0);
		m.request = VU_SET_VRING_ADDR;
		m.size = 40;
		m.u.addr.index = i;
		m.u.addr.flags = 0;
		m.u.addr.desc = GPA + DESC + i * 0x8000;
		m.u.addr.avail = GPA + AVAIL + i * 0x8000;
		m.u.addr.used = GPA + USED + i * 0x8000;
		assert_int_equal(vu_handle(&D, &m, &r), 0);
		m.request = VU_SET_VRING_KICK;
		m.size = 8;
		m.u.u64 = i | 0x100; /* no fd: polling */
		assert_int_equal(vu_handle(&D, &m, &r), 0);
	}
	assert_false(D.broken);
	assert_true(vu_ring_live(&D, 0));
}

static void put_desc(unsigned i, uint64_t gpa, uint32_t len, uint16_t flags, uint16_t next)
{
	desc()[i] = (struct vring_desc){ .addr = gpa, .len = len, .flags = flags, .next = next };
}

static void offer(uint16_t head)
{
	avail()->ring[avail()->idx % NUM] = head;
	avail()->idx++;
}

static void assert_broken(enum vu_err e)
{
	assert_true(D.broken);
	assert_int_equal(D.broken_why, e);
	assert_int_equal(D.errors[e], 1);
	for (size_t i = 0; i < sizeof(beyond); i++)
		assert_int_equal(beyond[i], 0x5a);
}

static int pop(bool write, struct vu_chain *c)
{
	assert_int_equal(vu_avail_count(&D, &D.vq[0]), 1);
	return vu_pop(&D, &D.vq[0], write, c);
}

static void good_chain(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(0, GPA + DATA, 12, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put_desc(1, GPA + DATA + 100, 1500, VRING_DESC_F_WRITE, 0);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), 0);
	assert_int_equal(c.nseg, 2);
	assert_int_equal(c.total, 1512);
	assert_ptr_equal(c.seg[1].p, guest + DATA + 100);
	assert_false(D.broken);
	/* the used entry and index land where the guest looks */
	vu_used_put(&D.vq[0], c.head, 77);
	vu_used_publish(&D.vq[0]);
	struct vring_used *u = (struct vring_used *)(void *)(guest + USED);
	assert_int_equal(u->idx, 1);
	assert_int_equal(u->ring[0].id, 0);
	assert_int_equal(u->ring[0].len, 77);
}

static void address_outside(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(0, GPA + MEM - 10, 64, VRING_DESC_F_WRITE, 0); /* runs past the end */
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_ADDR);
	/* broken: no frame moves (the port checks vu_ring_live) */
	assert_false(vu_ring_live(&D, 0));
}

static void address_below(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(0, 0x1000, 64, VRING_DESC_F_WRITE, 0);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_ADDR);
}

static void range_wraps(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(0, UINT64_MAX - 16, 64, VRING_DESC_F_WRITE, 0);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_WRAP);
}

static void descriptor_loop(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(0, GPA + DATA, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put_desc(1, GPA + DATA, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_LOOP);
}

static void chain_too_long(void **s)
{
	(void)s;
	setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	/* an indirect table of 80 linked entries: legal for its size, but
	 * more pieces than we follow */
	struct vring_desc *t = (struct vring_desc *)(void *)(guest + 0x3000);
	for (unsigned i = 0; i < 80; i++)
		t[i] = (struct vring_desc){ GPA + DATA + i * 8, 8,
					    VRING_DESC_F_WRITE | (i + 1 < 80 ? VRING_DESC_F_NEXT : 0),
					    (uint16_t)(i + 1) };
	put_desc(0, GPA + 0x3000, 80 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_LONG);
}

static void write_into_read_only(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(0, GPA + DATA, 64, 0, 0); /* device-readable */
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_RO);
}

static void next_out_of_table(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(0, GPA + DATA, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, NUM + 5);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_INDEX);
	setup_dev(0);
	offer(NUM); /* a head outside the table */
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_INDEX);
}

static void avail_index_lies(void **s)
{
	(void)s;
	setup_dev(0);
	avail()->idx = NUM + 1; /* more than the ring holds */
	assert_int_equal(vu_avail_count(&D, &D.vq[0]), 0);
	assert_broken(VU_E_AVAIL);
}

static void head_offered_twice(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(3, GPA + DATA, 64, VRING_DESC_F_WRITE, 0);
	offer(3);
	offer(3);
	struct vu_chain c;
	assert_int_equal(vu_avail_count(&D, &D.vq[0]), 2);
	assert_int_equal(vu_pop(&D, &D.vq[0], true, &c), 0);
	assert_int_equal(vu_pop(&D, &D.vq[0], true, &c), -1);
	assert_broken(VU_E_REUSED);
}

static void indirect_tables(void **s)
{
	(void)s;
	/* not negotiated: refused */
	setup_dev(0);
	put_desc(0, GPA + 0x3000, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_INDIRECT);
	/* negotiated: followed */
	setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	struct vring_desc *t = (struct vring_desc *)(void *)(guest + 0x3000);
	t[0] = (struct vring_desc){ GPA + DATA, 12, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ GPA + DATA + 64, 1000, VRING_DESC_F_WRITE, 0 };
	put_desc(0, GPA + 0x3000, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(pop(true, &c), 0);
	assert_int_equal(c.total, 1012);
	/* nested, a loop inside, a table outside memory, a ragged length */
	static const struct { uint64_t addr; uint32_t len; int nest, loop; enum vu_err e; } bad[] = {
		{ GPA + 0x3000, 32, 1, 0, VU_E_INDIRECT },
		{ GPA + 0x3000, 32, 0, 1, VU_E_LOOP },
		{ GPA + MEM - 16, 32, 0, 0, VU_E_ADDR },
		{ GPA + 0x3000, 24, 0, 0, VU_E_INDIRECT },
	};
	for (unsigned k = 0; k < 4; k++) {
		setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC);
		t[0] = (struct vring_desc){ GPA + DATA, 12,
					    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1 };
		t[1] = (struct vring_desc){ GPA + DATA, 12, VRING_DESC_F_WRITE, 0 };
		if (bad[k].nest)
			t[1] = (struct vring_desc){ GPA + 0x3000, 32, VRING_DESC_F_INDIRECT, 0 };
		if (bad[k].loop)
			t[1].flags |= VRING_DESC_F_NEXT, t[1].next = 0;
		put_desc(0, bad[k].addr, bad[k].len, VRING_DESC_F_INDIRECT, 0);
		offer(0);
		assert_int_equal(pop(true, &c), -1);
		assert_broken(bad[k].e);
	}
}

static struct vu_msg msg(uint32_t req, uint32_t size)
{
	struct vu_msg m;
	memset(&m, 0, sizeof(m));
	m.request = req;
	m.flags = VU_VERSION;
	m.size = size;
	return m;
}

static void malformed_messages(void **s)
{
	(void)s;
	struct vu_msg r;
	struct { uint32_t req, size; uint64_t val; } bad[] = {
		{ VU_SET_FEATURES, 4, 0 },                 /* short */
		{ VU_SET_FEATURES, 8, 1ull << 63 },        /* not offered */
		{ VU_SET_VRING_NUM, 8, 3ull << 32 },       /* ring 0, size 3 */
		{ VU_SET_VRING_NUM, 8, 7 | 64ull << 32 },  /* ring 7 of 2 */
		{ VU_SET_VRING_KICK, 8, 0 },               /* an fd promised, none sent */
		{ VU_SET_MEM_TABLE, 40, 1 },               /* one region, no fd */
		{ VU_SET_VRING_ENABLE, 8, 5ull << 32 },    /* enable = 5 */
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		setup_dev(0);
		struct vu_msg m = msg(bad[k].req, bad[k].size);
		m.u.u64 = bad[k].val;
		assert_int_equal(vu_handle(&D, &m, &r), 0);
		assert_broken(VU_E_MSG);
	}
	/* a bad version is malformed too */
	setup_dev(0);
	struct vu_msg m = msg(VU_GET_FEATURES, 0);
	m.flags = 2;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_broken(VU_E_MSG);
	/* a payload larger than any message: the stream is out of step */
	setup_dev(0);
	m = msg(VU_SET_OWNER, VU_MAX_PAYLOAD + 1);
	assert_int_equal(vu_handle(&D, &m, &r), -1);
}

static void replies(void **s)
{
	(void)s;
	setup_dev(0);
	struct vu_msg r, m = msg(VU_GET_FEATURES, 0);
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.flags, VU_VERSION | VU_FLAG_REPLY);
	assert_int_equal(r.u.u64, vu_offered_features());
	assert_true(r.u.u64 & 1ull << VIRTIO_NET_F_MRG_RXBUF);
	assert_true(r.u.u64 & 1ull << VIRTIO_RING_F_EVENT_IDX);
	/* REPLY_ACK: success 0, failure 1, when asked for */
	m = msg(VU_SET_PROTOCOL_FEATURES, 8);
	m.u.u64 = 1ull << VU_PF_REPLY_ACK;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	m = msg(VU_SET_VRING_ENABLE, 8);
	m.flags |= VU_FLAG_NEED_REPLY;
	m.u.state.index = 0;
	m.u.state.num = 1;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.u64, 0);
	m.u.state.num = 9;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.u64, 1);
	/* GET_VRING_BASE: where we are; the ring stops */
	setup_dev(0);
	put_desc(0, GPA + DATA, 64, VRING_DESC_F_WRITE, 0);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), 0);
	m = msg(VU_GET_VRING_BASE, 8);
	m.u.state.index = 0;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.state.num, 1);
	assert_false(vu_ring_live(&D, 0));
}

static void queue_pairs(void **s)
{
	(void)s;
	setup_dev(0);
	/* one pair by default: GET_QUEUE_NUM says so, ring 2 does not exist */
	struct vu_msg r, m = msg(VU_GET_QUEUE_NUM, 0);
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.u64, 1);
	m = msg(VU_SET_PROTOCOL_FEATURES, 8);
	m.u.u64 = 1ull << VU_PF_REPLY_ACK;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	m = msg(VU_SET_VRING_NUM, 8);
	m.flags |= VU_FLAG_NEED_REPLY;
	m.u.state.index = 2;
	m.u.state.num = NUM;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.u64, 1); /* refused */
	/* the host offers three: rings 0..5 exist, 6 does not */
	D.max_qp = 3;
	m = msg(VU_GET_QUEUE_NUM, 0);
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.u64, 3);
	m = msg(VU_SET_VRING_NUM, 8);
	m.flags |= VU_FLAG_NEED_REPLY;
	m.u.state.num = NUM;
	m.u.state.index = 5;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.u64, 0);
	assert_int_equal(D.vq[5].num, NUM);
	m.u.state.index = 6;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.u64, 1);
	m = msg(VU_SET_VRING_ENABLE, 8);
	m.flags |= VU_FLAG_NEED_REPLY;
	m.u.state.index = 6;
	m.u.state.num = 1;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.u64, 1);
}

static void broken_until_reset(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(0, GPA + MEM, 64, VRING_DESC_F_WRITE, 0);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_true(D.broken);
	/* GET_STATUS says DEVICE_NEEDS_RESET */
	struct vu_msg r, m = msg(VU_GET_STATUS, 0);
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_true(r.u.u64 & 0x40);
	/* restarting one ring while the other runs is not a reset */
	m = msg(VU_GET_VRING_BASE, 8);
	m.u.state.index = 0;
	vu_handle(&D, &m, &r);
	m = msg(VU_SET_VRING_KICK, 8);
	m.u.u64 = 0 | 0x100;
	vu_handle(&D, &m, &r);
	assert_true(D.broken);
	/* every ring stopped and started afresh is */
	m = msg(VU_GET_VRING_BASE, 8);
	for (uint32_t i = 0; i < 2; i++) {
		m.u.state.index = i;
		vu_handle(&D, &m, &r);
	}
	m = msg(VU_SET_VRING_KICK, 8);
	m.u.u64 = 0 | 0x100;
	vu_handle(&D, &m, &r);
	assert_false(D.broken);
	/* and RESET_OWNER */
	D.broken = true;
	m = msg(VU_RESET_OWNER, 0);
	vu_handle(&D, &m, &r);
	assert_false(D.broken);
}

static void call_honours_suppression(void **s)
{
	(void)s;
	setup_dev(1ull << VIRTIO_RING_F_EVENT_IDX);
	int efd = eventfd(0, EFD_NONBLOCK);
	D.vq[0].call_fd = efd;
	uint16_t *used_event = &avail()->ring[NUM];
	uint64_t v;
	/* the guest wants a call after used index 2 */
	*used_event = 2;
	for (uint16_t i = 0; i < 2; i++)
		vu_used_put(&D.vq[0], i, 60);
	vu_used_publish(&D.vq[0]);
	assert_true(vu_call(&D, &D.vq[0])); /* the first call: always */
	assert_int_equal(read(efd, &v, sizeof(v)), 8);
	vu_used_put(&D.vq[0], 2, 60); /* idx 3: crosses used_event 2 */
	vu_used_publish(&D.vq[0]);
	assert_true(vu_call(&D, &D.vq[0]));
	assert_int_equal(read(efd, &v, sizeof(v)), 8);
	vu_used_put(&D.vq[0], 3, 60); /* idx 4: the guest did not ask */
	vu_used_publish(&D.vq[0]);
	assert_false(vu_call(&D, &D.vq[0]));
	assert_false(vu_call(&D, &D.vq[0])); /* nothing new: nothing */
	/* without EVENT_IDX, NO_INTERRUPT silences calls */
	D.features &= ~(1ull << VIRTIO_RING_F_EVENT_IDX);
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	vu_used_put(&D.vq[0], 4, 60);
	assert_false(vu_call(&D, &D.vq[0]));
	avail()->flags = 0;
	vu_used_put(&D.vq[0], 5, 60);
	assert_true(vu_call(&D, &D.vq[0]));
	vu_dev_reset(&D); /* closes efd */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_chain),
		cmocka_unit_test(address_outside),
		cmocka_unit_test(address_below),
		cmocka_unit_test(range_wraps),
		cmocka_unit_test(descriptor_loop),
		cmocka_unit_test(chain_too_long),
		cmocka_unit_test(write_into_read_only),
		cmocka_unit_test(next_out_of_table),
		cmocka_unit_test(avail_index_lies),
		cmocka_unit_test(head_offered_twice),
		cmocka_unit_test(indirect_tables),
		cmocka_unit_test(malformed_messages),
		cmocka_unit_test(replies),
		cmocka_unit_test(queue_pairs),
		cmocka_unit_test(broken_until_reset),
		cmocka_unit_test(call_honours_suppression),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vu_dev_reset(&D);
	return rc;
}
