// SPDX-License-Identifier: GPL-2.0
/*
 * Fault-injecting block backend (see include/gmemkit/blk_fault.h).
 *
 * Every I/O gets a shadow blk_io with its own copy of the iovec, which is
 * what the inner backend sees (so a short transfer can be cut without
 * touching the device's iovec); the inner backend's completion is mapped
 * back to the device's blk_io.  Shadows are recycled through a free list
 * and all freed at destroy.  All callbacks run under the device's
 * processing lock.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/parse.h"
#include "harness/blk_fault.h"

struct fault_io {
	struct blk_io io;		/* first: what the inner backend gets */
	struct blk_io *orig;		/* the device's I/O */
	bool cut;			/* short fault: report -EIO */
	bool corrupt;			/* flip a byte of a successful read */
	unsigned int iov_cap;
	struct iovec *iov;
	struct fault_io *next_free;
	struct fault_io *next_all;
};

struct fault_backend {
	struct blk_backend be;		/* first */
	struct blk_backend *inner;
	struct blk_fault_config cfg;
	uint64_t rng;
	uint64_t seen[BLK_FAULT_NR];	/* eligible I/Os so far, per kind */
	struct fault_io *free_list;
	struct fault_io *all;
	atomic_uint_fast64_t ios, passed, completed, inflight, total;
	atomic_uint_fast64_t eligible[BLK_FAULT_NR];
	atomic_uint_fast64_t injected[BLK_FAULT_NR];
};

static const struct blk_backend_ops fault_ops;

static const char *const kind_names[BLK_FAULT_NR] = {
	[BLK_FAULT_SUBMIT] = "submit",
	[BLK_FAULT_EIO] = "eio",
	[BLK_FAULT_ENOSPC] = "enospc",
	[BLK_FAULT_SHORT] = "short",
	[BLK_FAULT_KICK] = "kick",
	[BLK_FAULT_CORRUPT] = "corrupt",
};

const char *blk_fault_kind_name(enum blk_fault_kind k)
{
	return (unsigned int)k < BLK_FAULT_NR ? kind_names[k] : NULL;
}

static struct fault_backend *to_fault(struct blk_backend *be)
{
	return (struct fault_backend *)be;
}

#define inc(a)	atomic_fetch_add_explicit(&(a), 1, memory_order_relaxed)
#define dec(a)	atomic_fetch_sub_explicit(&(a), 1, memory_order_relaxed)
#define get(a)	atomic_load_explicit(&(a), memory_order_relaxed)

