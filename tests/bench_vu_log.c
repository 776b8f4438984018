/* SPDX-License-Identifier: MIT */
/*
 * bench_vu_log [SECONDS]: the cost of dirty-page logging (issue 15) on the
 * vhost-user port, 64-byte frames, logging off and on side by side.
 * testpmd's virtio-user cannot turn logging on, so the guest is played in
 * this process, as tests/unit/test_vhost_user.c plays it: a front-end on the
 * port's socket (QEMU's messages: SET_LOG_BASE with a memfd log, LOG_ALL,
 * the rings' VHOST_VRING_F_LOG) and a driver that recycles every buffer at
 * once (split rings of 256, VERSION_1 and MRG_RXBUF, 64 MiB of guest
 * memory).  One thread does everything in turn; the figure is frames per
 * second of that thread, back-end and driver together:
 *   host->guest copy      the port's tx (Level 1) into the guest's buffers
 *   host->guest targeted  the device sorts into the posted buffers, the port
 *                         completes them (Level 2)
 *   guest->host           the port's rx from the guest's transmit ring
 * Each is measured off, on, off, on (SECONDS each, default 2); the log is
 * never cleared during a run (QEMU clears what it synced; the atomic OR
 * costs the same on a set bit).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "vmdq/device.h"
#include "../ports/port.h"
#include "../vhost/vu.h"
#include "unit/vu_front.h"

#define MEMSZ (64u << 20)
#define UVA 0x7f0000000000ull
#define NUM 256
#define RING(r) (0x4000u * (r))
#define DATA(r) (0x100000u + 0x100000u * (r))
#define BUFSZ 2048
#define VM 0x020000000001ull
#define BURST 32

static uint8_t *gmem;
static int memfd = -1, logfd = -1;
static char path[108];
static uint64_t clk = 1;

static struct vring_desc *desc(unsigned r) { return (void *)(gmem + RING(r)); }
static struct vring_avail *avail(unsigned r) { return (void *)(gmem + RING(r) + 0x1000); }
static struct vring_used *used(unsigned r) { return (void *)(gmem + RING(r) + 0x2000); }

static void die(const char *what)
{
	fprintf(stderr, "bench_vu_log: %s\n", what);
	exit(1);
}

static int service(struct port *p)
{
	clk += 10000000;
	return p->ops->service(p, clk);
}

static void send_msg(int s, uint32_t req, const void *payload, uint32_t size, int fd)
{
	if (!vu_front_send(s, req, payload, size, fd))
		die("sendmsg");
}

static void msg(struct port *p, int s, uint32_t req, const void *pl, uint32_t size, int fd)
{
	send_msg(s, req, pl, size, fd);
	if (service(p) != PORT_SERVICE_OK)
		die("service");
}

static void msg_u64(struct port *p, int s, uint32_t req, uint64_t v)
{
	msg(p, s, req, &v, 8, -1);
}

static void ring_addr(struct port *p, int s, unsigned r, bool log)
{
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} __attribute__((packed)) ad = { r, log ? 1u << VU_VRING_F_LOG : 0, UVA + RING(r),
					 UVA + RING(r) + 0x2000, UVA + RING(r) + 0x1000,
					 RING(r) + 0x2000 };
	msg(p, s, VU_SET_VRING_ADDR, &ad, sizeof(ad), -1);
}

#define FEATURES (1ull << VIRTIO_F_VERSION_1 | 1ull << VU_NET_F_MRG_RXBUF)

static int guest_up(struct port *p)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	service(p);
	msg_u64(p, s, VU_SET_FEATURES, FEATURES);
	msg_u64(p, s, VU_SET_OWNER, 0);
	struct {
		uint32_t n, pad;
		uint64_t gpa, size, uva, off;
	} __attribute__((packed)) mt = { 1, 0, 0, MEMSZ, UVA, 0 };
	msg(p, s, VU_SET_MEM_TABLE, &mt, sizeof(mt), memfd);
	for (unsigned r = 0; r < 2; r++) {
		uint32_t st[2] = { r, NUM };
		msg(p, s, VU_SET_VRING_NUM, st, 8, -1);
		ring_addr(p, s, r, false);
		st[1] = 0;
		msg(p, s, VU_SET_VRING_BASE, st, 8, -1);
		msg_u64(p, s, VU_SET_VRING_KICK, r | 0x100);
	}
	/* the log, as QEMU sends it at a migration's start (kept while off) */
	msg_u64(p, s, VU_SET_PROTOCOL_FEATURES, 1ull << VU_PF_LOG_SHMFD);
	uint64_t lb[2] = { MEMSZ / 4096 / 8, 0 };
	msg(p, s, VU_SET_LOG_BASE, lb, 16, logfd);
	uint8_t rep[VU_HDR_SIZE + 8];
	if (recv(s, rep, sizeof(rep), MSG_DONTWAIT) != VU_HDR_SIZE)
		die("SET_LOG_BASE not taken");
	return s;
}

