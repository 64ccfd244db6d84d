/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test support: a SIGSEGV / SIGBUS handler that names host accesses to
 * private pages, and a probe that asks whether a page of a region is
 * reachable.
 *
 * violation_watch() installs (once per process) a handler for the faults
 * a host access to a private page raises: SIGSEGV with si_code
 * SEGV_ACCERR (the lazy model's PROT_NONE pages) and SIGBUS with si_code
 * BUS_ADRERR (the eager model's userfaultfd in SIGBUS mode).  It asks
 * gmem_fault_attribute() whether the address lies in a region's host
 * view.  Such a fault is a violation: counted in the region's
 * stats.violations, recorded for violation_last(), handed to the callback
 * if one is set, and then the process prints the region, offset and
 * signal and dies of it.  Anything else (a fault outside every region,
 * SEGV_MAPERR, a signal sent with kill() or sigqueue()) goes to the
 * handler that was installed before for that signal.
 *
 * A fault of a violation_try_access() probe at the probed byte is not a
 * violation: it is counted in stats.probe_faults only and the probe
 * returns -EFAULT.
 *
 * A fault inside a safe_copy() (gmemkit/safe_copy.h: the ram backend's
 * copies) is recovered first, for SIGSEGV and, through a SIGBUS handler
 * installed alongside, SIGBUS: counted as a violation of its region, and
 * the copy returns -EFAULT instead of the process dying.
 */
#ifndef GMEMKIT_HARNESS_VIOLATION_H
#define GMEMKIT_HARNESS_VIOLATION_H

#include <stdbool.h>
#include <stdint.h>

#include "gmemkit/gmem.h"

/* Install the handlers (idempotent).  0, or -errno of sigaction(). */
int violation_watch(void);

typedef void (*violation_fn)(const struct gmem_violation *v, void *arg);

/* Set (or clear, fn == NULL) the process-wide violation callback.  The
 * callback runs in signal context: async-signal-safe code only. */
void violation_set_callback(violation_fn fn, void *arg);

/* Last violation seen by this process; false if none. */
bool violation_last(struct gmem_violation *v);

/*
 * violation_try_access() - probe one byte of g's host view at off (read,
 * or a write that changes nothing if write) and report whether it faulted.
 * Installs the handler if it is not yet.
 *   0         accessible
 *   -EFAULT   the access faulted (counted in stats.probe_faults, not as a
 *             violation)
 *   -EINVAL   g NULL
 *   -ERANGE   off outside the region
 *   or the errno of violation_watch()
 */
int violation_try_access(struct gmem *g, uint64_t off, bool write);

#endif /* GMEMKIT_HARNESS_VIOLATION_H */
