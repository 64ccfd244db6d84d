// SPDX-License-Identifier: GPL-2.0
/*
 * Bounce pool after Linux kernel/dma/swiotlb.c (see include/gmemkit/bounce.h).
 *
 * Freestanding: built into the host library and, with -DGMEM_GUEST, into
 * the guest image.  Only memcpy/memset are used from the C library.
 *
 * State, all in caller memory (bounce_meta_size()):
 *   areas   one 64-byte line per area: lock, next-fit index, counters;
 *   bitmap  one 128-bit word per segment, bit set = slot free; each
 *           area's words start on their own cache line;
 *   slots   per slot: owner (the head slot of the mapping holding it) and,
 *           in a head slot, the mapping's original pointer, size, offset,
 *           padding and direction.
 *
 * swiotlb keeps, per slot, the length of the free run starting there and
 * walks those counters on every allocation and release.  A 128-bit word
 * per segment gives the same first fit (from the area's next-fit index,
 * honouring the same alignment rules) with a handful of shifts, and a
 * release that costs the same for any position in the segment.
 */
#include <stddef.h>
#include <stdint.h>

#include "gmemkit/bounce.h"

#ifdef GMEM_GUEST
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
#else
#include <sched.h>
#include <string.h>
#endif

typedef unsigned __int128 u128;

#define POOL_MAGIC	0x62706f6cu	/* "bpol" */
#define NO_OWNER	UINT32_MAX
#define CACHE_LINE	64u

enum { SLOT_FREE = 0, SLOT_LIVE = 1, SLOT_DYING = 2 };

struct bounce_area {
	uint32_t lock;
	uint32_t index;		/* next-fit start, slot index in the area */
	uint32_t used;		/* under lock */
	uint32_t high_water;	/* under lock */
	uint64_t mappings;	/* under lock */
	uint64_t unmaps;	/* under lock */
	uint64_t failures;	/* atomic */
	uint64_t bytes_copied;	/* atomic */
} __attribute__((aligned(CACHE_LINE)));

struct bounce_slot {
	uint64_t orig;		/* head: original pointer */
	uint32_t owner;		/* head slot of the mapping, NO_OWNER if free */
	uint32_t size;		/* head: mapping size */
	uint16_t offset;	/* head: bounce address offset in the slot */
	uint8_t pad;		/* head: slots allocated before the head */
	uint8_t nslots;		/* head: slots allocated, pad included */
	uint8_t state;		/* head: SLOT_* */
	uint8_t dir;		/* head: enum bounce_dir */
	uint8_t rsv[2];
};

_Static_assert(sizeof(struct bounce_area) == CACHE_LINE, "area is one line");
_Static_assert(sizeof(struct bounce_slot) == 24, "slot layout");

/* ---- locking ------------------------------------------------------------ */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void area_lock(struct bounce_area *a)
{
	unsigned int spins = 0;

	while (__atomic_exchange_n(&a->lock, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&a->lock, __ATOMIC_RELAXED)) {
			cpu_relax();
#ifndef GMEM_GUEST
			/* The holder may be preempted: more threads than CPUs. */
			if (++spins >= 1024) {
				spins = 0;
				sched_yield();
			}
#else
			(void)spins;
#endif
		}
	}
}

static inline void area_unlock(struct bounce_area *a)
{
	__atomic_store_n(&a->lock, 0, __ATOMIC_RELEASE);
}

static inline void count_copy(struct bounce_area *a, uint64_t n)
{
	__atomic_fetch_add(&a->bytes_copied, n, __ATOMIC_RELAXED);
}

/* ---- layout ------------------------------------------------------------- */

struct layout {
	uint32_t nslots, nsegs, area_segs, bm_stride;
	size_t areas_off, bitmap_off, slots_off, total;
};

static inline size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool is_mask(uint64_t m)
{
	return !(m & (m + 1)) && m <= BOUNCE_MAX_ALIGN_MASK;
}

static bool get_layout(uint64_t size, unsigned int nareas, struct layout *l)
{
	uint64_t nslots;

	if (!size || size % BOUNCE_SEG_SIZE)
		return false;
	nslots = size >> BOUNCE_SLOT_SHIFT;
	if (nslots >= NO_OWNER)
		return false;
	if (!nareas || nareas > BOUNCE_MAX_AREAS || (nareas & (nareas - 1)))
		return false;
	l->nslots = (uint32_t)nslots;
	l->nsegs = (uint32_t)(nslots / BOUNCE_SEG_SLOTS);
	if (l->nsegs % nareas)
		return false;
	l->area_segs = l->nsegs / nareas;
	/* 16-byte words, four to a line: each area's words start a line. */
	l->bm_stride = (uint32_t)round_up(l->area_segs, 4);
	l->areas_off = 0;
	l->bitmap_off = (size_t)nareas * sizeof(struct bounce_area);
	l->slots_off = l->bitmap_off +
		       (size_t)nareas * l->bm_stride * sizeof(u128);
	l->total = round_up(l->slots_off +
			    (size_t)nslots * sizeof(struct bounce_slot),
			    CACHE_LINE);
	return true;
}

