// SPDX-License-Identifier: GPL-2.0
/*
 * gmem: conversion semantics, pins, bad input, violations, a randomized
 * model check and a concurrency test.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "gmemkit/gmem.h"
#include "harness/violation.h"
#include "tap.h"

#define PG	GMEM_PAGE_SIZE

/* The conversion model every memfd region of a pass uses (main() runs the
 * model-independent tests once per model). */
static enum gmem_model model = GMEM_MODEL_LAZY;

static struct gmem *mk(uint64_t pages, enum gmem_mode mode, unsigned int flags)
{
	struct gmem_config cfg = {
		.size = pages * PG, .vm_fd = -1, .mode = mode, .flags = flags,
		.model = model,
		.name = mode == GMEM_MODE_INPLACE ? "t-inplace" : "t-destructive",
	};
	struct gmem *g = NULL;
	int err = gmem_create(&cfg, &g);

	if (err)
		tap_bail("gmem_create failed");
	return g;
}

static uint8_t *slot(struct gmem *g, uint64_t off)
{
	return (uint8_t *)gmem_memslot_addr(g) + off;
}

static uint8_t *view(struct gmem *g, uint64_t off)
{
	return (uint8_t *)gmem_host_view(g) + off;
}

static void test_initial_state(void)
{
	struct gmem *g = mk(8, GMEM_MODE_INPLACE, 0);
	struct gmem *s = mk(8, GMEM_MODE_INPLACE, GMEM_F_INIT_SHARED);
	struct gmem_violation v;

	ok_eq(gmem_backing(g), GMEM_BACKING_MEMFD, "no vm fd: memfd backing");
	ok_eq(gmem_page_state(g, 0), GMEM_PRIVATE, "pages start private");
	ok_eq(gmem_shared_pages(g), 0, "no shared pages at start");
	ok_eq(violation_try_access(g, 3 * PG + 5, false), -EFAULT,
	      "probe read of a private page faults");
	ok_eq(violation_try_access(g, 0, true), -EFAULT, "probe write of a private page faults");
	ok(!violation_last(&v), "probes are not recorded as violations");
	{
		struct gmem_stats st;

		gmem_get_stats(g, &st);
		ok(st.probe_faults == 2 && st.violations == 0,
		   "probe faults counted apart (%llu), no violation (%llu)",
		   (unsigned long long)st.probe_faults, (unsigned long long)st.violations);
	}
	ok_eq(gmem_page_state(s, 7 * PG), GMEM_SHARED, "INIT_SHARED: pages start shared");
	ok_eq(gmem_shared_pages(s), 8, "INIT_SHARED: all counted shared");
	ok_eq(violation_try_access(s, 7 * PG, true), 0, "INIT_SHARED: host view accessible");
	gmem_destroy(g);
	gmem_destroy(s);
}

static void test_inplace_contents(void)
{
	struct gmem *g = mk(16, GMEM_MODE_INPLACE, 0);
	struct gmem_stats st;
	bool same = true;
	uint64_t i;

	/* The guest writes its private memory through the memslot mapping. */
	for (i = 0; i < 4 * PG; i++)
		*slot(g, 4 * PG + i) = (uint8_t)(i * 7 + 1);
	ok_eq(gmem_share(g, 4 * PG, 4 * PG), 0, "share 4 pages");
	for (i = 0; i < 4 * PG; i++)
		same &= *view(g, 4 * PG + i) == (uint8_t)(i * 7 + 1);
	ok(same, "in place: host sees the guest's private data after share");
	memset(view(g, 4 * PG), 0x5a, PG);
	ok_eq(gmem_unshare(g, 4 * PG, 4 * PG), 0, "unshare 4 pages");
	ok_eq(violation_try_access(g, 4 * PG, false), -EFAULT, "unshared page is inaccessible");
	ok(*slot(g, 4 * PG) == 0x5a && *slot(g, 5 * PG) == (uint8_t)(PG * 7 + 1),
	   "in place: guest keeps the host's writes and its own data");
	ok_eq(gmem_share(g, 4 * PG, PG), 0, "share again");
	ok(*view(g, 4 * PG + 100) == 0x5a, "in place: contents kept across a round trip");
	gmem_get_stats(g, &st);
	ok(st.conversions == 3 && st.pages_shared == 5 && st.pages_unshared == 4,
	   "stats count conversions and pages (%llu/%llu/%llu)",
	   (unsigned long long)st.conversions, (unsigned long long)st.pages_shared,
	   (unsigned long long)st.pages_unshared);
	gmem_destroy(g);
}

