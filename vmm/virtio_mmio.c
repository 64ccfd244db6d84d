// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio version 2 transport (virtio 1.2, 4.2.2): the register file a
 * guest drives through MMIO exits.  Nothing here trusts a guest value: the
 * status machine only moves forward in the order the spec gives, features
 * must be a subset of the offered ones, queue registers are frozen while the
 * queue is ready, QueueReady = 1 validates and pins the rings.  Whatever is
 * refused is counted (bad_config, bad_access) and changes nothing.
 *
 * Locking (virtio_mmio_internal.h): an access takes reg_lock only, except
 * the writes that begin or end a queue life, Status 0 and QueueReady, which
 * take proc_lock first (lifecycle_write()).  Those wait for a processing pass in
 * progress and for the drain; the drain runs under proc_lock alone, so the
 * other registers stay readable meanwhile: Status reads its old value until
 * the reset is complete (a driver waits for it to read 0, virtio 1.2,
 * 2.4).  QueueNotify is checked under reg_lock and handed to the device
 * after reg_lock is dropped.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "gmemkit/gmem.h"
#include "virtio_mmio_internal.h"

#define REQUIRED_FEATURES	VIRTIO_BIT(VIRTIO_F_VERSION_1)

int virtio_mmio_init(struct virtio_mmio_dev *d, const struct virtio_mmio_ops *ops,
		     void *opaque, struct gmem *mem, uint32_t device_id,
		     uint64_t features, struct virtq *vqs, unsigned int nvqs,
		     unsigned int num_max)
{
	unsigned int i;
	int ret;

	memset(d, 0, sizeof(*d));
	ret = pthread_mutex_init(&d->reg_lock, NULL);
	if (ret)
		return -ret;
	ret = pthread_mutex_init(&d->proc_lock, NULL);
	if (ret) {
		pthread_mutex_destroy(&d->reg_lock);
		return -ret;
	}
	d->ops = ops;
	d->opaque = opaque;
	d->mem = mem;
	d->device_id = device_id;
	d->device_features = features | REQUIRED_FEATURES;
	d->vqs = vqs;
	d->nvqs = nvqs;
	atomic_init(&d->interrupt_status, 0);
	d->irq_fd = -1;
	for (i = 0; i < nvqs; i++) {
		memset(&vqs[i], 0, sizeof(vqs[i]));
		vqs[i].num_max = num_max;
		vqs[i].num = num_max;
	}
	return 0;
}

/*
 * Finish the requests of queue qi if it is ready (proc_lock held, reg_lock
 * not: this waits for I/O).  False if the device could not finish them all.
 */
static bool queue_drain(struct virtio_mmio_dev *d, unsigned int qi)
{
	return !d->vqs[qi].ready || d->ops->queue_stop(d->opaque, qi);
}

/* Both locks held: the rings go away. */
static void queue_disable(struct virtio_mmio_dev *d, struct virtq *vq)
{
	d->unpin_bugs += (uint64_t)virtq_disable(vq);
}

/* proc_lock held; reg_lock taken for the register update only. */
static void device_reset(struct virtio_mmio_dev *d)
{
	unsigned int i;
	bool idle;

	for (i = 0; i < d->nvqs; i++)
		queue_drain(d, i);
	/* Whatever the drain left in flight is orphaned by now. */
	idle = d->ops->idle(d->opaque);

	pthread_mutex_lock(&d->reg_lock);
	for (i = 0; i < d->nvqs; i++) {
		struct virtq *vq = &d->vqs[i];

		queue_disable(d, vq);
		vq->num = vq->num_max;
		vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
		vq->broken = false;
	}
	d->driver_features = 0;
	d->device_features_sel = 0;
	d->driver_features_sel = 0;
	d->queue_sel = 0;
	d->shm_sel = 0;
	d->status = 0;
	atomic_store(&d->interrupt_status, 0);
	/* A drain that could not finish: the reset is not complete (status
	 * does not read 0) until the device is idle and reset again. */
	if (!idle)
		virtio_mmio_needs_reset(d);
	pthread_mutex_unlock(&d->reg_lock);
}

void virtio_mmio_exit(struct virtio_mmio_dev *d)
{
	pthread_mutex_lock(&d->proc_lock);
	device_reset(d);
	pthread_mutex_unlock(&d->proc_lock);
	pthread_mutex_destroy(&d->proc_lock);
	pthread_mutex_destroy(&d->reg_lock);
}

void virtio_mmio_needs_reset(struct virtio_mmio_dev *d)
{
	d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	virtio_mmio_interrupt(d, VIRTIO_MMIO_INT_CONFIG);
}

/*
 * An edge per new bit: the driver acknowledges (InterruptACK) before it
 * looks at the rings, so a bit already set is one it has yet to see.
 */
