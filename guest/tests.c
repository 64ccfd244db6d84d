// SPDX-License-Identifier: GPL-2.0
/*
 * Guest self-tests.  Each is a C function run on every vCPU with its index;
 * checks are GUEST_CHECK()s recorded in the results page.
 */
#include "guest.h"
#include "gmemkit/platform.h"

#define P	PAGE_SIZE

static bool destructive(void)
{
	return boot_info->mode == GMEM_ABI_MODE_DESTRUCTIVE;
}

/* The platform whose calls __share/__unshare make (boot_info.platform). */
static const char *platform_name(void)
{
	return plat_name((enum plat)boot_info->platform);
}

/* ---- hello ---------------------------------------------------------------- */

/* The runtime's libc subset (lib/bounce.c in the guest relies on it). */
static void check_libc(void)
{
	char a[64], b[64];
	unsigned int i;

	for (i = 0; i < sizeof(a); i++)
		a[i] = (char)i;
	memmove(a + 8, a, 32);			/* overlap, destination above */
	GUEST_CHECK(a[8] == 0 && a[39] == 31 && a[40] == 40, "memmove up");
	for (i = 0; i < sizeof(a); i++)
		a[i] = (char)i;
	memmove(a, a + 8, 32);			/* overlap, destination below */
	GUEST_CHECK(a[0] == 8 && a[31] == 39 && a[32] == 32, "memmove down");
	memset(b, 0x5a, sizeof(b));
	memcpy(b + 1, a, 10);
	GUEST_CHECK(b[0] == 0x5a && b[1] == 8 && b[10] == 17 && b[11] == 0x5a, "memcpy");
	GUEST_CHECK(memcmp(a, b + 1, 10) == 0 && memcmp(a, b, 10) < 0 &&
		    memcmp(b, a, 10) > 0, "memcmp");
	snprintf(a, sizeof(a), "%d|%5u|%-4s|%05x|%lx|%c", -42, 7u, "ab", 0xbeefu,
		 (uint64_t)0x1234567890ULL, 'z');
	GUEST_CHECK(!memcmp(a, "-42|    7|ab  |0beef|1234567890|z", 33),
		    "snprintf gave '%s'", a);
	GUEST_CHECK(snprintf(b, 4, "%s", "truncated") == 9 && strlen(b) == 3,
		    "snprintf truncation");
}

void test_hello(unsigned int cpu)
{
	int64_t st = __doorbell(GMEM_ABI_OP_NOP, 0, 0, 0, NULL);

	GUEST_CHECK_EQ(st, 0, "empty doorbell");
	if (cpu == 0)
		check_libc();
	if (cpu == 0)
		gprintf("gmemkit guest: abi %u, %u vCPU(s), %lu MiB, transport %s, "
			"platform %s, tsc %lu kHz (host KVM says %lu)\n",
			GMEM_ABI_VERSION, boot_info->nr_vcpus,
			boot_info->mem_size >> 20, gmem_abi_transport_name(boot_info->transport),
			platform_name(), results->tsc_khz, boot_info->host_tsc_khz);
	smp_barrier();
	gprintf("[cpu%u] hello\n", cpu);
}

/* ---- convert -------------------------------------------------------------- */

/* Share n pages holding private data, check both views, change the data,
 * unshare, check the host lost access and what the guest reads. */
static void convert_range(uint64_t gpa, uint64_t n, uint64_t seed)
{
	uint64_t len = n * P, seed_b = seed ^ 0x5555;

	fill_pattern(gpa, len, seed);
	host_check_private(gpa, len);
	if (!share(gpa, len))
		return;
	if (destructive()) {
		GUEST_CHECK(guest_sees_zero(gpa, len),
			    "destructive share of %lu pages: guest does not read zero", n);
		host_check_zero(gpa, len);
	} else {
		GUEST_CHECK(guest_sees_pattern(gpa, len, seed),
			    "in place share of %lu pages: guest lost its data", n);
		host_check_pattern(gpa, len, seed);
	}
	fill_pattern(gpa, len, seed_b);
	host_check_pattern(gpa, len, seed_b);
	if (!unshare(gpa, len))
		return;
	host_check_private(gpa, len);
	if (destructive())
		GUEST_CHECK(guest_sees_zero(gpa, len),
			    "destructive unshare of %lu pages: data not discarded", n);
	else
		GUEST_CHECK(guest_sees_pattern(gpa, len, seed_b),
			    "in place unshare of %lu pages: guest lost its data", n);
}

