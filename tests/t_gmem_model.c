// SPDX-License-Identifier: GPL-2.0
/*
 * gmem conversion models: the eager model's one mapping (SIGBUS, -EFAULT
 * for kernel accesses), 2 MiB pages, and the regressions of the issue that
 * introduced them: mapping-count exhaustion, destructive order, the
 * all-or-nothing unpin under a race, and fault attribution against a
 * concurrent destroy.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>

#include "gmemkit/gmem.h"
#include "harness/violation.h"
#include "lib/gmem_internal.h"
#include "tap.h"

#define PG	GMEM_PAGE_SIZE
#define HPG	GMEM_HUGE_PAGE_SIZE

static struct gmem *mk(uint64_t size, enum gmem_model model, enum gmem_backing b,
		       enum gmem_mode mode)
{
	struct gmem_config cfg = {
		.size = size, .vm_fd = -1, .backing = b, .mode = mode, .model = model,
		.name = "t-model",
	};
	struct gmem *g = NULL;

	return gmem_create(&cfg, &g) ? NULL : g;
}

static uint8_t *slot(struct gmem *g, uint64_t off)
{
	return (uint8_t *)gmem_memslot_addr(g) + off;
}

static uint8_t *view(struct gmem *g, uint64_t off)
{
	return (uint8_t *)gmem_host_view(g) + off;
}

static long maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void *noop(void *arg)
{
	return arg;
}

/* Can the process still make mappings of its own (threads, anonymous)? */
static bool process_can_map(void)
{
	pthread_t t;
	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return false;
	munmap(p, 1 << 20);
	if (pthread_create(&t, NULL, noop, NULL))
		return false;
	pthread_join(t, NULL);
	return true;
}

/* ---- the eager model's one mapping --------------------------------------- */

static void test_eager_kernel_access(void)
{
	struct gmem *g = mk(16 * PG, GMEM_MODEL_EAGER, GMEM_BACKING_MEMFD, GMEM_MODE_INPLACE);
	int p[2];
	ssize_t r;

	if (!g)
		tap_bail("eager region");
	ok_eq(pipe(p), 0, "pipe");
	ok(write(p[1], "abcd", 4) == 4, "pipe written");
	r = read(p[0], view(g, 2 * PG), 4);
	ok(r == -1 && errno == EFAULT, "eager: read() into a private page fails with EFAULT "
	   "(the kernel cannot map it for the host)");
	ok_eq(gmem_share(g, 2 * PG, PG), 0, "share the page");
	r = read(p[0], view(g, 2 * PG), 4);
	ok(r == 4 && !memcmp(view(g, 2 * PG), "abcd", 4), "eager: read() into it once shared");
	ok_eq(violation_try_access(g, 3 * PG, false), -EFAULT,
	      "eager: a host read of a private page faults (SIGBUS, caught)");
	close(p[0]);
	close(p[1]);
	gmem_destroy(g);
}

/* ---- mapping count: a guest alternating shared and private pages ---------- */

/* A 1 GiB guest; 256 MiB where the machine has under 4 GiB available (the
 * 2 GiB test VM): the eager region is populated whole at creation. */
static uint64_t alt_size(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	if (kb && kb < (4UL << 20)) {
		diag("%lu MiB available: a 256 MiB region instead of 1 GiB", kb >> 10);
		return 256ULL << 20;
	}
	return 1ULL << 30;
}

static uint64_t alt_bytes;		/* alt_size(), once */
#define ALT_SIZE	alt_bytes
#define BUDGET_SIZE	(64ULL << 20)	/* lazy, never populated: past its budget */

