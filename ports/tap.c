/* SPDX-License-Identifier: MIT */
/*
 * The TAP backend: `tap IFNAME [netns NS]`.  Creates the TAP device (moved
 * into network namespace NS when given: the VM's side lives there) and
 * removes it on close.  The device's MAC and link state are the guest side's
 * business (SPEC 3).
 *
 * I/O goes through io_uring (liburing), so the cost is a syscall per burst,
 * not per frame: TAP_BURST reads stay posted on the TAP's descriptor (the
 * kernel completes them as the guest sends); rx collects the completed ones
 * and posts them again on the next call, with one io_uring_submit.  tx
 * queues one write per frame and submits the burst with one
 * io_uring_submit_and_wait (TAP writes complete inline, so the caller's
 * buffers are free when tx returns).  The worker sleeps on an eventfd the
 * ring signals on completions.
 *
 * Frames the guest sent that the switch did not read in time are dropped by
 * the TAP itself (its queue holds txqueuelen frames); drops() reads that
 * counter through a netlink socket made in the TAP's namespace.
 *
 * Offloads (issue 14).  The TAP is opened with IFF_VNET_HDR: every read
 * and every write starts with a 10-byte virtio-net header (TUNSETVNETHDRSZ
 * 10, little-endian: TUNSETVNETLE).  10, not 12: the 12-byte layout only
 * adds num_buffers, which means something to mergeable receive buffers and
 * nothing to a TAP (one read or write is one frame), and with 10 the frame
 * that follows the header in a receive slot puts its IP header 8-byte
 * aligned.  TUNSETOFFLOAD tells the kernel what it may hand us instead of
 * doing it itself: partial checksums (TUN_F_CSUM), TCP super-frames (TSO4,
 * TSO6, TSO_ECN) and UDP ones (USO4, USO6; kernels before 6.2 refuse them
 * with EINVAL and get the rest).  What the kernel writes in the header
 * comes from the skb the guest side's stack (or a packet socket there)
 * made: it is hostile until vmdq_off_check() accepted it for the frame,
 * and a frame it refused is dropped and counted under the reason
 * (`show vifs -j`: the vif's "guest" counters).  DATA_VALID is kept as
 * CSUM_VALID: the kernel sets it for a CHECKSUM_UNNECESSARY skb, which from
 * a guest side's stack means the frame never left this host's memory (a
 * guest that forges it with its own packet socket can only mislabel its
 * own frames, as it could on a veth).  Writes carry the header built from
 * the frame's offload state: a super-frame goes in whole, a partial
 * checksum stays partial (the guest side's stack completes or never needs
 * it), and a frame whose checksums are complete (CSUM_VALID: segments vmdq
 * made, checksums it completed) is marked DATA_VALID, as virtio says.  The
 * TAP itself does nothing with DATA_VALID (tun_get_user leaves such a
 * frame CHECKSUM_NONE: the guest side's stack verifies it, and counts a
 * wrong checksum as InCsumErrors; checked on Linux 6.18), so the flag
 * costs nothing and promises nothing there.  The kernel takes all of this
 * whatever TUNSETOFFLOAD said (that only bounds what it hands us), so
 * tx_offloads is everything the kernel's virtio-net header parser knows.
 *
 * Closing the TAP's descriptor removes the device, and the kernel waits for
 * several RCU grace periods to do it (17 ms a TAP on the 2-vCPU test
 * machine): 256 TAPs closed one after another take 4.7 s, closed at once
 * 0.5 s.  So close hands the descriptor to a thread of its own (the worker
 * does not wait either); a TAP of the same name opened meanwhile waits for
 * it, and the process waits for every one before it exits (the TAPs are
 * gone when the switch has stopped, SPEC 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "port.h"
#include "vmdq/offload.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20 /* Linux 6.2 */
#define TUN_F_USO6 0x40
#endif

#define TAP_BURST 32
#define TAP_HDR VMDQ_VNET_HDR_LEN
/* a receive slot: the header, then a super-frame at most (a longer read is
 * cut by the kernel, which still says how long it was: dropped) */
