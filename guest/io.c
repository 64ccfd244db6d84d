// SPDX-License-Identifier: GPL-2.0
/*
 * The guest I/O workload (GMEM_ABI_TEST_IO): a fio-like generator over the
 * virtio-blk driver with six ways to get private data to the device:
 *
 *   shared         buffers in always-shared memory (shared once at start)
 *   bounce         private buffers copied through the bounce pool as Linux
 *                  swiotlb does (a map copies in for every direction: a
 *                  read is a copy in and a copy out); 64 MiB by default
 *   persistent     private buffers copied into (writes) or out of (reads)
 *                  one always-shared buffer per request slot, shared once
 *                  at start and never converted (Xen persistent grants,
 *                  Firecracker's persistent bounce buffers)
 *   inplace        share the buffer, I/O, unshare, per request
 *   inplace-batch  up to qd requests per batch, their buffers contiguous:
 *                  one share, submit all, wait all, one unshare
 *   inplace-scatter  batches like inplace-batch, but each request's data
 *                  lies in pieces at random places of an area twice the
 *                  batch's size (a block layer's scattered pages): one share
 *                  and one unshare per contiguous run of pieces
 *   adaptive       per request, bounce or in place, whichever costs less
 *                  per I/O as measured during the run (gmemkit/adapt.h:
 *                  smoothed per size and direction, the other path
 *                  re-probed now and then)
 *   mixed          stress: each request takes the shared, bounce or inplace
 *                  path at random, and now and then the vCPU runs one
 *                  inplace-batch batch; with GMEM_ABI_IOF_CHURN the vCPU
 *                  also converts random pages of its scratch area between
 *                  requests and unshares buffers the device holds (-EBUSY)
 *
 * Latency is per request, from the driver call (before any copy or
 * conversion) to the data being usable (after the copy out / unshare),
 * guest TSC.  With GMEM_ABI_IOF_VERIFY every 512-byte sector written carries
 * gmemkit/sector.h's format (sector, generation, mode tag, check word); the span
 * is written first (prefill), reads check what they get, and a read-back
 * pass checks what the run wrote.
 */
#include "vblk.h"
#include "gmemkit/adapt.h"
#include "gmemkit/bounce.h"
#include "gmemkit/sector.h"

#define SECTOR		((uint64_t)SECTOR_BYTES)
#define NB_LINEAR	64
#define NB_SUB		32
#define NBUCKETS	(NB_LINEAR + 58 * NB_SUB)
#define BAD_ID		(VBLK_MAX_REQS - 1)

enum path { P_SHARED, P_BOUNCE, P_INPLACE, P_PERSIST };

struct slot {
	struct vblk_req req;
	uint64_t buf;			/* the buffer the application uses */
	uint64_t pbuf, sbuf;		/* mixed: private and shared buffer */
	uint64_t pers;			/* persistent: its always-shared buffer */
	uint64_t seq;			/* submission number on this vCPU */
	enum path path;			/* of the request in flight */
	bool unshared;			/* churn: its buffer unshared already */
	uint64_t submits, completes;	/* of this request id, whole run */
	uint64_t block;			/* index in the vCPU's span */
	uint64_t t0;
	uint64_t baddr[GMEM_ABI_IO_MAX_BS / GMEM_ABI_IO_BOUNCE_SEG];
	uint64_t prot;			/* TSC spent on its protection (copies
					 * or conversions): adaptive's input */
	uint64_t sg[GMEM_ABI_IO_SCATTER_PIECES];	/* scatter: its pieces */
	unsigned int nsg;
	bool write, inflight;
};

#define MAX_SEGS	(GMEM_ABI_IO_SCATTER_PIECES > GMEM_ABI_IO_MAX_BS / GMEM_ABI_IO_BOUNCE_SEG ? \
			 GMEM_ABI_IO_SCATTER_PIECES : GMEM_ABI_IO_MAX_BS / GMEM_ABI_IO_BOUNCE_SEG)

struct io_stats {
	uint64_t ios, bytes, kicks, conv_calls, conv_ns, conv_refused;
	uint64_t copy_bytes, copy_ns, bounce_full, io_errors, verified;
	uint64_t verify_errors, bounced, inplaced, lat_min, lat_max;
	uint64_t t_start, t_end;
	uint64_t kick_ns, conv_host, batches, scatter_pieces, scatter_runs;
	uint64_t conv_kicks;		/* queue transport: kicks (exits) */
};

/* Whole-run counters (never reset between prefill, run and read-back). */
struct run_stats {
	uint64_t submitted, completed, ebusy, mixed_shared, mixed_batches;
	uint64_t churn_conv, churn_errors, inflight_tries, inflight_refused;
	uint64_t inflight_won;
};

struct cpu_io {
	struct slot slots[GMEM_ABI_IO_MAX_QD];
	struct run_stats x;
	uint64_t seq, done_seq;		/* last submitted / completed seq */
	uint64_t churn, churn_shared;	/* scratch area, its shared pages */
	uint64_t rng, next_seq, span, base_block, submitted;
	uint32_t *gen;			/* [span] generation written */
	uint8_t *busy;			/* [span] in flight */
	uint64_t priv, shared;		/* this vCPU's buffer areas */
	struct adapt adapt[2];		/* adaptive: reads, writes */
	uint64_t scatter, nslots;	/* scatter: area, pieces it holds */
	uint8_t *smap;			/* [nslots] piece used by the batch */
	uint32_t *sidx;			/* [nslots] permutation of the pieces */
	uint64_t *runs;			/* [2 * qd * pieces] gpa, len */
	struct io_stats st;
	bool measure, failed;
} __attribute__((aligned(64)));

static struct cpu_io cpus[GMEM_ABI_IO_MAX_VCPUS];
static uint64_t hist[NBUCKETS];
static struct gmem_abi_io_config cfg;
static struct bounce_pool pool;
static struct vblk_info info;
static enum path path;
static uint64_t heap_next;
static volatile bool setup_ok;

/* ---- helpers ----------------------------------------------------------- */

