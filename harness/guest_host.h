/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test support: the guest's I/O workload (guest/io*.c) and virtio-blk
 * driver (guest/gblk.c), built for the host, run by host threads
 * that play the vCPUs: the very code the guest runs, against the real
 * device, gmem and bounce pool, without KVM (harness/stress.c).
 *
 * The harness lays out guest RAM as the VMM does (gmemkit/abi.h: boot
 * info, results, vCPU pages, the shared pool, the I/O run's test area),
 * writes the boot info (its mem_size bounds the workload's conversions),
 * binds it here and calls guest_host_vcpu() on each of its threads.  This
 * runtime answers what the guest's runtime would: guest RAM through the
 * region's memslot mapping (the guest's view), conversions straight to
 * gmem after the VMM's own request check (what the guest's conversion
 * leads to, without the exit), checks and console into the results page
 * and the console stream, an SMP barrier over the threads, the host
 * clock.  The doorbell's services do not exist here (-EOPNOTSUPP).
 * One binding per process at a time: the workload's state is global.
 */
#ifndef GMEMKIT_HARNESS_GUEST_HOST_H
#define GMEMKIT_HARNESS_GUEST_HOST_H

#include <stdint.h>
#include <stdio.h>

#include "gmemkit/gmem.h"

struct guest_host_cfg {
	struct gmem *mem;		/* guest RAM, GPA == offset */
	unsigned int vcpus;		/* threads that will call guest_host_vcpu() */
	FILE *console;			/* the workload's console; NULL: none */
};

/* Conversions the workload asked for, as gmem answered them. */
struct guest_host_stats {
	uint64_t conversions;		/* done */
	uint64_t busy;			/* refused -EBUSY (pinned) */
	uint64_t errors;		/* any other error */
};

/*
 * guest_host_bind() - bind the runtime to c (and write the calibrated TSC
 * rate into the results page).
 *   0
 *   -EINVAL  c or c->mem NULL, vcpus 0 or above GMEM_ABI_MAX_VCPUS
 *   -EBUSY   bound already
 *   -errno   of pthread_barrier_init()
 */
int guest_host_bind(const struct guest_host_cfg *c);
void guest_host_unbind(void);

/* Run the I/O workload (GMEM_ABI_TEST_IO, boot_info.io) as vCPU cpu on
 * this thread; returns when the workload does. */
void guest_host_vcpu(unsigned int cpu);

void guest_host_get_stats(struct guest_host_stats *st);

/* The workload's bounce pool (bounce and mixed modes) after its run. */
struct bounce_pool;
struct bounce_pool *guest_host_pool(void);

#endif /* GMEMKIT_HARNESS_GUEST_HOST_H */
