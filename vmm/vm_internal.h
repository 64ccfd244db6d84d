/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMM internals shared by vmm/vm.c, boot.c, vm_run.c, vcpu.c and transport.c.
 */
#ifndef GMEMKIT_VMM_VM_INTERNAL_H
#define GMEMKIT_VMM_VM_INTERNAL_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "gmemkit/vm.h"
#include "uapi/kvm_compat.h"

#define VMM_TSS_GPA		(GMEM_ABI_GDT_GPA + 0x800)
#define VMM_GDT_LIMIT	(5 * 8 - 1)
#define VMM_SEL_CODE	0x08
#define VMM_SEL_DATA	0x10
#define VMM_SEL_TSS		0x18

struct vmm_mmio {
	uint64_t gpa, size;
	vmm_mmio_fn fn;
	void *opaque;
};

struct vmm_vcpu {
	struct vmm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;		/* for pthread_join (main thread) */
	pthread_t self;			/* set by the thread itself */
	bool started;
	pthread_mutex_t kick_lock;	/* running + self vs. kicks */
	bool running;			/* thread in its loop (kick_lock) */
	bool pin;			/* run on vm->vcpu_cpus only */
	struct gmem_abi_vcpu_page *page;	/* pinned host view */
	bool done;			/* reported on PORT_DONE */
	atomic_uint_fast64_t kicks_taken;	/* KVM_RUN returns with EINTR */
	uint32_t done_status;
};

/* One vCPU's conversion queue, as the converter sees it (vmm/convq.c). */
struct vmm_convq_ring {
	struct gmem_abi_convq *q;	/* pinned host view of its queue page */
	unsigned int vcpu;
	uint32_t done;			/* requests completed: the VMM's own
					 * index, never read back from the page */
	bool stopped;
	char why[192];			/* why it stopped */
};

struct vmm_convq {
	struct vmm_convq_ring *rings;
	unsigned int nr;
	int efd;			/* kick eventfd (ioeventfd on the kick GPA) */
	uint64_t poll_ns;		/* busy polling after the last request */
	bool polling;			/* GMEM_ABI_CONVQ_F_POLLING as last written */
	int cpu;			/* pinned to this CPU, -1 not pinned */
	pthread_t thread;
	bool started;
	_Atomic bool quit;
	_Atomic bool have_clock;	/* cpu_clock valid (thread running) */
	clockid_t cpu_clock;
	_Atomic uint64_t cpu_ns;	/* final CPU time (set as it exits) */
	uint64_t t0, t1;		/* lifetime (t1 after join) */
};

struct vmm {
	struct vmm_config cfg;
	int kvm_fd, vm_fd;
	struct gmem *mem;
	enum vmm_transport transport;	/* resolved */
	enum gmem_abi_vendor vendor;
	uint64_t tsc_khz;
	bool pvm;			/* PVM-variant host: native mode on */
	struct kvm_cpuid2 *cpuid;
	struct vmm_vcpu *vcpus;
	unsigned int nr_vcpus;
	struct gmem_abi_boot_info *boot;	/* pinned host view */
	struct gmem_abi_results *results;	/* pinned host view */
	bool pinned;
	const struct vmm_services *services;	/* this run's, or NULL */
	struct vmm_mmio mmio[VMM_MAX_MMIO];
	unsigned int nr_mmio;
	int ioeventfds[VMM_MAX_MMIO];
	uint64_t ioeventfd_gpa[VMM_MAX_MMIO];
	uint32_t ioeventfd_len[VMM_MAX_MMIO];
	unsigned int nr_ioeventfds;
	bool ran;

	/* run state */
	_Atomic bool stop;
	pthread_mutex_t end_lock;	/* first ending wins */
	bool ended;
	struct vmm_result end;	/* end, end_vcpu, end_info, message */
	_Atomic uint64_t cnt[GMEM_ABI_CNT_MAX];
	_Atomic uint64_t exits, console_writes, mmio_exits;
	pthread_mutex_t console_lock;
	struct vmm_convq convq;	/* queue transport only */
	cpu_set_t vcpu_cpus;		/* queue: the CPUs left to the vCPUs */
	bool queue_pinned;
};

/* vcpu.c */
int vmm_vcpu_create(struct vmm *vm, struct vmm_vcpu *vcpu,
		     unsigned int index);
void vmm_vcpu_destroy(struct vmm_vcpu *vcpu);
void *vmm_vcpu_thread(void *arg);
void vmm_vcpu_kick(struct vmm_vcpu *vcpu);
int vmm_kick_signal_init(void);

/* boot.c: page tables, GDT, boot info and image into guest RAM. */
int vmm_load_boot(struct vmm *vm);

