/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Numbers and sizes as people type them: the one grammar of the gmemkit
 * command line (cli/args.c) and of the backend specs (blk_backend_open()).
 *
 * Integers are base 10 only: one or more digits 0-9 and nothing else, so
 * no sign, no white space, no 0x or 0 (octal) prefix, no exponent, no
 * fraction.  Leading zeros are ignored: "010" is ten.
 *
 * A size is such an integer, optionally followed by a binary unit:
 *
 *   SIZE := DIGITS [ UNIT ]
 *   UNIT := ( k | m | g | t ) [ b | ib ]       (case-insensitive)
 *
 * k is 2^10, m 2^20, g 2^30, t 2^40 bytes; "4k", "4K", "4kb", "4KB",
 * "4KiB" and "4kib" are all 4096.  KB means 1024 here, as it does for
 * memory sizes: there are no decimal (SI, 1000-based) multiples, because
 * every size gmemkit takes (pools, blocks, disks, guest RAM) is counted in
 * pages.  A unit-less "B" ("4096B"), "4ki", fractions ("1.5G") and larger
 * units ("1P") are not sizes.
 *
 * Errors: -EINVAL means the text is not in the grammar at all; -ERANGE
 * means it is, but its value does not fit in 64 bits or lies outside the
 * [min, max] the caller asked for.  On an error *out is left untouched.
 */
#ifndef GMEMKIT_PARSE_H
#define GMEMKIT_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * parse_u64() - a base-10 integer in [min, max].
 *   -EINVAL  s or out NULL, min > max, s empty or not all digits
 *            ("-1", "+1", " 1", "0x10", "1e3", "12abc")
 *   -ERANGE  above UINT64_MAX, or outside [min, max]
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * parse_size() - a size (the grammar above) in bytes in [min, max].
 *   -EINVAL  s or out NULL, min > max, s not a SIZE ("", "12x", "0x1000",
 *            "-4k", "1.5G", "4ki", "4096B", "1P")
 *   -ERANGE  the bytes do not fit in 64 bits ("99999999999T"), or lie
 *            outside [min, max]
 */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * format_size() - bytes the shortest way the grammar reads back: with
 * the largest unit that divides them exactly ("4k", "2M", "1G", "3T";
 * otherwise plain bytes, "1000").  Always NUL-terminates (len > 0); returns
 * buf, so that it can stand in a printf() argument list.
 */
const char *format_size(uint64_t bytes, char *buf, size_t len);

#endif /* GMEMKIT_PARSE_H */
