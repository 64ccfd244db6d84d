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
#include "gmemkit/json.h"
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

/* Run this binary with argv; the child's stdout comes back in *out. */
static int run_self(char *const argv[], char **out)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int fd[2], status;
	ssize_t r;
	pid_t pid;

	if (!buf || pipe(fd)) {
		free(buf);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		free(buf);
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (!pid) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		execv("/proc/self/exe", argv);
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
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Run a sub-benchmark and parse its JSON; NULL (and a message) on failure. */
static struct json *run_json(char *const argv[])
{
	char *out = NULL;
	struct json *j = NULL;
	size_t at;
	int st = run_self(argv, &out);

	if (st)
		fprintf(stderr, "gmemkit bench: '%s %s' exited with %d\n", argv[0], argv[1], st);
	else if (!(j = json_parse(out, &at)))
		fprintf(stderr, "gmemkit bench: '%s' printed bad JSON at byte %zu\n",
			argv[1], at);
	free(out);
	return j;
}

static void skip(struct bench_data *d, const char *fmt, ...)
{
	va_list ap;

	if (d->nskipped == MAX_SKIPPED)
		return;
	va_start(ap, fmt);
	vsnprintf(d->skipped[d->nskipped++], sizeof(d->skipped[0]), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gmemkit bench: skipped: %s\n", d->skipped[d->nskipped - 1]);
}

static int io_points(const struct bench_opts *o)
{
	return NMODES * NBS * 2 * 2 * (o->quick ? 1 : 2);
}

/* One io-bench point, o->reps runs; every run's record is kept. */
static void run_io_point(struct bench_data *d, const struct bench_opts *o,
			 char *const argv[])
{
	struct json *runs[MAX_REPS];
	unsigned int r, n = 0;

	for (r = 0; r < o->reps; r++) {
		struct json *j = run_json(argv);

		if (j)
			runs[n++] = j;
	}
	report_add_io_runs(d, runs, n);
	for (r = 0; r < n; r++)
		json_free(runs[r]);
}

#define DISK_SIZE	(1ULL << 30)

/* A sparse disk image for the file backend, removed at exit of the sweep. */
static int make_disk(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/var/tmp/gmemkit-bench-disk-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)DISK_SIZE)) {
		int err = -errno;

		close(fd);
		unlink(path);
		return err;
	}
	close(fd);
	return 0;
}

static void run_io(struct bench_data *d, const struct bench_opts *o,
		   struct progress *p)
{
	static const char *modes[NMODES] = {
		"shared", "bounce", "inplace", "inplace-batch", "adaptive" };
	static const char *backends[2] = { "null", "file" };
	char bs[16], qd[8], vc[8], rt[16], disk[64] = "";
	unsigned int m, b, q, v, k, nb = o->quick ? 1 : 2;

