/* SPDX-License-Identifier: MIT */
/*
 * The TAP backend: `tap IFNAME [netns NS]`.  Creates the TAP device (moved
 * into network namespace NS when given: the VM's side lives there) and
 * removes it on close.  The device's MAC and link state are the guest side's
 * business (SPEC 3).
 *
 * I/O is one read()/write() per frame for now; batching (io_uring) is the
 * next step for this backend.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port.h"

#define TAP_BURST 32
#define TAP_BUF 65536

struct tap_port {
	int fd;
	char ifname[IFNAMSIZ];
	char netns[64];
	uint8_t *buf; /* TAP_BURST frames of TAP_BUF */
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
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
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
	return 0;
}

static void tap_close(struct port *p)
{
	struct tap_port *t = p->priv;
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd); /* a non-persistent TAP disappears with its fd */
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
	t->fd = -1;
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
	return 0;
}

static unsigned tap_rx(struct port *p, struct vmdq_frame *f, unsigned n)
{
	struct tap_port *t = p->priv;
	unsigned got = 0;
	if (n > TAP_BURST)
		n = TAP_BURST;
	while (got < n) {
		uint8_t *b = t->buf + (size_t)got * TAP_BUF;
		ssize_t r = read(t->fd, b, TAP_BUF);
		if (r <= 0)
			break;
		f[got] = (struct vmdq_frame){ .data = b, .caplen = (uint32_t)r,
					      .len = (uint32_t)r };
		p->rx_frames++;
		p->rx_bytes += (uint64_t)r;
		got++;
	}
	return got;
}

static unsigned tap_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct tap_port *t = p->priv;
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		ssize_t w = write(t->fd, f[i].data, len);
		if (w != (ssize_t)len) {
			/* EIO: the guest side is down; the frame is dropped */
			p->tx_errors++;
			return i;
		}
		p->tx_frames++;
		p->tx_bytes += len;
	}
	return n;
}

static int tap_fd(struct port *p)
{
	struct tap_port *t = p->priv;
	return t->fd;
}

const struct port_ops port_tap_ops = {
	.kind = "tap", .uplink_ok = false, .vif_ok = true,
	.open = tap_open, .close = tap_close, .rx = tap_rx, .tx = tap_tx,
	.fd = tap_fd, .done = NULL,
};
