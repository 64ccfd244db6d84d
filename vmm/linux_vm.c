// SPDX-License-Identifier: GPL-2.0
/*
 * A stock Linux kernel as a guest: its own small VM, apart from gmemkit's
 * guest path (vmm/vm*.c).  Guest RAM is one gmem region, all of it shared
 * (a stock kernel never converts), at GPA 0; an in-kernel irqchip (PIC,
 * I/O APIC, local APICs); kvm-clock and the TSC-deadline timer from CPUID;
 * the virtio-blk device on virtio-mmio at LINUX_VIRTIO_GPA with its
 * QueueNotify on an ioeventfd and its interrupts on an irqfd (GSI
 * LINUX_VIRTIO_GSI); a 16550 UART at 0x3f8; ACPI power-off and reset on
 * trapped ports.  Boot layout: vmm/linux_boot.c; tables: vmm/acpi.c.
 *
 * Exits the guest may cause and what they do: port I/O and MMIO outside
 * the devices read all-ones and drop writes (counted: Linux probes legacy
 * ports; the 8042 status port reads 0, idle, so a reset through it is
 * quick); S5, a reset (ACPI reset register, 8042 0xfe, 0xcf9) or a triple
 * fault end the run; anything else KVM reports ends it as an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gmemkit/gmem.h"
#include "gmemkit/linux.h"
#include "gmemkit/timing.h"
#include "vm_internal.h"

#define SEL_CODE	0x10
#define SEL_DATA	0x18

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define CPUID_TSC_DEADLINE	(1U << 24)	/* leaf 1 ecx */
#define CPUID_HYPERVISOR	(1U << 31)	/* leaf 1 ecx: look at 0x40000000 */
#define SLP_EN		0x20
#define SLP_TYP(v)	(((v) >> 2) & 7)

struct linux_vcpu {
	struct linux_vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;		/* running vs. kicks */
	bool running;
};

struct linux_vm {
	struct linux_config cfg;
	char *cmdline;
	void *kernel, *initrd;
	size_t kernel_size, initrd_size;
	struct linux_image img;
	struct linux_layout lay;
	struct blk_backend *be;		/* until the device owns it */
	struct vblk *blk;
	const char *disk_name;
	uint64_t disk_capacity;

	int kvm_fd, vm_fd;
	int irq_fd, notify_assigned, irqfd_assigned;
	struct gmem *mem;
	struct kvm_cpuid2 *cpuid;
	struct linux_vcpu *vcpus;
	unsigned int nr_vcpus;

	pthread_mutex_t serial_lock;
	struct serial serial;

	pthread_mutex_t end_lock;
	pthread_cond_t end_cond;
	bool ended;
	atomic_bool stop;
	enum linux_end end;
	char message[256];

	atomic_ullong exits, io_exits, mmio_exits, unknown_io, unknown_mmio;
	bool trace;			/* GMEMKIT_LINUX_TRACE=1: unclaimed
					 * accesses on stderr as they come */
};

const char *linux_end_name(enum linux_end e)
{
	switch (e) {
	case LINUX_END_POWEROFF: return "power-off";
	case LINUX_END_REBOOT: return "reboot";
	case LINUX_END_SHUTDOWN: return "shutdown (triple fault)";
	case LINUX_END_TIMEOUT: return "watchdog timeout";
	case LINUX_END_ERROR: return "host error";
	}
	return "?";
}

/* ---- input ------------------------------------------------------------------ */

static int read_file(const char *what, const char *path, uint64_t max,
		     void **out, size_t *size, char *why, size_t len)
{
	struct stat st;
	size_t done = 0;
	uint8_t *buf;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		snprintf(why, len, "%s %s: %s", what, path, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > max) {
		snprintf(why, len, "%s %s: %s (%lld bytes; at most %llu)", what, path,
			 !S_ISREG(st.st_mode) ? "not a regular file" :
			 st.st_size <= 0 ? "empty" : "too large",
			 (long long)st.st_size, (unsigned long long)max);
		close(fd);
		return S_ISREG(st.st_mode) && st.st_size > 0 ? -EFBIG : -EINVAL;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		snprintf(why, len, "%s %s: out of memory", what, path);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			snprintf(why, len, "%s %s: read: %s", what, path, strerror(-err));
			free(buf);
			close(fd);
			return err;
		}
		done += (size_t)n;
	}
	close(fd);
	*out = buf;
	*size = done;
	return 0;
}

