// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit stress: the I/O path under load, with conversions racing
 * in-flight I/O and optional fault injection (include/gmemkit/stress.h).
 * Host threads play the guest driver against the real virtio-blk device,
 * gmem and bounce pool; no KVM guest is involved.  Exit 0 when every check
 * passed, 1 on any violation or setup failure, 2 on bad options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "harness/stress.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gmemkit stress [options]\n"
		"  --seconds N       how long the drivers submit I/O (default 60, 1..86400)\n"
		"  --threads N       driver threads (default 2, 1..8)\n"
		"  --qd N            requests in flight per thread (default 8, 1..32)\n"
		"  --max-io SIZE     largest request, multiple of 4k in [4k, 1M] (default 1M)\n"
		"  --modes LIST      comma list of shared,bounce,inplace,inplace-batch, or all\n"
		"  --backend KIND    file (temp file, io_uring; default), file-sync, null\n"
		"  --disk-size SIZE  disk size (default 64M)\n"
		"  --pool-size SIZE  bounce pool, multiple of 256k (default threads*qd*max-io)\n"
		"  --inject SPEC     faults, e.g. eio:0.01,enospc:0.01,short:0.01,submit:#100\n"
		"                    (IOERR expected); kick:RATE fails the batch push, the\n"
		"                    I/O stays queued (completes OK); corrupt:RATE flips\n"
		"                    read data silently (the checks must then fail)\n"
		"  --no-converter    no thread converting pages under the I/O\n"
		"  --abandon         drivers stop with I/O in flight (guest stops mid-I/O)\n"
		"  --seed N          PRNG seed (default from the clock)\n"
		"Host threads play the guest driver: the device, gmem, bounce pool and\n"
		"backend are the real code, but there is no KVM guest.\n");
}

