/* SPDX-License-Identifier: MIT */
/* The switch's wire -> VM path for targeted (Level 2) vifs, through a fake
 * targeted port that shares "guest memory" with its queue: vif del of a
 * busy targeted vif (issue 12 point 7) and frames the switch drops never
 * written into the VM's buffers (point 5). */
#include <errno.h>

#include "helpers.h"
#include "../../switch/internal.h"

#include "../../ports/dummy.h"

/* A targeted dummy vif (ports/dummy.c): its "VM" shares its memory with the
 * vif's queue, every buffer posted (the whole ring). */
static int add_vif(struct vmdq_switch *sw, const char *name, uint64_t mac, uint16_t vlan)
{
	char *args[] = { (char[]){ "targeted" } };
	struct sw_vif_spec s = { .name = name, .kind = "dummy", .vlan = vlan, .queue = -1,
				 .args = args, .nargs = 1 };
	mac_from_u64(mac, s.mac);
	char err[256] = "";
	int vi = vmdq_switch_vif_add(sw, &s, err, sizeof(err));
	if (vi < 0)
		fail_msg("vif add: %s", err);
	struct vmdq_dummy *k = vmdq_dummy_last();
	assert_non_null(k);
	assert_int_equal(vmdq_dummy_refill(k), SW_RING);
	return vi;
}

static void send(struct vmdq_switch *sw, const struct tframe *f, unsigned n)
{
	struct vmdq_frame in[32];
	for (unsigned i = 0; i < 32; i++)
		in[i] = (struct vmdq_frame){ .data = f->b, .caplen = f->len, .len = f->len, .ts_ns = 0 };
	while (n) {
		unsigned m = n < 32 ? n : 32;
		vmdq_rx_burst(sw->dev, in, m, NULL);
		n -= m;
	}
}

static bool guest_untouched(const struct vmdq_dummy *k)
{
	size_t n;
	const uint8_t *g = vmdq_dummy_guest(k, &n);
	assert_non_null(g);
	for (size_t i = 0; i < n; i++)
		if (g[i] != VMDQ_DUMMY_FILL)
			return false;
	return true;
}

/* Point 7: 100 frames waiting in a targeted vif's queue when it is deleted:
 * finish_queue hands them over at most a burst at a time. */
static void vif_del_of_a_busy_targeted_vif(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	add_vif(sw, "vm", VM1, 0);
	struct tframe f;
	untagged(&f, VM1, 100);
	send(sw, &f, 100);
	struct vmdq_dummy *k = vmdq_dummy_find("vm");
	assert_int_equal(vmdq_rxq_ready(dev, (unsigned)vmdq_dummy_queue(k)), 100);
	vmdq_dummy_hold(k); /* its counters outlive the close */
	char err[256] = "";
	assert_int_equal(vmdq_switch_vif_del(sw, "vm", err, sizeof(err)), 0);
	assert_false(vmdq_dummy_is_open(k));
	struct vmdq_dummy_stats st;
	vmdq_dummy_stats(k, &st);
	assert_int_equal(st.delivered, 100);
	assert_int_equal(st.complete_most, 32);
	assert_int_equal(st.complete_calls, 4); /* 32 + 32 + 32 + 4 */
	struct sw_wire_cnt wc;
	vmdq_switch_wire_counters(sw, &wc);
	assert_int_equal(wc.polled, 100);
	assert_int_equal(wc.delivered, 100);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
	vmdq_dummy_forget();
}

/* Point 5: what the switch drops on a targeted vif's queue is counted as
 * before, and never reached the VM's memory. */