	snprintf(rt, sizeof(rt), "%g", o->io_runtime);
	if (nb > 1 && make_disk(disk, sizeof(disk))) {
		skip(d, "io-bench file backend: cannot create a disk image in /var/tmp");
		nb = 1;
	}
	for (k = 0; k < nb; k++)
		for (b = 0; b < NBS; b++)
			for (q = 0; q < 2; q++)
				for (v = 0; v < 2; v++)
					for (m = 0; m < NMODES; m++) {
						char *argv[] = { "gmemkit", "io-bench", "--json",
							"--mode", (char *)modes[m], "--bs", bs,
							"--qd", qd, "--vcpus", vc, "--backend",
							(char *)backends[k], "--runtime", rt,
							"--rw", "randread",
							k ? "--disk" : NULL, disk, NULL };

						snprintf(bs, sizeof(bs), "%uk", block_kib[b]);
						snprintf(qd, sizeof(qd), "%u", q ? 32 : 1);
						snprintf(vc, sizeof(vc), "%u", v + 1);
						progress(p, o->io_runtime * o->reps,
							 "io-bench %s bs=%s qd=%s vcpus=%s backend=%s",
							 modes[m], bs, qd, vc, backends[k]);
						run_io_point(d, o, argv);
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
	char *bounce[] = { "gmemkit", "bounce-bench", "--json", "--reps", reps, NULL };
	bool io = have_command("io-bench");
	struct progress p = { .t0 = now_s() };

	snprintf(reps, sizeof(reps), "%u", o->quick ? 30 : 200);	/* both benches */
	p.steps = 2 + have_command("bounce-bench") +
		  (io && d->kvm ? (unsigned int)io_points(o) : 0);
	p.total_weight = 1 + (o->quick ? 3 : 15) + (o->quick ? 1 : 7) +
			 (io && d->kvm ? io_points(o) * o->io_runtime * o->reps : 0);

	progress(&p, 1, "probe");
	d->probe = run_json(probe);
	report_read_probe(d);
	progress(&p, o->quick ? 3 : 15, "convert-bench (reps %s)", reps);
	d->convert = run_json(conv);
	if (have_command("bounce-bench")) {
		progress(&p, o->quick ? 1 : 7, "bounce-bench (reps %s)", reps);
		d->bounce = run_json(bounce);
	} else {
		skip(d, "bounce-bench: not built into this gmemkit");
	}
	if (!io)
		skip(d, "io-bench: not built into this gmemkit");
	else if (!d->kvm)
		skip(d, "io-bench: /dev/kvm is not usable here (%s); the guest I/O path "
			"runs in the test VM only, emulated, which is never a verdict "
			"(tools/testvm build/gmemkit io-bench ...)", d->kvm_error);
	else if (d->emulated)
		skip(d, "io-bench: emulated CPU (%s): numbers are functional only", d->cpu);
	if (io && d->kvm && !d->emulated)
		run_io(d, o, &p);
}

/* ---- command ----------------------------------------------------------- */

static int usage(FILE *f, int ret)
{
	fprintf(f,
		"usage: gmemkit bench [--quick] [--reps N] [--io-runtime SECONDS] [--out DIR]\n"
		"       gmemkit bench --compare A.json B.json\n"
		"  runs probe, convert-bench, bounce-bench and (with KVM) the io-bench sweep;\n"
		"  writes results/<host>-<date>/{results.json,results.csv,report.md,*.svg}\n"
		"  and prints the verdict\n");
	return ret;
}

static int default_outdir(char *buf, size_t len)
{
	char host[64] = "host";
	time_t t = time(NULL);
	struct tm tm;

	gethostname(host, sizeof(host) - 1);
	localtime_r(&t, &tm);
	return snprintf(buf, len, "results/%s-%04d-%02d-%02d", host, tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday) >= (int)len ? -1 : 0;
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

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o->quick = true;
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			if (cli_parse_uint("--reps", argv[++i], 1, 100, &o->reps))
				return 2;
		} else if (!strcmp(argv[i], "--io-runtime") && i + 1 < argc) {
			char *end;

			o->io_runtime = strtod(argv[++i], &end);
			if (*end || !(o->io_runtime >= 0.05 && o->io_runtime <= 60)) {
				fprintf(stderr, "gmemkit: --io-runtime: '%s' is not a number of "
					"seconds in [0.05, 60]\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			o->outdir = argv[++i];
		} else if (!strcmp(argv[i], "--compare") && i + 2 < argc) {
			o->compare_a = argv[++i];
			o->compare_b = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			return usage(stdout, 0) - 1;
		} else {
			fprintf(stderr, "gmemkit bench: unknown option or missing value '%s'\n",
				argv[i]);
			return usage(stderr, 2);
		}
	}
	return 0;
}

static int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = { .reps = 5, .io_runtime = 0.5 };
	struct bench_data d = { 0 };
	char outdir[512];
	int err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err < 0 ? 0 : err;
	if (o.compare_a)
		return report_compare(o.compare_a, o.compare_b);
	if (o.quick) {
		o.reps = o.reps > 3 ? 3 : o.reps;
		o.io_runtime = 0.2;
	}
	if (o.outdir)
		snprintf(outdir, sizeof(outdir), "%s", o.outdir);
	else if (default_outdir(outdir, sizeof(outdir)))
		return 1;
	err = mkdir_p(outdir);
	if (err) {
		fprintf(stderr, "gmemkit bench: cannot create '%s': %s\n", outdir,
			strerror(-err));
		return 1;
	}
	memcpy(d.block_kib, block_kib, sizeof(block_kib));
	run_all(&d, &o);
	if (!d.convert) {
		fprintf(stderr, "gmemkit bench: convert-bench failed; no report\n");
		report_free(&d);
		return 1;
	}
	err = report_write(&d, &o, outdir);
	report_free(&d);
	return err ? 1 : 0;
}

GMEM_COMMAND("bench", cmd_bench,
	     "the whole sweep: results files, plots and the verdict");
