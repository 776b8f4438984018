/* SPDX-License-Identifier: MIT */
/* Offloads (lib/offload.c): the virtio-net header, checking hostile offload
 * state, completing checksums, software segmentation.  Every checksum here
 * is verified by the naive byte-wise sum below, not by the library's. */
#include <errno.h>
#include "helpers.h"

/* ---- an independent checksum: 16-bit big-endian words, one at a time ---- */
static uint32_t naive_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return acc;
}

static uint16_t naive_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* the pseudo-header sum of the L4 part [l4, len) */
static uint32_t pseudo_sum(const uint8_t *f, uint32_t l3, uint32_t l4, uint32_t len, int v6,
			   uint8_t proto)
{
	uint32_t s = v6 ? naive_sum(f + l3 + 8, 32, 0) : naive_sum(f + l3 + 12, 8, 0);
	return s + proto + (len - l4);
}

/* true when the L4 checksum of [l4, len) verifies */
static int l4_ok(const uint8_t *f, uint32_t l3, uint32_t l4, uint32_t len, int v6, uint8_t proto)
{
	return naive_fold(pseudo_sum(f, l3, l4, len, v6, proto) + naive_sum(f + l4, len - l4, 0)) ==
	       0xffff;
}

/* ---- building super-frames ---- */
struct spec {
	int v6, udp, tags, ipopt, tcpopt;
	uint32_t payload;
	uint8_t tcpflags;
	uint16_t ipid;
	uint32_t seq;
	uint16_t df;
};

struct built {
	uint8_t *f;
	uint32_t len, l3, l4, hdr;
	struct vmdq_offload off;
};

/* a super-frame as a sender leaves it: lengths right, the L4 checksum field
 * holding the pseudo-header sum (CSUM_PARTIAL), payload bytes i*7+3 */
static struct built mk(const struct spec *s, uint16_t mss)
{
	struct built b;
	uint32_t l3 = 14 + 4u * (uint32_t)s->tags;
	uint32_t iphl = s->v6 ? 40 : 20 + (uint32_t)s->ipopt;
	uint32_t l4 = l3 + iphl;
	uint32_t thl = s->udp ? 8 : 20 + (uint32_t)s->tcpopt;
	b.hdr = l4 + thl;
	b.len = b.hdr + s->payload;
	b.l3 = l3;
	b.l4 = l4;
	b.f = calloc(1, b.len);
	assert_non_null(b.f);
	uint8_t *f = b.f;
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	uint32_t o = 12;
	for (int t = 0; t < s->tags; t++) {
		put16(f + o, t == 0 && s->tags == 2 ? 0x88a8 : 0x8100);
		put16(f + o + 2, (uint16_t)(100 + t));
		o += 4;
	}
	put16(f + o, s->v6 ? 0x86dd : 0x0800);
	if (s->v6) {
		f[l3] = 0x60;
		put16(f + l3 + 4, (uint16_t)(b.len - l3 - 40));
		f[l3 + 6] = s->udp ? 17 : 6;
		f[l3 + 7] = 64;
		for (int i = 0; i < 16; i++) {
			f[l3 + 8 + i] = (uint8_t)(0x20 + i);
			f[l3 + 24 + i] = (uint8_t)(0xfe - i);
		}
	} else {
		f[l3] = (uint8_t)(0x40 | iphl / 4);
		put16(f + l3 + 2, (uint16_t)(b.len - l3));
		put16(f + l3 + 4, s->ipid);
		put16(f + l3 + 6, s->df ? 0x4000 : 0);
		f[l3 + 8] = 64;
		f[l3 + 9] = s->udp ? 17 : 6;
		memcpy(f + l3 + 12, "\x0a\x63\x00\x01\xc0\xa8\xfe\x07", 8);
		for (uint32_t i = 20; i < iphl; i++)
			f[l3 + i] = 1; /* NOP options */
		put16(f + l3 + 10, (uint16_t)~naive_fold(naive_sum(f + l3, iphl, 0)));
	}
	put16(f + l4, 40000);
	put16(f + l4 + 2, 5201);
	if (s->udp) {
		put16(f + l4 + 4, (uint16_t)(b.len - l4));
	} else {
		put32(f + l4 + 4, s->seq);
		put32(f + l4 + 8, 0x01020304);
		f[l4 + 12] = (uint8_t)((thl / 4) << 4);
		f[l4 + 13] = s->tcpflags;
		put16(f + l4 + 14, 502);
		for (uint32_t i = 20; i < thl; i++)
			f[l4 + i] = 1;
	}
	for (uint32_t i = 0; i < s->payload; i++)
		f[b.hdr + i] = (uint8_t)(i * 7 + 3);
	uint32_t cso = s->udp ? 6 : 16;
	put16(f + l4 + cso, naive_fold(pseudo_sum(f, l3, l4, b.len, s->v6, s->udp ? 17 : 6)));
	b.off = (struct vmdq_offload){
		.flags = VMDQ_OFF_CSUM_PARTIAL,
		.gso_type = s->udp ? VMDQ_GSO_UDP_L4 : s->v6 ? VMDQ_GSO_TCPV6 : VMDQ_GSO_TCPV4,
		.gso_size = mss, .hdr_len = (uint16_t)b.hdr,
		.csum_start = (uint16_t)l4, .csum_offset = (uint16_t)cso,
	};
	return b;
}

