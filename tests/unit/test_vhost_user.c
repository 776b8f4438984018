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
#include "../../ports/port.h"
#include "../../vhost/vu.h"

#define MEMSZ (1u << 20)
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
	uint8_t buf[VU_HDR_SIZE + VU_MAX_PAYLOAD];
	uint32_t flags = VU_VERSION;
	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	memcpy(buf + VU_HDR_SIZE, payload, size);
	struct iovec iov = { buf, VU_HDR_SIZE + size };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(s, &mh, 0), (ssize_t)(VU_HDR_SIZE + size));
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

/* A guest with nqp queue pairs: features, memory, rings (kicks polled). */
static int guest_up(struct port *p, unsigned nqp)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(service(p), PORT_SERVICE_OK); /* accepted */
	msg_u64(p, s, VU_SET_FEATURES, 1ull << VIRTIO_F_VERSION_1, -1);
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
		msg_state(p, s, VU_SET_VRING_BASE, r, 0);
		msg_u64(p, s, VU_SET_VRING_KICK, r | 0x100, -1); /* no fd: polled */
	}
	return s;
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
	assert_int_equal(st.n, 7 + VU_E__COUNT);
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

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(status_and_rx_per_pair),
		cmocka_unit_test(quiesce_by_return_code),
		cmocka_unit_test(quiesce_gives_up_after_drains),
	};
	return cmocka_run_group_tests(t, setup, teardown);
}