static void test_runs(void)
{
	struct gmem *g = mk(16, GMEM_MODE_INPLACE, 0);
	struct gmem_stats a, b;

	/* shared: 1, 3, 5 -> sharing 0..8 changes runs {0},{2},{4},{6,7} */
	gmem_share(g, 1 * PG, PG);
	gmem_share(g, 3 * PG, PG);
	gmem_share(g, 5 * PG, PG);
	gmem_get_stats(g, &a);
	ok_eq(gmem_share(g, 0, 8 * PG), 0, "share over mixed range");
	gmem_get_stats(g, &b);
	ok_eq(b.prot_changes - a.prot_changes, 4, "one protection change per run");
	ok_eq(b.pages_shared - a.pages_shared, 5, "only the private pages converted");
	ok_eq(gmem_unshare(g, 0, 16 * PG), 0, "unshare whole region");
	gmem_get_stats(g, &a);
	ok_eq(a.prot_changes - b.prot_changes, 1, "contiguous run: one protection change");
	ok_eq(gmem_shared_pages(g), 0, "all private again");
	gmem_destroy(g);
}

static void test_destructive(void)
{
	struct gmem *g = mk(8, GMEM_MODE_DESTRUCTIVE, 0);
	bool zero = true;
	uint64_t i;

	memset(slot(g, 0), 0xab, 2 * PG);
	ok_eq(gmem_share(g, 0, 2 * PG), 0, "destructive share");
	for (i = 0; i < 2 * PG; i++)
		zero &= *view(g, i) == 0;
	ok(zero, "destructive: shared pages come back zeroed");
	memset(view(g, 0), 0xcd, 2 * PG);
	ok_eq(gmem_unshare(g, 0, 2 * PG), 0, "destructive unshare");
	ok(*slot(g, 0) == 0 && *slot(g, PG + 17) == 0,
	   "destructive: private pages come back zeroed");
	ok_eq(gmem_unshare(g, 0, PG), -EALREADY,
	      "destructive: unshare of a private page is refused");
	gmem_share(g, PG, PG);
	ok_eq(gmem_share(g, 0, 2 * PG), -EALREADY,
	      "destructive: share over an already shared page is refused");
	ok_eq(gmem_page_state(g, 0), GMEM_PRIVATE, "refused share changed nothing");
	gmem_destroy(g);
}

static void test_pins(void)
{
	struct gmem *g = mk(16, GMEM_MODE_INPLACE, 0);
	struct gmem_stats st;
	void *p;

	gmem_share(g, 0, 8 * PG);
	ok_eq(gmem_pin(g, 5 * PG, PG), 0, "pin a shared page");
	ok_eq(gmem_page_pins(g, 5 * PG), 1, "pin counted");
	ok_eq(gmem_unshare(g, 0, 8 * PG), -EBUSY, "unshare over a pinned page: -EBUSY");
	ok(gmem_shared_pages(g) == 8 && violation_try_access(g, 0, true) == 0 &&
	   violation_try_access(g, 7 * PG, true) == 0,
	   "refused unshare changed nothing (state and access)");
	gmem_get_stats(g, &st);
	ok_eq(st.refusals, 1, "refusal counted");
	ok_eq(gmem_pin(g, 8 * PG, PG), -EACCES, "pin of a private page: -EACCES");
	ok_eq(gmem_pin(g, 7 * PG, 2 * PG), -EACCES, "pin half private: -EACCES");
	ok_eq(gmem_page_pins(g, 7 * PG), 0, "failed pin left no pin behind");
	ok_eq(gmem_unpin(g, 4 * PG, 2 * PG), -ENOENT, "unpin of an unpinned page: -ENOENT");
	ok_eq(gmem_page_pins(g, 5 * PG), 1, "failed unpin left the pin alone");
	ok_eq(gmem_unpin(g, 5 * PG, PG), 0, "unpin");
	ok_eq(gmem_unpin(g, 5 * PG, PG), -ENOENT, "double unpin: -ENOENT");
	ok_eq(gmem_pin_ptr(g, 3 * PG + 100, PG, &p), 0, "pin_ptr byte range");
	ok(p == view(g, 3 * PG + 100) && gmem_page_pins(g, 3 * PG) == 1 &&
	   gmem_page_pins(g, 4 * PG) == 1, "pin_ptr pins both pages it spans");
	ok_eq(gmem_unshare(g, 4 * PG, PG), -EBUSY, "pin_ptr blocks unshare");
	ok_eq(gmem_unpin_bytes(g, 3 * PG + 100, PG), 0, "unpin_bytes");
	ok_eq(gmem_unshare(g, 0, 8 * PG), 0, "unshare after unpin");
	ok_eq(gmem_host_ptr(g, 0, 1, &p), -EACCES, "host_ptr of a private page: -EACCES");
	gmem_share(g, 0, PG);
	ok(gmem_host_ptr(g, 10, PG - 10, &p) == 0 && p == view(g, 10),
	   "host_ptr of a shared byte range");
	ok_eq(gmem_host_ptr(g, 10, PG, &p), -EACCES, "host_ptr spilling onto a private page");
	gmem_destroy(g);
}

