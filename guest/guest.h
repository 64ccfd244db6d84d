/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The freestanding guest's runtime: console, clock, results, asserts, and
 * the conversion API.  KVM selftests style: a guest test is a C function;
 * __foo() returns the raw result, foo() checks it.
 */
#ifndef GMEMKIT_GUEST_H
#define GMEMKIT_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmemkit/abi.h"

#define PAGE_SIZE	GMEM_ABI_PAGE_SIZE

#ifdef GMEM_GUEST
/* ---- libc subset (runtime.c) ---------------------------------------------- */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4)))
int snprintf(char *buf, size_t size, const char *fmt, ...);

/* ---- CPU ------------------------------------------------------------------ */
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"(port) : "memory");
}

/* vCPU index from the stack pointer (each vCPU has its own stack). */
static inline unsigned int this_cpu(void)
{
	uint64_t sp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	return (unsigned int)((sp - GMEM_ABI_STACK_GPA - 1) / GMEM_ABI_STACK_SIZE);
}

/* Guest RAM is identity mapped. */
#define gpa_ptr(gpa)	((void *)(uintptr_t)(gpa))
#else
/*
 * Hosted: the guest's I/O workload and virtio-blk driver built for the
 * host (libgmemkit-harness.a), run by host threads that play the vCPUs
 * (harness/stress.c).  harness/guest_host.c supplies this runtime: guest
 * RAM is the harness's mapping of it, the vCPU index is the thread's, and
 * conversions, checks and console go to the harness.
 */
#include <stdio.h>
#include <string.h>

extern uint8_t *guest_host_ram;
unsigned int this_cpu(void);
#define gpa_ptr(gpa)	((void *)(guest_host_ram + (gpa)))
#endif

/* ---- CPU ------------------------------------------------------------------ */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static inline volatile struct gmem_abi_vcpu_page *this_page(void)
{
	return (volatile struct gmem_abi_vcpu_page *)
		gpa_ptr(GMEM_ABI_VCPU_PAGE_GPA + this_cpu() * GMEM_ABI_PAGE_SIZE);
}

#define boot_info	((const volatile struct gmem_abi_boot_info *)gpa_ptr(GMEM_ABI_BOOT_INFO_GPA))

#define results		((volatile struct gmem_abi_results *)gpa_ptr(GMEM_ABI_RESULTS_GPA))

/* ---- console, clock, asserts (runtime.c) ---------------------------------- */
__attribute__((format(printf, 1, 2)))
void gprintf(const char *fmt, ...);
void idt_init(void);
void idt_load(void);
uint64_t clock_calibrate(void);		/* tsc kHz; 0 if it failed */
uint64_t tsc_to_ns(uint64_t ticks);		/* check.c */
extern uint64_t guest_tsc_khz;			/* 0 until calibrated */

__attribute__((format(printf, 4, 5)))
bool guest_check(bool ok, const char *file, int line, const char *fmt, ...);
unsigned int guest_cpu_failures(void);
void guest_check_reset(void);

/* Non-fatal check: counts, prints, keeps going; evaluates to cond. */
#define GUEST_CHECK(cond, fmt, ...) \
	guest_check(!!(cond), __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define GUEST_CHECK_EQ(got, want, what) ({				\
	long long __g = (long long)(got), __w = (long long)(want);	\
	guest_check(__g == __w, __FILE__, __LINE__,			\
		    "%s: got %lld, want %lld", what, __g, __w);		\
})

/* ---- transport (gtransport.c) ---------------------------------------------- */
/* Raw doorbell: op + args through this vCPU's mailbox, value OUTed to the
 * doorbell port (normally this vCPU's index).  Returns the status. */
int64_t __doorbell_raw(uint32_t op, uint32_t flags, uint64_t gpa, uint64_t len,
		       uint64_t arg, uint32_t value, uint64_t *result);
int64_t __doorbell(uint32_t op, uint64_t gpa, uint64_t len, uint64_t arg,
		   uint64_t *result);
/* Raw KVM_HC_MAP_GPA_RANGE; returns rax as a status. */
int64_t __hypercall_map(uint64_t gpa, uint64_t npages, uint64_t attrs);

/* Share / unshare through a given transport as one request, or through
 * the configured one as the run's platform's calls (boot_info.platform);
 * return 0 or -errno (GMEM_ABI_E*). */
int64_t __convert_via(uint32_t transport, bool share, uint64_t gpa, uint64_t len);
int64_t __share(uint64_t gpa, uint64_t len);
int64_t __unshare(uint64_t gpa, uint64_t len);
#ifdef GMEM_GUEST		/* unshare(2) on the host */
bool share(uint64_t gpa, uint64_t len);		/* checks status 0 */
bool unshare(uint64_t gpa, uint64_t len);
#endif

/* Several conversions at once: through the queue, posted together (one
 * kick at most) and waited for together; elsewhere one after another.
 * Each status in r[i].status; returns the first non-zero one, or 0. */
struct conv_req {
	bool share;
	uint64_t gpa, len;
	int64_t status;
	uint64_t done;			/* queue: bytes the host converted */
};
int64_t __convert_batch(struct conv_req *r, unsigned int n);
/* Queue internals, for the tests: post with given flags, publish an index
 * as is (with the kick logic), kick, kicks made by this vCPU, stopped? */
int64_t __queue_batch(struct conv_req *r, unsigned int n, uint32_t flags);
void __queue_publish(uint32_t prod);
void queue_kick(void);
uint64_t queue_kick_count(void);
bool queue_stopped(void);

/*
 * One platform call (gmemkit/platform.h): its ranges converted in one
 * request where the transport can (one range; a list: the queue posts
 * them together, the doorbell sends a CONVERT_LIST; the hypercall has no
 * list and makes one exit per range), with GMEM_ABI_CONV_F_PARTIAL when
 * partial.  *done: the bytes converted, in order (partial: maybe fewer
 * than asked; a list: the entries before the first error).  Returns 0 or
 * the first error.
 */
struct plat_call;
int64_t __convert_call(bool share, const struct plat_call *call, bool partial,
		       uint64_t *done);

/* Host services (doorbell). */
uint64_t host_time_ns(void);
int64_t __host_check_pattern(uint64_t gpa, uint64_t len, uint64_t seed);
int64_t __host_check_zero(uint64_t gpa, uint64_t len);
int64_t __host_check_private(uint64_t gpa, uint64_t len);
bool host_check_pattern(uint64_t gpa, uint64_t len, uint64_t seed);
bool host_check_zero(uint64_t gpa, uint64_t len);
bool host_check_private(uint64_t gpa, uint64_t len);
uint64_t host_counter(enum gmem_abi_counter c);

/* Guest-side pattern helpers. */
void fill_pattern(uint64_t gpa, uint64_t len, uint64_t seed);
bool guest_sees_pattern(uint64_t gpa, uint64_t len, uint64_t seed);
bool guest_sees_zero(uint64_t gpa, uint64_t len);

/* ---- tests (tests.c, io.c): one per GMEM_ABI_TESTS() entry ---------------- */
#define GUEST_TEST_DECLARE(NAME, name, what)	void test_##name(unsigned int cpu);
GMEM_ABI_TESTS(GUEST_TEST_DECLARE)
#undef GUEST_TEST_DECLARE

/* SMP barrier over all vCPUs (main.c). */
void smp_barrier(void);

#endif /* GMEMKIT_GUEST_H */