static void convert_partial(uint64_t gpa)
{
	fill_pattern(gpa, 3 * P, 77);
	if (!share(gpa + P, P))
		return;
	host_check_private(gpa, P);
	host_check_private(gpa + 2 * P, P);
	if (destructive())
		host_check_zero(gpa + P, P);
	else
		host_check_pattern(gpa + P, P, 77);
	if (destructive()) {
		/* KVM's hypercall ABI folds -EALREADY into -KVM_EINVAL */
		GUEST_CHECK_EQ(__share(gpa + P, P),
			       boot_info->transport == GMEM_ABI_TRANSPORT_HYPERCALL ?
			       -GMEM_ABI_KVM_EINVAL : -GMEM_ABI_EALREADY,
			       "destructive share of a shared page");
	} else {
		GUEST_CHECK_EQ(__share(gpa + P, P), 0, "in place share of a shared page");
		GUEST_CHECK(guest_sees_pattern(gpa, 3 * P, 77),
			    "partial share changed guest data");
	}
	unshare(gpa + P, P);
	host_check_private(gpa, 3 * P);
}

void test_convert(unsigned int cpu)
{
	static const uint64_t sizes[] = { 1, 16, 100 };
	uint64_t gpa = boot_info->test_gpa;
	unsigned int i;

	if (cpu)
		return;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		convert_range(gpa, sizes[i], 0x1000 + i);
		gpa += (sizes[i] + 1) * P;
	}
	convert_partial(gpa);
	gprintf("convert (%s, %s, platform %s): %u checks, %u failed\n",
		destructive() ? "destructive" : "in place",
		gmem_abi_transport_name(boot_info->transport), platform_name(), results->checks,
		results->failures);
}

/* ---- badreq ---------------------------------------------------------------- */

struct snap {
	uint64_t c[GMEM_ABI_CNT_MAX];
};

static void snap(struct snap *s)
{
	unsigned int i;

	for (i = 0; i < GMEM_ABI_CNT_MAX; i++)
		s->c[i] = host_counter((enum gmem_abi_counter)i);
}

static void check_delta(const struct snap *a, enum gmem_abi_counter c,
			uint64_t want, const char *what)
{
	uint64_t now = host_counter(c);

	GUEST_CHECK(now - a->c[c] == want, "%s: counter %u moved by %lu, want %lu",
		    what, c, now - a->c[c], want);
}

/* A doorbell status as the hypercall returns it: KVM's KVM_E* set, and
 * -EBUSY (gmemkit's extension) as it is (abi.h). */
static int64_t hc_status(int64_t st)
{
	switch (st) {
	case 0:
	case -GMEM_ABI_EBUSY:
		return st;
	case -GMEM_ABI_EINVAL:
	case -GMEM_ABI_EOVERFLOW:
	case -GMEM_ABI_EALREADY:
		return -GMEM_ABI_KVM_EINVAL;
	case -GMEM_ABI_EOPNOTSUPP:
		return -GMEM_ABI_KVM_EOPNOTSUPP;
	default:
		return -GMEM_ABI_KVM_EFAULT;
	}
}

/* want: the doorbell's status; the hypercall's is mapped from it.  One
 * request whatever the platform: the VMM's check of it is under test. */
static void bad(bool doshare, uint64_t gpa, uint64_t len, int64_t want,
		const char *what)
{
	int64_t st = __convert_via(boot_info->transport, doshare, gpa, len);

	if (boot_info->transport == GMEM_ABI_TRANSPORT_HYPERCALL)
		want = hc_status(want);

	GUEST_CHECK(st == want, "%s (0x%lx+0x%lx): status %ld, want %ld",
		    what, gpa, len, st, want);
}

