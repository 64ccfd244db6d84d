/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bounce pool, modelled on Linux kernel/dma/swiotlb.c.
 *
 * I/O to or from memory the device may not touch (a protected guest's
 * private memory) goes through a pool that is shared with the device once:
 * bounce_map() takes free slots of the pool, copies the data in for a
 * device read; bounce_unmap() copies the device's data out and frees the
 * slots.  The design follows swiotlb:
 *
 *   - the pool is cut into 2 KiB slots (BOUNCE_SLOT_SIZE, IO_TLB_SIZE),
 *     grouped in segments of 128 slots (BOUNCE_SEG_SLOTS, IO_TLB_SEGSIZE);
 *     a mapping never crosses a segment, so at most 256 KiB is contiguous;
 *   - the segments are split evenly into areas, one per CPU, each with its
 *     own lock; a mapping searches the area of its CPU first (next fit from
 *     where that area's last allocation ended), then the other areas;
 *   - min_align_mask: the bits of the original address under this mask are
 *     kept in the bounce address (NVMe-style devices need it);
 *   - alloc_align_mask: the slots of a mapping start on that alignment; a
 *     mapping of a page (4 KiB) or more with neither mask given is page
 *     aligned, as swiotlb does for streaming mappings;
 *   - a map with any direction first copies the original into the pool,
 *     as swiotlb_tbl_map_single() does since Linux commit aa6f8dcbab47
 *     (5.19: a partial device write must not expose stale pool data), so
 *     an I/O read through the pool (the device writes: BOUNCE_FROM_DEVICE)
 *     costs a copy in at map and a copy out at unmap; unmap of a FROM_DEVICE or
 *     BIDIRECTIONAL mapping copies the pool back to the original.
 *     BOUNCE_F_NONLINUX_NO_PREFILL skips the copy in for FROM_DEVICE: a
 *     variant Linux does not have (the same commit removed the short-lived
 *     DMA_ATTR_OVERWRITE; skipping the copy leaked stale pool data), never
 *     a default.
 *
 * Unlike swiotlb, every call validates its arguments: a bad unmap or sync
 * returns an error and changes nothing.
 *
 * This file and lib/bounce.c are freestanding (stddef.h, stdint.h,
 * stdbool.h, memcpy/memset only): the guest image links the same code with
 * -DGMEM_GUEST.  The pool's metadata lives in memory the caller provides
 * (bounce_meta_size()); it must not lie inside the pool itself, which the
 * device can write.
 *
 * Addresses: a pool has a virtual base (where this side copies to and
 * from) and a device address base (what the device is given, e.g. the
 * guest physical address of the pool).  bounce_map() returns a device
 * address; unmap and sync take it back.
 *
 * Errors: every call returns 0 or a negative errno (Linux values); a
 * pool that bounce_pool_init() did not set up counts as a NULL pool
 * (-EINVAL).  In the guest, pass a CPU index and give nareas as a power of
 * two (swiotlb rounds the CPU count up the same way).
 *
 * Concurrency: any number of threads may call map/unmap/sync/get_stats at
 * once.  Unmapping or syncing a mapping while another thread maps, syncs
 * or unmaps that same mapping is the caller's race, as with the DMA API.
 */
#ifndef GMEMKIT_BOUNCE_H
#define GMEMKIT_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef GMEM_GUEST
/* No errno.h in the guest: the Linux values the API returns. */
#ifndef ENOENT
#define ENOENT	2
#endif
#ifndef E2BIG
#define E2BIG	7
#endif
#ifndef EINVAL
#define EINVAL	22
#endif
#ifndef ENOSPC
#define ENOSPC	28
#endif
#ifndef ERANGE
#define ERANGE	34
#endif
#else
#include <errno.h>
#endif

#define BOUNCE_SLOT_SHIFT	11				/* IO_TLB_SHIFT */
#define BOUNCE_SLOT_SIZE	(1u << BOUNCE_SLOT_SHIFT)	/* 2 KiB */
#define BOUNCE_SEG_SLOTS	128u				/* IO_TLB_SEGSIZE */
#define BOUNCE_SEG_SIZE		(BOUNCE_SEG_SLOTS * BOUNCE_SLOT_SIZE)
#define BOUNCE_MAX_MAPPING	BOUNCE_SEG_SIZE			/* 256 KiB */
#define BOUNCE_PAGE_SIZE	4096u
#define BOUNCE_MAX_AREAS	64u
/* Largest alloc_align_mask / min_align_mask accepted (4 GiB - 1). */
#define BOUNCE_MAX_ALIGN_MASK	0xffffffffull

enum bounce_dir {
	BOUNCE_TO_DEVICE	= 1,	/* device reads: copy in at map */
	BOUNCE_FROM_DEVICE	= 2,	/* device writes: copy out at unmap */
	BOUNCE_BIDIRECTIONAL	= 3,	/* both */
};

/* Flags for bounce_map() and bounce_unmap(). */
#define BOUNCE_F_SKIP_CPU_SYNC	(1u << 0)  /* no copy at all (DMA_ATTR_SKIP_CPU_SYNC) */
/* map FROM_DEVICE without the copy in: NOT what Linux does (see above) */
#define BOUNCE_F_NONLINUX_NO_PREFILL	(1u << 1)
#define BOUNCE_F_ALL		(BOUNCE_F_SKIP_CPU_SYNC | BOUNCE_F_NONLINUX_NO_PREFILL)

/*
 * Per-device constraints for bounce_map(); NULL means all zero.
 * Both masks are 0 or 2^k - 1, at most BOUNCE_MAX_ALIGN_MASK.
 */
struct bounce_attr {
	uint64_t min_align_mask;	/* low bits of orig_addr kept */
	uint64_t alloc_align_mask;	/* alignment of the allocation */
};

/* Internal; in the header only so that callers can embed the pool. */
struct bounce_area;
struct bounce_slot;

struct bounce_pool {
	uint8_t *vbase;			/* where this side copies */
	uint64_t dbase;			/* device address of the pool */
	uint64_t size;
	uint32_t nslots, nsegs;
	uint32_t nareas, area_nslots, area_shift;	/* shift 0: divide */
	uint32_t bm_stride;		/* bitmap words per area */
	struct bounce_area *areas;
	unsigned __int128 *bitmap;	/* bit set: slot free */
	struct bounce_slot *slots;
	uint32_t magic;
};

struct bounce_stats {
	uint64_t nslots;	/* slots in the pool (or area) */
	uint64_t used;		/* slots in use now */
	/*
	 * Highest number of slots in use at once.  Kept per area so that
	 * areas share no cache line: for the pool it is the sum of the
	 * areas' marks, an upper bound of the pool-wide peak (exact with one
	 * area or when the areas peaked together).
	 */
	uint64_t high_water;
	uint64_t mappings;	/* successful bounce_map() calls */
	uint64_t unmaps;	/* successful bounce_unmap() calls */
	uint64_t failures;	/* bounce_map() -ENOSPC (counted in the CPU's area) */
	uint64_t bytes_copied;	/* by map, unmap and sync */
};

/*
 * bounce_meta_size() - bytes of metadata for a pool of @size bytes split
 * into @nareas areas; 0 if bounce_pool_init() would refuse the pair.
 * BOUNCE_META_SIZE() is the same number as a constant expression (valid
 * pairs only), for static metadata where there is no allocator:
 *   static uint8_t meta[BOUNCE_META_SIZE(8 << 20, 1)] __attribute__((aligned(64)));
 * Per area one 64-byte line and 16 bytes per segment (rounded up to a
 * line), plus 24 bytes per slot: about 1.2% of the pool.
 */
#define BOUNCE_META_SIZE(size, nareas)					\
	((size_t)(nareas) * 64 +					\
	 (size_t)(nareas) * ((((size) / BOUNCE_SEG_SIZE / (nareas)) + 3) & ~(size_t)3) * 16 + \
	 ((((size_t)(size) >> BOUNCE_SLOT_SHIFT) * 24 + 63) & ~(size_t)63))
size_t bounce_meta_size(uint64_t size, unsigned int nareas);

/*
 * bounce_pool_init() - set up @pool over [@vbase, @vbase + @size), whose
 * device address is @dbase.  @meta (64-byte aligned, @meta_size >=
 * bounce_meta_size()) holds all pool state and must outlive the pool.
 * All slots start free; the pool contents are not touched.
 *
 * -EINVAL  NULL pointer; @size not a non-zero multiple of BOUNCE_SEG_SIZE
 *          or over 2^32 slots; @vbase or @dbase not slot aligned; @dbase +
 *          @size overflows; @nareas not a power of two in
 *          [1, BOUNCE_MAX_AREAS] or more than the segments or not dividing
 *          them; @meta misaligned or @meta_size too small.
 */
int bounce_pool_init(struct bounce_pool *pool, void *meta, size_t meta_size,
		     void *vbase, uint64_t dbase, uint64_t size,
		     unsigned int nareas);

/*
 * bounce_max_mapping_size() - largest size bounce_map() can take with this
 * @attr (NULL: no constraint): 256 KiB less the room min_align_mask may
 * need, as swiotlb_max_mapping_size(); 0 for a min_align_mask of 256 KiB
 * or more, or an invalid one.
 */
size_t bounce_max_mapping_size(const struct bounce_attr *attr);

/*
 * bounce_map() - bounce @size bytes at @orig (whose address for alignment
 * purposes is @orig_addr, e.g. its guest physical address) through the
 * pool for a transfer in direction @dir.  The area searched first is
 * @cpu % nareas.  On success *@bounce_addr is the device address of the
 * copy; (*@bounce_addr & min_align_mask) == (@orig_addr & min_align_mask).
 * @flags: BOUNCE_F_*.
 *
 * -EINVAL  NULL pointer, @size 0, bad @dir, unknown @flags, a mask that
 *          is not 2^k - 1 or too large.
 * -E2BIG   @size over bounce_max_mapping_size(@attr), or over 256 KiB
 *          once rounded up to alloc_align_mask.
 * -ENOSPC  no area has a free run that fits (counted in failures).
 * On error nothing is allocated and nothing is copied.
 */
int bounce_map(struct bounce_pool *pool, unsigned int cpu, void *orig,
	       uint64_t orig_addr, size_t size, enum bounce_dir dir,
	       const struct bounce_attr *attr, unsigned int flags,
	       uint64_t *bounce_addr);

/*
 * bounce_unmap() - end the mapping at @bounce_addr: copy the pool back to
 * the original for FROM_DEVICE and BIDIRECTIONAL (unless
 * BOUNCE_F_SKIP_CPU_SYNC) and free its slots.  @size and @dir must be
 * those given to bounce_map().  @flags: 0 or BOUNCE_F_SKIP_CPU_SYNC.
 *
 * -EINVAL  NULL pool, other @flags, bad @dir, or @size / @dir differ
 *          from the mapping's.
 * -ERANGE  @bounce_addr is outside the pool.
 * -ENOENT  no live mapping starts at @bounce_addr (never mapped, already
 *          unmapped, or an address inside a mapping).
 * On error the pool is unchanged.
 */
int bounce_unmap(struct bounce_pool *pool, uint64_t bounce_addr, size_t size,
		 enum bounce_dir dir, unsigned int flags);

/*
 * bounce_sync_for_cpu() / bounce_sync_for_device() - make [@bounce_addr,
 * @bounce_addr + @size), which lies in one live mapping of direction
 * @dir, coherent for the CPU (copy pool -> original if the mapping is
 * FROM_DEVICE or BIDIRECTIONAL) or for the device (copy original -> pool
 * if TO_DEVICE or BIDIRECTIONAL).  Otherwise no copy is needed and none
 * is done.
 *
 * -EINVAL  NULL pool, @size 0, bad @dir, @dir differs from the mapping's,
 *          or the range runs past the end of the mapping.
 * -ERANGE  @bounce_addr is outside the pool.
 * -ENOENT  @bounce_addr is not inside a live mapping.
 */
int bounce_sync_for_cpu(struct bounce_pool *pool, uint64_t bounce_addr,
			size_t size, enum bounce_dir dir);
int bounce_sync_for_device(struct bounce_pool *pool, uint64_t bounce_addr,
			   size_t size, enum bounce_dir dir);

/*
 * bounce_ptr() - this side's pointer to [@addr, @addr + @size) of the pool
 * (what a device emulation or a test reads and writes); NULL if the range
 * is empty or not inside the pool.
 */
void *bounce_ptr(const struct bounce_pool *pool, uint64_t addr, size_t size);

/*
 * bounce_get_stats() - counters of the whole pool.
 * bounce_get_area_stats() - counters of area @area.
 *
 * -EINVAL  NULL pointer or @area >= nareas.
 */
int bounce_get_stats(struct bounce_pool *pool, struct bounce_stats *st);
int bounce_get_area_stats(struct bounce_pool *pool, unsigned int area,
			  struct bounce_stats *st);

#endif /* GMEMKIT_BOUNCE_H */
