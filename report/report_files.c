// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench report: results.json (every point, host facts, repetitions,
 * the host model), results.csv, and the plots: their .dat files and the SVGs
 * gnuplot draws from them with the scripts in bench/ (one per platform
 * profile: platform_<name>.svg).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gmemkit/bench_cost.h"
#include "report_internal.h"

FILE *report_open_in(const char *dir, const char *name)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "gmemkit bench: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

/* key: arr, or [] where there is none. */
static void put_array(struct json_w *w, const char *key, const struct json *arr)
{
	if (arr) {
		json_w_value(w, key, arr);
		return;
	}
	json_w_arr(w, key);
	json_w_end(w);
}

const char *report_sweep_name(const struct report_opts *o)
{
	return o->quick ? "quick" : o->full ? "full" : "verdict";
}

/* A point's runs measured again, and the ceiling measured beside each
 * (only where there are some: older files have none). */
static void io_remeasured(struct json_w *w, const struct report_io_point *p)
{
	unsigned int r, n = 0;

	for (r = 0; r < p->nreps; r++)
		n += p->remeasured[r];
	if (!n)
		return;
	json_w_arr(w, "remeasured_runs");
	for (r = 0; r < p->nreps; r++)
		if (p->remeasured[r])
			json_w_u64(w, NULL, r);
	json_w_end(w);
	json_w_arr(w, "ceiling_runs");
	for (r = 0; r < p->nreps; r++)
		json_w_fixed(w, NULL, p->ceil[r], 0);	/* NAN: null */
	json_w_end(w);
}

/* The median run's record plus every run's IOPS. */
static void io_point(struct json_w *w, const struct report_io_point *p)
{
	const struct json *c;
	unsigned int r;

	json_w_obj(w, NULL);
	for (c = p->rec->child; c; c = c->next)
		json_w_value(w, c->key, c);
	json_w_arr(w, "iops_runs");
	for (r = 0; r < p->nreps; r++)
		json_w_fixed(w, NULL, p->iops[r], 0);
	json_w_end(w);
	io_remeasured(w, p);
	json_w_end(w);
}

/* The host model at one block size; an unmeasured (NAN) figure is null. */
static void model_row(struct json_w *w, const struct report_data *d,
		      const struct report_model *m, unsigned int b)
{
	char source[64];

	json_w_obj(w, NULL);
	json_w_u64(w, "bs", d->block_kib[b] * 1024);
	json_w_fixed(w, "convert_inplace_ns", m->conv[b], 0);
	json_w_fixed(w, "convert_destructive_ns", m->conv_d[b], 0);
	json_w_fixed(w, "convert_inplace_idle_ns", m->conv_idle[b], 0);
	json_w_fixed(w, "bounce_write_ns", m->copy_w[b], 0);
	json_w_fixed(w, "bounce_read_ns", m->copy_r[b], 0);
	json_w_fixed(w, "memcpy_ns", m->mcpy[b], 0);
	json_w_fixed(w, "exit_ns", m->exit_ns, 0);
	json_w_fixed(w, "guest_roundtrip_ns", m->guest_rt[b], 0);
	json_w_fixed(w, "synthetic_inplace_ns", m->synth[b], 0);
	json_w_fixed(w, "device_touch_ns", m->touch[b], 0);
	json_w_fixed(w, "inplace_ns", m->inplace[b], 0);
	snprintf(source, sizeof(source), "%s%s", m->measured ? "guest_roundtrip" : "synthetic",
		 m->touched ? "+device_touch" : "");
	json_w_str(w, "inplace_source", source);
	json_w_end(w);
}

