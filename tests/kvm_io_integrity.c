// SPDX-License-Identifier: GPL-2.0
/*
 * Guest I/O through virtio-blk (gmemkit/bench_io.h), what must hold
 * whatever the speed: data integrity in every mode with the file backend (the guest
 * verifies reads, the host checks the sectors that reached the file),
 * O_DIRECT, two vCPUs, malformed requests from the real guest (IOERR,
 * counted, no host access to private pages) and a guest unsharing a buffer
 * during its own I/O (refused with -EBUSY).  The modes' cost split and
 * io-bench: kvm_io.c.  Needs /dev/kvm: without it every test SKIPs with the
 * reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gmemkit/adapt.h"
#include "gmemkit/probe.h"
#include "gmemkit/bench_cost.h"
#include "gmemkit/bench_io.h"
#include "gmemkit/json.h"
#include "gmemkit/platform.h"
#include "gmemkit/timing.h"
#include "disk_check.h"
#include "kvm_io_util.h"

/* ---- file backend: data integrity --------------------------------------- */

/* The host's look at what reached the file: every sector of vCPU 0's span
 * carries its own number, the mode's tag and a matching check word. */
static bool file_stamped(const char *path, enum gmem_abi_io_mode m, uint64_t bytes)
{
	uint64_t bad = disk_bad_sectors(path, 0, bytes, GMEM_ABI_IO_TAG(m));

	if (bad)
		diag("%llu of %llu sectors not as the guest wrote them",
		     (unsigned long long)bad, (unsigned long long)(bytes / 512));
	return !bad;
}

static enum vmm_transport verify_transport;	/* AUTO unless a test sets it */
static enum vmm_conv_model verify_model;	/* LAZY unless a test sets it */
static unsigned int verify_platform;		/* ideal unless a test sets it */

static void verify_run(const char *disk, enum gmem_abi_io_mode m, enum gmem_abi_io_rw rw,
		       uint64_t bs, unsigned int vcpus, bool direct)
{
	char spec[300];
	struct bench_io_result r;
	struct bench_io_config c;
	const char *n = bench_io_mode_name(m);
	int err;

	base(&c, m);
	snprintf(spec, sizeof(spec), "file:%s%s", disk, direct ? ",direct" : "");
	c.backend = spec;
	c.rw = rw;
	c.bs = bs;
	c.vcpus = vcpus;
	c.ios = 48;
	c.span = 16;
	c.flags = GMEM_ABI_IOF_VERIFY;
	c.transport = verify_transport;
	c.conv_model = verify_model;
	c.platform = verify_platform;
	err = run(&c, &r);
	if (verify_platform)
		diag("platform %s: %llu calls, %llu keep bytes for %llu I/Os",
		     plat_name((enum plat)verify_platform), (unsigned long long)r.io.conv_calls,
		     (unsigned long long)r.io.keep_bytes, (unsigned long long)r.io.ios);
	if (verify_platform && plat_destroys((enum plat)verify_platform) &&
	    m == GMEM_ABI_IO_INPLACE)
		ok(!err && r.io.ios && r.io.keep_bytes == r.io.ios * bs,
		   "%s on %s (contents destroyed): every I/O copies its data once (%llu bytes "
		   "for %llu I/Os)", n, plat_name((enum plat)verify_platform),
		   (unsigned long long)r.io.keep_bytes, (unsigned long long)r.io.ios);
	ok(!err && r.vm.pass, "%s %s bs %llu%s%s%s%s%s: guest passed (%s)", n,
	   bench_io_rw_name(rw), (unsigned long long)bs, vcpus > 1 ? ", 2 vCPUs" : "",
	   direct ? ", O_DIRECT" : "",
	   verify_transport == VMM_TRANSPORT_QUEUE ? ", queue" : "",
	   verify_model ? ", model " : "", verify_model ? vmm_conv_model_name(verify_model) : "",
	   err ? strerror(-err) : r.vm.message);
	if (verify_model == VMM_CONV_HUGE && m == GMEM_ABI_IO_INPLACE)
		ok(!err && r.io.ios && r.io.conv_bytes == r.io.ios * GMEM_HUGE_PAGE_SIZE &&
		   r.granule == GMEM_HUGE_PAGE_SIZE,
		   "%s on 2 MiB pages: each I/O shares one whole huge page (%llu bytes for "
		   "%llu I/Os)", n, (unsigned long long)r.io.conv_bytes,
		   (unsigned long long)r.io.ios);
	/* Reads check what they get; with writes, a read-back pass checks the
	 * span: either way at least the span's sectors. */
	ok(r.io.verify_errors == 0 && r.io.verified >= 16ULL * vcpus * bs / 512 &&
	   r.io.io_errors == 0,
	   "%s: %llu sectors verified, %llu errors, %llu I/O errors", n,
	   (unsigned long long)r.io.verified, (unsigned long long)r.io.verify_errors,
	   (unsigned long long)r.io.io_errors);
	ok(r.io.prefill_ios == 16ULL * vcpus && r.dev.writes >= 16ULL * vcpus,
	   "%s: span prefilled (%llu writes), device wrote %llu", n,
	   (unsigned long long)r.io.prefill_ios, (unsigned long long)r.dev.writes);
	ok(file_stamped(disk, m, 16 * bs), "%s: the file holds the guest's sectors", n);
	ok_eq(r.mem.violations, 0, "%s: no host access to a private page", n);
}

