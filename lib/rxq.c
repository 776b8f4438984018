/* SPDX-License-Identifier: MIT */
/*
 * RX queue rings, consumer side: post, poll, reclaim, interrupt vector.
 * See the ownership picture in vmdq/device.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include <urcu/urcu-memb.h>

#include "internal.h"

static bool pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

int vmdq_rxq_setup(struct vmdq_dev *dev, unsigned q, unsigned size)
{
	if (q >= VMDQ_MAX_QUEUES || size < 2 || size > 65536 || !pow2(size))
		return -EINVAL;
	struct vmdq_rxd *ring = calloc(size, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	pthread_mutex_lock(&dev->ctl);
	dev_touch_queue(dev, q);
	struct rxq *r = &dev->rxq[q];
	if (r->ring && atomic_load(&r->post) != r->reap) {
		pthread_mutex_unlock(&dev->ctl);
		free(ring);
		return -EBUSY;
	}
	/* Keep the sorter off the queue while its ring changes.  A queue
	 * without a ring never has a posted buffer, so the sorter cannot be
	 * looking at it: the first ring needs no grace period. */
	bool was_stopped = atomic_load(&r->stopped) || !r->ring;
	if (!was_stopped) {
		atomic_store(&r->stopped, true);
		urcu_memb_synchronize_rcu();
	}
	struct vmdq_rxd *old = r->ring;
	r->ring = ring;
	r->mask = size - 1;
	r->fill = r->post_cache = r->reap = 0;
	atomic_store(&r->fill_pub, 0);
	atomic_store(&r->post, 0);
	if (!was_stopped)
		atomic_store_explicit(&r->stopped, false, memory_order_release);
	pthread_mutex_unlock(&dev->ctl);
	free(old);
	return 0;
}

unsigned vmdq_rxq_post(struct vmdq_dev *dev, unsigned q,
		       const struct vmdq_rxd *bufs, unsigned n)
{
	struct rxq *r = &dev->rxq[q];
	if (q >= VMDQ_MAX_QUEUES || !r->ring)
		return 0;
	uint32_t post = atomic_load_explicit(&r->post, memory_order_relaxed);
	uint32_t space = r->mask + 1 - (post - r->reap);
	if (n > space)
		n = space;
	for (unsigned i = 0; i < n; i++) {
		struct vmdq_rxd *d = &r->ring[(post + i) & r->mask];
		*d = (struct vmdq_rxd){ .buf = bufs[i].buf, .buf_size = bufs[i].buf_size,
					.cookie = bufs[i].cookie,
					.lead = bufs[i].lead <= VMDQ_MAX_LEAD &&
						bufs[i].lead <= bufs[i].buf_size ? bufs[i].lead : 0 };
	}
	/* Pairs with the sorter's acquire load of post: the descriptors are
	 * written before the device may fill them. */
	atomic_store_explicit(&r->post, post + n, memory_order_release);
	return n;
}

/* ---- Level 2: shared buffers (SPEC 1.6) ------------------------------- */

int vmdq_rxq_share_mem(struct vmdq_dev *dev, unsigned q, uint64_t owner,
		       const struct vmdq_mem_region *reg, unsigned n)
{
	if (q >= VMDQ_MAX_QUEUES || n > VMDQ_MAX_MEM_REGIONS || (n && !reg))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!reg[i].base || !reg[i].len ||
		    (uintptr_t)reg[i].base + reg[i].len < (uintptr_t)reg[i].base)
			return -EINVAL; /* empty, or wraps the address space */
	pthread_mutex_lock(&dev->ctl);
	struct rxq *r = &dev->rxq[q];
	int rc = 0;
	if (!r->allocated || r->owner != owner) {
		rc = -EPERM;
	} else if (r->ring && r->nshm &&
		   atomic_load_explicit(&r->post, memory_order_relaxed) != r->reap) {
		rc = -EBUSY; /* buffers of the old memory are still out */
	} else {
		for (unsigned i = 0; i < n; i++)
			r->shm[i] = reg[i];
		r->nshm = n;
	}
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

static bool in_shared(const struct rxq *r, const uint8_t *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;
	if (!p || a + len < a)
		return false;
	for (unsigned i = 0; i < r->nshm; i++) {
		uintptr_t b = (uintptr_t)r->shm[i].base;
		if (a >= b && len <= r->shm[i].len && a - b <= r->shm[i].len - len)
			return true;
	}
	return false;
}

