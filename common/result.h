/* The result model: how a point was measured (the method), what came out of it (samples,
 * summaries, rounds, metrics, the benchmark's own record fields), and the drift check. The
 * driver fills it, the writers (report.c) read it; neither writer includes the driver. */
#ifndef SB_RESULT_H
#define SB_RESULT_H

#include "stats.h"

#include <jansson.h>
#include <stddef.h>

struct sb_point;

/* How points are measured (from the common options). */
struct sb_method {
	size_t warmup; /* warm-up iterations asked for (-w) */
	size_t iters; /* fixed iteration count (-n), 0 for adaptive */
	size_t checks; /* check iterations (-c) */
	double precision; /* target relative CI half-width of the median (0.02 = 2%) */
	double max_time; /* seconds of timed iterations per point before giving up on precision */
	size_t max_iters; /* hard cap on samples per point */
	double timeout; /* seconds per point before the watchdog ends the job, 0 = off */
	/* Before the precision target may end a point: this many samples and this much timed
	 * time, so a point spans the machine's fast and slow states rather than a millisecond
	 * of one of them. */
	size_t min_iters;
	double min_time;
	/* The host clock's step (s), measured at the start of the run: no interval is narrower
	 * (ties on the step would otherwise collapse it to 0). */
	double resolution;
	int rounds; /* --rounds K: the sweep K times, interleaved */
	unsigned long long seed; /* of the shuffled order of rounds after the first */
	/* Backends with an asynchronous data path (GPU streams): both timings are measured,
	 * per-operation latency (a sync after each) and pipelined (batch operations back to back
	 * between syncs, per operation); the headline is pipelined unless gpu_latency. */
	int async;
	int gpu_latency;
	size_t batch; /* --batch (0: chosen from the warm-up) */
	int progress; /* a one-line progress on stderr (rank 0, a terminal, not --quiet/--json) */
	int series_samples; /* --series-samples: series' values in the record, not only summaries */
};

/* cudaEventElapsedTime's resolution, as CUDA documents it (about 0.5 us). */
#define SB_EVENT_RESOLUTION 0.5e-6

/* What one round of a point gets with --rounds K: the point's minimums and limits divided by
 * K (-n and -w stay per measurement), so that the pool meets the minimums and K rounds cost
 * about what one does. The method itself with one round. */
void sb_method_per_round(const struct sb_method *m, struct sb_method *mr);

/* A derived figure for the table and the record: value in `unit` (SI: B/s, s; "1" for a
 * pure number). */
struct sb_metric {
	const char *name; /* record key, e.g. "busbw"; a string that outlives the result */
	const char *unit; /* "B/s" */
	double value; /* NAN where it does not apply */
};

/* A benchmark's metrics for one point, as many as it has. */
struct sb_metrics {
	struct sb_metric *v;
	size_t n, cap;
};

/* Append one; SB_ENOMEM when it cannot grow. */
int sb_metric_add(struct sb_metrics *m, const char *name, const char *unit, double value);
void sb_metrics_free(struct sb_metrics *m);
/* The value of the named metric, NAN when there is none. */
double sb_metric_get(const struct sb_metrics *m, const char *name);

struct sb_round {
	size_t n;
	double median, ci_lo, ci_hi, rel_ci, elapsed;
	const char *stop;
	int order; /* the point's place in the round's order (0-based) */
};

/* A drift check: the first point measured again at the end of a benchmark's sweep. */
struct sb_drift {
	const char *label;
	double start, start_lo, start_hi; /* median and 95% CI at the start */
	double end, end_lo, end_hi;
	int drifted; /* the two intervals do not overlap */
};

/* Why a point's iterations stopped. */
#define SB_STOP_PRECISION "precision"
#define SB_STOP_MAX_TIME "max-time"
#define SB_STOP_ITERS "iterations"
#define SB_STOP_MAX_ITERS "max-iterations"
/* The interval is as narrow as the clock step allows and still wider than the target: more
 * samples cannot narrow it (a time of a few dozen clock steps). */
#define SB_STOP_CLOCK "clock-step"
/* A self-timed benchmark's duration-and-count rule was met (struct sb_validity). */
#define SB_STOP_DURATION "min-duration"

/* Board power over a point's timed span, all GPUs together (power.h: GPU backends with a
 * meter). source[0] == 0: none was measured and the record has no power field; the figures are
 * NAN where they could not be had (note says why). */
struct sb_power {
	char source[64]; /* "nvml energy counter", "nvml power samples" */
	const char *note; /* a caveat for the record (a static string), or NULL */
	double watts_mean; /* W per GPU: the mean over GPUs of joules / seconds */
	double watts_max; /* the largest power sample, NAN with the energy counter */
	double joules; /* every GPU's energy over its span, summed */
	double joules_per_op; /* joules / ops */
	double seconds; /* the span: the longest of the GPUs' */
	double ops; /* operations run in the span (every timing's: latency, pipelined, events) */
	int gpus; /* distinct GPUs measured (ranks sharing one count it once) */
};

struct sb_point_result {
	const struct sb_point *point;
	double *samples; /* per-iteration times in seconds, max over ranks, in order */
	double *dev_samples; /* the same by the backend's device events, or NULL */
	struct sb_summary dev_summary;
	size_t n;
	size_t warmup_done;
	const char *stop;
	/* Asynchronous backends: the other timing (latency when the headline is pipelined and
	 * the other way round), its samples and summary; batch is the pipelined K. */
	double *alt_samples;
	struct sb_summary alt_summary;
	const char *headline, *alt; /* "pipelined", "latency"; NULL on host backends */
	size_t batch;
	/* --rounds: per round, the samples, median, CI and stop reason of this point (rank 0
	 * writes them; NULL with one round). */
	size_t nrounds;
	struct sb_round *rounds;
	double rel_ci; /* achieved relative CI half-width of the median */
	double elapsed; /* seconds spent in timed iterations (slowest rank) */
	struct sb_summary summary;
	struct sb_metrics metrics; /* the benchmark's derived figures */
	json_t *detail; /* the benchmark's extra record fields (rank 0), or NULL */
	json_t *series; /* its series' summaries by name (rank 0), or NULL */
	size_t checks_done;
	long long wrong; /* wrong elements over all ranks and check iterations */
	struct sb_power power; /* GPU backends: board power over the timed span (rank 0) */
};

/* Free what a measured result holds (samples, rounds, detail). */
void sb_point_result_free(struct sb_point_result *r);

#endif
