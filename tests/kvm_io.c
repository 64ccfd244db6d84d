// SPDX-License-Identifier: GPL-2.0
/*
 * Guest I/O through virtio-blk (gmemkit/bench_io.h): every I/O mode with
 * the null backend (cost split checked against what the mode must do), the
 * ram backend's device side (an in-place read makes the device fault the
 * buffer's pages in, a shared read does not), the cost
 * split and the scattered mode on longer runs, and the io-bench command
 * (usage errors, the JSON `gmemkit bench` parses).  Data integrity,
 * malformed requests and unsharing during I/O: kvm_io_integrity.c.  Needs
 * /dev/kvm: without it only the checks that need no VM run and the rest
 * SKIP with the reason.
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
#include "gmemkit/bench_cost.h"
#include "gmemkit/bench_io.h"
#include "gmemkit/json.h"
#include "gmemkit/platform.h"
#include "gmemkit/timing.h"
#include "kvm_io_util.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
static const bool sanitized = true;
#else
static const bool sanitized = false;
#endif

/* ---- ram backend: the device's side ---------------------------------------- */

/*
 * An in-place read on ram: every buffer page was unshared (zapped) since
 * the device last touched it, so the device's copy faults each one in
 * again.  A shared read: the buffers stay mapped (the prefill's writes
 * touched them first), no faults.  A bounce read: the pool is shared once,
 * and the host faults each slot page in once, on its first use.  All copy
 * bs per I/O and verify.
 */
static void test_ram(void)
{
	static const struct { enum gmem_abi_io_mode m; const char *n; } pts[] = {
		{ GMEM_ABI_IO_INPLACE, "inplace" }, { GMEM_ABI_IO_SHARED, "shared" },
		{ GMEM_ABI_IO_BOUNCE, "bounce" },
	};
	const uint64_t pages = 64 * KiB / GMEM_PAGE_SIZE;
	struct bench_io_result r;
	struct bench_io_config c;
	unsigned int i;

	if (!have_kvm) {
		skip_why("ram backend runs: %s", no_kvm);
		return;
	}
	for (i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		const char *n = pts[i].n;
		double faults, copied, ns;
		int err;

		base(&c, pts[i].m);
		c.backend = "ram:64M";
		c.bs = 64 * KiB;
		c.ios = 128;
		c.flags = GMEM_ABI_IOF_VERIFY;
		err = run(&c, &r);
		if (!ok(!err && r.vm.pass && r.io.verify_errors == 0 && r.io.verified > 0,
			"ram %s: guest passed, %llu sectors verified, 0 errors (%s)", n,
			(unsigned long long)r.io.verified, err ? strerror(-err) : r.vm.message)) {
			tap_skip(2, "run failed");
			continue;
		}
		faults = (double)r.dev.dev_faults[BLK_OP_READ] / (double)r.dev.reads;
		copied = (double)r.dev.dev_copy_bytes[BLK_OP_READ] / (double)r.dev.reads;
		ns = (double)r.dev.dev_ns[BLK_OP_READ] / (double)r.dev.reads;
		ok(copied == 64 * KiB && ns > 0 && (r.io.touch_bytes >= r.shared_bytes) &&
		   r.dev.dev_copy_bytes[BLK_OP_WRITE] ==
		   (r.dev.writes - r.io.touch_ios) * 64 * KiB + r.io.touch_bytes,
		   "ram %s: the device copies 64 KiB per read (%.0f) and per prefill write "
		   "(and %llu B in %llu writes touching the shared area), %.0f ns per read",
		   n, copied, (unsigned long long)r.io.touch_bytes,
		   (unsigned long long)r.io.touch_ios, ns);
		if (pts[i].m == GMEM_ABI_IO_INPLACE)
			ok(faults >= (double)pages / 2,
			   "ram inplace read: the device faults the re-shared buffer in: %.2f "
			   "faults per read (%llu pages per buffer)", faults,
			   (unsigned long long)pages);
		else if (pts[i].m == GMEM_ABI_IO_SHARED && !sanitized)
			ok(faults < 0.1, "ram shared read: buffers stay mapped, %.3f faults "
			   "per read", faults);
		else if (sanitized)
			tap_skip(1, "a sanitizer's shadow memory faults beside the device's "
				 "copy: the bound is checked by the plain build");
		else	/* 128 reads walk 8 MiB of a cold 64 MiB pool (next fit):
			 * the host's first touch of each slot page, then none */
			ok(faults <= (double)pages, "ram bounce read: at most the host's first "
			   "touch of each pool page: %.3f faults per read", faults);
	}
}

/* ---- no VM needed ------------------------------------------------------ */

