// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the guest -> VMM conversion transport (vmm/transport.c),
 * both the doorbell mailbox and KVM_HC_MAP_GPA_RANGE exits, fed with
 * guest-chosen requests against a real gmem region (memfd, no KVM needed).
 *
 * The first byte: bit 0 destructive mode, bit 1 test services on (as in a
 * convert/badreq/smp run; off as in every other run).  Each 16-byte record
 * is one request.  After each one: the status must be 0 or one of the
 * documented errors (hypercalls: KVM's KVM_E* set or -EBUSY), a successful
 * share / unshare must have left every page of the range in the target
 * state, with services off no test service may succeed, and the pages the
 * VMM pins for itself (boot info, results, vCPU page) must still be shared
 * and hold exactly the VMM's one pin: a guest request that dropped a VMM
 * pin is found at once.  No host unpin may ever find its pin gone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/vm_internal.h"
#include "harness/services.h"
#include "fuzz_util.h"

#define MEM	(4ULL << 20)	/* only cfg.mem_size matters to the transport */
#define NPAGES	(MEM / GMEM_ABI_PAGE_SIZE)
#define P	GMEM_ABI_PAGE_SIZE

static struct vmm *vm;
static struct vmm_vcpu *vcpu;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_vm_transport: %s\n", what);
	abort();
}

/* A fresh region per input, so every input replays the same way. */
static void setup(bool destructive, bool services)
{
	struct gmem_config gc = {
		.size = MEM, .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
		.mode = destructive ? GMEM_MODE_DESTRUCTIVE : GMEM_MODE_INPLACE,
		.name = "fuzz-ram",
	};
	void *p = NULL;

	if (!vm) {
		vm = calloc(1, sizeof(*vm));
		vcpu = calloc(1, sizeof(*vcpu));
		if (!vm || !vcpu)
			die("setup");
	}
	free(vcpu->run);
	memset(vm, 0, sizeof(*vm));
	memset(vcpu, 0, sizeof(*vcpu));
	if (gmem_create(&gc, &vm->mem))
		die("gmem_create");
	vm->cfg.mem_size = MEM;
	vm->cfg.mode = gc.mode;
	vm->services = services ? &harness_services : NULL;
	vm->nr_vcpus = 1;
	vm->vcpus = vcpu;
	vcpu->vm = vm;
	vcpu->index = 0;
	vcpu->run = calloc(1, sizeof(struct kvm_run));
	vcpu->run_size = sizeof(struct kvm_run);
	/* As the VMM does: boot info, results and the vCPU page shared, pinned. */
	if (gmem_share(vm->mem, GMEM_ABI_BOOT_INFO_GPA, 2 * P) ||
	    gmem_share(vm->mem, GMEM_ABI_VCPU_PAGE_GPA, P) ||
	    gmem_pin(vm->mem, GMEM_ABI_BOOT_INFO_GPA, 2 * P) ||
	    gmem_pin_ptr(vm->mem, GMEM_ABI_VCPU_PAGE_GPA, P, &p) || !vcpu->run)
		die("setup pins");
	vcpu->page = p;
}

static bool known_hc(int64_t st)
{
	switch (st) {
	case 0: case -GMEM_ABI_EBUSY: case -GMEM_ABI_KVM_EFAULT:
	case -GMEM_ABI_KVM_EINVAL: case -GMEM_ABI_KVM_EOPNOTSUPP:
	case -GMEM_ABI_KVM_ENOSYS:
		return true;
	}
	return false;
}

static void check_vmm_pin(uint64_t gpa)
{
	if (gmem_page_state(vm->mem, gpa) != GMEM_SHARED ||
	    gmem_page_pins_of(vm->mem, gpa, GMEM_PIN_HOST) != 1)
		die("a VMM pin was dropped, or its page became private");
}

static void check_state(uint64_t gpa, uint64_t len, int want)
{
	uint64_t off;

	for (off = gpa; off < gpa + len; off += P)
		if (gmem_page_state(vm->mem, off) != want)
			die("successful conversion left a page in the wrong state");
}

/* A CONVERT_LIST's entries from the record: up to 4 ranges near gpa, each
 * a share or an unshare (any op now and then); len: how many are read
 * (sometimes more than the list holds). */
static void fill_list(const uint8_t *r, uint64_t gpa)
{
	volatile struct gmem_abi_conv_entry *e = vcpu->page->list;
	unsigned int k;

	for (k = 0; k < 4; k++) {
		e[k].op = (r[12 + k] & 0x40) ? r[12 + k] : (r[12 + k] & 1) ?
			  GMEM_ABI_OP_SHARE : GMEM_ABI_OP_UNSHARE;
		e[k].gpa = gpa + k * P * (r[11] % 5);
		e[k].len = P * (r[12 + k] % 5);
	}
	vcpu->page->mbox.len = (r[15] & 0x80) ? GMEM_ABI_LIST_MAX + (r[15] & 3) : 1 + r[15] % 4;
}

