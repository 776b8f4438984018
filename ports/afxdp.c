/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP backend: `afxdp IFNAME [queue N] [mode auto|native|generic]
 * [copy|zerocopy] [no-vlan-meta]`, on any interface: an uplink, or a vif on
 * the host end of a container's veth pair.
 *
 * One XDP socket on one receive queue of the interface (queue 0 unless told;
 * on a multi-queue NIC steer the traffic there or use `ethtool -L IF
 * combined 1`).  libxdp attaches its default program, which redirects every
 * frame of that queue to the socket; it is detached again when the socket is
 * closed.  Native (driver) mode is tried first where the driver has it, then
 * generic mode; the mode in use is logged when the port opens.
 *
 * VLAN tags held out of band.  A NIC with rx VLAN offload, and a veth whose
 * peer transmits a tag as metadata (a VLAN device, a tc program: the veth
 * keeps skb->vlan_tci), hand XDP the frame without its tag: a VLAN-200 frame
 * would look untagged to the switch.  So, in this order:
 *  - native mode: our own program (afxdp_kern.c, embedded), device-bound, reads
 *    the tag with bpf_xdp_metadata_rx_vlan_tag (kernel 6.8+) and puts it back
 *    in the frame before the redirect; the xsk map is ours, libxdp loads no
 *    program (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD); attached through a BPF
 *    link, so it goes with the process even if that dies;
 *  - on anything but veth, rx VLAN offload (rx-vlan-hw-parse and its 802.1ad
 *    twin) is turned off when the port opens and restored when it closes: the
 *    NIC then leaves the tag in the frame;
 *  - where neither holds -- the kfunc program could not be used (generic mode,
 *    an older kernel) and the offload is stuck on, or the interface is a veth
 *    (its rx-vlan-offload flag changes nothing: the tag comes from the peer's
 *    transmit path, and only tx-vlan-offload off on the peer puts it in the
 *    frame) -- the port refuses to open, naming the interface and the ways
 *    out, unless told `no-vlan-meta`: the operator's word that no frame
 *    arrives with its tag as metadata.
 * The mode of the tags is logged with the port (describe).
 *
 * The UMEM is split in two halves: receive frames live in the fill ring /
 * RX ring cycle, transmit frames in a free list / TX ring / completion ring
 * cycle.  A received frame is handed to the switch in place (no copy) and
 * goes back to the fill ring on the next rx call; transmit copies into a TX
 * frame.  Syscalls only where the kernel asks for a wakeup (need_wakeup), at
 * most one per burst.  The interface is put in promiscuous mode through a
 * packet socket that receives nothing (protocol 0), released on close.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "afxdp_kern.h" /* afxdp_kern_o[]: ports/afxdp_kern.c built for BPF */
#include "port.h"

#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6) /* linux/bpf.h of 6.3+ */
#endif

#define XF_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE /* 4096 */
#define XF_RX 4096                           /* frames for receive */
#define XF_TX 2048                           /* frames for transmit */
#define XF_RING 2048                         /* each of the four rings */
#define XF_BURST 64

struct xdp_port {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint8_t *area;
	size_t area_len;
	int promisc_fd;
	uint32_t queue;
	bool native, zerocopy;
	char ifname[IF_NAMESIZE];
	uint64_t held[XF_BURST]; /* frames handed out by the last rx */
	unsigned nheld;
	uint64_t rx_spare[XF_RX]; /* RX frames not in the fill ring */
	unsigned nrx_spare;
	uint64_t tx_free[XF_TX];
	unsigned ntx_free;
	int ifindex;
	uint64_t bad_desc;        /* RX descriptors outside our RX frames */
	struct bpf_object *obj;   /* our program (native, kfunc), NULL: libxdp's */
	int link_fd;              /* its XDP attachment, -1 */
	bool vlan_kfunc;          /* tags held out of band are put back */
	bool veth;                /* a veth: its peer's checksums may be partial */
	uint32_t feat_off[2];     /* ethtool feature bits we turned off, */
	unsigned nfeat_off, feat_words; /* restored on close */
	const char *vlan_how;     /* for describe */
};