static void test_config(void)
{
	struct bench_io_config c;
	struct bench_io_result r;
	enum gmem_abi_io_mode m;
	enum gmem_abi_io_rw rw;

	base(&c, GMEM_ABI_IO_BOUNCE);
	c.bs = 3000;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "bs 3000 refused");
	c.bs = 2 << 20;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "bs 2 MiB refused");
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.qd = 0;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "qd 0 refused");
	c.qd = GMEM_ABI_IO_MAX_QD + 1;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "qd %d refused", GMEM_ABI_IO_MAX_QD + 1);
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.vcpus = GMEM_ABI_IO_MAX_VCPUS + 1;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "%d vCPUs refused", GMEM_ABI_IO_MAX_VCPUS + 1);
	base(&c, 0);
	ok_eq(bench_io_run(&c, &r), -EINVAL, "mode 0 refused");
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.rw = GMEM_ABI_IO_RW_MAX;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "unknown rw refused");
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.flags = GMEM_ABI_IOF_ALL + 1;	/* the first bit no flag uses */
	ok_eq(bench_io_run(&c, &r), -EINVAL, "unknown flag refused");
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.runtime_s = -1;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "negative runtime refused");
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.poll_us = 1000001;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "poll_us 1000001 refused");
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.backend = NULL;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "no backend refused");
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.backend = "tape:/dev/st0";
	ok_eq(bench_io_run(&c, &r), -EINVAL, "unknown backend spec refused");
	ok_eq(bench_io_run(NULL, &r), -EINVAL, "NULL config refused");
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.pool_size = 256 * KiB;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "bounce pool of 256 KiB refused (below the minimum)");
	c.pool_size = (64ULL << 20) + 4096;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "bounce pool not a multiple of the area unit refused");
	c.pool_size = 2ULL << 30;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "bounce pool of 2 GiB refused (above 1 GiB)");
	base(&c, GMEM_ABI_IO_PERSISTENT);
	c.persist_size = 2 * KiB;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "persistent buffers smaller than bs refused");
	c.persist_size = 24 * KiB;
	ok_eq(bench_io_run(&c, &r), -EINVAL, "persistent buffers not a power of 2 refused");
	ok(!bench_io_mode_from_name("persistent", &m) && m == GMEM_ABI_IO_PERSISTENT,
	   "mode name persistent");
	ok(!bench_io_mode_from_name("inplace-batch", &m) && m == GMEM_ABI_IO_INPLACE_BATCH,
	   "mode name inplace-batch");
	ok(bench_io_mode_from_name("swiotlb", &m) == -EINVAL, "unknown mode name refused");
	ok(!bench_io_rw_from_name("randrw", &rw) && rw == GMEM_ABI_IO_RANDRW, "rw name randrw");
	ok(!strcmp(bench_io_mode_name(GMEM_ABI_IO_ADAPTIVE), "adaptive"), "mode name round trip");
	{
		struct gmem_abi_io_config io = {
			.mode = GMEM_ABI_IO_MIXED, .bs = 1ULL << 20, .qd = 64,
			.pool_size = GMEM_ABI_IO_POOL_MAX,
		};

		ok(gmem_abi_io_mem_size(&io, 8) <= GMEM_ABI_MEM_MAX,
		   "the largest run fits guest RAM (mixed, 1 GiB pool, 1 MiB x qd 64 x 8)");
		io.mode = GMEM_ABI_IO_PERSISTENT;
		io.persist_size = GMEM_ABI_IO_MAX_BS;
		ok(gmem_abi_io_mem_size(&io, 8) <= GMEM_ABI_MEM_MAX,
		   "the largest persistent run fits guest RAM");
	}
}

/* ---- null backend: the cost split each mode must show --------------------- */