unsigned vmdq_rxq_post_shared(struct vmdq_dev *dev, unsigned q, uint64_t owner,
			      const struct vmdq_rxd *bufs, unsigned n, int *err)
{
	*err = 0;
	if (q >= VMDQ_MAX_QUEUES || !dev->rxq[q].ring) {
		*err = -EINVAL;
		return 0;
	}
	struct rxq *r = &dev->rxq[q];
	if (!r->allocated || r->owner != owner) {
		*err = -EPERM;
		return 0;
	}
	uint32_t post = atomic_load_explicit(&r->post, memory_order_relaxed);
	uint32_t space = r->mask + 1 - (post - r->reap);
	if (n > space)
		n = space;
	unsigned i;
	for (i = 0; i < n; i++) {
		const struct vmdq_rxd *b = &bufs[i];
		if (!in_shared(r, b->buf, b->buf_size)) {
			*err = -EFAULT; /* not wholly inside the VM's memory */
			break;
		}
		if (!b->hdr || !b->hdr_len || b->hdr_len > VMDQ_MAX_HDR ||
		    b->lead > VMDQ_MAX_LEAD || b->lead > b->buf_size) {
			*err = -EINVAL;
			break;
		}
		r->ring[(post + i) & r->mask] = (struct vmdq_rxd){
			.buf = b->buf, .buf_size = b->buf_size, .cookie = b->cookie,
			.hdr = b->hdr, .hdr_len = b->hdr_len, .lead = b->lead };
	}
	atomic_store_explicit(&r->post, post + i, memory_order_release);
	return i;
}

unsigned vmdq_rxq_retract(struct vmdq_dev *dev, unsigned q, struct vmdq_rxd *out,
			  unsigned n)
{
	if (q >= VMDQ_MAX_QUEUES || !dev->rxq[q].ring)
		return 0;
	struct rxq *r = &dev->rxq[q];
	pthread_mutex_lock(&dev->ctl);
	bool was_stopped = atomic_load(&r->stopped);
	if (!was_stopped) {
		/* keep the sorter off the ring while its posted part shrinks */
		atomic_store(&r->stopped, true);
		urcu_memb_synchronize_rcu();
	}
	/* the sorter has published everything it filled: fill == fill_pub */
	uint32_t fill = atomic_load_explicit(&r->fill_pub, memory_order_acquire);
	uint32_t post = atomic_load_explicit(&r->post, memory_order_relaxed);
	unsigned k = 0;
	for (uint32_t i = fill; i != post && k < n; i++, k++) {
		out[k] = r->ring[i & r->mask];
		out[k].len = out[k].wire_len = out[k].filter_id = 0;
		out[k].flags = VMDQ_RXD_CANCELLED;
		out[k].queue = (uint16_t)q;
	}
	/* what did not fit in out stays posted */
	uint32_t keep = fill + k;
	if (k) {
		uint32_t rest = post - keep;
		for (uint32_t i = 0; i < rest; i++)
			r->ring[(fill + i) & r->mask] = r->ring[(keep + i) & r->mask];
		atomic_store_explicit(&r->post, fill + rest, memory_order_release);
	}
	r->fill = fill;
	r->post_cache = fill;
	if (!was_stopped)
		atomic_store_explicit(&r->stopped, false, memory_order_release);
	pthread_mutex_unlock(&dev->ctl);
	return k;
}

int vmdq_queue_set_vlan_strip(struct vmdq_dev *dev, unsigned q, bool on)
{
	if (q >= VMDQ_MAX_QUEUES)
		return -EINVAL;
	atomic_store(&dev->rxq[q].strip, on);
	return 0;
}

int vmdq_queue_set_access_vlan(struct vmdq_dev *dev, unsigned q, uint16_t vid)
{
	if (q >= VMDQ_MAX_QUEUES || (vid > 4094 && vid != VMDQ_ACCESS_ANY))
		return -EINVAL;
	/* read by the sorter per frame (relaxed): a frame is judged by the
	 * rule before or after the change, each a whole rule */
	atomic_store(&dev->rxq[q].access, (uint16_t)(vid == VMDQ_ACCESS_ANY ? 0 : vid + 1));
	return 0;
}

