/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user backend: `vhost-user SOCKPATH [targeted on|off] [client]`.
 * A VM (QEMU, or DPDK's virtio-user) attaches its virtio-net device to the
 * switch through SOCKPATH: vmdq listens there (server, the default) or
 * connects and reconnects (client).  Messages and virtqueues: vhost/vu.c.
 *
 * Virtqueue 2i is the receive queue of the guest's queue pair i, 2i + 1 its
 * transmit queue; pair i uses the vif's device queue p->queue + i (one pair
 * unless the vif has `queues N`: then the device spreads the vif's frames
 * over the pairs the guest enabled, by flow hash).
 *  - VM -> switch (rx): chains of the transmit queue are copied into the
 *    port's own buffers (the guest cannot change a frame after the switch
 *    checked it) and returned to the guest at once.
 *  - switch -> VM, targeted (Level 2, the default): the port takes the
 *    guest's receive buffers from its avail ring, checks every descriptor
 *    against the memory table (vhost/vu.c) and posts them on the vif's
 *    device queue as shared buffers (vmdq_rxq_post_shared, which checks them
 *    again against the registered memory).  The sorter copies each frame
 *    for the vif once, straight from the uplink's buffer into guest memory,
 *    and replicates its header into a buffer of ours; the switch decides on
 *    the replica and calls complete(), which writes the virtio-net header
 *    and the used entry: no copy.  Up to three quarters of the guest's
 *    ring (at most VHU_POST_MAX, 256) is posted; the rest stays for frames
 *    that do not come through the queue (floods, other VMs), which tx
 *    copies.
 *  - switch -> VM, not targeted (Level 1): tx copies into the guest's
 *    buffers (mergeable buffers when negotiated).
 *  - The guest is called (call eventfd) once per round at most (flush), and
 *    only when its notification suppression asks for it; its kicks are
 *    suppressed while the worker polls and enabled before it sleeps.
 *
 * Anything hostile breaks the vif (vu_break): its buffers are taken back
 * from the device, no frame moves until the guest resets the device, and
 * the reason is counted (`vmdq ctl show vifs`).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "port.h"
#include "../vhost/guard.h"
#include "../vhost/vu.h"

#define VHU_BURST 64
#define VHU_FRAME 9216          /* largest frame from a guest (jumbo) */
#define VHU_HDR 32              /* header replica of a targeted frame: MACs, two tags */
#define VHU_POST_MAX 256        /* shared buffers on the device queue, at most */
#define VHU_REFILL_MIN 16       /* refill once this many buffers fit (large rings) */
/* Messages handled per service round, at most: setting up a queue pair
 * takes about ten and a QEMU boot a few dozen, so an honest guest is up in
 * a few rounds; a flood costs its worker 16 messages' handling per round
 * (the rest waits in the socket: the next round comes back to it).  A
 * memory table costs the whole round's budget: up to eight fstat, mmap and
 * guard entries, and the old table's unmapping. */
#define VHU_MSG_BUDGET 16
/* Chains one tx_pair call takes from the ring, given back unused ones
 * included: 32 frames (the switch's burst) of up to 16 mergeable buffers. */
#define VHU_TX_POPS 512
/* Descriptors one tx_pair call reads, at most: a burst of 32 frames in
 * Linux's big-packet chains (MAX_SKB_FRAGS + 2 each) is 608; a guest whose
 * buffers are many tiny pieces gets fewer frames a round, not more work. */
#define VHU_TX_DESCS 2048
/* virtio queue pair i: ring 2i receives (switch -> VM), 2i + 1 transmits;
 * its device queue is p->queue + i */
#define RXQ(i) (2 * (i))
#define TXQ(i) (2 * (i) + 1)

enum { C_CONNECTS, C_DISCONNECTS, C_REFUSED, C_SHORT_BUF, C_MEM_FAULT, C_MSG_DEFER,
       C_CALLS_LOST,
       C__COUNT };

struct vhu {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool client, targeted;
	int lfd, cfd, epfd;
	uint64_t next_connect_ns;
	uint64_t last_svc_ns;
	bool check_now;         /* look at the socket in the next service */
	bool quiescing;         /* no buffer goes on the device queues */
	/* Quiescing without calling back into the switch: a message that
	 * changes the rings, or a hang-up, waits (msg_waits, hangup) while
	 * service asks the worker to hand over the completions still in the
	 * queues (PORT_SERVICE_DRAIN), drains times so far. */
	bool msg_waits;         /* a whole message waits in in[] */
	const char *hangup;     /* why, while the hang-up waits */
	unsigned drains;
	bool retracted;         /* every shared buffer was taken back since the last post */
	uint32_t gen;           /* shared buffers' generation (cookies), bumped when
				 * completions are given up on */
	bool notify_on;         /* the guest's kicks are enabled */
	int reg[VU_MAX_VRINGS]; /* kick fds in the epoll set */
	struct vu_dev d;
	unsigned nqp;           /* queue pairs offered */
	unsigned spread;        /* pairs the device spreads over (the guest's live ones) */
	/* targeted receive, per queue pair */
	struct vhu_rxr {
		unsigned posted;        /* shared buffers on the device queue */
		uint8_t *hdrbuf;        /* per head: VHU_HDR bytes of replica */
		uint8_t **vhdr;         /* per head: where its virtio-net header goes */
		unsigned ring_num;      /* size hdrbuf/vhdr were made for */
	} r[VU_MAX_QP];
	bool mem_shared;        /* the memory table is registered with the device */
	unsigned lead_len;      /* virtio-net header size the device queues write */
	/* guest -> switch */
	uint8_t *txbuf;         /* VHU_BURST frames of VHU_FRAME */
	/* the message being read: the socket is never waited on, a message
	 * that came in part waits here for the rest */
	uint8_t in[VU_HDR_SIZE + VU_MAX_PAYLOAD];
	unsigned in_len;
	int in_fds[VU_MAX_FDS];
	unsigned in_nfds;
	/* set by the SIGBUS guard (any thread) when the guest's memory file
	 * shrank under one of our mappings: the vif breaks at the next service */
	atomic_uint mem_fault;
	uint64_t c[C__COUNT];
};

