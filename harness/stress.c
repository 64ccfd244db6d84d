// SPDX-License-Identifier: GPL-2.0
/*
 * Stress run of the I/O path: host threads play the guest's virtio-blk
 * driver against the real device, gmem and bounce pool.  The model and the
 * checks are described in include/gmemkit/stress.h.
 *
 * The driver is the guest's own (guest/virtio_blk.c, built for the host):
 * its rings and request headers sit where the guest puts them, in the
 * always-shared pool of the ABI layout.  Guest RAM (GPA == gmem offset):
 *   GMEM_ABI_POOL_GPA   the driver's rings and headers (guest/vblk.h; shared)
 *   GMEM_ABI_TEST_GPA   scratch area for the converter (starts private)
 *   + 1 MiB             shared-mode buffers, max_io per slot (shared)
 *   ...                 private buffers, max_io per slot (inplace, batch,
 *                       bounce source)
 *   ...                 bounce pool (shared once, never converted)
 * Data carries the one sector format of gmemkit/sector.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "harness/blk_fault.h"
#include "gmemkit/bounce.h"
#include "gmemkit/gmem.h"
#include "gmemkit/sector.h"
#include "harness/stress.h"
#include "harness/violation.h"
#include "guest/vblk.h"	/* the guest's driver, built for the host */
#include "gmemkit/timing.h"
#include "gmemkit/virtio.h"
#include "gmemkit/virtio_blk.h"

#define PG		GMEM_PAGE_SIZE
#define SECT		VIRTIO_BLK_SECTOR_SIZE
#define SECT_PER_BLK	(PG / SECT)
#define RING_GPA	GMEM_ABI_POOL_GPA
#define RING_AREA	((VBLK_POOL_USED + PG - 1) & ~(PG - 1))
#define SCRATCH_GPA	GMEM_ABI_TEST_GPA
#define SCRATCH_PAGES	256U
#define BUF_GPA		(SCRATCH_GPA + SCRATCH_PAGES * PG)
#define DESC_PER_SLOT	(STRESS_MAX_SEGS + 2)
#define QSIZE_MAX	1024U
#define DRAIN_NS	(10ULL * 1000000000ULL)
#define TAG_BASE	0x53540000U	/* "ST" | thread */
#define MAX_BATCH	8U

/*
 * SLOT_SUBMITTED: on the ring; done once the driver's vblk_poll() (by any
 * thread) marks its request.  SLOT_HELD: completed, but part of an inplace
 * batch that is still in flight; the slot (and its buffer, inside the
 * batch's shared span) is reused only after the batch's single unshare.
 */
enum { SLOT_FREE = 0, SLOT_SUBMITTED = 1, SLOT_HELD = 3 };

struct seg {
	uint64_t gpa;			/* what the device is given */
	uint64_t orig;			/* the guest buffer (bounce source) */
	uint32_t len;
};

struct slot {
	pthread_mutex_t lock;		/* owner vs converter */
	_Atomic uint64_t state;		/* SLOT_* */
	unsigned int idx;		/* global slot number */
	struct vblk_req req;		/* the driver's: id == idx */
	int mode;
	uint32_t type;			/* VIRTIO_BLK_T_* */
	uint64_t blk, nblk;		/* 4 KiB blocks on the disk */
	uint64_t len;
	uint32_t gen;
	uint64_t base;			/* GPA of the guest buffer */
	unsigned int nseg;
	struct seg seg[STRESS_MAX_SEGS];
	int batch;			/* first slot of its batch, or -1 */
};

struct batch {
	uint64_t off, len;
	unsigned int count, remaining;
};

struct stress;

struct driver {
	struct stress *s;
	unsigned int t;
	pthread_t th;
	uint64_t rng;
	struct slot *slots;
	struct batch batch[STRESS_MAX_QD];
	uint8_t *busy;			/* per 4 KiB block of the region */
	uint64_t blk0, nblk;		/* the thread's region */
	uint32_t next_gen;
	unsigned int inflight;
	/* counters (owner only; summed after join) */
	uint64_t submitted, completed, ok, ioerr, reads, writes, flushes;
	uint64_t bytes_read, bytes_written, by_mode[STRESS_NMODES], batches;
	uint64_t sectors_verified, bounce_enospc, shares, unshares, mismatches;
	uint64_t lost;
};

struct stress {
	struct gmem_stress_config cfg;
	struct gmem_stress_result *res;
	struct gmem *g;
	uint8_t *mem;			/* memslot mapping: the guest's view */
	uint64_t mem_size;
	struct virtio_blk *b;
	struct virtio_mmio_dev *m;
	struct blk_backend *be;		/* what the device got */
	bool faulty;
	int notify_fd;
	uint16_t qsize;
	unsigned int nslots;
	struct vblk_info info;
	uint64_t shbuf_gpa, priv_gpa, pool_gpa, pool_size;
	struct bounce_pool pool;
	void *pool_meta;
	bool verify;
	uint32_t *lo, *hi;		/* per sector: possible generations */
	struct driver drv[STRESS_MAX_THREADS];
	atomic_bool stop_submit, stop_conv;
	pthread_t conv;
	uint64_t conv_rng;
	uint8_t scratch_model[SCRATCH_PAGES];
	/* converter counters */
	uint64_t scratch_convs, steal_tries, steal_refused, steal_late;
	atomic_uint_fast64_t failures;
	pthread_mutex_t fail_lock;
	char first_failure[256];
	char path[64];
};