static int quiet_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int quiet_bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int ethtool_ioctl(int fd, const char *ifname, void *data)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

static bool is_veth(const char *ifname)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	bool veth = fd >= 0 && ethtool_ioctl(fd, ifname, &di) == 0 &&
		    strcmp(di.driver, "veth") == 0;
	if (fd >= 0)
		close(fd);
	return veth;
}

/* Sets the given feature bits to on (restore) or off; returns how many of
 * them are still active afterwards, -1 when the device cannot tell. */
static int set_features(int fd, const char *ifname, unsigned words, const uint32_t *bits,
			unsigned nbits, bool on, uint32_t *changed, unsigned *nchanged)
{
	struct ethtool_gfeatures *gf = calloc(1, sizeof(*gf) + words * sizeof(gf->features[0]));
	struct ethtool_sfeatures *sf = calloc(1, sizeof(*sf) + words * sizeof(sf->features[0]));
	int still = -1;
	if (!gf || !sf)
		goto out;
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = words;
	if (ethtool_ioctl(fd, ifname, gf) < 0)
		goto out;
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = words;
	bool any = false;
	for (unsigned i = 0; i < nbits; i++) {
		uint32_t w = bits[i] / 32, m = 1u << bits[i] % 32;
		if (!!(gf->features[w].active & m) == on || !(gf->features[w].available & m))
			continue;
		sf->features[w].valid |= m;
		if (on)
			sf->features[w].requested |= m;
		if (changed)
			changed[(*nchanged)++] = bits[i];
		any = true;
	}
	if (any && (ethtool_ioctl(fd, ifname, sf) < 0 || ethtool_ioctl(fd, ifname, gf) < 0))
		goto out;
	still = 0;
	for (unsigned i = 0; i < nbits; i++)
		still += !!(gf->features[bits[i] / 32].active & 1u << bits[i] % 32);
out:
	free(gf);
	free(sf);
	return still;
}

/* Turns rx VLAN offload (802.1Q and 802.1ad) off; returns how many of the two
 * are still on, -1 when the device cannot tell. */
static int vlan_offload_off(struct xdp_port *x)
{
	static const char *const names[] = { "rx-vlan-hw-parse", "rx-vlan-stag-hw-parse" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), still = -1;
	uint64_t sbuf[4] = { 0 };
	struct ethtool_sset_info *si = (void *)sbuf;
	struct ethtool_gstrings *gs = NULL;
	if (fd < 0)
		return -1;
	si->cmd = ETHTOOL_GSSET_INFO;
	si->sset_mask = 1ull << ETH_SS_FEATURES;
	if (ethtool_ioctl(fd, x->ifname, si) < 0 || !si->sset_mask || si->data[0] > 65536)
		goto out;
	uint32_t n = si->data[0];
	gs = calloc(1, sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN);
	if (!gs)
		goto out;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = n;
	if (ethtool_ioctl(fd, x->ifname, gs) < 0)
		goto out;
	uint32_t bits[2];
	unsigned nbits = 0;
	for (uint32_t i = 0; i < n && i < gs->len; i++)
		for (unsigned k = 0; k < 2; k++)
			if (strncmp((char *)gs->data + (size_t)i * ETH_GSTRING_LEN, names[k],
				    ETH_GSTRING_LEN) == 0)
				bits[nbits++] = i;
	x->feat_words = (n + 31) / 32;
	still = nbits ? set_features(fd, x->ifname, x->feat_words, bits, nbits, false,
				     x->feat_off, &x->nfeat_off)
		      : 0; /* no such feature: tags stay in the frame */
out:
	free(gs);
	close(fd);
	return still;
}

static void vlan_offload_restore(struct xdp_port *x)
{
	if (!x->nfeat_off)
		return;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	set_features(fd, x->ifname, x->feat_words, x->feat_off, x->nfeat_off, true, NULL, NULL);
	close(fd);
	x->nfeat_off = 0;
}

