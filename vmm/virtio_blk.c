// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk device (virtio 1.2, 5.2) on the virtio-mmio transport.
 *
 * Request path: virtq_pop() copies the chain once; the status descriptor
 * (last) is validated and pinned first so that every later error can be
 * reported in it; the header (first descriptor) is pinned, copied once and
 * unpinned; each data descriptor is checked and pinned into an iovec; the
 * request goes to the backend; on completion the status byte is written,
 * every pin dropped and the head put on the used ring.  Parsing follows
 * Firecracker's block request: one typed struct, one error enum.
 *
 * Reset with I/O in flight: the device waits for the backend (a few tries);
 * what the backend still holds after that is orphaned.  An orphaned request
 * keeps its pins until the backend lets go of it (the kernel may still be
 * writing into those pages), and then only drops them: no status byte, no
 * used entry, since after a reset the device must not touch the driver's
 * buffers or rings (virtio 1.2, 2.4).  While orphans remain, the device
 * reads DEVICE_NEEDS_RESET and refuses to go live again.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gmemkit/gmem.h"
#include "gmemkit/timing.h"
#include "gmemkit/virtio_blk.h"
#include "virtio_mmio.h"

#define VBLK_NUM_MAX_DEFAULT	256U
#define VBLK_NUM_MAX_LIMIT	1024U
#define VBLK_SEG_MAX_DEFAULT	128U
#define VBLK_SEG_MAX_LIMIT	1024U
#define VBLK_SIZE_MAX		(1U << 20)	/* bytes per segment */
#define VBLK_DRAIN_TRIES	3	/* failing waits before orphaning */

struct vblk_seg {
	uint64_t gpa;
	uint32_t len;
};

struct vblk_req {
	struct blk_io io;		/* first: container of the backend io */
	uint16_t head;
	bool busy;
	bool orphan;			/* in flight at a reset: unpin only */
	uint32_t type;
	uint64_t status_gpa;
	volatile uint8_t *status;
	uint32_t nseg;			/* pinned segments */
	uint64_t data_len;		/* data bytes of the request */
	struct vblk_seg *seg;		/* [seg_max] */
	struct iovec *iov;		/* [seg_max] */
};

/* The request header as parsed, once. */
struct vblk_hdr {
	uint32_t type;
	uint64_t sector;
};

struct virtio_blk {
	struct virtio_mmio_dev mmio;
	struct virtq vq;
	struct gmem *mem;
	struct blk_backend *be;
	struct virtio_blk_config cfg;
	unsigned int num_max, seg_max;
	struct vblk_req *reqs;		/* [num_max], indexed by head */
	struct vblk_seg *segs;
	struct iovec *iovs;
	struct vq_desc *chain;		/* [seg_max + 2] */
	uint64_t inflight;
	uint64_t orphans;		/* orphaned requests still in flight */
	struct virtio_blk_stats st;
	int notify_fd;
	int stop_fd;
	pthread_t thread;
	bool running;
	atomic_bool stopping;
	uint64_t poll_ns;
};

static const char *const vblk_err_names[VBLK_E_NR] = {
	[VBLK_OK] = "ok",
	[VBLK_E_STATUS] = "status",
	[VBLK_E_FRAMING] = "framing",
	[VBLK_E_HDR_WRITABLE] = "hdr-writable",
	[VBLK_E_DIRECTION] = "direction",
	[VBLK_E_ZERO_LEN] = "zero-len",
	[VBLK_E_DATA_LEN] = "data-len",
	[VBLK_E_SEGS] = "segs",
	[VBLK_E_SEG_SIZE] = "seg-size",
	[VBLK_E_OUT_OF_RAM] = "out-of-ram",
	[VBLK_E_PRIVATE] = "private",
	[VBLK_E_RING_OVERLAP] = "ring-overlap",
	[VBLK_E_PIN] = "pin",
	[VBLK_E_SECTOR] = "sector",
	[VBLK_E_READ_ONLY] = "read-only",
	[VBLK_E_FLUSH_DATA] = "flush-data",
	[VBLK_E_BACKEND] = "backend",
	[VBLK_E_UNSUPP] = "unsupp",
	[VBLK_E_BUSY] = "busy",
};

