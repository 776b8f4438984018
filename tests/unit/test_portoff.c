/* SPDX-License-Identifier: MIT */
/* The kernel-facing ports' offloads (issue 14): a TAP (IFF_VNET_HDR,
 * TUNSETOFFLOAD) and an AF_PACKET socket on a veth (PACKET_VNET_HDR), each
 * against the kernel's own TCP stack in a network namespace of the test's
 * own (root only; skipped elsewhere).  The test plays the peer: it answers
 * the kernel's SYN through the port's tx, then checks that what the
 * kernel's TSO sends arrives through the port's rx as super-frames with
 * their offload state (gso type and size, partial checksum at the TCP
 * field), that a super-frame with a partial checksum sent through the
 * port's tx reaches the kernel's socket whole with no checksum error, and
 * that a tag the kernel stripped into metadata (AF_PACKET) is put back
 * with the offsets moved.  (What the kernel writes in the header has passed its own
 * checks on this kernel: a packet socket on the guest side cannot make it
 * hand the port a csum_start inside the Ethernet header or a super-frame
 * whose headers do not parse, so the port's refusals are covered by
 * test_offload's tests of the library, not here.) */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "vmdq/offload.h"
#include "../../ports/port.h"

static bool priv; /* in a namespace of our own, with the interfaces made */

static int sh(const char *cmd)
{
	int rc = system(cmd);
	return rc == 0 ? 0 : -1;
}

static void wr(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, v, strlen(v)) < 0) {
			/* not there: nothing to quiet */
		}
		close(fd);
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0 || access("/dev/net/tun", R_OK) < 0)
		return 0;
	/* no IPv6 chatter: the frames the ports see are the test's */
	wr("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	wr("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (sh("ip link set lo up && "
	       "ip link add vqpa0 type veth peer name vqpa1 && ip link set vqpa0 up && "
	       "ip link set vqpa1 address 02:00:00:00:00:02 up && "
	       "ip addr add 10.0.1.2/24 dev vqpa1 && "
	       "ip neigh add 10.0.1.1 lladdr 02:00:00:00:00:01 dev vqpa1") < 0)
		return 0;
	priv = true;
	return 0;
}

/* ---- the peer: just enough TCP ------------------------------------------ */

struct conn {
	struct port *p;
	uint16_t vid;          /* 0: untagged */
	const char *kip, *pip; /* the kernel's address, the peer's */
	uint16_t kport, pport;
	uint32_t kseq, pseq;   /* next sequence number of each side */
	int s;                 /* the kernel's socket */
	unsigned seen_gso, seen_partial; /* among the frames rx gave */
};

static const uint8_t KMAC[6] = { 2, 0, 0, 0, 0, 2 }, PMAC[6] = { 2, 0, 0, 0, 0, 1 };

static uint32_t l3off(const struct conn *c) { return c->vid ? 18 : 14; }

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}
static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Up to 2 s for one frame from the port. */
static bool rx1(struct port *p, struct vmdq_frame *f)
{
	for (int i = 0; i < 200; i++) {
		if (p->ops->rx(p, 0, f, 1) == 1)
			return true;
		struct pollfd pfd = { .fd = p->ops->fd(p), .events = POLLIN };
		poll(&pfd, 1, 10);
	}
	return false;
}

/* The next TCP frame from the kernel (others skipped); false on timeout. */
static bool rx_tcp(struct conn *c, struct vmdq_frame *f)
{
	while (rx1(c->p, f)) {
		uint32_t l3 = l3off(c);
		if (f->caplen < l3 + 40 || rd16(f->data + l3 - 2) != 0x0800 || f->data[l3 + 9] != 6)
			continue;
		if (c->vid) {
			assert_int_equal(rd16(f->data + 12), 0x8100);
			assert_int_equal(rd16(f->data + 14) & 0xfff, c->vid);
		}
		c->seen_gso += f->off.gso_type != VMDQ_GSO_NONE;
		c->seen_partial += (f->off.flags & VMDQ_OFF_CSUM_PARTIAL) != 0;
		return true;
	}
	return false;
}

