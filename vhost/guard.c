/* SPDX-License-Identifier: MIT */
/*
 * The SIGBUS guard over guest mappings: see guard.h.
 *
 * A slot goes FREE -> CLAIMED (vmdq_guard_add fills it) -> LIVE ->
 * DYING (vmdq_guard_del) -> FREE.  The handler takes a reference on a slot
 * (refs + 1) before it looks at its state, and vmdq_guard_del marks the
 * slot DYING before it waits for refs to drop to 0 (both sequentially
 * consistent): either the handler sees DYING and leaves the slot alone, or
 * the deleter sees its reference and waits until the mapping has been
 * replaced.  So the handler never maps over an address range that was
 * unmapped meanwhile (and perhaps reused by someone else).
 */
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

enum { S_FREE, S_CLAIMED, S_LIVE, S_DYING };

struct slot {
	atomic_int state;
	atomic_uint refs;
	uintptr_t start;
	size_t len;
	atomic_uint *faulted;
};

static struct slot slots[VMDQ_GUARD_SLOTS];
static struct sigaction old_bus;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	bool fault = si->si_code > 0; /* from the kernel, not kill() */
	for (unsigned i = 0; fault && i < VMDQ_GUARD_SLOTS; i++) {
		struct slot *s = &slots[i];
		if (atomic_load_explicit(&s->state, memory_order_relaxed) != S_LIVE)
			continue; /* cheap look first: most slots are free */
		atomic_fetch_add(&s->refs, 1);
		bool mine = atomic_load(&s->state) == S_LIVE && a >= s->start &&
			    a - s->start < s->len;
		bool ok = false;
		if (mine) {
			/* the whole mapping becomes zero pages: no more faults from
			 * it, whatever else of the file went */
			void *m = mmap((void *)s->start, s->len, PROT_READ | PROT_WRITE,
				       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				       -1, 0);
			ok = m != MAP_FAILED;
			if (ok)
				atomic_store(s->faulted, 1u);
		}
		atomic_fetch_sub(&s->refs, 1);
		if (ok)
			return; /* the instruction runs again, on zero memory */
		if (mine)
			break;
	}
	/* not a guest mapping's: what would have happened without us */
	if (old_bus.sa_flags & SA_SIGINFO) {
		old_bus.sa_sigaction(sig, si, uc);
		return;
	}
	if (old_bus.sa_handler != SIG_DFL && old_bus.sa_handler != SIG_IGN) {
		old_bus.sa_handler(sig);
		return;
	}
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGBUS, &dfl, NULL);
	raise(SIGBUS); /* pending until we return: then it kills */
}

/* Ours in place, or put there (again: someone may have installed theirs
 * since, a test harness for one; theirs is then the one we pass on to). */
static int install(void)
{
	struct sigaction cur, sa;
	int rc = 0;
	pthread_mutex_lock(&install_lock);
	if (sigaction(SIGBUS, NULL, &cur) < 0) {
		rc = -errno;
	} else if (!(cur.sa_flags & SA_SIGINFO) || cur.sa_sigaction != on_sigbus) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigset_t all, was;
		sigfillset(&all);
		/* no SIGBUS of ours while old_bus changes */
		pthread_sigmask(SIG_BLOCK, &all, &was);
		old_bus = cur;
		if (sigaction(SIGBUS, &sa, NULL) < 0)
			rc = -errno;
		pthread_sigmask(SIG_SETMASK, &was, NULL);
	}
	pthread_mutex_unlock(&install_lock);
	return rc;
}

int vmdq_guard_add(void *addr, size_t len, int fd, atomic_uint *faulted)
{
	int rc = install();
	if (rc < 0)
		return rc;
	if (!addr || !len || !faulted)
		return -EINVAL;
	for (unsigned i = 0; i < VMDQ_GUARD_SLOTS; i++) {
		struct slot *s = &slots[i];
		int expect = S_FREE;
		/* a plain look first: the registry has room for 4096 vifs */
		if (atomic_load_explicit(&s->state, memory_order_relaxed) != S_FREE ||
		    !atomic_compare_exchange_strong(&s->state, &expect, S_CLAIMED))
			continue;
		s->start = (uintptr_t)addr;
		s->len = len;
		s->faulted = faulted;
		atomic_store(&s->state, S_LIVE);
		int seals = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;
		return seals >= 0 && (seals & F_SEAL_SHRINK) ? 1 : 0;
	}
	return -ENOSPC;
}

void vmdq_guard_del(void *addr)
{
	for (unsigned i = 0; i < VMDQ_GUARD_SLOTS; i++) {
		struct slot *s = &slots[i];
		if (atomic_load(&s->state) != S_LIVE || s->start != (uintptr_t)addr)
			continue;
		int expect = S_LIVE;
		if (!atomic_compare_exchange_strong(&s->state, &expect, S_DYING))
			continue;
		while (atomic_load(&s->refs))
			sched_yield(); /* a handler is replacing it: a few µs */
		s->start = 0;
		s->len = 0;
		s->faulted = NULL;
		atomic_store(&s->state, S_FREE);
		return;
	}
}

unsigned vmdq_guard_count(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < VMDQ_GUARD_SLOTS; i++)
		n += atomic_load(&slots[i].state) == S_LIVE;
	return n;
}
