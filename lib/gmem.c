// SPDX-License-Identifier: GPL-2.0
/*
 * gmem: guest memory regions with per-page private/shared state.
 *
 * See include/gmemkit/gmem.h for the model.  Locking: conversions of a
 * region hold conv_lock; pin and unpin work on the per-page words with
 * compare-and-swap.  An unshare first marks every shared page of the range
 * busy (which fails if the page is pinned and makes later pins fail), then
 * changes the protection, then publishes the private state; a share changes
 * the protection before publishing the shared state.  A page is therefore
 * never published shared while the host view cannot reach it, and never
 * made unreachable while a pin is held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sched.h>
#include <unistd.h>

#include "uapi/kvm_compat.h"
#include "gmem_internal.h"

#define PAGE_MASK	(GMEM_PAGE_SIZE - 1)

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB	(21U << 26)	/* linux/memfd.h: log2(2 MiB) << MFD_HUGE_SHIFT */
#endif

static void boundaries_release(uint64_t n);

static inline uint64_t pg(uint64_t off)
{
	return off >> GMEM_PAGE_SHIFT;
}

/* Validate a page-granular range; 0 or the errno documented in gmem.h. */
static int check_range(const struct gmem *g, uint64_t off, uint64_t len)
{
	if (!g)
		return -EINVAL;
	if ((off | len) & PAGE_MASK || !len)
		return -EINVAL;
	if (off + len < off)
		return -EOVERFLOW;
	if (off + len > g->size)
		return -ERANGE;
	return 0;
}

/* Validate a byte-granular range. */
static int check_bytes(const struct gmem *g, uint64_t off, uint64_t len)
{
	if (!g || !len)
		return -EINVAL;
	if (off + len < off)
		return -EOVERFLOW;
	if (off + len > g->size)
		return -ERANGE;
	return 0;
}

/* ---- creation ---------------------------------------------------------- */

static int open_guest_memfd(int vm_fd, uint64_t size)
{
	struct kvm_create_guest_memfd args = {
		.size = size,
		.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
	};
	int fd = ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, &args);

	return fd < 0 ? -errno : fd;
}

