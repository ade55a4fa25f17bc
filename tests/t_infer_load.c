/* The inference benchmark's core (benchmarks/infer_load.h) on the simulator's virtual clock with
 * a deterministic step cost (a + b x tokens): hand-worked latencies, the batchers' invariants,
 * batching's throughput, overload, the generator's statistics, percentile validity, the closed
 * loop's concurrency, and the generator's ceiling (reported, not asserted). */
#include "../benchmarks/infer_load.h"
#include "error.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PLAN 71
#define EPS 1e-9

struct lin_cost {
	double a, b;
};

static double lin(const struct sb_step *step, int replica, void *arg)
{
	const struct lin_cost *c = arg;
	(void)replica;
	return c->a + c->b * (double)step->tokens;
}

static struct sb_len_dist fixed(int n)
{
	struct sb_len_dist d = {.kind = SB_LEN_FIXED, .a = n};
	return d;
}

static struct sb_sim_config base(enum sb_batching kind, int B, double D)
{
	struct sb_sim_config c;
	memset(&c, 0, sizeof(c));
	c.batching = kind;
	c.batch = B;
	c.max_delay = D;
	c.replicas = 1;
	c.dispatch = SB_DISPATCH_ROUND_ROBIN;
	c.load.seed = 42;
	c.load.prompt = fixed(10);
	c.load.output = fixed(3);
	return c;
}

static void hand_worked(void)
{
	/* Arrivals at 0 and 1, prompt 10, output 3, step cost 1 + 0.1 x tokens. */
	static const double times[] = {0, 1};
	struct lin_cost cost = {1, 0.1};
	struct sb_sim_result r;

	/* Dynamic, B = 4, D = 2: one waits alone, the second joins, the delay expires at 2.
	 * Prefill of 20 tokens: 2 + 3 = 5 (first tokens); decode of 2 tokens 1.2 each: 6.2 and
	 * 7.4 (done). Request 0: TTFT 5, E2E 7.4, TPOT (7.4 - 5) / 2 = 1.2, queue 2.
	 * Request 1: TTFT 4, E2E 6.4, TPOT 1.2, queue 1. */
	struct sb_sim_config c = base(SB_BATCH_DYNAMIC, 4, 2);
	c.load.mode = SB_LOAD_TRACE;
	c.load.times = times;
	c.load.ntimes = 2;
	int rc = sb_infer_simulate(&c, lin, &cost, NULL, NULL, &r);
	is_int(rc, 0, "dynamic hand-worked run");
	is_int((long long)r.nreqs, 2, "two requests");
	if (r.nreqs == 2) {
		struct sb_request *q = r.reqs;
		is_double(q[0].t_first - q[0].t_sched, 5, EPS, "dynamic: TTFT 0 = 5");
		is_double(q[0].t_done - q[0].t_sched, 7.4, EPS, "dynamic: E2E 0 = 7.4");
		is_double(q[0].t_start - q[0].t_sched, 2, EPS, "dynamic: queue 0 = 2 (D)");
		is_double(q[1].t_first - q[1].t_sched, 4, EPS, "dynamic: TTFT 1 = 4");
		is_double(q[1].t_done - q[1].t_sched, 6.4, EPS, "dynamic: E2E 1 = 6.4");
		is_double(q[1].t_start - q[1].t_sched, 1, EPS, "dynamic: queue 1 = 1");
	}
	/* Means over both: TTFT 4.5, TPOT 1.2, E2E 6.9; ITL four gaps of 1.2. */
	is_double(r.m.ttft.mean, 4.5, EPS, "dynamic: mean TTFT 4.5");
	is_double(r.m.tpot.mean, 1.2, EPS, "dynamic: mean TPOT 1.2");
	is_double(r.m.e2e.mean, 6.9, EPS, "dynamic: mean E2E 6.9");
	is_int((long long)r.m.itl.n, 4, "dynamic: 4 inter-token gaps");
	is_double(r.m.itl.p50, 1.2, EPS, "dynamic: ITL 1.2");
	is_int((long long)r.batch_hist[2], 3, "dynamic: three steps of 2 (prefill, 2 decodes)");
	sb_sim_result_free(&r);

	/* Continuous, B = 4, separate prefill steps. 0: request 0 joins, prefill 10 tokens
	 * 0-2 (first token 2). 1: request 1 waits for the boundary at 2, prefill 2-4 (first
	 * token 4; request 0 pauses). Decode both 4-5.2, 5.2-6.4: both done at 6.4.
	 * Request 0: TTFT 2, E2E 6.4, TPOT (6.4 - 2) / 2 = 2.2, gaps 3.2 and 1.2, queue 0.
	 * Request 1: TTFT 3, E2E 5.4, TPOT 1.2, queue 1. */
	c = base(SB_BATCH_CONTINUOUS, 4, 0);
	c.load.mode = SB_LOAD_TRACE;
	c.load.times = times;
	c.load.ntimes = 2;
	rc = sb_infer_simulate(&c, lin, &cost, NULL, NULL, &r);
	is_int(rc, 0, "continuous hand-worked run");
	if (r.nreqs == 2) {
		struct sb_request *q = r.reqs;
		is_double(q[0].t_first - q[0].t_sched, 2, EPS, "continuous: TTFT 0 = 2");
		is_double(q[0].t_done - q[0].t_sched, 6.4, EPS, "continuous: E2E 0 = 6.4");
		is_double((q[0].t_done - q[0].t_first) / 2, 2.2, EPS, "continuous: TPOT 0 = 2.2");
		is_double(q[1].t_first - q[1].t_sched, 3, EPS, "continuous: TTFT 1 = 3");
		is_double(q[1].t_start, 2, EPS, "continuous: request 1 joins at the boundary 2");
		is_double(q[1].t_done - q[1].t_sched, 5.4, EPS, "continuous: E2E 1 = 5.4");
	}
	is_double(r.m.tpot.mean, 1.7, EPS, "continuous: mean TPOT (2.2 + 1.2) / 2");
	/* Gaps 3.2, 1.2 (request 0), 1.2, 1.2 (request 1): max 3.2. */
	is_double(r.m.itl.mean, 6.8 / 4, EPS, "continuous: mean ITL 1.7");
	is_double(r.t_end, 6.4, EPS, "continuous: run ends at 6.4");
	sb_sim_result_free(&r);
}

