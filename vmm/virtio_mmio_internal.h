/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-mmio transport internals: the register file and the device hooks.
 * A device (vmm/virtio_blk.c) embeds struct virtio_mmio_dev and fills ops.
 */
#ifndef GMEMKIT_VMM_VIRTIO_MMIO_INTERNAL_H
#define GMEMKIT_VMM_VIRTIO_MMIO_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "virtqueue.h"

/*
 * Two locks (order: proc_lock, then reg_lock; never the other way):
 *
 *   reg_lock   the register file below (status, features, selectors, queue
 *              configuration, counters).  Held for one register access and
 *              never across I/O, a backend call or proc_lock.
 *   proc_lock  the device's processing: the queue's live state, the
 *              device's requests, every backend call.  The device holds it
 *              while it processes and reaps.  The transport takes it (before
 *              reg_lock) only for the writes that begin or end a queue life:
 *              Status 0 (reset) and QueueReady.
 *
 * vq->ready, the rings (virtq_enable/virtq_disable) and the reset's clearing
 * of vq->broken are written with both locks held: either lock reads them.
 * interrupt_status is atomic (any thread, no lock).
 *
 * Which lock each hook runs with is given with the hook.
 */
struct virtio_mmio_ops {
	/* reg_lock.  Read len bytes at off of the config space; 0, or -ERANGE
	 * past it. */
	int (*config_read)(void *opaque, uint32_t off, void *data,
			   unsigned int len);
	/* reg_lock.  May the driver use these features (already a subset of
	 * offered)? */
	bool (*features_ok)(void *opaque, uint64_t features);
	/* proc_lock and reg_lock.  Queue qi just became ready (rings pinned). */
	void (*queue_ready)(void *opaque, unsigned int qi);
	/* proc_lock only (this waits for I/O: reg_lock is free meanwhile).
	 * Queue qi is going away: finish its in-flight requests first.  False
	 * if some could not be finished (they are orphaned: the device must
	 * not touch the rings or the driver's buffers for them any more). */
	bool (*queue_stop)(void *opaque, unsigned int qi);
	/* proc_lock only.  Is nothing of an earlier queue life still in
	 * flight?  A reset that
	 * finds the device not idle leaves DEVICE_NEEDS_RESET set. */
	bool (*idle)(void *opaque);
	/* No lock held (called after reg_lock is dropped).  QueueNotify
	 * written by an MMIO exit (no ioeventfd): the queue was ready and the
	 * device live when the write was checked, which may have changed
	 * since. */
	void (*notify)(void *opaque, unsigned int qi);
};

struct virtio_mmio_dev {
	pthread_mutex_t reg_lock;	/* see above */
	pthread_mutex_t proc_lock;
	const struct virtio_mmio_ops *ops;
	void *opaque;
	struct gmem *mem;
	uint32_t device_id;
	uint64_t device_features;
	uint64_t driver_features;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t shm_sel;
	uint32_t status;
	atomic_uint interrupt_status;
	unsigned int nvqs;
	struct virtq *vqs;
	/* Used-buffer and configuration interrupts: an eventfd (a KVM irqfd)
	 * written when InterruptStatus gains a bit, or -1 (a polling
	 * driver).  Set before the device runs; irqs counts the writes. */
	int irq_fd;
	atomic_ullong irqs;
	/* counters (under reg_lock; unpin_bugs under both) */
	uint64_t bad_config;
	uint64_t bad_access;
	uint64_t unpin_bugs;		/* ring unpins that found no pin */
};

int virtio_mmio_init(struct virtio_mmio_dev *d, const struct virtio_mmio_ops *ops,
		     void *opaque, struct gmem *mem, uint32_t device_id,
		     uint64_t features, struct virtq *vqs, unsigned int nvqs,
		     unsigned int num_max);
/* Reset (draining through ops) and free the locks. */
void virtio_mmio_exit(struct virtio_mmio_dev *d);

/* Status bit DEVICE_NEEDS_RESET plus a config interrupt (reg_lock held). */
void virtio_mmio_needs_reset(struct virtio_mmio_dev *d);

/* Raise InterruptStatus bits; interrupt when one is new (any thread). */
void virtio_mmio_interrupt(struct virtio_mmio_dev *d, uint32_t bits);

/* Used-buffer interrupt status bit (any thread). */
static inline void virtio_mmio_signal_used(struct virtio_mmio_dev *d)
{
	if (d->irq_fd >= 0)
		virtio_mmio_interrupt(d, VIRTIO_MMIO_INT_VRING);
	else
		atomic_fetch_or_explicit(&d->interrupt_status,
					 VIRTIO_MMIO_INT_VRING,
					 memory_order_relaxed);
}

/* DRIVER_OK set and nothing asks for a reset (reg_lock held). */
static inline bool virtio_mmio_live(const struct virtio_mmio_dev *d)
{
	return (d->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED |
			     VIRTIO_STATUS_DEVICE_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

#endif /* GMEMKIT_VMM_VIRTIO_MMIO_INTERNAL_H */
