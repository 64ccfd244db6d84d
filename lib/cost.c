// SPDX-License-Identifier: GPL-2.0
/*
 * The per-I/O cost split (gmemkit/cost.h).
 */
#include <errno.h>
#include <math.h>

#include "gmemkit/cost.h"

static bool bad(double v)
{
	return !isfinite(v) || v < 0;
}

int gmem_cost_split(const struct gmem_cost_in *in, struct gmem_cost_split *out)
{
	struct gmem_cost_split s = { .scale = 1 };
	double parts;

	if (!in || !out || bad(in->total) || bad(in->kick) || bad(in->conv) ||
	    bad(in->conv_host) || bad(in->copy))
		return -EINVAL;
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
		if (parts > s.total) {
			/* rounding left the sum a few ulps above the total:
			 * take them off the largest part */
			double *pv[4] = { &s.kick, &s.conv_exit, &s.conv_host, &s.copy };
			double *big = pv[0];
			unsigned int i;

			for (i = 1; i < 4; i++)
				if (*pv[i] > *big)
					big = pv[i];
			*big = fmax(0, *big - (parts - s.total));
			parts = s.kick + s.conv_exit + s.conv_host + s.copy;
		}
	}
	s.unaccounted = fmax(0, s.total - parts);
	*out = s;
	return 0;
}
