// SPDX-License-Identifier: GPL-2.0
/*
 * Bounce pool: API contract, swiotlb layout rules, bad input, exhaustion
 * and fragmentation (the randomized and multi-threaded runs:
 * t_bounce_model.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_util.h"

/* ---- init ---------------------------------------------------------------- */

static void test_init(void)
{
	struct bounce_pool p;
	size_t ms = bounce_meta_size(4 * MiB, 4);
	void *meta = aligned_alloc(64, ms + 64);
	uint8_t *mem = aligned_alloc(4096, 4 * MiB);
	struct bounce_stats st;

	ok(ms > 0, "meta size for 4 MiB / 4 areas: %zu bytes", ms);
	ok(!bounce_meta_size(0, 1), "meta size refuses size 0");
	{
		static uint8_t smeta[BOUNCE_META_SIZE(8 << 20, 1)] __attribute__((aligned(64)));
		static const uint64_t sz[] = { 256 * KiB, 1 * MiB, 3 * MiB, 8 * MiB, 64 * MiB };
		static const unsigned int na[] = { 1, 2, 4, 8 };
		bool match = true;
		unsigned int i, j;

		for (i = 0; i < 5; i++)
			for (j = 0; j < 4; j++)
				if (bounce_meta_size(sz[i], na[j]))
					match &= bounce_meta_size(sz[i], na[j]) ==
						 BOUNCE_META_SIZE(sz[i], na[j]);
		ok(match, "BOUNCE_META_SIZE() equals bounce_meta_size() for valid pools");
		ok_eq(sizeof(smeta), bounce_meta_size(8 << 20, 1),
		      "BOUNCE_META_SIZE() works as a static array size");
	}
	ok(!bounce_meta_size(BOUNCE_SEG_SIZE + 2048, 1),
	   "meta size refuses a size that is not whole segments");
	ok(!bounce_meta_size(4 * MiB, 3), "meta size refuses 3 areas");
	ok(!bounce_meta_size(4 * MiB, 32), "meta size refuses more areas than segments");
	ok(!bounce_meta_size(4 * MiB, 0), "meta size refuses 0 areas");

	ok_eq(bounce_pool_init(NULL, meta, ms, mem, DBASE, 4 * MiB, 4), -EINVAL, "init NULL pool");
	ok_eq(bounce_pool_init(&p, NULL, ms, mem, DBASE, 4 * MiB, 4), -EINVAL, "init NULL meta");
	ok_eq(bounce_pool_init(&p, meta, ms, NULL, DBASE, 4 * MiB, 4), -EINVAL, "init NULL base");
	ok_eq(bounce_pool_init(&p, meta, ms - 1, mem, DBASE, 4 * MiB, 4), -EINVAL,
	      "init meta too small");
	ok_eq(bounce_pool_init(&p, (uint8_t *)meta + 8, ms, mem, DBASE, 4 * MiB, 4), -EINVAL,
	      "init misaligned meta");
	ok_eq(bounce_pool_init(&p, meta, ms, mem + 1024, DBASE, 4 * MiB - BOUNCE_SEG_SIZE, 4),
	      -EINVAL, "init vbase not slot aligned");
	ok_eq(bounce_pool_init(&p, meta, ms, mem, DBASE + 512, 4 * MiB, 4), -EINVAL,
	      "init dbase not slot aligned");
	ok_eq(bounce_pool_init(&p, meta, ms, mem, UINT64_MAX - MiB + 1, 4 * MiB, 4), -EINVAL,
	      "init dbase + size overflows");
	ok_eq(bounce_pool_init(&p, meta, ms, mem, DBASE, 4 * MiB + 4096, 4), -EINVAL,
	      "init size not whole segments");
	ok_eq(bounce_pool_init(&p, meta, ms, mem, DBASE, 4 * MiB, 5), -EINVAL, "init 5 areas");
	ok_eq(bounce_pool_init(&p, meta, ms, mem, DBASE, 4 * MiB, 4), 0, "init 4 MiB, 4 areas");
	ok_eq(bounce_get_stats(&p, &st), 0, "stats");
	ok(st.nslots == 2048 && !st.used && !st.high_water && !st.mappings &&
	   !st.failures && !st.bytes_copied, "fresh pool: 2048 slots, all counters 0");
	ok_eq(bounce_get_area_stats(&p, 3, &st), 0, "area 3 stats");
	ok_eq(st.nslots, 512, "area has 512 slots");
	ok_eq(bounce_get_area_stats(&p, 4, &st), -EINVAL, "area 4 of 4 refused");
	ok_eq(bounce_get_stats(&p, NULL), -EINVAL, "stats NULL");

	ok_eq(bounce_max_mapping_size(NULL), 256 * KiB, "max mapping 256 KiB");
	ok_eq(bounce_max_mapping_size(&(struct bounce_attr){ .min_align_mask = 4095 }),
	      256 * KiB - 4096, "max mapping with min_align_mask 4095");
	free(meta);
	free(mem);
}