static const char *const cnames[] = {
	"connects", "disconnects", "refused", "short_buffers", "memory_faults",
	"messages_deferred", "calls_lost",
	/* then vu_err names, filled at run time */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- guest memory and quiescing ---------------------------------------- */

/* Guest memory mapped by the whole process, at most: a guest's table is
 * bounded (VU_MAX_MAPPED, 1 TiB) but a table change holds the old one
 * until its unmapping thread is done, and many guests add up; this keeps
 * half of the 128 TiB user address space for everything else.  Counted
 * from the mmap to the end of the munmap. */
#define VHU_MAPPED_MAX (64ull << 40)
static _Atomic uint64_t mapped_total;

/* Every mapping of guest memory is guarded (vhost/guard.h): if the guest
 * truncates the file later, a touch past its end turns the mapping into
 * zero pages and sets h->mem_fault instead of killing the process. */
static void *vhu_map(void *arg, int fd, size_t len)
{
	struct port *p = arg;
	struct vhu *h = p->priv;
	if (atomic_fetch_add(&mapped_total, len) + len > VHU_MAPPED_MAX) {
		atomic_fetch_sub(&mapped_total, len);
		fprintf(stderr, "vmdq: vif %s: guest memory refused: the switch maps %llu TiB "
			"of guest memory at most\n", p->name, VHU_MAPPED_MAX >> 40);
		return NULL;
	}
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		atomic_fetch_sub(&mapped_total, len);
		return NULL;
	}
	int rc = vmdq_guard_add(m, len, fd, &h->mem_fault);
	if (rc < 0) {
		fprintf(stderr, "vmdq: vif %s: guarding guest memory: %s\n", p->name,
			strerror(-rc));
		munmap(m, len);
		atomic_fetch_sub(&mapped_total, len);
		return NULL;
	}
	return m;
}

/* Unmapping a guest's memory takes tens of milliseconds (every page of it
 * leaves our page tables): a thread of its own does it, so the worker goes
 * on switching meanwhile.  Nothing refers to the region any more. */
struct unmap_job {
	void *addr;
	size_t len;
};

static void *unmap_thread(void *arg)
{
	struct unmap_job *j = arg;
	munmap(j->addr, j->len);
	atomic_fetch_sub(&mapped_total, j->len);
	free(j);
	return NULL;
}

static void vhu_unmap(void *arg, void *addr, size_t len)
{
	(void)arg;
	vmdq_guard_del(addr); /* before it goes: its range may be reused */
	struct unmap_job *j = malloc(sizeof(*j));
	pthread_t t;
	pthread_attr_t a;
	if (j && pthread_attr_init(&a) == 0) {
		*j = (struct unmap_job){ addr, len };
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		int rc = pthread_create(&t, &a, unmap_thread, j);
		pthread_attr_destroy(&a);
		if (rc == 0)
			return;
	}
	free(j);
	munmap(addr, len); /* no thread: here, then */
	atomic_fetch_sub(&mapped_total, len);
}

static bool rx_live(struct vhu *h, unsigned i)
{
	return vu_ring_live(&h->d, RXQ(i)) && h->d.vq[RXQ(i)].inflight;
}

/* A shared buffer's cookie: the generation it was posted in, its queue
 * pair and its head.  A completion of an older generation is of rings that
 * are gone: it is never written. */
static inline uint64_t cookie(const struct vhu *h, unsigned pair, uint16_t head)
{
	return (uint64_t)h->gen << 32 | (uint64_t)pair << 16 | head;
}

/* Takes every shared buffer the device has not filled back from the
 * vif's queues; they go back to the guest empty (if the ring is still
 * there).  The filled ones stay counted in posted until they come through
 * complete (the worker drains the queues after service). */
static void take_back(struct port *p, bool to_guest)
{
	struct vhu *h = p->priv;
	if (!h->targeted || !p->dev || h->retracted)
		return;
	for (unsigned i = 0; i < h->nqp; i++) {
		struct vhu_rxr *r = &h->r[i];
		struct vmdq_rxd d[VHU_POST_MAX];
		unsigned n;
		while (r->posted && (n = vmdq_rxq_retract(p->dev, (unsigned)p->queue + i, d,
							 VHU_POST_MAX)) > 0) {
			r->posted -= n < r->posted ? n : r->posted;
			if (to_guest && rx_live(h, i))
				for (unsigned k = 0; k < n; k++)
					vu_used_put(&h->d.vq[RXQ(i)], (uint16_t)d[k].cookie, 0);
		}
		if (rx_live(h, i)) {
			vu_used_publish(&h->d.vq[RXQ(i)]);
			vu_call(&h->d, &h->d.vq[RXQ(i)]);
		}
	}
	h->retracted = true;
}

/* Before the guest's rings or memory change: no shared buffer left on the
 * device queues, and the device no longer knows the guest's memory.  True
 * when so; false while completions wait in the queues (the worker hands
 * them over when service returns PORT_SERVICE_DRAIN, and calls again).
 * No refill until the change is done (h->quiescing, set by the caller). */
static bool quiesce_ready(struct port *p)
{
	struct vhu *h = p->priv;
	if (!h->targeted || !p->dev)
		return true; /* (vif del: the queues were stopped and emptied) */
	take_back(p, !h->d.broken);
	for (unsigned i = 0; i < h->nqp; i++)
		if (h->r[i].posted)
			return false;
	if (!h->mem_shared)
		return true;
	for (unsigned i = 0; i < h->nqp; i++) {
		/* the device must forget the memory before it is unmapped */
		unsigned q = (unsigned)p->queue + i;
		int rc = vmdq_rxq_share_mem(p->dev, q, p->owner, NULL, 0);
		if (rc == -EBUSY)
			return false;
		if (rc < 0)
			fprintf(stderr, "vmdq: vif %s: queue %u keeps guest memory: %s\n",
				p->name, q, strerror(-rc));
	}
	h->mem_shared = false;
	return true;
}

