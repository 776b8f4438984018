/* SPDX-License-Identifier: MIT */
/* The vhost-user port against its contract (ports/port.h, issue 13 point 3):
 * status reports state, ring layout and counters; rx reads the queue pair
 * it is asked for and no other; a message that changes the rings waits for
 * the completions still in the vif's queue (service returns
 * PORT_SERVICE_DRAIN) instead of calling back into the switch, and gives
 * up on them after PORT_SERVICE_DRAINS drains.  The test is the front-end:
 * it speaks the protocol over the port's socket and plays the guest's
 * driver in a memfd it shares with the port. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "helpers.h"
#include "../../ports/dummy.h"
#include "../../ports/port.h"
#include "../../ports/vhost_user_int.h"
#include "../../switch/internal.h"
#include "../../vhost/vu.h"
#include "vu_front.h"

#define MEMSZ (4u << 20)
#define UVA 0x7f0000000000ull  /* the front-end's address of guest memory */
#define NUM 64
#define RING(r) (0x4000u * (r))      /* ring r: desc, avail +0x1000, used +0x2000 */
#define DATA(r) (0x40000u + 0x20000u * (r)) /* buffers of ring r: NUM of 2048 */
#define BUFSZ 2048
#define VM 0x020000000001ull

static uint8_t *gmem;      /* the guest's view of its memory */
static int memfd = -1;
static char path[108];
static uint64_t clk = 1;   /* the round clock handed to service */

static struct vring_desc *desc(unsigned r) { return (void *)(gmem + RING(r)); }
static struct vring_avail *avail(unsigned r) { return (void *)(gmem + RING(r) + 0x1000); }
static struct vring_used *used(unsigned r) { return (void *)(gmem + RING(r) + 0x2000); }

static int service(struct port *p)
{
	clk += 10000000; /* 10 ms: the port looks at its socket every round */
	return p->ops->service(p, clk);
}

static void send_msg(int s, uint32_t req, const void *payload, uint32_t size, int fd)
{
	assert_true(vu_front_send(s, req, payload, size, fd));
}

/* The num of a vring state reply, or -1 if no reply is there. */
static int64_t reply(int s)
{
	uint8_t buf[VU_HDR_SIZE + 8];
	ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return -1;
	assert_int_equal(n, VU_HDR_SIZE + 8);
	uint32_t num;
	memcpy(&num, buf + VU_HDR_SIZE + 4, 4);
	return num;
}

static void msg_u64(struct port *p, int s, uint32_t req, uint64_t v, int fd)
{
	send_msg(s, req, &v, 8, fd);
	assert_int_equal(service(p), PORT_SERVICE_OK);
}

static void msg_state(struct port *p, int s, uint32_t req, uint32_t index, uint32_t num)
{
	uint32_t st[2] = { index, num };
	send_msg(s, req, st, 8, -1);
	assert_int_equal(service(p), PORT_SERVICE_OK);
}

static void send_mem_table(int s)
{
	struct {
		uint32_t n, pad;
		uint64_t gpa, size, uva, off;
	} __attribute__((packed)) mt = { 1, 0, 0, MEMSZ, UVA, 0 };
	send_msg(s, VU_SET_MEM_TABLE, &mt, sizeof(mt), memfd);
}

/* A guest with nqp queue pairs: features, memory, rings (kicks polled),
 * each ring started at base (SET_VRING_BASE). */
static int guest_up_fb(struct port *p, unsigned nqp, uint64_t features, uint32_t base)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(service(p), PORT_SERVICE_OK); /* accepted */
	msg_u64(p, s, VU_SET_FEATURES, features, -1);
	msg_u64(p, s, VU_SET_OWNER, 0, -1);
	send_mem_table(s);
	assert_int_equal(service(p), PORT_SERVICE_OK);
	for (unsigned r = 0; r < 2 * nqp; r++) {
		msg_state(p, s, VU_SET_VRING_NUM, r, NUM);
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} __attribute__((packed)) ad = { r, 0, UVA + RING(r), UVA + RING(r) + 0x2000,
						 UVA + RING(r) + 0x1000, 0 };
		send_msg(s, VU_SET_VRING_ADDR, &ad, sizeof(ad), -1);
		assert_int_equal(service(p), PORT_SERVICE_OK);
		msg_state(p, s, VU_SET_VRING_BASE, r, base);
		msg_u64(p, s, VU_SET_VRING_KICK, r | 0x100, -1); /* no fd: polled */
	}
	return s;
}

static int guest_up_f(struct port *p, unsigned nqp, uint64_t features)
{
	return guest_up_fb(p, nqp, features, 0);
}

static int guest_up(struct port *p, unsigned nqp)
{
	return guest_up_f(p, nqp, 1ull << VIRTIO_F_VERSION_1);
}

/* The guest sends a frame of len bytes (after a zero virtio-net header) on
 * queue pair `pair`, from buffer slot `slot`. */
static void guest_tx(unsigned pair, unsigned slot, const struct tframe *f)
{
	unsigned r = 2 * pair + 1;
	uint32_t off = DATA(r) + slot * BUFSZ;
	memset(gmem + off, 0, 12);
	memcpy(gmem + off + 12, f->b, f->len);
	desc(r)[slot] = (struct vring_desc){ .addr = off, .len = 12 + f->len };
	avail(r)->ring[avail(r)->idx % NUM] = (uint16_t)slot;
	__atomic_store_n(&avail(r)->idx, (uint16_t)(avail(r)->idx + 1), __ATOMIC_RELEASE);
}

/* The guest offers n receive buffers on pair 0's receive ring. */
static void guest_rx_offer(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		desc(0)[i] = (struct vring_desc){ .addr = DATA(0) + i * BUFSZ, .len = BUFSZ,
						  .flags = VRING_DESC_F_WRITE };
		avail(0)->ring[i] = (uint16_t)i;
	}
	__atomic_store_n(&avail(0)->idx, (uint16_t)n, __ATOMIC_RELEASE);
}

static int setup(void **s)
{
	(void)s;
	memfd = memfd_create("guest", MFD_CLOEXEC);
	assert_true(memfd >= 0);
	assert_int_equal(ftruncate(memfd, MEMSZ), 0);
	gmem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	assert_true(gmem != MAP_FAILED);
	memset(gmem, 0, MEMSZ);
	snprintf(path, sizeof(path), "/tmp/vmdq-test-vhu-%d.sock", (int)getpid());
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	munmap(gmem, MEMSZ);
	close(memfd);
	unlink(path);
	return 0;
}

static const char *counter(const struct port_status *st, const char *name, uint64_t *v)
{
	for (unsigned i = 0; i < st->n; i++)
		if (strcmp(st->names[i], name) == 0) {
			*v = st->vals[i];
			return st->names[i];
		}
	return NULL;
}

static void status_and_rx_per_pair(void **s)
{
	(void)s;
	struct port p = { .ops = port_ops_find("vhost-user"), .nqueues = 2 };
	snprintf(p.name, sizeof(p.name), "vm1");
	char err[256] = "";
	char *args[] = { path, "targeted", "off" };
	assert_int_equal(p.ops->open(&p, args, 3, err, sizeof(err)), 0);
	assert_int_equal(p.caps.max_frame_in, 9216);
	assert_int_equal(p.caps.rx_offloads | p.caps.tx_offloads, 0);

	struct port_status st = { 0 };
	p.ops->status(&p, &st);
	assert_string_equal(st.state, "waiting");
	assert_null(st.ring);
	assert_int_equal(st.n, 9 + VU_E__COUNT + VMDQ_OFF_ERR__COUNT - 1);
	uint64_t v = 99;
	assert_non_null(counter(&st, "connects", &v));
	assert_int_equal(v, 0);

	int g = guest_up(&p, 2);
	memset(&st, 0, sizeof(st));
	p.ops->status(&p, &st);
	assert_string_equal(st.state, "running");
	assert_string_equal(st.ring, "split");
	assert_non_null(counter(&st, "connects", &v));
	assert_int_equal(v, 1);
	assert_non_null(counter(&st, "loop", &v));
	assert_int_equal(v, 0);

	/* a frame on pair 1 comes from rx of pair 1 only */
	struct tframe f, h;
	untagged(&f, 0x02bb00000001ull, 100);
	untagged(&h, 0x02bb00000002ull, 70);
	guest_tx(1, 0, &f);
	struct vmdq_frame out[8];
	assert_int_equal(p.ops->rx(&p, 0, out, 8), 0);
	assert_int_equal(p.ops->rx(&p, 1, out, 8), 1);
	assert_int_equal(out[0].len, 100);
	assert_memory_equal(out[0].data, f.b, 100);
	assert_int_equal(used(3)->idx, 1);
	assert_int_equal(p.ops->rx(&p, 1, out, 8), 0);
	/* and one on pair 0 from rx of pair 0 */
	guest_tx(0, 0, &h);
	assert_int_equal(p.ops->rx(&p, 1, out, 8), 0);
	assert_int_equal(p.ops->rx(&p, 0, out, 8), 1);
	assert_int_equal(out[0].len, 70);
	assert_memory_equal(out[0].data, h.b, 70);
	assert_int_equal(used(1)->idx, 1);
	/* a pair the vif does not have */
	assert_int_equal(p.ops->rx(&p, 2, out, 8), 0);
	assert_int_equal(p.rx_frames, 2);

	unsigned char res = 0;
	uint8_t *page = (uint8_t *)((uintptr_t)out[0].data & ~(uintptr_t)4095);
	assert_int_equal(mincore(page, 4096, &res), 0);
	assert_int_equal(res & 1, 1); /* the frame's buffer is resident */
	close(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	/* ... and no longer once the guest is gone (an idle vif holds none) */
	assert_int_equal(mincore(page, 4096, &res), 0);
	assert_int_equal(res & 1, 0);
	memset(&st, 0, sizeof(st));
	p.ops->status(&p, &st);
	assert_string_equal(st.state, "waiting");
	assert_null(st.ring);
	assert_non_null(counter(&st, "disconnects", &v));
	assert_int_equal(v, 1);
	p.ops->close(&p);
}

/* A targeted vif (Level 2) with one queue on a device; q's buffers are the
 * guest's. */
static struct vmdq_dev *targeted_port(struct port *p)
{
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_non_null(dev);
	assert_int_equal(vmdq_dev_set_vmdq(dev, true), 0);
	assert_int_equal(vmdq_queue_alloc(dev, 1, 7), 1);
	assert_int_equal(vmdq_rxq_setup(dev, 1, 256), 0);
	uint8_t mac[6];
	mac_from_u64(VM, mac);
	assert_true(vmdq_filter_add(dev, mac, 0, 1) > 0);
	*p = (struct port){ .ops = port_ops_find("vhost-user"), .dev = dev, .queue = 1,
			    .nqueues = 1, .owner = 7 };
	snprintf(p->name, sizeof(p->name), "vm1");
	char err[256] = "";
	char *args[] = { path };
	assert_int_equal(p->ops->open(p, args, 1, err, sizeof(err)), 0);
	assert_true(p->ops->targeted(p));
	return dev;
}

/* One frame into the guest's buffer, its completion left in the queue. */
static void one_frame_in_flight(struct vmdq_dev *dev, struct tframe *f)
{
	untagged(f, VM, 80);
	struct vmdq_frame in = { .data = f->b, .caplen = 80, .len = 80, .ts_ns = 1 };
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
}

static void quiesce_by_return_code(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	struct port p;
	struct vmdq_dev *dev = targeted_port(&p);
	int g = guest_up(&p, 1);
	guest_rx_offer(8);
	assert_int_equal(service(&p), PORT_SERVICE_OK); /* 8 buffers posted */
	struct tframe f;
	one_frame_in_flight(dev, &f);

	uint32_t st[2] = { 0, 0 };
	send_msg(g, VU_GET_VRING_BASE, st, 8, -1);
	assert_int_equal(service(&p), PORT_SERVICE_DRAIN);
	assert_int_equal(reply(g), -1); /* not handled yet */
	/* the 7 empty buffers went back to the guest, length 0 */
	assert_int_equal(used(0)->idx, 7);
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(used(0)->ring[i].len, 0);
	/* the worker drains: the filled one is delivered */
	struct vmdq_rxd d[8];
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 1);
	bool yes = true;
	assert_int_equal(p.ops->complete(&p, d, 1, &yes), 1);
	assert_int_equal(used(0)->idx, 8);
	assert_int_equal(used(0)->ring[7].len, 12 + 80);
	assert_memory_equal(gmem + DATA(0) + used(0)->ring[7].id * BUFSZ + 12, f.b, 80);
	/* asked again, the port handles the message */
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(reply(g), 8); /* the ring's next avail index */

	vmdq_queue_stop(dev, 1);
	p.ops->close(&p);
	vmdq_dev_destroy(dev);
	close(g);
}

