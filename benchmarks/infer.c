/* infer: LLM inference serving. Rank 0 generates the load (infer_load.h: open loop Poisson or
 * Gamma arrivals at --rate, or a closed loop of --concurrency) and dispatches each request to a
 * replica (least-loaded); the other ranks form replicas of T tensor-parallel ranks (--tp), each
 * batching its requests (--batching dynamic|continuous, up to --batch) and running the model's
 * steps (infer_model.h: Megatron's tensor parallelism, the all-reduces on the replica's TP
 * group). With one rank in all, rank 0 is also the only replica. Latency counts from each
 * request's scheduled arrival (no coordinated omission). One point is one serving run of
 * --requests measured requests (after a few warm-up ones) and at least --duration seconds;
 * rank 0 keeps the per-request series (TTFT, TPOT, E2E, queue, inter-token latency) and the
 * point's figures (requests/s, tokens/s, goodput, the all-reduce share of step time, the batch
 * sizes formed). On the fake backend the model is a deterministic cost on the virtual clock
 * (STEP_A + STEP_B x tokens; SB_FAKE_INFER_STEP=A:B sets the two, seconds: a slower "model" for
 * tests of the collector), so the whole run is exact and reproducible.
 *
 * Messages (control plane, non-blocking): rank 0 -> a replica's leader (its TP group's rank 0):
 * a request {id, prompt, output, t_sched} (TAG_REQ) or the end of the run (TAG_STOP); leader ->
 * rank 0: a completion {id, t_start, t_first, t_done, tokens, then the inter-token gaps}
 * (TAG_DONE), times on rank 0's clock (the leader's plus its measured offset). A leader tells
 * its group each step's plan by a control-plane sum (the others add zeros). */
#include "bench.h"
#include "error.h"
#include "gemm.h"
#include "infer_load.h"
#include "infer_model.h"
#include "infer_opts.h"
#ifdef SB_HAVE_CUDA
#include "infer_gpu.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_A 100e-6 /* fake backend: seconds per step ... */
#define STEP_B 2e-6 /* ... and per token (by default) */
#define WARMUP 4 /* requests before the measured ones */
/* The ceilings a step is held against: a square GEMM of this size and copies of this many bytes
 * (beyond the caches), the best of CEIL_REPS each. */
#define CEIL_GEMM_N 512
#define CEIL_COPY_BYTES ((size_t)64 << 20)
#define CEIL_REPS 3
/* On a GPU: a bf16 GEMM of this size, device copies of this many bytes. */
#define CEIL_GPU_GEMM_N 8192
#define CEIL_GPU_COPY_BYTES ((size_t)1 << 30)
enum { TAG_REQ = 1, TAG_STOP = 2, TAG_DONE = 3 };
enum { S_TTFT, S_TPOT, S_E2E, S_QUEUE, S_ITL, S_COUNT };
/* A step's figures: time, all-reduce time, FLOPs, bytes (weights and KV read), steps, the
 * time at the ceilings (max of FLOPs / GEMM rate and bytes / copy rate), tokens, elements
 * all-reduced, the ceilings. */
enum {
	F_TIME,
	F_AR,
	F_FLOPS,
	F_BYTES,
	F_STEPS,
	F_BOUND,
	F_TOKENS,
	F_AR_ELEMS,
	F_GEMM,
	F_COPY,
	F_COUNT
};

struct infer {
	struct sb_infer_conf cf;
	struct sb_model_shape shape;
	/* The prepared point. */
	double rate;
	int B, T;
	struct sb_infer_len prompt; /* this point's */
	/* Roles: replica index (-1 on rank 0 of a multi-rank job), the TP group, its leader. */
	int replica, R, leader;
	struct sb_comm tp;
	int have_tp, model_T, model_B, model_ctx;
	struct sb_model model; /* on the host, or ... */
	struct sb_model_gpu *gm; /* ... on the GPU of a device backend */
	int have_model;
	float *x;
	size_t capx;
	/* Rank 0: the run's requests, gaps and figures. */
	struct sb_request *reqs;
	size_t nreqs;
	double *itl;
	size_t nitl, capitl;
	long long *hist; /* steps by batch size, 0..B (this rank's as a leader; rank 0: all) */
	/* Replica 0's step figures summed over the timed steps (acc; fig at rank 0 after a run),
	 * and the ceilings its ranks measured (gemm_rate, copy_rate: once per run). */
	double acc[F_COUNT], fig[F_COUNT], gemm_rate, copy_rate;
	int ceil_tried;
	double step_a, step_b; /* fake backend: the step's cost per step and per token */
	struct sb_infer_metrics m; /* rank 0: the last timed run's */
	long long bad_tokens; /* rank 0: requests that got other than their output tokens */
	int have_m;
	struct sb_series s[S_COUNT];
};

static int color_of(int rank, void *arg)
{
	int T = *(int *)arg;
	return rank == 0 ? SB_COMM_UNDEFINED : (rank - 1) / T;
}

/* The fake backend's step cost: STEP_A and STEP_B, or SB_FAKE_INFER_STEP=A:B. 0, or -1 when
 * the variable is not two non-negative numbers. */
static int fake_cost(double *a, double *b)
{
	const char *e = getenv("SB_FAKE_INFER_STEP");
	char end;
	*a = STEP_A, *b = STEP_B;
	return !e || (sscanf(e, "%lf:%lf%c", a, b, &end) == 2 && *a >= 0 && *b >= 0) ? 0 : -1;
}

static int infer_validate(const struct sb_args *a, int nranks, char *err, size_t errlen)
{
	struct sb_infer_conf c;
	double sa, sb;
	if (fake_cost(&sa, &sb)) {
		snprintf(err, errlen, "SB_FAKE_INFER_STEP=%s: A:B, seconds per step and per token",
		         getenv("SB_FAKE_INFER_STEP"));
		return SB_EINVAL;
	}
	return sb_infer_conf_from_args(a, nranks, &c, err, errlen);
}