/* vu.c's quiesce (a message that changes the rings or memory, a reset):
 * service has waited for it (PORT_SERVICE_DRAIN) up to PORT_SERVICE_DRAINS
 * times.  What still has not come back is given up on: its completions,
 * of an older generation, will not be written. */
static void vhu_quiesce(void *arg)
{
	struct port *p = arg;
	struct vhu *h = p->priv;
	if (quiesce_ready(p))
		return;
	unsigned left = 0;
	for (unsigned i = 0; i < h->nqp; i++) {
		left += h->r[i].posted;
		h->r[i].posted = 0;
	}
	h->gen++;
	if (h->mem_shared) {
		for (unsigned i = 0; i < h->nqp; i++) {
			unsigned q = (unsigned)p->queue + i;
			int rc = vmdq_rxq_share_mem(p->dev, q, p->owner, NULL, 0);
			if (rc < 0)
				fprintf(stderr, "vmdq: vif %s: queue %u keeps guest memory: %s\n",
					p->name, q, strerror(-rc));
		}
		h->mem_shared = false;
	}
	if (left)
		fprintf(stderr, "vmdq: vif %s: %u frames not handed over before the guest's "
			"rings changed: dropped\n", p->name, left);
}

/* How many queue pairs the guest uses: the device spreads the vif's
 * frames over those (RSS), and tx picks among them the same way. */
static unsigned live_pairs(struct vhu *h)
{
	unsigned n = 0;
	while (n < h->nqp && rx_live(h, n))
		n++;
	return n;
}

/* The device learns the guest's memory (targeted receive).  It refuses
 * while completions of the old memory are in the queue (a quiesce that
 * gave up on them): refill tries again each round, quietly. */
static void share_guest_mem(struct port *p, bool loud)
{
	struct vhu *h = p->priv;
	if (h->mem_shared || !h->d.mem.n)
		return;
	struct vmdq_mem_region r[VU_MAX_REGIONS];
	for (unsigned i = 0; i < h->d.mem.n; i++)
		r[i] = (struct vmdq_mem_region){ h->d.mem.r[i].host, h->d.mem.r[i].size };
	int rc = 0;
	for (unsigned i = 0; i < h->nqp && rc == 0; i++)
		rc = vmdq_rxq_share_mem(p->dev, (unsigned)p->queue + i, p->owner, r, h->d.mem.n);
	if (rc < 0 && loud)
		fprintf(stderr, "vmdq: vif %s: sharing guest memory: %s\n", p->name,
			strerror(-rc));
	else if (rc == 0)
		h->mem_shared = true;
}

/* After a message: the device learns the guest's memory; the epoll set
 * follows the kick fds; head-indexed arrays follow the ring sizes; the
 * device's spread follows the pairs the guest enabled. */
static void resync(struct port *p)
{
	struct vhu *h = p->priv;
	/* a ring may have (re)started with the guest's kicks on (its used
	 * flags as the guest left them): quiet() turns them off again */
	h->notify_on = true;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
		/* a kick fd may have been closed and its number reused: register
		 * afresh (messages are rare) */
		if (h->reg[i] >= 0)
			epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->reg[i], NULL);
		int fd = h->d.vq[i].kick_fd;
		if (fd >= 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 16 + i };
			epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev);
		}
		h->reg[i] = fd;
	}
	for (unsigned i = 0; i < h->nqp; i++) {
		struct vhu_rxr *r = &h->r[i];
		unsigned num = h->d.vq[RXQ(i)].num;
		if (num && num != r->ring_num) {
			free(r->hdrbuf);
			free(r->vhdr);
			r->hdrbuf = malloc((size_t)num * VHU_HDR);
			r->vhdr = calloc(num, sizeof(*r->vhdr));
			r->ring_num = r->hdrbuf && r->vhdr ? num : 0;
		}
	}
	if (!p->dev)
		return;
	unsigned live = live_pairs(h);
	if (!live)
		live = 1;
	if (live != h->spread && vmdq_queue_set_rss(p->dev, (unsigned)p->queue, live) == 0)
		h->spread = live;
	if (!h->targeted)
		return;
	if (h->lead_len != h->d.hdr_len) {
		/* the device writes the virtio-net header with each frame (one
		 * pass over guest lines): no offloads, num_buffers 1 */
		static const uint8_t vnh[12] = { [10] = 1 };
		uint8_t z[12] = { 0 };
		for (unsigned i = 0; i < h->nqp; i++)
			vmdq_rxq_set_lead(p->dev, (unsigned)p->queue + i,
					  h->d.hdr_len == 12 ? vnh : z, h->d.hdr_len);
		h->lead_len = h->d.hdr_len;
	}
	share_guest_mem(p, true);
}

/* ---- connection ------------------------------------------------------- */

static void disconnect(struct port *p, const char *why)
{
	struct vhu *h = p->priv;
	if (h->cfd < 0)
		return;
	uint64_t t0 = now_ns();
	vhu_quiesce(p);
	epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->cfd, NULL);
	close(h->cfd);
	h->cfd = -1;
	for (unsigned i = 0; i < h->in_nfds; i++)
		close(h->in_fds[i]); /* a message that never came whole */
	h->in_nfds = h->in_len = 0;
	h->msg_waits = false;
	h->hangup = NULL;
	h->drains = 0;
	vu_dev_reset(&h->d);
	resync(p);
	h->c[C_DISCONNECTS]++;
	fprintf(stderr, "vmdq: vif %s: guest disconnected (%s; %.1f ms)\n", p->name, why,
		(double)(now_ns() - t0) / 1e6);
	if (h->lfd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
		epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->lfd, &ev);
	}
	h->next_connect_ns = now_ns() + 1000000000ull;
}

