// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench --compare A.json B.json: the points two saved runs have in
 * common, side by side, with B/A.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

static const char *const id_keys[] = {
	"op", "mode", "transport", "rw", "backend", "pages", "bytes", "bs", "qd",
	"vcpus", "threads",
};
#define NID	(sizeof(id_keys) / sizeof(id_keys[0]))

/* Keys a run before them did not write: absent is their default. */
static const char *const id_defaults[][2] = {
	{ "platform", "ideal" }, { "conv_model", "lazy" },
};
#define NDEF	(sizeof(id_defaults) / sizeof(id_defaults[0]))

static bool same_point(const struct json *a, const struct json *b)
{
	unsigned int i;

	for (i = 0; i < NDEF; i++)
		if (strcmp(json_str(a, id_defaults[i][0], id_defaults[i][1]),
			   json_str(b, id_defaults[i][0], id_defaults[i][1])))
			return false;
	for (i = 0; i < NID; i++) {
		const struct json *x = json_get(a, id_keys[i]), *y = json_get(b, id_keys[i]);

		if (!x != !y)
			return false;
		if (!x)
			continue;
		if (x->type != y->type)
			return false;
		if (x->type == JSON_STR ? strcmp(x->str, y->str) : x->num != y->num)
			return false;
	}
	return true;
}

static void describe(char *buf, size_t len, const struct json *r)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < NID && n < len; i++) {
		const struct json *v = json_get(r, id_keys[i]);

		if (!v)
			continue;
		if (v->type == JSON_STR)
			n += (size_t)snprintf(buf + n, len - n, "%s=%s ", id_keys[i], v->str);
		else
			n += (size_t)snprintf(buf + n, len - n, "%s=%g ", id_keys[i], v->num);
	}
	for (i = 0; i < NDEF && n < len; i++) {
		const char *v = json_str(r, id_defaults[i][0], id_defaults[i][1]);

		if (strcmp(v, id_defaults[i][1]))
			n += (size_t)snprintf(buf + n, len - n, "%s=%s ", id_defaults[i][0], v);
	}
}

static unsigned int compare_section(const struct json *a, const struct json *b,
				    const char *section, const char *metric)
{
	const struct json *sa = json_get(a, section), *sb = json_get(b, section), *x, *y;
	unsigned int n = 0;
	char desc[256];

	for (x = sa ? sa->child : NULL; x; x = x->next) {
		for (y = sb ? sb->child : NULL; y && !same_point(x, y); y = y->next)
			;
		if (!y)
			continue;
		describe(desc, sizeof(desc), x);
		printf("%-8s %-70s %14.1f %14.1f %8.2fx\n", section, desc,
		       json_num(x, metric, NAN), json_num(y, metric, NAN),
		       json_num(y, metric, NAN) / json_num(x, metric, NAN));
		n++;
	}
	return n;
}

struct json *report_load(const char *path)
{
	char *text = json_slurp(path);
	struct json *j;
	size_t at;

	if (!text) {
		fprintf(stderr, "gmemkit bench: cannot read '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	j = json_parse(text, &at);
	if (!j)
		fprintf(stderr, "gmemkit bench: '%s' is not valid JSON (byte %zu)\n", path, at);
	else if (!json_get(j, "convert")) {
		fprintf(stderr, "gmemkit bench: '%s' is not a gmemkit results.json\n", path);
		json_free(j);
		j = NULL;
	}
	free(text);
	return j;
}

int report_compare(const char *pa, const char *pb)
{
	struct json *a = report_load(pa), *b = a ? report_load(pb) : NULL;
	unsigned int n;

	if (!a || !b) {
		json_free(a);
		return 2;
	}
	printf("A = %s (%s)\nB = %s (%s)\n\n", pa, json_str(json_get(a, "host"), "cpu", "?"),
	       pb, json_str(json_get(b, "host"), "cpu", "?"));
	printf("%-8s %-70s %14s %14s %9s\n", "section", "point", "A", "B", "B/A");
	n = compare_section(a, b, "convert", "ns_median");
	n += compare_section(a, b, "bounce", "ns_median");
	n += compare_section(a, b, "io", bench_io_key(BIO_F_IOPS));
	printf("\n%u common points (ns: lower is better; io: IOPS, higher is better)\n", n);
	json_free(a);
	json_free(b);
	return n ? 0 : 1;
}