/* ---- the virtio-net header ---- */
static void vnet_parse_maps_types_and_flags(void **st)
{
	(void)st;
	uint8_t h[12] = { 1, 0x81, 66, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0 };
	struct vmdq_offload o;
	assert_int_equal(vmdq_vnet_hdr_parse(h, 12, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.flags, VMDQ_OFF_CSUM_PARTIAL | VMDQ_OFF_ECN);
	assert_int_equal(o.gso_type, VMDQ_GSO_TCPV4);
	assert_int_equal(o.hdr_len, 66);
	assert_int_equal(o.gso_size, 1448);
	assert_int_equal(o.csum_start, 34);
	assert_int_equal(o.csum_offset, 16);

	h[1] = 4; /* TCPV6 */
	assert_int_equal(vmdq_vnet_hdr_parse(h, 10, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.gso_type, VMDQ_GSO_TCPV6);
	assert_int_equal(o.flags, VMDQ_OFF_CSUM_PARTIAL);
	h[1] = 5; /* UDP_L4 */
	assert_int_equal(vmdq_vnet_hdr_parse(h, 10, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.gso_type, VMDQ_GSO_UDP_L4);
	h[1] = 3; /* UFO: never offered */
	assert_int_equal(vmdq_vnet_hdr_parse(h, 10, &o), VMDQ_OFF_ERR_GSO_TYPE);
	for (unsigned t = 6; t < 0x80; t++) {
		h[1] = (uint8_t)t;
		assert_int_equal(vmdq_vnet_hdr_parse(h, 10, &o), VMDQ_OFF_ERR_GSO_TYPE);
	}
	h[1] = 2; /* the old TCPV4_ECN value */
	assert_int_equal(vmdq_vnet_hdr_parse(h, 10, &o), VMDQ_OFF_ERR_GSO_TYPE);
	assert_int_equal(vmdq_vnet_hdr_parse(h, 9, &o), VMDQ_OFF_ERR_VNET_SHORT);
	assert_int_equal(vmdq_vnet_hdr_parse(h, 0, &o), VMDQ_OFF_ERR_VNET_SHORT);

	/* no GSO: gso_size, hdr_len ignored; no NEEDS_CSUM: offsets ignored;
	 * DATA_VALID kept; unknown flag bits ignored */
	uint8_t g[10] = { 2 | 4 | 0x40, 0x80, 66, 0, 0xa8, 0x05, 34, 0, 16, 0 };
	assert_int_equal(vmdq_vnet_hdr_parse(g, 10, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.flags, VMDQ_OFF_CSUM_VALID);
	assert_int_equal(o.gso_type, VMDQ_GSO_NONE);
	assert_int_equal(o.gso_size, 0);
	assert_int_equal(o.hdr_len, 0);
	assert_int_equal(o.csum_start, 0);
	assert_int_equal(o.csum_offset, 0);
	/* NEEDS_CSUM wins over DATA_VALID */
	g[0] = 3;
	assert_int_equal(vmdq_vnet_hdr_parse(g, 10, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.flags, VMDQ_OFF_CSUM_PARTIAL);
	assert_int_equal(o.csum_start, 34);
}

static void vnet_build_round_trips(void **st)
{
	(void)st;
	static const struct { uint8_t t, v; } map[] = {
		{ VMDQ_GSO_NONE, 0 }, { VMDQ_GSO_TCPV4, 1 }, { VMDQ_GSO_TCPV6, 4 },
		{ VMDQ_GSO_UDP_L4, 5 },
	};
	for (unsigned i = 0; i < 4; i++) {
		struct vmdq_offload o = { .flags = VMDQ_OFF_CSUM_PARTIAL | VMDQ_OFF_ECN,
					  .gso_type = map[i].t, .gso_size = 1400, .hdr_len = 54,
					  .csum_start = 34, .csum_offset = 16 }, back;
		uint8_t h[12];
		memset(h, 0xee, sizeof(h));
		assert_int_equal(vmdq_vnet_hdr_build(&o, h, 12), 0);
		assert_int_equal(h[0], 1);
		int ecn = map[i].t == VMDQ_GSO_TCPV4 || map[i].t == VMDQ_GSO_TCPV6;
		assert_int_equal(h[1], map[i].v | (ecn ? 0x80 : 0));
		assert_int_equal(h[2] | h[3] << 8, map[i].t ? 54 : 0);
		assert_int_equal(h[4] | h[5] << 8, map[i].t ? 1400 : 0);
		assert_int_equal(h[6] | h[7] << 8, 34);
		assert_int_equal(h[8] | h[9] << 8, 16);
		assert_int_equal(h[10] | h[11] << 8, 1); /* num_buffers */
		assert_int_equal(vmdq_vnet_hdr_parse(h, 12, &back), VMDQ_OFF_ERR_NONE);
		assert_int_equal(back.gso_type, map[i].t);
		assert_int_equal(back.csum_start, 34);
		assert_int_equal(back.flags, VMDQ_OFF_CSUM_PARTIAL | (ecn ? VMDQ_OFF_ECN : 0));
	}
	struct vmdq_offload v = { .flags = VMDQ_OFF_CSUM_VALID };
	uint8_t h[10];
	memset(h, 0xee, sizeof(h));
	assert_int_equal(vmdq_vnet_hdr_build(&v, h, 10), 0);
	static const uint8_t want[10] = { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	assert_memory_equal(h, want, 10);
	assert_int_equal(vmdq_vnet_hdr_build(&v, h, 9), -EINVAL);
	v.gso_type = 9;
	assert_int_equal(vmdq_vnet_hdr_build(&v, h, 10), -EINVAL);
}

/* ---- checking hostile state (issue 14, point 4) ---- */
static enum vmdq_off_err check_with(const struct built *b, struct vmdq_offload o)
{
	return vmdq_off_check(b->f, b->len, &o);
}

static void check_accepts_and_fixes_hdr_len(void **st)
{
	(void)st;
	struct spec s = { .payload = 4000, .tcpopt = 12, .ipopt = 8, .tags = 1 };
	struct built b = mk(&s, 1448);
	uint32_t real = 14 + 4 + 28 + 32;
	assert_int_equal(b.hdr, real);
	const uint16_t hints[] = { 0, 1, 54, (uint16_t)(real + 1), 4000, 65535 };
	for (unsigned i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		struct vmdq_offload o = b.off;
		o.hdr_len = hints[i];
		assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
		assert_int_equal(o.hdr_len, real);
		assert_int_equal(o.gso_type, VMDQ_GSO_TCPV4);
		assert_int_equal(o.gso_size, 1448);
		assert_int_equal(o.flags, VMDQ_OFF_CSUM_PARTIAL);
	}
	/* unknown flag bits and rsvd_ cleared, CSUM_VALID dropped with PARTIAL */
	struct vmdq_offload o = b.off;
	o.flags |= 0xf0f0 | VMDQ_OFF_CSUM_VALID;
	o.rsvd_ = 7;
	assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.flags, VMDQ_OFF_CSUM_PARTIAL);
	assert_int_equal(o.rsvd_, 0);
	assert_int_equal(vmdq_off_needs(&o), VMDQ_OFF_CAP_CSUM | VMDQ_OFF_CAP_TSO4);
	/* CWR in the header: ECN set, so it is needed */
	b.f[b.l4 + 13] |= 0x80;
	o = b.off;
	assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.flags, VMDQ_OFF_CSUM_PARTIAL | VMDQ_OFF_ECN);
	assert_int_equal(vmdq_off_needs(&o),
			 VMDQ_OFF_CAP_CSUM | VMDQ_OFF_CAP_TSO4 | VMDQ_OFF_CAP_ECN);
	free(b.f);

	s = (struct spec){ .v6 = 1, .payload = 3000 };
	b = mk(&s, 1440);
	o = b.off;
	o.hdr_len = 0;
	assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.hdr_len, 74);
	assert_int_equal(vmdq_off_needs(&o), VMDQ_OFF_CAP_CSUM | VMDQ_OFF_CAP_TSO6);
	free(b.f);
	s = (struct spec){ .v6 = 1, .udp = 1, .payload = 3000, .tags = 2 };
	b = mk(&s, 1000);
	o = b.off;
	assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.hdr_len, 22 + 40 + 8);
	assert_int_equal(vmdq_off_needs(&o), VMDQ_OFF_CAP_CSUM | VMDQ_OFF_CAP_USO);
	free(b.f);
}

static void check_names_every_hostile_case(void **st)
{
	(void)st;
	struct spec s = { .payload = 3000 };
	struct built b = mk(&s, 1448);
	struct vmdq_offload o;

	/* an unknown gso_type */
	for (unsigned t = 4; t < 256; t += 17) {
		o = b.off;
		o.gso_type = (uint8_t)t;
		assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_TYPE);
	}
	/* gso_size 0 */
	o = b.off;
	o.gso_size = 0;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_SIZE);
	/* GSO without a partial checksum */
	o = b.off;
	o.flags = 0;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_CSUM);
	o.flags = VMDQ_OFF_CSUM_VALID;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_CSUM);
	/* the partial checksum not at the TCP checksum field */
	o = b.off;
	o.csum_start = 14;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_CSUM);
	o = b.off;
	o.csum_offset = 6;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_CSUM);
	/* csum_start / csum_offset beyond the frame, with and without GSO */
	const uint16_t starts[] = { 0, 13, (uint16_t)(b.len - 1), (uint16_t)b.len, 65535 };
	for (int gso = 0; gso < 2; gso++) {
		for (unsigned i = 0; i < 5; i++) {
			o = b.off;
			if (!gso)
				o.gso_type = VMDQ_GSO_NONE;
			o.csum_start = starts[i];
			o.csum_offset = 0;
			assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_CSUM_RANGE);
		}
		o = b.off;
		if (!gso)
			o.gso_type = VMDQ_GSO_NONE;
		o.csum_offset = (uint16_t)(b.len - b.l4 - 1);
		assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_CSUM_RANGE);
		o.csum_offset = 65535;
		assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_CSUM_RANGE);
	}
	/* the last two bytes still do (no GSO: any field inside the frame) */
	o = b.off;
	o.gso_type = VMDQ_GSO_NONE;
	o.csum_offset = (uint16_t)(b.len - b.l4 - 2);
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_NONE);
	/* ECN on UDP */
	free(b.f);
	s = (struct spec){ .udp = 1, .payload = 3000 };
	b = mk(&s, 1000);
	o = b.off;
	o.flags |= VMDQ_OFF_ECN;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_ECN);
	/* UDP making more than 128 segments */
	o = b.off;
	o.gso_size = 23; /* 3000 / 23: 131 segments */
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_SIZE);
	o.gso_size = 24; /* 125 */
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_NONE);
	/* UDP claimed as TCP and the other way round */
	o = b.off;
	o.gso_type = VMDQ_GSO_TCPV4;
	o.csum_offset = 16;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_HEADERS);
	free(b.f);
	s = (struct spec){ .payload = 3000 };
	b = mk(&s, 1448);
	o = b.off;
	o.gso_type = VMDQ_GSO_UDP_L4;
	o.csum_offset = 6;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_HEADERS);
	/* IPv4 claimed as IPv6 */
	o = b.off;
	o.gso_type = VMDQ_GSO_TCPV6;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_HEADERS);
	/* a super-frame longer than 64 KiB */
	uint8_t *big = calloc(1, VMDQ_MAX_SUPER + 1);
	memcpy(big, b.f, b.len);
	o = b.off;
	assert_int_equal(vmdq_off_check(big, VMDQ_MAX_SUPER + 1, &o), VMDQ_OFF_ERR_SUPER_LONG);
	o = (struct vmdq_offload){ 0 };
	assert_int_equal(vmdq_off_check(big, VMDQ_MAX_SUPER + 1, &o), VMDQ_OFF_ERR_SUPER_LONG);
	free(big);

	/* headers that do not parse */
	struct { uint32_t at; uint8_t v; enum vmdq_off_err e; } bad[] = {
		{ 12, 0x86, VMDQ_OFF_ERR_GSO_HEADERS },     /* ethertype 0x8600 */
		{ 14, 0x65, VMDQ_OFF_ERR_GSO_HEADERS },     /* IP version 6 in an IPv4 frame */
		{ 14, 0x44, VMDQ_OFF_ERR_GSO_HEADERS },     /* ihl 4 */
		{ 14, 0x4f, VMDQ_OFF_ERR_GSO_CSUM },        /* ihl 15: TCP not at csum_start */
		{ 20, 0x20, VMDQ_OFF_ERR_GSO_HEADERS },     /* MF: a fragment */
		{ 21, 0x01, VMDQ_OFF_ERR_GSO_HEADERS },     /* fragment offset */
		{ 23, 17, VMDQ_OFF_ERR_GSO_HEADERS },       /* protocol UDP */
		{ 16, 0x00, VMDQ_OFF_ERR_GSO_IP_LEN },      /* total length */
		{ 46, 0x40, VMDQ_OFF_ERR_GSO_HEADERS },     /* TCP data offset 4 */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t keep = b.f[bad[i].at];
		b.f[bad[i].at] = bad[i].v;
		o = b.off;
		assert_int_equal(check_with(&b, o), bad[i].e);
		b.f[bad[i].at] = keep;
	}
	/* cut short anywhere inside the headers */
	for (uint32_t l = 0; l < b.hdr; l++) {
		o = b.off;
		enum vmdq_off_err e = vmdq_off_check(b.f, l, &o);
		assert_true(e == VMDQ_OFF_ERR_GSO_HEADERS || e == VMDQ_OFF_ERR_CSUM_RANGE ||
			    e == VMDQ_OFF_ERR_GSO_IP_LEN);
	}
	/* TCP data offset past the frame: a 54-byte frame saying 60 bytes */
	o = b.off;
	b.f[46] = 0xf0;
	put16(b.f + 16, 40);
	assert_int_equal(vmdq_off_check(b.f, 54, &o), VMDQ_OFF_ERR_GSO_HEADERS);
	free(b.f);

	/* three tags */
	s = (struct spec){ .payload = 3000, .tags = 2 };
	b = mk(&s, 1448);
	o = b.off;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_NONE);
	put16(b.f + 20, 0x8100);
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_HEADERS);
	free(b.f);

	/* IPv6: payload length, routing header, extension headers */
	s = (struct spec){ .v6 = 1, .payload = 3000 };
	b = mk(&s, 1448);
	o = b.off;
	put16(b.f + 18, 5);
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_IP_LEN);
	put16(b.f + 18, (uint16_t)(b.len - 54));
	b.f[20] = 43;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_HEADERS);
	b.f[20] = 44;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_HEADERS);
	/* a hop-by-hop header of 8 bytes then TCP: csum_start moves with it */
	b.f[20] = 0;
	b.f[54] = 6;
	b.f[55] = 0;
	o.csum_start = 62;
	assert_int_equal(check_with(&b, o), VMDQ_OFF_ERR_GSO_HEADERS); /* TCP doff now 0 */
	free(b.f);

	/* the names */
	assert_string_equal(vmdq_off_err_name(VMDQ_OFF_ERR_NONE), "none");
	assert_string_equal(vmdq_off_err_name(VMDQ_OFF_ERR_CSUM_RANGE), "csum-range");
	assert_string_equal(vmdq_off_err_name(VMDQ_OFF_ERR_GSO_ECN), "gso-ecn");
	assert_string_equal(vmdq_off_err_name(VMDQ_OFF_ERR__COUNT), "?");
}

