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
 * Offloads (issue 14): the socket has PACKET_VNET_HDR, so every frame in
 * the ring has a 10-byte virtio-net header in front of it (the kernel
 * writes it at tp_mac - 10: tpacket_rcv supports it with TPACKET_V3 as
 * with the other versions; it must be asked for before the ring is made)
 * and every frame sent starts with one.  What the kernel hands a packet
 * socket is the skb as it is: a TCP super-frame from a veth peer's TSO or
 * from a NIC's GRO, a partial checksum from a local sender.  The header
 * says so, and the frame is received whole (a block of the ring holds 1 MiB
 * and the ring cuts nothing shorter than that).  Nothing is negotiated: the
 * kernel drops (and counts in tp_drops) an skb whose GSO type the header
 * cannot express (a tunnel's), and everything else comes with its header,
 * which is hostile until vmdq_off_check() accepted it (a refused frame is
 * dropped and counted under the reason: `show vifs -j`, "guest").  A tag
 * the kernel stripped is put back and the header's offsets moved with it.
 * A super-frame whose checksums a NIC verified (LRO, hardware GRO: GSO
 * with DATA_VALID, no partial checksum) is turned into the usual partial
 * form in the ring (vmdq_off_gso_partial) before the check.
 * Sending, the header is built from the frame's offload state: the kernel
 * segments a super-frame (or hands it whole to a device that takes TSO: a
 * veth takes it from a local socket, but one from a packet socket is
 * marked untrusted and a veth, lacking GSO_ROBUST, segments it on
 * transmit) and completes a partial checksum where the device cannot.  No
 * offload is turned on or off on the interface.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
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
#include "vmdq/offload.h"

#define BLOCK_SIZE (1u << 20)
#define BLOCK_NR 64 /* a block per ms at low rates: 64 ms of slack */
#define FRAME_SIZE 2048
#define AFP_BURST 32
#define AFP_HDR VMDQ_VNET_HDR_LEN
#define COPY_SIZE VMDQ_MAX_SUPER /* a frame with its tag put back */

_Static_assert(PORT_OFF_CSUM == VMDQ_OFF_CAP_CSUM && PORT_OFF_TSO4 == VMDQ_OFF_CAP_TSO4 &&
	       PORT_OFF_TSO6 == VMDQ_OFF_CAP_TSO6 && PORT_OFF_USO == VMDQ_OFF_CAP_USO &&
	       PORT_OFF_ECN == VMDQ_OFF_CAP_ECN, "one set of offload bits");

/* what the port counts beyond the frames (status) */
enum { C_RX_GSO, C_RX_PARTIAL, C_TX_GSO, C_TX_PARTIAL, C__COUNT };
static const char *const cnames[C__COUNT] = { "rx-gso", "rx-csum-partial", "tx-gso",
					      "tx-csum-partial" };
_Static_assert(C__COUNT + VMDQ_OFF_ERR__COUNT - 1 <= PORT_STATUS_MAX, "status counters");

struct afp {
	int fd;
	int plain;                       /* send-only, no virtio-net header: ordinary frames */
	int ifindex;
	uint8_t *ring;
	unsigned cur;                    /* block being read */
	struct tpacket_block_desc *held; /* block handed out, released next rx */
	uint32_t left;                   /* frames left in the current block */
	struct tpacket3_hdr *next;       /* next frame in it */
	uint8_t *copy;                   /* AFP_BURST frames re-tagged */
	uint64_t kdrops;                 /* the kernel's drops, accumulated */
	uint8_t txh[AFP_BURST][AFP_HDR]; /* a message's header, its frame */
	struct iovec txv[AFP_BURST][2];
	uint64_t c[C__COUNT];
	uint64_t refused[VMDQ_OFF_ERR__COUNT]; /* frames dropped, by reason */
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
	if (a->plain >= 0)
		close(a->plain);
	port_unmem(a->copy, (size_t)AFP_BURST * COPY_SIZE);
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
	a->fd = a->plain = -1;
	a->copy = port_mem((size_t)AFP_BURST * COPY_SIZE); /* pages as frames need them */
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
	v = 1; /* before the ring: the kernel refuses it after (EBUSY) */
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VNET_HDR, &v, sizeof(v)) < 0)
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
	/* ordinary frames (no GSO, no partial checksum: their header would be
	 * all zeros but DATA_VALID, which the kernel ignores on transmit) leave
	 * through a second socket without PACKET_VNET_HDR, as one iovec: the
	 * kernel's header copy and parse per message are skipped.  Protocol 0:
	 * it receives nothing. */
	a->plain = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->plain < 0)
		goto fail;
	struct sockaddr_ll sp = { .sll_family = AF_PACKET, .sll_ifindex = a->ifindex };
	if (bind(a->plain, (struct sockaddr *)&sp, sizeof(sp)) < 0)
		goto fail;
	/* a super-frame whole at most; the link's MTU bounds the frames it
	 * sends whole (a super-frame's segments are the kernel's business).
	 * rx: whatever the kernel has, as it has it.  tx: what the kernel's
	 * virtio-net header parser takes on every kernel the project runs on
	 * (UDP_L4 only from 6.2: the switch segments those). */
	uint32_t off = PORT_OFF_CSUM | PORT_OFF_TSO4 | PORT_OFF_TSO6 | PORT_OFF_ECN;
	p->caps = (struct port_caps){ .max_frame_in = VMDQ_MAX_SUPER,
				      .max_frame_out = port_link_frame_max(args[0]),
				      .rx_offloads = off | PORT_OFF_USO, .tx_offloads = off };
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

