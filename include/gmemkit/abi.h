/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest <-> VMM ABI: the only definitions the freestanding guest and the
 * VMM share (Solo5 hvt_abi.h style).  Freestanding: fixed-width types only,
 * no libc.  Every structure the two sides exchange, every port, every MMIO
 * address, every doorbell op and every status code is defined here once.
 *
 * Bump GMEM_ABI_VERSION on any incompatible change; the VMM writes it into
 * the boot info and the guest refuses to run on a mismatch.
 *
 * Guest physical layout (identity mapped by the VMM's page tables: 4 KiB
 * pages for the first 2 MiB with GPA 0 left unmapped, 2 MiB pages above,
 * the virtio-mmio window uncached; nothing else is mapped):
 *
 *   0x0000_1000  boot info            shared (VMM writes, guest reads)
 *   0x0000_2000  results page         shared (guest writes, VMM reads)
 *   0x0000_3000  GDT                  private after boot (in place mode)
 *   0x0001_0000  page tables (7 pg)   private after boot (in place mode)
 *   0x0002_0000  vCPU pages, 1/vCPU   shared (mailbox + console buffer)
 *   0x0006_0000  PVM pages, 1/vCPU    private; used only on a PVM-variant
 *                                     host (see struct gmem_abi_pvm_page)
 *   0x000a_0000  queue pages, 1/vCPU  shared (conversion queue ring, see
 *                                     struct gmem_abi_convq)
 *   0x0010_0000  guest image (<1 MiB) private after boot (in place mode)
 *   0x0020_0000  vCPU stacks          private, GMEM_ABI_STACK_SIZE each
 *   0x0030_0000  guest heap           private
 *   0x0100_0000  shared pool (8 MiB)  shared for the whole run (virtio rings,
 *                                     request headers; see guest/gblk.h)
 *   0x0180_0000  test area            private, up to the end of RAM (an I/O
 *                                     run shares a part once: see below)
 *   0xd000_0000  virtio-mmio device 0 (4 KiB MMIO window, no RAM)
 *   0xd000_1000  conversion queue kick (a 4-byte write: ioeventfd, no RAM)
 *
 * "Shared" pages are the ones the VMM may read through its host view; the
 * boot info, results, vCPU and queue pages are pinned by the VMM for the whole run,
 * so a guest request to unshare them fails with -GMEM_ABI_EBUSY.  In
 * destructive mode the boot pages (GDT, page tables, image) stay shared:
 * converting them would discard them and there is no TDX-like "add page
 * with contents" operation to load private memory.
 */
#ifndef GMEMKIT_ABI_H
#define GMEMKIT_ABI_H

#include <stdint.h>

#define GMEM_ABI_VERSION	12	/* 4: test services gated, KVM_E* hypercall
				 * codes; 5: conv_host_ns, split/adaptive
				 * results, inplace-scatter; 6: io pool_size,
				 * persistent mode;
				 * 7: conversion queue, its counters
				 * and bench fields; 8: io FAULTS and
				 * ABANDON flags, all_io_errors;
				 * 9: io granule (2 MiB pages), conv_bytes,
				 * -ENOSPC (lazy boundary budget), platform
				 * profiles: CONVERT_LIST, CONV_F_PARTIAL,
				 * cpl.done, keep copies;
				 * 10: adaptive's batched path,
				 * boot_info.platform; 11: io
				 * adapt_stopped, touch_ios/bytes;
				 * 12: io adapt_device_ns,
				 * adapt_rate_checks */
#define GMEM_ABI_MAGIC		0x474d454bU	/* "GMEK" */

#define GMEM_ABI_PAGE_SIZE	4096ULL
#define GMEM_ABI_MAX_VCPUS	64

