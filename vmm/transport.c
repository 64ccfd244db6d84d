// SPDX-License-Identifier: GPL-2.0
/*
 * The guest -> VMM conversion transport.
 *
 *   hypercall: KVM_HC_MAP_GPA_RANGE with KVM_CAP_EXIT_HYPERCALL: KVM hands
 *              the (gpa, npages, attrs) triple to userspace as
 *              KVM_EXIT_HYPERCALL; the answer goes back in rax.
 *   doorbell:  the guest fills its mailbox page and writes its index to
 *              GMEM_ABI_PORT_DOORBELL; the VMM answers in the mailbox.
 *   queue:     a ring per vCPU serviced by a converter thread (convq.c);
 *              its requests come through vmm_convert() here.
 *
 * Every request is read once from guest memory, checked by
 * vmm_check_request() and only then handed to gmem; bad requests get a
 * status, are counted, and the VM keeps running.  The doorbell also carries
 * host time, the VMM's counters (bench) and, only in runs of the guest
 * self-tests that need them, the test services the run was given
 * (vm->services, from harness/services.c): host-view checks and simulated
 * device pins.  Everywhere else those ops get -EOPNOTSUPP and are counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "gmemkit/timing.h"
#include "vm_internal.h"

int vmm_check_request(uint64_t mem_size, uint32_t op, uint64_t gpa,
			  uint64_t len)
{
	if (op != GMEM_ABI_OP_SHARE && op != GMEM_ABI_OP_UNSHARE)
		return -EOPNOTSUPP;
	if (len > UINT64_MAX - gpa)
		return -EOVERFLOW;
	if (!len || gpa % GMEM_ABI_PAGE_SIZE || len % GMEM_ABI_PAGE_SIZE)
		return -EINVAL;
	if (gpa >= mem_size || len > mem_size - gpa)
		return -ERANGE;
	return 0;
}

static void count(struct vmm *vm, enum gmem_abi_counter c)
{
	atomic_fetch_add_explicit(&vm->cnt[c], 1, memory_order_relaxed);
}

static void count_error(struct vmm *vm, int err)
{
	switch (err) {
	case -ERANGE: count(vm, GMEM_ABI_CNT_BAD_RANGE); break;
	case -EINVAL: count(vm, GMEM_ABI_CNT_BAD_ALIGN); break;
	case -EOVERFLOW: count(vm, GMEM_ABI_CNT_BAD_OVERFLOW); break;
	case -EOPNOTSUPP: count(vm, GMEM_ABI_CNT_BAD_OP); break;
	case -EBUSY: count(vm, GMEM_ABI_CNT_BUSY); break;
	}
}

/* One checked conversion, timed (check and conversion: the host's work). */
static int convert_timed(struct vmm *vm, uint32_t op, uint64_t gpa, uint64_t len,
			 uint64_t *dt)
{
	uint64_t t0 = timing_now_ns();
	int err = vmm_check_request(vm->cfg.mem_size, op, gpa, len);

	if (!err)
		err = op == GMEM_ABI_OP_SHARE ? gmem_share(vm->mem, gpa, len) :
						gmem_unshare(vm->mem, gpa, len);
	if (err)
		count_error(vm, err);
	else
		count(vm, GMEM_ABI_CNT_CONV_OK);
	*dt = timing_now_ns() - t0;
	atomic_fetch_add_explicit(&vm->cnt[GMEM_ABI_CNT_CONV_HOST_NS], *dt,
				  memory_order_relaxed);
	return err;
}

/* The host's time on a vCPU's last request, for the guest's cost split. */
static void report_host_ns(struct vmm_vcpu *vcpu, uint64_t dt)
{
	if (vcpu && vcpu->page)
		vcpu->page->conv_host_ns = dt;
}

/* One checked conversion request, from any transport.  The host's time
 * on it (check and conversion, not the exit or ring that brought it here)
 * is counted (GMEM_ABI_CNT_CONV_HOST_NS) and goes to the vCPU page, so the
 * guest can split the cost it observed into the exit (or ring latency) and
 * the host's work; vcpu may be NULL (no page to write: host tests). */
