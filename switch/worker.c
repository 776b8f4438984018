/* SPDX-License-Identifier: MIT */
/*
 * switch/worker.c - who runs the data flow: one round of a worker's work,
 * sleeping and waking, the worker threads, their CPUs, parking.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>

#include "internal.h"
#include "handoff.h"

/* v goes on its worker's active list (the worker's own thread). */
static void activate(struct sw_worker *k, struct sw_vif *v)
{
	if (!v->active) {
		v->active = true;
		k->act[k->nact++] = v;
	}
}

/* v's rx gave nothing for SW_COLD_ROUNDS visits: cold if its port has a
 * descriptor to wake the worker with (put in the worker's epoll) and
 * nothing pending (idle). */
static void cool(struct vmdq_switch *sw, struct sw_vif *v)
{
	struct sw_worker *k = &sw->wk[v->worker];
	v->idle_rounds = 0;
	/* the first frames handed to it once cold get idle() (visit) */
	v->given_round = k->round - SW_COLD_ROUNDS;
	int fd = v->port.ops->fd(&v->port);
	if (fd < 0 || (v->port.ops->idle && !v->port.ops->idle(&v->port)))
		return;
	if (!k->has_epfd) {
		k->epfd = epoll_create1(EPOLL_CLOEXEC);
		k->has_epfd = k->epfd >= 0;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)v->idx };
	if (k->has_epfd && epoll_ctl(k->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
		v->cold = true;
		v->cold_fd = fd;
		k->ncold++;
	}
}

void vmdq_sw_warm(struct vmdq_switch *sw, struct sw_vif *v)
{
	if (!v->cold)
		return;
	struct sw_worker *k = &sw->wk[v->worker];
	epoll_ctl(k->epfd, EPOLL_CTL_DEL, v->cold_fd, NULL);
	v->cold = false;
	k->ncold--;
}

/* The cold vifs whose descriptors are readable: visited, their rx called. */
static void wake_cold(struct vmdq_switch *sw, struct sw_worker *k)
{
	struct epoll_event ev[64];
	int n = k->ncold ? epoll_wait(k->epfd, ev, 64, 0) : 0;
	for (int i = 0; i < n; i++) {
		uint32_t idx = ev[i].data.u32;
		struct sw_vif *v = idx < sw->vif_cap ? sw->vif[idx] : NULL;
		if (v && v->cold && v->worker == k->id) {
			v->wake = true;
			activate(k, v);
		}
	}
}

/* The pending bits (switch/handoff.h): each vif named is visited. */
static void take_pending(struct vmdq_switch *sw, struct sw_worker *k)
{
	for (unsigned i = 0; i < SW_PEND_WORDS; i++) {
		if (!__atomic_load_n(&k->pend[i], __ATOMIC_RELAXED))
			continue;
		uint64_t b = __atomic_exchange_n(&k->pend[i], 0, __ATOMIC_ACQUIRE);
		while (b) {
			unsigned q = i * 64 + (unsigned)__builtin_ctzll(b);
			b &= b - 1;
			int vi = sw->queue_vif[q];
			/* (a vif that left, or moved: reindex put every vif on its
			 * worker's list anyway) */
			if (vi >= 0 && sw->vif[vi]->worker == k->id)
				activate(k, sw->vif[vi]);
		}
	}
}

/* Every SW_COLD_EVERY rounds one cold vif's rx is called anyway (what a
 * descriptor would not announce), the next one in the worker's list. */
static void sweep_cold(struct sw_worker *k)
{
	for (unsigned i = 0; i < k->nvifs && i < 64; i++) {
		if (++k->sweep >= k->nvifs)
			k->sweep = 0;
		struct sw_vif *v = k->vifs[k->sweep];
		if (v->cold) {
			v->wake = true;
			activate(k, v);
			return;
		}
	}
}

/* One visit of vif v by worker w: its port's service, its queues, its
 * inboxes, and its port's rx when warm or woken.  True if it stays on the
 * active list. */