static void badreq_ranges(bool hc, struct snap *s)
{
	uint64_t mem = boot_info->mem_size, t = boot_info->test_gpa;

	snap(s);
	bad(true, mem, P, -GMEM_ABI_ERANGE, "share beyond RAM");
	bad(false, mem - P, 2 * P, -GMEM_ABI_ERANGE, "unshare straddling the end");
	bad(true, GMEM_ABI_VIRTIO_MMIO_GPA, P, -GMEM_ABI_ERANGE, "share MMIO window");
	check_delta(s, GMEM_ABI_CNT_BAD_RANGE, 3, "out of range");

	snap(s);
	bad(true, t + 1, P, -GMEM_ABI_EINVAL, "unaligned gpa");
	bad(true, t, 0, -GMEM_ABI_EINVAL, "zero length");
	if (!hc) {
		bad(true, t, 100, -GMEM_ABI_EINVAL, "unaligned length");
		check_delta(s, GMEM_ABI_CNT_BAD_ALIGN, 3, "unaligned");
	} else {
		/* KVM refuses these itself before any exit: nothing counted. */
		check_delta(s, GMEM_ABI_CNT_BAD_ALIGN, 0, "unaligned (KVM)");
	}

	snap(s);
	bad(true, 0xfffffffffffff000ULL, 2 * P, -GMEM_ABI_EOVERFLOW, "wrapping range");
	if (hc) {
		int64_t st = __hypercall_map(t, 1ULL << 60, 0);

		GUEST_CHECK_EQ(st, -GMEM_ABI_KVM_EINVAL, "npages * 4096 wraps");
		check_delta(s, GMEM_ABI_CNT_BAD_OVERFLOW, 2, "overflow");
	} else {
		check_delta(s, GMEM_ABI_CNT_BAD_OVERFLOW, 1, "overflow");
	}
}

static void badreq_ops(bool hc, struct snap *s)
{
	uint64_t t = boot_info->test_gpa;
	unsigned int cpu = this_cpu();

	snap(s);
	GUEST_CHECK_EQ(__doorbell(0x77, t, P, 0, NULL), -GMEM_ABI_EOPNOTSUPP,
		       "unknown doorbell op");
	GUEST_CHECK_EQ(__doorbell_raw(GMEM_ABI_OP_SHARE, 2, t, P, 0, cpu, NULL),
		       -GMEM_ABI_EOPNOTSUPP, "doorbell: an unknown flag set");
	GUEST_CHECK_EQ(__doorbell_raw(GMEM_ABI_OP_SHARE, 0, t, P, 0, cpu + 1000, NULL),
		       -GMEM_ABI_EINVAL, "doorbell with another vCPU's index");
	if (hc) {
		GUEST_CHECK_EQ(__hypercall_map(t, 1, 1ULL << 8), -GMEM_ABI_KVM_EOPNOTSUPP,
			       "unknown hypercall attributes");
		check_delta(s, GMEM_ABI_CNT_BAD_OP, 4, "unknown op");
	} else {
		check_delta(s, GMEM_ABI_CNT_BAD_OP, 3, "unknown op");
	}
	GUEST_CHECK_EQ(host_counter(GMEM_ABI_CNT_CONV_OK), s->c[GMEM_ABI_CNT_CONV_OK],
		       "bad requests converted nothing");
}

static void badreq_pinned(struct snap *s)
{
	uint64_t t = boot_info->test_gpa + 16 * P;
	uint64_t vcpu_page = GMEM_ABI_VCPU_PAGE_GPA + this_cpu() * P;

	snap(s);
	fill_pattern(t, 2 * P, 9);
	if (!share(t, 2 * P))
		return;
	if (destructive())
		fill_pattern(t, 2 * P, 9);
	GUEST_CHECK_EQ(__doorbell(GMEM_ABI_OP_PIN, t + P, P, 0, NULL), 0, "host pin");
	bad(false, t, 2 * P, -GMEM_ABI_EBUSY, "unshare with a pinned page");
	/* Nothing changed: both pages still shared and intact. */
	host_check_pattern(t, 2 * P, 9);
	bad(false, vcpu_page, P, -GMEM_ABI_EBUSY, "unshare of the VMM-pinned vCPU page");
	bad(false, GMEM_ABI_RESULTS_GPA, P, -GMEM_ABI_EBUSY,
	    "unshare of the VMM-pinned results page");
	check_delta(s, GMEM_ABI_CNT_BUSY, 3, "pinned");
	GUEST_CHECK_EQ(__doorbell(GMEM_ABI_OP_UNPIN, t + P, P, 0, NULL), 0, "host unpin");
	GUEST_CHECK_EQ(__doorbell(GMEM_ABI_OP_UNPIN, t + P, P, 0, NULL),
		       -GMEM_ABI_ENOENT, "unpin of an unpinned page");
	/* The guest's UNPIN only drops what the guest pinned: never the VMM's
	 * pin on the mailbox (the page the VMM writes every answer into). */
	GUEST_CHECK_EQ(__doorbell(GMEM_ABI_OP_UNPIN, vcpu_page, P, 0, NULL),
		       -GMEM_ABI_ENOENT, "UNPIN of the VMM's pin on the mailbox");
	bad(false, vcpu_page, P, -GMEM_ABI_EBUSY, "unshare of the mailbox after the UNPIN");
	check_delta(s, GMEM_ABI_CNT_UNPIN_REFUSED, 2, "refused unpins");
	check_delta(s, GMEM_ABI_CNT_BUSY, 4, "pinned, after the UNPINs");
	unshare(t, 2 * P);
	host_check_private(t, 2 * P);
}

