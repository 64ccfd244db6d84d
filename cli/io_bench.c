// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit io-bench: one guest I/O run through virtio-blk in one I/O mode,
 * reported like fio (IOPS, bandwidth, latency percentiles) plus the cost
 * split per I/O (exits, conversions, bounce copies, refused pins) and the
 * device's side of each I/O (its thread's time in the backend, page faults,
 * bytes it copied).
 * Exit status: 0 the guest passed (no I/O or verify error), 1 it failed,
 * 2 bad usage or no VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "gmemkit/adapt.h"
#include "gmemkit/bench_cost.h"
#include "gmemkit/probe.h"
#include "gmemkit/bench_io.h"
#include "gmemkit/bench_io_fields.h"
#include "gmemkit/json.h"
#include "gmemkit/parse.h"
#include "gmemkit/platform.h"

struct opts {
	struct bench_io_config c;
	const char *backend, *disk, *pool_arg, *persist_arg, *ram_arg;
	uint64_t ram_size;
	bool direct, json;
	char spec[4200];
};

static void usage(FILE *f, const struct cli_opt *opts)
{
	cli_usage(f, "gmemkit io-bench", opts, NULL,
		  "Needs /dev/kvm (elsewhere: tools/testvm build/gmemkit io-bench ..., "
		  "where the numbers are emulated).\n"
		  "exit status: 0 passed, 1 I/O or verify errors or guest failure, 2 usage "
		  "or setup");
}

static int parse_mode(const char *v, void *mode)
{
	return bench_io_mode_from_name(v, mode);
}

static int parse_rw(const char *v, void *rw)
{
	return bench_io_rw_from_name(v, rw);
}

static int parse_conv_model(const char *v, void *dest)
{
	return vmm_conv_model_from_name(v, dest);
}

/* 2 MiB pages: the mode must convert whole pages, and enough must be free. */
static int check_huge(const struct opts *o)
{
	struct gmem_abi_io_config io;
	long need, have;

	if (o->c.conv_model != VMM_CONV_HUGE)
		return 0;
	if (!bench_io_huge_ok(o->c.mode)) {
		cli_err("--conv-model huge: mode %s converts 4 KiB pieces apart (use lazy "
			"or eager)\n", bench_io_mode_name(o->c.mode));
		return -EINVAL;
	}
	bench_io_abi_config(&io, &o->c);
	need = (long)(gmem_abi_io_mem_size(&io, o->c.vcpus) / GMEM_HUGE_PAGE_SIZE);
	have = gmem_huge_pages_free();
	if (have < need) {
		cli_err("--conv-model huge: the run needs %ld free 2 MiB pages, the host has "
			"%ld (as root: sysctl vm.nr_hugepages=%ld, or more)\n", need,
			have < 0 ? 0 : have, need);
		return -EINVAL;
	}
	return 0;
}

