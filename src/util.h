/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the vmdq subcommands. */
#ifndef VMDQ_UTIL_H
#define VMDQ_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 2

void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses 1g/10g/25g/100g or a number of bits per second. */
int parse_rate(const char *s, uint64_t *bps);
uint64_t mono_now_ns(void);
/* Raises the open-file limit to its hard maximum (many queue files). */
void raise_nofile(void);

/* Progress on a terminal: at most four updates a second, on stderr. */
struct progress {
	bool on;
	uint64_t last_ns;
	const char *what;
};
void progress_init(struct progress *p, const char *what);
void progress_update(struct progress *p, uint64_t done, double fraction);
void progress_done(struct progress *p);

#endif