/* ---- guest physical layout ---------------------------------------------- */
#define GMEM_ABI_BOOT_INFO_GPA	0x1000ULL
#define GMEM_ABI_RESULTS_GPA	0x2000ULL
#define GMEM_ABI_GDT_GPA	0x3000ULL
#define GMEM_ABI_PT_GPA		0x10000ULL	/* PML4, PDPT, 4 PDs, PT0 */
#define GMEM_ABI_PT_PAGES	7
#define GMEM_ABI_VCPU_PAGE_GPA	0x20000ULL	/* + index * PAGE_SIZE */
#define GMEM_ABI_PVM_PAGE_GPA	0x60000ULL	/* + index * PAGE_SIZE */
#define GMEM_ABI_CONVQ_GPA	0xa0000ULL	/* + index * PAGE_SIZE */
#define GMEM_ABI_IMAGE_GPA	0x100000ULL	/* entry point */
#define GMEM_ABI_IMAGE_MAX	0x100000ULL	/* image + bss */
#define GMEM_ABI_STACK_GPA	0x200000ULL
#define GMEM_ABI_STACK_SIZE	0x4000ULL	/* per vCPU */
#define GMEM_ABI_HEAP_GPA	0x300000ULL
#define GMEM_ABI_HEAP_SIZE	0xd00000ULL
#define GMEM_ABI_POOL_GPA	0x1000000ULL
#define GMEM_ABI_POOL_SIZE	0x800000ULL
#define GMEM_ABI_TEST_GPA	0x1800000ULL	/* to the end of RAM */

#define GMEM_ABI_MEM_MIN	0x2000000ULL	/* 32 MiB */
#define GMEM_ABI_MEM_MAX	0xc0000000ULL	/* 3 GiB: below the MMIO hole */
#define GMEM_ABI_MEM_ALIGN	0x200000ULL	/* RAM size multiple of 2 MiB */

/* virtio-mmio device windows (no RAM behind them: KVM_EXIT_MMIO). */
#define GMEM_ABI_VIRTIO_MMIO_GPA	0xd0000000ULL	/* device 0 */
#define GMEM_ABI_VIRTIO_MMIO_SIZE	0x1000ULL
#define GMEM_ABI_VIRTIO_MMIO_NOTIFY	0x050ULL	/* QueueNotify offset */
/* Conversion queue kick: a 4-byte write (any value) signals the VMM's
 * converter through an ioeventfd; in the same uncached 2 MiB mapping as
 * the virtio-mmio window. */
#define GMEM_ABI_CONVQ_KICK_GPA		0xd0001000ULL

/* ---- I/O ports (all written with a 32-bit OUT) ---------------------------- */
#define GMEM_ABI_PORT_CONSOLE	0x500	/* value: bytes in vcpu_page.console */
#define GMEM_ABI_PORT_DOORBELL	0x501	/* value: vCPU index; mailbox holds op */
#define GMEM_ABI_PORT_DONE	0x502	/* value: GMEM_ABI_RES_PASS / _FAIL */
#define GMEM_ABI_PORT_PANIC	0x503	/* value: exception vector; see panic */

/* ---- status codes: 0 or a negative Linux errno value ---------------------- */
#define GMEM_ABI_OK		0
#define GMEM_ABI_EBUSY		16	/* unshare of pinned pages */
#define GMEM_ABI_EINVAL		22	/* unaligned, zero length, bad field */
#define GMEM_ABI_ERANGE		34	/* range outside guest RAM */
#define GMEM_ABI_ENOSYS		38	/* transport not available */
#define GMEM_ABI_EOVERFLOW	75	/* gpa + len wraps */
#define GMEM_ABI_EOPNOTSUPP	95	/* unknown op / unknown attributes */
#define GMEM_ABI_EALREADY	114	/* destructive mode: already converted */
#define GMEM_ABI_EIO		5	/* host check failed / other host error */
#define GMEM_ABI_EFAULT		14	/* host could access a private page */
#define GMEM_ABI_EACCES		13	/* host check on a private page */
#define GMEM_ABI_EMLINK		31	/* too many pins */
#define GMEM_ABI_ENOENT		2	/* unpin of an unpinned page */
#define GMEM_ABI_ENOMEM		12
#define GMEM_ABI_ENOSPC		28	/* lazy model: the region's budget of
					 * shared/private boundaries is spent
					 * (a hypercall answers -KVM_EFAULT) */