#define TAP_SLOT ((TAP_HDR + VMDQ_MAX_SUPER + 63u) & ~63u)

_Static_assert(PORT_OFF_CSUM == VMDQ_OFF_CAP_CSUM && PORT_OFF_TSO4 == VMDQ_OFF_CAP_TSO4 &&
	       PORT_OFF_TSO6 == VMDQ_OFF_CAP_TSO6 && PORT_OFF_USO == VMDQ_OFF_CAP_USO &&
	       PORT_OFF_ECN == VMDQ_OFF_CAP_ECN, "one set of offload bits");

/* what the port counts beyond the frames (status) */
enum { C_RX_GSO, C_RX_PARTIAL, C_TX_GSO, C_TX_PARTIAL, C__COUNT };
static const char *const cnames[C__COUNT] = { "rx-gso", "rx-csum-partial", "tx-gso",
					      "tx-csum-partial" };
_Static_assert(C__COUNT + VMDQ_OFF_ERR__COUNT - 1 <= PORT_STATUS_MAX, "status counters");

struct tap_port {
	int fd;
	int efd;            /* signalled by the ring on completions */
	int nl;             /* netlink socket in the TAP's namespace */
	int ifindex;
	char ifname[IFNAMSIZ];
	char netns[64];
	bool rx_ok, tx_ok;
	struct io_uring rxr, txr; /* reads (with the eventfd), writes */
	uint8_t *buf;       /* TAP_BURST receive slots of TAP_SLOT (port_mem) */
	uint8_t held[TAP_BURST]; /* slots handed out by the last rx */
	unsigned nheld;
	unsigned posted;    /* reads in flight */
	unsigned tun_off;   /* TUN_F_* the kernel accepted */
	uint8_t txh[TAP_BURST][TAP_HDR]; /* a write's header, its frame */
	struct iovec txv[TAP_BURST][2];
	uint64_t c[C__COUNT];
	uint64_t refused[VMDQ_OFF_ERR__COUNT]; /* frames dropped, by reason */
};

/* ---- descriptors closed by threads of their own ----------------------- */

struct tap_closing {
	struct tap_closing *next;
	int fd;
	char ifname[IFNAMSIZ];
	char netns[64];
};

static pthread_mutex_t closing_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t closing_cv = PTHREAD_COND_INITIALIZER;
static struct tap_closing *closing; /* under closing_mu */

/* c out of the list and freed (before anyone waiting for it goes on) */
static void closing_drop(struct tap_closing *c)
{
	pthread_mutex_lock(&closing_mu);
	for (struct tap_closing **p = &closing; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	free(c);
	pthread_cond_broadcast(&closing_cv);
	pthread_mutex_unlock(&closing_mu);
}

static void *close_thread(void *arg)
{
	struct tap_closing *c = arg;
	close(c->fd); /* the device goes: grace periods */
	closing_drop(c);
	return NULL;
}

/* Closes fd (the TAP ifname in netns) in a thread of its own; here if no
 * thread can be made. */
static void close_later(int fd, const char *ifname, const char *netns)
{
	struct tap_closing *c = malloc(sizeof(*c));
	pthread_attr_t a;
	if (c && pthread_attr_init(&a) == 0) {
		c->fd = fd;
		snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
		snprintf(c->netns, sizeof(c->netns), "%s", netns);
		pthread_mutex_lock(&closing_mu);
		c->next = closing;
		closing = c;
		pthread_mutex_unlock(&closing_mu);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&a, 64 << 10);
		pthread_t th;
		int rc = pthread_create(&th, &a, close_thread, c);
		pthread_attr_destroy(&a);
		if (rc == 0)
			return;
		closing_drop(c);
		c = NULL;
	}
	free(c);
	close(fd);
}

/* Waits until no TAP named ifname in netns is being closed (ifname NULL:
 * no TAP at all). */
