// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs: creation in 64-bit long mode, the KVM_RUN loop on its own thread,
 * exit dispatch, and kicking a vCPU out of KVM_RUN (a signal plus
 * kvm_run.immediate_exit, so a kick can never be lost).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm_internal.h"

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define EFER_NXE	(1ULL << 11)

static int kick_signo;

static void kick_handler(int sig)
{
	(void)sig;	/* only there to make KVM_RUN return -EINTR */
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;
static int kick_err;

static void kick_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	kick_signo = SIGRTMIN + 2;
	if (sigaction(kick_signo, &sa, NULL))
		kick_err = -errno;
}

int vmm_kick_signal_init(void)
{
	pthread_once(&kick_once, kick_init);
	return kick_err;
}

void vmm_vcpu_kick(struct vmm_vcpu *vcpu)
{
	if (!vcpu->run)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&vcpu->kick_lock);
	if (vcpu->running)
		pthread_kill(vcpu->self, kick_signo);
	pthread_mutex_unlock(&vcpu->kick_lock);
}

/* ---- setup ---------------------------------------------------------------- */

static int set_cpuid(struct vmm *vm, struct vmm_vcpu *vcpu)
{
	size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	unsigned int i;
	int err = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, vm->cpuid, sz);
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1)		/* initial APIC ID */
			e->ebx = (e->ebx & 0x00ffffffU) | (vcpu->index << 24);
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu->index;	/* x2APIC ID */
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c))
		err = -errno;
	free(c);
	return err;
}

static int set_long_mode(struct vmm_vcpu *vcpu)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = VMM_SEL_CODE,
		.type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = VMM_SEL_DATA,
		.type = 3, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment tss = {
		.base = VMM_TSS_GPA, .limit = 0x67, .selector = VMM_SEL_TSS,
		.type = 11, .present = 1, .s = 0,
	};
	struct kvm_sregs s;
	struct kvm_regs r;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s))
		return -errno;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr = tss;
	s.gdt.base = GMEM_ABI_GDT_GPA;
	s.gdt.limit = VMM_GDT_LIMIT;
	s.idt.base = 0;
	s.idt.limit = 0;	/* until the guest loads its IDT: fault = shutdown */
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s.cr3 = GMEM_ABI_PT_GPA;
	s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	/* NXE as a PVM hypervisor requires it; nothing here uses NX. */
	s.efer = EFER_LME | EFER_LMA | EFER_NXE;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s))
		return -errno;

	memset(&r, 0, sizeof(r));
	r.rip = GMEM_ABI_IMAGE_GPA;
	r.rsp = GMEM_ABI_STACK_GPA + (vcpu->index + 1ULL) * GMEM_ABI_STACK_SIZE;
	r.rdi = vcpu->index;
	r.rsi = GMEM_ABI_BOOT_INFO_GPA;
	r.rflags = 0x2;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &r))
		return -errno;
	return 0;
}

int vmm_vcpu_open(int kvm_fd, int vm_fd, unsigned int index, int *fd,
		  struct kvm_run **run, size_t *run_size)
{
	void *p;
	int sz;