/* Snapshot of everything a bad call must leave unchanged. */
struct snap {
	int state[8];
	int pins[8];
	struct gmem_stats st;
};

static void take(struct gmem *g, struct snap *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 8; i++) {
		s->state[i] = gmem_page_state(g, (uint64_t)i * PG);
		s->pins[i] = gmem_page_pins(g, (uint64_t)i * PG);
	}
	gmem_get_stats(g, &s->st);
}

static void test_bad_input(void)
{
	struct gmem *g = mk(8, GMEM_MODE_INPLACE, 0);
	struct gmem_config cfg = { .size = PG, .vm_fd = -1 };
	struct gmem *out = NULL;
	struct snap a, b;
	void *p;
	int same;

	gmem_share(g, 2 * PG, 2 * PG);
	gmem_pin(g, 2 * PG, PG);
	take(g, &a);
	ok_eq(gmem_share(g, 1, PG), -EINVAL, "misaligned offset");
	ok_eq(gmem_share(g, 0, PG + 1), -EINVAL, "misaligned length");
	ok_eq(gmem_unshare(g, 0, 0), -EINVAL, "zero length");
	ok_eq(gmem_share(g, 8 * PG, PG), -ERANGE, "range starting at the end");
	ok_eq(gmem_unshare(g, 4 * PG, 8 * PG), -ERANGE, "range ending past the end");
	ok_eq(gmem_share(g, 4 * PG, UINT64_MAX - 4095), -EOVERFLOW, "offset + length wraps");
	ok_eq(gmem_convert(g, 0, PG, GMEM_SHARED, 0x80), -EINVAL, "unknown conversion flags");
	ok_eq(gmem_convert(g, 0, PG, (enum gmem_state)7, 0), -EINVAL, "unknown target state");
	ok_eq(gmem_convert(g, 2 * PG, PG, GMEM_SHARED, GMEM_CONV_STRICT), -EALREADY,
	      "strict share of a shared page");
	ok_eq(gmem_pin(g, 0, 0), -EINVAL, "pin zero length");
	ok_eq(gmem_pin(g, 9 * PG, PG), -ERANGE, "pin out of range");
	ok_eq(gmem_unpin(g, PG, UINT64_MAX & ~4095ULL), -EOVERFLOW, "unpin wrapping range");
	ok_eq(gmem_pin_ptr(g, 2 * PG, 0, &p), -EINVAL, "pin_ptr zero length");
	ok_eq(gmem_host_ptr(g, 8 * PG - 1, 2, &p), -ERANGE, "host_ptr past the end");
	ok_eq(gmem_host_ptr(g, UINT64_MAX, 2, &p), -EOVERFLOW, "host_ptr wrapping");
	ok_eq(gmem_page_state(g, 8 * PG), -ERANGE, "page_state out of range");
	ok_eq(violation_try_access(g, 8 * PG, false), -ERANGE, "try_access out of range");
	take(g, &b);
	same = !memcmp(&a, &b, sizeof(a));
	ok(same, "bad calls changed no state, pin or statistic");

	ok_eq(gmem_create(NULL, &out), -EINVAL, "create: NULL config");
	cfg.size = 0;
	ok_eq(gmem_create(&cfg, &out), -EINVAL, "create: size 0");
	cfg.size = PG + 1;
	ok_eq(gmem_create(&cfg, &out), -EINVAL, "create: size not page aligned");
	cfg.size = GMEM_MAX_SIZE + PG;
	ok_eq(gmem_create(&cfg, &out), -E2BIG, "create: size too large");
	cfg.size = PG;
	cfg.flags = 0x100;
	ok_eq(gmem_create(&cfg, &out), -EINVAL, "create: unknown flags");
	cfg.flags = 0;
	cfg.backing = (enum gmem_backing)9;
	ok_eq(gmem_create(&cfg, &out), -EINVAL, "create: unknown backing");
	cfg.backing = GMEM_BACKING_AUTO;
	cfg.mode = (enum gmem_mode)5;
	ok_eq(gmem_create(&cfg, &out), -EINVAL, "create: unknown mode");
	cfg.mode = GMEM_MODE_INPLACE;
	cfg.backing = GMEM_BACKING_GUEST_MEMFD;
	ok_eq(gmem_create(&cfg, &out), -EINVAL, "create: guest_memfd without a VM fd");
	ok(out == NULL, "failed creates returned no region");
	gmem_unpin(g, 2 * PG, PG);
	gmem_destroy(g);
}