static void quiesce_gives_up_after_drains(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	struct port p;
	struct vmdq_dev *dev = targeted_port(&p);
	int g = guest_up(&p, 1);
	guest_rx_offer(8);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	struct tframe f;
	one_frame_in_flight(dev, &f);

	/* the same memory table again: the rings stay, mapped afresh */
	send_mem_table(g);
	/* a worker that never drains: PORT_SERVICE_DRAINS waits, then on */
	for (unsigned k = 0; k < PORT_SERVICE_DRAINS; k++)
		assert_int_equal(service(&p), PORT_SERVICE_DRAIN);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(used(0)->idx, 7); /* the empty ones */
	/* the completion that comes late was posted before the memory
	 * changed: given up on, never written into the guest */
	struct vmdq_rxd d[8];
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 1);
	bool yes = true;
	assert_int_equal(p.ops->complete(&p, d, 1, &yes), 0);
	assert_int_equal(used(0)->idx, 7);
	assert_int_equal(p.tx_frames, 0);
	/* the ring runs on: a buffer offered now is posted and filled */
	desc(0)[8] = (struct vring_desc){ .addr = DATA(0) + 8 * BUFSZ, .len = BUFSZ,
					  .flags = VRING_DESC_F_WRITE };
	avail(0)->ring[8] = 8;
	__atomic_store_n(&avail(0)->idx, (uint16_t)9, __ATOMIC_RELEASE);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	one_frame_in_flight(dev, &f);
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 1);
	assert_int_equal(p.ops->complete(&p, d, 1, &yes), 1);
	assert_int_equal(used(0)->idx, 8);
	assert_int_equal(used(0)->ring[7].id, 8);

	vmdq_queue_stop(dev, 1);
	p.ops->close(&p);
	vmdq_dev_destroy(dev);
	close(g);
}

/* Review K1: after a quiesce gave up (the generation moved on), a batch of
 * completions may hold given-up entries and current ones together: each is
 * judged by its own generation.  The given-up ones are skipped (never
 * written, not counted off posted: vhu_quiesce zeroed it for them); the
 * current ones are delivered and counted off, so posted comes back to 0.
 * (The device refuses the guest's memory again while buffers of the
 * given-up generation are out, so the batch is put together here: the old
 * completions kept aside, as a worker holding a batch would.) */
static void complete_mixed_generations(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	struct port p;
	struct vmdq_dev *dev = targeted_port(&p);
	struct vhu *h = p.priv;
	int g = guest_up(&p, 1);
	guest_rx_offer(4);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(h->r[0].posted, 4);
	struct tframe f;
	for (unsigned i = 0; i < 4; i++)
		one_frame_in_flight(dev, &f);
	/* a memory table while all four are filled: the worker never drains,
	 * the quiesce gives up on them */
	send_mem_table(g);
	for (unsigned k = 0; k < PORT_SERVICE_DRAINS; k++)
		assert_int_equal(service(&p), PORT_SERVICE_DRAIN);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(h->r[0].posted, 0);
	assert_int_equal(used(0)->idx, 0);
	struct vmdq_rxd d[8];
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 4); /* old: kept aside */
	/* four new buffers, posted and filled */
	for (unsigned i = 4; i < 8; i++) {
		desc(0)[i] = (struct vring_desc){ .addr = DATA(0) + i * BUFSZ, .len = BUFSZ,
						  .flags = VRING_DESC_F_WRITE };
		avail(0)->ring[i] = (uint16_t)i;
	}
	__atomic_store_n(&avail(0)->idx, (uint16_t)8, __ATOMIC_RELEASE);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(h->r[0].posted, 4);
	for (unsigned i = 0; i < 4; i++)
		one_frame_in_flight(dev, &f);
	struct vmdq_rxd b[6];
	b[0] = d[0];
	b[1] = d[1];
	assert_int_equal(vmdq_rxq_poll(dev, 1, b + 2, 4), 4);
	bool yes[6] = { true, true, true, true, true, true };
	assert_int_equal(p.ops->complete(&p, b, 6, yes), 4);
	assert_int_equal(used(0)->idx, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(used(0)->ring[i].id, 4 + i);
		assert_int_equal(used(0)->ring[i].len, 12 + 80);
	}
	assert_int_equal(p.tx_frames, 4);
	/* refill posted the rest of what the guest offered: nothing */
	assert_int_equal(h->r[0].posted, 0);

	vmdq_queue_stop(dev, 1);
	p.ops->close(&p);
	vmdq_dev_destroy(dev);
	close(g);
}

/* Ring r set up as QEMU does it (NUM, ADDR, BASE, KICK, CALL; kicks polled). */
static void ring_up(struct port *p, int s, unsigned r, uint32_t base)
{
	msg_state(p, s, VU_SET_VRING_NUM, r, NUM);
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} __attribute__((packed)) ad = { r, 0, UVA + RING(r), UVA + RING(r) + 0x2000,
					 UVA + RING(r) + 0x1000, 0 };
	send_msg(s, VU_SET_VRING_ADDR, &ad, sizeof(ad), -1);
	assert_int_equal(service(p), PORT_SERVICE_OK);
	msg_state(p, s, VU_SET_VRING_BASE, r, base);
	msg_u64(p, s, VU_SET_VRING_KICK, r | 0x100, -1);
	msg_u64(p, s, VU_SET_VRING_CALL, r | 0x100, -1);
}

/* Review K3: a migration's destination (and every boot) in QEMU's order:
 * the rings enabled first, the receive ring running (its buffers posted)
 * before the transmit ring is set up, then SET_STATUS with DRIVER_OK.  The
 * status changes no ring: the posted buffers stay posted, none comes back
 * to the guest empty (Linux would count rx_length_errors).  Status 0 then
 * stops the rings as before: the buffers come back, length 0. */