static void connected(struct port *p, int fd)
{
	struct vhu *h = p->priv;
	/* non-blocking: no read or write on it ever waits for the guest */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	h->cfd = fd;
	h->in_len = h->in_nfds = 0;
	atomic_store(&h->mem_fault, 0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = 2 };
	epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev);
	if (h->lfd >= 0)
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->lfd, NULL); /* one guest at a time */
	vu_dev_reset(&h->d);
	h->c[C_CONNECTS]++;
	fprintf(stderr, "vmdq: vif %s: guest connected\n", p->name);
}

static int try_connect(struct port *p)
{
	struct vhu *h = p->priv;
	/* non-blocking: a listener with a full backlog is EAGAIN, not a wait */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, h->path, sizeof(h->path));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	connected(p, fd);
	return 0;
}

/* A reply goes out whole at once or not at all: a guest whose socket
 * buffer cannot take it does not read its replies (hang up). */
static int send_msg(int fd, const struct vu_msg *r)
{
	uint8_t buf[VU_HDR_SIZE + VU_MAX_PAYLOAD];
	memcpy(buf, &r->request, 4);
	memcpy(buf + 4, &r->flags, 4);
	memcpy(buf + 8, &r->size, 4);
	memcpy(buf + VU_HDR_SIZE, &r->u, r->size);
	ssize_t n = send(fd, buf, VU_HDR_SIZE + r->size, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n == (ssize_t)(VU_HDR_SIZE + r->size) ? 0 : -1;
}

#define VHU_WAIT (-2)
/* Reads what there is of the message being read, never waiting: > 0 one
 * message handled (what it cost of the round's budget), 0 not whole yet
 * (the rest stays in h->in until the socket has more), -1 hang up,
 * VHU_WAIT: whole, but it changes the rings and completions are still in
 * the vif's queues (it stays in h->in; service asks for a drain).
 * Exactly the bytes of this message are asked for, so the fds that come
 * with the next message's first byte are never taken with this one. */
static int read_msg(struct port *p)
{
	struct vhu *h = p->priv;
	for (;;) {
		uint32_t size = 0;
		if (h->in_len >= VU_HDR_SIZE) {
			memcpy(&size, h->in + 8, 4);
			if (h->in_len == VU_HDR_SIZE + size)
				break; /* whole */
		}
		size_t want = h->in_len < VU_HDR_SIZE ? VU_HDR_SIZE - h->in_len
						      : VU_HDR_SIZE + size - h->in_len;
		char cbuf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		struct iovec iov = { h->in + h->in_len, want };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(h->cfd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (unsigned i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (h->in_nfds < VU_MAX_FDS)
					h->in_fds[h->in_nfds++] = fd;
				else
					close(fd);
			}
		}
		h->in_len += (unsigned)n;
		if (h->in_len == VU_HDR_SIZE) {
			memcpy(&size, h->in + 8, 4);
			if (size > VU_MAX_PAYLOAD) {
				vu_break(&h->d, VU_E_MSG);
				return -1; /* cannot find the next message's start */
			}
		}
	}
	/* whole */
	uint32_t req;
	memcpy(&req, h->in, 4);
	h->quiescing = true;
	if (vu_request_quiesces(req) && !quiesce_ready(p) && h->drains < PORT_SERVICE_DRAINS) {
		h->drains++;
		h->msg_waits = true;
		return VHU_WAIT;
	}
	h->msg_waits = false;
	h->drains = 0;
	struct vu_msg m;
	memset(&m, 0, sizeof(m));
	memcpy(&m.request, h->in, 4);
	memcpy(&m.flags, h->in + 4, 4);
	memcpy(&m.size, h->in + 8, 4);
	memcpy(&m.u, h->in + VU_HDR_SIZE, m.size);
	memcpy(m.fds, h->in_fds, sizeof(int) * h->in_nfds);
	m.nfds = h->in_nfds;
	h->in_len = h->in_nfds = 0; /* the fds are the handler's now */
	struct vu_msg r;
	int cost = m.request == VU_SET_MEM_TABLE ? VHU_MSG_BUDGET : 1;
	int rc = vu_handle(&h->d, &m, &r);
	h->quiescing = false;
	resync(p);
	if (rc < 0)
		return -1;
	if (rc == 1 && send_msg(h->cfd, &r) < 0)
		return -1;
	return cost;
}

/* Frames are moving: the guest need not kick us on either ring while the
 * worker polls (vhu_idle enables the kicks again before it sleeps). */
static void quiet(struct vhu *h)
{
	if (!h->notify_on)
		return;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (vu_ring_live(&h->d, i))
			vu_notify_enable(&h->d, &h->d.vq[i], false);
	h->notify_on = false;
}

/* ---- targeted receive: the guest's buffers on the device queue ---------- */

/* How many of a receive ring's buffers go on the device queue at most, and
 * in batches of how many: every refill reads the avail index, a line the
 * guest writes, and pays the device's post once. */
static unsigned post_limit(const struct vu_vring *v, unsigned *batch)
{
	unsigned limit = v->num - v->num / 4;
	if (limit > VHU_POST_MAX)
		limit = VHU_POST_MAX;
	*batch = limit / 4 < VHU_REFILL_MIN ? (limit / 4 ? limit / 4 : 1) : VHU_REFILL_MIN;
	return limit;
}

static void refill_pair(struct port *p, unsigned pair)
{
	struct vhu *h = p->priv;
	struct vhu_rxr *r = &h->r[pair];
	if (!rx_live(h, pair) || r->ring_num != h->d.vq[RXQ(pair)].num)
		return;
	struct vu_vring *v = &h->d.vq[RXQ(pair)];
	unsigned batch, limit = post_limit(v, &batch);
	if (r->posted + batch > limit)
		return;
	unsigned want = limit - r->posted, have = vu_avail_count(&h->d, v);
	if (want > have)
		want = have;
	if (!want)
		return;
	/* the descriptors of the heads to come, on their way before we walk
	 * (a packed ring's are in ring order: the count just read them) */
	for (unsigned i = 0; i < want && !v->packed; i++) {
		uint16_t hd = ((volatile struct vring_avail *)v->avail)->ring[(uint16_t)(v->last_avail + i) &
										(v->num - 1)];
		if (hd < v->num)
			__builtin_prefetch(&v->desc[hd]);
	}
	struct vmdq_rxd d[VHU_POST_MAX];
	unsigned k = 0;
	bool put = false;
	for (unsigned i = 0; i < want; i++) {
		struct vu_chain c;
		if (vu_pop(&h->d, v, true, &c) < 0)
			break;
		uint8_t *vh, *buf;
		uint32_t size;
		uint16_t lead = 0;
		if (c.nseg && c.seg[0].len > h->d.hdr_len && h->lead_len == h->d.hdr_len) {
			vh = NULL; /* the device writes the header with the frame */
			buf = c.seg[0].p;
			size = c.seg[0].len;
			lead = (uint16_t)h->d.hdr_len;
		} else if (c.nseg && c.seg[0].len > h->d.hdr_len) {
			vh = c.seg[0].p;
			buf = vh + h->d.hdr_len;
			size = c.seg[0].len - h->d.hdr_len;
		} else if (c.nseg > 1 && c.seg[0].len == h->d.hdr_len) {
			vh = c.seg[0].p; /* header and frame in separate pieces */
			buf = c.seg[1].p;
			size = c.seg[1].len;
		} else {
			h->c[C_SHORT_BUF]++; /* cannot hold a frame: back, empty */
			vu_used_put(v, c.head, 0);
			put = true;
			continue;
		}
		r->vhdr[c.head] = vh;
		d[k++] = (struct vmdq_rxd){ .buf = buf, .buf_size = size,
					    .cookie = cookie(h, pair, c.head),
					    .hdr = r->hdrbuf + (size_t)c.head * VHU_HDR,
					    .hdr_len = VHU_HDR, .lead = lead };
	}
	int err = 0;
	unsigned posted = k ? vmdq_rxq_post_shared(p->dev, (unsigned)p->queue + pair, p->owner,
						  d, k, &err) : 0;
	r->posted += posted;
	if (posted)
		h->retracted = false;
	if (posted < k) {
		/* the device refused what we had checked: never write it */
		vu_break(&h->d, VU_E_ADDR);
		for (unsigned i = posted; i < k; i++)
			v->inflight[(uint16_t)d[i].cookie] = 0;
	}
	if (put)
		vu_used_publish(v);
}

static void refill(struct port *p)
{
	struct vhu *h = p->priv;
	if (!h->targeted || !p->dev || h->quiescing)
		return;
	share_guest_mem(p, false);
	if (!h->mem_shared)
		return;
	for (unsigned i = 0; i < h->nqp; i++)
		refill_pair(p, i);
}

/* The switch's verdict on completions of one of the vif's queues. */
static unsigned vhu_complete(struct port *p, struct vmdq_rxd *d, unsigned n,
			     const bool *deliver)
{
	struct vhu *h = p->priv;
	if (!n)
		return 0;
	unsigned pair = (unsigned)(d[0].cookie >> 16 & 0xffff);
	if (pair >= h->nqp)
		return 0; /* not ours: cannot happen */
	if ((uint32_t)(d[0].cookie >> 32) != h->gen)
		return 0; /* posted before the rings changed, given up on (vhu_quiesce) */
	struct vhu_rxr *r = &h->r[pair];
	unsigned done = 0, back = 0, nused = 0;
	struct vmdq_rxd again[VHU_POST_MAX];
	struct vring_used_elem used[VHU_POST_MAX];
	r->posted -= n < r->posted ? n : r->posted;
	bool live = rx_live(h, pair) && r->ring_num == h->d.vq[RXQ(pair)].num;
	if (live)
		quiet(h);
	struct vu_vring *v = &h->d.vq[RXQ(pair)];
	for (unsigned i = 0; i < n; i++) {
		uint16_t head = (uint16_t)d[i].cookie;
		if (!live || head >= r->ring_num) {
			continue; /* the guest went or broke: not delivered */
		}
		if (!deliver[i]) {
			/* the switch dropped it: the buffer goes back to the device */
			if (back < VHU_POST_MAX && !h->quiescing && p->dev)
				again[back++] = (struct vmdq_rxd){
					.buf = d[i].buf, .buf_size = d[i].buf_size,
					.cookie = cookie(h, pair, head),
					.hdr = r->hdrbuf + (size_t)head * VHU_HDR,
					.hdr_len = VHU_HDR, .lead = d[i].lead };
			else
				vu_used_put(v, head, 0);
			continue;
		}
		uint8_t *vh = r->vhdr[head];
		if (!vh) {
			/* written by the device in front of the frame */
		} else if (h->d.hdr_len == 12) {
			static const uint8_t one[12] = { [10] = 1 }; /* num_buffers 1 */
			memcpy(vh, one, 12);
		} else {
			memset(vh, 0, 10);
		}
		uint32_t len = d[i].len;
		used[nused++] = (struct vring_used_elem){ head, h->d.hdr_len + len };
		p->tx_frames++;
		p->tx_bytes += len;
		done++;
	}
	vu_used_put_many(v, used, nused);
	if (back) {
		int err;
		unsigned k = vmdq_rxq_post_shared(p->dev, (unsigned)p->queue + pair, p->owner,
						  again, back, &err);
		r->posted += k;
		if (k)
			h->retracted = false;
		for (unsigned i = k; i < back; i++)
			vu_used_put(v, (uint16_t)again[i].cookie, 0);
	}
	if (live) {
		vu_used_publish(v);
		if (h->targeted && p->dev && !h->quiescing && h->mem_shared)
			refill_pair(p, pair);
	}
	return done;
}

/* ---- the port --------------------------------------------------------- */

static void vhu_close(struct port *p)
{
	struct vhu *h = p->priv;
	if (!h)
		return;
	disconnect(p, "vif removed");
	vu_dev_reset(&h->d);
	if (h->lfd >= 0) {
		close(h->lfd);
		unlink(h->path);
	}
	if (h->epfd >= 0)
		close(h->epfd);
	for (unsigned i = 0; i < VU_MAX_QP; i++) {
		free(h->r[i].hdrbuf);
		free(h->r[i].vhdr);
	}
	if (h->txbuf)
		munmap(h->txbuf, (size_t)VHU_BURST * VHU_FRAME);
	free(h);
	p->priv = NULL;
}

static int vhu_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	if (nargs < 1) {
		snprintf(err, errlen, "vhost-user: expected 'vhost-user SOCKPATH "
			 "[targeted on|off] [client]'");
		return -EINVAL;
	}
	struct vhu *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	p->priv = h;
	h->lfd = h->cfd = h->epfd = -1;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		h->reg[i] = -1;
	h->targeted = true;
	for (int i = 1; i < nargs; i++) {
		if (strcmp(args[i], "targeted") == 0 && i + 1 < nargs &&
		    (strcmp(args[i + 1], "on") == 0 || strcmp(args[i + 1], "off") == 0)) {
			h->targeted = strcmp(args[++i], "on") == 0;
		} else if (strcmp(args[i], "client") == 0) {
			h->client = true;
		} else {
			snprintf(err, errlen, "vhost-user: unknown option '%s' (expected "
				 "'targeted on|off' or 'client')", args[i]);
			return -EINVAL;
		}
	}
	if (strlen(args[0]) >= sizeof(h->path) || !args[0][0]) {
		snprintf(err, errlen, "vhost-user: socket path '%s' is empty or too long",
			 args[0]);
		return -EINVAL;
	}
	if (h->targeted && !p->dev) {
		snprintf(err, errlen, "vhost-user: targeted receive needs a device queue");
		return -EINVAL;
	}
	memcpy(h->path, args[0], strlen(args[0]) + 1);
	struct vu_host_ops ops = { .map = vhu_map, .unmap = vhu_unmap,
				   .quiesce = vhu_quiesce, .arg = p };
	vu_dev_init(&h->d, &ops);
	h->nqp = p->nqueues ? p->nqueues : 1;
	h->d.max_qp = h->nqp;
	/* from the guest: a frame (jumbo at most) in the port's buffer; to it:
	 * what its buffers hold (VHU_MRG_MAX of them when mergeable): the
	 * guest decides, the port cannot tell (0) */
	p->caps = (struct port_caps){ .max_frame_in = VHU_FRAME, .max_frame_out = 0 };
	h->spread = 1;
	h->txbuf = mmap(NULL, (size_t)VHU_BURST * VHU_FRAME, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->txbuf == MAP_FAILED) {
		h->txbuf = NULL;
		return -ENOMEM;
	}
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0)
		return -errno;
	if (h->client) {
		try_connect(p); /* not there yet: service retries every second */
		return 0;
	}
	struct stat st;
	if (lstat(h->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "vhost-user: %s exists and is not a socket", h->path);
			return -EEXIST;
		}
		unlink(h->path); /* a stale socket of an earlier run */
	}
	h->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, h->path, sizeof(h->path));
	if (h->lfd < 0 || bind(h->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(h->lfd, 4) < 0) {
		int e = errno;
		snprintf(err, errlen, "vhost-user: %s: %s", h->path, strerror(e));
		if (h->lfd >= 0) {
			close(h->lfd);
			h->lfd = -1;
		}
		return -e;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
	epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->lfd, &ev);
	return 0;
}

