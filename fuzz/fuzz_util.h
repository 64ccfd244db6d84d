/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the libFuzzer targets that play a guest against the
 * VMM's conversion decoders (fuzz_vm_transport.c, fuzz_convq.c).
 */
#ifndef GMEMKIT_FUZZ_UTIL_H
#define GMEMKIT_FUZZ_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* n little-endian bytes of d as a number. */
static inline uint64_t fuzz_get(const uint8_t *d, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | d[n];
	return v;
}

/* A status the conversion contract allows (0 or one of its errnos);
 * -ENOSYS only where the transport can answer it. */
static inline bool fuzz_status_known(int64_t st, bool enosys)
{
	switch (st) {
	case 0: case -EINVAL: case -ERANGE: case -EOVERFLOW: case -EOPNOTSUPP:
	case -EBUSY: case -EALREADY: case -EACCES: case -EIO: case -EFAULT:
	case -ENOENT: case -EMLINK: case -ENOSPC:	/* lazy boundary budget */
		return true;
	case -ENOSYS:
		return enosys;
	}
	return false;
}

#endif /* GMEMKIT_FUZZ_UTIL_H */