static void *heap_alloc(uint64_t size)
{
	uint64_t p = (heap_next + 63) & ~63ULL;

	if (!heap_next || p + size > GMEM_ABI_HEAP_GPA + GMEM_ABI_HEAP_SIZE)
		return NULL;
	heap_next = p + size;
	memset((void *)p, 0, size);
	return (void *)p;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static unsigned int bucket_of(uint64_t ns)
{
	unsigned int e;

	if (ns < NB_LINEAR)
		return (unsigned int)ns;
	e = 63 - (unsigned int)__builtin_clzll(ns);
	if (e - 6 >= 58)
		return NBUCKETS - 1;
	return NB_LINEAR + (e - 6) * NB_SUB + (unsigned int)((ns >> (e - 5)) & (NB_SUB - 1));
}

/* Middle of a bucket, in ns. */
static uint64_t bucket_ns(unsigned int b)
{
	unsigned int e;
	uint64_t lo, w;

	if (b < NB_LINEAR)
		return b;
	e = (b - NB_LINEAR) / NB_SUB + 6;
	w = 1ULL << (e - 5);
	lo = (1ULL << e) + (b - NB_LINEAR) % NB_SUB * w;
	return lo + w / 2;
}

static uint64_t ns_to_tsc(uint64_t ns)
{
	return ns / 1000000ULL * results->tsc_khz +
	       ns % 1000000ULL * results->tsc_khz / 1000000ULL;
}

/* A conversion outside the cost split (churn); -EBUSY answers counted. */
static int64_t convert_raw(struct cpu_io *c, bool to_shared, uint64_t gpa,
			   uint64_t len)
{
	int64_t st = to_shared ? __share(gpa, len) : __unshare(gpa, len);

	if (st == -GMEM_ABI_EBUSY)
		c->x.ebusy++;
	return st;
}

/* A conversion in the cost split: its guest-observed time, and of that the
 * host's work on it as the VMM reports it (at most the whole). */
static int64_t convert(struct cpu_io *c, bool to_shared, uint64_t gpa,
		       uint64_t len)
{
	volatile struct gmem_abi_vcpu_page *pg = this_page();
	uint64_t t, dt, host, k;
	int64_t st;

	pg->conv_host_ns = 0;
	k = queue_kick_count();
	t = rdtsc();
	st = convert_raw(c, to_shared, gpa, len);
	dt = rdtsc() - t;
	c->st.conv_kicks += queue_kick_count() - k;
	host = ns_to_tsc(pg->conv_host_ns);
	c->st.conv_ns += dt;
	c->st.conv_host += host < dt ? host : dt;
	c->st.conv_calls++;
	if (st == -GMEM_ABI_EBUSY)
		c->st.conv_refused++;
	return st;
}

/* Unshare after the device is done: the device unpins before it
 * publishes, so a refusal here is counted and retried a bounded time. */
static void unshare_done(struct cpu_io *c, uint64_t gpa, uint64_t len)
{
	unsigned int tries = 0;
	int64_t st;

	while ((st = convert(c, false, gpa, len)) == -GMEM_ABI_EBUSY && ++tries < 1000000)
		cpu_relax();
	if (st)
		GUEST_CHECK(false, "unshare 0x%lx+0x%lx after I/O: status %ld", gpa, len, st);
}

/* One QueueNotify (an ioeventfd exit), timed: the kick cost the split uses. */
static void kick_timed(struct cpu_io *c)
{
	uint64_t t = rdtsc();

	c->st.kicks += (uint64_t)vblk_kick();
	c->st.kick_ns += rdtsc() - t;
}

/* ---- data pattern -------------------------------------------------------- */

static uint32_t tag(void)
{
	return GMEM_ABI_IO_TAG(cfg.mode);
}

static void stamp(uint64_t buf, uint64_t lba, uint32_t gen, uint64_t len)
{
	uint64_t n = len / SECTOR, i;

	for (i = 0; i < n; i++)
		sector_stamp((void *)(buf + i * SECTOR), lba + i, gen, tag());
}

static void poison(uint64_t buf, uint64_t len)
{
	uint64_t n = len / SECTOR, i;

	for (i = 0; i < n; i++)
		sector_poison((void *)(buf + i * SECTOR));
}

static void check(struct cpu_io *c, uint64_t buf, uint64_t lba, uint32_t gen,
		  uint64_t len)
{
	uint64_t n = len / SECTOR, i;
	uint32_t g, t;

	for (i = 0; i < n; i++) {
		const void *p = (const void *)(buf + i * SECTOR);

		c->st.verified++;
		if (sector_decode(p, lba + i, &g, &t) != SECTOR_VALID || g != gen ||
		    t != tag()) {
			if (!c->st.verify_errors)
				gprintf("io: verify: sector %lu: got %lx %x:%x, want gen %u\n",
					lba + i, *(const volatile uint64_t *)p, g, t, gen);
			c->st.verify_errors++;
		}
	}
}

/* The data of slot s: one buffer, or (scatter) its pieces in order. */
static void data_stamp(struct slot *s, uint64_t lba, uint32_t gen)
{
	uint64_t piece = gmem_abi_io_scatter_piece(cfg.bs);
	unsigned int k;

	if (cfg.mode != GMEM_ABI_IO_INPLACE_SCATTER) {
		stamp(s->buf, lba, gen, cfg.bs);
		return;
	}
	for (k = 0; k < s->nsg; k++)
		stamp(s->sg[k], lba + k * (piece / SECTOR), gen, piece);
}

static void data_poison(struct slot *s)
{
	uint64_t piece = gmem_abi_io_scatter_piece(cfg.bs);
	unsigned int k;

	if (cfg.mode != GMEM_ABI_IO_INPLACE_SCATTER) {
		poison(s->buf, cfg.bs);
		return;
	}
	for (k = 0; k < s->nsg; k++)
		poison(s->sg[k], piece);
}

static void data_check(struct cpu_io *c, struct slot *s, uint64_t lba, uint32_t gen)
{
	uint64_t piece = gmem_abi_io_scatter_piece(cfg.bs);
	unsigned int k;

	if (cfg.mode != GMEM_ABI_IO_INPLACE_SCATTER) {
		check(c, s->buf, lba, gen, cfg.bs);
		return;
	}
	for (k = 0; k < s->nsg; k++)
		check(c, s->sg[k], lba + k * (piece / SECTOR), gen, piece);
}

/* ---- one request ------------------------------------------------------- */

static enum path slot_path(struct cpu_io *c)
{
	static const enum path mixed[3] = { P_SHARED, P_BOUNCE, P_INPLACE };

	if (cfg.mode == GMEM_ABI_IO_ADAPTIVE)
		return P_BOUNCE;	/* see adaptive_path() */
	if (cfg.mode != GMEM_ABI_IO_MIXED)
		return path;
	return mixed[rng_next(&c->rng) % 3];
}

/* adaptive: the path the measured costs say, for this size and direction. */
static enum path adaptive_path(struct cpu_io *c, bool write)
{
	enum adapt_path ap;

	if (adapt_choose(&c->adapt[write], cfg.bs, &ap)) {
		GUEST_CHECK(false, "adaptive: no decision for size %lu", cfg.bs);
		return P_BOUNCE;
	}
	return ap == ADAPT_INPLACE ? P_INPLACE : P_BOUNCE;
}

static bool want_write(struct cpu_io *c, uint32_t rw)
{
	switch (rw) {
	case GMEM_ABI_IO_WRITE:
	case GMEM_ABI_IO_RANDWRITE:
		return true;
	case GMEM_ABI_IO_RANDRW:
		return rng_next(&c->rng) & 1;
	default:
		return false;
	}
}

static uint64_t pick_block(struct cpu_io *c, uint32_t rw)
{
	uint64_t b;

	if (rw == GMEM_ABI_IO_READ || rw == GMEM_ABI_IO_WRITE)
		b = c->next_seq++ % c->span;
	else
		b = rng_next(&c->rng) % c->span;
	if (cfg.flags & GMEM_ABI_IOF_VERIFY)
		while (c->busy[b])
			b = (b + 1) % c->span;
	return b;
}

static void bounce_release(struct slot *s, unsigned int n, enum bounce_dir dir)
{
	unsigned int k;

	for (k = 0; k < n; k++)
		bounce_unmap(&pool, s->baddr[k], GMEM_ABI_IO_BOUNCE_SEG < cfg.bs ?
			     GMEM_ABI_IO_BOUNCE_SEG : cfg.bs, dir,
			     BOUNCE_F_SKIP_CPU_SYNC);
}

/* Map the buffer through the pool into segs; -VBLK_EAGAIN if it is full. */
static int bounce_in(struct cpu_io *c, unsigned int cpu, struct slot *s,
		     struct vblk_seg *segs, unsigned int *nseg)
{
	uint64_t chunk = cfg.bs < GMEM_ABI_IO_BOUNCE_SEG ? cfg.bs : GMEM_ABI_IO_BOUNCE_SEG;
	enum bounce_dir dir = s->write ? BOUNCE_TO_DEVICE : BOUNCE_FROM_DEVICE;
	unsigned int k, n = (unsigned int)(cfg.bs / chunk);
	uint64_t t = rdtsc();
	int err;

	for (k = 0; k < n; k++) {
		/* Linux: the original is copied in for every direction */
		err = bounce_map(&pool, cpu, (void *)(s->buf + k * chunk), s->buf + k * chunk,
				 chunk, dir, NULL, 0, &s->baddr[k]);
		if (err) {
			bounce_release(s, k, dir);
			c->st.bounce_full++;
			return -VBLK_EAGAIN;
		}
		segs[k].gpa = s->baddr[k];
		segs[k].len = (uint32_t)chunk;
	}
	c->st.copy_ns += rdtsc() - t;
	c->st.copy_bytes += cfg.bs;
	*nseg = n;
	return 0;
}

static void bounce_out(struct cpu_io *c, struct slot *s)
{
	uint64_t chunk = cfg.bs < GMEM_ABI_IO_BOUNCE_SEG ? cfg.bs : GMEM_ABI_IO_BOUNCE_SEG;
	enum bounce_dir dir = s->write ? BOUNCE_TO_DEVICE : BOUNCE_FROM_DEVICE;
	unsigned int k, n = (unsigned int)(cfg.bs / chunk);
	uint64_t t = rdtsc();

	for (k = 0; k < n; k++)
		if (bounce_unmap(&pool, s->baddr[k], chunk, dir, 0))
			GUEST_CHECK(false, "bounce_unmap 0x%lx failed", s->baddr[k]);
	c->st.copy_ns += rdtsc() - t;
	if (!s->write)
		c->st.copy_bytes += cfg.bs;
}

/* persistent: a write copies the data into the request's always-shared
 * buffer before the device sees it; a read copies it out afterwards.
 * Exactly bs bytes per I/O, no allocation, no conversion. */
static void persist_copy(struct cpu_io *c, uint64_t dst, uint64_t src)
{
	uint64_t t = rdtsc();

	memcpy((void *)dst, (const void *)src, cfg.bs);
	c->st.copy_ns += rdtsc() - t;
	c->st.copy_bytes += cfg.bs;
}

static void persist_in(struct cpu_io *c, struct slot *s)
{
	if (s->write)
		persist_copy(c, s->pers, s->buf);
}

static void persist_out(struct cpu_io *c, struct slot *s)
{
	if (!s->write)
		persist_copy(c, s->buf, s->pers);
}

static uint64_t slot_lba(struct cpu_io *c, struct slot *s)
{
	return (c->base_block + s->block) * (cfg.bs / SECTOR);
}

/* Start the request of slot s (batch: the buffers are shared already).
 * 0, or -VBLK_EAGAIN to retry after completions. */
static int slot_start(struct cpu_io *c, unsigned int cpu, struct slot *s,
		      uint32_t rw, bool batch)
{
	struct vblk_seg segs[MAX_SEGS];
	enum path p = batch ? P_INPLACE : slot_path(c);
	bool verify = cfg.flags & GMEM_ABI_IOF_VERIFY;
	unsigned int nseg = 1, k;
	uint64_t lba, before;
	int err;

	s->unshared = false;
	if (cfg.mode == GMEM_ABI_IO_MIXED) {
		s->buf = p == P_SHARED ? s->sbuf : s->pbuf;
		c->x.mixed_shared += p == P_SHARED;
	}
	s->t0 = rdtsc();
	s->write = want_write(c, rw);
	if (cfg.mode == GMEM_ABI_IO_ADAPTIVE)
		p = adaptive_path(c, s->write);
	s->path = p;
	s->block = pick_block(c, rw);
	lba = slot_lba(c, s);
	if (verify) {
		if (s->write)
			data_stamp(s, lba, c->gen[s->block] + 1);
		else
			data_poison(s);
	}
	segs[0].gpa = s->buf;
	segs[0].len = (uint32_t)cfg.bs;
	if (cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER) {
		for (k = 0; k < s->nsg; k++) {
			segs[k].gpa = s->sg[k];
			segs[k].len = (uint32_t)gmem_abi_io_scatter_piece(cfg.bs);
		}
		nseg = s->nsg;
	}
	before = c->st.copy_ns + c->st.conv_ns;
	if (p == P_BOUNCE) {
		err = bounce_in(c, cpu, s, segs, &nseg);
		if (err)
			return err;
		c->st.bounced++;
	} else if (p == P_PERSIST) {
		persist_in(c, s);
		segs[0].gpa = s->pers;
	} else if (p == P_INPLACE) {
		if (!batch && convert(c, true, s->buf, cfg.bs)) {
			GUEST_CHECK(false, "share of buffer 0x%lx failed", s->buf);
			return -GMEM_ABI_EIO;
		}
		c->st.inplaced++;
	}
	s->prot = c->st.copy_ns + c->st.conv_ns - before;
	if (verify) {
		if (s->write)
			c->gen[s->block]++;
		c->busy[s->block] = 1;
	}
	while ((err = vblk_submit(&s->req, s->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
				  lba, segs, nseg, !s->write)) == -VBLK_EAGAIN) {
		kick_timed(c);
		vblk_poll();
	}
	s->inflight = true;
	s->seq = ++c->seq;
	s->submits++;
	c->submitted++;
	c->x.submitted++;
	return err;
}

static void record_latency(struct cpu_io *c, uint64_t t0)
{
	uint64_t ns = tsc_to_ns(rdtsc() - t0);

	if (!c->measure)
		return;
	if (!c->st.lat_min || ns < c->st.lat_min)
		c->st.lat_min = ns;
	if (ns > c->st.lat_max)
		c->st.lat_max = ns;
	__atomic_fetch_add(&hist[bucket_of(ns)], 1, __ATOMIC_RELAXED);
}

/* The device is done with slot s. */
static void slot_finish(struct cpu_io *c, struct slot *s, bool batch)
{
	enum path p = s->path;
	uint64_t before = c->st.copy_ns + c->st.conv_ns;

	s->inflight = false;
	s->completes++;
	c->x.completed++;
	if (s->seq > c->done_seq)
		c->done_seq = s->seq;
	if (s->req.status != VIRTIO_BLK_S_OK)
		c->st.io_errors++;
	if (p == P_BOUNCE)
		bounce_out(c, s);
	else if (p == P_PERSIST)
		persist_out(c, s);
	else if (p == P_INPLACE && !batch && !s->unshared)
		unshare_done(c, s->buf, cfg.bs);
	s->prot += c->st.copy_ns + c->st.conv_ns - before;
	if (cfg.mode == GMEM_ABI_IO_ADAPTIVE)
		adapt_record(&c->adapt[s->write], cfg.bs,
			     p == P_INPLACE ? ADAPT_INPLACE : ADAPT_BOUNCE, s->prot);
	if (!batch)
		record_latency(c, s->t0);
	if (cfg.flags & GMEM_ABI_IOF_VERIFY) {
		if (!s->write && s->req.status == VIRTIO_BLK_S_OK)
			data_check(c, s, slot_lba(c, s), c->gen[s->block]);
		c->busy[s->block] = 0;
	}
	c->st.ios++;
	c->st.bytes += cfg.bs;
}

/* ---- churn (GMEM_ABI_IOF_CHURN) ------------------------------------------ */

static uint64_t churn_word(uint64_t gpa)
{
	return gmem_abi_pattern(cfg.seed + 0xc4, gpa);
}

static bool scratch_ok(uint64_t gpa)
{
	volatile uint64_t *w = (volatile uint64_t *)gpa;

	return w[0] == churn_word(gpa) &&
	       w[PAGE_SIZE / 8 - 1] == churn_word(gpa + PAGE_SIZE - 8);
}

/* Unshare the buffer of an in-place request of this vCPU that the device
 * holds: one submitted before a request that completed already (the
 * device takes requests in ring order and pins their buffers as it takes
 * them) and not completed itself.  -EBUSY is the answer; 0 only if the
 * device unpinned it between our look and the call (it then publishes the
 * completion): counted, and the request's own unshare is skipped. */
static void unshare_held(struct cpu_io *c)
{
	unsigned int i, k = (unsigned int)(rng_next(&c->rng) % cfg.qd);
	int64_t st;

	for (i = 0; i < cfg.qd; i++) {
		struct slot *s = &c->slots[(i + k) % cfg.qd];

		if (!s->inflight || s->path != P_INPLACE || s->unshared ||
		    s->seq >= c->done_seq ||
		    __atomic_load_n(&s->req.done, __ATOMIC_ACQUIRE))
			continue;
		c->x.inflight_tries++;
		st = convert_raw(c, false, s->buf, cfg.bs);
		if (st == -GMEM_ABI_EBUSY) {
			c->x.inflight_refused++;
		} else if (!st) {
			c->x.inflight_won++;
			s->unshared = true;
		} else {
			c->x.churn_errors++;
			GUEST_CHECK(false, "churn: unshare of held buffer 0x%lx: status %ld",
				    s->buf, st);
		}
		return;
	}
}

/* Convert one random scratch page (unrelated to any I/O); its content
 * must survive. */
static void churn(struct cpu_io *c)
{
	unsigned int pg = (unsigned int)(rng_next(&c->rng) % GMEM_ABI_IO_CHURN_PAGES);
	uint64_t gpa = c->churn + pg * PAGE_SIZE;
	bool shared = c->churn_shared >> pg & 1;
	int64_t st;

	unshare_held(c);
	st = convert_raw(c, !shared, gpa, PAGE_SIZE);
	if (st) {
		c->x.churn_errors++;
		GUEST_CHECK(false, "churn: %s of scratch page 0x%lx: status %ld",
			    shared ? "unshare" : "share", gpa, st);
		return;
	}
	c->churn_shared ^= 1ULL << pg;
	c->x.churn_conv++;
	if (!scratch_ok(gpa)) {
		if (!c->x.churn_errors)
			gprintf("io: churn: scratch page 0x%lx changed by a conversion\n", gpa);
		c->x.churn_errors++;
	}
}

/* ---- runs ---------------------------------------------------------------- */

static bool more(struct cpu_io *c, uint64_t limit, uint64_t deadline)
{
	if (c->failed)
		return false;
	if (limit)
		return c->submitted < limit;
	return rdtsc() < deadline;
}

static bool one_batch(struct cpu_io *c, unsigned int cpu, uint32_t rw,
		      unsigned int n);

/* Keep qd requests in flight until the limit or deadline, then drain. */
static void run_stream(struct cpu_io *c, unsigned int cpu, uint32_t rw,
		       uint64_t limit, uint64_t deadline)
{
	bool churning = (cfg.flags & GMEM_ABI_IOF_CHURN) && c->measure;
	unsigned int i, inflight = 0, reaped;
	int err;

	for (;;) {
		bool kick = false, go = more(c, limit, deadline);

		/* mixed: now and then one inplace-batch batch */
		if (cfg.mode == GMEM_ABI_IO_MIXED && go && !inflight &&
		    rng_next(&c->rng) % 8 == 0) {
			unsigned int n = 1 + (unsigned int)(rng_next(&c->rng) % cfg.qd);

			if (limit && limit - c->submitted < n)
				n = (unsigned int)(limit - c->submitted);
			if (!one_batch(c, cpu, rw, n))
				return;
			c->x.mixed_batches++;
			continue;
		}

		for (i = 0; go && i < cfg.qd; i++) {
			struct slot *s = &c->slots[i];

			if (s->inflight)
				continue;
			err = slot_start(c, cpu, s, rw, false);
			if (err) {
				c->failed = err != -VBLK_EAGAIN;
				break;
			}
			inflight++;
			kick = true;
			go = more(c, limit, deadline);
		}
		if (kick)
			kick_timed(c);
		if (!inflight && !more(c, limit, deadline))
			break;
		if (!vblk_poll())
			cpu_relax();
		for (reaped = 0, i = 0; i < cfg.qd; i++) {
			struct slot *s = &c->slots[i];

			if (s->inflight && __atomic_load_n(&s->req.done, __ATOMIC_ACQUIRE)) {
				slot_finish(c, s, false);
				inflight--;
				reaped++;
			}
		}
		if (churning && (kick || reaped))
			churn(c);
	}
}

/* A batch's n requests (slots 0..n-1, buffers already shared): submit
 * them all, one kick, wait until every one has completed. */
static void batch_run(struct cpu_io *c, unsigned int cpu, uint32_t rw,
		      unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		slot_start(c, cpu, &c->slots[i], rw, true);
	kick_timed(c);
	for (i = 0; i < n; i++)
		while (!__atomic_load_n(&c->slots[i].req.done, __ATOMIC_ACQUIRE))
			if (!vblk_poll())
				cpu_relax();
}

/* After the batch's unshare: finish every request, latency from t0. */
static void batch_finish(struct cpu_io *c, unsigned int n, uint64_t t0)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		slot_finish(c, &c->slots[i], true);
		record_latency(c, t0);
	}
	c->st.batches++;
}

