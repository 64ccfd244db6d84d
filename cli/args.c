// SPDX-License-Identifier: GPL-2.0
/*
 * The one option parser of every gmemkit command (cli/cmd.h), the --help
 * it makes from the same option table, and the message prefix:
 * "gmemkit <command>: ".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "gmemkit/parse.h"

static const char *command;

void cli_set_command(const char *name)
{
	command = name;
}

static void prefix(void)
{
	fprintf(stderr, "gmemkit%s%s: ", command ? " " : "", command ? command : "");
}

void cli_err(const char *fmt, ...)
{
	va_list ap;

	prefix();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/*
 * "gmemkit <command>: OPT VALUE: REASON", where an item of a list is the
 * bad part: "gmemkit <command>: OPT VALUE: 'ITEM' is REASON".
 */
__attribute__((format(printf, 4, 5)))
static int bad(const struct cli_opt *o, const char *val, const char *item,
	       const char *fmt, ...)
{
	va_list ap;

	prefix();
	fprintf(stderr, "%s %s: ", o->name, *val ? val : "''");
	if (item && strcmp(item, val))
		fprintf(stderr, "'%s' is ", item);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static int number(const struct cli_opt *o, const char *val, const char *item,
		  uint64_t *out)
{
	int err = parse_u64(item ? item : val, o->min, o->max, out);

	if (err == -ERANGE)
		return bad(o, val, item, "out of range (%llu..%llu)",
			   (unsigned long long)o->min, (unsigned long long)o->max);
	if (err && (o->min || o->max != UINT64_MAX))
		return bad(o, val, item, "not a non-negative base-10 integer (range %llu..%llu)",
			   (unsigned long long)o->min, (unsigned long long)o->max);
	if (err)
		return bad(o, val, item, "not a non-negative base-10 integer");
	return 0;
}

static int size(const struct cli_opt *o, const char *val, const char *item,
		uint64_t *out)
{
	uint64_t hi = o->max ? o->max : UINT64_MAX;
	char a[24], b[24];
	int err = parse_size(item ? item : val, o->min, hi, out);

	if (err == -ERANGE)
		return bad(o, val, item, "out of range (%s..%s)",
			   format_size(o->min, a, sizeof(a)),
			   format_size(hi, b, sizeof(b)));
	if (err && (o->min || hi != UINT64_MAX))
		return bad(o, val, item, "not a size (e.g. 4096, 4k, 2M, 1G; range %s..%s)",
			   format_size(o->min, a, sizeof(a)),
			   format_size(hi, b, sizeof(b)));
	if (err)
		return bad(o, val, item, "not a size (e.g. 4096, 4k, 2M, 1G)");
	if (o->align && *out % o->align)
		return bad(o, val, item, "not a multiple of %s",
			   format_size(o->align, a, sizeof(a)));
	if (o->pow2 && (*out & (*out - 1)))
		return bad(o, val, item, "not a power of 2");
	return 0;
}

/* Decimal seconds: digits with at most one '.', nothing else (no sign,
 * exponent, hex, inf or nan). */
static int seconds(const struct cli_opt *o, const char *val, double *out)
{
	size_t n = strspn(val, "0123456789"), f = 0;
	char range[64];
	double d;

	snprintf(range, sizeof(range), o->fmin_open ? "above %g, up to %g" : "%g..%g",
		 o->fmin, o->fmax);
	if (val[n] == '.')
		f = 1 + strspn(val + n + 1, "0123456789");
	if (val[n + f] || !(n || f > 1))
		return bad(o, val, NULL, "not a number of seconds (e.g. 0.5, 2; range %s)",
			   range);
	d = strtod(val, NULL);
	if (d > o->fmax || d < o->fmin || (o->fmin_open && d == o->fmin))
		return bad(o, val, NULL, "out of range (%s)", range);
	*out = d;
	return 0;
}

/* The index of name in o->names[], or -1. */
static int lookup(const struct cli_opt *o, const char *name)
{
	unsigned int i;

	for (i = 0; i < o->nnames; i++)
		if (o->names[i] && !strcmp(name, o->names[i]))
			return (int)i;
	return -1;
}

/* "a, b, c": o's names[] or sizes[] */
static const char *names_list(const struct cli_opt *o, char *list, size_t len)
{
	size_t at = 0;
	unsigned int i;

	list[0] = '\0';
	for (i = 0; i < o->nnames; i++)
		if (o->names[i] && at < len)
			at += (size_t)snprintf(list + at, len - at, "%s%s",
					       at ? ", " : "", o->names[i]);
	for (i = 0; i < o->nsizes; i++)
		if (at < len) {
			char s[24];

			at += (size_t)snprintf(list + at, len - at, "%s%s",
					       at ? ", " : "",
					       format_size(o->sizes[i], s, sizeof(s)));
		}
	return list;
}

/* "not one of a, b, c" */
static int not_one_of(const struct cli_opt *o, const char *val, const char *item)
{
	char list[512];

	return bad(o, val, item, "not one of %s", names_list(o, list, sizeof(list)));
}

int cli_transport(const char *value, void *transport)
{
	return vmm_transport_from_name(value, transport);
}

int cli_platform(const char *value, void *platform)
{
	enum plat p;

	if (plat_from_name(value, &p))
		return -EINVAL;
	*(unsigned int *)platform = p;
	return 0;
}

/* One item of a comma list into the destination. */
static int item(const struct cli_opt *o, const char *val, const char *it,
		unsigned int *count)
{
	unsigned int *dest = o->dest, i;
	uint64_t v;
	int k;

	switch (o->kind) {
	case CLI_K_LIST:
		k = lookup(o, it);
		if (k < 0)
			return not_one_of(o, val, it);
		*dest |= 1U << k;
		break;
	case CLI_K_UINTS:
		if (*count == o->max_n)
			return bad(o, val, NULL, "more than %u values", o->max_n);
		if (number(o, val, it, &v))
			return -EINVAL;
		dest[*count] = (unsigned int)v;
		break;
	default:	/* CLI_K_SIZES */
		if (size(o, val, it, &v))
			return -EINVAL;
		for (i = 0; i < o->nsizes && o->sizes[i] != v; i++)
			;
		if (i == o->nsizes)
			return not_one_of(o, val, it);
		*dest |= 1U << i;
		break;
	}
	++*count;
	return 0;
}

static int list(const struct cli_opt *o, const char *val)
{
	char *copy = strdup(val), *it, *save = NULL;
	unsigned int count = 0;
	int err = 0;

	if (!copy)
		return bad(o, val, NULL, "%s", strerror(ENOMEM));
	if (o->kind != CLI_K_UINTS)
		*(unsigned int *)o->dest = 0;
	for (it = strtok_r(copy, ",", &save); it && !err; it = strtok_r(NULL, ",", &save))
		err = item(o, val, it, &count);
	free(copy);
	if (!err && !count)
		err = bad(o, val, NULL, "names nothing");
	if (!err && o->kind == CLI_K_UINTS)
		*o->n = count;
	return err;
}

/* The value(s) v[] of option o into its destination. */
static int value(const struct cli_opt *o, char **v)
{
	uint64_t x;
	int k;

	switch (o->kind) {
	case CLI_K_UINT:
		if (number(o, v[0], NULL, &x))
			return -EINVAL;
		*(unsigned int *)o->dest = (unsigned int)x;
		return 0;
	case CLI_K_U64:
		return number(o, v[0], NULL, o->dest);
	case CLI_K_SIZE:
		return size(o, v[0], NULL, o->dest);
	case CLI_K_SECONDS:
		return seconds(o, v[0], o->dest);
	case CLI_K_STRING:
		if (o->names && lookup(o, v[0]) < 0)
			return not_one_of(o, v[0], NULL);
		*(const char **)o->dest = v[0];
		return 0;
	case CLI_K_PAIR:
		((const char **)o->dest)[0] = v[0];
		((const char **)o->dest)[1] = v[1];
		return 0;
	case CLI_K_CHOICE:
		k = lookup(o, v[0]);
		if (k < 0)
			return not_one_of(o, v[0], NULL);
		*(unsigned int *)o->dest = (unsigned int)k;
		return 0;
	case CLI_K_FN:
		k = o->fn(v[0], o->dest);
		if (k == -EINVAL)
			return bad(o, v[0], NULL, "not %s", o->what);
		return k ? bad(o, v[0], NULL, "%s", strerror(-k)) : 0;
	default:
		return list(o, v[0]);
	}
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts,
	      void (*usage)(FILE *f, const struct cli_opt *opts))
{
	const struct cli_opt *o;
	int i, nv;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout, opts);
			return 1;
		}
		for (o = opts; o->name && strcmp(a, o->name); o++)
			;
		if (!o->name) {
			cli_err("unknown option '%s' (gmemkit %s --help lists them)\n", a,
				command ? command : "<command>");
			return -EINVAL;
		}
		if (o->given)
			*o->given = a;
		if (o->kind == CLI_K_FLAG) {
			*(bool *)o->dest = true;
			continue;
		}
		nv = o->kind == CLI_K_PAIR ? 2 : 1;
		if (i + nv >= argc) {
			cli_err("%s needs %s\n", a, nv == 2 ? "two values" : "a value");
			return -EINVAL;
		}
		if (value(o, argv + i + 1))
			return -EINVAL;
		if (o->given)
			*o->given = argv[i + 1];
		i += nv;
	}
	return 0;
}