/*
 * Hypercall status codes (rax of KVM_HC_MAP_GPA_RANGE): KVM's hypercall ABI
 * (include/uapi/linux/kvm_para.h), negated, both from KVM itself and from
 * the VMM: 0, -KVM_ENOSYS, -KVM_EFAULT, -KVM_EINVAL, -KVM_EOPNOTSUPP.  One
 * gmemkit extension: -GMEM_ABI_EBUSY (16, the Linux errno) when the range
 * holds pinned pages; nothing changed and the guest retries later.
 *   -KVM_EINVAL      unaligned, zero pages, wrapping, a state the mode
 *                    refuses (destructive: already converted), not long mode
 *   -KVM_EFAULT      range outside guest RAM, or the host failed
 *   -KVM_EOPNOTSUPP  unknown attributes or exit flags
 *   -KVM_ENOSYS      unknown hypercall number
 * The doorbell keeps the errno values above.
 */
#define GMEM_ABI_KVM_ENOSYS	1000
#define GMEM_ABI_KVM_EFAULT	14
#define GMEM_ABI_KVM_EINVAL	22
#define GMEM_ABI_KVM_EOPNOTSUPP	95

/* ---- doorbell ---------------------------------------------------------- */
enum gmem_abi_op {
	GMEM_ABI_OP_NOP = 0,		/* empty round trip (exit cost) */
	GMEM_ABI_OP_SHARE = 1,		/* [gpa, gpa + len) private -> shared */
	GMEM_ABI_OP_UNSHARE = 2,	/* [gpa, gpa + len) shared -> private */
	/* Doorbell only: len entries of vcpu_page.list (at most
	 * GMEM_ABI_LIST_MAX), each a SHARE or UNSHARE of a range, done in
	 * order in one exit (an SEV-SNP page state change request).  Stops at
	 * the first error: status is that error, result the entries done. */
	GMEM_ABI_OP_CONVERT_LIST = 3,
	/* Host services (doorbell only, never conversions). */
	GMEM_ABI_OP_HOST_TIME = 16,	/* result: host CLOCK_MONOTONIC ns */
	/*
	 * Test services, 17..22: only in a run of a guest self-test that needs
	 * them (convert, badreq, smp); in every other run (io, bench, hello,
	 * hostile, ...) they get -GMEM_ABI_EOPNOTSUPP and are counted in
	 * GMEM_ABI_CNT_SERVICE_REFUSED.  PIN pins as the guest: UNPIN releases
	 * only pins the guest made (no guest pin there: -GMEM_ABI_ENOENT,
	 * counted in GMEM_ABI_CNT_UNPIN_REFUSED), never the VMM's own.
	 */
	GMEM_ABI_OP_CHECK_PATTERN = 17,	/* host view holds gmem_abi_pattern(arg) */
	GMEM_ABI_OP_CHECK_ZERO = 18,	/* host view reads all zero */
	GMEM_ABI_OP_CHECK_PRIVATE = 19,	/* every page faults in the host view;
					 * result: pages that did not fault */
	GMEM_ABI_OP_PIN = 20,		/* pin shared pages (simulated host I/O) */
	GMEM_ABI_OP_UNPIN = 21,
	GMEM_ABI_OP_COUNTER = 22,	/* result: VMM counter number arg */
};

/* Counters readable with GMEM_ABI_OP_COUNTER. */
enum gmem_abi_counter {
	GMEM_ABI_CNT_BAD_RANGE = 0,	/* outside guest RAM */
	GMEM_ABI_CNT_BAD_ALIGN,		/* unaligned or zero length */
	GMEM_ABI_CNT_BAD_OVERFLOW,	/* gpa + len wraps */
	GMEM_ABI_CNT_BAD_OP,		/* unknown op or attributes */
	GMEM_ABI_CNT_BUSY,		/* unshare refused: pinned */
	GMEM_ABI_CNT_CONV_OK,		/* conversions done */
	GMEM_ABI_CNT_DOORBELLS,		/* doorbell exits */
	GMEM_ABI_CNT_HYPERCALLS,	/* KVM_EXIT_HYPERCALL exits */
	GMEM_ABI_CNT_SERVICE_REFUSED,	/* test service asked outside its tests */
	GMEM_ABI_CNT_UNPIN_REFUSED,	/* UNPIN finding no guest pin */
	GMEM_ABI_CNT_QUEUE_REQS,	/* queue requests read (any status) */
	GMEM_ABI_CNT_QUEUE_WAKEUPS,	/* converter woken by a kick */
	GMEM_ABI_CNT_QUEUE_STOPPED,	/* queues stopped: malformed ring */
	GMEM_ABI_CNT_CONV_HOST_NS,	/* host time in gmem_share/unshare, ns,
					 * every transport */
	GMEM_ABI_CNT_QUEUE_CPU_NS,	/* converter thread CPU time, ns (read
					 * on demand; 0 without a converter) */
	GMEM_ABI_CNT_MAX
};

