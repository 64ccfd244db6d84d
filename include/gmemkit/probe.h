/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host offers, probed by trying each capability.
 */
#ifndef GMEMKIT_PROBE_H
#define GMEMKIT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct probe_host_caps {
	/* host */
	char kernel[128];		/* uname -r */
	char cpu_model[128];		/* /proc/cpuinfo "model name" */
	bool emulated;			/* QEMU TCG CPU: numbers not a verdict */
	bool io_uring;			/* io_uring_queue_init() worked */

	/* /dev/kvm */
	bool kvm;			/* /dev/kvm opened and a VM was created */
	int kvm_errno;			/* why not, if !kvm */
	int api_version;
	uint64_t vm_types;		/* KVM_CAP_VM_TYPES bitmap (0 if no cap) */
	bool user_memory2;		/* KVM_SET_USER_MEMORY_REGION2 */
	bool ioeventfd;			/* KVM_IOEVENTFD registered on a VM */
	bool exit_hypercall;		/* KVM_CAP_EXIT_HYPERCALL enabled */
	uint64_t hypercall_mask;	/* hypercalls it offers to exit */

	/* guest_memfd */
	bool guest_memfd;		/* KVM_CREATE_GUEST_MEMFD worked */
	int guest_memfd_errno;
	uint64_t guest_memfd_flags;	/* KVM_CAP_GUEST_MEMFD_FLAGS */
	bool guest_memfd_mmap;		/* created with MMAP|INIT_SHARED and mapped */
	bool guest_memfd_slot;		/* memslot on it accepted */

	/* memory attributes */
	uint64_t memory_attributes;	/* KVM_CAP_MEMORY_ATTRIBUTES bitmap */
	bool set_memory_attributes;	/* KVM_SET_MEMORY_ATTRIBUTES worked */

	/* userfaultfd: what the eager conversion model needs (gmem.h) */
	bool uffd;			/* userfaultfd() + UFFDIO_API worked, opened
					 * as gmem opens it (no user-mode-only) */
	int uffd_errno;			/* why not, if !uffd */
	uint64_t uffd_features;		/* UFFDIO_API's feature bits */
	bool uffd_sigbus;		/* UFFD_FEATURE_SIGBUS offered */
	bool uffd_minor_shmem;		/* UFFD_FEATURE_MINOR_SHMEM offered */
	bool uffd_minor_hugetlbfs;	/* UFFD_FEATURE_MINOR_HUGETLBFS offered */

	/* 2 MiB huge pages (-1 where unreadable) */
	long huge_default_kb;		/* /proc/meminfo Hugepagesize */
	long nr_hugepages;		/* /proc/sys/vm/nr_hugepages (default size) */
	long huge_2m_total;		/* hugepages-2048kB/nr_hugepages */
	long huge_2m_free;		/* hugepages-2048kB/free_hugepages */
	long huge_2m_resv;		/* hugepages-2048kB/resv_hugepages */

	/* The conversion models gmemkit can use here, each tried: a gmem
	 * region of that model created, one page shared, written and
	 * unshared.  *_errno: why not (the negative errno of the step that
	 * failed); model_huge_tried false: no free 2 MiB page to try it on. */
	bool model_lazy;		/* memfd (guest_memfd: see above) */
	int model_lazy_errno;
	bool model_eager;		/* memfd, userfaultfd */
	int model_eager_errno;
	bool model_huge;		/* eager on a hugetlb memfd, 2 MiB */
	bool model_huge_tried;
	int model_huge_errno;
};

/* Fill *caps.  Never fails: what cannot be probed is reported absent. */
void probe_host(struct probe_host_caps *caps);

/* The CPU model from /proc/cpuinfo ("unknown" if none) and whether it is
 * an emulated one (QEMU TCG): numbers measured there are not a verdict. */
void probe_cpu_model(char *model, size_t len, bool *emulated);

/* Why a model is not usable, in words ("" if it is): probe_model_why(). */
enum probe_model { PROBE_MODEL_LAZY, PROBE_MODEL_EAGER, PROBE_MODEL_HUGE };
const char *probe_model_why(const struct probe_host_caps *caps, enum probe_model m,
			    char *buf, size_t len);

/* What gmem will use on this host, in words (e.g. "guest_memfd (mmap)"). */
const char *probe_backing(const struct probe_host_caps *caps);

#endif /* GMEMKIT_PROBE_H */
