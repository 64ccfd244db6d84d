/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One guest I/O run: a VM (gmemkit/vm.h) with the virtio-blk device
 * (gmemkit/virtio_blk.h) at GMEM_ABI_VIRTIO_MMIO_GPA, its guest running the
 * GMEM_ABI_TEST_IO workload (guest/io.c) in one of the I/O modes.  What
 * `gmemkit io-bench` and tests/kvm_io.c run.
 *
 * The device: notifications through KVM_IOEVENTFD on QueueNotify to the
 * device thread, the other registers through KVM_EXIT_MMIO; queue size
 * 1024.  Guest RAM is sized for the run (gmem_abi_io_mem_size()).
 */
#ifndef GMEMKIT_BENCH_IO_H
#define GMEMKIT_BENCH_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gmemkit/abi.h"
#include "gmemkit/gmem.h"
#include "gmemkit/virtio_blk.h"
#include "gmemkit/vm.h"

struct bench_io_config {
	enum gmem_abi_io_mode mode;
	enum gmem_abi_io_rw rw;
	uint64_t bs;			/* power of 2, 4 KiB..1 MiB */
	unsigned int qd;		/* 1..GMEM_ABI_IO_MAX_QD, per vCPU */
	unsigned int vcpus;		/* 1..GMEM_ABI_IO_MAX_VCPUS */
	double runtime_s;		/* > 0: timed run (at most 3600) */
	uint64_t ios;			/* runtime_s == 0: I/Os per vCPU */
	uint64_t span;			/* blocks per vCPU; 0: default */
	uint32_t flags;			/* GMEM_ABI_IOF_* */
	uint64_t delay_ms;		/* GMEM_ABI_IOF_UNSHARE_BUSY wait */
	uint64_t seed;
	uint64_t pool_size;		/* bounce pool (bounce, adaptive, mixed);
					 * 0: GMEM_ABI_IO_POOL_DEFAULT (64 MiB,
					 * Linux's); else gmem_abi_io_pool_ok() */
	uint64_t persist_size;		/* persistent: bytes per buffer, a power
					 * of 2 in [bs, 1 MiB]; 0: 1 MiB (the
					 * driver's largest request) */
	const char *backend;		/* blk_backend_open() spec */
	struct blk_backend *custom;	/* instead of backend (tests); owned
					 * by the run once it is called */
	enum vmm_transport transport;
	unsigned int platform;		/* enum plat (gmemkit/platform.h): the
					 * calls, call path and contents of the
					 * guest's conversions; 0: ideal.  tdx,
					 * snp and cca run guest RAM destructive
					 * and need a mode other than mixed;
					 * transport AUTO becomes the platform's
					 * path (queue for pkvm and cca) */
	unsigned int adapt_paths;	/* adaptive: a bit per enum adapt_path
					 * (gmemkit/adapt.h) chosen from; 0: all */
	enum vmm_conv_model conv_model;	/* how guest RAM converts (vm.h);
					 * VMM_CONV_HUGE: not with inplace-
					 * scatter or mixed (bench_io_huge_ok) */
	unsigned int poll_us;		/* device busy polling (vblk_params);
					 * the driver then skips notifications
					 * while VIRTQ_USED_F_NO_NOTIFY is set */
	int conv_poll_us;		/* queue transport: vmm_config's */
	bool conv_no_pin;		/* queue transport: vmm_config's */
	unsigned int timeout_ms;	/* 0: runtime + 120 s */
	FILE *console;
	bool quiet;
};

struct bench_io_result {
	struct vmm_result vm;	/* how the run ended, guest results */
	struct gmem_abi_io_results io;	/* copy of vm.guest.io */
	struct vblk_stats dev;	/* device counters after the run */
	struct gmem_stats mem;		/* guest RAM counters after the run */
	enum gmem_backing backing;
	enum vmm_conv_model conv_model;
	unsigned int platform;		/* enum plat */
	uint64_t granule;		/* conversion granule of guest RAM */
	uint64_t conv_host_ns;		/* VMM time in gmem_share/unshare, whole
					 * run (GMEM_ABI_CNT_CONV_HOST_NS) */
	uint64_t conv_ok;		/* conversions done, whole run */
	char backend[16], engine[16];
	bool direct;
	uint64_t mem_size;		/* guest RAM of the run */
	uint64_t pool_size;		/* bounce pool bytes (0: no pool) */
	uint64_t persist_pool;		/* persistent buffers, all queues */
	uint64_t shared_bytes;		/* the run's area shared once at start */
};

