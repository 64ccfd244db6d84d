// SPDX-License-Identifier: GPL-2.0
/*
 * Stress run of the I/O path: host threads run the guest's own I/O
 * workload and virtio-blk driver (harness/guest_host.h) against the real
 * device, gmem and bounce pool.  The model and the checks are described in
 * harness/stress.h.
 *
 * Guest RAM is laid out as the VMM lays it out for an I/O run
 * (gmemkit/abi.h: boot info, results and vCPU pages shared, the pool
 * shared for the driver's rings and headers, the test area private until
 * the workload shares its part), sized by gmem_abi_io_mem_size(); the
 * converter's scratch area (private at first) follows it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "gmemkit/abi.h"
#include "gmemkit/bench_io.h"
#include "gmemkit/bounce.h"
#include "gmemkit/gmem.h"
#include "gmemkit/timing.h"
#include "gmemkit/virtio.h"
#include "gmemkit/virtio_blk.h"
#include "harness/blk_fault.h"
#include "harness/guest_host.h"
#include "harness/stress.h"
#include "harness/violation.h"

#define PG		GMEM_ABI_PAGE_SIZE
#define SCRATCH_PAGES	256U
#define DRAIN_NS	(10ULL * 1000000000ULL)
#define DEFAULT_BS	(64ULL << 10)
#define DEFAULT_DISK	(64ULL << 20)

struct stress {
	struct stress_config cfg;
	struct stress_result *res;
	struct bench_io_config io;	/* the workload, as io-bench would run it */
	struct gmem_abi_io_config abi;	/* its boot_info.io */
	struct gmem *g;
	uint8_t *mem;			/* memslot mapping: the guest's view */
	uint64_t mem_size, scratch_gpa;
	struct vblk *b;
	struct virtio_mmio_dev *m;
	struct blk_backend *be;		/* what the device got */
	bool faulty, verify, bound;
	int notify_fd;
	pthread_t th[STRESS_MAX_THREADS], conv;
	unsigned int started;
	atomic_bool stop_conv;
	uint64_t conv_rng;
	uint8_t scratch_model[SCRATCH_PAGES];
	uint64_t scratch_convs;
	uint64_t conv_base;		/* gmem conversions before the run */
	atomic_uint_fast64_t failures;
	pthread_mutex_t fail_lock;
	char first_failure[256];
	char path[64];
};

/* The run the driver's register accesses go to: one at a time. */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stress *cur;

__attribute__((format(printf, 2, 3)))
static void failf(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&s->failures, 1) == 0) {
		pthread_mutex_lock(&s->fail_lock);
		va_start(ap, fmt);
		vsnprintf(s->first_failure, sizeof(s->first_failure), fmt, ap);
		va_end(ap);
		pthread_mutex_unlock(&s->fail_lock);
	}
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

static void pause_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/* ---- the guest driver's registers (guest/gblk.h, hosted) ------------------------ */

uint32_t gblk_mmio_read(uint32_t off)
{
	uint32_t v = 0;

	virtio_mmio_access(cur->m, off, &v, 4, false);
	return v;
}

void gblk_mmio_write(uint32_t off, uint32_t v)
{
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY)
		eventfd_write(cur->notify_fd, 1);	/* what KVM_IOEVENTFD does */
	else
		virtio_mmio_access(cur->m, off, &v, 4, true);
}

/* ---- the converter: its own scratch pages, racing the workload ------------------ */

static void scratch_op(struct stress *s)
{
	uint64_t r = rnd(&s->conv_rng), gpa;
	unsigned int first = (unsigned int)(r % SCRATCH_PAGES), n, i;
	bool share = (r >> 20) & 1;
	int ret;

	n = 1 + (unsigned int)((r >> 32) % 32);
	if (first + n > SCRATCH_PAGES)
		n = SCRATCH_PAGES - first;
	gpa = s->scratch_gpa + first * PG;
	ret = share ? gmem_share(s->g, gpa, n * PG) : gmem_unshare(s->g, gpa, n * PG);
	if (ret) {
		failf(s, "scratch %s of %u pages: %d", share ? "share" : "unshare", n, ret);
		return;
	}
	for (i = first; i < first + n; i++)
		s->scratch_model[i] = share;
	s->scratch_convs++;
	i = (unsigned int)((r >> 40) % SCRATCH_PAGES);
	if (gmem_page_state(s->g, s->scratch_gpa + i * PG) !=
	    (s->scratch_model[i] ? GMEM_SHARED : GMEM_PRIVATE))
		failf(s, "scratch page %u: state differs from the model", i);
}

