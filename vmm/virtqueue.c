// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue, device side (virtio 1.2, 2.7), with validation.
 *
 * The rings live in guest memory the guest can rewrite at any moment, so
 * every guest-written field is read exactly once through a volatile access
 * (or an acquire load for avail->idx) into a local, and only the local is
 * checked and used afterwards.
 */
#include <errno.h>

#include "gmemkit/gmem.h"
#include "virtqueue.h"

#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* Overflow-safe overlap test of [a, a + alen) and [b, b + blen). */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			   uint64_t blen)
{
	if (!alen || !blen)
		return false;
	return a >= b ? a - b < blen : b - a < alen;
}

static int pin_area(struct gmem *mem, uint64_t gpa, uint64_t len,
		    uint64_t align, void **ptr)
{
	if (gpa & (align - 1))
		return -EINVAL;
	return gmem_pin_ptr(mem, gpa, len, ptr);
}

int virtq_enable(struct virtq *vq, struct gmem *mem)
{
	uint32_t n = vq->num;
	uint64_t dlen = vring_desc_bytes(n), alen = vring_avail_bytes(n);
	uint64_t ulen = vring_used_bytes(n);
	void *d, *a, *u;
	int ret;

	if (!n || n > vq->num_max || n > VIRTQ_SIZE_LIMIT || (n & (n - 1)))
		return -EINVAL;
	if (ranges_overlap(vq->desc_gpa, dlen, vq->avail_gpa, alen) ||
	    ranges_overlap(vq->desc_gpa, dlen, vq->used_gpa, ulen) ||
	    ranges_overlap(vq->avail_gpa, alen, vq->used_gpa, ulen))
		return -EINVAL;
	ret = pin_area(mem, vq->desc_gpa, dlen, VIRTQ_DESC_ALIGN, &d);
	if (ret)
		return ret;
	ret = pin_area(mem, vq->avail_gpa, alen, VIRTQ_AVAIL_ALIGN, &a);
	if (ret)
		goto err_desc;
	ret = pin_area(mem, vq->used_gpa, ulen, VIRTQ_USED_ALIGN, &u);
	if (ret)
		goto err_avail;

	vq->mem = mem;
	vq->size = (uint16_t)n;
	vq->mask = (uint16_t)(n - 1);
	vq->desc = d;
	vq->avail = a;
	vq->used = u;
	vq->last_avail = 0;
	vq->avail_shadow = 0;
	vq->used_idx = 0;
	vq->used_published = 0;
	vq->broken = false;
	vq->ready = true;
	return 0;

err_avail:
	gmem_unpin_bytes(mem, vq->avail_gpa, alen);
err_desc:
	gmem_unpin_bytes(mem, vq->desc_gpa, dlen);
	return ret;
}

int virtq_disable(struct virtq *vq)
{
	uint32_t n = vq->size;
	int bugs = 0;

	if (!vq->ready)
		return 0;
	bugs += !!gmem_unpin_bytes(vq->mem, vq->used_gpa, vring_used_bytes(n));
	bugs += !!gmem_unpin_bytes(vq->mem, vq->avail_gpa, vring_avail_bytes(n));
	bugs += !!gmem_unpin_bytes(vq->mem, vq->desc_gpa, vring_desc_bytes(n));
	vq->ready = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->size = 0;
	vq->mask = 0;
	return bugs;
}

bool virtq_overlaps_rings(const struct virtq *vq, uint64_t gpa, uint64_t len)
{
	uint32_t n = vq->size;

	return ranges_overlap(gpa, len, vq->desc_gpa, vring_desc_bytes(n)) ||
	       ranges_overlap(gpa, len, vq->avail_gpa, vring_avail_bytes(n)) ||
	       ranges_overlap(gpa, len, vq->used_gpa, vring_used_bytes(n));
}

/* One read of descriptor i (i < size, checked by the caller). */
static inline void read_desc(const struct virtq *vq, uint16_t i,
			     struct vq_desc *out, uint16_t *next)
{
	const struct vring_desc *g = &vq->desc[i];

	out->addr = READ_ONCE(g->addr);
	out->len = READ_ONCE(g->len);
	out->flags = READ_ONCE(g->flags);
	*next = READ_ONCE(g->next);
}

int virtq_pop(struct virtq *vq, struct vq_chain *c, unsigned int cap)
{
	uint16_t head, i, next = 0;
	struct vq_desc d;
	uint32_t total = 0;

	if (vq->last_avail == vq->avail_shadow) {
		uint16_t idx = __atomic_load_n(&vq->avail->idx,
					       __ATOMIC_ACQUIRE);

		if ((uint16_t)(idx - vq->last_avail) > vq->size)
			return -VQ_E_AVAIL_IDX;
		vq->avail_shadow = idx;
		if (idx == vq->last_avail)
			return 0;
	}
	head = READ_ONCE(vq->avail->ring[vq->last_avail & vq->mask]);
	vq->last_avail++;
	if (head >= vq->size)
		return -VQ_E_HEAD;

	c->head = head;
	c->n = 0;
	for (i = head;; i = next) {
		/* A chain of distinct descriptors has at most size of them. */
		if (total == vq->size)
			return -VQ_E_LOOP;
		read_desc(vq, i, &d, &next);
		total++;
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -VQ_E_INDIRECT;
		if (c->n < cap)
			c->d[c->n++] = d;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (next >= vq->size)
			return -VQ_E_NEXT;
	}
	c->total = total;
	c->last = d;
	return 1;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx & vq->mask];

	WRITE_ONCE(e->id, head);
	WRITE_ONCE(e->len, len);
	vq->used_idx++;
}

bool virtq_publish(struct virtq *vq)
{
	if (vq->used_idx == vq->used_published)
		return false;
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
	vq->used_published = vq->used_idx;
	return true;
}

bool virtq_avail_pending(struct virtq *vq)
{
	if (vq->last_avail != vq->avail_shadow)
		return true;
	/* seq_cst: ordered after a virtq_set_notify(vq, true) store */
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_SEQ_CST) !=
	       vq->last_avail;
}

void virtq_set_notify(struct virtq *vq, bool enable)
{
	/* seq_cst store (xchg on x86): a full barrier before later loads */
	__atomic_store_n(&vq->used->flags,
			 enable ? 0 : (uint16_t)VIRTQ_USED_F_NO_NOTIFY,
			 __ATOMIC_SEQ_CST);
}
