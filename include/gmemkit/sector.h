/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one on-disk sector format of gmemkit's data checks, written and read
 * by the guest's I/O workload (guest/io.c, GMEM_ABI_IOF_VERIFY) and by the
 * host stress harness (harness/stress.c).  Freestanding: no libc.
 *
 * Every word of a 512-byte sector is determined by who wrote what:
 *   word 0       its LBA (512-byte sector number)
 *   word 1       generation << 32 | tag (who wrote it: a mode, a thread)
 *   words 2..62  a mix of (lba, generation, word index)
 *   word 63      lba * golden ratio ^ generation (the check word)
 * so a read checks every byte it got (a flipped bit anywhere is caught).
 * A sector never written reads as zeros: SECTOR_BLANK.
 */
#ifndef GMEMKIT_SECTOR_H
#define GMEMKIT_SECTOR_H

#include <stdint.h>

#define SECTOR_BYTES		512U
#define SECTOR_LAST_WORD	(SECTOR_BYTES / 8 - 1)
#define SECTOR_POISON		(~0ULL)

enum sector_state {
	SECTOR_VALID,		/* lba matches, check word right: gen, tag */
	SECTOR_BLANK,		/* the three words zero: never written */
	SECTOR_BAD,		/* anything else */
};

static inline uint64_t sector_check_word(uint64_t lba, uint32_t gen)
{
	return lba * 0x9e3779b97f4a7c15ULL ^ gen;
}

static inline uint64_t sector_payload_word(uint64_t lba, uint32_t gen,
					   unsigned int i)
{
	uint64_t x = lba * 0x9e3779b97f4a7c15ULL ^
		     (((uint64_t)gen << 32 | i) * 0xbf58476d1ce4e5b9ULL);

	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 29);
}

static inline void sector_stamp(void *p, uint64_t lba, uint32_t gen, uint32_t tag)
{
	uint64_t *s = p;
	unsigned int i;

	s[0] = lba;
	s[1] = (uint64_t)gen << 32 | tag;
	for (i = 2; i < SECTOR_LAST_WORD; i++)
		s[i] = sector_payload_word(lba, gen, i);
	s[SECTOR_LAST_WORD] = sector_check_word(lba, gen);
}

/* What a read must overwrite: every word (a read that leaves one is caught). */
static inline void sector_poison(void *p)
{
	uint64_t *s = p;
	unsigned int i;

	for (i = 0; i <= SECTOR_LAST_WORD; i++)
		s[i] = SECTOR_POISON;
}

static inline enum sector_state sector_decode(const void *p, uint64_t lba,
					      uint32_t *gen, uint32_t *tag)
{
	const uint64_t *s = p;
	uint64_t any = 0;
	unsigned int i;

	*gen = (uint32_t)(s[1] >> 32);
	*tag = (uint32_t)s[1];
	for (i = 0; i <= SECTOR_LAST_WORD; i++)
		any |= s[i];
	if (!any)
		return SECTOR_BLANK;
	if (s[0] != lba || s[SECTOR_LAST_WORD] != sector_check_word(lba, *gen))
		return SECTOR_BAD;
	for (i = 2; i < SECTOR_LAST_WORD; i++)
		if (s[i] != sector_payload_word(lba, *gen, i))
			return SECTOR_BAD;
	return SECTOR_VALID;
}

#endif /* GMEMKIT_SECTOR_H */
