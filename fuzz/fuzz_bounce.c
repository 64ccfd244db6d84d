// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: bounce pool API sequences against a reference model.
 *
 * Each 8-byte record is one call: op, then arguments (size, direction,
 * masks, CPU, flags, offsets) taken from the other bytes.  Unmap and sync
 * get raw addresses and sizes from the input as often as real ones, so
 * every bad-input path is reached.  After each call the return code must
 * be the model's, a failed call must leave the metadata byte for byte as
 * it was, live mappings must never share a slot, cross a segment or leave
 * the pool, min_align_mask and alignment must hold, and data must
 * round-trip in every direction.  Any mismatch aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/bounce.h"

#define POOL		(1u << 20)		/* 4 segments */
#define NSLOTS		(POOL / BOUNCE_SLOT_SIZE)
#define DBASE		0x40000000ull
#define MAX_LIVE	48

struct live {
	uint64_t addr, size, orig_addr, start, nslots;
	enum bounce_dir dir;
	unsigned int buf;	/* index into bufs */
	uint8_t *orig;
	int64_t dev;		/* device data: pattern offset, -1 for none */
};

static struct bounce_pool pool;
static uint8_t *mem, *meta, *snap;
/* Content comes from here (memcpy is fast where an instrumented loop is not). */
static uint8_t *pattern, *scratch;
/* One original buffer per live mapping, allocated once. */
#define BUF_SIZE	(5u * 65535 + 255 * 97 + 64)
static uint8_t *bufs[MAX_LIVE];
static unsigned int free_bufs[MAX_LIVE], nfree;
#define PATTERN_SIZE	(512u * 1024 + 65536)
static size_t meta_size;
static struct live lv[MAX_LIVE];
static unsigned int nlive;
static uint8_t used[NSLOTS];

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_bounce: %s:%d: %s\n", __FILE__,	\
			__LINE__, #c);					\
		abort();						\
	}								\
} while (0)

static const uint64_t masks[8] = { 0, 0, 511, 2047, 4095, 8191, 65535, 0x3ffff };

static void setup(void)
{
	if (mem)
		return;
	meta_size = bounce_meta_size(POOL, 2);
	mem = aligned_alloc(4096, POOL);
	meta = aligned_alloc(64, meta_size);
	snap = malloc(meta_size);
	pattern = malloc(PATTERN_SIZE);
	scratch = malloc(BUF_SIZE);
	CHECK(mem && meta && snap && pattern && scratch && meta_size);
	for (nfree = 0; nfree < MAX_LIVE; nfree++) {
		bufs[nfree] = malloc(BUF_SIZE);
		CHECK(bufs[nfree]);
	}
	{
		uint64_t x = 0x2545f4914f6cdd1dull, i;

		for (i = 0; i + 8 <= PATTERN_SIZE; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(pattern + i, &x, 8);
		}
	}
}

static void take_snap(void)
{
	memcpy(snap, meta, meta_size);
}

static void same_snap(void)
{
	CHECK(!memcmp(snap, meta, meta_size));
}

static bool fits(uint64_t n, uint64_t align, uint64_t im, uint64_t orig_addr)
{
	uint64_t s, i;

	for (s = 0; s + n <= NSLOTS; s++) {
		uint64_t da = DBASE + s * BOUNCE_SLOT_SIZE;

		if (s / 128 != (s + n - 1) / 128 || (da & align) ||
		    (da & im) != (orig_addr & im))
			continue;
		for (i = 0; i < n && !used[s + i]; i++)
			;
		if (i == n)
			return true;
	}
	return false;
}

