// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk device, host only, I/O in flight: pins held during an
 * in-flight I/O, descriptors rewritten in flight, backend failures, reset
 * with I/O in flight, a reset that cannot drain (orphans), the file
 * backend (io_uring, sync, O_DIRECT; data compared), and the ram backend
 * (both directions, short, unaligned and uneven segments, specs, private
 * and inaccessible buffers, the device-side faults and copy bytes).
 */
#include <sys/mman.h>

#include "harness/violation.h"
#include "virtio_blk_guest.h"

/* ---- pins while in flight; descriptors rewritten in flight ------------------ */

static struct guest *refill_guest;

/* A guest vCPU that re-posts head 1 while the device is processing. */
static void refill(struct held_be *h, struct blk_io *io)
{
	(void)h;
	(void)io;
	publish_head(refill_guest, 1);
}

static void test_inflight(void)
{
	struct held_be *h = held_new();
	struct vring_used_elem e;
	struct vblk_stats st;
	struct guest gu;
	uint64_t buf = DATA_GPA + 0x20000;

	mk_guest(&gu, &h->be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	h->hold = true;
	put_req(&gu, 1, VIRTIO_BLK_T_IN, 0, buf, 4096, 2);
	ok_eq(process(&gu), 1, "IN submitted and held in flight");
	ok(gmem_page_pins(gu.g, buf) == 1 && gmem_page_pins(gu.g, buf + PG) == 1,
	   "both data pages pinned while in flight");
	ok_eq(gmem_unshare(gu.g, buf + PG, PG), -EBUSY,
	      "guest unshare of its in-flight buffer refused: -EBUSY");
	ok_eq(gmem_page_state(gu.g, buf + PG), GMEM_SHARED, "page stays shared");

	/* The guest rewrites the chain and header under the device. */
	*desc(&gu, 1) = (struct vring_desc){ PRIV_GPA, 4096, W, 0 };
	*desc(&gu, 2) = (struct vring_desc){ RAM_SIZE, 4096, W, 0 };
	*desc(&gu, 3) = (struct vring_desc){ PRIV_GPA, 1, W, 0 };
	put_hdr(&gu, 1, VIRTIO_BLK_T_OUT, 12345);

	/* Same head again while in flight: the ring is broken. */
	publish_head(&gu, 1);
	ok_eq(process(&gu), -EIO, "head reused while in flight: broken ring");
	st = stats(&gu);
	ok_eq(st.ring_err[VQ_E_IN_FLIGHT], 1, "counted as in-flight reuse");
	ok_eq(st.inflight, 1, "the first request is still in flight");

	h->hold = false;
	ok_eq(vblk_reap(gu.b, false), 1, "held I/O released");
	ok(get_used(&gu, &e) && e.id == 1 && e.len == 8193 &&
	   gu.mem[STATUS_GPA + 1] == VIRTIO_BLK_S_OK,
	   "completion used the descriptors as first read (len 8193)");
	ok(gmem_page_pins(gu.g, buf) == 0 && gmem_page_pins(gu.g, buf + PG) == 0 &&
	   gmem_page_pins(gu.g, STATUS_GPA) == 0,
	   "pins of the original buffers dropped");
	ok_eq(gmem_unshare(gu.g, buf + PG, PG), 0, "unshare works after completion");
	gmem_share(gu.g, buf + PG, PG);

	/* A guest refilling the ring during processing gets one ring's worth
	 * per pass, never an endless pass. */
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	refill_guest = &gu;
	h->on_submit = refill;
	put_req(&gu, 1, VIRTIO_BLK_T_IN, 0, buf, 512, 1);
	ok_eq(process(&gu), QSIZE, "endless refill: one pass stops at %u", QSIZE);
	ok_eq(process(&gu), QSIZE, "and the next pass takes the next %u", QSIZE);
	h->on_submit = NULL;

	/* Backend failures. */
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	{
		struct vblk_stats a = stats(&gu), z;

		h->submit_err = -EIO;
		put_req(&gu, 5, VIRTIO_BLK_T_OUT, 0, buf, 4096, 1);
		ok(run1(&gu, &e) && e.len == 1 &&
		   gu.mem[STATUS_GPA + 5] == VIRTIO_BLK_S_IOERR,
		   "backend refuses the submit: IOERR");
		h->submit_err = 0;
		h->done_err = -ENOSPC;
		put_req(&gu, 5, VIRTIO_BLK_T_IN, 0, buf, 4096, 1);
		ok(run1(&gu, &e) && e.len == 1 &&
		   gu.mem[STATUS_GPA + 5] == VIRTIO_BLK_S_IOERR,
		   "backend fails the I/O: IOERR, used len 1");
		h->done_err = 0;
		z = stats(&gu);
		ok(z.err[VBLK_E_BACKEND] == a.err[VBLK_E_BACKEND] + 2 &&
		   z.backend_errors == a.backend_errors + 2 &&
		   gmem_page_pins(gu.g, buf) == 0,
		   "both counted as backend errors, buffers unpinned");
		h->done_err = -EFAULT;
		put_req(&gu, 5, VIRTIO_BLK_T_IN, 0, buf, 4096, 1);
		ok(run1(&gu, &e) && e.len == 1 &&
		   gu.mem[STATUS_GPA + 5] == VIRTIO_BLK_S_IOERR,
		   "backend faults on the buffer (-EFAULT): IOERR");
		h->done_err = 0;
		a = stats(&gu);
		ok(a.err[VBLK_E_PRIVATE] == z.err[VBLK_E_PRIVATE] + 1 &&
		   a.violations == z.violations + 1 && a.backend_errors == z.backend_errors &&
		   gmem_page_pins(gu.g, buf) == 0,
		   "-EFAULT counted as a violation (a private buffer), buffer unpinned");
	}

	/* Reset with I/O in flight drains it first. */
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	h->hold = true;
	put_req(&gu, 2, VIRTIO_BLK_T_OUT, 0, buf, 4096, 1);
	process(&gu);
	ok_eq(gmem_page_pins(gu.g, buf), 1, "OUT held in flight");
	wr(&gu, VIRTIO_MMIO_STATUS, 0);
	ok(gmem_page_pins(gu.g, buf) == 0 && gmem_page_pins(gu.g, DESC_GPA) == 0,
	   "reset completed the in-flight I/O and dropped every pin");
	ok_eq(gu.mem[STATUS_GPA + 2], VIRTIO_BLK_S_OK,
	      "drained request got its status before the reset");
	ok_eq(gmem_violations(gu.g), 0, "no host access to private pages");
	h->hold = false;
	free_guest(&gu);
}

/*
 * A reset the backend cannot drain: the requests it holds are orphaned.
 * They keep their pins while the backend has them, then only drop them:
 * no status byte, no used entry (virtio 1.2, 2.4), and the device does not
 * go live again before a reset that finds it idle.
 */
static void test_orphans(void)
{
	struct held_be *h = held_new();
	const uint32_t st_cfg = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				VIRTIO_STATUS_FEATURES_OK;
	struct vring_used_elem e;
	struct vblk_stats st;
	struct gmem_stats gs;
	uint64_t buf = DATA_GPA + 0x40000;
	struct guest gu;

	mk_guest(&gu, &h->be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	h->hold = true;
	put_req(&gu, 2, VIRTIO_BLK_T_IN, 0, buf, 4096, 2);
	put_req(&gu, 10, VIRTIO_BLK_T_OUT, 8, buf + 2 * PG, 4096, 1);
	ok_eq(process(&gu), 2, "orphans: two requests held by the backend");
	h->reap_err = -EIO;
	wr(&gu, VIRTIO_MMIO_STATUS, 0);
	ok_eq(rd(&gu, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_DEVICE_NEEDS_RESET,
	      "orphans: a reset that cannot drain reads DEVICE_NEEDS_RESET");
	st = stats(&gu);
	ok(st.orphaned == 2 && st.orphans == 2 && st.inflight == 2,
	   "orphans: both requests orphaned (%llu), still in flight",
	   (unsigned long long)st.orphaned);
	ok(gmem_page_pins(gu.g, DESC_GPA) == 0 && gmem_page_pins(gu.g, USED_GPA) == 0,
	   "orphans: ring pins dropped with the rings");
	ok(gmem_page_pins(gu.g, buf) == 1 && gmem_page_pins(gu.g, buf + 2 * PG) == 1 &&
	   gmem_page_pins(gu.g, STATUS_GPA) == 2,
	   "orphans: data and status pins kept while the backend has them");
	ok_eq(gmem_unshare(gu.g, buf, 2 * PG), -EBUSY,
	      "orphans: their buffers cannot go private meanwhile");

	/* The driver tries to bring the device back at once: refused. */
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	set_features(&gu, dev_features(&gu) & std_features);
	wr(&gu, VIRTIO_MMIO_STATUS, st_cfg);
	set_queue(&gu, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(&gu, VIRTIO_MMIO_QUEUE_READY, 1);
	ok(rd(&gu, VIRTIO_MMIO_QUEUE_READY) == 0 &&
	   (rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET),
	   "orphans: the queue cannot be enabled while orphans remain");

	/* The backend lets go. */
	h->reap_err = 0;
	h->hold = false;
	ok_eq(vblk_reap(gu.b, false), 2, "orphans: the backend completes both");
	st = stats(&gu);
	ok(st.orphans == 0 && st.orphans_released == 2 && st.inflight == 0 &&
	   st.ok == 0 && st.ioerr == 0,
	   "orphans: released, not completed (released %llu, ok %llu)",
	   (unsigned long long)st.orphans_released, (unsigned long long)st.ok);
	ok(*status_byte(&gu, 2) == 0xee && *status_byte(&gu, 10) == 0xee,
	   "orphans: no status byte written after the reset");
	ok_eq(__atomic_load_n(&used(&gu)->idx, __ATOMIC_ACQUIRE), 0,
	      "orphans: nothing pushed onto the used ring");
	ok(gmem_page_pins(gu.g, buf) == 0 && gmem_page_pins(gu.g, buf + PG) == 0 &&
	   gmem_page_pins(gu.g, buf + 2 * PG) == 0 && gmem_page_pins(gu.g, STATUS_GPA) == 0,
	   "orphans: every pin dropped");
	gmem_get_stats(gu.g, &gs);
	ok(st.unpin_bugs == 0 && gs.unpin_missing == 0 && gs.violations == 0,
	   "orphans: no unpin bug, no violation");
	ok(drv_init(&gu, std_features), "orphans: a reset once idle brings the device back");
	put_req(&gu, 2, VIRTIO_BLK_T_IN, 0, buf, 4096, 1);
	ok(run1(&gu, &e) && e.id == 2 && *status_byte(&gu, 2) == VIRTIO_BLK_S_OK,
	   "orphans: head 2 serves a new request");

	/* QueueReady = 0 that cannot drain: the same, DEVICE_NEEDS_RESET. */
	h->hold = true;
	put_req(&gu, 20, VIRTIO_BLK_T_IN, 0, buf, 4096, 1);
	process(&gu);
	h->reap_err = -EIO;
	wr(&gu, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(&gu, VIRTIO_MMIO_QUEUE_READY, 0);
	ok((rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) &&
	   stats(&gu).orphans == 1,
	   "orphans: QueueReady 0 that cannot drain sets DEVICE_NEEDS_RESET");
	h->reap_err = 0;
	h->hold = false;
	vblk_reap(gu.b, false);
	ok(drv_init(&gu, std_features) && gmem_page_pins(gu.g, buf) == 0,
	   "orphans: released, reset, live again");
	free_guest(&gu);
}

/* ---- file backend --------------------------------------------------------- */

/* Write 3 segments at sector 16, read them back elsewhere, compare. */
static void file_roundtrip(const char *path, unsigned int flags,
			   const char *what)
{
	const uint32_t seg = 4096;
	struct blk_backend *be;
	struct vring_used_elem e;
	struct guest gu;
	uint8_t *src, *dst, *disk;
	int ret, fd;
	bool got;

	ret = blk_backend_file(path, flags, 64, &be);
	if (ret == -EINVAL && (flags & BLK_FILE_DIRECT)) {
		tap_skip(5, "O_DIRECT not supported by the file system of /tmp");
		return;
	}
	if (!ok_eq(ret, 0, "%s: backend opened (engine %s)", what,
		   ret ? "-" : be->engine)) {
		tap_skip(4, "no backend");
		return;
	}
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	src = gu.mem + DATA_GPA + 0x40000;
	dst = gu.mem + DATA_GPA + 0x80000;
	fill(src, 3 * seg, flags + 1);
	memset(dst, 0, 3 * seg);
	put_req(&gu, 9, VIRTIO_BLK_T_OUT, 16, DATA_GPA + 0x40000, seg, 3);
	ok(run1(&gu, &e) && e.id == 9 && e.len == 1 &&
	   *status_byte(&gu, 9) == VIRTIO_BLK_S_OK, "%s: OUT 12 KiB OK", what);
	put_req(&gu, 10, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	ok(run1(&gu, &e) && *status_byte(&gu, 10) == VIRTIO_BLK_S_OK,
	   "%s: FLUSH OK", what);
	put_req(&gu, 11, VIRTIO_BLK_T_IN, 16, DATA_GPA + 0x80000, seg, 3);
	got = run1(&gu, &e);
	ok(got && e.len == 3 * seg + 1 &&
	   *status_byte(&gu, 11) == VIRTIO_BLK_S_OK &&
	   !memcmp(src, dst, 3 * seg),
	   "%s: IN reads back the same 12 KiB, used len %u", what, e.len);
	disk = malloc(3 * seg);
	fd = open(path, O_RDONLY);
	ok(disk && fd >= 0 && pread(fd, disk, 3 * seg, 16 * 512) == 3 * seg &&
	   !memcmp(disk, src, 3 * seg), "%s: the file holds the data", what);
	if (fd >= 0)
		close(fd);
	free(disk);
	ok_eq(gmem_page_pins(gu.g, DATA_GPA + 0x40000) +
	      gmem_page_pins(gu.g, DATA_GPA + 0x80000), 0,
	      "%s: no pins left", what);
	free_guest(&gu);
}

static void test_file(void)
{
	char *path = mk_disk();
	struct blk_backend *be;

	file_roundtrip(path, 0, "file buffered");
	file_roundtrip(path, BLK_FILE_DIRECT, "file O_DIRECT");
	file_roundtrip(path, BLK_FILE_SYNC, "file sync engine");

	ok_eq(blk_backend_file(path, 1U << 7, 64, &be), -EINVAL,
	      "unknown flag refused");
	ok_eq(blk_backend_file(path, 0, 0, &be), -EINVAL, "depth 0 refused");
	ok_eq(blk_backend_file("/nonexistent/x", 0, 64, &be), -ENOENT,
	      "missing file: -ENOENT");
	ok_eq(blk_backend_null(1000, &be), -EINVAL,
	      "null capacity not a sector multiple refused");

	/* Command-line specs. */
	{
		static const struct { const char *spec; int ret; } bad[] = {
			{ "nul", -EINVAL }, { "null:", -EINVAL },
			{ "null:12x", -EINVAL }, { "null:1000", -EINVAL },
			{ "null:0", -EINVAL }, { "null:-512", -EINVAL },
			{ "null:99999999999T", -EINVAL }, { "file:", -EINVAL },
			{ "file:/tmp/x,fast", -EINVAL }, { "", -EINVAL },
			{ "file:/nonexistent/x", -ENOENT },
		};
		bool all = true;
		char spec[128];

		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int r = blk_backend_open(bad[i].spec, &be);

			if (r != bad[i].ret) {
				diag("spec \"%s\": got %d want %d", bad[i].spec,
				     r, bad[i].ret);
				all = false;
			}
		}
		ok(all, "bad backend specs refused with the documented errno");
		ok(!blk_backend_open("null:64M", &be) &&
		   be->capacity == 64ULL << 20 && !strcmp(be->name, "null"),
		   "spec null:64M");
		blk_backend_destroy(be);
		snprintf(spec, sizeof(spec), "file:%s,ro,sync", path);
		ok(!blk_backend_open(spec, &be) && be->read_only &&
		   !strcmp(be->engine, "sync") && be->capacity == DISK_SIZE,
		   "spec file:PATH,ro,sync");
		blk_backend_destroy(be);
	}

	/* Read-only device: OUT gets IOERR, RO offered. */
	if (!blk_backend_file(path, BLK_FILE_READ_ONLY, 8, &be)) {
		struct vring_used_elem e;
		struct guest gu;

		mk_guest(&gu, be);
		ok(dev_features(&gu) & VIRTIO_BIT(VIRTIO_BLK_F_RO),
		   "read-only backend offers F_RO");
		drv_init(&gu, std_features | VIRTIO_BIT(VIRTIO_BLK_F_RO));
		put_req(&gu, 0, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, 1);
		ok(run1(&gu, &e) && *status_byte(&gu, 0) == VIRTIO_BLK_S_IOERR &&
		   stats(&gu).err[VBLK_E_READ_ONLY] == 1,
		   "OUT to a read-only device: IOERR, counted");
		free_guest(&gu);
	} else {
		tap_skip(2, "read-only open failed");
	}

	/*
	 * O_DIRECT from a buffer not aligned to 512: the kernel decides (this
	 * one may accept any memory alignment the disk's DMA allows).  Either
	 * the data arrives intact or the guest gets IOERR; never silence.
	 */
	if (!blk_backend_file(path, BLK_FILE_DIRECT, 8, &be)) {
		struct vring_used_elem e;
		struct guest gu;
		uint8_t st;

		mk_guest(&gu, be);
		drv_init(&gu, std_features);
		fill(gu.mem + DATA_GPA + 1, 1024, 9);
		put_req(&gu, 0, VIRTIO_BLK_T_OUT, 64, DATA_GPA + 1, 1024, 1);
		run1(&gu, &e);
		st = *status_byte(&gu, 0);
		if (st == VIRTIO_BLK_S_OK) {
			memset(gu.mem + DATA_GPA + 0x8000, 0, 1024);
			put_req(&gu, 4, VIRTIO_BLK_T_IN, 64, DATA_GPA + 0x8000,
				1024, 1);
			run1(&gu, &e);
			ok(*status_byte(&gu, 4) == VIRTIO_BLK_S_OK &&
			   !memcmp(gu.mem + DATA_GPA + 1, gu.mem + DATA_GPA +
				   0x8000, 1024),
			   "O_DIRECT from a misaligned buffer: accepted by this "
			   "kernel, data intact");
		} else {
			ok(st == VIRTIO_BLK_S_IOERR &&
			   stats(&gu).err[VBLK_E_BACKEND] == 1 &&
			   gmem_page_pins(gu.g, DATA_GPA) == 0,
			   "O_DIRECT from a misaligned buffer: refused by the "
			   "kernel, IOERR, unpinned");
		}
		free_guest(&gu);
	} else {
		tap_skip(1, "O_DIRECT unsupported");
	}
	unlink(path);
}

/* ---- ram backend ---------------------------------------------------------- */

static void ram_specs(void)
{
	static const struct { const char *spec; int ret; } bad[] = {
		{ "ram:", -EINVAL }, { "ram:0", -EINVAL }, { "ram:1000", -EINVAL },
		{ "ram:12x", -EINVAL }, { "ram:-512", -EINVAL }, { "rams", -EINVAL },
		{ "ram:1g,ro", -EINVAL }, { "ram:99999999999T", -EINVAL },
		{ "RAM:1g", -EINVAL }, { "ram:8000000T", -ENOMEM },
	};
	struct blk_backend *be = NULL;
	bool all = true;
	unsigned int i;

	ok_eq(blk_backend_ram(0, &be), -EINVAL, "ram: capacity 0 refused");
	ok_eq(blk_backend_ram(1000, &be), -EINVAL,
	      "ram: capacity not a sector multiple refused");
	ok_eq(blk_backend_ram(512, NULL), -EINVAL, "ram: NULL out refused");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = blk_backend_open(bad[i].spec, &be);

		if (r != bad[i].ret) {
			diag("spec \"%s\": got %d want %d", bad[i].spec, r, bad[i].ret);
			all = false;
		}
	}
	ok(all, "bad ram specs refused with the grammar's errno (size beyond "
	   "the address space: -ENOMEM)");
	ok(!blk_backend_open("ram", &be) && be->capacity == 1ULL << 30 &&
	   !strcmp(be->name, "ram") && !strcmp(be->engine, "memcpy") && !be->read_only &&
	   be->event_fd < 0, "spec ram: 1 GiB, engine memcpy");
	blk_backend_destroy(be);
	ok(!blk_backend_open("ram:64M", &be) && be->capacity == 64ULL << 20,
	   "spec ram:64M");
	blk_backend_destroy(be);
}

/* One request of head h at sector sec over the n segments in ds. */
static uint8_t ram_req(struct guest *gu, uint16_t h, uint32_t type,
		       uint64_t sec, const struct d *segs, unsigned int n,
		       uint32_t *used_len)
{
	struct d ds[SEG_MAX + 2];
	struct vring_used_elem e;
	unsigned int i;

	put_hdr(gu, h, type, sec);
	ds[0] = (struct d){ HDR_GPA + 16 * h, 16, 0 };
	for (i = 0; i < n; i++)
		ds[1 + i] = segs[i];
	ds[1 + n] = (struct d){ STATUS_GPA + h, 1, W };
	put_chain(gu, h, ds, n + 2);
	publish_head(gu, h);
	if (!run1(gu, &e) || e.id != h)
		return 0xee;
	if (used_len)
		*used_len = e.len;
	return *status_byte(gu, h);
}

static long ram_res;

static void ram_done(struct blk_backend *be, struct blk_io *io, long res)
{
	(void)be;
	(void)io;
	ram_res = res;
}

/*
 * SIGBUS: a buffer on a file mapping past the end of its file (what a
 * userfaultfd SIGBUS region raises too).  The backend's copy is recovered
 * by the violation handler's SIGBUS half: -EFAULT, the process lives on.
 */
static void ram_sigbus(void)
{
#if defined(__SANITIZE_THREAD__)
	/* ThreadSanitizer cannot leave its memcpy interceptor by siglongjmp
	 * from a SIGBUS (the process dies of it): the recovery is checked by
	 * the plain and the address-sanitizer builds. */
	tap_skip(3, "ThreadSanitizer: no siglongjmp out of its memcpy on SIGBUS");
	return;
#endif
	int fd = memfd_create("t-ram-bus", 0);
	struct blk_backend *be;
	struct iovec iov;
	struct blk_io io = { .iov = &iov, .niov = 1, .len = 8192, .offset = 4096 };
	uint8_t *p;

	if (fd < 0 || ftruncate(fd, 2 * PG) || blk_backend_ram(1 << 20, &be))
		tap_bail("memfd");
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || ftruncate(fd, PG))
		tap_bail("mmap");
	be->complete = ram_done;
	iov = (struct iovec){ p, 8192 };
	io.op = BLK_OP_READ;
	ram_res = 1;
	ok(be->ops->submit(be, &io) == 0 && ram_res == -EFAULT,
	   "ram: a read into a page past the end of a file mapping (SIGBUS): "
	   "-EFAULT, no crash");
	io.op = BLK_OP_WRITE;
	ram_res = 1;
	ok(be->ops->submit(be, &io) == 0 && ram_res == -EFAULT &&
	   be->copy_bytes[BLK_OP_WRITE] == 0 && be->copy_bytes[BLK_OP_READ] == 0,
	   "ram: a write from it too; a failed copy is not counted as copied");
	iov = (struct iovec){ p, 4096 };
	io.len = 4096;
	ram_res = 1;
	ok(be->ops->submit(be, &io) == 0 && ram_res == 4096,
	   "ram: the mapped page alone copies fine afterwards");
	blk_backend_destroy(be);
	munmap(p, 2 * PG);
	close(fd);
}

static void test_ram(void)
{
	const uint64_t a = DATA_GPA + 0x40000, b = DATA_GPA + 0x80000;
	const uint64_t bad = DATA_GPA + 0xc0000, ip = DATA_GPA + 0x100000;
	uint8_t *hv, *zero = calloc(1, 4096);
	struct vblk_stats s0, s1;
	struct blk_backend *be;
	struct guest gu;
	uint64_t gv;
	uint32_t used = 0;
	uint8_t st;

	ram_specs();
	if (blk_backend_ram(DISK_SIZE, &be) || !zero)
		tap_bail("ram backend");
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	hv = gmem_host_view(gu.g);

	/* Both directions, three segments, the bytes counted once each way. */
	fill(gu.mem + a, 3 * 4096, 21);
	memset(gu.mem + b, 0, 3 * 4096);
	st = ram_req(&gu, 1, VIRTIO_BLK_T_OUT, 16, (struct d[]){ { a, 4096, 0 },
		     { a + 4096, 4096, 0 }, { a + 8192, 4096, 0 } }, 3, &used);
	ok(st == VIRTIO_BLK_S_OK && used == 1, "ram: OUT 12 KiB OK, used len 1");
	st = ram_req(&gu, 8, VIRTIO_BLK_T_IN, 16, (struct d[]){ { b, 4096, W },
		     { b + 4096, 4096, W }, { b + 8192, 4096, W } }, 3, &used);
	ok(st == VIRTIO_BLK_S_OK && used == 3 * 4096 + 1 &&
	   !memcmp(gu.mem + a, gu.mem + b, 3 * 4096),
	   "ram: IN reads the 12 KiB back, used len %u", used);
	s0 = stats(&gu);
	ok(s0.dev_copy_bytes[BLK_OP_WRITE] == 3 * 4096 &&
	   s0.dev_copy_bytes[BLK_OP_READ] == 3 * 4096 && s0.dev_ns[BLK_OP_READ] > 0 &&
	   s0.dev_ns[BLK_OP_WRITE] > 0,
	   "ram: the device copied 12 KiB each way, its time counted per direction");

	/* A sector never written reads zeros (the store is sparse). */
	memset(gu.mem + b, 0xa5, 1024);
	st = ram_req(&gu, 16, VIRTIO_BLK_T_IN, 1000, (struct d[]){ { b, 1024, W } }, 1,
		     NULL);
	ok(st == VIRTIO_BLK_S_OK && !memcmp(gu.mem + b, zero, 1024),
	   "ram: a sector never written reads zeros");

	/* Short and unaligned: one sector from an odd address, back into
	 * another odd address. */
	fill(gu.mem + a + 1, 512, 22);
	st = ram_req(&gu, 20, VIRTIO_BLK_T_OUT, 3, (struct d[]){ { a + 1, 512, 0 } }, 1,
		     NULL);
	memset(gu.mem + b + 3, 0, 512);
	st |= ram_req(&gu, 24, VIRTIO_BLK_T_IN, 3, (struct d[]){ { b + 3, 512, W } }, 1,
		      &used);
	ok(st == VIRTIO_BLK_S_OK && used == 513 && !memcmp(gu.mem + a + 1, gu.mem + b + 3, 512),
	   "ram: one sector from and to unaligned buffers");

	/* Uneven segments (512 + 1536 + 2048), read back as one 4 KiB. */
	fill(gu.mem + a, 4096, 23);
	st = ram_req(&gu, 28, VIRTIO_BLK_T_OUT, 40, (struct d[]){ { a, 512, 0 },
		     { a + 512, 1536, 0 }, { a + 2048, 2048, 0 } }, 3, NULL);
	memset(gu.mem + b, 0, 4096);
	st |= ram_req(&gu, 34, VIRTIO_BLK_T_IN, 40, (struct d[]){ { b, 4096, W } }, 1, NULL);
	ok(st == VIRTIO_BLK_S_OK && !memcmp(gu.mem + a, gu.mem + b, 4096),
	   "ram: uneven segments land at the right offsets");

	/* The last sector; one past it refused by the device. */
	fill(gu.mem + a, 512, 24);
	st = ram_req(&gu, 38, VIRTIO_BLK_T_OUT, DISK_SIZE / 512 - 1,
		     (struct d[]){ { a, 512, 0 } }, 1, NULL);
	memset(gu.mem + b, 0, 512);
	st |= ram_req(&gu, 42, VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1,
		      (struct d[]){ { b, 512, W } }, 1, NULL);
	ok(st == VIRTIO_BLK_S_OK && !memcmp(gu.mem + a, gu.mem + b, 512),
	   "ram: the last sector written and read back");
	s0 = stats(&gu);
	st = ram_req(&gu, 46, VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1,
		     (struct d[]){ { b, 1024, W } }, 1, NULL);
	ok(st == VIRTIO_BLK_S_IOERR &&
	   stats(&gu).err[VBLK_E_SECTOR] == s0.err[VBLK_E_SECTOR] + 1,
	   "ram: a read past the end gets IOERR (sector)");
	st = ram_req(&gu, 50, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL);
	ok_eq(st, VIRTIO_BLK_S_OK, "ram: FLUSH OK");

	/* A buffer the guest made private: refused before the backend. */
	s0 = stats(&gu);
	st = ram_req(&gu, 30, VIRTIO_BLK_T_OUT, 64, (struct d[]){ { PRIV_GPA, 4096, 0 } },
		     1, NULL);
	st |= ram_req(&gu, 36, VIRTIO_BLK_T_IN, 16, (struct d[]){ { PRIV_GPA, 4096, W } },
		      1, NULL);
	s1 = stats(&gu);
	ok(st == VIRTIO_BLK_S_IOERR && s1.err[VBLK_E_PRIVATE] == s0.err[VBLK_E_PRIVATE] + 2 &&
	   s1.violations == s0.violations + 2 && gmem_violations(gu.g) == 0 &&
	   s1.dev_copy_bytes[BLK_OP_READ] == s0.dev_copy_bytes[BLK_OP_READ] &&
	   s1.dev_copy_bytes[BLK_OP_WRITE] == s0.dev_copy_bytes[BLK_OP_WRITE],
	   "ram: private buffer, both directions: IOERR, 2 violations, nothing copied, "
	   "no host access");
	memset(gu.mem + b, 0xa5, 4096);
	st = ram_req(&gu, 44, VIRTIO_BLK_T_IN, 64, (struct d[]){ { b, 4096, W } }, 1, NULL);
	ok(st == VIRTIO_BLK_S_OK && !memcmp(gu.mem + b, zero, 4096),
	   "ram: the refused OUT left the store as it was");

	/*
	 * A page gone inaccessible behind the device's back (shared for gmem,
	 * PROT_NONE in the host view): the backend's copy faults, the
	 * program's violation handler (gmemkit installs it at start) recovers
	 * it, the request gets IOERR and a counted violation, the VMM lives
	 * on.  Twice: the recovery leaves the handler working.
	 */
	if (violation_watch())
		tap_bail("violation_watch");
	for (int round = 0; round < 2; round++) {
		const char *who = round ? "again" : "once";

		s0 = stats(&gu);
		gv = gmem_violations(gu.g);
		if (mprotect(hv + bad + PG, PG, PROT_NONE))
			tap_bail("mprotect");
		st = ram_req(&gu, 1, VIRTIO_BLK_T_IN, 16, (struct d[]){ { bad, 2 * 4096, W } },
			     1, &used);
		ok(st == VIRTIO_BLK_S_IOERR && used == 1,
		   "ram (%s): IN into an inaccessible page: IOERR, no crash", who);
		st = ram_req(&gu, 8, VIRTIO_BLK_T_OUT, 16, (struct d[]){ { bad, 2 * 4096, 0 } },
			     1, &used);
		if (mprotect(hv + bad + PG, PG, PROT_READ | PROT_WRITE))
			tap_bail("mprotect");
		s1 = stats(&gu);
		ok(st == VIRTIO_BLK_S_IOERR && s1.violations == s0.violations + 2 &&
		   s1.err[VBLK_E_PRIVATE] == s0.err[VBLK_E_PRIVATE] + 2 &&
		   s1.backend_errors == s0.backend_errors && gmem_violations(gu.g) == gv + 2,
		   "ram (%s): OUT from it too; 2 device violations, 2 gmem violations", who);
		ok(gmem_page_pins(gu.g, bad) == 0 && gmem_page_pins(gu.g, bad + PG) == 0,
		   "ram (%s): the failed requests dropped their pins", who);
	}
	memset(gu.mem + b, 0, 3 * 4096);
	st = ram_req(&gu, 12, VIRTIO_BLK_T_IN, 16, (struct d[]){ { b, 3 * 4096, W } }, 1, NULL);
	fill(gu.mem + a, 3 * 4096, 21);
	ok(st == VIRTIO_BLK_S_OK && !memcmp(gu.mem + a, gu.mem + b, 3 * 4096),
	   "ram: the device works on, the first write still there (data persists)");

	/*
	 * The device's faults: a buffer unshared and shared again (the host's
	 * mapping of it zapped, as an in-place conversion does) is faulted in
	 * by the device's copy, once per page; read into again, no fault.
	 */
	if (gmem_unshare(gu.g, ip, 4 * PG) || gmem_share(gu.g, ip, 4 * PG))
		tap_bail("convert");
	s0 = stats(&gu);
	st = ram_req(&gu, 16, VIRTIO_BLK_T_IN, 16, (struct d[]){ { ip, 4 * 4096, W } }, 1,
		     NULL);
	s1 = stats(&gu);
	ok(st == VIRTIO_BLK_S_OK && s1.dev_faults[BLK_OP_READ] - s0.dev_faults[BLK_OP_READ] >= 4,
	   "ram: a read into a re-shared 16 KiB buffer: the device faults its pages "
	   "in (%llu faults)",
	   (unsigned long long)(s1.dev_faults[BLK_OP_READ] - s0.dev_faults[BLK_OP_READ]));
	s0 = s1;
	st = ram_req(&gu, 20, VIRTIO_BLK_T_IN, 16, (struct d[]){ { ip, 4 * 4096, W } }, 1,
		     NULL);
	s1 = stats(&gu);
	ok(st == VIRTIO_BLK_S_OK && s1.dev_faults[BLK_OP_READ] == s0.dev_faults[BLK_OP_READ] &&
	   s1.dev_copy_bytes[BLK_OP_READ] == s0.dev_copy_bytes[BLK_OP_READ] + 4 * 4096,
	   "ram: the same read again (pages mapped): no fault, 16 KiB copied");
	free_guest(&gu);
	free(zero);
	ram_sigbus();
}

int main(void)
{
	test_inflight();
	test_orphans();
	test_file();
	test_ram();
	return tap_done();
}