static void wait_closed(const char *ifname, const char *netns)
{
	pthread_mutex_lock(&closing_mu);
	for (;;) {
		bool busy = false;
		for (struct tap_closing *c = closing; c && !busy; c = c->next)
			busy = !ifname || (strcmp(c->ifname, ifname) == 0 &&
					   strcmp(c->netns, netns) == 0);
		if (!busy)
			break;
		pthread_cond_wait(&closing_cv, &closing_mu);
	}
	pthread_mutex_unlock(&closing_mu);
}

/* At exit: every TAP closed is gone. */
__attribute__((destructor)) static void tap_closes_done(void)
{
	wait_closed(NULL, NULL);
}

/* ---- the port ---------------------------------------------------------- */

/* Runs fn in namespace ns (by name, /run/netns/NS), then comes back. */
static int in_netns(const char *ns, int (*fn)(void *), void *arg)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	int rc;
	if (self < 0 || target < 0) {
		rc = -errno;
		goto out;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		rc = -errno;
		goto out;
	}
	rc = fn(arg);
	if (setns(self, CLONE_NEWNET) < 0)
		rc = -errno;
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return rc;
}

static int tap_create(void *arg)
{
	struct tap_port *t = arg;
	/* blocking: io_uring arms its own poll on the descriptor */
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->ifname);
	int hsz = TAP_HDR, le = 1;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hsz) < 0 ||
	    ioctl(fd, TUNSETVNETLE, &le) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* what the kernel may hand us; USO only where it has it */
	unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	if (ioctl(fd, TUNSETOFFLOAD, off | TUN_F_USO4 | TUN_F_USO6) == 0) {
		off |= TUN_F_USO4 | TUN_F_USO6;
	} else if (errno != EINVAL || ioctl(fd, TUNSETOFFLOAD, off) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	t->tun_off = off;
	t->fd = fd;
	/* bound to the namespace it is made in: the TAP's */
	t->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (t->nl >= 0 && ioctl(t->nl, SIOCGIFINDEX, &ifr) == 0)
		t->ifindex = ifr.ifr_ifindex;
	return 0;
}

/* The posted reads cancelled and reaped (100 ms at most): a read in flight
 * holds the TAP's file, and a ring torn down with reads in it lets the
 * kernel's ring teardown drop the last reference, one TAP after another,
 * while the exiting process waits for it; cancelled here, the descriptor's
 * close is the last reference, made by close_later's thread. */
static void cancel_reads(struct tap_port *t)
{
	struct io_uring_sqe *sqe = t->posted ? io_uring_get_sqe(&t->rxr) : NULL;
	if (!sqe)
		return;
	io_uring_prep_cancel_fd(sqe, t->fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, UINT64_MAX);
	if (io_uring_submit(&t->rxr) != 1)
		return;
	bool cancelled = false;
	struct __kernel_timespec ts = { .tv_nsec = 100000000 };
	while (t->posted || !cancelled) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe_timeout(&t->rxr, &cqe, &ts) < 0)
			break;
		if (cqe->user_data == UINT64_MAX) {
			cancelled = true;
			if (cqe->res < 0 && cqe->res != -ENOENT)
				t->posted = 0; /* no cancel by descriptor here: as before */
		} else if (t->posted) {
			t->posted--;
		}
		io_uring_cqe_seen(&t->rxr, cqe);
	}
}

static void tap_close(struct port *p)
{
	struct tap_port *t = p->priv;
	if (!t)
		return;
	if (t->rx_ok && t->fd >= 0)
		cancel_reads(t);
	if (t->rx_ok)
		io_uring_queue_exit(&t->rxr); /* cancels what is left */
	if (t->tx_ok)
		io_uring_queue_exit(&t->txr);
	if (t->fd >= 0) /* a non-persistent TAP disappears with its fd */
		close_later(t->fd, t->ifname, t->netns);
	if (t->efd >= 0)
		close(t->efd);
	if (t->nl >= 0)
		close(t->nl);
	port_unmem(t->buf, (size_t)TAP_BURST * TAP_SLOT);
	free(t);
	p->priv = NULL;
}

