// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the conversion queue decoder (vmm/convq.c), fed with a
 * guest-controlled ring against a real gmem region (memfd, no KVM needed).
 *
 * Each 16-byte record is one guest action on one of two rings: write a
 * request slot (any op, flags, gpa, len), move req_prod (to anything, sane
 * or not), or let the VMM run one service pass with some budget.  After
 * each pass: the return value is in range, req_done moved by exactly that
 * much and never past req_prod, every completion status is 0 or a
 * documented error, the last request serviced (if it succeeded) left its
 * range in the target state, a stopped ring says so and never services
 * again, and the pages the VMM pins for itself are still shared.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/vm_internal.h"
#include "fuzz_util.h"

#define MEM	(4ULL << 20)
#define NPAGES	(MEM / GMEM_ABI_PAGE_SIZE)
#define P	GMEM_ABI_PAGE_SIZE
#define N	GMEM_ABI_CONVQ_SIZE

static struct vmm vm;
static struct vmm_convq_ring rings[2];
static struct gmem_abi_convq *qs[2];

static void die(const char *what)
{
	fprintf(stderr, "fuzz_convq: %s\n", what);
	abort();
}

static void setup(bool destructive)
{
	struct gmem_config gc = {
		.size = MEM, .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
		.mode = destructive ? GMEM_MODE_DESTRUCTIVE : GMEM_MODE_INPLACE,
		.name = "fuzz-convq",
	};
	void *p = NULL;
	int i;

	memset(&vm, 0, sizeof(vm));
	if (gmem_create(&gc, &vm.mem))
		die("gmem_create");
	vm.cfg.mem_size = MEM;
	vm.cfg.mode = gc.mode;
	vm.convq.rings = rings;
	vm.convq.nr = 2;
	vm.convq.efd = -1;
	/* As the VMM does: the queue pages shared and pinned. */
	if (gmem_share(vm.mem, GMEM_ABI_CONVQ_GPA, 2 * P) ||
	    gmem_pin_ptr(vm.mem, GMEM_ABI_CONVQ_GPA, 2 * P, &p))
		die("setup pins");
	for (i = 0; i < 2; i++) {
		qs[i] = (void *)((char *)p + i * P);
		vmm_convq_ring_init(&rings[i], qs[i], (unsigned int)i);
	}
}

static void check_state(uint64_t gpa, uint64_t len, int want)
{
	uint64_t off;

	for (off = gpa; off < gpa + len; off += P)
		if (gmem_page_state(vm.mem, off) != want)
			die("successful conversion left a page in the wrong state");
}

static void one(const uint8_t *r)
{
	unsigned int k = r[0] & 1, act = (r[0] >> 1) % 3;
	struct gmem_abi_convq *q = qs[k];
	struct vmm_convq_ring *ring = &rings[k];

	if (act == 0) {			/* write a slot */
		struct gmem_abi_convq_req *s = &q->req[r[1] & (N - 1)];
		uint64_t page = fuzz_get(r + 4, 3) % (NPAGES + 8);
		uint64_t npages = fuzz_get(r + 7, 2) % 300;
		uint8_t sk = r[3];

		s->op = r[2] % 5;
		s->flags = (sk & 0x80) ? sk : 0;
		s->gpa = page * P + ((sk & 0x10) ? (sk & 0x0f) : 0);
		s->len = npages * P + ((sk & 0x20) ? 1 + (sk & 0x0f) : 0);
		if (sk & 0x40)
			s->gpa = ~0ULL - (s->gpa & 0xffff);
		s->tag = fuzz_get(r + 9, 7);
	} else if (act == 1) {		/* move req_prod */
		uint32_t d = (uint32_t)fuzz_get(r + 1, 4);

		if (!(r[5] & 1))
			d %= N + 2;	/* mostly near: sane or just past */
		q->req_prod = q->req_done + d;
	} else {			/* one service pass */
		uint32_t done0 = ring->done, prod = q->req_prod, i;
		unsigned int budget = r[1] % (N + 8);
		bool was_stopped = ring->stopped;
		int n = vmm_convq_service(&vm, ring, budget);

		if (was_stopped && n != 0)
			die("a stopped ring was serviced");
		if (n == -EPROTO) {
			if (!ring->stopped || !(q->host_flags & GMEM_ABI_CONVQ_F_STOPPED) ||
			    q->stop_reason != GMEM_ABI_CONVQ_STOP_INDEX ||
			    prod - done0 <= N)
				die("stop without reason, or a sane ring stopped");
			if (ring->done != done0)
				die("a malformed ring was serviced");
		} else if (n < 0 || (unsigned int)n > budget || n > (int)N) {
			die("service returned out of range");
		} else {
			if (ring->done != done0 + (uint32_t)n || q->req_done != ring->done)
				die("req_done not moved by what was serviced");
			if (!ring->stopped && (int32_t)(prod - ring->done) < 0)
				die("req_done past req_prod");
			for (i = done0; i != ring->done; i++)
				if (!fuzz_status_known(q->cpl[i & (N - 1)].status, false))
					die("unknown status");
			if (n) {
				uint32_t last = ring->done - 1;
				const struct gmem_abi_convq_req *s = &q->req[last & (N - 1)];

				if (q->cpl[last & (N - 1)].tag != s->tag)
					die("tag not echoed");
				if (!q->cpl[last & (N - 1)].status && !s->flags &&
				    s->op == GMEM_ABI_OP_SHARE)
					check_state(s->gpa, s->len, GMEM_SHARED);
				if (!q->cpl[last & (N - 1)].status && !s->flags &&
				    s->op == GMEM_ABI_OP_UNSHARE)
					check_state(s->gpa, s->len, GMEM_PRIVATE);
			}
		}
	}
	if (gmem_page_state(vm.mem, GMEM_ABI_CONVQ_GPA) != GMEM_SHARED ||
	    gmem_page_state(vm.mem, GMEM_ABI_CONVQ_GPA + P) != GMEM_SHARED)
		die("a VMM-pinned queue page became private");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	if (!size)
		return 0;
	setup(data[0] & 1);
	for (i = 1; i + 16 <= size && i < 128 * 16; i += 16)
		one(data + i);
	gmem_unpin(vm.mem, GMEM_ABI_CONVQ_GPA, 2 * P);
	gmem_destroy(vm.mem);
	vm.mem = NULL;
	return 0;
}