int vmm_convert(struct vmm *vm, struct vmm_vcpu *vcpu, uint32_t op,
		    uint64_t gpa, uint64_t len)
{
	uint64_t dt;
	int err = convert_timed(vm, op, gpa, len, &dt);

	report_host_ns(vcpu, dt);
	return err;
}

int vmm_convert_flags(struct vmm *vm, struct vmm_vcpu *vcpu, uint32_t op,
		      uint32_t flags, uint64_t gpa, uint64_t len, uint64_t *done)
{
	uint64_t end;
	int err;

	*done = 0;
	if (flags & ~GMEM_ABI_CONV_F_PARTIAL) {
		count(vm, GMEM_ABI_CNT_BAD_OP);
		return -EOPNOTSUPP;
	}
	if (flags & GMEM_ABI_CONV_F_PARTIAL) {
		/* The whole request is checked; the host then stops early. */
		err = vmm_check_request(vm->cfg.mem_size, op, gpa, len);
		if (err) {
			count_error(vm, err);
			return err;
		}
		end = (gpa / GMEM_ABI_PARTIAL_STEP + 1) * GMEM_ABI_PARTIAL_STEP;
		if (end - gpa < len)
			len = end - gpa;
	}
	err = vmm_convert(vm, vcpu, op, gpa, len);
	if (!err)
		*done = len;
	return err;
}

/*
 * CONVERT_LIST: n entries of the vCPU page's list, copied once, done in
 * order until the first error; *result = entries done.  The host time of
 * all of them is reported as the request's.
 */
static int convert_list(struct vmm_vcpu *vcpu, uint64_t n, uint64_t *result)
{
	struct gmem_abi_conv_entry e[GMEM_ABI_LIST_MAX];
	struct vmm *vm = vcpu->vm;
	uint64_t dt, sum = 0, i;
	int err = 0;

	if (!n || n > GMEM_ABI_LIST_MAX) {
		count(vm, GMEM_ABI_CNT_BAD_ALIGN);
		return -EINVAL;
	}
	memcpy(e, (const void *)vcpu->page->list, n * sizeof(e[0]));
	for (i = 0; i < n && !err; i++) {
		if (e[i].op != GMEM_ABI_OP_SHARE && e[i].op != GMEM_ABI_OP_UNSHARE) {
			count(vm, GMEM_ABI_CNT_BAD_OP);
			err = -EOPNOTSUPP;
			break;
		}
		err = convert_timed(vm, e[i].op, e[i].gpa, e[i].len, &dt);
		sum += dt;
		if (!err)
			(*result)++;
	}
	report_host_ns(vcpu, sum);
	return err;
}

static bool is_test_service(uint32_t op)
{
	return op >= GMEM_ABI_OP_CHECK_PATTERN && op <= GMEM_ABI_OP_COUNTER;
}

/* ---- doorbell ------------------------------------------------------------- */