static bool direct_ok(const char *dir)
{
	char p[300];
	int fd;

	snprintf(p, sizeof(p), "%s/gmemkit-direct-XXXXXX", dir);
	fd = mkstemp(p);
	if (fd < 0)
		return false;
	close(fd);
	fd = open(p, O_RDWR | O_DIRECT);
	unlink(p);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void test_file(void)
{
	const char *dirs[] = { getenv("O") ? getenv("O") : "build", "/var/tmp", "/tmp" };
	char disk[300], ddisk[300];
	unsigned int i;
	const char *dd = NULL;

	if (!have_kvm) {
		skip_why("file backend: %s", no_kvm);
		return;
	}
	if (blk_disk_create(disk, sizeof(disk), "/var/tmp", DISK) &&
	    blk_disk_create(disk, sizeof(disk), "/tmp", DISK)) {
		skip_why("file backend: cannot create a disk image");
		return;
	}
	for (i = 0; i < NMODES; i++)
		verify_run(disk, modes[i], GMEM_ABI_IO_RANDRW, 16 * KiB, 1, false);
	verify_run(disk, GMEM_ABI_IO_BOUNCE, GMEM_ABI_IO_WRITE, 512 * KiB, 1, false);
	verify_run(disk, GMEM_ABI_IO_INPLACE, GMEM_ABI_IO_RANDWRITE, 16 * KiB, 2, false);
	verify_run(disk, GMEM_ABI_IO_BOUNCE, GMEM_ABI_IO_RANDREAD, 16 * KiB, 2, false);
	verify_run(disk, GMEM_ABI_IO_PERSISTENT, GMEM_ABI_IO_WRITE, 512 * KiB, 1, false);
	verify_run(disk, GMEM_ABI_IO_PERSISTENT, GMEM_ABI_IO_RANDREAD, 16 * KiB, 2, false);
	/* The in-place modes over the conversion queue, data checked. */
	verify_transport = VMM_TRANSPORT_QUEUE;
	verify_run(disk, GMEM_ABI_IO_INPLACE, GMEM_ABI_IO_RANDRW, 16 * KiB, 2, false);
	verify_run(disk, GMEM_ABI_IO_INPLACE_BATCH, GMEM_ABI_IO_RANDRW, 16 * KiB, 1, false);
	verify_transport = VMM_TRANSPORT_AUTO;
	unlink(disk);

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !dd; i++)
		if (direct_ok(dirs[i]))
			dd = dirs[i];
	if (!dd || blk_disk_create(ddisk, sizeof(ddisk), dd, DISK)) {
		skip_why("O_DIRECT: no directory here takes it");
		return;
	}
	diag("O_DIRECT disk in %s", dd);
	for (i = 0; i < NMODES; i++)
		verify_run(ddisk, modes[i], GMEM_ABI_IO_RANDRW, 8 * KiB, 1, true);
	unlink(ddisk);
}

/* ---- the eager model and 2 MiB pages, data checked ------------------------- */

static long huge_before = -1;

/* Reserve n free 2 MiB pages (root), remembering what to give back. */
static bool reserve_huge(long n)
{
	long have = gmem_huge_pages_free(), total = -1;
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r+e");

	if (have >= n)
		return true;
	if (!f)
		return false;
	if (fscanf(f, "%ld", &total) == 1 && total >= 0) {
		huge_before = total;
		rewind(f);
		fprintf(f, "%ld\n", total + n - (have > 0 ? have : 0));
	}
	fclose(f);
	return gmem_huge_pages_free() >= n;
}