static bool visit(struct vmdq_switch *sw, int w, struct sw_vif *v, uint64_t now, bool *room,
		  unsigned *work)
{
	bool port = !v->cold || v->wake, more = false;
	unsigned work0 = *work;
	uint32_t round = sw->wk[w].round;
	want_flush(sw, w, v);
	/* the port may need the completions in its queues before it goes
	 * on (its VM's rings change): handed over, then it is asked again */
	for (int k = 0; v->port.ops->service &&
			v->port.ops->service(&v->port, now) == PORT_SERVICE_DRAIN &&
			k < PORT_SERVICE_DRAINS; k++)
		vmdq_sw_drain_rx(sw, v);
	/* a ring's worth at most: the sorter on another worker may refill the
	 * queue as fast as it drains, and the round must end (the stop and
	 * park requests are seen between rounds); what is left: next round */
	for (unsigned qi = 0; qi < v->nq; qi++) {
		unsigned k, bursts = 0;
		do {
			k = vmdq_sw_drain_queue(sw, w, (unsigned)v->queue + qi);
			*work += k;
		} while (k == BURST && ++bursts < SW_RING / BURST);
		more |= k == BURST;
	}
	*work += vmdq_sw_drain_inboxes(sw, w, v);
	/* frames handed to a port with idle(): its tx may have silenced its
	 * descriptor (vhost-user turns the guest's kicks off while frames
	 * move).  Without idle() nothing is silenced, and frames handed
	 * count for nothing below (a TAP's rx is a read() per call: a vif
	 * that only receives is not polled for them) */
	bool given = *work != work0 && v->port.ops->idle;
	for (int p = 0; p < SW_MAX_WORKERS && !more; p++)
		more = !inbox_empty(v->inbox[p]);
	/* a burst from each queue pair while every inbox it may feed has room
	 * for it and its TX queue too; held back: tried again next round */
	unsigned got = 0;
	bool held = false;
	for (unsigned qi = 0; port && v->port.ops->rx && qi < v->nq; qi++) {
		if (qi)
			*room = vmdq_sw_inboxes_have_room(sw, w);
		if (*room && (vmdq_sw_tx_has_room(v, qi) || !sw->has_uplink))
			got += vmdq_sw_from_vif(sw, w, v->idx, qi);
		else
			held = true;
	}
	*work += got;
	/* frames either way keep it warm; SW_COLD_ROUNDS visits with
	 * neither: cold (cool() calls idle() first: the moment a port that
	 * silenced its descriptor while frames moved arms it again, before
	 * the vif stops being polled) */
	if (got || given)
		v->idle_rounds = 0;
	if (got)
		vmdq_sw_warm(sw, v);
	else if (port && !given && !held && !v->cold && ++v->idle_rounds >= SW_COLD_ROUNDS)
		cool(sw, v);
	/* a cold vif given frames: that may have silenced its descriptor,
	 * and only idle() turns it on again.  Given frames again within
	 * SW_COLD_ROUNDS rounds (a stream to it): warm, polled with its
	 * descriptor silent and no idle() per visit (idle() then comes from
	 * cool(), or from has_work before the worker sleeps); else idle() now,
	 * and warm if that says it is not idle */
	if (given && v->cold) {
		if (round - v->given_round < SW_COLD_ROUNDS)
			vmdq_sw_warm(sw, v);
		else if (!v->port.ops->idle(&v->port))
			vmdq_sw_warm(sw, v);
	}
	if (given)
		v->given_round = round;
	v->wake = held && v->cold; /* its rx is still due */
	v->more = more || held;
	return v->more || !v->cold;
}