/* ---- directions and data ------------------------------------------------- */

static void test_directions(void)
{
	struct tpool t;
	uint8_t *orig = malloc(64 * KiB), *want = malloc(64 * KiB);
	uint64_t a, copied;
	struct bounce_stats st;

	tpool_init(&t, 1 * MiB, 1);

	fill(orig, 10000, 1);
	memcpy(want, orig, 10000);
	ok_eq(bounce_map(&t.p, 0, orig, (uintptr_t)orig, 10000, BOUNCE_TO_DEVICE, NULL, 0, &a),
	      0, "map TO_DEVICE 10000 B");
	ok(a >= DBASE && a + 10000 <= DBASE + t.size, "bounce address inside the pool");
	ok(!(a & 4095), "mapping of a page or more is page aligned");
	ok(!memcmp(pool_at(&t, a), orig, 10000), "TO_DEVICE: data copied in at map");
	fill(pool_at(&t, a), 10000, 2);		/* a device must not write, but */
	ok_eq(bounce_unmap(&t.p, a, 10000, BOUNCE_TO_DEVICE, 0), 0, "unmap TO_DEVICE");
	ok(!memcmp(orig, want, 10000), "TO_DEVICE: nothing copied back at unmap");

	fill(orig, 5000, 3);
	ok_eq(bounce_map(&t.p, 0, orig, (uintptr_t)orig, 5000, BOUNCE_FROM_DEVICE, NULL, 0, &a),
	      0, "map FROM_DEVICE");
	ok(!memcmp(pool_at(&t, a), orig, 5000), "FROM_DEVICE: original prefilled (Linux >= 5.19)");
	fill(pool_at(&t, a), 5000, 4);
	memcpy(want, pool_at(&t, a), 5000);
	ok_eq(bounce_unmap(&t.p, a, 5000, BOUNCE_FROM_DEVICE, 0), 0, "unmap FROM_DEVICE");
	ok(!memcmp(orig, want, 5000), "FROM_DEVICE: device data copied out at unmap");

	memset(pool_at(&t, DBASE), 0x5a, 8192);
	ok_eq(bounce_map(&t.p, 0, orig, (uintptr_t)orig, 3000, BOUNCE_FROM_DEVICE, NULL,
			 BOUNCE_F_NONLINUX_NO_PREFILL, &a), 0, "map FROM_DEVICE, NONLINUX_NO_PREFILL");
	ok(memcmp(pool_at(&t, a), orig, 3000) != 0, "NONLINUX_NO_PREFILL: no prefill");
	ok_eq(bounce_unmap(&t.p, a, 3000, BOUNCE_FROM_DEVICE, BOUNCE_F_SKIP_CPU_SYNC), 0,
	      "unmap SKIP_CPU_SYNC");
	ok(!memcmp(orig, want, 3000), "SKIP_CPU_SYNC: nothing copied out");

	fill(orig, 64 * KiB, 5);
	memcpy(want, orig, 64 * KiB);
	ok_eq(bounce_map(&t.p, 1, orig, (uintptr_t)orig, 64 * KiB, BOUNCE_BIDIRECTIONAL, NULL, 0,
			 &a), 0, "map BIDIRECTIONAL 64 KiB");
	ok(!memcmp(pool_at(&t, a), want, 64 * KiB), "BIDIRECTIONAL: copied in");
	fill(pool_at(&t, a) + 100, 200, 6);
	ok_eq(bounce_sync_for_cpu(&t.p, a + 100, 200, BOUNCE_BIDIRECTIONAL), 0,
	      "sync_for_cpu of a sub-range");
	ok(!memcmp(orig + 100, pool_at(&t, a) + 100, 200) && !memcmp(orig, want, 100) &&
	   !memcmp(orig + 300, want + 300, 64 * KiB - 300),
	   "sync_for_cpu copied exactly the range");
	fill(orig + 40000, 5000, 7);
	ok_eq(bounce_sync_for_device(&t.p, a + 40000, 5000, BOUNCE_BIDIRECTIONAL), 0,
	      "sync_for_device of a sub-range crossing slots");
	ok(!memcmp(pool_at(&t, a) + 40000, orig + 40000, 5000), "sync_for_device copied it");
	fill(pool_at(&t, a), 64 * KiB, 8);
	memcpy(want, pool_at(&t, a), 64 * KiB);
	st = stats(&t);
	copied = st.bytes_copied;
	ok_eq(bounce_unmap(&t.p, a, 64 * KiB, BOUNCE_BIDIRECTIONAL, 0), 0, "unmap BIDIRECTIONAL");
	ok(!memcmp(orig, want, 64 * KiB), "BIDIRECTIONAL: copied out");
	st = stats(&t);
	ok_eq(st.bytes_copied - copied, 64 * KiB, "unmap counted 64 KiB copied");
	ok_eq(st.bytes_copied, 10000 + 5000 + 5000 + 2 * 64 * KiB + 200 + 5000,
	      "bytes_copied counts every copy");
	ok(st.used == 0 && st.mappings == 4 && st.unmaps == 4,
	   "all unmapped: used 0, 4 maps, 4 unmaps");

	/* sync that needs no copy is accepted and copies nothing */
	ok_eq(bounce_map(&t.p, 0, orig, (uintptr_t)orig, 100, BOUNCE_TO_DEVICE, NULL, 0, &a), 0,
	      "map TO_DEVICE 100 B");
	copied = stats(&t).bytes_copied;
	ok_eq(bounce_sync_for_cpu(&t.p, a, 100, BOUNCE_TO_DEVICE), 0,
	      "sync_for_cpu TO_DEVICE: no-op");
	ok_eq(stats(&t).bytes_copied, copied, "no bytes copied");
	ok_eq(bounce_unmap(&t.p, a, 100, BOUNCE_TO_DEVICE, 0), 0, "unmap");

	/* What an I/O costs in copies with the default flags (Linux): a write
	 * (TO_DEVICE) one copy in, a read (FROM_DEVICE) a copy in and a copy
	 * out; only the named non-Linux flag drops the read's copy in. */
	copied = stats(&t).bytes_copied;
	ok(!bounce_map(&t.p, 0, orig, (uintptr_t)orig, 4096, BOUNCE_TO_DEVICE, NULL, 0, &a) &&
	   !bounce_unmap(&t.p, a, 4096, BOUNCE_TO_DEVICE, 0) &&
	   stats(&t).bytes_copied - copied == 4096, "I/O write of 4 KiB: 4096 bytes copied");
	copied = stats(&t).bytes_copied;
	ok(!bounce_map(&t.p, 0, orig, (uintptr_t)orig, 4096, BOUNCE_FROM_DEVICE, NULL, 0, &a) &&
	   !bounce_unmap(&t.p, a, 4096, BOUNCE_FROM_DEVICE, 0) &&
	   stats(&t).bytes_copied - copied == 2 * 4096,
	   "I/O read of 4 KiB: 2 x 4096 bytes copied (in at map, out at unmap)");
	copied = stats(&t).bytes_copied;
	ok(!bounce_map(&t.p, 0, orig, (uintptr_t)orig, 4096, BOUNCE_FROM_DEVICE, NULL,
		       BOUNCE_F_NONLINUX_NO_PREFILL, &a) &&
	   !bounce_unmap(&t.p, a, 4096, BOUNCE_FROM_DEVICE, 0) &&
	   stats(&t).bytes_copied - copied == 4096,
	   "I/O read with NONLINUX_NO_PREFILL: 4096 bytes copied (out only)");
	tpool_free(&t);
	free(orig);
	free(want);
}

