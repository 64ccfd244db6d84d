// SPDX-License-Identifier: GPL-2.0
/*
 * Guest virtio-blk driver: virtio-mmio version 2 at GMEM_ABI_VIRTIO_MMIO_GPA,
 * one split virtqueue in the always-shared pool, completions polled from
 * the used ring.  Layout and locking: gblk.h.
 */
#include "gblk.h"

#define POOL	GMEM_ABI_POOL_GPA

static struct vring_desc *desc;
static volatile struct vring_avail *avail;
static volatile struct vring_used *used;
static uint32_t qsize;
static uint16_t avail_idx, last_used;
static uint16_t free_list[GBLK_QUEUE_MAX];
static uint32_t nfree;
static struct gblk_req *by_head[GBLK_QUEUE_MAX];
static int lock;
static uint64_t n_submitted, n_completed, n_unknown;

static uint32_t rd(uint32_t off)
{
	return gblk_mmio_read(off);
}

static void wr(uint32_t off, uint32_t v)
{
	gblk_mmio_write(off, v);
}

/*
 * Between publishing the avail index and reading the device's NO_NOTIFY
 * flag: a full barrier (virtio's virtio_mb()), paired with the device's
 * own between setting the flag and rereading the avail index.  Built with
 * ThreadSanitizer (the hosted harness), which does not model fences: a
 * sequentially consistent read-modify-write, the same on x86.
 */
static inline void full_barrier(void)
{
#ifdef __SANITIZE_THREAD__
	static int dummy;

	__atomic_fetch_add(&dummy, 0, __ATOMIC_SEQ_CST);
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static void spin_lock(int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			cpu_relax();
}

static void spin_unlock(int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static volatile struct virtio_blk_outhdr *hdr_of(uint32_t id)
{
	return gpa_ptr(POOL + GBLK_HDR_OFF + id * GBLK_HDR_STRIDE);
}

static uint64_t hdr_gpa(uint32_t id)
{
	return POOL + GBLK_HDR_OFF + id * GBLK_HDR_STRIDE;
}

static int negotiate(struct gblk_info *info)
{
	uint64_t dev, want;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	dev = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	dev |= (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	if (!(dev & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
		return -GMEM_ABI_EOPNOTSUPP;
	want = dev & (VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		      VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |
		      VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |
		      VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		      VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		      VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)want);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(want >> 32));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	if (!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return -GMEM_ABI_EOPNOTSUPP;
	info->features = want;
	return 0;
}

static uint32_t cfg32(uint32_t off)
{
	return rd(VIRTIO_MMIO_CONFIG + off);
}

int gblk_init(struct gblk_info *info)
{
	uint32_t i, max;
	int err;

	if (rd(VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
	    rd(VIRTIO_MMIO_VERSION) != VIRTIO_MMIO_VERSION_2 ||
	    rd(VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_BLOCK)
		return -GMEM_ABI_EOPNOTSUPP;
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	err = negotiate(info);
	if (err)
		return err;
	info->capacity = cfg32(0) | (uint64_t)cfg32(4) << 32;
	info->size_max = info->features & VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) ?
			 cfg32(8) : 0;
	info->seg_max = info->features & VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) ?
			cfg32(12) : 1;

	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	max = rd(VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (!max)
		return -GMEM_ABI_EOPNOTSUPP;
	for (qsize = GBLK_QUEUE_MAX; qsize > max; qsize >>= 1)
		;
	desc = gpa_ptr(POOL + GBLK_DESC_OFF);
	avail = gpa_ptr(POOL + GBLK_AVAIL_OFF);
	used = gpa_ptr(POOL + GBLK_USED_OFF);
	memset(desc, 0, vring_desc_bytes(qsize));
	memset((void *)avail, 0, vring_avail_bytes(qsize));
	memset((void *)used, 0, vring_used_bytes(qsize));
	for (i = 0; i < qsize; i++)
		free_list[i] = (uint16_t)(qsize - 1 - i);
	nfree = qsize;
	avail_idx = last_used = 0;
	n_submitted = n_completed = n_unknown = 0;
	wr(VIRTIO_MMIO_QUEUE_NUM, qsize);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(POOL + GBLK_DESC_OFF));
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)((POOL + GBLK_DESC_OFF) >> 32));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(POOL + GBLK_AVAIL_OFF));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((POOL + GBLK_AVAIL_OFF) >> 32));
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(POOL + GBLK_USED_OFF));
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((POOL + GBLK_USED_OFF) >> 32));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	if (rd(VIRTIO_MMIO_QUEUE_READY) != 1)
		return -GMEM_ABI_EINVAL;
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	if (!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK))
		return -GMEM_ABI_EINVAL;
	info->queue_size = qsize;
	return 0;
}

