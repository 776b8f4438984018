/* SPDX-License-Identifier: MIT */
/* Packed virtqueues (virtio 2.8) in the vhost-user core: a driver model on
 * one side, vhost/vu.c on the other.  Buffers go round the ring several
 * laps (a ring of 5: not a power of two), chains and indirect tables are
 * taken whole, used descriptors land where the driver looks with the wrap
 * counter it expects, the vring base survives a stop and start, event
 * suppression works both ways, and every lie breaks the device without a
 * byte outside guest memory touched. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "../../vhost/vu.h"

#define GPA 0x100000ull
#define MEM 65536
#define NUM 5

static _Alignas(4096) uint8_t guest[MEM];
static uint8_t beyond[64]; /* just past guest memory: must stay untouched */

#define RING 0x0      /* descriptor ring */
#define DRIVER 0x1000 /* driver event suppression */
#define DEVICE 0x1010 /* device event suppression */
#define DATA 0x4000

#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED (1u << VRING_PACKED_DESC_F_USED)

static struct vu_dev D;
static struct vu_vring *V = &D.vq[0];

static volatile struct vring_packed_desc *ring(void)
{
	return (volatile struct vring_packed_desc *)(void *)(guest + RING);
}
static volatile struct vring_packed_desc_event *drv_event(void)
{
	return (volatile struct vring_packed_desc_event *)(void *)(guest + DRIVER);
}
static volatile struct vring_packed_desc_event *dev_event(void)
{
	return (volatile struct vring_packed_desc_event *)(void *)(guest + DEVICE);
}

/* ---- the driver: what a virtio driver does with a packed ring ---------- */

static struct {
	unsigned next, next_used;  /* slots */
	bool wrap, used_wrap;      /* its wrap counters */
	unsigned sgs[NUM];         /* descriptors per buffer id */
} drv;

/* Makes a buffer of n elements available under id: the first descriptor's
 * flags last, as the driver must. */
static void drv_add(uint16_t id, unsigned n, const uint64_t *gpa, const uint32_t *len,
		    uint16_t flags)
{
	unsigned first = drv.next;
	uint16_t first_flags = 0;
	for (unsigned k = 0; k < n; k++) {
		uint16_t f = flags | (drv.wrap ? F_AVAIL : F_USED);
		if (k + 1 < n)
			f |= VRING_DESC_F_NEXT;
		volatile struct vring_packed_desc *e = &ring()[drv.next];
		e->addr = gpa[k];
		e->len = len[k];
		e->id = id;
		if (k == 0)
			first_flags = f;
		else
			e->flags = f;
		if (++drv.next == NUM) {
			drv.next = 0;
			drv.wrap = !drv.wrap;
		}
	}
	drv.sgs[id] = n;
	ring()[first].flags = first_flags;
}

static void drv_add1(uint16_t id, uint64_t gpa, uint32_t len, uint16_t flags)
{
	drv_add(id, 1, &gpa, &len, flags);
}

/* The next used buffer: its id (and len), or -1 when there is none. */
static int drv_used(uint32_t *len)
{
	volatile struct vring_packed_desc *e = &ring()[drv.next_used];
	uint16_t f = e->flags;
	if (!!(f & F_USED) != drv.used_wrap || !!(f & F_AVAIL) != drv.used_wrap)
		return -1;
	uint16_t id = e->id;
	assert_true(id < NUM);
	*len = e->len;
	drv.next_used += drv.sgs[id];
	if (drv.next_used >= NUM) {
		drv.next_used -= NUM;
		drv.used_wrap = !drv.used_wrap;
	}
	return id;
}

/* ---- the device --------------------------------------------------------- */

static int64_t send(uint32_t req, uint32_t index, uint64_t val)
{
	struct vu_msg m = { .request = req, .flags = VU_VERSION, .size = 8 };
	struct vu_msg r;
	if (req == VU_SET_VRING_KICK) {
		m.u.u64 = index | 0x100; /* no fd: polling */
	} else if (req == VU_SET_FEATURES) {
		m.u.u64 = val;
	} else {
		m.u.state.index = index;
		m.u.state.num = (uint32_t)val;
	}
	int rc = vu_handle(&D, &m, &r);
	if (rc == 1)
		return r.u.state.num;
	return rc;
}

