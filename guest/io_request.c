// SPDX-License-Identifier: GPL-2.0
/*
 * The guest I/O workload, one request: its path (shared, bounce, persistent,
 * in place; mixed and adaptive choose per request), the copies and
 * conversions it pays and how they are timed for the cost split, the data
 * pattern of verified runs (gmemkit/sector.h) and its latency.
 */
#include "io.h"

/* ---- helpers ----------------------------------------------------------- */

uint64_t io_rng_next(uint64_t *s)
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
uint64_t io_bucket_ns(unsigned int b)
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

uint64_t io_ns_to_tsc(uint64_t ns)
{
	return ns / 1000000ULL * results->tsc_khz +
	       ns % 1000000ULL * results->tsc_khz / 1000000ULL;
}

/*
 * A conversion outside the cost split (churn); -EBUSY answers counted.
 * The range is rounded out to the conversion granule (2 MiB pages convert
 * whole: the layout gives each in-place buffer a granule of its own).
 */
/* [gpa, gpa + len) rounded out to the conversion granule. */
static void round_out(uint64_t *gpa, uint64_t *len)
{
	uint64_t g = gmem_abi_io_granule(&io_cfg), end = *gpa + *len;

	*gpa &= ~(g - 1);
	*len = ((end + g - 1) & ~(g - 1)) - *gpa;
}

int64_t io_convert_raw(struct cpu_io *c, bool to_shared, uint64_t gpa,
			   uint64_t len)
{
	int64_t st;

	round_out(&gpa, &len);
	st = to_shared ? __share(gpa, len) : __unshare(gpa, len);
	if (st == -GMEM_ABI_EBUSY)
		c->x.ebusy++;
	return st;
}

/*
 * One platform call, timed for the cost split: its guest-observed time and,
 * of that, the host's work on it as the VMM reports it (at most the whole).
 * An unshare the device still holds (-EBUSY: it unpins before it publishes
 * the completion) is asked again, a bounded number of times.
 */
static int64_t timed_call1(struct cpu_io *c, bool to_shared, const struct plat_call *call,
			   uint64_t *done)
{
	volatile struct gmem_abi_vcpu_page *pg = this_page();
	bool partial = io_cfg.platform == PLAT_CCA;
	unsigned int tries = 0;
	uint64_t t, dt, host, k;
	int64_t st;

	do {
		pg->conv_host_ns = 0;
		k = queue_kick_count();
		t = rdtsc();
		st = __convert_call(to_shared, call, partial, done);
		dt = rdtsc() - t;
		c->st.conv_kicks += queue_kick_count() - k;
		host = io_ns_to_tsc(pg->conv_host_ns);
		c->st.conv_ns += dt;
		c->st.conv_host += host < dt ? host : dt;
		c->st.conv_calls++;
		if (st == -GMEM_ABI_EBUSY) {
			c->st.conv_refused++;
			c->x.ebusy++;
			cpu_relax();
		}
	} while (st == -GMEM_ABI_EBUSY && !*done && ++tries < 1000000);
	c->st.conv_pages += call->pages;
	c->st.conv_entries += call->n;
	return st;
}

/* A list on a transport without lists (the hypercall): one call per range. */
static int64_t timed_call(struct cpu_io *c, bool to_shared, const struct plat_call *call,
			  uint64_t *done)
{
	uint64_t g = gmem_abi_io_granule(&io_cfg), d;
	struct plat_call one;
	unsigned int k;
	int64_t st = 0;

	if (call->n == 1 || boot_info->transport != GMEM_ABI_TRANSPORT_HYPERCALL)
		return timed_call1(c, to_shared, call, done);
	*done = 0;
	for (k = 0; k < call->n && !st; k++) {
		one.n = 1;
		one.r[0] = call->r[k];
		one.pages = call->r[k].len / g;
		st = timed_call1(c, to_shared, &one, &d);
		*done += d;
	}
	return st;
}

