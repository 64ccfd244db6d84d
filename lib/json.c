// SPDX-License-Identifier: GPL-2.0
/*
 * Recursive-descent JSON reader (RFC 8259 subset: \u escapes outside ASCII
 * are kept as '?').  Depth is bounded so hostile input cannot overflow the
 * stack.  And the writer: a stack of open containers as bits, a comma
 * before every value but a container's first.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/json.h"

#define MAX_DEPTH	64

struct parser {
	const char *s;
	size_t pos;
	bool bad;
};

static void skip_ws(struct parser *p)
{
	while (strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
		p->pos++;
}

static struct json *node(enum json_type t)
{
	struct json *j = calloc(1, sizeof(*j));

	if (j)
		j->type = t;
	return j;
}

static struct json *parse_value(struct parser *p, int depth);

static char *parse_string(struct parser *p)
{
	size_t cap = 16, n = 0;
	char *out = malloc(cap), c;

	if (!out || p->s[p->pos] != '"')
		goto bad;
	p->pos++;
	while ((c = p->s[p->pos++]) != '"') {
		if (!c || (unsigned char)c < 0x20)
			goto bad;
		if (c == '\\') {
			c = p->s[p->pos++];
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				unsigned int v = 0, k;

				for (k = 0; k < 4; k++) {
					char h = p->s[p->pos++];

					if (!strchr("0123456789abcdefABCDEF", h) || !h)
						goto bad;
					v = v * 16 + (unsigned int)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
				}
				c = v < 0x80 ? (char)v : '?';
				break;
			}
			case '"': case '\\': case '/': break;
			default: goto bad;
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(out, cap *= 2);

			if (!t)
				goto bad;
			out = t;
		}
		out[n++] = c;
	}
	out[n] = 0;
	return out;
bad:
	free(out);
	p->bad = true;
	return NULL;
}

static struct json *parse_container(struct parser *p, int depth, bool obj)
{
	struct json *j = node(obj ? JSON_OBJ : JSON_ARR), **tail;
	char close = obj ? '}' : ']';

	if (!j)
		goto bad;
	tail = &j->child;
	p->pos++;
	skip_ws(p);
	if (p->s[p->pos] == close) {
		p->pos++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		struct json *v;

		skip_ws(p);
		if (obj) {
			key = parse_string(p);
			skip_ws(p);
			if (!key || p->s[p->pos++] != ':') {
				free(key);
				goto bad;
			}
		}
		v = parse_value(p, depth + 1);
		if (!v) {
			free(key);
			goto bad;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		skip_ws(p);
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos++] == close)
			return j;
		goto bad;
	}
bad:
	p->bad = true;
	json_free(j);
	return NULL;
}

static struct json *parse_number(struct parser *p)
{
	const char *start = p->s + p->pos;
	char *end;
	struct json *j;
	double v = strtod(start, &end);

	if (end == start || !strchr("-0123456789", *start)) {
		p->bad = true;
		return NULL;
	}
	p->pos += (size_t)(end - start);
	j = node(JSON_NUM);
	if (j)
		j->num = v;
	return j;
}

static struct json *parse_word(struct parser *p, const char *w, enum json_type t,
			       double v)
{
	struct json *j;

	if (strncmp(p->s + p->pos, w, strlen(w))) {
		p->bad = true;
		return NULL;
	}
	p->pos += strlen(w);
	j = node(t);
	if (j)
		j->num = v;
	return j;
}

static struct json *parse_value(struct parser *p, int depth)
{
	struct json *j;

	if (depth > MAX_DEPTH) {
		p->bad = true;
		return NULL;
	}
	skip_ws(p);
	switch (p->s[p->pos]) {
	case '{': return parse_container(p, depth, true);
	case '[': return parse_container(p, depth, false);
	case '"':
		j = node(JSON_STR);
		if (j && !(j->str = parse_string(p))) {
			free(j);
			return NULL;
		}
		return j;
	case 't': return parse_word(p, "true", JSON_BOOL, 1);
	case 'f': return parse_word(p, "false", JSON_BOOL, 0);
	case 'n': return parse_word(p, "null", JSON_NULL, 0);
	default: return parse_number(p);
	}
}

struct json *json_parse(const char *text, size_t *err_at)
{
	struct parser p = { .s = text };
	struct json *j = parse_value(&p, 0);

	/* After an error pos may be one past the terminator: don't read on. */
	if (j && !p.bad)
		skip_ws(&p);
	if (!j || p.bad || p.s[p.pos]) {
		json_free(j);
		if (err_at)
			*err_at = p.pos > strlen(text) ? strlen(text) : p.pos;
		return NULL;
	}
	return j;
}

void json_free(struct json *j)
{
	while (j) {
		struct json *next = j->next;

		json_free(j->child);
		free(j->str);
		free(j->key);
		free(j);
		j = next;
	}
}

struct json *json_get(const struct json *obj, const char *key)
{
	struct json *c;

	if (!obj || obj->type != JSON_OBJ)
		return NULL;
	for (c = obj->child; c; c = c->next)
		if (!strcmp(c->key, key))
			return c;
	return NULL;
}

double json_num(const struct json *obj, const char *key, double dflt)
{
	struct json *v = json_get(obj, key);

	return v && (v->type == JSON_NUM || v->type == JSON_BOOL) ? v->num : dflt;
}

const char *json_str(const struct json *obj, const char *key, const char *dflt)
{
	struct json *v = json_get(obj, key);

	return v && v->type == JSON_STR ? v->str : dflt;
}

