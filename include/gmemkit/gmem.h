/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gmem: guest memory with per-page private/shared state and in-place
 * conversion.
 *
 * A region is one file (guest_memfd, memfd, or a hugetlb memfd of 2 MiB
 * pages) mapped twice with MAP_SHARED:
 *
 *  - the memslot mapping, handed to KVM as the memslot's userspace address.
 *    It is always read-write and VMM code never touches it (KVM faults guest
 *    memory through it; PROT_NONE there makes KVM_RUN fail);
 *  - the host view, the only mapping the VMM and its devices use.  A host
 *    access to a private page there faults (a protection violation: below).
 *
 * Two conversion models decide how the host view keeps private pages out:
 *
 *  - lazy (GMEM_MODEL_LAZY, any backing; the only one guest_memfd allows):
 *    private pages are PROT_NONE, shared pages read-write.  To-private zaps
 *    the run and mprotect()s it PROT_NONE; to-shared mprotect()s it
 *    read-write and the host's first touch of each page faults it in, as
 *    upstream guest_memfd maps a re-shared page on first touch.  Each
 *    shared/private boundary splits the mapping (one more VMA), so a region
 *    has a budget of boundaries (GMEM_LAZY_MAX_BOUNDARIES, and a process-wide
 *    one): a conversion that would exceed it is refused with -ENOSPC before
 *    anything changes, so no guest can exhaust the process's mappings.
 *  - eager (GMEM_MODEL_EAGER, memfd and hugetlb backings): one mapping for
 *    the region's life, registered with userfaultfd in minor + missing mode
 *    with UFFD_FEATURE_SIGBUS: a private page is simply not mapped, a host
 *    access to it is a SIGBUS (BUS_ADRERR) and a kernel access on the
 *    host's behalf (read(), io_uring, O_DIRECT) fails with -EFAULT - the
 *    semantics upstream in-place guest_memfd gives a private folio.
 *    To-private zaps the run (MADV_DONTNEED); to-shared maps the whole run
 *    in one UFFDIO_CONTINUE, so the host takes no fault on it afterwards.
 *    No VMA is ever split.  On the hugetlb backing the conversion granule is
 *    GMEM_HUGE_PAGE_SIZE (gmem_granule()).
 *
 * Conversions are range based (one change per contiguous run of pages that
 * change state) and come in two modes: in place (contents kept, pKVM / Arm
 * CCA style) and destructive (contents discarded with FALLOC_FL_PUNCH_HOLE,
 * TDX / SEV-SNP style).  In destructive mode the host's mapping is changed
 * first and the contents discarded last: a refused conversion keeps them.
 *
 * All offsets and lengths are bytes from the start of the region and must be
 * multiples of GMEM_PAGE_SIZE (conversions: of gmem_granule()).  Every
 * function that returns int returns 0 on success or a negative errno; on
 * error nothing has changed.  Common errors:
 *
 *   -EINVAL     offset or length not aligned, length 0, unknown flags
 *   -ERANGE     the range ends beyond the region
 *   -EOVERFLOW  offset + length wraps around
 *
 * All functions are safe to call concurrently from several threads on the
 * same region.  Conversions of one region are serialised; pin, unpin and the
 * queries are lock free.
 */
#ifndef GMEMKIT_GMEM_H
#define GMEMKIT_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_PAGE_SHIFT		12
#define GMEM_PAGE_SIZE		(1UL << GMEM_PAGE_SHIFT)
#define GMEM_HUGE_PAGE_SHIFT	21
#define GMEM_HUGE_PAGE_SIZE	(1UL << GMEM_HUGE_PAGE_SHIFT)

struct gmem;

enum gmem_backing {
	GMEM_BACKING_AUTO = 0,		/* guest_memfd with mmap, else memfd */
	GMEM_BACKING_GUEST_MEMFD,	/* guest_memfd only (needs vm_fd) */
	GMEM_BACKING_MEMFD,		/* memfd only */
	GMEM_BACKING_HUGETLB,		/* memfd of 2 MiB hugetlb pages (needs
					 * reserved pages: vm.nr_hugepages) */
};

enum gmem_model {
	GMEM_MODEL_LAZY = 0,		/* mprotect of the host view; the
					 * host's first touch maps a page */
	GMEM_MODEL_EAGER,		/* one mapping, userfaultfd: zap at
					 * to-private, map the run at to-shared */
};

enum gmem_mode {
	GMEM_MODE_INPLACE = 0,		/* contents kept across conversion */
	GMEM_MODE_DESTRUCTIVE,		/* contents discarded on conversion */
};

enum gmem_state {
	GMEM_PRIVATE = 0,
	GMEM_SHARED = 1,
};

/* gmem_config.flags */
#define GMEM_F_INIT_SHARED	(1U << 0)	/* every page starts shared */
#define GMEM_F_ALL		GMEM_F_INIT_SHARED

/* Conversion flags (gmem_convert()). */
#define GMEM_CONV_STRICT	(1U << 0)	/* every page must change state */
#define GMEM_CONV_ALL		GMEM_CONV_STRICT

