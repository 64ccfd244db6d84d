// SPDX-License-Identifier: GPL-2.0
/*
 * Running the VM: the vCPU threads and the watchdog, the run's end and the
 * guest's console, what the run collected, and where the guest ran (its
 * speed loop against the host's).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "vm_internal.h"
#include "gmemkit/probe.h"

/* ---- run end, console ----------------------------------------------------- */

void vmm_end_run(struct vmm *vm, enum vmm_end end, int vcpu,
		     uint64_t info, const char *fmt, ...)
{
	unsigned int i;
	va_list ap;

	pthread_mutex_lock(&vm->end_lock);
	if (!vm->ended) {
		vm->ended = true;
		vm->end.end = end;
		vm->end.end_vcpu = vcpu;
		vm->end.end_info = info;
		va_start(ap, fmt);
		vsnprintf(vm->end.message, sizeof(vm->end.message), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&vm->end_lock);
	atomic_store(&vm->stop, true);
	for (i = 0; i < vm->nr_vcpus; i++)
		vmm_vcpu_kick(&vm->vcpus[i]);
}

size_t vmm_printable(char *s, size_t len, bool lines, char repl)
{
	size_t i;

	for (i = 0; i < len && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && !(lines && (c == '\n' || c == '\t'))) || c >= 0x7f)
			s[i] = repl;
	}
	return i;
}

void vmm_console(struct vmm *vm, struct vmm_vcpu *vcpu, uint32_t len)
{
	char buf[GMEM_ABI_CONSOLE_MAX];
	uint32_t i;

	if (len > sizeof(buf))
		len = sizeof(buf);
	/* One copy out of guest-writable memory, then only the copy is used. */
	memcpy(buf, vcpu->page->console, len);
	for (i = 0; i < len; i++)	/* NULs too: the guest sends len bytes */
		if (!buf[i])
			buf[i] = '?';
	vmm_printable(buf, len, true, '?');
	atomic_fetch_add(&vm->console_writes, 1);
	if (vm->cfg.quiet)
		return;
	pthread_mutex_lock(&vm->console_lock);
	fwrite(buf, 1, len, vm->cfg.console);
	fflush(vm->cfg.console);
	pthread_mutex_unlock(&vm->console_lock);
}

/* ---- run ------------------------------------------------------------------ */

struct watchdog {
	struct vmm *vm;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool quit;
};

