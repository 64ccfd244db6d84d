/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe_copy: a memcpy that a fault need not turn into a crash.
 *
 * A device that moves data with the CPU (the ram backend) copies through
 * the host view of guest memory.  The device checks and pins every buffer
 * first, so the copy should never meet a private or unmapped page; if one
 * does all the same (a page made inaccessible behind the device's back),
 * the copy must fail the request, not kill the VMM.  safe_copy() is
 * memcpy() (the same instructions, the same page faults on pages that are
 * merely not yet mapped) with a recovery point: when a SIGSEGV or SIGBUS
 * handler calls safe_copy_recover() for a fault inside the bytes being
 * copied, safe_copy() returns -EFAULT, and the fault is counted as a
 * protection violation of the gmem region that holds the address, if one
 * does (gmem_fault_attribute(), not a probe).
 *
 * The product library installs no signal handler (gmem.h: the program
 * decides what a fault is): the test support's violation handler
 * (harness/violation.h), which `gmemkit` installs at start, calls
 * safe_copy_recover() first, for SIGSEGV and SIGBUS.  Without such a
 * handler a fault in safe_copy() is the process's SIGSEGV or SIGBUS, as
 * for any other host access.
 */
#ifndef GMEMKIT_SAFE_COPY_H
#define GMEMKIT_SAFE_COPY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * safe_copy() - memcpy(dst, src, len); 0, or -EFAULT when an access to
 * [dst, dst + len) or [src, src + len) faulted and a handler recovered it
 * (the bytes before the fault may have been copied).  len 0 copies
 * nothing.
 */
int safe_copy(void *dst, const void *src, size_t len);

/*
 * safe_copy_recover() - for a SIGSEGV/SIGBUS handler, async-signal-safe:
 * if this thread is inside safe_copy() and info's address lies in the
 * bytes it copies, count the fault and make safe_copy() return -EFAULT
 * (does not return; the signal is unblocked first).  Returns false
 * otherwise (a sent signal, a fault elsewhere, no copy in progress).
 */
bool safe_copy_recover(int sig, const siginfo_t *info);

#endif /* GMEMKIT_SAFE_COPY_H */
