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
 * The parts never sum to more than the measured vCPU time per I/O: where
 * the inputs say otherwise (clock skew between guest and host, records of
 * another version), the host work is capped at the conversion time and the
 * parts are scaled down to the total, and `scaled` says by how much.
 */
#ifndef GMEMKIT_COST_H
#define GMEMKIT_COST_H

#include <stdbool.h>

struct bench_cost_in {			/* ns per I/O, as measured */
	double total;			/* vCPU time per I/O */
	double kick;			/* time in kicks */
	double conv;			/* time in conversion requests */
	double conv_host;		/* host work within conv */
	double copy;			/* bounce copies */
};

struct bench_cost_split {		/* ns per I/O */
	double total, kick, conv_exit, conv_host, copy, unaccounted;
	double scale;			/* 1, or the factor the parts were
					 * scaled down by to fit the total */
	bool scaled;
};

/*
 * bench_cost_split() - split in into out.
 * Returns 0, or -EINVAL for NULL pointers or an input that is negative or
 * not finite (out is left untouched then).
 */
int bench_cost_split(const struct bench_cost_in *in, struct bench_cost_split *out);

struct json;

/*
 * bench_cost_split_record() - the split of one io-bench JSON record (its
 * vcpu_ns_per_io, kick_ns_per_io, conv_ns_per_io, conv_host_ns_per_io and
 * copy_ns_per_io): what the bench report uses.
 * Returns 0, -EINVAL for NULL pointers or bad values, -ENOENT when the
 * record lacks one of the fields (written by an older gmemkit: no split).
 */
int bench_cost_split_record(const struct json *rec, struct bench_cost_split *out);

#endif /* GMEMKIT_COST_H */
