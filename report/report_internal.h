/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gmemkit bench report: what its files share (report/report*.c).
 *
 *   report_data.c     the sub-benchmarks' documents, the host model, the
 *                     io-bench points
 *   report_files.c    results.json, results.csv, the plots' data and SVGs
 *   report_tables.c   the tables of report.md and the terminal
 *   report.c          the verdict, report.md, report_write()
 *   report_transport.c  the in-place modes per conversion transport
 *   report_compare.c  --compare; report_from.c  --report-from
 */
#ifndef GMEMKIT_REPORT_INTERNAL_H
#define GMEMKIT_REPORT_INTERNAL_H

#include "gmemkit/adapt.h"
#include "gmemkit/bench_io.h"
#include "gmemkit/bench_io_fields.h"
#include "gmemkit/platform.h"
#include "report.h"

/* The transports the points of a mode may have run over: the default and
 * each of gmemkit/abi.h's list (the default's again, named). */
#define REPORT_MAX_TR	GMEM_ABI_TRANSPORT_MAX

#define REPORT_NOISY_RATIO	1.5	/* median/min (micro) or max/min (io) above: noisy */

/* The io-bench modes, in the order of the tables: bench_io_sweep_names[],
 * shared first, then the protected ones (k from 1). */
_Static_assert(BENCH_IO_SWEEP_SHARED == 0, "shared is the report's first mode");

/* A record's backend as the sweep names it (file-direct: file, O_DIRECT). */
const char *report_rec_backend(const struct json *rec);
/* What a backend stands for, wherever its figures appear. */
const char *report_backend_label(const char *backend);
/* The backend the verdict is taken from: the one that touches the data. */
bool report_verdict_backend(const struct report_data *d);

/*
 * The host model per block size.  Conversion figures are convert-bench's
 * round trips with vCPU-like threads running (conv, conv_d: the headline;
 * conv_idle: the idle process, a lower bound).  Bounce figures per
 * direction: an I/O write pays bounce_to_device (copy in), an I/O read
 * bounce_from_device (copy in + copy out), both with the pool size the
 * io-bench sweep uses.
 */
struct report_model {
	double conv[REPORT_NBS], conv_d[REPORT_NBS], conv_idle[REPORT_NBS], base[REPORT_NBS];
	double copy_w[REPORT_NBS], copy_r[REPORT_NBS], mcpy[REPORT_NBS];
	double exit_ns;			/* an empty doorbell round trip, or NAN */
	double guest_rt[REPORT_NBS];		/* guest-measured share + unshare, or NAN */
	double synth[REPORT_NBS];		/* conv + 2 exits (conv alone without KVM) */
	double touch[REPORT_NBS];		/* the device's touch of the converted pages
					 * per I/O, measured end to end (NAN: not) */
	double inplace[REPORT_NBS];		/* guest_rt where measured, else synth;
					 * plus touch where measured */
	const char *guest_tr;		/* transport of guest_rt */
	bool measured;			/* inplace[] is guest_rt */
	bool touched;			/* inplace[] includes touch[] */
	int crossover_r, crossover_w;	/* first bs where in place wins for good */
	unsigned int busy;		/* vCPU-like threads in conv[] */
};

/* report_data.c */
bool report_conv_noisy(const struct report_data *d, const char *mode, unsigned int pages);
void report_build_model(const struct report_data *d, struct report_model *m);

/*
 * An io-bench point's record.  A point of an in-place mode may have been run
 * over several conversion transports: tr names one, or is DEFAULT_TR, the
 * default transport's record (what auto resolved to; cli/bench.c runs it
 * first of a point's transports, and the first record found is taken).
 */
#define DEFAULT_TR	NULL
bool report_rec_is_default_variant(const struct json *r);
const struct report_io_point *report_io_find(const struct report_data *d, const char *mode,
					     unsigned int bs_kib, unsigned int qd,
					     unsigned int vcpus, const char *backend,
					     const char *tr);
/* At the representative point (qd, vCPUs, backend), over transport tr. */
const struct report_io_point *report_io_at_tr(const struct report_data *d, const char *mode,
					      unsigned int bs_kib, const char *tr);
/* The same, over the default transport: what the main tables use. */
const struct report_io_point *report_io_at(const struct report_data *d, const char *mode,
					   unsigned int bs_kib);
/* A field of p's record; NAN where p is NULL or its record lacks it. */
double report_io_val(const struct report_io_point *p, enum bench_io_field f);
int report_best_protected(const struct report_data *d, unsigned int bs_kib, double *iops);

