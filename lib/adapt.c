// SPDX-License-Identifier: GPL-2.0
/*
 * The adaptive I/O mode's decision (gmemkit/adapt.h).  Freestanding: also
 * built into the guest image.
 */
#include <stdbool.h>

#include "gmemkit/adapt.h"

#define ADAPT_EINVAL	22

#define ALL_PATHS	((1U << ADAPT_PATHS) - 1)
#define CONVERTING	(1U << ADAPT_INPLACE | 1U << ADAPT_BATCH)
#define COPYING		(1U << ADAPT_BOUNCE | 1U << ADAPT_PERSIST)

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
		for (p = 0; p < ADAPT_PATHS; p++)
			c->rate[p] = 0;
		c->extra = c->choices = c->check_at = c->checks = 0;
		c->check_every = ADAPT_RATE_EVERY;
		c->phase_done = c->phase_t0 = c->phase_n0 = c->phase_from = 0;
		c->phase_len = 0;
		c->phase = c->phase_conv = c->phase_copy = c->phase_second = ADAPT_PATHS;
		c->last_pick = ADAPT_PATHS;
		c->same_picks = 0;
		c->check_copy = 0;
	}
	a->depth = 1;
	return 0;
}

int adapt_set_depth(struct adapt *a, unsigned int depth)
{
	if (!a || !depth || depth > ADAPT_MAX_DEPTH)
		return -ADAPT_EINVAL;
	a->depth = depth;
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

static bool converts(uint32_t p)
{
	return CONVERTING >> p & 1;
}

/* Path p's cost: its vCPU cost, and for a converting path the device
 * extra the last rate check measured (adapt.h). */
static uint64_t cost_of(const struct adapt_class *c, uint32_t p)
{
	uint64_t x = converts(p) ? c->extra : 0;

	return c->ewma[p] > UINT64_MAX - x ? UINT64_MAX : c->ewma[p] + x;
}

/* The allowed path of among (a mask) of lowest cost (raw: vCPU cost
 * alone); measured: among those measured.  ADAPT_PATHS if none. */
static uint32_t cheapest_in(const struct adapt *a, const struct adapt_class *c,
			    uint32_t among, bool measured, bool raw)
{
	uint32_t p, best = ADAPT_PATHS;
	uint64_t cost, low = 0;

	for (p = 0; p < ADAPT_PATHS; p++) {
		if (!(among >> p & 1) || !allowed(a, p) || (measured && !c->samples[p]))
			continue;
		cost = raw ? c->ewma[p] : cost_of(c, p);
		/* on a tie batched: a batch of one is in place's very calls,
		 * a larger one shares them */
		if (best == ADAPT_PATHS || cost < low || (cost == low && p == ADAPT_BATCH)) {
			best = p;
			low = cost;
		}
	}
	return best;
}

/* The allowed path of lowest cost; measured: among those measured (the
 * first allowed if none is). */
static uint32_t cheapest(const struct adapt *a, const struct adapt_class *c, bool measured)
{
	uint32_t best = cheapest_in(a, c, ALL_PATHS, measured, false);

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
 * Does cold path p have as many samples outstanding (chosen, not yet
 * recorded) as it may?  One at a time until a sample puts it within
 * ADAPT_CLEAR times the cheapest, then the rest of its warm-up at once
 * (with requests in flight, one at a time would take a pipeline's worth
 * of requests per sample).
 */
static bool outstanding(const struct adapt_class *c, uint32_t p, uint64_t low)
{
	uint64_t out = c->chosen[p] > c->samples[p] ? c->chosen[p] - c->samples[p] : 0;
	uint64_t may = 1;

	if (c->samples[p] && c->ewma[p] / ADAPT_CLEAR <= low)
		may = ADAPT_WARMUP - c->samples[p];
	return out >= may;
}

/*
 * Among the paths that need warm-up samples and may take another
 * (outstanding()), the one chosen fewest times; -1 if every path is warm,
 * -2 if the cold ones all wait for a sample.
 */
static int cold_path(const struct adapt *a, const struct adapt_class *c)
{
	uint64_t low = lowest(a, c);
	int p, pick = -1, waiting = 0;

	for (p = 0; p < ADAPT_PATHS; p++) {
		if (!allowed(a, (uint32_t)p) || !cold(c, (uint32_t)p, low))
			continue;
		if (outstanding(c, (uint32_t)p, low) || waits(a, c, (uint32_t)p, low)) {
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

/* While cold paths wait for their samples: the cheapest copying path
 * measured (a converting path's device side is not known before a rate
 * check); before any, persistent where allowed (its copy is a bounce's
 * without the pool's map and unmap); else the cheapest measured. */
static uint32_t meanwhile(const struct adapt *a, const struct adapt_class *c)
{
	uint32_t p = cheapest_in(a, c, COPYING, true, true);

	if (p < ADAPT_PATHS)
		return p;
	if (allowed(a, ADAPT_PERSIST))
		return ADAPT_PERSIST;
	return cheapest(a, c, true);
}

static enum adapt_path pick(struct adapt_class *c, uint32_t p)
{
	c->chosen[p]++;
	c->choices++;
	c->same_picks = p == c->last_pick ? c->same_picks + 1 : 1;
	c->last_pick = p;
	return (enum adapt_path)p;
}

/*
 * Is a rate check due (adapt.h)?  Once warm, where both kinds of path are
 * allowed and measured, a converting path's vCPU cost is within
 * ADAPT_CLEAR times the cheapest copying path's, and the interval since
 * the last check has passed.  If so, *conv and *copy are its two paths.
 */
static bool rate_due(const struct adapt *a, const struct adapt_class *c, uint32_t *conv,
		     uint32_t *copy)
{
	uint32_t v = cheapest_in(a, c, CONVERTING, true, true);

	*copy = cheapest_in(a, c, COPYING, true, true);
	if (v == ADAPT_PATHS || *copy == ADAPT_PATHS)
		return false;
	if (c->choices < c->check_at)
		return false;
	*conv = v;	/* batched on a tie: its real batches then measured */
	return c->ewma[v] / ADAPT_CLEAR <= c->ewma[*copy];
}

/*
 * Choices until the next rate check: check_every, or more where the
 * losing side's phase costs more than 1/ADAPT_PROBE_FACTOR of the time
 * between checks (its requests in flight and window, at its time per
 * I/O over the winner's), as re-probes do; at most ADAPT_RATE_MAX_EVERY.
 */
static uint64_t check_interval(const struct adapt *a, const struct adapt_class *c,
			       uint32_t conv, uint32_t copy)
{
	uint64_t lo = c->rate[conv] < c->rate[copy] ? c->rate[conv] : c->rate[copy];
	uint64_t hi = c->rate[conv] < c->rate[copy] ? c->rate[copy] : c->rate[conv];
	uint64_t n = c->check_every, len = a->depth + ADAPT_RATE_WINDOW;

	if (lo && hi / lo >= ADAPT_RATE_MAX_EVERY / ADAPT_PROBE_FACTOR / len)
		n = ADAPT_RATE_MAX_EVERY;
	else if (lo && hi <= UINT64_MAX / ADAPT_PROBE_FACTOR / len &&
		 len * ADAPT_PROBE_FACTOR * hi / lo > n)
		n = len * ADAPT_PROBE_FACTOR * hi / lo;
	return n > ADAPT_RATE_MAX_EVERY ? ADAPT_RATE_MAX_EVERY : n;
}

/*
 * A rate check's two phases are done: the converting paths' device extra
 * from their times per I/O (adapt.h), and the path chosen from then on.
 */
static void settle(const struct adapt *a, struct adapt_class *c)
{
	uint32_t conv = c->phase_conv, copy = c->phase_copy, was = c->best;
	uint32_t v = cheapest_in(a, c, CONVERTING, true, true);
	bool copy_wins = c->rate[conv] > c->rate[copy];

	c->extra = 0;
	if (copy_wins) {
		c->extra = c->rate[conv] - c->rate[copy];
		if (v < ADAPT_PATHS && c->ewma[copy] > c->ewma[v])
			c->extra += c->ewma[copy] - c->ewma[v];
	}
	c->phase = ADAPT_PATHS;
	c->checks++;
	if (c->checks > 1 && copy_wins == c->check_copy)
		c->check_every = c->check_every * 2 > ADAPT_RATE_MAX_EVERY ?
				 ADAPT_RATE_MAX_EVERY : c->check_every * 2;
	else
		c->check_every = ADAPT_RATE_EVERY;
	c->check_copy = copy_wins;
	c->check_at = c->choices + check_interval(a, c, conv, copy);
	c->best = cheapest(a, c, false);
	c->switches += c->best != was;
	c->since_probe = 0;
	c->confirm = ADAPT_PATHS;
}

/* A phase of path p begins: its window waits for the depth requests in
 * flight from before, unless those were all on p already (the last depth
 * choices). */
static void start_phase(const struct adapt *a, struct adapt_class *c, uint32_t p)
{
	c->phase = p;
	c->phase_done = c->phase_t0 = c->phase_n0 = 0;
	c->phase_len = a->depth + 2 * ADAPT_RATE_WINDOW;
	if (c->last_pick == p && c->same_picks >= a->depth) {
		c->phase_done = a->depth - 1;
		c->phase_len = 2 * ADAPT_RATE_WINDOW;
	}
	c->phase_from = c->choices;
}

/* A phase that has made far more choices than it needs completions has
 * no completions coming (a caller that reports none): given up, the next
 * check after the usual interval. */
static bool phase_stuck(const struct adapt *a, struct adapt_class *c)
{
	if (c->choices - c->phase_from <= 2 * (uint64_t)a->depth + 4 * ADAPT_RATE_WINDOW)
		return false;
	c->phase = ADAPT_PATHS;
	c->check_at = c->choices + c->check_every;
	return true;
}

int adapt_completed(struct adapt *a, uint64_t bytes, unsigned int n, uint64_t now)
{
	int k = adapt_class_of(bytes);
	struct adapt_class *c;

	if (k < 0 || !a || !n)
		return -ADAPT_EINVAL;
	c = &a->cls[k];
	if (c->phase >= ADAPT_PATHS)
		return 0;
	c->phase_done += n;
	if (!c->phase_n0) {
		/* the window opens once the requests from before are out;
		 * this scan's completions came before now, not in it */
		if (c->phase_done >= a->depth) {
			c->phase_t0 = now;
			c->phase_n0 = c->phase_done;
		}
		return 0;
	}
	if (c->phase_done < c->phase_n0 + ADAPT_RATE_WINDOW || now <= c->phase_t0)
		return 0;
	c->rate[c->phase] = (now - c->phase_t0) / (c->phase_done - c->phase_n0);
	if (c->phase_second < ADAPT_PATHS) {
		uint32_t p = c->phase_second;

		c->phase_second = ADAPT_PATHS;
		start_phase(a, c, p);
	} else {
		settle(a, c);
	}
	return 0;
}

/*
 * Path q's estimate is below the chosen path's: does a fresh sample of q
 * agree (adapt.h)?  1: yes, switch; 0: not yet (none asked, or it is
 * still in flight: stay); -1: ask one now (*out is the probe).  A sample
 * that disagrees replaces q's stale estimate.
 */
static int confirmed(struct adapt_class *c, uint32_t q, enum adapt_path *out)
{
	uint64_t x = converts(q) ? c->extra : 0, bc = cost_of(c, c->best), cap;

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
	if (c->last[q] <= UINT64_MAX - x && c->last[q] + x < bc)
		return 1;
	cap = bc <= UINT64_MAX / 2 ? 2 * bc : UINT64_MAX;
	c->ewma[q] = c->last[q] < cap ? c->last[q] : cap;
	return 0;
}

int adapt_choose(struct adapt *a, uint64_t bytes, enum adapt_path *out)
{
	int k = adapt_class_of(bytes), cold;
	struct adapt_class *c;
	uint32_t best, other, conv, copy;

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
			*out = pick(c, meanwhile(a, c));
			return 0;
		}
		c->warm = 1;
		c->best = cheapest(a, c, false);
		c->since_probe = 0;
	}
	if (c->phase < ADAPT_PATHS && !phase_stuck(a, c)) {	/* a rate check's phase */
		/* enough of the phase's requests to fill its window, however
		 * bunched its completions (FIFO: later ones complete after
		 * it); meanwhile the copying path (its device side is the
		 * same on every path that does not convert) */
		*out = pick(c, c->choices - c->phase_from < c->phase_len ? c->phase :
			       c->phase_copy);
		return 0;
	}
	if (rate_due(a, c, &conv, &copy)) {
		/* the path the stream is on first: no requests from
		 * before to wait for */
		bool on_copy = c->last_pick == copy;

		c->phase_conv = conv;
		c->phase_copy = copy;
		c->phase_second = on_copy ? conv : copy;
		start_phase(a, c, on_copy ? copy : conv);
		c->confirm = ADAPT_PATHS;
		*out = pick(c, c->phase);
		return 0;
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
	    c->since_probe >= adapt_probe_interval(cost_of(c, best), cost_of(c, other))) {
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