static const char *const vq_err_names[VQ_E_NR] = {
	[VQ_OK] = "ok",
	[VQ_E_AVAIL_IDX] = "avail-idx",
	[VQ_E_HEAD] = "head",
	[VQ_E_NEXT] = "next",
	[VQ_E_LOOP] = "loop",
	[VQ_E_INDIRECT] = "indirect",
	[VQ_E_IN_FLIGHT] = "in-flight",
};

const char *vblk_err_name(enum vblk_err e)
{
	return (unsigned int)e < VBLK_E_NR ? vblk_err_names[e] : "?";
}

const char *vq_err_name(enum vq_err e)
{
	return (unsigned int)e < VQ_E_NR ? vq_err_names[e] : "?";
}

static bool negotiated(const struct virtio_blk *b, unsigned int bit)
{
	return b->mmio.driver_features & VIRTIO_BIT(bit);
}

static void mark_broken(struct virtio_blk *b, enum vq_err e)
{
	b->vq.broken = true;
	virtio_mmio_needs_reset(&b->mmio);
	b->st.broken++;
	b->st.ring_err[e]++;
}

/* Map a gmem_pin_ptr() error to the request error class. */
static enum vblk_err pin_error(struct virtio_blk *b, int ret)
{
	switch (ret) {
	case -EACCES:
		b->st.violations++;
		return VBLK_E_PRIVATE;
	case -EBUSY:		/* shared, but the guest is unsharing it now */
		b->st.pins_refused++;
		return VBLK_E_BUSY;
	case -EMLINK:
		b->st.pins_refused++;
		return VBLK_E_PIN;
	default:		/* -ERANGE, -EOVERFLOW, -EINVAL */
		b->st.violations++;
		return VBLK_E_OUT_OF_RAM;
	}
}

/* Drop a pin the device took.  Not finding it is a device bug (gmem counts
 * it too, and the VM run reports it): counted, never ignored. */
static void unpin(struct virtio_blk *b, uint64_t gpa, uint64_t len)
{
	if (gmem_unpin_bytes(b->mem, gpa, len))
		b->st.unpin_bugs++;
}

/* Pin [gpa, gpa + len) of guest RAM if it is shared and clear of rings. */
static enum vblk_err pin_buf(struct virtio_blk *b, uint64_t gpa, uint64_t len,
			     void **ptr)
{
	int ret = gmem_pin_ptr(b->mem, gpa, len, ptr);

	if (ret)
		return pin_error(b, ret);
	if (virtq_overlaps_rings(&b->vq, gpa, len)) {
		unpin(b, gpa, len);
		return VBLK_E_RING_OVERLAP;
	}
	return VBLK_OK;
}

static void unpin_segs(struct virtio_blk *b, struct vblk_req *r)
{
	uint32_t i;

	for (i = 0; i < r->nseg; i++)
		unpin(b, r->seg[i].gpa, r->seg[i].len);
	r->nseg = 0;
}

/* An orphan's backend I/O is over: drop its pins, touch nothing else. */
static void release_orphan(struct virtio_blk *b, struct vblk_req *r)
{
	unpin_segs(b, r);
	unpin(b, r->status_gpa, 1);
	r->status = NULL;
	r->orphan = false;
	r->busy = false;
	b->orphans--;
	b->st.orphans_released++;
}

/* Write the status, drop every pin, return the chain to the guest. */
static void finish(struct virtio_blk *b, struct vblk_req *r, uint8_t status,
		   uint32_t used_len)
{
	if (r->orphan) {
		release_orphan(b, r);
		return;
	}
	*r->status = status;
	unpin_segs(b, r);
	unpin(b, r->status_gpa, 1);
	r->status = NULL;
	r->busy = false;
	if (status == VIRTIO_BLK_S_OK)
		b->st.ok++;
	else if (status == VIRTIO_BLK_S_UNSUPP)
		b->st.unsupp++;
	else
		b->st.ioerr++;
	if (b->vq.ready)
		virtq_push(&b->vq, r->head, used_len);
}

static void fail(struct virtio_blk *b, struct vblk_req *r, enum vblk_err e)
{
	b->st.err[e]++;
	finish(b, r, e == VBLK_E_UNSUPP ? VIRTIO_BLK_S_UNSUPP :
		     VIRTIO_BLK_S_IOERR, 1);
}

