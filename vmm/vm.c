// SPDX-License-Identifier: GPL-2.0
/*
 * The VM: KVM VM with one gmem region as RAM, its memslots and vCPUs,
 * creation and destruction, and the device hooks.  The boot setup is in
 * vmm/boot.c, running the VM in vmm/vm_run.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vm_internal.h"

/* ---- names ------------------------------------------------------------- */

#define VMM_TEST_NAME(NAME, name, what)	[GMEM_ABI_TEST_##NAME] = #name,
static const char *const test_names[GMEM_ABI_TEST_MAX] = {
	GMEM_ABI_TESTS(VMM_TEST_NAME)
};
#undef VMM_TEST_NAME

/* The guest self-tests that check the host view, pin pages as a device
 * would and read the VMM's counters; no other run offers those services. */
bool vmm_test_wants_services(enum gmem_abi_test t)
{
	return t == GMEM_ABI_TEST_CONVERT || t == GMEM_ABI_TEST_BADREQ ||
	       t == GMEM_ABI_TEST_SMP;
}

int vmm_test_from_name(const char *name, enum gmem_abi_test *out)
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

const char *vmm_test_name(enum gmem_abi_test t)
{
	if ((int)t <= 0 || t >= GMEM_ABI_TEST_MAX)
		return "?";
	return test_names[t];
}

static const char *const conv_model_names[] = { "lazy", "eager", "huge" };

const char *vmm_conv_model_name(enum vmm_conv_model m)
{
	return m <= VMM_CONV_HUGE ? conv_model_names[m] : "?";
}

int vmm_conv_model_from_name(const char *name, enum vmm_conv_model *out)
{
	unsigned int i;

	for (i = 0; name && i <= VMM_CONV_HUGE; i++) {
		if (!strcmp(name, conv_model_names[i])) {
			*out = (enum vmm_conv_model)i;
			return 0;
		}
	}
	return -EINVAL;
}

int vmm_transport_from_name(const char *name, enum vmm_transport *out)
{
	unsigned int t;

	for (t = VMM_TRANSPORT_AUTO; name && t < GMEM_ABI_TRANSPORT_MAX; t++)
		if (!strcmp(name, vmm_transport_name((enum vmm_transport)t))) {
			*out = (enum vmm_transport)t;
			return 0;
		}
	return -EINVAL;
}

const char *vmm_transport_name(enum vmm_transport t)
{
	return t == VMM_TRANSPORT_AUTO ? "auto" : gmem_abi_transport_name(t);
}

const char *vmm_end_name(enum vmm_end e)
{
	switch (e) {
	case VMM_END_DONE: return "done";
	case VMM_END_PANIC: return "guest exception";
	case VMM_END_SHUTDOWN: return "shutdown (triple fault)";
	case VMM_END_TIMEOUT: return "watchdog timeout";
	case VMM_END_UNEXPECTED: return "unexpected exit";
	case VMM_END_ERROR: return "host error";
	}
	return "?";
}

/* ---- configuration -------------------------------------------------------- */

static int check_config(const struct vmm_config *in, struct vmm_config *c)
{
	*c = *in;
	if (!c->mem_size)
		c->mem_size = VMM_DEFAULT_MEM;
	if (!c->test)
		c->test = GMEM_ABI_TEST_HELLO;
	if (!c->timeout_ms)
		c->timeout_ms = VMM_DEFAULT_TIMEOUT_MS;
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
	if ((unsigned int)c->transport >= GMEM_ABI_TRANSPORT_MAX)
		return -EINVAL;
	if (c->conv_poll_us < VMM_CONV_POLL_OFF ||
	    c->conv_poll_us > VMM_CONV_POLL_US_MAX)
		return -EINVAL;
	if (!c->conv_poll_us)
		c->conv_poll_us = VMM_CONV_POLL_US_DEFAULT;
	if (c->mode > GMEM_MODE_DESTRUCTIVE || c->backing > GMEM_BACKING_MEMFD ||
	    c->conv_model > VMM_CONV_HUGE || (unsigned int)c->platform >= PLAT_MAX)
		return -EINVAL;
	/* The eager models need memfd; 2 MiB pages run only what converts
	 * whole huge pages (the self-tests convert 4 KiB pages). */
	if (c->conv_model != VMM_CONV_LAZY && c->backing == GMEM_BACKING_GUEST_MEMFD)
		return -EINVAL;
	if (c->conv_model == VMM_CONV_HUGE &&
	    (c->mem_size % GMEM_HUGE_PAGE_SIZE ||
	     (c->test != GMEM_ABI_TEST_HELLO && c->test != GMEM_ABI_TEST_IO)))
		return -EINVAL;
	if (c->bench_reps > 100000)
		return -EINVAL;
	return 0;
}

