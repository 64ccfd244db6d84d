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

#define GMEM_VM_TSS_GPA		(GMEM_ABI_GDT_GPA + 0x800)
#define GMEM_VM_GDT_LIMIT	(5 * 8 - 1)
#define GMEM_VM_SEL_CODE	0x08
#define GMEM_VM_SEL_DATA	0x10
#define GMEM_VM_SEL_TSS		0x18

struct gmem_vm_mmio {
	uint64_t gpa, size;
	gmem_vm_mmio_fn fn;
	void *opaque;
};

struct gmem_vcpu {
	struct gmem_vm *vm;
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
struct gmem_convq_ring {
	struct gmem_abi_convq *q;	/* pinned host view of its queue page */
	unsigned int vcpu;
	uint32_t done;			/* requests completed: the VMM's own
					 * index, never read back from the page */
	bool stopped;
	char why[192];			/* why it stopped */
};

struct gmem_convq {
	struct gmem_convq_ring *rings;
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

struct gmem_vm {
	struct gmem_vm_config cfg;
	int kvm_fd, vm_fd;
	struct gmem *mem;
	enum gmem_transport transport;	/* resolved */
	enum gmem_abi_vendor vendor;
	uint64_t tsc_khz;
	bool pvm;			/* PVM-variant host: native mode on */
	struct kvm_cpuid2 *cpuid;
	struct gmem_vcpu *vcpus;
	unsigned int nr_vcpus;
	struct gmem_abi_boot_info *boot;	/* pinned host view */
	struct gmem_abi_results *results;	/* pinned host view */
	bool pinned;
	const struct gmem_vm_services *services;	/* this run's, or NULL */
	struct gmem_vm_mmio mmio[GMEM_VM_MAX_MMIO];
	unsigned int nr_mmio;
	int ioeventfds[GMEM_VM_MAX_MMIO];
	uint64_t ioeventfd_gpa[GMEM_VM_MAX_MMIO];
	uint32_t ioeventfd_len[GMEM_VM_MAX_MMIO];
	unsigned int nr_ioeventfds;
	bool ran;

	/* run state */
	_Atomic bool stop;
	pthread_mutex_t end_lock;	/* first ending wins */
	bool ended;
	struct gmem_vm_result end;	/* end, end_vcpu, end_info, message */
	_Atomic uint64_t cnt[GMEM_ABI_CNT_MAX];
	_Atomic uint64_t exits, console_writes, mmio_exits;
	pthread_mutex_t console_lock;
	struct gmem_convq convq;	/* queue transport only */
	cpu_set_t vcpu_cpus;		/* queue: the CPUs left to the vCPUs */
	bool queue_pinned;
};

/* vcpu.c */
int gmem_vcpu_create(struct gmem_vm *vm, struct gmem_vcpu *vcpu,
		     unsigned int index);
void gmem_vcpu_destroy(struct gmem_vcpu *vcpu);
void *gmem_vcpu_thread(void *arg);
void gmem_vcpu_kick(struct gmem_vcpu *vcpu);
int gmem_vm_kick_signal_init(void);

/* boot.c: page tables, GDT, boot info and image into guest RAM. */
int gmem_vm_load_boot(struct gmem_vm *vm);

/* vm_run.c */
__attribute__((format(printf, 5, 6)))
void gmem_vm_end_run(struct gmem_vm *vm, enum gmem_vm_end end, int vcpu,
		     uint64_t info, const char *fmt, ...);
void gmem_vm_console(struct gmem_vm *vm, struct gmem_vcpu *vcpu,
		     uint32_t len);

/* The guest image embedded in libgmemkit (Makefile: guest_blob.S). */
extern const char gmem_guest_image[], gmem_guest_image_end[];

/* pvm.c */
bool gmem_pvm_detect(int vcpu_fd);
int gmem_pvm_enable(int vcpu_fd, uint64_t page_gpa);

/* transport.c */
/* One checked conversion (any transport): check, gmem_share/unshare,
 * counters (per error class, conversions, host ns), the host ns also in
 * vcpu's page (vcpu may be NULL). */
int gmem_vm_convert(struct gmem_vm *vm, struct gmem_vcpu *vcpu, uint32_t op,
		    uint64_t gpa, uint64_t len);
int gmem_vm_handle_doorbell(struct gmem_vcpu *vcpu, uint32_t value);
/* Returns the gmem/check errno; the guest gets it mapped in rax. */
int gmem_vm_handle_hypercall(struct gmem_vcpu *vcpu);
int64_t gmem_vm_hypercall_status(int err);
/* Does test t use the doorbell's test services (abi.h)? */
bool gmem_vm_test_wants_services(enum gmem_abi_test t);
int gmem_vm_hypercall_supported(int vm_fd);
int gmem_vm_enable_hypercall(int vm_fd);
enum gmem_transport gmem_vm_resolve_auto(void);
int gmem_vm_probe_run(enum gmem_abi_test test, unsigned int timeout_ms,
		      char *why, size_t why_len);

/* convq.c: the queue transport's converter.
 * gmem_convq_ring_init() - (re)initialise one ring page (magic, size,
 *   indices 0) and its host state.
 * gmem_convq_service() - one bounded pass over one ring: at most budget
 *   (and at most GMEM_ABI_CONVQ_SIZE) requests, each read once, checked,
 *   converted and completed in order.  Returns the number serviced, 0 if
 *   none (or the ring is stopped), -EPROTO if this pass found the ring
 *   malformed and stopped it.
 * gmem_convq_start() - converter thread over vm->convq.rings (efd and
 *   rings set up by the caller); poll_us 0 = sleep after each pass.
 * gmem_convq_stop() - stop and join it; cpu_ns, t0, t1 filled.
 * gmem_convq_cpu_ns() - the converter's CPU time so far (0 if none). */
void gmem_convq_ring_init(struct gmem_convq_ring *r, struct gmem_abi_convq *q,
			  unsigned int vcpu);
int gmem_convq_service(struct gmem_vm *vm, struct gmem_convq_ring *r,
		       unsigned int budget);
int gmem_convq_start(struct gmem_vm *vm, unsigned int poll_us);
void gmem_convq_stop(struct gmem_vm *vm);
uint64_t gmem_convq_cpu_ns(struct gmem_vm *vm);

#endif /* GMEMKIT_VMM_VM_INTERNAL_H */
