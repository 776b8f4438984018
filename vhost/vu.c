/* SPDX-License-Identifier: MIT */
/*
 * vhost/vu.c - vhost-user messages, guest memory, split and packed virtqueues.
 * See vu.h for the trust model.
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

#include "vu.h"

static const char *const err_names[VU_E__COUNT] = {
	[VU_E_ADDR] = "bad-address", [VU_E_WRAP] = "wrap", [VU_E_LOOP] = "loop",
	[VU_E_LONG] = "chain-too-long", [VU_E_RO] = "write-to-read-only",
	[VU_E_WO] = "read-from-write-only", [VU_E_LEN] = "bad-length",
	[VU_E_INDEX] = "bad-index", [VU_E_INDIRECT] = "bad-indirect",
	[VU_E_AVAIL] = "bad-avail-idx", [VU_E_REUSED] = "head-reused",
	[VU_E_MSG] = "bad-message",
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
	       1ull << VU_F_RING_PACKED | 1ull << VU_F_PROTOCOL_FEATURES;
}

uint64_t vu_offered_protocol_features(void)
{
	return 1ull << VU_PF_MQ | 1ull << VU_PF_REPLY_ACK | 1ull << VU_PF_RESET_DEVICE |
	       1ull << VU_PF_STATUS;
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

/* The host address of gpa and how many bytes follow it in its region. */
static uint8_t *gpa_piece(const struct vu_mem *m, uint64_t gpa, uint64_t *room)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct vu_region *r = &m->r[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*room = r->size - (gpa - r->gpa);
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

uint8_t *vu_gpa(const struct vu_mem *m, uint64_t gpa, uint64_t len, enum vu_err *err)
{
	if (gpa + len < gpa) {
		*err = VU_E_WRAP;
		return NULL;
	}
	uint64_t room;
	uint8_t *p = gpa_piece(m, gpa, &room);
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

static void mem_unmap(struct vu_dev *d)
{
	for (unsigned i = 0; i < d->mem.n; i++)
		if (d->mem.r[i].map && d->ops.unmap)
			d->ops.unmap(d->ops.arg, d->mem.r[i].map, d->mem.r[i].map_len);
	memset(&d->mem, 0, sizeof(d->mem));
}

/* ---- packed ring positions ------------------------------------------- */

/* last_avail, used_idx and signalled of a packed ring count modulo 2 * num
 * (vu.h): these turn them into slots and wrap counters and move them on. */
static inline uint32_t pk_slot(const struct vu_vring *v, uint32_t c)
{
	return c < v->num ? c : c - v->num;
}

static inline bool pk_wrap(const struct vu_vring *v, uint32_t c)
{
	return c < v->num;
}

static inline uint16_t pk_add(const struct vu_vring *v, uint32_t c, uint32_t k)
{
	c += k;
	return (uint16_t)(c >= 2 * v->num ? c - 2 * v->num : c);
}

static inline uint16_t pk_sub(const struct vu_vring *v, uint32_t c, uint32_t k)
{
	return (uint16_t)(c >= k ? c - k : c + 2 * v->num - k);
}

/* Every position of a packed ring lies below 2 * num: checked wherever
 * they are used to index the ring, so that no state (carried over from
 * another ring size or layout, or set by the front-end) can reach past it. */
static inline bool pk_pos_ok(const struct vu_vring *v)
{
	uint32_t m = 2 * v->num;
	return v->last_avail < m && v->used_idx < m && v->signalled < m;
}

/* A ring index as vhost-user carries it: slot, wrap counter in bit 15. */
static uint16_t pk_index(const struct vu_vring *v, uint32_t c)
{
	return (uint16_t)(pk_slot(v, c) | (pk_wrap(v, c) ? 0x8000u : 0u));
}

/* Made available in the lap whose wrap counter is wrap: AVAIL equal to it,
 * USED not (virtio 2.8.1). */
static inline bool pk_avail(uint16_t flags, bool wrap)
{
	return !!(flags & (1u << VRING_PACKED_DESC_F_AVAIL)) == wrap &&
	       !!(flags & (1u << VRING_PACKED_DESC_F_USED)) != wrap;
}

static inline volatile struct vring_packed_desc *pk_ring(const struct vu_vring *v)
{
	return (volatile struct vring_packed_desc *)(void *)v->desc;
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
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		d->vq[i].kick_fd = d->vq[i].call_fd = d->vq[i].err_fd = -1;
}

void vu_dev_reset(struct vu_dev *d)
{
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		vring_clear(&d->vq[i]);
	mem_unmap(d);
	d->features = d->protocol_features = 0;
	d->features_set = d->owner = false;
	d->status = 0;
	d->hdr_len = 10;
	d->broken = false;
	d->resets++;
}

/* Rings keep their guest addresses (uva); their host addresses follow the
 * memory table.  False if a ring is not wholly inside guest memory. */
static bool vring_map(struct vu_dev *d, struct vu_vring *v)
{
	v->desc = NULL;
	v->avail = NULL;
	v->used = NULL;
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

bool vu_request_quiesces(uint32_t r)
{
	switch (r) {
	case VU_RESET_OWNER: case VU_RESET_DEVICE: case VU_SET_MEM_TABLE:
	case VU_SET_VRING_NUM: case VU_SET_VRING_ADDR: case VU_SET_VRING_BASE:
	case VU_GET_VRING_BASE: case VU_SET_FEATURES: case VU_SET_STATUS:
		return true;
	default:
		return false;
	}
}

/* ---- messages ------------------------------------------------------------ */

static void close_msg_fds(struct vu_msg *m, unsigned from)
{
	for (unsigned i = from; i < m->nfds && i < VU_MAX_FDS; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = from < m->nfds ? from : m->nfds;
}

static int reply_u64(struct vu_msg *m, struct vu_msg *r, uint64_t v)
{
	r->request = m->request;
	r->flags = VU_VERSION | VU_FLAG_REPLY;
	r->size = 8;
	r->u.u64 = v;
	r->nfds = 0;
	return 1;
}

/* A request's payload must have exactly the size its type has. */
static bool size_ok(const struct vu_msg *m)
{
	switch (m->request) {
	case VU_GET_FEATURES: case VU_SET_OWNER: case VU_RESET_OWNER:
	case VU_GET_PROTOCOL_FEATURES: case VU_GET_QUEUE_NUM: case VU_RESET_DEVICE:
	case VU_GET_STATUS: case VU_GET_MAX_MEM_SLOTS:
		return true; /* payload ignored */
	case VU_SET_FEATURES: case VU_SET_PROTOCOL_FEATURES: case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL: case VU_SET_VRING_ERR: case VU_SET_STATUS:
	case VU_SEND_RARP: case VU_NET_SET_MTU: case VU_SET_LOG_FD:
	case VU_SET_VRING_NUM: case VU_SET_VRING_BASE: case VU_GET_VRING_BASE:
	case VU_SET_VRING_ENABLE:
		return m->size == 8; /* a u64, or a vring state */
	case VU_SET_VRING_ADDR:
		return m->size == 40;
	case VU_SET_MEM_TABLE:
		return m->size >= 8 && m->u.mem.nregions <= VU_MAX_REGIONS &&
		       m->size == 8 + 32 * m->u.mem.nregions;
	default:
		return true;
	}
}

static bool ring_index_ok(const struct vu_dev *d, uint32_t i)
{
	return i < 2 * d->max_qp && i < VU_MAX_VRINGS;
}

/* Is r one of the requests apply() serves (not merely refuses)? */
static bool handled(uint32_t r)
{
	switch (r) {
	case VU_GET_FEATURES: case VU_SET_FEATURES: case VU_GET_PROTOCOL_FEATURES:
	case VU_SET_PROTOCOL_FEATURES: case VU_GET_QUEUE_NUM: case VU_SET_OWNER:
	case VU_RESET_OWNER: case VU_RESET_DEVICE: case VU_SET_MEM_TABLE:
	case VU_SET_VRING_NUM: case VU_SET_VRING_ADDR: case VU_SET_VRING_BASE:
	case VU_GET_VRING_BASE: case VU_SET_VRING_KICK: case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR: case VU_SET_VRING_ENABLE: case VU_SET_STATUS:
	case VU_GET_STATUS:
		return true;
	default:
		return false;
	}
}

/* Applies m; false if it was malformed or refused (nothing applied). */
static bool apply(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r, bool *replied)
{
	*replied = false;
	switch (m->request) {
	case VU_GET_FEATURES:
		*replied = reply_u64(m, r, vu_offered_features());
		return true;
	case VU_SET_FEATURES:
		if (m->u.u64 & ~vu_offered_features())
			return false;
		/* QEMU sends SET_FEATURES again on running rings (logging for
		 * migration): fine while the layout stays.  A switch between
		 * split and packed under a started ring would leave its
		 * positions meaning nothing in the new layout: refused. */
		if (((m->u.u64 ^ d->features) & (1ull << VU_F_RING_PACKED)) && any_started(d))
			return false;
		d->features = m->u.u64;
		d->features_set = true;
		d->hdr_len = (d->features & (1ull << VIRTIO_F_VERSION_1 |
					     1ull << VIRTIO_NET_F_MRG_RXBUF)) ? 12 : 10;
		/* split or packed decides the rings' layout */
		for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
			if (!vring_map(d, &d->vq[i]))
				vu_break(d, VU_E_ADDR);
		return true;
	case VU_GET_PROTOCOL_FEATURES:
		*replied = reply_u64(m, r, vu_offered_protocol_features());
		return true;
	case VU_SET_PROTOCOL_FEATURES:
		if (m->u.u64 & ~vu_offered_protocol_features())
			return false;
		d->protocol_features = m->u.u64;
		return true;
	case VU_GET_QUEUE_NUM:
		*replied = reply_u64(m, r, d->max_qp);
		return true;
	case VU_SET_OWNER:
		d->owner = true;
		return true;
	case VU_RESET_OWNER:
	case VU_RESET_DEVICE: {
		uint64_t pf = d->protocol_features;
		bool feat = d->features_set;
		uint64_t f = d->features;
		vu_dev_reset(d);
		if (m->request == VU_RESET_DEVICE) {
			/* the connection stays: so do the features */
			d->protocol_features = pf;
			d->features = f;
			d->features_set = feat;
		}
		return true;
	}
	case VU_SET_MEM_TABLE: {
		if (m->nfds != m->u.mem.nregions)
			return false;
		/* every region checked before anything is mapped: sizes, its
		 * file, and the address space the whole table takes */
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
			void *map = d->ops.map ? d->ops.map(d->ops.arg, m->fds[i], off + size)
					       : NULL;
			if (!map)
				goto bad_mem;
			nm.r[i] = (struct vu_region){ .gpa = gpa, .size = size, .uva = uva,
						      .mmap_off = off, .map = map,
						      .map_len = off + size,
						      .host = (uint8_t *)map + off };
			nm.n = i + 1;
		}
		/* no two regions may overlap in guest-physical space */
		for (unsigned i = 0; i < nm.n; i++)
			for (unsigned j = i + 1; j < nm.n; j++)
				if (nm.r[i].gpa < nm.r[j].gpa + nm.r[j].size &&
				    nm.r[j].gpa < nm.r[i].gpa + nm.r[i].size)
					goto bad_mem;
		close_msg_fds(m, 0);
		mem_unmap(d);
		d->mem = nm;
		for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
			if (!vring_map(d, &d->vq[i]))
				vu_break(d, VU_E_ADDR);
		return true;
	bad_mem:
		for (unsigned i = 0; i < nm.n; i++)
			if (d->ops.unmap)
				d->ops.unmap(d->ops.arg, nm.r[i].map, nm.r[i].map_len);
		return false;
	}
	case VU_SET_VRING_NUM: {
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
	case VU_SET_VRING_ADDR: {
		uint32_t i = m->u.addr.index;
		if (!ring_index_ok(d, i))
			return false;
		struct vu_vring *v = &d->vq[i];
		v->desc_uva = m->u.addr.desc;
		v->used_uva = m->u.addr.used;
		v->avail_uva = m->u.addr.avail;
		v->addr_set = true;
		if (!vring_map(d, v)) {
			v->addr_set = false;
			d->errors[VU_E_ADDR]++;
			return false;
		}
		return true;
	}
	case VU_SET_VRING_BASE: {
		uint32_t i = m->u.state.index;
		if (!ring_index_ok(d, i) || d->vq[i].started)
			return false; /* a running ring's positions are ours */
		if (d->features & (1ull << VU_F_RING_PACKED)) {
			/* bits 0-14 the avail index, 15 its wrap counter; QEMU sends
			 * the used index in 16-31: nothing is in flight with us at
			 * the start, so ours follows the avail index */
			d->vq[i].pk_base = (uint16_t)m->u.state.num;
			d->vq[i].pk_base_set = true;
			return true;
		}
		if (m->u.state.num > 0xffff)
			return false;
		d->vq[i].last_avail = (uint16_t)m->u.state.num;
		return true;
	}
	case VU_GET_VRING_BASE: {
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
			/* avail index and wrap counter; the used ones in the high
			 * half (everything in flight was finished by quiesce) */
			uint16_t a = pk_index(v, v->last_avail), u = pk_index(v, v->used_idx);
			r->u.state.num = (uint32_t)a | (uint32_t)u << 16;
			v->pk_base = a;
			v->pk_base_set = true;
		}
		r->nfds = 0;
		*replied = true;
		return true;
	}
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR: {
		uint32_t i = (uint32_t)(m->u.u64 & 0xff);
		bool nofd = m->u.u64 & 0x100;
		if (!ring_index_ok(d, i) || (m->u.u64 & ~0x1ffull) || m->nfds != (nofd ? 0u : 1u))
			return false;
		struct vu_vring *v = &d->vq[i];
		int fd = nofd ? -1 : m->fds[0];
		if (!nofd && !eventfd_ok(fd))
			return false; /* closed by vu_handle */
		m->nfds = 0; /* kept */
		if (m->request == VU_SET_VRING_CALL) {
			close_fd(&v->call_fd);
			v->call_fd = fd;
			v->signalled_valid = false;
		} else if (m->request == VU_SET_VRING_ERR) {
			close_fd(&v->err_fd);
			v->err_fd = fd;
		} else {
			close_fd(&v->kick_fd);
			v->kick_fd = fd;
			bool was = v->started;
			/* the ring starts: it was set up afresh, so a device
			 * broken before is given another chance */
			if (!v->started) {
				bool fresh = true;
				for (unsigned k = 0; k < VU_MAX_VRINGS; k++)
					fresh &= k == i || !d->vq[k].started;
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
			} else if (v->used) {
				v->used_idx = ((volatile struct vring_used *)v->used)->idx;
			}
			v->signalled = v->used_idx;
			v->signalled_valid = false;
			/* whatever happened to the ring while stopped (a new size
			 * or layout), its positions must fit it; a split ring's
			 * size is a power of two (indices are taken modulo it) */
			if (v->num && (v->packed ? !pk_pos_ok(v) : (v->num & (v->num - 1))))
				vu_break(d, VU_E_INDEX);
			if (v->inflight)
				memset(v->inflight, 0, v->num);
			if (!(d->features & (1ull << VU_F_PROTOCOL_FEATURES)))
				v->enabled = true;
		}
		return true;
	}
	case VU_SET_VRING_ENABLE: {
		uint32_t i = m->u.state.index;
		if (!ring_index_ok(d, i) || m->u.state.num > 1)
			return false;
		d->vq[i].enabled = m->u.state.num;
		return true;
	}
	case VU_SET_STATUS:
		if (m->u.u64 > 0xff)
			return false;
		if (m->u.u64 == 0) {
			uint64_t pf = d->protocol_features;
			vu_dev_reset(d);
			d->protocol_features = pf;
		}
		d->status = (uint8_t)m->u.u64;
		return true;
	case VU_GET_STATUS:
		/* DEVICE_NEEDS_RESET (0x40) while broken */
		*replied = reply_u64(m, r, d->status | (d->broken ? 0x40u : 0u));
		return true;
	default:
		/* not offered (logging, RARP, MTU, config, ...): refused */
		return false;
	}
}

int vu_handle(struct vu_dev *d, struct vu_msg *m, struct vu_msg *r)
{
	d->messages++;
	bool malformed = (m->flags & VU_FLAG_VERSION_MASK) != VU_VERSION ||
			 m->size > VU_MAX_PAYLOAD || m->nfds > VU_MAX_FDS || !size_ok(m);
	bool ok = false, replied = false;
	if (malformed) {
		vu_break(d, VU_E_MSG);
	} else {
		if (vu_request_quiesces(m->request) && d->ops.quiesce)
			d->ops.quiesce(d->ops.arg);
		ok = apply(d, m, r, &replied);
		if (!ok && handled(m->request))
			vu_break(d, VU_E_MSG); /* a request we serve, malformed */
	}
	close_msg_fds(m, 0);
	if (m->size > VU_MAX_PAYLOAD)
		return -1; /* the stream is out of step: hang up */
	if (replied)
		return 1;
	if ((m->flags & VU_FLAG_NEED_REPLY) &&
	    (d->protocol_features & (1ull << VU_PF_REPLY_ACK)))
		return reply_u64(m, r, ok ? 0 : 1);
	return 0;
}

/* ---- chains ------------------------------------------------------------ */

static int walk_fail(struct vu_dev *d, enum vu_err e)
{
	vu_break(d, e);
	return -1;
}

/* One buffer element of a chain: its direction checked, translated into
 * pieces of host memory that each lie inside one region. */
static inline int add_element(struct vu_dev *d, struct vu_chain *c, uint64_t addr, uint32_t len,
			      bool w, bool write)
{
	if (write && !w)
		return walk_fail(d, VU_E_RO);
	if (!write && w)
		return walk_fail(d, VU_E_WO);
	if (addr + len < addr)
		return walk_fail(d, VU_E_WRAP);
	uint64_t a = addr, left = len;
	while (left) {
		uint64_t room;
		uint8_t *p = gpa_piece(&d->mem, a, &room);
		if (!p)
			return walk_fail(d, VU_E_ADDR);
		if (c->nseg == VU_MAX_SEGS)
			return walk_fail(d, VU_E_LONG);
		uint64_t k = left < room ? left : room;
		c->seg[c->nseg++] = (struct vu_seg){ p, (uint32_t)k };
		a += k;
		left -= k;
	}
	c->total += len;
	return 0;
}

/* An indirect table's descriptor: checked against the features, its
 * length and alignment; the table's host address, or NULL (broken). */
static const uint8_t *indirect_table(struct vu_dev *d, const struct vu_vring *v,
				     uint64_t addr, uint32_t len)
{
	if (!(d->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC)) || !len || len % 16 ||
	    (addr & 15)) {
		walk_fail(d, VU_E_INDIRECT);
		return NULL;
	}
	/* more entries than a chain may have (VU_MAX_SEGS), or than the ring
	 * (a chain is no longer than the queue size, virtio 2.7.5.3.1) */
	if (len / 16 > VU_MAX_SEGS) {
		walk_fail(d, VU_E_LONG);
		return NULL;
	}
	if (len / 16 > v->num) {
		walk_fail(d, VU_E_INDIRECT);
		return NULL;
	}
	enum vu_err e = VU_E_INDIRECT;
	uint8_t *t = vu_gpa(&d->mem, addr, len, &e);
	if (!t)
		walk_fail(d, e);
	return t;
}

/* ---- split virtqueues ------------------------------------------------- */

static unsigned pk_avail_count(struct vu_dev *d, struct vu_vring *v);

unsigned vu_avail_count(struct vu_dev *d, struct vu_vring *v)
{
	if (v->packed)
		return pk_avail_count(d, v);
	uint16_t idx = ((volatile struct vring_avail *)v->avail)->idx;
	unsigned n = (uint16_t)(idx - v->last_avail);
	if (n > v->num) {
		vu_break(d, VU_E_AVAIL);
		return 0;
	}
	/* the entries are read after the index */
	atomic_thread_fence(memory_order_acquire);
	return n;
}

int vu_walk(struct vu_dev *d, struct vu_vring *v, uint16_t head, bool write,
	    struct vu_chain *c)
{
	c->head = head;
	c->nseg = 0;
	c->ndesc = 0;
	c->total = 0;
	if (head >= v->num)
		return walk_fail(d, VU_E_INDEX);
	const volatile struct vring_desc *tab = v->desc;
	uint32_t tabn = v->num, i = head, steps = 0, nd = 0;
	bool indirect = false;
	for (;;) {
		/* every field once: the guest may be rewriting them */
		uint64_t addr = tab[i].addr;
		uint32_t len = tab[i].len;
		uint16_t flags = tab[i].flags, next = tab[i].next;
		if (++steps > tabn)
			return walk_fail(d, VU_E_LOOP);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect || (flags & VRING_DESC_F_NEXT) || c->nseg)
				return walk_fail(d, VU_E_INDIRECT);
			const uint8_t *t = indirect_table(d, v, addr, len);
			if (!t)
				return -1;
			tab = (const volatile struct vring_desc *)(const void *)t;
			tabn = len / 16;
			indirect = true;
			i = 0;
			steps = 0;
			continue;
		}
		/* every buffer descriptor counts, empty ones too */
		if (++nd > VU_MAX_SEGS)
			return walk_fail(d, VU_E_LONG);
		if (add_element(d, c, addr, len, flags & VRING_DESC_F_WRITE, write) < 0)
			return -1;
		c->ndesc = nd;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = next;
		if (i >= tabn)
			return walk_fail(d, VU_E_INDEX);
	}
}

