// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk device, host only, requests: IN/OUT/FLUSH/GET_ID on the null
 * backend, every malformed-descriptor class, malformed rings, private and
 * out-of-RAM buffers (and that the host never touched a private page), a
 * buffer on a page that is being unshared (busy).
 */
#include "../lib/gmem_internal.h"	/* a conversion backend hook */
#include "virtio_blk_guest.h"

/* ---- requests on the null backend ---------------------------------------- */

static void test_null_requests(void)
{
	struct blk_backend *be;
	struct vring_used_elem e;
	struct vblk_stats st;
	struct guest gu;
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	bool got;

	blk_backend_null(DISK_SIZE, &be);
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");

	put_req(&gu, 3, VIRTIO_BLK_T_OUT, 8, DATA_GPA, 4096, 2);
	ok(run1(&gu, &e) && e.id == 3 && e.len == 1 &&
	   *status_byte(&gu, 3) == VIRTIO_BLK_S_OK,
	   "null OUT: OK, used len 1");
	put_req(&gu, 3, VIRTIO_BLK_T_IN, 8, DATA_GPA, 4096, 2);
	got = run1(&gu, &e);
	ok(got && e.id == 3 && e.len == 8193 &&
	   *status_byte(&gu, 3) == VIRTIO_BLK_S_OK,
	   "null IN: OK, used len = 8192 + 1 (got %u)", e.len);
	put_req(&gu, 5, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	ok(run1(&gu, &e) && e.id == 5 && e.len == 1 &&
	   *status_byte(&gu, 5) == VIRTIO_BLK_S_OK, "null FLUSH: OK");
	memset(gu.mem + DATA_GPA, 0x55, 64);
	put_req(&gu, 6, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 64, 1);
	ok(run1(&gu, &e) && e.len == VIRTIO_BLK_ID_BYTES + 1 &&
	   *status_byte(&gu, 6) == VIRTIO_BLK_S_OK,
	   "GET_ID: OK, used len 21");
	memcpy(id, gu.mem + DATA_GPA, VIRTIO_BLK_ID_BYTES);
	ok(!strcmp(id, "gmemkit-null") && gu.mem[DATA_GPA + 20] == 0x55,
	   "GET_ID wrote the id, NUL padded, and no more (\"%s\")", id);
	put_req(&gu, 6, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 8, 1);
	ok(run1(&gu, &e) && e.len == 9, "GET_ID into 8 bytes: used len 9");
	put_req(&gu, 7, 0x77, 0, DATA_GPA, 512, 1);
	ok(run1(&gu, &e) && e.len == 1 &&
	   *status_byte(&gu, 7) == VIRTIO_BLK_S_UNSUPP,
	   "unknown type 0x77: UNSUPP");
	put_req(&gu, 7, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, 512, 1);
	ok(run1(&gu, &e) && *status_byte(&gu, 7) == VIRTIO_BLK_S_UNSUPP,
	   "DISCARD (not offered): UNSUPP");

	/* A batch of QSIZE / 4 requests (3 descriptors each) in one pass. */
	for (uint16_t h = 0; h < QSIZE; h += 4)
		put_req(&gu, h, VIRTIO_BLK_T_IN, h, DATA_GPA + h * 512UL,
			512, 1);
	ok_eq(process(&gu), QSIZE / 4, "one pass takes the whole batch (%u)",
	      QSIZE / 4);
	{
		bool all = true;

		for (uint16_t h = 0; h < QSIZE; h += 4)
			all &= get_used(&gu, &e) && e.id == h && e.len == 513;
		ok(all, "all %u completed in order with used len 513",
		   QSIZE / 4);
	}
	ok_eq(process(&gu), 0, "empty ring: 0");

	st = stats(&gu);
	ok(st.reads == QSIZE / 4 + 1 && st.writes == 1 && st.flushes == 1 &&
	   st.get_ids == 2 && st.unsupp == 2 && st.ioerr == 0 &&
	   st.bytes_read == 8192 + QSIZE / 4 * 512 && st.bytes_written == 8192,
	   "stats: reads %llu writes %llu flushes %llu get_ids %llu",
	   (unsigned long long)st.reads, (unsigned long long)st.writes,
	   (unsigned long long)st.flushes, (unsigned long long)st.get_ids);
	ok_eq(gmem_page_pins(gu.g, DATA_GPA), 0, "no pins left after completion");

	/* FLUSH without F_FLUSH negotiated. */
	if (!drv_init(&gu, std_features & ~VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)))
		tap_bail("driver init");
	put_req(&gu, 1, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	ok(run1(&gu, &e) && *status_byte(&gu, 1) == VIRTIO_BLK_S_UNSUPP,
	   "FLUSH without F_FLUSH negotiated: UNSUPP");

	/* QueueNotify by MMIO (no ioeventfd, no thread) processes inline. */
	put_req(&gu, 2, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, 1);
	wr(&gu, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ok(get_used(&gu, &e) && e.id == 2 &&
	   *status_byte(&gu, 2) == VIRTIO_BLK_S_OK,
	   "MMIO QueueNotify without a thread processes inline");
	free_guest(&gu);
}

/* ---- malformed requests --------------------------------------------------- */

struct bad_case {
	const char *what;
	enum vblk_err err;		/* expected class */
	struct d ds[4];
	unsigned int n;
	uint32_t type;
	uint64_t sector;
	bool no_status;			/* used len 0, nothing written */
};

#define HDR(h)	{ HDR_GPA + 16 * (h), 16, 0 }
#define ST(h)	{ STATUS_GPA + (h), 1, VIRTQ_DESC_F_WRITE }

static void test_malformed(void)
{
	/* CASE(what, class, type, sector, no_status, n, descriptors...) */
#define CASE(w, e, t, s, ns, cnt, ...) { .what = w, .err = e, .type = t, \
	.sector = s, .no_status = ns, .n = cnt, .ds = { __VA_ARGS__ } }
	const uint32_t IN = VIRTIO_BLK_T_IN, OUT = VIRTIO_BLK_T_OUT;
	const struct bad_case cases[] = {
		CASE("header in a writable descriptor", VBLK_E_HDR_WRITABLE,
		     IN, 0, false, 3, { HDR_GPA, 16, W }, { DATA_GPA, 512, W },
		     ST(0)),
		CASE("header shorter than 16 bytes", VBLK_E_FRAMING, IN, 0,
		     false, 3, { HDR_GPA, 8, 0 }, { DATA_GPA, 512, W }, ST(0)),
		CASE("single descriptor (header = status)", VBLK_E_FRAMING, IN,
		     0, false, 1, { STATUS_GPA, 1, W }),
		CASE("IN with no data", VBLK_E_DATA_LEN, IN, 0, false, 2,
		     HDR(0), ST(0)),
		CASE("IN of 100 bytes", VBLK_E_DATA_LEN, IN, 0, false, 3,
		     HDR(0), { DATA_GPA, 100, W }, ST(0)),
		CASE("zero-length data descriptor", VBLK_E_ZERO_LEN, IN, 0,
		     false, 4, HDR(0), { DATA_GPA, 0, W }, { DATA_GPA, 512, W },
		     ST(0)),
		CASE("IN into a device-readable buffer", VBLK_E_DIRECTION, IN, 0,
		     false, 3, HDR(0), { DATA_GPA, 512, 0 }, ST(0)),
		CASE("OUT from a device-writable buffer", VBLK_E_DIRECTION, OUT,
		     0, false, 3, HDR(0), { DATA_GPA, 512, W }, ST(0)),
		CASE("segment above size_max", VBLK_E_SEG_SIZE, IN, 0, false, 3,
		     HDR(0), { DATA_GPA, 2u << 20, W }, ST(0)),
		CASE("buffer outside guest RAM", VBLK_E_OUT_OF_RAM, IN, 0, false,
		     3, HDR(0), { 0x40000000000ULL, 512, W }, ST(0)),
		CASE("buffer straddling the end of RAM", VBLK_E_OUT_OF_RAM, IN,
		     0, false, 3, HDR(0), { RAM_SIZE - 512, 1024, W }, ST(0)),
		CASE("buffer address wrapping around", VBLK_E_OUT_OF_RAM, IN, 0,
		     false, 3, HDR(0), { 0xfffffffffffffe00ULL, 1024, W },
		     ST(0)),
		CASE("buffer on a private page", VBLK_E_PRIVATE, IN, 0, false, 3,
		     HDR(0), { PRIV_GPA, 512, W }, ST(0)),
		CASE("buffer straddling into a private page", VBLK_E_PRIVATE,
		     IN, 0, false, 3, HDR(0), { PRIV_GPA - 512, 1024, W },
		     ST(0)),
		CASE("OUT from a private page", VBLK_E_PRIVATE, OUT, 0, false, 3,
		     HDR(0), { PRIV_GPA, 512, 0 }, ST(0)),
		CASE("header on a private page", VBLK_E_PRIVATE, IN, 0, false, 3,
		     { PRIV_GPA, 16, 0 }, { DATA_GPA, 512, W }, ST(0)),
		CASE("header outside RAM", VBLK_E_OUT_OF_RAM, IN, 0, false, 3,
		     { RAM_SIZE, 16, 0 }, { DATA_GPA, 512, W }, ST(0)),
		CASE("IN into the descriptor table", VBLK_E_RING_OVERLAP, IN, 0,
		     false, 3, HDR(0), { DESC_GPA, 512, W }, ST(0)),
		CASE("IN into the used ring", VBLK_E_RING_OVERLAP, IN, 0, false,
		     3, HDR(0), { USED_GPA - 256, 512, W }, ST(0)),
		CASE("OUT from the avail ring", VBLK_E_RING_OVERLAP, OUT, 0,
		     false, 3, HDR(0), { AVAIL_GPA, 512, 0 }, ST(0)),
		CASE("sector beyond capacity", VBLK_E_SECTOR, IN,
		     DISK_SIZE / 512, false, 3, HDR(0), { DATA_GPA, 512, W },
		     ST(0)),
		CASE("request running past capacity", VBLK_E_SECTOR, IN,
		     DISK_SIZE / 512 - 1, false, 3, HDR(0),
		     { DATA_GPA, 1024, W }, ST(0)),
		CASE("sector overflowing 64 bits", VBLK_E_SECTOR, IN,
		     0x0080000000000000ULL, false, 3, HDR(0),
		     { DATA_GPA, 512, W }, ST(0)),
		CASE("FLUSH with data", VBLK_E_FLUSH_DATA, VIRTIO_BLK_T_FLUSH, 0,
		     false, 3, HDR(0), { DATA_GPA, 512, 0 }, ST(0)),
		CASE("GET_ID with no buffer", VBLK_E_DATA_LEN,
		     VIRTIO_BLK_T_GET_ID, 0, false, 2, HDR(0), ST(0)),
		CASE("status in a readable descriptor", VBLK_E_STATUS, IN, 0,
		     true, 3, HDR(0), { DATA_GPA, 512, W }, { STATUS_GPA, 1, 0 }),
		CASE("status of length 0", VBLK_E_STATUS, IN, 0, true, 3, HDR(0),
		     { DATA_GPA, 512, W }, { STATUS_GPA, 0, W }),
		CASE("status on a private page", VBLK_E_PRIVATE, IN, 0, true, 3,
		     HDR(0), { DATA_GPA, 512, W }, { PRIV_GPA, 1, W }),
		CASE("status outside RAM", VBLK_E_OUT_OF_RAM, IN, 0, true, 3,
		     HDR(0), { DATA_GPA, 512, W }, { RAM_SIZE + 7, 1, W }),
		CASE("status in the used ring", VBLK_E_RING_OVERLAP, IN, 0, true,
		     3, HDR(0), { DATA_GPA, 512, W }, { USED_GPA + 4, 1, W }),
	};
#undef CASE
	struct blk_backend *be;
	struct guest gu;
	unsigned int i;

	blk_backend_null(DISK_SIZE, &be);
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		struct vblk_stats a = stats(&gu), z;
		struct vring_used_elem e = { 0xffff, 0xffff };
		uint8_t want = c->err == VBLK_E_UNSUPP ? VIRTIO_BLK_S_UNSUPP :
			       VIRTIO_BLK_S_IOERR;
		bool got, counted;

		put_hdr(&gu, 0, c->type, c->sector);
		put_chain(&gu, 0, c->ds, c->n);
		publish_head(&gu, 0);
		got = run1(&gu, &e);
		z = stats(&gu);
		counted = z.err[c->err] == a.err[c->err] + 1;
		if (c->err == VBLK_E_PRIVATE || c->err == VBLK_E_OUT_OF_RAM)
			counted &= z.violations == a.violations + 1;
		if (c->no_status)
			ok(got && e.id == 0 && e.len == 0 && counted &&
			   z.no_status == a.no_status + 1 &&
			   *status_byte(&gu, 0) == 0xee,
			   "%s: returned with used len 0, no write, counted "
			   "as %s", c->what, vblk_err_name(c->err));
		else
			ok(got && e.id == 0 && e.len == 1 && counted &&
			   z.ioerr == a.ioerr + 1 &&
			   *status_byte(&gu, 0) == want,
			   "%s: IOERR, used len 1, counted as %s (len %u, "
			   "status %u)", c->what, vblk_err_name(c->err), e.len,
			   *status_byte(&gu, 0));
	}
	ok_eq(gmem_violations(gu.g), 0,
	      "the host never touched the private page (gmem violations 0)");
	ok_eq(gmem_page_pins(gu.g, DATA_GPA) + gmem_page_pins(gu.g, HDR_GPA) +
	      gmem_page_pins(gu.g, STATUS_GPA), 0, "every pin dropped");
	ok(!(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET),
	   "request errors leave the ring usable");

	/* Too many segments: SEG_MAX + 1 data descriptors. */
	{
		struct vring_used_elem e;
		struct vblk_stats a = stats(&gu), z;

		put_req(&gu, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, SEG_MAX);
		ok(run1(&gu, &e) && *status_byte(&gu, 0) == VIRTIO_BLK_S_OK &&
		   e.len == SEG_MAX * 512 + 1, "seg_max segments accepted");
		put_hdr(&gu, 0, VIRTIO_BLK_T_IN, 0);
		{
			struct vring_desc *v;

			put_req(&gu, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512,
				SEG_MAX);
			/* grow it by one before the device looks */
			v = desc(&gu, SEG_MAX + 1);
			*desc(&gu, SEG_MAX + 2) = *v;
			v->addr = DATA_GPA + 0x8000;
			v->len = 512;
			v->flags = W | VIRTQ_DESC_F_NEXT;
			v->next = SEG_MAX + 2;
		}
		ok(run1(&gu, &e) && e.len == 1 &&
		   *status_byte(&gu, 0) == VIRTIO_BLK_S_IOERR,
		   "seg_max + 1 segments: IOERR");
		z = stats(&gu);
		ok_eq(z.err[VBLK_E_SEGS], a.err[VBLK_E_SEGS] + 1,
		      "counted as segs");
	}
	free_guest(&gu);
}