/*
 * The status byte is the last byte of the last descriptor, which must be
 * device writable.
 */
static enum vblk_err pin_status(struct virtio_blk *b, struct vblk_req *r,
				const struct vq_chain *c)
{
	const struct vq_desc *d = &c->last;
	void *p;
	enum vblk_err e;

	if (!(d->flags & VIRTQ_DESC_F_WRITE) || !d->len)
		return VBLK_E_STATUS;
	if (d->addr > UINT64_MAX - (d->len - 1))
		return pin_error(b, -EOVERFLOW);
	r->status_gpa = d->addr + d->len - 1;
	e = pin_buf(b, r->status_gpa, 1, &p);
	if (e)
		return e;
	r->status = p;
	return VBLK_OK;
}

static enum vblk_err read_header(struct virtio_blk *b, const struct vq_chain *c,
				 struct vblk_hdr *h)
{
	const struct vq_desc *d = &c->d[0];
	const volatile struct virtio_blk_outhdr *g;
	enum vblk_err e;
	void *p;

	if (c->total < 2 || d->len < sizeof(*g))
		return VBLK_E_FRAMING;
	if (d->flags & VIRTQ_DESC_F_WRITE)
		return VBLK_E_HDR_WRITABLE;
	e = pin_buf(b, d->addr, sizeof(*g), &p);
	if (e)
		return e;
	g = p;
	h->type = g->type;
	h->sector = g->sector;
	unpin(b, d->addr, sizeof(*g));
	return VBLK_OK;
}

/* Check the data descriptors (cheap checks first), then pin them all. */
static enum vblk_err map_data(struct virtio_blk *b, struct vblk_req *r,
			      const struct vq_chain *c, bool dev_writes)
{
	uint32_t i, n = c->total - 2;
	uint64_t total = 0;
	enum vblk_err e;

	if (n > b->seg_max)
		return VBLK_E_SEGS;
	for (i = 0; i < n; i++) {
		const struct vq_desc *d = &c->d[1 + i];

		if (!d->len)
			return VBLK_E_ZERO_LEN;
		if (d->len > VBLK_SIZE_MAX)
			return VBLK_E_SEG_SIZE;
		if (!(d->flags & VIRTQ_DESC_F_WRITE) != !dev_writes)
			return VBLK_E_DIRECTION;
		total += d->len;
	}
	for (i = 0; i < n; i++) {
		const struct vq_desc *d = &c->d[1 + i];

		e = pin_buf(b, d->addr, d->len, &r->iov[i].iov_base);
		if (e) {
			unpin_segs(b, r);
			return e;
		}
		r->iov[i].iov_len = d->len;
		r->seg[i].gpa = d->addr;
		r->seg[i].len = d->len;
		r->nseg++;
	}
	b->st.pins += n;
	r->data_len = total;
	return VBLK_OK;
}

static enum vblk_err check_rw(struct virtio_blk *b, const struct vblk_req *r,
			      uint64_t sector)
{
	uint64_t cap = b->be->capacity;

	if (!r->data_len || (r->data_len & (VIRTIO_BLK_SECTOR_SIZE - 1)))
		return VBLK_E_DATA_LEN;
	if (sector > cap >> VIRTIO_BLK_SECTOR_SHIFT ||
	    r->data_len > cap - (sector << VIRTIO_BLK_SECTOR_SHIFT))
		return VBLK_E_SECTOR;
	return VBLK_OK;
}

/* GET_ID: the id string, NUL padded, into the data buffers. */
static void get_id(struct virtio_blk *b, struct vblk_req *r)
{
	uint32_t i, done = 0, n;

	for (i = 0; i < r->nseg && done < VIRTIO_BLK_ID_BYTES; i++) {
		n = VIRTIO_BLK_ID_BYTES - done;
		if (n > r->iov[i].iov_len)
			n = (uint32_t)r->iov[i].iov_len;
		memcpy(r->iov[i].iov_base, b->be->id + done, n);
		done += n;
	}
	b->st.get_ids++;
	finish(b, r, VIRTIO_BLK_S_OK, done + 1);
}