/* 0 to run, 1 after --help, -EINVAL on a bad option. */
static int parse(int argc, char **argv, struct opts *o)
{
	static const char *const backends[] = { "null", "ram", "file" };
	static const char *const paths[ADAPT_PATHS] = {
		[ADAPT_BOUNCE] = "bounce", [ADAPT_INPLACE] = "inplace",
		[ADAPT_PERSIST] = "persistent", [ADAPT_BATCH] = "batched",
	};
	const char *us_arg = NULL, *paths_arg = NULL;
	unsigned int us = 0;
	bool churn = false;
	struct stat st;
	const struct cli_opt opts[] = {
		CLI_FN("--mode", &o->c.mode, parse_mode,
		       "shared, bounce, inplace, inplace-batch, inplace-scatter, adaptive, "
		       "persistent or mixed", .arg = "M",
		       .help = "the I/O mode (default bounce; mixed, a stress: each "
			       "request shared, bounce or inplace at random, now and then "
			       "an inplace-batch batch)"),
		CLI_SIZE("--bs", &o->c.bs, GMEM_ABI_IO_MIN_BS, GMEM_ABI_IO_MAX_BS,
			 .pow2 = true, .help = "block size (default 4k)"),
		CLI_UINT("--qd", &o->c.qd, 1, GMEM_ABI_IO_MAX_QD,
			 .help = "requests in flight per vCPU (default 1)"),
		CLI_UINT("--vcpus", &o->c.vcpus, 1, GMEM_ABI_IO_MAX_VCPUS,
			 .help = "vCPUs driving I/O (default 1)"),
		CLI_FN("--rw", &o->c.rw, parse_rw,
		       "read, write, randread, randwrite or randrw", .arg = "RW",
		       .help = "the access pattern (default randread)"),
		CLI_ONE_OF("--backend", &o->backend, backends, .arg = "B",
			   .values_in_help = true,
			   .help = "null (1 GiB, device never touches the data; the "
				   "default), ram (memory-backed, like null_blk "
				   "memory_backed=1: the device copies every byte with "
				   "memcpy; data verified) or file (--disk PATH; data "
				   "verified)"),
		CLI_SIZE("--ram-size", &o->ram_size, 512, 64ULL << 30, .given = &o->ram_arg,
			 .help = "ram backend: its store, a multiple of 512 (default 1G; "
				 "pages come on first write)"),
		CLI_STRING("--disk", &o->disk, .arg = "PATH",
			   .help = "file backend: the disk, an existing file (truncate -s "
				   "1G PATH makes one)"),
		CLI_FLAG("--direct", &o->direct, .help = "file backend with O_DIRECT"),
		CLI_SECONDS("--runtime", &o->c.runtime_s, 0, 3600, .fmin_open = true,
			    .help = "seconds of measured I/O, fractions allowed (default 5)"),
		CLI_TRANSPORT("--transport", &o->c.transport, .arg = "T",
			      .values_in_help = true,
			      .help = "conversion transport (default auto: hypercall if its "
				      "exits reach the VMM, else doorbell); queue: a ring "
				      "serviced by a converter thread (no userspace exit; a "
				      "kick only when asleep)"),
		CLI_FN("--conv-model", &o->c.conv_model, parse_conv_model,
		       "lazy, eager or huge", .arg = "M", .values_in_help = true,
		       .help = "how guest RAM converts (default lazy): lazy (guest_memfd "
			       "where it maps, mprotect; the host's first touch of a "
			       "re-shared page faults it in, as upstream today), eager "
			       "(memfd, one mapping, userfaultfd: a share maps the run), "
			       "huge (eager on 2 MiB pages: whole-page conversions; needs "
			       "free vm.nr_hugepages; not inplace-scatter or mixed)"),
		CLI_PLATFORM("--platform", &o->c.platform, .arg = "P", .values_in_help = true,
			     .help = "how the guest converts (default ideal; "
				     "docs/platforms.md): ideal (one call per range or "
				     "list, contents kept), pkvm (a call per 4 KiB granule, "
				     "queue), tdx (<= 2 MiB per call, exit to the VMM), snp "
				     "(<= 64 page entries per call, lists, exit), cca (the "
				     "host stops at 2 MiB boundaries, the guest loops; "
				     "queue); tdx, snp and cca destroy contents: an in-place "
				     "I/O copies its data once"),
		CLI_LIST("--adapt-paths", &o->c.adapt_paths, paths, .given = &paths_arg,
			 .help = "adaptive: the paths it chooses from (default all four)"),
		CLI_UINT("--conv-poll-us", &us, 0, VMM_CONV_POLL_US_MAX, .given = &us_arg,
			 .help = "queue: converter busy-polls N us after its last request "
				 "(default " CLI_STR(VMM_CONV_POLL_US_DEFAULT) "; 0: sleeps "
				 "at once, every request kicks)"),
		CLI_FLAG("--conv-no-pin", &o->c.conv_no_pin,
			 .help = "queue: leave the converter to the scheduler (default: a "
				 "CPU of its own, vCPU threads kept off it, when there are "
				 "enough)"),
		CLI_UINT("--poll-us", &o->c.poll_us, 0, 1000000,
			 .help = "device busy-polls N us after work (driver skips kicks "
				 "meanwhile; default 0: every batch kicks)"),
		/* the limits of any run; parse() checks bs and vCPUs' below */
		CLI_SIZE("--pool-size", &o->c.pool_size, gmem_abi_io_pool_unit(1),
			 GMEM_ABI_IO_POOL_MAX, .given = &o->pool_arg,
			 .help = "the guest's bounce pool (bounce, adaptive, mixed); "
				 "default 64M, Linux's swiotlb default "
				 "(IO_TLB_DEFAULT_SIZE); SEV/TDX guests size it to 6% of "
				 "RAM clamped to [64M, 1G].  A multiple of 256k x areas "
				 "(areas: vCPUs rounded up to a power of 2), at least bs x "
				 "vCPUs + 512k x areas"),
		CLI_SIZE("--persist-buf", &o->c.persist_size, GMEM_ABI_IO_MIN_BS,
			 GMEM_ABI_IO_MAX_BS, .pow2 = true, .given = &o->persist_arg,
			 .help = "persistent: bytes of each always-shared buffer (one per "
				 "request slot: qd x vCPUs of them), from --bs up (default "
				 "1M, the driver's largest request)"),
		CLI_FLAG("--churn", &churn,
			 .help = "with --mode mixed: between requests each vCPU shares and "
				 "unshares random scratch pages and unshares buffers the "
				 "device holds (each must be refused -EBUSY)"),
		CLI_FLAG("--json", &o->json, .help = "one JSON object: {\"results\":[{...}]}"),
		{ 0 }
	};
	int err = cli_parse(argc, argv, opts, usage);

	if (err)
		return err;
	if (churn)
		o->c.flags |= GMEM_ABI_IOF_CHURN;
	if (us_arg)
		o->c.conv_poll_us = us ? (int)us : VMM_CONV_POLL_OFF;
	if ((o->c.flags & GMEM_ABI_IOF_CHURN) && o->c.mode != GMEM_ABI_IO_MIXED) {
		cli_err("--churn needs --mode mixed (not %s)\n", bench_io_mode_name(o->c.mode));
		return -EINVAL;
	}
	if (check_huge(o))
		return -EINVAL;
	if (paths_arg && o->c.mode != GMEM_ABI_IO_ADAPTIVE) {
		cli_err("--adapt-paths %s needs --mode adaptive (not %s)\n", paths_arg,
			bench_io_mode_name(o->c.mode));
		return -EINVAL;
	}
	if (plat_destroys((enum plat)o->c.platform) && o->c.mode == GMEM_ABI_IO_MIXED) {
		cli_err("--platform %s: destroys contents on conversion; mode mixed runs on "
			"ideal or pkvm only\n", plat_name((enum plat)o->c.platform));
		return -EINVAL;
	}
	if (o->pool_arg) {
		uint64_t ps = o->c.pool_size, unit = gmem_abi_io_pool_unit(o->c.vcpus);
		char b1[24], b2[24], b3[24];

		if (!gmem_abi_io_has_pool(o->c.mode)) {
			cli_err("--pool-size: mode %s has no bounce pool\n",
				bench_io_mode_name(o->c.mode));
			return -EINVAL;
		}
		if (ps < gmem_abi_io_pool_min(o->c.bs, o->c.vcpus)) {
			cli_err("--pool-size %s: out of range for --bs %s on %u vCPU(s) (%s..%s)\n",
				o->pool_arg, format_size(o->c.bs, b1, sizeof(b1)), o->c.vcpus,
				format_size(gmem_abi_io_pool_min(o->c.bs, o->c.vcpus),
						 b2, sizeof(b2)),
				format_size(GMEM_ABI_IO_POOL_MAX, b3, sizeof(b3)));
			return -EINVAL;
		}
		if (ps % unit) {
			cli_err("--pool-size %s: not a multiple of %s (256k per area, an area "
				"per vCPU rounded up to a power of 2; %u vCPU(s))\n", o->pool_arg,
				format_size(unit, b3, sizeof(b3)), o->c.vcpus);
			return -EINVAL;
		}
	}
	if (o->persist_arg) {
		char b1[24];

		if (o->c.mode != GMEM_ABI_IO_PERSISTENT && o->c.mode != GMEM_ABI_IO_ADAPTIVE) {
			cli_err("--persist-buf needs --mode persistent or adaptive (not %s)\n",
				bench_io_mode_name(o->c.mode));
			return -EINVAL;
		}
		if (o->c.persist_size < o->c.bs) {
			cli_err("--persist-buf %s: smaller than --bs %s\n", o->persist_arg,
				format_size(o->c.bs, b1, sizeof(b1)));
			return -EINVAL;
		}
	}
	if (o->ram_arg && strcmp(o->backend, "ram")) {
		cli_err("--ram-size needs --backend ram (not %s)\n", o->backend);
		return -EINVAL;
	}
	if (strcmp(o->backend, "file") && (o->disk || o->direct)) {
		cli_err("%s needs --backend file\n", o->disk ? "--disk" : "--direct");
		return -EINVAL;
	}
	if (!strcmp(o->backend, "null")) {
		snprintf(o->spec, sizeof(o->spec), "null");
		return 0;
	}
	if (!strcmp(o->backend, "ram")) {
		if (o->ram_size % 512) {
			cli_err("--ram-size %s: not a multiple of 512\n", o->ram_arg);
			return -EINVAL;
		}
		snprintf(o->spec, sizeof(o->spec), "ram:%llu",
			 (unsigned long long)(o->ram_arg ? o->ram_size : 1ULL << 30));
		o->c.flags |= GMEM_ABI_IOF_VERIFY;	/* data persists: checked */
		return 0;
	}
	if (!o->disk) {
		cli_err("--backend file needs --disk PATH\n");
		return -EINVAL;
	}
	if (strlen(o->disk) > 4000 || strchr(o->disk, ',')) {
		cli_err("--disk %s: not a path without commas of at most 4000 bytes\n", o->disk);
		return -EINVAL;
	}
	if (stat(o->disk, &st)) {
		cli_err("--disk %s: %s (create one with truncate -s 1G %s)\n", o->disk,
			strerror(errno), o->disk);
		return -EINVAL;
	}
	snprintf(o->spec, sizeof(o->spec), "file:%s%s", o->disk, o->direct ? ",direct" : "");
	o->c.flags |= GMEM_ABI_IOF_VERIFY;
	return 0;
}

