// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench report: the in-place modes per conversion transport
 * (doorbell, hypercall where its exits work, queue), kept apart from the
 * main tables (report_tables.c).  For each transport swept: IOPS against
 * bounce, the crossover size, and the conversion cost split per I/O into the exits
 * the conversions cost, the host's conversion work, the rest of the
 * guest-observed conversion time (the exit round trip for doorbell and
 * hypercall, ring latency and kicks for the queue) and the CPU the queue's
 * converter thread burns.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

/* Transports the in-place modes were swept over, in first-seen order. */
static unsigned int transports(const struct report_data *d, const char **out)
{
	unsigned int i, k, n = 0;

	for (i = 0; i < d->nio; i++) {
		const struct json *r = d->io[i].rec;
		const char *t = bench_io_str(r, BIO_F_TRANSPORT, "");

		if (strncmp(bench_io_str(r, BIO_F_MODE, ""), "inplace", 7) || !*t ||
		    !report_rec_is_default_variant(r))
			continue;
		for (k = 0; k < n && strcmp(out[k], t); k++)
			;
		if (k == n && n < REPORT_MAX_TR)
			out[n++] = t;
	}
	return n;
}

void report_transports_verdict(FILE *f, const struct report_data *d)
{
	const char *tr[REPORT_MAX_TR];
	unsigned int n = transports(d, tr), i;

	if (n < 2)
		return;
	fprintf(f, " Per conversion transport (in place or in place in batches vs bounce):");
	for (i = 0; i < n; i++) {
		int c = report_io_crossover(d, tr[i]);

		if (c == -2)
			continue;
		if (c < 0)
			fprintf(f, " %s: never ahead up to %u KiB;", tr[i],
				d->block_kib[REPORT_NBS - 1]);
		else
			fprintf(f, " %s: ahead from %u KiB up;", tr[i], d->block_kib[c]);
	}
	fprintf(f, " (queue: no userspace exit per conversion, as pKVM or Arm CCA; "
		   "doorbell and hypercall: one per conversion, as TDX/SNP on KVM.)");
}

static void us(FILE *f, double ns)
{
	if (isnan(ns))
		fprintf(f, " - |");
	else
		fprintf(f, " %.2f |", ns / 1e3);
}

void report_transports(FILE *f, const struct report_data *d)
{
	const char *inplace_modes[REPORT_NIP], *tr[REPORT_MAX_TR];
	unsigned int n = transports(d, tr), i, m;
	int b;

	if (!n)
		return;
	report_mode_names(inplace_modes, report_ip_modes, REPORT_NIP);
	fprintf(f, "\n## In place per conversion transport\n\n"
		   "IOPS, %s, randread, qd %u, %u vCPU (median run):\n\n| block | bounce |",
		report_backend_label(d->rep_backend), d->rep_qd, d->rep_vcpus);
	for (m = 0; m < REPORT_NIP; m++)
		for (i = 0; i < n; i++)
			fprintf(f, " %s / %s |", inplace_modes[m], tr[i]);
	fprintf(f, "\n|---:|---:|");
	for (i = 0; i < REPORT_NIP * n; i++)
		fprintf(f, "---:|");
	fputc('\n', f);
	for (b = 0; b < REPORT_NBS; b++) {
		double bn = report_io_val(report_io_at(d, "bounce", d->block_kib[b]), BIO_F_IOPS);

		fprintf(f, "| %u KiB |", d->block_kib[b]);
		if (isnan(bn))
			fprintf(f, " - |");
		else
			fprintf(f, " %.0f |", bn);
		for (m = 0; m < REPORT_NIP; m++)
			for (i = 0; i < n; i++) {
				double v = report_io_val(report_io_at_tr(d, inplace_modes[m],
									 d->block_kib[b], tr[i]),
							 BIO_F_IOPS);

				if (isnan(v))
					fprintf(f, " - |");
				else
					fprintf(f, " %.0f |", v);
			}
		fputc('\n', f);
	}
	fprintf(f, "\nCrossover (smallest size from which the better in-place mode beats "
		   "bounce at every larger size):");
	for (i = 0; i < n; i++) {
		int c = report_io_crossover(d, tr[i]);

		if (c >= 0)
			fprintf(f, " %s: from %u KiB", tr[i], d->block_kib[c]);
		else
			fprintf(f, " %s: %s", tr[i], c == -1 ? "never" : "not measured");
		fputc(i + 1 < n ? ',' : '.', f);
	}
	fprintf(f, "\n\nConversion cost split per I/O, mode inplace (us, except exits): "
		   "exits the conversions cost (doorbell/hypercall: one userspace exit per "
		   "request; queue: kicks of a sleeping converter), host work (VMM time in "
		   "check and gmem_share/unshare, as the VMM timed each request), exit or ring "
		   "latency (the rest of the guest-observed conversion time), converter CPU "
		   "(queue: its "
		   "thread's CPU time per I/O, idle polling included):\n\n"
		   "| block | transport | exits | host work | exit/ring latency | converter CPU |\n"
		   "|---:|---|---:|---:|---:|---:|\n");
	for (b = 0; b < REPORT_NBS; b++)
		for (i = 0; i < n; i++) {
			const struct report_io_point *p =
				report_io_at_tr(d, "inplace", d->block_kib[b], tr[i]);
			const struct json *r = p ? p->rec : NULL;

			if (!r)
				continue;
			fprintf(f, "| %u KiB | %s | %.3f |", d->block_kib[b], tr[i],
				bench_io_num(r, BIO_F_CONV_EXITS_PER_IO, NAN));
			us(f, bench_io_num(r, BIO_F_CONV_HOST_NS_PER_IO, NAN));
			us(f, bench_io_num(r, BIO_F_CONV_EXIT_NS_PER_IO, NAN));
			if (strcmp(tr[i], "queue"))
				fprintf(f, " - |");
			else
				us(f, bench_io_num(r, BIO_F_CONV_CPU_NS_PER_IO, NAN));
			fputc('\n', f);
		}
}
