// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench report: reading what the sub-benchmarks printed, the host
 * model built from convert-bench and bounce-bench, and the io-bench points
 * (each the median of its runs) the tables and the verdict look up.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

const char *const report_backends[REPORT_NBACKENDS] = {
#define REPORT_BE_NAME(id, name)	[REPORT_BE_INDEX_##id] = (name),
	REPORT_BACKENDS(REPORT_BE_NAME)
#undef REPORT_BE_NAME
};

const enum gmem_abi_io_mode report_paths[] = {
	GMEM_ABI_IO_BOUNCE, GMEM_ABI_IO_PERSISTENT, GMEM_ABI_IO_INPLACE, GMEM_ABI_IO_INPLACE_BATCH
};
_Static_assert(sizeof(report_paths) / sizeof(report_paths[0]) == REPORT_NPATHS,
	       "a mode per path adaptive chooses among");
const enum gmem_abi_io_mode report_ip_modes[REPORT_NIP] = {
	GMEM_ABI_IO_INPLACE, GMEM_ABI_IO_INPLACE_BATCH
};

void report_mode_names(const char **names, const enum gmem_abi_io_mode *m, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		names[i] = bench_io_mode_name(m[i]);
}

const char *report_rec_backend(const struct json *rec)
{
	const char *be = bench_io_str(rec, BIO_F_BACKEND, "");

	/* io-bench records say "direct" beside "backend" */
	if (!strcmp(be, "file") && bench_io_get(rec, BIO_F_DIRECT) &&
	    bench_io_num(rec, BIO_F_DIRECT, 0) != 0)
		return "file-direct";
	return be;
}

const char *report_backend_label(const char *be)
{
	if (!strcmp(be, "null"))
		return "null backend (device never touches the data: in place pays no "
		       "device-side mapping)";
	if (!strcmp(be, "ram"))
		return "ram backend (memory-backed: the device copies the data of each "
		       "request through the host view)";
	if (!strcmp(be, "file"))
		return "file backend (real storage: io_uring, buffered)";
	if (!strcmp(be, "file-direct"))
		return "file backend, O_DIRECT (real storage: io_uring)";
	return be;
}

bool report_verdict_backend(const struct report_data *d)
{
	return d->rep_backend && strcmp(d->rep_backend, "null");
}

const struct json *report_results(const struct json *doc)
{
	const struct json *r = json_get(doc, "results");

	return r && r->type == JSON_ARR ? r : NULL;
}

void report_read_probe(struct report_data *d)
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

void report_add_io_runs(struct report_data *d, struct json **runs, unsigned int n,
			const double *ceil, const bool *remeasured)
{
	double sorted[REPORT_MAX_REPS];
	struct report_io_point *pt;
	struct json *arr;
	unsigned int i, med = 0;

	if (!n || d->nio == REPORT_MAX_IO)
		return;
	pt = &d->io[d->nio];
	for (i = 0; i < n; i++) {
		const struct json *r = report_results(runs[i]);

		pt->iops[pt->nreps] = r && r->child ? bench_io_num(r->child, BIO_F_IOPS, 0) : 0;
		pt->ceil[pt->nreps] = ceil ? ceil[i] : NAN;
		pt->remeasured[pt->nreps++] = remeasured && remeasured[i];
	}
	memcpy(sorted, pt->iops, n * sizeof(double));
	qsort(sorted, n, sizeof(double), cmp_double);
	for (i = 0; i < n; i++)
		if (pt->iops[i] == sorted[n / 2])
			med = i;
	/* Keep the median run's record: detach it from its document. */
	arr = (struct json *)report_results(runs[med]);
	if (!arr || !arr->child) {
		pt->nreps = 0;
		return;
	}
	pt->rec = arr->child;
	arr->child = pt->rec->next;
	pt->rec->next = NULL;
	d->nio++;
}

void report_pick(struct report_data *d, const struct report_opts *o)
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
	/* A device that touches the data first: ram; null (overhead only)
	 * where it is all there is; else real storage. */
	if (o->backends & REPORT_BE_RAM)
		d->rep_backend = "ram";
	else if (o->backends & REPORT_BE_NULL)
		d->rep_backend = "null";
	else if (o->backends & REPORT_BE_FILE)
		d->rep_backend = "file";
	else
		d->rep_backend = "file-direct";
}

