// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bounce-bench: what bouncing I/O through the swiotlb-style pool
 * costs (lib/bounce.c), against a plain memcpy of the same bytes.
 *
 * map_unmap:   bounce_map() + bounce_unmap() with BOUNCE_F_SKIP_CPU_SYNC:
 *              the allocator alone;
 * bounce_to_device: bounce_map(TO_DEVICE) (copies the buffer into the pool)
 *              + bounce_unmap(): one copy of the bytes, what an I/O write
 *              costs;
 * bounce_from_device: bounce_map(FROM_DEVICE) (copies the buffer in, as
 *              Linux does for every direction) + bounce_unmap() (copies the
 *              device's data out): two copies, what an I/O read costs;
 * memcpy:      memcpy() of the same bytes between two fixed buffers;
 * memcpy_spread: the same memcpy() into a destination that walks a buffer
 *              as large as a pool area, as the pool's next-fit index (like
 *              swiotlb's) walks the area: the copy into cache-cold memory
 *              that bounce_to_device also pays, without the pool.
 * For 512 B, 4 KiB, 64 KiB and 256 KiB, with 1 thread and with 2 threads
 * (thread i maps from CPU i, so each has an area of its own).  A sample
 * times a batch of operations per thread; its latency is the wall time over
 * the batch (what one operation of one thread took while the others ran),
 * its throughput all threads' bytes over the wall time.  All configurations
 * are measured interleaved, rep by rep, in one run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "gmemkit/bounce.h"
#include "gmemkit/json.h"
#include "gmemkit/timing.h"

#define NSIZES		4
#define NTHREADS	2
#define DBASE		0x80000000ull	/* device address of the pool */

static const unsigned int sizes[NSIZES] = { 512, 4096, 65536, 262144 };

enum op { OP_MAP_UNMAP, OP_BOUNCE_TO, OP_BOUNCE_FROM, OP_MEMCPY, OP_MEMCPY_SPREAD, NOPS };
static const char *const op_names[NOPS] = {
	"map_unmap", "bounce_to_device", "bounce_from_device", "memcpy", "memcpy_spread" };

struct config {
	enum op op;
	unsigned int bytes, threads, batch;
	uint64_t *samples;
	struct timing_summary sum;
};

struct bench {
	struct bounce_pool pool;
	void *meta, *mem;
	uint64_t pool_size;
	uint8_t *src[NTHREADS], *dst[NTHREADS], *spread[NTHREADS];
	uint64_t spread_size, spread_off[NTHREADS];
	struct config cfg[NOPS * NSIZES * NTHREADS];
	unsigned int ncfg, reps;

	/* 2-thread samples: the helper thread runs thread 1's batch */
	pthread_t helper;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool awake, quit;
	/* command word from thread 0: (sequence << 1) | sleep */
	uint64_t word;
	unsigned int cur;		/* config of the current sample */
	unsigned int arrived;		/* spin barrier */
	int err[NTHREADS];
};

/* One batch of c->batch operations on behalf of thread @t. */
static int batch(struct bench *b, const struct config *c, unsigned int t)
{
	uint64_t addr, so = b->spread_off[t];
	unsigned int i;
	int ret;

	for (i = 0; i < c->batch; i++) {
		switch (c->op) {
		case OP_MAP_UNMAP:
			ret = bounce_map(&b->pool, t, b->src[t], (uintptr_t)b->src[t], c->bytes,
					 BOUNCE_TO_DEVICE, NULL, BOUNCE_F_SKIP_CPU_SYNC, &addr);
			if (!ret)
				ret = bounce_unmap(&b->pool, addr, c->bytes, BOUNCE_TO_DEVICE,
						   BOUNCE_F_SKIP_CPU_SYNC);
			break;
		case OP_BOUNCE_TO:
			ret = bounce_map(&b->pool, t, b->src[t], (uintptr_t)b->src[t], c->bytes,
					 BOUNCE_TO_DEVICE, NULL, 0, &addr);
			if (!ret)
				ret = bounce_unmap(&b->pool, addr, c->bytes, BOUNCE_TO_DEVICE, 0);
			break;
		case OP_BOUNCE_FROM:
			/* the I/O buffer is the destination: dst, as memcpy's */
			ret = bounce_map(&b->pool, t, b->dst[t], (uintptr_t)b->dst[t], c->bytes,
					 BOUNCE_FROM_DEVICE, NULL, 0, &addr);
			if (!ret)
				ret = bounce_unmap(&b->pool, addr, c->bytes, BOUNCE_FROM_DEVICE, 0);
			break;
		case OP_MEMCPY:
			memcpy(b->dst[t], b->src[t], c->bytes);
			/* keep the copy from being optimised away or merged */
			__asm__ volatile("" : : "r"(b->dst[t]) : "memory");
			ret = 0;
			break;
		default:
			if (so + c->bytes > b->spread_size)
				so = 0;
			memcpy(b->spread[t] + so, b->src[t], c->bytes);
			__asm__ volatile("" : : "r"(b->spread[t]) : "memory");
			so += c->bytes;
			ret = 0;
			break;
		}
		if (ret)
			return ret;
	}
	b->spread_off[t] = so;	/* once per batch: the threads share its line */
	return 0;
}

static void barrier(struct bench *b, unsigned int *target)
{
	*target += NTHREADS;
	__atomic_fetch_add(&b->arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&b->arrived, __ATOMIC_ACQUIRE) < *target)
		__builtin_ia32_pause();
}

