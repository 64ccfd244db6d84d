// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-observed conversion latency: boots the guest's bench test once per
 * working transport and returns its rows (min and median of share+unshare
 * round trips of 1, 4, 16, 64, 256 and 512 pages (every block size of the
 * sweep, 4 KiB..1 MiB, and 2 MiB), and of an empty doorbell round trip),
 * measured with the guest TSC calibrated against host time.
 */
#include <errno.h>
#include <string.h>

#include "vm_internal.h"

static int bench_one(enum gmem_transport tr, enum gmem_mode mode,
		     unsigned int reps, struct gmem_vm_bench_row *out,
		     unsigned int max, unsigned int n)
{
	struct gmem_vm_config cfg = {
		.vcpus = 1,
		.mem_size = GMEM_VM_DEFAULT_MEM,
		.transport = tr,
		.mode = mode,
		.test = GMEM_ABI_TEST_BENCH,
		.bench_reps = reps,
		.timeout_ms = 600000,
		.quiet = true,
	};
	struct gmem_vm_result res;
	struct gmem_vm *vm;
	uint32_t i;
	int err;

	err = gmem_vm_create(&cfg, &vm);
	if (err)
		return err;
	err = gmem_vm_run(vm, &res);
	gmem_vm_destroy(vm);
	if (err)
		return err;
	if (!res.pass) {
		fprintf(stderr, "gmemkit: guest bench via %s failed: %s\n",
			gmem_vm_transport_name(tr), res.message);
		return -EIO;
	}
	for (i = 0; i < res.guest.nr_bench && i < GMEM_ABI_MAX_BENCH && n < max; i++) {
		const struct gmem_abi_bench *b = &res.guest.bench[i];
		struct gmem_vm_bench_row *r = &out[n];

		/* The empty round trip is the same in every run: keep one. */
		if (b->op == GMEM_ABI_BENCH_EXIT && tr != GMEM_TRANSPORT_DOORBELL)
			continue;
		if (b->op != GMEM_ABI_BENCH_EXIT && b->op != GMEM_ABI_BENCH_ROUNDTRIP)
			continue;
		r->op = b->op == GMEM_ABI_BENCH_EXIT ? "exit_roundtrip" : "guest_roundtrip";
		r->mode = mode == GMEM_MODE_DESTRUCTIVE ? "destructive" : "inplace";
		r->transport = b->transport == GMEM_ABI_TRANSPORT_HYPERCALL ?
			       "hypercall" : "doorbell";
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

int gmem_vm_convert_bench(enum gmem_mode mode, unsigned int reps,
			  struct gmem_vm_bench_row *out, unsigned int max)
{
	int n, r;

	if (!out || !reps || reps > 100000 || mode > GMEM_MODE_DESTRUCTIVE)
		return -EINVAL;
	n = bench_one(GMEM_TRANSPORT_DOORBELL, mode, reps, out, max, 0);
	if (n < 0)
		return n;
	r = gmem_vm_probe_hypercall_exit(GMEM_VM_PROBE_TIMEOUT_MS, NULL);
	if (r == 1)
		n = bench_one(GMEM_TRANSPORT_HYPERCALL, mode, reps, out, max,
			      (unsigned int)n);
	return n;
}
