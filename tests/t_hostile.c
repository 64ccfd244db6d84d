// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest against the library and the VMM's transport, natively
 * (no KVM): the pin-stealing sequences (a guest UNPIN of the VMM's mailbox
 * pin, of a device's I/O pin), pins with owners, test services closed
 * outside the self-tests, hypercall status codes and exit flags, unshare
 * that never marks pages busy when it is refused, and the violation
 * handler (sent SIGSEGVs are not violations, probes are not violations, a
 * fault racing gmem_destroy(), a real violation kills with a message).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gmemkit/gmem.h"
#include "harness/violation.h"
#include "harness/services.h"
#include "tap.h"
#include "../vmm/vm_internal.h"	/* the transport's handlers */

#define PG	GMEM_PAGE_SIZE
#define MEM	(4ULL << 20)

static struct gmem *mk(uint64_t size, const char *name)
{
	struct gmem_config cfg = {
		.size = size, .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
		.name = name,
	};
	struct gmem *g = NULL;

	if (gmem_create(&cfg, &g))
		tap_bail("gmem_create failed");
	return g;
}

/* ---- a SIGSEGV handler installed before gmem's: where chained ones go ---- */

static atomic_int chained;
static atomic_int chained_code;

static void prev_handler(int sig, siginfo_t *info, void *uctx)
{
	(void)sig;
	(void)uctx;
	atomic_store(&chained_code, info->si_code);
	atomic_fetch_add(&chained, 1);
}

static void install_prev(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = prev_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL))
		tap_bail("sigaction");
}

/* ---- a VMM as the transport sees it (no KVM) -------------------------------- */

struct fake {
	struct vmm vm;
	struct vmm_vcpu vcpu;
	struct kvm_run run;
};

static void fake_init(struct fake *f, bool services)
{
	void *p;

	memset(f, 0, sizeof(*f));
	f->vm.mem = mk(MEM, "t-hostile-ram");
	f->vm.cfg.mem_size = MEM;
	f->vm.services = services ? &harness_services : NULL;
	f->vm.nr_vcpus = 1;
	f->vm.vcpus = &f->vcpu;
	f->vcpu.vm = &f->vm;
	f->vcpu.run = &f->run;
	f->vcpu.run_size = sizeof(f->run);
	/* As vmm_create(): boot info, results, vCPU page shared + pinned. */
	if (gmem_share(f->vm.mem, GMEM_ABI_BOOT_INFO_GPA, 2 * PG) ||
	    gmem_share(f->vm.mem, GMEM_ABI_VCPU_PAGE_GPA, PG) ||
	    gmem_pin(f->vm.mem, GMEM_ABI_BOOT_INFO_GPA, 2 * PG) ||
	    gmem_pin_ptr(f->vm.mem, GMEM_ABI_VCPU_PAGE_GPA, PG, &p))
		tap_bail("fake VMM setup");
	f->vcpu.page = p;
}

static void fake_exit(struct fake *f)
{
	gmem_destroy(f->vm.mem);
}

static int64_t doorbell(struct fake *f, uint32_t op, uint64_t gpa, uint64_t len,
			uint64_t arg)
{
	volatile struct gmem_abi_mailbox *mb = &f->vcpu.page->mbox;

	mb->op = op;
	mb->flags = 0;
	mb->gpa = gpa;
	mb->len = len;
	mb->arg = arg;
	vmm_handle_doorbell(&f->vcpu, 0);
	return mb->status;
}

static int64_t hypercall(struct fake *f, uint64_t gpa, uint64_t npages, uint64_t attrs,
			 uint32_t flags, uint64_t nr)
{
	memset(&f->run, 0, sizeof(f->run));
	f->run.exit_reason = KVM_EXIT_HYPERCALL;
	f->run.hypercall.nr = nr;
	f->run.hypercall.args[0] = gpa;
	f->run.hypercall.args[1] = npages;
	f->run.hypercall.args[2] = attrs;
	f->run.hypercall.longmode = flags;
	vmm_handle_hypercall(&f->vcpu);
	return (int64_t)f->run.hypercall.ret;
}

