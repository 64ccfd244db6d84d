// SPDX-License-Identifier: GPL-2.0
/*
 * The adaptive mode's decision (gmemkit/adapt.h) on synthetic costs: it
 * warms up on both paths, then picks the cheaper measured one, re-probes
 * the other at the rate its interval promises, follows a change of which
 * path is cheaper (and not a noisy stretch of the chosen one), keeps size
 * classes apart, and refuses bad input without changing anything.
 */
#include <errno.h>
#include <string.h>

#include "gmemkit/adapt.h"
#include "tap.h"

struct sim {
	uint64_t cost[ADAPT_PATHS];	/* true cost per path */
	uint64_t taken[ADAPT_PATHS];	/* choices per path */
	uint64_t rng;
	uint64_t now;			/* completions' clock */
};

/* n requests of bytes, completing at once, each costing its path's cost
 * +-jitter percent (deterministic pseudo-random). */
static void drive(struct adapt *a, struct sim *s, uint64_t bytes, unsigned int n,
		  unsigned int jitter)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		enum adapt_path p;
		uint64_t c;

		if (adapt_choose(a, bytes, &p))
			return;
		s->taken[p]++;
		s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
		c = s->cost[p];
		if (jitter)
			c = c * (100 - jitter + (s->rng >> 33) % (2 * jitter + 1)) / 100;
		adapt_record(a, bytes, p, c);
		s->now += c;	/* one at a time: the clock is the cost */
		adapt_completed(a, bytes, 1, s->now);
	}
}

/* qd requests in flight: choices run ahead of the measurements. */
static void drive_qd(struct adapt *a, struct sim *s, uint64_t bytes, unsigned int n,
		     unsigned int qd)
{
	enum adapt_path inflight[64];
	unsigned int i, k = 0;

	for (i = 0; i < n; i++) {
		if (k == qd) {
			while (k) {
				k--;
				adapt_record(a, bytes, inflight[k], s->cost[inflight[k]]);
				s->now += s->cost[inflight[k]];
				adapt_completed(a, bytes, 1, s->now);
			}
		}
		adapt_choose(a, bytes, &inflight[k]);
		s->taken[inflight[k]]++;
		k++;
	}
	while (k) {
		k--;
		adapt_record(a, bytes, inflight[k], s->cost[inflight[k]]);
	}
}

/*
 * A pipeline of qd requests, the vCPU and the device working side by
 * side: a request's path costs the vCPU cost[] (what adapt_record() is
 * told) and the device dev[] (never told), and the slower of the two
 * sets the pace, so the completions' clock advances by the larger for
 * each request completed (FIFO).  The vCPU finds them group at a time
 * (one scan, adapt_completed() once, at the last one's time), as a vCPU
 * busy copying does.  Returns the clock's advance.
 */
static uint64_t drive_scans(struct adapt *a, struct sim *s, const uint64_t *dev,
			    uint64_t bytes, unsigned int n, unsigned int qd,
			    unsigned int group)
{
	enum adapt_path ring[64];
	unsigned int i, head = 0, k = 0, found = 0;
	uint64_t t0 = s->now;

	for (i = 0; i < n + qd; i++) {
		if (k == qd || i >= n) {	/* the oldest completes */
			enum adapt_path p = ring[head];

			adapt_record(a, bytes, p, s->cost[p]);
			s->now += s->cost[p] > dev[p] ? s->cost[p] : dev[p];
			if (++found == group || i + 1 == n + qd) {
				adapt_completed(a, bytes, found, s->now);
				found = 0;
			}
			head = (head + 1) % qd;
			k--;
		}
		if (i < n) {
			adapt_choose(a, bytes, &ring[(head + k) % qd]);
			s->taken[ring[(head + k) % qd]]++;
			k++;
		}
	}
	return s->now - t0;
}

static uint64_t drive_pipe(struct adapt *a, struct sim *s, const uint64_t *dev,
			   uint64_t bytes, unsigned int n, unsigned int qd)
{
	return drive_scans(a, s, dev, bytes, n, qd, 1);
}