/* xorshift64* */
static uint64_t next_rand(struct fault_backend *f)
{
	uint64_t x = f->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	f->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static bool eligible(enum blk_fault_kind k, const struct blk_io *io)
{
	switch (k) {
	case BLK_FAULT_ENOSPC:
		return io->op != BLK_OP_READ;
	case BLK_FAULT_SHORT:
		return io->op != BLK_OP_FLUSH &&
		       io->len > VIRTIO_BLK_SECTOR_SIZE;
	case BLK_FAULT_CORRUPT:
		return io->op == BLK_OP_READ && io->niov;
	case BLK_FAULT_KICK:
		return false;		/* per kick, not per I/O */
	default:
		return true;
	}
}

/* Does rule k fire now (its eligible count just went up)? */
static bool fires(struct fault_backend *f, enum blk_fault_kind k)
{
	const struct blk_fault_rule *r = &f->cfg.rule[k];
	bool fire;

	inc(f->eligible[k]);
	f->seen[k]++;
	fire = r->nth && f->seen[k] == r->nth;
	if (r->rate > 0)
		fire |= (double)(next_rand(f) >> 11) * 0x1p-53 < r->rate;
	return fire;
}

/* Which fault this I/O gets, or BLK_FAULT_NR for none. */
static enum blk_fault_kind pick_fault(struct fault_backend *f,
				      const struct blk_io *io)
{
	enum blk_fault_kind k, hit = BLK_FAULT_NR;

	for (k = 0; k < BLK_FAULT_NR; k++)
		if (eligible(k, io) && fires(f, k) && hit == BLK_FAULT_NR)
			hit = k;
	return hit;
}

static struct fault_io *get_shadow(struct fault_backend *f, unsigned int niov)
{
	struct fault_io *s = f->free_list;
	struct iovec *iov;

	if (s)
		f->free_list = s->next_free;
	else {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->next_all = f->all;
		f->all = s;
	}
	if (s->iov_cap < niov) {
		iov = realloc(s->iov, niov * sizeof(*iov));
		if (!iov) {
			s->next_free = f->free_list;
			f->free_list = s;
			return NULL;
		}
		s->iov = iov;
		s->iov_cap = niov;
	}
	return s;
}

static void put_shadow(struct fault_backend *f, struct fault_io *s)
{
	s->next_free = f->free_list;
	f->free_list = s;
}

/* Keep the first keep bytes of the shadow's iovec. */
static void cut_iov(struct fault_io *s, uint64_t keep)
{
	unsigned int i;

	for (i = 0; i < s->io.niov && keep; i++) {
		if (s->io.iov[i].iov_len >= keep) {
			s->io.iov[i].iov_len = keep;
			keep = 0;
		} else {
			keep -= s->io.iov[i].iov_len;
		}
	}
	s->io.niov = i;
}

static void report(struct fault_backend *f, struct blk_io *orig, long res)
{
	inc(f->completed);
	dec(f->inflight);
	f->be.complete(&f->be, orig, res);
}

static void inner_done(struct blk_backend *inner, struct blk_io *io, long res)
{
	struct fault_backend *f = inner->complete_arg;
	struct fault_io *s = (struct fault_io *)io;
	struct blk_io *orig = s->orig;
	bool cut = s->cut;

	if (s->corrupt && res >= 0) {
		uint64_t r = next_rand(f);
		struct iovec *v = &orig->iov[r % orig->niov];

		((volatile uint8_t *)v->iov_base)[(r >> 16) % v->iov_len] ^= 0x40;
	}
	put_shadow(f, s);
	report(f, orig, cut ? -EIO : res);
}

static int fault_submit(struct blk_backend *be, struct blk_io *io)
{
	struct fault_backend *f = to_fault(be);
	enum blk_fault_kind k = pick_fault(f, io);
	struct fault_io *s;
	int ret;

	inc(f->ios);
	if (k != BLK_FAULT_NR) {
		inc(f->injected[k]);
		inc(f->total);
	}
	if (k == BLK_FAULT_SUBMIT)
		return -EAGAIN;
	inc(f->inflight);
	if (k == BLK_FAULT_EIO || k == BLK_FAULT_ENOSPC) {
		report(f, io, k == BLK_FAULT_EIO ? -EIO : -ENOSPC);
		return 0;
	}
	s = get_shadow(f, io->niov ? io->niov : 1);
	if (!s) {
		dec(f->inflight);
		return -ENOMEM;
	}
	s->orig = io;
	s->io = *io;
	s->io.iov = s->iov;
	if (io->niov)
		memcpy(s->iov, io->iov, io->niov * sizeof(*s->iov));
	s->cut = k == BLK_FAULT_SHORT;
	s->corrupt = k == BLK_FAULT_CORRUPT;
	if (s->cut) {
		uint64_t sectors = io->len >> VIRTIO_BLK_SECTOR_SHIFT;
		uint64_t keep = 1 + next_rand(f) % (sectors - 1);

		s->io.len = keep << VIRTIO_BLK_SECTOR_SHIFT;
		cut_iov(s, s->io.len);
	} else if (!s->corrupt) {
		inc(f->passed);
	}
	ret = f->inner->ops->submit(f->inner, &s->io);
	if (ret) {
		put_shadow(f, s);
		dec(f->inflight);
	}
	return ret;
}

static int fault_kick(struct blk_backend *be)
{
	struct fault_backend *f = to_fault(be);

	if (fires(f, BLK_FAULT_KICK)) {
		inc(f->injected[BLK_FAULT_KICK]);
		inc(f->total);
		return -EAGAIN;
	}
	return f->inner->ops->kick(f->inner);
}

static int fault_reap(struct blk_backend *be, bool wait)
{
	struct fault_backend *f = to_fault(be);

	return f->inner->ops->reap(f->inner, wait);
}

static void fault_destroy(struct blk_backend *be)
{
	struct fault_backend *f = to_fault(be);
	struct fault_io *s, *n;

	blk_backend_destroy(f->inner);
	for (s = f->all; s; s = n) {
		n = s->next_all;
		free(s->iov);
		free(s);
	}
	free(f);
}

static const struct blk_backend_ops fault_ops = {
	.submit = fault_submit,
	.kick = fault_kick,
	.reap = fault_reap,
	.destroy = fault_destroy,
};

static bool rate_ok(double r)
{
	return r >= 0.0 && r <= 1.0;	/* false for NaN */
}

int blk_fault_wrap(struct blk_backend *inner, const struct blk_fault_config *cfg,
		   struct blk_backend **out)
{
	struct fault_backend *f;
	unsigned int k;

	if (!inner || !cfg || !out)
		return -EINVAL;
	for (k = 0; k < BLK_FAULT_NR; k++)
		if (!rate_ok(cfg->rule[k].rate))
			return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->inner = inner;
	f->cfg = *cfg;
	f->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ULL;
	f->be = *inner;		/* capacity, flags, id, event_fd, names */
	f->be.ops = &fault_ops;
	f->be.complete = NULL;
	f->be.complete_arg = NULL;
	inner->complete = inner_done;
	inner->complete_arg = f;
	*out = &f->be;
	return 0;
}

int blk_fault_get_stats(struct blk_backend *be, struct blk_fault_stats *st)
{
	struct fault_backend *f;
	unsigned int k;

	if (!be || !st || be->ops != &fault_ops)
		return -EINVAL;
	f = to_fault(be);
	memset(st, 0, sizeof(*st));
	st->ios = get(f->ios);
	st->passed = get(f->passed);
	st->completed = get(f->completed);
	st->inflight = get(f->inflight);
	st->injected_total = get(f->total);
	for (k = 0; k < BLK_FAULT_NR; k++) {
		st->eligible[k] = get(f->eligible[k]);
		st->injected[k] = get(f->injected[k]);
	}
	return 0;
}

/* ---- spec parsing ------------------------------------------------------------ */

static int parse_item(const char *item, struct blk_fault_config *cfg)
{
	const char *colon = strchr(item, ':'), *v;
	unsigned int k;
	char *end;

	if (!colon || colon == item || !colon[1])
		return -EINVAL;
	for (k = 0; k < BLK_FAULT_NR; k++)
		if (strlen(kind_names[k]) == (size_t)(colon - item) &&
		    !strncmp(item, kind_names[k], (size_t)(colon - item)))
			break;
	if (k == BLK_FAULT_NR)
		return -EINVAL;
	v = colon + 1;
	if (*v == '#') {
		uint64_t n;

		if (parse_u64(v + 1, 1, UINT64_MAX, &n))
			return -EINVAL;
		cfg->rule[k].nth = n;
	} else {
		double r;

		if ((*v < '0' || *v > '9') && *v != '.')
			return -EINVAL;
		errno = 0;
		r = strtod(v, &end);
		if (errno || *end || !rate_ok(r) || isnan(r))
			return -EINVAL;
		cfg->rule[k].rate = r;
	}
	return 0;
}

int blk_fault_parse(const char *spec, struct blk_fault_config *cfg)
{
	struct blk_fault_config tmp;
	char *copy, *item, *save = NULL;
	int ret = 0;

	if (!spec || !cfg || !*spec)
		return -EINVAL;
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	tmp = *cfg;
	if (copy[strlen(copy) - 1] == ',' || copy[0] == ',' || strstr(copy, ",,"))
		ret = -EINVAL;
	for (item = strtok_r(copy, ",", &save); item && !ret;
	     item = strtok_r(NULL, ",", &save))
		ret = parse_item(item, &tmp);
	free(copy);
	if (!ret)
		*cfg = tmp;
	return ret;
}