static int pk_pop(struct vu_dev *d, struct vu_vring *v, bool write, struct vu_chain *c);

int vu_pop(struct vu_dev *d, struct vu_vring *v, bool write, struct vu_chain *c)
{
	if (v->packed)
		return pk_pop(d, v, write, c);
	uint16_t head = ((volatile struct vring_avail *)v->avail)->ring[v->last_avail & (v->num - 1)];
	v->last_avail++;
	if (vu_walk(d, v, head, write, c) < 0)
		return -1;
	if (v->inflight[head])
		return walk_fail(d, VU_E_REUSED);
	v->inflight[head] = 1;
	return 0;
}

void vu_unpop(struct vu_vring *v, const uint16_t *heads, unsigned n)
{
	for (unsigned k = n; k-- > 0;) {
		uint16_t h = heads[k];
		if (h >= v->num)
			continue;
		v->inflight[h] = 0;
		if (v->packed)
			v->last_avail = pk_sub(v, v->last_avail, v->ndesc[h]);
		else
			v->last_avail--;
	}
}

static void pk_used_put(struct vu_vring *v, uint16_t id, uint32_t len);

void vu_used_put(struct vu_vring *v, uint16_t head, uint32_t len)
{
	if (!v->desc)
		return; /* not mapped: nothing to write to */
	if (v->packed) {
		pk_used_put(v, head, len);
		return;
	}
	volatile struct vring_used_elem *e = &v->used->ring[v->used_idx & (v->num - 1)];
	e->id = head;
	e->len = len;
	v->used_idx++;
	if (head < v->num)
		v->inflight[head] = 0;
	v->need_call = true;
}

