/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest side of the virtio-blk host tests (tests/t_virtio_blk*.c): the
 * test plays the guest.  It writes the rings and buffers through the
 * memslot mapping (the guest's view, always read-write), drives the
 * registers through virtio_mmio_access(), notifies by calling the device or
 * through the notify eventfd, and polls the used ring.  Also a backend that
 * holds I/O in flight until released, and a temporary disk.
 */
#ifndef GMEMKIT_TESTS_VIRTIO_BLK_GUEST_H
#define GMEMKIT_TESTS_VIRTIO_BLK_GUEST_H

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
#define W		VIRTQ_DESC_F_WRITE

struct guest {
	struct gmem *g;
	uint8_t *mem;			/* memslot mapping: the guest's view */
	struct vblk *b;
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

static inline long io_result(struct blk_io *io)
{
	return io->op == BLK_OP_FLUSH ? 0 : (long)io->len;
}

static inline int held_submit(struct blk_backend *be, struct blk_io *io)
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

static inline int held_kick(struct blk_backend *be)
{
	(void)be;
	return 0;
}

/* Completes what is held once released, or everything if wait. */
static inline int held_reap(struct blk_backend *be, bool wait)
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

static inline void held_destroy(struct blk_backend *be)
{
	free(be);
}

static const struct blk_backend_ops held_ops = {
	.submit = held_submit, .kick = held_kick, .reap = held_reap,
	.destroy = held_destroy,
};

/* The common part of a test backend: DISK_SIZE, no completion fd. */
static inline void test_backend_init(struct blk_backend *be,
				     const struct blk_backend_ops *ops,
				     const char *name)
{
	be->ops = ops;
	be->name = name;
	be->engine = "test";
	be->capacity = DISK_SIZE;
	be->event_fd = -1;
}

static inline struct held_be *held_new(void)
{
	struct held_be *h = calloc(1, sizeof(*h));

	if (!h)
		tap_bail("calloc");
	test_backend_init(&h->be, &held_ops, "held");
	memcpy(h->be.id, "held-backend", 12);
	return h;
}

/* ---- guest side helpers ------------------------------------------------------ */

static inline uint32_t rd(struct guest *gu, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	if (virtio_mmio_access(gu->m, off, &v, 4, false))
		return 0xdeadbeef;
	return v;
}

static inline void wr(struct guest *gu, uint64_t off, uint32_t v)
{
	virtio_mmio_access(gu->m, off, &v, 4, true);
}

static inline struct gmem *mk_ram(void)
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

static inline void mk_guest(struct guest *gu, struct blk_backend *be)
{
	struct vblk_params p = {
		.backend = be, .queue_num_max = QSIZE, .seg_max = SEG_MAX,
		.poll_us = mk_poll_us,
	};

	memset(gu, 0, sizeof(*gu));
	gu->g = mk_ram();
	gu->mem = gmem_memslot_addr(gu->g);
	p.mem = gu->g;
	if (vblk_create(&p, &gu->b))
		tap_bail("vblk_create");
	gu->m = vblk_mmio(gu->b);
}

static inline void free_guest(struct guest *gu)
{
	vblk_destroy(gu->b);
	gmem_destroy(gu->g);
}

static inline uint64_t dev_features(struct guest *gu)
{
	uint64_t f;

	wr(gu, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(gu, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(gu, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(gu, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static inline void set_features(struct guest *gu, uint64_t f)
{
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(gu, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static inline void set_queue(struct guest *gu, uint32_t num,
			     uint64_t desc, uint64_t avail, uint64_t used)
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
static inline bool drv_init(struct guest *gu, uint64_t want)
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

static inline struct vring_desc *desc(struct guest *gu, uint16_t i)
{
	return (struct vring_desc *)(gu->mem + DESC_GPA) + i;
}

static inline struct vring_avail *avail(struct guest *gu)
{
	return (struct vring_avail *)(gu->mem + AVAIL_GPA);
}

static inline struct vring_used *used(struct guest *gu)
{
	return (struct vring_used *)(gu->mem + USED_GPA);
}

/* Write descriptors head, head+1, ... linked by next; do not publish. */
static inline void put_chain(struct guest *gu, uint16_t head,
			     const struct d *ds, unsigned int n)
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

static inline void publish_head(struct guest *gu, uint16_t head)
{
	avail(gu)->ring[gu->avail_idx % QSIZE] = head;
	__atomic_store_n(&avail(gu)->idx, ++gu->avail_idx, __ATOMIC_RELEASE);
}

static inline uint8_t *status_byte(struct guest *gu, uint16_t head)
{
	return gu->mem + STATUS_GPA + head;
}

static inline void put_hdr(struct guest *gu, uint16_t head, uint32_t type,
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
static inline void put_req(struct guest *gu, uint16_t head, uint32_t type,
			   uint64_t sector, uint64_t data, uint32_t len,
			   unsigned int n)
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
static inline bool get_used(struct guest *gu, struct vring_used_elem *e)
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

static inline int process(struct guest *gu)
{
	return vblk_process_queue(gu->b);
}

static inline struct vblk_stats stats(struct guest *gu)
{
	struct vblk_stats st;

	vblk_get_stats(gu->b, &st);
	return st;
}

/* Run one request synchronously: process, reap, one used element. */
static inline bool run1(struct guest *gu, struct vring_used_elem *e)
{
	process(gu);
	vblk_reap(gu->b, true);
	return get_used(gu, e);
}

static inline uint64_t gmem_violations(struct gmem *g)
{
	struct gmem_stats st;

	gmem_get_stats(g, &st);
	return st.violations;
}

static inline char *mk_disk(void)
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

static inline void fill(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

#endif /* GMEMKIT_TESTS_VIRTIO_BLK_GUEST_H */
