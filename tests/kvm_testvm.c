// SPDX-License-Identifier: GPL-2.0
/*
 * KVM as the test VM provides it (and as the host provides it, natively).
 *
 * A tiny real-mode guest does a port write, a KVM_HC_MAP_GPA_RANGE
 * hypercall (vmmcall) and hlt.  Checked: the port-I/O exit with its value;
 * the hypercall exit with its arguments and the return value handed back;
 * the hlt exit; guest_memfd creation and whether its mmap flag is taken.
 *
 * Inside the test VM (TESTVM=1: Debian 6.12 under QEMU/TCG, emulated SVM)
 * the hypercall exit must arrive and guest_memfd must exist without the
 * mmap flag: that is what makes `make check-vm` cover the hypercall
 * transport and the gmem fallback.  Natively these are probed: a host that
 * stalls the vCPU on vmmcall (seen on a 6.18 PVM host) is stopped by an
 * alarm and the hypercall checks SKIP with that reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uapi/kvm_compat.h"
#include "tap.h"

#define MEM_SIZE	0x10000
#define CODE_GPA	0x1000
#define MAP_GPA		0x4000
#define PORT_HELLO	0x10
#define PORT_RET	0x11
#define HELLO		0x42
#define HC_RET		0x5a

/* Real mode, CS:IP = 0:0x1000. */
static const uint8_t guest_code[] = {
	0xb0, HELLO,				/* mov al, HELLO */
	0xe6, PORT_HELLO,			/* out PORT_HELLO, al */
	0x66, 0xb8, KVM_HC_MAP_GPA_RANGE, 0, 0, 0, /* mov eax, 12 */
	0x66, 0xbb, 0x00, 0x40, 0x00, 0x00,	/* mov ebx, MAP_GPA */
	0x66, 0xb9, 0x02, 0x00, 0x00, 0x00,	/* mov ecx, 2 (pages) */
	0x66, 0xba, 0x10, 0x00, 0x00, 0x00,	/* mov edx, ENCRYPTED */
	0x0f, 0x01, 0xd9,			/* vmmcall */
	0xe6, PORT_RET,				/* out PORT_RET, al */
	0xf4,					/* hlt */
};

struct vm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
};

static bool in_testvm(void)
{
	const char *v = getenv("TESTVM");

	return v && !strcmp(v, "1");
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* KVM_RUN bounded by an alarm: returns the exit reason, -EINTR if stalled. */
static int run_vcpu(struct vm *v, unsigned int seconds)
{
	int r;

	alarm(seconds);
	r = ioctl(v->vcpu, KVM_RUN, 0);
	alarm(0);
	if (r < 0)
		return -errno;
	return (int)v->run->exit_reason;
}

static int vm_setup(struct vm *v)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2 };
	long run_size;

	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (!ok(v->vm >= 0, "KVM_CREATE_VM"))
		return -1;
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		tap_bail("mmap guest memory");
	memcpy(v->mem + CODE_GPA, guest_code, sizeof(guest_code));
	region.userspace_addr = (uintptr_t)v->mem;
	if (!ok(ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region) == 0,
		"KVM_SET_USER_MEMORY_REGION (64 KiB at GPA 0)"))
		return -1;
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (!ok(v->vcpu >= 0 && run_size > 0, "KVM_CREATE_VCPU, run area %ld bytes",
		run_size))
		return -1;
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu, 0);
	if (v->run == MAP_FAILED)
		tap_bail("mmap kvm_run");
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs))
		tap_bail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) || ioctl(v->vcpu, KVM_SET_REGS, &regs))
		tap_bail("KVM_SET_SREGS/KVM_SET_REGS");
	return 0;
}

static bool io_exit_is(struct vm *v, int reason, uint16_t port, uint8_t val)
{
	uint8_t got;

	if (reason != KVM_EXIT_IO || v->run->io.direction != KVM_EXIT_IO_OUT ||
	    v->run->io.port != port || v->run->io.size != 1) {
		diag("exit %d (io port 0x%x dir %u size %u)", reason,
		     reason == KVM_EXIT_IO ? v->run->io.port : 0,
		     reason == KVM_EXIT_IO ? v->run->io.direction : 0,
		     reason == KVM_EXIT_IO ? v->run->io.size : 0);
		return false;
	}
	got = *((uint8_t *)v->run + v->run->io.data_offset);
	if (got != val)
		diag("port 0x%x value 0x%x, want 0x%x", port, got, val);
	return got == val;
}

#define HC_TESTS 5