/* The guest hangs up (or is hung up on): its rings go once the device has
 * given back every shared buffer.  PORT_SERVICE_DRAIN while it has not. */
static int hang_up(struct port *p, const char *why)
{
	struct vhu *h = p->priv;
	h->quiescing = true;
	if (!quiesce_ready(p) && h->drains < PORT_SERVICE_DRAINS) {
		h->drains++;
		h->hangup = why;
		return PORT_SERVICE_DRAIN;
	}
	h->hangup = NULL;
	h->drains = 0;
	h->msg_waits = false;
	disconnect(p, why);
	h->quiescing = false;
	return PORT_SERVICE_OK;
}

/* Messages from the guest, VHU_MSG_BUDGET's worth at most. */
static int messages(struct port *p)
{
	struct vhu *h = p->priv;
	int rc = 0;
	unsigned spent = 0;
	while (spent < VHU_MSG_BUDGET && (rc = read_msg(p)) > 0)
		spent += (unsigned)rc;
	if (rc == VHU_WAIT)
		return PORT_SERVICE_DRAIN; /* the worker drains, then calls again */
	if (rc < 0)
		return hang_up(p, "socket closed");
	if (spent >= VHU_MSG_BUDGET) {
		/* more may wait: the next round looks again (the socket stays
		 * readable, so a sleep ends at once) */
		h->c[C_MSG_DEFER]++;
		h->check_now = true;
	}
	return PORT_SERVICE_OK;
}