/* ---- malformed rings ----------------------------------------------------- */

static void ring_case(struct guest *gu, const char *what, enum vq_err want,
		      void (*setup)(struct guest *gu))
{
	struct vblk_stats a, z;
	int ret;

	if (!drv_init(gu, std_features))
		tap_bail("driver init");
	a = stats(gu);
	setup(gu);
	ret = process(gu);
	z = stats(gu);
	ok(ret == -EIO && z.broken == a.broken + 1 &&
	   z.ring_err[want] == a.ring_err[want] + 1 &&
	   (rd(gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) &&
	   (rd(gu, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG),
	   "%s: ring broken (%s), NEEDS_RESET, config interrupt", what,
	   vq_err_name(want));
	ok_eq(process(gu), -EIO, "%s: queue stays stopped until reset", what);
}

static void setup_loop(struct guest *gu)
{
	put_hdr(gu, 0, VIRTIO_BLK_T_IN, 0);
	*desc(gu, 0) = (struct vring_desc){ HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1 };
	*desc(gu, 1) = (struct vring_desc){ DATA_GPA, 512,
					   W | VIRTQ_DESC_F_NEXT, 0 };
	publish_head(gu, 0);
}

static void setup_long(struct guest *gu)
{
	/* QSIZE + 1 descriptors cannot be distinct: 0..63 then 63 again. */
	for (uint16_t i = 0; i < QSIZE; i++)
		*desc(gu, i) = (struct vring_desc){
			DATA_GPA, 512, W | VIRTQ_DESC_F_NEXT,
			(uint16_t)(i + 1u < QSIZE ? i + 1 : i) };
	publish_head(gu, 0);
}

static void setup_self(struct guest *gu)
{
	*desc(gu, 5) = (struct vring_desc){ DATA_GPA, 512,
					   W | VIRTQ_DESC_F_NEXT, 5 };
	publish_head(gu, 5);
}

static void setup_next(struct guest *gu)
{
	put_hdr(gu, 0, VIRTIO_BLK_T_IN, 0);
	*desc(gu, 0) = (struct vring_desc){ HDR_GPA, 16, VIRTQ_DESC_F_NEXT,
					   QSIZE };
	publish_head(gu, 0);
}

static void setup_head(struct guest *gu)
{
	publish_head(gu, 0xffff);
}

static void setup_avail_idx(struct guest *gu)
{
	__atomic_store_n(&avail(gu)->idx, QSIZE + 1, __ATOMIC_RELEASE);
}

static void setup_indirect(struct guest *gu)
{
	*desc(gu, 0) = (struct vring_desc){ DATA_GPA, 64,
					   VIRTQ_DESC_F_INDIRECT, 0 };
	publish_head(gu, 0);
}

static void test_bad_rings(void)
{
	struct vring_used_elem e;
	struct blk_backend *be;
	struct guest gu;

	blk_backend_null(DISK_SIZE, &be);
	mk_guest(&gu, be);
	ring_case(&gu, "descriptor loop 0->1->0", VQ_E_LOOP, setup_loop);
	ring_case(&gu, "chain longer than the queue", VQ_E_LOOP, setup_long);
	ring_case(&gu, "descriptor pointing at itself", VQ_E_LOOP, setup_self);
	ring_case(&gu, "next index = queue size", VQ_E_NEXT, setup_next);
	ring_case(&gu, "head index 0xffff", VQ_E_HEAD, setup_head);
	ring_case(&gu, "avail idx queue size + 1 ahead", VQ_E_AVAIL_IDX,
		  setup_avail_idx);
	ring_case(&gu, "INDIRECT descriptor", VQ_E_INDIRECT, setup_indirect);

	ok(drv_init(&gu, std_features), "reset after a broken ring: live again");
	put_req(&gu, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1);
	ok(run1(&gu, &e) && e.len == 513 &&
	   *status_byte(&gu, 0) == VIRTIO_BLK_S_OK, "and serves requests");
	ok_eq(gmem_violations(gu.g), 0, "no host access to private pages");
	free_guest(&gu);
}

/*
 * A request that arrives while the guest is unsharing its buffer: the
 * device meets a page marked busy (shared, being converted), which is not
 * a private page.  A conversion backend hook runs the device right inside
 * the unshare, at the moment the page is busy.
 */
static struct guest *busy_guest;
static const struct gmem_backend *busy_real;
static uint64_t busy_buf;
static int busy_pin_err, busy_ran;

static int busy_set_state(struct gmem *g, uint64_t off, uint64_t len,
			  enum gmem_state to, bool undo)
{
	if (to == GMEM_PRIVATE && !busy_ran) {
		busy_ran = 1;
		busy_pin_err = gmem_pin(g, busy_buf, PG);
		put_req(busy_guest, 6, VIRTIO_BLK_T_IN, 0, busy_buf, 4096, 1);
		process(busy_guest);
	}
	return busy_real->set_state(g, off, len, to, undo);
}

static const struct gmem_backend busy_backend = {
	.name = "test-busy", .set_state = busy_set_state,
};

static void test_busy_page(void)
{
	struct blk_backend *be;
	struct vblk_stats a, z;
	struct vring_used_elem e;
	struct guest gu;

	if (blk_backend_null(DISK_SIZE, &be))
		tap_bail("null backend");
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	a = stats(&gu);
	busy_guest = &gu;
	busy_buf = DATA_GPA + 0x60000;
	busy_real = gu.g->backend;
	gu.g->backend = &busy_backend;
	ok_eq(gmem_unshare(gu.g, busy_buf, PG), 0, "busy: the guest unshares its buffer");
	gu.g->backend = busy_real;
	ok_eq(busy_pin_err, -EBUSY, "busy: a pin meanwhile gets -EBUSY, not -EACCES");
	z = stats(&gu);
	ok(get_used(&gu, &e) && e.id == 6 && e.len == 1 &&
	   *status_byte(&gu, 6) == VIRTIO_BLK_S_IOERR,
	   "busy: the request on it completes IOERR");
	ok(z.err[VBLK_E_BUSY] == a.err[VBLK_E_BUSY] + 1 &&
	   z.pins_refused == a.pins_refused + 1 && z.violations == a.violations &&
	   z.err[VBLK_E_PRIVATE] == a.err[VBLK_E_PRIVATE],
	   "busy: counted as busy / a refused pin, not as a private-page violation");
	ok(gmem_page_state(gu.g, busy_buf) == GMEM_PRIVATE &&
	   gmem_page_pins(gu.g, busy_buf) == 0 && gmem_violations(gu.g) == 0,
	   "busy: the unshare finished, no pin left, no host access");
	gmem_share(gu.g, busy_buf, PG);
	free_guest(&gu);
}

int main(void)
{
	test_null_requests();
	test_malformed();
	test_bad_rings();
	test_busy_page();
	return tap_done();
}