static void submit(struct virtio_blk *b, struct vblk_req *r, enum blk_op op,
		   uint64_t sector)
{
	int ret;

	r->io.op = op;
	r->io.offset = sector << VIRTIO_BLK_SECTOR_SHIFT;
	r->io.len = r->data_len;
	r->io.iov = r->iov;
	r->io.niov = r->nseg;
	b->inflight++;
	ret = b->be->ops->submit(b->be, &r->io);
	if (ret) {
		b->inflight--;
		b->st.backend_errors++;
		fail(b, r, VBLK_E_BACKEND);
	}
}

/* Parse and start the request; errors complete it at once. */
static void start_request(struct virtio_blk *b, struct vblk_req *r,
			  const struct vq_chain *c)
{
	struct vblk_hdr h;
	enum vblk_err e;
	bool dev_writes;

	e = read_header(b, c, &h);
	if (e)
		goto err;
	r->type = h.type;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		dev_writes = h.type == VIRTIO_BLK_T_IN;
		if (!dev_writes && b->be->read_only) {
			e = VBLK_E_READ_ONLY;
			goto err;
		}
		e = map_data(b, r, c, dev_writes);
		if (!e)
			e = check_rw(b, r, h.sector);
		if (e)
			goto err;
		if (dev_writes)
			b->st.reads++;
		else
			b->st.writes++;
		submit(b, r, dev_writes ? BLK_OP_READ : BLK_OP_WRITE, h.sector);
		return;
	case VIRTIO_BLK_T_FLUSH:
		if (!negotiated(b, VIRTIO_BLK_F_FLUSH)) {
			e = VBLK_E_UNSUPP;
			goto err;
		}
		if (c->total != 2) {
			e = VBLK_E_FLUSH_DATA;
			goto err;
		}
		r->data_len = 0;
		b->st.flushes++;
		submit(b, r, BLK_OP_FLUSH, 0);
		return;
	case VIRTIO_BLK_T_GET_ID:
		e = map_data(b, r, c, true);
		if (!e && !r->data_len)
			e = VBLK_E_DATA_LEN;
		if (e)
			goto err;
		get_id(b, r);
		return;
	default:
		e = VBLK_E_UNSUPP;
		goto err;
	}
err:
	fail(b, r, e);
}

static void handle_chain(struct virtio_blk *b, const struct vq_chain *c)
{
	struct vblk_req *r = &b->reqs[c->head];
	enum vblk_err e;

	if (r->busy) {
		mark_broken(b, VQ_E_IN_FLIGHT);
		return;
	}
	b->st.requests++;
	r->head = c->head;
	r->nseg = 0;
	r->data_len = 0;
	e = pin_status(b, r, c);
	if (e) {
		/* Nowhere to report: return the chain, nothing written. */
		b->st.err[e]++;
		b->st.no_status++;
		virtq_push(&b->vq, c->head, 0);
		return;
	}
	r->busy = true;
	start_request(b, r, c);
}

static void io_done(struct blk_backend *be, struct blk_io *io, long res)
{
	struct virtio_blk *b = be->complete_arg;
	struct vblk_req *r = (struct vblk_req *)((char *)io -
						 offsetof(struct vblk_req, io));
	uint32_t used = 1;

	b->inflight--;
	if (r->orphan) {
		release_orphan(b, r);
		return;
	}
	if (res < 0) {
		b->st.backend_errors++;
		fail(b, r, VBLK_E_BACKEND);
		return;
	}
	if (r->io.op == BLK_OP_READ) {
		b->st.bytes_read += r->data_len;
		used += (uint32_t)r->data_len;
	} else if (r->io.op == BLK_OP_WRITE) {
		b->st.bytes_written += r->data_len;
	}
	finish(b, r, VIRTIO_BLK_S_OK, used);
}

static void publish(struct virtio_blk *b)
{
	if (b->vq.ready && virtq_publish(&b->vq))
		virtio_mmio_signal_used(&b->mmio);
}