/*
 * A ratio over the repetitions of two interleaved points: the i-th run of
 * one over the i-th of the other (measured side by side), median and
 * spread.  Against the shared ceiling a repetition above 1 is noise (a
 * protected mode cannot beat the unprotected one): the sweep measures it
 * again once; if still above, it is left out of the median and counted.
 */
struct report_ratio {
	double med, lo, hi;		/* of the repetitions kept */
	unsigned int n;			/* repetitions kept */
	unsigned int noise;		/* left out: above the ceiling */
	unsigned int remeasured;	/* measured again (above it at first) */
};
/* p over the shared ceiling at its point; -ENOENT if either is missing. */
int report_ratio_ceiling(const struct report_data *d, const struct report_io_point *p,
			 struct report_ratio *r);
/* a over b, IOPS per repetition; -ENOENT if missing. */
int report_ratio_iops(const struct report_io_point *a, const struct report_io_point *b,
		      struct report_ratio *r);
/* a over the fastest of the n points of[] run by run, each run over the
 * runs measured beside it: the first need of them must be there (else
 * -ENOENT) and have run i for run i to count; the others count where
 * measured (NULL: not). */
int report_ratio_best(const struct report_io_point *a, const struct report_io_point *const *of,
		      unsigned int n, unsigned int need, struct report_ratio *r);
/* The time per I/O p adds over the shared ceiling (1/IOPS - 1/IOPS of
 * shared, per repetition), median; NAN if not measured. */
double report_extra_ns(const struct report_data *d, const struct report_io_point *p);
/* "83% (80-85%)", the share never above 100%. */
void report_fmt_share(char *buf, size_t len, const struct report_ratio *r);
/* The device's time per I/O (NAN in records without it). */
double report_dev_ns(const struct report_io_point *p);
/* The smallest measured size (index) from which in place over tr (the
 * faster of inplace and inplace-batch) beats bounce at every larger measured
 * size; -1 never, -2 nothing measured. */
int report_io_crossover(const struct report_data *d, const char *tr);

/* report_data.c: the protected paths in the order of the tables (bounce,
 * persistent, in place per request and in batches: those adaptive chooses
 * among, gmemkit/adapt.h), and the two in-place ones. */
#define REPORT_NPATHS	ADAPT_PATHS
extern const enum gmem_abi_io_mode report_paths[REPORT_NPATHS];
#define REPORT_NIP	2
extern const enum gmem_abi_io_mode report_ip_modes[REPORT_NIP];
/* The names of the n modes m[], into names[]. */
void report_mode_names(const char **names, const enum gmem_abi_io_mode *m, unsigned int n);

/* report_platform.c: the platform profiles and conversion models */
void report_platforms(FILE *f, const struct report_data *d);
void report_platforms_verdict(FILE *f, const struct report_data *d);
/* The point of a path or of adaptive at bs on plat (lazy model; bounce and
 * persistent: ideal's, they convert nothing); NULL if not measured. */
const struct report_io_point *report_plat_point(const struct report_data *d, const char *mode,
						unsigned int bs_kib, const char *plat);
/* Adaptive on plat over the fastest of the paths plat allows at bs, run
 * by run (report_ratio_best: the runs measured beside each other);
 * -ENOENT where adaptive or every path is missing. */
int report_plat_adaptive_ratio(const struct report_data *d, unsigned int bs, const char *plat,
			       struct report_ratio *r);
/* The profiles with a plot, platform_<name>.svg (where report.md has the
 * per-platform section), into out[PLAT_MAX]; how many. */
unsigned int report_platform_plots(const struct report_data *d, const char **out);

/* report_files.c */
FILE *report_open_in(const char *dir, const char *name);
int report_write_json(const struct report_data *d, const struct report_opts *o,
		      const char *dir, const struct report_model *m);
int report_write_csv(const struct report_data *d, const char *dir);
void report_plots(const struct report_data *d, const struct report_model *m, const char *dir);

/* report_tables.c */
void report_ratio_table(FILE *f, const struct report_data *d);
void report_model_vs_e2e(FILE *f, const struct report_data *d, const struct report_model *m);
void report_backends_table(FILE *f, const struct report_data *d);
void report_fmt_us(char *buf, size_t len, double ns);
void report_model_table(FILE *f, const struct report_data *d, const struct report_model *m);
void report_io_table(FILE *f, const struct report_data *d);
void report_adaptive_table(FILE *f, const struct report_data *d);
void report_split_table(FILE *f, const struct report_data *d);
void report_modes_section(FILE *f);

/* report_compare.c: a saved results.json, parsed (NULL, said why, if not). */
struct json *report_load(const char *path);

#endif /* GMEMKIT_REPORT_INTERNAL_H */
