/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the bounce pool tests share (tests/t_bounce*.c): a pool over
 * allocated memory at a device base, a deterministic random source, and a
 * fill pattern.
 */
#ifndef GMEMKIT_TESTS_BOUNCE_UTIL_H
#define GMEMKIT_TESTS_BOUNCE_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/bounce.h"
#include "tap.h"

#define KiB		1024ull
#define MiB		(1024ull * KiB)
#define DBASE		0x100000000ull	/* device (guest physical) base */

struct tpool {
	struct bounce_pool p;
	void *meta;
	size_t meta_size;
	uint8_t *mem;
	uint64_t size;
	unsigned int nareas;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static inline uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static inline void fill(void *p, size_t n, uint64_t seed)
{
	uint8_t *b = p;
	size_t i;

	seed |= 1;
	for (i = 0; i + 8 <= n; i += 8) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		memcpy(b + i, &seed, 8);
	}
	for (; i < n; i++)
		b[i] = (uint8_t)(seed >> (i % 8));
}

static inline void tpool_init(struct tpool *t, uint64_t size, unsigned int nareas)
{
	int ret;

	t->size = size;
	t->nareas = nareas;
	t->meta_size = bounce_meta_size(size, nareas);
	if (!t->meta_size)
		tap_bail("bounce_meta_size refused a valid pool");
	t->meta = aligned_alloc(64, t->meta_size);
	t->mem = aligned_alloc(4096, size);
	if (!t->meta || !t->mem)
		tap_bail("out of memory");
	memset(t->mem, 0xee, size);
	ret = bounce_pool_init(&t->p, t->meta, t->meta_size, t->mem, DBASE,
			       size, nareas);
	if (ret)
		tap_bail("bounce_pool_init failed");
}

static inline void tpool_free(struct tpool *t)
{
	free(t->meta);
	free(t->mem);
}

static inline struct bounce_stats stats(struct tpool *t)
{
	struct bounce_stats st;

	if (bounce_get_stats(&t->p, &st))
		tap_bail("bounce_get_stats failed");
	return st;
}

static inline uint8_t *pool_at(struct tpool *t, uint64_t addr)
{
	return t->mem + (addr - DBASE);
}

#endif /* GMEMKIT_TESTS_BOUNCE_UTIL_H */
