// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark JSON reader: values, nesting, escapes, and rejection of
 * malformed input (including unbounded nesting).  The writer: exact text,
 * what it writes read back by the reader, escapes, and its misuse refused.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/json.h"
#include "tap.h"

static void test_good(void)
{
	const char *doc = "{\"results\":[{\"op\":\"roundtrip\",\"pages\":512,"
			  "\"ns_min\":1.5e3,\"ok\":true,\"x\":null},{\"op\":\"a\\\"b\\u0041\"}],"
			  " \"n\": -7 }";
	struct json *j = json_parse(doc, NULL), *r, *first;

	ok(j != NULL, "parse a benchmark document");
	if (!j) {
		tap_skip(6, "no document");
		return;
	}
	r = json_get(j, "results");
	ok(r && r->type == JSON_ARR && json_len(r) == 2, "array with two results");
	first = r ? r->child : NULL;
	ok(!strcmp(json_str(first, "op", ""), "roundtrip"), "string member");
	ok(json_num(first, "pages", 0) == 512 && json_num(first, "ns_min", 0) == 1500,
	   "number members");
	ok(json_num(first, "ok", 0) == 1 && json_get(first, "x")->type == JSON_NULL,
	   "true and null");
	ok(!strcmp(json_str(first->next, "op", ""), "a\"bA"), "escapes decoded");
	ok(json_num(j, "n", 0) == -7 && json_num(j, "missing", 42) == 42,
	   "negative number and default for a missing key");
	json_free(j);
}

static void test_bad(void)
{
	static const char *bad[] = {
		"", "{", "[1,]", "{\"a\" 1}", "{\"a\":}", "[1 2]", "\"abc",
		"{\"a\":1}x", "tru", "[\"\\q\"]", "{1:2}", "-", "[\"\\u12G4\"]",
	};
	char deep[300];
	size_t i, at;
	int rejected = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		rejected += json_parse(bad[i], &at) == NULL;
	ok_eq(rejected, sizeof(bad) / sizeof(bad[0]), "malformed documents rejected");
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = 0;
	ok(json_parse(deep, &at) == NULL, "nesting beyond the depth bound rejected");
}

/* A writer over a memory stream: w_open(), write, w_text() (NUL-terminated;
 * free it). */
struct wbuf {
	struct json_w w;
	FILE *f;
	char *text;
	size_t len;
};

static void w_open(struct wbuf *b)
{
	b->text = NULL;
	b->f = open_memstream(&b->text, &b->len);
	if (!b->f)
		tap_bail("open_memstream");
	json_w_init(&b->w, b->f);
}

static char *w_text(struct wbuf *b, int *err)
{
	*err = json_w_finish(&b->w);
	fclose(b->f);
	return b->text;
}

static void test_write_exact(void)
{
	struct wbuf b;
	char *t;
	int err;

	w_open(&b);
	json_w_obj(&b.w, NULL);
	json_w_arr(&b.w, "results");
	json_w_obj(&b.w, NULL);
	json_w_str(&b.w, "mode", "bounce");
	json_w_u64(&b.w, "bs", 4096);
	json_w_fixed(&b.w, "iops", 3740.04, 1);
	json_w_fixed(&b.w, "lat", 0.1234567, 3);
	json_w_fixed(&b.w, "runtime_s", 0.1000014, 6);
	json_w_i64(&b.w, "cpu", -1);
	json_w_bool(&b.w, "pass", true);
	json_w_bool(&b.w, "direct", false);
	json_w_null(&b.w, "x");
	json_w_end(&b.w);
	json_w_end(&b.w);
	json_w_sig(&b.w, "g", 0.5, 6);
	json_w_sig(&b.w, "g2", 1234567.0, 6);
	json_w_end(&b.w);
	t = w_text(&b, &err);
	ok_eq(err, 0, "a complete document: json_w_finish() 0");
	ok(!strcmp(t, "{\"results\":[{\"mode\":\"bounce\",\"bs\":4096,\"iops\":3740.0,"
		   "\"lat\":0.123,\"runtime_s\":0.100001,\"cpu\":-1,\"pass\":true,"
		   "\"direct\":false,\"x\":null}],\"g\":0.5,\"g2\":1.23457e+06}"),
	   "exact text, the commas placed by the writer: %s", t);
	free(t);

	w_open(&b);
	json_w_arr(&b.w, NULL);
	json_w_obj(&b.w, NULL);
	json_w_end(&b.w);
	json_w_arr(&b.w, NULL);
	json_w_end(&b.w);
	json_w_u64(&b.w, NULL, UINT64_MAX);
	json_w_i64(&b.w, NULL, INT64_MIN);
	json_w_fixed(&b.w, NULL, NAN, 2);
	json_w_sig(&b.w, NULL, INFINITY, 6);
	json_w_str(&b.w, NULL, NULL);
	json_w_value(&b.w, NULL, NULL);
	json_w_end(&b.w);
	t = w_text(&b, &err);
	ok(!err && !strcmp(t, "[{},[],18446744073709551615,-9223372036854775808,null,"
				"null,null,null]"),
	   "empty containers, the integer limits, non-finite and NULL as null: %s", t);
	free(t);
}

