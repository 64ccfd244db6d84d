// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit convert-bench: what a private<->shared round trip costs.
 *
 * roundtrip: gmem_share(), the host writes one byte per page through the
 *            host view, gmem_unshare() - in place and destructive.  The
 *            unshare revokes the host's mapping (lib/gmem_backend.c), so
 *            each write after the share is a page fault, as upstream
 *            in-place conversion makes the host pay;
 * baseline:  the bare pair on the same mapping: mprotect(RW), the same
 *            writes, mprotect(NONE): a permission flip, no fault (the
 *            lower bound docs/design.md names).
 * The region is guest_memfd where the host maps it (probed), memfd
 * otherwise.  Each for 1, 16 and 512 pages, with the process idle (the
 * lower bound) and with vCPU-like threads running in it (one per other
 * online CPU, at most 3), so every revocation needs a TLB shootdown to
 * them: the figure a VMM whose vCPUs run pays.
 * All configurations are measured interleaved, rep by rep, in one run.
 * Target check: 1-page in place within 1.2x of the baseline; 512 pages at
 * most 1/30 of 512 single-page round trips.
 *
 * guest_roundtrip / exit_roundtrip (where KVM works): the same round trip
 * requested by a real guest through each working transport and timed by
 * the guest, and an empty doorbell round trip (vmm/vm_bench.c).  The queue
 * transport twice: converter polling and converter asleep (every request
 * kicks it); per conversion, the host time inside gmem_share/unshare and
 * the CPU time the converter thread burnt (CLOCK_THREAD_CPUTIME_ID over
 * the series, so a polling converter's idle spinning counts).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "cmd.h"
#include "gmemkit/gmem.h"
#include "gmemkit/probe.h"
#include "gmemkit/timing.h"
#include "gmemkit/bench_convert.h"
#include "gmemkit/vm.h"

#define MAX_PAGES	512

#define MAX_PC	8
#define MAX_BUSY	3

enum op { OP_ROUNDTRIP, OP_BASELINE };

struct config {
	enum op op;
	enum gmem_mode mode;
	unsigned int pages;
	unsigned int threads;		/* busy threads: 0 or b->nbusy */
	uint64_t *samples;
	struct timing_summary sum;
};

struct bench {
	struct gmem *region[3];		/* per mode; [2]: the baseline's own */
	struct config cfg[2 * 3 * MAX_PC];
	unsigned int ncfg;
	unsigned int pc[MAX_PC];	/* page counts measured */
	unsigned int npc;
	unsigned int reps;
	atomic_bool stop;
	pthread_t busy[MAX_BUSY];
	unsigned int nbusy, running;
	int kvm_fd, vm_fd;		/* for guest_memfd; -1 if not used */
	bool force_memfd;		/* --backing memfd */
	struct bench_convert_row guest[64];	/* guest-observed ops */
	int nguest;
	int guest_err;
	unsigned int transports;	/* bit per enum vmm_transport; 0 all */
	int conv_poll_us;		/* 0 default */
};

/* Keeps another CPU running in this address space, as a vCPU thread
 * does: a TLB flush of the process must reach it. */
static void *busy_thread(void *arg)
{
	struct bench *b = arg;
	char buf[1 << 14];
	unsigned int i = 0;

	memset(buf, 0, sizeof(buf));
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		buf[(i++ * 64) & (sizeof(buf) - 1)]++;
		__asm__ volatile("" : : "r"(buf) : "memory");
	}
	return NULL;
}

static void touch(uint8_t *p, unsigned int pages)
{
	unsigned int i;

	for (i = 0; i < pages; i++)
		((volatile uint8_t *)p)[i * GMEM_PAGE_SIZE] = (uint8_t)i;
}

/* One timed sample of one configuration; 0 on error. */
static uint64_t sample(struct bench *b, struct config *c, int *err)
{
	struct gmem *g = b->region[c->op == OP_BASELINE ? 2 : c->mode];
	uint64_t len = (uint64_t)c->pages * GMEM_PAGE_SIZE, t0, t1;
	uint8_t *v = gmem_host_view(g);

	if (c->op == OP_BASELINE) {
		t0 = timing_now_ns();
		if (mprotect(v, len, PROT_READ | PROT_WRITE))
			*err = -errno;
		touch(v, c->pages);
		if (mprotect(v, len, PROT_NONE))
			*err = -errno;
		t1 = timing_now_ns();
		return t1 - t0;
	}
	t0 = timing_now_ns();
	*err = gmem_share(g, 0, len);
	if (*err)
		return 0;
	touch(v, c->pages);
	*err = gmem_unshare(g, 0, len);
	t1 = timing_now_ns();
	return t1 - t0;
}