static double per_io(uint64_t v, uint64_t ios)
{
	return ios ? (double)v / (double)ios : 0;
}

struct figures {
	double secs, iops, mbps;
	struct bench_cost_split split;	/* ns per I/O */
	/* Conversion exits per I/O (doorbell/hypercall: one per request;
	 * queue: the kicks of a sleeping converter) and the queue converter's
	 * CPU per I/O. */
	double conv_exits, conv_cpu_ns;
	/* The device's I/Os in the run's direction (reads for read runs,
	 * writes for write runs, both for randrw): the per-I/O divisor of the
	 * device's side (split.dev*), which the device measures over the
	 * whole run (a verified write run's prefill is of the same kind). */
	uint64_t dev_ios;
	bool queue;
	uint64_t pins_refused;
	bool emulated;
	const char *transport;
	char cpu[128];
	char speed[200];		/* where the guest ran, measured */
};

static void figures(const struct opts *o, const struct bench_io_result *r,
		    struct figures *f)
{
	const struct gmem_abi_io_results *io = &r->io;

	f->secs = io->elapsed_ns / 1e9;
	f->iops = f->secs > 0 ? io->ios / f->secs : 0;
	f->mbps = f->secs > 0 ? io->bytes / f->secs / 1e6 : 0;
	f->pins_refused = io->conv_refused + r->dev.pins_refused;
	{
		const struct vblk_stats *d = &r->dev;
		bool rd = o->c.rw != GMEM_ABI_IO_WRITE && o->c.rw != GMEM_ABI_IO_RANDWRITE;
		bool wr = o->c.rw != GMEM_ABI_IO_READ && o->c.rw != GMEM_ABI_IO_RANDREAD;
		uint64_t dns = 0, dfl = 0, dcp = 0;
		struct bench_cost_in in = {
			.total = per_io(io->vcpu_ns, io->ios),
			.kick = per_io(io->kick_ns, io->ios),
			.conv = per_io(io->conv_ns, io->ios),
			.conv_host = per_io(io->conv_host_ns, io->ios),
			.copy = per_io(io->copy_ns, io->ios),
			.has_dev = true,
		};

		f->dev_ios = 0;
		if (rd) {
			f->dev_ios += d->reads;
			dns += d->dev_ns[BLK_OP_READ];
			dfl += d->dev_faults[BLK_OP_READ];
			dcp += d->dev_copy_bytes[BLK_OP_READ];
		}
		if (wr) {
			f->dev_ios += d->writes;
			dns += d->dev_ns[BLK_OP_WRITE];
			dfl += d->dev_faults[BLK_OP_WRITE];
			dcp += d->dev_copy_bytes[BLK_OP_WRITE];
		}
		in.dev = per_io(dns, f->dev_ios);
		in.dev_faults = per_io(dfl, f->dev_ios);
		in.dev_copy_bytes = per_io(dcp, f->dev_ios);
		if (bench_cost_split(&in, &f->split))
			memset(&f->split, 0, sizeof(f->split));
	}
	f->transport = vmm_transport_name(r->vm.transport);
	f->queue = r->vm.transport == VMM_TRANSPORT_QUEUE;
	f->conv_exits = per_io(f->queue ? io->conv_kicks : io->conv_calls, io->ios);
	f->conv_cpu_ns = per_io(r->vm.queue.cpu_ns, io->ios);
	probe_cpu_model(f->cpu, sizeof(f->cpu), &f->emulated);
	vmm_speed_describe(&r->vm.speed, f->speed, sizeof(f->speed));
	(void)o;
}

