/* SPDX-License-Identifier: MIT */
/*
 * Device configuration, filters and queue lifecycle: the control path.
 *
 * Every change is made to control-side state under dev->ctl, then published
 * as a new sortcfg snapshot (publish()).  The old snapshot is freed after an
 * RCU grace period, so a sorter that is half way through a burst finishes it
 * with the table it started with.  A change that fails leaves no trace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <urcu/urcu-memb.h>

#include "internal.h"

#define RXQ_BYTES (VMDQ_MAX_QUEUES * sizeof(struct rxq))
#define TXQ_BYTES (VMDQ_MAX_QUEUES * sizeof(struct txq))

static const struct vmdq_profile_limits profiles[] = {
	[VMDQ_PROFILE_82575] = { "82575", 4, 16, 32, 0, 4 },
	[VMDQ_PROFILE_82598] = { "82598", 16, 16, 64, 0, 16 },
	[VMDQ_PROFILE_82576] = { "82576", 16, 24, 32, 0, 16 },
	[VMDQ_PROFILE_82599] = { "82599", 64, 128, 64, 0, 64 },
	[VMDQ_PROFILE_SOFT] = { "soft", VMDQ_MAX_QUEUES, 0, 0, VMDQ_SOFT_MAX_FILTERS, 16 },
};

const struct vmdq_profile_limits *vmdq_profile_limits(enum vmdq_profile p)
{
	if ((unsigned)p > VMDQ_PROFILE_SOFT)
		return NULL;
	return &profiles[p];
}

int vmdq_profile_from_name(const char *name, enum vmdq_profile *p)
{
	for (unsigned i = 0; i <= VMDQ_PROFILE_SOFT; i++)
		if (strcmp(name, profiles[i].name) == 0) {
			*p = (enum vmdq_profile)i;
			return 0;
		}
	return -EINVAL;
}

const char *vmdq_drop_name(enum vmdq_drop d)
{
	static const char *const names[] = {
#define NAME_(e, name, what) [VMDQ_DROP_##e] = name,
		VMDQ_DROP_LIST(NAME_)
#undef NAME_
	};
	return (unsigned)d < VMDQ_DROP__COUNT ? names[d] : "?";
}

void vmdq_thread_online(void)
{
	urcu_memb_register_thread();
}

void vmdq_thread_offline(void)
{
	urcu_memb_unregister_thread();
}

static uint64_t mono_ns(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t dev_now(struct vmdq_dev *dev)
{
	return dev->now_ns(dev->now_arg);
}

void vmdq_dev_set_clock(struct vmdq_dev *dev, uint64_t (*now_ns)(void *),
			void *arg)
{
	dev->now_ns = now_ns ? now_ns : mono_ns;
	dev->now_arg = arg;
}

/* ---- publication ------------------------------------------------------ */

static int publish(struct vmdq_dev *dev)
{
	if (dev->batch || (!dev->dirty_cfg && !dev->dirty_ft))
		return 0;
	struct sortcfg *old = dev->cfg;
	struct sortcfg *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = dev->work;
	if (dev->dirty_ft) {
		n->ft = ftable_dup(dev->index);
		if (!n->ft) {
			free(n);
			return -ENOMEM;
		}
	} else {
		n->ft = old->ft;
	}
	rcu_assign_pointer(dev->cfg, n);
	urcu_memb_synchronize_rcu();
	if (old->ft != n->ft)
		ftable_free(old->ft);
	free(old);
	dev->dirty_cfg = dev->dirty_ft = false;
	return 0;
}

void vmdq_dev_batch_begin(struct vmdq_dev *dev)
{
	pthread_mutex_lock(&dev->ctl);
	dev->batch++;
	pthread_mutex_unlock(&dev->ctl);
}

void vmdq_dev_batch_commit(struct vmdq_dev *dev)
{
	pthread_mutex_lock(&dev->ctl);
	if (dev->batch > 0 && --dev->batch == 0) {
		/* Retry on memory pressure rather than leave the device
		 * half-published: the control-side state is already final. */
		while (publish(dev) == -ENOMEM)
			usleep(1000);
	}
	pthread_mutex_unlock(&dev->ctl);
}

/* ---- create / destroy ------------------------------------------------- */