int vmm_handle_doorbell(struct vmm_vcpu *vcpu, uint32_t value)
{
	volatile struct gmem_abi_mailbox *mb = &vcpu->page->mbox;
	struct vmm *vm = vcpu->vm;
	struct gmem_abi_mailbox req;
	uint64_t result = 0;
	int err;

	count(vm, GMEM_ABI_CNT_DOORBELLS);
	/* Read the request exactly once; only the copy is used. */
	req.op = mb->op;
	req.flags = mb->flags;
	req.gpa = mb->gpa;
	req.len = mb->len;
	req.arg = mb->arg;

	if (value != vcpu->index) {
		err = -EINVAL;			/* not this vCPU's mailbox */
		count(vm, GMEM_ABI_CNT_BAD_OP);
		goto out;
	}
	if (req.flags && req.op != GMEM_ABI_OP_SHARE && req.op != GMEM_ABI_OP_UNSHARE) {
		err = -EOPNOTSUPP;
		count(vm, GMEM_ABI_CNT_BAD_OP);
		goto out;
	}
	/* bench reads the VMM's conversion counters around its series */
	if (is_test_service(req.op) && !vm->services &&
	    !(req.op == GMEM_ABI_OP_COUNTER && vm->cfg.test == GMEM_ABI_TEST_BENCH)) {
		err = -EOPNOTSUPP;		/* not a run that asked for them */
		count(vm, GMEM_ABI_CNT_SERVICE_REFUSED);
		goto out;
	}
	switch (req.op) {
	case GMEM_ABI_OP_NOP:
		err = 0;
		break;
	case GMEM_ABI_OP_SHARE:
	case GMEM_ABI_OP_UNSHARE:
		err = vmm_convert_flags(vm, vcpu, req.op, req.flags, req.gpa, req.len,
					&result);
		break;
	case GMEM_ABI_OP_CONVERT_LIST:
		err = convert_list(vcpu, req.len, &result);
		break;
	case GMEM_ABI_OP_HOST_TIME:
		result = timing_now_ns();
		err = 0;
		break;
	case GMEM_ABI_OP_CHECK_PATTERN:
	case GMEM_ABI_OP_CHECK_ZERO:
	case GMEM_ABI_OP_CHECK_PRIVATE:
	case GMEM_ABI_OP_PIN:
	case GMEM_ABI_OP_UNPIN:
		err = vm->services->handle(vm, req.op, req.gpa, req.len, req.arg,
					   &result);
		if (req.op == GMEM_ABI_OP_UNPIN && err == -ENOENT)
			count(vm, GMEM_ABI_CNT_UNPIN_REFUSED);
		break;
	case GMEM_ABI_OP_COUNTER:
		if (req.arg == GMEM_ABI_CNT_QUEUE_CPU_NS) {
			result = vmm_convq_cpu_ns(vm);
			err = 0;
		} else if (req.arg < GMEM_ABI_CNT_MAX) {
			result = atomic_load(&vm->cnt[req.arg]);
			err = 0;
		} else {
			err = -EINVAL;
		}
		break;
	default:
		err = -EOPNOTSUPP;
		count(vm, GMEM_ABI_CNT_BAD_OP);
		break;
	}
out:
	mb->result = result;
	mb->status = err;
	return err;
}

/* ---- hypercall ------------------------------------------------------------ */

/* A gmem / check errno as KVM's hypercall ABI says it (abi.h): the KVM_E*
 * set, plus -EBUSY (gmemkit's extension: pinned pages, retry). */
int64_t vmm_hypercall_status(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -EBUSY:
		return -GMEM_ABI_EBUSY;
	case -EINVAL:
	case -EOVERFLOW:
	case -EALREADY:
		return -GMEM_ABI_KVM_EINVAL;
	case -EOPNOTSUPP:
		return -GMEM_ABI_KVM_EOPNOTSUPP;
	case -ENOSYS:
		return -GMEM_ABI_KVM_ENOSYS;
	default:		/* -ERANGE: outside RAM; -ENOMEM, host errors */
		return -GMEM_ABI_KVM_EFAULT;
	}
}

