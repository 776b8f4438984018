/* SPDX-License-Identifier: MIT */
/*
 * vhost/vu.c - vhost-user messages, guest memory, and the ring calls of
 * vu.h.  See vu.h for the trust model.
 *
 * Every request the back-end knows is declared once, in requests[] below:
 * its name, its handler, the payload size it must have, the fds it takes,
 * whether the host must quiesce the rings first and whether it answers.
 * vu_handle checks a message against its row and calls the handler; a
 * handler sees only messages its row let through.  The rings themselves
 * are walked in vu_split.c and vu_packed.c (vu_ring.h): the ring calls
 * here check what both layouts share and pick the guest's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vu_ring.h"

static const char *const err_names[VU_E__COUNT] = {
#define NAME_(e, name, what) [VU_E_##e] = name,
	VU_ERR_LIST(NAME_)
#undef NAME_
};

const char *vu_err_name(enum vu_err e)
{
	return (unsigned)e < VU_E__COUNT ? err_names[e] : "?";
}

uint64_t vu_offered_features(void)
{
	return 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MRG_RXBUF |
	       1ull << VIRTIO_RING_F_INDIRECT_DESC | 1ull << VIRTIO_RING_F_EVENT_IDX |
	       1ull << VIRTIO_NET_F_MQ | 1ull << VIRTIO_F_ANY_LAYOUT |
	       1ull << VU_F_RING_PACKED | 1ull << VU_F_PROTOCOL_FEATURES |
	       1ull << VU_F_LOG_ALL;
}

uint64_t vu_offload_features(void)
{
	return 1ull << VU_NET_F_CSUM | 1ull << VU_NET_F_GUEST_CSUM |
	       1ull << VU_NET_F_GUEST_TSO4 | 1ull << VU_NET_F_GUEST_TSO6 |
	       1ull << VU_NET_F_GUEST_ECN | 1ull << VU_NET_F_HOST_TSO4 |
	       1ull << VU_NET_F_HOST_TSO6 | 1ull << VU_NET_F_HOST_ECN |
	       1ull << VU_NET_F_HOST_USO | 1ull << VU_NET_F_GUEST_USO4 |
	       1ull << VU_NET_F_GUEST_USO6;
}

uint64_t vu_offered_protocol_features(void)
{
	return 1ull << VU_PF_MQ | 1ull << VU_PF_RARP | 1ull << VU_PF_REPLY_ACK |
	       1ull << VU_PF_RESET_DEVICE | 1ull << VU_PF_STATUS | 1ull << VU_PF_LOG_SHMFD;
}

void vu_break(struct vu_dev *d, enum vu_err why)
{
	d->errors[why]++;
	if (!d->broken) {
		d->broken = true;
		d->broken_why = why;
	}
}

/* ---- guest memory ---------------------------------------------------- */

uint8_t *vu_gpa(const struct vu_mem *m, uint64_t gpa, uint64_t len, enum vu_err *err)
{
	if (gpa + len < gpa) {
		*err = VU_E_WRAP;
		return NULL;
	}
	uint64_t room;
	uint8_t *p = vu_gpa_piece(m, gpa, &room);
	if (!p || len > room) {
		*err = VU_E_ADDR;
		return NULL;
	}
	return p;
}

uint8_t *vu_uva(const struct vu_mem *m, uint64_t uva, uint64_t len)
{
	if (uva + len < uva)
		return NULL;
	for (unsigned i = 0; i < m->n; i++) {
		const struct vu_region *r = &m->r[i];
		if (uva >= r->uva && uva - r->uva < r->size && len <= r->size - (uva - r->uva))
			return r->host + (uva - r->uva);
	}
	return NULL;
}

/* The guest-physical address of uva (inside one region), or false. */
static bool uva_gpa(const struct vu_mem *m, uint64_t uva, uint64_t *gpa)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct vu_region *r = &m->r[i];
		if (uva >= r->uva && uva - r->uva < r->size) {
			*gpa = r->gpa + (uva - r->uva);
			return true;
		}
	}
	return false;
}

void vu_log_host(struct vu_dev *d, const void *p, uint64_t len)
{
	/* regions are mapped apart: a host address is in one at most */
	uintptr_t a = (uintptr_t)p;
	for (unsigned i = 0; i < d->mem.n; i++) {
		const struct vu_region *r = &d->mem.r[i];
		uintptr_t h = (uintptr_t)r->host;
		if (a >= h && a - h < r->size) {
			uint64_t off = a - h;
			vu_log_mark(&d->log, r->gpa + off, len < r->size - off ? len : r->size - off);
			return;
		}
	}
}

static void log_unmap(struct vu_dev *d)
{
	if (d->log.map && d->ops.unmap)
		d->ops.unmap(d->ops.arg, d->log.map, d->log.map_len);
	d->log.map = NULL;
	d->log.map_len = 0;
	d->log.base = NULL;
	d->log.size = 0;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		d->vq[i].log = NULL;
}

static void mem_unmap(struct vu_dev *d)
{
	for (unsigned i = 0; i < d->mem.n; i++)
		if (d->mem.r[i].map && d->ops.unmap)
			d->ops.unmap(d->ops.arg, d->mem.r[i].map, d->mem.r[i].map_len);
	memset(&d->mem, 0, sizeof(d->mem));
}

