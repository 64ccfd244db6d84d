// SPDX-License-Identifier: GPL-2.0
/*
 * The VMM and its guest: boot, console, the conversion transport (doorbell
 * and, where the probe says it works, hypercall), the guest self-tests
 * (convert, badreq, smp, destructive convert), the probe, the measurement
 * entry point, and runs that must end with a clear message (exception,
 * triple fault, watchdog).  Needs /dev/kvm: without it only the checks
 * that need no VM run and the rest SKIP with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <sys/eventfd.h>
#include <string.h>
#include <unistd.h>

#include "gmemkit/timing.h"
#include "gmemkit/bench_convert.h"
#include "gmemkit/vm.h"
#include "harness/services.h"
#include "tap.h"
#include "../vmm/vm_internal.h"	/* vmm_probe_run() */

#define MiB (1ULL << 20)

static int hc_probe = -1;
static const char *hc_why = "";

struct run {
	int create_err, run_err;
	struct vmm_result res;
	struct gmem_stats mem;
	int vmm_pins;		/* fewest host pins on the VMM's own pages */
	uint64_t ms;
};

/* The fewest VMM (host-owned) pins on boot info, results and vCPU pages. */
static int vmm_pins(struct vmm *vm, unsigned int vcpus)
{
	struct gmem *g = vmm_memory(vm);
	int n = gmem_page_pins_of(g, GMEM_ABI_BOOT_INFO_GPA, GMEM_PIN_HOST), p;
	unsigned int i;

	p = gmem_page_pins_of(g, GMEM_ABI_RESULTS_GPA, GMEM_PIN_HOST);
	n = p < n ? p : n;
	for (i = 0; i < vcpus; i++) {
		p = gmem_page_pins_of(g, GMEM_ABI_VCPU_PAGE_GPA + i * GMEM_ABI_PAGE_SIZE,
				      GMEM_PIN_HOST);
		n = p < n ? p : n;
	}
	return n;
}

static void run_vm(const struct vmm_config *in, struct run *r)
{
	struct vmm_config cfg = *in;

	cfg.services = &harness_services;
	struct vmm *vm;
	uint64_t t0 = timing_now_ns();

	memset(r, 0, sizeof(*r));
	cfg.quiet = !getenv("KVM_VM_VERBOSE");
	if (!cfg.timeout_ms)
		cfg.timeout_ms = 120000;	/* emulated test VMs are slow */
	r->create_err = vmm_create(&cfg, &vm);
	if (r->create_err) {
		diag("vmm_create: %s", strerror(-r->create_err));
		return;
	}
	r->run_err = vmm_run(vm, &r->res);
	gmem_get_stats(vmm_memory(vm), &r->mem);
	r->vmm_pins = vmm_pins(vm, cfg.vcpus);
	vmm_destroy(vm);
	r->ms = (timing_now_ns() - t0) / 1000000;
	diag("%s/%s vcpus %u: %s (%s) in %llu ms",
	     vmm_test_name(cfg.test ? cfg.test : GMEM_ABI_TEST_HELLO),
	     vmm_transport_name(r->res.transport), cfg.vcpus,
	     vmm_end_name(r->res.end), r->res.message, (unsigned long long)r->ms);
}

static bool passed(const struct run *r)
{
	return !r->create_err && !r->run_err && r->res.pass;
}

/* ---- no VM needed ------------------------------------------------------ */