/* inplace-batch: one share and one unshare of the batch's contiguous
 * buffers per batch of up to qd requests. */
static bool one_batch(struct cpu_io *c, unsigned int cpu, uint32_t rw,
		      unsigned int n)
{
	uint64_t t0 = rdtsc();

	if (convert(c, true, c->priv, n * cfg.bs)) {
		GUEST_CHECK(false, "batch share of 0x%lx+0x%lx failed", c->priv,
			    n * cfg.bs);
		return false;
	}
	batch_run(c, cpu, rw, n);
	unshare_done(c, c->priv, n * cfg.bs);
	batch_finish(c, n, t0);
	return true;
}

/* inplace-scatter: n requests whose data lies in pieces at random places
 * of the vCPU's scatter area (a random permutation drawn per batch, as a
 * block layer hands over pages wherever they are); the batch's pieces are
 * converted one contiguous run at a time, in address order. */
static bool scatter_batch(struct cpu_io *c, unsigned int cpu, uint32_t rw,
			  unsigned int n)
{
	uint64_t piece = gmem_abi_io_scatter_piece(cfg.bs), np = cfg.bs / piece;
	uint64_t t0 = rdtsc(), m = 0, nr = 0, j, end;
	unsigned int i, k;

	memset(c->smap, 0, c->nslots);
	for (i = 0; i < n; i++) {
		struct slot *s = &c->slots[i];

		for (k = 0; k < np; k++, m++) {
			uint64_t r = m + rng_next(&c->rng) % (c->nslots - m);
			uint32_t x = c->sidx[r];

			c->sidx[r] = c->sidx[m];
			c->sidx[m] = x;
			c->smap[x] = 1;
			s->sg[k] = c->scatter + x * piece;
		}
		s->nsg = (unsigned int)np;
	}
	for (j = 0; j < c->nslots; j = end) {
		if (!c->smap[j]) {
			end = j + 1;
			continue;
		}
		for (end = j; end < c->nslots && c->smap[end]; end++)
			;
		c->runs[2 * nr] = c->scatter + j * piece;
		c->runs[2 * nr + 1] = (end - j) * piece;
		if (convert(c, true, c->runs[2 * nr], c->runs[2 * nr + 1])) {
			GUEST_CHECK(false, "scatter share of 0x%lx+0x%lx failed",
				    c->runs[2 * nr], c->runs[2 * nr + 1]);
			return false;
		}
		nr++;
	}
	c->st.scatter_pieces += m;
	c->st.scatter_runs += nr;
	batch_run(c, cpu, rw, n);
	for (j = 0; j < nr; j++)
		unshare_done(c, c->runs[2 * j], c->runs[2 * j + 1]);
	batch_finish(c, n, t0);
	return true;
}

