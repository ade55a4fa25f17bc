/* Named per-rank series: the figures a self-timed benchmark keeps during a point (a handoff's
 * latency, a request's time to first token), one value at a time on every rank; gathered in
 * binary at rank 0, pooled, summarised with the shared statistics (stats.h: nearest-rank
 * percentiles, the median's CI), and written to the point record as a summary, with the
 * samples when asked. */
#ifndef SB_SERIES_H
#define SB_SERIES_H

#include "comm.h"
#include "stats.h"

#include <jansson.h>
#include <stddef.h>

struct sb_series {
	const char *name; /* record key; a string that outlives the series */
	const char *unit; /* "s", "B/s", "1" */
	int internal; /* gathered for the benchmark, not written to the record (timestamps) */
	int optional; /* may stay empty (TPOT of one-token requests): not counted for validity */
	int values; /* its values always in the record, not with --series-samples only: one per
	               request, what `scalebench-report compare` tests (infer's TTFT, TPOT) */
	double *v;
	size_t n, cap;
};

void sb_series_init(struct sb_series *s, const char *name, const char *unit);
/* Append one value; SB_ENOMEM when the series cannot grow. */
int sb_series_add(struct sb_series *s, double v);
void sb_series_reset(struct sb_series *s); /* empty, for a new point; keeps the memory */
void sb_series_free(struct sb_series *s);

/* One series gathered at rank 0: every rank's values in rank order (pool), with where each
 * rank's begin (off[r], n[r]). */
struct sb_series_all {
	int nranks;
	size_t *n, *off;
	double *pool;
	size_t total;
};

/* Collective over c: k series of every rank (the same names, in the same order, on all ranks)
 * gathered at rank 0 in one binary gather; out[j] for series j at rank 0, untouched
 * elsewhere. */
int sb_series_gather(struct sb_comm *c, const struct sb_series *s, size_t k,
                     struct sb_series_all *out);
void sb_series_all_free(struct sb_series_all *a);

/* Summary of v[0..n-1] (any order; not modified); SB_EINVAL for n = 0, SB_ENOMEM. */
int sb_series_summarize(const double *v, size_t n, struct sb_summary *out);
/* The record's form: {unit, n, summary{...}} and "samples" when with_samples; the summary is
 * null for an empty series. */
json_t *sb_series_json(const char *unit, const double *v, size_t n, int with_samples);
/* The summary's fields as the run file writes them (also the driver's point summary). */
json_t *sb_summary_json(const struct sb_summary *s);

#endif