static int infer_setup(struct sb_ctx *x)
{
	struct infer *s = calloc(1, sizeof *s);
	if (!(x->state = s))
		return SB_ENOMEM;
	char err[256];
	int rc = sb_infer_conf_from_args(x->args, x->comm->size, &s->cf, err, sizeof err);
	s->shape = (struct sb_model_shape){s->cf.hidden, s->cf.ffn, s->cf.heads, s->cf.layers};
	static const char *const names[S_COUNT] = {"ttft", "tpot", "e2e", "queue", "itl"};
	for (int j = 0; j < S_COUNT; j++)
		sb_series_init(&s->s[j], names[j], "s");
	s->s[S_TTFT].values = s->s[S_TPOT].values = 1; /* for compare */
	s->s[S_TPOT].optional = s->s[S_ITL].optional = 1; /* none from one-token requests */
	fake_cost(&s->step_a, &s->step_b); /* checked by infer_validate */
	x->series = s->s;
	x->nseries = S_COUNT;
	return rc;
}

/* A length in a point's params: the number when fixed, else its form ("64-256", "64/128"). */
static json_t *len_json(const struct sb_infer_len *l)
{
	char t[128];
	if (l->kind == SB_LEN_FIXED)
		return json_integer(l->a);
	sb_infer_len_format(l, t, sizeof t);
	return json_string(t);
}