static void check_small_gso_is_not_gso(void **st)
{
	(void)st;
	/* payload == gso_size: one segment, so an ordinary frame */
	struct spec s = { .payload = 1448 };
	struct built b = mk(&s, 1448);
	struct vmdq_offload o = b.off;
	o.flags |= VMDQ_OFF_ECN;
	assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.gso_type, VMDQ_GSO_NONE);
	assert_int_equal(o.gso_size, 0);
	assert_int_equal(o.hdr_len, 0);
	assert_int_equal(o.flags, VMDQ_OFF_CSUM_PARTIAL);
	assert_int_equal(o.csum_start, b.l4);
	assert_int_equal(vmdq_off_needs(&o), VMDQ_OFF_CAP_CSUM);
	assert_int_equal(vmdq_gso_segs(&o, b.len), 0);
	assert_int_equal(vmdq_gso_out_size(&o, b.len), 0);
	/* no payload at all */
	free(b.f);
	s.payload = 0;
	b = mk(&s, 1448);
	o = b.off;
	assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.gso_type, VMDQ_GSO_NONE);
	free(b.f);
	/* an ordinary frame: nothing to check, ECN meaningless */
	uint8_t f[60] = { 0 };
	o = (struct vmdq_offload){ .flags = VMDQ_OFF_ECN | VMDQ_OFF_CSUM_VALID, .hdr_len = 999,
				   .gso_size = 5, .csum_start = 3 };
	assert_int_equal(vmdq_off_check(f, 60, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.flags, VMDQ_OFF_CSUM_VALID);
	assert_int_equal(o.hdr_len, 0);
	assert_int_equal(o.gso_size, 0);
	assert_int_equal(o.csum_start, 0);
	assert_int_equal(vmdq_off_needs(&o), 0);
}