void vu_used_put_many(struct vu_vring *v, const struct vring_used_elem *e, unsigned n)
{
	if (!v->desc)
		return;
	if (v->packed) {
		for (unsigned i = 0; i < n; i++)
			pk_used_put(v, (uint16_t)e[i].id, e[i].len);
		return;
	}
	/* whole runs of entries at once: the guest reads these lines, so
	 * write each of them in one go (a shadow of the used ring) */
	unsigned done = 0;
	while (done < n) {
		unsigned at = (uint16_t)(v->used_idx + done) & (v->num - 1);
		unsigned k = n - done < v->num - at ? n - done : v->num - at;
		memcpy((void *)&v->used->ring[at], e + done, k * sizeof(*e));
		done += k;
	}
	for (unsigned i = 0; i < n; i++)
		if (e[i].id < v->num)
			v->inflight[e[i].id] = 0;
	v->used_idx = (uint16_t)(v->used_idx + n);
	if (n)
		v->need_call = true;
}

void vu_used_publish(struct vu_vring *v)
{
	if (!v->desc)
		return;
	/* the entries before the index */
	atomic_thread_fence(memory_order_release);
	if (!v->packed) /* packed: each used descriptor's flags published it */
		((volatile struct vring_used *)v->used)->idx = v->used_idx;
}