static void test_hypercall(struct vm *v)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_HYPERCALL };
	int mask, r;

	mask = ioctl(v->kvm, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_HYPERCALL);
	if (!(mask > 0 && (mask & (1 << KVM_HC_MAP_GPA_RANGE)))) {
		ok(!in_testvm(), "KVM_CAP_EXIT_HYPERCALL offers MAP_GPA_RANGE"
		   " (mask %d; required in the test VM)", mask);
		tap_skip(HC_TESTS - 1, "no MAP_GPA_RANGE hypercall exit here");
		return;
	}
	cap.args[0] = 1ULL << KVM_HC_MAP_GPA_RANGE;
	ok(ioctl(v->vm, KVM_ENABLE_CAP, &cap) == 0,
	   "KVM_ENABLE_CAP(EXIT_HYPERCALL, MAP_GPA_RANGE)");

	r = run_vcpu(v, 10);
	if (r != KVM_EXIT_HYPERCALL && !in_testvm()) {
		/* A host property, probed: only the test VM must deliver. */
		if (r == -EINTR)
			diag("vmmcall stalled the vCPU for 10 s");
		else
			diag("vmmcall gave exit %d instead", r);
		diag("this host does not deliver hypercall exits (the VMM falls"
		     " back to the port doorbell)");
		tap_skip(HC_TESTS - 1, "host does not deliver vmmcall exits");
		return;
	}
	if (!ok(r == KVM_EXIT_HYPERCALL, "vmmcall arrives as KVM_EXIT_HYPERCALL")) {
		diag("exit %d (%s)", r, r < 0 ? strerror(-r) : "reason");
		tap_skip(HC_TESTS - 2, "no hypercall exit");
		return;
	}
	ok(v->run->hypercall.nr == KVM_HC_MAP_GPA_RANGE &&
	   v->run->hypercall.args[0] == MAP_GPA && v->run->hypercall.args[1] == 2 &&
	   v->run->hypercall.args[2] == KVM_MAP_GPA_RANGE_ENCRYPTED,
	   "hypercall nr %llu gpa 0x%llx pages %llu attrs 0x%llx as the guest set them",
	   (unsigned long long)v->run->hypercall.nr,
	   (unsigned long long)v->run->hypercall.args[0],
	   (unsigned long long)v->run->hypercall.args[1],
	   (unsigned long long)v->run->hypercall.args[2]);
	v->run->hypercall.ret = HC_RET;
	ok(io_exit_is(v, run_vcpu(v, 10), PORT_RET, HC_RET),
	   "the return value set by userspace reaches the guest's eax");
	ok_eq(run_vcpu(v, 10), KVM_EXIT_HLT, "then hlt exits");
}

static void test_guest_memfd(int kvm, int vm)
{
	struct kvm_create_guest_memfd gm = { .size = 2 << 20 };
	int has, flags, fd;

	has = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD);
	flags = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD_FLAGS);
	if (has <= 0) {
		ok(!in_testvm(), "KVM_CAP_GUEST_MEMFD (required in the test VM)");
		tap_skip(1, "no guest_memfd on this kernel");
		return;
	}
	fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &gm);
	ok(fd >= 0, "KVM_CREATE_GUEST_MEMFD on a default VM (%s)",
	   fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	gm.flags = GUEST_MEMFD_FLAG_MMAP;
	fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &gm);
	if (flags > 0 && (flags & GUEST_MEMFD_FLAG_MMAP)) {
		void *p = fd >= 0 ? mmap(NULL, gm.size, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, 0) : MAP_FAILED;

		ok(!in_testvm() && p != MAP_FAILED,
		   "GUEST_MEMFD_FLAG_MMAP offered: created and mapped");
		if (p != MAP_FAILED)
			munmap(p, gm.size);
	} else {
		ok(fd < 0 && errno == EINVAL,
		   "no GUEST_MEMFD_FLAG_MMAP (flags cap %d): the flag is refused"
		   " with EINVAL, gmem falls back", flags);
	}
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct vm v = { .kvm = -1 };

	v.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v.kvm < 0) {
		if (in_testvm())
			tap_bail("no /dev/kvm inside the test VM");
		tap_skip_all("no /dev/kvm (tools/kvm-tests runs this in the test VM)");
	}
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: KVM_RUN returns EINTR */
	tap_plan(10 + HC_TESTS);
	diag("%s", in_testvm() ? "inside the test VM (emulated, functional only)"
			       : "native /dev/kvm");
	ok_eq(ioctl(v.kvm, KVM_GET_API_VERSION, 0), KVM_API_VERSION,
	      "KVM_GET_API_VERSION");
	if (vm_setup(&v))
		tap_bail("cannot set up a VM");
	ok(io_exit_is(&v, run_vcpu(&v, 10), PORT_HELLO, HELLO),
	   "port write exits to userspace with its value");
	test_hypercall(&v);
	test_guest_memfd(v.kvm, v.vm);
	{
		struct kvm_userspace_memory_region bad = {
			.slot = 1, .guest_phys_addr = 0x100000,
			.memory_size = 4096 + 1, .userspace_addr = (uintptr_t)v.mem,
		};

		ok(ioctl(v.vm, KVM_SET_USER_MEMORY_REGION, &bad) < 0 && errno == EINVAL,
		   "a memory slot of unaligned size is refused with EINVAL");
	}
	ok(ioctl(v.vm, KVM_CREATE_VCPU, 0) < 0 && errno == EEXIST,
	   "a second vCPU with the same id is refused with EEXIST");
	ok(ioctl(v.kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) > 0,
	   "KVM_CAP_USER_MEMORY");
	return tap_done();
}