/* Hand-made requests: warm-up excluded, TPOT undefined for one token, goodput, rates. */
static void metrics_by_hand(void)
{
	struct sb_request q[4];
	memset(q, 0, sizeof(q));
	/* id 0: warm-up. id 1: sched 1, first 2, done 4, 3 tokens: TTFT 1, TPOT 1, E2E 3.
	 * id 2: sched 2, first 2.5, done 2.5, 1 token: TTFT 0.5, no TPOT, E2E 0.5.
	 * id 3: sched 3, first 5, done 6, 2 tokens: TTFT 2, TPOT 1, E2E 3.
	 * Window 1 .. 6 = 5 s: 3 requests, 6 tokens; SLO TTFT <= 1.5, TPOT <= 1: ids 1, 2. */
	const double v[4][5] = {
	    {0, 0, 9, 9, 5}, {1, 1.5, 2, 4, 3}, {2, 2, 2.5, 2.5, 1}, {3, 4, 5, 6, 2}};
	for (int i = 0; i < 4; i++) {
		q[i].id = i;
		q[i].t_sched = v[i][0];
		q[i].t_start = v[i][1];
		q[i].t_first = v[i][2];
		q[i].t_done = v[i][3];
		q[i].output_tokens = (int)v[i][4];
		q[i].prompt_tokens = 1;
	}
	const double itl[] = {1, 1, 1};
	struct sb_infer_metrics m;
	is_int(sb_infer_metrics_compute(q, 4, 1, itl, 3, 1.5, 1.0, &m), 0, "metrics by hand");
	is_int((long long)m.completed, 3, "warm-up left out");
	is_int((long long)m.tpot.n, 2, "TPOT undefined for a one-token request");
	is_double(m.ttft.mean, 3.5 / 3, EPS, "mean TTFT (1 + 0.5 + 2) / 3");
	is_double(m.e2e.p50, 3, EPS, "p50 E2E of 0.5, 3, 3 is 3 (nearest rank)");
	is_double(m.queue.mean, 0.5, EPS, "mean queue (0.5 + 0 + 1) / 3");
	is_double(m.window, 5, EPS, "window 1 .. 6");
	is_double(m.tok_per_s, 6.0 / 5, EPS, "6 tokens in 5 s");
	is_int((long long)m.good, 2, "two meet the SLO");
	is_double(m.goodput, 0.4, EPS, "goodput 2 / 5");
	is_double(m.offered_rate, 1, EPS, "offered: 2 gaps in 2 s");
}