/* Of a call of bytes, what the host says it did, as plat_done() counts it. */
static uint64_t call_done(const struct plat_call *call, uint64_t done)
{
	uint64_t g = gmem_abi_io_granule(&io_cfg), all = call->pages * g;

	return (done > all ? all : done) & ~(g - 1);
}

int64_t io_convert_ranges_until(struct cpu_io *c, bool to_shared, struct plat_range *r,
				unsigned int nr, uint64_t max, uint64_t *conv)
{
	uint64_t g = gmem_abi_io_granule(&io_cfg), done;
	struct plat_call call;
	struct plat_iter it;
	unsigned int i;
	int64_t st = 0;

	*conv = 0;
	for (i = 0; i < nr; i++)
		round_out(&r[i].gpa, &r[i].len);
	if (plat_iter_init(&it, (enum plat)io_cfg.platform, g, r, nr))
		return -GMEM_ABI_EINVAL;
	while (!(max && *conv >= max) && plat_next(&it, &call)) {
		st = timed_call(c, to_shared, &call, &done);
		if (st && !done)
			break;		/* no progress: the caller sees why */
		st = 0;
		*conv += call_done(&call, done);
		plat_done(&it, &call, done);
	}
	if (to_shared)
		c->st.conv_bytes += *conv;
	return st;
}

/*
 * A conversion in the cost split, made of the calls the run's platform
 * makes (gmemkit/platform.h): each range rounded out to the conversion
 * granule (2 MiB pages convert whole).  Returns 0 or the error that
 * stopped it.
 */
int64_t io_convert_ranges(struct cpu_io *c, bool to_shared, struct plat_range *r,
			  unsigned int nr)
{
	uint64_t conv;

	return io_convert_ranges_until(c, to_shared, r, nr, 0, &conv);
}

/* r[0..nr) cut to its first bytes (in order); returns the ranges left. */
static unsigned int ranges_head(struct plat_range *r, unsigned int nr, uint64_t bytes)
{
	unsigned int i;

	for (i = 0; i < nr && bytes; i++) {
		if (r[i].len > bytes)
			r[i].len = bytes;
		bytes -= r[i].len;
	}
	return i;
}

/* The part converted (the first conv bytes of r) converted back. */
static int64_t undo_part(struct cpu_io *c, bool to_shared, const struct plat_range *r,
			 unsigned int nr, uint64_t conv)
{
	struct plat_range part[GMEM_ABI_IO_MAX_QD];
	unsigned int i;

	for (i = 0; i < nr; i++)
		part[i] = r[i];
	return io_convert_ranges(c, !to_shared, part, ranges_head(part, nr, conv));
}

int io_share_sampled(struct cpu_io *c, bool write, struct plat_range *r, unsigned int nr,
		     unsigned int n, enum adapt_path p, uint64_t *trial)
{
	uint64_t budget = adapt_budget(&c->adapt[write], io_cfg.bs);
	uint64_t t = c->st.conv_ns, conv = 0, total = 0, est;
	unsigned int i;
	int64_t st;

	*trial = 0;
	if (nr > GMEM_ABI_IO_MAX_QD)	/* undo_part()'s copy holds that many */
		return -GMEM_ABI_EIO;
	for (i = 0; i < nr; i++) {	/* as the conversion rounds them */
		round_out(&r[i].gpa, &r[i].len);
		total += r[i].len;
	}
	st = io_convert_ranges_until(c, true, r, nr, budget ? total / IO_TRIAL_PARTS : 0, &conv);
	if (!st && conv == total)
		return 0;	/* in one go: no part to try on its own */
	if (conv && undo_part(c, true, r, nr, conv)) {
		GUEST_CHECK(false, "adaptive: unshare of the part tried failed");
		return -GMEM_ABI_EIO;
	}
	if (st) {
		GUEST_CHECK(false, "adaptive: share of %u buffer(s): status %ld", n, st);
		return -GMEM_ABI_EIO;
	}
	/* the whole's share and unshare per request, from the part's */
	*trial = c->st.conv_ns - t;
	est = (uint64_t)((__uint128_t)*trial * total / conv / n);
	if (est > budget) {
		adapt_record(&c->adapt[write], io_cfg.bs, p, est);
		c->st.samples_stopped++;
		return 1;
	}
	if (io_convert_ranges(c, true, r, nr)) {	/* close enough: the whole */
		GUEST_CHECK(false, "adaptive: share of %u buffer(s) after the trial", n);
		return -GMEM_ABI_EIO;
	}
	return 0;
}

