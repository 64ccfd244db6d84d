/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal KVM VMM: one gmem region as guest RAM at GPA 0, 1..N vCPUs in
 * 64-bit long mode (each on its own thread), the freestanding guest image
 * embedded in libgmemkit, and the guest -> VMM conversion transport
 * (KVM_HC_MAP_GPA_RANGE hypercall exits, a port-I/O doorbell with a
 * per-vCPU mailbox, or a per-vCPU ring of requests serviced by a VMM
 * converter thread without a userspace exit: "queue").  Guest layout and the wire ABI: gmemkit/abi.h.
 *
 * The VMM reads guest memory only through gmem_host_ptr()/gmem_pin_ptr().
 * Boot setup (GDT, page tables, image) is written through the host view
 * while those pages are shared and then unshared (in place mode; they stay
 * shared in destructive mode, see abi.h).  The boot info, results page and
 * vCPU pages stay shared and pinned for the whole run.
 *
 * Lifecycle: vmm_create() -> (device hooks) -> vmm_run() once ->
 * vmm_destroy().  Every function returns 0 or a negative errno:
 *   -EINVAL      bad config (vcpus 0 or > GMEM_ABI_MAX_VCPUS, mem size not a
 *                multiple of 2 MiB or outside [GMEM_ABI_MEM_MIN,
 *                GMEM_ABI_MEM_MAX], unknown test, transport, mode,
 *                platform), NULL args
 *   -ENODEV      /dev/kvm cannot be opened (errno of open() is lost on purpose:
 *                the caller prints "no KVM")
 *   -EOPNOTSUPP  transport HYPERCALL asked but KVM_CAP_EXIT_HYPERCALL does not
 *                offer KVM_HC_MAP_GPA_RANGE
 *   -EINVAL      also: conv_poll_us out of range
 *   -EALREADY    vmm_run() called twice; hook added after the run started
 *   -EEXIST      overlapping MMIO handler
 *   -E2BIG       guest image larger than GMEM_ABI_IMAGE_MAX
 *   -ENOMEM, or the errno of a failing KVM ioctl / gmem call.
 */
#ifndef GMEMKIT_VM_H
#define GMEMKIT_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gmemkit/abi.h"
#include "gmemkit/gmem.h"
#include "gmemkit/platform.h"

struct vmm;

/* The conversion transports of gmemkit/abi.h's list, with its values, and
 * auto: hypercall if the probe says it works, else doorbell. */
enum vmm_transport {
	VMM_TRANSPORT_AUTO = 0,
#define VMM_TRANSPORT_ENUM(id, value, name)	VMM_TRANSPORT_##id = GMEM_ABI_TRANSPORT_##id,
	GMEM_ABI_TRANSPORTS(VMM_TRANSPORT_ENUM)
#undef VMM_TRANSPORT_ENUM
};

/*
 * How guest RAM converts (gmem.h's models):
 *   VMM_CONV_LAZY   the lazy model on guest_memfd where it maps (memfd
 *                   otherwise): what upstream guest_memfd does today, the
 *                   host's first touch of a re-shared page faults it in
 *   VMM_CONV_EAGER  the eager model on memfd: one mapping, userfaultfd; a
 *                   to-shared maps the whole run
 *   VMM_CONV_HUGE   the eager model on 2 MiB hugetlb pages: conversions of
 *                   whole 2 MiB pages (the boot area stays shared; only the
 *                   hello and io tests run there); needs reserved pages
 */
enum vmm_conv_model {
	VMM_CONV_LAZY = 0,
	VMM_CONV_EAGER,
	VMM_CONV_HUGE,
};

const char *vmm_conv_model_name(enum vmm_conv_model m);
int vmm_conv_model_from_name(const char *name, enum vmm_conv_model *out);

/* Converter busy polling (queue transport). */
#define VMM_CONV_POLL_OFF		(-1)	/* sleep right after each pass */
#define VMM_CONV_POLL_US_DEFAULT	200	/* measured: docs/vmm.md, convert-bench */
#define VMM_CONV_POLL_US_MAX	1000000

/*
 * The guest self-tests' host services: doorbell ops GMEM_ABI_OP_CHECK_*,
 * PIN and UNPIN (abi.h), answered by the test support
 * (harness/services.h), never by the VMM itself.  handle() returns the
 * op's status (0 or -errno; -ENOENT from UNPIN: no guest pin there,
 * counted by the VMM as GMEM_ABI_CNT_UNPIN_REFUSED) and its result.
 */
struct vmm;
struct vmm_services {
	int (*handle)(struct vmm *vm, uint32_t op, uint64_t gpa, uint64_t len,
		      uint64_t arg, uint64_t *result);
};