/* Every combination of the lists: load (rate or concurrency) x batch x tp x prompt. */
static int infer_points(struct sb_ctx *x, struct sb_point **pts, size_t *n)
{
	struct infer *s = x->state;
	const struct sb_infer_conf *c = &s->cf;
	int nl = c->closed ? 1 : c->nrate;
	size_t total = (size_t)nl * c->nbatch * c->ntp * c->nprompt, q = 0;
	struct sb_point *p = calloc(total, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	for (int il = 0; il < nl; il++)
		for (int it = 0; it < c->ntp; it++)
			for (int ib = 0; ib < c->nbatch; ib++)
				for (int ip = 0; ip < c->nprompt; ip++, q++) {
					char pl[128];
					sb_infer_len_format(&c->prompt[ip], pl, sizeof pl);
					p[q].op = "-";
					p[q].params = json_pack(
					    "{s:o,s:o,s:s,s:i,s:i,s:o,s:o,s:i,s:i,s:i}", "rate",
					    c->closed ? json_null() : json_real(c->rate[il]),
					    "concurrency",
					    c->closed ? json_integer(c->concurrency) : json_null(),
					    "batching", c->continuous ? "continuous" : "dynamic",
					    "batch", c->batch[ib], "tp", c->tp[it], "prompt_tokens",
					    len_json(&c->prompt[ip]), "output_tokens",
					    len_json(&c->output), "hidden", c->hidden, "heads",
					    c->heads, "layers", c->layers);
					if (p[q].params && !c->continuous)
						json_object_set_new(p[q].params, "max_delay_us",
						                    json_real(c->max_delay * 1e6));
					if (p[q].params && !c->closed)
						json_object_set_new(p[q].params, "burstiness",
						                    json_real(c->burstiness));
					if (p[q].params && c->slo_ttft > 0)
						json_object_set_new(p[q].params, "slo_ttft_ms",
						                    json_real(c->slo_ttft * 1e3));
					if (p[q].params && c->slo_tpot > 0)
						json_object_set_new(p[q].params, "slo_tpot_ms",
						                    json_real(c->slo_tpot * 1e3));
					if (!p[q].params) {
						sb_points_free(p, q);
						return SB_ENOMEM;
					}
					if (c->closed)
						snprintf(p[q].label, sizeof p[q].label,
						         "infer C=%d B=%d T=%d prompt %.40s",
						         c->concurrency, c->batch[ib], c->tp[it],
						         pl);
					else
						snprintf(p[q].label, sizeof p[q].label,
						         "infer %g/s B=%d T=%d prompt %.40s",
						         c->rate[il], c->batch[ib], c->tp[it], pl);
				}
	*pts = p;
	*n = total;
	return 0;
}

/* The point's prompt length (its params: a number, or the form of a drawn one). */
static void point_prompt(const struct sb_point *pt, struct sb_infer_len *l)
{
	char err[256];
	json_t *pj = json_object_get(pt->params, "prompt_tokens");
	if (json_is_string(pj))
		sb_infer_len_parse("prompt-tokens", json_string_value(pj), l, err,
		                   sizeof err); /* as written by infer_points: valid */
	else
		*l = (struct sb_infer_len){.kind = SB_LEN_FIXED,
		                           .a = (int)json_integer_value(pj),
		                           .b = (int)json_integer_value(pj)};
}

/* The TP group's communicator: the replica's group, or the world when there is one rank. */
static struct sb_comm *tp_comm(struct infer *s, struct sb_comm *c)
{
	return c->size == 1 ? c : &s->tp;
}

/* The GPU stream of this rank's model on a device backend (the TP group's), else NULL. */
static void *model_stream(struct infer *s, struct sb_comm *c)
{
	struct sb_comm *g = tp_comm(s, c);
	return g->be->stream ? g->be->stream(g) : NULL;
}

static void model_free(struct infer *s)
{
	if (!s->have_model)
		return;
#ifdef SB_HAVE_CUDA
	if (s->gm)
		sb_model_gpu_free(s->gm);
	s->gm = NULL;
#endif
	sb_model_free(&s->model);
	s->have_model = 0;
}

/* This rank's shard for T ranks, B slots of ctx tokens: bf16 on the GPU of a device backend,
 * float32 on the host otherwise. */
static int model_init(struct infer *s, struct sb_comm *c, int ctx)
{
	int shard = c->size == 1 ? 0 : s->tp.rank;
	void *stream = model_stream(s, c);
	memset(&s->model, 0, sizeof s->model);
	if (stream) {
#ifdef SB_HAVE_CUDA
		return sb_model_gpu_init(&s->gm, &s->shape, s->T, shard, s->B, ctx, s->cf.seed,
		                         stream);
#else
		return SB_ENOTSUP;
#endif
	}
	return sb_model_init(&s->model, &s->shape, s->T, shard, s->B, ctx, s->cf.seed);
}

/* Bytes of an element of the model's weights and KV cache: bf16 on a GPU, float32 here. */
static size_t model_elem(struct sb_comm *c)
{
	return c->be->stream ? 2 : 4;
}

/* Roles for T, the model for (T, B, context); collective. */
static int infer_prepare(struct sb_ctx *x, const struct sb_point *pt)
{
	struct infer *s = x->state;
	struct sb_comm *c = x->comm;
	s->rate = sb_param_double(pt, "rate");
	s->B = (int)sb_param_int(pt, "batch");
	s->T = (int)sb_param_int(pt, "tp");
	point_prompt(pt, &s->prompt);
	int rc = 0;
	if (c->size == 1) {
		s->replica = 0;
		s->R = 1;
		s->leader = 1;
	} else if (!s->have_tp || s->model_T != s->T) {
		if (s->have_tp)
			sb_comm_free(&s->tp);
		s->have_tp = 0;
		if ((rc = sb_comm_split_by(c, color_of, &s->T, &s->tp)))
			return rc;
		s->have_tp = 1;
		s->R = (c->size - 1) / s->T;
		s->replica = c->rank == 0 ? -1 : (c->rank - 1) / s->T;
		s->leader = c->rank != 0 && s->tp.rank == 0;
	}
	int ctx = s->prompt.b + s->cf.output.b;
	if (s->replica >= 0 && !c->be->spend &&
	    (!s->have_model || s->model_T != s->T || s->model_B < s->B || s->model_ctx < ctx)) {
		model_free(s);
		rc = model_init(s, c, ctx);
		s->have_model = rc == 0;
		s->model_B = s->B;
		s->model_ctx = ctx;
	}
	s->model_T = s->T;
	if (rc == 0 && s->replica >= 0 && !c->be->spend && !s->ceil_tried) {
		/* The ceilings, once per run, measured by every serving rank at once as the steps
		 * run (ranks of a host share its memory bandwidth). Failing, the record has none.
		 */
		int used;
		void *stream = model_stream(s, c);
		s->ceil_tried = 1;
		if (sb_gemm_peak(stream, stream ? SB_GEMM_BF16 : SB_GEMM_FP32,
		                 stream ? CEIL_GPU_GEMM_N : CEIL_GEMM_N, CEIL_REPS, &s->gemm_rate,
		                 &used) ||
		    sb_copy_rate(stream, stream ? CEIL_GPU_COPY_BYTES : CEIL_COPY_BYTES, CEIL_REPS,
		                 &s->copy_rate))
			s->gemm_rate = s->copy_rate = 0;
	}
	free(s->hist);
	if (!(s->hist = calloc((size_t)s->B + 1, sizeof *s->hist)))
		rc = SB_ENOMEM;
	memset(s->acc, 0, sizeof s->acc);
	s->have_m = 0;
	s->bad_tokens = 0;
	long long bad = rc != 0;
	int r2 = sb_ctl_sum(c, &bad, 1);
	return rc ? rc : r2 ? r2 : bad ? SB_ENOMEM : 0;
}

/* A replica's KV cache slots: the request in each, for in-flight requests. */
struct slots {
	long *id;
	int n;
};

static int slot_of(struct slots *sl, long id)
{
	int free_one = -1;
	for (int i = 0; i < sl->n; i++) {
		if (sl->id[i] == id)
			return i;
		if (sl->id[i] < 0 && free_one < 0)
			free_one = i;
	}
	if (free_one >= 0)
		sl->id[free_one] = id;
	return free_one;
}

static void slot_free(struct slots *sl, long id)
{
	for (int i = 0; i < sl->n; i++)
		if (sl->id[i] == id)
			sl->id[i] = -1;
}

static int host_step(struct infer *s, struct sb_comm *tp, const struct sb_model_req *r, int n,
                     struct sb_model_times *t);

/* Run one planned step on this replica (every rank of its group): the model's real work, or on
 * a virtual clock its deterministic cost. The plan is {n, then slot, ctx, ntok per request}. */
static int run_step(struct sb_ctx *x, const long long *plan, double *t_ar)
{
	struct infer *s = x->state;
	struct sb_comm *c = x->comm;
	int n = (int)plan[0];
	struct sb_model_req r[SB_INFER_MAX_BATCH];
	long long tokens = 0;
	for (int i = 0; i < n && i < SB_INFER_MAX_BATCH; i++) {
		r[i] = (struct sb_model_req){(int)plan[1 + 3 * i], (int)plan[2 + 3 * i],
		                             (int)plan[3 + 3 * i]};
		tokens += r[i].ntok;
	}
	*t_ar = 0;
	if (c->be->spend) {
		c->be->spend(c, s->step_a + s->step_b * (double)tokens);
		return 0;
	}
	struct sb_model_times t = {0, 0, 0};
	struct sb_comm *tp = s->T > 1 ? &s->tp : NULL;
	int rc;
#ifdef SB_HAVE_CUDA
	if (s->gm)
		rc = sb_model_gpu_step(s->gm, tp, r, n, &t); /* its input made on the GPU */
	else
#endif
		rc = host_step(s, tp, r, n, &t);
	*t_ar = t.allreduce;
	if (rc == 0 && x->timed && s->replica == 0 && (c->size == 1 || s->leader)) {
		size_t elem = model_elem(c);
		double f = sb_model_flops(&s->shape, s->T, r, n);
		double b = sb_model_weight_bytes(&s->shape, s->T, elem) +
		           sb_model_kv_bytes(&s->shape, s->T, r, n, elem);
		s->acc[F_FLOPS] += f;
		s->acc[F_TOKENS] += (double)tokens;
		s->acc[F_AR_ELEMS] += t.allreduce_elems;
		s->acc[F_BYTES] += b;
		if (s->gemm_rate > 0 && s->copy_rate > 0)
			s->acc[F_BOUND] += fmax(f / s->gemm_rate, b / s->copy_rate);
	}
	return rc;
}

/* The host model's step, on inputs made here. */
static int host_step(struct infer *s, struct sb_comm *tp, const struct sb_model_req *r, int n,
                     struct sb_model_times *t)
{
	size_t need = sb_model_tokens(r, n) * (size_t)s->shape.hidden;
	if (need > s->capx) {
		float *p = realloc(s->x, need * sizeof *p);
		if (!p)
			return SB_ENOMEM;
		s->x = p;
		s->capx = need;
	}
	sb_model_input(&s->shape, r, n, s->cf.seed, s->x);
	return sb_model_step(&s->model, tp, r, n, s->x, t);
}

#define PLAN_MAX (1 + 3 * SB_INFER_MAX_BATCH)

/* A step's plan for the group: {n, then slot, context before, new tokens per request}. */
static void fill_plan(struct slots *sl, const struct sb_step *step, long long *plan)
{
	plan[0] = step->n;
	for (int i = 0; i < step->n; i++) {
		plan[1 + 3 * i] = slot_of(sl, step->e[i].req->id);
		plan[2 + 3 * i] = step->e[i].context - step->e[i].tokens;
		plan[3 + 3 * i] = step->e[i].tokens;
	}
}

/* A timed step's figures: its batch size on every replica (rank 0 sums them), its time and
 * all-reduce time on the first replica (the step figures are one replica's). */
static void account_step(struct infer *s, int timed, int n, double t, double t_ar)
{
	if (!timed)
		return;
	if (n <= s->B)
		s->hist[n]++;
	if (s->replica == 0) {
		s->acc[F_TIME] += t;
		s->acc[F_AR] += t_ar;
		s->acc[F_STEPS]++;
	}
}

/* The request's record as rank 0 keeps it, and its completion message. */
static size_t done_msg(const struct sb_request *q, const double *gaps, int ngaps, double off,
                       double *m)
{
	m[0] = (double)q->id;
	m[1] = q->t_start + off;
	m[2] = q->t_first + off;
	m[3] = q->t_done + off;
	m[4] = q->tokens_out;
	for (int i = 0; i < ngaps; i++)
		m[5 + i] = gaps[i];
	return (size_t)(5 + ngaps) * sizeof *m;
}

/* Requests in blocks that never move (a batcher holds pointers to them). */
#define BLOCK 1024
struct store {
	struct sb_request **b;
	size_t nb, n;
	double **gaps; /* per request: its inter-token gaps (rank 0) */
	int out;
};

static struct sb_request *store_add(struct store *st)
{
	if (st->n == st->nb * BLOCK) {
		struct sb_request **b = realloc(st->b, (st->nb + 1) * sizeof *b);
		double **g = realloc(st->gaps, (st->nb + 1) * BLOCK * sizeof *g);
		if (b)
			st->b = b;
		if (g)
			st->gaps = g;
		if (!b || !g || !(st->b[st->nb] = calloc(BLOCK, sizeof **st->b)))
			return NULL;
		memset(st->gaps + st->nb * BLOCK, 0, BLOCK * sizeof *g);
		st->nb++;
	}
	size_t i = st->n++;
	return &st->b[i / BLOCK][i % BLOCK];
}

static struct sb_request *store_get(struct store *st, size_t i)
{
	return i < st->n ? &st->b[i / BLOCK][i % BLOCK] : NULL;
}

static void store_free(struct store *st)
{
	for (size_t i = 0; i < st->nb; i++)
		free(st->b[i]);
	for (size_t i = 0; i < st->nb * BLOCK; i++)
		free(st->gaps[i]);
	free(st->b);
	free(st->gaps);
	memset(st, 0, sizeof *st);
}

/* A gap of request q (rank 0 or the single process). */
static int add_gap(struct store *st, const struct sb_request *q, double gap)
{
	double **g = &st->gaps[q->id];
	if (!*g && !(*g = calloc((size_t)st->out + 1, sizeof **g)))
		return SB_ENOMEM;
	int k = q->tokens_out - 2; /* the gap before token tokens_out */
	if (k >= 0 && k < st->out)
		(*g)[k] = gap;
	return 0;
}

/* Wait until t (or a message): on a virtual clock jump there; else poll. */
static void idle_until(struct sb_comm *c, double t)
{
	if (c->be->spend && isfinite(t)) {
		double d = t - sb_comm_now(c);
		if (d > 0)
			c->be->spend(c, d);
	}
}

/* The load generator's configuration for this point's run. */
static void load_config(const struct infer *s, int timed, double t0, struct sb_load_config *lc)
{
	memset(lc, 0, sizeof *lc);
	lc->mode = s->cf.closed ? SB_LOAD_CLOSED : SB_LOAD_OPEN;
	lc->rate = s->rate;
	lc->burstiness = s->cf.burstiness;
	lc->concurrency = s->cf.concurrency;
	lc->seed = s->cf.seed;
	lc->prompt = sb_infer_len_dist(&s->prompt);
	lc->output = sb_infer_len_dist(&s->cf.output);
	/* --requests, or in an open loop as many as --duration takes at --rate if more (the
	 * arrivals' expected count: the run lasts about that long). */
	long n = timed ? (long)s->cf.requests : WARMUP;
	if (timed && !s->cf.closed && s->rate * s->cf.duration > (double)n)
		n = (long)ceil(s->rate * s->cf.duration);
	lc->max_requests = WARMUP + n;
	lc->duration = 0;
	lc->t0 = t0;
}

/* The single process: generator, batcher and model in one loop. */
static int serve_alone(struct sb_ctx *x, struct store *st)
{
	struct infer *s = x->state;
	struct sb_comm *c = x->comm;
	double t0 = sb_comm_now(c), tdue = INFINITY, tnext = INFINITY;
	struct sb_load_config lc;
	load_config(s, x->timed, t0, &lc);
	struct sb_loadgen g;
	int rc = sb_loadgen_init(&g, &lc);
	if (rc)
		return rc;
	struct sb_batcher *b = sb_batcher_create(
	    s->cf.continuous ? SB_BATCH_CONTINUOUS : SB_BATCH_DYNAMIC, s->B, s->cf.max_delay);
	struct sb_request **done = calloc((size_t)s->B + 1, sizeof *done);
	struct slots sl = {calloc((size_t)s->B, sizeof(long)), s->B};
	if (!b || !done || !sl.id)
		rc = SB_ENOMEM;
	for (int i = 0; rc == 0 && i < s->B; i++)
		sl.id[i] = -1;
	size_t completed = 0;
	long long plan[PLAN_MAX];
	while (rc == 0 && (completed < st->n || !sb_loadgen_exhausted(&g))) {
		double now = sb_comm_now(c);
		struct sb_request q;
		while (rc == 0 && sb_loadgen_next(&g, now, &q, &tdue)) {
			struct sb_request *p = store_add(st);
			if (!p) {
				rc = SB_ENOMEM;
				break;
			}
			*p = q;
			p->replica = 0;
			rc = sb_batcher_enqueue(b, p, now);
		}
		struct sb_step step;
		if (rc || !sb_batcher_plan(b, now, &step, &tnext)) {
			if (rc == 0 && completed == st->n && !isfinite(tdue))
				break; /* nothing due, nothing in flight */
			idle_until(c, fmin(tdue, tnext));
			continue;
		}
		fill_plan(&sl, &step, plan);
		double t_s = sb_comm_now(c), t_ar = 0;
		if ((rc = run_step(x, plan, &t_ar)))
			break;
		double t_e = sb_comm_now(c);
		account_step(s, x->timed, step.n, t_e - t_s, t_ar);
		int nd = sb_batcher_finish(b, &step, t_e, done);
		for (int i = 0; i < step.n && rc == 0; i++)
			if (!isnan(step.e[i].itl))
				rc = add_gap(st, step.e[i].req, step.e[i].itl);
		for (int i = 0; i < nd; i++) {
			slot_free(&sl, done[i]->id);
			if (s->cf.closed)
				sb_loadgen_complete(&g, t_e);
			completed++;
		}
	}
	free(sl.id);
	free(done);
	sb_batcher_destroy(b);
	sb_loadgen_free(&g);
	return rc;
}

/* Rank 0 of a job of several: generates the load and routes each request to the least-loaded
 * replica's leader, collects the completions. */
static int serve_dispatch(struct sb_ctx *x, struct store *st)
{
	struct infer *s = x->state;
	struct sb_comm *c = x->comm;
	double t0 = sb_comm_now(c), tdue = INFINITY;
	struct sb_load_config lc;
	load_config(s, x->timed, t0, &lc);
	struct sb_loadgen g;
	int rc = sb_loadgen_init(&g, &lc);
	if (rc)
		return rc;
	size_t *load = calloc((size_t)s->R, sizeof *load), completed = 0;
	size_t mlen = (size_t)(5 + s->cf.output.b);
	double *msg = calloc(mlen, sizeof *msg);
	struct sb_req *rq = NULL;
	struct sb_status stt;
	if (!load || !msg)
		rc = SB_ENOMEM;
	if (rc == 0)
		rc = sb_ctl_irecv(c, msg, mlen * sizeof *msg, SB_ANY_SOURCE, TAG_DONE, &rq);
	while (rc == 0 && (completed < st->n || !sb_loadgen_exhausted(&g))) {
		double now = sb_comm_now(c);
		struct sb_request q;
		while (rc == 0 && sb_loadgen_next(&g, now, &q, &tdue)) {
			struct sb_request *p = store_add(st);
			if (!p) {
				rc = SB_ENOMEM;
				break;
			}
			*p = q;
			int r = 0;
			for (int k = 1; k < s->R; k++)
				r = load[k] < load[r] ? k : r;
			p->replica = r;
			p->t_dispatch = now;
			load[r]++;
			double m[4] = {(double)p->id, p->prompt_tokens, p->output_tokens,
			               p->t_sched};
			struct sb_req *sq = NULL;
			if ((rc = sb_ctl_isend(c, m, sizeof m, 1 + r * s->T, TAG_REQ, &sq)) == 0)
				rc = sb_ctl_wait(c, &sq, NULL);
		}
		int got = 0;
		if (rc == 0)
			rc = sb_ctl_test(c, &rq, &got, &stt);
		if (rc || !got)
			continue;
		struct sb_request *p = store_get(st, (size_t)msg[0]);
		if (p) {
			p->t_start = msg[1];
			p->t_first = msg[2];
			p->t_done = msg[3];
			p->tokens_out = (int)msg[4];
			for (int k = 0; k + 1 < p->tokens_out && k < s->cf.output.b && rc == 0;
			     k++) {
				p->tokens_out = k + 2;
				rc = add_gap(st, p, msg[5 + k]);
			}
			p->tokens_out = (int)msg[4];
			load[p->replica]--;
			if (s->cf.closed)
				sb_loadgen_complete(&g, p->t_done);
			completed++;
		}
		if (rc == 0)
			rc = sb_ctl_irecv(c, msg, mlen * sizeof *msg, SB_ANY_SOURCE, TAG_DONE, &rq);
	}
	if (rq)
		sb_ctl_cancel(c, &rq);
	for (int r = 0; rc == 0 && r < s->R; r++) {
		double m[4] = {-1, 0, 0, 0};
		struct sb_req *sq = NULL;
		if ((rc = sb_ctl_isend(c, m, sizeof m, 1 + r * s->T, TAG_STOP, &sq)) == 0)
			rc = sb_ctl_wait(c, &sq, NULL);
	}
	free(msg);
	free(load);
	sb_loadgen_free(&g);
	return rc;
}

/* A replica's ranks: the leader takes requests from rank 0, batches them and tells its group
 * each step (a control-plane sum); every rank of the group runs the step. */
static int serve_replica(struct sb_ctx *x, double off)
{
	struct infer *s = x->state;
	struct sb_comm *c = x->comm;
	int rc = 0, stop = 0;
	struct sb_batcher *b = NULL;
	struct sb_request **done = NULL;
	struct slots sl = {NULL, s->B};
	struct store st = {.out = s->cf.output.b};
	double **gaps = NULL, m[4], *out = NULL;
	struct sb_req *rq = NULL;
	struct sb_status stt;
	if (s->leader) {
		b = sb_batcher_create(s->cf.continuous ? SB_BATCH_CONTINUOUS : SB_BATCH_DYNAMIC,
		                      s->B, s->cf.max_delay);
		done = calloc((size_t)s->B + 1, sizeof *done);
		sl.id = calloc((size_t)s->B, sizeof(long));
		gaps = calloc((size_t)s->B, sizeof *gaps);
		out = calloc((size_t)(5 + s->cf.output.b), sizeof *out);
		if (!b || !done || !sl.id || !gaps || !out)
			rc = SB_ENOMEM;
		for (int i = 0; rc == 0 && i < s->B; i++) {
			sl.id[i] = -1;
			if (!(gaps[i] = calloc((size_t)s->cf.output.b + 1, sizeof **gaps)))
				rc = SB_ENOMEM;
		}
		if (rc == 0)
			rc = sb_ctl_irecv(c, m, sizeof m, 0, SB_ANY_TAG, &rq);
	}
	long long plan[PLAN_MAX + 1];
	for (;;) {
		memset(plan, 0, sizeof plan);
		struct sb_step step = {0};
		double now = sb_comm_now(c), tnext;
		if (s->leader && rc == 0) {
			int got = 0;
			while (rc == 0 && !stop && (rc = sb_ctl_test(c, &rq, &got, &stt)) == 0 &&
			       got) {
				if (stt.tag == TAG_STOP) {
					stop = 1;
					break;
				}
				struct sb_request *p = store_add(&st);
				if (!p) {
					rc = SB_ENOMEM;
					break;
				}
				*p = (struct sb_request){.id = (long)m[0],
				                         .prompt_tokens = (int)m[1],
				                         .output_tokens = (int)m[2],
				                         .t_sched = m[3] - off,
				                         .t_dispatch = NAN,
				                         .t_start = NAN,
				                         .t_first = NAN,
				                         .t_done = NAN,
				                         .t_last = NAN,
				                         .replica = s->replica};
				if ((rc = sb_batcher_enqueue(b, p, now)) == 0)
					rc = sb_ctl_irecv(c, m, sizeof m, 0, SB_ANY_TAG, &rq);
			}
			if (rc == 0 && sb_batcher_plan(b, now, &step, &tnext)) {
				plan[0] = 1;
				fill_plan(&sl, &step, plan + 1);
			} else if (rc == 0 && stop && sb_batcher_load(b) == 0) {
				plan[0] = 2;
			}
			if (rc)
				plan[0] = 3; /* a fault: the group stops with it */
		}
		if (s->T > 1) {
			int r2 = sb_ctl_sum(&s->tp, plan, (size_t)PLAN_MAX + 1);
			rc = rc ? rc : r2;
		}
		if (rc || plan[0] >= 2)
			break;
		if (plan[0] == 0)
			continue;
		double t_s = sb_comm_now(c), t_ar = 0;
		if ((rc = run_step(x, plan + 1, &t_ar)))
			break;
		if (!s->leader)
			continue;
		double t_e = sb_comm_now(c);
		account_step(s, x->timed, step.n, t_e - t_s, t_ar);
		int nd = sb_batcher_finish(b, &step, t_e, done);
		for (int i = 0; i < step.n; i++) {
			int slot = slot_of(&sl, step.e[i].req->id);
			int k = step.e[i].req->tokens_out - 2;
			if (slot >= 0 && k >= 0 && k < s->cf.output.b && !isnan(step.e[i].itl))
				gaps[slot][k] = step.e[i].itl;
		}
		for (int i = 0; i < nd && rc == 0; i++) {
			int slot = slot_of(&sl, done[i]->id);
			int ng = done[i]->tokens_out - 1;
			size_t len = done_msg(done[i], slot >= 0 ? gaps[slot] : NULL,
			                      slot >= 0 ? ng : 0, off, out);
			slot_free(&sl, done[i]->id);
			struct sb_req *sq = NULL;
			if ((rc = sb_ctl_isend(c, out, len, 0, TAG_DONE, &sq)) == 0)
				rc = sb_ctl_wait(c, &sq, NULL);
		}
	}
	if (rq)
		sb_ctl_cancel(c, &rq);
	for (int i = 0; gaps && i < s->B; i++)
		free(gaps[i]);
	free(gaps);
	free(out);
	free(sl.id);
	free(done);
	sb_batcher_destroy(b);
	store_free(&st);
	return rc;
}

/* Rank 0 after a timed run: the series of the measured requests and the run's figures. */
static int record(struct sb_ctx *x, struct store *st)
{
	struct infer *s = x->state;
	struct sb_request *all = malloc((st->n ? st->n : 1) * sizeof *all);
	double *itl = NULL;
	size_t nitl = 0;
	if (!all)
		return SB_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < st->n && rc == 0; i++) {
		const struct sb_request *q = store_get(st, i);
		all[i] = *q;
		if (q->id < WARMUP || isnan(q->t_done))
			continue;
		if (q->tokens_out != q->output_tokens)
			s->bad_tokens++; /* every request gets exactly its output tokens */
		double ttft = q->t_first - q->t_sched, e2e = q->t_done - q->t_sched;
		if ((rc = sb_series_add(&s->s[S_TTFT], ttft)) ||
		    (rc = sb_series_add(&s->s[S_E2E], e2e)) ||
		    (rc = sb_series_add(&s->s[S_QUEUE], q->t_start - q->t_sched)))
			break;
		if (q->output_tokens > 1)
			rc = sb_series_add(&s->s[S_TPOT], (e2e - ttft) / (q->output_tokens - 1));
		for (int k = 0; st->gaps[i] && k + 1 < q->tokens_out && rc == 0; k++)
			rc = sb_series_add(&s->s[S_ITL], st->gaps[i][k]);
	}
	if (rc == 0) {
		itl = s->s[S_ITL].v;
		nitl = s->s[S_ITL].n;
		rc = sb_infer_metrics_compute(all, st->n, WARMUP, itl, nitl, s->cf.slo_ttft,
		                              s->cf.slo_tpot, &s->m);
		s->have_m = rc == 0;
	}
	free(all);
	return rc;
}

