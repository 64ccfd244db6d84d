// SPDX-License-Identifier: GPL-2.0
/*
 * Bounce pool: a randomized run against a reference model, and a
 * multi-threaded run for the per-area locks (the API contract: t_bounce.c).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_util.h"

/* ---- randomized run against a reference model ------------------------------ */

struct live {
	uint64_t addr, size, start_slot, nslots;
	uint8_t *orig, *alloc;
	uint64_t orig_addr;
	enum bounce_dir dir;
	struct bounce_attr attr;
	uint64_t dev_seed;	/* what the device wrote, 0 = nothing */
};

#define MAX_LIVE 256
#define MODEL_POOL (4 * MiB)
#define MODEL_NSLOTS (MODEL_POOL / 2048)

static struct live lv[MAX_LIVE];
static unsigned int nlive;
static uint8_t used_map[MODEL_NSLOTS];

static uint64_t pick_size(void)
{
	uint64_t r = rnd_below(100);

	if (r < 75)
		return 1 + rnd_below(4096);
	if (r < 97)
		return 1 + rnd_below(32 * KiB);
	return 1 + rnd_below(256 * KiB);
}

static uint64_t pick_mask(void)
{
	static const uint64_t masks[] = { 0, 0, 0, 0, 2047, 4095, 4095, 16383, 65535, 511 };

	return masks[rnd_below(sizeof(masks) / sizeof(masks[0]))];
}

/* Expected allocation, as swiotlb computes it. */
static void expect(const struct live *l, uint64_t *offset, uint64_t *nslots,
		   uint64_t *align)
{
	uint64_t am = l->attr.alloc_align_mask, mm = l->attr.min_align_mask, alloc;

	*offset = l->orig_addr & mm & (am | 2047);
	alloc = (l->size + *offset + am) & ~am;
	*nslots = (alloc + 2047) / 2048;
	if (!am && !mm && alloc >= 4096)
		am = 4095;
	*align = am | 2047;
}

/* Could any aligned free run hold this request?  (Brute force.) */
static bool fits_somewhere(const struct live *l)
{
	uint64_t offset, n, align, im, s, i;

	expect(l, &offset, &n, &align);
	if (offset + l->size > 256 * KiB || n > 128)
		return false;
	im = l->attr.min_align_mask & ~align;
	for (s = 0; s + n <= MODEL_NSLOTS; s++) {
		uint64_t da = DBASE + s * 2048;

		if (s / 128 != (s + n - 1) / 128)
			continue;
		if ((da & align) || (da & im) != (l->orig_addr & im))
			continue;
		for (i = 0; i < n && !used_map[s + i]; i++)
			;
		if (i == n)
			return true;
	}
	return false;
}

