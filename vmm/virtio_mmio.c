// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio version 2 transport (virtio 1.2, 4.2.2): the register file a
 * guest drives through MMIO exits.  Nothing here trusts a guest value: the
 * status machine only moves forward in the order the spec gives, features
 * must be a subset of the offered ones, queue registers are frozen while the
 * queue is ready, QueueReady = 1 validates and pins the rings.  Whatever is
 * refused is counted (bad_config, bad_access) and changes nothing.
 */
#include <errno.h>
#include <string.h>

#include "gmemkit/gmem.h"
#include "virtio_mmio.h"

#define REQUIRED_FEATURES	VIRTIO_BIT(VIRTIO_F_VERSION_1)

int virtio_mmio_init(struct virtio_mmio_dev *d, const struct virtio_mmio_ops *ops,
		     void *opaque, struct gmem *mem, uint32_t device_id,
		     uint64_t features, struct virtq *vqs, unsigned int nvqs,
		     unsigned int num_max)
{
	unsigned int i;
	int ret;

	memset(d, 0, sizeof(*d));
	ret = pthread_mutex_init(&d->lock, NULL);
	if (ret)
		return -ret;
	d->ops = ops;
	d->opaque = opaque;
	d->mem = mem;
	d->device_id = device_id;
	d->device_features = features | REQUIRED_FEATURES;
	d->vqs = vqs;
	d->nvqs = nvqs;
	atomic_init(&d->interrupt_status, 0);
	for (i = 0; i < nvqs; i++) {
		memset(&vqs[i], 0, sizeof(vqs[i]));
		vqs[i].num_max = num_max;
		vqs[i].num = num_max;
	}
	return 0;
}

/* Stop queue qi; false if the device could not finish its requests. */
static bool queue_stop(struct virtio_mmio_dev *d, unsigned int qi)
{
	struct virtq *vq = &d->vqs[qi];
	bool drained;

	if (!vq->ready)
		return true;
	drained = d->ops->queue_stop(d->opaque, qi);
	d->unpin_bugs += (uint64_t)virtq_disable(vq);
	return drained;
}

static void device_reset(struct virtio_mmio_dev *d)
{
	unsigned int i;

	for (i = 0; i < d->nvqs; i++) {
		struct virtq *vq = &d->vqs[i];

		queue_stop(d, i);
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
	if (!d->ops->idle(d->opaque))
		virtio_mmio_needs_reset(d);
}

void virtio_mmio_exit(struct virtio_mmio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	device_reset(d);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_destroy(&d->lock);
}

void virtio_mmio_needs_reset(struct virtio_mmio_dev *d)
{
	d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	atomic_fetch_or(&d->interrupt_status, VIRTIO_MMIO_INT_CONFIG);
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
 * set at any time.  NEEDS_RESET belongs to the device.
 */
static void write_status(struct virtio_mmio_dev *d, uint32_t v)
{
	uint32_t old = d->status, add;
	const uint32_t known = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK |
			       VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED;

	if (!v) {
		device_reset(d);
		return;
	}
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

static void write_queue_ready(struct virtio_mmio_dev *d, struct virtq *vq,
			      uint32_t v)
{
	unsigned int qi = d->queue_sel;

	if (!v) {
		if (!queue_stop(d, qi))
			virtio_mmio_needs_reset(d);
		return;
	}
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

static void reg_write(struct virtio_mmio_dev *d, uint32_t off, uint32_t v)
{
	struct virtq *vq = sel_queue(d);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = v;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		write_driver_features(d, v);
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = v;
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		return;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		write_queue_cfg(d, vq, off, v);
		return;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!vq) {
			d->bad_config++;
			return;
		}
		write_queue_ready(d, vq, v);
		return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v < d->nvqs && d->vqs[v].ready && virtio_mmio_live(d))
			d->ops->notify(d->opaque, v);
		else
			d->bad_config++;
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		atomic_fetch_and(&d->interrupt_status, ~v);
		return;
	case VIRTIO_MMIO_STATUS:
		write_status(d, v);
		return;
	case VIRTIO_MMIO_SHM_SEL:
		d->shm_sel = v;
		return;
	default:			/* read-only, QueueReset, unknown */
		d->bad_access++;
		return;
	}
}

int virtio_mmio_access(struct virtio_mmio_dev *d, uint64_t offset, void *data,
		       unsigned int len, bool is_write)
{
	bool refused = false;
	uint32_t v = 0;

	if (!d || !data || !len || len > 8)
		return -EINVAL;
	if (offset >= GMEM_VIRTIO_MMIO_SIZE)
		return -ERANGE;
	if (!is_write)
		memset(data, 0, len);
	pthread_mutex_lock(&d->lock);
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
		memcpy(&v, data, 4);
		reg_write(d, (uint32_t)offset, v);
	} else {
		v = reg_read(d, (uint32_t)offset);
		memcpy(data, &v, 4);
	}
	if (refused)
		d->bad_access++;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int virtio_mmio_handler(void *opaque, uint64_t offset, void *data,
			uint32_t len, bool is_write)
{
	return virtio_mmio_access(opaque, offset, data, len, is_write);
}