static int infer_step(struct sb_ctx *x, const struct sb_point *pt)
{
	struct infer *s = x->state;
	struct sb_comm *c = x->comm;
	(void)pt;
	struct store st = {.out = s->cf.output.b};
	int rc;
	if (c->size == 1) {
		rc = serve_alone(x, &st);
		if (rc == 0 && x->timed)
			rc = record(x, &st);
		store_free(&st);
		memcpy(s->fig, s->acc, sizeof s->fig);
		s->fig[F_GEMM] = s->gemm_rate;
		s->fig[F_COPY] = s->copy_rate;
		return rc;
	}
	double off = 0;
	if ((rc = sb_ctl_clock_offset(c, 0, &off, NULL)))
		return rc;
	if (c->rank == 0)
		rc = serve_dispatch(x, &st);
	else
		rc = serve_replica(x, off);
	long long bad = rc != 0;
	int r2 = sb_ctl_sum(c, &bad, 1);
	if (rc || r2 || bad) {
		store_free(&st);
		return rc ? rc : r2 ? r2 : SB_ECOMM;
	}
	if (c->rank == 0 && x->timed)
		rc = record(x, &st);
	store_free(&st);
	/* Replica 0's step figures and every leader's batch sizes, at rank 0. */
	int mine = s->leader && s->replica == 0;
	double v[F_COUNT] = {0};
	if (mine) {
		memcpy(v, s->acc, sizeof v);
		v[F_GEMM] = s->gemm_rate;
		v[F_COPY] = s->copy_rate;
	}
	long long *h = calloc((size_t)s->B + 1, sizeof *h);
	if (!h)
		rc = SB_ENOMEM;
	for (int i = 0; h && i <= s->B && s->leader; i++)
		h[i] = s->hist[i];
	bad = rc != 0;
	r2 = sb_ctl_sum(c, &bad, 1);
	if (rc == 0 && r2 == 0 && !bad && (rc = sb_ctl_max(c, v, F_COUNT)) == 0 &&
	    (rc = sb_ctl_sum(c, h, (size_t)s->B + 1)) == 0 && c->rank == 0) {
		memcpy(s->fig, v, sizeof v);
		memcpy(s->hist, h, ((size_t)s->B + 1) * sizeof *h);
	}
	free(h);
	return rc ? rc : r2 ? r2 : bad ? SB_ENOMEM : 0;
}

