/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the vhost-user core (vhost/vu.c) as a state machine.  The
 * input is a sequence of operations, each an opcode byte and its
 * arguments: vhost-user messages (features, memory table, ring size,
 * addresses, base, kick/call/err fds, enable, resets, status) interleaved
 * with a driver's ring activity (descriptors, avail entries, packed flags
 * and raw bytes written into guest memory) and the port's (vu_avail_count,
 * vu_pop, vu_unpop, vu_used_put/put_many/publish, vu_call,
 * vu_notify_enable), so that what lives between two messages (a ring's
 * positions across a change of its size or layout) is reachable.
 *
 * Guest memory is one 64 KiB memfd.  The device maps it through the host
 * ops as the port does (mmap of the fd), each mapping with 4 MiB of
 * PROT_NONE on both sides: a write or read outside it faults (the farthest
 * a 16-bit packed position reaches past a ring is 1 MiB).  The driver
 * writes through a mapping of its own.  The port's contract is kept: ring
 * functions only on live rings; heads taken are given back (or dropped)
 * when the host is told to quiesce, as take_back does.
 *
 * Opcodes (the byte modulo 16), arguments as bytes (16-bit: little endian):
 *  0 SET_FEATURES f: bit 0 VERSION_1, 1 MRG_RXBUF, 2 INDIRECT, 3 EVENT_IDX,
 *    4 RING_PACKED, 5 PROTOCOL_FEATURES, 6 ANY_LAYOUT, 7 a bit not offered
 *  1 SET_MEM_TABLE m: m < 128 the honest table (gpa 0, all of the file);
 *    else (m & 3) + 1 regions of gpa g<<12, size (s+1)<<10, uva, off o<<10
 *    (4 bytes each); m & 64: the last fd a pipe
 *  2 SET_VRING_NUM r c [n16]: c & 128: n16; c & 64: (c & 63) + 1; else 1 << (c % 9)
 *  3 SET_VRING_ADDR r d a u: offsets d<<8, a<<8, u<<8 (uva of the honest table)
 *  4 SET_VRING_BASE r n16 hi16
 *  5 GET_VRING_BASE r
 *  6 KICK/CALL/ERR r k: k % 3 which, (k / 3) % 4: no fd, eventfd (2x), a pipe
 *  7 SET_VRING_ENABLE r e
 *  8 other k: RESET_OWNER, RESET_DEVICE, SET_STATUS s, SET_OWNER,
 *    SET_PROTOCOL_FEATURES p, GET_FEATURES, GET_STATUS, GET_QUEUE_NUM
 *  9 memory x o16 n bytes...: n % 33 raw bytes at o16 (x ignored)
 * 10 split add r h n (a l f)*: chain of n % 4 + 1 descriptors from slot h,
 *    data at 0x8000 + a * 64, len l * 8, f bit 0 WRITE, then the avail entry
 * 11 packed add r i n x (a l f)*: n % 4 + 1 descriptors at the driver's next
 *    slot with its wrap counter, id i, first flags last; x & 1: one
 *    indirect descriptor to a table at 0xc000 of the n entries instead
 * 12 port round r k: count, take up to k % 8 + 1 (hold them), k & 128:
 *    give the last back (vu_unpop)
 * 13 complete r k: k % 16 held heads back, k & 16 all at once (put_many),
 *    k & 32 newest first; publish; k & 64: vu_call
 * 14 notify r e: vu_notify_enable(e & 1), vu_call
 * 15 index r w v16: w & 1: split used idx, else split avail idx (raw)
 * r is a ring (r % 8: rings 4-7 do not exist and must be refused).
 * Opcode 8 with the byte's top bit set is the dirty log's (issue 15), r % 4:
 *  0 SET_LOG_BASE s o: size s * 2 bytes (2 cover the honest table), offset
 *    o * 16, of a 4 KiB memfd (mapped between guards: the log is never
 *    written outside it), r & 4: a pipe instead
 *  1 SET_FEATURES b: as opcode 0, LOG_ALL with it
 *  2 SET_VRING_ADDR r' d a u x: as opcode 3 on ring r' % 8 with
 *    VHOST_VRING_F_LOG, its log address the used ring's gpa (x & 1: off by x)
 *  3 SET_PROTOCOL_FEATURES: LOG_SHMFD and REPLY_ACK
 * Every answer of SET_LOG_BASE is checked: there is one exactly when
 * LOG_SHMFD is negotiated, empty if the log was taken.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "../../vhost/vu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GMEM 65536u
#define GUARD (4u << 20)
#define UVA0 0x7f0000000000ull
#define MAXOPS 512
#define HOLD 64

