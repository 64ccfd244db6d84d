/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a guest I/O run left on its disk file: sectors in gmemkit/sector.h's
 * format, written by the run's mode (GMEM_ABI_IO_TAG).
 */
#ifndef GMEMKIT_TESTS_DISK_CHECK_H
#define GMEMKIT_TESTS_DISK_CHECK_H

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "gmemkit/abi.h"
#include "gmemkit/sector.h"

/* Sectors of [first, first + bytes) of the file that are not a valid
 * generation >= 1 with the given tag (unreadable ones included). */
static inline uint64_t disk_bad_sectors(const char *path, uint64_t first,
					uint64_t bytes, uint32_t tag)
{
	uint64_t buf[SECTOR_BYTES / 8], s, bad = 0;
	int fd = open(path, O_RDONLY);
	uint32_t gen, t;

	if (fd < 0)
		return bytes / SECTOR_BYTES;
	for (s = first / SECTOR_BYTES; s < (first + bytes) / SECTOR_BYTES; s++) {
		if (pread(fd, buf, SECTOR_BYTES, (off_t)(s * SECTOR_BYTES)) != SECTOR_BYTES ||
		    sector_decode(buf, s, &gen, &t) != SECTOR_VALID || t != tag || !gen)
			bad++;
	}
	close(fd);
	return bad;
}

#endif /* GMEMKIT_TESTS_DISK_CHECK_H */
