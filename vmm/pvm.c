// SPDX-License-Identifier: GPL-2.0
/*
 * The PVM-variant KVM host (profile K in docs): a KVM that runs a 64-bit
 * guest kernel at hardware CPL 3 and, out of the box, emulates every guest
 * instruction.  A vCPU opts in to native execution with a vendor MSR that
 * names a per-vCPU page of guest RAM; the guest's page tables must then set
 * U/S at every level.  Probed, never assumed: the identification MSR does
 * not exist on other hosts (VMX, SVM, QEMU) and nothing here runs there.
 *
 *   MSR 0x4b564d11 (read)   0x4d5650 ("PVM") on such a host
 *   MSR 0x4b564d10 (write)  GPA of the vCPU's page | PVM_CTL_NATIVE |
 *                           PVM_CTL_CR2; 0 turns native mode off
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm_internal.h"

#define PVM_MSR_CTL		0x4b564d10U
#define PVM_MSR_ID		0x4b564d11U
#define PVM_ID			0x4d5650ULL	/* "PVM" */
#define PVM_CTL_NATIVE		(1ULL << 0)	/* run the vCPU natively */
#define PVM_CTL_CR2		(1ULL << 4)	/* store CR2 in the page on #PF */

/* One MSR through KVM_GET_MSRS / KVM_SET_MSRS (struct kvm_msrs ends in a
 * flexible array: allocated, not embedded in another struct). */
static int msr_io(int vcpu_fd, unsigned long req, uint32_t index, uint64_t *val)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(m->entries[0]));
	int n, err = 0;

	if (!m)
		return -ENOMEM;
	m->nmsrs = 1;
	m->entries[0].index = index;
	m->entries[0].data = *val;
	n = ioctl(vcpu_fd, req, m);
	if (n < 0)
		err = -errno;
	else if (n != 1)
		err = -ENOENT;		/* KVM did not know the MSR */
	else
		*val = m->entries[0].data;
	free(m);
	return err;
}

bool vmm_pvm_detect(int vcpu_fd)
{
	uint64_t v = 0;

	return !msr_io(vcpu_fd, KVM_GET_MSRS, PVM_MSR_ID, &v) && v == PVM_ID;
}

int vmm_pvm_enable(int vcpu_fd, uint64_t page_gpa)
{
	uint64_t v = page_gpa | PVM_CTL_NATIVE | PVM_CTL_CR2, back = 0;
	int err;

	if (page_gpa & (GMEM_ABI_PAGE_SIZE - 1))
		return -EINVAL;
	err = msr_io(vcpu_fd, KVM_SET_MSRS, PVM_MSR_CTL, &v);
	if (err)
		return err == -ENOENT ? -EOPNOTSUPP : err;
	/* Read it back: a host that took the write but ignores it is not
	 * one we know. */
	err = msr_io(vcpu_fd, KVM_GET_MSRS, PVM_MSR_CTL, &back);
	if (!err && (back & ~0xfffULL) != page_gpa)
		return -EOPNOTSUPP;
	return 0;
}