/* ---- device state ------------------------------------------------------ */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void vring_clear(struct vu_vring *v)
{
	close_fd(&v->kick_fd);
	close_fd(&v->call_fd);
	close_fd(&v->err_fd);
	free(v->inflight);
	free(v->ndesc);
	memset(v, 0, sizeof(*v));
	v->kick_fd = v->call_fd = v->err_fd = -1;
}

void vu_dev_init(struct vu_dev *d, const struct vu_host_ops *ops)
{
	memset(d, 0, sizeof(*d));
	if (ops)
		d->ops = *ops;
	d->hdr_len = 10;
	d->max_qp = 1;
	d->offer = vu_offered_features();
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		d->vq[i].kick_fd = d->vq[i].call_fd = d->vq[i].err_fd = -1;
}

void vu_dev_reset(struct vu_dev *d)
{
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		vring_clear(&d->vq[i]);
	log_unmap(d);
	mem_unmap(d);
	d->features = d->protocol_features = 0;
	d->features_set = d->owner = false;
	d->status = 0;
	d->hdr_len = 10;
	d->broken = false;
	d->rarp_due = false;
	d->resets++;
}

/* A ring's writes are logged while logging is on and its VHOST_VRING_F_LOG
 * is set (its log address checked by vring_map). */
static void vring_log(struct vu_dev *d, struct vu_vring *v)
{
	v->log = v->log_flag && v->used ? vu_log_on(d) : NULL;
}

static void log_rings(struct vu_dev *d)
{
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		vring_log(d, &d->vq[i]);
}

/* Rings keep their guest addresses (uva); their host addresses follow the
 * memory table.  False if a ring is not wholly inside guest memory. */
static bool vring_map(struct vu_dev *d, struct vu_vring *v)
{
	v->desc = NULL;
	v->avail = NULL;
	v->used = NULL;
	v->log = NULL;
	v->packed = d->features & (1ull << VU_F_RING_PACKED);
	if (!v->addr_set || !v->num)
		return true; /* not yet: mapped when both are known */
	uint64_t n = v->num;
	/* packed: the driver and device areas are an event suppression
	 * structure each (4 bytes); split: avail and used rings with their
	 * event fields */
	uint8_t *desc = vu_uva(&d->mem, v->desc_uva, 16 * n);
	uint8_t *avail = vu_uva(&d->mem, v->avail_uva, v->packed ? 4 : 6 + 2 * n);
	uint8_t *used = vu_uva(&d->mem, v->used_uva, v->packed ? 4 : 6 + 8 * n);
	if (!desc || !avail || !used)
		return false;
	if (((uintptr_t)desc & 15) || ((uintptr_t)avail & (v->packed ? 3 : 1)) ||
	    ((uintptr_t)used & 3))
		return false;
	v->desc = (struct vring_desc *)(void *)desc;
	v->avail = (struct vring_avail *)(void *)avail;
	v->used = (struct vring_used *)(void *)used;
	v->desc_gpa = 0;
	uva_gpa(&d->mem, v->desc_uva, &v->desc_gpa); /* translated just above */
	if (v->log_flag) {
		/* the used area's log address must be where it is: the pages
		 * we mark are those we write */
		enum vu_err e;
		if (vu_gpa(&d->mem, v->log_addr, v->packed ? 4 : 6 + 8 * n, &e) != used) {
			vu_break(d, VU_E_LOG);
			v->log_flag = false;
		}
	}
	vring_log(d, v);
	return true;
}

static bool any_started(const struct vu_dev *d)
{
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (d->vq[i].started)
			return true;
	return false;
}

/* A notification fd (kick, call, err) must be an eventfd: anything else
 * (the write end of a pipe nobody reads, a socket, a file) could block or
 * misbehave.  It is made non-blocking: the front-end may fill its counter
 * (an eventfd write blocks at 2^64 - 2), and no worker may wait on it. */