static uint64_t cnt(struct fake *f, enum gmem_abi_counter c)
{
	return atomic_load(&f->vm.cnt[c]);
}

static struct gmem_stats stats(struct gmem *g)
{
	struct gmem_stats st;

	gmem_get_stats(g, &st);
	return st;
}

/* ---- item 1: the reproduced sequence, against the library ------------------ */

static void test_mailbox_library(void)
{
	struct gmem *g = mk(MEM, "t-mbox");
	uint64_t mbox = GMEM_ABI_VCPU_PAGE_GPA;
	void *p;

	ok(!gmem_share(g, mbox, PG) && !gmem_pin_ptr(g, mbox, PG, &p),
	   "library: the VMM shares and pins the mailbox page");
	ok_eq(gmem_unshare(g, mbox, PG), -EBUSY, "library: unshare of the pinned mailbox");
	ok_eq(gmem_unpin_as(g, mbox, PG, GMEM_PIN_GUEST), -ENOENT,
	      "library: a guest-owned unpin finds no guest pin: refused");
	ok(gmem_page_pins_of(g, mbox, GMEM_PIN_HOST) == 1 &&
	   gmem_page_pins_of(g, mbox, GMEM_PIN_GUEST) == 0,
	   "library: the VMM's pin is still there");
	ok_eq(gmem_unshare(g, mbox, PG), -EBUSY, "library: the next unshare is still refused");
	((volatile uint8_t *)p)[0x28] = 1;	/* the reply write: still shared */
	ok(stats(g).guest_unpin_refused == 1 && stats(g).unpin_missing == 0 &&
	   stats(g).violations == 0,
	   "library: the refused guest unpin counted, no VMM bug, no violation");
	ok_eq(gmem_unpin_bytes(g, mbox, PG), 0, "library: the VMM drops its pin");
	gmem_destroy(g);
}

/* ---- item 1, second sequence: a device's pins, against the library ---------- */

static void test_device_pin_library(void)
{
	struct gmem *g = mk(64 * PG, "t-dev");
	uint64_t buf = 8 * PG;
	void *p;

	ok(!gmem_share(g, buf, 2 * PG) && !gmem_pin_ptr(g, buf, 2 * PG, &p),
	   "library: the device pins a 2-page I/O buffer");
	ok_eq(gmem_unpin_as(g, buf, PG, GMEM_PIN_GUEST), -ENOENT,
	      "library: a guest unpin of the device's pin is refused");
	ok_eq(gmem_unshare(g, buf, 2 * PG), -EBUSY,
	      "library: the buffer cannot go private under the device");
	ok_eq(gmem_unpin_bytes(g, buf, 2 * PG), 0,
	      "library: the device's completion unpin finds both pins");
	ok(gmem_page_pins(g, buf) == 0 && gmem_page_pins(g, buf + PG) == 0,
	   "library: no pin leaked on either page");
	ok_eq(gmem_unpin_bytes(g, buf, 2 * PG), -ENOENT,
	      "library: a second device unpin finds nothing");
	ok_eq(stats(g).unpin_missing, 1, "library: ... and is counted as a VMM bug");
	gmem_destroy(g);
}

/* ---- pins with owners ------------------------------------------------------------ */