static void test_alternating(void)
{
	struct gmem *g = mk(ALT_SIZE, GMEM_MODEL_EAGER, GMEM_BACKING_MEMFD, GMEM_MODE_INPLACE);
	uint64_t off, npages = ALT_SIZE / PG, shared = 0;
	long before, after;
	int err = 0;

	if (!g)
		tap_bail("1 GiB eager region");
	before = maps_lines();
	for (off = 0; off < ALT_SIZE && !err; off += 2 * PG) {
		err = gmem_share(g, off, PG);
		shared += !err;
	}
	after = maps_lines();
	ok(!err && shared == npages / 2, "eager: every other page of 1 GiB shared (%llu, err %d)",
	   (unsigned long long)shared, err);
	/* (a sanitizer runtime may map a little of its own meanwhile) */
	ok(gmem_boundaries(g) == npages - 1 && after - before <= 4,
	   "eager: %llu boundaries, /proc/self/maps %ld lines (was %ld)",
	   (unsigned long long)gmem_boundaries(g), after, before);
	ok(process_can_map(), "eager: the process can still map and start threads");
	gmem_destroy(g);

	g = mk(ALT_SIZE, GMEM_MODEL_LAZY, GMEM_BACKING_MEMFD, GMEM_MODE_INPLACE);
	if (!g)
		tap_bail("1 GiB lazy region");
	before = maps_lines();
	err = 0;
	shared = 0;
	for (off = 0; off < ALT_SIZE && !err; off += 2 * PG) {
		err = gmem_share(g, off, PG);
		shared += !err;
	}
	after = maps_lines();
	ok_eq(err, -ENOSPC, "lazy: the alternating guest is refused at its budget (-ENOSPC)");
	ok(gmem_boundaries(g) <= GMEM_LAZY_MAX_BOUNDARIES &&
	   after - before <= GMEM_LAZY_MAX_BOUNDARIES + 2,
	   "lazy: %llu boundaries, maps grew by %ld (budget %u)",
	   (unsigned long long)gmem_boundaries(g), after - before, GMEM_LAZY_MAX_BOUNDARIES);
	ok(gmem_page_state(g, off - 2 * PG) == GMEM_PRIVATE &&
	   gmem_shared_pages(g) == shared, "lazy: the refused share changed nothing");
	ok(process_can_map(), "lazy: the process can still map and start threads");
	ok_eq(gmem_share(g, PG, PG), 0, "lazy: a share that closes boundaries still works");
	gmem_destroy(g);
}

/* ---- destructive order ---------------------------------------------------- */

static const struct gmem_backend *real_backend;

static int failing_set_state(struct gmem *g, uint64_t off, uint64_t len,
			     enum gmem_state to, bool undo)
{
	if (to == GMEM_PRIVATE && !undo)
		return -ENOMEM;		/* as mprotect at vm.max_map_count */
	return real_backend->set_state(g, off, len, to, undo);
}

static const struct gmem_backend failing_backend = {
	.name = "test-failing", .set_state = failing_set_state,
};

static void check_destructive_refusal(enum gmem_model model, const char *what)
{
	struct gmem *g = mk(8 * PG, model, GMEM_BACKING_MEMFD, GMEM_MODE_DESTRUCTIVE);
	bool kept = true;
	uint64_t i;

	if (!g)
		tap_bail("destructive region");
	ok_eq(gmem_share(g, 0, 4 * PG), 0, "%s: share 4 pages", what);
	memset(view(g, 0), 0x3c, 4 * PG);
	real_backend = g->backend;
	g->backend = &failing_backend;
	ok_eq(gmem_unshare(g, 0, 4 * PG), -ENOMEM, "%s: to-private refused by the mapping", what);
	g->backend = real_backend;
	for (i = 0; i < 4 * PG; i++)
		kept &= *slot(g, i) == 0x3c;
	ok(kept && gmem_page_state(g, 0) == GMEM_SHARED && *view(g, 3 * PG) == 0x3c,
	   "%s: the refused to-private kept the contents and the pages shared", what);
	gmem_destroy(g);
}