size_t bounce_meta_size(uint64_t size, unsigned int nareas)
{
	struct layout l;

	return get_layout(size, nareas, &l) ? l.total : 0;
}

int bounce_pool_init(struct bounce_pool *pool, void *meta, size_t meta_size,
		     void *vbase, uint64_t dbase, uint64_t size,
		     unsigned int nareas)
{
	struct layout l;
	uint8_t *m = meta;
	uint32_t i;

	if (!pool || !meta || !vbase)
		return -EINVAL;
	if (!get_layout(size, nareas, &l))
		return -EINVAL;
	if (((uintptr_t)vbase | dbase) & (BOUNCE_SLOT_SIZE - 1))
		return -EINVAL;
	if (dbase + size < dbase || (uintptr_t)vbase + size < (uintptr_t)vbase)
		return -EINVAL;
	if ((uintptr_t)meta % CACHE_LINE || meta_size < l.total)
		return -EINVAL;

	memset(pool, 0, sizeof(*pool));
	pool->vbase = vbase;
	pool->dbase = dbase;
	pool->size = size;
	pool->nslots = l.nslots;
	pool->nsegs = l.nsegs;
	pool->nareas = nareas;
	pool->area_nslots = l.area_segs * BOUNCE_SEG_SLOTS;
	pool->area_shift = 0;
	if (!(pool->area_nslots & (pool->area_nslots - 1)))
		pool->area_shift = (uint32_t)__builtin_ctz(pool->area_nslots);
	pool->bm_stride = l.bm_stride;
	pool->areas = (struct bounce_area *)(m + l.areas_off);
	pool->bitmap = (u128 *)(void *)(m + l.bitmap_off);
	pool->slots = (struct bounce_slot *)(void *)(m + l.slots_off);

	memset(m, 0, l.slots_off);
	for (i = 0; i < nareas; i++) {
		uint32_t s;

		for (s = 0; s < l.area_segs; s++)
			pool->bitmap[i * l.bm_stride + s] = ~(u128)0;
	}
	memset(pool->slots, 0, (size_t)l.nslots * sizeof(struct bounce_slot));
	for (i = 0; i < l.nslots; i++)
		pool->slots[i].owner = NO_OWNER;
	pool->magic = POOL_MAGIC;
	return 0;
}

size_t bounce_max_mapping_size(const struct bounce_attr *attr)
{
	uint64_t m = attr ? attr->min_align_mask : 0;

	/* As swiotlb_max_mapping_size(): leave room for the kept offset. */
	if (!m)
		return BOUNCE_MAX_MAPPING;
	if (!is_mask(m) || m >= BOUNCE_MAX_MAPPING)
		return 0;
	return BOUNCE_MAX_MAPPING - round_up(m, BOUNCE_SLOT_SIZE);
}

/* ---- search ------------------------------------------------------------- */

static inline bool pool_ok(const struct bounce_pool *pool)
{
	return pool && pool->magic == POOL_MAGIC;
}

static inline uint32_t area_of(const struct bounce_pool *pool, uint32_t idx)
{
	if (pool->area_shift)
		return idx >> pool->area_shift;
	return idx / pool->area_nslots;
}

static inline u128 low_bits(unsigned int n)
{
	return n >= 128 ? ~(u128)0 : (((u128)1 << n) - 1);
}

/* Bit p set iff slots p .. p + n - 1 are all free (and inside the word). */
static inline u128 free_runs(u128 f, unsigned int n)
{
	unsigned int len = 1, s;

	while (len < n && f) {
		s = len < n - len ? len : n - len;
		f &= f >> s;
		len += s;
	}
	return f;
}

static inline unsigned int lowest_bit(u128 v)
{
	uint64_t lo = (uint64_t)v;

	if (lo)
		return (unsigned int)__builtin_ctzll(lo);
	return 64u + (unsigned int)__builtin_ctzll((uint64_t)(v >> 64));
}

/* What a mapping needs from the slots it starts at. */
struct want {
	unsigned int nslots;
	uint64_t period;	/* start slots repeat every period (2^k) */
	uint64_t phase;		/* slot index (global) mod period */
	u128 pattern;		/* period < 128: bits at multiples of period */
};

