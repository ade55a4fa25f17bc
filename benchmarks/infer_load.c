/* The inference benchmark's load generator, batchers, metrics and simulator (infer_load.h). */
#include "infer_load.h"

#include "error.h"
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Load generator ---- */

/* Standard normal by Box-Muller (one of the pair; the other is dropped to keep no state). */
static double rng_normal(struct sb_rng *r)
{
	double u1 = 1.0 - sb_rng_uniform(r); /* (0, 1]: log stays finite */
	double u2 = sb_rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Marsaglia and Tsang, "A simple method for generating gamma variables" (2000): for shape
 * a >= 1, d = a - 1/3, c = 1/sqrt(9d); v = (1 + c x)^3 with x normal, accept d v when
 * log U < x^2/2 + d - d v + d log v. For a < 1, Gamma(a) = Gamma(a + 1) U^(1/a). */
double sb_infer_gamma(struct sb_rng *r, double shape, double scale)
{
	if (shape < 1.0) {
		double u = 1.0 - sb_rng_uniform(r);
		return sb_infer_gamma(r, shape + 1.0, scale) * pow(u, 1.0 / shape);
	}
	double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
	for (;;) {
		double x = rng_normal(r), v = 1.0 + c * x;
		if (v <= 0)
			continue;
		v = v * v * v;
		double u = 1.0 - sb_rng_uniform(r);
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v * scale;
	}
}

static int len_valid(const struct sb_len_dist *l)
{
	switch (l->kind) {
	case SB_LEN_FIXED:
		return l->a >= 1;
	case SB_LEN_UNIFORM:
		return l->a >= 1 && l->b >= l->a;
	case SB_LEN_LIST:
		if (!l->list || l->nlist == 0)
			return 0;
		for (size_t i = 0; i < l->nlist; i++)
			if (l->list[i] < 1)
				return 0;
		return 1;
	}
	return 0;
}

static int len_draw(const struct sb_len_dist *l, struct sb_rng *r)
{
	switch (l->kind) {
	case SB_LEN_UNIFORM:
		return l->a + (int)sb_rng_below(r, (uint64_t)(l->b - l->a) + 1);
	case SB_LEN_LIST:
		return l->list[sb_rng_below(r, l->nlist)];
	case SB_LEN_FIXED:
		break;
	}
	return l->a;
}

static double open_gap(struct sb_loadgen *g)
{
	double k = g->cfg.burstiness, R = g->cfg.rate;
	if (k == 1.0)
		return sb_rng_exponential(&g->gaps, 1.0 / R);
	return sb_infer_gamma(&g->gaps, k, 1.0 / (k * R));
}

int sb_loadgen_init(struct sb_loadgen *g, const struct sb_load_config *cfg)
{
	memset(g, 0, sizeof(*g));
	if (!len_valid(&cfg->prompt) || !len_valid(&cfg->output) || cfg->max_requests < 0 ||
	    !(cfg->duration >= 0) || !isfinite(cfg->t0))
		return SB_EINVAL;
	g->cfg = *cfg;
	if (g->cfg.burstiness == 0)
		g->cfg.burstiness = 1.0;
	sb_rng_seed(&g->gaps, cfg->seed, 0);
	sb_rng_seed(&g->prompt, cfg->seed, 1);
	sb_rng_seed(&g->output, cfg->seed, 2);
	switch (cfg->mode) {
	case SB_LOAD_OPEN:
		if (!(cfg->rate > 0) || !isfinite(cfg->rate) || !(g->cfg.burstiness > 0))
			return SB_EINVAL;
		g->t_next = cfg->t0 + open_gap(g);
		return 0;
	case SB_LOAD_CLOSED:
		if (cfg->concurrency < 1)
			return SB_EINVAL;
		g->pending = malloc(sizeof(double) * (size_t)cfg->concurrency);
		if (!g->pending)
			return SB_ENOMEM;
		for (int i = 0; i < cfg->concurrency; i++)
			g->pending[i] = cfg->t0;
		g->count = (size_t)cfg->concurrency;
		return 0;
	case SB_LOAD_TRACE:
		if (cfg->ntimes && !cfg->times)
			return SB_EINVAL;
		for (size_t i = 1; i < cfg->ntimes; i++)
			if (!(cfg->times[i] >= cfg->times[i - 1]))
				return SB_EINVAL;
		return 0;
	}
	return SB_EINVAL;
}

void sb_loadgen_free(struct sb_loadgen *g)
{
	free(g->pending);
	g->pending = NULL;
}

/* The time of the next scheduled request, INFINITY when none is known. */
static double next_time(const struct sb_loadgen *g)
{
	if (g->cfg.max_requests && g->issued >= g->cfg.max_requests)
		return INFINITY;
	double t;
	switch (g->cfg.mode) {
	case SB_LOAD_OPEN:
		t = g->t_next;
		break;
	case SB_LOAD_CLOSED:
		t = g->count ? g->pending[g->head] : INFINITY;
		break;
	case SB_LOAD_TRACE:
		t = (size_t)g->issued < g->cfg.ntimes ? g->cfg.times[g->issued] : INFINITY;
		break;
	default:
		t = INFINITY;
	}
	if (g->cfg.duration > 0 && t > g->cfg.t0 + g->cfg.duration)
		return INFINITY;
	return t;
}

int sb_loadgen_exhausted(const struct sb_loadgen *g)
{
	if (g->cfg.max_requests && g->issued >= g->cfg.max_requests)
		return 1;
	switch (g->cfg.mode) {
	case SB_LOAD_OPEN:
		return g->cfg.duration > 0 && g->t_next > g->cfg.t0 + g->cfg.duration;
	case SB_LOAD_CLOSED:
		/* Waiting for a completion is not the end; past the duration it is. */
		return g->count && g->cfg.duration > 0 &&
		       g->pending[g->head] > g->cfg.t0 + g->cfg.duration;
	case SB_LOAD_TRACE:
		return (size_t)g->issued >= g->cfg.ntimes ||
		       (g->cfg.duration > 0 &&
		        g->cfg.times[g->issued] > g->cfg.t0 + g->cfg.duration);
	}
	return 1;
}

int sb_loadgen_next(struct sb_loadgen *g, double now, struct sb_request *req, double *t_due)
{
	double t = next_time(g);
	if (!(t <= now)) {
		*t_due = t;
		return 0;
	}
	if (g->cfg.mode == SB_LOAD_OPEN) {
		g->t_next = t + open_gap(g);
	} else if (g->cfg.mode == SB_LOAD_CLOSED) {
		g->head = (g->head + 1) % (size_t)g->cfg.concurrency;
		g->count--;
	}
	req->id = g->issued++;
	req->prompt_tokens = len_draw(&g->cfg.prompt, &g->prompt);
	req->output_tokens = len_draw(&g->cfg.output, &g->output);
	req->t_sched = t;
	req->t_dispatch = req->t_start = req->t_first = req->t_done = req->t_last = NAN;
	req->tokens_out = 0;
	req->replica = -1;
	return 1;
}

void sb_loadgen_complete(struct sb_loadgen *g, double t_done)
{
	if (g->cfg.mode != SB_LOAD_CLOSED || g->count >= (size_t)g->cfg.concurrency)
		return;
	g->pending[(g->head + g->count) % (size_t)g->cfg.concurrency] = t_done;
	g->count++;
}

/* ---- Batchers ---- */

struct sb_batcher {
	enum sb_batching kind;
	int B;
	double D;
	struct sb_request **q; /* waiting: ring of qcap */
	size_t qhead, qlen, qcap;
	struct sb_request **run; /* in flight, up to B */
	int nrun;
	struct sb_step_entry *e; /* the planned step's entries, B */
	int busy;
};

struct sb_batcher *sb_batcher_create(enum sb_batching kind, int max_batch, double max_delay)
{
	if (max_batch < 1 || !(max_delay >= 0) ||
	    (kind != SB_BATCH_DYNAMIC && kind != SB_BATCH_CONTINUOUS))
		return NULL;
	struct sb_batcher *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->kind = kind;
	b->B = max_batch;
	b->D = max_delay;
	b->run = calloc((size_t)max_batch, sizeof(*b->run));
	b->e = calloc((size_t)max_batch, sizeof(*b->e));
	if (!b->run || !b->e) {
		sb_batcher_destroy(b);
		return NULL;
	}
	return b;
}

void sb_batcher_destroy(struct sb_batcher *b)
{
	if (!b)
		return;
	free(b->q);
	free(b->run);
	free(b->e);
	free(b);
}

int sb_batcher_enqueue(struct sb_batcher *b, struct sb_request *req, double now)
{
	if (b->qlen == b->qcap) {
		size_t cap = b->qcap ? 2 * b->qcap : 64;
		struct sb_request **q = malloc(cap * sizeof(*q));
		if (!q)
			return SB_ENOMEM;
		for (size_t i = 0; i < b->qlen; i++)
			q[i] = b->q[(b->qhead + i) % b->qcap];
		free(b->q);
		b->q = q;
		b->qcap = cap;
		b->qhead = 0;
	}
	b->q[(b->qhead + b->qlen) % b->qcap] = req;
	b->qlen++;
	req->t_dispatch = now;
	return 0;
}

size_t sb_batcher_load(const struct sb_batcher *b)
{
	return b->qlen + (size_t)b->nrun;
}

static struct sb_request *queue_pop(struct sb_batcher *b)
{
	struct sb_request *r = b->q[b->qhead];
	b->qhead = (b->qhead + 1) % b->qcap;
	b->qlen--;
	return r;
}

/* Fill the step from the in-flight requests: the unprefilled ones (prefill) or all (decode). */
static void fill_step(struct sb_batcher *b, int prefill, double now, struct sb_step *out)
{
	out->prefill = prefill;
	out->n = 0;
	out->tokens = 0;
	out->inflight = b->nrun;
	out->e = b->e;
	for (int i = 0; i < b->nrun; i++) {
		struct sb_request *r = b->run[i];
		if (prefill != (r->tokens_out == 0))
			continue;
		struct sb_step_entry *e = &b->e[out->n++];
		e->req = r;
		if (prefill) {
			e->tokens = r->prompt_tokens;
			e->context = r->prompt_tokens;
			r->t_start = now;
		} else {
			/* Feeds its latest token, which joins the KV cache. */
			e->tokens = 1;
			e->context = r->prompt_tokens + r->tokens_out;
		}
		e->itl = NAN;
		out->tokens += e->tokens;
	}
	b->busy = 1;
}

int sb_batcher_plan(struct sb_batcher *b, double now, struct sb_step *out, double *t_next)
{
	*t_next = INFINITY;
	if (b->busy)
		return 0;
	if (b->kind == SB_BATCH_DYNAMIC) {
		if (b->nrun) { /* the batch runs to completion before another forms */
			fill_step(b, 0, now, out);
			return 1;
		}
		if (!b->qlen)
			return 0;
		double due = b->q[b->qhead]->t_dispatch + b->D;
		if (b->qlen < (size_t)b->B && now < due) {
			*t_next = due;
			return 0;
		}
		while (b->qlen && b->nrun < b->B)
			b->run[b->nrun++] = queue_pop(b);
		fill_step(b, 1, now, out);
		return 1;
	}
	/* Continuous: join at this boundary, then a separate prefill step for the joiners. */
	while (b->qlen && b->nrun < b->B)
		b->run[b->nrun++] = queue_pop(b);
	if (!b->nrun)
		return 0;
	int unprefilled = 0;
	for (int i = 0; i < b->nrun; i++)
		unprefilled += b->run[i]->tokens_out == 0;
	fill_step(b, unprefilled > 0, now, out);
	return 1;
}

int sb_batcher_finish(struct sb_batcher *b, struct sb_step *step, double t_end,
                      struct sb_request **done)
{
	int ndone = 0;
	for (int i = 0; i < step->n; i++) {
		struct sb_step_entry *e = &step->e[i];
		struct sb_request *r = e->req;
		if (r->tokens_out == 0)
			r->t_first = t_end;
		else
			e->itl = t_end - r->t_last;
		r->tokens_out++;
		r->t_last = t_end;
		if (r->tokens_out >= r->output_tokens) {
			r->t_done = t_end;
			done[ndone++] = r;
		}
	}
	/* Drop the finished ones from the in-flight set, keeping the others' order. */
	int k = 0;
	for (int i = 0; i < b->nrun; i++)
		if (!(b->run[i]->tokens_out >= b->run[i]->output_tokens))
			b->run[k++] = b->run[i];
	b->nrun = k;
	b->busy = 0;
	return ndone;
}

/* ---- Metrics ---- */

struct dvec {
	double *v;
	size_t n, cap;
};

static int dvec_push(struct dvec *d, double x)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		double *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return SB_ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = x;
	return 0;
}