static void run_batches(struct cpu_io *c, unsigned int cpu, uint32_t rw,
			uint64_t limit, uint64_t deadline)
{
	unsigned int n;

	while (more(c, limit, deadline)) {
		n = cfg.qd;
		if (limit && limit - c->submitted < n)
			n = (unsigned int)(limit - c->submitted);
		if (!(cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER ? scatter_batch(c, cpu, rw, n) :
		      one_batch(c, cpu, rw, n)))
			return;
	}
}

static void run(struct cpu_io *c, unsigned int cpu, uint32_t rw, uint64_t limit,
		uint64_t deadline)
{
	if (cfg.mode == GMEM_ABI_IO_INPLACE_BATCH || cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER)
		run_batches(c, cpu, rw, limit, deadline);
	else
		run_stream(c, cpu, rw, limit, deadline);
}

/* ---- setup (vCPU 0) ---------------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* One malformed request from the guest: it must come back IOERR, counted. */
static void send_bad(struct vblk_req *q, uint32_t type, uint64_t sector,
		     struct vblk_seg *s, bool in, const char *what)
{
	volatile struct gmem_abi_io_results *r = &results->io;
	uint8_t st = vblk_do(q, type, sector, s, 1, in);

	r->bad_sent++;
	r->bad_ioerr += st == VIRTIO_BLK_S_IOERR;
	GUEST_CHECK_EQ(st, VIRTIO_BLK_S_IOERR, what);
}

