// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit convert-bench: what a private<->shared round trip costs, per
 * conversion model (gmemkit/gmem.h), against the bare kernel operations it
 * is made of and against copying the same bytes.
 *
 * A round trip is gmem_share(), the host writing one byte per 4 KiB page
 * through the host view (what a device that moves the data does), and
 * gmem_unshare(), in place and destructive:
 *
 * lazy (op roundtrip): mprotect of the host view; the unshare zaps the run
 *            and revokes it, so the host's first touch after the share
 *            faults each page in, as upstream in-place guest_memfd makes the
 *            host pay.  On guest_memfd where the host maps it (probed),
 *            memfd otherwise (--backing memfd: memfd anyway).  Beside it:
 *            baseline:  mprotect(RW), the writes, mprotect(NONE) on a view
 *                       whose pages stay mapped: a permission flip, no
 *                       fault (the lower bound docs/design.md names);
 *            bare_lazy: what the in-place round trip is made of, as bare
 *                       syscalls: mprotect(RW), the writes (each a fault),
 *                       MADV_DONTNEED, mprotect(NONE).
 * eager (op roundtrip_eager): one mapping registered with userfaultfd
 *            (minor + missing, SIGBUS mode) on a memfd; the share maps the
 *            whole run with one UFFDIO_CONTINUE, so the writes take no
 *            fault; the unshare zaps it.  Beside it bare_eager: the same
 *            UFFDIO_CONTINUE, writes and MADV_DONTNEED as bare syscalls on
 *            a userfaultfd-registered memfd mapping of this file's own.
 * huge (op roundtrip_huge): the eager model on a hugetlb memfd, 2 MiB
 *            (one huge page, the conversion granule); beside it bare_huge,
 *            the bare pair on a hugetlb memfd.  Needs HUGE_NEEDED free
 *            2 MiB pages (vm.nr_hugepages); without them it is not measured
 *            and the output says so.
 * memcpy:    memcpy() of the same bytes into a destination that walks a
 *            64 MiB buffer (cold-ish memory), for scale.
 *
 * Each for 1, 16, 256 and 512 pages (--pages), with the process idle (the
 * lower bound) and with vCPU-like threads running in it (one per other
 * online CPU, at most 3), so every revocation needs a TLB shootdown to
 * them: the figure a VMM whose vCPUs run pays.  All configurations are
 * measured interleaved, rep by rep, in a fresh random order, in one run.
 *
 * Targets: lazy 1-page in place within 1.2x of the baseline, 512 pages at
 * most 1/30 of 512 single-page round trips; eager in place within 1.2x of
 * bare_eager at 1 and 512 pages; the huge in-place round trip below one
 * 2 MiB memcpy.
 *
 * guest_roundtrip / exit_roundtrip (where KVM works): the same round trip
 * requested by a real guest through each working transport and timed by
 * the guest, and an empty doorbell round trip (vmm/bench_convert.c), on the
 * lazy model.  The queue transport twice: converter polling and converter
 * asleep (every request kicks it); per conversion, the host time inside
 * gmem_share/unshare and the CPU time the converter thread burnt
 * (CLOCK_THREAD_CPUTIME_ID over the series, so a polling converter's idle
 * spinning counts).
 *
 * --platform (docs/platforms.md): for each profile but ideal (the rows
 * above: one call per range), host rows of the lazy round trip with each
 * size converted as that platform's calls (plat_iter: pkvm one per 4 KiB
 * page, tdx <= 2 MiB, snp <= 64 pages, cca the range, the host stopping at
 * 2 MiB boundaries), each call one gmem_share/unshare, destructive where
 * the platform destroys contents; and, with KVM, the guest's round trip
 * made of those calls over the platform's own call path
 * (bench_convert_platform()).  Beside each, what it leaves out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>

#include "cmd.h"
#include "gmemkit/gmem.h"
#include "gmemkit/json.h"
#include "gmemkit/platform.h"
#include "gmemkit/probe.h"
#include "gmemkit/timing.h"
#include "gmemkit/bench_convert.h"
#include "gmemkit/vm.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB	(21U << 26)	/* linux/memfd.h: log2(2 MiB) << MFD_HUGE_SHIFT */
#endif

#define MAX_PAGES	512
#define HUGE_PAGES	(GMEM_HUGE_PAGE_SIZE / GMEM_PAGE_SIZE)	/* 512 */
#define SPREAD_SIZE	(64UL << 20)	/* memcpy's destination walk */

#define MAX_PC	8
#define MAX_BUSY	3

/* 2 MiB pages the huge rows hold: in place, destructive, bare. */
#define HUGE_NEEDED	3

/* --models: which conversion models are measured (memcpy always is). */
enum dim { DIM_LAZY, DIM_EAGER, DIM_HUGE, NDIMS, DIM_COPY = NDIMS };

enum op {
	OP_BASELINE,		/* lazy: bare permission flip, no fault */
	OP_BARE_LAZY,		/* lazy: bare mprotect + zap pair */
	OP_ROUNDTRIP,		/* lazy: gmem */
	OP_BARE_EAGER,		/* eager: bare zap + UFFDIO_CONTINUE, memfd */
	OP_ROUNDTRIP_EAGER,	/* eager: gmem, memfd */
	OP_BARE_HUGE,		/* eager: bare pair, hugetlb memfd */
	OP_ROUNDTRIP_HUGE,	/* eager: gmem, hugetlb memfd */
	OP_MEMCPY,		/* copy of the same bytes */
	OP_PLATFORM,		/* lazy: gmem, as a platform's calls */
	NOPS
};

static const struct op_info {
	const char *name;
	enum dim dim;
	const char *model;	/* "lazy", "eager" or "copy" */
	bool modes;		/* measured in place and destructive */
	enum op bare;		/* a round trip's bare operations; itself if bare */
} op_info[NOPS] = {
	[OP_BASELINE] = { "baseline", DIM_LAZY, "lazy", false, OP_BASELINE },
	[OP_BARE_LAZY] = { "bare_lazy", DIM_LAZY, "lazy", false, OP_BARE_LAZY },
	[OP_ROUNDTRIP] = { "roundtrip", DIM_LAZY, "lazy", true, OP_BARE_LAZY },
	[OP_BARE_EAGER] = { "bare_eager", DIM_EAGER, "eager", false, OP_BARE_EAGER },
	[OP_ROUNDTRIP_EAGER] = { "roundtrip_eager", DIM_EAGER, "eager", true, OP_BARE_EAGER },
	[OP_BARE_HUGE] = { "bare_huge", DIM_HUGE, "eager", false, OP_BARE_HUGE },
	[OP_ROUNDTRIP_HUGE] = { "roundtrip_huge", DIM_HUGE, "eager", true, OP_BARE_HUGE },
	[OP_MEMCPY] = { "memcpy", DIM_COPY, "copy", false, OP_MEMCPY },
	[OP_PLATFORM] = { "platform_roundtrip", DIM_LAZY, "lazy", false, OP_PLATFORM },
};

