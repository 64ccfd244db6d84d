// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk device (virtio 1.2, 5.2) on the virtio-mmio transport.
 *
 * This file: the device's life (creation, reset hooks, processing passes,
 * the device thread).  One request, from parsing to its used entry, is in
 * vmm/virtio_blk_req.c.
 *
 * Reset with I/O in flight: the device waits for the backend (a few tries);
 * what the backend still holds after that is orphaned.  An orphaned request
 * keeps its pins until the backend lets go of it (the kernel may still be
 * writing into those pages), and then only drops them: no status byte, no
 * used entry, since after a reset the device must not touch the driver's
 * buffers or rings (virtio 1.2, 2.4).  While orphans remain, the device
 * reads DEVICE_NEEDS_RESET and refuses to go live again.
 *
 * Locking.  Two mutexes, in struct virtio_mmio_dev, taken in this order
 * only (a thread holding reg_lock never waits for proc_lock):
 *
 *   1. mmio.proc_lock, the processing lock: the queue's live state (ring
 *      pointers and indices, used->flags), reqs[], inflight, orphans,
 *      features (the copy), st, and every backend call, so also every
 *      completion callback.  Held by a processing pass (ring walk, parsing,
 *      pinning, submit, kick, the inline reap), by a reap, by the drain of
 *      a reset.  This is the lock that waits for I/O.
 *   2. mmio.reg_lock, the register lock: the virtio-mmio register file
 *      (status, features, selectors, queue configuration, the transport's
 *      counters).  Held for one register access, or briefly inside
 *      proc_lock: a pass checks that the device is live (and copies the
 *      driver features), a broken ring sets DEVICE_NEEDS_RESET, stats read
 *      the transport's counters.  Never held across I/O or a backend call.
 *
 *   vq.ready and the rings change only with both held (QueueReady, reset),
 *   so either lock reads them.  InterruptStatus is an atomic: completions
 *   set VRING under proc_lock only, InterruptACK clears under reg_lock.
 *   running and stopping are atomics.
 *
 * So a register access from a vCPU never waits for I/O:
 *   - a read, and any write but the three below: reg_lock only;
 *   - QueueNotify: checked under reg_lock, then notify() runs after
 *     reg_lock is dropped: it signals the device thread's eventfd, or,
 *     without a thread, the notifying caller processes under proc_lock;
 *   - Status 0 (reset) and QueueReady 0/1 begin or end a queue life: the
 *     transport takes proc_lock first and so waits for a pass in progress;
 *     the drain (queue_stop(), which reaps) runs under proc_lock alone and
 *     reg_lock is taken only for the final register update, so other vCPUs
 *     read the registers meanwhile (Status keeps its old value until the
 *     reset is complete; a driver waits for it to read 0).
 *   A pass takes its live check at the start: a status change meanwhile
 *   (FAILED, say) orders after the pass, as if written just after it; a
 *   reset cannot come in between (it needs proc_lock).
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gmemkit/gmem.h"
#include "gmemkit/timing.h"
#include "virtio_blk_internal.h"

static void publish(struct vblk *b)
{
	if (b->vq.ready && virtq_publish(&b->vq))
		virtio_mmio_signal_used(&b->mmio);
}

/*
 * proc_lock held.  Is the device live (DRIVER_OK, no reset asked for)?  The
 * driver features are final then: copy them for the pass.
 */
static bool live_locked(struct vblk *b)
{
	bool live;

	pthread_mutex_lock(&b->mmio.reg_lock);
	live = virtio_mmio_live(&b->mmio);
	b->features = b->mmio.driver_features;
	pthread_mutex_unlock(&b->mmio.reg_lock);
	return live;
}

