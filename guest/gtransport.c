// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the conversion transport: the doorbell (mailbox + port
 * write), the KVM_HC_MAP_GPA_RANGE hypercall, the conversion queue (a ring
 * in this vCPU's queue page, a kick only when the converter sleeps), and
 * host services.
 */
#include "guest.h"
#include "gmemkit/platform.h"

int64_t __doorbell_raw(uint32_t op, uint32_t flags, uint64_t gpa, uint64_t len,
		       uint64_t arg, uint32_t value, uint64_t *result)
{
	volatile struct gmem_abi_mailbox *mb = &this_page()->mbox;

	mb->op = op;
	mb->flags = flags;
	mb->gpa = gpa;
	mb->len = len;
	mb->arg = arg;
	mb->status = -GMEM_ABI_EIO;	/* stays if the VMM never answers */
	mb->result = 0;
	outl(GMEM_ABI_PORT_DOORBELL, value);
	if (result)
		*result = mb->result;
	return mb->status;
}

int64_t __doorbell(uint32_t op, uint64_t gpa, uint64_t len, uint64_t arg,
		   uint64_t *result)
{
	return __doorbell_raw(op, 0, gpa, len, arg, this_cpu(), result);
}

int64_t __hypercall_map(uint64_t gpa, uint64_t npages, uint64_t attrs)
{
	uint64_t ret;

	if (boot_info->vendor == GMEM_ABI_VENDOR_AMD)
		__asm__ volatile("vmmcall"
				 : "=a"(ret)
				 : "a"((uint64_t)GMEM_ABI_HC_MAP_GPA_RANGE), "b"(gpa),
				   "c"(npages), "d"(attrs)
				 : "memory");
	else
		__asm__ volatile("vmcall"
				 : "=a"(ret)
				 : "a"((uint64_t)GMEM_ABI_HC_MAP_GPA_RANGE), "b"(gpa),
				   "c"(npages), "d"(attrs)
				 : "memory");
	if ((int64_t)ret == -GMEM_ABI_KVM_ENOSYS)
		return -GMEM_ABI_ENOSYS;
	return (int64_t)ret;
}

/* ---- conversion queue ---------------------------------------------------- */

static uint64_t queue_kicks[GMEM_ABI_MAX_VCPUS];

static volatile struct gmem_abi_convq *this_queue(void)
{
	return (volatile struct gmem_abi_convq *)
		(GMEM_ABI_CONVQ_GPA + this_cpu() * PAGE_SIZE);
}

uint64_t queue_kick_count(void)
{
	return queue_kicks[this_cpu()];
}

void queue_kick(void)
{
	*(volatile uint32_t *)GMEM_ABI_CONVQ_KICK_GPA = this_cpu();
	queue_kicks[this_cpu()]++;
}

bool queue_stopped(void)
{
	return __atomic_load_n(&this_queue()->host_flags, __ATOMIC_ACQUIRE) &
	       GMEM_ABI_CONVQ_F_STOPPED;
}

/* Publish req_prod = prod; kick if the converter is not polling. */
void __queue_publish(uint32_t prod)
{
	volatile struct gmem_abi_convq *q = this_queue();

	/* Store req_prod, then read the flag; the converter stores the flag,
	 * then reads req_prod (abi.h), all seq_cst (the store is an xchg, a
	 * full barrier): one of the two sees the other. */
	__atomic_store_n(&q->req_prod, prod, __ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&q->host_flags, __ATOMIC_SEQ_CST) &
	      GMEM_ABI_CONVQ_F_POLLING))
		queue_kick();
}

