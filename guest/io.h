/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest I/O workload's internals (GMEM_ABI_TEST_IO), shared by its
 * three parts: io_request.c (one request on each path: copies,
 * conversions, data pattern, latency), io_run.c (keeping requests in
 * flight, batches, churn) and io.c (setup, results, the test).  The
 * workload itself is described in io.c.
 */
#ifndef GMEMKIT_GUEST_IO_H
#define GMEMKIT_GUEST_IO_H

#include "gblk.h"
#include "gmemkit/adapt.h"
#include "gmemkit/bounce.h"
#include "gmemkit/platform.h"
#include "gmemkit/sector.h"

#define SECTOR		((uint64_t)SECTOR_BYTES)
#define NB_LINEAR	64
#define NB_SUB		32
#define NBUCKETS	(NB_LINEAR + 58 * NB_SUB)
#define BAD_ID		(GBLK_MAX_REQS - 1)

enum path { P_SHARED, P_BOUNCE, P_INPLACE, P_PERSIST };

struct slot {
	struct gblk_req req;
	uint64_t buf;			/* the buffer the application uses */
	uint64_t pbuf, sbuf;		/* mixed: private and shared buffer */
	uint64_t pers;			/* persistent: its always-shared buffer */
	uint64_t keep;			/* platforms that destroy contents: the
					 * private home of an in-place request's
					 * data (copied in and out around I/O) */
	uint64_t seq;			/* submission number on this vCPU */
	enum path path;			/* of the request in flight */
	bool unshared;			/* churn: its buffer unshared already */
	uint64_t submits, completes;	/* of this request id, whole run */
	uint64_t block;			/* index in the vCPU's span */
	uint64_t t0;
	uint64_t baddr[GMEM_ABI_IO_MAX_BS / GMEM_ABI_IO_BOUNCE_SEG];
	uint64_t prot;			/* TSC spent on its protection (copies
					 * or conversions): adaptive's input */
	uint64_t pre_prot;		/* batched: its part of the pass's share */
	uint64_t sg[GMEM_ABI_IO_SCATTER_PIECES];	/* scatter: its pieces */
	unsigned int nsg;
	bool write, inflight;
	bool planned;			/* io_slot_plan() decided its request */
	bool batched;			/* adaptive: in place, converted with the
					 * pass's other batched requests */
	bool recorded;			/* adaptive: its cost recorded already
					 * (a sample stopped, then bounced) */
};

#define MAX_SEGS	(GMEM_ABI_IO_SCATTER_PIECES > GMEM_ABI_IO_MAX_BS / GMEM_ABI_IO_BOUNCE_SEG ? \
			 GMEM_ABI_IO_SCATTER_PIECES : GMEM_ABI_IO_MAX_BS / GMEM_ABI_IO_BOUNCE_SEG)

struct io_stats {
	uint64_t ios, bytes, kicks, conv_calls, conv_ns, conv_refused;
	uint64_t copy_bytes, copy_ns, bounce_full, io_errors, verified;
	uint64_t verify_errors, bounced, inplaced, persisted, lat_min, lat_max;
	uint64_t t_start, t_end;
	uint64_t kick_ns, conv_host, batches, scatter_pieces, scatter_runs;
	uint64_t conv_kicks;		/* queue transport: kicks (exits) */
	uint64_t conv_bytes;		/* to-shared bytes, granule-rounded */
	uint64_t keep_bytes, keep_ns;	/* keep copies (also in copy_*) */
	uint64_t conv_pages, conv_entries;	/* what the calls covered */
	uint64_t batched;		/* adaptive: in place in a pass's batch */
	uint64_t samples_stopped;	/* adaptive: conversions stopped at the
					 * budget (io_share_sampled()) */
};

/* Whole-run counters (never reset between prefill, run and read-back). */
struct run_stats {
	uint64_t submitted, completed, ebusy, mixed_shared, mixed_batches;
	uint64_t churn_conv, churn_errors, inflight_tries, inflight_refused;
	uint64_t inflight_won, io_errors;
};