/* Start positions in segment @seg (global segment number) that align. */
static inline u128 allowed(const struct want *w, uint64_t seg)
{
	uint64_t p0 = (w->phase - seg * BOUNCE_SEG_SLOTS) & (w->period - 1);

	if (w->period >= BOUNCE_SEG_SLOTS)
		return p0 < BOUNCE_SEG_SLOTS ? (u128)1 << p0 : 0;
	return w->pattern << p0;
}

/*
 * Next-fit search of area @ai, as swiotlb_search_pool_area(): the first
 * aligned free run at or after the area's index, wrapping once.  Returns
 * the global start slot or -1.  Caller holds the area lock.
 */
static int64_t area_search(struct bounce_pool *pool, uint32_t ai,
			   const struct want *w)
{
	struct bounce_area *a = &pool->areas[ai];
	u128 *bm = &pool->bitmap[(size_t)ai * pool->bm_stride];
	uint32_t area_segs = pool->area_nslots / BOUNCE_SEG_SLOTS;
	uint32_t s0 = a->index / BOUNCE_SEG_SLOTS;
	unsigned int b0 = a->index % BOUNCE_SEG_SLOTS;
	uint64_t seg_base = (uint64_t)ai * area_segs;
	uint32_t k, s;
	u128 c;

	if (w->nslots > pool->area_nslots - a->used)
		return -1;
	for (k = 0; k <= area_segs; k++) {
		s = (s0 + k) % area_segs;
		if (!bm[s])
			continue;
		c = free_runs(bm[s], w->nslots) & allowed(w, seg_base + s);
		if (k == 0)
			c &= ~low_bits(b0);
		else if (k == area_segs)
			c &= low_bits(b0);
		if (c) {
			unsigned int p = lowest_bit(c);

			bm[s] &= ~(low_bits(w->nslots) << p);
			return (int64_t)((seg_base + s) * BOUNCE_SEG_SLOTS + p);
		}
	}
	return -1;
}

/* ---- map / unmap / sync -------------------------------------------------- */

static inline bool dir_ok(enum bounce_dir dir)
{
	return dir == BOUNCE_TO_DEVICE || dir == BOUNCE_FROM_DEVICE ||
	       dir == BOUNCE_BIDIRECTIONAL;
}

/*
 * Work out slots and alignment as swiotlb_tbl_map_single() and
 * swiotlb_search_pool_area() do.  *offset: bytes from the start of the
 * allocation to the bounce address.
 */
static int plan(const struct bounce_pool *pool, uint64_t orig_addr,
		size_t size, const struct bounce_attr *attr, struct want *w,
		uint64_t *offset)
{
	uint64_t min_mask = attr ? attr->min_align_mask : 0;
	uint64_t amask = attr ? attr->alloc_align_mask : 0;
	uint64_t alloc, imask, m, k;

	if (!is_mask(min_mask) || !is_mask(amask))
		return -EINVAL;
	if (size > BOUNCE_MAX_MAPPING || size > bounce_max_mapping_size(attr))
		return -E2BIG;
	*offset = orig_addr & min_mask & (amask | (BOUNCE_SLOT_SIZE - 1));
	alloc = (size + *offset + amask) & ~amask;
	if (alloc > BOUNCE_MAX_MAPPING)
		return -E2BIG;
	if (!amask && !min_mask && alloc >= BOUNCE_PAGE_SIZE)
		amask = BOUNCE_PAGE_SIZE - 1;
	amask |= BOUNCE_SLOT_SIZE - 1;
	imask = min_mask & ~amask;
	m = amask | imask;		/* 2^K - 1 */

	w->nslots = (unsigned int)((alloc + BOUNCE_SLOT_SIZE - 1) >>
				   BOUNCE_SLOT_SHIFT);
	w->period = (m + 1) >> BOUNCE_SLOT_SHIFT;
	/* slot i aligns iff ((dbase >> 11) + i) % period == wanted bits. */
	w->phase = ((orig_addr & imask) >> BOUNCE_SLOT_SHIFT) -
		   (pool->dbase >> BOUNCE_SLOT_SHIFT);
	w->pattern = 1;
	if (w->period < BOUNCE_SEG_SLOTS)
		for (k = w->period; k < BOUNCE_SEG_SLOTS; k <<= 1)
			w->pattern |= w->pattern << k;
	return 0;
}