static void test_null_modes(void)
{
	uint64_t shared_conversions = ~0ULL;
	struct bench_io_result r;
	struct bench_io_config c;
	unsigned int i;
	int err;

	for (i = 0; i < NMODES; i++) {
		const char *n = bench_io_mode_name(modes[i]);
		uint64_t ios;

		base(&c, modes[i]);
		err = run(&c, &r);
		if (err == -ENODEV) {
			have_kvm = false;
			no_kvm = "no usable /dev/kvm";
			skip_why("%s", no_kvm);
			return;
		}
		ok(!err && r.vm.pass, "%s: guest passed (%s)", n, err ? strerror(-err) : r.vm.message);
		ios = r.io.ios;
		ok_eq(ios, 64, "%s: 64 I/Os done", n);
		ok(r.dev.reads >= 64 && r.dev.ioerr == 0, "%s: device saw %llu reads, %llu IOERR",
		   n, (unsigned long long)r.dev.reads, (unsigned long long)r.dev.ioerr);
		ok(r.io.lat_min_ns > 0 && r.io.lat_min_ns <= r.io.lat_p50_ns &&
		   r.io.lat_p50_ns <= r.io.lat_p99_ns && r.io.lat_p99_ns <= r.io.lat_p999_ns &&
		   r.io.lat_p999_ns <= r.io.lat_max_ns,
		   "%s: latency min %llu <= p50 %llu <= p99 %llu <= p99.9 %llu <= max %llu ns", n,
		   (unsigned long long)r.io.lat_min_ns, (unsigned long long)r.io.lat_p50_ns,
		   (unsigned long long)r.io.lat_p99_ns, (unsigned long long)r.io.lat_p999_ns,
		   (unsigned long long)r.io.lat_max_ns);
		ok(r.io.kicks >= 64 / 4 && r.io.kicks <= 64, "%s: %llu kicks for 64 I/Os at qd 4",
		   n, (unsigned long long)r.io.kicks);
		ok_eq(r.mem.violations, 0, "%s: no host access to a private page", n);
		ok(r.io.vcpu_ns > 0 && r.io.conv_host_ns <= r.io.conv_ns &&
		   r.io.kick_ns + r.io.conv_ns + r.io.copy_ns <= r.io.vcpu_ns &&
		   (r.io.kick_ns > 0) == (r.io.kicks > 0) &&
		   (r.io.conv_host_ns > 0) == (r.io.conv_calls > 0),
		   "%s: split kicks %llu + conversions %llu (host %llu) + copy %llu <= vCPU %llu ns",
		   n, (unsigned long long)r.io.kick_ns, (unsigned long long)r.io.conv_ns,
		   (unsigned long long)r.io.conv_host_ns, (unsigned long long)r.io.copy_ns,
		   (unsigned long long)r.io.vcpu_ns);
		switch (modes[i]) {
		case GMEM_ABI_IO_SHARED:
			ok(r.io.conv_calls == 0 && r.io.copy_bytes == 0,
			   "shared: no conversion, no copy");
			shared_conversions = r.mem.conversions;
			break;
		case GMEM_ABI_IO_BOUNCE:
			ok(r.io.conv_calls == 0 && r.io.copy_bytes == 2 * 64 * c.bs,
			   "bounce: no conversion, %llu bytes copied (2 x bs per read: copy "
			   "in at map, as Linux, and out at unmap)",
			   (unsigned long long)r.io.copy_bytes);
			ok(r.pool_size == GMEM_ABI_IO_POOL_DEFAULT &&
			   r.shared_bytes == GMEM_ABI_IO_POOL_DEFAULT &&
			   r.mem_size > GMEM_ABI_IO_POOL_DEFAULT,
			   "bounce: the guest's pool is Linux's 64 MiB, guest RAM %llu MiB",
			   (unsigned long long)(r.mem_size >> 20));
			break;
		case GMEM_ABI_IO_PERSISTENT:
			ok(r.io.conv_calls == 0 && r.io.copy_bytes == 64 * c.bs &&
			   r.io.bounced == 0,
			   "persistent: no conversion, %llu bytes copied (bs per I/O: reads "
			   "copy out only)", (unsigned long long)r.io.copy_bytes);
			ok(r.persist_pool == c.qd * GMEM_ABI_IO_MAX_BS &&
			   r.shared_bytes == r.persist_pool && !r.pool_size,
			   "persistent: qd x 1 MiB buffers shared (%llu bytes), no bounce pool",
			   (unsigned long long)r.persist_pool);
			ok(r.dev.violations == 0 && r.dev.ioerr == 0 && r.dev.reads >= 64,
			   "persistent: the device read into shared pages only (%llu "
			   "violations)", (unsigned long long)r.dev.violations);
			ok_eq(r.mem.conversions, shared_conversions,
			      "persistent: guest RAM conversions %llu, as many as the shared "
			      "run's (its buffers are shared once and never converted)",
			      (unsigned long long)r.mem.conversions);
			break;
		case GMEM_ABI_IO_INPLACE:
			ok(r.io.conv_calls == 2 * 64 && r.io.copy_bytes == 0,
			   "inplace: %llu conversions (2 per I/O), no copy",
			   (unsigned long long)r.io.conv_calls);
			break;
		case GMEM_ABI_IO_INPLACE_BATCH:
			ok(r.io.conv_calls == 2 * 64 / 4 && r.io.copy_bytes == 0,
			   "inplace-batch: %llu conversions (2 per batch of 4), no copy",
			   (unsigned long long)r.io.conv_calls);
			break;
		case GMEM_ABI_IO_INPLACE_SCATTER:
			ok(r.io.batches == 64 / 4 && r.io.scatter_pieces == 64 &&
			   r.io.scatter_runs >= r.io.batches && r.io.scatter_runs <= 64 &&
			   r.io.conv_calls - r.io.conv_refused ==
			   2 * (r.vm.transport == VMM_TRANSPORT_HYPERCALL ? r.io.scatter_runs :
				r.io.batches) &&
			   r.io.copy_bytes == 0,
			   "inplace-scatter: %llu pieces in %llu runs over %llu batches, "
			   "%llu calls (ideal: a list per batch and direction; one per run "
			   "over the hypercall)", (unsigned long long)r.io.scatter_pieces,
			   (unsigned long long)r.io.scatter_runs, (unsigned long long)r.io.batches,
			   (unsigned long long)r.io.conv_calls);
			break;
		default:
			/* warm-up: every path measured before any decision */
			/* (in place, 1000x persistent here, is sampled once:
			 * ADAPT_FAR; its sample stands for batched, which
			 * takes none of its own then) */
			ok(r.io.bounced + r.io.inplaced + r.io.persisted == 64 &&
			   r.io.bounced >= 1 && r.io.inplaced - r.io.batched >= 1 &&
			   (r.io.batched >= 1 || r.io.adapt_batch_ns == r.io.adapt_inplace_ns) &&
			   r.io.persisted >= ADAPT_WARMUP && r.io.adapt_bounce_ns > 0 &&
			   r.io.adapt_inplace_ns > 0 && r.io.adapt_persist_ns > 0 &&
			   r.io.adapt_batch_ns > 0,
			   "adaptive: %llu bounced, %llu in place (%llu batched), %llu "
			   "persistent, measured %llu / %llu / %llu / %llu ns",
			   (unsigned long long)r.io.bounced, (unsigned long long)r.io.inplaced,
			   (unsigned long long)r.io.batched, (unsigned long long)r.io.persisted,
			   (unsigned long long)r.io.adapt_bounce_ns,
			   (unsigned long long)r.io.adapt_inplace_ns,
			   (unsigned long long)r.io.adapt_batch_ns,
			   (unsigned long long)r.io.adapt_persist_ns);
			break;
		}
	}
	/* Writes: a bounce copies in only, persistent copies in only. */
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.rw = GMEM_ABI_IO_RANDWRITE;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.io.copy_bytes == 64 * c.bs,
	   "bounce randwrite: %llu bytes copied (bs per write: copy in at map)",
	   (unsigned long long)r.io.copy_bytes);
	base(&c, GMEM_ABI_IO_PERSISTENT);
	c.rw = GMEM_ABI_IO_RANDWRITE;
	c.persist_size = c.bs;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.io.copy_bytes == 64 * c.bs && r.io.conv_calls == 0 &&
	   r.persist_pool == c.qd * c.bs,
	   "persistent randwrite, buffers of bs: %llu bytes copied, %llu conversions, "
	   "%llu bytes of buffers", (unsigned long long)r.io.copy_bytes,
	   (unsigned long long)r.io.conv_calls, (unsigned long long)r.persist_pool);
	/* A pool set by the caller is the one the guest uses. */
	base(&c, GMEM_ABI_IO_BOUNCE);
	c.pool_size = 2ULL << 20;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.pool_size == 2ULL << 20 && r.shared_bytes == 2ULL << 20,
	   "bounce with a 2 MiB pool: guest passed, pool %llu bytes",
	   (unsigned long long)r.pool_size);
	/* The doorbell transport (the fallback where hypercalls do not exit). */
	base(&c, GMEM_ABI_IO_INPLACE);
	c.transport = VMM_TRANSPORT_DOORBELL;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.io.conv_calls == 128 &&
	   r.vm.counters.c[GMEM_ABI_CNT_DOORBELLS] >= 128,
	   "inplace over the doorbell: %llu doorbells", 
	   (unsigned long long)r.vm.counters.c[GMEM_ABI_CNT_DOORBELLS]);
	/* The conversion queue: no userspace exit per conversion; polling
	 * (default) and asleep (each request may kick: never more kicks than
	 * requests). */
	base(&c, GMEM_ABI_IO_INPLACE);
	c.transport = VMM_TRANSPORT_QUEUE;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.io.conv_calls == 128 && r.vm.queue.active &&
	   r.vm.queue.requests >= 128 && r.io.conv_kicks <= r.io.conv_calls &&
	   r.vm.queue.requests == r.vm.counters.c[GMEM_ABI_CNT_CONV_OK],
	   "inplace over the queue: every conversion through it (%llu requests, %llu "
	   "conversions), %llu kicks", (unsigned long long)r.vm.queue.requests,
	   (unsigned long long)r.vm.counters.c[GMEM_ABI_CNT_CONV_OK],
	   (unsigned long long)r.io.conv_kicks);
	ok(r.conv_ok >= 128 && r.conv_host_ns > 0 && r.vm.queue.cpu_ns > 0,
	   "host conversion time %llu ns for %llu conversions, converter CPU %llu ns",
	   (unsigned long long)r.conv_host_ns, (unsigned long long)r.conv_ok,
	   (unsigned long long)r.vm.queue.cpu_ns);
	c.conv_poll_us = VMM_CONV_POLL_OFF;
	c.mode = GMEM_ABI_IO_INPLACE_BATCH;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.io.conv_calls > 0 && r.io.conv_kicks >= 1 &&
	   r.io.conv_kicks <= r.io.conv_calls && r.vm.queue.wakeups >= 1,
	   "inplace-batch over the queue, converter asleep: %llu requests, %llu kicks, "
	   "%llu wakeups", (unsigned long long)r.io.conv_calls,
	   (unsigned long long)r.io.conv_kicks, (unsigned long long)r.vm.queue.wakeups);
	/* Device busy polling: the driver skips kicks while NO_NOTIFY. */
	base(&c, GMEM_ABI_IO_SHARED);
	c.qd = 1;
	c.poll_us = 200000;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.io.ios == 64 && r.io.kicks < 32 &&
	   r.dev.polled > 0,
	   "poll_us 200000: %llu kicks for 64 I/Os at qd 1, %llu polled passes",
	   (unsigned long long)r.io.kicks, (unsigned long long)r.dev.polled);
	/* A timed run with a fractional runtime. */
	base(&c, GMEM_ABI_IO_SHARED);
	c.runtime_s = 0.2;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.io.ios > 0 &&
	   r.io.elapsed_ns >= 200000000ULL && r.io.elapsed_ns < 5000000000ULL,
	   "runtime 0.2 s: %llu I/Os in %llu ms", (unsigned long long)r.io.ios,
	   (unsigned long long)(r.io.elapsed_ns / 1000000));
}