/* Thread 1: sleeps while 1-thread configurations run. */
static void *helper_fn(void *arg)
{
	struct bench *b = arg;
	uint64_t seen = 0, w;
	unsigned int target = 0;

	for (;;) {
		pthread_mutex_lock(&b->mu);
		while (!b->awake && !b->quit)
			pthread_cond_wait(&b->cv, &b->mu);
		pthread_mutex_unlock(&b->mu);
		if (b->quit)
			return NULL;
		/*
		 * Follow thread 0 command by command.  A sleep command may be
		 * overtaken by the next sample command (then we stay awake); a
		 * sample command never is: thread 0 waits for us at its end.
		 */
		for (;;) {
			while ((w = __atomic_load_n(&b->word, __ATOMIC_ACQUIRE)) == seen)
				__builtin_ia32_pause();
			seen = w;
			if (w & 1)
				break;
			barrier(b, &target);
			if (!b->err[1])
				b->err[1] = batch(b, &b->cfg[b->cur], 1);
			barrier(b, &target);
		}
	}
}

static void command(struct bench *b, bool sleep)
{
	uint64_t w = __atomic_load_n(&b->word, __ATOMIC_RELAXED);

	__atomic_store_n(&b->word, (((w >> 1) + 1) << 1) | sleep, __ATOMIC_RELEASE);
}

static void helper_wake(struct bench *b, bool awake)
{
	pthread_mutex_lock(&b->mu);
	b->awake = awake;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (!awake)
		command(b, true);
}

static uint64_t sample(struct bench *b, unsigned int ci, unsigned int *target)
{
	struct config *c = &b->cfg[ci];
	uint64_t t0, t1;

	if (c->threads == 1) {
		t0 = timing_now_ns();
		b->err[0] = batch(b, c, 0);
		t1 = timing_now_ns();
		return t1 - t0;
	}
	b->cur = ci;
	command(b, false);
	barrier(b, target);
	t0 = timing_now_ns();
	b->err[0] = batch(b, c, 0);
	barrier(b, target);
	t1 = timing_now_ns();
	return t1 - t0;
}

static int run(struct bench *b)
{
	unsigned int rep, i, pass, target = 0;
	uint64_t ns;

	for (rep = 0; rep < b->reps; rep++) {
		for (pass = 1; pass <= NTHREADS; pass++) {
			if (pass == 2)
				helper_wake(b, true);
			for (i = 0; i < b->ncfg; i++) {
				struct config *c = &b->cfg[i];

				if (c->threads != pass)
					continue;
				ns = sample(b, i, &target);
				if (b->err[0] || b->err[1])
					break;
				c->samples[rep] = ns;
			}
			if (pass == 2)
				helper_wake(b, false);
			if (b->err[0] || b->err[1])
				return b->err[0] ? b->err[0] : b->err[1];
		}
	}
	for (i = 0; i < b->ncfg; i++) {
		struct config *c = &b->cfg[i];
		uint64_t ops = c->batch;

		timing_summarize(c->samples, b->reps, &c->sum);
		/* per operation of one thread, rounded to the nearest ns */
		c->sum.min = (c->sum.min + ops / 2) / ops;
		c->sum.p50 = (c->sum.p50 + ops / 2) / ops;
		c->sum.max = (c->sum.max + ops / 2) / ops;
	}
	return 0;
}