/* ---- completing checksums ---- */
static void csum_complete_matches_reference(void **st)
{
	(void)st;
	uint8_t *f = malloc(65536);
	uint8_t *ref = malloc(65536);
	uint32_t seed = 12345;
	const uint32_t lens[] = { 60, 61, 64, 65, 127, 128, 129, 1514, 1515, 9000, 9001, 65535 };
	for (unsigned li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		uint32_t len = lens[li];
		for (unsigned start = 14; start < 14 + 19; start++) {
			for (uint32_t i = 0; i < len; i++) {
				seed = seed * 1103515245u + 12345u;
				f[i] = (uint8_t)(seed >> 16);
			}
			if (start == 20) /* all ones: sums that wrap many times */
				memset(f, 0xff, len);
			if (start == 21) /* all zeros after the field: 0 -> 0xffff */
				memset(f + start, 0, len - start);
			uint16_t off = (uint16_t)((start * 3) % 17);
			memcpy(ref, f, len);
			uint16_t want = (uint16_t)~naive_fold(naive_sum(ref + start, len - start, 0));
			if (want == 0)
				want = 0xffff;
			struct vmdq_offload o = { .flags = VMDQ_OFF_CSUM_PARTIAL,
						  .csum_start = (uint16_t)start, .csum_offset = off };
			assert_int_equal(vmdq_csum_complete(f, len, &o), 0);
			assert_int_equal(be16(f + start + off), want);
			put16(ref + start + off, want);
			assert_memory_equal(f, ref, len); /* nothing else written */
			assert_int_equal(o.flags, VMDQ_OFF_CSUM_VALID);
		}
	}
	/* refused: not partial, or the field past the end */
	struct vmdq_offload o = { .flags = 0, .csum_start = 14 };
	assert_int_equal(vmdq_csum_complete(f, 60, &o), -EINVAL);
	o = (struct vmdq_offload){ .flags = VMDQ_OFF_CSUM_PARTIAL, .csum_start = 50,
				   .csum_offset = 9 };
	assert_int_equal(vmdq_csum_complete(f, 60, &o), -EINVAL);
	assert_int_equal(o.flags, VMDQ_OFF_CSUM_PARTIAL);
	free(f);
	free(ref);

	/* a real TCP frame: the completed checksum verifies */
	struct spec s = { .payload = 1001, .tcpopt = 12 };
	struct built b = mk(&s, 1448);
	o = b.off;
	assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(vmdq_csum_complete(b.f, b.len, &o), 0);
	assert_true(l4_ok(b.f, b.l3, b.l4, b.len, 0, 6));
	free(b.f);
	s = (struct spec){ .v6 = 1, .udp = 1, .payload = 777 };
	b = mk(&s, 1448);
	o = b.off;
	assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(vmdq_csum_complete(b.f, b.len, &o), 0);
	assert_true(l4_ok(b.f, b.l3, b.l4, b.len, 1, 17));
	free(b.f);
}