static void logging(struct port *p, int s, bool on)
{
	msg_u64(p, s, VU_SET_FEATURES, FEATURES | (on ? 1ull << VU_F_LOG_ALL : 0));
	for (unsigned r = 0; r < 2; r++)
		ring_addr(p, s, r, on);
	struct port_status st;
	memset(&st, 0, sizeof(st));
	p->ops->status(p, &st);
	if (st.migration.logging != on)
		die("logging did not follow");
}

/* ---- the driver -------------------------------------------------------- */

static uint16_t avail_idx[2], seen[2];

static void offer_all(void)
{
	for (unsigned r = 0; r < 2; r++) {
		for (unsigned i = 0; i < NUM; i++) {
			uint32_t off = DATA(r) + i * BUFSZ;
			if (r == 0) {
				desc(r)[i] = (struct vring_desc){ .addr = off, .len = BUFSZ,
								  .flags = VRING_DESC_F_WRITE };
			} else { /* a 64-byte frame behind a zero header */
				memset(gmem + off, 0, 12);
				memset(gmem + off + 12, 0, 64);
				uint64_t dst = 0x02ee00000001ull;
				for (int k = 0; k < 6; k++)
					gmem[off + 12 + k] = (uint8_t)(dst >> (40 - 8 * k));
				gmem[off + 12 + 12] = 0x08;
				desc(r)[i] = (struct vring_desc){ .addr = off, .len = 12 + 64 };
			}
			avail(r)->ring[i] = (uint16_t)i;
		}
		avail_idx[r] = seen[r] = 0;
		__atomic_store_n(&avail(r)->idx, (uint16_t)NUM, __ATOMIC_RELEASE);
		avail_idx[r] = NUM;
	}
}