int64_t io_convert(struct cpu_io *c, bool to_shared, uint64_t gpa, uint64_t len)
{
	struct plat_range r = { gpa, len };

	return io_convert_ranges(c, to_shared, &r, 1);
}

/* Unshare after the device is done: the device unpins before it
 * publishes, so a refusal is transient (io_convert_ranges() asks again). */
void io_unshare_done(struct cpu_io *c, uint64_t gpa, uint64_t len)
{
	int64_t st = io_convert(c, false, gpa, len);

	if (st)
		GUEST_CHECK(false, "unshare 0x%lx+0x%lx after I/O: status %ld", gpa, len, st);
}

/* One QueueNotify (an ioeventfd exit), timed: the kick cost the split uses. */
void io_kick_timed(struct cpu_io *c)
{
	uint64_t t = rdtsc();

	c->st.kicks += (uint64_t)gblk_kick();
	c->st.kick_ns += rdtsc() - t;
}

/* ---- data pattern -------------------------------------------------------- */

static uint32_t tag(void)
{
	return GMEM_ABI_IO_TAG(io_cfg.mode);
}

static void stamp(uint64_t buf, uint64_t lba, uint32_t gen, uint64_t len)
{
	uint64_t n = len / SECTOR, i;

	for (i = 0; i < n; i++)
		sector_stamp(gpa_ptr(buf + i * SECTOR), lba + i, gen, tag(),
			     io_cfg.flags & GMEM_ABI_IOF_VERIFY_ALL);
}

static void poison(uint64_t buf, uint64_t len)
{
	uint64_t n = len / SECTOR, i;

	for (i = 0; i < n; i++)
		sector_poison(gpa_ptr(buf + i * SECTOR), io_cfg.flags & GMEM_ABI_IOF_VERIFY_ALL);
}

/* Each sector must hold a generation in [lo, hi] written by this mode
 * (generation 0: never written, a blank sector). */
static void check(struct cpu_io *c, uint64_t buf, uint64_t lba, uint32_t lo,
		  uint32_t hi, uint64_t len)
{
	uint64_t n = len / SECTOR, i;
	enum sector_state st;
	uint32_t g, t;

	for (i = 0; i < n; i++) {
		const void *p = gpa_ptr(buf + i * SECTOR);

		c->st.verified++;
		st = io_cfg.flags & GMEM_ABI_IOF_VERIFY_ALL ?
		     sector_decode_all(p, lba + i, &g, &t) :
		     sector_decode(p, lba + i, &g, &t);
		if (st == SECTOR_BLANK && !lo)
			continue;
		if (st != SECTOR_VALID || g < lo || g > hi || !g || t != tag()) {
			if (!c->st.verify_errors)	/* the first: named */
				GUEST_CHECK(false, "verify: sector %lu: got %lx %x:%x, want "
					    "generation %u..%u", lba + i,
					    *(const volatile uint64_t *)p, g, t, lo, hi);
			c->st.verify_errors++;
		}
	}
}

/* The data of slot s: one buffer, or (scatter) its pieces in order. */
static void data_stamp(struct slot *s, uint64_t lba, uint32_t gen)
{
	uint64_t piece = gmem_abi_io_scatter_piece(io_cfg.bs);
	unsigned int k;

	if (io_cfg.mode != GMEM_ABI_IO_INPLACE_SCATTER) {
		stamp(s->buf, lba, gen, io_cfg.bs);
		return;
	}
	for (k = 0; k < s->nsg; k++)
		stamp(s->sg[k], lba + k * (piece / SECTOR), gen, piece);
}

