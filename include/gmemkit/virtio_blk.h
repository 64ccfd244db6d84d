/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk device (VMM side): virtio-mmio version 2 transport, one split
 * virtqueue, block backends.
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
#include <sys/uio.h>

#include "gmemkit/virtio.h"

struct gmem;

/* ---- block backends --------------------------------------------------------- */

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
};

/*
 * One I/O handed to a backend.  iov points into pinned guest memory and
 * stays valid until the backend completes the I/O; the backend may modify
 * iov/niov (e.g. to resubmit after a short transfer).
 */
struct blk_io {
	enum blk_op op;
	uint64_t offset;	/* bytes, multiple of 512 */
	uint64_t len;		/* total bytes of iov */
	struct iovec *iov;
	unsigned int niov;
};

struct blk_backend;

/*
 * Completion callback, set by the device: res >= 0 when the whole I/O was
 * done (a backend continues short transfers itself), or a negative errno.
 * Called on the thread that runs submit() or reap(), with the device's
 * processing lock held: it must not call back into the device.
 */
typedef void (*blk_complete_fn)(struct blk_backend *be, struct blk_io *io,
				long res);

struct blk_backend_ops {
	/* Queue io; 0 if queued (or completed inline), -errno if refused. */
	int (*submit)(struct blk_backend *be, struct blk_io *io);
	/* Push queued I/O to the kernel (end of a batch); 0 or -errno. */
	int (*kick)(struct blk_backend *be);
	/* Complete finished I/O; wait for at least one if wait.  Returns the
	 * number completed or -errno. */
	int (*reap)(struct blk_backend *be, bool wait);
	void (*destroy)(struct blk_backend *be);
};

/*
 * The common part of every backend; a backend embeds it first.  Custom
 * backends (tests, benchmarks) fill ops, capacity, id and event_fd.
 */
struct blk_backend {
	const struct blk_backend_ops *ops;
	const char *name;		/* "null", "file" */
	const char *engine;		/* "inline", "io_uring", "sync" */
	uint64_t capacity;		/* bytes, multiple of 512 */
	bool read_only;
	bool direct;			/* O_DIRECT */
	int event_fd;			/* readable on completions, or -1 */
	char id[VIRTIO_BLK_ID_BYTES];	/* GET_ID answer, NUL padded */
	blk_complete_fn complete;	/* set by the device */
	void *complete_arg;		/* for the completion callback */
};

/*
 * blk_backend_null() - a backend that completes every I/O at once without
 * touching data (like null_blk): a read leaves the guest buffer as it is.
 *   -EINVAL  capacity 0 or not a multiple of 512
 *   -ENOMEM
 */
int blk_backend_null(uint64_t capacity, struct blk_backend **out);

#define BLK_FILE_DIRECT		(1U << 0)	/* O_DIRECT */
#define BLK_FILE_READ_ONLY	(1U << 1)
#define BLK_FILE_SYNC		(1U << 2)	/* no io_uring: preadv/pwritev */
#define BLK_FILE_ALL		(BLK_FILE_DIRECT | BLK_FILE_READ_ONLY | \
				 BLK_FILE_SYNC)

/*
 * blk_backend_file() - a regular file or block device, through io_uring
 * (liburing) with a ring of `depth` entries; if io_uring cannot be set up
 * (kernel without it, io_uring_disabled) it falls back to synchronous
 * preadv/pwritev in the device thread and says so in be->engine.  With
 * BLK_FILE_DIRECT the kernel's O_DIRECT alignment rules apply to the
 * guest's buffers (offsets and lengths are sector multiples already); an
 * I/O the kernel refuses completes with IOERR.
 * Capacity is the file size rounded down to 512 bytes.
 *   -EINVAL   path NULL, unknown flags, depth 0 or above 4096, file smaller
 *             than 512 bytes, not a regular file or block device
 *   -ENOMEM, or the errno of open/fstat/ioctl (e.g. -EINVAL from open:
 *             O_DIRECT not supported by the file system)
 */
int blk_backend_file(const char *path, unsigned int flags, unsigned int depth,
		     struct blk_backend **out);

/*
 * blk_backend_open() - a backend from a command-line spec:
 *   "null" (1 GiB), "null:SIZE" (a parse_size() size, gmemkit/parse.h:
 *   base 10, k/m/g/t binary units; a multiple of 512),
 *   "file:PATH[,direct][,ro][,sync]" (io_uring depth BLK_FILE_DEPTH).
 *   -EINVAL  spec NULL, unknown kind or option, bad size: not a size or
 *            beyond 64 bits (message-free: the caller names the bad spec)
 *   or the errors of blk_backend_null() / blk_backend_file()
 */
#define BLK_FILE_DEPTH		256U
int blk_backend_open(const char *spec, struct blk_backend **out);

/*
 * blk_disk_create() - a sparse temporary disk image of size bytes,
 * dir/gmemkit-disk-XXXXXX; its path is stored in path (len bytes).  The
 * caller unlinks it.  -ENAMETOOLONG if the path does not fit, else the
 * errno of mkstemp/ftruncate; nothing is left behind on error.
 */
int blk_disk_create(char *path, size_t len, const char *dir, uint64_t size);

void blk_backend_destroy(struct blk_backend *be);

/* ---- virtio-mmio transport ------------------------------------------------- */

struct virtio_mmio_dev;

/*
 * virtio_mmio_access() - a guest access to the device's MMIO window
 * (offset from the window base, len bytes at data), from KVM_EXIT_MMIO.
 * Registers below VIRTIO_MMIO_CONFIG take aligned 4-byte accesses, the
 * config space aligned 1, 2, 4 or 8 bytes and is read only.  A read fills
 * data (zeros where refused or undefined).  Nothing the guest does makes it
 * fail: a refused access (wrong width, misaligned, running off the window,
 * a write to a read-only register or config) is ignored and counted in
 * stats.bad_access, a refused configuration step in stats.bad_config.
 *   0        done, or refused and counted
 *   -EINVAL  d or data NULL, len 0 or above 8 (caller bugs)
 *   -ERANGE  offset outside the 4 KiB window (the caller routed it wrongly)
 */
int virtio_mmio_access(struct virtio_mmio_dev *d, uint64_t offset, void *data,
		       unsigned int len, bool is_write);

/* The same with opaque = the struct virtio_mmio_dev, shaped like
 * vmm_mmio_fn (gmemkit/vm.h) for vmm_set_mmio_handler(). */
int virtio_mmio_handler(void *opaque, uint64_t offset, void *data,
			uint32_t len, bool is_write);

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