void virtio_mmio_interrupt(struct virtio_mmio_dev *d, uint32_t bits)
{
	uint32_t old = atomic_fetch_or(&d->interrupt_status, bits);
	uint64_t one = 1;

	if (d->irq_fd < 0 || !(bits & ~old))
		return;
	atomic_fetch_add_explicit(&d->irqs, 1, memory_order_relaxed);
	/* An eventfd write fails only on counter overflow: the interrupt is
	 * pending anyway then. */
	if (write(d->irq_fd, &one, sizeof(one)) < 0)
		return;
}

int virtio_mmio_set_irqfd(struct virtio_mmio_dev *d, int fd)
{
	if (!d || fd < -1)
		return -EINVAL;
	d->irq_fd = fd;
	return 0;
}

uint64_t virtio_mmio_irqs(struct virtio_mmio_dev *d)
{
	return d ? atomic_load(&d->irqs) : 0;
}

static struct virtq *sel_queue(struct virtio_mmio_dev *d)
{
	return d->queue_sel < d->nvqs ? &d->vqs[d->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_mmio_dev *d, uint32_t off)
{
	struct virtq *vq = sel_queue(d);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_2;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return GMEM_VIRTIO_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->device_features_sel > 1)
			return 0;
		return (uint32_t)(d->device_features >>
				  (32 * d->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? vq->num_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return atomic_load(&d->interrupt_status);
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffffU;	/* no shared memory regions */
	case VIRTIO_MMIO_QUEUE_RESET:
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return 0;		/* config never changes */
	default:			/* write-only or unknown */
		d->bad_access++;
		return 0;
	}
}

static void write_driver_features(struct virtio_mmio_dev *d, uint32_t v)
{
	uint32_t st = d->status;
	unsigned int shift;

	if (!(st & VIRTIO_STATUS_DRIVER) || (st & VIRTIO_STATUS_FEATURES_OK) ||
	    d->driver_features_sel > 1) {
		d->bad_config++;
		return;
	}
	shift = 32 * d->driver_features_sel;
	d->driver_features &= ~(0xffffffffULL << shift);
	d->driver_features |= (uint64_t)v << shift;
}

static bool features_acceptable(struct virtio_mmio_dev *d)
{
	uint64_t f = d->driver_features;

	if (f & ~d->device_features)
		return false;
	if ((f & REQUIRED_FEATURES) != REQUIRED_FEATURES)
		return false;
	return d->ops->features_ok(d->opaque, f);
}

/*
 * The driver may only add bits, in order: ACKNOWLEDGE, DRIVER,
 * FEATURES_OK (if the features are acceptable), DRIVER_OK.  FAILED may be
 * set at any time.  NEEDS_RESET belongs to the device.  0 (reset) goes to
 * lifecycle_write().
 */
static void write_status(struct virtio_mmio_dev *d, uint32_t v)
{
	uint32_t old = d->status, add;
	const uint32_t known = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK |
			       VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED;

	v &= ~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if ((old & known & ~v) || (v & ~known)) {
		d->bad_config++;	/* clears a bit or sets an unknown one */
		return;
	}
	add = v & ~old;
	if (((add & VIRTIO_STATUS_DRIVER) &&
	     !(v & VIRTIO_STATUS_ACKNOWLEDGE)) ||
	    ((add & VIRTIO_STATUS_FEATURES_OK) &&
	     (!(v & VIRTIO_STATUS_DRIVER) || !features_acceptable(d))) ||
	    ((add & VIRTIO_STATUS_DRIVER_OK) &&
	     !(old & VIRTIO_STATUS_FEATURES_OK))) {
		/* Refuse the whole write; FEATURES_OK reads back clear. */
		d->bad_config++;
		return;
	}
	d->status = old | add;
}

/* Both locks held. */
static void enable_queue(struct virtio_mmio_dev *d, struct virtq *vq,
			 unsigned int qi)
{
	if (vq->ready)
		return;
	if ((d->status & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED |
			  VIRTIO_STATUS_DEVICE_NEEDS_RESET)) !=
	    VIRTIO_STATUS_FEATURES_OK) {
		d->bad_config++;
		return;
	}
	if (virtq_enable(vq, d->mem)) {
		/* Rings outside RAM, private, misaligned, bad size. */
		d->bad_config++;
		virtio_mmio_needs_reset(d);
		return;
	}
	d->ops->queue_ready(d->opaque, qi);
}

