// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench: the verdict and report.md (the files and tables it
 * draws on: report_internal.h).
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
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gmemkit/bench_cost.h"
#include "report_internal.h"

/* Which part of a point's per-I/O time is largest (the split: each cost
 * once, gmemkit/bench_cost.h). */
static const char *dominant_cost(const struct report_io_point *p)
{
	static const char *const names[5] = {
		"kicks (ioeventfd exits)", "conversion exits to the VMM",
		"conversion host work", "bounce copy",
		"unaccounted time (driver, waiting for the device)" };
	struct bench_cost_split sp;
	double v[5];
	int i, best = 0;

	if (!p || bench_cost_split_record(p->rec, &sp))
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

/* The faster in-place flavour (inplace or inplace-batch) at bs, default
 * transport. */
static const struct report_io_point *best_inplace(const struct report_data *d, unsigned int bs)
{
	const struct report_io_point *a = report_io_at(d, "inplace", bs),
				     *b = report_io_at(d, "inplace-batch", bs);

	if (!a || !b)
		return a ? a : b;
	return report_io_val(b, BIO_F_IOPS) > report_io_val(a, BIO_F_IOPS) ? b : a;
}

/*
 * Why in place loses to bouncing at bs: the largest of the costs in place
 * pays and bouncing does not (its conversions' exits, the host's
 * conversion work, the device's extra time on the freshly shared pages),
 * with its figure against what bouncing pays instead (its copies).
 */
static void deciding_cost(FILE *f, const struct report_data *d, unsigned int bs)
{
	const struct report_io_point *ip = best_inplace(d, bs), *bn = report_io_at(d, "bounce", bs);
	struct bench_cost_split si, sb;
	double dev = report_dev_ns(ip) - report_dev_ns(bn), v[3];
	static const char *const names[3] = {
		"the exits of the conversion requests", "the host's conversion work",
		"the device's extra time on the freshly shared pages" };
	char a[32], b[32];
	int k, big = 0;

	if (!ip || !bn || bench_cost_split_record(ip->rec, &si) ||
	    bench_cost_split_record(bn->rec, &sb))
		return;
	v[0] = si.conv_exit;
	v[1] = si.conv_host;
	v[2] = isnan(dev) ? 0 : fmax(0, dev);
	for (k = 1; k < 3; k++)
		if (v[k] > v[big])
			big = k;
	report_fmt_us(a, sizeof(a), v[big]);
	report_fmt_us(b, sizeof(b), sb.copy);
	fprintf(f, " The cost that decides it: %s, %s per I/O at %u KiB (%s), against %s "
		   "of bounce copies per I/O", names[big], a, bs,
		bench_io_str(ip->rec, BIO_F_MODE, "inplace"), b);
	if (big == 2)
		fprintf(f, " (%.1f device faults per I/O in place, %.1f bouncing)",
			report_io_val(ip, BIO_F_DEV_FAULTS_PER_IO),
			report_io_val(bn, BIO_F_DEV_FAULTS_PER_IO));
	fprintf(f, ".");
}

/* The smallest measured size from which in place (either flavour) beats
 * bouncing at every larger measured size; plainly, when it never does. */
static void end_to_end_crossover(FILE *f, const struct report_data *d)
{
	int from = report_io_crossover(d, DEFAULT_TR);
	struct report_ratio r;
	char sh[64];

	if (from == -2)
		return;
	if (from < 0) {
		fprintf(f, " In place beats bouncing at no size measured on the %s backend "
			   "(in place over bounce, IOPS per run at %u KiB:", d->rep_backend,
			d->block_kib[REPORT_NBS - 1]);
		if (!report_ratio_iops(best_inplace(d, d->block_kib[REPORT_NBS - 1]),
				       report_io_at(d, "bounce", d->block_kib[REPORT_NBS - 1]), &r))
			fprintf(f, " %.2fx, %.2f-%.2fx).", r.med, r.lo, r.hi);
		else
			fprintf(f, " not measured).");
		deciding_cost(f, d, d->block_kib[REPORT_NBS - 1]);
		return;
	}
	if (report_ratio_iops(best_inplace(d, d->block_kib[from]),
			      report_io_at(d, "bounce", d->block_kib[from]), &r))
		snprintf(sh, sizeof(sh), "n/a");
	else
		snprintf(sh, sizeof(sh), "%.2fx, %.2f-%.2fx per run", r.med, r.lo, r.hi);
	fprintf(f, " In place (the faster of inplace and inplace-batch, the latter an "
		   "upper bound) beats bouncing from %u KiB up (there %s).",
		d->block_kib[from], sh);
}

/* Per block size, the fastest of the three ways to get private data to a
 * device (swiotlb bounce, persistent shared buffers, in place in either
 * flavour), with what it pays per I/O. */
static void cheapest_protected(FILE *f, const struct report_data *d)
{
	const char *ways[REPORT_NPATHS], *transport = NULL;
	int b, seen = 0;
	unsigned int k;

	report_mode_names(ways, report_paths, REPORT_NPATHS);

	for (b = 0; b < REPORT_NBS; b++) {
		const struct report_io_point *best = NULL;
		const char *name = NULL;

		for (k = 0; k < sizeof(ways) / sizeof(ways[0]); k++) {
			const struct report_io_point *p = report_io_at(d, ways[k], d->block_kib[b]);

			if (p && (!best || report_io_val(p, BIO_F_IOPS) >
					   report_io_val(best, BIO_F_IOPS))) {
				best = p;
				name = ways[k];
			}
		}
		if (!best)
			continue;
		if (!seen++)
			fprintf(f, " Cheapest protected path per block size (swiotlb bounce, "
				   "persistent buffers, in place):");
		transport = bench_io_str(best->rec, BIO_F_TRANSPORT, "?");
		fprintf(f, " %u KiB %s, %.0f IOPS (per I/O: %.0f bytes copied, %.2f "
			   "conversions, %.2f exits);", d->block_kib[b],
			!strcmp(name, "bounce") ? "swiotlb bounce" : name,
			report_io_val(best, BIO_F_IOPS),
			report_io_val(best, BIO_F_COPY_BYTES_PER_IO),
			report_io_val(best, BIO_F_CONV_PER_IO),
			report_io_val(best, BIO_F_EXITS_PER_IO));
	}
	if (seen)
		fprintf(f, " (conversion transport %s).", transport);
}

/* Best protected >= 90% of the shared ceiling at every measured size (the
 * median of the per-run ratios; a mode whose every run came out above the
 * ceiling counts as at it). */
static bool target_met(const struct report_data *d)
{
	int b, seen = 0;

	for (b = 0; b < REPORT_NBS; b++) {
		double best;
		int k = report_best_protected(d, d->block_kib[b], &best);
		struct report_ratio r;

		if (k < 0 || report_ratio_ceiling(d, report_io_at(d, bench_io_sweep_names[k],
								  d->block_kib[b]), &r))
			continue;
		seen++;
		if (r.n && r.med < 0.9)
			return false;
	}
	return seen > 0;
}

/* The end-to-end answer at the representative point: the verdict's
 * headline. */
static void end_to_end(FILE *f, const struct report_data *d)
{
	int b;

	fprintf(f, "End to end (virtio-blk from the guest, %s, randread, qd %u, "
		   "%u vCPU; share of the shared ceiling: median of the per-run ratios, "
		   "min-max in brackets%s):", report_backend_label(d->rep_backend), d->rep_qd,
		d->rep_vcpus, d->interleaved ? ", the modes' runs interleaved" :
		", runs not interleaved in this older sweep");
	for (b = 0; b < REPORT_NBS; b++) {
		double best;
		int k = report_best_protected(d, d->block_kib[b], &best);
		const struct report_io_point *p =
			k < 0 ? NULL : report_io_at(d, bench_io_sweep_names[k], d->block_kib[b]);
		struct report_ratio r;
		char sh[96];

		if (!p || report_ratio_ceiling(d, p, &r))
			continue;
		if (!r.n) {
			fprintf(f, " %u KiB: %s at the shared ceiling (every run measured "
				   "above it: noise);", d->block_kib[b], bench_io_sweep_names[k]);
			continue;
		}
		report_fmt_share(sh, sizeof(sh), &r);
		fprintf(f, " %u KiB: %s at %s of the shared ceiling", d->block_kib[b],
			bench_io_sweep_names[k], sh);
		if (r.noise)
			fprintf(f, " (%u of %u runs measured above the ceiling: noise, left "
				   "out%s", r.noise, r.noise + r.n, r.n && r.med < 0.9 ? "; " : ")");
		if (r.n && r.med < 0.9)
			fprintf(f, "%slargest part of its time per I/O: %s)",
				r.noise ? "" : " (", dominant_cost(p));
		fprintf(f, ";");
	}
	end_to_end_crossover(f, d);
	if (!report_verdict_backend(d))
		fprintf(f, " This is the overhead-only point: the null device never touches "
			   "the data, so in place pays no device-side mapping of the pages it "
			   "shares; the answer for a device that moves the data is the ram "
			   "backend's, not measured by this run.");
}

/* The paragraph a kernel developer would paste into a mailing-list reply:
 * the end-to-end answer first, then the host model behind it. */
static void verdict(FILE *f, const struct report_data *d, const struct report_model *m)
{
	double per_page_conv = m->conv[REPORT_NBS - 1] / (d->block_kib[REPORT_NBS - 1] / 4.0);
	double per_page_copy = m->copy_r[REPORT_NBS - 1] / (d->block_kib[REPORT_NBS - 1] / 4.0);
	double pool = json_num(d->bounce, "pool_bytes", NAN);

	fprintf(f, "On %s (kernel %s%s): ", d->cpu, d->kernel,
		d->emulated && d->nio ?
		", EMULATED GUEST (measured): functional numbers only, not a verdict" : "");
	if (d->nio)
		end_to_end(f, d);
	else
		fprintf(f, "end to end (virtio-blk from a real guest) was not measured on "
			   "this host: see 'Skipped or failed'.");
	if (isnan(m->copy_r[0]) || isnan(m->copy_w[0]) || isnan(m->conv[0])) {
		fprintf(f, " The %s cost was not measured (see 'Skipped or failed'): no host "
			   "model.\n", isnan(m->conv[0]) ? "conversion" : "bounce");
		return;
	}
	fprintf(f, " Host model: a private->shared->private round trip of one 4 KiB page "
		   "costs %.1f us in place (%.1f us destructive; %.1f us in an idle process, "
		   "the lower bound), with the host's mapping revoked at each unshare and "
		   "faulted back in at its first touch, against %.2f us to bounce the same "
		   "4 KiB for a read (copy in + copy out) and %.2f us for a write (copy in) "
		   "through a %.0f MiB swiotlb-style pool. ",
		m->conv[0] / 1e3, m->conv_d[0] / 1e3, m->conv_idle[0] / 1e3,
		m->copy_r[0] / 1e3, m->copy_w[0] / 1e3, pool / 1048576.0);
	fprintf(f, "In a %u KiB range a conversion costs %.0f ns per page against "
		   "%.0f ns per page to bounce a read. ", d->block_kib[REPORT_NBS - 1],
		per_page_conv, per_page_copy);
	if (m->measured)
		fprintf(f, "Requested by the guest (%s, exits to the VMM: the TDX/SNP-on-KVM "
			   "model), a 4 KiB share + unshare round trip measures %.1f us "
			   "(synthetic host conversion + two %.1f us exits: %.1f us)%s. ",
			m->guest_tr, m->guest_rt[0] / 1e3, m->exit_ns / 1e3, m->synth[0] / 1e3,
			m->touched ? "; the model's in-place side adds the device's touch of "
				     "the converted pages, measured end to end" :
				     "; the device's touch of the converted pages is not in it "
				     "(not measured by this run)");
	else if (!isnan(m->exit_ns))
		fprintf(f, "Each conversion request from the guest adds a VM exit of "
			   "%.1f us (two per I/O; synthetic: no guest round trip measured). ",
			m->exit_ns / 1e3);
	else
		fprintf(f, "VM exit costs are not included (no KVM guest measured here). ");
	if (m->crossover_r < 0)
		fprintf(f, "In place never beats bouncing a read up to %u KiB in the host "
			   "model, at %.1fx the read bounce for 1 MiB",
			d->block_kib[REPORT_NBS - 1],
			m->inplace[REPORT_NBS - 1] / m->copy_r[REPORT_NBS - 1]);
	else
		fprintf(f, "In place beats bouncing a read from %u KiB up in the host model "
			   "(%.1fx cheaper at %u KiB)", d->block_kib[m->crossover_r],
			m->copy_r[REPORT_NBS - 1] / m->inplace[REPORT_NBS - 1],
			d->block_kib[REPORT_NBS - 1]);
	if (m->crossover_w < 0)
		fprintf(f, "; a write, never up to %u KiB (%.1fx).", d->block_kib[REPORT_NBS - 1],
			m->inplace[REPORT_NBS - 1] / m->copy_w[REPORT_NBS - 1]);
	else
		fprintf(f, "; a write from %u KiB up.", d->block_kib[m->crossover_w]);
	if (!d->nio) {
		fputc('\n', f);
		return;
	}
	cheapest_protected(f, d);
	report_transports_verdict(f, d);
	if (d->rep_qd != 32)
		fprintf(f, " Target (best protected mode >= 90%% of shared at every size, "
			   "qd 32): not evaluated by this sweep.\n");
	else
		fprintf(f, " Target (best protected mode >= 90%% of shared at every size, "
			   "%s backend, qd 32): %s.\n", d->rep_backend,
			target_met(d) ? "met" : "not met");
}

static void write_report(FILE *f, const struct report_data *d,
			 const struct report_opts *o, const struct report_model *m)
{
	unsigned int i;

	fprintf(f, "# gmemkit: in place or swiotlb?\n\n");
	fprintf(f, "Host: %s, kernel %s, KVM %s, guest memory %s%s. gmemkit %s, %s sweep.\n\n",
		d->cpu, d->kernel, d->kvm ? "usable" : "not usable", d->backing,
		d->cpu_string_emulated ? " (the CPU model string names an emulator)" : "",
		d->version[0] ? d->version : GMEMKIT_VERSION, report_sweep_name(o));
	if (d->sweep_s > 0)
		fprintf(f, "The run took %u min %02u s (%u io-bench points; %u runs measured "
			   "again because they came out above their ceiling).\n\n",
			(unsigned int)(d->sweep_s / 60), (unsigned int)fmod(d->sweep_s, 60),
			d->nio, d->remeasures);
	fprintf(f, "Guest execution, measured by the probe guest's speed loop: %s.%s\n\n",
		d->guest_speed, d->emulated && d->kvm ?
		" **Guest figures from here are functional only: no end-to-end verdict.**" :
		"");
	fprintf(f, "## Verdict\n\n");
	verdict(f, d, m);
	report_platforms_verdict(f, d);
	fprintf(f, "\n## Conversion against copy, per I/O (host model)\n\n");
	report_model_table(f, d, m);
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
		REPORT_NOISY_RATIO, json_num(d->bounce, "pool_bytes", NAN) / 1048576.0);
	if (d->nio)
		report_model_vs_e2e(f, d, m);
	if (d->nio) {
		fprintf(f, "\n## End to end: virtio-blk from the guest\n");
		report_io_table(f, d);
		report_ratio_table(f, d);
		report_adaptive_table(f, d);
		report_split_table(f, d);
		fprintf(f, "\n![throughput](throughput.svg)\n![latency](latency.svg)\n"
			   "![cost split](cost_split.svg)\n");
		report_transports(f, d);
		report_platforms(f, d);
		report_backends_table(f, d);
	}
	report_modes_section(f);
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

int report_write(struct report_data *d, const struct report_opts *o, const char *outdir)
{
	struct report_model m;
	FILE *f;
	int err = 0;

	report_build_model(d, &m);
	err |= report_write_json(d, o, outdir, &m);
	err |= report_write_csv(d, outdir);
	report_plots(d, &m, outdir);
	f = report_open_in(outdir, "report.md");
	if (!f)
		return -1;
	write_report(f, d, o, &m);
	err |= fclose(f);
	printf("\n");
	report_model_table(stdout, d, &m);
	if (d->nio) {
		report_io_table(stdout, d);
		report_adaptive_table(stdout, d);
	}
	printf("\nVERDICT\n");
	verdict(stdout, d, &m);
	report_platforms_verdict(stdout, d);
	printf("\nwritten: %s/{results.json,results.csv,report.md,*.svg}\n", outdir);
	return err ? -1 : 0;
}