static void release_huge(void)
{
	FILE *f;

	if (huge_before < 0)
		return;
	f = fopen("/proc/sys/vm/nr_hugepages", "we");
	if (f) {
		fprintf(f, "%ld\n", huge_before);
		fclose(f);
	}
	huge_before = -1;
}

static void test_models(void)
{
	char disk[300];

	if (!have_kvm) {
		skip_why("conversion models: %s", no_kvm);
		return;
	}
	if (blk_disk_create(disk, sizeof(disk), "/var/tmp", DISK) &&
	    blk_disk_create(disk, sizeof(disk), "/tmp", DISK)) {
		skip_why("conversion models: cannot create a disk image");
		return;
	}
	verify_model = VMM_CONV_EAGER;
	verify_run(disk, GMEM_ABI_IO_INPLACE, GMEM_ABI_IO_RANDRW, 16 * KiB, 2, false);
	verify_run(disk, GMEM_ABI_IO_INPLACE_BATCH, GMEM_ABI_IO_RANDRW, 16 * KiB, 1, false);
	verify_run(disk, GMEM_ABI_IO_ADAPTIVE, GMEM_ABI_IO_RANDRW, 16 * KiB, 1, false);
	verify_model = VMM_CONV_HUGE;
	if (!reserve_huge(64)) {
		skip_why("2 MiB pages: none free and vm.nr_hugepages not writable (root)");
	} else {
		verify_run(disk, GMEM_ABI_IO_INPLACE, GMEM_ABI_IO_RANDRW, 16 * KiB, 2, false);
		verify_run(disk, GMEM_ABI_IO_INPLACE_BATCH, GMEM_ABI_IO_RANDRW, 16 * KiB, 1,
			   false);
		verify_run(disk, GMEM_ABI_IO_BOUNCE, GMEM_ABI_IO_RANDRW, 16 * KiB, 1, false);
	}
	release_huge();
	verify_model = VMM_CONV_LAZY;
	unlink(disk);
}

/* ---- platform profiles: their calls, their contents, data checked ------- */

static void platform_calls(enum plat p, enum gmem_abi_io_mode m, uint64_t want_per_dir)
{
	struct bench_io_result r;
	struct bench_io_config c;
	int err;

	base(&c, m);
	c.platform = p;
	c.bs = 1ULL << 20;
	c.qd = 1;
	c.ios = 4;
	/* The doorbell takes a list in one exit; the hypercall (what auto
	 * picks in a test VM) makes one call per range of it. */
	c.transport = VMM_TRANSPORT_DOORBELL;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.io.ios &&
	   r.io.conv_calls == 2 * want_per_dir * r.io.ios,
	   "%s %s 1 MiB, doorbell: %llu calls per direction per I/O (want %llu)", plat_name(p),
	   bench_io_mode_name(m),
	   (unsigned long long)(r.io.ios ? r.io.conv_calls / 2 / r.io.ios : 0),
	   (unsigned long long)want_per_dir);
}

static void test_platforms(void)
{
	static const enum plat plats[] = { PLAT_PKVM, PLAT_TDX, PLAT_SNP, PLAT_CCA, PLAT_IDEAL };
	char disk[300];
	unsigned int i;

	if (!have_kvm) {
		skip_why("platform profiles: %s", no_kvm);
		return;
	}
	platform_calls(PLAT_PKVM, GMEM_ABI_IO_INPLACE, 256);
	platform_calls(PLAT_TDX, GMEM_ABI_IO_INPLACE, 1);
	platform_calls(PLAT_SNP, GMEM_ABI_IO_INPLACE, 4);
	platform_calls(PLAT_SNP, GMEM_ABI_IO_INPLACE_SCATTER, 4);
	platform_calls(PLAT_CCA, GMEM_ABI_IO_INPLACE, 1);
	if (blk_disk_create(disk, sizeof(disk), "/var/tmp", DISK) &&
	    blk_disk_create(disk, sizeof(disk), "/tmp", DISK)) {
		skip_why("platform profiles: cannot create a disk image");
		return;
	}
	for (i = 0; i < sizeof(plats) / sizeof(plats[0]); i++) {
		verify_platform = plats[i];
		verify_run(disk, GMEM_ABI_IO_INPLACE, GMEM_ABI_IO_RANDRW, 16 * KiB, 1, false);
	}
	verify_platform = PLAT_SNP;
	verify_run(disk, GMEM_ABI_IO_INPLACE_SCATTER, GMEM_ABI_IO_RANDRW, 64 * KiB, 1, false);
	verify_platform = PLAT_CCA;
	verify_run(disk, GMEM_ABI_IO_INPLACE_BATCH, GMEM_ABI_IO_RANDRW, 16 * KiB, 1, false);
	/* adaptive's batched and single in-place paths with keep copies */
	verify_platform = PLAT_TDX;
	verify_run(disk, GMEM_ABI_IO_ADAPTIVE, GMEM_ABI_IO_RANDRW, 16 * KiB, 1, false);
	verify_platform = PLAT_IDEAL;
	unlink(disk);
}

