// SPDX-License-Identifier: GPL-2.0
/*
 * The adaptive I/O mode's decision (gmemkit/adapt.h).  Freestanding: also
 * built into the guest image.
 */
#include <stdbool.h>

#include "gmemkit/adapt.h"

#define ADAPT_EINVAL	22

#define ALL_PATHS	((1U << ADAPT_PATHS) - 1)

static bool allowed(const struct adapt *a, uint32_t p)
{
	return a->mask >> p & 1;
}

int adapt_init_mask(struct adapt *a, uint32_t mask)
{
	unsigned int i, p;

	if (!a || !mask || (mask & ~ALL_PATHS))
		return -ADAPT_EINVAL;
	a->mask = mask;
	for (i = 0; i < ADAPT_CLASSES; i++) {
		struct adapt_class *c = &a->cls[i];

		for (p = 0; p < ADAPT_PATHS; p++)
			c->ewma[p] = c->samples[p] = c->chosen[p] = c->last[p] = 0;
		c->since_probe = c->probes = c->switches = c->confirm_at = 0;
		c->best = (uint32_t)__builtin_ctz(mask);
		c->warm = 0;
		c->next_probe = 0;
		c->confirm = ADAPT_PATHS;
	}
	return 0;
}

int adapt_init_paths(struct adapt *a, unsigned int npaths)
{
	if (npaths < 2 || npaths > ADAPT_PATHS)
		return -ADAPT_EINVAL;
	return adapt_init_mask(a, (1U << npaths) - 1);
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

/* The allowed path of lowest cost; measured: among those measured (the
 * first allowed if none is). */
static uint32_t cheapest(const struct adapt *a, const struct adapt_class *c, bool measured)
{
	uint32_t p, best = ADAPT_PATHS;

	for (p = 0; p < ADAPT_PATHS; p++) {
		if (!allowed(a, p) || (measured && !c->samples[p]))
			continue;
		/* on a tie batched: a batch of one is in place's very calls,
		 * a larger one shares them */
		if (best == ADAPT_PATHS || c->ewma[p] < c->ewma[best] ||
		    (c->ewma[p] == c->ewma[best] && p == ADAPT_BATCH))
			best = p;
	}
	return best < ADAPT_PATHS ? best : (uint32_t)__builtin_ctz(a->mask);
}

/* The cheapest cost measured so far, or 0 if none. */
static uint64_t lowest(const struct adapt *a, const struct adapt_class *c)
{
	uint32_t p = cheapest(a, c, true);

	return c->samples[p] ? c->ewma[p] : 0;
}

/* Does path p still need warm-up samples?  Not once it has ADAPT_WARMUP,
 * nor once its cheapest sample is over ADAPT_FAR times the cheapest
 * path's (each sample of it costs the run that much), nor once its
 * cheapest of ADAPT_CLEAR_SAMPLES is over ADAPT_CLEAR times it (more
 * samples would not make it the cheapest; each costs the run, and the
 * device's side of an in-place one is not in the vCPU's cost). */
static bool cold(const struct adapt_class *c, uint32_t p, uint64_t low)
{
	if (c->samples[p] >= ADAPT_WARMUP)
		return false;
	if (c->samples[p] >= ADAPT_CLEAR_SAMPLES && c->ewma[p] / ADAPT_CLEAR > low)
		return false;
	return !c->samples[p] || c->ewma[p] / ADAPT_FAR <= low;
}

static bool converts(uint32_t p)
{
	return p == ADAPT_INPLACE || p == ADAPT_BATCH;
}

/*
 * Does cold path p wait for another's sample first?  A converting path
 * waits until a copying one (if one is allowed) has been measured:
 * adapt_budget() then bounds its sample.  The batched path waits while
 * in place warms up: in place's samples serve as its own (adapt_record()).
 */
static bool waits(const struct adapt *a, const struct adapt_class *c, uint32_t p,
		  uint64_t low)
{
	if (p == ADAPT_BATCH && allowed(a, ADAPT_INPLACE) && cold(c, ADAPT_INPLACE, low))
		return true;
	return converts(p) && !low &&
	       (allowed(a, ADAPT_BOUNCE) || allowed(a, ADAPT_PERSIST));
}

/*
 * Among the paths that need warm-up samples and have none outstanding (a
 * choice not yet recorded: with requests in flight, a path is sampled one
 * request at a time), the one chosen fewest times; -1 if every path is
 * warm, -2 if the cold ones all wait for a sample.
 */
static int cold_path(const struct adapt *a, const struct adapt_class *c)
{
	uint64_t low = lowest(a, c);
	int p, pick = -1, waiting = 0;

	for (p = 0; p < ADAPT_PATHS; p++) {
		if (!allowed(a, (uint32_t)p) || !cold(c, (uint32_t)p, low))
			continue;
		if (c->chosen[p] > c->samples[p] || waits(a, c, (uint32_t)p, low)) {
			waiting = 1;
			continue;
		}
		if (pick < 0 || c->chosen[p] < c->chosen[pick])
			pick = p;
	}
	return pick < 0 && waiting ? -2 : pick;
}

/* The path the next probe takes: the next allowed one after the last
 * probed, not best; best if it is the only one. */
static uint32_t probe_path(const struct adapt *a, const struct adapt_class *c, uint32_t best)
{
	uint32_t i, p;

	for (i = 0; i < ADAPT_PATHS; i++) {
		p = (c->next_probe + i) % ADAPT_PATHS;
		if (allowed(a, p) && p != best)
			return p;
	}
	return best;
}

static enum adapt_path pick(struct adapt_class *c, uint32_t p)
{
	c->chosen[p]++;
	return (enum adapt_path)p;
}

/*
 * Path q's estimate is below the chosen path's: does a fresh sample of q
 * agree (adapt.h)?  1: yes, switch; 0: not yet (none asked, or it is
 * still in flight: stay); -1: ask one now (*out is the probe).  A sample
 * that disagrees replaces q's stale estimate.
 */
static int confirmed(struct adapt_class *c, uint32_t q, enum adapt_path *out)
{
	uint64_t cap;

	if (c->confirm != q) {
		if (c->since_probe < ADAPT_PROBE_MIN)
			return 0;
		c->confirm = q;
		c->confirm_at = c->samples[q];
		c->since_probe = 0;
		c->probes++;
		*out = pick(c, q);
		return -1;
	}
	if (c->samples[q] <= c->confirm_at)
		return 0;
	c->confirm = ADAPT_PATHS;
	if (c->last[q] < c->ewma[c->best])
		return 1;
	cap = c->ewma[c->best] <= UINT64_MAX / 2 ? 2 * c->ewma[c->best] : UINT64_MAX;
	c->ewma[q] = c->last[q] < cap ? c->last[q] : cap;
	return 0;
}

int adapt_choose(struct adapt *a, uint64_t bytes, enum adapt_path *out)
{
	int k = adapt_class_of(bytes), cold;
	struct adapt_class *c;
	uint32_t best, other;

	if (k < 0 || !a || !out || !a->mask || (a->mask & ~ALL_PATHS))
		return -ADAPT_EINVAL;
	c = &a->cls[k];
	if (!c->warm) {
		cold = cold_path(a, c);
		if (cold >= 0) {	/* take turns until every path is measured */
			*out = pick(c, (uint32_t)cold);
			return 0;
		}
		if (cold == -2) {	/* meanwhile the cheapest so far */
			*out = pick(c, cheapest(a, c, true));
			return 0;
		}
		c->warm = 1;
		c->best = cheapest(a, c, false);
		c->since_probe = 0;
	}
	best = cheapest(a, c, false);
	if (best != c->best) {
		int st = confirmed(c, best, out);

		if (st < 0)
			return 0;
		if (st) {
			c->best = best;
			c->switches++;
			c->since_probe = 0;
		} else {
			best = c->best;
		}
	} else {
		c->confirm = ADAPT_PATHS;
	}
	other = probe_path(a, c, best);
	if (other != best &&
	    c->since_probe >= adapt_probe_interval(c->ewma[best], c->ewma[other])) {
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

uint64_t adapt_budget(const struct adapt *a, uint64_t bytes)
{
	int k = adapt_class_of(bytes);
	uint64_t low;

	if (k < 0 || !a || !a->mask || (a->mask & ~ALL_PATHS))
		return 0;
	low = lowest(a, &a->cls[k]);
	return low > UINT64_MAX / ADAPT_FAR ? 0 : low * ADAPT_FAR;
}

static void sample(struct adapt_class *c, uint32_t p, uint64_t cost)
{
	uint64_t e = c->ewma[p];

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
}

int adapt_record(struct adapt *a, uint64_t bytes, enum adapt_path p, uint64_t cost)
{
	int k = adapt_class_of(bytes);
	struct adapt_class *c;

	if (k < 0 || !a || (unsigned int)p >= ADAPT_PATHS || !allowed(a, p))
		return -ADAPT_EINVAL;
	c = &a->cls[k];
	sample(c, p, cost);
	c->last[p] = cost;
	/* A warm-up sample of the batched path is a batch of one request:
	 * the very calls of in place.  An in-place sample serves as one. */
	if (p == ADAPT_INPLACE && allowed(a, ADAPT_BATCH) && c->samples[ADAPT_BATCH] < ADAPT_WARMUP) {
		sample(c, ADAPT_BATCH, cost);
		c->last[ADAPT_BATCH] = cost;
	}
	return 0;
}
