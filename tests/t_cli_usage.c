// SPDX-License-Identifier: GPL-2.0
/*
 * A command's --help, made from its option table (cli_usage(), cli/args.c):
 * every option of the table in the synopsis and on a line of its own with
 * its help, what it accepts said from the table (ranges, names), lines
 * wrapped under 80 columns; then the same of every gmemkit command's
 * --help, when build/gmemkit is there ($O/gmemkit).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "../cli/args.c"	/* cli/ is the gmemkit binary's, not a library's */
#include "tap.h"

static bool flag, alt;
static unsigned int reps = 5, choice, picked, uints[4], nuints, sizes;
static uint64_t bs, pool;
static double secs;
static const char *str, *pair[2], *need;

static const char *const choices[] = { NULL, "alpha", "beta", "gamma" };
static const char *const lists[] = { "red", "green", "blue" };
static const uint64_t size_set[] = { 4096, 65536, 1 << 20 };

static int fn(const char *v, void *d)
{
	*(const char **)d = v;
	return 0;
}

#define LONG_HELP							\
	"a help text long enough to wrap: it goes on and on about what the "	\
	"option does, its default and its exceptions, well past one line "	\
	"of the terminal and then some more"

static const struct cli_opt opts[] = {
	CLI_STRING("--need", &need, .arg = "FILE", .required = true,
		   .help = "the file it needs"),
	CLI_FLAG("--flag", &flag, .or_next = true, .help = "a flag"),
	CLI_FLAG("--alt", &alt, .help = "the other flag"),
	CLI_UINT("--reps", &reps, 1, 64, .help = "runs (default 5)"),
	CLI_SIZE("--bs", &bs, 4096, 1 << 20, .pow2 = true, .help = "block size"),
	CLI_SIZE("--pool", &pool, 2 << 20, 1ULL << 30, .align = 2 << 20,
		 .help = LONG_HELP),
	CLI_SECONDS("--secs", &secs, 0, 3600, .fmin_open = true, .help = "how long"),
	CLI_STRING("--str", &str, .arg = "DIR", .help = "where"),
	CLI_CHOICE("--choice", &choice, choices, .help = "which one"),
	CLI_LIST("--list", &picked, lists, .help = "which ones"),
	CLI_LIST("--named", &picked, lists, .values_in_help = true,
		 .help = "red, green or blue, each described"),
	CLI_UINTS("--uints", uints, &nuints, 1, 8, .help = "counts"),
	CLI_SIZES("--sizes", &sizes, size_set, .help = "sizes"),
	CLI_FN("--fn", &str, fn, "up, down or sideways", .arg = "WAY", .help = "a way"),
	CLI_STRING("--table", &str, .arg = "T", .values_in_help = true,
		   .help = "a table:\n"
			   "one\tthe first row, long enough that it wraps past the "
			   "end of its line and on\n"
			   "two\tthe second"),
	CLI_PAIR("--compare", pair, .arg = "A B", .alone = true, .help = "two files"),
	{ 0 }
};

/* cli_usage()'s text for opts. */
static char *usage_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	cli_usage(f, "gmemkit t", opts, "what it is about, told at length: it "
		  "measures this and that and then writes it all down somewhere",
		  "exit status: 0 fine, 2 usage");
	fclose(f);
	return buf;
}