/* ---- segmentation ---- */

/* Segments b, checks every segment against what the kernel's GSO makes,
 * returns the number of segments. */
static unsigned segment_and_verify(struct built *b, const struct spec *s, uint16_t mss,
				   uint16_t extra_flags)
{
	struct vmdq_offload o = b->off;
	o.flags |= extra_flags;
	assert_int_equal(vmdq_off_check(b->f, b->len, &o), VMDQ_OFF_ERR_NONE);
	assert_int_equal(o.hdr_len, b->hdr);
	uint32_t payload = s->payload;
	uint32_t n = (payload + mss - 1) / mss;
	assert_int_equal(vmdq_gso_segs(&o, b->len), n);
	size_t need = vmdq_gso_out_size(&o, b->len);
	assert_int_equal(need, (size_t)n * b->hdr + payload);
	uint8_t *out = malloc(need);
	struct vmdq_frame *segs = malloc(n * sizeof(*segs));
	assert_int_equal(vmdq_gso_segment(b->f, b->len, &o, out, need, segs, n), (int)n);
	uint32_t at = 0;
	uint8_t proto = s->udp ? 17 : 6;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = segs[i].data;
		uint32_t sl = segs[i].len;
		uint32_t plen = i + 1 < n ? mss : payload - i * mss;
		assert_ptr_equal(p, out + at);
		assert_int_equal(sl, b->hdr + plen);
		assert_int_equal(segs[i].caplen, sl);
		assert_int_equal(segs[i].off.flags, VMDQ_OFF_CSUM_VALID);
		assert_int_equal(segs[i].off.gso_type, VMDQ_GSO_NONE);
		/* Ethernet and tags as they were */
		assert_memory_equal(p, b->f, b->l3);
		/* payload: the i-th piece */
		assert_memory_equal(p + b->hdr, b->f + b->hdr + i * mss, plen);
		if (s->v6) {
			assert_int_equal(be16(p + b->l3 + 4), sl - b->l3 - 40);
			assert_memory_equal(p + b->l3 + 6, b->f + b->l3 + 6, 34);
		} else {
			uint32_t ihl = b->l4 - b->l3;
			assert_int_equal(be16(p + b->l3 + 2), sl - b->l3);
			uint16_t id = (extra_flags & VMDQ_OFF_FIXEDID) ? s->ipid
								     : (uint16_t)(s->ipid + i);
			assert_int_equal(be16(p + b->l3 + 4), id);
			assert_int_equal(naive_fold(naive_sum(p + b->l3, ihl, 0)), 0xffff);
			assert_memory_equal(p + b->l3 + 6, b->f + b->l3 + 6, 4); /* frag, ttl, proto */
			assert_memory_equal(p + b->l3 + 12, b->f + b->l3 + 12, ihl - 12);
		}
		if (s->udp) {
			assert_int_equal(be16(p + b->l4 + 4), sl - b->l4);
			assert_true(be16(p + b->l4 + 6) != 0);
		} else {
			assert_int_equal(be32(p + b->l4 + 4), s->seq + i * mss);
			uint8_t fl = s->tcpflags;
			if (i + 1 < n)
				fl &= (uint8_t)~0x09;
			if (i > 0)
				fl &= (uint8_t)~0x80;
			assert_int_equal(p[b->l4 + 13], fl);
			assert_memory_equal(p + b->l4 + 8, b->f + b->l4 + 8, 5);   /* ack, doff */
			assert_memory_equal(p + b->l4 + 14, b->f + b->l4 + 14, 2); /* window */
			assert_memory_equal(p + b->l4 + 18, b->f + b->l4 + 18, b->hdr - b->l4 - 18);
		}
		assert_true(l4_ok(p, b->l3, b->l4, sl, s->v6, proto));
		at += sl;
	}
	assert_int_equal(at, need);
	/* one byte or one entry less: refused, nothing written past the end
	 * (ASan) */
	uint8_t *small = malloc(need - 1);
	assert_int_equal(vmdq_gso_segment(b->f, b->len, &o, small, need - 1, segs, n), -ENOSPC);
	assert_int_equal(vmdq_gso_segment(b->f, b->len, &o, out, need, segs, n - 1), -ENOSPC);
	free(small);
	free(out);
	free(segs);
	return n;
}

