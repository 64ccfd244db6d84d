// SPDX-License-Identifier: GPL-2.0
/*
 * The guest I/O workload, runs: qd requests kept in flight per vCPU (or
 * batches of them: inplace-batch, inplace-scatter) until a count or a
 * deadline, and the mixed mode's churn (random scratch conversions and
 * unshares of buffers the device holds).
 */
#include "io.h"

/* ---- churn (GMEM_ABI_IOF_CHURN) ------------------------------------------ */

uint64_t io_churn_word(uint64_t gpa)
{
	return gmem_abi_pattern(io_cfg.seed + 0xc4, gpa);
}

static bool scratch_ok(uint64_t gpa)
{
	volatile uint64_t *w = gpa_ptr(gpa);

	return w[0] == io_churn_word(gpa) &&
	       w[PAGE_SIZE / 8 - 1] == io_churn_word(gpa + PAGE_SIZE - 8);
}

/* Unshare the buffer of an in-place request of this vCPU that the device
 * holds: one submitted before a request that completed already (the
 * device takes requests in ring order and pins their buffers as it takes
 * them) and not completed itself.  -EBUSY is the answer; 0 only if the
 * device unpinned it between our look and the call (it then publishes the
 * completion): counted, and the request's own unshare is skipped. */
static void unshare_held(struct cpu_io *c)
{
	unsigned int i, k = (unsigned int)(io_rng_next(&c->rng) % io_cfg.qd);
	int64_t st;

	for (i = 0; i < io_cfg.qd; i++) {
		struct slot *s = &c->slots[(i + k) % io_cfg.qd];

		if (!s->inflight || s->path != P_INPLACE || s->unshared ||
		    s->seq >= c->done_seq ||
		    __atomic_load_n(&s->req.done, __ATOMIC_ACQUIRE))
			continue;
		c->x.inflight_tries++;
		st = io_convert_raw(c, false, s->buf, io_cfg.bs);
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
	unsigned int pg = (unsigned int)(io_rng_next(&c->rng) % GMEM_ABI_IO_CHURN_PAGES);
	uint64_t gpa = c->churn + pg * PAGE_SIZE;
	bool shared = c->churn_shared >> pg & 1;
	int64_t st;

	unshare_held(c);
	st = io_convert_raw(c, !shared, gpa, PAGE_SIZE);
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

/* ABANDON: fill every free slot, kick, and leave them to the device. */
static void abandon(struct cpu_io *c, unsigned int cpu, uint32_t rw)
{
	unsigned int i;

	for (i = 0; i < io_cfg.qd; i++)
		if (!c->slots[i].inflight && io_slot_start(c, cpu, &c->slots[i], rw, false))
			break;
	io_kick_timed(c);
}

/* Adjacent ranges (r in address order) merged in place; returns how many
 * remain. */
static unsigned int coalesce(struct plat_range *r, unsigned int n)
{
	unsigned int i, m = 0;

	for (i = 0; i < n; i++) {
		if (m && r[m - 1].gpa + r[m - 1].len == r[i].gpa)
			r[m - 1].len += r[i].len;
		else
			r[m++] = r[i];
	}
	return m;
}

/*
 * adaptive's batched path, after the I/O: the pass's completed batched
 * requests (n, buffers in r in address order, slots in b) unshared in one
 * io_convert_ranges() (adjacent buffers merged; a list where the platform
 * takes one), after the keep copies of the reads, each charged an equal
 * part of it in prot.
 */
static void batch_unshare(struct cpu_io *c, struct plat_range *r, struct slot **b,
			  unsigned int n)
{
	uint64_t t = c->st.conv_ns, part;
	unsigned int k;
	int64_t st;

	st = io_convert_ranges(c, false, r, coalesce(r, n));
	part = (c->st.conv_ns - t) / n;
	for (k = 0; k < n; k++)
		b[k]->prot += part;
	if (st)
		GUEST_CHECK(false, "adaptive: batched unshare of %u buffers: status %ld", n, st);
}

/*
 * The pass's batched requests' buffers shared in one io_convert_ranges()
 * (a sample of the batched path within its budget if they go one way;
 * if that ran out, none stays shared and they bounce instead), each
 * charged an equal part in pre_prot.  false: a call failed.
 */
static bool batch_share(struct cpu_io *c, struct plat_range *r, struct slot **b,
			unsigned int n)
{
	uint64_t t = c->st.conv_ns, part, trial = 0;
	unsigned int k, nr = coalesce(r, n);
	bool one_way = true;
	int st;

	for (k = 1; k < n; k++)
		one_way &= b[k]->write == b[0]->write;
	if (one_way)
		st = io_share_sampled(c, b[0]->write, r, nr, n, ADAPT_BATCH, &trial);
	else if ((st = (int)io_convert_ranges(c, true, r, nr)))
		GUEST_CHECK(false, "adaptive: batched share of %u buffers: status %d", n, st);
	part = (c->st.conv_ns - t - (st == 1 ? 0 : trial)) / n;
	for (k = 0; k < n; k++) {
		b[k]->pre_prot = part;
		if (st == 1) {
			b[k]->batched = false;
			b[k]->recorded = true;
			b[k]->path = P_BOUNCE;
		}
	}
	return st >= 0;
}

/* adaptive: decide every free slot's request first (no more than the
 * limit leaves), share the batched ones' buffers together, then start
 * them all.  Returns the requests started; *err: a failure. */
static unsigned int adaptive_fill(struct cpu_io *c, unsigned int cpu, uint32_t rw,
				  uint64_t limit, int *err)
{
	struct plat_range r[GMEM_ABI_IO_MAX_QD];
	struct slot *b[GMEM_ABI_IO_MAX_QD];
	unsigned int i, n = 0, nb = 0, started = 0;
	uint64_t left = limit ? limit - c->submitted : ~0ULL;

	for (i = 0; i < io_cfg.qd && n < left; i++) {
		struct slot *s = &c->slots[i];

		if (s->inflight)
			continue;
		io_slot_plan(c, s, rw);
		n++;
		if (s->batched) {
			r[nb] = (struct plat_range){ s->buf, io_cfg.bs };
			b[nb++] = s;
		}
	}
	if (nb && !batch_share(c, r, b, nb)) {
		*err = -GMEM_ABI_EIO;
		return 0;
	}
	for (i = 0; i < io_cfg.qd; i++) {
		struct slot *s = &c->slots[i];
		int e;

		if (!s->planned)
			continue;
		/* -GBLK_EAGAIN (a bounce with the pool full): that slot is
		 * decided again next pass; the others still start (the
		 * batched ones' buffers are shared). */
		e = io_slot_start(c, cpu, s, rw, false);
		if (!e)
			started++;
		else if (e != -GBLK_EAGAIN && !*err)
			*err = e;
	}
	return started;
}

/* Finish the completed requests; adaptive's batched ones unshared in one
 * call after the others.  Returns how many. */
static unsigned int reap(struct cpu_io *c)
{
	struct plat_range r[GMEM_ABI_IO_MAX_QD];
	struct slot *b[GMEM_ABI_IO_MAX_QD];
	bool adaptive = io_cfg.mode == GMEM_ABI_IO_ADAPTIVE;
	unsigned int i, n = 0, nb = 0, dir[2] = { 0, 0 };
	uint64_t scan = adaptive ? rdtsc() : 0;	/* its rate checks: the scan's time */

	for (i = 0; i < io_cfg.qd; i++) {
		struct slot *s = &c->slots[i];
		uint64_t t;

		if (!s->inflight || !__atomic_load_n(&s->req.done, __ATOMIC_ACQUIRE))
			continue;
		n++;
		dir[s->write]++;
		if (!s->batched || s->unshared) {	/* unshared by churn */
			io_slot_finish(c, s, false);
			continue;
		}
		t = c->st.copy_ns;
		io_keep_out(c, s);
		s->prot += c->st.copy_ns - t;
		r[nb] = (struct plat_range){ s->buf, io_cfg.bs };
		b[nb++] = s;
	}
	if (nb)
		batch_unshare(c, r, b, nb);
	for (i = 0; i < nb; i++)
		io_slot_finish(c, b[i], false);
	for (i = 0; adaptive && i < 2; i++)
		if (dir[i])
			adapt_completed(&c->adapt[i], io_cfg.bs, dir[i], scan);
	return n;
}

/* Keep qd requests in flight until the limit or deadline, then drain. */
static void run_stream(struct cpu_io *c, unsigned int cpu, uint32_t rw,
		       uint64_t limit, uint64_t deadline)
{
	bool churning = (io_cfg.flags & GMEM_ABI_IOF_CHURN) && c->measure;
	unsigned int i, inflight = 0, reaped;
	int err = 0;

	for (;;) {
		bool kick = false, go = more(c, limit, deadline);

		/* mixed: now and then one inplace-batch batch */
		if (io_cfg.mode == GMEM_ABI_IO_MIXED && go && !inflight &&
		    io_rng_next(&c->rng) % 8 == 0) {
			unsigned int n = 1 + (unsigned int)(io_rng_next(&c->rng) % io_cfg.qd);

			if (limit && limit - c->submitted < n)
				n = (unsigned int)(limit - c->submitted);
			if (!one_batch(c, cpu, rw, n))
				return;
			c->x.mixed_batches++;
			continue;
		}

		if (io_cfg.mode == GMEM_ABI_IO_ADAPTIVE && go) {
			i = adaptive_fill(c, cpu, rw, limit, &err);
			inflight += i;
			kick = i > 0;
			if (err)
				c->failed = true;
			go = false;
		}
		for (i = 0; go && i < io_cfg.qd; i++) {
			struct slot *s = &c->slots[i];

			if (s->inflight)
				continue;
			err = io_slot_start(c, cpu, s, rw, false);
			if (err) {
				c->failed = err != -GBLK_EAGAIN;
				break;
			}
			inflight++;
			kick = true;
			go = more(c, limit, deadline);
		}
		if (kick)
			io_kick_timed(c);
		if (!more(c, limit, deadline)) {
			/* ABANDON: the measured run ends with every slot in flight */
			if ((io_cfg.flags & GMEM_ABI_IOF_ABANDON) && c->measure) {
				abandon(c, cpu, rw);
				return;
			}
			if (!inflight)
				break;
		}
		if (!gblk_poll())
			cpu_relax();
		reaped = reap(c);
		inflight -= reaped;
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
		io_slot_start(c, cpu, &c->slots[i], rw, true);
	io_kick_timed(c);
	for (i = 0; i < n; i++)
		while (!__atomic_load_n(&c->slots[i].req.done, __ATOMIC_ACQUIRE))
			if (!gblk_poll())
				cpu_relax();
}

/* Before the batch's unshare: the reads' data out of the shared buffers
 * where the platform destroys contents on conversion. */
static void batch_keep_out(struct cpu_io *c, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		io_keep_out(c, &c->slots[i]);
}

/* After the batch's unshare: finish every request, latency from t0. */
static void batch_finish(struct cpu_io *c, unsigned int n, uint64_t t0)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		io_slot_finish(c, &c->slots[i], true);
		io_record_latency(c, t0);
	}
	c->st.batches++;
}

/* inplace-batch: one share and one unshare of the batch's contiguous
 * buffers per batch of up to qd requests. */
static bool one_batch(struct cpu_io *c, unsigned int cpu, uint32_t rw,
		      unsigned int n)
{
	uint64_t t0 = rdtsc();

	if (io_convert(c, true, c->priv, n * io_cfg.bs)) {
		GUEST_CHECK(false, "batch share of 0x%lx+0x%lx failed", c->priv,
			    n * io_cfg.bs);
		return false;
	}
	batch_run(c, cpu, rw, n);
	batch_keep_out(c, n);
	io_unshare_done(c, c->priv, n * io_cfg.bs);
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
	uint64_t piece = gmem_abi_io_scatter_piece(io_cfg.bs), np = io_cfg.bs / piece;
	uint64_t t0 = rdtsc(), m = 0, nr = 0, j, end;
	unsigned int i, k;

	memset(c->smap, 0, c->nslots);
	for (i = 0; i < n; i++) {
		struct slot *s = &c->slots[i];

		for (k = 0; k < np; k++, m++) {
			uint64_t r = m + io_rng_next(&c->rng) % (c->nslots - m);
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
		c->runs[nr].gpa = c->scatter + j * piece;
		c->runs[nr].len = (end - j) * piece;
		nr++;
	}
	/* The runs go in as few calls as the platform allows (a list on
	 * snp and ideal, one call per run or granule elsewhere). */
	if (io_convert_ranges(c, true, c->runs, (unsigned int)nr)) {
		GUEST_CHECK(false, "scatter share of %lu runs failed", nr);
		return false;
	}
	c->st.scatter_pieces += m;
	c->st.scatter_runs += nr;
	batch_run(c, cpu, rw, n);
	batch_keep_out(c, n);
	if (io_convert_ranges(c, false, c->runs, (unsigned int)nr))
		GUEST_CHECK(false, "scatter unshare of %lu runs failed", nr);
	batch_finish(c, n, t0);
	return true;
}

static void run_batches(struct cpu_io *c, unsigned int cpu, uint32_t rw,
			uint64_t limit, uint64_t deadline)
{
	unsigned int n;

	while (more(c, limit, deadline)) {
		n = io_cfg.qd;
		if (limit && limit - c->submitted < n)
			n = (unsigned int)(limit - c->submitted);
		if (!(io_cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER ? scatter_batch(c, cpu, rw, n) :
		      one_batch(c, cpu, rw, n)))
			return;
	}
}

void io_run(struct cpu_io *c, unsigned int cpu, uint32_t rw, uint64_t limit,
		uint64_t deadline)
{
	if (io_cfg.mode == GMEM_ABI_IO_INPLACE_BATCH || io_cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER)
		run_batches(c, cpu, rw, limit, deadline);
	else
		run_stream(c, cpu, rw, limit, deadline);
}
