// SPDX-License-Identifier: GPL-2.0
/*
 * Stress by the real guest under KVM (gmemkit/bench_io.h, mode
 * GMEM_ABI_IO_MIXED with GMEM_ABI_IOF_CHURN): 2 vCPUs issue random reads and writes, each
 * request on the shared, bounce or inplace path at random, now and then an
 * inplace-batch batch, while each vCPU converts random pages of a scratch
 * area between requests and unshares buffers of its own requests the
 * device holds; the device thread runs, for a few seconds, with data
 * verification (every sector stamped, reads checked, read-back pass).
 *
 * Two backends: a file behind a "jitter" backend that holds each I/O for
 * a random 0..4 ms and completes them in deadline order (out of order: so
 * that a request submitted earlier is still held when a later one is
 * done, the moment the guest tries to unshare its buffer), and the real
 * file backend (io_uring).  Checked: guest passed, no verify or I/O error,
 * every request completed exactly once (driver and workload counts, the
 * device's request count), zero host accesses to private pages, churn
 * conversions done, held-buffer unshares refused -EBUSY (jitter run) and
 * every -EBUSY counted the same on the guest and VMM sides.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gmemkit/bench_io.h"
#include "gmemkit/timing.h"
#include "disk_check.h"
#include "harness/blk_jitter.h"
#include "tap.h"

#define KiB		1024ULL
#define DISK		(64ULL << 20)
#define BS		(16 * KiB)
#define SPAN		64ULL		/* blocks per vCPU */
#define HOLD_MAX_NS	4000000ULL

/* ---- helpers --------------------------------------------------------------- */

static void base(struct bench_io_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = GMEM_ABI_IO_MIXED;
	c->rw = GMEM_ABI_IO_RANDRW;
	c->bs = BS;
	c->qd = 8;
	c->vcpus = 2;
	c->runtime_s = 4;
	c->span = SPAN;
	c->seed = 0x5eed;
	c->flags = GMEM_ABI_IOF_VERIFY | GMEM_ABI_IOF_CHURN;
	c->quiet = !getenv("KVM_IO_VERBOSE");
	c->console = stderr;
	c->timeout_ms = 180000;
}

/* ---- no VM needed ------------------------------------------------------ */

static void test_config(void)
{
	struct bench_io_config c;
	struct bench_io_result r;
	enum gmem_abi_io_mode m;

	ok(!bench_io_mode_from_name("mixed", &m) && m == GMEM_ABI_IO_MIXED &&
	   !strcmp(bench_io_mode_name(GMEM_ABI_IO_MIXED), "mixed"), "mode name mixed");
	base(&c);
	c.backend = "null:67108864";
	c.mode = GMEM_ABI_IO_BOUNCE;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "churn outside mode mixed refused");
	c.mode = GMEM_ABI_IO_INPLACE;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "churn with inplace refused");
	{
		struct gmem_abi_io_config io = {
			.mode = GMEM_ABI_IO_MIXED, .bs = BS, .qd = 8,
			.pool_size = GMEM_ABI_IO_POOL_DEFAULT,
		};

		ok(gmem_abi_io_mem_size(&io, 2) >=
		   gmem_abi_io_churn_gpa(&io, 2) + 2 * GMEM_ABI_IO_CHURN_PAGES * 4096,
		   "guest RAM of a mixed run holds the churn scratch");
		ok(gmem_abi_io_churn_gpa(&io, 2) >= gmem_abi_io_shared_gpa(&io, 2) +
		   gmem_abi_io_shared_size(&io, 2),
		   "churn scratch after the shared area");
		ok(gmem_abi_io_meta_gpa(&io, 2) >= gmem_abi_io_churn_gpa(&io, 2) +
		   2 * GMEM_ABI_IO_CHURN_PAGES * 4096 &&
		   gmem_abi_io_meta_gpa(&io, 2) + gmem_abi_io_meta_size(&io) <=
		   gmem_abi_io_mem_size(&io, 2),
		   "bounce metadata after the churn scratch, inside guest RAM");
	}
}

/* io-bench --churn without --mode mixed: usage error naming the mode. */
static void test_cli(void)
{
	char cmd[512], out[1024];
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s/gmemkit io-bench --churn --mode bounce 2>&1",
		 getenv("O") ? getenv("O") : "build");
	p = popen(cmd, "r");
	if (!ok(p != NULL, "run %s", cmd))
		return;
	while (n + 1 < sizeof(out) && (st = (int)fread(out + n, 1, sizeof(out) - 1 - n, p)) > 0)
		n += (size_t)st;
	out[n] = '\0';
	st = pclose(p);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 2 && strstr(out, "--churn") &&
	   strstr(out, "bounce"), "io-bench --churn --mode bounce: exit 2, says why (%s)",
	   strtok(out, "\n") ? out : "");
}

/* ---- the stress run ---------------------------------------------------------- */

