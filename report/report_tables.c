// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench report: the tables, in report.md and on the terminal: the
 * host model (conversion against copy per block size), the end-to-end IOPS,
 * adaptive against the faster fixed mode, where the vCPU time per I/O goes,
 * and what each mode stands for.
 */
#include <math.h>
#include <string.h>

#include "gmemkit/bench_cost.h"
#include "report_internal.h"

void report_fmt_us(char *buf, size_t len, double ns)
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

void report_model_table(FILE *f, const struct report_data *d, const struct report_model *m)
{
	char a[32], i0[32], b2[32], w[32], r[32], e[32], g[32], sy[32], gp[32], tc[32], ip[32];
	int b;

	fprintf(f, "| block | host conversion (round trip, %u vCPU-like thread%s) | "
		   "same, idle process (lower bound) | synthetic: + 2 exits | "
		   "guest-measured round trip | gap | device touch | in place (model) | "
		   "convert destructive | "
		   "bounce write (copy in) | bounce read (copy in + out) | memcpy | "
		   "in place / bounce read | in place / bounce write |\n"
		   "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		m->busy, m->busy == 1 ? "" : "s");
	for (b = 0; b < REPORT_NBS; b++) {
		report_fmt_us(a, sizeof(a), m->conv[b]);
		report_fmt_us(i0, sizeof(i0), m->conv_idle[b]);
		report_fmt_us(b2, sizeof(b2), m->conv_d[b]);
		report_fmt_us(w, sizeof(w), m->copy_w[b]);
		report_fmt_us(r, sizeof(r), m->copy_r[b]);
		report_fmt_us(e, sizeof(e), m->mcpy[b]);
		report_fmt_us(sy, sizeof(sy), isnan(m->exit_ns) ? NAN : m->synth[b]);
		report_fmt_us(g, sizeof(g), m->guest_rt[b]);
		fmt_gap(gp, sizeof(gp), m->guest_rt[b], isnan(m->exit_ns) ? NAN : m->synth[b]);
		report_fmt_us(tc, sizeof(tc), m->touch[b]);
		report_fmt_us(ip, sizeof(ip), m->inplace[b]);
		fprintf(f, "| %u KiB | %s%s | %s | %s | %s | %s | %s | %s | %s%s | %s | %s | %s | "
			"%.1fx | %.1fx |\n",
			d->block_kib[b], a,
			report_conv_noisy(d, "inplace", d->block_kib[b] / 4) ? " ~" : "", i0, sy, g,
			gp, tc, ip, b2,
			report_conv_noisy(d, "destructive", d->block_kib[b] / 4) ? " ~" : "",
			w, r, e, m->inplace[b] / m->copy_r[b], m->inplace[b] / m->copy_w[b]);
	}
	fprintf(f, "\nIn place (model), the in-place side of in place / bounce: the %s, %s.\n",
		m->measured ? "guest-measured round trip (share + unshare requested and timed "
			      "by the guest: both exits and the host's work)" :
		isnan(m->exit_ns) ? "host conversion alone (no KVM guest measured here: VM "
				    "exits not included)" :
		"synthetic sum (host conversion + two empty exits)",
		m->touched ? "plus the device's touch of the converted pages (the device's "
			     "time per I/O on an in-place buffer beyond a shared one, "
			     "`dev_ns_per_io` of inplace minus shared, measured end to end at "
			     "the representative point)" :
		"without the device's touch of the converted pages between the share and "
		"the unshare (this run's records have no device side, `dev_ns_per_io`: "
		"n/a)");
}

/* What the copying modes keep shared with the host for the whole run, at
 * the representative point of the largest measured size. */
static void exposure(FILE *f, const struct report_data *d)
{
	const struct report_io_point *bn = NULL, *ps = NULL;
	int b;

	for (b = 0; b < REPORT_NBS; b++) {
		bn = report_io_at(d, "bounce", d->block_kib[b]) ?
		     report_io_at(d, "bounce", d->block_kib[b]) : bn;
		ps = report_io_at(d, "persistent", d->block_kib[b]) ?
		     report_io_at(d, "persistent", d->block_kib[b]) : ps;
	}
	if (!bn && !ps)
		return;
	fprintf(f, "\nShared with the host for the whole run:");
	if (bn)
		fprintf(f, " bounce, a %.0f MiB pool (%.0f%% of the run's guest RAM);",
			report_io_val(bn, BIO_F_POOL_BYTES) / 1048576.0,
			report_io_val(bn, BIO_F_SHARED_PCT));
	if (ps)
		fprintf(f, " persistent, %.0f MiB of buffers, one of %.0f KiB per request "
			   "slot (%.0f%% of the run's guest RAM).",
			report_io_val(ps, BIO_F_PERSIST_POOL_BYTES) / 1048576.0,
			report_io_val(ps, BIO_F_PERSIST_BUF_BYTES) / 1024.0,
			report_io_val(ps, BIO_F_SHARED_PCT));
	fprintf(f, " The run's guest RAM is sized for the run; a production guest's "
		   "share is these bytes over its RAM.\n");
}

void report_io_table(FILE *f, const struct report_data *d)
{
	int b, k;

	fprintf(f, "\nIOPS, %s, randread, qd %u, %u vCPU (median of the runs; "
		   "`~` marks a noisy point, max/min > %.1f):\n\n| block |",
		report_backend_label(d->rep_backend),
		d->rep_qd, d->rep_vcpus, REPORT_NOISY_RATIO);
	for (k = 0; k < BENCH_IO_SWEEP_MODES; k++)
		fprintf(f, " %s |", bench_io_sweep_names[k]);
	fprintf(f, "\n|---:|");
	for (k = 0; k < BENCH_IO_SWEEP_MODES; k++)
		fprintf(f, "---:|");
	fputc('\n', f);
	for (b = 0; b < REPORT_NBS; b++) {
		fprintf(f, "| %u KiB |", d->block_kib[b]);
		for (k = 0; k < BENCH_IO_SWEEP_MODES; k++) {
			const struct report_io_point *p =
				report_io_at(d, bench_io_sweep_names[k], d->block_kib[b]);
			double lo = INFINITY, hi = 0;
			unsigned int r;

			for (r = 0; p && r < p->nreps; r++) {
				lo = fmin(lo, p->iops[r]);
				hi = fmax(hi, p->iops[r]);
			}
			if (!p)
				fprintf(f, " - |");
			else
				fprintf(f, " %.0f%s |", report_io_val(p, BIO_F_IOPS),
					lo > 0 && hi / lo > REPORT_NOISY_RATIO ? "~" : "");
		}
		fputc('\n', f);
	}
	exposure(f, d);
}

/* Adaptive against the faster of bounce and inplace, side by side, at the
 * representative point; then every (qd, vCPUs, backend) of the sweep. */
/*
 * The paths an adaptive record chose from, at its point: bounce and in
 * place always; persistent and in place batched where its record counts
 * them (older records chose between fewer); NULL where not.
 */
static void adaptive_paths(const struct report_data *d, const struct json *r,
			   const struct report_io_point *of[4])
{
	unsigned int bs_kib = (unsigned int)(bench_io_num(r, BIO_F_BS, 0) / 1024);
	unsigned int qd = (unsigned int)bench_io_num(r, BIO_F_QD, 0);
	unsigned int vcpus = (unsigned int)bench_io_num(r, BIO_F_VCPUS, 1);
	const char *be = report_rec_backend(r);

	of[0] = report_io_find(d, "bounce", bs_kib, qd, vcpus, be, DEFAULT_TR);
	of[1] = report_io_find(d, "inplace", bs_kib, qd, vcpus, be, DEFAULT_TR);
	of[2] = isnan(bench_io_num(r, BIO_F_PERSISTED, NAN)) ? NULL :
		report_io_find(d, "persistent", bs_kib, qd, vcpus, be, DEFAULT_TR);
	of[3] = isnan(bench_io_num(r, BIO_F_BATCHED, NAN)) ? NULL :
		report_io_find(d, "inplace-batch", bs_kib, qd, vcpus, be, DEFAULT_TR);
}

static const char *fastest_name(const struct report_io_point *const of[4])
{
	static const char *const names[4] = { "bounce", "inplace", "persistent",
					      "inplace-batch" };
	unsigned int k, best = 0;

	for (k = 1; k < 4; k++)
		if (of[k] && report_io_val(of[k], BIO_F_IOPS) > report_io_val(of[best], BIO_F_IOPS))
			best = k;
	return names[best];
}

/* An adaptive point's rate checks and the device extra they found (the
 * median run's), or "-" for a record from before them. */
static void rate_checks(const struct report_io_point *pa, char *buf, size_t len)
{
	double n = report_io_val(pa, BIO_F_ADAPT_RATE_CHECKS);
	double x = report_io_val(pa, BIO_F_ADAPT_DEVICE_NS);

	if (isnan(n))
		snprintf(buf, len, "-");
	else if (!n)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%.0f (%.1f us)", n, isnan(x) ? 0 : x / 1e3);
}

void report_adaptive_table(FILE *f, const struct report_data *d)
{
	unsigned int i, met = 0, seen = 0;
	int b;

	fprintf(f, "\nAdaptive against the fastest of the paths it chooses from, `bounce`, "
		   "`inplace`, `persistent` and `inplace-batch` (IOPS, same sweep, %s, qd %u, "
		   "%u vCPU; median runs; adaptive / fastest: run by run, each run over the "
		   "fastest of the runs measured beside it, median and min-max; target: that "
		   "median >= 0.9x; an adaptive that chose among fewer paths, in older "
		   "records, is compared with those only and counts no request on the others; "
		   "rate checks: the times adaptive ran the whole stream on a converting and "
		   "a copying path in turn to time the pipeline on each, device extra: what "
		   "converting was found to cost per I/O beyond its vCPU time, the device's "
		   "faults on freshly shared pages; '-' in records before the checks):"
		   "\n\n| block | bounce | inplace | persistent | inplace-batch | fastest | "
		   "adaptive | adaptive / fastest | adaptive bounced / in place (batched) / "
		   "persistent | rate checks (device extra) | target |\n"
		   "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--|\n",
		report_backend_label(d->rep_backend), d->rep_qd, d->rep_vcpus);
	for (b = 0; b < REPORT_NBS; b++) {
		const struct report_io_point *pa = report_io_at(d, "adaptive", d->block_kib[b]);
		static const char *const modes[4] = { "bounce", "inplace", "persistent",
						      "inplace-batch" };
		const struct report_io_point *of[4];
		struct report_ratio r;
		char v[4][24], chk[48];
		unsigned int k;

		if (!pa)
			continue;
		adaptive_paths(d, pa->rec, of);
		if (report_ratio_best(pa, of, 4, 2, &r))
			continue;
		for (k = 0; k < 4; k++) {	/* each mode as measured, chosen from or not */
			double x = report_io_val(report_io_at(d, modes[k], d->block_kib[b]),
						 BIO_F_IOPS);

			snprintf(v[k], sizeof(v[k]), isnan(x) ? "-" : "%.0f", x);
		}
		rate_checks(pa, chk, sizeof(chk));
		fprintf(f, "| %u KiB | %s | %s | %s | %s | %s | %.0f | %.2fx (%.2f-%.2f) | "
			"%.0f / %.0f (%.0f) / %.0f | %s | %s |\n", d->block_kib[b], v[0], v[1], v[2],
			v[3], fastest_name(of), report_io_val(pa, BIO_F_IOPS), r.med, r.lo, r.hi,
			report_io_val(pa, BIO_F_BOUNCED), report_io_val(pa, BIO_F_INPLACED),
			of[3] ? report_io_val(pa, BIO_F_BATCHED) : 0,
			of[2] ? report_io_val(pa, BIO_F_PERSISTED) : 0, chk,
			r.med >= 0.9 ? "met" : "**not met**");
	}
	/* every point of the sweep */
	for (i = 0; i < d->nio; i++) {
		const struct json *r = d->io[i].rec;
		const struct report_io_point *of[4];
		struct report_ratio q;

		/* a profile's or model's adaptive: report_platform.c's */
		if (strcmp(bench_io_str(r, BIO_F_MODE, ""), "adaptive") ||
		    !report_rec_is_default_variant(r))
			continue;
		adaptive_paths(d, r, of);
		if (report_ratio_best(&d->io[i], of, 4, 2, &q))
			continue;
		seen++;
		met += q.med >= 0.9;
	}
	if (seen)
		fprintf(f, "\nOver the whole sweep: adaptive >= 0.9x the fastest of its paths at "
			   "%u of %u points (medians of the per-run ratios).\n", met, seen);
}

/* The per-I/O split of the representative point, each cost once, and the
 * device's side beside it (another thread's time: not part of the vCPU's). */
void report_split_table(FILE *f, const struct report_data *d)
{
	char t[32], a[32], b2[32], c[32], e[32], u[32], dv[32], fl[32];
	int b, k;

	fprintf(f, "\nWhere each protected mode's vCPU time per I/O goes (%s, "
		   "qd %u, %u vCPU; each cost counted once, measured by the guest: kicks timed "
		   "around each QueueNotify write, conversions timed around each request with "
		   "the host's work on it reported by the VMM, the exit being the rest; the "
		   "parts never sum to more than the vCPU time; *unaccounted* is what this "
		   "split leaves out: the driver, the workload, and polling while the device "
		   "works), and beside it the device's side: its thread's time per I/O (its "
		   "copy, the faults or mappings it takes on in-place pages) and its page "
		   "faults per I/O (n/a: a record without the device's side):\n\n"
		   "| block | mode | vCPU time | kicks | conversion exits | "
		   "conversion host work | bounce copy | unaccounted | device time | "
		   "device faults |\n"
		   "|---:|:--|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		report_backend_label(d->rep_backend), d->rep_qd, d->rep_vcpus);
	for (b = 0; b < REPORT_NBS; b++)
		for (k = 1; k < BENCH_IO_SWEEP_MODES; k++) {
			const struct report_io_point *p =
				report_io_at(d, bench_io_sweep_names[k], d->block_kib[b]);
			struct bench_cost_split sp;
			double nf = report_io_val(p, BIO_F_DEV_FAULTS_PER_IO);

			if (!p)
				continue;
			report_fmt_us(dv, sizeof(dv), report_dev_ns(p));
			if (isnan(nf))
				snprintf(fl, sizeof(fl), "n/a");
			else
				snprintf(fl, sizeof(fl), "%.2f", nf);
			if (bench_cost_split_record(p->rec, &sp)) {
				fprintf(f, "| %u KiB | %s | not split (record without the vCPU "
					   "time) | | | | | | %s | %s |\n", d->block_kib[b],
					bench_io_sweep_names[k], dv, fl);
				continue;
			}
			report_fmt_us(t, sizeof(t), sp.total);
			report_fmt_us(a, sizeof(a), sp.kick);
			report_fmt_us(b2, sizeof(b2), sp.conv_exit);
			report_fmt_us(c, sizeof(c), sp.conv_host);
			report_fmt_us(e, sizeof(e), sp.copy);
			report_fmt_us(u, sizeof(u), sp.unaccounted);
			fprintf(f, "| %u KiB | %s | %s | %s | %s | %s | %s | %s%s | %s | %s |\n",
				d->block_kib[b], bench_io_sweep_names[k], t, a, b2, c, e, u,
				sp.scaled ? " (parts scaled to fit)" : "", dv, fl);
		}
}

/* The transports the in-place modes ran over, the default first (NULL). */
static unsigned int swept_transports(const struct report_data *d, const char **out,
				     unsigned int max)
{
	unsigned int i, k, n = 0;

	for (i = 0; i < d->nio; i++) {
		const struct json *r = d->io[i].rec;
		const char *t = bench_io_str(r, BIO_F_TRANSPORT, "");

		if (strncmp(bench_io_str(r, BIO_F_MODE, ""), "inplace", 7) || !*t ||
		    strcmp(report_rec_backend(r), d->rep_backend))
			continue;
		for (k = 0; k < n && strcmp(out[k], t); k++)
			;
		if (k == n && n < max)
			out[n++] = t;
	}
	return n;
}

static void share_cell(FILE *f, const struct report_data *d, const struct report_io_point *p,
		       unsigned int *noise, unsigned int *remeasured)
{
	struct report_ratio r;
	char sh[96];

	if (!p || report_ratio_ceiling(d, p, &r)) {
		fprintf(f, " - |");
		return;
	}
	report_fmt_share(sh, sizeof(sh), &r);
	if (!r.n)
		snprintf(sh, sizeof(sh), "100%%*");
	fprintf(f, " %s%s |", sh, r.noise && r.n ? "*" : "");
	*noise += r.noise;
	*remeasured += r.remeasured;
}

/*
 * Each protected mode as a share of the shared ceiling, per run: the modes
 * of a point ran interleaved, so the i-th run of each was measured beside
 * the i-th of shared; the median of those ratios and their spread.  Then
 * in place over bounce, per run, the same way.
 */
void report_ratio_table(FILE *f, const struct report_data *d)
{
	const char *ip_modes[REPORT_NIP], *tr[REPORT_MAX_TR];
	unsigned int ntr = swept_transports(d, tr, REPORT_MAX_TR), i, m, noise = 0, rem = 0;
	int b, k;

	report_mode_names(ip_modes, report_ip_modes, REPORT_NIP);

	fprintf(f, "\nShare of the `shared` ceiling, run by run (%s, qd %u, %u vCPU; %s; "
		   "median of the per-run ratios, min-max in brackets; `*`: runs measured "
		   "above the ceiling, noise, left out of the median, `100%%*` where every "
		   "run was):\n\n| block |", report_backend_label(d->rep_backend), d->rep_qd,
		d->rep_vcpus, d->interleaved ?
		"the modes' runs interleaved, each run's ratio against the ceiling run "
		"measured beside it" :
		"an older sweep that ran each mode's runs back to back: the i-th runs "
		"paired");
	for (k = 1; k < BENCH_IO_SWEEP_MODES; k++)
		fprintf(f, " %s |", bench_io_sweep_names[k]);
	for (i = 1; i < ntr; i++)
		for (m = 0; m < REPORT_NIP; m++)
			fprintf(f, " %s (%s) |", ip_modes[m], tr[i]);
	fprintf(f, "\n|---:|");
	for (k = 1; k < BENCH_IO_SWEEP_MODES; k++)
		fprintf(f, "---:|");
	for (i = 1; i < ntr; i++)
		fprintf(f, "---:|---:|");
	fputc('\n', f);
	for (b = 0; b < REPORT_NBS; b++) {
		if (!report_io_at(d, "shared", d->block_kib[b]))
			continue;
		fprintf(f, "| %u KiB |", d->block_kib[b]);
		for (k = 1; k < BENCH_IO_SWEEP_MODES; k++)
			share_cell(f, d, report_io_at(d, bench_io_sweep_names[k], d->block_kib[b]),
				   &noise, &rem);
		for (i = 1; i < ntr; i++)
			for (m = 0; m < REPORT_NIP; m++)
				share_cell(f, d,
					   report_io_at_tr(d, ip_modes[m], d->block_kib[b], tr[i]),
					   &noise, &rem);
		fputc('\n', f);
	}
	fprintf(f, "\nRuns measured above their ceiling: %u left out as noise", noise);
	if (d->interleaved)
		fprintf(f, " after %u were measured again beside a new ceiling run", rem);
	fprintf(f, ".\n\nIn place over bounce, IOPS run by run (median, min-max; "
		   "above 1: in place ahead):\n\n| block |");
	for (i = 0; i < (ntr ? ntr : 1); i++)
		for (m = 0; m < REPORT_NIP; m++)
			fprintf(f, " %s%s%s%s / bounce |", ip_modes[m], ntr ? " (" : "",
				ntr ? tr[i] : "", ntr ? ")" : "");
	fprintf(f, "\n|---:|");
	for (i = 0; i < (ntr ? ntr : 1); i++)
		fprintf(f, "---:|---:|");
	fputc('\n', f);
	for (b = 0; b < REPORT_NBS; b++) {
		const struct report_io_point *bn = report_io_at(d, "bounce", d->block_kib[b]);

		if (!bn)
			continue;
		fprintf(f, "| %u KiB |", d->block_kib[b]);
		for (i = 0; i < (ntr ? ntr : 1); i++)
			for (m = 0; m < REPORT_NIP; m++) {
				struct report_ratio r;

				if (report_ratio_iops(report_io_at_tr(d, ip_modes[m],
								      d->block_kib[b],
								      ntr ? tr[i] : DEFAULT_TR),
						      bn, &r))
					fprintf(f, " - |");
				else
					fprintf(f, " %.2fx (%.2f-%.2f) |", r.med, r.lo, r.hi);
			}
		fputc('\n', f);
	}
}

/* A relative gap, or "-" where either side is missing. */
static double gap_of(double e2e, double model)
{
	return isnan(e2e) || isnan(model) || !(model > 0) ? NAN : (e2e - model) / model;
}

static void gap_cell(FILE *f, double g)
{
	if (isnan(g))
		fprintf(f, " - |");
	else
		fprintf(f, " %+.0f%%%s |", 100 * g, fabs(g) > 0.25 ? " **" : "");
}

/*
 * The host model against end to end, per size: what each protection costs
 * per I/O in the model (in place: the guest-measured round trip plus the
 * device's touch; bounce: a read's copies) and the time per I/O each mode
 * adds over the shared ceiling end to end (1/IOPS - 1/IOPS of shared, per
 * run, median); gaps over 25% named.
 */
void report_model_vs_e2e(FILE *f, const struct report_data *d, const struct report_model *m)
{
	char mi[32], ei[32], mb[32], eb[32], big[1024];
	size_t n = 0;
	int b;

	fprintf(f, "\n### Host model against end to end\n\nPer I/O, %s, randread, qd %u, "
		   "%u vCPU.  Model: in place is the model's in-place side above (%s), bounce "
		   "a read's copy in + copy out; end to end: the time per I/O the mode adds "
		   "over the `shared` ceiling (1/IOPS - 1/IOPS of shared, run by run, "
		   "median; at qd %u the device works beside the vCPU, so this is what limits "
		   "throughput, not a latency).  `**`: a gap over 25%%.\n\n"
		   "| block | in place, model | in place, end to end | gap | bounce read, model | "
		   "bounce, end to end | gap | in place / bounce, model | same, end to end |\n"
		   "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		report_backend_label(d->rep_backend), d->rep_qd, d->rep_vcpus,
		m->touched ? "round trip + device touch" :
		"round trip; the device's touch not measured by this run", d->rep_qd);
	big[0] = 0;
	for (b = 0; b < REPORT_NBS; b++) {
		double ei_ns = report_extra_ns(d, report_io_at(d, "inplace", d->block_kib[b]));
		double eb_ns = report_extra_ns(d, report_io_at(d, "bounce", d->block_kib[b]));
		double gi = gap_of(ei_ns, m->inplace[b]), gb = gap_of(eb_ns, m->copy_r[b]);
		double rm = m->inplace[b] / m->copy_r[b], re = ei_ns / eb_ns;

		if (isnan(ei_ns) && isnan(eb_ns))
			continue;
		report_fmt_us(mi, sizeof(mi), m->inplace[b]);
		report_fmt_us(ei, sizeof(ei), ei_ns);
		report_fmt_us(mb, sizeof(mb), m->copy_r[b]);
		report_fmt_us(eb, sizeof(eb), eb_ns);
		fprintf(f, "| %u KiB | %s | %s |", d->block_kib[b], mi, ei);
		gap_cell(f, gi);
		fprintf(f, " %s | %s |", mb, eb);
		gap_cell(f, gb);
		fprintf(f, " %.2fx | %.2fx |\n", rm, re);
		if (fabs(gi) > 0.25 && n < sizeof(big))
			n += (size_t)snprintf(big + n, sizeof(big) - n,
					      "%s in place at %u KiB (model %s, end to end %s, %+.0f%%)",
					      n ? ";" : "", d->block_kib[b], mi, ei, 100 * gi);
		if (fabs(gb) > 0.25 && n < sizeof(big))
			n += (size_t)snprintf(big + n, sizeof(big) - n,
					      "%s bounce at %u KiB (model %s, end to end %s, %+.0f%%)",
					      n ? ";" : "", d->block_kib[b], mb, eb, 100 * gb);
		if ((rm < 1) != (re < 1) && !isnan(re) && n < sizeof(big))
			n += (size_t)snprintf(big + n, sizeof(big) - n,
					      "%s at %u KiB they disagree on the winner (model "
					      "%.2fx, end to end %.2fx)", n ? ";" : "",
					      d->block_kib[b], rm, re);
	}
	if (big[0])
		fprintf(f, "\nGaps over 25%%:%s.\n", big);
	else
		fprintf(f, "\nNo gap over 25%%.\n");
}

/* The other backends of the sweep at the representative qd and vCPUs:
 * null the overhead-only point, file real storage. */
void report_backends_table(FILE *f, const struct report_data *d)
{
	static const enum gmem_abi_io_mode col_modes[] = {
		GMEM_ABI_IO_SHARED, GMEM_ABI_IO_BOUNCE, GMEM_ABI_IO_PERSISTENT,
		GMEM_ABI_IO_INPLACE, GMEM_ABI_IO_INPLACE_BATCH
	};
	const char *cols[sizeof(col_modes) / sizeof(col_modes[0])];
	unsigned int k, c;
	int b;

	report_mode_names(cols, col_modes, sizeof(cols) / sizeof(cols[0]));

	for (k = 0; k < REPORT_NBACKENDS; k++) {
		const char *be = report_backends[k];
		bool any = false;

		if (!strcmp(be, d->rep_backend))
			continue;
		for (b = 0; b < REPORT_NBS && !any; b++)
			any = report_io_find(d, "shared", d->block_kib[b], d->rep_qd, d->rep_vcpus,
					     be, DEFAULT_TR) != NULL;
		if (!any)
			continue;
		fprintf(f, "\n### %s\n\nIOPS, randread, qd %u, %u vCPU (median of the runs; "
			   "in place / bounce: the faster in-place mode over bounce, run by "
			   "run):\n\n| block |", report_backend_label(be), d->rep_qd, d->rep_vcpus);
		for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
			fprintf(f, " %s |", cols[c]);
		fprintf(f, " in place / bounce |\n|---:|");
		for (c = 0; c <= sizeof(cols) / sizeof(cols[0]); c++)
			fprintf(f, "---:|");
		fputc('\n', f);
		for (b = 0; b < REPORT_NBS; b++) {
			const struct report_io_point *bn =
				report_io_find(d, "bounce", d->block_kib[b], d->rep_qd,
					       d->rep_vcpus, be, DEFAULT_TR);
			const struct report_io_point *ip =
				report_io_find(d, "inplace", d->block_kib[b], d->rep_qd,
					       d->rep_vcpus, be, DEFAULT_TR);
			const struct report_io_point *ib =
				report_io_find(d, "inplace-batch", d->block_kib[b], d->rep_qd,
					       d->rep_vcpus, be, DEFAULT_TR);
			struct report_ratio r;

			fprintf(f, "| %u KiB |", d->block_kib[b]);
			for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
				double v = report_io_val(report_io_find(d, cols[c], d->block_kib[b],
									d->rep_qd, d->rep_vcpus, be,
									DEFAULT_TR),
							 BIO_F_IOPS);

				if (isnan(v))
					fprintf(f, " - |");
				else
					fprintf(f, " %.0f |", v);
			}
			if (ib && (!ip || report_io_val(ib, BIO_F_IOPS) >
					  report_io_val(ip, BIO_F_IOPS)))
				ip = ib;
			if (report_ratio_iops(ip, bn, &r))
				fprintf(f, " - |\n");
			else
				fprintf(f, " %.2fx (%.2f-%.2f) |\n", r.med, r.lo, r.hi);
		}
	}
}

void report_modes_section(FILE *f)
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
