/* SPDX-License-Identifier: MIT */
/* The switch's core with a fake in-memory port ("mem"): what a VM's frames
 * are counted as, the vif table at scale (lookups, per-VLAN flood lists)
 * and delivery batched per destination (port tx calls counted exactly). */
#include <errno.h>

#include "helpers.h"
#include "../../switch/internal.h"

#define MEM_IN 64

/* A fake port: rx hands out what the test queued in in[], tx counts. */
struct mem {
	uint8_t buf[MEM_IN][128];
	struct vmdq_frame in[MEM_IN];
	unsigned nin;
	unsigned tx_calls, tx_frames;
};

static int m_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	(void)args, (void)nargs, (void)err, (void)errlen;
	p->priv = calloc(1, sizeof(struct mem));
	return p->priv ? 0 : -ENOMEM;
}

static void m_close(struct port *p)
{
	free(p->priv);
	p->priv = NULL;
}

static unsigned m_rx(struct port *p, struct vmdq_frame *f, unsigned n)
{
	struct mem *m = p->priv;
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
	return n;
}

static int m_fd(struct port *p)
{
	(void)p;
	return -1;
}

static bool m_done(struct port *p)
{
	return ((struct mem *)p->priv)->nin == 0;
}

static const struct port_ops mem_ops = {
	.kind = "mem", .vif_ok = true, .uplink_ok = true, .open = m_open, .close = m_close,
	.rx = m_rx, .tx = m_tx, .fd = m_fd, .done = m_done,
};

/* The switch finds its backends here (instead of ports/port.c). */
const struct port_ops *port_ops_find(const char *kind)
{
	return strcmp(kind, "mem") == 0 ? &mem_ops : NULL;
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
	return sw->vif[vi].port.priv;
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

int main(void)
{
	vmdq_thread_online();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runt_from_a_vm),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