/* The queue transport's kick: an ioeventfd on the kick GPA. */
static int setup_queue(struct vmm *vm)
{
	int err;

	if (vm->transport != VMM_TRANSPORT_QUEUE)
		return 0;
	vm->convq.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->convq.efd < 0)
		return -errno;
	err = vmm_add_ioeventfd(vm, GMEM_ABI_CONVQ_KICK_GPA, 4, vm->convq.efd);
	return err;
}

/* ---- KVM setup ------------------------------------------------------------ */

int vmm_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out)
{
	struct kvm_cpuid2 *c = NULL;
	unsigned int n = 64;

	for (;;) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (!ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			break;
		if (errno != E2BIG || n >= 4096) {
			int err = -errno;

			free(c);
			return err;
		}
		n *= 2;
	}
	*out = c;
	return 0;
}

static int kvm_cpuid(struct vmm *vm)
{
	struct kvm_cpuid2 *c;
	unsigned int i;
	int err = vmm_supported_cpuid(vm->kvm_fd, &c);

	if (err)
		return err;
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

int vmm_set_memslot(int vm_fd, struct gmem *mem)
{
	uint64_t addr = (uint64_t)(uintptr_t)gmem_memslot_addr(mem);

	if (gmem_backing(mem) == GMEM_BACKING_GUEST_MEMFD) {
		struct kvm_userspace_memory_region2 r = {
			.slot = 0,
			.flags = KVM_MEM_GUEST_MEMFD,
			.guest_phys_addr = 0,
			.memory_size = gmem_size(mem),
			.userspace_addr = addr,
			.guest_memfd_offset = 0,
			.guest_memfd = (uint32_t)gmem_fd(mem),
		};

		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &r))
			return -errno;
	} else {
		struct kvm_userspace_memory_region r = {
			.slot = 0,
			.guest_phys_addr = 0,
			.memory_size = gmem_size(mem),
			.userspace_addr = addr,
		};

		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
			return -errno;
	}
	return 0;
}

static int set_memslot(struct vmm *vm)
{
	return vmm_set_memslot(vm->vm_fd, vm->mem);
}

static int create_memory(struct vmm *vm)
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

	if (vm->cfg.conv_model != VMM_CONV_LAZY) {
		gc.model = GMEM_MODEL_EAGER;
		gc.backing = vm->cfg.conv_model == VMM_CONV_HUGE ? GMEM_BACKING_HUGETLB :
								    GMEM_BACKING_MEMFD;
	}
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

static int resolve_transport(struct vmm *vm)
{
	switch (vm->cfg.transport) {
	case VMM_TRANSPORT_AUTO:
		vm->transport = vmm_resolve_auto();
		break;
	case VMM_TRANSPORT_HYPERCALL:
		if (vmm_hypercall_supported(vm->kvm_fd) <= 0)
			return -EOPNOTSUPP;
		vm->transport = VMM_TRANSPORT_HYPERCALL;
		break;
	case VMM_TRANSPORT_DOORBELL:
		vm->transport = VMM_TRANSPORT_DOORBELL;
		break;
	case VMM_TRANSPORT_QUEUE:
		vm->transport = VMM_TRANSPORT_QUEUE;
		break;
	}
	if (vm->transport == VMM_TRANSPORT_HYPERCALL)
		return vmm_enable_hypercall(vm->vm_fd);
	return 0;
}

