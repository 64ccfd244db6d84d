// SPDX-License-Identifier: GPL-2.0
/*
 * The queue conversion transport's VMM side (vmm/convq.c), no KVM needed:
 * the ring decoder against a real gmem region (memfd) with this program
 * playing the guest through the queue pages, and the converter thread with
 * its kick eventfd, asleep and polling, including the post-then-check-flag
 * protocol racing the converter going to sleep (run under TSan in CI).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "gmemkit/timing.h"
#include "tap.h"
#include "../vmm/vm_internal.h"

#define MEM	(8ULL << 20)
#define P	GMEM_ABI_PAGE_SIZE
#define T	0x400000ULL		/* a free private area for the tests */
#define N	GMEM_ABI_CONVQ_SIZE

static struct vmm vm;
static struct vmm_convq_ring rings[2];
static struct gmem_abi_convq *qs[2];

static void setup(void)
{
	struct gmem_config gc = {
		.size = MEM, .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
		.mode = GMEM_MODE_INPLACE, .name = "t_convq",
	};
	void *p = NULL;
	int i;

	memset(&vm, 0, sizeof(vm));
	if (gmem_create(&gc, &vm.mem) ||
	    gmem_share(vm.mem, GMEM_ABI_CONVQ_GPA, 2 * P) ||
	    gmem_pin_ptr(vm.mem, GMEM_ABI_CONVQ_GPA, 2 * P, &p)) {
		printf("Bail out! cannot set up the gmem region\n");
		exit(1);
	}
	vm.cfg.mem_size = MEM;
	vm.convq.rings = rings;
	vm.convq.nr = 2;
	vm.convq.efd = -1;
	vm.convq.cpu = -1;
	for (i = 0; i < 2; i++) {
		qs[i] = (void *)((char *)p + i * P);
		vmm_convq_ring_init(&rings[i], qs[i], (unsigned int)i);
	}
}

static void teardown(void)
{
	gmem_unpin(vm.mem, GMEM_ABI_CONVQ_GPA, 2 * P);
	gmem_destroy(vm.mem);
	vm.mem = NULL;
}

static uint64_t cnt(enum gmem_abi_counter c)
{
	return atomic_load(&vm.cnt[c]);
}

/* Play the guest: fill the next slot, publish it. */
static uint32_t post_at(struct gmem_abi_convq *q, uint32_t op, uint32_t flags,
			uint64_t gpa, uint64_t len, bool publish)
{
	uint32_t p = q->req_prod;
	struct gmem_abi_convq_req *s = &q->req[p & (N - 1)];

	s->op = op;
	s->flags = flags;
	s->gpa = gpa;
	s->len = len;
	s->tag = 0xabc00000ULL + p;
	if (publish)		/* else the caller publishes */
		__atomic_store_n(&q->req_prod, p + 1, __ATOMIC_RELEASE);
	return p;
}

static uint32_t post(struct gmem_abi_convq *q, uint32_t op, uint64_t gpa, uint64_t len)
{
	return post_at(q, op, 0, gpa, len, true);
}

static int64_t status_of(struct gmem_abi_convq *q, uint32_t idx)
{
	const struct gmem_abi_convq_cpl *c = &q->cpl[idx & (N - 1)];

	return c->tag == 0xabc00000ULL + idx ? c->status : -12345;
}

static bool all_state(uint64_t gpa, uint64_t len, int state)
{
	uint64_t o;

	for (o = gpa; o < gpa + len; o += P)
		if (gmem_page_state(vm.mem, o) != state)
			return false;
	return true;
}

static void test_init(void)
{
	ok(qs[0]->magic == GMEM_ABI_CONVQ_MAGIC && qs[0]->size == N &&
	   !qs[0]->req_prod && !qs[0]->req_done && !qs[0]->host_flags,
	   "ring initialised: magic, size %u, indices 0", N);
	ok(vmm_convq_service(&vm, &rings[0], N) == 0, "empty ring: nothing serviced");
}

static void test_good(void)
{
	uint32_t a, b;
	int n;

	a = post(qs[0], GMEM_ABI_OP_SHARE, T, 4 * P);
	n = vmm_convq_service(&vm, &rings[0], N);
	ok(n == 1 && status_of(qs[0], a) == 0 && all_state(T, 4 * P, GMEM_SHARED),
	   "share serviced: 4 pages shared, tag echoed (n %d)", n);
	ok(qs[0]->req_done == 1 && cnt(GMEM_ABI_CNT_CONV_OK) == 1 &&
	   cnt(GMEM_ABI_CNT_QUEUE_REQS) == 1, "req_done 1, one conversion counted");
	a = post(qs[0], GMEM_ABI_OP_UNSHARE, T, 2 * P);
	b = post(qs[0], GMEM_ABI_OP_UNSHARE, T + 2 * P, 2 * P);
	n = vmm_convq_service(&vm, &rings[0], N);
	ok(n == 2 && !status_of(qs[0], a) && !status_of(qs[0], b) &&
	   all_state(T, 4 * P, GMEM_PRIVATE), "two requests in one pass, both done");
	ok(cnt(GMEM_ABI_CNT_CONV_HOST_NS) > 0, "host conversion time counted (%llu ns)",
	   (unsigned long long)cnt(GMEM_ABI_CNT_CONV_HOST_NS));
}