static void bad_requests(void)
{
	uint64_t priv = cpus[0].priv, scratch = GMEM_ABI_POOL_GPA + VBLK_SCRATCH_OFF;
	struct vblk_req q = { .id = BAD_ID };
	struct vblk_seg s;

	fill_pattern(priv, PAGE_SIZE, 0xbad);
	/* a data buffer on a private page */
	s.gpa = priv;
	s.len = PAGE_SIZE;
	send_bad(&q, VIRTIO_BLK_T_IN, 0, &s, true, "read into a private page");
	GUEST_CHECK(guest_sees_pattern(priv, PAGE_SIZE, 0xbad),
		    "private page unchanged by the refused read");
	/* a data buffer outside guest RAM */
	s.gpa = boot_info->mem_size;
	send_bad(&q, VIRTIO_BLK_T_IN, 0, &s, true, "read outside guest RAM");
	/* a data length that is not a sector multiple */
	s.gpa = scratch;
	s.len = 100;
	send_bad(&q, VIRTIO_BLK_T_IN, 0, &s, true, "100-byte read");
	/* a write from a private page */
	s.gpa = priv;
	s.len = PAGE_SIZE;
	send_bad(&q, VIRTIO_BLK_T_OUT, 0, &s, false, "write from a private page");
	/* a read into the descriptor table itself */
	s.gpa = GMEM_ABI_POOL_GPA + VBLK_DESC_OFF;
	send_bad(&q, VIRTIO_BLK_T_IN, 0, &s, true, "read into the descriptor table");
	/* a read past the end of the disk */
	s.gpa = scratch;
	send_bad(&q, VIRTIO_BLK_T_IN, info.capacity, &s, true,
		 "read past the end of the disk");
}

