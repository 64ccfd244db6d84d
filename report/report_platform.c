// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench report: the answer per platform profile (pkvm, tdx, snp,
 * cca, ideal; docs/platforms.md) and per conversion model (lazy, eager,
 * 2 MiB pages), from the in-place points cli/bench.c runs on the verdict's
 * backend at the representative qd and vCPU count.  For each profile: the
 * cheapest protected path per size and its share of the unprotected
 * ceiling, where in place overtakes bouncing (or never, and the cost that
 * decides), the conversion's cost per I/O, and what the crossover would be
 * if one conversion call cost less, checked first on the run itself; and
 * adaptive on each profile against the best path the profile allows (bounce,
 * persistent, in place, in place batched), size by size, with a plot per
 * profile (report_files.c draws it: platform_<name>.svg).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gmemkit/platform.h"
#include "report_internal.h"

/* What a figure of the named platform leaves out (platform.h). */
static const char *plat_not_modelled_name(const char *name)
{
	enum plat p;

	return plat_from_name(name, &p) ? "" : plat_not_modelled(p);
}

/* The point of (mode, size) on platform plat and model model, any
 * transport (a variant runs over its platform's own call path). */
static const struct report_io_point *variant_at(const struct report_data *d, const char *mode,
						unsigned int bs_kib, const char *plat,
						const char *model)
{
	unsigned int i;

	if (!strcmp(plat, "ideal") && !strcmp(model, "lazy"))
		return report_io_at(d, mode, bs_kib);
	for (i = 0; i < d->nio; i++) {
		const struct json *r = d->io[i].rec;

		if (!strcmp(bench_io_str(r, BIO_F_MODE, ""), mode) &&
		    bench_io_num(r, BIO_F_BS, 0) == bs_kib * 1024.0 &&
		    bench_io_num(r, BIO_F_QD, 0) == d->rep_qd &&
		    bench_io_num(r, BIO_F_VCPUS, 1) == d->rep_vcpus &&
		    !strcmp(report_rec_backend(r), d->rep_backend) &&
		    !strcmp(bench_io_str(r, BIO_F_PLATFORM, "ideal"), plat) &&
		    !strcmp(bench_io_str(r, BIO_F_CONV_MODEL, "lazy"), model))
			return &d->io[i];
	}
	return NULL;
}

/* The point of a path or of adaptive at bs on plat (lazy model): bounce
 * and persistent convert nothing, ideal's points stand for every profile. */
const struct report_io_point *report_plat_point(const struct report_data *d, const char *mode,
						unsigned int bs_kib, const char *plat)
{
	if (!strcmp(mode, "bounce") || !strcmp(mode, "persistent"))
		return report_io_at(d, mode, bs_kib);
	return variant_at(d, mode, bs_kib, plat, "lazy");
}

/* The faster of in place and in place in batches on a platform. */
static const struct report_io_point *best_ip(const struct report_data *d, unsigned int bs,
					     const char *plat, const char *model)
{
	const struct report_io_point *a =
		variant_at(d, bench_io_mode_name(report_ip_modes[0]), bs, plat, model);
	const struct report_io_point *b =
		variant_at(d, bench_io_mode_name(report_ip_modes[1]), bs, plat, model);

	if (!a || (b && report_io_val(b, BIO_F_IOPS) > report_io_val(a, BIO_F_IOPS)))
		return b;
	return a;
}

static bool measured(const struct report_data *d, const char *plat, const char *model)
{
	unsigned int b;

	for (b = 0; b < REPORT_NBS; b++)
		if (best_ip(d, d->block_kib[b], plat, model))
			return true;
	return false;
}

/* The cheapest protected path at bs on plat: bounce and persistent copy
 * (no conversion: the same on every platform), in place per request or
 * in batches. */
static const char *cheapest(const struct report_data *d, unsigned int bs, const char *plat,
			    double *iops)
{
	const char *best = NULL;
	unsigned int k;

	*iops = 0;
	for (k = 0; k < REPORT_NPATHS; k++) {
		const char *path = bench_io_mode_name(report_paths[k]);
		double v = report_io_val(report_plat_point(d, path, bs, plat), BIO_F_IOPS);

		if (v > *iops) {
			*iops = v;
			best = path;
		}
	}
	return best;
}

int report_plat_adaptive_ratio(const struct report_data *d, unsigned int bs, const char *plat,
			       struct report_ratio *r)
{
	const struct report_io_point *of[REPORT_NPATHS];
	unsigned int k;