static void gso_tcpv4(void **st)
{
	(void)st;
	struct spec s = { .payload = 4000, .tcpflags = 0x18 | 0x01 | 0x80, .ipid = 7,
			  .seq = 0xfffff000u, .df = 1 };
	struct built b = mk(&s, 1448);
	assert_int_equal(segment_and_verify(&b, &s, 1448, 0), 3); /* 1448 1448 1104 */
	free(b.f);
	/* exact multiple, options in IP and TCP, id wrapping */
	s = (struct spec){ .payload = 4 * 1000, .tcpflags = 0x10, .ipid = 0xfffe, .seq = 1,
			   .ipopt = 12, .tcpopt = 12 };
	b = mk(&s, 1000);
	assert_int_equal(segment_and_verify(&b, &s, 1000, 0), 4);
	free(b.f);
	/* the fixed-id rule */
	s = (struct spec){ .payload = 5000, .tcpflags = 0x18, .ipid = 300, .df = 1 };
	b = mk(&s, 1448);
	assert_int_equal(segment_and_verify(&b, &s, 1448, VMDQ_OFF_FIXEDID), 4);
	free(b.f);
	/* the largest: 64 KiB less the headers, gso_size 1 byte short of two
	 * segments' worth, and gso_size 1 */
	s = (struct spec){ .payload = 65535 - 40, .tcpflags = 0x19, .seq = 99 };
	b = mk(&s, 1448);
	assert_int_equal(segment_and_verify(&b, &s, 1448, 0), 46);
	free(b.f);
	s = (struct spec){ .payload = 3, .tcpflags = 0x19, .seq = 99 };
	b = mk(&s, 1);
	assert_int_equal(segment_and_verify(&b, &s, 1, 0), 3);
	free(b.f);
}