static void test_owners(void)
{
	struct gmem *g = mk(16 * PG, "t-owners");
	unsigned int i;
	int err = 0;

	gmem_share(g, 0, 16 * PG);
	ok(!gmem_pin_as(g, 0, 2 * PG, GMEM_PIN_GUEST) && !gmem_pin(g, PG, PG),
	   "owners: guest pins pages 0-1, host pins page 1");
	ok(gmem_page_pins(g, PG) == 2 && gmem_page_pins_of(g, PG, GMEM_PIN_GUEST) == 1 &&
	   gmem_page_pins_of(g, PG, GMEM_PIN_HOST) == 1, "owners: counted per owner");
	ok_eq(gmem_unpin(g, 0, 2 * PG), -ENOENT,
	      "owners: a host unpin over a guest-only page is refused whole");
	ok(gmem_page_pins_of(g, PG, GMEM_PIN_HOST) == 1 &&
	   gmem_page_pins_of(g, 0, GMEM_PIN_GUEST) == 1,
	   "owners: ... and changed nothing");
	ok_eq(gmem_unpin_as(g, 0, 2 * PG, GMEM_PIN_GUEST), 0,
	      "owners: the guest releases its own pins");
	ok_eq(gmem_unpin_as(g, PG, PG, GMEM_PIN_GUEST), -ENOENT,
	      "owners: a second guest unpin cannot take the host's pin");
	ok_eq(gmem_page_pins_of(g, PG, GMEM_PIN_HOST), 1, "owners: host pin intact");
	ok_eq(gmem_unshare(g, PG, PG), -EBUSY, "owners: page still pinned by the host");
	ok_eq(gmem_unpin(g, PG, PG), 0, "owners: host unpin");
	for (i = 0; i < GMEM_GUEST_PIN_MAX && !err; i++)
		err = gmem_pin_as(g, 4 * PG, PG, GMEM_PIN_GUEST);
	ok(!err && gmem_pin_as(g, 4 * PG, PG, GMEM_PIN_GUEST) == -EMLINK,
	   "owners: at most %u guest pins per page, then -EMLINK", GMEM_GUEST_PIN_MAX);
	ok(gmem_pin(g, 4 * PG, PG) == 0 &&
	   gmem_page_pins_of(g, 4 * PG, GMEM_PIN_HOST) == 1,
	   "owners: the host can still pin a page full of guest pins");
	ok(gmem_pin_as(g, 0, PG, (enum gmem_pin_owner)7) == -EINVAL &&
	   gmem_unpin_as(g, 0, PG, (enum gmem_pin_owner)7) == -EINVAL &&
	   gmem_page_pins_of(g, 0, (enum gmem_pin_owner)7) == -EINVAL,
	   "owners: unknown owner -EINVAL");
	ok(stats(g).unpin_missing == 1 && stats(g).guest_unpin_refused == 1,
	   "owners: refusals counted per owner (host %llu, guest %llu)",
	   (unsigned long long)stats(g).unpin_missing,
	   (unsigned long long)stats(g).guest_unpin_refused);
	gmem_destroy(g);
}

/* ---- item 1 through the transport: services off and on ---------------------- */