static const char *const mode_names[STRESS_NMODES] = {
	[STRESS_SHARED] = "shared",
	[STRESS_BOUNCE] = "bounce",
	[STRESS_INPLACE] = "inplace",
	[STRESS_INPLACE_BATCH] = "inplace-batch",
};

const char *gmem_stress_mode_name(enum gmem_stress_mode m)
{
	return (unsigned int)m < STRESS_NMODES ? mode_names[m] : NULL;
}

__attribute__((format(printf, 2, 3)))
static void failf(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&s->failures, 1) == 0) {
		pthread_mutex_lock(&s->fail_lock);
		va_start(ap, fmt);
		vsnprintf(s->first_failure, sizeof(s->first_failure), fmt, ap);
		va_end(ap);
		pthread_mutex_unlock(&s->fail_lock);
	}
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

static void pause_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/* ---- sector contents (gmemkit/sector.h) -------------------------------------- */

static uint32_t tag_of(const struct driver *d)
{
	return TAG_BASE | d->t;
}

/*
 * Check one sector read back against the possible generations [lo, hi]
 * (0: never written, all zeros).  Returns the generation found, or -1 with
 * a reason.
 */
static long check_sector(const uint8_t *p, uint64_t lba, uint32_t tag,
			 uint32_t lo, uint32_t hi, const char **why)
{
	uint32_t gen, t;

	switch (sector_decode(p, lba, &gen, &t)) {
	case SECTOR_BLANK:
		if (lo == 0)
			return 0;
		*why = "never written, but a write completed";
		return -1;
	case SECTOR_BAD:
		*why = "sector number or check word wrong";
		return -1;
	case SECTOR_VALID:
		break;
	}
	if (t != tag) {
		*why = "written by another thread";
		return -1;
	}
	if (gen < lo || gen > hi || !gen) {
		*why = "stale or unknown generation";
		return -1;
	}
	return gen;
}

/* ---- guest memory helpers --------------------------------------------------- */

static uint64_t shbuf(struct stress *s, const struct slot *sl)
{
	return s->shbuf_gpa + (uint64_t)sl->idx * s->cfg.max_io;
}

static uint64_t privbuf(struct stress *s, const struct slot *sl)
{
	return s->priv_gpa + (uint64_t)sl->idx * s->cfg.max_io;
}

/* ---- the guest's driver, on host threads -------------------------------------- */

/* The run the driver is bound to: one at a time (run_lock). */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stress *cur;

uint32_t vblk_mmio_read(uint32_t off)
{
	uint32_t v = 0;

	virtio_mmio_access(cur->m, off, &v, 4, false);
	return v;
}

void vblk_mmio_write(uint32_t off, uint32_t v)
{
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY)
		eventfd_write(cur->notify_fd, 1);	/* what KVM_IOEVENTFD does */
	else
		virtio_mmio_access(cur->m, off, &v, 4, true);
}

void *vblk_gpa_ptr(uint64_t gpa)
{
	return cur->mem + gpa;
}

/* Post a prepared slot's request; the caller kicks. */
static void post(struct driver *d, struct slot *sl)
{
	struct vblk_seg segs[STRESS_MAX_SEGS];
	unsigned int i;
	int ret;

	for (i = 0; i < sl->nseg; i++) {
		segs[i].gpa = sl->seg[i].gpa;
		segs[i].len = sl->seg[i].len;
	}
	atomic_store(&sl->state, SLOT_SUBMITTED);
	ret = vblk_submit(&sl->req, sl->type, sl->blk * SECT_PER_BLK, segs, sl->nseg,
			  sl->type == VIRTIO_BLK_T_IN);
	/* check_config() sized the queue for every slot's longest chain */
	if (ret)
		failf(d->s, "vblk_submit: %d with a queue sized for all slots", ret);
}

static bool slot_done(struct slot *sl)
{
	return atomic_load(&sl->state) == SLOT_SUBMITTED &&
	       __atomic_load_n(&sl->req.done, __ATOMIC_ACQUIRE);
}

/* ---- driver: preparing a request --------------------------------------------- */

static void mark_blocks(struct driver *d, uint64_t blk, uint64_t n, uint8_t v)
{
	memset(d->busy + (blk - d->blk0), v, n);
}

static bool blocks_free(struct driver *d, uint64_t blk, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		if (d->busy[blk - d->blk0 + i])
			return false;
	return true;
}

/* Random size (pages, log-uniform) and a free place for it; false if none. */
static bool pick_range(struct driver *d, struct slot *sl)
{
	uint64_t maxp = d->s->cfg.max_io / PG, n, blk;
	unsigned int bits = 0, tries;

	while ((2ULL << bits) <= maxp)
		bits++;
	n = 1ULL << (rnd(&d->rng) % (bits + 1));
	n += rnd(&d->rng) % n;
	if (n > maxp)
		n = maxp;
	if (n > d->nblk)
		n = d->nblk;
	for (tries = 0; tries < 8; tries++) {
		blk = d->blk0 + rnd(&d->rng) % (d->nblk - n + 1);
		if (blocks_free(d, blk, n)) {
			sl->blk = blk;
			sl->nblk = n;
			sl->len = n * PG;
			return true;
		}
	}
	return false;
}

