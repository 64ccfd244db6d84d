/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gmemkit subcommands.  Each cli/<command>.c registers itself with
 * GMEM_COMMAND(); cli/main.c finds them through the linker section, so
 * adding a command touches no other file.
 */
#ifndef GMEMKIT_CLI_CMD_H
#define GMEMKIT_CLI_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gmemkit/vm.h"

struct gmem_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* exit status */
	const char *summary;
};

#define GMEM_COMMAND(n, f, s)						\
	static const struct gmem_cmd __gmem_cmd_##f			\
	__attribute__((used, section("gmem_cmds"), aligned(8))) =	\
		{ .name = (n), .fn = (f), .summary = (s) }

/* The registered command called name, or NULL (cli/main.c). */
const struct gmem_cmd *cli_find_command(const char *name);

/*
 * The option parser (cli/args.c), the one every command uses.
 *
 * A command describes its options in a table, { 0 }-terminated, with the
 * CLI_*() initialisers below (each checks the destination's type), and
 * calls cli_parse().  Values are the next argument (two for CLI_PAIR);
 * numbers and sizes are gmemkit/parse.h's grammar (base 10 only, binary
 * k/m/g/t units).  Every message names the option and the bad value and,
 * where there is one, the allowed range:
 *
 *   gmemkit bench: --reps needs a value
 *   gmemkit bench: --reps 0x10: not a non-negative base-10 integer (range 1..100)
 *   gmemkit bench: --pool-size 1T: out of range (2M..1G)
 *   gmemkit bench: --qd 1,99: '99' is out of range (1..64)
 *   gmemkit bench: unknown option '--bogus'
 *
 * Options may follow in any order; a later one overrides an earlier one.
 * The table is the command's --help too: each entry's .help (and .arg),
 * printed by cli_usage() from the command's usage(), which cli_parse()
 * hands the table.
 */
enum cli_kind {
	CLI_K_FLAG,	/* bool: true when given (no value) */
	CLI_K_UINT,	/* unsigned int in [min, max] */
	CLI_K_U64,	/* uint64_t in [min, max] */
	CLI_K_SIZE,	/* uint64_t bytes in [min, max]; a multiple of align
			 * (if not 0), a power of 2 (if pow2) */
	CLI_K_SECONDS,	/* double: decimal seconds ("0.5", "2") in
			 * [fmin, fmax], (fmin, fmax] if fmin_open */
	CLI_K_STRING,	/* const char *: the value; one of names[] if set */
	CLI_K_PAIR,	/* const char *[2]: the next two arguments */
	CLI_K_CHOICE,	/* unsigned int: the index of the value in names[] */
	CLI_K_LIST,	/* unsigned int: a bit per names[] index, from a comma
			 * list of names */
	CLI_K_UINTS,	/* unsigned int[max_n], *n of them: a comma list of
			 * numbers in [min, max] */
	CLI_K_SIZES,	/* unsigned int: a bit per sizes[] index, from a comma
			 * list of sizes */
	CLI_K_FN,	/* fn(value, dest): 0, or -EINVAL: "not <what>" */
};

struct cli_opt {
	const char *name;		/* "--reps"; NULL ends the table */
	enum cli_kind kind;
	void *dest;
	uint64_t min, max;		/* CLI_K_UINT: max at most UINT_MAX; sizes:
					 * max 0 is no upper bound */
	uint64_t align;
	bool pow2;
	double fmin, fmax;
	bool fmin_open;
	const char *const *names;	/* NULL entries are skipped */
	unsigned int nnames;
	const uint64_t *sizes;
	unsigned int nsizes;
	unsigned int *n, max_n;
	int (*fn)(const char *value, void *dest);
	const char *what;
	const char **given;		/* if set: the value (a flag: its name)
					 * as typed, when the option is given */
	/* what cli_usage() prints of it */
	const char *arg;		/* the value's name in usage ("N", "LIST");
					 * NULL: by kind (N, SIZE, SECONDS, NAME,
					 * LIST, VALUE; a pair: "A B") */
	const char *help;		/* what it does, wrapped to the width;
					 * '\n' starts a line, a '\t' indents the
					 * rest of its line to the next stop (8) */
	bool values_in_help;		/* the help names every allowed value
					 * itself: not listed after it */
	bool required;			/* synopsis: not in [] */
	bool alone;			/* synopsis: a form of its own,
					 * "gmemkit <command> --opt ARG" */
	bool or_next;			/* synopsis: one of this and the next
					 * option, "[--full | --quick]" */
};

#define CLI_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* A number macro's digits, for a help string: "default " CLI_STR(X) */
#define __CLI_STR(x)		#x
#define CLI_STR(x)		__CLI_STR(x)
/* d, as a void *, if it points to a type (a compile error otherwise) */
#define __cli_dest(d, type)	((void *)(1 ? (d) : (type *)0))

/* The extra arguments (...) are more designated initialisers:
 * .given = &arg, .align = 2 << 20, ... */
#define CLI_FLAG(o, d, ...)						\
	{ .name = (o), .kind = CLI_K_FLAG, .dest = __cli_dest(d, bool), __VA_ARGS__ }
#define CLI_UINT(o, d, lo, hi, ...)					\
	{ .name = (o), .kind = CLI_K_UINT, .dest = __cli_dest(d, unsigned int), \
	  .min = (lo), .max = (hi), __VA_ARGS__ }
