/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP producer for the test programs (kselftest style).
 *
 *   tap_plan(n);  ok(cond, fmt...);  tap_skip(n, why);  return tap_done();
 *   tap_skip_all(why) prints "1..0 # SKIP why" and exits 0.
 */
#ifndef GMEMKIT_TESTS_TAP_H
#define GMEMKIT_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count, tap_failed, tap_planned = -1;

static inline void tap_plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2)))
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void tap_skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_count, why);
	fflush(stdout);
}

static inline __attribute__((noreturn)) void tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(0);
}

static inline __attribute__((noreturn)) void tap_bail(const char *why)
{
	printf("Bail out! %s\n", why);
	fflush(stdout);
	exit(1);
}

static inline int tap_done(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_count);
	else if (tap_planned != tap_count)
		diag("planned %d tests but ran %d", tap_planned, tap_count);
	fflush(stdout);
	return tap_failed || (tap_planned >= 0 && tap_planned != tap_count);
}

/* ok() that also prints both values when an integer comparison fails. */
#define ok_eq(got, want, fmt, ...) ({					\
	long long __g = (long long)(got), __w = (long long)(want);	\
	bool __r = ok(__g == __w, fmt, ##__VA_ARGS__);			\
	if (!__r)							\
		diag("  got %lld, want %lld", __g, __w);		\
	__r;								\
})

#endif /* GMEMKIT_TESTS_TAP_H */
