/* SPDX-License-Identifier: MIT */
/*
 * The AF_PACKET backend: `afpacket IFNAME`, on any interface: an uplink, or
 * a vif on the host end of a container's veth pair.
 *
 * Receive through a TPACKET_V3 ring (the kernel fills blocks of frames; one
 * block is handed back per burst, no syscall per frame).  The kernel strips
 * VLAN tags into the frame's metadata: they are put back, so the device sees
 * the frame as it was on the wire.  Transmit with sendmmsg, one call per
 * burst.  The interface is put in promiscuous mode (the transparent switch of
 * WP 3.1) and frames the switch itself sends are not received back.
 *
 * Offloads: TCP over veth arrives as GSO super-frames; they are larger than
 * max-frame and are dropped as oversize by the device.  Turn GSO/GRO/TSO off
 * on the uplink (ethtool -K IF gro off gso off tso off) until the backend
 * segments them itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port.h"

#define BLOCK_SIZE (1u << 20)
#define BLOCK_NR 64 /* a block per ms at low rates: 64 ms of slack */
#define FRAME_SIZE 2048
#define AFP_BURST 32
#define COPY_SIZE 65536 + 8

struct afp {
	int fd;
	int ifindex;
	uint8_t *ring;
	unsigned cur;                    /* block being read */
	struct tpacket_block_desc *held; /* block handed out, released next rx */
	uint32_t left;                   /* frames left in the current block */
	struct tpacket3_hdr *next;       /* next frame in it */
	uint8_t *copy;                   /* AFP_BURST frames re-tagged */
	uint64_t kdrops;                 /* the kernel's drops, accumulated */
};

static void afp_close(struct port *p)
{
	struct afp *a = p->priv;
	if (!a)
		return;
	if (a->ring)
		munmap(a->ring, (size_t)BLOCK_SIZE * BLOCK_NR);
	if (a->fd >= 0)
		close(a->fd); /* drops the promiscuous membership too */
	free(a->copy);
	free(a);
	p->priv = NULL;
}

static int afp_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	if (nargs != 1) {
		snprintf(err, errlen, "afpacket: expected 'afpacket IFNAME'");
		return -EINVAL;
	}
	struct afp *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	p->priv = a;
	a->fd = -1;
	a->copy = malloc((size_t)AFP_BURST * COPY_SIZE);
	a->ifindex = (int)if_nametoindex(args[0]);
	if (!a->copy)
		return -ENOMEM;
	if (!a->ifindex) {
		snprintf(err, errlen, "afpacket %s: no such interface", args[0]);
		return -ENODEV;
	}
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (a->fd < 0)
		goto fail;
	int v = TPACKET_V3;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0)
		goto fail;
	struct tpacket_req3 req = {
		.tp_block_size = BLOCK_SIZE, .tp_block_nr = BLOCK_NR,
		.tp_frame_size = FRAME_SIZE,
		.tp_frame_nr = (BLOCK_SIZE / FRAME_SIZE) * BLOCK_NR,
		.tp_retire_blk_tov = 1, /* ms: a partly filled block is handed over soon */
	};
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		goto fail;
	a->ring = mmap(NULL, (size_t)BLOCK_SIZE * BLOCK_NR, PROT_READ | PROT_WRITE,
		       MAP_SHARED, a->fd, 0);
	if (a->ring == MAP_FAILED) {
		a->ring = NULL;
		goto fail;
	}
	v = 1;
	/* not fatal on old kernels: our own frames would then come back and
	 * be sorted like others (the FDB refuses to learn vif MACs there) */
	setsockopt(a->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof(v));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = a->ifindex };
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	struct packet_mreq mr = { .mr_ifindex = a->ifindex, .mr_type = PACKET_MR_PROMISC };
	if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		goto fail;
	/* a frame is cut at the ring's frame size less the headers; the link's
	 * MTU bounds what it sends */
	p->caps = (struct port_caps){ .max_frame_in = COPY_SIZE - 8,
				      .max_frame_out = port_link_frame_max(args[0]) };
	return 0;
fail:
	snprintf(err, errlen, "afpacket %s: %s%s", args[0], strerror(errno),
		 errno == EPERM ? " (needs CAP_NET_RAW)" : "");
	return -errno;
}