static void one(const uint8_t *r)
{
	uint64_t page = fuzz_get(r + 4, 4) % (NPAGES + 8);
	uint64_t npages = fuzz_get(r + 8, 2) % 600;
	uint64_t gpa = page * P, len = npages * P, arg = fuzz_get(r + 10, 6);
	uint8_t sk = r[3];
	int64_t st;
	uint32_t op;

	if (sk & 0x10)
		gpa += sk & 0x0f;
	if (sk & 0x20)
		len += 1 + (sk & 0x0f);
	if (sk & 0x40)
		gpa = ~0ULL - (gpa & 0xffff);
	if (r[0] & 1) {			/* hypercall exit */
		struct kvm_run *run = vcpu->run;
		uint64_t attrs = r[1] & 7;

		if (r[1] & 0x80)
			attrs |= 1ULL << 8;
		if (sk & 0x80)
			npages |= 1ULL << (50 + (sk & 7));
		memset(run, 0, sizeof(*run));
		run->exit_reason = KVM_EXIT_HYPERCALL;
		run->hypercall.nr = (r[2] & 1) ? r[2] : GMEM_ABI_HC_MAP_GPA_RANGE;
		run->hypercall.args[0] = gpa;
		run->hypercall.args[1] = npages;
		run->hypercall.args[2] = attrs;
		/* long mode, as KVM says for a 64-bit guest; sometimes not, or
		 * with flags this VMM does not know */
		run->hypercall.longmode = (r[1] & 0x40) ? (r[2] >> 1) & 3 :
					  KVM_EXIT_HYPERCALL_LONG_MODE;
		vmm_handle_hypercall(vcpu);
		st = (int64_t)run->hypercall.ret;
		if (!known_hc(st))
			die("unknown hypercall status");
		if (run->hypercall.longmode != KVM_EXIT_HYPERCALL_LONG_MODE && !st)
			die("a hypercall outside long mode (or with unknown flags) converted");
		op = attrs & GMEM_ABI_HC_ATTR_PRIVATE ? GMEM_ABI_OP_UNSHARE :
							GMEM_ABI_OP_SHARE;
		len = npages * P;
		if (run->hypercall.nr != GMEM_ABI_HC_MAP_GPA_RANGE || attrs >> 8 ||
		    run->hypercall.longmode != KVM_EXIT_HYPERCALL_LONG_MODE)
			op = ~0U;
	} else {			/* doorbell */
		volatile struct gmem_abi_mailbox *mb = &vcpu->page->mbox;

		op = r[1] % 24;
		mb->op = op;
		mb->flags = (r[2] & 1) ? r[2] : 0;
		mb->gpa = gpa;
		mb->len = len;
		mb->arg = arg;
		if (op == GMEM_ABI_OP_CONVERT_LIST)
			fill_list(r, gpa);
		st = vmm_handle_doorbell(vcpu, (r[2] & 2) ? 7 : 0);
		if (mb->status != st)
			die("mailbox status differs from the return value");
		if (!fuzz_status_known(st, true))
			die("unknown status");
		if (!vm->services && !(r[2] & 3) && op >= GMEM_ABI_OP_CHECK_PATTERN &&
		    op <= GMEM_ABI_OP_COUNTER && st != -EOPNOTSUPP)
			die("a test service answered in a run without them");
		if ((r[2] & 3))
			op = ~0U;
	}
	if (!st && op == GMEM_ABI_OP_SHARE)
		check_state(gpa, len, GMEM_SHARED);
	if (!st && op == GMEM_ABI_OP_UNSHARE)
		check_state(gpa, len, GMEM_PRIVATE);
	check_vmm_pin(GMEM_ABI_BOOT_INFO_GPA);
	check_vmm_pin(GMEM_ABI_RESULTS_GPA);
	check_vmm_pin(GMEM_ABI_VCPU_PAGE_GPA);
	{
		struct gmem_stats gs;

		gmem_get_stats(vm->mem, &gs);
		if (gs.unpin_missing || gs.violations)
			die("a host unpin found no pin, or a violation");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	if (!size)
		return 0;
	setup(data[0] & 1, data[0] & 2);
	for (i = 1; i + 16 <= size && i < 64 * 16; i += 16)
		one(data + i);
	gmem_destroy(vm->mem);
	vm->mem = NULL;
	return 0;
}