static void test_config(void)
{
	struct vmm_config c = { .vcpus = 1, .mem_size = 64 * MiB };
	struct vmm *vm = NULL;
	enum gmem_abi_test t;
	int i, named;

	c.vcpus = 0;
	ok_eq(vmm_create(&c, &vm), -EINVAL, "0 vCPUs refused");
	c.vcpus = GMEM_ABI_MAX_VCPUS + 1;
	ok_eq(vmm_create(&c, &vm), -EINVAL, "%d vCPUs refused", GMEM_ABI_MAX_VCPUS + 1);
	c.vcpus = 1;
	c.mem_size = 16 * MiB;
	ok_eq(vmm_create(&c, &vm), -EINVAL, "16 MiB RAM refused (below minimum)");
	c.mem_size = 65 * MiB;
	ok_eq(vmm_create(&c, &vm), -EINVAL, "RAM not a multiple of 2 MiB refused");
	c.mem_size = 4096 * MiB;
	ok_eq(vmm_create(&c, &vm), -EINVAL, "4 GiB RAM refused (MMIO hole)");
	c.mem_size = 64 * MiB;
	c.test = GMEM_ABI_TEST_MAX;
	ok_eq(vmm_create(&c, &vm), -EINVAL, "unknown test refused");
	c.test = GMEM_ABI_TEST_HELLO;
	c.transport = (enum vmm_transport)7;
	ok_eq(vmm_create(&c, &vm), -EINVAL, "unknown transport refused");
	ok(vm == NULL, "nothing returned on error");
	ok_eq(vmm_create(NULL, &vm), -EINVAL, "NULL config refused");

	ok(!vmm_test_from_name("convert", &t) && t == GMEM_ABI_TEST_CONVERT,
	   "test name convert");
	ok_eq(vmm_test_from_name("nope", &t), -EINVAL, "unknown test name");
	for (i = 1, named = 0; i < GMEM_ABI_TEST_MAX; i++)
		named += !vmm_test_from_name(vmm_test_name(i), &t) && (int)t == i;
	ok_eq(named, GMEM_ABI_TEST_MAX - 1, "every guest self-test named, each name its own");
}

static void test_check_request(void)
{
	uint64_t m = 64 * MiB;

	ok_eq(vmm_check_request(m, GMEM_ABI_OP_SHARE, 0x1800000, 4096), 0, "good request");
	ok_eq(vmm_check_request(m, GMEM_ABI_OP_UNSHARE, m - 4096, 4096), 0,
	      "last page");
	ok_eq(vmm_check_request(m, GMEM_ABI_OP_SHARE, m, 4096), -ERANGE, "beyond RAM");
	ok_eq(vmm_check_request(m, GMEM_ABI_OP_SHARE, m - 4096, 8192), -ERANGE,
	      "straddling the end");
	ok_eq(vmm_check_request(m, GMEM_ABI_OP_SHARE, 4097, 4096), -EINVAL,
	      "unaligned gpa");
	ok_eq(vmm_check_request(m, GMEM_ABI_OP_SHARE, 4096, 100), -EINVAL,
	      "unaligned length");
	ok_eq(vmm_check_request(m, GMEM_ABI_OP_SHARE, 4096, 0), -EINVAL, "zero length");
	ok_eq(vmm_check_request(m, GMEM_ABI_OP_SHARE, ~0ULL - 4095, 8192), -EOVERFLOW,
	      "wrapping range");
	ok_eq(vmm_check_request(m, GMEM_ABI_OP_NOP, 4096, 4096), -EOPNOTSUPP,
	      "not a conversion op");
	ok_eq(vmm_check_request(m, 0x77, 4096, 4096), -EOPNOTSUPP, "unknown op");
}

/* ---- VM runs ------------------------------------------------------------ */

static void test_hello(void)
{
	struct vmm_config c = { .vcpus = 1, .transport = VMM_TRANSPORT_DOORBELL };
	struct run r;

	run_vm(&c, &r);
	ok(passed(&r), "hello, 1 vCPU: guest passed");
	ok(r.res.counters.console_writes > 0, "console output arrived (%llu writes)",
	   (unsigned long long)r.res.counters.console_writes);
	ok(r.res.guest.tsc_khz > 1000, "guest TSC calibrated: %llu kHz",
	   (unsigned long long)r.res.guest.tsc_khz);
	c.vcpus = 4;
	run_vm(&c, &r);
	ok(passed(&r), "hello, 4 vCPUs: guest passed");
	ok(r.res.guest.vcpu_status[3] == GMEM_ABI_RES_PASS, "vCPU 3 reported pass");
}

