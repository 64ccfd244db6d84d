// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench report: the tables, in report.md and on the terminal: the
 * host model (conversion against copy per block size), the end-to-end IOPS,
 * adaptive against the faster fixed mode, where the vCPU time per I/O goes,
 * and what each mode stands for.
 */
#include <math.h>
#include <string.h>

#include "gmemkit/cost.h"
#include "report_internal.h"

void fmt_us(char *buf, size_t len, double ns)
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

void model_table(FILE *f, const struct bench_data *d, const struct model *m)
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

void io_table(FILE *f, const struct bench_data *d)
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

/* Adaptive against the faster of bounce and inplace, side by side, at the
 * representative point; then every (qd, vCPUs, backend) of the sweep. */
void adaptive_table(FILE *f, const struct bench_data *d)
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
			     (unsigned int)json_num(r, "vcpus", 1), json_str(r, "backend", ""), DEFAULT_TR);
		pi = io_find(d, "inplace", bs_kib, (unsigned int)json_num(r, "qd", 0),
			     (unsigned int)json_num(r, "vcpus", 1), json_str(r, "backend", ""), DEFAULT_TR);
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
void split_table(FILE *f, const struct bench_data *d)
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
			struct bench_cost_split sp;

			if (!p)
				continue;
			if (bench_cost_split_record(p->rec, &sp)) {
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

void modes_section(FILE *f)
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
