// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's checks and TSC conversion, in the guest image and in the
 * hosted build (guest.h): failures counted in the results page, the first
 * one's message kept there, each printed on the console.
 */
#include "guest.h"

uint64_t guest_tsc_khz;

uint64_t tsc_to_ns(uint64_t ticks)
{
	if (!guest_tsc_khz)
		return 0;
	/* ticks * 1e6 / khz without overflow for ticks up to ~1.8e13 */
	return ticks / guest_tsc_khz * 1000000ULL + ticks % guest_tsc_khz * 1000000ULL / guest_tsc_khz;
}

static unsigned int cpu_failures[GMEM_ABI_MAX_VCPUS];
static int fail_msg_taken;

bool guest_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	int n, i;

	__atomic_fetch_add(&results->checks, 1, __ATOMIC_RELAXED);
	if (ok)
		return true;
	__atomic_fetch_add(&results->failures, 1, __ATOMIC_RELAXED);
	cpu_failures[this_cpu()]++;
	n = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
	if (n > (int)sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	gprintf("[cpu%u] FAIL %s\n", this_cpu(), msg);
	if (!__atomic_exchange_n(&fail_msg_taken, 1, __ATOMIC_ACQ_REL)) {
		for (i = 0; msg[i] && i < GMEM_ABI_MSG_MAX - 1; i++)
			results->fail_msg[i] = msg[i];
		results->fail_msg[i] = '\0';
	}
	return false;
}

/* Hosted: a run after another starts with no failure recorded. */
void guest_check_reset(void)
{
	__builtin_memset(cpu_failures, 0, sizeof(cpu_failures));
	__atomic_store_n(&fail_msg_taken, 0, __ATOMIC_RELEASE);
}

unsigned int guest_cpu_failures(void)
{
	return cpu_failures[this_cpu()];
}
