// SPDX-License-Identifier: GPL-2.0
/*
 * The VM's boot setup: identity page tables, GDT, boot info and the guest
 * image, written into guest RAM before the first vCPU runs.
 *
 * Boot setup is written through the host view while the boot pages are
 * shared; the GDT, page tables and image are unshared afterwards (in place
 * mode) so the guest's code and data are private.  The boot info, results
 * page and vCPU pages stay shared and are pinned by the VMM for the run;
 * the shared pool stays shared (not pinned).
 */
#include <errno.h>
#include <string.h>

#include "vm_internal.h"

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_PS		(1ULL << 7)
#define PTE_US		(1ULL << 2)
#define SZ_2M		0x200000ULL

/* Host pointer to a shared range of guest RAM (the checked path). */
static void *guest_ptr(struct vmm *vm, uint64_t gpa, uint64_t len)
{
	void *p;

	if (gmem_host_ptr(vm->mem, gpa, len, &p))
		return NULL;
	return p;
}

/*
 * Identity map.  A PVM-variant host runs the guest natively only if U/S is
 * set at every level of every mapping it uses (with any level at U/S=0 the
 * vCPU refaults for ever): set there, and only there, so that VMX and SVM
 * guests see exactly the supervisor tables they always had.
 */
static void build_page_tables(struct vmm *vm, uint64_t *pt)
{
	uint64_t *pml4 = pt, *pdpt = pt + 512, *pd = pt + 1024, *pt0 = pt + 3072;
	uint64_t base = GMEM_ABI_PT_GPA, a, f = PTE_P | PTE_RW;
	unsigned int i;

	if (vm->pvm)
		f |= PTE_US;
	memset(pt, 0, GMEM_ABI_PT_PAGES * GMEM_ABI_PAGE_SIZE);
	pml4[0] = (base + 0x1000) | f;
	for (i = 0; i < 4; i++)
		pdpt[i] = (base + 0x2000 + i * 0x1000ULL) | f;
	/* First 2 MiB through 4 KiB pages, GPA 0 left out (NULL faults). */
	pd[0] = (base + 0x6000) | f;
	for (i = 1; i < 512; i++)
		pt0[i] = (i * GMEM_ABI_PAGE_SIZE) | f;
	for (a = SZ_2M; a < vm->cfg.mem_size; a += SZ_2M)
		pd[a / SZ_2M] = a | f | PTE_PS;
	a = GMEM_ABI_VIRTIO_MMIO_GPA & ~(SZ_2M - 1);
	pd[a / SZ_2M] = a | f | PTE_PS | PTE_PCD | PTE_PWT;
}

#define TSS_GPA		VMM_TSS_GPA

static void build_gdt(uint64_t *gdt)
{
	memset(gdt, 0, GMEM_ABI_PAGE_SIZE);
	gdt[1] = 0x00af9b000000ffffULL;		/* 0x08: code, 64-bit */
	gdt[2] = 0x00cf93000000ffffULL;		/* 0x10: data */
	/* 0x18: 64-bit TSS (busy), 16 bytes */
	gdt[3] = 0x67ULL | ((TSS_GPA & 0xffffffULL) << 16) | (0x8bULL << 40) |
		 ((TSS_GPA >> 24) & 0xffULL) << 56;
	gdt[4] = TSS_GPA >> 32;
}

static void fill_boot_info(struct vmm *vm, struct gmem_abi_boot_info *b)
{
	memset(b, 0, GMEM_ABI_PAGE_SIZE);
	b->magic = GMEM_ABI_MAGIC;
	b->version = GMEM_ABI_VERSION;
	b->nr_vcpus = vm->nr_vcpus;
	b->test = vm->cfg.test;
	b->transport = vm->transport;	/* resolved: the ABI's value */
	b->vendor = vm->vendor;
	b->mode = vm->cfg.mode == GMEM_MODE_DESTRUCTIVE ?
		  GMEM_ABI_MODE_DESTRUCTIVE : GMEM_ABI_MODE_INPLACE;
	b->bench_reps = vm->cfg.bench_reps;
	b->mem_size = vm->cfg.mem_size;
	b->test_gpa = GMEM_ABI_TEST_GPA;
	b->test_size = vm->cfg.mem_size - GMEM_ABI_TEST_GPA;
	b->pool_gpa = GMEM_ABI_POOL_GPA;
	b->pool_size = GMEM_ABI_POOL_SIZE;
	b->host_tsc_khz = vm->tsc_khz;
	b->pvm = vm->pvm;
	b->platform = vm->cfg.platform;
}

static uint64_t image_len(void)
{
	return (uint64_t)(vmm_guest_image_end - vmm_guest_image);
}

static uint64_t page_up(uint64_t x)
{
	return (x + GMEM_ABI_PAGE_SIZE - 1) & ~(GMEM_ABI_PAGE_SIZE - 1);
}

/* Ranges written at boot and made private again afterwards. */
static const struct { uint64_t gpa, len; } boot_private[] = {
	{ GMEM_ABI_GDT_GPA, GMEM_ABI_PAGE_SIZE },
	{ GMEM_ABI_PT_GPA, GMEM_ABI_PT_PAGES * GMEM_ABI_PAGE_SIZE },
	{ GMEM_ABI_IMAGE_GPA, 0 },	/* length: the image, page rounded */
};

/*
 * Share what the VMM writes now or reads later.  On 2 MiB pages a 4 KiB
 * conversion is refused: the whole boot area below the test area (boot
 * info, page tables, vCPU and PVM pages, the image, the boot pool) is
 * shared as whole huge pages and stays shared (boot_area_private() is then
 * a no-op): a fidelity loss of the boot area only, named in the docs; the
 * I/O buffers above it convert as they do on 4 KiB pages.
 */
