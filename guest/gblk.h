/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's virtio-blk driver (virtio-mmio version 2, one split
 * virtqueue, polled: no interrupts).  Rings, request headers and status
 * bytes live in the always-shared pool (GMEM_ABI_POOL_GPA):
 *
 *   pool + 0x00000  descriptor table (up to 1024 entries)
 *   pool + 0x04000  avail ring
 *   pool + 0x05000  used ring
 *   pool + 0x08000  request headers: 32 bytes per request id (header, then
 *                   the status byte at +16), GBLK_MAX_REQS of them
 *   pool + 0x10000  one scratch page (malformed-request tests)
 *
 * Any vCPU may submit and poll: one spinlock guards the ring.  A request
 * is owned by its submitter; gblk_poll() (by any vCPU) marks it done.
 *
 * One driver, two builds.  In the guest (GMEM_GUEST) registers are the
 * MMIO window and guest RAM is identity mapped.  Built for the host
 * (libgmemkit-harness.a), the same code drives the real device from host
 * threads (harness/stress.c): the harness supplies gblk_mmio_read() and
 * gblk_mmio_write() (QueueNotify: the notify eventfd, as KVM_IOEVENTFD
 * does), guest.h's hosted runtime its view of guest RAM.  Its state is
 * global: one device per process at a time.
 */
#ifndef GMEMKIT_GUEST_GBLK_H
#define GMEMKIT_GUEST_GBLK_H

#include "guest.h"

#ifdef GMEM_GUEST
static inline uint32_t gblk_mmio_read(uint32_t off)
{
	return ((volatile uint32_t *)GMEM_ABI_VIRTIO_MMIO_GPA)[off / 4];
}

static inline void gblk_mmio_write(uint32_t off, uint32_t v)
{
	((volatile uint32_t *)GMEM_ABI_VIRTIO_MMIO_GPA)[off / 4] = v;
}
#else
/* hosted (guest.h): the harness's register access */
uint32_t gblk_mmio_read(uint32_t off);
void gblk_mmio_write(uint32_t off, uint32_t v);
#endif

#include "gmemkit/virtio.h"

#define GBLK_QUEUE_MAX		1024U
#define GBLK_MAX_REQS		1024U
#define GBLK_DESC_OFF		0x00000ULL
#define GBLK_AVAIL_OFF		0x04000ULL
#define GBLK_USED_OFF		0x05000ULL
#define GBLK_HDR_OFF		0x08000ULL
#define GBLK_HDR_STRIDE		32ULL
#define GBLK_SCRATCH_OFF	0x10000ULL
#define GBLK_POOL_USED		0x11000ULL	/* bytes of the pool used here */

struct gblk_seg {
	uint64_t gpa;
	uint32_t len;
};

struct gblk_req {
	uint32_t id;			/* header slot, < GBLK_MAX_REQS */
	uint16_t head, ndesc;
	volatile uint32_t done;		/* set by gblk_poll() */
	uint32_t used_len;
	uint8_t status;			/* VIRTIO_BLK_S_* once done */
};

struct gblk_info {
	uint64_t capacity;		/* sectors */
	uint32_t queue_size;
	uint32_t seg_max, size_max;
	uint64_t features;
};

/* vCPU 0, once: reset, negotiate, set up the queue.  0 or -GMEM_ABI_E*. */
int gblk_init(struct gblk_info *info);
/* Post one request (header, at most 64 data segments, status byte): 0,
 * -GBLK_EAGAIN when too few descriptors are free (kick, poll, retry), or
 * -GMEM_ABI_EINVAL for a bad id or too many segments. */
#define GBLK_EAGAIN	11
int gblk_submit(struct gblk_req *r, uint32_t type, uint64_t sector,
		const struct gblk_seg *segs, unsigned int nseg, bool dev_writes);
/* Notify the device (one QueueNotify write) unless it asked for none;
 * returns 1 if a notification was written. */
int gblk_kick(void);
/* Requests put on the avail ring, used entries matched to a request in
 * flight, and used entries for no request in flight (a duplicate or an
 * unknown head: ignored), since gblk_init(). */
void gblk_counters(uint64_t *submitted, uint64_t *completed, uint64_t *unknown);
/* Harvest the used ring; returns the number of requests completed. */
unsigned int gblk_poll(void);
/* Submit, kick and wait for one request; returns its status byte. */
uint8_t gblk_do(struct gblk_req *r, uint32_t type, uint64_t sector,
		const struct gblk_seg *segs, unsigned int nseg, bool dev_writes);

#endif /* GMEMKIT_GUEST_GBLK_H */
