/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The I/O workload's part of the guest <-> VMM ABI (GMEM_ABI_TEST_IO): the
 * configuration the VMM writes into boot_info.io, the test-area layout both
 * sides compute from it, and the results the guest writes into results.io.
 * Included by gmemkit/abi.h (the boot and transport ABI), after the guest
 * physical layout it builds on; freestanding like it.
 */
#ifndef GMEMKIT_IO_LAYOUT_H
#define GMEMKIT_IO_LAYOUT_H

#ifndef GMEMKIT_ABI_H
#error "include gmemkit/abi.h, not gmemkit/io_layout.h"
#endif

#include "gmemkit/platform.h"

/*
 * The I/O modes, the one list: X(ID, value, "name", swept), value in the
 * ABI (io.mode), 1 up without a gap; swept 1 for a mode gmemkit bench
 * sweeps (its --modes and the report's columns, in this order:
 * gmemkit/bench_io.h), 0 for the stress's.  enum gmem_abi_io_mode and the
 * names (bench_io_mode_name()) derive from it.
 *
 *   shared           buffers in always-shared memory
 *   bounce           copy through the bounce pool
 *   inplace          share, I/O, unshare per request
 *   inplace-batch    one share/unshare per batch
 *   adaptive         bounce below a measured threshold
 *   mixed            stress: each request shared, bounce or inplace at
 *                    random, some inplace-batch
 *   inplace-scatter  batches whose buffers lie in pieces at random pages:
 *                    one share/unshare per contiguous run
 *   persistent       copy through per-slot buffers shared once (persistent
 *                    grants style)
 */
#define GMEM_ABI_IO_MODES(X)					\
	X(SHARED, 1, "shared", 1)				\
	X(BOUNCE, 2, "bounce", 1)				\
	X(INPLACE, 3, "inplace", 1)				\
	X(INPLACE_BATCH, 4, "inplace-batch", 1)			\
	X(ADAPTIVE, 5, "adaptive", 1)				\
	X(MIXED, 6, "mixed", 0)					\
	X(INPLACE_SCATTER, 7, "inplace-scatter", 1)		\
	X(PERSISTENT, 8, "persistent", 1)

enum gmem_abi_io_mode {
#define GMEM_ABI_IO_MODE_ENUM(id, value, name, swept)	GMEM_ABI_IO_##id = (value),
	GMEM_ABI_IO_MODES(GMEM_ABI_IO_MODE_ENUM)
#undef GMEM_ABI_IO_MODE_ENUM
	GMEM_ABI_IO_MODE_MAX
};

enum gmem_abi_io_rw {
	GMEM_ABI_IO_READ = 1,
	GMEM_ABI_IO_WRITE,
	GMEM_ABI_IO_RANDREAD,
	GMEM_ABI_IO_RANDWRITE,
	GMEM_ABI_IO_RANDRW,		/* 50% reads */
	GMEM_ABI_IO_RW_MAX
};

/* io.flags */
#define GMEM_ABI_IOF_VERIFY	(1U << 0)	/* prefill, stamp writes, check reads */
#define GMEM_ABI_IOF_BAD_DESC	(1U << 1)	/* test: malformed requests first */
#define GMEM_ABI_IOF_UNSHARE_BUSY (1U << 2)	/* test: unshare during own I/O */
/* stress (MIXED mode only): between requests each vCPU shares/unshares
 * random pages of its churn scratch area and sometimes unshares the buffer
 * of one of its in-place requests the device holds (-EBUSY expected). */
#define GMEM_ABI_IOF_CHURN	(1U << 3)
/* test: while the device holds a read, UNPIN its buffer (refused: no
 * test services in an I/O run) and unshare it (-EBUSY, the pin holds) */
#define GMEM_ABI_IOF_STEAL_PIN	(1U << 4)
/* the backend injects faults (the host stress harness): I/O errors are
 * counted, not failures, and a failed write leaves its block's sectors at
 * their old or new generation until a write of the block succeeds */
#define GMEM_ABI_IOF_FAULTS	(1U << 5)
/* the vCPUs stop at the end of the measured run with requests in flight
 * (no drain, no read-back): what a device reset must then clean up */
#define GMEM_ABI_IOF_ABANDON	(1U << 6)
/* with VERIFY: check every word of each sector read, not only its header
 * and check words (gmemkit/sector.h; the stress harness) */
#define GMEM_ABI_IOF_VERIFY_ALL	(1U << 7)
#define GMEM_ABI_IOF_ALL	255U
#define GMEM_ABI_IO_CHURN_PAGES	64	/* scratch pages per vCPU */