int vmdq_rxq_set_lead(struct vmdq_dev *dev, unsigned q, const void *bytes, unsigned n)
{
	if (q >= VMDQ_MAX_QUEUES || n > VMDQ_MAX_LEAD || (n && !bytes))
		return -EINVAL;
	/* read by the sorter only for buffers that ask for it, posted after */
	memset(dev->rxq[q].lead, 0, sizeof(dev->rxq[q].lead));
	if (n)
		memcpy(dev->rxq[q].lead, bytes, n);
	atomic_thread_fence(memory_order_release);
	return 0;
}

unsigned vmdq_rxq_ready(struct vmdq_dev *dev, unsigned q)
{
	if (q >= VMDQ_MAX_QUEUES)
		return 0;
	struct rxq *r = &dev->rxq[q];
	return atomic_load_explicit(&r->fill_pub, memory_order_acquire) - r->reap;
}

unsigned vmdq_rxq_poll(struct vmdq_dev *dev, unsigned q, struct vmdq_rxd *out,
		       unsigned n)
{
	if (q >= VMDQ_MAX_QUEUES || !dev->rxq[q].ring)
		return 0;
	struct rxq *r = &dev->rxq[q];
	/* Pairs with the release store in flush_queue(): descriptor contents
	 * are visible once the index is. */
	uint32_t avail = atomic_load_explicit(&r->fill_pub, memory_order_acquire) - r->reap;
	if (n > avail)
		n = avail;
	for (unsigned i = 0; i < n; i++)
		out[i] = r->ring[(r->reap + i) & r->mask];
	r->reap += n;
	return n;
}

unsigned vmdq_rxq_reclaim(struct vmdq_dev *dev, unsigned q,
			  struct vmdq_rxd *out, unsigned n)
{
	if (q >= VMDQ_MAX_QUEUES)
		return 0;
	struct rxq *r = &dev->rxq[q];
	if (!r->ring || !atomic_load_explicit(&r->stopped, memory_order_acquire))
		return 0;
	/* Stopped: no sorter touches the ring (vmdq_queue_stop waited a grace
	 * period), so the consumer may complete the unfilled buffers itself. */
	uint32_t post = atomic_load_explicit(&r->post, memory_order_relaxed);
	for (uint32_t i = r->fill; i != post; i++) {
		struct vmdq_rxd *d = &r->ring[i & r->mask];
		d->len = d->wire_len = d->filter_id = 0;
		d->flags = VMDQ_RXD_CANCELLED;
		d->queue = (uint16_t)q;
	}
	r->fill = r->post_cache = post;
	atomic_store_explicit(&r->fill_pub, post, memory_order_release);
	return vmdq_rxq_poll(dev, q, out, n);
}

int vmdq_rxq_set_notify(struct vmdq_dev *dev, unsigned q, uint64_t *map)
{
	if (q >= VMDQ_MAX_QUEUES)
		return -EINVAL;
	__atomic_store_n(&dev->rxq[q].notify, map, __ATOMIC_RELAXED);
	return 0;
}

int vmdq_rxq_irq_fd(struct vmdq_dev *dev, unsigned q)
{
	if (q >= VMDQ_MAX_QUEUES)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	dev_touch_queue(dev, q);
	struct rxq *r = &dev->rxq[q];
	int fd = r->irq_fd1 - 1;
	if (fd < 0) {
		fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		else
			__atomic_store_n(&r->irq_fd1, fd + 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&dev->ctl);
	return fd;
}

void vmdq_rxq_irq_enable(struct vmdq_dev *dev, unsigned q)
{
	if (q >= VMDQ_MAX_QUEUES)
		return;
	atomic_store_explicit(&dev->rxq[q].irq_enabled, true, memory_order_relaxed);
	/* Pairs with the fence in raise_irqs(); after this, the consumer
	 * checks vmdq_rxq_ready() once more before it sleeps. */
	atomic_thread_fence(memory_order_seq_cst);
}

void vmdq_rxq_irq_disable(struct vmdq_dev *dev, unsigned q)
{
	if (q >= VMDQ_MAX_QUEUES)
		return;
	atomic_store_explicit(&dev->rxq[q].irq_enabled, false, memory_order_relaxed);
}