/* Unshare a buffer while the device still has its I/O: refused. */
static void unshare_busy(void)
{
	volatile struct gmem_abi_io_results *r = &results->io;
	struct vblk_req q = { .id = BAD_ID };
	uint64_t buf = cpus[0].priv, t;
	struct vblk_seg s = { buf, (uint32_t)cfg.bs };
	int64_t st;

	if (!GUEST_CHECK(__share(buf, cfg.bs) == 0, "share before the busy test"))
		return;
	while (vblk_submit(&q, VIRTIO_BLK_T_IN, 0, &s, 1, true) == -VBLK_EAGAIN)
		vblk_poll();
	vblk_kick();
	t = host_time_ns();
	while (host_time_ns() - t < cfg.delay_ms * 1000000ULL)
		cpu_relax();
	if (cfg.flags & GMEM_ABI_IOF_STEAL_PIN) {
		/* A hostile guest drops the device's pin, then unshares the
		 * buffer the device is about to write: both must fail. */
		st = __doorbell(GMEM_ABI_OP_UNPIN, buf, cfg.bs, 0, NULL);
		r->steal_status = st;
		GUEST_CHECK_EQ(st, -GMEM_ABI_EOPNOTSUPP, "UNPIN of the device's pin");
	}
	st = __unshare(buf, cfg.bs);
	cpus[0].x.ebusy += st == -GMEM_ABI_EBUSY;
	r->busy_status = st;
	GUEST_CHECK_EQ(st, -GMEM_ABI_EBUSY, "unshare during the buffer's own I/O");
	GUEST_CHECK(!q.done, "the I/O was still in flight when unsharing");
	while (!__atomic_load_n(&q.done, __ATOMIC_ACQUIRE))
		if (!vblk_poll())
			cpu_relax();
	st = __unshare(buf, cfg.bs);
	r->busy_after = st;
	GUEST_CHECK_EQ(st, 0, "unshare after the I/O completed");
}

/* Write one word of each page with what it holds (contents unchanged; a
 * write, so the page is faulted in writable). */
static void warm_pages(uint64_t gpa, uint64_t len)
{
	uint64_t off;

	for (off = 0; off < len; off += PAGE_SIZE) {
		volatile uint64_t *w = (volatile uint64_t *)(gpa + off);

		*w = *w;
	}
}

static bool setup(void)
{
	uint64_t shared_gpa, shared_size, region, nblocks, churn_gpa;
	unsigned int nv = boot_info->nr_vcpus, v, i;
	int err;

	cfg = boot_info->io;
	heap_next = GMEM_ABI_HEAP_GPA;
	if (!GUEST_CHECK(cfg.mode >= GMEM_ABI_IO_SHARED && cfg.mode < GMEM_ABI_IO_MODE_MAX &&
			 cfg.rw >= GMEM_ABI_IO_READ && cfg.rw < GMEM_ABI_IO_RW_MAX &&
			 cfg.qd >= 1 && cfg.qd <= GMEM_ABI_IO_MAX_QD &&
			 cfg.bs >= GMEM_ABI_IO_MIN_BS && cfg.bs <= GMEM_ABI_IO_MAX_BS &&
			 !(cfg.bs & (cfg.bs - 1)) && nv <= GMEM_ABI_IO_MAX_VCPUS &&
			 !(cfg.flags & ~GMEM_ABI_IOF_ALL) &&
			 (cfg.mode == GMEM_ABI_IO_MIXED || !(cfg.flags & GMEM_ABI_IOF_CHURN)),
			 "io config: mode %u rw %u qd %u bs %lu vcpus %u flags 0x%x",
			 cfg.mode, cfg.rw, cfg.qd, cfg.bs, nv, cfg.flags))
		return false;
	if (gmem_abi_io_has_pool(cfg.mode) &&
	    !GUEST_CHECK(gmem_abi_io_pool_ok(cfg.pool_size, cfg.bs, nv),
			 "io config: bounce pool of %lu bytes", cfg.pool_size))
		return false;
	if (cfg.mode == GMEM_ABI_IO_PERSISTENT &&
	    !GUEST_CHECK(cfg.persist_size >= cfg.bs && cfg.persist_size <= GMEM_ABI_IO_MAX_BS &&
			 !(cfg.persist_size & (cfg.persist_size - 1)),
			 "io config: persistent buffers of %lu bytes", cfg.persist_size))
		return false;
	shared_gpa = gmem_abi_io_shared_gpa(&cfg, nv);
	shared_size = gmem_abi_io_shared_size(&cfg, nv);
	if (!GUEST_CHECK(gmem_abi_io_meta_gpa(&cfg, nv) + gmem_abi_io_meta_size(&cfg) <=
			 boot_info->mem_size,
			 "guest RAM %lu too small for the run", boot_info->mem_size))
		return false;
	err = vblk_init(&info);
	if (!GUEST_CHECK_EQ(err, 0, "virtio-blk driver init"))
		return false;
	results->io.capacity = info.capacity;
	results->io.queue_size = info.queue_size;
	region = info.capacity * SECTOR / nv / cfg.bs;
	if (!GUEST_CHECK(region >= 2 * cfg.qd, "disk of %lu sectors too small", info.capacity))
		return false;
	nblocks = region;
	if (cfg.span)
		nblocks = min_u64(cfg.span, region);
	else if (cfg.flags & GMEM_ABI_IOF_VERIFY)
		nblocks = min_u64(region, (16ULL << 20) / cfg.bs > 2 * cfg.qd ?
				  (16ULL << 20) / cfg.bs : 2 * cfg.qd);
	if (!GUEST_CHECK(nblocks > cfg.qd, "span of %lu blocks not above qd", nblocks))
		return false;
	if (shared_size && !GUEST_CHECK(__share(shared_gpa, shared_size) == 0,
					"sharing the I/O area 0x%lx+0x%lx", shared_gpa,
					shared_size))
		return false;
	path = cfg.mode == GMEM_ABI_IO_SHARED ? P_SHARED :
	       cfg.mode == GMEM_ABI_IO_BOUNCE ? P_BOUNCE :
	       cfg.mode == GMEM_ABI_IO_PERSISTENT ? P_PERSIST : P_INPLACE;
	/* the bounce pool at the start of the shared area (mixed: then the
	 * shared buffers), its metadata in private memory */
	if (gmem_abi_io_has_pool(cfg.mode)) {
		unsigned int areas = (unsigned int)gmem_abi_io_areas(nv);
		size_t msz = bounce_meta_size(cfg.pool_size, areas);
		uint64_t meta = gmem_abi_io_meta_gpa(&cfg, nv);

		err = msz && msz <= gmem_abi_io_meta_size(&cfg) ?
		      bounce_pool_init(&pool, (void *)meta, msz, (void *)shared_gpa,
				       shared_gpa, cfg.pool_size, areas) : -ENOSPC;
		if (!GUEST_CHECK_EQ(err, 0, "bounce pool init"))
			return false;
	}
	for (v = 0; v < nv; v++) {
		struct cpu_io *c = &cpus[v];

		memset(c, 0, sizeof(*c));
		c->priv = GMEM_ABI_TEST_GPA + v * cfg.qd * cfg.bs;
		c->shared = shared_gpa + v * cfg.qd * cfg.bs +
			    (cfg.mode == GMEM_ABI_IO_MIXED ? cfg.pool_size : 0);
		c->span = nblocks;
		c->base_block = v * region;
		c->rng = (cfg.seed ? cfg.seed : 0x9e3779b97f4a7c15ULL) + v * 0x1234567ULL;
		c->gen = heap_alloc(nblocks * 4);
		c->busy = heap_alloc(nblocks);
		if (!GUEST_CHECK(c->gen && c->busy, "heap: %lu blocks", nblocks))
			return false;
		for (i = 0; i < cfg.qd; i++) {
			c->slots[i].req.id = v * GMEM_ABI_IO_MAX_QD + i;
			c->slots[i].buf = (cfg.mode == GMEM_ABI_IO_SHARED ? c->shared : c->priv) +
					  i * cfg.bs;
			c->slots[i].pbuf = c->priv + i * cfg.bs;
			c->slots[i].sbuf = c->shared + i * cfg.bs;
			c->slots[i].pers = shared_gpa +
					   ((uint64_t)v * cfg.qd + i) * cfg.persist_size;
		}
		for (i = 0; i < 2; i++)
			adapt_init(&c->adapt[i]);
		if (cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER) {
			uint64_t sz = gmem_abi_io_scatter_size(&cfg);

			c->scatter = gmem_abi_io_scatter_gpa(&cfg, nv) + v * sz;
			c->nslots = sz / gmem_abi_io_scatter_piece(cfg.bs);
			c->smap = heap_alloc(c->nslots);
			c->sidx = heap_alloc(c->nslots * 4);
			c->runs = heap_alloc(c->nslots * 16);
			if (!GUEST_CHECK(c->smap && c->sidx && c->runs &&
					 c->scatter + sz <= boot_info->mem_size,
					 "scatter area 0x%lx+0x%lx", c->scatter, sz))
				return false;
			for (i = 0; i < c->nslots; i++)
				c->sidx[i] = i;
		}
		if (cfg.mode == GMEM_ABI_IO_MIXED) {
			churn_gpa = gmem_abi_io_churn_gpa(&cfg, nv);
			c->churn = churn_gpa + v * GMEM_ABI_IO_CHURN_PAGES * PAGE_SIZE;
			if (!GUEST_CHECK(c->churn + GMEM_ABI_IO_CHURN_PAGES * PAGE_SIZE <=
					 boot_info->mem_size, "guest RAM too small for churn"))
				return false;
			for (i = 0; i < GMEM_ABI_IO_CHURN_PAGES; i++) {
				uint64_t g = c->churn + i * PAGE_SIZE;

				*(volatile uint64_t *)g = churn_word(g);
				*(volatile uint64_t *)(g + PAGE_SIZE - 8) =
					churn_word(g + PAGE_SIZE - 8);
			}
		}
	}
	/* Every buffer and the pool touched once before anything is measured:
	 * the first touch of guest RAM faults it in (once per boot in a real
	 * guest, a few us per page here); left in, it would charge whichever
	 * path touches fresh memory first (next fit walks the whole pool) and
	 * mislead adaptive's first measurements. */
	{
		uint64_t t = rdtsc(), n = gmem_abi_io_bufs_size(&cfg, nv) + shared_size;

		warm_pages(GMEM_ABI_TEST_GPA, gmem_abi_io_bufs_size(&cfg, nv));
		warm_pages(shared_gpa, shared_size);
		if (cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER)
			warm_pages(gmem_abi_io_scatter_gpa(&cfg, nv),
				   gmem_abi_io_scatter_size(&cfg) * nv);
		gprintf("io: %lu MiB of buffers and shared area touched in %lu ms\n",
			n >> 20, tsc_to_ns(rdtsc() - t) / 1000000);
	}
	if (cfg.flags & GMEM_ABI_IOF_BAD_DESC)
		bad_requests();
	if (cfg.flags & GMEM_ABI_IOF_UNSHARE_BUSY)
		unshare_busy();
	return true;
}