/* ---- packed virtqueues (virtio 2.8) ------------------------------------ */

/* Chains the driver made available from last_avail on: a chain counts once
 * its last descriptor (no NEXT) is seen available.  The driver makes a
 * chain's first descriptor available after the rest, and we read them in
 * ring order: a chain that runs into a descriptor not available, or round
 * the whole ring, is a lie (too long for what was made available), and the
 * device breaks. */
static unsigned pk_avail_count(struct vu_dev *d, struct vu_vring *v)
{
	volatile struct vring_packed_desc *r = pk_ring(v);
	uint32_t c = v->last_avail, steps = 0, len = 0;
	unsigned chains = 0;
	bool open = false;
	if (!pk_pos_ok(v)) {
		vu_break(d, VU_E_INDEX);
		return 0;
	}
	for (; steps < v->num && chains < VU_PACKED_SCAN; steps++) {
		uint16_t f = r[pk_slot(v, c)].flags;
		if (!pk_avail(f, pk_wrap(v, c)))
			break;
		/* the next one's flags after this one's */
		atomic_thread_fence(memory_order_acquire);
		c = pk_add(v, c, 1);
		open = f & VRING_DESC_F_NEXT;
		if (++len > VU_MAX_SEGS)
			break; /* longer than a chain may be */
		if (!open) {
			chains++;
			len = 0;
		}
	}
	if (len > VU_MAX_SEGS)
		open = true;
	if (open) {
		vu_break(d, VU_E_LONG);
		return 0;
	}
	/* the descriptors are read after their flags */
	atomic_thread_fence(memory_order_acquire);
	return chains;
}