/* Native mode with our program: the device-bound program that puts
 * out-of-band VLAN tags back, attached by a link, then the socket (last of
 * what can fail, so that a failure leaves the UMEM as it was for libxdp's
 * program) and the xsk map. */
static int open_vlan_prog(struct xdp_port *x, uint16_t bind_flags, char *why, size_t wl)
{
	if (getenv("VMDQ_AFXDP_NO_KFUNC")) { /* tests: as on a kernel before 6.8 */
		snprintf(why, wl, "VMDQ_AFXDP_NO_KFUNC set");
		return -EOPNOTSUPP;
	}
	int rc;
	x->obj = bpf_object__open_mem(afxdp_kern_o, sizeof(afxdp_kern_o), NULL);
	if (!x->obj) {
		rc = -errno;
		x->obj = NULL;
		snprintf(why, wl, "XDP program: %s", strerror(-rc));
		return rc;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(x->obj, "vmdq_xsk_vlan");
	if (!prog)
		return -ENOENT;
	bpf_program__set_ifindex(prog, (uint32_t)x->ifindex);
	bpf_program__set_flags(prog, bpf_program__flags(prog) | BPF_F_XDP_DEV_BOUND_ONLY);
	rc = bpf_object__load(x->obj);
	if (rc) {
		snprintf(why, wl, "no bpf_xdp_metadata_rx_vlan_tag: %s", strerror(-rc));
		return rc;
	}
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	x->link_fd = bpf_link_create(bpf_program__fd(prog), x->ifindex, BPF_XDP, &lo);
	if (x->link_fd < 0) {
		rc = -errno;
		x->link_fd = -1;
		snprintf(why, wl, "native XDP attach: %s", strerror(-rc));
		return rc;
	}
	struct xsk_socket_config sc = {
		.rx_size = XF_RING, .tx_size = XF_RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = XDP_FLAGS_DRV_MODE, .bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};
	rc = xsk_socket__create(&x->xsk, x->ifname, x->queue, x->umem, &x->rx, &x->tx, &sc);
	if (rc) {
		x->xsk = NULL;
		snprintf(why, wl, "XDP socket: %s", strerror(-rc));
		return rc;
	}
	rc = xsk_socket__update_xskmap(x->xsk, bpf_object__find_map_fd_by_name(x->obj, "vmdq_xsks"));
	if (rc) {
		snprintf(why, wl, "xsk map: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static void close_vlan_prog(struct xdp_port *x)
{
	if (x->xsk && x->obj)
		xsk_socket__delete(x->xsk);
	if (x->obj)
		x->xsk = NULL;
	if (x->link_fd >= 0)
		close(x->link_fd); /* detaches the program */
	x->link_fd = -1;
	bpf_object__close(x->obj);
	x->obj = NULL;
}

static void xp_close(struct port *p)
{
	struct xdp_port *x = p->priv;
	if (!x)
		return;
	close_vlan_prog(x);
	if (x->xsk)
		xsk_socket__delete(x->xsk); /* libxdp detaches its program when last */
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, x->area_len);
	if (x->promisc_fd >= 0)
		close(x->promisc_fd);
	vlan_offload_restore(x);
	free(x);
	p->priv = NULL;
}

/* Gives the RX frames in spare to the kernel, as many as the fill ring takes. */
static void refill(struct xdp_port *x)
{
	if (!x->nrx_spare)
		return;
	uint32_t idx;
	/* reserve is all or nothing: ask for what the ring has room for */
	unsigned n = xsk_prod_nb_free(&x->fill, x->nrx_spare);
	if (n > x->nrx_spare)
		n = x->nrx_spare;
	n = n ? xsk_ring_prod__reserve(&x->fill, n, &idx) : 0;
	for (unsigned i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = x->rx_spare[--x->nrx_spare];
	if (n)
		xsk_ring_prod__submit(&x->fill, n);
}

static int try_socket(struct xdp_port *x, uint32_t xdp_flags, uint16_t bind_flags)
{
	struct xsk_socket_config sc = {
		.rx_size = XF_RING, .tx_size = XF_RING,
		.xdp_flags = xdp_flags, .bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};
	return xsk_socket__create(&x->xsk, x->ifname, x->queue, x->umem, &x->rx, &x->tx, &sc);
}

static int xp_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	static const char usage[] =
		"afxdp: expected 'afxdp IFNAME [queue N] [mode auto|native|generic] "
		"[copy|zerocopy] [no-vlan-meta]'";
	if (nargs < 1) {
		snprintf(err, errlen, "%s", usage);
		return -EINVAL;
	}
	struct xdp_port *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	p->priv = x;
	x->promisc_fd = -1;
	x->link_fd = -1;
	bool no_vlan_meta = false;
	const char *mode = "auto";
	uint16_t copy_flag = 0;
	for (int i = 1; i < nargs; i++) {
		if (strcmp(args[i], "queue") == 0 && i + 1 < nargs) {
			char *end;
			unsigned long q = strtoul(args[++i], &end, 10);
			if (*end || end == args[i] || q > 1023) {
				snprintf(err, errlen, "afxdp: bad queue '%s'", args[i]);
				return -EINVAL;
			}
			x->queue = (uint32_t)q;
		} else if (strcmp(args[i], "mode") == 0 && i + 1 < nargs) {
			mode = args[++i];
			if (strcmp(mode, "auto") && strcmp(mode, "native") && strcmp(mode, "generic")) {
				snprintf(err, errlen, "afxdp: bad mode '%s' (auto, native or generic)",
					 mode);
				return -EINVAL;
			}
		} else if (strcmp(args[i], "copy") == 0) {
			copy_flag = XDP_COPY;
		} else if (strcmp(args[i], "zerocopy") == 0) {
			copy_flag = XDP_ZEROCOPY;
		} else if (strcmp(args[i], "no-vlan-meta") == 0) {
			no_vlan_meta = true;
		} else {
			snprintf(err, errlen, "afxdp: unexpected '%s'; %s", args[i], usage);
			return -EINVAL;
		}
	}
	if (strlen(args[0]) >= IF_NAMESIZE || !if_nametoindex(args[0])) {
		snprintf(err, errlen, "afxdp %s: no such interface", args[0]);
		return -ENODEV;
	}
	snprintf(x->ifname, sizeof(x->ifname), "%s", args[0]);
	x->ifindex = (int)if_nametoindex(x->ifname);
	libxdp_set_print(quiet_print);
	libbpf_set_print(quiet_bpf_print);

	x->area_len = (size_t)(XF_RX + XF_TX) * XF_SIZE;
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -ENOMEM;
	}
	struct xsk_umem_config uc = {
		.fill_size = XF_RING, .comp_size = XF_RING, .frame_size = XF_SIZE,
		.frame_headroom = 0, .flags = 0,
	};
	int rc = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fill, &x->comp, &uc);
	if (rc) {
		x->umem = NULL;
		snprintf(err, errlen, "afxdp %s: UMEM: %s%s", x->ifname, strerror(-rc),
			 rc == -EPERM ? " (needs CAP_NET_ADMIN, CAP_BPF)" : "");
		return rc;
	}
	/* before any frame flows: the NIC keeps tags in the frame (not veth:
	 * its flag changes nothing, see the top of the file) */
	bool veth = is_veth(x->ifname);
	x->veth = veth;
	int offload_on = veth ? -1 : vlan_offload_off(x);
	char why[128] = "generic mode";
	rc = -EINVAL;
	if (strcmp(mode, "generic") != 0) {
		rc = open_vlan_prog(x, copy_flag, why, sizeof(why));
		x->vlan_kfunc = rc == 0;
		if (rc) { /* as before this program existed: libxdp's */
			close_vlan_prog(x);
			rc = try_socket(x, XDP_FLAGS_DRV_MODE, copy_flag);
		}
		x->native = rc == 0;
	}
	if (rc && strcmp(mode, "native") != 0)
		rc = try_socket(x, XDP_FLAGS_SKB_MODE, copy_flag == XDP_ZEROCOPY ? 0 : copy_flag);
	if (rc) {
		x->xsk = NULL;
		snprintf(err, errlen, "afxdp %s queue %u: %s%s", x->ifname, x->queue,
			 strerror(-rc),
			 rc == -EPERM ? " (needs CAP_NET_ADMIN, CAP_BPF)"
			 : rc == -EBUSY ? " (another XDP program or socket is on it)"
			 : rc == -EINVAL ? " (no such queue, or the mode is not supported)"
			 : "");
		return rc;
	}
	/* veth implements the kfunc (6.8+); a NIC driver may not (the kfunc
	 * then says -EOPNOTSUPP, which the program cannot tell from "no tag"),
	 * so on a NIC the offload must be off whatever the program does */
	if (x->vlan_kfunc && veth) {
		x->vlan_how = "VLAN tags from metadata put back";
	} else if (no_vlan_meta) {
		x->vlan_how = "no-vlan-meta: tags as metadata would be lost";
	} else if (veth) {
		snprintf(err, errlen, "afxdp %s: refused: VLAN tags the veth peer sends as "
			 "metadata would be lost (%s); use native mode (kernel 6.8+) or "
			 "afpacket, or txvlan off on the peer and 'no-vlan-meta'", x->ifname, why);
		return -EOPNOTSUPP;
	} else if (offload_on != 0) {
		snprintf(err, errlen, "afxdp %s: refused: rx-vlan-offload %s (tags as "
			 "metadata would be lost); ethtool -K %s rxvlan off, afpacket, "
			 "or 'no-vlan-meta' if no frame arrives tagged", x->ifname,
			 offload_on < 0 ? "unreadable" : "stuck on", x->ifname);
		return -EOPNOTSUPP;
	} else {
		x->vlan_how = x->nfeat_off ? "rx-vlan-offload turned off" : "rx-vlan-offload off";
		if (x->vlan_kfunc)
			x->vlan_how = x->nfeat_off ? "rx-vlan-offload turned off; tags from metadata "
						     "put back"
						   : "rx-vlan-offload off; tags from metadata put back";
	}
	struct xdp_options opts;
	socklen_t ol = sizeof(opts);
	if (getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_OPTIONS, &opts, &ol) == 0)
		x->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;

	for (unsigned i = 0; i < XF_RX; i++)
		x->rx_spare[x->nrx_spare++] = (uint64_t)i * XF_SIZE;
	for (unsigned i = 0; i < XF_TX; i++)
		x->tx_free[x->ntx_free++] = (uint64_t)(XF_RX + i) * XF_SIZE;
	refill(x);

	x->promisc_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	struct packet_mreq mr = { .mr_ifindex = x->ifindex,
				  .mr_type = PACKET_MR_PROMISC };
	if (x->promisc_fd < 0 ||
	    setsockopt(x->promisc_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		snprintf(err, errlen, "afxdp %s: promiscuous mode: %s", x->ifname, strerror(errno));
		return -errno;
	}
	/* one UMEM frame per received frame (no multi-buffer); a larger frame
	 * goes out through the packet socket, up to the link's MTU */
	p->caps = (struct port_caps){ .max_frame_in = XF_SIZE - XDP_PACKET_HEADROOM,
				      .max_frame_out = port_link_frame_max(x->ifname),
				      .rx_offloads = veth ? PORT_OFF_CSUM : 0 };
	return 0;
}

static void xp_describe(struct port *p, char *buf, size_t len)
{
	struct xdp_port *x = p->priv;
	snprintf(buf, len, "afxdp %s queue %u, %s mode, %s, %s", x->ifname, x->queue,
		 x->native ? "native" : "generic", x->zerocopy ? "zero-copy" : "copy",
		 x->vlan_how);
}

static uint32_t be16at(const uint8_t *d)
{
	return (uint32_t)d[0] << 8 | d[1];
}

/*
 * A frame from a veth's peer through XDP: the peer's kernel may have left
 * its TCP/UDP checksum to "the device" (checksum offload stays on when XDP
 * turns the peer's TSO off), and XDP does not say so.  Whatever the field
 * holds, the frame is made partial: the field gets the pseudo-header sum
 * and the frame says CSUM_PARTIAL, so the next hop that can completes it
 * (a TAP, a packet socket, a guest) and the switch completes it for the
 * others.  Only for IPv4 (not a fragment) and IPv6 (TCP/UDP right after
 * the fixed header) whose IP length is the frame's; a UDP/IPv4 checksum of
 * 0 (none) is left alone.  The frame is the port's (its UMEM) until the
 * next rx.
 */
static void make_partial(uint8_t *d, uint32_t len, struct vmdq_offload *off)
{
	uint32_t o = 12;
	for (int t = 0; t < 2 && o + 2 <= len && (be16at(d + o) == 0x8100 || be16at(d + o) == 0x88a8); t++)
		o += 4;
	if (o + 2 > len)
		return;
	uint32_t et = be16at(d + o), l3 = o + 2, l4, proto;
	if (et == 0x0800) {
		if (l3 + 20 > len || (d[l3] >> 4) != 4)
			return;
		uint32_t ihl = (uint32_t)(d[l3] & 15) * 4;
		if (ihl < 20 || (be16at(d + l3 + 6) & 0x3fff) || be16at(d + l3 + 2) != len - l3)
			return;
		l4 = l3 + ihl;
		proto = d[l3 + 9];
	} else if (et == 0x86dd) {
		if (l3 + 40 > len || (d[l3] >> 4) != 6 || be16at(d + l3 + 4) != len - l3 - 40)
			return;
		l4 = l3 + 40;
		proto = d[l3 + 6];
	} else {
		return;
	}
	uint32_t field = proto == 6 ? 16 : proto == 17 ? 6 : 0;
	if (!field || l4 + field + 2 > len || (proto == 6 && l4 + 20 > len) ||
	    (proto == 17 && (l4 + 8 > len || (et == 0x0800 && be16at(d + l4 + 6) == 0))))
		return;
	uint16_t sum = vmdq_csum_pseudo(d, l3, et == 0x86dd, (uint8_t)proto, len - l4);
	memcpy(d + l4 + field, &sum, 2);
	*off = (struct vmdq_offload){ .flags = VMDQ_OFF_CSUM_PARTIAL, .csum_start = (uint16_t)l4,
				      .csum_offset = (uint16_t)field };
}

static unsigned xp_rx(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n)
{
	(void)pair; /* one pair */
	struct xdp_port *x = p->priv;
	/* the frames of the previous burst are free again */
	for (unsigned i = 0; i < x->nheld; i++)
		x->rx_spare[x->nrx_spare++] = x->held[i];
	x->nheld = 0;
	refill(x);
	if (n > XF_BURST)
		n = XF_BURST;
	uint32_t idx;
	unsigned avail = xsk_ring_cons__peek(&x->rx, n, &idx), got = 0;
	for (unsigned i = 0; i < avail; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint64_t base = xsk_umem__extract_addr(d->addr);
		uint64_t off = xsk_umem__add_offset_to_addr(d->addr);
		/* even the kernel's descriptor is checked: in our RX half, in one frame */
		if (base >= (uint64_t)XF_RX * XF_SIZE || off < base ||
		    off + d->len > base - base % XF_SIZE + XF_SIZE) {
			x->bad_desc++;
			continue;
		}
		x->held[x->nheld++] = base - base % XF_SIZE;
		f[got] = (struct vmdq_frame){ .data = x->area + off, .caplen = d->len,
					      .len = d->len };
		if (x->veth) {
			make_partial(x->area + off, d->len, &f[got].off);
			if (vmdq_off_check(f[got].data, d->len, &f[got].off) != VMDQ_OFF_ERR_NONE)
				f[got].off = (struct vmdq_offload){ 0 }; /* as it came */
		}
		got++;
		p->rx_frames++;
		p->rx_bytes += d->len;
	}
	if (avail)
		xsk_ring_cons__release(&x->rx, avail);
	else if (xsk_ring_prod__needs_wakeup(&x->fill))
		recvfrom(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return got;
}

static void reclaim_tx(struct xdp_port *x)
{
	uint32_t idx;
	unsigned n = xsk_ring_cons__peek(&x->comp, XF_RING, &idx);
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
		if (a >= (uint64_t)XF_RX * XF_SIZE && a < (uint64_t)(XF_RX + XF_TX) * XF_SIZE &&
		    x->ntx_free < XF_TX)
			x->tx_free[x->ntx_free++] = a - (a % XF_SIZE);
	}
	if (n)
		xsk_ring_cons__release(&x->comp, n);
}

static void send_big(struct port *p, struct xdp_port *x, const uint8_t *data, uint32_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = x->ifindex,
				   .sll_halen = 6 };
	memcpy(sll.sll_addr, data, 6);
	if (sendto(x->promisc_fd, data, len, 0, (struct sockaddr *)&sll, sizeof(sll)) ==
	    (ssize_t)len) {
		p->tx_frames++;
		p->tx_bytes += len;
	} else {
		p->tx_errors++;
	}
}