static bool model_map(struct tpool *t, unsigned int *errors)
{
	struct live *l = &lv[nlive];
	uint64_t offset, n, align, i, mis, alloc;
	unsigned int flags = 0;
	bool big;
	int r;

	memset(l, 0, sizeof(*l));
	l->size = pick_size();
	l->dir = 1 + rnd_below(3);
	l->attr.min_align_mask = pick_mask();
	l->attr.alloc_align_mask = rnd_below(8) ? 0 : pick_mask();
	mis = rnd_below(8192);
	l->alloc = malloc(l->size + mis + 1);
	l->orig = l->alloc + mis;
	l->orig_addr = (uintptr_t)l->orig;
	fill(l->orig, l->size, rnd());
	if (l->dir == BOUNCE_FROM_DEVICE && !rnd_below(4))
		flags = BOUNCE_F_NONLINUX_NO_PREFILL;

	r = bounce_map(&t->p, rnd_below(8), l->orig, l->orig_addr, l->size, l->dir, &l->attr,
		       flags, &l->addr);
	expect(l, &offset, &n, &align);
	alloc = (l->size + offset + l->attr.alloc_align_mask) & ~l->attr.alloc_align_mask;
	/* swiotlb_max_mapping_size(): 256 KiB less min_align_mask rounded to a slot */
	big = alloc > 256 * KiB ||
	      (l->attr.min_align_mask &&
	       l->size > 256 * KiB - ((l->attr.min_align_mask + 2047) & ~2047ull));
	if (big != (r == -E2BIG)) {
		(*errors)++;
		diag("map of %llu B (alloc %llu): %d", (unsigned long long)l->size,
		     (unsigned long long)alloc, r);
	}
	if (r == -ENOSPC && fits_somewhere(l)) {
		(*errors)++;
		diag("map of %llu B failed though a run fits", (unsigned long long)l->size);
	}
	if (r == -ENOSPC || r == -E2BIG) {
		free(l->alloc);
		return false;
	}
	if (r) {
		(*errors)++;
		diag("map returned %d", r);
		free(l->alloc);
		return false;
	}
	l->start_slot = (l->addr - offset - DBASE) / 2048;
	l->nslots = n;
	if (l->addr < DBASE || l->addr + l->size > DBASE + MODEL_POOL ||
	    (l->addr - offset - DBASE) % 2048) {
		(*errors)++;
		diag("mapping %#llx+%llu outside the pool or off slot",
		     (unsigned long long)l->addr, (unsigned long long)l->size);
		free(l->alloc);
		return false;
	}
	if (l->start_slot / 128 != (l->start_slot + n - 1) / 128) {
		(*errors)++;
		diag("mapping crosses a segment");
	}
	if ((l->addr - offset) & align) {
		(*errors)++;
		diag("allocation %#llx not aligned to %#llx",
		     (unsigned long long)(l->addr - offset), (unsigned long long)align);
	}
	if ((l->addr & l->attr.min_align_mask) != (l->orig_addr & l->attr.min_align_mask)) {
		(*errors)++;
		diag("min_align_mask %#llx not kept", (unsigned long long)l->attr.min_align_mask);
	}
	for (i = 0; i < n; i++) {
		if (used_map[l->start_slot + i]) {
			(*errors)++;
			diag("slot %llu handed out twice",
			     (unsigned long long)(l->start_slot + i));
		}
		used_map[l->start_slot + i] = 1;
	}
	if (!flags && memcmp(pool_at(t, l->addr), l->orig, l->size)) {
		(*errors)++;
		diag("data not copied in at map");
	}
	nlive++;
	return true;
}

static void device_writes(struct tpool *t, struct live *l)
{
	l->dev_seed = rnd() | 1;
	fill(pool_at(t, l->addr), l->size, l->dev_seed);
}

static void model_unmap(struct tpool *t, unsigned int k, unsigned int *errors)
{
	struct live *l = &lv[k];
	uint8_t *want = malloc(l->size);
	uint64_t i;
	int r;

	if (l->dir == BOUNCE_TO_DEVICE || !l->dev_seed)
		memcpy(want, l->dir == BOUNCE_TO_DEVICE ? l->orig : pool_at(t, l->addr), l->size);
	else
		fill(want, l->size, l->dev_seed);
	if (l->dir != BOUNCE_TO_DEVICE && l->dev_seed &&
	    memcmp(pool_at(t, l->addr), want, l->size)) {
		(*errors)++;
		diag("device data of %#llx overwritten while mapped",
		     (unsigned long long)l->addr);
	}
	r = bounce_unmap(&t->p, l->addr, l->size, l->dir, 0);
	if (r || memcmp(l->orig, want, l->size)) {
		(*errors)++;
		diag("unmap %d, or data did not round-trip (dir %d)", r, l->dir);
	}
	for (i = 0; i < l->nslots; i++)
		used_map[l->start_slot + i] = 0;
	free(l->alloc);
	free(want);
	lv[k] = lv[--nlive];
}