/* The mailbox: one per vCPU, at the start of its vCPU page.  The guest fills
 * op, gpa, len, arg, then OUTs its index to GMEM_ABI_PORT_DOORBELL; the VMM
 * reads the request once, checks it, and writes status (0 or -errno) and
 * result before the OUT returns. */
/*
 * Conversion flags (mailbox.flags, convq req.flags; SHARE and UNSHARE
 * only, 0 everywhere else):
 *   GMEM_ABI_CONV_F_PARTIAL  the host may convert only a first part of the
 *                            range: it stops at the next 2 MiB boundary
 *                            (an Arm CCA RSI_IPA_STATE_SET); the bytes
 *                            done are in mailbox.result / cpl.done and the
 *                            guest asks again for the rest.
 */
#define GMEM_ABI_CONV_F_PARTIAL	(1U << 0)
#define GMEM_ABI_PARTIAL_STEP	(2ULL << 20)

struct gmem_abi_mailbox {
	uint32_t op;			/* enum gmem_abi_op */
	uint32_t flags;			/* GMEM_ABI_CONV_F_*, else 0 */
	uint64_t gpa;
	uint64_t len;			/* bytes */
	uint64_t arg;
	int64_t status;			/* written by the VMM */
	uint64_t result;		/* written by the VMM */
};

#define GMEM_ABI_CONSOLE_MAX	2048
#define GMEM_ABI_LIST_MAX	64	/* entries of a CONVERT_LIST */

struct gmem_abi_conv_entry {
	uint32_t op;			/* GMEM_ABI_OP_SHARE / _UNSHARE */
	uint32_t pad;
	uint64_t gpa;
	uint64_t len;			/* bytes */
};

struct gmem_abi_vcpu_page {
	struct gmem_abi_mailbox mbox;
	/* Written by the VMM after every conversion request of this vCPU,
	 * through either transport: host CLOCK_MONOTONIC ns spent on it
	 * (request check and gmem conversion, not the exit itself); the guest
	 * zeroes it before a request and reads it after, so that a
	 * conversion's cost splits into exit (guest-observed total minus
	 * this) and host work. */
	uint64_t conv_host_ns;
	uint32_t console_len;		/* unused: length travels in the OUT */
	uint32_t pad;
	char console[GMEM_ABI_CONSOLE_MAX];
	struct gmem_abi_conv_entry list[GMEM_ABI_LIST_MAX];	/* CONVERT_LIST */
};

/*
 * A PVM-variant KVM host (one that runs a guest kernel at hardware CPL 3
 * and only runs it natively once the vCPU opts in) keeps per-vCPU state in
 * a page of guest RAM whose GPA the VMM hands it (vmm/pvm.c).  The host
 * writes only cr2 (the faulting address of a #PF, before delivering it
 * through the guest's IDT); the VMM zeroes the page at boot and never
 * touches it again; the guest reads cr2 from here, since `mov %cr2` is a
 * trapped instruction there.  boot_info.pvm says whether it is in use.
 */
struct gmem_abi_pvm_page {
	uint8_t if_;			/* reserved for the host */
	uint8_t pending;		/* reserved for the host */
	uint8_t pad[6];
	uint64_t cr2;			/* written by the host on a #PF */
};

/* ---- hypercall transport ---------------------------------------------- */
/* KVM_HC_MAP_GPA_RANGE (12): rax = nr, rbx = gpa, rcx = npages, rdx = attrs
 * (bit 4 set: to private / "encrypted"; clear: to shared); return in rax,
 * 0 or -errno.  vmmcall on AMD, vmcall on Intel.  A host may not deliver
 * it to the VMM at all (a PVM-variant host returns -1 in rax for every
 * number): the VMM probes for it and uses the doorbell otherwise. */
#define GMEM_ABI_HC_MAP_GPA_RANGE	12
#define GMEM_ABI_HC_ATTR_PRIVATE	(1ULL << 4)
#define GMEM_ABI_HC_ATTR_PAGE_MASK	3ULL