struct gmem_config {
	uint64_t size;			/* bytes, multiple of GMEM_PAGE_SIZE */
	int vm_fd;			/* KVM VM fd for guest_memfd, or -1 */
	enum gmem_backing backing;
	enum gmem_mode mode;
	enum gmem_model model;		/* HUGETLB backing: EAGER only */
	unsigned int flags;		/* GMEM_F_* */
	const char *name;		/* for messages; copied */
};

struct gmem_stats {
	uint64_t conversions;		/* successful share/unshare calls */
	uint64_t pages_shared;		/* pages that went private -> shared */
	uint64_t pages_unshared;	/* pages that went shared -> private */
	uint64_t prot_changes;		/* mapping changes (runs) issued */
	uint64_t refusals;		/* unshare refused: pinned pages */
	uint64_t violations;		/* host accesses to private pages that a
					 * fault handler attributed (below) */
	uint64_t pins;			/* successful pin calls */
	uint64_t probe_faults;		/* access probes that faulted
					 * (deliberate: not violations) */
	uint64_t unpin_missing;		/* host unpins that found no host pin:
					 * a VMM bug, reported by the VMM */
	uint64_t guest_unpin_refused;	/* guest-owned unpins with no guest pin */
};

/*
 * gmem_create() - create a region.
 *
 * The eager model populates the whole file at creation (every page is in
 * the page cache, so a to-shared only maps): the region's memory is
 * committed then, as a VM's RAM is.  AUTO backing with the eager model
 * means memfd (userfaultfd cannot register a guest_memfd mapping).
 *
 * Returns 0 and stores the region in *out, or:
 *   -EINVAL      cfg or out NULL, size 0 or not page aligned (HUGETLB: not a
 *                multiple of GMEM_HUGE_PAGE_SIZE), unknown backing, mode,
 *                model or flags, GUEST_MEMFD backing without vm_fd, the
 *                lazy model on HUGETLB, the eager model on GUEST_MEMFD
 *   -E2BIG       size above GMEM_MAX_SIZE
 *   -EOPNOTSUPP  GUEST_MEMFD backing asked but guest_memfd (or its mmap)
 *                is not offered by this host; the eager model asked but
 *                userfaultfd (minor faults, SIGBUS mode) is not
 *   -ENOSPC      HUGETLB: not enough huge pages reserved (see
 *                gmem_huge_pages_free() and vm.nr_hugepages)
 *   -EMFILE      too many regions in this process (256)
 *   -ENOMEM, or the errno of the failing memfd_create/ioctl/mmap.
 */
#define GMEM_MAX_SIZE		(1ULL << 40)
int gmem_create(const struct gmem_config *cfg, struct gmem **out);
void gmem_destroy(struct gmem *g);

/*
 * gmem_share() / gmem_unshare() - convert [off, off + len).
 *
 * Pages already in the target state are left alone (in place mode); only
 * the pages that change state get a mapping change, one per contiguous
 * run.  In destructive mode the conversion is strict: every page must be in
 * the source state, and the contents of the converted pages are discarded.
 *
 *   -EINVAL   off or len not a multiple of gmem_granule()
 *   -EBUSY    (unshare) a page in the range is pinned
 *   -EALREADY (strict) a page in the range is already in the target state
 *   -ENOSPC   (lazy) the conversion would take the region above
 *             GMEM_LAZY_MAX_BOUNDARIES shared/private boundaries, or the
 *             process above its share of vm.max_map_count
 *   -ENOMEM   the kernel could not change the mapping
 */
#define GMEM_LAZY_MAX_BOUNDARIES	8192
int gmem_share(struct gmem *g, uint64_t off, uint64_t len);
int gmem_unshare(struct gmem *g, uint64_t off, uint64_t len);
int gmem_convert(struct gmem *g, uint64_t off, uint64_t len,
		 enum gmem_state to, unsigned int flags);

/*
 * gmem_pin() / gmem_unpin() - hold shared pages for in-flight host I/O.
 *
 * A pinned page cannot be unshared.  Pins nest (a counter per page and
 * owner) and have an owner:
 *
 *   GMEM_PIN_HOST   the VMM and its devices (rings, boot pages, in-flight
 *                   I/O).  gmem_pin(), gmem_unpin(), gmem_pin_ptr() and
 *                   gmem_unpin_bytes() pin as the host.  At most
 *                   GMEM_PIN_MAX per page.
 *   GMEM_PIN_GUEST  what a guest asked the VMM to pin (a test service that
 *                   simulates host I/O).  At most GMEM_GUEST_PIN_MAX per page.
 *
 * An unpin only ever releases pins of its own owner: a guest cannot drop
 * the VMM's pins.  Pin is all or nothing over the range, and so is unpin.
 *
 *   -EACCES   (pin) a page in the range is private
 *   -EBUSY    (pin) a page in the range is shared but being unshared (a
 *             conversion is in progress: transient, not a violation)
 *   -EMLINK   (pin) a page has the owner's maximum of pins already
 *   -ENOENT   (unpin) a page in the range holds no pin of that owner;
 *             counted: a host unpin in stats.unpin_missing (a VMM bug the
 *             caller must report), a guest unpin in stats.guest_unpin_refused
 */