/* The chain at last_avail: consecutive descriptors (NEXT on all but the
 * last, which carries the buffer id), or one descriptor with an indirect
 * table.  Every descriptor must be available in its lap; a chain longer
 * than the ring is a loop; the buffer id must be below the ring size (it
 * indexes our per-buffer state) and not in flight. */
static int pk_pop(struct vu_dev *d, struct vu_vring *v, bool write, struct vu_chain *c)
{
	volatile struct vring_packed_desc *ring = pk_ring(v);
	uint32_t pos = v->last_avail, taken = 0, nd = 0;
	uint16_t id;
	c->nseg = 0;
	c->ndesc = 0;
	c->total = 0;
	c->head = 0;
	if (!pk_pos_ok(v))
		return walk_fail(d, VU_E_INDEX);
	for (;;) {
		volatile struct vring_packed_desc *e = &ring[pk_slot(v, pos)];
		uint16_t flags = e->flags;
		/* the first is available (counted); one of the rest that is not
		 * means the chain runs past what the driver made available */
		if (!pk_avail(flags, pk_wrap(v, pos)))
			return walk_fail(d, taken ? VU_E_LONG : VU_E_AVAIL);
		atomic_thread_fence(memory_order_acquire);
		/* every field once: the guest may be rewriting them */
		uint64_t addr = e->addr;
		uint32_t len = e->len;
		id = e->id;
		pos = pk_add(v, pos, 1);
		if (++taken > v->num)
			return walk_fail(d, VU_E_LOOP);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (taken > 1 || (flags & VRING_DESC_F_NEXT))
				return walk_fail(d, VU_E_INDIRECT);
			const uint8_t *t = indirect_table(d, v, addr, len);
			if (!t)
				return -1;
			const volatile struct vring_packed_desc *tab =
				(const volatile struct vring_packed_desc *)(const void *)t;
			/* every entry belongs to the buffer; only WRITE counts */
			for (uint32_t k = 0; k < len / 16; k++) {
				uint64_t ea = tab[k].addr;
				uint32_t el = tab[k].len;
				uint16_t ef = tab[k].flags;
				if (++nd > VU_MAX_SEGS)
					return walk_fail(d, VU_E_LONG);
				if (add_element(d, c, ea, el, ef & VRING_DESC_F_WRITE, write) < 0)
					return -1;
			}
			break;
		}
		if (++nd > VU_MAX_SEGS)
			return walk_fail(d, VU_E_LONG);
		if (add_element(d, c, addr, len, flags & VRING_DESC_F_WRITE, write) < 0)
			return -1;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
	}
	if (id >= v->num)
		return walk_fail(d, VU_E_INDEX);
	if (v->inflight[id])
		return walk_fail(d, VU_E_REUSED);
	c->head = id;
	c->ndesc = nd;
	v->inflight[id] = 1;
	v->ndesc[id] = (uint16_t)taken;
	v->last_avail = (uint16_t)pos;
	return 0;
}