unsigned vmdq_switch_poll_worker(struct vmdq_switch *sw, int w, uint64_t now)
{
	unsigned work = 0;
	if (w == 0) {
		if (sw->has_uplink && sw->uplink.ops->rx) {
			struct vmdq_frame f[BURST];
			unsigned n = sw->uplink.ops->rx(&sw->uplink, 0, f, BURST);
			if (n) {
				vmdq_sw_learn_from_wire(sw, f, n, now);
				vmdq_sw_wire_in(sw, w, f, n);
				work += n; /* (a sleeping worker's queues interrupt it) */
			}
		}
		unsigned dq = vmdq_dev_default_queue(sw->dev);
		if (dq != sw->default_queue) {
			/* the default queue moved (device default-queue): arm it */
			sw->default_queue = dq;
			vmdq_sw_queue_arm(sw->dev, dq, sw->defmem, SW_BUF);
		}
		work += vmdq_sw_drain_queue(sw, w, sw->default_queue);
	}
	bool room = vmdq_sw_inboxes_have_room(sw, w);
	struct sw_worker *wk = &sw->wk[w];
	wk->round++;
	take_pending(sw, wk);
	if (wk->ncold && wk->round % 4 == 0)
		wake_cold(sw, wk);
	if (wk->ncold && wk->round % SW_COLD_EVERY == 0)
		sweep_cold(wk);
	/* the round visits the vifs on the list now; one that stays keeps its
	 * place (a vif cannot be listed during the visits: only this worker
	 * lists, and it does so above and in vmdq_switch_wait) */
	unsigned n = wk->nact, keep = 0;
	for (unsigned j = 0; j < n; j++) {
		struct sw_vif *v = wk->act[j];
		if (visit(sw, w, v, now, &room, &work))
			wk->act[keep++] = v;
		else
			v->active = false;
	}
	for (unsigned j = n; j < wk->nact; j++)
		wk->act[keep++] = wk->act[j];
	wk->nact = keep;
	for (unsigned j = 0; j < wk->nflush; j++) {
		struct sw_vif *v = wk->flushq[j];
		v->flush_due = false;
		if (v->port.ops->flush)
			v->port.ops->flush(&v->port); /* one notification per round */
	}
	wk->nflush = 0;
	if (w == 0) {
		work += vmdq_sw_wire_out(sw, w, now);
		if (sw->naway)
			vmdq_sw_reclaim(sw); /* a VM back on a vif its MAC had left */
		/* a pass over the FDB each second, SW_AGE_SLOTS slots a round */
		if (now && (vmdq_fdb_age_pending(sw->fdb) ||
			    now - sw->last_age_ns > 1000000000ull)) {
			if (!vmdq_fdb_age_pending(sw->fdb))
				sw->last_age_ns = now;
			vmdq_fdb_age_step(sw->fdb, now, sw->age_ns, SW_AGE_SLOTS);
		}
	}
	signal_inboxes(sw, w);
	ring_doorbells(sw, w);
	return work;
}

unsigned vmdq_switch_poll(struct vmdq_switch *sw, uint64_t now)
{
	unsigned work = 0;
	for (int w = 0; w < sw->nworkers; w++)
		work += vmdq_switch_poll_worker(sw, w, now);
	return work;
}

bool vmdq_switch_idle(struct vmdq_switch *sw, int w, uint64_t now, unsigned work)
{
	struct sw_worker *k = &sw->wk[w];
	if (work) {
		k->idle_since = 0;
		return false;
	}
	if (!k->idle_since) {
		k->idle_since = now;
		return false;
	}
	return now - k->idle_since >= SW_SPIN_NS;
}

/* Frames waiting for the wire on any vif's TX queue (main worker). */
static bool tx_pending(struct vmdq_switch *sw)
{
	for (unsigned j = 0; j < sw->nvifs; j++) {
		const struct sw_vif *v = sw->live[j];
		for (unsigned q = 0; q < v->nq; q++)
			if (vmdq_txq_pending(sw->dev, (unsigned)v->queue + q))
				return true;
	}
	return false;
}