/* The clock's advance for n requests all on path p. */
static uint64_t pipe_time(const struct sim *s, const uint64_t *dev, enum adapt_path p,
			  unsigned int n)
{
	return (uint64_t)n * (s->cost[p] > dev[p] ? s->cost[p] : dev[p]);
}

/* A fresh adaptive state of all four paths at depth 32, and a fresh
 * simulation with these vCPU costs. */
static void fresh_qd32(struct adapt *a, struct sim *s, uint64_t bounce, uint64_t inplace,
		       uint64_t persist, uint64_t batch)
{
	adapt_init_mask(a, (1U << ADAPT_PATHS) - 1);
	adapt_set_depth(a, 32);
	memset(s, 0, sizeof(*s));
	s->cost[ADAPT_BOUNCE] = bounce;
	s->cost[ADAPT_INPLACE] = inplace;
	s->cost[ADAPT_PERSIST] = persist;
	s->cost[ADAPT_BATCH] = batch;
}

int main(void)
{
	struct adapt a, b;
	struct sim s;
	enum adapt_path p;
	const struct adapt_class *c;
	int k;

	tap_plan(57);

	/* 1. the cheaper measured path wins: bounce 1 us, in place 20 us (over
	 * ADAPT_FAR times bounce: sampled once in the warm-up) */
	adapt_init(&a);
	memset(&s, 0, sizeof(s));
	s.cost[ADAPT_BOUNCE] = 1000;
	s.cost[ADAPT_INPLACE] = 20000;
	drive(&a, &s, 65536, 2 * ADAPT_WARMUP, 0);
	ok(s.taken[0] == 2 * ADAPT_WARMUP - 1 && s.taken[1] == 1,
	   "warm-up: in place, 20x bounce's cost, sampled once: %llu bounced, %llu in place",
	   (unsigned long long)s.taken[0], (unsigned long long)s.taken[1]);
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 65536, 100000, 10);
	c = &a.cls[adapt_class_of(65536)];
	ok(s.taken[ADAPT_BOUNCE] > 99000, "bounce (1 us) chosen %llu of 100000 times against "
	   "in place (20 us)", (unsigned long long)s.taken[ADAPT_BOUNCE]);
	ok(s.taken[ADAPT_INPLACE] > 0 && s.taken[ADAPT_INPLACE] == c->probes,
	   "in place still re-probed: %llu times, all probes",
	   (unsigned long long)s.taken[ADAPT_INPLACE]);
	/* probing costs about 1/ADAPT_PROBE_FACTOR of the time: 20 us every
	 * 1000 choices of 1 us */
	ok(s.taken[ADAPT_INPLACE] * s.cost[ADAPT_INPLACE] <=
	   3 * s.taken[ADAPT_BOUNCE] * s.cost[ADAPT_BOUNCE] / ADAPT_PROBE_FACTOR,
	   "probe time %llu ns <= 3/%d of the chosen path's %llu ns",
	   (unsigned long long)(s.taken[ADAPT_INPLACE] * s.cost[ADAPT_INPLACE]),
	   ADAPT_PROBE_FACTOR,
	   (unsigned long long)(s.taken[ADAPT_BOUNCE] * s.cost[ADAPT_BOUNCE]));
	ok(c->ewma[ADAPT_BOUNCE] >= 900 && c->ewma[ADAPT_BOUNCE] <= 1100 &&
	   c->ewma[ADAPT_INPLACE] >= 18000 && c->ewma[ADAPT_INPLACE] <= 22000,
	   "smoothed costs track the input: bounce %llu, in place %llu",
	   (unsigned long long)c->ewma[0], (unsigned long long)c->ewma[1]);
	ok_eq(c->switches, 0, "no switch while bounce stays cheaper");

	/* 2. it follows a change: in place gets cheaper than bounce */
	s.cost[ADAPT_INPLACE] = 300;
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 65536, 20000, 10);
	ok(c->switches >= 1 && c->best == ADAPT_INPLACE,
	   "switched to in place after it got cheaper (%llu switches)",
	   (unsigned long long)c->switches);
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 65536, 10000, 10);
	ok(s.taken[ADAPT_INPLACE] > 9500, "then in place chosen %llu of 10000 times",
	   (unsigned long long)s.taken[ADAPT_INPLACE]);
	ok(s.taken[ADAPT_BOUNCE] > 0, "and bounce re-probed %llu times",
	   (unsigned long long)s.taken[ADAPT_BOUNCE]);

	/* 3. the other way round, from scratch, with requests in flight */
	adapt_init(&a);
	adapt_set_depth(&a, 32);
	memset(&s, 0, sizeof(s));
	s.cost[ADAPT_BOUNCE] = 80000;		/* 1 MiB copied in and out */
	s.cost[ADAPT_INPLACE] = 50000;
	drive_qd(&a, &s, 1 << 20, 20000, 32);
	ok(s.taken[ADAPT_INPLACE] > 19000, "qd 32: in place (50 us) chosen %llu of 20000 "
	   "against bounce (80 us)", (unsigned long long)s.taken[ADAPT_INPLACE]);
	ok(s.taken[ADAPT_BOUNCE] > ADAPT_WARMUP, "qd 32: bounce re-probed (%llu)",
	   (unsigned long long)s.taken[ADAPT_BOUNCE]);

	/* 4. a first sample inflated by first touches (up to ADAPT_FAR times
	 * the other path's cost) does not decide */
	adapt_init(&a);
	memset(&s, 0, sizeof(s));
	adapt_choose(&a, 4096, &p);
	adapt_record(&a, 4096, p, 300000);	/* the pool faulted in */
	s.cost[ADAPT_BOUNCE] = 700;
	s.cost[ADAPT_INPLACE] = 40000;
	s.taken[p]++;
	drive(&a, &s, 4096, 2000, 5);
	c = &a.cls[0];
	ok(c->best == ADAPT_BOUNCE && s.taken[ADAPT_BOUNCE] > 1900,
	   "a 300 us first sample: bounce still chosen %llu of 2000",
	   (unsigned long long)s.taken[ADAPT_BOUNCE]);

	/* 5. one outlier is clipped */
	adapt_init(&a);
	memset(&s, 0, sizeof(s));
	s.cost[0] = 1000;
	s.cost[1] = 1500;
	drive(&a, &s, 8192, 200, 0);
	adapt_record(&a, 8192, ADAPT_BOUNCE, 1000000);
	c = &a.cls[1];
	ok(c->ewma[ADAPT_BOUNCE] <= 1250 && c->best == ADAPT_BOUNCE,
	   "a 1 ms outlier moves bounce's cost to %llu only",
	   (unsigned long long)c->ewma[ADAPT_BOUNCE]);
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 8192, 100, 0);
	ok(c->best == ADAPT_BOUNCE, "and bounce is chosen again right after");

	/* 6. size classes are independent */
	adapt_init(&a);
	memset(&s, 0, sizeof(s));
	s.cost[0] = 1000;
	s.cost[1] = 9000;
	drive(&a, &s, 4096, 1000, 0);
	s.cost[0] = 90000;
	s.cost[1] = 30000;
	drive(&a, &s, 1 << 20, 1000, 0);
	ok(a.cls[0].best == ADAPT_BOUNCE && a.cls[8].best == ADAPT_INPLACE,
	   "4 KiB bounces, 1 MiB converts, in the same state");
	ok(a.cls[4].chosen[0] == 0 && a.cls[4].chosen[1] == 0, "64 KiB untouched");

	/* 7. the probe interval */
	ok_eq(adapt_probe_interval(1000, 20000), 20 * ADAPT_PROBE_FACTOR,
	      "interval %d x 20 us / 1 us", ADAPT_PROBE_FACTOR);
	ok_eq(adapt_probe_interval(1000, 1000), ADAPT_PROBE_FACTOR,
	      "equal costs: every %d choices", ADAPT_PROBE_FACTOR);
	ok_eq(adapt_probe_interval(1000, 10), ADAPT_PROBE_MIN, "never below the minimum");
	ok_eq(adapt_probe_interval(1, 1000000), ADAPT_PROBE_MAX, "huge ratio: the maximum");
	ok_eq(adapt_probe_interval(0, 5), ADAPT_PROBE_MIN, "no cost measured: the minimum");

	/* 8. bad input: -EINVAL, nothing changes */
	adapt_init(&a);
	drive(&a, &s, 4096, 50, 0);
	memcpy(&b, &a, sizeof(a));
	k = 0;
	k += adapt_choose(&a, 3000, &p) == -EINVAL;
	k += adapt_choose(&a, 2 << 20, &p) == -EINVAL;
	k += adapt_choose(&a, 2048, &p) == -EINVAL;
	k += adapt_choose(NULL, 4096, &p) == -EINVAL;
	k += adapt_choose(&a, 4096, NULL) == -EINVAL;
	k += adapt_record(&a, 12288, ADAPT_BOUNCE, 5) == -EINVAL;
	k += adapt_record(&a, 4096, (enum adapt_path)2, 5) == -EINVAL;
	k += adapt_record(NULL, 4096, ADAPT_BOUNCE, 5) == -EINVAL;
	ok_eq(k, 8, "8 bad calls refused with -EINVAL");
	ok(!memcmp(&a, &b, sizeof(a)), "and the state is unchanged");
	ok(adapt_class_of(4096) == 0 && adapt_class_of(1 << 20) == 8 &&
	   adapt_class_of(0) == -EINVAL, "size classes 4 KiB = 0 .. 1 MiB = 8");

	/* 9. three paths: bounce, in place, persistent */
	ok(adapt_init_paths(&a, 1) == -EINVAL && adapt_init_paths(&a, 5) == -EINVAL &&
	   adapt_init_paths(NULL, 3) == -EINVAL, "adapt_init_paths: 2 to 4 paths");
	adapt_init_paths(&a, 3);
	memset(&s, 0, sizeof(s));
	s.cost[ADAPT_BOUNCE] = 3000;
	s.cost[ADAPT_INPLACE] = 9000;
	s.cost[ADAPT_PERSIST] = 2000;
	drive(&a, &s, 16384, 3 * ADAPT_WARMUP, 0);
	ok(s.taken[0] == ADAPT_WARMUP && s.taken[1] == ADAPT_CLEAR_SAMPLES &&
	   s.taken[2] >= ADAPT_WARMUP,
	   "3 paths: bounce (1.5x) and persistent warmed up with %u requests, in place "
	   "(4.5x, over ADAPT_CLEAR) with %u", ADAPT_WARMUP, ADAPT_CLEAR_SAMPLES);
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 16384, 4000, 5);
	ok(s.taken[ADAPT_PERSIST] > 3900 && s.taken[ADAPT_BOUNCE] && s.taken[ADAPT_INPLACE],
	   "3 paths: the cheapest (persistent) chosen %llu of 4000, the other two re-probed "
	   "in turn (%llu, %llu)", (unsigned long long)s.taken[2],
	   (unsigned long long)s.taken[0], (unsigned long long)s.taken[1]);
	s.cost[ADAPT_INPLACE] = 500;	/* in place got cheaper: found by a probe */
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 16384, 4000, 5);
	ok(s.taken[ADAPT_INPLACE] > 2000 && a.cls[adapt_class_of(16384)].best == ADAPT_INPLACE,
	   "3 paths: a cheaper in place is found and taken (%llu of 4000)",
	   (unsigned long long)s.taken[1]);
	ok(adapt_record(&a, 4096, ADAPT_BATCH, 5) == -EINVAL,
	   "3 paths: a fourth path is refused");

	/* 10. four paths at 64 KiB: in place cheaper than copying, batches
	 * cheaper still once they form (the simulation charges a batched
	 * request 8000 whatever its batch: the ratio real batches reach).
	 * The batched path takes no warm-up sample of its own (in place's
	 * count for it) and wins the tie, so its batches form. */
	adapt_init_paths(&a, ADAPT_PATHS);
	memset(&s, 0, sizeof(s));
	s.cost[ADAPT_BOUNCE] = 30000;
	s.cost[ADAPT_INPLACE] = 15000;
	s.cost[ADAPT_PERSIST] = 20000;
	s.cost[ADAPT_BATCH] = 8000;
	drive(&a, &s, 65536, 3 * ADAPT_WARMUP, 0);
	c = &a.cls[adapt_class_of(65536)];
	ok(s.taken[0] == ADAPT_WARMUP && s.taken[1] == ADAPT_WARMUP &&
	   s.taken[2] == ADAPT_WARMUP && !s.taken[3] && c->samples[ADAPT_BATCH] == ADAPT_WARMUP &&
	   c->ewma[ADAPT_BATCH] == c->ewma[ADAPT_INPLACE],
	   "4 paths: three warmed up with %u requests, batched by in place's", ADAPT_WARMUP);
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 65536, 4000, 5);
	ok(s.taken[ADAPT_BATCH] > 3900 && s.taken[ADAPT_BOUNCE] && s.taken[ADAPT_INPLACE] &&
	   s.taken[ADAPT_PERSIST],
	   "4 paths: batched chosen %llu of 4000, the other three re-probed in turn "
	   "(%llu, %llu, %llu)", (unsigned long long)s.taken[3],
	   (unsigned long long)s.taken[0], (unsigned long long)s.taken[1],
	   (unsigned long long)s.taken[2]);
	s.cost[ADAPT_BATCH] = 60000;	/* batches got dear: in place again */
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 65536, 4000, 5);
	ok(s.taken[ADAPT_INPLACE] > 3000 && c->best == ADAPT_INPLACE,
	   "4 paths: a dearer batch loses to in place (%llu of 4000)",
	   (unsigned long long)s.taken[1]);
	ok(adapt_record(&a, 4096, (enum adapt_path)ADAPT_PATHS, 5) == -EINVAL,
	   "4 paths: a fifth path is refused");

	/* 11. qd 32, both conversion paths 150x persistent (1 MiB on cca):
	 * nothing converts before a copying path is measured (bounce sampled
	 * once, the pass's other choices persistent: its copy is a bounce's
	 * without the pool's work), then in place is sampled
	 * once, which serves the batched path too; persistent from then on */
	adapt_init_paths(&a, ADAPT_PATHS);
	memset(&s, 0, sizeof(s));
	s.cost[ADAPT_BOUNCE] = 320000;
	s.cost[ADAPT_INPLACE] = 26000000;
	s.cost[ADAPT_PERSIST] = 165000;
	s.cost[ADAPT_BATCH] = 31000000;
	drive_qd(&a, &s, 1 << 20, 32, 32);
	ok(s.taken[ADAPT_BOUNCE] == 1 && s.taken[ADAPT_PERSIST] == 31 &&
	   !s.taken[ADAPT_INPLACE] && !s.taken[ADAPT_BATCH],
	   "qd 32, first pass: bounce %llu, persistent %llu, no conversion",
	   (unsigned long long)s.taken[ADAPT_BOUNCE], (unsigned long long)s.taken[ADAPT_PERSIST]);
	adapt_init_paths(&b, ADAPT_PATHS);
	ok(adapt_budget(&b, 1 << 20) == 0, "budget 0 while nothing is recorded");
	drive_qd(&a, &s, 1 << 20, 968, 32);
	ok(s.taken[ADAPT_INPLACE] == 1 && !s.taken[ADAPT_BATCH] && s.taken[ADAPT_PERSIST] > 900,
	   "qd 32, conversions 150x: in place %llu and batched %llu sample(s) in 1000, "
	   "persistent %llu", (unsigned long long)s.taken[ADAPT_INPLACE],
	   (unsigned long long)s.taken[ADAPT_BATCH], (unsigned long long)s.taken[ADAPT_PERSIST]);
	ok(a.cls[8].warm && a.cls[8].best == ADAPT_PERSIST,
	   "and the class is warm, persistent best");
	ok_eq(adapt_budget(&a, 1 << 20), (uint64_t)ADAPT_FAR * a.cls[8].ewma[ADAPT_PERSIST],
	      "budget: ADAPT_FAR times the cheapest measured");
	ok(adapt_budget(&a, 3000) == 0 && adapt_budget(NULL, 4096) == 0,
	   "budget: 0 for a bad size or NULL");

	/* 12. a subset of the paths (adapt_init_mask) */
	ok(adapt_init_mask(&a, 0) == -EINVAL && adapt_init_mask(&a, 1U << ADAPT_PATHS) == -EINVAL &&
	   adapt_init_mask(NULL, 1) == -EINVAL, "adapt_init_mask: empty or unknown refused");
	adapt_init_mask(&a, 1U << ADAPT_BATCH);
	memset(&s, 0, sizeof(s));
	s.cost[ADAPT_BATCH] = 5000;
	drive_qd(&a, &s, 16384, 500, 32);
	ok(s.taken[ADAPT_BATCH] == 500 && adapt_record(&a, 16384, ADAPT_BOUNCE, 1) == -EINVAL,
	   "batched alone: chosen %llu of 500, bounce refused",
	   (unsigned long long)s.taken[ADAPT_BATCH]);
	adapt_init_mask(&a, 1U << ADAPT_INPLACE | 1U << ADAPT_BATCH);
	memset(&s, 0, sizeof(s));
	s.cost[ADAPT_INPLACE] = 9000;
	s.cost[ADAPT_BATCH] = 3000;
	drive_qd(&a, &s, 16384, 4000, 32);
	ok(s.taken[ADAPT_BATCH] > 3800 && s.taken[ADAPT_INPLACE] >= ADAPT_WARMUP &&
	   !s.taken[ADAPT_BOUNCE] && !s.taken[ADAPT_PERSIST],
	   "in place and batched: batched %llu, in place %llu, the others never",
	   (unsigned long long)s.taken[ADAPT_BATCH], (unsigned long long)s.taken[ADAPT_INPLACE]);

	/* 13. a noisy stretch raises the chosen path's cost (persistent, 6 us,
	 * to 60 us) above the other's stale estimate (bounce's 20 us from the
	 * warm-up); a fresh sample of bounce, dearer still in that stretch
	 * (90 us), keeps the run where it is; a real rise still moves it */
	adapt_init_mask(&a, 1U << ADAPT_BOUNCE | 1U << ADAPT_PERSIST);
	memset(&s, 0, sizeof(s));
	s.cost[ADAPT_BOUNCE] = 20000;
	s.cost[ADAPT_PERSIST] = 6000;
	drive(&a, &s, 65536, 2000, 5);
	c = &a.cls[adapt_class_of(65536)];
	s.cost[ADAPT_BOUNCE] = 90000;
	s.cost[ADAPT_PERSIST] = 60000;
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 65536, 40, 0);
	ok(c->switches == 0 && s.taken[ADAPT_BOUNCE] <= 3 && c->ewma[ADAPT_BOUNCE] > 30000,
	   "noisy stretch: no switch (%llu), bounce sampled %llu time(s), its estimate now %llu",
	   (unsigned long long)c->switches, (unsigned long long)s.taken[ADAPT_BOUNCE],
	   (unsigned long long)c->ewma[ADAPT_BOUNCE]);
	s.cost[ADAPT_BOUNCE] = 20000;
	s.cost[ADAPT_PERSIST] = 6000;
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 65536, 2000, 5);
	ok(c->switches == 0 && s.taken[ADAPT_PERSIST] > 1950,
	   "after it: persistent chosen %llu of 2000, no switch",
	   (unsigned long long)s.taken[ADAPT_PERSIST]);
	s.cost[ADAPT_PERSIST] = 50000;	/* persistent really got dearer */
	memset(s.taken, 0, sizeof(s.taken));
	drive(&a, &s, 65536, 2000, 5);
	ok(c->switches == 1 && c->best == ADAPT_BOUNCE && s.taken[ADAPT_BOUNCE] > 1900,
	   "a real rise: switched once to bounce, chosen %llu of 2000",
	   (unsigned long long)s.taken[ADAPT_BOUNCE]);

	/* 14. the device's side (rate checks): 1 MiB on the ram backend at qd
	 * 32, as measured on profile K: batched in place is the cheapest for
	 * the vCPU (2 calls, 60 us) but hands the device 256 fresh pages to
	 * fault in (740 us a request), persistent copies 300 us on the vCPU
	 * and the device 400 us.  The pipeline runs at the device's pace:
	 * persistent is the fastest, and adaptive must find that out. */
	{
		uint64_t dev[ADAPT_PATHS], t, best;

		fresh_qd32(&a, &s, 330000, 90000, 300000, 60000);
		ok(a.depth == 32 && adapt_set_depth(&a, 32) == 0, "depth 32 set");
		dev[ADAPT_BOUNCE] = dev[ADAPT_PERSIST] = 400000;
		dev[ADAPT_INPLACE] = 850000;
		dev[ADAPT_BATCH] = 740000;
		t = drive_pipe(&a, &s, dev, 1 << 20, 700, 32);
		c = &a.cls[8];
		best = pipe_time(&s, dev, ADAPT_PERSIST, 700);
		ok(c->checks >= 1 && c->best == ADAPT_PERSIST && c->extra > 0,
		   "device-bound: %llu rate check(s), persistent chosen, converting paths' "
		   "device extra %llu", (unsigned long long)c->checks,
		   (unsigned long long)c->extra);
		ok(t * 9 <= best * 10, "device-bound, 700 requests (a 0.5 s run): %llu against "
		   "%llu all persistent (%.2fx, >= 0.9x; bounce %llu, in place %llu, "
		   "persistent %llu, batched %llu)", (unsigned long long)t,
		   (unsigned long long)best, (double)best / (double)t,
		   (unsigned long long)s.taken[0], (unsigned long long)s.taken[1],
		   (unsigned long long)s.taken[2], (unsigned long long)s.taken[3]);
		memset(s.taken, 0, sizeof(s.taken));
		t = drive_pipe(&a, &s, dev, 1 << 20, 20000, 32);
		ok(s.taken[ADAPT_PERSIST] > 19000 && t * 20 <= pipe_time(&s, dev, ADAPT_PERSIST, 20000) * 21,
		   "then persistent %llu of 20000, within 5%% of all persistent "
		   "(%llu checks)", (unsigned long long)s.taken[ADAPT_PERSIST],
		   (unsigned long long)c->checks);
		ok(c->rate[ADAPT_BATCH] >= 700000 && c->rate[ADAPT_BATCH] <= 780000 &&
		   c->rate[ADAPT_PERSIST] >= 380000 && c->rate[ADAPT_PERSIST] <= 420000,
		   "measured time per I/O: batched %llu, persistent %llu",
		   (unsigned long long)c->rate[ADAPT_BATCH],
		   (unsigned long long)c->rate[ADAPT_PERSIST]);

		/* the same found 12 at a time (a vCPU busy with 1 MiB copies
		 * scans seldom): the window still times whole scans */
		adapt_init_mask(&b, (1U << ADAPT_PATHS) - 1);
		adapt_set_depth(&b, 32);
		memset(s.taken, 0, sizeof(s.taken));
		t = drive_scans(&b, &s, dev, 1 << 20, 700, 32, 12);
		ok(b.cls[8].checks >= 1 && b.cls[8].best == ADAPT_PERSIST &&
		   b.cls[8].rate[ADAPT_BATCH] >= 700000 && b.cls[8].rate[ADAPT_BATCH] <= 780000 &&
		   b.cls[8].rate[ADAPT_PERSIST] >= 380000 && b.cls[8].rate[ADAPT_PERSIST] <= 420000 &&
		   t * 9 <= best * 10,
		   "completions found 12 at a time: batched %llu, persistent %llu per I/O, "
		   "persistent chosen, %.2fx all persistent",
		   (unsigned long long)b.cls[8].rate[ADAPT_BATCH],
		   (unsigned long long)b.cls[8].rate[ADAPT_PERSIST], (double)best / (double)t);

		/* the device gets faster at faults: the next check sees it */
		dev[ADAPT_BATCH] = 100000;
		dev[ADAPT_INPLACE] = 120000;
		memset(s.taken, 0, sizeof(s.taken));
		drive_pipe(&a, &s, dev, 1 << 20, 140000, 32);
		ok(c->best == ADAPT_BATCH && c->extra == 0 && s.taken[ADAPT_BATCH] > 70000,
		   "faults got cheap: batched chosen again (%llu of 140000), extra %llu",
		   (unsigned long long)s.taken[ADAPT_BATCH], (unsigned long long)c->extra);

		/* the null backend: the device never touches the data, the
		 * vCPU sets the pace: batched, measured as real batches */
		fresh_qd32(&a, &s, 330000, 90000, 300000, 60000);
		dev[ADAPT_BOUNCE] = dev[ADAPT_PERSIST] = dev[ADAPT_INPLACE] = dev[ADAPT_BATCH] = 5000;
		t = drive_pipe(&a, &s, dev, 1 << 20, 8000, 32);
		ok(c->checks >= 1 && c->best == ADAPT_BATCH && c->extra == 0 &&
		   t * 9 <= pipe_time(&s, dev, ADAPT_BATCH, 8000) * 10,
		   "vCPU-bound, 8000 requests (a 0.5 s run): batched kept after %llu check(s), "
		   "%.2fx all batched", (unsigned long long)c->checks,
		   (double)pipe_time(&s, dev, ADAPT_BATCH, 8000) / (double)t);

		/* conversions far dearer than copying (pkvm at 1 MiB): no check */
		fresh_qd32(&a, &s, 330000, 3600000, 300000, 3600000);
		dev[ADAPT_INPLACE] = dev[ADAPT_BATCH] = 800000;
		drive_pipe(&a, &s, dev, 1 << 20, 2000, 32);
		ok(c->checks == 0 && c->best == ADAPT_PERSIST,
		   "conversions 12x persistent: no rate check, persistent");
	}

	/* 15. bad input to the rate check's calls: -EINVAL, nothing changes */
	memcpy(&b, &a, sizeof(a));
	k = 0;
	k += adapt_set_depth(&a, 0) == -EINVAL;
	k += adapt_set_depth(&a, ADAPT_MAX_DEPTH + 1) == -EINVAL;
	k += adapt_set_depth(NULL, 4) == -EINVAL;
	k += adapt_completed(&a, 3000, 1, 5) == -EINVAL;
	k += adapt_completed(NULL, 4096, 1, 5) == -EINVAL;
	k += adapt_completed(&a, 4096, 0, 5) == -EINVAL;
	ok_eq(k, 6, "6 bad calls refused with -EINVAL");
	ok(!memcmp(&a, &b, sizeof(a)), "and the state is unchanged");

	/* 16. a caller that reports no completions: a phase is given up */
	adapt_init_mask(&a, (1U << ADAPT_PATHS) - 1);
	memset(&s, 0, sizeof(s));
	s.cost[ADAPT_BOUNCE] = 30000;
	s.cost[ADAPT_INPLACE] = 15000;
	s.cost[ADAPT_PERSIST] = 20000;
	s.cost[ADAPT_BATCH] = 15000;
	for (k = 0; k < 3000; k++) {
		adapt_choose(&a, 65536, &p);
		adapt_record(&a, 65536, p, s.cost[p]);
	}
	c = &a.cls[adapt_class_of(65536)];
	ok(c->phase == ADAPT_PATHS && c->checks == 0 && c->check_at > c->choices,
	   "no completions: no phase left running, none counted as a check");
	return tap_done();
}