/* ---- alignment rules ------------------------------------------------------ */

static void test_alignment(void)
{
	struct bounce_attr nvme = { .min_align_mask = 4095 };
	struct bounce_attr al64k = { .alloc_align_mask = 64 * KiB - 1 };
	struct bounce_attr big = { .min_align_mask = 64 * KiB - 1 };
	uint8_t *buf = aligned_alloc(256 * KiB, 512 * KiB);
	uint64_t a, b, c, orig_addr;
	struct tpool t;
	bool good = true;
	unsigned int i;

	tpool_init(&t, 2 * MiB, 1);
	/* small map first so the next-fit index is not page aligned */
	ok_eq(bounce_map(&t.p, 0, buf, (uintptr_t)buf, 100, BOUNCE_TO_DEVICE, NULL, 0, &c), 0,
	      "map 100 B");
	ok_eq(bounce_map(&t.p, 0, buf + 0x123, (uintptr_t)buf + 0x123, 4096, BOUNCE_TO_DEVICE,
			 NULL, 0, &a), 0, "map 4 KiB at a misaligned original");
	ok(!(a & 4095), "no mask, >= 4 KiB: page aligned (%#llx)", (unsigned long long)a);
	ok_eq(bounce_unmap(&t.p, a, 4096, BOUNCE_TO_DEVICE, 0), 0, "unmap");

	for (i = 0; i < 64; i++) {
		uint64_t size = 1 + rnd_below(200 * KiB);

		orig_addr = (uintptr_t)buf + rnd_below(256 * KiB);
		if (bounce_map(&t.p, 0, (void *)(uintptr_t)orig_addr, orig_addr, size,
			       BOUNCE_TO_DEVICE, &nvme, BOUNCE_F_SKIP_CPU_SYNC, &a)) {
			good = false;
			break;
		}
		good &= (a & 4095) == (orig_addr & 4095);
		good &= !bounce_unmap(&t.p, a, size, BOUNCE_TO_DEVICE, 0);
	}
	ok(good, "min_align_mask 4095: low 12 bits kept (64 random maps)");
	orig_addr = (uintptr_t)buf + 0xfff;
	ok_eq(bounce_map(&t.p, 0, buf + 0xfff, orig_addr, 252 * KiB, BOUNCE_TO_DEVICE, &nvme, 0,
			 &a), 0, "252 KiB (the maximum) with min_align_mask 4095 at offset 0xfff");
	ok_eq(a & 4095, 0xfff, "low bits kept");
	ok_eq(bounce_unmap(&t.p, a, 252 * KiB, BOUNCE_TO_DEVICE, 0), 0, "unmap");

	orig_addr = (uintptr_t)buf + 0x5a00;
	ok_eq(bounce_map(&t.p, 0, buf + 0x5a00, orig_addr, 4096, BOUNCE_TO_DEVICE, &big, 0, &b),
	      0, "map with min_align_mask 64 KiB - 1");
	ok_eq(b & 0xffff, 0x5a00, "64 KiB mask: bits above the slot size kept too");

	orig_addr = (uintptr_t)buf + 0x777;
	ok_eq(bounce_map(&t.p, 0, buf + 0x777, orig_addr, 3000, BOUNCE_TO_DEVICE, &al64k, 0, &a),
	      0, "map with alloc_align_mask 64 KiB - 1");
	ok_eq(a & 0xffff, 0, "allocation 64 KiB aligned, no min_align: offset 0");
	ok_eq(bounce_unmap(&t.p, a, 3000, BOUNCE_TO_DEVICE, 0), 0, "unmap");

	/* both: the kept offset rides on the aligned allocation */
	{
		struct bounce_attr both = { .min_align_mask = 4095, .alloc_align_mask = 8191 };

		ok_eq(bounce_map(&t.p, 0, buf + 0x1abc, (uintptr_t)buf + 0x1abc, 5000,
				 BOUNCE_TO_DEVICE, &both, 0, &a), 0, "map with both masks");
		ok_eq(a & 8191, 0xabc, "alloc 8 KiB aligned, low 12 bits of 0x1abc kept");
		ok_eq(bounce_unmap(&t.p, a, 5000, BOUNCE_TO_DEVICE, 0), 0, "unmap");
	}
	tpool_free(&t);
	free(buf);
}