static void add(struct bench *b, enum op op, enum gmem_mode mode,
		unsigned int pages, unsigned int threads)
{
	b->cfg[b->ncfg++] = (struct config){
		.op = op, .mode = mode, .pages = pages, .threads = threads,
	};
}

/* A VM to create guest_memfd from, where the probe says it maps. */
static int open_vm(struct bench *b, const struct probe_host_caps *caps)
{
	b->kvm_fd = b->vm_fd = -1;
	if (!caps->kvm || !caps->guest_memfd_mmap || b->force_memfd)
		return 0;
	b->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (b->kvm_fd < 0)
		return -errno;
	b->vm_fd = ioctl(b->kvm_fd, KVM_CREATE_VM, 0);
	return b->vm_fd < 0 ? -errno : 0;
}

static int setup(struct bench *b, const struct probe_host_caps *caps)
{
	struct gmem_config gc = { .size = MAX_PAGES * GMEM_PAGE_SIZE };
	unsigned int i, t, m;
	int err;

	err = open_vm(b, caps);
	if (err)
		return err;
	gc.vm_fd = b->vm_fd;
	gc.backing = b->vm_fd >= 0 ? GMEM_BACKING_GUEST_MEMFD : GMEM_BACKING_MEMFD;
	/* The baseline's region is never converted through gmem: its pages
	 * stay mapped, so it measures the bare permission flip. */
	for (m = 0; m < 3; m++) {
		gc.mode = m == 1 ? GMEM_MODE_DESTRUCTIVE : GMEM_MODE_INPLACE;
		gc.name = m == 2 ? "bench-baseline" : m ? "bench-destructive" : "bench-inplace";
		err = gmem_create(&gc, &b->region[m]);
		if (err)
			return err;
	}
	for (t = 0; t < 2; t++)
		for (i = 0; i < b->npc; i++) {
			add(b, OP_BASELINE, GMEM_MODE_INPLACE, b->pc[i], t * b->nbusy);
			add(b, OP_ROUNDTRIP, GMEM_MODE_INPLACE, b->pc[i], t * b->nbusy);
			add(b, OP_ROUNDTRIP, GMEM_MODE_DESTRUCTIVE, b->pc[i], t * b->nbusy);
		}
	for (i = 0; i < b->ncfg; i++) {
		b->cfg[i].samples = calloc(b->reps, sizeof(uint64_t));
		if (!b->cfg[i].samples)
			return -ENOMEM;
	}
	return 0;
}

static void stop_busy(struct bench *b);

static void teardown(struct bench *b)
{
	unsigned int i;

	stop_busy(b);
	for (i = 0; i < b->ncfg; i++)
		free(b->cfg[i].samples);
	gmem_destroy(b->region[0]);
	gmem_destroy(b->region[1]);
	gmem_destroy(b->region[2]);
	if (b->vm_fd >= 0)
		close(b->vm_fd);
	if (b->kvm_fd >= 0)
		close(b->kvm_fd);
}

static int start_busy(struct bench *b)
{
	atomic_store(&b->stop, false);
	for (b->running = 0; b->running < b->nbusy; b->running++)
		if (pthread_create(&b->busy[b->running], NULL, busy_thread, b))
			return -EAGAIN;
	return 0;
}

static void stop_busy(struct bench *b)
{
	atomic_store(&b->stop, true);
	while (b->running)
		pthread_join(b->busy[--b->running], NULL);
}

