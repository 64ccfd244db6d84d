/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk device (VMM side): over the virtio-mmio version 2 transport
 * (gmemkit/virtio_mmio.h), one split virtqueue, a block backend
 * (gmemkit/blk_backend.h).
 *
 * Guest RAM is one gmem region at guest physical address 0 (GPA == region
 * offset).  The device reaches guest memory only through gmem_pin_ptr()
 * (bounds, overflow and shared state checked, pages pinned), so it never
 * touches a private page:
 *
 *  - the descriptor table, avail ring and used ring are pinned while the
 *    queue is enabled (QueueReady = 1): they must be on shared pages then,
 *    and a guest unshare of a ring page gets -EBUSY until the queue is
 *    disabled or the device reset;
 *  - every data buffer (and the status byte) is pinned from request parse
 *    to completion; the header is pinned just long enough to copy it.
 *
 * Every descriptor is copied once into a local struct (no double fetch),
 * every index is checked against the queue size, a chain never walks more
 * than queue-size descriptors.  What the guest gets for a bad request:
 *
 *  - broken ring (DEVICE_NEEDS_RESET set in Status, the queue stops until
 *    reset, stats.broken++): avail idx more than queue size ahead, head or
 *    next index >= queue size, a chain longer than the queue (a loop),
 *    VIRTQ_DESC_F_INDIRECT (not offered), a head reused while in flight;
 *  - VIRTIO_BLK_S_IOERR (stats.ioerr++ and one per-class counter in
 *    stats.err[]): buffer outside guest RAM or on a private page
 *    (stats.violations), buffer overlapping the rings, wrong framing or
 *    direction, zero-length or non sector-multiple data, too many segments,
 *    sector range beyond capacity, write to a read-only device, pin refused,
 *    backend error;
 *  - if the status byte (the last byte of the last descriptor, which must
 *    be device writable) is unusable, the chain is returned with used
 *    length 0 and nothing is written (stats.no_status, and the class:
 *    VBLK_E_STATUS, _PRIVATE, _OUT_OF_RAM or _RING_OVERLAP);
 *  - unknown or unnegotiated request type: VIRTIO_BLK_S_UNSUPP.
 *  - a buffer on a page the guest is unsharing at that moment: IOERR,
 *    VBLK_E_BUSY, counted in stats.pins_refused (not a violation).
 * Used length = bytes the device wrote into the chain + 1 status byte.
 *
 * Reset (Status 0) or QueueReady 0 with I/O in flight: the device waits for
 * the backend; requests the backend still holds after VBLK_DRAIN_TRIES
 * failing waits are orphaned (stats.orphaned): they keep their pins until
 * the backend completes them, then only drop the pins (stats.
 * orphans_released), never writing a status or a used entry.  Meanwhile
 * Status reads DEVICE_NEEDS_RESET and the queue cannot be enabled; a reset
 * once the orphans are gone brings the device back.
 *
 * Every pin the device takes is its own (gmem's host owner) and dropped
 * once; an unpin that finds no pin is a device bug, counted in
 * stats.unpin_bugs (and gmem's unpin_missing), never ignored.
 * Framing: the 16-byte header alone in the first descriptor (device
 * readable), data in the middle ones, status in the last (as Linux and
 * Firecracker do).
 *
 * Threads: virtio_mmio_access() runs on vCPU threads, processing on the
 * device thread (vblk_start()) or on the caller of
 * vblk_process_queue().  Two locks per device: a register lock for
 * the register file and a processing lock for the queue, the requests and
 * the backend.  A register access takes only the register lock and never
 * waits for I/O, except the writes that begin or end a queue life (Status 0,
 * QueueReady), which wait for a processing pass in progress and for the
 * drain; without a device thread a QueueNotify write processes the queue
 * in the writer (vmm/virtio_blk.c has the details).
 */
#ifndef GMEMKIT_VIRTIO_BLK_H
#define GMEMKIT_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "gmemkit/virtio.h"

struct gmem;

#include "gmemkit/blk_backend.h"
#include "gmemkit/virtio_mmio.h"

/* ---- virtio-blk device ------------------------------------------------------- */

struct vblk;

struct vblk_params {
	struct gmem *mem;		/* guest RAM at GPA 0 */
	struct blk_backend *backend;	/* owned by the device on success */
	unsigned int queue_num_max;	/* power of 2 <= 1024; 0: 256 */
	unsigned int seg_max;		/* data segments; 0: 128 (<= 1024) */
	/*
	 * Busy polling: after a pass that found requests, the device thread
	 * keeps polling the avail ring (and backend completions) for poll_us
	 * microseconds of idleness before it sleeps on the eventfd again, with
	 * VIRTQ_USED_F_NO_NOTIFY set meanwhile so that the driver can skip
	 * the notification (the VM exit).  0: no polling.  At most 1000000.
	 */
	unsigned int poll_us;
};

/* Request error classes, counted in vblk_stats.err[]. */
enum vblk_err {
	VBLK_OK = 0,
	VBLK_E_STATUS,		/* no usable status descriptor */
	VBLK_E_FRAMING,		/* no header descriptor / header too short */
	VBLK_E_HDR_WRITABLE,	/* header in a device-writable descriptor */
	VBLK_E_DIRECTION,	/* data buffer of the wrong direction */
	VBLK_E_ZERO_LEN,	/* zero-length data descriptor */
	VBLK_E_DATA_LEN,	/* IN/OUT length not a multiple of 512, or 0 */
	VBLK_E_SEGS,		/* more data descriptors than seg_max */
	VBLK_E_SEG_SIZE,	/* a segment above size_max */
	VBLK_E_OUT_OF_RAM,	/* buffer outside guest RAM */
	VBLK_E_PRIVATE,		/* buffer on a private page */
	VBLK_E_RING_OVERLAP,	/* buffer overlaps the descriptor table/rings */
	VBLK_E_PIN,		/* pin refused: too many pins on a page */
	VBLK_E_SECTOR,		/* sector range beyond capacity */
	VBLK_E_READ_ONLY,	/* OUT to a read-only device */
	VBLK_E_FLUSH_DATA,	/* FLUSH carrying data descriptors */
	VBLK_E_BACKEND,		/* backend refused or failed the I/O */
	VBLK_E_UNSUPP,		/* unknown request type (S_UNSUPP) */
	VBLK_E_BUSY,		/* buffer on a page the guest is unsharing
				 * right now (not a violation) */
	VBLK_E_NR
};

/* Ring-level failures (the queue is marked broken), in stats.ring_err[]. */
enum vq_err {
	VQ_OK = 0,
	VQ_E_AVAIL_IDX,		/* avail idx more than queue size ahead */
	VQ_E_HEAD,		/* head index >= queue size */
	VQ_E_NEXT,		/* next index >= queue size */
	VQ_E_LOOP,		/* chain longer than the queue: a loop */
	VQ_E_INDIRECT,		/* INDIRECT flag, not negotiated */
	VQ_E_IN_FLIGHT,		/* head reused while its request is in flight */
	VQ_E_NR
};

struct vblk_stats {
	uint64_t notifies;	/* queue notifications handled */
	uint64_t polled;	/* passes started by busy polling */
	uint64_t batches;	/* process passes that found requests */
	uint64_t requests;	/* chains taken off the avail ring */
	uint64_t reads, writes, flushes, get_ids;
	uint64_t bytes_read, bytes_written;
	uint64_t ok;		/* completed VIRTIO_BLK_S_OK */
	uint64_t ioerr;		/* completed VIRTIO_BLK_S_IOERR */
	uint64_t unsupp;	/* completed VIRTIO_BLK_S_UNSUPP */
	uint64_t no_status;	/* returned with used len 0, nothing written */
	uint64_t violations;	/* refused buffers: private or outside RAM */
	uint64_t pins;		/* successful data pins */
	uint64_t pins_refused;	/* data pins refused (EMLINK, EBUSY) */
	uint64_t broken;	/* broken ring events */
	uint64_t bad_config;	/* refused QueueReady / status / features */
	uint64_t bad_access;	/* refused MMIO accesses */
	uint64_t backend_errors;/* I/O the backend failed */
	uint64_t inflight;	/* requests in flight now */
	uint64_t orphaned;	/* in flight at a reset that could not drain */
	uint64_t orphans;	/* orphans the backend still holds now */
	uint64_t orphans_released;	/* orphans whose pins were dropped */
	uint64_t unpin_bugs;	/* unpins of the device's own pins that found
				 * none (a device bug; gmem counts them too) */
	uint64_t err[VBLK_E_NR];
	uint64_t ring_err[VQ_E_NR];
	/*
	 * The device's side of the I/O, on the thread that runs the device
	 * (the device thread, or the caller of vblk_process_queue() /
	 * vblk_reap()), [BLK_OP_READ] and [BLK_OP_WRITE]; per I/O: divide by
	 * reads / writes.  Beside the vCPUs' time, not inside it.
	 *   dev_ns          time inside the backend's calls (submit, kick,
	 *                   non-waiting reaps): a ram backend's copies and the
	 *                   page faults they take, a file backend's io_uring
	 *                   submissions and completions
	 *   dev_faults      minor + major page faults of that thread, counted
	 *                   from the end of its previous pass that did I/O to
	 *                   the end of this one (getrusage RUSAGE_THREAD, once
	 *                   per pass, not per request; on the device thread
	 *                   only the device's own work runs in between)
	 *   dev_copy_bytes  bytes the backend copied itself (blk_backend's
	 *                   copy_bytes: ram every byte, null and file 0)
	 * A pass that handled reads and writes splits its time and faults in
	 * proportion; waiting reaps (drains, the end of a run) are idle time
	 * and not counted.
	 */
	uint64_t dev_ns[2];
	uint64_t dev_faults[2];
	uint64_t dev_copy_bytes[2];
};

/*
 * vblk_create() - a virtio-blk device over p->mem with p->backend.
 *   -EINVAL  p, mem, backend or out NULL, queue_num_max not a power of 2
 *            or above 1024, seg_max above 1024, poll_us above 1000000,
 *            backend capacity 0
 *   -ENOMEM, or the errno of eventfd()
 * On error the backend is not consumed.
 */
int vblk_create(const struct vblk_params *p,
		      struct vblk **out);

/* Stop the thread, wait for in-flight I/O, unpin, destroy the backend. */
void vblk_destroy(struct vblk *b);

/* The transport to hand KVM_EXIT_MMIO accesses to (see above). */
struct virtio_mmio_dev *vblk_mmio(struct vblk *b);

/*
 * vblk_notify_fd() - the eventfd to register with KVM_IOEVENTFD for
 * the 4-byte QueueNotify register (window base + VIRTIO_MMIO_QUEUE_NOTIFY).
 * The device thread waits on it.  Owned by the device.
 */
int vblk_notify_fd(struct vblk *b);

/*
 * vblk_start() / vblk_stop() - the device thread: waits on the
 * notify eventfd and the backend's completion fd and processes the queue.
 *   -EALREADY  already running
 *   or the errno of eventfd()/pthread_create()
 */
int vblk_start(struct vblk *b);
void vblk_stop(struct vblk *b);

/*
 * vblk_process_queue() - take the available requests (at most queue
 * size of them per call), submit them and publish completions (for tests,
 * fuzzing and callers without a thread).
 * Returns the number of chains taken (>= 0), or:
 *   -EAGAIN   the device is not live (DRIVER_OK missing, queue not ready)
 *   -EIO      the ring is broken (now or before): reset needed
 */
int vblk_process_queue(struct vblk *b);

/*
 * vblk_reap() - complete finished backend I/O and publish it; wait
 * for all in-flight I/O if wait.  Returns the number completed or -errno.
 */
int vblk_reap(struct vblk *b, bool wait);

void vblk_get_stats(struct vblk *b, struct vblk_stats *st);
const char *vblk_err_name(enum vblk_err e);
const char *vq_err_name(enum vq_err e);

/* Device status register value (VIRTIO_STATUS_*). */
uint32_t vblk_status(struct vblk *b);

#endif /* GMEMKIT_VIRTIO_BLK_H */
