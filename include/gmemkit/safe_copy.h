/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe_copy: a memcpy that a fault cannot turn into a crash.
 *
 * A device that moves data with the CPU (the ram backend) copies through
 * the host view of guest memory.  The device checks and pins every buffer
 * first, so the copy should never meet a private or unmapped page; if one
 * does all the same (a page made inaccessible behind the device's back),
 * the copy must fail the request, never kill the VMM.  safe_copy() is
 * memcpy() (the same instructions, the same page faults on pages that are
 * merely not yet mapped) with a recovery point: a SIGSEGV or SIGBUS raised
 * by an access inside the bytes being copied makes it return -EFAULT.
 *
 * The fault is counted as a protection violation of the gmem region that
 * holds the address, if one does (gmem_fault_attribute(), not a probe), so
 * a run's gmem violation count shows it.
 *
 * Signals: safe_copy_init() installs a SIGSEGV and a SIGBUS handler once
 * per process (SA_SIGINFO | SA_NODEFER) that recovers such faults and hands
 * every other one to the handler that was installed before it.  A handler
 * installed later (the test support's violation handler) must call
 * safe_copy_recover() first so that the order of installation does not
 * matter.
 */
#ifndef GMEMKIT_SAFE_COPY_H
#define GMEMKIT_SAFE_COPY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Install the handlers (idempotent, thread safe).  0, or -errno of
 * sigaction(). */
int safe_copy_init(void);

/*
 * safe_copy() - memcpy(dst, src, len); 0, or -EFAULT when an access to
 * [dst, dst + len) or [src, src + len) faulted (the bytes before the fault
 * may have been copied).  len 0 copies nothing.  safe_copy_init() must
 * have succeeded (without it a fault is the process's usual SIGSEGV).
 */
int safe_copy(void *dst, const void *src, size_t len);

/*
 * safe_copy_recover() - for a SIGSEGV/SIGBUS handler, async-signal-safe:
 * if this thread is inside safe_copy() and info's address lies in the
 * bytes it copies, count the fault and make safe_copy() return -EFAULT
 * (does not return).  Returns false otherwise.
 */
bool safe_copy_recover(int sig, const siginfo_t *info);

#endif /* GMEMKIT_SAFE_COPY_H */