static void test_destructive_order(void)
{
	struct gmem *g = mk(BUDGET_SIZE, GMEM_MODEL_LAZY, GMEM_BACKING_MEMFD,
			    GMEM_MODE_DESTRUCTIVE);
	uint64_t off;
	int err = 0;

	check_destructive_refusal(GMEM_MODEL_LAZY, "lazy");
	check_destructive_refusal(GMEM_MODEL_EAGER, "eager");
	/* At the lazy budget: the refused unshare must not punch the hole. */
	if (!g)
		tap_bail("lazy destructive region");
	err = gmem_share(g, 0, BUDGET_SIZE);
	for (off = 0; !err && off < BUDGET_SIZE; off += 2 * PG)
		err = gmem_unshare(g, off, PG);
	ok(err == -ENOSPC && gmem_page_state(g, off) == GMEM_SHARED,
	   "lazy destructive: refused at the budget");
	*view(g, off) = 0x99;
	ok(gmem_unshare(g, off, PG) == -ENOSPC && *view(g, off) == 0x99,
	   "lazy destructive: a refused to-private leaves the contents");
	gmem_destroy(g);
}

/* ---- the all-or-nothing unpin under a race ------------------------------- */

#define RACE_ITERS	4000
#define RACE_PAGES	256

struct race {
	struct gmem *g;
	pthread_barrier_t start, end;
	atomic_int a_err, b_err, done;
	atomic_int c_unshared;
};

/*
 * A unpins pages 0..255 (one guest pin each), B page 255 at the same time:
 * only one of them can have page 255's pin.  When B wins, A's unpin is
 * refused and must not have changed anything - yet it walked pages 0..254
 * first.  C meanwhile tries to unshare page 0 and to pin it to the maximum:
 * while A's refused unpin is in flight, page 0 still holds its pin.
 */
static void *race_a(void *arg)
{
	struct race *r = arg;
	int k;

	for (k = 0; k < RACE_ITERS; k++) {
		pthread_barrier_wait(&r->start);
		atomic_store(&r->a_err, gmem_unpin_as(r->g, 0, RACE_PAGES * PG, GMEM_PIN_GUEST));
		atomic_fetch_add(&r->done, 1);
		pthread_barrier_wait(&r->end);
	}
	return NULL;
}

static void *race_b(void *arg)
{
	struct race *r = arg;
	int k;

	for (k = 0; k < RACE_ITERS; k++) {
		pthread_barrier_wait(&r->start);
		atomic_store(&r->b_err, gmem_unpin_as(r->g, (RACE_PAGES - 1) * PG, PG,
						      GMEM_PIN_GUEST));
		atomic_fetch_add(&r->done, 1);
		pthread_barrier_wait(&r->end);
	}
	return NULL;
}

static void *race_c(void *arg)
{
	struct race *r = arg;
	int k;

	for (k = 0; k < RACE_ITERS; k++) {
		pthread_barrier_wait(&r->start);
		while (atomic_load(&r->done) < 2) {
			if (!gmem_unshare(r->g, 0, PG)) {
				atomic_store(&r->c_unshared, 1);
				break;
			}
			while (!gmem_pin_as(r->g, 0, PG, GMEM_PIN_GUEST))
				;	/* up to GMEM_GUEST_PIN_MAX (-EMLINK) */
			while (gmem_page_pins_of(r->g, 0, GMEM_PIN_GUEST) > 1 &&
			       !gmem_unpin_as(r->g, 0, PG, GMEM_PIN_GUEST))
				;	/* back to the one pin it had */
		}
		pthread_barrier_wait(&r->end);
	}
	return NULL;
}

static int race_check(struct race *r, int *lost)
{
	int p0 = gmem_page_pins_of(r->g, 0, GMEM_PIN_GUEST);
	int st0 = gmem_page_state(r->g, 0);
	int a = atomic_load(&r->a_err), b = atomic_load(&r->b_err);
	uint32_t w = atomic_load(&r->g->pages[0]);

	if (w & (PG_BUSY | PG_HELD | PG_PINS))
		return 1;			/* a carry or a stuck bit */
	if (p0 > (int)GMEM_GUEST_PIN_MAX || (st0 == GMEM_PRIVATE && p0))
		return 1;			/* private with a pin */
	if (!a == !b)
		return 1;			/* both or neither had page 255 */
	if (a && (atomic_load(&r->c_unshared) || p0 != 1))
		(*lost)++;			/* A refused, yet page 0 lost its pin */
	return 0;
}