/* ---- usage, from the table ---------------------------------------------- */

/* The name of o's value in usage ("N"); NULL for a flag. */
static const char *arg_name(const struct cli_opt *o)
{
	if (o->arg || o->kind == CLI_K_FLAG)
		return o->arg;
	switch (o->kind) {
	case CLI_K_UINT:
	case CLI_K_U64:
		return "N";
	case CLI_K_SIZE:
		return "SIZE";
	case CLI_K_SECONDS:
		return "SECONDS";
	case CLI_K_PAIR:
		return "A B";
	case CLI_K_CHOICE:
		return "NAME";
	case CLI_K_LIST:
	case CLI_K_UINTS:
	case CLI_K_SIZES:
		return "LIST";
	default:
		return o->names ? "NAME" : "VALUE";
	}
}

/* What o accepts, from the table ("range 1..64", "one of a, b"), in buf;
 * "" when the table says nothing or the help says it (.values_in_help). */
static const char *accepts(const struct cli_opt *o, char *buf, size_t len)
{
	char a[24], b[24], list[512];
	size_t at = 0;

	buf[0] = '\0';
	if (o->values_in_help)
		return buf;
	switch (o->kind) {
	case CLI_K_UINT:
	case CLI_K_U64:
		if (o->min || o->max != UINT64_MAX)
			snprintf(buf, len, "range %llu..%llu", (unsigned long long)o->min,
				 (unsigned long long)o->max);
		break;
	case CLI_K_SIZE:
		if (o->max)
			at = (size_t)snprintf(buf, len, "range %s..%s",
					      format_size(o->min, a, sizeof(a)),
					      format_size(o->max, b, sizeof(b)));
		else if (o->min)
			at = (size_t)snprintf(buf, len, "at least %s",
					      format_size(o->min, a, sizeof(a)));
		if (o->align && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%sa multiple of %s",
					       at ? ", " : "",
					       format_size(o->align, a, sizeof(a)));
		if (o->pow2 && at < len)
			snprintf(buf + at, len - at, "%sa power of 2", at ? ", " : "");
		break;
	case CLI_K_SECONDS:
		snprintf(buf, len, o->fmin_open ? "above %g, up to %g" : "range %g..%g",
			 o->fmin, o->fmax);
		break;
	case CLI_K_UINTS:
		snprintf(buf, len, "a comma list of up to %u numbers in %llu..%llu",
			 o->max_n, (unsigned long long)o->min, (unsigned long long)o->max);
		break;
	case CLI_K_LIST:
	case CLI_K_SIZES:
		snprintf(buf, len, "a comma list of %s", names_list(o, list, sizeof(list)));
		break;
	case CLI_K_CHOICE:
	case CLI_K_STRING:
		if (o->names)
			snprintf(buf, len, "one of %s", names_list(o, list, sizeof(list)));
		break;
	case CLI_K_FN:
		snprintf(buf, len, "%s", o->what ? o->what : "");
		break;
	default:
		break;
	}
	return buf;
}