static void claim(struct bounce_pool *pool, struct bounce_area *a,
		  uint32_t start, const struct want *w, uint64_t offset,
		  void *orig, size_t size, enum bounce_dir dir)
{
	uint32_t pad = (uint32_t)(offset >> BOUNCE_SLOT_SHIFT);
	uint32_t head = start + pad, i;
	struct bounce_slot *h = &pool->slots[head];

	for (i = 0; i < w->nslots; i++)
		pool->slots[start + i].owner = head;
	h->orig = (uint64_t)(uintptr_t)orig;
	h->size = (uint32_t)size;
	h->offset = (uint16_t)(offset & (BOUNCE_SLOT_SIZE - 1));
	h->pad = (uint8_t)pad;
	h->nslots = (uint8_t)w->nslots;
	h->state = SLOT_LIVE;
	h->dir = (uint8_t)dir;

	a->index = (start - area_of(pool, start) * pool->area_nslots +
		    w->nslots) % pool->area_nslots;
	a->used += w->nslots;
	if (a->used > a->high_water)
		a->high_water = a->used;
	a->mappings++;
}

int bounce_map(struct bounce_pool *pool, unsigned int cpu, void *orig,
	       uint64_t orig_addr, size_t size, enum bounce_dir dir,
	       const struct bounce_attr *attr, unsigned int flags,
	       uint64_t *bounce_addr)
{
	struct bounce_area *a = NULL;
	uint64_t offset, addr;
	uint32_t i, ai = 0;
	int64_t start = -1;
	struct want w;
	int ret;

	if (!pool_ok(pool) || !orig || !bounce_addr || !size || !dir_ok(dir) ||
	    (flags & ~BOUNCE_F_ALL))
		return -EINVAL;
	ret = plan(pool, orig_addr, size, attr, &w, &offset);
	if (ret)
		return ret;

	for (i = 0; i < pool->nareas && start < 0; i++) {
		ai = (cpu + i) & (pool->nareas - 1);
		a = &pool->areas[ai];
		area_lock(a);
		start = area_search(pool, ai, &w);
		if (start >= 0)
			claim(pool, a, (uint32_t)start, &w, offset, orig, size,
			      dir);
		area_unlock(a);
	}
	if (start < 0) {
		a = &pool->areas[cpu & (pool->nareas - 1)];
		__atomic_fetch_add(&a->failures, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}

	addr = ((uint64_t)start << BOUNCE_SLOT_SHIFT) + offset;
	if (!(flags & BOUNCE_F_SKIP_CPU_SYNC) &&
	    !(dir == BOUNCE_FROM_DEVICE && (flags & BOUNCE_F_NONLINUX_NO_PREFILL))) {
		memcpy(pool->vbase + addr, orig, size);
		count_copy(a, size);
	}
	*bounce_addr = pool->dbase + addr;
	return 0;
}

/* Free the slots of the mapping whose head is @head.  Area lock held. */
static void release(struct bounce_pool *pool, struct bounce_area *a,
		    uint32_t head)
{
	struct bounce_slot *h = &pool->slots[head];
	uint32_t start = head - h->pad, n = h->nslots, i;
	uint32_t seg = start / BOUNCE_SEG_SLOTS;
	uint32_t ai = area_of(pool, start);
	uint32_t s = seg - ai * (pool->area_nslots / BOUNCE_SEG_SLOTS);

	for (i = 0; i < n; i++)
		pool->slots[start + i].owner = NO_OWNER;
	h->state = SLOT_FREE;
	pool->bitmap[(size_t)ai * pool->bm_stride + s] |=
		low_bits(n) << (start % BOUNCE_SEG_SLOTS);
	a->used -= n;
	a->unmaps++;
}

/* Pool offset of a device address, or -ERANGE. */
static inline int64_t pool_off(const struct bounce_pool *pool, uint64_t addr)
{
	if (addr < pool->dbase || addr - pool->dbase >= pool->size)
		return -ERANGE;
	return (int64_t)(addr - pool->dbase);
}

int bounce_unmap(struct bounce_pool *pool, uint64_t bounce_addr, size_t size,
		 enum bounce_dir dir, unsigned int flags)
{
	struct bounce_area *a;
	struct bounce_slot *h;
	int64_t off;
	uint32_t idx;
	bool copy;
	void *orig;

	if (!pool_ok(pool) || !dir_ok(dir) || (flags & ~BOUNCE_F_SKIP_CPU_SYNC))
		return -EINVAL;
	off = pool_off(pool, bounce_addr);
	if (off < 0)
		return (int)off;
	idx = (uint32_t)(off >> BOUNCE_SLOT_SHIFT);
	h = &pool->slots[idx];
	a = &pool->areas[area_of(pool, idx)];

	area_lock(a);
	if (h->owner != idx || h->state != SLOT_LIVE ||
	    h->offset != (off & (BOUNCE_SLOT_SIZE - 1))) {
		area_unlock(a);
		return -ENOENT;
	}
	if (h->size != size || h->dir != dir) {
		area_unlock(a);
		return -EINVAL;
	}
	copy = !(flags & BOUNCE_F_SKIP_CPU_SYNC) && dir != BOUNCE_TO_DEVICE;
	if (!copy) {
		release(pool, a, idx);
		area_unlock(a);
		return 0;
	}
	/* Copy out of the lock, as swiotlb does; the slots stay ours. */
	h->state = SLOT_DYING;
	orig = (void *)(uintptr_t)h->orig;
	area_unlock(a);

	memcpy(orig, pool->vbase + off, size);
	count_copy(a, size);

	area_lock(a);
	release(pool, a, idx);
	area_unlock(a);
	return 0;
}

static int sync_one(struct bounce_pool *pool, uint64_t bounce_addr,
		    size_t size, enum bounce_dir dir, bool for_cpu)
{
	uint64_t start, end, orig;
	struct bounce_area *a;
	struct bounce_slot *h;
	uint32_t idx, owner;
	int64_t off;

	if (!pool_ok(pool) || !size || !dir_ok(dir))
		return -EINVAL;
	off = pool_off(pool, bounce_addr);
	if (off < 0)
		return (int)off;
	idx = (uint32_t)(off >> BOUNCE_SLOT_SHIFT);
	a = &pool->areas[area_of(pool, idx)];

	area_lock(a);
	owner = pool->slots[idx].owner;
	if (owner == NO_OWNER || pool->slots[owner].state != SLOT_LIVE)
		goto enoent;
	h = &pool->slots[owner];
	start = ((uint64_t)owner << BOUNCE_SLOT_SHIFT) + h->offset;
	end = start + h->size;
	if ((uint64_t)off < start || (uint64_t)off >= end)
		goto enoent;
	if (h->dir != dir || size > end - (uint64_t)off) {
		area_unlock(a);
		return -EINVAL;
	}
	orig = h->orig + ((uint64_t)off - start);
	area_unlock(a);

	if (for_cpu && dir != BOUNCE_TO_DEVICE) {
		memcpy((void *)(uintptr_t)orig, pool->vbase + off, size);
		count_copy(a, size);
	} else if (!for_cpu && dir != BOUNCE_FROM_DEVICE) {
		memcpy(pool->vbase + off, (void *)(uintptr_t)orig, size);
		count_copy(a, size);
	}
	return 0;
enoent:
	area_unlock(a);
	return -ENOENT;
}

int bounce_sync_for_cpu(struct bounce_pool *pool, uint64_t bounce_addr,
			size_t size, enum bounce_dir dir)
{
	return sync_one(pool, bounce_addr, size, dir, true);
}

int bounce_sync_for_device(struct bounce_pool *pool, uint64_t bounce_addr,
			   size_t size, enum bounce_dir dir)
{
	return sync_one(pool, bounce_addr, size, dir, false);
}

void *bounce_ptr(const struct bounce_pool *pool, uint64_t addr, size_t size)
{
	if (!pool_ok(pool) || !size || addr < pool->dbase)
		return NULL;
	addr -= pool->dbase;
	if (addr >= pool->size || size > pool->size - addr)
		return NULL;
	return pool->vbase + addr;
}

/* ---- statistics ---------------------------------------------------------- */

static void add_area(struct bounce_pool *pool, unsigned int i,
		     struct bounce_stats *st)
{
	struct bounce_area *a = &pool->areas[i];

	area_lock(a);
	st->used += a->used;
	st->high_water += a->high_water;
	st->mappings += a->mappings;
	st->unmaps += a->unmaps;
	area_unlock(a);
	st->failures += __atomic_load_n(&a->failures, __ATOMIC_RELAXED);
	st->bytes_copied += __atomic_load_n(&a->bytes_copied, __ATOMIC_RELAXED);
	st->nslots += pool->area_nslots;
}

int bounce_get_stats(struct bounce_pool *pool, struct bounce_stats *st)
{
	unsigned int i;

	if (!pool_ok(pool) || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (i = 0; i < pool->nareas; i++)
		add_area(pool, i, st);
	return 0;
}

int bounce_get_area_stats(struct bounce_pool *pool, unsigned int area,
			  struct bounce_stats *st)
{
	if (!pool_ok(pool) || !st || area >= pool->nareas)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	add_area(pool, area, st);
	return 0;
}