static void test_convert(enum vmm_transport tr, enum gmem_mode mode)
{
	struct vmm_config c = { .vcpus = 1, .transport = tr, .mode = mode,
				    .test = GMEM_ABI_TEST_CONVERT };
	const char *mn = mode == GMEM_MODE_DESTRUCTIVE ? "destructive" : "in place";
	struct run r;

	run_vm(&c, &r);
	ok(passed(&r), "convert %s via %s: guest passed (%u checks)", mn,
	   vmm_transport_name(tr), r.res.guest.checks);
	ok(r.res.guest.checks >= 30, "convert made its checks (%u)", r.res.guest.checks);
	ok(r.mem.probe_faults > 0 && r.mem.violations == 0,
	   "host-view probes of private pages faulted (%llu), counted apart from "
	   "violations (%llu)", (unsigned long long)r.mem.probe_faults,
	   (unsigned long long)r.mem.violations);
	ok(r.res.counters.c[GMEM_ABI_CNT_CONV_OK] >= 8, "conversions done by the VMM (%llu)",
	   (unsigned long long)r.res.counters.c[GMEM_ABI_CNT_CONV_OK]);
	if (tr == VMM_TRANSPORT_QUEUE)
		ok(r.res.queue.active && r.res.queue.requests >= 8 &&
		   r.res.counters.c[GMEM_ABI_CNT_HYPERCALLS] == 0,
		   "conversions arrived through the queue (%llu requests)",
		   (unsigned long long)r.res.queue.requests);
	else if (tr == VMM_TRANSPORT_HYPERCALL)
		ok(r.res.counters.c[GMEM_ABI_CNT_HYPERCALLS] >= 8,
		   "conversions arrived as hypercall exits (%llu)",
		   (unsigned long long)r.res.counters.c[GMEM_ABI_CNT_HYPERCALLS]);
	else
		ok(r.res.counters.c[GMEM_ABI_CNT_HYPERCALLS] == 0, "no hypercall exits");
}

static void test_badreq(enum vmm_transport tr)
{
	struct vmm_config c = { .vcpus = 1, .transport = tr,
				    .test = GMEM_ABI_TEST_BADREQ };
	const uint64_t *k;
	struct run r;

	run_vm(&c, &r);
	k = r.res.counters.c;
	ok(passed(&r), "badreq via %s: guest passed (%u checks)",
	   vmm_transport_name(tr), r.res.guest.checks);
	ok(r.res.end == VMM_END_DONE, "the VM kept running to the end");
	ok(k[GMEM_ABI_CNT_BAD_RANGE] == 3 && k[GMEM_ABI_CNT_BUSY] == 4 &&
	   k[GMEM_ABI_CNT_BAD_OVERFLOW] >= 1 && k[GMEM_ABI_CNT_BAD_OP] >= 3,
	   "bad requests counted: range %llu busy %llu overflow %llu op %llu align %llu",
	   (unsigned long long)k[GMEM_ABI_CNT_BAD_RANGE],
	   (unsigned long long)k[GMEM_ABI_CNT_BUSY],
	   (unsigned long long)k[GMEM_ABI_CNT_BAD_OVERFLOW],
	   (unsigned long long)k[GMEM_ABI_CNT_BAD_OP],
	   (unsigned long long)k[GMEM_ABI_CNT_BAD_ALIGN]);
	ok(r.mem.refusals == 4, "gmem refused 4 unshares of pinned pages (%llu)",
	   (unsigned long long)r.mem.refusals);
	ok(k[GMEM_ABI_CNT_UNPIN_REFUSED] == 2 && k[GMEM_ABI_CNT_SERVICE_REFUSED] == 0 &&
	   r.mem.guest_unpin_refused == 2 && r.mem.unpin_missing == 0 && r.vmm_pins == 1,
	   "guest UNPINs of an unpinned page and of the VMM's mailbox pin refused "
	   "(%llu), the VMM's pins intact (%d)",
	   (unsigned long long)k[GMEM_ABI_CNT_UNPIN_REFUSED], r.vmm_pins);
}

/* Item 1 through the real guest: it tries to steal the VMM's pins in a run
 * without test services (2 vCPUs, each on its own mailbox). */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return true;
	return false;
}

