// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench: results files, plots, the verdict, and --compare.
 *
 * Two levels of answer:
 *  - the host model, from convert-bench and bounce-bench, measured on any
 *    host: what converting an I/O buffer in place costs against copying it
 *    through the bounce pool, per block size.  Where KVM runs, in place is
 *    the guest-measured share + unshare round trip (op guest_roundtrip);
 *    the synthetic sum (host conversion + two empty exits) is shown beside
 *    it as a cross-check, with the gap;
 *  - the end-to-end answer, from the io-bench sweep on a real KVM guest:
 *    the fastest protected mode per block size against the shared ceiling.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gmemkit/cost.h"
#include "report.h"

static const char *const io_modes[NMODES] = {
	"shared", "bounce", "inplace", "inplace-batch", "adaptive", "inplace-scatter",
	"persistent" };

#define NOISY_RATIO	1.5	/* median/min (micro) or max/min (io) above: noisy */

/* ---- reading ----------------------------------------------------------- */

static const struct json *results(const struct json *doc)
{
	const struct json *r = json_get(doc, "results");

	return r && r->type == JSON_ARR ? r : NULL;
}

void report_read_probe(struct bench_data *d)
{
	const struct json *p = d->probe;

	d->kvm = json_num(p, "kvm", 0) != 0;
	d->cpu_string_emulated = json_num(p, "emulated", 0) != 0;
	/* Where a guest runs is measured by the probe guest's speed loop (the
	 * CPU model string says nothing about it); without a measurement the
	 * guest is taken as not native. */
	d->emulated = d->kvm && !(json_num(p, "guest_speed_measured", 0) &&
				  json_num(p, "guest_native", 0));
	/* A guest as fast as its host says nothing when the host itself is an
	 * emulator (QEMU TCG runs both at the same speed): kept out too. */
	if (d->cpu_string_emulated)
		d->emulated = true;
	if (!d->kvm)
		snprintf(d->guest_speed, sizeof(d->guest_speed), "no guest (no KVM)");
	else if (!json_num(p, "guest_speed_measured", 0))
		snprintf(d->guest_speed, sizeof(d->guest_speed),
			 "unknown (the probe guest did not report its speed loop)");
	else
		snprintf(d->guest_speed, sizeof(d->guest_speed),
			 "%s (%.1f cycles per loop iteration, host %.1f)%s%s",
			 d->emulated ? "EMULATED" : "native",
			 json_num(p, "guest_cycles_per_iter", 0),
			 json_num(p, "host_cycles_per_iter", 0),
			 json_num(p, "pvm", 0) ? ", PVM native mode" : "",
			 d->cpu_string_emulated ?
			 ", on a host CPU that is itself emulated" : "");
	snprintf(d->cpu, sizeof(d->cpu), "%s", json_str(p, "cpu", "unknown"));
	snprintf(d->kernel, sizeof(d->kernel), "%s", json_str(p, "kernel", "unknown"));
	snprintf(d->kvm_error, sizeof(d->kvm_error), "%s",
		 json_str(p, "kvm_error", p ? "" : "probe failed"));
	snprintf(d->backing, sizeof(d->backing), "%s", json_str(p, "backing", "memfd"));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void report_add_io_runs(struct bench_data *d, struct json **runs, unsigned int n)
{
	double sorted[MAX_REPS];
	struct io_point *pt;
	struct json *arr;
	unsigned int i, med = 0;

	if (!n || d->nio == MAX_IO)
		return;
	pt = &d->io[d->nio];
	for (i = 0; i < n; i++) {
		const struct json *r = results(runs[i]);

		pt->iops[pt->nreps++] = r && r->child ? json_num(r->child, "iops", 0) : 0;
	}
	memcpy(sorted, pt->iops, n * sizeof(double));
	qsort(sorted, n, sizeof(double), cmp_double);
	for (i = 0; i < n; i++)
		if (pt->iops[i] == sorted[n / 2])
			med = i;
	/* Keep the median run's record: detach it from its document. */
	arr = (struct json *)results(runs[med]);
	if (!arr || !arr->child) {
		pt->nreps = 0;
		return;
	}
	pt->rec = arr->child;
	arr->child = pt->rec->next;
	pt->rec->next = NULL;
	d->nio++;
}

void report_pick(struct bench_data *d, const struct bench_opts *o)
{
	unsigned int i;

	d->rep_qd = 0;
	for (i = 0; i < o->nqd; i++)
		if (o->qd[i] == 32 || (d->rep_qd != 32 && o->qd[i] > d->rep_qd))
			d->rep_qd = o->qd[i];
	d->rep_vcpus = o->vcpus[0];
	for (i = 1; i < o->nvcpus; i++)
		if (o->vcpus[i] < d->rep_vcpus)
			d->rep_vcpus = o->vcpus[i];
	d->rep_backend = o->backends & 1 ? "null" : "file";
}

void report_free(struct bench_data *d)
{
	unsigned int i;

	json_free(d->probe);
	json_free(d->convert);
	json_free(d->bounce);
	for (i = 0; i < d->nio; i++)
		json_free(d->io[i].rec);
}

/* convert-bench median for (op, mode, pages, threads); NAN if absent. */
static const struct json *conv_point(const struct bench_data *d, const char *op,
				      const char *mode, unsigned int pages,
				      unsigned int threads)
{
	const struct json *r = results(d->convert), *c;

	for (c = r ? r->child : NULL; c; c = c->next)
		if (!strcmp(json_str(c, "op", ""), op) &&
		    (!mode || !strcmp(json_str(c, "mode", ""), mode)) &&
		    json_num(c, "pages", 0) == pages && json_num(c, "threads", 0) == threads)
			return c;
	return NULL;
}

static double conv_ns(const struct bench_data *d, const char *op, const char *mode,
		      unsigned int pages, unsigned int threads)
{
	return json_num(conv_point(d, op, mode, pages, threads), "ns_median", NAN);
}

/* The busy-thread count of convert-bench's headline rows (vCPU-like
 * threads running in the process); 1 in results older than the field. */
static unsigned int conv_busy(const struct bench_data *d)
{
	return (unsigned int)json_num(d->convert, "busy_threads", 1);
}

/* A micro-benchmark point is noisy when its median sits far above its best
 * sample: the typical sample was disturbed. */
static bool conv_noisy(const struct bench_data *d, const char *mode, unsigned int pages)
{
	const struct json *c = conv_point(d, "roundtrip", mode, pages, conv_busy(d));

	return json_num(c, "ns_median", 0) > NOISY_RATIO * json_num(c, "ns_min", INFINITY);
}

/* bounce-bench median for (op, bytes), 1 thread; sizes between measured
 * points are interpolated linearly, sizes above the largest are that many
 * mappings of the largest (a large I/O is split into maximal segments). */
static double bounce_ns(const struct bench_data *d, const char *op, double bytes)
{
	const struct json *r = results(d->bounce), *c;
	double lo_b = 0, lo_ns = 0, hi_b = INFINITY, hi_ns = NAN, max_b = 0, max_ns = NAN;

	for (c = r ? r->child : NULL; c; c = c->next) {
		double b = json_num(c, "bytes", 0), ns = json_num(c, "ns_median", NAN);

		if (strcmp(json_str(c, "op", ""), op) || json_num(c, "threads", 0) != 1)
			continue;
		if (b == bytes)
			return ns;
		if (b < bytes && b > lo_b) {
			lo_b = b;
			lo_ns = ns;
		}
		if (b > bytes && b < hi_b) {
			hi_b = b;
			hi_ns = ns;
		}
		if (b > max_b) {
			max_b = b;
			max_ns = ns;
		}
	}
	if (max_b > 0 && bytes > max_b)
		return max_ns * ceil(bytes / max_b);
	if (isnan(hi_ns))
		return NAN;
	return lo_ns + (hi_ns - lo_ns) * (bytes - lo_b) / (hi_b - lo_b);
}

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
	double inplace[NBS];		/* guest_rt where measured, else synth */
	const char *guest_tr;		/* transport of guest_rt */
	bool measured;			/* inplace[] is guest_rt */
	int crossover_r, crossover_w;	/* first bs where in place wins for good */
	unsigned int busy;		/* vCPU-like threads in conv[] */
};