/* A packed ring of NUM, started at base (slot, wrap counter in bit 15). */
static void setup_dev(uint64_t features, int base)
{
	static bool inited;
	if (inited)
		vu_dev_reset(&D);
	inited = true;
	memset(guest, 0, sizeof(guest));
	memset(beyond, 0x5a, sizeof(beyond));
	memset(&drv, 0, sizeof(drv));
	drv.wrap = drv.used_wrap = true;
	vu_dev_init(&D, NULL);
	D.mem.n = 1;
	D.mem.r[0] = (struct vu_region){ .gpa = GPA, .size = MEM, .uva = GPA, .host = guest };
	assert_int_equal(send(VU_SET_FEATURES, 0, features | 1ull << VIRTIO_F_VERSION_1 |
							 1ull << VU_F_RING_PACKED), 0);
	assert_int_equal(send(VU_SET_VRING_NUM, 0, NUM), 0); /* not a power of two */
	struct vu_msg m = { .request = VU_SET_VRING_ADDR, .flags = VU_VERSION, .size = 40 };
	struct vu_msg r;
	m.u.addr.desc = GPA + RING;
	m.u.addr.avail = GPA + DRIVER;
	m.u.addr.used = GPA + DEVICE;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	if (base >= 0) {
		assert_int_equal(send(VU_SET_VRING_BASE, 0, (uint64_t)base), 0);
		drv.next = drv.next_used = (unsigned)base & 0x7fff;
		drv.wrap = drv.used_wrap = base & 0x8000;
	}
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_true(V->packed);
	assert_true(vu_ring_live(&D, 0));
	assert_false(D.broken);
}

static void assert_broken(enum vu_err e)
{
	assert_true(D.broken);
	assert_int_equal(D.broken_why, e);
	assert_int_equal(D.errors[e], 1);
	for (size_t i = 0; i < sizeof(beyond); i++)
		assert_int_equal(beyond[i], 0x5a);
}

/* ---- tests ------------------------------------------------------------- */

/* Buffers one at a time for four laps of a ring of 5: every wrap of the
 * driver's counter and of ours. */
static void laps(void **s)
{
	(void)s;
	setup_dev(0, -1);
	for (unsigned i = 0; i < 4 * NUM + 2; i++) {
		uint16_t id = (uint16_t)(i * 3 % NUM);
		assert_int_equal(vu_avail_count(&D, V), 0);
		drv_add1(id, GPA + DATA + 2048 * id, 1524, VRING_DESC_F_WRITE);
		assert_int_equal(vu_avail_count(&D, V), 1);
		struct vu_chain c;
		assert_int_equal(vu_pop(&D, V, true, &c), 0);
		assert_int_equal(c.head, id);
		assert_int_equal(c.nseg, 1);
		assert_int_equal(c.total, 1524);
		assert_ptr_equal(c.seg[0].p, guest + DATA + 2048 * id);
		uint32_t len;
		assert_int_equal(drv_used(&len), -1); /* not used yet */
		vu_used_put(V, c.head, 100 + i);
		vu_used_publish(V);
		assert_int_equal(drv_used(&len), id);
		assert_int_equal(len, 100 + i);
	}
	assert_false(D.broken);
}

/* Several in flight, completed out of order; a two-descriptor chain (the
 * used descriptor then skips one slot) and an indirect table. */
