/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guest I/O tests share (tests/kvm_io*.c): the modes, a base
 * configuration (null backend, 64 I/Os), a run that logs what it did, and
 * SKIP lines for what needs a usable /dev/kvm.
 */
#ifndef GMEMKIT_TESTS_KVM_IO_UTIL_H
#define GMEMKIT_TESTS_KVM_IO_UTIL_H

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/bench_io.h"
#include "gmemkit/timing.h"
#include "tap.h"

#define KiB	1024ULL
#define DISK	(64ULL << 20)

static bool have_kvm;

__attribute__((format(printf, 1, 2)))
static inline void skip_why(const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tap_skip(1, why);
}

static const char *no_kvm = "";

static const enum gmem_abi_io_mode modes[] = {
	GMEM_ABI_IO_SHARED, GMEM_ABI_IO_BOUNCE, GMEM_ABI_IO_INPLACE,
	GMEM_ABI_IO_INPLACE_BATCH, GMEM_ABI_IO_ADAPTIVE, GMEM_ABI_IO_INPLACE_SCATTER,
	GMEM_ABI_IO_PERSISTENT,
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static inline void base(struct bench_io_config *c, enum gmem_abi_io_mode m)
{
	memset(c, 0, sizeof(*c));
	c->mode = m;
	c->rw = GMEM_ABI_IO_RANDREAD;
	c->bs = 4 * KiB;
	c->qd = 4;
	c->vcpus = 1;
	c->ios = 64;
	c->backend = "null:67108864";
	c->quiet = !getenv("KVM_IO_VERBOSE");
	c->console = stderr;
	c->timeout_ms = 120000;
}

static inline int run(const struct bench_io_config *c, struct bench_io_result *r)
{
	uint64_t t0 = timing_now_ns();
	int err = bench_io_run(c, r);

	diag("%s %s bs %llu qd %u vcpus %u %s: err %d, %s (%llu ms); ios %llu "
	     "conv %llu copy %llu verified %llu bad %llu",
	     bench_io_mode_name(c->mode), bench_io_rw_name(c->rw),
	     (unsigned long long)c->bs, c->qd, c->vcpus,
	     c->backend ? c->backend : "custom", err, err ? "" : r->vm.message,
	     (unsigned long long)((timing_now_ns() - t0) / 1000000),
	     (unsigned long long)r->io.ios, (unsigned long long)r->io.conv_calls,
	     (unsigned long long)r->io.copy_bytes, (unsigned long long)r->io.verified,
	     (unsigned long long)r->io.verify_errors);
	return err;
}

#endif /* GMEMKIT_TESTS_KVM_IO_UTIL_H */