static int tap_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	if (nargs != 1 && !(nargs == 3 && strcmp(args[1], "netns") == 0)) {
		snprintf(err, errlen, "tap: expected 'tap IFNAME [netns NS]'");
		return -EINVAL;
	}
	if (strlen(args[0]) >= IFNAMSIZ || !args[0][0]) {
		snprintf(err, errlen, "tap: '%s' is not a valid interface name", args[0]);
		return -EINVAL;
	}
	struct tap_port *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	p->priv = t;
	t->fd = t->efd = t->nl = -1;
	snprintf(t->ifname, sizeof(t->ifname), "%s", args[0]);
	t->buf = port_mem((size_t)TAP_BURST * TAP_SLOT); /* pages as frames land */
	if (!t->buf)
		return -ENOMEM;
	int rc;
	if (nargs == 3)
		snprintf(t->netns, sizeof(t->netns), "%s", args[2]);
	wait_closed(t->ifname, t->netns); /* a TAP of that name still going */
	if (nargs == 3) {
		rc = in_netns(t->netns, tap_create, t);
	} else {
		rc = tap_create(t);
	}
	if (rc < 0) {
		snprintf(err, errlen, "tap %s%s%s: %s", t->ifname, nargs == 3 ? " in netns " : "",
			 nargs == 3 ? t->netns : "", strerror(-rc));
		return rc;
	}
	rc = io_uring_queue_init(TAP_BURST, &t->rxr, 0);
	t->rx_ok = rc == 0;
	if (rc == 0) {
		rc = io_uring_queue_init(TAP_BURST, &t->txr, 0);
		t->tx_ok = rc == 0;
	}
	if (rc < 0) {
		snprintf(err, errlen, "tap %s: io_uring: %s", t->ifname, strerror(-rc));
		return rc;
	}
	t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->efd < 0 || io_uring_register_eventfd(&t->rxr, t->efd) < 0) {
		snprintf(err, errlen, "tap %s: eventfd: %s", t->ifname, strerror(errno));
		return -errno;
	}
	for (unsigned i = 0; i < TAP_BURST; i++)
		t->held[t->nheld++] = (uint8_t)i;
	/* one read or write per frame, a super-frame at most: the kernel's
	 * skb takes that much, and a TAP has no wire to bound it */
	uint32_t rx_off = PORT_OFF_CSUM | PORT_OFF_TSO4 | PORT_OFF_TSO6 | PORT_OFF_ECN;
	uint32_t tx_off = rx_off;
	if (t->tun_off & TUN_F_USO4) {
		/* the kernel that hands UDP super-frames takes them too */
		rx_off |= PORT_OFF_USO;
		tx_off |= PORT_OFF_USO;
	}
	p->caps = (struct port_caps){ .max_frame_in = VMDQ_MAX_SUPER,
				      .max_frame_out = VMDQ_MAX_SUPER,
				      .rx_offloads = rx_off, .tx_offloads = tx_off };
	return 0;
}

/* Posts a read for every slot handed out before; one submit. */
static void post_reads(struct tap_port *t)
{
	unsigned n = 0;
	while (t->nheld) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&t->rxr);
		if (!sqe)
			break;
		unsigned slot = t->held[--t->nheld];
		io_uring_prep_read(sqe, t->fd, t->buf + (size_t)slot * TAP_SLOT, TAP_SLOT, 0);
		io_uring_sqe_set_data64(sqe, slot);
		n++;
	}
	if (n) {
		io_uring_submit(&t->rxr);
		t->posted += n;
	}
}

/* A read of r bytes into slot s (the header, then the frame) as frame f:
 * false if it is to be dropped (counted under its reason). */