static bool eventfd_ok(int fd)
{
	char path[40], link[32];
	if (fd < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = 0;
	if (strcmp(link, "anon_inode:[eventfd]") != 0)
		return false;
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && ((fl & O_NONBLOCK) || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

/* A memory region's file: a regular file in memory (tmpfs, memfd,
 * hugetlbfs: what QEMU's memory backends and DPDK use), at least map_len
 * long (a mapping past its end faults, SIGBUS).  A file on a disk, NFS or
 * FUSE is refused: a fault in its mapping would wait for I/O, or for
 * whoever serves the filesystem, inside the worker (or the sorter). */
static bool region_file_ok(int fd, uint64_t map_len)
{
	struct stat st;
	struct statfs fs;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    map_len > (uint64_t)st.st_size || fstatfs(fd, &fs) != 0)
		return false;
	return fs.f_type == TMPFS_MAGIC || fs.f_type == HUGETLBFS_MAGIC;
}


/* ---- messages: one handler per request ------------------------------------
 * Each is called only for a message its row in requests[] let through
 * (payload size, fd count); true if it applied the message, false if it
 * refused it (nothing applied: the device breaks).  A handler whose row
 * says it answers fills r when it returns true.  The fds a handler keeps it
 * takes out of m (m->nfds = 0); vu_handle closes the rest. */

static void close_msg_fds(struct vu_msg *m, unsigned from)
{
	for (unsigned i = from; i < m->nfds && i < VU_MAX_FDS; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = from < m->nfds ? from : m->nfds;
}

static int reply_u64(const struct vu_msg *m, struct vu_msg *r, uint64_t v)
{
	r->request = m->request;
	r->flags = VU_VERSION | VU_FLAG_REPLY;
	r->size = 8;
	r->u.u64 = v;
	r->nfds = 0;
	return 1;
}

static bool ring_index_ok(const struct vu_dev *d, uint32_t i)
{
	return i < 2 * d->max_qp && i < VU_MAX_VRINGS;
}

static bool get_features(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	reply_u64(m, r, d->offer);
	return true;
}

static bool set_features(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	if (m->u.u64 & ~d->offer)
		return false;
	/* QEMU sends SET_FEATURES again on running rings (logging for
	 * migration): fine while the layout stays.  A switch between split
	 * and packed under a started ring would leave its positions meaning
	 * nothing in the new layout: refused. */
	if (((m->u.u64 ^ d->features) & (1ull << VU_F_RING_PACKED)) && any_started(d))
		return false;
	d->features = m->u.u64; /* VU_F_LOG_ALL: logging on or off (vring_map) */
	d->features_set = true;
	d->hdr_len = (d->features & (1ull << VIRTIO_F_VERSION_1 |
				     1ull << VIRTIO_NET_F_MRG_RXBUF)) ? 12 : 10;
	/* split or packed decides the rings' layout */
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (!vring_map(d, &d->vq[i]))
			vu_break(d, VU_E_ADDR);
	return true;
}

static bool get_protocol_features(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)d;
	reply_u64(m, r, vu_offered_protocol_features());
	return true;
}

static bool set_protocol_features(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	if (m->u.u64 & ~vu_offered_protocol_features())
		return false;
	d->protocol_features = m->u.u64;
	return true;
}

static bool get_queue_num(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	reply_u64(m, r, d->max_qp);
	return true;
}

static bool set_owner(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)m;
	(void)r;
	d->owner = true;
	return true;
}

static bool reset_owner(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)m;
	(void)r;
	vu_dev_reset(d);
	return true;
}

static bool reset_device(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)m;
	(void)r;
	/* the connection stays: so do the features */
	uint64_t pf = d->protocol_features, f = d->features;
	bool feat = d->features_set;
	vu_dev_reset(d);
	d->protocol_features = pf;
	d->features = f;
	d->features_set = feat;
	return true;
}

static bool set_mem_table(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	/* every region checked before anything is mapped: sizes, its file,
	 * and the address space the whole table takes */
	uint64_t total = 0;
	for (unsigned i = 0; i < m->u.mem.nregions; i++) {
		uint64_t gpa = m->u.mem.r[i].gpa, size = m->u.mem.r[i].size;
		uint64_t uva = m->u.mem.r[i].uva, off = m->u.mem.r[i].mmap_off;
		if (!size || gpa + size < gpa || uva + size < uva || off + size < off ||
		    off + size > VU_MAX_MAPPED || !region_file_ok(m->fds[i], off + size))
			return false;
		total += off + size; /* at most 8 * 2^40: no overflow */
		if (total > VU_MAX_MAPPED)
			return false;
	}
	struct vu_mem nm = { 0 };
	for (unsigned i = 0; i < m->u.mem.nregions; i++) {
		uint64_t gpa = m->u.mem.r[i].gpa, size = m->u.mem.r[i].size;
		uint64_t uva = m->u.mem.r[i].uva, off = m->u.mem.r[i].mmap_off;
		void *map = d->ops.map ? d->ops.map(d->ops.arg, m->fds[i], off + size) : NULL;
		if (!map)
			goto bad;
		nm.r[i] = (struct vu_region){ .gpa = gpa, .size = size, .uva = uva,
					      .mmap_off = off, .map = map, .map_len = off + size,
					      .host = (uint8_t *)map + off };
		nm.n = i + 1;
	}
	/* no two regions may overlap in guest-physical space */
	for (unsigned i = 0; i < nm.n; i++)
		for (unsigned j = i + 1; j < nm.n; j++)
			if (nm.r[i].gpa < nm.r[j].gpa + nm.r[j].size &&
			    nm.r[j].gpa < nm.r[i].gpa + nm.r[i].size)
				goto bad;
	close_msg_fds(m, 0);
	mem_unmap(d);
	d->mem = nm;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (!vring_map(d, &d->vq[i]))
			vu_break(d, VU_E_ADDR);
	return true;
bad:
	for (unsigned i = 0; i < nm.n; i++)
		if (d->ops.unmap)
			d->ops.unmap(d->ops.arg, nm.r[i].map, nm.r[i].map_len);
	return false;
}

/* The dirty log (LOG_SHMFD: its fd with the message, size and offset in
 * the payload).  Refused, counted as bad-log: no fd, an empty log, offset +
 * size past VU_LOG_MAX_MAP (or wrapping), a log too small for the guest
 * memory's highest address, an fd that is not shared memory (region_file_ok:
 * a pipe, a socket, a file on a disk) or shorter than offset + size.  It
 * replaces the log before (the worker is the only one that marks: nothing
 * else holds it). */
static bool set_log_base(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	uint64_t size = m->u.log.size, off = m->u.log.offset, end = 0;
	int fd = m->fds[0];
	for (unsigned i = 0; i < d->mem.n; i++)
		if (d->mem.r[i].gpa + d->mem.r[i].size > end)
			end = d->mem.r[i].gpa + d->mem.r[i].size;
	void *map = NULL;
	if ((d->protocol_features & (1ull << VU_PF_LOG_SHMFD)) && size && off + size >= off &&
	    off + size <= VU_LOG_MAX_MAP && size >= vu_log_bytes_for(end) &&
	    region_file_ok(fd, off + size) && d->ops.map)
		map = d->ops.map(d->ops.arg, fd, off + size);
	if (!map) {
		vu_break(d, VU_E_LOG);
		return false;
	}
	log_unmap(d);
	d->log.map = map;
	d->log.map_len = off + size;
	d->log.base = (uint8_t *)map + off;
	d->log.size = size;
	log_rings(d);
	return true;
}

