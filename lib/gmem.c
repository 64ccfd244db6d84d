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
#include <unistd.h>

#include "uapi/kvm_compat.h"
#include "gmem_internal.h"

#define PAGE_MASK	(GMEM_PAGE_SIZE - 1)

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

static int open_memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
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
		return -errno;
	view = mmap(NULL, g->size, shared ? PROT_READ | PROT_WRITE : PROT_NONE,
		    MAP_SHARED, g->fd, 0);
	if (view == MAP_FAILED) {
		int err = -errno;

		munmap(slot, g->size);
		return err;
	}
	g->memslot = slot;
	g->view = view;
	return 0;
}

/* Open the backing file and map it; tries guest_memfd first on AUTO. */
static int open_backing(struct gmem *g, const struct gmem_config *cfg)
{
	bool shared = cfg->flags & GMEM_F_INIT_SHARED;
	int fd, err;

	if (cfg->backing != GMEM_BACKING_MEMFD && cfg->vm_fd >= 0) {
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
	fd = open_memfd(g->name, cfg->size);
	if (fd < 0)
		return fd;
	g->fd = fd;
	g->backing = GMEM_BACKING_MEMFD;
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
	if (cfg->backing > GMEM_BACKING_MEMFD || cfg->mode > GMEM_MODE_DESTRUCTIVE)
		return -EINVAL;
	if (cfg->flags & ~GMEM_F_ALL)
		return -EINVAL;
	if (cfg->backing == GMEM_BACKING_GUEST_MEMFD && cfg->vm_fd < 0)
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
	g->backend = &gmem_backend_hostview;
	g->fd = -1;
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
	err = gmem_fault_register(g);
	if (err)
		goto err_unmap;
	*out = g;
	return 0;

err_unmap:
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
	uint64_t off = rs << GMEM_PAGE_SHIFT, len = (re - rs) << GMEM_PAGE_SHIFT;
	int err;

	/* Destructive: the contents go, whichever way the pages convert. */
	if (g->mode == GMEM_MODE_DESTRUCTIVE &&
	    fallocate(g->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len))
		return -errno;
	err = g->backend->set_state(g, off, len, to);
	if (!err)
		atomic_fetch_add_explicit(&g->cnt.prot_changes, 1, memory_order_relaxed);
	return err;
}

/* Undo the protection change of the runs in [first, upto). */
static void revert_runs(struct gmem *g, uint64_t first, uint64_t upto,
			enum gmem_state to)
{
	enum gmem_state from = to == GMEM_SHARED ? GMEM_PRIVATE : GMEM_SHARED;
	uint64_t rs = first, re;

	while (rs < upto && next_run(g, &rs, &re, upto, to)) {
		g->backend->set_state(g, rs << GMEM_PAGE_SHIFT,
				      (re - rs) << GMEM_PAGE_SHIFT, from);
		rs = re;
	}
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

static int convert_locked(struct gmem *g, uint64_t first, uint64_t last,
			  enum gmem_state to, bool strict)
{
	uint64_t rs = first, re, n;
	int err;

	if (strict) {
		err = check_strict(g, first, last, to);
		if (err)
			return err;
	}
	if (to == GMEM_PRIVATE) {
		err = mark_busy(g, first, last);
		if (err) {
			atomic_fetch_add(&g->cnt.refusals, 1);
			return err;
		}
	}
	while (next_run(g, &rs, &re, last, to)) {
		err = apply_run(g, rs, re, to);
		if (err) {
			revert_runs(g, first, rs, to);
			if (to == GMEM_PRIVATE)
				clear_busy(g, first, last);
			return err;
		}
		rs = re;
	}
	n = publish(g, first, last, to);
	if (to == GMEM_SHARED) {
		atomic_fetch_add(&g->shared, n);
		atomic_fetch_add_explicit(&g->cnt.pages_shared, n, memory_order_relaxed);
	} else {
		atomic_fetch_sub(&g->shared, n);
		atomic_fetch_add_explicit(&g->cnt.pages_unshared, n, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&g->cnt.conversions, 1, memory_order_relaxed);
	return 0;
}

int gmem_convert(struct gmem *g, uint64_t off, uint64_t len,
		 enum gmem_state to, unsigned int flags)
{
	bool strict;
	int err;

	err = check_range(g, off, len);
	if (err)
		return err;
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

/* Release one pin of owner o on every page, or none (-ENOENT, counted). */
static int unpin_checked(struct gmem *g, uint64_t first, uint64_t last,
			 enum gmem_pin_owner o)
{
	uint32_t mask = pin_mask(o), unit = pin_unit(o);
	uint64_t i;

	for (i = first; i < last; i++) {
		uint32_t w = atomic_load_explicit(&g->pages[i], memory_order_relaxed);

		do {
			if (!(w & mask)) {
				/* Give back what this call took. */
				while (i-- > first)
					atomic_fetch_add(&g->pages[i], unit);
				atomic_fetch_add(o == GMEM_PIN_HOST ? &g->cnt.unpin_missing :
						 &g->cnt.guest_unpin_refused, 1);
				return -ENOENT;
			}
		} while (!atomic_compare_exchange_weak_explicit(&g->pages[i], &w, w - unit,
								memory_order_release,
								memory_order_relaxed));
	}
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
const char *gmem_backend_name(const struct gmem *g) { return g->backend->name; }
void *gmem_host_view(const struct gmem *g) { return g->view; }
void *gmem_memslot_addr(const struct gmem *g) { return g->memslot; }