/* ---- the cost split and the scattered mode, on longer runs ---------------- */

static void split_run(enum gmem_abi_io_mode m, uint64_t bs)
{
	const char *n = bench_io_mode_name(m);
	struct bench_cost_split sp;
	struct bench_cost_in in;
	struct bench_io_result r;
	struct bench_io_config c;
	double ios;
	int err;

	base(&c, m);
	c.bs = bs;
	c.qd = 32;
	c.ios = 0;
	c.runtime_s = 0.3;
	err = run(&c, &r);
	ios = (double)r.io.ios;
	ok(!err && r.vm.pass && r.io.ios > 0, "%s %llu KiB qd 32 0.3 s: guest passed", n,
	   (unsigned long long)(bs >> 10));
	in = (struct bench_cost_in){
		.total = r.io.vcpu_ns / ios, .kick = r.io.kick_ns / ios,
		.conv = r.io.conv_ns / ios, .conv_host = r.io.conv_host_ns / ios,
		.copy = r.io.copy_ns / ios,
	};
	err = bench_cost_split(&in, &sp);
	ok(!err && !sp.scaled &&
	   sp.kick + sp.conv_exit + sp.conv_host + sp.copy <= sp.total &&
	   sp.total <= 2.0 * r.io.elapsed_ns / ios * c.vcpus,
	   "%s: split %.0f + %.0f + %.0f + %.0f ns (+ %.0f unaccounted) within the "
	   "measured %.0f ns per I/O, no scaling needed", n, sp.kick, sp.conv_exit,
	   sp.conv_host, sp.copy, sp.unaccounted, sp.total);
	if (r.io.conv_calls)
		ok(r.io.conv_host_ns > 0 && r.io.conv_host_ns < r.io.conv_ns,
		   "%s: the VMM's work on %llu conversions (%llu ns) is part of the guest's "
		   "%llu ns, the rest is the exits", n, (unsigned long long)r.io.conv_calls,
		   (unsigned long long)r.io.conv_host_ns, (unsigned long long)r.io.conv_ns);
}