static unsigned int batch_for(enum op op, unsigned int bytes)
{
	unsigned int n;

	if (op == OP_MAP_UNMAP)
		return 256;
	n = (1u << 20) / bytes;		/* about 1 MiB copied per sample */
	if (n < 8)
		n = 8;
	if (n > 256)
		n = 256;
	return n;
}

static int setup(struct bench *b, unsigned int areas)
{
	size_t ms = bounce_meta_size(b->pool_size, areas);
	unsigned int t, s, o, i;
	int err;

	if (!ms)
		return -EINVAL;
	if (posix_memalign(&b->meta, 64, ms) || posix_memalign(&b->mem, 4096, b->pool_size))
		return -ENOMEM;
	memset(b->mem, 0, b->pool_size);	/* fault it in before timing */
	err = bounce_pool_init(&b->pool, b->meta, ms, b->mem, DBASE, b->pool_size, areas);
	if (err)
		return err;
	b->spread_size = b->pool_size / areas;
	for (t = 0; t < NTHREADS; t++) {
		if (posix_memalign((void **)&b->spread[t], 4096, b->spread_size))
			return -ENOMEM;
		memset(b->spread[t], 0, b->spread_size);
		if (posix_memalign((void **)&b->src[t], 4096, BOUNCE_MAX_MAPPING) ||
		    posix_memalign((void **)&b->dst[t], 4096, BOUNCE_MAX_MAPPING))
			return -ENOMEM;
		memset(b->src[t], 0x5a + t, BOUNCE_MAX_MAPPING);
		memset(b->dst[t], 0, BOUNCE_MAX_MAPPING);
	}
	for (t = 1; t <= NTHREADS; t++)
		for (s = 0; s < NSIZES; s++)
			for (o = 0; o < NOPS; o++)
				b->cfg[b->ncfg++] = (struct config){
					.op = o, .bytes = sizes[s], .threads = t,
					.batch = batch_for(o, sizes[s]),
				};
	for (i = 0; i < b->ncfg; i++) {
		b->cfg[i].samples = calloc(b->reps, sizeof(uint64_t));
		if (!b->cfg[i].samples)
			return -ENOMEM;
	}
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	err = pthread_create(&b->helper, NULL, helper_fn, b);
	return -err;
}

static void teardown(struct bench *b)
{
	unsigned int i, t;

	if (b->helper) {
		pthread_mutex_lock(&b->mu);
		b->quit = true;
		pthread_cond_signal(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->helper, NULL);
	}
	for (i = 0; i < b->ncfg; i++)
		free(b->cfg[i].samples);
	for (t = 0; t < NTHREADS; t++) {
		free(b->src[t]);
		free(b->dst[t]);
		free(b->spread[t]);
	}
	free(b->meta);
	free(b->mem);
}

static const struct config *find(const struct bench *b, enum op op,
				 unsigned int bytes, unsigned int threads)
{
	unsigned int i;

	for (i = 0; i < b->ncfg; i++)
		if (b->cfg[i].op == op && b->cfg[i].bytes == bytes &&
		    b->cfg[i].threads == threads)
			return &b->cfg[i];
	return NULL;
}

struct target {
	const char *name;
	double value, limit;
	bool at_most, met;
};

#define NTARGETS 4

/* All threads' MB/s of a configuration, from its median latency. */
static double mbps(const struct config *c)
{
	return c->sum.p50 ? (double)c->bytes * c->threads * 1e3 / (double)c->sum.p50 : 0;
}

/*
 * The targets; sp[0..1]: bounce_to_device / memcpy_spread bandwidth at 64
 * and 256 KiB (what is left once both copies go to cold memory).
 */
