// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk device, host only, the transport and the device's life: the
 * status machine, features, queue setup, access widths, the device thread,
 * ioeventfd and busy polling, and that a register access never waits for
 * the I/O the device is doing (a backend that blocks).  Requests:
 * tests/t_virtio_blk_req.c; I/O in flight, resets and file backends:
 * tests/t_virtio_blk_io.c.
 */
#include <pthread.h>

#include "virtio_blk_guest.h"

/* ---- transport ----------------------------------------------------------- */

static void test_transport(void)
{
	struct blk_backend *be;
	struct guest gu;
	struct vblk_stats st0, st;
	uint64_t f, cap = 0;
	uint32_t v;
	uint8_t b1;

	if (blk_backend_null(DISK_SIZE, &be))
		tap_bail("null backend");
	mk_guest(&gu, be);
	ok_eq(rd(&gu, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC, "magic");
	ok_eq(rd(&gu, VIRTIO_MMIO_VERSION), 2, "version 2");
	ok_eq(rd(&gu, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK, "device id blk");
	ok_eq(rd(&gu, VIRTIO_MMIO_VENDOR_ID), GMEM_VIRTIO_VENDOR_ID, "vendor");
	ok_eq(rd(&gu, VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE, "QueueNumMax");
	f = dev_features(&gu);
	ok((f & VIRTIO_BIT(VIRTIO_F_VERSION_1)) &&
	   (f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)) &&
	   !(f & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)) &&
	   !(f & VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)) &&
	   !(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)),
	   "features: VERSION_1, FLUSH; no EVENT_IDX, INDIRECT, RO");
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG, &cap, 8, false);
	ok_eq(cap, DISK_SIZE / 512, "config capacity in sectors (8-byte read)");
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG + 12, &v, 4, false);
	ok_eq(v, SEG_MAX, "config seg_max");
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG + 1, &b1, 1, false);
	ok_eq(b1, (DISK_SIZE / 512) >> 8 & 0xff, "config byte access");
	st0 = stats(&gu);
	v = 0x12345678;
	ok(!virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG + 2, &v, 4, false) &&
	   v == 0, "misaligned config read: ignored, reads 0");
	b1 = 0x77;
	ok(!virtio_mmio_access(gu.m, VIRTIO_MMIO_STATUS, &b1, 1, false) &&
	   b1 == 0, "1-byte register read: ignored, reads 0");
	v = 0x12345678;
	ok(!virtio_mmio_access(gu.m, 0xffe, &v, 4, false) && v == 0,
	   "access running off the window: ignored");
	v = 1;
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG, &v, 4, true);
	virtio_mmio_access(gu.m, VIRTIO_MMIO_MAGIC_VALUE, &v, 4, true);
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG, &cap, 8, false);
	st = stats(&gu);
	ok(st.bad_access == st0.bad_access + 5 && cap == DISK_SIZE / 512 &&
	   rd(&gu, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC,
	   "refused accesses counted (%llu), config and registers unchanged",
	   (unsigned long long)(st.bad_access - st0.bad_access));
	ok_eq(virtio_mmio_access(gu.m, 0x1000, &v, 4, false), -ERANGE,
	      "offset outside the window: -ERANGE (caller bug)");
	ok_eq(virtio_mmio_access(gu.m, 0, &v, 16, false), -EINVAL,
	      "length 16: -EINVAL (caller bug)");
	ok(!virtio_mmio_handler(gu.m, VIRTIO_MMIO_DEVICE_ID, &v, 4, false) &&
	   v == VIRTIO_ID_BLOCK, "virtio_mmio_handler() takes the transport "
	   "as opaque");
	v = 0x12345678;
	virtio_mmio_access(gu.m, VIRTIO_MMIO_CONFIG + 0x200, &v, 4, false);
	ok_eq(v, 0, "read past the config space reads 0");

	st0 = stats(&gu);
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DRIVER);
	ok_eq(rd(&gu, VIRTIO_MMIO_STATUS), 0, "DRIVER without ACKNOWLEDGE refused");
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	set_features(&gu, std_features);
	st = stats(&gu);
	ok(st.bad_config >= st0.bad_config + 2,
	   "driver features before DRIVER refused and counted");
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER);
	set_features(&gu, VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ok(!(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK),
	   "FEATURES_OK refused without VERSION_1");
	set_features(&gu, std_features | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX));
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ok(!(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK),
	   "FEATURES_OK refused for a feature not offered");
	wr(&gu, VIRTIO_MMIO_QUEUE_READY, 1);
	ok_eq(rd(&gu, VIRTIO_MMIO_QUEUE_READY), 0,
	      "QueueReady refused before FEATURES_OK");
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	ok(!(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK),
	   "DRIVER_OK refused before FEATURES_OK");
	set_features(&gu, std_features);
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ok(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK,
	   "FEATURES_OK accepted for an offered subset with VERSION_1");
	wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	ok(rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK,
	   "clearing status bits refused");
	set_features(&gu, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	st = stats(&gu);
	ok(st.bad_config > st0.bad_config + 4,
	   "refused status/feature writes counted (%llu)",
	   (unsigned long long)(st.bad_config - st0.bad_config));

	/* Queue size and ring placement. */
	set_queue(&gu, 48, DESC_GPA, AVAIL_GPA, USED_GPA);
	wr(&gu, VIRTIO_MMIO_QUEUE_READY, 1);
	ok(!rd(&gu, VIRTIO_MMIO_QUEUE_READY) &&
	   (rd(&gu, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET),
	   "queue size not a power of 2: not ready, NEEDS_RESET");
	wr(&gu, VIRTIO_MMIO_STATUS, 0);
	ok_eq(rd(&gu, VIRTIO_MMIO_STATUS), 0, "reset clears status");
	struct { uint32_t num; uint64_t d, a, u; const char *what; } bad[] = {
		{ 2 * QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, "size above max" },
		{ 0, DESC_GPA, AVAIL_GPA, USED_GPA, "size 0" },
		{ QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA, "desc misaligned" },
		{ QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2, "used misaligned" },
		{ QSIZE, PRIV_GPA, AVAIL_GPA, USED_GPA, "desc on private page" },
		{ QSIZE, DESC_GPA, RAM_SIZE - 8, USED_GPA, "avail past RAM" },
		{ QSIZE, DESC_GPA, AVAIL_GPA, 0xfffffffffffff000ULL,
		  "used wrapping" },
		{ QSIZE, DESC_GPA, DESC_GPA + 0x100, USED_GPA,
		  "avail inside desc table" },
	};
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wr(&gu, VIRTIO_MMIO_STATUS, 0);
		wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
		   VIRTIO_STATUS_DRIVER);
		set_features(&gu, std_features);
		wr(&gu, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
		   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		set_queue(&gu, bad[i].num, bad[i].d, bad[i].a, bad[i].u);
		wr(&gu, VIRTIO_MMIO_QUEUE_READY, 1);
		ok(!rd(&gu, VIRTIO_MMIO_QUEUE_READY) &&
		   (rd(&gu, VIRTIO_MMIO_STATUS) &
		    VIRTIO_STATUS_DEVICE_NEEDS_RESET),
		   "rings refused: %s", bad[i].what);
	}
	ok_eq(gmem_page_pins(gu.g, DESC_GPA), 0, "refused rings left no pins");

	ok(drv_init(&gu, std_features), "full driver init goes live");
	ok_eq(gmem_page_pins(gu.g, DESC_GPA), 1, "desc table pinned while ready");
	ok_eq(gmem_unshare(gu.g, USED_GPA, PG), -EBUSY,
	      "guest unshare of the used ring refused while ready");
	wr(&gu, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(&gu, VIRTIO_MMIO_QUEUE_SEL, 0);
	ok_eq(rd(&gu, VIRTIO_MMIO_QUEUE_READY), 1, "queue regs frozen while ready");
	wr(&gu, VIRTIO_MMIO_QUEUE_SEL, 3);
	ok_eq(rd(&gu, VIRTIO_MMIO_QUEUE_NUM_MAX), 0, "queue 3 does not exist");
	wr(&gu, VIRTIO_MMIO_QUEUE_SEL, 0);

	/* Interrupt status follows completions; ACK clears. */
	put_req(&gu, 0, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, 1);
	{
		struct vring_used_elem e;

		ok(run1(&gu, &e) && *status_byte(&gu, 0) == VIRTIO_BLK_S_OK,
		   "request after init completes");
	}
	ok(rd(&gu, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING,
	   "InterruptStatus used-buffer bit set");
	wr(&gu, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ok_eq(rd(&gu, VIRTIO_MMIO_INTERRUPT_STATUS), 0, "InterruptACK clears");

	wr(&gu, VIRTIO_MMIO_QUEUE_READY, 0);
	ok_eq(gmem_page_pins(gu.g, DESC_GPA), 0, "QueueReady=0 unpins rings");
	ok_eq(gmem_unshare(gu.g, USED_GPA, PG), 0,
	      "unshare of former ring page works after disable");
	gmem_share(gu.g, USED_GPA, PG);
	ok_eq(process(&gu), -EAGAIN, "processing a disabled queue: -EAGAIN");
	free_guest(&gu);
}

/* ---- register accesses never wait for I/O ---------------------------------- */

/*
 * A backend whose submit() (with block_submit) or waiting reap() blocks
 * until the test opens its gate: the device sits inside I/O, with its
 * processing lock held, for as long as the test wants.  Without
 * block_submit, submit() holds the I/O until a reap after the gate opened.
 */
struct gate_be {
	struct blk_backend be;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	int blocked;			/* threads inside the gate now */
	bool block_submit;
	struct blk_io *io[QSIZE];	/* held (device's processing lock) */
	unsigned int n;
};

#define GATE_TIMEOUT_S	5	/* turns a hang into a failure */

static struct timespec deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += GATE_TIMEOUT_S;
	return ts;
}

static void gate_pass(struct gate_be *g)
{
	pthread_mutex_lock(&g->lock);
	g->blocked++;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	g->blocked--;
	pthread_mutex_unlock(&g->lock);
}

/* How many threads are inside the gate; whether it is open in *open. */
static int gate_state(struct gate_be *g, bool *open)
{
	int n;

	pthread_mutex_lock(&g->lock);
	n = g->blocked;
	if (open)
		*open = g->open;
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* Wait (bounded) until a thread is inside the gate. */
static bool gate_wait_blocked(struct gate_be *g)
{
	struct timespec ts = deadline();
	int ret = 0;

	pthread_mutex_lock(&g->lock);
	while (!g->blocked && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	ret = g->blocked;
	pthread_mutex_unlock(&g->lock);
	return ret;
}

static void gate_set(struct gate_be *g, bool open)
{
	pthread_mutex_lock(&g->lock);
	g->open = open;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static int gate_submit(struct blk_backend *be, struct blk_io *io)
{
	struct gate_be *g = (struct gate_be *)be;

	if (g->block_submit) {
		gate_pass(g);
		be->complete(be, io, io_result(io));
		return 0;
	}
	if (g->n == QSIZE)
		return -EAGAIN;
	g->io[g->n++] = io;
	return 0;
}

static int gate_reap(struct blk_backend *be, bool wait)
{
	struct gate_be *g = (struct gate_be *)be;
	unsigned int i, n = g->n;
	bool open;

	if (!n)
		return 0;
	gate_state(g, &open);
	if (wait)
		gate_pass(g);
	else if (!open)
		return 0;
	g->n = 0;
	for (i = 0; i < n; i++)
		be->complete(be, g->io[i], io_result(g->io[i]));
	return (int)n;
}

static void gate_destroy(struct blk_backend *be)
{
	struct gate_be *g = (struct gate_be *)be;

	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static const struct blk_backend_ops gate_ops = {
	.submit = gate_submit, .kick = held_kick, .reap = gate_reap,
	.destroy = gate_destroy,
};

static struct gate_be *gate_new(bool block_submit)
{
	struct gate_be *g = calloc(1, sizeof(*g));

	if (!g)
		tap_bail("calloc");
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->block_submit = block_submit;
	test_backend_init(&g->be, &gate_ops, "gate");
	return g;
}

/* A vCPU's register accesses, on a thread of their own. */
struct vcpu_regs {
	struct guest *gu;
	bool notify;			/* also write QueueNotify */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	uint32_t status, isr, ready;
	uint64_t cap;
};

static void *vcpu_regs_fn(void *arg)
{
	struct vcpu_regs *v = arg;
	uint64_t cap = 0;

	v->status = rd(v->gu, VIRTIO_MMIO_STATUS);
	v->isr = rd(v->gu, VIRTIO_MMIO_INTERRUPT_STATUS);
	wr(v->gu, VIRTIO_MMIO_INTERRUPT_ACK, 0);
	wr(v->gu, VIRTIO_MMIO_QUEUE_SEL, 0);
	v->ready = rd(v->gu, VIRTIO_MMIO_QUEUE_READY);
	virtio_mmio_access(v->gu->m, VIRTIO_MMIO_CONFIG, &cap, 8, false);
	v->cap = cap;
	if (v->notify)
		wr(v->gu, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pthread_mutex_lock(&v->lock);
	v->done = true;
	pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

/*
 * Run the register accesses on a thread while g holds the device inside
 * I/O; true if they all returned while it still does.  The gate is opened
 * either way, so that a device that makes them wait fails and does not
 * hang.
 */
static bool regs_while_blocked(struct guest *gu, struct gate_be *g,
			       bool notify, struct vcpu_regs *v)
{
	struct timespec ts = deadline();
	pthread_t t;
	bool done;
	int blocked, ret = 0;

	memset(v, 0, sizeof(*v));
	v->gu = gu;
	v->notify = notify;
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	if (pthread_create(&t, NULL, vcpu_regs_fn, v))
		tap_bail("pthread_create");
	pthread_mutex_lock(&v->lock);
	while (!v->done && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&v->cond, &v->lock, &ts);
	done = v->done;
	pthread_mutex_unlock(&v->lock);
	blocked = gate_state(g, NULL);	/* still inside I/O after them */
	gate_set(g, true);
	pthread_join(t, NULL);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->lock);
	return done && blocked == 1;
}

/*
 * A second vCPU runs fn (a register write that ends up inside the backend);
 * true if v's accesses returned while it was there.  The gate is opened
 * before the join either way.
 */
static bool regs_while_in(struct guest *gu, struct gate_be *g,
			  void *(*fn)(void *), struct vcpu_regs *v)
{
	pthread_t t;
	bool in;

	if (pthread_create(&t, NULL, fn, gu))
		tap_bail("pthread_create");
	in = gate_wait_blocked(g) && regs_while_blocked(gu, g, false, v);
	gate_set(g, true);
	pthread_join(t, NULL);
	return in;
}

/* A fresh driver and one 512-byte request at head, gate closed. */
static void gate_request(struct guest *gu, struct gate_be *g, uint16_t head,
			 uint32_t type)
{
	gate_set(g, false);
	if (!drv_init(gu, std_features))
		tap_bail("driver init");
	put_req(gu, head, type, 0, DATA_GPA, 512, 1);
}

/* The notifying vCPU without a device thread: processes in the writer. */
static void *notify_fn(void *arg)
{
	wr(arg, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	return NULL;
}

/* The resetting vCPU: Status 0 drains, and the drain waits for the gate. */
static void *reset_fn(void *arg)
{
	wr(arg, VIRTIO_MMIO_STATUS, 0);
	return NULL;
}

/* The same for QueueReady 0 (queue 0 selected). */
static void *unready_fn(void *arg)
{
	wr(arg, VIRTIO_MMIO_QUEUE_READY, 0);
	return NULL;
}

static const uint32_t st_live = VIRTIO_STATUS_ACKNOWLEDGE |
				VIRTIO_STATUS_DRIVER |
				VIRTIO_STATUS_FEATURES_OK |
				VIRTIO_STATUS_DRIVER_OK;

/*
 * One vCPU (or the device thread) is inside the backend with the device's
 * processing lock held; another vCPU's register accesses must not wait.
 * The old device ran the whole pass under the register lock: these time out
 * there (GATE_TIMEOUT_S) and fail.
 */
static void test_no_wait(void)
{
	struct gate_be *g = gate_new(true);
	struct vring_used_elem e;
	struct vcpu_regs v;
	struct guest gu;
	bool in;

	mk_guest(&gu, &g->be);

	/* 1: the device thread blocks in submit(). */
	gate_request(&gu, g, 0, VIRTIO_BLK_T_OUT);
	if (vblk_start(gu.b))
		tap_bail("vblk_start");
	eventfd_write(vblk_notify_fd(gu.b), 1);
	in = gate_wait_blocked(g);
	ok(in, "no-wait: the device thread is inside the backend's submit");
	ok(in && regs_while_blocked(&gu, g, true, &v),
	   "no-wait: Status, InterruptStatus, QueueReady, config, InterruptACK "
	   "and QueueNotify return while the thread's submit blocks");
	gate_set(g, true);
	ok(v.status == st_live && v.ready == 1 && v.cap == DISK_SIZE / 512,
	   "no-wait: and read the live values (status %#x)", v.status);
	ok(get_used(&gu, &e) && e.id == 0 && *status_byte(&gu, 0) ==
	   VIRTIO_BLK_S_OK, "no-wait: the request completes once released");
	vblk_stop(gu.b);

	/* 2: no thread; a vCPU's QueueNotify processes in the writer. */
	gate_request(&gu, g, 1, VIRTIO_BLK_T_IN);
	ok(regs_while_in(&gu, g, notify_fn, &v),
	   "no-wait: register accesses return while another vCPU's "
	   "QueueNotify is inside the backend");
	ok(get_used(&gu, &e) && e.id == 1 && e.len == 513,
	   "no-wait: the notified request completes");

	/* 3: a reset whose drain waits for the backend. */
	g->block_submit = false;
	gate_request(&gu, g, 2, VIRTIO_BLK_T_OUT);
	ok_eq(process(&gu), 1, "no-wait: a request held in flight");
	ok(regs_while_in(&gu, g, reset_fn, &v),
	   "no-wait: register accesses return while a reset drains");
	ok_eq(v.status, st_live,
	      "no-wait: Status reads its old value until the reset is done");
	ok(rd(&gu, VIRTIO_MMIO_STATUS) == 0 &&
	   *status_byte(&gu, 2) == VIRTIO_BLK_S_OK &&
	   gmem_page_pins(gu.g, DATA_GPA) == 0 && stats(&gu).orphans == 0,
	   "no-wait: the reset drained the request, then reads 0");

	/* 4: QueueReady 0 whose drain waits for the backend. */
	gate_request(&gu, g, 3, VIRTIO_BLK_T_IN);
	ok_eq(process(&gu), 1, "no-wait: another request held in flight");
	ok(regs_while_in(&gu, g, unready_fn, &v) && v.ready == 1 &&
	   v.status == st_live,
	   "no-wait: register accesses return while QueueReady 0 drains "
	   "(the queue reads ready until it is done)");
	ok(rd(&gu, VIRTIO_MMIO_QUEUE_READY) == 0 &&
	   *status_byte(&gu, 3) == VIRTIO_BLK_S_OK &&
	   gmem_page_pins(gu.g, DATA_GPA) == 0,
	   "no-wait: QueueReady 0 drained the request, then reads 0");
	free_guest(&gu);
}

/* ---- device thread and ioeventfd ------------------------------------------ */

static void test_thread(void)
{
	char *path = mk_disk();
	struct blk_backend *be;
	struct vring_used_elem e;
	struct guest gu;
	bool all = true;
	int efd;

	if (blk_backend_file(path, 0, 64, &be))
		tap_bail("file backend");
	mk_guest(&gu, be);
	if (!drv_init(&gu, std_features))
		tap_bail("driver init");
	ok_eq(vblk_start(gu.b), 0, "device thread started");
	ok_eq(vblk_start(gu.b), -EALREADY, "second start: -EALREADY");
	efd = vblk_notify_fd(gu.b);
	fill(gu.mem + DATA_GPA, 64 * 1024, 3);
	for (uint16_t h = 0; h < 16; h++)
		put_req(&gu, h * 4, VIRTIO_BLK_T_OUT, h * 8,
			DATA_GPA + h * 4096UL, 4096, 1);
	eventfd_write(efd, 1);		/* what KVM_IOEVENTFD does */
	for (uint16_t h = 0; h < 16; h++)
		all &= get_used(&gu, &e) && e.len == 1 &&
		       *status_byte(&gu, e.id) == VIRTIO_BLK_S_OK;
	ok(all, "16 OUTs via the notify eventfd, completed by the thread");
	memset(gu.mem + DATA_GPA + 0x80000, 0, 64 * 1024);
	for (uint16_t h = 0; h < 16; h++)
		put_req(&gu, h * 4, VIRTIO_BLK_T_IN, h * 8,
			DATA_GPA + 0x80000 + h * 4096UL, 4096, 1);
	wr(&gu, VIRTIO_MMIO_QUEUE_NOTIFY, 0);	/* MMIO notify path */
	all = true;
	for (uint16_t h = 0; h < 16; h++)
		all &= get_used(&gu, &e) && e.len == 4097;
	ok(all && !memcmp(gu.mem + DATA_GPA, gu.mem + DATA_GPA + 0x80000,
			  64 * 1024),
	   "16 INs via MMIO QueueNotify read the data back");
	ok(stats(&gu).notifies >= 2, "notifications counted");
	vblk_stop(gu.b);
	ok_eq(stats(&gu).inflight, 0, "nothing in flight after stop");
	free_guest(&gu);
	unlink(path);
}

/* Wait up to ms for used->flags == want. */
static bool wait_flags(struct guest *gu, uint16_t want, int ms)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(&used(gu)->flags, __ATOMIC_ACQUIRE) == want)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void test_busy_poll(void)
{
	struct timespec ms100 = { 0, 100000000 };
	struct blk_backend *be;
	struct vring_used_elem e;
	struct vblk_params p = { 0 };
	struct vblk *bad;
	struct guest gu;

	blk_backend_null(DISK_SIZE, &be);
	mk_poll_us = 300000;
	mk_guest(&gu, be);
	mk_poll_us = 0;
	blk_backend_null(DISK_SIZE, &p.backend);
	p.mem = gu.g;
	p.poll_us = 1000001;
	ok_eq(vblk_create(&p, &bad), -EINVAL, "poll_us above 1 s refused");
	blk_backend_destroy(p.backend);
	if (!drv_init(&gu, std_features) || vblk_start(gu.b))
		tap_bail("driver init / start");
	put_req(&gu, 0, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, 1);
	eventfd_write(vblk_notify_fd(gu.b), 1);
	ok(get_used(&gu, &e) && e.id == 0, "notified request completes");
	ok(wait_flags(&gu, VIRTQ_USED_F_NO_NOTIFY, 1000),
	   "device busy-polls: used->flags NO_NOTIFY");
	put_req(&gu, 4, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1);
	ok(get_used(&gu, &e) && e.id == 4 && e.len == 513,
	   "request published without a notification is picked up by polling");
	ok(stats(&gu).polled >= 1, "counted as polled (%llu)",
	   (unsigned long long)stats(&gu).polled);
	ok(wait_flags(&gu, 0, 3000),
	   "after the idle window notifications are asked for again");
	put_req(&gu, 8, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1);
	nanosleep(&ms100, NULL);
	ok_eq(__atomic_load_n(&used(&gu)->idx, __ATOMIC_ACQUIRE), gu.used_seen,
	      "sleeping device: an unnotified request waits");
	eventfd_write(vblk_notify_fd(gu.b), 1);
	ok(get_used(&gu, &e) && e.id == 8, "and the notification serves it");
	vblk_stop(gu.b);
	free_guest(&gu);
}

int main(void)
{
	test_transport();
	test_no_wait();
	test_thread();
	test_busy_poll();
	return tap_done();
}