/* One conversion per contiguous run, counted by the host: the gmem region's
 * conversions and shared pages of a scatter run, less its runs and pieces,
 * are those of an inplace-batch run of the same shape less its batches. */
static void scatter_host_count(void)
{
	struct bench_io_result rs, rb;
	struct bench_io_config c;
	uint64_t piece = gmem_abi_io_scatter_piece(64 * KiB);
	int e1, e2;

	base(&c, GMEM_ABI_IO_INPLACE_SCATTER);
	c.bs = 64 * KiB;
	e1 = run(&c, &rs);
	base(&c, GMEM_ABI_IO_INPLACE_BATCH);
	c.bs = 64 * KiB;
	e2 = run(&c, &rb);
	ok(!e1 && !e2 && rs.vm.pass && rb.vm.pass, "scatter and batch runs, 64 KiB qd 4");
	ok(rs.io.scatter_pieces == 64 * (64 * KiB / piece) &&
	   rs.io.scatter_runs > rs.io.batches && rs.io.scatter_runs < rs.io.scatter_pieces,
	   "scatter: %llu pieces of %llu KiB in %llu runs (some adjacent, never one per batch)",
	   (unsigned long long)rs.io.scatter_pieces, (unsigned long long)(piece >> 10),
	   (unsigned long long)rs.io.scatter_runs);
	ok(rs.mem.conversions - 2 * rs.io.scatter_runs == rb.mem.conversions - 2 * rb.io.batches &&
	   rs.io.conv_refused == 0 && rb.io.conv_refused == 0,
	   "host: %llu conversions = 2 per run (%llu) + the same %llu as the batch run outside it",
	   (unsigned long long)rs.mem.conversions, (unsigned long long)rs.io.scatter_runs,
	   (unsigned long long)(rb.mem.conversions - 2 * rb.io.batches));
	ok(rs.mem.pages_shared - rs.io.scatter_pieces * (piece / 4096) ==
	   rb.mem.pages_shared - 64 * 16,
	   "host: every piece's pages shared once per batch (%llu pages)",
	   (unsigned long long)rs.mem.pages_shared);
}

