// SPDX-License-Identifier: GPL-2.0
/*
 * Protection violations: host accesses to private pages.
 *
 * One SIGSEGV handler per process, installed with the first region.  It
 * looks the faulting address up in a lock-free registry of host views;
 * a hit is a violation of that region, anything else goes to the handler
 * that was there before.  gmem_try_access() arms a per-thread recovery point
 * so that a caught violation returns -EFAULT instead of killing the process.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "gmem_internal.h"

#define GMEM_MAX_REGIONS	256

static struct gmem *_Atomic registry[GMEM_MAX_REGIONS];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static struct sigaction old_action;
static int install_err;

static _Atomic(gmem_violation_fn) user_fn;
static void *_Atomic user_arg;

/* The last violation, guarded by a try-lock: a signal handler that finds it
 * taken (another thread is recording) skips the record, never waits. */
static struct gmem_violation last;
static atomic_bool have_last;
static atomic_flag last_lock = ATOMIC_FLAG_INIT;

static __thread sigjmp_buf *volatile recover;
/* The probe's own intent: QEMU TCG reports a locked read-modify-write on a
 * PROT_NONE page with the #PF W bit clear, so the error code alone would
 * call the write probe a read there. */
static __thread volatile bool recover_write;

static struct gmem *lookup(uintptr_t addr)
{
	int i;

	for (i = 0; i < GMEM_MAX_REGIONS; i++) {
		struct gmem *g = atomic_load(&registry[i]);

		if (g && addr >= (uintptr_t)g->view &&
		    addr - (uintptr_t)g->view < g->size)
			return g;
	}
	return NULL;
}

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

static void report_and_die(const struct gmem_violation *v)
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
	PUT("\n");
#undef PUT
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* nothing more to do: we are about to abort */
	}
	signal(SIGSEGV, SIG_DFL);
	/* Returning re-executes the access, which now kills the process. */
}

static void chain(int sig, siginfo_t *info, void *uctx)
{
	if (old_action.sa_flags & SA_SIGINFO) {
		old_action.sa_sigaction(sig, info, uctx);
		return;
	}
	if (old_action.sa_handler == SIG_DFL || old_action.sa_handler == SIG_IGN) {
		signal(sig, SIG_DFL);	/* re-fault, default action */
		return;
	}
	old_action.sa_handler(sig);
}

static void segv_handler(int sig, siginfo_t *info, void *uctx)
{
	struct gmem *g = lookup((uintptr_t)info->si_addr);
	struct gmem_violation v;
	gmem_violation_fn fn;

	if (!g) {
		chain(sig, info, uctx);
		return;
	}
	v.region = g;
	v.name = g->name;
	v.offset = (uintptr_t)info->si_addr - (uintptr_t)g->view;
	v.write = fault_is_write(uctx) || (recover && recover_write);
	atomic_fetch_add(&g->cnt.violations, 1);
	if (!atomic_flag_test_and_set_explicit(&last_lock, memory_order_acquire)) {
		last = v;
		atomic_store(&have_last, true);
		atomic_flag_clear_explicit(&last_lock, memory_order_release);
	}
	fn = atomic_load(&user_fn);
	if (fn)
		fn(&v, atomic_load(&user_arg));
	if (recover)
		siglongjmp(*recover, 1);
	report_and_die(&v);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old_action))
		install_err = -errno;
}

int gmem_fault_register(struct gmem *g)
{
	int i;

	pthread_once(&install_once, install);
	if (install_err)
		return install_err;
	for (i = 0; i < GMEM_MAX_REGIONS; i++) {
		struct gmem *expect = NULL;

		if (atomic_compare_exchange_strong(&registry[i], &expect, g)) {
			g->slot = i;
			return 0;
		}
	}
	return -EMFILE;
}

void gmem_fault_unregister(struct gmem *g)
{
	atomic_store(&registry[g->slot], NULL);
}

void gmem_set_violation_handler(gmem_violation_fn fn, void *arg)
{
	atomic_store(&user_arg, arg);
	atomic_store(&user_fn, fn);
}

bool gmem_last_violation(struct gmem_violation *v)
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

int gmem_try_access(struct gmem *g, uint64_t off, bool write)
{
	sigjmp_buf env;
	volatile uint8_t *p;
	uint8_t val = 0;

	if (!g)
		return -EINVAL;
	if (off >= g->size)
		return -ERANGE;
	p = g->view + off;
	if (sigsetjmp(env, 1)) {
		recover = NULL;
		return -EFAULT;
	}
	recover_write = write;
	recover = &env;
	if (write)	/* a write that changes nothing */
		touch_write(p);
	else
		val = *p;
	recover = NULL;
	(void)val;
	return 0;
}
