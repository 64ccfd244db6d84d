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
#include "gmemkit/json.h"
#include "gmemkit/parse.h"
#include "gmemkit/virtio_blk.h"
#include "report.h"

static const unsigned int block_kib[NBS] = { 4, 16, 64, 256, 1024 };

/* ---- running the sub-benchmarks ---------------------------------------- */

struct progress {
	unsigned int step, steps;
	double t0;
	double done_weight, total_weight;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(struct progress *p, double weight, const char *fmt, ...)
{
	double el = now_s() - p->t0, left = 0;
	va_list ap;

	p->step++;
	if (p->done_weight > 0)
		left = el / p->done_weight * (p->total_weight - p->done_weight);
	fprintf(stderr, "[%u/%u] ", p->step, p->steps);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (p->done_weight > 0)
		fprintf(stderr, "  (%.0f s elapsed, ~%.0f s left)\n", el, left);
	else
		fprintf(stderr, "  (%.0f s elapsed)\n", el);
	p->done_weight += weight;
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
static void skip(struct bench_data *d, const char *fmt, ...)
{
	char msg[sizeof(d->skipped[0])];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_err("skipped or failed: %s\n", msg);
	if (d->nskipped == MAX_SKIPPED) {
		d->nskipped_lost++;
		return;
	}
	memcpy(d->skipped[d->nskipped++], msg, sizeof(msg));
}

/* A failed sub-benchmark is reported once, in the terminal and the report. */
static struct json *run_json(struct bench_data *d, char *const argv[])
{
	char why[280];
	struct json *j = run_json_why(argv, why, sizeof(why));

	if (!j)
		skip(d, "%s failed: %s", argv[1], why);
	return j;
}

/* The in-place modes also run over every other usable conversion transport
 * (the default one is what auto resolves to: hypercall where its exits reach
 * the VMM, else doorbell); the others are doorbell (if auto is hypercall)
 * and queue (wherever an ioeventfd works). */
#define INPLACE_MODES	((1U << 2) | (1U << 3) | (1U << 4) | (1U << 5))	/* inplace, -batch, adaptive, -scatter */

static unsigned int extra_transports(const struct bench_data *d, const struct bench_opts *o,
				     const char **out)
{
	unsigned int n = 0;

	bool hc = json_num(d->probe, "hypercall_exit_probe", 0) == 1;

	/* The default run already covers what auto resolves to: hypercall
	 * where its exits reach the VMM (then doorbell is the extra one),
	 * else doorbell (and hypercall is not usable). */
	if ((o->transports & 1) && hc)
		out[n++] = "doorbell";
	if ((o->transports & 4) && json_num(d->probe, "queue", 0))
		out[n++] = "queue";
	return n;
}

static int io_points(const struct bench_data *d, const struct bench_opts *o)
{
	const char *tr[2];
	int per = __builtin_popcount(o->modes) +
		  __builtin_popcount(o->modes & INPLACE_MODES) *
		  (int)extra_transports(d, o, tr);

	return per * __builtin_popcount(o->sizes) *
	       (int)(o->nqd * o->nvcpus) * __builtin_popcount(o->backends);
}

/* One io-bench point, o->reps runs; every run's record is kept.  A run
 * that fails ends the point (the next would fail the same way): it is
 * reported once, with its reason.  A run whose guest was measured not to
 * run natively is kept out of the verdict unless --emulated-ok. */
static void run_io_point(struct bench_data *d, const struct bench_opts *o,
			 char *const argv[], const char *what)
{
	struct json *runs[MAX_REPS];
	unsigned int r, n = 0;
	char why[200];

	for (r = 0; r < o->reps; r++) {
		struct json *j = run_json_why(argv, why, sizeof(why));
		const struct json *res;

		if (!j) {
			d->io_failed++;
			skip(d, "io-bench %s: %s", what, why);
			break;
		}
		res = json_get(j, "results");
		if (!o->emulated_ok && res && res->child &&
		    !json_num(res->child, "guest_native", 0)) {
			d->io_failed++;
			skip(d, "io-bench %s: the guest ran emulated (%s): kept out of "
			     "the verdict (--emulated-ok keeps it, labelled)", what,
			     json_str(res->child, "guest_speed", "not measured"));
			json_free(j);
			break;
		}
		runs[n++] = j;
	}
	report_add_io_runs(d, runs, n);
	for (r = 0; r < n; r++)
		json_free(runs[r]);
}

#define DISK_SIZE	(1ULL << 30)	/* sparse image for the file backend */

static const char *const modes[NMODES] = {
	"shared", "bounce", "inplace", "inplace-batch", "adaptive", "inplace-scatter",
	"persistent" };
static const char *const backends[2] = { "null", "file" };

static bool mode_has_pool(unsigned int m)
{
	return !strcmp(modes[m], "bounce") || !strcmp(modes[m], "adaptive");
}

static void run_io(struct bench_data *d, const struct bench_opts *o,
		   struct progress *p)
{
	char bs[16], qd[8], vc[8], rt[16], pool[24], disk[64] = "", what[160];
	unsigned int m, b, q, v, k, t, ntr, be = o->backends;
	const char *trs[3] = { NULL };

	snprintf(rt, sizeof(rt), "%g", o->io_runtime);
	snprintf(pool, sizeof(pool), "%llu", (unsigned long long)o->pool_size);
	ntr = extra_transports(d, o, trs);
	if ((be & 2) && blk_disk_create(disk, sizeof(disk), "/var/tmp", DISK_SIZE)) {
		skip(d, "io-bench file backend: cannot create a disk image in /var/tmp");
		be &= ~2U;
	}
	for (k = 0; k < 2; k++)
		for (b = 0; b < NBS; b++)
			for (q = 0; q < o->nqd; q++)
				for (v = 0; v < o->nvcpus; v++)
					for (m = 0; m < NMODES; m++)
					for (t = 0; t <= ntr; t++) {
						/* t 0: the default transport; first,
						 * so the report's tables find it
						 * (DEFAULT_TR, report_internal.h). */
						char *argv[24] = { "gmemkit", "io-bench", "--json",
							(char *)"--mode", (char *)modes[m], "--bs", bs,
							"--qd", qd, "--vcpus", vc, "--backend",
							(char *)backends[k], "--runtime", rt,
							"--rw", "randread" };
						unsigned int n = 17;

						if (!(be & (1U << k)) || !(o->sizes & (1U << b)) ||
						    !(o->modes & (1U << m)) ||
						    (t && !(INPLACE_MODES & (1U << m))))
							continue;
						if (k) {
							argv[n++] = "--disk";
							argv[n++] = disk;
						}
						if (mode_has_pool(m)) {
							argv[n++] = "--pool-size";
							argv[n++] = pool;
						}
						if (t) {
							argv[n++] = "--transport";
							argv[n++] = (char *)trs[t - 1];
						}
						argv[n] = NULL;
						snprintf(bs, sizeof(bs), "%uk", block_kib[b]);
						snprintf(qd, sizeof(qd), "%u", o->qd[q]);
						snprintf(vc, sizeof(vc), "%u", o->vcpus[v]);
						snprintf(what, sizeof(what),
							 "%s bs=%s qd=%s vcpus=%s backend=%s%s%s",
							 modes[m], bs, qd, vc, backends[k],
							 t ? " transport=" : "", t ? trs[t - 1] : "");
						progress(p, o->io_runtime * o->reps,
							 "io-bench %s", what);
						run_io_point(d, o, argv, what);
					}
	if (*disk)
		unlink(disk);
}

static bool have_command(const char *name)
{
	return cli_find_command(name) != NULL;
}

static void run_all(struct bench_data *d, const struct bench_opts *o)
{
	char reps[16];
	char *probe[] = { "gmemkit", "probe", "--json", NULL };
	char *conv[] = { "gmemkit", "convert-bench", "--json", "--reps", reps,
			 "--pages", "1,4,16,64,256,512", NULL };
	char pool[24];
	char *bounce[] = { "gmemkit", "bounce-bench", "--json", "--reps", reps,
			   "--pool-size", pool, NULL };
	bool io = have_command("io-bench"), run_io_ok;
	struct progress p = { .t0 = now_s() };

	snprintf(reps, sizeof(reps), "%u", o->quick ? 30 : 200);	/* both benches */
	snprintf(pool, sizeof(pool), "%llu", (unsigned long long)o->pool_size);
	p.steps = 2 + have_command("bounce-bench");
	p.total_weight = 1 + (o->quick ? 3 : 15) + (o->quick ? 1 : 7);
	progress(&p, 1, "probe");
	d->probe = run_json(d, probe);
	report_read_probe(d);
	/* Only now is it known whether the guest sweep runs: where KVM works
	 * and the probe guest was measured to run natively. */
	run_io_ok = io && d->kvm && (!d->emulated || o->emulated_ok);
	if (run_io_ok) {
		p.steps += (unsigned int)io_points(d, o);
		p.total_weight += io_points(d, o) * o->io_runtime * o->reps;
	}
	progress(&p, o->quick ? 3 : 15, "convert-bench (reps %s)", reps);
	d->convert = run_json(d, conv);
	if (have_command("bounce-bench")) {
		progress(&p, o->quick ? 1 : 7, "bounce-bench (reps %s)", reps);
		d->bounce = run_json(d, bounce);
	} else {
		skip(d, "bounce-bench: not built into this gmemkit");
	}
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
		run_io(d, o, &p);
}

/* ---- command ----------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gmemkit bench [--quick] [--reps N] [--io-runtime SECONDS] [--out DIR]\n"
		"                     [--modes LIST] [--bs LIST] [--qd LIST] [--vcpus LIST]\n"
		"                     [--backends LIST] [--pool-size SIZE] [--transport LIST]\n"
		"                     [--emulated-ok]\n"
		"       gmemkit bench --compare A.json B.json\n"
		"       gmemkit bench --report-from DIR/results.json [--out DIR]\n"
		"  runs probe, convert-bench, bounce-bench and (with KVM) the io-bench sweep;\n"
		"  writes results/<host>-<date>/{results.json,results.csv,report.md,*.svg}\n"
		"  and prints the verdict.  The sweep: --modes of shared,bounce,inplace,\n"
		"  inplace-batch,adaptive,inplace-scatter,persistent (all); --bs of\n"
		"  4k,16k,64k,256k,1m (all); --qd (1,32); --vcpus (1,2); --backends\n"
		"  null,file (both; --quick: null).\n"
		"  --pool-size SIZE: the bounce pool of bounce-bench and of the guest in\n"
		"  the bounce and adaptive points (default 64M, Linux's swiotlb default;\n"
		"  SEV/TDX guests use 6%% of RAM clamped to [64M, 1G]).\n"
		"  The in-place modes run over the default conversion transport (what auto\n"
		"  resolves to) and over each usable one of --transport doorbell,hypercall,\n"
		"  queue (all, the default; 'default': none beyond it): doorbell where\n"
		"  hypercall is the default, queue where an ioeventfd works.\n"
		"  --emulated-ok runs the guest sweep on an emulated CPU too (labelled;\n"
		"  never a verdict).\n");
}

/* results/<host>-<date>[-quick]: a quick run never overwrites a full one. */
static int default_outdir(char *buf, size_t len, bool quick)
{
	char host[64] = "host";
	time_t t = time(NULL);
	struct tm tm;

	gethostname(host, sizeof(host) - 1);
	localtime_r(&t, &tm);
	return snprintf(buf, len, "results/%s-%04d-%02d-%02d%s", host, tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, quick ? "-quick" : "") >= (int)len ? -1 : 0;
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

/* 0 to run, 1 after --help, -EINVAL on a bad option. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const char *const transports[] = { "doorbell", "hypercall", "queue",
						   "default", "all" };
	uint64_t sizes[NBS];
	const char *backends_arg = NULL, *compare[2] = { NULL };
	const struct cli_opt opts[] = {
		CLI_FLAG("--quick", &o->quick),
		CLI_FLAG("--emulated-ok", &o->emulated_ok),
		CLI_LIST("--modes", &o->modes, modes),
		CLI_LIST("--backends", &o->backends, backends, .given = &backends_arg),
		CLI_SIZES("--bs", &o->sizes, sizes),
		CLI_UINTS("--qd", o->qd, &o->nqd, 1, 64),
		CLI_UINTS("--vcpus", o->vcpus, &o->nvcpus, 1, 8),
		CLI_UINT("--reps", &o->reps, 1, MAX_REPS),
		CLI_SECONDS("--io-runtime", &o->io_runtime, 0.05, 60),
		CLI_LIST("--transport", &o->transports, transports),
		/* what bounce-bench and io-bench both take, any vCPU count */
		CLI_SIZE("--pool-size", &o->pool_size, 2ULL << 20, GMEM_ABI_IO_POOL_MAX,
			 .align = 2ULL << 20),
		CLI_STRING("--out", &o->outdir),
		CLI_STRING("--report-from", &o->report_from),
		CLI_PAIR("--compare", compare),
		{ 0 }
	};
	char b1[24], b2[24], b3[24], b4[24];
	unsigned int i, b;
	int err;

	for (b = 0; b < NBS; b++)
		sizes[b] = block_kib[b] * 1024ULL;
	err = cli_parse(argc, argv, opts, usage);
	if (err)
		return err;
	o->compare_a = compare[0];
	o->compare_b = compare[1];
	if (o->transports & 16)
		o->transports = 7;
	o->transports &= 7;	/* "default": none beyond it */
	if (o->quick && !backends_arg)
		o->backends = 1;
	for (i = 0; i < o->nvcpus; i++)
		for (b = 0; b < NBS; b++)
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
	struct bench_opts o = {
		.reps = 5, .io_runtime = 0.5,
		.modes = (1U << NMODES) - 1, .sizes = (1U << NBS) - 1, .backends = 3,
		.transports = 7,
		.qd = { 1, 32 }, .nqd = 2, .vcpus = { 1, 2 }, .nvcpus = 2,
		.pool_size = GMEM_ABI_IO_POOL_DEFAULT,
	};
	struct bench_data d = { 0 };
	char outdir[512];
	int err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (o.compare_a)
		return report_compare(o.compare_a, o.compare_b);
	if (o.report_from)	/* a saved run's report files, again */
		return report_from(o.report_from, o.outdir) ? 1 : 0;
	if (o.quick) {
		o.reps = o.reps > 3 ? 3 : o.reps;
		o.io_runtime = 0.2;
	}
	if (o.outdir)
		snprintf(outdir, sizeof(outdir), "%s", o.outdir);
	else if (default_outdir(outdir, sizeof(outdir), o.quick))
		return 1;
	err = mkdir_p(outdir);
	if (err) {
		cli_err("cannot create '%s': %s\n", outdir,
			strerror(-err));
		return 1;
	}
	memcpy(d.block_kib, block_kib, sizeof(block_kib));
	report_pick(&d, &o);
	run_all(&d, &o);
	if (!d.convert) {
		cli_err("convert-bench failed; no report\n");
		report_free(&d);
		return 1;
	}
	err = report_write(&d, &o, outdir);
	report_free(&d);
	if (err)
		return 1;
	if (d.kvm && (!d.emulated || o.emulated_ok) && d.io_failed && !d.nio) {
		cli_err("KVM is usable here but none of the %u "
			"guest I/O points succeeded (see 'Skipped or failed' in %s/report.md)\n",
			d.io_failed, outdir);
		return 1;
	}
	return 0;
}

GMEM_COMMAND("bench", cmd_bench,
	     "the whole sweep: results files, plots and the verdict");