static void do_map(const uint8_t *r)
{
	struct bounce_attr at = { masks[r[3] & 7], masks[(r[3] >> 3) & 7] };
	uint64_t size = ((uint64_t)r[1] | (uint64_t)r[2] << 8) * ((r[4] & 3) == 3 ? 5 : 1);
	enum bounce_dir dir = (enum bounce_dir)(r[5] & 3);
	unsigned int flags = (r[5] >> 2) & 3, cpu = r[6];
	uint64_t mis = (uint64_t)r[7] * 97, off, alloc, n, align, im, am, mm, i;
	struct live *l = &lv[nlive];
	uint64_t addr = 0;
	bool big;
	int ret, want = 0;

	if (nlive == MAX_LIVE)
		return;
	if (!(r[3] & 0xc0))
		at.alloc_align_mask = 0;	/* mostly no alloc alignment */
	am = at.alloc_align_mask;
	mm = at.min_align_mask;
	l->buf = free_bufs[--nfree];
	l->orig = bufs[l->buf] + mis;
	l->orig_addr = (uintptr_t)l->orig;
	if (size <= 512 * 1024)
		memcpy(l->orig, pattern + r[0] * 97, size);

	off = l->orig_addr & mm & (am | 2047);
	alloc = (size + off + am) & ~am;
	n = (alloc + 2047) / 2048;
	big = size > 256 * 1024 || alloc > 256 * 1024 ||
	      (mm && size + ((mm + 2047) & ~2047ull) > 256 * 1024);
	align = (!am && !mm && alloc >= 4096 ? 4095 : am) | 2047;
	im = mm & ~align;
	if (!size || !dir)
		want = -EINVAL;
	else if (big)
		want = -E2BIG;
	else if (!fits(n, align, im, l->orig_addr))
		want = -ENOSPC;

	take_snap();
	ret = bounce_map(&pool, cpu, l->orig, l->orig_addr, size, dir, &at, flags, &addr);
	CHECK(ret == want);
	if (ret) {
		if (ret != -ENOSPC)
			same_snap();	/* -ENOSPC moves the failure counter */
		free_bufs[nfree++] = l->buf;
		return;
	}
	l->addr = addr;
	l->size = size;
	l->dir = dir;
	l->start = (addr - off - DBASE) / 2048;
	l->nslots = n;
	CHECK(addr >= DBASE && addr + size <= DBASE + POOL);
	CHECK(!((addr - off) & align));
	CHECK((addr & mm) == (l->orig_addr & mm));
	CHECK(l->start / 128 == (l->start + n - 1) / 128);
	for (i = 0; i < n; i++) {
		CHECK(!used[l->start + i]);
		used[l->start + i] = 1;
	}
	if (!(flags & BOUNCE_F_SKIP_CPU_SYNC) &&
	    !(dir == BOUNCE_FROM_DEVICE && (flags & BOUNCE_F_NONLINUX_NO_PREFILL)))
		CHECK(!memcmp(mem + (addr - DBASE), l->orig, size));
	l->dev = -1;
	nlive++;
}

/* What unmap(addr, size, dir) must return, from the model alone. */
static int expect_unmap(uint64_t addr, uint64_t size, int dir, unsigned int *k)
{
	unsigned int i;

	if (dir < 1 || dir > 3)
		return -EINVAL;
	if (addr < DBASE || addr >= DBASE + POOL)
		return -ERANGE;
	for (i = 0; i < nlive; i++)
		if (lv[i].addr == addr) {
			*k = i;
			return lv[i].size == size && lv[i].dir == (enum bounce_dir)dir ?
			       0 : -EINVAL;
		}
	return -ENOENT;
}

static void forget(unsigned int k)
{
	uint64_t i;

	for (i = 0; i < lv[k].nslots; i++)
		used[lv[k].start + i] = 0;
	free_bufs[nfree++] = lv[k].buf;
	lv[k] = lv[--nlive];
}

static void do_unmap(const uint8_t *r)
{
	uint64_t addr, size;
	unsigned int k = 0, flags = r[5] & 1;
	int dir, want, ret;
	uint8_t *want_orig = scratch;

	if (nlive && !(r[1] & 1)) {
		struct live *l = &lv[r[2] % nlive];

		addr = l->addr + (r[3] & 1 ? r[4] % 3 : 0);
		size = l->size + (r[3] & 2 ? (uint64_t)(int8_t)r[6] : 0);
		dir = r[3] & 4 ? r[7] & 3 : (int)l->dir;
	} else {
		addr = DBASE - 4096 + ((uint64_t)r[2] << 12 | (uint64_t)r[3] << 4 | (r[4] & 15));
		size = (uint64_t)r[6] << 4;
		dir = r[7] & 3;
	}
	want = expect_unmap(addr, size, dir, &k);
	if (!want) {
		struct live *l = &lv[k];

		if (l->dir == BOUNCE_TO_DEVICE || flags)
			memcpy(want_orig, l->orig, l->size);
		else
			memcpy(want_orig, mem + (l->addr - DBASE), l->size);
		if (l->dev >= 0)
			CHECK(!memcmp(mem + (l->addr - DBASE), pattern + l->dev, l->size));
	}
	take_snap();
	ret = bounce_unmap(&pool, addr, size, (enum bounce_dir)dir, flags);
	CHECK(ret == want);
	if (ret) {
		same_snap();
		return;
	}
	CHECK(!memcmp(lv[k].orig, want_orig, lv[k].size));
	forget(k);
}

