/* Reading run files (JSON Lines, results/README.md) into memory, checked: a malformed line, a
 * wrong type where a field matters, or a schema this collector does not know is an error that
 * names the file and line. Unknown fields are ignored. A run without its `end` record is read
 * and marked incomplete. */
#ifndef SBR_RUNREAD_H
#define SBR_RUNREAD_H

#include "sbr.h"

#include <jansson.h>
#include <stddef.h>

struct sbr_point {
	json_t *rec; /* the point record (owned by the run) */
	const char *benchmark, *backend, *label;
	int ranks;
	size_t bytes;
	size_t line; /* in the file */
	char *
	    config; /* identity across runs: benchmark, backend, ranks and params, canonical JSON */
	char *series; /* the same without the size: one line of a table or plot */
	double time; /* the headline time: summary.median, or summary.mean for imports; NAN */
	const char *time_kind; /* "median" or "mean" */
	double *samples; /* per-iteration times (s), NULL for imports */
	size_t nsamples;
	int check_failed;
};

struct sbr_run {
	char *path;
	json_t *run, *end; /* the records; end NULL: incomplete */
	json_t *records; /* every record, in order (owns them) */
	const char *run_id, *command, *start_time;
	const char *origin; /* "scalebench", or the tool an import came from */
	int schema;
	int complete;
	const char *status; /* end.status, or "incomplete" */
	char machine_class[20]; /* "m" and 16 hex digits: same hardware, same class */
	char *machine; /* a readable description of the class */
	struct sbr_point *pts;
	size_t npts;
};

/* Read a run file. */
int sbr_run_read(const char *path, struct sbr_run *r, char *err, size_t errlen);
/* The same from records already parsed (an import); takes a reference to them. */
int sbr_run_from_records(const char *path, json_t *records, struct sbr_run *r, char *err,
                         size_t errlen);
void sbr_run_free(struct sbr_run *r);

/* A number of a point: metrics.NAME.value, or NAN. */
double sbr_point_metric(const struct sbr_point *p, const char *name);
/* params.NAME as an integer / string, or def / NULL. */
long long sbr_point_int(const struct sbr_point *p, const char *name, long long def);
const char *sbr_point_str(const struct sbr_point *p, const char *name);

/* A named series of a point (record.series.NAME: the values a self-timed benchmark keeps, one
 * per request or event, such as infer's ttft and tpot). */
struct sbr_point_series {
	const char *unit; /* "s" for times; NULL when the record gives none */
	double median; /* summary.median, or NAN (an empty series) */
	double *v; /* the values; NULL when the run file keeps only the summary (the default:
	            * scalebench writes them with --series-samples) */
	size_t nv;
};
/* Point p's series NAME (path names p's run file in messages): 1 when the point has it, 0 when
 * not (s zeroed), SB_EINPUT when a value is not a non-negative number or the samples are not
 * an array ("FILE:LINE: series.ttft.samples[3] ..."), or SB_ENOMEM. */
int sbr_point_series_read(const char *path, const struct sbr_point *p, const char *name,
                          struct sbr_point_series *s, char *err, size_t errlen);
void sbr_point_series_free(struct sbr_point_series *s);
/* The name of point p's i-th series (record order), NULL past the last. */
const char *sbr_point_series_name(const struct sbr_point *p, size_t i);

#endif
