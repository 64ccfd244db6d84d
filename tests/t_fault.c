// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection, host only: the test plays the guest (rings and buffers
 * written through the gmem memslot mapping, the device driven through
 * virtio_mmio_access() and vblk_process_queue()).
 *
 *  - the fault injector's spec parser and constructor refuse bad input;
 *  - each fault kind (submit failure, EIO, ENOSPC, short transfer) reaches
 *    the guest as VIRTIO_BLK_S_IOERR with used length 1, and nothing else
 *    changes: the file holds old data or, for a short write, a prefix of
 *    the new; the request before and after completes OK; no pin is left;
 *  - a failed batch push (kind kick) only delays the I/O: it completes OK
 *    without a second notification;
 *  - silent corruption (kind corrupt) is OK to the device but caught by the
 *    stress run's data checks;
 *  - bounce pool exhaustion (a pool too small for qd x bs) surfaces as a
 *    driver-side -ENOSPC, counted, with a clean run;
 *  - conversion refusals: unsharing a buffer the device has pinned gets
 *    -EBUSY, counted by gmem;
 *  - a guest that stops mid-I/O: a driver thread exits with requests in
 *    flight; the device reset or destroy completes them and drops every pin
 *    (LeakSanitizer checks nothing leaks under SAN=address);
 *  - the stress run with every fault kind at once stays clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "harness/blk_fault.h"
#include "gmemkit/gmem.h"
#include "harness/stress.h"
#include "gmemkit/virtio_blk.h"
#include "tap.h"

#define PG		GMEM_PAGE_SIZE
#define RAM_SIZE	(2UL << 20)
#define QSIZE		16U
#define DESC_GPA	0x0000UL
#define AVAIL_GPA	0x1000UL
#define USED_GPA	0x2000UL
#define HDR_GPA		0x3000UL	/* 16 bytes per head */
#define STATUS_GPA	0x4000UL	/* 1 byte per head */
#define DATA_GPA	0x10000UL	/* 64 KiB per head */
#define DATA_STRIDE	0x10000UL
#define DISK_SIZE	(1UL << 20)

struct guest {
	struct gmem *g;
	uint8_t *mem;
	struct vblk *b;
	struct virtio_mmio_dev *m;
	struct blk_backend *be;
	uint16_t avail_idx, used_seen;
};

/* ---- guest side ------------------------------------------------------------- */

static void wr(struct guest *gu, uint64_t off, uint32_t v)
{
	virtio_mmio_access(gu->m, off, &v, 4, true);
}

static uint32_t rd(struct guest *gu, uint64_t off)
{
	uint32_t v = 0;

	virtio_mmio_access(gu->m, off, &v, 4, false);
	return v;
}