static void chains_out_of_order(void **s)
{
	(void)s;
	setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC, -1);
	uint64_t g2[2] = { GPA + DATA, GPA + DATA + 100 };
	uint32_t l2[2] = { 12, 1500 };
	drv_add(3, 2, g2, l2, VRING_DESC_F_WRITE);            /* slots 0, 1 */
	drv_add1(1, GPA + DATA + 4096, 2048, VRING_DESC_F_WRITE); /* slot 2 */
	/* an indirect table of two elements in guest memory */
	struct vring_packed_desc *tab = (struct vring_packed_desc *)(void *)(guest + 0x3000);
	tab[0] = (struct vring_packed_desc){ .addr = GPA + DATA + 8192, .len = 12,
					     .flags = VRING_DESC_F_WRITE };
	tab[1] = (struct vring_packed_desc){ .addr = GPA + DATA + 8300, .len = 1000,
					     .flags = VRING_DESC_F_WRITE };
	drv_add1(0, GPA + 0x3000, 32, VRING_DESC_F_INDIRECT); /* slot 3 */
	assert_int_equal(vu_avail_count(&D, V), 3);
	struct vu_chain c[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(vu_pop(&D, V, true, &c[i]), 0);
	assert_int_equal(c[0].head, 3);
	assert_int_equal(c[0].nseg, 2);
	assert_int_equal(c[0].total, 1512);
	assert_int_equal(c[1].head, 1);
	assert_int_equal(c[2].head, 0);
	assert_int_equal(c[2].nseg, 2);
	assert_int_equal(c[2].total, 1012);
	assert_ptr_equal(c[2].seg[1].p, guest + DATA + 8300);
	assert_int_equal(vu_avail_count(&D, V), 0);
	/* done in the order 1, 3, 0: used descriptors in that order; the
	 * chain of two takes two slots */
	struct vring_used_elem u[3] = { { 1, 60 }, { 3, 61 }, { 0, 62 } };
	vu_used_put_many(V, u, 3);
	vu_used_publish(V);
	uint32_t len;
	assert_int_equal(drv_used(&len), 1);
	assert_int_equal(len, 60);
	assert_int_equal(drv_used(&len), 3);
	assert_int_equal(drv_used(&len), 0);
	assert_int_equal(len, 62);
	assert_int_equal(drv_used(&len), -1);
	/* the next used descriptor goes to slot 4 (1 + 2 + 1 slots taken) */
	drv_add1(2, GPA + DATA, 100, VRING_DESC_F_WRITE);
	assert_int_equal(vu_pop(&D, V, true, &c[0]), 0);
	vu_used_put(V, 2, 0);
	assert_int_equal(ring()[4].id, 2);
	assert_int_equal(ring()[4].flags & (F_AVAIL | F_USED), F_AVAIL | F_USED);
	assert_int_equal(ring()[4].flags & VRING_DESC_F_WRITE, 0); /* nothing written */
	assert_false(D.broken);
}

/* vu_unpop gives chains back: the next pop takes the same again. */
static void unpop(void **s)
{
	(void)s;
	setup_dev(0, -1);
	uint64_t g2[2] = { GPA + DATA, GPA + DATA + 100 };
	uint32_t l2[2] = { 12, 1500 };
	drv_add(2, 2, g2, l2, VRING_DESC_F_WRITE);
	drv_add1(4, GPA + DATA + 4096, 2048, VRING_DESC_F_WRITE);
	struct vu_chain a, b;
	assert_int_equal(vu_pop(&D, V, true, &a), 0);
	assert_int_equal(vu_pop(&D, V, true, &b), 0);
	uint16_t heads[2] = { a.head, b.head };
	vu_unpop(V, heads, 2);
	assert_int_equal(vu_avail_count(&D, V), 2);
	assert_int_equal(vu_pop(&D, V, true, &a), 0);
	assert_int_equal(a.head, 2);
	assert_int_equal(a.nseg, 2);
	assert_int_equal(vu_pop(&D, V, true, &b), 0);
	assert_int_equal(b.head, 4);
	assert_false(D.broken);
}

/* A stop (GET_VRING_BASE) and a start where it stopped; a base that names
 * a slot past the ring breaks the device. */
static void base_survives_restart(void **s)
{
	(void)s;
	setup_dev(0, 3); /* slot 3, wrap counter 0: the driver's second lap */
	drv_add1(1, GPA + DATA, 64, VRING_DESC_F_WRITE);
	drv_add1(2, GPA + DATA + 64, 64, VRING_DESC_F_WRITE); /* slot 4 */
	drv_add1(0, GPA + DATA + 128, 64, VRING_DESC_F_WRITE); /* slot 0, wrap 1 */
	assert_int_equal(vu_avail_count(&D, V), 3);
	struct vu_chain c;
	uint32_t len;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vu_pop(&D, V, true, &c), 0);
		vu_used_put(V, c.head, 64);
		assert_int_equal(drv_used(&len), c.head);
	}
	/* stopped at slot 0, wrap counter 1; used the same */
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x80008000);
	assert_false(vu_ring_live(&D, 0));
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_int_equal(vu_avail_count(&D, V), 1);
	assert_int_equal(vu_pop(&D, V, true, &c), 0);
	assert_int_equal(c.head, 0);
	vu_used_put(V, c.head, 64);
	assert_int_equal(drv_used(&len), 0);
	assert_false(D.broken);
	/* QEMU's form: the used index in the high half, then a bad slot */
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x80018001);
	assert_int_equal(send(VU_SET_VRING_BASE, 0, 0x80018001), 0);
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_false(D.broken);
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x80018001);
	assert_int_equal(send(VU_SET_VRING_BASE, 0, NUM), 0);
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_broken(VU_E_INDEX);
}