	*fd = ioctl(vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (*fd < 0)
		return -errno;
	sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return sz < 0 ? -errno : -EINVAL;
	p = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*run = p;
	*run_size = (size_t)sz;
	return 0;
}

int vmm_vcpu_create(struct vmm *vm, struct vmm_vcpu *vcpu,
		     unsigned int index)
{
	int err;

	vcpu->vm = vm;
	vcpu->index = index;
	pthread_mutex_init(&vcpu->kick_lock, NULL);
	err = vmm_vcpu_open(vm->kvm_fd, vm->vm_fd, index, &vcpu->fd, &vcpu->run,
			    &vcpu->run_size);
	if (err)
		return err;
	err = set_cpuid(vm, vcpu);
	if (err)
		return err;
	return set_long_mode(vcpu);
}

void vmm_vcpu_destroy(struct vmm_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	vcpu->run = NULL;
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->fd = -1;
	if (vcpu->vm)
		pthread_mutex_destroy(&vcpu->kick_lock);
}

/* ---- exits ---------------------------------------------------------------- */

static const char *vector_name(uint32_t v)
{
	static const char *const n[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF",
		"?", "#TS", "#NP", "#SS", "#GP", "#PF", "?", "#MF", "#AC", "#MC",
		"#XM", "#VE", "#CP",
	};

	return v < sizeof(n) / sizeof(n[0]) ? n[v] : "?";
}

static void handle_panic(struct vmm_vcpu *vcpu, uint32_t vector)
{
	char text[200];

	/* The guest left a one-line description in its console buffer. */
	memcpy(text, vcpu->page->console, sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	vmm_printable(text, sizeof(text), false, ' ');
	vmm_end_run(vcpu->vm, VMM_END_PANIC, (int)vcpu->index, vector,
			"guest exception %s (vector %u) on vCPU %u: %s",
			vector_name(vector), vector, vcpu->index, text);
}

/* Returns true when the vCPU loop must stop. */
static bool handle_io(struct vmm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vmm *vm = vcpu->vm;
	uint32_t value;

	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 ||
	    run->io.count != 1 ||
	    run->io.data_offset > vcpu->run_size - sizeof(value)) {
		vmm_end_run(vm, VMM_END_UNEXPECTED, (int)vcpu->index,
				run->io.port,
				"unexpected port I/O on vCPU %u: %s port 0x%x size %u count %u",
				vcpu->index,
				run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
				run->io.port, run->io.size, run->io.count);
		return true;
	}
	memcpy(&value, (char *)run + run->io.data_offset, sizeof(value));
	switch (run->io.port) {
	case GMEM_ABI_PORT_CONSOLE:
		vmm_console(vm, vcpu, value);
		return false;
	case GMEM_ABI_PORT_DOORBELL:
		vmm_handle_doorbell(vcpu, value);
		return false;
	case GMEM_ABI_PORT_DONE:
		vcpu->done = true;
		vcpu->done_status = value;
		return true;
	case GMEM_ABI_PORT_PANIC:
		handle_panic(vcpu, value);
		return true;
	}
	vmm_end_run(vm, VMM_END_UNEXPECTED, (int)vcpu->index, run->io.port,
			"unexpected port I/O on vCPU %u: out port 0x%x value 0x%x",
			vcpu->index, run->io.port, value);
	return true;
}

static bool handle_mmio(struct vmm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vmm *vm = vcpu->vm;
	uint64_t gpa = run->mmio.phys_addr;
	uint32_t len = run->mmio.len;
	unsigned int i;
	int err;

	atomic_fetch_add(&vm->mmio_exits, 1);
	for (i = 0; len <= sizeof(run->mmio.data) && i < vm->nr_mmio; i++) {
		struct vmm_mmio *m = &vm->mmio[i];

		if (gpa < m->gpa || gpa - m->gpa >= m->size ||
		    len > m->size - (gpa - m->gpa))
			continue;
		err = m->fn(m->opaque, gpa - m->gpa, run->mmio.data, len,
			    run->mmio.is_write);
		if (!err)
			return false;
		vmm_end_run(vm, VMM_END_UNEXPECTED, (int)vcpu->index, gpa,
				"MMIO %s at 0x%llx len %u on vCPU %u failed: %s",
				run->mmio.is_write ? "write" : "read",
				(unsigned long long)gpa, len, vcpu->index,
				strerror(-err));
		return true;
	}
	vmm_end_run(vm, VMM_END_UNEXPECTED, (int)vcpu->index, gpa,
			"MMIO %s at 0x%llx len %u on vCPU %u: no device there",
			run->mmio.is_write ? "write" : "read",
			(unsigned long long)gpa, len, vcpu->index);
	return true;
}

static const char *suberror_name(uint32_t s)
{
	switch (s) {
	case KVM_INTERNAL_ERROR_EMULATION:
		return "emulation failure";
	case KVM_INTERNAL_ERROR_SIMUL_EX:
		return "exception during event delivery";
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		return "event delivery failed";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
		return "unexpected exit reason";
	}
	return "unknown";
}

/*
 * The bytes at the guest's RIP, for a report: the ones KVM hands over with
 * an emulation failure, else the VMM's own copy of the guest image (code is
 * never written after boot).  Guest RAM itself is never read: the image is
 * private.  Returns the number of bytes put in out[].
 */
static unsigned int insn_bytes(const struct kvm_run *run, uint64_t rip,
			       uint8_t out[15], const char **from)
{
	uint64_t img_len = (uint64_t)(vmm_guest_image_end - vmm_guest_image);
	unsigned int n;

	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    (run->emulation_failure.flags &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
	    run->emulation_failure.insn_size) {
		n = run->emulation_failure.insn_size;
		if (n > 15)
			n = 15;
		memcpy(out, run->emulation_failure.insn_bytes, n);
		*from = "from KVM";
		return n;
	}
	if (rip < GMEM_ABI_IMAGE_GPA || rip - GMEM_ABI_IMAGE_GPA >= img_len) {
		*from = "outside the guest image";
		return 0;
	}
	n = (unsigned int)(img_len - (rip - GMEM_ABI_IMAGE_GPA));
	if (n > 15)
		n = 15;
	memcpy(out, vmm_guest_image + (rip - GMEM_ABI_IMAGE_GPA), n);
	*from = "from the guest image";
	return n;
}

/* Everything KVM says about an internal error, on one line. */
static void report_internal_error(struct vmm_vcpu *vcpu)
{
	const struct kvm_run *run = vcpu->run;
	uint32_t nd = run->internal.ndata, i;
	char data[96] = "", bytes[64] = "";
	const char *from = "";
	struct kvm_regs regs;
	uint8_t insn[15];
	unsigned int n, k;
	size_t o = 0;
	bool have_rip = !ioctl(vcpu->fd, KVM_GET_REGS, &regs);

	if (nd > sizeof(run->internal.data) / sizeof(run->internal.data[0]))
		nd = sizeof(run->internal.data) / sizeof(run->internal.data[0]);
	for (i = 0; i < nd && i < 4 && o < sizeof(data); i++)
		o += (size_t)snprintf(data + o, sizeof(data) - o, " 0x%llx",
				      (unsigned long long)run->internal.data[i]);
	n = have_rip ? insn_bytes(run, regs.rip, insn, &from) : 0;
	for (k = 0, o = 0; k < n && o < sizeof(bytes); k++)
		o += (size_t)snprintf(bytes + o, sizeof(bytes) - o, " %02x", insn[k]);
	vmm_end_run(vcpu->vm, VMM_END_UNEXPECTED, (int)vcpu->index,
			run->internal.suberror,
			"vCPU %u: KVM internal error, suberror %u (%s), ndata %u:%s%s; "
			"rip 0x%llx, bytes%s (%s)",
			vcpu->index, run->internal.suberror,
			suberror_name(run->internal.suberror), run->internal.ndata,
			data, nd > 4 ? " ..." : "",
			have_rip ? (unsigned long long)regs.rip : 0ULL,
			n ? bytes : " none", have_rip ? from : "KVM_GET_REGS failed");
}

static bool handle_exit(struct vmm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vmm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(vcpu);
	case KVM_EXIT_HYPERCALL:
		vmm_handle_hypercall(vcpu);
		return false;
	case KVM_EXIT_MMIO:
		return handle_mmio(vcpu);
	case KVM_EXIT_INTR:
		return false;
	case KVM_EXIT_HLT:
		vmm_end_run(vm, VMM_END_UNEXPECTED, (int)vcpu->index,
				KVM_EXIT_HLT,
				"vCPU %u halted without reporting on the done port",
				vcpu->index);
		return true;
	case KVM_EXIT_SHUTDOWN:
		vmm_end_run(vm, VMM_END_SHUTDOWN, (int)vcpu->index,
				KVM_EXIT_SHUTDOWN,
				"vCPU %u shut down (triple fault)", vcpu->index);
		return true;
	case KVM_EXIT_FAIL_ENTRY:
		vmm_end_run(vm, VMM_END_UNEXPECTED, (int)vcpu->index,
				run->fail_entry.hardware_entry_failure_reason,
				"vCPU %u: VM entry failed, hardware reason 0x%llx",
				vcpu->index, (unsigned long long)
				run->fail_entry.hardware_entry_failure_reason);
		return true;
	case KVM_EXIT_INTERNAL_ERROR:
		report_internal_error(vcpu);
		return true;
	}
	vmm_end_run(vm, VMM_END_UNEXPECTED, (int)vcpu->index,
			run->exit_reason, "vCPU %u: unexpected exit reason %u",
			vcpu->index, run->exit_reason);
	return true;
}