static atomic_int cb_calls;
static uint64_t cb_off;

static void on_violation(const struct gmem_violation *v, void *arg)
{
	(void)arg;
	cb_off = v->offset;
	atomic_fetch_add(&cb_calls, 1);
}

static void test_callback(void)
{
	struct gmem *g = mk(4, GMEM_MODE_INPLACE, 0);

	violation_set_callback(on_violation, NULL);
	ok_eq(violation_try_access(g, 2 * PG + 9, false), -EFAULT, "probe with callback set");
	ok(atomic_load(&cb_calls) == 0, "violation callback not called for a probe");
	violation_set_callback(NULL, NULL);
	gmem_destroy(g);
}

static void test_guest_memfd(void)
{
	struct gmem_config cfg = { .size = 64 * PG, .backing = GMEM_BACKING_AUTO };
	struct gmem *g = NULL;
	int kvm, vm, err;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		tap_skip(3, "no /dev/kvm: guest_memfd backing not testable here");
		return;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	cfg.vm_fd = vm;
	err = vm < 0 ? -errno : gmem_create(&cfg, &g);
	ok_eq(err, 0, "AUTO with a VM fd creates a region");
	if (err) {
		tap_skip(2, "no region");
	} else if (gmem_backing(g) != GMEM_BACKING_GUEST_MEMFD) {
		diag("guest_memfd mmap not offered: AUTO fell back to memfd");
		ok_eq(gmem_backing(g), GMEM_BACKING_MEMFD, "fallback is memfd");
		cfg.backing = GMEM_BACKING_GUEST_MEMFD;
		ok_eq(gmem_create(&cfg, &(struct gmem *){ NULL }), -EOPNOTSUPP,
		      "GUEST_MEMFD backing asked on a host without its mmap");
	} else {
		*slot(g, 0) = 0x77;
		ok(gmem_share(g, 0, PG) == 0 && *view(g, 0) == 0x77,
		   "guest_memfd: in-place share keeps contents");
		ok(gmem_unshare(g, 0, PG) == 0 && violation_try_access(g, 0, false) == -EFAULT,
		   "guest_memfd: unshared page inaccessible in the host view");
	}
	gmem_destroy(g);
	if (vm >= 0)
		close(vm);
	close(kvm);
}

/* ---- revocation: to-private unmaps, re-share faults back in ------------ */

/* Pages of [p, p + n pages) whose PTE is present (/proc/self/pagemap bit
 * 63); -1 if pagemap cannot be read. */