/* The check (-c), outside the timed requests: each replica's TP group runs a prefill and a few
 * decode steps sharded and its rank 0 the same unsharded (infer_model.h), and every measured
 * request must have got exactly its output tokens. Not on a virtual clock: no model runs. */
static int infer_check(struct sb_ctx *x, const struct sb_point *pt, unsigned iter, size_t *wrong)
{
	struct infer *s = x->state;
	struct sb_comm *c = x->comm;
	(void)pt;
	*wrong = 0;
	int rc = 0;
	if (s->replica >= 0 && !c->be->spend) {
		double err = 0;
		int batch = s->B < 4 ? s->B : 4;
		void *stream = model_stream(s, c);
		if (stream) {
#ifdef SB_HAVE_CUDA
			rc = sb_model_gpu_check(tp_comm(s, c), &s->shape, s->cf.seed + iter, batch,
			                        8, 3, stream, &err);
#else
			rc = SB_ENOTSUP;
#endif
		} else
			rc = sb_model_check(tp_comm(s, c), &s->shape, s->cf.seed + iter, batch, 8,
			                    3, &err);
		if (rc == SB_ECHECK) {
			sb_log_fault("infer: replica %d's sharded step differs from the unsharded "
			             "one by %.3g of its largest value",
			             s->replica, err);
			*wrong = 1;
			rc = 0;
		}
	}
	if (c->rank == 0)
		*wrong += (size_t)s->bad_tokens;
	return rc;
}

