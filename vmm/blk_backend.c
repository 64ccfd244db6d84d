// SPDX-License-Identifier: GPL-2.0
/*
 * Block backends for the virtio-blk device.
 *
 * null: completes every I/O inside submit() without touching data, the
 *       way null_blk does: what is left is the cost of the I/O path itself.
 * ram:  a memory-backed device (null_blk memory_backed=1, brd): a store of
 *       anonymous memory, every I/O a memcpy between it and the guest's
 *       buffers inside submit(), through safe_copy().
 * file: a regular file or block device through io_uring (liburing), one
 *       SQE per request, submitted once per batch (kick), completions
 *       signalled on an eventfd the device thread polls.  Buffered or
 *       O_DIRECT.  Where io_uring cannot be set up, synchronous
 *       preadv/pwritev/fdatasync inside submit() ("sync" engine).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gmemkit/parse.h"
#include "gmemkit/safe_copy.h"
#include "gmemkit/virtio_blk.h"

#define SECTOR_MASK	((uint64_t)VIRTIO_BLK_SECTOR_SIZE - 1)

static void set_id(struct blk_backend *be, const char *id)
{
	size_t n = strlen(id);

	memset(be->id, 0, sizeof(be->id));
	if (n > sizeof(be->id))
		id += n - sizeof(be->id);	/* keep the tail of long names */
	memcpy(be->id, id, n < sizeof(be->id) ? n : sizeof(be->id));
}

/* ---- null ------------------------------------------------------------------ */

static int null_submit(struct blk_backend *be, struct blk_io *io)
{
	be->complete(be, io, io->op == BLK_OP_FLUSH ? 0 : (long)io->len);
	return 0;
}

static int null_kick(struct blk_backend *be)
{
	(void)be;
	return 0;
}

static int null_reap(struct blk_backend *be, bool wait)
{
	(void)be;
	(void)wait;
	return 0;
}

static void null_destroy(struct blk_backend *be)
{
	free(be);
}

static const struct blk_backend_ops null_ops = {
	.submit = null_submit,
	.kick = null_kick,
	.reap = null_reap,
	.destroy = null_destroy,
};

int blk_backend_null(uint64_t capacity, struct blk_backend **out)
{
	struct blk_backend *be;

	if (!out || !capacity || (capacity & SECTOR_MASK))
		return -EINVAL;
	be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	be->ops = &null_ops;
	be->name = "null";
	be->engine = "inline";
	be->capacity = capacity;
	be->event_fd = -1;
	set_id(be, "gmemkit-null");
	*out = be;
	return 0;
}

/* ---- ram ------------------------------------------------------------------- */

struct ram_backend {
	struct blk_backend be;
	uint8_t *store;
};

/*
 * Copy io between the store and the guest's buffers: the bytes copied, or
 * -EFAULT (a page the copy may not touch), -EIO for an I/O the device
 * should never have handed over (beyond capacity, iov shorter than len).
 */
static long ram_copy(struct ram_backend *r, const struct blk_io *io)
{
	uint64_t off = io->offset, left = io->len;
	unsigned int i;
	int err;

	if (off > r->be.capacity || left > r->be.capacity - off)
		return -EIO;
	for (i = 0; i < io->niov && left; i++) {
		size_t n = io->iov[i].iov_len < left ? io->iov[i].iov_len : left;
		uint8_t *s = r->store + off;

		if (io->op == BLK_OP_READ)
			err = safe_copy(io->iov[i].iov_base, s, n);
		else
			err = safe_copy(s, io->iov[i].iov_base, n);
		if (err)
			return err;
		r->be.copy_bytes[io->op] += n;
		off += n;
		left -= n;
	}
	return left ? -EIO : (long)io->len;
}

static int ram_submit(struct blk_backend *be, struct blk_io *io)
{
	long res = 0;

	if (io->op != BLK_OP_FLUSH)
		res = ram_copy((struct ram_backend *)be, io);
	be->complete(be, io, res);
	return 0;
}

static void ram_destroy(struct blk_backend *be)
{
	struct ram_backend *r = (struct ram_backend *)be;

	munmap(r->store, be->capacity);
	free(r);
}

static const struct blk_backend_ops ram_ops = {
	.submit = ram_submit,
	.kick = null_kick,
	.reap = null_reap,
	.destroy = ram_destroy,
};

int blk_backend_ram(uint64_t capacity, struct blk_backend **out)
{
	struct ram_backend *r;
	void *p;

	if (!out || !capacity || (capacity & SECTOR_MASK))
		return -EINVAL;
	if (capacity > SIZE_MAX)
		return -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	/* NORESERVE: a sparse device; pages come with the first write. */
	p = mmap(NULL, (size_t)capacity, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		free(r);
		return -ENOMEM;
	}
	r->store = p;
	r->be.ops = &ram_ops;
	r->be.name = "ram";
	r->be.engine = "memcpy";
	r->be.capacity = capacity;
	r->be.event_fd = -1;
	set_id(&r->be, "gmemkit-ram");
	*out = &r->be;
	return 0;
}

