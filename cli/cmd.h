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

/* Argument helpers (cli/args.c).  Each prints a message naming the bad
 * value and returns -1 on error. */
int cli_parse_u64(const char *opt, const char *val, uint64_t *out);
int cli_parse_size(const char *opt, const char *val, uint64_t *out); /* 4k, 2M, 1G */
int cli_parse_uint(const char *opt, const char *val, unsigned int min,
		   unsigned int max, unsigned int *out);

#endif /* GMEMKIT_CLI_CMD_H */
