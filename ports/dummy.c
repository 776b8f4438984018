/* SPDX-License-Identifier: MIT */
/*
 * The dummy backend: `dummy [targeted] [capacity N]`, an in-memory port for
 * unit tests and benchmarks (no root; its only descriptor an eventfd that
 * tells the switch when the test injected frames: the only system calls
 * after open are that eventfd's write and read, once per injection spell).  It has no describe: a switch of 4096 dummies logs nothing per vif.  The test's side of it, and what each mode does: ports/dummy.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dummy.h"

#define CAP_DEFAULT 256u
#define CAP_MAX 65536u

struct vmdq_dummy {
	struct vmdq_dummy *prev, *next; /* the registry, newest first */
	struct port *port;              /* NULL once closed */
	bool held, targeted, replay, vif;
	unsigned cap;
	uint64_t room;
	/* next to what tx reads (room, cap): a sink's tx touches two lines */
	struct vmdq_dummy_stats st;
	char name[32];
	/* the descriptor the switch sleeps on (fd): an eventfd written when
	 * frames are injected or replay starts, read again by the next rx; -1
	 * if none could be made (then the switch polls the port every round) */
	int efd;
	bool kicked;                    /* efd written since the last rx */
	/* rx: slots [head, tail) wait; [last, head) were given by the last rx
	 * call and stay valid until the next one */
	uint32_t slot;                  /* bytes a frame may have: VMDQ_DUMMY_SLOT, or
					 * VMDQ_DUMMY_SUPER_SLOT with offloads */
	uint8_t *in;                    /* cap slots of `slot` bytes */
	uint32_t *in_len;
	struct vmdq_offload *in_off, *out_off; /* each frame's offload state */
	uint64_t head, tail, last, cursor;
	/* the sent store: frames [0, nsent) */
	uint8_t *out;
	uint32_t *out_len;
	unsigned nsent;
	/* targeted: the VM's memory, its header replicas, free buffers */
	uint8_t *guest;
	uint8_t *hdr;
	unsigned nfree;
	uint16_t freebuf[VMDQ_DUMMY_GUEST_BUFS];
};

static struct vmdq_dummy *reg_head, *reg_last;