	for (k = 0; k < REPORT_NPATHS; k++)
		of[k] = report_plat_point(d, bench_io_mode_name(report_paths[k]), bs, plat);
	return report_ratio_best(report_plat_point(d, "adaptive", bs, plat), of, REPORT_NPATHS, 0,
				 r);
}

/* First size from which in place (best of the two) stays ahead of bounce:
 * its index, -1 never, -2 nothing measured. */
static int crossover(const struct report_data *d, const char *plat, const char *model)
{
	int b, from = -1, n = 0;

	for (b = REPORT_NBS - 1; b >= 0; b--) {
		double bn = report_io_val(report_io_at(d, "bounce", d->block_kib[b]), BIO_F_IOPS);
		double ip = report_io_val(best_ip(d, d->block_kib[b], plat, model), BIO_F_IOPS);

		if (isnan(bn) || isnan(ip))
			continue;
		n++;
		if (ip <= bn)
			break;
		from = b;
	}
	return n ? from : -2;
}

/* ---- the projection: the crossover if one call cost c ------------------- */

/*
 * vCPU time per I/O of an in-place point with its conversion calls at c ns
 * each: what it measured minus its own conversion time, plus calls x c.
 * One vCPU at qd 32 is busy all the time, so IOPS = 1e9 / that.
 */
static double ip_ns_at(const struct report_io_point *p, double c)
{
	double calls = report_io_val(p, BIO_F_CONV_CALLS_PER_IO),
	       conv = report_io_val(p, BIO_F_CONV_NS_PER_IO);
	double total = report_io_val(p, BIO_F_VCPU_NS_PER_IO);

	return total - conv + calls * c;
}

/*
 * The model's check on the run itself: predict the ideal in-place point
 * over the queue transport from the default transport's split (its time
 * without conversions, plus the queue's calls at the queue's per-call
 * cost), and compare with what the queue run measured.  Returns the worst
 * miss over the sizes measured both ways (a fraction), or NAN.
 */
static double check_model(const struct report_data *d)
{
	double worst = NAN;
	unsigned int b;

	for (b = 0; b < REPORT_NBS; b++) {
		const struct report_io_point *a = report_io_at(d, "inplace", d->block_kib[b]);
		const struct report_io_point *q =
			report_io_at_tr(d, "inplace", d->block_kib[b], "queue");
		double cq, pred, miss;

		if (!a || !q || a == q || report_io_val(q, BIO_F_CONV_CALLS_PER_IO) <= 0)
			continue;
		cq = report_io_val(q, BIO_F_CONV_NS_PER_IO) /
		     report_io_val(q, BIO_F_CONV_CALLS_PER_IO);
		pred = 1e9 /
		       (report_io_val(a, BIO_F_VCPU_NS_PER_IO) -
			report_io_val(a, BIO_F_CONV_NS_PER_IO) +
			report_io_val(q, BIO_F_CONV_CALLS_PER_IO) * cq);
		miss = fabs(pred - report_io_val(q, BIO_F_IOPS)) / report_io_val(q, BIO_F_IOPS);
		if (isfinite(miss) && (isnan(worst) || miss > worst))
			worst = miss;
	}
	return worst;
}

/* The crossover on plat if every call cost c ns (bounce as measured). */
static int projected(const struct report_data *d, const char *plat, double c)
{
	int b, from = -1, n = 0;

	for (b = REPORT_NBS - 1; b >= 0; b--) {
		const struct report_io_point *p =
			variant_at(d, "inplace", d->block_kib[b], plat, "lazy");
		double bn = report_io_val(report_io_at(d, "bounce", d->block_kib[b]),
					  BIO_F_VCPU_NS_PER_IO);
		double ip;

		if (!p || isnan(bn))
			continue;
		ip = ip_ns_at(p, c);
		if (!isfinite(ip))
			continue;
		n++;
		if (ip >= bn)
			break;
		from = b;
	}
	return n ? from : -2;
}

/* The largest size with an in-place point on plat and model (a sweep may
 * stop below 1 MiB), or 0. */
static unsigned int top_kib(const struct report_data *d, const char *plat, const char *model)
{
	int b;

	for (b = REPORT_NBS - 1; b >= 0; b--)
		if (variant_at(d, "inplace", d->block_kib[b], plat, model))
			return d->block_kib[b];
	return 0;
}