static int open_kvm(struct vmm *vm)
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

static int create_vcpus(struct vmm *vm)
{
	unsigned int i;
	int err, khz;

	for (i = 0; i < vm->nr_vcpus; i++) {
		err = vmm_vcpu_create(vm, &vm->vcpus[i], i);
		if (err)
			return err;
	}
	khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	vm->tsc_khz = khz > 0 ? (uint64_t)khz : 0;
	vm->pvm = vmm_pvm_detect(vm->vcpus[0].fd);
	return 0;
}

/* On a PVM-variant host, after the page tables and sregs are in place:
 * every vCPU opts in to native execution with its own PVM page. */
static int enable_pvm(struct vmm *vm)
{
	unsigned int i;
	int err;

	for (i = 0; vm->pvm && i < vm->nr_vcpus; i++) {
		err = vmm_pvm_enable(vm->vcpus[i].fd, GMEM_ABI_PVM_PAGE_GPA +
				      i * GMEM_ABI_PAGE_SIZE);
		if (err)
			return err;
	}
	return 0;
}

int vmm_create(const struct vmm_config *cfg, struct vmm **out)
{
	struct vmm *vm;
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
	vm->services = vmm_test_wants_services(vm->cfg.test) ? cfg->services : NULL;
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
	err = vmm_load_boot(vm);
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
	vmm_destroy(vm);
	return err;
}

void vmm_destroy(struct vmm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	vmm_convq_stop(vm);		/* if a run failed half way */
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
		vmm_vcpu_destroy(&vm->vcpus[i]);
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

struct gmem *vmm_memory(struct vmm *vm)
{
	return vm ? vm->mem : NULL;
}

int vmm_fd(const struct vmm *vm)
{
	return vm ? vm->vm_fd : -EINVAL;
}

enum vmm_transport vmm_transport(const struct vmm *vm)
{
	return vm->transport;
}

/* ---- device hooks ------------------------------------------------------- */

int vmm_set_mmio_handler(struct vmm *vm, uint64_t gpa, uint64_t size,
			     vmm_mmio_fn fn, void *opaque)
{
	unsigned int i;

	if (!vm || !fn || !size || gpa + size < gpa)
		return -EINVAL;
	if (vm->ran)
		return -EALREADY;
	if (gpa < vm->cfg.mem_size)
		return -EINVAL;		/* RAM is not MMIO */
	if (vm->nr_mmio >= VMM_MAX_MMIO)
		return -ENOSPC;
	for (i = 0; i < vm->nr_mmio; i++)
		if (gpa < vm->mmio[i].gpa + vm->mmio[i].size &&
		    vm->mmio[i].gpa < gpa + size)
			return -EEXIST;
	vm->mmio[vm->nr_mmio++] = (struct vmm_mmio){ gpa, size, fn, opaque };
	return 0;
}

int vmm_add_ioeventfd(struct vmm *vm, uint64_t gpa, uint32_t len, int fd)
{
	struct kvm_ioeventfd e = { .addr = gpa, .len = len, .fd = fd };

	if (!vm || fd < 0 || (len != 1 && len != 2 && len != 4 && len != 8))
		return -EINVAL;
	if (vm->ran)
		return -EALREADY;
	if (vm->nr_ioeventfds >= VMM_MAX_MMIO)
		return -ENOSPC;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &e))
		return -errno;
	vm->ioeventfds[vm->nr_ioeventfds] = fd;
	vm->ioeventfd_gpa[vm->nr_ioeventfds] = gpa;
	vm->ioeventfd_len[vm->nr_ioeventfds] = len;
	vm->nr_ioeventfds++;
	return 0;
}