static int vhu_service(struct port *p, uint64_t now)
{
	struct vhu *h = p->priv;
	/* a change that waited for the worker's drain goes first */
	if (h->hangup)
		return hang_up(p, h->hangup);
	if (h->msg_waits) {
		int rc = messages(p);
		if (rc != PORT_SERVICE_OK || h->cfd < 0)
			return rc;
	}
	if (!now)
		now = now_ns();
	if (h->client && h->cfd < 0 && now >= h->next_connect_ns) {
		if (try_connect(p) < 0)
			h->next_connect_ns = now + 1000000000ull;
	}
	if (atomic_load_explicit(&h->mem_fault, memory_order_relaxed) &&
	    atomic_exchange(&h->mem_fault, 0)) {
		/* the guest's memory file shrank under a mapping: the guard
		 * made it zero pages; the vif is done until the guest resets */
		h->c[C_MEM_FAULT]++;
		if (h->cfd >= 0) {
			/* the rings may have been read as zeros (and the device
			 * broken for what they showed) before this round: the
			 * truncation is the cause, and the reason says so */
			if (h->d.broken)
				h->d.broken_why = VU_E_ADDR;
			else
				vu_break(&h->d, VU_E_ADDR);
			fprintf(stderr, "vmdq: vif %s: guest memory truncated under us: broken\n",
				p->name);
		}
	}
	/* broken: the device stops writing to the guest's buffers (what it
	 * filled comes through complete, which writes nothing) */
	if (h->d.broken)
		take_back(p, false);
	if (h->check_now || now - h->last_svc_ns >= 1000000ull) {
		h->check_now = false;
		h->last_svc_ns = now;
		struct epoll_event ev[8];
		int n = epoll_wait(h->epfd, ev, 8, 0);
		for (int i = 0; i < n; i++) {
			uint32_t what = ev[i].data.u32;
			if (what == 1) {
				int fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (fd >= 0 && h->cfd >= 0) {
					h->c[C_REFUSED]++; /* one guest at a time */
					close(fd);
				} else if (fd >= 0) {
					connected(p, fd);
				}
			} else if (what == 2 && h->cfd >= 0) {
				int rc = messages(p);
				if (rc != PORT_SERVICE_OK)
					return rc;
			} else if (what >= 16 && what < 16 + VU_MAX_VRINGS) {
				uint64_t x;
				int fd = h->d.vq[what - 16].kick_fd;
				if (fd >= 0 && read(fd, &x, sizeof(x)) < 0) {
					/* reset already */
				}
			}
		}
	}
	refill(p);
	return PORT_SERVICE_OK;
}