static void race_reset(struct race *r)
{
	uint64_t i;

	for (i = 0; i < RACE_PAGES; i++)
		while (!gmem_unpin_as(r->g, i * PG, PG, GMEM_PIN_GUEST))
			;
	if (gmem_share(r->g, 0, RACE_PAGES * PG) ||
	    gmem_pin_as(r->g, 0, RACE_PAGES * PG, GMEM_PIN_GUEST))
		tap_bail("race: reset");
	atomic_store(&r->done, 0);
	atomic_store(&r->c_unshared, 0);
}

static void test_unpin_race(void)
{
	struct race r = { .g = mk(RACE_PAGES * PG, GMEM_MODEL_LAZY, GMEM_BACKING_MEMFD,
				  GMEM_MODE_INPLACE) };
	pthread_t t[3];
	int k, bad = 0, lost = 0, refused = 0;

	if (!r.g)
		tap_bail("race region");
	pthread_barrier_init(&r.start, NULL, 4);
	pthread_barrier_init(&r.end, NULL, 4);
	pthread_create(&t[0], NULL, race_a, &r);
	pthread_create(&t[1], NULL, race_b, &r);
	pthread_create(&t[2], NULL, race_c, &r);
	for (k = 0; k < RACE_ITERS; k++) {
		race_reset(&r);
		pthread_barrier_wait(&r.start);
		pthread_barrier_wait(&r.end);
		bad += race_check(&r, &lost);
		refused += !!atomic_load(&r.a_err);
	}
	for (k = 0; k < 3; k++)
		pthread_join(t[k], NULL);
	ok(bad == 0 && lost == 0 && refused > 0,
	   "unpin race: %d rounds (%d refused), never a pin on a private page, a carry or "
	   "a stuck bit (%d bad), a refused unpin never dropped a pin (%d)",
	   RACE_ITERS, refused, bad, lost);
	pthread_barrier_destroy(&r.start);
	pthread_barrier_destroy(&r.end);
	gmem_destroy(r.g);
}

/* ---- fault attribution against a concurrent destroy ---------------------- */

struct churn {
	atomic_bool stop;
	void *_Atomic addr;		/* a byte in the current region's view */
	atomic_long bad, found;
};

static void *churner(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(&c->stop)) {
		struct gmem *g = mk(64 * PG, GMEM_MODEL_LAZY, GMEM_BACKING_MEMFD,
				    GMEM_MODE_INPLACE);

		if (!g)
			continue;
		atomic_store(&c->addr, view(g, 5 * PG + 3));
		for (int k = 0; k < 2000 && !atomic_load(&c->stop); k++)
			__asm__ volatile("pause");
		atomic_store(&c->addr, NULL);
		gmem_destroy(g);
	}
	return NULL;
}

static void test_attribution_race(void)
{
	struct churn c = { 0 };
	struct gmem_violation v;
	pthread_t t;
	long k;

	struct timespec t0, now;

	pthread_create(&t, NULL, churner, &c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; atomic_load(&c.found) < 20000; k++) {
		void *a = atomic_load(&c.addr);

		if (!(k & 1023)) {	/* at most 5 s, however busy the machine */
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec >= 5)
				break;
		}
		if (!a) {
			sched_yield();	/* let the churner run, even on one CPU */
			continue;
		}
		memset(&v, 0, sizeof(v));
		if (gmem_fault_attribute(a, false, false, &v))
			continue;	/* destroyed meanwhile: not found */
		atomic_fetch_add(&c.found, 1);
		/* (v.name is only valid while the region lives: not read) */
		if (!v.region || v.offset != 5 * PG + 3)
			atomic_fetch_add(&c.bad, 1);
	}
	atomic_store(&c.stop, true);
	pthread_join(t, NULL);
	ok(atomic_load(&c.bad) == 0 && atomic_load(&c.found) > 0,
	   "attribution: %ld lookups against create/destroy, each named the region it "
	   "checked (%ld wrong)", atomic_load(&c.found), atomic_load(&c.bad));
}