static int process_locked(struct virtio_blk *b)
{
	struct vq_chain c = { .d = b->chain };
	int n = 0, r = 0;

	if (b->vq.broken)
		return -EIO;
	if (!b->vq.ready || !virtio_mmio_live(&b->mmio))
		return -EAGAIN;
	/*
	 * At most one ring's worth per pass, so that a guest that keeps
	 * refilling the ring cannot hold the device lock (and its vCPUs'
	 * MMIO accesses) forever; the thread comes back for the rest.
	 */
	while (n < b->vq.size &&
	       (r = virtq_pop(&b->vq, &c, b->seg_max + 2)) > 0) {
		n++;
		handle_chain(b, &c);
		if (b->vq.broken)
			break;
	}
	if (r < 0)
		mark_broken(b, (enum vq_err)-r);
	else if (n == b->vq.size && b->running)
		eventfd_write(b->notify_fd, 1);
	if (n) {
		b->st.batches++;
		b->be->ops->kick(b->be);
		/* io_uring often completes page-cache I/O inside the submit:
		 * collect that now instead of after an eventfd wakeup. */
		if (b->be->event_fd >= 0)
			b->be->ops->reap(b->be, false);
	}
	publish(b);
	return b->vq.broken ? -EIO : n;
}

static int reap_locked(struct virtio_blk *b, bool wait)
{
	int n = 0, r;

	do {
		r = b->be->ops->reap(b->be, wait);
		if (r < 0)
			break;
		n += r;
	} while (wait && r > 0 && b->inflight);
	publish(b);
	return r < 0 && !n ? r : n;
}

int virtio_blk_process_queue(struct virtio_blk *b)
{
	int n;

	pthread_mutex_lock(&b->mmio.lock);
	n = process_locked(b);
	pthread_mutex_unlock(&b->mmio.lock);
	return n;
}

int virtio_blk_reap(struct virtio_blk *b, bool wait)
{
	int n;

	pthread_mutex_lock(&b->mmio.lock);
	n = reap_locked(b, wait);
	pthread_mutex_unlock(&b->mmio.lock);
	return n;
}

/* ---- transport hooks (lock held) ------------------------------------------ */

static int cfg_read(void *opaque, uint32_t off, void *data, unsigned int len)
{
	struct virtio_blk *b = opaque;

	if (off > sizeof(b->cfg) || len > sizeof(b->cfg) - off)
		return -ERANGE;		/* reads as zeros */
	memcpy(data, (const char *)&b->cfg + off, len);
	return 0;
}

static bool features_ok(void *opaque, uint64_t features)
{
	(void)opaque;
	(void)features;
	return true;		/* any subset of what we offer works */
}

static void queue_ready(void *opaque, unsigned int qi)
{
	(void)opaque;
	(void)qi;
}

/*
 * Finish every in-flight request before the rings go away.  A backend whose
 * waits keep failing leaves requests in flight: those become orphans (see
 * the top of this file) and the queue stop reports that it did not drain.
 */
static bool queue_stop(void *opaque, unsigned int qi)
{
	struct virtio_blk *b = opaque;
	unsigned int tries = 0, i;

	(void)qi;
	while (b->inflight > b->orphans && tries < VBLK_DRAIN_TRIES)
		if (b->be->ops->reap(b->be, true) <= 0)
			tries++;
	publish(b);
	if (b->inflight == b->orphans)
		return true;
	for (i = 0; i < b->num_max; i++) {
		struct vblk_req *r = &b->reqs[i];

		if (r->busy && !r->orphan) {
			r->orphan = true;
			b->orphans++;
			b->st.orphaned++;
		}
	}
	return false;
}

/* No request of an earlier queue life is still with the backend (collects
 * what has finished meanwhile first). */
static bool idle(void *opaque)
{
	struct virtio_blk *b = opaque;

	if (b->orphans)
		b->be->ops->reap(b->be, false);
	return !b->orphans;
}

static void notify(void *opaque, unsigned int qi)
{
	struct virtio_blk *b = opaque;

	(void)qi;
	if (b->running) {
		eventfd_write(b->notify_fd, 1);
		return;
	}
	b->st.notifies++;
	process_locked(b);
}

static const struct virtio_mmio_ops blk_mmio_ops = {
	.config_read = cfg_read,
	.features_ok = features_ok,
	.queue_ready = queue_ready,
	.queue_stop = queue_stop,
	.idle = idle,
	.notify = notify,
};

/* ---- device thread ---------------------------------------------------------- */

static void drain_fd(int fd)
{
	eventfd_t v;

	eventfd_read(fd, &v);
}