/* An eventfd the back-end could signal log changes through: vmdq never
 * does (QEMU does not ask it of a vhost-user back-end), so it is checked
 * and closed. */
static bool set_log_fd(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	if (!eventfd_ok(m->fds[0])) {
		vu_break(d, VU_E_LOG);
		return false;
	}
	return true; /* vu_handle closes it */
}

static bool set_vring_num(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	uint32_t i = m->u.state.index, n = m->u.state.num;
	/* a split ring's size is a power of two; a packed one's need not be */
	bool packed = d->features & (1ull << VU_F_RING_PACKED);
	if (!ring_index_ok(d, i) || !n || n > VU_MAX_RING || (!packed && (n & (n - 1))))
		return false;
	struct vu_vring *v = &d->vq[i];
	if (v->started)
		return false; /* its positions are for the size it has */
	uint8_t *inf = calloc(n, 1);
	uint16_t *nd = calloc(n, sizeof(*nd));
	if (!inf || !nd) {
		free(inf);
		free(nd);
		return false;
	}
	free(v->inflight);
	free(v->ndesc);
	v->inflight = inf;
	v->ndesc = nd;
	v->num = n;
	if (!vring_map(d, v))
		vu_break(d, VU_E_ADDR);
	return true;
}

static bool set_vring_addr(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	uint32_t i = m->u.addr.index;
	if (!ring_index_ok(d, i))
		return false;
	struct vu_vring *v = &d->vq[i];
	v->desc_uva = m->u.addr.desc;
	v->used_uva = m->u.addr.used;
	v->avail_uva = m->u.addr.avail;
	v->log_flag = m->u.addr.flags & (1u << VU_VRING_F_LOG);
	v->log_addr = m->u.addr.log;
	v->addr_set = true;
	if (!vring_map(d, v)) {
		v->addr_set = false;
		d->errors[VU_E_ADDR]++;
		return false;
	}
	return true;
}

static bool set_vring_base(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	uint32_t i = m->u.state.index;
	if (!ring_index_ok(d, i) || d->vq[i].started)
		return false; /* a running ring's positions are ours */
	if (d->features & (1ull << VU_F_RING_PACKED)) {
		/* bits 0-14 the avail index, 15 its wrap counter; 16-30 the used
		 * index, 31 its wrap counter (vhost-user.rst; QEMU sends both
		 * halves, DPDK's virtio-user the avail half alone: a used half
		 * of 0 is taken as absent).  Both are checked when the ring
		 * starts (set_vring_kick) */
		d->vq[i].pk_base = (uint16_t)m->u.state.num;
		d->vq[i].pk_base_set = true;
		d->vq[i].pk_used_base = (uint16_t)(m->u.state.num >> 16);
		d->vq[i].pk_used_set = d->vq[i].pk_used_base != 0;
		return true;
	}
	if (m->u.state.num > 0xffff)
		return false;
	d->vq[i].last_avail = (uint16_t)m->u.state.num;
	return true;
}

static bool get_vring_base(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	uint32_t i = m->u.state.index;
	if (!ring_index_ok(d, i))
		return false;
	struct vu_vring *v = &d->vq[i];
	/* the ring stops; the guest sets it up afresh to start it */
	v->started = false;
	close_fd(&v->kick_fd);
	r->request = m->request;
	r->flags = VU_VERSION | VU_FLAG_REPLY;
	r->size = 8;
	r->u.state.index = i;
	r->u.state.num = v->last_avail;
	if (v->packed && v->num) {
		/* avail index and wrap counter; the used ones in the high half
		 * (everything in flight was finished by quiesce) */
		uint16_t a = vu_pk_index(v, v->last_avail), u = vu_pk_index(v, v->used_idx);
		r->u.state.num = (uint32_t)a | (uint32_t)u << 16;
		v->pk_base = a;
		v->pk_base_set = true;
		v->pk_used_base = u;
		v->pk_used_set = true;
	}
	r->nfds = 0;
	return true;
}

/* The ring a KICK, CALL or ERR message names (bits 0-7), checked with its
 * fd: an eventfd unless bit 8 says there is none (fd -1).  NULL if refused;
 * the fd is then closed by vu_handle, else it is the caller's. */
static struct vu_vring *vring_fd(struct vu_dev *d, struct vu_msg *m, int *fd)
{
	uint32_t i = (uint32_t)(m->u.u64 & 0xff);
	bool nofd = m->u.u64 & 0x100;
	if (!ring_index_ok(d, i) || (m->u.u64 & ~0x1ffull))
		return NULL;
	*fd = nofd ? -1 : m->fds[0];
	if (!nofd && !eventfd_ok(*fd))
		return NULL;
	m->nfds = 0; /* kept */
	return &d->vq[i];
}

static bool set_vring_call(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	int fd;
	struct vu_vring *v = vring_fd(d, m, &fd);
	if (!v)
		return false;
	close_fd(&v->call_fd);
	v->call_fd = fd;
	v->signalled_valid = false;
	return true;
}

