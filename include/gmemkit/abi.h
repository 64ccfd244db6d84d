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
 *                                     request headers; see guest/vblk.h)
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

#define GMEM_ABI_VERSION	7	/* 4: test services gated, KVM_E* hypercall
				 * codes; 5: conv_host_ns, split/adaptive
				 * results, inplace-scatter; 6: io pool_size,
				 * persistent mode;
				 * 7: conversion queue, its counters
				 * and bench fields */
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
struct gmem_abi_mailbox {
	uint32_t op;			/* enum gmem_abi_op */
	uint32_t flags;			/* must be 0 */
	uint64_t gpa;
	uint64_t len;			/* bytes */
	uint64_t arg;
	int64_t status;			/* written by the VMM */
	uint64_t result;		/* written by the VMM */
};

#define GMEM_ABI_CONSOLE_MAX	3072

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
	uint32_t flags;			/* must be 0 */
	uint64_t gpa;
	uint64_t len;			/* bytes */
	uint64_t tag;			/* echoed in the completion */
};

struct gmem_abi_convq_cpl {
	uint64_t tag;
	int64_t status;			/* 0 or -errno */
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
enum gmem_abi_transport {
	GMEM_ABI_TRANSPORT_DOORBELL = 1,
	GMEM_ABI_TRANSPORT_HYPERCALL = 2,
	GMEM_ABI_TRANSPORT_QUEUE = 3,
};

enum gmem_abi_vendor {
	GMEM_ABI_VENDOR_INTEL = 1,	/* vmcall */
	GMEM_ABI_VENDOR_AMD = 2,	/* vmmcall */
};

enum gmem_abi_mode {
	GMEM_ABI_MODE_INPLACE = 0,
	GMEM_ABI_MODE_DESTRUCTIVE = 1,
};

enum gmem_abi_test {
	GMEM_ABI_TEST_HELLO = 1,	/* boot, console, clock */
	GMEM_ABI_TEST_CONVERT,		/* share, host sees, unshare, host can't */
	GMEM_ABI_TEST_BADREQ,		/* every bad request class */
	GMEM_ABI_TEST_SMP,		/* concurrent conversions, disjoint */
	GMEM_ABI_TEST_BENCH,		/* guest-observed latencies */
	GMEM_ABI_TEST_PROBE,		/* one hypercall conversion */
	GMEM_ABI_TEST_FAULT,		/* ud2: exception report */
	GMEM_ABI_TEST_TRIPLE,		/* triple fault */
	GMEM_ABI_TEST_HANG,		/* spins forever: watchdog */
	GMEM_ABI_TEST_MMIO,		/* accesses the virtio-mmio window */
	GMEM_ABI_TEST_IO,		/* virtio-blk workload: boot_info.io */
	GMEM_ABI_TEST_HOSTILE,		/* tries to steal the VMM's pins */
	GMEM_ABI_TEST_INTN,		/* int $0x40: no gate there (#GP), or a
					 * KVM internal error on a PVM host */
	GMEM_ABI_TEST_MAX
};

/* ---- I/O workload (GMEM_ABI_TEST_IO) -------------------------------------- */
enum gmem_abi_io_mode {
	GMEM_ABI_IO_SHARED = 1,		/* buffers in always-shared memory */
	GMEM_ABI_IO_BOUNCE,		/* copy through the bounce pool */
	GMEM_ABI_IO_INPLACE,		/* share, I/O, unshare per request */
	GMEM_ABI_IO_INPLACE_BATCH,	/* one share/unshare per batch */
	GMEM_ABI_IO_ADAPTIVE,		/* bounce below a measured threshold */
	GMEM_ABI_IO_MIXED,		/* stress: each request shared, bounce or
					 * inplace at random, some inplace-batch */
	GMEM_ABI_IO_INPLACE_SCATTER,	/* batches whose buffers lie in pieces at
					 * random pages: one share/unshare per
					 * contiguous run */
	GMEM_ABI_IO_PERSISTENT,		/* copy through per-slot buffers shared
					 * once (persistent grants style) */
	GMEM_ABI_IO_MODE_MAX
};

enum gmem_abi_io_rw {
	GMEM_ABI_IO_READ = 1,
	GMEM_ABI_IO_WRITE,
	GMEM_ABI_IO_RANDREAD,
	GMEM_ABI_IO_RANDWRITE,
	GMEM_ABI_IO_RANDRW,		/* 50% reads */
	GMEM_ABI_IO_RW_MAX
};

/* io.flags */
#define GMEM_ABI_IOF_VERIFY	(1U << 0)	/* prefill, stamp writes, check reads */
#define GMEM_ABI_IOF_BAD_DESC	(1U << 1)	/* test: malformed requests first */
#define GMEM_ABI_IOF_UNSHARE_BUSY (1U << 2)	/* test: unshare during own I/O */
/* stress (MIXED mode only): between requests each vCPU shares/unshares
 * random pages of its churn scratch area and sometimes unshares the buffer
 * of one of its in-place requests the device holds (-EBUSY expected). */
#define GMEM_ABI_IOF_CHURN	(1U << 3)
/* test: while the device holds a read, UNPIN its buffer (refused: no
 * test services in an I/O run) and unshare it (-EBUSY, the pin holds) */
#define GMEM_ABI_IOF_STEAL_PIN	(1U << 4)
#define GMEM_ABI_IOF_ALL	31U
#define GMEM_ABI_IO_CHURN_PAGES	64	/* scratch pages per vCPU */

#define GMEM_ABI_IO_MAX_QD	64
#define GMEM_ABI_IO_MAX_VCPUS	8
#define GMEM_ABI_IO_MIN_BS	4096ULL
#define GMEM_ABI_IO_MAX_BS	(1ULL << 20)

/* Written by the VMM into boot_info.io for GMEM_ABI_TEST_IO. */
struct gmem_abi_io_config {
	uint32_t mode;			/* enum gmem_abi_io_mode */
	uint32_t rw;			/* enum gmem_abi_io_rw */
	uint32_t flags;			/* GMEM_ABI_IOF_* */
	uint32_t qd;			/* requests in flight per vCPU */
	uint64_t bs;			/* bytes, power of 2, 4 KiB..1 MiB */
	uint64_t runtime_ns;		/* timed run; 0: ios per vCPU */
	uint64_t ios;			/* I/Os per vCPU when runtime_ns is 0 */
	uint64_t seed;			/* random offsets */
	uint64_t delay_ms;		/* UNSHARE_BUSY: wait before unsharing */
	uint64_t span;			/* blocks per vCPU touched; 0: default */
	uint64_t pool_size;		/* bounce pool bytes (BOUNCE, ADAPTIVE,
					 * MIXED): see gmem_abi_io_pool_ok() */
	uint64_t persist_size;		/* PERSISTENT: bytes per buffer, a power
					 * of 2 >= bs, <= GMEM_ABI_IO_MAX_BS */
};

/*
 * Test-area layout of an I/O run, computed by both sides from the
 * gmem_abi_io_config: vCPU v's private buffers at GMEM_ABI_TEST_GPA +
 * v * qd * bs (qd * bs contiguous bytes), then, 2 MiB aligned, the run's
 * second shared area, shared once by the guest at start: the shared-mode
 * buffers (same layout), the bounce pool (bounce and adaptive modes;
 * pool_size bytes, one area per vCPU) or the persistent buffers
 * (persistent mode: qd buffers of persist_size bytes per vCPU, vCPU v's
 * at v * qd * persist_size).  MIXED mode has both: the bounce pool first,
 * then the shared buffers; after that, 2 MiB aligned, the churn scratch
 * (GMEM_ABI_IO_CHURN_PAGES private pages per vCPU).  Last, 2 MiB aligned,
 * the bounce pool's metadata (private; modes with a pool only).
 *
 * The bounce pool defaults to Linux's swiotlb default, 64 MiB
 * (IO_TLB_DEFAULT_SIZE); SEV/TDX guests size theirs to 6% of RAM clamped
 * to [64 MiB, 1 GiB] (mem_encrypt_setup_arch()), so any size in
 * [gmem_abi_io_pool_min(), 1 GiB] that is a multiple of the area unit is
 * accepted.  Requests that do not fit wait for completions (bounce_full).
 */
#define GMEM_ABI_IO_BOUNCE_SEG	(256ULL << 10)
#define GMEM_ABI_IO_POOL_DEFAULT (64ULL << 20)	/* IO_TLB_DEFAULT_SIZE */
#define GMEM_ABI_IO_POOL_MAX	(1ULL << 30)	/* the CoCo clamp */

static inline uint64_t gmem_abi_io_areas(uint32_t vcpus)
{
	uint64_t a = 1;

	while (a < vcpus)
		a <<= 1;
	return a;
}

/* Pool sizes are multiples of one segment per area. */
static inline uint64_t gmem_abi_io_pool_unit(uint32_t vcpus)
{
	return GMEM_ABI_IO_BOUNCE_SEG * gmem_abi_io_areas(vcpus);
}

/* Smallest pool: one request in flight per vCPU plus two units. */
static inline uint64_t gmem_abi_io_pool_min(uint64_t bs, uint32_t vcpus)
{
	uint64_t unit = gmem_abi_io_pool_unit(vcpus);
	uint64_t need = bs * vcpus + 2 * unit;

	return (need + unit - 1) / unit * unit;
}

/* Whether pool_size is one the run accepts for bs and vcpus. */
static inline int gmem_abi_io_pool_ok(uint64_t pool_size, uint64_t bs, uint32_t vcpus)
{
	return pool_size >= gmem_abi_io_pool_min(bs, vcpus) &&
	       pool_size <= GMEM_ABI_IO_POOL_MAX &&
	       !(pool_size % gmem_abi_io_pool_unit(vcpus));
}

/* Bytes of every vCPU's private (or shared-mode) buffers. */
static inline uint64_t gmem_abi_io_bufs_size(const struct gmem_abi_io_config *io,
					     uint32_t vcpus)
{
	return io->bs * io->qd * vcpus;
}

static inline uint64_t gmem_abi_io_shared_gpa(const struct gmem_abi_io_config *io,
					      uint32_t vcpus)
{
	uint64_t end = GMEM_ABI_TEST_GPA + gmem_abi_io_bufs_size(io, vcpus);

	return (end + 0x1fffffULL) & ~0x1fffffULL;
}

/* The persistent buffers: qd per vCPU, persist_size bytes each. */
static inline uint64_t gmem_abi_io_persist_pool(const struct gmem_abi_io_config *io,
						uint32_t vcpus)
{
	return io->persist_size * io->qd * vcpus;
}

static inline uint64_t gmem_abi_io_shared_size(const struct gmem_abi_io_config *io,
					       uint32_t vcpus)
{
	switch (io->mode) {
	case GMEM_ABI_IO_SHARED:
		return gmem_abi_io_bufs_size(io, vcpus);
	case GMEM_ABI_IO_BOUNCE:
	case GMEM_ABI_IO_ADAPTIVE:
		return io->pool_size;
	case GMEM_ABI_IO_MIXED:
		return io->pool_size + gmem_abi_io_bufs_size(io, vcpus);
	case GMEM_ABI_IO_PERSISTENT:
		return gmem_abi_io_persist_pool(io, vcpus);
	default:
		return 0;
	}
}

/* MIXED mode: the churn scratch, after the shared area. */
static inline uint64_t gmem_abi_io_churn_gpa(const struct gmem_abi_io_config *io,
					     uint32_t vcpus)
{
	uint64_t end = gmem_abi_io_shared_gpa(io, vcpus) +
		       gmem_abi_io_shared_size(io, vcpus);

	return (end + 0x1fffffULL) & ~0x1fffffULL;
}

/*
 * INPLACE_SCATTER: the data of a batch lies in pieces of
 * gmem_abi_io_scatter_piece(bs) bytes at random piece-aligned places of a
 * per-vCPU area twice the size of the vCPU's buffers (2 * qd * bs), after
 * the private buffers (the mode has no shared area).
 */
#define GMEM_ABI_IO_SCATTER_PIECES	16	/* most pieces per request */

static inline uint64_t gmem_abi_io_scatter_piece(uint64_t bs)
{
	uint64_t p = bs / GMEM_ABI_IO_SCATTER_PIECES;

	return p < GMEM_ABI_PAGE_SIZE ? GMEM_ABI_PAGE_SIZE : p;
}

static inline uint64_t gmem_abi_io_scatter_gpa(const struct gmem_abi_io_config *io,
					       uint32_t vcpus)
{
	return gmem_abi_io_shared_gpa(io, vcpus);
}

static inline uint64_t gmem_abi_io_scatter_size(const struct gmem_abi_io_config *io)
{
	return 2 * io->bs * io->qd;		/* per vCPU */
}

static inline int gmem_abi_io_has_pool(uint32_t mode)
{
	return mode == GMEM_ABI_IO_BOUNCE || mode == GMEM_ABI_IO_ADAPTIVE ||
	       mode == GMEM_ABI_IO_MIXED;
}

/* The bounce pool's metadata (private, like swiotlb's): after the shared
 * area (MIXED: after the churn scratch), 2 MiB aligned.  Room for
 * bounce_meta_size() of any valid pool: 24 bytes per 2 KiB slot plus
 * per-area and per-segment words, under pool_size / 64 + 64 KiB. */
static inline uint64_t gmem_abi_io_meta_gpa(const struct gmem_abi_io_config *io,
					    uint32_t vcpus)
{
	uint64_t end = gmem_abi_io_shared_gpa(io, vcpus) +
		       gmem_abi_io_shared_size(io, vcpus);

	if (io->mode == GMEM_ABI_IO_MIXED)
		end = gmem_abi_io_churn_gpa(io, vcpus) +
		      GMEM_ABI_IO_CHURN_PAGES * GMEM_ABI_PAGE_SIZE * vcpus;
	return (end + 0x1fffffULL) & ~0x1fffffULL;
}

static inline uint64_t gmem_abi_io_meta_size(const struct gmem_abi_io_config *io)
{
	return gmem_abi_io_has_pool(io->mode) ? io->pool_size / 64 + (64ULL << 10) : 0;
}

/* Guest RAM an I/O run needs (a multiple of 2 MiB, at least 64 MiB). */
static inline uint64_t gmem_abi_io_mem_size(const struct gmem_abi_io_config *io,
					    uint32_t vcpus)
{
	uint64_t end = gmem_abi_io_meta_gpa(io, vcpus) + gmem_abi_io_meta_size(io) +
		       0x200000ULL;

	if (io->mode == GMEM_ABI_IO_INPLACE_SCATTER)
		end = gmem_abi_io_scatter_gpa(io, vcpus) +
		      gmem_abi_io_scatter_size(io) * vcpus + 0x200000ULL;
	end = (end + 0x1fffffULL) & ~0x1fffffULL;
	return end < (64ULL << 20) ? (64ULL << 20) : end;
}

/* Filled by the guest (vCPU 0, summed over vCPUs) into results.io. */
struct gmem_abi_io_results {
	uint64_t ios, bytes;		/* completed I/Os of the measured run */
	uint64_t elapsed_ns;		/* first submit to last completion */
	uint64_t lat_min_ns, lat_p50_ns, lat_p99_ns, lat_p999_ns, lat_max_ns;
	uint64_t kicks;			/* QueueNotify writes (ioeventfd exits) */
	uint64_t kick_ns;		/* guest time in the kicks */
	uint64_t conv_calls;		/* share/unshare requests (exits) */
	uint64_t conv_ns;		/* guest time in them (exit + host work) */
	uint64_t conv_host_ns;		/* of which the VMM's work on them
					 * (vcpu_page.conv_host_ns, each at most
					 * its call's guest-observed time) */
	uint64_t vcpu_ns;		/* sum over vCPUs of their measured run
					 * time: what the split divides */
	uint64_t conv_refused;		/* -EBUSY answers */
	uint64_t copy_bytes, copy_ns;	/* bounce copies */
	uint64_t bounce_full;		/* bounce_map -ENOSPC (waited) */
	uint64_t io_errors;		/* status other than OK */
	uint64_t verified;		/* sectors checked */
	uint64_t verify_errors;		/* sectors that did not match */
	uint64_t prefill_ios;		/* VERIFY: writes before the run */
	/* adaptive: the run's smoothed protection cost per I/O of each
	 * path (vCPU 0's, ns; 0 if never measured), re-probes of the path
	 * not chosen, and changes of the chosen path */
	uint64_t adapt_bounce_ns, adapt_inplace_ns;
	uint64_t adapt_probes, adapt_switches;
	uint64_t batches;		/* inplace-batch / inplace-scatter */
	uint64_t scatter_pieces;	/* inplace-scatter: pieces of data ... */
	uint64_t scatter_runs;		/* ... and contiguous runs converted */
	uint64_t bounced, inplaced;	/* requests by path */
	uint64_t bad_sent, bad_ioerr;	/* BAD_DESC: requests, IOERR answers */
	int64_t busy_status;		/* UNSHARE_BUSY: the refused unshare */
	int64_t busy_after;		/* UNSHARE_BUSY: unshare after completion */
	int64_t steal_status;		/* STEAL_PIN: the UNPIN of the held buffer */
	uint64_t capacity;		/* device sectors seen by the driver */
	uint32_t queue_size;		/* descriptors in the virtqueue */
	uint32_t done;			/* 1 once filled */
	/* Every request of the run (prefill, measured, read-back, bad and
	 * busy tests): submitted, completed, and completions for a request
	 * not in flight (a duplicate) or unknown to the driver. */
	uint64_t all_submitted, all_completed, dup_completions;
	uint64_t mixed_shared;		/* MIXED: requests on the shared path */
	uint64_t mixed_batches;		/* MIXED: inplace-batch batches */
	uint64_t ebusy_total;		/* every -EBUSY the guest was answered */
	uint64_t churn_conv;		/* CHURN: scratch conversions done */
	uint64_t churn_errors;		/* CHURN: failed, or content changed */
	uint64_t inflight_tries;	/* CHURN: unshares of a held buffer */
	uint64_t inflight_refused;	/* ... answered -EBUSY */
	uint64_t inflight_won;		/* ... answered 0 (device had just
					 * unpinned: harmless, counted) */
	uint64_t conv_kicks;		/* queue transport: kicks (ioeventfd
					 * exits) of the measured run */
};

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
	uint32_t pad0;
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
 * classifies the run (vmm/vm.c: gmem_vm_speed_class()).
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