/* The run's area shared once at start, as a share of guest RAM. */
static double shared_pct(const struct bench_io_result *r)
{
	return r->mem_size ? 100.0 * (double)r->shared_bytes / (double)r->mem_size : 0;
}

/* The run as an io-bench record (gmemkit/bench_io_fields.h). */
static void record(const struct opts *o, const struct bench_io_result *r,
		   const struct figures *f, struct bench_io_record *rec)
{
	const struct gmem_abi_io_results *io = &r->io;
	const struct bench_io_config *c = &o->c;

	*rec = (struct bench_io_record){
		.mode = bench_io_mode_name(c->mode),
		.bs = c->bs,
		.qd = c->qd,
		.rw = bench_io_rw_name(c->rw),
		.backend = o->backend,
		.vcpus = c->vcpus,
		.direct = o->direct,
		.runtime_s = f->secs,
		.ios = io->ios,
		.iops = f->iops,
		.mbps = f->mbps,
		.lat_min_us = io->lat_min_ns / 1e3,
		.lat_p50_us = io->lat_p50_ns / 1e3,
		.lat_p99_us = io->lat_p99_ns / 1e3,
		.lat_p999_us = io->lat_p999_ns / 1e3,
		.lat_max_us = io->lat_max_ns / 1e3,
		.exits_per_io = per_io(io->kicks, io->ios) + f->conv_exits,
		.kicks_per_io = per_io(io->kicks, io->ios),
		.conv_per_io = per_io(io->conv_calls, io->ios),
		.conv_ns_per_io = per_io(io->conv_ns, io->ios),
		.copy_bytes_per_io = per_io(io->copy_bytes, io->ios),
		.copy_ns_per_io = per_io(io->copy_ns, io->ios),
		.pins_refused = f->pins_refused,
		.conv_exits_per_io = f->conv_exits,
		.conv_cpu_ns_per_io = f->conv_cpu_ns,
		.conv_poll_us = r->vm.queue.poll_us,
		.conv_cpu = f->queue ? r->vm.queue.cpu : -1,
		.vcpu_ns_per_io = f->split.total,
		.kick_ns_per_io = f->split.kick,
		.conv_exit_ns_per_io = f->split.conv_exit,
		.conv_host_ns_per_io = f->split.conv_host,
		.split_copy_ns_per_io = f->split.copy,
		.unaccounted_ns_per_io = f->split.unaccounted,
		.split_scale = f->split.scale,
		.dev_ns_per_io = f->split.dev,
		.dev_faults_per_io = f->split.dev_faults,
		.dev_copy_bytes_per_io = f->split.dev_copy_bytes,
		.dev_ios = f->dev_ios,
		.pool_bytes = r->pool_size,
		.persist_buf_bytes = c->mode == GMEM_ABI_IO_PERSISTENT ?
				     bench_io_persist_size(c) : 0,
		.persist_pool_bytes = r->persist_pool,
		.shared_bytes = r->shared_bytes,
		.mem_bytes = r->mem_size,
		.shared_pct = shared_pct(r),
		.bounce_full = io->bounce_full,
		.transport = f->transport,
		.poll_us = c->poll_us,
		.emulated = f->emulated,
		.cpu = f->cpu,
		.guest_native = r->vm.speed.native,
		.guest_cycles_per_iter = r->vm.speed.guest_mcycles / 1000.0,
		.guest_speed = f->speed,
		.verify_errors = io->verify_errors,
		.verified_sectors = io->verified,
		.io_errors = io->io_errors,
		.adapt_bounce_ns = io->adapt_bounce_ns,
		.adapt_inplace_ns = io->adapt_inplace_ns,
		.adapt_persist_ns = io->adapt_persist_ns,
		.adapt_batch_ns = io->adapt_batch_ns,
		.batched = io->batched,
		.adapt_paths = c->adapt_paths ? c->adapt_paths : (1U << ADAPT_PATHS) - 1,
		.persisted = io->persisted,
		.adapt_probes = io->adapt_probes,
		.adapt_switches = io->adapt_switches,
		.adapt_stopped = io->adapt_stopped,
		.adapt_device_ns = io->adapt_device_ns,
		.adapt_rate_checks = io->adapt_rate_checks,
		.bounced = io->bounced,
		.inplaced = io->inplaced,
		.batches = io->batches,
		.scatter_pieces = io->scatter_pieces,
		.scatter_runs = io->scatter_runs,
		.engine = r->engine,
		.mem_backing = gmem_backing_name(r->backing),
		.conv_model = vmm_conv_model_name(r->conv_model),
		.granule = r->granule,
		.conv_bytes_per_io = per_io(io->conv_bytes, io->ios),
		.platform = plat_name((enum plat)r->platform),
		.conv_calls_per_io = per_io(io->conv_calls, io->ios),
		.conv_pages_per_io = per_io(io->conv_pages, io->ios),
		.conv_entries_per_io = per_io(io->conv_entries, io->ios),
		.keep_bytes_per_io = per_io(io->keep_bytes, io->ios),
		.keep_ns_per_io = per_io(io->keep_ns, io->ios),
		.requests = io->all_submitted,
		.completed = io->all_completed,
		.dup_completions = io->dup_completions,
		.device_requests = r->dev.requests,
		.mixed_shared = io->mixed_shared,
		.mixed_bounced = io->bounced,
		.mixed_inplaced = io->inplaced,
		.mixed_batches = io->mixed_batches,
		.churn_conv = io->churn_conv,
		.inflight_refused = io->inflight_refused,
		.inflight_won = io->inflight_won,
		.ebusy = io->ebusy_total,
		.vmm_refusals = r->mem.refusals,
		.violations = r->mem.violations,
		.pass = r->vm.pass,
	};
}

