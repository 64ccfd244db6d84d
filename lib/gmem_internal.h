/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gmem internals shared by lib/gmem*.c.  Not a public header.
 */
#ifndef GMEMKIT_LIB_GMEM_INTERNAL_H
#define GMEMKIT_LIB_GMEM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "gmemkit/gmem.h"

/*
 * Per-page state word (4 bytes per 4 KiB page):
 *   bit 31       shared
 *   bit 30       busy: an unshare is converting this page; pins refused
 *   bits 24..29  guest-owned pin count (GMEM_PIN_GUEST)
 *   bit 23       held: an unpin has checked this page and will release one
 *                pin of it; other unpins wait, unshares are refused
 *   bits 0..22   host-owned pin count (GMEM_PIN_HOST: VMM and devices)
 * Words of private pages only change under conv_lock; words of shared pages
 * also change by compare-and-swap in pin/unpin.  One word holds both
 * owners' counts, so an unpin checks and decrements its own owner's count
 * in one compare-and-swap.
 */
#define PG_SHARED	(1U << 31)
#define PG_BUSY		(1U << 30)
#define PG_HELD		(1U << 23)
#define PG_PINS		GMEM_PIN_MAX
#define PG_GPIN_SHIFT	24
#define PG_GPINS	(GMEM_GUEST_PIN_MAX << PG_GPIN_SHIFT)
#define PG_PINNED	(PG_PINS | PG_GPINS | PG_HELD)

/*
 * A backend changes the host view's mapping of a run of pages (one per
 * conversion model, lib/gmem_backend.c).  setup() runs once at creation,
 * after both mappings exist and before the region is published; set_state()
 * runs under conv_lock.  In destructive mode set_state() is called before
 * the contents are discarded (to-private: the host loses the pages first)
 * and is called again with the old state and undo set to revert a change
 * when a later step fails: an undo keeps the contents.  A backend for KVM_SET_MEMORY_ATTRIBUTES would also tell
 * KVM the new attribute for the run, where the host offers
 * KVM_CAP_MEMORY_ATTRIBUTES.
 */
struct gmem_backend {
	const char *name;
	int (*setup)(struct gmem *g, bool shared);
	int (*set_state)(struct gmem *g, uint64_t off, uint64_t len,
			 enum gmem_state to, bool undo);
};

extern const struct gmem_backend gmem_backend_hostview;	/* lazy */
extern const struct gmem_backend gmem_backend_uffd;	/* eager */

struct gmem_counters {
	atomic_uint_fast64_t conversions;
	atomic_uint_fast64_t pages_shared;
	atomic_uint_fast64_t pages_unshared;
	atomic_uint_fast64_t prot_changes;
	atomic_uint_fast64_t refusals;
	atomic_uint_fast64_t violations;
	atomic_uint_fast64_t pins;
	atomic_uint_fast64_t probe_faults;
	atomic_uint_fast64_t unpin_missing;
	atomic_uint_fast64_t guest_unpin_refused;
};

struct gmem {
	char name[32];
	uint64_t size;
	uint64_t npages;
	int fd;
	enum gmem_backing backing;
	enum gmem_mode mode;
	enum gmem_model model;
	uint64_t granule;		/* conversion unit: 4 KiB or 2 MiB */
	int uffd;			/* eager: the userfaultfd, else -1 */
	uint64_t boundaries;		/* shared/private edges (conv_lock) */
	void *memslot;			/* KVM's mapping: never touched here */
	uint8_t *view;			/* host view */
	_Atomic uint32_t *pages;
	atomic_uint_fast64_t shared;	/* number of shared pages */
	pthread_mutex_t conv_lock;
	const struct gmem_backend *backend;
	struct gmem_counters cnt;
	int slot;			/* index in the fault registry */
};

/* lib/gmem_fault.c */
int gmem_fault_register(struct gmem *g);
void gmem_fault_unregister(struct gmem *g);

#endif /* GMEMKIT_LIB_GMEM_INTERNAL_H */