struct dyn_check {
	int B;
	double D, last_end[4], max_cost;
	int over_b, late;
};

static void dyn_observe(const struct sb_step *s, int replica, double t0, double t1, void *arg)
{
	struct dyn_check *c = arg;
	if (s->n > c->B || s->inflight > c->B)
		c->over_b++;
	/* A batch starts no later than the replica freed up or its oldest waited D. */
	if (s->prefill && t0 > fmax(c->last_end[replica], s->e[0].req->t_dispatch + c->D) + EPS)
		c->late++;
	c->last_end[replica] = t1;
	c->max_cost = fmax(c->max_cost, t1 - t0);
}

static void dynamic_bounds(void)
{
	struct lin_cost cost = {0.2, 0.001};
	struct sb_sim_config c = base(SB_BATCH_DYNAMIC, 4, 0.5);
	c.load.mode = SB_LOAD_OPEN;
	c.load.rate = 8;
	c.load.max_requests = 2000;
	c.load.output = (struct sb_len_dist){.kind = SB_LEN_UNIFORM, .a = 1, .b = 8};
	struct dyn_check chk = {.B = 4, .D = 0.5};
	struct sb_sim_result r;
	is_int(sb_infer_simulate(&c, lin, &cost, dyn_observe, &chk, &r), 0, "dynamic run");
	is_int(chk.over_b, 0, "dynamic: no step above B = 4");
	is_int(chk.late, 0, "dynamic: no batch starts after max(free, oldest + D)");
	ok(r.batch_hist[4] > 0 && r.batch_hist[1] > 0, "dynamic: full and partial batches formed");
	is_int((long long)r.m.completed, 2000, "dynamic: all complete");
	sb_sim_result_free(&r);

	/* Light load, one token each (a batch is one step): nobody waits beyond D + one step. */
	c.load.rate = 0.5;
	c.load.output = fixed(1);
	memset(&chk, 0, sizeof(chk));
	chk.B = 4;
	chk.D = 0.5;
	is_int(sb_infer_simulate(&c, lin, &cost, dyn_observe, &chk, &r), 0, "dynamic light run");
	double worst = 0;
	for (size_t i = 0; i < r.nreqs; i++)
		worst = fmax(worst, r.reqs[i].t_start - r.reqs[i].t_sched);
	ok(worst <= 0.5 + chk.max_cost + EPS, "dynamic: max queue %.3f <= D + one step %.3f", worst,
	   0.5 + chk.max_cost);
	sb_sim_result_free(&r);
}

struct cont_check {
	int B, max_inflight, off_boundary, over_b;
	double last_end;
	int last_left; /* in flight after the previous step (an upper bound) */
};

static void cont_observe(const struct sb_step *s, int replica, double t0, double t1, void *arg)
{
	struct cont_check *c = arg;
	(void)replica;
	if (s->n > c->B || s->inflight > c->B)
		c->over_b++;
	if (s->inflight > c->max_inflight)
		c->max_inflight = s->inflight;
	/* Joining happens only at a boundary: a step that is not the first after idleness
	 * (some request was in flight already) starts exactly when the previous one ended. */
	int was_busy = !(s->prefill && s->n == s->inflight);
	if (was_busy && fabs(t0 - c->last_end) > EPS)
		c->off_boundary++;
	for (int i = 0; i < s->n; i++)
		if (s->e[i].req->t_dispatch > t0 + EPS)
			c->off_boundary++;
	c->last_end = t1;
}

