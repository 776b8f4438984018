/* SPDX-License-Identifier: MIT */
/* The SIGBUS guard (issue 12 point 2): a guest that truncates its memory
 * file after we mapped it loses its own mapping (zero pages, its owner's
 * flag set), never the process; a SIGBUS anywhere else still kills. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../vhost/guard.h"

#define LEN (16 * 4096)

static uint8_t *map_memfd(int *fdp, size_t len)
{
	int fd = memfd_create("guard-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	memset(m, 0xa5, len);
	*fdp = fd;
	return m;
}

/* truncated under us: loads and stores complete, on zero pages, the
 * owner's flag says so, and only this mapping is replaced */
static void test_truncate_survives(void **state)
{
	(void)state;
	int fd, fd2;
	atomic_uint flag = 0, flag2 = 0;
	uint8_t *m = map_memfd(&fd, LEN), *other = map_memfd(&fd2, LEN);
	unsigned n0 = vmdq_guard_count();
	assert_int_equal(vmdq_guard_add(m, LEN, fd, &flag), 0);
	assert_int_equal(vmdq_guard_add(other, LEN, fd2, &flag2), 0);
	assert_int_equal(vmdq_guard_count(), n0 + 2);
	assert_int_equal(ftruncate(fd, 4096), 0); /* one page left */
	volatile uint8_t *v = m;
	assert_int_equal(v[5 * 4096], 0); /* past the end: faults, then zero */
	assert_int_equal(atomic_load(&flag), 1);
	assert_int_equal(v[0], 0);        /* the whole mapping is zero pages now */
	v[9 * 4096 + 7] = 0x33;           /* a store completes too */
	assert_int_equal(v[9 * 4096 + 7], 0x33);
	assert_int_equal(atomic_load(&flag2), 0);
	assert_int_equal(other[100], 0xa5); /* the neighbour's memory untouched */
	vmdq_guard_del(m);
	vmdq_guard_del(other);
	assert_int_equal(vmdq_guard_count(), n0);
	munmap(m, LEN);
	munmap(other, LEN);
	close(fd);
	close(fd2);
}

/* the device's sorter writes guest memory from another thread */
static void *toucher(void *arg)
{
	volatile uint8_t *v = arg;
	v[12 * 4096] = 1;
	return (void *)(uintptr_t)v[12 * 4096];
}

static void test_other_thread(void **state)
{
	(void)state;
	int fd;
	atomic_uint flag = 0;
	uint8_t *m = map_memfd(&fd, LEN);
	assert_int_equal(vmdq_guard_add(m, LEN, fd, &flag), 0);
	assert_int_equal(ftruncate(fd, 0), 0);
	pthread_t t;
	void *ret;
	assert_int_equal(pthread_create(&t, NULL, toucher, m), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_int_equal((uintptr_t)ret, 1);
	assert_int_equal(atomic_load(&flag), 1);
	vmdq_guard_del(m);
	munmap(m, LEN);
	close(fd);
}

/* a memfd sealed against shrinking cannot fault: said so, guarded anyway */
static void test_sealed(void **state)
{
	(void)state;
	int fd;
	atomic_uint flag = 0;
	uint8_t *m = map_memfd(&fd, LEN);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	assert_int_equal(vmdq_guard_add(m, LEN, fd, &flag), 1);
	assert_int_equal(ftruncate(fd, 0), -1);
	vmdq_guard_del(m);
	munmap(m, LEN);
	close(fd);
}

/* in a child: touch a truncated mapping (guarded or not); its end */
static int child_touch(bool guard, bool del)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;
		atomic_uint flag = 0;
		signal(SIGBUS, SIG_DFL); /* not cmocka's: the process's own default */
		uint8_t *m = map_memfd(&fd, LEN);
		if (guard)
			vmdq_guard_add(m, LEN, fd, &flag);
		if (del)
			vmdq_guard_del(m);
		if (ftruncate(fd, 0) < 0)
			_exit(3);
		volatile uint8_t *v = m;
		v[4096] = 1;
		_exit(atomic_load(&flag) == 1 ? 0 : 2);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_outside_still_kills(void **state)
{
	(void)state;
	int st = child_touch(true, false);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the handler is installed in the child too (inherited from a guarded
	 * parent or by the add before del): a SIGBUS outside guest memory kills */
	st = child_touch(true, true);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
	st = child_touch(false, false);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
	/* kill -BUS is no fault: it kills as before */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		atomic_uint flag = 0;
		signal(SIGBUS, SIG_DFL);
		int fd;
		uint8_t *m = map_memfd(&fd, LEN);
		vmdq_guard_add(m, LEN, fd, &flag);
		raise(SIGBUS);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
}

/* full registry: refused, not overwritten */
static void test_full(void **state)
{
	(void)state;
	static atomic_uint flag;
	unsigned n0 = vmdq_guard_count(), added = 0;
	while (vmdq_guard_add((void *)(uintptr_t)(0x1000 * (added + 1)), 4096, -1, &flag) == 0)
		added++;
	assert_int_equal(added + n0, VMDQ_GUARD_SLOTS);
	assert_int_equal(vmdq_guard_add((void *)0x1000, 4096, -1, &flag), -ENOSPC);
	for (unsigned i = 0; i < added; i++)
		vmdq_guard_del((void *)(uintptr_t)(0x1000 * (i + 1)));
	assert_int_equal(vmdq_guard_count(), n0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncate_survives),
		cmocka_unit_test(test_other_thread),
		cmocka_unit_test(test_sealed),
		cmocka_unit_test(test_outside_still_kills),
		cmocka_unit_test(test_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
