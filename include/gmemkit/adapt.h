/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The adaptive I/O mode's decision: bounce, convert in place, convert in
 * place batched (with the other requests of the same submission or reap
 * pass that took that path, in one call) or copy through a persistent
 * (shared once) buffer, per request size, from the per-I/O cost of each
 * path measured while the I/O runs.
 * Freestanding (integers only, no libc): built into the host library and
 * into the guest image, and tested on the host on synthetic costs
 * (tests/t_adapt.c).
 *
 * Costs are in any unit the caller keeps to (the guest uses TSC ticks): the
 * time one request spent on its protection, i.e. copy in + copy out and
 * the pool's map/unmap for a bounce, share + unshare (exits and host work)
 * in place, its equal part of the batch's share and unshare batched.  Per
 * size class (4 KiB..1 MiB, powers of 2):
 *  - warm-up: until each path has ADAPT_WARMUP measured requests, the
 *    paths take turns (the one chosen fewest times goes next) and a path's
 *    cost is its cheapest sample (first touches fault pages in once); a
 *    path is sampled one request at a time until a sample puts it within
 *    ADAPT_CLEAR times the cheapest, then the rest of its warm-up at once
 *    (with requests in flight, the others meanwhile take the cheapest
 *    copying path measured so far, a converting path's device side being
 *    unknown, persistent before any where allowed, else the cheapest
 *    measured), and a path whose cheapest sample is over ADAPT_FAR times
 *    the cheapest path's needs no more samples (on pkvm or cca a 1 MiB
 *    conversion costs 20-30 ms: eight of them would be a short run's
 *    whole time), and one whose cheapest of ADAPT_CLEAR_SAMPLES samples is
 *    over ADAPT_CLEAR times the cheapest path's needs no more either (the
 *    rest of its warm-up would not make it the cheapest, and the device's
 *    side of an in-place request, its faults on the freshly shared pages,
 *    is not in the vCPU's cost); the converting paths (in place, batched) are sampled
 *    only once a copying path (bounce, persistent) has been measured, and
 *    where a sample's conversion takes more than one call the guest first
 *    tries a part (shares and unshares it), estimates the whole from it and,
 *    over adapt_budget(), records that estimate and bounces the request:
 *    on pkvm a 1 MiB sample then costs about 3 ms, not 23.  A conversion
 *    made in one call (ideal, tdx up to 2 MiB, cca up to its step) has no
 *    part to try;
 *  - the batched path takes no warm-up sample of its own while in place
 *    is allowed: a warm-up sample of it would be a batch of one request,
 *    the very calls of in place, so in place's samples count for both
 *    and, on a tie, batched is chosen (its batches can only share calls);
 *  - then the path with the lower smoothed cost (EWMA, weight 1/4 per
 *    sample, a sample clipped at 2x the average so one preempted request
 *    does not swing it; a real rise still shows within a few requests) is chosen;
 *  - a switch to another path needs a fresh sample of it first: the
 *    estimate of a path not chosen is stale (its cheapest warm-up sample,
 *    probes long ago) while the chosen path's follows every request, so a
 *    noisy stretch that raises the chosen path's cost would otherwise move
 *    the run to a path no cheaper.  The path that became the cheaper is
 *    probed at once (at most one such probe per ADAPT_PROBE_MIN choices),
 *    and the run switches only if that sample is below the chosen path's
 *    cost; if not, the sample (at most twice the chosen path's cost)
 *    replaces its stale estimate;
 *  - and another path (in turn) is re-probed with one request every
 *    adapt_probe_interval() choices, so that a path that got cheaper is
 *    noticed: the interval grows with the cost ratio, so probing costs
 *    about 1/ADAPT_PROBE_FACTOR of the run's protection time at most
 *    (between ADAPT_PROBE_MIN and ADAPT_PROBE_MAX choices);
 *  - the device's side: a converting path hands the device freshly
 *    shared pages, which it faults in or maps on its own thread, and
 *    none of that is in the vCPU's cost above (a copying path's buffers
 *    stay shared, so bounce and persistent cost the device the same, and
 *    in place and batched the same).  Where a converting path's vCPU
 *    cost is within ADAPT_CLEAR times the cheapest copying path's (it
 *    could win), a rate check runs both on the whole stream in turn: a
 *    phase of the cheaper converting path (batched on a tie, as after
 *    warm-up: real batches, not the batch of one of warm-up) and one of
 *    the cheaper copying path, the one the stream is on first, each
 *    until depth requests have completed (the requests in flight from
 *    before, unless the last depth choices were on the phase's path
 *    already) and then ADAPT_RATE_WINDOW more (the phase's choices: those
 *    depth and twice the window, then the copying path, so that a
 *    bunch of completions found by one scan still falls on the phase's
 *    requests; a phase is given up if
 *    far more choices than that pass without them), whose completion
 *    times give the time per I/O of the whole pipeline on that path (vCPU and
 *    device, whichever bounds it; adapt_completed(), scan by scan).  Where the
 *    converting path's time per I/O is the longer, the difference (plus
 *    the vCPU costs' own difference) becomes the converting paths'
 *    device extra, added to their cost in every comparison above, so
 *    that they win only where the whole pipeline runs faster on them.
 *    The check is repeated after ADAPT_RATE_EVERY choices, the interval
 *    doubling (to ADAPT_RATE_MAX_EVERY) while its answer stays the same,
 *    and longer where the loser's phase would cost more than
 *    1/ADAPT_PROBE_FACTOR of the time between checks.
 *    With requests of both directions in one stream a phase holds only
 *    its direction's requests, and the check measures the mix.
 */
