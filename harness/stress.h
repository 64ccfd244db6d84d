/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stress run of the I/O path (gmemkit stress, tests/t_fault.c).
 *
 * HOST THREADS RUN THE GUEST'S OWN CODE: there is no KVM guest here.  One
 * thread per vCPU runs the guest's I/O workload (guest/io*.c) and its
 * virtio-blk driver (guest/gblk.c), built for the host
 * (harness/guest_host.h), in guest RAM laid out as the VMM lays it out
 * (gmemkit/abi.h, gmemkit/io_layout.h): descriptors, rings, data, bounce
 * pool and conversions are the guest's, through the region's memslot
 * mapping (the guest's view).  A conversion goes straight to gmem after
 * the VMM's request check (no exit); QueueNotify goes to the device's
 * notify eventfd (what KVM_IOEVENTFD does), the other registers to the
 * virtio-mmio transport (what KVM_EXIT_MMIO does).  Everything on the
 * other side is the real code: the virtio-mmio transport, the virtio-blk
 * device and its thread, the validated split virtqueue, gmem pins and
 * conversions, the file (io_uring), ram or null backend, optionally behind the
 * fault injector (harness/blk_fault.h).
 *
 * The workload runs in one of its modes (gmemkit/bench_io.h), by default
 * mixed: each request on the shared, bounce or inplace path at random, now and
 * then an inplace-batch batch, and (churn) random conversions of the
 * vCPU's scratch pages between requests and unshares of buffers the
 * device holds (-EBUSY).  Optionally a converter thread converts random
 * ranges of a scratch area of its own at the same time, and the vCPUs
 * stop with requests in flight (abandon: the device reset must clean up).
 *
 * Checks: the workload's own (every sector written in gmemkit/sector.h's
 * format on file and ram backends, reads and a read-back pass checked; with
 * injected faults a failed write leaves its block old or new until the
 * next write settles it), every request completed exactly once (unless
 * abandoned), no host access to a private page, no pin left after the
 * device reset, and the device, bounce pool, gmem and fault-injector
 * counters reconciled with the workload's.  Each failed check is counted
 * in result.failures and the first described in result.first_failure.
 */
#ifndef GMEMKIT_STRESS_H
#define GMEMKIT_STRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gmemkit/abi.h"
#include "harness/blk_fault.h"

#define STRESS_MAX_THREADS	8U
#define STRESS_MAX_QD		32U

struct stress_config {
	uint64_t duration_ms;		/* the measured run, >= 1 */
	unsigned int threads;		/* vCPU threads, 1..STRESS_MAX_THREADS */
	unsigned int qd;		/* requests in flight per thread, 1..32 */
	uint64_t bs;			/* bytes per request: a power of 2,
					 * 4 KiB..1 MiB; 0: 64 KiB */
	enum gmem_abi_io_mode mode;	/* the workload's mode; 0: mixed */
	bool no_churn;			/* mixed: no churn between requests */
	const char *backend;		/* "file" (temp file, io_uring), "file-sync",
					 * "ram" (memory-backed, disk_size bytes),
					 * "null"; NULL: "file" */
	uint64_t disk_size;		/* bytes; 0: 64 MiB */
	uint64_t pool_size;		/* bounce pool (bounce, adaptive, mixed);
					 * 0: its smallest for bs and threads
					 * (gmem_abi_io_pool_min()) */
	bool inject;			/* wrap the backend with faults */
	struct blk_fault_config faults;
	bool converter;			/* run the converter thread */
	bool abandon;			/* vCPUs stop with I/O in flight */
	unsigned int model;		/* enum gmem_model of guest RAM */
	uint64_t seed;			/* 0: from the clock */
	FILE *console;			/* the workload's console; NULL: none */
};

struct stress_result {
	uint64_t elapsed_ns;		/* the vCPU threads, start to end */
	uint64_t seed;
	const char *engine;		/* backend engine: io_uring, sync, inline */
	bool data_checked;		/* sectors verified (file, ram backends) */
	/* the workload (gmem_abi_io_results) */
	uint64_t ios, bytes;		/* measured run */
	uint64_t submitted, completed;	/* every request of the run */
	uint64_t io_errors;		/* completed with a status other than OK */
	uint64_t bounced, inplaced, shared, batches;	/* requests by path */
	uint64_t sectors_verified, mismatches;
	uint64_t bounce_full;		/* bounce_map -ENOSPC: waited */
	uint64_t churn_conv;		/* scratch conversions between requests */
	uint64_t inflight_tries, inflight_refused, inflight_won;
	uint64_t guest_checks, guest_failures;	/* the workload's own checks */
	/* the converter thread */
	uint64_t scratch_convs;
	/* what the rest saw */
	uint64_t conversions, conv_busy;	/* the workload's, as gmem answered */
	uint64_t gmem_conversions, gmem_refusals, gmem_violations;
	uint64_t dev_requests, dev_ok, dev_ioerr, dev_violations;
	uint64_t injected[BLK_FAULT_NR], injected_total;
	uint64_t abandoned;		/* requests the workload never collected */
	uint64_t pins_left;		/* pinned pages after the device reset */
	uint64_t duplicated;		/* completions for no request in flight */
	uint64_t failures;		/* every failed check */
	char first_failure[256];
};

/*
 * stress_run() - run the stress as cfg says and fill res.  Runs are
 * serialised within a process (the workload's state is global).
 * Returns 0 when the run happened (res->failures tells whether it was
 * clean), or a negative errno before it could start:
 *   -EINVAL  cfg or res NULL, a field out of its range, unknown mode or
 *            backend, pool_size not one gmem_abi_io_pool_ok() accepts,
 *            disk too small for 2 x qd blocks of bs per thread
 *   -ENOMEM, or the errno of gmem/backend/device/thread creation
 */
int stress_run(const struct stress_config *cfg,
		    struct stress_result *res);

#endif /* GMEMKIT_STRESS_H */
