/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gmemkit bench report: what its files share (cli/report*.c).
 *
 *   report_data.c     the sub-benchmarks' documents, the host model, the
 *                     io-bench points
 *   report_files.c    results.json, results.csv, the plots' data and SVGs
 *   report_tables.c   the tables of report.md and the terminal
 *   report.c          the verdict, report.md, report_write()
 *   report_transport.c  the in-place modes per conversion transport
 *   report_compare.c  --compare; report_from.c  --report-from
 */
#ifndef GMEMKIT_CLI_REPORT_INTERNAL_H
#define GMEMKIT_CLI_REPORT_INTERNAL_H

#include "report.h"

#define NOISY_RATIO	1.5	/* median/min (micro) or max/min (io) above: noisy */

/* The io-bench modes, in the order of the tables. */
extern const char *const io_modes[NMODES];

/* A record's backend as the sweep names it (file-direct: file, O_DIRECT). */
const char *rec_backend(const struct json *rec);
/* What a backend stands for, wherever its figures appear. */
const char *backend_label(const char *backend);
/* The backend the verdict is taken from: the one that touches the data. */
bool verdict_backend(const struct bench_data *d);

/*
 * The host model per block size.  Conversion figures are convert-bench's
 * round trips with vCPU-like threads running (conv, conv_d: the headline;
 * conv_idle: the idle process, a lower bound).  Bounce figures per
 * direction: an I/O write pays bounce_to_device (copy in), an I/O read
 * bounce_from_device (copy in + copy out), both with the pool size the
 * io-bench sweep uses.
 */
struct model {
	double conv[NBS], conv_d[NBS], conv_idle[NBS], base[NBS];
	double copy_w[NBS], copy_r[NBS], mcpy[NBS];
	double exit_ns;			/* an empty doorbell round trip, or NAN */
	double guest_rt[NBS];		/* guest-measured share + unshare, or NAN */
	double synth[NBS];		/* conv + 2 exits (conv alone without KVM) */
	double touch[NBS];		/* the device's touch of the converted pages
					 * per I/O, measured end to end (NAN: not) */
	double inplace[NBS];		/* guest_rt where measured, else synth;
					 * plus touch where measured */
	const char *guest_tr;		/* transport of guest_rt */
	bool measured;			/* inplace[] is guest_rt */
	bool touched;			/* inplace[] includes touch[] */
	int crossover_r, crossover_w;	/* first bs where in place wins for good */
	unsigned int busy;		/* vCPU-like threads in conv[] */
};

/* report_data.c */
const struct json *results(const struct json *doc);
bool conv_noisy(const struct bench_data *d, const char *mode, unsigned int pages);
void build_model(const struct bench_data *d, struct model *m);

/*
 * An io-bench point's record.  A point of an in-place mode may have been run
 * over several conversion transports: tr names one, or is DEFAULT_TR, the
 * default transport's record (what auto resolved to; bench.c runs it first
 * of a point's transports, and the first record found is taken).
 */
#define DEFAULT_TR	NULL
bool rec_is_default_variant(const struct json *r);
const struct io_point *io_find(const struct bench_data *d, const char *mode,
			       unsigned int bs_kib, unsigned int qd, unsigned int vcpus,
			       const char *backend, const char *tr);
/* At the representative point (qd, vCPUs, backend), over transport tr. */
const struct io_point *io_at_tr(const struct bench_data *d, const char *mode,
				unsigned int bs_kib, const char *tr);
/* The same, over the default transport: what the main tables use. */
const struct io_point *io_at(const struct bench_data *d, const char *mode,
			     unsigned int bs_kib);
double io_val(const struct io_point *p, const char *key);
int best_protected(const struct bench_data *d, unsigned int bs_kib, double *iops);

/*
 * A ratio over the repetitions of two interleaved points: the i-th run of
 * one over the i-th of the other (measured side by side), median and
 * spread.  Against the shared ceiling a repetition above 1 is noise (a
 * protected mode cannot beat the unprotected one): the sweep measures it
 * again once; if still above, it is left out of the median and counted.
 */