void *vmm_vcpu_thread(void *arg)
{
	struct vmm_vcpu *vcpu = arg;
	struct vmm *vm = vcpu->vm;

	pthread_mutex_lock(&vcpu->kick_lock);
	vcpu->self = pthread_self();
	vcpu->running = true;
	pthread_mutex_unlock(&vcpu->kick_lock);
	/* Queue transport: off the converter's CPU (best effort). */
	if (vcpu->pin)
		pthread_setaffinity_np(pthread_self(), sizeof(vm->vcpu_cpus),
				       &vm->vcpu_cpus);

	while (!atomic_load(&vm->stop)) {
		int r = ioctl(vcpu->fd, KVM_RUN, 0);

		atomic_fetch_add(&vm->exits, 1);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/*
				 * The kick is taken: clear immediate_exit, or
				 * every later KVM_RUN returns at once (a busy
				 * loop).  Cleared before the loop looks at
				 * vm->stop, and a kicker sets stop before
				 * immediate_exit, so no kick is lost.
				 */
				__atomic_store_n(&vcpu->run->immediate_exit, 0,
						 __ATOMIC_SEQ_CST);
				atomic_fetch_add(&vcpu->kicks_taken, 1);
				continue;
			}
			vmm_end_run(vm, VMM_END_ERROR, (int)vcpu->index,
					(uint64_t)errno, "vCPU %u: KVM_RUN failed: %s",
					vcpu->index, strerror(errno));
			break;
		}
		if (handle_exit(vcpu))
			break;
	}

	pthread_mutex_lock(&vcpu->kick_lock);
	vcpu->running = false;
	pthread_mutex_unlock(&vcpu->kick_lock);
	return NULL;
}