static int check_input(struct linux_vm *vm, char *why, size_t len)
{
	struct linux_config *c = &vm->cfg;
	int err;

	if (!c->mem_size)
		c->mem_size = LINUX_DEFAULT_MEM;
	if (!c->vcpus)
		c->vcpus = 1;
	if (!c->timeout_ms)
		c->timeout_ms = LINUX_DEFAULT_TIMEOUT_MS;
	if (!c->console)
		c->console = stdout;
	if (!c->kernel) {
		snprintf(why, len, "no kernel given");
		return -EINVAL;
	}
	if (c->vcpus > LINUX_MAX_VCPUS) {
		snprintf(why, len, "%u vCPUs: at most %d", c->vcpus, LINUX_MAX_VCPUS);
		return -EINVAL;
	}
	if (c->mem_size % GMEM_ABI_MEM_ALIGN) {
		snprintf(why, len, "guest RAM of %llu bytes is not a multiple of 2 MiB",
			 (unsigned long long)c->mem_size);
		return -EINVAL;
	}
	vm->cmdline = strdup(c->cmdline ? c->cmdline : "");
	if (!vm->cmdline)
		return -ENOMEM;
	c->cmdline = vm->cmdline;
	err = read_file("kernel", c->kernel, LINUX_KERNEL_MAX, &vm->kernel,
			&vm->kernel_size, why, len);
	if (err)
		return err;
	err = linux_image_parse(vm->kernel, vm->kernel_size, &vm->img, why, len);
	if (err) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "kernel %s: %s", c->kernel, why);
		snprintf(why, len, "%s", tmp);
		return err;
	}
	if (c->initrd) {
		err = read_file("initrd", c->initrd, c->mem_size, &vm->initrd,
				&vm->initrd_size, why, len);
		if (err == -EFBIG) {
			char tmp[256];

			snprintf(tmp, sizeof(tmp), "%s: does not fit in %llu MiB of "
				 "guest RAM", why, (unsigned long long)(c->mem_size >> 20));
			snprintf(why, len, "%s", tmp);
			return -ENOSPC;
		}
		if (err)
			return err;
	}
	err = linux_boot_plan(&vm->img, c->mem_size, vm->initrd_size, vm->cmdline,
			      &vm->lay, why, len);
	if (err) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", why);
		if (err == -ENOSPC)
			snprintf(why, len, "initrd %s: %s", c->initrd, tmp);
		else if (err == -ENOMEM)
			snprintf(why, len, "kernel %s: %s", c->kernel, tmp);
		return err;
	}
	if (c->disk) {
		err = blk_backend_open(c->disk, &vm->be);
		if (err) {
			snprintf(why, len, "disk %s: %s", c->disk, err == -EINVAL ?
				 "not null[:SIZE] or file:PATH[,direct][,ro][,sync]" :
				 strerror(-err));
			return err;
		}
		vm->disk_name = vm->be->name;
		vm->disk_capacity = vm->be->capacity;
	}
	return 0;
}

/* ---- KVM --------------------------------------------------------------------- */

static int set_cpuid(struct linux_vm *vm, struct linux_vcpu *v)
{
	size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	bool deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
			      KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	struct kvm_cpuid2 *c = malloc(sz);
	unsigned int i;
	int err = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, vm->cpuid, sz);
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffffU) | (v->index << 24);
			if (deadline)
				e->ecx |= CPUID_TSC_DEADLINE;
			/* Without it Linux never reads KVM's leaves: no
			 * kvm-clock, and no TSC frequency without a PIT. */
			e->ecx |= CPUID_HYPERVISOR;
		}
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = v->index;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c))
		err = -errno;
	free(c);
	return err;
}