static void deadline_after(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *watchdog_thread(void *arg)
{
	struct watchdog *wd = arg;
	struct vmm *vm = wd->vm;
	struct timespec ts;
	unsigned int i;
	bool fired = false;

	deadline_after(&ts, vm->cfg.timeout_ms);
	pthread_mutex_lock(&wd->lock);
	while (!wd->quit) {
		if (pthread_cond_timedwait(&wd->cond, &wd->lock, &ts) != ETIMEDOUT)
			continue;
		if (!fired) {
			fired = true;
			pthread_mutex_unlock(&wd->lock);
			vmm_end_run(vm, VMM_END_TIMEOUT, -1, vm->cfg.timeout_ms,
					"watchdog: the guest did not finish within %u ms",
					vm->cfg.timeout_ms);
			pthread_mutex_lock(&wd->lock);
		} else {
			/* Keep kicking until every vCPU thread has left. */
			for (i = 0; i < vm->nr_vcpus; i++)
				vmm_vcpu_kick(&vm->vcpus[i]);
		}
		deadline_after(&ts, 50);
	}
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

static void append_rips(struct vmm *vm)
{
	size_t n = strlen(vm->end.message);
	struct kvm_regs regs;
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus && n + 1 < sizeof(vm->end.message); i++) {
		if (vm->vcpus[i].done || ioctl(vm->vcpus[i].fd, KVM_GET_REGS, &regs))
			continue;
		n += (size_t)snprintf(vm->end.message + n, sizeof(vm->end.message) - n,
				      "; vcpu%u rip 0x%llx", i,
				      (unsigned long long)regs.rip);
	}
}

/* After the converter has been joined. */
static void collect_queue(struct vmm *vm, struct vmm_queue_stats *q)
{
	unsigned int i;

	memset(q, 0, sizeof(*q));
	if (vm->transport != VMM_TRANSPORT_QUEUE)
		return;
	q->active = true;
	q->poll_us = vm->cfg.conv_poll_us > 0 ? (unsigned int)vm->cfg.conv_poll_us : 0;
	q->cpu = vm->convq.cpu;
	q->vcpus_pinned = vm->nr_vcpus && vm->vcpus[0].pin;
	q->requests = atomic_load(&vm->cnt[GMEM_ABI_CNT_QUEUE_REQS]);
	q->wakeups = atomic_load(&vm->cnt[GMEM_ABI_CNT_QUEUE_WAKEUPS]);
	q->cpu_ns = vmm_convq_cpu_ns(vm);
	q->wall_ns = vm->convq.t1 > vm->convq.t0 ? vm->convq.t1 - vm->convq.t0 : 0;
	for (i = 0; i < vm->convq.nr; i++) {
		if (!vm->convq.rings[i].stopped)
			continue;
		if (!q->stopped++)
			snprintf(q->stop_message, sizeof(q->stop_message), "%s",
				 vm->convq.rings[i].why);
	}
}

static void collect(struct vmm *vm, struct vmm_result *res)
{
	struct gmem_stats gs;
	unsigned int i;
	bool pass;

	memset(res, 0, sizeof(*res));
	res->transport = vm->transport;
	/* Copy the guest-written page once; only the copy is looked at. */
	memcpy(&res->guest, vm->results, sizeof(res->guest));
	res->guest.fail_msg[sizeof(res->guest.fail_msg) - 1] = '\0';
	/* Guest text reaches terminals: no control sequences (as the console). */
	vmm_printable(res->guest.fail_msg, sizeof(res->guest.fail_msg), false, '?');
	for (i = 0; i < GMEM_ABI_CNT_MAX; i++)
		res->counters.c[i] = atomic_load(&vm->cnt[i]);
	res->counters.exits = atomic_load(&vm->exits);
	res->counters.console_writes = atomic_load(&vm->console_writes);
	res->counters.mmio_exits = atomic_load(&vm->mmio_exits);
	collect_queue(vm, &res->queue);
	gmem_get_stats(vm->mem, &gs);
	if (gs.unpin_missing && !vm->ended)
		vmm_end_run(vm, VMM_END_ERROR, -1, gs.unpin_missing,
				"VMM bug: %llu host unpins found no pin (a host pin was "
				"dropped twice or never taken)",
				(unsigned long long)gs.unpin_missing);
	if (vm->ended) {
		res->end = vm->end.end;
		res->end_vcpu = vm->end.end_vcpu;
		res->end_info = vm->end.end_info;
		memcpy(res->message, vm->end.message, sizeof(res->message));
		res->pass = false;
		return;
	}
	pass = res->guest.magic == GMEM_ABI_MAGIC &&
	       res->guest.status == GMEM_ABI_RES_PASS;
	for (i = 0; i < vm->nr_vcpus; i++)
		pass = pass && vm->vcpus[i].done_status == GMEM_ABI_RES_PASS;
	res->end = VMM_END_DONE;
	res->end_vcpu = -1;
	res->pass = pass;
	snprintf(res->message, sizeof(res->message),
		 "guest %s: %u checks, %u failed%s%.180s",
		 pass ? "passed" : "FAILED", res->guest.checks,
		 res->guest.failures, res->guest.fail_msg[0] ? "; first: " : "",
		 res->guest.fail_msg);
}

/* ---- where the guest ran --------------------------------------------------- */

static pthread_once_t host_speed_once = PTHREAD_ONCE_INIT;
static uint64_t host_speed;

static bool host_emulated;

static void host_speed_init(void)
{
	char model[128];

	host_speed = gmem_abi_speed_measure(4 * GMEM_ABI_SPEED_REPS);
	probe_cpu_model(model, sizeof(model), &host_emulated);
}

static bool host_cpu_emulated(void)
{
	pthread_once(&host_speed_once, host_speed_init);
	return host_emulated;
}

uint64_t vmm_host_speed_mcycles(void)
{
	pthread_once(&host_speed_once, host_speed_init);
	return host_speed;
}

static void classify_speed(const struct vmm *vm, struct vmm_result *res)
{
	struct vmm_speed *s = &res->speed;

	memset(s, 0, sizeof(*s));
	s->pvm = vm->pvm;
	s->host_emulated = host_cpu_emulated();
	s->host_mcycles = vmm_host_speed_mcycles();
	s->guest_mcycles = res->guest.magic == GMEM_ABI_MAGIC ?
			   res->guest.speed_mcycles : 0;
	s->measured = s->guest_mcycles > 0;
	if (!s->measured)
		return;
	s->factor = (double)s->guest_mcycles /
		    (double)(s->host_mcycles ? s->host_mcycles : 1);
	s->native = s->factor <= VMM_NATIVE_FACTOR &&
		    s->guest_mcycles < VMM_NATIVE_MAX_MCYCLES &&
		    !s->host_emulated;
}

void vmm_speed_describe(const struct vmm_speed *s, char *buf, size_t len)
{
	if (!s->measured) {
		snprintf(buf, len, "unknown (the guest did not report its speed loop)");
		return;
	}
	snprintf(buf, len, "%s (%.1f cycles/iteration, host %.1f: %.1fx)%s%s",
		 s->native ? "native" : "emulated", s->guest_mcycles / 1000.0,
		 s->host_mcycles / 1000.0, s->factor,
		 s->pvm ? ", PVM native mode on" : "",
		 s->host_emulated ? ", the host CPU itself is emulated" : "");
}

/* Queue transport: the converter on the last CPU allowed, the vCPUs on the
 * others if there are at least as many as vCPUs (else they float). */
static void plan_queue_cpus(struct vmm *vm)
{
	cpu_set_t all;
	int i, last = -1;
	unsigned int left, v;

	vm->convq.cpu = -1;
	if (vm->cfg.conv_no_pin ||
	    pthread_getaffinity_np(pthread_self(), sizeof(all), &all) ||
	    CPU_COUNT(&all) < 2)
		return;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &all))
			last = i;
	vm->convq.cpu = last;
	CPU_CLR(last, &all);
	left = (unsigned int)CPU_COUNT(&all);
	vm->vcpu_cpus = all;
	for (v = 0; v < vm->nr_vcpus; v++)
		vm->vcpus[v].pin = left >= vm->nr_vcpus;
}