static bool rx_frame(struct port *p, struct tap_port *t, uint8_t *s, int r,
		     struct vmdq_frame *f)
{
	enum vmdq_off_err e;
	struct vmdq_offload o;
	uint32_t len = (uint32_t)r - TAP_HDR;
	if ((uint32_t)r > TAP_SLOT) {
		e = VMDQ_OFF_ERR_SUPER_LONG; /* cut by the kernel to the slot */
	} else if ((uint32_t)r < TAP_HDR) {
		e = VMDQ_OFF_ERR_VNET_SHORT;
	} else if ((e = vmdq_vnet_hdr_parse(s, TAP_HDR, &o)) == VMDQ_OFF_ERR_NONE) {
		if (vmdq_off_needs(&o) & ~p->caps.rx_offloads)
			e = VMDQ_OFF_ERR_NOT_NEGOTIATED;
		else if (o.gso_type && (o.flags & (VMDQ_OFF_CSUM_PARTIAL | VMDQ_OFF_CSUM_VALID)) ==
						VMDQ_OFF_CSUM_VALID)
			/* verified, not partial (an LRO frame forwarded to
			 * the TAP): the usual form first */
			e = vmdq_off_gso_partial(s + TAP_HDR, len, &o);
		if (e == VMDQ_OFF_ERR_NONE)
			e = vmdq_off_check(s + TAP_HDR, len, &o);
	}
	if (e != VMDQ_OFF_ERR_NONE) {
		t->refused[e]++;
		return false;
	}
	*f = (struct vmdq_frame){ .data = s + TAP_HDR, .caplen = len, .len = len, .off = o };
	t->c[C_RX_GSO] += o.gso_type != VMDQ_GSO_NONE;
	t->c[C_RX_PARTIAL] += (o.flags & VMDQ_OFF_CSUM_PARTIAL) != 0;
	p->rx_frames++;
	p->rx_bytes += len;
	return true;
}

static unsigned tap_rx(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n)
{
	(void)pair; /* one pair */
	struct tap_port *t = p->priv;
	post_reads(t); /* the previous burst's slots are free again */
	if (n > TAP_BURST)
		n = TAP_BURST;
	struct io_uring_cqe *cqe[TAP_BURST];
	unsigned c = io_uring_peek_batch_cqe(&t->rxr, cqe, n);
	if (!c) {
		/* about to look idle: re-arm the eventfd, then look once more
		 * (a completion after the reset signals it again) */
		uint64_t v;
		if (read(t->efd, &v, sizeof(v)) < 0) {
			/* EAGAIN: nothing was signalled */
		}
		c = io_uring_peek_batch_cqe(&t->rxr, cqe, n);
	}
	unsigned got = 0;
	for (unsigned i = 0; i < c; i++) {
		unsigned slot = (unsigned)io_uring_cqe_get_data64(cqe[i]);
		int r = cqe[i]->res;
		t->posted--;
		t->held[t->nheld++] = (uint8_t)slot;
		if (r <= 0)
			continue; /* an error on the descriptor: the read is posted again */
		got += rx_frame(p, t, t->buf + (size_t)slot * TAP_SLOT, r, &f[got]);
	}
	io_uring_cq_advance(&t->rxr, c);
	return got;
}

/* Sends the burst: one write per frame (its header, then the frame), one
 * submit for all, then the completions (TAP writes complete inline: the
 * wait costs nothing, and the headers and the caller's frames are free when
 * it returns). */