static int process_locked(struct vblk *b)
{
	struct vq_chain c = { .d = b->chain };
	int n = 0, r = 0;

	if (b->vq.broken)
		return -EIO;
	if (!b->vq.ready || !live_locked(b))
		return -EAGAIN;
	/*
	 * At most one ring's worth per pass, so that a guest that keeps
	 * refilling the ring cannot hold the processing lock (and a reset
	 * waiting for it) forever; the thread comes back for the rest.
	 */
	while (n < b->vq.size &&
	       (r = virtq_pop(&b->vq, &c, b->seg_max + 2)) > 0) {
		n++;
		vblk_handle_chain(b, &c);
		if (b->vq.broken)
			break;
	}
	if (r < 0)
		vblk_mark_broken(b, (enum vq_err)-r);
	else if (n == b->vq.size && atomic_load(&b->running))
		eventfd_write(b->notify_fd, 1);
	if (n) {
		uint64_t t0;

		b->st.batches++;
		t0 = vblk_be_enter(b);
		b->be->ops->kick(b->be);
		/* io_uring often completes page-cache I/O inside the submit:
		 * collect that now instead of after an eventfd wakeup. */
		if (b->be->event_fd >= 0)
			b->be->ops->reap(b->be, false);
		vblk_be_leave(b, t0);
	}
	vblk_pass_close(b);
	publish(b);
	return b->vq.broken ? -EIO : n;
}

static int reap_locked(struct vblk *b, bool wait)
{
	uint64_t t0 = 0;
	int n = 0, r;

	/* A waiting reap waits for the backend: idle time, not the device's
	 * work, so only a non-waiting one is accounted. */
	if (!wait)
		t0 = vblk_be_enter(b);
	do {
		r = b->be->ops->reap(b->be, wait);
		if (r < 0)
			break;
		n += r;
	} while (wait && r > 0 && b->inflight);
	if (!wait)
		vblk_be_leave(b, t0);
	vblk_pass_close(b);
	publish(b);
	return r < 0 && !n ? r : n;
}

int vblk_process_queue(struct vblk *b)
{
	int n;

	pthread_mutex_lock(&b->mmio.proc_lock);
	n = process_locked(b);
	pthread_mutex_unlock(&b->mmio.proc_lock);
	return n;
}

int vblk_reap(struct vblk *b, bool wait)
{
	int n;

	pthread_mutex_lock(&b->mmio.proc_lock);
	n = reap_locked(b, wait);
	pthread_mutex_unlock(&b->mmio.proc_lock);
	return n;
}

/* ---- device-side cost ------------------------------------------------------ */

uint64_t vblk_thread_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

__thread uint64_t vblk_tl_faults;
__thread bool vblk_tl_have;

/*
 * The pass's backend time, and the faults the thread took since the
 * device's count on it last stopped (its previous pass that did I/O: on
 * the device thread nothing between passes touches memory that could
 * fault but the device's own parsing of the rings), go to reads and
 * writes in proportion to the reads and writes the pass handled (a pass
 * of one kind, the usual case, gives it all to that kind).  A pass that
 * handled neither (flushes, an empty reap) is not an I/O's cost: its time
 * is dropped and its faults, if any, roll into the next pass that does
 * I/O.  One getrusage() per pass that did I/O, not per request.
 */
void vblk_pass_close(struct vblk *b)
{
	uint64_t nr = b->pass_ios[BLK_OP_READ], nw = b->pass_ios[BLK_OP_WRITE];

	if (b->pass_open && nr + nw) {
		uint64_t now = vblk_thread_faults();
		uint64_t f = now - b->pass_faults;
		uint64_t fr = nw ? (uint64_t)((double)f * nr / (nr + nw)) : f;
		uint64_t tr = nw ? (uint64_t)((double)b->pass_ns * nr / (nr + nw)) :
			      b->pass_ns;

		b->st.dev_faults[BLK_OP_READ] += fr;
		b->st.dev_faults[BLK_OP_WRITE] += f - fr;
		b->st.dev_ns[BLK_OP_READ] += tr;
		b->st.dev_ns[BLK_OP_WRITE] += b->pass_ns - tr;
		vblk_tl_faults = now;
	}
	b->pass_open = false;
	b->pass_ns = 0;
	b->pass_ios[BLK_OP_READ] = 0;
	b->pass_ios[BLK_OP_WRITE] = 0;
}