static void fill(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	desc[i].addr = addr;
	desc[i].len = len;
	desc[i].flags = flags;
	desc[i].next = next;
}

void gblk_counters(uint64_t *submitted, uint64_t *completed, uint64_t *unknown)
{
	spin_lock(&lock);
	*submitted = n_submitted;
	*completed = n_completed;
	*unknown = n_unknown;
	spin_unlock(&lock);
}

int gblk_submit(struct gblk_req *r, uint32_t type, uint64_t sector,
		const struct gblk_seg *segs, unsigned int nseg, bool dev_writes)
{
	volatile struct virtio_blk_outhdr *h = hdr_of(r->id);
	volatile uint8_t *status = (volatile uint8_t *)h + 16;
	unsigned int n = nseg + 2, k;
	uint16_t idx[66];

	if (r->id >= GBLK_MAX_REQS || nseg > 64)
		return -GMEM_ABI_EINVAL;
	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	*status = 0xff;
	r->done = 0;
	r->status = 0xff;
	r->used_len = 0;
	spin_lock(&lock);
	if (nfree < n) {
		spin_unlock(&lock);
		return -GBLK_EAGAIN;
	}
	for (k = 0; k < n; k++)
		idx[k] = free_list[--nfree];
	fill(idx[0], hdr_gpa(r->id), 16, VIRTQ_DESC_F_NEXT, idx[1]);
	for (k = 0; k < nseg; k++)
		fill(idx[k + 1], segs[k].gpa, segs[k].len,
		     VIRTQ_DESC_F_NEXT | (dev_writes ? VIRTQ_DESC_F_WRITE : 0),
		     idx[k + 2]);
	fill(idx[n - 1], hdr_gpa(r->id) + 16, 1, VIRTQ_DESC_F_WRITE, 0);
	r->head = idx[0];
	r->ndesc = (uint16_t)n;
	by_head[r->head] = r;
	avail->ring[avail_idx % qsize] = r->head;
	/* a release store: one plain store on x86, ordered after the chain */
	__atomic_store_n(&avail->idx, ++avail_idx, __ATOMIC_RELEASE);
	n_submitted++;
	spin_unlock(&lock);
	return 0;
}

int gblk_kick(void)
{
	full_barrier();
	if (__atomic_load_n(&used->flags, __ATOMIC_RELAXED) & VIRTQ_USED_F_NO_NOTIFY)
		return 0;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	return 1;
}

unsigned int gblk_poll(void)
{
	unsigned int n = 0;

	/* a peek without the lock: a stale last_used only takes the lock */
	if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) ==
	    __atomic_load_n(&last_used, __ATOMIC_RELAXED))
		return 0;
	spin_lock(&lock);
	while (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) != last_used) {
		volatile struct vring_used_elem *e = &used->ring[last_used % qsize];
		uint32_t id = e->id;
		struct gblk_req *r;
		uint16_t d, k;

		__atomic_store_n(&last_used, (uint16_t)(last_used + 1), __ATOMIC_RELAXED);
		if (id >= qsize || !(r = by_head[id])) {
			n_unknown++;	/* a device bug: ignore the entry */
			continue;
		}
		by_head[id] = NULL;
		for (d = (uint16_t)id, k = 0; k < r->ndesc; k++) {
			uint16_t next = desc[d].next;

			free_list[nfree++] = d;
			d = next;
		}
		r->used_len = e->len;
		r->status = *((volatile uint8_t *)hdr_of(r->id) + 16);
		__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
		n_completed++;
		n++;
	}
	spin_unlock(&lock);
	return n;
}

uint8_t gblk_do(struct gblk_req *r, uint32_t type, uint64_t sector,
		const struct gblk_seg *segs, unsigned int nseg, bool dev_writes)
{
	while (gblk_submit(r, type, sector, segs, nseg, dev_writes) == -GBLK_EAGAIN)
		gblk_poll();
	gblk_kick();
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE))
		if (!gblk_poll())
			cpu_relax();
	return r->status;
}