static void test_errors(void)
{
	struct gmem_stats st;
	uint32_t i0;
	int n;

	gmem_share(vm.mem, T + 16 * P, P);
	gmem_pin(vm.mem, T + 16 * P, P);
	i0 = post(qs[0], GMEM_ABI_OP_SHARE, MEM, P);			/* range */
	post(qs[0], GMEM_ABI_OP_SHARE, MEM - P, 2 * P);			/* range */
	post(qs[0], GMEM_ABI_OP_SHARE, T + 1, P);			/* align */
	post(qs[0], GMEM_ABI_OP_SHARE, T, 100);				/* align */
	post(qs[0], GMEM_ABI_OP_SHARE, T, 0);				/* align */
	post(qs[0], GMEM_ABI_OP_SHARE, ~0ULL - P + 1, 2 * P);		/* overflow */
	post(qs[0], 0x77, T, P);					/* op */
	post(qs[0], GMEM_ABI_OP_NOP, T, P);				/* op */
	post_at(qs[0], GMEM_ABI_OP_SHARE, 2, T, P, true);		/* unknown flag */
	post(qs[0], GMEM_ABI_OP_UNSHARE, T + 16 * P, P);		/* busy */
	n = vmm_convq_service(&vm, &rings[0], N);
	ok(n == 10, "10 bad requests serviced in one pass (%d)", n);
	ok(status_of(qs[0], i0) == -ERANGE && status_of(qs[0], i0 + 1) == -ERANGE,
	   "outside RAM: -ERANGE");
	ok(status_of(qs[0], i0 + 2) == -EINVAL && status_of(qs[0], i0 + 3) == -EINVAL &&
	   status_of(qs[0], i0 + 4) == -EINVAL, "unaligned gpa, length, zero: -EINVAL");
	ok(status_of(qs[0], i0 + 5) == -EOVERFLOW, "wrapping range: -EOVERFLOW");
	ok(status_of(qs[0], i0 + 6) == -EOPNOTSUPP && status_of(qs[0], i0 + 7) == -EOPNOTSUPP &&
	   status_of(qs[0], i0 + 8) == -EOPNOTSUPP, "unknown op, NOP, flags: -EOPNOTSUPP");
	ok(status_of(qs[0], i0 + 9) == -EBUSY && all_state(T + 16 * P, P, GMEM_SHARED),
	   "unshare of a pinned page: -EBUSY, still shared");
	ok(cnt(GMEM_ABI_CNT_BAD_RANGE) == 2 && cnt(GMEM_ABI_CNT_BAD_ALIGN) == 3 &&
	   cnt(GMEM_ABI_CNT_BAD_OVERFLOW) == 1 && cnt(GMEM_ABI_CNT_BAD_OP) == 3 &&
	   cnt(GMEM_ABI_CNT_BUSY) == 1, "counted per class: range %llu align %llu overflow "
	   "%llu op %llu busy %llu", (unsigned long long)cnt(GMEM_ABI_CNT_BAD_RANGE),
	   (unsigned long long)cnt(GMEM_ABI_CNT_BAD_ALIGN),
	   (unsigned long long)cnt(GMEM_ABI_CNT_BAD_OVERFLOW),
	   (unsigned long long)cnt(GMEM_ABI_CNT_BAD_OP),
	   (unsigned long long)cnt(GMEM_ABI_CNT_BUSY));
	gmem_get_stats(vm.mem, &st);
	ok(cnt(GMEM_ABI_CNT_CONV_OK) == 3 && all_state(T, 4 * P, GMEM_PRIVATE) &&
	   st.violations == 0, "bad requests converted nothing, touched nothing");
	gmem_unpin(vm.mem, T + 16 * P, P);
	gmem_unshare(vm.mem, T + 16 * P, P);
}