/* VM -> switch: a burst from the transmit queue of queue pair `pair`. */
static unsigned vhu_rx(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n)
{
	struct vhu *h = p->priv;
	if (pair >= h->nqp)
		return 0;
	struct vu_vring *v = &h->d.vq[TXQ(pair)];
	if (!vu_ring_live(&h->d, TXQ(pair)) || !v->inflight)
		return 0;
	unsigned have = vu_avail_count(&h->d, v);
	if (!have)
		return 0;
	quiet(h);
	if (n > VHU_BURST)
		n = VHU_BURST;
	if (have > n)
		have = n;
	unsigned got = 0, nused = 0;
	struct vring_used_elem used[VHU_BURST];
	uint32_t hl = h->d.hdr_len;
	for (unsigned i = 0; i < have; i++) {
		struct vu_chain c;
		if (vu_pop(&h->d, v, false, &c) < 0)
			break;
		if (c.total < hl + 14 || c.total > hl + VHU_FRAME) {
			used[nused++] = (struct vring_used_elem){ c.head, 0 };
			vu_break(&h->d, VU_E_LEN);
			break;
		}
		/* copy the frame out (skipping the virtio-net header) */
		uint8_t *dst = h->txbuf + (size_t)got * VHU_FRAME;
		uint32_t skip = hl, len = 0;
		for (unsigned s = 0; s < c.nseg; s++) {
			uint32_t l = c.seg[s].len;
			const uint8_t *src = c.seg[s].p;
			if (skip >= l) {
				skip -= l;
				continue;
			}
			src += skip;
			l -= skip;
			skip = 0;
			memcpy(dst + len, src, l);
			len += l;
		}
		used[nused++] = (struct vring_used_elem){ c.head, 0 };
		f[got++] = (struct vmdq_frame){ .data = dst, .caplen = len, .len = len };
		p->rx_frames++;
		p->rx_bytes += len;
	}
	vu_used_put_many(v, used, nused);
	vu_used_publish(v);
	return got;
}

/* switch -> VM by copy (Level 1, and frames that did not come through the
 * vif's queue).  Mergeable buffers when negotiated, else one buffer per
 * frame; a frame that does not fit is dropped, its buffers untouched. */
#define VHU_MRG_MAX 64
static unsigned tx_pair(struct port *p, unsigned pair, const struct vmdq_frame *f,
			unsigned n)
{
	struct vhu *h = p->priv;
	if (!rx_live(h, pair) || h->r[pair].ring_num != h->d.vq[RXQ(pair)].num)
		return 0;
	struct vu_vring *v = &h->d.vq[RXQ(pair)];
	quiet(h);
	uint32_t hl = h->d.hdr_len;
	bool mrg = hl == 12 && (h->d.features & (1ull << 15)); /* VIRTIO_NET_F_MRG_RXBUF */
	unsigned sent = 0, have = vu_avail_count(&h->d, v), nused = 0;
	unsigned pops = 0, descs = 0; /* chains and descriptors walked: VHU_TX_POPS,
				       * VHU_TX_DESCS at most */
	struct vring_used_elem used[VHU_POST_MAX];
	for (unsigned i = 0; i < n && have && !h->d.broken && pops < VHU_TX_POPS &&
			     descs < VHU_TX_DESCS; i++) {
		uint32_t len = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		uint32_t need = hl + len, off = 0; /* bytes of header + frame placed */
		uint16_t heads[VHU_MRG_MAX];
		uint32_t lens[VHU_MRG_MAX];
		unsigned nb = 0;
		uint8_t *vh = NULL;
		while (off < need && have && nb < VHU_MRG_MAX && pops < VHU_TX_POPS &&
		       descs < VHU_TX_DESCS) {
			struct vu_chain c;
			if (vu_pop(&h->d, v, true, &c) < 0)
				break;
			have--;
			pops++;
			descs += c.ndesc;
			heads[nb] = c.head;
			lens[nb] = 0;
			if (!c.nseg || (nb == 0 && c.seg[0].len < hl)) {
				nb++;
				h->c[C_SHORT_BUF]++;
				break; /* the header must be in one piece */
			}
			if (nb == 0) {
				vh = c.seg[0].p;
				memset(vh, 0, hl);
			}
			for (unsigned s = 0; s < c.nseg && off < need; s++) {
				uint8_t *dst = c.seg[s].p;
				uint32_t room = c.seg[s].len;
				if (off < hl) { /* first piece: the header is there */
					dst += hl;
					room -= hl;
					off = hl;
					lens[nb] = hl;
				}
				uint32_t k = need - off < room ? need - off : room;
				memcpy(dst, f[i].data + (off - hl), k);
				off += k;
				lens[nb] += k;
			}
			nb++;
			if (!mrg)
				break;
		}
		if (off < need || !vh) {
			/* not placed: the buffers were never used, the guest keeps
			 * them (they are taken again for the next frame) */
			bool ran_out = !have;
			vu_unpop(v, heads, nb);
			have += nb;
			/* every buffer it posted was not enough: the rest of the
			 * burst is not walked through them again (dropped) */
			if (h->d.broken || ran_out)
				break;
			continue; /* too big for the buffers: dropped */
		}
		if (nused + nb > VHU_POST_MAX) {
			vu_used_put_many(v, used, nused);
			nused = 0;
		}
		for (unsigned k = 0; k < nb; k++)
			used[nused++] = (struct vring_used_elem){ heads[k], lens[k] };
		if (hl == 12) {
			vh[10] = (uint8_t)nb; /* num_buffers, little-endian */
			vh[11] = (uint8_t)(nb >> 8);
		}
		p->tx_frames++;
		p->tx_bytes += len;
		sent++;
	}
	vu_used_put_many(v, used, nused);
	vu_used_publish(v);
	return sent;
}

