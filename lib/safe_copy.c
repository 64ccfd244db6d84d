// SPDX-License-Identifier: GPL-2.0
/*
 * A memcpy with a recovery point (gmemkit/safe_copy.h).  No signal
 * handler here: the program's handler calls safe_copy_recover().
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "gmemkit/gmem.h"
#include "gmemkit/safe_copy.h"

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

	if (!env || info->si_code <= 0)		/* no copy, or a sent signal */
		return false;
	write = inside(a, cur_dst, cur_len);
	if (!write && !inside(a, cur_src, cur_len))
		return false;
	cur_env = NULL;
	gmem_fault_attribute(info->si_addr, write, false, NULL);
	/* The env does not restore the mask (a cheap sigsetjmp): make sure
	 * the signal is not left blocked by a handler without SA_NODEFER. */
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	siglongjmp(*env, 1);
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
