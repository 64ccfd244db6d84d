// SPDX-License-Identifier: GPL-2.0
/*
 * The VM: KVM VM with one gmem region as RAM, boot setup (identity page
 * tables, GDT, boot info, guest image), vCPU threads and the watchdog.
 *
 * Boot setup is written through the host view while the boot pages are
 * shared; the GDT, page tables and image are unshared afterwards (in place
 * mode) so the guest's code and data are private.  The boot info, results
 * page and vCPU pages stay shared and are pinned by the VMM for the run;
 * the shared pool stays shared (not pinned).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vm_internal.h"
#include "gmemkit/probe.h"



#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_PS		(1ULL << 7)
#define PTE_US		(1ULL << 2)
#define SZ_2M		0x200000ULL

/* ---- names ------------------------------------------------------------- */

static const char *const test_names[GMEM_ABI_TEST_MAX] = {
	[GMEM_ABI_TEST_HELLO] = "hello",
	[GMEM_ABI_TEST_CONVERT] = "convert",
	[GMEM_ABI_TEST_BADREQ] = "badreq",
	[GMEM_ABI_TEST_SMP] = "smp",
	[GMEM_ABI_TEST_BENCH] = "bench",
	[GMEM_ABI_TEST_PROBE] = "probe",
	[GMEM_ABI_TEST_FAULT] = "fault",
	[GMEM_ABI_TEST_TRIPLE] = "triple",
	[GMEM_ABI_TEST_HANG] = "hang",
	[GMEM_ABI_TEST_MMIO] = "mmio",
	[GMEM_ABI_TEST_IO] = "io",
	[GMEM_ABI_TEST_HOSTILE] = "hostile",
	[GMEM_ABI_TEST_INTN] = "intn",
};

/* The guest self-tests that check the host view, pin pages as a device
 * would and read the VMM's counters; no other run offers those services. */
bool gmem_vm_test_wants_services(enum gmem_abi_test t)
{
	return t == GMEM_ABI_TEST_CONVERT || t == GMEM_ABI_TEST_BADREQ ||
	       t == GMEM_ABI_TEST_SMP;
}