/* The step figures against the ceilings: FLOP/s and B/s achieved, their fractions of the GEMM
 * rate and the copy bandwidth, and the time over the time at the ceilings (1 = the hardware's
 * limit, per step the larger of FLOPs / GEMM rate and bytes / copy rate). */
static json_t *step_json(const double *f)
{
	double t = f[F_TIME];
	json_t *o =
	    json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "steps", f[F_STEPS], "time", t, "allreduce",
	              f[F_AR], "flops", f[F_FLOPS], "bytes", f[F_BYTES], "flop_rate",
	              t > 0 ? f[F_FLOPS] / t : 0.0, "byte_rate", t > 0 ? f[F_BYTES] / t : 0.0);
	if (o) {
		json_object_set_new(o, "tokens", json_real(f[F_TOKENS]));
		json_object_set_new(o, "allreduce_elements", json_real(f[F_AR_ELEMS]));
	}
	if (o && f[F_GEMM] > 0 && f[F_COPY] > 0 && t > 0 && f[F_BOUND] > 0) {
		json_object_set_new(o, "gemm_rate", json_real(f[F_GEMM]));
		json_object_set_new(o, "copy_rate", json_real(f[F_COPY]));
		json_object_set_new(o, "flop_fraction", json_real(f[F_FLOPS] / t / f[F_GEMM]));
		json_object_set_new(o, "byte_fraction", json_real(f[F_BYTES] / t / f[F_COPY]));
		json_object_set_new(o, "bound_time", json_real(f[F_BOUND]));
		json_object_set_new(o, "over_bound", json_real(t / f[F_BOUND]));
	}
	return o;
}

