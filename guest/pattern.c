// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side test patterns (gmem_abi_pattern() words; zeros), through
 * gpa_ptr(): in the guest image and in the hosted build (guest.h).
 */
#include "guest.h"

void fill_pattern(uint64_t gpa, uint64_t len, uint64_t seed)
{
	volatile uint64_t *w = gpa_ptr(gpa);
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = gmem_abi_pattern(seed, gpa + i * 8);
}

bool guest_sees_pattern(uint64_t gpa, uint64_t len, uint64_t seed)
{
	volatile uint64_t *w = gpa_ptr(gpa);
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != gmem_abi_pattern(seed, gpa + i * 8))
			return false;
	return true;
}

bool guest_sees_zero(uint64_t gpa, uint64_t len)
{
	volatile uint64_t *w = gpa_ptr(gpa);
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return false;
	return true;
}
