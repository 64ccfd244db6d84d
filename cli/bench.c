// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench: the whole sweep, the files and the verdict.
 *
 * Runs the sub-benchmarks as child processes of this binary with --json,
 * so each runs exactly as a user would run it, then writes
 * results/<host>-<date>/{results.json,results.csv,report.md,*.svg} and
 * prints the verdict.  `--compare A.json B.json` prints per-point ratios.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "gmemkit/abi.h"
#include "gmemkit/gmem.h"
#include "gmemkit/bench_io.h"
#include "gmemkit/bench_io_fields.h"
#include "gmemkit/json.h"
#include "gmemkit/platform.h"
#include "gmemkit/vm.h"
#include "gmemkit/parse.h"
#include "gmemkit/virtio_blk.h"
#include "report/report.h"

static const unsigned int block_kib[REPORT_NBS] = { 4, 16, 64, 256, 1024 };

/* ---- running the sub-benchmarks ---------------------------------------- */

/*
 * The backend the verdict is taken from: a device that touches the data
 * (memory-backed, the device copying through the host view: what a device
 * that moves the data once pays, the mapping of every freshly shared page
 * included).  One constant, so that it can be switched: "ram" where
 * io-bench has the memory-backed backend, "null" (overhead only: the
 * device never touches the data) until then.
 */
#define BENCH_VERDICT_BACKEND	REPORT_BE_RAM

/*
 * The wall time of one io-bench run beyond its --runtime (starting the VM,
 * whose RAM grows with qd x bs, the guest's set-up, draining the queue, the
 * JSON), per block size: measured on profile K (2 cores shared with other
 * jobs; 4 KiB 0.29 s ... 1 MiB 0.83 s).  The estimate before a size has
 * run scales these by how the sizes measured so far compare with theirs;
 * a size that has run is taken at its measured mean.
 */
static const double run_overhead_s[REPORT_NBS] = { 0.30, 0.30, 0.32, 0.42, 0.85 };

struct progress {
	unsigned int step, steps;	/* io-bench runs (re-measures added) */
	double t0;
	double fixed_left;		/* estimated seconds of the host parts left */
	double runtime;			/* --io-runtime */
	unsigned int left[REPORT_NBS];		/* io-bench runs left per block size */
	double ovh_s[REPORT_NBS];		/* measured overhead per block size, sum */
	unsigned int ovh_n[REPORT_NBS];
	unsigned int io_done;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fmt_dur(char *buf, size_t len, double s)
{
	if (s >= 60)
		snprintf(buf, len, "%u min %02u s", (unsigned int)(s / 60),
			 (unsigned int)fmod(s, 60));
	else
		snprintf(buf, len, "%.0f s", s);
}

/* The time left: the host parts' estimate, then every io-bench run left
 * at its size's overhead (measured, or the prior scaled, above). */
static double time_left(const struct progress *p)
{
	double meas = 0, prior = 0, left = p->fixed_left, scale;
	unsigned int b;

	for (b = 0; b < REPORT_NBS; b++)
		if (p->ovh_n[b]) {
			meas += p->ovh_s[b] / p->ovh_n[b];
			prior += run_overhead_s[b];
		}
	scale = prior > 0 ? meas / prior : 1;
	for (b = 0; b < REPORT_NBS; b++)
		left += p->left[b] * (p->runtime + (p->ovh_n[b] ? p->ovh_s[b] / p->ovh_n[b] :
						    run_overhead_s[b] * scale));
	return left;
}

/* A step: an io-bench run counts (io), the host parts do not. */
__attribute__((format(printf, 3, 4)))
static void progress(struct progress *p, bool io, const char *fmt, ...)
{
	char el[32], left[32];
	va_list ap;

	fmt_dur(el, sizeof(el), now_s() - p->t0);
	fmt_dur(left, sizeof(left), time_left(p));
	if (io)
		fprintf(stderr, "[%u/%u] ", ++p->step, p->steps);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "  (%s elapsed, ~%s left)\n", el, left);
}

/* The last non-empty line of a file, for a failure's reason. */
static void last_line(FILE *f, char *buf, size_t len)
{
	char line[512];

	buf[0] = 0;
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			snprintf(buf, len, "%.*s", (int)(len > 1 ? len - 1 : 0), line);
	}
}

/* Run this binary with argv; the child's stdout comes back in *out, the
 * last line of its stderr in why[] (its stderr is not shown: the caller
 * reports a failure once). */
