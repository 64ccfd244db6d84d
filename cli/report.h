/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gmemkit bench: collected data, report and verdict (cli/report*.c; what
 * those files share among themselves: report_internal.h).
 */
#ifndef GMEMKIT_CLI_REPORT_H
#define GMEMKIT_CLI_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "gmemkit/json.h"

#define NBS		5	/* block sizes 4K..1M */
#define NMODES		7	/* shared bounce inplace inplace-batch adaptive
				 * inplace-scatter persistent */
#define MAX_SKIPPED	64
#define MAX_IO		512
#define MAX_REPS	100

#define MAX_SEL		4

struct bench_opts {
	bool quick;
	bool emulated_ok;		/* run the guest sweep on an emulated CPU */
	unsigned int modes;		/* bit per io mode */
	unsigned int sizes;		/* bit per block size */
	unsigned int backends;		/* bit 0 null, bit 1 file */
	unsigned int qd[MAX_SEL], nqd;
	unsigned int vcpus[MAX_SEL], nvcpus;
	unsigned int reps;		/* io-bench runs per point */
	unsigned int transports;	/* in-place modes also over these (bit 0
					 * doorbell, 1 hypercall, 2 queue) where
					 * usable; 0: the default transport only */
	double io_runtime;		/* seconds per io-bench run */
	uint64_t pool_size;		/* bounce pool: bounce-bench and the guest */
	const char *outdir;
	const char *compare_a, *compare_b;
	const char *report_from;	/* a saved results.json to report again */
};

/* One io-bench point: the median run's record and every run's IOPS. */
struct io_point {
	struct json *rec;		/* owned */
	double iops[MAX_REPS];
	unsigned int nreps;
};

struct bench_data {
	unsigned int block_kib[NBS];
	struct json *probe, *convert, *bounce;	/* documents, owned */
	struct io_point io[MAX_IO];
	unsigned int nio;
	char skipped[MAX_SKIPPED][320];	/* skipped or failed, with why */
	unsigned int nskipped, nskipped_lost;	/* lost: past MAX_SKIPPED */
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
};

/* Pick the representative point from what the sweep selects. */
void report_pick(struct bench_data *d, const struct bench_opts *o);

void report_read_probe(struct bench_data *d);
/* Add the runs of one point (documents from repeated io-bench runs). */
void report_add_io_runs(struct bench_data *d, struct json **runs, unsigned int n);
int report_write(struct bench_data *d, const struct bench_opts *o, const char *outdir);
void report_free(struct bench_data *d);
int report_compare(const char *a, const char *b);
/* cli/report_from.c: the report files of a saved results.json, again
 * (outdir NULL: its directory). */
int report_from(const char *path, const char *outdir);

/* cli/report_transport.c: the in-place modes per conversion transport. */
void report_transports(FILE *f, const struct bench_data *d);
void report_transports_verdict(FILE *f, const struct bench_data *d);

#endif /* GMEMKIT_CLI_REPORT_H */
