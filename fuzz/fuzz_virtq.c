// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the virtio-mmio transport, the split-virtqueue walker
 * and the virtio-blk request parser over a fuzzer-controlled guest memory
 * image with private and shared pages.
 *
 * Input (little endian):
 *   u8  qlog      queue size 1 << (qlog & 15) (may be invalid); bit 4:
 *                 read-only backend, bit 5: the backend fails every I/O,
 *                 bit 6: its waits fail at the reset (requests orphaned),
 *                 bit 7: a hostile guest: each rewrite also tries to drop
 *                 a pin on the page it hits and to unshare that page
 *   u8  mode      bit0 negotiate FLUSH, bit1 hold odd I/Os in flight,
 *                 bit2 hold every I/O, bit3 second pass; bits 4-7:
 *                 number of guest rewrites between the passes
 *   u16 private   page i of the 16-page RAM is private if bit i
 *   u32 desc, avail, used   ring addresses (GPA; RAM is [0, 64 KiB))
 *   u8  nops      MMIO accesses after driver init (at most 8), each
 *                 { u16 offset, u8 len selector, u8 write, u32 value }
 *   rewrites      { u16 offset, u8 value } each
 *   rest          the guest memory image (from GPA 0)
 *
 * The device runs one or two passes (the guest rewriting rings and
 * descriptors in between, with I/O still held in flight), then everything
 * is reaped and the device reset.  Checks, abort on failure:
 *  - the host never touches a private page (gmem's SIGSEGV handler aborts
 *    on one; the violation counter must stay 0);
 *  - while I/O is held, every page under a held buffer and every ring page
 *    of a live queue is shared and holds a host (device) pin: a dropped
 *    device pin is found here, before the page could go private;
 *  - no unpin of the device ever finds its pin gone (stats.unpin_bugs and
 *    gmem's unpin_missing stay 0), and a guest unpin never succeeds;
 *  - a reset the backend cannot drain reads DEVICE_NEEDS_RESET, and the
 *    orphans, once released, push nothing onto the used ring;
 *  - after reset no page is pinned (every pin was dropped exactly once);
 *  - every chain taken was answered: ok + ioerr + unsupp + no_status +
 *    orphans released == requests, nothing in flight.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/gmem.h"
#include "gmemkit/virtio_blk.h"

#define NPAGES		16
#define RAM		(NPAGES * GMEM_PAGE_SIZE)
#define QMAX		64
#define DISK		(256 * 1024)

struct fz_be {
	struct blk_backend be;
	struct blk_io *held[QMAX * 2];
	unsigned int n, count;
	unsigned int mode;
	bool fail;
	bool reap_fail;		/* waits fail (a reset cannot drain) */
};

static long result(struct blk_io *io)
{
	return io->op == BLK_OP_FLUSH ? 0 : (long)io->len;
}

static int fz_submit(struct blk_backend *be, struct blk_io *io)
{
	struct fz_be *f = (struct fz_be *)be;
	bool hold = (f->mode & 4) || ((f->mode & 2) && (f->count & 1));

	f->count++;
	if (!hold || f->n == sizeof(f->held) / sizeof(f->held[0])) {
		be->complete(be, io, f->fail ? -EIO : result(io));
		return 0;
	}
	f->held[f->n++] = io;
	return 0;
}

static int fz_kick(struct blk_backend *be)
{
	(void)be;
	return 0;
}

static int fz_reap(struct blk_backend *be, bool wait)
{
	struct fz_be *f = (struct fz_be *)be;
	unsigned int i, n = f->n;

	if (f->reap_fail)
		return -EIO;
	if (!wait)
		return 0;
	f->n = 0;
	for (i = 0; i < n; i++)
		be->complete(be, f->held[i],
			     f->fail ? -EIO : result(f->held[i]));
	return (int)n;
}

static void fz_destroy(struct blk_backend *be)
{
	(void)be;
}

static const struct blk_backend_ops fz_ops = {
	.submit = fz_submit, .kick = fz_kick, .reap = fz_reap,
	.destroy = fz_destroy,
};

static struct gmem *g;
static struct vblk *dev;
static struct fz_be fbe;

static void setup(void)
{
	struct gmem_config cfg = {
		.size = RAM, .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
		.mode = GMEM_MODE_INPLACE, .flags = GMEM_F_INIT_SHARED,
		.name = "fuzz-virtq",
	};
	struct vblk_params p = { .queue_num_max = QMAX, .seg_max = 8 };

	if (gmem_create(&cfg, &g))
		abort();
	fbe.be.ops = &fz_ops;
	fbe.be.name = "fuzz";
	fbe.be.engine = "test";
	fbe.be.capacity = DISK;
	fbe.be.event_fd = -1;
	memcpy(fbe.be.id, "fuzz", 4);
	p.mem = g;
	p.backend = &fbe.be;
	if (vblk_create(&p, &dev))
		abort();
}

static void wr(uint32_t off, uint32_t v)
{
	virtio_mmio_access(vblk_mmio(dev), off, &v, 4, true);
}

struct cursor {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct cursor *c, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes && c->n; i++, c->n--)
		v |= (uint64_t)*c->p++ << (8 * i);
	return v;
}