#define GMEM_ABI_IO_MAX_QD	64
#define GMEM_ABI_IO_MAX_VCPUS	8
#define GMEM_ABI_IO_MIN_BS	4096ULL
#define GMEM_ABI_IO_MAX_BS	(1ULL << 20)

/* Written by the VMM into boot_info.io for GMEM_ABI_TEST_IO. */
struct gmem_abi_io_config {
	uint32_t mode;			/* enum gmem_abi_io_mode */
	uint32_t rw;			/* enum gmem_abi_io_rw */
	uint32_t flags;			/* GMEM_ABI_IOF_* */
	uint32_t qd;			/* requests in flight per vCPU */
	uint64_t bs;			/* bytes, power of 2, 4 KiB..1 MiB */
	uint64_t runtime_ns;		/* timed run; 0: ios per vCPU */
	uint64_t ios;			/* I/Os per vCPU when runtime_ns is 0 */
	uint64_t seed;			/* random offsets */
	uint64_t delay_ms;		/* UNSHARE_BUSY: wait before unsharing */
	uint64_t span;			/* blocks per vCPU touched; 0: default */
	uint64_t pool_size;		/* bounce pool bytes (BOUNCE, ADAPTIVE,
					 * MIXED): see gmem_abi_io_pool_ok() */
	uint64_t persist_size;		/* PERSISTENT: bytes per buffer, a power
					 * of 2 >= bs, <= GMEM_ABI_IO_MAX_BS */
	uint64_t granule;		/* conversion granule of guest RAM:
					 * GMEM_ABI_PAGE_SIZE, or 2 MiB on huge
					 * pages (0: a page) */
	uint32_t platform;		/* enum plat (gmemkit/platform.h): how
					 * the guest converts; 0: ideal */
	uint32_t adapt_paths;		/* ADAPTIVE: a bit per enum adapt_path
					 * (gmemkit/adapt.h) it chooses from;
					 * 0: all */
};

/*
 * The guest rounds every conversion out to the granule; what that exposes
 * beyond the I/O is in results.conv_bytes.  So that a request's buffer
 * converts without its neighbours', the buffers of the modes that convert
 * per request (inplace, adaptive, mixed) lie a granule apart when the
 * granule is larger than bs; inplace-batch packs its buffers (a batch
 * converts the whole granules they lie in, at once); every vCPU's buffers
 * start on a granule.  inplace-scatter and mixed need 4 KiB granules.
 */
static inline uint64_t gmem_abi_io_granule(const struct gmem_abi_io_config *io)
{
	return io->granule ? io->granule : GMEM_ABI_PAGE_SIZE;
}

static inline uint64_t gmem_abi_io_stride(const struct gmem_abi_io_config *io)
{
	uint64_t g = gmem_abi_io_granule(io);
	int per_request = io->mode == GMEM_ABI_IO_INPLACE ||
			  io->mode == GMEM_ABI_IO_ADAPTIVE || io->mode == GMEM_ABI_IO_MIXED;

	return per_request && g > io->bs ? g : io->bs;
}

/* One vCPU's private buffers: qd slots, rounded up to the granule. */
static inline uint64_t gmem_abi_io_cpu_bufs(const struct gmem_abi_io_config *io)
{
	uint64_t g = gmem_abi_io_granule(io), n = gmem_abi_io_stride(io) * io->qd;

	return (n + g - 1) / g * g;
}

/*
 * Test-area layout of an I/O run, computed by both sides from the
 * gmem_abi_io_config: vCPU v's private buffers at GMEM_ABI_TEST_GPA +
 * v * qd * bs (qd * bs contiguous bytes), then, 2 MiB aligned, the run's
 * second shared area, shared once by the guest at start: the shared-mode
 * buffers (same layout), the bounce pool (bounce and adaptive modes;
 * pool_size bytes, one area per vCPU) or the persistent buffers
 * (persistent mode: qd buffers of persist_size bytes per vCPU, vCPU v's
 * at v * qd * persist_size).  MIXED mode has both: the bounce pool first,
 * then the shared buffers; after that, 2 MiB aligned, the churn scratch
 * (GMEM_ABI_IO_CHURN_PAGES private pages per vCPU).  Last, 2 MiB aligned,
 * the bounce pool's metadata (private; modes with a pool only).
 *
 * The bounce pool defaults to Linux's swiotlb default, 64 MiB
 * (IO_TLB_DEFAULT_SIZE); SEV/TDX guests size theirs to 6% of RAM clamped
 * to [64 MiB, 1 GiB] (mem_encrypt_setup_arch()), so any size in
 * [gmem_abi_io_pool_min(), 1 GiB] that is a multiple of the area unit is
 * accepted.  Requests that do not fit wait for completions (bounce_full).
 */