/* A TCP frame from the peer into b: the checksum partial (o says so), or
 * completed when o is NULL. */
static uint32_t mk_tcp(struct conn *c, uint8_t *b, uint8_t flags, const uint8_t *opt,
		       unsigned optlen, const uint8_t *pay, uint32_t plen,
		       struct vmdq_offload *o)
{
	uint32_t l3 = l3off(c), l4 = l3 + 20, th = 20 + optlen, len = l4 + th + plen;
	memcpy(b, KMAC, 6);
	memcpy(b + 6, PMAC, 6);
	if (c->vid) {
		wr16(b + 12, 0x8100);
		wr16(b + 14, c->vid);
	}
	wr16(b + l3 - 2, 0x0800);
	uint8_t *ip = b + l3;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(20 + th + plen));
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	inet_pton(AF_INET, c->pip, ip + 12);
	inet_pton(AF_INET, c->kip, ip + 16);
	wr16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
	uint8_t *t = b + l4;
	memset(t, 0, 20);
	wr16(t, c->pport);
	wr16(t + 2, c->kport);
	wr32(t + 4, c->pseq);
	wr32(t + 8, c->kseq);
	t[12] = (uint8_t)((th / 4) << 4);
	t[13] = flags;
	wr16(t + 14, 65535);
	if (optlen)
		memcpy(t + 20, opt, optlen);
	if (plen)
		memcpy(t + th, pay, plen);
	/* the pseudo-header's sum in the checksum field: a partial checksum */
	wr16(t + 16, fold(sum16(ip + 12, 8, 6u + th + plen)));
	struct vmdq_offload po = { .flags = VMDQ_OFF_CSUM_PARTIAL, .csum_start = (uint16_t)l4,
				   .csum_offset = 16 };
	if (!o) {
		assert_int_equal(vmdq_csum_complete(b, len, &po), 0);
	} else {
		*o = po;
	}
	return len;
}

static void tx1(struct conn *c, const uint8_t *b, uint32_t len, struct vmdq_offload o)
{
	struct vmdq_frame f = { .data = b, .caplen = len, .len = len, .off = o };
	assert_int_equal(c->p->ops->tx(c->p, &f, 1), 1);
}

static uint64_t status_val(struct port *p, const char *name)
{
	struct port_status st;
	memset(&st, 0, sizeof(st));
	p->ops->status(p, &st);
	for (unsigned i = 0; i < st.n; i++)
		if (strcmp(st.names[i], name) == 0)
			return st.vals[i];
	fail_msg("no counter %s", name);
	return 0;
}

/* Opens p as a port of ops on interface ifname (the test's own). */
static void open_port(struct port *p, const struct port_ops *ops, const char *ifname)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	char a0[IFNAMSIZ], *args[] = { a0 };
	snprintf(a0, sizeof(a0), "%s", ifname);
	char err[128] = "";
	int rc = p->ops->open(p, args, 1, err, sizeof(err));
	if (rc < 0)
		fail_msg("%s %s: %s", ops->kind, ifname, err);
}

static uint64_t tcp_csum_errors(void)
{
	FILE *fp = fopen("/proc/net/snmp", "r");
	char a[1024], b[1024];
	uint64_t v = ~0ull;
	while (fp && fgets(a, sizeof(a), fp) && fgets(b, sizeof(b), fp)) {
		if (strncmp(a, "Tcp:", 4) != 0)
			continue;
		/* the column named InCsumErrors */
		char *sa, *sb, *ta = strtok_r(a, " \n", &sa), *tb = strtok_r(b, " \n", &sb);
		while (ta && tb) {
			if (strcmp(ta, "InCsumErrors") == 0)
				v = strtoull(tb, NULL, 10);
			ta = strtok_r(NULL, " \n", &sa);
			tb = strtok_r(NULL, " \n", &sb);
		}
	}
	if (fp)
		fclose(fp);
	return v;
}