static void put_crossover(FILE *f, const struct report_data *d, int c, const char *plat,
			  const char *model)
{
	if (c == -2)
		fprintf(f, "n/a");
	else if (c < 0)
		fprintf(f, "never (to %u KiB)", top_kib(d, plat, model));
	else
		fprintf(f, "from %u KiB", d->block_kib[c]);
}

/* ---- the sections ------------------------------------------------------ */

/* The cost that keeps in place behind at the largest size, in words. */
static void deciding(FILE *f, const struct report_data *d, const char *plat)
{
	unsigned int bs = top_kib(d, plat, "lazy");
	const struct report_io_point *p = variant_at(d, "inplace", bs, plat, "lazy");

	if (!p) {
		fprintf(f, "not measured");
		return;
	}
	fprintf(f, "at %u KiB %.0f calls per I/O cost %.1f us of vCPU time", bs,
		report_io_val(p, BIO_F_CONV_CALLS_PER_IO),
		report_io_val(p, BIO_F_CONV_NS_PER_IO) / 1e3);
	if (report_io_val(p, BIO_F_KEEP_NS_PER_IO) > 0)
		fprintf(f, ", the copy that keeps the data %.1f us",
			report_io_val(p, BIO_F_KEEP_NS_PER_IO) / 1e3);
	if (report_io_val(p, BIO_F_DEV_NS_PER_IO) > 0)
		fprintf(f, ", the device %.1f us", report_io_val(p, BIO_F_DEV_NS_PER_IO) / 1e3);
}

static unsigned int other_platforms(const struct report_data *d)
{
	unsigned int k, n = 0;

	for (k = 1; k < PLAT_MAX; k++)
		n += measured(d, plat_names[k], "lazy");
	return n;
}

/* The sizes (indices) where adaptive on plat is measured against its
 * paths; where one of them is, adaptive is not; where it falls under 0.9x. */
static unsigned int adaptive_sizes(const struct report_data *d, const char *plat,
				   unsigned int *missing, unsigned int *below)
{
	unsigned int b, k, seen = 0;
	struct report_ratio r;

	*missing = *below = 0;
	for (b = 0; b < REPORT_NBS; b++) {
		if (!report_plat_adaptive_ratio(d, d->block_kib[b], plat, &r)) {
			seen |= 1U << b;
			*below |= (r.med < 0.9) << b;
			continue;
		}
		for (k = 0; k < REPORT_NPATHS; k++)
			if (report_plat_point(d, bench_io_mode_name(report_paths[k]),
					      d->block_kib[b], plat))
				*missing |= 1U << b;
	}
	return seen;
}

/* " 4 KiB (0.71x), 64 KiB (0.80x)": the sizes of mask, with adaptive's
 * ratio where with_ratio. */
static void put_sizes(FILE *f, const struct report_data *d, const char *plat,
		      unsigned int mask, bool with_ratio)
{
	unsigned int b, n = 0;
	struct report_ratio r;

	for (b = 0; b < REPORT_NBS; b++) {
		if (!(mask & (1U << b)))
			continue;
		fprintf(f, "%s %u KiB", n++ ? "," : "", d->block_kib[b]);
		if (with_ratio && !report_plat_adaptive_ratio(d, d->block_kib[b], plat, &r))
			fprintf(f, " (%.2fx)", r.med);
	}
}

/* Adaptive against the best path plat allows, per size: the issue's
 * target is 0.9x at every size. */
static void adaptive_verdict(FILE *f, const struct report_data *d, const char *plat)
{
	unsigned int missing, below, seen = adaptive_sizes(d, plat, &missing, &below);

	if (!seen) {
		fprintf(f, "Adaptive: not measured on %s (no adaptive point of this profile "
			   "in the run).\n", plat);
		return;
	}
	fprintf(f, "Adaptive over the best path %s allows (bounce, persistent, in place, "
		   "in place batched; median of the per-run ratios):", plat);
	put_sizes(f, d, plat, seen, true);
	if (below) {
		fprintf(f, "; adaptive below 0.9x of the best at:");
		put_sizes(f, d, plat, below, true);
	} else {
		fprintf(f, "; at least 0.9x of the best at every size measured");
	}
	if (missing) {
		fprintf(f, "; adaptive not measured at:");
		put_sizes(f, d, plat, missing, false);
	}
	fprintf(f, ".\n");
}

