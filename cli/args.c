// SPDX-License-Identifier: GPL-2.0
/*
 * Command-line value parsing with messages that name the bad value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

int cli_parse_u64(const char *opt, const char *val, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!val || !*val || *val == '-') {
		fprintf(stderr, "gmemkit: %s: '%s' is not a non-negative integer\n",
			opt, val ? val : "");
		return -1;
	}
	errno = 0;
	v = strtoull(val, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "gmemkit: %s: '%s' is not a non-negative integer\n",
			opt, val);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_size(const char *opt, const char *val, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!val || !*val || *val == '-')
		goto bad;
	errno = 0;
	v = strtoull(val, &end, 0);
	if (errno || end == val)
		goto bad;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || (shift && v > (~0ULL >> shift)))
		goto bad;
	*out = v << shift;
	return 0;
bad:
	fprintf(stderr, "gmemkit: %s: '%s' is not a size (e.g. 4096, 4k, 2M, 1G)\n",
		opt, val ? val : "");
	return -1;
}

int cli_parse_uint(const char *opt, const char *val, unsigned int min,
		   unsigned int max, unsigned int *out)
{
	uint64_t v;

	if (cli_parse_u64(opt, val, &v))
		return -1;
	if (v < min || v > max) {
		fprintf(stderr, "gmemkit: %s: %s is out of range [%u, %u]\n",
			opt, val, min, max);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}