static void status_driver_ok_keeps_posted(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	struct port p;
	struct vmdq_dev *dev = targeted_port(&p);
	struct vhu *h = p.priv;
	int g = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(g, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	msg_u64(&p, g, VU_SET_FEATURES,
		1ull << VIRTIO_F_VERSION_1 | 1ull << VU_F_PROTOCOL_FEATURES, -1);
	msg_u64(&p, g, VU_SET_PROTOCOL_FEATURES, 1ull << VU_PF_STATUS, -1);
	msg_u64(&p, g, VU_SET_OWNER, 0, -1);
	send_mem_table(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	msg_state(&p, g, VU_SET_VRING_ENABLE, 0, 1);
	msg_state(&p, g, VU_SET_VRING_ENABLE, 1, 1);
	guest_rx_offer(8);
	ring_up(&p, g, 0, 0);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(h->r[0].posted, 8);
	ring_up(&p, g, 1, 0);
	assert_int_equal(h->r[0].posted, 8);
	msg_u64(&p, g, VU_SET_STATUS, 0x0f, -1); /* ... DRIVER_OK, FEATURES_OK */
	assert_int_equal(h->r[0].posted, 8);
	assert_int_equal(used(0)->idx, 0);
	/* the buffers are there for frames */
	struct tframe f;
	one_frame_in_flight(dev, &f);
	struct vmdq_rxd d[8];
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 1);
	bool yes = true;
	assert_int_equal(p.ops->complete(&p, d, 1, &yes), 1);
	assert_int_equal(used(0)->idx, 1);
	assert_int_equal(used(0)->ring[0].len, 12 + 80);
	assert_int_equal(h->r[0].posted, 7);
	/* status 0 stops the device: the 7 come back empty, positions kept */
	msg_u64(&p, g, VU_SET_STATUS, 0, -1);
	assert_int_equal(h->r[0].posted, 0);
	assert_int_equal(used(0)->idx, 8);
	for (unsigned i = 1; i < 8; i++)
		assert_int_equal(used(0)->ring[i].len, 0);

	vmdq_queue_stop(dev, 1);
	p.ops->close(&p);
	vmdq_dev_destroy(dev);
	close(g);
}

/* Review K4: completions for a receive ring that is not running.  The
 * guest disables the ring (SET_VRING_ENABLE 0 does not quiesce) with
 * buffers posted and two filled: their frames are not delivered (complete
 * says 0: the switch counts them, port-tx), the buffers go back to the
 * guest empty and are counted off posted.  A stop then takes the rest back
 * the same way: nothing stays in flight, GET_VRING_BASE's index is the
 * guest's used index.  A ring that broke gets nothing written, its buffers
 * are still counted off. */
static void complete_on_disabled_ring(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	struct port p;
	struct vmdq_dev *dev = targeted_port(&p);
	struct vhu *h = p.priv;
	int g = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(g, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	msg_u64(&p, g, VU_SET_FEATURES,
		1ull << VIRTIO_F_VERSION_1 | 1ull << VU_F_PROTOCOL_FEATURES, -1);
	msg_u64(&p, g, VU_SET_OWNER, 0, -1);
	send_mem_table(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	msg_state(&p, g, VU_SET_VRING_ENABLE, 0, 1);
	msg_state(&p, g, VU_SET_VRING_ENABLE, 1, 1);
	guest_rx_offer(8);
	ring_up(&p, g, 0, 0);
	ring_up(&p, g, 1, 0);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(h->r[0].posted, 8);
	struct tframe f;
	one_frame_in_flight(dev, &f);
	one_frame_in_flight(dev, &f);
	msg_state(&p, g, VU_SET_VRING_ENABLE, 0, 0);
	assert_int_equal(h->r[0].posted, 8); /* (no quiesce) */
	struct vmdq_rxd d[8];
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 2);
	bool yes[2] = { true, true };
	assert_int_equal(p.ops->complete(&p, d, 2, yes), 0);
	assert_int_equal(p.tx_frames, 0);
	assert_int_equal(h->r[0].posted, 6);
	assert_int_equal(used(0)->idx, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(used(0)->ring[i].id, (uint16_t)d[i].cookie);
		assert_int_equal(used(0)->ring[i].len, 0);
	}
	/* the stop: the six left come back empty, the reply is exact */
	uint32_t st[2] = { 0, 0 };
	send_msg(g, VU_GET_VRING_BASE, st, 8, -1);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(reply(g), 8);
	assert_int_equal(used(0)->idx, 8);
	assert_int_equal(h->r[0].posted, 0);

	/* a broken device: nothing written, still counted off posted */
	ring_up(&p, g, 0, 8);
	msg_state(&p, g, VU_SET_VRING_ENABLE, 0, 1);
	for (unsigned i = 8; i < 12; i++) {
		desc(0)[i % NUM] = (struct vring_desc){ .addr = DATA(0) + i * BUFSZ, .len = BUFSZ,
							.flags = VRING_DESC_F_WRITE };
		avail(0)->ring[i % NUM] = (uint16_t)(i % NUM);
	}
	__atomic_store_n(&avail(0)->idx, (uint16_t)12, __ATOMIC_RELEASE);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(h->r[0].posted, 4);
	one_frame_in_flight(dev, &f);
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 1);
	h->d.broken = true;
	assert_int_equal(p.ops->complete(&p, d, 1, yes), 0);
	assert_int_equal(used(0)->idx, 8);
	assert_int_equal(h->r[0].posted, 3);

	vmdq_queue_stop(dev, 1);
	p.ops->close(&p);
	vmdq_dev_destroy(dev);
	close(g);
}


/* ---- offloads (issue 14): the virtio-net header both ways ---------------- */

#define F(b) (1ull << (b))
#define BIG(k) (0x100000u + 0x11000u * (k)) /* the guest's large buffers, 68 KiB */

static unsigned dnext; /* the next free descriptor of ring 1 (pair 0 transmits) */

static void wr16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

struct sframe {
	uint8_t b[70000];
	uint32_t len, l4;
};

/* TCP (or UDP) over IPv4 or IPv6 to VM with `payload` bytes of payload,
 * lengths right, the L4 checksum field holding the pseudo-header sum (what
 * a sender leaves with NEEDS_CSUM) */
static void mkframe(struct sframe *f, int v6, int udp, uint32_t payload)
{
	memset(f->b, 0, sizeof(f->b));
	mac_from_u64(VM, f->b);
	mac_from_u64(0x02bb00000001ull, f->b + 6);
	uint32_t l3 = 14, l4 = l3 + (v6 ? 40 : 20), hl = l4 + (udp ? 8 : 20);
	f->len = hl + payload;
	f->l4 = l4;
	uint8_t proto = udp ? 17 : 6;
	wr16be(f->b + 12, v6 ? 0x86dd : 0x0800);
	uint32_t sum = proto + (f->len - l4);
	if (v6) {
		f->b[l3] = 0x60;
		wr16be(f->b + l3 + 4, (uint16_t)(f->len - l4));
		f->b[l3 + 6] = proto;
		f->b[l3 + 7] = 64;
		for (unsigned i = 0; i < 32; i++) {
			f->b[l3 + 8 + i] = (uint8_t)(0x20 + i);
			sum += (i & 1) ? f->b[l3 + 8 + i] : (uint32_t)f->b[l3 + 8 + i] << 8;
		}
	} else {
		f->b[l3] = 0x45;
		wr16be(f->b + l3 + 2, (uint16_t)(f->len - l3));
		f->b[l3 + 8] = 64;
		f->b[l3 + 9] = proto;
		memcpy(f->b + l3 + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		sum += 0x0a00 + 0x0001 + 0x0a00 + 0x0002;
	}
	wr16be(f->b + l4, 40000);
	wr16be(f->b + l4 + 2, 5201);
	if (udp) {
		wr16be(f->b + l4 + 4, (uint16_t)(f->len - l4));
	} else {
		f->b[l4 + 12] = 0x50;
		f->b[l4 + 13] = 0x10; /* ACK */
	}
	for (uint32_t i = 0; i < payload; i++)
		f->b[hl + i] = (uint8_t)(i * 7 + 3);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	wr16be(f->b + l4 + (udp ? 6 : 16), (uint16_t)sum);
}

/* A virtio-net header (12 bytes, little-endian) */
static void vnh(uint8_t *h, uint8_t flags, uint8_t type, uint16_t hdr_len, uint16_t gso,
		uint16_t cs, uint16_t co)
{
	memset(h, 0, 12);
	h[0] = flags;
	h[1] = type;
	wr16le(h + 2, hdr_len);
	wr16le(h + 4, gso);
	wr16le(h + 6, cs);
	wr16le(h + 8, co);
}

/* The guest sends header and frame from its large buffer k on pair 0, in
 * one descriptor, or three (split: 5 header bytes, the other 7 and 100
 * bytes of frame, the rest). */
static void guest_send(unsigned k, const uint8_t *hdr, const uint8_t *fr, uint32_t len,
		       int split)
{
	uint8_t *b = gmem + BIG(k);
	memcpy(b, hdr, 12);
	memcpy(b + 12, fr, len);
	uint32_t cut[3] = { 12 + len, 0, 0 }, off = 0;
	unsigned n = 1, head = dnext;
	if (split) {
		cut[0] = 5;
		cut[1] = 7 + 100;
		cut[2] = len - 100;
		n = 3;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned d = dnext++;
		desc(1)[d] = (struct vring_desc){ .addr = BIG(k) + off, .len = cut[i],
						  .flags = i + 1 < n ? VRING_DESC_F_NEXT : 0,
						  .next = (uint16_t)(d + 1) };
		off += cut[i];
	}
	avail(1)->ring[avail(1)->idx % NUM] = (uint16_t)head;
	__atomic_store_n(&avail(1)->idx, (uint16_t)(avail(1)->idx + 1), __ATOMIC_RELEASE);
}

static uint64_t status_counter(struct port *p, const char *name)
{
	struct port_status st = { 0 };
	uint64_t v = 0;
	p->ops->status(p, &st);
	assert_non_null(counter(&st, name, &v));
	return v;
}

static uint64_t get_features(struct port *p, int g)
{
	send_msg(g, VU_GET_FEATURES, NULL, 0, -1);
	assert_int_equal(service(p), PORT_SERVICE_OK);
	uint8_t buf[VU_HDR_SIZE + 8];
	assert_int_equal(recv(g, buf, sizeof(buf), MSG_DONTWAIT), (ssize_t)sizeof(buf));
	uint64_t f;
	memcpy(&f, buf + VU_HDR_SIZE, 8);
	return f;
}

static void open_port(struct port *p, const char *targeted, const char *offloads)
{
	*p = (struct port){ .ops = port_ops_find("vhost-user"), .nqueues = 1 };
	snprintf(p->name, sizeof(p->name), "vm1");
	char err[256] = "";
	char *args[] = { path, "targeted", (char *)targeted, "offloads", (char *)offloads };
	assert_int_equal(p->ops->open(p, args, 5, err, sizeof(err)), 0);
}

#define TSO_GUEST (F(VIRTIO_F_VERSION_1) | F(VU_NET_F_CSUM) | F(VU_NET_F_HOST_TSO4) | \
		   F(VU_NET_F_HOST_TSO6))

/* Every hostile virtio-net header of issue 14 point 4 from a guest that
 * negotiated CSUM and HOST_TSO4/6 (no ECN, no USO), each between honest
 * frames: the hostile ones dropped and counted under their reason, the
 * honest ones delivered in order with the offload state they asked for
 * (hdr_len as the headers say, whatever the guest claimed). */
static void vnet_header_from_guest(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	dnext = 0;
	struct port p;
	open_port(&p, "off", "on");
	assert_int_equal(p.caps.rx_offloads | p.caps.tx_offloads, 0); /* not negotiated yet */
	int g = guest_up_f(&p, 1, TSO_GUEST);
	assert_int_equal(p.caps.rx_offloads, PORT_OFF_CSUM | PORT_OFF_TSO4 | PORT_OFF_TSO6);
	assert_int_equal(p.caps.tx_offloads, 0);
	assert_int_equal(p.caps.max_frame_in, VMDQ_MAX_SUPER);

	static struct sframe t4, t6, u4, small, big, bad;
	mkframe(&t4, 0, 0, 3000);   /* 3054 bytes */
	mkframe(&t6, 1, 0, 3000);   /* 3074 */
	mkframe(&u4, 0, 1, 3000);
	mkframe(&small, 0, 0, 46);  /* 100 */
	mkframe(&big, 0, 0, 65535 - 40); /* the largest IPv4 super-frame: 65549 */
	assert_int_equal(big.len, 65549);
	struct {
		uint8_t h[12];
		const struct sframe *f;
		uint32_t len;           /* 0: f->len */
		int split;
		const char *why;        /* NULL: delivered with off */
		struct vmdq_offload off;
	} c[20];
	unsigned nc = 0;
#define CASE(fr, fl, ty, hl, gs, cs, co, sp, w, ...) do { \
		vnh(c[nc].h, fl, ty, hl, gs, cs, co); \
		c[nc].f = fr; c[nc].len = 0; c[nc].split = sp; c[nc].why = w; \
		c[nc].off = (struct vmdq_offload){ __VA_ARGS__ }; nc++; } while (0)
	/* honest TSO, the header in two pieces, hdr_len a lie (0) */
	CASE(&t4, 1, 1, 0, 1448, 34, 16, 1, NULL, VMDQ_OFF_CSUM_PARTIAL, VMDQ_GSO_TCPV4, 0, 1448, 54, 34, 16);
	CASE(&t4, 1, 1, 54, 0, 34, 16, 0, "gso-size");
	CASE(&small, 0, 0, 0, 0, 0, 0, 0, NULL, 0);
	/* gso_size larger than the payload: not a super-frame (the kernel's
	 * rule), the partial checksum stays */
	CASE(&t4, 1, 1, 54, 4000, 34, 16, 0, NULL, VMDQ_OFF_CSUM_PARTIAL, 0, 0, 0, 0, 34, 16);
	/* hdr_len beyond the frame: a hint, recomputed */
	CASE(&t4, 1, 1, 60000, 1448, 34, 16, 0, NULL, VMDQ_OFF_CSUM_PARTIAL, VMDQ_GSO_TCPV4, 0, 1448, 54, 34, 16);
	CASE(&t4, 1, 1, 54, 1448, 3054, 16, 0, "csum-range");
	CASE(&t4, 1, 0, 0, 0, 34, 3030, 0, "csum-range");
	CASE(&t4, 1, 7, 54, 1448, 34, 16, 0, "gso-type");
	CASE(&u4, 1, 3, 42, 1448, 34, 6, 0, "gso-type");    /* UFO: never offered */
	CASE(&big, 0, 0, 0, 0, 0, 0, 0, "super-long");
	c[nc - 1].len = 65563;                                /* one byte too many */
	CASE(&u4, 1, 5, 42, 1448, 34, 6, 0, "off-not-negotiated");   /* USO */
	CASE(&t4, 1, 0x81, 54, 1448, 34, 16, 0, "off-not-negotiated"); /* ECN */
	CASE(&t4, 0, 1, 54, 1448, 0, 0, 0, "gso-csum");
	CASE(&t4, 1, 1, 54, 1448, 34, 6, 0, "gso-csum");    /* not the TCP checksum */
	CASE(&t6, 1, 1, 74, 1448, 54, 16, 0, "gso-headers"); /* TCPV4 on IPv6 */
	CASE(&t6, 1, 4, 0, 1448, 54, 16, 0, NULL, VMDQ_OFF_CSUM_PARTIAL, VMDQ_GSO_TCPV6, 0, 1448, 74, 54, 16);
	/* DATA_VALID is not the guest's to say */
	CASE(&small, 2, 0, 0, 0, 0, 0, 0, NULL, 0);
	CASE(&big, 1, 1, 54, 1448, 34, 16, 0, NULL, VMDQ_OFF_CSUM_PARTIAL, VMDQ_GSO_TCPV4, 0, 1448, 54, 34, 16);
#undef CASE
	/* an IP length that is not the frame's */
	memcpy(&bad, &t4, sizeof(bad));
	wr16be(bad.b + 16, 3000);
	vnh(c[nc].h, 1, 1, 54, 1448, 34, 16);
	c[nc].f = &bad;
	c[nc].len = 0;
	c[nc].split = 0;
	c[nc++].why = "gso-ip-len";
	for (unsigned i = 0; i < nc; i++)
		guest_send(i, c[i].h, c[i].f->b, c[i].len ? c[i].len : c[i].f->len, c[i].split);

	struct vmdq_frame out[64];
	unsigned got = p.ops->rx(&p, 0, out, 64);
	assert_int_equal(used(1)->idx, nc); /* every chain back to the guest */
	unsigned k = 0;
	for (unsigned i = 0; i < nc; i++) {
		if (c[i].why)
			continue;
		assert_true(k < got);
		assert_int_equal(out[k].len, c[i].f->len);
		assert_memory_equal(out[k].data, c[i].f->b, c[i].f->len);
		assert_memory_equal(&out[k].off, &c[i].off, sizeof(c[i].off));
		k++;
	}
	assert_int_equal(got, k);
	assert_int_equal(got, 7);
	assert_int_equal(p.rx_frames, 7);
	static const struct { const char *name; uint64_t n; } want[] = {
		{ "gso-size", 1 }, { "csum-range", 2 }, { "gso-type", 2 }, { "super-long", 1 },
		{ "off-not-negotiated", 2 }, { "gso-csum", 2 }, { "gso-headers", 1 },
		{ "gso-ip-len", 1 }, { "vnet-short", 0 }, { "gso-ecn", 0 }, { "bad-length", 0 },
	};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(status_counter(&p, want[i].name), want[i].n);
	struct port_status st = { 0 };
	p.ops->status(&p, &st);
	assert_string_equal(st.state, "running"); /* refused frames do not break it */

	close(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(p.caps.rx_offloads | p.caps.tx_offloads, 0); /* gone with the guest */
	assert_int_equal(p.caps.max_frame_in, 9216);
	p.ops->close(&p);
}

/* A vif whose offloads are off offers none; a guest that negotiated none
 * may not ask for a partial checksum or segmentation (dropped, counted), and
 * its chains stay limited to a jumbo frame. */
static void vnet_header_without_offloads(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	dnext = 0;
	struct port p;
	open_port(&p, "off", "off");
	int g = guest_up_f(&p, 1, F(VIRTIO_F_VERSION_1));
	assert_int_equal(get_features(&p, g) & vu_offload_features(), 0);
	assert_int_equal(p.caps.rx_offloads | p.caps.tx_offloads, 0);
	static struct sframe t4, small;
	mkframe(&t4, 0, 0, 3000);
	mkframe(&small, 0, 0, 46);
	uint8_t h[12];
	vnh(h, 1, 0, 0, 0, 34, 16);
	guest_send(0, h, small.b, small.len, 0);
	vnh(h, 1, 1, 54, 1448, 34, 16);
	guest_send(1, h, t4.b, t4.len, 0);
	vnh(h, 0, 0, 0, 0, 0, 0);
	guest_send(2, h, t4.b, t4.len, 0);
	struct vmdq_frame out[8];
	assert_int_equal(p.ops->rx(&p, 0, out, 8), 1);
	assert_int_equal(out[0].len, 3054);
	assert_int_equal(out[0].off.flags | out[0].off.gso_type, 0);
	assert_int_equal(status_counter(&p, "off-not-negotiated"), 2);
	/* a chain longer than a jumbo frame still breaks the device */
	static struct sframe big;
	mkframe(&big, 0, 0, 9217 - 54);
	guest_send(3, h, big.b, big.len, 0);
	assert_int_equal(p.ops->rx(&p, 0, out, 8), 0);
	assert_int_equal(status_counter(&p, "bad-length"), 1);
	/* ... and the offloads cannot be negotiated */
	int g2 = g;
	send_msg(g2, VU_SET_FEATURES, &(uint64_t){ TSO_GUEST }, 8, -1);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(p.caps.rx_offloads, 0);
	close(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	p.ops->close(&p);
}

/* The offloads each set of features allows: segmentation only with the
 * checksum feature of its direction, ECN only with TCP segmentation, USO to
 * the guest only for both IP versions. */
static void caps_follow_features(void **s)
{
	(void)s;
	static const struct {
		uint64_t f;
		uint32_t rx, tx;
	} t[] = {
		{ 0, 0, 0 },
		{ F(VU_NET_F_CSUM), PORT_OFF_CSUM, 0 },
		{ F(VU_NET_F_GUEST_CSUM), 0, PORT_OFF_CSUM },
		{ F(VU_NET_F_HOST_TSO4) | F(VU_NET_F_HOST_ECN) | F(VU_NET_F_HOST_USO) |
		  F(VU_NET_F_GUEST_TSO6) | F(VU_NET_F_GUEST_ECN), 0, 0 },
		{ F(VU_NET_F_CSUM) | F(VU_NET_F_HOST_ECN), PORT_OFF_CSUM, 0 },
		{ F(VU_NET_F_CSUM) | F(VU_NET_F_HOST_TSO6) | F(VU_NET_F_HOST_ECN),
		  PORT_OFF_CSUM | PORT_OFF_TSO6 | PORT_OFF_ECN, 0 },
		{ F(VU_NET_F_CSUM) | F(VU_NET_F_HOST_USO), PORT_OFF_CSUM | PORT_OFF_USO, 0 },
		{ F(VU_NET_F_GUEST_CSUM) | F(VU_NET_F_GUEST_USO4), 0, PORT_OFF_CSUM },
		{ F(VU_NET_F_GUEST_CSUM) | F(VU_NET_F_GUEST_USO4) | F(VU_NET_F_GUEST_USO6), 0,
		  PORT_OFF_CSUM | PORT_OFF_USO },
		{ 0x01c0000000003b83ull,
		  PORT_OFF_CSUM | PORT_OFF_TSO4 | PORT_OFF_TSO6 | PORT_OFF_USO | PORT_OFF_ECN,
		  PORT_OFF_CSUM | PORT_OFF_TSO4 | PORT_OFF_TSO6 | PORT_OFF_USO | PORT_OFF_ECN },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t rx = 99, tx = 99;
		vhu_caps_of(t[i].f | F(VIRTIO_F_VERSION_1), &rx, &tx);
		assert_int_equal(rx, t[i].rx);
		assert_int_equal(tx, t[i].tx);
	}
	/* the last row is every offload feature; their bits are the virtio
	 * spec's (5.1.3) */
	assert_int_equal(vu_offload_features(), 0x01c0000000003b83ull);
}

/* The guest offers n receive buffers of size sz on pair 0 (from BIG(0)). */
static void guest_rx_offer_sz(unsigned n, uint32_t sz)
{
	for (unsigned i = 0; i < n; i++) {
		desc(0)[i] = (struct vring_desc){ .addr = BIG(0) + i * sz, .len = sz,
						  .flags = VRING_DESC_F_WRITE };
		avail(0)->ring[i] = (uint16_t)i;
	}
	__atomic_store_n(&avail(0)->idx, (uint16_t)n, __ATOMIC_RELEASE);
}

/* The header the guest got with used entry u of ring 0, and num_buffers. */
static const uint8_t *rx_hdr(unsigned u, uint32_t sz)
{
	return gmem + BIG(0) + used(0)->ring[u].id * sz;
}

/* Switch -> guest by copy: the header says what the frame's offload state
 * says, as far as the guest negotiated; super-frames in mergeable buffers
 * (up to 64 KiB), or dropped and counted when its buffers cannot hold them. */
static void vnet_header_to_guest(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	struct port p;
	open_port(&p, "off", "on");
	int g = guest_up_f(&p, 1, F(VIRTIO_F_VERSION_1) | F(VU_NET_F_MRG_RXBUF) |
				  F(VU_NET_F_GUEST_CSUM) | F(VU_NET_F_GUEST_TSO4) |
				  F(VU_NET_F_GUEST_TSO6) | F(VU_NET_F_GUEST_ECN));
	assert_int_equal(p.caps.tx_offloads, PORT_OFF_CSUM | PORT_OFF_TSO4 | PORT_OFF_TSO6 |
					     PORT_OFF_ECN);
	assert_int_equal(p.caps.rx_offloads, 0);
	assert_int_equal(p.caps.max_frame_in, 9216);
	const uint32_t sz = 2048;
	guest_rx_offer_sz(64, sz);
	static struct sframe t4, big;
	mkframe(&t4, 0, 0, 3000);
	mkframe(&big, 0, 0, 65535 - 40);
	struct vmdq_frame f[3] = {
		{ .data = t4.b, .caplen = t4.len, .len = t4.len,
		  .off = { VMDQ_OFF_CSUM_PARTIAL, VMDQ_GSO_TCPV4, 0, 1448, 54, 34, 16 } },
		{ .data = big.b, .caplen = big.len, .len = big.len,
		  .off = { VMDQ_OFF_CSUM_PARTIAL | VMDQ_OFF_ECN, VMDQ_GSO_TCPV4, 0, 1448, 54, 34, 16 } },
		{ .data = t4.b, .caplen = 100, .len = 100, .off = { .flags = VMDQ_OFF_CSUM_VALID } },
	};
	assert_int_equal(p.ops->tx(&p, f, 3), 3);
	/* 12 + 3054 bytes: 2 buffers; 12 + 65549: 33; 112: 1 */
	assert_int_equal(used(0)->idx, 36);
	const uint8_t *h = rx_hdr(0, sz);
	static const uint8_t want0[12] = { 1, 1, 54, 0, 0xa8, 5, 34, 0, 16, 0, 2, 0 };
	assert_memory_equal(h, want0, 12);
	assert_int_equal(used(0)->ring[0].len, sz);
	assert_int_equal(used(0)->ring[1].len, 12 + 3054 - sz);
	assert_memory_equal(h + 12, t4.b, sz - 12);
	assert_memory_equal(rx_hdr(1, sz), t4.b + sz - 12, 3054 + 12 - sz);
	h = rx_hdr(2, sz);
	static const uint8_t want1[12] = { 1, 0x81, 54, 0, 0xa8, 5, 34, 0, 16, 0, 33, 0 };
	assert_memory_equal(h, want1, 12);
	uint32_t got = 0;
	for (unsigned u = 2; u < 35; u++) {
		uint32_t l = used(0)->ring[u].len, skip = u == 2 ? 12 : 0;
		assert_memory_equal(rx_hdr(u, sz) + skip, big.b + got, l - skip);
		got += l - skip;
	}
	assert_int_equal(got, big.len);
	static const uint8_t want2[12] = { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 }; /* DATA_VALID */
	assert_memory_equal(rx_hdr(35, sz), want2, 12);
	assert_int_equal(p.tx_frames, 3);
	close(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK);

	/* a guest with GUEST_CSUM only, no mergeable buffers: DATA_VALID
	 * still, a super-frame (the switch's promise broken) refused, and a
	 * frame its buffers cannot hold dropped, both counted */
	memset(gmem, 0, MEMSZ);
	g = guest_up_f(&p, 1, F(VIRTIO_F_VERSION_1) | F(VU_NET_F_GUEST_CSUM));
	assert_int_equal(p.caps.tx_offloads, PORT_OFF_CSUM);
	guest_rx_offer_sz(8, sz);
	struct vmdq_frame f2[3] = { f[0], f[2], { .data = t4.b, .caplen = t4.len, .len = t4.len } };
	assert_int_equal(p.ops->tx(&p, f2, 3), 1);
	assert_int_equal(used(0)->idx, 1);
	assert_memory_equal(rx_hdr(0, sz), want2, 12);
	assert_int_equal(status_counter(&p, "offload_refused"), 1);
	assert_int_equal(status_counter(&p, "too_big_for_guest"), 1);
	close(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK);

	/* no GUEST_CSUM: flags stay 0 */
	memset(gmem, 0, MEMSZ);
	g = guest_up_f(&p, 1, F(VIRTIO_F_VERSION_1));
	guest_rx_offer_sz(8, sz);
	assert_int_equal(p.ops->tx(&p, &f[2], 1), 1);
	static const uint8_t zero1[12] = { [10] = 1 };
	assert_memory_equal(rx_hdr(0, sz), zero1, 12);
	close(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	p.ops->close(&p);
}

/* Targeted receive: the device writes its constant header with the frame;
 * a frame with offload state gets its own header before it is published,
 * its partial checksum completed in the guest's buffer for a guest without
 * GUEST_CSUM, a super-frame refused for a guest without GUEST_TSO. */
static void vnet_header_targeted(void **s)
{
	(void)s;
	static struct sframe t4;
	mkframe(&t4, 0, 0, 3000);
	const uint32_t sz = 4096;
	for (int csum = 1; csum >= 0; csum--) {
		memset(gmem, 0, MEMSZ);
		struct port p;
		struct vmdq_dev *dev = vmdq_dev_create();
		assert_non_null(dev);
		assert_int_equal(vmdq_dev_set_vmdq(dev, true), 0);
		assert_int_equal(vmdq_queue_alloc(dev, 1, 7), 1);
		assert_int_equal(vmdq_rxq_setup(dev, 1, 256), 0);
		uint8_t mac[6];
		mac_from_u64(VM, mac);
		assert_true(vmdq_filter_add(dev, mac, 0, 1) > 0);
		p = (struct port){ .ops = port_ops_find("vhost-user"), .dev = dev, .queue = 1,
				   .nqueues = 1, .owner = 7 };
		snprintf(p.name, sizeof(p.name), "vm1");
		char err[256] = "";
		char *args[] = { path, "offloads", "on" };
		assert_int_equal(p.ops->open(&p, args, 3, err, sizeof(err)), 0);
		int g = guest_up_f(&p, 1, F(VIRTIO_F_VERSION_1) |
					  (csum ? F(VU_NET_F_GUEST_CSUM) : 0));
		guest_rx_offer_sz(8, sz);
		assert_int_equal(service(&p), PORT_SERVICE_OK); /* posted */
		struct vmdq_frame in[3] = {
			/* a partial checksum (no GSO) */
			{ .data = t4.b, .caplen = 1054, .len = 1054, .ts_ns = 1,
			  .off = { VMDQ_OFF_CSUM_PARTIAL, 0, 0, 0, 0, 34, 16 } },
			/* an ordinary frame: the device's header stays */
			{ .data = t4.b, .caplen = 100, .len = 100, .ts_ns = 1 },
			/* a super-frame, for a guest without GUEST_TSO4 */
			{ .data = t4.b, .caplen = t4.len, .len = t4.len, .ts_ns = 1,
			  .off = { VMDQ_OFF_CSUM_PARTIAL, VMDQ_GSO_TCPV4, 0, 1448, 54, 34, 16 } },
		};
		static struct sframe part;
		mkframe(&part, 0, 0, 1000); /* the first frame's lengths right */
		in[0].data = part.b;
		assert_int_equal(vmdq_rx_burst(dev, in, 3, NULL), 3);
		struct vmdq_rxd d[8];
		assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 3);
		bool yes[3] = { true, true, true };
		assert_int_equal(p.ops->complete(&p, d, 3, yes), 2);
		assert_int_equal(used(0)->idx, 3);
		assert_int_equal(status_counter(&p, "offload_refused"), 1);
		/* the super-frame's buffer back empty, the two others delivered */
		const uint8_t *h0 = NULL, *h1 = NULL;
		unsigned empty = 0;
		for (unsigned u = 0; u < 3; u++) {
			uint32_t l = used(0)->ring[u].len;
			if (l == 12 + 1054)
				h0 = rx_hdr(u, sz);
			else if (l == 12 + 100)
				h1 = rx_hdr(u, sz);
			else if (l == 0)
				empty++;
		}
		assert_non_null(h0);
		assert_non_null(h1);
		assert_int_equal(empty, 1);
		static const uint8_t one[12] = { [10] = 1 };
		assert_memory_equal(h1, one, 12);
		if (csum) {
			static const uint8_t want[12] = { 1, 0, 0, 0, 0, 0, 34, 0, 16, 0, 1, 0 };
			assert_memory_equal(h0, want, 12);
			assert_memory_equal(h0 + 12, part.b, 1054);
		} else {
			/* completed: DATA_VALID may not be said, the sum verifies */
			assert_memory_equal(h0, one, 12);
			const uint8_t *fr = h0 + 12;
			uint32_t sum = 6 + 1020 + 0x0a00 + 0x0001 + 0x0a00 + 0x0002;
			for (uint32_t i = 34; i < 1054; i++)
				sum += (i & 1) ? fr[i] : (uint32_t)fr[i] << 8;
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			assert_int_equal(sum, 0xffff);
			assert_memory_equal(fr, part.b, 50); /* headers but the checksum */
			assert_memory_equal(fr + 54, part.b + 54, 1000);
		}
		vmdq_queue_stop(dev, 1);
		p.ops->close(&p);
		vmdq_dev_destroy(dev);
		close(g);
	}
}

/* ---- the switch-over: GET_VRING_BASE and SET_VRING_BASE (issue 15) ------ */

/* Split: the guest offers n receive buffers (heads h0 ..) from avail index
 * base on. */
static void offer_at(uint16_t base, uint16_t h0, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		uint16_t h = (uint16_t)((h0 + k) % NUM);
		desc(0)[h] = (struct vring_desc){ .addr = DATA(0) + h * BUFSZ, .len = BUFSZ,
						  .flags = VRING_DESC_F_WRITE };
		avail(0)->ring[(uint16_t)(base + k) % NUM] = h;
	}
	__atomic_store_n(&avail(0)->idx, (uint16_t)(base + n), __ATOMIC_RELEASE);
}

/* A frame for VM with its own payload (seq). */
static void seq_frame(struct tframe *f, unsigned seq)
{
	untagged(f, VM, 80);
	f->b[20] = (uint8_t)seq;
	f->b[21] = 0x5a;
}

/* The worker's drain: every completion in the vif's queue delivered. */
static unsigned drain_all(struct port *p, struct vmdq_dev *dev)
{
	struct vmdq_rxd d[64];
	bool yes[64];
	for (unsigned i = 0; i < 64; i++)
		yes[i] = true;
	unsigned n = vmdq_rxq_poll(dev, 1, d, 64), got = n ? p->ops->complete(p, d, n, yes) : 0;
	assert_int_equal(got, n);
	return n;
}

static uint32_t get_base(struct port *p, struct vmdq_dev *dev, int g, uint32_t ring)
{
	uint32_t st[2] = { ring, 0 };
	send_msg(g, VU_GET_VRING_BASE, st, 8, -1);
	for (unsigned k = 0; k < PORT_SERVICE_DRAINS; k++) {
		int rc = service(p);
		if (rc == PORT_SERVICE_OK)
			break;
		assert_int_equal(rc, PORT_SERVICE_DRAIN);
		assert_int_equal(reply(g), -1); /* not before the completions */
		drain_all(p, dev);
	}
	int64_t b = reply(g);
	assert_true(b >= 0);
	return (uint32_t)b;
}

/* The stop tests' five frames (seq_frame 0..4, 80 bytes), sorted into the
 * posted buffers of the device's queue. */
static void sort_five(struct vmdq_dev *dev, struct tframe *f)
{
	for (unsigned i = 0; i < 5; i++) {
		seq_frame(&f[i], i);
		struct vmdq_frame in = { .data = f[i].b, .caplen = 80, .len = 80, .ts_ns = 1 };
		assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
	}
}

/* One of the 12 buffers the stop tests posted, as the guest got it back
 * (id, len): counted in seen; a filled one holds one of the frames f,
 * whole, counted in frames.  Returns whether it was filled. */
static bool used_buffer(uint32_t id, uint32_t len, const struct tframe *f, unsigned *seen,
			unsigned *frames)
{
	assert_true(id < 12);
	seen[id]++;
	if (len == 0)
		return false;
	assert_int_equal(len, 12 + 80);
	const uint8_t *b = gmem + DATA(0) + id * BUFSZ + 12;
	assert_true(b[20] < 5);
	assert_memory_equal(b, f[b[20]].b, 80);
	frames[b[20]]++;
	return true;
}

/* Every one of the 12 buffers came back once, the five frames once each. */
static void assert_all_back(const unsigned *seen, const unsigned *frames, unsigned filled)
{
	assert_int_equal(filled, 5);
	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(seen[i], 1);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(frames[i], 1);
}

/* A migration's source stops a split ring pair whose indexes wrap (base
 * 65530): 12 receive buffers posted on the device queue, 5 of them filled
 * by the sorter and not yet completed, 7 empty; 5 frames on the transmit
 * ring, 3 of them taken.  GET_VRING_BASE hands every filled buffer to the
 * guest (published, its frame whole) and every empty one back (length 0)
 * before it replies: nothing lost, each head used once, and the bases are
 * exact (65542 and 65533, modulo 2^16).  The destination (a new connection
 * over the same memory) resumes from SET_VRING_BASE: its first receive
 * buffer is the one at avail index 6, its first transmitted frames the 2
 * left. */
static void stop_and_resume_split(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	struct port p;
	struct vmdq_dev *dev = targeted_port(&p);
	const uint16_t base = 65530;
	used(0)->idx = base;
	used(1)->idx = base;
	avail(1)->idx = base;
	offer_at(base, 0, 12);
	int g = guest_up_fb(&p, 1, 1ull << VIRTIO_F_VERSION_1, base);
	assert_int_equal(service(&p), PORT_SERVICE_OK); /* the 12 posted */
	/* the transmit ring's set-up after the receive ring ran left its
	 * buffers posted (none handed back empty) */
	struct vhu *h = p.priv;
	assert_int_equal(h->r[0].posted, 12);
	assert_int_equal(used(0)->idx, base);
	/* logging on (a migration's start): SET_FEATURES that adds LOG_ALL and
	 * SET_VRING_ADDR with the ring's addresses leave them posted too */
	msg_u64(&p, g, VU_SET_FEATURES, 1ull << VIRTIO_F_VERSION_1 | 1ull << VU_F_LOG_ALL, -1);
	for (unsigned r = 0; r < 2; r++) {
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} __attribute__((packed)) ad = { r, 1, UVA + RING(r), UVA + RING(r) + 0x2000,
						 UVA + RING(r) + 0x1000, RING(r) + 0x2000 };
		send_msg(g, VU_SET_VRING_ADDR, &ad, sizeof(ad), -1); /* VHOST_VRING_F_LOG */
		assert_int_equal(service(&p), PORT_SERVICE_OK);
	}
	assert_int_equal(h->r[0].posted, 12);
	assert_int_equal(used(0)->idx, base);
	assert_false(h->d.broken);
	struct tframe f[5];
	sort_five(dev, f);
	struct tframe t[5];
	for (unsigned i = 0; i < 5; i++) {
		untagged(&t[i], 0x02bb00000001ull, 70);
		t[i].b[20] = (uint8_t)(0x40 + i);
		guest_tx(0, i, &t[i]);
	}
	struct vmdq_frame out[8];
	assert_int_equal(p.ops->rx(&p, 0, out, 3), 3);
	for (unsigned i = 0; i < 3; i++)
		assert_memory_equal(out[i].data, t[i].b, 70);

	assert_int_equal(get_base(&p, dev, g, 0), (uint16_t)(base + 12));
	assert_int_equal(get_base(&p, dev, g, 1), (uint16_t)(base + 3));
	assert_int_equal(used(0)->idx, (uint16_t)(base + 12));
	assert_int_equal(used(1)->idx, (uint16_t)(base + 3));
	unsigned seen[NUM] = { 0 }, filled = 0, frames[5] = { 0 };
	for (unsigned k = 0; k < 12; k++) {
		struct vring_used_elem e = used(0)->ring[(uint16_t)(base + k) % NUM];
		filled += used_buffer(e.id, e.len, f, seen, frames);
	}
	assert_all_back(seen, frames, filled);
	/* stopped: the device has none of its buffers, a frame now is not
	 * written into the guest */
	struct vmdq_frame in = { .data = f[0].b, .caplen = 80, .len = 80, .ts_ns = 1 };
	vmdq_rx_burst(dev, &in, 1, NULL);
	assert_int_equal(drain_all(&p, dev), 0);
	close(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK); /* hung up */

	/* the destination */
	offer_at((uint16_t)(base + 12), 20, 4);
	g = guest_up_fb(&p, 1, 1ull << VIRTIO_F_VERSION_1, (uint16_t)(base + 12));
	/* (SET_VRING_BASE is per ring: the transmit ring at its own base) */
	uint32_t st[2] = { 1, 0 };
	send_msg(g, VU_GET_VRING_BASE, st, 8, -1);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(reply(g), (uint16_t)(base + 12));
	msg_state(&p, g, VU_SET_VRING_BASE, 1, (uint16_t)(base + 3));
	msg_u64(&p, g, VU_SET_VRING_KICK, 1 | 0x100, -1);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	assert_int_equal(p.ops->rx(&p, 0, out, 8), 2);
	assert_memory_equal(out[0].data, t[3].b, 70);
	assert_memory_equal(out[1].data, t[4].b, 70);
	assert_int_equal(used(1)->idx, (uint16_t)(base + 5));
	seq_frame(&f[0], 9);
	in = (struct vmdq_frame){ .data = f[0].b, .caplen = 80, .len = 80, .ts_ns = 1 };
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
	assert_int_equal(drain_all(&p, dev), 1);
	struct vring_used_elem e = used(0)->ring[(uint16_t)(base + 12) % NUM];
	assert_int_equal(used(0)->idx, (uint16_t)(base + 13));
	assert_int_equal(e.id, 20);
	assert_int_equal(e.len, 12 + 80);
	assert_memory_equal(gmem + DATA(0) + 20 * BUFSZ + 12, f[0].b, 80);

	vmdq_queue_stop(dev, 1);
	p.ops->close(&p);
	vmdq_dev_destroy(dev);
	close(g);
}