static void stress(const char *disk, bool jitter)
{
	const char *n = jitter ? "jitter" : "file";
	struct bench_io_result r;
	struct bench_io_config c;
	uint64_t t0 = timing_now_ns(), cap = DISK / 512;
	char spec[300];
	int err;

	base(&c);
	if (jitter) {
		int e = blk_jitter_file(disk, DISK, HOLD_MAX_NS, &c.custom);

		if (e) {
			ok(false, "jitter backend on %s: %s", disk, strerror(-e));
			return;
		}
	} else {
		snprintf(spec, sizeof(spec), "file:%s", disk);
		c.backend = spec;
	}
	err = bench_io_run(&c, &r);
	diag("%s: err %d, %s (%llu ms): ios %llu (prefill %llu), requests %llu/%llu, "
	     "device %llu, shared %llu bounced %llu inplace %llu batches %llu, churn %llu, "
	     "held unshares %llu (-EBUSY %llu, after unpin %llu), -EBUSY guest %llu "
	     "gmem %llu vm %llu, verified %llu", n, err, err ? "" : r.vm.message,
	     (unsigned long long)((timing_now_ns() - t0) / 1000000),
	     (unsigned long long)r.io.ios, (unsigned long long)r.io.prefill_ios,
	     (unsigned long long)r.io.all_submitted, (unsigned long long)r.io.all_completed,
	     (unsigned long long)r.dev.requests, (unsigned long long)r.io.mixed_shared,
	     (unsigned long long)r.io.bounced, (unsigned long long)r.io.inplaced,
	     (unsigned long long)r.io.mixed_batches, (unsigned long long)r.io.churn_conv,
	     (unsigned long long)r.io.inflight_tries,
	     (unsigned long long)r.io.inflight_refused, (unsigned long long)r.io.inflight_won,
	     (unsigned long long)r.io.ebusy_total, (unsigned long long)r.mem.refusals,
	     (unsigned long long)r.vm.counters.c[GMEM_ABI_CNT_BUSY],
	     (unsigned long long)r.io.verified);
	if (!ok(!err && r.vm.pass && r.io.done, "%s: guest passed (%s)", n,
		err ? strerror(-err) : r.vm.message))
		return;
	ok(r.io.verify_errors == 0 && r.io.io_errors == 0 &&
	   r.io.verified >= 2 * SPAN * BS / 512,
	   "%s: %llu sectors verified, %llu verify errors, %llu I/O errors", n,
	   (unsigned long long)r.io.verified, (unsigned long long)r.io.verify_errors,
	   (unsigned long long)r.io.io_errors);
	ok(r.io.ios > 0 && r.io.prefill_ios == 2 * SPAN,
	   "%s: %llu measured I/Os after a prefill of %llu", n,
	   (unsigned long long)r.io.ios, (unsigned long long)r.io.prefill_ios);
	ok(r.io.all_submitted > r.io.ios && r.io.all_submitted == r.io.all_completed &&
	   r.io.dup_completions == 0,
	   "%s: every request completed once (%llu submitted, %llu completed, %llu "
	   "duplicate)", n, (unsigned long long)r.io.all_submitted,
	   (unsigned long long)r.io.all_completed, (unsigned long long)r.io.dup_completions);
	ok(r.dev.requests == r.io.all_submitted && r.dev.ok == r.io.all_submitted &&
	   r.dev.ioerr == 0 && r.dev.inflight == 0,
	   "%s: device took %llu requests, %llu OK, %llu IOERR, %llu in flight", n,
	   (unsigned long long)r.dev.requests, (unsigned long long)r.dev.ok,
	   (unsigned long long)r.dev.ioerr, (unsigned long long)r.dev.inflight);
	ok(r.mem.violations == 0 && r.dev.violations == 0,
	   "%s: host accesses to private pages %llu, refused buffers %llu", n,
	   (unsigned long long)r.mem.violations, (unsigned long long)r.dev.violations);
	ok(r.io.mixed_shared > 0 && r.io.bounced > 0 && r.io.inplaced > 0 &&
	   r.io.mixed_batches > 0,
	   "%s: every path taken (shared %llu, bounce %llu, inplace %llu, batches %llu)", n,
	   (unsigned long long)r.io.mixed_shared, (unsigned long long)r.io.bounced,
	   (unsigned long long)r.io.inplaced, (unsigned long long)r.io.mixed_batches);
	ok(r.io.churn_conv > 0 && r.io.churn_errors == 0,
	   "%s: %llu churn conversions, %llu errors", n,
	   (unsigned long long)r.io.churn_conv, (unsigned long long)r.io.churn_errors);
	ok(r.io.inflight_tries == r.io.inflight_refused + r.io.inflight_won,
	   "%s: held-buffer unshares %llu = %llu refused + %llu after unpin", n,
	   (unsigned long long)r.io.inflight_tries, (unsigned long long)r.io.inflight_refused,
	   (unsigned long long)r.io.inflight_won);
	if (jitter)
		ok(r.io.inflight_refused > 0, "%s: unshares of held buffers refused -EBUSY: %llu",
		   n, (unsigned long long)r.io.inflight_refused);
	ok(r.io.ebusy_total >= r.io.inflight_refused &&
	   r.io.ebusy_total == r.mem.refusals &&
	   r.io.ebusy_total == r.vm.counters.c[GMEM_ABI_CNT_BUSY],
	   "%s: -EBUSY answers: guest %llu, gmem %llu, VMM %llu", n,
	   (unsigned long long)r.io.ebusy_total, (unsigned long long)r.mem.refusals,
	   (unsigned long long)r.vm.counters.c[GMEM_ABI_CNT_BUSY]);
	/* vCPU v's span starts at v * (capacity / 2) sectors. */
	ok(disk_bad_sectors(disk, 0, SPAN * BS, GMEM_ABI_IO_TAG(GMEM_ABI_IO_MIXED)) == 0 &&
	   disk_bad_sectors(disk, cap / 2 * 512, SPAN * BS, GMEM_ABI_IO_TAG(GMEM_ABI_IO_MIXED)) == 0,
	   "%s: the file holds the guest's sectors (both vCPUs' spans)", n);
}

int main(void)
{
	char disk[300];

	test_config();
	test_cli();
	if (blk_disk_create(disk, sizeof(disk), "/var/tmp", DISK) &&
	    blk_disk_create(disk, sizeof(disk), "/tmp", DISK)) {
		tap_skip(1, "stress: cannot create a disk image");
		return tap_done();
	}
	stress(disk, true);
	stress(disk, false);
	unlink(disk);
	return tap_done();
}
