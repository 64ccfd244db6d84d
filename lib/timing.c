// SPDX-License-Identifier: GPL-2.0
/*
 * Sample summaries: min, max, mean and nearest-rank percentiles.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/timing.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t timing_percentile(const uint64_t *sorted, size_t n, double pct)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (size_t)ceil(pct / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

void timing_summarize(uint64_t *v, size_t n, struct timing_summary *s)
{
	double sum = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		sum += (double)v[i];
	s->n = n;
	s->min = v[0];
	s->max = v[n - 1];
	s->p50 = timing_percentile(v, n, 50);
	s->p90 = timing_percentile(v, n, 90);
	s->p99 = timing_percentile(v, n, 99);
	s->p999 = timing_percentile(v, n, 99.9);
	s->mean = sum / (double)n;
}