/* {"results":[{the record}]} */
static void print_json(const struct opts *o, const struct bench_io_result *r,
		       const struct figures *f)
{
	struct bench_io_record rec;
	struct json_w w;

	record(o, r, f, &rec);
	json_w_init(&w, stdout);
	json_w_obj(&w, NULL);
	json_w_arr(&w, "results");
	json_w_obj(&w, NULL);
	bench_io_record_write(&w, &rec);
	json_w_end(&w);
	json_w_end(&w);
	json_w_end(&w);
	putchar('\n');
}

static const char *size_str(uint64_t b, char *buf, size_t len)
{
	if (b >= (1ULL << 20) && !(b % (1ULL << 20)))
		snprintf(buf, len, "%lluM", (unsigned long long)(b >> 20));
	else if (b >= 1024 && !(b % 1024))
		snprintf(buf, len, "%lluk", (unsigned long long)(b >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)b);
	return buf;
}

static void print_human(const struct opts *o, const struct bench_io_result *r,
			const struct figures *f)
{
	const struct gmem_abi_io_results *io = &r->io;
	const struct bench_io_config *c = &o->c;
	enum plat plat = (enum plat)r->platform;
	/* the I/Os that converted: adaptive's in-place ones */
	uint64_t nconv = c->mode == GMEM_ABI_IO_ADAPTIVE ? io->inplaced : io->ios;
	char b1[32], b2[32], b3[32];

	printf("io-bench: mode=%s rw=%s bs=%s qd=%u vcpus=%u backend=%s%s (%s) "
	       "transport=%s poll_us=%u memory=%s conv-model=%s platform=%s\n",
	       bench_io_mode_name(c->mode), bench_io_rw_name(c->rw),
	       size_str(c->bs, b1, sizeof(b1)), c->qd, c->vcpus, o->backend,
	       o->direct ? ",direct" : "", r->engine, f->transport, c->poll_us,
	       gmem_backing_name(r->backing), vmm_conv_model_name(r->conv_model),
	       plat_name((enum plat)r->platform));
	printf("  guest ran %s\n", f->speed);
	if (!r->vm.speed.native)
		printf("  the guest did not run natively: numbers are functional only, "
		       "not a verdict\n");
	else if (f->emulated)
		printf("  the CPU model string names an emulator (%s)\n", f->cpu);
	printf("  %s: IOPS=%.1f, BW=%.2fMB/s, ios=%llu in %.3fs\n",
	       bench_io_rw_name(c->rw), f->iops, f->mbps, (unsigned long long)io->ios,
	       f->secs);
	printf("    lat (usec): min=%.2f, p50=%.2f, p99=%.2f, p99.9=%.2f, max=%.2f\n",
	       io->lat_min_ns / 1e3, io->lat_p50_ns / 1e3, io->lat_p99_ns / 1e3,
	       io->lat_p999_ns / 1e3, io->lat_max_ns / 1e3);
	printf("  per I/O: exits %.3f (kicks %.3f, conversions %.3f), copied %.0f B, "
	       "pins refused %llu\n",
	       per_io(io->kicks, io->ios) + f->conv_exits, per_io(io->kicks, io->ios),
	       f->conv_exits, per_io(io->copy_bytes, io->ios),
	       (unsigned long long)f->pins_refused);
	printf("  cost split per I/O (vCPU time %.2f us, each cost once): kicks %.2f us "
	       "(%.2f us each), conversion exits %.2f us, conversion host work %.2f us, "
	       "bounce copy %.2f us, unaccounted %.2f us (driver, polling while the "
	       "device works)%s\n",
	       f->split.total / 1e3, f->split.kick / 1e3,
	       per_io(io->kick_ns, io->kicks) / 1e3, f->split.conv_exit / 1e3,
	       f->split.conv_host / 1e3, f->split.copy / 1e3, f->split.unaccounted / 1e3,
	       f->split.scaled ? " [parts scaled down to fit the measured time]" : "");
	printf("  device side per I/O (device thread, beside the vCPU time, over %llu "
	       "device I/Os): backend work %.2f us, %.3f page faults, copied %.0f B\n",
	       (unsigned long long)f->dev_ios, f->split.dev / 1e3, f->split.dev_faults,
	       f->split.dev_copy_bytes);
	if (c->mode == GMEM_ABI_IO_ADAPTIVE)
		printf("  adaptive: %llu bounced, %llu in place (%llu of them batched: "
		       "converted with their pass's others in one call), %llu persistent; "
		       "measured protection cost per I/O (smoothed, vCPU 0): bounce %.2f us, "
		       "in place %.2f us, batched %.2f us, persistent %.2f us; %llu re-probes, "
		       "%llu switches; %llu conversion samples stopped at their budget "
		       "(estimated from the part converted; those requests bounced); "
		       "%llu rate checks (the whole pipeline's time per I/O, converting "
		       "against copying), device extra of a converting path %.2f us\n",
		       (unsigned long long)io->bounced, (unsigned long long)io->inplaced,
		       (unsigned long long)io->batched,
		       (unsigned long long)io->persisted, io->adapt_bounce_ns / 1e3,
		       io->adapt_inplace_ns / 1e3, io->adapt_batch_ns / 1e3,
		       io->adapt_persist_ns / 1e3,
		       (unsigned long long)io->adapt_probes,
		       (unsigned long long)io->adapt_switches,
		       (unsigned long long)io->adapt_stopped,
		       (unsigned long long)io->adapt_rate_checks, io->adapt_device_ns / 1e3);
	if (c->mode == GMEM_ABI_IO_INPLACE_SCATTER)
		printf("  scatter: %llu batches, %llu pieces of %s in %llu contiguous runs "
		       "(the realistic case; shared and unshared in the calls above: a list "
		       "per call on snp and ideal, a call per run or granule elsewhere)\n",
		       (unsigned long long)io->batches, (unsigned long long)io->scatter_pieces,
		       size_str(gmem_abi_io_scatter_piece(c->bs), b1, sizeof(b1)),
		       (unsigned long long)io->scatter_runs);
	if (io->conv_calls)
		printf("  %s calls per I/O: %.2f (%.2f granules in %.2f ranges per I/O, both "
		       "directions)%s%s\n", plat_name(plat),
		       per_io(io->conv_calls, io->ios), per_io(io->conv_pages, io->ios),
		       per_io(io->conv_entries, io->ios), *plat_not_modelled(plat) ?
		       "; not modelled, paid on real hardware: " : "", plat_not_modelled(plat));
	if (io->keep_bytes)
		printf("  contents destroyed by conversion: %.0f B per I/O copied to keep the "
		       "data (%.2f us per I/O, in the bounce-copy figure above; it includes the "
		       "guest's first touch of each freshly converted page, a stage-2 fault)\n",
		       per_io(io->keep_bytes, io->ios), per_io(io->keep_ns, io->ios) / 1e3);
	if (io->conv_bytes && nconv)
		printf("  conversions: %s shared per %sI/O for %s of data (%s granule: %.0f B "
		       "exposed beyond the I/O), %s model%s\n",
		       size_str((uint64_t)per_io(io->conv_bytes, nconv), b1, sizeof(b1)),
		       nconv == io->ios ? "" : "in-place ",
		       size_str(c->bs, b2, sizeof(b2)), size_str(r->granule, b3, sizeof(b3)),
		       per_io(io->conv_bytes, nconv) - (double)c->bs,
		       vmm_conv_model_name(r->conv_model),
		       r->conv_model == VMM_CONV_LAZY ?
		       " (the device's first touch of each re-shared page faults it in)" :
		       " (a share maps the whole run: the device takes no fault)");
	if (c->mode == GMEM_ABI_IO_INPLACE_BATCH)
		printf("  batch: %llu batches, one contiguous span each (one share + one "
		       "unshare: the upper bound of batching)\n",
		       (unsigned long long)io->batches);
	if (r->pool_size)
		printf("  bounce pool: %s shared once (%.1f%% of %s guest RAM), %llu maps "
		       "waited for room\n", size_str(r->pool_size, b1, sizeof(b1)),
		       shared_pct(r), size_str(r->mem_size, b2, sizeof(b2)),
		       (unsigned long long)io->bounce_full);
	if (c->mode == GMEM_ABI_IO_PERSISTENT || c->mode == GMEM_ABI_IO_ADAPTIVE)
		printf("  persistent buffers: %u x %s = %s shared once, never converted "
		       "(%.1f%% of %s guest RAM)\n", c->qd * c->vcpus,
		       size_str(bench_io_persist_size(c), b1, sizeof(b1)),
		       size_str(r->persist_pool, b3, sizeof(b3)), shared_pct(r),
		       size_str(r->mem_size, b2, sizeof(b2)));
	if (f->queue)
		printf("  queue: %.3f conversion requests per I/O without a userspace exit; "
		       "their \"conversion exits\" above are ring latency and kicks; converter "
		       "polls %u us, CPU %.2f us per I/O (%.1f%% of the run), %llu wakeups, %s\n",
		       per_io(io->conv_calls, io->ios), r->vm.queue.poll_us,
		       f->conv_cpu_ns / 1e3,
		       r->vm.queue.wall_ns ? 100.0 * r->vm.queue.cpu_ns / r->vm.queue.wall_ns : 0,
		       (unsigned long long)r->vm.queue.wakeups,
		       r->vm.queue.cpu >= 0 ? "on a CPU of its own" : "not pinned");
	if (r->vm.queue.stopped)
		printf("  conversion queue stopped: %s\n", r->vm.queue.stop_message);
	if (o->c.flags & GMEM_ABI_IOF_VERIFY)
		printf("  verify: %llu sectors checked, %llu errors (prefill %llu writes)\n",
		       (unsigned long long)io->verified,
		       (unsigned long long)io->verify_errors,
		       (unsigned long long)io->prefill_ios);
	if (c->mode == GMEM_ABI_IO_MIXED)
		printf("  mixed: %llu shared, %llu bounced, %llu in place, %llu batches; "
		       "churn: %llu conversions, held-buffer unshares %llu (%llu -EBUSY, "
		       "%llu after unpin); -EBUSY guest %llu, VMM %llu\n",
		       (unsigned long long)io->mixed_shared, (unsigned long long)io->bounced,
		       (unsigned long long)io->inplaced, (unsigned long long)io->mixed_batches,
		       (unsigned long long)io->churn_conv, (unsigned long long)io->inflight_tries,
		       (unsigned long long)io->inflight_refused,
		       (unsigned long long)io->inflight_won, (unsigned long long)io->ebusy_total,
		       (unsigned long long)r->mem.refusals);
	printf("  requests: %llu submitted, %llu completed, %llu duplicate; host accesses "
	       "to private pages %llu\n",
	       (unsigned long long)io->all_submitted, (unsigned long long)io->all_completed,
	       (unsigned long long)io->dup_completions, (unsigned long long)r->mem.violations);
	printf("  device: %llu requests, %llu IOERR, %llu violations; guest: %s\n",
	       (unsigned long long)r->dev.requests, (unsigned long long)r->dev.ioerr,
	       (unsigned long long)r->dev.violations, r->vm.message);
}