static void test_hostile(enum vmm_transport tr)
{
	struct vmm_config c = { .vcpus = 2, .transport = tr,
				    .test = GMEM_ABI_TEST_HOSTILE };
	const uint64_t *k;
	struct run r;

	run_vm(&c, &r);
	k = r.res.counters.c;
	ok(passed(&r), "hostile via %s: guest passed, the VMM survived (%u checks)",
	   vmm_transport_name(tr), r.res.guest.checks);
	ok(k[GMEM_ABI_CNT_SERVICE_REFUSED] == 10 && k[GMEM_ABI_CNT_BUSY] == 6 &&
	   k[GMEM_ABI_CNT_UNPIN_REFUSED] == 0,
	   "hostile: 10 test-service requests refused (%llu), 6 unshares of VMM "
	   "pages refused (%llu)", (unsigned long long)k[GMEM_ABI_CNT_SERVICE_REFUSED],
	   (unsigned long long)k[GMEM_ABI_CNT_BUSY]);
	ok(r.vmm_pins == 1 && r.mem.violations == 0 && r.mem.unpin_missing == 0,
	   "hostile: the VMM's pins intact (%d), no violation (%llu), no unpin bug",
	   r.vmm_pins, (unsigned long long)r.mem.violations);
	ok(strstr(r.res.message, "forged") && !has_control(r.res.message),
	   "hostile: the guest's fail_msg reaches the message filtered (no control bytes)");
}

/* Item 6: a kick that is not a stop must not turn KVM_RUN into a busy loop
 * (immediate_exit is cleared once the kick was taken). */
struct kicker {
	struct vmm *vm;
};

static void *kick_once(void *arg)
{
	struct kicker *k = arg;
	struct timespec ts = { 0, 300 * 1000000L };

	nanosleep(&ts, NULL);
	vmm_vcpu_kick(&k->vm->vcpus[0]);
	return NULL;
}

static void test_kick(void)
{
	struct vmm_config c = { .vcpus = 1, .test = GMEM_ABI_TEST_HANG,
				    .timeout_ms = 1500, .quiet = true };
	struct vmm_result res;
	struct kicker k;
	pthread_t t;
	uint64_t taken;
	int err;

	err = vmm_create(&c, &k.vm);
	if (err) {
		ok(false, "kick: vmm_create: %s", strerror(-err));
		ok(false, "kick: not run");
		return;
	}
	pthread_create(&t, NULL, kick_once, &k);
	err = vmm_run(k.vm, &res);
	pthread_join(t, NULL);
	taken = atomic_load(&k.vm->vcpus[0].kicks_taken);
	ok(!err && res.end == VMM_END_TIMEOUT,
	   "kick: the guest ran on after a kick until the watchdog (%s)", res.message);
	ok(taken >= 1 && taken <= 20,
	   "kick: KVM_RUN returned EINTR %llu times (a kick plus the watchdog's), "
	   "not in a loop", (unsigned long long)taken);
	vmm_destroy(k.vm);
}

/* The queue's own bad inputs (bad ops and flags, a batch mixing good and
 * bad requests, then a malformed ring: that vCPU's queue stops, the VM
 * does not), checked by the guest and here. */
static void test_badreq_queue(void)
{
	struct vmm_config c = { .vcpus = 1, .transport = VMM_TRANSPORT_QUEUE,
				    .test = GMEM_ABI_TEST_BADREQ };
	const uint64_t *k;
	struct run r;

	run_vm(&c, &r);
	k = r.res.counters.c;
	ok(passed(&r) && r.res.end == VMM_END_DONE,
	   "badreq via queue: guest passed (%u checks), the VM ran to the end",
	   r.res.guest.checks);
	ok(k[GMEM_ABI_CNT_BAD_RANGE] == 4 && k[GMEM_ABI_CNT_BAD_ALIGN] == 4 &&
	   k[GMEM_ABI_CNT_BAD_OVERFLOW] == 2 && k[GMEM_ABI_CNT_BAD_OP] == 6 &&
	   k[GMEM_ABI_CNT_BUSY] == 4,
	   "counted per class: range %llu align %llu overflow %llu op %llu busy %llu",
	   (unsigned long long)k[GMEM_ABI_CNT_BAD_RANGE],
	   (unsigned long long)k[GMEM_ABI_CNT_BAD_ALIGN],
	   (unsigned long long)k[GMEM_ABI_CNT_BAD_OVERFLOW],
	   (unsigned long long)k[GMEM_ABI_CNT_BAD_OP],
	   (unsigned long long)k[GMEM_ABI_CNT_BUSY]);
	ok(r.res.queue.stopped == 1 && strstr(r.res.queue.stop_message, "vCPU 0") &&
	   strstr(r.res.queue.stop_message, "malformed"),
	   "one queue stopped, with its reason: %s", r.res.queue.stop_message);
	/* Every conversion request went through the queue (the 3 bad doorbell
	 * ops are the doorbell's): requests read = done + refused per class. */
	ok(k[GMEM_ABI_CNT_QUEUE_REQS] == k[GMEM_ABI_CNT_CONV_OK] + k[GMEM_ABI_CNT_BAD_RANGE] +
	   k[GMEM_ABI_CNT_BAD_ALIGN] + k[GMEM_ABI_CNT_BAD_OVERFLOW] +
	   k[GMEM_ABI_CNT_BAD_OP] - 3 + k[GMEM_ABI_CNT_BUSY],
	   "queue requests (%llu) = conversions (%llu) + refusals per class",
	   (unsigned long long)k[GMEM_ABI_CNT_QUEUE_REQS],
	   (unsigned long long)k[GMEM_ABI_CNT_CONV_OK]);
}