int64_t __queue_batch(struct conv_req *r, unsigned int n, uint32_t flags)
{
	volatile struct gmem_abi_convq *q = this_queue();
	unsigned int done = 0, k, chunk;
	int64_t first = 0;

	if (q->magic != GMEM_ABI_CONVQ_MAGIC || q->size != GMEM_ABI_CONVQ_SIZE)
		return -GMEM_ABI_ENOSYS;
	while (done < n) {
		uint32_t prod = q->req_prod;

		chunk = n - done < GMEM_ABI_CONVQ_SIZE ? n - done : GMEM_ABI_CONVQ_SIZE;
		/* Room: nothing of ours is outstanding between calls. */
		while (prod - __atomic_load_n(&q->req_done, __ATOMIC_ACQUIRE) >
		       GMEM_ABI_CONVQ_SIZE - chunk) {
			if (queue_stopped())
				goto stopped;
			cpu_relax();
		}
		for (k = 0; k < chunk; k++) {
			volatile struct gmem_abi_convq_req *s =
				&q->req[(prod + k) & (GMEM_ABI_CONVQ_SIZE - 1)];

			s->op = r[done + k].share ? GMEM_ABI_OP_SHARE :
						    GMEM_ABI_OP_UNSHARE;
			s->flags = flags;
			s->gpa = r[done + k].gpa;
			s->len = r[done + k].len;
			s->tag = prod + k;
		}
		__queue_publish(prod + chunk);
		while ((int32_t)(__atomic_load_n(&q->req_done, __ATOMIC_ACQUIRE) -
				 (prod + chunk)) < 0) {
			if (queue_stopped())
				goto stopped;
			cpu_relax();
		}
		for (k = 0; k < chunk; k++) {
			volatile struct gmem_abi_convq_cpl *c =
				&q->cpl[(prod + k) & (GMEM_ABI_CONVQ_SIZE - 1)];

			r[done + k].status = c->tag == (uint64_t)(prod + k) ?
					     c->status : -GMEM_ABI_EIO;
			r[done + k].done = r[done + k].status ? 0 : c->done;
			if (!first && r[done + k].status)
				first = r[done + k].status;
		}
		done += chunk;
	}
	return first;
stopped:
	for (k = done; k < n; k++)
		r[k].status = -GMEM_ABI_EIO;
	return -GMEM_ABI_EIO;
}

int64_t __convert_batch(struct conv_req *r, unsigned int n)
{
	unsigned int i;
	int64_t first = 0;

	if (boot_info->transport == GMEM_ABI_TRANSPORT_QUEUE)
		return __queue_batch(r, n, 0);
	for (i = 0; i < n; i++) {
		r[i].status = __convert_via(boot_info->transport, r[i].share,
					    r[i].gpa, r[i].len);
		if (!first && r[i].status)
			first = r[i].status;
	}
	return first;
}

int64_t __convert_via(uint32_t transport, bool share, uint64_t gpa, uint64_t len)
{
	if (transport == GMEM_ABI_TRANSPORT_QUEUE) {
		struct conv_req r = { .share = share, .gpa = gpa, .len = len };

		__queue_batch(&r, 1, 0);
		return r.status;
	}
	if (transport == GMEM_ABI_TRANSPORT_HYPERCALL) {
		/* The hypercall speaks pages: a length that is not a whole
		 * number of pages cannot be expressed; the doorbell can. */
		if (len % PAGE_SIZE)
			return -GMEM_ABI_EINVAL;
		return __hypercall_map(gpa, len / PAGE_SIZE,
				       share ? 0 : GMEM_ABI_HC_ATTR_PRIVATE);
	}
	return __doorbell(share ? GMEM_ABI_OP_SHARE : GMEM_ABI_OP_UNSHARE,
			  gpa, len, 0, NULL);
}

/*
 * A conversion as the calls of the run's platform (boot_info.platform,
 * gmemkit/platform.h), on 4 KiB granules (the self-tests run on them):
 * ideal, or a range no platform call can carry (unaligned, empty), goes
 * as one request, so the VMM's check answers it.  Stops at the first
 * error, leaving the calls before it done.
 */
static int64_t convert_plat(bool share, uint64_t gpa, uint64_t len)
{
	enum plat p = (enum plat)boot_info->platform;
	struct plat_range r = { gpa, len };
	struct plat_call call;
	struct plat_iter it;
	uint64_t done;
	int64_t st;

	if (p == PLAT_IDEAL || plat_iter_init(&it, p, PAGE_SIZE, &r, 1))
		return __convert_via(boot_info->transport, share, gpa, len);
	while (plat_next(&it, &call)) {
		st = __convert_call(share, &call, p == PLAT_CCA, &done);
		if (st)
			return st;
		if (!done)
			return -GMEM_ABI_EIO;	/* no progress: never loop */
		plat_done(&it, &call, done);
	}
	return 0;
}

int64_t __share(uint64_t gpa, uint64_t len)
{
	return convert_plat(true, gpa, len);
}

int64_t __unshare(uint64_t gpa, uint64_t len)
{
	return convert_plat(false, gpa, len);
}

bool share(uint64_t gpa, uint64_t len)
{
	int64_t st = __share(gpa, len);

	return GUEST_CHECK(st == 0, "share 0x%lx+0x%lx: status %ld", gpa, len, st);
}

bool unshare(uint64_t gpa, uint64_t len)
{
	int64_t st = __unshare(gpa, len);

	return GUEST_CHECK(st == 0, "unshare 0x%lx+0x%lx: status %ld", gpa, len, st);
}

/* ---- host services ------------------------------------------------------- */