static void dropped_frames_never_in_guest_memory(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	assert_int_equal(vmdq_dev_set_store_bad(dev, true), 0);
	int u = add_vif(sw, "untagged", VM1, 0);
	int t = add_vif(sw, "tagged", VM2, 100);
	struct vmdq_dummy *ku = vmdq_dummy_find("untagged"), *kt = vmdq_dummy_find("tagged");
	/* whatever filter placed it (SPEC 2): VM2's MAC alone, on its queue */
	assert_true(vmdq_filter_add(dev, MAC(VM2), 0, (unsigned)vmdq_dummy_queue(kt)) > 0);
	struct tframe f;
	tagged(&f, VM1, 200, 300);  /* tagged, for the untagged domain */
	send(sw, &f, 3);
	tagged(&f, VM1, 0, 300);    /* a priority tag is a tag */
	send(sw, &f, 1);
	untagged(&f, VM2, 300);     /* untagged, for an access VLAN */
	send(sw, &f, 2);
	tagged(&f, VM2, 200, 300);  /* another VLAN */
	send(sw, &f, 1);
	untagged(&f, VM1, 1600);    /* oversize, store-bad on */
	send(sw, &f, 1);
	while (vmdq_switch_poll(sw, 0)) {
	}
	assert_true(guest_untouched(ku));
	assert_true(guest_untouched(kt));
	struct sw_cnt c;
	vmdq_switch_vif_counters(sw, u, &c);
	assert_int_equal(c.drops[SWD_TAGGED], 4);
	assert_int_equal(c.drops[SWD_BAD], 1);
	assert_int_equal(c.to_vm, 0);
	struct vmdq_dummy_stats su, stt;
	vmdq_dummy_stats(ku, &su);
	vmdq_dummy_stats(kt, &stt);
	assert_int_equal(su.refused, 5);
	vmdq_switch_vif_counters(sw, t, &c);
	assert_int_equal(c.drops[SWD_WRONG_VLAN], 3);
	assert_int_equal(c.to_vm, 0);
	assert_int_equal(stt.refused, 3);
	/* and what it delivers still goes in */
	untagged(&f, VM1, 300);
	send(sw, &f, 1);
	tagged(&f, VM2, 100, 300);
	send(sw, &f, 1);
	while (vmdq_switch_poll(sw, 0)) {
	}
	vmdq_switch_vif_counters(sw, u, &c);
	assert_int_equal(c.to_vm, 1);
	vmdq_switch_vif_counters(sw, t, &c);
	assert_int_equal(c.to_vm, 1);
	vmdq_dummy_stats(ku, &su);
	vmdq_dummy_stats(kt, &stt);
	assert_int_equal(su.delivered, 1);
	assert_int_equal(stt.delivered, 1);
	assert_false(guest_untouched(ku));
	assert_false(guest_untouched(kt));
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* ---- the switch on dummy ports (issue 13) ------------------------------ */

#define WIRE_MAC 0x02ee00000001ull /* a station on the wire */
#define VM4 0x020000000004ull
#define VM5 0x020000000005ull
#define RIG_MAX 8

/* A frame of len bytes (untagged length) from src to dst with tag < 0: no
 * tag, else one 802.1Q tag of that VID (0: a priority tag); the payload
 * starts with seq and its bytes do not depend on the tag. */
static void mk(struct tframe *f, uint64_t dst, uint64_t src, int tag, uint32_t len, uint32_t seq)
{
	memset(f->b, 0, 64);
	mac_from_u64(dst, f->b);
	mac_from_u64(src, f->b + 6);
	size_t o = 12;
	if (tag >= 0) {
		f->b[o++] = 0x81;
		f->b[o++] = 0x00;
		f->b[o++] = (uint8_t)(tag >> 8);
		f->b[o++] = (uint8_t)tag;
	}
	f->b[o++] = 0x08;
	f->b[o++] = 0x00;
	memcpy(f->b + o, &seq, 4);
	for (size_t k = 4; k < len - 14; k++)
		f->b[o + k] = (uint8_t)(k * 7 + seq);
	f->len = len + (tag >= 0 ? 4 : 0);
}

struct rig {
	struct vmdq_dev *dev;
	struct vmdq_switch *sw;
	struct vmdq_dummy *wire;
	struct vmdq_dummy *d[RIG_MAX];
	int vi[RIG_MAX];
	unsigned n;
};

/* A switch on a device of `queues` queues, with a dummy uplink "wire". */
static void rig_new(struct rig *r, unsigned queues)
{
	memset(r, 0, sizeof(*r));
	r->dev = vmdq_dev_create();
	assert_non_null(r->dev);
	assert_int_equal(vmdq_dev_set_queues(r->dev, queues), 0);
	r->sw = vmdq_switch_create(r->dev);
	assert_non_null(r->sw);
	char *args[] = { (char[]){ "capacity" }, (char[]){ "1024" } };
	char err[256] = "";
	if (vmdq_switch_set_uplink(r->sw, "wire", "dummy", args, 2, err, sizeof(err)) < 0)
		fail_msg("uplink: %s", err);
	r->wire = vmdq_dummy_last();
	assert_non_null(r->wire);
}

static void rig_free(struct rig *r)
{
	vmdq_switch_destroy(r->sw);
	vmdq_dev_destroy(r->dev);
	vmdq_dummy_forget();
}

/* A dummy vif with the backend's arguments in one string; its rig index. */
static int rig_vif(struct rig *r, const char *name, uint64_t mac, uint16_t vlan, int queue,
		   const char *args)
{
	char buf[64], *av[4];
	int na = 0;
	snprintf(buf, sizeof(buf), "%s", args);
	for (char *t = strtok(buf, " "); t && na < 4; t = strtok(NULL, " "))
		av[na++] = t;
	struct sw_vif_spec s = { .name = name, .kind = "dummy", .vlan = vlan, .queue = queue,
				 .args = av, .nargs = na };
	mac_from_u64(mac, s.mac);
	char err[256] = "";
	int vi = vmdq_switch_vif_add(r->sw, &s, err, sizeof(err));
	if (vi < 0)
		fail_msg("vif add %s: %s", name, err);
	assert_true(r->n < RIG_MAX);
	r->d[r->n] = vmdq_dummy_last();
	r->vi[r->n] = vi;
	return (int)r->n++;
}

static void inject(struct vmdq_dummy *d, const struct tframe *f)
{
	assert_int_equal(vmdq_dummy_inject(d, f->b, f->len), 0);
}

/* Rounds of worker w (-1: every worker) until one moves nothing. */
static unsigned settle(struct rig *r, int w, uint64_t now)
{
	unsigned rounds = 0, k;
	do {
		k = w < 0 ? vmdq_switch_poll(r->sw, now) : vmdq_switch_poll_worker(r->sw, w, now);
		assert_true(++rounds < 10000);
	} while (k);
	return rounds;
}

/* Frame i of d's sent store is f. */
static void assert_got(const struct vmdq_dummy *d, unsigned i, const struct tframe *f)
{
	uint32_t len;
	const uint8_t *g = vmdq_dummy_frame(d, i, &len);
	assert_non_null(g);
	assert_int_equal(len, f->len);
	assert_memory_equal(g, f->b, f->len);
}

/* The VLAN, anti-spoofing and flood rules (SPEC 2) as a table: each row one
 * frame, who gets it (a copy each, exact bytes), and the one counter its
 * drop goes to.  Vifs: a, b untagged; c, d VLAN 100; e VLAN 200. */
enum { A, B, C, D, E, W };
#define TO(x) (1u << (x))
struct row {
	const char *what;
	int from;         /* a vif, or W */
	uint64_t dst, src;
	int tag;          /* -1: untagged, else its one tag's VID */
	unsigned to;      /* who gets a copy */
	int wire_tag;     /* the wire's copy: -1 untagged, else the VID */
	int drop;         /* the reason it is dropped for, -1: none */
	int drop_vif;     /* the vif whose counters also count it, -1: none */
	bool flood;       /* from the wire: flooded */
};

static const struct row rules[] = {
	{ "wire: untagged to a", W, VM1, WIRE_MAC, -1, TO(A), -1, -1, -1, false },
	{ "wire: VLAN 100 to c, untagged for c", W, VM3, WIRE_MAC, 100, TO(C), -1, -1, -1, false },
	{ "wire: VLAN 100 to d", W, VM4, WIRE_MAC, 100, TO(D), -1, -1, -1, false },
	{ "wire: untagged to c, unknown in the untagged domain: flooded there", W, VM3, WIRE_MAC,
	  -1, TO(A) | TO(B), -1, -1, -1, true },
	{ "wire: VLAN 200 to c, unknown in VLAN 200: flooded to e", W, VM3, WIRE_MAC, 200, TO(E),
	  -1, -1, -1, true },
	{ "wire: VLAN 100 to a (untagged domain)", W, VM1, WIRE_MAC, 100, 0, -1, SWD_TAGGED, A,
	  false },
	{ "wire: a priority tag to a", W, VM1, WIRE_MAC, 0, 0, -1, SWD_TAGGED, A, false },
	{ "wire: broadcast, untagged", W, BCAST, WIRE_MAC, -1, TO(A) | TO(B), -1, -1, -1, true },
	{ "wire: broadcast, VLAN 100", W, BCAST, WIRE_MAC, 100, TO(C) | TO(D), -1, -1, -1, true },
	{ "wire: broadcast, VLAN 300 (no member)", W, BCAST, WIRE_MAC, 300, 0, -1, SWD_NO_VIF, -1,
	  false },
	{ "wire: multicast, VLAN 200", W, MCAST, WIRE_MAC, 200, TO(E), -1, -1, -1, true },
	{ "wire: unknown unicast, untagged", W, OTHER, WIRE_MAC, -1, TO(A) | TO(B), -1, -1, -1,
	  true },
	{ "wire: to a station learned on the wire", W, WIRE_MAC, WIRE_MAC, -1, 0, -1,
	  SWD_NOT_LOCAL, -1, false },
	{ "a to b", A, VM2, VM1, -1, TO(B), -1, -1, -1, false },
	{ "a to c (another VLAN): the wire", A, VM3, VM1, -1, TO(W), -1, -1, -1, false },
	{ "c to d", C, VM4, VM3, -1, TO(D), -1, -1, -1, false },
	{ "c to an unknown station: the wire, tagged 100", C, OTHER, VM3, -1, TO(W), 100, -1, -1,
	  false },
	{ "c to a station learned on the wire: the wire", C, WIRE_MAC, VM3, -1, TO(W), 100, -1, -1,
	  false },
	{ "e to a (another VLAN): the wire, tagged 200", E, VM1, VM5, -1, TO(W), 200, -1, -1,
	  false },
	{ "a with b's source MAC", A, VM2, VM2, -1, 0, -1, SWD_SPOOFED, A, false },
	{ "a with an unknown source MAC", A, BCAST, OTHER, -1, 0, -1, SWD_SPOOFED, A, false },
	{ "a sends a tagged frame", A, VM2, VM1, 100, 0, -1, SWD_TAGGED, A, false },
	{ "a sends a priority tag", A, VM2, VM1, 0, 0, -1, SWD_TAGGED, A, false },
	{ "c sends a tagged frame of its own VLAN", C, VM4, VM3, 100, 0, -1, SWD_TAGGED, C, false },
	{ "a broadcasts: b and the wire", A, BCAST, VM1, -1, TO(B) | TO(W), -1, -1, -1, false },
	{ "c broadcasts: d and the wire, tagged 100", C, BCAST, VM3, -1, TO(D) | TO(W), 100, -1,
	  -1, false },
	{ "e broadcasts: the wire only, tagged 200", E, BCAST, VM5, -1, TO(W), 200, -1, -1,
	  false },
	{ "d multicasts: c and the wire, tagged 100", D, MCAST, VM4, -1, TO(C) | TO(W), 100, -1,
	  -1, false },
};

static void vlan_spoofing_and_flood_rules(void **s)
{
	(void)s;
	struct rig r;
	rig_new(&r, 16);
	static const uint64_t mac[] = { VM1, VM2, VM3, VM4, VM5 };
	static const uint16_t vlan[] = { 0, 0, 100, 100, 200 };
	static const char *const name[] = { "a", "b", "c", "d", "e" };
	for (int i = 0; i < 5; i++)
		assert_int_equal(rig_vif(&r, name[i], mac[i], vlan[i], -1, ""), i);
	for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++) {
		const struct row *x = &rules[k];
		print_message("row %zu: %s\n", k, x->what);
		struct sw_cnt before[5], after[5];
		struct sw_wire_cnt wb, wa;
		for (int i = 0; i < 5; i++)
			vmdq_switch_vif_counters(r.sw, r.vi[i], &before[i]);
		vmdq_switch_wire_counters(r.sw, &wb);
		struct tframe f;
		mk(&f, x->dst, x->src, x->tag, 100, (uint32_t)k);
		inject(x->from == W ? r.wire : r.d[x->from], &f);
		settle(&r, -1, 0);
		/* who got it, and what */
		struct tframe plain, onwire;
		mk(&plain, x->dst, x->src, -1, 100, (uint32_t)k);
		mk(&onwire, x->dst, x->src, x->wire_tag, 100, (uint32_t)k);
		for (int i = 0; i <= W; i++) {
			struct vmdq_dummy *d = i == W ? r.wire : r.d[i];
			if (vmdq_dummy_sent(d) != ((x->to >> i) & 1))
				fail_msg("row %zu (%s): port %d got %u frames", k, x->what, i,
					 vmdq_dummy_sent(d));
			if (x->to & TO(i))
				assert_got(d, 0, i == W ? &onwire : &plain);
			vmdq_dummy_clear(d);
		}
		/* the counters: exactly this row's */
		for (int i = 0; i < 5; i++) {
			vmdq_switch_vif_counters(r.sw, r.vi[i], &after[i]);
			assert_int_equal(after[i].to_vm - before[i].to_vm, (x->to >> i) & 1);
			assert_int_equal(after[i].from_vm - before[i].from_vm, x->from == i);
			assert_int_equal(after[i].to_wire - before[i].to_wire,
					 x->from == i && (x->to & TO(W)));
			for (int d = 0; d < SWD__COUNT; d++)
				if (after[i].drops[d] - before[i].drops[d] !=
				    (x->drop == d && x->drop_vif == i))
					fail_msg("row %zu (%s): vif %d: %s %llu", k, x->what, i,
						 sw_drop_name((enum sw_drop)d),
						 (unsigned long long)(after[i].drops[d] -
								      before[i].drops[d]));
		}
		vmdq_switch_wire_counters(r.sw, &wa);
		bool wire = x->from == W;
		assert_int_equal(wa.polled - wb.polled, wire);
		assert_int_equal(wa.delivered - wb.delivered, wire && x->to);
		assert_int_equal(wa.flooded - wb.flooded, x->flood);
		assert_int_equal(wa.to_wire - wb.to_wire, !wire && (x->to & TO(W)));
		assert_int_equal(wa.tx_drops - wb.tx_drops, 0);
		for (int d = 0; d < SWD__COUNT; d++)
			if (wa.drops[d] - wb.drops[d] != (wire && x->drop == d))
				fail_msg("row %zu (%s): wire: %s %llu", k, x->what,
					 sw_drop_name((enum sw_drop)d),
					 (unsigned long long)(wa.drops[d] - wb.drops[d]));
	}
	rig_free(&r);
}