/* The guest-measured round trip of pages, in place: the hypercall
 * transport where it was measured (what --transport auto takes), else the
 * doorbell; NAN if KVM did not run. */
static double guest_roundtrip(const struct bench_data *d, unsigned int pages,
			      const char **tr)
{
	static const char *const trs[2] = { "hypercall", "doorbell" };
	const struct json *r = results(d->convert), *c;
	unsigned int t;

	for (t = 0; t < 2; t++)
		for (c = r ? r->child : NULL; c; c = c->next)
			if (!strcmp(json_str(c, "op", ""), "guest_roundtrip") &&
			    !strcmp(json_str(c, "mode", ""), "inplace") &&
			    !strcmp(json_str(c, "transport", ""), trs[t]) &&
			    json_num(c, "pages", 0) == pages) {
				*tr = trs[t];
				return json_num(c, "ns_median", NAN);
			}
	return NAN;
}

/* First index from which a[b] < c[b] at every larger b; -1 if none. */
static int crossover(const double *a, const double *c)
{
	int b, from = -1;

	for (b = NBS - 1; b >= 0; b--) {
		if (!(a[b] < c[b]))
			break;
		from = b;
	}
	return from;
}

static void build_model(const struct bench_data *d, struct model *m)
{
	int b;

	m->exit_ns = conv_ns(d, "exit_roundtrip", NULL, 0, 0);
	m->busy = conv_busy(d);
	m->guest_tr = NULL;
	m->measured = true;
	for (b = 0; b < NBS; b++) {
		unsigned int pages = d->block_kib[b] / 4;
		double bytes = d->block_kib[b] * 1024.0;

		m->conv[b] = conv_ns(d, "roundtrip", "inplace", pages, m->busy);
		m->conv_d[b] = conv_ns(d, "roundtrip", "destructive", pages, m->busy);
		m->conv_idle[b] = conv_ns(d, "roundtrip", "inplace", pages, 0);
		m->base[b] = conv_ns(d, "baseline", NULL, pages, m->busy);
		m->copy_w[b] = bounce_ns(d, "bounce_to_device", bytes);
		m->copy_r[b] = bounce_ns(d, "bounce_from_device", bytes);
		m->mcpy[b] = bounce_ns(d, "memcpy", bytes);
		m->synth[b] = m->conv[b] + (isnan(m->exit_ns) ? 0 : 2 * m->exit_ns);
		m->guest_rt[b] = guest_roundtrip(d, pages, &m->guest_tr);
		m->measured = m->measured && !isnan(m->guest_rt[b]);
	}
	/* Measurement where there is one at every size, never a mix. */
	for (b = 0; b < NBS; b++)
		m->inplace[b] = m->measured ? m->guest_rt[b] : m->synth[b];
	m->crossover_r = crossover(m->inplace, m->copy_r);
	m->crossover_w = crossover(m->inplace, m->copy_w);
}

/* ---- end-to-end (io-bench) --------------------------------------------- */

static const struct io_point *io_find(const struct bench_data *d, const char *mode,
				      unsigned int bs_kib, unsigned int qd,
				      unsigned int vcpus, const char *backend)
{
	unsigned int i;

	for (i = 0; i < d->nio; i++) {
		const struct json *r = d->io[i].rec;

		if (!strcmp(json_str(r, "mode", ""), mode) &&
		    json_num(r, "bs", 0) == bs_kib * 1024.0 && json_num(r, "qd", 0) == qd &&
		    json_num(r, "vcpus", 1) == vcpus &&
		    !strcmp(json_str(r, "backend", ""), backend))
			return &d->io[i];
	}
	return NULL;
}

/* The point the report's tables use: the representative qd, vCPUs, backend. */
static const struct io_point *io_at(const struct bench_data *d, const char *mode,
				    unsigned int bs_kib)
{
	return io_find(d, mode, bs_kib, d->rep_qd, d->rep_vcpus, d->rep_backend);
}

static double io_val(const struct io_point *p, const char *key)
{
	return p ? json_num(p->rec, key, NAN) : NAN;
}

/* Best protected mode at bs (representative point); -1 if none. */
static int best_protected(const struct bench_data *d, unsigned int bs_kib, double *iops)
{
	int m, best = -1;

	*iops = 0;
	for (m = 1; m < NMODES; m++) {
		double v = io_val(io_at(d, io_modes[m], bs_kib), "iops");

		if (v > *iops) {
			*iops = v;
			best = m;
		}
	}
	return best;
}

/* ---- files ------------------------------------------------------------- */

static FILE *open_in(const char *dir, const char *name)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "gmemkit bench: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

static void print_array(FILE *f, const struct json *arr)
{
	if (arr)
		json_print(f, arr);
	else
		fputs("[]", f);
}

