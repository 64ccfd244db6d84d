// SPDX-License-Identifier: GPL-2.0
/*
 * The per-I/O cost split (gmemkit/bench_cost.h) on synthetic input, and through
 * the path the bench report takes (an io-bench JSON record): each cost
 * once, conversion = exit + host work, the parts never above the measured
 * vCPU time, the rest named unaccounted, bad input refused; the device's
 * side beside the vCPU's (never scaled into it), optional in old records.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/bench_cost.h"
#include "gmemkit/json.h"
#include "tap.h"

static double sum(const struct bench_cost_split *s)
{
	return s->kick + s->conv_exit + s->conv_host + s->copy;
}

static bool nonneg(const struct bench_cost_split *s)
{
	return s->kick >= 0 && s->conv_exit >= 0 && s->conv_host >= 0 && s->copy >= 0 &&
	       s->unaccounted >= 0;
}

int main(void)
{
	struct bench_cost_in in;
	struct bench_cost_split s, keep;
	unsigned int i, bad_sum = 0, bad_sign = 0, bad_exact = 0, scaled = 0;
	struct json *j;
	size_t at;
	char text[512];
	int k;

	tap_plan(24);

	/* an in-place point as measured on profile K: 58.8 us per I/O, 0.56 us
	 * kicks, 57.1 us in conversions of which 6.2 us host work */
	in = (struct bench_cost_in){ .total = 58820, .kick = 560, .conv = 57060,
				    .conv_host = 6190, .copy = 0 };
	ok(!bench_cost_split(&in, &s), "consistent input splits");
	ok(s.conv_exit == 57060 - 6190 && s.conv_host == 6190 && s.kick == 560 && s.copy == 0,
	   "conversion = exit %.0f + host work %.0f", s.conv_exit, s.conv_host);
	ok(fabs(s.unaccounted - (58820 - 560 - 57060)) < 1e-6 && !s.scaled && s.scale == 1,
	   "unaccounted is the rest: %.0f ns", s.unaccounted);
	ok(sum(&s) + s.unaccounted <= s.total + 1e-6 && sum(&s) + s.unaccounted >= s.total - 1e-6,
	   "parts + unaccounted = the measured total");

	/* the VMM's host time above the guest-observed conversion (clock skew):
	 * capped, exit 0 */
	in = (struct bench_cost_in){ .total = 1000, .kick = 0, .conv = 400, .conv_host = 450 };
	ok(!bench_cost_split(&in, &s) && s.conv_host == 400 && s.conv_exit == 0 &&
	   s.unaccounted == 600, "host work capped at the conversion time (%.0f, exit %.0f)",
	   s.conv_host, s.conv_exit);

	/* parts above the total (old double count: exits added on top of the
	 * conversion time): scaled down, said so */
	in = (struct bench_cost_in){ .total = 50000, .kick = 20000, .conv = 56000,
				    .conv_host = 6000, .copy = 4000 };
	ok(!bench_cost_split(&in, &s) && s.scaled && sum(&s) <= s.total && s.unaccounted == 0,
	   "parts over the total: scaled by %.3f to %.1f <= %.1f", s.scale, sum(&s), s.total);
	ok(fabs(s.kick / s.copy - 5) < 1e-9 && fabs(s.conv_exit / s.conv_host - 50000.0 / 6000) < 1e-9,
	   "scaling keeps the proportions");

	/* zero I/O time: everything 0 */
	in = (struct bench_cost_in){ 0 };
	ok(!bench_cost_split(&in, &s) && sum(&s) == 0 && s.unaccounted == 0, "all zero");
	in.kick = 5;
	ok(!bench_cost_split(&in, &s) && sum(&s) == 0 && s.scaled,
	   "parts with a zero total: scaled to 0");

	/* random input, consistent or not: never above the total */
	srand(7);
	for (i = 0; i < 200000; i++) {
		in.total = (double)(rand() % 1000000) / (1 + rand() % 7);
		in.kick = (double)(rand() % 300000) / (1 + rand() % 3);
		in.conv = (double)(rand() % 800000) / (1 + rand() % 5);
		in.conv_host = (double)(rand() % 800000) / (1 + rand() % 5);
		in.copy = (double)(rand() % 600000) / (1 + rand() % 9);
		if (bench_cost_split(&in, &s)) {
			bad_sign++;
			continue;
		}
		bad_sum += sum(&s) > s.total;
		bad_sign += !nonneg(&s);
		scaled += s.scaled;
		if (!s.scaled)
			bad_exact += s.kick != in.kick || s.copy != in.copy ||
				     fabs(s.conv_exit + s.conv_host - in.conv) > 1e-9 * in.conv ||
				     s.conv_host != fmin(in.conv_host, in.conv);
	}
	ok_eq(bad_sum, 0, "200000 random inputs: parts never above the total (%u scaled)",
	      scaled);
	ok_eq(bad_sign, 0, "no negative part, no refusal");
	ok_eq(bad_exact, 0, "unscaled splits keep every measured part exactly");

	/* bad input: -EINVAL, out untouched */
	memset(&keep, 0x5a, sizeof(keep));
	s = keep;
	k = 0;
	in = (struct bench_cost_in){ .total = 10, .kick = -1 };
	k += bench_cost_split(&in, &s) == -EINVAL;
	in = (struct bench_cost_in){ .total = NAN };
	k += bench_cost_split(&in, &s) == -EINVAL;
	in = (struct bench_cost_in){ .total = 10, .copy = INFINITY };
	k += bench_cost_split(&in, &s) == -EINVAL;
	k += bench_cost_split(NULL, &s) == -EINVAL;
	k += bench_cost_split(&in, NULL) == -EINVAL;
	ok(k == 5 && !memcmp(&s, &keep, sizeof(s)), "bad input refused, output untouched");

	/* the report's path: an io-bench record */
	snprintf(text, sizeof(text),
		 "{\"mode\":\"inplace\",\"vcpu_ns_per_io\":58820,\"kick_ns_per_io\":560,"
		 "\"conv_ns_per_io\":57060,\"conv_host_ns_per_io\":6190,\"copy_ns_per_io\":0,"
		 "\"exits_per_io\":2.031}");
	j = json_parse(text, &at);
	ok(j && !bench_cost_split_record(j, &s) && s.conv_exit == 50870 && s.conv_host == 6190 &&
	   sum(&s) <= s.total, "record: exit %.0f + host %.0f + kicks %.0f <= %.0f",
	   s.conv_exit, s.conv_host, s.kick, s.total);
	json_free(j);
	/* a record whose exits would have been counted twice (conv 57 us plus
	 * 2 x 20 us exits > 58.8 us) cannot exceed the total here either */
	j = json_parse("{\"vcpu_ns_per_io\":30000,\"kick_ns_per_io\":560,"
		       "\"conv_ns_per_io\":57060,\"conv_host_ns_per_io\":6190,"
		       "\"copy_ns_per_io\":0}", &at);
	ok(j && !bench_cost_split_record(j, &s) && s.scaled && sum(&s) <= s.total,
	   "record with parts over its total: scaled, %.1f <= %.1f", sum(&s), s.total);
	json_free(j);
	j = json_parse("{\"mode\":\"inplace\",\"conv_ns_per_io\":57060,\"exits_per_io\":2}", &at);
	ok(j && bench_cost_split_record(j, &s) == -ENOENT,
	   "a record of an older gmemkit (no vcpu time): -ENOENT, no split");
	json_free(j);
	ok(bench_cost_split_record(NULL, &s) == -EINVAL, "NULL record refused");

	/* The device's side: beside the vCPU time, carried as given, never
	 * part of the vCPU split or scaled with it. */
	in = (struct bench_cost_in){ .total = 50000, .kick = 20000, .conv = 56000,
				    .conv_host = 6000, .copy = 4000, .has_dev = true,
				    .dev = 38000, .dev_faults = 16, .dev_copy_bytes = 65536 };
	ok(!bench_cost_split(&in, &s) && s.has_dev && s.dev == 38000 && s.dev_faults == 16 &&
	   s.dev_copy_bytes == 65536 && s.scaled && sum(&s) <= s.total && s.unaccounted == 0,
	   "device side kept as measured (%.0f ns, %.0f faults) while the vCPU parts scale",
	   s.dev, s.dev_faults);
	in = (struct bench_cost_in){ .total = 1000, .kick = 100, .has_dev = false,
				    .dev = NAN, .dev_faults = -1 };
	ok(!bench_cost_split(&in, &s) && !s.has_dev && s.dev == 0 && s.dev_faults == 0 &&
	   s.dev_copy_bytes == 0 && s.unaccounted == 900,
	   "without has_dev the device fields are not looked at: absent, 0");
	s = keep;
	k = 0;
	in = (struct bench_cost_in){ .total = 10, .has_dev = true, .dev = -5 };
	k += bench_cost_split(&in, &s) == -EINVAL;
	in = (struct bench_cost_in){ .total = 10, .has_dev = true, .dev_faults = NAN };
	k += bench_cost_split(&in, &s) == -EINVAL;
	in = (struct bench_cost_in){ .total = 10, .has_dev = true, .dev_copy_bytes = INFINITY };
	k += bench_cost_split(&in, &s) == -EINVAL;
	ok(k == 3 && !memcmp(&s, &keep, sizeof(s)),
	   "bad device input (negative, NaN, infinite) refused, output untouched");

	/* Records: with the device's fields, without them (older), half. */
	j = json_parse("{\"vcpu_ns_per_io\":30000,\"kick_ns_per_io\":560,"
		       "\"conv_ns_per_io\":20000,\"conv_host_ns_per_io\":6190,"
		       "\"copy_ns_per_io\":0,\"dev_ns_per_io\":41000.5,"
		       "\"dev_faults_per_io\":16.25,\"dev_copy_bytes_per_io\":65536}", &at);
	ok(j && !bench_cost_split_record(j, &s) && s.has_dev && s.dev == 41000.5 &&
	   s.dev_faults == 16.25 && s.dev_copy_bytes == 65536 && !s.scaled &&
	   fabs(s.unaccounted - (30000 - 560 - 20000)) < 1e-6,
	   "record with the device's side: dev %.1f ns, %.2f faults, %.0f B per I/O, "
	   "the vCPU split unchanged by it", s.dev, s.dev_faults, s.dev_copy_bytes);
	json_free(j);
	j = json_parse("{\"vcpu_ns_per_io\":30000,\"kick_ns_per_io\":560,"
		       "\"conv_ns_per_io\":20000,\"conv_host_ns_per_io\":6190,"
		       "\"copy_ns_per_io\":0}", &at);
	ok(j && !bench_cost_split_record(j, &s) && !s.has_dev && s.dev == 0,
	   "a record without the device's side (older gmemkit) splits, has_dev false");
	json_free(j);
	j = json_parse("{\"vcpu_ns_per_io\":30000,\"kick_ns_per_io\":560,"
		       "\"conv_ns_per_io\":20000,\"conv_host_ns_per_io\":6190,"
		       "\"copy_ns_per_io\":0,\"dev_ns_per_io\":100}", &at);
	ok(j && bench_cost_split_record(j, &s) == -EINVAL,
	   "a record with part of the device's side: -EINVAL");
	json_free(j);
	j = json_parse("{\"vcpu_ns_per_io\":30000,\"kick_ns_per_io\":560,"
		       "\"conv_ns_per_io\":20000,\"conv_host_ns_per_io\":6190,"
		       "\"copy_ns_per_io\":0,\"dev_ns_per_io\":-1,"
		       "\"dev_faults_per_io\":0,\"dev_copy_bytes_per_io\":0}", &at);
	ok(j && bench_cost_split_record(j, &s) == -EINVAL,
	   "a record with a negative device time: -EINVAL");
	json_free(j);
	return tap_done();
}
