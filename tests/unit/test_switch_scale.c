/* SPDX-License-Identifier: MIT */
/* The switch's core with a fake in-memory port ("mem"): what a VM's frames
 * are counted as, the vif table at scale (lookups, per-VLAN flood lists)
 * and delivery batched per destination (port tx calls counted exactly). */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "helpers.h"
#include "../../switch/internal.h"

#define MEM_IN 64

/* A fake port: rx hands out what the test queued in in[], tx counts. */
struct mem {
	uint8_t buf[MEM_IN][128];
	struct vmdq_frame in[MEM_IN];
	unsigned nin;
	unsigned tx_calls, tx_frames;
	unsigned rx_calls;
	unsigned idle_calls;
	int fd;             /* "fd": an eventfd the test makes readable; else -1 */
	bool silenced;      /* tx silenced the descriptor (as vhost-user turns the
			     * guest's kicks off); idle() turns it on again */
};

static int m_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	struct mem *m = calloc(1, sizeof(struct mem));
	if (!m)
		return -ENOMEM;
	p->priv = m;
	m->fd = nargs == 1 && strcmp(args[0], "fd") == 0 ? eventfd(0, EFD_NONBLOCK) : -1;
	return 0;
}

static void m_close(struct port *p)
{
	struct mem *m = p->priv;
	if (m && m->fd >= 0)
		close(m->fd);
	free(p->priv);
	p->priv = NULL;
}

static unsigned m_rx(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n)
{
	struct mem *m = p->priv;
	(void)pair;
	m->rx_calls++;
	unsigned k = m->nin < n ? m->nin : n;
	memcpy(f, m->in, k * sizeof(*f));
	memmove(m->in, m->in + k, (m->nin - k) * sizeof(*f));
	m->nin -= k;
	return k;
}

static unsigned m_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct mem *m = p->priv;
	(void)f;
	m->tx_calls++;
	m->tx_frames += n;
	m->silenced = true;
	return n;
}

static bool m_idle(struct port *p)
{
	struct mem *m = p->priv;
	m->idle_calls++;
	m->silenced = false;
	return true;
}

static int m_fd(struct port *p)
{
	return ((struct mem *)p->priv)->fd;
}

static bool m_done(struct port *p)
{
	return ((struct mem *)p->priv)->nin == 0;
}

static const struct port_ops mem_ops = {
	.kind = "mem", .vif_ok = true, .uplink_ok = true, .open = m_open, .close = m_close,
	.rx = m_rx, .tx = m_tx, .fd = m_fd, .done = m_done, .idle = m_idle,
};

/* The same without idle(): a port whose tx silences nothing (as a TAP). */
static const struct port_ops mem_noidle_ops = {
	.kind = "mem-noidle", .vif_ok = true, .uplink_ok = true, .open = m_open,
	.close = m_close, .rx = m_rx, .tx = m_tx, .fd = m_fd, .done = m_done,
};

/* The switch finds its backends here (instead of ports/port.c). */
const struct port_ops *port_ops_find(const char *kind)
{
	return strcmp(kind, "mem") == 0 ? &mem_ops :
	       strcmp(kind, "mem-noidle") == 0 ? &mem_noidle_ops : NULL;
}

static int add_vif(struct vmdq_switch *sw, const char *name, uint64_t mac, uint16_t vlan)
{
	struct sw_vif_spec s = { .name = name, .kind = "mem", .vlan = vlan, .queue = -1 };
	mac_from_u64(mac, s.mac);
	char err[256] = "";
	int vi = vmdq_switch_vif_add(sw, &s, err, sizeof(err));
	if (vi < 0)
		fail_msg("vif add %s: %s", name, err);
	return vi;
}

static struct mem *mem_of(struct vmdq_switch *sw, int vi)
{
	return sw->vif[vi]->port.priv;
}

