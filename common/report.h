/* One result model, two writers: the human table on rank 0's stdout and the run-file records
 * (or, with --json, the records on stdout instead of the table). Used on rank 0 only. */
#ifndef SB_REPORT_H
#define SB_REPORT_H

#include "bench.h"
#include "result.h"
#include "runfile.h"
#include "topo.h"

#include <jansson.h>
#include <stdio.h>

struct sb_report {
	FILE *table; /* NULL: no table */
	FILE *json; /* NULL: no records on stdout */
	struct sb_runfile *rf; /* NULL: no run file */
	size_t points; /* point records written */
	size_t points_at_precision;
	size_t points_at_clock; /* stopped at the clock step's limit */
	size_t points_at_duration; /* met a self-timed benchmark's duration and count rule */
	const char *mpi_version;
	double t0; /* sb_now() at the start of the run */
	const char *span; /* the pair class spanning all ranks, labels every point */
	const struct sb_topo *topo; /* where the ranks sit (rank 0), for per-boundary labels */
	double resolution; /* the host clock's measured step (s), for the driver's intervals */
	int async; /* the backend's data path is asynchronous (GPU): latency and pipelined */
	int progress; /* a progress line on stderr (rank 0 on a terminal) */
	json_t *drift; /* drift checks so far, an array (the end record carries it) */
	size_t drifted; /* how many of them found the machine changed */
};

/* Header lines and column titles for a benchmark. */
void sb_report_begin(struct sb_report *rep, const struct sb_bench *b, struct sb_comm *c,
                     const struct sb_method *m);
/* One table row and one point record. Returns SB_EIO when the run file cannot be written. */
int sb_report_point(struct sb_report *rep, const struct sb_bench *b, struct sb_comm *c,
                    const struct sb_method *m, const struct sb_point_result *r);
void sb_report_end_bench(struct sb_report *rep, const struct sb_bench *b);

/* A benchmark's drift check: one table line, and an entry in rep->drift. */
void sb_report_drift(struct sb_report *rep, const struct sb_bench *b, const struct sb_drift *d);

/* The `end` record: status ("ok", "check-failed", "error", "timeout", "killed"), an optional
 * message, the points written and the duration since rep->t0. */
json_t *sb_end_record(const struct sb_report *rep, const char *status, const char *message);

/* Close the run with an `end` record of status "error" and the message (rank 0, on a fault
 * that ends the job). */
void sb_report_fail(struct sb_report *rep, const char *message);

/* The point record (also used by the tests). */
json_t *sb_point_record(const struct sb_bench *b, struct sb_comm *c, const struct sb_method *m,
                        const struct sb_point_result *r, size_t seq, const char *span);

/* The `run` record: schema, ids, argv, options, build, provenance and the topology. */
json_t *sb_run_record(const char *run_id, const char *command, int argc, char **argv,
                      const struct sb_args *a, struct sb_comm *c, const struct sb_topo *topo);

#endif
