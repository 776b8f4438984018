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
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/magic.h>
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

/* The request table (issue 13): each request declared once, with its
 * name, the fds it takes, its payload size, whether it quiesces and whether
 * it answers; unknown and unoffered requests are refused as before. */
static unsigned quiesced;
static void count_quiesce(void *arg)
{
	(void)arg;
	quiesced++;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void request_table(void **s)
{
	(void)s;
	/* names for logs */
	assert_string_equal(vu_request_name(VU_SET_MEM_TABLE), "SET_MEM_TABLE");
	assert_string_equal(vu_request_name(VU_GET_FEATURES), "GET_FEATURES");
	assert_string_equal(vu_request_name(VU_SET_VRING_KICK), "SET_VRING_KICK");
	assert_string_equal(vu_request_name(VU_SEND_RARP), "SEND_RARP");
	assert_string_equal(vu_request_name(VU_GET_STATUS), "GET_STATUS");
	assert_string_equal(vu_request_name(0), "UNKNOWN");
	assert_string_equal(vu_request_name(21), "UNKNOWN");
	assert_string_equal(vu_request_name(41), "UNKNOWN");
	assert_string_equal(vu_request_name(0xffffffffu), "UNKNOWN");

	/* exactly the requests that change rings or memory quiesce */
	static const uint32_t q[] = { VU_SET_FEATURES, VU_RESET_OWNER, VU_SET_MEM_TABLE,
				      VU_SET_VRING_NUM, VU_SET_VRING_ADDR, VU_SET_VRING_BASE,
				      VU_GET_VRING_BASE, VU_RESET_DEVICE, VU_SET_STATUS };
	unsigned nq = 0;
	for (uint32_t r = 0; r < 300; r++)
		nq += vu_request_quiesces(r);
	assert_int_equal(nq, 9);
	for (unsigned k = 0; k < sizeof(q) / sizeof(q[0]); k++)
		assert_true(vu_request_quiesces(q[k]));
	assert_false(vu_request_quiesces(0xffffffffu));

	/* the host is asked to quiesce for those (and only those) it serves */
	struct vu_host_ops ops = { .quiesce = count_quiesce };
	setup_dev(0);
	vu_dev_reset(&D);
	vu_dev_init(&D, &ops);
	quiesced = 0;
	struct vu_msg r, m = msg(VU_SET_VRING_ENABLE, 8);
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_int_equal(quiesced, 0);
	m = msg(VU_SET_VRING_BASE, 8);
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_int_equal(quiesced, 1);
	m = msg(VU_SET_VRING_BASE, 4); /* malformed: refused before the host is asked */
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_int_equal(quiesced, 1);
	assert_true(D.broken);
	vu_dev_reset(&D);

	/* not offered, or not known: refused (REPLY_ACK 1 when asked), the
	 * device unharmed, any fds closed; the payload's size is checked for
	 * the requests whose payload we know */
	struct { uint32_t req, size; } refused[] = {
		{ VU_NET_SET_MTU, 8 }, { VU_GET_MAX_MEM_SLOTS, 0 }, { 0, 0 }, { 21, 3 },
		{ 24, 200 }, { 41, 8 }, { 1000, 17 },
	};
	for (unsigned k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
		setup_dev(0);
		D.protocol_features = 1ull << VU_PF_REPLY_ACK;
		int efd = eventfd(0, 0);
		m = msg(refused[k].req, refused[k].size);
		m.flags |= VU_FLAG_NEED_REPLY;
		m.fds[0] = efd;
		m.nfds = 1;
		assert_int_equal(vu_handle(&D, &m, &r), 1);
		assert_int_equal(r.request, refused[k].req);
		assert_int_equal(r.size, 8);
		assert_int_equal(r.u.u64, 1);
		assert_false(D.broken);
		assert_int_equal(D.errors[VU_E_MSG], 0);
		assert_false(fd_open(efd));
	}
	struct { uint32_t req, size; } bad_size[] = {
		{ VU_SET_LOG_BASE, 8 }, { VU_SEND_RARP, 6 }, { VU_NET_SET_MTU, 2 },
		{ VU_SET_VRING_ADDR, 8 }, { VU_GET_VRING_BASE, 4 }, { VU_SET_STATUS, 16 },
		{ VU_SET_PROTOCOL_FEATURES, 0 }, { VU_SET_VRING_CALL, 12 },
		{ VU_SET_MEM_TABLE, 4 }, { VU_SET_MEM_TABLE, 8 + 32 * 9 },
	};
	for (unsigned k = 0; k < sizeof(bad_size) / sizeof(bad_size[0]); k++) {
		setup_dev(0);
		m = msg(bad_size[k].req, bad_size[k].size);
		if (bad_size[k].req == VU_SET_MEM_TABLE)
			m.u.mem.nregions = (bad_size[k].size - 8) / 32;
		assert_int_equal(vu_handle(&D, &m, &r), 0);
		assert_broken(VU_E_MSG);
	}
	/* a request that takes no fds: served, those sent closed */
	setup_dev(0);
	int efd = eventfd(0, 0);
	m = msg(VU_SET_OWNER, 0);
	m.fds[0] = efd;
	m.nfds = 1;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_true(D.owner);
	assert_false(D.broken);
	assert_false(fd_open(efd));
	/* a ring fd: one when bit 8 is clear, none when it is set */
	setup_dev(0);
	int e1 = eventfd(0, 0), e2 = eventfd(0, 0);
	m = msg(VU_SET_VRING_CALL, 8);
	m.u.u64 = 0x100; /* no fd, but two sent */
	m.fds[0] = e1;
	m.fds[1] = e2;
	m.nfds = 2;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_broken(VU_E_MSG);
	assert_false(fd_open(e1));
	assert_false(fd_open(e2));
	/* answers: the requests that have a payload of their own to send */
	static const uint32_t answers[] = { VU_GET_FEATURES, VU_GET_PROTOCOL_FEATURES,
					    VU_GET_QUEUE_NUM, VU_GET_STATUS };
	for (unsigned k = 0; k < sizeof(answers) / sizeof(answers[0]); k++) {
		setup_dev(0);
		m = msg(answers[k], 0);
		assert_int_equal(vu_handle(&D, &m, &r), 1);
		assert_int_equal(r.request, answers[k]);
		assert_int_equal(r.flags, VU_VERSION | VU_FLAG_REPLY);
		assert_int_equal(r.size, 8);
	}
	m = msg(VU_SET_OWNER, 0); /* no answer, no REPLY_ACK negotiated */
	m.flags |= VU_FLAG_NEED_REPLY;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
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

/* QEMU 7.2 stops a device with SET_STATUS 0 and only then asks each ring's
 * GET_VRING_BASE (migration takes the positions from those answers): the
 * stop keeps the positions and the memory; a device that needs a reset is
 * still reset by status 0. */
static void status_zero_keeps_positions(void **s)
{
	(void)s;
	setup_dev(0);
	for (uint16_t i = 0; i < 3; i++) {
		put_desc(i, GPA + DATA + 0x100u * i, 64, VRING_DESC_F_WRITE, 0);
		offer(i);
	}
	struct vu_chain c;
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(vu_pop(&D, &D.vq[0], true, &c), 0);
	struct vu_msg r, m = msg(VU_SET_STATUS, 8);
	m.u.u64 = 0;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(vu_ring_live(&D, 0));
	assert_false(vu_ring_live(&D, 1));
	assert_int_equal(D.mem.n, 1);
	assert_int_equal(D.resets, 0);
	m = msg(VU_GET_VRING_BASE, 8);
	m.u.state.index = 0;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.state.num, 3);
	m.u.state.index = 1;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.state.num, 0);
	/* a kick starts it again where it was */
	m = msg(VU_SET_VRING_KICK, 8);
	m.u.u64 = 0 | 0x100;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_true(vu_ring_live(&D, 0));
	assert_int_equal(D.vq[0].last_avail, 3);
	/* broken: status 0 is the driver's reset */
	D.broken = true;
	m = msg(VU_SET_STATUS, 8);
	m.u.u64 = 0;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(D.broken);
	assert_int_equal(D.resets, 1);
	assert_int_equal(D.mem.n, 0);
	assert_int_equal(D.vq[0].last_avail, 0);
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


/* ---- issue 12: containment ------------------------------------------- */

/* What the port does in a round: every chain the ring offers taken, filled
 * and given back, published and signalled (only while the ring is live). */
static void port_round(unsigned i)
{
	struct vu_vring *v = &D.vq[i];
	if (!vu_ring_live(&D, i) || !v->inflight)
		return;
	unsigned n = vu_avail_count(&D, v);
	for (unsigned k = 0; k < n && !D.broken; k++) {
		struct vu_chain c;
		if (vu_pop(&D, v, true, &c) < 0)
			break;
		vu_used_put(v, c.head, 64);
	}
	vu_used_publish(v);
	vu_notify_enable(&D, v, true);
	vu_call(&D, v);
}

/* Point 1, the hole itself: a split ring runs with a used index the guest
 * chose (200); SET_FEATURES then switches to packed rings under it.  The
 * old code re-laid the ring as packed with the position kept: the used
 * descriptor went to slot 200 - 64 = 136, 2 KiB past the 1 KiB ring. */
static void layout_switch_refused(void **s)
{
	(void)s;
	uint64_t f = 1ull << VIRTIO_F_VERSION_1;
	setup_dev(0);
	struct vu_msg r, m = msg(VU_GET_VRING_BASE, 8);
	assert_int_equal(vu_handle(&D, &m, &r), 1); /* ring 0 stops */
	((struct vring_used *)(void *)(guest + USED))->idx = 200;
	m = msg(VU_SET_VRING_KICK, 8);
	m.u.u64 = 0x100;
	assert_int_equal(vu_handle(&D, &m, &r), 0); /* and starts at used 200 */
	assert_false(D.broken);
	memset(guest + DESC + 16 * NUM, 0xc3, AVAIL - DESC - 16 * NUM); /* canaries */
	/* a packed descriptor where a packed ring would look next (slot 0,
	 * wrap counter 1: AVAIL set) */
	struct vring_packed_desc *pd = (struct vring_packed_desc *)(void *)(guest + DESC);
	pd[0] = (struct vring_packed_desc){ .addr = GPA + DATA, .len = 64, .id = 0,
					    .flags = VRING_DESC_F_WRITE |
						     1u << VRING_PACKED_DESC_F_AVAIL };
	m = msg(VU_SET_FEATURES, 8);
	m.u.u64 = f | 1ull << VU_F_RING_PACKED;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	port_round(0);
	for (unsigned k = DESC + 16 * NUM; k < AVAIL; k++)
		assert_int_equal(guest[k], 0xc3);
	assert_broken(VU_E_MSG);
	assert_int_equal(D.features, f); /* nothing applied */
	assert_false(D.vq[0].packed);
	/* stopped, the same switch is how a front-end sets rings up afresh */
	setup_dev(0);
	m = msg(VU_GET_VRING_BASE, 8);
	for (uint32_t i = 0; i < 2; i++) {
		m.u.state.index = i;
		assert_int_equal(vu_handle(&D, &m, &r), 1);
	}
	m = msg(VU_SET_FEATURES, 8);
	m.u.u64 = f | 1ull << VU_F_RING_PACKED;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(D.broken);
	assert_true(D.vq[0].packed);
}

/* Point 1: size and base of a running ring are refused; what QEMU sends to
 * running rings (features again, the same layout; new ring addresses for
 * the same size) still works, positions kept. */
static void running_ring_requests(void **s)
{
	(void)s;
	setup_dev(0);
	put_desc(0, GPA + DATA, 64, VRING_DESC_F_WRITE, 0);
	offer(0);
	port_round(0);
	assert_int_equal(D.vq[0].last_avail, 1);
	struct vu_msg r, m = msg(VU_SET_FEATURES, 8);
	m.u.u64 = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(D.broken);
	assert_int_equal(D.vq[0].last_avail, 1);
	assert_int_equal(D.vq[0].used_idx, 1);
	assert_true(vu_ring_live(&D, 0));
	/* the ring moved (same size): followed */
	m = msg(VU_SET_VRING_ADDR, 40);
	m.u.addr.index = 0;
	m.u.addr.desc = GPA + 0x5000;
	m.u.addr.avail = GPA + 0x6000;
	m.u.addr.used = GPA + 0x7000;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(D.broken);
	assert_ptr_equal(D.vq[0].desc, guest + 0x5000);
	assert_int_equal(D.vq[0].last_avail, 1);
	assert_true(vu_ring_live(&D, 0));
	/* a new size or base for it: refused, nothing applied */
	static const uint32_t req[] = { VU_SET_VRING_NUM, VU_SET_VRING_BASE };
	for (unsigned k = 0; k < 2; k++) {
		setup_dev(0);
		port_round(0);
		m = msg(req[k], 8);
		m.u.state.index = 0;
		m.u.state.num = 16;
		assert_int_equal(vu_handle(&D, &m, &r), 0);
		assert_broken(VU_E_MSG);
		assert_int_equal(D.vq[0].num, NUM);
		assert_int_equal(D.vq[0].last_avail, 0);
	}
	/* ring addresses outside memory: refused, the ring no longer used */
	setup_dev(0);
	m = msg(VU_SET_VRING_ADDR, 40);
	m.u.addr.index = 0;
	m.u.addr.desc = GPA + MEM - 16;
	m.u.addr.avail = GPA + AVAIL;
	m.u.addr.used = GPA + USED;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_broken(VU_E_MSG);
	assert_false(vu_ring_live(&D, 0));
	assert_null(D.vq[0].desc);
}

/* A second ring of 256 (ring 1), for chains longer than VU_MAX_SEGS. */
static struct vu_vring *big_ring(void)
{
	struct vu_msg r, m = msg(VU_GET_VRING_BASE, 8);
	m.u.state.index = 1;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	m = msg(VU_SET_VRING_NUM, 8);
	m.u.state.index = 1;
	m.u.state.num = 256;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	m = msg(VU_SET_VRING_ADDR, 40);
	m.u.addr.index = 1;
	m.u.addr.desc = GPA + 0x8000;
	m.u.addr.avail = GPA + 0x9000;
	m.u.addr.used = GPA + 0xa000;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	m = msg(VU_SET_VRING_KICK, 8);
	m.u.u64 = 1 | 0x100;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_true(vu_ring_live(&D, 1));
	assert_false(D.broken);
	return &D.vq[1];
}

/* Point 9: a chain of 200 empty descriptors on a ring of 256 used to be
 * followed to its end (200 reads, nothing gained); now the 65th breaks
 * it.  Descriptor 65 is bad in another way: were it read, the reason
 * would be another. */
static void empty_descriptor_chain(void **s)
{
	(void)s;
	setup_dev(0);
	struct vu_vring *v = big_ring();
	struct vring_desc *t = (struct vring_desc *)(void *)(guest + 0x8000);
	for (unsigned i = 0; i < 200; i++)
		t[i] = (struct vring_desc){ GPA + DATA, 0,
					    VRING_DESC_F_WRITE | (i < 199 ? VRING_DESC_F_NEXT : 0),
					    (uint16_t)(i + 1) };
	t[VU_MAX_SEGS + 1] = (struct vring_desc){ GPA + MEM, 64, VRING_DESC_F_WRITE, 9999 };
	struct vring_avail *a = (struct vring_avail *)(void *)(guest + 0x9000);
	a->ring[0] = 0;
	a->idx = 1;
	assert_int_equal(vu_avail_count(&D, v), 1);
	struct vu_chain c;
	assert_int_equal(vu_pop(&D, v, true, &c), -1);
	assert_broken(VU_E_LONG);
	/* 64 of them are one chain still */
	setup_dev(0);
	v = big_ring();
	for (unsigned i = 0; i < VU_MAX_SEGS; i++)
		t[i] = (struct vring_desc){ GPA + DATA, i == 0 ? 64 : 0,
					    VRING_DESC_F_WRITE |
						    (i + 1 < VU_MAX_SEGS ? VRING_DESC_F_NEXT : 0),
					    (uint16_t)(i + 1) };
	a->ring[0] = 0;
	a->idx = 1;
	assert_int_equal(vu_avail_count(&D, v), 1);
	assert_int_equal(vu_pop(&D, v, true, &c), 0);
	assert_int_equal(c.total, 64);
	assert_false(D.broken);
}

/* Point 9: an indirect table of 32768 empty descriptors, each linked to the
 * next (512 KiB of guest memory, a second region): refused before any of
 * its entries is read; one of 65 too; one longer than the ring too. */
static void huge_indirect_table(void **s)
{
	(void)s;
	const uint64_t tgpa = 0x10000000ull;
	const size_t tlen = 32768 * 16;
	struct vring_desc *t = calloc(1, tlen);
	assert_non_null(t);
	static const struct { uint32_t n; enum vu_err e; } cases[] = {
		{ 32768, VU_E_LONG }, { VU_MAX_SEGS + 1, VU_E_LONG }, { VU_MAX_SEGS, 0 },
	};
	for (unsigned k = 0; k < 3; k++) {
		setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC);
		struct vu_vring *v = big_ring();
		D.mem.r[1] = (struct vu_region){ .gpa = tgpa, .size = tlen, .uva = tgpa,
						 .host = (uint8_t *)t };
		D.mem.n = 2;
		uint32_t n = cases[k].n;
		for (uint32_t i = 0; i < n; i++)
			t[i] = (struct vring_desc){ GPA + DATA, 0,
						    VRING_DESC_F_WRITE | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
						    (uint16_t)(i + 1) };
		struct vring_desc *rd = (struct vring_desc *)(void *)(guest + 0x8000);
		rd[0] = (struct vring_desc){ tgpa, n * 16, VRING_DESC_F_INDIRECT, 0 };
		struct vring_avail *a = (struct vring_avail *)(void *)(guest + 0x9000);
		a->ring[0] = 0;
		a->idx = 1;
		assert_int_equal(vu_avail_count(&D, v), 1);
		struct vu_chain c;
		if (!cases[k].e) {
			assert_int_equal(vu_pop(&D, v, true, &c), 0);
			assert_false(D.broken);
			continue;
		}
		/* the entries after the table's head poisoned: a read of any
		 * of them would give another reason */
		t[1] = (struct vring_desc){ GPA + MEM, 64, VRING_DESC_F_WRITE, 0 };
		assert_int_equal(vu_pop(&D, v, true, &c), -1);
		assert_broken(cases[k].e);
	}
	/* longer than the ring (64) but within what we follow: the ring rules */
	setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	D.vq[0].num = 32; /* as if SET_VRING_NUM 32 */
	for (uint32_t i = 0; i < 40; i++)
		t[i] = (struct vring_desc){ GPA + DATA, 8, VRING_DESC_F_WRITE, 0 };
	D.mem.r[1] = (struct vu_region){ .gpa = tgpa, .size = tlen, .uva = tgpa,
					 .host = (uint8_t *)t };
	D.mem.n = 2;
	put_desc(0, tgpa, 40 * 16, VRING_DESC_F_INDIRECT, 0);
	avail()->ring[0] = 0;
	avail()->idx = 1;
	struct vu_chain c;
	assert_int_equal(pop(true, &c), -1);
	assert_broken(VU_E_INDIRECT);
	D.mem.n = 1;
	free(t);
}

