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
 *
 * This file: the socket and its messages, guest memory, quiescing, the
 * connection and the port's control callbacks.  Frames move in
 * vhost_user_input.c (guest -> switch) and vhost_user_output.c (switch ->
 * guest); the three share vhost_user_int.h.
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

#include "../vhost/guard.h"
#include "vhost_user_int.h"

static const char *const cnames[] = {
	"connects", "disconnects", "refused", "short_buffers", "memory_faults",
	"messages_deferred", "calls_lost", "too_big_for_guest", "offload_refused",
	/* then vu_err names and the offload refusals' (but "none"), filled at
	 * run time */
};
_Static_assert(sizeof(cnames) / sizeof(cnames[0]) == C__COUNT, "a name per counter");

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
	vhu_take_back(p, !h->d.broken);
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

/* Of the messages vu.c says quiesce (vu_msg_quiesces: logging on or off
 * does not), one that names a ring that is not running, or stops a
 * transmit ring, leaves the posted buffers be too: a ring stops only
 * quiesced, so none of its buffers is posted, and a transmit ring has none.
 * QEMU sets a pair's transmit ring up after its receive ring runs (a
 * migration's destination has that ring's buffers ready at once): a
 * quiesce there would hand every posted buffer back empty, which the guest
 * counts as errors (Linux: rx_length_errors). */
static bool ring_msg_quiesces(const struct vhu *h, const struct vu_msg *m)
{
	switch (m->request) {
	case VU_SET_VRING_NUM:
	case VU_SET_VRING_BASE:
	case VU_GET_VRING_BASE:
	case VU_SET_VRING_ADDR: {
		uint32_t i = m->u.state.index; /* (the first word of each payload) */
		if (m->size < 4)
			return true;
		if (i >= VU_MAX_VRINGS || !h->d.vq[i].started)
			return false;
		return m->request != VU_GET_VRING_BASE || !(i & 1);
	}
	default:
		return true;
	}
}

/* vu.c's quiesce (a message that changes the rings or memory, a reset):
 * service has waited for it (PORT_SERVICE_DRAIN) up to PORT_SERVICE_DRAINS
 * times.  What still has not come back is given up on: its completions,
 * of an older generation, will not be written. */