int gmem_vm_test_from_name(const char *name, enum gmem_abi_test *out)
{
	int i;

	for (i = 1; name && i < GMEM_ABI_TEST_MAX; i++) {
		if (test_names[i] && !strcmp(name, test_names[i])) {
			*out = (enum gmem_abi_test)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *gmem_vm_test_name(enum gmem_abi_test t)
{
	if ((int)t <= 0 || t >= GMEM_ABI_TEST_MAX)
		return "?";
	return test_names[t];
}

int gmem_vm_transport_from_name(const char *name, enum gmem_transport *out)
{
	if (!name)
		return -EINVAL;
	if (!strcmp(name, "auto"))
		*out = GMEM_TRANSPORT_AUTO;
	else if (!strcmp(name, "hypercall"))
		*out = GMEM_TRANSPORT_HYPERCALL;
	else if (!strcmp(name, "doorbell"))
		*out = GMEM_TRANSPORT_DOORBELL;
	else if (!strcmp(name, "queue"))
		*out = GMEM_TRANSPORT_QUEUE;
	else
		return -EINVAL;
	return 0;
}

const char *gmem_vm_transport_name(enum gmem_transport t)
{
	switch (t) {
	case GMEM_TRANSPORT_AUTO: return "auto";
	case GMEM_TRANSPORT_HYPERCALL: return "hypercall";
	case GMEM_TRANSPORT_DOORBELL: return "doorbell";
	case GMEM_TRANSPORT_QUEUE: return "queue";
	}
	return "?";
}

const char *gmem_vm_end_name(enum gmem_vm_end e)
{
	switch (e) {
	case GMEM_VM_END_DONE: return "done";
	case GMEM_VM_END_PANIC: return "guest exception";
	case GMEM_VM_END_SHUTDOWN: return "shutdown (triple fault)";
	case GMEM_VM_END_TIMEOUT: return "watchdog timeout";
	case GMEM_VM_END_UNEXPECTED: return "unexpected exit";
	case GMEM_VM_END_ERROR: return "host error";
	}
	return "?";
}

/* ---- run end, console ----------------------------------------------------- */

void gmem_vm_end_run(struct gmem_vm *vm, enum gmem_vm_end end, int vcpu,
		     uint64_t info, const char *fmt, ...)
{
	unsigned int i;
	va_list ap;

	pthread_mutex_lock(&vm->end_lock);
	if (!vm->ended) {
		vm->ended = true;
		vm->end.end = end;
		vm->end.end_vcpu = vcpu;
		vm->end.end_info = info;
		va_start(ap, fmt);
		vsnprintf(vm->end.message, sizeof(vm->end.message), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&vm->end_lock);
	atomic_store(&vm->stop, true);
	for (i = 0; i < vm->nr_vcpus; i++)
		gmem_vcpu_kick(&vm->vcpus[i]);
}

void gmem_vm_console(struct gmem_vm *vm, struct gmem_vcpu *vcpu, uint32_t len)
{
	char buf[GMEM_ABI_CONSOLE_MAX];
	uint32_t i;

	if (len > sizeof(buf))
		len = sizeof(buf);
	/* One copy out of guest-writable memory, then only the copy is used. */
	memcpy(buf, vcpu->page->console, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f)
			buf[i] = '?';
	}
	atomic_fetch_add(&vm->console_writes, 1);
	if (vm->cfg.quiet)
		return;
	pthread_mutex_lock(&vm->console_lock);
	fwrite(buf, 1, len, vm->cfg.console);
	fflush(vm->cfg.console);
	pthread_mutex_unlock(&vm->console_lock);
}

/* ---- configuration -------------------------------------------------------- */

static int check_config(const struct gmem_vm_config *in, struct gmem_vm_config *c)
{
	*c = *in;
	if (!c->mem_size)
		c->mem_size = GMEM_VM_DEFAULT_MEM;
	if (!c->test)
		c->test = GMEM_ABI_TEST_HELLO;
	if (!c->timeout_ms)
		c->timeout_ms = GMEM_VM_DEFAULT_TIMEOUT_MS;
	if (!c->bench_reps)
		c->bench_reps = 100;
	if (!c->console)
		c->console = stdout;
	if (!c->vcpus || c->vcpus > GMEM_ABI_MAX_VCPUS)
		return -EINVAL;
	if (c->mem_size < GMEM_ABI_MEM_MIN || c->mem_size > GMEM_ABI_MEM_MAX ||
	    c->mem_size % GMEM_ABI_MEM_ALIGN)
		return -EINVAL;
	if ((int)c->test <= 0 || c->test >= GMEM_ABI_TEST_MAX)
		return -EINVAL;
	if (c->transport > GMEM_TRANSPORT_QUEUE)
		return -EINVAL;
	if (c->conv_poll_us < GMEM_VM_CONV_POLL_OFF ||
	    c->conv_poll_us > GMEM_VM_CONV_POLL_US_MAX)
		return -EINVAL;
	if (!c->conv_poll_us)
		c->conv_poll_us = GMEM_VM_CONV_POLL_US_DEFAULT;
	if (c->mode > GMEM_MODE_DESTRUCTIVE || c->backing > GMEM_BACKING_MEMFD)
		return -EINVAL;
	if (c->bench_reps > 100000)
		return -EINVAL;
	return 0;
}

/* ---- boot setup ----------------------------------------------------------- */

/* Host pointer to a shared range of guest RAM (the checked path). */
static void *guest_ptr(struct gmem_vm *vm, uint64_t gpa, uint64_t len)
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
static void build_page_tables(struct gmem_vm *vm, uint64_t *pt)
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

#define TSS_GPA		GMEM_VM_TSS_GPA

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

static void fill_boot_info(struct gmem_vm *vm, struct gmem_abi_boot_info *b)
{
	memset(b, 0, GMEM_ABI_PAGE_SIZE);
	b->magic = GMEM_ABI_MAGIC;
	b->version = GMEM_ABI_VERSION;
	b->nr_vcpus = vm->nr_vcpus;
	b->test = vm->cfg.test;
	b->transport = vm->transport == GMEM_TRANSPORT_HYPERCALL ?
		       GMEM_ABI_TRANSPORT_HYPERCALL :
		       vm->transport == GMEM_TRANSPORT_QUEUE ?
		       GMEM_ABI_TRANSPORT_QUEUE : GMEM_ABI_TRANSPORT_DOORBELL;
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
}

static uint64_t image_len(void)
{
	return (uint64_t)(gmem_guest_image_end - gmem_guest_image);
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

static int load_boot(struct gmem_vm *vm)
{
	uint64_t img = page_up(image_len());
	uint64_t vcpu_len = vm->nr_vcpus * GMEM_ABI_PAGE_SIZE;
	void *p, *gdt, *pt, *res, *vp, *pvm;
	unsigned int i;
	int err;

	if (image_len() > GMEM_ABI_IMAGE_MAX)
		return -E2BIG;
	/* Share what the VMM writes now or reads later. */
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
	memcpy(p, gmem_guest_image, image_len());
	memset(res, 0, GMEM_ABI_PAGE_SIZE);
	memset(vp, 0, vcpu_len);
	memset(pvm, 0, vcpu_len);
	/* The PVM pages are the host's and the guest's, never the VMM's. */
	err = gmem_unshare(vm->mem, GMEM_ABI_PVM_PAGE_GPA, vcpu_len);
	if (err)
		return err;

	if (vm->cfg.mode == GMEM_MODE_INPLACE) {
		for (i = 0; i < sizeof(boot_private) / sizeof(boot_private[0]); i++) {
			err = gmem_unshare(vm->mem, boot_private[i].gpa,
					   boot_private[i].len ? boot_private[i].len : img);
			if (err)
				return err;
		}
	}

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
		gmem_convq_ring_init(&vm->convq.rings[i],
				     (void *)((char *)p + i * GMEM_ABI_PAGE_SIZE), i);
	fill_boot_info(vm, vm->boot);
	return 0;
}

/* The queue transport's kick: an ioeventfd on the kick GPA. */
static int setup_queue(struct gmem_vm *vm)
{
	int err;

	if (vm->transport != GMEM_TRANSPORT_QUEUE)
		return 0;
	vm->convq.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->convq.efd < 0)
		return -errno;
	err = gmem_vm_add_ioeventfd(vm, GMEM_ABI_CONVQ_KICK_GPA, 4, vm->convq.efd);
	return err;
}

/* ---- KVM setup ------------------------------------------------------------ */

static int kvm_cpuid(struct gmem_vm *vm)
{
	struct kvm_cpuid2 *c = NULL;
	unsigned int n = 64, i;

	for (;;) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			break;
		if (errno != E2BIG || n >= 4096) {
			int err = -errno;

			free(c);
			return err;
		}
		n *= 2;
	}
	vm->cpuid = c;
	vm->vendor = GMEM_ABI_VENDOR_INTEL;
	for (i = 0; i < c->nent; i++) {
		/* "AuthenticAMD" / "HygonGenuine": ebx "Auth" / "Hygo". */
		if (c->entries[i].function == 0 &&
		    (c->entries[i].ebx == 0x68747541 || c->entries[i].ebx == 0x6f677948))
			vm->vendor = GMEM_ABI_VENDOR_AMD;
	}
	return 0;
}

static int set_memslot(struct gmem_vm *vm)
{
	uint64_t addr = (uint64_t)(uintptr_t)gmem_memslot_addr(vm->mem);

	if (gmem_backing(vm->mem) == GMEM_BACKING_GUEST_MEMFD) {
		struct kvm_userspace_memory_region2 r = {
			.slot = 0,
			.flags = KVM_MEM_GUEST_MEMFD,
			.guest_phys_addr = 0,
			.memory_size = vm->cfg.mem_size,
			.userspace_addr = addr,
			.guest_memfd_offset = 0,
			.guest_memfd = (uint32_t)gmem_fd(vm->mem),
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION2, &r))
			return -errno;
	} else {
		struct kvm_userspace_memory_region r = {
			.slot = 0,
			.guest_phys_addr = 0,
			.memory_size = vm->cfg.mem_size,
			.userspace_addr = addr,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
			return -errno;
	}
	return 0;
}

static int create_memory(struct gmem_vm *vm)
{
	struct gmem_config gc = {
		.size = vm->cfg.mem_size,
		.vm_fd = vm->vm_fd,
		.backing = vm->cfg.backing,
		.mode = vm->cfg.mode,
		.flags = 0,		/* all private: boot shares what it needs */
		.name = "guest-ram",
	};
	int err;

	err = gmem_create(&gc, &vm->mem);
	if (err)
		return err;
	err = set_memslot(vm);
	if (err && vm->cfg.backing == GMEM_BACKING_AUTO &&
	    gmem_backing(vm->mem) == GMEM_BACKING_GUEST_MEMFD) {
		/* guest_memfd mapped, but KVM refused the memslot on it: fall
		 * back to memfd like gmem does when the mmap is missing. */
		gmem_destroy(vm->mem);
		vm->mem = NULL;
		gc.backing = GMEM_BACKING_MEMFD;
		err = gmem_create(&gc, &vm->mem);
		if (!err)
			err = set_memslot(vm);
	}
	return err;
}

static int resolve_transport(struct gmem_vm *vm)
{
	switch (vm->cfg.transport) {
	case GMEM_TRANSPORT_AUTO:
		vm->transport = gmem_vm_resolve_auto();
		break;
	case GMEM_TRANSPORT_HYPERCALL:
		if (gmem_vm_hypercall_supported(vm->kvm_fd) <= 0)
			return -EOPNOTSUPP;
		vm->transport = GMEM_TRANSPORT_HYPERCALL;
		break;
	case GMEM_TRANSPORT_DOORBELL:
		vm->transport = GMEM_TRANSPORT_DOORBELL;
		break;
	case GMEM_TRANSPORT_QUEUE:
		vm->transport = GMEM_TRANSPORT_QUEUE;
		break;
	}
	if (vm->transport == GMEM_TRANSPORT_HYPERCALL)
		return gmem_vm_enable_hypercall(vm->vm_fd);
	return 0;
}

static int open_kvm(struct gmem_vm *vm)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return -ENODEV;
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return -ENODEV;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return -errno;
	/* Needed by VMX for real-mode emulation only; harmless elsewhere. */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	return 0;
}

static int create_vcpus(struct gmem_vm *vm)
{
	unsigned int i;
	int err, khz;

	for (i = 0; i < vm->nr_vcpus; i++) {
		err = gmem_vcpu_create(vm, &vm->vcpus[i], i);
		if (err)
			return err;
	}
	khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	vm->tsc_khz = khz > 0 ? (uint64_t)khz : 0;
	vm->pvm = gmem_pvm_detect(vm->vcpus[0].fd);
	return 0;
}

/* On a PVM-variant host, after the page tables and sregs are in place:
 * every vCPU opts in to native execution with its own PVM page. */
static int enable_pvm(struct gmem_vm *vm)
{
	unsigned int i;
	int err;

	for (i = 0; vm->pvm && i < vm->nr_vcpus; i++) {
		err = gmem_pvm_enable(vm->vcpus[i].fd, GMEM_ABI_PVM_PAGE_GPA +
				      i * GMEM_ABI_PAGE_SIZE);
		if (err)
			return err;
	}
	return 0;
}

int gmem_vm_create(const struct gmem_vm_config *cfg, struct gmem_vm **out)
{
	struct gmem_vm *vm;
	unsigned int i;
	int err;

	if (!cfg || !out)
		return -EINVAL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->convq.efd = -1;
	vm->convq.cpu = -1;
	pthread_mutex_init(&vm->end_lock, NULL);
	pthread_mutex_init(&vm->console_lock, NULL);
	err = check_config(cfg, &vm->cfg);
	if (err)
		goto fail;
	vm->nr_vcpus = vm->cfg.vcpus;
	vm->services = gmem_vm_test_wants_services(vm->cfg.test) ? cfg->services : NULL;
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	vm->convq.nr = vm->nr_vcpus;
	vm->convq.rings = calloc(vm->nr_vcpus, sizeof(*vm->convq.rings));
	if (!vm->convq.rings) {
		err = -ENOMEM;
		goto fail;
	}
	err = open_kvm(vm);
	if (err)
		goto fail;
	err = resolve_transport(vm);
	if (err)
		goto fail;
	err = kvm_cpuid(vm);
	if (err)
		goto fail;
	err = create_memory(vm);
	if (err)
		goto fail;
	err = create_vcpus(vm);
	if (err)
		goto fail;
	err = load_boot(vm);
	if (err)
		goto fail;
	err = enable_pvm(vm);
	if (err)
		goto fail;
	err = setup_queue(vm);
	if (err)
		goto fail;
	*out = vm;
	return 0;
fail:
	gmem_vm_destroy(vm);
	return err;
}

void gmem_vm_destroy(struct gmem_vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	gmem_convq_stop(vm);		/* if a run failed half way */
	/* The VMM's own pins; a guest could never have dropped them (its
	 * unpins only release guest pins), so these cannot fail. */
	if (vm->pinned) {
		gmem_unpin(vm->mem, GMEM_ABI_BOOT_INFO_GPA, 2 * GMEM_ABI_PAGE_SIZE);
		gmem_unpin(vm->mem, GMEM_ABI_VCPU_PAGE_GPA,
			   vm->nr_vcpus * GMEM_ABI_PAGE_SIZE);
	}
	if (vm->queue_pinned)
		gmem_unpin(vm->mem, GMEM_ABI_CONVQ_GPA,
			   vm->nr_vcpus * GMEM_ABI_PAGE_SIZE);
	for (i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		gmem_vcpu_destroy(&vm->vcpus[i]);
	for (i = 0; i < vm->nr_ioeventfds; i++) {
		struct kvm_ioeventfd e = {
			.addr = vm->ioeventfd_gpa[i],
			.len = vm->ioeventfd_len[i],
			.fd = vm->ioeventfds[i],
			.flags = KVM_IOEVENTFD_FLAG_DEASSIGN,
		};

		ioctl(vm->vm_fd, KVM_IOEVENTFD, &e);
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->convq.efd >= 0)
		close(vm->convq.efd);
	free(vm->convq.rings);
	/* The memslot is gone with the VM; now the memory can go. */
	gmem_destroy(vm->mem);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
	free(vm->vcpus);
	pthread_mutex_destroy(&vm->end_lock);
	pthread_mutex_destroy(&vm->console_lock);
	free(vm);
}

struct gmem *gmem_vm_memory(struct gmem_vm *vm)
{
	return vm ? vm->mem : NULL;
}

int gmem_vm_fd(const struct gmem_vm *vm)
{
	return vm ? vm->vm_fd : -EINVAL;
}

enum gmem_transport gmem_vm_transport(const struct gmem_vm *vm)
{
	return vm->transport;
}

/* ---- device hooks ------------------------------------------------------- */

int gmem_vm_set_mmio_handler(struct gmem_vm *vm, uint64_t gpa, uint64_t size,
			     gmem_vm_mmio_fn fn, void *opaque)
{
	unsigned int i;

	if (!vm || !fn || !size || gpa + size < gpa)
		return -EINVAL;
	if (vm->ran)
		return -EALREADY;
	if (gpa < vm->cfg.mem_size)
		return -EINVAL;		/* RAM is not MMIO */
	if (vm->nr_mmio >= GMEM_VM_MAX_MMIO)
		return -ENOSPC;
	for (i = 0; i < vm->nr_mmio; i++)
		if (gpa < vm->mmio[i].gpa + vm->mmio[i].size &&
		    vm->mmio[i].gpa < gpa + size)
			return -EEXIST;
	vm->mmio[vm->nr_mmio++] = (struct gmem_vm_mmio){ gpa, size, fn, opaque };
	return 0;
}

int gmem_vm_add_ioeventfd(struct gmem_vm *vm, uint64_t gpa, uint32_t len, int fd)
{
	struct kvm_ioeventfd e = { .addr = gpa, .len = len, .fd = fd };

	if (!vm || fd < 0 || (len != 1 && len != 2 && len != 4 && len != 8))
		return -EINVAL;
	if (vm->ran)
		return -EALREADY;
	if (vm->nr_ioeventfds >= GMEM_VM_MAX_MMIO)
		return -ENOSPC;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &e))
		return -errno;
	vm->ioeventfds[vm->nr_ioeventfds] = fd;
	vm->ioeventfd_gpa[vm->nr_ioeventfds] = gpa;
	vm->ioeventfd_len[vm->nr_ioeventfds] = len;
	vm->nr_ioeventfds++;
	return 0;
}