/* ,"key":value with null for an unmeasured (NaN) value. */
static void num_member(FILE *f, const char *key, double v)
{
	if (isnan(v))
		fprintf(f, ",\"%s\":null", key);
	else
		fprintf(f, ",\"%s\":%.0f", key, v);
}

static int write_json(const struct bench_data *d, const struct bench_opts *o,
		      const char *dir, const struct model *m)
{
	FILE *f = open_in(dir, "results.json");
	unsigned int i, r, b;

	if (!f)
		return -1;
	fprintf(f, "{\"gmemkit_version\":\"%s\",\"date\":%ld,\"quick\":%s,\"io_reps\":%u,"
		"\"io_runtime_s\":%g,\"host\":", d->version[0] ? d->version : GMEMKIT_VERSION,
		d->date ? d->date : (long)time(NULL),
		o->quick ? "true" : "false", o->reps, o->io_runtime);
	if (d->probe)
		json_print(f, d->probe);
	else
		fputs("null", f);
	fputs(",\"skipped\":[", f);
	for (i = 0; i < d->nskipped; i++) {
		fputs(i ? "," : "", f);
		json_print_str(f, d->skipped[i]);
	}
	fputs("],\"convert\":", f);
	print_array(f, results(d->convert));
	fputs(",\"bounce\":", f);
	print_array(f, results(d->bounce));
	fputs(",\"io\":[", f);
	for (i = 0; i < d->nio; i++) {
		const struct json *c;

		/* The median run's record plus every run's IOPS. */
		fputs(i ? ",{" : "{", f);
		for (c = d->io[i].rec->child; c; c = c->next) {
			json_print_str(f, c->key);
			fputc(':', f);
			json_print(f, c);
			fputc(',', f);
		}
		fputs("\"iops_runs\":[", f);
		for (r = 0; r < d->io[i].nreps; r++)
			fprintf(f, "%s%.0f", r ? "," : "", d->io[i].iops[r]);
		fputs("]}", f);
	}
	fputs("],\"model\":[", f);
	for (b = 0; b < NBS; b++) {
		fprintf(f, "%s{\"bs\":%u", b ? "," : "", d->block_kib[b] * 1024);
		num_member(f, "convert_inplace_ns", m->conv[b]);
		num_member(f, "convert_destructive_ns", m->conv_d[b]);
		num_member(f, "convert_inplace_idle_ns", m->conv_idle[b]);
		num_member(f, "bounce_write_ns", m->copy_w[b]);
		num_member(f, "bounce_read_ns", m->copy_r[b]);
		num_member(f, "memcpy_ns", m->mcpy[b]);
		num_member(f, "exit_ns", m->exit_ns);
		num_member(f, "guest_roundtrip_ns", m->guest_rt[b]);
		num_member(f, "synthetic_inplace_ns", m->synth[b]);
		num_member(f, "inplace_ns", m->inplace[b]);
		fprintf(f, ",\"inplace_source\":\"%s\"", m->measured ? "guest_roundtrip" :
			"synthetic");
		fputc('}', f);
	}
	fputs("]}\n", f);
	return fclose(f);
}

/* The identity and value columns every CSV row may have. */
static const char *const csv_cols[] = {
	"op", "mode", "transport", "rw", "backend", "pages", "bytes", "bs", "qd",
	"vcpus", "threads", "ns_min", "ns_median", "ns_max", "iops", "mbps",
	"lat_min_us", "lat_p50_us", "lat_p99_us", "lat_p999_us", "vcpu_ns_per_io",
	"kick_ns_per_io", "conv_exit_ns_per_io", "conv_host_ns_per_io",
	"split_copy_ns_per_io", "unaccounted_ns_per_io",
};
#define NCSV	(sizeof(csv_cols) / sizeof(csv_cols[0]))

static void csv_row(FILE *f, const char *bench, const struct json *r)
{
	unsigned int i;

	fputs(bench, f);
	for (i = 0; i < NCSV; i++) {
		const struct json *v = json_get(r, csv_cols[i]);

		fputc(',', f);
		if (v && v->type == JSON_STR)
			fputs(v->str, f);
		else if (v && v->type == JSON_NUM)
			fprintf(f, "%.6g", v->num);
	}
	fputc('\n', f);
}

static int write_csv(const struct bench_data *d, const char *dir)
{
	FILE *f = open_in(dir, "results.csv");
	const struct json *c;
	unsigned int i;

	if (!f)
		return -1;
	fputs("bench", f);
	for (i = 0; i < NCSV; i++)
		fprintf(f, ",%s", csv_cols[i]);
	fputc('\n', f);
	for (c = results(d->convert) ? results(d->convert)->child : NULL; c; c = c->next)
		csv_row(f, "convert", c);
	for (c = results(d->bounce) ? results(d->bounce)->child : NULL; c; c = c->next)
		csv_row(f, "bounce", c);
	for (i = 0; i < d->nio; i++)
		csv_row(f, "io", d->io[i].rec);
	return fclose(f);
}

/* ---- plots ------------------------------------------------------------- */

static bool have_gnuplot(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* Run bench/<script>.gp with data and output in dir. */
static int gnuplot(const char *dir, const char *script, const char *title)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "gnuplot -e \"dir='%s'; plottitle='%s'\" %s/%s.gp 2>&1",
		 dir, title, GMEMKIT_BENCH_DIR, script);
	if (system(cmd)) {
		fprintf(stderr, "gmemkit bench: gnuplot %s.gp failed\n", script);
		return -1;
	}
	return 0;
}

static void write_model_dat(const struct bench_data *d, const struct model *m,
			    const char *dir)
{
	FILE *f = open_in(dir, "cost_vs_size.dat");
	int b;

	if (!f)
		return;
	fprintf(f, "# bs_kib convert_inplace_us convert_destructive_us bounce_write_us "
		   "memcpy_us bounce_read_us convert_inplace_idle_us (conversions with %u "
		   "vCPU-like threads; idle: none)\n", m->busy);
	for (b = 0; b < NBS; b++)
		fprintf(f, "%u %.3f %.3f %.3f %.3f %.3f %.3f\n", d->block_kib[b], m->conv[b] / 1e3,
			m->conv_d[b] / 1e3, m->copy_w[b] / 1e3, m->mcpy[b] / 1e3,
			m->copy_r[b] / 1e3, m->conv_idle[b] / 1e3);
	fclose(f);
}

