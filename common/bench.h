/* The benchmark plug-in: what is measured. A benchmark is one static const struct sb_bench in
 * its own file under benchmarks/, listed in benchmarks/list.c. The driver (driver.h) owns
 * warm-up, timing, repetition, the cross-rank reduction, statistics, checking and output; a
 * benchmark only says what one step is. Hooks return 0 or a negative SB_E* code. */
#ifndef SB_BENCH_H
#define SB_BENCH_H

#include "comm.h"
#include "options.h"
#include "result.h"
#include "series.h"
#include "stats.h"

#include <stddef.h>
#include <stdio.h>

/* One measured configuration. */
struct sb_point {
	char label[96]; /* for messages: "allreduce 64M float out-of-place" */
	size_t bytes; /* message size per rank */
	size_t count; /* elements */
	enum sb_dtype dtype;
	const char *op; /* "sum", or "-" where no reduction happens */
	int inplace;
	/* The benchmark's own parameters of this point (a pipeline's stages, micro-batches,
	 * schedule...), a JSON object it fills in its points hook, or NULL. The record's `params`
	 * are the fields above merged with these; the table's leading columns may name them. */
	json_t *params;
};

/* A point's own parameter by name (sb_point.params): 0, 0.0 or NULL when absent. */
long long sb_param_int(const struct sb_point *pt, const char *key);
double sb_param_double(const struct sb_point *pt, const char *key);
const char *sb_param_str(const struct sb_point *pt, const char *key);
/* Free an array of points and their parameters. */
void sb_points_free(struct sb_point *pts, size_t n);

/* A leading column of the table: its title, the key of the point's record `params` it shows,
 * its width, and for a boolean the words for true and false. */
struct sb_column {
	const char *title, *key;
	int width;
	const char *yes, *no;
};

struct sb_topo;

/* What every hook sees. */
struct sb_ctx {
	struct sb_comm *comm;
	const struct sb_args *args;
	void *state; /* the benchmark's own, set by setup */
	int timed; /* set by the driver: 1 while steps are timed iterations (not warm-up) */
	/* Set by the metrics hook on rank 0 (optional): more fields for the point record, such as
	 * a pipeline's per-boundary figures under "boundaries". The driver hands it to the report
	 * and releases it. */
	json_t *detail;
	/* Where the ranks sit (rank 0; NULL elsewhere and where unknown): for a benchmark's own
	 * per-pair labels, such as the pair class of a pipeline's boundaries. */
	const struct sb_topo *topo;
	/* A self-timed benchmark's series (series.h), set in its setup: the driver empties them
	 * before each point, gathers them at rank 0 after it (gathered[j] for series[j], there
	 * only, while the metrics hook runs) and writes their summaries in the point record. The
	 * benchmark adds values while x->timed. */
	struct sb_series *series;
	size_t nseries;
	const struct sb_series_all *gathered;
};

/* What makes a self-timed point valid (DESIGN.md): the median's CI, as for every driver-timed
 * point, or a minimum duration and count (MLPerf LoadGen's rule: enough time, and enough
 * values of every series for its percentiles). */
enum sb_validity_kind { SB_VALID_MEDIAN_CI, SB_VALID_DURATION };
struct sb_validity {
	enum sb_validity_kind kind;
	double min_duration; /* seconds of timed steps */
	size_t min_count; /* values of each series, over all ranks */
};

#define SB_BENCH_CAN_CHECK 0x1u
#define SB_BENCH_CAN_GRAPH 0x2u /* its step is one call a GPU backend can replay (-G) */
/* Its figures come from its own timing inside the step (the pipeline): one measurement per
 * point, no --rounds pooling and no pipelined batches of steps on GPU backends. */
#define SB_BENCH_SELF_TIMED 0x4u
#define SB_BENCH_TEST_ONLY 0x8u /* exercises the harness; listed as such */

struct sb_bench {
	const char *name;
	const char *summary;
	int min_ranks; /* 0 or 1: any world */
	unsigned flags;
	struct sb_validity validity; /* zero: the median's CI */
	const struct sb_opt *opts; /* the benchmark's own options, NULL-name terminated */
	const char *iters_opt; /* the name of its own option that means -n (NULL: none) */
	/* The table's leading columns, NULL-title terminated; NULL: size, count, type, op and
	 * place (in or out). */
	const struct sb_column *columns;

	/* Check the options for a world of nranks before anything is written; bad input: a
	 * one-line message in err and SB_EINVAL. May be NULL. */
	int (*validate)(const struct sb_args *a, int nranks, char *err, size_t errlen);
	/* Allocate x->state (the options are valid). */
	int (*setup)(struct sb_ctx *x);
	/* The points to measure, in order; *pts is malloc'd, the driver frees it. */
	int (*points)(struct sb_ctx *x, struct sb_point **pts, size_t *n);
	/* Make buffers ready for pt (untimed). */
	int (*prepare)(struct sb_ctx *x, const struct sb_point *pt);
	/* One timed step, issued on every rank; the driver syncs the backend after it. */
	int (*step)(struct sb_ctx *x, const struct sb_point *pt);
	/* One check iteration (untimed): fill, run, compare. *wrong counts this rank's wrong
	 * elements. iter varies the data from one check iteration to the next. */
	int (*check)(struct sb_ctx *x, const struct sb_point *pt, unsigned iter, size_t *wrong);
	/* Derived metrics from the summary of the per-iteration times, appended to m with
	 * sb_metric_add. Called on every rank (it may use the control plane: a fault there is
	 * returned, as from every hook); with x->state NULL it only names them (no traffic). */
	int (*metrics)(struct sb_ctx *x, const struct sb_point *pt, const struct sb_summary *s,
	               struct sb_metrics *m);
	void (*teardown)(struct sb_ctx *x);
	/* Optional: lines of its own under a point's table row (rank 0), from the point's
	 * record (a pipeline's per-boundary figures). */
	void (*table_extra)(FILE *f, const json_t *rec);
	/* Bytes of data-path memory one rank holds at once for pt (its buffers and the
	 * library's temporaries), so the largest point is checked against memory before the
	 * run starts. NULL: not checked. */
	size_t (*mem_need)(struct sb_ctx *x, const struct sb_point *pt);
	/* Optional: what would fit when pt needs more than limit bytes a rank, for the message
	 * (a benchmark whose points are not sizes: infer's layers); NULL: the largest size. */
	void (*mem_hint)(struct sb_ctx *x, const struct sb_point *pt, double limit, char *buf,
	                 size_t len);
};

/* The explicit list of benchmarks, NULL-terminated (benchmarks/list.c). */
extern const struct sb_bench *const sb_benches[];

/* An entry of `scalebench suite`: a benchmark and the options it runs with there (before the
 * command line's common options), NULL-terminated. */
#define SB_SUITE_ARGS 6
struct sb_suite_entry {
	const struct sb_bench *bench;
	const char *args[SB_SUITE_ARGS];
};
extern const struct sb_suite_entry sb_suite[]; /* ends with a NULL bench */
const struct sb_bench *sb_bench_find(const char *name);

#endif
