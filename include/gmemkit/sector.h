/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one on-disk sector format of gmemkit's data checks, written and read
 * by the guest's I/O workload (guest/io_request.c, GMEM_ABI_IOF_VERIFY) in
 * the guest and on the stress harness's host threads, and read back by the
 * tests (tests/disk_check.h).  Freestanding: no libc.
 *
 * Every word of a 512-byte sector is determined by who wrote what:
 *   word 0       its LBA (512-byte sector number)
 *   word 1       generation << 32 | tag (who wrote it: a mode, a thread)
 *   words 2..62  (lba << 6 | word index) ^ generation << 40 ^ a constant
 *   word 63      lba * golden ratio ^ generation (the check word)
 * Writer and reader agree on a depth: the three header and check words
 * (sector_stamp(.., false), sector_decode(): what a verified benchmark run
 * pays per sector; the payload words then hold whatever the buffer held)
 * or every word (sector_stamp(.., true), sector_decode_all(): a flipped bit
 * anywhere is caught; the stress).
 * A sector never written reads as zeros: SECTOR_BLANK.
 */
#ifndef GMEMKIT_SECTOR_H
#define GMEMKIT_SECTOR_H

#include <stdbool.h>
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

/* Cheap to write and to check: a shift, an or and two xors a word. */
static inline uint64_t sector_payload_word(uint64_t lba, uint32_t gen,
					   unsigned int i)
{
	return (lba << 6 | i) ^ (uint64_t)gen << 40 ^ 0xa5c3e1f00f1e3c5aULL;
}

static inline void sector_stamp(void *p, uint64_t lba, uint32_t gen, uint32_t tag,
				bool all)
{
	uint64_t *s = p;
	unsigned int i;

	s[0] = lba;
	s[1] = (uint64_t)gen << 32 | tag;
	for (i = 2; all && i < SECTOR_LAST_WORD; i++)
		s[i] = sector_payload_word(lba, gen, i);
	s[SECTOR_LAST_WORD] = sector_check_word(lba, gen);
}

/* What a read must overwrite, so that a read that leaves it is caught:
 * the words the reader will check (all: every word). */
static inline void sector_poison(void *p, bool all)
{
	uint64_t *s = p;
	unsigned int i;

	if (!all) {
		s[0] = s[1] = s[SECTOR_LAST_WORD] = SECTOR_POISON;
		return;
	}
	for (i = 0; i <= SECTOR_LAST_WORD; i++)
		s[i] = SECTOR_POISON;
}

/* The header and check words only. */
static inline enum sector_state sector_decode(const void *p, uint64_t lba,
					      uint32_t *gen, uint32_t *tag)
{
	const uint64_t *s = p;

	*gen = (uint32_t)(s[1] >> 32);
	*tag = (uint32_t)s[1];
	if (!s[0] && !s[1] && !s[SECTOR_LAST_WORD])
		return SECTOR_BLANK;
	if (s[0] != lba || s[SECTOR_LAST_WORD] != sector_check_word(lba, *gen))
		return SECTOR_BAD;
	return SECTOR_VALID;
}

/* Every word: blank means all zeros, valid means every word as written. */
static inline enum sector_state sector_decode_all(const void *p, uint64_t lba,
						  uint32_t *gen, uint32_t *tag)
{
	enum sector_state st = sector_decode(p, lba, gen, tag);
	const uint64_t *s = p;
	unsigned int i;

	for (i = 2; i < SECTOR_LAST_WORD; i++)
		if (st == SECTOR_BLANK ? s[i] != 0 : s[i] != sector_payload_word(lba, *gen, i))
			return SECTOR_BAD;
	return st;
}

#endif /* GMEMKIT_SECTOR_H */