static void vhu_quiesce(void *arg)
{
	struct port *p = arg;
	struct vhu *h = p->priv;
	if (h->light || quiesce_ready(p))
		return; /* (light: the message leaves the posted buffers be) */
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
void vhu_share_mem(struct port *p, bool loud)
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
	/* the offloads follow the features (0 until SET_FEATURES, and after a
	 * reset) */
	uint32_t rx = 0, tx = 0;
	if (h->d.features_set)
		vhu_caps_of(h->d.features, &rx, &tx);
	p->caps.rx_offloads = rx;
	p->caps.tx_offloads = tx;
	p->caps.max_frame_in = (rx & VHU_OFF_SUPER) ? VMDQ_MAX_SUPER : VHU_FRAME;
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
	/* the VM is here while it is connected and runs a ring; gone, its MAC
	 * may move to the wire (switch/forward.c, DESIGN.md threat model) */
	bool here = false;
	for (unsigned i = 0; h->cfd >= 0 && i < 2 * h->nqp; i++)
		here |= h->d.vq[i].started;
	atomic_store_explicit(&p->peer_gone, !here, memory_order_release);
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
	vhu_share_mem(p, true);
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
	/* an idle vif holds no frame buffer: the guest's frames went through
	 * it (touched pages stay resident), its next guest touches it afresh */
	madvise(h->txbuf, VHU_TXBUF, MADV_DONTNEED);
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
	h->base_told = false;
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

/* A ring started where the positions handed over disagree (vu.h,
 * base_mismatch): buffers an earlier back-end (a migration's source) took
 * and never gave back are lost to the guest; or a packed used position was
 * refused.  Said once a connection (the counts stay in struct vu_dev). */
static void tell_base(struct port *p)
{
	struct vhu *h = p->priv;
	uint64_t n = h->d.base_mismatch + h->d.base_refused;
	if (n == h->base_seen)
		return;
	h->base_seen = n;
	if (h->base_told)
		return;
	h->base_told = true;
	fprintf(stderr, "vmdq: vif %s: ring %u started with avail index %#x and used index "
		"%#x%s (said once a connection)\n", p->name, h->d.base_last.ring,
		h->d.base_last.avail, h->d.base_last.used,
		h->d.base_last.refused ? ": that used index cannot be, ignored"
			: ": buffers taken before the ring started were never used, the guest "
			  "has lost them");
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
	struct vu_msg m;
	memset(&m, 0, sizeof(m));
	memcpy(&m.request, h->in, 4);
	memcpy(&m.flags, h->in + 4, 4);
	memcpy(&m.size, h->in + 8, 4);
	memcpy(&m.u, h->in + VU_HDR_SIZE, m.size);
	h->quiescing = true;
	/* (turning dirty-page logging on or off does not quiesce) */
	bool q = vu_msg_quiesces(&h->d, &m) && ring_msg_quiesces(h, &m);
	if (q && !quiesce_ready(p) && h->drains < PORT_SERVICE_DRAINS) {
		h->drains++;
		h->msg_waits = true;
		return VHU_WAIT; /* the message (and its fds) stays in h->in */
	}
	h->msg_waits = false;
	h->drains = 0;
	memcpy(m.fds, h->in_fds, sizeof(int) * h->in_nfds);
	m.nfds = h->in_nfds;
	h->in_len = h->in_nfds = 0; /* the fds are the handler's now */
	struct vu_msg r;
	int cost = m.request == VU_SET_MEM_TABLE ? VHU_MSG_BUDGET : 1;
	h->light = !q;
	int rc = vu_handle(&h->d, &m, &r);
	h->light = false;
	h->quiescing = false;
	tell_base(p);
	resync(p);
	if (rc < 0)
		return -1;
	if (rc == 1 && send_msg(h->cfd, &r) < 0)
		return -1;
	return cost;
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
		munmap(h->txbuf, VHU_TXBUF);
	free(h);
	p->priv = NULL;
}

static int vhu_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	if (nargs < 1) {
		snprintf(err, errlen, "vhost-user: expected 'vhost-user SOCKPATH "
			 "[targeted on|off] [offloads on|off] [client]'");
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
	h->offloads = VHU_OFFLOADS_DEFAULT;
	atomic_store_explicit(&p->peer_gone, true, memory_order_release); /* no guest yet */
	for (int i = 1; i < nargs; i++) {
		bool onoff = i + 1 < nargs &&
			     (strcmp(args[i + 1], "on") == 0 || strcmp(args[i + 1], "off") == 0);
		if (strcmp(args[i], "targeted") == 0 && onoff) {
			h->targeted = strcmp(args[++i], "on") == 0;
		} else if (strcmp(args[i], "offloads") == 0 && onoff) {
			h->offloads = strcmp(args[++i], "on") == 0;
		} else if (strcmp(args[i], "client") == 0) {
			h->client = true;
		} else {
			snprintf(err, errlen, "vhost-user: unknown option '%s' (expected "
				 "'targeted on|off', 'offloads on|off' or 'client')", args[i]);
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
	if (h->offloads)
		h->d.offer |= vu_offload_features();
	h->nqp = p->nqueues ? p->nqueues : 1;
	h->d.max_qp = h->nqp;
	/* from the guest: a frame (jumbo at most; a super-frame once it
	 * negotiates segmentation: resync) in the port's buffer; to it: what
	 * its buffers hold (VHU_MRG_MAX of them when mergeable): the guest
	 * decides, the port cannot tell (0).  No offloads before the guest
	 * negotiates them. */
	p->caps = (struct port_caps){ .max_frame_in = VHU_FRAME, .max_frame_out = 0 };
	h->spread = 1;
	h->txbuf = mmap(NULL, VHU_TXBUF, PROT_READ | PROT_WRITE,
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
		vhu_take_back(p, false);
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
	vhu_refill(p);
	return PORT_SERVICE_OK;
}

void vhu_rarp_frame(const uint8_t mac[6], uint8_t *out)
{
	static const uint8_t rarp[8] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03 };
	memset(out, 0, VHU_RARP_LEN);
	memset(out, 0xff, 6);          /* to everyone */
	memcpy(out + 6, mac, 6);
	out[12] = 0x80;                /* RARP */
	out[13] = 0x35;
	memcpy(out + 14, rarp, 8);     /* Ethernet, IPv4, 6 and 4 bytes, request reverse */
	memcpy(out + 22, mac, 6);      /* sender: mac, 0.0.0.0 */
	memcpy(out + 32, mac, 6);      /* target: mac, 0.0.0.0 */
}

/* The guest's frames of pair `pair` (vhost_user_input.c), the
 * announcement SEND_RARP asked for first (pair 0): it enters the switch as
 * the guest's own frame (anti-spoofing, the vif's VLAN, floods). */
static unsigned vhu_rx_port(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n)
{
	struct vhu *h = p->priv;
	unsigned k = 0;
	if (pair == 0 && n && h->d.rarp_due) {
		h->d.rarp_due = false;
		if (h->cfd >= 0 && !h->d.broken) {
			vhu_rarp_frame(h->d.rarp_mac, h->rarp);
			f[0] = (struct vmdq_frame){ .data = h->rarp, .caplen = VHU_RARP_LEN,
						    .len = VHU_RARP_LEN };
			p->rx_frames++;
			p->rx_bytes += VHU_RARP_LEN;
			k = 1;
		}
	}
	return k + vhu_rx(p, pair, f + k, n - k);
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
	if (h->d.rarp_due)
		return false; /* an announcement to send */
	if (h->client && h->cfd < 0)
		return false; /* service retries the connection every second: no
			       * descriptor announces that, so never cold */
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

_Static_assert(C__COUNT + VU_E__COUNT + VMDQ_OFF_ERR__COUNT - 1 <= PORT_STATUS_MAX,
	       "status counters");

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
	st->migration.shown = true;
	st->migration.logging = vu_log_on(&h->d) != NULL;
	st->migration.log_size = h->d.log.size;
	st->migration.marked = h->d.log.marked;
	st->migration.beyond = h->d.log.beyond;
	/* the guest's frames refused for their virtio-net header */
	port_status_off_refused(st, h->off_err);
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
	snprintf(buf, len, "vhost-user %s on %s, targeted receive %s, offloads %s, %u queue pair%s",
		 h->client ? "client" : "server", h->path, h->targeted ? "on" : "off",
		 h->offloads ? "offered" : "off", h->nqp, h->nqp == 1 ? "" : "s");
}

const struct port_ops port_vhost_user_ops = {
	.kind = "vhost-user", .uplink_ok = false, .vif_ok = true, .max_queues = VU_MAX_QP,
	.open = vhu_open, .close = vhu_close, .rx = vhu_rx_port, .tx = vhu_tx, .fd = vhu_fd,
	.describe = vhu_describe, .service = vhu_service, .idle = vhu_idle,
	.flush = vhu_flush, .targeted = vhu_targeted, .complete = vhu_complete,
	.status = vhu_status,
};
