/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fields of an io-bench result record: what `gmemkit io-bench --json`
 * writes for a run ({"results":[{...}]}), what `gmemkit bench` keeps in
 * results.json's "io" and what its report reads back.  Each field is
 * named once, in BENCH_IO_FIELDS(); from the list come
 *
 *   struct bench_io_record   a member per field, filled by the writer
 *   enum bench_io_field      BIO_F_<ID>, the reader's name for a field
 *   bench_io_fields[]        each field's JSON key, kind and precision
 *
 * X(ID, key, kind, prec): key is both the JSON key and the member's name;
 * kind is U64 (an unsigned integer), I64 (a signed one), FIX (a double
 * with prec digits after the point), STR (a string; NULL writes null) or
 * BOOL.  The order is the record's.  "Per I/O" figures are over the run's
 * I/Os (ios), the device's side (dev_*) over the device's I/Os in the
 * run's direction (dev_ios).
 */
#ifndef GMEMKIT_BENCH_IO_FIELDS_H
#define GMEMKIT_BENCH_IO_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmemkit/json.h"

#define BENCH_IO_FIELDS(X)						\
	/* the point */							\
	X(MODE,			mode,			STR,	0)	\
	X(BS,			bs,			U64,	0)	\
	X(QD,			qd,			U64,	0)	\
	X(RW,			rw,			STR,	0)	\
	X(BACKEND,		backend,		STR,	0)	\
	X(VCPUS,		vcpus,			U64,	0)	\
	X(DIRECT,		direct,			BOOL,	0)	\
	/* throughput and latency */					\
	X(RUNTIME_S,		runtime_s,		FIX,	6)	\
	X(IOS,			ios,			U64,	0)	\
	X(IOPS,			iops,			FIX,	1)	\
	X(MBPS,			mbps,			FIX,	3)	\
	X(LAT_MIN_US,		lat_min_us,		FIX,	3)	\
	X(LAT_P50_US,		lat_p50_us,		FIX,	3)	\
	X(LAT_P99_US,		lat_p99_us,		FIX,	3)	\
	X(LAT_P999_US,		lat_p999_us,		FIX,	3)	\
	X(LAT_MAX_US,		lat_max_us,		FIX,	3)	\
	/* exits, conversions and copies per I/O */			\
	X(EXITS_PER_IO,		exits_per_io,		FIX,	4)	\
	X(KICKS_PER_IO,		kicks_per_io,		FIX,	4)	\
	X(CONV_PER_IO,		conv_per_io,		FIX,	4)	\
	X(CONV_NS_PER_IO,	conv_ns_per_io,		FIX,	1)	\
	X(COPY_BYTES_PER_IO,	copy_bytes_per_io,	FIX,	1)	\
	X(COPY_NS_PER_IO,	copy_ns_per_io,		FIX,	1)	\
	X(PINS_REFUSED,		pins_refused,		U64,	0)	\
	X(CONV_EXITS_PER_IO,	conv_exits_per_io,	FIX,	4)	\
	X(CONV_CPU_NS_PER_IO,	conv_cpu_ns_per_io,	FIX,	1)	\
	X(CONV_POLL_US,		conv_poll_us,		U64,	0)	\
	X(CONV_CPU,		conv_cpu,		I64,	0)	\
	/* the split: each cost once, summing to at most vcpu_ns_per_io */ \
	X(VCPU_NS_PER_IO,	vcpu_ns_per_io,		FIX,	1)	\
	X(KICK_NS_PER_IO,	kick_ns_per_io,		FIX,	1)	\
	X(CONV_EXIT_NS_PER_IO,	conv_exit_ns_per_io,	FIX,	1)	\
	X(CONV_HOST_NS_PER_IO,	conv_host_ns_per_io,	FIX,	1)	\
	X(SPLIT_COPY_NS_PER_IO,	split_copy_ns_per_io,	FIX,	1)	\
	X(UNACCOUNTED_NS_PER_IO, unaccounted_ns_per_io,	FIX,	1)	\
	X(SPLIT_SCALE,		split_scale,		FIX,	4)	\
	/* the device's side, beside the vCPU time (not in it) */	\
	X(DEV_NS_PER_IO,	dev_ns_per_io,		FIX,	1)	\
	X(DEV_FAULTS_PER_IO,	dev_faults_per_io,	FIX,	4)	\
	X(DEV_COPY_BYTES_PER_IO, dev_copy_bytes_per_io,	FIX,	1)	\
	X(DEV_IOS,		dev_ios,		U64,	0)	\
	/* memory shared once */					\
	X(POOL_BYTES,		pool_bytes,		U64,	0)	\
	X(PERSIST_BUF_BYTES,	persist_buf_bytes,	U64,	0)	\
	X(PERSIST_POOL_BYTES,	persist_pool_bytes,	U64,	0)	\
	X(SHARED_BYTES,		shared_bytes,		U64,	0)	\
	X(MEM_BYTES,		mem_bytes,		U64,	0)	\
	X(SHARED_PCT,		shared_pct,		FIX,	2)	\
	X(BOUNCE_FULL,		bounce_full,		U64,	0)	\
	/* where it ran */						\
	X(TRANSPORT,		transport,		STR,	0)	\
	X(POLL_US,		poll_us,		U64,	0)	\
	X(EMULATED,		emulated,		BOOL,	0)	\
	X(CPU,			cpu,			STR,	0)	\
	X(GUEST_NATIVE,		guest_native,		BOOL,	0)	\
	X(GUEST_CYCLES_PER_ITER, guest_cycles_per_iter,	FIX,	3)	\
	X(GUEST_SPEED,		guest_speed,		STR,	0)	\
	/* verification; adaptive's choices; batches and scatter */	\
	X(VERIFY_ERRORS,	verify_errors,		U64,	0)	\
	X(VERIFIED_SECTORS,	verified_sectors,	U64,	0)	\
	X(IO_ERRORS,		io_errors,		U64,	0)	\
	X(ADAPT_BOUNCE_NS,	adapt_bounce_ns,	U64,	0)	\
	X(ADAPT_INPLACE_NS,	adapt_inplace_ns,	U64,	0)	\
	X(ADAPT_PERSIST_NS,	adapt_persist_ns,	U64,	0)	\
	X(ADAPT_BATCH_NS,	adapt_batch_ns,		U64,	0)	\
	X(BATCHED,		batched,		U64,	0)	\
	X(ADAPT_PATHS,		adapt_paths,		U64,	0)	\
	X(PERSISTED,		persisted,		U64,	0)	\
	X(ADAPT_PROBES,		adapt_probes,		U64,	0)	\
	X(ADAPT_SWITCHES,	adapt_switches,		U64,	0)	\
	X(ADAPT_STOPPED,	adapt_stopped,		U64,	0)	\
	X(ADAPT_DEVICE_NS,	adapt_device_ns,	U64,	0)	\
	X(ADAPT_RATE_CHECKS,	adapt_rate_checks,	U64,	0)	\
	X(BOUNCED,		bounced,		U64,	0)	\
	X(INPLACED,		inplaced,		U64,	0)	\
	X(BATCHES,		batches,		U64,	0)	\
	X(SCATTER_PIECES,	scatter_pieces,		U64,	0)	\
	X(SCATTER_RUNS,		scatter_runs,		U64,	0)	\
	/* guest memory and the platform's conversions */		\
	X(ENGINE,		engine,			STR,	0)	\
	X(MEM_BACKING,		mem_backing,		STR,	0)	\
	X(CONV_MODEL,		conv_model,		STR,	0)	\
	X(GRANULE,		granule,		U64,	0)	\
	X(CONV_BYTES_PER_IO,	conv_bytes_per_io,	FIX,	1)	\
	X(PLATFORM,		platform,		STR,	0)	\
	X(CONV_CALLS_PER_IO,	conv_calls_per_io,	FIX,	3)	\
	X(CONV_PAGES_PER_IO,	conv_pages_per_io,	FIX,	3)	\
	X(CONV_ENTRIES_PER_IO,	conv_entries_per_io,	FIX,	3)	\
	X(KEEP_BYTES_PER_IO,	keep_bytes_per_io,	FIX,	1)	\
	X(KEEP_NS_PER_IO,	keep_ns_per_io,		FIX,	1)	\
	/* requests, mixed and churn, refusals; whether the guest passed */ \
	X(REQUESTS,		requests,		U64,	0)	\
	X(COMPLETED,		completed,		U64,	0)	\
	X(DUP_COMPLETIONS,	dup_completions,	U64,	0)	\
	X(DEVICE_REQUESTS,	device_requests,	U64,	0)	\
	X(MIXED_SHARED,		mixed_shared,		U64,	0)	\
	X(MIXED_BOUNCED,	mixed_bounced,		U64,	0)	\
	X(MIXED_INPLACED,	mixed_inplaced,		U64,	0)	\
	X(MIXED_BATCHES,	mixed_batches,		U64,	0)	\
	X(CHURN_CONV,		churn_conv,		U64,	0)	\
	X(INFLIGHT_REFUSED,	inflight_refused,	U64,	0)	\
	X(INFLIGHT_WON,		inflight_won,		U64,	0)	\
	X(EBUSY,		ebusy,			U64,	0)	\
	X(VMM_REFUSALS,		vmm_refusals,		U64,	0)	\
	X(VIOLATIONS,		violations,		U64,	0)	\
	X(PASS,			pass,			BOOL,	0)

