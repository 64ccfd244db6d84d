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
#include <sys/utsname.h>
#include <unistd.h>

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

void probe_host(struct probe_host_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	probe_cpu(caps);
	probe_io_uring(caps);
	probe_kvm(caps);
}

const char *probe_backing(const struct probe_host_caps *c)
{
	if (c->guest_memfd_mmap)
		return "guest_memfd (mmap, in-place conversion on the host view)";
	if (c->kvm)
		return "memfd (guest_memfd has no mmap here; same conversion model)";
	return "memfd (no KVM; host-side conversion only)";
}
