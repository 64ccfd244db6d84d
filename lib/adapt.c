// SPDX-License-Identifier: GPL-2.0
/*
 * The adaptive I/O mode's decision (gmemkit/adapt.h).  Freestanding: also
 * built into the guest image.
 */
#include "gmemkit/adapt.h"

#define ADAPT_EINVAL	22

void adapt_init(struct adapt *a)
{
	unsigned int i;

	for (i = 0; i < ADAPT_CLASSES; i++) {
		struct adapt_class *c = &a->cls[i];

		c->ewma[0] = c->ewma[1] = 0;
		c->samples[0] = c->samples[1] = 0;
		c->chosen[0] = c->chosen[1] = 0;
		c->since_probe = c->probes = c->switches = 0;
		c->best = ADAPT_BOUNCE;
		c->warm = 0;
	}
}

int adapt_class_of(uint64_t bytes)
{
	int i;

	for (i = 0; i < ADAPT_CLASSES; i++)
		if (bytes == ADAPT_MIN_BYTES << i)
			return i;
	return -ADAPT_EINVAL;
}

uint64_t adapt_probe_interval(uint64_t best, uint64_t other)
{
	uint64_t n;

	if (!best)
		return ADAPT_PROBE_MIN;
	if (other > UINT64_MAX / ADAPT_PROBE_FACTOR)
		return ADAPT_PROBE_MAX;
	n = other * ADAPT_PROBE_FACTOR / best;
	if (n < ADAPT_PROBE_MIN)
		return ADAPT_PROBE_MIN;
	return n > ADAPT_PROBE_MAX ? ADAPT_PROBE_MAX : n;
}

int adapt_choose(struct adapt *a, uint64_t bytes, enum adapt_path *out)
{
	int k = adapt_class_of(bytes);
	struct adapt_class *c;
	uint32_t best, other;

	if (k < 0 || !a || !out)
		return -ADAPT_EINVAL;
	c = &a->cls[k];
	if (!c->warm) {
		if (c->samples[0] < ADAPT_WARMUP || c->samples[1] < ADAPT_WARMUP) {
			/* Alternate until both paths are measured. */
			best = c->chosen[1] < c->chosen[0] ? ADAPT_INPLACE : ADAPT_BOUNCE;
			c->chosen[best]++;
			*out = (enum adapt_path)best;
			return 0;
		}
		c->warm = 1;
		c->best = c->ewma[1] < c->ewma[0] ? ADAPT_INPLACE : ADAPT_BOUNCE;
		c->since_probe = 0;
	}
	best = c->ewma[1] < c->ewma[0] ? ADAPT_INPLACE : ADAPT_BOUNCE;
	if (best != c->best) {
		c->best = best;
		c->switches++;
		c->since_probe = 0;
	}
	other = best ^ 1;
	if (c->since_probe >= adapt_probe_interval(c->ewma[best], c->ewma[other])) {
		c->since_probe = 0;
		c->probes++;
		c->chosen[other]++;
		*out = (enum adapt_path)other;
		return 0;
	}
	c->since_probe++;
	c->chosen[best]++;
	*out = (enum adapt_path)best;
	return 0;
}

int adapt_record(struct adapt *a, uint64_t bytes, enum adapt_path p, uint64_t cost)
{
	int k = adapt_class_of(bytes);
	struct adapt_class *c;
	uint64_t e;

	if (k < 0 || !a || (p != ADAPT_BOUNCE && p != ADAPT_INPLACE))
		return -ADAPT_EINVAL;
	c = &a->cls[k];
	e = c->ewma[p];
	if (!c->samples[p] || (c->samples[p] < ADAPT_WARMUP && cost < e)) {
		/* warm-up: the cheapest sample (first touches of a buffer or
		 * of the pool fault pages in once; they are not the path's
		 * steady cost) */
		c->ewma[p] = cost;
	} else if (c->samples[p] >= ADAPT_WARMUP) {
		if (e && e <= UINT64_MAX / 2 && cost > 2 * e)
			cost = 2 * e;
		/* (3e + cost + 2) / 4, without overflow */
		c->ewma[p] = 3 * (e / 4) + cost / 4 + ((e % 4) * 3 + cost % 4 + 2) / 4;
	}
	c->samples[p]++;
	return 0;
}