static int run_self(char *const argv[], char **out, char *why, size_t why_len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	FILE *err = tmpfile();
	int fd[2], status;
	ssize_t r;
	pid_t pid;

	why[0] = 0;
	if (!buf || !err || pipe(fd)) {
		snprintf(why, why_len, "cannot start: %s", strerror(errno));
		free(buf);
		if (err)
			fclose(err);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "cannot fork: %s", strerror(errno));
		free(buf);
		fclose(err);
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (!pid) {
		dup2(fd[1], STDOUT_FILENO);
		dup2(fileno(err), STDERR_FILENO);
		close(fd[0]);
		close(fd[1]);
		/* GMEMKIT_BENCH_EXEC: another gmemkit for the sub-benchmarks
		 * (tests/bench.t plays a failing io-bench with it). */
		execv(getenv("GMEMKIT_BENCH_EXEC") ? getenv("GMEMKIT_BENCH_EXEC") :
		      "/proc/self/exe", argv);
		_exit(127);
	}
	close(fd[1]);
	while ((r = read(fd[0], buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (n + 1 == cap) {
			char *t = realloc(buf, cap *= 2);

			if (!t)
				break;
			buf = t;
		}
	}
	close(fd[0]);
	buf[n] = 0;
	waitpid(pid, &status, 0);
	last_line(err, why, why_len);
	fclose(err);
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Run a sub-benchmark and parse its JSON; NULL and the reason in why[] on
 * failure. */
static struct json *run_json_why(char *const argv[], char *why, size_t len)
{
	char *out = NULL, err[400];
	struct json *j = NULL;
	size_t at;
	int st = run_self(argv, &out, err, sizeof(err));

	if (st)
		snprintf(why, len, "exited with %d: %s", st, err[0] ? err : "(no message)");
	else if (!(j = json_parse(out, &at)))
		snprintf(why, len, "printed bad JSON at byte %zu", at);
	free(out);
	return j;
}

__attribute__((format(printf, 2, 3)))
static void skip(struct report_data *d, const char *fmt, ...)
{
	char msg[sizeof(d->skipped[0])];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_err("skipped or failed: %s\n", msg);
	if (d->nskipped == REPORT_MAX_SKIPPED) {
		d->nskipped_lost++;
		return;
	}
	memcpy(d->skipped[d->nskipped++], msg, sizeof(msg));
}

/* A failed sub-benchmark is reported once, in the terminal and the report. */
static struct json *run_json(struct report_data *d, char *const argv[])
{
	char why[280];
	struct json *j = run_json_why(argv, why, sizeof(why));

	if (!j)
		skip(d, "%s failed: %s", argv[1], why);
	return j;
}

/* A mode's bit in --modes: its index among the modes the sweep runs. */
#define SWEPT(m)	(1U << BENCH_IO_SWEEP_##m)

/* The in-place modes also run over every other usable conversion transport
 * (the default one is what auto resolves to: hypercall where its exits reach
 * the VMM, else doorbell); the others are doorbell (if auto is hypercall)
 * and queue (wherever an ioeventfd works). */
#define INPLACE_MODES	(SWEPT(INPLACE) | SWEPT(INPLACE_BATCH) | SWEPT(ADAPTIVE) | \
			 SWEPT(INPLACE_SCATTER))

static unsigned int extra_transports(const struct report_data *d, const struct report_opts *o,
				     const char **out)
{
	unsigned int n = 0;

	bool hc = json_num(d->probe, "hypercall_exit_probe", 0) == 1;

	/* The default run already covers what auto resolves to: hypercall
	 * where its exits reach the VMM (then doorbell is the extra one),
	 * else doorbell (and hypercall is not usable). */
	if ((o->transports & REPORT_TR_BIT(GMEM_ABI_TRANSPORT_DOORBELL)) && hc)
		out[n++] = gmem_abi_transport_name(GMEM_ABI_TRANSPORT_DOORBELL);
	if ((o->transports & REPORT_TR_BIT(GMEM_ABI_TRANSPORT_QUEUE)) &&
	    json_num(d->probe, "queue", 0))
		out[n++] = gmem_abi_transport_name(GMEM_ABI_TRANSPORT_QUEUE);
	return n;
}

#define DISK_SIZE	(1ULL << 30)	/* sparse image for the file backend */

static bool mode_has_pool(unsigned int m)
{
	return m == BENCH_IO_SWEEP_BOUNCE || m == BENCH_IO_SWEEP_ADAPTIVE;
}

/*
 * The sweep: its io-bench points in the order they run.  A group is the
 * points of one (backend, block size, qd, vCPUs): its modes and transports
 * run interleaved, repetition by repetition (shared, bounce, ..., then
 * again), so that the ratios between them are taken between runs measured
 * side by side.
 */
#define MAX_POINTS	REPORT_MAX_IO

struct point {
	unsigned char mode, bs, qd, vcpus, backend, tr;	/* tr 0: the default */
	unsigned char plat;		/* enum plat: 0 ideal */
	unsigned char model;		/* enum vmm_conv_model: 0 lazy */
};

/*
 * The variants of the in-place modes on the verdict's backend, over the
 * platform's own call path (tr 0): every other platform profile
 * (docs/platforms.md), adaptive included (it chooses among that platform's
 * paths), and on ideal the eager model and 2 MiB pages (huge where enough
 * are free: make bench reserves them).  The main tables keep to ideal on
 * the lazy model; report_platform.c reads the variants.
 */
#define MODEL_MODES	(SWEPT(INPLACE) | SWEPT(INPLACE_BATCH))
#define PLAT_MODES	(MODEL_MODES | SWEPT(ADAPTIVE))

struct variant {
	unsigned char plat, model;
	unsigned int modes;
};

static const struct variant variants[] = {
	{ PLAT_PKVM, VMM_CONV_LAZY, PLAT_MODES }, { PLAT_TDX, VMM_CONV_LAZY, PLAT_MODES },
	{ PLAT_SNP, VMM_CONV_LAZY, PLAT_MODES }, { PLAT_CCA, VMM_CONV_LAZY, PLAT_MODES },
	{ PLAT_IDEAL, VMM_CONV_EAGER, MODEL_MODES }, { PLAT_IDEAL, VMM_CONV_HUGE, MODEL_MODES },
};
#define NVARIANTS	(sizeof(variants) / sizeof(variants[0]))

struct sweep {
	struct point pt[MAX_POINTS];
	unsigned int n;
	const char *trs[GMEM_ABI_TRANSPORT_MAX - 1];	/* the extra transports, tr 1.. */
	unsigned int ntr;
	unsigned int dups;		/* configurations asked for twice, run once */
};

static bool same_group(const struct point *a, const struct point *b)
{
	return a->backend == b->backend && a->bs == b->bs && a->qd == b->qd &&
	       a->vcpus == b->vcpus;
}

static void add_point(struct sweep *sw, const struct report_opts *o, struct point p)
{
	unsigned int i;

	/* The same configuration twice (a queue depth or vCPU count given
	 * twice) runs once. */
	for (i = 0; i < sw->n; i++) {
		const struct point *q = &sw->pt[i];

		if (o->qd[q->qd] == o->qd[p.qd] && o->vcpus[q->vcpus] == o->vcpus[p.vcpus] &&
		    q->backend == p.backend && q->bs == p.bs && q->mode == p.mode &&
		    q->tr == p.tr && q->plat == p.plat && q->model == p.model) {
			sw->dups++;
			return;
		}
	}
	if (sw->n < MAX_POINTS)
		sw->pt[sw->n++] = p;
}

/* Can io-bench run this size on 2 MiB pages here (free pages enough)? */
static bool huge_fits(unsigned int mode, unsigned int bs_kib)
{
	struct bench_io_config c = { .mode = (enum gmem_abi_io_mode)0, .qd = 32, .vcpus = 1,
				     .bs = bs_kib * 1024ULL, .conv_model = VMM_CONV_HUGE };
	struct gmem_abi_io_config io;
	long free_pages = gmem_huge_pages_free();

	if (bench_io_mode_from_name(bench_io_sweep_names[mode], &c.mode) || free_pages <= 0)
		return false;
	bench_io_abi_config(&io, &c);
	return (long)(gmem_abi_io_mem_size(&io, 1) / GMEM_HUGE_PAGE_SIZE) <= free_pages;
}

/* The variants of mode m at size b on the verdict's backend (tr 0). */
static void add_variants(struct sweep *sw, const struct report_opts *o, struct point p)
{
	unsigned int i;

	if (!o->variants || (1U << p.backend) != BENCH_VERDICT_BACKEND || p.tr ||
	    o->qd[p.qd] != 32 || o->vcpus[p.vcpus] != 1)
		return;
	for (i = 0; i < NVARIANTS; i++) {
		if (!(variants[i].modes & (1U << p.mode)) ||
		    (variants[i].model == VMM_CONV_HUGE && !huge_fits(p.mode, block_kib[p.bs])))
			continue;
		p.plat = variants[i].plat;
		p.model = variants[i].model;
		add_point(sw, o, p);
	}
}

/* The verdict's backend first, then the others; within each, size by size. */
static void build_sweep(struct sweep *sw, const struct report_data *d,
			const struct report_opts *o, unsigned int backends)
{
	unsigned int order[REPORT_NBACKENDS], nb = 0, k, b, q, v, m, t;

	memset(sw, 0, sizeof(*sw));
	sw->ntr = extra_transports(d, o, sw->trs);
	if (backends & BENCH_VERDICT_BACKEND)
		order[nb++] = (unsigned int)__builtin_ctz(BENCH_VERDICT_BACKEND);
	for (k = 0; k < REPORT_NBACKENDS; k++)
		if ((backends & (1U << k)) && (1U << k) != BENCH_VERDICT_BACKEND)
			order[nb++] = k;
	for (k = 0; k < nb; k++)
		for (b = 0; b < REPORT_NBS; b++)
			for (q = 0; q < o->nqd; q++)
				for (v = 0; v < o->nvcpus; v++)
					for (m = 0; m < BENCH_IO_SWEEP_MODES; m++)
						for (t = 0; t <= sw->ntr; t++) {
							/* t 0: the default transport, first
							 * (DEFAULT_TR, report/report_internal.h) */
							if (!(o->sizes & (1U << b)) ||
							    !(o->modes & (1U << m)) ||
							    (t && !(INPLACE_MODES & (1U << m))))
								continue;
							add_point(sw, o, (struct point){
								.mode = m, .bs = b, .qd = q,
								.vcpus = v, .backend = order[k],
								.tr = t });
							add_variants(sw, o, (struct point){
								.mode = m, .bs = b, .qd = q,
								.vcpus = v, .backend = order[k],
								.tr = t });
						}
}

/* What a point is called in the terminal and the report. */
static void point_name(char *buf, size_t len, const struct sweep *sw,
		       const struct report_opts *o, const struct point *p)
{
	snprintf(buf, len, "%s bs=%uk qd=%u vcpus=%u backend=%s%s%s%s%s%s%s",
		 bench_io_sweep_names[p->mode], block_kib[p->bs], o->qd[p->qd], o->vcpus[p->vcpus],
		 report_backends[p->backend], p->tr ? " transport=" : "",
		 p->tr ? sw->trs[p->tr - 1] : "", p->plat ? " platform=" : "",
		 p->plat ? plat_name((enum plat)p->plat) : "", p->model ? " conv-model=" : "",
		 p->model ? vmm_conv_model_name((enum vmm_conv_model)p->model) : "");
}

struct run_ctx {
	const struct sweep *sw;
	const struct report_opts *o;
	const char *disk;
	struct progress *prog;
};

/* One io-bench run of p: its document, or NULL after saying why once. */
static struct json *run_point(struct report_data *d, const struct run_ctx *c,
			      const struct point *p, const char *label)
{
	char bs[16], qd[8], vc[8], rt[16], pool[24], what[200], why[200];
	const struct report_opts *o = c->o;
	const char *be = report_backends[p->backend];
	char *argv[32] = { "gmemkit", "io-bench", "--json", "--mode",
			   (char *)bench_io_sweep_names[p->mode], "--bs", bs, "--qd", qd,
			   "--vcpus", vc, "--backend",
			   (char *)(strncmp(be, "file", 4) ? be : "file"),
			   "--runtime", rt, "--rw", "randread" };
	unsigned int n = 17;
	const struct json *res;
	struct json *j;
	double t;

	snprintf(bs, sizeof(bs), "%uk", block_kib[p->bs]);
	snprintf(qd, sizeof(qd), "%u", o->qd[p->qd]);
	snprintf(vc, sizeof(vc), "%u", o->vcpus[p->vcpus]);
	snprintf(rt, sizeof(rt), "%g", o->io_runtime);
	snprintf(pool, sizeof(pool), "%llu", (unsigned long long)o->pool_size);
	if (!strncmp(be, "file", 4)) {
		argv[n++] = "--disk";
		argv[n++] = (char *)c->disk;
		if (!strcmp(be, "file-direct"))
			argv[n++] = "--direct";
	}
	if (mode_has_pool(p->mode)) {
		argv[n++] = "--pool-size";
		argv[n++] = pool;
	}
	if (p->tr) {
		argv[n++] = "--transport";
		argv[n++] = (char *)c->sw->trs[p->tr - 1];
	}
	if (p->plat) {
		argv[n++] = "--platform";
		argv[n++] = (char *)plat_name((enum plat)p->plat);
	}
	if (p->model) {
		argv[n++] = "--conv-model";
		argv[n++] = (char *)vmm_conv_model_name((enum vmm_conv_model)p->model);
	}
	argv[n] = NULL;
	point_name(what, sizeof(what), c->sw, o, p);
	progress(c->prog, true, "io-bench %s%s", what, label);
	t = now_s();
	j = run_json_why(argv, why, sizeof(why));
	t = now_s() - t;
	c->prog->io_done++;
	if (c->prog->left[p->bs])
		c->prog->left[p->bs]--;
	if (j) {
		c->prog->ovh_s[p->bs] += fmax(0, t - o->io_runtime);
		c->prog->ovh_n[p->bs]++;
	}
	if (!j) {
		skip(d, "io-bench %s: %s", what, why);
		return NULL;
	}
	res = json_get(j, "results");
	if (!o->emulated_ok && res && res->child &&
	    !bench_io_num(res->child, BIO_F_GUEST_NATIVE, 0)) {
		skip(d, "io-bench %s: the guest ran emulated (%s): kept out of the verdict "
		     "(--emulated-ok keeps it, labelled)", what,
		     bench_io_str(res->child, BIO_F_GUEST_SPEED, "not measured"));
		json_free(j);
		return NULL;
	}
	return j;
}

static double doc_iops(const struct json *doc)
{
	const struct json *r = report_results(doc);

	return r && r->child ? bench_io_num(r->child, BIO_F_IOPS, 0) : 0;
}

/*
 * Runs of a point: o->reps for the verdict's points (its backend, qd 32,
 * 1 vCPU, ideal on the lazy model, every transport) and for adaptive on
 * every platform there (its 0.9x target is judged per platform, on the
 * median of as many runs); at most VARIANT_REPS for the rest: the
 * in-place platform and model variants (their slowest points, 1 MiB on
 * pkvm and cca, drain for longer than they run: five runs each put the
 * verdict's sweep over its 15 minutes) and --full's other backends, queue
 * depths and vCPU counts (five runs each put --full over two hours on a
 * 2-core host).
 */
#define VARIANT_REPS	3U

static bool verdict_config(const struct report_opts *o, const struct point *p)
{
	return (1U << p->backend) == BENCH_VERDICT_BACKEND && o->qd[p->qd] == 32 &&
	       o->vcpus[p->vcpus] == 1;
}

static bool verdict_point(const struct report_opts *o, const struct point *p)
{
	return !p->plat && !p->model && verdict_config(o, p);
}

static unsigned int point_reps(const struct report_opts *o, const struct point *p)
{
	bool all = verdict_point(o, p) ||
		   (p->mode == BENCH_IO_SWEEP_ADAPTIVE && !p->model && verdict_config(o, p));

	return !all && o->reps > VARIANT_REPS ? VARIANT_REPS : o->reps;
}

/* Runs of the points [i, j) of the sweep. */
static unsigned int sweep_runs(const struct report_opts *o, const struct sweep *sw,
			       unsigned int i, unsigned int j)
{
	unsigned int n = 0;

	for (; i < j; i++)
		n += point_reps(o, &sw->pt[i]);
	return n;
}

/* The runs of one group's points, point_reps() each, interleaved. */
struct group_runs {
	struct json *runs[REPORT_MAX_REPS];
	double ceil[REPORT_MAX_REPS];
	bool remeasured[REPORT_MAX_REPS];
	unsigned int n;
	bool failed;			/* a run failed: the point ends there */
};

/*
 * A protected mode measured above its shared ceiling in a repetition is
 * noise (nothing protected beats the unprotected path): measure the pair
 * again once, side by side, and keep the new run with the ceiling measured
 * beside it.  The report leaves a run still above out of its ratios.
 */
static void remeasure(struct report_data *d, const struct run_ctx *c, const struct point *pt,
		      struct group_runs *g, unsigned int np, unsigned int s)
{
	char label[48];
	unsigned int i, r;

	for (i = 0; i < np; i++)
		for (r = 0; i != s && r < g[i].n && r < g[s].n; r++) {
			struct json *js, *ji;

			if (!(doc_iops(g[i].runs[r]) > doc_iops(g[s].runs[r])))
				continue;
			c->prog->steps += 2;
			c->prog->left[pt[s].bs] += 2;
			d->remeasures++;
			snprintf(label, sizeof(label), " (run %u again: above its ceiling)", r + 1);
			js = run_point(d, c, &pt[s], label);
			ji = js ? run_point(d, c, &pt[i], label) : NULL;
			if (ji) {
				json_free(g[i].runs[r]);
				g[i].runs[r] = ji;
				g[i].ceil[r] = doc_iops(js);
				g[i].remeasured[r] = true;
			}
			json_free(js);
		}
}

/* Runs the group's points; returns how many of them succeeded at least once. */
static unsigned int run_group(struct report_data *d, const struct run_ctx *c,
			      const struct point *pt, unsigned int np)
{
	struct group_runs *g = calloc(np, sizeof(*g));
	unsigned int i, r, s = np, ok = 0;
	char label[32];

	if (!g) {
		skip(d, "io-bench: out of memory");
		return 0;
	}
	for (i = 0; i < np; i++) {
		for (r = 0; r < REPORT_MAX_REPS; r++)
			g[i].ceil[r] = NAN;
		if (pt[i].mode == 0 && !pt[i].tr && !pt[i].plat && !pt[i].model)
			s = i;
	}
	for (r = 0; r < c->o->reps; r++)
		for (i = 0; i < np; i++) {
			unsigned int n = point_reps(c->o, &pt[i]);
			struct json *j;

			if (g[i].failed || r >= n)
				continue;
			snprintf(label, sizeof(label), " run %u/%u", r + 1, n);
			j = run_point(d, c, &pt[i], label);
			if (!j) {
				/* the next runs would fail the same way */
				g[i].failed = true;
				d->io_failed++;
				c->prog->steps -= n - r - 1;
				c->prog->left[pt[i].bs] -= n - r - 1;
				continue;
			}
			g[i].runs[g[i].n++] = j;
		}
	if (s < np)
		remeasure(d, c, pt, g, np, s);
	for (i = 0; i < np; i++) {
		report_add_io_runs(d, g[i].runs, g[i].n, g[i].ceil, g[i].remeasured);
		ok += g[i].n > 0;
		for (r = 0; r < g[i].n; r++)
			json_free(g[i].runs[r]);
	}
	free(g);
	return ok;
}

static void run_io(struct report_data *d, const struct report_opts *o,
		   const struct sweep *sw, struct progress *p)
{
	char disk[64] = "";
	struct run_ctx c = { .sw = sw, .o = o, .disk = disk, .prog = p };
	unsigned int i, j, k, tried = 0, dead = 0, left[REPORT_NBACKENDS] = { 0 };

	d->interleaved = true;
	for (k = 0; k < sw->n && strncmp(report_backends[sw->pt[k].backend], "file", 4); k++)
		;
	if (k < sw->n && blk_disk_create(disk, sizeof(disk), "/var/tmp", DISK_SIZE)) {
		skip(d, "io-bench file backend: cannot create a disk image in /var/tmp");
		disk[0] = 0;
	}
	for (i = 0; i < sw->n; i = j) {
		for (j = i + 1; j < sw->n && same_group(&sw->pt[i], &sw->pt[j]); j++)
			;
		k = sw->pt[i].backend;
		/* A backend that failed every point of its first group (one
		 * this io-bench does not have, say) is not tried again. */
		if ((!strncmp(report_backends[k], "file", 4) && !disk[0]) || (dead & (1U << k))) {
			p->steps -= sweep_runs(o, sw, i, j);
			p->left[sw->pt[i].bs] -= sweep_runs(o, sw, i, j);
			left[k] += j - i;
			continue;
		}
		if (!run_group(d, &c, &sw->pt[i], j - i) && !(tried & (1U << k)))
			dead |= 1U << k;
		tried |= 1U << k;
	}
	for (k = 0; k < REPORT_NBACKENDS; k++)
		if ((dead & (1U << k)) && left[k])
			skip(d, "io-bench backend %s: every point of its first group failed "
			     "(above); its other %u points not run", report_backends[k], left[k]);
	if (*disk)
		unlink(disk);
}

static bool have_command(const char *name)
{
	return cli_find_command(name) != NULL;
}

/* The host parts' estimated seconds (measured on profile K: convert-bench
 * about 1 s, bounce-bench about 4 s at 200 reps). */
#define CONVERT_S(quick)	((quick) ? 1.0 : 2.0)
#define BOUNCE_S(quick)		((quick) ? 2.0 : 6.0)

/* The estimate before anything ran: every run at its size's prior. */
static void plan_progress(struct progress *p, const struct report_opts *o,
			  const struct sweep *sw)
{
	unsigned int i;

	p->runtime = o->io_runtime;
	p->fixed_left = CONVERT_S(o->quick) + BOUNCE_S(o->quick);
	p->steps = sweep_runs(o, sw, 0, sw->n);
	for (i = 0; i < sw->n; i++)
		p->left[sw->pt[i].bs] += point_reps(o, &sw->pt[i]);
}

/* The sweep, its size and what it should take, before it runs. */
static void print_plan(const struct report_opts *o, const struct sweep *sw, bool list)
{
	struct progress p = { 0 };
	char t[32], what[200];
	unsigned int i;

	if (list)
		for (i = 0; i < sw->n; i++) {
			point_name(what, sizeof(what), sw, o, &sw->pt[i]);
			printf("point %s\n", what);
		}
	plan_progress(&p, o, sw);
	fmt_dur(t, sizeof(t), time_left(&p));
	fprintf(list ? stdout : stderr,
		"%s sweep: %u io-bench points x %u runs (in-place variants and points "
		"off the verdict's configuration %u) = %u runs of %g s (+ %.2f-%.2f s "
		"each to start the VM and drain, by block size, measured on profile K), "
		"plus the host model (convert-bench, bounce-bench): estimated %s%s\n",
		report_sweep_name(o), sw->n, o->reps, o->reps < VARIANT_REPS ? o->reps : VARIANT_REPS,
		sweep_runs(o, sw, 0, sw->n), o->io_runtime,
		run_overhead_s[0], run_overhead_s[REPORT_NBS - 1], t,
		sw->dups ? "; configurations asked for twice run once" : "");
}

static void run_all(struct report_data *d, const struct report_opts *o)
{
	char reps[16];
	char *probe[] = { "gmemkit", "probe", "--json", NULL };
	char *conv[] = { "gmemkit", "convert-bench", "--json", "--reps", reps,
			 "--pages", "1,4,16,64,256,512", NULL };
	char pool[24];
	char *bounce[] = { "gmemkit", "bounce-bench", "--json", "--reps", reps,
			   "--pool-size", pool, NULL };
	bool io = have_command("io-bench"), run_io_ok;
	struct progress p = { .t0 = now_s(), .runtime = o->io_runtime };
	struct sweep *sw = calloc(1, sizeof(*sw));

	if (!sw) {
		skip(d, "bench: out of memory");
		return;
	}
	snprintf(reps, sizeof(reps), "%u", o->quick ? 30 : 200);	/* both benches */
	snprintf(pool, sizeof(pool), "%llu", (unsigned long long)o->pool_size);
	p.fixed_left = CONVERT_S(o->quick) + BOUNCE_S(o->quick);
	progress(&p, false, "probe");
	d->probe = run_json(d, probe);
	report_read_probe(d);
	/* Only now is it known whether the guest sweep runs: where KVM works
	 * and the probe guest was measured to run natively. */
	run_io_ok = io && d->kvm && (!d->emulated || o->emulated_ok);
	if (run_io_ok) {
		build_sweep(sw, d, o, o->backends);
		print_plan(o, sw, false);
		plan_progress(&p, o, sw);
	}
	progress(&p, false, "convert-bench (reps %s)", reps);
	d->convert = run_json(d, conv);
	p.fixed_left -= CONVERT_S(o->quick);
	if (have_command("bounce-bench")) {
		progress(&p, false, "bounce-bench (reps %s)", reps);
		d->bounce = run_json(d, bounce);
	} else {
		skip(d, "bounce-bench: not built into this gmemkit");
	}
	p.fixed_left = 0;
	if (!io)
		skip(d, "io-bench: not built into this gmemkit");
	else if (!d->kvm)
		skip(d, "io-bench: /dev/kvm is not usable here (%s); the guest I/O path "
			"runs in the test VM only, emulated, which is never a verdict "
			"(tools/testvm build/gmemkit io-bench ...)", d->kvm_error);
	else if (d->emulated && !o->emulated_ok)
		skip(d, "io-bench: the guest does not run natively here (measured: %s): "
			"numbers would be functional only (--emulated-ok runs it anyway, "
			"labelled)", d->guest_speed);
	if (run_io_ok)
		run_io(d, o, sw, &p);
	d->sweep_s = now_s() - p.t0;
	fmt_dur(reps, sizeof(reps), d->sweep_s);
	fprintf(stderr, "%s sweep done in %s (%u io-bench runs, %u measured again)\n",
		report_sweep_name(o), reps, p.io_done, d->remeasures);
	free(sw);
}

/* --plan: the probe, then the sweep it would run; nothing measured. */
static int plan_only(const struct report_opts *o)
{
	char *probe[] = { "gmemkit", "probe", "--json", NULL };
	struct report_data *d = calloc(1, sizeof(*d));
	struct sweep *sw = calloc(1, sizeof(*sw));
	int err = 0;

	if (!d || !sw) {
		err = 1;
		goto out;
	}
	d->probe = run_json(d, probe);
	report_read_probe(d);
	if (!d->kvm || (d->emulated && !o->emulated_ok))
		printf("no guest sweep here (%s): the host model only\n",
		       !d->kvm ? "KVM not usable" : "guest emulated");
	else
		build_sweep(sw, d, o, o->backends);
	print_plan(o, sw, true);
out:
	if (d)
		report_free(d);
	free(d);
	free(sw);
	return err;
}

/* ---- command ----------------------------------------------------------- */

static void usage(FILE *f, const struct cli_opt *opts)
{
	char about[1024];

	snprintf(about, sizeof(about),
		 "runs probe, convert-bench, bounce-bench (the host model) and (with KVM) "
		 "the io-bench sweep; writes "
		 "results/<host>-<date>/{results.json,results.csv,report.md,*.svg} "
		 "and prints the verdict.\n"
		 "The default is the verdict's sweep: every mode and transport x every "
		 "--bs on the %s backend, qd 32, 1 vCPU, 5 runs of 0.5 s each (the "
		 "in-place platform and model variants below: 3), the modes of a point interleaved run by run.  On that backend at qd 32, "
		 "1 vCPU, inplace, inplace-batch and adaptive also run on every platform "
		 "profile (pkvm, tdx, snp, cca over their own call path; "
		 "docs/platforms.md), and inplace and inplace-batch on ideal's eager "
		 "conversion model and on 2 MiB pages where enough are free (make bench "
		 "reserves them).",
		 report_backends[__builtin_ctz(BENCH_VERDICT_BACKEND)]);
	cli_usage(f, "gmemkit bench", opts, about, NULL);
}

/* Does dir hold a run already (its results.json)? */
static bool holds_run(const char *dir)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/results.json", dir);
	return !access(path, F_OK);
}

/* results/<host>-<date>[-quick|-full]: a quick or full run never
 * overwrites the verdict's, and no run one that is there already (a
 * committed one, say): the next free -2, -3, ... */
static int default_outdir(char *buf, size_t len, const struct report_opts *o)
{
	char host[64] = "host", base[256];
	time_t t = time(NULL);
	struct tm tm;
	unsigned int i;

	gethostname(host, sizeof(host) - 1);
	localtime_r(&t, &tm);
	if (snprintf(base, sizeof(base), "results/%s-%04d-%02d-%02d%s", host, tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, o->quick ? "-quick" : o->full ? "-full" : "") >=
	    (int)sizeof(base))
		return -1;
	if (snprintf(buf, len, "%s", base) >= (int)len)
		return -1;
	for (i = 2; holds_run(buf); i++) {
		if (i > 99) {
			cli_err("%s and %s-2 .. %s-99 all hold a run: give --out\n", base,
				base, base);
			return -1;
		}
		if (snprintf(buf, len, "%s-%u", base, i) >= (int)len)
			return -1;
	}
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[512], *s;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* --transport's names: a transport at its bit, then default and all. */
#define TR_NAME_AT(id, value, name)	[value - 1] = (name),
#define TR_DEFAULT	(GMEM_ABI_TRANSPORT_MAX - 1)
#define TR_ALL		GMEM_ABI_TRANSPORT_MAX

/* 0 to run, 1 after --help, -EINVAL on a bad option. */
static int parse_args(int argc, char **argv, struct report_opts *o)
{
	/* --transport: REPORT_TR_BIT() per transport, then "default", "all" */
	static const char *const transports[] = {
		GMEM_ABI_TRANSPORTS(TR_NAME_AT)
		[TR_DEFAULT] = "default", [TR_ALL] = "all",
	};
	uint64_t sizes[REPORT_NBS];
	const char *backends_arg = NULL, *compare[2] = { NULL }, *qd_arg = NULL;
	const char *vcpus_arg = NULL, *reps_arg = NULL, *rt_arg = NULL;
	bool no_variants = false;
	const struct cli_opt opts[] = {
		CLI_FLAG("--full", &o->full, .or_next = true,
			 .help = "everything else too: --backends null,file,file-direct,ram, "
				 "--qd 1,32, --vcpus 1,2, runs of 1 s"),
		CLI_FLAG("--quick", &o->quick,
			 .help = "the verdict's sweep, 3 runs of 0.2 s.  An option given "
				 "explicitly overrides what --full or --quick choose"),
		CLI_FLAG("--plan", &o->plan,
			 .help = "prints the points and the estimated time and runs nothing"),
		CLI_UINT("--reps", &o->reps, 1, REPORT_MAX_REPS, .given = &reps_arg,
			 .help = "runs per point (default 5, the platform and model "
				 "variants at most 3; --quick: 3)"),
		CLI_SECONDS("--io-runtime", &o->io_runtime, 0.05, 60, .given = &rt_arg,
			    .help = "seconds per run (default 0.5; --quick: 0.2, --full: 1)"),
		CLI_STRING("--out", &o->outdir, .arg = "DIR",
			   .help = "where the results go (default "
				   "results/<host>-<date>, -quick or -full added for "
				   "those, then -2, -3, ... where a run is there already)"),
		CLI_LIST("--modes", &o->modes, bench_io_sweep_names,
			 .help = "io-bench modes (default all)"),
		CLI_SIZES("--bs", &o->sizes, sizes, .help = "block sizes (default all)"),
		CLI_UINTS("--qd", o->qd, &o->nqd, 1, 64, .given = &qd_arg,
			  .help = "queue depths (default 32; --full: 1,32)"),
		CLI_UINTS("--vcpus", o->vcpus, &o->nvcpus, 1, 8, .given = &vcpus_arg,
			  .help = "vCPU counts (default 1; --full: 1,2)"),
		CLI_LIST("--backends", &o->backends, report_backends, .given = &backends_arg,
			 .help = "io-bench backends (default the verdict's, above; --full: "
				 "all; file-direct: file with O_DIRECT)"),
		/* what bounce-bench and io-bench both take, any vCPU count */
		CLI_SIZE("--pool-size", &o->pool_size, 2ULL << 20, GMEM_ABI_IO_POOL_MAX,
			 .align = 2ULL << 20,
			 .help = "the bounce pool of bounce-bench and of the guest in the "
				 "bounce and adaptive points (default 64M, Linux's swiotlb "
				 "default; SEV/TDX guests use 6% of RAM clamped to [64M, "
				 "1G])"),
		CLI_LIST("--transport", &o->transports, transports,
			 .help = "the in-place modes run over the default conversion "
				 "transport (what auto resolves to) and over each usable "
				 "one of these (default all; 'default': none beyond it): "
				 "doorbell where hypercall is the default, queue where an "
				 "ioeventfd works"),
		CLI_FLAG("--emulated-ok", &o->emulated_ok,
			 .help = "runs the guest sweep on an emulated CPU too (labelled; "
				 "never a verdict)"),
		CLI_FLAG("--no-variants", &no_variants,
			 .help = "leaves out the platform profiles, the eager model and "
				 "the 2 MiB pages runs (above)"),
		CLI_PAIR("--compare", compare, .arg = "A.json B.json", .alone = true,
			 .help = "two saved runs' results.json side by side, point by "
				 "point (B/A)"),
		CLI_STRING("--report-from", &o->report_from, .arg = "DIR/results.json",
			   .alone = true,
			   .help = "a saved run's report files and verdict again, from its "
				   "results.json: written beside it, or in --out DIR"),
		{ 0 }
	};
	char b1[24], b2[24], b3[24], b4[24];
	unsigned int i, b;
	int err;

	for (b = 0; b < REPORT_NBS; b++)
		sizes[b] = block_kib[b] * 1024ULL;
	err = cli_parse(argc, argv, opts, usage);
	if (err)
		return err;
	o->compare_a = compare[0];
	o->compare_b = compare[1];
	o->variants = !no_variants;
	if (o->transports & (1U << TR_ALL))
		o->transports = REPORT_TR_ALL;
	o->transports &= REPORT_TR_ALL;	/* "default": none beyond it */
	if (o->quick && o->full) {
		cli_err("--quick and --full: one or the other\n");
		return -EINVAL;
	}
	/* The verdict's sweep unless --full; what is given stays given. */
	if (!backends_arg)
		o->backends = o->full ? (1U << REPORT_NBACKENDS) - 1 : BENCH_VERDICT_BACKEND;
	if (!qd_arg) {
		o->qd[0] = 32;
		o->qd[1] = 1;
		o->nqd = o->full ? 2 : 1;
	}
	if (!vcpus_arg) {
		o->vcpus[0] = 1;
		o->vcpus[1] = 2;
		o->nvcpus = o->full ? 2 : 1;
	}
	if (o->quick && !reps_arg)
		o->reps = 3;
	if (!rt_arg)
		o->io_runtime = o->quick ? 0.2 : o->full ? 1.0 : 0.5;
	for (i = 0; i < o->nvcpus; i++)
		for (b = 0; b < REPORT_NBS; b++)
			if ((o->sizes & (1U << b)) &&
			    !gmem_abi_io_pool_ok(o->pool_size, sizes[b], o->vcpus[i])) {
				cli_err("--pool-size %s: cannot serve %s blocks on %u vCPUs "
					"(at least %s, a multiple of %s)\n",
					format_size(o->pool_size, b1, sizeof(b1)),
					format_size(sizes[b], b2, sizeof(b2)), o->vcpus[i],
					format_size(gmem_abi_io_pool_min(sizes[b], o->vcpus[i]),
							 b3, sizeof(b3)),
					format_size(gmem_abi_io_pool_unit(o->vcpus[i]),
							 b4, sizeof(b4)));
				return -EINVAL;
			}
	return 0;
}

static int cmd_bench(int argc, char **argv)
{
	struct report_opts o = {
		.reps = 5, .io_runtime = 0.5,
		.modes = (1U << BENCH_IO_SWEEP_MODES) - 1, .sizes = (1U << REPORT_NBS) - 1,
		.transports = REPORT_TR_ALL, .pool_size = GMEM_ABI_IO_POOL_DEFAULT,
	};
	struct report_data *d;
	char outdir[512];
	int err, ret = 0;

	err = parse_args(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (o.compare_a)
		return report_compare(o.compare_a, o.compare_b);
	if (o.report_from)	/* a saved run's report files, again */
		return report_from(o.report_from, o.outdir) ? 1 : 0;
	if (o.plan)
		return plan_only(&o);
	if (o.outdir)
		snprintf(outdir, sizeof(outdir), "%s", o.outdir);
	else if (default_outdir(outdir, sizeof(outdir), &o))
		return 1;
	err = mkdir_p(outdir);
	if (err) {
		cli_err("cannot create '%s': %s\n", outdir,
			strerror(-err));
		return 1;
	}
	d = calloc(1, sizeof(*d));	/* every point's runs: too big for the stack */
	if (!d) {
		cli_err("out of memory\n");
		return 1;
	}
	memcpy(d->block_kib, block_kib, sizeof(block_kib));
	report_pick(d, &o);
	run_all(d, &o);
	report_pick_measured(d);
	if (!d->convert) {
		cli_err("convert-bench failed; no report\n");
		ret = 1;
	} else if (report_write(d, &o, outdir)) {
		ret = 1;
	} else if (d->kvm && (!d->emulated || o.emulated_ok) && d->io_failed && !d->nio) {
		cli_err("KVM is usable here but none of the %u "
			"guest I/O points succeeded (see 'Skipped or failed' in %s/report.md)\n",
			d->io_failed, outdir);
		ret = 1;
	}
	report_free(d);
	free(d);
	return ret;
}

GMEM_COMMAND("bench", cmd_bench,
	     "the verdict's sweep (--full: all of it): results files, plots, verdict");
