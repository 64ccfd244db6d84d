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

#include "gmemkit/cost.h"
#include "report_internal.h"

/* Which part of a point's per-I/O time is largest (the split: each cost
 * once, gmemkit/cost.h). */
static const char *dominant_cost(const struct io_point *p)
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

/* The smallest measured size from which in place (either flavour) beats
 * bouncing at every larger measured size. */
static void end_to_end_crossover(FILE *f, const struct bench_data *d)
{
	int from = io_crossover(d, DEFAULT_TR);

	if (from == -2)
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
	end_to_end_crossover(f, d);
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