#ifndef GMEMKIT_ADAPT_H
#define GMEMKIT_ADAPT_H

#include <stdint.h>

#define ADAPT_CLASSES		9	/* 4 KiB .. 1 MiB */
#define ADAPT_MIN_BYTES		4096ULL
#define ADAPT_WARMUP		8
#define ADAPT_FAR		8	/* see warm-up above */
#define ADAPT_CLEAR		2	/* see warm-up above */
#define ADAPT_CLEAR_SAMPLES	2
#define ADAPT_PROBE_FACTOR	200
#define ADAPT_PROBE_MIN		16
#define ADAPT_PROBE_MAX		16384
#define ADAPT_RATE_WINDOW	8	/* completions timed per phase */
#define ADAPT_RATE_EVERY	4096	/* choices between rate checks ... */
#define ADAPT_RATE_MAX_EVERY	65536	/* ... doubling up to this */
#define ADAPT_MAX_DEPTH		1024

enum adapt_path {
	ADAPT_BOUNCE = 0,
	ADAPT_INPLACE = 1,
	ADAPT_PERSIST = 2,		/* copy through a buffer shared once */
	ADAPT_BATCH = 3,		/* in place, one call for the pass's
					 * requests on this path */
	ADAPT_PATHS
};

struct adapt_class {
	uint64_t ewma[ADAPT_PATHS];	/* smoothed cost per request, per path */
	uint64_t samples[ADAPT_PATHS];	/* measured requests, per path */
	uint64_t chosen[ADAPT_PATHS];	/* choices, per path */
	uint64_t since_probe;		/* choices of the best path since the
					 * last probe of another */
	uint64_t probes;		/* re-probes of the paths not chosen */
	uint64_t switches;		/* changes of the cheapest path */
	uint32_t best;			/* enum adapt_path, once warmed up */
	uint32_t warm;			/* 1 once every path is warmed up */
	uint32_t next_probe;		/* the path the next probe takes */
	uint32_t confirm;		/* the path a switch waits on a fresh
					 * sample of (ADAPT_PATHS: none) */
	uint64_t confirm_at;		/* its samples when that was asked */
	uint64_t last[ADAPT_PATHS];	/* each path's last sample, unclipped */
	/* the rate check (device's side, above) */
	uint64_t extra;			/* converting paths' device extra */
	uint64_t rate[ADAPT_PATHS];	/* time per I/O of its last phase */
	uint64_t choices;		/* every choice of the class */
	uint64_t check_at;		/* choices when the next check is due */
	uint64_t check_every;		/* choices between checks */
	uint64_t checks;		/* rate checks done */
	uint64_t phase_done;		/* completions since the phase began */
	uint64_t phase_t0;		/* its window's start ... */
	uint64_t phase_n0;		/* ... and completions then */
	uint64_t phase_from;		/* choices when the phase began */
	uint64_t phase_len;		/* choices it makes on its path */
	uint32_t phase;			/* the phase's path (ADAPT_PATHS: none) */
	uint32_t phase_conv, phase_copy; /* the check's two paths ... */
	uint32_t phase_second;		/* ... the one still to run */
	uint32_t last_pick;		/* the last choice ... */
	uint64_t same_picks;		/* ... and how many in a row */
	uint32_t check_copy;		/* 1: the last check found copying
					 * faster */
};