/*
 * Print text wrapped to CLI_USAGE_WIDTH columns, pad spaces before its
 * first word (the cursor is pad columns short of indent).  Each line of
 * it (after a '\n') starts at column indent plus its own leading spaces,
 * and a long one wraps to there; a '\t' moves on to the next stop, 8
 * columns apart from indent, and the line wraps to that stop from then
 * on.  Spaces are printed only before a word: no trailing blanks.  Ends
 * the last line.
 */
static void wrap(FILE *f, const char *text, int indent, int pad)
{
	const char *p = text;
	int at = indent, hang = indent;	/* the column the next word is at */
	bool start = true, word = false;
	size_t n;

	while (*p) {
		if (start) {
			n = strspn(p, " ");
			pad += (int)n;
			at += (int)n;
			hang = at;
			p += n;
			start = word = false;
			continue;
		}
		switch (*p) {
		case '\n':
			fputc('\n', f);
			p++;
			pad = at = indent;
			start = true;
			continue;
		case '\t':
			n = (size_t)(indent + ((at - indent) / 8 + 1) * 8);
			pad += (int)n - at;
			at = hang = (int)n;
			p++;
			p += strspn(p, " ");
			continue;
		case ' ':
			n = strspn(p, " ");
			pad += (int)n;
			at += (int)n;
			p += n;
			continue;
		}
		n = strcspn(p, " \t\n");
		if (word && at + (int)n > CLI_USAGE_WIDTH) {
			fputc('\n', f);
			pad = at = hang;
		}
		fprintf(f, "%*s%.*s", pad, "", (int)n, p);
		at += (int)n;
		p += n;
		pad = 0;
		word = true;
	}
	fputc('\n', f);
}