static int present_pages(const void *p, unsigned int n)
{
	uint64_t e[64];
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), cnt = 0;
	unsigned int i;
	ssize_t r;

	if (fd < 0 || n > 64)
		return fd < 0 ? -1 : (close(fd), -1);
	r = pread(fd, e, n * sizeof(e[0]), (off_t)((uintptr_t)p / PG * sizeof(e[0])));
	close(fd);
	if (r != (ssize_t)(n * sizeof(e[0])))
		return -1;
	for (i = 0; i < n; i++)
		cnt += (int)(e[i] >> 63);
	return cnt;
}

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt;
}

/* The eager model maps the whole run at to-shared: after unshare + share
 * every page is mapped, and the host's touch takes no fault. */
static void check_eager_remap(struct gmem *g, const char *what)
{
	const unsigned int n = 8;
	volatile uint8_t *v = view(g, 0);
	unsigned int i, same = 0;
	long f0, f1;

	if (gmem_share(g, 0, n * PG)) {
		ok(false, "%s: share", what);
		return;
	}
	for (i = 0; i < n; i++)
		v[i * PG] = (uint8_t)(0x40 + i);
	ok(!gmem_unshare(g, 0, n * PG) && present_pages((const void *)v, n) == 0 &&
	   violation_try_access(g, 0, false) == -EFAULT,
	   "%s: unshare zaps the run (nothing mapped, the host faults)", what);
	ok(!gmem_share(g, 0, n * PG) && present_pages((const void *)v, n) == (int)n,
	   "%s: share maps the whole run", what);
	f0 = minor_faults();
	for (i = 0; i < n; i++)
		v[i * PG + 1] = 1;
	f1 = minor_faults();
	for (i = 0; i < n; i++)
		same += *slot(g, i * PG) == (uint8_t)(0x40 + i);
	ok_eq(f1 - f0, 0, "%s: the host's touch after the share takes no fault", what);
	if (gmem_mode(g) == GMEM_MODE_INPLACE)
		ok_eq(same, n, "%s: in place: contents kept across the round trip", what);
	else
		ok_eq(same, 0, "%s: destructive: contents discarded", what);
	gmem_unshare(g, 0, n * PG);
}

/* Upstream in-place conversion unmaps the host's mapping on to-private:
 * after unshare + share the host view maps nothing, and the host's first
 * touch of each page faults it in again (contents kept in place mode). */
static void check_revocation(struct gmem *g, const char *what)
{
	const unsigned int n = 8;
	volatile uint8_t *v = view(g, 0);
	unsigned int i, same = 0;
	long f0, f1;
	int p;

	if (gmem_share(g, 0, n * PG)) {
		ok(false, "%s: share", what);
		return;
	}
	for (i = 0; i < n; i++)
		v[i * PG] = (uint8_t)(0x40 + i);
	p = present_pages((const void *)v, n);
	if (p < 0) {
		tap_skip(4, "/proc/self/pagemap not readable");
		gmem_unshare(g, 0, n * PG);
		return;
	}
	ok_eq(p, (int)n, "%s: touched shared pages are mapped in the host view", what);
	ok(!gmem_unshare(g, 0, n * PG) && !gmem_share(g, 0, n * PG) &&
	   present_pages((const void *)v, n) == 0,
	   "%s: after unshare + share nothing is mapped (the mapping was revoked)", what);
	/* Writes: a read fault on shmem maps its neighbours too (fault-around) */
	f0 = minor_faults();
	for (i = 0; i < n; i++)
		v[i * PG + 1] = 1;
	f1 = minor_faults();
	for (i = 0; i < n; i++)
		same += *slot(g, i * PG) == (uint8_t)(0x40 + i);
	ok(f1 - f0 >= (long)n && present_pages((const void *)v, n) == (int)n,
	   "%s: the first host touch of each page faults it in (%ld faults for %u pages)",
	   what, f1 - f0, n);
	if (gmem_mode(g) == GMEM_MODE_INPLACE)
		ok_eq(same, n, "%s: in place: contents kept across the revocation", what);
	else
		ok_eq(same, 0, "%s: destructive: contents discarded", what);
	gmem_unshare(g, 0, n * PG);
}

