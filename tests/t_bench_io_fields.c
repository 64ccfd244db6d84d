// SPDX-License-Identifier: GPL-2.0
/*
 * The io-bench record's field list (gmemkit/bench_io_fields.h): the table
 * made from it, and a record written by bench_io_record_write() read back
 * field by field by bench_io_num() / bench_io_str() / bench_io_get(): every
 * key once, in the list's order, of its kind, with its value at its
 * precision.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/bench_io_fields.h"
#include "tap.h"

/* Each field a value of its own: field i gets i-derived values. */
static void fill(struct bench_io_record *rec, char (*strs)[32])
{
	unsigned int i;

	for (i = 0; i < BIO_NFIELDS; i++) {
		const struct bench_io_field_desc *d = &bench_io_fields[i];
		char *v = (char *)rec + d->offset;

		switch (d->kind) {
		case BIO_U64:
			*(uint64_t *)v = (1ULL << 40) + i;
			break;
		case BIO_I64:
			*(int64_t *)v = -1 - (int64_t)i;
			break;
		case BIO_FIX:
			*(double *)v = i + 0.123456789;
			break;
		case BIO_STR:
			snprintf(strs[i], sizeof(strs[i]), "%s \"%u\"\n", d->key, i);
			*(const char **)v = strs[i];
			break;
		case BIO_BOOL:
			*(bool *)v = i % 2;
			break;
		}
	}
}

static bool field_ok(const struct json *r, unsigned int i, const char (*strs)[32])
{
	const struct bench_io_field_desc *d = &bench_io_fields[i];
	const struct json *v = bench_io_get(r, i);
	char want[64];

	if (!v)
		return false;
	switch (d->kind) {
	case BIO_U64:
		return v->type == JSON_NUM && bench_io_num(r, i, 0) == (double)((1ULL << 40) + i);
	case BIO_I64:
		return v->type == JSON_NUM && bench_io_num(r, i, 0) == -1.0 - i;
	case BIO_FIX:
		snprintf(want, sizeof(want), "%.*f", d->prec, i + 0.123456789);
		return v->type == JSON_NUM && bench_io_num(r, i, NAN) == strtod(want, NULL);
	case BIO_STR:
		return v->type == JSON_STR && !strcmp(bench_io_str(r, i, ""), strs[i]);
	case BIO_BOOL:
		return v->type == JSON_BOOL && bench_io_num(r, i, -1) == i % 2;
	}
	return false;
}

static void test_table(void)
{
	unsigned int i, j, dup = 0, bad = 0;

	for (i = 0; i < BIO_NFIELDS; i++) {
		const struct bench_io_field_desc *d = &bench_io_fields[i];

		bad += !d->key || !*d->key || d->offset >= sizeof(struct bench_io_record) ||
		       d->prec < 0 || (d->kind != BIO_FIX && d->prec);
		for (j = 0; j < i; j++)
			dup += !strcmp(bench_io_fields[j].key, d->key);
	}
	ok(!bad && !dup, "%u fields: each with a key, an offset in the record, a "
	   "precision only where fixed; no key twice (%u bad, %u twice)", BIO_NFIELDS, bad, dup);
	ok(!strcmp(bench_io_key(BIO_F_MODE), "mode") && !strcmp(bench_io_key(BIO_F_IOPS), "iops") &&
	   !strcmp(bench_io_key(BIO_F_PASS), "pass") && BIO_F_PASS == BIO_NFIELDS - 1 &&
	   bench_io_fields[BIO_F_IOPS].kind == BIO_FIX && bench_io_fields[BIO_F_IOPS].prec == 1,
	   "the enum names the table's entries: mode first, pass last, iops fixed to 0.1");
}

static void test_roundtrip(void)
{
	static char strs[BIO_NFIELDS][32];
	struct bench_io_record rec;
	const struct json *c, *r;
	unsigned int i, wrong = 0, order = 0;
	struct json *j;
	struct json_w w;
	char want[64];
	size_t len;
	char *text;
	FILE *f;
	int err;

	memset(&rec, 0, sizeof(rec));
	fill(&rec, strs);
	f = open_memstream(&text, &len);
	if (!f)
		tap_bail("open_memstream");
	json_w_init(&w, f);
	json_w_obj(&w, NULL);
	bench_io_record_write(&w, &rec);
	json_w_end(&w);
	err = json_w_finish(&w);
	fclose(f);
	j = json_parse(text, NULL);
	ok(!err && j && json_len(j) == BIO_NFIELDS, "a record written: one object of %u members",
	   BIO_NFIELDS);
	for (i = 0, c = j ? j->child : NULL; c; c = c->next, i++)
		order += i >= BIO_NFIELDS || strcmp(c->key, bench_io_key(i));
	ok(j && !order, "its members in the list's order");
	r = j;
	for (i = 0; i < BIO_NFIELDS; i++)
		if (!field_ok(r, i, strs)) {
			diag("field %s read back wrong", bench_io_key(i));
			wrong++;
		}
	ok(j && !wrong, "each field read back by its enum: its kind, its value at its "
	   "precision, strings with escapes");
	snprintf(want, sizeof(want), "\"iops\":%.1f,\"mbps\":%.3f,", BIO_F_IOPS + 0.123456789,
		 BIO_F_MBPS + 0.123456789);
	ok(strstr(text, want) && bench_io_num(j, BIO_F_IOPS, 0) == BIO_F_IOPS + 0.1,
	   "the text at the listed precisions: %s", want);
	snprintf(want, sizeof(want), "\"conv_cpu\":-%d,", BIO_F_CONV_CPU + 1);
	ok(strstr(text, want) != NULL, "a signed field: %s", want);
	ok(bench_io_num(NULL, BIO_F_IOPS, 42) == 42 && !strcmp(bench_io_str(NULL, BIO_F_MODE, "d"),
	   "d") && !bench_io_get(NULL, BIO_F_MODE), "a missing record: the defaults");
	json_free(j);
	free(text);
}

int main(void)
{
	test_table();
	test_roundtrip();
	return tap_done();
}
