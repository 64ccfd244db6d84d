// SPDX-License-Identifier: GPL-2.0
/*
 * The adaptive I/O mode's decision (gmemkit/adapt.h).  Freestanding: also
 * built into the guest image.
 */
#include "gmemkit/adapt.h"

#define ADAPT_EINVAL	22

int adapt_init_paths(struct adapt *a, unsigned int npaths)
{
	unsigned int i, p;

	if (!a || npaths < 2 || npaths > ADAPT_PATHS)
		return -ADAPT_EINVAL;
	a->npaths = npaths;
	for (i = 0; i < ADAPT_CLASSES; i++) {
		struct adapt_class *c = &a->cls[i];

		for (p = 0; p < ADAPT_PATHS; p++)
			c->ewma[p] = c->samples[p] = c->chosen[p] = 0;
		c->since_probe = c->probes = c->switches = 0;
		c->best = ADAPT_BOUNCE;
		c->warm = 0;
		c->next_probe = 0;
	}
	return 0;
}

void adapt_init(struct adapt *a)
{
	adapt_init_paths(a, 2);
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

/* The path chosen fewest times among those not yet warmed up, or -1. */
static int cold_path(const struct adapt *a, const struct adapt_class *c)
{
	int p, pick = -1;

	for (p = 0; p < (int)a->npaths; p++)
		if (c->samples[p] < ADAPT_WARMUP &&
		    (pick < 0 || c->chosen[p] < c->chosen[pick]))
			pick = p;
	return pick;
}

static uint32_t cheapest(const struct adapt *a, const struct adapt_class *c)
{
	uint32_t p, best = 0;

	for (p = 1; p < a->npaths; p++)
		if (c->ewma[p] < c->ewma[best])
			best = p;
	return best;
}

static enum adapt_path pick(struct adapt_class *c, uint32_t p)
{
	c->chosen[p]++;
	return (enum adapt_path)p;
}

int adapt_choose(struct adapt *a, uint64_t bytes, enum adapt_path *out)
{
	int k = adapt_class_of(bytes), cold;
	struct adapt_class *c;
	uint32_t best, other;

	if (k < 0 || !a || !out || a->npaths < 2 || a->npaths > ADAPT_PATHS)
		return -ADAPT_EINVAL;
	c = &a->cls[k];
	if (!c->warm) {
		cold = cold_path(a, c);
		if (cold >= 0) {	/* take turns until every path is measured */
			*out = pick(c, (uint32_t)cold);
			return 0;
		}
		c->warm = 1;
		c->best = cheapest(a, c);
		c->since_probe = 0;
	}
	best = cheapest(a, c);
	if (best != c->best) {
		c->best = best;
		c->switches++;
		c->since_probe = 0;
	}
	other = c->next_probe % a->npaths;
	if (other == best)
		other = (other + 1) % a->npaths;
	if (c->since_probe >= adapt_probe_interval(c->ewma[best], c->ewma[other])) {
		c->since_probe = 0;
		c->probes++;
		c->next_probe = other + 1;
		*out = pick(c, other);
		return 0;
	}
	c->since_probe++;
	*out = pick(c, best);
	return 0;
}

int adapt_record(struct adapt *a, uint64_t bytes, enum adapt_path p, uint64_t cost)
{
	int k = adapt_class_of(bytes);
	struct adapt_class *c;
	uint64_t e;

	if (k < 0 || !a || (unsigned int)p >= a->npaths)
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