#define GMEM_PIN_MAX		((1U << 23) - 1)
#define GMEM_GUEST_PIN_MAX	63U

enum gmem_pin_owner {
	GMEM_PIN_HOST = 0,
	GMEM_PIN_GUEST = 1,
};

int gmem_pin(struct gmem *g, uint64_t off, uint64_t len);
int gmem_unpin(struct gmem *g, uint64_t off, uint64_t len);
int gmem_pin_as(struct gmem *g, uint64_t off, uint64_t len,
		enum gmem_pin_owner owner);
int gmem_unpin_as(struct gmem *g, uint64_t off, uint64_t len,
		  enum gmem_pin_owner owner);

/*
 * gmem_host_ptr() - the checked way from (offset, length) to a host pointer.
 *
 * Returns 0 and a pointer into the host view if the whole byte range is
 * inside the region and on shared pages.  Byte granular: off and len need
 * no alignment, len may not be 0.
 *   -EACCES   a page of the range is private
 * The pointer is only stable while the pages stay shared: pin them first.
 */
int gmem_host_ptr(struct gmem *g, uint64_t off, uint64_t len, void **ptr);

/*
 * gmem_pin_ptr() - gmem_pin() of the pages covering the byte range
 * [off, off + len) plus the pointer to off, in one step; undo with
 * gmem_unpin_bytes().  Same errors as gmem_pin(), byte granular.
 */
int gmem_pin_ptr(struct gmem *g, uint64_t off, uint64_t len, void **ptr);
int gmem_unpin_bytes(struct gmem *g, uint64_t off, uint64_t len);

/* Queries. */
int gmem_page_state(struct gmem *g, uint64_t off);	/* GMEM_* or -errno */
int gmem_page_pins(struct gmem *g, uint64_t off);	/* all owners, or -errno */
int gmem_page_pins_of(struct gmem *g, uint64_t off, enum gmem_pin_owner owner);
uint64_t gmem_shared_pages(struct gmem *g);
void gmem_get_stats(struct gmem *g, struct gmem_stats *st);

/* Accessors. */
uint64_t gmem_size(const struct gmem *g);
int gmem_fd(const struct gmem *g);
const char *gmem_name(const struct gmem *g);
enum gmem_backing gmem_backing(const struct gmem *g);	/* resolved */
enum gmem_mode gmem_mode(const struct gmem *g);
enum gmem_model gmem_model(const struct gmem *g);
uint64_t gmem_granule(const struct gmem *g);	/* conversion unit, bytes */
uint64_t gmem_boundaries(const struct gmem *g);	/* shared/private edges */
const char *gmem_backend_name(const struct gmem *g);	/* hostview, uffd */
const char *gmem_backing_name(enum gmem_backing b);
const char *gmem_model_name(enum gmem_model m);	/* "lazy", "eager" */

/*
 * gmem_huge_pages_free() - free 2 MiB huge pages of the host
 * (/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages), or -errno
 * where the host has none configured (-ENOENT).
 */
long gmem_huge_pages_free(void);
void *gmem_host_view(const struct gmem *g);		/* VMM accesses */
void *gmem_memslot_addr(const struct gmem *g);		/* for KVM only */

/*
 * Protection violations: host accesses to private pages.
 *
 * gmem installs no signal handler.  A host access to a private page through
 * the host view faults: SIGSEGV (si_code SEGV_ACCERR) in the lazy model,
 * SIGBUS (BUS_ADRERR) in the eager one.  A program that wants such a fault
 * named installs a handler of its own (the test support's
 * harness/violation.h does) that asks gmem_fault_attribute() which region
 * the address belongs to.  Without one the fault kills the process.
 *
 * Scope: only accesses through the host view fault.  The memslot mapping
 * (KVM's) and reads and writes of the file descriptor (pread/pwrite) do
 * not; accesses by the kernel on the VMM's behalf (io_uring, O_DIRECT page
 * pinning) to a private page fail with -EFAULT in the eager model and
 * succeed in the lazy one.  The pins above are what keeps a page such an
 * access is under from becoming private.
 */
struct gmem_violation {
	struct gmem *region;
	const char *name;		/* valid while the region lives */
	uint64_t offset;		/* byte offset of the faulting address */
	bool write;
};

/*
 * gmem_fault_attribute() - for a fault handler: the region whose host view
 * holds addr.  Counts the fault in that region's stats, as a violation
 * (filling *v when v is not NULL) or, with probe, as a deliberate probe
 * fault (stats.probe_faults, not a violation).  Lock-free and
 * async-signal-safe; gmem_destroy() waits for a call looking at its region.
 *   0         found and counted
 *   -ENOENT   no region's host view holds addr
 */
int gmem_fault_attribute(const void *addr, bool write, bool probe,
			 struct gmem_violation *v);

#endif /* GMEMKIT_GMEM_H */