/* proc_lock held; takes reg_lock, but not across the drain. */
static void write_queue_ready(struct virtio_mmio_dev *d, uint32_t v)
{
	struct virtq *vq;
	unsigned int qi;
	bool drained;

	pthread_mutex_lock(&d->reg_lock);
	qi = d->queue_sel;
	vq = sel_queue(d);
	if (!vq) {
		d->bad_config++;
	} else if (v) {
		enable_queue(d, vq, qi);
	} else if (vq->ready) {
		pthread_mutex_unlock(&d->reg_lock);
		drained = queue_drain(d, qi);
		pthread_mutex_lock(&d->reg_lock);
		queue_disable(d, vq);
		if (!drained)
			virtio_mmio_needs_reset(d);
	}
	pthread_mutex_unlock(&d->reg_lock);
}

/* Status 0 or QueueReady: the processing lock first
 * (virtio_mmio_internal.h). */
static bool is_lifecycle(uint64_t offset, uint32_t v)
{
	return offset == VIRTIO_MMIO_QUEUE_READY ||
	       (offset == VIRTIO_MMIO_STATUS && !v);
}

static void lifecycle_write(struct virtio_mmio_dev *d, uint64_t offset,
			    uint32_t v)
{
	pthread_mutex_lock(&d->proc_lock);
	if (offset == VIRTIO_MMIO_STATUS)
		device_reset(d);
	else
		write_queue_ready(d, v);
	pthread_mutex_unlock(&d->proc_lock);
}

/* Queue configuration registers: only while the queue is not ready. */
static void write_queue_cfg(struct virtio_mmio_dev *d, struct virtq *vq,
			    uint32_t off, uint32_t v)
{
	uint64_t *gpa;

	if (!vq || vq->ready) {
		d->bad_config++;
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->num = v;
		return;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		gpa = &vq->desc_gpa;
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		gpa = &vq->avail_gpa;
		break;
	default:
		gpa = &vq->used_gpa;
		break;
	}
	if (off & 4)
		*gpa = (*gpa & 0xffffffffULL) | ((uint64_t)v << 32);
	else
		*gpa = (*gpa & ~0xffffffffULL) | v;
}

/* reg_lock held.  Returns the queue to notify (once reg_lock is dropped),
 * or -1. */
static int reg_write(struct virtio_mmio_dev *d, uint32_t off, uint32_t v)
{
	struct virtq *vq = sel_queue(d);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = v;
		return -1;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		write_driver_features(d, v);
		return -1;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = v;
		return -1;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		return -1;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		write_queue_cfg(d, vq, off, v);
		return -1;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v < d->nvqs && d->vqs[v].ready && virtio_mmio_live(d))
			return (int)v;
		d->bad_config++;
		return -1;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		atomic_fetch_and(&d->interrupt_status, ~v);
		return -1;
	case VIRTIO_MMIO_STATUS:
		write_status(d, v);
		return -1;
	case VIRTIO_MMIO_SHM_SEL:
		d->shm_sel = v;
		return -1;
	default:	/* read-only, QueueReset, unknown (QueueReady and
			 * Status 0 went to lifecycle_write()) */
		d->bad_access++;
		return -1;
	}
}

int virtio_mmio_access(struct virtio_mmio_dev *d, uint64_t offset, void *data,
		       unsigned int len, bool is_write)
{
	bool refused = false;
	int notify = -1;
	uint32_t v = 0;

	if (!d || !data || !len || len > 8)
		return -EINVAL;
	if (offset >= GMEM_VIRTIO_MMIO_SIZE)
		return -ERANGE;
	if (!is_write)
		memset(data, 0, len);
	else if (len == 4)
		memcpy(&v, data, 4);
	if (is_write && len == 4 && is_lifecycle(offset, v)) {
		lifecycle_write(d, offset, v);
		return 0;
	}
	pthread_mutex_lock(&d->reg_lock);
	if (len > GMEM_VIRTIO_MMIO_SIZE - offset) {
		refused = true;		/* runs off the end of the window */
	} else if (offset >= VIRTIO_MMIO_CONFIG) {
		/* 1, 2, 4 or 8 bytes, naturally aligned. */
		if ((len & (len - 1)) || (offset & (len - 1)) || is_write)
			refused = true;	/* no writable config field */
		else
			d->ops->config_read(d->opaque,
					    (uint32_t)(offset -
						       VIRTIO_MMIO_CONFIG),
					    data, len);
	} else if (len != 4 || (offset & 3)) {
		refused = true;
	} else if (is_write) {
		notify = reg_write(d, (uint32_t)offset, v);
	} else {
		v = reg_read(d, (uint32_t)offset);
		memcpy(data, &v, 4);
	}
	if (refused)
		d->bad_access++;
	pthread_mutex_unlock(&d->reg_lock);
	if (notify >= 0)
		d->ops->notify(d->opaque, (unsigned int)notify);
	return 0;
}

int virtio_mmio_handler(void *opaque, uint64_t offset, void *data,
			uint32_t len, bool is_write)
{
	return virtio_mmio_access(opaque, offset, data, len, is_write);
}