/* Is there work for worker w that a descriptor would not announce? */
static bool has_work(struct vmdq_switch *sw, int w)
{
	/* (with a txrate, frames waiting for the wire wake the worker by the
	 * timeout instead) */
	if (w == 0 && !sw->tx_rate && tx_pending(sw))
		return true;
	const struct sw_worker *k = &sw->wk[w];
	for (unsigned i = 0; i < SW_PEND_WORDS; i++)
		if (__atomic_load_n(&k->pend[i], __ATOMIC_RELAXED))
			return true;
	/* the listed vifs: left something behind, or a warm port is not idle
	 * (a cold port said it was idle: its descriptor speaks for it) */
	for (unsigned j = 0; j < k->nact; j++) {
		struct sw_vif *v = k->act[j];
		if (v->more || (!v->cold && v->port.ops->idle && !v->port.ops->idle(&v->port)))
			return true;
	}
	return w == 0 && vmdq_rxq_ready(sw->dev, sw->default_queue);
}

void vmdq_switch_wait(struct vmdq_switch *sw, int w, int extra_fd, int timeout_ms)
{
	struct sw_worker *k = &sw->wk[w];
	struct pollfd *pfd = k->pfd; /* (1 + SW_MAX_QP) * vif_cap + 3 of them */
	int *irq_q = k->irq_q, *irq_ix = k->irq_fd; /* SW_MAX_QP * vif_cap */
	nfds_t n = 0;
	int nirq = 0;
	struct sw_vif **pv = k->pfd_vif;
	int cold_ix = -1;
	pv[n] = NULL;
	pfd[n++] = (struct pollfd){ .fd = k->efd, .events = POLLIN };
	if (extra_fd >= 0) {
		pv[n] = NULL;
		pfd[n++] = (struct pollfd){ .fd = extra_fd, .events = POLLIN };
	}
	if (w == 0 && sw->has_uplink && sw->uplink.ops->fd(&sw->uplink) >= 0) {
		pv[n] = NULL;
		pfd[n++] = (struct pollfd){ .fd = sw->uplink.ops->fd(&sw->uplink),
					    .events = POLLIN };
	}
	if (k->ncold) {
		/* the cold vifs' descriptors: one epoll for all of them */
		cold_ix = (int)n;
		pv[n] = NULL;
		pfd[n++] = (struct pollfd){ .fd = k->epfd, .events = POLLIN };
	}
	atomic_store_explicit(&k->sleeping, true, memory_order_relaxed);
	for (unsigned j = 0; j < k->nvifs; j++) {
		struct sw_vif *v = k->vifs[j];
		int fd = v->cold ? -1 : v->port.ops->fd(&v->port);
		if (fd >= 0) {
			pv[n] = v;
			pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		}
		for (unsigned qi = 0; w != 0 && qi < v->nq; qi++) {
			/* another worker sorts into this queue: its interrupt wakes us */
			unsigned q = (unsigned)v->queue + qi;
			int ifd = vmdq_rxq_irq_fd(sw->dev, q);
			if (ifd >= 0) {
				vmdq_rxq_irq_enable(sw->dev, q);
				irq_ix[nirq] = (int)n;
				irq_q[nirq++] = (int)q;
				pv[n] = NULL;
				pfd[n++] = (struct pollfd){ .fd = ifd, .events = POLLIN };
			}
		}
	}
	atomic_thread_fence(memory_order_seq_cst);
	if (w == 0) {
		/* interrupts held back by moderation are due some time */
		uint64_t due = vmdq_dev_irq_service(sw->dev);
		if (due != UINT64_MAX && (timeout_ms < 0 || due / 1000000 < (uint64_t)timeout_ms))
			timeout_ms = (int)(due / 1000000) + 1;
		if (sw->tx_rate && tx_pending(sw))
			timeout_ms = 1; /* the wire takes more in a moment */
	}
	if (!has_work(sw, w) && !atomic_load(&sw->park_req) && !atomic_load(&sw->stopping) &&
	    poll(pfd, n, timeout_ms) > 0)
		for (nfds_t i = 0; i < n; i++)
			if (pv[i] && (pfd[i].revents & POLLIN))
				pv[i]->wake = true; /* (a warm vif: listed already) */
	if (cold_ix >= 0 && (pfd[cold_ix].revents & POLLIN))
		wake_cold(sw, k);
	atomic_store_explicit(&k->sleeping, false, memory_order_relaxed);
	for (int i = 0; i < nirq; i++)
		vmdq_rxq_irq_disable(sw->dev, (unsigned)irq_q[i]);
	/* eventfds (doorbell, interrupts) are reset; reading a port's
	 * descriptor is its rx call's business */
	uint64_t v;
	if ((pfd[0].revents & POLLIN) && read(pfd[0].fd, &v, sizeof(v)) < 0) {
		/* already reset */
	}
	for (int i = 0; i < nirq; i++)
		if ((pfd[irq_ix[i]].revents & POLLIN) && read(pfd[irq_ix[i]].fd, &v, sizeof(v)) < 0) {
			/* already reset */
		}
}