static void skip(struct cursor *c, size_t bytes)
{
	if (bytes > c->n)
		bytes = c->n;
	c->p += bytes;
	c->n -= bytes;
}

static void driver_init(unsigned int qlog, unsigned int mode, uint32_t d,
			uint32_t a, uint32_t u)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1);

	if (mode & 1)
		f |= VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 1U << (qlog & 15));
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, d);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, a);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, u);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void mmio_ops(struct cursor *c, unsigned int nops)
{
	static const unsigned int lens[4] = { 4, 1, 2, 8 };
	unsigned int i;

	for (i = 0; i < nops && i < 8; i++) {
		uint32_t off = (uint32_t)take(c, 2);
		unsigned int len = lens[take(c, 1) & 3];
		bool write = take(c, 1) & 1;
		uint64_t v = take(c, 4);

		/* offsets past the window are part of the fuzzing */
		virtio_mmio_access(vblk_mmio(dev), off & 0x1fff, &v, len,
				   write);
	}
}

/* [gpa, gpa + len) must be shared and hold a device pin on every page. */
static void check_held_range(uint64_t gpa, uint64_t len)
{
	uint64_t off;

	if (!len)
		return;
	for (off = gpa & ~(GMEM_PAGE_SIZE - 1); off < gpa + len; off += GMEM_PAGE_SIZE)
		if (gmem_page_state(g, off) != GMEM_SHARED ||
		    gmem_page_pins_of(g, off, GMEM_PIN_HOST) < 1)
			abort();
}

/* While I/O is held: the pins that guard it are all there. */
static void check_held(uint32_t d, uint32_t a, uint32_t u, unsigned int qlog)
{
	uint32_t ready = 0, n = 1U << (qlog & 15);
	unsigned int i, k;
	uint8_t *view = gmem_host_view(g);

	virtio_mmio_access(vblk_mmio(dev), VIRTIO_MMIO_QUEUE_READY, &ready, 4,
			   false);
	if (ready) {
		check_held_range(d, 16ULL * n);
		check_held_range(a, 6ULL + 2ULL * n);
		check_held_range(u, 6ULL + 8ULL * n);
	}
	for (i = 0; i < fbe.n; i++)
		for (k = 0; k < fbe.held[i]->niov; k++)
			check_held_range((uint64_t)((uint8_t *)fbe.held[i]->iov[k].iov_base -
						    view),
					 fbe.held[i]->iov[k].iov_len);
}