/* Queues a frame of len bytes from src to dst in vif vi's "VM". */
static void vm_sends(struct vmdq_switch *sw, int vi, uint64_t dst, uint64_t src, uint32_t len)
{
	struct mem *m = mem_of(sw, vi);
	assert_true(m->nin < MEM_IN && len <= sizeof(m->buf[0]));
	uint8_t *b = m->buf[m->nin];
	memset(b, 0, sizeof(m->buf[0]));
	if (len >= 6)
		mac_from_u64(dst, b);
	if (len >= 12)
		mac_from_u64(src, b + 6);
	if (len >= 14)
		b[12] = 0x08;
	m->in[m->nin++] = (struct vmdq_frame){ .data = b, .caplen = len, .len = len };
}

static void run(struct vmdq_switch *sw)
{
	while (vmdq_switch_poll(sw, 0)) {
	}
}

/* A frame from a VM too short for an Ethernet header is a runt, not too big
 * (issue 13 point 5). */
static void runt_from_a_vm(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	int a = add_vif(sw, "a", VM1, 0);
	vm_sends(sw, a, VM2, VM1, 13);
	vm_sends(sw, a, VM2, VM1, 1);
	vm_sends(sw, a, VM2, VM1, 0);
	vm_sends(sw, a, VM2, VM1, 14); /* no uplink: port-tx */
	run(sw);
	struct sw_cnt c;
	vmdq_switch_vif_counters(sw, a, &c);
	assert_int_equal(c.from_vm, 4);
	assert_int_equal(c.drops[SWD_RUNT], 3);
	assert_int_equal(c.drops[SWD_TOO_BIG], 0);
	assert_int_equal(c.drops[SWD_PORT_TX], 1);
	assert_string_equal(sw_drop_name(SWD_RUNT), "runt");
	assert_string_equal(sw_drop_name(SWD_TOO_BIG), "too-big");
	assert_string_equal(sw_drop_name(SWD_HANDOFF_FULL), "handoff-full");
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* Frames straight into the device (no uplink): n copies of f. */
static void sort_in(struct vmdq_switch *sw, const struct tframe *f, unsigned n)
{
	struct vmdq_frame in[32];
	for (unsigned i = 0; i < n && i < 32; i++)
		in[i] = (struct vmdq_frame){ .data = f->b, .caplen = f->len, .len = f->len, .ts_ns = 0 };
	assert_true(n <= 32);
	vmdq_rx_burst(sw->dev, in, n, NULL);
}

static void assert_tx(struct vmdq_switch *sw, int vi, unsigned calls, unsigned frames)
{
	struct mem *m = mem_of(sw, vi);
	assert_int_equal(m->tx_calls, calls);
	assert_int_equal(m->tx_frames, frames);
}

/* The default queue classifies a burst first, then hands each vif its
 * frames of the burst in one tx call (issue 13 point 4): 14 frames, 5
 * vifs, 5 calls. */
static void default_queue_one_call_per_destination(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	int a = add_vif(sw, "a", VM1, 0), b = add_vif(sw, "b", VM2, 0);
	int c = add_vif(sw, "c", VM3, 0);
	int d = add_vif(sw, "d", 0x020000000004ull, 100), e = add_vif(sw, "e", 0x020000000005ull, 100);
	int x = add_vif(sw, "x", 0x020000000006ull, 200);
	struct tframe f[3];
	untagged(&f[0], BCAST, 100);
	tagged(&f[1], BCAST, 100, 100);
	untagged(&f[2], OTHER, 100); /* unknown unicast: flooded */
	struct vmdq_frame in[14];
	for (unsigned i = 0; i < 14; i++) {
		const struct tframe *g = i < 8 ? &f[0] : i < 12 ? &f[1] : &f[2];
		in[i] = (struct vmdq_frame){ .data = g->b, .caplen = g->len, .len = g->len, .ts_ns = 0 };
	}
	vmdq_rx_burst(dev, in, 14, NULL);
	run(sw);
	assert_tx(sw, a, 1, 10);
	assert_tx(sw, b, 1, 10);
	assert_tx(sw, c, 1, 10);
	assert_tx(sw, d, 1, 4);
	assert_tx(sw, e, 1, 4);
	assert_tx(sw, x, 0, 0);
	struct sw_wire_cnt wc;
	vmdq_switch_wire_counters(sw, &wc);
	assert_int_equal(wc.polled, 14);
	assert_int_equal(wc.delivered, 14);
	assert_int_equal(wc.flooded, 14);
	struct sw_cnt cn;
	vmdq_switch_vif_counters(sw, d, &cn);
	assert_int_equal(cn.to_vm, 4);
	/* a flood in a VLAN nobody is in */
	tagged(&f[1], BCAST, 300, 100);
	sort_in(sw, &f[1], 3);
	run(sw);
	vmdq_switch_wire_counters(sw, &wc);
	assert_int_equal(wc.drops[SWD_NO_VIF], 3);
	assert_int_equal(wc.delivered, 14);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* VM to VM: a burst from one VM reaches each other vif in one tx call. */
static void vm_to_vm_one_call_per_destination(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	int a = add_vif(sw, "a", VM1, 0), b = add_vif(sw, "b", VM2, 0);
	int c = add_vif(sw, "c", VM3, 0), d = add_vif(sw, "d", VM2, 100);
	for (int i = 0; i < 5; i++)
		vm_sends(sw, a, VM2, VM1, 60);
	for (int i = 0; i < 3; i++)
		vm_sends(sw, a, BCAST, VM1, 60);
	for (int i = 0; i < 2; i++)
		vm_sends(sw, a, VM3, VM1, 60);
	vm_sends(sw, a, VM1, VM1, 60); /* to itself: the wire's (none: port-tx) */
	run(sw);
	assert_tx(sw, a, 0, 0);
	assert_tx(sw, b, 1, 8);
	assert_tx(sw, c, 1, 5);
	assert_tx(sw, d, 0, 0); /* another VLAN */
	struct sw_cnt cn;
	vmdq_switch_vif_counters(sw, a, &cn);
	assert_int_equal(cn.from_vm, 11);
	assert_int_equal(cn.drops[SWD_PORT_TX], 4); /* 3 broadcasts + 1 for the wire */
	vmdq_switch_vif_counters(sw, b, &cn);
	assert_int_equal(cn.to_vm, 8);
	vmdq_switch_vif_counters(sw, c, &cn);
	assert_int_equal(cn.to_vm, 5);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* The vif table grows past 64 and its indexes follow adds and deletes. */
static void vif_table_grows_and_indexes_follow(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_int_equal(vmdq_dev_set_queues(dev, VMDQ_MAX_QUEUES), 0);
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	char name[32], err[256];
	enum { N = 300 };
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		assert_int_equal(add_vif(sw, name, 0x020000100000ull + (uint64_t)i, (uint16_t)(i % 3)), i);
	}
	assert_int_equal(sw->nvifs, N);
	for (int i = 1; i < N; i += 2) {
		snprintf(name, sizeof(name), "v%d", i);
		assert_int_equal(vmdq_switch_vif_del(sw, name, err, sizeof(err)), 0);
	}
	assert_int_equal(sw->nvifs, N / 2);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		uint8_t mac[6];
		mac_from_u64(0x020000100000ull + (uint64_t)i, mac);
		int want = i % 2 ? -1 : i;
		assert_int_equal(vmdq_switch_vif_find(sw, name), want);
		assert_int_equal(vmdq_sw_vif_lookup(sw, mac, (uint16_t)(i % 3)), want);
		assert_int_equal(vmdq_sw_vif_lookup(sw, mac, (uint16_t)(i % 3 + 1)), -1);
	}
	/* a VLAN's members: exactly the vifs in it */
	for (unsigned l = 0; l < 3; l++) {
		unsigned n = 0;
		for (uint32_t j = sw->vlan_off[l]; j < sw->vlan_off[l + 1]; j++, n++)
			assert_int_equal(sw->vlan_vifs[j]->vlan, l);
		assert_int_equal(n, (N / 2 + 2 - l) / 3);
	}
	/* a duplicate name or (MAC, VLAN) is refused, a freed index reused */
	struct sw_vif_spec sp = { .name = "v0", .kind = "mem", .queue = -1 };
	mac_from_u64(0x020000200000ull, sp.mac);
	assert_int_equal(vmdq_switch_vif_add(sw, &sp, err, sizeof(err)), -EEXIST);
	sp.name = "new";
	mac_from_u64(0x020000100000ull, sp.mac);
	assert_int_equal(vmdq_switch_vif_add(sw, &sp, err, sizeof(err)), -EEXIST);
	assert_int_equal(add_vif(sw, "new", 0x020000200000ull, 0), 1);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* A switch with as many vifs as the device has queues for (4095: one is
 * the default queue); a flood reaches exactly its VLAN's members, each in
 * one call. */
static void flood_in_a_switch_of_4095_vifs(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_int_equal(vmdq_dev_set_queues(dev, VMDQ_MAX_QUEUES), 0);
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	struct vmdq_dev_config dc;
	vmdq_dev_get_config(dev, &dc);
	assert_int_equal(dc.queues, 4096);
	enum { N = 4095 };
	char name[32];
	vmdq_dev_batch_begin(dev);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		add_vif(sw, name, 0x020000100000ull + (uint64_t)i, (uint16_t)(i % 64));
	}
	vmdq_dev_batch_commit(dev);
	assert_int_equal(sw->nvifs, N);
	/* no room for one more: every queue is taken */
	struct sw_vif_spec sp = { .name = "more", .kind = "mem", .queue = -1 };
	char err[256];
	assert_int_equal(vmdq_switch_vif_add(sw, &sp, err, sizeof(err)), -ENOSPC);
	struct tframe f;
	tagged(&f, BCAST, 7, 100);
	sort_in(sw, &f, 2);
	untagged(&f, MCAST, 100);
	sort_in(sw, &f, 1);
	run(sw);
	unsigned members7 = 0, members0 = 0;
	for (int i = 0; i < N; i++) {
		struct mem *m = mem_of(sw, i);
		if (i % 64 == 7) {
			assert_int_equal(m->tx_calls, 1);
			assert_int_equal(m->tx_frames, 2);
			members7++;
		} else if (i % 64 == 0) {
			assert_int_equal(m->tx_calls, 1);
			assert_int_equal(m->tx_frames, 1);
			members0++;
		} else {
			assert_int_equal(m->tx_calls, 0);
		}
	}
	assert_int_equal(members7, 64);
	assert_int_equal(members0, 64);
	struct sw_wire_cnt wc;
	vmdq_switch_wire_counters(sw, &wc);
	assert_int_equal(wc.flooded, 3);
	/* and unicast from the wire to the last of them, through its queue */
	untagged(&f, 0x020000100000ull + N - 1 - 62, 100); /* VLAN 0: N - 63 is a multiple of 64 */
	sort_in(sw, &f, 1);
	run(sw);
	assert_tx(sw, N - 63, 2, 2);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* A vif moved to another worker (remap) gets an inbox from its old worker:
 * frames from the main worker reach it there, a burst per tx call. */
static void remap_gives_an_inbox_from_the_old_worker(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	struct sw_vif_spec sp = { .name = "a", .kind = "mem", .queue = 5 };
	mac_from_u64(VM1, sp.mac);
	char err[256] = "";
	int a = vmdq_switch_vif_add(sw, &sp, err, sizeof(err));
	assert_true(a >= 0);
	int b = add_vif(sw, "b", VM2, 0);
	assert_int_equal(sw->nworkers, 1);
	assert_null(sw->vif[a]->inbox[0]); /* one worker: no inboxes */
	assert_int_equal(vmdq_queue_set_cpu(dev, 5, 1), 0);
	assert_int_equal(vmdq_switch_remap(sw, err, sizeof(err)), 0);
	assert_int_equal(sw->nworkers, 2);
	assert_int_equal(sw->vif[a]->worker, 1);
	assert_int_equal(sw->wk[1].nvifs, 1);
	assert_int_equal(sw->wk[0].nvifs, 1);
	assert_non_null(sw->vif[a]->inbox[0]);
	assert_non_null(sw->vif[b]->inbox[1]);
	for (int i = 0; i < 3; i++)
		vm_sends(sw, b, VM1, VM2, 60);
	struct tframe f;
	untagged(&f, BCAST, 100);
	sort_in(sw, &f, 2);
	vmdq_switch_poll_worker(sw, 0, 0);
	assert_tx(sw, a, 0, 0);
	assert_tx(sw, b, 1, 2); /* the two broadcasts, one call */
	vmdq_switch_poll_worker(sw, 1, 0);
	assert_tx(sw, a, 1, 5); /* 2 broadcasts and 3 from b: one inbox, one call */
	struct sw_cnt c;
	vmdq_switch_vif_counters(sw, a, &c);
	assert_int_equal(c.to_vm, 5);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* An idle vif with a descriptor goes cold after SW_COLD_ROUNDS rounds:
 * its port is read every SW_COLD_EVERY rounds only (the sweep, one cold vif
 * at a time), at once when its descriptor wakes the sleeping worker; frames
 * in its queue are delivered in the next round without warming its port
 * (only the port's own frames do: a vif the wire sends to stays cold). */
static void idle_vif_goes_cold(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	char fd[] = "fd", *args[] = { fd }, err[256];
	struct sw_vif_spec sp = { .name = "a", .kind = "mem", .queue = -1, .args = args, .nargs = 1 };
	mac_from_u64(VM1, sp.mac);
	int a = vmdq_switch_vif_add(sw, &sp, err, sizeof(err));
	assert_true(a >= 0);
	int b = add_vif(sw, "b", VM2, 0); /* no descriptor: never cold */
	struct mem *ma = mem_of(sw, a), *mb = mem_of(sw, b);
	for (int i = 0; i < SW_COLD_ROUNDS; i++)
		vmdq_switch_poll(sw, 0);
	assert_true(sw->vif[a]->cold);
	assert_false(sw->vif[b]->cold);
	assert_int_equal(ma->rx_calls, SW_COLD_ROUNDS);
	for (int i = 0; i < SW_COLD_EVERY; i++)
		vmdq_switch_poll(sw, 0);
	assert_int_equal(ma->rx_calls, SW_COLD_ROUNDS + 1);
	assert_int_equal(mb->rx_calls, SW_COLD_ROUNDS + SW_COLD_EVERY);
	/* a frame for it in its queue: looked at in the next round */
	struct tframe f;
	untagged(&f, VM1, 100);
	sort_in(sw, &f, 1);
	vmdq_switch_poll(sw, 0);
	assert_tx(sw, a, 1, 1);
	assert_true(sw->vif[a]->cold); /* delivered; its port still idle */
	assert_false(sw->vif[a]->active); /* and it left the round's list */
	assert_false(ma->silenced); /* its descriptor armed again before it left */
	/* its VM sends and its descriptor says so: the sleeping worker wakes,
	 * and the next round reads it */
	unsigned rx0 = ma->rx_calls;
	vm_sends(sw, a, VM2, VM1, 60);
	uint64_t one = 1;
	assert_int_equal(write(ma->fd, &one, sizeof(one)), sizeof(one));
	vmdq_switch_wait(sw, 0, -1, 1000);
	assert_true(sw->vif[a]->wake);
	vmdq_switch_poll(sw, 0);
	assert_int_equal(ma->rx_calls, rx0 + 1);
	assert_tx(sw, b, 1, 1);
	assert_false(sw->vif[a]->cold);
	assert_int_equal(sw->wk[0].ncold, 0);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* A mem vif with a descriptor (it can go cold) on queue q (-1: any). */
static int add_vif_fd(struct vmdq_switch *sw, const char *name, uint64_t mac, int q)
{
	char fd[] = "fd", *args[] = { fd }, err[256] = "";
	struct sw_vif_spec sp = { .name = name, .kind = "mem", .queue = q, .args = args,
				  .nargs = 1 };
	mac_from_u64(mac, sp.mac);
	int vi = vmdq_switch_vif_add(sw, &sp, err, sizeof(err));
	if (vi < 0)
		fail_msg("vif add %s: %s", name, err);
	return vi;
}

/* A vif handed frames stays warm: polled each round, its descriptor left
 * silent, no idle() per visit (each one re-armed a vhost-user guest's kicks
 * and cost the switch syscalls: the 64-byte host -> guest regression of
 * issue 14).  It goes cold only after SW_COLD_ROUNDS visits with no frames
 * either way, with exactly one idle() at that moment (its descriptor armed
 * before it stops being polled).  A cold vif handed frames once gets idle()
 * (idle_vif_goes_cold); handed frames again within SW_COLD_ROUNDS rounds
 * (a stream) it is warm again, without another idle(). */
static void receiving_vif_stays_warm(void **s)
{
	(void)s;
	enum { R = 200 };
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	int a = add_vif_fd(sw, "a", VM1, -1);
	int b = add_vif(sw, "b", VM2, 0); /* no descriptor: never cold */
	struct mem *ma = mem_of(sw, a);
	struct tframe f;
	untagged(&f, VM1, 100);
	/* warm from the start, a frame for it every round: never idle() */
	for (int i = 0; i < R; i++) {
		sort_in(sw, &f, 1);
		vmdq_switch_poll(sw, 0);
	}
	assert_tx(sw, a, R, R);
	assert_int_equal(ma->idle_calls, 0);
	assert_false(sw->vif[a]->cold);
	assert_true(ma->silenced);
	assert_int_equal(ma->rx_calls, R); /* polled every round */
	/* its VM replies, no descriptor written: read in the next round */
	vm_sends(sw, a, VM2, VM1, 60);
	vmdq_switch_poll(sw, 0);
	assert_tx(sw, b, 1, 1);
	/* SW_COLD_ROUNDS visits with nothing either way: cold after the last,
	 * one idle() that armed its descriptor */
	for (int i = 0; i < SW_COLD_ROUNDS - 1; i++)
		vmdq_switch_poll(sw, 0);
	assert_false(sw->vif[a]->cold);
	assert_int_equal(ma->idle_calls, 0);
	assert_true(ma->silenced);
	vmdq_switch_poll(sw, 0);
	assert_true(sw->vif[a]->cold);
	assert_false(sw->vif[a]->active);
	assert_int_equal(ma->idle_calls, 1);
	assert_false(ma->silenced);
	unsigned rx0 = ma->rx_calls;
	assert_int_equal(rx0, R + 1 + SW_COLD_ROUNDS);
	/* a stream to the cold vif: the first visit calls idle() (it stays
	 * cold, the port idle), the second warms it; then no idle() */
	sort_in(sw, &f, 1);
	vmdq_switch_poll(sw, 0);
	assert_int_equal(ma->idle_calls, 2);
	assert_true(sw->vif[a]->cold);
	assert_false(ma->silenced);
	assert_int_equal(ma->rx_calls, rx0);
	for (int i = 0; i < R; i++) {
		sort_in(sw, &f, 1);
		vmdq_switch_poll(sw, 0);
	}
	assert_false(sw->vif[a]->cold);
	assert_int_equal(ma->idle_calls, 2);
	assert_true(ma->silenced);
	assert_int_equal(ma->rx_calls, rx0 + R - 1); /* polled from the round after */
	assert_tx(sw, a, 2 * R + 1, 2 * R + 1);
	for (int i = 0; i < SW_COLD_ROUNDS; i++)
		vmdq_switch_poll(sw, 0);
	assert_true(sw->vif[a]->cold);
	assert_int_equal(ma->idle_calls, 3);
	assert_false(ma->silenced);
	assert_int_equal(sw->wk[0].ncold, 1);
	struct sw_cnt c;
	vmdq_switch_vif_counters(sw, a, &c);
	assert_int_equal(c.to_vm, 2 * R + 1);
	for (int d = 0; d < SWD__COUNT; d++)
		assert_int_equal(c.drops[d], 0);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* A port without idle() silences nothing: frames handed to it neither keep
 * it warm nor warm it (its rx, a read() for a TAP, is not polled for them);
 * it goes cold after SW_COLD_ROUNDS visits whose rx gave nothing, as
 * before, and only the cold sweep reads it then. */
static void noidle_vif_handed_frames_stays_cold(void **s)
{
	(void)s;
	enum { R = 200 };
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	char fd[] = "fd", *args[] = { fd }, err[256] = "";
	struct sw_vif_spec sp = { .name = "t", .kind = "mem-noidle", .queue = -1,
				  .args = args, .nargs = 1 };
	mac_from_u64(VM1, sp.mac);
	int t = vmdq_switch_vif_add(sw, &sp, err, sizeof(err));
	assert_true(t >= 0);
	struct mem *mt = mem_of(sw, t);
	struct tframe f;
	untagged(&f, VM1, 100);
	for (int i = 0; i < SW_COLD_ROUNDS; i++) {
		sort_in(sw, &f, 1);
		vmdq_switch_poll(sw, 0);
	}
	assert_true(sw->vif[t]->cold); /* handed a frame every round */
	assert_int_equal(mt->rx_calls, SW_COLD_ROUNDS);
	uint32_t r0 = sw->wk[0].round;
	for (int i = 0; i < R; i++) {
		sort_in(sw, &f, 1);
		vmdq_switch_poll(sw, 0);
	}
	assert_true(sw->vif[t]->cold);
	/* read only by the sweep (the only cold vif: every one picks it) */
	unsigned sweeps = (r0 + R) / SW_COLD_EVERY - r0 / SW_COLD_EVERY;
	assert_int_equal(mt->rx_calls, SW_COLD_ROUNDS + sweeps);
	assert_tx(sw, t, SW_COLD_ROUNDS + R, SW_COLD_ROUNDS + R);
	assert_int_equal(mt->idle_calls, 0);
	assert_int_equal(sw->wk[0].ncold, 1);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

/* Issue 13 point 4: a round visits only the vifs with work.  Idle vifs go
 * cold and leave the active list; frames the device places on the queue of
 * one of them, or another worker pushes into its inbox, bring exactly it
 * back for one visit, and every frame is delivered, with one worker and
 * with two (worker 1 driven by its own poll entry point). */
static void idle_vifs_leave_the_round(void **s)
{
	(void)s;
	enum { N = 100 };
	struct vmdq_dev *dev = vmdq_dev_create();
	assert_int_equal(vmdq_dev_set_queues(dev, 256), 0);
	struct vmdq_switch *sw = vmdq_switch_create(dev);
	assert_non_null(sw);
	int vi[N];
	char name[16];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		vi[i] = add_vif_fd(sw, name, VM1 + (uint64_t)i, -1);
	}
	/* a sender without a descriptor: never cold, on the list for good */
	int snd = add_vif(sw, "snd", 0x02aa00000001ull, 0);
	/* worker 1's vif, idle too */
	assert_int_equal(vmdq_queue_set_cpu(dev, 200, 1), 0);
	int far = add_vif_fd(sw, "far", 0x02bb00000001ull, 200);
	assert_int_equal(sw->nworkers, 2);
	assert_int_equal(sw->vif[far]->worker, 1);
	for (int i = 0; i < SW_COLD_ROUNDS; i++)
		vmdq_switch_poll(sw, 0);
	for (int i = 0; i < N; i++) {
		assert_true(sw->vif[vi[i]]->cold);
		assert_false(sw->vif[vi[i]]->active);
	}
	assert_true(sw->vif[far]->cold);
	assert_int_equal(sw->wk[0].nact, 1); /* snd alone */
	assert_int_equal(sw->wk[1].nact, 0);
	/* frames for three cold vifs of worker 0 and the one of worker 1,
	 * straight into their queues (the device's sorter) */
	const int to[3] = { 0, 57, N - 1 };
	const unsigned cnt[3] = { 3, 32, 7 };
	struct tframe f;
	for (int t = 0; t < 3; t++) {
		untagged(&f, VM1 + (uint64_t)to[t], 100);
		sort_in(sw, &f, cnt[t]);
	}
	untagged(&f, 0x02bb00000001ull, 100);
	sort_in(sw, &f, 5);
	/* the device set their pending bits: worker 0's round visits the
	 * three, not the other 97 */
	unsigned q0 = (unsigned)sw->vif[vi[57]]->queue;
	assert_true(sw->wk[0].pend[q0 / 64] & (1ull << (q0 % 64)));
	assert_int_equal(vmdq_switch_poll_worker(sw, 0, 0), 3 + 32 + 7);
	for (int i = 0; i < N; i++) {
		unsigned want = i == to[0] ? cnt[0] : i == to[1] ? cnt[1] : i == to[2] ? cnt[2] : 0;
		assert_tx(sw, vi[i], want ? 1 : 0, want);
		assert_true(sw->vif[vi[i]]->cold); /* the port itself is still idle */
		assert_int_equal(mem_of(sw, vi[i])->rx_calls, SW_COLD_ROUNDS); /* not read */
	}
	assert_tx(sw, far, 0, 0);
	/* all three drained to the end: they left the list again */
	assert_int_equal(sw->wk[0].nact, 1);
	assert_int_equal(vmdq_switch_poll_worker(sw, 0, 0), 0);
	/* worker 1 visits its vif: all 5 */
	assert_int_equal(vmdq_switch_poll_worker(sw, 1, 0), 5);
	assert_tx(sw, far, 1, 5);
	assert_int_equal(sw->wk[1].nact, 0);
	/* VM to VM across workers: snd (worker 0) to far (worker 1, cold):
	 * the inbox push sets far's bit at the end of worker 0's round */
	for (int i = 0; i < 9; i++)
		vm_sends(sw, snd, 0x02bb00000001ull, 0x02aa00000001ull, 60);
	vmdq_switch_poll_worker(sw, 0, 0);
	unsigned qf = (unsigned)sw->vif[far]->queue;
	assert_true(sw->wk[1].pend[qf / 64] & (1ull << (qf % 64)));
	assert_int_equal(vmdq_switch_poll_worker(sw, 1, 0), 9);
	assert_tx(sw, far, 2, 14);
	/* frames placed while worker 1 already took its bits are not lost:
	 * the device sets the bit again */
	untagged(&f, 0x02bb00000001ull, 100);
	sort_in(sw, &f, 2);
	assert_int_equal(vmdq_switch_poll_worker(sw, 1, 0), 2);
	assert_int_equal(vmdq_switch_poll_worker(sw, 1, 0), 0);
	assert_tx(sw, far, 3, 16);
	struct sw_cnt c;
	vmdq_switch_vif_counters(sw, far, &c);
	assert_int_equal(c.to_vm, 16);
	for (int d = 0; d < SWD__COUNT; d++)
		assert_int_equal(c.drops[d], 0);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
}

int main(void)
{
	vmdq_thread_online();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runt_from_a_vm),
		cmocka_unit_test(default_queue_one_call_per_destination),
		cmocka_unit_test(vm_to_vm_one_call_per_destination),
		cmocka_unit_test(vif_table_grows_and_indexes_follow),
		cmocka_unit_test(flood_in_a_switch_of_4095_vifs),
		cmocka_unit_test(remap_gives_an_inbox_from_the_old_worker),
		cmocka_unit_test(idle_vif_goes_cold),
		cmocka_unit_test(idle_vifs_leave_the_round),
		cmocka_unit_test(receiving_vif_stays_warm),
		cmocka_unit_test(noidle_vif_handed_frames_stays_cold),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