/* Point 3: notification fds must be eventfds, made non-blocking. */
static void notification_fds(void **s)
{
	(void)s;
	static const uint32_t req[] = { VU_SET_VRING_KICK, VU_SET_VRING_CALL, VU_SET_VRING_ERR };
	for (unsigned k = 0; k < 3; k++) {
		setup_dev(0);
		int p[2];
		assert_int_equal(pipe(p), 0);
		struct vu_msg r, m = msg(req[k], 8);
		m.u.u64 = 0;
		m.fds[0] = p[1];
		m.nfds = 1;
		assert_int_equal(vu_handle(&D, &m, &r), 0);
		assert_broken(VU_E_MSG);
		assert_int_equal(D.vq[0].call_fd, -1);
		assert_int_equal(D.vq[0].err_fd, -1);
		assert_int_equal(fcntl(p[1], F_GETFD), -1); /* closed */
		close(p[0]);
	}
	/* an eventfd: kept, made non-blocking; a full counter (the guest's
	 * doing) loses the call instead of blocking us */
	setup_dev(0);
	int efd = eventfd(0, 0);
	struct vu_msg r, m = msg(VU_SET_VRING_CALL, 8);
	m.u.u64 = 0;
	m.fds[0] = efd;
	m.nfds = 1;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(D.broken);
	assert_int_equal(D.vq[0].call_fd, efd);
	assert_true(fcntl(efd, F_GETFL) & O_NONBLOCK);
	uint64_t full = 0xfffffffffffffffeull;
	assert_int_equal(write(efd, &full, sizeof(full)), 8);
	vu_used_put(&D.vq[0], 0, 60);
	vu_used_publish(&D.vq[0]);
	assert_false(vu_call(&D, &D.vq[0]));
	assert_int_equal(D.calls_lost, 1);
	assert_false(D.broken);
	vu_dev_reset(&D); /* closes efd */
}