static void continuous_bounds(void)
{
	struct lin_cost cost = {0.05, 0.001};
	struct sb_sim_config c = base(SB_BATCH_CONTINUOUS, 8, 0);
	c.load.mode = SB_LOAD_OPEN;
	c.load.rate = 30;
	c.load.max_requests = 3000;
	c.load.output = (struct sb_len_dist){.kind = SB_LEN_UNIFORM, .a = 1, .b = 16};
	struct cont_check chk = {.B = 8};
	struct sb_sim_result r;
	is_int(sb_infer_simulate(&c, lin, &cost, cont_observe, &chk, &r), 0, "continuous run");
	is_int(chk.over_b, 0, "continuous: never more than B = 8 in flight");
	is_int(chk.max_inflight, 8, "continuous: B = 8 reached");
	is_int(chk.off_boundary, 0, "continuous: joins only at step boundaries");
	is_int((long long)r.m.completed, 3000, "continuous: all complete");
	sb_sim_result_free(&r);
}

static double closed_rate(int B, int replicas, enum sb_dispatch d)
{
	/* The per-step constant dominates: 10 ms a step, 1 us a token. */
	struct lin_cost cost = {0.01, 1e-6};
	struct sb_sim_config c = base(SB_BATCH_CONTINUOUS, B, 0);
	c.load.mode = SB_LOAD_CLOSED;
	c.load.concurrency = 32;
	c.load.max_requests = 2000;
	c.load.output = fixed(16);
	c.replicas = replicas;
	c.dispatch = d;
	struct sb_sim_result r;
	double x = sb_infer_simulate(&c, lin, &cost, NULL, NULL, &r) ? NAN : r.m.tok_per_s;
	sb_sim_result_free(&r);
	return x;
}

static void batching_pays(void)
{
	double t1 = closed_rate(1, 1, SB_DISPATCH_ROUND_ROBIN);
	double t8 = closed_rate(8, 1, SB_DISPATCH_ROUND_ROBIN);
	tap_diag("tokens/s: B=1 %.1f, B=8 %.1f", t1, t8);
	ok(t8 > 4 * t1, "B=8 gives > 4x the tokens/s of B=1 (%.1f vs %.1f)", t8, t1);
	double r2 = closed_rate(1, 2, SB_DISPATCH_ROUND_ROBIN);
	double l2 = closed_rate(1, 2, SB_DISPATCH_LEAST_LOADED);
	ok(r2 > 1.8 * t1 && l2 > 1.8 * t1, "two replicas near 2x one (rr %.1f, least %.1f)", r2,
	   l2);
}

static double overload_e2e(long n)
{
	/* One step of 10 ms per request: capacity 100/s; offered 200/s. */
	struct lin_cost cost = {0.01, 0};
	struct sb_sim_config c = base(SB_BATCH_DYNAMIC, 1, 0);
	c.load.mode = SB_LOAD_OPEN;
	c.load.rate = 200;
	c.load.max_requests = n;
	c.load.output = fixed(1);
	struct sb_sim_result r;
	double x = sb_infer_simulate(&c, lin, &cost, NULL, NULL, &r) ? NAN : r.m.e2e.mean;
	sb_sim_result_free(&r);
	return x;
}

static void overload(void)
{
	/* Queue grows at 100/s: mean E2E about n / 400 s (half the final backlog / 100). */
	double a = overload_e2e(500), b = overload_e2e(2000);
	ok(b > 3 * a && a > 0.5, "overload: mean E2E grows with length (%.2f s -> %.2f s)", a, b);
}