/* ---- packed rings: the test plays a packed driver on ring 0 ------------ */

#define PF_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define PF_USED (1u << VRING_PACKED_DESC_F_USED)

static volatile struct vring_packed_desc *pring(unsigned r)
{
	return (volatile struct vring_packed_desc *)(void *)(gmem + RING(r));
}

/* Buffer id `id` (one descriptor, its own 2048 bytes) made available at
 * slot `slot` in the lap of wrap counter `wrap`. */
static void pk_offer(unsigned slot, bool wrap, uint16_t id)
{
	volatile struct vring_packed_desc *e = &pring(0)[slot];
	e->addr = DATA(0) + id * BUFSZ;
	e->len = BUFSZ;
	e->id = id;
	__atomic_store_n(&e->flags,
			 (uint16_t)(VRING_DESC_F_WRITE | (wrap ? PF_AVAIL : PF_USED)),
			 __ATOMIC_RELEASE);
}

/* The same stop on a packed ring whose positions wrap: the ring starts at
 * slot 60 of 64 in the first lap (SET_VRING_BASE 0x8000 | 60); 12 buffers
 * (ids 0..11, slots 60..63 then 0..7 of the second lap), 5 filled by the
 * sorter, 7 empty.  The reply is avail slot 8 with wrap counter 0 and the
 * used one the same (bits 16-31): 0x00080008; every id is used once at
 * slots 60..63 (flags: the first lap's) and 0..7 (the second's), the 5
 * frames whole.  The destination resumes at that base: its first buffer
 * is the one at slot 8, used there with the second lap's flags. */
