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

static int usage(FILE *f, int ret)
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
	return ret;
}

static int parse_modes(const char *val, unsigned int *out)
{
	char *copy = strdup(val), *tok, *save = NULL;
	unsigned int m, mask = 0;
	int ret = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			mask |= STRESS_MODES_ALL;
			continue;
		}
		for (m = 0; m < STRESS_NMODES; m++)
			if (!strcmp(tok, gmem_stress_mode_name(m)))
				break;
		if (m == STRESS_NMODES) {
			fprintf(stderr, "gmemkit: --modes: unknown mode '%s'\n", tok);
			ret = -1;
		}
		mask |= 1U << m;
	}
	free(copy);
	if (!ret && !mask) {
		fprintf(stderr, "gmemkit: --modes: '%s' names no mode\n", val);
		ret = -1;
	}
	*out = mask & STRESS_MODES_ALL;
	return ret;
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

static const char *const valued[] = {
	"--seconds", "--threads", "--qd", "--max-io", "--modes", "--backend",
	"--disk-size", "--pool-size", "--inject", "--seed", NULL,
};

static bool needs_value(const char *a)
{
	for (unsigned int i = 0; valued[i]; i++)
		if (!strcmp(a, valued[i]))
			return true;
	return false;
}

static int parse(int argc, char **argv, struct gmem_stress_config *c)
{
	unsigned int secs = 60;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout, 0) - 1;
		if (!strcmp(a, "--no-converter")) {
			c->converter = false;
			continue;
		}
		if (!strcmp(a, "--abandon")) {
			c->abandon = true;
			continue;
		}
		if (!needs_value(a)) {
			fprintf(stderr, "gmemkit stress: unknown option '%s'\n", a);
			return usage(stderr, 2);
		}
		if (!v) {
			fprintf(stderr, "gmemkit stress: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--seconds")) {
			if (cli_parse_uint(a, v, 1, 86400, &secs))
				return 2;
		} else if (!strcmp(a, "--threads")) {
			if (cli_parse_uint(a, v, 1, STRESS_MAX_THREADS, &c->threads))
				return 2;
		} else if (!strcmp(a, "--qd")) {
			if (cli_parse_uint(a, v, 1, STRESS_MAX_QD, &c->qd))
				return 2;
		} else if (!strcmp(a, "--max-io")) {
			if (cli_parse_size(a, v, &c->max_io))
				return 2;
			if (c->max_io < 4096 || c->max_io > STRESS_MAX_IO ||
			    c->max_io % 4096) {
				fprintf(stderr, "gmemkit: --max-io: %s is not a multiple "
					"of 4k in [4k, 1M]\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--modes")) {
			if (parse_modes(v, &c->modes))
				return 2;
		} else if (!strcmp(a, "--backend")) {
			if (strcmp(v, "file") && strcmp(v, "file-sync") &&
			    strcmp(v, "null")) {
				fprintf(stderr, "gmemkit: --backend: unknown backend "
					"'%s' (file, file-sync, null)\n", v);
				return 2;
			}
			c->backend = v;
		} else if (!strcmp(a, "--disk-size")) {
			if (cli_parse_size(a, v, &c->disk_size))
				return 2;
			if (!c->disk_size || c->disk_size % 4096 ||
			    c->disk_size > (64ULL << 30)) {
				fprintf(stderr, "gmemkit: --disk-size: %s is not a "
					"multiple of 4k in (0, 64G]\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--pool-size")) {
			if (cli_parse_size(a, v, &c->pool_size))
				return 2;
			if (!c->pool_size || c->pool_size % (256 << 10) ||
			    c->pool_size > (1ULL << 30)) {
				fprintf(stderr, "gmemkit: --pool-size: %s is not a "
					"multiple of 256k in (0, 1G]\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--inject")) {
			if (blk_fault_parse(v, &c->faults)) {
				fprintf(stderr, "gmemkit: --inject: bad spec '%s' (KIND:RATE "
					"or KIND:#N, KIND eio, enospc, short, submit, kick, corrupt, "
					"RATE in [0, 1])\n", v);
				return 2;
			}
			c->inject = true;
		} else if (!strcmp(a, "--seed")) {
			if (cli_parse_u64(a, v, &c->seed))
				return 2;
		}
	}
	c->duration_ms = (uint64_t)secs * 1000;
	return 0;
}

static int check_fit(const struct gmem_stress_config *c)
{
	uint64_t disk = c->disk_size ? c->disk_size : 64ULL << 20;

	if (c->threads * c->qd * (STRESS_MAX_SEGS + 2) > 1024) {
		fprintf(stderr, "gmemkit stress: --threads %u x --qd %u needs %u "
			"descriptors, more than a queue of 1024 holds\n", c->threads,
			c->qd, c->threads * c->qd * (STRESS_MAX_SEGS + 2));
		return -1;
	}
	if (disk / c->threads < c->max_io) {
		fprintf(stderr, "gmemkit stress: --disk-size %llu is too small for "
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
		return ret < 0 ? 0 : ret;
	if (check_fit(&c))
		return 2;
	fflush(stdout);
	ret = gmem_stress_run(&c, &r);
	if (ret) {
		fprintf(stderr, "gmemkit stress: setup failed: %s\n", strerror(-ret));
		return 1;
	}
	print_summary(&c, &r);
	return r.failures ? 1 : 0;
}

GMEM_COMMAND("stress", cmd_stress,
	     "random I/O in every mode with conversions racing it, checked "
	     "(--seconds, --inject)");
