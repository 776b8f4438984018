/* SPDX-License-Identifier: MIT */
/* The switch's wire -> VM path for targeted (Level 2) vifs, through a fake
 * targeted port that shares "guest memory" with its queue: vif del of a
 * busy targeted vif (issue 12 point 7) and frames the switch drops never
 * written into the VM's buffers (point 5). */
#include <errno.h>

#include "helpers.h"
#include "../../switch/switch.h"

#define GBUF 2048
#define NBUF 256 /* SW_RING: the whole ring */
#define HDR 32

/* A fake targeted port: its "VM" is guest[] */
struct fake {
	uint8_t guest[NBUF * GBUF];
	uint8_t hdr[NBUF][HDR];
	unsigned calls, most, delivered, refused;
};

static int f_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	(void)args, (void)nargs, (void)err, (void)errlen;
	p->priv = calloc(1, sizeof(struct fake));
	return p->priv ? 0 : -ENOMEM;
}

static void f_close(struct port *p)
{
	free(p->priv);
	p->priv = NULL;
}

static unsigned f_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	(void)p, (void)f;
	return n;
}

static int f_fd(struct port *p)
{
	(void)p;
	return -1;
}

static bool f_targeted(struct port *p)
{
	(void)p;
	return true;
}

static struct fake *last_closed_check; /* set by the test before vif del */
static unsigned del_calls, del_most, del_delivered;

static unsigned f_complete(struct port *p, struct vmdq_rxd *d, unsigned n, const bool *deliver)
{
	struct fake *k = p->priv;
	(void)d;
	k->calls++;
	if (n > k->most)
		k->most = n;
	unsigned got = 0;
	for (unsigned i = 0; i < n; i++) {
		got += deliver[i];
		k->refused += !deliver[i];
	}
	k->delivered += got;
	if (k == last_closed_check) {
		del_calls = k->calls;
		del_most = k->most;
		del_delivered = k->delivered;
	}
	return got;
}

static const struct port_ops fake_ops = {
	.kind = "fake", .vif_ok = true, .open = f_open, .close = f_close, .tx = f_tx,
	.fd = f_fd, .targeted = f_targeted, .complete = f_complete,
};

/* The switch finds its backends here (instead of ports/port.c). */
const struct port_ops *port_ops_find(const char *kind)
{
	return strcmp(kind, "fake") == 0 ? &fake_ops : NULL;
}

static int add_vif(struct vmdq_switch *sw, const char *name, uint64_t mac, uint16_t vlan)
{
	struct sw_vif_spec s = { .name = name, .kind = "fake", .vlan = vlan, .queue = -1 };
	mac_from_u64(mac, s.mac);
	char err[256] = "";
	int vi = vmdq_switch_vif_add(sw, &s, err, sizeof(err));
	if (vi < 0)
		fail_msg("vif add: %s", err);
	struct sw_vif *v = &sw->vif[vi];
	assert_true(v->targeted);
	struct fake *k = v->port.priv;
	struct vmdq_mem_region r = { k->guest, sizeof(k->guest) };
	assert_int_equal(vmdq_rxq_share_mem(sw->dev, (unsigned)v->queue, v->port.owner, &r, 1), 0);
	memset(k->guest, 0xcc, sizeof(k->guest));
	for (unsigned i = 0; i < NBUF; i++) {
		struct vmdq_rxd b = { .buf = k->guest + (size_t)i * GBUF, .buf_size = GBUF,
				      .cookie = i, .hdr = k->hdr[i], .hdr_len = HDR, .lead = 12 };
		int e;
		assert_int_equal(vmdq_rxq_post_shared(sw->dev, (unsigned)v->queue, v->port.owner,
						      &b, 1, &e), 1);
	}
	return vi;
}

static void send(struct vmdq_switch *sw, const struct tframe *f, unsigned n)
{
	struct vmdq_frame in[32];
	for (unsigned i = 0; i < 32; i++)
		in[i] = (struct vmdq_frame){ f->b, f->len, f->len, 0 };
	while (n) {
		unsigned m = n < 32 ? n : 32;
		vmdq_rx_burst(sw->dev, in, m, NULL);
		n -= m;
	}
}

static bool guest_untouched(const struct fake *k)
{
	for (size_t i = 0; i < sizeof(k->guest); i++)
		if (k->guest[i] != 0xcc)
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
	int vi = add_vif(sw, "vm", VM1, 0);
	struct tframe f;
	untagged(&f, VM1, 100);
	send(sw, &f, 100);
	assert_int_equal(vmdq_rxq_ready(dev, (unsigned)sw->vif[vi].queue), 100);
	last_closed_check = sw->vif[vi].port.priv;
	char err[256] = "";
	assert_int_equal(vmdq_switch_vif_del(sw, "vm", err, sizeof(err)), 0);
	assert_int_equal(del_delivered, 100);
	assert_int_equal(del_most, 32);
	assert_int_equal(del_calls, 4); /* 32 + 32 + 32 + 4 */
	struct sw_wire_cnt wc;
	vmdq_switch_wire_counters(sw, &wc);
	assert_int_equal(wc.polled, 100);
	assert_int_equal(wc.delivered, 100);
	last_closed_check = NULL;
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
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
	struct fake *ku = sw->vif[u].port.priv, *kt = sw->vif[t].port.priv;
	/* whatever filter placed it (SPEC 2): VM2's MAC alone, on its queue */
	assert_true(vmdq_filter_add(dev, MAC(VM2), 0, (unsigned)sw->vif[t].queue) > 0);
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
	assert_int_equal(ku->refused, 5);
	vmdq_switch_vif_counters(sw, t, &c);
	assert_int_equal(c.drops[SWD_WRONG_VLAN], 3);
	assert_int_equal(c.to_vm, 0);
	assert_int_equal(kt->refused, 3);
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
	assert_int_equal(ku->delivered, 1);
	assert_int_equal(kt->delivered, 1);
	assert_false(guest_untouched(ku));
	assert_false(guest_untouched(kt));
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

int main(void)
{
	vmdq_thread_online();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vif_del_of_a_busy_targeted_vif),
		cmocka_unit_test(dropped_frames_never_in_guest_memory),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