static void release_held(struct afp *a)
{
	if (a->held) {
		/* hand the block back to the kernel */
		__atomic_store_n(&a->held->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		a->held = NULL;
	}
}

static unsigned afp_rx(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n)
{
	(void)pair; /* one pair */
	struct afp *a = p->priv;
	unsigned got = 0;
	if (n > AFP_BURST)
		n = AFP_BURST;
	if (!a->left)
		release_held(a);
	while (got < n) {
		if (!a->left) {
			if (a->held)
				break; /* this burst has the rest of a block: next call */
			struct tpacket_block_desc *bd =
				(void *)(a->ring + (size_t)a->cur * BLOCK_SIZE);
			if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
			      TP_STATUS_USER))
				break;
			a->held = bd;
			a->left = bd->hdr.bh1.num_pkts;
			a->next = (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
			a->cur = (a->cur + 1) % BLOCK_NR;
			if (!a->left)
				continue;
		}
		struct tpacket3_hdr *h = a->next;
		uint8_t *data = (uint8_t *)h + h->tp_mac;
		uint32_t cap = h->tp_snaplen, len = h->tp_len;
		if ((h->tp_status & TP_STATUS_VLAN_VALID) && cap >= 12 && cap + 4 <= COPY_SIZE) {
			/* put the stripped tag back where it was */
			uint8_t *c = a->copy + (size_t)got * COPY_SIZE;
			uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID)
				? h->hv1.tp_vlan_tpid : 0x8100;
			uint16_t tci = h->hv1.tp_vlan_tci;
			memcpy(c, data, 12);
			c[12] = (uint8_t)(tpid >> 8);
			c[13] = (uint8_t)tpid;
			c[14] = (uint8_t)(tci >> 8);
			c[15] = (uint8_t)tci;
			memcpy(c + 16, data + 12, cap - 12);
			data = c;
			cap += 4;
			len += 4;
		}
		f[got] = (struct vmdq_frame){ .data = data, .caplen = cap, .len = len,
					      .ts_ns = (uint64_t)h->tp_sec * 1000000000ull +
						       h->tp_nsec };
		p->rx_frames++;
		p->rx_bytes += len;
		got++;
		a->left--;
		a->next = (void *)((uint8_t *)h + h->tp_next_offset);
	}
	return got;
}

static unsigned afp_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct afp *a = p->priv;
	struct mmsghdr m[AFP_BURST];
	struct iovec iov[AFP_BURST];
	unsigned done = 0;
	while (done < n) {
		unsigned k = n - done < AFP_BURST ? n - done : AFP_BURST;
		for (unsigned i = 0; i < k; i++) {
			const struct vmdq_frame *x = &f[done + i];
			iov[i] = (struct iovec){ .iov_base = (void *)x->data,
						 .iov_len = x->caplen < x->len ? x->caplen : x->len };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		int r = sendmmsg(a->fd, m, k, 0);
		if (r <= 0) {
			if (r < 0 && errno == EAGAIN) {
				/* the device queue is full: wait for room, once */
				struct pollfd pfd = { .fd = a->fd, .events = POLLOUT };
				if (poll(&pfd, 1, 10) == 1)
					continue;
			}
			p->tx_errors++;
			break;
		}
		for (int i = 0; i < r; i++) {
			p->tx_frames++;
			p->tx_bytes += iov[i].iov_len;
		}
		done += (unsigned)r;
	}
	return done;
}

static uint64_t afp_drops(struct port *p)
{
	struct afp *a = p->priv;
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);
	/* reading the statistics resets them: accumulate */
	if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		a->kdrops += st.tp_drops;
	return a->kdrops;
}

static int afp_fd(struct port *p)
{
	struct afp *a = p->priv;
	return a->fd;
}

const struct port_ops port_afpacket_ops = {
	.kind = "afpacket", .uplink_ok = true, .vif_ok = true,
	.open = afp_open, .close = afp_close, .rx = afp_rx, .tx = afp_tx,
	.fd = afp_fd, .done = NULL, .drops = afp_drops,
};
