/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-mmio transport internals: the register file and the device hooks.
 * A device (vmm/virtio_blk.c) embeds struct virtio_mmio_dev and fills ops.
 */
#ifndef GMEMKIT_VMM_VIRTIO_MMIO_H
#define GMEMKIT_VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>

#include "virtqueue.h"

/* Every hook runs with d->lock held. */
struct virtio_mmio_ops {
	/* Read len bytes at off of the config space; 0, or -ERANGE past it. */
	int (*config_read)(void *opaque, uint32_t off, void *data,
			   unsigned int len);
	/* May the driver use these features (already a subset of offered)? */
	bool (*features_ok)(void *opaque, uint64_t features);
	/* Queue qi just became ready (rings pinned). */
	void (*queue_ready)(void *opaque, unsigned int qi);
	/* Queue qi is going away: finish its in-flight requests first.  False
	 * if some could not be finished (they are orphaned: the device must
	 * not touch the rings or the driver's buffers for them any more). */
	bool (*queue_stop)(void *opaque, unsigned int qi);
	/* Is nothing of an earlier queue life still in flight?  A reset that
	 * finds the device not idle leaves DEVICE_NEEDS_RESET set. */
	bool (*idle)(void *opaque);
	/* QueueNotify written by an MMIO exit (no ioeventfd). */
	void (*notify)(void *opaque, unsigned int qi);
};

struct virtio_mmio_dev {
	pthread_mutex_t lock;
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
	/* counters (under lock) */
	uint64_t bad_config;
	uint64_t bad_access;
	uint64_t unpin_bugs;		/* ring unpins that found no pin */
};

int virtio_mmio_init(struct virtio_mmio_dev *d, const struct virtio_mmio_ops *ops,
		     void *opaque, struct gmem *mem, uint32_t device_id,
		     uint64_t features, struct virtq *vqs, unsigned int nvqs,
		     unsigned int num_max);
/* Reset (draining through ops) and free the lock. */
void virtio_mmio_exit(struct virtio_mmio_dev *d);

/* Status bit DEVICE_NEEDS_RESET plus a config interrupt (lock held). */
void virtio_mmio_needs_reset(struct virtio_mmio_dev *d);

/* Used-buffer interrupt status bit (any thread). */
static inline void virtio_mmio_signal_used(struct virtio_mmio_dev *d)
{
	atomic_fetch_or_explicit(&d->interrupt_status, VIRTIO_MMIO_INT_VRING,
				 memory_order_relaxed);
}

/* DRIVER_OK set and nothing asks for a reset (lock held). */
static inline bool virtio_mmio_live(const struct virtio_mmio_dev *d)
{
	return (d->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED |
			     VIRTIO_STATUS_DEVICE_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

#endif /* GMEMKIT_VMM_VIRTIO_MMIO_H */