static void test_transport_services(void)
{
	static const uint32_t ops[] = {
		GMEM_ABI_OP_CHECK_PATTERN, GMEM_ABI_OP_CHECK_ZERO,
		GMEM_ABI_OP_CHECK_PRIVATE, GMEM_ABI_OP_PIN, GMEM_ABI_OP_UNPIN,
		GMEM_ABI_OP_COUNTER,
	};
	uint64_t mbox = GMEM_ABI_VCPU_PAGE_GPA, t = 64 * PG;
	struct fake f;
	unsigned int i, refused = 0;

	fake_init(&f, false);
	gmem_share(f.vm.mem, t, PG);
	ok_eq(doorbell(&f, GMEM_ABI_OP_UNSHARE, mbox, PG, 0), -EBUSY,
	      "services off: unshare of the pinned mailbox");
	ok_eq(doorbell(&f, GMEM_ABI_OP_UNPIN, mbox, PG, 0), -EOPNOTSUPP,
	      "services off: UNPIN of the mailbox refused");
	ok_eq(doorbell(&f, GMEM_ABI_OP_UNSHARE, mbox, PG, 0), -EBUSY,
	      "services off: the next unshare still refused (and the reply written)");
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		refused += doorbell(&f, ops[i], t, PG, 0) == -EOPNOTSUPP;
	ok_eq(refused, 6, "services off: every test service op refused");
	ok_eq(cnt(&f, GMEM_ABI_CNT_SERVICE_REFUSED), 7, "services off: each refusal counted");
	ok(gmem_page_pins(f.vm.mem, t) == 0, "services off: the refused PIN pinned nothing");
	ok(doorbell(&f, GMEM_ABI_OP_HOST_TIME, 0, 0, 0) == 0 && f.vcpu.page->mbox.result,
	   "services off: host time still answered");
	ok_eq(gmem_page_pins_of(f.vm.mem, mbox, GMEM_PIN_HOST), 1,
	      "services off: the VMM's mailbox pin intact");
	fake_exit(&f);

	fake_init(&f, true);
	gmem_share(f.vm.mem, t, 2 * PG);
	ok_eq(doorbell(&f, GMEM_ABI_OP_UNPIN, mbox, PG, 0), -ENOENT,
	      "services on: UNPIN of the VMM's mailbox pin refused");
	ok_eq(doorbell(&f, GMEM_ABI_OP_UNSHARE, mbox, PG, 0), -EBUSY,
	      "services on: the mailbox stays pinned");
	ok_eq(cnt(&f, GMEM_ABI_CNT_UNPIN_REFUSED), 1, "services on: refused UNPIN counted");
	ok_eq(doorbell(&f, GMEM_ABI_OP_PIN, t, 2 * PG, 0), 0, "services on: guest PIN");
	ok_eq(doorbell(&f, GMEM_ABI_OP_UNSHARE, t, 2 * PG, 0), -EBUSY,
	      "services on: guest-pinned pages refuse unshare");
	ok_eq(doorbell(&f, GMEM_ABI_OP_UNPIN, t, 2 * PG, 0), 0, "services on: guest UNPIN");
	ok_eq(doorbell(&f, GMEM_ABI_OP_UNPIN, t, 2 * PG, 0), -ENOENT,
	      "services on: a second UNPIN refused");
	ok_eq(doorbell(&f, GMEM_ABI_OP_CHECK_PRIVATE, 80 * PG, PG, 0), 0,
	      "services on: CHECK_PRIVATE of a private page");
	ok(stats(f.vm.mem).probe_faults == 1 && stats(f.vm.mem).violations == 0,
	   "services on: its probe is a probe fault, not a violation");
	ok_eq(doorbell(&f, GMEM_ABI_OP_COUNTER, 0, 0, GMEM_ABI_CNT_UNPIN_REFUSED), 0,
	      "services on: COUNTER answers");
	ok_eq(f.vcpu.page->mbox.result, 2, "services on: COUNTER reads the refusals");
	ok(stats(f.vm.mem).unpin_missing == 0, "services on: no VMM unpin bug");
	fake_exit(&f);
}

/* ---- item 5: hypercall status codes and exit flags --------------------------- */