/* One busy-poll step: completions, then new requests.  True if it found
 * work. */
static bool poll_step(struct virtio_blk *b)
{
	bool work = false;

	pthread_mutex_lock(&b->mmio.lock);
	if (b->vq.ready && !b->vq.broken && virtio_mmio_live(&b->mmio)) {
		if (b->inflight && b->be->event_fd >= 0)
			work = reap_locked(b, false) > 0;
		if (virtq_avail_pending(&b->vq)) {
			b->st.polled++;
			process_locked(b);
			work = true;
		}
	}
	pthread_mutex_unlock(&b->mmio.lock);
	return work;
}

static void set_notify(struct virtio_blk *b, bool enable)
{
	pthread_mutex_lock(&b->mmio.lock);
	if (b->vq.ready)
		virtq_set_notify(&b->vq, enable);
	pthread_mutex_unlock(&b->mmio.lock);
}

/*
 * Keep polling until poll_ns pass without work, notifications off
 * meanwhile; then turn them back on and look once more, since the driver
 * may have published while it saw them off.
 */
static void busy_poll(struct virtio_blk *b)
{
	uint64_t end = gmem_now_ns() + b->poll_ns;

	set_notify(b, false);
	while (!atomic_load_explicit(&b->stopping, memory_order_relaxed)) {
		if (poll_step(b))
			end = gmem_now_ns() + b->poll_ns;
		else if (gmem_now_ns() >= end)
			break;
		else
			__builtin_ia32_pause();
	}
	set_notify(b, true);
	while (poll_step(b))
		;
}

static void *device_thread(void *arg)
{
	struct virtio_blk *b = arg;
	struct pollfd p[3] = {
		{ .fd = b->stop_fd, .events = POLLIN },
		{ .fd = b->notify_fd, .events = POLLIN },
		{ .fd = b->be->event_fd, .events = POLLIN },
	};
	nfds_t n = b->be->event_fd >= 0 ? 3 : 2;
	int found;

	for (;;) {
		if (poll(p, n, -1) < 0)
			continue;	/* EINTR */
		if (p[0].revents)
			break;
		found = 0;
		if (p[1].revents & POLLIN) {
			drain_fd(b->notify_fd);
			pthread_mutex_lock(&b->mmio.lock);
			b->st.notifies++;
			found = process_locked(b);
			pthread_mutex_unlock(&b->mmio.lock);
		}
		if (n == 3 && (p[2].revents & POLLIN)) {
			drain_fd(b->be->event_fd);
			virtio_blk_reap(b, false);
		}
		if (found > 0 && b->poll_ns)
			busy_poll(b);
	}
	return NULL;
}

int virtio_blk_start(struct virtio_blk *b)
{
	int ret;

	if (b->running)
		return -EALREADY;
	b->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->stop_fd < 0)
		return -errno;
	atomic_store(&b->stopping, false);
	pthread_mutex_lock(&b->mmio.lock);
	b->running = true;
	pthread_mutex_unlock(&b->mmio.lock);
	ret = pthread_create(&b->thread, NULL, device_thread, b);
	if (ret) {
		pthread_mutex_lock(&b->mmio.lock);
		b->running = false;
		pthread_mutex_unlock(&b->mmio.lock);
		close(b->stop_fd);
		b->stop_fd = -1;
		return -ret;
	}
	return 0;
}

void virtio_blk_stop(struct virtio_blk *b)
{
	if (!b->running)
		return;
	atomic_store(&b->stopping, true);
	eventfd_write(b->stop_fd, 1);
	pthread_join(b->thread, NULL);
	pthread_mutex_lock(&b->mmio.lock);
	b->running = false;
	pthread_mutex_unlock(&b->mmio.lock);
	close(b->stop_fd);
	b->stop_fd = -1;
}

/* ---- creation ------------------------------------------------------------- */

static void fill_config(struct virtio_blk *b)
{
	struct virtio_blk_config *c = &b->cfg;

	memset(c, 0, sizeof(*c));
	c->capacity = b->be->capacity >> VIRTIO_BLK_SECTOR_SHIFT;
	c->size_max = VBLK_SIZE_MAX;
	c->seg_max = b->seg_max;
	c->blk_size = b->be->direct ? 4096 : VIRTIO_BLK_SECTOR_SIZE;
	c->num_queues = 1;
}