void report_pick_measured(struct report_data *d)
{
	struct report_opts o = { 0 };
	unsigned int i, k;

	for (i = 0; i < d->nio; i++)
		for (k = 0; k < REPORT_NBACKENDS; k++)
			if (!strcmp(report_rec_backend(d->io[i].rec), report_backends[k]))
				o.backends |= 1U << k;
	for (k = 0; k < REPORT_NBACKENDS; k++)
		if (d->rep_backend && !strcmp(d->rep_backend, report_backends[k]) &&
		    (o.backends & (1U << k)))
			return;		/* the one picked was measured */
	if (!o.backends)
		return;
	if (o.backends & REPORT_BE_RAM)
		d->rep_backend = "ram";
	else if (o.backends & REPORT_BE_NULL)
		d->rep_backend = "null";
	else if (o.backends & REPORT_BE_FILE)
		d->rep_backend = "file";
	else
		d->rep_backend = "file-direct";
}

void report_free(struct report_data *d)
{
	unsigned int i;

	json_free(d->probe);
	json_free(d->convert);
	json_free(d->bounce);
	for (i = 0; i < d->nio; i++)
		json_free(d->io[i].rec);
}

/* convert-bench median for (op, mode, pages, threads); NAN if absent. */
static const struct json *conv_point(const struct report_data *d, const char *op,
				      const char *mode, unsigned int pages,
				      unsigned int threads)
{
	const struct json *r = report_results(d->convert), *c;

	for (c = r ? r->child : NULL; c; c = c->next)
		if (!strcmp(json_str(c, "op", ""), op) &&
		    (!mode || !strcmp(json_str(c, "mode", ""), mode)) &&
		    json_num(c, "pages", 0) == pages && json_num(c, "threads", 0) == threads)
			return c;
	return NULL;
}

static double conv_ns(const struct report_data *d, const char *op, const char *mode,
		      unsigned int pages, unsigned int threads)
{
	return json_num(conv_point(d, op, mode, pages, threads), "ns_median", NAN);
}

/* The busy-thread count of convert-bench's headline rows (vCPU-like
 * threads running in the process); 1 in results older than the field. */
static unsigned int conv_busy(const struct report_data *d)
{
	return (unsigned int)json_num(d->convert, "busy_threads", 1);
}

/* A micro-benchmark point is noisy when its median sits far above its best
 * sample: the typical sample was disturbed. */
bool report_conv_noisy(const struct report_data *d, const char *mode, unsigned int pages)
{
	const struct json *c = conv_point(d, "roundtrip", mode, pages, conv_busy(d));

	return json_num(c, "ns_median", 0) > REPORT_NOISY_RATIO * json_num(c, "ns_min", INFINITY);
}

/* bounce-bench median for (op, bytes), 1 thread; sizes between measured
 * points are interpolated linearly, sizes above the largest are that many
 * mappings of the largest (a large I/O is split into maximal segments). */