#define GMEM_ABI_IO_BOUNCE_SEG	(256ULL << 10)
#define GMEM_ABI_IO_POOL_DEFAULT (64ULL << 20)	/* IO_TLB_DEFAULT_SIZE */
#define GMEM_ABI_IO_POOL_MAX	(1ULL << 30)	/* the CoCo clamp */

static inline uint64_t gmem_abi_io_areas(uint32_t vcpus)
{
	uint64_t a = 1;

	while (a < vcpus)
		a <<= 1;
	return a;
}

/* Pool sizes are multiples of one segment per area. */
static inline uint64_t gmem_abi_io_pool_unit(uint32_t vcpus)
{
	return GMEM_ABI_IO_BOUNCE_SEG * gmem_abi_io_areas(vcpus);
}

/* Smallest pool: one request in flight per vCPU plus two units. */
static inline uint64_t gmem_abi_io_pool_min(uint64_t bs, uint32_t vcpus)
{
	uint64_t unit = gmem_abi_io_pool_unit(vcpus);
	uint64_t need = bs * vcpus + 2 * unit;

	return (need + unit - 1) / unit * unit;
}

/* Whether pool_size is one the run accepts for bs and vcpus. */
static inline int gmem_abi_io_pool_ok(uint64_t pool_size, uint64_t bs, uint32_t vcpus)
{
	return pool_size >= gmem_abi_io_pool_min(bs, vcpus) &&
	       pool_size <= GMEM_ABI_IO_POOL_MAX &&
	       !(pool_size % gmem_abi_io_pool_unit(vcpus));
}

/* Bytes of every vCPU's private (or shared-mode) buffers. */
static inline uint64_t gmem_abi_io_bufs_size(const struct gmem_abi_io_config *io,
					     uint32_t vcpus)
{
	return gmem_abi_io_cpu_bufs(io) * vcpus;
}

/*
 * Platforms that destroy contents on conversion (tdx, snp, cca): an
 * in-place request's data lives in a private "keep" buffer and the guest
 * copies it into the shared buffer after the share (write) or out of it
 * before the unshare (read).  One keep buffer per slot, qd * bs per vCPU
 * (rounded up to the granule), after the private buffers.
 */
static inline int gmem_abi_io_platform_destroys(uint32_t platform)
{
	return plat_in(platform, PLAT_DESTROYS_SET);
}

static inline uint64_t gmem_abi_io_keep_cpu(const struct gmem_abi_io_config *io)
{
	uint64_t g = gmem_abi_io_granule(io), n = io->bs * io->qd;

	if (!gmem_abi_io_platform_destroys(io->platform))
		return 0;
	return (n + g - 1) / g * g;
}

static inline uint64_t gmem_abi_io_keep_gpa(const struct gmem_abi_io_config *io,
					    uint32_t vcpus)
{
	return GMEM_ABI_TEST_GPA + gmem_abi_io_bufs_size(io, vcpus);
}

static inline uint64_t gmem_abi_io_shared_gpa(const struct gmem_abi_io_config *io,
					      uint32_t vcpus)
{
	uint64_t end = gmem_abi_io_keep_gpa(io, vcpus) + gmem_abi_io_keep_cpu(io) * vcpus;

	return (end + 0x1fffffULL) & ~0x1fffffULL;
}

/* The persistent buffers: qd per vCPU, persist_size bytes each. */
static inline uint64_t gmem_abi_io_persist_pool(const struct gmem_abi_io_config *io,
						uint32_t vcpus)
{
	return io->persist_size * io->qd * vcpus;
}

static inline uint64_t gmem_abi_io_shared_size(const struct gmem_abi_io_config *io,
					       uint32_t vcpus)
{
	switch (io->mode) {
	case GMEM_ABI_IO_SHARED:
		return gmem_abi_io_bufs_size(io, vcpus);
	case GMEM_ABI_IO_BOUNCE:
		return io->pool_size;
	case GMEM_ABI_IO_ADAPTIVE:	/* every path it may take: pool, then
					 * the persistent buffers */
		return io->pool_size + gmem_abi_io_persist_pool(io, vcpus);
	case GMEM_ABI_IO_MIXED:
		return io->pool_size + gmem_abi_io_bufs_size(io, vcpus);
	case GMEM_ABI_IO_PERSISTENT:
		return gmem_abi_io_persist_pool(io, vcpus);
	default:
		return 0;
	}
}

