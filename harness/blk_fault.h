/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault-injecting block backend: wraps another backend (null, file) and
 * makes chosen I/Os fail the way a real backend can fail, so that tests and
 * the stress run (gmemkit stress --inject) can check that every such
 * failure reaches the guest as VIRTIO_BLK_S_IOERR, that nothing else is
 * corrupted and that nothing leaks.
 *
 * Fault kinds, at most one per I/O (checked in this order; kick is per
 * kick call):
 *
 *   submit  submit() refuses the I/O with -EAGAIN, as when io_uring has no
 *           free SQE and io_uring_submit() fails: the device fails the
 *           request at once.  Any I/O.
 *   eio     the I/O completes with -EIO without reaching the inner
 *           backend.  Any I/O (read, write, flush).
 *   enospc  the same with -ENOSPC.  Writes and flushes only.
 *   short   the inner backend transfers only a prefix of the I/O (a random
 *           number of whole 512-byte sectors, at least one, fewer than all),
 *           then the I/O completes with -EIO: a short transfer that could
 *           not be continued, as at an unexpected end of file.  For a write
 *           the prefix is on the medium; for a read it is in the guest's
 *           buffer.  Reads and writes of more than one sector only.
 *   kick    kick() (the push of a batch to the kernel: io_uring_submit())
 *           fails with -EAGAIN and pushes nothing; the I/O stays queued in
 *           the inner backend until the next kick or reap.  Counted per
 *           kick call, not per I/O (eligible[] counts kicks).
 *   corrupt silent data corruption: a read completes successfully but one
 *           byte of the data it returned is flipped, as a buggy medium or
 *           backend would do.  Nothing reports it: this kind exists so that
 *           the stress run's data checks are shown to catch corruption.
 *           Reads only.
 *
 * Each kind fires either at a rate (each eligible I/O with probability
 * rate, from a seeded PRNG: runs are reproducible) or on the nth eligible
 * I/O of that kind (once), or both.
 *
 * Every callback of a backend runs under the device's processing lock; the
 * wrapper adds no lock of its own.  Its statistics are atomics and may be
 * read from any thread.
 */
#ifndef GMEMKIT_BLK_FAULT_H
#define GMEMKIT_BLK_FAULT_H

#include <stdint.h>

#include "gmemkit/virtio_blk.h"

enum blk_fault_kind {
	BLK_FAULT_SUBMIT,
	BLK_FAULT_EIO,
	BLK_FAULT_ENOSPC,
	BLK_FAULT_SHORT,
	BLK_FAULT_KICK,
	BLK_FAULT_CORRUPT,
	BLK_FAULT_NR
};

struct blk_fault_rule {
	double rate;		/* [0, 1]: probability per eligible I/O */
	uint64_t nth;		/* fire on the nth eligible I/O (1-based); 0: never */
};

struct blk_fault_config {
	struct blk_fault_rule rule[BLK_FAULT_NR];
	uint64_t seed;		/* PRNG seed; 0 picks a fixed default */
};

struct blk_fault_stats {
	uint64_t ios;				/* I/Os submitted to the wrapper */
	uint64_t eligible[BLK_FAULT_NR];	/* I/Os each kind could hit */
	uint64_t injected[BLK_FAULT_NR];	/* faults injected per kind */
	uint64_t injected_total;
	uint64_t passed;			/* I/Os handed to the inner backend whole */
	uint64_t completed;			/* completions reported to the device */
	uint64_t inflight;			/* submitted, not completed yet */
};

/* "submit", "eio", "enospc", "short", "kick", "corrupt"; NULL for an unknown kind. */
const char *blk_fault_kind_name(enum blk_fault_kind k);

/*
 * blk_fault_parse() - fill cfg from a spec: comma-separated KIND:RATE or
 * KIND:#N items, e.g. "eio:0.01,short:0.02,submit:#100".  RATE is a decimal
 * in [0, 1]; N a base-10 integer >= 1 (parse_u64()).  Items not named
 * keep cfg's values (start from a zeroed cfg).
 *   -EINVAL  spec or cfg NULL, empty spec or item, unknown kind, bad or out
 *            of range number (cfg unchanged)
 */
int blk_fault_parse(const char *spec, struct blk_fault_config *cfg);

/*
 * blk_fault_wrap() - a backend that forwards to inner and injects faults as
 * cfg says.  On success the wrapper owns inner (blk_backend_destroy() of the
 * wrapper destroys both) and copies its capacity, flags, id and event_fd.
 *   -EINVAL  inner, cfg or out NULL; a rate outside [0, 1] or NaN
 *   -ENOMEM
 * On error inner is not consumed.
 */
int blk_fault_wrap(struct blk_backend *inner, const struct blk_fault_config *cfg,
		   struct blk_backend **out);

/*
 * blk_fault_get_stats() - counters of a wrapper made by blk_fault_wrap().
 *   -EINVAL  be or st NULL, or be is not a fault wrapper
 */
int blk_fault_get_stats(struct blk_backend *be, struct blk_fault_stats *st);

#endif /* GMEMKIT_BLK_FAULT_H */