static bool set_vring_err(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	int fd;
	struct vu_vring *v = vring_fd(d, m, &fd);
	if (!v)
		return false;
	close_fd(&v->err_fd);
	v->err_fd = fd;
	return true;
}

/* A ring starts where the positions handed over disagree (mismatch), or
 * with a packed used position that cannot be (refused). */
static void base_disagrees(struct vu_dev *d, const struct vu_vring *v, bool refused,
			   uint32_t avail, uint32_t used)
{
	if (refused)
		d->base_refused++;
	else
		d->base_mismatch++;
	d->base_last.ring = (uint32_t)(v - d->vq);
	d->base_last.avail = avail;
	d->base_last.used = used;
	d->base_last.refused = refused;
}

/* A packed ring starts at last_avail (set): its used position is the used
 * half of SET/GET_VRING_BASE when that is a position at most a ring behind
 * the avail one (the driver has handed the chains between the two to a
 * back-end and not had them back: they stay lost to it, our used
 * descriptors go where it looks for the next one).  Anything else cannot
 * be: refused, the used position follows the avail one (never used to
 * index the ring). */
static void packed_used_start(struct vu_dev *d, struct vu_vring *v)
{
	uint16_t u = v->pk_used_base;
	uint32_t slot = u & 0x7fffu;
	uint32_t pos = slot + ((u & 0x8000) ? 0 : v->num);
	if (slot >= v->num || vu_pk_sub(v, v->last_avail, pos) > v->num) {
		base_disagrees(d, v, true, vu_pk_index(v, v->last_avail), u);
		return;
	}
	if (pos != v->last_avail)
		base_disagrees(d, v, false, vu_pk_index(v, v->last_avail), u);
	v->used_idx = (uint16_t)pos;
}

/* A kick fd starts the ring (or replaces a running ring's fd). */
static bool set_vring_kick(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	int fd;
	struct vu_vring *v = vring_fd(d, m, &fd);
	if (!v)
		return false;
	close_fd(&v->kick_fd);
	v->kick_fd = fd;
	bool was = v->started;
	/* the ring starts: it was set up afresh, so a device broken before is
	 * given another chance */
	if (!v->started) {
		bool fresh = true;
		for (unsigned k = 0; k < VU_MAX_VRINGS; k++)
			fresh &= &d->vq[k] == v || !d->vq[k].started;
		if (fresh)
			d->broken = false;
	}
	v->started = true;
	if (v->packed && v->num && was) {
		/* a new kick fd for a running ring: positions stay */
	} else if (v->packed && v->num) {
		/* a fresh packed ring starts at slot 0, wrap counter 1 */
		uint16_t b = v->pk_base_set ? v->pk_base : 0x8000;
		uint32_t slot = b & 0x7fff;
		if (slot >= v->num) {
			vu_break(d, VU_E_INDEX);
			slot = 0;
		}
		v->last_avail = (uint16_t)(slot + ((b & 0x8000) ? 0 : v->num));
		v->used_idx = v->last_avail;
		if (v->pk_used_set)
			packed_used_start(d, v);
	} else if (v->used) {
		v->used_idx = ((volatile struct vring_used *)v->used)->idx;
		if (!was && v->used_idx != v->last_avail)
			base_disagrees(d, v, false, v->last_avail, v->used_idx);
	}
	v->signalled = v->used_idx;
	v->signalled_valid = false;
	/* whatever happened to the ring while stopped (a new size or layout),
	 * its positions must fit it; a split ring's size is a power of two
	 * (indices are taken modulo it) */
	if (v->num && (v->packed ? !vu_pk_pos_ok(v) : (v->num & (v->num - 1))))
		vu_break(d, VU_E_INDEX);
	if (v->inflight)
		memset(v->inflight, 0, v->num);
	if (!(d->features & (1ull << VU_F_PROTOCOL_FEATURES)))
		v->enabled = true;
	return true;
}

static bool set_vring_enable(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	uint32_t i = m->u.state.index;
	if (!ring_index_ok(d, i) || m->u.state.num > 1)
		return false;
	d->vq[i].enabled = m->u.state.num;
	return true;
}

/* SEND_RARP: the MAC is the payload's first 6 bytes.  The host announces
 * it as a frame of the guest's: the switch's anti-spoofing drops an
 * announcement for a MAC that is not the vif's. */
static bool send_rarp(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	memcpy(d->rarp_mac, m->u.raw, 6);
	d->rarp_due = true;
	d->rarps++;
	return true;
}

static bool set_status(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	(void)r;
	if (m->u.u64 > 0xff)
		return false;
	if (m->u.u64 == 0 && d->broken) {
		/* the driver resets a device that needs it: forget the rings */
		uint64_t pf = d->protocol_features;
		vu_dev_reset(d);
		d->protocol_features = pf;
	} else if (m->u.u64 == 0) {
		/* The front-end stops the device.  QEMU 7.2 sends this before
		 * the GET_VRING_BASE of each ring (migration, vhost stop) and
		 * takes the rings' positions from those answers: stop the rings
		 * (quiesce finished what was in flight) but keep their positions,
		 * the memory and the log; setting a ring up again restarts it. */
		for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
			d->vq[i].started = false;
			close_fd(&d->vq[i].kick_fd);
		}
	}
	d->status = (uint8_t)m->u.u64;
	return true;
}

