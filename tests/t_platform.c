// SPDX-License-Identifier: GPL-2.0
/*
 * Platform profiles (gmemkit/platform.h): the calls each platform makes for
 * a conversion, on synthetic ranges: call counts, what each call covers,
 * the list platforms' entries, cca's partial-progress loop, bad input.
 */
#include <string.h>

#include "gmemkit/platform.h"
#include "tap.h"

#define K	4096ULL
#define M	(1ULL << 20)

/* Host that does everything asked, except cca's, which stops at the next
 * 2 MiB boundary (as the VMM does). */
static uint64_t host_done(enum plat p, const struct plat_call *c)
{
	uint64_t end;

	if (p != PLAT_CCA)
		return c->pages * 4096ULL;
	end = (c->r[0].gpa / PLAT_CCA_STEP + 1) * PLAT_CCA_STEP;
	return end - c->r[0].gpa < c->r[0].len ? end - c->r[0].gpa : c->r[0].len;
}

struct tally {
	unsigned int calls, max_entries, max_pages;
	uint64_t bytes;
	bool ordered;			/* every byte once, in order */
};

static struct tally run(enum plat p, const struct plat_range *r, unsigned int nr)
{
	struct tally t = { .ordered = true };
	struct plat_iter it;
	struct plat_call c;
	unsigned int ri = 0;
	uint64_t at = r[0].gpa;

	if (plat_iter_init(&it, p, 4096, r, nr)) {
		t.ordered = false;
		return t;
	}
	while (plat_next(&it, &c) && t.calls < 100000) {
		uint64_t done = host_done(p, &c), left = done;
		unsigned int k;

		t.calls++;
		if (c.n > t.max_entries)
			t.max_entries = c.n;
		if (c.pages > t.max_pages)
			t.max_pages = (unsigned int)c.pages;
		/* what the host did must follow on from the last call */
		for (k = 0; k < c.n && left; k++) {
			uint64_t step = c.r[k].len < left ? c.r[k].len : left;

			if (c.r[k].gpa != at)
				t.ordered = false;
			at = c.r[k].gpa + step;
			left -= step;
			while (ri < nr && at == r[ri].gpa + r[ri].len)
				if (++ri < nr)
					at = r[ri].gpa;
		}
		t.bytes += done;
		plat_done(&it, &c, done);
	}
	return t;
}

static void test_contiguous(void)
{
	struct plat_range one_m = { 64 * M, M }, three_m = { 64 * M, 3 * M };
	struct plat_range odd = { 65 * M, 5 * M };
	struct tally t;

	t = run(PLAT_PKVM, &one_m, 1);
	ok(t.calls == 256 && t.max_pages == 1 && t.bytes == M && t.ordered,
	   "pkvm: 1 MiB is 256 calls of one 4 KiB granule (%u)", t.calls);
	t = run(PLAT_TDX, &one_m, 1);
	ok(t.calls == 1 && t.bytes == M, "tdx: 1 MiB is one MapGPA call (%u)", t.calls);
	t = run(PLAT_TDX, &three_m, 1);
	ok(t.calls == 2 && t.max_pages == 512 && t.ordered,
	   "tdx: 3 MiB is two calls, at most 2 MiB each (%u)", t.calls);
	t = run(PLAT_SNP, &one_m, 1);
	ok(t.calls == 4 && t.max_pages == 64 && t.max_entries == 1 && t.ordered,
	   "snp: 256 contiguous pages are 4 calls of 64 entries (%u, %u pages)",
	   t.calls, t.max_pages);
	t = run(PLAT_IDEAL, &three_m, 1);
	ok(t.calls == 1 && t.bytes == 3 * M, "ideal: any range is one call (%u)", t.calls);
	t = run(PLAT_CCA, &one_m, 1);
	ok(t.calls == 1 && t.bytes == M, "cca: 1 MiB inside a 2 MiB block: one call (%u)",
	   t.calls);
	t = run(PLAT_CCA, &odd, 1);
	ok(t.calls == 3 && t.bytes == 5 * M && t.ordered,
	   "cca: 5 MiB from 65 MiB: the host stops at each 2 MiB boundary, the guest "
	   "loops: 3 calls (%u), every byte once", t.calls);
}