/* Split the buffer into near-equal page-multiple segments. */
static void split(struct driver *d, struct slot *sl, bool bounce)
{
	uint64_t pages = sl->nblk, off = 0;
	unsigned int i, n, lo;

	lo = bounce ? (unsigned int)((pages + 63) / 64) : 1;
	n = lo + (unsigned int)(rnd(&d->rng) % STRESS_MAX_SEGS);
	if (n > STRESS_MAX_SEGS)
		n = STRESS_MAX_SEGS;
	if (n > pages)
		n = (unsigned int)pages;
	if (n < lo)
		n = lo;
	for (i = 0; i < n; i++) {
		uint64_t p = pages / n + (i < pages % n);

		sl->seg[i].orig = sl->base + off;
		sl->seg[i].gpa = sl->base + off;
		sl->seg[i].len = (uint32_t)(p * PG);
		off += p * PG;
	}
	sl->nseg = n;
}

static void fill_data(struct driver *d, struct slot *sl)
{
	uint8_t *p = d->s->mem + sl->base;
	uint64_t i, sectors = sl->len / SECT, lba = sl->blk * SECT_PER_BLK;

	for (i = 0; i < sectors; i++) {
		if (sl->type == VIRTIO_BLK_T_IN)
			sector_poison(p + i * SECT);
		else
			sector_stamp(p + i * SECT, lba + i, sl->gen, tag_of(d));
	}
}

static void unmap_bounce(struct driver *d, struct slot *sl, unsigned int n)
{
	enum bounce_dir dir = sl->type == VIRTIO_BLK_T_IN ? BOUNCE_FROM_DEVICE :
							    BOUNCE_TO_DEVICE;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = bounce_unmap(&d->s->pool, sl->seg[i].gpa, sl->seg[i].len,
				   dir, 0);
		if (ret)
			failf(d->s, "bounce_unmap: %d", ret);
	}
}

/* Bounce every segment; -ENOSPC when the pool is full (nothing mapped). */
static int map_bounce(struct driver *d, struct slot *sl)
{
	enum bounce_dir dir = sl->type == VIRTIO_BLK_T_IN ? BOUNCE_FROM_DEVICE :
							    BOUNCE_TO_DEVICE;
	unsigned int i;
	int ret;

	for (i = 0; i < sl->nseg; i++) {
		ret = bounce_map(&d->s->pool, d->t, d->s->mem + sl->seg[i].orig,
				 sl->seg[i].orig, sl->seg[i].len, dir, NULL, 0,
				 &sl->seg[i].gpa);
		if (ret) {
			unmap_bounce(d, sl, i);
			if (ret != -ENOSPC)
				failf(d->s, "bounce_map: %d", ret);
			return ret;
		}
	}
	return 0;
}

static void count_submit(struct driver *d, struct slot *sl)
{
	d->submitted++;
	d->inflight++;
	d->by_mode[sl->mode]++;
	if (sl->type == VIRTIO_BLK_T_IN)
		d->reads++;
	else if (sl->type == VIRTIO_BLK_T_OUT)
		d->writes++;
	else
		d->flushes++;
}

static uint32_t pick_type(struct driver *d)
{
	uint64_t r = rnd(&d->rng) % 100;

	if (r < 2)
		return VIRTIO_BLK_T_FLUSH;
	return r < 51 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;
}

/*
 * Prepare slot sl for one request in mode m (not batch-specific): size,
 * place, data.  False if no free place was found.
 */
static bool prepare(struct driver *d, struct slot *sl, int m)
{
	sl->mode = m;
	sl->batch = -1;
	sl->type = pick_type(d);
	if (sl->type == VIRTIO_BLK_T_FLUSH) {
		sl->mode = STRESS_SHARED;
		sl->nseg = 0;
		sl->nblk = sl->len = sl->blk = 0;
		return true;
	}
	if (!pick_range(d, sl))
		return false;
	sl->base = m == STRESS_SHARED ? shbuf(d->s, sl) : privbuf(d->s, sl);
	if (sl->type == VIRTIO_BLK_T_OUT)
		sl->gen = d->next_gen++;
	fill_data(d, sl);
	split(d, sl, m == STRESS_BOUNCE);
	return true;
}

/* One request in shared, bounce or inplace mode; true if submitted. */
static bool submit_one(struct driver *d, struct slot *sl, int m)
{
	struct stress *s = d->s;
	int ret;

	pthread_mutex_lock(&sl->lock);
	if (!prepare(d, sl, m))
		goto skip;
	if (sl->mode == STRESS_BOUNCE && map_bounce(d, sl)) {
		d->bounce_enospc++;
		goto skip;
	}
	if (sl->mode == STRESS_INPLACE) {
		ret = gmem_share(s->g, sl->base, sl->len);
		if (ret) {
			failf(s, "inplace share of %#llx+%llu: %d",
			      (unsigned long long)sl->base,
			      (unsigned long long)sl->len, ret);
			goto skip;
		}
		d->shares++;
	}
	if (sl->nblk)
		mark_blocks(d, sl->blk, sl->nblk, 1);
	post(d, sl);
	count_submit(d, sl);
	pthread_mutex_unlock(&sl->lock);
	vblk_kick();
	return true;
skip:
	pthread_mutex_unlock(&sl->lock);
	return false;
}