/* The boot CPU: 64-bit mode as the boot protocol wants it. */
static int set_boot_state(struct linux_vm *vm, struct linux_vcpu *v)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = SEL_CODE,
		.type = 11, .present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = SEL_DATA,
		.type = 3, .present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_sregs s;
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		return -errno;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = LINUX_GDT_GPA;
	s.gdt.limit = 4 * 8 - 1;
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s.cr3 = LINUX_PML4_GPA;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		return -errno;
	memset(&r, 0, sizeof(r));
	r.rip = vm->lay.entry;
	r.rsi = LINUX_BOOT_PARAMS_GPA;
	r.rsp = LINUX_BOOT_PARAMS_GPA - 16;
	r.rflags = 0x2;
	if (ioctl(v->fd, KVM_SET_REGS, &r))
		return -errno;
	return 0;
}

static int create_vcpu(struct linux_vm *vm, struct linux_vcpu *v,
		       unsigned int index)
{
	int err;

	v->vm = vm;
	v->index = index;
	err = vmm_vcpu_open(vm->kvm_fd, vm->vm_fd, index, &v->fd, &v->run, &v->run_size);
	return err ? err : set_cpuid(vm, v);
}

static int set_memslot(struct linux_vm *vm)
{
	return vmm_set_memslot(vm->vm_fd, vm->mem);
}

static int create_memory(struct linux_vm *vm)
{
	struct gmem_config gc = {
		.size = vm->cfg.mem_size,
		.vm_fd = vm->vm_fd,
		.backing = GMEM_BACKING_AUTO,
		.mode = GMEM_MODE_INPLACE,
		.flags = GMEM_F_INIT_SHARED,	/* all shared, never converted */
		.name = "linux-ram",
	};
	void *ram;
	int err;

	err = gmem_create(&gc, &vm->mem);
	if (err)
		return err;
	err = set_memslot(vm);
	if (err && gmem_backing(vm->mem) == GMEM_BACKING_GUEST_MEMFD) {
		gmem_destroy(vm->mem);
		vm->mem = NULL;
		gc.backing = GMEM_BACKING_MEMFD;
		err = gmem_create(&gc, &vm->mem);
		if (!err)
			err = set_memslot(vm);
	}
	if (err)
		return err;
	err = gmem_host_ptr(vm->mem, 0, vm->cfg.mem_size, &ram);
	if (err)
		return err;
	return linux_boot_write(ram, &vm->img, &vm->lay, vm->initrd, vm->cmdline,
				vm->nr_vcpus);
}

static void serial_raise(void *opaque)
{
	struct linux_vm *vm = opaque;
	struct kvm_irq_level l = { .irq = LINUX_SERIAL_GSI, .level = 1 };

	ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
	l.level = 0;
	ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
}

static int attach_disk(struct linux_vm *vm)
{
	struct vblk_params p = { .mem = vm->mem, .backend = vm->be };
	struct kvm_ioeventfd io = {
		.addr = LINUX_VIRTIO_GPA + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
	};
	struct kvm_irqfd irq = { .gsi = LINUX_VIRTIO_GSI };
	int err;

	if (!vm->be)
		return 0;
	err = vblk_create(&p, &vm->blk);
	if (err)
		return err;
	vm->be = NULL;			/* the device's now */
	io.fd = vblk_notify_fd(vm->blk);
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io))
		return -errno;
	vm->notify_assigned = 1;
	vm->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->irq_fd < 0)
		return -errno;
	irq.fd = (uint32_t)vm->irq_fd;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irq))
		return -errno;
	vm->irqfd_assigned = 1;
	return virtio_mmio_set_irqfd(vblk_mmio(vm->blk), vm->irq_fd);
}

/* A PVM-variant KVM (DESIGN.md, profile K) runs a vCPU natively only when
 * its page tables have U/S set everywhere; a stock kernel's do not.  Asked
 * on a throwaway VM: -EOPNOTSUPP there, 0 elsewhere. */
static int probe_pvm(struct linux_vm *vm)
{
	int vm_fd, cpu_fd, err = 0;

	vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		return -errno;
	cpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0UL);
	if (cpu_fd < 0)
		err = -errno;
	else if (vmm_pvm_detect(cpu_fd))
		err = -EOPNOTSUPP;
	if (cpu_fd >= 0)
		close(cpu_fd);
	close(vm_fd);
	return err;
}