/* ---- badreq: the conversion queue ------------------------------------------ */

#define Q	((volatile struct gmem_abi_convq *)(GMEM_ABI_CONVQ_GPA + this_cpu() * P))

/* One raw request through the ring (any op and flags); its status. */
static int64_t queue_raw(uint32_t op, uint32_t flags, uint64_t gpa, uint64_t len)
{
	uint32_t prod = Q->req_prod;
	volatile struct gmem_abi_convq_req *s = &Q->req[prod & (GMEM_ABI_CONVQ_SIZE - 1)];

	s->op = op;
	s->flags = flags;
	s->gpa = gpa;
	s->len = len;
	s->tag = 0x5151;
	__queue_publish(prod + 1);
	while ((int32_t)(__atomic_load_n(&Q->req_done, __ATOMIC_ACQUIRE) - (prod + 1)) < 0) {
		if (queue_stopped())
			return -GMEM_ABI_EIO;
		cpu_relax();
	}
	if (Q->cpl[prod & (GMEM_ABI_CONVQ_SIZE - 1)].tag != 0x5151)
		return -GMEM_ABI_EIO;
	return Q->cpl[prod & (GMEM_ABI_CONVQ_SIZE - 1)].status;
}

static void badreq_queue(struct snap *s)
{
	uint64_t t = boot_info->test_gpa + 32 * P, mem = boot_info->mem_size;
	struct conv_req b[5] = {
		{ .share = true, .gpa = t, .len = 2 * P },
		{ .share = true, .gpa = mem, .len = P },
		{ .share = false, .gpa = t + 1, .len = P },
		{ .share = false, .gpa = t, .len = 2 * P },
		{ .share = true, .gpa = 0xfffffffffffff000ULL, .len = 2 * P },
	};
	uint64_t k0;
	int64_t st;

	GUEST_CHECK(Q->magic == GMEM_ABI_CONVQ_MAGIC && Q->size == GMEM_ABI_CONVQ_SIZE,
		    "queue page: magic 0x%x size %u", Q->magic, Q->size);
	snap(s);
	GUEST_CHECK_EQ(queue_raw(0x77, 0, t, P), -GMEM_ABI_EOPNOTSUPP, "queue: unknown op");
	GUEST_CHECK_EQ(queue_raw(GMEM_ABI_OP_NOP, 0, t, P), -GMEM_ABI_EOPNOTSUPP,
		       "queue: NOP is a doorbell op only");
	GUEST_CHECK_EQ(queue_raw(GMEM_ABI_OP_SHARE, 4, t, P), -GMEM_ABI_EOPNOTSUPP,
		       "queue: flags set");
	check_delta(s, GMEM_ABI_CNT_BAD_OP, 3, "queue: unknown op / flags");
	check_delta(s, GMEM_ABI_CNT_QUEUE_REQS, 3, "queue: requests read");

	/* A batch mixing good and bad requests: each gets its own status, in
	 * order, and the whole batch costs at most one kick. */
	snap(s);
	k0 = queue_kick_count();
	st = __queue_batch(b, 5, 0);
	GUEST_CHECK_EQ(st, -GMEM_ABI_ERANGE, "batch: first error");
	GUEST_CHECK_EQ(b[0].status, 0, "batch: share");
	GUEST_CHECK_EQ(b[1].status, -GMEM_ABI_ERANGE, "batch: beyond RAM");
	GUEST_CHECK_EQ(b[2].status, -GMEM_ABI_EINVAL, "batch: unaligned");
	GUEST_CHECK_EQ(b[3].status, 0, "batch: unshare");
	GUEST_CHECK_EQ(b[4].status, -GMEM_ABI_EOVERFLOW, "batch: wrapping");
	GUEST_CHECK(queue_kick_count() - k0 <= 1, "batch of 5: %lu kicks",
		    queue_kick_count() - k0);
	check_delta(s, GMEM_ABI_CNT_CONV_OK, 2, "batch: conversions");
	check_delta(s, GMEM_ABI_CNT_BAD_RANGE, 1, "batch: out of range");
	check_delta(s, GMEM_ABI_CNT_BAD_ALIGN, 1, "batch: unaligned");
	check_delta(s, GMEM_ABI_CNT_BAD_OVERFLOW, 1, "batch: overflow");
	host_check_private(t, 2 * P);
}

