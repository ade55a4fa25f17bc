/* Named per-rank series (series.h). */
#include "series.h"

#include "error.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void sb_series_init(struct sb_series *s, const char *name, const char *unit)
{
	memset(s, 0, sizeof *s);
	s->name = name;
	s->unit = unit;
}

int sb_series_add(struct sb_series *s, double v)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 256;
		double *p = realloc(s->v, nc * sizeof *p);
		if (!p)
			return SB_ENOMEM;
		s->v = p;
		s->cap = nc;
	}
	s->v[s->n++] = v;
	return 0;
}

void sb_series_reset(struct sb_series *s)
{
	s->n = 0;
}

void sb_series_free(struct sb_series *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

void sb_series_all_free(struct sb_series_all *a)
{
	free(a->n);
	free(a->off);
	free(a->pool);
	memset(a, 0, sizeof *a);
}

/* A rank's message: k counts (uint64), then the k series' values, in order. */
int sb_series_gather(struct sb_comm *c, const struct sb_series *s, size_t k,
                     struct sb_series_all *out)
{
	size_t vals = 0;
	for (size_t j = 0; j < k; j++)
		vals += s[j].n;
	size_t bytes = k * sizeof(uint64_t) + vals * sizeof(double);
	unsigned char *msg = malloc(bytes ? bytes : 1);
	size_t *lens = c->rank == 0 ? calloc((size_t)c->size, sizeof *lens) : NULL;
	long long bad = !msg || (c->rank == 0 && !lens);
	int rc = sb_ctl_sum(c, &bad, 1);
	if (rc == 0 && bad)
		rc = SB_ENOMEM;
	if (rc) {
		free(msg);
		free(lens);
		return rc;
	}
	unsigned char *p = msg;
	for (size_t j = 0; j < k; j++) {
		uint64_t n = s[j].n;
		memcpy(p, &n, sizeof n);
		p += sizeof n;
	}
	for (size_t j = 0; j < k; j++) {
		if (s[j].n) /* an empty series may have no array */
			memcpy(p, s[j].v, s[j].n * sizeof(double));
		p += s[j].n * sizeof(double);
	}
	void *all = NULL;
	rc = sb_ctl_gather(c, msg, bytes, &all, lens);
	free(msg);
	if (rc || c->rank != 0) {
		free(all);
		free(lens);
		return rc;
	}
	/* Rank 0: per series, every rank's values in rank order. */
	int R = c->size;
	memset(out, 0, k * sizeof *out);
	for (size_t j = 0; j < k && rc == 0; j++) {
		out[j].nranks = R;
		if (!(out[j].n = calloc((size_t)R, sizeof(size_t))) ||
		    !(out[j].off = calloc((size_t)R, sizeof(size_t))))
			rc = SB_ENOMEM;
	}
	/* Counts first: each rank's k counts head its message. */
	const unsigned char *base = all;
	size_t at = 0;
	for (int r = 0; r < R && rc == 0; r++) {
		if (lens[r] < k * sizeof(uint64_t)) {
			rc = SB_ECOMM; /* a rank sent less than its own counts: not this protocol */
			break;
		}
		size_t sum = 0;
		for (size_t j = 0; j < k; j++) {
			uint64_t n;
			memcpy(&n, base + at + j * sizeof n, sizeof n);
			out[j].n[r] = (size_t)n;
			out[j].total += (size_t)n;
			sum += (size_t)n;
		}
		if (lens[r] != k * sizeof(uint64_t) + sum * sizeof(double))
			rc = SB_ECOMM;
		at += lens[r];
	}
	for (size_t j = 0; j < k && rc == 0; j++)
		if (!(out[j].pool = malloc((out[j].total ? out[j].total : 1) * sizeof(double))))
			rc = SB_ENOMEM;
	at = 0;
	size_t *fill = rc == 0 ? calloc(k, sizeof *fill) : NULL;
	if (rc == 0 && !fill)
		rc = SB_ENOMEM;
	for (int r = 0; r < R && rc == 0; r++) {
		const unsigned char *q = base + at + k * sizeof(uint64_t);
		for (size_t j = 0; j < k; j++) {
			size_t n = out[j].n[r];
			out[j].off[r] = fill[j];
			if (n)
				memcpy(out[j].pool + fill[j], q, n * sizeof(double));
			fill[j] += n;
			q += n * sizeof(double);
		}
		at += lens[r];
	}
	free(fill);
	free(all);
	free(lens);
	if (rc)
		for (size_t j = 0; j < k; j++)
			sb_series_all_free(&out[j]);
	return rc;
}

int sb_series_summarize(const double *v, size_t n, struct sb_summary *out)
{
	if (n == 0)
		return SB_EINVAL;
	double *scratch = malloc(n * sizeof *scratch);
	if (!scratch)
		return SB_ENOMEM;
	int rc = sb_stats_summarize(v, n, scratch, out);
	free(scratch);
	return rc;
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *sb_summary_json(const struct sb_summary *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "n", json_integer((json_int_t)s->n));
#define F(k) json_object_set_new(o, #k, num(s->k))
	F(min);
	F(p5);
	F(p25);
	F(median);
	F(p75);
	F(p90);
	F(p95);
	F(p99);
	F(max);
	F(mean);
	F(stddev);
	F(cov);
#undef F
	if (s->ci_valid) {
		json_object_set_new(o, "median_ci95", json_pack("[f,f]", s->ci_lo, s->ci_hi));
		json_object_set_new(
		    o, "median_ci95_ranks",
		    json_pack("[I,I]", (json_int_t)s->ci_lo_rank, (json_int_t)s->ci_hi_rank));
	} else {
		json_object_set_new(o, "median_ci95", json_null());
		json_object_set_new(o, "median_ci95_ranks", json_null());
	}
	return o;
}

json_t *sb_series_json(const char *unit, const double *v, size_t n, int with_samples)
{
	json_t *o = json_pack("{s:s,s:I}", "unit", unit, "n", (json_int_t)n);
	struct sb_summary s;
	json_object_set_new(o, "summary",
	                    n && sb_series_summarize(v, n, &s) == 0 ? sb_summary_json(&s)
	                                                            : json_null());
	if (with_samples) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, num(v[i]));
		json_object_set_new(o, "samples", a);
	}
	return o;
}
