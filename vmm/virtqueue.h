/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueue walker with validation (device side).  Internal to
 * vmm/virtio_*.c and the fuzz target; the device API is
 * include/gmemkit/virtio_blk.h.
 *
 * Model: Firecracker's queue.  The three ring areas are checked (bounds,
 * alignment, shared state, no overlap) and pinned once when the queue is
 * enabled; after that their host pointers are stable, because a pinned page
 * cannot be unshared.  Every index the guest supplies is checked against the
 * queue size, every descriptor is read exactly once into a struct vq_desc,
 * and a chain is never walked further than queue-size descriptors.
 */
#ifndef GMEMKIT_VMM_VIRTQUEUE_H
#define GMEMKIT_VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "gmemkit/virtio.h"
#include "gmemkit/virtio_blk.h"

struct gmem;

/* A descriptor as the device saw it (one read of the guest's copy). */
struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
};

struct virtq {
	/* Configuration, written through the transport while not ready. */
	uint32_t num;			/* QueueNum */
	uint32_t num_max;		/* QueueNumMax */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool ready;			/* QueueReady */
	bool broken;			/* malformed ring seen: reset needed */

	/* Live state, valid while ready. */
	struct gmem *mem;
	uint16_t size;
	uint16_t mask;
	const struct vring_desc *desc;	/* host view, pinned */
	const struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t avail_shadow;		/* last avail->idx read */
	uint16_t used_idx;		/* next used entry to fill */
	uint16_t used_published;	/* used->idx as last stored */
};

/* One chain: d[0..n) are its first n descriptors (n <= cap given to
 * virtq_pop), total its length, last its final descriptor. */
struct vq_chain {
	uint16_t head;
	uint16_t n;
	uint32_t total;
	struct vq_desc last;
	struct vq_desc *d;
};

/*
 * virtq_enable() - validate and pin the rings for vq->num entries at
 * vq->desc_gpa/avail_gpa/used_gpa in mem, and start from index 0.
 *   -EINVAL   num 0, not a power of 2 or above num_max; an area misaligned;
 *             two areas overlap
 *   -ERANGE / -EOVERFLOW   an area outside guest RAM
 *   -EACCES   an area on a private page
 *   -EMLINK   pin count limit
 * On error nothing is pinned.
 */
int virtq_enable(struct virtq *vq, struct gmem *mem);

/* Unpin the rings and forget the live state (configuration kept).
 * Returns the number of ring unpins that found no pin (a VMM bug: 0). */
int virtq_disable(struct virtq *vq);

/*
 * virtq_pop() - take the next available chain into c (c->d has room for
 * cap descriptors).  Returns 1 with a chain, 0 if the ring is empty, or
 * -enum vq_err when the ring is malformed (the entry is consumed).
 */
int virtq_pop(struct virtq *vq, struct vq_chain *c, unsigned int cap);

/* Put (head, len) on the used ring; virtq_publish() makes it visible. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/* Store used->idx (release) if new entries were pushed; true if so. */
bool virtq_publish(struct virtq *vq);

/* Entries on the avail ring not taken yet (one acquire load at most)? */
bool virtq_avail_pending(struct virtq *vq);

/*
 * Tell the driver whether to notify (used->flags VIRTQ_USED_F_NO_NOTIFY
 * clear or set).  The store is sequentially consistent, and so is the load
 * in virtq_avail_pending(): a check after enabling cannot miss an entry the
 * driver published without a notification (the driver publishes, barriers,
 * then reads the flag).
 */
void virtq_set_notify(struct virtq *vq, bool enable);

/* Does [gpa, gpa + len) touch the descriptor table or one of the rings? */
bool virtq_overlaps_rings(const struct virtq *vq, uint64_t gpa, uint64_t len);

#endif /* GMEMKIT_VMM_VIRTQUEUE_H */