size_t json_len(const struct json *arr)
{
	size_t n = 0;
	struct json *c;

	for (c = arr ? arr->child : NULL; c; c = c->next)
		n++;
	return n;
}

void json_print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void json_print(FILE *f, const struct json *v)
{
	struct json *c;

	switch (v->type) {
	case JSON_NULL: fputs("null", f); break;
	case JSON_BOOL: fputs(v->num ? "true" : "false", f); break;
	case JSON_NUM:
		if (fabs(v->num) < 1e15 && v->num == (double)(long long)v->num)
			fprintf(f, "%lld", (long long)v->num);
		else
			fprintf(f, "%.6g", v->num);
		break;
	case JSON_STR: json_print_str(f, v->str); break;
	case JSON_ARR:
	case JSON_OBJ:
		fputc(v->type == JSON_ARR ? '[' : '{', f);
		for (c = v->child; c; c = c->next) {
			if (c != v->child)
				fputc(',', f);
			if (v->type == JSON_OBJ) {
				json_print_str(f, c->key);
				fputc(':', f);
			}
			json_print(f, c);
		}
		fputc(v->type == JSON_ARR ? ']' : '}', f);
		break;
	}
}

/* ---- the writer ---------------------------------------------------------- */

void json_w_init(struct json_w *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

/* Before a value: checks the key against where the value goes, writes the
 * comma and the key; false (nothing written) on a misuse or after one. */
static bool w_value(struct json_w *w, const char *key)
{
	uint32_t bit;
	bool in_obj;

	if (w->err)
		return false;
	if (!w->depth) {
		if (key || w->done)
			goto misuse;
		return true;
	}
	bit = 1U << (w->depth - 1);
	in_obj = w->obj & bit;
	if (!key != !in_obj)
		goto misuse;
	if (w->used & bit)
		fputc(',', w->f);
	w->used |= bit;
	if (key) {
		json_print_str(w->f, key);
		fputc(':', w->f);
	}
	return true;
misuse:
	w->err = -EINVAL;
	return false;
}

/* After a value: at the top level, the document is complete. */
static void w_done(struct json_w *w)
{
	if (!w->depth)
		w->done = true;
}

static void w_open(struct json_w *w, const char *key, bool obj)
{
	uint32_t bit;

	if (!w->err && w->depth == JSON_W_MAX_DEPTH)
		w->err = -EINVAL;
	if (!w_value(w, key))
		return;
	bit = 1U << w->depth++;
	w->used &= ~bit;
	if (obj)
		w->obj |= bit;
	else
		w->obj &= ~bit;
	fputc(obj ? '{' : '[', w->f);
}

void json_w_obj(struct json_w *w, const char *key)
{
	w_open(w, key, true);
}

void json_w_arr(struct json_w *w, const char *key)
{
	w_open(w, key, false);
}

void json_w_end(struct json_w *w)
{
	if (w->err)
		return;
	if (!w->depth) {
		w->err = -EINVAL;
		return;
	}
	w->depth--;
	fputc(w->obj & (1U << w->depth) ? '}' : ']', w->f);
	w_done(w);
}

void json_w_null(struct json_w *w, const char *key)
{
	if (!w_value(w, key))
		return;
	fputs("null", w->f);
	w_done(w);
}

void json_w_bool(struct json_w *w, const char *key, bool v)
{
	if (!w_value(w, key))
		return;
	fputs(v ? "true" : "false", w->f);
	w_done(w);
}

void json_w_u64(struct json_w *w, const char *key, uint64_t v)
{
	if (!w_value(w, key))
		return;
	fprintf(w->f, "%" PRIu64, v);
	w_done(w);
}

void json_w_i64(struct json_w *w, const char *key, int64_t v)
{
	if (!w_value(w, key))
		return;
	fprintf(w->f, "%" PRId64, v);
	w_done(w);
}

static void w_double(struct json_w *w, const char *key, double v, int prec, bool sig)
{
	if (!w_value(w, key))
		return;
	if (!isfinite(v))
		fputs("null", w->f);
	else
		fprintf(w->f, sig ? "%.*g" : "%.*f", prec, v);
	w_done(w);
}

void json_w_fixed(struct json_w *w, const char *key, double v, int prec)
{
	w_double(w, key, v, prec, false);
}

void json_w_sig(struct json_w *w, const char *key, double v, int prec)
{
	w_double(w, key, v, prec, true);
}

/* w_value() for a pointer that may be NULL: null written for NULL. */
static bool w_value_or_null(struct json_w *w, const char *key, const void *p)
{
	if (!w_value(w, key))
		return false;
	if (p)
		return true;
	fputs("null", w->f);
	w_done(w);
	return false;
}

void json_w_str(struct json_w *w, const char *key, const char *s)
{
	if (!w_value_or_null(w, key, s))
		return;
	json_print_str(w->f, s);
	w_done(w);
}

void json_w_value(struct json_w *w, const char *key, const struct json *v)
{
	if (!w_value_or_null(w, key, v))
		return;
	json_print(w->f, v);
	w_done(w);
}

int json_w_finish(const struct json_w *w)
{
	if (w->err || w->depth || !w->done)
		return -EINVAL;
	return ferror(w->f) ? -EIO : 0;
}

char *json_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 16, n = 0, r;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n + 1 == cap) {
			char *t = realloc(buf, cap *= 2);

			if (!t) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = t;
		}
	}
	fclose(f);
	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	buf[n] = 0;
	return buf;
}
