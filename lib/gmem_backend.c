// SPDX-License-Identifier: GPL-2.0
/*
 * gmem conversion backends: how the host view loses and regains a run of
 * pages.  One per conversion model (gmem.h).
 *
 * hostview (lazy): the host view is the host's stage-2 made of protection
 * bits.  A private page is PROT_NONE there, a shared page read-write.  To
 * private revokes the host's mapping, as upstream in-place guest_memfd
 * conversion unmaps every host mapping of the folio: in place mode zaps
 * the run's PTEs with madvise(MADV_DONTNEED) (MAP_SHARED: the contents stay
 * in the file) before the mprotect(PROT_NONE), so the zap pays the TLB
 * flush (and its shootdown to every CPU running this process) and the
 * protection change finds nothing mapped.  The host's first touch of each
 * page after the next share faults it back in (a minor fault: the page is
 * in the file).  One madvise and one mprotect per run; each run boundary
 * is a VMA boundary (lib/gmem.c keeps their number within a budget).
 *
 * uffd (eager): the host view is one VMA for the region's whole life,
 * registered with userfaultfd in missing + minor mode with
 * UFFD_FEATURE_SIGBUS.  Every page of the file is in the page cache
 * (populated at setup); a page not mapped in the view is private: the
 * host's touch of it is a minor fault, which userfaultfd turns into a
 * SIGBUS (a kernel access on the host's behalf fails with -EFAULT), as
 * upstream guest_memfd refuses to fault a private folio into a host
 * mapping.  To private zaps the run (MADV_DONTNEED; in destructive mode
 * the hole punched afterwards by lib/gmem.c zaps it too); to shared maps
 * the whole run in one UFFDIO_CONTINUE (after reallocating the pages a
 * destructive conversion punched out), so no fault follows.  On a hugetlb
 * memfd the same calls work on 2 MiB pages.
 *
 * KVM keeps reaching every page through the memslot mapping (a second,
 * unregistered mapping of the file), as a guest reaches its private memory.
 *
 * A KVM_SET_MEMORY_ATTRIBUTES backend slots in here as another
 * struct gmem_backend that issues the attribute ioctl for the run before
 * (to shared) or after (to private) the same host-view change.  No host
 * seen so far offers KVM_CAP_MEMORY_ATTRIBUTES on a VM type that can also
 * mmap guest_memfd, so it is not built; `gmemkit probe` reports the cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gmem_internal.h"

/* ---- hostview: the lazy model ------------------------------------------ */

static int hostview_setup(struct gmem *g, bool shared)
{
	(void)g;
	(void)shared;
	return 0;		/* map_both() gave the view its protection */
}

static int hostview_set_state(struct gmem *g, uint64_t off, uint64_t len,
			      enum gmem_state to, bool undo)
{
	(void)undo;			/* mprotect never touches contents */
	int prot = to == GMEM_SHARED ? PROT_READ | PROT_WRITE : PROT_NONE;

	if (to == GMEM_PRIVATE && g->mode == GMEM_MODE_INPLACE &&
	    madvise(g->view + off, len, MADV_DONTNEED))
		return -errno;
	if (mprotect(g->view + off, len, prot))
		return -errno;
	return 0;
}

const struct gmem_backend gmem_backend_hostview = {
	.name = "hostview",
	.setup = hostview_setup,
	.set_state = hostview_set_state,
};

/* ---- uffd: the eager model --------------------------------------------- */

static uint64_t uffd_features(const struct gmem *g)
{
	return UFFD_FEATURE_SIGBUS | (g->backing == GMEM_BACKING_HUGETLB ?
				      UFFD_FEATURE_MINOR_HUGETLBFS :
				      UFFD_FEATURE_MINOR_SHMEM);
}

static int uffd_open(const struct gmem *g)
{
	struct uffdio_api api = { .api = UFFD_API, .features = uffd_features(g) };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return errno == ENOSYS || errno == EPERM ? -EOPNOTSUPP : -errno;
	if (ioctl(fd, UFFDIO_API, &api) ||
	    (api.features & uffd_features(g)) != uffd_features(g)) {
		close(fd);
		return -EOPNOTSUPP;
	}
	return fd;
}

/*
 * Allocate [off, off + len) of the file; hugetlbfs stops at a pending
 * signal with EINTR (what was allocated stays), so go on where it stopped.
 */
static int allocate(struct gmem *g, uint64_t off, uint64_t len)
{
	while (fallocate(g->fd, 0, (off_t)off, (off_t)len))
		if (errno != EINTR)
			return errno == ENOSPC || errno == ENOMEM ? -ENOSPC : -errno;
	return 0;
}

/* Map [off, off + len) of the view from the page cache, in one call. */
static int uffd_continue(struct gmem *g, uint64_t off, uint64_t len)
{
	struct uffdio_continue c = {
		.range = { .start = (uintptr_t)g->view + off, .len = len },
		.mode = UFFDIO_CONTINUE_MODE_DONTWAKE,	/* SIGBUS: no waiters */
	};

	if (ioctl(g->uffd, UFFDIO_CONTINUE, &c))
		return -errno;
	return 0;
}

static int uffd_register(struct gmem *g)
{
	struct uffdio_register r = {
		.range = { .start = (uintptr_t)g->view, .len = g->size },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR,
	};

	if (ioctl(g->uffd, UFFDIO_REGISTER, &r))
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	if (!(r.ioctls & (1ULL << _UFFDIO_CONTINUE)))
		return -EOPNOTSUPP;
	return 0;
}

/*
 * Populate the whole file, register the view, and map it all if the region
 * starts shared.  The view was mapped PROT_NONE or read-write by
 * map_both(); here it is read-write (privacy comes from what is mapped).
 */
static int uffd_setup(struct gmem *g, bool shared)
{
	int fd, err;

	err = allocate(g, 0, g->size);
	if (err)
		return err;
	if (mprotect(g->view, g->size, PROT_READ | PROT_WRITE))
		return -errno;
	/* Nothing mapped before the registration: every page starts private. */
	if (madvise(g->view, g->size, MADV_DONTNEED))
		return -errno;
	fd = uffd_open(g);
	if (fd < 0)
		return fd;
	g->uffd = fd;
	err = uffd_register(g);
	if (!err && shared)
		err = uffd_continue(g, 0, g->size);
	if (err) {
		close(fd);
		g->uffd = -1;
	}
	return err;
}

static int uffd_set_state(struct gmem *g, uint64_t off, uint64_t len,
			  enum gmem_state to, bool undo)
{
	if (to == GMEM_PRIVATE)
		return madvise(g->view + off, len, MADV_DONTNEED) ? -errno : 0;
	/*
	 * Destructive to-shared: discard what the guest wrote to the private
	 * pages and allocate zeroed ones; a hole in a mapped run would be a
	 * missing fault (SIGBUS) at the host's touch, so both precede the map.
	 * (The one case where a failed conversion has discarded contents:
	 * the map itself failed, -ENOMEM; the pages stay private.)
	 */
	if (g->mode == GMEM_MODE_DESTRUCTIVE && !undo) {
		if (fallocate(g->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, (off_t)len))
			return -errno;
		if (allocate(g, off, len))
			return -ENOMEM;
	}
	return uffd_continue(g, off, len);
}

const struct gmem_backend gmem_backend_uffd = {
	.name = "uffd",
	.setup = uffd_setup,
	.set_state = uffd_set_state,
};