/* Two workers driven by the poll entry point: vif a on the main worker,
 * b on worker 1 (its queue's CPU).  Frames for b go through its inbox; a
 * sender is held back while the inbox lacks room for a burst (its frames
 * wait in its port), the wire is not (its floods to a full inbox are counted
 * handoff-full); a port that refuses is counted port-tx. */
static void inbox_handoff_and_backpressure(void **s)
{
	(void)s;
	struct rig r;
	rig_new(&r, 16);
	assert_int_equal(vmdq_queue_set_cpu(r.dev, 5, 1), 0);
	int a = rig_vif(&r, "a", VM1, 0, -1, "capacity 512");
	int b = rig_vif(&r, "b", VM2, 0, 5, "capacity 512");
	struct tframe f;
	/* 1. a to b: 300 frames, the main worker alone */
	for (uint32_t i = 0; i < 300; i++) {
		mk(&f, VM2, VM1, -1, 80, i);
		inject(r.d[a], &f);
	}
	settle(&r, 0, 0);
	assert_int_equal(vmdq_dummy_sent(r.d[b]), 0);
	assert_int_equal(vmdq_dummy_waiting(r.d[a]), 300 - SW_INBOX); /* held back */
	struct sw_cnt c;
	vmdq_switch_vif_counters(r.sw, r.vi[a], &c);
	assert_int_equal(c.from_vm, SW_INBOX);
	vmdq_switch_vif_counters(r.sw, r.vi[b], &c);
	assert_int_equal(c.drops[SWD_HANDOFF_FULL], 0);
	assert_int_equal(c.to_vm, 0);
	/* worker 1's round hands the whole inbox over, a burst a call */
	assert_int_equal(vmdq_switch_poll_worker(r.sw, 1, 0), SW_INBOX);
	assert_int_equal(vmdq_dummy_sent(r.d[b]), SW_INBOX);
	struct vmdq_dummy_stats st;
	vmdq_dummy_stats(r.d[b], &st);
	assert_int_equal(st.tx_calls, SW_INBOX / 32);
	assert_int_equal(st.tx_most, 32);
	settle(&r, -1, 0);
	assert_int_equal(vmdq_dummy_sent(r.d[b]), 300);
	for (uint32_t i = 0; i < 300; i++) {
		mk(&f, VM2, VM1, -1, 80, i);
		assert_got(r.d[b], i, &f);
	}
	vmdq_switch_vif_counters(r.sw, r.vi[a], &c);
	assert_int_equal(c.from_vm, 300);
	vmdq_switch_vif_counters(r.sw, r.vi[b], &c);
	assert_int_equal(c.to_vm, 300);
	for (int d = 0; d < SWD__COUNT; d++)
		assert_int_equal(c.drops[d], 0);
	vmdq_dummy_clear(r.d[b]);

	/* 2. the wire floods 300 broadcasts: a gets them all; b's inbox takes
	 * SW_INBOX while worker 1 does not run, the rest are handoff-full */
	for (uint32_t i = 0; i < 300; i++) {
		mk(&f, BCAST, WIRE_MAC, -1, 80, i);
		inject(r.wire, &f);
	}
	struct sw_wire_cnt w0, w1;
	vmdq_switch_wire_counters(r.sw, &w0);
	settle(&r, 0, 0);
	vmdq_switch_wire_counters(r.sw, &w1);
	assert_int_equal(w1.polled - w0.polled, 300);
	assert_int_equal(w1.flooded - w0.flooded, 300);
	assert_int_equal(w1.delivered - w0.delivered, 300);
	assert_int_equal(vmdq_dummy_sent(r.d[a]), 300);
	assert_int_equal(vmdq_dummy_sent(r.d[b]), 0);
	vmdq_switch_vif_counters(r.sw, r.vi[b], &c);
	assert_int_equal(c.drops[SWD_HANDOFF_FULL], 300 - SW_INBOX);
	settle(&r, 1, 0);
	assert_int_equal(vmdq_dummy_sent(r.d[b]), SW_INBOX);
	for (uint32_t i = 0; i < SW_INBOX; i++) {
		mk(&f, BCAST, WIRE_MAC, -1, 80, i);
		assert_got(r.d[b], i, &f);
	}
	vmdq_dummy_clear(r.d[a]);
	vmdq_dummy_clear(r.d[b]);

	/* 3. b's port refuses (its guest is not reading): port-tx, each */
	vmdq_dummy_set_room(r.d[b], 3);
	for (uint32_t i = 0; i < 10; i++) {
		mk(&f, VM2, VM1, -1, 80, i);
		inject(r.d[a], &f);
	}
	settle(&r, -1, 0);
	assert_int_equal(vmdq_dummy_sent(r.d[b]), 3);
	vmdq_dummy_stats(r.d[b], &st);
	assert_int_equal(st.tx_refused, 7);
	vmdq_switch_vif_counters(r.sw, r.vi[b], &c);
	assert_int_equal(c.drops[SWD_PORT_TX], 7);
	assert_int_equal(c.to_vm, 300 + SW_INBOX + 3);
	rig_free(&r);
}

