/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON reader for the benchmarks' own output (bench, --compare).
 * Whole documents are parsed into a tree; numbers are doubles.
 */
#ifndef GMEMKIT_CLI_JSON_H
#define GMEMKIT_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
	enum json_type type;
	double num;			/* JSON_NUM, JSON_BOOL (0/1) */
	char *str;			/* JSON_STR; key of an object member */
	char *key;
	struct json *child;		/* first element / member */
	struct json *next;		/* next sibling */
};

/* Parse text; NULL on a syntax error, with the byte offset in *err_at. */
struct json *json_parse(const char *text, size_t *err_at);
void json_free(struct json *j);

struct json *json_get(const struct json *obj, const char *key);
double json_num(const struct json *obj, const char *key, double dflt);
const char *json_str(const struct json *obj, const char *key, const char *dflt);
size_t json_len(const struct json *arr);

/* Print v as a JSON value (used to copy a parsed document into another). */
void json_print(FILE *f, const struct json *v);
/* Print s as a JSON string with escapes. */
void json_print_str(FILE *f, const char *s);

/* Read a whole file (NUL-terminated); NULL with errno set on failure. */
char *json_slurp(const char *path);

#endif /* GMEMKIT_CLI_JSON_H */
