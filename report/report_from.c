// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench --report-from DIR/results.json [--out DIR]: the report files
 * of a saved run, written again without measuring (after a fix to the
 * report, say).  The saved results.json holds every point; what it does not
 * hold is taken from what it does:
 *  - the sweep's queue depths, vCPU counts and backends (which pick the
 *    point the tables use): those of the io-bench points saved;
 *  - convert-bench's busy-thread count: the threads of the round trip the
 *    saved model used; its backing: the probe's;
 *  - bounce-bench's pool: that of the saved bounce (or adaptive) points,
 *    else the default.
 * The run's date and gmemkit version stay those of the measurement.
 */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gmemkit/abi.h"
#include "report_internal.h"

/* Unlink the member key of obj (NULL if absent); the caller owns it. */
static struct json *detach(struct json *obj, const char *key)
{
	struct json **pp;

	for (pp = obj ? &obj->child : NULL; pp && *pp; pp = &(*pp)->next)
		if ((*pp)->key && !strcmp((*pp)->key, key)) {
			struct json *v = *pp;

			*pp = v->next;
			v->next = NULL;
			return v;
		}
	return NULL;
}

static struct json *new_node(enum json_type t, const char *key)
{
	struct json *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->type = t;
	if (key && !(j->key = strdup(key))) {
		free(j);
		return NULL;
	}
	return j;
}

/* Prepend the member key (a number, or a string if str) to obj. */
static int add_member(struct json *obj, const char *key, double num, const char *str)
{
	struct json *v = new_node(str ? JSON_STR : JSON_NUM, key);

	if (!v || (str && !(v->str = strdup(str)))) {
		json_free(v);
		return -ENOMEM;
	}
	v->num = num;
	v->next = obj->child;
	obj->child = v;
	return 0;
}

/* A sub-benchmark's document around its saved results array. */
static struct json *sub_doc(struct json *results)
{
	struct json *doc = new_node(JSON_OBJ, NULL);

	if (!doc) {
		json_free(results);
		return NULL;
	}
	if (!results)
		results = new_node(JSON_ARR, "results");
	if (!results) {
		json_free(doc);
		return NULL;
	}
	free(results->key);
	results->key = strdup("results");
	doc->child = results;
	return results->key ? doc : (json_free(doc), NULL);
}

/* The busy threads of the round trips the saved model took (1 if unknown). */
static unsigned int busy_threads(const struct json *convert, const struct json *model,
				 const unsigned int *block_kib)
{
	double ns = json_num(model ? model->child : NULL, "convert_inplace_ns", NAN);
	const struct json *c;

	for (c = convert ? convert->child : NULL; c; c = c->next)
		if (!strcmp(json_str(c, "op", ""), "roundtrip") &&
		    !strcmp(json_str(c, "mode", ""), "inplace") &&
		    json_num(c, "pages", 0) == block_kib[0] / 4 &&
		    json_num(c, "ns_median", NAN) == ns)
			return (unsigned int)json_num(c, "threads", 1);
	return 1;
}

static double saved_pool(const struct report_data *d)
{
	static const char *const modes[2] = { "bounce", "adaptive" };
	unsigned int i, m;

	for (m = 0; m < 2; m++)
		for (i = 0; i < d->nio; i++)
			if (!strcmp(bench_io_str(d->io[i].rec, BIO_F_MODE, ""), modes[m]) &&
			    bench_io_num(d->io[i].rec, BIO_F_POOL_BYTES, 0) > 0)
				return bench_io_num(d->io[i].rec, BIO_F_POOL_BYTES, 0);
	return (double)GMEM_ABI_IO_POOL_DEFAULT;
}

static void add_sel(unsigned int *vals, unsigned int *n, unsigned int v)
{
	unsigned int i;

	for (i = 0; i < *n && vals[i] != v; i++)
		;
	if (i == *n && *n < REPORT_MAX_SEL)
		vals[(*n)++] = v;
}

