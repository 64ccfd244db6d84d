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
#include "io.h"

struct cpu_io io_cpus[GMEM_ABI_IO_MAX_VCPUS];
uint64_t io_hist[NBUCKETS];
struct gmem_abi_io_config io_cfg;
struct bounce_pool io_pool;
struct gblk_info io_info;
enum path io_mode_path;
static uint64_t io_heap_next;
static volatile bool io_setup_ok;

/* ---- setup (vCPU 0) ---------------------------------------------------------- */

static void *heap_alloc(uint64_t size)
{
	uint64_t p = (io_heap_next + 63) & ~63ULL;

	if (!io_heap_next || p + size > GMEM_ABI_HEAP_GPA + GMEM_ABI_HEAP_SIZE)
		return NULL;
	io_heap_next = p + size;
	memset(gpa_ptr(p), 0, size);
	return gpa_ptr(p);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* One malformed request from the guest: it must come back IOERR, counted. */
static void send_bad(struct gblk_req *q, uint32_t type, uint64_t sector,
		     struct gblk_seg *s, bool in, const char *what)
{
	volatile struct gmem_abi_io_results *r = &results->io;
	uint8_t st = gblk_do(q, type, sector, s, 1, in);

	r->bad_sent++;
	r->bad_ioerr += st == VIRTIO_BLK_S_IOERR;
	GUEST_CHECK_EQ(st, VIRTIO_BLK_S_IOERR, what);
}

static void bad_requests(void)
{
	uint64_t priv = io_cpus[0].priv, scratch = GMEM_ABI_POOL_GPA + GBLK_SCRATCH_OFF;
	struct gblk_req q = { .id = BAD_ID };
	struct gblk_seg s;

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
	s.gpa = GMEM_ABI_POOL_GPA + GBLK_DESC_OFF;
	send_bad(&q, VIRTIO_BLK_T_IN, 0, &s, true, "read into the descriptor table");
	/* a read past the end of the disk */
	s.gpa = scratch;
	send_bad(&q, VIRTIO_BLK_T_IN, io_info.capacity, &s, true,
		 "read past the end of the disk");
}

/* Unshare a buffer while the device still has its I/O: refused. */
static void unshare_busy(void)
{
	volatile struct gmem_abi_io_results *r = &results->io;
	struct gblk_req q = { .id = BAD_ID };
	uint64_t buf = io_cpus[0].priv, t;
	struct gblk_seg s = { buf, (uint32_t)io_cfg.bs };
	int64_t st;

	if (!GUEST_CHECK(__share(buf, io_cfg.bs) == 0, "share before the busy test"))
		return;
	while (gblk_submit(&q, VIRTIO_BLK_T_IN, 0, &s, 1, true) == -GBLK_EAGAIN)
		gblk_poll();
	gblk_kick();
	t = host_time_ns();
	while (host_time_ns() - t < io_cfg.delay_ms * 1000000ULL)
		cpu_relax();
	if (io_cfg.flags & GMEM_ABI_IOF_STEAL_PIN) {
		/* A hostile guest drops the device's pin, then unshares the
		 * buffer the device is about to write: both must fail. */
		st = __doorbell(GMEM_ABI_OP_UNPIN, buf, io_cfg.bs, 0, NULL);
		r->steal_status = st;
		GUEST_CHECK_EQ(st, -GMEM_ABI_EOPNOTSUPP, "UNPIN of the device's pin");
	}
	st = __unshare(buf, io_cfg.bs);
	io_cpus[0].x.ebusy += st == -GMEM_ABI_EBUSY;
	r->busy_status = st;
	GUEST_CHECK_EQ(st, -GMEM_ABI_EBUSY, "unshare during the buffer's own I/O");
	GUEST_CHECK(!q.done, "the I/O was still in flight when unsharing");
	while (!__atomic_load_n(&q.done, __ATOMIC_ACQUIRE))
		if (!gblk_poll())
			cpu_relax();
	st = __unshare(buf, io_cfg.bs);
	r->busy_after = st;
	GUEST_CHECK_EQ(st, 0, "unshare after the I/O completed");
}

/* Write one word of each page with what it holds (contents unchanged; a
 * write, so the page is faulted in writable). */
static void warm_pages(uint64_t gpa, uint64_t len)
{
	uint64_t off;

	for (off = 0; off < len; off += PAGE_SIZE) {
		volatile uint64_t *w = gpa_ptr(gpa + off);

		*w = *w;
	}
}

/*
 * The device's first touch of each page of the shared area (the pool, the
 * persistent and shared buffers), made before anything is measured: a
 * fault in on the host (lazy model), once per boot in a guest that has
 * been running.  Left in, it would charge whichever path first uses a
 * fresh part of the area: adaptive's first bounces at 1 MiB paid 20-40
 * device faults per I/O (next fit walks the whole pool) while the bounce
 * mode's prefill had walked the pool already.  The device reads each
 * page, in writes of up to 1 MiB to the start of vCPU 0's region (a few
 * tens of ms for 64 MiB; rewritten by the prefill where data is verified,
 * never read otherwise); counted in the device's write figures, as the
 * prefill is.  false: a write failed.
 */
static bool device_touch(uint64_t gpa, uint64_t len)
{
	uint64_t chunk = min_u64(GMEM_ABI_IO_MAX_BS, io_info.capacity * SECTOR), off;
	struct gblk_req q = { .id = BAD_ID };
	struct gblk_seg sg;
	uint8_t st;

	for (off = 0; off < len; off += chunk) {
		sg.gpa = gpa + off;
		sg.len = (uint32_t)min_u64(chunk, len - off);
		st = gblk_do(&q, VIRTIO_BLK_T_OUT, 0, &sg, 1, false);
		results->io.touch_ios++;
		results->io.touch_bytes += sg.len;
		if (!GUEST_CHECK(st == VIRTIO_BLK_S_OK, "device touch of 0x%lx: status %u",
				 sg.gpa, st))
			return false;
	}
	return true;
}

static bool setup(void)
{
	uint64_t shared_gpa, shared_size, region, nblocks, churn_gpa;
	unsigned int nv = boot_info->nr_vcpus, v, i;
	int err;

	io_cfg = boot_info->io;
	io_heap_next = GMEM_ABI_HEAP_GPA;
	memset(io_hist, 0, sizeof(io_hist));	/* hosted: a run after another */
	if (!GUEST_CHECK(io_cfg.mode >= GMEM_ABI_IO_SHARED && io_cfg.mode < GMEM_ABI_IO_MODE_MAX &&
			 io_cfg.rw >= GMEM_ABI_IO_READ && io_cfg.rw < GMEM_ABI_IO_RW_MAX &&
			 io_cfg.qd >= 1 && io_cfg.qd <= GMEM_ABI_IO_MAX_QD &&
			 io_cfg.bs >= GMEM_ABI_IO_MIN_BS && io_cfg.bs <= GMEM_ABI_IO_MAX_BS &&
			 !(io_cfg.bs & (io_cfg.bs - 1)) && nv <= GMEM_ABI_IO_MAX_VCPUS &&
			 !(io_cfg.flags & ~GMEM_ABI_IOF_ALL) &&
			 (io_cfg.mode == GMEM_ABI_IO_MIXED || !(io_cfg.flags & GMEM_ABI_IOF_CHURN)),
			 "io config: mode %u rw %u qd %u bs %lu vcpus %u flags 0x%x",
			 io_cfg.mode, io_cfg.rw, io_cfg.qd, io_cfg.bs, nv, io_cfg.flags))
		return false;
	if (gmem_abi_io_has_pool(io_cfg.mode) &&
	    !GUEST_CHECK(gmem_abi_io_pool_ok(io_cfg.pool_size, io_cfg.bs, nv),
			 "io config: bounce io_pool of %lu bytes", io_cfg.pool_size))
		return false;
	if (io_cfg.mode == GMEM_ABI_IO_PERSISTENT &&
	    !GUEST_CHECK(io_cfg.persist_size >= io_cfg.bs && io_cfg.persist_size <= GMEM_ABI_IO_MAX_BS &&
			 !(io_cfg.persist_size & (io_cfg.persist_size - 1)),
			 "io config: persistent buffers of %lu bytes", io_cfg.persist_size))
		return false;
	shared_gpa = gmem_abi_io_shared_gpa(&io_cfg, nv);
	shared_size = gmem_abi_io_shared_size(&io_cfg, nv);
	if (!GUEST_CHECK(gmem_abi_io_meta_gpa(&io_cfg, nv) + gmem_abi_io_meta_size(&io_cfg) <=
			 boot_info->mem_size,
			 "guest RAM %lu too small for the run", boot_info->mem_size))
		return false;
	err = gblk_init(&io_info);
	if (!GUEST_CHECK_EQ(err, 0, "virtio-blk driver init"))
		return false;
	results->io.capacity = io_info.capacity;
	results->io.queue_size = io_info.queue_size;
	region = io_info.capacity * SECTOR / nv / io_cfg.bs;
	if (!GUEST_CHECK(region >= 2 * io_cfg.qd, "disk of %lu sectors too small", io_info.capacity))
		return false;
	nblocks = region;
	if (io_cfg.span)
		nblocks = min_u64(io_cfg.span, region);
	else if (io_cfg.flags & GMEM_ABI_IOF_VERIFY)
		nblocks = min_u64(region, (16ULL << 20) / io_cfg.bs > 2 * io_cfg.qd ?
				  (16ULL << 20) / io_cfg.bs : 2 * io_cfg.qd);
	if (!GUEST_CHECK(nblocks > io_cfg.qd, "span of %lu blocks not above qd", nblocks))
		return false;
	/* The area ends where a granule does (the next area starts on 2 MiB). */
	shared_size = (shared_size + gmem_abi_io_granule(&io_cfg) - 1) &
		      ~(gmem_abi_io_granule(&io_cfg) - 1);
	if (shared_size && !GUEST_CHECK(__share(shared_gpa, shared_size) == 0,
					"sharing the I/O area 0x%lx+0x%lx", shared_gpa,
					shared_size))
		return false;
	io_mode_path = io_cfg.mode == GMEM_ABI_IO_SHARED ? P_SHARED :
	       io_cfg.mode == GMEM_ABI_IO_BOUNCE ? P_BOUNCE :
	       io_cfg.mode == GMEM_ABI_IO_PERSISTENT ? P_PERSIST : P_INPLACE;
	/* the bounce pool at the start of the shared area (mixed: then the
	 * shared buffers), its metadata in private memory */
	if (gmem_abi_io_has_pool(io_cfg.mode)) {
		unsigned int areas = (unsigned int)gmem_abi_io_areas(nv);
		size_t msz = bounce_meta_size(io_cfg.pool_size, areas);
		uint64_t meta = gmem_abi_io_meta_gpa(&io_cfg, nv);

		err = msz && msz <= gmem_abi_io_meta_size(&io_cfg) ?
		      bounce_pool_init(&io_pool, gpa_ptr(meta), msz, gpa_ptr(shared_gpa),
				       shared_gpa, io_cfg.pool_size, areas) : -ENOSPC;
		if (!GUEST_CHECK_EQ(err, 0, "bounce io_pool init"))
			return false;
	}
	for (v = 0; v < nv; v++) {
		struct cpu_io *c = &io_cpus[v];

		memset(c, 0, sizeof(*c));
		c->priv = GMEM_ABI_TEST_GPA + v * gmem_abi_io_cpu_bufs(&io_cfg);
		c->shared = shared_gpa + v * io_cfg.qd * io_cfg.bs +
			    (io_cfg.mode == GMEM_ABI_IO_MIXED ? io_cfg.pool_size : 0);
		c->span = nblocks;
		c->base_block = v * region;
		c->rng = (io_cfg.seed ? io_cfg.seed : 0x9e3779b97f4a7c15ULL) + v * 0x1234567ULL;
		c->gen = heap_alloc(nblocks * 4);
		c->gen_lo = heap_alloc(nblocks * 4);
		c->busy = heap_alloc(nblocks);
		if (!GUEST_CHECK(c->gen && c->gen_lo && c->busy, "heap: %lu blocks", nblocks))
			return false;
		for (i = 0; i < io_cfg.qd; i++) {
			c->slots[i].req.id = v * GMEM_ABI_IO_MAX_QD + i;
			c->slots[i].pbuf = c->priv + i * gmem_abi_io_stride(&io_cfg);
			c->slots[i].buf = io_cfg.mode == GMEM_ABI_IO_SHARED ?
					  c->shared + i * io_cfg.bs : c->slots[i].pbuf;
			c->slots[i].sbuf = c->shared + i * io_cfg.bs;
			c->slots[i].keep = gmem_abi_io_keep_gpa(&io_cfg, nv) +
					   v * gmem_abi_io_keep_cpu(&io_cfg) + i * io_cfg.bs;
			c->slots[i].pers = shared_gpa +
					   (io_cfg.mode == GMEM_ABI_IO_ADAPTIVE ? io_cfg.pool_size : 0) +
					   ((uint64_t)v * io_cfg.qd + i) * io_cfg.persist_size;
		}
		for (i = 0; i < 2; i++)	/* reads, writes */
			if (!GUEST_CHECK(!adapt_init_mask(&c->adapt[i], io_cfg.adapt_paths ?
							  io_cfg.adapt_paths :
							  (1U << ADAPT_PATHS) - 1) &&
					 !adapt_set_depth(&c->adapt[i], io_cfg.qd),
					 "adaptive paths 0x%x, depth %u", io_cfg.adapt_paths,
					 io_cfg.qd))
				return false;
		if (io_cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER) {
			uint64_t sz = gmem_abi_io_scatter_size(&io_cfg);

			c->scatter = gmem_abi_io_scatter_gpa(&io_cfg, nv) + v * sz;
			c->nslots = sz / gmem_abi_io_scatter_piece(io_cfg.bs);
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
		if (io_cfg.mode == GMEM_ABI_IO_MIXED) {
			churn_gpa = gmem_abi_io_churn_gpa(&io_cfg, nv);
			c->churn = churn_gpa + v * GMEM_ABI_IO_CHURN_PAGES * PAGE_SIZE;
			if (!GUEST_CHECK(c->churn + GMEM_ABI_IO_CHURN_PAGES * PAGE_SIZE <=
					 boot_info->mem_size, "guest RAM too small for churn"))
				return false;
			for (i = 0; i < GMEM_ABI_IO_CHURN_PAGES; i++) {
				uint64_t g = c->churn + i * PAGE_SIZE;

				*(volatile uint64_t *)gpa_ptr(g) = io_churn_word(g);
				*(volatile uint64_t *)gpa_ptr(g + PAGE_SIZE - 8) =
					io_churn_word(g + PAGE_SIZE - 8);
			}
		}
	}
	/* Every buffer and the pool touched once before anything is measured:
	 * the first touch of guest RAM faults it in (once per boot in a real
	 * guest, a few us per page here); left in, it would charge whichever
	 * path touches fresh memory first (next fit walks the whole pool) and
	 * mislead adaptive's first measurements. */
	{
		uint64_t t = rdtsc(), n = gmem_abi_io_bufs_size(&io_cfg, nv) + shared_size;

		warm_pages(GMEM_ABI_TEST_GPA, gmem_abi_io_bufs_size(&io_cfg, nv));
		warm_pages(shared_gpa, shared_size);
		if (io_cfg.mode == GMEM_ABI_IO_INPLACE_SCATTER)
			warm_pages(gmem_abi_io_scatter_gpa(&io_cfg, nv),
				   gmem_abi_io_scatter_size(&io_cfg) * nv);
		gprintf("io: %lu MiB of buffers and shared area touched in %lu ms\n",
			n >> 20, tsc_to_ns(rdtsc() - t) / 1000000);
		t = rdtsc();
		/* (not under injected faults: the touch would take them) */
		if (!(io_cfg.flags & GMEM_ABI_IOF_FAULTS) &&
		    !device_touch(shared_gpa, shared_size))
			return false;
		gprintf("io: the device touched %lu MiB of shared area in %lu ms\n",
			shared_size >> 20, tsc_to_ns(rdtsc() - t) / 1000000);
	}
	if (io_cfg.flags & GMEM_ABI_IOF_BAD_DESC)
		bad_requests();
	if (io_cfg.flags & GMEM_ABI_IOF_UNSHARE_BUSY)
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
		sum += io_hist[b];
		if (sum >= want)
			return io_bucket_ns(b);
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
		struct io_stats *c = &io_cpus[v].st;
		struct run_stats *cx = &io_cpus[v].x;

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
		x.io_errors += cx->io_errors;
		for (i = 0; i < io_cfg.qd; i++) {
			struct slot *sl = &io_cpus[v].slots[i];

			if (sl->submits != sl->completes && !odd++)
				gprintf("io: request id %u: %lu submitted, %lu completed\n",
					sl->req.id, sl->submits, sl->completes);
		}

		s.ios += c->ios;
		s.bytes += c->bytes;
		s.kicks += c->kicks;
		s.conv_calls += c->conv_calls;
		s.conv_bytes += c->conv_bytes;
		s.keep_bytes += c->keep_bytes;
		s.keep_ns += tsc_to_ns(c->keep_ns);
		s.conv_pages += c->conv_pages;
		s.conv_entries += c->conv_entries;
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
		s.persisted += c->persisted;
		s.batched += c->batched;
		s.samples_stopped += c->samples_stopped;
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
	r->conv_bytes = s.conv_bytes;
	r->keep_bytes = s.keep_bytes;
	r->keep_ns = s.keep_ns;
	r->conv_pages = s.conv_pages;
	r->conv_entries = s.conv_entries;
	r->conv_ns = s.conv_ns;
	r->conv_host_ns = s.conv_host;
	r->kick_ns = s.kick_ns;
	r->vcpu_ns = vcpu_ns;
	r->batches = s.batches;
	r->scatter_pieces = s.scatter_pieces;
	r->scatter_runs = s.scatter_runs;
	/* adaptive: vCPU 0's state for the run's main direction */
	ac = &io_cpus[0].adapt[io_cfg.rw == GMEM_ABI_IO_WRITE || io_cfg.rw == GMEM_ABI_IO_RANDWRITE]
		     .cls[adapt_class_of(io_cfg.bs) < 0 ? 0 : adapt_class_of(io_cfg.bs)];
	r->adapt_bounce_ns = ac->samples[ADAPT_BOUNCE] ? tsc_to_ns(ac->ewma[ADAPT_BOUNCE]) : 0;
	r->adapt_inplace_ns = ac->samples[ADAPT_INPLACE] ? tsc_to_ns(ac->ewma[ADAPT_INPLACE]) : 0;
	r->adapt_persist_ns = ac->samples[ADAPT_PERSIST] ? tsc_to_ns(ac->ewma[ADAPT_PERSIST]) : 0;
	r->adapt_batch_ns = ac->samples[ADAPT_BATCH] ? tsc_to_ns(ac->ewma[ADAPT_BATCH]) : 0;
	r->adapt_probes = ac->probes;
	r->adapt_device_ns = tsc_to_ns(ac->extra);
	r->adapt_rate_checks = ac->checks;
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
	r->persisted = s.persisted;
	r->batched = s.batched;
	r->adapt_stopped = s.samples_stopped;
	gblk_counters(&sub, &comp, &unknown);
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
	r->all_io_errors = x.io_errors;
	r->done = 1;
	if (!(io_cfg.flags & GMEM_ABI_IOF_ABANDON)) {	/* left in flight */
		GUEST_CHECK_EQ(x.submitted, x.completed, "workload requests completed");
		GUEST_CHECK_EQ(odd, 0, "request ids with submitted != completed");
		GUEST_CHECK_EQ(sub, comp, "driver requests completed");
	}
	GUEST_CHECK_EQ(unknown, 0, "duplicate or unknown completions");
	GUEST_CHECK_EQ(x.churn_errors, 0, "churn errors");
	if (!(io_cfg.flags & GMEM_ABI_IOF_FAULTS))	/* else the harness's count */
		GUEST_CHECK_EQ(s.io_errors, 0, "I/O errors");
	GUEST_CHECK_EQ(s.verify_errors, 0, "verify errors");
	if (io_cfg.flags & GMEM_ABI_IOF_VERIFY)
		GUEST_CHECK(s.verified > 0 || (!io_cfg.ios && !io_cfg.runtime_ns),
			    "verification checked %lu sectors", s.verified);
}

static bool has_writes(uint32_t rw)
{
	return rw != GMEM_ABI_IO_READ && rw != GMEM_ABI_IO_RANDREAD;
}

void test_io(unsigned int cpu)
{
	unsigned int nv = boot_info->nr_vcpus;
	struct cpu_io *c = &io_cpus[cpu];
	uint64_t deadline = 0, prefill = 0, verified = 0, vfail = 0;
	bool verify;

	if (cpu == 0)
		io_setup_ok = setup();
	smp_barrier();
	if (!io_setup_ok)
		return;
	verify = io_cfg.flags & GMEM_ABI_IOF_VERIFY;
	if (verify && (io_cfg.ios || io_cfg.runtime_ns)) {
		/* Prefill: the span written once, not measured. */
		c->next_seq = 0;
		io_run(c, cpu, GMEM_ABI_IO_WRITE, c->span, 0);
		prefill = c->st.ios;
		memset(&c->st, 0, sizeof(c->st));
		c->submitted = 0;
		c->next_seq = 0;
	}
	smp_barrier();
	c->measure = true;
	c->st.t_start = rdtsc();
	if (io_cfg.runtime_ns)
		deadline = c->st.t_start + io_ns_to_tsc(io_cfg.runtime_ns);
	if (io_cfg.runtime_ns || io_cfg.ios)
		io_run(c, cpu, io_cfg.rw, io_cfg.runtime_ns ? 0 : io_cfg.ios, deadline);
	c->st.t_end = rdtsc();
	c->measure = false;
	smp_barrier();
	if (verify && has_writes(io_cfg.rw) && (io_cfg.ios || io_cfg.runtime_ns) &&
	    !(io_cfg.flags & GMEM_ABI_IOF_ABANDON)) {
		/* Read back everything the run wrote; counted apart. */
		struct io_stats keep = c->st;

		c->submitted = 0;
		c->next_seq = 0;
		io_run(c, cpu, GMEM_ABI_IO_READ, c->span, 0);
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