static unsigned int targets(const struct bench *b, struct target *tg, double *sp)
{
	const struct config *m1 = find(b, OP_MAP_UNMAP, 4096, 1);
	const struct config *m2 = find(b, OP_MAP_UNMAP, 4096, 2);
	unsigned int n = 0, s;

	tg[n++] = (struct target){ "map_unmap 4 KiB, 1 thread, median ns",
				   (double)m1->sum.p50, 100, true, false };
	for (s = 2; s < NSIZES; s++) {
		const struct config *bc = find(b, OP_BOUNCE_TO, sizes[s], 1);
		const struct config *mc = find(b, OP_MEMCPY, sizes[s], 1);

		tg[n++] = (struct target){
			s == 2 ? "bounce_to_device / memcpy bandwidth, 64 KiB" :
				 "bounce_to_device / memcpy bandwidth, 256 KiB",
			(double)mc->sum.p50 / (double)bc->sum.p50, 0.8, false, false };
	}
	for (s = 2; s < NSIZES; s++) {
		const struct config *bc = find(b, OP_BOUNCE_TO, sizes[s], 1);
		const struct config *mc = find(b, OP_MEMCPY_SPREAD, sizes[s], 1);

		sp[s - 2] = (double)mc->sum.p50 / (double)bc->sum.p50;
	}
	tg[n++] = (struct target){ "map_unmap 4 KiB, 2 threads / 1 thread throughput",
				   mbps(m2) / mbps(m1), 1.6, false, false };
	for (s = 0; s < n; s++)
		tg[s].met = tg[s].at_most ? tg[s].value <= tg[s].limit :
					    tg[s].value >= tg[s].limit;
	return n;
}

static void print_table(const struct bench *b)
{
	struct target tg[NTARGETS];
	unsigned int i, n;
	double sp[2];

	printf("latency: ns per operation of one thread (2 threads: while the other runs);\n"
	       "MB/s: all threads together, from the median; 2thr_gain: MB/s of 2 threads\n"
	       "over 1 thread's\n");
	printf("%-18s %8s %7s %10s %10s %10s %9s\n", "op", "bytes", "threads",
	       "lat_ns_min", "lat_ns_med", "MB/s", "2thr_gain");
	for (i = 0; i < b->ncfg; i++) {
		const struct config *c = &b->cfg[i];
		const struct config *one = find(b, c->op, c->bytes, 1);
		char gain[16] = "";

		if (c->threads == 2)
			snprintf(gain, sizeof(gain), "%.2fx", mbps(c) / mbps(one));
		printf("%-18s %8u %7u %10llu %10llu %10.0f %9s\n", op_names[c->op], c->bytes,
		       c->threads, (unsigned long long)c->sum.min,
		       (unsigned long long)c->sum.p50, mbps(c), gain);
	}
	n = targets(b, tg, sp);
	printf("\ntargets (this run):\n");
	for (i = 0; i < n; i++)
		printf("  %-52s %8.2f (target %s %.1f): %s\n", tg[i].name, tg[i].value,
		       tg[i].at_most ? "<=" : ">=", tg[i].limit, tg[i].met ? "met" : "NOT met");
	{
		const struct config *m1 = find(b, OP_MAP_UNMAP, 4096, 1);
		const struct config *m2 = find(b, OP_MAP_UNMAP, 4096, 2);

		printf("  map_unmap 4 KiB, 2 threads / 1 thread throughput on lat_ns_min: %.2f "
		       "(the cores are shared: medians move with other load)\n",
		       2.0 * (double)m1->sum.min / (double)m2->sum.min);
	}
	printf("  bounce_to_device / memcpy_spread (both into cold memory): 64 KiB %.2f, "
	       "256 KiB %.2f\n", sp[0], sp[1]);
	printf("  (the pool's next-fit index walks the %llu KiB area like swiotlb's, so\n"
	       "   a bounce writes memory the cache has not seen; a smaller pool,\n"
	       "   --pool-size, keeps it in cache)\n",
	       (unsigned long long)(b->spread_size >> 10));
	printf("  an I/O write pays bounce_to_device (copy in), an I/O read\n"
	       "  bounce_from_device (copy in at map, as Linux since aa6f8dcbab47, and\n"
	       "  copy out at unmap)\n");
}

