/* The benchmark plug-in: what is measured. A benchmark is one static const struct sb_bench in
 * its own file under benchmarks/, listed in benchmarks/list.c. The driver (driver.h) owns
 * warm-up, timing, repetition, the cross-rank reduction, statistics, checking and output; a
 * benchmark only says what one step is. Hooks return 0 or a negative SB_E* code. */
#ifndef SB_BENCH_H
#define SB_BENCH_H

#include "comm.h"
#include "options.h"
#include "stats.h"

#include <stddef.h>

/* One measured configuration. */
struct sb_point {
	char label[96]; /* for messages: "allreduce 64M float out-of-place" */
	size_t bytes; /* message size per rank */
	size_t count; /* elements */
	enum sb_dtype dtype;
	const char *op; /* "sum", or "-" where no reduction happens */
	int inplace;
	/* Pipeline points (0 elsewhere): stages, micro-batches, schedule, training, compute;
	 * stage_ranks: ranks per stage (stage s is ranks s x K .. s x K + K-1; 0 or 1: one). */
	int stages, microbatches, training, stage_ranks;
	char schedule[16];
	double compute; /* seconds of forward compute per micro-batch and stage */
	int hidden; /* gemm compute: the weight is hidden x hidden (0: busy work) */
	int gemm_esize; /* gemm compute: bytes per element of the activation (4 fp32, 2 bf16) */
};

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
};

#define SB_METRICS_MAX 8

/* A derived figure for the table and the record: value in `unit` (SI: B/s, s). */
struct sb_metric {
	const char *name; /* record key, e.g. "busbw" */
	const char *unit; /* "B/s" */
	double value;
};

#define SB_BENCH_CAN_CHECK 0x1u
#define SB_BENCH_CAN_GRAPH 0x2u /* its step is one call a GPU backend can replay (-G) */
/* Its figures come from its own timing inside the step (the pipeline): one measurement per
 * point, no --rounds pooling and no pipelined batches of steps on GPU backends. */
#define SB_BENCH_SELF_TIMED 0x4u

struct sb_bench {
	const char *name;
	const char *summary;
	int min_ranks;
	unsigned flags;
	const struct sb_opt *opts; /* the benchmark's own options, NULL-name terminated */

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
	/* Derived metrics from the summary of the per-iteration times; returns how many. Called on
	 * every rank (it may use the control plane); with x->state NULL it only names them. */
	size_t (*metrics)(struct sb_ctx *x, const struct sb_point *pt, const struct sb_summary *s,
	                  struct sb_metric *m);
	void (*teardown)(struct sb_ctx *x);
	/* Bytes of data-path memory one rank holds at once for pt (its buffers and the
	 * library's temporaries), so the largest point is checked against memory before the
	 * run starts. NULL: not checked. */
	size_t (*mem_need)(struct sb_ctx *x, const struct sb_point *pt);
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

/* Sizes from the common -b/-e/-f options: b, b*f, b*f^2, ... <= e, each rounded down to a
 * multiple of `align`; sizes below align are skipped. *out is malloc'd. */
int sb_sizes_from_args(const struct sb_args *a, size_t align, size_t **out, size_t *n, char *err,
                       size_t errlen);

/* The pipeline's compute-only makespan (benchmarks/pipeline.c): P stages, M micro-batches,
 * stage r's forward f[r] and backward b[r] per micro-batch (b unused unless training), played
 * in GPipe's order (fwd_first; also any forward-only run) or 1F1B's, with free transfers. NAN
 * if memory runs out. */
double sb_pipeline_makespan(int P, int M, int fwd_first, int training, const double *f,
                            const double *b);

#endif