/* ---- conversion queue ------------------------------------------------------ */
/*
 * One ring per vCPU in its queue page (always shared, pinned by the VMM),
 * serviced by a VMM converter thread: the guest converts without a
 * userspace exit (as pKVM or Arm CCA convert in the hypervisor).
 *
 * Indices are free-running 32-bit counters; slot = index % GMEM_ABI_CONVQ_SIZE.
 *   guest: fills req[prod % SIZE] (op, flags 0, gpa, len, tag), then
 *          stores req_prod = prod + 1 (several requests may be published by
 *          one store; a full barrier: seq_cst), then reads host_flags:
 *          without GMEM_ABI_CONVQ_F_POLLING it writes 4 bytes to
 *          GMEM_ABI_CONVQ_KICK_GPA (one ioeventfd exit, no userspace round
 *          trip).  It waits for req_done to pass its index (polling: the
 *          guest has no interrupts) and reads cpl[index % SIZE]; at most
 *          SIZE requests may be outstanding (req_prod - req_done).
 *   VMM:   reads req_prod once per pass; a req_prod more than SIZE ahead of
 *          what it completed (or behind it) is a malformed ring: that
 *          vCPU's queue stops for good (GMEM_ABI_CONVQ_F_STOPPED and
 *          stop_reason set, nothing more serviced; the VM runs on).  Each
 *          request is copied once and checked like a doorbell request (same
 *          errno set); the VMM writes cpl[slot] = {tag, status} and then
 *          release-stores req_done, in order, at most SIZE per pass.  While
 *          it busy-polls it keeps GMEM_ABI_CONVQ_F_POLLING set; before it
 *          sleeps it clears the flag (a full barrier: seq_cst) and looks at
 *          req_prod once more (so a request posted in between is never
 *          missed).
 * The VMM never reads anything from this page but req_prod and req[].
 */
#define GMEM_ABI_CONVQ_MAGIC	0x51564e43U	/* "CNVQ" */
#define GMEM_ABI_CONVQ_SIZE	64U		/* entries, power of 2 */

/* host_flags */
#define GMEM_ABI_CONVQ_F_POLLING	(1U << 0)	/* no kick needed */
#define GMEM_ABI_CONVQ_F_STOPPED	(1U << 1)	/* malformed: stopped */

/* stop_reason */
enum gmem_abi_convq_stop {
	GMEM_ABI_CONVQ_STOP_NONE = 0,
	GMEM_ABI_CONVQ_STOP_INDEX = 1,	/* req_prod out of [done, done + SIZE] */
};

struct gmem_abi_convq_req {
	uint32_t op;			/* GMEM_ABI_OP_SHARE / _UNSHARE */
	uint32_t flags;			/* GMEM_ABI_CONV_F_*, else 0 */
	uint64_t gpa;
	uint64_t len;			/* bytes */
	uint64_t tag;			/* echoed in the completion */
};

struct gmem_abi_convq_cpl {
	uint64_t tag;
	int64_t status;			/* 0 or -errno */
	uint64_t done;			/* bytes converted (PARTIAL: maybe fewer) */
};

struct gmem_abi_convq {
	/* written by the VMM at boot */
	uint32_t magic;			/* GMEM_ABI_CONVQ_MAGIC */
	uint32_t size;			/* GMEM_ABI_CONVQ_SIZE */
	uint32_t pad0[14];
	/* written by the guest (own cache line) */
	uint32_t req_prod;
	uint32_t pad1[15];
	/* written by the VMM (own cache line) */
	uint32_t req_done;
	uint32_t host_flags;		/* GMEM_ABI_CONVQ_F_* */
	uint32_t stop_reason;		/* enum gmem_abi_convq_stop */
	uint32_t stop_index;		/* the req_prod that stopped it */
	uint32_t pad2[12];
	struct gmem_abi_convq_req req[GMEM_ABI_CONVQ_SIZE];
	struct gmem_abi_convq_cpl cpl[GMEM_ABI_CONVQ_SIZE];
};

/* ---- boot info ------------------------------------------------------------ */
/*
 * The guest -> VMM conversion transports, the one list: X(ID, value,
 * "name"), value in the ABI (boot_info.transport), 1 up without a gap.
 * enum gmem_abi_transport, gmem_abi_transport_name() and the VMM's enum
 * vmm_transport (gmemkit/vm.h: these values, and auto) derive from it.
 */