/* Queue with the converter asleep (every request kicks) and polling. */
static void test_queue_modes(void)
{
	struct vmm_config c = { .vcpus = 1, .transport = VMM_TRANSPORT_QUEUE,
				    .test = GMEM_ABI_TEST_CONVERT,
				    .conv_poll_us = VMM_CONV_POLL_OFF };
	struct vmm *vm = NULL;
	struct run r;

	run_vm(&c, &r);
	ok(passed(&r) && r.res.queue.poll_us == 0 && r.res.queue.wakeups >= 1,
	   "queue, converter asleep: guest passed, %llu wakeups by kicks",
	   (unsigned long long)r.res.queue.wakeups);
	ok(r.res.queue.cpu_ns > 0 && r.res.queue.wall_ns >= r.res.queue.cpu_ns / 2,
	   "converter CPU %llu ns over %llu ns measured",
	   (unsigned long long)r.res.queue.cpu_ns, (unsigned long long)r.res.queue.wall_ns);
	c.conv_poll_us = 0;
	run_vm(&c, &r);
	ok(passed(&r) && r.res.queue.poll_us == VMM_CONV_POLL_US_DEFAULT,
	   "queue, converter polling %u us (default): guest passed", r.res.queue.poll_us);
	c.conv_poll_us = VMM_CONV_POLL_US_MAX + 1;
	ok_eq(vmm_create(&c, &vm), -EINVAL, "conv_poll_us above the maximum refused");
	c.conv_poll_us = -2;
	ok_eq(vmm_create(&c, &vm), -EINVAL, "negative conv_poll_us refused");
}

static void test_smp(enum vmm_transport tr, enum gmem_mode mode, unsigned int n)
{
	struct vmm_config c = { .vcpus = n, .transport = tr, .mode = mode,
				    .test = GMEM_ABI_TEST_SMP };
	struct run r;
	unsigned int i;
	bool all = true;

	run_vm(&c, &r);
	for (i = 0; i < n; i++)
		all = all && r.res.guest.vcpu_status[i] == GMEM_ABI_RES_PASS;
	ok(passed(&r) && all, "smp %u vCPUs %s via %s: every vCPU passed", n,
	   mode == GMEM_MODE_DESTRUCTIVE ? "destructive" : "in place",
	   vmm_transport_name(tr));
}

static void test_smp_needs_two(void)
{
	struct vmm_config c = { .vcpus = 1, .transport = VMM_TRANSPORT_DOORBELL,
				    .test = GMEM_ABI_TEST_SMP };
	struct run r;

	run_vm(&c, &r);
	ok(!r.create_err && r.res.end == VMM_END_DONE && !r.res.pass,
	   "smp with 1 vCPU reports failure (a test that can fail)");
}

static void test_bad_endings(void)
{
	struct vmm_config c = { .vcpus = 2, .transport = VMM_TRANSPORT_DOORBELL };
	struct run r;

	c.test = GMEM_ABI_TEST_FAULT;
	run_vm(&c, &r);
	ok(r.res.end == VMM_END_PANIC && r.res.end_info == 6 &&
	   strstr(r.res.message, "#UD"), "guest #UD ends the run with a message: %s",
	   r.res.message);
	ok(!r.res.pass, "a faulted run does not pass");

	c.test = GMEM_ABI_TEST_TRIPLE;
	run_vm(&c, &r);
	ok(r.res.end == VMM_END_SHUTDOWN, "triple fault ends the run: %s",
	   r.res.message);

	c.test = GMEM_ABI_TEST_HANG;
	c.timeout_ms = 2000;
	run_vm(&c, &r);
	ok(r.res.end == VMM_END_TIMEOUT && strstr(r.res.message, "rip"),
	   "hanging guest ended by the watchdog: %s", r.res.message);
	ok(r.ms < 30000, "watchdog run bounded (%llu ms)", (unsigned long long)r.ms);
}