/* The point's figures (rank 0; NAN elsewhere and for names only). */
static int infer_metrics(struct sb_ctx *x, const struct sb_point *pt, const struct sb_summary *sum,
                         struct sb_metrics *m)
{
	struct infer *s = x->state;
	(void)pt, (void)sum;
	int ok = s && s->have_m && x->comm->rank == 0;
	const struct sb_infer_metrics *im = ok ? &s->m : NULL;
	double share = ok && s->fig[F_TIME] > 0 ? s->fig[F_AR] / s->fig[F_TIME] : NAN;
	struct {
		const char *name, *unit;
		double v;
	} f[] = {
	    {"requests_per_s", "1/s", im ? im->req_per_s : NAN},
	    {"tokens_per_s", "1/s", im ? im->tok_per_s : NAN},
	    {"goodput", "1/s", im ? im->goodput : NAN},
	    {"ttft_p50", "s", im ? im->ttft.p50 : NAN},
	    {"ttft_p99", "s", im ? im->ttft.p99 : NAN},
	    {"tpot_p50", "s", im ? im->tpot.p50 : NAN},
	    {"tpot_p99", "s", im ? im->tpot.p99 : NAN},
	    {"e2e_p90", "s", im ? im->e2e.p90 : NAN},
	    {"allreduce_share", "1", share},
	    {"step_over_bound", "1",
	     ok && s->fig[F_BOUND] > 0 ? s->fig[F_TIME] / s->fig[F_BOUND] : NAN},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof f / sizeof *f && rc == 0; i++)
		rc = sb_metric_add(m, f[i].name, f[i].unit, f[i].v);
	if (rc || !ok)
		return rc;
	/* The record's detail: every series with MLPerf's counts, rates, batches, the step. */
	json_t *d = json_object(), *lat = json_object(), *hist = json_array();
	const struct sb_infer_series *ser[] = {&im->ttft, &im->tpot, &im->e2e, &im->queue,
	                                       &im->itl};
	const char *names[] = {"ttft", "tpot", "e2e", "queue", "itl"};
	for (int j = 0; j < 5; j++) {
		json_t *o = json_pack("{s:I,s:f}", "n", (json_int_t)ser[j]->n, "mean",
		                      isfinite(ser[j]->mean) ? ser[j]->mean : 0.0);
		const double pv[3] = {ser[j]->p50, ser[j]->p90, ser[j]->p99};
		const char *pn[3] = {"p50", "p90", "p99"};
		for (int k = 0; k < 3; k++)
			json_object_set_new(o, pn[k],
			                    isfinite(pv[k]) ? json_real(pv[k]) : json_null());
		json_object_set_new(o, "p90_missing",
		                    json_integer((json_int_t)ser[j]->p90_missing));
		json_object_set_new(o, "p99_missing",
		                    json_integer((json_int_t)ser[j]->p99_missing));
		json_object_set_new(lat, names[j], o);
	}
	for (int i = 0; i <= s->B; i++)
		json_array_append_new(hist, json_integer(s->hist[i]));
	json_object_set_new(d, "latency", lat);
	json_object_set_new(d, "load",
	                    json_pack("{s:I,s:I,s:f,s:f,s:f,s:I}", "issued", (json_int_t)im->issued,
	                              "completed", (json_int_t)im->completed, "offered_rate",
	                              im->offered_rate, "achieved_rate", im->achieved_rate,
	                              "window", im->window, "good", (json_int_t)im->good));
	json_object_set_new(d, "batch_sizes", hist);
	json_object_set_new(d, "step", step_json(s->fig));
	json_object_set_new(
	    d, "roles",
	    json_pack("{s:i,s:i,s:s,s:s}", "replicas", s->R, "tp", s->T, "generator",
	              x->comm->size == 1 ? "rank 0, also the only replica" : "rank 0", "prefill",
	              s->cf.continuous ? "separate prefill step" : "batch prefill"));
	json_object_set_new(d, "model",
	                    x->comm->be->spend
	                        ? json_pack("{s:s,s:f,s:f}", "kind", "virtual cost", "per_step",
	                                    s->step_a, "per_token", s->step_b)
	                        : json_pack("{s:s,s:i,s:i,s:i,s:i}", "kind",
	                                    model_elem(x->comm) == 2
	                                        ? "bf16 cuBLAS, float32 accumulation"
	                                        : "float32 OpenBLAS",
	                                    "hidden", s->shape.hidden, "ffn", s->shape.ffn, "heads",
	                                    s->shape.heads, "layers", s->shape.layers));
	x->detail = json_pack("{s:o}", "infer", d);
	return 0;
}