static void test_hypercall(void)
{
	const uint32_t lm = KVM_EXIT_HYPERCALL_LONG_MODE;
	const uint64_t priv = GMEM_ABI_HC_ATTR_PRIVATE;
	uint64_t t = 64 * PG;
	struct fake f;

	fake_init(&f, false);
	ok_eq(hypercall(&f, t, 1, 0, lm, GMEM_ABI_HC_MAP_GPA_RANGE), 0, "hc: share");
	ok_eq(hypercall(&f, MEM, 1, 0, lm, GMEM_ABI_HC_MAP_GPA_RANGE),
	      -GMEM_ABI_KVM_EFAULT, "hc: outside RAM -KVM_EFAULT");
	ok_eq(hypercall(&f, t + 1, 1, 0, lm, GMEM_ABI_HC_MAP_GPA_RANGE),
	      -GMEM_ABI_KVM_EINVAL, "hc: unaligned -KVM_EINVAL");
	ok_eq(hypercall(&f, t, 0, 0, lm, GMEM_ABI_HC_MAP_GPA_RANGE),
	      -GMEM_ABI_KVM_EINVAL, "hc: zero pages -KVM_EINVAL");
	ok_eq(hypercall(&f, t, 1ULL << 60, 0, lm, GMEM_ABI_HC_MAP_GPA_RANGE),
	      -GMEM_ABI_KVM_EINVAL, "hc: npages * 4096 wraps -KVM_EINVAL");
	ok_eq(hypercall(&f, t, 1, 1ULL << 8, lm, GMEM_ABI_HC_MAP_GPA_RANGE),
	      -GMEM_ABI_KVM_EOPNOTSUPP, "hc: unknown attributes -KVM_EOPNOTSUPP");
	ok_eq(hypercall(&f, t, 1, 0, lm, 5), -GMEM_ABI_KVM_ENOSYS,
	      "hc: unknown number -KVM_ENOSYS");
	ok_eq(hypercall(&f, GMEM_ABI_VCPU_PAGE_GPA, 1, priv, lm, GMEM_ABI_HC_MAP_GPA_RANGE),
	      -GMEM_ABI_EBUSY, "hc: pinned pages -EBUSY (gmemkit's extension)");
	ok_eq(hypercall(&f, t, 1, priv, 0, GMEM_ABI_HC_MAP_GPA_RANGE),
	      -GMEM_ABI_KVM_EINVAL, "hc: not in long mode -KVM_EINVAL");
	ok_eq(gmem_page_state(f.vm.mem, t), GMEM_SHARED, "hc: ... and nothing converted");
	ok_eq(hypercall(&f, t, 1, priv, lm | 2, GMEM_ABI_HC_MAP_GPA_RANGE),
	      -GMEM_ABI_KVM_EOPNOTSUPP, "hc: unknown exit flag -KVM_EOPNOTSUPP");
	ok_eq(cnt(&f, GMEM_ABI_CNT_BAD_OP), 4, "hc: op/flag refusals counted");
	ok_eq(hypercall(&f, t, 1, priv, lm, GMEM_ABI_HC_MAP_GPA_RANGE), 0, "hc: unshare");
	ok(vmm_hypercall_status(-ENOMEM) == -GMEM_ABI_KVM_EFAULT &&
	   vmm_hypercall_status(-EALREADY) == -GMEM_ABI_KVM_EINVAL,
	   "hc: host failures and destructive refusals mapped");
	fake_exit(&f);
}

/* ---- item 4: a refused unshare never makes other pages refuse pins -------------- */

struct race {
	struct gmem *g;
	atomic_bool stop;
	atomic_int bad_pin, unshares;
};

static void *unsharer(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		/* page 7 is pinned for good: always refused */
		if (gmem_unshare(r->g, 0, 8 * PG) != -EBUSY)
			atomic_fetch_add(&r->bad_pin, 1000);
		atomic_fetch_add(&r->unshares, 1);
	}
	return NULL;
}

static void test_unshare_no_transient_busy(void)
{
	struct race r = { .g = mk(16 * PG, "t-busy") };
	pthread_t t;
	int i;

	gmem_share(r.g, 0, 16 * PG);
	gmem_pin(r.g, 7 * PG, PG);
	pthread_create(&t, NULL, unsharer, &r);
	for (i = 0; i < 20000 || atomic_load(&r.unshares) < 100; i++) {
		int err = gmem_pin(r.g, (uint64_t)(i % 7) * PG, PG);

		if (err)
			atomic_fetch_add(&r.bad_pin, 1);
		else
			gmem_unpin(r.g, (uint64_t)(i % 7) * PG, PG);
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	ok_eq(atomic_load(&r.bad_pin), 0,
	      "a refused unshare of [0, 8) never made pages 0-6 refuse a pin "
	      "(%d pins against %d unshares)", i, atomic_load(&r.unshares));
	ok(stats(r.g).refusals >= 100 && gmem_page_state(r.g, 0) == GMEM_SHARED,
	   "every unshare refused, nothing converted");
	gmem_unpin(r.g, 7 * PG, PG);
	gmem_destroy(r.g);
}

static void *converter(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		gmem_share(r->g, 0, 4 * PG);
		gmem_unshare(r->g, 0, 4 * PG);
		atomic_fetch_add(&r->unshares, 1);
	}
	return NULL;
}