/* ---- bad input: error and pool unchanged (byte for byte) --------------- */

static void *snap(struct tpool *t)
{
	void *s = malloc(t->meta_size + t->size);

	memcpy(s, t->meta, t->meta_size);
	memcpy((uint8_t *)s + t->meta_size, t->mem, t->size);
	return s;
}

static bool same(struct tpool *t, void *s)
{
	bool r = !memcmp(s, t->meta, t->meta_size) &&
		 !memcmp((uint8_t *)s + t->meta_size, t->mem, t->size);

	free(s);
	return r;
}

#define BAD(t, call, err, what) do {					\
	void *__s = snap(t);						\
	int __r = (call);						\
	ok(__r == (err) && same(t, __s), "%s: %d, pool unchanged", what, __r); \
} while (0)

static void test_bad_input(void)
{
	struct bounce_attr badmask = { .min_align_mask = 0x1001 };
	struct bounce_attr badalloc = { .alloc_align_mask = 4096 };
	struct bounce_attr huge = { .alloc_align_mask = 1ull << 40 };
	struct bounce_attr minbig = { .min_align_mask = 4095 };
	uint8_t *buf = aligned_alloc(4096, 512 * KiB);
	struct bounce_pool uninit;
	uint64_t a, b, x = 0;
	struct tpool t;

	memset(&uninit, 0, sizeof(uninit));
	tpool_init(&t, 1 * MiB, 2);
	ok_eq(bounce_map(&t.p, 0, buf, (uintptr_t)buf, 6000, BOUNCE_BIDIRECTIONAL, NULL, 0, &a),
	      0, "map 6000 B");
	ok_eq(bounce_map(&t.p, 1, buf, (uintptr_t)buf, 300, BOUNCE_TO_DEVICE, NULL, 0, &b),
	      0, "map 300 B");

	BAD(&t, bounce_map(&t.p, 0, buf, 0, 0, BOUNCE_TO_DEVICE, NULL, 0, &x), -EINVAL,
	    "map size 0");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 256 * KiB + 1, BOUNCE_TO_DEVICE, NULL, 0, &x), -E2BIG,
	    "map 256 KiB + 1");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, SIZE_MAX, BOUNCE_TO_DEVICE, NULL, 0, &x), -E2BIG,
	    "map SIZE_MAX");
	BAD(&t, bounce_map(&t.p, 0, buf + 0x800, (uintptr_t)buf + 0x800, 256 * KiB,
			   BOUNCE_TO_DEVICE, &minbig, 0, &x), -E2BIG,
	    "map 256 KiB with min_align_mask 4095 (max 252 KiB)");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 1, BOUNCE_TO_DEVICE,
			   &(struct bounce_attr){ .min_align_mask = 256 * KiB - 1 }, 0, &x), -E2BIG,
	    "map with min_align_mask 256 KiB - 1: nothing fits");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 100, BOUNCE_TO_DEVICE, &huge, 0, &x), -EINVAL,
	    "map alloc_align_mask 2^40: not 2^k - 1");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 100, BOUNCE_TO_DEVICE,
			   &(struct bounce_attr){ .min_align_mask = (1ull << 40) - 1 }, 0, &x),
	    -EINVAL, "map min_align_mask 2^40 - 1: over BOUNCE_MAX_ALIGN_MASK");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 100, 0, NULL, 0, &x), -EINVAL, "map dir 0");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 100, 4, NULL, 0, &x), -EINVAL, "map dir 4");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 100, BOUNCE_TO_DEVICE, NULL, 0x80, &x), -EINVAL,
	    "map unknown flag");
	BAD(&t, bounce_map(&t.p, 0, NULL, 0, 100, BOUNCE_TO_DEVICE, NULL, 0, &x), -EINVAL,
	    "map NULL original");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 100, BOUNCE_TO_DEVICE, NULL, 0, NULL), -EINVAL,
	    "map NULL result pointer");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 100, BOUNCE_TO_DEVICE, &badmask, 0, &x), -EINVAL,
	    "map min_align_mask 0x1001");
	BAD(&t, bounce_map(&t.p, 0, buf, 0, 100, BOUNCE_TO_DEVICE, &badalloc, 0, &x), -EINVAL,
	    "map alloc_align_mask 0x1000");
	BAD(&t, bounce_map(&uninit, 0, buf, 0, 100, BOUNCE_TO_DEVICE, NULL, 0, &x), -EINVAL,
	    "map on an uninitialised pool");
	ok(x == 0, "no bounce address written on error");

	BAD(&t, bounce_unmap(&t.p, a, 6001, BOUNCE_BIDIRECTIONAL, 0), -EINVAL, "unmap wrong size");
	BAD(&t, bounce_unmap(&t.p, a, 0, BOUNCE_BIDIRECTIONAL, 0), -EINVAL, "unmap size 0");
	BAD(&t, bounce_unmap(&t.p, a, 6000, BOUNCE_TO_DEVICE, 0), -EINVAL, "unmap wrong dir");
	BAD(&t, bounce_unmap(&t.p, a, 6000, 7, 0), -EINVAL, "unmap bad dir");
	BAD(&t, bounce_unmap(&t.p, a, 6000, BOUNCE_BIDIRECTIONAL, BOUNCE_F_NONLINUX_NO_PREFILL), -EINVAL,
	    "unmap flag NONLINUX_NO_PREFILL");
	BAD(&t, bounce_unmap(&t.p, a + 1, 6000, BOUNCE_BIDIRECTIONAL, 0), -ENOENT,
	    "unmap 1 byte into a mapping");
	BAD(&t, bounce_unmap(&t.p, a + 2048, 6000, BOUNCE_BIDIRECTIONAL, 0), -ENOENT,
	    "unmap at a mapping's second slot");
	BAD(&t, bounce_unmap(&t.p, DBASE + 512 * KiB + 8192, 100, BOUNCE_TO_DEVICE, 0), -ENOENT,
	    "unmap never mapped");
	BAD(&t, bounce_unmap(&t.p, DBASE - 2048, 100, BOUNCE_TO_DEVICE, 0), -ERANGE,
	    "unmap below the pool");
	BAD(&t, bounce_unmap(&t.p, DBASE + t.size, 100, BOUNCE_TO_DEVICE, 0), -ERANGE,
	    "unmap past the pool");
	BAD(&t, bounce_unmap(&uninit, a, 6000, BOUNCE_BIDIRECTIONAL, 0), -EINVAL,
	    "unmap on an uninitialised pool");

	BAD(&t, bounce_sync_for_cpu(&t.p, a, 0, BOUNCE_BIDIRECTIONAL), -EINVAL, "sync size 0");
	BAD(&t, bounce_sync_for_cpu(&t.p, a + 10, 5991, BOUNCE_BIDIRECTIONAL), -EINVAL,
	    "sync past the mapping's end");
	BAD(&t, bounce_sync_for_device(&t.p, a, 10, BOUNCE_FROM_DEVICE), -EINVAL,
	    "sync wrong dir");
	BAD(&t, bounce_sync_for_cpu(&t.p, a + 6000, 1, BOUNCE_BIDIRECTIONAL), -ENOENT,
	    "sync just past the mapping (same slot)");
	BAD(&t, bounce_sync_for_cpu(&t.p, b - 1, 1, BOUNCE_TO_DEVICE), -ENOENT,
	    "sync before a mapping");
	BAD(&t, bounce_sync_for_device(&t.p, DBASE + 900 * KiB, 1, BOUNCE_TO_DEVICE), -ENOENT,
	    "sync of free slots");
	BAD(&t, bounce_sync_for_device(&t.p, DBASE + t.size + 5, 1, BOUNCE_TO_DEVICE), -ERANGE,
	    "sync outside the pool");

	ok_eq(bounce_unmap(&t.p, a, 6000, BOUNCE_BIDIRECTIONAL, 0), 0, "unmap 6000 B");
	BAD(&t, bounce_unmap(&t.p, a, 6000, BOUNCE_BIDIRECTIONAL, 0), -ENOENT, "double unmap");
	BAD(&t, bounce_sync_for_cpu(&t.p, a, 1, BOUNCE_BIDIRECTIONAL), -ENOENT,
	    "sync after unmap");
	ok_eq(bounce_unmap(&t.p, b, 300, BOUNCE_TO_DEVICE, 0), 0, "unmap 300 B");
	BAD(&t, bounce_unmap(&t.p, b, 300, BOUNCE_TO_DEVICE, 0), -ENOENT, "double unmap again");
	ok_eq(stats(&t).used, 0, "pool empty");
	ok(bounce_ptr(&t.p, DBASE, t.size) == t.mem, "bounce_ptr of the whole pool");
	ok(!bounce_ptr(&t.p, DBASE + 1, t.size) && !bounce_ptr(&t.p, DBASE - 1, 1) &&
	   !bounce_ptr(&t.p, DBASE, 0) && !bounce_ptr(&t.p, DBASE + 4096, UINT64_MAX),
	   "bounce_ptr refuses ranges outside the pool");
	tpool_free(&t);
	free(buf);
}