static bool get_status(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	/* DEVICE_NEEDS_RESET (0x40) while broken */
	reply_u64(m, r, d->status | (d->broken ? 0x40u : 0u));
	return true;
}

/* ---- messages: the request table ------------------------------------------ */

/* How a request's payload size is checked (a message that fails is
 * malformed: the device breaks, whether or not we serve the request). */
enum payload {
	ANY,     /* none expected; whatever comes is ignored */
	EXACT,   /* exactly .size bytes */
	REGIONS, /* a memory table: .size bytes, then 32 a region, VU_MAX_REGIONS at most */
};

/* The fds a request takes; any other fds a message carries are closed. */
enum fds {
	NO_FDS,      /* none (those sent are closed, not refused) */
	REGION_FDS,  /* one a memory region, in order: exactly nregions */
	RING_FD,     /* one, or none if bit 8 of the payload says so */
	ONE_FD,      /* exactly one */
};

/* Whether a request answers. */
enum answer {
	NO_ANSWER = 0,
	ANSWERS = 1,     /* with a payload of its own, when served */
	ANSWERS_SHMFD,   /* SET_LOG_BASE with LOG_SHMFD negotiated: always (the
			  * front-end waits for it), size 0 when served, a
			  * u64 1 when refused */
};

struct vu_request {
	const char *name;
	bool (*handle)(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r);
	uint8_t payload;   /* enum payload */
	uint8_t size;      /* bytes, for EXACT and REGIONS */
	uint8_t fds;       /* enum fds */
	bool quiesce;      /* changes or removes rings or memory: in-flight
			    * buffers are finished first (vu_host_ops.quiesce) */
	uint8_t reply;     /* enum answer */
};

#define U64 sizeof(uint64_t)
#define STATE sizeof(((struct vu_msg *)0)->u.state)
#define ADDR sizeof(((struct vu_msg *)0)->u.addr)
#define LOG sizeof(((struct vu_msg *)0)->u.log)
#define MEM_HDR (offsetof(struct vu_msg, u.mem.r) - offsetof(struct vu_msg, u.mem))
#define REQ(id, fn, pl, sz, fd, q, rep) \
	[VU_##id] = { .name = #id, .handle = fn, .payload = pl, .size = sz, .fds = fd, \
		      .quiesce = q, .reply = rep }

/* Every request we know, declared once.  A request with no handler is one
 * we do not offer (MTU, configuration, ...): refused, with
 * REPLY_ACK's failure if asked, the device unharmed unless its payload has
 * the wrong size.  A request not here at all is refused the same way, its
 * payload not looked at. */
static const struct vu_request requests[] = {
	/*  request               handler                 payload       fds         quiesce reply */
	REQ(GET_FEATURES,         get_features,           ANY, 0,       NO_FDS,     false, true),
	REQ(SET_FEATURES,         set_features,           EXACT, U64,   NO_FDS,     true,  false),
	REQ(SET_OWNER,            set_owner,              ANY, 0,       NO_FDS,     false, false),
	REQ(RESET_OWNER,          reset_owner,            ANY, 0,       NO_FDS,     true,  false),
	REQ(SET_MEM_TABLE,        set_mem_table,          REGIONS, MEM_HDR, REGION_FDS, true, false),
	REQ(SET_LOG_BASE,         set_log_base,           EXACT, LOG,   ONE_FD,     false, ANSWERS_SHMFD),
	REQ(SET_LOG_FD,           set_log_fd,             ANY, 0,       ONE_FD,     false, false),
	REQ(SET_VRING_NUM,        set_vring_num,          EXACT, STATE, NO_FDS,     true,  false),
	REQ(SET_VRING_ADDR,       set_vring_addr,         EXACT, ADDR,  NO_FDS,     true,  false),
	REQ(SET_VRING_BASE,       set_vring_base,         EXACT, STATE, NO_FDS,     true,  false),
	REQ(GET_VRING_BASE,       get_vring_base,         EXACT, STATE, NO_FDS,     true,  true),
	REQ(SET_VRING_KICK,       set_vring_kick,         EXACT, U64,   RING_FD,    false, false),
	REQ(SET_VRING_CALL,       set_vring_call,         EXACT, U64,   RING_FD,    false, false),
	REQ(SET_VRING_ERR,        set_vring_err,          EXACT, U64,   RING_FD,    false, false),
	REQ(GET_PROTOCOL_FEATURES, get_protocol_features, ANY, 0,       NO_FDS,     false, true),
	REQ(SET_PROTOCOL_FEATURES, set_protocol_features, EXACT, U64,   NO_FDS,     false, false),
	REQ(GET_QUEUE_NUM,        get_queue_num,          ANY, 0,       NO_FDS,     false, true),
	REQ(SET_VRING_ENABLE,     set_vring_enable,       EXACT, STATE, NO_FDS,     false, false),
	REQ(SEND_RARP,            send_rarp,              EXACT, U64,   NO_FDS,     false, false),
	REQ(NET_SET_MTU,          NULL,                   EXACT, U64,   NO_FDS,     false, false),
	REQ(RESET_DEVICE,         reset_device,           ANY, 0,       NO_FDS,     true,  false),
	REQ(GET_MAX_MEM_SLOTS,    NULL,                   ANY, 0,       NO_FDS,     false, false),
	REQ(SET_STATUS,           set_status,             EXACT, U64,   NO_FDS,     true,  false),
	REQ(GET_STATUS,           get_status,             ANY, 0,       NO_FDS,     false, true),
};