#define GMEM_ABI_TRANSPORTS(X)						\
	X(DOORBELL, 1, "doorbell")	/* port write: a userspace exit */	\
	X(HYPERCALL, 2, "hypercall")	/* KVM_HC_MAP_GPA_RANGE's exit */	\
	X(QUEUE, 3, "queue")		/* ring + converter thread */

enum gmem_abi_transport {
#define GMEM_ABI_TRANSPORT_ENUM(id, value, name)	GMEM_ABI_TRANSPORT_##id = (value),
	GMEM_ABI_TRANSPORTS(GMEM_ABI_TRANSPORT_ENUM)
#undef GMEM_ABI_TRANSPORT_ENUM
	GMEM_ABI_TRANSPORT_MAX
};

/* An initializer's entry of a table of the names by value. */
#define GMEM_ABI_TRANSPORT_NAME_AT(id, value, name)	[value] = (name),

/* "doorbell", "hypercall", "queue", or "?" for an unknown value. */
static inline const char *gmem_abi_transport_name(uint32_t t)
{
	static const char *const names[GMEM_ABI_TRANSPORT_MAX] = {
		GMEM_ABI_TRANSPORTS(GMEM_ABI_TRANSPORT_NAME_AT)
	};

	return t < GMEM_ABI_TRANSPORT_MAX && names[t] ? names[t] : "?";
}

enum gmem_abi_vendor {
	GMEM_ABI_VENDOR_INTEL = 1,	/* vmcall */
	GMEM_ABI_VENDOR_AMD = 2,	/* vmmcall */
};

enum gmem_abi_mode {
	GMEM_ABI_MODE_INPLACE = 0,
	GMEM_ABI_MODE_DESTRUCTIVE = 1,
};

/*
 * The guest self-tests, one list: X(NAME, name, what it does).  From it
 * come enum gmem_abi_test (GMEM_ABI_TEST_NAME, numbered from 1 in this
 * order), the guest's test_name(unsigned int cpu) prototypes and dispatch
 * table (guest/guest.h, guest/main.c) and the VMM's names for --test
 * (vmm/vm.c).  The numbers are ABI: a new test goes last.
 */
#define GMEM_ABI_TESTS(X)						\
	X(HELLO, hello, "boot, console, clock")				\
	X(CONVERT, convert, "share, host sees, unshare, host can't")	\
	X(BADREQ, badreq, "every bad request class")			\
	X(SMP, smp, "concurrent conversions, disjoint")			\
	X(BENCH, bench, "guest-observed latencies")			\
	X(PROBE, probe, "one hypercall conversion")			\
	X(FAULT, fault, "ud2: exception report")			\
	X(TRIPLE, triple, "triple fault")				\
	X(HANG, hang, "spins forever: watchdog")			\
	X(MMIO, mmio, "accesses the virtio-mmio window")		\
	X(IO, io, "virtio-blk workload: boot_info.io (guest/io.c)")	\
	X(HOSTILE, hostile, "tries to steal the VMM's pins")		\
	X(INTN, intn, "int $0x40: no gate there (#GP), or a KVM "	\
		      "internal error on a PVM host")

#define GMEM_ABI_TEST_ENUM(NAME, name, what)	GMEM_ABI_TEST_##NAME,

enum gmem_abi_test {
	GMEM_ABI_TEST_NONE,	/* 0: no test (vmm_config.test: hello) */
	GMEM_ABI_TESTS(GMEM_ABI_TEST_ENUM)
	GMEM_ABI_TEST_MAX
};

/* The list only grows at its end: the numbers already given stay. */
_Static_assert(GMEM_ABI_TEST_HELLO == 1 && GMEM_ABI_TEST_INTN == 13,
	       "guest self-test numbers are ABI: append new tests");

/* ---- I/O workload (GMEM_ABI_TEST_IO) -------------------------------------- */
/* Its configuration (boot_info.io), test-area layout and results
 * (results.io): the io-bench part of the ABI, in its own header. */
#include "gmemkit/io_layout.h"

