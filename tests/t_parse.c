// SPDX-License-Identifier: GPL-2.0
/*
 * The one number and size grammar (gmemkit/parse.h): what it accepts and
 * what each refusal's errno is, integers base 10 only, sizes with binary
 * units, "not a number" (-EINVAL) kept apart from "out of range" (-ERANGE),
 * and the formatter that prints ranges back in the same grammar.
 */
#include <errno.h>
#include <string.h>

#include "gmemkit/parse.h"
#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct want {
	const char *s;
	int ret;
	uint64_t v;		/* when ret is 0 */
};

/* Every case of a table; each failure is named.  *out stays untouched on
 * an error. */
static bool table(int (*fn)(const char *, uint64_t, uint64_t, uint64_t *),
		  const struct want *w, size_t n, uint64_t min, uint64_t max)
{
	bool all = true;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t v = 0xdeadbeef;
		int r = fn(w[i].s, min, max, &v);

		if (r != w[i].ret || (!r && v != w[i].v) || (r && v != 0xdeadbeef)) {
			diag("\"%s\": got %d (%llu), want %d (%llu)", w[i].s, r,
			     (unsigned long long)v, w[i].ret, (unsigned long long)w[i].v);
			all = false;
		}
	}
	return all;
}

static void test_u64(void)
{
	static const struct want good[] = {
		{ "0", 0, 0 }, { "7", 0, 7 }, { "010", 0, 10 }, { "0008", 0, 8 },
		{ "100000", 0, 100000 },
		{ "18446744073709551615", 0, UINT64_MAX },
	};
	static const struct want bad[] = {
		{ "", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 }, { "1 ", -EINVAL, 0 }, { "0x10", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 }, { "12abc", -EINVAL, 0 }, { "1.0", -EINVAL, 0 },
		{ "4k", -EINVAL, 0 }, { "--", -EINVAL, 0 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		/* the grammar is judged before the range */
		{ "99999999999999999999999x", -EINVAL, 0 },
	};
	static const struct want ranged[] = {
		{ "0", -ERANGE, 0 }, { "4", -ERANGE, 0 }, { "5", 0, 5 },
		{ "100", 0, 100 }, { "0100", 0, 100 }, { "101", -ERANGE, 0 },
		{ "-5", -EINVAL, 0 },
	};
	uint64_t v;

	ok(table(parse_u64, good, ARRAY_SIZE(good), 0, UINT64_MAX),
	   "u64: base 10 only, leading zeros ignored (010 is 10), up to 2^64-1");
	ok(table(parse_u64, bad, ARRAY_SIZE(bad), 0, UINT64_MAX),
	   "u64: sign, space, 0x, exponent, trailing text: -EINVAL; overflow: -ERANGE");
	ok(table(parse_u64, ranged, ARRAY_SIZE(ranged), 5, 100),
	   "u64 in [5, 100]: both ends included, outside -ERANGE, negative -EINVAL");
	ok_eq(parse_u64(NULL, 0, 1, &v), -EINVAL, "u64: NULL text: -EINVAL");
	ok_eq(parse_u64("1", 0, 1, NULL), -EINVAL, "u64: NULL out: -EINVAL");
	ok_eq(parse_u64("1", 2, 1, &v), -EINVAL, "u64: min > max: -EINVAL");
}

static void test_size(void)
{
	static const struct want good[] = {
		{ "0", 0, 0 }, { "4096", 0, 4096 }, { "010", 0, 10 },
		{ "4k", 0, 4096 }, { "4K", 0, 4096 }, { "4kb", 0, 4096 },
		{ "4KB", 0, 4096 }, { "4KiB", 0, 4096 }, { "4kib", 0, 4096 },
		{ "2m", 0, 2ULL << 20 }, { "2M", 0, 2ULL << 20 }, { "2MiB", 0, 2ULL << 20 },
		{ "1g", 0, 1ULL << 30 }, { "1G", 0, 1ULL << 30 }, { "3GB", 0, 3ULL << 30 },
		{ "1t", 0, 1ULL << 40 }, { "1T", 0, 1ULL << 40 }, { "2TiB", 0, 2ULL << 40 },
		{ "010k", 0, 10240 }, { "0k", 0, 0 },
		{ "16777215T", 0, 16777215ULL << 40 },
		{ "18446744073709551615", 0, UINT64_MAX },
	};
	static const struct want bad[] = {
		{ "", -EINVAL, 0 }, { "k", -EINVAL, 0 }, { "12x", -EINVAL, 0 },
		{ "0x1000", -EINVAL, 0 }, { "-4k", -EINVAL, 0 }, { "+4k", -EINVAL, 0 },
		{ " 4k", -EINVAL, 0 }, { "4k ", -EINVAL, 0 }, { "1.5G", -EINVAL, 0 },
		{ "4ki", -EINVAL, 0 }, { "4kbb", -EINVAL, 0 }, { "4kk", -EINVAL, 0 },
		{ "4096B", -EINVAL, 0 }, { "4b", -EINVAL, 0 }, { "1P", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 }, { "4 k", -EINVAL, 0 },
		{ "16777216T", -ERANGE, 0 }, { "99999999999T", -ERANGE, 0 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "99999999999999999999999k", -ERANGE, 0 },
		{ "99999999999999999999999q", -EINVAL, 0 },
	};
	static const struct want ranged[] = {
		{ "4k", 0, 4096 }, { "4095", -ERANGE, 0 }, { "1G", 0, 1ULL << 30 },
		{ "1025M", -ERANGE, 0 }, { "1T", -ERANGE, 0 }, { "0", -ERANGE, 0 },
		{ "1Tx", -EINVAL, 0 },
	};
	uint64_t v;

	ok(table(parse_size, good, ARRAY_SIZE(good), 0, UINT64_MAX),
	   "size: bytes, k/m/g/t any case, optional b or ib (binary: 4KB = 4KiB = 4096)");
	ok(table(parse_size, bad, ARRAY_SIZE(bad), 0, UINT64_MAX),
	   "size: not in the grammar -EINVAL (0x, sign, fraction, 4ki, 4096B, 1P); "
	   "beyond 64 bits -ERANGE");
	ok(table(parse_size, ranged, ARRAY_SIZE(ranged), 4096, 1ULL << 30),
	   "size in [4k, 1G]: 1T is -ERANGE, 1Tx -EINVAL");
	ok_eq(parse_size(NULL, 0, 1, &v), -EINVAL, "size: NULL text: -EINVAL");
	ok_eq(parse_size("1k", 0, 1 << 20, NULL), -EINVAL, "size: NULL out: -EINVAL");
	ok_eq(parse_size("1k", 1 << 20, 1, &v), -EINVAL, "size: min > max: -EINVAL");
}

static void test_format(void)
{
	static const struct { uint64_t v; const char *s; } f[] = {
		{ 0, "0" }, { 1000, "1000" }, { 512, "512" }, { 4096, "4k" },
		{ 768 << 10, "768k" }, { 2ULL << 20, "2M" }, { 1ULL << 30, "1G" },
		{ 3ULL << 40, "3T" }, { 1ULL << 50, "1024T" }, { 1536ULL << 20, "1536M" },
	};
	char buf[32], tiny[3];
	bool all = true, back = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f); i++) {
		uint64_t v = 0;

		if (strcmp(format_size(f[i].v, buf, sizeof(buf)), f[i].s)) {
			diag("%llu: got \"%s\", want \"%s\"", (unsigned long long)f[i].v,
			     buf, f[i].s);
			all = false;
		}
		if (parse_size(buf, 0, UINT64_MAX, &v) || v != f[i].v)
			back = false;
	}
	ok(all, "format: the largest unit that divides exactly (4k, 2M, 1G, 3T)");
	ok(back, "format: what it prints parses back to the same bytes");
	ok(!strcmp(format_size(1ULL << 30, tiny, sizeof(tiny)), "1G") &&
	   !strcmp(format_size(12345, tiny, sizeof(tiny)), "12"),
	   "format: truncated to the buffer, NUL-terminated");
}

int main(void)
{
	tap_plan(15);
	test_u64();
	test_size();
	test_format();
	return tap_done();
}