/* ---- run ------------------------------------------------------------------ */

struct watchdog {
	struct gmem_vm *vm;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool quit;
};

static void deadline_after(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *watchdog_thread(void *arg)
{
	struct watchdog *wd = arg;
	struct gmem_vm *vm = wd->vm;
	struct timespec ts;
	unsigned int i;
	bool fired = false;

	deadline_after(&ts, vm->cfg.timeout_ms);
	pthread_mutex_lock(&wd->lock);
	while (!wd->quit) {
		if (pthread_cond_timedwait(&wd->cond, &wd->lock, &ts) != ETIMEDOUT)
			continue;
		if (!fired) {
			fired = true;
			pthread_mutex_unlock(&wd->lock);
			gmem_vm_end_run(vm, GMEM_VM_END_TIMEOUT, -1, vm->cfg.timeout_ms,
					"watchdog: the guest did not finish within %u ms",
					vm->cfg.timeout_ms);
			pthread_mutex_lock(&wd->lock);
		} else {
			/* Keep kicking until every vCPU thread has left. */
			for (i = 0; i < vm->nr_vcpus; i++)
				gmem_vcpu_kick(&vm->vcpus[i]);
		}
		deadline_after(&ts, 50);
	}
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

static void append_rips(struct gmem_vm *vm)
{
	size_t n = strlen(vm->end.message);
	struct kvm_regs regs;
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus && n + 1 < sizeof(vm->end.message); i++) {
		if (vm->vcpus[i].done || ioctl(vm->vcpus[i].fd, KVM_GET_REGS, &regs))
			continue;
		n += (size_t)snprintf(vm->end.message + n, sizeof(vm->end.message) - n,
				      "; vcpu%u rip 0x%llx", i,
				      (unsigned long long)regs.rip);
	}
}

/* After the converter has been joined. */
static void collect_queue(struct gmem_vm *vm, struct gmem_vm_queue_stats *q)
{
	unsigned int i;

	memset(q, 0, sizeof(*q));
	if (vm->transport != GMEM_TRANSPORT_QUEUE)
		return;
	q->active = true;
	q->poll_us = vm->cfg.conv_poll_us > 0 ? (unsigned int)vm->cfg.conv_poll_us : 0;
	q->cpu = vm->convq.cpu;
	q->vcpus_pinned = vm->nr_vcpus && vm->vcpus[0].pin;
	q->requests = atomic_load(&vm->cnt[GMEM_ABI_CNT_QUEUE_REQS]);
	q->wakeups = atomic_load(&vm->cnt[GMEM_ABI_CNT_QUEUE_WAKEUPS]);
	q->cpu_ns = gmem_convq_cpu_ns(vm);
	q->wall_ns = vm->convq.t1 > vm->convq.t0 ? vm->convq.t1 - vm->convq.t0 : 0;
	for (i = 0; i < vm->convq.nr; i++) {
		if (!vm->convq.rings[i].stopped)
			continue;
		if (!q->stopped++)
			snprintf(q->stop_message, sizeof(q->stop_message), "%s",
				 vm->convq.rings[i].why);
	}
}

static void collect(struct gmem_vm *vm, struct gmem_vm_result *res)
{
	struct gmem_stats gs;
	unsigned int i;
	bool pass;

	memset(res, 0, sizeof(*res));
	res->transport = vm->transport;
	/* Copy the guest-written page once; only the copy is looked at. */
	memcpy(&res->guest, vm->results, sizeof(res->guest));
	res->guest.fail_msg[sizeof(res->guest.fail_msg) - 1] = '\0';
	for (i = 0; i < GMEM_ABI_CNT_MAX; i++)
		res->counters.c[i] = atomic_load(&vm->cnt[i]);
	res->counters.exits = atomic_load(&vm->exits);
	res->counters.console_writes = atomic_load(&vm->console_writes);
	res->counters.mmio_exits = atomic_load(&vm->mmio_exits);
	collect_queue(vm, &res->queue);
	gmem_get_stats(vm->mem, &gs);
	if (gs.unpin_missing && !vm->ended)
		gmem_vm_end_run(vm, GMEM_VM_END_ERROR, -1, gs.unpin_missing,
				"VMM bug: %llu host unpins found no pin (a host pin was "
				"dropped twice or never taken)",
				(unsigned long long)gs.unpin_missing);
	if (vm->ended) {
		res->end = vm->end.end;
		res->end_vcpu = vm->end.end_vcpu;
		res->end_info = vm->end.end_info;
		memcpy(res->message, vm->end.message, sizeof(res->message));
		res->pass = false;
		return;
	}
	pass = res->guest.magic == GMEM_ABI_MAGIC &&
	       res->guest.status == GMEM_ABI_RES_PASS;
	for (i = 0; i < vm->nr_vcpus; i++)
		pass = pass && vm->vcpus[i].done_status == GMEM_ABI_RES_PASS;
	res->end = GMEM_VM_END_DONE;
	res->end_vcpu = -1;
	res->pass = pass;
	snprintf(res->message, sizeof(res->message),
		 "guest %s: %u checks, %u failed%s%.180s",
		 pass ? "passed" : "FAILED", res->guest.checks,
		 res->guest.failures, res->guest.fail_msg[0] ? "; first: " : "",
		 res->guest.fail_msg);
}

/* ---- where the guest ran --------------------------------------------------- */

static pthread_once_t host_speed_once = PTHREAD_ONCE_INIT;
static uint64_t host_speed;

static bool host_emulated;

static void host_speed_init(void)
{
	char model[128];

	host_speed = gmem_abi_speed_measure(4 * GMEM_ABI_SPEED_REPS);
	gmem_probe_cpu(model, sizeof(model), &host_emulated);
}

static bool host_cpu_emulated(void)
{
	pthread_once(&host_speed_once, host_speed_init);
	return host_emulated;
}

uint64_t gmem_vm_host_speed_mcycles(void)
{
	pthread_once(&host_speed_once, host_speed_init);
	return host_speed;
}

static void classify_speed(const struct gmem_vm *vm, struct gmem_vm_result *res)
{
	struct gmem_vm_speed *s = &res->speed;

	memset(s, 0, sizeof(*s));
	s->pvm = vm->pvm;
	s->host_emulated = host_cpu_emulated();
	s->host_mcycles = gmem_vm_host_speed_mcycles();
	s->guest_mcycles = res->guest.magic == GMEM_ABI_MAGIC ?
			   res->guest.speed_mcycles : 0;
	s->measured = s->guest_mcycles > 0;
	if (!s->measured)
		return;
	s->factor = (double)s->guest_mcycles /
		    (double)(s->host_mcycles ? s->host_mcycles : 1);
	s->native = s->factor <= GMEM_VM_NATIVE_FACTOR &&
		    s->guest_mcycles < GMEM_VM_NATIVE_MAX_MCYCLES &&
		    !s->host_emulated;
}

void gmem_vm_speed_describe(const struct gmem_vm_speed *s, char *buf, size_t len)
{
	if (!s->measured) {
		snprintf(buf, len, "unknown (the guest did not report its speed loop)");
		return;
	}
	snprintf(buf, len, "%s (%.1f cycles/iteration, host %.1f: %.1fx)%s%s",
		 s->native ? "native" : "emulated", s->guest_mcycles / 1000.0,
		 s->host_mcycles / 1000.0, s->factor,
		 s->pvm ? ", PVM native mode on" : "",
		 s->host_emulated ? ", the host CPU itself is emulated" : "");
}

/* Queue transport: the converter on the last CPU allowed, the vCPUs on the
 * others if there are at least as many as vCPUs (else they float). */
static void plan_queue_cpus(struct gmem_vm *vm)
{
	cpu_set_t all;
	int i, last = -1;
	unsigned int left, v;

	vm->convq.cpu = -1;
	if (vm->cfg.conv_no_pin ||
	    pthread_getaffinity_np(pthread_self(), sizeof(all), &all) ||
	    CPU_COUNT(&all) < 2)
		return;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &all))
			last = i;
	vm->convq.cpu = last;
	CPU_CLR(last, &all);
	left = (unsigned int)CPU_COUNT(&all);
	vm->vcpu_cpus = all;
	for (v = 0; v < vm->nr_vcpus; v++)
		vm->vcpus[v].pin = left >= vm->nr_vcpus;
}

