// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-observed conversion latency: boots the guest's bench test once per
 * working transport and returns its rows (min and median of share+unshare
 * round trips of 1, 4, 16, 64, 256 and 512 pages (every block size of the
 * sweep, 4 KiB..1 MiB, and 2 MiB), and of an empty doorbell round trip),
 * measured with the guest TSC calibrated against host time.  Per platform
 * profile (bench_convert_platform()): the same round trips as that
 * platform's calls over its own call path.
 */
#include <errno.h>
#include <string.h>

#include "gmemkit/bench_convert.h"
#include "vm_internal.h"

static int bench_one(enum vmm_transport tr, int poll_us, enum gmem_mode mode,
		     enum plat plat, unsigned int reps, struct bench_convert_row *out,
		     unsigned int max, unsigned int n, bool keep_exit)
{
	struct vmm_config cfg = {
		.vcpus = 1,
		.mem_size = VMM_DEFAULT_MEM,
		.transport = tr,
		.mode = mode,
		.test = GMEM_ABI_TEST_BENCH,
		.bench_reps = reps,
		.timeout_ms = 600000,
		.quiet = true,
		.conv_poll_us = poll_us,
		.platform = plat,
	};
	struct vmm_result res;
	struct vmm *vm;
	uint32_t i;
	int err;

	err = vmm_create(&cfg, &vm);
	if (err)
		return err;
	err = vmm_run(vm, &res);
	vmm_destroy(vm);
	if (err)
		return err;
	if (!res.pass) {
		fprintf(stderr, "gmemkit: guest bench via %s failed: %s\n",
			vmm_transport_name(tr), res.message);
		return -EIO;
	}
	for (i = 0; i < res.guest.nr_bench && i < GMEM_ABI_MAX_BENCH && n < max; i++) {
		const struct gmem_abi_bench *b = &res.guest.bench[i];
		struct bench_convert_row *r = &out[n];

		/* The empty round trip is the same in every run: keep one. */
		if (b->op == GMEM_ABI_BENCH_EXIT && !keep_exit)
			continue;
		if (b->op != GMEM_ABI_BENCH_EXIT && b->op != GMEM_ABI_BENCH_ROUNDTRIP &&
		    b->op != GMEM_ABI_BENCH_KICK)
			continue;
		r->op = b->op == GMEM_ABI_BENCH_EXIT ? "exit_roundtrip" :
			b->op == GMEM_ABI_BENCH_KICK ? "queue_kick" : "guest_roundtrip";
		r->mode = mode == GMEM_MODE_DESTRUCTIVE ? "destructive" : "inplace";
		r->transport = gmem_abi_transport_name(b->transport);
		r->converter = "-";
		r->poll_us = 0;
		if (b->op != GMEM_ABI_BENCH_EXIT && res.transport == VMM_TRANSPORT_QUEUE) {
			r->converter = poll_us == VMM_CONV_POLL_OFF ? "asleep" : "polling";
			r->poll_us = res.queue.poll_us;
		}
		r->conversions = b->conversions;
		r->host_ns = b->host_ns;
		r->conv_cpu_ns = b->conv_cpu_ns;
		r->kicks = b->kicks;
		r->wall_ns = b->wall_ns;
		r->pages = b->pages;
		r->threads = 0;
		r->samples = b->samples;
		r->ns_min = b->ns_min;
		r->ns_median = b->ns_median;
		r->ns_max = b->ns_max;
		n++;
	}
	return (int)n;
}

#define TR(t)	(1U << (t))

int bench_convert_opts(enum gmem_mode mode, unsigned int reps,
			       unsigned int transports, int conv_poll_us,
			       struct bench_convert_row *out, unsigned int max)
{
	bool exit_kept = false;
	int n = 0, r;

	if (!out || !reps || reps > 100000 || mode > GMEM_MODE_DESTRUCTIVE ||
	    (transports & ~(TR(VMM_TRANSPORT_HYPERCALL) | TR(VMM_TRANSPORT_DOORBELL) |
			    TR(VMM_TRANSPORT_QUEUE))) ||
	    conv_poll_us < VMM_CONV_POLL_OFF ||
	    conv_poll_us > VMM_CONV_POLL_US_MAX)
		return -EINVAL;
	if (!transports) {
		transports = TR(VMM_TRANSPORT_DOORBELL) | TR(VMM_TRANSPORT_QUEUE);
		if (vmm_probe_hypercall_exit(VMM_PROBE_TIMEOUT_MS, NULL) == 1)
			transports |= TR(VMM_TRANSPORT_HYPERCALL);
	}
	if (transports & TR(VMM_TRANSPORT_DOORBELL)) {
		n = bench_one(VMM_TRANSPORT_DOORBELL, 0, mode, PLAT_IDEAL, reps, out, max, 0,
			      true);
		if (n < 0)
			return n;
		exit_kept = true;
	}
	if (transports & TR(VMM_TRANSPORT_HYPERCALL)) {
		r = bench_one(VMM_TRANSPORT_HYPERCALL, 0, mode, PLAT_IDEAL, reps, out, max,
			      (unsigned int)n, !exit_kept);
		if (r < 0)
			return r;
		exit_kept = exit_kept || r > n;
		n = r;
	}
	if (transports & TR(VMM_TRANSPORT_QUEUE)) {
		/* Polling (as configured; none if told OFF) and asleep: every
		 * request then finds the converter asleep and kicks. */
		if (conv_poll_us != VMM_CONV_POLL_OFF) {
			r = bench_one(VMM_TRANSPORT_QUEUE, conv_poll_us, mode, PLAT_IDEAL,
				      reps, out, max, (unsigned int)n, !exit_kept);
			if (r < 0)
				return r;
			exit_kept = exit_kept || r > n;
			n = r;
		}
		r = bench_one(VMM_TRANSPORT_QUEUE, VMM_CONV_POLL_OFF, mode, PLAT_IDEAL,
			      reps, out, max, (unsigned int)n, !exit_kept);
		if (r < 0)
			return r;
		n = r;
	}
	return n;
}

int bench_convert_platform(enum plat p, unsigned int reps, int conv_poll_us,
			   struct bench_convert_row *out, unsigned int max)
{
	enum vmm_transport tr = VMM_TRANSPORT_AUTO;
	int n, i, k = 0;

	if (!out || !reps || reps > 100000 || (unsigned int)p >= PLAT_MAX ||
	    conv_poll_us < VMM_CONV_POLL_OFF || conv_poll_us > VMM_CONV_POLL_US_MAX)
		return -EINVAL;
	/* its call path: the exitless ones through the queue; the others
	 * exit (AUTO: the hypercall where its exits reach the VMM) */
	if (p != PLAT_IDEAL && plat_exitless(p)) {
		n = vmm_probe_queue(NULL);
		if (n < 0)
			return n;
		if (!n)
			return -EOPNOTSUPP;
		tr = VMM_TRANSPORT_QUEUE;
	}
	n = bench_one(tr, conv_poll_us, plat_destroys(p) ? GMEM_MODE_DESTRUCTIVE :
		      GMEM_MODE_INPLACE, p, reps, out, max, 0, false);
	for (i = 0; i < n; i++)		/* the round trips only */
		if (!strcmp(out[i].op, "guest_roundtrip"))
			out[k++] = out[i];
	return n < 0 ? n : k;
}

int bench_convert(enum gmem_mode mode, unsigned int reps,
			  struct bench_convert_row *out, unsigned int max)
{
	return bench_convert_opts(mode, reps, 0, 0, out, max);
}