static int open_memfd(const char *name, uint64_t size, bool huge)
{
	unsigned int flags = MFD_CLOEXEC | (huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0);
	int fd = memfd_create(name, flags);

	if (fd < 0)
		return huge && errno == EINVAL ? -EOPNOTSUPP : -errno;
	if (ftruncate(fd, (off_t)size)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int map_both(struct gmem *g, bool shared)
{
	void *slot, *view;

	slot = mmap(NULL, g->size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	if (slot == MAP_FAILED)
		goto err;
	view = mmap(NULL, g->size, shared ? PROT_READ | PROT_WRITE : PROT_NONE,
		    MAP_SHARED, g->fd, 0);
	if (view == MAP_FAILED) {
		int err = errno;

		munmap(slot, g->size);
		errno = err;
		goto err;
	}
	g->memslot = slot;
	g->view = view;
	return 0;
err:
	/* hugetlb reserves its pages at mmap: ENOMEM means too few. */
	return g->backing == GMEM_BACKING_HUGETLB && errno == ENOMEM ? -ENOSPC : -errno;
}

/* Open the backing file and map it; tries guest_memfd first on AUTO. */
static int open_backing(struct gmem *g, const struct gmem_config *cfg)
{
	bool shared = cfg->flags & GMEM_F_INIT_SHARED;
	bool huge = cfg->backing == GMEM_BACKING_HUGETLB;
	int fd, err;

	if ((cfg->backing == GMEM_BACKING_AUTO || cfg->backing == GMEM_BACKING_GUEST_MEMFD) &&
	    cfg->model == GMEM_MODEL_LAZY && cfg->vm_fd >= 0) {
		fd = open_guest_memfd(cfg->vm_fd, cfg->size);
		if (fd >= 0) {
			g->fd = fd;
			g->backing = GMEM_BACKING_GUEST_MEMFD;
			err = map_both(g, shared);
			if (!err)
				return 0;
			close(fd);
		}
		if (cfg->backing == GMEM_BACKING_GUEST_MEMFD)
			return -EOPNOTSUPP;
	}
	fd = open_memfd(g->name, cfg->size, huge);
	if (fd < 0)
		return fd;
	g->fd = fd;
	g->backing = huge ? GMEM_BACKING_HUGETLB : GMEM_BACKING_MEMFD;
	err = map_both(g, shared);
	if (err)
		close(fd);
	return err;
}

static int check_config(const struct gmem_config *cfg)
{
	if (!cfg->size || cfg->size & PAGE_MASK)
		return -EINVAL;
	if (cfg->size > GMEM_MAX_SIZE)
		return -E2BIG;
	if (cfg->backing > GMEM_BACKING_HUGETLB || cfg->mode > GMEM_MODE_DESTRUCTIVE ||
	    cfg->model > GMEM_MODEL_EAGER)
		return -EINVAL;
	if (cfg->flags & ~GMEM_F_ALL)
		return -EINVAL;
	if (cfg->backing == GMEM_BACKING_GUEST_MEMFD &&
	    (cfg->vm_fd < 0 || cfg->model != GMEM_MODEL_LAZY))
		return -EINVAL;
	if (cfg->backing == GMEM_BACKING_HUGETLB &&
	    (cfg->model != GMEM_MODEL_EAGER || cfg->size & (GMEM_HUGE_PAGE_SIZE - 1)))
		return -EINVAL;
	return 0;
}

int gmem_create(const struct gmem_config *cfg, struct gmem **out)
{
	struct gmem *g;
	uint64_t i;
	int err;

	if (!cfg || !out)
		return -EINVAL;
	err = check_config(cfg);
	if (err)
		return err;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	snprintf(g->name, sizeof(g->name), "%s", cfg->name ? cfg->name : "gmem");
	g->size = cfg->size;
	g->npages = pg(cfg->size);
	g->mode = cfg->mode;
	g->model = cfg->model;
	g->backend = cfg->model == GMEM_MODEL_EAGER ? &gmem_backend_uffd :
						      &gmem_backend_hostview;
	g->granule = cfg->backing == GMEM_BACKING_HUGETLB ? GMEM_HUGE_PAGE_SIZE :
							     GMEM_PAGE_SIZE;
	g->fd = -1;
	g->uffd = -1;
	g->pages = calloc(g->npages, sizeof(*g->pages));
	if (!g->pages) {
		err = -ENOMEM;
		goto err_free;
	}
	if (cfg->flags & GMEM_F_INIT_SHARED) {
		for (i = 0; i < g->npages; i++)
			atomic_init(&g->pages[i], PG_SHARED);
		atomic_init(&g->shared, g->npages);
	}
	pthread_mutex_init(&g->conv_lock, NULL);
	err = open_backing(g, cfg);
	if (err)
		goto err_pages;
	err = g->backend->setup(g, cfg->flags & GMEM_F_INIT_SHARED);
	if (err)
		goto err_unmap;
	err = gmem_fault_register(g);
	if (err)
		goto err_unmap;
	*out = g;
	return 0;

err_unmap:
	if (g->uffd >= 0)
		close(g->uffd);
	munmap(g->view, g->size);
	munmap(g->memslot, g->size);
	close(g->fd);
err_pages:
	pthread_mutex_destroy(&g->conv_lock);
	free((void *)g->pages);
err_free:
	free(g);
	return err;
}

void gmem_destroy(struct gmem *g)
{
	if (!g)
		return;
	gmem_fault_unregister(g);
	if (g->model == GMEM_MODEL_LAZY)
		boundaries_release(g->boundaries);
	if (g->uffd >= 0)
		close(g->uffd);
	munmap(g->view, g->size);
	munmap(g->memslot, g->size);
	close(g->fd);
	pthread_mutex_destroy(&g->conv_lock);
	free((void *)g->pages);
	free(g);
}

/* ---- conversion -------------------------------------------------------- */

static inline bool word_in_state(uint32_t w, enum gmem_state s)
{
	return s == GMEM_SHARED ? !!(w & PG_SHARED) : !(w & PG_SHARED);
}

/*
 * Unshare, step 1: mark every shared page of [first, last) busy.  The whole
 * range is checked for pins first, so that an unshare refused for a pinned
 * page never marks (and makes pins fail on) the other pages of the range.
 * A pin that races in between the check and the marking still refuses the
 * unshare (-EBUSY), undoing the marks already made.
 */
static int mark_busy(struct gmem *g, uint64_t first, uint64_t last)
{
	uint64_t i;

	for (i = first; i < last; i++)
		if (atomic_load_explicit(&g->pages[i], memory_order_relaxed) & PG_PINNED)
			return -EBUSY;
	for (i = first; i < last; i++) {
		uint32_t w = atomic_load_explicit(&g->pages[i], memory_order_relaxed);

		do {
			if (!(w & PG_SHARED))
				break;
			if (w & PG_PINNED)
				goto busy;
		} while (!atomic_compare_exchange_weak(&g->pages[i], &w,
						       PG_SHARED | PG_BUSY));
	}
	return 0;
busy:
	while (i-- > first)
		if (atomic_load_explicit(&g->pages[i], memory_order_relaxed) & PG_BUSY)
			atomic_store(&g->pages[i], PG_SHARED);
	return -EBUSY;
}

/* Is page i one that this conversion changes? (called under conv_lock) */
static inline bool changes(struct gmem *g, uint64_t i, enum gmem_state to)
{
	uint32_t w = atomic_load_explicit(&g->pages[i], memory_order_relaxed);

	return to == GMEM_SHARED ? !(w & PG_SHARED) : !!(w & PG_BUSY);
}

/* Find the next run [*rs, *re) of pages changing state, from *rs on. */
static bool next_run(struct gmem *g, uint64_t *rs, uint64_t *re, uint64_t last,
		     enum gmem_state to)
{
	uint64_t i = *rs;

	while (i < last && !changes(g, i, to))
		i++;
	if (i == last)
		return false;
	*rs = i;
	while (i < last && changes(g, i, to))
		i++;
	*re = i;
	return true;
}

static int apply_run(struct gmem *g, uint64_t rs, uint64_t re, enum gmem_state to)
{
	return g->backend->set_state(g, rs << GMEM_PAGE_SHIFT, (re - rs) << GMEM_PAGE_SHIFT,
				     to, false);
}

/* Undo the mapping change of the runs in [first, upto). */
static void revert_runs(struct gmem *g, uint64_t first, uint64_t upto,
			enum gmem_state to)
{
	enum gmem_state from = to == GMEM_SHARED ? GMEM_PRIVATE : GMEM_SHARED;
	uint64_t rs = first, re;

	while (rs < upto && next_run(g, &rs, &re, upto, to)) {
		g->backend->set_state(g, rs << GMEM_PAGE_SHIFT,
				      (re - rs) << GMEM_PAGE_SHIFT, from, true);
		rs = re;
	}
}

/*
 * Destructive mode: discard the contents of the changed runs, after their
 * mapping changed (so that a refused mapping change keeps the contents).
 * The eager model's to-shared discards inside its mapping change (a hole
 * in a mapped run would fault), so there is nothing left to do here.
 */
static int discard_runs(struct gmem *g, uint64_t first, uint64_t last,
			enum gmem_state to)
{
	uint64_t rs = first, re;

	if (g->mode != GMEM_MODE_DESTRUCTIVE ||
	    (g->model == GMEM_MODEL_EAGER && to == GMEM_SHARED))
		return 0;
	while (next_run(g, &rs, &re, last, to)) {
		if (fallocate(g->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(rs << GMEM_PAGE_SHIFT),
			      (off_t)((re - rs) << GMEM_PAGE_SHIFT)))
			return -errno;
		rs = re;
	}
	return 0;
}

/* Change the mapping of every changing run of [first, last), or none. */
static int apply_runs(struct gmem *g, uint64_t first, uint64_t last,
		      enum gmem_state to)
{
	uint64_t rs = first, re, runs = 0;
	int err;

	while (next_run(g, &rs, &re, last, to)) {
		err = apply_run(g, rs, re, to);
		if (err) {
			revert_runs(g, first, rs, to);
			return err;
		}
		runs++;
		rs = re;
	}
	err = discard_runs(g, first, last, to);
	if (err) {
		revert_runs(g, first, last, to);
		return err;
	}
	atomic_fetch_add_explicit(&g->cnt.prot_changes, runs, memory_order_relaxed);
	return 0;
}

/* Publish the new state of the changed pages; returns how many changed. */
static uint64_t publish(struct gmem *g, uint64_t first, uint64_t last,
			enum gmem_state to)
{
	uint64_t i, n = 0;

	for (i = first; i < last; i++) {
		if (!changes(g, i, to))
			continue;
		atomic_store_explicit(&g->pages[i], to == GMEM_SHARED ? PG_SHARED : 0,
				      memory_order_release);
		n++;
	}
	return n;
}

/* Undo mark_busy() after a failed unshare. */
static void clear_busy(struct gmem *g, uint64_t first, uint64_t last)
{
	uint64_t i;

	for (i = first; i < last; i++)
		if (atomic_load_explicit(&g->pages[i], memory_order_relaxed) & PG_BUSY)
			atomic_store(&g->pages[i], PG_SHARED);
}

static int check_strict(struct gmem *g, uint64_t first, uint64_t last,
			enum gmem_state to)
{
	uint64_t i;

	for (i = first; i < last; i++)
		if (word_in_state(atomic_load(&g->pages[i]), to))
			return -EALREADY;
	return 0;
}

/* ---- the lazy model's boundary budget ----------------------------------- */

/*
 * In the lazy model every shared/private boundary of the host view is a
 * VMA boundary.  A region may have GMEM_LAZY_MAX_BOUNDARIES of them, and
 * all lazy regions of the process together half of vm.max_map_count (the
 * other half is the rest of the process's: threads, io_uring, libraries).
 * A conversion over the budget is refused before anything changes.
 */
static atomic_uint_fast64_t process_boundaries;
static uint64_t process_budget_value;
static pthread_once_t process_budget_once = PTHREAD_ONCE_INIT;

static void read_process_budget(void)
{
	unsigned long max = 65530;	/* DEFAULT_MAX_MAP_COUNT */
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");

	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 65530;
		fclose(f);
	}
	process_budget_value = max / 2;
}

static uint64_t process_budget(void)
{
	pthread_once(&process_budget_once, read_process_budget);
	return process_budget_value;
}

static void boundaries_release(uint64_t n)
{
	if (n)
		atomic_fetch_sub(&process_boundaries, n);
}

static inline bool is_shared(struct gmem *g, uint64_t i)
{
	return atomic_load_explicit(&g->pages[i], memory_order_relaxed) & PG_SHARED;
}

/*
 * The region's boundary count once [first, last) is all in state to
 * (called under conv_lock, before anything changes: a conversion that
 * succeeds leaves every page of its range in the target state).
 */
static uint64_t boundaries_after(struct gmem *g, uint64_t first, uint64_t last,
				 enum gmem_state to)
{
	bool want = to == GMEM_SHARED;
	uint64_t i, old = 0, new = 0;

	for (i = first ? first : 1; i <= last && i < g->npages; i++)
		old += is_shared(g, i) != is_shared(g, i - 1);
	if (first)
		new += is_shared(g, first - 1) != want;
	if (last < g->npages)
		new += is_shared(g, last) != want;
	return g->boundaries - old + new;
}

/*
 * Take the process's budget for the lazy region's new count, or -ENOSPC;
 * *taken is what was taken (given back or kept by boundaries_settle()).
 */
static int boundaries_reserve(struct gmem *g, uint64_t after, uint64_t *taken)
{
	uint64_t more;

	*taken = 0;
	if (g->model != GMEM_MODEL_LAZY || after <= g->boundaries)
		return 0;
	if (after > GMEM_LAZY_MAX_BOUNDARIES)
		return -ENOSPC;
	more = after - g->boundaries;
	if (atomic_fetch_add(&process_boundaries, more) + more > process_budget()) {
		atomic_fetch_sub(&process_boundaries, more);
		return -ENOSPC;
	}
	*taken = more;
	return 0;
}

/* After the conversion: settle the count (and give back what it freed). */
static void boundaries_settle(struct gmem *g, uint64_t after, uint64_t taken, bool done)
{
	if (!done) {
		boundaries_release(taken);
		return;
	}
	if (g->model == GMEM_MODEL_LAZY && after < g->boundaries)
		boundaries_release(g->boundaries - after);
	g->boundaries = after;
}

static void count_done(struct gmem *g, uint64_t n, enum gmem_state to)
{
	if (to == GMEM_SHARED) {
		atomic_fetch_add(&g->shared, n);
		atomic_fetch_add_explicit(&g->cnt.pages_shared, n, memory_order_relaxed);
	} else {
		atomic_fetch_sub(&g->shared, n);
		atomic_fetch_add_explicit(&g->cnt.pages_unshared, n, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&g->cnt.conversions, 1, memory_order_relaxed);
}

static int convert_locked(struct gmem *g, uint64_t first, uint64_t last,
			  enum gmem_state to, bool strict)
{
	uint64_t after, taken;
	int err;

	if (strict) {
		err = check_strict(g, first, last, to);
		if (err)
			return err;
	}
	after = boundaries_after(g, first, last, to);
	err = boundaries_reserve(g, after, &taken);
	if (err)
		return err;
	if (to == GMEM_PRIVATE) {
		err = mark_busy(g, first, last);
		if (err) {
			atomic_fetch_add(&g->cnt.refusals, 1);
			goto out;
		}
	}
	err = apply_runs(g, first, last, to);
	if (err) {
		if (to == GMEM_PRIVATE)
			clear_busy(g, first, last);
		goto out;
	}
	count_done(g, publish(g, first, last, to), to);
out:
	boundaries_settle(g, after, taken, !err);
	return err;
}

int gmem_convert(struct gmem *g, uint64_t off, uint64_t len,
		 enum gmem_state to, unsigned int flags)
{
	bool strict;
	int err;

	err = check_range(g, off, len);
	if (err)
		return err;
	if ((off | len) & (g->granule - 1))
		return -EINVAL;
	if (flags & ~GMEM_CONV_ALL || (to != GMEM_SHARED && to != GMEM_PRIVATE))
		return -EINVAL;
	strict = (flags & GMEM_CONV_STRICT) || g->mode == GMEM_MODE_DESTRUCTIVE;
	pthread_mutex_lock(&g->conv_lock);
	err = convert_locked(g, pg(off), pg(off + len), to, strict);
	pthread_mutex_unlock(&g->conv_lock);
	return err;
}

int gmem_share(struct gmem *g, uint64_t off, uint64_t len)
{
	return gmem_convert(g, off, len, GMEM_SHARED, 0);
}

int gmem_unshare(struct gmem *g, uint64_t off, uint64_t len)
{
	return gmem_convert(g, off, len, GMEM_PRIVATE, 0);
}

/* ---- pins -------------------------------------------------------------- */

/* The pin count field of an owner in a page word, and its unit. */
static inline uint32_t pin_mask(enum gmem_pin_owner o)
{
	return o == GMEM_PIN_GUEST ? PG_GPINS : PG_PINS;
}

static inline uint32_t pin_unit(enum gmem_pin_owner o)
{
	return o == GMEM_PIN_GUEST ? 1U << PG_GPIN_SHIFT : 1U;
}

static void unpin_pages(struct gmem *g, uint64_t first, uint64_t last,
			enum gmem_pin_owner o)
{
	uint64_t i;

	for (i = first; i < last; i++)
		atomic_fetch_sub_explicit(&g->pages[i], pin_unit(o), memory_order_release);
}

static int pin_pages(struct gmem *g, uint64_t first, uint64_t last,
		     enum gmem_pin_owner o)
{
	uint32_t mask = pin_mask(o), unit = pin_unit(o);
	uint64_t i;
	int err;

	for (i = first; i < last; i++) {
		uint32_t w = atomic_load_explicit(&g->pages[i], memory_order_acquire);

		do {
			if (!(w & PG_SHARED)) {
				err = -EACCES;
				goto undo;
			}
			if (w & PG_BUSY) {
				err = -EBUSY;	/* being unshared right now */
				goto undo;
			}
			if ((w & mask) == mask) {
				err = -EMLINK;
				goto undo;
			}
		} while (!atomic_compare_exchange_weak_explicit(&g->pages[i], &w, w + unit,
								memory_order_acquire,
								memory_order_acquire));
	}
	atomic_fetch_add_explicit(&g->cnt.pins, 1, memory_order_relaxed);
	return 0;
undo:
	unpin_pages(g, first, i, o);
	return err;
}

static bool check_owner(enum gmem_pin_owner o)
{
	return o == GMEM_PIN_HOST || o == GMEM_PIN_GUEST;
}

int gmem_pin_as(struct gmem *g, uint64_t off, uint64_t len,
		enum gmem_pin_owner owner)
{
	int err = check_range(g, off, len);

	if (!err && !check_owner(owner))
		err = -EINVAL;
	return err ? err : pin_pages(g, pg(off), pg(off + len), owner);
}

int gmem_pin(struct gmem *g, uint64_t off, uint64_t len)
{
	return gmem_pin_as(g, off, len, GMEM_PIN_HOST);
}

/*
 * Hold page i for an unpin of owner o: set PG_HELD once the page has a pin
 * of o.  Another unpin holding the page is waited for (it holds a page for
 * a few compare-and-swaps); pins go on meanwhile (counts only grow), and
 * an unshare is refused (-EBUSY) while the page is held.
 */
static int hold_page(struct gmem *g, uint64_t i, uint32_t mask)
{
	uint32_t w = atomic_load_explicit(&g->pages[i], memory_order_relaxed);
	unsigned int spins = 0;

	for (;;) {
		if (w & PG_HELD) {
			if (++spins % 64 == 0)
				sched_yield();
			w = atomic_load_explicit(&g->pages[i], memory_order_relaxed);
			continue;
		}
		if (!(w & mask))
			return -ENOENT;
		if (atomic_compare_exchange_weak_explicit(&g->pages[i], &w, w | PG_HELD,
							  memory_order_acquire,
							  memory_order_relaxed))
			return 0;
	}
}

/*
 * Release one pin of owner o on every page, or none (-ENOENT, counted).
 * Every page is first held (checked, and kept from other unpins and from
 * unshares), then released: a refused unpin has only set and cleared
 * PG_HELD bits, and never gives a pin back.
 */
static int unpin_checked(struct gmem *g, uint64_t first, uint64_t last,
			 enum gmem_pin_owner o)
{
	uint32_t mask = pin_mask(o), unit = pin_unit(o);
	uint64_t i;

	for (i = first; i < last; i++) {
		if (hold_page(g, i, mask)) {
			while (i-- > first)
				atomic_fetch_and(&g->pages[i], ~PG_HELD);
			atomic_fetch_add(o == GMEM_PIN_HOST ? &g->cnt.unpin_missing :
					 &g->cnt.guest_unpin_refused, 1);
			return -ENOENT;
		}
	}
	/* Held pages keep their pin of o: each release below is exact. */
	for (i = first; i < last; i++)
		atomic_fetch_sub_explicit(&g->pages[i], unit | PG_HELD,
					  memory_order_release);
	return 0;
}

int gmem_unpin_as(struct gmem *g, uint64_t off, uint64_t len,
		  enum gmem_pin_owner owner)
{
	int err = check_range(g, off, len);

	if (!err && !check_owner(owner))
		err = -EINVAL;
	return err ? err : unpin_checked(g, pg(off), pg(off + len), owner);
}

int gmem_unpin(struct gmem *g, uint64_t off, uint64_t len)
{
	return gmem_unpin_as(g, off, len, GMEM_PIN_HOST);
}

static inline uint64_t last_page(uint64_t off, uint64_t len)
{
	return pg(off + len - 1) + 1;
}

int gmem_host_ptr(struct gmem *g, uint64_t off, uint64_t len, void **ptr)
{
	uint64_t i, last;
	int err = check_bytes(g, off, len);

	if (err)
		return err;
	if (!ptr)
		return -EINVAL;
	last = last_page(off, len);
	for (i = pg(off); i < last; i++) {
		uint32_t w = atomic_load_explicit(&g->pages[i], memory_order_acquire);

		if ((w & (PG_SHARED | PG_BUSY)) != PG_SHARED)
			return -EACCES;
	}
	*ptr = g->view + off;
	return 0;
}

int gmem_pin_ptr(struct gmem *g, uint64_t off, uint64_t len, void **ptr)
{
	int err = check_bytes(g, off, len);

	if (err)
		return err;
	if (!ptr)
		return -EINVAL;
	err = pin_pages(g, pg(off), last_page(off, len), GMEM_PIN_HOST);
	if (err)
		return err;
	*ptr = g->view + off;
	return 0;
}

int gmem_unpin_bytes(struct gmem *g, uint64_t off, uint64_t len)
{
	int err = check_bytes(g, off, len);

	return err ? err : unpin_checked(g, pg(off), last_page(off, len), GMEM_PIN_HOST);
}

/* ---- queries ----------------------------------------------------------- */

static int page_word(struct gmem *g, uint64_t off, uint32_t *w)
{
	if (!g)
		return -EINVAL;
	if (off >= g->size)
		return -ERANGE;
	*w = atomic_load(&g->pages[pg(off)]);
	return 0;
}

int gmem_page_state(struct gmem *g, uint64_t off)
{
	uint32_t w;
	int err = page_word(g, off, &w);

	return err ? err : (w & PG_SHARED ? GMEM_SHARED : GMEM_PRIVATE);
}

int gmem_page_pins(struct gmem *g, uint64_t off)
{
	uint32_t w;
	int err = page_word(g, off, &w);

	return err ? err : (int)(w & PG_PINS) + (int)((w & PG_GPINS) >> PG_GPIN_SHIFT);
}

int gmem_page_pins_of(struct gmem *g, uint64_t off, enum gmem_pin_owner owner)
{
	uint32_t w;
	int err = page_word(g, off, &w);

	if (!err && !check_owner(owner))
		err = -EINVAL;
	return err ? err : (int)((w & pin_mask(owner)) / pin_unit(owner));
}

uint64_t gmem_shared_pages(struct gmem *g)
{
	return atomic_load(&g->shared);
}

void gmem_get_stats(struct gmem *g, struct gmem_stats *st)
{
	st->conversions = atomic_load(&g->cnt.conversions);
	st->pages_shared = atomic_load(&g->cnt.pages_shared);
	st->pages_unshared = atomic_load(&g->cnt.pages_unshared);
	st->prot_changes = atomic_load(&g->cnt.prot_changes);
	st->refusals = atomic_load(&g->cnt.refusals);
	st->violations = atomic_load(&g->cnt.violations);
	st->pins = atomic_load(&g->cnt.pins);
	st->probe_faults = atomic_load(&g->cnt.probe_faults);
	st->unpin_missing = atomic_load(&g->cnt.unpin_missing);
	st->guest_unpin_refused = atomic_load(&g->cnt.guest_unpin_refused);
}

uint64_t gmem_size(const struct gmem *g) { return g->size; }
int gmem_fd(const struct gmem *g) { return g->fd; }
const char *gmem_name(const struct gmem *g) { return g->name; }
enum gmem_backing gmem_backing(const struct gmem *g) { return g->backing; }
enum gmem_mode gmem_mode(const struct gmem *g) { return g->mode; }
enum gmem_model gmem_model(const struct gmem *g) { return g->model; }
uint64_t gmem_granule(const struct gmem *g) { return g->granule; }
const char *gmem_backend_name(const struct gmem *g) { return g->backend->name; }
void *gmem_host_view(const struct gmem *g) { return g->view; }
void *gmem_memslot_addr(const struct gmem *g) { return g->memslot; }

uint64_t gmem_boundaries(const struct gmem *g)
{
	return g->boundaries;
}

const char *gmem_backing_name(enum gmem_backing b)
{
	switch (b) {
	case GMEM_BACKING_GUEST_MEMFD:
		return "guest_memfd";
	case GMEM_BACKING_MEMFD:
		return "memfd";
	case GMEM_BACKING_HUGETLB:
		return "hugetlb";
	default:
		return "auto";
	}
}

const char *gmem_model_name(enum gmem_model m)
{
	return m == GMEM_MODEL_EAGER ? "eager" : "lazy";
}

long gmem_huge_pages_free(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "re");
	long n;

	if (!f)
		return -errno;
	if (fscanf(f, "%ld", &n) != 1)
		n = -EIO;
	fclose(f);
	return n;
}