struct mmio_dev {
	uint32_t reg70;
	unsigned int reads, writes, notifies;
};

static int mmio_fn(void *opaque, uint64_t off, void *data, uint32_t len,
		   bool is_write)
{
	struct mmio_dev *d = opaque;
	uint32_t v;

	if (len != 4)
		return -EINVAL;
	if (is_write) {
		memcpy(&v, data, 4);
		d->writes++;
		if (off == 0x70)
			d->reg70 = v;
		else if (off == GMEM_ABI_VIRTIO_MMIO_NOTIFY)
			d->notifies++;
		return 0;
	}
	d->reads++;
	v = off == 0 ? 0x74726976 : off == 0x70 ? d->reg70 : 0;
	memcpy(data, &v, 4);
	return 0;
}

/* handler: route the window to mmio_fn; efd: also an ioeventfd on notify. */
static void mmio_run(bool handler, bool efd, struct mmio_dev *d, struct run *r,
		     uint64_t *efd_count)
{
	struct vmm_config c = { .vcpus = 1, .transport = VMM_TRANSPORT_DOORBELL,
				    .test = GMEM_ABI_TEST_MMIO, .timeout_ms = 120000,
				    .quiet = true };
	struct vmm *vm;
	int fd = -1, err;

	memset(d, 0, sizeof(*d));
	memset(r, 0, sizeof(*r));
	*efd_count = 0;
	r->create_err = vmm_create(&c, &vm);
	if (r->create_err)
		return;
	err = handler ? vmm_set_mmio_handler(vm, GMEM_ABI_VIRTIO_MMIO_GPA,
						 GMEM_ABI_VIRTIO_MMIO_SIZE, mmio_fn, d) : 0;
	if (!err && efd) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		err = fd < 0 ? -errno :
		      vmm_add_ioeventfd(vm, GMEM_ABI_VIRTIO_MMIO_GPA +
					    GMEM_ABI_VIRTIO_MMIO_NOTIFY, 4, fd);
	}
	if (err)
		diag("mmio hooks: %s", strerror(-err));
	r->run_err = err ? err : vmm_run(vm, &r->res);
	vmm_destroy(vm);
	if (fd >= 0) {
		if (read(fd, efd_count, sizeof(*efd_count)) != sizeof(*efd_count))
			*efd_count = 0;
		close(fd);
	}
	diag("mmio handler %d ioeventfd %d: %s (%s)", handler, efd,
	     vmm_end_name(r->res.end), r->res.message);
}

static void test_mmio(void)
{
	struct mmio_dev d;
	uint64_t n;
	struct run r;

	mmio_run(true, false, &d, &r, &n);
	ok(passed(&r) && d.reads == 2 && d.writes == 3 && d.notifies == 2 &&
	   r.res.counters.mmio_exits == 5,
	   "MMIO exits routed to the device handler (reads %u writes %u notifies %u exits %llu)",
	   d.reads, d.writes, d.notifies, (unsigned long long)r.res.counters.mmio_exits);
	mmio_run(true, true, &d, &r, &n);
	ok(passed(&r) && d.notifies == 0 && n == 2 && r.res.counters.mmio_exits == 3,
	   "QueueNotify went to the ioeventfd (count %llu, handler saw %u, exits %llu)",
	   (unsigned long long)n, d.notifies, (unsigned long long)r.res.counters.mmio_exits);
	mmio_run(false, false, &d, &r, &n);
	ok(r.res.end == VMM_END_UNEXPECTED && strstr(r.res.message, "no device"),
	   "MMIO with no device ends the run with a message: %s", r.res.message);
}

static void test_probe_and_auto(void)
{
	struct vmm_config c = { .vcpus = 1, .transport = VMM_TRANSPORT_AUTO };
	struct run r;

	hc_probe = vmm_probe_hypercall_exit(VMM_PROBE_TIMEOUT_MS, &hc_why);
	ok(hc_probe == VMM_PROBE_NO || hc_probe == VMM_PROBE_YES,
	   "hypercall exit probe answered yes or no (%d), not unknown: %s",
	   hc_probe, hc_why);
	run_vm(&c, &r);
	ok(passed(&r), "auto transport: guest passed");
	ok(r.res.transport == (hc_probe == 1 ? VMM_TRANSPORT_HYPERCALL :
					       VMM_TRANSPORT_DOORBELL),
	   "auto resolved to %s", vmm_transport_name(r.res.transport));
}