static void check(void)
{
	struct vblk_stats st;
	struct gmem_stats gs;
	uint64_t off;

	vblk_get_stats(dev, &st);
	gmem_get_stats(g, &gs);
	if (gs.violations || gs.unpin_missing || st.unpin_bugs)
		abort();
	if (st.inflight || st.orphans ||
	    st.ok + st.ioerr + st.unsupp + st.no_status + st.orphans_released !=
	    st.requests)
		abort();
	for (off = 0; off < RAM; off += GMEM_PAGE_SIZE)
		if (gmem_page_pins(g, off) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	unsigned int qlog, mode, nops, nmut, i;
	uint32_t priv, d, a, u;
	uint8_t *mem;

	if (!g)
		setup();
	mem = gmem_memslot_addr(g);
	qlog = (unsigned int)take(&c, 1);
	mode = (unsigned int)take(&c, 1);
	priv = (uint32_t)take(&c, 2);
	d = (uint32_t)take(&c, 4);
	a = (uint32_t)take(&c, 4);
	u = (uint32_t)take(&c, 4);
	nops = (unsigned int)take(&c, 1);

	/* Fresh RAM: all shared, the image, then the private pages. */
	if (gmem_share(g, 0, RAM))
		abort();
	memset(mem, 0, RAM);
	fbe.mode = mode;
	fbe.count = 0;
	fbe.fail = qlog & 0x20;
	fbe.reap_fail = false;
	fbe.be.read_only = qlog & 0x10;	/* OUT refused */
	{
		struct cursor img = c;
		const uint8_t *ops_end;

		/* skip the MMIO ops and rewrites to find the image */
		skip(&img, 8 * (nops < 8 ? nops : 8));
		skip(&img, 3 * (mode >> 4));
		ops_end = img.p;
		memcpy(mem, ops_end, img.n < RAM ? img.n : RAM);
	}
	for (i = 0; i < NPAGES; i++)
		if (priv & (1U << i))
			gmem_unshare(g, (uint64_t)i * GMEM_PAGE_SIZE,
				     GMEM_PAGE_SIZE);

	driver_init(qlog, mode, d, a, u);
	mmio_ops(&c, nops);
	vblk_process_queue(dev);
	check_held(d, a, u, qlog);
	nmut = mode >> 4;
	for (i = 0; i < nmut; i++) {
		uint32_t off = (uint32_t)take(&c, 2) % RAM;
		uint8_t v = (uint8_t)take(&c, 1);
		uint64_t page = off & ~(GMEM_PAGE_SIZE - 1);

		mem[off] = v;	/* the guest writes any page */
		if (qlog & 0x80) {
			/* A guest-owned unpin finds no guest pin, whatever the
			 * device holds there; the unshare must then fail on
			 * every page the device pinned. */
			if (gmem_unpin_as(g, page, GMEM_PAGE_SIZE, GMEM_PIN_GUEST) != -ENOENT)
				abort();
			if (v & 1)
				gmem_unshare(g, page, GMEM_PAGE_SIZE);
			check_held(d, a, u, qlog);
		}
	}
	if (mode & 8) {
		vblk_process_queue(dev);
		check_held(d, a, u, qlog);
	}
	if (qlog & 0x40) {
		/* The reset cannot drain what is held: orphans. */
		uint16_t used_idx = 0;
		bool ring_ok = u % 4 == 0 && u <= RAM - 4;
		struct vblk_stats st;
		uint32_t status = 0;

		if (ring_ok)
			memcpy(&used_idx, mem + u + 2, 2);
		fbe.reap_fail = true;
		wr(VIRTIO_MMIO_STATUS, 0);
		vblk_get_stats(dev, &st);
		virtio_mmio_access(vblk_mmio(dev), VIRTIO_MMIO_STATUS, &status, 4,
				   false);
		if (st.orphans != fbe.n ||
		    (st.orphans && status != VIRTIO_STATUS_DEVICE_NEEDS_RESET) ||
		    (!st.orphans && status))
			abort();
		check_held(d, a, u, qlog);
		fbe.reap_fail = false;
		vblk_reap(dev, true);	/* the backend lets go */
		if (ring_ok && memcmp(&used_idx, mem + u + 2, 2))
			abort();		/* an orphan touched the ring */
	}
	vblk_reap(dev, true);
	wr(VIRTIO_MMIO_STATUS, 0);		/* reset: rings unpinned */
	{
		uint32_t status = 1;

		virtio_mmio_access(vblk_mmio(dev), VIRTIO_MMIO_STATUS, &status, 4,
				   false);
		if (status)
			abort();		/* idle now: the reset completes */
	}
	check();
	if (getenv("FUZZ_VIRTQ_DEBUG")) {
		struct vblk_stats st;

		vblk_get_stats(dev, &st);
		fprintf(stderr, "requests %llu ok %llu ioerr %llu unsupp %llu "
			"no_status %llu broken %llu bad_config %llu "
			"violations %llu\n",
			(unsigned long long)st.requests,
			(unsigned long long)st.ok, (unsigned long long)st.ioerr,
			(unsigned long long)st.unsupp,
			(unsigned long long)st.no_status,
			(unsigned long long)st.broken,
			(unsigned long long)st.bad_config,
			(unsigned long long)st.violations);
		for (i = 1; i < VBLK_E_NR; i++)
			fprintf(stderr, " %s=%llu", vblk_err_name(i),
				(unsigned long long)st.err[i]);
		for (i = 1; i < VQ_E_NR; i++)
			fprintf(stderr, " %s=%llu", vq_err_name(i),
				(unsigned long long)st.ring_err[i]);
		fprintf(stderr, "\n");
	}
	return 0;
}