/* inplace-batch: k requests in consecutive slots, one share for all. */
static bool submit_batch(struct driver *d, unsigned int first, unsigned int k)
{
	struct stress *s = d->s;
	struct batch *bt = &d->batch[first];
	unsigned int i, n = 0;
	uint64_t end = 0;
	int ret;

	for (i = 0; i < k; i++) {
		struct slot *sl = &d->slots[first + i];

		pthread_mutex_lock(&sl->lock);
		if (!prepare(d, sl, STRESS_INPLACE_BATCH) ||
		    sl->type == VIRTIO_BLK_T_FLUSH) {
			pthread_mutex_unlock(&sl->lock);
			break;
		}
		sl->batch = (int)first;
		mark_blocks(d, sl->blk, sl->nblk, 1);
		end = sl->base + sl->len;
		n++;
		/* keep the lock until the batch is published */
	}
	if (!n)
		return false;
	bt->off = privbuf(s, &d->slots[first]);
	bt->len = end - bt->off;
	bt->count = bt->remaining = n;
	ret = gmem_share(s->g, bt->off, bt->len);
	if (ret)
		failf(s, "batch share of %#llx+%llu: %d",
		      (unsigned long long)bt->off, (unsigned long long)bt->len,
		      ret);
	else
		d->shares++;
	for (i = 0; i < n; i++) {
		struct slot *sl = &d->slots[first + i];

		if (ret) {
			mark_blocks(d, sl->blk, sl->nblk, 0);
		} else {
			post(d, sl);
			count_submit(d, sl);
		}
		pthread_mutex_unlock(&sl->lock);
	}
	if (ret)
		return false;
	d->batches++;
	vblk_kick();		/* one notification for the batch */
	return true;
}

/* ---- driver: completion ------------------------------------------------------- */

static void verify_read(struct driver *d, struct slot *sl)
{
	struct stress *s = d->s;
	const uint8_t *p = s->mem + sl->base;
	uint64_t i, n = sl->len / SECT, lba0 = sl->blk * SECT_PER_BLK;
	const char *why = "";

	for (i = 0; i < n; i++) {
		uint64_t lba = lba0 + i;
		long g = check_sector(p + i * SECT, lba, tag_of(d), s->lo[lba],
				      s->hi[lba], &why);

		if (g < 0) {
			d->mismatches++;
			failf(s, "thread %u: sector %llu (%s read): %s "
			      "(expected generation %u..%u)", d->t,
			      (unsigned long long)lba, mode_names[sl->mode], why,
			      s->lo[lba], s->hi[lba]);
			continue;
		}
		s->lo[lba] = s->hi[lba] = (uint32_t)g;	/* settled */
		d->sectors_verified++;
	}
}

static void model_write(struct driver *d, struct slot *sl, bool okay)
{
	struct stress *s = d->s;
	uint64_t i, n = sl->len / SECT, lba0 = sl->blk * SECT_PER_BLK;

	for (i = 0; i < n; i++) {
		if (okay)
			s->lo[lba0 + i] = sl->gen;
		s->hi[lba0 + i] = sl->gen;
	}
}

/* Returns the state the slot goes to: HELD until the batch is done. */
static uint64_t end_batch(struct driver *d, struct slot *sl)
{
	struct batch *bt = &d->batch[sl->batch];
	unsigned int i;
	int ret;

	if (--bt->remaining)
		return SLOT_HELD;
	ret = gmem_unshare(d->s->g, bt->off, bt->len);
	if (ret)
		failf(d->s, "batch unshare after completion: %d", ret);
	else
		d->unshares++;
	for (i = 0; i < bt->count; i++)
		if (&d->slots[sl->batch + i] != sl)
			atomic_store(&d->slots[sl->batch + i].state, SLOT_FREE);
	return SLOT_FREE;
}

static void check_completion(struct driver *d, struct slot *sl, uint32_t ulen,
			     uint8_t status)
{
	uint32_t want = 1;

	if (status == VIRTIO_BLK_S_OK && sl->type == VIRTIO_BLK_T_IN)
		want += (uint32_t)sl->len;
	if (status != VIRTIO_BLK_S_OK && status != VIRTIO_BLK_S_IOERR)
		failf(d->s, "head %u: status %#x", sl->req.head, status);
	else if (!d->s->faulty && status != VIRTIO_BLK_S_OK)
		failf(d->s, "head %u: IOERR without injected faults", sl->req.head);
	if (ulen != want)
		failf(d->s, "head %u: used len %u, want %u", sl->req.head, ulen, want);
}

static void harvest(struct driver *d, struct slot *sl)
{
	struct stress *s = d->s;
	uint64_t next = SLOT_FREE;
	uint8_t status;
	int ret;

	pthread_mutex_lock(&sl->lock);
	status = sl->req.status;
	check_completion(d, sl, sl->req.used_len, status);
	if (sl->mode == STRESS_BOUNCE)
		unmap_bounce(d, sl, sl->nseg);
	if (sl->mode == STRESS_INPLACE) {
		ret = gmem_unshare(s->g, sl->base, sl->len);
		if (ret)
			failf(s, "inplace unshare after completion: %d", ret);
		else
			d->unshares++;
	}
	if (sl->mode == STRESS_INPLACE_BATCH)
		next = end_batch(d, sl);
	d->completed++;
	d->inflight--;
	if (status == VIRTIO_BLK_S_OK) {
		d->ok++;
		if (sl->type == VIRTIO_BLK_T_IN)
			d->bytes_read += sl->len;
		else if (sl->type == VIRTIO_BLK_T_OUT)
			d->bytes_written += sl->len;
	} else {
		d->ioerr++;
	}
	if (s->verify && sl->type == VIRTIO_BLK_T_IN && status == VIRTIO_BLK_S_OK)
		verify_read(d, sl);
	if (s->verify && sl->type == VIRTIO_BLK_T_OUT)
		model_write(d, sl, status == VIRTIO_BLK_S_OK);
	if (sl->nblk)
		mark_blocks(d, sl->blk, sl->nblk, 0);
	atomic_store(&sl->state, next);
	pthread_mutex_unlock(&sl->lock);
}