static void gaps_stats(uint64_t seed, double rate, double k, double *mean_rate, double *cov)
{
	struct sb_load_config lc;
	memset(&lc, 0, sizeof(lc));
	lc.mode = SB_LOAD_OPEN;
	lc.rate = rate;
	lc.burstiness = k;
	lc.seed = seed;
	lc.prompt = lc.output = fixed(1);
	struct sb_loadgen g;
	struct sb_request q;
	double t_due, prev = 0, s = 0, s2 = 0;
	const int n = 10000;
	sb_loadgen_init(&g, &lc);
	for (int i = 0; i < n; i++) {
		sb_loadgen_next(&g, INFINITY, &q, &t_due);
		double gap = q.t_sched - prev;
		prev = q.t_sched;
		s += gap;
		s2 += gap * gap;
	}
	sb_loadgen_free(&g);
	double mean = s / n, var = (s2 - n * mean * mean) / (n - 1);
	*mean_rate = 1 / mean;
	*cov = sqrt(var) / mean;
}

static void generator(void)
{
	struct sb_load_config lc;
	memset(&lc, 0, sizeof(lc));
	lc.mode = SB_LOAD_OPEN;
	lc.rate = 50;
	lc.seed = 7;
	lc.prompt = (struct sb_len_dist){.kind = SB_LEN_UNIFORM, .a = 16, .b = 64};
	static const int outs[] = {4, 8, 32};
	lc.output = (struct sb_len_dist){.kind = SB_LEN_LIST, .list = outs, .nlist = 3};
	struct sb_loadgen g1, g2;
	sb_loadgen_init(&g1, &lc);
	sb_loadgen_init(&g2, &lc);
	int same = 1, in_range = 1;
	struct sb_request a, b;
	double t_due;
	for (int i = 0; i < 10000; i++) {
		sb_loadgen_next(&g1, INFINITY, &a, &t_due);
		sb_loadgen_next(&g2, INFINITY, &b, &t_due);
		same &= a.t_sched == b.t_sched && a.prompt_tokens == b.prompt_tokens &&
		        a.output_tokens == b.output_tokens;
		in_range &= a.prompt_tokens >= 16 && a.prompt_tokens <= 64 &&
		            (a.output_tokens == 4 || a.output_tokens == 8 || a.output_tokens == 32);
	}
	ok(same, "same seed, same 10,000 requests");
	ok(in_range, "lengths within the uniform range and the list");
	/* Not due yet: says when. */
	is_int(sb_loadgen_next(&g1, a.t_sched, &b, &t_due), 0, "nothing due before its time");
	ok(t_due > a.t_sched, "the next one's due time is given");
	sb_loadgen_free(&g1);
	sb_loadgen_free(&g2);

	double r1, c1, r2, c2, rs, cs;
	gaps_stats(7, 50, 1, &r1, &c1);
	gaps_stats(8, 50, 1, &rs, &cs);
	ok(r1 != rs, "another seed, other arrivals");
	ok(fabs(r1 / 50 - 1) < 0.03, "Poisson: mean rate %.2f within 3%% of 50", r1);
	ok(fabs(c1 - 1) < 0.05, "Poisson: CoV of gaps %.3f near 1", c1);
	gaps_stats(7, 50, 0.25, &r2, &c2);
	ok(fabs(r2 / 50 - 1) < 0.05, "Gamma k=0.25: mean rate %.2f within 5%% of 50", r2);
	ok(c2 > 1.7 && c2 < 2.3, "Gamma k=0.25: CoV %.3f near 2 (> Poisson's %.3f)", c2, c1);

	struct sb_load_config bad = lc;
	bad.rate = 0;
	is_int(sb_loadgen_init(&g1, &bad), SB_EINVAL, "rate 0 refused");
	sb_loadgen_free(&g1);
}