/* The transport a run uses: c->transport, or for AUTO the platform's
 * call path (queue for pkvm and cca, else AUTO's resolution). */
enum vmm_transport bench_io_transport(const struct bench_io_config *c);

/* Whether a mode runs on 2 MiB pages (VMM_CONV_HUGE). */
bool bench_io_huge_ok(enum gmem_abi_io_mode mode);

/*
 * bench_io_run() - create the VM and device, run, collect, tear down.
 * Returns 0 when the run happened (r->vm.pass says whether the guest
 * passed), or:
 *   -EINVAL      c or r NULL, mode/rw unknown, bs not a power of 2 in
 *                [4 KiB, 1 MiB], qd or vcpus out of range, runtime_s
 *                negative or above 3600 with ios 0 allowed only for flag
 *                runs, unknown flags, GMEM_ABI_IOF_CHURN without mode
 *                GMEM_ABI_IO_MIXED, poll_us above 1000000, neither
 *                backend nor custom, a bad backend spec, a pool_size
 *                gmem_abi_io_pool_ok() refuses (pool modes), a
 *                persist_size not a power of 2 in [bs, 1 MiB], an
 *                unknown conv_model, VMM_CONV_HUGE with a mode
 *                bench_io_huge_ok() refuses, an unknown platform, mode
 *                mixed on a platform that destroys contents
 *   -ENODEV      no usable /dev/kvm
 *   -ENOSPC      the run needs more than GMEM_ABI_MEM_MAX of guest RAM,
 *                or (VMM_CONV_HUGE) more 2 MiB pages than are reserved
 *   -EOPNOTSUPP  (eager, huge) userfaultfd minor faults not offered
 *   or the errors of vmm_create(), blk_backend_open(),
 *   vblk_create(), vmm_set_mmio_handler(),
 *   vmm_add_ioeventfd(), vblk_start(), vmm_run().
 * The custom backend is destroyed in every case.
 */
int bench_io_run(const struct bench_io_config *c, struct bench_io_result *r);

/* The pool and persistent buffer sizes a run of c uses (defaults applied). */
uint64_t bench_io_pool_size(const struct bench_io_config *c);
uint64_t bench_io_persist_size(const struct bench_io_config *c);

/*
 * The modes gmemkit bench sweeps: GMEM_ABI_IO_MODES' swept ones, in the
 * list's order.  BENCH_IO_SWEEP_<ID> is a mode's index among them (its bit
 * in bench's --modes, its column in the report), BENCH_IO_SWEEP_MODES
 * their number, bench_io_sweep_names[] their names.
 */
#define BENCH_IO_IF_SWEPT_1(...)	__VA_ARGS__
#define BENCH_IO_IF_SWEPT_0(...)
#define BENCH_IO_SWEEP_ENUM(id, value, name, swept)	\
	BENCH_IO_IF_SWEPT_##swept(BENCH_IO_SWEEP_##id,)

enum bench_io_sweep_mode {
	GMEM_ABI_IO_MODES(BENCH_IO_SWEEP_ENUM)
	BENCH_IO_SWEEP_MODES
};

extern const char *const bench_io_sweep_names[BENCH_IO_SWEEP_MODES];

/* Names: GMEM_ABI_IO_MODES' (gmemkit/io_layout.h);
 * "read", "write", "randread", "randwrite", "randrw".  -EINVAL if unknown. */
int bench_io_mode_from_name(const char *name, enum gmem_abi_io_mode *out);
const char *bench_io_mode_name(enum gmem_abi_io_mode m);
int bench_io_rw_from_name(const char *name, enum gmem_abi_io_rw *out);
const char *bench_io_rw_name(enum gmem_abi_io_rw rw);

/*
 * bench_io_check_workload() - the checks bench_io_run() makes of the
 * workload's fields (everything above but backend and custom, which it
 * does not look at): 0, or -EINVAL as listed for bench_io_run().
 */
int bench_io_check_workload(const struct bench_io_config *c);

/* The boot_info.io a run of c hands its guest (c checked). */
void bench_io_abi_config(struct gmem_abi_io_config *io, const struct bench_io_config *c);

#endif /* GMEMKIT_BENCH_IO_H */