/* Ring frame h as f (copied to copy slot k if its tag must be put back):
 * false if it is dropped (counted under its reason). */
static bool rx_frame(struct port *p, struct afp *a, const struct tpacket3_hdr *h,
		     unsigned k, struct vmdq_frame *f)
{
	uint8_t *data = (uint8_t *)h + h->tp_mac;
	uint32_t cap = h->tp_snaplen, len = h->tp_len;
	struct vmdq_offload o;
	enum vmdq_off_err e;
	const uint8_t *vh = data - AFP_HDR;
	bool plain = false; /* an ordinary frame: nothing to check */
	if (h->tp_mac < AFP_HDR) { /* the kernel puts the header there: never */
		e = VMDQ_OFF_ERR_VNET_SHORT;
	} else if (cap != len) { /* cut: longer than a block */
		e = VMDQ_OFF_ERR_SUPER_LONG;
	} else if (cap <= VMDQ_MAX_SUPER && vh[1] == VIRTIO_NET_HDR_GSO_NONE && !(vh[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		/* most frames: what vmdq_vnet_hdr_parse and vmdq_off_check make
		 * of such a header, without the calls */
		o = (struct vmdq_offload){ .flags = (vh[0] & VIRTIO_NET_HDR_F_DATA_VALID)
							    ? VMDQ_OFF_CSUM_VALID : 0 };
		e = VMDQ_OFF_ERR_NONE;
		plain = true;
	} else if ((e = vmdq_vnet_hdr_parse(vh, AFP_HDR, &o)) == VMDQ_OFF_ERR_NONE &&
		   (vmdq_off_needs(&o) & ~p->caps.rx_offloads)) {
		e = VMDQ_OFF_ERR_NOT_NEGOTIATED;
	}
	if (e == VMDQ_OFF_ERR_NONE && (h->tp_status & TP_STATUS_VLAN_VALID)) {
		/* put the stripped tag back where it was, and the header's
		 * offsets after it */
		if (cap < 12 || cap + 4 > COPY_SIZE) {
			e = VMDQ_OFF_ERR_SUPER_LONG;
		} else {
			uint8_t *c = a->copy + (size_t)k * COPY_SIZE;
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
			vmdq_off_moved(&o, 4);
		}
	}
	if (e == VMDQ_OFF_ERR_NONE && o.gso_type &&
	    (o.flags & (VMDQ_OFF_CSUM_PARTIAL | VMDQ_OFF_CSUM_VALID)) == VMDQ_OFF_CSUM_VALID)
		e = vmdq_off_gso_partial(data, cap, &o); /* LRO, hardware GRO */
	if (e == VMDQ_OFF_ERR_NONE && !plain)
		e = vmdq_off_check(data, cap, &o);
	if (e != VMDQ_OFF_ERR_NONE) {
		a->refused[e]++;
		return false;
	}
	*f = (struct vmdq_frame){ .data = data, .caplen = cap, .len = len, .off = o,
				  .ts_ns = (uint64_t)h->tp_sec * 1000000000ull + h->tp_nsec };
	a->c[C_RX_GSO] += o.gso_type != VMDQ_GSO_NONE;
	a->c[C_RX_PARTIAL] += (o.flags & VMDQ_OFF_CSUM_PARTIAL) != 0;
	p->rx_frames++;
	p->rx_bytes += len;
	return true;
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
		a->left--;
		a->next = (void *)((uint8_t *)h + h->tp_next_offset);
		if (rx_frame(p, a, h, got, &f[got]))
			got++;
	}
	return got;
}

/* Whether frame x leaves through the plain socket: nothing for the
 * kernel's virtio-net header to say (DATA_VALID alone means nothing on
 * transmit). */
static bool tx_plain(const struct vmdq_frame *x)
{
	return x->off.gso_type == VMDQ_GSO_NONE && !(x->off.flags & VMDQ_OFF_CSUM_PARTIAL);
}

/* One sendmmsg per run of frames of one kind in the burst (ordinary frames
 * through the plain socket, one iovec each; the others with their
 * virtio-net header, built from their offload state, as a second iovec):
 * one call per burst when the frames are all alike, in the order given. */
static unsigned afp_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct afp *a = p->priv;
	struct mmsghdr m[AFP_BURST];
	unsigned done = 0;
	while (done < n) {
		unsigned lim = n - done < AFP_BURST ? n - done : AFP_BURST, k = 0;
		bool plain = tx_plain(&f[done]);
		for (; k < lim && tx_plain(&f[done + k]) == plain; k++) {
			const struct vmdq_frame *x = &f[done + k];
			struct iovec *v = a->txv[k];
			uint32_t fl = x->caplen < x->len ? x->caplen : x->len;
			if (plain) {
				v[0] = (struct iovec){ (void *)x->data, fl };
			} else {
				if (vmdq_vnet_hdr_build(&x->off, a->txh[k], AFP_HDR) < 0) {
					/* an unknown gso_type: the switch gives none */
					memset(a->txh[k], 0, AFP_HDR);
				}
				v[0] = (struct iovec){ a->txh[k], AFP_HDR };
				v[1] = (struct iovec){ (void *)x->data, fl };
			}
			m[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = v,
							      .msg_iovlen = plain ? 1 : 2 } };
		}
		int fd = plain ? a->plain : a->fd;
		int r = sendmmsg(fd, m, k, 0);
		if (r <= 0) {
			if (r < 0 && errno == EAGAIN) {
				/* the device queue is full: wait for room, once */
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				if (poll(&pfd, 1, 10) == 1)
					continue;
			}
			p->tx_errors++;
			break;
		}
		for (int i = 0; i < r; i++) {
			const struct vmdq_frame *x = &f[done + (unsigned)i];
			p->tx_frames++;
			p->tx_bytes += a->txv[i][plain ? 0 : 1].iov_len;
			a->c[C_TX_GSO] += x->off.gso_type != VMDQ_GSO_NONE;
			a->c[C_TX_PARTIAL] += (x->off.flags & VMDQ_OFF_CSUM_PARTIAL) != 0;
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

/* The offloads that crossed and the frames refused, by reason (the
 * interface itself has no guest to report on: "running" while open). */
static void afp_status(struct port *p, struct port_status *st)
{
	struct afp *a = p->priv;
	st->state = "running";
	st->ring = NULL;
	unsigned n = 0;
	for (unsigned i = 0; i < C__COUNT; i++) {
		st->names[n] = cnames[i];
		st->vals[n++] = a->c[i];
	}
	st->n = n;
	port_status_off_refused(st, a->refused);
}

const struct port_ops port_afpacket_ops = {
	.kind = "afpacket", .uplink_ok = true, .vif_ok = true,
	.open = afp_open, .close = afp_close, .rx = afp_rx, .tx = afp_tx,
	.fd = afp_fd, .done = NULL, .drops = afp_drops, .status = afp_status,
};