static void data_poison(struct slot *s)
{
	uint64_t piece = gmem_abi_io_scatter_piece(io_cfg.bs);
	unsigned int k;

	if (io_cfg.mode != GMEM_ABI_IO_INPLACE_SCATTER) {
		poison(s->buf, io_cfg.bs);
		return;
	}
	for (k = 0; k < s->nsg; k++)
		poison(s->sg[k], piece);
}

static void data_check(struct cpu_io *c, struct slot *s, uint64_t lba)
{
	uint64_t piece = gmem_abi_io_scatter_piece(io_cfg.bs);
	uint32_t lo = c->gen_lo[s->block], hi = c->gen[s->block];
	unsigned int k;

	if (io_cfg.mode != GMEM_ABI_IO_INPLACE_SCATTER) {
		check(c, s->buf, lba, lo, hi, io_cfg.bs);
		return;
	}
	for (k = 0; k < s->nsg; k++)
		check(c, s->sg[k], lba + k * (piece / SECTOR), lo, hi, piece);
}

/* ---- one request ------------------------------------------------------- */

static enum path slot_path(struct cpu_io *c)
{
	static const enum path mixed[3] = { P_SHARED, P_BOUNCE, P_INPLACE };

	if (io_cfg.mode == GMEM_ABI_IO_ADAPTIVE)
		return P_BOUNCE;	/* see adaptive_path() */
	if (io_cfg.mode != GMEM_ABI_IO_MIXED)
		return io_mode_path;
	return mixed[io_rng_next(&c->rng) % 3];
}

/* adaptive: the path the measured costs say, for this size and direction
 * (*batched: in place, in the pass's batch). */
static enum path adaptive_path(struct cpu_io *c, bool write, bool *batched)
{
	enum adapt_path ap;

	*batched = false;
	if (adapt_choose(&c->adapt[write], io_cfg.bs, &ap)) {
		GUEST_CHECK(false, "adaptive: no decision for size %lu", io_cfg.bs);
		return P_BOUNCE;
	}
	*batched = ap == ADAPT_BATCH;
	return ap == ADAPT_INPLACE || ap == ADAPT_BATCH ? P_INPLACE :
	       ap == ADAPT_PERSIST ? P_PERSIST : P_BOUNCE;
}