static void test_scattered(void)
{
	static struct plat_range r[256];
	struct tally t;
	unsigned int i;

	for (i = 0; i < 256; i++) {	/* every other page: 256 ranges */
		r[i].gpa = 128 * M + 2 * i * K;
		r[i].len = K;
	}
	t = run(PLAT_SNP, r, 256);
	ok(t.calls == 4 && t.max_entries == 64 && t.bytes == 256 * K && t.ordered,
	   "snp: 256 scattered pages are 4 calls of 64 entries (%u calls, %u entries)",
	   t.calls, t.max_entries);
	t = run(PLAT_IDEAL, r, 256);
	ok(t.calls == 4 && t.max_entries == PLAT_MAX_ENTRIES && t.ordered,
	   "ideal: a list of 256 ranges in calls of %u ranges (%u calls)",
	   PLAT_MAX_ENTRIES, t.calls);
	t = run(PLAT_TDX, r, 256);
	ok(t.calls == 256 && t.max_entries == 1, "tdx: one range per call (%u)", t.calls);
	t = run(PLAT_PKVM, r, 256);
	ok(t.calls == 256 && t.bytes == 256 * K, "pkvm: one granule per call (%u)", t.calls);
	t = run(PLAT_CCA, r, 256);
	ok(t.calls == 256 && t.max_entries == 1, "cca: one range per call (%u)", t.calls);
	/* adjacent ranges merge into one entry on the list platforms */
	r[0] = (struct plat_range){ 64 * M, 8 * K };
	r[1] = (struct plat_range){ 64 * M + 8 * K, 8 * K };
	r[2] = (struct plat_range){ 96 * M, 4 * K };
	t = run(PLAT_SNP, r, 3);
	ok(t.calls == 1 && t.max_entries == 2 && t.max_pages == 20,
	   "snp: adjacent ranges share an entry list (%u entries, %u pages)",
	   t.max_entries, t.max_pages);
}

static void test_huge_and_bad(void)
{
	struct plat_range r = { 64 * M, 8 * M }, bad = { 64 * M + 512, M }, empty = { 0, 0 };
	struct plat_iter it;
	struct plat_call c;
	unsigned int n = 0;
	enum plat p;

	ok(!plat_iter_init(&it, PLAT_PKVM, 2 * M, &r, 1), "2 MiB granule accepted");
	while (plat_next(&it, &c)) {
		n++;
		plat_done(&it, &c, c.pages * 2 * M);
	}
	ok_eq(n, 4, "pkvm on 2 MiB pages: one call per 2 MiB granule");
	ok(plat_iter_init(&it, PLAT_TDX, 4096, &bad, 1) == -1 &&
	   plat_iter_init(&it, PLAT_TDX, 4096, &empty, 1) == -1 &&
	   plat_iter_init(&it, PLAT_TDX, 3000, &r, 1) == -1 &&
	   plat_iter_init(&it, PLAT_MAX, 4096, &r, 1) == -1,
	   "unaligned or empty range, bad granule, unknown platform refused");
	ok(plat_from_name("snp", &p) == 0 && p == PLAT_SNP &&
	   plat_from_name("sev", &p) == -1 && !strcmp(plat_name(PLAT_CCA), "cca") &&
	   !strcmp(plat_name(PLAT_MAX), "?"), "names");
	ok(plat_destroys(PLAT_TDX) && plat_destroys(PLAT_SNP) && plat_destroys(PLAT_CCA) &&
	   !plat_destroys(PLAT_PKVM) && !plat_destroys(PLAT_IDEAL) &&
	   plat_exitless(PLAT_PKVM) && plat_exitless(PLAT_CCA) && !plat_exitless(PLAT_TDX) &&
	   !plat_exitless(PLAT_SNP) && plat_takes_list(PLAT_SNP) && !plat_takes_list(PLAT_TDX),
	   "contents and call path per platform");
	/* a host that does nothing: the caller sees no progress and stops */
	ok(!plat_iter_init(&it, PLAT_CCA, 4096, &r, 1) && plat_next(&it, &c), "cca call");
	plat_done(&it, &c, 0);
	ok(plat_next(&it, &c) && c.r[0].gpa == r.gpa,
	   "cca: no progress reported: the same range is asked again");
}

int main(void)
{
	test_contiguous();
	test_scattered();
	test_huge_and_bad();
	return tap_done();
}
