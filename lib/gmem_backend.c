// SPDX-License-Identifier: GPL-2.0
/*
 * gmem conversion backends.
 *
 * hostview: the host view is the host's stage-2.  A private page is
 * PROT_NONE there, a shared page read-write.  To private also revokes the
 * host's mapping, as upstream in-place guest_memfd conversion unmaps every
 * host mapping of the folio: in place mode zaps the run's PTEs with
 * madvise(MADV_DONTNEED) (MAP_SHARED: the contents stay in the file) before
 * the mprotect(PROT_NONE), so the zap pays the TLB flush (and its
 * shootdown to every CPU running this process) and the protection change
 * finds nothing mapped; destructive mode's FALLOC_FL_PUNCH_HOLE (lib/gmem.c)
 * has zapped them already.  The host's first touch of each page after the
 * next share faults it back in (a minor fault: the page is in the file).
 * One madvise and one mprotect per run.  KVM keeps reaching every page
 * through the memslot mapping, as a guest reaches its private memory.
 *
 * A KVM_SET_MEMORY_ATTRIBUTES backend slots in here as a second
 * struct gmem_backend that issues the attribute ioctl for the run before
 * (to shared) or after (to private) the same host-view change.  No host
 * seen so far offers KVM_CAP_MEMORY_ATTRIBUTES on a VM type that can also
 * mmap guest_memfd, so it is not built; `gmemkit probe` reports the cap.
 */
#include <errno.h>
#include <sys/mman.h>

#include "gmem_internal.h"

static int hostview_set_state(struct gmem *g, uint64_t off, uint64_t len,
			      enum gmem_state to)
{
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
	.set_state = hostview_set_state,
};