/* adaptive's batched path alone (--adapt-paths batched) at qd 32: the
 * first pass's 32 buffers, adjacent, share in one call; the ideal
 * platform and a destroying one (its keep copies on the batched path
 * too). */
static void adaptive_batched(enum plat p)
{
	struct bench_io_result r;
	struct bench_io_config c;
	int err;

	base(&c, GMEM_ABI_IO_ADAPTIVE);
	c.qd = 32;
	c.bs = 16 * KiB;
	c.platform = p;
	c.transport = VMM_TRANSPORT_DOORBELL;
	c.adapt_paths = 1U << ADAPT_BATCH;
	err = run(&c, &r);
	ok(!err && r.vm.pass && r.io.batched == 64 && r.io.inplaced == 64 &&
	   r.io.conv_calls + 31 <= 2 * r.io.inplaced,
	   "adaptive (batched only) on %s, qd 32: %llu of %llu requests batched in %llu "
	   "calls (at least 31 fewer than 2 per request: the first pass's 32 share in one)",
	   plat_name(p), (unsigned long long)r.io.batched, (unsigned long long)r.io.inplaced,
	   (unsigned long long)r.io.conv_calls);
	if (plat_destroys(p))
		ok(r.io.keep_bytes == r.io.inplaced * c.bs && r.io.io_errors == 0,
		   "adaptive on %s: each read in place (batched or not) keeps its data "
		   "with one copy (%llu bytes, %llu in place)", plat_name(p),
		   (unsigned long long)r.io.keep_bytes, (unsigned long long)r.io.inplaced);
}

static void test_split(void)
{
	if (!have_kvm) {
		skip_why("split: %s", no_kvm);
		return;
	}
	split_run(GMEM_ABI_IO_INPLACE, 64 * KiB);
	split_run(GMEM_ABI_IO_BOUNCE, 64 * KiB);
	split_run(GMEM_ABI_IO_ADAPTIVE, 256 * KiB);
	split_run(GMEM_ABI_IO_INPLACE_SCATTER, 16 * KiB);
	scatter_host_count();
	adaptive_batched(PLAT_IDEAL);
	adaptive_batched(PLAT_TDX);
}

/* ---- gmemkit io-bench --------------------------------------------------- */

static char gmemkit[512];

/* Run gmemkit with args (a shell word list); stdout in out, stderr folded
 * into it when err2out.  Returns the exit status, -1 if it did not run. */