static unsigned tap_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct tap_port *t = p->priv;
	unsigned sent = 0;
	while (n) {
		unsigned k = n < TAP_BURST ? n : TAP_BURST, q = 0;
		for (unsigned i = 0; i < k; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&t->txr);
			if (!sqe)
				break;
			uint32_t len = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
			if (vmdq_vnet_hdr_build(&f[i].off, t->txh[q], TAP_HDR) < 0) {
				/* an unknown gso_type: the switch gives none */
				memset(t->txh[q], 0, TAP_HDR);
			}
			t->txv[q][0] = (struct iovec){ t->txh[q], TAP_HDR };
			t->txv[q][1] = (struct iovec){ (void *)f[i].data, len };
			io_uring_prep_writev(sqe, t->fd, t->txv[q], 2, 0);
			/* what a whole write returns; which offload it carried */
			io_uring_sqe_set_data64(sqe, (uint64_t)len << 8 |
						(f[i].off.gso_type ? 1u : 0) |
						(f[i].off.flags & VMDQ_OFF_CSUM_PARTIAL ? 2u : 0));
			q++;
		}
		if (io_uring_submit_and_wait(&t->txr, q) < 0) {
			/* nothing was submitted: the burst is refused */
			io_uring_cq_advance(&t->txr, 0);
		}
		for (unsigned i = 0; i < q; i++) {
			struct io_uring_cqe *cqe;
			if (io_uring_wait_cqe(&t->txr, &cqe) < 0)
				break;
			uint64_t d = io_uring_cqe_get_data64(cqe), len = d >> 8;
			if (cqe->res >= 0 && (uint64_t)cqe->res == len + TAP_HDR) {
				sent++;
				p->tx_frames++;
				p->tx_bytes += len;
				t->c[C_TX_GSO] += d & 1;
				t->c[C_TX_PARTIAL] += (d >> 1) & 1;
			} else {
				p->tx_errors++; /* EIO: the guest side is down */
			}
			io_uring_cqe_seen(&t->txr, cqe);
		}
		f += k;
		n -= k;
	}
	return sent;
}

static int tap_fd(struct port *p)
{
	struct tap_port *t = p->priv;
	return t->efd;
}

/* The TAP's own tx_dropped: frames from the guest its queue had no room
 * for.  Asked of the kernel over netlink (control path only). */
static uint64_t tap_drops(struct port *p)
{
	struct tap_port *t = p->priv;
	if (t->nl < 0 || !t->ifindex)
		return 0;
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = t->ifindex },
	};
	if (send(t->nl, &req, sizeof(req), 0) < 0)
		return 0;
	static uint8_t buf[16384];
	ssize_t r = recv(t->nl, buf, sizeof(buf), 0);
	if (r < (ssize_t)NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(nh, (size_t)r) || nh->nlmsg_type != RTM_NEWLINK)
		return 0;
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(struct ifinfomsg));
	for (struct rtattr *a = IFLA_RTA(NLMSG_DATA(nh)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_STATS64 &&
		    RTA_PAYLOAD(a) >= sizeof(struct rtnl_link_stats64)) {
			struct rtnl_link_stats64 st;
			memcpy(&st, RTA_DATA(a), sizeof(st));
			return st.tx_dropped;
		}
	}
	return 0;
}

/* The guest side's link ("running" once it is up, "waiting" before), the
 * offloads that crossed and the frames refused, by reason. */
static void tap_status(struct port *p, struct port_status *st)
{
	struct tap_port *t = p->priv;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->ifname);
	bool up = t->nl >= 0 && ioctl(t->nl, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
	st->state = up ? "running" : "waiting";
	st->ring = NULL;
	unsigned n = 0;
	for (unsigned i = 0; i < C__COUNT; i++) {
		st->names[n] = cnames[i];
		st->vals[n++] = t->c[i];
	}
	st->n = n;
	port_status_off_refused(st, t->refused);
}

static void tap_describe(struct port *p, char *buf, size_t len)
{
	struct tap_port *t = p->priv;
	snprintf(buf, len, "tap %s%s%s, offloads from the kernel: csum tso4 tso6 ecn%s", t->ifname,
		 t->netns[0] ? " in netns " : "", t->netns,
		 (t->tun_off & TUN_F_USO4) ? " uso4 uso6" : " (no uso: kernel before 6.2)");
}

const struct port_ops port_tap_ops = {
	.kind = "tap", .uplink_ok = false, .vif_ok = true,
	.open = tap_open, .close = tap_close, .rx = tap_rx, .tx = tap_tx,
	.fd = tap_fd, .done = NULL, .drops = tap_drops, .describe = tap_describe,
	.status = tap_status,
};
