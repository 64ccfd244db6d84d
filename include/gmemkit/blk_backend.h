/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Block backends of the virtio-blk device (vmm/blk_backend.c): where its
 * requests go.  The test support adds its own (harness/blk_fault.h,
 * harness/blk_jitter.h) through the same ops.
 */
#ifndef GMEMKIT_BLK_BACKEND_H
#define GMEMKIT_BLK_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "gmemkit/virtio.h"	/* VIRTIO_BLK_ID_BYTES */

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
	const char *name;		/* "null", "ram", "file" */
	const char *engine;		/* "inline", "memcpy", "io_uring", "sync" */
	uint64_t capacity;		/* bytes, multiple of 512 */
	bool read_only;
	bool direct;			/* O_DIRECT */
	int event_fd;			/* readable on completions, or -1 */
	char id[VIRTIO_BLK_ID_BYTES];	/* GET_ID answer, NUL padded */
	blk_complete_fn complete;	/* set by the device */
	void *complete_arg;		/* for the completion callback */
	/*
	 * Bytes the backend's own code copied between guest buffers and its
	 * store with the CPU, [BLK_OP_READ] and [BLK_OP_WRITE] (ram: every
	 * byte; null and file: 0, the kernel's copies for a file are not
	 * the backend's).  Updated in submit() and reap(), read by the
	 * device under its processing lock.
	 */
	uint64_t copy_bytes[2];
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
 * blk_backend_ram() - a memory-backed device (like null_blk with
 * memory_backed=1, or brd): its store is anonymous memory of its own,
 * capacity bytes, allocated on first touch (a never-written sector reads
 * zeros) and kept for the backend's life.  A read copies from the store
 * into the guest buffer, a write from the buffer into the store, with
 * memcpy through the iov's host pointers, inside submit() (on the thread
 * that runs the device): it pays what a device that moves the data once
 * pays, including the faults on buffer pages the host has not mapped yet
 * (freshly re-shared in-place buffers).  Copies go through safe_copy():
 * under a handler that recovers them (the test support's violation
 * handler, which gmemkit installs), a copy that faults on a page it may
 * not touch completes the I/O with -EFAULT, counted by gmem as a
 * violation, and the process lives on.  FLUSH completes at once (nothing
 * is volatile beyond the store).
 *   -EINVAL  out NULL, capacity 0 or not a multiple of 512
 *   -ENOMEM  the store cannot be mapped (capacity beyond what mmap gives)
 */
int blk_backend_ram(uint64_t capacity, struct blk_backend **out);

/*
 * blk_backend_open() - a backend from a command-line spec:
 *   "null" (1 GiB), "null:SIZE" (a parse_size() size, gmemkit/parse.h:
 *   base 10, k/m/g/t binary units; a multiple of 512),
 *   "ram" (1 GiB), "ram:SIZE" (the same size grammar as null),
 *   "file:PATH[,direct][,ro][,sync]" (io_uring depth BLK_FILE_DEPTH).
 *   -EINVAL  spec NULL, unknown kind or option, bad size: not a size or
 *            beyond 64 bits (message-free: the caller names the bad spec)
 *   or the errors of blk_backend_null() / blk_backend_ram() /
 *   blk_backend_file()
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

#endif /* GMEMKIT_BLK_BACKEND_H */