/* ---- file ------------------------------------------------------------------ */

struct file_backend {
	struct blk_backend be;
	int fd;
	bool uring;
	unsigned int queued;		/* SQEs prepared, not yet submitted */
	unsigned int inflight;		/* submitted, not yet completed */
	struct io_uring ring;
};

static struct file_backend *to_file(struct blk_backend *be)
{
	return (struct file_backend *)be;
}

/* Advance io past done bytes (after a short transfer). */
static void io_advance(struct blk_io *io, uint64_t done)
{
	io->offset += done;
	io->len -= done;
	while (io->niov && done >= io->iov->iov_len) {
		done -= io->iov->iov_len;
		io->iov++;
		io->niov--;
	}
	if (io->niov && done) {
		io->iov->iov_base = (char *)io->iov->iov_base + done;
		io->iov->iov_len -= done;
	}
}

static long sync_io(struct file_backend *f, struct blk_io *io)
{
	uint64_t total = 0;
	ssize_t r;

	if (io->op == BLK_OP_FLUSH)
		return fdatasync(f->fd) ? -errno : 0;
	while (io->len) {
		if (io->op == BLK_OP_READ)
			r = preadv(f->fd, io->iov, (int)io->niov,
				   (off_t)io->offset);
		else
			r = pwritev(f->fd, io->iov, (int)io->niov,
				    (off_t)io->offset);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;	/* file shrank under us */
		total += (uint64_t)r;
		io_advance(io, (uint64_t)r);
	}
	return (long)total;
}

static int uring_prep(struct file_backend *f, struct blk_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&f->ring);

	if (!sqe) {
		/* Ring full: push what is queued and try once more. */
		if (io_uring_submit(&f->ring) < 0)
			return -EAGAIN;
		f->inflight += f->queued;
		f->queued = 0;
		sqe = io_uring_get_sqe(&f->ring);
		if (!sqe)
			return -EAGAIN;
	}
	switch (io->op) {
	case BLK_OP_READ:
		io_uring_prep_readv(sqe, f->fd, io->iov, io->niov, io->offset);
		break;
	case BLK_OP_WRITE:
		io_uring_prep_writev(sqe, f->fd, io->iov, io->niov, io->offset);
		break;
	default:
		io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
		break;
	}
	io_uring_sqe_set_data(sqe, io);
	f->queued++;
	return 0;
}

static int file_submit(struct blk_backend *be, struct blk_io *io)
{
	struct file_backend *f = to_file(be);
	uint64_t want = io->len;
	long res;

	if (f->uring)
		return uring_prep(f, io);
	res = sync_io(f, io);
	be->complete(be, io, res < 0 ? res : (long)want);
	return 0;
}

static int file_kick(struct blk_backend *be)
{
	struct file_backend *f = to_file(be);
	int r;

	if (!f->uring || !f->queued)
		return 0;
	do {
		r = io_uring_submit(&f->ring);
	} while (r == -EINTR);
	if (r < 0)
		return r;
	f->inflight += f->queued;
	f->queued = 0;
	return 0;
}

/*
 * One CQE: a short read or write is continued from where it stopped (the
 * I/O stays in flight, *done = 0); anything else completes it.
 */
static int handle_cqe(struct file_backend *f, struct blk_io *io, int res,
		      uint64_t *done)
{
	if (io->op != BLK_OP_FLUSH && res > 0 && (uint64_t)res < io->len) {
		io_advance(io, (uint64_t)res);
		if (!uring_prep(f, io)) {
			*done = 0;
			return 0;
		}
		res = -EAGAIN;
	} else if (io->op != BLK_OP_FLUSH && res == 0 && io->len) {
		res = -EIO;		/* end of file inside capacity */
	}
	*done = 1;
	return res;
}

/*
 * Complete finished I/O.  res handed to the device is >= 0 when the whole
 * I/O was transferred (after any continuation of short transfers), else a
 * negative errno.
 */
static int file_reap(struct blk_backend *be, bool wait)
{
	struct file_backend *f = to_file(be);
	struct io_uring_cqe *cqe;
	int n = 0, r;

	if (!f->uring)
		return 0;
	if (f->queued && (r = file_kick(be)) < 0)
		return r;
	for (;;) {
		struct blk_io *io;
		uint64_t done;
		int res;

		if (wait && !n && f->inflight)
			r = io_uring_wait_cqe(&f->ring, &cqe);
		else
			r = io_uring_peek_cqe(&f->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN || r == -ETIME)
			break;
		if (r < 0)
			return n ? n : r;
		io = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&f->ring, cqe);
		f->inflight--;
		res = handle_cqe(f, io, res, &done);
		if (!done) {
			file_kick(be);
			continue;
		}
		n++;
		be->complete(be, io, res);
	}
	return n;
}