static int create_kvm(struct linux_vm *vm, char *why, size_t len)
{
	unsigned int i;
	int err;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0 || ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(why, len, "no usable /dev/kvm");
		return -ENODEV;
	}
	err = probe_pvm(vm);
	if (err) {
		snprintf(why, len, err == -EOPNOTSUPP ?
			 "this KVM is a PVM variant (MSR 0x4b564d11 reads \"PVM\"): a "
			 "stock kernel cannot run on it natively (its page tables lack "
			 "the U/S bits PVM's native mode needs); run it in the test VM "
			 "(tools/testvm)" : "PVM probe: %s", strerror(-err));
		return err;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		err = -errno;
		snprintf(why, len, "KVM_CREATE_VM: %s", strerror(-err));
		return err;
	}
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0)) {
		err = -errno;
		snprintf(why, len, "KVM_CREATE_IRQCHIP: %s", strerror(-err));
		return err;
	}
	err = vmm_supported_cpuid(vm->kvm_fd, &vm->cpuid);
	if (err) {
		snprintf(why, len, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-err));
		return err;
	}
	err = create_memory(vm);
	if (err) {
		snprintf(why, len, "guest RAM: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		err = create_vcpu(vm, &vm->vcpus[i], i);
		if (err) {
			snprintf(why, len, "vCPU %u: %s", i, strerror(-err));
			return err;
		}
	}
	err = set_boot_state(vm, &vm->vcpus[0]);
	if (err) {
		snprintf(why, len, "boot vCPU state: %s", strerror(-err));
		return err;
	}
	err = attach_disk(vm);
	if (err) {
		snprintf(why, len, "virtio-blk device: %s", strerror(-err));
		return err;
	}
	return vmm_kick_signal_init();
}

int linux_vm_create(const struct linux_config *cfg, struct linux_vm **out,
		    char *why, size_t len)
{
	struct linux_vm *vm;
	unsigned int i;
	int err;

	if (!cfg || !out || !why || !len)
		return -EINVAL;
	why[0] = '\0';
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = vm->irq_fd = -1;
	vm->trace = getenv("GMEMKIT_LINUX_TRACE") &&
		    !strcmp(getenv("GMEMKIT_LINUX_TRACE"), "1");
	pthread_mutex_init(&vm->serial_lock, NULL);
	pthread_mutex_init(&vm->end_lock, NULL);
	pthread_cond_init(&vm->end_cond, NULL);
	err = check_input(vm, why, len);
	if (err)
		goto fail;
	vm->nr_vcpus = vm->cfg.vcpus;
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].fd = -1;
		pthread_mutex_init(&vm->vcpus[i].lock, NULL);
	}
	serial_init(&vm->serial, vm->cfg.console, serial_raise, vm);
	err = create_kvm(vm, why, len);
	if (err)
		goto fail;
	*out = vm;
	return 0;
fail:
	if (!why[0])
		snprintf(why, len, "%s", strerror(-err));
	linux_vm_destroy(vm);
	return err;
}

void linux_vm_destroy(struct linux_vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	if (vm->blk) {
		vblk_stop(vm->blk);
		vblk_destroy(vm->blk);	/* and its backend */
	}
	blk_backend_destroy(vm->be);
	for (i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, vm->vcpus[i].run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
		pthread_mutex_destroy(&vm->vcpus[i].lock);
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);	/* irqfd and ioeventfd go with the VM */
	if (vm->irq_fd >= 0)
		close(vm->irq_fd);
	gmem_destroy(vm->mem);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
	free(vm->vcpus);
	free(vm->kernel);
	free(vm->initrd);
	free(vm->cmdline);
	pthread_mutex_destroy(&vm->serial_lock);
	pthread_mutex_destroy(&vm->end_lock);
	pthread_cond_destroy(&vm->end_cond);
	free(vm);
}

const char *linux_vm_backing(const struct linux_vm *vm)
{
	return vm && vm->mem && gmem_backing(vm->mem) == GMEM_BACKING_GUEST_MEMFD ?
	       "guest_memfd" : "memfd";
}

uint64_t linux_vm_mem_size(const struct linux_vm *vm)
{
	return vm ? vm->cfg.mem_size : 0;
}

