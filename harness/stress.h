/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stress run of the I/O path (gmemkit stress, tests/t_fault.c).
 *
 * HOST THREADS PLAY THE GUEST: there is no KVM guest here.  Driver threads
 * act as the guest's virtio-blk driver on vCPUs: they write descriptors,
 * rings and data through the gmem memslot mapping (the guest's view), share
 * and unshare their buffers with gmem_share()/gmem_unshare() (what the
 * guest's conversion hypercall leads to), bounce through a lib/bounce.c pool
 * in shared memory, and notify through the device's notify eventfd (what
 * KVM_IOEVENTFD does).  Everything on the other side is the real code: the
 * virtio-mmio transport, the virtio-blk device and its thread, the
 * validated split virtqueue, gmem pins and conversions, the file (io_uring)
 * or null backend, optionally behind the fault injector (blk_fault.h).
 *
 * One queue, shared by the driver threads: each thread owns a disjoint
 * range of descriptors (one fixed block per request slot); the avail ring
 * is published under a spinlock and the used ring is drained under another
 * by whichever thread gets it, which hands each completion to the slot
 * that owns the head.
 *
 * I/O modes (random per request): shared (buffer in always-shared memory),
 * bounce (private buffer copied through the pool, one mapping per segment),
 * inplace (gmem_share() of the private buffer, I/O, gmem_unshare()) and
 * inplace-batch (one share and one unshare for a batch of requests).
 * Sizes are random multiples of 4 KiB up to max_io, split into 1..16
 * segments; LBAs random 4 KiB blocks in the thread's own part of the disk,
 * never overlapping another in-flight request of the thread.
 *
 * A converter thread shares and unshares random ranges of a scratch area
 * (no I/O there) and tries to unshare the buffers of in-flight requests
 * that the device has pinned: that must fail with -EBUSY (counted), or, if
 * the request finished meanwhile, succeed (then it is shared back).
 *
 * Checks: every 512-byte sector written carries (lba, generation, thread,
 * checksum of its payload); reads are compared with a model of what was
 * written (file backends; a failed write leaves its sectors either old or
 * new, a range the model keeps until the next read or write settles it);
 * every request completes exactly once, with the right used length and a
 * written status byte; no host access to a private page; no pin left;
 * device, bounce pool, gmem and fault-injector counters reconciled with the
 * drivers' own counts.  Each failed check is counted in result.failures and
 * described in result.first_failure.
 */
#ifndef GMEMKIT_STRESS_H
#define GMEMKIT_STRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "harness/blk_fault.h"

enum gmem_stress_mode {
	STRESS_SHARED,
	STRESS_BOUNCE,
	STRESS_INPLACE,
	STRESS_INPLACE_BATCH,
	STRESS_NMODES
};

#define STRESS_MODES_ALL	((1U << STRESS_NMODES) - 1)
#define STRESS_MAX_THREADS	8U
#define STRESS_MAX_QD		32U
#define STRESS_MAX_IO		(1U << 20)
#define STRESS_MAX_SEGS		16U

/* "shared", "bounce", "inplace", "inplace-batch"; NULL if unknown. */
const char *gmem_stress_mode_name(enum gmem_stress_mode m);

struct gmem_stress_config {
	uint64_t duration_ms;		/* time the drivers submit I/O, >= 1 */
	unsigned int threads;		/* driver threads, 1..STRESS_MAX_THREADS */
	unsigned int qd;		/* requests in flight per thread, 1..32 */
	uint64_t max_io;		/* bytes, multiple of 4 KiB, 4 KiB..1 MiB */
	unsigned int modes;		/* bitmask of 1 << STRESS_* (non-zero) */
	const char *backend;		/* "file" (temp file, io_uring), "file-sync",
					 * "null"; NULL: "file" */
	uint64_t disk_size;		/* bytes; 0: 64 MiB */
	uint64_t pool_size;		/* bounce pool; 0: threads*qd*max_io
					 * rounded up to 256 KiB */
	bool inject;			/* wrap the backend with faults */
	struct blk_fault_config faults;
	bool converter;			/* run the converter thread */
	bool abandon;			/* drivers stop with I/O in flight */
	uint64_t seed;			/* 0: from the clock */
};

struct gmem_stress_result {
	uint64_t elapsed_ns;		/* drivers' submission phase */
	uint64_t seed;
	const char *engine;		/* backend engine: io_uring, sync, inline */
	bool data_checked;		/* reads verified (file backend) */
	/* per driver, summed */
	uint64_t submitted, completed, ok, ioerr;
	uint64_t reads, writes, flushes;
	uint64_t bytes_read, bytes_written;	/* completed OK */
	uint64_t by_mode[STRESS_NMODES];	/* requests submitted */
	uint64_t batches;
	uint64_t sectors_verified;
	uint64_t bounce_enospc;		/* bounce_map -ENOSPC (not submitted) */
	uint64_t driver_shares, driver_unshares;
	/* converter */
	uint64_t scratch_convs;
	uint64_t inflight_unshare_tries, inflight_refused, inflight_late;
	/* what the rest saw */
	uint64_t gmem_conversions, gmem_refusals, gmem_violations;
	uint64_t dev_requests, dev_ok, dev_ioerr, dev_violations;
	uint64_t injected[BLK_FAULT_NR], injected_total;
	uint64_t abandoned;		/* requests the guest never collected */
	uint64_t pins_left;		/* pinned pages after the device reset */
	/* failed checks */
	uint64_t mismatches;		/* data */
	uint64_t lost, duplicated;	/* completions */
	uint64_t failures;		/* every failed check, these included */
	char first_failure[256];
};

/*
 * gmem_stress_run() - run the stress as cfg says and fill res.
 * Returns 0 when the run happened (res->failures tells whether it was
 * clean), or a negative errno before it could start:
 *   -EINVAL  cfg or res NULL, a field out of its range, unknown backend,
 *            more descriptors than a queue of 1024 holds (threads * qd *
 *            (STRESS_MAX_SEGS + 2)), disk too small for the threads' regions
 *   -ENOMEM, or the errno of gmem/backend/device/thread creation
 */
int gmem_stress_run(const struct gmem_stress_config *cfg,
		    struct gmem_stress_result *res);

#endif /* GMEMKIT_STRESS_H */
