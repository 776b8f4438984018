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
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <liburing.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port.h"

#define TAP_BURST 32
#define TAP_BUF 65536

struct tap_port {
	int fd;
	int efd;            /* signalled by the ring on completions */
	int nl;             /* netlink socket in the TAP's namespace */
	int ifindex;
	char ifname[IFNAMSIZ];
	char netns[64];
	bool rx_ok, tx_ok;
	struct io_uring rxr, txr; /* reads (with the eventfd), writes */
	uint8_t *buf;       /* TAP_BURST receive slots of TAP_BUF */
	uint8_t held[TAP_BURST]; /* slots handed out by the last rx */
	unsigned nheld;
	unsigned posted;    /* reads in flight */
};

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
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	t->fd = fd;
	/* bound to the namespace it is made in: the TAP's */
	t->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (t->nl >= 0 && ioctl(t->nl, SIOCGIFINDEX, &ifr) == 0)
		t->ifindex = ifr.ifr_ifindex;
	return 0;
}

static void tap_close(struct port *p)
{
	struct tap_port *t = p->priv;
	if (!t)
		return;
	if (t->rx_ok)
		io_uring_queue_exit(&t->rxr); /* cancels the posted reads */
	if (t->tx_ok)
		io_uring_queue_exit(&t->txr);
	if (t->fd >= 0)
		close(t->fd); /* a non-persistent TAP disappears with its fd */
	if (t->efd >= 0)
		close(t->efd);
	if (t->nl >= 0)
		close(t->nl);
	free(t->buf);
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
	t->buf = malloc((size_t)TAP_BURST * TAP_BUF);
	if (!t->buf)
		return -ENOMEM;
	int rc;
	if (nargs == 3) {
		snprintf(t->netns, sizeof(t->netns), "%s", args[2]);
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
	/* one read or write per frame: the TAP takes what the kernel's skb takes */
	p->caps = (struct port_caps){ .max_frame_in = TAP_BUF, .max_frame_out = TAP_BUF - 1 };
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
		io_uring_prep_read(sqe, t->fd, t->buf + (size_t)slot * TAP_BUF, TAP_BUF, 0);
		io_uring_sqe_set_data64(sqe, slot);
		n++;
	}
	if (n) {
		io_uring_submit(&t->rxr);
		t->posted += n;
	}
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
		f[got++] = (struct vmdq_frame){ .data = t->buf + (size_t)slot * TAP_BUF,
						.caplen = (uint32_t)r, .len = (uint32_t)r };
		p->rx_frames++;
		p->rx_bytes += (uint64_t)r;
	}
	io_uring_cq_advance(&t->rxr, c);
	return got;
}

/* Sends the burst: one write per frame, one submit for all, then the
 * completions (TAP writes complete inline: the wait costs nothing). */
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
			io_uring_prep_write(sqe, t->fd, f[i].data, len, 0);
			io_uring_sqe_set_data64(sqe, len);
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
			uint64_t len = io_uring_cqe_get_data64(cqe);
			if (cqe->res >= 0 && (uint64_t)cqe->res == len) {
				sent++;
				p->tx_frames++;
				p->tx_bytes += len;
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

const struct port_ops port_tap_ops = {
	.kind = "tap", .uplink_ok = false, .vif_ok = true,
	.open = tap_open, .close = tap_close, .rx = tap_rx, .tx = tap_tx,
	.fd = tap_fd, .done = NULL, .drops = tap_drops,
};