/* ---- points 2 and 10: memory tables against their files --------------- */

static void *real_map(void *arg, int fd, size_t len)
{
	(void)arg;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void real_unmap(void *arg, void *addr, size_t len)
{
	(void)arg;
	munmap(addr, len);
}

static int memfd(uint64_t size)
{
	int fd = memfd_create("vu-test", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

struct region { uint64_t gpa, size, off; };

/* SET_MEM_TABLE with n regions of fd (dup'ed), uva = gpa; true if taken. */
static bool mem_table(struct vu_dev *d, int fd, const struct region *rg, unsigned n)
{
	struct vu_msg r, m = msg(VU_SET_MEM_TABLE, 8 + 32 * n);
	m.u.mem.nregions = n;
	for (unsigned i = 0; i < n; i++) {
		m.u.mem.r[i].gpa = rg[i].gpa;
		m.u.mem.r[i].size = rg[i].size;
		m.u.mem.r[i].uva = 0x7f0000000000ull + rg[i].gpa;
		m.u.mem.r[i].mmap_off = rg[i].off;
		m.fds[i] = dup(fd);
	}
	m.nfds = n;
	uint64_t before = d->errors[VU_E_MSG];
	assert_int_equal(vu_handle(d, &m, &r), 0);
	return d->errors[VU_E_MSG] == before;
}

static void memory_tables(void **s)
{
	(void)s;
	static struct vu_dev E;
	struct vu_host_ops ops = { .map = real_map, .unmap = real_unmap };
	const uint64_t K = 1024, G = K * K * K;
	int fd = memfd(64 * K);
	/* a region longer than its file; past its end from an offset */
	static const struct region longer = { 0, 128 * 1024, 0 }, past = { 0, 64 * 1024, 32 * 1024 };
	vu_dev_init(&E, &ops);
	assert_false(mem_table(&E, fd, &longer, 1));
	assert_true(E.broken);
	assert_int_equal(E.mem.n, 0);
	vu_dev_init(&E, &ops);
	assert_false(mem_table(&E, fd, &past, 1));
	assert_int_equal(E.mem.n, 0);
	/* not a file */
	int p[2];
	assert_int_equal(pipe(p), 0);
	static const struct region one = { 0, 4096, 0 };
	vu_dev_init(&E, &ops);
	assert_false(mem_table(&E, p[1], &one, 1));
	assert_int_equal(E.mem.n, 0);
	close(p[0]);
	close(p[1]);
	/* a file on a disk (the build directory's filesystem): a fault in
	 * it would wait for I/O inside the worker */
	char path[] = "test_vu_region.XXXXXX";
	int disk = mkstemp(path);
	assert_true(disk >= 0);
	unlink(path);
	assert_int_equal(ftruncate(disk, 64 * K), 0);
	struct statfs fs;
	assert_int_equal(fstatfs(disk, &fs), 0);
	if (fs.f_type != TMPFS_MAGIC && fs.f_type != HUGETLBFS_MAGIC) {
		vu_dev_init(&E, &ops);
		assert_false(mem_table(&E, disk, &one, 1));
		assert_int_equal(E.mem.n, 0);
	} else {
		print_message("the build directory is in memory: disk-file case not run\n");
	}
	close(disk);
	/* eight regions of a sparse file of 160 GiB (no memory): 1280 GiB of
	 * address space, over VU_MAX_MAPPED */
	int big = memfd(160 * G);
	struct region eight[8];
	for (unsigned i = 0; i < 8; i++)
		eight[i] = (struct region){ i * 256 * G, 160 * G, 0 };
	vu_dev_init(&E, &ops);
	assert_false(mem_table(&E, big, eight, 8));
	assert_int_equal(E.mem.n, 0);
	/* six of them fit (960 GiB) */
	vu_dev_init(&E, &ops);
	assert_true(mem_table(&E, big, eight, 6));
	assert_int_equal(E.mem.n, 6);
	vu_dev_reset(&E);
	close(big);
	/* an honest table: two regions of one file; a ring in it runs, and
	 * the table sent again (memory hotplug) keeps it running */
	static const struct region two[2] = { { 0, 32 * 1024, 0 }, { 1 << 20, 32 * 1024, 32 * 1024 } };
	vu_dev_init(&E, &ops);
	assert_true(mem_table(&E, fd, two, 2));
	assert_int_equal(E.mem.n, 2);
	struct vu_msg r, m = msg(VU_SET_VRING_NUM, 8);
	m.u.state.num = 64;
	assert_int_equal(vu_handle(&E, &m, &r), 0);
	m = msg(VU_SET_VRING_ADDR, 40);
	m.u.addr.desc = 0x7f0000000000ull;
	m.u.addr.avail = 0x7f0000000000ull + 0x1000;
	m.u.addr.used = 0x7f0000000000ull + 0x2000;
	assert_int_equal(vu_handle(&E, &m, &r), 0);
	m = msg(VU_SET_VRING_KICK, 8);
	m.u.u64 = 0x100;
	assert_int_equal(vu_handle(&E, &m, &r), 0);
	assert_true(vu_ring_live(&E, 0));
	assert_true(mem_table(&E, fd, two, 2));
	assert_true(vu_ring_live(&E, 0));
	assert_false(E.broken);
	vu_dev_reset(&E);
	close(fd);
}

/* ---- issue 15: the dirty-page log ------------------------------------- */

/* SET_LOG_BASE of fd (dup'ed: the caller keeps it) with size and offset,
 * LOG_SHMFD negotiated; the answer in r. */
static int log_base(int fd, uint64_t size, uint64_t off, struct vu_msg *r)
{
	struct vu_msg m = msg(VU_SET_LOG_BASE, 16);
	m.u.log.size = size;
	m.u.log.offset = off;
	m.fds[0] = fd >= 0 ? dup(fd) : -1;
	m.nfds = fd >= 0 ? 1 : 0;
	return vu_handle(&D, &m, r);
}

static void setup_log_dev(void)
{
	setup_dev(0);
	D.ops = (struct vu_host_ops){ .map = real_map, .unmap = real_unmap };
	D.protocol_features = 1ull << VU_PF_LOG_SHMFD | 1ull << VU_PF_REPLY_ACK;
}

/* How many bits of the log (n bytes) are set. */
static unsigned log_bits(const uint8_t *log, size_t n)
{
	unsigned k = 0;
	for (size_t i = 0; i < n; i++)
		k += (unsigned)__builtin_popcount(log[i]);
	return k;
}

static void log_ring_addr(uint32_t i, uint32_t flags, uint64_t log)
{
	struct vu_msg r, m = msg(VU_SET_VRING_ADDR, 40);
	m.u.addr.index = i;
	m.u.addr.flags = flags;
	m.u.addr.desc = GPA + DESC + i * 0x8000;
	m.u.addr.avail = GPA + AVAIL + i * 0x8000;
	m.u.addr.used = GPA + USED + i * 0x8000;
	m.u.addr.log = log;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
}

static void set_features(uint64_t f)
{
	struct vu_msg r, m = msg(VU_SET_FEATURES, 8);
	m.u.u64 = f;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(D.broken);
}

/* QEMU's migration: the log sent (answered, no payload), logging on with
 * SET_FEATURES and the rings' VHOST_VRING_F_LOG; the used ring's writes
 * and the buffers' mark exactly their pages; logging off marks nothing. */
static void dirty_log(void **s)
{
	(void)s;
	assert_true(vu_offered_features() & 1ull << VU_F_LOG_ALL);
	assert_true(vu_offered_protocol_features() & 1ull << VU_PF_LOG_SHMFD);
	setup_log_dev();
	int lfd = memfd(4096);
	uint8_t *log = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	assert_true(log != MAP_FAILED);
	struct vu_msg r;
	/* guest memory ends at GPA + MEM: pages up to 0x10f, 34 bytes; the
	 * log starts 64 bytes into its file */
	assert_int_equal(log_base(lfd, 34, 64, &r), 1);
	assert_int_equal(r.request, VU_SET_LOG_BASE);
	assert_int_equal(r.flags, VU_VERSION | VU_FLAG_REPLY);
	assert_int_equal(r.size, 0);
	assert_false(D.broken);
	assert_int_equal(D.log.size, 34);
	uint8_t *bits = log + 64;
	/* the log is there, VU_F_LOG_ALL is not: off */
	assert_null(vu_log_on(&D));
	log_ring_addr(0, 1u << VU_VRING_F_LOG, GPA + USED);
	assert_null(D.vq[0].log);
	put_desc(0, GPA + DATA, 64, VRING_DESC_F_WRITE, 0);
	offer(0);
	struct vu_chain c;
	assert_int_equal(pop(true, &c), 0);
	vu_used_put(&D.vq[0], c.head, 64);
	vu_used_publish(&D.vq[0]);
	assert_int_equal(log_bits(log, 4096), 0);
	/* on: SET_FEATURES again, on the running ring */
	uint64_t f = D.features | 1ull << VU_F_LOG_ALL;
	set_features(f);
	assert_ptr_equal(vu_log_on(&D), &D.log);
	assert_ptr_equal(D.vq[0].log, &D.log);
	assert_null(D.vq[1].log); /* its flag is not set */
	put_desc(1, GPA + DATA, 64, VRING_DESC_F_WRITE, 0);
	offer(1);
	assert_int_equal(pop(true, &c), 0);
	/* entry 1, then the index: page GPA + USED = 0x102, byte 0x20 bit 2 */
	vu_used_put(&D.vq[0], c.head, 64);
	assert_int_equal(bits[0x20], 0x04);
	assert_int_equal(log_bits(log, 4096), 1);
	bits[0x20] = 0;
	vu_used_publish(&D.vq[0]);
	assert_int_equal(bits[0x20], 0x04);
	assert_int_equal(log_bits(log, 4096), 1);
	assert_int_equal(D.log.marked, 2);
	/* a buffer written across two pages (the copy path's pieces) */
	vu_log_host(&D, guest + DATA + 4090, 12); /* pages 0x104, 0x105 */
	assert_int_equal(bits[0x20], 0x04 | 0x10 | 0x20);
	assert_int_equal(D.log.marked, 4);
	/* the front-end clears what it copied; the next write marks again */
	bits[0x20] = 0;
	vu_log_host(&D, guest + DATA, 1);
	assert_int_equal(bits[0x20], 0x10);
	assert_int_equal(D.log.marked, 5);
	/* the last page of guest memory, the last bit the log has */
	vu_log_host(&D, guest + MEM - 1, 1); /* page 0x10f: byte 0x21, bit 7 */
	assert_int_equal(bits[0x21], 0x80);
	/* not guest memory: nothing */
	vu_log_host(&D, beyond, 8);
	assert_int_equal(log_bits(log, 4096), 2);
	assert_int_equal(D.log.beyond, 0);
	/* many entries at once, wrapping: ring 1's used ring straddles pages
	 * 0x103 and 0x104 (entries 0..31 before GPA + 0x4000, 32.. after) */
	struct vu_msg m = msg(VU_SET_VRING_ADDR, 40);
	m.u.addr.index = 1;
	m.u.addr.flags = 1u << VU_VRING_F_LOG;
	m.u.addr.desc = GPA + DESC + 0x8000;
	m.u.addr.avail = GPA + AVAIL + 0x8000;
	m.u.addr.used = m.u.addr.log = GPA + 0x3f00;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_ptr_equal(D.vq[1].log, &D.log);
	memset(bits, 0, 34);
	struct vring_used_elem e[NUM];
	for (unsigned i = 0; i < NUM; i++)
		e[i] = (struct vring_used_elem){ (uint32_t)i, 0 };
	D.vq[1].used_idx = NUM - 2; /* entries 62, 63, 0, 1 */
	vu_used_put_many(&D.vq[1], e, 4);
	assert_int_equal(bits[0x20], 0x08 | 0x10);
	assert_int_equal(log_bits(log, 4096), 2);
	memset(bits, 0, 34);
	vu_used_put_many(&D.vq[1], e, 2); /* entries 2, 3 */
	assert_int_equal(bits[0x20], 0x08);
	memset(bits, 0, 34);
	D.vq[1].used_idx = 61;
	vu_used_put(&D.vq[1], 0, 0); /* entry 61: 0x3f04 + 488, page 0x104 */
	assert_int_equal(bits[0x20], 0x10);
	memset(bits, 0, 34);
	vu_used_put_many(&D.vq[1], e, NUM); /* the whole ring */
	assert_int_equal(bits[0x20], 0x08 | 0x10);
	assert_int_equal(log_bits(log, 4096), 2);
	/* off again: nothing marked any more */
	memset(bits, 0, 34);
	uint64_t before = D.log.marked;
	set_features(f & ~(1ull << VU_F_LOG_ALL));
	assert_null(vu_log_on(&D));
	assert_null(D.vq[0].log);
	vu_used_put(&D.vq[0], 0, 0);
	vu_used_publish(&D.vq[0]);
	assert_int_equal(log_bits(log, 4096), 0);
	assert_int_equal(D.log.marked, before);
	/* a ring whose log address is not where its used ring is: the
	 * pages marked would not be those written; refused */
	log_ring_addr(1, 1u << VU_VRING_F_LOG, GPA + USED + 0x8000 + 8);
	assert_true(D.broken);
	assert_int_equal(D.broken_why, VU_E_LOG);
	assert_int_equal(D.errors[VU_E_LOG], 1);
	/* a reset forgets the log (unmapped) */
	vu_dev_reset(&D);
	assert_null(D.log.base);
	munmap(log, 4096);
	close(lfd);
}

/* Turning logging on or off changes no ring: those messages do not make
 * the host quiesce (its in-flight buffers go on); any other change does. */
static void log_toggles_do_not_quiesce(void **s)
{
	(void)s;
	setup_dev(0);
	uint64_t f = D.features;
	D.features_set = true;
	struct vu_msg m = msg(VU_SET_FEATURES, 8);
	m.u.u64 = f | 1ull << VU_F_LOG_ALL;
	assert_false(vu_msg_quiesces(&D, &m));
	m.u.u64 = f;
	assert_false(vu_msg_quiesces(&D, &m)); /* the same again */
	m.u.u64 = f | 1ull << VU_F_LOG_ALL | 1ull << VIRTIO_RING_F_EVENT_IDX;
	assert_true(vu_msg_quiesces(&D, &m));
	D.features_set = false; /* the first SET_FEATURES: always */
	m.u.u64 = f;
	assert_true(vu_msg_quiesces(&D, &m));
	m = msg(VU_SET_VRING_ADDR, 40);
	m.u.addr.index = 1;
	m.u.addr.flags = 1u << VU_VRING_F_LOG;
	m.u.addr.desc = GPA + DESC + 0x8000;
	m.u.addr.avail = GPA + AVAIL + 0x8000;
	m.u.addr.used = GPA + USED + 0x8000;
	m.u.addr.log = GPA + USED + 0x8000;
	assert_false(vu_msg_quiesces(&D, &m));
	m.u.addr.used += 0x100; /* the ring moves */
	assert_true(vu_msg_quiesces(&D, &m));
	m.u.addr.used -= 0x100;
	m.u.addr.index = 7; /* not a ring: refused by its handler, quiesced as before */
	assert_true(vu_msg_quiesces(&D, &m));
	m = msg(VU_SET_VRING_BASE, 8);
	assert_true(vu_msg_quiesces(&D, &m));
	m = msg(VU_SET_LOG_BASE, 16);
	assert_false(vu_msg_quiesces(&D, &m));
}

/* A split ring that starts where SET_VRING_BASE's index is not used->idx:
 * the buffers between were taken by a back-end before (a migration's
 * source that gave up on them) and never used: counted (base_mismatch,
 * the port logs it), the ring runs as before.  A stop and start with
 * nothing in flight counts nothing. */
static void split_base_mismatch_counted(void **s)
{
	(void)s;
	setup_dev(0);
	assert_int_equal(D.base_mismatch, 0);
	struct vu_msg r, m = msg(VU_GET_VRING_BASE, 8);
	m.u.state.index = 0;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	volatile struct vring_used *u = (volatile struct vring_used *)(void *)(guest + USED);
	u->idx = 3;
	m = msg(VU_SET_VRING_BASE, 8);
	m.u.state.index = 0;
	m.u.state.num = 5;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	m = msg(VU_SET_VRING_KICK, 8);
	m.u.u64 = 0 | 0x100;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_true(vu_ring_live(&D, 0));
	assert_int_equal(D.base_mismatch, 1);
	assert_int_equal(D.base_refused, 0);
	assert_int_equal(D.base_last.ring, 0);
	assert_int_equal(D.base_last.avail, 5);
	assert_int_equal(D.base_last.used, 3);
	assert_int_equal(D.vq[0].last_avail, 5);
	assert_int_equal(D.vq[0].used_idx, 3);
	/* a new kick fd for the running ring: no start, nothing counted */
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_int_equal(D.base_mismatch, 1);
	/* stopped and started where the guest's used index is */
	m = msg(VU_GET_VRING_BASE, 8);
	m.u.state.index = 0;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	m = msg(VU_SET_VRING_BASE, 8);
	m.u.state.index = 0;
	m.u.state.num = 3;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	m = msg(VU_SET_VRING_KICK, 8);
	m.u.u64 = 0 | 0x100;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_int_equal(D.base_mismatch, 1);
	assert_false(D.broken);
}

/* Review K3: the driver's status on its way up (SET_STATUS 1 ... 15, and
 * DRIVER_OK on a migration's destination) changes no ring: no quiesce.
 * Status 0 stops the rings and quiesces; a status the handler refuses (over
 * 0xff) or a malformed one quiesces as before. */
static void status_nonzero_does_not_quiesce(void **s)
{
	(void)s;
	setup_dev(0);
	struct vu_msg m = msg(VU_SET_STATUS, 8);
	for (uint64_t st = 1; st <= 0xff; st++) {
		m.u.u64 = st;
		assert_false(vu_msg_quiesces(&D, &m));
	}
	m.u.u64 = 0;
	assert_true(vu_msg_quiesces(&D, &m));
	m.u.u64 = 0x100;
	assert_true(vu_msg_quiesces(&D, &m));
	m = msg(VU_SET_STATUS, 4);
	m.u.u64 = 7;
	assert_true(vu_msg_quiesces(&D, &m));
}

/* SET_LOG_BASE from a hostile front-end: refused, counted as bad-log,
 * answered (QEMU waits for the answer), the device broken; nothing mapped. */
static void dirty_log_hostile(void **s)
{
	(void)s;
	int lfd = memfd(4096), p[2], sv[2];
	int big = memfd(VU_LOG_MAX_MAP + 4096); /* sparse */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct { int fd; uint64_t size, off; } bad[] = {
		{ lfd, 0, 0 },                          /* empty */
		{ lfd, 33, 0 },                         /* short of page 0x10f */
		{ lfd, 64, UINT64_MAX - 10 },           /* offset + size wraps */
		{ lfd, UINT64_MAX, 2 },                 /* size + offset wraps */
		{ lfd, 64, 4096 - 63 },                 /* past the file's end */
		{ big, VU_LOG_MAX_MAP, 4096 },          /* more than we map */
		{ p[1], 64, 0 },                        /* a pipe */
		{ sv[0], 64, 0 },                       /* a socket */
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		setup_log_dev();
		struct vu_msg r;
		assert_int_equal(log_base(bad[k].fd, bad[k].size, bad[k].off, &r), 1);
		assert_int_equal(r.request, VU_SET_LOG_BASE);
		assert_int_equal(r.size, 8);
		assert_int_equal(r.u.u64, 1);
		assert_broken(VU_E_LOG);
		assert_int_equal(D.errors[VU_E_MSG], 0); /* bad-log alone */
		assert_null(D.log.base);
	}
	/* the size that just covers guest memory is taken, at an offset */
	setup_log_dev();
	struct vu_msg r;
	assert_int_equal(log_base(lfd, 34, 4096 - 34, &r), 1);
	assert_int_equal(r.size, 0);
	assert_false(D.broken);
	/* no fd: malformed for the request, still answered */
	setup_log_dev();
	assert_int_equal(log_base(-1, 64, 0, &r), 1);
	assert_int_equal(r.u.u64, 1);
	assert_broken(VU_E_MSG);
	/* a payload of the wrong size: answered too */
	setup_log_dev();
	struct vu_msg m = msg(VU_SET_LOG_BASE, 8);
	m.fds[0] = dup(lfd);
	m.nfds = 1;
	assert_int_equal(vu_handle(&D, &m, &r), 1);
	assert_int_equal(r.u.u64, 1);
	assert_broken(VU_E_MSG);
	/* LOG_SHMFD not negotiated: no fd may come, nothing answered */
	setup_log_dev();
	D.protocol_features = 0;
	assert_int_equal(log_base(lfd, 64, 0, &r), 0);
	assert_broken(VU_E_LOG);
	/* SET_LOG_FD: an eventfd is taken (and closed), anything else refused */
	setup_log_dev();
	int efd = eventfd(0, 0);
	m = msg(VU_SET_LOG_FD, 0);
	m.fds[0] = efd;
	m.nfds = 1;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(D.broken);
	assert_false(fd_open(efd));
	m = msg(VU_SET_LOG_FD, 0);
	m.fds[0] = dup(p[1]);
	m.nfds = 1;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_broken(VU_E_LOG);
	vu_dev_reset(&D);
	close(lfd);
	close(big);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

/* SEND_RARP (protocol feature RARP, offered): the MAC (the payload's first
 * 6 bytes) is kept for the host to announce, once; a reset forgets it; a
 * payload of another size breaks the device (bad-message). */
static void send_rarp_kept_for_the_host(void **s)
{
	(void)s;
	setup_dev(0);
	assert_true(vu_offered_protocol_features() & (1ull << VU_PF_RARP));
	struct vu_msg r, m = msg(VU_SEND_RARP, 8);
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	memcpy(m.u.raw, mac, 6);
	m.u.raw[6] = 0xee; /* padding: ignored */
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_true(D.rarp_due);
	assert_memory_equal(D.rarp_mac, mac, 6);
	assert_int_equal(D.rarps, 1);
	assert_false(D.broken);
	m = msg(VU_RESET_DEVICE, 0);
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(D.rarp_due);
	m = msg(VU_SEND_RARP, 6);
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_false(D.rarp_due);
	assert_true(D.broken);
	assert_int_equal(D.errors[VU_E_MSG], 1);
	assert_int_equal(D.rarps, 1);
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
		cmocka_unit_test(request_table),
		cmocka_unit_test(send_rarp_kept_for_the_host),
		cmocka_unit_test(replies),
		cmocka_unit_test(status_zero_keeps_positions),
		cmocka_unit_test(queue_pairs),
		cmocka_unit_test(broken_until_reset),
		cmocka_unit_test(call_honours_suppression),
		cmocka_unit_test(layout_switch_refused),
		cmocka_unit_test(running_ring_requests),
		cmocka_unit_test(empty_descriptor_chain),
		cmocka_unit_test(huge_indirect_table),
		cmocka_unit_test(notification_fds),
		cmocka_unit_test(memory_tables),
		cmocka_unit_test(dirty_log),
		cmocka_unit_test(dirty_log_hostile),
		cmocka_unit_test(log_toggles_do_not_quiesce),
		cmocka_unit_test(status_nonzero_does_not_quiesce),
		cmocka_unit_test(split_base_mismatch_counted),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vu_dev_reset(&D);
	return rc;
}
