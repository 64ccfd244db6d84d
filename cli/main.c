// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit: one binary, one subcommand per cli/<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "harness/violation.h"

extern const struct gmem_cmd __start_gmem_cmds[], __stop_gmem_cmds[];

static void usage(FILE *f)
{
	const struct gmem_cmd *c;

	fprintf(f, "usage: gmemkit <command> [options]   (gmemkit <command> --help)\n\n"
		   "Is converting guest memory private<->shared fast enough to do on\n"
		   "the I/O path instead of bouncing through swiotlb?\n\ncommands:\n");
	for (c = __start_gmem_cmds; c < __stop_gmem_cmds; c++)
		fprintf(f, "  %-15s %s\n", c->name, c->summary);
}

const struct gmem_cmd *cli_find_command(const char *name)
{
	const struct gmem_cmd *c;

	for (c = __start_gmem_cmds; c < __stop_gmem_cmds; c++)
		if (!strcmp(name, c->name))
			return c;
	return NULL;
}

int main(int argc, char **argv)
{
	const struct gmem_cmd *c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	c = cli_find_command(argv[1]);
	if (c) {
		cli_set_command(c->name);
		/* A host access to a private page is named, then fatal. */
		if (violation_watch())
			cli_err("no violation handler: a host access to a private page will be a plain SIGSEGV\n");
		return c->fn(argc - 1, argv + 1);
	}
	cli_err("unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