static void test_pin_converting(void)
{
	struct race r = { .g = mk(16 * PG, "t-conv") };
	pthread_t t;
	int i, eacces = 0, ebusy = 0, okn = 0;

	pthread_create(&t, NULL, converter, &r);
	for (i = 0; i < 20000 || atomic_load(&r.unshares) < 100; i++) {
		int err = gmem_pin(r.g, 3 * PG, PG);

		if (!err) {
			okn++;
			if (violation_try_access(r.g, 3 * PG, true))
				atomic_fetch_add(&r.bad_pin, 1);
			gmem_unpin(r.g, 3 * PG, PG);
		} else if (err == -EACCES) {
			eacces++;
		} else if (err == -EBUSY) {
			ebusy++;
		} else {
			atomic_fetch_add(&r.bad_pin, 1);
		}
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	ok_eq(atomic_load(&r.bad_pin), 0,
	      "pins racing conversions: 0, -EACCES (private) or -EBUSY (converting) "
	      "only (%d / %d / %d), pinned pages reachable", okn, eacces, ebusy);
	ok(stats(r.g).violations == 0, "pins racing conversions: no violation");
	gmem_destroy(r.g);
}

/* ---- item 3: the violation handler ------------------------------------------ */

static void test_sent_sigsegv(void)
{
	struct gmem *g = mk(4 * PG, "t-sent");
	siginfo_t si;
	int before = atomic_load(&chained);

	kill(getpid(), SIGSEGV);
	ok(atomic_load(&chained) == before + 1 && atomic_load(&chained_code) == SI_USER,
	   "kill(SIGSEGV) goes to the previous handler");
	/* A forged siginfo naming a private page of the region. */
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGSEGV;
	si.si_code = SI_QUEUE;
	si.si_addr = (char *)gmem_host_view(g) + PG;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGSEGV, &si);
	ok(atomic_load(&chained) == before + 2 && atomic_load(&chained_code) == SI_QUEUE,
	   "a queued SIGSEGV naming a private page goes to the previous handler");
	ok(stats(g).violations == 0 && stats(g).probe_faults == 0,
	   "sent signals are neither violations nor probes");
	gmem_destroy(g);
}

struct churn {
	atomic_bool stop;
	atomic_int cycles;
};

static void *create_destroy(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(&c->stop)) {
		struct gmem *g = mk(4 * PG, "t-churn");

		gmem_destroy(g);
		atomic_fetch_add(&c->cycles, 1);
	}
	return NULL;
}

static void test_fault_vs_destroy(void)
{
	struct gmem *g = mk(4 * PG, "t-probe");
	struct churn c = { 0 };
	pthread_t t;
	int i, bad = 0;

	pthread_create(&t, NULL, create_destroy, &c);
	for (i = 0; i < 20000 || atomic_load(&c.cycles) < 200; i++)
		bad += violation_try_access(g, (uint64_t)(i % 4) * PG, i & 1) != -EFAULT;
	atomic_store(&c.stop, true);
	pthread_join(t, NULL);
	ok(!bad && stats(g).probe_faults == (uint64_t)i && stats(g).violations == 0,
	   "%d faulting probes while another thread created and destroyed %d regions: "
	   "all caught and counted as probes", i, atomic_load(&c.cycles));
	gmem_destroy(g);
}

/* The callback of the child below: async-signal-safe only. */
static int cb_fd = -1;

