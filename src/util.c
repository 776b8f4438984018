/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void warnx_(const char *fmt, ...)
{
	va_list ap;
	fputs("vmdq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int parse_rate(const char *s, uint64_t *bps)
{
	char *end;
	errno = 0;
	if (!s || !*s || *s < '0' || *s > '9')
		return -EINVAL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	uint64_t mul = 1;
	if (strcmp(end, "g") == 0 || strcmp(end, "G") == 0)
		mul = 1000000000ull;
	else if (strcmp(end, "m") == 0 || strcmp(end, "M") == 0)
		mul = 1000000ull;
	else if (strcmp(end, "k") == 0 || strcmp(end, "K") == 0)
		mul = 1000ull;
	else if (*end)
		return -EINVAL;
	if (v == 0 || v > UINT64_MAX / mul || v * mul > 10000000000000ull)
		return -EINVAL; /* 0 < rate <= 10 Tbit/s */
	*bps = v * mul;
	return 0;
}

uint64_t mono_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void progress_init(struct progress *p, const char *what)
{
	p->on = isatty(STDERR_FILENO);
	p->last_ns = mono_now_ns();
	p->what = what;
}

void progress_update(struct progress *p, uint64_t done, double fraction)
{
	if (!p->on)
		return;
	uint64_t now = mono_now_ns();
	if (now - p->last_ns < 250000000ull)
		return;
	p->last_ns = now;
	if (fraction >= 0)
		fprintf(stderr, "\r%s: %llu frames (%.0f%%)  ", p->what,
			(unsigned long long)done, fraction * 100);
	else
		fprintf(stderr, "\r%s: %llu frames  ", p->what, (unsigned long long)done);
}

void progress_done(struct progress *p)
{
	if (p->on)
		fputs("\r\033[K", stderr);
}