/* How the probe classifies the two ways hypercalls fail on other hosts
 * (docs/design.md, profile K: the vCPU stalls, or #UD), played by guests that
 * hang or fault instead of making the hypercall. */
static void test_probe_classify(void)
{
	char why[320];
	uint64_t t0;
	int r;

	if (strstr(hc_why, "does not offer")) {
		tap_skip(3, "no KVM_CAP_EXIT_HYPERCALL here: the probe stops before a VM");
		return;
	}
	t0 = timing_now_ns();
	r = vmm_probe_run(GMEM_ABI_TEST_HANG, 1500, why, sizeof(why));
	ok(r == 0 && strstr(why, "stalled"), "stalled probe guest: no hypercall exits (%s)",
	   why);
	ok(timing_now_ns() - t0 < 20000000000ULL, "stalled probe bounded by its timeout");
	r = vmm_probe_run(GMEM_ABI_TEST_FAULT, 1500, why, sizeof(why));
	ok(r == 0 && (strstr(why, "faulted") || strstr(why, "triple")),
	   "faulting probe guest: no hypercall exits (%s)", why);
}

/* Where the guest ran is measured; on a PVM-variant host it must be native
 * (the VMM opted every vCPU in), and so anywhere the CPU is not emulated.
 * The test VM emulates its CPU by design (QEMU TCG). */
static void test_speed(void)
{
	struct vmm_config c = { .vcpus = 2, .transport = VMM_TRANSPORT_DOORBELL };
	struct run r;
	char desc[200];

	run_vm(&c, &r);
	vmm_speed_describe(&r.res.speed, desc, sizeof(desc));
	ok(passed(&r) && r.res.speed.measured && r.res.speed.host_mcycles > 0,
	   "the guest reported its speed loop: %s", desc);
	if (getenv("TESTVM") && !r.res.speed.pvm) {
		tap_skip(1, "inside the test VM: the CPU is emulated (QEMU TCG) by design");
		return;
	}
	ok(r.res.speed.native && r.res.speed.guest_mcycles < 20000,
	   "the guest runs natively%s: %s",
	   r.res.speed.pvm ? " on this PVM-variant host" : "", desc);
}

/* A KVM internal error is reported with everything KVM gives: suberror,
 * data, RIP and the instruction bytes there.  int $0x40 has no gate: #GP
 * through the guest's IDT under VMX/SVM, an internal error on a PVM host. */
static void test_internal_error(void)
{
	struct vmm_config c = { .vcpus = 1, .test = GMEM_ABI_TEST_INTN,
				    .transport = VMM_TRANSPORT_DOORBELL };
	struct run r;

	run_vm(&c, &r);
	if (r.res.end == VMM_END_PANIC) {
		ok(r.res.end_info == 13 && strstr(r.res.message, "#GP"),
		   "int $0x40 without a gate: #GP through the guest's IDT: %s",
		   r.res.message);
		return;
	}
	ok(r.res.end == VMM_END_UNEXPECTED &&
	   strstr(r.res.message, "internal error, suberror") &&
	   strstr(r.res.message, "ndata") && strstr(r.res.message, "rip 0x") &&
	   strstr(r.res.message, "bytes cd 40"),
	   "KVM internal error reported with suberror, data, RIP and bytes: %s",
	   r.res.message);
}