static unsigned int harvest_all(struct driver *d)
{
	unsigned int i, n = 0;

	for (i = 0; i < d->s->cfg.qd; i++) {
		struct slot *sl = &d->slots[i];

		if (slot_done(sl)) {
			harvest(d, sl);
			n++;
		}
	}
	return n;
}

/* Submit what the free slots allow; true if anything went out. */
static bool submit_some(struct driver *d)
{
	unsigned int qd = d->s->cfg.qd, i, run, m, tries;
	uint64_t r;

	for (i = 0; i < qd; i++)
		if (atomic_load(&d->slots[i].state) == SLOT_FREE)
			break;
	if (i == qd)
		return false;
	for (tries = 0; tries < 16; tries++) {
		r = rnd(&d->rng) % STRESS_NMODES;
		if (d->s->cfg.modes & (1U << r))
			break;
	}
	if (!(d->s->cfg.modes & (1U << r)))
		return false;
	m = (unsigned int)r;
	if (m != STRESS_INPLACE_BATCH)
		return submit_one(d, &d->slots[i], (int)m);
	for (run = 1; i + run < qd && run < MAX_BATCH &&
	     atomic_load(&d->slots[i + run].state) == SLOT_FREE; run++)
		;
	return submit_batch(d, i, 1 + (unsigned int)(rnd(&d->rng) % run));
}

static void *driver_thread(void *arg)
{
	struct driver *d = arg;
	struct stress *s = d->s;
	uint64_t deadline;
	unsigned int i;
	bool busy;

	while (!atomic_load_explicit(&s->stop_submit, memory_order_relaxed)) {
		vblk_poll();
		busy = harvest_all(d) > 0;
		busy |= submit_some(d);
		if (!busy)
			pause_us(20);
	}
	if (s->cfg.abandon)
		return NULL;		/* the guest stops mid-I/O */
	deadline = gmem_now_ns() + DRAIN_NS;
	while (d->inflight && gmem_now_ns() < deadline) {
		vblk_poll();
		if (!harvest_all(d))
			pause_us(50);
	}
	for (i = 0; i < s->cfg.qd; i++)
		if (atomic_load(&d->slots[i].state) != SLOT_FREE)
			d->lost++;
	if (d->lost)
		failf(s, "thread %u: %llu requests never completed", d->t,
		      (unsigned long long)d->lost);
	return NULL;
}

/* ---- converter ------------------------------------------------------------------ */

static void scratch_op(struct stress *s)
{
	uint64_t r = rnd(&s->conv_rng);
	unsigned int first = (unsigned int)(r % SCRATCH_PAGES), n, i;
	bool share = (r >> 20) & 1;
	int ret;

	n = 1 + (unsigned int)((r >> 32) % 32);
	if (first + n > SCRATCH_PAGES)
		n = SCRATCH_PAGES - first;
	ret = share ? gmem_share(s->g, SCRATCH_GPA + first * PG, n * PG) :
		      gmem_unshare(s->g, SCRATCH_GPA + first * PG, n * PG);
	if (ret) {
		failf(s, "scratch %s of %u pages: %d",
		      share ? "share" : "unshare", n, ret);
		return;
	}
	for (i = first; i < first + n; i++)
		s->scratch_model[i] = share;
	s->scratch_convs++;
	i = (unsigned int)((r >> 40) % SCRATCH_PAGES);
	if (gmem_page_state(s->g, SCRATCH_GPA + i * PG) !=
	    (s->scratch_model[i] ? GMEM_SHARED : GMEM_PRIVATE))
		failf(s, "scratch page %u: state differs from the model", i);
}

/* Try to unshare the first segment of an in-flight request the device holds. */
static void steal_op(struct stress *s)
{
	uint64_t r = rnd(&s->conv_rng);
	struct driver *d = &s->drv[r % s->cfg.threads];
	struct slot *sl = &d->slots[(r >> 16) % s->cfg.qd];
	uint64_t gpa, len;
	int ret;

	if (pthread_mutex_trylock(&sl->lock))
		return;
	if (atomic_load(&sl->state) != SLOT_SUBMITTED || sl->req.done || !sl->nseg)
		goto out;
	gpa = sl->seg[0].gpa;
	len = sl->seg[0].len;
	if ((gpa | len) & (PG - 1) || gmem_page_pins(s->g, gpa) <= 0)
		goto out;		/* not taken by the device (yet) */
	s->steal_tries++;
	ret = gmem_unshare(s->g, gpa, len);
	if (ret == -EBUSY) {
		s->steal_refused++;
	} else if (!ret) {
		/* Finished between the look and the unshare: give it back. */
		s->steal_late++;
		ret = gmem_share(s->g, gpa, len);
		if (ret)
			failf(s, "share back after a late unshare: %d", ret);
	} else {
		failf(s, "unshare of an in-flight buffer: %d (want -EBUSY)", ret);
	}
out:
	pthread_mutex_unlock(&sl->lock);
}

static void *converter_thread(void *arg)
{
	struct stress *s = arg;

	while (!atomic_load_explicit(&s->stop_conv, memory_order_relaxed)) {
		if (rnd(&s->conv_rng) & 1)
			scratch_op(s);
		else
			steal_op(s);
		pause_us(50);
	}
	return NULL;
}

/* ---- setup ---------------------------------------------------------------------- */