int vmm_run(struct vmm *vm, struct vmm_result *res)
{
	struct watchdog wd = { .vm = vm };
	pthread_condattr_t ca;
	pthread_t wd_thread;
	unsigned int i, started = 0;
	int err;

	if (!vm || !res)
		return -EINVAL;
	if (vm->ran)
		return -EALREADY;
	vm->ran = true;
	err = vmm_kick_signal_init();
	if (err)
		return err;
	pthread_mutex_init(&wd.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wd.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (vm->transport == VMM_TRANSPORT_QUEUE) {
		plan_queue_cpus(vm);
		err = vmm_convq_start(vm, vm->cfg.conv_poll_us > 0 ?
				       (unsigned int)vm->cfg.conv_poll_us : 0);
		if (err)
			goto out_cond;
	}
	err = -pthread_create(&wd_thread, NULL, watchdog_thread, &wd);
	if (err) {
		vmm_convq_stop(vm);
		goto out_cond;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		err = -pthread_create(&vm->vcpus[i].thread, NULL, vmm_vcpu_thread,
				      &vm->vcpus[i]);
		if (err) {
			vmm_end_run(vm, VMM_END_ERROR, -1, (uint64_t)-err,
					"cannot start vCPU thread %u: %s", i,
					strerror(-err));
			break;
		}
		vm->vcpus[i].started = true;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(vm->vcpus[i].thread, NULL);
	pthread_mutex_lock(&wd.lock);
	wd.quit = true;
	pthread_cond_signal(&wd.cond);
	pthread_mutex_unlock(&wd.lock);
	pthread_join(wd_thread, NULL);
	vmm_convq_stop(vm);
	if (vm->ended && vm->end.end == VMM_END_TIMEOUT)
		append_rips(vm);
	collect(vm, res);
	classify_speed(vm, res);
	err = 0;
out_cond:
	pthread_cond_destroy(&wd.cond);
	pthread_mutex_destroy(&wd.lock);
	return err;
}
