/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gmemkit bench: collected data, report and verdict (report/report*.c, the
 * report_ module; what those files share among themselves:
 * report_internal.h).
 */
#ifndef GMEMKIT_REPORT_H
#define GMEMKIT_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "gmemkit/abi.h"
#include "gmemkit/json.h"

#define REPORT_NBS		5	/* block sizes 4K..1M */
#define REPORT_MAX_SKIPPED	64
#define REPORT_MAX_IO		2048
#define REPORT_MAX_REPS		100

#define REPORT_MAX_SEL		4

/*
 * The io-bench backends of the sweep, the one list: X(ID, "name"), in the
 * order of their bits in report_opts.backends (REPORT_BE_<ID>) and of
 * report_backends[].  The verdict is taken from a device that touches the
 * data (BENCH_VERDICT_BACKEND, cli/bench.c: ram, memory-backed); null
 * never touches it (overhead only), file is real storage (buffered, or
 * file-direct: O_DIRECT).
 */
#define REPORT_BACKENDS(X)		\
	X(NULL, "null")			\
	X(FILE, "file")			\
	X(FILE_DIRECT, "file-direct")	\
	X(RAM, "ram")

enum report_backend {			/* a backend's bit number */
#define REPORT_BE_INDEX(id, name)	REPORT_BE_INDEX_##id,
	REPORT_BACKENDS(REPORT_BE_INDEX)
#undef REPORT_BE_INDEX
	REPORT_NBACKENDS
};

enum {
#define REPORT_BE_BIT(id, name)		REPORT_BE_##id = 1U << REPORT_BE_INDEX_##id,
	REPORT_BACKENDS(REPORT_BE_BIT)
#undef REPORT_BE_BIT
};

extern const char *const report_backends[REPORT_NBACKENDS];	/* by bit number */

/* A conversion transport's bit in report_opts.transports (gmemkit/abi.h's
 * values: doorbell bit 0), and all of them. */
#define REPORT_TR_BIT(t)	(1U << ((t) - 1))
#define REPORT_TR_ALL		(REPORT_TR_BIT(GMEM_ABI_TRANSPORT_MAX) - 1)

struct report_opts {
	bool quick;
	bool full;			/* the whole sweep, not only the verdict's */
	bool plan;			/* print the sweep and its estimate, run nothing */
	bool emulated_ok;		/* run the guest sweep on an emulated CPU */
	unsigned int modes;		/* bit per io mode */
	unsigned int sizes;		/* bit per block size */
	unsigned int backends;		/* BE_* */
	unsigned int qd[REPORT_MAX_SEL], nqd;
	unsigned int vcpus[REPORT_MAX_SEL], nvcpus;
	unsigned int reps;		/* io-bench runs per point */
	unsigned int transports;	/* in-place modes also over these
					 * (REPORT_TR_BIT()s) where usable; 0: the
					 * default transport only */
	double io_runtime;		/* seconds per io-bench run */
	bool variants;			/* the in-place modes' platform and
					 * conversion-model variants
					 * (cli/bench.c) */
	uint64_t pool_size;		/* bounce pool: bounce-bench and the guest */
	const char *outdir;
	const char *compare_a, *compare_b;
	const char *report_from;	/* a saved results.json to report again */
};

/*
 * One io-bench point: the median run's record and every run's IOPS.  The
 * modes of one (backend, size, qd, vCPUs) run interleaved, repetition by
 * repetition, so the i-th runs of two modes were measured side by side:
 * ratios are taken per repetition.  ceil[i]: the shared ceiling measured
 * next to run i where it is not shared's own i-th run (a run re-measured
 * because it came out above its ceiling), else NAN.
 */
struct report_io_point {
	struct json *rec;		/* owned */
	double iops[REPORT_MAX_REPS];
	double ceil[REPORT_MAX_REPS];
	bool remeasured[REPORT_MAX_REPS];
	unsigned int nreps;
};

struct report_data {
	unsigned int block_kib[REPORT_NBS];
	struct json *probe, *convert, *bounce;	/* documents, owned */
	struct report_io_point io[REPORT_MAX_IO];
	unsigned int nio;
	char skipped[REPORT_MAX_SKIPPED][320];	/* skipped or failed, with why */
	unsigned int nskipped, nskipped_lost;	/* lost: past REPORT_MAX_SKIPPED */
	unsigned int io_failed;		/* io-bench points that failed */
	/* from the probe; emulated: the guest's speed loop, measured */
	bool kvm, emulated, cpu_string_emulated;
	char guest_speed[160];
	char cpu[128], kernel[128], kvm_error[64], backing[32];
	/* the point the report's tables and verdict use */
	unsigned int rep_qd, rep_vcpus;
	const char *rep_backend;
	/* a saved run's (--report-from); empty, 0: this gmemkit, now */
	char version[64];
	long date;
	bool interleaved;		/* the modes of a point ran interleaved */
	double sweep_s;			/* the whole run's wall time, 0: unknown */
	unsigned int remeasures;	/* runs measured again (above their ceiling) */
};

/* Pick the representative point from what the sweep selects. */
void report_pick(struct report_data *d, const struct report_opts *o);

/* Again from the points measured, where the backend picked has none (its
 * points all failed). */
void report_pick_measured(struct report_data *d);

void report_read_probe(struct report_data *d);
/* Add the runs of one point (documents from repeated io-bench runs); ceil
 * and remeasured (NULL: none) as in struct report_io_point. */
void report_add_io_runs(struct report_data *d, struct json **runs, unsigned int n,
			const double *ceil, const bool *remeasured);
int report_write(struct report_data *d, const struct report_opts *o, const char *outdir);
void report_free(struct report_data *d);
int report_compare(const char *a, const char *b);
/* A sub-benchmark's document's results array (NULL: none). */
const struct json *report_results(const struct json *doc);
/* The sweep's name: verdict, quick or full. */
const char *report_sweep_name(const struct report_opts *o);
/* report_from.c: the report files of a saved results.json, again
 * (outdir NULL: its directory). */
int report_from(const char *path, const char *outdir);

/* report_transport.c: the in-place modes per conversion transport. */
void report_transports(FILE *f, const struct report_data *d);
void report_transports_verdict(FILE *f, const struct report_data *d);

#endif /* GMEMKIT_REPORT_H */
