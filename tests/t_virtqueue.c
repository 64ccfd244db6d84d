// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue walker (vmm/virtqueue.c) against a reference model.
 *
 * Random descriptor tables and avail rings (flags, next indices, heads,
 * avail idx jumps) on a small queue; every virtq_pop() result (return
 * code, head, chain length, stored descriptors, last descriptor) must match
 * a walker written the obvious way, with a visited set instead of the
 * length guard.  Also: the 16-bit index wrap, used ring contents, ring
 * placement checks, the overlap helper.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/gmem.h"
#include "../vmm/virtqueue.h"
#include "tap.h"

#define PG	GMEM_PAGE_SIZE
#define DESC	0x0000UL
#define AVAIL	0x1000UL
#define USED	0x2000UL

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

struct ref_result {
	int ret;
	uint16_t head;
	uint32_t total;
	struct vq_desc d[64];
	struct vq_desc last;
};

/* The model: follow the chain, a revisit is a loop. */
static void ref_pop(const struct vring_desc *t, uint16_t size, uint16_t head,
		    struct ref_result *r)
{
	bool seen[1024] = { false };
	uint16_t i = head;

	memset(r, 0, sizeof(*r));
	if (head >= size) {
		r->ret = -VQ_E_HEAD;
		return;
	}
	r->head = head;
	for (;;) {
		if (seen[i]) {
			r->ret = -VQ_E_LOOP;
			return;
		}
		seen[i] = true;
		if (t[i].flags & VIRTQ_DESC_F_INDIRECT) {
			r->ret = -VQ_E_INDIRECT;
			return;
		}
		if (r->total < 64)
			r->d[r->total] = (struct vq_desc){ t[i].addr, t[i].len,
							   t[i].flags };
		r->total++;
		if (!(t[i].flags & VIRTQ_DESC_F_NEXT)) {
			r->last = (struct vq_desc){ t[i].addr, t[i].len,
						    t[i].flags };
			r->ret = 1;
			return;
		}
		if (t[i].next >= size) {
			r->ret = -VQ_E_NEXT;
			return;
		}
		i = t[i].next;
	}
}

static bool same_desc(const struct vq_desc *a, const struct vq_desc *b)
{
	return a->addr == b->addr && a->len == b->len && a->flags == b->flags;
}

static struct gmem *mk(void)
{
	struct gmem_config cfg = {
		.size = 16 * PG, .vm_fd = -1, .backing = GMEM_BACKING_MEMFD,
		.flags = GMEM_F_INIT_SHARED, .name = "t-virtq",
	};
	struct gmem *g;

	if (gmem_create(&cfg, &g))
		tap_bail("gmem_create");
	return g;
}

static int enable(struct virtq *vq, struct gmem *g, uint32_t n, uint64_t d,
		  uint64_t a, uint64_t u)
{
	memset(vq, 0, sizeof(*vq));
	vq->num_max = 256;
	vq->num = n;
	vq->desc_gpa = d;
	vq->avail_gpa = a;
	vq->used_gpa = u;
	return virtq_enable(vq, g);
}

static void test_model(struct gmem *g)
{
	uint8_t *mem = gmem_memslot_addr(g);
	struct vring_desc *t = (void *)(mem + DESC);
	struct vring_avail *av = (void *)(mem + AVAIL);
	struct vq_desc store[6];
	unsigned int iter, mismatches = 0, loops = 0, chains = 0, nexts = 0;
	static const uint16_t sizes[] = { 1, 2, 8, 16, 256 };

	for (iter = 0; iter < 20000; iter++) {
		uint16_t size = sizes[rnd() % 5], head;
		struct virtq vq;
		struct vq_chain c = { .d = store };
		struct ref_result r;
		unsigned int cap = 1 + rnd() % 6;
		int ret;

		if (enable(&vq, g, size, DESC, AVAIL, USED))
			tap_bail("virtq_enable");
		for (unsigned int i = 0; i < size; i++) {
			uint32_t x = rnd();

			t[i].addr = rnd();
			t[i].len = rnd() % 4096;
			/* mostly NEXT, sometimes WRITE, rarely INDIRECT */
			t[i].flags = (x & 7 ? VIRTQ_DESC_F_NEXT : 0) |
				     (x & 8 ? VIRTQ_DESC_F_WRITE : 0) |
				     ((x & 0x3f0) == 0 ? VIRTQ_DESC_F_INDIRECT :
				      0);
			/* next mostly forward, sometimes anywhere or out */
			t[i].next = (x >> 10) % 8 ? (uint16_t)(i + 1 + (x >> 13) % 3)
						  : (uint16_t)((x >> 13) % (size + 2));
		}
		head = rnd() % 16 ? (uint16_t)(rnd() % size) : (uint16_t)rnd();
		av->ring[0] = head;
		__atomic_store_n(&av->idx, 1, __ATOMIC_RELEASE);
		ref_pop(t, size, head, &r);
		ret = virtq_pop(&vq, &c, cap);
		if (ret != r.ret) {
			mismatches++;
		} else if (ret == 1) {
			chains++;
			if (c.head != r.head || c.total != r.total ||
			    c.n != (r.total < cap ? r.total : cap) ||
			    !same_desc(&c.last, &r.last))
				mismatches++;
			for (unsigned int i = 0; i < c.n; i++)
				if (!same_desc(&c.d[i], &r.d[i]))
					mismatches++;
		}
		loops += ret == -VQ_E_LOOP;
		nexts += ret == -VQ_E_NEXT;
		virtq_disable(&vq);
	}
	ok(!mismatches && chains > 1000 && loops > 100 && nexts > 100,
	   "20000 random rings: walker == model (%u chains, %u loops, %u bad "
	   "next, %u mismatches)", chains, loops, nexts, mismatches);
	ok_eq(gmem_page_pins(g, DESC) + gmem_page_pins(g, AVAIL) +
	      gmem_page_pins(g, USED), 0, "enable/disable left no pins");
}