static int check_config(const struct gmem_stress_config *c, unsigned int *qsize)
{
	unsigned int descs, q = 1;

	if (!c->duration_ms || !c->threads || c->threads > STRESS_MAX_THREADS ||
	    !c->qd || c->qd > STRESS_MAX_QD || c->max_io < PG ||
	    c->max_io > STRESS_MAX_IO || c->max_io % PG || !c->modes ||
	    (c->modes & ~STRESS_MODES_ALL))
		return -EINVAL;
	if (c->backend && strcmp(c->backend, "file") &&
	    strcmp(c->backend, "file-sync") && strcmp(c->backend, "null"))
		return -EINVAL;
	if (c->pool_size % BOUNCE_SEG_SIZE || c->disk_size % PG)
		return -EINVAL;
	descs = c->threads * c->qd * DESC_PER_SLOT;
	if (descs > QSIZE_MAX)
		return -EINVAL;
	while (q < descs)
		q <<= 1;
	*qsize = q;
	return 0;
}

static int open_backend(struct stress *s)
{
	const char *kind = s->cfg.backend ? s->cfg.backend : "file";
	struct blk_backend *be, *w;
	int fd, ret;

	if (!strcmp(kind, "null")) {
		ret = blk_backend_null(s->cfg.disk_size, &be);
	} else {
		const char *dir = getenv("TMPDIR");

		snprintf(s->path, sizeof(s->path), "%s/gmemkit-stress.XXXXXX",
			 dir && strlen(dir) < 32 ? dir : "/tmp");
		fd = mkstemp(s->path);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)s->cfg.disk_size)) {
			ret = -errno;
			close(fd);
			unlink(s->path);
			return ret;
		}
		close(fd);
		ret = blk_backend_file(s->path,
				       strcmp(kind, "file") ? BLK_FILE_SYNC : 0,
				       BLK_FILE_DEPTH, &be);
		unlink(s->path);
		s->verify = true;
	}
	if (ret)
		return ret;
	s->res->engine = be->engine;
	if (!s->cfg.inject) {
		s->be = be;
		return 0;
	}
	ret = blk_fault_wrap(be, &s->cfg.faults, &w);
	if (ret) {
		blk_backend_destroy(be);
		return ret;
	}
	s->be = w;
	s->faulty = true;
	return 0;
}

static int setup_pool(struct stress *s)
{
	uint64_t nsegs = s->pool_size / BOUNCE_SEG_SIZE;
	unsigned int nareas = 1;
	size_t meta;

	while (nareas < s->cfg.threads && nsegs % (nareas * 2) == 0)
		nareas *= 2;
	meta = bounce_meta_size(s->pool_size, nareas);
	if (!meta)
		return -EINVAL;
	s->pool_meta = aligned_alloc(64, (meta + 63) & ~(size_t)63);
	if (!s->pool_meta)
		return -ENOMEM;
	return bounce_pool_init(&s->pool, s->pool_meta, meta,
				s->mem + s->pool_gpa, s->pool_gpa, s->pool_size,
				nareas);
}

static int setup_mem(struct stress *s)
{
	uint64_t bufs = (uint64_t)s->nslots * s->cfg.max_io;
	struct gmem_config gc = { .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
				  .mode = GMEM_MODE_INPLACE, .name = "stress" };
	int ret;

	s->shbuf_gpa = BUF_GPA;
	s->priv_gpa = s->shbuf_gpa + bufs;
	s->pool_gpa = (s->priv_gpa + bufs + BOUNCE_SEG_SIZE - 1) &
		      ~(uint64_t)(BOUNCE_SEG_SIZE - 1);
	s->mem_size = s->pool_gpa + s->pool_size;
	gc.size = s->mem_size;
	ret = gmem_create(&gc, &s->g);
	if (ret)
		return ret;
	s->mem = gmem_memslot_addr(s->g);
	/* Everything private but rings, headers, shared buffers and pool. */
	ret = gmem_share(s->g, RING_GPA, RING_AREA);
	if (!ret)
		ret = gmem_share(s->g, s->shbuf_gpa, bufs);
	if (!ret)
		ret = gmem_share(s->g, s->pool_gpa, s->pool_size);
	return ret;
}

static int setup_drivers(struct stress *s)
{
	uint64_t per = s->cfg.disk_size / PG / s->cfg.threads;
	unsigned int t, i;

	if (per < s->cfg.max_io / PG)
		return -EINVAL;
	for (t = 0; t < s->cfg.threads; t++) {
		struct driver *d = &s->drv[t];

		d->s = s;
		d->t = t;
		d->rng = s->res->seed ^ (0x9e3779b97f4a7c15ULL * (t + 1));
		d->blk0 = per * t;
		d->nblk = per;
		d->next_gen = 1;
		d->busy = calloc(per, 1);
		d->slots = calloc(s->cfg.qd, sizeof(*d->slots));
		if (!d->busy || !d->slots)
			return -ENOMEM;
		for (i = 0; i < s->cfg.qd; i++) {
			struct slot *sl = &d->slots[i];

			pthread_mutex_init(&sl->lock, NULL);
			sl->idx = t * s->cfg.qd + i;
			sl->req.id = sl->idx;
		}
	}
	return 0;
}

static void free_all(struct stress *s)
{
	unsigned int t, i;

	if (s->b)
		virtio_blk_destroy(s->b);
	else if (s->be)
		blk_backend_destroy(s->be);
	gmem_destroy(s->g);
	free(s->pool_meta);
	free(s->lo);
	free(s->hi);
	for (t = 0; t < STRESS_MAX_THREADS; t++) {
		if (s->drv[t].slots)
			for (i = 0; i < s->cfg.qd; i++)
				pthread_mutex_destroy(&s->drv[t].slots[i].lock);
		free(s->drv[t].slots);
		free(s->drv[t].busy);
	}
	pthread_mutex_destroy(&s->fail_lock);
	free(s);
}