/* The io-bench points, each with its runs' IOPS, and the sweep they span. */
static void saved_io(struct report_data *d, struct report_opts *o, struct json *io)
{
	struct json *p;
	unsigned int i;

	o->nqd = o->nvcpus = 0;
	o->backends = 0;
	while (io && (p = io->child) && d->nio < REPORT_MAX_IO) {
		struct report_io_point *pt = &d->io[d->nio++];
		struct json *runs, *r;

		io->child = p->next;
		p->next = NULL;
		runs = detach(p, "iops_runs");
		for (r = runs ? runs->child : NULL; r && pt->nreps < REPORT_MAX_REPS; r = r->next) {
			pt->ceil[pt->nreps] = NAN;
			pt->iops[pt->nreps++] = r->num;
		}
		json_free(runs);
		/* the ceiling beside each run, where a run was measured again */
		runs = detach(p, "ceiling_runs");
		for (r = runs ? runs->child : NULL, i = 0; r && i < pt->nreps; r = r->next, i++)
			pt->ceil[i] = r->type == JSON_NUM ? r->num : NAN;
		json_free(runs);
		runs = detach(p, "remeasured_runs");
		for (r = runs ? runs->child : NULL; r; r = r->next)
			if (r->num >= 0 && r->num < pt->nreps)
				pt->remeasured[(unsigned int)r->num] = true;
		json_free(runs);
		pt->rec = p;
		add_sel(o->qd, &o->nqd, (unsigned int)bench_io_num(p, BIO_F_QD, 0));
		add_sel(o->vcpus, &o->nvcpus, (unsigned int)bench_io_num(p, BIO_F_VCPUS, 1));
		for (i = 0; i < REPORT_NBACKENDS; i++)
			if (!strcmp(report_rec_backend(p), report_backends[i]))
				o->backends |= 1U << i;
	}
	if (!d->nio) {
		o->qd[0] = 1;
		o->qd[1] = 32;
		o->vcpus[0] = 1;
		o->vcpus[1] = 2;
		o->nqd = o->nvcpus = 2;
		o->backends = REPORT_BE_NULL;
	}
}

static int saved_run(struct report_data *d, struct report_opts *o, struct json *j)
{
	const struct json *model = json_get(j, "model"), *m, *s;
	unsigned int b = 0;

	for (m = model && model->type == JSON_ARR ? model->child : NULL; m && b < REPORT_NBS;
	     m = m->next)
		d->block_kib[b++] = (unsigned int)(json_num(m, "bs", 0) / 1024);
	if (b != REPORT_NBS || m)
		return -EINVAL;
	o->reps = (unsigned int)json_num(j, "io_reps", 0);
	o->io_runtime = json_num(j, "io_runtime_s", 0);
	o->quick = json_num(j, "quick", 0) != 0;
	snprintf(d->version, sizeof(d->version), "%s", json_str(j, "gmemkit_version", "unknown"));
	d->date = (long)json_num(j, "date", 0);
	d->interleaved = json_num(j, "interleaved", 0) != 0;
	d->sweep_s = json_num(j, "sweep_s", 0);
	d->remeasures = (unsigned int)json_num(j, "remeasures", 0);
	/* runs before the verdict sweep existed were the whole sweep or quick */
	o->full = !strcmp(json_str(j, "sweep", o->quick ? "quick" : "full"), "full");
	d->probe = detach(j, "host");
	if (d->probe && d->probe->type != JSON_OBJ) {
		json_free(d->probe);
		d->probe = NULL;
	}
	report_read_probe(d);
	s = json_get(j, "skipped");
	for (s = s ? s->child : NULL; s && d->nskipped < REPORT_MAX_SKIPPED; s = s->next)
		snprintf(d->skipped[d->nskipped++], sizeof(d->skipped[0]), "%s",
			 s->str ? s->str : "");
	saved_io(d, o, json_get(j, "io"));
	d->convert = sub_doc(detach(j, "convert"));
	d->bounce = sub_doc(detach(j, "bounce"));
	if (!d->convert || !d->bounce ||
	    add_member(d->convert, "busy_threads",
		       busy_threads(json_get(d->convert, "results"), model, d->block_kib), NULL) ||
	    add_member(d->convert, "backing", 0, d->backing) ||
	    add_member(d->bounce, "pool_bytes", saved_pool(d), NULL))
		return -ENOMEM;
	report_pick(d, o);
	return 0;
}

int report_from(const char *path, const char *outdir)
{
	struct report_data *d = calloc(1, sizeof(*d));
	struct json *j = report_load(path);
	struct report_opts o = { 0 };
	char *dir = NULL;
	int err;

	if (!d || !j) {
		err = d ? -EINVAL : -ENOMEM;
		goto out;
	}
	err = saved_run(d, &o, j);
	if (err) {
		fprintf(stderr, "gmemkit bench: '%s': %s\n", path, err == -EINVAL ?
			"no model of the 5 block sizes" : strerror(-err));
		goto out;
	}
	if (!outdir) {
		dir = strdup(path);
		if (!dir) {
			err = -ENOMEM;
			goto out;
		}
		outdir = dirname(dir);
	}
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "gmemkit bench: cannot create '%s': %s\n", outdir, strerror(errno));
		goto out;
	}
	err = report_write(d, &o, outdir);
out:
	if (d)
		report_free(d);
	free(d);
	free(dir);
	json_free(j);
	return err;
}