/* Last: a malformed ring stops this vCPU's queue, not the VM. */
static void badreq_queue_stop(struct snap *s)
{
	uint64_t t = boot_info->test_gpa + 40 * P, t0, limit;
	uint32_t done = Q->req_done;

	snap(s);
	__queue_publish(done + GMEM_ABI_CONVQ_SIZE + 5);
	limit = results->tsc_khz * 5000;	/* 5 s */
	t0 = rdtsc();
	while (!queue_stopped() && rdtsc() - t0 < limit)
		cpu_relax();
	if (!GUEST_CHECK(queue_stopped(), "queue not stopped after a bad req_prod"))
		return;
	GUEST_CHECK_EQ(Q->stop_reason, GMEM_ABI_CONVQ_STOP_INDEX, "stop reason");
	GUEST_CHECK_EQ(Q->stop_index, done + GMEM_ABI_CONVQ_SIZE + 5, "stop index");
	GUEST_CHECK_EQ(Q->req_done, done, "nothing serviced from a bad ring");
	GUEST_CHECK_EQ(__share(t, P), -GMEM_ABI_EIO, "share on a stopped queue");
	check_delta(s, GMEM_ABI_CNT_QUEUE_STOPPED, 1, "queues stopped");
	check_delta(s, GMEM_ABI_CNT_CONV_OK, 0, "stopped queue converted nothing");
	/* The VMM still answers (the doorbell works). */
	GUEST_CHECK_EQ(__doorbell(GMEM_ABI_OP_NOP, 0, 0, 0, NULL), 0,
		       "doorbell after the queue stopped");
	host_check_private(t, P);
}

void test_badreq(unsigned int cpu)
{
	bool hc = boot_info->transport == GMEM_ABI_TRANSPORT_HYPERCALL;
	bool queue = boot_info->transport == GMEM_ABI_TRANSPORT_QUEUE;
	uint64_t t = boot_info->test_gpa;
	struct snap s;

	if (cpu)
		return;
	badreq_ranges(hc, &s);
	badreq_ops(hc, &s);
	badreq_pinned(&s);
	if (queue)
		badreq_queue(&s);
	/* The VM keeps running and good requests still work. */
	fill_pattern(t, P, 3);
	if (share(t, P)) {
		if (!destructive())
			host_check_pattern(t, P, 3);
		unshare(t, P);
	}
	if (hc)
		GUEST_CHECK(host_counter(GMEM_ABI_CNT_HYPERCALLS) > 0,
			    "hypercall transport but no hypercall exit seen");
	if (queue)
		badreq_queue_stop(&s);
	gprintf("badreq (%s): %u checks, %u failed\n",
		gmem_abi_transport_name(boot_info->transport), results->checks, results->failures);
}

/* ---- hostile ----------------------------------------------------------------- */

/*
 * A guest that tries to make the VMM write into a page after it went
 * private: the VMM pins its mailbox, boot info and results pages, and this
 * run has no test services, so the UNPIN that would drop those pins is
 * refused and every unshare of them stays -EBUSY.  The VMM answers each
 * request in the mailbox, so a stolen pin would kill it right here.
 */
