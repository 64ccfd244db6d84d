// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk: one request, from the chain virtq_pop() copied to the used
 * entry (virtio 1.2, 5.2.6).  The status descriptor (last) is validated and
 * pinned first so that every later error can be reported in it; the header
 * (first descriptor) is pinned, copied once and unpinned; each data
 * descriptor is checked and pinned into an iovec; the request goes to the
 * backend; on completion the status byte is written, every pin dropped and
 * the head put on the used ring.  Parsing follows Firecracker's block
 * request: one typed struct, one error enum.
 *
 * Everything here runs with the processing lock (mmio.proc_lock) held and
 * touches no register state, except vblk_mark_broken() (reg_lock, inner).
 * The lifecycle, the locking and the device thread are in vmm/virtio_blk.c.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "gmemkit/gmem.h"
#include "virtio_blk_internal.h"

/* The request header as parsed, once. */
struct vblk_hdr {
	uint32_t type;
	uint64_t sector;
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

/* b->features: copied under reg_lock when the pass began. */
static bool negotiated(const struct vblk *b, unsigned int bit)
{
	return b->features & VIRTIO_BIT(bit);
}

void vblk_mark_broken(struct vblk *b, enum vq_err e)
{
	b->vq.broken = true;
	pthread_mutex_lock(&b->mmio.reg_lock);
	virtio_mmio_needs_reset(&b->mmio);
	pthread_mutex_unlock(&b->mmio.reg_lock);
	b->st.broken++;
	b->st.ring_err[e]++;
}

/* Map a gmem_pin_ptr() error to the request error class. */
static enum vblk_err pin_error(struct vblk *b, int ret)
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
static void unpin(struct vblk *b, uint64_t gpa, uint64_t len)
{
	if (gmem_unpin_bytes(b->mem, gpa, len))
		b->st.unpin_bugs++;
}

/* Pin [gpa, gpa + len) of guest RAM if it is shared and clear of rings. */
static enum vblk_err pin_buf(struct vblk *b, uint64_t gpa, uint64_t len,
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

static void unpin_segs(struct vblk *b, struct gblk_req *r)
{
	uint32_t i;

	for (i = 0; i < r->nseg; i++)
		unpin(b, r->seg[i].gpa, r->seg[i].len);
	r->nseg = 0;
}

void vblk_release_orphan(struct vblk *b, struct gblk_req *r)
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
static void finish(struct vblk *b, struct gblk_req *r, uint8_t status,
		   uint32_t used_len)
{
	if (r->orphan) {
		vblk_release_orphan(b, r);
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

static void fail(struct vblk *b, struct gblk_req *r, enum vblk_err e)
{
	b->st.err[e]++;
	finish(b, r, e == VBLK_E_UNSUPP ? VIRTIO_BLK_S_UNSUPP :
		     VIRTIO_BLK_S_IOERR, 1);
}

/*
 * The status byte is the last byte of the last descriptor, which must be
 * device writable.
 */
static enum vblk_err pin_status(struct vblk *b, struct gblk_req *r,
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

static enum vblk_err read_header(struct vblk *b, const struct vq_chain *c,
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
static enum vblk_err map_data(struct vblk *b, struct gblk_req *r,
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

static enum vblk_err check_rw(struct vblk *b, const struct gblk_req *r,
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
static void get_id(struct vblk *b, struct gblk_req *r)
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

static void submit(struct vblk *b, struct gblk_req *r, enum blk_op op,
		   uint64_t sector)
{
	uint64_t t0;
	int ret;

	r->io.op = op;
	r->io.offset = sector << VIRTIO_BLK_SECTOR_SHIFT;
	r->io.len = r->data_len;
	r->io.iov = r->iov;
	r->io.niov = r->nseg;
	b->inflight++;
	vblk_pass_io(b, op);
	t0 = vblk_be_enter(b);
	ret = b->be->ops->submit(b->be, &r->io);
	vblk_be_leave(b, t0);
	if (ret) {
		b->inflight--;
		b->st.backend_errors++;
		fail(b, r, VBLK_E_BACKEND);
	}
}

/* Parse and start the request; errors complete it at once. */
static void start_request(struct vblk *b, struct gblk_req *r,
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

void vblk_handle_chain(struct vblk *b, const struct vq_chain *c)
{
	struct gblk_req *r = &b->reqs[c->head];
	enum vblk_err e;

	if (r->busy) {
		vblk_mark_broken(b, VQ_E_IN_FLIGHT);
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

void vblk_io_done(struct blk_backend *be, struct blk_io *io, long res)
{
	struct vblk *b = be->complete_arg;
	struct gblk_req *r = (struct gblk_req *)((char *)io -
						 offsetof(struct gblk_req, io));
	uint32_t used = 1;

	b->inflight--;
	if (r->orphan) {
		vblk_release_orphan(b, r);
		return;
	}
	vblk_pass_io(b, r->io.op);
	if (res == -EFAULT) {
		/* The backend met a page it may not touch: a private page (the
		 * eager model maps none for the host; the kernel refuses it to
		 * io_uring), or an unmapped one.  A violation, not a device
		 * failure; the page was never touched. */
		b->st.violations++;
		fail(b, r, VBLK_E_PRIVATE);
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
