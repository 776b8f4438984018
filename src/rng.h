/* SPDX-License-Identifier: MIT */
/* xorshift64*: a small, fast, reproducible generator for benchmarks. */
#ifndef VMDQ_RNG_H
#define VMDQ_RNG_H
#include <stdint.h>

static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n) (Lemire's multiply-shift; bias < 2^-32 for our n). */
static inline uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((rng_next(s) >> 32) * (uint64_t)n) >> 32);
}
#endif