/* ---- 2 MiB pages ------------------------------------------------------- */

#define NR_HUGE	"/proc/sys/vm/nr_hugepages"

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static bool write_long(const char *path, long v)
{
	FILE *f = fopen(path, "we");
	bool okw;

	if (!f)
		return false;
	okw = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && okw;
}

static void huge_checks(struct gmem *g)
{
	bool same = true;
	uint64_t i;

	ok_eq(gmem_granule(g), HPG, "huge: the conversion granule is 2 MiB");
	ok_eq(gmem_share(g, 0, PG), -EINVAL, "huge: a 4 KiB conversion is refused (-EINVAL)");
	ok_eq(gmem_share(g, HPG / 2, HPG), -EINVAL, "huge: an unaligned 2 MiB is refused");
	for (i = 0; i < HPG; i += 4096)
		*slot(g, HPG + i) = (uint8_t)(i >> 12);
	ok_eq(gmem_share(g, HPG, HPG), 0, "huge: share one 2 MiB page");
	for (i = 0; i < HPG; i += 4096)
		same &= *view(g, HPG + i) == (uint8_t)(i >> 12);
	ok(same, "huge: the host sees the guest's data in place");
	ok(violation_try_access(g, 0, false) == -EFAULT &&
	   violation_try_access(g, 2 * HPG + 5, true) == -EFAULT,
	   "huge: private huge pages fault for the host");
	memset(view(g, HPG), 0x11, 4096);
	ok(gmem_unshare(g, HPG, HPG) == 0 && violation_try_access(g, HPG, false) == -EFAULT &&
	   *slot(g, HPG) == 0x11, "huge: unshare revokes the page, contents kept");
	ok(gmem_share(g, HPG, HPG) == 0 && *view(g, HPG + 4096) == 1,
	   "huge: share again, contents kept");
}

static void test_huge(void)
{
	struct gmem_config cfg = { .size = 3 * HPG, .vm_fd = -1,
				   .backing = GMEM_BACKING_HUGETLB };
	long before = read_long(NR_HUGE), freep = gmem_huge_pages_free();
	bool raised = false;
	struct gmem *g = NULL;
	int err;

	ok_eq(gmem_create(&cfg, &g), -EINVAL, "huge: the lazy model on hugetlb is refused");
	cfg.model = GMEM_MODEL_EAGER;
	cfg.size = HPG + PG;
	ok_eq(gmem_create(&cfg, &g), -EINVAL, "huge: a size not a multiple of 2 MiB is refused");
	cfg.size = 3 * HPG;
	if (freep < 3 && before >= 0 && write_long(NR_HUGE, before + 3 - (freep > 0 ? freep : 0)))
		raised = true;
	err = gmem_create(&cfg, &g);
	if (err == -ENOSPC || err == -EOPNOTSUPP) {
		tap_skip(8, err == -ENOSPC ?
			 "no 2 MiB pages could be reserved (vm.nr_hugepages; needs root)" :
			 "hugetlb memfd not offered by this kernel");
	} else {
		ok_eq(err, 0, "huge: eager region of 3 x 2 MiB pages");
		if (g)
			huge_checks(g);
		else
			tap_skip(7, "no region");
	}
	gmem_destroy(g);
	if (raised)
		write_long(NR_HUGE, before);
}

int main(void)
{
	violation_watch();
	alt_bytes = alt_size();
	test_eager_kernel_access();
	test_alternating();
	test_destructive_order();
	test_unpin_race();
	test_attribution_race();
	test_huge();
	return tap_done();
}