static double bounce_ns(const struct report_data *d, const char *op, double bytes)
{
	const struct json *r = report_results(d->bounce), *c;
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

/* The guest-measured round trip of pages, in place: the hypercall
 * transport where it was measured (what --transport auto takes), else the
 * doorbell; NAN if KVM did not run. */
static double guest_roundtrip(const struct report_data *d, unsigned int pages,
			      const char **tr)
{
	static const enum gmem_abi_transport trs[2] = { GMEM_ABI_TRANSPORT_HYPERCALL,
							GMEM_ABI_TRANSPORT_DOORBELL };
	const struct json *r = report_results(d->convert), *c;
	unsigned int t;

	for (t = 0; t < 2; t++)
		for (c = r ? r->child : NULL; c; c = c->next)
			if (!strcmp(json_str(c, "op", ""), "guest_roundtrip") &&
			    !strcmp(json_str(c, "mode", ""), "inplace") &&
			    !strcmp(json_str(c, "transport", ""),
				    gmem_abi_transport_name(trs[t])) &&
			    json_num(c, "pages", 0) == pages) {
				*tr = gmem_abi_transport_name(trs[t]);
				return json_num(c, "ns_median", NAN);
			}
	return NAN;
}

/* First index from which a[b] < c[b] at every larger b; -1 if none. */
static int crossover(const double *a, const double *c)
{
	int b, from = -1;

	for (b = REPORT_NBS - 1; b >= 0; b--) {
		if (!(a[b] < c[b]))
			break;
		from = b;
	}
	return from;
}

/* The device's time per I/O on an in-place buffer beyond a shared one's,
 * at the representative point (default transport): its touch of the
 * freshly shared pages, the faults or mappings it takes on them.  Measured
 * where the records have the device's side and the device touches the data
 * (null never does: 0 there); NAN if not. */
static double device_touch(const struct report_data *d, unsigned int bs_kib)
{
	double ip = report_dev_ns(report_io_at(d, "inplace", bs_kib)),
	       sh = report_dev_ns(report_io_at(d, "shared", bs_kib));

	if (isnan(ip) || isnan(sh))
		return NAN;
	return fmax(0, ip - sh);
}

void report_build_model(const struct report_data *d, struct report_model *m)
{
	int b;

	m->exit_ns = conv_ns(d, "exit_roundtrip", NULL, 0, 0);
	m->busy = conv_busy(d);
	m->guest_tr = NULL;
	m->measured = true;
	for (b = 0; b < REPORT_NBS; b++) {
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
		m->touch[b] = device_touch(d, d->block_kib[b]);
	}
	/* Measurement where there is one at every size, never a mix. */
	m->touched = true;
	for (b = 0; b < REPORT_NBS; b++)
		m->touched = m->touched && !isnan(m->touch[b]);
	for (b = 0; b < REPORT_NBS; b++)
		m->inplace[b] = (m->measured ? m->guest_rt[b] : m->synth[b]) +
				(m->touched ? m->touch[b] : 0);
	m->crossover_r = crossover(m->inplace, m->copy_r);
	m->crossover_w = crossover(m->inplace, m->copy_w);
}

/* ---- the io-bench points ------------------------------------------------ */

/* A record of the main tables: ideal platform, lazy model (records of an
 * older gmemkit have neither key: they are that). */
bool report_rec_is_default_variant(const struct json *r)
{
	return !strcmp(bench_io_str(r, BIO_F_PLATFORM, "ideal"), "ideal") &&
	       !strcmp(bench_io_str(r, BIO_F_CONV_MODEL, "lazy"), "lazy");
}

const struct report_io_point *report_io_find(const struct report_data *d, const char *mode,
					     unsigned int bs_kib, unsigned int qd,
					     unsigned int vcpus, const char *backend,
					     const char *tr)
{
	unsigned int i;

	for (i = 0; i < d->nio; i++) {
		const struct json *r = d->io[i].rec;

		if (!report_rec_is_default_variant(r))
			continue;
		if (!strcmp(bench_io_str(r, BIO_F_MODE, ""), mode) &&
		    bench_io_num(r, BIO_F_BS, 0) == bs_kib * 1024.0 &&
		    bench_io_num(r, BIO_F_QD, 0) == qd &&
		    bench_io_num(r, BIO_F_VCPUS, 1) == vcpus &&
		    !strcmp(report_rec_backend(r), backend) &&
		    (tr == DEFAULT_TR || !strcmp(bench_io_str(r, BIO_F_TRANSPORT, ""), tr)))
			return &d->io[i];
	}
	return NULL;
}

const struct report_io_point *report_io_at_tr(const struct report_data *d, const char *mode,
					      unsigned int bs_kib, const char *tr)
{
	return report_io_find(d, mode, bs_kib, d->rep_qd, d->rep_vcpus, d->rep_backend, tr);
}

/* The point the report's tables use: the representative qd, vCPUs, backend. */
const struct report_io_point *report_io_at(const struct report_data *d, const char *mode,
					   unsigned int bs_kib)
{
	return report_io_at_tr(d, mode, bs_kib, DEFAULT_TR);
}

double report_io_val(const struct report_io_point *p, enum bench_io_field f)
{
	return p ? bench_io_num(p->rec, f, NAN) : NAN;
}

/* Best protected mode at bs (representative point); -1 if none. */
int report_best_protected(const struct report_data *d, unsigned int bs_kib, double *iops)
{
	int m, best = -1;

	*iops = 0;
	for (m = 1; m < BENCH_IO_SWEEP_MODES; m++) {
		double v = report_io_val(report_io_at(d, bench_io_sweep_names[m], bs_kib), BIO_F_IOPS);

		if (v > *iops) {
			*iops = v;
			best = m;
		}
	}
	return best;
}

/* The smallest measured size from which in place over tr beats bouncing at
 * every larger measured size (report_internal.h). */
int report_io_crossover(const struct report_data *d, const char *tr)
{
	int b, from = -1, measured = 0;

	for (b = REPORT_NBS - 1; b >= 0; b--) {
		double bn = report_io_val(report_io_at(d, "bounce", d->block_kib[b]), BIO_F_IOPS);
		double ip = fmax(
			report_io_val(report_io_at_tr(d, "inplace", d->block_kib[b], tr),
				      BIO_F_IOPS),
			report_io_val(report_io_at_tr(d, "inplace-batch", d->block_kib[b], tr),
				      BIO_F_IOPS));

		if (isnan(bn) || isnan(ip))
			continue;
		measured++;
		if (ip <= bn)
			break;
		from = b;
	}
	return measured ? from : -2;
}

double report_dev_ns(const struct report_io_point *p)
{
	return report_io_val(p, BIO_F_DEV_NS_PER_IO);
}

static double median_of(double *v, unsigned int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void ratio_done(struct report_ratio *r, double *v)
{
	unsigned int i;

	r->lo = INFINITY;
	r->hi = -INFINITY;
	for (i = 0; i < r->n; i++) {
		r->lo = fmin(r->lo, v[i]);
		r->hi = fmax(r->hi, v[i]);
	}
	r->med = r->n ? median_of(v, r->n) : NAN;
}

/* The ceiling run measured beside run i of p: its own pairing where the
 * run was measured again, else shared's i-th run. */
static double ceiling_of(const struct report_io_point *p, const struct report_io_point *s,
			 unsigned int i)
{
	if (!isnan(p->ceil[i]))
		return p->ceil[i];
	return i < s->nreps ? s->iops[i] : NAN;
}

static const struct report_io_point *shared_of(const struct report_data *d,
					       const struct report_io_point *p)
{
	const struct json *r = p ? p->rec : NULL;

	if (!r)
		return NULL;
	return report_io_find(d, "shared", (unsigned int)(bench_io_num(r, BIO_F_BS, 0) / 1024),
			      (unsigned int)bench_io_num(r, BIO_F_QD, 0),
			      (unsigned int)bench_io_num(r, BIO_F_VCPUS, 1), report_rec_backend(r),
			      DEFAULT_TR);
}

int report_ratio_ceiling(const struct report_data *d, const struct report_io_point *p,
			 struct report_ratio *r)
{
	const struct report_io_point *s = shared_of(d, p);
	double v[REPORT_MAX_REPS];
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->med = NAN;
	if (!p || !s)
		return -ENOENT;
	for (i = 0; i < p->nreps; i++) {
		double c = ceiling_of(p, s, i);

		if (!(c > 0))
			continue;
		r->remeasured += p->remeasured[i];
		if (p->iops[i] > c) {
			r->noise++;
			continue;
		}
		v[r->n++] = p->iops[i] / c;
	}
	ratio_done(r, v);
	return r->n || r->noise ? 0 : -ENOENT;
}

int report_ratio_iops(const struct report_io_point *a, const struct report_io_point *b,
		      struct report_ratio *r)
{
	double v[REPORT_MAX_REPS];
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->med = NAN;
	if (!a || !b)
		return -ENOENT;
	for (i = 0; i < a->nreps && i < b->nreps; i++)
		if (b->iops[i] > 0)
			v[r->n++] = a->iops[i] / b->iops[i];
	ratio_done(r, v);
	return r->n ? 0 : -ENOENT;
}

int report_ratio_best(const struct report_io_point *a, const struct report_io_point *const *of,
		      unsigned int n, unsigned int need, struct report_ratio *r)
{
	double v[REPORT_MAX_REPS], best;
	unsigned int i, k;

	memset(r, 0, sizeof(*r));
	r->med = NAN;
	if (!a)
		return -ENOENT;
	for (k = 0; k < need; k++)
		if (!of[k])
			return -ENOENT;
	for (i = 0; i < a->nreps; i++) {
		for (k = 0, best = 0; k < n; k++) {
			if (of[k] && i < of[k]->nreps)
				best = fmax(best, of[k]->iops[i]);
			else if (k < need)
				break;
		}
		if (k < n)
			break;
		if (best > 0)
			v[r->n++] = a->iops[i] / best;
	}
	ratio_done(r, v);
	return r->n ? 0 : -ENOENT;
}

double report_extra_ns(const struct report_data *d, const struct report_io_point *p)
{
	const struct report_io_point *s = shared_of(d, p);
	double v[REPORT_MAX_REPS];
	unsigned int i, n = 0;

	if (!p || !s)
		return NAN;
	for (i = 0; i < p->nreps; i++) {
		double c = ceiling_of(p, s, i);

		/* a run above its ceiling is noise here too */
		if (c > 0 && p->iops[i] > 0 && p->iops[i] <= c)
			v[n++] = 1e9 / p->iops[i] - 1e9 / c;
	}
	return n ? median_of(v, n) : NAN;
}

void report_fmt_share(char *buf, size_t len, const struct report_ratio *r)
{
	if (!r->n)
		snprintf(buf, len, "at the ceiling (every run measured above it: noise)");
	else if (r->n == 1 || lround(100 * r->lo) == lround(100 * r->hi))
		snprintf(buf, len, "%.0f%%", 100 * r->med);
	else
		snprintf(buf, len, "%.0f%% (%.0f-%.0f%%)", 100 * r->med, 100 * r->lo,
			 100 * r->hi);
}