/* Every used entry of ring r back to the avail ring; how many. */
static unsigned recycle(unsigned r)
{
	uint16_t u = __atomic_load_n(&used(r)->idx, __ATOMIC_ACQUIRE);
	unsigned n = 0;
	while (seen[r] != u) {
		uint16_t head = (uint16_t)used(r)->ring[seen[r] % NUM].id;
		avail(r)->ring[avail_idx[r] % NUM] = head;
		avail_idx[r]++;
		seen[r]++;
		n++;
	}
	if (n)
		__atomic_store_n(&avail(r)->idx, avail_idx[r], __ATOMIC_RELEASE);
	return n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum mode { COPY, TARGETED, FROM_GUEST };

/* Frames per second through the port for secs seconds. */
static double run(struct port *p, struct vmdq_dev *dev, enum mode m, double secs)
{
	uint8_t fb[64] = { 0 };
	for (int k = 0; k < 6; k++)
		fb[k] = (uint8_t)(VM >> (40 - 8 * k));
	fb[6] = 0x02;
	fb[11] = 0x09;
	fb[12] = 0x08;
	struct vmdq_frame f[BURST];
	for (unsigned i = 0; i < BURST; i++)
		f[i] = (struct vmdq_frame){ .data = fb, .caplen = 64, .len = 64, .ts_ns = 1 };
	uint64_t frames = 0;
	double t0 = now_s(), t = t0;
	unsigned rounds = 0;
	while (t - t0 < secs) {
		for (unsigned k = 0; k < 64; k++) {
			if (m == COPY) {
				frames += p->ops->tx(p, f, BURST);
				recycle(0);
			} else if (m == TARGETED) {
				vmdq_rx_burst(dev, f, BURST, NULL);
				struct vmdq_rxd d[BURST];
				bool yes[BURST];
				unsigned n = vmdq_rxq_poll(dev, 1, d, BURST);
				for (unsigned i = 0; i < n; i++)
					yes[i] = true;
				frames += p->ops->complete(p, d, n, yes);
				recycle(0);
			} else {
				struct vmdq_frame out[64];
				frames += p->ops->rx(p, 0, out, 64);
				recycle(1);
			}
		}
		if (++rounds % 16 == 0)
			service(p); /* refills, as the worker's rounds do */
		t = now_s();
	}
	return (double)frames / (t - t0);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	memfd = memfd_create("bench-guest", MFD_CLOEXEC);
	logfd = memfd_create("bench-log", MFD_CLOEXEC);
	if (memfd < 0 || logfd < 0 || ftruncate(memfd, MEMSZ) < 0 ||
	    ftruncate(logfd, MEMSZ / 4096 / 8) < 0)
		die("memfd");
	gmem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	uint8_t *logmap = mmap(NULL, MEMSZ / 4096 / 8, PROT_READ | PROT_WRITE, MAP_SHARED, logfd, 0);
	if (gmem == MAP_FAILED || logmap == MAP_FAILED)
		die("mmap");
	snprintf(path, sizeof(path), "/tmp/vmdq-bench-vu-log-%d.sock", (int)getpid());
	vmdq_thread_online();
	printf("%-22s %14s %14s %8s\n", "direction (64 B)", "log off (f/s)", "log on (f/s)", "on/off");
	static const char *names[] = { "host->guest copy", "host->guest targeted",
				       "guest->host" };
	for (enum mode m = COPY; m <= FROM_GUEST; m++) {
		struct vmdq_dev *dev = vmdq_dev_create();
		if (!dev || vmdq_dev_set_vmdq(dev, true) < 0 || vmdq_queue_alloc(dev, 1, 7) != 1 ||
		    vmdq_rxq_setup(dev, 1, 256) < 0)
			die("device");
		uint8_t mac[6];
		for (int k = 0; k < 6; k++)
			mac[k] = (uint8_t)(VM >> (40 - 8 * k));
		if (vmdq_filter_add(dev, mac, 0, 1) <= 0)
			die("filter");
		struct port p = { .ops = port_ops_find("vhost-user"), .dev = dev, .queue = 1,
				  .nqueues = 1, .owner = 7 };
		snprintf(p.name, sizeof(p.name), "vm");
		char err[256] = "";
		char *args[] = { path, "targeted", m == TARGETED ? "on" : "off" };
		if (p.ops->open(&p, args, 3, err, sizeof(err)) < 0)
			die(err);
		memset(gmem, 0, 2u << 20);
		memset(logmap, 0, MEMSZ / 4096 / 8); /* QEMU's sync */
		int s = guest_up(&p);
		offer_all();
		service(&p);
		double off = 0, on = 0;
		for (int k = 0; k < 2; k++) {
			logging(&p, s, false);
			off += run(&p, dev, m, secs);
			logging(&p, s, true);
			on += run(&p, dev, m, secs);
		}
		struct port_status st;
		memset(&st, 0, sizeof(st));
		p.ops->status(&p, &st);
		if (!st.migration.marked || st.migration.beyond || off == 0 || on == 0) {
			fprintf(stderr, "%s: off %.0f on %.0f marked %llu\n", names[m], off, on,
				(unsigned long long)st.migration.marked);
			die("nothing moved, or nothing marked");
		}
		printf("%-22s %14.0f %14.0f %7.1f%%\n", names[m], off / 2, on / 2, 100.0 * on / off);
		fflush(stdout);
		close(s);
		service(&p);
		vmdq_queue_stop(dev, 1);
		p.ops->close(&p);
		vmdq_dev_destroy(dev);
	}
	return 0;
}
