// SPDX-License-Identifier: GPL-2.0
/*
 * Host capability probe: every capability is tried, not only read from
 * KVM_CHECK_EXTENSION, because advertised and working differ on the hosts
 * this project runs on.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "gmemkit/gmem.h"
#include "gmemkit/probe.h"
#include "uapi/kvm_compat.h"

#define PROBE_SIZE	(2UL << 20)
#define PROBE_GPA	(1UL << 30)

void probe_cpu_model(char *model, size_t len, bool *emulated)
{
	char line[256];
	FILE *f;

	snprintf(model, len, "unknown");
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !v)
			continue;
		v += 1 + (v[1] == ' ');
		v[strcspn(v, "\n")] = 0;
		snprintf(model, len, "%s", v);
		break;
	}
	if (f)
		fclose(f);
	*emulated = strstr(model, "QEMU") != NULL;
}

static void probe_cpu(struct probe_host_caps *c)
{
	struct utsname u;

	if (!uname(&u))
		snprintf(c->kernel, sizeof(c->kernel), "%s", u.release);
	probe_cpu_model(c->cpu_model, sizeof(c->cpu_model), &c->emulated);
}

static void probe_io_uring(struct probe_host_caps *c)
{
	struct io_uring ring;

	if (io_uring_queue_init(4, &ring, 0) == 0) {
		c->io_uring = true;
		io_uring_queue_exit(&ring);
	}
}

static int check_ext(int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static void probe_ioeventfd(struct probe_host_caps *c, int vm)
{
	struct kvm_ioeventfd io = { .addr = 0xfee00000, .len = 4 };
	int efd = eventfd(0, EFD_CLOEXEC);

	if (efd < 0)
		return;
	io.fd = efd;
	if (!ioctl(vm, KVM_IOEVENTFD, &io)) {
		c->ioeventfd = true;
		io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
		ioctl(vm, KVM_IOEVENTFD, &io);
	}
	close(efd);
}

static void probe_hypercall_cap(struct probe_host_caps *c, int vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_HYPERCALL };
	int mask = check_ext(vm, KVM_CAP_EXIT_HYPERCALL);

	c->hypercall_mask = (uint64_t)mask;
	if (!(mask & (1 << KVM_HC_MAP_GPA_RANGE)))
		return;
	cap.args[0] = 1ULL << KVM_HC_MAP_GPA_RANGE;
	c->exit_hypercall = !ioctl(vm, KVM_ENABLE_CAP, &cap);
}

/* A guest_memfd memslot, then memory attributes over it. */
static void probe_gmem_slot(struct probe_host_caps *c, int vm, int gfd, void *map)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = 0,
		.flags = KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr = PROBE_GPA,
		.memory_size = PROBE_SIZE,
		.userspace_addr = (uintptr_t)map,
		.guest_memfd = (uint32_t)gfd,
	};
	struct kvm_memory_attributes attr = {
		.address = PROBE_GPA,
		.size = 4096,
		.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
	};

	c->guest_memfd_slot = !ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r);
	if (c->guest_memfd_slot && c->memory_attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE)
		c->set_memory_attributes = !ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
}

static void probe_guest_memfd(struct probe_host_caps *c, int vm)
{
	struct kvm_create_guest_memfd args = { .size = PROBE_SIZE };
	void *map;
	int fd;

	fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &args);
	if (fd < 0) {
		c->guest_memfd_errno = errno;
		return;
	}
	c->guest_memfd = true;
	close(fd);

	args.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
	fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &args);
	if (fd < 0)
		return;
	map = mmap(NULL, PROBE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map != MAP_FAILED) {
		*(volatile char *)map = 1;
		c->guest_memfd_mmap = true;
		probe_gmem_slot(c, vm, fd, map);
		munmap(map, PROBE_SIZE);
	}
	close(fd);
}

static void probe_kvm(struct probe_host_caps *c)
{
	int kvm, vm;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		c->kvm_errno = errno;
		return;
	}
	c->api_version = ioctl(kvm, KVM_GET_API_VERSION, 0);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		c->kvm_errno = errno;
		close(kvm);
		return;
	}
	c->kvm = true;
	c->vm_types = (uint64_t)check_ext(kvm, KVM_CAP_VM_TYPES);
	c->user_memory2 = check_ext(vm, KVM_CAP_USER_MEMORY2) > 0;
	c->guest_memfd_flags = (uint64_t)check_ext(vm, KVM_CAP_GUEST_MEMFD_FLAGS);
	c->memory_attributes = (uint64_t)check_ext(vm, KVM_CAP_MEMORY_ATTRIBUTES);
	probe_ioeventfd(c, vm);
	probe_hypercall_cap(c, vm);
	probe_guest_memfd(c, vm);
	close(vm);
	close(kvm);
}

/* userfaultfd as gmem's eager model opens it, and the features offered. */
static void probe_uffd(struct probe_host_caps *c)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		c->uffd_errno = errno;
		return;
	}
	if (ioctl(fd, UFFDIO_API, &api)) {
		c->uffd_errno = errno;
	} else {
		c->uffd = true;
		c->uffd_features = api.features;
		c->uffd_sigbus = api.features & UFFD_FEATURE_SIGBUS;
		c->uffd_minor_shmem = api.features & UFFD_FEATURE_MINOR_SHMEM;
		c->uffd_minor_hugetlbfs = api.features & UFFD_FEATURE_MINOR_HUGETLBFS;
	}
	close(fd);
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

