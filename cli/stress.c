// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit stress: the I/O path under load, with conversions racing
 * in-flight I/O and optional fault injection (harness/stress.h).  Host
 * threads run the guest's own I/O workload and virtio-blk driver against
 * the real virtio-blk device, gmem and bounce pool; no KVM guest is
 * involved.  Exit 0 when every check passed, 1 on any failed check or
 * setup failure, 2 on bad options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "gmemkit/bench_io.h"
#include "gmemkit/parse.h"
#include "harness/stress.h"

static void usage(FILE *f, const struct cli_opt *opts)
{
	cli_usage(f, "gmemkit stress", opts, NULL,
		  "Host threads run the guest's own I/O workload and virtio-blk driver: "
		  "the device, gmem, bounce pool and backend are the real code, but "
		  "there is no KVM guest.\n"
		  "exit status: 0 every check passed, 1 a failed check or setup failure, "
		  "2 bad options");
}

static void print_summary(const struct stress_config *c,
			  const struct stress_result *r)
{
	double secs = (double)r->elapsed_ns / 1e9;
	unsigned int k;

	printf("gmemkit stress: host threads run the guest's workload and driver "
	       "(no KVM guest) against the real virtio-blk device, gmem and bounce pool\n");
	printf("config    %u vCPU threads x qd %u, bs %llu KiB, mode %s%s, backend %s "
	       "(%s), converter %s%s, %s model, seed %llu\n", c->threads, c->qd,
	       (unsigned long long)(c->bs >> 10), bench_io_mode_name(c->mode),
	       c->mode == GMEM_ABI_IO_MIXED && !c->no_churn ? " (churn)" : "",
	       c->backend ? c->backend : "file", r->engine ? r->engine : "?",
	       c->converter ? "on" : "off", c->abandon ? ", abandon" : "",
	       gmem_model_name(c->model), (unsigned long long)r->seed);
	printf("duration  %.1f s (wall clock: setup, prefill and read-back included)\n",
	       secs);
	printf("ops       %llu requests, %.0f/s (%llu in the measured run, %.1f MB)\n",
	       (unsigned long long)r->submitted, secs > 0 ? r->submitted / secs : 0,
	       (unsigned long long)r->ios, r->bytes / 1e6);
	printf("paths     shared %llu bounce %llu inplace %llu (batches %llu)\n",
	       (unsigned long long)r->shared, (unsigned long long)r->bounced,
	       (unsigned long long)r->inplaced, (unsigned long long)r->batches);
	printf("convert   gmem conversions %llu (workload %llu, churn %llu; converter "
	       "%llu)\n", (unsigned long long)r->gmem_conversions,
	       (unsigned long long)r->conversions, (unsigned long long)r->churn_conv,
	       (unsigned long long)r->scratch_convs);
	printf("refusals  unshares of held buffers tried %llu: -EBUSY %llu, finished "
	       "first %llu; every -EBUSY %llu, gmem refusals %llu\n",
	       (unsigned long long)r->inflight_tries,
	       (unsigned long long)r->inflight_refused,
	       (unsigned long long)r->inflight_won, (unsigned long long)r->conv_busy,
	       (unsigned long long)r->gmem_refusals);
	printf("errors    injected %llu (", (unsigned long long)r->injected_total);
	for (k = 0; k < BLK_FAULT_NR; k++)
		printf("%s%s %llu", k ? ", " : "", blk_fault_kind_name(k),
		       (unsigned long long)r->injected[k]);
	printf("), IOERR seen by the workload %llu, by device %llu; bounce ENOSPC %llu\n",
	       (unsigned long long)r->io_errors, (unsigned long long)r->dev_ioerr,
	       (unsigned long long)r->bounce_full);
	printf("checks    sectors verified %llu%s, mismatches %llu, duplicated %llu, "
	       "abandoned %llu, guest checks %llu failed %llu, gmem violations %llu, "
	       "device violations %llu, pins left %llu\n",
	       (unsigned long long)r->sectors_verified,
	       r->data_checked ? "" : " (null backend: data not checked)",
	       (unsigned long long)r->mismatches, (unsigned long long)r->duplicated,
	       (unsigned long long)r->abandoned, (unsigned long long)r->guest_checks,
	       (unsigned long long)r->guest_failures,
	       (unsigned long long)r->gmem_violations,
	       (unsigned long long)r->dev_violations,
	       (unsigned long long)r->pins_left);
	if (r->failures)
		printf("result    FAIL: %llu failed checks; first: %s\n",
		       (unsigned long long)r->failures, r->first_failure);
	else
		printf("result    PASS (counters reconciled)\n");
}

static int parse_inject(const char *v, void *faults)
{
	return blk_fault_parse(v, faults);
}

static int parse_mode(const char *v, void *mode)
{
	return bench_io_mode_from_name(v, mode);
}