/* ---- results (vCPU 0) ------------------------------------------------------- */

static uint64_t percentile(uint64_t total, uint64_t num, uint64_t den)
{
	uint64_t want = (total * num + den - 1) / den, sum = 0;
	unsigned int b;

	if (!want)
		want = 1;
	for (b = 0; b < NBUCKETS; b++) {
		sum += hist[b];
		if (sum >= want)
			return bucket_ns(b);
	}
	return 0;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void report(unsigned int nv)
{
	volatile struct gmem_abi_io_results *r = &results->io;
	uint64_t t0 = ~0ULL, t1 = 0, n, sub, comp, unknown, vcpu_ns = 0;
	const struct adapt_class *ac;
	struct io_stats s = { 0 };
	struct run_stats x = { 0 };
	unsigned int v, i, odd = 0;

	for (v = 0; v < nv; v++) {
		struct io_stats *c = &cpus[v].st;
		struct run_stats *cx = &cpus[v].x;

		x.submitted += cx->submitted;
		x.completed += cx->completed;
		x.ebusy += cx->ebusy;
		x.mixed_shared += cx->mixed_shared;
		x.mixed_batches += cx->mixed_batches;
		x.churn_conv += cx->churn_conv;
		x.churn_errors += cx->churn_errors;
		x.inflight_tries += cx->inflight_tries;
		x.inflight_refused += cx->inflight_refused;
		x.inflight_won += cx->inflight_won;
		for (i = 0; i < cfg.qd; i++) {
			struct slot *sl = &cpus[v].slots[i];

			if (sl->submits != sl->completes && !odd++)
				gprintf("io: request id %u: %lu submitted, %lu completed\n",
					sl->req.id, sl->submits, sl->completes);
		}

		s.ios += c->ios;
		s.bytes += c->bytes;
		s.kicks += c->kicks;
		s.conv_calls += c->conv_calls;
		s.conv_ns += tsc_to_ns(c->conv_ns);
		s.conv_host += tsc_to_ns(c->conv_host);
		s.kick_ns += tsc_to_ns(c->kick_ns);
		s.batches += c->batches;
		s.scatter_pieces += c->scatter_pieces;
		s.scatter_runs += c->scatter_runs;
		if (c->t_end > c->t_start)
			vcpu_ns += tsc_to_ns(c->t_end - c->t_start);
		s.conv_refused += c->conv_refused;
		s.conv_kicks += c->conv_kicks;
		s.copy_bytes += c->copy_bytes;
		s.copy_ns += tsc_to_ns(c->copy_ns);
		s.bounce_full += c->bounce_full;
		s.io_errors += c->io_errors;
		s.verified += c->verified;
		s.verify_errors += c->verify_errors;
		s.bounced += c->bounced;
		s.inplaced += c->inplaced;
		if (c->lat_min && (!s.lat_min || c->lat_min < s.lat_min))
			s.lat_min = c->lat_min;
		if (c->lat_max > s.lat_max)
			s.lat_max = c->lat_max;
		if (c->t_start < t0)
			t0 = c->t_start;
		if (c->t_end > t1)
			t1 = c->t_end;
	}
	n = s.ios;
	r->ios = n;
	r->bytes = s.bytes;
	r->elapsed_ns = t1 > t0 ? tsc_to_ns(t1 - t0) : 0;
	r->lat_min_ns = s.lat_min;
	r->lat_max_ns = s.lat_max;
	/* Bucket middles, clamped to what was seen. */
	r->lat_p50_ns = clamp(percentile(n, 50, 100), s.lat_min, s.lat_max);
	r->lat_p99_ns = clamp(percentile(n, 99, 100), s.lat_min, s.lat_max);
	r->lat_p999_ns = clamp(percentile(n, 999, 1000), s.lat_min, s.lat_max);
	r->kicks = s.kicks;
	r->conv_calls = s.conv_calls;
	r->conv_ns = s.conv_ns;
	r->conv_host_ns = s.conv_host;
	r->kick_ns = s.kick_ns;
	r->vcpu_ns = vcpu_ns;
	r->batches = s.batches;
	r->scatter_pieces = s.scatter_pieces;
	r->scatter_runs = s.scatter_runs;
	/* adaptive: vCPU 0's state for the run's main direction */
	ac = &cpus[0].adapt[cfg.rw == GMEM_ABI_IO_WRITE || cfg.rw == GMEM_ABI_IO_RANDWRITE]
		     .cls[adapt_class_of(cfg.bs) < 0 ? 0 : adapt_class_of(cfg.bs)];
	r->adapt_bounce_ns = ac->samples[ADAPT_BOUNCE] ? tsc_to_ns(ac->ewma[ADAPT_BOUNCE]) : 0;
	r->adapt_inplace_ns = ac->samples[ADAPT_INPLACE] ? tsc_to_ns(ac->ewma[ADAPT_INPLACE]) : 0;
	r->adapt_probes = ac->probes;
	r->adapt_switches = ac->switches;
	r->conv_refused = s.conv_refused;
	r->conv_kicks = s.conv_kicks;
	r->copy_bytes = s.copy_bytes;
	r->copy_ns = s.copy_ns;
	r->bounce_full = s.bounce_full;
	r->io_errors = s.io_errors;
	r->verified = s.verified;
	r->verify_errors = s.verify_errors;
	r->bounced = s.bounced;
	r->inplaced = s.inplaced;
	vblk_counters(&sub, &comp, &unknown);
	r->all_submitted = sub;
	r->all_completed = comp;
	r->dup_completions = unknown;
	r->mixed_shared = x.mixed_shared;
	r->mixed_batches = x.mixed_batches;
	r->ebusy_total = x.ebusy;
	r->churn_conv = x.churn_conv;
	r->churn_errors = x.churn_errors;
	r->inflight_tries = x.inflight_tries;
	r->inflight_refused = x.inflight_refused;
	r->inflight_won = x.inflight_won;
	r->done = 1;
	GUEST_CHECK_EQ(x.submitted, x.completed, "workload requests completed");
	GUEST_CHECK_EQ(odd, 0, "request ids with submitted != completed");
	GUEST_CHECK_EQ(sub, comp, "driver requests completed");
	GUEST_CHECK_EQ(unknown, 0, "duplicate or unknown completions");
	GUEST_CHECK_EQ(x.churn_errors, 0, "churn errors");
	GUEST_CHECK_EQ(s.io_errors, 0, "I/O errors");
	GUEST_CHECK_EQ(s.verify_errors, 0, "verify errors");
	if (cfg.flags & GMEM_ABI_IOF_VERIFY)
		GUEST_CHECK(s.verified > 0 || (!cfg.ios && !cfg.runtime_ns),
			    "verification checked %lu sectors", s.verified);
}

static bool has_writes(uint32_t rw)
{
	return rw != GMEM_ABI_IO_READ && rw != GMEM_ABI_IO_RANDREAD;
}

void test_io(unsigned int cpu)
{
	unsigned int nv = boot_info->nr_vcpus;
	struct cpu_io *c = &cpus[cpu];
	uint64_t deadline = 0, prefill = 0, verified = 0, vfail = 0;
	bool verify;

	if (cpu == 0)
		setup_ok = setup();
	smp_barrier();
	if (!setup_ok)
		return;
	verify = cfg.flags & GMEM_ABI_IOF_VERIFY;
	if (verify && (cfg.ios || cfg.runtime_ns)) {
		/* Prefill: the span written once, not measured. */
		c->next_seq = 0;
		run(c, cpu, GMEM_ABI_IO_WRITE, c->span, 0);
		prefill = c->st.ios;
		memset(&c->st, 0, sizeof(c->st));
		c->submitted = 0;
		c->next_seq = 0;
	}
	smp_barrier();
	c->measure = true;
	c->st.t_start = rdtsc();
	if (cfg.runtime_ns)
		deadline = c->st.t_start + ns_to_tsc(cfg.runtime_ns);
	if (cfg.runtime_ns || cfg.ios)
		run(c, cpu, cfg.rw, cfg.runtime_ns ? 0 : cfg.ios, deadline);
	c->st.t_end = rdtsc();
	c->measure = false;
	smp_barrier();
	if (verify && has_writes(cfg.rw) && (cfg.ios || cfg.runtime_ns)) {
		/* Read back everything the run wrote; counted apart. */
		struct io_stats keep = c->st;

		c->submitted = 0;
		c->next_seq = 0;
		run(c, cpu, GMEM_ABI_IO_READ, c->span, 0);
		verified = c->st.verified - keep.verified;
		vfail = c->st.verify_errors - keep.verify_errors;
		keep.io_errors += c->st.io_errors - keep.io_errors;
		c->st = keep;
		c->st.verified += verified;
		c->st.verify_errors += vfail;
	}
	__atomic_fetch_add(&results->io.prefill_ios, prefill, __ATOMIC_RELAXED);
	smp_barrier();
	if (cpu == 0) {
		report(nv);
		gprintf("io: %lu I/Os, %lu sectors verified, %lu verify errors, %lu I/O errors\n",
			results->io.ios, results->io.verified, results->io.verify_errors,
			results->io.io_errors);
	}
}