/* vm_run.c */
__attribute__((format(printf, 5, 6)))
void vmm_end_run(struct vmm *vm, enum vmm_end end, int vcpu,
		     uint64_t info, const char *fmt, ...);
/*
 * vmm_printable() - make guest text safe for a terminal, in place: every
 * byte of s (up to len or its NUL) below 0x20 or from 0x7f on becomes repl,
 * except newline and tab when lines.  Returns the length looked at.  The
 * one filter of guest text (console, panic text, the results' fail_msg).
 */
size_t vmm_printable(char *s, size_t len, bool lines, char repl);
void vmm_console(struct vmm *vm, struct vmm_vcpu *vcpu,
		     uint32_t len);

/* The guest image embedded in libgmemkit (Makefile: guest_blob.S). */
extern const char vmm_guest_image[], vmm_guest_image_end[];

/* pvm.c */
bool vmm_pvm_detect(int vcpu_fd);
int vmm_pvm_enable(int vcpu_fd, uint64_t page_gpa);

/* transport.c */
/* One checked conversion (any transport): check, gmem_share/unshare,
 * counters (per error class, conversions, host ns), the host ns also in
 * vcpu's page (vcpu may be NULL). */
/* A vCPU fd and its mapped kvm_run; 0 or -errno (*fd may then be open:
 * the caller's teardown closes it, as after any later failure). */
int vmm_vcpu_open(int kvm_fd, int vm_fd, unsigned int index, int *fd,
		  struct kvm_run **run, size_t *run_size);

/* Guest RAM as memslot 0 at GPA 0: a guest_memfd memslot
 * (KVM_SET_USER_MEMORY_REGION2) on that backing, else a plain one through
 * the memslot mapping.  0 or -errno.  Both VMs. */
int vmm_set_memslot(int vm_fd, struct gmem *mem);

/* KVM_GET_SUPPORTED_CPUID, the table grown until it fits; 0 and *out
 * (free() it), or -errno.  Both VMs (gmemkit's guest, a Linux guest). */
int vmm_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out);

/* With GMEM_ABI_CONV_F_* flags (PARTIAL: stop at the next 2 MiB
 * boundary); *done = bytes converted. */
int vmm_convert_flags(struct vmm *vm, struct vmm_vcpu *vcpu, uint32_t op,
		      uint32_t flags, uint64_t gpa, uint64_t len, uint64_t *done);
int vmm_convert(struct vmm *vm, struct vmm_vcpu *vcpu, uint32_t op,
		    uint64_t gpa, uint64_t len);
int vmm_handle_doorbell(struct vmm_vcpu *vcpu, uint32_t value);
/* Returns the gmem/check errno; the guest gets it mapped in rax. */
int vmm_handle_hypercall(struct vmm_vcpu *vcpu);
int64_t vmm_hypercall_status(int err);
/* Does test t use the doorbell's test services (abi.h)? */
bool vmm_test_wants_services(enum gmem_abi_test t);
int vmm_hypercall_supported(int vm_fd);
int vmm_enable_hypercall(int vm_fd);
enum vmm_transport vmm_resolve_auto(void);
int vmm_probe_run(enum gmem_abi_test test, unsigned int timeout_ms,
		      char *why, size_t why_len);

/* convq.c: the queue transport's converter.
 * vmm_convq_ring_init() - (re)initialise one ring page (magic, size,
 *   indices 0) and its host state.
 * vmm_convq_service() - one bounded pass over one ring: at most budget
 *   (and at most GMEM_ABI_CONVQ_SIZE) requests, each read once, checked,
 *   converted and completed in order.  Returns the number serviced, 0 if
 *   none (or the ring is stopped), -EPROTO if this pass found the ring
 *   malformed and stopped it.
 * vmm_convq_start() - converter thread over vm->convq.rings (efd and
 *   rings set up by the caller); poll_us 0 = sleep after each pass.
 * vmm_convq_stop() - stop and join it; cpu_ns, t0, t1 filled.
 * vmm_convq_cpu_ns() - the converter's CPU time so far (0 if none). */
void vmm_convq_ring_init(struct vmm_convq_ring *r, struct gmem_abi_convq *q,
			  unsigned int vcpu);
int vmm_convq_service(struct vmm *vm, struct vmm_convq_ring *r,
		       unsigned int budget);
int vmm_convq_start(struct vmm *vm, unsigned int poll_us);
void vmm_convq_stop(struct vmm *vm);
uint64_t vmm_convq_cpu_ns(struct vmm *vm);

#endif /* GMEMKIT_VMM_VM_INTERNAL_H */
