// SPDX-License-Identifier: GPL-2.0
/*
 * The queue conversion transport: a per-vCPU ring of share/unshare
 * requests in always-shared memory (struct gmem_abi_convq), serviced by
 * one converter thread with no userspace exit on the guest's path.
 *
 * The converter busy-polls the rings while requests keep coming (poll_ns
 * after the last one), with GMEM_ABI_CONVQ_F_POLLING set so that guests
 * post without a kick; then it clears the flag, looks once more and sleeps
 * on the kick eventfd (an ioeventfd on GMEM_ABI_CONVQ_KICK_GPA: one exit
 * to KVM, no userspace round trip).
 *
 * With more than one CPU allowed, the converter runs on a CPU of its own
 * (the last one the process may use) and the vCPU threads are kept off it
 * when enough CPUs remain (vm.c): the model is a converter with a core to
 * itself; left to the scheduler, a polling converter and a vCPU spinning
 * for its completion were seen sharing one core for ~480 us slices.
 *
 * Guest input: only req_prod and req[] are read, req_prod once per pass,
 * each request once into a local copy; the completion index is the VMM's
 * own.  A req_prod outside [done, done + SIZE] stops that vCPU's queue
 * with a reason (the VM and the other queues go on).  Every request is
 * checked by vmm_convert() like a doorbell request.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gmemkit/timing.h"
#include "vm_internal.h"

#define Q_MASK	(GMEM_ABI_CONVQ_SIZE - 1)

static void count(struct vmm *vm, enum gmem_abi_counter c)
{
	atomic_fetch_add_explicit(&vm->cnt[c], 1, memory_order_relaxed);
}

void vmm_convq_ring_init(struct vmm_convq_ring *r, struct gmem_abi_convq *q,
			  unsigned int vcpu)
{
	memset(r, 0, sizeof(*r));
	r->q = q;
	r->vcpu = vcpu;
	memset(q, 0, sizeof(*q));
	q->magic = GMEM_ABI_CONVQ_MAGIC;
	q->size = GMEM_ABI_CONVQ_SIZE;
}

static void host_flags(struct vmm_convq_ring *r, bool polling)
{
	uint32_t f = (polling ? GMEM_ABI_CONVQ_F_POLLING : 0) |
		     (r->stopped ? GMEM_ABI_CONVQ_F_STOPPED : 0);

	/* seq_cst: ordered before the req_prod loads that follow (below). */
	__atomic_store_n(&r->q->host_flags, f, __ATOMIC_SEQ_CST);
}

static void stop_ring(struct vmm *vm, struct vmm_convq_ring *r,
		      uint32_t prod)
{
	r->stopped = true;
	snprintf(r->why, sizeof(r->why),
		 "vCPU %u conversion queue stopped: req_prod %u is %d requests "
		 "from the %u completed (ring of %u entries): malformed ring",
		 r->vcpu, prod, (int32_t)(prod - r->done), r->done,
		 GMEM_ABI_CONVQ_SIZE);
	__atomic_store_n(&r->q->stop_index, prod, __ATOMIC_RELAXED);
	__atomic_store_n(&r->q->stop_reason, GMEM_ABI_CONVQ_STOP_INDEX,
			 __ATOMIC_RELAXED);
	host_flags(r, false);
	count(vm, GMEM_ABI_CNT_QUEUE_STOPPED);
}

int vmm_convq_service(struct vmm *vm, struct vmm_convq_ring *r,
		       unsigned int budget)
{
	struct gmem_abi_convq *q = r->q;
	uint32_t prod, avail, n, i;

	if (r->stopped)
		return 0;
	prod = __atomic_load_n(&q->req_prod, __ATOMIC_ACQUIRE);
	avail = prod - r->done;
	if (avail > GMEM_ABI_CONVQ_SIZE) {
		stop_ring(vm, r, prod);
		return -EPROTO;
	}
	n = avail < budget ? avail : budget;
	if (n > GMEM_ABI_CONVQ_SIZE)
		n = GMEM_ABI_CONVQ_SIZE;
	for (i = 0; i < n; i++) {
		const volatile struct gmem_abi_convq_req *s = &q->req[r->done & Q_MASK];
		struct gmem_abi_convq_req req;
		uint64_t done = 0;
		int err;

		/* Read the request exactly once; only the copy is used. */
		req.op = s->op;
		req.flags = s->flags;
		req.gpa = s->gpa;
		req.len = s->len;
		req.tag = s->tag;
		count(vm, GMEM_ABI_CNT_QUEUE_REQS);
		err = vmm_convert_flags(vm, vm->vcpus && r->vcpu < vm->nr_vcpus ?
					&vm->vcpus[r->vcpu] : NULL,
					req.op, req.flags, req.gpa, req.len, &done);
		q->cpl[r->done & Q_MASK].tag = req.tag;
		q->cpl[r->done & Q_MASK].status = err;
		q->cpl[r->done & Q_MASK].done = done;
		r->done++;
		__atomic_store_n(&q->req_done, r->done, __ATOMIC_RELEASE);
	}
	return (int)n;
}