/* What each model's figures mean, in the text and the JSON. */
static const char *const model_meaning[] = {
	[DIM_LAZY] = "the host's first touch faults each page in (mprotect of the host view)",
	[DIM_EAGER] = "the run is mapped at share (one UFFDIO_CONTINUE), zapped at unshare",
	[DIM_HUGE] = "eager on one 2 MiB hugetlb page: the run is mapped at share",
	[DIM_COPY] = "memcpy of the same bytes into a 64 MiB walk (cold-ish memory)",
};

struct config {
	enum op op;
	enum gmem_mode mode;
	unsigned int pages;
	unsigned int threads;		/* busy threads: 0 or b->nbusy */
	enum plat plat;			/* OP_PLATFORM: whose calls */
	unsigned int calls;		/* OP_PLATFORM: calls per direction */
	uint64_t *samples;
	struct timing_summary sum;
};

/* A userfaultfd-registered memfd mapping driven by bare syscalls. */
struct bare_map {
	int fd, uffd;
	uint8_t *map;
	uint64_t size;
};

struct bench {
	struct gmem *region[2];		/* lazy, per mode */
	struct gmem *base;		/* lazy: the baseline's own */
	struct gmem *bare_lazy;		/* lazy: bare_lazy's own */
	struct gmem *eager[2], *huge[2];	/* per mode */
	struct bare_map bare[2];	/* [0] memfd, [1] hugetlb */
	uint8_t *src, *spread;		/* memcpy */
	uint64_t spread_off;
	unsigned int models;		/* bit per enum dim asked */
	bool have[NDIMS];		/* measured */
	char why[NDIMS][256];		/* asked, not measured: why */
	long huge_free;			/* free 2 MiB pages before setup */
	struct config cfg[2 * (MAX_PC * (NOPS + PLAT_MAX) + 4)];
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
	unsigned int plats;		/* bit per enum plat (--platform) */
	struct bench_convert_row pguest[PLAT_MAX][GMEM_ABI_MAX_BENCH];
	int npguest[PLAT_MAX];		/* its guest rows, or a negative errno */
	const char *queue_why;		/* the queue's probe, when not usable */
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

/* ---- bare userfaultfd mappings (no gmem: straight syscalls) ------------ */

static void bare_close(struct bare_map *m)
{
	if (m->map)
		munmap(m->map, m->size);
	if (m->uffd >= 0)
		close(m->uffd);
	if (m->fd >= 0)
		close(m->fd);
	m->map = NULL;
	m->fd = m->uffd = -1;
}

/*
 * A memfd (huge: of 2 MiB hugetlb pages) of the size the round trips use,
 * every page in the page cache, mapped once and registered with
 * userfaultfd in minor + missing mode with UFFD_FEATURE_SIGBUS, as gmem's
 * eager model registers its view; nothing mapped (every page "private").
 */
static int bare_open(struct bare_map *m, bool huge)
{
	uint64_t feat = UFFD_FEATURE_SIGBUS | (huge ? UFFD_FEATURE_MINOR_HUGETLBFS :
						      UFFD_FEATURE_MINOR_SHMEM);
	struct uffdio_api api = { .api = UFFD_API, .features = feat };
	struct uffdio_register reg = {
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR,
	};
	void *p;

	m->size = huge ? GMEM_HUGE_PAGE_SIZE : MAX_PAGES * GMEM_PAGE_SIZE;
	m->fd = memfd_create(huge ? "bench-bare-huge" : "bench-bare-eager",
			     MFD_CLOEXEC | (huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0));
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, (off_t)m->size))
		return -errno;
	/* hugetlbfs stops at a pending signal (EINTR), keeping what it did */
	while (fallocate(m->fd, 0, 0, (off_t)m->size))
		if (errno != EINTR)
			return -errno;
	p = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->map = p;
	if (madvise(p, m->size, MADV_DONTNEED))
		return -errno;
	m->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (m->uffd < 0)
		return -errno;
	if (ioctl(m->uffd, UFFDIO_API, &api))
		return -errno;
	if ((api.features & feat) != feat)
		return -EOPNOTSUPP;
	reg.range.start = (uintptr_t)p;
	reg.range.len = m->size;
	if (ioctl(m->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	if (!(reg.ioctls & (1ULL << _UFFDIO_CONTINUE)))
		return -EOPNOTSUPP;
	return 0;
}

/* The bare pair: one UFFDIO_CONTINUE maps the run, the writes, one
 * MADV_DONTNEED zaps it. */
static uint64_t bare_sample(struct bare_map *m, unsigned int pages, int *err)
{
	uint64_t len = (uint64_t)pages * GMEM_PAGE_SIZE, t0, t1;
	struct uffdio_continue c = {
		.range = { .start = (uintptr_t)m->map, .len = len },
		.mode = UFFDIO_CONTINUE_MODE_DONTWAKE,
	};

	t0 = timing_now_ns();
	if (ioctl(m->uffd, UFFDIO_CONTINUE, &c)) {
		*err = -errno;
		return 0;
	}
	touch(m->map, pages);
	if (madvise(m->map, len, MADV_DONTNEED))
		*err = -errno;
	t1 = timing_now_ns();
	return t1 - t0;
}

/* ---- samples ------------------------------------------------------------ */

static struct gmem *region_of(struct bench *b, const struct config *c)
{
	switch (c->op) {
	case OP_ROUNDTRIP:
		return b->region[c->mode];
	case OP_ROUNDTRIP_EAGER:
		return b->eager[c->mode];
	default:
		return b->huge[c->mode];
	}
}

/* mprotect(RW), the writes, [MADV_DONTNEED], mprotect(NONE) on a view. */
static uint64_t mprotect_sample(struct gmem *g, unsigned int pages, bool zap, int *err)
{
	uint64_t len = (uint64_t)pages * GMEM_PAGE_SIZE, t0, t1;
	uint8_t *v = gmem_host_view(g);

	t0 = timing_now_ns();
	if (mprotect(v, len, PROT_READ | PROT_WRITE)) {
		*err = -errno;
		return 0;
	}
	touch(v, pages);
	if (zap && madvise(v, len, MADV_DONTNEED))
		*err = -errno;
	if (mprotect(v, len, PROT_NONE))
		*err = -errno;
	t1 = timing_now_ns();
	return t1 - t0;
}

static uint64_t memcpy_sample(struct bench *b, unsigned int pages)
{
	uint64_t len = (uint64_t)pages * GMEM_PAGE_SIZE, t0, t1;

	if (b->spread_off + len > SPREAD_SIZE)
		b->spread_off = 0;
	t0 = timing_now_ns();
	memcpy(b->spread + b->spread_off, b->src, len);
	__asm__ volatile("" : : "r"(b->spread) : "memory");
	t1 = timing_now_ns();
	b->spread_off += len;
	return t1 - t0;
}

/*
 * [off, off + len) of g converted as platform p's calls
 * (gmemkit/platform.h), each range of a call one gmem_share/unshare;
 * cca's host stops a call at the next 2 MiB boundary, as the VMM does
 * (GMEM_ABI_PARTIAL_STEP), and the rest is asked again.  *calls: the calls
 * made.  g NULL: only counts them.
 */
static int plat_convert(struct gmem *g, enum plat p, uint64_t off, uint64_t len,
			bool share, unsigned int *calls)
{
	struct plat_range r = { off, len };
	struct plat_call call;
	struct plat_iter it;
	unsigned int k;
	int err;

	*calls = 0;
	if (plat_iter_init(&it, p, GMEM_PAGE_SIZE, &r, 1))
		return -EINVAL;
	while (plat_next(&it, &call)) {
		uint64_t done = 0;

		for (k = 0; k < call.n; k++) {
			uint64_t gpa = call.r[k].gpa, n = call.r[k].len;

			if (p == PLAT_CCA && n > PLAT_CCA_STEP - gpa % PLAT_CCA_STEP)
				n = PLAT_CCA_STEP - gpa % PLAT_CCA_STEP;
			err = !g ? 0 : share ? gmem_share(g, gpa, n) : gmem_unshare(g, gpa, n);
			if (err)
				return err;
			done += n;
		}
		plat_done(&it, &call, done);
		++*calls;
	}
	return 0;
}

/* The round trip as the platform's calls: share, touch, unshare. */
static uint64_t plat_sample(struct bench *b, struct config *c, int *err)
{
	uint64_t len = (uint64_t)c->pages * GMEM_PAGE_SIZE, t0, t1;
	struct gmem *g = b->region[c->mode];
	unsigned int up = 0, down = 0;

	t0 = timing_now_ns();
	*err = plat_convert(g, c->plat, 0, len, true, &up);
	if (*err)
		return 0;
	touch(gmem_host_view(g), c->pages);
	*err = plat_convert(g, c->plat, 0, len, false, &down);
	t1 = timing_now_ns();
	if (!*err && up != down)
		*err = -EPROTO;		/* the split is the same both ways */
	c->calls = up;
	return t1 - t0;
}

/* One timed sample of one configuration; 0 on error. */
static uint64_t sample(struct bench *b, struct config *c, int *err)
{
	uint64_t len = (uint64_t)c->pages * GMEM_PAGE_SIZE, t0, t1;
	struct gmem *g;
	uint8_t *v;

	switch (c->op) {
	case OP_BASELINE:
		return mprotect_sample(b->base, c->pages, false, err);
	case OP_BARE_LAZY:
		return mprotect_sample(b->bare_lazy, c->pages, true, err);
	case OP_BARE_EAGER:
		return bare_sample(&b->bare[0], c->pages, err);
	case OP_BARE_HUGE:
		return bare_sample(&b->bare[1], c->pages, err);
	case OP_MEMCPY:
		return memcpy_sample(b, c->pages);
	case OP_PLATFORM:
		return plat_sample(b, c, err);
	default:
		break;
	}
	g = region_of(b, c);
	v = gmem_host_view(g);
	t0 = timing_now_ns();
	*err = gmem_share(g, 0, len);
	if (*err)
		return 0;
	touch(v, c->pages);
	*err = gmem_unshare(g, 0, len);
	t1 = timing_now_ns();
	return t1 - t0;
}

/* ---- setup -------------------------------------------------------------- */

static void add(struct bench *b, enum op op, enum gmem_mode mode,
		unsigned int pages, unsigned int threads)
{
	b->cfg[b->ncfg++] = (struct config){
		.op = op, .mode = mode, .pages = pages, .threads = threads,
	};
}

/* Every mode of op (one for the bare ops and memcpy). */
static void add_op(struct bench *b, enum op op, unsigned int pages, unsigned int threads)
{
	add(b, op, GMEM_MODE_INPLACE, pages, threads);
	if (op_info[op].modes)
		add(b, op, GMEM_MODE_DESTRUCTIVE, pages, threads);
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

static int setup_lazy(struct bench *b, const struct probe_host_caps *caps)
{
	struct gmem_config gc = { .size = MAX_PAGES * GMEM_PAGE_SIZE };
	int err;

	err = open_vm(b, caps);
	if (err)
		return err;
	gc.vm_fd = b->vm_fd;
	gc.backing = b->vm_fd >= 0 ? GMEM_BACKING_GUEST_MEMFD : GMEM_BACKING_MEMFD;
	gc.name = "bench-inplace";
	err = gmem_create(&gc, &b->region[GMEM_MODE_INPLACE]);
	gc.mode = GMEM_MODE_DESTRUCTIVE;
	gc.name = "bench-destructive";
	if (!err)
		err = gmem_create(&gc, &b->region[GMEM_MODE_DESTRUCTIVE]);
	/* The baseline's and bare_lazy's regions are never converted through
	 * gmem: bare syscalls change their views behind its back.  The
	 * baseline's pages stay mapped (a bare permission flip); bare_lazy's
	 * are zapped, as the lazy model's in-place unshare zaps them. */
	gc.mode = GMEM_MODE_INPLACE;
	gc.name = "bench-baseline";
	if (!err)
		err = gmem_create(&gc, &b->base);
	gc.name = "bench-bare-lazy";
	if (!err)
		err = gmem_create(&gc, &b->bare_lazy);
	if (!err)
		b->have[DIM_LAZY] = true;
	return err;
}

/* The eager model on memfd (huge: on hugetlb); a host without it is
 * reported, not an error. */
static int setup_eager(struct bench *b, const struct probe_host_caps *caps, bool huge)
{
	char hw[200];
	struct gmem_config gc = {
		.size = huge ? GMEM_HUGE_PAGE_SIZE : MAX_PAGES * GMEM_PAGE_SIZE,
		.vm_fd = -1,
		.model = GMEM_MODEL_EAGER,
		.backing = huge ? GMEM_BACKING_HUGETLB : GMEM_BACKING_MEMFD,
	};
	struct gmem **r = huge ? b->huge : b->eager;
	enum dim d = huge ? DIM_HUGE : DIM_EAGER;
	const char *what = "gmem";
	int err;

	if (huge) {
		b->huge_free = gmem_huge_pages_free();
		if (b->huge_free < 0) {
			snprintf(b->why[d], sizeof(b->why[d]), "this kernel has no 2 MiB huge "
				 "pages (/sys/kernel/mm/hugepages/hugepages-2048kB: %s)",
				 strerror((int)-b->huge_free));
			return 0;
		}
		if (b->huge_free < HUGE_NEEDED) {
			snprintf(b->why[d], sizeof(b->why[d]), "needs %d free 2 MiB huge pages, "
				 "%ld free: raise vm.nr_hugepages (/proc/sys/vm/nr_hugepages) "
				 "by %ld as root (sysctl vm.nr_hugepages=%ld; `make bench` "
				 "reserves them for its run)", HUGE_NEEDED, b->huge_free,
				 HUGE_NEEDED - b->huge_free,
				 (caps->huge_2m_total > 0 ? caps->huge_2m_total : 0) +
				 HUGE_NEEDED - b->huge_free);
			return 0;
		}
	}
	gc.name = huge ? "bench-huge-inplace" : "bench-eager-inplace";
	err = gmem_create(&gc, &r[GMEM_MODE_INPLACE]);
	gc.mode = GMEM_MODE_DESTRUCTIVE;
	gc.name = huge ? "bench-huge-destructive" : "bench-eager-destructive";
	if (!err)
		err = gmem_create(&gc, &r[GMEM_MODE_DESTRUCTIVE]);
	if (!err) {
		what = "bare userfaultfd mapping";
		err = bare_open(&b->bare[huge], huge);
	}
	if (!err) {
		b->have[d] = true;
		return 0;
	}
	/* Not measured: hold nothing (huge pages above all) for the run. */
	gmem_destroy(r[GMEM_MODE_INPLACE]);
	gmem_destroy(r[GMEM_MODE_DESTRUCTIVE]);
	r[GMEM_MODE_INPLACE] = r[GMEM_MODE_DESTRUCTIVE] = NULL;
	bare_close(&b->bare[huge]);
	if (err == -EOPNOTSUPP && probe_model_why(caps, huge ? PROBE_MODEL_HUGE :
						  PROBE_MODEL_EAGER, hw, sizeof(hw))[0])
		snprintf(b->why[d], sizeof(b->why[d]), "%s: %s", what, hw);
	else if (err == -EOPNOTSUPP)
		snprintf(b->why[d], sizeof(b->why[d]), "%s: userfaultfd minor faults on %s in "
			 "SIGBUS mode%s not offered by this host", what,
			 huge ? "hugetlbfs" : "shmem", huge ? " (or hugetlb memfd)" : "");
	else if (huge && (err == -ENOSPC || err == -ENOMEM))
		snprintf(b->why[d], sizeof(b->why[d]), "%s: could not get %d 2 MiB huge "
			 "pages (%ld were free): raise vm.nr_hugepages "
			 "(/proc/sys/vm/nr_hugepages) as root", what, HUGE_NEEDED, b->huge_free);
	else
		snprintf(b->why[d], sizeof(b->why[d]), "%s: %s", what, strerror(-err));
	return 0;
}

static int setup_copy(struct bench *b)
{
	void *p;

	p = mmap(NULL, SPREAD_SIZE + MAX_PAGES * GMEM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	b->spread = p;
	b->src = b->spread + SPREAD_SIZE;
	memset(b->spread, 0x5a, SPREAD_SIZE + MAX_PAGES * GMEM_PAGE_SIZE);
	return 0;
}

static bool pc_has(const struct bench *b, unsigned int pages)
{
	unsigned int i;

	for (i = 0; i < b->npc; i++)
		if (b->pc[i] == pages)
			return true;
	return false;
}

/* The host rows of every platform asked but ideal (the roundtrip rows). */
static void add_platforms(struct bench *b, unsigned int pages, unsigned int threads)
{
	unsigned int p;

	for (p = PLAT_IDEAL + 1; p < PLAT_MAX; p++) {
		if (!(b->plats & (1U << p)))
			continue;
		add(b, OP_PLATFORM, plat_destroys(p) ? GMEM_MODE_DESTRUCTIVE :
		    GMEM_MODE_INPLACE, pages, threads);
		b->cfg[b->ncfg - 1].plat = (enum plat)p;
	}
}

static int setup(struct bench *b, const struct probe_host_caps *caps)
{
	unsigned int i, t;
	int err = 0;

	b->kvm_fd = b->vm_fd = -1;
	b->huge_free = -ENOENT;		/* not read (huge not asked) */
	b->bare[0].fd = b->bare[0].uffd = b->bare[1].fd = b->bare[1].uffd = -1;
	if (b->models & (1U << DIM_LAZY))
		err = setup_lazy(b, caps);
	if (!err && b->models & (1U << DIM_EAGER))
		err = setup_eager(b, caps, false);
	if (!err && b->models & (1U << DIM_HUGE))
		err = setup_eager(b, caps, true);
	if (!err)
		err = setup_copy(b);
	if (err)
		return err;
	/* The same configurations for both thread counts, idle ones first
	 * (run_group() takes each half). */
	for (t = 0; t < 2; t++) {
		for (i = 0; i < b->npc; i++) {
			if (b->have[DIM_LAZY]) {
				add_op(b, OP_BASELINE, b->pc[i], t * b->nbusy);
				add_op(b, OP_BARE_LAZY, b->pc[i], t * b->nbusy);
				add_op(b, OP_ROUNDTRIP, b->pc[i], t * b->nbusy);
				add_platforms(b, b->pc[i], t * b->nbusy);
			}
			if (b->have[DIM_EAGER]) {
				add_op(b, OP_BARE_EAGER, b->pc[i], t * b->nbusy);
				add_op(b, OP_ROUNDTRIP_EAGER, b->pc[i], t * b->nbusy);
			}
			add_op(b, OP_MEMCPY, b->pc[i], t * b->nbusy);
		}
		if (b->have[DIM_HUGE]) {
			add_op(b, OP_BARE_HUGE, HUGE_PAGES, t * b->nbusy);
			add_op(b, OP_ROUNDTRIP_HUGE, HUGE_PAGES, t * b->nbusy);
			if (!pc_has(b, HUGE_PAGES))	/* the huge target's yardstick */
				add_op(b, OP_MEMCPY, HUGE_PAGES, t * b->nbusy);
		}
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
	for (i = 0; i < 2; i++) {
		gmem_destroy(b->region[i]);
		gmem_destroy(b->eager[i]);
		gmem_destroy(b->huge[i]);
		bare_close(&b->bare[i]);
	}
	gmem_destroy(b->base);
	gmem_destroy(b->bare_lazy);
	if (b->spread)
		munmap(b->spread, SPREAD_SIZE + MAX_PAGES * GMEM_PAGE_SIZE);
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

	/* Warm up: fault every page in once in every region. */
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

/* ---- output ------------------------------------------------------------- */

static const char *mode_name(const struct config *c)
{
	if (!op_info[c->op].modes)
		return "none";
	return c->mode == GMEM_MODE_INPLACE ? "inplace" : "destructive";
}

static uint64_t page_size(const struct config *c)
{
	return op_info[c->op].dim == DIM_HUGE ? GMEM_HUGE_PAGE_SIZE : GMEM_PAGE_SIZE;
}

static const char *lazy_backing(const struct bench *b)
{
	if (!b->region[0])
		return "-";
	return gmem_backing(b->region[0]) == GMEM_BACKING_GUEST_MEMFD ? "guest_memfd" : "memfd";
}

static const char *row_backing(const struct bench *b, const struct config *c)
{
	switch (op_info[c->op].dim) {
	case DIM_LAZY:
		return lazy_backing(b);
	case DIM_EAGER:
		return "memfd";
	case DIM_HUGE:
		return "hugetlb";
	default:
		return "anon";
	}
}

static const struct config *find(const struct bench *b, enum op op,
				 enum gmem_mode mode, unsigned int pages,
				 unsigned int threads)
{
	unsigned int i;

	for (i = 0; i < b->ncfg; i++) {
		const struct config *c = &b->cfg[i];

		if (c->op == op && c->pages == pages && c->threads == threads &&
		    (!op_info[op].modes || c->mode == mode))
			return c;
	}
	return NULL;
}

/*
 * The targets of this run.  value = ns / against_ns, met when at most
 * limit (below it, strictly, for the huge page against the copy); a target
 * whose rows were not measured carries why instead.
 */
struct target {
	char name[96];
	const char *model;
	unsigned int threads;
	double ns, against_ns, value, limit;
	bool strict, measured, met;
	const char *why;
};

#define MAX_TARGETS	16

static void target(struct target *t, const char *model, unsigned int threads,
		   const struct config *a, const struct config *against, double limit,
		   bool strict, const char *why)
{
	t->model = model;
	t->threads = threads;
	t->limit = limit;
	t->strict = strict;
	t->measured = a && against;
	t->why = t->measured ? "" : why;
	if (!t->measured)
		return;
	t->ns = (double)a->sum.p50;
	t->against_ns = (double)against->sum.p50;
	t->value = t->ns / t->against_ns;
	t->met = strict ? t->value < limit : t->value <= limit;
}

static unsigned int targets(const struct bench *b, struct target *tg)
{
	static const char no_pages[] = "--pages does not include 1 and 512";
	unsigned int n = 0, t, i;

	for (t = 0; t <= b->nbusy; t += b->nbusy) {
		if (b->have[DIM_LAZY] && pc_has(b, 1) && pc_has(b, 512)) {
			const struct config *rt1 = find(b, OP_ROUNDTRIP, GMEM_MODE_INPLACE, 1, t);
			const struct config *rt512 = find(b, OP_ROUNDTRIP, GMEM_MODE_INPLACE, 512, t);

			snprintf(tg[n].name, sizeof(tg[n].name), "lazy_1page_inplace_vs_baseline");
			target(&tg[n++], "lazy", t, rt1, find(b, OP_BASELINE, 0, 1, t), 1.2,
			       false, no_pages);
			/* 512 pages against 512 single-page round trips */
			snprintf(tg[n].name, sizeof(tg[n].name), "lazy_512page_vs_512x1page");
			target(&tg[n], "lazy", t, rt512, rt1, 1.0 / 30, false, no_pages);
			tg[n].against_ns *= 512;
			tg[n].value /= 512;
			tg[n].met = tg[n].value <= tg[n].limit;
			n++;
		}
		for (i = 0; i < 2; i++) {
			unsigned int p = i ? 512 : 1;

			snprintf(tg[n].name, sizeof(tg[n].name), "eager_%upage_inplace_vs_bare", p);
			target(&tg[n++], "eager", t,
			       find(b, OP_ROUNDTRIP_EAGER, GMEM_MODE_INPLACE, p, t),
			       find(b, OP_BARE_EAGER, 0, p, t), 1.2, false,
			       !b->have[DIM_EAGER] ? b->why[DIM_EAGER][0] ? b->why[DIM_EAGER] :
			       "not asked (--models)" : no_pages);
		}
		snprintf(tg[n].name, sizeof(tg[n].name), "huge_2mib_inplace_vs_memcpy");
		target(&tg[n++], "eager", t,
		       find(b, OP_ROUNDTRIP_HUGE, GMEM_MODE_INPLACE, HUGE_PAGES, t),
		       find(b, OP_MEMCPY, 0, HUGE_PAGES, t), 1.0, true,
		       b->why[DIM_HUGE][0] ? b->why[DIM_HUGE] : "not asked (--models)");
		if (!b->nbusy)
			break;
	}
	return n;
}

static void print_targets(const struct bench *b)
{
	struct target tg[MAX_TARGETS];
	unsigned int i, n = targets(b, tg);

	printf("\ntargets (this run, medians):\n");
	for (i = 0; i < n; i++) {
		const struct target *t = &tg[i];

		printf("  %u busy thread(s): %-34s ", t->threads, t->name);
		if (!t->measured) {
			printf("not measured: %s\n", t->why);
			continue;
		}
		if (!strcmp(t->name, "lazy_512page_vs_512x1page"))
			printf("%.0f ns / (512 x 1-page) %.0f ns = 1/%.1f (target <= 1/30): %s\n",
			       t->ns, t->against_ns, 1.0 / t->value, t->met ? "met" : "NOT met");
		else
			printf("%.0f ns / %.0f ns = %.2fx (target %s %.2fx): %s\n", t->ns,
			       t->against_ns, t->value, t->strict ? "<" : "<=", t->limit,
			       t->met ? "met" : "NOT met");
	}
	for (i = 0; b->have[DIM_LAZY] && pc_has(b, 1) && pc_has(b, 512) && i < 2; i++) {
		unsigned int t = i * b->nbusy;
		const struct config *bl1 = find(b, OP_BASELINE, 0, 1, t);
		const struct config *bl512 = find(b, OP_BASELINE, 0, 512, t);

		printf("  %u busy thread(s): lazy 512/(512 x 1) for the bare mprotect flip = "
		       "1/%.1f (the floor this host's page-table updates allow)\n", t,
		       512.0 * (double)bl1->sum.p50 / (double)bl512->sum.p50);
		if (!b->nbusy)
			break;
	}
	printf("  (eager against bare_eager: gmem's bookkeeping on top of the same kernel\n"
	       "   calls; the huge page against one memcpy of its 2 MiB: whether converting\n"
	       "   in place can beat copying the bytes at all)\n");
}

static void print_models(const struct bench *b)
{
	static const char *const rows[NDIMS] = {
		[DIM_LAZY] = "baseline (the bare mprotect flip: pages stay mapped, no fault), "
			     "bare_lazy, roundtrip",
		[DIM_EAGER] = "bare_eager, roundtrip_eager",
		[DIM_HUGE] = "bare_huge, roundtrip_huge (model column: eager, page 2M)",
	};
	unsigned int d;

	printf("models (the model column of each row; bare_*: the same kernel calls "
	       "without gmem):\n");
	for (d = 0; d < NDIMS; d++) {
		if (!(b->models & (1U << d)))
			continue;
		if (!b->have[d]) {
			printf("  %-5s NOT measured: %s\n", d == DIM_HUGE ? "huge" :
			       d == DIM_EAGER ? "eager" : "lazy", b->why[d]);
			continue;
		}
		printf("  %-5s %s; backing %s; rows %s\n", d == DIM_HUGE ? "huge" :
		       d == DIM_EAGER ? "eager" : "lazy", model_meaning[d],
		       d == DIM_LAZY ? lazy_backing(b) : d == DIM_EAGER ? "memfd" : "hugetlb",
		       rows[d]);
	}
	printf("  %-5s %s; rows memcpy\n", "copy", model_meaning[DIM_COPY]);
}

static void print_table(const struct bench *b)
{
	unsigned int i;

	printf("%-16s %-5s %-12s %6s %4s %7s %10s %10s %9s %8s %9s\n", "op", "model",
	       "mode", "pages", "page", "threads", "ns_min", "ns_median", "ns/page",
	       "vs_bare", "vs_memcpy");
	for (i = 0; i < b->ncfg; i++) {
		const struct config *c = &b->cfg[i];
		const struct config *bl = find(b, op_info[c->op].bare, 0, c->pages, c->threads);
		const struct config *mc = find(b, OP_MEMCPY, 0, c->pages, c->threads);
		char vb[16] = "-", vm[16] = "-";

		if (c->op == OP_PLATFORM)	/* print_platforms() */
			continue;

		if (op_info[c->op].bare != c->op && bl)
			snprintf(vb, sizeof(vb), "%.2fx", (double)c->sum.p50 / (double)bl->sum.p50);
		if (c->op != OP_MEMCPY && mc)
			snprintf(vm, sizeof(vm), "%.2fx", (double)c->sum.p50 / (double)mc->sum.p50);
		printf("%-16s %-5s %-12s %6u %4s %7u %10llu %10llu %9.0f %8s %9s\n",
		       op_info[c->op].name, op_info[c->op].model, mode_name(c), c->pages,
		       page_size(c) == GMEM_HUGE_PAGE_SIZE ? "2M" : "4k", c->threads,
		       (unsigned long long)c->sum.min, (unsigned long long)c->sum.p50,
		       (double)c->sum.p50 / c->pages, vb, vm);
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
	printf("\nguest-observed, lazy model (TSC in the guest, calibrated against host time);\n"
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

/* ---- platforms (--platform) ---------------------------------------------- */

static bool plats_asked(const struct bench *b)
{
	return b->plats & ~(1U << PLAT_IDEAL);
}

/* The guest's round trips, per platform asked but ideal. */
static void run_guest_platforms(struct bench *b)
{
	unsigned int reps = b->reps > 100000 ? 100000 : b->reps, p;

	for (p = PLAT_IDEAL + 1; p < PLAT_MAX; p++) {
		if (!(b->plats & (1U << p)))
			continue;
		b->npguest[p] = bench_convert_platform((enum plat)p, reps, b->conv_poll_us,
						       b->pguest[p], GMEM_ABI_MAX_BENCH);
		if (b->npguest[p] == -EOPNOTSUPP)
			vmm_probe_queue(&b->queue_why);
	}
}

/* The calls per direction the guest's round trip of pages at the test
 * area makes on platform p. */
static unsigned int guest_calls(enum plat p, uint64_t pages)
{
	unsigned int calls = 0;

	plat_convert(NULL, p, GMEM_ABI_TEST_GPA, pages * GMEM_PAGE_SIZE, true, &calls);
	return calls;
}

static const char *plat_mode(enum plat p)
{
	return plat_destroys(p) ? "destructive" : "inplace";
}

/* Why the host rows of the platforms are not there (lazy not asked). */
static const char *plat_host_why(const struct bench *b)
{
	return b->have[DIM_LAZY] ? "" : "needs the lazy model (--models lazy)";
}

/* Why platform p's guest rows are not there ("" when they are). */
static const char *plat_guest_why(const struct bench *b, enum plat p, char *buf,
				  size_t len)
{
	int err = b->npguest[p];

	if (err >= 0)
		return "";
	if (err == -ENODEV)
		return "no usable /dev/kvm";
	if (err == -EOPNOTSUPP)
		snprintf(buf, len, "its call path, the queue transport, is not usable "
			 "here: %s", b->queue_why ? b->queue_why : "");
	else
		snprintf(buf, len, "%s", strerror(-err));
	return buf;
}

static void print_plat_note(enum plat p)
{
	printf("  %-8s contents %s, %s; not modelled: %s\n", plat_name(p),
	       plat_destroys(p) ? "destroyed" : "kept",
	       plat_exitless(p) ? "exitless" : "exits to the VMM", plat_not_modelled(p));
}

static void print_platforms(const struct bench *b)
{
	unsigned int p, i;
	char why[256];
	int j;

	if (!plats_asked(b))
		return;
	printf("\nplatforms (--platform; docs/platforms.md), host side: each size converted as\n"
	       "the platform's calls, each call one gmem_share/unshare on the lazy model (%s);\n"
	       "round trip = share + touch of each page + unshare; vs_1call: against the\n"
	       "roundtrip row of the same mode (the whole range in one call, as on ideal):\n",
	       lazy_backing(b));
	if (!b->have[DIM_LAZY])
		printf("  not measured: %s\n", plat_host_why(b));
	else
		printf("%-8s %-12s %6s %7s %9s %10s %10s %9s %8s\n", "platform", "mode",
		       "pages", "threads", "calls/dir", "ns_min", "ns_median", "ns/page",
		       "vs_1call");
	for (p = PLAT_IDEAL + 1; b->have[DIM_LAZY] && p < PLAT_MAX; p++) {
		if (!(b->plats & (1U << p)))
			continue;
		for (i = 0; i < b->ncfg; i++) {
			const struct config *c = &b->cfg[i], *one;
			char vs[16] = "-";

			if (c->op != OP_PLATFORM || c->plat != p)
				continue;
			one = find(b, OP_ROUNDTRIP, c->mode, c->pages, c->threads);
			if (one)
				snprintf(vs, sizeof(vs), "%.2fx",
					 (double)c->sum.p50 / (double)one->sum.p50);
			printf("%-8s %-12s %6u %7u %9u %10llu %10llu %9.0f %8s\n", plat_name(p),
			       plat_mode(p), c->pages, c->threads, c->calls,
			       (unsigned long long)c->sum.min, (unsigned long long)c->sum.p50,
			       (double)c->sum.p50 / c->pages, vs);
		}
		print_plat_note((enum plat)p);
	}
	printf("\nguest-observed per platform: the round trip (share + unshare) made of its\n"
	       "calls over its own call path (pkvm, cca: queue; tdx, snp: hypercall where\n"
	       "its exits reach the VMM, else doorbell), lazy model, TSC in the guest;\n"
	       "conv/rt: conversions the VMM did per round trip:\n");
	printf("%-8s %-12s %-10s %-9s %6s %9s %12s %12s %8s\n", "platform", "mode",
	       "transport", "converter", "pages", "calls/dir", "ns_min", "ns_median", "conv/rt");
	for (p = PLAT_IDEAL + 1; p < PLAT_MAX; p++) {
		if (!(b->plats & (1U << p)))
			continue;
		if (b->npguest[p] < 0) {
			printf("%-8s not measured: %s\n", plat_name(p),
			       plat_guest_why(b, (enum plat)p, why, sizeof(why)));
			continue;
		}
		for (j = 0; j < b->npguest[p]; j++) {
			const struct bench_convert_row *r = &b->pguest[p][j];

			printf("%-8s %-12s %-10s %-9s %6llu %9u %12llu %12llu %8.2f\n",
			       plat_name(p), r->mode, r->transport, r->converter,
			       (unsigned long long)r->pages, guest_calls((enum plat)p, r->pages),
			       (unsigned long long)r->ns_min, (unsigned long long)r->ns_median,
			       r->samples ? (double)r->conversions / (double)r->samples : 0);
		}
		print_plat_note((enum plat)p);
	}
}

/* A row's median and extremes, ns. */
static void row_ns(struct json_w *w, uint64_t min, uint64_t median, uint64_t max)
{
	json_w_u64(w, "ns_min", min);
	json_w_u64(w, "ns_median", median);
	json_w_u64(w, "ns_max", max);
}

/* How a guest row's conversions went: transport, converter, its polling. */
static void row_path(struct json_w *w, const struct bench_convert_row *r)
{
	json_w_str(w, "transport", r->transport);
	json_w_str(w, "converter", r->converter);
	json_w_u64(w, "poll_us", r->poll_us);
}

/* The VMM's counters of a guest row, over its timed samples. */
static void row_counters(struct json_w *w, const struct bench_convert_row *r)
{
	json_w_u64(w, "conversions", r->conversions);
	json_w_u64(w, "host_ns", r->host_ns);
	json_w_u64(w, "conv_cpu_ns", r->conv_cpu_ns);
	json_w_u64(w, "kicks", r->kicks);
	json_w_u64(w, "wall_ns", r->wall_ns);
}

/* Platform p's host rows: the platform's calls against one call's. */
static void plat_host_rows(struct json_w *w, const struct bench *b, unsigned int p)
{
	unsigned int i;

	json_w_obj(w, "host");
	json_w_bool(w, "measured", b->have[DIM_LAZY]);
	json_w_str(w, "why", plat_host_why(b));
	json_w_str(w, "model", "lazy");
	json_w_str(w, "backing", lazy_backing(b));
	json_w_arr(w, "rows");
	for (i = 0; i < b->ncfg; i++) {
		const struct config *c = &b->cfg[i], *one;

		if (c->op != OP_PLATFORM || c->plat != p)
			continue;
		one = find(b, OP_ROUNDTRIP, c->mode, c->pages, c->threads);
		json_w_obj(w, NULL);
		json_w_u64(w, "pages", c->pages);
		json_w_u64(w, "page_size", GMEM_PAGE_SIZE);
		json_w_u64(w, "threads", c->threads);
		json_w_u64(w, "calls_per_direction", c->calls);
		row_ns(w, c->sum.min, c->sum.p50, c->sum.max);
		json_w_u64(w, "one_call_ns_median", one ? one->sum.p50 : 0);
		json_w_end(w);
	}
	json_w_end(w);
	json_w_end(w);
}

/* Platform p's guest rows (the guest-observed round trips). */
static void plat_guest_rows(struct json_w *w, const struct bench *b, unsigned int p)
{
	char why[256];
	int j;

	json_w_obj(w, "guest");
	json_w_bool(w, "measured", b->npguest[p] >= 0);
	json_w_str(w, "why", plat_guest_why(b, (enum plat)p, why, sizeof(why)));
	json_w_arr(w, "rows");
	for (j = 0; j < b->npguest[p]; j++) {
		const struct bench_convert_row *r = &b->pguest[p][j];

		json_w_obj(w, NULL);
		json_w_str(w, "op", r->op);
		json_w_str(w, "mode", r->mode);
		json_w_u64(w, "pages", r->pages);
		row_path(w, r);
		json_w_u64(w, "calls_per_direction", guest_calls((enum plat)p, r->pages));
		json_w_u64(w, "samples", r->samples);
		row_ns(w, r->ns_min, r->ns_median, r->ns_max);
		row_counters(w, r);
		json_w_end(w);
	}
	json_w_end(w);
	json_w_end(w);
}

/* "platforms": only when one but ideal is asked (ideal: the results). */
static void print_platforms_json(struct json_w *w, const struct bench *b)
{
	unsigned int p;

	if (!plats_asked(b))
		return;
	json_w_arr(w, "platforms");
	for (p = PLAT_IDEAL + 1; p < PLAT_MAX; p++) {
		if (!(b->plats & (1U << p)))
			continue;
		json_w_obj(w, NULL);
		json_w_str(w, "platform", plat_name(p));
		json_w_str(w, "mode", plat_mode(p));
		json_w_str(w, "contents", plat_destroys(p) ? "destroyed" : "kept");
		json_w_bool(w, "exitless", plat_exitless(p));
		json_w_str(w, "not_modelled", plat_not_modelled(p));
		plat_host_rows(w, b, p);
		plat_guest_rows(w, b, p);
		json_w_end(w);
	}
	json_w_end(w);
}

/* "models": what each conversion model is and whether it was measured. */
static void models_json(struct json_w *w, const struct bench *b)
{
	static const char *const dim_name[NDIMS] = { "lazy", "eager", "huge" };
	static const char *const backing[NDIMS] = { NULL, "memfd", "hugetlb" };
	unsigned int i;

	json_w_obj(w, "models");
	for (i = 0; i < NDIMS; i++) {
		json_w_obj(w, dim_name[i]);
		json_w_bool(w, "asked", b->models & (1U << i));
		json_w_bool(w, "measured", b->have[i]);
		json_w_str(w, "why", b->why[i]);
		json_w_str(w, "backing", i == DIM_LAZY ? lazy_backing(b) : backing[i]);
		json_w_u64(w, "page_size", i == DIM_HUGE ? GMEM_HUGE_PAGE_SIZE : GMEM_PAGE_SIZE);
		json_w_str(w, "meaning", model_meaning[i]);
		json_w_end(w);
	}
	json_w_end(w);
}

/* "results": the host rows, then the guest-observed round trips. */
static void results_json(struct json_w *w, const struct bench *b)
{
	unsigned int i;
	int j;

	json_w_arr(w, "results");
	for (i = 0; i < b->ncfg; i++) {
		const struct config *c = &b->cfg[i];

		if (c->op == OP_PLATFORM)	/* in "platforms" */
			continue;
		json_w_obj(w, NULL);
		json_w_str(w, "op", op_info[c->op].name);
		json_w_str(w, "model", op_info[c->op].model);
		json_w_str(w, "mode", mode_name(c));
		json_w_u64(w, "pages", c->pages);
		json_w_u64(w, "page_size", page_size(c));
		json_w_str(w, "backing", row_backing(b, c));
		json_w_u64(w, "threads", c->threads);
		row_ns(w, c->sum.min, c->sum.p50, c->sum.max);
		json_w_end(w);
	}
	for (j = 0; j < b->nguest; j++) {
		const struct bench_convert_row *r = &b->guest[j];

		json_w_obj(w, NULL);
		json_w_str(w, "op", r->op);
		json_w_str(w, "model", "lazy");
		json_w_str(w, "mode", r->mode);
		json_w_u64(w, "pages", r->pages);
		json_w_u64(w, "threads", r->threads);
		row_ns(w, r->ns_min, r->ns_median, r->ns_max);
		row_path(w, r);
		row_counters(w, r);
		json_w_end(w);
	}
	json_w_end(w);
}

static void targets_json(struct json_w *w, const struct bench *b)
{
	struct target tg[MAX_TARGETS];
	unsigned int i, n = targets(b, tg);

	json_w_arr(w, "targets");
	for (i = 0; i < n; i++) {
		const struct target *t = &tg[i];

		json_w_obj(w, NULL);
		json_w_str(w, "name", t->name);
		json_w_str(w, "model", t->model);
		json_w_u64(w, "threads", t->threads);
		json_w_fixed(w, "limit", t->limit, 4);
		json_w_bool(w, "at_most", true);
		json_w_bool(w, "strict", t->strict);
		json_w_bool(w, "measured", t->measured);
		if (t->measured) {
			json_w_fixed(w, "ns", t->ns, 0);
			json_w_fixed(w, "against_ns", t->against_ns, 0);
			json_w_fixed(w, "value", t->value, 4);
			json_w_bool(w, "met", t->met);
		} else {
			json_w_str(w, "why", t->why);
			json_w_null(w, "met");
		}
		json_w_end(w);
	}
	json_w_end(w);
}

static void print_json(const struct bench *b, const struct probe_host_caps *caps)
{
	struct json_w w;

	json_w_init(&w, stdout);
	json_w_obj(&w, NULL);
	json_w_obj(&w, "host");
	json_w_str(&w, "kernel", caps->kernel);
	json_w_str(&w, "cpu", caps->cpu_model);
	json_w_bool(&w, "emulated", caps->emulated);
	json_w_end(&w);
	json_w_u64(&w, "reps", b->reps);
	json_w_str(&w, "backing", lazy_backing(b));
	json_w_u64(&w, "busy_threads", b->nbusy);
	json_w_bool(&w, "revoke", true);
	models_json(&w, b);
	json_w_str(&w, "copy", model_meaning[DIM_COPY]);
	json_w_obj(&w, "huge_pages");
	json_w_i64(&w, "needed", HUGE_NEEDED);
	if (b->huge_free >= 0)
		json_w_i64(&w, "free", b->huge_free);
	else
		json_w_null(&w, "free");
	json_w_end(&w);
	results_json(&w, b);
	print_platforms_json(&w, b);
	targets_json(&w, b);
	json_w_end(&w);
	putchar('\n');
}

static void usage(FILE *f, const struct cli_opt *opts)
{
	cli_usage(f, "gmemkit convert-bench", opts,
		  "round trip share + touch of each page + unshare for 1, 16, 256, 512 "
		  "pages (or --pages), in place and destructive, per conversion model "
		  "(--models), and a memcpy of the same bytes into cold-ish memory, for "
		  "scale.  Each with the process idle (threads 0: the lower bound) and "
		  "with one vCPU-like busy thread per other online CPU (at most "
		  CLI_STR(MAX_BUSY) ": every flush is a TLB shootdown to them, the "
		  "headline figure).  With KVM the guest-observed round trip (lazy "
		  "model) through each --transport, queue with the converter polling "
		  "(--conv-poll-us) and asleep; and per --platform profile.", NULL);
}

static int cmd_convert_bench(int argc, char **argv)
{
	/* --transport: a bit per enum vmm_transport (the ABI's value); auto
	 * is not a choice */
	static const char *const transports[] = {
		GMEM_ABI_TRANSPORTS(GMEM_ABI_TRANSPORT_NAME_AT)
	};
	static const char *const models[NDIMS] = {
		[DIM_LAZY] = "lazy", [DIM_EAGER] = "eager", [DIM_HUGE] = "huge",
	};
	static const char *const backings[] = { "auto", "memfd" };
	struct bench *b;
	struct probe_host_caps caps;
	bool json = false;
	unsigned int reps = 200, backing = 0, us = 0;
	const char *us_arg = NULL, *models_arg = NULL;
	int err;

	b = calloc(1, sizeof(*b));
	if (!b)
		return 1;
	b->pc[0] = 1;
	b->pc[1] = 16;
	b->pc[2] = 256;
	b->pc[3] = 512;
	b->npc = 4;
	{
		const struct cli_opt opts[] = {
			CLI_FLAG("--json", &json,
				 .help = "one JSON object instead of the tables"),
			CLI_UINT("--reps", &reps, 3, 1000000,
				 .help = "round trips timed per configuration (default 200; "
					 "in the guest at most 100000)"),
			CLI_UINTS("--pages", b->pc, &b->npc, 1, MAX_PAGES, .arg = "N,N,...",
				  .help = "the page counts of the round trips (default 1, "
					  "16, 256, 512)"),
			CLI_LIST("--models", &b->models, models, .given = &models_arg,
				 .help = "a comma list of conversion models (default all of "
				 "them):\n"
				 "lazy\tmprotect of the host view: the host's first touch "
				 "faults each page in (guest_memfd where the host maps it, "
				 "else memfd; --backing memfd: memfd anyway); beside it the "
				 "bare mprotect flip (baseline) and the bare mprotect + zap "
				 "pair (bare_lazy)\n"
				 "eager\tone userfaultfd-registered mapping of a memfd: the "
				 "run is mapped at share (UFFDIO_CONTINUE), zapped at "
				 "unshare; beside it the bare continue + zap pair "
				 "(bare_eager)\n"
				 "huge\teager on one 2 MiB hugetlb page (needs "
				 CLI_STR(HUGE_NEEDED) " free 2 MiB pages: vm.nr_hugepages); "
				 "beside it the bare pair (bare_huge)",
				 .values_in_help = true),
			CLI_LIST("--transport", &b->transports, transports,
				 .help = "with KVM: the guest-observed round trip through "
					 "each of these (default: every usable one)"),
			CLI_UINT("--conv-poll-us", &us, 0, VMM_CONV_POLL_US_MAX,
				 .given = &us_arg,
				 .help = "queue: the converter busy-polls N us after its "
					 "last request (default "
					 CLI_STR(VMM_CONV_POLL_US_DEFAULT) "; 0: only "
					 "asleep)"),
			CLI_CHOICE("--backing", &backing, backings, .arg = "auto|memfd",
				   .values_in_help = true,
				   .help = "the lazy model's memory: auto (the default: "
					   "guest_memfd where the host maps it, else memfd) "
					   "or memfd (memfd anyway)"),
			CLI_LIST("--platform", &b->plats, plat_names,
				 .help = "platform profiles (default ideal: only the rows "
					 "above, each range one call; docs/platforms.md).  "
					 "Each other one adds host round trips (lazy model) "
					 "with each size converted as its calls, each call "
					 "one conversion: pkvm one per 4 KiB page, tdx <= 2 "
					 "MiB, snp <= 64 pages, cca the range (the host "
					 "stopping at 2 MiB boundaries); destructive for "
					 "tdx, snp and cca; its calls per direction and what "
					 "it leaves out beside them; and with KVM the guest's "
					 "round trip made of those calls over its own call "
					 "path (pkvm, cca: queue; tdx, snp: hypercall where "
					 "its exits reach the VMM, else doorbell)"),
			{ 0 }
		};

		err = cli_parse(argc, argv, opts, usage);
	}
	if (err) {
		free(b);
		return err > 0 ? 0 : 2;
	}
	if (!models_arg)
		b->models = (1U << NDIMS) - 1;
	if (!b->plats)
		b->plats = 1U << PLAT_IDEAL;
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
	if (!err) {
		run_guest(b);
		run_guest_platforms(b);
	}
	if (err) {
		cli_err("%s\n", strerror(-err));
	} else if (json) {
		print_json(b, &caps);
	} else {
		printf("convert-bench: %u reps, host %s, cpu %s, %u vCPU-like busy thread(s) "
		       "in the 'threads %u' rows\n", reps, caps.kernel, caps.cpu_model,
		       b->nbusy, b->nbusy);
		print_models(b);
		if (caps.emulated)
			printf("NOTE: emulated CPU: these numbers are functional only, not a verdict\n");
		print_table(b);
		print_guest_table(b);
		print_platforms(b);
		print_targets(b);
		print_queue_targets(b);
	}
	teardown(b);
	free(b);
	return err ? 1 : 0;
}

GMEM_COMMAND("convert-bench", cmd_convert_bench,
	     "private<->shared round trip cost per conversion model vs bare kernel calls");