int report_write_json(const struct report_data *d, const struct report_opts *o,
		      const char *dir, const struct report_model *m)
{
	FILE *f = report_open_in(dir, "results.json");
	struct json_w w;
	unsigned int i;
	int err;

	if (!f)
		return -1;
	json_w_init(&w, f);
	json_w_obj(&w, NULL);
	json_w_str(&w, "gmemkit_version", d->version[0] ? d->version : GMEMKIT_VERSION);
	json_w_i64(&w, "date", d->date ? d->date : (long)time(NULL));
	json_w_bool(&w, "quick", o->quick);
	json_w_u64(&w, "io_reps", o->reps);
	json_w_sig(&w, "io_runtime_s", o->io_runtime, 6);
	json_w_str(&w, "sweep", report_sweep_name(o));
	json_w_bool(&w, "interleaved", d->interleaved);
	if (d->sweep_s > 0) {
		json_w_fixed(&w, "sweep_s", d->sweep_s, 1);
		json_w_u64(&w, "remeasures", d->remeasures);
	}
	json_w_value(&w, "host", d->probe);
	json_w_arr(&w, "skipped");
	for (i = 0; i < d->nskipped; i++)
		json_w_str(&w, NULL, d->skipped[i]);
	json_w_end(&w);
	put_array(&w, "convert", report_results(d->convert));
	put_array(&w, "bounce", report_results(d->bounce));
	json_w_arr(&w, "io");
	for (i = 0; i < d->nio; i++)
		io_point(&w, &d->io[i]);
	json_w_end(&w);
	json_w_arr(&w, "model");
	for (i = 0; i < REPORT_NBS; i++)
		model_row(&w, d, m, i);
	json_w_end(&w);
	json_w_end(&w);
	fputc('\n', f);
	err = json_w_finish(&w);
	return fclose(f) || err ? -1 : 0;
}

