/* The inference benchmark's pure core (no MPI, no clock reads): the load generator, the
 * per-replica batchers, the per-request metrics and a small discrete-event simulator that runs
 * them on a virtual clock. Every function takes times (seconds) as arguments, so infer.c drives
 * it with the backend's clock and tests/t_infer_load.c with hand-made times.
 *
 * Model of a request's life: scheduled (t_sched, the arrival the load generator planned: latency
 * counts from it, so a late dispatch under overload shows as latency, no coordinated omission),
 * dispatched to a replica (t_dispatch), first included in a step (t_start, its prefill step),
 * first output token at the end of the prefill step (t_first), one more token at the end of each
 * decode step that includes it, done at the end of the step that gives its last token (t_done).
 * A step's output tokens all carry the step's end time. */
#ifndef SB_INFER_LOAD_H
#define SB_INFER_LOAD_H

#include "rng.h"

#include <stddef.h>
#include <stdint.h>

struct sb_request {
	long id; /* 0, 1, 2, ... in issue order */
	int prompt_tokens, output_tokens; /* both >= 1 */
	double t_sched, t_dispatch, t_start, t_first, t_done; /* NAN until reached */
	int tokens_out; /* output tokens produced so far; > 0 once prefilled */
	double t_last; /* time of the latest output token (inter-token latencies) */
	int replica; /* where it was dispatched, -1 before */
};

/* ---- Load generator ---- */

/* A length: fixed (a), uniform integer in [a, b], or uniform over list[0..nlist-1]. */
enum sb_len_kind { SB_LEN_FIXED, SB_LEN_UNIFORM, SB_LEN_LIST };
struct sb_len_dist {
	enum sb_len_kind kind;
	int a, b;
	const int *list; /* not copied: must outlive the generator */
	size_t nlist;
};

/* OPEN: arrivals at rate R, gaps Gamma(shape k, scale 1/(k R)) (mean 1/R, CoV 1/sqrt(k);
 * k = 1 is Poisson, exponential gaps), the first one gap after t0. CLOSED: C requests at t0,
 * then one at each completion's time. TRACE: scheduled at times[0..ntimes-1] (ascending;
 * replay and hand-worked tests). */
enum sb_load_mode { SB_LOAD_OPEN, SB_LOAD_CLOSED, SB_LOAD_TRACE };
struct sb_load_config {
	enum sb_load_mode mode;
	double rate; /* OPEN: requests/s, > 0 */
	double burstiness; /* OPEN: Gamma shape k > 0; 0 is taken as 1 (Poisson) */
	int concurrency; /* CLOSED: C >= 1 */
	const double *times; /* TRACE, not copied */
	size_t ntimes;
	uint64_t seed;
	struct sb_len_dist prompt, output;
	long max_requests; /* stop after this many issued; 0 = no limit */
	double duration; /* issue none scheduled after t0 + duration; 0 = no limit */
	double t0;
};

struct sb_loadgen {
	struct sb_load_config cfg;
	struct sb_rng gaps, prompt, output; /* separate streams: lengths don't move arrivals */
	long issued;
	double t_next; /* OPEN/TRACE: the next arrival's time */
	double *pending; /* CLOSED: FIFO of scheduled times, capacity C */
	size_t head, count;
};

/* Check cfg and set g up: 0, SB_EINVAL (bad config) or SB_ENOMEM. */
int sb_loadgen_init(struct sb_loadgen *g, const struct sb_load_config *cfg);
void sb_loadgen_free(struct sb_loadgen *g);
/* The next request scheduled at or before now: returns 1 and fills *req (t_sched set, other
 * times NAN). Otherwise returns 0 and sets *t_due to when the next one is scheduled, INFINITY
 * when that is not known yet (closed loop: after a completion) or never (exhausted). */
int sb_loadgen_next(struct sb_loadgen *g, double now, struct sb_request *req, double *t_due);
/* Closed loop: a request completed at t_done, so schedule a new one then (call in time order).
 * A no-op in the other modes. */
void sb_loadgen_complete(struct sb_loadgen *g, double t_done);
/* No request will be issued any more. */
int sb_loadgen_exhausted(const struct sb_loadgen *g);

/* Gamma(shape, scale) by Marsaglia and Tsang (2000), shape < 1 boosted by U^(1/shape). */
double sb_infer_gamma(struct sb_rng *r, double shape, double scale);

/* ---- Batchers (one per replica) ---- */

/* DYNAMIC: a batch of up to B starts when B wait or the oldest has waited D (since dispatch);
 * it runs one prefill step for all its requests, then decode steps until each is done,
 * requests leaving as they finish; the next batch forms after the last one leaves.
 * CONTINUOUS (Orca-style iteration-level scheduling): at every step boundary finished requests
 * have left and waiting ones join, up to B in flight. Prefill is a "separate prefill step": the
 * joining requests' prompts run in a step of their own (the others pause for it), then all in
 * flight decode together. */
enum sb_batching { SB_BATCH_DYNAMIC, SB_BATCH_CONTINUOUS };

struct sb_step_entry {
	struct sb_request *req;
	int tokens; /* prefill: prompt tokens; decode: 1 */
	int context; /* KV length after this step: prompt + tokens fed so far */
	double itl; /* set by finish: gap since the request's previous token, NAN for the first */
};
struct sb_step {
	int prefill; /* 1: prefill step, 0: decode step */
	int n; /* entries */
	long tokens; /* sum of the entries' tokens */
	int inflight; /* requests in flight on the replica during this step (>= n) */
	struct sb_step_entry *e; /* owned by the batcher, valid until finish */
};