static int share_boot_area(struct vmm *vm, uint64_t img, uint64_t vcpu_len)
{
	int err;

	if (gmem_granule(vm->mem) > GMEM_ABI_PAGE_SIZE)
		return gmem_share(vm->mem, 0, GMEM_ABI_TEST_GPA);
	err = gmem_share(vm->mem, GMEM_ABI_BOOT_INFO_GPA, 3 * GMEM_ABI_PAGE_SIZE);
	if (!err)
		err = gmem_share(vm->mem, GMEM_ABI_PT_GPA,
				 GMEM_ABI_PT_PAGES * GMEM_ABI_PAGE_SIZE);
	if (!err)
		err = gmem_share(vm->mem, GMEM_ABI_VCPU_PAGE_GPA, vcpu_len);
	if (!err)
		err = gmem_share(vm->mem, GMEM_ABI_PVM_PAGE_GPA, vcpu_len);
	if (!err)
		err = gmem_share(vm->mem, GMEM_ABI_CONVQ_GPA, vcpu_len);
	if (!err)
		err = gmem_share(vm->mem, GMEM_ABI_IMAGE_GPA, img);
	if (!err)
		err = gmem_share(vm->mem, GMEM_ABI_POOL_GPA, GMEM_ABI_POOL_SIZE);
	return err;
}

/* Make private again what only the boot needed shared (4 KiB pages). */
static int boot_area_private(struct vmm *vm, uint64_t img, uint64_t vcpu_len)
{
	unsigned int i;
	int err;

	if (gmem_granule(vm->mem) > GMEM_ABI_PAGE_SIZE)
		return 0;
	/* The PVM pages are the host's and the guest's, never the VMM's. */
	err = gmem_unshare(vm->mem, GMEM_ABI_PVM_PAGE_GPA, vcpu_len);
	if (err || vm->cfg.mode != GMEM_MODE_INPLACE)
		return err;
	for (i = 0; i < sizeof(boot_private) / sizeof(boot_private[0]); i++) {
		err = gmem_unshare(vm->mem, boot_private[i].gpa,
				   boot_private[i].len ? boot_private[i].len : img);
		if (err)
			return err;
	}
	return 0;
}

int vmm_load_boot(struct vmm *vm)
{
	uint64_t img = page_up(image_len());
	uint64_t vcpu_len = vm->nr_vcpus * GMEM_ABI_PAGE_SIZE;
	void *p, *gdt, *pt, *res, *vp, *pvm;
	unsigned int i;
	int err;

	if (image_len() > GMEM_ABI_IMAGE_MAX)
		return -E2BIG;
	err = share_boot_area(vm, img, vcpu_len);
	if (err)
		return err;

	gdt = guest_ptr(vm, GMEM_ABI_GDT_GPA, GMEM_ABI_PAGE_SIZE);
	pt = guest_ptr(vm, GMEM_ABI_PT_GPA, GMEM_ABI_PT_PAGES * GMEM_ABI_PAGE_SIZE);
	p = guest_ptr(vm, GMEM_ABI_IMAGE_GPA, img);
	res = guest_ptr(vm, GMEM_ABI_RESULTS_GPA, GMEM_ABI_PAGE_SIZE);
	vp = guest_ptr(vm, GMEM_ABI_VCPU_PAGE_GPA, vcpu_len);
	pvm = guest_ptr(vm, GMEM_ABI_PVM_PAGE_GPA, vcpu_len);
	if (!gdt || !pt || !p || !res || !vp || !pvm)
		return -EFAULT;		/* just shared: cannot happen */
	build_gdt(gdt);
	build_page_tables(vm, pt);
	memset(p, 0, img);
	memcpy(p, vmm_guest_image, image_len());
	memset(res, 0, GMEM_ABI_PAGE_SIZE);
	memset(vp, 0, vcpu_len);
	memset(pvm, 0, vcpu_len);
	err = boot_area_private(vm, img, vcpu_len);
	if (err)
		return err;

	/* Pin the pages the VMM reads during the run; keep the pointers. */
	err = gmem_pin_ptr(vm->mem, GMEM_ABI_BOOT_INFO_GPA,
			   2 * GMEM_ABI_PAGE_SIZE, &p);
	if (err)
		return err;
	vm->boot = p;
	vm->results = (void *)((char *)p + GMEM_ABI_PAGE_SIZE);
	err = gmem_pin_ptr(vm->mem, GMEM_ABI_VCPU_PAGE_GPA, vcpu_len, &p);
	if (err) {
		gmem_unpin(vm->mem, GMEM_ABI_BOOT_INFO_GPA, 2 * GMEM_ABI_PAGE_SIZE);
		return err;
	}
	for (i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].page = (void *)((char *)p + i * GMEM_ABI_PAGE_SIZE);
	vm->pinned = true;
	/* The queue pages: shared and pinned for the run (every transport,
	 * so the layout never depends on it), each ring initialised. */
	err = gmem_pin_ptr(vm->mem, GMEM_ABI_CONVQ_GPA, vcpu_len, &p);
	if (err)
		return err;
	vm->queue_pinned = true;
	for (i = 0; i < vm->nr_vcpus; i++)
		vmm_convq_ring_init(&vm->convq.rings[i],
				     (void *)((char *)p + i * GMEM_ABI_PAGE_SIZE), i);
	fill_boot_info(vm, vm->boot);
	return 0;
}
