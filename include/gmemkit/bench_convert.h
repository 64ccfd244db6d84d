/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest-observed conversion benchmark (vmm/bench_convert.c): boots the
 * guest's bench test once per working transport (gmemkit/vm.h) and returns
 * its rows; what `gmemkit convert-bench` reports as guest_roundtrip,
 * exit_roundtrip and queue_kick.
 */
#ifndef GMEMKIT_BENCH_CONVERT_H
#define GMEMKIT_BENCH_CONVERT_H

#include "gmemkit/vm.h"

/*
 * bench_convert() - guest-observed latency of share + unshare of
 * 1, 16 and 512 pages through every working transport, and of an empty
 * doorbell round trip.  Fills up to max rows of out (min and median in ns,
 * from the guest TSC calibrated against host time) and returns the number
 * of rows, or a negative errno (-ENODEV without KVM, -EINVAL for reps 0 or
 * above 100000, -EIO if the guest reported a failure).
 */
struct bench_convert_row {
	const char *op;			/* "guest_roundtrip" / "exit_roundtrip" */
	const char *mode;		/* "inplace" / "destructive" */
	const char *transport;		/* "doorbell" / "hypercall" / "queue" */
	const char *converter;		/* queue: "polling" / "asleep"; else "-" */
	unsigned int poll_us;		/* queue: converter busy polling */
	uint64_t pages;
	unsigned int threads;		/* extra busy host threads, as in
					 * convert-bench: always 0 here */
	uint64_t samples;
	uint64_t ns_min, ns_median, ns_max;
	/* Over the timed samples (VMM counters): conversions done, host time
	 * inside gmem_share/unshare, converter thread CPU time, queue kicks
	 * by the guest, wall time of the series. */
	uint64_t conversions, host_ns, conv_cpu_ns, kicks, wall_ns;
};

int bench_convert(enum gmem_mode mode, unsigned int reps,
		  struct bench_convert_row *out, unsigned int max);

/*
 * bench_convert_opts() - the same with a choice of transports
 * (bit (1 << enum vmm_transport) per transport; 0 = every usable one:
 * doorbell, hypercall where the probe says it works, queue) and the
 * converter's polling time for the "polling" queue rows (0 = default);
 * queue rows come twice, polling and asleep (VMM_CONV_POLL_OFF).
 */
int bench_convert_opts(enum gmem_mode mode, unsigned int reps,
		       unsigned int transports, int conv_poll_us,
		       struct bench_convert_row *out, unsigned int max);

/*
 * bench_convert_platform() - the guest-observed round trips (share +
 * unshare of 1..512 pages) made of the calls platform p makes
 * (gmemkit/platform.h: the guest's __share/__unshare split each range with
 * plat_iter), over the platform's own call path: the queue for the
 * exitless ones (pkvm, cca; -EOPNOTSUPP where vmm_probe_queue() says it
 * does not work here), the hypercall where its exits reach the VMM and the
 * doorbell otherwise (tdx, snp; ideal as bench_convert()'s AUTO), in
 * destructive mode where the platform destroys contents.  conv_poll_us:
 * the queue converter's polling (0 default, VMM_CONV_POLL_OFF asleep).
 * Returns the guest_roundtrip rows, or a negative errno as above.
 */
int bench_convert_platform(enum plat p, unsigned int reps, int conv_poll_us,
			   struct bench_convert_row *out, unsigned int max);

#endif /* GMEMKIT_BENCH_CONVERT_H */