/* 0 to run, 1 after --help, -EINVAL on a bad option. */
static int parse(int argc, char **argv, struct stress_config *c)
{
	static const char *const backends[] = { "file", "file-sync", "ram", "null" };
	static const char *const models[] = { "lazy", "eager" };
	const char *inject = NULL;
	unsigned int secs = 60;
	bool no_converter = false;
	const struct cli_opt opts[] = {
		CLI_UINT("--seconds", &secs, 1, 86400,
			 .help = "the measured run (default 60)"),
		CLI_UINT("--threads", &c->threads, 1, STRESS_MAX_THREADS,
			 .help = "vCPU threads (default 2)"),
		CLI_UINT("--qd", &c->qd, 1, STRESS_MAX_QD,
			 .help = "requests in flight per thread (default 8)"),
		CLI_SIZE("--bs", &c->bs, GMEM_ABI_IO_MIN_BS, GMEM_ABI_IO_MAX_BS,
			 .pow2 = true, .help = "bytes per request (default 64k)"),
		CLI_FN("--mode", &c->mode, parse_mode,
		       "shared, bounce, inplace, inplace-batch, adaptive, inplace-scatter, "
		       "persistent or mixed", .arg = "MODE",
		       .help = "the guest workload's mode, as io-bench's (default mixed: "
			       "shared, bounce or inplace at random per request, some "
			       "inplace-batch batches)"),
		CLI_FLAG("--no-churn", &c->no_churn,
			 .help = "mixed: no conversions of scratch pages or held buffers "
				 "between requests"),
		CLI_ONE_OF("--backend", &c->backend, backends, .arg = "KIND",
			   .values_in_help = true,
			   .help = "file (temp file, io_uring; default), file-sync, ram "
				   "(memory-backed, --disk-size of store; data checked), "
				   "null"),
		CLI_SIZE("--disk-size", &c->disk_size, 4096, 64ULL << 30, .align = 4096,
			 .help = "disk size (default 64M)"),
		CLI_SIZE("--pool-size", &c->pool_size, 256 << 10, 1ULL << 30,
			 .align = 256 << 10,
			 .help = "bounce pool (bounce, adaptive, mixed; default the "
				 "smallest for --bs and --threads)"),
		CLI_FN("--inject", &c->faults, parse_inject,
		       "KIND:RATE or KIND:#N items (KIND eio, enospc, short, submit, kick, "
		       "corrupt; RATE in [0, 1])", .given = &inject, .arg = "SPEC",
		       .help = "faults, e.g. "
			       "eio:0.01,enospc:0.01,short:0.01,submit:#100 (IOERR "
			       "expected); kick:RATE fails the batch push, the I/O stays "
			       "queued (completes OK); corrupt:RATE flips read data "
			       "silently (the checks must then fail)"),
		CLI_FLAG("--no-converter", &no_converter,
			 .help = "no thread converting its own pages under the I/O"),
		CLI_FLAG("--abandon", &c->abandon,
			 .help = "the vCPUs stop with I/O in flight (guest stops mid-I/O)"),
		CLI_CHOICE("--conv-model", &c->model, models, .arg = "M",
			   .values_in_help = true,
			   .help = "guest RAM's conversion model: lazy (mprotect; default) "
				   "or eager (one mapping, userfaultfd)"),
		CLI_U64("--seed", &c->seed, 0, UINT64_MAX,
			.help = "PRNG seed (default from the clock)"),
		{ 0 }
	};
	int err;

	err = cli_parse(argc, argv, opts, usage);
	if (err)
		return err;
	c->converter = !no_converter;
	c->inject = inject != NULL;
	c->duration_ms = (uint64_t)secs * 1000;
	return 0;
}

/* What the workload needs that the options alone do not say. */
static int check_fit(const struct stress_config *c)
{
	uint64_t disk = c->disk_size ? c->disk_size : 64ULL << 20;
	uint64_t need = (2ULL * c->qd + 1) * c->bs * c->threads;
	char a[24], b[24], d[24], e[24];

	if (c->no_churn && c->mode != GMEM_ABI_IO_MIXED) {
		cli_err("--no-churn: only with --mode mixed\n");
		return -1;
	}
	if (disk < need) {
		cli_err("--disk-size %s: too small for %u threads x (2 x --qd %u + 1) "
			"blocks of --bs %s (%s)\n", format_size(disk, a, sizeof(a)),
			c->threads, c->qd, format_size(c->bs, b, sizeof(b)),
			format_size(need, d, sizeof(d)));
		return -1;
	}
	if (c->pool_size && gmem_abi_io_has_pool(c->mode) &&
	    !gmem_abi_io_pool_ok(c->pool_size, c->bs, c->threads)) {
		cli_err("--pool-size %s: with --bs %s and %u threads, a multiple of %s "
			"of at least %s\n", format_size(c->pool_size, a, sizeof(a)),
			format_size(c->bs, b, sizeof(b)), c->threads,
			format_size(gmem_abi_io_pool_unit(c->threads), d, sizeof(d)),
			format_size(gmem_abi_io_pool_min(c->bs, c->threads), e, sizeof(e)));
		return -1;
	}
	return 0;
}

static int cmd_stress(int argc, char **argv)
{
	struct stress_config c = {
		.threads = 2, .qd = 8, .bs = 64 << 10, .mode = GMEM_ABI_IO_MIXED,
		.converter = true,
	};
	struct stress_result r;
	int ret;

	ret = parse(argc, argv, &c);
	if (ret)
		return ret > 0 ? 0 : 2;
	if (check_fit(&c))
		return 2;
	fflush(stdout);
	ret = stress_run(&c, &r);
	if (ret) {
		cli_err("setup failed: %s\n", strerror(-ret));
		return 1;
	}
	print_summary(&c, &r);
	return r.failures ? 1 : 0;
}

GMEM_COMMAND("stress", cmd_stress,
	     "the guest's I/O workload on host threads with conversions racing it, "
	     "checked (--seconds, --inject)");
