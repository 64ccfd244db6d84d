// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk device, host only: the test plays the guest.  It writes the
 * rings and buffers through the memslot mapping (the guest's view, always
 * read-write), drives the registers through virtio_mmio_access(), notifies
 * by calling the device or through the notify eventfd, and polls the used
 * ring.
 *
 * Covers the transport (status machine, features, queue setup, access
 * widths), IN/OUT/FLUSH/GET_ID on the null and file backends (io_uring,
 * sync, O_DIRECT; data compared), every malformed-descriptor class, private
 * and out-of-RAM buffers (and that the host never touched a private page),
 * pins held during an in-flight I/O, descriptors rewritten in flight, the
 * device thread, reset with I/O in flight, a reset that cannot drain
 * (orphans), a buffer on a page that is being unshared (busy).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "gmemkit/gmem.h"
#include "gmemkit/virtio_blk.h"
#include "tap.h"
#include "../lib/gmem_internal.h"	/* a conversion backend hook */

#define PG		GMEM_PAGE_SIZE
#define RAM_SIZE	(4UL << 20)
#define QSIZE		64U
#define SEG_MAX		8U
#define DESC_GPA	0x0000UL
#define AVAIL_GPA	0x1000UL
#define USED_GPA	0x2000UL
#define HDR_GPA		0x3000UL	/* 16 bytes per head */
#define STATUS_GPA	0x4000UL	/* 1 byte per head */
#define DATA_GPA	0x10000UL
#define PRIV_GPA	0x300000UL	/* one private page */
#define DISK_SIZE	(1UL << 20)

struct guest {
	struct gmem *g;
	uint8_t *mem;			/* memslot mapping: the guest's view */
	struct virtio_blk *b;
	struct virtio_mmio_dev *m;
	uint16_t avail_idx;
	uint16_t used_seen;
	uint64_t features;
};

struct d {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
};

/* ---- a backend that holds I/O in flight until released ------------------- */

struct held_be {
	struct blk_backend be;
	struct blk_io *io[QSIZE];
	unsigned int n;
	bool hold;
	int submit_err;			/* submit() refuses with this */
	long done_err;			/* I/O completes with this */
	int reap_err;			/* reap() fails with this */
	void (*on_submit)(struct held_be *h, struct blk_io *io);
	void *arg;
};

static long io_result(struct blk_io *io)
{
	return io->op == BLK_OP_FLUSH ? 0 : (long)io->len;
}

static int held_submit(struct blk_backend *be, struct blk_io *io)
{
	struct held_be *h = (struct held_be *)be;

	if (h->on_submit)
		h->on_submit(h, io);
	if (h->submit_err)
		return h->submit_err;
	if (!h->hold) {
		be->complete(be, io, h->done_err ? h->done_err : io_result(io));
		return 0;
	}
	if (h->n == QSIZE)
		return -EAGAIN;
	h->io[h->n++] = io;
	return 0;
}

static int held_kick(struct blk_backend *be)
{
	(void)be;
	return 0;
}

/* Completes what is held once released, or everything if wait. */
static int held_reap(struct blk_backend *be, bool wait)
{
	struct held_be *h = (struct held_be *)be;
	unsigned int i, n = h->n;

	if (h->reap_err)
		return h->reap_err;
	if (h->hold && !wait)
		return 0;
	h->n = 0;
	for (i = 0; i < n; i++)
		be->complete(be, h->io[i], io_result(h->io[i]));
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
	memcpy(h->be.id, "held-backend", 12);
	return h;
}

/* ---- guest side helpers ------------------------------------------------------ */

static uint32_t rd(struct guest *gu, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	if (virtio_mmio_access(gu->m, off, &v, 4, false))
		return 0xdeadbeef;
	return v;
}

static void wr(struct guest *gu, uint64_t off, uint32_t v)
{
	virtio_mmio_access(gu->m, off, &v, 4, true);
}

static struct gmem *mk_ram(void)
{
	struct gmem_config cfg = {
		.size = RAM_SIZE, .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
		.mode = GMEM_MODE_INPLACE, .flags = GMEM_F_INIT_SHARED,
		.name = "t-virtio",
	};
	struct gmem *g;

	if (gmem_create(&cfg, &g))
		tap_bail("gmem_create");
	if (gmem_unshare(g, PRIV_GPA, PG))
		tap_bail("gmem_unshare");
	return g;
}

static unsigned int mk_poll_us;	/* params.poll_us for mk_guest() */

static void mk_guest(struct guest *gu, struct blk_backend *be)
{
	struct virtio_blk_params p = {
		.backend = be, .queue_num_max = QSIZE, .seg_max = SEG_MAX,
		.poll_us = mk_poll_us,
	};

	memset(gu, 0, sizeof(*gu));
	gu->g = mk_ram();
	gu->mem = gmem_memslot_addr(gu->g);
	p.mem = gu->g;
	if (virtio_blk_create(&p, &gu->b))
		tap_bail("virtio_blk_create");
	gu->m = virtio_blk_mmio(gu->b);
}

static void free_guest(struct guest *gu)
{
	virtio_blk_destroy(gu->b);
	gmem_destroy(gu->g);
}