static void stop_and_resume_packed(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	struct port p;
	struct vmdq_dev *dev = targeted_port(&p);
	const uint64_t feat = 1ull << VIRTIO_F_VERSION_1 | 1ull << VU_F_RING_PACKED;
	for (unsigned k = 0; k < 12; k++)
		pk_offer((60 + k) % NUM, 60 + k < NUM, (uint16_t)k);
	int g = guest_up_fb(&p, 1, feat, 0x8000 | 60);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	struct tframe f[5];
	sort_five(dev, f);
	assert_int_equal(get_base(&p, dev, g, 0), 0x00080008u);
	unsigned seen[12] = { 0 }, filled = 0, frames[5] = { 0 };
	for (unsigned k = 0; k < 12; k++) {
		unsigned slot = (60 + k) % NUM;
		bool wrap = 60 + k < NUM;
		struct vring_packed_desc e = pring(0)[slot];
		uint16_t want = wrap ? (uint16_t)(PF_AVAIL | PF_USED) : 0;
		assert_int_equal(e.flags & (PF_AVAIL | PF_USED), want);
		if (used_buffer(e.id, e.len, f, seen, frames))
			filled++;
		else
			assert_int_equal(e.flags & VRING_DESC_F_WRITE, 0);
	}
	assert_all_back(seen, frames, filled);
	close(g);
	assert_int_equal(service(&p), PORT_SERVICE_OK);

	/* the destination: slot 8, second lap */
	pk_offer(8, false, 30);
	pk_offer(9, false, 31);
	g = guest_up_fb(&p, 1, feat, 0x00080008u);
	assert_int_equal(service(&p), PORT_SERVICE_OK);
	seq_frame(&f[0], 7);
	struct vmdq_frame in = { .data = f[0].b, .caplen = 80, .len = 80, .ts_ns = 1 };
	assert_int_equal(vmdq_rx_burst(dev, &in, 1, NULL), 1);
	assert_int_equal(drain_all(&p, dev), 1);
	struct vring_packed_desc e = pring(0)[8];
	assert_int_equal(e.id, 30);
	assert_int_equal(e.len, 12 + 80);
	assert_int_equal(e.flags & (PF_AVAIL | PF_USED), 0);
	assert_memory_equal(gmem + DATA(0) + 30 * BUFSZ + 12, f[0].b, 80);
	/* stopped again: id 31 (posted, empty) is given back, both sides at
	 * slot 10 */
	assert_int_equal(get_base(&p, dev, g, 0), 0x000a000au);
	assert_int_equal(pring(0)[9].id, 31);
	assert_int_equal(pring(0)[9].len, 0);

	vmdq_queue_stop(dev, 1);
	p.ops->close(&p);
	vmdq_dev_destroy(dev);
	close(g);
}