/* ---- malformed requests from the guest ----------------------------------- */

/* Data on a private page (read and write), outside RAM, 100 bytes, on the
 * descriptor table, past the end of the disk: IOERR each, counted per
 * class; then ordinary I/O still works. */

static void bad_requests(enum vmm_conv_model model)
{
	const char *mn = vmm_conv_model_name(model);
	struct bench_io_result r;
	struct bench_io_config c;
	int err;

	base(&c, GMEM_ABI_IO_SHARED);
	c.flags = GMEM_ABI_IOF_BAD_DESC;
	c.ios = 8;
	c.conv_model = model;
	err = run(&c, &r);
	ok(!err && r.vm.pass, "%s: malformed requests: guest passed (%s)", mn,
	   err ? strerror(-err) : r.vm.message);
	ok(r.io.bad_sent == 6 && r.io.bad_ioerr == 6, "%llu of %llu malformed requests got IOERR",
	   (unsigned long long)r.io.bad_ioerr, (unsigned long long)r.io.bad_sent);
	ok(r.dev.err[VBLK_E_PRIVATE] == 2, "2 counted as private buffers (%llu)",
	   (unsigned long long)r.dev.err[VBLK_E_PRIVATE]);
	ok(r.dev.err[VBLK_E_OUT_OF_RAM] == 1, "1 counted as outside RAM (%llu)",
	   (unsigned long long)r.dev.err[VBLK_E_OUT_OF_RAM]);
	ok(r.dev.err[VBLK_E_DATA_LEN] == 1, "1 counted as a bad data length (%llu)",
	   (unsigned long long)r.dev.err[VBLK_E_DATA_LEN]);
	ok(r.dev.err[VBLK_E_RING_OVERLAP] == 1, "1 counted as overlapping the rings (%llu)",
	   (unsigned long long)r.dev.err[VBLK_E_RING_OVERLAP]);
	ok(r.dev.err[VBLK_E_SECTOR] == 1, "1 counted as beyond capacity (%llu)",
	   (unsigned long long)r.dev.err[VBLK_E_SECTOR]);
	ok(r.dev.ioerr == 6 && r.dev.violations >= 3 && r.dev.broken == 0,
	   "device: %llu IOERR, %llu violations, ring not broken",
	   (unsigned long long)r.dev.ioerr, (unsigned long long)r.dev.violations);
	ok_eq(r.mem.violations, 0, "%s: no host access to a private page (no SIGBUS, no SIGSEGV)", mn);
	ok(r.io.ios == 8 && r.io.io_errors == 0, "good I/O afterwards: %llu, %llu errors",
	   (unsigned long long)r.io.ios, (unsigned long long)r.io.io_errors);
}

static void test_bad_requests(void)
{
	if (!have_kvm) {
		skip_why("malformed requests: %s", no_kvm);
		return;
	}
	bad_requests(VMM_CONV_LAZY);
	bad_requests(VMM_CONV_EAGER);
}

/* ---- unshare during the buffer's own I/O ------------------------------------ */

/* A backend that holds every I/O for HOLD_MS (a slow disk). */
#define HOLD_MS	1500

struct slow {
	struct blk_backend be;
	struct blk_io *held[64];
	unsigned int n;
};