static void test_revocation(void)
{
	struct gmem_config cfg = { .size = 16 * PG, .backing = GMEM_BACKING_GUEST_MEMFD };
	struct gmem *g = mk(16, GMEM_MODE_INPLACE, 0), *gm = NULL;
	int kvm, vm;

	if (model == GMEM_MODEL_EAGER) {
		check_eager_remap(g, "eager in place");
		gmem_destroy(g);
		g = mk(16, GMEM_MODE_DESTRUCTIVE, 0);
		check_eager_remap(g, "eager destructive");
		gmem_destroy(g);
		return;
	}
	check_revocation(g, "memfd in place");
	gmem_destroy(g);
	g = mk(16, GMEM_MODE_DESTRUCTIVE, 0);
	check_revocation(g, "memfd destructive");
	gmem_destroy(g);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
	cfg.vm_fd = vm;
	if (vm < 0 || gmem_create(&cfg, &gm)) {
		tap_skip(4, "guest_memfd with mmap not offered here");
	} else {
		check_revocation(gm, "guest_memfd in place");
		gmem_destroy(gm);
	}
	if (vm >= 0)
		close(vm);
	if (kvm >= 0)
		close(kvm);
}

/* ---- randomized model check ------------------------------------------- */

#define RPAGES	64

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

struct model {
	bool shared[RPAGES];
	int pins[RPAGES];
};

static int model_op(struct model *m, int op, uint64_t f, uint64_t n)
{
	uint64_t i;

	switch (op) {
	case 0:	/* share */
		for (i = f; i < f + n; i++)
			m->shared[i] = true;
		return 0;
	case 1:	/* unshare */
		for (i = f; i < f + n; i++)
			if (m->pins[i])
				return -EBUSY;
		for (i = f; i < f + n; i++)
			m->shared[i] = false;
		return 0;
	case 2:	/* pin */
		for (i = f; i < f + n; i++)
			if (!m->shared[i])
				return -EACCES;
		for (i = f; i < f + n; i++)
			m->pins[i]++;
		return 0;
	default:	/* unpin */
		for (i = f; i < f + n; i++)
			if (!m->pins[i])
				return -ENOENT;
		for (i = f; i < f + n; i++)
			m->pins[i]--;
		return 0;
	}
}

static int real_op(struct gmem *g, int op, uint64_t off, uint64_t len)
{
	switch (op) {
	case 0: return gmem_share(g, off, len);
	case 1: return gmem_unshare(g, off, len);
	case 2: return gmem_pin(g, off, len);
	default: return gmem_unpin(g, off, len);
	}
}

static bool page_matches(struct gmem *g, const struct model *m, uint64_t i)
{
	int acc = violation_try_access(g, i * PG + rnd(PG), rnd(2));

	return gmem_page_state(g, i * PG) == (m->shared[i] ? GMEM_SHARED : GMEM_PRIVATE) &&
	       gmem_page_pins(g, i * PG) == m->pins[i] &&
	       acc == (m->shared[i] ? 0 : -EFAULT);
}

static void test_random(void)
{
	struct gmem *g = mk(RPAGES, GMEM_MODE_INPLACE, 0);
	struct model m = { 0 };
	int ops = 20000, bad_ret = 0, bad_state = 0, k;
	uint64_t shared, i;

	for (k = 0; k < ops; k++) {
		int op = (int)rnd(4);
		uint64_t f = rnd(RPAGES), n = 1 + rnd(RPAGES - f < 8 ? RPAGES - f : 8);
		int want = model_op(&m, op, f, n);
		int got = real_op(g, op, f * PG, n * PG);

		if (got != want && bad_ret++ < 5)
			diag("op %d [%llu,+%llu): got %d want %d", op,
			     (unsigned long long)f, (unsigned long long)n, got, want);
		for (i = f; i < f + n; i++)
			bad_state += !page_matches(g, &m, i);
		if (k % 500 == 0)
			for (i = 0; i < RPAGES; i++)
				bad_state += !page_matches(g, &m, i);
	}
	for (i = 0, shared = 0; i < RPAGES; i++) {
		bad_state += !page_matches(g, &m, i);
		shared += m.shared[i];
	}
	ok(bad_ret == 0, "random: %d ops, return codes match the model (%d mismatches)",
	   ops, bad_ret);
	ok(bad_state == 0, "random: state, pins and real host access match the model (%d)",
	   bad_state);
	ok_eq(gmem_shared_pages(g), shared, "random: shared page count matches");
	gmem_destroy(g);
}

/* ---- concurrency ------------------------------------------------------- */

#define CPAGES		256
#define CITERS		4000