/* vif del of b (worker 1) with frames in flight: 20 from the wire in its
 * queue, 15 from a in its inbox, 7 of its own waiting for the wire (the
 * txrate holds them).  The main worker finishes the vif: what was sorted
 * to it and handed to it still reaches it, what it sent leaves; nothing is
 * left behind uncounted.  Then the first frame for its MAC is flooded. */
static void vif_del_with_frames_in_flight(void **s)
{
	(void)s;
	for (int refuse = 0; refuse <= 1; refuse++) {
		struct rig r;
		rig_new(&r, 16);
		assert_int_equal(vmdq_queue_set_cpu(r.dev, 5, 1), 0);
		int a = rig_vif(&r, "a", VM1, 0, -1, "");
		int b = rig_vif(&r, "b", VM2, 0, 5, "");
		int c = rig_vif(&r, "c", VM3, 0, -1, "");
		r.sw->tx_rate = 1000; /* frames/s: none may leave at the first round */
		const uint64_t t = 1000000000ull;
		struct tframe f;
		for (uint32_t i = 0; i < 7; i++) {
			mk(&f, OTHER, VM2, -1, 70, i);
			inject(r.d[b], &f);
		}
		assert_int_equal(vmdq_switch_poll_worker(r.sw, 1, t), 7);
		for (uint32_t i = 0; i < 20; i++) {
			mk(&f, VM2, WIRE_MAC, -1, 80, 100 + i);
			inject(r.wire, &f);
		}
		for (uint32_t i = 0; i < 15; i++) {
			mk(&f, VM2, VM1, -1, 90, 200 + i);
			inject(r.d[a], &f);
		}
		vmdq_switch_poll_worker(r.sw, 0, t);
		assert_int_equal(vmdq_dummy_sent(r.wire), 0);
		assert_int_equal(vmdq_dummy_sent(r.d[b]), 0);
		assert_int_equal(vmdq_rxq_ready(r.dev, 5), 20);
		struct vmdq_dummy *kb = r.d[b];
		vmdq_dummy_hold(kb);
		if (refuse)
			vmdq_dummy_set_room(kb, 0); /* its guest reads nothing more */
		struct sw_wire_cnt w0, w1;
		vmdq_switch_wire_counters(r.sw, &w0);
		char err[256] = "";
		assert_int_equal(vmdq_switch_vif_del(r.sw, "b", err, sizeof(err)), 0);
		assert_false(vmdq_dummy_is_open(kb));
		vmdq_switch_wire_counters(r.sw, &w1);
		/* the inbox first (15), then its queue (20) */
		struct vmdq_dummy_stats st;
		vmdq_dummy_stats(kb, &st);
		if (!refuse) {
			assert_int_equal(vmdq_dummy_sent(kb), 35);
			for (uint32_t i = 0; i < 15; i++) {
				mk(&f, VM2, VM1, -1, 90, 200 + i);
				assert_got(kb, i, &f);
			}
			for (uint32_t i = 0; i < 20; i++) {
				mk(&f, VM2, WIRE_MAC, -1, 80, 100 + i);
				assert_got(kb, 15 + i, &f);
			}
			assert_int_equal(w1.delivered - w0.delivered, 20);
			assert_int_equal(w1.drops[SWD_PORT_TX] - w0.drops[SWD_PORT_TX], 0);
		} else {
			assert_int_equal(vmdq_dummy_sent(kb), 0);
			assert_int_equal(st.tx_refused, 35);
			assert_int_equal(w1.delivered - w0.delivered, 0);
			assert_int_equal(w1.drops[SWD_PORT_TX] - w0.drops[SWD_PORT_TX], 20);
		}
		assert_int_equal(w1.polled - w0.polled, 20);
		assert_int_equal(w1.drops[SWD_VIF_GONE] - w0.drops[SWD_VIF_GONE], 0);
		/* its 7 frames left for the wire */
		assert_int_equal(vmdq_dummy_sent(r.wire), 7);
		assert_int_equal(w1.to_wire - w0.to_wire, 7);
		for (uint32_t i = 0; i < 7; i++) {
			mk(&f, OTHER, VM2, -1, 70, i);
			assert_got(r.wire, i, &f);
		}
		/* its MAC is unknown now: flooded to a and c */
		mk(&f, VM2, WIRE_MAC, -1, 80, 300);
		inject(r.wire, &f);
		settle(&r, -1, 0);
		assert_int_equal(vmdq_dummy_sent(r.d[a]), 1);
		assert_int_equal(vmdq_dummy_sent(r.d[c]), 1);
		assert_got(r.d[c], 0, &f);
		rig_free(&r);
	}
}

