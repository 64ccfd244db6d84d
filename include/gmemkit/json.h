/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON reader and writer for the benchmarks' own output (bench,
 * --compare, the sub-benchmarks' --json).  The reader parses whole
 * documents into a tree; numbers are doubles.  The writer prints to a
 * FILE as it goes and puts the commas itself.
 */
#ifndef GMEMKIT_CLI_JSON_H
#define GMEMKIT_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/*
 * The writer.  Each value call takes the member's key inside an object and
 * NULL elsewhere (in an array, at the top level); json_w_obj() and
 * json_w_arr() open a container as such a value, json_w_end() closes the
 * innermost one.  For example {"results":[{"bs":4096}]}:
 *
 *	struct json_w w;
 *
 *	json_w_init(&w, stdout);
 *	json_w_obj(&w, NULL);
 *	json_w_arr(&w, "results");
 *	json_w_obj(&w, NULL);
 *	json_w_u64(&w, "bs", 4096);
 *	json_w_end(&w);
 *	json_w_end(&w);
 *	json_w_end(&w);
 *	err = json_w_finish(&w);
 *
 * A misuse (a key where none belongs or none where one must be, an end with
 * nothing open, nesting beyond JSON_W_MAX_DEPTH, a second top-level value)
 * writes nothing and stops the writer: every later call writes nothing
 * either, and json_w_finish() says -EINVAL.
 */
#define JSON_W_MAX_DEPTH	32

struct json_w {
	FILE *f;
	unsigned int depth;		/* containers open */
	uint32_t obj;			/* bit d: container d is an object */
	uint32_t used;			/* bit d: container d has a value */
	bool done;			/* the top-level value is complete */
	int err;			/* 0, or -EINVAL after a misuse */
};

void json_w_init(struct json_w *w, FILE *f);
void json_w_obj(struct json_w *w, const char *key);
void json_w_arr(struct json_w *w, const char *key);
void json_w_end(struct json_w *w);
void json_w_null(struct json_w *w, const char *key);
void json_w_bool(struct json_w *w, const char *key, bool v);
void json_w_u64(struct json_w *w, const char *key, uint64_t v);
void json_w_i64(struct json_w *w, const char *key, int64_t v);
/* v with prec digits after the point (printf's %.*f); null if not finite. */
void json_w_fixed(struct json_w *w, const char *key, double v, int prec);
/* v with prec significant digits (printf's %.*g); null if not finite. */
void json_w_sig(struct json_w *w, const char *key, double v, int prec);
/* s with json_print_str()'s escapes; null if s is NULL. */
void json_w_str(struct json_w *w, const char *key, const char *s);
/* A parsed value as json_print() prints it; null if v is NULL. */
void json_w_value(struct json_w *w, const char *key, const struct json *v);
/*
 * json_w_finish() - 0 when one complete value was written, else -EINVAL (a
 * misuse, containers left open or nothing written) or -EIO (the stream's
 * error indicator is set).  Flushes nothing and closes nothing.
 */
int json_w_finish(const struct json_w *w);

/* Read a whole file (NUL-terminated); NULL with errno set on failure. */
char *json_slurp(const char *path);

#endif /* GMEMKIT_CLI_JSON_H */