int vmm_handle_hypercall(struct vmm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vmm *vm = vcpu->vm;
	uint64_t gpa, npages, attrs;
	uint32_t op, mode;
	int err;

	count(vm, GMEM_ABI_CNT_HYPERCALLS);
	gpa = run->hypercall.args[0];
	npages = run->hypercall.args[1];
	attrs = run->hypercall.args[2];
	/* flags (older headers: u32 longmode, the same bit 0); the upper half
	 * was padding that older kernels never wrote. */
	mode = run->hypercall.longmode;
	if (run->hypercall.nr != GMEM_ABI_HC_MAP_GPA_RANGE) {
		err = -ENOSYS;
		count(vm, GMEM_ABI_CNT_BAD_OP);
	} else if (mode & ~(uint32_t)KVM_EXIT_HYPERCALL_LONG_MODE) {
		err = -EOPNOTSUPP;		/* flags this VMM does not know */
		count(vm, GMEM_ABI_CNT_BAD_OP);
	} else if (!(mode & KVM_EXIT_HYPERCALL_LONG_MODE)) {
		err = -EINVAL;			/* the ABI is 64-bit only */
		count(vm, GMEM_ABI_CNT_BAD_OP);
	} else if (attrs & ~(GMEM_ABI_HC_ATTR_PRIVATE | GMEM_ABI_HC_ATTR_PAGE_MASK)) {
		err = -EOPNOTSUPP;
		count(vm, GMEM_ABI_CNT_BAD_OP);
	} else if (npages > UINT64_MAX / GMEM_ABI_PAGE_SIZE) {
		err = -EOVERFLOW;
		count(vm, GMEM_ABI_CNT_BAD_OVERFLOW);
	} else {
		/* Page size bits are a hint; conversion is 4 KiB granular. */
		op = attrs & GMEM_ABI_HC_ATTR_PRIVATE ? GMEM_ABI_OP_UNSHARE :
							GMEM_ABI_OP_SHARE;
		err = vmm_convert(vm, vcpu, op, gpa, npages * GMEM_ABI_PAGE_SIZE);
	}
	run->hypercall.ret = (uint64_t)vmm_hypercall_status(err);
	return err;
}

int vmm_hypercall_supported(int kvm_fd)
{
	int r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_HYPERCALL);

	if (r < 0)
		return -errno;
	return (r & (1 << KVM_HC_MAP_GPA_RANGE)) ? 1 : 0;
}

int vmm_enable_hypercall(int vm_fd)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_EXIT_HYPERCALL,
		.args = { 1ULL << KVM_HC_MAP_GPA_RANGE },
	};

	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap))
		return -errno;
	return 0;
}

/* ---- probe ---------------------------------------------------------------- */

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static bool probe_done;
static int probe_result;
static char probe_why[320];
static struct vmm_speed probe_speed;

/* Why a run that booted did not show a hypercall exit. */
static void probe_why_not(const struct vmm_result *res,
			  unsigned int timeout_ms, char *why, size_t len)
{
	if (res->end == VMM_END_TIMEOUT)
		snprintf(why, len,
			 "the vCPU stalled in the hypercall (no exit within %u ms)",
			 timeout_ms);
	else if (res->end == VMM_END_PANIC)
		snprintf(why, len,
			 "the hypercall instruction faulted in the guest (vector %llu)",
			 (unsigned long long)res->end_info);
	else if (res->end == VMM_END_SHUTDOWN)
		snprintf(why, len, "the hypercall ended in a triple fault");
	else if (res->end == VMM_END_DONE)
		snprintf(why, len,
			 "KVM answered the hypercall itself (%llu exits seen)",
			 (unsigned long long)res->counters.c[GMEM_ABI_CNT_HYPERCALLS]);
	else
		snprintf(why, len, "probe VM ended: %s", res->message);
}