/* Targeted vifs (Level 2) on the dummy: what the switch delivers is the
 * frame as it came (an access VLAN's without its tag), in the VM's own
 * buffers; a flood reaches it by copy; a refusal by its port is counted
 * port-tx and the buffer goes back to the device. */
static void targeted_verdicts(void **s)
{
	(void)s;
	struct rig r;
	rig_new(&r, 16);
	int t0 = rig_vif(&r, "t0", VM1, 0, -1, "targeted");
	int t1 = rig_vif(&r, "t1", VM2, 100, -1, "targeted");
	int p = rig_vif(&r, "p", VM3, 0, -1, "");
	settle(&r, -1, 0); /* service: the VM buffers go on the queues */
	struct vmdq_dummy_stats st;
	vmdq_dummy_stats(r.d[t0], &st);
	assert_int_equal(st.posted, SW_RING);
	struct tframe f, plain;
	mk(&f, VM1, WIRE_MAC, -1, 200, 1);
	inject(r.wire, &f);
	mk(&f, VM2, WIRE_MAC, 100, 300, 2);
	inject(r.wire, &f);
	mk(&f, BCAST, WIRE_MAC, -1, 64, 3);
	inject(r.wire, &f);
	settle(&r, -1, 0);
	/* t0: its unicast (complete) and the broadcast (tx, a copy) */
	vmdq_dummy_stats(r.d[t0], &st);
	assert_int_equal(st.delivered, 1);
	assert_int_equal(st.complete_calls, 1);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(vmdq_dummy_sent(r.d[t0]), 2);
	/* (the default queue is switched before the vifs' queues) */
	mk(&plain, BCAST, WIRE_MAC, -1, 64, 3);
	assert_got(r.d[t0], 0, &plain);
	mk(&plain, VM1, WIRE_MAC, -1, 200, 1);
	assert_got(r.d[t0], 1, &plain);
	assert_int_equal(st.posted, SW_RING + 1); /* its buffer went back */
	/* t1: stripped by the device on the way in */
	vmdq_dummy_stats(r.d[t1], &st);
	assert_int_equal(st.delivered, 1);
	assert_int_equal(vmdq_dummy_sent(r.d[t1]), 1);
	mk(&plain, VM2, WIRE_MAC, -1, 300, 2);
	assert_got(r.d[t1], 0, &plain);
	assert_int_equal(vmdq_dummy_sent(r.d[p]), 1);
	struct sw_cnt c;
	vmdq_switch_vif_counters(r.sw, r.vi[t0], &c);
	assert_int_equal(c.to_vm, 2);
	vmdq_switch_vif_counters(r.sw, r.vi[t1], &c);
	assert_int_equal(c.to_vm, 1);
	/* t0's VM takes nothing more: port-tx, the buffers back on the queue */
	vmdq_dummy_set_room(r.d[t0], 0);
	for (uint32_t i = 0; i < 5; i++) {
		mk(&f, VM1, WIRE_MAC, -1, 200, 10 + i);
		inject(r.wire, &f);
	}
	settle(&r, -1, 0);
	vmdq_dummy_stats(r.d[t0], &st);
	assert_int_equal(st.delivered, 1);
	assert_int_equal(st.not_taken, 5);
	assert_int_equal(st.posted, SW_RING + 6);
	assert_int_equal(vmdq_dummy_sent(r.d[t0]), 2);
	vmdq_switch_vif_counters(r.sw, r.vi[t0], &c);
	assert_int_equal(c.drops[SWD_PORT_TX], 5);
	assert_int_equal(c.to_vm, 2);
	struct sw_wire_cnt wc;
	vmdq_switch_wire_counters(r.sw, &wc);
	assert_int_equal(wc.drops[SWD_PORT_TX], 5);
	assert_int_equal(wc.polled, 8);
	assert_int_equal(wc.delivered, 3);
	rig_free(&r);
}

/* The uplink's txrate: a token bucket of at most a burst, exact to the
 * nanosecond of credit (the rounds' clocks are given). */