struct sb_batcher;

/* max_batch B >= 1, max_delay D >= 0 (seconds, DYNAMIC only). NULL on bad input or no memory. */
struct sb_batcher *sb_batcher_create(enum sb_batching kind, int max_batch, double max_delay);
void sb_batcher_destroy(struct sb_batcher *b);
/* A dispatched request joins the replica's queue at now (sets t_dispatch, replica unchanged):
 * 0 or SB_ENOMEM. */
int sb_batcher_enqueue(struct sb_batcher *b, struct sb_request *req, double now);
/* Whether a step starts now: 1 and *out filled (t_start set for requests it prefills), the
 * batcher then busy until finish. 0 when not: *t_next is when a step may start if nothing
 * arrives (dynamic batching's delay), INFINITY if it waits for an arrival or a finish. */
int sb_batcher_plan(struct sb_batcher *b, double now, struct sb_step *out, double *t_next);
/* The step planned last ended at t_end: tokens produced, first-token times, each entry's itl;
 * the requests finished (t_done = t_end) go into done[] (room for B) and leave. Returns how
 * many. */
int sb_batcher_finish(struct sb_batcher *b, struct sb_step *step, double t_end,
                      struct sb_request **done);
/* Requests waiting plus in flight (least-loaded dispatch). */
size_t sb_batcher_load(const struct sb_batcher *b);

/* ---- Metrics ---- */

/* MLPerf LoadGen's minimum sample counts for a percentile to be reported. */
#define SB_INFER_MIN_P90 64
#define SB_INFER_MIN_P99 662

/* One latency series: mean and nearest-rank percentiles, NAN when not reported; *_missing is
 * how many more samples the percentile needs (0 when reported). p50 needs one. */
struct sb_infer_series {
	size_t n;
	double mean, p50, p90, p99;
	size_t p90_missing, p99_missing;
};

struct sb_infer_metrics {
	size_t issued, completed; /* measured (non-warm-up) requests */
	/* TTFT = t_first - t_sched; TPOT = (E2E - TTFT) / (output - 1), only for output > 1;
	 * E2E = t_done - t_sched; queue = t_start - t_sched; ITL: gaps between a request's tokens.
	 */
	struct sb_infer_series ttft, tpot, e2e, queue, itl;
	double t_begin, t_end, window; /* first measured t_sched .. last measured t_done */
	double req_per_s, tok_per_s; /* completed requests and their output tokens / window */
	double offered_rate; /* (issued - 1) / span of the measured t_sched */
	double achieved_rate; /* = req_per_s */
	size_t good; /* completed with TTFT <= slo_ttft and TPOT <= slo_tpot */
	double goodput; /* good / window */
};

/* Fill *m from reqs[0..n-1]; those with id < warmup are left out, incomplete ones (t_done NAN)
 * count as issued only. itl[0..nitl-1] are the measured inter-token gaps. An SLO <= 0 is no
 * constraint. 0 or SB_ENOMEM. */
int sb_infer_metrics_compute(const struct sb_request *reqs, size_t n, long warmup,
                             const double *itl, size_t nitl, double slo_ttft, double slo_tpot,
                             struct sb_infer_metrics *m);

/* ---- Simulator ---- */

/* Least-loaded: the replica with the fewest waiting plus in flight, ties to round-robin's pick. */
enum sb_dispatch { SB_DISPATCH_ROUND_ROBIN, SB_DISPATCH_LEAST_LOADED };

struct sb_sim_config {
	struct sb_load_config load; /* max_requests or duration bounds the run */
	enum sb_batching batching;
	int batch; /* B */
	double max_delay; /* D, dynamic only */
	int replicas;
	enum sb_dispatch dispatch;
	long warmup; /* the first requests, left out of the metrics */
	double slo_ttft, slo_tpot;
};

/* A step's duration in seconds (>= 0) on a replica: the model, or a deterministic cost. */
typedef double (*sb_step_cost_fn)(const struct sb_step *step, int replica, void *arg);
/* Sees every step as it is planned (tests' invariants); may be NULL. */
typedef void (*sb_step_observe_fn)(const struct sb_step *step, int replica, double t_start,
                                   double t_end, void *arg);

struct sb_sim_result {
	struct sb_request *reqs; /* all issued, in id order */
	size_t nreqs;
	double *itl; /* measured inter-token gaps */
	size_t nitl;
	size_t *batch_hist; /* batch_hist[k]: steps of k requests, k = 0..batch */
	size_t steps;
	double t_end; /* virtual time when the last step ended */
	struct sb_infer_metrics m;
};

/* Run the load through cfg->replicas batchers on a virtual clock until the generator is
 * exhausted and every issued request has completed (the run drains). 0, SB_EINVAL or SB_ENOMEM;
 * free *out with sb_sim_result_free either way. */
int sb_infer_simulate(const struct sb_sim_config *cfg, sb_step_cost_fn cost, void *cost_arg,
                      sb_step_observe_fn observe, void *observe_arg, struct sb_sim_result *out);
void sb_sim_result_free(struct sb_sim_result *out);

#endif