/* Review K2: SET_VRING_BASE's used half (bits 16-31, QEMU's used index and
 * wrap counter) is where the driver looks for the next used descriptor.
 * A source that stopped with chains in flight hands over a used position
 * behind the avail one: our used descriptors go there (the chains in
 * between stay lost to the driver, counted as a mismatch), not at the avail
 * position where the driver would never look.  A used half that is no
 * position up to a ring behind the avail one (a slot past the ring, or
 * ahead of avail) is refused and counted: the used position follows the
 * avail one, as without a used half (DPDK's virtio-user sends none: 0). */
static void base_used_half(void **s)
{
	(void)s;
	setup_dev(0, -1);
	/* the source: ids 0, 1, 2 at slots 0-2, only id 0 used */
	for (uint16_t id = 0; id < 3; id++)
		drv_add1(id, GPA + DATA + 256u * id, 256, VRING_DESC_F_WRITE);
	struct vu_chain c;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vu_pop(&D, V, true, &c), 0);
	vu_used_put(V, 0, 10);
	vu_used_publish(V);
	uint32_t len;
	assert_int_equal(drv_used(&len), 0);
	/* its stop: avail slot 3, used slot 1, both in the first lap */
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x80018003);
	/* the destination starts from QEMU's state */
	assert_int_equal(send(VU_SET_VRING_BASE, 0, 0x80018003), 0);
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_false(D.broken);
	assert_int_equal(D.base_mismatch, 1);
	assert_int_equal(D.base_refused, 0);
	assert_int_equal(D.base_last.avail, 0x8003);
	assert_int_equal(D.base_last.used, 0x8001);
	drv_add1(3, GPA + DATA + 256u * 3, 256, VRING_DESC_F_WRITE); /* slot 3 */
	assert_int_equal(vu_avail_count(&D, V), 1);
	assert_int_equal(vu_pop(&D, V, true, &c), 0);
	assert_int_equal(c.head, 3);
	vu_used_put(V, 3, 33);
	vu_used_publish(V);
	assert_int_equal(ring()[1].id, 3); /* at the driver's next used slot */
	assert_int_equal(drv_used(&len), 3);
	assert_int_equal(len, 33);
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x80028004);

	/* hostile: a used slot past the ring */
	assert_int_equal(send(VU_SET_VRING_BASE, 0, 0x8004u | (0x8000u | NUM) << 16), 0);
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_false(D.broken);
	assert_int_equal(D.base_refused, 1);
	assert_int_equal(V->used_idx, V->last_avail);
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x80048004);
	/* hostile: used ahead of avail (slot 4 when avail is slot 1, same lap) */
	assert_int_equal(send(VU_SET_VRING_BASE, 0, 0x80048001), 0);
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_int_equal(D.base_refused, 2);
	assert_int_equal(V->used_idx, V->last_avail);
	/* a whole ring behind (avail slot 1 lap 2, used slot 1 lap 1): the most
	 * that can be in flight */
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x80018001);
	assert_int_equal(send(VU_SET_VRING_BASE, 0, 0x80010001), 0);
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_int_equal(D.base_refused, 2);
	assert_int_equal(D.base_mismatch, 2);
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x80010001);
	/* no used half (DPDK): the used position follows the avail one */
	assert_int_equal(send(VU_SET_VRING_BASE, 0, 0x0002), 0);
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x00020002);
	assert_int_equal(D.base_refused, 2);
	assert_int_equal(D.base_mismatch, 2);
	assert_false(D.broken);
	for (size_t i = 0; i < sizeof(beyond); i++)
		assert_int_equal(beyond[i], 0x5a);
}

/* A split ring's size must be a power of two; a packed one's need not. */
static void ring_sizes(void **s)
{
	(void)s;
	setup_dev(0, -1);
	assert_int_equal(V->num, NUM);
	vu_dev_reset(&D);
	vu_dev_init(&D, NULL);
	assert_int_equal(send(VU_SET_FEATURES, 0, 1ull << VIRTIO_F_VERSION_1), 0);
	send(VU_SET_VRING_NUM, 0, NUM);
	assert_int_equal(V->num, 0);
	assert_int_equal(D.errors[VU_E_MSG], 1);
}

