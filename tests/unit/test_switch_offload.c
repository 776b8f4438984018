/* SPDX-License-Identifier: MIT */
/* SPEC 5 in the switch, on dummy ports: a super-frame crosses whole where
 * the next hop takes it and is cut where it does not; a partial checksum
 * is completed for a port that cannot leave it partial; access VLANs tag
 * and untag super-frames with their offsets; the gso-segs bound. */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"
#include "../../switch/internal.h"

#include "../../ports/dummy.h"

#define UP_MAC 0x02ff00000001ull
#define EXT 0x02ee00000001ull

static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint64_t sum16(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* A TCP over IPv4 frame: dst, src, tag (vid 0: none), payload of plen
 * bytes; the TCP checksum left partial (the pseudo-header sum), as a
 * kernel hands it over with offloads on. */
static uint32_t tcp4(uint8_t *b, uint64_t dst, uint64_t src, uint16_t vid, uint32_t plen,
		     uint8_t flags, struct vmdq_offload *off, uint16_t mss)
{
	uint32_t o = 0;
	mac_from_u64(dst, b);
	mac_from_u64(src, b + 6);
	o = 12;
	if (vid) {
		b[o++] = 0x81;
		b[o++] = 0;
		b[o++] = (uint8_t)(vid >> 8);
		b[o++] = (uint8_t)vid;
	}
	b[o++] = 0x08;
	b[o++] = 0x00;
	uint32_t ip = o, tcp = ip + 20, pay = tcp + 20;
	uint32_t tot = 40 + plen;
	memset(b + ip, 0, 40);
	b[ip] = 0x45;
	b[ip + 2] = (uint8_t)(tot >> 8);
	b[ip + 3] = (uint8_t)tot;
	b[ip + 4] = 0x12; /* id */
	b[ip + 5] = 0x34;
	b[ip + 6] = 0x40; /* DF */
	b[ip + 8] = 64;
	b[ip + 9] = 6;
	memcpy(b + ip + 12, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	uint16_t hc = (uint16_t)~fold(sum16(b + ip, 20));
	b[ip + 10] = (uint8_t)(hc >> 8);
	b[ip + 11] = (uint8_t)hc;
	b[tcp] = 0x30; b[tcp + 1] = 0x39;   /* 12345 */
	b[tcp + 2] = 0x14; b[tcp + 3] = 0x51; /* 5201 */
	b[tcp + 4] = 0x01; /* seq 0x01000000 */
	b[tcp + 12] = 0x50;
	b[tcp + 13] = flags;
	b[tcp + 14] = 0xff;
	for (uint32_t i = 0; i < plen; i++)
		b[pay + i] = (uint8_t)(i * 13 + 1);
	/* pseudo-header sum, not complemented, in the checksum field */
	uint64_t ph = sum16(b + ip + 12, 8) + 6 + (20 + plen);
	uint16_t p = fold(ph);
	b[tcp + 16] = (uint8_t)(p >> 8);
	b[tcp + 17] = (uint8_t)p;
	*off = (struct vmdq_offload){ .flags = VMDQ_OFF_CSUM_PARTIAL, .csum_start = (uint16_t)tcp,
				      .csum_offset = 16 };
	if (mss && plen > mss) {
		off->gso_type = VMDQ_GSO_TCPV4;
		off->gso_size = mss;
		off->hdr_len = (uint16_t)pay;
	}
	return pay + plen;
}

/* The TCP checksum of a complete TCP/IPv4 frame verifies. */
static bool tcp4_ok(const uint8_t *b, uint32_t len)
{
	uint32_t ip = 12;
	if (b[12] == 0x81)
		ip += 4;
	ip += 2;
	if (fold(sum16(b + ip, 20)) != 0xffff)
		return false;
	uint32_t tot = (uint32_t)(b[ip + 2] << 8 | b[ip + 3]);
	if (ip + tot != len)
		return false;
	uint64_t s = sum16(b + ip + 12, 8) + 6 + (tot - 20) + sum16(b + ip + 20, tot - 20);
	return fold(s) == 0xffff;
}

struct rig {
	struct vmdq_dev *dev;
	struct vmdq_switch *sw;
	struct vmdq_dummy *up;
};

static void rig_up(struct rig *r, const char *up_offload)
{
	r->dev = vmdq_dev_create();
	r->sw = vmdq_switch_create(r->dev);
	assert_non_null(r->sw);
	char err[256] = "";
	char *args[2] = { (char[]){ "offload" }, (char *)up_offload };
	assert_int_equal(vmdq_switch_set_uplink(r->sw, "up", "dummy", args, up_offload ? 2 : 0,
						err, sizeof(err)), 0);
	r->up = vmdq_dummy_find("up");
	assert_non_null(r->up);
}

static void rig_down(struct rig *r)
{
	vmdq_switch_destroy(r->sw);
	vmdq_dev_destroy(r->dev);
}

static struct vmdq_dummy *vif(struct rig *r, const char *name, uint64_t mac, uint16_t vlan,
			      const char *offload)
{
	char *args[2] = { (char[]){ "offload" }, (char *)offload };
	struct sw_vif_spec s = { .name = name, .kind = "dummy", .vlan = vlan, .queue = -1,
				 .args = args, .nargs = offload ? 2 : 0 };
	mac_from_u64(mac, s.mac);
	char err[256] = "";
	if (vmdq_switch_vif_add(r->sw, &s, err, sizeof(err)) < 0)
		fail_msg("vif add: %s", err);
	return vmdq_dummy_find(name);
}

static void run(struct rig *r)
{
	for (int i = 0; i < 8; i++)
		vmdq_switch_poll(r->sw, 0);
}

static void counters(struct rig *r, uint64_t super, uint64_t segs, uint64_t csum)
{
	struct sw_wire_cnt wc;
	vmdq_switch_wire_counters(r->sw, &wc);
	assert_int_equal(wc.off[SWO_SUPER], super);
	assert_int_equal(wc.off[SWO_SEGMENTS], segs);
	assert_int_equal(wc.off[SWO_CSUM], csum);
}

static uint8_t B[VMDQ_MAX_SUPER + 64];

/* VM -> wire: whole to an uplink that takes TSO, cut for one that does not,
 * and the cut is what the library makes of the same super-frame. */
static void vm_to_wire_whole_or_cut(void **s)
{
	(void)s;
	for (int takes = 0; takes <= 1; takes++) {
		struct rig r;
		rig_up(&r, takes ? "csum,tso4" : NULL);
		struct vmdq_dummy *a = vif(&r, "a", VM1, 0, "csum,tso4");
		struct vmdq_offload off;
		uint32_t len = tcp4(B, EXT, VM1, 0, 10000, 0x18, &off, 1448);
		assert_int_equal(vmdq_dummy_inject_off(a, B, len, &off), 0);
		run(&r);
		if (takes) {
			assert_int_equal(vmdq_dummy_sent(r.up), 1);
			uint32_t l;
			const uint8_t *d = vmdq_dummy_frame(r.up, 0, &l);
			assert_int_equal(l, len);
			assert_memory_equal(d, B, len);
			const struct vmdq_offload *o = vmdq_dummy_frame_off(r.up, 0);
			assert_int_equal(o->gso_type, VMDQ_GSO_TCPV4);
			assert_int_equal(o->gso_size, 1448);
			assert_int_equal(o->csum_start, 34);
			counters(&r, 1, 0, 0);
		} else {
			/* 10000 / 1448: 6 full segments and one of 1312 */
			static uint8_t out[SW_GSO_BYTES];
			struct vmdq_frame seg[16];
			int n = vmdq_gso_segment(B, len, &off, out, sizeof(out), seg, 16);
			assert_int_equal(n, 7);
			assert_int_equal(vmdq_dummy_sent(r.up), 7);
			for (int i = 0; i < 7; i++) {
				uint32_t l;
				const uint8_t *d = vmdq_dummy_frame(r.up, (unsigned)i, &l);
				assert_int_equal(l, seg[i].len);
				assert_memory_equal(d, seg[i].data, l);
				assert_true(tcp4_ok(d, l));
				assert_int_equal(l, i < 6 ? 54 + 1448 : 54 + 10000 - 6 * 1448);
			}
			counters(&r, 1, 7, 0);
		}
		rig_down(&r);
	}
}

/* VM -> VM: the neighbour that takes TSO gets it whole, the one that does
 * not gets segments; a partial checksum alone is completed for a port
 * without checksum offload. */
static void vm_to_vm_by_next_hop(void **s)
{
	(void)s;
	struct rig r;
	rig_up(&r, NULL);
	struct vmdq_dummy *a = vif(&r, "a", VM1, 0, "csum,tso4");
	struct vmdq_dummy *b = vif(&r, "b", VM2, 0, NULL);
	struct vmdq_dummy *c = vif(&r, "c", VM3, 0, "csum,tso4");
	struct vmdq_offload off;
	uint32_t len = tcp4(B, VM2, VM1, 0, 4000, 0x10, &off, 1448);
	assert_int_equal(vmdq_dummy_inject_off(a, B, len, &off), 0);
	len = tcp4(B, VM3, VM1, 0, 4000, 0x10, &off, 1448);
	assert_int_equal(vmdq_dummy_inject_off(a, B, len, &off), 0);
	/* checksum offload alone, 500 bytes of payload, to b */
	uint32_t small = tcp4(B, VM2, VM1, 0, 500, 0x18, &off, 0);
	assert_int_equal(off.gso_type, VMDQ_GSO_NONE);
	assert_int_equal(vmdq_dummy_inject_off(a, B, small, &off), 0);
	run(&r);
	assert_int_equal(vmdq_dummy_sent(b), 3 + 1); /* 1448 + 1448 + 1104, then the small one */
	for (unsigned i = 0; i < 4; i++) {
		uint32_t l;
		const uint8_t *d = vmdq_dummy_frame(b, i, &l);
		assert_true(tcp4_ok(d, l));
		assert_int_equal(vmdq_dummy_frame_off(b, i)->flags & VMDQ_OFF_CSUM_PARTIAL, 0);
	}
	uint32_t l;
	vmdq_dummy_frame(b, 3, &l);
	assert_int_equal(l, small);
	assert_int_equal(vmdq_dummy_sent(c), 1);
	vmdq_dummy_frame(c, 0, &l);
	assert_int_equal(l, len);
	assert_int_equal(vmdq_dummy_frame_off(c, 0)->gso_type, VMDQ_GSO_TCPV4);
	counters(&r, 2, 3, 1);
	rig_down(&r);
}

/* An access vif's super-frame goes to the wire tagged, its offsets moved
 * by the tag; from the wire, a tagged super-frame reaches it untagged, cut
 * for a vif without TSO. */
static void access_vlan_tags_super_frames(void **s)
{
	(void)s;
	struct rig r;
	rig_up(&r, "csum,tso4");
	struct vmdq_dummy *a = vif(&r, "a", VM1, 10, "csum,tso4");
	struct vmdq_dummy *b = vif(&r, "b", VM2, 10, NULL);
	struct vmdq_offload off;
	uint32_t len = tcp4(B, EXT, VM1, 0, 6000, 0x10, &off, 1448);
	assert_int_equal(vmdq_dummy_inject_off(a, B, len, &off), 0);
	run(&r);
	assert_int_equal(vmdq_dummy_sent(r.up), 1);
	uint32_t l;
	const uint8_t *d = vmdq_dummy_frame(r.up, 0, &l);
	assert_int_equal(l, len + 4);
	assert_int_equal(d[12], 0x81);
	assert_int_equal(d[15], 10);
	const struct vmdq_offload *o = vmdq_dummy_frame_off(r.up, 0);
	assert_int_equal(o->csum_start, 38);
	assert_int_equal(o->hdr_len, 58);
	assert_int_equal(o->gso_size, 1448);

	/* from the wire, tagged 10, to b (no offloads) */
	len = tcp4(B, VM2, EXT, 10, 6000, 0x10, &off, 1448);
	assert_int_equal(off.csum_start, 38);
	assert_int_equal(vmdq_dummy_inject_off(r.up, B, len, &off), 0);
	run(&r);
	/* 6000 = 4 x 1448 + 208: five untagged segments */
	assert_int_equal(vmdq_dummy_sent(b), 5);
	for (unsigned i = 0; i < 5; i++) {
		d = vmdq_dummy_frame(b, i, &l);
		assert_int_equal(d[12], 0x08);
		assert_true(tcp4_ok(d, l));
		assert_int_equal(l, i < 4 ? 54 + 1448 : 54 + 208);
	}
	/* and to a, which takes it whole: untagged, offsets back by 4 */
	len = tcp4(B, VM1, EXT, 10, 6000, 0x10, &off, 1448);
	assert_int_equal(vmdq_dummy_inject_off(r.up, B, len, &off), 0);
	run(&r);
	assert_int_equal(vmdq_dummy_sent(a), 1);
	d = vmdq_dummy_frame(a, 0, &l);
	assert_int_equal(l, len - 4);
	o = vmdq_dummy_frame_off(a, 0);
	assert_int_equal(o->csum_start, 34);
	assert_int_equal(o->hdr_len, 54);
	counters(&r, 3, 5, 0);
	rig_down(&r);
}

/* Behind an uplink that gives super-frames, a vif's receive buffers take
 * 64 KiB ones: whole to a vif that takes TSO, cut for one that does not;
 * the default queue (a flood) takes them too. */
static void wire_super_frames_of_64k(void **s)
{
	(void)s;
	struct rig r;
	rig_up(&r, "csum,tso4");
	struct vmdq_dummy *a = vif(&r, "a", VM1, 0, "csum,tso4");
	struct vmdq_dummy *b = vif(&r, "b", VM2, 0, NULL);
	struct vmdq_offload off;
	uint32_t len = tcp4(B, VM1, EXT, 0, 65000, 0x10, &off, 1448);
	assert_int_equal(vmdq_dummy_inject_off(r.up, B, len, &off), 0);
	len = tcp4(B, VM2, EXT, 0, 65000, 0x10, &off, 1448);
	assert_int_equal(vmdq_dummy_inject_off(r.up, B, len, &off), 0);
	run(&r);
	assert_int_equal(vmdq_dummy_sent(a), 1);
	uint32_t l;
	vmdq_dummy_frame(a, 0, &l);
	assert_int_equal(l, len);
	/* 65000 = 44 x 1448 + 1288 */
	assert_int_equal(vmdq_dummy_sent(b), 45);
	for (unsigned i = 0; i < 45; i++) {
		const uint8_t *d = vmdq_dummy_frame(b, i, &l);
		assert_true(tcp4_ok(d, l));
	}
	counters(&r, 2, 45, 0);
	struct vmdq_queue_stats qs;
	vmdq_queue_stats(r.dev, (unsigned)vmdq_dummy_queue(a), &qs);
	assert_int_equal(qs.missed, 0);
	rig_down(&r);
}

/* While a targeted vif exists, the uplink's super-frames are cut before the
 * device: a targeted vif's buffers (2048 bytes here) get the segments, each
 * in a buffer of its own, instead of a frame that fits none (missed). */
static void targeted_vif_gets_segments(void **s)
{
	(void)s;
	struct rig r;
	rig_up(&r, "csum,tso4");
	char *args[] = { (char[]){ "targeted" } };
	struct sw_vif_spec sp = { .name = "t", .kind = "dummy", .queue = -1, .args = args,
				  .nargs = 1 };
	mac_from_u64(VM1, sp.mac);
	char err[256] = "";
	if (vmdq_switch_vif_add(r.sw, &sp, err, sizeof(err)) < 0)
		fail_msg("vif add: %s", err);
	struct vmdq_dummy *t = vmdq_dummy_find("t");
	vmdq_dummy_refill(t);
	struct vmdq_offload off;
	uint32_t len = tcp4(B, VM1, EXT, 0, 10000, 0x10, &off, 1448);
	assert_int_equal(vmdq_dummy_inject_off(r.up, B, len, &off), 0);
	run(&r);
	assert_int_equal(vmdq_dummy_sent(t), 7);
	for (unsigned i = 0; i < 7; i++) {
		uint32_t l;
		const uint8_t *d = vmdq_dummy_frame(t, i, &l);
		assert_true(tcp4_ok(d, l));
		assert_int_equal(l, i < 6 ? 54 + 1448 : 54 + 10000 - 6 * 1448);
	}
	struct vmdq_queue_stats qs;
	vmdq_queue_stats(r.dev, (unsigned)vmdq_dummy_queue(t), &qs);
	assert_int_equal(qs.missed, 0);
	counters(&r, 1, 7, 0);
	rig_down(&r);
}

/* A super-frame that would make more segments than SW_GSO_MAX_SEGS is
 * dropped where it enters (gso-segs); its neighbour's frames are not. */
static void too_many_segments_dropped_at_entry(void **s)
{
	(void)s;
	struct rig r;
	rig_up(&r, NULL);
	struct vmdq_dummy *a = vif(&r, "a", VM1, 0, "csum,tso4");
	struct vmdq_dummy *b = vif(&r, "b", VM2, 0, NULL);
	struct vmdq_offload off;
	/* 60000 bytes in segments of 40: 1500 segments */
	uint32_t len = tcp4(B, EXT, VM1, 0, 60000, 0x10, &off, 40);
	assert_int_equal(vmdq_off_check(B, len, &off), VMDQ_OFF_ERR_NONE);
	assert_int_equal(vmdq_dummy_inject_off(a, B, len, &off), 0);
	struct tframe f;
	untagged(&f, VM2, 100);
	mac_from_u64(VM1, f.b + 6);
	struct vmdq_offload none = { 0 };
	assert_int_equal(vmdq_dummy_inject_off(a, f.b, f.len, &none), 0);
	run(&r);
	assert_int_equal(vmdq_dummy_sent(r.up), 0);
	assert_int_equal(vmdq_dummy_sent(b), 1);
	struct sw_cnt c;
	int vi = vmdq_switch_vif_find(r.sw, "a");
	vmdq_switch_vif_counters(r.sw, vi, &c);
	assert_int_equal(c.drops[SWD_GSO_SEGS], 1);
	assert_int_equal(c.from_vm, 2);
	counters(&r, 0, 0, 0);
	rig_down(&r);
}

/* Partial checksums for a port that cannot leave them partial: a run of
 * them is completed and handed over in one call (an AF_XDP port's call may
 * be a system call), in order, around an ordinary frame in the middle;
 * with room for fewer, the port takes what it can and the rest is dropped
 * as port-tx, as for any frames. */
static void partial_checksums_completed_in_one_call(void **s)
{
	(void)s;
	for (int short_room = 0; short_room <= 1; short_room++) {
		struct rig r;
		rig_up(&r, NULL);
		struct vmdq_dummy *a = vif(&r, "a", VM1, 0, "csum,tso4");
		struct vmdq_dummy *b = vif(&r, "b", VM2, 0, NULL);
		static uint8_t ref[20][200];
		uint32_t rl[20];
		for (unsigned i = 0; i < 20; i++) {
			struct vmdq_offload off;
			rl[i] = tcp4(ref[i], VM2, VM1, 0, 100 + i, 0x18, &off, 0);
			if (i == 10) {
				/* an ordinary frame: its checksum complete */
				assert_int_equal(vmdq_csum_complete(ref[i], rl[i], &off), 0);
				off = (struct vmdq_offload){ 0 };
			}
			assert_int_equal(vmdq_dummy_inject_off(a, ref[i], rl[i], &off), 0);
		}
		if (short_room)
			vmdq_dummy_set_room(b, 5);
		run(&r);
		struct vmdq_dummy_stats st;
		vmdq_dummy_stats(b, &st);
		struct sw_cnt c;
		vmdq_switch_vif_counters(r.sw, vmdq_switch_vif_find(r.sw, "b"), &c);
		if (short_room) {
			/* the first run of 10 in one call, 5 taken */
			assert_int_equal(vmdq_dummy_sent(b), 5);
			assert_int_equal(st.tx_calls, 1);
			assert_int_equal(st.tx_most, 10);
			assert_int_equal(c.to_vm, 5);
			assert_int_equal(c.drops[SWD_PORT_TX], 15);
			counters(&r, 0, 0, 10);
		} else {
			assert_int_equal(vmdq_dummy_sent(b), 20);
			/* 10 completed, the ordinary one, 9 completed */
			assert_int_equal(st.tx_calls, 3);
			assert_int_equal(st.tx_most, 10);
			assert_int_equal(c.to_vm, 20);
			counters(&r, 0, 0, 19);
		}
		for (unsigned i = 0; i < vmdq_dummy_sent(b); i++) {
			uint32_t l;
			const uint8_t *d = vmdq_dummy_frame(b, i, &l);
			assert_int_equal(l, rl[i]);
			assert_true(tcp4_ok(d, l));
			assert_int_equal(vmdq_dummy_frame_off(b, i)->flags & VMDQ_OFF_CSUM_PARTIAL, 0);
			/* only the checksum field differs from what was sent */
			assert_memory_equal(d, ref[i], 50);
			assert_memory_equal(d + 52, ref[i] + 52, l - 52);
		}
		rig_down(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vm_to_wire_whole_or_cut),
		cmocka_unit_test(vm_to_vm_by_next_hop),
		cmocka_unit_test(access_vlan_tags_super_frames),
		cmocka_unit_test(wire_super_frames_of_64k),
		cmocka_unit_test(targeted_vif_gets_segments),
		cmocka_unit_test(too_many_segments_dropped_at_entry),
		cmocka_unit_test(partial_checksums_completed_in_one_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
