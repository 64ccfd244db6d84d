/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Platform profiles: how a protected guest of each platform converts its
 * memory between private and shared (docs/platforms.md has the sources).
 *
 *   platform  calls                                     path          contents
 *   ideal     one call: a range, or a list of ranges    exitless      kept
 *   pkvm      one call per granule (MEM_SHARE/UNSHARE)  exitless      kept
 *   tdx       one range of at most 2 MiB per call       exit to VMM   destroyed
 *             (MapGPA -> KVM_HC_MAP_GPA_RANGE)
 *   snp       at most 64 page entries per call, which   exit to VMM   destroyed
 *             may be discontiguous (page state change)
 *   cca       one range per call; the host may stop     exitless      destroyed
 *             early (RSI_IPA_STATE_SET), the guest loops
 *
 * "granule" is the conversion unit of guest RAM (4 KiB, or 2 MiB on huge
 * pages): pkvm's granule and snp's page entries are that size.
 *
 * Freestanding (integers only): built into the host library and into the
 * guest image, tested on the host (tests/t_platform.c).  The guest's I/O
 * path turns every conversion into the calls plat_next() yields.
 */
#ifndef GMEMKIT_PLATFORM_H
#define GMEMKIT_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The profiles, the one list: X(ID, value, "name", exitless, destroys, list),
 * value in the ABI (io_layout.h), then the facts of the table above as 0 or
 * 1: serviced without a VMM exit, contents lost on conversion,
 * discontiguous ranges in a call.  Everything else (enum plat, the names,
 * the facts' sets below) is derived from it.
 */
#define PLAT_PROFILES(X)			\
	X(IDEAL, 0, "ideal", 1, 0, 1)		\
	X(PKVM,	 1, "pkvm",  1, 0, 0)		\
	X(TDX,	 2, "tdx",   0, 1, 0)		\
	X(SNP,	 3, "snp",   0, 1, 1)		\
	X(CCA,	 4, "cca",   1, 1, 0)

enum plat {
#define PLAT_ENUM(id, value, name, exitless, destroys, list)	PLAT_##id = (value),
	PLAT_PROFILES(PLAT_ENUM)
#undef PLAT_ENUM
	PLAT_MAX
};

/* The profiles with a fact, a bit per enum plat. */
#define PLAT_BIT_EXITLESS(id, value, name, exitless, destroys, list)	\
	| ((unsigned int)(exitless) << (value))
#define PLAT_BIT_DESTROYS(id, value, name, exitless, destroys, list)	\
	| ((unsigned int)(destroys) << (value))
#define PLAT_BIT_LIST(id, value, name, exitless, destroys, list)	\
	| ((unsigned int)(list) << (value))
#define PLAT_EXITLESS_SET	(0U PLAT_PROFILES(PLAT_BIT_EXITLESS))
#define PLAT_DESTROYS_SET	(0U PLAT_PROFILES(PLAT_BIT_DESTROYS))
#define PLAT_LIST_SET		(0U PLAT_PROFILES(PLAT_BIT_LIST))

/* p's bit in a set above: false for an unknown p. */
static inline bool plat_in(uint32_t p, unsigned int set)
{
	return p < PLAT_MAX && ((set >> p) & 1);
}

#define PLAT_TDX_MAX_CALL	(2ULL << 20)	/* KVM's MapGPA split (TDX) */
#define PLAT_SNP_MAX_ENTRIES	64U		/* Linux's VMGEXIT_PSC_MAX_ENTRY */
#define PLAT_CCA_STEP		(2ULL << 20)	/* the host stops a call at the
						 * next 2 MiB boundary (one
						 * level-2 RTT entry): gmemkit's
						 * choice, no public figure */
#define PLAT_MAX_ENTRIES	64U		/* ranges in one call */

struct plat_range {
	uint64_t gpa, len;
};

/* One call: n ranges (one unless the platform takes a list). */
struct plat_call {
	unsigned int n;
	uint64_t pages;			/* granules the call covers */
	struct plat_range r[PLAT_MAX_ENTRIES];
};

/*
 * A conversion of the ranges r[0..nr) (each granule aligned, non-empty),
 * split into calls.  The caller keeps r alive while iterating.
 */
struct plat_iter {
	enum plat plat;
	uint64_t granule;
	const struct plat_range *r;
	unsigned int nr, i;		/* the range being converted */
	uint64_t off;			/* bytes of r[i] already converted */
};

/* 0, or -1 for an unknown platform, a granule that is not a power of 2 of
 * at least 4 KiB, or a range that is empty or not granule aligned. */
int plat_iter_init(struct plat_iter *it, enum plat p, uint64_t granule,
		   const struct plat_range *r, unsigned int nr);

/*
 * plat_next() - the next call: true and *call filled, or false when every
 * range is converted.  After a call the caller reports how much of it the
 * host did with plat_done(): all of it on every platform but cca, where
 * the host may stop early (then only the first range is in the call).
 */
bool plat_next(struct plat_iter *it, struct plat_call *call);
void plat_done(struct plat_iter *it, const struct plat_call *call, uint64_t done);

/* The platform's facts. */
bool plat_exitless(enum plat p);	/* serviced without a VMM exit */
bool plat_destroys(enum plat p);	/* contents lost on conversion */
bool plat_takes_list(enum plat p);	/* discontiguous ranges in a call */
const char *plat_name(enum plat p);	/* "ideal", "pkvm", ... or "?" */
extern const char *const plat_names[PLAT_MAX];	/* by enum plat */
/* What a figure of this platform leaves out that the real one pays (the
 * firmware's or hypervisor's own work), in words; "" for ideal. */
const char *plat_not_modelled(enum plat p);
int plat_from_name(const char *name, enum plat *out);	/* 0 or -1 */

#endif /* GMEMKIT_PLATFORM_H */