/* A field's kind, and the member type it has in struct bench_io_record. */
enum bench_io_kind { BIO_U64, BIO_I64, BIO_FIX, BIO_STR, BIO_BOOL };

#define BIO_CTYPE_U64	uint64_t
#define BIO_CTYPE_I64	int64_t
#define BIO_CTYPE_FIX	double
#define BIO_CTYPE_STR	const char *
#define BIO_CTYPE_BOOL	bool

struct bench_io_record {
#define BIO_MEMBER(id, key, kind, prec)	BIO_CTYPE_##kind key;
	BENCH_IO_FIELDS(BIO_MEMBER)
#undef BIO_MEMBER
};

enum bench_io_field {
#define BIO_ENUM(id, key, kind, prec)	BIO_F_##id,
	BENCH_IO_FIELDS(BIO_ENUM)
#undef BIO_ENUM
	BIO_NFIELDS
};

struct bench_io_field_desc {
	const char *key;
	enum bench_io_kind kind;
	int prec;			/* BIO_FIX: digits after the point */
	size_t offset;			/* in struct bench_io_record */
};

extern const struct bench_io_field_desc bench_io_fields[BIO_NFIELDS];

/* A field's JSON key. */
static inline const char *bench_io_key(enum bench_io_field f)
{
	return bench_io_fields[f].key;
}

/* The record's fields as members of the object w has open, in order. */
void bench_io_record_write(struct json_w *w, const struct bench_io_record *rec);

/* A field of a parsed record (json_num(), json_str() and json_get() by the
 * field's key): dflt where absent (a record of an older gmemkit). */
double bench_io_num(const struct json *rec, enum bench_io_field f, double dflt);
const char *bench_io_str(const struct json *rec, enum bench_io_field f, const char *dflt);
const struct json *bench_io_get(const struct json *rec, enum bench_io_field f);

#endif /* GMEMKIT_BENCH_IO_FIELDS_H */
