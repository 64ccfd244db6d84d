// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark JSON reader: values, nesting, escapes, and rejection of
 * malformed input (including unbounded nesting).
 */
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

int main(void)
{
	test_good();
	test_bad();
	return tap_done();
}