/* Event suppression: ours in the device area, the driver's in its own. */
static void suppression(void **s)
{
	(void)s;
	setup_dev(1ull << VIRTIO_RING_F_EVENT_IDX, -1);
	vu_notify_enable(&D, V, false);
	assert_int_equal(dev_event()->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	for (uint16_t i = 0; i < 3; i++)
		drv_add1(i, GPA + DATA + 64 * i, 64, VRING_DESC_F_WRITE);
	struct vu_chain c;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vu_pop(&D, V, true, &c), 0);
	/* kick us when slot 3 (wrap counter 1) is made available */
	vu_notify_enable(&D, V, true);
	assert_int_equal(dev_event()->flags, VRING_PACKED_EVENT_FLAG_DESC);
	assert_int_equal(dev_event()->off_wrap, 0x8003);

	int efd = eventfd(0, EFD_NONBLOCK);
	V->call_fd = efd;
	uint64_t x;
	drv_event()->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	vu_used_put(V, 0, 64);
	assert_false(vu_call(&D, V));
	drv_event()->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
	vu_used_put(V, 1, 64);
	assert_true(vu_call(&D, V));
	assert_int_equal(read(efd, &x, sizeof(x)), 8);
	assert_false(vu_call(&D, V)); /* nothing new: nothing */
	/* the driver wants to hear of slot 4 in the first lap: slot 2 is not
	 * it, so no call; the next buffer used passes it */
	drv_event()->off_wrap = 0x8004;
	drv_event()->flags = VRING_PACKED_EVENT_FLAG_DESC;
	vu_used_put(V, 2, 64);
	assert_false(vu_call(&D, V));
	drv_add1(3, GPA + DATA, 64, VRING_DESC_F_WRITE);
	drv_add1(4, GPA + DATA, 64, VRING_DESC_F_WRITE);
	assert_int_equal(vu_pop(&D, V, true, &c), 0);
	assert_int_equal(vu_pop(&D, V, true, &c), 0);
	vu_used_put(V, 3, 64);
	assert_false(vu_call(&D, V));
	vu_used_put(V, 4, 64); /* slot 4 */
	assert_true(vu_call(&D, V));
	assert_int_equal(read(efd, &x, sizeof(x)), 8);
	/* without EVENT_IDX the driver's DESC means plain enable */
	D.features &= ~(1ull << VIRTIO_RING_F_EVENT_IDX);
	vu_notify_enable(&D, V, true);
	assert_int_equal(dev_event()->flags, VRING_PACKED_EVENT_FLAG_ENABLE);
	drv_add1(0, GPA + DATA, 64, VRING_DESC_F_WRITE);
	assert_int_equal(vu_pop(&D, V, true, &c), 0);
	vu_used_put(V, 0, 64);
	assert_true(vu_call(&D, V));
	vu_dev_reset(&D); /* closes efd */
}

/* ---- hostile drivers ---------------------------------------------------- */

static void pop_fails(bool write, enum vu_err e)
{
	struct vu_chain c;
	assert_int_equal(vu_pop(&D, V, write, &c), -1);
	assert_broken(e);
}

static void address_outside(void **s)
{
	(void)s;
	setup_dev(0, -1);
	drv_add1(0, GPA + MEM - 100, 200, VRING_DESC_F_WRITE);
	assert_int_equal(vu_avail_count(&D, V), 1);
	pop_fails(true, VU_E_ADDR);
}

static void write_into_read_only(void **s)
{
	(void)s;
	setup_dev(0, -1);
	drv_add1(0, GPA + DATA, 200, 0);
	pop_fails(true, VU_E_RO);
}

static void id_outside_ring(void **s)
{
	(void)s;
	setup_dev(0, -1);
	drv_add1(0, GPA + DATA, 200, VRING_DESC_F_WRITE);
	ring()[0].id = NUM;
	pop_fails(true, VU_E_INDEX);
}

static void id_in_flight_twice(void **s)
{
	(void)s;
	setup_dev(0, -1);
	drv_add1(2, GPA + DATA, 200, VRING_DESC_F_WRITE);
	drv_add1(2, GPA + DATA, 200, VRING_DESC_F_WRITE);
	struct vu_chain c;
	assert_int_equal(vu_pop(&D, V, true, &c), 0);
	pop_fails(true, VU_E_REUSED);
}

/* a chain round the whole ring, every descriptor saying NEXT */
static void chain_round_the_ring(void **s)
{
	(void)s;
	setup_dev(0, -1);
	uint64_t g[NUM];
	uint32_t l[NUM];
	for (unsigned i = 0; i < NUM; i++) {
		g[i] = GPA + DATA + 64 * i;
		l[i] = 64;
	}
	drv_add(0, NUM, g, l, VRING_DESC_F_WRITE);
	ring()[NUM - 1].flags |= VRING_DESC_F_NEXT;
	assert_int_equal(vu_avail_count(&D, V), 0);
	assert_broken(VU_E_LONG);
}