static void write_io_dat(const struct bench_data *d, const struct model *m,
			 const char *dir)
{
	FILE *t = open_in(dir, "io_by_size.dat"), *c = open_in(dir, "cost_split.dat");
	int b, k;

	if (t) {
		fprintf(t, "# bs_kib then per mode (shared bounce inplace inplace-batch "
			   "adaptive persistent): mbps p50_us p99_us  (%s backend, qd %u, %u vCPU)\n",
			d->rep_backend, d->rep_qd, d->rep_vcpus);
		for (b = 0; b < NBS; b++) {
			/* Only measured sizes: a NaN row would break the lines. */
			for (k = 0; k < NMODES && !io_at(d, io_modes[k], d->block_kib[b]); k++)
				;
			if (k == NMODES)
				continue;
			fprintf(t, "%u", d->block_kib[b]);
			for (k = 0; k < NMODES; k++) {
				const struct io_point *p = io_at(d, io_modes[k], d->block_kib[b]);

				fprintf(t, " %.3f %.3f %.3f", io_val(p, "mbps"),
					io_val(p, "lat_p50_us"), io_val(p, "lat_p99_us"));
			}
			fputc('\n', t);
		}
		fclose(t);
	}
	if (!c)
		return;
	fprintf(c, "# label kick_ns conv_exit_ns conv_host_ns copy_ns unaccounted_ns per KiB "
		   "of an I/O, summing to the vCPU time per I/O (%s backend, qd %u, %u vCPU)\n",
		d->rep_backend, d->rep_qd, d->rep_vcpus);
	for (b = 0; b < NBS; b++)
		for (k = 1; k < NMODES; k++) {
			const struct io_point *p = io_at(d, io_modes[k], d->block_kib[b]);
			double kib = d->block_kib[b];
			struct gmem_cost_split sp;

			if (!p || gmem_cost_split_record(p->rec, &sp))
				continue;
			fprintf(c, "\"%s %uK\" %.3f %.3f %.3f %.3f %.3f\n", io_modes[k],
				d->block_kib[b], sp.kick / kib, sp.conv_exit / kib,
				sp.conv_host / kib, sp.copy / kib, sp.unaccounted / kib);
		}
	fclose(c);
	(void)m;
}

static void plots(const struct bench_data *d, const struct model *m, const char *dir)
{
	char title[400];

	snprintf(title, sizeof(title), "%s backend, qd %u, %u vCPU; %s, %s%s",
		 d->rep_backend, d->rep_qd, d->rep_vcpus, d->kernel, d->cpu,
		 d->emulated ? " (EMULATED)" : "");
	write_model_dat(d, m, dir);
	if (d->nio)
		write_io_dat(d, m, dir);
	if (!have_gnuplot()) {
		fprintf(stderr, "gmemkit bench: gnuplot not found: no SVG plots "
				"(apt-get install gnuplot-nox)\n");
		return;
	}
	gnuplot(dir, "cost_vs_size", title);
	if (d->nio) {
		gnuplot(dir, "throughput", title);
		gnuplot(dir, "latency", title);
		gnuplot(dir, "cost_split", title);
	}
}

/* ---- report and verdict ------------------------------------------------- */

static void fmt_us(char *buf, size_t len, double ns)
{
	if (isnan(ns))
		snprintf(buf, len, "n/a");
	else if (ns >= 1e6)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else
		snprintf(buf, len, "%.0f ns", ns);
}

static void fmt_gap(char *buf, size_t len, double measured, double synth)
{
	if (isnan(measured) || isnan(synth) || !(synth > 0))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+.0f%%", 100.0 * (measured - synth) / synth);
}

