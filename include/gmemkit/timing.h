/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Clocks and sample summaries shared by the benchmarks.
 */
#ifndef GMEMKIT_TIMING_H
#define GMEMKIT_TIMING_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t timing_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct timing_summary {
	size_t n;
	uint64_t min, max;
	uint64_t p50, p90, p99, p999;
	double mean;
};

/*
 * timing_summarize() - sort v[0..n) in place and fill *s.
 * Percentiles are nearest-rank.  n == 0 gives an all-zero summary.
 */
void timing_summarize(uint64_t *v, size_t n, struct timing_summary *s);

/* Nearest-rank percentile (0 < pct <= 100) of a sorted array. */
uint64_t timing_percentile(const uint64_t *sorted, size_t n, double pct);

#endif /* GMEMKIT_TIMING_H */