static void gso_tcpv6_and_tagged(void **st)
{
	(void)st;
	struct spec s = { .v6 = 1, .payload = 3001, .tcpflags = 0x18 | 0x80, .seq = 5 };
	struct built b = mk(&s, 1440);
	assert_int_equal(segment_and_verify(&b, &s, 1440, 0), 3);
	free(b.f);
	s = (struct spec){ .v6 = 1, .payload = 2880, .tcpflags = 0x11, .tags = 1, .tcpopt = 20 };
	b = mk(&s, 1440);
	assert_int_equal(segment_and_verify(&b, &s, 1440, 0), 2);
	free(b.f);
	for (int tags = 1; tags <= 2; tags++) {
		s = (struct spec){ .payload = 9000, .tcpflags = 0x18, .tags = tags, .ipid = 1 };
		b = mk(&s, 1448);
		assert_int_equal(segment_and_verify(&b, &s, 1448, 0), 7);
		free(b.f);
	}
}

static void gso_udp(void **st)
{
	(void)st;
	struct spec s = { .udp = 1, .payload = 3500, .ipid = 40 };
	struct built b = mk(&s, 1200);
	assert_int_equal(segment_and_verify(&b, &s, 1200, 0), 3);
	free(b.f);
	s = (struct spec){ .udp = 1, .v6 = 1, .payload = 2400, .tags = 1 };
	b = mk(&s, 1200);
	assert_int_equal(segment_and_verify(&b, &s, 1200, 0), 2);
	free(b.f);
}

static void gso_refuses_what_check_did_not_accept(void **st)
{
	(void)st;
	struct spec s = { .payload = 3000 };
	struct built b = mk(&s, 1448);
	uint8_t out[8192];
	struct vmdq_frame segs[8];
	struct vmdq_offload o = b.off;
	/* hdr_len not the real one (unchecked) */
	o.hdr_len = 10;
	assert_int_equal(vmdq_gso_segment(b.f, b.len, &o, out, sizeof(out), segs, 8), -EINVAL);
	o.hdr_len = 60000;
	assert_int_equal(vmdq_gso_segment(b.f, b.len, &o, out, sizeof(out), segs, 8), -EINVAL);
	o = b.off;
	o.gso_size = 0;
	assert_int_equal(vmdq_gso_segment(b.f, b.len, &o, out, sizeof(out), segs, 8), -EINVAL);
	o = b.off;
	o.gso_type = VMDQ_GSO_NONE;
	assert_int_equal(vmdq_gso_segment(b.f, b.len, &o, out, sizeof(out), segs, 8), -EINVAL);
	o.gso_type = 77;
	assert_int_equal(vmdq_gso_segment(b.f, b.len, &o, out, sizeof(out), segs, 8), -EINVAL);
	o = b.off;
	o.gso_size = 3000; /* one segment: not a super-frame */
	assert_int_equal(vmdq_gso_segment(b.f, b.len, &o, out, sizeof(out), segs, 8), -EINVAL);
	/* cut short: the headers no longer parse */
	o = b.off;
	assert_int_equal(vmdq_gso_segment(b.f, 40, &o, out, sizeof(out), segs, 8), -EINVAL);
	/* an empty output */
	assert_int_equal(vmdq_gso_segment(b.f, b.len, &o, out, 0, segs, 8), -ENOSPC);
	assert_int_equal(vmdq_gso_segment(b.f, b.len, &o, out, sizeof(out), segs, 0), -ENOSPC);
	free(b.f);
}