static uint64_t offered_features(const struct virtio_blk *b)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		     VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |
		     VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |
		     VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		     VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);

	if (b->be->read_only)
		f |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	return f;
}

static int alloc_reqs(struct virtio_blk *b)
{
	size_t nseg = (size_t)b->num_max * b->seg_max;
	unsigned int i;

	b->reqs = calloc(b->num_max, sizeof(*b->reqs));
	b->segs = calloc(nseg, sizeof(*b->segs));
	b->iovs = calloc(nseg, sizeof(*b->iovs));
	b->chain = calloc(b->seg_max + 2, sizeof(*b->chain));
	if (!b->reqs || !b->segs || !b->iovs || !b->chain)
		return -ENOMEM;
	for (i = 0; i < b->num_max; i++) {
		b->reqs[i].seg = b->segs + (size_t)i * b->seg_max;
		b->reqs[i].iov = b->iovs + (size_t)i * b->seg_max;
	}
	return 0;
}

static void free_reqs(struct virtio_blk *b)
{
	free(b->reqs);
	free(b->segs);
	free(b->iovs);
	free(b->chain);
}

int virtio_blk_create(const struct virtio_blk_params *p,
		      struct virtio_blk **out)
{
	struct virtio_blk *b;
	unsigned int qmax, smax;
	int ret;

	if (!p || !out || !p->mem || !p->backend || !p->backend->capacity)
		return -EINVAL;
	qmax = p->queue_num_max ? p->queue_num_max : VBLK_NUM_MAX_DEFAULT;
	smax = p->seg_max ? p->seg_max : VBLK_SEG_MAX_DEFAULT;
	if ((qmax & (qmax - 1)) || qmax > VBLK_NUM_MAX_LIMIT ||
	    smax > VBLK_SEG_MAX_LIMIT || p->poll_us > 1000000)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->mem = p->mem;
	b->be = p->backend;
	b->num_max = qmax;
	b->seg_max = smax;
	b->poll_ns = (uint64_t)p->poll_us * 1000;
	b->stop_fd = -1;
	ret = alloc_reqs(b);
	if (ret)
		goto err_free;
	b->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->notify_fd < 0) {
		ret = -errno;
		goto err_free;
	}
	fill_config(b);
	ret = virtio_mmio_init(&b->mmio, &blk_mmio_ops, b, b->mem,
			       VIRTIO_ID_BLOCK, offered_features(b), &b->vq, 1,
			       qmax);
	if (ret)
		goto err_fd;
	b->be->complete = io_done;
	b->be->complete_arg = b;
	*out = b;
	return 0;

err_fd:
	close(b->notify_fd);
err_free:
	free_reqs(b);
	free(b);
	return ret;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	unsigned int i;

	if (!b)
		return;
	virtio_blk_stop(b);
	virtio_mmio_exit(&b->mmio);
	blk_backend_destroy(b->be);
	/* The backend is gone and with it every I/O it held. */
	for (i = 0; b->orphans && i < b->num_max; i++)
		if (b->reqs[i].busy && b->reqs[i].orphan)
			release_orphan(b, &b->reqs[i]);
	close(b->notify_fd);
	free_reqs(b);
	free(b);
}

struct virtio_mmio_dev *virtio_blk_mmio(struct virtio_blk *b)
{
	return &b->mmio;
}

int virtio_blk_notify_fd(struct virtio_blk *b)
{
	return b->notify_fd;
}

uint32_t virtio_blk_status(struct virtio_blk *b)
{
	uint32_t s;

	pthread_mutex_lock(&b->mmio.lock);
	s = b->mmio.status;
	pthread_mutex_unlock(&b->mmio.lock);
	return s;
}

void virtio_blk_get_stats(struct virtio_blk *b, struct virtio_blk_stats *st)
{
	pthread_mutex_lock(&b->mmio.lock);
	*st = b->st;
	st->bad_config = b->mmio.bad_config;
	st->bad_access = b->mmio.bad_access;
	st->inflight = b->inflight;
	st->orphans = b->orphans;
	st->unpin_bugs += b->mmio.unpin_bugs;
	pthread_mutex_unlock(&b->mmio.lock);
}