uint64_t host_time_ns(void)
{
	uint64_t ns = 0;

	__doorbell(GMEM_ABI_OP_HOST_TIME, 0, 0, 0, &ns);
	return ns;
}

int64_t __host_check_pattern(uint64_t gpa, uint64_t len, uint64_t seed)
{
	return __doorbell(GMEM_ABI_OP_CHECK_PATTERN, gpa, len, seed, NULL);
}

int64_t __host_check_zero(uint64_t gpa, uint64_t len)
{
	return __doorbell(GMEM_ABI_OP_CHECK_ZERO, gpa, len, 0, NULL);
}

int64_t __host_check_private(uint64_t gpa, uint64_t len)
{
	return __doorbell(GMEM_ABI_OP_CHECK_PRIVATE, gpa, len, 0, NULL);
}

bool host_check_pattern(uint64_t gpa, uint64_t len, uint64_t seed)
{
	uint64_t bad = 0;
	int64_t st = __doorbell(GMEM_ABI_OP_CHECK_PATTERN, gpa, len, seed, &bad);

	return GUEST_CHECK(st == 0, "host view of 0x%lx+0x%lx: status %ld at 0x%lx",
			   gpa, len, st, bad);
}

bool host_check_zero(uint64_t gpa, uint64_t len)
{
	uint64_t bad = 0;
	int64_t st = __doorbell(GMEM_ABI_OP_CHECK_ZERO, gpa, len, 0, &bad);

	return GUEST_CHECK(st == 0, "host view of 0x%lx+0x%lx not zero: status %ld at 0x%lx",
			   gpa, len, st, bad);
}

bool host_check_private(uint64_t gpa, uint64_t len)
{
	uint64_t acc = 0;
	int64_t st = __doorbell(GMEM_ABI_OP_CHECK_PRIVATE, gpa, len, 0, &acc);

	return GUEST_CHECK(st == 0, "host could access 0x%lx+0x%lx: status %ld, %lu pages",
			   gpa, len, st, acc);
}

uint64_t host_counter(enum gmem_abi_counter c)
{
	uint64_t v = 0;

	__doorbell(GMEM_ABI_OP_COUNTER, 0, 0, c, &v);
	return v;
}

/* A list through the doorbell: one exit for every entry (CONVERT_LIST). */
static int64_t doorbell_list(bool share, const struct plat_call *call, uint64_t *done)
{
	volatile struct gmem_abi_conv_entry *e = this_page()->list;
	uint64_t n = 0, k;
	int64_t st;

	for (k = 0; k < call->n; k++) {
		e[k].op = share ? GMEM_ABI_OP_SHARE : GMEM_ABI_OP_UNSHARE;
		e[k].pad = 0;
		e[k].gpa = call->r[k].gpa;
		e[k].len = call->r[k].len;
	}
	st = __doorbell_raw(GMEM_ABI_OP_CONVERT_LIST, 0, 0, call->n, 0, this_cpu(), &n);
	for (k = 0; k < n && k < call->n; k++)
		*done += call->r[k].len;
	return st;
}

int64_t __convert_call(bool share, const struct plat_call *call, bool partial,
		       uint64_t *done)
{
	uint32_t t = boot_info->transport, flags = partial ? GMEM_ABI_CONV_F_PARTIAL : 0;
	struct conv_req r[PLAT_MAX_ENTRIES];
	uint64_t res = 0;
	unsigned int k;
	int64_t st = 0;

	*done = 0;
	if (t == GMEM_ABI_TRANSPORT_QUEUE) {
		for (k = 0; k < call->n; k++)
			r[k] = (struct conv_req){ .share = share, .gpa = call->r[k].gpa,
						  .len = call->r[k].len };
		st = __queue_batch(r, call->n, flags);
		for (k = 0; k < call->n && !r[k].status; k++)
			*done += r[k].done;
		return st;
	}
	if (t == GMEM_ABI_TRANSPORT_DOORBELL && call->n > 1)
		return doorbell_list(share, call, done);
	if (t == GMEM_ABI_TRANSPORT_DOORBELL) {
		st = __doorbell_raw(share ? GMEM_ABI_OP_SHARE : GMEM_ABI_OP_UNSHARE, flags,
				    call->r[0].gpa, call->r[0].len, 0, this_cpu(), &res);
		*done = st ? 0 : partial ? res : call->r[0].len;
		return st;
	}
	for (k = 0; k < call->n && !st; k++) {	/* hypercall: no list */
		st = __convert_via(t, share, call->r[k].gpa, call->r[k].len);
		if (!st)
			*done += call->r[k].len;
	}
	return st;
}