static void txrate_budget(void **s)
{
	(void)s;
	struct rig r;
	rig_new(&r, 16);
	int a = rig_vif(&r, "a", VM1, 0, -1, "");
	r.sw->tx_rate = 1000; /* frames/s: one per ms */
	struct tframe f;
	for (uint32_t i = 0; i < 100; i++) {
		mk(&f, OTHER, VM1, -1, 64, i);
		inject(r.d[a], &f);
	}
	uint64_t t = 5000000000ull;
	static const struct {
		uint64_t dt_ns;
		unsigned total; /* frames on the wire after that round */
	} steps[] = {
		{ 0, 0 },             /* the first round starts the clock */
		{ 10000000, 10 },     /* 10 ms: 10 frames */
		{ 0, 10 },            /* no time, no credit */
		{ 1500000, 11 },      /* 1.5 ms: 1, half a frame's credit kept */
		{ 500000, 12 },       /* 0.5 ms more: the half makes one */
		{ 999999, 12 },       /* a nanosecond short */
		{ 1, 13 },
		{ 1000000000, 45 },   /* a second idle: a burst at most */
		{ 40000000, 77 },     /* 40 ms: a burst at most again */
		{ 5000000, 82 },      /* 5 ms: 5 */
		{ 100000000, 100 },   /* the rest */
	};
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		t += steps[k].dt_ns;
		vmdq_switch_poll(r.sw, t);
		if (vmdq_dummy_sent(r.wire) != steps[k].total)
			fail_msg("step %zu: %u frames on the wire, want %u", k,
				 vmdq_dummy_sent(r.wire), steps[k].total);
	}
	for (uint32_t i = 0; i < 100; i++) {
		mk(&f, OTHER, VM1, -1, 64, i);
		assert_got(r.wire, i, &f);
	}
	struct sw_cnt c;
	vmdq_switch_vif_counters(r.sw, r.vi[a], &c);
	assert_int_equal(c.to_wire, 100);
	assert_int_equal(c.drops[SWD_TX_FULL], 0);
	rig_free(&r);
}

/* A flood in a switch of as many vifs as the device has queues for (4095
 * and the default queue), in 64 VLANs: each frame reaches exactly its
 * VLAN's members, once each.  Until the switch takes that many, it runs
 * with the vifs the switch takes and then says it skipped the full size.
 * The first 64 vifs are in 16 VLANs (four members each, whatever the
 * switch takes), the others in 64. */
#define BIG_VLANS 64
static uint16_t big_vlan(unsigned i)
{
	return (uint16_t)(1 + (i < 64 ? i % 16 : i % BIG_VLANS));
}
static void flood_among_4095_vifs(void **s)
{
	(void)s;
	const unsigned want = VMDQ_MAX_QUEUES - 1;
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_non_null(dev);
	assert_int_equal(vmdq_dev_set_queues(dev, VMDQ_MAX_QUEUES), 0);
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	char *uargs[] = { (char[]){ "capacity" }, (char[]){ "64" } };
	char err[256] = "";
	assert_int_equal(vmdq_switch_set_uplink(sw, "wire", "dummy", uargs, 2, err, sizeof(err)), 0);
	struct vmdq_dummy *wire = vmdq_dummy_last();
	struct vmdq_dummy **d = calloc(want, sizeof(*d));
	int *vi = calloc(want, sizeof(*vi));
	assert_non_null(d);
	assert_non_null(vi);
	unsigned n = 0;
	for (; n < want; n++) {
		char name[16], cap0[] = "capacity", cap1[] = "0", cap4[] = "4";
		/* vif 0 of each VLAN keeps what it gets, the others count it */
		char *args[] = { cap0, n < BIG_VLANS ? cap4 : cap1 };
		snprintf(name, sizeof(name), "v%u", n);
		struct sw_vif_spec sp = { .name = name, .kind = "dummy",
					  .vlan = big_vlan(n), .queue = -1,
					  .args = args, .nargs = 2 };
		mac_from_u64(0x020100000000ull + n, sp.mac);
		int rc = vmdq_switch_vif_add(sw, &sp, err, sizeof(err));
		if (rc == -ENOSPC) {
			print_message("the switch took %u vifs: %s\n", n, err);
			break;
		}
		if (rc < 0)
			fail_msg("vif add %s: %s", name, err);
		vi[n] = rc;
		d[n] = vmdq_dummy_last();
	}
	assert_true(n >= 64);
	/* a broadcast from the wire in VLAN 7, one from vif 6 (VLAN 7) */
	struct tframe f;
	mk(&f, BCAST, WIRE_MAC, 7, 64, 1);
	assert_int_equal(vmdq_dummy_inject(wire, f.b, f.len), 0);
	mk(&f, BCAST, 0x020100000000ull + 6, -1, 64, 2);
	assert_int_equal(vmdq_dummy_inject(d[6], f.b, f.len), 0);
	for (unsigned k = 0; vmdq_switch_poll(sw, 0); k++)
		assert_true(k < 1000);
	unsigned members = 0;
	for (unsigned i = 0; i < n; i++) {
		struct vmdq_dummy_stats st;
		vmdq_dummy_stats(d[i], &st);
		unsigned expect = big_vlan(i) == 7 ? (i == 6 ? 1 : 2) : 0;
		members += big_vlan(i) == 7;
		if (st.tx_frames != expect)
			fail_msg("vif v%u (VLAN %u) got %llu frames, want %u", i, big_vlan(i),
				 (unsigned long long)st.tx_frames, expect);
	}
	/* 4 of the first 64, then one in 64 */
	assert_int_equal(members, 4 + (n > 70 ? (n - 71) / BIG_VLANS + 1 : 0));
	mk(&f, BCAST, WIRE_MAC, -1, 64, 1);
	assert_got(d[6], 0, &f);
	/* the wire's copy of vif 6's broadcast, tagged 7 */
	assert_int_equal(vmdq_dummy_sent(wire), 1);
	mk(&f, BCAST, 0x020100000000ull + 6, 7, 64, 2);
	assert_got(wire, 0, &f);
	struct sw_wire_cnt wc;
	vmdq_switch_wire_counters(sw, &wc);
	assert_int_equal(wc.flooded, 1);
	assert_int_equal(wc.delivered, 1);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
	vmdq_dummy_forget();
	free(d);
	free(vi);
	if (n < want) {
		print_message("flood checked among %u vifs; %u not reached (the switch's limit)\n",
			      n, want);
		skip();
	}
}