static void *converter_thread(void *arg)
{
	struct stress *s = arg;

	while (!atomic_load_explicit(&s->stop_conv, memory_order_relaxed)) {
		scratch_op(s);
		pause_us(50);
	}
	return NULL;
}

/* Started only once every vCPU thread exists (the workload's barriers
 * count them all): gate 1 runs, -1 (a thread could not be created) exits. */
static atomic_int gate;

static void *vcpu_thread(void *arg)
{
	int g;

	while (!(g = atomic_load(&gate)))
		pause_us(100);
	if (g > 0)
		guest_host_vcpu((unsigned int)(uintptr_t)arg);
	return NULL;
}

/* ---- setup ------------------------------------------------------------------------ */

static int check_config(struct stress *s)
{
	const struct stress_config *c = &s->cfg;
	struct bench_io_config *io = &s->io;
	uint64_t region;

	if (!c->duration_ms || c->duration_ms > 3600000 || !c->threads ||
	    c->threads > STRESS_MAX_THREADS || !c->qd || c->qd > STRESS_MAX_QD)
		return -EINVAL;
	if (c->backend && strcmp(c->backend, "file") && strcmp(c->backend, "ram") &&
	    strcmp(c->backend, "file-sync") && strcmp(c->backend, "null"))
		return -EINVAL;
	if (c->disk_size % PG)
		return -EINVAL;
	memset(io, 0, sizeof(*io));
	io->mode = c->mode ? c->mode : GMEM_ABI_IO_MIXED;
	io->rw = GMEM_ABI_IO_RANDRW;
	io->bs = c->bs;
	io->qd = c->qd;
	io->vcpus = c->threads;
	io->runtime_s = (double)c->duration_ms / 1000;
	io->seed = s->res->seed;
	if (io->mode == GMEM_ABI_IO_MIXED && !c->no_churn)
		io->flags |= GMEM_ABI_IOF_CHURN;
	if (c->inject)
		io->flags |= GMEM_ABI_IOF_FAULTS;
	if (c->abandon)
		io->flags |= GMEM_ABI_IOF_ABANDON;
	if (!c->backend || strcmp(c->backend, "null"))
		io->flags |= GMEM_ABI_IOF_VERIFY | GMEM_ABI_IOF_VERIFY_ALL;
	if (gmem_abi_io_has_pool(io->mode))
		io->pool_size = c->pool_size ? c->pool_size :
				gmem_abi_io_pool_min(io->bs, io->vcpus);
	if (bench_io_check_workload(io))
		return -EINVAL;
	/* the workload's own minimum: 2 x qd blocks per vCPU */
	region = s->cfg.disk_size / c->threads / io->bs;
	if (region < 2 * (uint64_t)c->qd + 1)
		return -EINVAL;
	bench_io_abi_config(&s->abi, io);
	return 0;
}

static int open_backend(struct stress *s)
{
	const char *kind = s->cfg.backend ? s->cfg.backend : "file";
	struct blk_backend *be, *w;
	int fd, ret;

	if (!strcmp(kind, "null")) {
		ret = blk_backend_null(s->cfg.disk_size, &be);
	} else if (!strcmp(kind, "ram")) {
		ret = blk_backend_ram(s->cfg.disk_size, &be);
		s->verify = true;	/* data persists: checked as on a file */
	} else {
		const char *dir = getenv("TMPDIR");

		snprintf(s->path, sizeof(s->path), "%s/gmemkit-stress.XXXXXX",
			 dir && strlen(dir) < 32 ? dir : "/tmp");
		fd = mkstemp(s->path);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)s->cfg.disk_size)) {
			ret = -errno;
			close(fd);
			unlink(s->path);
			return ret;
		}
		close(fd);
		ret = blk_backend_file(s->path,
				       strcmp(kind, "file") ? BLK_FILE_SYNC : 0,
				       BLK_FILE_DEPTH, &be);
		unlink(s->path);
		s->verify = true;
	}
	if (ret)
		return ret;
	s->res->engine = be->engine;
	if (!s->cfg.inject) {
		s->be = be;
		return 0;
	}
	ret = blk_fault_wrap(be, &s->cfg.faults, &w);
	if (ret) {
		blk_backend_destroy(be);
		return ret;
	}
	s->be = w;
	s->faulty = true;
	return 0;
}