/* ---- exhaustion and fragmentation ----------------------------------------- */

static void test_exhaustion(void)
{
	uint8_t *buf = aligned_alloc(4096, 256 * KiB);
	uint64_t addrs[512], a, x = 0;
	struct bounce_stats st;
	struct tpool t;
	unsigned int i, n;
	void *s;
	int r;

	tpool_init(&t, 1 * MiB, 2);	/* 4 segments, 2 areas */
	for (i = 0; i < 4; i++) {
		r = bounce_map(&t.p, 0, buf, (uintptr_t)buf, 256 * KiB, BOUNCE_TO_DEVICE, NULL,
			       BOUNCE_F_SKIP_CPU_SYNC, &addrs[i]);
		if (r)
			break;
	}
	ok_eq(i, 4, "four 256 KiB maps from CPU 0 fill both areas");
	ok(((addrs[2] - DBASE) >> 19) == 1, "third map spilled to area 1");
	s = malloc(t.size);
	memcpy(s, t.mem, t.size);
	r = bounce_map(&t.p, 0, buf, (uintptr_t)buf, 1, BOUNCE_TO_DEVICE, NULL, 0, &x);
	st = stats(&t);
	ok(r == -ENOSPC && x == 0, "full pool: -ENOSPC");
	ok(!memcmp(s, t.mem, t.size), "failed map copied nothing into the pool");
	ok(st.failures == 1 && st.used == 512 && st.high_water == 512 && st.mappings == 4,
	   "stats: 1 failure, 512 used, high water 512, 4 mappings");
	{
		struct bounce_stats a0;

		bounce_get_area_stats(&t.p, 0, &a0);
		ok_eq(a0.failures, 1, "failure counted in the CPU's area");
	}
	free(s);
	for (i = 0; i < 4; i++)
		bounce_unmap(&t.p, addrs[i], 256 * KiB, BOUNCE_TO_DEVICE, 0);
	ok_eq(stats(&t).used, 0, "empty again");

	/* fragmentation: every other 2 KiB slot in use */
	for (n = 0; n < 512; n++)
		if (bounce_map(&t.p, 0, buf, (uintptr_t)buf, 2048, BOUNCE_TO_DEVICE, NULL,
			       BOUNCE_F_SKIP_CPU_SYNC, &addrs[n]))
			break;
	ok_eq(n, 512, "512 single-slot maps fill the pool");
	for (i = 0; i < 512; i += 2)
		bounce_unmap(&t.p, addrs[i], 2048, BOUNCE_TO_DEVICE, 0);
	st = stats(&t);
	ok_eq(st.used, 256, "half the slots free, none adjacent");
	r = bounce_map(&t.p, 0, buf, (uintptr_t)buf, 2049, BOUNCE_TO_DEVICE, NULL, 0, &a);
	ok_eq(r, -ENOSPC, "2049 B (two slots) fails with 256 free slots");
	r = bounce_map(&t.p, 1, buf, (uintptr_t)buf, 2048, BOUNCE_TO_DEVICE, NULL, 0, &a);
	ok_eq(r, 0, "one slot still fits");
	bounce_unmap(&t.p, a, 2048, BOUNCE_TO_DEVICE, 0);
	for (i = 1; i < 512; i += 2)
		bounce_unmap(&t.p, addrs[i], 2048, BOUNCE_TO_DEVICE, 0);

	/* segments: 65 slots fit once per segment, never across */
	for (n = 0; n < 8; n++)
		if (bounce_map(&t.p, 0, buf, (uintptr_t)buf, 65 * 2048, BOUNCE_TO_DEVICE, NULL,
			       BOUNCE_F_SKIP_CPU_SYNC, &addrs[n]))
			break;
	st = stats(&t);
	ok(n == 4 && st.used == 4 * 65, "65-slot maps: one per segment (%u)", n);
	r = bounce_map(&t.p, 0, buf, (uintptr_t)buf, 63 * 2048, BOUNCE_TO_DEVICE, NULL, 0, &a);
	ok_eq(r, -ENOSPC, "63 slots do not fit: the free tails start on odd slots");
	r = bounce_map(&t.p, 0, buf, (uintptr_t)buf, 62 * 2048, BOUNCE_TO_DEVICE, NULL, 0, &a);
	ok_eq(r, 0, "62 slots fit (page aligned, in a segment's tail)");
	ok(((a - DBASE) % BOUNCE_SEG_SIZE) + 62 * 2048 <= BOUNCE_SEG_SIZE && !(a & 4095),
	   "inside one segment, page aligned");
	bounce_unmap(&t.p, a, 62 * 2048, BOUNCE_TO_DEVICE, 0);
	for (i = 0; i < n; i++)
		bounce_unmap(&t.p, addrs[i], 65 * 2048, BOUNCE_TO_DEVICE, 0);
	st = stats(&t);
	ok(st.used == 0 && st.high_water == 512, "empty, high water stays 512");
	tpool_free(&t);
	free(buf);
}

int main(void)
{
	test_init();
	test_directions();
	test_alignment();
	test_bad_input();
	test_exhaustion();
	return tap_done();
}
