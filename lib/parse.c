// SPDX-License-Identifier: GPL-2.0
/*
 * Base-10 integers and sizes (gmemkit/parse.h).  Written out by hand, not
 * with strtoull(), which would take a sign, leading white space and, with
 * base 0, octal and hex.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "gmemkit/parse.h"

/*
 * The digits at *s: their value in *v, *s moved past them.  false if there
 * are none; *overflow set if the value does not fit in 64 bits (the digits
 * are still consumed, so that the caller judges the grammar first).
 */
static bool digits(const char **s, uint64_t *v, bool *overflow)
{
	const char *p = *s;

	*v = 0;
	*overflow = false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (*v > (UINT64_MAX - d) / 10)
			*overflow = true;
		else
			*v = *v * 10 + d;
	}
	if (p == *s)
		return false;
	*s = p;
	return true;
}

static int in_range(uint64_t v, bool overflow, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	if (overflow || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	bool overflow;
	uint64_t v;

	if (!s || !out || min > max)
		return -EINVAL;
	if (!digits(&s, &v, &overflow) || *s)
		return -EINVAL;
	return in_range(v, overflow, min, max, out);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The shift of the unit at s ("", "k", "KiB", "mb", ...), or -1. */
static int unit_shift(const char *s)
{
	static const char units[] = "kmgt";
	int i;

	if (!*s)
		return 0;
	for (i = 0; units[i] && units[i] != lower(*s); i++)
		;
	if (!units[i])
		return -1;
	s++;
	if (lower(*s) == 'i')
		s++;
	if (lower(*s) == 'b')
		s++;
	else if (lower(s[-1]) == 'i')
		return -1;		/* "4ki": no byte after the i */
	return *s ? -1 : 10 * (i + 1);
}

int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	bool overflow;
	uint64_t v;
	int shift;

	if (!s || !out || min > max)
		return -EINVAL;
	if (!digits(&s, &v, &overflow))
		return -EINVAL;
	shift = unit_shift(s);
	if (shift < 0)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		overflow = true;
	return in_range(overflow ? 0 : v << shift, overflow, min, max, out);
}

const char *format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "kMGT";
	int i = -1;

	while (bytes && i < 3 && !(bytes & 1023)) {
		bytes >>= 10;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)bytes, units[i]);
	return buf;
}