static void test_budget_and_full(void)
{
	uint32_t done0 = qs[0]->req_done, i;
	int a, b, c;

	for (i = 0; i < 10; i++)
		post(qs[0], GMEM_ABI_OP_SHARE, T + 32 * P + i * P, P);
	a = vmm_convq_service(&vm, &rings[0], 3);
	ok(a == 3 && qs[0]->req_done == done0 + 3, "budget 3: 3 of 10 serviced");
	b = vmm_convq_service(&vm, &rings[0], 100);
	ok(b == 7 && all_state(T + 32 * P, 10 * P, GMEM_SHARED), "the other 7 next pass");
	/* A full ring (N outstanding) is legal and takes one pass of N. */
	for (i = 0; i < N; i++)
		post(qs[0], GMEM_ABI_OP_UNSHARE, T + 32 * P + (i % 10) * P, P);
	c = vmm_convq_service(&vm, &rings[0], 1000);
	ok(c == (int)N && !rings[0].stopped, "full ring of %u: all serviced, not stopped", N);
	ok(all_state(T + 32 * P, 10 * P, GMEM_PRIVATE), "and in order (last unshare won)");
}

/* Free-running indices across 2^32. */
static void test_wrap(void)
{
	uint32_t i, first;
	bool good = true;
	int n;

	rings[1].done = 0xfffffff0U;
	qs[1]->req_done = 0xfffffff0U;
	qs[1]->req_prod = 0xfffffff0U;
	first = qs[1]->req_prod;
	for (i = 0; i < 32; i++)
		post(qs[1], i % 2 ? GMEM_ABI_OP_UNSHARE : GMEM_ABI_OP_SHARE, T + 64 * P, P);
	n = vmm_convq_service(&vm, &rings[1], N);
	for (i = 0; i < 32; i++)
		good = good && status_of(qs[1], first + i) == 0;
	ok(n == 32 && good && qs[1]->req_done == 0x10 && !rings[1].stopped,
	   "32 requests across the 2^32 wrap: done 0x%x", qs[1]->req_done);
}

static void test_malformed(void)
{
	uint32_t done = qs[0]->req_done;
	int n;

	qs[0]->req_prod = done + N + 1;
	n = vmm_convq_service(&vm, &rings[0], N);
	ok(n == -EPROTO && rings[0].stopped, "req_prod %u past done: -EPROTO, stopped", N + 1);
	ok((qs[0]->host_flags & GMEM_ABI_CONVQ_F_STOPPED) &&
	   qs[0]->stop_reason == GMEM_ABI_CONVQ_STOP_INDEX &&
	   qs[0]->stop_index == done + N + 1 && qs[0]->req_done == done,
	   "guest sees STOPPED, the reason and the index; nothing completed");
	ok(strstr(rings[0].why, "malformed") && strstr(rings[0].why, "vCPU 0"),
	   "reason: %s", rings[0].why);
	ok(cnt(GMEM_ABI_CNT_QUEUE_STOPPED) == 1, "one queue stopped, counted");
	/* Stopped for good, even once the index looks sane again. */
	qs[0]->req_prod = done + 1;
	ok(vmm_convq_service(&vm, &rings[0], N) == 0 && qs[0]->req_done == done,
	   "a stopped queue services nothing more");
	/* The other vCPU's queue goes on; a backwards index stops it too. */
	post(qs[1], GMEM_ABI_OP_SHARE, T + 64 * P, P);
	ok(vmm_convq_service(&vm, &rings[1], N) == 1, "the other queue still works");
	qs[1]->req_prod = qs[1]->req_done - 1;
	ok(vmm_convq_service(&vm, &rings[1], N) == -EPROTO && rings[1].stopped,
	   "req_prod behind req_done: stopped");
	ok(cnt(GMEM_ABI_CNT_QUEUE_STOPPED) == 2, "two queues stopped");
}

/* ---- the converter thread ------------------------------------------------ */

static bool wait_done(struct gmem_abi_convq *q, uint32_t idx)
{
	uint64_t t0 = timing_now_ns();

	/* A liveness bound, not a timing check: 20 s. */
	while ((int32_t)(__atomic_load_n(&q->req_done, __ATOMIC_ACQUIRE) - (idx + 1)) < 0) {
		if (timing_now_ns() - t0 > 20000000000ULL)
			return false;
		sched_yield();
	}
	return true;
}

/* The counter reaches want (same liveness bound as wait_done()). */
static bool wait_count(enum gmem_abi_counter c, uint64_t want)
{
	uint64_t t0 = timing_now_ns();

	while (cnt(c) < want) {
		if (timing_now_ns() - t0 > 20000000000ULL)
			return false;
		sched_yield();
	}
	return true;
}

static bool wait_flags(struct gmem_abi_convq *q, uint32_t mask, uint32_t want)
{
	uint64_t t0 = timing_now_ns();

	while ((__atomic_load_n(&q->host_flags, __ATOMIC_ACQUIRE) & mask) != want) {
		if (timing_now_ns() - t0 > 20000000000ULL)
			return false;
		sched_yield();
	}
	return true;
}

