// SPDX-License-Identifier: GPL-2.0
/*
 * Protection violations: host accesses to private pages.
 *
 * One SIGSEGV handler per process, installed with the first region.  Only
 * a protection fault raised by the kernel (si_code SEGV_ACCERR: a sent
 * SIGSEGV has si_code <= 0) is looked at; its address is looked up in a
 * lock-free registry of host views, and a hit is a violation of that region
 * or, at the byte a gmem_try_access() probe of this thread is touching, a
 * probe fault.  Anything else goes to the handler that was there before.
 *
 * Lifetime rule: the registry slots are static and outlive their regions.
 * The handler holds a slot (slot->users) while it looks at the region in
 * it; gmem_fault_unregister() empties the slot and then waits until no
 * handler holds it, so gmem_destroy() frees the region only once no
 * handler can still read it.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <ucontext.h>
#include <unistd.h>

#include "gmem_internal.h"

#define GMEM_MAX_REGIONS	256

struct fault_slot {
	struct gmem *_Atomic g;
	atomic_int users;		/* handlers looking at g now */
};

static struct fault_slot registry[GMEM_MAX_REGIONS];
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

/* This thread's gmem_try_access() in progress: where to return, and the
 * byte it touches (a fault anywhere else is a violation). */
static __thread sigjmp_buf *volatile recover;
static __thread volatile uintptr_t probe_addr;

/* The slot whose region's host view holds addr, held (users + 1), or NULL. */
static struct fault_slot *lookup(uintptr_t addr)
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
		    addr - (uintptr_t)g->view < g->size)
			return s;
		atomic_fetch_sub(&s->users, 1);
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
	if (old_action.sa_handler == SIG_IGN && info->si_code <= 0)
		return;			/* a sent signal, ignored as before */
	if (old_action.sa_handler == SIG_DFL || old_action.sa_handler == SIG_IGN) {
		signal(sig, SIG_DFL);
		/* A fault re-faults on return and takes the default action;
		 * a sent signal does not come back by itself: deliver it. */
		if (info->si_code <= 0)
			raise(sig);
		return;
	}
	old_action.sa_handler(sig);
}

static void segv_handler(int sig, siginfo_t *info, void *uctx)
{
	struct fault_slot *s;
	struct gmem_violation v;
	gmem_violation_fn fn;
	struct gmem *g;

	/* Sent signals (kill, tgkill, sigqueue: si_code <= 0) and faults that
	 * are not protection faults are not ours to judge. */
	if (info->si_code != SEGV_ACCERR) {
		chain(sig, info, uctx);
		return;
	}
	s = lookup((uintptr_t)info->si_addr);
	if (!s) {
		chain(sig, info, uctx);
		return;
	}
	g = atomic_load(&s->g);
	if (recover && (uintptr_t)info->si_addr == probe_addr) {
		/* A deliberate probe: counted apart, no violation. */
		atomic_fetch_add(&g->cnt.probe_faults, 1);
		atomic_fetch_sub(&s->users, 1);
		siglongjmp(*recover, 1);
	}
	v.region = g;
	v.name = g->name;
	v.offset = (uintptr_t)info->si_addr - (uintptr_t)g->view;
	v.write = fault_is_write(uctx);
	atomic_fetch_add(&g->cnt.violations, 1);
	if (!atomic_flag_test_and_set_explicit(&last_lock, memory_order_acquire)) {
		last = v;
		atomic_store(&have_last, true);
		atomic_flag_clear_explicit(&last_lock, memory_order_release);
	}
	fn = atomic_load(&user_fn);
	if (fn)
		fn(&v, atomic_load(&user_arg));
	report_and_die(&v);
	atomic_fetch_sub(&s->users, 1);
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