static void model_table(FILE *f, const struct bench_data *d, const struct model *m)
{
	char a[32], i0[32], b2[32], w[32], r[32], e[32], g[32], sy[32], gp[32];
	int b;

	fprintf(f, "| block | host conversion (round trip, %u vCPU-like thread%s) | "
		   "same, idle process (lower bound) | synthetic: + 2 exits | "
		   "guest-measured round trip | gap | convert destructive | "
		   "bounce write (copy in) | bounce read (copy in + out) | memcpy | "
		   "in place / bounce read | in place / bounce write |\n"
		   "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		m->busy, m->busy == 1 ? "" : "s");
	for (b = 0; b < NBS; b++) {
		fmt_us(a, sizeof(a), m->conv[b]);
		fmt_us(i0, sizeof(i0), m->conv_idle[b]);
		fmt_us(b2, sizeof(b2), m->conv_d[b]);
		fmt_us(w, sizeof(w), m->copy_w[b]);
		fmt_us(r, sizeof(r), m->copy_r[b]);
		fmt_us(e, sizeof(e), m->mcpy[b]);
		fmt_us(sy, sizeof(sy), isnan(m->exit_ns) ? NAN : m->synth[b]);
		fmt_us(g, sizeof(g), m->guest_rt[b]);
		fmt_gap(gp, sizeof(gp), m->guest_rt[b], isnan(m->exit_ns) ? NAN : m->synth[b]);
		fprintf(f, "| %u KiB | %s%s | %s | %s | %s | %s | %s%s | %s | %s | %s | %.1fx | %.1fx |\n",
			d->block_kib[b], a,
			conv_noisy(d, "inplace", d->block_kib[b] / 4) ? " ~" : "", i0, sy, g,
			gp, b2,
			conv_noisy(d, "destructive", d->block_kib[b] / 4) ? " ~" : "",
			w, r, e, m->inplace[b] / m->copy_r[b], m->inplace[b] / m->copy_w[b]);
	}
	fprintf(f, "\nIn place / bounce uses the %s.\n",
		m->measured ? "guest-measured round trip (share + unshare requested and timed "
			      "by the guest: both exits and the host's work; the device's "
			      "touch of the pages in between is not in it)" :
		isnan(m->exit_ns) ? "host conversion alone (no KVM guest measured here: VM "
				    "exits not included)" :
		"synthetic sum (host conversion + two empty exits)");
}

/* What the copying modes keep shared with the host for the whole run, at
 * the representative point of the largest measured size. */
static void exposure(FILE *f, const struct bench_data *d)
{
	const struct io_point *bn = NULL, *ps = NULL;
	int b;

	for (b = 0; b < NBS; b++) {
		bn = io_at(d, "bounce", d->block_kib[b]) ? io_at(d, "bounce", d->block_kib[b]) : bn;
		ps = io_at(d, "persistent", d->block_kib[b]) ?
		     io_at(d, "persistent", d->block_kib[b]) : ps;
	}
	if (!bn && !ps)
		return;
	fprintf(f, "\nShared with the host for the whole run:");
	if (bn)
		fprintf(f, " bounce, a %.0f MiB pool (%.0f%% of the run's guest RAM);",
			io_val(bn, "pool_bytes") / 1048576.0, io_val(bn, "shared_pct"));
	if (ps)
		fprintf(f, " persistent, %.0f MiB of buffers, one of %.0f KiB per request "
			   "slot (%.0f%% of the run's guest RAM).",
			io_val(ps, "persist_pool_bytes") / 1048576.0,
			io_val(ps, "persist_buf_bytes") / 1024.0, io_val(ps, "shared_pct"));
	fprintf(f, " The run's guest RAM is sized for the run; a production guest's "
		   "share is these bytes over its RAM.\n");
}

static void io_table(FILE *f, const struct bench_data *d)
{
	int b, k;

	fprintf(f, "\nIOPS, %s backend, randread, qd %u, %u vCPU (median of the runs; "
		   "`~` marks a noisy point, max/min > %.1f):\n\n| block |", d->rep_backend,
		d->rep_qd, d->rep_vcpus, NOISY_RATIO);
	for (k = 0; k < NMODES; k++)
		fprintf(f, " %s |", io_modes[k]);
	fprintf(f, "\n|---:|");
	for (k = 0; k < NMODES; k++)
		fprintf(f, "---:|");
	fputc('\n', f);
	for (b = 0; b < NBS; b++) {
		fprintf(f, "| %u KiB |", d->block_kib[b]);
		for (k = 0; k < NMODES; k++) {
			const struct io_point *p = io_at(d, io_modes[k], d->block_kib[b]);
			double lo = INFINITY, hi = 0;
			unsigned int r;

			for (r = 0; p && r < p->nreps; r++) {
				lo = fmin(lo, p->iops[r]);
				hi = fmax(hi, p->iops[r]);
			}
			if (!p)
				fprintf(f, " - |");
			else
				fprintf(f, " %.0f%s |", io_val(p, "iops"),
					lo > 0 && hi / lo > NOISY_RATIO ? "~" : "");
		}
		fputc('\n', f);
	}
	exposure(f, d);
}

/* Which part of a point's per-I/O time is largest (the split: each cost
 * once, gmemkit/cost.h). */
static const char *dominant_cost(const struct io_point *p)
{
	static const char *const names[5] = {
		"kicks (ioeventfd exits)", "conversion exits to the VMM",
		"conversion host work", "bounce copy",
		"unaccounted time (driver, waiting for the device)" };
	struct gmem_cost_split sp;
	double v[5];
	int i, best = 0;

	if (!p || gmem_cost_split_record(p->rec, &sp))
		return "not split (a record without the vCPU time)";
	v[0] = sp.kick;
	v[1] = sp.conv_exit;
	v[2] = sp.conv_host;
	v[3] = sp.copy;
	v[4] = sp.unaccounted;
	for (i = 1; i < 5; i++)
		if (v[i] > v[best])
			best = i;
	return v[best] > 0 ? names[best] : "none measured";
}

/* Adaptive against the faster of bounce and inplace, side by side, at the
 * representative point; then every (qd, vCPUs, backend) of the sweep. */
static void adaptive_table(FILE *f, const struct bench_data *d)
{
	unsigned int i, met = 0, seen = 0;
	int b;

	fprintf(f, "\nAdaptive against the faster of `bounce` and `inplace` (IOPS, same "
		   "sweep, %s backend, qd %u, %u vCPU; target: adaptive >= 0.9x the faster):"
		   "\n\n| block | bounce | inplace | faster | adaptive | adaptive / faster | "
		   "adaptive bounced / in place | target |\n|---:|---:|---:|---:|---:|---:|---:|:--|\n",
		d->rep_backend, d->rep_qd, d->rep_vcpus);
	for (b = 0; b < NBS; b++) {
		const struct io_point *pa = io_at(d, "adaptive", d->block_kib[b]);
		double bn = io_val(io_at(d, "bounce", d->block_kib[b]), "iops");
		double ip = io_val(io_at(d, "inplace", d->block_kib[b]), "iops");
		double ad = io_val(pa, "iops"), fast = fmax(bn, ip);

		if (isnan(ad) || isnan(bn) || isnan(ip))
			continue;
		fprintf(f, "| %u KiB | %.0f | %.0f | %s | %.0f | %.2fx | %.0f / %.0f | %s |\n",
			d->block_kib[b], bn, ip, bn >= ip ? "bounce" : "inplace", ad, ad / fast,
			io_val(pa, "bounced"), io_val(pa, "inplaced"),
			ad >= 0.9 * fast ? "met" : "**not met**");
	}
	/* every point of the sweep */
	for (i = 0; i < d->nio; i++) {
		const struct json *r = d->io[i].rec;
		const struct io_point *pb, *pi;
		unsigned int bs_kib = (unsigned int)(json_num(r, "bs", 0) / 1024);

		if (strcmp(json_str(r, "mode", ""), "adaptive"))
			continue;
		pb = io_find(d, "bounce", bs_kib, (unsigned int)json_num(r, "qd", 0),
			     (unsigned int)json_num(r, "vcpus", 1), json_str(r, "backend", ""));
		pi = io_find(d, "inplace", bs_kib, (unsigned int)json_num(r, "qd", 0),
			     (unsigned int)json_num(r, "vcpus", 1), json_str(r, "backend", ""));
		if (!pb || !pi)
			continue;
		seen++;
		met += json_num(r, "iops", 0) >=
		       0.9 * fmax(io_val(pb, "iops"), io_val(pi, "iops"));
	}
	if (seen)
		fprintf(f, "\nOver the whole sweep: adaptive >= 0.9x the faster at %u of %u "
			   "points (medians of the runs).\n", met, seen);
}

/* The per-I/O split of the representative point, each cost once. */
static void split_table(FILE *f, const struct bench_data *d)
{
	char t[32], a[32], b2[32], c[32], e[32], u[32];
	int b, k;

	fprintf(f, "\nWhere each protected mode's vCPU time per I/O goes (%s backend, "
		   "qd %u, %u vCPU; each cost counted once, measured by the guest: kicks timed "
		   "around each QueueNotify write, conversions timed around each request with "
		   "the host's work on it reported by the VMM, the exit being the rest; the "
		   "parts never sum to more than the vCPU time; *unaccounted* is what this "
		   "split leaves out: the driver, the workload, and polling while the device "
		   "works):\n\n| block | mode | vCPU time | kicks | conversion exits | "
		   "conversion host work | bounce copy | unaccounted |\n"
		   "|---:|:--|---:|---:|---:|---:|---:|---:|\n",
		d->rep_backend, d->rep_qd, d->rep_vcpus);
	for (b = 0; b < NBS; b++)
		for (k = 1; k < NMODES; k++) {
			const struct io_point *p = io_at(d, io_modes[k], d->block_kib[b]);
			struct gmem_cost_split sp;

			if (!p)
				continue;
			if (gmem_cost_split_record(p->rec, &sp)) {
				fprintf(f, "| %u KiB | %s | not split (record without the vCPU "
					   "time) | | | | | |\n", d->block_kib[b], io_modes[k]);
				continue;
			}
			fmt_us(t, sizeof(t), sp.total);
			fmt_us(a, sizeof(a), sp.kick);
			fmt_us(b2, sizeof(b2), sp.conv_exit);
			fmt_us(c, sizeof(c), sp.conv_host);
			fmt_us(e, sizeof(e), sp.copy);
			fmt_us(u, sizeof(u), sp.unaccounted);
			fprintf(f, "| %u KiB | %s | %s | %s | %s | %s | %s | %s%s |\n",
				d->block_kib[b], io_modes[k], t, a, b2, c, e, u,
				sp.scaled ? " (parts scaled to fit)" : "");
		}
}

static void modes_section(FILE *f)
{
	fprintf(f, "\n## What each mode stands for\n\n"
		"- `shared`: no protection, buffers in memory shared for the whole run: the "
		"ceiling.\n"
		"- `bounce`: swiotlb, as every confidential guest does today: data copied "
		"through a pool shared once at boot; no conversion while the I/O runs.\n"
		"- `inplace`: the request's buffer shared before the I/O and unshared after, "
		"per request.  Each conversion is a request that **exits to the VMM** "
		"(port-I/O doorbell, or `KVM_HC_MAP_GPA_RANGE` delivered to userspace), which "
		"updates guest_memfd: the **TDX/SNP-on-KVM model** (MapGPA / page-state-change "
		"exits handled by the VMM).  **pKVM** (`MEM_SHARE`/`MEM_UNSHARE` to EL2) and "
		"**Arm CCA** (RSI calls to the RMM) convert inside the hypervisor without a "
		"userspace round trip: the *conversion exits* part of the split is not paid "
		"there, a trap to the hypervisor and its page-table update are (not measured "
		"here).\n"
		"- `inplace-batch`: one share and one unshare of one contiguous, page-aligned "
		"span holding the buffers of a batch of up to qd requests: an **upper bound** "
		"of batching (a block layer's buffers are not contiguous).\n"
		"- `inplace-scatter`: batches as above, but each request's data lies in "
		"pieces (bs/16, at least 4 KiB) at random places of an area twice the "
		"batch's size, one share and one unshare per contiguous run of pieces, as a "
		"block layer hands over pages wherever they are: the **realistic** batched "
		"case.\n"
		"- `adaptive`: per request, bounce or in place, whichever the per-I/O "
		"protection cost measured during the run says is cheaper (smoothed per size "
		"and direction, the other path re-probed now and then; `gmemkit/adapt.h`).  Its "
		"input is the vCPU's protection time (copies; share + unshare); what the "
		"host pays on the device side for a path (faulting re-shared pages back in) "
		"is not in it.\n");
}

/* The smallest measured size from which in place (either flavour) beats
 * bouncing at every larger measured size. */
static void io_crossover(FILE *f, const struct bench_data *d)
{
	int b, from = -1, measured = 0;

	for (b = NBS - 1; b >= 0; b--) {
		double bn = io_val(io_at(d, "bounce", d->block_kib[b]), "iops");
		double ip = fmax(io_val(io_at(d, "inplace", d->block_kib[b]), "iops"),
				 io_val(io_at(d, "inplace-batch", d->block_kib[b]), "iops"));

		if (isnan(bn) || isnan(ip))
			continue;
		measured++;
		if (ip <= bn)
			break;
		from = b;
	}
	if (!measured)
		return;
	if (from < 0)
		fprintf(f, " End to end, in place never beats bouncing at the sizes measured.");
	else
		fprintf(f, " End to end, in place (the faster of inplace and inplace-batch, "
			   "the latter an upper bound) beats bouncing from %u KiB up.",
			d->block_kib[from]);
}

/* Per block size, the fastest of the three ways to get private data to a
 * device (swiotlb bounce, persistent shared buffers, in place in either
 * flavour), with what it pays per I/O. */
static void cheapest_protected(FILE *f, const struct bench_data *d)
{
	static const char *const ways[] = { "bounce", "persistent", "inplace", "inplace-batch" };
	const char *transport = NULL;
	int b, seen = 0;
	unsigned int k;

	for (b = 0; b < NBS; b++) {
		const struct io_point *best = NULL;
		const char *name = NULL;

		for (k = 0; k < sizeof(ways) / sizeof(ways[0]); k++) {
			const struct io_point *p = io_at(d, ways[k], d->block_kib[b]);

			if (p && (!best || io_val(p, "iops") > io_val(best, "iops"))) {
				best = p;
				name = ways[k];
			}
		}
		if (!best)
			continue;
		if (!seen++)
			fprintf(f, " Cheapest protected path per block size (swiotlb bounce, "
				   "persistent buffers, in place):");
		transport = json_str(best->rec, "transport", "?");
		fprintf(f, " %u KiB %s, %.0f IOPS (per I/O: %.0f bytes copied, %.2f "
			   "conversions, %.2f exits);", d->block_kib[b],
			!strcmp(name, "bounce") ? "swiotlb bounce" : name, io_val(best, "iops"),
			io_val(best, "copy_bytes_per_io"), io_val(best, "conv_per_io"),
			io_val(best, "exits_per_io"));
	}
	if (seen)
		fprintf(f, " (conversion transport %s).", transport);
}

/* Best protected >= 90% of the shared ceiling at every measured size. */
static bool target_met(const struct bench_data *d)
{
	int b, seen = 0;

	for (b = 0; b < NBS; b++) {
		double best, ceil_iops = io_val(io_at(d, "shared", d->block_kib[b]), "iops");

		if (best_protected(d, d->block_kib[b], &best) < 0 || !(ceil_iops > 0))
			continue;
		seen++;
		if (best < 0.9 * ceil_iops)
			return false;
	}
	return seen > 0;
}

/* The paragraph a kernel developer would paste into a mailing-list reply. */
static void verdict(FILE *f, const struct bench_data *d, const struct model *m)
{
	double per_page_conv = m->conv[NBS - 1] / (d->block_kib[NBS - 1] / 4.0);
	double per_page_copy = m->copy_r[NBS - 1] / (d->block_kib[NBS - 1] / 4.0);
	double pool = json_num(d->bounce, "pool_bytes", NAN);
	int b;

	fprintf(f, "On %s (kernel %s%s), ", d->cpu, d->kernel,
		d->emulated && d->nio ?
		", EMULATED GUEST (measured): functional numbers only, not a verdict" : "");
	if (isnan(m->copy_r[0]) || isnan(m->copy_w[0]) || isnan(m->conv[0])) {
		fprintf(f, "the %s cost was not measured (see 'Skipped or failed'): no verdict.\n",
			isnan(m->conv[0]) ? "conversion" : "bounce");
		return;
	}
	fprintf(f, "a private->shared->private round trip of one 4 KiB page costs "
		   "%.1f us in place (%.1f us destructive; %.1f us in an idle process, the "
		   "lower bound), with the host's mapping revoked at each unshare and "
		   "faulted back in at its first touch, against %.2f us to bounce the "
		   "same 4 KiB for a read (copy in + copy out) and %.2f us for a write "
		   "(copy in) through a %.0f MiB swiotlb-style pool. ",
		m->conv[0] / 1e3, m->conv_d[0] / 1e3, m->conv_idle[0] / 1e3,
		m->copy_r[0] / 1e3, m->copy_w[0] / 1e3, pool / 1048576.0);
	fprintf(f, "In a %u KiB range a conversion costs %.0f ns per page against "
		   "%.0f ns per page to bounce a read. ", d->block_kib[NBS - 1], per_page_conv,
		per_page_copy);
	if (m->measured)
		fprintf(f, "Requested by the guest (%s, exits to the VMM: the TDX/SNP-on-KVM "
			   "model), a 4 KiB share + unshare round trip measures %.1f us "
			   "(synthetic host conversion + two %.1f us exits: %.1f us); the host "
			   "model below uses the measured one. ", m->guest_tr,
			m->guest_rt[0] / 1e3, m->exit_ns / 1e3, m->synth[0] / 1e3);
	else if (!isnan(m->exit_ns))
		fprintf(f, "Each conversion request from the guest adds a VM exit of "
			   "%.1f us (two per I/O; synthetic: no guest round trip measured). ",
			m->exit_ns / 1e3);
	else
		fprintf(f, "VM exit costs are not included (no KVM guest measured here). ");
	if (m->crossover_r < 0)
		fprintf(f, "Host model: in-place conversion never beats bouncing a read up "
			   "to %u KiB on this host; the page-table update, TLB invalidation "
			   "and refault dominate, at %.1fx the read bounce for 1 MiB",
			d->block_kib[NBS - 1], m->inplace[NBS - 1] / m->copy_r[NBS - 1]);
	else
		fprintf(f, "Host model: in-place conversion beats bouncing a read from %u "
			   "KiB up on this host (%.1fx cheaper at %u KiB)",
			d->block_kib[m->crossover_r],
			m->copy_r[NBS - 1] / m->inplace[NBS - 1], d->block_kib[NBS - 1]);
	if (m->crossover_w < 0)
		fprintf(f, "; a write, never up to %u KiB (%.1fx). ", d->block_kib[NBS - 1],
			m->inplace[NBS - 1] / m->copy_w[NBS - 1]);
	else
		fprintf(f, "; a write from %u KiB up. ", d->block_kib[m->crossover_w]);
	if (!d->nio) {
		fprintf(f, "End to end (virtio-blk from a real guest) was not measured on "
			   "this host: see 'Skipped or failed'.\n");
		return;
	}
	fprintf(f, "End to end (virtio-blk, %s backend, qd %u, %u vCPU):", d->rep_backend,
		d->rep_qd, d->rep_vcpus);
	for (b = 0; b < NBS; b++) {
		double best, ceil_iops = io_val(io_at(d, "shared", d->block_kib[b]), "iops");
		int k = best_protected(d, d->block_kib[b], &best);

		if (k < 0 || !(ceil_iops > 0))
			continue;
		fprintf(f, " %u KiB: %s at %.0f%% of the shared ceiling", d->block_kib[b],
			io_modes[k], 100.0 * best / ceil_iops);
		if (best < 0.9 * ceil_iops)
			fprintf(f, " (largest part of its time per I/O: %s)",
				dominant_cost(io_at(d, io_modes[k], d->block_kib[b])));
		fprintf(f, ";");
	}
	io_crossover(f, d);
	cheapest_protected(f, d);
	report_transports_verdict(f, d);
	if (d->rep_qd != 32 || strcmp(d->rep_backend, "null"))
		fprintf(f, " Target (best protected mode >= 90%% of shared at every size, "
			   "null backend, qd 32): not evaluated by this sweep.\n");
	else
		fprintf(f, " Target (best protected mode >= 90%% of shared at every size, "
			   "null backend, qd 32): %s.\n", target_met(d) ? "met" : "not met");
}

static void write_report(FILE *f, const struct bench_data *d,
			 const struct bench_opts *o, const struct model *m)
{
	unsigned int i;

	fprintf(f, "# gmemkit: in place or swiotlb?\n\n");
	fprintf(f, "Host: %s, kernel %s, KVM %s, guest memory %s%s. gmemkit %s, %s sweep.\n\n",
		d->cpu, d->kernel, d->kvm ? "usable" : "not usable", d->backing,
		d->cpu_string_emulated ? " (the CPU model string names an emulator)" : "",
		d->version[0] ? d->version : GMEMKIT_VERSION, o->quick ? "quick" : "full");
	fprintf(f, "Guest execution, measured by the probe guest's speed loop: %s.%s\n\n",
		d->guest_speed, d->emulated && d->kvm ?
		" **Guest figures from here are functional only: no end-to-end verdict.**" :
		"");
	fprintf(f, "## Verdict\n\n");
	verdict(f, d, m);
	fprintf(f, "\n## Conversion against copy, per I/O (host model)\n\n");
	model_table(f, d, m);
	fprintf(f, "\nHost conversion: `convert-bench` medians (share, host touches each "
		   "page, unshare) on %s, with %u vCPU-like busy thread%s in the process (every "
		   "revocation is a TLB shootdown to them); the idle-process column is the "
		   "lower bound. Each unshare revokes the host view's mapping (as upstream "
		   "in-place guest_memfd conversion), so each touch after the share is a "
		   "page fault. `~` marks a noisy point (median/min > %.1f). "
		   "Synthetic: that plus two empty doorbell round trips (`exit_roundtrip`). "
		   "Guest-measured: `guest_roundtrip`, share + unshare requested and timed by "
		   "the guest (where KVM runs); gap = measured against synthetic. "
		   "Bounce: `bounce-bench` medians, 1 thread, %.0f MiB pool (the size the "
		   "io-bench sweep gives the guest); a read pays the copy in at map (Linux "
		   "since aa6f8dcbab47) and the copy out at unmap, a write the copy in; "
		   "1 MiB is four 256 KiB mappings (the pool's largest), sizes between "
		   "measured points interpolated. `persistent` pays one copy per I/O "
		   "into or out of a buffer it reuses: the memcpy column when its qd x bs "
		   "fits in cache, up to `bounce-bench`'s memcpy_spread (a cold destination) "
		   "when not.\n\n![cost vs size](cost_vs_size.svg)\n",
		json_str(d->convert, "backing", "memfd"), m->busy, m->busy == 1 ? "" : "s",
		NOISY_RATIO, json_num(d->bounce, "pool_bytes", NAN) / 1048576.0);
	if (d->nio) {
		fprintf(f, "\n## End to end: virtio-blk from the guest\n");
		io_table(f, d);
		adaptive_table(f, d);
		split_table(f, d);
		fprintf(f, "\n![throughput](throughput.svg)\n![latency](latency.svg)\n"
			   "![cost split](cost_split.svg)\n");
		report_transports(f, d);
	}
	modes_section(f);
	if (d->nskipped) {
		fprintf(f, "\n## Skipped or failed\n\n");
		for (i = 0; i < d->nskipped; i++)
			fprintf(f, "- %s\n", d->skipped[i]);
		if (d->nskipped_lost)
			fprintf(f, "- ... and %u more (see the terminal output)\n",
				d->nskipped_lost);
	}
	fprintf(f, "\n## Files\n\n`results.json` (every point, host facts, repetitions), "
		   "`results.csv`, the `.dat` files behind the plots.\n");
}

int report_write(struct bench_data *d, const struct bench_opts *o, const char *outdir)
{
	struct model m;
	FILE *f;
	int err = 0;

	build_model(d, &m);
	err |= write_json(d, o, outdir, &m);
	err |= write_csv(d, outdir);
	plots(d, &m, outdir);
	f = open_in(outdir, "report.md");
	if (!f)
		return -1;
	write_report(f, d, o, &m);
	err |= fclose(f);
	printf("\n");
	model_table(stdout, d, &m);
	if (d->nio) {
		io_table(stdout, d);
		adaptive_table(stdout, d);
	}
	printf("\nVERDICT\n");
	verdict(stdout, d, &m);
	printf("\nwritten: %s/{results.json,results.csv,report.md,*.svg}\n", outdir);
	return err ? -1 : 0;
}

/* ---- --compare ---------------------------------------------------------- */

static const char *const id_keys[] = {
	"op", "mode", "transport", "rw", "backend", "pages", "bytes", "bs", "qd",
	"vcpus", "threads",
};
#define NID	(sizeof(id_keys) / sizeof(id_keys[0]))

static bool same_point(const struct json *a, const struct json *b)
{
	unsigned int i;

	for (i = 0; i < NID; i++) {
		const struct json *x = json_get(a, id_keys[i]), *y = json_get(b, id_keys[i]);

		if (!x != !y)
			return false;
		if (!x)
			continue;
		if (x->type != y->type)
			return false;
		if (x->type == JSON_STR ? strcmp(x->str, y->str) : x->num != y->num)
			return false;
	}
	return true;
}

static void describe(char *buf, size_t len, const struct json *r)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < NID && n < len; i++) {
		const struct json *v = json_get(r, id_keys[i]);

		if (!v)
			continue;
		if (v->type == JSON_STR)
			n += (size_t)snprintf(buf + n, len - n, "%s=%s ", id_keys[i], v->str);
		else
			n += (size_t)snprintf(buf + n, len - n, "%s=%g ", id_keys[i], v->num);
	}
}

