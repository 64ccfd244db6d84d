// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench report: results.json (every point, host facts, repetitions,
 * the host model), results.csv, and the plots: their .dat files and the SVGs
 * gnuplot draws from them with the scripts in bench/.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gmemkit/cost.h"
#include "report_internal.h"

FILE *open_in(const char *dir, const char *name)
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

int write_json(const struct bench_data *d, const struct bench_opts *o,
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

int write_csv(const struct bench_data *d, const char *dir)
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
			struct bench_cost_split sp;

			if (!p || bench_cost_split_record(p->rec, &sp))
				continue;
			fprintf(c, "\"%s %uK\" %.3f %.3f %.3f %.3f %.3f\n", io_modes[k],
				d->block_kib[b], sp.kick / kib, sp.conv_exit / kib,
				sp.conv_host / kib, sp.copy / kib, sp.unaccounted / kib);
		}
	fclose(c);
	(void)m;
}

void plots(const struct bench_data *d, const struct model *m, const char *dir)
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