/* the first descriptor available, the next not: a chain that runs past
 * what was made available (the count sees it; so does a pop alone) */
static void chain_past_available(void **s)
{
	(void)s;
	setup_dev(0, -1);
	drv_add1(0, GPA + DATA, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT);
	assert_int_equal(vu_avail_count(&D, V), 0);
	assert_broken(VU_E_LONG);
	setup_dev(0, -1);
	drv_add1(0, GPA + DATA, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT);
	pop_fails(true, VU_E_LONG);
	setup_dev(0, -1);
	pop_fails(true, VU_E_AVAIL); /* nothing there at all */
}

static void bad_indirect(void **s)
{
	(void)s;
	setup_dev(0, -1); /* not negotiated */
	drv_add1(0, GPA + 0x3000, 32, VRING_DESC_F_INDIRECT);
	pop_fails(true, VU_E_INDIRECT);
	setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC, -1);
	drv_add1(0, GPA + 0x3000, 24, VRING_DESC_F_INDIRECT); /* not a whole entry */
	pop_fails(true, VU_E_INDIRECT);
	setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC, -1);
	uint64_t g[2] = { GPA + 0x3000, GPA + DATA };
	uint32_t l[2] = { 32, 64 };
	drv_add(0, 2, g, l, VRING_DESC_F_INDIRECT); /* in a chain */
	pop_fails(true, VU_E_INDIRECT);
	setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC, -1);
	struct vring_packed_desc *tab = (struct vring_packed_desc *)(void *)(guest + 0x3000);
	tab[0] = (struct vring_packed_desc){ .addr = GPA + MEM - 8, .len = 64,
					     .flags = VRING_DESC_F_WRITE };
	drv_add1(0, GPA + 0x3000, 16, VRING_DESC_F_INDIRECT); /* points outside */
	pop_fails(true, VU_E_ADDR);
}


/* ---- issue 12: containment ------------------------------------------- */

/* What the port does in a round (only while the ring is live). */
static void port_round(void)
{
	if (!vu_ring_live(&D, 0) || !V->inflight)
		return;
	unsigned n = vu_avail_count(&D, V);
	for (unsigned k = 0; k < n && !D.broken; k++) {
		struct vu_chain c;
		if (vu_pop(&D, V, true, &c) < 0)
			break;
		vu_used_put(V, c.head, 64);
	}
	vu_used_publish(V);
	vu_call(&D, V);
}

/* Point 1, the hole: nine buffers through a ring of 5 (positions 9: slot
 * 4 of the second lap), then SET_VRING_NUM 2 under it.  The old code took
 * the size and kept the positions: slot 9 - 2 = 7, 112 bytes into a ring
 * of 32 (and past the old one of 80); a hostile driver put a descriptor
 * there, and the used descriptor was written over it. */
static void size_change_refused(void **s)
{
	(void)s;
	setup_dev(0, -1);
	for (unsigned i = 0; i < 9; i++) {
		drv_add1((uint16_t)(i % NUM), GPA + DATA, 64, VRING_DESC_F_WRITE);
		port_round();
		uint32_t len;
		assert_int_equal(drv_used(&len), (int)(i % NUM));
	}
	assert_int_equal(V->used_idx, 9);
	assert_int_equal(send(VU_SET_VRING_NUM, 0, 2), 0);
	/* the hostile driver's descriptor for the new layout's slot 7 */
	volatile struct vring_packed_desc *e = &ring()[7];
	e->addr = GPA + DATA;
	e->len = 64;
	e->id = 0;
	e->flags = VRING_DESC_F_WRITE | F_USED;
	static uint8_t before[DRIVER - 16 * NUM];
	memcpy(before, guest + 16 * NUM, sizeof(before));
	port_round();
	assert_memory_equal(guest + 16 * NUM, before, sizeof(before));
	assert_broken(VU_E_MSG);
	assert_int_equal(V->num, NUM); /* nothing applied */
	/* nor a new base for the running ring, nor a switch to split rings */
	setup_dev(0, -1);
	assert_int_equal(send(VU_SET_VRING_BASE, 0, 3), 0);
	assert_broken(VU_E_MSG);
	assert_false(V->pk_base_set);
	setup_dev(0, -1);
	assert_int_equal(send(VU_SET_FEATURES, 0, 1ull << VIRTIO_F_VERSION_1), 0);
	assert_broken(VU_E_MSG);
	assert_true(V->packed);
	/* the same features again (with EVENT_IDX): positions kept */
	setup_dev(0, -1);
	drv_add1(1, GPA + DATA, 64, VRING_DESC_F_WRITE);
	port_round();
	assert_int_equal(send(VU_SET_FEATURES, 0, 1ull << VIRTIO_F_VERSION_1 |
				1ull << VU_F_RING_PACKED | 1ull << VIRTIO_RING_F_EVENT_IDX), 0);
	assert_false(D.broken);
	assert_int_equal(V->last_avail, 1);
	assert_int_equal(V->used_idx, 1);
	assert_true(vu_ring_live(&D, 0));
}