/* s with every run of blanks and newlines one space. */
static char *squash(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\t') {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* Every line at most CLI_USAGE_WIDTH columns, none ending in a blank; the
 * first bad one in why. */
static bool lines_fit(const char *text, char *why, size_t len)
{
	const char *l = text;
	unsigned int n = 1;

	while (*l) {
		size_t k = strcspn(l, "\n");

		if (k > CLI_USAGE_WIDTH || (k && (l[k - 1] == ' ' || l[k - 1] == '\t'))) {
			snprintf(why, len, "line %u: %zu columns: '%.*s'", n, k, (int)k, l);
			return false;
		}
		l += k + (l[k] == '\n');
		n++;
	}
	return true;
}

/* The line of text that starts with start, or NULL. */
static const char *line_at(const char *text, const char *start)
{
	const char *l = text;
	size_t n = strlen(start);

	while (*l) {
		if (!strncmp(l, start, n))
			return l;
		l += strcspn(l, "\n");
		l += *l == '\n';
	}
	return NULL;
}

/* The line after l. */
static const char *next_line(const char *l)
{
	l += strcspn(l, "\n");
	return *l ? l + 1 : l;
}

#define SYNOPSIS	"usage: gmemkit t --need FILE [--flag | --alt] [--reps N] "

static void test_table(void)
{
	char *text = usage_text(), *flat = NULL, why[160] = "";
	const struct cli_opt *o;
	const char *l, *first;
	bool all = true;
	int col;

	if (!ok(text != NULL, "cli_usage() printed"))
		return;
	flat = squash(text);
	/* the synopsis: each option, its value's name, [] unless required */
	ok(!strncmp(text, SYNOPSIS, strlen(SYNOPSIS)),
	   "synopsis: the command, a required option bare, an .or_next pair in one []");
	for (o = opts; o->name && all; o++) {
		char want[80];

		if (o->alone || o->or_next || o == opts || o[-1].or_next)
			continue;
		snprintf(want, sizeof(want), "[%s%s%s]", o->name, arg_name(o) ? " " : "",
			 arg_name(o) ? arg_name(o) : "");
		all = strstr(flat, want) != NULL;
		if (!all)
			snprintf(why, sizeof(why), "%s missing", want);
	}
	ok(all, "synopsis: every option with its value's name %s", why);
	ok(line_at(text, "       gmemkit t --compare A B\n") != NULL,
	   "synopsis: an .alone option on a line of its own");
	ok(strstr(text, "\n  what it is about, told at length:") != NULL &&
	   strstr(text, "\nexit status: 0 fine, 2 usage\n") != NULL,
	   "about (indented 2) and epilogue printed");

	/* every option on a line of its own, with its help */
	all = true;
	for (o = opts; o->name && all; o++) {
		char start[80], *help = squash(o->help ? o->help : "");

		snprintf(start, sizeof(start), "  %s%s%s", o->name, arg_name(o) ? " " : "",
			 arg_name(o) ? arg_name(o) : "");
		all = line_at(text, start) && help && strstr(flat, help);
		if (!all)
			snprintf(why, sizeof(why), "%s: no line or no help", o->name);
		free(help);
	}
	ok(all, "every option has its line and its help %s", why);

	ok(lines_fit(text, why, sizeof(why)),
	   "every line under 80 columns, no trailing blank %s", why);

	/* a long help wraps, under the help column */
	first = line_at(text, "  --pool SIZE");
	l = first ? next_line(first) : NULL;
	col = first ? (int)(strstr(first, "a help text") - first) : 0;
	ok(first && col > 10 && col <= HELP_COL && l && (int)strspn(l, " ") == col &&
	   l[col] != '-' && strstr(flat, LONG_HELP "; range 2M..1G, a multiple of 2M"),
	   "a long help wraps to the help column (%d), the range after it", col);

	/* what each kind accepts, from the table */
	ok(strstr(flat, "runs (default 5); range 1..64") != NULL, "a number: its range");
	ok(strstr(flat, "block size; range 4k..1M, a power of 2") != NULL,
	   "a size: its range, a power of 2");
	ok(strstr(flat, "how long; above 0, up to 3600") != NULL, "seconds: the range");
	ok(strstr(flat, "which one; one of alpha, beta, gamma") != NULL,
	   "a choice lists its names (NULL ones left out)");
	ok(strstr(flat, "which ones; a comma list of red, green, blue") != NULL,
	   "a list lists its names");
	ok(strstr(flat, "each described; ") == NULL &&
	   strstr(flat, "red, green or blue, each described --uints") != NULL,
	   ".values_in_help: the names not listed again");
	ok(strstr(flat, "counts; a comma list of up to 4 numbers in 1..8") != NULL,
	   "a list of numbers: how many and their range");
	ok(strstr(flat, "sizes; a comma list of 4k, 64k, 1M") != NULL,
	   "a set of sizes lists them");
	ok(strstr(flat, "a way; up, down or sideways") != NULL, "a CLI_FN: its what");
	ok(strstr(flat, "where --choice") != NULL && strstr(flat, "a flag --alt") != NULL,
	   "a string and a flag: their help alone");

	/* '\n' starts a line at the help column, '\t' a hanging indent */
	first = line_at(text, "  --table T");
	l = first ? next_line(first) : NULL;
	ok(l && (int)strspn(l, " ") == col &&
	   !strncmp(l + col, "one     the first row", 21),
	   "help: '\\n' starts a line at the help column, '\\t' goes to the next stop");
	l = l ? next_line(l) : NULL;
	ok(l && (int)strspn(l, " ") == col + 8 && strncmp(l + col + 8, "two", 3),
	   "help: a line with a '\\t' wraps to the stop");
	l = l ? next_line(l) : NULL;
	ok(l && (int)strspn(l, " ") == col && !strncmp(l + col, "two     the second\n", 19),
	   "help: the next line back at the help column");
	free(flat);
	free(text);
}

static const struct cli_opt *seen;

static void record(FILE *f, const struct cli_opt *o)
{
	(void)f;
	seen = o;
}

static void test_parse_help(void)
{
	char *argv[] = { "t", "--reps", "7", "--help", NULL };
	int ret = cli_parse(4, argv, opts, record);

	ok(ret == 1 && seen == opts && reps == 7,
	   "cli_parse() --help: usage() gets the table, returns 1");
}

/* ---- every gmemkit command's --help ------------------------------------- */

/* Each command's --help (run --kernel's: --help first, or it is the
 * kernel). */
static const char *const cmds[] = {
	"probe --help", "bench --help", "bounce-bench --help", "convert-bench --help",
	"io-bench --help", "run --help", "run --help --kernel", "stress --help",
};

/* `gmemkit args`'s stdout in out; the exit status, -1 if none. */
static int help_of(const char *bin, const char *args, char *out, size_t len)
{
	char cmd[1024];
	size_t n = 0, k;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null", bin, args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n + 1 < len && (k = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += k;
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Whether the line l of an option (its "  --opt ARG") has help after it,
 * or under it. */
static bool has_help(const char *l)
{
	size_t n = strcspn(l, "\n");
	const char *gap = strstr(l + 2, "  ");

	if (gap && gap < l + n)
		return gap[strspn(gap, " ")] != '\n';
	l = next_line(l);
	n = strspn(l, " ");
	return n >= 4 && l[n] && l[n] != '\n' && l[n] != '-';
}

/* Every --option of the synopsis (its first line and the lines under it,
 * all indented 7 or more) has a line of its own, with help. */
static bool options_helped(const char *text, char *why, size_t len)
{
	const char *end = next_line(text), *p;

	while (*end && !strncmp(end, "       ", 7))
		end = next_line(end);
	for (p = strstr(text, "--"); p && p < end; p = strstr(p + 2, "--")) {
		size_t n = strcspn(p, " ]|\n");
		const char *l = end;
		char start[64];

		if (p[-1] != ' ' && p[-1] != '[')
			continue;
		snprintf(start, sizeof(start), "  %.*s", (int)n, p);
		while ((l = line_at(l, start)) && l[n + 2] != ' ' && l[n + 2] != '\n')
			l = next_line(l);
		if (!l || !has_help(l)) {
			snprintf(why, len, "%s: %s", start + 2, l ? "no help" : "no line");
			return false;
		}
	}
	return true;
}

static void test_commands(void)
{
	static char out[1 << 16];
	char bin[512], why[200], head[64];
	unsigned int i;

	snprintf(bin, sizeof(bin), "%s/gmemkit", getenv("O") ? getenv("O") : "build");
	if (access(bin, X_OK)) {
		tap_skip(3 * (int)CLI_ARRAY_SIZE(cmds), "gmemkit not built");
		return;
	}
	for (i = 0; i < CLI_ARRAY_SIZE(cmds); i++) {
		int st = help_of(bin, cmds[i], out, sizeof(out));

		snprintf(head, sizeof(head), "usage: gmemkit %.*s%s",
			 (int)strcspn(cmds[i], " "), cmds[i],
			 strstr(cmds[i], "--kernel") ? " --kernel" : " [");
		ok(st == 0 && !strncmp(out, head, strlen(head)), "%s: exit %d, '%s'",
		   cmds[i], st, head);
		why[0] = '\0';
		ok(lines_fit(out, why, sizeof(why)), "%s: under 80 columns %s", cmds[i],
		   why);
		why[0] = '\0';
		ok(options_helped(out, why, sizeof(why)),
		   "%s: every option of the synopsis has its help %s", cmds[i], why);
	}
}

int main(void)
{
	tap_plan(22 + 3 * (int)CLI_ARRAY_SIZE(cmds));
	test_table();
	test_parse_help();
	test_commands();
	return tap_done();
}