/* As the VMM does for an I/O run (vmm/vm.c, vmm/bench_io.c): what it writes
 * or reads shared, the boot info written, the rest private. */
static int setup_mem(struct stress *s)
{
	struct gmem_config gc = { .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
				  .mode = GMEM_MODE_INPLACE, .name = "stress",
				  .model = (enum gmem_model)s->cfg.model };
	struct gmem_abi_boot_info *b;
	int ret;

	s->scratch_gpa = gmem_abi_io_mem_size(&s->abi, s->cfg.threads);
	s->mem_size = s->scratch_gpa + SCRATCH_PAGES * PG;
	gc.size = s->mem_size;
	ret = gmem_create(&gc, &s->g);
	if (ret)
		return ret;
	s->mem = gmem_memslot_addr(s->g);
	ret = gmem_share(s->g, GMEM_ABI_BOOT_INFO_GPA, 2 * PG);
	if (!ret)
		ret = gmem_share(s->g, GMEM_ABI_VCPU_PAGE_GPA, s->cfg.threads * PG);
	if (!ret)
		ret = gmem_share(s->g, GMEM_ABI_POOL_GPA, GMEM_ABI_POOL_SIZE);
	if (ret)
		return ret;
	b = (void *)(s->mem + GMEM_ABI_BOOT_INFO_GPA);
	b->magic = GMEM_ABI_MAGIC;
	b->version = GMEM_ABI_VERSION;
	b->nr_vcpus = s->cfg.threads;
	b->test = GMEM_ABI_TEST_IO;
	b->mode = GMEM_ABI_MODE_INPLACE;
	b->mem_size = s->scratch_gpa;	/* the converter's scratch is not the guest's */
	b->test_gpa = GMEM_ABI_TEST_GPA;
	b->test_size = s->scratch_gpa - GMEM_ABI_TEST_GPA;
	b->pool_gpa = GMEM_ABI_POOL_GPA;
	b->pool_size = GMEM_ABI_POOL_SIZE;
	b->io = s->abi;
	return 0;
}

static int setup(struct stress *s)
{
	struct vblk_params p = { .queue_num_max = 1024 };
	struct guest_host_cfg h = { .vcpus = s->cfg.threads, .console = s->cfg.console };
	int ret;

	ret = violation_watch();	/* a host access to a private page: named */
	if (!ret)
		ret = setup_mem(s);
	if (!ret)
		ret = open_backend(s);
	if (ret)
		return ret;
	p.mem = s->g;
	p.backend = s->be;
	ret = vblk_create(&p, &s->b);
	if (ret)
		return ret;
	s->m = vblk_mmio(s->b);
	s->notify_fd = vblk_notify_fd(s->b);
	ret = vblk_start(s->b);
	if (ret)
		return ret;
	h.mem = s->g;
	ret = guest_host_bind(&h);
	s->bound = !ret;
	return ret;
}

static void free_all(struct stress *s)
{
	if (s->bound)
		guest_host_unbind();
	if (s->b)
		vblk_destroy(s->b);
	else if (s->be)
		blk_backend_destroy(s->be);
	gmem_destroy(s->g);
	pthread_mutex_destroy(&s->fail_lock);
	free(s);
}

/* ---- the run and the reckoning ------------------------------------------------------ */

#define want_eq(s, got, want, what) do {				\
	unsigned long long __g = (got), __w = (want);			\
	if (__g != __w)							\
		failf(s, "%s: %llu, want %llu", what, __g, __w);	\
} while (0)

static void from_workload(struct stress *s, struct stress_result *r)
{
	const volatile struct gmem_abi_results *g = (void *)(s->mem + GMEM_ABI_RESULTS_GPA);
	const volatile struct gmem_abi_io_results *io = &g->io;
	struct guest_host_stats hs;

	r->ios = io->ios;
	r->bytes = io->bytes;
	r->submitted = io->all_submitted;
	r->completed = io->all_completed;
	r->duplicated = io->dup_completions;
	r->io_errors = io->all_io_errors;
	r->bounced = io->bounced;
	r->inplaced = io->inplaced;
	r->shared = io->mixed_shared;
	r->batches = io->batches + io->mixed_batches;
	r->sectors_verified = io->verified;
	r->mismatches = io->verify_errors;
	r->bounce_full = io->bounce_full;
	r->churn_conv = io->churn_conv;
	r->inflight_tries = io->inflight_tries;
	r->inflight_refused = io->inflight_refused;
	r->inflight_won = io->inflight_won;
	r->guest_checks = g->checks;
	r->guest_failures = g->failures;
	r->scratch_convs = s->scratch_convs;
	guest_host_get_stats(&hs);
	r->conversions = hs.conversions;
	r->conv_busy = hs.busy;
	if (!io->done)
		failf(s, "the workload wrote no results");
	if (g->failures)
		failf(s, "workload: %u failed checks; first: %.200s", g->failures,
		      (const char *)g->fail_msg);
	if (io->verify_errors && !g->failures)
		failf(s, "%llu sectors not as written", (unsigned long long)io->verify_errors);
	if (r->duplicated)
		failf(s, "%llu used entries for no request in flight (duplicates)",
		      (unsigned long long)r->duplicated);
	if (hs.errors)
		failf(s, "%llu conversions of the workload failed", (unsigned long long)hs.errors);
}