static int gfd = -1;    /* guest memory */
static uint8_t *view;   /* the driver's mapping of it */

static size_t pages(size_t len)
{
	return (len + 4095) & ~(size_t)4095;
}

static void *fmap(void *arg, int fd, size_t len)
{
	(void)arg;
	uint8_t *res = mmap(NULL, pages(len) + 2 * (size_t)GUARD, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	void *p = mmap(res + GUARD, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		munmap(res, pages(len) + 2 * (size_t)GUARD);
		return NULL;
	}
	return p;
}

static void funmap(void *arg, void *addr, size_t len)
{
	(void)arg;
	munmap((uint8_t *)addr - GUARD, pages(len) + 2 * (size_t)GUARD);
}

static struct {
	struct vu_dev d;
	uint8_t sum;
	const uint8_t *in;
	size_t left;
	struct {
		uint32_t desc, avail, used; /* offsets in guest memory */
		uint16_t avail_idx;         /* split: the driver's */
		uint32_t pk_next;           /* packed: the driver's slot */
		bool pk_wrap;
		uint16_t held[HOLD];
		unsigned nheld;
	} q[VU_MAX_VRINGS];
} S;

static uint8_t get8(void)
{
	if (!S.left)
		return 0;
	S.left--;
	return *S.in++;
}

static uint16_t get16(void)
{
	uint16_t lo = get8();
	return (uint16_t)(lo | get8() << 8);
}

static bool live(unsigned r)
{
	return vu_ring_live(&S.d, r) && S.d.vq[r].inflight;
}

/* The port's take_back: every held head back to a live ring, or dropped. */
static void fquiesce(void *arg)
{
	(void)arg;
	for (unsigned r = 0; r < VU_MAX_VRINGS; r++) {
		if (S.q[r].nheld && live(r)) {
			for (unsigned k = 0; k < S.q[r].nheld; k++)
				vu_used_put(&S.d.vq[r], S.q[r].held[k], 0);
			vu_used_publish(&S.d.vq[r]);
			vu_call(&S.d, &S.d.vq[r]);
		}
		S.q[r].nheld = 0;
	}
}

/* The driver's writes: only inside guest memory (it is the guest's). */
static void poke(uint64_t off, const void *p, size_t n)
{
	if (off < GMEM && n <= GMEM - off)
		memcpy(view + off, p, n);
}

static void poke16(uint64_t off, uint16_t v)
{
	poke(off, &v, 2);
}

static int some_fd(unsigned kind)
{
	if (kind == 3) {
		int p[2];
		if (pipe(p) < 0)
			abort();
		close(p[0]);
		return p[1];
	}
	return eventfd(0, EFD_CLOEXEC);
}

static int deliver(struct vu_msg *m)
{
	struct vu_msg r;
	m->flags = VU_VERSION;
	uint32_t req = m->request;
	bool shmfd = S.d.protocol_features & (1ull << VU_PF_LOG_SHMFD);
	uint64_t bad = S.d.errors[VU_E_MSG] + S.d.errors[VU_E_LOG];
	int rc = vu_handle(&S.d, m, &r);
	if (req == VU_SET_LOG_BASE) {
		/* answered exactly when the front-end waits for it: empty when
		 * the log was taken, a failure when refused */
		bool taken = S.d.errors[VU_E_MSG] + S.d.errors[VU_E_LOG] == bad;
		if (rc != (shmfd ? 1 : 0))
			abort();
		if (rc == 1 && (r.request != req || (taken ? r.size != 0 : r.size != 8 || r.u.u64 != 1)))
			abort();
		if (taken && !S.d.log.base)
			abort();
	}
	return rc;
}

static struct vu_msg msg(uint32_t req, uint32_t size)
{
	struct vu_msg m;
	memset(&m, 0, sizeof(m));
	m.request = req;
	m.size = size;
	return m;
}

static int lfd = -1; /* the dirty log's memfd */

static const unsigned feature_bit[8] = {
	VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_RING_F_INDIRECT_DESC,
	VIRTIO_RING_F_EVENT_IDX, VU_F_RING_PACKED, VU_F_PROTOCOL_FEATURES,
	VIRTIO_F_ANY_LAYOUT, 63 };

static void op_log(unsigned r)
{
	struct vu_msg m;
	switch (r % 4) {
	case 0:
		m = msg(VU_SET_LOG_BASE, 16);
		m.u.log.size = (uint64_t)get8() * 2;
		m.u.log.offset = (uint64_t)get8() * 16;
		m.fds[0] = (r & 4) ? some_fd(3) : dup(lfd);
		m.nfds = 1;
		deliver(&m);
		break;
	case 1: {
		uint8_t b = get8();
		m = msg(VU_SET_FEATURES, 8);
		m.u.u64 = 1ull << VU_F_LOG_ALL;
		for (unsigned k = 0; k < 8; k++)
			if (b & (1u << k))
				m.u.u64 |= 1ull << feature_bit[k];
		deliver(&m);
		break;
	}
	case 2: {
		unsigned q = get8() % 8;
		m = msg(VU_SET_VRING_ADDR, 40);
		m.u.addr.index = q;
		uint32_t d = (uint32_t)get8() << 8, a = (uint32_t)get8() << 8, u = (uint32_t)get8() << 8;
		uint8_t x = get8();
		m.u.addr.flags = 1u << VU_VRING_F_LOG;
		m.u.addr.desc = UVA0 + d;
		m.u.addr.avail = UVA0 + a;
		m.u.addr.used = UVA0 + u;
		m.u.addr.log = u + ((x & 1) ? x : 0); /* the honest table: gpa = uva - UVA0 */
		if (q < VU_MAX_VRINGS) {
			S.q[q].desc = d;
			S.q[q].avail = a;
			S.q[q].used = u;
		}
		deliver(&m);
		break;
	}
	default:
		m = msg(VU_SET_PROTOCOL_FEATURES, 8);
		m.u.u64 = 1ull << VU_PF_LOG_SHMFD | 1ull << VU_PF_REPLY_ACK;
		deliver(&m);
		break;
	}
}

static void op_message(unsigned op, unsigned r)
{
	struct vu_msg m;
	switch (op) {
	case 0: {
		uint8_t b = get8();
		m = msg(VU_SET_FEATURES, 8);
		for (unsigned k = 0; k < 8; k++)
			if (b & (1u << k))
				m.u.u64 |= 1ull << feature_bit[k];
		deliver(&m);
		break;
	}
	case 1: {
		uint8_t b = get8();
		unsigned n = b < 128 ? 1 : (b & 3) + 1;
		m = msg(VU_SET_MEM_TABLE, 8 + 32 * n);
		m.u.mem.nregions = n;
		for (unsigned i = 0; i < n; i++) {
			if (b < 128) {
				m.u.mem.r[0].size = GMEM;
				m.u.mem.r[0].uva = UVA0;
			} else {
				m.u.mem.r[i].gpa = (uint64_t)get8() << 12;
				m.u.mem.r[i].size = ((uint64_t)get8() + 1) << 10;
				m.u.mem.r[i].uva = UVA0 + ((uint64_t)get8() << 12);
				m.u.mem.r[i].mmap_off = (uint64_t)get8() << 10;
			}
			m.fds[i] = (b & 64) && i + 1 == n ? some_fd(3) : dup(gfd);
		}
		m.nfds = n;
		deliver(&m);
		break;
	}
	case 2: {
		uint8_t c = get8();
		m = msg(VU_SET_VRING_NUM, 8);
		m.u.state.index = r;
		m.u.state.num = (c & 128) ? get16() : (c & 64) ? (c & 63) + 1u : 1u << (c % 9);
		deliver(&m);
		break;
	}
	case 3: {
		m = msg(VU_SET_VRING_ADDR, 40);
		m.u.addr.index = r;
		uint32_t d = (uint32_t)get8() << 8, a = (uint32_t)get8() << 8, u = (uint32_t)get8() << 8;
		m.u.addr.desc = UVA0 + d;
		m.u.addr.avail = UVA0 + a;
		m.u.addr.used = UVA0 + u;
		if (r < VU_MAX_VRINGS) {
			S.q[r].desc = d;
			S.q[r].avail = a;
			S.q[r].used = u;
		}
		deliver(&m);
		break;
	}
	case 4:
		m = msg(VU_SET_VRING_BASE, 8);
		m.u.state.index = r;
		m.u.state.num = get16();
		m.u.state.num |= (uint32_t)get16() << 16;
		deliver(&m);
		break;
	case 5:
		m = msg(VU_GET_VRING_BASE, 8);
		m.u.state.index = r;
		deliver(&m);
		break;
	case 6: {
		uint8_t k = get8();
		static const uint32_t req[3] = { VU_SET_VRING_KICK, VU_SET_VRING_CALL,
						 VU_SET_VRING_ERR };
		unsigned kind = (k / 3) % 4;
		m = msg(req[k % 3], 8);
		m.u.u64 = r | (kind == 0 ? 0x100u : 0u);
		if (kind) {
			m.fds[0] = some_fd(kind);
			m.nfds = 1;
		}
		if (m.request == VU_SET_VRING_KICK && r < VU_MAX_VRINGS && !S.d.vq[r].started) {
			/* the driver starts afresh too */
			S.q[r].avail_idx = 0;
			S.q[r].pk_next = 0;
			S.q[r].pk_wrap = true;
		}
		deliver(&m);
		break;
	}
	case 7:
		m = msg(VU_SET_VRING_ENABLE, 8);
		m.u.state.index = r;
		m.u.state.num = get8() % 3;
		deliver(&m);
		break;
	default: {
		static const uint32_t req[8] = { VU_RESET_OWNER, VU_RESET_DEVICE, VU_SET_STATUS,
						 VU_SET_OWNER, VU_SET_PROTOCOL_FEATURES,
						 VU_GET_FEATURES, VU_GET_STATUS, VU_GET_QUEUE_NUM };
		uint32_t q = req[r];
		m = msg(q, q == VU_SET_STATUS || q == VU_SET_PROTOCOL_FEATURES ? 8 : 0);
		if (q == VU_SET_STATUS)
			m.u.u64 = get8();
		else if (q == VU_SET_PROTOCOL_FEATURES)
{
			uint8_t b = get8();
			m.u.u64 = (b & 1 ? 1ull << VU_PF_MQ : 0) | (b & 2 ? 1ull << VU_PF_REPLY_ACK : 0) |
				  (b & 4 ? 1ull << VU_PF_RESET_DEVICE : 0) |
				  (b & 8 ? 1ull << VU_PF_STATUS : 0);
		}
		deliver(&m);
		break;
	}
	}
}

static void split_add(unsigned r)
{
	uint32_t num = S.d.vq[r].num ? S.d.vq[r].num : 1;
	uint16_t head = (uint16_t)(get8() % num);
	unsigned n = get8() % 4 + 1;
	uint16_t at = head;
	for (unsigned k = 0; k < n; k++) {
		uint16_t next = (uint16_t)((at + 1) % num);
		uint64_t addr = 0x8000 + (uint64_t)get8() * 64;
		uint32_t len = (uint32_t)get8() * 8;
		uint16_t f = (get8() & 1) ? VRING_DESC_F_WRITE : 0;
		if (k + 1 < n)
			f |= VRING_DESC_F_NEXT;
		struct vring_desc e = { addr, len, f, next };
		poke(S.q[r].desc + 16ull * at, &e, sizeof(e));
		at = next;
	}
	poke16(S.q[r].avail + 4 + 2ull * (S.q[r].avail_idx % num), head);
	S.q[r].avail_idx++;
	poke16(S.q[r].avail + 2, S.q[r].avail_idx);
}

static void packed_add(unsigned r)
{
	uint32_t num = S.d.vq[r].num ? S.d.vq[r].num : 1;
	uint16_t id = (uint16_t)(get8() % num);
	unsigned n = get8() % 4 + 1;
	bool ind = get8() & 1;
	struct vring_packed_desc e[4];
	for (unsigned k = 0; k < n; k++) {
		e[k].addr = 0x8000 + (uint64_t)get8() * 64;
		e[k].len = (uint32_t)get8() * 8;
		e[k].id = id;
		e[k].flags = (get8() & 1) ? VRING_DESC_F_WRITE : 0;
	}
	if (ind) {
		poke(0xc000, e, n * sizeof(e[0]));
		e[0] = (struct vring_packed_desc){ .addr = 0xc000, .len = n * 16, .id = id,
						   .flags = VRING_DESC_F_INDIRECT };
		n = 1;
	}
	uint32_t first = S.q[r].pk_next;
	uint16_t first_flags = 0;
	for (unsigned k = 0; k < n; k++) {
		uint32_t slot = S.q[r].pk_next % num;
		uint16_t f = e[k].flags | (k + 1 < n ? VRING_DESC_F_NEXT : 0) |
			     (S.q[r].pk_wrap ? 1u << VRING_PACKED_DESC_F_AVAIL
					     : 1u << VRING_PACKED_DESC_F_USED);
		struct vring_packed_desc w = e[k];
		w.flags = k ? f : 0;
		if (!k)
			first_flags = f;
		poke(S.q[r].desc + 16ull * slot, &w, sizeof(w));
		if (++S.q[r].pk_next >= num) {
			S.q[r].pk_next = 0;
			S.q[r].pk_wrap = !S.q[r].pk_wrap;
		}
	}
	poke16(S.q[r].desc + 16ull * (first % num) + 14, first_flags);
}

static void port_round(unsigned r)
{
	uint8_t k = get8();
	if (!live(r))
		return;
	struct vu_vring *v = &S.d.vq[r];
	unsigned n = vu_avail_count(&S.d, v), want = k % 8 + 1;
	bool write = !(r & 1); /* even rings receive: the device writes */
	for (unsigned i = 0; i < n && i < want && !S.d.broken; i++) {
		struct vu_chain c;
		if (vu_pop(&S.d, v, write, &c) < 0)
			break;
		uint8_t sum = 0;
		for (unsigned s = 0; s < c.nseg; s++) {
			if (write)
				memset(c.seg[s].p, 0xa5, c.seg[s].len);
			else
				for (uint32_t b = 0; b < c.seg[s].len; b++)
					sum += c.seg[s].p[b];
		}
		S.sum += sum; /* every byte read */
		if ((k & 128) && i + 1 == want) {
			vu_unpop(v, &c.head, 1);
			break;
		}
		if (S.q[r].nheld < HOLD) {
			S.q[r].held[S.q[r].nheld++] = c.head;
		} else {
			vu_used_put(v, c.head, c.total > UINT32_MAX ? 0 : (uint32_t)c.total);
			vu_used_publish(v);
		}
	}
}

static void complete(unsigned r)
{
	uint8_t k = get8();
	if (!live(r))
		return;
	struct vu_vring *v = &S.d.vq[r];
	unsigned n = k % 16 < S.q[r].nheld ? k % 16 : S.q[r].nheld;
	struct vring_used_elem e[HOLD];
	for (unsigned i = 0; i < n; i++) {
		unsigned at = (k & 32) ? S.q[r].nheld - 1 - i : i;
		e[i] = (struct vring_used_elem){ S.q[r].held[at], 60 + i };
	}
	if (k & 16) {
		vu_used_put_many(v, e, n);
	} else {
		for (unsigned i = 0; i < n; i++)
			vu_used_put(v, (uint16_t)e[i].id, e[i].len);
	}
	/* the rest stay held, in order */
	if (k & 32) {
		S.q[r].nheld -= n;
	} else {
		memmove(S.q[r].held, S.q[r].held + n, (S.q[r].nheld - n) * sizeof(uint16_t));
		S.q[r].nheld -= n;
	}
	vu_used_publish(v);
	if (k & 64)
		vu_call(&S.d, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (gfd < 0) {
		gfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
		if (gfd < 0 || ftruncate(gfd, GMEM) < 0)
			abort();
		view = mmap(NULL, GMEM, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
		if (view == MAP_FAILED)
			abort();
		lfd = memfd_create("fuzz-log", MFD_CLOEXEC);
		if (lfd < 0 || ftruncate(lfd, 4096) < 0)
			abort();
	}
	memset(view, 0, GMEM);
	memset(&S, 0, sizeof(S));
	struct vu_host_ops ops = { .map = fmap, .unmap = funmap, .quiesce = fquiesce };
	vu_dev_init(&S.d, &ops);
	S.d.max_qp = 2;
	S.in = data;
	S.left = size;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		S.q[i].pk_wrap = true;
	for (unsigned ops_done = 0; S.left && ops_done < MAXOPS; ops_done++) {
		uint8_t ob = get8();
		unsigned op = ob % 16, r = get8() % 8;
		bool ring = r < 2 * S.d.max_qp;
		if (op == 8 && (ob & 0x80)) {
			op_log(r);
			continue;
		}
		switch (op) {
		case 9: {
			uint16_t off = get16();
			uint8_t n = get8() % 33, b[32];
			for (unsigned k = 0; k < n; k++)
				b[k] = get8();
			poke(off, b, n);
			break;
		}
		case 10:
			if (ring)
				split_add(r);
			break;
		case 11:
			if (ring)
				packed_add(r);
			break;
		case 12:
			if (ring)
				port_round(r);
			break;
		case 13:
			if (ring)
				complete(r);
			break;
		case 14: {
			uint8_t e = get8();
			if (ring && live(r)) {
				vu_notify_enable(&S.d, &S.d.vq[r], e & 1);
				vu_call(&S.d, &S.d.vq[r]);
			}
			break;
		}
		case 15: {
			uint8_t w = get8();
			uint16_t v = get16();
			if (ring)
				poke16(((w & 1) ? S.q[r].used : S.q[r].avail) + 2ull, v);
			break;
		}
		default:
			op_message(op, r);
			break;
		}
	}
	vu_dev_reset(&S.d);
	return 0;
}