struct cpu_io {
	struct slot slots[GMEM_ABI_IO_MAX_QD];
	struct run_stats x;
	uint64_t seq, done_seq;		/* last submitted / completed seq */
	uint64_t churn, churn_shared;	/* scratch area, its shared pages */
	uint64_t rng, next_seq, span, base_block, submitted;
	uint32_t *gen;			/* [span] generation written last */
	uint32_t *gen_lo;		/* [span] oldest generation a read may
					 * find (below gen after a failed write,
					 * GMEM_ABI_IOF_FAULTS) */
	uint8_t *busy;			/* [span] in flight */
	uint64_t priv, shared;		/* this vCPU's buffer areas */
	struct adapt adapt[2];		/* adaptive: reads, writes */
	uint64_t scatter, nslots;	/* scatter: area, pieces it holds */
	uint8_t *smap;			/* [nslots] piece used by the batch */
	uint32_t *sidx;			/* [nslots] permutation of the pieces */
	struct plat_range *runs;	/* [qd * pieces] contiguous runs */
	struct io_stats st;
	bool measure, failed;
} __attribute__((aligned(64)));

/* The run (set up by vCPU 0 before the others start). */
extern struct cpu_io io_cpus[GMEM_ABI_IO_MAX_VCPUS];
extern uint64_t io_hist[NBUCKETS];
extern struct gmem_abi_io_config io_cfg;
extern struct bounce_pool io_pool;
extern struct gblk_info io_info;
extern enum path io_mode_path;		/* the mode's path (not mixed/adaptive) */

/* io_request.c */
uint64_t io_rng_next(uint64_t *s);
uint64_t io_bucket_ns(unsigned int b);
uint64_t io_ns_to_tsc(uint64_t ns);
int64_t io_convert_raw(struct cpu_io *c, bool to_shared, uint64_t gpa, uint64_t len);
/* io_convert_ranges() that stops before a call once max bytes (0: no
 * limit) are converted: *conv the bytes converted, the first *conv of the
 * ranges in order (all of them unless it stopped). */
int64_t io_convert_ranges_until(struct cpu_io *c, bool to_shared, struct plat_range *r,
				unsigned int nr, uint64_t max, uint64_t *conv);
/*
 * adaptive: share the ranges r of n requests (one in place, or a pass's
 * batch; n <= qd) sampling path p.  Where the platform converts them in
 * more than one call and a cost is measured to compare with, the first
 * 1/IO_TRIAL_PARTS of the bytes (whole calls) is tried first: shared and
 * unshared at once, the whole's cost per request estimated from it (both
 * directions: on the lazy model the unshare, a zap and TLB shootdown per
 * run, costs far more than the share).  Over adapt_budget(): that
 * estimate is recorded for p and 1 is returned, nothing shared (the
 * requests then bounce).  Else the whole is shared, 0, and *trial the
 * trial's time (not the path's cost: the caller leaves it out of it).
 * -EIO: a call failed (nothing stays shared).
 */
#define IO_TRIAL_PARTS	8
int io_share_sampled(struct cpu_io *c, bool write, struct plat_range *r, unsigned int nr,
		     unsigned int n, enum adapt_path p, uint64_t *trial);
int64_t io_convert(struct cpu_io *c, bool to_shared, uint64_t gpa, uint64_t len);
int64_t io_convert_ranges(struct cpu_io *c, bool to_shared, struct plat_range *r,
			  unsigned int nr);
void io_unshare_done(struct cpu_io *c, uint64_t gpa, uint64_t len);
void io_kick_timed(struct cpu_io *c);
/* Decide slot s's next request (direction, path; adaptive may choose
 * batched in place: the caller then shares s->buf with the pass's other
 * batched buffers and sets s->pre_prot before io_slot_start()). */
void io_slot_plan(struct cpu_io *c, struct slot *s, uint32_t rw);
int io_slot_start(struct cpu_io *c, unsigned int cpu, struct slot *s, uint32_t rw,
	       bool batch);
void io_record_latency(struct cpu_io *c, uint64_t t0);
/* batch: an inplace-batch/scatter request (unshared by the batch, latency
 * recorded by it); a batched adaptive request is unshared by its reap pass
 * (which adds its part of that to s->prot) and records its own latency. */
void io_slot_finish(struct cpu_io *c, struct slot *s, bool batch);
/* A read on a platform that destroys contents: copy the data out of the
 * shared buffer into its keep buffer, before the unshare (batches call it
 * themselves; io_slot_finish() does for single requests). */
void io_keep_out(struct cpu_io *c, struct slot *s);

/* io_run.c */
uint64_t io_churn_word(uint64_t gpa);
void io_run(struct cpu_io *c, unsigned int cpu, uint32_t rw, uint64_t limit,
	 uint64_t deadline);

#endif /* GMEMKIT_GUEST_IO_H */