/* Any ring with a request not yet serviced (or a malformed index)? */
static bool pending(struct vmm_convq *cq)
{
	unsigned int i;

	for (i = 0; i < cq->nr; i++) {
		struct vmm_convq_ring *r = &cq->rings[i];

		if (!r->stopped &&
		    __atomic_load_n(&r->q->req_prod, __ATOMIC_SEQ_CST) != r->done)
			return true;
	}
	return false;
}

static void set_polling(struct vmm_convq *cq, bool polling)
{
	unsigned int i;

	cq->polling = polling;
	for (i = 0; i < cq->nr; i++)
		host_flags(&cq->rings[i], polling);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *convq_thread(void *arg)
{
	struct vmm *vm = arg;
	struct vmm_convq *cq = &vm->convq;
	uint64_t last = timing_now_ns();
	unsigned int i;

	if (cq->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cq->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			cq->cpu = -1;	/* read only after the join */
	}
	set_polling(cq, true);
	while (!atomic_load_explicit(&cq->quit, memory_order_acquire)) {
		struct pollfd pfd = { .fd = cq->efd, .events = POLLIN };
		unsigned int work = 0;
		uint64_t v;

		for (i = 0; i < cq->nr; i++) {
			int n = vmm_convq_service(vm, &cq->rings[i],
						   GMEM_ABI_CONVQ_SIZE);

			if (n > 0)
				work += (unsigned int)n;
		}
		if (work) {
			last = timing_now_ns();
			continue;
		}
		if (cq->poll_ns && timing_now_ns() - last < cq->poll_ns) {
			__asm__ volatile("pause" ::: "memory");
			continue;
		}
		/* Going to sleep: clear the flag, then look once more.  The
		 * guest stores req_prod before it reads the flag, we store the
		 * flag before we read req_prod, all seq_cst: one of us sees
		 * the other. */
		set_polling(cq, false);
		if (pending(cq)) {
			set_polling(cq, true);
			continue;
		}
		if (poll(&pfd, 1, 100) > 0 && read(cq->efd, &v, sizeof(v)) == sizeof(v))
			count(vm, GMEM_ABI_CNT_QUEUE_WAKEUPS);
		set_polling(cq, true);
		last = timing_now_ns();
	}
	set_polling(cq, false);
	atomic_store(&cq->cpu_ns, thread_cpu_ns());
	atomic_store(&cq->have_clock, false);
	return NULL;
}

int vmm_convq_start(struct vmm *vm, unsigned int poll_us)
{
	struct vmm_convq *cq = &vm->convq;
	int err;

	if (cq->started || cq->efd < 0 || !cq->rings)
		return -EINVAL;
	cq->poll_ns = (uint64_t)poll_us * 1000;
	atomic_store(&cq->quit, false);
	cq->t0 = timing_now_ns();
	err = -pthread_create(&cq->thread, NULL, convq_thread, vm);
	if (err)
		return err;
	if (!pthread_getcpuclockid(cq->thread, &cq->cpu_clock))
		atomic_store(&cq->have_clock, true);
	cq->started = true;
	return 0;
}

void vmm_convq_stop(struct vmm *vm)
{
	struct vmm_convq *cq = &vm->convq;
	uint64_t one = 1;

	if (!cq->started)
		return;
	atomic_store_explicit(&cq->quit, true, memory_order_release);
	if (write(cq->efd, &one, sizeof(one)) < 0) {
		/* The thread wakes from its 100 ms poll anyway. */
	}
	pthread_join(cq->thread, NULL);
	cq->t1 = timing_now_ns();
	cq->started = false;
}

uint64_t vmm_convq_cpu_ns(struct vmm *vm)
{
	struct vmm_convq *cq = &vm->convq;
	struct timespec ts;

	if (!atomic_load(&cq->have_clock))
		return atomic_load(&cq->cpu_ns);
	if (clock_gettime(cq->cpu_clock, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