struct ratio {
	double med, lo, hi;		/* of the repetitions kept */
	unsigned int n;			/* repetitions kept */
	unsigned int noise;		/* left out: above the ceiling */
	unsigned int remeasured;	/* measured again (above it at first) */
};
/* p over the shared ceiling at its point; -ENOENT if either is missing. */
int ratio_ceiling(const struct bench_data *d, const struct io_point *p, struct ratio *r);
/* a over b, IOPS per repetition; -ENOENT if missing. */
int ratio_iops(const struct io_point *a, const struct io_point *b, struct ratio *r);
/* a over the fastest of the n points of[] run by run, each run over the
 * runs measured beside it: the first need of them must be there (else
 * -ENOENT) and have run i for run i to count; the others count where
 * measured (NULL: not). */
int ratio_best(const struct io_point *a, const struct io_point *const *of, unsigned int n,
	       unsigned int need, struct ratio *r);
/* a over the fastest of b, c and e (e may be NULL: not measured), run by
 * run; -ENOENT if a, b or c is missing. */
int ratio_faster(const struct io_point *a, const struct io_point *b,
		 const struct io_point *c, const struct io_point *e, struct ratio *r);
/* The time per I/O p adds over the shared ceiling (1/IOPS - 1/IOPS of
 * shared, per repetition), median; NAN if not measured. */
double extra_ns(const struct bench_data *d, const struct io_point *p);
/* "83% (80-85%)", the share never above 100%. */
void fmt_share(char *buf, size_t len, const struct ratio *r);
/* The device's time per I/O (NAN in records without it). */
double dev_ns(const struct io_point *p);
/* The smallest measured size (index) from which in place over tr (the
 * faster of inplace and inplace-batch) beats bounce at every larger measured
 * size; -1 never, -2 nothing measured. */
int io_crossover(const struct bench_data *d, const char *tr);

/* report_platform.c: the platform profiles and conversion models */
#define NPLATS	5	/* ideal pkvm tdx snp cca */
#define NPATHS	4	/* the protected paths adaptive chooses among */
extern const char *const plat_paths[NPATHS];	/* bounce persistent inplace inplace-batch */
void report_platforms(FILE *f, const struct bench_data *d);
void report_platforms_verdict(FILE *f, const struct bench_data *d);
/* The point of a path or of adaptive at bs on plat (lazy model; bounce and
 * persistent: ideal's, they convert nothing); NULL if not measured. */
const struct io_point *plat_point(const struct bench_data *d, const char *mode,
				  unsigned int bs_kib, const char *plat);
/* Adaptive on plat over the fastest of the paths plat allows at bs, run
 * by run (ratio_best: the runs measured beside each other); -ENOENT where
 * adaptive or every path is missing. */
int plat_adaptive_ratio(const struct bench_data *d, unsigned int bs, const char *plat,
			struct ratio *r);
/* The profiles with a plot, platform_<name>.svg (where report.md has the
 * per-platform section), into out[NPLATS]; how many. */
unsigned int platform_plots(const struct bench_data *d, const char **out);

/* report_files.c */
FILE *open_in(const char *dir, const char *name);
const char *sweep_name(const struct bench_opts *o);
int write_json(const struct bench_data *d, const struct bench_opts *o,
	       const char *dir, const struct model *m);
int write_csv(const struct bench_data *d, const char *dir);
void plots(const struct bench_data *d, const struct model *m, const char *dir);

/* report_tables.c */
void ratio_table(FILE *f, const struct bench_data *d);
void model_vs_e2e(FILE *f, const struct bench_data *d, const struct model *m);
void backends_table(FILE *f, const struct bench_data *d);
void fmt_us(char *buf, size_t len, double ns);
void model_table(FILE *f, const struct bench_data *d, const struct model *m);
void io_table(FILE *f, const struct bench_data *d);
void adaptive_table(FILE *f, const struct bench_data *d);
void split_table(FILE *f, const struct bench_data *d);
void modes_section(FILE *f);

/* report_compare.c: a saved results.json, parsed (NULL, said why, if not). */
struct json *report_load(const char *path);

#endif /* GMEMKIT_CLI_REPORT_INTERNAL_H */
