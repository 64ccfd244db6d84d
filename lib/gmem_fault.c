// SPDX-License-Identifier: GPL-2.0
/*
 * Which region a host address belongs to: the registry a fault handler
 * asks when the VMM faults on a private page.
 *
 * gmem installs no signal handler.  Every region's host view is entered
 * in a lock-free registry at creation; a SIGSEGV handler (the test
 * support's harness/violation.c, installed by the program that wants it)
 * calls gmem_fault_attribute() with the faulting address, which counts
 * the fault in the region it hits (a violation, or a deliberate probe)
 * and describes it.  Without a handler a host access to a private page is
 * a plain SIGSEGV.
 *
 * Lifetime rule: the registry slots are static and outlive their regions.
 * gmem_fault_attribute() holds a slot (slot->users) while it looks at the
 * region in it; gmem_fault_unregister() empties the slot and then waits
 * until nobody holds it, so gmem_destroy() frees the region only once no
 * handler can still read it.
 */
#include <errno.h>
#include <sched.h>

#include "gmem_internal.h"

#define GMEM_MAX_REGIONS	256

struct fault_slot {
	struct gmem *_Atomic g;
	atomic_int users;		/* handlers looking at g now */
};

static struct fault_slot registry[GMEM_MAX_REGIONS];

/*
 * The slot whose region's host view holds addr, held (users + 1), or NULL;
 * *gp is the region that was checked, the only one the caller may use
 * (the slot's pointer may change once it is emptied, but the region it
 * held is not freed while the slot is held).
 */
static struct fault_slot *lookup(uintptr_t addr, struct gmem **gp)
{
	int i;

	for (i = 0; i < GMEM_MAX_REGIONS; i++) {
		struct fault_slot *s = &registry[i];
		struct gmem *g;

		if (!atomic_load(&s->g))
			continue;
		atomic_fetch_add(&s->users, 1);
		g = atomic_load(&s->g);
		if (g && addr >= (uintptr_t)g->view &&
		    addr - (uintptr_t)g->view < g->size) {
			*gp = g;
			return s;
		}
		atomic_fetch_sub(&s->users, 1);
	}
	return NULL;
}

int gmem_fault_register(struct gmem *g)
{
	int i;

	for (i = 0; i < GMEM_MAX_REGIONS; i++) {
		struct gmem *expect = NULL;

		/* A slot still held by a handler is not reused until let go. */
		if (atomic_load(&registry[i].users))
			continue;
		if (atomic_compare_exchange_strong(&registry[i].g, &expect, g)) {
			g->slot = i;
			return 0;
		}
	}
	return -EMFILE;
}

void gmem_fault_unregister(struct gmem *g)
{
	struct fault_slot *s = &registry[g->slot];

	atomic_store(&s->g, NULL);
	/* A handler that found g before the store may still read it. */
	while (atomic_load(&s->users))
		sched_yield();
}

int gmem_fault_attribute(const void *addr, bool write, bool probe,
			 struct gmem_violation *v)
{
	struct gmem *g = NULL;
	struct fault_slot *s = lookup((uintptr_t)addr, &g);

	if (!s)
		return -ENOENT;
	if (probe) {
		atomic_fetch_add(&g->cnt.probe_faults, 1);
	} else {
		atomic_fetch_add(&g->cnt.violations, 1);
		if (v) {
			v->region = g;
			v->name = g->name;
			v->offset = (uintptr_t)addr - (uintptr_t)g->view;
			v->write = write;
		}
	}
	atomic_fetch_sub(&s->users, 1);
	return 0;
}