static uint64_t dev_features(struct guest *gu)
{
	uint64_t f;

	wr(gu, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(gu, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(gu, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(gu, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void set_features(struct guest *gu, uint64_t f)
{
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static void set_queue(struct guest *gu, uint32_t num, uint64_t desc,
		      uint64_t avail, uint64_t used)
{
	wr(gu, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(gu, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(gu, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(gu, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(gu, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	wr(gu, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	wr(gu, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	wr(gu, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
}

/* Driver init per virtio 1.2, 3.1.1; true if the device went live. */
static bool drv_init(struct guest *gu, uint64_t want)
{
	memset(gu->mem, 0, DATA_GPA);
	gu->avail_idx = gu->used_seen = 0;
	wr(gu, VIRTIO_MMIO_STATUS, 0);
	wr(gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER);
	gu->features = dev_features(gu) & want;
	set_features(gu, gu->features);
	wr(gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(rd(gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return false;
	set_queue(gu, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(gu, VIRTIO_MMIO_QUEUE_READY, 1);
	if (rd(gu, VIRTIO_MMIO_QUEUE_READY) != 1)
		return false;
	wr(gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	   VIRTIO_STATUS_DRIVER_OK);
	return rd(gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK;
}

static const uint64_t std_features =
	VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
	VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX);

static struct vring_desc *desc(struct guest *gu, uint16_t i)
{
	return (struct vring_desc *)(gu->mem + DESC_GPA) + i;
}

static struct vring_avail *avail(struct guest *gu)
{
	return (struct vring_avail *)(gu->mem + AVAIL_GPA);
}

static struct vring_used *used(struct guest *gu)
{
	return (struct vring_used *)(gu->mem + USED_GPA);
}

/* Write descriptors head, head+1, ... linked by next; do not publish. */
static void put_chain(struct guest *gu, uint16_t head, const struct d *ds,
		      unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct vring_desc *v = desc(gu, (uint16_t)(head + i));

		v->addr = ds[i].addr;
		v->len = ds[i].len;
		v->flags = ds[i].flags | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		v->next = (uint16_t)(head + i + 1);
	}
}

static void publish_head(struct guest *gu, uint16_t head)
{
	avail(gu)->ring[gu->avail_idx % QSIZE] = head;
	__atomic_store_n(&avail(gu)->idx, ++gu->avail_idx, __ATOMIC_RELEASE);
}

static uint8_t *status_byte(struct guest *gu, uint16_t head)
{
	return gu->mem + STATUS_GPA + head;
}

static void put_hdr(struct guest *gu, uint16_t head, uint32_t type,
		    uint64_t sector)
{
	struct virtio_blk_outhdr *h = (void *)(gu->mem + HDR_GPA + 16 * head);

	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	*status_byte(gu, head) = 0xee;	/* "not written" */
}

/*
 * A standard request at head: header, n data buffers of len bytes each
 * starting at data (consecutive), status byte.
 */
static void put_req(struct guest *gu, uint16_t head, uint32_t type,
		    uint64_t sector, uint64_t data, uint32_t len, unsigned int n)
{
	struct d ds[SEG_MAX + 2];
	uint16_t dflag = type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE;
	unsigned int i;

	put_hdr(gu, head, type, sector);
	ds[0] = (struct d){ HDR_GPA + 16 * head, 16, 0 };
	for (i = 0; i < n; i++)
		ds[1 + i] = (struct d){ data + (uint64_t)i * len, len, dflag };
	ds[1 + n] = (struct d){ STATUS_GPA + head, 1, VIRTQ_DESC_F_WRITE };
	put_chain(gu, head, ds, n + 2);
	publish_head(gu, head);
}

/* Next used element, polling up to ~2 s; false on timeout. */
static bool get_used(struct guest *gu, struct vring_used_elem *e)
{
	struct timespec ts = { 0, 100000 };
	int i;

	for (i = 0; i < 20000; i++) {
		uint16_t idx = __atomic_load_n(&used(gu)->idx, __ATOMIC_ACQUIRE);

		if (idx != gu->used_seen) {
			*e = used(gu)->ring[gu->used_seen % QSIZE];
			gu->used_seen++;
			return true;
		}
		nanosleep(&ts, NULL);
	}
	return false;
}

static int process(struct guest *gu)
{
	return virtio_blk_process_queue(gu->b);
}

static struct virtio_blk_stats stats(struct guest *gu)
{
	struct virtio_blk_stats st;

	virtio_blk_get_stats(gu->b, &st);
	return st;
}

/* Run one request synchronously: process, reap, one used element. */
static bool run1(struct guest *gu, struct vring_used_elem *e)
{
	process(gu);
	virtio_blk_reap(gu->b, true);
	return get_used(gu, e);
}

static uint64_t gmem_violations(struct gmem *g)
{
	struct gmem_stats st;

	gmem_get_stats(g, &st);
	return st.violations;
}

/* ---- transport ----------------------------------------------------------- */

static void test_transport(void)
{
	struct blk_backend *be;
	struct guest gu;
	struct virtio_blk_stats st0, st;
	uint64_t f, cap = 0;
	uint32_t v;
	uint8_t b1;

	if (blk_backend_null(DISK_SIZE, &be))
		tap_bail("null backend");
	mk_guest(&gu, be);
	ok_eq(rd(&gu, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC, "magic");
	ok_eq(rd(&gu, VIRTIO_MMIO_VERSION), 2, "version 2");
	ok_eq(rd(&gu, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK, "device id blk");
	ok_eq(rd(&gu, VIRTIO_MMIO_VENDOR_ID), GMEM_VIRTIO_VENDOR_ID, "vendor");
	ok_eq(rd(&gu, VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE, "QueueNumMax");
	f = dev_features(&gu);
	ok((f & VIRTIO_BIT(VIRTIO_F_VERSION_1)) &&
	   (f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)) &&
	   !(f & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)) &&
	   !(f & VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)) &&
	   !(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)),
	   "features: VERSION_1, FLUSH; no EVENT_IDX, INDIRECT, RO");
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG, &cap, 8, false);
	ok_eq(cap, DISK_SIZE / 512, "config capacity in sectors (8-byte read)");
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG + 12, &v, 4, false);
	ok_eq(v, SEG_MAX, "config seg_max");
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG + 1, &b1, 1, false);
	ok_eq(b1, (DISK_SIZE / 512) >> 8 & 0xff, "config byte access");
	st0 = stats(&gu);
	v = 0x12345678;
	ok(!virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG + 2, &v, 4, false) &&
	   v == 0, "misaligned config read: ignored, reads 0");
	b1 = 0x77;
	ok(!virtio_mmio_access(gu.m, VIRTIO_MMIO_STATUS, &b1, 1, false) &&
	   b1 == 0, "1-byte register read: ignored, reads 0");
	v = 0x12345678;
	ok(!virtio_mmio_access(gu.m, 0xffe, &v, 4, false) && v == 0,
	   "access running off the window: ignored");
	v = 1;
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG, &v, 4, true);
	virtio_mmio_access(gu.m, VIRTIO_MMIO_MAGIC_VALUE, &v, 4, true);
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG, &cap, 8, false);
	st = stats(&gu);
	ok(st.bad_access == st0.bad_access + 5 && cap == DISK_SIZE / 512 &&
	   rd(&gu, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC,
	   "refused accesses counted (%llu), config and registers unchanged",
	   (unsigned long long)(st.bad_access - st0.bad_access));
	ok_eq(virtio_mmio_access(gu.m, 0x1000, &v, 4, false), -ERANGE,
	      "offset outside the window: -ERANGE (caller bug)");
	ok_eq(virtio_mmio_access(gu.m, 0, &v, 16, false), -EINVAL,
	      "length 16: -EINVAL (caller bug)");
	ok(!virtio_mmio_handler(gu.m, VIRTIO_MMIO_DEVICE_ID, &v, 4, false) &&
	   v == VIRTIO_ID_BLOCK, "virtio_mmio_handler() takes the transport "
	   "as opaque");
	v = 0x12345678;
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG + 0x200, &v, 4, false);
	ok_eq(v, 0, "read past the config space reads 0");

	st0 = stats(&gu);
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DRIVER);
	ok_eq(rd(&gu, VIRTIO_MMIO_STATUS), 0, "DRIVER without ACKNOWLEDGE refused");
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	set_features(&gu, std_features);
	st = stats(&gu);
	ok(st.bad_config >= st0.bad_config + 2,
	   "driver features before DRIVER refused and counted");
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER);
	set_features(&gu, VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ok(!(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK),
	   "FEATURES_OK refused without VERSION_1");
	set_features(&gu, std_features | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX));
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ok(!(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK),
	   "FEATURES_OK refused for a feature not offered");
	wr(&gu, VIRTIO_MMIO_QUEUE_READY, 1);
	ok_eq(rd(&gu, VIRTIO_MMIO_QUEUE_READY), 0,
	      "QueueReady refused before FEATURES_OK");
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	ok(!(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK),
	   "DRIVER_OK refused before FEATURES_OK");
	set_features(&gu, std_features);
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ok(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK,
	   "FEATURES_OK accepted for an offered subset with VERSION_1");
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	ok(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK,
	   "clearing status bits refused");
	set_features(&gu, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	st = stats(&gu);
	ok(st.bad_config > st0.bad_config + 4,
	   "refused status/feature writes counted (%llu)",
	   (unsigned long long)(st.bad_config - st0.bad_config));

	/* Queue size and ring placement. */
	set_queue(&gu, 48, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(&gu, VIRTIO_MMIO_QUEUE_READY, 1);
	ok(!rd(&gu, VIRTIO_MMIO_QUEUE_READY) &&
	   (rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET),
	   "queue size not a power of 2: not ready, NEEDS_RESET");
	wr(&gu, VIRTIO_MMIO_STATUS, 0);
	ok_eq(rd(&gu, VIRTIO_MMIO_STATUS), 0, "reset clears status");
	struct { uint32_t num; uint64_t d, a, u; const char *what; } bad[] = {
		{ 2 * QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, "size above max" },
		{ 0, DESC_GPA, AVAIL_GPA, USED_GPA, "size 0" },
		{ QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA, "desc misaligned" },
		{ QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2, "used misaligned" },
		{ QSIZE, PRIV_GPA, AVAIL_GPA, USED_GPA, "desc on private page" },
		{ QSIZE, DESC_GPA, RAM_SIZE - 8, USED_GPA, "avail past RAM" },
		{ QSIZE, DESC_GPA, AVAIL_GPA, 0xfffffffffffff000ULL,
		  "used wrapping" },
		{ QSIZE, DESC_GPA, DESC_GPA + 0x100, USED_GPA,
		  "avail inside desc table" },
	};
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wr(&gu, VIRTIO_MMIO_STATUS, 0);
		wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
		   VIRTIO_STATUS_DRIVER);
		set_features(&gu, std_features);
		wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
		   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		set_queue(&gu, bad[i].num, bad[i].d, bad[i].a, bad[i].u);
		wr(&gu, VIRTIO_MMIO_QUEUE_READY, 1);
		ok(!rd(&gu, VIRTIO_MMIO_QUEUE_READY) &&
		   (rd(&gu, VIRTIO_MMIO_STATUS) &
		    VIRTIO_STATUS_DEVICE_NEEDS_RESET),
		   "rings refused: %s", bad[i].what);
	}
	ok_eq(gmem_page_pins(gu.g, DESC_GPA), 0, "refused rings left no pins");

	ok(drv_init(&gu, std_features), "full driver init goes live");
	ok_eq(gmem_page_pins(gu.g, DESC_GPA), 1, "desc table pinned while ready");
	ok_eq(gmem_unshare(gu.g, USED_GPA, PG), -EBUSY,
	      "guest unshare of the used ring refused while ready");
	wr(&gu, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(&gu, VIRTIO_MMIO_QUEUE_SEL, 0);
	ok_eq(rd(&gu, VIRTIO_MMIO_QUEUE_READY), 1, "queue regs frozen while ready");
	wr(&gu, VIRTIO_MMIO_QUEUE_SEL, 3);
	ok_eq(rd(&gu, VIRTIO_MMIO_QUEUE_NUM_MAX), 0, "queue 3 does not exist");
	wr(&gu, VIRTIO_MMIO_QUEUE_SEL, 0);

	/* Interrupt status follows completions; ACK clears. */
	put_req(&gu, 0, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, 1);
	{
		struct vring_used_elem e;

		ok(run1(&gu, &e) && *status_byte(&gu, 0) == VIRTIO_BLK_S_OK,
		   "request after init completes");
	}
	ok(rd(&gu, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING,
	   "InterruptStatus used-buffer bit set");
	wr(&gu, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ok_eq(rd(&gu, VIRTIO_MMIO_INTERRUPT_STATUS), 0, "InterruptACK clears");

	wr(&gu, VIRTIO_MMIO_QUEUE_READY, 0);
	ok_eq(gmem_page_pins(gu.g, DESC_GPA), 0, "QueueReady=0 unpins rings");
	ok_eq(gmem_unshare(gu.g, USED_GPA, PG), 0,
	      "unshare of former ring page works after disable");
	gmem_share(gu.g, USED_GPA, PG);
	ok_eq(process(&gu), -EAGAIN, "processing a disabled queue: -EAGAIN");
	free_guest(&gu);
}

/* ---- requests on the null backend ---------------------------------------- */

static void test_null_requests(void)
{
	struct blk_backend *be;
	struct vring_used_elem e;
	struct virtio_blk_stats st;
	struct guest gu;
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	bool got;

	blk_backend_null(DISK_SIZE, &be);
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");

	put_req(&gu, 3, VIRTIO_BLK_T_OUT, 8, DATA_GPA, 4096, 2);
	ok(run1(&gu, &e) && e.id == 3 && e.len == 1 &&
	   *status_byte(&gu, 3) == VIRTIO_BLK_S_OK,
	   "null OUT: OK, used len 1");
	put_req(&gu, 3, VIRTIO_BLK_T_IN, 8, DATA_GPA, 4096, 2);
	got = run1(&gu, &e);
	ok(got && e.id == 3 && e.len == 8193 &&
	   *status_byte(&gu, 3) == VIRTIO_BLK_S_OK,
	   "null IN: OK, used len = 8192 + 1 (got %u)", e.len);
	put_req(&gu, 5, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	ok(run1(&gu, &e) && e.id == 5 && e.len == 1 &&
	   *status_byte(&gu, 5) == VIRTIO_BLK_S_OK, "null FLUSH: OK");
	memset(gu.mem + DATA_GPA, 0x55, 64);
	put_req(&gu, 6, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 64, 1);
	ok(run1(&gu, &e) && e.len == VIRTIO_BLK_ID_BYTES + 1 &&
	   *status_byte(&gu, 6) == VIRTIO_BLK_S_OK,
	   "GET_ID: OK, used len 21");
	memcpy(id, gu.mem + DATA_GPA, VIRTIO_BLK_ID_BYTES);
	ok(!strcmp(id, "gmemkit-null") && gu.mem[DATA_GPA + 20] == 0x55,
	   "GET_ID wrote the id, NUL padded, and no more (\"%s\")", id);
	put_req(&gu, 6, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 8, 1);
	ok(run1(&gu, &e) && e.len == 9, "GET_ID into 8 bytes: used len 9");
	put_req(&gu, 7, 0x77, 0, DATA_GPA, 512, 1);
	ok(run1(&gu, &e) && e.len == 1 &&
	   *status_byte(&gu, 7) == VIRTIO_BLK_S_UNSUPP,
	   "unknown type 0x77: UNSUPP");
	put_req(&gu, 7, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, 512, 1);
	ok(run1(&gu, &e) && *status_byte(&gu, 7) == VIRTIO_BLK_S_UNSUPP,
	   "DISCARD (not offered): UNSUPP");

	/* A batch of QSIZE / 4 requests (3 descriptors each) in one pass. */
	for (uint16_t h = 0; h < QSIZE; h += 4)
		put_req(&gu, h, VIRTIO_BLK_T_IN, h, DATA_GPA + h * 512UL,
			512, 1);
	ok_eq(process(&gu), QSIZE / 4, "one pass takes the whole batch (%u)",
	      QSIZE / 4);
	{
		bool all = true;

		for (uint16_t h = 0; h < QSIZE; h += 4)
			all &= get_used(&gu, &e) && e.id == h && e.len == 513;
		ok(all, "all %u completed in order with used len 513",
		   QSIZE / 4);
	}
	ok_eq(process(&gu), 0, "empty ring: 0");

	st = stats(&gu);
	ok(st.reads == QSIZE / 4 + 1 && st.writes == 1 && st.flushes == 1 &&
	   st.get_ids == 2 && st.unsupp == 2 && st.ioerr == 0 &&
	   st.bytes_read == 8192 + QSIZE / 4 * 512 && st.bytes_written == 8192,
	   "stats: reads %llu writes %llu flushes %llu get_ids %llu",
	   (unsigned long long)st.reads, (unsigned long long)st.writes,
	   (unsigned long long)st.flushes, (unsigned long long)st.get_ids);
	ok_eq(gmem_page_pins(gu.g, DATA_GPA), 0, "no pins left after completion");

	/* FLUSH without F_FLUSH negotiated. */
	if (!drv_init(&gu, std_features & ~VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)))
		tap_bail("driver init");
	put_req(&gu, 1, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	ok(run1(&gu, &e) && *status_byte(&gu, 1) == VIRTIO_BLK_S_UNSUPP,
	   "FLUSH without F_FLUSH negotiated: UNSUPP");

	/* QueueNotify by MMIO (no ioeventfd, no thread) processes inline. */
	put_req(&gu, 2, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, 1);
	wr(&gu, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ok(get_used(&gu, &e) && e.id == 2 &&
	   *status_byte(&gu, 2) == VIRTIO_BLK_S_OK,
	   "MMIO QueueNotify without a thread processes inline");
	free_guest(&gu);
}

/* ---- malformed requests --------------------------------------------------- */

struct bad_case {
	const char *what;
	enum vblk_err err;		/* expected class */
	struct d ds[4];
	unsigned int n;
	uint32_t type;
	uint64_t sector;
	bool no_status;			/* used len 0, nothing written */
};

#define HDR(h)	{ HDR_GPA + 16 * (h), 16, 0 }
#define ST(h)	{ STATUS_GPA + (h), 1, VIRTQ_DESC_F_WRITE }
#define W	VIRTQ_DESC_F_WRITE

static void test_malformed(void)
{
	/* CASE(what, class, type, sector, no_status, n, descriptors...) */
#define CASE(w, e, t, s, ns, cnt, ...) { .what = w, .err = e, .type = t, \
	.sector = s, .no_status = ns, .n = cnt, .ds = { __VA_ARGS__ } }
	const uint32_t IN = VIRTIO_BLK_T_IN, OUT = VIRTIO_BLK_T_OUT;
	const struct bad_case cases[] = {
		CASE("header in a writable descriptor", VBLK_E_HDR_WRITABLE,
		     IN, 0, false, 3, { HDR_GPA, 16, W }, { DATA_GPA, 512, W },
		     ST(0)),
		CASE("header shorter than 16 bytes", VBLK_E_FRAMING, IN, 0,
		     false, 3, { HDR_GPA, 8, 0 }, { DATA_GPA, 512, W }, ST(0)),
		CASE("single descriptor (header = status)", VBLK_E_FRAMING, IN,
		     0, false, 1, { STATUS_GPA, 1, W }),
		CASE("IN with no data", VBLK_E_DATA_LEN, IN, 0, false, 2,
		     HDR(0), ST(0)),
		CASE("IN of 100 bytes", VBLK_E_DATA_LEN, IN, 0, false, 3,
		     HDR(0), { DATA_GPA, 100, W }, ST(0)),
		CASE("zero-length data descriptor", VBLK_E_ZERO_LEN, IN, 0,
		     false, 4, HDR(0), { DATA_GPA, 0, W }, { DATA_GPA, 512, W },
		     ST(0)),
		CASE("IN into a device-readable buffer", VBLK_E_DIRECTION, IN, 0,
		     false, 3, HDR(0), { DATA_GPA, 512, 0 }, ST(0)),
		CASE("OUT from a device-writable buffer", VBLK_E_DIRECTION, OUT,
		     0, false, 3, HDR(0), { DATA_GPA, 512, W }, ST(0)),
		CASE("segment above size_max", VBLK_E_SEG_SIZE, IN, 0, false, 3,
		     HDR(0), { DATA_GPA, 2u << 20, W }, ST(0)),
		CASE("buffer outside guest RAM", VBLK_E_OUT_OF_RAM, IN, 0, false,
		     3, HDR(0), { 0x40000000000ULL, 512, W }, ST(0)),
		CASE("buffer straddling the end of RAM", VBLK_E_OUT_OF_RAM, IN,
		     0, false, 3, HDR(0), { RAM_SIZE - 512, 1024, W }, ST(0)),
		CASE("buffer address wrapping around", VBLK_E_OUT_OF_RAM, IN, 0,
		     false, 3, HDR(0), { 0xfffffffffffffe00ULL, 1024, W },
		     ST(0)),
		CASE("buffer on a private page", VBLK_E_PRIVATE, IN, 0, false, 3,
		     HDR(0), { PRIV_GPA, 512, W }, ST(0)),
		CASE("buffer straddling into a private page", VBLK_E_PRIVATE,
		     IN, 0, false, 3, HDR(0), { PRIV_GPA - 512, 1024, W },
		     ST(0)),
		CASE("OUT from a private page", VBLK_E_PRIVATE, OUT, 0, false, 3,
		     HDR(0), { PRIV_GPA, 512, 0 }, ST(0)),
		CASE("header on a private page", VBLK_E_PRIVATE, IN, 0, false, 3,
		     { PRIV_GPA, 16, 0 }, { DATA_GPA, 512, W }, ST(0)),
		CASE("header outside RAM", VBLK_E_OUT_OF_RAM, IN, 0, false, 3,
		     { RAM_SIZE, 16, 0 }, { DATA_GPA, 512, W }, ST(0)),
		CASE("IN into the descriptor table", VBLK_E_RING_OVERLAP, IN, 0,
		     false, 3, HDR(0), { DESC_GPA, 512, W }, ST(0)),
		CASE("IN into the used ring", VBLK_E_RING_OVERLAP, IN, 0, false,
		     3, HDR(0), { USED_GPA - 256, 512, W }, ST(0)),
		CASE("OUT from the avail ring", VBLK_E_RING_OVERLAP, OUT, 0,
		     false, 3, HDR(0), { AVAIL_GPA, 512, 0 }, ST(0)),
		CASE("sector beyond capacity", VBLK_E_SECTOR, IN,
		     DISK_SIZE / 512, false, 3, HDR(0), { DATA_GPA, 512, W },
		     ST(0)),
		CASE("request running past capacity", VBLK_E_SECTOR, IN,
		     DISK_SIZE / 512 - 1, false, 3, HDR(0),
		     { DATA_GPA, 1024, W }, ST(0)),
		CASE("sector overflowing 64 bits", VBLK_E_SECTOR, IN,
		     0x0080000000000000ULL, false, 3, HDR(0),
		     { DATA_GPA, 512, W }, ST(0)),
		CASE("FLUSH with data", VBLK_E_FLUSH_DATA, VIRTIO_BLK_T_FLUSH, 0,
		     false, 3, HDR(0), { DATA_GPA, 512, 0 }, ST(0)),
		CASE("GET_ID with no buffer", VBLK_E_DATA_LEN,
		     VIRTIO_BLK_T_GET_ID, 0, false, 2, HDR(0), ST(0)),
		CASE("status in a readable descriptor", VBLK_E_STATUS, IN, 0,
		     true, 3, HDR(0), { DATA_GPA, 512, W }, { STATUS_GPA, 1, 0 }),
		CASE("status of length 0", VBLK_E_STATUS, IN, 0, true, 3, HDR(0),
		     { DATA_GPA, 512, W }, { STATUS_GPA, 0, W }),
		CASE("status on a private page", VBLK_E_PRIVATE, IN, 0, true, 3,
		     HDR(0), { DATA_GPA, 512, W }, { PRIV_GPA, 1, W }),
		CASE("status outside RAM", VBLK_E_OUT_OF_RAM, IN, 0, true, 3,
		     HDR(0), { DATA_GPA, 512, W }, { RAM_SIZE + 7, 1, W }),
		CASE("status in the used ring", VBLK_E_RING_OVERLAP, IN, 0, true,
		     3, HDR(0), { DATA_GPA, 512, W }, { USED_GPA + 4, 1, W }),
	};
#undef CASE
	struct blk_backend *be;
	struct guest gu;
	unsigned int i;

	blk_backend_null(DISK_SIZE, &be);
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		struct virtio_blk_stats a = stats(&gu), z;
		struct vring_used_elem e = { 0xffff, 0xffff };
		uint8_t want = c->err == VBLK_E_UNSUPP ? VIRTIO_BLK_S_UNSUPP :
			       VIRTIO_BLK_S_IOERR;
		bool got, counted;

		put_hdr(&gu, 0, c->type, c->sector);
		put_chain(&gu, 0, c->ds, c->n);
		publish_head(&gu, 0);
		got = run1(&gu, &e);
		z = stats(&gu);
		counted = z.err[c->err] == a.err[c->err] + 1;
		if (c->err == VBLK_E_PRIVATE || c->err == VBLK_E_OUT_OF_RAM)
			counted &= z.violations == a.violations + 1;
		if (c->no_status)
			ok(got && e.id == 0 && e.len == 0 && counted &&
			   z.no_status == a.no_status + 1 &&
			   *status_byte(&gu, 0) == 0xee,
			   "%s: returned with used len 0, no write, counted "
			   "as %s", c->what, vblk_err_name(c->err));
		else
			ok(got && e.id == 0 && e.len == 1 && counted &&
			   z.ioerr == a.ioerr + 1 &&
			   *status_byte(&gu, 0) == want,
			   "%s: IOERR, used len 1, counted as %s (len %u, "
			   "status %u)", c->what, vblk_err_name(c->err), e.len,
			   *status_byte(&gu, 0));
	}
	ok_eq(gmem_violations(gu.g), 0,
	      "the host never touched the private page (gmem violations 0)");
	ok_eq(gmem_page_pins(gu.g, DATA_GPA) + gmem_page_pins(gu.g, HDR_GPA) +
	      gmem_page_pins(gu.g, STATUS_GPA), 0, "every pin dropped");
	ok(!(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET),
	   "request errors leave the ring usable");

	/* Too many segments: SEG_MAX + 1 data descriptors. */
	{
		struct vring_used_elem e;
		struct virtio_blk_stats a = stats(&gu), z;

		put_req(&gu, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, SEG_MAX);
		ok(run1(&gu, &e) && *status_byte(&gu, 0) == VIRTIO_BLK_S_OK &&
		   e.len == SEG_MAX * 512 + 1, "seg_max segments accepted");
		put_hdr(&gu, 0, VIRTIO_BLK_T_IN, 0);
		{
			struct vring_desc *v;

			put_req(&gu, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512,
				SEG_MAX);
			/* grow it by one before the device looks */
			v = desc(&gu, SEG_MAX + 1);
			*desc(&gu, SEG_MAX + 2) = *v;
			v->addr = DATA_GPA + 0x8000;
			v->len = 512;
			v->flags = W | VIRTQ_DESC_F_NEXT;
			v->next = SEG_MAX + 2;
		}
		ok(run1(&gu, &e) && e.len == 1 &&
		   *status_byte(&gu, 0) == VIRTIO_BLK_S_IOERR,
		   "seg_max + 1 segments: IOERR");
		z = stats(&gu);
		ok_eq(z.err[VBLK_E_SEGS], a.err[VBLK_E_SEGS] + 1,
		      "counted as segs");
	}
	free_guest(&gu);
}

/* ---- malformed rings ----------------------------------------------------- */

static void ring_case(struct guest *gu, const char *what, enum vq_err want,
		      void (*setup)(struct guest *gu))
{
	struct virtio_blk_stats a, z;
	int ret;

	if (!drv_init(gu, std_features))
		tap_bail("driver init");
	a = stats(gu);
	setup(gu);
	ret = process(gu);
	z = stats(gu);
	ok(ret == -EIO && z.broken == a.broken + 1 &&
	   z.ring_err[want] == a.ring_err[want] + 1 &&
	   (rd(gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) &&
	   (rd(gu, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG),
	   "%s: ring broken (%s), NEEDS_RESET, config interrupt", what,
	   vq_err_name(want));
	ok_eq(process(gu), -EIO, "%s: queue stays stopped until reset", what);
}

static void setup_loop(struct guest *gu)
{
	put_hdr(gu, 0, VIRTIO_BLK_T_IN, 0);
	*desc(gu, 0) = (struct vring_desc){ HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1 };
	*desc(gu, 1) = (struct vring_desc){ DATA_GPA, 512,
					   W | VIRTQ_DESC_F_NEXT, 0 };
	publish_head(gu, 0);
}

static void setup_long(struct guest *gu)
{
	/* QSIZE + 1 descriptors cannot be distinct: 0..63 then 63 again. */
	for (uint16_t i = 0; i < QSIZE; i++)
		*desc(gu, i) = (struct vring_desc){
			DATA_GPA, 512, W | VIRTQ_DESC_F_NEXT,
			(uint16_t)(i + 1u < QSIZE ? i + 1 : i) };
	publish_head(gu, 0);
}

static void setup_self(struct guest *gu)
{
	*desc(gu, 5) = (struct vring_desc){ DATA_GPA, 512,
					   W | VIRTQ_DESC_F_NEXT, 5 };
	publish_head(gu, 5);
}

static void setup_next(struct guest *gu)
{
	put_hdr(gu, 0, VIRTIO_BLK_T_IN, 0);
	*desc(gu, 0) = (struct vring_desc){ HDR_GPA, 16, VIRTQ_DESC_F_NEXT,
					   QSIZE };
	publish_head(gu, 0);
}

static void setup_head(struct guest *gu)
{
	publish_head(gu, 0xffff);
}

static void setup_avail_idx(struct guest *gu)
{
	__atomic_store_n(&avail(gu)->idx, QSIZE + 1, __ATOMIC_RELEASE);
}

static void setup_indirect(struct guest *gu)
{
	*desc(gu, 0) = (struct vring_desc){ DATA_GPA, 64,
					   VIRTQ_DESC_F_INDIRECT, 0 };
	publish_head(gu, 0);
}

static void test_bad_rings(void)
{
	struct vring_used_elem e;
	struct blk_backend *be;
	struct guest gu;

	blk_backend_null(DISK_SIZE, &be);
	mk_guest(&gu, be);
	ring_case(&gu, "descriptor loop 0->1->0", VQ_E_LOOP, setup_loop);
	ring_case(&gu, "chain longer than the queue", VQ_E_LOOP, setup_long);
	ring_case(&gu, "descriptor pointing at itself", VQ_E_LOOP, setup_self);
	ring_case(&gu, "next index = queue size", VQ_E_NEXT, setup_next);
	ring_case(&gu, "head index 0xffff", VQ_E_HEAD, setup_head);
	ring_case(&gu, "avail idx queue size + 1 ahead", VQ_E_AVAIL_IDX,
		  setup_avail_idx);
	ring_case(&gu, "INDIRECT descriptor", VQ_E_INDIRECT, setup_indirect);

	ok(drv_init(&gu, std_features), "reset after a broken ring: live again");
	put_req(&gu, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1);
	ok(run1(&gu, &e) && e.len == 513 &&
	   *status_byte(&gu, 0) == VIRTIO_BLK_S_OK, "and serves requests");
	ok_eq(gmem_violations(gu.g), 0, "no host access to private pages");
	free_guest(&gu);
}

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
	struct virtio_blk_stats st;
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
	ok_eq(virtio_blk_reap(gu.b, false), 1, "held I/O released");
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
		struct virtio_blk_stats a = stats(&gu), z;

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
	struct virtio_blk_stats st;
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
	ok_eq(virtio_blk_reap(gu.b, false), 2, "orphans: the backend completes both");
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
	virtio_blk_reap(gu.b, false);
	ok(drv_init(&gu, std_features) && gmem_page_pins(gu.g, buf) == 0,
	   "orphans: released, reset, live again");
	free_guest(&gu);
}

/*
 * A request that arrives while the guest is unsharing its buffer: the
 * device meets a page marked busy (shared, being converted), which is not
 * a private page.  A conversion backend hook runs the device right inside
 * the unshare, at the moment the page is busy.
 */
static struct guest *busy_guest;
static const struct gmem_backend *busy_real;
static uint64_t busy_buf;
static int busy_pin_err, busy_ran;

static int busy_set_state(struct gmem *g, uint64_t off, uint64_t len,
			  enum gmem_state to)
{
	if (to == GMEM_PRIVATE && !busy_ran) {
		busy_ran = 1;
		busy_pin_err = gmem_pin(g, busy_buf, PG);
		put_req(busy_guest, 6, VIRTIO_BLK_T_IN, 0, busy_buf, 4096, 1);
		process(busy_guest);
	}
	return busy_real->set_state(g, off, len, to);
}

static const struct gmem_backend busy_backend = {
	.name = "test-busy", .set_state = busy_set_state,
};

static void test_busy_page(void)
{
	struct blk_backend *be;
	struct virtio_blk_stats a, z;
	struct vring_used_elem e;
	struct guest gu;

	if (blk_backend_null(DISK_SIZE, &be))
		tap_bail("null backend");
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	a = stats(&gu);
	busy_guest = &gu;
	busy_buf = DATA_GPA + 0x60000;
	busy_real = gu.g->backend;
	gu.g->backend = &busy_backend;
	ok_eq(gmem_unshare(gu.g, busy_buf, PG), 0, "busy: the guest unshares its buffer");
	gu.g->backend = busy_real;
	ok_eq(busy_pin_err, -EBUSY, "busy: a pin meanwhile gets -EBUSY, not -EACCES");
	z = stats(&gu);
	ok(get_used(&gu, &e) && e.id == 6 && e.len == 1 &&
	   *status_byte(&gu, 6) == VIRTIO_BLK_S_IOERR,
	   "busy: the request on it completes IOERR");
	ok(z.err[VBLK_E_BUSY] == a.err[VBLK_E_BUSY] + 1 &&
	   z.pins_refused == a.pins_refused + 1 && z.violations == a.violations &&
	   z.err[VBLK_E_PRIVATE] == a.err[VBLK_E_PRIVATE],
	   "busy: counted as busy / a refused pin, not as a private-page violation");
	ok(gmem_page_state(gu.g, busy_buf) == GMEM_PRIVATE &&
	   gmem_page_pins(gu.g, busy_buf) == 0 && gmem_violations(gu.g) == 0,
	   "busy: the unshare finished, no pin left, no host access");
	gmem_share(gu.g, busy_buf, PG);
	free_guest(&gu);
}

/* ---- file backend --------------------------------------------------------- */

static char *mk_disk(void)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/t_virtio_blk.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, DISK_SIZE))
		tap_bail("tmp disk");
	close(fd);
	return path;
}

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

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

/* ---- device thread and ioeventfd ------------------------------------------ */

static void test_thread(void)
{
	char *path = mk_disk();
	struct blk_backend *be;
	struct vring_used_elem e;
	struct guest gu;
	bool all = true;
	int efd;

	if (blk_backend_file(path, 0, 64, &be))
		tap_bail("file backend");
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	ok_eq(virtio_blk_start(gu.b), 0, "device thread started");
	ok_eq(virtio_blk_start(gu.b), -EALREADY, "second start: -EALREADY");
	efd = virtio_blk_notify_fd(gu.b);
	fill(gu.mem + DATA_GPA, 64 * 1024, 3);
	for (uint16_t h = 0; h < 16; h++)
		put_req(&gu, h * 4, VIRTIO_BLK_T_OUT, h * 8,
			DATA_GPA + h * 4096UL, 4096, 1);
	eventfd_write(efd, 1);		/* what KVM_IOEVENTFD does */
	for (uint16_t h = 0; h < 16; h++)
		all &= get_used(&gu, &e) && e.len == 1 &&
		       *status_byte(&gu, e.id) == VIRTIO_BLK_S_OK;
	ok(all, "16 OUTs via the notify eventfd, completed by the thread");
	memset(gu.mem + DATA_GPA + 0x80000, 0, 64 * 1024);
	for (uint16_t h = 0; h < 16; h++)
		put_req(&gu, h * 4, VIRTIO_BLK_T_IN, h * 8,
			DATA_GPA + 0x80000 + h * 4096UL, 4096, 1);
	wr(&gu, VIRTIO_MMIO_QUEUE_NOTIFY, 0);	/* MMIO notify path */
	all = true;
	for (uint16_t h = 0; h < 16; h++)
		all &= get_used(&gu, &e) && e.len == 4097;
	ok(all && !memcmp(gu.mem + DATA_GPA, gu.mem + DATA_GPA + 0x80000,
			  64 * 1024),
	   "16 INs via MMIO QueueNotify read the data back");
	ok(stats(&gu).notifies >= 2, "notifications counted");
	virtio_blk_stop(gu.b);
	ok_eq(stats(&gu).inflight, 0, "nothing in flight after stop");
	free_guest(&gu);
	unlink(path);
}

/* Wait up to ms for used->flags == want. */
static bool wait_flags(struct guest *gu, uint16_t want, int ms)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(&used(gu)->flags, __ATOMIC_ACQUIRE) == want)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void test_busy_poll(void)
{
	struct timespec ms100 = { 0, 100000000 };
	struct blk_backend *be;
	struct vring_used_elem e;
	struct virtio_blk_params p = { 0 };
	struct virtio_blk *bad;
	struct guest gu;

	blk_backend_null(DISK_SIZE, &be);
	mk_poll_us = 300000;
	mk_guest(&gu, be);
	mk_poll_us = 0;
	blk_backend_null(DISK_SIZE, &p.backend);
	p.mem = gu.g;
	p.poll_us = 1000001;
	ok_eq(virtio_blk_create(&p, &bad), -EINVAL, "poll_us above 1 s refused");
	blk_backend_destroy(p.backend);
	if (!drv_init(&gu, std_features) || virtio_blk_start(gu.b))
		tap_bail("driver init / start");
	put_req(&gu, 0, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, 1);
	eventfd_write(virtio_blk_notify_fd(gu.b), 1);
	ok(get_used(&gu, &e) && e.id == 0, "notified request completes");
	ok(wait_flags(&gu, VIRTQ_USED_F_NO_NOTIFY, 1000),
	   "device busy-polls: used->flags NO_NOTIFY");
	put_req(&gu, 4, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1);
	ok(get_used(&gu, &e) && e.id == 4 && e.len == 513,
	   "request published without a notification is picked up by polling");
	ok(stats(&gu).polled >= 1, "counted as polled (%llu)",
	   (unsigned long long)stats(&gu).polled);
	ok(wait_flags(&gu, 0, 3000),
	   "after the idle window notifications are asked for again");
	put_req(&gu, 8, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1);
	nanosleep(&ms100, NULL);
	ok_eq(__atomic_load_n(&used(&gu)->idx, __ATOMIC_ACQUIRE), gu.used_seen,
	      "sleeping device: an unnotified request waits");
	eventfd_write(virtio_blk_notify_fd(gu.b), 1);
	ok(get_used(&gu, &e) && e.id == 8, "and the notification serves it");
	virtio_blk_stop(gu.b);
	free_guest(&gu);
}

int main(void)
{
	test_transport();
	test_null_requests();
	test_malformed();
	test_bad_rings();
	test_inflight();
	test_orphans();
	test_busy_page();
	test_file();
	test_thread();
	test_busy_poll();
	return tap_done();
}