static void infer_teardown(struct sb_ctx *x)
{
	struct infer *s = x->state;
	if (!s)
		return;
	model_free(s);
	if (s->have_tp)
		sb_comm_free(&s->tp);
	for (int j = 0; j < S_COUNT; j++)
		sb_series_free(&s->s[j]);
	free(s->hist);
	free(s->x);
	free(s);
	x->state = NULL;
}

/* A serving rank's model memory for pt with `layers` layers: its shard's weights and KV cache
 * (B slots of the longest prompt and output), the step's scratch (the largest prefill: B
 * prompts, activations of H, 3H/T, H/T, F/T and H wide, and one request's attention scores),
 * and with -c the unsharded model the check runs beside it on the group's first rank. */
static double model_need(struct sb_ctx *x, const struct sb_point *pt, int layers)
{
	struct infer *s = x->state;
	struct sb_infer_len pl;
	point_prompt(pt, &pl);
	struct sb_model_shape sh = s->shape;
	sh.layers = layers;
	double T = (double)sb_param_int(pt, "tp"), B = (double)sb_param_int(pt, "batch");
	double ctx = pl.b + s->cf.output.b, H = sh.hidden, F = sh.ffn;
	double elem = (double)model_elem(x->comm);
	double need = sb_model_weight_bytes(&sh, (int)T, (size_t)elem) +
	              layers * B * 2 * ctx * (H / T) * elem;
	need += 4 * (B * pl.b * (2 * H + 4 * H / T + F / T) + pl.b * ctx);
	if (sb_arg_given(x->args, "check"))
		need += sb_model_weight_bytes(&sh, 1, (size_t)elem);
	return need;
}

static size_t infer_mem_need(struct sb_ctx *x, const struct sb_point *pt)
{
	struct infer *s = x->state;
	return x->comm->be->spend ? 0 : (size_t)model_need(x, pt, s->shape.layers);
}

static void infer_mem_hint(struct sb_ctx *x, const struct sb_point *pt, double limit, char *buf,
                           size_t len)
{
	struct infer *s = x->state;
	int fit = 0;
	for (int l = 1; l <= s->shape.layers && model_need(x, pt, l) <= limit; l++)
		fit = l;
	if (fit)
		snprintf(buf, len, "--layers %d fits (of %d)", fit, s->shape.layers);
	else
		snprintf(buf, len,
		         "not even one layer fits: a smaller --batch or fewer tokens, or a larger "
		         "--tp");
}

static const struct sb_column infer_columns[] = {
    {"rate", "rate", 7, NULL, NULL},
    {"conc", "concurrency", 5, NULL, NULL},
    {"B", "batch", 4, NULL, NULL},
    {"T", "tp", 3, NULL, NULL},
    {"prompt", "prompt_tokens", 7, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL},
};

const struct sb_bench sb_bench_infer = {
    .name = "infer",
    .summary = "LLM inference serving: load generator, batching replicas, tensor-parallel steps",
    .min_ranks = 1,
    .flags = SB_BENCH_SELF_TIMED | SB_BENCH_CAN_CHECK,
    .validity = {SB_VALID_DURATION, 0, 1},
    .opts = sb_infer_opts,
    .columns = infer_columns,
    .validate = infer_validate,
    .setup = infer_setup,
    .points = infer_points,
    .prepare = infer_prepare,
    .step = infer_step,
    .check = infer_check,
    .metrics = infer_metrics,
    .teardown = infer_teardown,
    .mem_need = infer_mem_need,
    .mem_hint = infer_mem_hint,
};