#define N_REQUESTS (sizeof(requests) / sizeof(requests[0]))

/* r's row, or NULL if we do not know it. */
static const struct vu_request *request(uint32_t r)
{
	return r < N_REQUESTS && requests[r].name ? &requests[r] : NULL;
}

const char *vu_request_name(uint32_t r)
{
	const struct vu_request *e = request(r);
	return e ? e->name : "UNKNOWN";
}

bool vu_request_quiesces(uint32_t r)
{
	const struct vu_request *e = request(r);
	return e && e->quiesce;
}

bool vu_msg_quiesces(const struct vu_dev *d, const struct vu_msg *m)
{
	if (!vu_request_quiesces(m->request))
		return false;
	/* logging on or off (QEMU at a migration's start and end, and when it
	 * fails): SET_FEATURES that changes LOG_ALL alone, SET_VRING_ADDR that
	 * changes a ring's log flag or address alone.  The rings and memory
	 * stay as they are: in-flight buffers go on (a targeted one is marked
	 * when it completes), none goes back to the guest empty. */
	if (m->request == VU_SET_FEATURES && m->size == U64 && d->features_set &&
	    !((m->u.u64 ^ d->features) & ~(1ull << VU_F_LOG_ALL)))
		return false;
	/* a non-zero status (the driver's progress: ACKNOWLEDGE ... DRIVER_OK,
	 * at every boot and on a migration's destination) changes no ring
	 * either: the buffers posted since the rings started stay posted, none
	 * goes back to the guest empty.  Status 0 stops the rings: it does. */
	if (m->request == VU_SET_STATUS && m->size == U64 && m->u.u64 && m->u.u64 <= 0xff)
		return false;
	if (m->request == VU_SET_VRING_ADDR && m->size == ADDR &&
	    ring_index_ok(d, m->u.addr.index)) {
		const struct vu_vring *v = &d->vq[m->u.addr.index];
		if (v->addr_set && v->desc_uva == m->u.addr.desc &&
		    v->used_uva == m->u.addr.used && v->avail_uva == m->u.addr.avail)
			return false;
	}
	return true;
}

static bool payload_ok(const struct vu_request *e, const struct vu_msg *m)
{
	if (!e)
		return true;
	switch ((enum payload)e->payload) {
	case EXACT:
		return m->size == e->size;
	case REGIONS:
		return m->size >= e->size && m->u.mem.nregions <= VU_MAX_REGIONS &&
		       m->size == e->size + sizeof(m->u.mem.r[0]) * m->u.mem.nregions;
	case ANY:
		break;
	}
	return true;
}

static bool fds_ok(const struct vu_request *e, const struct vu_msg *m)
{
	switch ((enum fds)e->fds) {
	case REGION_FDS:
		return m->nfds == m->u.mem.nregions;
	case RING_FD:
		return m->nfds == ((m->u.u64 & 0x100) ? 0u : 1u);
	case ONE_FD:
		return m->nfds == 1;
	case NO_FDS:
		break;
	}
	return true;
}

int vu_handle(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	const struct vu_request *e = request(m->request);
	d->messages++;
	bool malformed = (m->flags & VU_FLAG_VERSION_MASK) != VU_VERSION ||
			 m->size > VU_MAX_PAYLOAD || m->nfds > VU_MAX_FDS || !payload_ok(e, m);
	bool ok = false;
	if (malformed) {
		vu_break(d, VU_E_MSG);
	} else if (e && e->handle) {
		if (vu_msg_quiesces(d, m) && d->ops.quiesce)
			d->ops.quiesce(d->ops.arg);
		uint64_t bad_log = d->errors[VU_E_LOG];
		ok = fds_ok(e, m) && e->handle(d, m, r);
		/* a request we serve, refused (a log refused is bad-log alone) */
		if (!ok && d->errors[VU_E_LOG] == bad_log)
			vu_break(d, VU_E_MSG);
	}
	close_msg_fds(m, 0);
	if (m->size > VU_MAX_PAYLOAD)
		return -1; /* the stream is out of step: hang up */
	if (e && e->reply == ANSWERS_SHMFD &&
	    (d->protocol_features & (1ull << VU_PF_LOG_SHMFD))) {
		/* QEMU waits for this answer whatever became of the message:
		 * without it the front-end hangs.  No payload when served (what
		 * QEMU expects), a failure as REPLY_ACK says it when refused */
		reply_u64(m, r, 1);
		if (ok)
			r->size = 0;
		return 1;
	}
	if (ok && e->reply == ANSWERS)
		return 1;
	if ((m->flags & VU_FLAG_NEED_REPLY) &&
	    (d->protocol_features & (1ull << VU_PF_REPLY_ACK)))
		return reply_u64(m, r, ok ? 0 : 1);
	return 0;
}

/* ---- chains: what both layouts share ---------------------------------- */

const uint8_t *vu_indirect_table(struct vu_dev *d, const struct vu_vring *v, uint64_t addr,
				 uint32_t len)
{
	if (!(d->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC)) || !len || len % 16 ||
	    (addr & 15)) {
		vu_break(d, VU_E_INDIRECT);
		return NULL;
	}
	/* more entries than a chain may have (VU_MAX_SEGS), or than the ring
	 * (a chain is no longer than the queue size, virtio 2.7.5.3.1) */
	if (len / 16 > VU_MAX_SEGS) {
		vu_break(d, VU_E_LONG);
		return NULL;
	}
	if (len / 16 > v->num) {
		vu_break(d, VU_E_INDIRECT);
		return NULL;
	}
	enum vu_err e = VU_E_INDIRECT;
	uint8_t *t = vu_gpa(&d->mem, addr, len, &e);
	if (!t)
		vu_break(d, e);
	return t;
}