static int probe_run(enum gmem_abi_test test, unsigned int timeout_ms,
		     char *why, size_t len, struct vmm_speed *speed)
{
	struct vmm_config cfg = {
		.vcpus = 1,
		.mem_size = GMEM_ABI_MEM_MIN,
		.transport = VMM_TRANSPORT_HYPERCALL,
		.test = test,
		.timeout_ms = timeout_ms,
		.quiet = true,
	};
	struct vmm_result res;
	struct vmm *vm;
	int err;

	if (speed)
		memset(speed, 0, sizeof(*speed));
	err = vmm_create(&cfg, &vm);
	if (err == -EOPNOTSUPP) {
		/* No exit asked for: the doorbell probe VM still tells where
		 * a guest runs. */
		snprintf(why, len,
			 "KVM_CAP_EXIT_HYPERCALL does not offer KVM_HC_MAP_GPA_RANGE");
		cfg.transport = VMM_TRANSPORT_DOORBELL;
		cfg.test = GMEM_ABI_TEST_HELLO;
		if (!vmm_create(&cfg, &vm)) {
			if (!vmm_run(vm, &res) && speed)
				*speed = res.speed;
			vmm_destroy(vm);
		}
		return VMM_PROBE_NO;
	}
	if (err) {
		snprintf(why, len, "cannot create the probe VM: %s",
			 err == -ENODEV ? "no /dev/kvm" : strerror(-err));
		return err;
	}
	err = vmm_run(vm, &res);
	vmm_destroy(vm);
	if (err) {
		snprintf(why, len, "probe VM did not run: %s",
			 strerror(-err));
		return err;
	}
	if (speed)
		*speed = res.speed;
	if (res.pass && res.counters.c[GMEM_ABI_CNT_HYPERCALLS] >= 1) {
		snprintf(why, len,
			 "KVM_HC_MAP_GPA_RANGE exits reach userspace");
		return VMM_PROBE_YES;
	}
	/* The guest reports its speed loop before its test: without it the
	 * guest never got to the hypercall and nothing is known. */
	if (!res.speed.measured) {
		snprintf(why, len, "unknown: the probe guest did not boot: %s",
			 res.message);
		return VMM_PROBE_UNKNOWN;
	}
	probe_why_not(&res, timeout_ms, why, len);
	return VMM_PROBE_NO;
}

/* The probe itself, uncached; test is GMEM_ABI_TEST_PROBE except in tests
 * that check how a stalled or faulting guest is classified. */
int vmm_probe_run(enum gmem_abi_test test, unsigned int timeout_ms,
		      char *why, size_t why_len)
{
	return probe_run(test, timeout_ms, why, why_len, NULL);
}

static int probe_cached(unsigned int timeout_ms)
{
	if (!timeout_ms)
		timeout_ms = VMM_PROBE_TIMEOUT_MS;
	if (!probe_done) {
		probe_result = probe_run(GMEM_ABI_TEST_PROBE, timeout_ms, probe_why,
					 sizeof(probe_why), &probe_speed);
		probe_done = probe_result >= 0 || probe_result == -ENODEV;
	}
	return probe_result;
}

int vmm_probe_hypercall_exit(unsigned int timeout_ms, const char **why)
{
	int r;

	pthread_mutex_lock(&probe_lock);
	r = probe_cached(timeout_ms);
	if (why)
		*why = probe_why;
	pthread_mutex_unlock(&probe_lock);
	return r;
}

int vmm_probe_queue(const char **why)
{
	struct kvm_ioeventfd e = { .addr = GMEM_ABI_CONVQ_KICK_GPA, .len = 4 };
	int kvm, vm, efd, r = 0;

	if (why)
		*why = "";
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -ENODEV;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		close(kvm);
		return -ENODEV;
	}
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0) {
		if (why)
			*why = "eventfd() failed";
	} else {
		e.fd = efd;
		if (ioctl(vm, KVM_IOEVENTFD, &e)) {
			if (why)
				*why = "KVM_IOEVENTFD refused on the kick address";
		} else {
			e.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
			ioctl(vm, KVM_IOEVENTFD, &e);
			r = 1;
			if (why)
				*why = "an ioeventfd on the kick address works (all it needs)";
		}
		close(efd);
	}
	close(vm);
	close(kvm);
	return r;
}

int vmm_probe_guest_speed(struct vmm_speed *out)
{
	int r;

	if (!out)
		return -EINVAL;
	pthread_mutex_lock(&probe_lock);
	r = probe_cached(VMM_PROBE_TIMEOUT_MS);
	*out = probe_speed;
	pthread_mutex_unlock(&probe_lock);
	if (r < 0)
		return r;
	return out->measured ? 0 : -EHOSTDOWN;
}

enum vmm_transport vmm_resolve_auto(void)
{
	return vmm_probe_hypercall_exit(VMM_PROBE_TIMEOUT_MS, NULL) == 1 ?
	       VMM_TRANSPORT_HYPERCALL : VMM_TRANSPORT_DOORBELL;
}
