/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-I/O cost split of a guest I/O run, each cost counted once
 * (io-bench text and JSON, the bench report).  Everything is guest vCPU
 * time, per I/O, measured by the guest around the work itself:
 *
 *   kicks        QueueNotify writes (an ioeventfd exit each, in the kernel),
 *                timed around each write
 *   conv_exit    the exits of the conversion requests: each request's
 *                guest-observed time minus the host's work on it
 *   conv_host    the host's work on the conversion requests (the VMM's
 *                check and gmem conversion, timed by the VMM)
 *   copy         bounce copies and the pool's map/unmap
 *   unaccounted  the rest of the vCPU's time per I/O: driver, workload,
 *                polling for completions while the device works
 *
 * The device's side, measured by the VMM on the thread that runs the
 * device (vblk_stats.dev_*), per I/O the device handled in the run's
 * direction:
 *
 *   dev          time inside the backend's work: a ram backend's copy
 *                between the guest buffer and its store, with the page
 *                faults it takes on buffer pages the host has not mapped
 *                yet (freshly re-shared in-place buffers); a file
 *                backend's io_uring submissions and completions
 *   dev_faults   page faults (minor + major) of that thread per I/O
 *   dev_copy_bytes  bytes the backend copied itself per I/O
 *
 * The device's time runs beside the vCPU's, on another thread, not inside
 * it: it is not one of the vCPU's parts and is not in unaccounted (the
 * vCPU's polling while the device works is; what the device does
 * meanwhile is dev).  Each cost is counted once: a vCPU part on the vCPU,
 * dev on the device.  Records of a gmemkit without the device's side have
 * none (has_dev false), which is not an error.
 *
 * The parts never sum to more than the measured vCPU time per I/O: where
 * the inputs say otherwise (clock skew between guest and host, records of
 * another version), the host work is capped at the conversion time and the
 * parts are scaled down to the total, and `scaled` says by how much.
 */
#ifndef GMEMKIT_BENCH_COST_H
#define GMEMKIT_BENCH_COST_H

#include <stdbool.h>

struct bench_cost_in {			/* ns per I/O, as measured */
	double total;			/* vCPU time per I/O */
	double kick;			/* time in kicks */
	double conv;			/* time in conversion requests */
	double conv_host;		/* host work within conv */
	double copy;			/* bounce copies */
	bool has_dev;			/* the device's side below is given */
	double dev;			/* device-thread time in the backend */
	double dev_faults;		/* device-thread page faults per I/O */
	double dev_copy_bytes;		/* bytes the backend copied per I/O */
};

struct bench_cost_split {		/* ns per I/O */
	double total, kick, conv_exit, conv_host, copy, unaccounted;
	double scale;			/* 1, or the factor the parts were
					 * scaled down by to fit the total */
	bool scaled;
	/* The device's side, beside the vCPU's (never scaled: it has a total
	 * of its own); 0 and has_dev false where the input had none. */
	bool has_dev;
	double dev, dev_faults, dev_copy_bytes;
};

/*
 * bench_cost_split() - split in into out.
 * Returns 0, or -EINVAL for NULL pointers or an input that is negative or
 * not finite (out is left untouched then); with has_dev false the device
 * fields of in are not looked at.
 */
int bench_cost_split(const struct bench_cost_in *in, struct bench_cost_split *out);

struct json;

/*
 * bench_cost_split_record() - the split of one io-bench JSON record (its
 * vcpu_ns_per_io, kick_ns_per_io, conv_ns_per_io, conv_host_ns_per_io and
 * copy_ns_per_io), with the device's side from dev_ns_per_io,
 * dev_faults_per_io and dev_copy_bytes_per_io when the record has them:
 * what the bench report uses.
 * Returns 0, -EINVAL for NULL pointers or bad values (a record with some
 * of the three device fields but not all of them is bad), -ENOENT when the
 * record lacks one of the vCPU fields (written by an older gmemkit: no
 * split).  A record without any device field splits with has_dev false.
 */
int bench_cost_split_record(const struct json *rec, struct bench_cost_split *out);

#endif /* GMEMKIT_BENCH_COST_H */