static void expect(int64_t st, int64_t want, const char *what, uint64_t arg)
{
	GUEST_CHECK(st == want, "cpu %u: %s (0x%lx): status %ld, want %ld", this_cpu(),
		    what, arg, st, want);
}

void test_hostile(unsigned int cpu)
{
	uint64_t mbox = GMEM_ABI_VCPU_PAGE_GPA + cpu * P, t = boot_info->test_gpa;
	static const uint64_t pinned[] = {
		GMEM_ABI_BOOT_INFO_GPA, GMEM_ABI_RESULTS_GPA,
	};
	static const uint32_t services[] = {
		GMEM_ABI_OP_PIN, GMEM_ABI_OP_UNPIN, GMEM_ABI_OP_CHECK_PATTERN,
		GMEM_ABI_OP_CHECK_ZERO, GMEM_ABI_OP_CHECK_PRIVATE, GMEM_ABI_OP_COUNTER,
	};
	unsigned int i;

	expect(__unshare(mbox, P), -GMEM_ABI_EBUSY, "unshare of the pinned mailbox", mbox);
	expect(__doorbell(GMEM_ABI_OP_UNPIN, mbox, P, 0, NULL), -GMEM_ABI_EOPNOTSUPP,
	       "UNPIN of the mailbox (no test services)", mbox);
	expect(__unshare(mbox, P), -GMEM_ABI_EBUSY, "unshare of the mailbox after the UNPIN",
	       mbox);
	if (cpu)
		return;
	for (i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		expect(__doorbell(GMEM_ABI_OP_UNPIN, pinned[i], P, 0, NULL),
		       -GMEM_ABI_EOPNOTSUPP, "UNPIN of a VMM page", pinned[i]);
		expect(__unshare(pinned[i], P), -GMEM_ABI_EBUSY, "unshare of a VMM page",
		       pinned[i]);
	}
	/* Every test service is closed in this run, whatever the arguments. */
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		expect(__doorbell(services[i], t, P, 0, NULL), -GMEM_ABI_EOPNOTSUPP,
		       "test service op", services[i]);
	/* The VMM is still there and good requests still work. */
	expect(__doorbell(GMEM_ABI_OP_NOP, 0, 0, 0, NULL), 0, "NOP round trip", 0);
	fill_pattern(t, P, 5);
	if (share(t, P))
		unshare(t, P);
	GUEST_CHECK(destructive() || guest_sees_pattern(t, P, 5), "hostile: data kept");
	gprintf("hostile: %u checks, %u failed\n", results->checks, results->failures);
	/* Terminal control sequences (a title change, a line erase) where the
	 * VMM prints the first failure: it must filter them like the console. */
	if (!results->failures) {
		static const char esc[] = "\033]0;hostile\007\033[2K\rforged";

		for (i = 0; i < sizeof(esc); i++)
			results->fail_msg[i] = esc[i];
	}
}

/* ---- smp ------------------------------------------------------------------- */

#define SMP_AREA_PAGES	64
#define SMP_ITERS	16

void test_smp(unsigned int cpu)
{
	uint64_t base = boot_info->test_gpa + cpu * SMP_AREA_PAGES * P;
	unsigned int k;

	if (cpu == 0)
		GUEST_CHECK(boot_info->nr_vcpus >= 2, "smp needs 2 or more vCPUs, have %u",
			    boot_info->nr_vcpus);
	if (base + SMP_AREA_PAGES * P > boot_info->mem_size) {
		GUEST_CHECK(false, "cpu %u: test area too small", cpu);
		smp_barrier();
		smp_barrier();
		return;
	}
	smp_barrier();		/* start together: conversions overlap in time */
	for (k = 0; k < SMP_ITERS; k++) {
		uint64_t n = 1 + (k * 7 + cpu * 13) % SMP_AREA_PAGES;
		uint64_t len = n * P, seed = ((uint64_t)cpu << 32) | k;

		fill_pattern(base, len, seed);
		if (!share(base, len))
			break;
		if (destructive()) {
			GUEST_CHECK(guest_sees_zero(base, len), "cpu %u iter %u: not zero",
				    cpu, k);
			fill_pattern(base, len, seed);
		}
		host_check_pattern(base, len, seed);
		if (!unshare(base, len))
			break;
		host_check_private(base, len);
		if (!destructive())
			GUEST_CHECK(guest_sees_pattern(base, len, seed),
				    "cpu %u iter %u: data lost", cpu, k);
	}
	smp_barrier();
	gprintf("[cpu%u] smp: %u iterations on 0x%lx, %u failures here\n", cpu,
		k, base, guest_cpu_failures());
}