/* ---- workers ---------------------------------------------------------- */

static int pin(pthread_t t, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(t, sizeof(set), &set);
}

static void *worker_main(void *arg)
{
	struct sw_worker *k = arg;
	struct vmdq_switch *sw = (struct vmdq_switch *)((char *)(k - k->id) -
						       offsetof(struct vmdq_switch, wk));
	vmdq_thread_online();
	while (!atomic_load(&sw->stopping)) {
		if (atomic_load_explicit(&sw->park_req, memory_order_acquire)) {
			pthread_mutex_lock(&sw->park_mu);
			atomic_store(&k->parked, true);
			pthread_cond_broadcast(&sw->park_cv);
			while (atomic_load(&sw->park_req) && !atomic_load(&sw->stopping))
				pthread_cond_wait(&sw->park_cv, &sw->park_mu);
			atomic_store(&k->parked, false);
			pthread_mutex_unlock(&sw->park_mu);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		if (vmdq_switch_idle(sw, k->id, now, vmdq_switch_poll_worker(sw, k->id, now)))
			vmdq_switch_wait(sw, k->id, -1, 100);
	}
	vmdq_thread_offline();
	return NULL;
}

/* Gives worker k its thread, pinned to its CPU. */
static int worker_run(struct sw_worker *k, char *err, size_t errlen)
{
	int rc = -pthread_create(&k->thread, NULL, worker_main, k);
	if (rc == 0) {
		k->running = true;
		if (k->cpu >= 0)
			rc = pin(k->thread, k->cpu);
	}
	if (rc < 0) {
		snprintf(err, errlen, "worker on CPU %d: %s", k->cpu, strerror(-rc));
		return rc;
	}
	fprintf(stderr, "vmdq: worker %d on CPU %d\n", k->id, k->cpu);
	return 0;
}

static int worker_new(struct vmdq_switch *sw, int cpu, char *err, size_t errlen)
{
	if (sw->nworkers >= SW_MAX_WORKERS) {
		snprintf(err, errlen, "CPU %d: the switch has %d workers, its limit", cpu,
			 SW_MAX_WORKERS);
		return -ENOSPC;
	}
	int w = sw->nworkers;
	struct sw_worker *k = &sw->wk[w];
	memset(k, 0, sizeof(*k));
	k->id = w;
	k->cpu = cpu;
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0) {
		snprintf(err, errlen, "worker: %s", strerror(errno));
		return -errno;
	}
	if (vmdq_sw_worker_arrays(sw, w, sw->vif_cap) < 0) {
		close(k->efd);
		snprintf(err, errlen, "worker: out of memory");
		return -ENOMEM;
	}
	sw->nworkers++;
	/* every vif gets an inbox from the new worker */
	for (unsigned j = 0; j < sw->nvifs; j++) {
		struct sw_vif *v = sw->live[j];
		if (!v->inbox[w] && !(v->inbox[w] = vmdq_sw_inbox_new())) {
			snprintf(err, errlen, "worker: out of memory");
			return -ENOMEM;
		}
	}
	if (sw->threaded) {
		int rc = worker_run(k, err, errlen);
		if (rc < 0)
			return rc;
	}
	return w;
}