static int setup(struct stress *s)
{
	struct virtio_blk_params p = { .queue_num_max = s->qsize,
				       .seg_max = STRESS_MAX_SEGS };
	uint64_t sectors = s->cfg.disk_size / SECT;
	int ret;

	ret = violation_watch();	/* a host access to a private page: named */
	if (!ret)
		ret = setup_mem(s);
	if (!ret)
		ret = setup_pool(s);
	if (!ret)
		ret = setup_drivers(s);
	if (!ret)
		ret = open_backend(s);
	if (ret)
		return ret;
	s->lo = calloc(sectors, sizeof(*s->lo));
	s->hi = calloc(sectors, sizeof(*s->hi));
	if (!s->lo || !s->hi)
		return -ENOMEM;
	p.mem = s->g;
	p.backend = s->be;
	ret = virtio_blk_create(&p, &s->b);
	if (ret)
		return ret;
	s->m = virtio_blk_mmio(s->b);
	s->notify_fd = virtio_blk_notify_fd(s->b);
	ret = vblk_init(&s->info);
	if (ret)
		return -EIO;
	if (s->info.queue_size != s->qsize)
		return -EIO;
	return virtio_blk_start(s->b);
}

/* ---- the run and the reckoning ------------------------------------------------------ */

#define want_eq(s, got, want, what) do {				\
	unsigned long long __g = (got), __w = (want);			\
	if (__g != __w)							\
		failf(s, "%s: %llu, want %llu", what, __g, __w);	\
} while (0)

static void sum_drivers(struct stress *s, struct gmem_stress_result *r)
{
	unsigned int t, m;

	for (t = 0; t < s->cfg.threads; t++) {
		struct driver *d = &s->drv[t];

		r->submitted += d->submitted;
		r->completed += d->completed;
		r->ok += d->ok;
		r->ioerr += d->ioerr;
		r->reads += d->reads;
		r->writes += d->writes;
		r->flushes += d->flushes;
		r->bytes_read += d->bytes_read;
		r->bytes_written += d->bytes_written;
		r->batches += d->batches;
		r->sectors_verified += d->sectors_verified;
		r->bounce_enospc += d->bounce_enospc;
		r->driver_shares += d->shares;
		r->driver_unshares += d->unshares;
		r->mismatches += d->mismatches;
		r->lost += d->lost;
		for (m = 0; m < STRESS_NMODES; m++)
			r->by_mode[m] += d->by_mode[m];
	}
	r->scratch_convs = s->scratch_convs;
	r->inflight_unshare_tries = s->steal_tries;
	r->inflight_refused = s->steal_refused;
	r->inflight_late = s->steal_late;
}

/* Pages with pins, outside [skip_lo, skip_hi). */
static uint64_t count_pins(struct stress *s, uint64_t skip_lo, uint64_t skip_hi)
{
	uint64_t off, n = 0;

	for (off = 0; off < s->mem_size; off += PG)
		if ((off < skip_lo || off >= skip_hi) &&
		    gmem_page_pins(s->g, off) != 0)
			n++;
	return n;
}

static void reconcile(struct stress *s, struct gmem_stress_result *r)
{
	struct virtio_blk_stats st;
	struct blk_fault_stats fs;
	struct bounce_stats bs;
	struct gmem_stats gs;
	unsigned int k;
	uint64_t errs;

	virtio_blk_get_stats(s->b, &st);
	r->dev_requests = st.requests;
	r->dev_ok = st.ok;
	r->dev_ioerr = st.ioerr;
	r->dev_violations = st.violations;
	want_eq(s, st.requests, r->submitted, "device requests vs submitted");
	want_eq(s, st.ok + st.ioerr, st.requests, "device ok + ioerr vs requests");
	want_eq(s, st.reads, r->reads, "device reads");
	want_eq(s, st.writes, r->writes, "device writes");
	want_eq(s, st.flushes, r->flushes, "device flushes");
	want_eq(s, st.unsupp + st.no_status + st.violations + st.broken +
		st.bad_config + st.bad_access + st.pins_refused, 0,
		"device unsupp/no_status/violations/broken/bad_config/"
		"bad_access/pins_refused");
	want_eq(s, st.inflight, 0, "device in flight after reset");
	if (!s->cfg.abandon) {
		want_eq(s, r->completed, r->submitted, "completed vs submitted");
		want_eq(s, st.ok, r->ok, "device ok vs driver ok");
		want_eq(s, st.ioerr, r->ioerr, "device ioerr vs driver ioerr");
		want_eq(s, st.bytes_read, r->bytes_read, "device bytes read");
		want_eq(s, st.bytes_written, r->bytes_written,
			"device bytes written");
	}
	r->abandoned = r->submitted - r->completed;
	if (s->faulty) {
		blk_fault_get_stats(s->be, &fs);
		for (k = 0; k < BLK_FAULT_NR; k++)
			r->injected[k] = fs.injected[k];
		r->injected_total = fs.injected_total;
		want_eq(s, fs.inflight, 0, "fault injector in flight");
		want_eq(s, fs.completed + fs.injected[BLK_FAULT_SUBMIT], fs.ios,
			"fault injector completions");
	}
	/* corrupt is silent and kick only delays: neither is an IOERR */
	errs = r->injected_total - r->injected[BLK_FAULT_CORRUPT] -
	       r->injected[BLK_FAULT_KICK];
	want_eq(s, st.ioerr, errs, "device ioerr vs injected errors");
	want_eq(s, st.backend_errors, errs,
		"device backend errors vs injected errors");
	want_eq(s, st.err[VBLK_E_BACKEND], errs,
		"device backend error class vs injected errors");
	bounce_get_stats(&s->pool, &bs);
	want_eq(s, bs.failures, r->bounce_enospc, "bounce pool failures");
	if (!s->cfg.abandon) {
		want_eq(s, bs.used, 0, "bounce slots in use at the end");
		want_eq(s, bs.mappings, bs.unmaps, "bounce maps vs unmaps");
	}
	gmem_get_stats(s->g, &gs);
	r->gmem_conversions = gs.conversions;
	r->gmem_refusals = gs.refusals;
	r->gmem_violations = gs.violations;
	want_eq(s, gs.violations, 0, "gmem violations (host accesses to private pages)");
	want_eq(s, gs.unpin_missing + st.unpin_bugs, 0,
		"host unpins that found no pin (a VMM bug)");
	want_eq(s, gs.refusals, r->inflight_refused,
		"gmem refusals vs in-flight unshares refused");
}