/* Point 1, the second line: positions past the ring (an inconsistent
 * state, however it came about) are never used to index it. */
static void positions_checked(void **s)
{
	(void)s;
	setup_dev(0, -1);
	drv_add1(0, GPA + DATA, 64, VRING_DESC_F_WRITE);
	struct vu_chain c;
	assert_int_equal(vu_pop(&D, V, true, &c), 0);
	V->used_idx = 2 * NUM + 3;
	static uint8_t before[DRIVER];
	memcpy(before, guest, sizeof(before));
	vu_used_put(V, 0, 64);
	assert_memory_equal(guest, before, sizeof(before));
	assert_false(vu_call(&D, V));
	assert_broken(VU_E_INDEX);
	/* the avail side: counted, taken */
	setup_dev(0, -1);
	V->last_avail = 2 * NUM + 1;
	assert_int_equal(vu_avail_count(&D, V), 0);
	assert_broken(VU_E_INDEX);
	setup_dev(0, -1);
	V->last_avail = 2 * NUM + 1;
	pop_fails(true, VU_E_INDEX);
	/* a ring of 5 restarted as a split ring: not a power of two */
	setup_dev(0, -1);
	assert_int_equal(send(VU_GET_VRING_BASE, 0, 0), 0x80008000);
	assert_int_equal(send(VU_SET_FEATURES, 0, 1ull << VIRTIO_F_VERSION_1), 0);
	assert_false(D.broken);
	assert_int_equal(send(VU_SET_VRING_KICK, 0, 0), 0);
	assert_broken(VU_E_INDEX);
}

/* Ring 1: a packed ring of 128 at 0x8000, for chains past VU_MAX_SEGS. */
static struct vu_vring *big_ring(void)
{
	assert_int_equal(send(VU_SET_VRING_NUM, 1, 128), 0);
	struct vu_msg m = { .request = VU_SET_VRING_ADDR, .flags = VU_VERSION, .size = 40 };
	struct vu_msg r;
	m.u.addr.index = 1;
	m.u.addr.desc = GPA + 0x8000;
	m.u.addr.avail = GPA + 0x9000;
	m.u.addr.used = GPA + 0x9010;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_int_equal(send(VU_SET_VRING_KICK, 1, 0), 0);
	assert_true(vu_ring_live(&D, 1));
	return &D.vq[1];
}

/* Point 9: a chain of 100 empty descriptors (ring of 128) used to be one
 * buffer of nothing; now the count sees it is too long, and so does a pop
 * alone (at the 65th: the 66th is bad otherwise). */
static void empty_descriptor_chain(void **s)
{
	(void)s;
	for (int alone = 0; alone < 2; alone++) {
		setup_dev(0, -1);
		struct vu_vring *v = big_ring();
		struct vring_packed_desc *t = (struct vring_packed_desc *)(void *)(guest + 0x8000);
		for (unsigned i = 0; i < 100; i++)
			t[i] = (struct vring_packed_desc){
				.addr = GPA + DATA, .len = 0, .id = 0,
				.flags = VRING_DESC_F_WRITE | F_AVAIL |
					 (i < 99 ? VRING_DESC_F_NEXT : 0) };
		t[VU_MAX_SEGS + 1].addr = GPA + MEM;
		t[VU_MAX_SEGS + 1].len = 64;
		struct vu_chain c;
		if (!alone) {
			assert_int_equal(vu_avail_count(&D, v), 0);
		} else {
			assert_int_equal(vu_pop(&D, v, true, &c), -1);
		}
		assert_broken(VU_E_LONG);
	}
}

/* Point 9: indirect tables: 32768 empty entries (a second region) refused
 * before any is read; 8 on a ring of 5 refused (longer than the ring). */