/* "[--opt ARG]", "--opt ARG" if required, "[--a | --b ARG]" for an
 * .or_next run (o moves to its last one); the length. */
static int synopsis_item(const struct cli_opt **op, char *buf, size_t len)
{
	const struct cli_opt *o = *op;
	bool brackets = !o->required || o->or_next;
	size_t at = 0;

	if (brackets)
		at += (size_t)snprintf(buf, len, "[");
	for (;; o++) {
		const char *arg = arg_name(o);

		if (at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%s%s%s", o->name,
					       arg ? " " : "", arg ? arg : "",
					       o->or_next && o[1].name ? " | " : "");
		if (!o->or_next || !o[1].name)
			break;
	}
	if (brackets && at < len)
		at += (size_t)snprintf(buf + at, len - at, "]");
	*op = o;
	return at < len ? (int)at : (int)len - 1;
}

static void synopsis(FILE *f, const char *cmd, const struct cli_opt *opts)
{
	int indent = (int)strlen("usage: ") + (int)strlen(cmd), at, n;
	const struct cli_opt *o;
	char item[256];

	at = fprintf(f, "usage: %s", cmd);
	for (o = opts; o->name; o++) {
		if (o->alone)
			continue;
		n = synopsis_item(&o, item, sizeof(item));
		if (at > indent && at + 1 + n > CLI_USAGE_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			at = indent;
		}
		at += fprintf(f, " %s", item);
	}
	fputc('\n', f);
	for (o = opts; o->name; o++)
		if (o->alone)
			fprintf(f, "%*s%s %s%s%s\n", (int)strlen("usage: "), "", cmd, o->name,
				arg_name(o) ? " " : "", arg_name(o) ? arg_name(o) : "");
}

/* The help column: past the longest "  --opt ARG" and 2 spaces, at most
 * HELP_COL (a longer one puts its help on the next line). */
#define HELP_COL	24

static int item_len(const struct cli_opt *o)
{
	const char *arg = arg_name(o);

	return 2 + (int)strlen(o->name) + (arg ? 1 + (int)strlen(arg) : 0);
}

void cli_usage(FILE *f, const char *cmd, const struct cli_opt *opts,
	       const char *about, const char *epilogue)
{
	const struct cli_opt *o;
	int col = 0, n;

	synopsis(f, cmd, opts);
	if (about)
		wrap(f, about, 2, 2);
	for (o = opts; o->name; o++)
		if (item_len(o) + 2 > col)
			col = item_len(o) + 2;
	if (col > HELP_COL)
		col = HELP_COL;
	for (o = opts; o->name; o++) {
		const char *arg = arg_name(o), *help = o->help ? o->help : "";
		char values[640], *text = NULL;

		accepts(o, values, sizeof(values));
		if (*values && *help &&
		    asprintf(&text, "%s; %s", help, values) < 0)
			text = NULL;
		n = fprintf(f, "  %s%s%s", o->name, arg ? " " : "", arg ? arg : "");
		if (n + 2 > col) {
			fputc('\n', f);
			n = 0;
		}
		wrap(f, text ? text : *help ? help : values, col, col - n);
		free(text);
	}
	if (epilogue)
		wrap(f, epilogue, 0, 0);
}
