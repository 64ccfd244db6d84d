// SPDX-License-Identifier: GPL-2.0
/*
 * A memcpy with a recovery point (gmemkit/safe_copy.h).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "gmemkit/gmem.h"
#include "gmemkit/safe_copy.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct sigaction old_segv, old_bus;
static int init_err;

/* This thread's copy in progress: where to return, and its bytes. */
static __thread sigjmp_buf *volatile cur_env;
static __thread volatile uintptr_t cur_dst, cur_src, cur_len;

static bool inside(uintptr_t a, uintptr_t base, uintptr_t len)
{
	return a >= base && a - base < len;
}

bool safe_copy_recover(int sig, const siginfo_t *info)
{
	uintptr_t a = (uintptr_t)info->si_addr;
	sigjmp_buf *env = cur_env;
	sigset_t set;
	bool write;

	if (!env || info->si_code <= 0)		/* not in a copy, or sent */
		return false;
	write = inside(a, cur_dst, cur_len);
	if (!write && !inside(a, cur_src, cur_len))
		return false;
	cur_env = NULL;
	gmem_fault_attribute(info->si_addr, write, false, NULL);
	/* The env does not restore the mask (cheap sigsetjmp): make sure the
	 * signal is not left blocked by a handler without SA_NODEFER. */
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	siglongjmp(*env, 1);
}

/* Hand a fault that is not ours to the handler installed before. */
static void chain(const struct sigaction *old, int sig, siginfo_t *info,
		  void *uctx)
{
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, info, uctx);
		return;
	}
	if (old->sa_handler == SIG_IGN && info->si_code <= 0)
		return;			/* a sent signal, ignored as before */
	if (old->sa_handler == SIG_DFL || old->sa_handler == SIG_IGN) {
		signal(sig, SIG_DFL);
		/* A fault re-faults on return and takes the default action;
		 * a sent signal does not come back by itself. */
		if (info->si_code <= 0)
			raise(sig);
		return;
	}
	old->sa_handler(sig);
}

static void handler(int sig, siginfo_t *info, void *uctx)
{
	safe_copy_recover(sig, info);
	chain(sig == SIGBUS ? &old_bus : &old_segv, sig, info, uctx);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old_segv)) {
		init_err = -errno;
		return;
	}
	if (sigaction(SIGBUS, &sa, &old_bus)) {
		init_err = -errno;
		sigaction(SIGSEGV, &old_segv, NULL);
	}
}

int safe_copy_init(void)
{
	pthread_once(&once, install);
	return init_err;
}

int safe_copy(void *dst, const void *src, size_t len)
{
	sigjmp_buf env;

	if (!len)
		return 0;
	if (sigsetjmp(env, 0))
		return -EFAULT;		/* cur_env cleared by the recovery */
	cur_dst = (uintptr_t)dst;
	cur_src = (uintptr_t)src;
	cur_len = len;
	atomic_signal_fence(memory_order_seq_cst);
	cur_env = &env;
	atomic_signal_fence(memory_order_seq_cst);
	memcpy(dst, src, len);
	atomic_signal_fence(memory_order_seq_cst);
	cur_env = NULL;
	return 0;
}