/* Summarise v[0..n-1] (sorted in place). */
static void series_fill(double *v, size_t n, struct sb_infer_series *s)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->mean = s->p50 = s->p90 = s->p99 = NAN;
	s->p90_missing = n < SB_INFER_MIN_P90 ? SB_INFER_MIN_P90 - n : 0;
	s->p99_missing = n < SB_INFER_MIN_P99 ? SB_INFER_MIN_P99 - n : 0;
	if (!n)
		return;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s->mean = sum / (double)n;
	sb_stats_sort(v, n);
	s->p50 = sb_stats_percentile(v, n, 50);
	if (!s->p90_missing)
		s->p90 = sb_stats_percentile(v, n, 90);
	if (!s->p99_missing)
		s->p99 = sb_stats_percentile(v, n, 99);
}

int sb_infer_metrics_compute(const struct sb_request *reqs, size_t n, long warmup,
                             const double *itl, size_t nitl, double slo_ttft, double slo_tpot,
                             struct sb_infer_metrics *m)
{
	memset(m, 0, sizeof(*m));
	double *buf = malloc(sizeof(double) * (4 * n + nitl + 1));
	if (!buf)
		return SB_ENOMEM;
	double *ttft = buf, *tpot = buf + n, *e2e = buf + 2 * n, *queue = buf + 3 * n,
	       *gaps = buf + 4 * n;
	size_t nc = 0, ntpot = 0;
	double s_first = INFINITY, s_last = -INFINITY, t_end = -INFINITY, tokens = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sb_request *r = &reqs[i];
		if (r->id < warmup)
			continue;
		m->issued++;
		s_first = fmin(s_first, r->t_sched);
		s_last = fmax(s_last, r->t_sched);
		if (isnan(r->t_done))
			continue;
		double a = r->t_first - r->t_sched, e = r->t_done - r->t_sched;
		ttft[nc] = a;
		e2e[nc] = e;
		queue[nc] = r->t_start - r->t_sched;
		nc++;
		double p = NAN;
		if (r->output_tokens > 1) {
			p = (e - a) / (r->output_tokens - 1);
			tpot[ntpot++] = p;
		}
		t_end = fmax(t_end, r->t_done);
		tokens += r->output_tokens;
		if ((slo_ttft <= 0 || a <= slo_ttft) &&
		    (slo_tpot <= 0 || isnan(p) || p <= slo_tpot))
			m->good++;
	}
	if (nitl)
		memcpy(gaps, itl, nitl * sizeof(double));
	m->completed = nc;
	series_fill(ttft, nc, &m->ttft);
	series_fill(tpot, ntpot, &m->tpot);
	series_fill(e2e, nc, &m->e2e);
	series_fill(queue, nc, &m->queue);
	series_fill(gaps, nitl, &m->itl);
	free(buf);
	m->t_begin = m->issued ? s_first : NAN;
	m->t_end = nc ? t_end : NAN;
	m->window = nc ? t_end - s_first : NAN;
	double w = m->window > 0 ? m->window : NAN;
	m->req_per_s = m->achieved_rate = (double)nc / w;
	m->tok_per_s = tokens / w;
	m->goodput = (double)m->good / w;
	m->offered_rate =
	    m->issued > 1 && s_last > s_first ? (double)(m->issued - 1) / (s_last - s_first) : NAN;
	return 0;
}