static int cli(const char *args, char *out, size_t len, bool err2out)
{
	char cmd[2048];
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s %s", gmemkit, args,
		 err2out ? "2>&1" : "2>/dev/null");
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n + 1 < len && (st = (int)fread(out + n, 1, len - 1 - n, p)) > 0)
		n += (size_t)st;
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_usage(void)
{
	static const struct { const char *args, *names; } bad[] = {
		{ "io-bench --bs 3000", "3000" },
		{ "io-bench --bs 2M", "2M" },
		{ "io-bench --mode swiotlb", "swiotlb" },
		{ "io-bench --qd 65", "65" },
		{ "io-bench --vcpus 0", "0" },
		{ "io-bench --rw sideways", "sideways" },
		{ "io-bench --backend tape", "tape" },
		{ "io-bench --runtime abc", "abc" },
		{ "io-bench --runtime 0", "0" },
		{ "io-bench --backend file", "--disk" },
		{ "io-bench --backend file --disk /nonexistent/disk.img", "/nonexistent/disk.img" },
		{ "io-bench --direct", "--direct" },
		{ "io-bench --frobnicate 1", "--frobnicate" },
		{ "io-bench --qd", "--qd" },
		{ "io-bench --poll-us 2000000", "2000000" },
		{ "io-bench --pool-size 100k", "100k" },
		{ "io-bench --pool-size 2G", "2G" },
		{ "io-bench --mode inplace --pool-size 64M", "inplace" },
		{ "io-bench --mode persistent --bs 64k --persist-buf 16k", "16k" },
		{ "io-bench --mode bounce --persist-buf 1M", "persistent" },
		{ "io-bench --backend null --ram-size 64M", "--ram-size" },
		{ "io-bench --backend ram --ram-size 1000", "1000" },
		{ "io-bench --backend ram --ram-size 128G", "128G" },
		{ "io-bench --backend ram --ram-size 0", "0" },
		{ "io-bench --backend ram --disk /tmp/x.img", "--disk" },
	};
	char out[16384];
	unsigned int i;

	snprintf(gmemkit, sizeof(gmemkit), "%s/gmemkit", getenv("O") ? getenv("O") : "build");
	if (access(gmemkit, X_OK)) {
		skip_why("io-bench: %s not built", gmemkit);
		return;
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = cli(bad[i].args, out, sizeof(out), true);

		ok(st == 2 && strstr(out, bad[i].names), "'%s': exit %d, message names '%s'",
		   bad[i].args, st, bad[i].names);
	}
	ok(cli("io-bench --help", out, sizeof(out), false) == 0 && strstr(out, "--mode"),
	   "io-bench --help");
	if (!have_kvm)
		ok(cli("io-bench --runtime 0.1", out, sizeof(out), true) == 2 &&
		   strstr(out, "/dev/kvm"), "no KVM: exit 2, says so");
}