/* ---- bench ------------------------------------------------------------------ */

static void sort_u64(uint64_t *v, uint64_t n)
{
	uint64_t gap, i, j, x;

	for (gap = n / 2; gap; gap /= 2) {
		for (i = gap; i < n; i++) {
			x = v[i];
			for (j = i; j >= gap && v[j - gap] > x; j -= gap)
				v[j] = v[j - gap];
			v[j] = x;
		}
	}
}

/* VMM counters around a series (read by doorbell, outside the timing). */
struct bsnap {
	uint64_t conv, host_ns, cpu_ns, kicks, tsc;
};

static void bsnap_before(struct bsnap *b)
{
	b->conv = host_counter(GMEM_ABI_CNT_CONV_OK);
	b->host_ns = host_counter(GMEM_ABI_CNT_CONV_HOST_NS);
	b->kicks = queue_kick_count();
	b->cpu_ns = host_counter(GMEM_ABI_CNT_QUEUE_CPU_NS);
	b->tsc = rdtsc();
}

static void bsnap_after(struct bsnap *b)
{
	b->tsc = rdtsc();
	b->cpu_ns = host_counter(GMEM_ABI_CNT_QUEUE_CPU_NS);
	b->kicks = queue_kick_count();
	b->conv = host_counter(GMEM_ABI_CNT_CONV_OK);
	b->host_ns = host_counter(GMEM_ABI_CNT_CONV_HOST_NS);
}

static void record(uint32_t op, uint32_t transport, uint64_t pages,
		   uint64_t *v, uint64_t n, const struct bsnap *a,
		   const struct bsnap *z)
{
	volatile struct gmem_abi_bench *b;
	uint32_t i = results->nr_bench;

	if (i >= GMEM_ABI_MAX_BENCH || !n)
		return;
	sort_u64(v, n);
	b = &results->bench[i];
	b->op = op;
	b->transport = transport;
	b->pages = pages;
	b->samples = n;
	b->ns_min = tsc_to_ns(v[0]);
	b->ns_median = tsc_to_ns(v[(n - 1) / 2]);
	b->ns_max = tsc_to_ns(v[n - 1]);
	b->conversions = z->conv - a->conv;
	b->host_ns = z->host_ns - a->host_ns;
	b->conv_cpu_ns = z->cpu_ns - a->cpu_ns;
	b->kicks = z->kicks - a->kicks;
	b->wall_ns = tsc_to_ns(z->tsc - a->tsc);
	results->nr_bench = i + 1;
	gprintf("  %-16s %-9s %4lu pages  min %8lu ns  median %8lu ns  (%lu samples)\n",
		op == GMEM_ABI_BENCH_EXIT ? "exit_roundtrip" :
		op == GMEM_ABI_BENCH_KICK ? "queue_kick" : "guest_roundtrip",
		gmem_abi_transport_name(transport), pages, b->ns_min, b->ns_median, n);
}