/* ---- Simulator ---- */

/* Requests live in fixed blocks so the batchers' pointers survive growth. */
#define SIM_BLOCK 4096

struct sim {
	struct sb_request **blocks;
	size_t nblocks, n;
};

static struct sb_request *sim_new(struct sim *s)
{
	if (s->n == s->nblocks * SIM_BLOCK) {
		struct sb_request **b = realloc(s->blocks, (s->nblocks + 1) * sizeof(*b));
		if (!b)
			return NULL;
		s->blocks = b;
		b[s->nblocks] = malloc(SIM_BLOCK * sizeof(struct sb_request));
		if (!b[s->nblocks])
			return NULL;
		s->nblocks++;
	}
	struct sb_request *r = &s->blocks[s->n / SIM_BLOCK][s->n % SIM_BLOCK];
	s->n++;
	return r;
}

struct replica {
	struct sb_batcher *b;
	struct sb_step step;
	int busy;
	double t_end, t_wake;
};

void sb_sim_result_free(struct sb_sim_result *out)
{
	free(out->reqs);
	free(out->itl);
	free(out->batch_hist);
	memset(out, 0, sizeof(*out));
}

int sb_infer_simulate(const struct sb_sim_config *cfg, sb_step_cost_fn cost, void *cost_arg,
                      sb_step_observe_fn observe, void *observe_arg, struct sb_sim_result *out)
{
	memset(out, 0, sizeof(*out));
	if (cfg->replicas < 1 || cfg->batch < 1 || !cost ||
	    (cfg->load.mode != SB_LOAD_TRACE && !cfg->load.max_requests &&
	     !(cfg->load.duration > 0)))
		return SB_EINVAL; /* a load without a bound would never drain */
	struct sb_loadgen g;
	int rc = sb_loadgen_init(&g, &cfg->load);
	if (rc) {
		sb_loadgen_free(&g);
		return rc;
	}
	struct sim s = {0};
	struct dvec itl = {0};
	struct replica *rep = calloc((size_t)cfg->replicas, sizeof(*rep));
	struct sb_request **done = calloc((size_t)cfg->batch, sizeof(*done));
	out->batch_hist = calloc((size_t)cfg->batch + 1, sizeof(*out->batch_hist));
	rc = rep && done && out->batch_hist ? 0 : SB_ENOMEM;
	for (int i = 0; !rc && i < cfg->replicas; i++) {
		rep[i].b = sb_batcher_create(cfg->batching, cfg->batch, cfg->max_delay);
		if (!rep[i].b)
			rc = cfg->max_delay >= 0 ? SB_ENOMEM : SB_EINVAL;
		rep[i].t_wake = INFINITY;
	}
	double now = cfg->load.t0, t_due = INFINITY;
	long rr = 0;
	while (!rc) {
		/* Order at one instant: steps end, then arrivals (a closed loop's replacement
		 * arrives at its predecessor's completion), then idle replicas plan. */
		for (int i = 0; i < cfg->replicas; i++) {
			struct replica *p = &rep[i];
			if (!p->busy || p->t_end > now)
				continue;
			int nd = sb_batcher_finish(p->b, &p->step, p->t_end, done);
			for (int j = 0; j < p->step.n && !rc; j++)
				if (!isnan(p->step.e[j].itl) && p->step.e[j].req->id >= cfg->warmup)
					rc = dvec_push(&itl, p->step.e[j].itl);
			for (int j = 0; j < nd; j++)
				sb_loadgen_complete(&g, done[j]->t_done);
			p->busy = 0;
		}
		struct sb_request req;
		while (!rc && sb_loadgen_next(&g, now, &req, &t_due)) {
			struct sb_request *r = sim_new(&s);
			if (!r) {
				rc = SB_ENOMEM;
				break;
			}
			*r = req;
			int to = (int)(rr++ % cfg->replicas);
			if (cfg->dispatch == SB_DISPATCH_LEAST_LOADED)
				for (int i = 0; i < cfg->replicas; i++)
					if (sb_batcher_load(rep[i].b) < sb_batcher_load(rep[to].b))
						to = i;
			r->replica = to;
			rc = sb_batcher_enqueue(rep[to].b, r, now);
		}
		double t_next = t_due;
		for (int i = 0; !rc && i < cfg->replicas; i++) {
			struct replica *p = &rep[i];
			if (!p->busy && sb_batcher_plan(p->b, now, &p->step, &p->t_wake)) {
				double c = cost(&p->step, i, cost_arg);
				p->busy = 1;
				p->t_end = now + (c > 0 ? c : 0);
				p->t_wake = INFINITY;
				out->batch_hist[p->step.n]++;
				out->steps++;
				if (observe)
					observe(&p->step, i, now, p->t_end, observe_arg);
			}
			t_next = fmin(t_next, p->busy ? p->t_end : p->t_wake);
		}
		if (rc || t_next == INFINITY)
			break;
		now = t_next;
	}
	out->t_end = now;
	if (!rc) {
		out->reqs = malloc((s.n ? s.n : 1) * sizeof(*out->reqs));
		rc = out->reqs ? 0 : SB_ENOMEM;
	}
	if (!rc) {
		for (size_t i = 0; i < s.n; i++)
			out->reqs[i] = s.blocks[i / SIM_BLOCK][i % SIM_BLOCK];
		out->nreqs = s.n;
		out->itl = itl.v;
		out->nitl = itl.n;
		itl.v = NULL;
		rc = sb_infer_metrics_compute(out->reqs, out->nreqs, cfg->warmup, out->itl,
		                              out->nitl, cfg->slo_ttft, cfg->slo_tpot, &out->m);
	}
	free(itl.v);
	for (size_t i = 0; i < s.nblocks; i++)
		free(s.blocks[i]);
	free(s.blocks);
	for (int i = 0; rep && i < cfg->replicas; i++)
		sb_batcher_destroy(rep[i].b);
	free(rep);
	free(done);
	sb_loadgen_free(&g);
	return rc;
}