static bool want_write(struct cpu_io *c, uint32_t rw)
{
	switch (rw) {
	case GMEM_ABI_IO_WRITE:
	case GMEM_ABI_IO_RANDWRITE:
		return true;
	case GMEM_ABI_IO_RANDRW:
		return io_rng_next(&c->rng) & 1;
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
		b = io_rng_next(&c->rng) % c->span;
	if (io_cfg.flags & GMEM_ABI_IOF_VERIFY)
		while (c->busy[b])
			b = (b + 1) % c->span;
	return b;
}

static void bounce_release(struct slot *s, unsigned int n, enum bounce_dir dir)
{
	unsigned int k;

	for (k = 0; k < n; k++)
		bounce_unmap(&io_pool, s->baddr[k], GMEM_ABI_IO_BOUNCE_SEG < io_cfg.bs ?
			     GMEM_ABI_IO_BOUNCE_SEG : io_cfg.bs, dir,
			     BOUNCE_F_SKIP_CPU_SYNC);
}

/* Map the buffer through the pool into segs; -GBLK_EAGAIN if it is full. */
static int bounce_in(struct cpu_io *c, unsigned int cpu, struct slot *s,
		     struct gblk_seg *segs, unsigned int *nseg)
{
	uint64_t chunk = io_cfg.bs < GMEM_ABI_IO_BOUNCE_SEG ? io_cfg.bs : GMEM_ABI_IO_BOUNCE_SEG;
	enum bounce_dir dir = s->write ? BOUNCE_TO_DEVICE : BOUNCE_FROM_DEVICE;
	unsigned int k, n = (unsigned int)(io_cfg.bs / chunk);
	uint64_t t = rdtsc();
	int err;

	for (k = 0; k < n; k++) {
		/* Linux: the original is copied in for every direction */
		err = bounce_map(&io_pool, cpu, gpa_ptr(s->buf + k * chunk), s->buf + k * chunk,
				 chunk, dir, NULL, 0, &s->baddr[k]);
		if (err) {
			bounce_release(s, k, dir);
			c->st.bounce_full++;
			return -GBLK_EAGAIN;
		}
		segs[k].gpa = s->baddr[k];
		segs[k].len = (uint32_t)chunk;
	}
	c->st.copy_ns += rdtsc() - t;
	c->st.copy_bytes += io_cfg.bs;
	*nseg = n;
	return 0;
}

static void bounce_out(struct cpu_io *c, struct slot *s)
{
	uint64_t chunk = io_cfg.bs < GMEM_ABI_IO_BOUNCE_SEG ? io_cfg.bs : GMEM_ABI_IO_BOUNCE_SEG;
	enum bounce_dir dir = s->write ? BOUNCE_TO_DEVICE : BOUNCE_FROM_DEVICE;
	unsigned int k, n = (unsigned int)(io_cfg.bs / chunk);
	uint64_t t = rdtsc();

	for (k = 0; k < n; k++)
		if (bounce_unmap(&io_pool, s->baddr[k], chunk, dir, 0))
			GUEST_CHECK(false, "bounce_unmap 0x%lx failed", s->baddr[k]);
	c->st.copy_ns += rdtsc() - t;
	if (!s->write)
		c->st.copy_bytes += io_cfg.bs;
}

/* Does an in-place request keep its data apart (the platform destroys
 * contents on conversion)? */
static bool keeps(enum path p)
{
	return p == P_INPLACE && gmem_abi_io_platform_destroys(io_cfg.platform);
}

/* Copy bs bytes between the keep buffer and the request's buffer (or its
 * scatter pieces, in order): the copy a destroying platform makes an
 * in-place I/O pay.  to_buf: keep -> buffer (a write, after the share). */
static void keep_copy(struct cpu_io *c, struct slot *s, bool to_buf)
{
	uint64_t piece = gmem_abi_io_scatter_piece(io_cfg.bs), t = rdtsc();
	unsigned int k;

	if (io_cfg.mode != GMEM_ABI_IO_INPLACE_SCATTER) {
		if (to_buf)
			memcpy(gpa_ptr(s->buf), gpa_ptr(s->keep), io_cfg.bs);
		else
			memcpy(gpa_ptr(s->keep), gpa_ptr(s->buf), io_cfg.bs);
	} else {
		for (k = 0; k < s->nsg; k++) {
			if (to_buf)
				memcpy(gpa_ptr(s->sg[k]), gpa_ptr(s->keep + k * piece), piece);
			else
				memcpy(gpa_ptr(s->keep + k * piece), gpa_ptr(s->sg[k]), piece);
		}
	}
	t = rdtsc() - t;
	c->st.copy_ns += t;
	c->st.keep_ns += t;
	c->st.copy_bytes += io_cfg.bs;
	c->st.keep_bytes += io_cfg.bs;
}

void io_keep_out(struct cpu_io *c, struct slot *s)
{
	if (keeps(s->path) && !s->write)
		keep_copy(c, s, false);
}

/* persistent: a write copies the data into the request's always-shared
 * buffer before the device sees it; a read copies it out afterwards.
 * Exactly bs bytes per I/O, no allocation, no conversion. */
static void persist_copy(struct cpu_io *c, uint64_t dst, uint64_t src)
{
	uint64_t t = rdtsc();

	memcpy(gpa_ptr(dst), gpa_ptr(src), io_cfg.bs);
	c->st.copy_ns += rdtsc() - t;
	c->st.copy_bytes += io_cfg.bs;
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
	return (c->base_block + s->block) * (io_cfg.bs / SECTOR);
}

/* The next request of slot s: its start time, direction and path. */
static void plan(struct cpu_io *c, struct slot *s, uint32_t rw, bool batch)
{
	enum path p = batch ? P_INPLACE : slot_path(c);

	s->unshared = false;
	s->batched = false;
	s->recorded = false;
	s->pre_prot = 0;
	if (io_cfg.mode == GMEM_ABI_IO_MIXED) {
		s->buf = p == P_SHARED ? s->sbuf : s->pbuf;
		c->x.mixed_shared += p == P_SHARED;
	}
	s->t0 = rdtsc();
	s->write = want_write(c, rw);
	if (io_cfg.mode == GMEM_ABI_IO_ADAPTIVE)
		p = adaptive_path(c, s->write, &s->batched);
	s->path = p;
}

void io_slot_plan(struct cpu_io *c, struct slot *s, uint32_t rw)
{
	plan(c, s, rw, false);
	s->planned = true;
}

/*
 * Share slot s's buffer for its in-place request.  adaptive samples it
 * within the budget (io_share_sampled()): if that ran out, the request
 * bounces instead (*p, s->path), its data where a bounce takes it from.
 * 0, or -GMEM_ABI_EIO.
 */
static int inplace_share(struct cpu_io *c, struct slot *s, enum path *p, uint64_t *trial)
{
	struct plat_range r = { s->buf, io_cfg.bs };
	int st;

	*trial = 0;
	if (io_cfg.mode != GMEM_ABI_IO_ADAPTIVE) {
		if (!io_convert(c, true, s->buf, io_cfg.bs))
			return 0;
		GUEST_CHECK(false, "share of buffer 0x%lx failed", s->buf);
		return -GMEM_ABI_EIO;
	}
	st = io_share_sampled(c, s->write, &r, 1, 1, ADAPT_INPLACE, trial);
	if (st <= 0)
		return st;
	if (keeps(P_INPLACE) && s->write)	/* its data: in the keep buffer */
		keep_copy(c, s, true);
	s->recorded = true;
	*p = s->path = P_BOUNCE;
	return 0;
}

/* Start the request of slot s (batch: the buffers are shared already; a
 * planned batched request: its buffer too).  0, or -GBLK_EAGAIN to retry
 * after completions. */
int io_slot_start(struct cpu_io *c, unsigned int cpu, struct slot *s,
		      uint32_t rw, bool batch)
{
	struct gblk_seg segs[MAX_SEGS];
	bool verify = io_cfg.flags & GMEM_ABI_IOF_VERIFY;
	unsigned int nseg = 1, k;
	uint64_t lba, before, trial;
	enum path p;
	int err;

	if (!s->planned) {
		plan(c, s, rw, batch);
		s->batched = false;	/* no pass to batch with: one call */
	} else if (s->batched) {
		batch = true;	/* shared with its pass's batch */
	}
	s->planned = false;
	p = s->path;
	s->block = pick_block(c, rw);
	lba = slot_lba(c, s);
	if (verify && keeps(p)) {	/* the data's home is the keep buffer */
		if (s->write)
			stamp(s->keep, lba, c->gen[s->block] + 1, io_cfg.bs);
		else
			poison(s->keep, io_cfg.bs);
	} else if (verify) {
		if (s->write)
			data_stamp(s, lba, c->gen[s->block] + 1);
		else
			data_poison(s);
	}
	segs[0].gpa = s->buf;
	segs[0].len = (uint32_t)io_cfg.bs;
	if (io_cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER) {
		for (k = 0; k < s->nsg; k++) {
			segs[k].gpa = s->sg[k];
			segs[k].len = (uint32_t)gmem_abi_io_scatter_piece(io_cfg.bs);
		}
		nseg = s->nsg;
	}
	before = c->st.copy_ns + c->st.conv_ns;
	if (p == P_INPLACE && !batch) {
		if (inplace_share(c, s, &p, &trial))
			return -GMEM_ABI_EIO;
		before += trial;	/* a sample's trial: not the path's cost */
	}
	if (p == P_BOUNCE) {
		err = bounce_in(c, cpu, s, segs, &nseg);
		if (err)
			return err;
		c->st.bounced++;
	} else if (p == P_PERSIST) {
		persist_in(c, s);
		c->st.persisted++;
		segs[0].gpa = s->pers;
	} else if (p == P_INPLACE) {
		if (keeps(p) && s->write)	/* the share zeroed the buffer */
			keep_copy(c, s, true);
		c->st.inplaced++;
		c->st.batched += s->batched;
	}
	s->prot = c->st.copy_ns + c->st.conv_ns - before + s->pre_prot;
	if (verify) {
		if (s->write)
			c->gen[s->block]++;
		c->busy[s->block] = 1;
	}
	while ((err = gblk_submit(&s->req, s->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
				  lba, segs, nseg, !s->write)) == -GBLK_EAGAIN) {
		io_kick_timed(c);
		gblk_poll();
	}
	s->inflight = true;
	s->seq = ++c->seq;
	s->submits++;
	c->submitted++;
	c->x.submitted++;
	return err;
}

void io_record_latency(struct cpu_io *c, uint64_t t0)
{
	uint64_t ns = tsc_to_ns(rdtsc() - t0);

	if (!c->measure)
		return;
	if (!c->st.lat_min || ns < c->st.lat_min)
		c->st.lat_min = ns;
	if (ns > c->st.lat_max)
		c->st.lat_max = ns;
	__atomic_fetch_add(&io_hist[bucket_of(ns)], 1, __ATOMIC_RELAXED);
}

/* The device is done with slot s. */
void io_slot_finish(struct cpu_io *c, struct slot *s, bool batch)
{
	enum path p = s->path;
	uint64_t before = c->st.copy_ns + c->st.conv_ns;

	s->inflight = false;
	s->completes++;
	c->x.completed++;
	if (s->seq > c->done_seq)
		c->done_seq = s->seq;
	if (s->req.status != VIRTIO_BLK_S_OK) {
		c->st.io_errors++;
		c->x.io_errors++;
	}
	if (p == P_BOUNCE)
		bounce_out(c, s);
	else if (p == P_PERSIST)
		persist_out(c, s);
	if (!batch && !s->batched && !s->unshared)	/* before the unshare zeroes it */
		io_keep_out(c, s);
	if (p == P_INPLACE && !batch && !s->batched && !s->unshared)
		io_unshare_done(c, s->buf, io_cfg.bs);
	s->prot += c->st.copy_ns + c->st.conv_ns - before;
	if (io_cfg.mode == GMEM_ABI_IO_ADAPTIVE && !s->recorded)
		adapt_record(&c->adapt[s->write], io_cfg.bs,
			     p == P_INPLACE ? (s->batched ? ADAPT_BATCH : ADAPT_INPLACE) :
			     p == P_PERSIST ? ADAPT_PERSIST : ADAPT_BOUNCE, s->prot);
	if (!batch)
		io_record_latency(c, s->t0);
	if (io_cfg.flags & GMEM_ABI_IOF_VERIFY) {
		bool ok = s->req.status == VIRTIO_BLK_S_OK;

		if (!s->write && ok && keeps(p))
			check(c, s->keep, slot_lba(c, s), c->gen_lo[s->block],
			      c->gen[s->block], io_cfg.bs);
		else if (!s->write && ok)
			data_check(c, s, slot_lba(c, s));
		else if (s->write && ok)
			c->gen_lo[s->block] = c->gen[s->block];	/* settled */
		c->busy[s->block] = 0;
	}
	c->st.ios++;
	c->st.bytes += io_cfg.bs;
}