struct gmem_abi_boot_info {
	uint32_t magic;			/* GMEM_ABI_MAGIC */
	uint32_t version;		/* GMEM_ABI_VERSION */
	uint32_t nr_vcpus;
	uint32_t test;			/* enum gmem_abi_test */
	uint32_t transport;		/* enum gmem_abi_transport */
	uint32_t vendor;		/* enum gmem_abi_vendor */
	uint32_t mode;			/* enum gmem_abi_mode */
	uint32_t bench_reps;		/* samples per bench series */
	uint64_t mem_size;
	uint64_t test_gpa, test_size;	/* free private RAM for tests */
	uint64_t pool_gpa, pool_size;	/* always-shared pool */
	uint64_t host_tsc_khz;		/* KVM_GET_TSC_KHZ, 0 if unknown */
	struct gmem_abi_io_config io;	/* GMEM_ABI_TEST_IO */
	uint32_t pvm;			/* 1: PVM page at GMEM_ABI_PVM_PAGE_GPA */
	uint32_t platform;		/* enum plat (gmemkit/platform.h): the
					 * calls the self-tests' conversions
					 * (__share/__unshare) become; 0: ideal,
					 * one request.  The io test follows
					 * io.platform instead */
};

/* ---- results page ------------------------------------------------------- */
enum gmem_abi_res {
	GMEM_ABI_RES_RUNNING = 0,
	GMEM_ABI_RES_PASS = 1,
	GMEM_ABI_RES_FAIL = 2,
};

enum gmem_abi_bench_op {
	GMEM_ABI_BENCH_ROUNDTRIP = 1,	/* share + unshare, guest observed */
	GMEM_ABI_BENCH_EXIT = 2,	/* empty doorbell round trip */
	GMEM_ABI_BENCH_KICK = 3,	/* queue: one kick write (ioeventfd exit) */
};

struct gmem_abi_bench {
	uint32_t op;			/* enum gmem_abi_bench_op */
	uint32_t transport;		/* enum gmem_abi_transport */
	uint64_t pages;
	uint64_t samples;
	uint64_t ns_min, ns_median, ns_max;
	/* Over the timed samples (VMM counters read before and after the
	 * series, outside the timing): conversions done, host time in them,
	 * converter CPU time, queue kicks the guest made, wall time. */
	uint64_t conversions, host_ns, conv_cpu_ns, kicks, wall_ns;
};

/* results.flags */
/* The guest read its CS with RPL 3 (hardware CPL 3: a PVM-style host). */
#define GMEM_ABI_RESF_CPL3	(1U << 0)

/*
 * Where the guest ran, measured: at boot vCPU 0 times GMEM_ABI_SPEED_ITERS
 * iterations of gmem_abi_speed_loop() with the TSC (best of
 * GMEM_ABI_SPEED_REPS) and stores TSC cycles per 1000 iterations in
 * results.speed_mcycles.  The VMM times the same loop on the host and
 * classifies the run (vmm/vm.c: vmm_speed_class()).
 */
#define GMEM_ABI_SPEED_ITERS	20000ULL
#define GMEM_ABI_SPEED_REPS	5

/* A dependent chain of integer adds: about one cycle per iteration on any
 * out-of-order x86, thousands when every instruction is emulated. */
static inline uint64_t gmem_abi_speed_loop(uint64_t iters)
{
	uint64_t x = 0, i = iters;

	__asm__ volatile("1:\n\t"
			 "add $3, %0\n\t"
			 "dec %1\n\t"
			 "jnz 1b"
			 : "+r"(x), "+r"(i) : : "cc");
	return x;
}

static inline uint64_t gmem_abi_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* TSC cycles per 1000 iterations of the speed loop, best of reps. */
static inline uint64_t gmem_abi_speed_measure(unsigned int reps)
{
	uint64_t best = ~0ULL;
	unsigned int r;

	for (r = 0; r < reps; r++) {
		uint64_t t0 = gmem_abi_rdtsc(), t;

		gmem_abi_speed_loop(GMEM_ABI_SPEED_ITERS);
		t = gmem_abi_rdtsc() - t0;
		if (t < best)
			best = t;
	}
	return best * 1000 / GMEM_ABI_SPEED_ITERS;
}

#define GMEM_ABI_MAX_BENCH	16
#define GMEM_ABI_MSG_MAX	256

