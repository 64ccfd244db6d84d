// SPDX-License-Identifier: GPL-2.0
/*
 * The per-I/O cost split (gmemkit/bench_cost.h).
 */
#include <errno.h>
#include <math.h>

#include "gmemkit/bench_cost.h"
#include "gmemkit/bench_io_fields.h"
#include "gmemkit/json.h"

static bool bad(double v)
{
	return !isfinite(v) || v < 0;
}

int bench_cost_split(const struct bench_cost_in *in, struct bench_cost_split *out)
{
	struct bench_cost_split s = { .scale = 1 };
	unsigned int i;
	double parts;

	if (!in || !out || bad(in->total) || bad(in->kick) || bad(in->conv) ||
	    bad(in->conv_host) || bad(in->copy))
		return -EINVAL;
	if (in->has_dev && (bad(in->dev) || bad(in->dev_faults) || bad(in->dev_copy_bytes)))
		return -EINVAL;
	if (in->has_dev) {
		s.has_dev = true;
		s.dev = in->dev;
		s.dev_faults = in->dev_faults;
		s.dev_copy_bytes = in->dev_copy_bytes;
	}
	s.total = in->total;
	s.kick = in->kick;
	s.conv_host = fmin(in->conv_host, in->conv);
	s.conv_exit = in->conv - s.conv_host;
	s.copy = in->copy;
	parts = s.kick + s.conv_exit + s.conv_host + s.copy;
	if (parts > s.total) {
		s.scaled = true;
		s.scale = parts > 0 ? s.total / parts : 1;
		s.kick *= s.scale;
		s.conv_exit *= s.scale;
		s.conv_host *= s.scale;
		s.copy *= s.scale;
		parts = s.kick + s.conv_exit + s.conv_host + s.copy;
		for (i = 0; parts > s.total && i < 64; i++) {
			/* rounding left the sum a few ulps above the total:
			 * take them off the largest part */
			double *pv[4] = { &s.kick, &s.conv_exit, &s.conv_host, &s.copy };
			double *big = pv[0], nb;
			unsigned int k;

			for (k = 1; k < 4; k++)
				if (*pv[k] > *big)
					big = pv[k];
			nb = fmax(0, *big - (parts - s.total));
			*big = nb < *big ? nb : nextafter(*big, 0);
			parts = s.kick + s.conv_exit + s.conv_host + s.copy;
		}
	}
	s.unaccounted = fmax(0, s.total - parts);
	*out = s;
	return 0;
}

int bench_cost_split_record(const struct json *rec, struct bench_cost_split *out)
{
	struct bench_cost_in in = { 0 };
	unsigned int ndev;

	if (!rec || !out)
		return -EINVAL;
	in.total = bench_io_num(rec, BIO_F_VCPU_NS_PER_IO, NAN);
	in.kick = bench_io_num(rec, BIO_F_KICK_NS_PER_IO, NAN);
	in.conv = bench_io_num(rec, BIO_F_CONV_NS_PER_IO, NAN);
	in.conv_host = bench_io_num(rec, BIO_F_CONV_HOST_NS_PER_IO, NAN);
	in.copy = bench_io_num(rec, BIO_F_COPY_NS_PER_IO, NAN);
	if (isnan(in.total) || isnan(in.kick) || isnan(in.conv) || isnan(in.conv_host) ||
	    isnan(in.copy))
		return -ENOENT;
	/* The device's side: all three or none (older records). */
	in.dev = bench_io_num(rec, BIO_F_DEV_NS_PER_IO, NAN);
	in.dev_faults = bench_io_num(rec, BIO_F_DEV_FAULTS_PER_IO, NAN);
	in.dev_copy_bytes = bench_io_num(rec, BIO_F_DEV_COPY_BYTES_PER_IO, NAN);
	ndev = !isnan(in.dev) + !isnan(in.dev_faults) + !isnan(in.dev_copy_bytes);
	if (ndev && ndev < 3)
		return -EINVAL;
	in.has_dev = ndev == 3;
	return bench_cost_split(&in, out);
}
