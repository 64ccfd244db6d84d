// SPDX-License-Identifier: GPL-2.0
/*
 * Test support: the SIGSEGV / SIGBUS handler that names host accesses to
 * private pages, and the access probe (harness/violation.h).  The region lookup
 * is gmem's own (gmem_fault_attribute()).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "gmemkit/safe_copy.h"
#include "harness/violation.h"

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static struct sigaction old_segv, old_bus;
static int install_err;

static _Atomic(violation_fn) user_fn;
static void *_Atomic user_arg;

/* The last violation, guarded by a try-lock: a signal handler that finds it
 * taken (another thread is recording) skips the record, never waits. */
static struct gmem_violation last;
static atomic_bool have_last;
static atomic_flag last_lock = ATOMIC_FLAG_INIT;

/* This thread's violation_try_access() in progress: where to return, and
 * the byte it touches (a fault anywhere else is a violation). */
static __thread sigjmp_buf *volatile recover;
static __thread volatile uintptr_t probe_addr;

static bool fault_is_write(const void *uctx)
{
#if defined(__x86_64__)
	const ucontext_t *uc = uctx;

	return uc->uc_mcontext.gregs[REG_ERR] & 2;	/* #PF error code W bit */
#else
	(void)uctx;
	return false;
#endif
}

/* async-signal-safe formatting of "0x..." */
static size_t fmt_hex(char *buf, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	buf[0] = '0';
	buf[1] = 'x';
	for (i = 0; i < n; i++)
		buf[2 + i] = tmp[n - 1 - i];
	return n + 2;
}

static void report_and_die(int sig, const struct gmem_violation *v)
{
	char msg[160];
	size_t n = 0, l;

#define PUT(s) do { l = strlen(s); memcpy(msg + n, s, l); n += l; } while (0)
	PUT("gmem: protection violation: host ");
	PUT(v->write ? "write to" : "read of");
	PUT(" private page of region '");
	PUT(v->name);
	PUT("' at offset ");
	n += fmt_hex(msg + n, v->offset);
	PUT(sig == SIGBUS ? " (SIGBUS)\n" : " (SIGSEGV)\n");
#undef PUT
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* nothing more to do: we are about to abort */
	}
	signal(sig, SIG_DFL);
	/* Returning re-executes the access, which now kills the process. */
}

static void chain(int sig, siginfo_t *info, void *uctx)
{
	const struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;

	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, info, uctx);
		return;
	}
	if (old->sa_handler == SIG_IGN && info->si_code <= 0)
		return;			/* a sent signal, ignored as before */
	if (old->sa_handler == SIG_DFL || old->sa_handler == SIG_IGN) {
		signal(sig, SIG_DFL);
		/* A fault re-faults on return and takes the default action;
		 * a sent signal does not come back by itself: deliver it. */
		if (info->si_code <= 0)
			raise(sig);
		return;
	}
	old->sa_handler(sig);
}

/*
 * A host access to a private page: a protection fault (SIGSEGV,
 * SEGV_ACCERR) in the lazy model, userfaultfd's SIGBUS (BUS_ADRERR) in the
 * eager one.  Both come with the #PF error code in the context.
 */
static bool private_access(int sig, const siginfo_t *info)
{
	return sig == SIGBUS ? info->si_code == BUS_ADRERR : info->si_code == SEGV_ACCERR;
}

static void fault_handler(int sig, siginfo_t *info, void *uctx)
{
	struct gmem_violation v;
	violation_fn fn;
	bool probe;

	/* A safe_copy() that faulted returns -EFAULT from here (no return):
	 * the device's copy never dies of a page it was not allowed to use. */
	safe_copy_recover(sig, info);
	/* Sent signals (kill, tgkill, sigqueue: si_code <= 0) and faults that
	 * are not private-page faults are not ours to judge. */
	if (!private_access(sig, info)) {
		chain(sig, info, uctx);
		return;
	}
	probe = recover && (uintptr_t)info->si_addr == probe_addr;
	if (gmem_fault_attribute(info->si_addr, fault_is_write(uctx), probe, &v)) {
		chain(sig, info, uctx);
		return;
	}
	if (probe)		/* a deliberate probe: counted apart */
		siglongjmp(*recover, 1);
	if (!atomic_flag_test_and_set_explicit(&last_lock, memory_order_acquire)) {
		last = v;
		atomic_store(&have_last, true);
		atomic_flag_clear_explicit(&last_lock, memory_order_release);
	}
	fn = atomic_load(&user_fn);
	if (fn)
		fn(&v, atomic_load(&user_arg));
	report_and_die(sig, &v);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old_segv)) {
		install_err = -errno;
		return;
	}
	if (sigaction(SIGBUS, &sa, &old_bus)) {
		install_err = -errno;
		sigaction(SIGSEGV, &old_segv, NULL);
	}
}

int violation_watch(void)
{
	pthread_once(&install_once, install);
	return install_err;
}

void violation_set_callback(violation_fn fn, void *arg)
{
	atomic_store(&user_arg, arg);
	atomic_store(&user_fn, fn);
}

bool violation_last(struct gmem_violation *v)
{
	bool have;

	while (atomic_flag_test_and_set_explicit(&last_lock, memory_order_acquire))
		;
	have = atomic_load(&have_last);
	if (have)
		*v = last;
	atomic_flag_clear_explicit(&last_lock, memory_order_release);
	return have;
}

/* A write access that leaves the byte as it is, even under concurrent
 * writers; asm so that no instrumentation turns it into a read first. */
static inline void touch_write(volatile uint8_t *p)
{
#if defined(__x86_64__)
	asm volatile("lock orb $0, %0" : "+m"(*p) : : "memory");
#else
	__atomic_fetch_or(p, 0, __ATOMIC_RELAXED);
#endif
}

int violation_try_access(struct gmem *g, uint64_t off, bool write)
{
	sigjmp_buf env;
	volatile uint8_t *p;
	uint8_t val = 0;
	int err;

	if (!g)
		return -EINVAL;
	if (off >= gmem_size(g))
		return -ERANGE;
	err = violation_watch();
	if (err)
		return err;
	p = (volatile uint8_t *)gmem_host_view(g) + off;
	if (sigsetjmp(env, 1)) {
		recover = NULL;
		probe_addr = 0;
		return -EFAULT;
	}
	probe_addr = (uintptr_t)p;
	recover = &env;
	if (write)	/* a write that changes nothing */
		touch_write(p);
	else
		val = *p;
	recover = NULL;
	probe_addr = 0;
	(void)val;
	return 0;
}