/* Buffer id back to the driver: a used descriptor at used_idx, its flags
 * written last (they publish it), then on by as many slots as its chain
 * took. */
static void pk_used_put(struct vu_vring *v, uint16_t id, uint32_t len)
{
	if (v->used_idx >= 2 * v->num) {
		v->need_call = true; /* cannot happen (pk_pos_ok at start): vu_call breaks */
		return;
	}
	volatile struct vring_packed_desc *e = &pk_ring(v)[pk_slot(v, v->used_idx)];
	uint16_t f = pk_wrap(v, v->used_idx)
			     ? (uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL | 1u << VRING_PACKED_DESC_F_USED)
			     : 0;
	if (len)
		f |= VRING_DESC_F_WRITE;
	e->id = id;
	e->len = len;
	atomic_thread_fence(memory_order_release);
	e->flags = f;
	uint32_t took = 1;
	if (id < v->num) {
		v->inflight[id] = 0;
		took = v->ndesc[id] ? v->ndesc[id] : 1;
	}
	v->used_idx = pk_add(v, v->used_idx, took);
	v->need_call = true;
}

/* Does the driver want a used buffer notification now (its event
 * suppression structure, in the driver area)?  With EVENT_IDX it names a
 * position: notify if the used positions since the last call passed it. */
static bool pk_want_call(struct vu_dev *d, struct vu_vring *v)
{
	const volatile struct vring_packed_desc_event *ev =
		(const volatile struct vring_packed_desc_event *)(const void *)v->avail;
	uint16_t flags = ev->flags & 3;
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC ||
	    !(d->features & (1ull << VIRTIO_RING_F_EVENT_IDX)) || !v->signalled_valid)
		return true;
	uint16_t ow = ev->off_wrap;
	uint32_t off = ow & 0x7fff, m = 2 * v->num;
	if (off >= v->num)
		return true; /* a position that does not exist: tell it anyway */
	uint32_t event = off + ((ow >> VRING_PACKED_EVENT_F_WRAP_CTR) ? 0 : v->num);
	uint32_t now = v->used_idx, old = v->signalled;
	return (now + 2 * m - event - 1) % m < (now + m - old) % m;
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
		if (!pk_pos_ok(v)) {
			vu_break(d, VU_E_INDEX);
			return false;
		}
		want = pk_want_call(d, v);
	} else if (d->features & (1ull << VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t ev = ((volatile uint16_t *)v->avail->ring)[v->num]; /* used_event */
		want = !v->signalled_valid || vring_need_event(ev, v->used_idx, v->signalled);
	} else {
		want = !(((volatile struct vring_avail *)v->avail)->flags &
			 VRING_AVAIL_F_NO_INTERRUPT);
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
		if (!pk_pos_ok(v)) {
			vu_break(d, VU_E_INDEX);
			return;
		}
		/* the device area: kick us (for the next slot), or do not */
		volatile struct vring_packed_desc_event *ev =
			(volatile struct vring_packed_desc_event *)(void *)v->used;
		bool at = d->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
		if (enable && at)
			ev->off_wrap = pk_index(v, v->last_avail);
		ev->flags = !enable ? VRING_PACKED_EVENT_FLAG_DISABLE
			    : at    ? VRING_PACKED_EVENT_FLAG_DESC
				    : VRING_PACKED_EVENT_FLAG_ENABLE;
	} else if (d->features & (1ull << VIRTIO_RING_F_EVENT_IDX)) {
		if (enable) /* avail_event: kick us for the next one */
			((volatile uint16_t *)(void *)v->used->ring)[4 * v->num] = v->last_avail;
	} else {
		((volatile struct vring_used *)v->used)->flags =
			enable ? 0 : VRING_USED_F_NO_NOTIFY;
	}
	atomic_thread_fence(memory_order_seq_cst);
}