static unsigned int compare_section(const struct json *a, const struct json *b,
				    const char *section, const char *metric)
{
	const struct json *sa = json_get(a, section), *sb = json_get(b, section), *x, *y;
	unsigned int n = 0;
	char desc[256];

	for (x = sa ? sa->child : NULL; x; x = x->next) {
		for (y = sb ? sb->child : NULL; y && !same_point(x, y); y = y->next)
			;
		if (!y)
			continue;
		describe(desc, sizeof(desc), x);
		printf("%-8s %-70s %14.1f %14.1f %8.2fx\n", section, desc,
		       json_num(x, metric, NAN), json_num(y, metric, NAN),
		       json_num(y, metric, NAN) / json_num(x, metric, NAN));
		n++;
	}
	return n;
}

static struct json *load(const char *path)
{
	char *text = json_slurp(path);
	struct json *j;
	size_t at;

	if (!text) {
		fprintf(stderr, "gmemkit bench: cannot read '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	j = json_parse(text, &at);
	if (!j)
		fprintf(stderr, "gmemkit bench: '%s' is not valid JSON (byte %zu)\n", path, at);
	else if (!json_get(j, "convert")) {
		fprintf(stderr, "gmemkit bench: '%s' is not a gmemkit results.json\n", path);
		json_free(j);
		j = NULL;
	}
	free(text);
	return j;
}

int report_compare(const char *pa, const char *pb)
{
	struct json *a = load(pa), *b = a ? load(pb) : NULL;
	unsigned int n;

	if (!a || !b) {
		json_free(a);
		return 2;
	}
	printf("A = %s (%s)\nB = %s (%s)\n\n", pa, json_str(json_get(a, "host"), "cpu", "?"),
	       pb, json_str(json_get(b, "host"), "cpu", "?"));
	printf("%-8s %-70s %14s %14s %9s\n", "section", "point", "A", "B", "B/A");
	n = compare_section(a, b, "convert", "ns_median");
	n += compare_section(a, b, "bounce", "ns_median");
	n += compare_section(a, b, "io", "iops");
	printf("\n%u common points (ns: lower is better; io: IOPS, higher is better)\n", n);
	json_free(a);
	json_free(b);
	return n ? 0 : 1;
}