static void reconcile_device(struct stress *s, struct stress_result *r)
{
	struct vblk_stats st;

	vblk_get_stats(s->b, &st);
	r->dev_requests = st.requests;
	r->dev_ok = st.ok;
	r->dev_ioerr = st.ioerr;
	r->dev_violations = st.violations;
	want_eq(s, st.requests, r->submitted, "device requests vs submitted");
	want_eq(s, st.ok + st.ioerr, st.requests, "device ok + ioerr vs requests");
	want_eq(s, st.unsupp + st.no_status + st.violations + st.broken +
		st.bad_config + st.bad_access + st.pins_refused, 0,
		"device unsupp/no_status/violations/broken/bad_config/"
		"bad_access/pins_refused");
	want_eq(s, st.inflight, 0, "device in flight after reset");
	if (!s->cfg.abandon) {
		want_eq(s, r->completed, r->submitted, "completed vs submitted");
		want_eq(s, st.ioerr, r->io_errors, "device ioerr vs the workload's");
	}
}

static void reconcile(struct stress *s, struct stress_result *r)
{
	struct vblk_stats st;
	struct blk_fault_stats fs;
	struct bounce_stats bs;
	struct gmem_stats gs;
	unsigned int k;
	uint64_t errs;

	reconcile_device(s, r);
	vblk_get_stats(s->b, &st);
	r->abandoned = r->submitted - r->completed;
	if (s->faulty) {
		blk_fault_get_stats(s->be, &fs);
		for (k = 0; k < BLK_FAULT_NR; k++)
			r->injected[k] = fs.injected[k];
		r->injected_total = fs.injected_total;
		want_eq(s, fs.inflight, 0, "fault injector in flight");
		want_eq(s, fs.completed + fs.injected[BLK_FAULT_SUBMIT], fs.ios,
			"fault injector completions");
	}
	/* corrupt is silent and kick only delays: neither is an IOERR */
	errs = r->injected_total - r->injected[BLK_FAULT_CORRUPT] -
	       r->injected[BLK_FAULT_KICK];
	want_eq(s, st.ioerr, errs, "device ioerr vs injected errors");
	want_eq(s, st.backend_errors, errs, "device backend errors vs injected errors");
	want_eq(s, st.err[VBLK_E_BACKEND], errs,
		"device backend error class vs injected errors");
	if (gmem_abi_io_has_pool(s->abi.mode)) {
		bounce_get_stats(guest_host_pool(), &bs);
		/* the pool's count covers the prefill and read-back too */
		if (bs.failures < r->bounce_full)
			failf(s, "bounce pool failures %llu, fewer than the workload's %llu",
			      (unsigned long long)bs.failures,
			      (unsigned long long)r->bounce_full);
		if (!s->cfg.abandon) {
			want_eq(s, bs.used, 0, "bounce slots in use at the end");
			want_eq(s, bs.mappings, bs.unmaps, "bounce maps vs unmaps");
		}
	}
	gmem_get_stats(s->g, &gs);
	r->gmem_conversions = gs.conversions;
	r->gmem_refusals = gs.refusals;
	r->gmem_violations = gs.violations;
	want_eq(s, gs.violations, 0, "gmem violations (host accesses to private pages)");
	want_eq(s, gs.unpin_missing + st.unpin_bugs, 0,
		"host unpins that found no pin (a VMM bug)");
	want_eq(s, gs.refusals, r->conv_busy, "gmem refusals vs -EBUSY answers");
	want_eq(s, gs.conversions - s->conv_base, r->conversions + s->scratch_convs,
		"gmem conversions vs the workload's and the converter's");
}