/* The identity and value columns every CSV row may have. */
static const char *const csv_cols[] = {
	"op", "mode", "transport", "rw", "backend", "pages", "bytes", "bs", "qd",
	"vcpus", "threads", "ns_min", "ns_median", "ns_max", "iops", "mbps",
	"lat_min_us", "lat_p50_us", "lat_p99_us", "lat_p999_us", "vcpu_ns_per_io",
	"kick_ns_per_io", "conv_exit_ns_per_io", "conv_host_ns_per_io",
	"split_copy_ns_per_io", "unaccounted_ns_per_io", "dev_ns_per_io",
	"dev_faults_per_io", "dev_copy_bytes_per_io",
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

int report_write_csv(const struct report_data *d, const char *dir)
{
	FILE *f = report_open_in(dir, "results.csv");
	const struct json *c;
	unsigned int i;

	if (!f)
		return -1;
	fputs("bench", f);
	for (i = 0; i < NCSV; i++)
		fprintf(f, ",%s", csv_cols[i]);
	fputc('\n', f);
	for (c = report_results(d->convert) ? report_results(d->convert)->child : NULL; c;
	     c = c->next)
		csv_row(f, "convert", c);
	for (c = report_results(d->bounce) ? report_results(d->bounce)->child : NULL; c;
	     c = c->next)
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

/* Run bench/<script>.gp with data and output in dir, its title in two
 * lines (what was measured; the host); vars: more gnuplot assignments
 * ("name='value'; ..."), or "". */
/* s as the text of a gnuplot '...' string inside the shell's "...": a
 * quote doubled (gnuplot's escape), what the shell would expand dropped. */
static void gp_text(char *buf, size_t len, const char *s)
{
	size_t n = 0;

	for (; *s && n + 2 < len; s++) {
		if (strchr("\"$`\\", *s))
			continue;
		if (*s == '\'')
			buf[n++] = '\'';
		buf[n++] = *s;
	}
	buf[n] = 0;
}

static int gnuplot(const char *dir, const char *script, const char *title,
		   const char *host, const char *vars)
{
	char cmd[4096], t[600], h[600], d[600];

	gp_text(t, sizeof(t), title);
	gp_text(h, sizeof(h), host);
	gp_text(d, sizeof(d), dir);
	if (snprintf(cmd, sizeof(cmd),
		     "gnuplot -e \"dir='%s'; plottitle='%s'; plothost='%s'; %s\" %s/%s.gp 2>&1",
		     d, t, h, vars, GMEMKIT_BENCH_DIR, script) >= (int)sizeof(cmd)) {
		fprintf(stderr, "gmemkit bench: gnuplot %s.gp: command too long\n", script);
		return -1;
	}
	if (system(cmd)) {
		fprintf(stderr, "gmemkit bench: gnuplot %s.gp failed\n", script);
		return -1;
	}
	return 0;
}

static void write_model_dat(const struct report_data *d, const struct report_model *m,
			    const char *dir)
{
	FILE *f = report_open_in(dir, "cost_vs_size.dat");
	int b;

	if (!f)
		return;
	fprintf(f, "# bs_kib convert_inplace_us convert_destructive_us bounce_write_us "
		   "memcpy_us bounce_read_us convert_inplace_idle_us model_inplace_us "
		   "(conversions with %u vCPU-like threads; idle: none; model_inplace: %s%s)\n",
		m->busy, m->measured ? "guest-measured round trip" : "synthetic",
		m->touched ? " + device touch" : "");
	for (b = 0; b < REPORT_NBS; b++)
		fprintf(f, "%u %.3f %.3f %.3f %.3f %.3f %.3f %.3f\n", d->block_kib[b],
			m->conv[b] / 1e3, m->conv_d[b] / 1e3, m->copy_w[b] / 1e3, m->mcpy[b] / 1e3,
			m->copy_r[b] / 1e3, m->conv_idle[b] / 1e3, m->inplace[b] / 1e3);
	fclose(f);
}

/* The in-place modes per transport in the throughput plot. */
static const enum gmem_abi_io_mode tp_list[] = {
	GMEM_ABI_IO_INPLACE, GMEM_ABI_IO_INPLACE_BATCH, GMEM_ABI_IO_INPLACE_SCATTER,
	GMEM_ABI_IO_ADAPTIVE
};
#define NTP	(sizeof(tp_list) / sizeof(tp_list[0]))

/* The default transport's name, then the others the sweep ran, at the
 * representative point. */
static unsigned int plot_transports(const struct report_data *d, const char **tr)
{
	unsigned int i, k, n = 0;
	int b;

	for (b = 0; b < REPORT_NBS && !n; b++) {
		const struct report_io_point *p = report_io_at(d, "inplace", d->block_kib[b]);

		if (p)
			tr[n++] = bench_io_str(p->rec, BIO_F_TRANSPORT, "default");
	}
	for (i = 0; i < d->nio; i++) {
		const struct json *r = d->io[i].rec;
		const char *t = bench_io_str(r, BIO_F_TRANSPORT, "");

		if (strncmp(bench_io_str(r, BIO_F_MODE, ""), "inplace", 7) || !*t ||
		    strcmp(report_rec_backend(r), d->rep_backend) ||
		    bench_io_num(r, BIO_F_QD, 0) != d->rep_qd ||
		    bench_io_num(r, BIO_F_VCPUS, 1) != d->rep_vcpus)
			continue;
		for (k = 0; k < n && strcmp(tr[k], t); k++)
			;
		if (k == n && n < REPORT_MAX_TR)
			tr[n++] = t;
	}
	return n;
}

/* throughput.dat: MB/s per size of shared, bounce, persistent and every
 * in-place mode over every transport; its column titles, dash types (the
 * default transport solid) and colours (one per mode) into vars for
 * throughput.gp. */
static void write_throughput_dat(const struct report_data *d, const char *dir,
				 char *vars, size_t len)
{
	static const enum gmem_abi_io_mode fixed_list[3] = {
		GMEM_ABI_IO_SHARED, GMEM_ABI_IO_BOUNCE, GMEM_ABI_IO_PERSISTENT
	};
	const char *fixed[3], *tp_modes[NTP], *tr[REPORT_MAX_TR];
	unsigned int ntr = plot_transports(d, tr), c, t, ncol = 0;
	char titles[1024] = "", dts[256] = "", lcs[256] = "";
	size_t nt = 0, nd = 0, nl = 0;
	FILE *f = report_open_in(dir, "throughput.dat");
	int b;

	if (!f)
		return;
	report_mode_names(fixed, fixed_list, 3);
	report_mode_names(tp_modes, tp_list, NTP);
	fprintf(f, "# bs_kib then MB/s per column (- : not measured) (%s, qd %u, %u vCPU):",
		report_backend_label(d->rep_backend), d->rep_qd, d->rep_vcpus);
	for (c = 0; c < 3; c++) {
		fprintf(f, " %s", fixed[c]);
		nt += (size_t)snprintf(titles + nt, sizeof(titles) - nt, "%s%s", ncol ? " " : "",
				       fixed[c]);
		nl += (size_t)snprintf(lcs + nl, sizeof(lcs) - nl, "%s%u", ncol ? " " : "", c + 1);
		nd += (size_t)snprintf(dts + nd, sizeof(dts) - nd, "%s1", ncol++ ? " " : "");
	}
	for (c = 0; c < NTP; c++)
		for (t = 0; t < ntr; t++) {
			fprintf(f, " %s/%s", tp_modes[c], tr[t]);
			if (nt < sizeof(titles))
				nt += (size_t)snprintf(titles + nt, sizeof(titles) - nt,
						       " %s/%s", tp_modes[c], tr[t]);
			if (nd < sizeof(dts))
				nd += (size_t)snprintf(dts + nd, sizeof(dts) - nd, " %u", t + 1);
			if (nl < sizeof(lcs))
				nl += (size_t)snprintf(lcs + nl, sizeof(lcs) - nl, " %u", c + 4);
			ncol++;
		}
	fputc('\n', f);
	for (b = 0; b < REPORT_NBS; b++) {
		if (!report_io_at(d, "shared", d->block_kib[b]) &&
		    !report_io_at(d, "bounce", d->block_kib[b]))
			continue;
		fprintf(f, "%u", d->block_kib[b]);
		for (c = 0; c < 3; c++) {
			double v = report_io_val(report_io_at(d, fixed[c], d->block_kib[b]),
						 BIO_F_MBPS);

			fprintf(f, isnan(v) ? " -" : " %.3f", v);
		}
		for (c = 0; c < NTP; c++)
			for (t = 0; t < ntr; t++) {
				double v = report_io_val(report_io_at_tr(d, tp_modes[c],
									 d->block_kib[b],
									 t ? tr[t] : DEFAULT_TR),
							 BIO_F_MBPS);

				fprintf(f, isnan(v) ? " -" : " %.3f", v);
			}
		fputc('\n', f);
	}
	fclose(f);
	snprintf(vars, len, "ncols=%u; titles='%s'; dts='%s'; lcs='%s'", ncol, titles, dts, lcs);
}

/* The protected modes of the cost-split plot: each mode over the default
 * transport, the in-place ones over the others too. */
static unsigned int split_points(const struct report_data *d, unsigned int bs,
				 const struct report_io_point **out, char (*names)[48])
{
	const char *tr[REPORT_MAX_TR];
	unsigned int ntr = plot_transports(d, tr), n = 0, t;
	int k;

	for (k = 1; k < BENCH_IO_SWEEP_MODES; k++)
		for (t = 0; t < (ntr ? ntr : 1); t++) {
			const struct report_io_point *p =
				report_io_at_tr(d, bench_io_sweep_names[k], bs,
						t ? tr[t] : DEFAULT_TR);

			if (!p || (t && strncmp(bench_io_sweep_names[k], "inplace", 7)))
				continue;
			out[n] = p;
			snprintf(names[n++], 48, "%s%s%s", bench_io_sweep_names[k], t ? "/" : "",
				 t ? tr[t] : "");
		}
	return n;
}

/* cost_split.dat: one block per size (gnuplot's index), one row per
 * protected mode: its vCPU time per I/O split into its parts and the
 * device's time beside it, as shares of their sum, and that sum. */
static void write_split_dat(const struct report_data *d, const char *dir, char *vars,
			    size_t len)
{
	FILE *c = report_open_in(dir, "cost_split.dat");
	char panels[128] = "", names[BENCH_IO_SWEEP_MODES * REPORT_MAX_TR][48];
	size_t np = 0;
	bool dev = false;
	int b;

	if (!c)
		return;
	fprintf(c, "# per block size (blocks: gnuplot index), per protected mode: label, "
		   "vCPU + device time per I/O (us), then the shares (%%) of kicks, "
		   "conversion exits, conversion host work, copy, unaccounted (the vCPU's "
		   "parts, each cost once) and the device's time per I/O (its thread: "
		   "copy, faults on in-place pages; 0 where not recorded) (%s, qd %u, %u vCPU)\n",
		report_backend_label(d->rep_backend), d->rep_qd, d->rep_vcpus);
	for (b = 0; b < REPORT_NBS; b++) {
		const struct report_io_point *pts[BENCH_IO_SWEEP_MODES * REPORT_MAX_TR];
		unsigned int n = split_points(d, d->block_kib[b], pts, names), i, rows = 0;

		for (i = 0; i < n; i++) {
			struct bench_cost_split sp;
			double dv = report_dev_ns(pts[i]), sum;

			if (bench_cost_split_record(pts[i]->rec, &sp))
				continue;
			dev = dev || !isnan(dv);
			dv = isnan(dv) ? 0 : dv;
			sum = sp.total + dv;
			if (!(sum > 0))
				continue;
			if (!rows++) {
				if (np)
					fputs("\n\n", c);
				np += (size_t)snprintf(panels + np, sizeof(panels) - np, "%s%u",
						       np ? " " : "", d->block_kib[b]);
			}
			fprintf(c, "\"%s\" %.3f %.3f %.3f %.3f %.3f %.3f %.3f\n", names[i],
				sum / 1e3, 100 * sp.kick / sum, 100 * sp.conv_exit / sum,
				100 * sp.conv_host / sum, 100 * sp.copy / sum,
				100 * sp.unaccounted / sum, 100 * dv / sum);
		}
	}
	fclose(c);
	snprintf(vars, len, "panels='%s'; devtitle='%s'", panels,
		 dev ? "device thread (copy, faults on in-place pages)" :
		 "device thread: not recorded by this run");
}

static void write_io_dat(const struct report_data *d, const char *dir)
{
	FILE *t = report_open_in(dir, "io_by_size.dat");
	int b, k;

	if (!t)
		return;
	fprintf(t, "# bs_kib then per mode (");
	for (k = 0; k < BENCH_IO_SWEEP_MODES; k++)
		fprintf(t, "%s%s", k ? " " : "", bench_io_sweep_names[k]);
	fprintf(t, "): mbps p50_us p99_us  (%s, qd %u, %u vCPU)\n",
		report_backend_label(d->rep_backend), d->rep_qd, d->rep_vcpus);
	for (b = 0; b < REPORT_NBS; b++) {
		/* Only measured sizes: a NaN row would break the lines. */
		for (k = 0; k < BENCH_IO_SWEEP_MODES &&
			    !report_io_at(d, bench_io_sweep_names[k], d->block_kib[b]); k++)
			;
		if (k == BENCH_IO_SWEEP_MODES)
			continue;
		fprintf(t, "%u", d->block_kib[b]);
		for (k = 0; k < BENCH_IO_SWEEP_MODES; k++) {
			const struct report_io_point *p =
				report_io_at(d, bench_io_sweep_names[k], d->block_kib[b]);

			fprintf(t, " %.3f %.3f %.3f", report_io_val(p, BIO_F_MBPS),
				report_io_val(p, BIO_F_LAT_P50_US),
				report_io_val(p, BIO_F_LAT_P99_US));
		}
		fputc('\n', t);
	}
	fclose(t);
}

/* A point's share of the shared ceiling (%): the median of its per-run
 * ratios, 100 where every run came out above it (noise), else NAN. */
static double share_pct(const struct report_data *d, const struct report_io_point *p)
{
	struct report_ratio r;

	if (report_ratio_ceiling(d, p, &r))
		return NAN;
	return r.n ? 100 * r.med : 100;
}

/* platform_<plat>.dat: per size, the share of the shared ceiling of each
 * path the profile allows (report_paths) and of adaptive on it, then
 * adaptive over the best path run by run (the target's figure); the
 * columns with a figure into vars for platform.gp. */
static void write_platform_dat(const struct report_data *d, const char *plat,
			       const char *dir, char *vars, size_t len)
{
	char name[64], cols[32] = "";
	unsigned int c, has = 0;
	size_t n = 0;
	FILE *f;
	int b;

	snprintf(name, sizeof(name), "platform_%s.dat", plat);
	f = report_open_in(dir, name);
	if (!f)
		return;
	fprintf(f, "# bs_kib then the share (%%) of the shared ceiling (median of the per-run "
		   "ratios; - : not measured) of ");
	for (c = 0; c < REPORT_NPATHS; c++)
		fprintf(f, "%s ", bench_io_mode_name(report_paths[c]));
	fprintf(f, "adaptive, then adaptive over the best of those paths, run by run (median) "
		   "(platform %s; %s, qd %u, %u vCPU)\n",
		plat, report_backend_label(d->rep_backend), d->rep_qd, d->rep_vcpus);
	for (b = 0; b < REPORT_NBS; b++) {
		struct report_ratio r;

		if (!report_io_at(d, "shared", d->block_kib[b]))
			continue;
		fprintf(f, "%u", d->block_kib[b]);
		for (c = 0; c <= REPORT_NPATHS; c++) {
			const char *mode = c < REPORT_NPATHS ? bench_io_mode_name(report_paths[c]) :
							       "adaptive";
			double v = share_pct(d, report_plat_point(d, mode, d->block_kib[b], plat));

			fprintf(f, isnan(v) ? " -" : " %.3f", v);
			has |= !isnan(v) << c;
		}
		if (report_plat_adaptive_ratio(d, d->block_kib[b], plat, &r))
			r.med = NAN;
		fprintf(f, isnan(r.med) ? " -\n" : " %.3f\n", r.med);
		has |= !isnan(r.med) << c;
	}
	fclose(f);
	for (c = 0; c <= REPORT_NPATHS; c++)
		if (has & (1U << c))
			n += (size_t)snprintf(cols + n, sizeof(cols) - n, "%s%u", n ? " " : "",
					      c + 2);
	snprintf(vars, len, "plat='%s'; cols='%s'; ratio=%d", plat, cols,
		 !!(has & (1U << (REPORT_NPATHS + 1))));
}

void report_plots(const struct report_data *d, const struct report_model *m, const char *dir)
{
	char title[400], host[400], tvars[1600] = "", svars[400] = "", mvars[200];
	char pvars[PLAT_MAX][64];
	const char *pl[PLAT_MAX];
	unsigned int np = 0, k;

	snprintf(title, sizeof(title), "%s, qd %u, %u vCPU", report_backend_label(d->rep_backend),
		 d->rep_qd, d->rep_vcpus);
	snprintf(host, sizeof(host), "kernel %s, %s%s", d->kernel, d->cpu,
		 d->emulated ? " (EMULATED)" : "");
	snprintf(mvars, sizeof(mvars), "inplacetitle='in place as the model takes it: %s%s'",
		 m->measured ? "guest-measured round trip" : isnan(m->exit_ns) ?
		 "host conversion (no exits)" : "host conversion + 2 exits",
		 m->touched ? " + device touch" : "");
	write_model_dat(d, m, dir);
	if (d->nio) {
		write_io_dat(d, dir);
		write_throughput_dat(d, dir, tvars, sizeof(tvars));
		write_split_dat(d, dir, svars, sizeof(svars));
		np = report_platform_plots(d, pl);
		for (k = 0; k < np; k++)
			write_platform_dat(d, pl[k], dir, pvars[k], sizeof(pvars[k]));
	}
	if (!have_gnuplot()) {
		fprintf(stderr, "gmemkit bench: gnuplot not found: no SVG plots "
				"(apt-get install gnuplot-nox)\n");
		return;
	}
	gnuplot(dir, "cost_vs_size", "convert-bench and bounce-bench", host, mvars);
	if (d->nio) {
		gnuplot(dir, "throughput", title, host, tvars);
		gnuplot(dir, "latency", title, host, "");
		gnuplot(dir, "cost_split", title, host, svars);
	}
	for (k = 0; k < np; k++)
		gnuplot(dir, "platform", title, host, pvars[k]);
}
