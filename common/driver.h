/* The measurement driver: for each point of a benchmark, warm up, iterate with every
 * iteration timed on every rank and reduced to the slowest rank's time, stop adaptively, check
 * the results outside the timed loop, summarise, derive metrics, and hand the result to the
 * report (table and run file). */
#ifndef SB_DRIVER_H
#define SB_DRIVER_H

#include "bench.h"
#include "options.h"
#include "stats.h"

#include <stdio.h>

struct sb_report;

#define SB_BIND_CHOICES "keep|auto|none"

/* The common options every benchmark accepts, NULL-name terminated. */
extern const struct sb_opt sb_common_opts[];

/* How points are measured (from the common options). */
struct sb_method {
	size_t warmup; /* warm-up iterations asked for (-w) */
	size_t iters; /* fixed iteration count (-n), 0 for adaptive */
	size_t checks; /* check iterations (-c) */
	double precision; /* target relative CI half-width of the median (0.02 = 2%) */
	double max_time; /* seconds of timed iterations per point before giving up on precision */
	size_t max_iters; /* hard cap on samples per point */
	double timeout; /* seconds per point before the watchdog ends the job, 0 = off */
};

void sb_method_from_args(struct sb_method *m, const struct sb_args *a);
/* Reject method options that parse but cannot work (sample counts beyond what memory can
 * hold); SB_EINVAL with a message. */
int sb_method_validate(const struct sb_args *a, char *err, size_t errlen);

/* Why a point's iterations stopped. */
#define SB_STOP_PRECISION "precision"
#define SB_STOP_MAX_TIME "max-time"
#define SB_STOP_ITERS "iterations"
#define SB_STOP_MAX_ITERS "max-iterations"

struct sb_point_result {
	const struct sb_point *point;
	double *samples; /* per-iteration times in seconds, max over ranks, in order */
	double *dev_samples; /* the same by the backend's device events, or NULL */
	struct sb_summary dev_summary;
	size_t n;
	size_t warmup_done;
	const char *stop;
	double rel_ci; /* achieved relative CI half-width of the median */
	double elapsed; /* seconds spent in timed iterations (slowest rank) */
	struct sb_summary summary;
	struct sb_metric metrics[SB_METRICS_MAX];
	size_t nmetrics;
	json_t *detail; /* the benchmark's extra record fields (rank 0), or NULL */
	size_t checks_done;
	long long wrong; /* wrong elements over all ranks and check iterations */
};

/* Run every point of b; the options have passed b->validate. Returns 0, SB_ECHECK when a
 * check found wrong results (all points still measured), or another negative code on a fault.
 * Every rank calls this; rep is used on rank 0 only. */
int sb_driver_run(const struct sb_bench *b, struct sb_comm *c, const struct sb_args *a,
                  struct sb_report *rep);

/* Measure one prepared point (exposed for the tests). */
int sb_driver_measure(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt,
                      const struct sb_method *m, struct sb_point_result *r);

#endif