/* ---- live migration (issue 15) ---------------------------------------- */

/* The announcement of VM (02:00:00:00:00:01) as it must leave the switch:
 * untagged, and on VLAN 100's uplink. */
static const uint8_t rarp_untagged[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t rarp_vlan100[64] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x81, 0x00, 0x00, 0x64,
	0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
};

static uint64_t get_protocol_features(struct port *p, int g)
{
	send_msg(g, VU_GET_PROTOCOL_FEATURES, NULL, 0, -1);
	assert_int_equal(service(p), PORT_SERVICE_OK);
	uint8_t buf[VU_HDR_SIZE + 8];
	assert_int_equal(recv(g, buf, sizeof(buf), MSG_DONTWAIT), (ssize_t)sizeof(buf));
	uint64_t f;
	memcpy(&f, buf + VU_HDR_SIZE, 8);
	return f;
}

static void send_rarp(struct port *p, int g, uint64_t mac)
{
	uint8_t m[8] = { 0 };
	mac_from_u64(mac, m);
	uint64_t v;
	memcpy(&v, m, 8);
	msg_u64(p, g, VU_SEND_RARP, v, -1);
}

/* Rounds of the switch until one moves nothing. */
static void settle_sw(struct vmdq_switch *sw)
{
	unsigned rounds = 0;
	do {
		clk += 10000000;
		assert_true(++rounds < 1000);
	} while (vmdq_switch_poll(sw, clk));
}