static void file_destroy(struct blk_backend *be)
{
	struct file_backend *f = to_file(be);

	if (f->uring) {
		file_kick(be);
		while (f->inflight && file_reap(be, true) >= 0)
			;
		io_uring_queue_exit(&f->ring);
	}
	if (be->event_fd >= 0)
		close(be->event_fd);
	close(f->fd);
	free(f);
}

static const struct blk_backend_ops file_ops = {
	.submit = file_submit,
	.kick = file_kick,
	.reap = file_reap,
	.destroy = file_destroy,
};

static int file_capacity(int fd, uint64_t *cap)
{
	struct stat st;
	uint64_t sz;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &sz))
			return -errno;
	} else if (S_ISREG(st.st_mode)) {
		sz = (uint64_t)st.st_size;
	} else {
		return -EINVAL;
	}
	sz &= ~SECTOR_MASK;
	if (!sz)
		return -EINVAL;
	*cap = sz;
	return 0;
}

static int setup_uring(struct file_backend *f, unsigned int depth)
{
	int efd, r;

	r = io_uring_queue_init(depth, &f->ring, 0);
	if (r < 0)
		return r;
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0) {
		r = -errno;
		goto err;
	}
	r = io_uring_register_eventfd(&f->ring, efd);
	if (r < 0) {
		close(efd);
		goto err;
	}
	f->be.event_fd = efd;
	f->uring = true;
	return 0;
err:
	io_uring_queue_exit(&f->ring);
	return r;
}

int blk_backend_file(const char *path, unsigned int flags, unsigned int depth,
		     struct blk_backend **out)
{
	struct file_backend *f;
	int oflags = O_CLOEXEC, ret;
	const char *base;

	if (!path || !out || (flags & ~BLK_FILE_ALL) || !depth || depth > 4096)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	oflags |= (flags & BLK_FILE_READ_ONLY) ? O_RDONLY : O_RDWR;
	if (flags & BLK_FILE_DIRECT)
		oflags |= O_DIRECT;
	f->fd = open(path, oflags);
	if (f->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = file_capacity(f->fd, &f->be.capacity);
	if (ret)
		goto err_close;
	f->be.ops = &file_ops;
	f->be.name = "file";
	f->be.read_only = flags & BLK_FILE_READ_ONLY;
	f->be.direct = flags & BLK_FILE_DIRECT;
	f->be.event_fd = -1;
	base = strrchr(path, '/');
	set_id(&f->be, base ? base + 1 : path);
	if ((flags & BLK_FILE_SYNC) || setup_uring(f, depth))
		f->be.engine = "sync";
	else
		f->be.engine = "io_uring";
	*out = &f->be;
	return 0;

err_close:
	close(f->fd);
err_free:
	free(f);
	return ret;
}

/* ---- from a spec ------------------------------------------------------------ */

static int open_file_spec(const char *spec, struct blk_backend **out)
{
	char *copy = strdup(spec), *opt, *save = NULL;
	unsigned int flags = 0;
	const char *path;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	path = strtok_r(copy, ",", &save);
	while (path && (opt = strtok_r(NULL, ",", &save))) {
		if (!strcmp(opt, "direct"))
			flags |= BLK_FILE_DIRECT;
		else if (!strcmp(opt, "ro"))
			flags |= BLK_FILE_READ_ONLY;
		else if (!strcmp(opt, "sync"))
			flags |= BLK_FILE_SYNC;
		else
			ret = -EINVAL;
	}
	if (!path || !*path)
		ret = -EINVAL;
	if (!ret)
		ret = blk_backend_file(path, flags, BLK_FILE_DEPTH, out);
	free(copy);
	return ret;
}

int blk_backend_open(const char *spec, struct blk_backend **out)
{
	uint64_t size = 1ULL << 30;

	if (!spec || !out)
		return -EINVAL;
	if (!strcmp(spec, "null"))
		return blk_backend_null(size, out);
	if (!strncmp(spec, "null:", 5)) {
		/* -ERANGE too: "bad size", as documented */
		if (parse_size(spec + 5, 0, UINT64_MAX, &size))
			return -EINVAL;
		return blk_backend_null(size, out);
	}
	if (!strcmp(spec, "ram"))
		return blk_backend_ram(size, out);
	if (!strncmp(spec, "ram:", 4)) {
		if (parse_size(spec + 4, 0, UINT64_MAX, &size))
			return -EINVAL;
		return blk_backend_ram(size, out);
	}
	if (!strncmp(spec, "file:", 5))
		return open_file_spec(spec + 5, out);
	return -EINVAL;
}

void blk_backend_destroy(struct blk_backend *be)
{
	if (be)
		be->ops->destroy(be);
}

int blk_disk_create(char *path, size_t len, const char *dir, uint64_t size)
{
	int fd, err;

	if (snprintf(path, len, "%s/gmemkit-disk-XXXXXX", dir) >= (int)len)
		return -ENAMETOOLONG;
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size)) {
		err = -errno;
		close(fd);
		unlink(path);
		return err;
	}
	close(fd);
	return 0;
}