/* The cheapest protected path at 4 KiB, 64 KiB and 1 MiB. */
static void cheapest_verdict(FILE *f, const struct report_data *d, const char *plat)
{
	const char *nm = plat_not_modelled_name(plat);
	unsigned int b, n = 0;

	fprintf(f, "Cheapest protected path:");
	for (b = 0; b < REPORT_NBS; b += 2) {
		double iops, ceil = report_io_val(report_io_at(d, "shared", d->block_kib[b]),
						  BIO_F_IOPS);
		const char *best = cheapest(d, d->block_kib[b], plat, &iops);

		if (best)
			fprintf(f, "%s %u KiB %s (%.0f%% of shared)", n++ ? ";" : "",
				d->block_kib[b], best, ceil > 0 ? fmin(100, 100 * iops / ceil) : NAN);
	}
	fprintf(f, "%s%s%s%s\n", n ? "." : " none measured.",
		*nm ? " Not modelled, paid on the real platform: " : "", nm, *nm ? "." : "");
}

/* Three lines per profile: in place against bouncing, the cheapest path,
 * adaptive against the best path. */
void report_platforms_verdict(FILE *f, const struct report_data *d)
{
	unsigned int k;

	if (!other_platforms(d))
		return;
	fprintf(f, "\n");
	for (k = 0; k < PLAT_MAX; k++) {
		int c;

		if (!measured(d, plat_names[k], "lazy"))
			continue;
		c = crossover(d, plat_names[k], "lazy");
		fprintf(f, "- **%s**: in place beats bouncing ", plat_names[k]);
		put_crossover(f, d, c, plat_names[k], "lazy");
		if (c != 0) {
			fprintf(f, "; ");
			deciding(f, d, plat_names[k]);
		}
		fprintf(f, ".\n  ");
		cheapest_verdict(f, d, plat_names[k]);
		fprintf(f, "  ");
		adaptive_verdict(f, d, plat_names[k]);
	}
}

/* A figure, or "-" where the point was not measured. */
static void put(FILE *f, const char *fmt, double v)
{
	if (isfinite(v))
		fprintf(f, fmt, v);
	else
		fprintf(f, "-");
}

static void table(FILE *f, const struct report_data *d)
{
	unsigned int k, b;

	fprintf(f, "\n| platform | calls per I/O at 4 KiB / 1 MiB (both directions) |");
	for (b = 0; b < REPORT_NBS; b++)
		fprintf(f, " %u KiB in place / bounce |", d->block_kib[b]);
	fprintf(f, "\n|---|---:|");
	for (b = 0; b < REPORT_NBS; b++)
		fprintf(f, "---:|");
	fprintf(f, "\n");
	for (k = 0; k < PLAT_MAX; k++) {
		if (!measured(d, plat_names[k], "lazy"))
			continue;
		fprintf(f, "| %s | ", plat_names[k]);
		put(f, "%.1f",
		    report_io_val(variant_at(d, "inplace", d->block_kib[0], plat_names[k], "lazy"),
				  BIO_F_CONV_CALLS_PER_IO));
		fprintf(f, " / ");
		put(f, "%.1f",
		    report_io_val(variant_at(d, "inplace", d->block_kib[REPORT_NBS - 1],
					     plat_names[k], "lazy"), BIO_F_CONV_CALLS_PER_IO));
		fprintf(f, " |");
		for (b = 0; b < REPORT_NBS; b++) {
			double ip = report_io_val(best_ip(d, d->block_kib[b], plat_names[k],
								  "lazy"), BIO_F_IOPS);
			double bn =
				report_io_val(report_io_at(d, "bounce", d->block_kib[b]), BIO_F_IOPS);

			fprintf(f, " ");
			put(f, "%.0f", ip);
			fprintf(f, " / ");
			put(f, "%.0f", bn);
			fprintf(f, " (");
			put(f, "%.2fx", ip / bn);
			fprintf(f, ") |");
		}
		fprintf(f, "\n");
	}
}

/* A table's head: a platform column, then one per block size. */
static void size_head(FILE *f, const struct report_data *d, const char *what)
{
	unsigned int b;

	fprintf(f, "| platform |");
	for (b = 0; b < REPORT_NBS; b++)
		fprintf(f, " %u KiB%s |", d->block_kib[b], what);
	fprintf(f, "\n|---|");
	for (b = 0; b < REPORT_NBS; b++)
		fprintf(f, "---:|");
	fprintf(f, "\n");
}

/* Adaptive against the best path per profile and size: both at their
 * median runs, then adaptive over the best run by run. */