#define CLI_U64(o, d, lo, hi, ...)					\
	{ .name = (o), .kind = CLI_K_U64, .dest = __cli_dest(d, uint64_t),	\
	  .min = (lo), .max = (hi), __VA_ARGS__ }
#define CLI_SIZE(o, d, lo, hi, ...)					\
	{ .name = (o), .kind = CLI_K_SIZE, .dest = __cli_dest(d, uint64_t),	\
	  .min = (lo), .max = (hi), __VA_ARGS__ }
#define CLI_SECONDS(o, d, lo, hi, ...)					\
	{ .name = (o), .kind = CLI_K_SECONDS, .dest = __cli_dest(d, double),	\
	  .fmin = (lo), .fmax = (hi), __VA_ARGS__ }
#define CLI_STRING(o, d, ...)						\
	{ .name = (o), .kind = CLI_K_STRING, .dest = __cli_dest(d, const char *), \
	  __VA_ARGS__ }
#define CLI_ONE_OF(o, d, nm, ...)					\
	CLI_STRING(o, d, .names = (nm), .nnames = CLI_ARRAY_SIZE(nm), __VA_ARGS__)
#define CLI_PAIR(o, d, ...)						\
	{ .name = (o), .kind = CLI_K_PAIR, .dest = __cli_dest(d, const char *),	\
	  __VA_ARGS__ }
#define CLI_CHOICE(o, d, nm, ...)					\
	{ .name = (o), .kind = CLI_K_CHOICE, .dest = __cli_dest(d, unsigned int), \
	  .names = (nm), .nnames = CLI_ARRAY_SIZE(nm), __VA_ARGS__ }
#define CLI_LIST(o, d, nm, ...)						\
	{ .name = (o), .kind = CLI_K_LIST, .dest = __cli_dest(d, unsigned int), \
	  .names = (nm), .nnames = CLI_ARRAY_SIZE(nm), __VA_ARGS__ }
#define CLI_UINTS(o, d, cnt, lo, hi, ...)				\
	{ .name = (o), .kind = CLI_K_UINTS, .dest = __cli_dest(d, unsigned int), \
	  .n = (cnt), .max_n = CLI_ARRAY_SIZE(d), .min = (lo), .max = (hi),	\
	  __VA_ARGS__ }
#define CLI_SIZES(o, d, sz, ...)					\
	{ .name = (o), .kind = CLI_K_SIZES, .dest = __cli_dest(d, unsigned int), \
	  .sizes = (sz), .nsizes = CLI_ARRAY_SIZE(sz), __VA_ARGS__ }
#define CLI_FN(o, d, f, w, ...)						\
	{ .name = (o), .kind = CLI_K_FN, .dest = (d), .fn = (f), .what = (w),	\
	  __VA_ARGS__ }
/* A conversion transport by name (vmm_transport_from_name()). */
int cli_transport(const char *value, void *transport);
#define CLI_TRANSPORT(o, d, ...)					\
	CLI_FN(o, __cli_dest(d, enum vmm_transport), cli_transport,		\
	       "auto, hypercall, doorbell or queue", __VA_ARGS__)
/* A platform profile by name (plat_from_name()), as an unsigned int. */
int cli_platform(const char *value, void *platform);
#define CLI_PLATFORM(o, d, ...)						\
	CLI_FN(o, __cli_dest(d, unsigned int), cli_platform,			\
	       "ideal, pkvm, tdx, snp or cca", __VA_ARGS__)

/*
 * cli_parse() - argv[1..argc-1] against the table opts.  -h or --help
 * prints usage(stdout, opts).  Returns 0 to run, 1 after --help (exit 0),
 * or -EINVAL after printing what is wrong (exit 2); destinations of
 * options given before the bad one may have been written.
 */
int cli_parse(int argc, char **argv, const struct cli_opt *opts,
	      void (*usage)(FILE *f, const struct cli_opt *opts));

/*
 * cli_usage() - a command's --help, made from its option table (the one
 * place an option and its help are written), kvmtool's and fio's way:
 *
 *   usage: gmemkit bounce-bench [--json] [--reps N] [--pool-size SIZE]
 *     ABOUT, wrapped
 *     --reps N          HELP; range 5..100000
 *     --pool-size SIZE  HELP; range 512k..1G, a multiple of 512k
 *   EPILOGUE, wrapped
 *
 * The synopsis has every option with its value's name (.arg), in table
 * order, then a line of its own for each .alone one.  Each option's help
 * is followed by what it accepts, from the table: a number's or a size's
 * range (a multiple of, a power of 2), names[] (one of; a comma list of),
 * sizes[], a CLI_FN's what; not when .values_in_help.  about (indented 2)
 * and epilogue (not indented) are free text, NULL for none, wrapped as
 * help is: what is not an option (exit status, notes).  Lines end before
 * column CLI_USAGE_WIDTH + 1 but for a word longer than the room left.
 */
#define CLI_USAGE_WIDTH	78
void cli_usage(FILE *f, const char *cmd, const struct cli_opt *opts,
	       const char *about, const char *epilogue);

/*
 * Messages: every one a command prints starts "gmemkit <command>: " (cli/main.c
 * names the command before running it; "gmemkit: " before that).
 * cli_err() prints one such line to stderr (fmt ends in a newline).
 */
void cli_set_command(const char *name);
__attribute__((format(printf, 1, 2)))
void cli_err(const char *fmt, ...);

#endif /* GMEMKIT_CLI_CMD_H */