/* ---- the ring calls: split or packed ------------------------------------
 * A packed ring's positions are checked here, before either layout uses
 * them to index the ring (vu_pk_pos_ok); a ring not mapped takes no used
 * entries. */

unsigned vu_avail_count(struct vu_dev *d, struct vu_vring *v)
{
	if (!v->packed)
		return vu_split_avail_count(d, v);
	if (!vu_pk_pos_ok(v)) {
		vu_break(d, VU_E_INDEX);
		return 0;
	}
	return vu_packed_avail_count(d, v);
}

int vu_pop(struct vu_dev *d, struct vu_vring *v, bool write, struct vu_chain *c)
{
	if (!v->packed)
		return vu_split_pop(d, v, write, c);
	c->head = 0;
	c->nseg = 0;
	c->ndesc = 0;
	c->total = 0;
	if (!vu_pk_pos_ok(v))
		return vu_fail(d, VU_E_INDEX);
	return vu_packed_pop(d, v, write, c);
}

void vu_unpop(struct vu_vring *v, const uint16_t *heads, unsigned n)
{
	if (v->packed)
		vu_packed_unpop(v, heads, n);
	else
		vu_split_unpop(v, heads, n);
}

/* Logging (v->log): the used entries just written, n of them from used
 * position at.  Split: entries of the used ring at log_addr (a run that
 * wraps marks two ranges); packed: the used descriptor at at's slot. */
static void log_used(struct vu_vring *v, uint16_t at, unsigned n)
{
	if (v->packed) {
		if (at < 2 * v->num)
			vu_log_mark(v->log, v->desc_gpa + 16 * (uint64_t)vu_pk_slot(v, at), 16);
		return;
	}
	uint64_t ring = v->log_addr + offsetof(struct vring_used, ring);
	if (n >= v->num) {
		vu_log_mark(v->log, ring, 8 * (uint64_t)v->num);
		return;
	}
	unsigned slot = at & (v->num - 1), k = n < v->num - slot ? n : v->num - slot;
	vu_log_mark(v->log, ring + 8 * (uint64_t)slot, 8 * (uint64_t)k);
	if (n > k)
		vu_log_mark(v->log, ring, 8 * (uint64_t)(n - k));
}

void vu_used_put(struct vu_vring *v, uint16_t head, uint32_t len)
{
	if (!v->desc)
		return; /* not mapped: nothing to write to */
	uint16_t at = v->used_idx;
	if (v->packed)
		vu_packed_used_put(v, head, len);
	else
		vu_split_used_put(v, head, len);
	if (v->log)
		log_used(v, at, 1);
}

void vu_used_put_many(struct vu_vring *v, const struct vring_used_elem *e, unsigned n)
{
	if (!v->desc)
		return;
	if (v->packed) {
		for (unsigned i = 0; i < n; i++) {
			uint16_t at = v->used_idx;
			vu_packed_used_put(v, (uint16_t)e[i].id, e[i].len);
			if (v->log)
				log_used(v, at, 1);
		}
		return;
	}
	uint16_t at = v->used_idx;
	vu_split_used_put_many(v, e, n);
	if (v->log && n)
		log_used(v, at, n);
}

void vu_used_publish(struct vu_vring *v)
{
	if (!v->desc)
		return;
	/* the entries before the index */
	atomic_thread_fence(memory_order_release);
	if (!v->packed) { /* packed: each used descriptor's flags published it */
		vu_split_publish(v);
		if (v->log)
			vu_log_mark(v->log, v->log_addr + offsetof(struct vring_used, idx), 2);
	}
}

bool vu_call(struct vu_dev *d, struct vu_vring *v)
{
	if (!v->need_call)
		return false;
	v->need_call = false;
	/* our index is visible before we read what the guest wants */
	atomic_thread_fence(memory_order_seq_cst);
	bool want;
	if (v->packed) {
		if (!vu_pk_pos_ok(v)) {
			vu_break(d, VU_E_INDEX);
			return false;
		}
		want = vu_packed_want_call(d, v);
	} else {
		want = vu_split_want_call(d, v);
	}
	v->signalled = v->used_idx;
	v->signalled_valid = true;
	if (!want || v->call_fd < 0)
		return false;
	/* non-blocking (eventfd_ok): a counter the guest filled loses the
	 * call rather than stopping the worker */
	uint64_t one = 1;
	if (write(v->call_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		return true;
	d->calls_lost++;
	return false;
}

void vu_notify_enable(struct vu_dev *d, struct vu_vring *v, bool enable)
{
	if (v->packed) {
		if (!vu_pk_pos_ok(v)) {
			vu_break(d, VU_E_INDEX);
			return;
		}
		vu_packed_notify(d, v, enable);
		if (v->log) /* the device area */
			vu_log_mark(v->log, v->log_addr, 4);
	} else {
		vu_split_notify(d, v, enable);
		if (v->log) { /* flags, and avail_event after the ring */
			vu_log_mark(v->log, v->log_addr, 2);
			vu_log_mark(v->log, v->log_addr + 4 + 8 * (uint64_t)v->num, 2);
		}
	}
	atomic_thread_fence(memory_order_seq_cst);
}