static void model_bad(struct tpool *t, unsigned int *errors)
{
	struct live *l = &lv[rnd_below(nlive)];
	uint64_t addr = l->addr, size = l->size;
	enum bounce_dir dir = l->dir;
	int want = -EINVAL, r;
	bool changed;
	void *s;

	switch (rnd_below(5)) {
	case 0:
		size += 1 + rnd_below(100);
		break;
	case 1:
		dir = dir == BOUNCE_TO_DEVICE ? BOUNCE_FROM_DEVICE : BOUNCE_TO_DEVICE;
		break;
	case 2:
		if (size < 2)
			return;
		addr += 1 + rnd_below(size - 1);
		want = -ENOENT;
		break;
	case 3: {
		uint64_t sl = rnd_below(MODEL_NSLOTS);

		if (used_map[sl])
			return;
		addr = DBASE + sl * 2048 + rnd_below(2048);
		want = -ENOENT;
		break;
	}
	default:
		addr = DBASE + MODEL_POOL + rnd_below(1 << 20);
		want = -ERANGE;
		break;
	}
	/* metadata only: the full-pool snapshot is too slow for 6000 calls */
	s = malloc(t->meta_size);
	memcpy(s, t->meta, t->meta_size);
	r = bounce_unmap(&t->p, addr, size, dir, 0);
	changed = memcmp(s, t->meta, t->meta_size) != 0;
	free(s);
	if (r != want || changed) {
		(*errors)++;
		diag("bad unmap %#llx/%llu/%d: %d, want %d (or pool changed)",
		     (unsigned long long)addr, (unsigned long long)size, dir, r, want);
	}
}

static void model_sync(struct tpool *t, unsigned int *errors)
{
	struct live *l = &lv[rnd_below(nlive)];
	uint64_t off = rnd_below(l->size), len = 1 + rnd_below(l->size - off);
	int r;

	if (rnd_below(2)) {
		/* device wrote a sub-range; CPU syncs it */
		fill(pool_at(t, l->addr) + off, len, rnd());
		r = bounce_sync_for_cpu(&t->p, l->addr + off, len, l->dir);
		if (r || (l->dir != BOUNCE_TO_DEVICE &&
			  memcmp(l->orig + off, pool_at(t, l->addr) + off, len))) {
			(*errors)++;
			diag("sync_for_cpu %d", r);
		}
		if (l->dir == BOUNCE_TO_DEVICE)	/* undo: device may not write */
			memcpy(pool_at(t, l->addr) + off, l->orig + off, len);
		else
			l->dev_seed = 0;	/* orig now holds part; track by pool */
	} else {
		fill(l->orig + off, len, rnd());
		r = bounce_sync_for_device(&t->p, l->addr + off, len, l->dir);
		if (r || (l->dir != BOUNCE_FROM_DEVICE &&
			  memcmp(l->orig + off, pool_at(t, l->addr) + off, len))) {
			(*errors)++;
			diag("sync_for_device %d", r);
		}
		if (l->dir == BOUNCE_FROM_DEVICE)
			memcpy(l->orig + off, pool_at(t, l->addr) + off, len);
		else if (l->dir == BOUNCE_BIDIRECTIONAL)
			l->dev_seed = 0;
	}
}

static void test_model(void)
{
	unsigned int errors = 0, ops, fails = 0, maps = 0, unmaps = 0, bads = 0;
	uint64_t used = 0;
	struct bounce_stats st;
	struct tpool t;
	unsigned int i;

	tpool_init(&t, MODEL_POOL, 4);
	memset(used_map, 0, sizeof(used_map));
	for (ops = 0; ops < 120000; ops++) {
		uint64_t r = rnd_below(100);

		/* bias toward filling so exhaustion is exercised */
		if (nlive < MAX_LIVE && (r < 45 || !nlive)) {
			if (model_map(&t, &errors))
				maps++;
			else
				fails++;
		} else if (r < 80) {
			struct live *l = &lv[rnd_below(nlive)];

			if (l->dir != BOUNCE_TO_DEVICE && !l->dev_seed)
				device_writes(&t, l);
			model_unmap(&t, (unsigned int)(l - lv), &errors);
			unmaps++;
		} else if (r < 85) {
			model_bad(&t, &errors);
			bads++;
		} else {
			model_sync(&t, &errors);
		}
		if (errors > 20)
			break;
	}
	for (i = 0; i < MODEL_NSLOTS; i++)
		used += used_map[i];
	st = stats(&t);
	ok(errors == 0, "randomized: %u ops (%u maps, %u refused, %u unmaps, %u bad), %u errors",
	   ops, maps, fails, unmaps, bads, errors);
	ok(ops >= 100000, "at least 100000 operations");
	ok(fails > 100, "exhaustion reached (%u maps refused)", fails);
	ok_eq(st.used, used, "stats.used matches the model");
	ok(st.mappings == maps && st.unmaps == unmaps, "mapping/unmap counters match the model");
	while (nlive)
		model_unmap(&t, nlive - 1, &errors);
	ok(errors == 0 && stats(&t).used == 0, "drained: pool empty");
	tpool_free(&t);
}