static int cmd_io_bench(int argc, char **argv)
{
	struct opts o = {
		.c = { .mode = GMEM_ABI_IO_BOUNCE, .rw = GMEM_ABI_IO_RANDREAD,
		       .bs = 4096, .qd = 1, .vcpus = 1, .runtime_s = 5,
		       .quiet = true },
		.backend = "null",
	};
	struct bench_io_result r;
	struct figures f;
	int err;

	err = parse(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	o.c.backend = o.spec;
	o.c.console = stderr;
	err = bench_io_run(&o.c, &r);
	if (err == -ENODEV) {
		cli_err("no usable /dev/kvm on this host "
			"(run it in the test VM: tools/testvm build/gmemkit io-bench ...; "
			"numbers there are emulated)\n");
		return 2;
	}
	if (err == -EOPNOTSUPP && o.c.transport == VMM_TRANSPORT_HYPERCALL) {
		cli_err("--transport hypercall: this KVM does "
			"not offer KVM_HC_MAP_GPA_RANGE exits\n");
		return 2;
	}
	if (err == -ENOSPC) {
		cli_err("bs x qd x vcpus needs more guest RAM "
			"than %llu MiB\n", (unsigned long long)(GMEM_ABI_MEM_MAX >> 20));
		return 2;
	}
	if (err) {
		cli_err("cannot run (backend '%s'): %s\n",
			o.spec, strerror(-err));
		return 2;
	}
	figures(&o, &r, &f);
	if (o.json)
		print_json(&o, &r, &f);
	else
		print_human(&o, &r, &f);
	if (!r.vm.pass || !r.io.done) {
		cli_err("%s: %s\n", vmm_end_name(r.vm.end),
			r.vm.message);
		return 1;
	}
	return 0;
}

GMEM_COMMAND("io-bench", cmd_io_bench,
	     "virtio-blk I/O from the guest in one I/O mode, fio-like report");