/* Several pairs: each frame goes to the pair its flow hashes to, as the
 * device's spread does for frames that come through the vif's queues. */
static unsigned vhu_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct vhu *h = p->priv;
	unsigned spread = h->spread;
	if (spread <= 1)
		return tx_pair(p, 0, f, n);
	unsigned sent = 0;
	for (unsigned off = 0; off < n; off += VHU_BURST) {
		unsigned m = n - off < VHU_BURST ? n - off : VHU_BURST;
		struct vmdq_frame by[VU_MAX_QP][VHU_BURST];
		unsigned cnt[VU_MAX_QP] = { 0 };
		for (unsigned i = 0; i < m; i++) {
			const struct vmdq_frame *x = &f[off + i];
			uint32_t len = x->caplen < x->len ? x->caplen : x->len;
			unsigned k = vmdq_flow_hash(x->data, len) % spread;
			by[k][cnt[k]++] = *x;
		}
		for (unsigned k = 0; k < spread; k++)
			if (cnt[k])
				sent += tx_pair(p, k, by[k], cnt[k]);
	}
	return sent;
}

static int vhu_fd(struct port *p)
{
	struct vhu *h = p->priv;
	return h->epfd;
}

static void vhu_flush(struct port *p)
{
	struct vhu *h = p->priv;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (vu_ring_live(&h->d, i))
			vu_call(&h->d, &h->d.vq[i]);
}

static bool vhu_idle(struct port *p)
{
	struct vhu *h = p->priv;
	h->check_now = true; /* whatever wakes us is looked at at once */
	if (!h->notify_on) {
		for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
			if (vu_ring_live(&h->d, i) && h->d.vq[i].inflight)
				vu_notify_enable(&h->d, &h->d.vq[i], true);
		h->notify_on = true;
	}
	for (unsigned i = 0; i < h->nqp; i++) {
		struct vu_vring *tx = &h->d.vq[TXQ(i)], *rx = &h->d.vq[RXQ(i)];
		if (vu_ring_live(&h->d, TXQ(i)) && tx->inflight && vu_avail_count(&h->d, tx))
			return false;
		unsigned batch, limit = post_limit(rx, &batch);
		if (h->targeted && rx_live(h, i) && h->r[i].posted + batch <= limit &&
		    vu_avail_count(&h->d, rx) >= batch)
			return false;
	}
	return true;
}

static bool vhu_targeted(struct port *p)
{
	struct vhu *h = p->priv;
	return h->targeted;
}

_Static_assert(C__COUNT + VU_E__COUNT <= PORT_STATUS_MAX, "status counters");

static void vhu_status(struct port *p, struct port_status *st)
{
	struct vhu *h = p->priv;
	for (unsigned i = 0; i < C__COUNT; i++) {
		st->names[i] = cnames[i];
		st->vals[i] = h->c[i];
	}
	st->vals[C_CALLS_LOST] = h->d.calls_lost; /* vu.c counts it */
	for (unsigned i = 0; i < VU_E__COUNT; i++) {
		st->names[C__COUNT + i] = vu_err_name((enum vu_err)i);
		st->vals[C__COUNT + i] = h->d.errors[i];
	}
	st->n = C__COUNT + VU_E__COUNT;
	st->ring = NULL;
	if (h->cfd >= 0 && h->d.features_set)
		st->ring = h->d.features & (1ull << VU_F_RING_PACKED) ? "packed" : "split";
	if (h->cfd < 0) {
		st->state = h->client ? "connecting" : "waiting";
	} else if (h->d.broken) {
		snprintf(st->buf, sizeof(st->buf), "broken: %s", vu_err_name(h->d.broken_why));
		st->state = st->buf;
	} else {
		st->state = "connected";
		for (unsigned i = 0; i < 2 * h->nqp; i++)
			if (vu_ring_live(&h->d, i))
				st->state = "running";
	}
}

static void vhu_describe(struct port *p, char *buf, size_t len)
{
	struct vhu *h = p->priv;
	snprintf(buf, len, "vhost-user %s on %s, targeted receive %s, %u queue pair%s",
		 h->client ? "client" : "server", h->path, h->targeted ? "on" : "off", h->nqp,
		 h->nqp == 1 ? "" : "s");
}

const struct port_ops port_vhost_user_ops = {
	.kind = "vhost-user", .uplink_ok = false, .vif_ok = true, .max_queues = VU_MAX_QP,
	.open = vhu_open, .close = vhu_close, .rx = vhu_rx, .tx = vhu_tx, .fd = vhu_fd,
	.describe = vhu_describe, .service = vhu_service, .idle = vhu_idle,
	.flush = vhu_flush, .targeted = vhu_targeted, .complete = vhu_complete,
	.status = vhu_status,
};