void test_bench(unsigned int cpu)
{
	static const uint64_t pages[] = { 1, 4, 16, 64, 256, 512 };
	uint64_t *v = (uint64_t *)GMEM_ABI_HEAP_GPA;
	uint64_t reps = boot_info->bench_reps, gpa = boot_info->test_gpa, r, t0;
	uint32_t tr = boot_info->transport;
	unsigned int i, errors = 0;
	struct bsnap sa, sz;

	if (cpu)
		return;
	if (!GUEST_CHECK(reps * 8 <= GMEM_ABI_HEAP_SIZE && reps > 0,
			 "bench reps %lu", reps))
		return;
	gprintf("bench (%s, %s, platform %s, %lu reps, tsc %lu kHz):\n",
		gmem_abi_transport_name(tr), destructive() ? "destructive" : "in place",
		platform_name(), reps, results->tsc_khz);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		uint64_t len = pages[i] * P;

		if (gpa + len > boot_info->mem_size)
			break;
		for (r = 0; r < reps + 2; r++) {	/* 2 warm-up rounds */
			int64_t a, b;

			if (r == 2)
				bsnap_before(&sa);
			t0 = rdtsc();
			a = __share(gpa, len);
			b = __unshare(gpa, len);
			if (r >= 2)
				v[r - 2] = rdtsc() - t0;
			errors += a != 0 || b != 0;
		}
		bsnap_after(&sz);
		record(GMEM_ABI_BENCH_ROUNDTRIP, tr, pages[i], v, reps, &sa, &sz);
	}
	GUEST_CHECK(errors == 0, "%u share/unshare errors during the bench", errors);
	for (r = 0; r < reps + 2; r++) {
		if (r == 2)
			bsnap_before(&sa);
		t0 = rdtsc();
		errors += __doorbell(GMEM_ABI_OP_NOP, 0, 0, 0, NULL) != 0;
		if (r >= 2)
			v[r - 2] = rdtsc() - t0;
	}
	bsnap_after(&sz);
	record(GMEM_ABI_BENCH_EXIT, GMEM_ABI_TRANSPORT_DOORBELL, 0, v, reps, &sa, &sz);
	/* Queue: what one kick costs the guest (the ioeventfd exit; the
	 * converter's wakeup is not on this path). */
	if (tr == GMEM_ABI_TRANSPORT_QUEUE) {
		for (r = 0; r < reps + 2; r++) {
			if (r == 2)
				bsnap_before(&sa);
			t0 = rdtsc();
			queue_kick();
			if (r >= 2)
				v[r - 2] = rdtsc() - t0;
		}
		bsnap_after(&sz);
		record(GMEM_ABI_BENCH_KICK, tr, 0, v, reps, &sa, &sz);
	}
	GUEST_CHECK(errors == 0, "%u doorbell errors during the bench", errors);
}

/* ---- mmio ------------------------------------------------------------------ */

/* Exercises the VMM's MMIO routing: the host test program registers a
 * handler on the window (magic "virt" at 0, a scratch register at 0x70)
 * and possibly an ioeventfd on QueueNotify. */
void test_mmio(unsigned int cpu)
{
	volatile uint32_t *w = (volatile uint32_t *)GMEM_ABI_VIRTIO_MMIO_GPA;

	if (cpu)
		return;
	GUEST_CHECK_EQ(w[0], 0x74726976, "MMIO read of the magic register");
	w[0x70 / 4] = 0x1234abcd;
	GUEST_CHECK_EQ(w[0x70 / 4], 0x1234abcd, "MMIO read back of a written register");
	w[GMEM_ABI_VIRTIO_MMIO_NOTIFY / 4] = 0;
	w[GMEM_ABI_VIRTIO_MMIO_NOTIFY / 4] = 0;
	gprintf("mmio: window 0x%lx answered\n", (uint64_t)GMEM_ABI_VIRTIO_MMIO_GPA);
}

/* ---- probe and deliberate failures --------------------------------------------- */

void test_probe(unsigned int cpu)
{
	int64_t st;

	if (cpu)
		return;
	st = __convert_via(GMEM_ABI_TRANSPORT_HYPERCALL, true, boot_info->test_gpa, P);
	GUEST_CHECK_EQ(st, 0, "KVM_HC_MAP_GPA_RANGE share");
}

void test_fault(unsigned int cpu)
{
	if (cpu)
		return;
	gprintf("fault: executing ud2\n");
	__asm__ volatile("ud2");
}

/* A software interrupt with no gate behind it: #GP through the IDT on
 * VMX/SVM; a PVM-variant host ends the run with a KVM internal error (the
 * VMM's report of it is what this tests). */
void test_intn(unsigned int cpu)
{
	if (cpu)
		return;
	gprintf("intn: executing int $0x40\n");
	__asm__ volatile("int $0x40");
}

void test_triple(unsigned int cpu)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) none = { 0, 0 };

	if (cpu)
		return;
	gprintf("triple: empty IDT, then ud2\n");
	__asm__ volatile("lidt %0; ud2" : : "m"(none) : "memory");
}

void test_hang(unsigned int cpu)
{
	if (cpu)
		return;
	gprintf("hang: spinning until the watchdog ends the run\n");
	for (;;)
		cpu_relax();
}