static bool drv_init(struct guest *gu)
{
	const uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		     VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |
		     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);

	memset(gu->mem, 0, DATA_GPA);
	gu->avail_idx = gu->used_seen = 0;
	wr(gu, VIRTIO_MMIO_STATUS, 0);
	wr(gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(gu, VIRTIO_MMIO_STATUS, st);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(gu, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
	wr(gu, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(gu, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(gu, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(gu, VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL_GPA);
	wr(gu, VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED_GPA);
	wr(gu, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(gu, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK |
	   VIRTIO_STATUS_DRIVER_OK);
	return rd(gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK;
}

static void mk_guest(struct guest *gu, struct blk_backend *be)
{
	struct gmem_config cfg = {
		.size = RAM_SIZE, .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
		.mode = GMEM_MODE_INPLACE, .flags = GMEM_F_INIT_SHARED,
		.name = "t-fault",
	};
	struct vblk_params p = { .backend = be, .queue_num_max = QSIZE };

	memset(gu, 0, sizeof(*gu));
	gu->be = be;
	if (gmem_create(&cfg, &gu->g))
		tap_bail("gmem_create");
	gu->mem = gmem_memslot_addr(gu->g);
	p.mem = gu->g;
	if (vblk_create(&p, &gu->b))
		tap_bail("vblk_create");
	gu->m = vblk_mmio(gu->b);
	if (!drv_init(gu))
		tap_bail("driver init");
}

static uint64_t data_gpa(uint16_t head)
{
	return DATA_GPA + head * DATA_STRIDE;
}

/* Header, one data buffer of len bytes at data_gpa(head), status; publish. */
static void put_req(struct guest *gu, uint16_t head, uint32_t type,
		    uint64_t sector, uint32_t len)
{
	struct vring_desc *d = (struct vring_desc *)(gu->mem + DESC_GPA);
	struct vring_avail *a = (struct vring_avail *)(gu->mem + AVAIL_GPA);
	struct virtio_blk_outhdr *h = (void *)(gu->mem + HDR_GPA + 16 * head);
	uint16_t w = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;

	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	gu->mem[STATUS_GPA + head] = 0xee;
	d[head] = (struct vring_desc){ HDR_GPA + 16 * head, 16,
				       VIRTQ_DESC_F_NEXT, head + 1 };
	if (len) {
		d[head + 1] = (struct vring_desc){ data_gpa(head), len,
						   w | VIRTQ_DESC_F_NEXT, head + 2 };
		d[head + 2] = (struct vring_desc){ STATUS_GPA + head, 1,
						   VIRTQ_DESC_F_WRITE, 0 };
	} else {
		d[head + 1] = (struct vring_desc){ STATUS_GPA + head, 1,
						   VIRTQ_DESC_F_WRITE, 0 };
	}
	a->ring[gu->avail_idx % QSIZE] = head;
	__atomic_store_n(&a->idx, ++gu->avail_idx, __ATOMIC_RELEASE);
}

static bool get_used(struct guest *gu, struct vring_used_elem *e)
{
	struct vring_used *u = (struct vring_used *)(gu->mem + USED_GPA);
	struct timespec ts = { 0, 100000 };

	for (int i = 0; i < 20000; i++) {
		if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != gu->used_seen) {
			*e = u->ring[gu->used_seen++ % QSIZE];
			return true;
		}
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Run one request synchronously; its status byte, or -1 on no completion. */
static int run1(struct guest *gu, uint16_t head, uint32_t type, uint64_t sector,
		uint32_t len, uint32_t *used_len)
{
	struct vring_used_elem e;

	put_req(gu, head, type, sector, len);
	vblk_process_queue(gu->b);
	vblk_reap(gu->b, true);
	if (!get_used(gu, &e) || e.id != head)
		return -1;
	*used_len = e.len;
	return gu->mem[STATUS_GPA + head];
}

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9) + 1);
}

static char disk_path[64];

static int mk_disk(void)
{
	int fd;

	snprintf(disk_path, sizeof(disk_path), "/tmp/t_fault.XXXXXX");
	fd = mkstemp(disk_path);
	if (fd < 0 || ftruncate(fd, DISK_SIZE))
		tap_bail("tmp disk");
	return fd;
}

static struct blk_backend *wrapped_file(const char *spec)
{
	struct blk_fault_config cfg = { .seed = 42 };
	struct blk_backend *inner, *w;

	if (blk_fault_parse(spec, &cfg))
		tap_bail("blk_fault_parse");
	if (blk_backend_file(disk_path, 0, 64, &inner))
		tap_bail("file backend");
	if (blk_fault_wrap(inner, &cfg, &w))
		tap_bail("blk_fault_wrap");
	return w;
}

static uint64_t pins_total(struct gmem *g)
{
	uint64_t off, n = 0;

	for (off = 0; off < gmem_size(g); off += PG)
		n += (uint64_t)gmem_page_pins(g, off);
	return n;
}

static void free_guest(struct guest *gu)
{
	vblk_destroy(gu->b);
	gmem_destroy(gu->g);
}

/* ---- parser and constructor ---------------------------------------------------- */

static void test_parse(void)
{
	static const char *const bad[] = {
		"", "bogus:0.1", "eio", "eio:", ":0.1", "eio:1.5", "eio:-0.1",
		"eio:#0", "eio:#", "eio:#x", "eio:0.1,", ",eio:0.1", "eio:0.1,,short:1",
		"eio:abc", "eio:nan", "eio:0.1x", "EIO:0.1",
	};
	struct blk_fault_config cfg = { 0 }, before;
	struct blk_backend *be, *w;
	unsigned int i;
	bool all = true;

	ok_eq(blk_fault_parse("eio:0.25,short:#3,submit:1,enospc:0,corrupt:#7",
			      &cfg), 0, "valid spec parsed");
	ok(cfg.rule[BLK_FAULT_EIO].rate == 0.25 &&
	   cfg.rule[BLK_FAULT_SHORT].nth == 3 &&
	   cfg.rule[BLK_FAULT_SUBMIT].rate == 1.0 &&
	   cfg.rule[BLK_FAULT_ENOSPC].rate == 0 &&
	   cfg.rule[BLK_FAULT_CORRUPT].nth == 7, "rates and nth as given");
	before = cfg;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (blk_fault_parse(bad[i], &cfg) != -EINVAL) {
			diag("spec '%s' accepted", bad[i]);
			all = false;
		}
	}
	ok(all && !memcmp(&cfg, &before, sizeof(cfg)),
	   "%zu bad specs refused with -EINVAL, config unchanged",
	   sizeof(bad) / sizeof(bad[0]));
	ok_eq(blk_fault_parse(NULL, &cfg), -EINVAL, "NULL spec: -EINVAL");
	ok(!strcmp(blk_fault_kind_name(BLK_FAULT_SHORT), "short") &&
	   !blk_fault_kind_name(BLK_FAULT_NR), "kind names");

	if (blk_backend_null(DISK_SIZE, &be))
		tap_bail("null backend");
	cfg = (struct blk_fault_config){ 0 };
	cfg.rule[BLK_FAULT_EIO].rate = 1.5;
	ok_eq(blk_fault_wrap(be, &cfg, &w), -EINVAL, "wrap: rate 1.5 refused");
	cfg.rule[BLK_FAULT_EIO].rate = NAN;
	ok_eq(blk_fault_wrap(be, &cfg, &w), -EINVAL, "wrap: NaN rate refused");
	ok_eq(blk_fault_wrap(NULL, &cfg, &w), -EINVAL, "wrap: NULL inner refused");
	ok_eq(blk_fault_get_stats(be, &(struct blk_fault_stats){ 0 }), -EINVAL,
	      "stats of a backend that is no wrapper: -EINVAL");
	blk_backend_destroy(be);	/* not consumed by the failed wraps */
}

/* ---- each kind through the device ------------------------------------------------ */

static void test_kinds(void)
{
	struct blk_fault_stats fs;
	struct vblk_stats st;
	struct guest gu;
	uint8_t *old, *disk;
	uint32_t ul = 0;
	int fd = mk_disk(), s1, s2, s3, n_new = 0, n_old = 0, prefix = 1;

	old = malloc(DISK_SIZE);
	disk = malloc(DISK_SIZE);
	if (!old || !disk)
		tap_bail("malloc");
	fill(old, DISK_SIZE, 9);
	if (pwrite(fd, old, DISK_SIZE, 0) != (ssize_t)DISK_SIZE)
		tap_bail("pwrite");

	mk_guest(&gu, wrapped_file("eio:#2,enospc:#1,submit:#5,short:#4,corrupt:#2"));
	/* I/O 1: read (enospc not eligible: its 1st is the 1st write) */
	s1 = run1(&gu, 0, VIRTIO_BLK_T_IN, 0, 4096, &ul);
	ok(s1 == VIRTIO_BLK_S_OK && ul == 4097 &&
	   !memcmp(gu.mem + data_gpa(0), old, 4096),
	   "1st I/O, a read, OK: enospc waits for a write");
	/* I/O 2: write -> eio (2nd I/O) wins over enospc (1st write) */
	fill(gu.mem + data_gpa(2), 8192, 1);
	s2 = run1(&gu, 2, VIRTIO_BLK_T_OUT, 16, 8192, &ul);
	ok(s2 == VIRTIO_BLK_S_IOERR && ul == 1, "eio on the 2nd I/O: IOERR, used len 1");
	pread(fd, disk, 8192, 16 * 512);
	ok(!memcmp(disk, old + 16 * 512, 8192), "eio: the file is unchanged");
	/* I/O 3: write; enospc's 1st eligible was I/O 2 (shadowed), so none */
	fill(gu.mem + data_gpa(4), 8192, 3);
	s3 = run1(&gu, 4, VIRTIO_BLK_T_OUT, 16, 8192, &ul);
	pread(fd, disk, 8192, 16 * 512);
	ok(s3 == VIRTIO_BLK_S_OK && !memcmp(disk, gu.mem + data_gpa(4), 8192),
	   "3rd I/O, a write, OK and on the file");
	/* I/O 4: short write of 16 sectors: a prefix lands, then IOERR */
	fill(gu.mem + data_gpa(6), 8192, 2);
	s1 = run1(&gu, 6, VIRTIO_BLK_T_OUT, 64, 8192, &ul);
	pread(fd, disk, 8192, 64 * 512);
	for (int i = 0; i < 16; i++) {
		bool is_new = !memcmp(disk + i * 512, gu.mem + data_gpa(6) + i * 512, 512);
		bool is_old = !memcmp(disk + i * 512, old + (64 + i) * 512, 512);

		if (is_new && n_old)
			prefix = 0;
		n_new += is_new;
		n_old += is_old && !is_new;
		if (!is_new && !is_old)
			prefix = 0;
	}
	ok(s1 == VIRTIO_BLK_S_IOERR && ul == 1, "short write: IOERR, used len 1");
	ok(prefix && n_new >= 1 && n_old >= 1 && n_new + n_old == 16,
	   "short write: the file holds a prefix of the new data (%d of 16 "
	   "sectors), the old data after it", n_new);
	/* I/O 5: submit failure */
	s1 = run1(&gu, 8, VIRTIO_BLK_T_IN, 0, 4096, &ul);
	ok(s1 == VIRTIO_BLK_S_IOERR && ul == 1, "submit failure: IOERR, used len 1");
	/* I/O 6: flush OK */
	s1 = run1(&gu, 10, VIRTIO_BLK_T_FLUSH, 0, 0, &ul);
	ok(s1 == VIRTIO_BLK_S_OK && ul == 1, "flush after the faults: OK");
	vblk_get_stats(gu.b, &st);
	blk_fault_get_stats(gu.be, &fs);
	ok(fs.injected[BLK_FAULT_EIO] == 1 && fs.injected[BLK_FAULT_SHORT] == 1 &&
	   fs.injected[BLK_FAULT_SUBMIT] == 1 && fs.injected[BLK_FAULT_ENOSPC] == 0 &&
	   fs.injected_total == 3 && fs.ios == 6 && fs.inflight == 0,
	   "injector counted eio 1, short 1, submit 1, enospc 0 of 6 I/Os");
	ok(st.ioerr == 3 && st.backend_errors == 3 && st.err[VBLK_E_BACKEND] == 3 &&
	   st.ok == 3 && st.violations == 0,
	   "device: 3 IOERR, all backend errors, 3 OK, no violation");
	ok_eq(pins_total(gu.g), 3 /* the three ring pages */, "only the rings pinned");
	free_guest(&gu);

	/* enospc on a write, corrupt on a read, rates 1 and 0 */
	mk_guest(&gu, wrapped_file("enospc:#1,corrupt:#1"));
	s1 = run1(&gu, 0, VIRTIO_BLK_T_OUT, 0, 4096, &ul);
	ok(s1 == VIRTIO_BLK_S_IOERR && ul == 1, "enospc on the 1st write: IOERR");
	memset(gu.mem + data_gpa(2), 0, 4096);
	s1 = run1(&gu, 2, VIRTIO_BLK_T_IN, 0, 4096, &ul);
	{
		int diff = 0;

		for (int i = 0; i < 4096; i++)
			diff += gu.mem[data_gpa(2) + i] != old[i];
		ok(s1 == VIRTIO_BLK_S_OK && ul == 4097 && diff == 1,
		   "corrupt: the read is OK to the device but 1 byte differs "
		   "(%d): silent, only data checks see it", diff);
	}
	free_guest(&gu);
	mk_guest(&gu, wrapped_file("eio:1"));
	s1 = run1(&gu, 0, VIRTIO_BLK_T_IN, 0, 4096, &ul);
	s2 = run1(&gu, 2, VIRTIO_BLK_T_FLUSH, 0, 0, &ul);
	ok(s1 == VIRTIO_BLK_S_IOERR && s2 == VIRTIO_BLK_S_IOERR,
	   "eio rate 1: read and flush fail");
	free_guest(&gu);
	mk_guest(&gu, wrapped_file("eio:0,short:0"));
	s1 = run1(&gu, 0, VIRTIO_BLK_T_IN, 0, 65536, &ul);
	ok(s1 == VIRTIO_BLK_S_OK && ul == 65537, "rate 0: nothing injected");
	free_guest(&gu);

	close(fd);
	unlink(disk_path);
	free(old);
	free(disk);
}

/* ---- kick failure: io_uring_submit() failing at the end of a batch ---------- */

static void test_kick_failure(void)
{
	struct vring_used_elem e;
	struct blk_fault_stats fs;
	struct guest gu;
	int fd = mk_disk();

	mk_guest(&gu, wrapped_file("kick:#1"));
	if (vblk_start(gu.b))
		tap_bail("device thread");
	put_req(&gu, 0, VIRTIO_BLK_T_IN, 0, 4096);
	eventfd_write(vblk_notify_fd(gu.b), 1);
	/* one notification, nothing else: the device must push it itself */
	ok(get_used(&gu, &e) && e.id == 0 && e.len == 4097 &&
	   gu.mem[STATUS_GPA] == VIRTIO_BLK_S_OK,
	   "a request whose kick failed completes OK without a second notify");
	blk_fault_get_stats(gu.be, &fs);
	ok_eq(fs.injected[BLK_FAULT_KICK], 1, "the kick failure was injected");
	free_guest(&gu);
	close(fd);
	unlink(disk_path);
}

/* ---- a guest that stops mid-I/O ------------------------------------------------ */

/* A backend that holds every I/O until reaped with wait (device reset). */
struct held_be {
	struct blk_backend be;
	struct blk_io *io[QSIZE];
	atomic_uint n;
};

static int held_submit(struct blk_backend *be, struct blk_io *io)
{
	struct held_be *h = (struct held_be *)be;
	unsigned int n = atomic_load(&h->n);

	if (n == QSIZE)
		return -EAGAIN;
	h->io[n] = io;
	atomic_store(&h->n, n + 1);
	return 0;
}

static int held_kick(struct blk_backend *be)
{
	(void)be;
	return 0;
}

static int held_reap(struct blk_backend *be, bool wait)
{
	struct held_be *h = (struct held_be *)be;
	unsigned int i, n = atomic_load(&h->n);

	if (!wait)
		return 0;
	atomic_store(&h->n, 0);
	for (i = 0; i < n; i++)
		be->complete(be, h->io[i],
			     h->io[i]->op == BLK_OP_FLUSH ? 0 : (long)h->io[i]->len);
	return (int)n;
}

static void held_destroy(struct blk_backend *be)
{
	free(be);
}

static const struct blk_backend_ops held_ops = {
	.submit = held_submit, .kick = held_kick, .reap = held_reap,
	.destroy = held_destroy,
};

static struct held_be *held_new(void)
{
	struct held_be *h = calloc(1, sizeof(*h));

	if (!h)
		tap_bail("calloc");
	h->be.ops = &held_ops;
	h->be.name = "held";
	h->be.engine = "test";
	h->be.capacity = DISK_SIZE;
	h->be.event_fd = -1;
	return h;
}

struct stopper {
	struct guest *gu;
	struct held_be *h;
	unsigned int nreq;
};

/* The guest: publish requests, notify, wait until the device took them all,
 * then stop without collecting anything. */
static void *stopping_guest(void *arg)
{
	struct stopper *st = arg;
	struct timespec ts = { 0, 1000000 };
	unsigned int i;

	for (i = 0; i < st->nreq; i++)
		put_req(st->gu, (uint16_t)(3 * i),
			i % 2 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT, 8 * i, 16384);
	eventfd_write(vblk_notify_fd(st->gu->b), 1);
	for (i = 0; i < 2000 && atomic_load(&st->h->n) < st->nreq; i++)
		nanosleep(&ts, NULL);
	return NULL;
}

static void stop_mid_io(bool reset_first)
{
	const char *how = reset_first ? "reset" : "destroy";
	struct held_be *h = held_new();
	struct blk_fault_config cfg = { 0 };
	struct stopper st = { .nreq = 5 };
	struct blk_backend *w;
	struct guest gu;
	pthread_t th;
	uint64_t pins;

	/* behind the fault injector, so that its shadows are covered too */
	if (blk_fault_wrap(&h->be, &cfg, &w))
		tap_bail("wrap");
	mk_guest(&gu, w);
	if (vblk_start(gu.b))
		tap_bail("device thread");
	st.gu = &gu;
	st.h = h;
	pthread_create(&th, NULL, stopping_guest, &st);
	pthread_join(th, NULL);
	pins = pins_total(gu.g);
	ok(atomic_load(&h->n) == st.nreq && pins == 3 + 5 * 4 + 5,
	   "%s: guest gone with %u requests in flight (%llu pins: rings, "
	   "4 data pages and the status page each)", how, st.nreq,
	   (unsigned long long)pins);
	ok_eq(gmem_unshare(gu.g, data_gpa(3), PG), -EBUSY,
	      "%s: unshare of a pinned in-flight buffer refused", how);
	if (reset_first) {
		struct vblk_stats s;

		wr(&gu, VIRTIO_MMIO_STATUS, 0);
		vblk_get_stats(gu.b, &s);
		ok(pins_total(gu.g) == 0 && s.inflight == 0 && s.ok == st.nreq,
		   "reset: every in-flight request completed, no pin left");
		ok_eq(gmem_unshare(gu.g, data_gpa(3), PG), 0,
		      "reset: the buffer can be unshared now");
		vblk_destroy(gu.b);
	} else {
		vblk_destroy(gu.b);
		ok_eq(pins_total(gu.g), 0, "destroy: no pin left");
		ok_eq(gmem_unshare(gu.g, data_gpa(3), PG), 0,
		      "destroy: the buffer can be unshared now");
	}
	gmem_destroy(gu.g);
}

/* ---- through the stress run (the guest's workload on host threads) ------------ */

static struct stress_config base_cfg(void)
{
	return (struct stress_config){
		.duration_ms = 1000, .threads = 2, .qd = 4, .bs = 64 << 10,
		.converter = true, .seed = 7, .disk_size = 16 << 20,
	};
}

static void test_stress_config(void)
{
	struct stress_result r;
	struct stress_config c;
	bool all = true;

	for (int i = 0; i < 8; i++) {
		c = base_cfg();
		switch (i) {
		case 0: c.threads = 0; break;
		case 1: c.qd = STRESS_MAX_QD + 1; break;
		case 2: c.bs = 6144; break;
		case 3: c.mode = GMEM_ABI_IO_MODE_MAX; break;
		case 4: c.backend = "tape"; break;
		case 5: c.threads = STRESS_MAX_THREADS + 1; break;
		case 6: c.pool_size = 100 << 10; break;
		case 7: c.disk_size = 256 << 10; break;	/* < 2 x qd x bs per thread */
		}
		if (stress_run(&c, &r) != -EINVAL) {
			diag("bad config %d accepted", i);
			all = false;
		}
	}
	ok(all, "8 bad stress configurations refused with -EINVAL");
}

static void test_stress_faults(void)
{
	struct stress_config c = base_cfg();
	struct stress_result r;
	int ret;

	/* every error kind at once */
	c.inject = true;
	blk_fault_parse("eio:0.03,enospc:0.03,short:0.03,submit:0.03,kick:0.1",
			&c.faults);
	ret = stress_run(&c, &r);
	ok(!ret && !r.failures && r.injected_total > 0 &&
	   r.injected[BLK_FAULT_KICK] > 0 &&
	   r.io_errors == r.injected_total - r.injected[BLK_FAULT_KICK] &&
	   r.dev_ioerr == r.io_errors && r.mismatches == 0 && r.pins_left == 0,
	   "stress with eio, enospc, short, submit and kick faults: clean, %llu "
	   "injected (%llu kick) -> %llu IOERR seen by the workload (%s)",
	   (unsigned long long)r.injected_total,
	   (unsigned long long)r.injected[BLK_FAULT_KICK],
	   (unsigned long long)r.io_errors,
	   r.failures ? r.first_failure : "no failure");
	ok(r.sectors_verified > 0 && r.inflight_refused > 0 &&
	   r.gmem_refusals == r.conv_busy && r.churn_conv > 0 && r.scratch_convs > 0,
	   "data checked (%llu sectors); held buffers' unshares refused -EBUSY "
	   "(%llu), every -EBUSY a gmem refusal (%llu); churn %llu, converter %llu",
	   (unsigned long long)r.sectors_verified,
	   (unsigned long long)r.inflight_refused, (unsigned long long)r.gmem_refusals,
	   (unsigned long long)r.churn_conv, (unsigned long long)r.scratch_convs);
	ok(r.bounced > 0 && r.inplaced > 0 && r.shared > 0 && r.batches > 0,
	   "mixed: every path taken (bounce %llu, inplace %llu, shared %llu, "
	   "batches %llu)", (unsigned long long)r.bounced,
	   (unsigned long long)r.inplaced, (unsigned long long)r.shared,
	   (unsigned long long)r.batches);

	/* silent corruption must be caught */
	c = base_cfg();
	c.inject = true;
	c.mode = GMEM_ABI_IO_SHARED;
	c.faults.rule[BLK_FAULT_CORRUPT].nth = 3;
	ret = stress_run(&c, &r);
	ok(!ret && r.injected[BLK_FAULT_CORRUPT] == 1 && r.mismatches >= 1 &&
	   r.failures >= 1 && r.io_errors == 0,
	   "one silently corrupted read is caught by the data checks "
	   "(%llu mismatches)", (unsigned long long)r.mismatches);

	/* bounce pool too small for qd x bs: requests wait for room */
	c = base_cfg();
	c.mode = GMEM_ABI_IO_BOUNCE;
	c.bs = 256 << 10;
	c.pool_size = gmem_abi_io_pool_min(c.bs, c.threads);
	ret = stress_run(&c, &r);
	ok(!ret && !r.failures && r.bounce_full > 0 && r.bounced > 0,
	   "bounce pool of %llu KiB for 2 x qd 4 x 256 KiB: %llu bounce_map "
	   "-ENOSPC waited, counted by the pool, run clean (%s)",
	   (unsigned long long)(c.pool_size >> 10), (unsigned long long)r.bounce_full,
	   r.failures ? r.first_failure : "no failure");

	/* the guest stops mid-I/O, with faults */
	c = base_cfg();
	c.abandon = true;
	c.inject = true;
	c.faults.rule[BLK_FAULT_EIO].rate = 0.05;
	ret = stress_run(&c, &r);
	ok(!ret && !r.failures && r.pins_left == 0 && r.abandoned > 0 &&
	   r.dev_requests == r.submitted,
	   "stress whose vCPUs stop mid-I/O (%llu requests abandoned): reset "
	   "completes them, no pin left (%s)", (unsigned long long)r.abandoned,
	   r.failures ? r.first_failure : "no failure");

	/* null backend: no data, the rest checked */
	c = base_cfg();
	c.backend = "null";
	ret = stress_run(&c, &r);
	ok(!ret && !r.failures && !r.data_checked && r.submitted > 0,
	   "stress on the null backend: clean (%s)",
	   r.failures ? r.first_failure : "no failure");
}

int main(void)
{
	test_parse();
	test_kinds();
	test_kick_failure();
	stop_mid_io(true);
	stop_mid_io(false);
	test_stress_config();
	test_stress_faults();
	return tap_done();
}