#define HUGE_2M_DIR	"/sys/kernel/mm/hugepages/hugepages-2048kB/"

static void probe_huge_pages(struct probe_host_caps *c)
{
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	c->huge_default_kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %ld kB", &c->huge_default_kb) == 1)
			break;
	if (f)
		fclose(f);
	c->nr_hugepages = read_long("/proc/sys/vm/nr_hugepages");
	c->huge_2m_total = read_long(HUGE_2M_DIR "nr_hugepages");
	c->huge_2m_free = read_long(HUGE_2M_DIR "free_hugepages");
	c->huge_2m_resv = read_long(HUGE_2M_DIR "resv_hugepages");
}

/* A region of the model: created, one granule shared, written, unshared. */
static int try_model(enum gmem_model model, enum gmem_backing backing)
{
	struct gmem_config cfg = {
		.size = backing == GMEM_BACKING_HUGETLB ? GMEM_HUGE_PAGE_SIZE : 16 * GMEM_PAGE_SIZE,
		.vm_fd = -1,
		.backing = backing,
		.model = model,
		.name = "probe",
	};
	struct gmem *g;
	uint64_t len;
	int err;

	err = gmem_create(&cfg, &g);
	if (err)
		return err;
	len = gmem_granule(g);
	err = gmem_share(g, 0, len);
	if (!err) {
		*(volatile uint8_t *)gmem_host_view(g) = 1;
		err = gmem_unshare(g, 0, len);
	}
	gmem_destroy(g);
	return err;
}

static void probe_models(struct probe_host_caps *c)
{
	c->model_lazy_errno = try_model(GMEM_MODEL_LAZY, GMEM_BACKING_MEMFD);
	c->model_lazy = !c->model_lazy_errno;
	c->model_eager_errno = try_model(GMEM_MODEL_EAGER, GMEM_BACKING_MEMFD);
	c->model_eager = !c->model_eager_errno;
	/* Only on a free page: a try without one says nothing new. */
	if (c->huge_2m_free <= 0)
		return;
	c->model_huge_tried = true;
	c->model_huge_errno = try_model(GMEM_MODEL_EAGER, GMEM_BACKING_HUGETLB);
	c->model_huge = !c->model_huge_errno;
}

void probe_host(struct probe_host_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	probe_cpu(caps);
	probe_io_uring(caps);
	probe_kvm(caps);
	probe_uffd(caps);
	probe_huge_pages(caps);
	probe_models(caps);
}

static void uffd_why(const struct probe_host_caps *c, char *buf, size_t len)
{
	snprintf(buf, len, "userfaultfd: %s%s", strerror(c->uffd_errno),
		 c->uffd_errno == EPERM ? " (vm.unprivileged_userfaultfd is 0 and no "
		 "CAP_SYS_PTRACE)" : "");
}

const char *probe_model_why(const struct probe_host_caps *c, enum probe_model m,
			    char *buf, size_t len)
{
	int err;

	switch (m) {
	case PROBE_MODEL_LAZY:
		err = c->model_lazy ? 0 : c->model_lazy_errno;
		snprintf(buf, len, "%s", err ? strerror(-err) : "");
		return buf;
	case PROBE_MODEL_EAGER:
		if (c->model_eager)
			snprintf(buf, len, "%s", "");
		else if (!c->uffd)
			uffd_why(c, buf, len);
		else if (!c->uffd_sigbus || !c->uffd_minor_shmem)
			snprintf(buf, len, "userfaultfd lacks %s%s%s",
				 c->uffd_sigbus ? "" : "SIGBUS mode",
				 !c->uffd_sigbus && !c->uffd_minor_shmem ? " and " : "",
				 c->uffd_minor_shmem ? "" : "minor faults on shmem");
		else
			snprintf(buf, len, "%s", strerror(-c->model_eager_errno));
		return buf;
	default:
		if (c->model_huge)
			snprintf(buf, len, "%s", "");
		else if (c->huge_2m_total < 0)
			snprintf(buf, len, "no 2 MiB huge pages on this kernel");
		else if (!c->uffd)
			uffd_why(c, buf, len);
		else if (!c->uffd_sigbus || !c->uffd_minor_hugetlbfs)
			snprintf(buf, len, "userfaultfd minor faults on hugetlbfs (SIGBUS "
				 "mode) not offered");
		else if (!c->model_huge_tried)
			snprintf(buf, len, "no free 2 MiB huge page (%ld reserved, all in "
				 "use or none: raise vm.nr_hugepages as root, "
				 "/proc/sys/vm/nr_hugepages)", c->huge_2m_total);
		else
			snprintf(buf, len, "%s", strerror(-c->model_huge_errno));
		return buf;
	}
}

const char *probe_backing(const struct probe_host_caps *c)
{
	if (c->guest_memfd_mmap)
		return "guest_memfd (mmap, in-place conversion on the host view)";
	if (c->kvm)
		return "memfd (guest_memfd has no mmap here; same conversion model)";
	return "memfd (no KVM; host-side conversion only)";
}