/* Pages with pins, outside [skip_lo, skip_hi). */
static uint64_t count_pins(struct stress *s, uint64_t skip_lo, uint64_t skip_hi)
{
	uint64_t off, n = 0;

	for (off = 0; off < s->mem_size; off += PG)
		if ((off < skip_lo || off >= skip_hi) && gmem_page_pins(s->g, off) != 0)
			n++;
	return n;
}

/*
 * The guest stopped, but what it published before stopping is the device's
 * to take, as on a real device: kick once more and give the device thread
 * time to fetch all of it before the reset, which then drops only what is
 * in flight.
 */
static void let_device_fetch(struct stress *s, uint64_t submitted)
{
	uint64_t deadline = timing_now_ns() + DRAIN_NS;
	struct vblk_stats st;

	gblk_mmio_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	do {
		vblk_get_stats(s->b, &st);
		if (st.requests >= submitted)
			return;
		pause_us(100);
	} while (timing_now_ns() < deadline);
}

static void finish_run(struct stress *s, struct stress_result *r)
{
	uint64_t n;

	from_workload(s, r);
	if (s->cfg.abandon) {
		let_device_fetch(s, r->submitted);
	} else {
		/* the device pins its rings for as long as the queue is live */
		n = count_pins(s, GMEM_ABI_POOL_GPA, GMEM_ABI_POOL_GPA + GMEM_ABI_POOL_SIZE);
		if (n)
			failf(s, "%llu pages pinned with no I/O in flight",
			      (unsigned long long)n);
	}
	/* Device reset: drains what the guest left in flight, drops pins. */
	gblk_mmio_write(VIRTIO_MMIO_STATUS, 0);
	r->pins_left = count_pins(s, 0, 0);
	if (r->pins_left)
		failf(s, "%llu pages still pinned after the device reset",
		      (unsigned long long)r->pins_left);
	reconcile(s, r);
	r->failures = atomic_load(&s->failures);
	memcpy(r->first_failure, s->first_failure, sizeof(r->first_failure));
}

static int start_threads(struct stress *s)
{
	unsigned int t;
	int ret;

	if (s->cfg.converter) {
		ret = pthread_create(&s->conv, NULL, converter_thread, s);
		if (ret)
			return -ret;
	}
	atomic_store(&gate, 0);
	for (t = 0; t < s->cfg.threads; t++) {
		ret = pthread_create(&s->th[t], NULL, vcpu_thread, (void *)(uintptr_t)t);
		if (ret) {
			atomic_store(&gate, -1);
			return -ret;
		}
		s->started++;
	}
	atomic_store(&gate, 1);
	return 0;
}

static void join_threads(struct stress *s)
{
	unsigned int t;

	for (t = 0; t < s->started; t++)
		pthread_join(s->th[t], NULL);
	if (s->cfg.converter) {
		atomic_store(&s->stop_conv, true);
		pthread_join(s->conv, NULL);
	}
}

static int run(struct stress *s, struct stress_result *res)
{
	struct gmem_stats gs;
	uint64_t t0;
	int ret;

	ret = setup(s);
	if (ret)
		return ret;
	res->data_checked = s->verify;
	gmem_get_stats(s->g, &gs);
	s->conv_base = gs.conversions;
	t0 = timing_now_ns();
	ret = start_threads(s);
	join_threads(s);
	if (ret)
		return ret;
	res->elapsed_ns = timing_now_ns() - t0;
	finish_run(s, res);
	return 0;
}

int stress_run(const struct stress_config *cfg,
		    struct stress_result *res)
{
	struct stress *s;
	int ret;

	if (!cfg || !res)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	s->cfg = *cfg;
	s->res = res;
	if (!s->cfg.disk_size)
		s->cfg.disk_size = DEFAULT_DISK;
	if (!s->cfg.bs)
		s->cfg.bs = DEFAULT_BS;
	res->seed = cfg->seed ? cfg->seed : timing_now_ns() | 1;
	s->conv_rng = res->seed ^ 0xc0ffee;
	pthread_mutex_init(&s->fail_lock, NULL);
	ret = check_config(s);
	if (ret) {
		pthread_mutex_destroy(&s->fail_lock);
		free(s);
		return ret;
	}
	pthread_mutex_lock(&run_lock);
	cur = s;
	ret = run(s, res);
	free_all(s);
	cur = NULL;
	pthread_mutex_unlock(&run_lock);
	return ret;
}