static void test_indices(struct gmem *g)
{
	uint8_t *mem = gmem_memslot_addr(g);
	struct vring_desc *t = (void *)(mem + DESC);
	struct vring_avail *av = (void *)(mem + AVAIL);
	struct vring_used *us = (void *)(mem + USED);
	struct vq_desc store[4];
	struct vq_chain c = { .d = store };
	struct virtq vq;
	unsigned int got = 0, i;
	bool fine = true;

	memset(mem, 0, 3 * PG);
	if (enable(&vq, g, 8, DESC, AVAIL, USED))
		tap_bail("virtq_enable");
	for (i = 0; i < 8; i++)
		t[i] = (struct vring_desc){ 0x1000 * i, 512, 0, 0 };
	/* Start just below the 16-bit wrap. */
	vq.last_avail = vq.avail_shadow = 65532;
	vq.used_idx = vq.used_published = 65532;
	for (i = 0; i < 8; i++)
		av->ring[(65532 + i) % 8] = (uint16_t)i;
	__atomic_store_n(&av->idx, (uint16_t)(65532 + 8), __ATOMIC_RELEASE);
	while (virtq_pop(&vq, &c, 4) == 1) {
		fine &= c.head == got % 8 && c.total == 1;
		virtq_push(&vq, c.head, 100 + got);
		got++;
	}
	ok(fine && got == 8, "8 chains across the avail idx wrap (got %u)", got);
	ok(virtq_publish(&vq) && us->idx == 4 && !virtq_publish(&vq),
	   "used idx wraps to 4; second publish has nothing new");
	ok(us->ring[65535 % 8].id == 3 && us->ring[65535 % 8].len == 103 &&
	   us->ring[0].id == 4 && us->ring[0].len == 104,
	   "used elements land at idx mod size");
	__atomic_store_n(&av->idx, (uint16_t)(4 + 9), __ATOMIC_RELEASE);
	ok_eq(virtq_pop(&vq, &c, 4), -VQ_E_AVAIL_IDX,
	      "avail idx 9 ahead on a queue of 8: -VQ_E_AVAIL_IDX");
	__atomic_store_n(&av->idx, (uint16_t)(4 + 8), __ATOMIC_RELEASE);
	ok_eq(virtq_pop(&vq, &c, 4), 1, "exactly 8 ahead is fine");
	virtq_disable(&vq);
}

static void test_placement(struct gmem *g)
{
	struct virtq vq;

	ok_eq(enable(&vq, g, 8, DESC + 8, AVAIL, USED), -EINVAL,
	      "desc table not 16-byte aligned");
	ok_eq(enable(&vq, g, 8, DESC, AVAIL + 1, USED), -EINVAL,
	      "avail ring not 2-byte aligned");
	ok_eq(enable(&vq, g, 8, DESC, AVAIL, USED + 2), -EINVAL,
	      "used ring not 4-byte aligned");
	ok_eq(enable(&vq, g, 12, DESC, AVAIL, USED), -EINVAL, "size 12");
	ok_eq(enable(&vq, g, 512, DESC, AVAIL, USED), -EINVAL,
	      "size above num_max");
	ok_eq(enable(&vq, g, 8, DESC, DESC + 64, USED), -EINVAL,
	      "avail ring inside the desc table");
	ok_eq(enable(&vq, g, 8, DESC, AVAIL, AVAIL + 16), -EINVAL,
	      "used ring overlapping the avail ring");
	ok_eq(enable(&vq, g, 8, DESC, AVAIL, 16 * PG - 8), -ERANGE,
	      "used ring past the end of RAM");
	ok_eq(enable(&vq, g, 8, 0xfffffffffffffff0ULL, AVAIL, USED), -EOVERFLOW,
	      "desc table wrapping the address space");
	gmem_unshare(g, 5 * PG, PG);
	ok_eq(enable(&vq, g, 8, 5 * PG, AVAIL, USED), -EACCES,
	      "desc table on a private page");
	ok_eq(gmem_page_pins(g, AVAIL) + gmem_page_pins(g, USED), 0,
	      "failed enables left no pins");
	ok_eq(enable(&vq, g, 8, 4 * PG, 4 * PG + 128, 4 * PG + 256), 0,
	      "all three areas on one shared page");
	ok(virtq_overlaps_rings(&vq, 4 * PG + 100, 1) &&
	   virtq_overlaps_rings(&vq, 4 * PG + 256 + 6 + 8 * 8 - 1, 1) &&
	   !virtq_overlaps_rings(&vq, 4 * PG + 256 + 6 + 8 * 8, 100) &&
	   !virtq_overlaps_rings(&vq, 4 * PG + 150, 106) &&
	   virtq_overlaps_rings(&vq, 4 * PG + 150, 107) &&
	   virtq_overlaps_rings(&vq, 0, UINT64_MAX) &&
	   !virtq_overlaps_rings(&vq, UINT64_MAX - 10, 10),
	   "overlap helper: exact bounds, no overflow");
	ok_eq(gmem_unshare(g, 4 * PG, PG), -EBUSY,
	      "ring page cannot be unshared while enabled");
	virtq_disable(&vq);
	ok_eq(gmem_unshare(g, 4 * PG, PG), 0, "and can after disable");
	gmem_share(g, 4 * PG, 2 * PG);
}

int main(void)
{
	struct gmem *g = mk();

	test_model(g);
	test_indices(g);
	test_placement(g);
	gmem_destroy(g);
	return tap_done();
}
