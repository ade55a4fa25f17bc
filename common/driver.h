/* The measurement driver: for each point of a benchmark, warm up, iterate with every
 * iteration timed on every rank and reduced to the slowest rank's time, stop adaptively, check
 * the results outside the timed loop, summarise, derive metrics, and hand the result to the
 * report (table and run file). */
#ifndef SB_DRIVER_H
#define SB_DRIVER_H

#include "bench.h"
#include "options.h"
#include "result.h"
#include "stats.h"

#include <stdio.h>

struct sb_report;

#define SB_BIND_CHOICES "keep|auto|none"

/* The common options every benchmark accepts, NULL-name terminated. */
extern const struct sb_opt sb_common_opts[];

/* Measure the host clock's step: the smallest non-zero difference between two reads. */
double sb_clock_resolution(void);

void sb_method_from_args(struct sb_method *m, const struct sb_args *a);
/* Reject method options that parse but cannot work (sample counts beyond what memory can
 * hold); SB_EINVAL with a message. */
int sb_method_validate(const struct sb_args *a, char *err, size_t errlen);

/* Run every point of b; the options have passed b->validate. Returns 0, SB_ECHECK when a
 * check found wrong results (all points still measured), or another negative code on a fault.
 * Every rank calls this; rep is used on rank 0 only. */
int sb_driver_run(const struct sb_bench *b, struct sb_comm *c, const struct sb_args *a,
                  struct sb_report *rep);

/* Before anything is written: does the largest point of b fit in `limit` bytes per rank
 * (the memory the ranks of the tightest host or GPU can have)? Calls b's setup, points and
 * mem_need, then teardown. Returns 0, or SB_EINVAL with a message in err naming the largest
 * size that fits. */
int sb_driver_check_memory(const struct sb_bench *b, struct sb_comm *c, const struct sb_args *a,
                           double limit, const char *where, char *err, size_t errlen);

/* Measure one prepared point (exposed for the tests). */
int sb_driver_measure(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt,
                      const struct sb_method *m, struct sb_point_result *r);

#endif