/*
 * The guest stopped, but what it published before stopping is the device's
 * to take, as on a real device: kick once more and give the device thread
 * time to fetch all of it before the reset, which then drops only what is
 * in flight.  (Without this the reset raced the device thread for the last
 * published request and the reconciliation saw one request fewer.)
 */
static void let_device_fetch(struct stress *s, uint64_t submitted)
{
	uint64_t deadline = gmem_now_ns() + DRAIN_NS;
	struct virtio_blk_stats st;

	vblk_mmio_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	do {
		virtio_blk_get_stats(s->b, &st);
		if (st.requests >= submitted)
			return;
		pause_us(100);
	} while (gmem_now_ns() < deadline);
}

static void finish_run(struct stress *s, struct gmem_stress_result *r)
{
	uint64_t submitted, completed, unknown;
	unsigned int t;

	atomic_store(&s->stop_submit, true);
	for (t = 0; t < s->cfg.threads; t++)
		pthread_join(s->drv[t].th, NULL);
	if (s->cfg.converter) {
		atomic_store(&s->stop_conv, true);
		pthread_join(s->conv, NULL);
	}
	sum_drivers(s, r);
	if (s->cfg.abandon)
		let_device_fetch(s, r->submitted);
	if (!s->cfg.abandon) {
		uint64_t n = count_pins(s, RING_GPA, RING_GPA + RING_AREA);

		if (n)
			failf(s, "%llu pages pinned with no I/O in flight",
			      (unsigned long long)n);
	}
	/* Device reset: drains what the guest left in flight, drops pins. */
	vblk_mmio_write(VIRTIO_MMIO_STATUS, 0);
	r->pins_left = count_pins(s, 0, 0);
	if (r->pins_left)
		failf(s, "%llu pages still pinned after the device reset",
		      (unsigned long long)r->pins_left);
	reconcile(s, r);
	vblk_counters(&submitted, &completed, &unknown);
	r->duplicated = unknown;
	if (unknown)
		failf(s, "%llu used entries for no request in flight (duplicates)",
		      (unsigned long long)unknown);
	r->failures = atomic_load(&s->failures);
	memcpy(r->first_failure, s->first_failure, sizeof(r->first_failure));
}

static int start_threads(struct stress *s, unsigned int *started)
{
	unsigned int t;
	int ret;

	for (t = 0; t < s->cfg.threads; t++) {
		ret = pthread_create(&s->drv[t].th, NULL, driver_thread, &s->drv[t]);
		if (ret)
			return -ret;
		(*started)++;
	}
	if (s->cfg.converter) {
		ret = pthread_create(&s->conv, NULL, converter_thread, s);
		if (ret)
			return -ret;
	}
	return 0;
}

int gmem_stress_run(const struct gmem_stress_config *cfg,
		    struct gmem_stress_result *res)
{
	unsigned int qsize, started = 0, t;
	struct stress *s;
	uint64_t t0;
	int ret;

	if (!cfg || !res)
		return -EINVAL;
	ret = check_config(cfg, &qsize);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	s->cfg = *cfg;
	s->res = res;
	s->qsize = (uint16_t)qsize;
	s->nslots = cfg->threads * cfg->qd;
	if (!s->cfg.disk_size)
		s->cfg.disk_size = 64ULL << 20;
	s->pool_size = cfg->pool_size;
	if (!s->pool_size)
		s->pool_size = ((uint64_t)s->nslots * cfg->max_io +
				BOUNCE_SEG_SIZE - 1) & ~(uint64_t)(BOUNCE_SEG_SIZE - 1);
	res->seed = cfg->seed ? cfg->seed : gmem_now_ns() | 1;
	s->conv_rng = res->seed ^ 0xc0ffee;
	pthread_mutex_init(&s->fail_lock, NULL);
	pthread_mutex_lock(&run_lock);
	cur = s;
	ret = setup(s);
	if (ret)
		goto out;
	res->data_checked = s->verify;
	t0 = gmem_now_ns();
	ret = start_threads(s, &started);
	if (ret) {
		atomic_store(&s->stop_submit, true);
		for (t = 0; t < started; t++)
			pthread_join(s->drv[t].th, NULL);
		goto out;
	}
	while (gmem_now_ns() - t0 < cfg->duration_ms * 1000000ULL)
		pause_us(10000);
	res->elapsed_ns = gmem_now_ns() - t0;
	finish_run(s, res);
out:
	free_all(s);
	cur = NULL;
	pthread_mutex_unlock(&run_lock);
	return ret;
}