static void adaptive_best_table(FILE *f, const struct report_data *d)
{
	unsigned int k, b;

	fprintf(f, "\nAdaptive against the best path each profile allows (bounce, persistent, "
		   "in place, in place batched): adaptive's IOPS / the best path's (median "
		   "runs), then adaptive over the best run by run (median; `**`: under "
		   "0.9x; `-`: not measured):\n\n");
	size_head(f, d, " adaptive / best");
	for (k = 0; k < PLAT_MAX; k++) {
		if (!measured(d, plat_names[k], "lazy"))
			continue;
		fprintf(f, "| %s |", plat_names[k]);
		for (b = 0; b < REPORT_NBS; b++) {
			const struct report_io_point *a =
				report_plat_point(d, "adaptive", d->block_kib[b], plat_names[k]);
			double best;
			const char *path = cheapest(d, d->block_kib[b], plat_names[k], &best);
			struct report_ratio r;

			if (!path ||
			    report_plat_adaptive_ratio(d, d->block_kib[b], plat_names[k], &r))
				fprintf(f, " - |");
			else
				fprintf(f, " %.0f / %.0f %s (%s%.2fx%s) |",
					report_io_val(a, BIO_F_IOPS), best, path,
					r.med < 0.9 ? "**" : "", r.med, r.med < 0.9 ? "**" : "");
		}
		fprintf(f, "\n");
	}
}

/* The profiles plotted (platform_<name>.svg): where the section is written
 * and the shared ceiling was measured (the plot's unit). */
unsigned int report_platform_plots(const struct report_data *d, const char **out)
{
	unsigned int k, b, n = 0;

	for (b = 0; b < REPORT_NBS && !report_io_at(d, "shared", d->block_kib[b]); b++)
		;
	for (k = 0; k < PLAT_MAX && b < REPORT_NBS && other_platforms(d); k++)
		if (measured(d, plat_names[k], "lazy"))
			out[n++] = plat_names[k];
	return n;
}

static void plot_refs(FILE *f, const struct report_data *d)
{
	const char *pl[PLAT_MAX];
	unsigned int k, n = report_platform_plots(d, pl), missing, below;

	for (k = 0; k < n; k++)
		fprintf(f, "\n![%s](platform_%s.svg)\n\n*%s: each path's share of the "
			   "`shared` ceiling by block size (bounce and persistent convert nothing: "
			   "the ideal points)%s.*\n", pl[k], pl[k], pl[k],
			adaptive_sizes(d, pl[k], &missing, &below) ?
			"; below, adaptive over the best path run by run against the 0.9x "
			"target (as in the table)" : "; adaptive not measured on this profile");
}

static void split(FILE *f, const struct report_data *d)
{
	unsigned int k, b;

	fprintf(f, "\nCost per I/O of `inplace` (vCPU time, us): conversion calls (exits "
		   "or ring, host work) / the copy that keeps the data (tdx, snp, cca) / "
		   "the device's side (beside the vCPU's):\n\n");
	size_head(f, d, "");
	for (k = 0; k < PLAT_MAX; k++) {
		if (!measured(d, plat_names[k], "lazy"))
			continue;
		fprintf(f, "| %s |", plat_names[k]);
		for (b = 0; b < REPORT_NBS; b++) {
			const struct report_io_point *p = variant_at(d, "inplace", d->block_kib[b],
								     plat_names[k], "lazy");

			fprintf(f, " ");
			put(f, "%.1f", report_io_val(p, BIO_F_CONV_NS_PER_IO) / 1e3);
			fprintf(f, " / ");
			put(f, "%.1f", report_io_val(p, BIO_F_KEEP_NS_PER_IO) / 1e3);
			fprintf(f, " / ");
			put(f, "%.1f", report_io_val(p, BIO_F_DEV_NS_PER_IO) / 1e3);
			fprintf(f, " |");
		}
		fprintf(f, "\n");
	}
}