struct vmm_config {
	unsigned int vcpus;		/* 1..GMEM_ABI_MAX_VCPUS */
	uint64_t mem_size;		/* bytes; 0 = VMM_DEFAULT_MEM */
	enum vmm_transport transport;
	enum gmem_mode mode;		/* conversion mode of guest RAM */
	enum gmem_backing backing;	/* GMEM_BACKING_AUTO normally (lazy) */
	enum vmm_conv_model conv_model;	/* VMM_CONV_LAZY normally */
	enum gmem_abi_test test;	/* 0 = GMEM_ABI_TEST_HELLO */
	unsigned int timeout_ms;	/* watchdog; 0 = VMM_DEFAULT_TIMEOUT_MS */
	unsigned int bench_reps;	/* bench test; 0 = 100 */
	FILE *console;			/* guest console; NULL = stdout */
	bool quiet;			/* no console output at all */
	int conv_poll_us;		/* queue transport: the converter busy-
					 * polls this long after its last request
					 * before it sleeps on the kick eventfd;
					 * 0 = VMM_CONV_POLL_US_DEFAULT,
					 * VMM_CONV_POLL_OFF = never polls */
	bool conv_no_pin;		/* queue: leave the converter and vCPU
					 * threads to the scheduler (default: the
					 * converter gets a CPU of its own when
					 * more than one is allowed) */
	const struct vmm_services *services;	/* offered only to the
					 * self-tests that use them (convert,
					 * badreq, smp); NULL: none */
	enum plat platform;		/* how the self-tests convert: each
					 * conversion as that platform's calls
					 * (boot_info.platform); PLAT_IDEAL = 0:
					 * one request.  The contents are the
					 * caller's: mode DESTRUCTIVE for the
					 * platforms that destroy them
					 * (plat_destroys()) */
};

#define VMM_DEFAULT_MEM		(64ULL << 20)
#define VMM_DEFAULT_TIMEOUT_MS	60000

/* How a run ended. */
enum vmm_end {
	VMM_END_DONE = 0,		/* every vCPU reported on PORT_DONE */
	VMM_END_PANIC,		/* guest exception (vector in end_info) */
	VMM_END_SHUTDOWN,		/* triple fault (KVM_EXIT_SHUTDOWN) */
	VMM_END_TIMEOUT,		/* watchdog fired */
	VMM_END_UNEXPECTED,		/* unexpected exit reason / port / MMIO */
	VMM_END_ERROR,		/* KVM_RUN or another host call failed */
};

struct vmm_counters {
	uint64_t c[GMEM_ABI_CNT_MAX];	/* enum gmem_abi_counter */
	uint64_t exits;			/* all KVM_RUN returns */
	uint64_t console_writes;
	uint64_t mmio_exits;
};

/*
 * Where the guest ran, measured (never assumed from a CPU model string): the
 * guest times the ABI's speed loop at boot, the VMM times the same loop on
 * the host.  native: the guest ran it within VMM_NATIVE_FACTOR of the
 * host and under VMM_NATIVE_MAX_MCYCLES; otherwise its instructions were
 * emulated (or the guest did not get that far: measured false).
 */
#define VMM_NATIVE_FACTOR		4
#define VMM_NATIVE_MAX_MCYCLES	20000	/* 20 cycles per iteration */

struct vmm_speed {
	bool measured;			/* the guest reported its loop */
	bool native;
	bool pvm;			/* PVM-variant host, native mode asked */
	bool host_emulated;		/* the host CPU is itself an emulator (its
					 * model string names QEMU): a guest at
					 * host speed is then no native guest */
	uint64_t guest_mcycles;		/* TSC cycles per 1000 iterations */
	uint64_t host_mcycles;
	double factor;			/* guest / host */
};

/* Host side of the measurement (cached after the first call). */
uint64_t vmm_host_speed_mcycles(void);
/* "native (1.0 cycles/iteration; host 1.0)", "emulated (9870 cycles/..." */
void vmm_speed_describe(const struct vmm_speed *s, char *buf,
			    size_t len);

/* The queue transport's converter over the run (zero for other transports). */
struct vmm_queue_stats {
	bool active;			/* a converter thread ran */
	unsigned int poll_us;		/* busy polling used (0: none) */
	int cpu;			/* CPU the converter was pinned to, -1 none */
	bool vcpus_pinned;		/* vCPU threads kept off that CPU */
	uint64_t requests;		/* requests read from the rings */
	uint64_t wakeups;		/* woken from sleep by a kick */
	uint64_t cpu_ns;		/* converter thread CPU time
					 * (CLOCK_THREAD_CPUTIME_ID) */
	uint64_t wall_ns;		/* its lifetime */
	unsigned int stopped;		/* vCPU queues stopped (malformed) */
	char stop_message[192];		/* the first stop's reason, or "" */
};

struct vmm_result {
	enum vmm_end end;
	bool pass;			/* ended DONE and the guest said PASS */
	int end_vcpu;			/* vCPU that ended the run, -1 if none */
	uint64_t end_info;		/* exit reason / vector / errno */
	char message[256];		/* one line: how the run ended */
	enum vmm_transport transport;	/* resolved */
	struct gmem_abi_results guest;	/* copy of the results page */
	struct vmm_counters counters;
	struct vmm_speed speed;	/* where the guest ran */
	struct vmm_queue_stats queue;
};