int gmem_vm_run(struct gmem_vm *vm, struct gmem_vm_result *res)
{
	struct watchdog wd = { .vm = vm };
	pthread_condattr_t ca;
	pthread_t wd_thread;
	unsigned int i, started = 0;
	int err;

	if (!vm || !res)
		return -EINVAL;
	if (vm->ran)
		return -EALREADY;
	vm->ran = true;
	err = gmem_vm_kick_signal_init();
	if (err)
		return err;
	pthread_mutex_init(&wd.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wd.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (vm->transport == GMEM_TRANSPORT_QUEUE) {
		plan_queue_cpus(vm);
		err = gmem_convq_start(vm, vm->cfg.conv_poll_us > 0 ?
				       (unsigned int)vm->cfg.conv_poll_us : 0);
		if (err)
			goto out_cond;
	}
	err = -pthread_create(&wd_thread, NULL, watchdog_thread, &wd);
	if (err) {
		gmem_convq_stop(vm);
		goto out_cond;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		err = -pthread_create(&vm->vcpus[i].thread, NULL, gmem_vcpu_thread,
				      &vm->vcpus[i]);
		if (err) {
			gmem_vm_end_run(vm, GMEM_VM_END_ERROR, -1, (uint64_t)-err,
					"cannot start vCPU thread %u: %s", i,
					strerror(-err));
			break;
		}
		vm->vcpus[i].started = true;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(vm->vcpus[i].thread, NULL);
	pthread_mutex_lock(&wd.lock);
	wd.quit = true;
	pthread_cond_signal(&wd.cond);
	pthread_mutex_unlock(&wd.lock);
	pthread_join(wd_thread, NULL);
	gmem_convq_stop(vm);
	if (vm->ended && vm->end.end == GMEM_VM_END_TIMEOUT)
		append_rips(vm);
	collect(vm, res);
	classify_speed(vm, res);
	err = 0;
out_cond:
	pthread_cond_destroy(&wd.cond);
	pthread_mutex_destroy(&wd.lock);
	return err;
}