static void projection(FILE *f, const struct report_data *d)
{
	static const double named[] = { 5000, 1000 };	/* ns per call */
	double miss = check_model(d);
	unsigned int k, i;

	fprintf(f, "\n### What the answer would be with cheaper calls\n\n");
	if (isnan(miss)) {
		fprintf(f, "No projection: the run has no in-place point over two transports "
			   "to check the model on.\n");
		return;
	}
	if (miss > 0.25) {
		fprintf(f, "No projection: the model (the point's time without its "
			   "conversions, plus calls x the cost of one call) predicts the queue "
			   "transport's in-place IOPS from the default transport's split %.0f%% "
			   "off at worst, above the 25%% it must meet.\n", 100 * miss);
		return;
	}
	fprintf(f, "The model (the point's time without its conversions, plus calls x "
		   "the cost of one call) predicts the queue transport's in-place IOPS from "
		   "the default transport's split within %.0f%% at every size. This host's "
		   "calls are nested (PVM) exits; on bare-metal KVM a userspace exit is a few "
		   "microseconds. Crossover of `inplace` against `bounce` (vCPU time per I/O):"
		   "\n\n| platform | this run |", 100 * miss);
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		fprintf(f, " %.0f us per call |", named[i] / 1e3);
	fprintf(f, "\n|---|---|");
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		fprintf(f, "---|");
	fprintf(f, "\n");
	for (k = 0; k < PLAT_MAX; k++) {
		if (!measured(d, plat_names[k], "lazy"))
			continue;
		fprintf(f, "| %s | ", plat_names[k]);
		put_crossover(f, d, crossover(d, plat_names[k], "lazy"), plat_names[k], "lazy");
		fprintf(f, " |");
		for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
			fprintf(f, " ");
			put_crossover(f, d, projected(d, plat_names[k], named[i]), plat_names[k],
				      "lazy");
			fprintf(f, " |");
		}
		fprintf(f, "\n");
	}
}

static void models(FILE *f, const struct report_data *d)
{
	static const char *const mods[] = { "lazy", "eager", "huge" };
	unsigned int k, b;

	if (!measured(d, "ideal", "eager") && !measured(d, "ideal", "huge"))
		return;
	fprintf(f, "\n## Conversion models (ideal platform)\n\n"
		   "lazy: guest_memfd, the host view's mapping revoked by mprotect, the "
		   "device's first touch of each re-shared page faults it in (what upstream "
		   "does today); eager: one mapping, userfaultfd, a share maps the whole run; "
		   "huge: eager on 2 MiB pages (each conversion exposes whole 2 MiB pages: the "
		   "bytes shared per I/O in brackets). In place (the faster of per request and "
		   "batched), IOPS:\n\n| model |");
	for (b = 0; b < REPORT_NBS; b++)
		fprintf(f, " %u KiB |", d->block_kib[b]);
	fprintf(f, "\n|---|");
	for (b = 0; b < REPORT_NBS; b++)
		fprintf(f, "---:|");
	fprintf(f, "\n");
	for (k = 0; k < 3; k++) {
		if (!measured(d, "ideal", mods[k]))
			continue;
		fprintf(f, "| %s |", mods[k]);
		for (b = 0; b < REPORT_NBS; b++) {
			const struct report_io_point *p =
				best_ip(d, d->block_kib[b], "ideal", mods[k]);

			fprintf(f, " ");
			put(f, "%.0f", report_io_val(p, BIO_F_IOPS));
			if (k == 2 && p)
				fprintf(f, " [%.0f KiB]",
					report_io_val(p, BIO_F_CONV_BYTES_PER_IO) / 1024);
			fprintf(f, " |");
		}
		fprintf(f, "\n");
	}
	fprintf(f, "\nCrossover against bouncing: ");
	for (k = 0; k < 3; k++) {
		if (!measured(d, "ideal", mods[k]))
			continue;
		fprintf(f, "%s ", mods[k]);
		put_crossover(f, d, crossover(d, "ideal", mods[k]), "ideal", mods[k]);
		fprintf(f, "%s", k < 2 ? "; " : ".\n");
	}
	fprintf(f, "\n");
}

void report_platforms(FILE *f, const struct report_data *d)
{
	if (other_platforms(d)) {
		fprintf(f, "\n## Per platform (docs/platforms.md)\n\n"
			   "Each profile converts the way its Linux guest does: pkvm one 4 KiB "
			   "granule per call (exitless: the queue transport), tdx at most 2 MiB "
			   "per call and snp at most 64 page entries per call (both an exit to "
			   "the VMM), cca a range per call with the host stopping at 2 MiB "
			   "boundaries (exitless); tdx, snp and cca destroy contents, so an "
			   "in-place I/O copies its data once. Bounce and persistent do not "
			   "convert: the same figures on every platform. %s backend, qd %u, "
			   "%u vCPU.\n\n",
			d->rep_backend, d->rep_qd, d->rep_vcpus);
		report_platforms_verdict(f, d);
		table(f, d);
		adaptive_best_table(f, d);
		plot_refs(f, d);
		split(f, d);
		projection(f, d);
	}
	models(f, d);
}