int vmm_create(const struct vmm_config *cfg, struct vmm **out);
int vmm_run(struct vmm *vm, struct vmm_result *res);
void vmm_destroy(struct vmm *vm);

/* Guest RAM (GPA == region offset), for devices. */
struct gmem *vmm_memory(struct vmm *vm);
int vmm_fd(const struct vmm *vm);
/* The transport the VM uses (AUTO resolved at create time). */
enum vmm_transport vmm_transport(const struct vmm *vm);

/*
 * Device hooks (before vmm_run()).
 *
 * vmm_set_mmio_handler() - route KVM_EXIT_MMIO in [gpa, gpa + size) to
 * fn, called on the vCPU thread with the offset into the window; for a read
 * fn fills data[0..len).  fn returns 0 or a negative errno; a negative return
 * ends the run as UNEXPECTED with the errno in the message.  An MMIO exit
 * outside every window also ends the run.  virtio-blk device 0 goes at
 * GMEM_ABI_VIRTIO_MMIO_GPA (fn can wrap virtio_mmio_access()).
 *   -EINVAL  NULL vm or fn, size 0, range wraps, or the range starts in RAM
 *   -EEXIST  overlaps a window already set
 *   -ENOSPC  VMM_MAX_MMIO windows already set
 *   -EALREADY the run has started
 *
 * vmm_add_ioeventfd() - KVM_IOEVENTFD on an MMIO address (no datamatch):
 * a guest write of len bytes at gpa signals fd without leaving the kernel
 * (e.g. GMEM_ABI_VIRTIO_MMIO_GPA + GMEM_ABI_VIRTIO_MMIO_NOTIFY, len 4).
 * Deassigned by vmm_destroy(); fd stays the caller's.
 *   -EINVAL  NULL vm, fd < 0, len not 1, 2, 4 or 8
 *   -ENOSPC  VMM_MAX_MMIO eventfds already set
 *   -EALREADY the run has started
 *   or the errno of KVM_IOEVENTFD.
 */
#define VMM_MAX_MMIO	4	/* windows, and eventfds */

typedef int (*vmm_mmio_fn)(void *opaque, uint64_t offset, void *data,
			       uint32_t len, bool is_write);
int vmm_set_mmio_handler(struct vmm *vm, uint64_t gpa, uint64_t size,
			     vmm_mmio_fn fn, void *opaque);
int vmm_add_ioeventfd(struct vmm *vm, uint64_t gpa, uint32_t len,
			  int fd);

/* Names (for the command line); -EINVAL for an unknown name. */
int vmm_test_from_name(const char *name, enum gmem_abi_test *out);
const char *vmm_test_name(enum gmem_abi_test t);
int vmm_transport_from_name(const char *name, enum vmm_transport *out);
const char *vmm_transport_name(enum vmm_transport t);
const char *vmm_end_name(enum vmm_end e);

/*
 * vmm_check_request() - the VMM's check of one guest conversion request
 * (doorbell, hypercall or queue), a pure function: 0 if op, gpa and len describe a
 * page-aligned, non-empty range inside [0, mem_size), else
 *   -EOVERFLOW gpa + len wraps; -EINVAL unaligned or len 0;
 *   -ERANGE outside RAM; -EOPNOTSUPP op is not SHARE or UNSHARE.
 */
int vmm_check_request(uint64_t mem_size, uint32_t op, uint64_t gpa,
			  uint64_t len);

/*
 * vmm_probe_hypercall_exit() - do KVM_HC_MAP_GPA_RANGE hypercalls
 * really reach userspace?  Boots a throwaway VM whose guest makes one
 * conversion hypercall, bounded by timeout_ms (a stalled vCPU is kicked out
 * by a signal).  Three outcomes, and *why (if why != NULL) says why:
 *   VMM_PROBE_YES      they do
 *   VMM_PROBE_NO       they do not: cap missing, vCPU stalled, the
 *                          instruction faulted, or KVM answered itself
 *   VMM_PROBE_UNKNOWN  the probe guest did not boot (why: how it ended)
 * or -ENODEV (no /dev/kvm) / another negative errno (the VM could not be
 * made or run).  The first call's result is cached for the process.
 *
 * vmm_probe_guest_speed() - where the same probe guest ran (see struct
 * vmm_speed), from the cached probe.  0, -EHOSTDOWN (the guest did not
 * get far enough to measure), or the probe's negative errno.
 */
enum {
	VMM_PROBE_NO = 0,
	VMM_PROBE_YES = 1,
	VMM_PROBE_UNKNOWN = 2,
};
int vmm_probe_hypercall_exit(unsigned int timeout_ms, const char **why);
int vmm_probe_guest_speed(struct vmm_speed *out);

#define VMM_PROBE_TIMEOUT_MS	3000

/* The queue transport needs only an ioeventfd: 1 if KVM_IOEVENTFD works on
 * a VM here, 0 if not (*why says why), -ENODEV without /dev/kvm. */
int vmm_probe_queue(const char **why);

#endif /* GMEMKIT_VM_H */