/* ---- transport hooks (locks: each hook in virtio_mmio_internal.h) --------- */

/* reg_lock; cfg never changes after creation. */
static int cfg_read(void *opaque, uint32_t off, void *data, unsigned int len)
{
	struct vblk *b = opaque;

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
 * proc_lock only: the drain of a reset or QueueReady 0, while the registers
 * stay accessible.  Finish every in-flight request before the rings go away.  A backend whose
 * waits keep failing leaves requests in flight: those become orphans (see
 * the top of this file) and the queue stop reports that it did not drain.
 */
static bool queue_stop(void *opaque, unsigned int qi)
{
	struct vblk *b = opaque;
	unsigned int tries = 0, i;

	(void)qi;
	while (b->inflight > b->orphans && tries < VBLK_DRAIN_TRIES)
		if (b->be->ops->reap(b->be, true) <= 0)
			tries++;
	vblk_pass_close(b);	/* a drain is waiting, not accounted */
	publish(b);
	if (b->inflight == b->orphans)
		return true;
	for (i = 0; i < b->num_max; i++) {
		struct gblk_req *r = &b->reqs[i];

		if (r->busy && !r->orphan) {
			r->orphan = true;
			b->orphans++;
			b->st.orphaned++;
		}
	}
	return false;
}

/* proc_lock only.  No request of an earlier queue life is still with the
 * backend (collects what has finished meanwhile first). */
static bool idle(void *opaque)
{
	struct vblk *b = opaque;

	if (b->orphans)
		b->be->ops->reap(b->be, false);
	return !b->orphans;
}

/* No lock held: hand the work to the thread, or do it here under
 * proc_lock (process_locked() checks again that the queue is live). */
static void notify(void *opaque, unsigned int qi)
{
	struct vblk *b = opaque;

	(void)qi;
	if (atomic_load(&b->running)) {
		eventfd_write(b->notify_fd, 1);
		return;
	}
	pthread_mutex_lock(&b->mmio.proc_lock);
	b->st.notifies++;
	process_locked(b);
	pthread_mutex_unlock(&b->mmio.proc_lock);
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
static bool poll_step(struct vblk *b)
{
	bool work = false;

	pthread_mutex_lock(&b->mmio.proc_lock);
	if (b->vq.ready && !b->vq.broken && live_locked(b)) {
		if (b->inflight && b->be->event_fd >= 0)
			work = reap_locked(b, false) > 0;
		if (virtq_avail_pending(&b->vq)) {
			b->st.polled++;
			process_locked(b);
			work = true;
		}
	}
	pthread_mutex_unlock(&b->mmio.proc_lock);
	return work;
}

static void set_notify(struct vblk *b, bool enable)
{
	pthread_mutex_lock(&b->mmio.proc_lock);
	if (b->vq.ready)
		virtq_set_notify(&b->vq, enable);
	pthread_mutex_unlock(&b->mmio.proc_lock);
}

/*
 * Keep polling until poll_ns pass without work, notifications off
 * meanwhile; then turn them back on and look once more, since the driver
 * may have published while it saw them off.
 */
static void busy_poll(struct vblk *b)
{
	uint64_t end = timing_now_ns() + b->poll_ns;

	set_notify(b, false);
	while (!atomic_load_explicit(&b->stopping, memory_order_relaxed)) {
		if (poll_step(b))
			end = timing_now_ns() + b->poll_ns;
		else if (timing_now_ns() >= end)
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
	struct vblk *b = arg;
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
			pthread_mutex_lock(&b->mmio.proc_lock);
			b->st.notifies++;
			found = process_locked(b);
			pthread_mutex_unlock(&b->mmio.proc_lock);
		}
		if (n == 3 && (p[2].revents & POLLIN)) {
			drain_fd(b->be->event_fd);
			vblk_reap(b, false);
		}
		if (found > 0 && b->poll_ns)
			busy_poll(b);
	}
	return NULL;
}

int vblk_start(struct vblk *b)
{
	int ret;

	if (atomic_load(&b->running))
		return -EALREADY;
	b->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->stop_fd < 0)
		return -errno;
	atomic_store(&b->stopping, false);
	atomic_store(&b->running, true);
	ret = pthread_create(&b->thread, NULL, device_thread, b);
	if (ret) {
		atomic_store(&b->running, false);
		close(b->stop_fd);
		b->stop_fd = -1;
		return -ret;
	}
	return 0;
}