/* What the writer writes, the reader reads back to the same values. */
static void test_write_roundtrip(void)
{
	static const char nasty[] = "q\"b\\s/n\nt\tc\001e\037";
	struct json *j, *arr, *c, *inner;
	struct wbuf b;
	unsigned int i;
	bool same = true;
	size_t at;
	char *t;
	int err;

	w_open(&b);
	json_w_obj(&b.w, NULL);
	json_w_str(&b.w, "nasty", nasty);
	json_w_str(&b.w, nasty, "as a key");
	json_w_arr(&b.w, "n");
	for (i = 0; i < 10; i++)
		json_w_u64(&b.w, NULL, (uint64_t)i * i * 1000003);
	json_w_end(&b.w);
	json_w_obj(&b.w, "deep");
	json_w_obj(&b.w, "deeper");
	json_w_fixed(&b.w, "pi", 3.14159265, 4);
	json_w_arr(&b.w, "empty");
	json_w_end(&b.w);
	json_w_end(&b.w);
	json_w_bool(&b.w, "t", true);
	json_w_end(&b.w);
	json_w_i64(&b.w, "neg", -42);
	json_w_end(&b.w);
	t = w_text(&b, &err);
	j = json_parse(t, &at);
	ok(!err && j, "the written document parses (%s)", t);
	if (!j) {
		free(t);
		tap_skip(5, "no document");
		return;
	}
	ok(!strcmp(json_str(j, "nasty", ""), nasty), "escaped string read back as written");
	ok(!strcmp(json_str(j, nasty, ""), "as a key"), "escaped key read back as written");
	arr = json_get(j, "n");
	for (i = 0, c = arr ? arr->child : NULL; c; c = c->next, i++)
		same = same && c->type == JSON_NUM && c->num == (double)i * i * 1000003;
	ok(arr && arr->type == JSON_ARR && i == 10 && same, "array of ten numbers in order");
	inner = json_get(json_get(j, "deep"), "deeper");
	ok(json_num(inner, "pi", 0) == 3.1416 && json_len(json_get(inner, "empty")) == 0 &&
	   json_get(inner, "empty")->type == JSON_ARR &&
	   json_num(json_get(j, "deep"), "t", 0) == 1, "nested objects and an empty array");
	ok(json_num(j, "neg", 0) == -42 && !json_get(j, "missing"),
	   "a member after the nested ones; nothing more");
	json_free(j);
	free(t);
}

/* A misuse writes nothing, stops the writer and is reported. */
static void test_write_misuse(void)
{
	struct wbuf b;
	unsigned int i;
	char *t;
	int err;

	w_open(&b);
	json_w_arr(&b.w, NULL);
	json_w_u64(&b.w, NULL, 1);
	json_w_u64(&b.w, "key", 2);		/* a key in an array */
	json_w_u64(&b.w, NULL, 3);
	json_w_end(&b.w);
	t = w_text(&b, &err);
	ok(err == -EINVAL && !strcmp(t, "[1"), "a key in an array: -EINVAL, nothing after (%s)", t);
	free(t);

	w_open(&b);
	json_w_obj(&b.w, NULL);
	json_w_u64(&b.w, NULL, 1);		/* no key in an object */
	t = w_text(&b, &err);
	ok(err == -EINVAL && !strcmp(t, "{"), "no key in an object: -EINVAL");
	free(t);

	w_open(&b);
	json_w_end(&b.w);
	t = w_text(&b, &err);
	ok(err == -EINVAL && !*t, "an end with nothing open: -EINVAL");
	free(t);

	w_open(&b);
	json_w_u64(&b.w, NULL, 1);
	json_w_u64(&b.w, NULL, 2);
	t = w_text(&b, &err);
	ok(err == -EINVAL && !strcmp(t, "1"), "a second top-level value: -EINVAL");
	free(t);

	w_open(&b);
	json_w_obj(&b.w, NULL);
	t = w_text(&b, &err);
	ok(err == -EINVAL, "a container left open: -EINVAL");
	free(t);

	w_open(&b);
	t = w_text(&b, &err);
	ok(err == -EINVAL, "nothing written: -EINVAL");
	free(t);

	w_open(&b);
	for (i = 0; i <= JSON_W_MAX_DEPTH; i++)
		json_w_arr(&b.w, NULL);
	t = w_text(&b, &err);
	ok(err == -EINVAL && strlen(t) == JSON_W_MAX_DEPTH,
	   "nesting beyond JSON_W_MAX_DEPTH: -EINVAL, the deepest not opened");
	free(t);

	b.f = fopen("/dev/null", "r");
	if (!b.f)
		tap_bail("/dev/null");
	json_w_init(&b.w, b.f);
	json_w_u64(&b.w, NULL, 1);
	ok_eq(json_w_finish(&b.w), -EIO, "a stream that cannot be written: -EIO");
	fclose(b.f);
}

int main(void)
{
	test_good();
	test_bad();
	test_write_exact();
	test_write_roundtrip();
	test_write_misuse();
	return tap_done();
}