/* The dummy port itself: capacity, replay, discard, room. */
static void dummy_port_on_its_own(void **s)
{
	(void)s;
	struct rig r;
	rig_new(&r, 16);
	int a = rig_vif(&r, "a", VM1, 0, -1, "capacity 8");
	struct vmdq_dummy *d = r.d[a];
	struct tframe f;
	mk(&f, VM2, VM1, -1, 64, 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(vmdq_dummy_inject(d, f.b, f.len), 0);
	assert_int_equal(vmdq_dummy_inject(d, f.b, f.len), -ENOSPC);
	assert_int_equal(vmdq_dummy_waiting(d), 8);
	/* replayed: every rx call gets a whole burst of them, over and over */
	vmdq_dummy_replay(d, true);
	for (int i = 0; i < 5; i++)
		vmdq_switch_poll(r.sw, 0);
	struct vmdq_dummy_stats st;
	vmdq_dummy_stats(d, &st);
	assert_int_equal(st.rx_frames, st.rx_calls * 32);
	assert_true(st.rx_calls >= 5);
	assert_int_equal(vmdq_dummy_waiting(d), 8);
	/* discarded: room for a whole new set */
	vmdq_dummy_replay(d, false);
	vmdq_dummy_discard(d);
	assert_int_equal(vmdq_dummy_waiting(d), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(vmdq_dummy_inject(d, f.b, f.len), 0);
	assert_int_equal(vmdq_dummy_inject(d, f.b, f.len), -ENOSPC);
	uint8_t big[VMDQ_DUMMY_SLOT + 1] = { 0 };
	assert_int_equal(vmdq_dummy_inject(d, big, sizeof(big)), -EMSGSIZE);
	/* a capacity-0 port keeps nothing and takes everything */
	int z = rig_vif(&r, "z", VM2, 0, -1, "capacity 0");
	settle(&r, -1, 0);
	vmdq_dummy_stats(r.d[z], &st);
	assert_int_equal(st.tx_frames, 8);
	assert_int_equal(vmdq_dummy_sent(r.d[z]), 0);
	/* a bad argument is refused with a reason */
	char *bad[] = { (char[]){ "capacity" }, (char[]){ "x" } };
	struct sw_vif_spec sp = { .name = "bad", .kind = "dummy", .queue = -1, .args = bad,
				  .nargs = 2 };
	mac_from_u64(VM3, sp.mac);
	char err[256] = "";
	assert_int_equal(vmdq_switch_vif_add(r.sw, &sp, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "dummy: capacity x: 0..65536 frames");
	rig_free(&r);
}

/* ---- a VM that moved to another host (issue 15 point 3) ---------------- */

/* Port p's FDB entry for (mac, vlan): its port, and whether it is static. */
static int fdb_port(struct rig *r, uint64_t mac, uint16_t vlan, bool *is_static)
{
	struct vmdq_fdb_entry e[64];
	size_t n = vmdq_fdb_dump(vmdq_switch_fdb(r->sw), e, 64);
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		if (memcmp(e[i].mac, MAC(mac), 6) == 0 && e[i].vlan == vlan) {
			*is_static = e[i].is_static;
			return e[i].port;
		}
	return -1;
}

static void gone(struct rig *r, int k, bool g)
{
	atomic_store(&r->sw->vif[r->vi[k]]->port.peer_gone, g);
}

/* The migration tests' rig: vifs a (VM1) and b (VM2) untagged, c (VM3) in
 * VLAN 100, at the rig's indexes 0, 1 and 2. */
enum { MA, MB, MC };
static void rig_migration(struct rig *r)
{
	rig_new(r, 16);
	assert_int_equal(rig_vif(r, "a", VM1, 0, -1, ""), MA);
	assert_int_equal(rig_vif(r, "b", VM2, 0, -1, ""), MB);
	assert_int_equal(rig_vif(r, "c", VM3, 100, -1, ""), MC);
}

/* Vif from's frame g (at now) reaches vif to, as the nth frame it got, and
 * not the wire. */
static void vm_to_vm(struct rig *r, int from, const struct tframe *g, uint64_t now, int to,
		     unsigned nth)
{
	inject(r->d[from], g);
	settle(r, -1, now);
	assert_int_equal(vmdq_dummy_sent(r->wire), 0);
	assert_int_equal(vmdq_dummy_sent(r->d[to]), nth + 1);
	assert_got(r->d[to], nth, g);
}

/* The announcement of VM `mac` (a RARP, as the destination's switch sends
 * it), with one 802.1Q tag of VID tag unless tag < 0. */
static void rarp(struct tframe *f, uint64_t mac, int tag)
{
	memset(f->b, 0, 64);
	mac_from_u64(BCAST, f->b);
	mac_from_u64(mac, f->b + 6);
	size_t o = 12;
	if (tag >= 0) {
		f->b[o++] = 0x81;
		f->b[o++] = 0x00;
		f->b[o++] = (uint8_t)(tag >> 8);
		f->b[o++] = (uint8_t)tag;
	}
	static const uint8_t h[10] = { 0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03 };
	memcpy(f->b + o, h, 10);
	mac_from_u64(mac, f->b + o + 10);
	mac_from_u64(mac, f->b + o + 20);
	f->len = 60 + (tag >= 0 ? 4 : 0);
}

/* The source switch: vif a (untagged) and c (VLAN 100) lost their VMs to
 * another host (their ports say peer_gone); the announcements from the
 * wire move their MACs to the uplink, counted; b's and d's frames for them
 * then go to the wire, tagged as theirs are; frames the filter still sorts
 * to a from the wire are not delivered into it (not-local).  When a's VM
 * comes back, the MAC is a's again. */
static void vm_moved_mac_goes_to_the_wire(void **s)
{
	(void)s;
	struct rig r;
	rig_migration(&r);
	const int a = MA, b = MB, c = MC;
	int d = rig_vif(&r, "d", VM4, 100, -1, "");
	struct vmdq_fdb *fdb = vmdq_switch_fdb(r.sw);
	bool st = false;
	gone(&r, a, true);
	gone(&r, c, true);
	struct tframe f;
	rarp(&f, VM1, -1);
	inject(r.wire, &f);
	rarp(&f, VM3, 100);
	inject(r.wire, &f);
	settle(&r, -1, 1000);
	assert_int_equal(fdb_port(&r, VM1, 0, &st), 0);
	assert_false(st);
	assert_int_equal(fdb_port(&r, VM3, 100, &st), 0);
	assert_false(st);
	struct vmdq_fdb_stats fs;
	vmdq_fdb_get_stats(fdb, &fs);
	assert_int_equal(fs.yielded, 2);
	assert_int_equal(fs.reclaimed, 0);
	/* each frame with a vif's MAC is refused learning first (counted),
	 * then moves it if the vif's VM is gone */
	assert_int_equal(fs.refused_static, 2);
	assert_int_equal(vmdq_fdb_learned_on(fdb, 0), 2);
	/* the broadcasts were flooded to their VLANs (a's and c's ports take
	 * them here: a dummy does not know its VM left; a vhost-user port
	 * without its guest refuses them, port-tx) */
	for (int k = a; k <= d; k++) {
		assert_int_equal(vmdq_dummy_sent(r.d[k]), 1);
		vmdq_dummy_clear(r.d[k]);
	}
	/* b to VM1 and d to VM3: the wire, exact bytes (d's tagged 100) */
	struct tframe g, w;
	mk(&g, VM1, VM2, -1, 100, 1);
	inject(r.d[b], &g);
	settle(&r, -1, 2000);
	assert_int_equal(vmdq_dummy_sent(r.wire), 1);
	assert_got(r.wire, 0, &g);
	vmdq_dummy_clear(r.wire);
	mk(&g, VM3, VM4, -1, 100, 2);
	mk(&w, VM3, VM4, 100, 100, 2);
	inject(r.d[d], &g);
	settle(&r, -1, 3000);
	assert_int_equal(vmdq_dummy_sent(r.wire), 1);
	assert_got(r.wire, 0, &w);
	vmdq_dummy_clear(r.wire);
	assert_int_equal(vmdq_dummy_sent(r.d[a]), 0);
	assert_int_equal(vmdq_dummy_sent(r.d[c]), 0);
	/* from the wire to VM1 (a's filter sorts it to a's queue): not into a */
	struct sw_cnt ca0, ca, cb;
	vmdq_switch_vif_counters(r.sw, r.vi[a], &ca0);
	mk(&g, VM1, WIRE_MAC, -1, 100, 3);
	inject(r.wire, &g);
	settle(&r, -1, 4000);
	assert_int_equal(vmdq_dummy_sent(r.d[a]), 0);
	vmdq_switch_vif_counters(r.sw, r.vi[a], &ca);
	assert_int_equal(ca.drops[SWD_NOT_LOCAL] - ca0.drops[SWD_NOT_LOCAL], 1);
	assert_int_equal(ca.to_vm - ca0.to_vm, 0);
	/* a's VM is back: its MAC is a's again, and b reaches it there */
	gone(&r, a, false);
	settle(&r, -1, 5000);
	assert_int_equal(fdb_port(&r, VM1, 0, &st), VIF_PORT(r.vi[a]));
	assert_true(st);
	vmdq_fdb_get_stats(fdb, &fs);
	assert_int_equal(fs.reclaimed, 1);
	assert_int_equal(vmdq_fdb_learned_on(fdb, 0), 2); /* VM3 (c is away), WIRE_MAC */
	mk(&g, VM1, VM2, -1, 100, 4);
	vm_to_vm(&r, b, &g, 6000, a, 0);
	vmdq_switch_vif_counters(r.sw, r.vi[b], &cb);
	assert_int_equal(cb.to_wire, 1);
	/* c is deleted while away: the wire keeps the entry it learned */
	char err[256] = "";
	assert_int_equal(vmdq_switch_vif_del(r.sw, "c", err, sizeof(err)), 0);
	assert_int_equal(fdb_port(&r, VM3, 100, &st), 0);
	assert_false(st);
	assert_int_equal(r.sw->naway, 0);
	rig_free(&r);
}

/* A wire host sends frames with a live VM's source MAC (a spoof): the VM
 * keeps its MAC and its traffic, and the attempts are counted; the rule is
 * the same for an access VLAN.  Once a's VM is gone (disconnected) the same
 * frame moves the MAC: only a VM that left yields. */
static void live_vm_keeps_its_mac(void **s)
{
	(void)s;
	struct rig r;
	rig_migration(&r);
	const int a = MA, b = MB, c = MC;
	struct vmdq_fdb *fdb = vmdq_switch_fdb(r.sw);
	bool st = false;
	struct tframe f, g;
	mk(&f, OTHER, VM1, -1, 100, 1); /* VM1's MAC from the wire */
	for (int i = 0; i < 3; i++) {
		inject(r.wire, &f);
		settle(&r, -1, 1000 + (uint64_t)i);
	}
	mk(&f, OTHER, VM3, 100, 100, 2); /* VM3's in VLAN 100 */
	inject(r.wire, &f);
	settle(&r, -1, 2000);
	struct vmdq_fdb_stats fs;
	vmdq_fdb_get_stats(fdb, &fs);
	assert_int_equal(fs.refused_static, 4);
	assert_int_equal(fs.yielded, 0);
	assert_int_equal(fdb_port(&r, VM1, 0, &st), VIF_PORT(r.vi[a]));
	assert_true(st);
	assert_int_equal(fdb_port(&r, VM3, 100, &st), VIF_PORT(r.vi[c]));
	assert_true(st);
	assert_int_equal(r.sw->naway, 0);
	for (int k = 0; k <= 2; k++)
		vmdq_dummy_clear(r.d[k]);
	/* b's frames for VM1 still reach a, the wire's too */
	mk(&g, VM1, VM2, -1, 100, 3);
	vm_to_vm(&r, b, &g, 3000, a, 0);
	mk(&g, VM1, WIRE_MAC, -1, 100, 4);
	inject(r.wire, &g);
	settle(&r, -1, 4000);
	assert_int_equal(vmdq_dummy_sent(r.d[a]), 2);
	assert_got(r.d[a], 1, &g);
	/* the same frame after a's guest left: the MAC goes */
	gone(&r, a, true);
	inject(r.wire, &f);
	mk(&f, OTHER, VM1, -1, 100, 5);
	inject(r.wire, &f);
	settle(&r, -1, 5000);
	vmdq_fdb_get_stats(fdb, &fs);
	assert_int_equal(fs.refused_static, 6); /* VM3's once more (c is live), VM1's */
	assert_int_equal(fs.yielded, 1);
	assert_int_equal(fdb_port(&r, VM1, 0, &st), 0);
	assert_int_equal(fdb_port(&r, VM3, 100, &st), VIF_PORT(r.vi[c]));
	rig_free(&r);
}

int main(void)
{
	vmdq_thread_online();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vif_del_of_a_busy_targeted_vif),
		cmocka_unit_test(dropped_frames_never_in_guest_memory),
		cmocka_unit_test(vlan_spoofing_and_flood_rules),
		cmocka_unit_test(inbox_handoff_and_backpressure),
		cmocka_unit_test(vif_del_with_frames_in_flight),
		cmocka_unit_test(targeted_verdicts),
		cmocka_unit_test(txrate_budget),
		cmocka_unit_test(flood_among_4095_vifs),
		cmocka_unit_test(dummy_port_on_its_own),
		cmocka_unit_test(vm_moved_mac_goes_to_the_wire),
		cmocka_unit_test(live_vm_keeps_its_mac),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