/* ---- running ------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static void end_run(struct linux_vm *vm, enum linux_end e, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->end_lock);
	if (vm->trace)
		fprintf(stderr, "gmemkit run: end: %s\n", linux_end_name(e));
	if (!vm->ended) {
		vm->ended = true;
		vm->end = e;
		va_start(ap, fmt);
		vsnprintf(vm->message, sizeof(vm->message), fmt, ap);
		va_end(ap);
		atomic_store(&vm->stop, true);
		pthread_cond_broadcast(&vm->end_cond);
	}
	pthread_mutex_unlock(&vm->end_lock);
}

static void port_io(struct linux_vm *vm, uint16_t port, uint8_t *data,
		    unsigned int size, bool is_write)
{
	uint32_t v = 0;

	if (port >= LINUX_SERIAL_PORT && port < LINUX_SERIAL_PORT + 8) {
		unsigned int i;

		pthread_mutex_lock(&vm->serial_lock);
		for (i = 0; i < size && port + i < LINUX_SERIAL_PORT + 8; i++)
			serial_access(&vm->serial, port + i - LINUX_SERIAL_PORT,
				      data + i, is_write);
		pthread_mutex_unlock(&vm->serial_lock);
		return;
	}
	memcpy(&v, data, size < 4 ? size : 4);
	if (is_write && port == LINUX_SLEEP_CTL_PORT && (v & SLP_EN)) {
		if (SLP_TYP(v) == 5)
			end_run(vm, LINUX_END_POWEROFF, "the guest powered off (ACPI S5)");
		return;
	}
	if (is_write && ((port == LINUX_RESET_PORT && (v & 0xff) == LINUX_RESET_VALUE) ||
			 (port == 0x64 && (v & 0xff) == 0xfe) ||
			 (port == 0xcf9 && (v & 0x04)))) {
		end_run(vm, LINUX_END_REBOOT, "the guest reset itself (port 0x%x <- 0x%x)",
			port, v & 0xff);
		return;
	}
	/* The 8042's status reads "input buffer empty": a kernel resetting
	 * through it (reboot=k, or after ACPI, as a panic does) writes 0xfe at
	 * once instead of polling 0x10000 times per try. */
	if (!is_write && (port == LINUX_SLEEP_STS_PORT || port == LINUX_SLEEP_CTL_PORT ||
			  port == 0x64)) {
		memset(data, 0, size);
		return;
	}
	atomic_fetch_add(&vm->unknown_io, 1);
	if (vm->trace)
		fprintf(stderr, "gmemkit run: unclaimed port %s 0x%x size %u value 0x%x\n",
			is_write ? "write" : "read", port, size, is_write ? v : 0);
	if (!is_write)
		memset(data, 0xff, size);
}

static void handle_io(struct linux_vm *vm, struct kvm_run *run)
{
	uint8_t *p = (uint8_t *)run + run->io.data_offset;
	uint32_t i;

	atomic_fetch_add(&vm->io_exits, 1);
	if (run->io.size != 1 && run->io.size != 2 && run->io.size != 4)
		return;
	for (i = 0; i < run->io.count; i++, p += run->io.size)
		port_io(vm, run->io.port, p, run->io.size,
			run->io.direction == KVM_EXIT_IO_OUT);
}

static void handle_mmio(struct linux_vm *vm, struct kvm_run *run)
{
	uint64_t a = run->mmio.phys_addr;
	uint32_t n = run->mmio.len <= 8 ? run->mmio.len : 8;

	atomic_fetch_add(&vm->mmio_exits, 1);
	if (vm->blk && a >= LINUX_VIRTIO_GPA && a < LINUX_VIRTIO_GPA + LINUX_VIRTIO_SIZE &&
	    n && virtio_mmio_access(vblk_mmio(vm->blk), a - LINUX_VIRTIO_GPA,
				    run->mmio.data, n, run->mmio.is_write) == 0)
		return;
	atomic_fetch_add(&vm->unknown_mmio, 1);
	if (vm->trace)
		fprintf(stderr, "gmemkit run: unclaimed MMIO %s 0x%llx len %u\n",
			run->mmio.is_write ? "write" : "read", (unsigned long long)a, n);
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, n);
}