static void child_cb(const struct gmem_violation *v, void *arg)
{
	struct gmem_stats st;
	uint64_t rec[3];

	(void)arg;
	gmem_get_stats(v->region, &st);
	rec[0] = v->offset;
	rec[1] = v->write;
	rec[2] = st.violations;
	if (write(cb_fd, rec, sizeof(rec)) < 0)
		_exit(3);
}

static void test_real_violation(void)
{
	int out[2], err[2], status = 0;
	char msg[512] = "";
	uint64_t rec[3] = { 0 };
	ssize_t n;
	pid_t pid;

	if (pipe(out) || pipe(err))
		tap_bail("pipe");
	pid = fork();
	if (pid == 0) {
		struct gmem *g = mk(8 * PG, "t-victim");

		close(out[0]);
		close(err[0]);
		dup2(err[1], STDERR_FILENO);
		cb_fd = out[1];
		if (violation_watch())
			_exit(3);
		violation_set_callback(child_cb, NULL);
		((volatile uint8_t *)gmem_host_view(g))[3 * PG + 5] = 1;
		_exit(0);	/* not reached */
	}
	close(out[1]);
	close(err[1]);
	n = read(out[0], rec, sizeof(rec));
	(void)!read(err[0], msg, sizeof(msg) - 1);
	waitpid(pid, &status, 0);
	close(out[0]);
	close(err[0]);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	   "a host write to a private page kills the process with SIGSEGV");
	ok(strstr(msg, "protection violation: host write to private page of region "
		       "'t-victim' at offset 0x3005") != NULL,
	   "... after naming region and offset (%.120s)", msg);
	ok(n == sizeof(rec) && rec[0] == 3 * PG + 5 && rec[1] == 1 && rec[2] == 1,
	   "... and the violation callback saw offset, write and the count");
}

/* In a fresh process (no handler before gmem's): kill(SIGSEGV) must still
 * kill, as it would without gmem, and not as a violation. */
static int child_kill(void)
{
	struct gmem *g = mk(4 * PG, "t-kill");

	kill(getpid(), SIGSEGV);
	gmem_destroy(g);
	return 0;		/* survived: wrong */
}

static void test_sent_sigsegv_default(const char *self)
{
	int err[2], status = 0;
	char msg[256] = "", sink[4096];
	size_t used = 0;
	pid_t pid;

	if (pipe(err))
		tap_bail("pipe");
	pid = fork();
	if (pid == 0) {
		close(err[0]);
		dup2(err[1], STDERR_FILENO);
		execl(self, self, "--child-kill", (char *)NULL);
		_exit(4);
	}
	close(err[1]);
	for (;;) {		/* keep the start, drain the rest (no SIGPIPE) */
		ssize_t n = used < sizeof(msg) - 1 ?
			    read(err[0], msg + used, sizeof(msg) - 1 - used) :
			    read(err[0], sink, sizeof(sink));

		if (n <= 0)
			break;
		if (used < sizeof(msg) - 1)
			used += (size_t)n;
	}
	close(err[0]);
	waitpid(pid, &status, 0);
	/* Without sanitizers the default action kills with SIGSEGV; under
	 * ASan its own SEGV handler (installed first) reports and exits. */
	ok(!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	   (WIFSIGNALED(status) ? WTERMSIG(status) == SIGSEGV : true) &&
	   !strstr(msg, "protection violation"),
	   "kill(SIGSEGV) with no earlier handler: not survived, no violation "
	   "(status 0x%x)", status);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--child-kill"))
		return child_kill();
	install_prev();		/* before gmem installs its own */
	test_mailbox_library();
	test_device_pin_library();
	test_owners();
	test_transport_services();
	test_hypercall();
	test_unshare_no_transient_busy();
	test_pin_converting();
	test_sent_sigsegv();
	test_sent_sigsegv_default("/proc/self/exe");
	test_fault_vs_destroy();
	test_real_violation();
	return tap_done();
}