struct vmdq_dev *vmdq_dev_create(void)
{
	struct vmdq_dev *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	pthread_mutex_init(&dev->ctl, NULL);
	dev->profile = VMDQ_PROFILE_SOFT;
	dev->arbiter = VMDQ_ARB_RR;
	dev->next_id = 1;
	dev->now_ns = mono_ns;
	dev->tx_last = -1;
	dev->tx_max_frame = 1518;
	dev->work = (struct sortcfg){
		.vmdq = false, .broadcast = true, .max_frame = 1518,
		.nqueues = profiles[VMDQ_PROFILE_SOFT].default_queues,
	};
	/* Fresh anonymous mappings: page aligned, zero, and only the queues
	 * that are used ever get pages (zero is every queue's initial state). */
	dev->rxq = mmap(NULL, RXQ_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dev->txq = mmap(NULL, TXQ_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dev->rxq == MAP_FAILED)
		dev->rxq = NULL;
	if (dev->txq == MAP_FAILED)
		dev->txq = NULL;
	dev->pending = calloc(VMDQ_MAX_QUEUES, sizeof(uint16_t));
	dev->index = ftable_new();
	dev->cfg = malloc(sizeof(*dev->cfg));
	if (!dev->rxq || !dev->txq || !dev->pending || !dev->index || !dev->cfg)
		goto fail;
	dev_touch_queue(dev, dev->work.nqueues - 1);
	*dev->cfg = dev->work;
	dev->cfg->ft = ftable_dup(dev->index);
	if (!dev->cfg->ft)
		goto fail;
	return dev;
fail:
	if (dev->cfg)
		free(dev->cfg);
	ftable_free(dev->index);
	free(dev->pending);
	if (dev->txq)
		munmap(dev->txq, TXQ_BYTES);
	if (dev->rxq)
		munmap(dev->rxq, RXQ_BYTES);
	free(dev);
	errno = ENOMEM;
	return NULL;
}

void vmdq_dev_destroy(struct vmdq_dev *dev)
{
	if (!dev)
		return;
	unsigned hw = atomic_load(&dev->q_hw);
	for (unsigned i = 0; i < hw; i++) {
		if (dev->rxq[i].irq_fd1)
			close(dev->rxq[i].irq_fd1 - 1);
		free(dev->rxq[i].ring);
		free(dev->txq[i].ring);
	}
	ftable_free(dev->cfg->ft);
	free(dev->cfg);
	ftable_free(dev->index);
	free(dev->filters);
	free(dev->pending);
	munmap(dev->rxq, RXQ_BYTES);
	munmap(dev->txq, TXQ_BYTES);
	pthread_mutex_destroy(&dev->ctl);
	free(dev);
}

/* ---- configuration ---------------------------------------------------- */

/* Applies a change to dev->work and publishes it; restores on failure. */
#define CFG_CHANGE(dev, stmt)                                        \
	do {                                                         \
		struct sortcfg saved_ = (dev)->work;                 \
		stmt;                                                \
		(dev)->dirty_cfg = true;                             \
		int rc_ = publish(dev);                              \
		if (rc_ < 0)                                         \
			(dev)->work = saved_;                        \
		pthread_mutex_unlock(&(dev)->ctl);                   \
		return rc_;                                          \
	} while (0)

static bool queue_has_filters(struct vmdq_dev *dev, unsigned lo)
{
	for (size_t i = 0; i < dev->nfilters; i++)
		if (dev->filters[i].queue >= lo)
			return true;
	return false;
}

static bool queues_busy_from(struct vmdq_dev *dev, unsigned lo)
{
	unsigned hw = atomic_load(&dev->q_hw);
	for (unsigned q = lo; q < hw; q++)
		if (dev->rxq[q].allocated)
			return true;
	return queue_has_filters(dev, lo) || dev->work.default_queue >= lo;
}

static bool filters_fit(const struct vmdq_profile_limits *l,
			const struct ftable *t)
{
	if (l->any_table)
		return t->n_mac + t->n_pair + t->n_vlan <= l->any_table;
	return t->n_mac + t->n_pair <= l->mac_table && t->n_vlan <= l->vlan_table;
}

int vmdq_dev_set_profile(struct vmdq_dev *dev, enum vmdq_profile p)
{
	const struct vmdq_profile_limits *l = vmdq_profile_limits(p);
	if (!l)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	if (!filters_fit(l, dev->index)) {
		pthread_mutex_unlock(&dev->ctl);
		return -ENOSPC;
	}
	if (queues_busy_from(dev, l->default_queues)) {
		pthread_mutex_unlock(&dev->ctl);
		return -EBUSY;
	}
	enum vmdq_profile oldp = dev->profile;
	dev->profile = p;
	struct sortcfg saved = dev->work;
	dev->work.nqueues = l->default_queues;
	dev_touch_queue(dev, l->default_queues - 1);
	dev->dirty_cfg = true;
	int rc = publish(dev);
	if (rc < 0) {
		dev->work = saved;
		dev->profile = oldp;
	}
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

int vmdq_dev_set_queues(struct vmdq_dev *dev, unsigned n)
{
	pthread_mutex_lock(&dev->ctl);
	if (n < 1 || n > profiles[dev->profile].max_queues) {
		pthread_mutex_unlock(&dev->ctl);
		return -EINVAL;
	}
	if (queues_busy_from(dev, n)) {
		pthread_mutex_unlock(&dev->ctl);
		return -EBUSY;
	}
	dev_touch_queue(dev, n - 1);
	CFG_CHANGE(dev, dev->work.nqueues = n);
}

int vmdq_dev_set_vmdq(struct vmdq_dev *dev, bool on)
{
	pthread_mutex_lock(&dev->ctl);
	CFG_CHANGE(dev, dev->work.vmdq = on);
}

int vmdq_dev_set_default_queue(struct vmdq_dev *dev, unsigned q)
{
	pthread_mutex_lock(&dev->ctl);
	if (q >= dev->work.nqueues) {
		pthread_mutex_unlock(&dev->ctl);
		return -EINVAL;
	}
	if (atomic_load(&dev->rxq[q].stopped)) {
		pthread_mutex_unlock(&dev->ctl);
		return -EBUSY;
	}
	CFG_CHANGE(dev, dev->work.default_queue = q);
}

int vmdq_dev_set_mac(struct vmdq_dev *dev, const uint8_t mac[6])
{
	uint64_t m = mac_to_u64(mac);
	if (m == 0 || mac_is_multicast(m))
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	CFG_CHANGE(dev, (dev->work.own_mac = m, dev->work.has_mac = true));
}

int vmdq_dev_set_promisc(struct vmdq_dev *dev, bool on)
{
	pthread_mutex_lock(&dev->ctl);
	CFG_CHANGE(dev, dev->work.promisc = on);
}

int vmdq_dev_set_allmulti(struct vmdq_dev *dev, bool on)
{
	pthread_mutex_lock(&dev->ctl);
	CFG_CHANGE(dev, dev->work.allmulti = on);
}

int vmdq_dev_set_broadcast(struct vmdq_dev *dev, bool on)
{
	pthread_mutex_lock(&dev->ctl);
	CFG_CHANGE(dev, dev->work.broadcast = on);
}

int vmdq_dev_set_store_bad(struct vmdq_dev *dev, bool on)
{
	pthread_mutex_lock(&dev->ctl);
	CFG_CHANGE(dev, dev->work.store_bad = on);
}

int vmdq_dev_set_fcs(struct vmdq_dev *dev, bool on)
{
	pthread_mutex_lock(&dev->ctl);
	CFG_CHANGE(dev, dev->work.fcs = on);
}

int vmdq_dev_set_max_frame(struct vmdq_dev *dev, unsigned bytes)
{
	if (bytes < VMDQ_MIN_MAX_FRAME || bytes > VMDQ_MAX_MAX_FRAME)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	atomic_store(&dev->tx_max_frame, bytes);
	CFG_CHANGE(dev, dev->work.max_frame = bytes);
}

int vmdq_dev_set_arbiter(struct vmdq_dev *dev, enum vmdq_arbiter a)
{
	if ((unsigned)a > VMDQ_ARB_FIFO)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	dev->arbiter = a;
	atomic_store(&dev->arb, (int)a);
	pthread_mutex_unlock(&dev->ctl);
	return 0;
}

void vmdq_dev_get_config(struct vmdq_dev *dev, struct vmdq_dev_config *out)
{
	pthread_mutex_lock(&dev->ctl);
	const struct sortcfg *w = &dev->work;
	*out = (struct vmdq_dev_config){
		.profile = dev->profile, .queues = w->nqueues, .vmdq = w->vmdq,
		.promisc = w->promisc, .allmulti = w->allmulti,
		.broadcast = w->broadcast, .store_bad = w->store_bad,
		.fcs = w->fcs, .has_mac = w->has_mac,
		.default_queue = w->default_queue, .max_frame = w->max_frame,
		.arbiter = dev->arbiter,
	};
	u64_to_mac(w->own_mac, out->mac);
	pthread_mutex_unlock(&dev->ctl);
}

unsigned vmdq_dev_default_queue(struct vmdq_dev *dev)
{
	urcu_memb_read_lock();
	unsigned q = rcu_dereference(dev->cfg)->default_queue;
	urcu_memb_read_unlock();
	return q;
}

/* ---- filters ---------------------------------------------------------- */

static struct vmdq_filter *filter_by_id(struct vmdq_dev *dev, uint32_t id)
{
	size_t lo = 0, hi = dev->nfilters;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (dev->filters[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < dev->nfilters && dev->filters[lo].id == id ? &dev->filters[lo]
							       : NULL;
}

static uint64_t filter_key(const struct vmdq_filter *f)
{
	uint64_t mac = f->kind == VMDQ_FILTER_VLAN ? 0 : mac_to_u64(f->mac);
	return ft_key(mac, f->kind == VMDQ_FILTER_MAC ? 0 : f->vlan);
}

int64_t vmdq_filter_add(struct vmdq_dev *dev, const uint8_t *mac,
			uint16_t vlan, unsigned queue)
{
	struct vmdq_filter f = { .vlan = vlan, .queue = (uint16_t)queue };
	if (mac) {
		uint64_t m = mac_to_u64(mac);
		if (m == 0 || m == MAC_BCAST)
			return -EINVAL;
		memcpy(f.mac, mac, 6);
		f.kind = vlan ? VMDQ_FILTER_PAIR : VMDQ_FILTER_MAC;
		if (vlan > 4094)
			return -EINVAL;
	} else {
		f.kind = VMDQ_FILTER_VLAN;
		if (vlan < 1 || vlan > 4094)
			return -EINVAL;
	}
	pthread_mutex_lock(&dev->ctl);
	int64_t rc;
	uint64_t key = filter_key(&f);
	if (queue >= dev->work.nqueues) {
		rc = -EINVAL;
		goto out;
	}
	if (atomic_load(&dev->rxq[queue].stopped)) {
		rc = -EBUSY;
		goto out;
	}
	if (ft_find(dev->index, key)) {
		rc = -EEXIST;
		goto out;
	}
	const struct vmdq_profile_limits *l = &profiles[dev->profile];
	const struct ftable *t = dev->index;
	if (l->any_table ? t->n_mac + t->n_pair + t->n_vlan >= l->any_table
	    : f.kind == VMDQ_FILTER_VLAN ? t->n_vlan >= l->vlan_table
					 : t->n_mac + t->n_pair >= l->mac_table) {
		rc = -ENOSPC;
		goto out;
	}
	if (dev->nfilters == dev->cap_filters) {
		size_t cap = dev->cap_filters ? 2 * dev->cap_filters : 64;
		struct vmdq_filter *nf = realloc(dev->filters, cap * sizeof(*nf));
		if (!nf) {
			rc = -ENOMEM;
			goto out;
		}
		dev->filters = nf;
		dev->cap_filters = cap;
	}
	f.id = dev->next_id;
	rc = ftable_insert(&dev->index, key, f.id, f.queue, f.kind);
	if (rc < 0)
		goto out;
	dev->filters[dev->nfilters++] = f;
	dev->dirty_ft = true;
	rc = publish(dev);
	if (rc < 0) {
		ftable_remove(dev->index, key, f.kind);
		dev->nfilters--;
		goto out;
	}
	dev->next_id++; /* ids are never reused */
	rc = f.id;
out:
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

static void filter_remove_at(struct vmdq_dev *dev, struct vmdq_filter *f)
{
	ftable_remove(dev->index, filter_key(f), f->kind);
	size_t i = (size_t)(f - dev->filters);
	memmove(f, f + 1, (dev->nfilters - i - 1) * sizeof(*f));
	dev->nfilters--;
	dev->dirty_ft = true;
}

int vmdq_filter_del(struct vmdq_dev *dev, uint32_t id)
{
	pthread_mutex_lock(&dev->ctl);
	struct vmdq_filter *f = filter_by_id(dev, id);
	int rc = -ENOENT;
	if (f) {
		struct vmdq_filter saved = *f;
		filter_remove_at(dev, f);
		rc = publish(dev);
		if (rc < 0) {
			/* put it back where it was (ids stay sorted) */
			size_t i = (size_t)(f - dev->filters);
			memmove(f + 1, f, (dev->nfilters - i) * sizeof(*f));
			*f = saved;
			dev->nfilters++;
			ftable_insert(&dev->index, filter_key(&saved), saved.id,
				      saved.queue, saved.kind);
		}
	}
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

size_t vmdq_filter_list(struct vmdq_dev *dev, struct vmdq_filter *out,
			size_t max)
{
	pthread_mutex_lock(&dev->ctl);
	size_t n = dev->nfilters;
	if (out && max && n)
		memcpy(out, dev->filters, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&dev->ctl);
	return n;
}

/* ---- queue attributes and lifecycle ----------------------------------- */

static int queue_check(struct vmdq_dev *dev, unsigned q)
{
	return q < dev->work.nqueues ? 0 : -EINVAL;
}

int vmdq_queue_set_weight(struct vmdq_dev *dev, unsigned q, unsigned weight)
{
	if (weight < 1 || weight > 65535)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	int rc = queue_check(dev, q);
	if (rc == 0)
		__atomic_store_n(&dev->rxq[q].weight_m1, weight - 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

int vmdq_queue_set_itr(struct vmdq_dev *dev, unsigned q, unsigned usec)
{
	if (usec > 10000000)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	int rc = queue_check(dev, q);
	if (rc == 0) {
		dev->rxq[q].itr_us = usec;
		/* read by the sorter when it raises the next interrupt */
		__atomic_store_n(&dev->rxq[q].itr_ns, (uint64_t)usec * 1000,
				 __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

int vmdq_queue_set_cpu(struct vmdq_dev *dev, unsigned q, unsigned cpu)
{
	if (cpu >= 1024)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	int rc = queue_check(dev, q);
	if (rc == 0) {
		dev->rxq[q].cpu = cpu;
		dev->rxq[q].cpu_set = true;
	}
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

int vmdq_queue_set_rss(struct vmdq_dev *dev, unsigned q, unsigned n)
{
	if (n < 1 || n > VMDQ_MAX_RSS)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	int rc = queue_check(dev, q);
	if (rc == 0 && q + n > dev->work.nqueues)
		rc = -ERANGE;
	if (rc == 0)
		atomic_store_explicit(&dev->rxq[q].rss, n, memory_order_relaxed);
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

int vmdq_queue_get_info(struct vmdq_dev *dev, unsigned q,
			struct vmdq_queue_info *out)
{
	if (q >= VMDQ_MAX_QUEUES)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl);
	struct rxq *r = &dev->rxq[q];
	*out = (struct vmdq_queue_info){
		.weight = r->weight_m1 + 1, .itr_us = r->itr_us, .cpu = r->cpu,
		.cpu_set = r->cpu_set,
		.allocated = r->allocated, .stopped = atomic_load(&r->stopped),
		.owner = r->owner,
		.rss = atomic_load(&r->rss) > 1 ? atomic_load(&r->rss) : 1,
	};
	pthread_mutex_unlock(&dev->ctl);
	return 0;
}

int vmdq_queue_alloc(struct vmdq_dev *dev, int q, uint64_t owner)
{
	pthread_mutex_lock(&dev->ctl);
	int rc;
	if (q < 0) {
		rc = -ENOSPC;
		for (unsigned i = 0; i < dev->work.nqueues; i++) {
			if (i != dev->work.default_queue && !dev->rxq[i].allocated &&
			    !atomic_load(&dev->rxq[i].stopped)) {
				rc = (int)i;
				break;
			}
		}
	} else if ((unsigned)q >= dev->work.nqueues) {
		rc = -EINVAL;
	} else if (dev->rxq[q].allocated || atomic_load(&dev->rxq[q].stopped)) {
		rc = -EBUSY;
	} else {
		rc = q;
	}
	if (rc >= 0) {
		dev->rxq[rc].allocated = true;
		dev->rxq[rc].owner = owner;
	}
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

static int queue_stop_locked(struct vmdq_dev *dev, unsigned q)
{
	if (q >= VMDQ_MAX_QUEUES)
		return -EINVAL;
	if (q == dev->work.default_queue)
		return -EPERM;
	if (atomic_load(&dev->rxq[q].stopped))
		return 0;
	struct vmdq_filter *kept = NULL;
	size_t nkept = 0;
	for (size_t i = 0; i < dev->nfilters; i++)
		if (dev->filters[i].queue == q)
			nkept++;
	if (nkept) {
		kept = malloc(nkept * sizeof(*kept));
		if (!kept)
			return -ENOMEM;
		nkept = 0;
		for (size_t i = 0; i < dev->nfilters;) {
			if (dev->filters[i].queue == q) {
				kept[nkept++] = dev->filters[i];
				filter_remove_at(dev, &dev->filters[i]);
			} else {
				i++;
			}
		}
	}
	int rc = publish(dev);
	if (rc < 0) {
		for (size_t i = 0; i < nkept; i++) {
			/* restore in id order: ids in kept are ascending, but
			 * may interleave with others; reinsert sorted */
			struct vmdq_filter *f = &kept[i];
			size_t at = 0;
			while (at < dev->nfilters && dev->filters[at].id < f->id)
				at++;
			memmove(&dev->filters[at + 1], &dev->filters[at],
				(dev->nfilters - at) * sizeof(*f));
			dev->filters[at] = *f;
			dev->nfilters++;
			ftable_insert(&dev->index, filter_key(f), f->id, f->queue,
				      f->kind);
		}
		free(kept);
		return rc;
	}
	free(kept);
	/* No filter points here any more; now make sure no sorter delivers
	 * here either (non-VMDq mode sends to queue 0 without a filter). */
	atomic_store_explicit(&dev->rxq[q].stopped, true, memory_order_release);
	urcu_memb_synchronize_rcu();
	return 0;
}

int vmdq_queue_stop(struct vmdq_dev *dev, unsigned q)
{
	pthread_mutex_lock(&dev->ctl);
	int rc = queue_stop_locked(dev, q);
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

int vmdq_queue_free(struct vmdq_dev *dev, unsigned q)
{
	pthread_mutex_lock(&dev->ctl);
	int rc = queue_stop_locked(dev, q);
	if (rc == 0) {
		struct rxq *r = &dev->rxq[q];
		struct txq *t = &dev->txq[q];
		bool rx_out = r->ring && atomic_load(&r->post) != r->reap;
		bool tx_out = t->ring && atomic_load(&t->tail) != atomic_load(&t->head);
		if (rx_out || tx_out) {
			rc = -EBUSY;
		} else {
			r->allocated = false;
			r->owner = 0;
			r->nshm = 0;
			atomic_store(&r->strip, false);
			atomic_store(&r->access, 0);
			atomic_store(&r->rss, 0);
			/* irq_pending is the sorter's: true while the queue is on
			 * its list of held-back interrupts (once); the entry goes
			 * at the next service now the vector is disabled */
			atomic_store(&r->irq_enabled, false);
			atomic_store_explicit(&r->stopped, false, memory_order_release);
		}
	}
	pthread_mutex_unlock(&dev->ctl);
	return rc;
}

/* ---- counters ----------------------------------------------------------- */

int vmdq_queue_stats(struct vmdq_dev *dev, unsigned q,
		     struct vmdq_queue_stats *out)
{
	if (q >= VMDQ_MAX_QUEUES)
		return -EINVAL;
	struct rxq *r = &dev->rxq[q];
	struct txq *t = &dev->txq[q];
	*out = (struct vmdq_queue_stats){
		.frames = atomic_load_explicit(&r->frames, memory_order_relaxed),
		.bytes = atomic_load_explicit(&r->bytes, memory_order_relaxed),
		.missed = atomic_load_explicit(&r->missed, memory_order_relaxed),
		.errors = atomic_load_explicit(&r->errors, memory_order_relaxed),
		.tx_frames = atomic_load_explicit(&t->frames, memory_order_relaxed),
		.tx_bytes = atomic_load_explicit(&t->bytes, memory_order_relaxed),
	};
	return 0;
}

void vmdq_dev_stats(struct vmdq_dev *dev, struct vmdq_dev_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->frames_in = atomic_load_explicit(&dev->frames_in, memory_order_relaxed);
	for (unsigned d = 0; d < VMDQ_DROP__COUNT; d++)
		out->drops[d] = atomic_load_explicit(&dev->drops[d], memory_order_relaxed);
	uint64_t missed = 0;
	unsigned hw = atomic_load(&dev->q_hw);
	for (unsigned q = 0; q < hw; q++)
		missed += atomic_load_explicit(&dev->rxq[q].missed, memory_order_relaxed);
	out->drops[VMDQ_DROP_MISSED] = missed;
}

/* ---- MAC text ------------------------------------------------------------ */

int vmdq_mac_parse(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int v = 0;
		for (int k = 0; k < 2; k++) {
			char c = *s++;
			int d = c >= '0' && c <= '9' ? c - '0'
			      : c >= 'a' && c <= 'f' ? c - 'a' + 10
			      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (d < 0)
				return -EINVAL;
			v = v * 16 + d;
		}
		mac[i] = (uint8_t)v;
		if (*s != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		s++;
	}
	return 0;
}

void vmdq_mac_format(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}