/* The guest protocol: publish, then (seq_cst) read the flag, kick if not
 * polling. */
static uint32_t guest_post(struct gmem_abi_convq *q, uint32_t op, uint64_t gpa,
			   uint64_t *kicks)
{
	uint32_t idx = post_at(q, op, 0, gpa, P, false);
	uint64_t one = 1;

	__atomic_store_n(&q->req_prod, idx + 1, __ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&q->host_flags, __ATOMIC_SEQ_CST) & GMEM_ABI_CONVQ_F_POLLING)) {
		if (write(vm.convq.efd, &one, sizeof(one)) != sizeof(one))
			return idx;
		(*kicks)++;
	}
	return idx;
}

static void test_thread(void)
{
	uint64_t kicks = 0, w0;
	uint32_t idx, i;
	bool all = true;
	int err;

	teardown();
	setup();
	vm.convq.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ok(vm.convq.efd >= 0, "kick eventfd");
	/* Asleep: no polling at all. */
	err = vmm_convq_start(&vm, 0);
	ok(!err && vm.convq.started, "converter started (asleep mode)");
	ok(wait_flags(qs[0], GMEM_ABI_CONVQ_F_POLLING, 0),
	   "asleep converter shows no POLLING flag");
	w0 = cnt(GMEM_ABI_CNT_QUEUE_WAKEUPS);
	idx = guest_post(qs[0], GMEM_ABI_OP_SHARE, T, &kicks);
	ok(wait_done(qs[0], idx) && status_of(qs[0], idx) == 0 && kicks == 1,
	   "a request with a kick was serviced (%llu kick)", (unsigned long long)kicks);
	/* A converter not yet asleep when the request came services it on
	 * its way to sleep; the kick then wakes it from its next poll. */
	ok(wait_count(GMEM_ABI_CNT_QUEUE_WAKEUPS, w0 + 1), "the kick woke the converter");
	/* The race: post while it may be going to sleep; never lost. */
	for (i = 0; i < 3000 && all; i++) {
		idx = guest_post(qs[i % 2], i % 2 ? GMEM_ABI_OP_SHARE : GMEM_ABI_OP_UNSHARE,
				 T + (i % 2) * P, &kicks);
		all = wait_done(qs[i % 2], idx) && status_of(qs[i % 2], idx) == 0;
	}
	ok(all, "3000 requests on 2 rings posted racing the converter's sleep: none lost "
	   "(%llu kicks)", (unsigned long long)kicks);
	ok(vmm_convq_cpu_ns(&vm) > 0, "converter CPU time readable while it runs");
	vmm_convq_stop(&vm);
	ok(!vm.convq.started && atomic_load(&vm.convq.cpu_ns) > 0,
	   "stopped and joined; CPU time %llu ns",
	   (unsigned long long)atomic_load(&vm.convq.cpu_ns));

	/* Polling for (much) longer than this test: after one kick, requests
	 * need none. */
	err = vmm_convq_start(&vm, 60000000);
	ok(!err, "converter restarted (polling 60 s)");
	kicks = 0;
	ok(wait_flags(qs[0], GMEM_ABI_CONVQ_F_POLLING, GMEM_ABI_CONVQ_F_POLLING),
	   "polling converter shows POLLING");
	for (i = 0; i < 200 && all; i++) {
		idx = guest_post(qs[0], i % 2 ? GMEM_ABI_OP_UNSHARE : GMEM_ABI_OP_SHARE,
				 T + 8 * P, &kicks);
		all = wait_done(qs[0], idx) && status_of(qs[0], idx) == 0;
	}
	ok(all && kicks == 0, "200 requests to a polling converter, no kick (%llu)",
	   (unsigned long long)kicks);
	vmm_convq_stop(&vm);
	ok(!(qs[0]->host_flags & GMEM_ABI_CONVQ_F_POLLING), "POLLING cleared once stopped");
	ok(vmm_convq_start(&vm, 0) == 0 && vmm_convq_start(&vm, 0) == -EINVAL,
	   "a second start while running: -EINVAL");
	vmm_convq_stop(&vm);
	close(vm.convq.efd);
	vm.convq.efd = -1;
}

int main(void)
{
	tap_plan(40);
	setup();
	test_init();			/* 2 */
	test_good();			/* 4 */
	test_errors();			/* 8 */
	test_budget_and_full();		/* 4 */
	test_wrap();			/* 1 */
	test_malformed();		/* 8 */
	test_thread();			/* 13 */
	teardown();
	return tap_done();
}
