// SPDX-License-Identifier: GPL-2.0
/*
 * Platform profiles: the calls a conversion becomes (gmemkit/platform.h).
 * Freestanding: also built into the guest image.
 */
#include "gmemkit/platform.h"

const char *const plat_names[PLAT_MAX] = {
#define PLAT_NAME(id, value, name, exitless, destroys, list)	[PLAT_##id] = (name),
	PLAT_PROFILES(PLAT_NAME)
#undef PLAT_NAME
};

const char *plat_name(enum plat p)
{
	return (unsigned int)p < PLAT_MAX ? plat_names[p] : "?";
}

const char *plat_not_modelled(enum plat p)
{
	switch (p) {
	case PLAT_PKVM:
		return "EL2's stage-2 update and TLB invalidation per call";
	case PLAT_TDX:
		return "the TDX module's TDH.MEM.* work and the guest's TDG.MEM.PAGE.ACCEPT";
	case PLAT_SNP:
		return "RMPUPDATE in the host, PVALIDATE in the guest, and KVM's extra "
		       "userspace exit per contiguous run of a list";
	case PLAT_CCA:
		return "the RMM's RTT and RIPAS updates";
	default:
		return "";
	}
}

static bool same(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int plat_from_name(const char *name, enum plat *out)
{
	unsigned int p;

	for (p = 0; name && p < PLAT_MAX; p++) {
		if (same(name, plat_names[p])) {
			*out = (enum plat)p;
			return 0;
		}
	}
	return -1;
}

bool plat_exitless(enum plat p)
{
	return plat_in(p, PLAT_EXITLESS_SET);
}

bool plat_destroys(enum plat p)
{
	return plat_in(p, PLAT_DESTROYS_SET);
}

bool plat_takes_list(enum plat p)
{
	return plat_in(p, PLAT_LIST_SET);
}

int plat_iter_init(struct plat_iter *it, enum plat p, uint64_t granule,
		   const struct plat_range *r, unsigned int nr)
{
	unsigned int i;

	if ((unsigned int)p >= PLAT_MAX || granule < 4096 || (granule & (granule - 1)))
		return -1;
	for (i = 0; i < nr; i++)
		if (!r[i].len || (r[i].gpa | r[i].len) & (granule - 1))
			return -1;
	it->plat = p;
	it->granule = granule;
	it->r = r;
	it->nr = nr;
	it->i = 0;
	it->off = 0;
	return 0;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Append [gpa, gpa + len) to the call, merging with a contiguous last entry. */
static void add(struct plat_call *c, uint64_t gpa, uint64_t len, uint64_t granule)
{
	if (c->n && c->r[c->n - 1].gpa + c->r[c->n - 1].len == gpa) {
		c->r[c->n - 1].len += len;
	} else {
		c->r[c->n].gpa = gpa;
		c->r[c->n].len = len;
		c->n++;
	}
	c->pages += len / granule;
}

/* Up to max_pages granules from the current position on, across ranges
 * (list platforms), or from the current range only. */
static void gather(const struct plat_iter *it, struct plat_call *c, uint64_t max_pages,
		   bool across)
{
	unsigned int i = it->i;
	uint64_t off = it->off;

	while (i < it->nr && c->pages < max_pages && c->n < PLAT_MAX_ENTRIES) {
		uint64_t take = min64(it->r[i].len - off, (max_pages - c->pages) * it->granule);

		add(c, it->r[i].gpa + off, take, it->granule);
		off += take;
		if (off < it->r[i].len || !across)
			break;
		i++;
		off = 0;
	}
}

bool plat_next(struct plat_iter *it, struct plat_call *call)
{
	uint64_t rest;

	while (it->i < it->nr && it->off == it->r[it->i].len) {
		it->i++;
		it->off = 0;
	}
	if (it->i == it->nr)
		return false;
	call->n = 0;
	call->pages = 0;
	rest = it->r[it->i].len - it->off;
	switch (it->plat) {
	case PLAT_PKVM:		/* one granule per hypercall */
		add(call, it->r[it->i].gpa + it->off, it->granule, it->granule);
		break;
	case PLAT_TDX:		/* one range, at most 2 MiB per exit */
		add(call, it->r[it->i].gpa + it->off,
		    min64(rest, PLAT_TDX_MAX_CALL > it->granule ? PLAT_TDX_MAX_CALL : it->granule),
		    it->granule);
		break;
	case PLAT_SNP:		/* 64 page entries, any ranges */
		gather(it, call, PLAT_SNP_MAX_ENTRIES, true);
		break;
	case PLAT_CCA:		/* the whole range; the host says how far */
		add(call, it->r[it->i].gpa + it->off, rest, it->granule);
		break;
	default:		/* ideal: every range in one call */
		gather(it, call, UINT64_MAX / it->granule, true);
		break;
	}
	return true;
}

void plat_done(struct plat_iter *it, const struct plat_call *call, uint64_t done)
{
	uint64_t total = call->pages * it->granule;

	if (done > total)
		done = total;
	done &= ~(it->granule - 1);
	while (done && it->i < it->nr) {
		uint64_t step = min64(it->r[it->i].len - it->off, done);

		it->off += step;
		done -= step;
		if (it->off == it->r[it->i].len) {
			it->i++;
			it->off = 0;
		}
	}
}