static void do_sync(const uint8_t *r, bool for_cpu)
{
	struct live *l;
	uint64_t off, len, i;
	int ret, want = 0;

	if (!nlive)
		return;
	l = &lv[r[1] % nlive];
	off = ((uint64_t)r[2] << 8 | r[3]) % (l->size + 2);
	len = ((uint64_t)r[4] << 8 | r[5]) % (l->size + 2);
	if (!len)
		want = -EINVAL;
	else if (off >= l->size)
		want = -ENOENT;
	else if (len > l->size - off)
		want = -EINVAL;
	/* past the end may land in a neighbour: only judge our own range */
	if (off >= l->size && want == -ENOENT) {
		unsigned int j;

		for (j = 0; j < nlive; j++)
			if (l->addr + off >= lv[j].addr &&
			    l->addr + off < lv[j].addr + lv[j].size)
				return;
		if (l->addr + off >= DBASE + POOL)
			want = -ERANGE;
	}
	/* new data on one side, inside this mapping only */
	i = off < l->size ? (len < l->size - off ? len : l->size - off) : 0;
	if (for_cpu)
		memcpy(mem + (l->addr - DBASE) + off, pattern + r[6] * 211, i);
	else
		memcpy(l->orig + off, pattern + r[7] * 211, i);
	l->dev = -1;		/* device data now partly the CPU's */
	take_snap();
	ret = for_cpu ? bounce_sync_for_cpu(&pool, l->addr + off, len, l->dir) :
			bounce_sync_for_device(&pool, l->addr + off, len, l->dir);
	CHECK(ret == want);
	if (ret) {
		same_snap();
		return;
	}
	if (for_cpu && l->dir != BOUNCE_TO_DEVICE)
		CHECK(!memcmp(l->orig + off, mem + (l->addr - DBASE) + off, len));
	if (!for_cpu && l->dir != BOUNCE_FROM_DEVICE)
		CHECK(!memcmp(l->orig + off, mem + (l->addr - DBASE) + off, len));
}

/* The device writes the whole buffer; it must survive until unmap. */
static void do_device(const uint8_t *r)
{
	struct live *l;

	if (!nlive)
		return;
	l = &lv[r[1] % nlive];
	l->dev = r[2] * 131;
	memcpy(mem + (l->addr - DBASE), pattern + l->dev, l->size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_stats st;
	uint64_t i, inuse = 0;

	setup();
	memset(mem, 0xcc, POOL);
	CHECK(!bounce_pool_init(&pool, meta, meta_size, mem, DBASE, POOL, 2));
	memset(used, 0, sizeof(used));
	nlive = 0;
	for (; size >= 8; data += 8, size -= 8) {
		switch (data[0] % 6) {
		case 0:
		case 1:
			do_map(data);
			break;
		case 2:
			do_unmap(data);
			break;
		case 3:
			do_sync(data, true);
			break;
		case 4:
			do_sync(data, false);
			break;
		default:
			do_device(data);
			break;
		}
		if (data[0] & 0x80) {
			for (i = 0, inuse = 0; i < NSLOTS; i++)
				inuse += used[i];
			CHECK(!bounce_get_stats(&pool, &st) && st.used == inuse);
		}
	}
	while (nlive) {
		struct live *l = &lv[nlive - 1];

		CHECK(!bounce_unmap(&pool, l->addr, l->size, l->dir, 0));
		forget(nlive - 1);
	}
	CHECK(!bounce_get_stats(&pool, &st) && st.used == 0 && st.mappings == st.unmaps);
	return 0;
}