/* Fisher-Yates shuffle of 0..n-1 with a fixed-seed xorshift. */
static void shuffle(unsigned int *order, unsigned int n, uint64_t *rng)
{
	unsigned int i, j, t;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		j = (unsigned int)(*rng % (i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* One rep of every configuration with `threads` busy threads, in a fresh
 * random order, so that no configuration always follows the same one (a
 * destructive 512-page round trip leaves work behind that would otherwise
 * always land on its successor). */
static int run_group(struct bench *b, unsigned int threads, unsigned int r)
{
	unsigned int i, n = b->ncfg / 2, base = threads ? n : 0;
	unsigned int order[sizeof(b->cfg) / sizeof(b->cfg[0])];
	static uint64_t rng = 0x2545f4914f6cdd1dULL;
	int err = 0;

	shuffle(order, n, &rng);
	if (threads && (err = start_busy(b)))
		return err;
	for (i = 0; i < n && !err; i++) {
		struct config *c = &b->cfg[base + order[i]];

		c->samples[r] = sample(b, c, &err);
	}
	stop_busy(b);
	return err;
}

static int run(struct bench *b)
{
	unsigned int r, i;
	int err = 0;

	/* Warm up: fault every page in once in both regions. */
	for (i = 0; i < b->ncfg && !err; i++)
		sample(b, &b->cfg[i], &err);
	for (r = 0; r < b->reps && !err; r++) {
		err = run_group(b, 0, r);
		if (!err)
			err = run_group(b, 1, r);
	}
	for (i = 0; i < b->ncfg; i++)
		timing_summarize(b->cfg[i].samples, b->reps, &b->cfg[i].sum);
	return err;
}

static const char *op_name(enum op op)
{
	return op == OP_BASELINE ? "baseline" : "roundtrip";
}

static const char *mode_name(const struct config *c)
{
	if (c->op == OP_BASELINE)
		return "none";
	return c->mode == GMEM_MODE_INPLACE ? "inplace" : "destructive";
}

static const struct config *find(const struct bench *b, enum op op,
				 enum gmem_mode mode, unsigned int pages,
				 unsigned int threads)
{
	unsigned int i;

	for (i = 0; i < b->ncfg; i++) {
		const struct config *c = &b->cfg[i];

		if (c->op == op && c->pages == pages && c->threads == threads &&
		    (op == OP_BASELINE || c->mode == mode))
			return c;
	}
	return NULL;
}

static void print_targets(const struct bench *b)
{
	unsigned int t;

	if (!find(b, OP_BASELINE, 0, 1, 0) || !find(b, OP_BASELINE, 0, 512, 0))
		return;	/* the targets are defined on 1 and 512 pages */
	printf("\ntargets (this run):\n");
	for (t = 0; t <= b->nbusy; t += b->nbusy) {
		const struct config *rt1 = find(b, OP_ROUNDTRIP, GMEM_MODE_INPLACE, 1, t);
		const struct config *bl1 = find(b, OP_BASELINE, 0, 1, t);
		const struct config *rt512 = find(b, OP_ROUNDTRIP, GMEM_MODE_INPLACE, 512, t);
		const struct config *bl512 = find(b, OP_BASELINE, 0, 512, t);
		double r1 = (double)rt1->sum.p50 / (double)bl1->sum.p50;
		double r512 = (double)rt512->sum.p50 / (512.0 * (double)rt1->sum.p50);
		double f512 = (double)bl512->sum.p50 / (512.0 * (double)bl1->sum.p50);

		printf("  %u busy thread(s): 1-page in-place / baseline = %.2fx (target <= 1.20x): %s\n",
		       t, r1, r1 <= 1.2 ? "met" : "NOT met");
		printf("  %u busy thread(s): 512-page / (512 x 1-page) = 1/%.1f (target <= 1/30): %s\n",
		       t, 1.0 / r512, r512 <= 1.0 / 30 ? "met" : "NOT met");
		printf("  %u busy thread(s):   same ratio for bare mprotect = 1/%.1f "
		       "(the floor this host's page-table updates allow)\n", t, 1.0 / f512);
	}
}

static void print_table(const struct bench *b)
{
	unsigned int i;

	printf("%-10s %-12s %6s %7s %12s %12s %12s %9s\n", "op", "mode", "pages",
	       "threads", "ns_min", "ns_median", "ns/page", "vs_base");
	for (i = 0; i < b->ncfg; i++) {
		const struct config *c = &b->cfg[i];
		const struct config *bl = find(b, OP_BASELINE, 0, c->pages, c->threads);

		printf("%-10s %-12s %6u %7u %12llu %12llu %12.0f %8.2fx\n", op_name(c->op),
		       mode_name(c), c->pages, c->threads,
		       (unsigned long long)c->sum.min, (unsigned long long)c->sum.p50,
		       (double)c->sum.p50 / c->pages,
		       (double)c->sum.p50 / (double)bl->sum.p50);
	}
}

/* Guest-observed rows, both modes; none (and the reason) without KVM. */
static void run_guest(struct bench *b)
{
	unsigned int reps = b->reps > 100000 ? 100000 : b->reps;
	int n, m;

	n = bench_convert_opts(GMEM_MODE_INPLACE, reps, b->transports,
				       b->conv_poll_us, b->guest, 64);
	if (n < 0) {
		b->guest_err = n;
		return;
	}
	m = bench_convert_opts(GMEM_MODE_DESTRUCTIVE, reps, b->transports,
				       b->conv_poll_us, b->guest + n,
				       64 - (unsigned int)n);
	if (m < 0) {
		b->guest_err = m;
		return;
	}
	b->nguest = n + m;
}

static void print_guest_table(const struct bench *b)
{
	const struct bench_convert_row *r;
	int i;

	if (b->guest_err) {
		printf("\nguest_roundtrip / exit_roundtrip: not measured: %s\n",
		       b->guest_err == -ENODEV ? "no usable /dev/kvm" :
		       strerror(-b->guest_err));
		return;
	}
	printf("\nguest-observed (TSC in the guest, calibrated against host time);\n"
	       "per conversion over the series: host_ns = time inside gmem_share/unshare,\n"
	       "cpu_ns = converter thread CPU (queue only), kicks = ioeventfd exits\n"
	       "(rows without conversions: per sample):\n");
	printf("%-16s %-12s %-10s %-9s %6s %7s %12s %12s %9s %9s %7s\n", "op", "mode",
	       "transport", "converter", "pages", "poll_us", "ns_min", "ns_median",
	       "host_ns", "cpu_ns", "kicks");
	for (i = 0; i < b->nguest; i++) {
		double c;

		r = &b->guest[i];
		/* per conversion; rows without any (kick, exit): per sample */
		c = r->conversions ? (double)r->conversions :
		    r->samples ? (double)r->samples : 1;
		printf("%-16s %-12s %-10s %-9s %6llu %7u %12llu %12llu %9.0f %9.0f %7.2f\n",
		       r->op, r->mode, r->transport, r->converter,
		       (unsigned long long)r->pages, r->poll_us,
		       (unsigned long long)r->ns_min, (unsigned long long)r->ns_median,
		       r->host_ns / c, r->conv_cpu_ns / c, r->kicks / c);
	}
}

static const struct bench_convert_row *find_op(const struct bench *b, const char *op,
					       const char *tr, const char *conv,
					       uint64_t pages)
{
	int i;

	for (i = 0; i < b->nguest; i++) {
		const struct bench_convert_row *r = &b->guest[i];

		if (!strcmp(r->op, op) && !strcmp(r->mode, "inplace") &&
		    !strcmp(r->transport, tr) && !strcmp(r->converter, conv) &&
		    r->pages == pages)
			return r;
	}
	return NULL;
}

static const struct bench_convert_row *find_guest(const struct bench *b,
						  const char *tr, const char *conv,
						  uint64_t pages)
{
	return find_op(b, "guest_roundtrip", tr, conv, pages);
}

/* The queue targets (issue: exitless conversion), on this run's numbers. */
static void print_queue_targets(const struct bench *b)
{
	const struct config *host = find(b, OP_ROUNDTRIP, GMEM_MODE_INPLACE, 1, 0);
	const struct bench_convert_row *p = find_guest(b, "queue", "polling", 1);
	const struct bench_convert_row *a = find_guest(b, "queue", "asleep", 1);
	const struct bench_convert_row *d = find_guest(b, "doorbell", "-", 1);
	const struct bench_convert_row *k = find_op(b, "queue_kick", "queue", "asleep", 0);

	if (!host || (!p && !a))
		return;
	printf("\nqueue transport (this run, 1 page, in place, medians):\n");
	if (p) {
		double x = (double)p->ns_median / (double)host->sum.p50;

		double hw = p->conversions ? 2.0 * p->host_ns / p->conversions : 0;

		printf("  converter polling: guest round trip %llu ns = %.2fx the host-only "
		       "round trip (%llu ns, which also touches the page; target <= 1.50x): "
		       "%s; %.2fx the host work inside this guest run (%.0f ns); converter "
		       "CPU %.0f ns per conversion\n", (unsigned long long)p->ns_median, x,
		       (unsigned long long)host->sum.p50, x <= 1.5 ? "met" : "NOT met",
		       hw > 0 ? p->ns_median / hw : 0, hw,
		       p->conversions ? (double)p->conv_cpu_ns / p->conversions : 0);
	}
	if (a) {
		double hw = a->conversions ? 2.0 * a->host_ns / a->conversions : 0;

		double per = a->ns_median / 2.0, lim = k ? k->ns_median + hw / 2 : 0;

		printf("  converter asleep: guest round trip %llu ns for 2 conversions, "
		       "%.2f kicks each; host work %.0f ns per round trip; the rest, %.0f ns "
		       "per conversion, is kick + wakeup + ring\n",
		       (unsigned long long)a->ns_median,
		       a->conversions ? (double)a->kicks / a->conversions : 0, hw,
		       per - hw / 2);
		if (k)
			printf("  converter asleep: %.0f ns per conversion against one kick "
			       "(%llu ns, measured in the same run) + host work (%.0f ns) = "
			       "%.0f ns (target: at most that): %s (%.2fx%s)\n", per,
			       (unsigned long long)k->ns_median, hw / 2, lim,
			       per <= lim ? "met" : "NOT met", per / lim,
			       per <= lim ? "" : "; the excess is the converter's wakeup");
	}
	if (d)
		printf("  doorbell for comparison: %llu ns (two userspace exits)\n",
		       (unsigned long long)d->ns_median);
}

static const char *backing_name(const struct bench *b)
{
	return gmem_backing(b->region[0]) == GMEM_BACKING_GUEST_MEMFD ? "guest_memfd" : "memfd";
}

static void print_json(const struct bench *b, const struct probe_host_caps *caps)
{
	unsigned int i;
	int j;

	printf("{\"host\":{\"kernel\":\"%s\",\"cpu\":\"%s\",\"emulated\":%s},"
	       "\"reps\":%u,\"backing\":\"%s\",\"busy_threads\":%u,\"revoke\":true,"
	       "\"results\":[", caps->kernel, caps->cpu_model,
	       caps->emulated ? "true" : "false", b->reps, backing_name(b), b->nbusy);
	for (i = 0; i < b->ncfg; i++) {
		const struct config *c = &b->cfg[i];

		printf("%s{\"op\":\"%s\",\"mode\":\"%s\",\"pages\":%u,\"threads\":%u,"
		       "\"ns_min\":%llu,\"ns_median\":%llu,\"ns_max\":%llu}",
		       i ? "," : "", op_name(c->op), mode_name(c), c->pages, c->threads,
		       (unsigned long long)c->sum.min, (unsigned long long)c->sum.p50,
		       (unsigned long long)c->sum.max);
	}
	for (j = 0; j < b->nguest; j++) {
		const struct bench_convert_row *r = &b->guest[j];

		printf(",{\"op\":\"%s\",\"mode\":\"%s\",\"pages\":%llu,\"threads\":%u,"
		       "\"ns_min\":%llu,\"ns_median\":%llu,\"ns_max\":%llu,"
		       "\"transport\":\"%s\",\"converter\":\"%s\",\"poll_us\":%u,"
		       "\"conversions\":%llu,\"host_ns\":%llu,\"conv_cpu_ns\":%llu,"
		       "\"kicks\":%llu,\"wall_ns\":%llu}", r->op, r->mode,
		       (unsigned long long)r->pages, r->threads,
		       (unsigned long long)r->ns_min, (unsigned long long)r->ns_median,
		       (unsigned long long)r->ns_max, r->transport, r->converter,
		       r->poll_us, (unsigned long long)r->conversions,
		       (unsigned long long)r->host_ns, (unsigned long long)r->conv_cpu_ns,
		       (unsigned long long)r->kicks, (unsigned long long)r->wall_ns);
	}
	printf("]}\n");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gmemkit convert-bench [--json] [--reps N] [--pages N,N,...]\n"
		   "                             [--backing auto|memfd] [--transport LIST]\n"
		   "                             [--conv-poll-us N]\n"
		   "  round trip share + touch + unshare for 1, 16, 512 pages (or --pages,\n"
		   "  at most %d counts of 1..%d), in place and destructive, against bare\n"
		   "  mprotect (baseline); the unshare revokes the host's mapping, so the\n"
		   "  touch after each share faults the pages in again (as upstream in-place\n"
		   "  guest_memfd conversion); guest_memfd where the host maps it, else memfd\n"
		   "  (--backing memfd: memfd anyway, for comparison).\n"
		   "  Each with the process idle (threads 0: the lower bound) and with one\n"
		   "  vCPU-like busy thread per other online CPU (at most %d: every flush is\n"
		   "  a TLB shootdown to them, the headline figure).\n"
		   "  With KVM the guest-observed round trip through each --transport of\n"
		   "  doorbell,hypercall,queue (default: every usable one), queue with the\n"
		   "  converter polling (--conv-poll-us, default %d; 0: only asleep) and asleep\n",
		MAX_PC, MAX_PAGES, MAX_BUSY, VMM_CONV_POLL_US_DEFAULT);
}

static int cmd_convert_bench(int argc, char **argv)
{
	/* --transport: a bit per enum vmm_transport; auto is not a choice */
	static const char *const transports[] = {
		[VMM_TRANSPORT_HYPERCALL] = "hypercall",
		[VMM_TRANSPORT_DOORBELL] = "doorbell",
		[VMM_TRANSPORT_QUEUE] = "queue",
	};
	static const char *const backings[] = { "auto", "memfd" };
	struct bench *b;
	struct probe_host_caps caps;
	bool json = false;
	unsigned int reps = 200, backing = 0, us = 0;
	const char *us_arg = NULL;
	int err;

	b = calloc(1, sizeof(*b));
	if (!b)
		return 1;
	b->pc[0] = 1;
	b->pc[1] = 16;
	b->pc[2] = 512;
	b->npc = 3;
	{
		const struct cli_opt opts[] = {
			CLI_FLAG("--json", &json),
			CLI_UINT("--reps", &reps, 3, 1000000),
			CLI_UINTS("--pages", b->pc, &b->npc, 1, MAX_PAGES),
			CLI_LIST("--transport", &b->transports, transports),
			CLI_UINT("--conv-poll-us", &us, 0, VMM_CONV_POLL_US_MAX,
				 .given = &us_arg),
			CLI_CHOICE("--backing", &backing, backings),
			{ 0 }
		};

		err = cli_parse(argc, argv, opts, usage);
	}
	if (err) {
		free(b);
		return err > 0 ? 0 : 2;
	}
	b->force_memfd = backing == 1;
	if (us_arg)
		b->conv_poll_us = us ? (int)us : VMM_CONV_POLL_OFF;
	probe_host(&caps);
	b->reps = reps;
	{
		long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;

		b->nbusy = n < 1 ? 1 : n > MAX_BUSY ? MAX_BUSY : (unsigned int)n;
	}
	err = setup(b, &caps);
	if (!err)
		err = run(b);
	if (!err)
		run_guest(b);
	if (err) {
		cli_err("%s\n", strerror(-err));
	} else if (json) {
		print_json(b, &caps);
	} else {
		printf("convert-bench: %u reps, host %s, cpu %s, backing %s, %u vCPU-like "
		       "busy thread(s) in the 'threads %u' rows\n", reps, caps.kernel,
		       caps.cpu_model, backing_name(b), b->nbusy, b->nbusy);
		if (caps.emulated)
			printf("NOTE: emulated CPU: these numbers are functional only, not a verdict\n");
		print_table(b);
		print_guest_table(b);
		print_targets(b);
		print_queue_targets(b);
	}
	teardown(b);
	free(b);
	return err ? 1 : 0;
}

GMEM_COMMAND("convert-bench", cmd_convert_bench,
	     "private<->shared round trip cost vs bare mprotect");