struct gmem_abi_results {
	uint32_t magic;			/* GMEM_ABI_MAGIC once the guest started */
	uint32_t status;		/* enum gmem_abi_res, overall */
	uint32_t checks;		/* assertions evaluated */
	uint32_t failures;		/* assertions failed */
	uint64_t tsc_khz;		/* guest calibration against host time */
	uint32_t vcpu_status[GMEM_ABI_MAX_VCPUS];	/* enum gmem_abi_res */
	uint32_t nr_bench;
	uint32_t flags;			/* GMEM_ABI_RESF_* */
	uint64_t speed_mcycles;		/* TSC cycles per 1000 loop iterations */
	struct gmem_abi_bench bench[GMEM_ABI_MAX_BENCH];
	char fail_msg[GMEM_ABI_MSG_MAX];	/* first failure, NUL terminated */
	struct gmem_abi_io_results io;	/* GMEM_ABI_TEST_IO */
};

/* Panic report: GMEM_ABI_PORT_PANIC with the vector; details in the
 * reporting vCPU's console buffer as text. */

/* ---- test pattern --------------------------------------------------------- */
/* The 64-bit word the tests store at guest physical address gpa (8-byte
 * aligned) for a given seed; both sides compute it. */
static inline uint64_t gmem_abi_pattern(uint64_t seed, uint64_t gpa)
{
	uint64_t x = (gpa ^ seed) * 0x9e3779b97f4a7c15ULL;

	return x ^ (x >> 29) ^ seed;
}

/* Layout sanity, checked at compile time on both sides. */
_Static_assert(sizeof(struct gmem_abi_vcpu_page) <= GMEM_ABI_PAGE_SIZE,
	       "vcpu page fits a page");
_Static_assert(sizeof(struct gmem_abi_results) <= GMEM_ABI_PAGE_SIZE,
	       "results fit a page");
_Static_assert(sizeof(struct gmem_abi_boot_info) <= GMEM_ABI_PAGE_SIZE,
	       "boot info fits a page");
_Static_assert(GMEM_ABI_VCPU_PAGE_GPA + GMEM_ABI_MAX_VCPUS * GMEM_ABI_PAGE_SIZE
	       <= GMEM_ABI_IMAGE_GPA, "vcpu pages below the image");
_Static_assert(GMEM_ABI_PVM_PAGE_GPA >= GMEM_ABI_VCPU_PAGE_GPA +
	       GMEM_ABI_MAX_VCPUS * GMEM_ABI_PAGE_SIZE &&
	       GMEM_ABI_PVM_PAGE_GPA + GMEM_ABI_MAX_VCPUS * GMEM_ABI_PAGE_SIZE
	       <= GMEM_ABI_IMAGE_GPA, "PVM pages between vcpu pages and image");
_Static_assert(sizeof(struct gmem_abi_convq) <= GMEM_ABI_PAGE_SIZE,
	       "conversion queue fits a page");
_Static_assert((GMEM_ABI_CONVQ_SIZE & (GMEM_ABI_CONVQ_SIZE - 1)) == 0,
	       "queue size a power of 2");
_Static_assert(GMEM_ABI_CONVQ_GPA >= GMEM_ABI_PVM_PAGE_GPA +
	       GMEM_ABI_MAX_VCPUS * GMEM_ABI_PAGE_SIZE &&
	       GMEM_ABI_CONVQ_GPA + GMEM_ABI_MAX_VCPUS * GMEM_ABI_PAGE_SIZE
	       <= GMEM_ABI_IMAGE_GPA, "queue pages between PVM pages and image");
_Static_assert(GMEM_ABI_STACK_GPA + GMEM_ABI_MAX_VCPUS * GMEM_ABI_STACK_SIZE
	       <= GMEM_ABI_HEAP_GPA, "stacks below the heap");
_Static_assert(GMEM_ABI_HEAP_GPA + GMEM_ABI_HEAP_SIZE <= GMEM_ABI_POOL_GPA,
	       "heap below the pool");
_Static_assert(GMEM_ABI_POOL_GPA + GMEM_ABI_POOL_SIZE <= GMEM_ABI_TEST_GPA,
	       "pool below the test area");
_Static_assert(GMEM_ABI_TEST_GPA < GMEM_ABI_MEM_MIN, "test area not empty");

#endif /* GMEMKIT_ABI_H */
