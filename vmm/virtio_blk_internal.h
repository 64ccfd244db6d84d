/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk device internals shared by vmm/virtio_blk.c (lifecycle,
 * registers, processing passes, device thread) and vmm/virtio_blk_req.c
 * (one request: parsing, validation, pinning, submission, completion).
 */
#ifndef GMEMKIT_VMM_VIRTIO_BLK_INTERNAL_H
#define GMEMKIT_VMM_VIRTIO_BLK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "gmemkit/timing.h"
#include "gmemkit/virtio_blk.h"
#include "virtio_mmio_internal.h"
#include "virtqueue.h"

#define VBLK_NUM_MAX_DEFAULT	256U
#define VBLK_NUM_MAX_LIMIT	1024U
#define VBLK_SEG_MAX_DEFAULT	128U
#define VBLK_SEG_MAX_LIMIT	1024U
#define VBLK_SIZE_MAX		(1U << 20)	/* bytes per segment */
#define VBLK_DRAIN_TRIES	3	/* failing waits before orphaning */

struct gblk_seg {
	uint64_t gpa;
	uint32_t len;
};

struct gblk_req {
	struct blk_io io;		/* first: container of the backend io */
	uint16_t head;
	bool busy;
	bool orphan;			/* in flight at a reset: unpin only */
	uint32_t type;
	uint64_t status_gpa;
	volatile uint8_t *status;
	uint32_t nseg;			/* pinned segments */
	uint64_t data_len;		/* data bytes of the request */
	struct gblk_seg *seg;		/* [seg_max] */
	struct iovec *iov;		/* [seg_max] */
};

/*
 * Locks (see vmm/virtio_blk.c): mmio.reg_lock guards mmio's register file;
 * mmio.proc_lock everything else that changes after creation, except
 * running and stopping (atomics).  cfg, num_max, seg_max, poll_ns, mem, be
 * and the fds are set at creation.
 */
struct vblk {
	struct virtio_mmio_dev mmio;
	struct virtq vq;
	struct gmem *mem;
	struct blk_backend *be;
	struct virtio_blk_config cfg;
	unsigned int num_max, seg_max;
	struct gblk_req *reqs;		/* [num_max], indexed by head */
	struct gblk_seg *segs;
	struct iovec *iovs;
	struct vq_desc *chain;		/* [seg_max + 2] */
	uint64_t inflight;
	uint64_t orphans;		/* orphaned requests still in flight */
	uint64_t features;		/* driver features, copied at each pass */
	struct vblk_stats st;
	int notify_fd;
	int stop_fd;
	pthread_t thread;
	atomic_bool running;		/* the device thread runs */
	atomic_bool stopping;
	uint64_t poll_ns;
	/*
	 * The device's side of the pass in progress (a processing pass or a
	 * non-waiting reap): time inside backend calls, the thread's page
	 * fault count where its count for the device last stopped, the reads
	 * and writes handed over or completed (for the read/write shares
	 * only).  Closed by vblk_pass_close() into st.dev_ns[] and
	 * st.dev_faults[].
	 */
	bool pass_open;
	uint64_t pass_ns;
	uint64_t pass_faults;
	uint64_t pass_ios[2];
};

/* ---- device-side cost (vmm/virtio_blk.c), proc_lock held ------------------ */

/* Minor + major page faults of the calling thread so far. */
uint64_t vblk_thread_faults(void);

/*
 * The calling thread's fault count where the device's count last stopped
 * (the end of its previous pass that did I/O), so that a pass costs one
 * getrusage() (220 ns on profile K), not two; the first pass of a thread
 * samples at its start.
 */
extern __thread uint64_t vblk_tl_faults;
extern __thread bool vblk_tl_have;

/* Around every backend call a pass makes (never a waiting reap). */
static inline uint64_t vblk_be_enter(struct vblk *b)
{
	if (!b->pass_open) {
		b->pass_open = true;
		if (!vblk_tl_have) {
			vblk_tl_faults = vblk_thread_faults();
			vblk_tl_have = true;
		}
		b->pass_faults = vblk_tl_faults;
	}
	return timing_now_ns();
}

static inline void vblk_be_leave(struct vblk *b, uint64_t t0)
{
	b->pass_ns += timing_now_ns() - t0;
}

/* A read or write handed to or completed by the backend in this pass. */
static inline void vblk_pass_io(struct vblk *b, enum blk_op op)
{
	if (op == BLK_OP_READ || op == BLK_OP_WRITE)
		b->pass_ios[op]++;
}

/* End of a pass: its backend time and faults into the stats. */
void vblk_pass_close(struct vblk *b);

/* ---- vmm/virtio_blk_req.c, all with mmio.proc_lock held ------------------- */

/* Take chain c off the ring: parse, pin and submit it, or complete it with
 * an error at once. */
void vblk_handle_chain(struct vblk *b, const struct vq_chain *c);

/* The backend's completion callback (be->complete). */
void vblk_io_done(struct blk_backend *be, struct blk_io *io, long res);

/* The ring is malformed: DEVICE_NEEDS_RESET (takes mmio.reg_lock). */
void vblk_mark_broken(struct vblk *b, enum vq_err e);

/* An orphan's backend I/O is over: drop its pins, touch nothing else. */
void vblk_release_orphan(struct vblk *b, struct gblk_req *r);

#endif /* GMEMKIT_VMM_VIRTIO_BLK_INTERNAL_H */