static void gso_partial_from_verified(void **st)
{
	(void)st;
	/* an LRO / hardware-GRO super-frame: checksums verified, the field
	 * holding some complete checksum (here the whole frame's) */
	for (int v6 = 0; v6 < 2; v6++) {
		struct spec s = { .v6 = v6, .payload = 4000, .tcpflags = 0x18, .tags = v6 };
		struct built b = mk(&s, 1448);
		struct vmdq_offload o = b.off;
		assert_int_equal(vmdq_csum_complete(b.f, b.len, &o), 0);
		assert_true(l4_ok(b.f, b.l3, b.l4, b.len, v6, 6));
		o = (struct vmdq_offload){ .flags = VMDQ_OFF_CSUM_VALID, .gso_type = b.off.gso_type,
					   .gso_size = 1448, .hdr_len = 7 };
		struct vmdq_offload c = o;
		assert_int_equal(vmdq_off_check(b.f, b.len, &c), VMDQ_OFF_ERR_GSO_CSUM);
		assert_int_equal(vmdq_off_gso_partial(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
		assert_int_equal(o.flags, VMDQ_OFF_CSUM_PARTIAL);
		assert_int_equal(o.csum_start, b.l4);
		assert_int_equal(o.csum_offset, 16);
		/* the field now holds the pseudo-header sum */
		assert_int_equal(be16(b.f + b.l4 + 16),
				 naive_fold(pseudo_sum(b.f, b.l3, b.l4, b.len, v6, 6)));
		assert_int_equal(vmdq_off_check(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
		assert_int_equal(o.hdr_len, b.hdr);
		unsigned n = segment_and_verify(&b, &s, 1448, 0);
		assert_int_equal(n, 3);
		assert_int_equal(vmdq_csum_complete(b.f, b.len, &o), 0);
		assert_true(l4_ok(b.f, b.l3, b.l4, b.len, v6, 6));
		free(b.f);
	}
	/* nothing to do: not GSO, already partial, not verified */
	struct spec s = { .payload = 3000 };
	struct built b = mk(&s, 1448);
	uint8_t *keep = malloc(b.len);
	memcpy(keep, b.f, b.len);
	struct vmdq_offload none[] = {
		{ .flags = VMDQ_OFF_CSUM_VALID },
		b.off,
		{ .gso_type = VMDQ_GSO_TCPV4, .gso_size = 1448 },
		{ .flags = VMDQ_OFF_CSUM_VALID, .gso_type = 9, .gso_size = 1448 },
	};
	for (unsigned i = 0; i < 4; i++) {
		struct vmdq_offload o = none[i];
		assert_int_equal(vmdq_off_gso_partial(b.f, b.len, &o), VMDQ_OFF_ERR_NONE);
		assert_memory_equal(&o, &none[i], sizeof(o));
		assert_memory_equal(b.f, keep, b.len);
	}
	/* headers that do not parse: their reason, nothing written */
	struct vmdq_offload o = { .flags = VMDQ_OFF_CSUM_VALID, .gso_type = VMDQ_GSO_TCPV6,
				  .gso_size = 1448 };
	assert_int_equal(vmdq_off_gso_partial(b.f, b.len, &o), VMDQ_OFF_ERR_GSO_HEADERS);
	assert_int_equal(vmdq_off_gso_partial(b.f, 40, &o), VMDQ_OFF_ERR_GSO_HEADERS);
	assert_memory_equal(b.f, keep, b.len);
	free(keep);
	free(b.f);
}

/* vmdq_csum_pseudo against the naive sum, TCP and UDP over IPv4 (with a
 * tag) and IPv6, odd lengths and a length over 16 bits; stored in the field
 * it is what vmdq_csum_complete completes into a checksum that verifies */
static void csum_pseudo_matches_reference(void **st)
{
	(void)st;
	for (int v6 = 0; v6 < 2; v6++)
		for (int udp = 0; udp < 2; udp++) {
			struct spec s = { .v6 = v6, .udp = udp, .tags = !v6, .payload = 777,
					  .tcpflags = 0x18 };
			struct built b = mk(&s, 1448);
			uint8_t proto = udp ? 17 : 6;
			uint32_t field = b.l4 + (udp ? 6u : 16u);
			uint16_t want = naive_fold(pseudo_sum(b.f, b.l3, b.l4, b.len, v6, proto));
			uint16_t got = vmdq_csum_pseudo(b.f, b.l3, v6, proto, b.len - b.l4);
			uint8_t w[2];
			memcpy(w, &got, 2);
			assert_int_equal(be16(w), want);
			/* the frame's field as a sender would leave it: completed,
			 * the checksum verifies */
			put16(b.f + field, 0xabcd);
			memcpy(b.f + field, &got, 2);
			struct vmdq_offload o = { .flags = VMDQ_OFF_CSUM_PARTIAL,
						  .csum_start = (uint16_t)b.l4,
						  .csum_offset = udp ? 6 : 16 };
			assert_int_equal(vmdq_csum_complete(b.f, b.len, &o), 0);
			assert_true(l4_ok(b.f, b.l3, b.l4, b.len, v6, proto));
			/* a length past 16 bits: both of its halves in the sum */
			got = vmdq_csum_pseudo(b.f, b.l3, v6, proto, 0x10005);
			memcpy(w, &got, 2);
			uint32_t r = v6 ? naive_sum(b.f + b.l3 + 8, 32, 0)
					: naive_sum(b.f + b.l3 + 12, 8, 0);
			assert_int_equal(be16(w), naive_fold(r + proto + 1 + 5));
			free(b.f);
		}
}

static void moved_follows_a_tag(void **st)
{
	(void)st;
	struct vmdq_offload o = { .flags = VMDQ_OFF_CSUM_PARTIAL, .gso_type = VMDQ_GSO_TCPV4,
				  .gso_size = 1448, .hdr_len = 54, .csum_start = 34,
				  .csum_offset = 16 };
	vmdq_off_moved(&o, 4);
	assert_int_equal(o.hdr_len, 58);
	assert_int_equal(o.csum_start, 38);
	vmdq_off_moved(&o, -4);
	assert_int_equal(o.hdr_len, 54);
	assert_int_equal(o.csum_start, 34);
	o = (struct vmdq_offload){ 0 };
	vmdq_off_moved(&o, 4);
	assert_int_equal(o.hdr_len, 0);
	assert_int_equal(o.csum_start, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vnet_parse_maps_types_and_flags),
		cmocka_unit_test(vnet_build_round_trips),
		cmocka_unit_test(check_accepts_and_fixes_hdr_len),
		cmocka_unit_test(check_names_every_hostile_case),
		cmocka_unit_test(check_small_gso_is_not_gso),
		cmocka_unit_test(csum_complete_matches_reference),
		cmocka_unit_test(gso_tcpv4),
		cmocka_unit_test(gso_tcpv6_and_tagged),
		cmocka_unit_test(gso_udp),
		cmocka_unit_test(gso_refuses_what_check_did_not_accept),
		cmocka_unit_test(gso_partial_from_verified),
		cmocka_unit_test(csum_pseudo_matches_reference),
		cmocka_unit_test(moved_follows_a_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