static bool handle_exit(struct linux_vcpu *v)
{
	struct linux_vm *vm = v->vm;
	struct kvm_run *run = v->run;

	atomic_fetch_add(&vm->exits, 1);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vm, run);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vm, run);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		end_run(vm, LINUX_END_SHUTDOWN, "vCPU %u: triple fault", v->index);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
			end_run(vm, LINUX_END_POWEROFF, "the guest powered off (system event)");
		else if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			end_run(vm, LINUX_END_REBOOT, "the guest reset itself (system event)");
		else
			end_run(vm, LINUX_END_ERROR, "vCPU %u: system event %u", v->index,
				run->system_event.type);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		end_run(vm, LINUX_END_ERROR, "vCPU %u: KVM internal error, suberror %u",
			v->index, run->internal.suberror);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		end_run(vm, LINUX_END_ERROR, "vCPU %u: entry failed, hardware reason 0x%llx",
			v->index, (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	default:
		end_run(vm, LINUX_END_ERROR, "vCPU %u: unexpected exit reason %u",
			v->index, run->exit_reason);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct linux_vcpu *v = arg;
	struct linux_vm *vm = v->vm;

	pthread_mutex_lock(&v->lock);
	v->running = true;
	pthread_mutex_unlock(&v->lock);
	while (!atomic_load(&vm->stop)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				continue;
			}
			end_run(vm, LINUX_END_ERROR, "vCPU %u: KVM_RUN: %s", v->index,
				strerror(errno));
			break;
		}
		if (!handle_exit(v))
			break;
	}
	pthread_mutex_lock(&v->lock);
	v->running = false;
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

static void kick(struct linux_vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&v->lock);
	if (v->running)
		pthread_kill(v->thread, SIGRTMIN + 2);	/* vmm_kick_signal_init() */
	pthread_mutex_unlock(&v->lock);
}

int linux_vm_run(struct linux_vm *vm, struct linux_result *res)
{
	uint64_t t0 = timing_now_ns();
	struct timespec dl;
	unsigned int i;
	int err = 0;

	if (!vm || !res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	if (vm->blk) {
		err = vblk_start(vm->blk);
		if (err)
			return err;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		err = -pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (err) {
			end_run(vm, LINUX_END_ERROR, "cannot start vCPU %u: %s", i,
				strerror(-err));
			break;
		}
		vm->vcpus[i].started = true;
	}
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += vm->cfg.timeout_ms / 1000;
	dl.tv_nsec += (long)(vm->cfg.timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vm->end_lock);
	while (!vm->ended) {
		if (pthread_cond_timedwait(&vm->end_cond, &vm->end_lock, &dl) == ETIMEDOUT &&
		    !vm->ended) {
			pthread_mutex_unlock(&vm->end_lock);
			end_run(vm, LINUX_END_TIMEOUT, "the guest did not power off or "
				"reset within %u ms", vm->cfg.timeout_ms);
			pthread_mutex_lock(&vm->end_lock);
		}
	}
	pthread_mutex_unlock(&vm->end_lock);
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].started)
			kick(&vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	pthread_mutex_lock(&vm->serial_lock);
	serial_flush(&vm->serial);
	res->serial_bytes = vm->serial.tx_bytes;
	pthread_mutex_unlock(&vm->serial_lock);

	res->end = vm->end;
	snprintf(res->message, sizeof(res->message), "%s", vm->message);
	res->exits = atomic_load(&vm->exits);
	res->io_exits = atomic_load(&vm->io_exits);
	res->mmio_exits = atomic_load(&vm->mmio_exits);
	res->unknown_io = atomic_load(&vm->unknown_io);
	res->unknown_mmio = atomic_load(&vm->unknown_mmio);
	if (vm->blk) {
		vblk_stop(vm->blk);
		vblk_reap(vm->blk, true);
		vblk_get_stats(vm->blk, &res->disk);
		res->has_disk = true;
		res->irqs = virtio_mmio_irqs(vblk_mmio(vm->blk));
		res->disk_backend = vm->disk_name;
		res->disk_capacity = vm->disk_capacity;
	}
	res->wall_ns = timing_now_ns() - t0;
	return 0;
}