/* MIXED mode: the churn scratch, after the shared area. */
static inline uint64_t gmem_abi_io_churn_gpa(const struct gmem_abi_io_config *io,
					     uint32_t vcpus)
{
	uint64_t end = gmem_abi_io_shared_gpa(io, vcpus) +
		       gmem_abi_io_shared_size(io, vcpus);

	return (end + 0x1fffffULL) & ~0x1fffffULL;
}

/*
 * INPLACE_SCATTER: the data of a batch lies in pieces of
 * gmem_abi_io_scatter_piece(bs) bytes at random piece-aligned places of a
 * per-vCPU area twice the size of the vCPU's buffers (2 * qd * bs), after
 * the private buffers (the mode has no shared area).
 */
#define GMEM_ABI_IO_SCATTER_PIECES	16	/* most pieces per request */

static inline uint64_t gmem_abi_io_scatter_piece(uint64_t bs)
{
	uint64_t p = bs / GMEM_ABI_IO_SCATTER_PIECES;

	return p < GMEM_ABI_PAGE_SIZE ? GMEM_ABI_PAGE_SIZE : p;
}

static inline uint64_t gmem_abi_io_scatter_gpa(const struct gmem_abi_io_config *io,
					       uint32_t vcpus)
{
	return gmem_abi_io_shared_gpa(io, vcpus);
}

static inline uint64_t gmem_abi_io_scatter_size(const struct gmem_abi_io_config *io)
{
	return 2 * io->bs * io->qd;		/* per vCPU */
}

static inline int gmem_abi_io_has_pool(uint32_t mode)
{
	return mode == GMEM_ABI_IO_BOUNCE || mode == GMEM_ABI_IO_ADAPTIVE ||
	       mode == GMEM_ABI_IO_MIXED;
}

/* The bounce pool's metadata (private, like swiotlb's): after the shared
 * area (MIXED: after the churn scratch), 2 MiB aligned.  Room for
 * bounce_meta_size() of any valid pool: 24 bytes per 2 KiB slot plus
 * per-area and per-segment words, under pool_size / 64 + 64 KiB. */
static inline uint64_t gmem_abi_io_meta_gpa(const struct gmem_abi_io_config *io,
					    uint32_t vcpus)
{
	uint64_t end = gmem_abi_io_shared_gpa(io, vcpus) +
		       gmem_abi_io_shared_size(io, vcpus);

	if (io->mode == GMEM_ABI_IO_MIXED)
		end = gmem_abi_io_churn_gpa(io, vcpus) +
		      GMEM_ABI_IO_CHURN_PAGES * GMEM_ABI_PAGE_SIZE * vcpus;
	return (end + 0x1fffffULL) & ~0x1fffffULL;
}

static inline uint64_t gmem_abi_io_meta_size(const struct gmem_abi_io_config *io)
{
	return gmem_abi_io_has_pool(io->mode) ? io->pool_size / 64 + (64ULL << 10) : 0;
}

/* Guest RAM an I/O run needs (a multiple of 2 MiB, at least 64 MiB). */
static inline uint64_t gmem_abi_io_mem_size(const struct gmem_abi_io_config *io,
					    uint32_t vcpus)
{
	uint64_t end = gmem_abi_io_meta_gpa(io, vcpus) + gmem_abi_io_meta_size(io) +
		       0x200000ULL;

	if (io->mode == GMEM_ABI_IO_INPLACE_SCATTER)
		end = gmem_abi_io_scatter_gpa(io, vcpus) +
		      gmem_abi_io_scatter_size(io) * vcpus + 0x200000ULL;
	end = (end + 0x1fffffULL) & ~0x1fffffULL;
	return end < (64ULL << 20) ? (64ULL << 20) : end;
}