/* ---- threads ---------------------------------------------------------------- */

struct worker {
	struct tpool *t;
	unsigned int cpu, iters, bad, enospc;
	uint64_t seed;
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	uint64_t addr[4], size[4], seed = w->seed, stamp[4];
	uint8_t *buf[4], *want = malloc(64 * KiB);
	unsigned int i, k;

	for (k = 0; k < 4; k++)
		buf[k] = malloc(64 * KiB);
	for (i = 0; i < w->iters; i++) {
		for (k = 0; k < 4; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			size[k] = 1 + (seed >> 33) % (k == 3 ? 64 * KiB : 6000);
			fill(buf[k], size[k], seed);
			if (bounce_map(&w->t->p, w->cpu, buf[k], (uintptr_t)buf[k], size[k],
				       BOUNCE_BIDIRECTIONAL, NULL, 0, &addr[k])) {
				w->enospc++;
				size[k] = 0;
				continue;
			}
			if (memcmp(pool_at(w->t, addr[k]), buf[k], size[k]))
				w->bad++;
			/* the device stamps the buffer; others must not touch it */
			stamp[k] = seed ^ (0x1000 + w->cpu);
			fill(pool_at(w->t, addr[k]), size[k], stamp[k]);
		}
		for (k = 0; k < 4; k++) {
			if (!size[k])
				continue;
			memset(buf[k], 0, size[k]);
			fill(want, size[k], stamp[k]);
			if (bounce_unmap(&w->t->p, addr[k], size[k], BOUNCE_BIDIRECTIONAL, 0) ||
			    memcmp(buf[k], want, size[k]))
				w->bad++;
		}
	}
	for (k = 0; k < 4; k++)
		free(buf[k]);
	free(want);
	return NULL;
}

/* Each worker stamps what it maps and checks it after a round of others. */
static void *stamp_fn(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(32 * KiB), *want = malloc(32 * KiB);
	uint64_t addr, size, seed = w->seed;
	unsigned int i;

	for (i = 0; i < w->iters; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		size = 1 + (seed >> 33) % (32 * KiB);
		if (bounce_map(&w->t->p, w->cpu, buf, (uintptr_t)buf, size,
			       BOUNCE_FROM_DEVICE, NULL, BOUNCE_F_NONLINUX_NO_PREFILL, &addr)) {
			w->enospc++;
			continue;
		}
		fill(pool_at(w->t, addr), size, seed);
		fill(want, size, seed);
		if (bounce_unmap(&w->t->p, addr, size, BOUNCE_FROM_DEVICE, 0) ||
		    memcmp(buf, want, size))
			w->bad++;
	}
	free(buf);
	free(want);
	return NULL;
}

static void test_threads(void)
{
	struct worker w[4];
	pthread_t th[4];
	struct bounce_stats st;
	struct tpool t;
	unsigned int i, bad = 0, enospc = 0;

	/* 4 threads, 2 areas, a pool small enough that areas spill over */
	tpool_init(&t, 1 * MiB, 2);
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .t = &t, .cpu = i, .iters = 3000, .seed = 77 + i };
		pthread_create(&th[i], NULL, i & 2 ? stamp_fn : worker_fn, &w[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].bad;
		enospc += w[i].enospc;
	}
	st = stats(&t);
	ok(bad == 0, "4 threads on 2 areas: every buffer round-tripped intact (%u bad)", bad);
	ok(st.used == 0 && st.mappings == st.unmaps && st.failures == enospc,
	   "after threads: used 0, %llu maps = unmaps, %u failures counted",
	   (unsigned long long)st.mappings, enospc);
	ok(st.high_water <= 512, "high water %llu within the pool",
	   (unsigned long long)st.high_water);
	tpool_free(&t);
}

int main(void)
{
	test_model();
	test_threads();
	return tap_done();
}