static void percentile_validity(void)
{
	static struct sb_request q[700];
	for (int i = 0; i < 700; i++) {
		memset(&q[i], 0, sizeof(q[i]));
		q[i].id = i;
		q[i].t_sched = i;
		q[i].t_start = q[i].t_first = i + 1;
		q[i].t_done = i + 1 + (i % 100) / 100.0;
		q[i].output_tokens = 2;
	}
	struct sb_infer_metrics m;
	sb_infer_metrics_compute(q, 63, 0, NULL, 0, 0, 0, &m);
	ok(isnan(m.ttft.p90) && m.ttft.p90_missing == 1, "63 requests: no p90, 1 missing");
	sb_infer_metrics_compute(q, 100, 0, NULL, 0, 0, 0, &m);
	ok(!isnan(m.e2e.p90) && isnan(m.e2e.p99), "100 requests: p90 but no p99");
	is_int((long long)m.e2e.p99_missing, 562, "100 requests: p99 needs 562 more");
	sb_infer_metrics_compute(q, 662, 0, NULL, 0, 0, 0, &m);
	ok(!isnan(m.e2e.p99) && m.e2e.p99_missing == 0, "662 requests: p99 reported");
}

static void closed_loop(void)
{
	struct lin_cost cost = {0.01, 0.0001};
	struct sb_sim_config c = base(SB_BATCH_CONTINUOUS, 4, 0);
	c.load.mode = SB_LOAD_CLOSED;
	c.load.concurrency = 5;
	c.load.max_requests = 300;
	c.load.output = (struct sb_len_dist){.kind = SB_LEN_UNIFORM, .a = 1, .b = 6};
	struct sb_sim_result r;
	is_int(sb_infer_simulate(&c, lin, &cost, NULL, NULL, &r), 0, "closed-loop run");
	/* At each scheduled time (the last one included) exactly C are in the system. */
	int wrong = 0;
	for (size_t i = 0; i < r.nreqs; i++) {
		double t = r.reqs[i].t_sched;
		int in = 0;
		for (size_t j = 0; j < r.nreqs; j++)
			in += r.reqs[j].t_sched <= t && r.reqs[j].t_done > t;
		wrong += in != 5;
	}
	is_int(wrong, 0, "closed loop: exactly C = 5 in the system at every issue");
	is_int((long long)r.nreqs, 300, "closed loop: 300 issued");
	sb_sim_result_free(&r);

	/* Bounded by duration instead: none scheduled after 2 s, and the run drains. */
	c.load.max_requests = 0;
	c.load.duration = 2;
	is_int(sb_infer_simulate(&c, lin, &cost, NULL, NULL, &r), 0, "closed loop for 2 s");
	int late = 0;
	for (size_t i = 0; i < r.nreqs; i++)
		late += r.reqs[i].t_sched > 2 || isnan(r.reqs[i].t_done);
	ok(r.nreqs > 100 && !late, "%zu issued within 2 s, all completed", r.nreqs);
	sb_sim_result_free(&r);
	c.load.duration = 0;
	is_int(sb_infer_simulate(&c, lin, &cost, NULL, NULL, &r), SB_EINVAL,
	       "no bound on the load refused");
	sb_sim_result_free(&r);
}

static double zero(const struct sb_step *s, int replica, void *arg)
{
	(void)s;
	(void)replica;
	(void)arg;
	return 0;
}

static void ceiling(void)
{
	struct sb_sim_config c = base(SB_BATCH_CONTINUOUS, 64, 0);
	c.load.mode = SB_LOAD_OPEN;
	c.load.rate = 1e6;
	c.load.max_requests = 200000;
	c.load.prompt = fixed(128);
	c.load.output = fixed(4);
	struct sb_sim_result r;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int rc = sb_infer_simulate(&c, zero, NULL, NULL, NULL, &r);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
	is_int(rc, 0, "zero-cost run");
	tap_diag("generator ceiling: %zu requests (4 tokens each) issued and completed in %.3f s "
	         "= %.0f requests/s (zero-cost model, continuous B=64)",
	         r.m.completed, s, (double)r.m.completed / s);
	sb_sim_result_free(&r);
}

int main(void)
{
	tap_plan(PLAN);
	hand_worked();
	metrics_by_hand();
	dynamic_bounds();
	continuous_bounds();
	batching_pays();
	overload();
	generator();
	percentile_validity();
	closed_loop();
	ceiling();
	return tap_done();
}