static void print_json(const struct bench *b, unsigned int areas)
{
	struct target tg[NTARGETS];
	struct json_w w;
	unsigned int i, n;
	double sp[2];

	json_w_init(&w, stdout);
	json_w_obj(&w, NULL);
	json_w_u64(&w, "pool_bytes", b->pool_size);
	json_w_u64(&w, "areas", areas);
	json_w_u64(&w, "reps", b->reps);
	json_w_str(&w, "latency", "per operation of one thread");
	json_w_arr(&w, "results");
	for (i = 0; i < b->ncfg; i++) {
		const struct config *c = &b->cfg[i];

		json_w_obj(&w, NULL);
		json_w_str(&w, "op", op_names[c->op]);
		json_w_u64(&w, "bytes", c->bytes);
		json_w_u64(&w, "threads", c->threads);
		json_w_u64(&w, "ns_min", c->sum.min);
		json_w_u64(&w, "ns_median", c->sum.p50);
		json_w_u64(&w, "ns_max", c->sum.max);
		json_w_fixed(&w, "mbps", mbps(c), 1);
		json_w_u64(&w, "batch", c->batch);
		json_w_end(&w);
	}
	json_w_end(&w);
	json_w_arr(&w, "targets");
	n = targets(b, tg, sp);
	for (i = 0; i < n; i++) {
		json_w_obj(&w, NULL);
		json_w_str(&w, "name", tg[i].name);
		json_w_fixed(&w, "value", tg[i].value, 3);
		json_w_fixed(&w, "limit", tg[i].limit, 1);
		json_w_bool(&w, "at_most", tg[i].at_most);
		json_w_bool(&w, "met", tg[i].met);
		json_w_end(&w);
	}
	json_w_end(&w);
	json_w_obj(&w, "bounce_vs_memcpy_spread");
	json_w_fixed(&w, "65536", sp[0], 3);
	json_w_fixed(&w, "262144", sp[1], 3);
	json_w_end(&w);
	json_w_end(&w);
	putchar('\n');
}

static void usage(FILE *f, const struct cli_opt *opts)
{
	cli_usage(f, "gmemkit bounce-bench", opts,
		  "bounce pool map+unmap (no copy), map+copy+unmap to the device (one "
		  "copy: an I/O write) and from it (copy in + copy out: an I/O read), "
		  "plain memcpy, and memcpy into a buffer walked like the pool "
		  "(memcpy_spread) of 512 B, 4 KiB, 64 KiB, 256 KiB; 1 and 2 threads "
		  "(one area each).", NULL);
}

static int cmd_bounce_bench(int argc, char **argv)
{
	unsigned int reps = 200, areas = NTHREADS;
	uint64_t pool_size = 64ull << 20;
	struct bench *b;
	bool json = false;
	const struct cli_opt opts[] = {
		CLI_FLAG("--json", &json, .help = "one JSON object instead of the table"),
		CLI_UINT("--reps", &reps, 5, 100000,
			 .help = "samples per configuration (default 200)"),
		CLI_SIZE("--pool-size", &pool_size, 2 * BOUNCE_SEG_SIZE, 1ull << 30,
			 .align = 2 * BOUNCE_SEG_SIZE,
			 .help = "pool size (default 64M, swiotlb's default "
				 "IO_TLB_DEFAULT_SIZE; SEV/TDX guests: 6% of RAM clamped "
				 "to [64M, 1G])"),
		{ 0 }
	};
	int err;

	err = cli_parse(argc, argv, opts, usage);
	if (err)
		return err > 0 ? 0 : 2;
	b = calloc(1, sizeof(*b));
	if (!b)
		return 1;
	b->reps = reps;
	b->pool_size = pool_size;
	err = setup(b, areas);
	if (!err)
		err = run(b);
	if (err) {
		cli_err("%s\n", strerror(-err));
	} else if (json) {
		print_json(b, areas);
	} else {
		printf("bounce-bench: %u reps, pool %llu KiB in %u areas (2 KiB slots, "
		       "128-slot segments), ns per operation\n", reps,
		       (unsigned long long)(pool_size >> 10), areas);
		print_table(b);
	}
	teardown(b);
	free(b);
	return err ? 1 : 0;
}

GMEM_COMMAND("bounce-bench", cmd_bounce_bench,
	     "bounce pool map/unmap and copy cost against memcpy (--json)");
