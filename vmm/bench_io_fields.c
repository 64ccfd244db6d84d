// SPDX-License-Identifier: GPL-2.0
/*
 * The io-bench result record (gmemkit/bench_io_fields.h): the table made
 * from BENCH_IO_FIELDS(), the writer that walks it and the reader's look-ups
 * by field.
 */
#include <stddef.h>

#include "gmemkit/bench_io_fields.h"

const struct bench_io_field_desc bench_io_fields[BIO_NFIELDS] = {
#define BIO_DESC(id, name, k, p)					\
	[BIO_F_##id] = { .key = #name, .kind = BIO_##k, .prec = p,		\
			 .offset = offsetof(struct bench_io_record, name) },
	BENCH_IO_FIELDS(BIO_DESC)
#undef BIO_DESC
};

void bench_io_record_write(struct json_w *w, const struct bench_io_record *rec)
{
	const char *base = (const char *)rec;
	unsigned int i;

	for (i = 0; i < BIO_NFIELDS; i++) {
		const struct bench_io_field_desc *d = &bench_io_fields[i];
		const void *v = base + d->offset;

		switch (d->kind) {
		case BIO_U64:
			json_w_u64(w, d->key, *(const uint64_t *)v);
			break;
		case BIO_I64:
			json_w_i64(w, d->key, *(const int64_t *)v);
			break;
		case BIO_FIX:
			json_w_fixed(w, d->key, *(const double *)v, d->prec);
			break;
		case BIO_STR:
			json_w_str(w, d->key, *(const char *const *)v);
			break;
		case BIO_BOOL:
			json_w_bool(w, d->key, *(const bool *)v);
			break;
		}
	}
}

double bench_io_num(const struct json *rec, enum bench_io_field f, double dflt)
{
	return json_num(rec, bench_io_key(f), dflt);
}

const char *bench_io_str(const struct json *rec, enum bench_io_field f, const char *dflt)
{
	return json_str(rec, bench_io_key(f), dflt);
}

const struct json *bench_io_get(const struct json *rec, enum bench_io_field f)
{
	return json_get(rec, bench_io_key(f));
}