/* Filled by the guest (vCPU 0, summed over vCPUs) into results.io. */
struct gmem_abi_io_results {
	uint64_t ios, bytes;		/* completed I/Os of the measured run */
	uint64_t elapsed_ns;		/* first submit to last completion */
	uint64_t lat_min_ns, lat_p50_ns, lat_p99_ns, lat_p999_ns, lat_max_ns;
	uint64_t kicks;			/* QueueNotify writes (ioeventfd exits) */
	uint64_t kick_ns;		/* guest time in the kicks */
	uint64_t conv_calls;		/* share/unshare requests (exits) */
	uint64_t conv_bytes;		/* bytes the to-shared calls converted
					 * (rounded out to the granule) */
	uint64_t conv_ns;		/* guest time in them (exit + host work) */
	uint64_t conv_host_ns;		/* of which the VMM's work on them
					 * (vcpu_page.conv_host_ns, each at most
					 * its call's guest-observed time) */
	uint64_t vcpu_ns;		/* sum over vCPUs of their measured run
					 * time: what the split divides */
	uint64_t conv_refused;		/* -EBUSY answers */
	uint64_t copy_bytes, copy_ns;	/* bounce copies, and the keep copies
					 * below (all the guest's copies) */
	uint64_t keep_bytes, keep_ns;	/* of which the copies that keep an
					 * in-place I/O's data on a platform
					 * that destroys contents */
	uint64_t conv_pages;		/* granules the calls covered ... */
	uint64_t conv_entries;		/* ... in this many ranges */
	uint64_t bounce_full;		/* bounce_map -ENOSPC (waited) */
	uint64_t io_errors;		/* status other than OK */
	uint64_t verified;		/* sectors checked */
	uint64_t verify_errors;		/* sectors that did not match */
	uint64_t prefill_ios;		/* VERIFY: writes before the run */
	uint64_t touch_ios, touch_bytes; /* the device's first touch of the
					 * shared area: writes before the run */
	/* adaptive: the run's smoothed protection cost per I/O of each
	 * path (vCPU 0's, ns; 0 if never measured), re-probes of the path
	 * not chosen, and changes of the chosen path */
	uint64_t adapt_bounce_ns, adapt_inplace_ns, adapt_persist_ns;
	uint64_t adapt_batch_ns;	/* ... in place, batched */
	uint64_t adapt_probes, adapt_switches;
	uint64_t adapt_stopped;		/* conversion samples stopped at their
					 * budget (every vCPU), those requests
					 * bounced */
	uint64_t adapt_device_ns;	/* the converting paths' device extra
					 * per I/O, from the rate checks (vCPU
					 * 0's, ns; gmemkit/adapt.h) ... */
	uint64_t adapt_rate_checks;	/* ... and how many it ran */
	uint64_t batches;		/* inplace-batch / inplace-scatter */
	uint64_t scatter_pieces;	/* inplace-scatter: pieces of data ... */
	uint64_t scatter_runs;		/* ... and contiguous runs converted */
	uint64_t bounced, inplaced;	/* requests by path */
	uint64_t persisted;		/* ... through a persistent buffer */
	uint64_t batched;		/* adaptive: of inplaced, those converted
					 * with the others of their submission
					 * (reap) pass in one call */
	uint64_t bad_sent, bad_ioerr;	/* BAD_DESC: requests, IOERR answers */
	int64_t busy_status;		/* UNSHARE_BUSY: the refused unshare */
	int64_t busy_after;		/* UNSHARE_BUSY: unshare after completion */
	int64_t steal_status;		/* STEAL_PIN: the UNPIN of the held buffer */
	uint64_t capacity;		/* device sectors seen by the driver */
	uint32_t queue_size;		/* descriptors in the virtqueue */
	uint32_t done;			/* 1 once filled */
	/* Every request of the run (prefill, measured, read-back, bad and
	 * busy tests): submitted, completed, and completions for a request
	 * not in flight (a duplicate) or unknown to the driver. */
	uint64_t all_submitted, all_completed, dup_completions;
	uint64_t mixed_shared;		/* MIXED: requests on the shared path */
	uint64_t mixed_batches;		/* MIXED: inplace-batch batches */
	uint64_t ebusy_total;		/* every -EBUSY the guest was answered */
	uint64_t churn_conv;		/* CHURN: scratch conversions done */
	uint64_t churn_errors;		/* CHURN: failed, or content changed */
	uint64_t inflight_tries;	/* CHURN: unshares of a held buffer */
	uint64_t inflight_refused;	/* ... answered -EBUSY */
	uint64_t inflight_won;		/* ... answered 0 (device had just
					 * unpinned: harmless, counted) */
	uint64_t conv_kicks;		/* queue transport: kicks (ioeventfd
					 * exits) of the measured run */
	uint64_t all_io_errors;		/* requests of the whole run completed
					 * with a status other than OK */
};

/* The tag of the sectors an I/O run writes (gmemkit/sector.h): its mode. */
#define GMEM_ABI_IO_TAG(mode)	(0x494f0000U | (uint32_t)(mode))	/* "IO" */

#endif /* GMEMKIT_IO_LAYOUT_H */