static void kick_tx(struct xdp_port *x)
{
	if (xsk_ring_prod__needs_wakeup(&x->tx))
		sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static unsigned xp_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct xdp_port *x = p->priv;
	unsigned done = 0;
	int waited = 0;
	reclaim_tx(x);
	while (done < n) {
		unsigned k = n - done;
		if (k > x->ntx_free)
			k = x->ntx_free;
		unsigned room = xsk_prod_nb_free(&x->tx, k);
		if (k > room)
			k = room;
		uint32_t idx = 0;
		if (k)
			k = xsk_ring_prod__reserve(&x->tx, k, &idx);
		if (!k) {
			/* every TX frame is in flight: let the kernel send, once */
			if (waited++)
				break;
			kick_tx(x);
			struct pollfd pfd = { .fd = xsk_socket__fd(x->xsk), .events = POLLOUT };
			poll(&pfd, 1, 10);
			reclaim_tx(x);
			continue;
		}
		unsigned put = 0;
		for (unsigned i = 0; i < k; i++) {
			const struct vmdq_frame *fr = &f[done + i];
			uint32_t len = fr->caplen < fr->len ? fr->caplen : fr->len;
			if (len > XF_SIZE - XDP_PACKET_HEADROOM) {
				/* a jumbo frame: too big for a UMEM frame, sent by the
				 * packet socket instead (rare: one syscall) */
				send_big(p, x, fr->data, len);
				continue;
			}
			uint64_t a = x->tx_free[--x->ntx_free];
			memcpy(x->area + a, fr->data, len);
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + put);
			d->addr = a;
			d->len = len;
			d->options = 0;
			p->tx_frames++;
			p->tx_bytes += len;
			put++;
		}
		x->tx.cached_prod -= k - put; /* slots reserved for jumbo frames */
		xsk_ring_prod__submit(&x->tx, put);
		done += k;
		kick_tx(x);
	}
	return done;
}

static uint64_t xp_drops(struct port *p)
{
	struct xdp_port *x = p->priv;
	struct xdp_statistics st;
	socklen_t len = sizeof(st);
	if (getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
		return 0;
	return st.rx_dropped + st.rx_ring_full + x->bad_desc;
}

static int xp_fd(struct port *p)
{
	struct xdp_port *x = p->priv;
	return xsk_socket__fd(x->xsk);
}

const struct port_ops port_afxdp_ops = {
	.kind = "afxdp", .uplink_ok = true, .vif_ok = true,
	.open = xp_open, .close = xp_close, .rx = xp_rx, .tx = xp_tx,
	.fd = xp_fd, .done = NULL, .drops = xp_drops, .describe = xp_describe,
};