static void indirect_bounds(void **s)
{
	(void)s;
	const uint64_t tgpa = 0x10000000ull;
	const size_t tlen = 32768 * 16;
	struct vring_packed_desc *t = calloc(1, tlen);
	assert_non_null(t);
	static const struct { uint32_t n; enum vu_err e; } cases[] = {
		{ 32768, VU_E_LONG }, { 8, VU_E_INDIRECT }, { NUM, 0 },
	};
	for (unsigned k = 0; k < 3; k++) {
		setup_dev(1ull << VIRTIO_RING_F_INDIRECT_DESC, -1);
		D.mem.r[1] = (struct vu_region){ .gpa = tgpa, .size = tlen, .uva = tgpa,
						 .host = (uint8_t *)t };
		D.mem.n = 2;
		for (uint32_t i = 0; i < cases[k].n; i++)
			t[i] = (struct vring_packed_desc){ .addr = GPA + DATA, .len = 0,
							   .flags = VRING_DESC_F_WRITE };
		drv_add1(0, tgpa, cases[k].n * 16, VRING_DESC_F_INDIRECT);
		assert_int_equal(vu_avail_count(&D, V), 1);
		struct vu_chain c;
		if (!cases[k].e) {
			assert_int_equal(vu_pop(&D, V, true, &c), 0);
			assert_false(D.broken);
		} else {
			t[0].addr = GPA + MEM; /* read, it would break for another reason */
			t[0].len = 64;
			pop_fails(true, cases[k].e);
		}
		D.mem.n = 1;
	}
	free(t);
}

/* Issue 15: with logging on, a used descriptor marks the page of the
 * descriptor ring it is written to, the event suppression the device area's
 * page (the ring's log address); nothing else. */
static void dirty_log_packed(void **s)
{
	(void)s;
	setup_dev(0, -1);
	static uint8_t bits[64];
	memset(bits, 0, sizeof(bits));
	D.log = (struct vu_log){ .base = bits, .size = sizeof(bits) };
	struct vu_msg r, m = { .request = VU_SET_VRING_ADDR, .flags = VU_VERSION, .size = 40 };
	m.u.addr.flags = 1u << VU_VRING_F_LOG;
	m.u.addr.desc = GPA + RING;
	m.u.addr.avail = GPA + DRIVER;
	m.u.addr.used = m.u.addr.log = GPA + DEVICE;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_null(V->log); /* not on yet */
	assert_int_equal(send(VU_SET_FEATURES, 0, D.features | 1ull << VU_F_LOG_ALL), 0);
	assert_ptr_equal(V->log, &D.log);
	for (unsigned i = 0; i < 2 * NUM; i++) { /* two laps: both wrap counters */
		drv_add1(3, GPA + DATA, 1524, VRING_DESC_F_WRITE);
		struct vu_chain c;
		assert_int_equal(vu_pop(&D, V, true, &c), 0);
		vu_used_put(V, c.head, 100);
		vu_used_publish(V);
		uint32_t len;
		assert_int_equal(drv_used(&len), 3);
		/* page 0x100: byte 0x20, bit 0 */
		assert_int_equal(bits[0x20], 0x01);
		for (unsigned b = 0; b < sizeof(bits); b++)
			assert_int_equal(bits[b], b == 0x20 ? 0x01 : 0);
		bits[0x20] = 0;
	}
	vu_notify_enable(&D, V, true);
	assert_int_equal(bits[0x20], 0x02); /* page 0x101 */
	assert_int_equal(D.log.marked, 2 * NUM + 1);
	/* a log address that is not the device area's */
	m.u.addr.log = GPA + DRIVER;
	assert_int_equal(vu_handle(&D, &m, &r), 0);
	assert_broken(VU_E_LOG);
	assert_null(V->log);
	D.log = (struct vu_log){ 0 };
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(laps),
		cmocka_unit_test(chains_out_of_order),
		cmocka_unit_test(unpop),
		cmocka_unit_test(base_survives_restart),
		cmocka_unit_test(base_used_half),
		cmocka_unit_test(ring_sizes),
		cmocka_unit_test(suppression),
		cmocka_unit_test(address_outside),
		cmocka_unit_test(write_into_read_only),
		cmocka_unit_test(id_outside_ring),
		cmocka_unit_test(id_in_flight_twice),
		cmocka_unit_test(chain_round_the_ring),
		cmocka_unit_test(chain_past_available),
		cmocka_unit_test(bad_indirect),
		cmocka_unit_test(size_change_refused),
		cmocka_unit_test(positions_checked),
		cmocka_unit_test(empty_descriptor_chain),
		cmocka_unit_test(indirect_bounds),
		cmocka_unit_test(dirty_log_packed),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vu_dev_reset(&D);
	return rc;
}