/* The JSON contract `gmemkit bench` parses. */
static void test_cli_json(void)
{
	static const char *const nums[] = {
		"bs", "qd", "vcpus", "runtime_s", "ios", "iops", "mbps", "lat_min_us",
		"lat_p50_us", "lat_p99_us", "lat_p999_us", "exits_per_io", "conv_per_io",
		"conv_ns_per_io", "copy_bytes_per_io", "copy_ns_per_io", "pins_refused",
		"verify_errors", "vcpu_ns_per_io", "kick_ns_per_io", "conv_exit_ns_per_io",
		"conv_host_ns_per_io", "split_copy_ns_per_io", "unaccounted_ns_per_io",
		"split_scale", "adapt_bounce_ns", "adapt_inplace_ns", "adapt_batch_ns",
		"batched", "scatter_runs",
		"dev_ns_per_io", "dev_faults_per_io", "dev_copy_bytes_per_io", "dev_ios",
	};
	static char out[1 << 16];
	struct json *j, *r;
	char disk[300], args[600];
	unsigned int i;
	int st;

	if (!have_kvm || access(gmemkit, X_OK)) {
		skip_why("io-bench JSON: %s", have_kvm ? "gmemkit not built" : no_kvm);
		return;
	}
	st = cli("io-bench --json --mode bounce --bs 4k --qd 32 --vcpus 2 --backend null "
		 "--runtime 0.2 --rw randread", out, sizeof(out), false);
	j = json_parse(out, NULL);
	r = j ? json_get(j, "results") : NULL;
	ok(st == 0 && r && r->type == JSON_ARR && json_len(r) == 1,
	   "io-bench --json: exit %d, one result", st);
	r = r ? r->child : NULL;
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		struct json *v = r ? json_get(r, nums[i]) : NULL;

		ok(v && v->type == JSON_NUM, "JSON field %s is a number", nums[i]);
	}
	ok(r && !strcmp(json_str(r, "mode", ""), "bounce") &&
	   !strcmp(json_str(r, "rw", ""), "randread") &&
	   !strcmp(json_str(r, "backend", ""), "null") && json_num(r, "bs", 0) == 4096 &&
	   json_num(r, "qd", 0) == 32 && json_num(r, "vcpus", 0) == 2 &&
	   json_get(r, "transport") && json_get(r, "transport")->type == JSON_STR,
	   "JSON strings and echoed parameters");
	ok(r && json_get(r, "direct") && json_get(r, "direct")->type == JSON_BOOL &&
	   json_get(r, "emulated") && json_get(r, "emulated")->type == JSON_BOOL,
	   "JSON booleans direct and emulated");
	ok(r && json_num(r, "ios", 0) > 0 && json_num(r, "iops", 0) > 0 &&
	   json_num(r, "copy_bytes_per_io", 0) == 2 * 4096,
	   "bounce read run: I/Os done, 2 x 4 KiB copied per I/O (in at map, out at unmap)");
	ok(r && json_num(r, "dev_copy_bytes_per_io", -1) == 0 &&
	   json_num(r, "dev_ios", 0) >= json_num(r, "ios", 1),
	   "null backend: the device copies nothing (%.0f device I/Os)",
	   r ? json_num(r, "dev_ios", 0) : 0);
	ok(r && json_num(r, "pool_bytes", 0) == GMEM_ABI_IO_POOL_DEFAULT &&
	   json_num(r, "shared_pct", 0) > 0 && json_num(r, "mem_bytes", 0) > 0,
	   "bounce run: 64 MiB pool by default, its share of guest RAM reported");
	json_free(j);

	st = cli("io-bench --json --mode inplace --bs 16k --qd 2 --backend ram "
		 "--ram-size 64M --runtime 0.2 --rw randread", out, sizeof(out), false);
	j = json_parse(out, NULL);
	r = j && json_get(j, "results") ? json_get(j, "results")->child : NULL;
	ok(st == 0 && r && !strcmp(json_str(r, "backend", ""), "ram") &&
	   json_num(r, "verify_errors", 1) == 0 && json_num(r, "verified_sectors", 0) > 0,
	   "io-bench ram backend: exit %d, %.0f sectors verified, 0 errors", st,
	   r ? json_num(r, "verified_sectors", 0) : 0);
	ok(r && json_num(r, "dev_copy_bytes_per_io", 0) == 16384 &&
	   json_num(r, "dev_faults_per_io", 0) >= 2 && json_num(r, "dev_ns_per_io", 0) > 0,
	   "io-bench ram inplace read: the device copies 16 KiB per I/O, %.2f faults, "
	   "%.0f ns per I/O", r ? json_num(r, "dev_faults_per_io", 0) : 0,
	   r ? json_num(r, "dev_ns_per_io", 0) : 0);
	json_free(j);

	if (blk_disk_create(disk, sizeof(disk), "/var/tmp", DISK) &&
	    blk_disk_create(disk, sizeof(disk), "/tmp", DISK)) {
		skip_why("io-bench file backend: cannot create a disk image");
		return;
	}
	snprintf(args, sizeof(args), "io-bench --json --mode inplace --bs 8k --qd 2 "
		 "--backend file --disk %s --runtime 0.2 --rw randrw", disk);
	st = cli(args, out, sizeof(out), false);
	j = json_parse(out, NULL);
	r = j && json_get(j, "results") ? json_get(j, "results")->child : NULL;
	ok(st == 0 && r && !strcmp(json_str(r, "backend", ""), "file") &&
	   json_num(r, "verify_errors", 1) == 0 && json_num(r, "conv_per_io", 0) == 2,
	   "io-bench file backend: exit %d, verify errors 0, 2 conversions per I/O", st);
	ok(r && json_num(r, "kick_ns_per_io", -1) + json_num(r, "conv_exit_ns_per_io", -1) +
	   json_num(r, "conv_host_ns_per_io", -1) + json_num(r, "split_copy_ns_per_io", -1) +
	   json_num(r, "unaccounted_ns_per_io", -1) <= json_num(r, "vcpu_ns_per_io", 0) * 1.0001 &&
	   json_num(r, "conv_host_ns_per_io", 0) > 0 && json_num(r, "conv_exit_ns_per_io", 0) > 0,
	   "io-bench JSON: kicks + exits + host work + copy + unaccounted = the vCPU time "
	   "per I/O (%.0f ns)", json_num(r, "vcpu_ns_per_io", 0));
	json_free(j);
	snprintf(args, sizeof(args), "io-bench --json --mode inplace-scatter --bs 64k --qd 8 "
		 "--backend file --disk %s --runtime 0.2 --rw randrw", disk);
	st = cli(args, out, sizeof(out), false);
	j = json_parse(out, NULL);
	r = j && json_get(j, "results") ? json_get(j, "results")->child : NULL;
	ok(st == 0 && r && json_num(r, "verify_errors", 1) == 0 &&
	   json_num(r, "verified_sectors", 0) > 0 && json_num(r, "scatter_runs", 0) > 0,
	   "io-bench inplace-scatter, file backend: exit %d, %.0f sectors verified, 0 errors",
	   st, r ? json_num(r, "verified_sectors", 0) : 0);
	json_free(j);
	unlink(disk);
}

int main(void)
{
	have_kvm = true;
	test_config();
	test_null_modes();
	test_split();
	test_ram();
	test_cli_usage();
	test_cli_json();
	return tap_done();
}