struct adapt {
	struct adapt_class cls[ADAPT_CLASSES];
	uint32_t mask;			/* a bit per path chosen from */
	uint32_t depth;			/* requests in flight at most (1) */
};

/* Two paths, bounce and in place (adapt_init_paths() for more). */
void adapt_init(struct adapt *a);
/* Paths 0..npaths-1 (2 to ADAPT_PATHS: 3 adds persistent buffers, 4
 * batched in place); 0, or -22. */
int adapt_init_paths(struct adapt *a, unsigned int npaths);
/* The paths of mask (1 << enum adapt_path each; one path alone is chosen
 * always); 0, or -22 for an empty mask or an unknown path. */
int adapt_init_mask(struct adapt *a, uint32_t mask);

/* At most depth (1..ADAPT_MAX_DEPTH) requests are in flight at once (a
 * rate phase lets that many complete before it times any); 0, or -22. */
int adapt_set_depth(struct adapt *a, unsigned int depth);

/* Size class of a request of bytes (a power of 2 in [4 KiB, 1 MiB]), or
 * -22 (-EINVAL) for any other size. */
int adapt_class_of(uint64_t bytes);

/* The path for the next request of bytes: 0 and *out, or -22 (-EINVAL)
 * for a bad size or NULL pointer (nothing changes then). */
int adapt_choose(struct adapt *a, uint64_t bytes, enum adapt_path *out);

/* A request of bytes done on path p cost cost: 0, or -22 (-EINVAL) for a
 * bad size, path or NULL pointer (nothing changes then). */
int adapt_record(struct adapt *a, uint64_t bytes, enum adapt_path p, uint64_t cost);

/*
 * A scan for completions at time now (the costs' unit, never decreasing)
 * found n (>= 1) requests of bytes done, any path: drives the rate check.
 * Call it once per scan, with the time the scan began: completions come
 * in bunches (a vCPU busy copying finds many at once), and a window
 * timed from one scan to a later one holds exactly the completions the
 * scans after the first found.  0, or -22 (-EINVAL) for a bad size, n 0
 * or a NULL pointer.
 */
int adapt_completed(struct adapt *a, uint64_t bytes, unsigned int n, uint64_t now);

/*
 * What a sample of a path may cost per request before the caller gives it
 * up: ADAPT_FAR times the lowest cost measured for bytes (a path over it
 * is not chosen, so a full sample would tell nothing more); 0 if nothing
 * is measured yet or for a bad size or NULL (no bound).
 */
uint64_t adapt_budget(const struct adapt *a, uint64_t bytes);

/* Choices of the cheaper path (cost best) between two probes of the other
 * (cost other). */
uint64_t adapt_probe_interval(uint64_t best, uint64_t other);

#endif /* GMEMKIT_ADAPT_H */