static int worker_for_cpu(struct vmdq_switch *sw, int cpu, char *err, size_t errlen)
{
	for (int w = 0; w < sw->nworkers; w++)
		if (sw->wk[w].cpu == cpu)
			return w;
	return worker_new(sw, cpu, err, errlen);
}

/* The worker that is to serve queue q. */
int vmdq_sw_worker_of_queue(struct vmdq_switch *sw, unsigned q, char *err, size_t errlen)
{
	struct vmdq_queue_info qi;
	if (vmdq_queue_get_info(sw->dev, q, &qi) < 0 || !qi.cpu_set || (int)qi.cpu == sw->wk[0].cpu)
		return 0;
	return worker_for_cpu(sw, (int)qi.cpu, err, errlen);
}

int vmdq_switch_set_main_cpu(struct vmdq_switch *sw, int cpu)
{
	if (cpu >= 0) {
		int rc = pin(pthread_self(), cpu);
		if (rc < 0)
			return rc;
	}
	sw->wk[0].cpu = cpu;
	return 0;
}

int vmdq_switch_remap(struct vmdq_switch *sw, char *err, size_t errlen)
{
	int rc = 0;
	for (unsigned j = 0; j < sw->nvifs && rc == 0; j++) {
		struct sw_vif *v = sw->live[j];
		int w = vmdq_sw_worker_of_queue(sw, (unsigned)v->queue, err, errlen);
		if (w < 0) {
			rc = w;
		} else if (w != v->worker) {
			/* its old worker now hands frames over like the others */
			if (!v->inbox[v->worker] && !(v->inbox[v->worker] = vmdq_sw_inbox_new())) {
				snprintf(err, errlen, "vif %s: out of memory", v->port.name);
				rc = -ENOMEM;
				break;
			}
			fprintf(stderr, "vmdq: vif %s (queue %d) moves to worker %d\n",
				v->port.name, v->queue, w);
			vmdq_sw_warm(sw, v);
			v->worker = w;
		}
	}
	vmdq_sw_reindex(sw);
	return rc;
}

int vmdq_switch_start(struct vmdq_switch *sw, char *err, size_t errlen)
{
	sw->threaded = true;
	for (int w = 1; w < sw->nworkers; w++) {
		int rc = worker_run(&sw->wk[w], err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void vmdq_switch_park(struct vmdq_switch *sw)
{
	if (!sw->threaded || sw->nworkers < 2)
		return;
	pthread_mutex_lock(&sw->park_mu);
	atomic_store(&sw->park_req, true);
	for (int w = 1; w < sw->nworkers; w++) {
		uint64_t one = 1;
		if (write(sw->wk[w].efd, &one, sizeof(one)) < 0) {
			/* saturated: it wakes anyway */
		}
	}
	for (int w = 1; w < sw->nworkers; w++)
		while (sw->wk[w].running && !atomic_load(&sw->wk[w].parked))
			pthread_cond_wait(&sw->park_cv, &sw->park_mu);
	pthread_mutex_unlock(&sw->park_mu);
}

void vmdq_switch_unpark(struct vmdq_switch *sw)
{
	if (!sw->threaded || sw->nworkers < 2)
		return;
	pthread_mutex_lock(&sw->park_mu);
	atomic_store(&sw->park_req, false);
	pthread_cond_broadcast(&sw->park_cv);
	pthread_mutex_unlock(&sw->park_mu);
}

void vmdq_sw_workers_stop(struct vmdq_switch *sw)
{
	pthread_mutex_lock(&sw->park_mu);
	atomic_store(&sw->stopping, true);
	pthread_cond_broadcast(&sw->park_cv);
	pthread_mutex_unlock(&sw->park_mu);
	for (int w = 1; w < sw->nworkers; w++) {
		if (!sw->wk[w].running)
			continue;
		uint64_t one = 1;
		if (write(sw->wk[w].efd, &one, sizeof(one)) < 0) {
			/* saturated: it wakes anyway */
		}
		pthread_join(sw->wk[w].thread, NULL);
		sw->wk[w].running = false;
	}
}