struct cctx {
	struct gmem *g;
	int id;
	atomic_int *errors;
};

/* Converts its own 64-page quarter in random sub-ranges. */
static void *converter(void *arg)
{
	struct cctx *c = arg;
	uint64_t base = (uint64_t)c->id * 64, s = 0x1234 + (uint64_t)c->id;
	int k;

	for (k = 0; k < CITERS; k++) {
		uint64_t f, n;
		int err;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		f = base + ((s >> 33) % 60);
		n = 1 + ((s >> 20) % 4);
		err = (s >> 40) & 1 ? gmem_share(c->g, f * PG, n * PG)
				    : gmem_unshare(c->g, f * PG, n * PG);
		if (err && err != -EBUSY)
			atomic_fetch_add(c->errors, 1);
	}
	return NULL;
}

/* Pins anywhere; while pinned the page must stay reachable. */
static void *pinner(void *arg)
{
	struct cctx *c = arg;
	uint64_t s = 0xabcdef + (uint64_t)c->id;
	int k;

	for (k = 0; k < CITERS * 2; k++) {
		uint64_t f, n, i;
		int err;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		f = (s >> 33) % (CPAGES - 4);
		n = 1 + ((s >> 20) % 4);
		err = gmem_pin(c->g, f * PG, n * PG);
		if (err == -EACCES || err == -EBUSY)	/* private / converting */
			continue;
		if (err) {
			atomic_fetch_add(c->errors, 1);
			continue;
		}
		for (i = f; i < f + n; i++)
			if (violation_try_access(c->g, i * PG, true) ||
			    gmem_page_state(c->g, i * PG) != GMEM_SHARED)
				atomic_fetch_add(c->errors, 1);
		if (gmem_unpin(c->g, f * PG, n * PG))
			atomic_fetch_add(c->errors, 1);
	}
	return NULL;
}

static void test_concurrency(void)
{
	struct gmem *g = mk(CPAGES, GMEM_MODE_INPLACE, 0);
	pthread_t t[6];
	struct cctx c[6];
	atomic_int errors = 0;
	uint64_t i, shared = 0;
	int k, bad = 0;

	for (k = 0; k < 6; k++) {
		c[k] = (struct cctx){ .g = g, .id = k % 4, .errors = &errors };
		pthread_create(&t[k], NULL, k < 4 ? converter : pinner, &c[k]);
	}
	for (k = 0; k < 6; k++)
		pthread_join(t[k], NULL);
	ok_eq(atomic_load(&errors), 0,
	      "concurrency: 4 converters + 2 pinners, pinned pages always reachable");
	for (i = 0; i < CPAGES; i++) {
		int st = gmem_page_state(g, i * PG);

		shared += st == GMEM_SHARED;
		bad += gmem_page_pins(g, i * PG) != 0;
		bad += violation_try_access(g, i * PG, false) != (st == GMEM_SHARED ? 0 : -EFAULT);
	}
	ok(bad == 0, "concurrency: no pins left, host access matches state everywhere");
	ok_eq(gmem_shared_pages(g), shared, "concurrency: shared count consistent");
	gmem_destroy(g);
}

/* Can this host run the eager model (userfaultfd minor faults, SIGBUS)? */
static bool eager_offered(void)
{
	struct gmem_config cfg = { .size = PG, .vm_fd = -1, .model = GMEM_MODEL_EAGER };
	struct gmem *g = NULL;
	int err = gmem_create(&cfg, &g);

	gmem_destroy(g);
	if (err)
		diag("eager model: gmem_create: %s", strerror(-err));
	return !err;
}

static void model_tests(void)
{
	test_initial_state();
	test_inplace_contents();
	test_runs();
	test_destructive();
	test_pins();
	test_callback();
	test_revocation();
	test_random();
	test_concurrency();
}

int main(void)
{
	test_bad_input();
	test_guest_memfd();
	model = GMEM_MODEL_LAZY;
	diag("lazy model (mprotect of the host view)");
	model_tests();
	model = GMEM_MODEL_EAGER;
	if (!eager_offered())
		tap_bail("eager model (userfaultfd) not offered by this kernel");
	diag("eager model (one mapping, userfaultfd)");
	model_tests();
	return tap_done();
}