/* SEND_RARP (protocol feature RARP): the destination's switch announces
 * the migrated VM's MAC as the VM's own frame: on the uplink, byte for
 * byte the frame QEMU announces a VM with, tagged as the vif's frames are
 * (access VLAN 100) or not (untagged domain), flooded to the VLAN's other
 * vifs; an announcement for a MAC that is not the vif's is dropped
 * (spoofed).  The vif says its VM is gone until the guest runs its rings,
 * and again once it stops them (the source's side of a migration). */
static void send_rarp_announces_the_vm(void **s)
{
	(void)s;
	for (int vlan = 0; vlan <= 100; vlan += 100) {
		memset(gmem, 0, MEMSZ);
		struct vmdq_dev *dev = vmdq_dev_create();
		assert_non_null(dev);
		struct vmdq_switch *sw = vmdq_switch_create(dev);
		assert_non_null(sw);
		char err[256] = "";
		char *ua[] = { "capacity", "64" };
		assert_int_equal(vmdq_switch_set_uplink(sw, "wire", "dummy", ua, 2, err,
							sizeof(err)), 0);
		struct vmdq_dummy *wire = vmdq_dummy_last();
		char *va[] = { path, "targeted", "off" };
		struct sw_vif_spec sp = { .name = "vm1", .kind = "vhost-user", .vlan = (uint16_t)vlan,
					  .queue = -1, .args = va, .nargs = 3 };
		mac_from_u64(VM, sp.mac);
		int vi = vmdq_switch_vif_add(sw, &sp, err, sizeof(err));
		assert_true(vi >= 0);
		char *na[] = { "capacity", "64" };
		struct sw_vif_spec sn = { .name = "other", .kind = "dummy", .vlan = (uint16_t)vlan,
					  .queue = -1, .args = na, .nargs = 2 };
		mac_from_u64(VM + 1, sn.mac);
		int ni = vmdq_switch_vif_add(sw, &sn, err, sizeof(err));
		assert_true(ni >= 0);
		struct vmdq_dummy *other = vmdq_dummy_last();
		struct port *p = &sw->vif[vi]->port;
		assert_true(atomic_load(&p->peer_gone)); /* no guest yet */

		int g = guest_up(p, 1);
		assert_false(atomic_load(&p->peer_gone));
		assert_true(get_protocol_features(p, g) & (1ull << VU_PF_RARP));
		send_rarp(p, g, VM);
		settle_sw(sw);
		assert_int_equal(vmdq_dummy_sent(wire), 1);
		uint32_t len = 0;
		const uint8_t *fr = vmdq_dummy_frame(wire, 0, &len);
		if (vlan) {
			assert_int_equal(len, sizeof(rarp_vlan100));
			assert_memory_equal(fr, rarp_vlan100, sizeof(rarp_vlan100));
		} else {
			assert_int_equal(len, sizeof(rarp_untagged));
			assert_memory_equal(fr, rarp_untagged, sizeof(rarp_untagged));
		}
		/* the VLAN's other vif gets it untagged */
		assert_int_equal(vmdq_dummy_sent(other), 1);
		fr = vmdq_dummy_frame(other, 0, &len);
		assert_int_equal(len, sizeof(rarp_untagged));
		assert_memory_equal(fr, rarp_untagged, sizeof(rarp_untagged));
		struct sw_cnt c;
		vmdq_switch_vif_counters(sw, vi, &c);
		assert_int_equal(c.from_vm, 1);
		assert_int_equal(c.to_wire, 1);
		assert_int_equal(p->rx_frames, 1);
		/* once: nothing more */
		settle_sw(sw);
		assert_int_equal(vmdq_dummy_sent(wire), 1);

		/* another VM's MAC: the vif may not announce it */
		send_rarp(p, g, VM + 7);
		settle_sw(sw);
		assert_int_equal(vmdq_dummy_sent(wire), 1);
		assert_int_equal(vmdq_dummy_sent(other), 1);
		vmdq_switch_vif_counters(sw, vi, &c);
		assert_int_equal(c.from_vm, 2);
		assert_int_equal(c.drops[SWD_SPOOFED], 1);

		/* the rings stop (a migration's source): the VM is gone */
		for (uint32_t r = 0; r < 2; r++) {
			uint32_t st[2] = { r, 0 };
			send_msg(g, VU_GET_VRING_BASE, st, 8, -1);
			assert_int_equal(service(p), PORT_SERVICE_OK);
			assert_int_equal(reply(g), 0);
			assert_int_equal(atomic_load(&p->peer_gone), r == 1);
		}
		close(g);
		vmdq_switch_destroy(sw);
		vmdq_dev_destroy(dev);
		vmdq_dummy_forget();
	}
}

/* ---- issue 15: the dirty-page log through the port ------------------------ */

/* The answer waiting on the socket: its payload's size (-1: none), the
 * request it answers and its u64 (if it has one). */
static int answer(int s, uint32_t *req, uint64_t *v)
{
	uint8_t buf[VU_HDR_SIZE + 8];
	ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return -1;
	uint32_t size;
	memcpy(req, buf, 4);
	memcpy(&size, buf + 8, 4);
	assert_int_equal(n, VU_HDR_SIZE + size);
	*v = 0;
	if (size == 8)
		memcpy(v, buf + VU_HDR_SIZE, 8);
	return (int)size;
}

/* SET_LOG_BASE of fd (LOG_SHMFD negotiated first); the answer's u64, or
 * 0 for an answer without payload (taken). */
static uint64_t send_log(struct port *p, int g, int fd, uint64_t size, uint64_t off)
{
	msg_u64(p, g, VU_SET_PROTOCOL_FEATURES, 1ull << VU_PF_LOG_SHMFD, -1);
	uint64_t lb[2] = { size, off };
	send_msg(g, VU_SET_LOG_BASE, lb, 16, fd);
	assert_int_equal(service(p), PORT_SERVICE_OK);
	uint32_t req = 0;
	uint64_t v = 99;
	int n = answer(g, &req, &v);
	assert_int_equal(req, VU_SET_LOG_BASE);
	assert_true(n == 0 || n == 8);
	return n == 0 ? 0 : v;
}

/* Logging on as QEMU turns it on: the log, LOG_ALL, each ring's flag and
 * its used ring's guest-physical address. */
static void log_on(struct port *p, int g, int lfd, uint64_t features)
{
	assert_int_equal(send_log(p, g, lfd, MEMSZ / 4096 / 8, 0), 0);
	msg_u64(p, g, VU_SET_FEATURES, features | F(VU_F_LOG_ALL), -1);
	for (unsigned r = 0; r < 2; r++) {
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} __attribute__((packed)) ad = { r, 1u << VU_VRING_F_LOG, UVA + RING(r),
						 UVA + RING(r) + 0x2000, UVA + RING(r) + 0x1000,
						 RING(r) + 0x2000 };
		send_msg(g, VU_SET_VRING_ADDR, &ad, sizeof(ad), -1);
		assert_int_equal(service(p), PORT_SERVICE_OK);
	}
}

