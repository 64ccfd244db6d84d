// SPDX-License-Identifier: GPL-2.0
/*
 * Test support: the hosted runtime of the guest's I/O workload
 * (harness/guest_host.h; what guest.h declares for a hosted build).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "gmemkit/timing.h"
#include "gmemkit/vm.h"
#include "guest/io.h"
#include "harness/guest_host.h"
#include "gmemkit/platform.h"

uint8_t *guest_host_ram;

static struct gmem *mem;
static uint64_t mem_size;
static FILE *console;
static pthread_barrier_t barrier;
static atomic_bool bound;
static atomic_uint_fast64_t n_conv, n_busy, n_err;
static __thread unsigned int cpu_index;
static pthread_mutex_t console_lock = PTHREAD_MUTEX_INITIALIZER;

/* The TSC rate against the host clock (20 ms), as the guest calibrates. */
static uint64_t calibrate(void)
{
	uint64_t t0 = rdtsc(), h0 = timing_now_ns(), t1, h1;

	do {
		t1 = rdtsc();
		h1 = timing_now_ns();
	} while (h1 - h0 < 20000000ULL);
	return t1 > t0 ? (t1 - t0) * 1000000ULL / (h1 - h0) : 0;
}

int guest_host_bind(const struct guest_host_cfg *c)
{
	bool no = false;
	int err;

	if (!c || !c->mem || !c->vcpus || c->vcpus > GMEM_ABI_MAX_VCPUS)
		return -EINVAL;
	if (!atomic_compare_exchange_strong(&bound, &no, true))
		return -EBUSY;
	err = pthread_barrier_init(&barrier, NULL, c->vcpus);
	if (err) {
		atomic_store(&bound, false);
		return -err;
	}
	mem = c->mem;
	guest_host_ram = gmem_memslot_addr(mem);
	/* guest RAM as the boot info says (the region may hold more: the
	 * harness's own scratch), what the VMM's request check bounds */
	mem_size = boot_info->mem_size;
	console = c->console;
	if (!guest_tsc_khz)
		guest_tsc_khz = calibrate();
	results->tsc_khz = guest_tsc_khz;
	guest_check_reset();
	atomic_store(&n_conv, 0);
	atomic_store(&n_busy, 0);
	atomic_store(&n_err, 0);
	return 0;
}

void guest_host_unbind(void)
{
	if (!atomic_load(&bound))
		return;
	pthread_barrier_destroy(&barrier);
	guest_host_ram = NULL;
	mem = NULL;
	atomic_store(&bound, false);
}

void guest_host_vcpu(unsigned int cpu)
{
	cpu_index = cpu;
	test_io(cpu);
}

void guest_host_get_stats(struct guest_host_stats *st)
{
	st->conversions = atomic_load(&n_conv);
	st->busy = atomic_load(&n_busy);
	st->errors = atomic_load(&n_err);
}

struct bounce_pool *guest_host_pool(void)
{
	return &io_pool;
}

/* ---- what guest.h declares ---------------------------------------------- */

unsigned int this_cpu(void)
{
	return cpu_index;
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	if (!console)
		return;
	pthread_mutex_lock(&console_lock);
	va_start(ap, fmt);
	vfprintf(console, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&console_lock);
}

void smp_barrier(void)
{
	pthread_barrier_wait(&barrier);
}

uint64_t host_time_ns(void)
{
	return timing_now_ns();
}

/* What the guest's conversion leads to, without the exit: the VMM's
 * request check, then gmem; the host's time on it in the vCPU page (all
 * of the call: there is no exit to tell apart). */
static int64_t host_convert(bool share, uint64_t gpa, uint64_t len)
{
	uint32_t op = share ? GMEM_ABI_OP_SHARE : GMEM_ABI_OP_UNSHARE;
	uint64_t t0 = timing_now_ns();
	int err = vmm_check_request(mem_size, op, gpa, len);

	if (!err)
		err = share ? gmem_share(mem, gpa, len) : gmem_unshare(mem, gpa, len);
	this_page()->conv_host_ns = timing_now_ns() - t0;
	if (!err)
		atomic_fetch_add(&n_conv, 1);
	else if (err == -EBUSY)
		atomic_fetch_add(&n_busy, 1);
	else
		atomic_fetch_add(&n_err, 1);
	return err;		/* -errno: GMEM_ABI_E* are Linux's values */
}

int64_t __share(uint64_t gpa, uint64_t len)
{
	return host_convert(true, gpa, len);
}

int64_t __unshare(uint64_t gpa, uint64_t len)
{
	return host_convert(false, gpa, len);
}

/* A platform call: its ranges one after another, all of each (the host
 * threads have no exit to save and no early stop to model). */
int64_t __convert_call(bool share, const struct plat_call *call, bool partial,
		       uint64_t *done)
{
	uint64_t host = 0;
	unsigned int k;
	int64_t st = 0;

	(void)partial;
	*done = 0;
	for (k = 0; k < call->n && !st; k++) {
		st = host_convert(share, call->r[k].gpa, call->r[k].len);
		host += this_page()->conv_host_ns;
		if (!st)
			*done += call->r[k].len;
	}
	this_page()->conv_host_ns = host;
	return st;
}

/* No doorbell here: its services are the VMM's. */
int64_t __doorbell(uint32_t op, uint64_t gpa, uint64_t len, uint64_t arg,
		   uint64_t *result)
{
	(void)op, (void)gpa, (void)len, (void)arg;
	if (result)
		*result = 0;
	return -GMEM_ABI_EOPNOTSUPP;
}

/* No conversion queue here: conversions never kick. */
uint64_t queue_kick_count(void)
{
	return 0;
}