static void *slots(unsigned n, size_t size)
{
	if (!n)
		return NULL;
	void *m = mmap(NULL, (size_t)n * size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

static void unslots(void *m, unsigned n, size_t size)
{
	if (m)
		munmap(m, (size_t)n * size);
}

/* What only an open port needs; a held one keeps its sent store. */
static void release_port(struct vmdq_dummy *d)
{
	if (d->efd >= 0)
		close(d->efd);
	d->efd = -1;
	d->kicked = false;
	unslots(d->in, d->cap, d->slot);
	unslots(d->guest, VMDQ_DUMMY_GUEST_BUFS, VMDQ_DUMMY_GUEST_BUF);
	free(d->in_len);
	free(d->in_off);
	free(d->hdr);
	d->in = d->guest = d->hdr = NULL;
	d->in_len = NULL;
	d->in_off = NULL;
	d->head = d->tail = d->last = d->cursor = 0;
}

static void release(struct vmdq_dummy *d)
{
	release_port(d);
	unslots(d->out, d->cap, d->slot);
	free(d->out_len);
	free(d->out_off);
	d->out = NULL;
	d->out_len = NULL;
	d->out_off = NULL;
	d->nsent = 0;
}

static void unlink_free(struct vmdq_dummy *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		reg_head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	if (reg_last == d)
		reg_last = NULL;
	release(d);
	free(d);
}

struct vmdq_dummy *vmdq_dummy_find(const char *name)
{
	for (struct vmdq_dummy *d = reg_head; d; d = d->next)
		if (d->port && strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

struct vmdq_dummy *vmdq_dummy_last(void)
{
	return reg_last;
}

struct vmdq_dummy *vmdq_dummy_of(struct port *p)
{
	return p && p->ops == &port_dummy_ops ? p->priv : NULL;
}

void vmdq_dummy_hold(struct vmdq_dummy *d)
{
	d->held = true;
}

void vmdq_dummy_forget(void)
{
	struct vmdq_dummy *d = reg_head;
	while (d) {
		struct vmdq_dummy *n = d->next;
		if (!d->port)
			unlink_free(d);
		else
			d->held = false; /* freed when it closes */
		d = n;
	}
}

bool vmdq_dummy_is_open(const struct vmdq_dummy *d)
{
	return d->port != NULL;
}

/* ---- the test's side --------------------------------------------------- */

/* rx has frames now: the descriptor says so (once until the next rx). */
static void kick(struct vmdq_dummy *d)
{
	uint64_t one = 1;
	if (d->efd < 0 || d->kicked)
		return;
	if (write(d->efd, &one, sizeof(one)) == sizeof(one))
		d->kicked = true;
}

int vmdq_dummy_inject(struct vmdq_dummy *d, const void *frame, uint32_t len)
{
	static const struct vmdq_offload none;
	return vmdq_dummy_inject_off(d, frame, len, &none);
}

int vmdq_dummy_inject_off(struct vmdq_dummy *d, const void *frame, uint32_t len,
			  const struct vmdq_offload *off)
{
	if (!d->port)
		return -EPIPE;
	if (len > d->slot)
		return -EMSGSIZE;
	/* the slots the last rx call gave out are the switch's until the next */
	uint64_t from = d->replay ? d->head : d->last;
	if (!d->cap || d->tail - from >= d->cap)
		return -ENOSPC;
	unsigned k = (unsigned)(d->tail % d->cap);
	memcpy(d->in + (size_t)k * d->slot, frame, len);
	d->in_len[k] = len;
	d->in_off[k] = *off;
	d->tail++;
	d->st.injected++;
	kick(d);
	return 0;
}

void vmdq_dummy_replay(struct vmdq_dummy *d, bool on)
{
	d->replay = on;
	d->cursor = d->head;
	d->last = d->head;
	if (on && d->port)
		kick(d);
}

unsigned vmdq_dummy_waiting(const struct vmdq_dummy *d)
{
	return (unsigned)(d->tail - d->head);
}

void vmdq_dummy_discard(struct vmdq_dummy *d)
{
	d->head = d->last = d->tail; /* every slot free for inject again */
	d->cursor = 0;
}

unsigned vmdq_dummy_sent(const struct vmdq_dummy *d)
{
	return d->nsent;
}

const uint8_t *vmdq_dummy_frame(const struct vmdq_dummy *d, unsigned i, uint32_t *len)
{
	if (i >= d->nsent)
		return NULL;
	*len = d->out_len[i];
	return d->out + (size_t)i * d->slot;
}

const struct vmdq_offload *vmdq_dummy_frame_off(const struct vmdq_dummy *d, unsigned i)
{
	return i < d->nsent ? &d->out_off[i] : NULL;
}

void vmdq_dummy_clear(struct vmdq_dummy *d)
{
	d->nsent = 0;
}

void vmdq_dummy_set_room(struct vmdq_dummy *d, uint64_t n)
{
	d->room = n;
}

void vmdq_dummy_stats(const struct vmdq_dummy *d, struct vmdq_dummy_stats *out)
{
	*out = d->st;
}

const uint8_t *vmdq_dummy_guest(const struct vmdq_dummy *d, size_t *len)
{
	if (!d->guest)
		return NULL;
	*len = (size_t)VMDQ_DUMMY_GUEST_BUFS * VMDQ_DUMMY_GUEST_BUF;
	return d->guest;
}

int vmdq_dummy_queue(const struct vmdq_dummy *d)
{
	return d->port && d->vif ? d->port->queue : -1;
}

/* Takes one frame for the "VM" (or the wire): false if the room or the
 * store says no. */
static bool take(struct vmdq_dummy *d, const uint8_t *data, uint32_t len,
		 const struct vmdq_offload *off)
{
	if (d->room == 0)
		return false;
	if (d->cap) {
		if (d->nsent >= d->cap || len > d->slot)
			return false;
		memcpy(d->out + (size_t)d->nsent * d->slot, data, len);
		d->out_off[d->nsent] = *off;
		d->out_len[d->nsent++] = len;
	}
	if (d->room != VMDQ_DUMMY_UNLIMITED)
		d->room--;
	return true;
}

unsigned vmdq_dummy_refill(struct vmdq_dummy *d)
{
	struct port *p = d->port;
	if (!d->targeted || !p || !p->dev || !d->nfree)
		return 0;
	struct vmdq_rxd b[VMDQ_DUMMY_GUEST_BUFS];
	unsigned n = d->nfree;
	for (unsigned i = 0; i < n; i++) {
		uint16_t k = d->freebuf[d->nfree - 1 - i];
		b[i] = (struct vmdq_rxd){ .buf = d->guest + (size_t)k * VMDQ_DUMMY_GUEST_BUF,
					  .buf_size = VMDQ_DUMMY_GUEST_BUF, .cookie = k,
					  .hdr = d->hdr + (size_t)k * VMDQ_DUMMY_HDR,
					  .hdr_len = VMDQ_DUMMY_HDR };
	}
	int err;
	unsigned k = vmdq_rxq_post_shared(p->dev, (unsigned)p->queue, p->owner, b, n, &err);
	d->nfree -= k;
	d->st.posted += k;
	return k;
}

/* ---- the switch's side ------------------------------------------------- */

static unsigned dm_rx(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n)
{
	struct vmdq_dummy *d = p->priv;
	(void)pair; /* one pair */
	d->st.rx_calls++;
	if (d->kicked) {
		uint64_t v;
		if (read(d->efd, &v, sizeof(v)) < 0) {
			/* reset already */
		}
		d->kicked = false;
	}
	unsigned k = 0;
	if (d->replay) {
		uint64_t w = d->tail - d->head;
		for (; k < n && w; k++) {
			unsigned s = (unsigned)((d->head + d->cursor++ % w) % d->cap);
			f[k] = (struct vmdq_frame){ .data = d->in + (size_t)s * d->slot,
						    .caplen = d->in_len[s], .len = d->in_len[s],
						    .off = d->in_off[s] };
		}
	} else {
		d->last = d->head;
		for (; k < n && d->head < d->tail; k++, d->head++) {
			unsigned s = (unsigned)(d->head % d->cap);
			f[k] = (struct vmdq_frame){ .data = d->in + (size_t)s * d->slot,
						    .caplen = d->in_len[s], .len = d->in_len[s],
						    .off = d->in_off[s] };
		}
	}
	d->st.rx_frames += k;
	for (unsigned i = 0; i < k; i++) {
		p->rx_frames++;
		p->rx_bytes += f[i].len;
	}
	return k;
}

static unsigned dm_tx(struct port *p, const struct vmdq_frame *f, unsigned n)
{
	struct vmdq_dummy *d = p->priv;
	d->st.tx_calls++;
	if (n > d->st.tx_most)
		d->st.tx_most = n;
	unsigned i;
	for (i = 0; i < n; i++) {
		uint32_t len = f[i].caplen < f[i].len ? f[i].caplen : f[i].len;
		if (!take(d, f[i].data, len, &f[i].off))
			break;
		p->tx_frames++;
		p->tx_bytes += len;
	}
	d->st.tx_frames += i;
	d->st.tx_refused += n - i;
	return i;
}

static unsigned dm_complete(struct port *p, struct vmdq_rxd *rd, unsigned n, const bool *deliver)
{
	struct vmdq_dummy *d = p->priv;
	d->st.complete_calls++;
	if (n > d->st.complete_most)
		d->st.complete_most = n;
	unsigned got = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t k = rd[i].cookie;
		if (k >= VMDQ_DUMMY_GUEST_BUFS || rd[i].buf != d->guest + k * VMDQ_DUMMY_GUEST_BUF)
			continue; /* not one of ours: cannot happen */
		if (!deliver[i]) {
			d->st.refused++;
		} else if (rd[i].len <= VMDQ_DUMMY_GUEST_BUF && take(d, rd[i].buf, rd[i].len,
			(rd[i].flags & VMDQ_RXD_OFFLOAD) ? &rd[i].off : &(struct vmdq_offload){ 0 })) {
			d->st.delivered++;
			p->tx_frames++;
			p->tx_bytes += rd[i].len;
			got++;
		} else {
			d->st.not_taken++;
		}
		/* the VM read it (or never saw it): the buffer is free again */
		d->freebuf[d->nfree++] = (uint16_t)k;
	}
	vmdq_dummy_refill(d);
	return got;
}

static int dm_service(struct port *p, uint64_t now)
{
	(void)now;
	vmdq_dummy_refill(p->priv);
	return PORT_SERVICE_OK;
}

static bool dm_idle(struct port *p)
{
	struct vmdq_dummy *d = p->priv;
	return !d->replay && d->head == d->tail;
}

static int dm_fd(struct port *p)
{
	return ((struct vmdq_dummy *)p->priv)->efd;
}

static bool dm_done(struct port *p)
{
	return dm_idle(p);
}

static bool dm_targeted(struct port *p)
{
	return ((struct vmdq_dummy *)p->priv)->targeted;
}

static void dm_close(struct port *p)
{
	struct vmdq_dummy *d = p->priv;
	if (!d)
		return;
	p->priv = NULL;
	if (d->targeted && p->dev) {
		/* the queue still runs (a failed vif add): take the VM's buffers
		 * back before its memory goes */
		struct vmdq_rxd b[VMDQ_DUMMY_GUEST_BUFS];
		while (vmdq_rxq_retract(p->dev, (unsigned)p->queue, b, VMDQ_DUMMY_GUEST_BUFS) > 0) {
		}
		vmdq_rxq_share_mem(p->dev, (unsigned)p->queue, p->owner, NULL, 0);
	}
	d->port = NULL;
	if (!d->held)
		unlink_free(d);
	else
		release_port(d);
}

static int dm_open(struct port *p, char **args, int nargs, char *err, size_t errlen)
{
	bool targeted = false;
	unsigned long cap = CAP_DEFAULT;
	uint32_t offloads = 0;
	for (int i = 0; i < nargs; i++) {
		char *end;
		if (strcmp(args[i], "targeted") == 0) {
			targeted = true;
		} else if (strcmp(args[i], "offload") == 0 && i + 1 < nargs) {
			/* a comma-separated list: csum, tso4, tso6, uso, ecn */
			char list[64];
			snprintf(list, sizeof(list), "%s", args[++i]);
			for (char *sv, *t = strtok_r(list, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
				static const struct { const char *n; uint32_t bit; } k[] = {
					{ "csum", PORT_OFF_CSUM }, { "tso4", PORT_OFF_TSO4 },
					{ "tso6", PORT_OFF_TSO6 }, { "uso", PORT_OFF_USO },
					{ "ecn", PORT_OFF_ECN },
				};
				unsigned j = 0;
				while (j < sizeof(k) / sizeof(k[0]) && strcmp(t, k[j].n) != 0)
					j++;
				if (j == sizeof(k) / sizeof(k[0])) {
					snprintf(err, errlen, "dummy: offload '%s': expected csum, tso4, "
						 "tso6, uso or ecn", t);
					return -EINVAL;
				}
				offloads |= k[j].bit;
			}
		} else if (strcmp(args[i], "capacity") == 0 && i + 1 < nargs) {
			cap = strtoul(args[++i], &end, 10);
			if (*end || !*args[i] || cap > CAP_MAX) {
				snprintf(err, errlen, "dummy: capacity %s: 0..%u frames", args[i],
					 CAP_MAX);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen, "dummy: '%s': expected 'targeted', 'capacity N' or "
				 "'offload LIST'",
				 args[i]);
			return -EINVAL;
		}
	}
	if (targeted && !p->dev) {
		snprintf(err, errlen, "dummy: targeted needs a device queue (a vif)");
		return -EINVAL;
	}
	struct vmdq_dummy *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "dummy: out of memory");
		return -ENOMEM;
	}
	snprintf(d->name, sizeof(d->name), "%s", p->name);
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->cap = (unsigned)cap;
	d->room = VMDQ_DUMMY_UNLIMITED;
	d->targeted = targeted;
	d->vif = p->dev != NULL;
	d->port = p;
	p->priv = d;
	d->next = reg_head;
	if (reg_head)
		reg_head->prev = d;
	reg_head = d;
	reg_last = d;
	d->slot = offloads ? VMDQ_DUMMY_SUPER_SLOT : VMDQ_DUMMY_SLOT;
	if (d->cap) {
		d->in = slots(d->cap, d->slot);
		d->out = slots(d->cap, d->slot);
		d->in_len = calloc(d->cap, sizeof(*d->in_len));
		d->out_len = calloc(d->cap, sizeof(*d->out_len));
		d->in_off = calloc(d->cap, sizeof(*d->in_off));
		d->out_off = calloc(d->cap, sizeof(*d->out_off));
		if (!d->in || !d->out || !d->in_len || !d->out_len || !d->in_off || !d->out_off) {
			snprintf(err, errlen, "dummy: out of memory");
			return -ENOMEM; /* the switch closes the port */
		}
	}
	/* a stored frame has d->slot bytes at most; the offloads it was told */
	p->caps = (struct port_caps){ .max_frame_in = d->slot, .max_frame_out = d->slot,
				      .rx_offloads = offloads, .tx_offloads = offloads };
	if (targeted) {
		d->guest = slots(VMDQ_DUMMY_GUEST_BUFS, VMDQ_DUMMY_GUEST_BUF);
		d->hdr = calloc(VMDQ_DUMMY_GUEST_BUFS, VMDQ_DUMMY_HDR);
		if (!d->guest || !d->hdr) {
			snprintf(err, errlen, "dummy: out of memory");
			return -ENOMEM;
		}
		memset(d->guest, VMDQ_DUMMY_FILL,
		       (size_t)VMDQ_DUMMY_GUEST_BUFS * VMDQ_DUMMY_GUEST_BUF);
		for (unsigned i = 0; i < VMDQ_DUMMY_GUEST_BUFS; i++)
			d->freebuf[d->nfree++] = (uint16_t)(VMDQ_DUMMY_GUEST_BUFS - 1 - i);
		struct vmdq_mem_region r = {
			d->guest, (size_t)VMDQ_DUMMY_GUEST_BUFS * VMDQ_DUMMY_GUEST_BUF };
		int rc = vmdq_rxq_share_mem(p->dev, (unsigned)p->queue, p->owner, &r, 1);
		if (rc < 0) {
			snprintf(err, errlen, "dummy: sharing the VM's memory: %s", strerror(-rc));
			return rc;
		}
	}
	return 0;
}

const struct port_ops port_dummy_ops = {
	.kind = "dummy", .uplink_ok = true, .vif_ok = true, .max_queues = 1,
	.open = dm_open, .close = dm_close, .rx = dm_rx, .tx = dm_tx, .fd = dm_fd,
	.done = dm_done, .service = dm_service, .idle = dm_idle,
	.targeted = dm_targeted, .complete = dm_complete,
};