/* The pages whose bits are set, in order (n at most); how many there are. */
static unsigned dirty(const uint8_t *log, unsigned *pages, unsigned n)
{
	unsigned k = 0;
	for (unsigned b = 0; b < MEMSZ / 4096; b++)
		if (log[b / 8] & (1u << (b % 8))) {
			if (k < n)
				pages[k] = b;
			k++;
		}
	return k;
}

static struct migration_view {
	bool logging;
	uint64_t size, marked;
} migration(struct port *p)
{
	struct port_status st;
	memset(&st, 0, sizeof(st));
	p->ops->status(p, &st);
	assert_true(st.migration.shown);
	return (struct migration_view){ st.migration.logging, st.migration.log_size,
					st.migration.marked };
}

/* While logging is on, every write into guest memory marks its pages, and
 * only those: a targeted frame (written by the sorter, marked when the
 * port completes it: its buffer, the used ring), a copied one (mergeable
 * buffers: two pieces and the header's num_buffers), the rings' flags;
 * logging off marks nothing.  Exact pages each time. */
static void dirty_log_port(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	int lfd = memfd_create("log", MFD_CLOEXEC);
	assert_int_equal(ftruncate(lfd, 4096), 0);
	uint8_t *log = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	assert_true(log != MAP_FAILED);
	unsigned pg[8];
	/* targeted */
	struct port p;
	struct vmdq_dev *dev = targeted_port(&p);
	int g = guest_up(&p, 1);
	assert_false(migration(&p).logging);
	assert_int_equal(migration(&p).size, 0);
	log_on(&p, g, lfd, F(VIRTIO_F_VERSION_1));
	assert_true(migration(&p).logging);
	assert_int_equal(migration(&p).size, 128);
	guest_rx_offer(8);
	assert_int_equal(service(&p), PORT_SERVICE_OK); /* posted */
	struct tframe f;
	one_frame_in_flight(dev, &f);
	assert_int_equal(dirty(log, pg, 8), 0); /* written, not yet the guest's */
	struct vmdq_rxd d[8];
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 1);
	bool yes = true;
	assert_int_equal(p.ops->complete(&p, d, 1, &yes), 1);
	assert_int_equal(used(0)->idx, 1);
	assert_int_equal(used(0)->ring[0].id, 0);
	/* ring 0's used ring (page 2; its flags too), ring 1's flags (page
	 * 6: the port stops the guest's kicks while it works), the buffer of
	 * head 0 (DATA(0): page 0x40) */
	assert_int_equal(dirty(log, pg, 8), 3);
	assert_int_equal(pg[0], 2);
	assert_int_equal(pg[1], 6);
	assert_int_equal(pg[2], 0x40);
	assert_int_equal(migration(&p).marked, 3);
	/* a frame the switch drops: its buffer was written (posted again):
	 * marked as well */
	memset(log, 0, 4096);
	one_frame_in_flight(dev, &f);
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 1);
	bool no = false;
	assert_int_equal(p.ops->complete(&p, d, 1, &no), 0);
	assert_int_equal(dirty(log, pg, 8), 2); /* and the used index, published */
	assert_int_equal(pg[0], 2);
	assert_int_equal(pg[1], 0x40); /* head 1: DATA(0) + 2048 */
	/* off: SET_FEATURES without LOG_ALL; nothing marked any more.  It
	 * does not quiesce: the posted buffers stay (none back empty) */
	msg_u64(&p, g, VU_SET_FEATURES, F(VIRTIO_F_VERSION_1), -1);
	assert_false(migration(&p).logging);
	assert_int_equal(migration(&p).size, 128); /* the log stays */
	assert_int_equal(used(0)->idx, 1);
	memset(log, 0, 4096);
	uint64_t before = migration(&p).marked;
	one_frame_in_flight(dev, &f);
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 1);
	assert_int_equal(p.ops->complete(&p, d, 1, &yes), 1);
	assert_int_equal(used(0)->idx, 2);
	assert_int_equal(dirty(log, pg, 8), 0);
	assert_int_equal(migration(&p).marked, before);
	/* on again, with buffers posted (and one filled before): nothing
	 * back empty, the filled one marked when it completes */
	one_frame_in_flight(dev, &f);
	msg_u64(&p, g, VU_SET_FEATURES, F(VIRTIO_F_VERSION_1) | F(VU_F_LOG_ALL), -1);
	assert_true(migration(&p).logging);
	assert_int_equal(used(0)->idx, 2);
	assert_int_equal(vmdq_rxq_poll(dev, 1, d, 8), 1);
	assert_int_equal(p.ops->complete(&p, d, 1, &yes), 1);
	assert_int_equal(used(0)->idx, 3);
	assert_int_equal(dirty(log, pg, 8), 3);
	assert_int_equal(pg[0], 2);
	assert_int_equal(pg[1], 6);
	assert_int_equal(pg[2], 0x41); /* head 3: DATA(0) + 3 * 2048 */
	vmdq_queue_stop(dev, 1);
	p.ops->close(&p);
	vmdq_dev_destroy(dev);
	close(g);

	/* by copy, mergeable buffers of 2048 bytes: a 5000-byte frame takes
	 * three; the first (logging off) heads 0-2, the second heads 3-5:
	 * pages 0x41 (its header and num_buffers) and 0x42 */
	memset(gmem, 0, MEMSZ);
	memset(log, 0, 4096);
	open_port(&p, "off", "off");
	uint64_t mrg = F(VIRTIO_F_VERSION_1) | F(VU_NET_F_MRG_RXBUF);
	g = guest_up_f(&p, 1, mrg);
	guest_rx_offer(8);
	static struct sframe big;
	mkframe(&big, 0, 1, 5000 - 42);
	struct vmdq_frame fr = { .data = big.b, .caplen = big.len, .len = big.len };
	assert_int_equal(p.ops->tx(&p, &fr, 1), 1); /* logging off: nothing */
	assert_int_equal(dirty(log, pg, 8), 0);
	log_on(&p, g, lfd, mrg);
	assert_int_equal(p.ops->tx(&p, &fr, 1), 1);
	assert_int_equal(used(0)->idx, 6);
	assert_int_equal(gmem[DATA(0) + 3 * BUFSZ + 10], 3); /* num_buffers */
	assert_int_equal(dirty(log, pg, 8), 4);
	assert_int_equal(pg[0], 2);
	assert_int_equal(pg[1], 6);
	assert_int_equal(pg[2], 0x41);
	assert_int_equal(pg[3], 0x42);
	p.ops->close(&p);
	close(g);
	munmap(log, 4096);
	close(lfd);
}

/* A hostile front-end's logs, each refused and counted (bad-log), its vif
 * broken and answered; an honest vif next to it keeps moving frames. */
static void dirty_log_hostile_port(void **s)
{
	(void)s;
	memset(gmem, 0, MEMSZ);
	char hpath[108];
	snprintf(hpath, sizeof(hpath), "/tmp/vmdq-test-vhu-h-%d.sock", (int)getpid());
	struct port h = { .ops = port_ops_find("vhost-user"), .nqueues = 1 };
	snprintf(h.name, sizeof(h.name), "bad");
	char err[256] = "";
	char *args[] = { hpath, "targeted", "off" };
	assert_int_equal(h.ops->open(&h, args, 3, err, sizeof(err)), 0);
	struct port p;
	open_port(&p, "off", "off");
	int g = guest_up(&p, 1);
	int lfd = memfd_create("log", MFD_CLOEXEC);
	assert_int_equal(ftruncate(lfd, 4096), 0);
	int pp[2], sv[2];
	assert_int_equal(pipe(pp), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct { int fd; uint64_t size, off; } bad[] = {
		{ lfd, 127, 0 },            /* short of the guest's 4 MiB: 128 */
		{ pp[1], 128, 0 },          /* a pipe */
		{ sv[0], 128, 0 },          /* a socket */
		{ lfd, 128, 4096 - 127 },   /* past the file's end */
		{ lfd, 128, UINT64_MAX },   /* offset + size wraps */
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int b = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		memcpy(a.sun_path, hpath, strlen(hpath) + 1);
		assert_int_equal(connect(b, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(service(&h), PORT_SERVICE_OK);
		send_mem_table(b);
		assert_int_equal(service(&h), PORT_SERVICE_OK);
		assert_int_equal(send_log(&h, b, bad[k].fd, bad[k].size, bad[k].off), 1);
		struct port_status st;
		memset(&st, 0, sizeof(st));
		h.ops->status(&h, &st);
		assert_string_equal(st.state, "broken: bad-log");
		assert_int_equal(status_counter(&h, "bad-log"), k + 1);
		assert_int_equal(st.migration.log_size, 0);
		/* the honest one: a frame each way */
		struct tframe f;
		untagged(&f, 0x02bb00000001ull + k, 100);
		guest_tx(0, k, &f);
		struct vmdq_frame out[2];
		assert_int_equal(p.ops->rx(&p, 0, out, 2), 1);
		assert_memory_equal(out[0].data, f.b, 100);
		close(b);
		assert_int_equal(service(&h), PORT_SERVICE_OK);
	}
	guest_rx_offer(8);
	struct tframe f;
	untagged(&f, VM, 64);
	struct vmdq_frame fr = { .data = f.b, .caplen = 64, .len = 64 };
	assert_int_equal(p.ops->tx(&p, &fr, 1), 1);
	assert_int_equal(status_counter(&p, "bad-log"), 0);
	assert_int_equal(p.rx_frames, 5);
	assert_int_equal(p.tx_frames, 1);
	p.ops->close(&p);
	h.ops->close(&h);
	close(g);
	close(lfd);
	close(pp[0]);
	close(pp[1]);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(status_and_rx_per_pair),
		cmocka_unit_test(quiesce_by_return_code),
		cmocka_unit_test(quiesce_gives_up_after_drains),
		cmocka_unit_test(complete_mixed_generations),
		cmocka_unit_test(status_driver_ok_keeps_posted),
		cmocka_unit_test(complete_on_disabled_ring),
		cmocka_unit_test(vnet_header_from_guest),
		cmocka_unit_test(vnet_header_without_offloads),
		cmocka_unit_test(vnet_header_to_guest),
		cmocka_unit_test(caps_follow_features),
		cmocka_unit_test(vnet_header_targeted),
		cmocka_unit_test(send_rarp_announces_the_vm),
		cmocka_unit_test(dirty_log_port),
		cmocka_unit_test(dirty_log_hostile_port),
		cmocka_unit_test(stop_and_resume_split),
		cmocka_unit_test(stop_and_resume_packed),
	};
	return cmocka_run_group_tests(t, setup, teardown);
}