static int slow_submit(struct blk_backend *be, struct blk_io *io)
{
	struct slow *s = (struct slow *)be;
	struct itimerspec t = { .it_value = { HOLD_MS / 1000, (HOLD_MS % 1000) * 1000000L } };

	if (s->n == 64)
		return -EBUSY;
	s->held[s->n++] = io;
	if (s->n == 1)
		timerfd_settime(be->event_fd, 0, &t, NULL);
	return 0;
}

static int slow_kick(struct blk_backend *be)
{
	(void)be;
	return 0;
}

static int slow_reap(struct blk_backend *be, bool wait)
{
	struct slow *s = (struct slow *)be;
	struct itimerspec cur;
	unsigned int i, n = s->n;

	if (!n)
		return 0;
	timerfd_gettime(be->event_fd, &cur);
	if (cur.it_value.tv_sec || cur.it_value.tv_nsec) {
		if (!wait)
			return 0;
		nanosleep(&cur.it_value, NULL);
	}
	s->n = 0;
	for (i = 0; i < n; i++)
		be->complete(be, s->held[i], s->held[i]->op == BLK_OP_FLUSH ? 0 :
			     (long)s->held[i]->len);
	return (int)n;
}

static void slow_destroy(struct blk_backend *be)
{
	close(be->event_fd);
	free(be);
}

static const struct blk_backend_ops slow_ops = {
	.submit = slow_submit,
	.kick = slow_kick,
	.reap = slow_reap,
	.destroy = slow_destroy,
};

static struct blk_backend *slow_backend(void)
{
	struct slow *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->be.ops = &slow_ops;
	s->be.name = "slow";
	s->be.engine = "timer";
	s->be.capacity = DISK;
	s->be.event_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->be.event_fd < 0) {
		free(s);
		return NULL;
	}
	return &s->be;
}

static void test_unshare_busy(void)
{
	struct bench_io_result r;
	struct bench_io_config c;
	int err;

	if (!have_kvm) {
		skip_why("unshare during I/O: %s", no_kvm);
		return;
	}
	base(&c, GMEM_ABI_IO_INPLACE);
	c.backend = NULL;
	c.custom = slow_backend();
	c.flags = GMEM_ABI_IOF_UNSHARE_BUSY | GMEM_ABI_IOF_STEAL_PIN;
	c.ios = 0;
	c.bs = 64 * KiB;
	c.delay_ms = 300;
	if (!c.custom) {
		ok(false, "slow backend: %s", strerror(errno));
		return;
	}
	err = run(&c, &r);
	ok(!err && r.vm.pass, "unshare during I/O: guest passed (%s)",
	   err ? strerror(-err) : r.vm.message);
	ok_eq(r.io.busy_status, -16, "unshare while the device holds the buffer: -EBUSY");
	ok_eq(r.io.busy_after, 0, "unshare after completion: 0");
	ok(r.mem.refusals >= 1 && r.vm.counters.c[GMEM_ABI_CNT_BUSY] >= 1,
	   "VMM counted the refusal (gmem %llu, vm %llu)", (unsigned long long)r.mem.refusals,
	   (unsigned long long)r.vm.counters.c[GMEM_ABI_CNT_BUSY]);
	ok(r.dev.reads == 1 && r.dev.ok == 1, "the held read completed OK");
	/* Item 1, second sequence, through the real guest: it first tries to
	 * drop the device's pin on the buffer (no test services in an I/O
	 * run), then unshares it (-EBUSY above): the device's completion found
	 * every pin it took. */
	ok(r.io.steal_status == -95 &&
	   r.vm.counters.c[GMEM_ABI_CNT_SERVICE_REFUSED] == 1,
	   "UNPIN of the device's pin refused: -EOPNOTSUPP (%lld), counted (%llu)",
	   (long long)r.io.steal_status,
	   (unsigned long long)r.vm.counters.c[GMEM_ABI_CNT_SERVICE_REFUSED]);
	ok(r.dev.unpin_bugs == 0 && r.mem.unpin_missing == 0 && r.mem.violations == 0 &&
	   r.dev.err[VBLK_E_PRIVATE] == 0,
	   "no unpin bug, no violation, the device never met a private buffer");
}

int main(void)
{
	struct probe_host_caps caps;

	probe_host(&caps);
	have_kvm = caps.kvm;
	if (!have_kvm)
		no_kvm = "no usable /dev/kvm";
	test_file();
	test_models();
	test_platforms();
	test_bad_requests();
	test_unshare_busy();
	return tap_done();
}