static void print_summary(const struct gmem_stress_config *c,
			  const struct gmem_stress_result *r)
{
	double secs = (double)r->elapsed_ns / 1e9;
	double mb = (double)(r->bytes_read + r->bytes_written) / 1e6;
	unsigned int m, k;

	printf("gmemkit stress: host threads play the guest driver (no KVM guest) "
	       "against the real virtio-blk device, gmem and bounce pool\n");
	printf("config    %u driver threads x qd %u, max I/O %llu KiB, backend %s "
	       "(%s), converter %s%s, seed %llu\n", c->threads, c->qd,
	       (unsigned long long)(c->max_io >> 10),
	       c->backend ? c->backend : "file", r->engine ? r->engine : "?",
	       c->converter ? "on" : "off", c->abandon ? ", abandon" : "",
	       (unsigned long long)r->seed);
	printf("duration  %.1f s\n", secs);
	printf("ops       %llu (reads %llu, writes %llu, flushes %llu)  "
	       "%.0f ops/s\n", (unsigned long long)r->submitted,
	       (unsigned long long)r->reads, (unsigned long long)r->writes,
	       (unsigned long long)r->flushes, secs > 0 ? r->submitted / secs : 0);
	printf("data      %.1f MB (read %.1f, written %.1f)  %.1f MB/s\n", mb,
	       r->bytes_read / 1e6, r->bytes_written / 1e6,
	       secs > 0 ? mb / secs : 0);
	printf("modes    ");
	for (m = 0; m < STRESS_NMODES; m++)
		printf(" %s %llu", gmem_stress_mode_name(m),
		       (unsigned long long)r->by_mode[m]);
	printf(" (batches %llu)\n", (unsigned long long)r->batches);
	printf("convert   gmem conversions %llu (driver shares %llu, unshares "
	       "%llu; scratch %llu)\n", (unsigned long long)r->gmem_conversions,
	       (unsigned long long)r->driver_shares,
	       (unsigned long long)r->driver_unshares,
	       (unsigned long long)r->scratch_convs);
	printf("refusals  in-flight unshares tried %llu: -EBUSY %llu, finished "
	       "first %llu; gmem refusals %llu\n",
	       (unsigned long long)r->inflight_unshare_tries,
	       (unsigned long long)r->inflight_refused,
	       (unsigned long long)r->inflight_late,
	       (unsigned long long)r->gmem_refusals);
	printf("errors    injected %llu (", (unsigned long long)r->injected_total);
	for (k = 0; k < BLK_FAULT_NR; k++)
		printf("%s%s %llu", k ? ", " : "", blk_fault_kind_name(k),
		       (unsigned long long)r->injected[k]);
	printf("), IOERR seen by drivers %llu, by device %llu; bounce ENOSPC %llu\n",
	       (unsigned long long)r->ioerr, (unsigned long long)r->dev_ioerr,
	       (unsigned long long)r->bounce_enospc);
	printf("checks    sectors verified %llu%s, mismatches %llu, lost %llu, "
	       "duplicated %llu, abandoned %llu, gmem violations %llu, device "
	       "violations %llu, pins left %llu\n",
	       (unsigned long long)r->sectors_verified,
	       r->data_checked ? "" : " (null backend: data not checked)",
	       (unsigned long long)r->mismatches, (unsigned long long)r->lost,
	       (unsigned long long)r->duplicated, (unsigned long long)r->abandoned,
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

/* 0 to run, 1 after --help, -EINVAL on a bad option. */
static int parse(int argc, char **argv, struct gmem_stress_config *c)
{
	static const char *const backends[] = { "file", "file-sync", "null" };
	const char *modes[STRESS_NMODES + 1], *inject = NULL;
	unsigned int secs = 60, m;
	bool no_converter = false;
	const struct cli_opt opts[] = {
		CLI_UINT("--seconds", &secs, 1, 86400),
		CLI_UINT("--threads", &c->threads, 1, STRESS_MAX_THREADS),
		CLI_UINT("--qd", &c->qd, 1, STRESS_MAX_QD),
		CLI_SIZE("--max-io", &c->max_io, 4096, STRESS_MAX_IO, .align = 4096),
		CLI_LIST("--modes", &c->modes, modes),
		CLI_ONE_OF("--backend", &c->backend, backends),
		CLI_SIZE("--disk-size", &c->disk_size, 4096, 64ULL << 30, .align = 4096),
		CLI_SIZE("--pool-size", &c->pool_size, 256 << 10, 1ULL << 30,
			 .align = 256 << 10),
		CLI_FN("--inject", &c->faults, parse_inject,
		       "KIND:RATE or KIND:#N items (KIND eio, enospc, short, submit, kick, "
		       "corrupt; RATE in [0, 1])", .given = &inject),
		CLI_FLAG("--no-converter", &no_converter),
		CLI_FLAG("--abandon", &c->abandon),
		CLI_U64("--seed", &c->seed, 0, UINT64_MAX),
		{ 0 }
	};
	int err;

	for (m = 0; m < STRESS_NMODES; m++)
		modes[m] = gmem_stress_mode_name(m);
	modes[STRESS_NMODES] = "all";
	err = cli_parse(argc, argv, opts, usage);
	if (err)
		return err;
	if (c->modes & (1U << STRESS_NMODES))
		c->modes = STRESS_MODES_ALL;
	c->converter = !no_converter;
	c->inject = inject != NULL;
	c->duration_ms = (uint64_t)secs * 1000;
	return 0;
}

static int check_fit(const struct gmem_stress_config *c)
{
	uint64_t disk = c->disk_size ? c->disk_size : 64ULL << 20;

	if (c->threads * c->qd * (STRESS_MAX_SEGS + 2) > 1024) {
		cli_err("--threads %u x --qd %u needs %u "
			"descriptors, more than a queue of 1024 holds\n", c->threads,
			c->qd, c->threads * c->qd * (STRESS_MAX_SEGS + 2));
		return -1;
	}
	if (disk / c->threads < c->max_io) {
		cli_err("--disk-size %llu is too small for "
			"%u threads with --max-io %llu\n", (unsigned long long)disk,
			c->threads, (unsigned long long)c->max_io);
		return -1;
	}
	return 0;
}

static int cmd_stress(int argc, char **argv)
{
	struct gmem_stress_config c = {
		.threads = 2, .qd = 8, .max_io = 1 << 20,
		.modes = STRESS_MODES_ALL, .converter = true,
	};
	struct gmem_stress_result r;
	int ret;

	ret = parse(argc, argv, &c);
	if (ret)
		return ret > 0 ? 0 : 2;
	if (check_fit(&c))
		return 2;
	fflush(stdout);
	ret = gmem_stress_run(&c, &r);
	if (ret) {
		cli_err("setup failed: %s\n", strerror(-ret));
		return 1;
	}
	print_summary(&c, &r);
	return r.failures ? 1 : 0;
}

GMEM_COMMAND("stress", cmd_stress,
	     "random I/O in every mode with conversions racing it, checked "
	     "(--seconds, --inject)");