static void test_bench(void)
{
	struct bench_convert_row rows[40];
	int n, i, exits = 0, rt = 0, q = 0, kicks = 0;
	bool sane = true, qsane = true;

	n = bench_convert(GMEM_MODE_INPLACE, 5, rows, 40);
	ok(n >= 4, "convert bench gave %d rows", n);
	rt = 0;
	for (i = 0; i < n; i++) {
		diag("%s %s %llu pages: min %llu ns median %llu ns", rows[i].op,
		     rows[i].transport, (unsigned long long)rows[i].pages,
		     (unsigned long long)rows[i].ns_min,
		     (unsigned long long)rows[i].ns_median);
		sane = sane && rows[i].ns_min > 0 && rows[i].ns_min <= rows[i].ns_median &&
		       rows[i].samples == 5;
		exits += !strcmp(rows[i].op, "exit_roundtrip");
		rt += !strcmp(rows[i].op, "guest_roundtrip");
		if (!strcmp(rows[i].op, "queue_kick")) {
			kicks++;
			/* 5 kicks, no conversion */
			qsane = qsane && rows[i].kicks == 5 && rows[i].conversions == 0;
		} else if (!strcmp(rows[i].transport, "queue")) {
			bool asleep = !strcmp(rows[i].converter, "asleep");

			q++;
			/* 5 round trips = 10 conversions; asleep: a request
			 * kicks unless it beat the converter to its sleep. */
			qsane = qsane && rows[i].conversions == 10 &&
				rows[i].host_ns > 0 && rows[i].conv_cpu_ns > 0 &&
				rows[i].kicks <= 10 && (!asleep || rows[i].kicks >= 1) &&
				(asleep || !strcmp(rows[i].converter, "polling"));
		}
	}
	ok(sane, "every row has 0 < min <= median and 5 samples");
	ok(exits == 1 && rt == (hc_probe == 1 ? 24 : 18),
	   "%d guest_roundtrip rows, %d exit_roundtrip row", rt, exits);
	ok(q == 12 && kicks == 2 && qsane, "12 queue round-trip rows (polling, asleep): 10 "
	   "conversions each, host time and converter CPU measured, asleep: kicks; 2 "
	   "queue_kick rows of 5 kicks");
}

#define N_NOVM		22
#define N_VM		86

int main(void)
{
	int fd;

	tap_plan(N_NOVM + N_VM);
	test_config();
	test_check_request();

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		tap_skip(N_VM, "no usable /dev/kvm (run through tools/kvm-tests)");
		return tap_done();
	}
	close(fd);

	test_hello();					/* 5 */
	test_convert(VMM_TRANSPORT_DOORBELL, GMEM_MODE_INPLACE);	/* 5 */
	test_convert(VMM_TRANSPORT_DOORBELL, GMEM_MODE_DESTRUCTIVE);	/* 5 */
	test_badreq(VMM_TRANSPORT_DOORBELL);		/* 5 */
	test_hostile(VMM_TRANSPORT_DOORBELL);		/* 4 */
	test_kick();					/* 2 */
	test_smp(VMM_TRANSPORT_DOORBELL, GMEM_MODE_INPLACE, 2);	/* 1 */
	test_smp(VMM_TRANSPORT_DOORBELL, GMEM_MODE_DESTRUCTIVE, 2);	/* 1 */
	test_smp_needs_two();				/* 1 */
	test_bad_endings();				/* 5 */
	test_speed();					/* 2 */
	test_internal_error();				/* 1 */
	test_mmio();					/* 3 */
	test_probe_and_auto();				/* 3 */
	test_probe_classify();				/* 3 */
	test_convert(VMM_TRANSPORT_QUEUE, GMEM_MODE_INPLACE);	/* 5 */
	test_convert(VMM_TRANSPORT_QUEUE, GMEM_MODE_DESTRUCTIVE);	/* 5 */
	test_badreq_queue();				/* 4 */
	test_smp(VMM_TRANSPORT_QUEUE, GMEM_MODE_INPLACE, 2);	/* 1 */
	test_smp(VMM_TRANSPORT_QUEUE, GMEM_MODE_INPLACE, 4);	/* 1 */
	test_queue_modes();				/* 5 */
	if (hc_probe == 1) {
		test_convert(VMM_TRANSPORT_HYPERCALL, GMEM_MODE_INPLACE);	/* 5 */
		test_badreq(VMM_TRANSPORT_HYPERCALL);	/* 5 */
		test_hostile(VMM_TRANSPORT_HYPERCALL);	/* 4 */
		test_smp(VMM_TRANSPORT_HYPERCALL, GMEM_MODE_INPLACE, 2);	/* 1 */
	} else {
		char why[400];

		snprintf(why, sizeof(why), "hypercall exits do not reach userspace here: %s",
			 hc_why);
		tap_skip(15, why);
	}
	test_bench();					/* 4 */
	return tap_done();
}