#define DATA 20000u
#define MSS 1460u

/* Handshake, the kernel's first flight, the peer's super-frame. */
static void tcp_through(struct conn *c)
{
	static uint8_t b[VMDQ_MAX_SUPER], pattern[DATA];
	struct vmdq_frame f;
	uint32_t l3 = l3off(c), l4 = l3 + 20;
	uint64_t csum_errors = tcp_csum_errors();

	c->s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c->s >= 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(c->pport) };
	inet_pton(AF_INET, c->pip, &sa.sin_addr);
	assert_int_equal(connect(c->s, (struct sockaddr *)&sa, sizeof(sa)), -1);
	assert_int_equal(errno, EINPROGRESS);

	/* the SYN, its checksum left partial by the kernel */
	assert_true(rx_tcp(c, &f));
	assert_int_equal(f.data[l4 + 13], 0x02);
	assert_int_equal(f.off.flags, VMDQ_OFF_CSUM_PARTIAL);
	assert_int_equal(f.off.csum_start, l4);
	assert_int_equal(f.off.csum_offset, 16);
	assert_int_equal(f.off.gso_type, VMDQ_GSO_NONE);
	c->kport = rd16(f.data + l4);
	c->kseq = rd32(f.data + l4 + 4) + 1;

	/* SYN-ACK, MSS 1460, no window scaling: the first flight is 10 MSS */
	const uint8_t mss[4] = { 2, 4, MSS >> 8, MSS & 0xff };
	uint32_t len = mk_tcp(c, b, 0x12, mss, 4, NULL, 0, NULL);
	tx1(c, b, len, (struct vmdq_offload){ 0 });
	c->pseq++;
	struct pollfd pfd = { .fd = c->s, .events = POLLOUT };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	int err = -1;
	socklen_t el = sizeof(err);
	assert_int_equal(getsockopt(c->s, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);
	assert_true(rx_tcp(c, &f)); /* the kernel's ACK */
	assert_int_equal(f.data[l4 + 13], 0x10);

	/* the kernel's first flight, 10 MSS (the initial window), in
	 * super-frames (how many is TSO autosizing's choice) */
	for (unsigned i = 0; i < DATA; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(send(c->s, pattern, DATA, 0), (ssize_t)DATA);
	uint32_t flight = 0;
	while (flight < 10 * MSS) {
		assert_true(rx_tcp(c, &f));
		uint32_t plen = rd16(f.data + l3 + 2) - 20 - (uint32_t)(f.data[l4 + 12] >> 4) * 4;
		assert_int_equal(f.len, l4 + 20 + plen);
		assert_int_equal(rd32(f.data + l4 + 4), c->kseq + flight);
		assert_true(plen > MSS); /* a super-frame each */
		assert_int_equal(f.off.gso_type, VMDQ_GSO_TCPV4);
		assert_int_equal(f.off.gso_size, MSS);
		assert_int_equal(f.off.hdr_len, l4 + 20);
		assert_int_equal(f.off.flags & VMDQ_OFF_CSUM_PARTIAL, VMDQ_OFF_CSUM_PARTIAL);
		assert_int_equal(f.off.csum_start, l4);
		assert_int_equal(f.off.csum_offset, 16);
		assert_memory_equal(f.data + l4 + 20, pattern + flight, plen);
		flight += plen;
	}
	assert_int_equal(flight, 10 * MSS);

	/* the peer's super-frame: 3 segments of 1000, checksum partial */
	uint8_t pay[3000];
	for (unsigned i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 13 + 1);
	struct vmdq_offload o;
	len = mk_tcp(c, b, 0x18, NULL, 0, pay, sizeof(pay), &o);
	o.gso_type = VMDQ_GSO_TCPV4;
	o.gso_size = 1000;
	assert_int_equal(vmdq_off_check(b, len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.hdr_len, l4 + 20);
	tx1(c, b, len, o);
	uint8_t got[4000];
	size_t n = 0;
	pfd = (struct pollfd){ .fd = c->s, .events = POLLIN };
	while (n < sizeof(pay) && poll(&pfd, 1, 2000) == 1) {
		ssize_t r = recv(c->s, got + n, sizeof(got) - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	assert_int_equal(n, sizeof(pay));
	assert_memory_equal(got, pay, sizeof(pay));
	assert_int_equal(tcp_csum_errors(), csum_errors);
	close(c->s);

	assert_int_equal(status_val(c->p, "tx-gso"), 1);
	assert_int_equal(status_val(c->p, "tx-csum-partial"), 1);
	assert_int_equal(status_val(c->p, "rx-gso"), c->seen_gso);
	assert_int_equal(status_val(c->p, "rx-csum-partial"), c->seen_partial);
}

/* ---- TAP ---------------------------------------------------------------- */

static void tap_offloads(void **state)
{
	(void)state;
	if (!priv)
		skip();
	struct port p;
	open_port(&p, &port_tap_ops, "vqpt0");
	assert_int_equal(p.caps.max_frame_in, VMDQ_MAX_SUPER);
	assert_int_equal(p.caps.max_frame_out, VMDQ_MAX_SUPER);
	uint32_t base = PORT_OFF_CSUM | PORT_OFF_TSO4 | PORT_OFF_TSO6 | PORT_OFF_ECN;
	assert_int_equal(p.caps.rx_offloads & ~PORT_OFF_USO, base);
	assert_int_equal(p.caps.tx_offloads, p.caps.rx_offloads);
	struct port_status st;
	memset(&st, 0, sizeof(st));
	p.ops->status(&p, &st);
	assert_string_equal(st.state, "waiting"); /* the guest side is down */
	assert_int_equal(sh("ip link set vqpt0 address 02:00:00:00:00:02 up && "
			    "ip addr add 10.0.0.2/24 dev vqpt0 && "
			    "ip neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev vqpt0"), 0);
	memset(&st, 0, sizeof(st));
	p.ops->status(&p, &st);
	assert_string_equal(st.state, "running");

	struct conn c = { .p = &p, .kip = "10.0.0.2", .pip = "10.0.0.1", .pport = 5001,
			  .pseq = 1000 };
	tcp_through(&c);
	p.ops->close(&p);
}

/* ---- AF_PACKET ---------------------------------------------------------- */

static void afpacket_offloads(void **state)
{
	(void)state;
	if (!priv)
		skip();
	struct port p;
	open_port(&p, &port_afpacket_ops, "vqpa0");
	assert_int_equal(p.caps.max_frame_in, VMDQ_MAX_SUPER);
	assert_int_equal(p.caps.max_frame_out, 1518);
	uint32_t base = PORT_OFF_CSUM | PORT_OFF_TSO4 | PORT_OFF_TSO6 | PORT_OFF_ECN;
	assert_int_equal(p.caps.rx_offloads, base | PORT_OFF_USO);
	assert_int_equal(p.caps.tx_offloads, base);

	struct conn c = { .p = &p, .kip = "10.0.1.2", .pip = "10.0.1.1", .pport = 5002,
			  .pseq = 5000 };
	tcp_through(&c);
	p.ops->close(&p);
}

/* A tagged frame with a partial checksum from a packet socket on the
 * kernel's side: the receiving veth strips the tag into metadata and the
 * header's csum_start counts from the untagged frame; the port puts the
 * tag back and moves csum_start with it (and the frame passed
 * vmdq_off_check there). */
static void afpacket_vlan_moved(void **state)
{
	(void)state;
	if (!priv)
		skip();
	struct port p;
	open_port(&p, &port_afpacket_ops, "vqpa0");
	static uint8_t m[10 + 200];
	struct conn c = { .p = &p, .vid = 7, .kip = "10.0.7.2", .pip = "10.0.7.1",
			  .kport = 80, .pport = 5003, .pseq = 9000 };
	uint8_t pay[100];
	memset(pay, 0x33, sizeof(pay));
	struct vmdq_offload o;
	uint32_t len = mk_tcp(&c, m + 10, 0x18, NULL, 0, pay, sizeof(pay), &o);
	assert_int_equal(o.csum_start, 38);
	memset(m, 0, 10);
	m[0] = 1; /* NEEDS_CSUM at 38 + 16 */
	m[6] = 38;
	m[8] = 16;
	int s = socket(AF_PACKET, SOCK_RAW, 0);
	assert_true(s >= 0);
	int one = 1;
	assert_int_equal(setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = (int)if_nametoindex("vqpa1") };
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	assert_int_equal(send(s, m, 10 + len, 0), (ssize_t)(10 + len));
	close(s);
	struct vmdq_frame f;
	assert_true(rx_tcp(&c, &f));
	assert_int_equal(f.len, len);
	assert_memory_equal(f.data, m + 10, 38);
	assert_int_equal(f.off.flags, VMDQ_OFF_CSUM_PARTIAL);
	assert_int_equal(f.off.csum_start, 38);
	assert_int_equal(f.off.csum_offset, 16);
	assert_int_equal(status_val(&p, "rx-csum-partial"), 1);
	p.ops->close(&p);
}

/* A burst that mixes ordinary frames (sent through the port's second
 * socket, without a virtio-net header) and frames with a partial checksum
 * (through the first, with one): the peer gets all of them, whole, in the
 * order given, the partial ones still partial at their offsets. */
static void afpacket_tx_mixed_burst_in_order(void **state)
{
	(void)state;
	if (!priv)
		skip();
	struct port p;
	open_port(&p, &port_afpacket_ops, "vqpa0");
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(0x88b5));
	assert_true(s >= 0);
	int one = 1;
	assert_int_equal(setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(0x88b5),
				   .sll_ifindex = (int)if_nametoindex("vqpa1") };
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	/* frames 0, 1, 3, 5, 6 ordinary (5 and 6 with a verified checksum),
	 * 2 and 4 partial */
	enum { N = 7 };
	static const bool partial[N] = { false, false, true, false, true, false, false };
	static uint8_t b[N][100];
	struct vmdq_frame f[N];
	uint64_t bytes = 0;
	for (unsigned i = 0; i < N; i++) {
		memcpy(b[i], KMAC, 6);
		memcpy(b[i] + 6, PMAC, 6);
		b[i][12] = 0x88;
		b[i][13] = 0xb5;
		for (unsigned k = 14; k < sizeof(b[i]); k++)
			b[i][k] = (uint8_t)(i * 31 + k);
		uint32_t len = 60 + 4 * i;
		f[i] = (struct vmdq_frame){ .data = b[i], .caplen = len, .len = len };
		if (partial[i])
			f[i].off = (struct vmdq_offload){ .flags = VMDQ_OFF_CSUM_PARTIAL,
							  .csum_start = 20, .csum_offset = 6 };
		else if (i >= 5)
			f[i].off.flags = VMDQ_OFF_CSUM_VALID;
		bytes += len;
	}
	assert_int_equal(p.ops->tx(&p, f, N), N);
	assert_int_equal(p.tx_frames, N);
	assert_int_equal(p.tx_bytes, bytes);
	assert_int_equal(p.tx_errors, 0);
	assert_int_equal(status_val(&p, "tx-csum-partial"), 2);
	assert_int_equal(status_val(&p, "tx-gso"), 0);
	for (unsigned i = 0; i < N; i++) {
		uint8_t m[10 + 200];
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		ssize_t r = recv(s, m, sizeof(m), 0);
		assert_int_equal(r, (ssize_t)(10 + f[i].len));
		assert_memory_equal(m + 10, b[i], f[i].len);
		assert_int_equal(m[0] & 1, partial[i]); /* NEEDS_CSUM */
		if (partial[i]) {
			assert_int_equal(m[6] | m[7] << 8, 20);
			assert_int_equal(m[8] | m[9] << 8, 6);
		}
	}
	uint8_t m[300];
	assert_int_equal(recv(s, m, sizeof(m), 0), -1); /* nothing more */
	close(s);
	p.ops->close(&p);
}

/* ---- a port's big buffers while it is idle ------------------------------- */

/* The mappings of exactly kb KiB in this process (/proc/self/smaps): their
 * start addresses and resident KiB, n at most; returns how many. */
static unsigned maps_of(unsigned kb, unsigned long *start, unsigned *rss, unsigned n)
{
	FILE *fp = fopen("/proc/self/smaps", "r");
	assert_non_null(fp);
	char line[512];
	unsigned long s = 0;
	unsigned k = 0, size = 0, v;
	while (fgets(line, sizeof(line), fp)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2)
			s = a;
		else if (sscanf(line, "Size: %u kB", &v) == 1)
			size = v;
		else if (sscanf(line, "Rss: %u kB", &v) == 1 && size == kb && k < n) {
			start[k] = s;
			rss[k++] = v;
		}
	}
	fclose(fp);
	return k;
}

/* The one mapping of kb KiB that is in (s1, n1) and not in (s0, n0): its
 * resident KiB. */
static unsigned new_map_rss(unsigned kb, const unsigned long *s0, unsigned n0)
{
	unsigned long s1[16];
	unsigned r1[16], n1 = maps_of(kb, s1, r1, 16), found = 0, rss = 0;
	for (unsigned i = 0; i < n1; i++) {
		bool old = false;
		for (unsigned j = 0; j < n0; j++)
			old |= s0[j] == s1[i];
		if (!old) {
			found++;
			rss = r1[i];
		}
	}
	assert_int_equal(found, 1);
	return rss;
}

/* A TAP's 32 receive slots and an AF_PACKET port's 32 re-tag copies are
 * sized for super-frames (2 MiB each, 2052 KiB of pages): an idle port
 * holds none of them, whatever malloc would do (meson test runs this with
 * MALLOC_PERTURB_ set); a TAP that received one 64-byte frame holds the
 * one page it landed on. */
static void big_buffers_idle_not_resident(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip(); /* gcc: ASan's allocator has MAP_NORESERVE regions of its own,
		 * which the kernel merges with the port's: no mapping of its size */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	skip(); /* clang: the same */
#endif
#endif
	if (!priv)
		skip();
	const unsigned kb = 2052;
	unsigned long s0[16];
	unsigned r0[16], n0 = maps_of(kb, s0, r0, 16);
	struct port p;
	open_port(&p, &port_tap_ops, "vqpt1");
	assert_int_equal(new_map_rss(kb, s0, n0), 0);
	/* one frame from the kernel's side of the TAP */
	assert_int_equal(sh("ip link set vqpt1 up"), 0);
	int s = socket(AF_PACKET, SOCK_RAW, 0);
	assert_true(s >= 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = (int)if_nametoindex("vqpt1") };
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	uint8_t b[60] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5 };
	assert_int_equal(send(s, b, sizeof(b), 0), (ssize_t)sizeof(b));
	close(s);
	struct vmdq_frame f;
	assert_true(rx1(&p, &f));
	assert_int_equal(f.len, sizeof(b));
	assert_memory_equal(f.data, b, sizeof(b));
	assert_int_equal(new_map_rss(kb, s0, n0), 4);
	p.ops->close(&p);
	assert_int_equal(maps_of(kb, s0, r0, 16), n0);

	open_port(&p, &port_afpacket_ops, "vqpa0");
	assert_int_equal(new_map_rss(kb, s0, n0), 0);
	p.ops->close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tap_offloads),
		cmocka_unit_test(afpacket_offloads),
		cmocka_unit_test(afpacket_vlan_moved),
		cmocka_unit_test(afpacket_tx_mixed_burst_in_order),
		cmocka_unit_test(big_buffers_idle_not_resident),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