void vblk_stop(struct vblk *b)
{
	if (!atomic_load(&b->running))
		return;
	atomic_store(&b->stopping, true);
	eventfd_write(b->stop_fd, 1);
	pthread_join(b->thread, NULL);
	atomic_store(&b->running, false);
	close(b->stop_fd);
	b->stop_fd = -1;
}

/* ---- creation ------------------------------------------------------------- */

static void fill_config(struct vblk *b)
{
	struct virtio_blk_config *c = &b->cfg;

	memset(c, 0, sizeof(*c));
	c->capacity = b->be->capacity >> VIRTIO_BLK_SECTOR_SHIFT;
	c->size_max = VBLK_SIZE_MAX;
	c->seg_max = b->seg_max;
	c->blk_size = b->be->direct ? 4096 : VIRTIO_BLK_SECTOR_SIZE;
	c->num_queues = 1;
}

static uint64_t offered_features(const struct vblk *b)
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

static int alloc_reqs(struct vblk *b)
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

static void free_reqs(struct vblk *b)
{
	free(b->reqs);
	free(b->segs);
	free(b->iovs);
	free(b->chain);
}

int vblk_create(const struct vblk_params *p,
		      struct vblk **out)
{
	struct vblk *b;
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
	b->be->complete = vblk_io_done;
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

void vblk_destroy(struct vblk *b)
{
	unsigned int i;

	if (!b)
		return;
	vblk_stop(b);
	virtio_mmio_exit(&b->mmio);
	blk_backend_destroy(b->be);
	/* The backend is gone and with it every I/O it held. */
	for (i = 0; b->orphans && i < b->num_max; i++)
		if (b->reqs[i].busy && b->reqs[i].orphan)
			vblk_release_orphan(b, &b->reqs[i]);
	close(b->notify_fd);
	free_reqs(b);
	free(b);
}

struct virtio_mmio_dev *vblk_mmio(struct vblk *b)
{
	return &b->mmio;
}

int vblk_notify_fd(struct vblk *b)
{
	return b->notify_fd;
}

uint32_t vblk_status(struct vblk *b)
{
	uint32_t s;

	pthread_mutex_lock(&b->mmio.reg_lock);
	s = b->mmio.status;
	pthread_mutex_unlock(&b->mmio.reg_lock);
	return s;
}

void vblk_get_stats(struct vblk *b, struct vblk_stats *st)
{
	pthread_mutex_lock(&b->mmio.proc_lock);
	*st = b->st;
	st->inflight = b->inflight;
	st->orphans = b->orphans;
	st->dev_copy_bytes[BLK_OP_READ] = b->be->copy_bytes[BLK_OP_READ];
	st->dev_copy_bytes[BLK_OP_WRITE] = b->be->copy_bytes[BLK_OP_WRITE];
	pthread_mutex_lock(&b->mmio.reg_lock);
	st->bad_config = b->mmio.bad_config;
	st->bad_access = b->mmio.bad_access;
	st->unpin_bugs += b->mmio.unpin_bugs;
	pthread_mutex_unlock(&b->mmio.reg_lock);
	pthread_mutex_unlock(&b->mmio.proc_lock);
}
