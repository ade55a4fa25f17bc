/* The infer benchmark's tensor-parallel model step (benchmarks/infer_model.c). The fake backend
 * multiplies an all-reduce by the group's size instead of summing the ranks' different partial
 * sums, so the sharded maths is tested here by running T shards in one process and summing
 * their partial outputs by hand, against the unsharded model (T=1); the step's all-reduce path
 * and the -c check run on a fake world of one rank (and the check is shown to fail on two). */
#include "../benchmarks/infer_model.h"
#include "comm.h"
#include "error.h"
#include "gemm.h"
#include "tap.h"
#include "timer.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PLAN 43

/* A small shape: 4 heads of 8, two layers. */
static const struct sb_model_shape small_shape = {32, 64, 4, 2};

/* One step of T shards in one process: each block's partial outputs summed over the shards,
 * in shard order, as an all-reduce would, then added to x. */
static int step_shards(struct sb_model *ms, int T, const struct sb_model_req *r, int n, float *x)
{
	size_t tokens = sb_model_tokens(r, n), count = tokens * (size_t)ms[0].s.hidden;
	for (int t = 0; t < T; t++)
		if (sb_model_reqs_check(&ms[t], r, n))
			return SB_EINVAL;
	float *acc = malloc(count * sizeof *acc);
	if (!acc)
		return SB_ENOMEM;
	int rc = 0;
	for (int l = 0; l < ms[0].s.layers && rc == 0; l++)
		for (int block = 0; block < 2 && rc == 0; block++) {
			memset(acc, 0, count * sizeof *acc);
			for (int t = 0; t < T && rc == 0; t++) {
				rc = block ? sb_model_mlp(&ms[t], l, tokens, x)
				           : sb_model_attention(&ms[t], l, r, n, x);
				for (size_t i = 0; rc == 0 && i < count; i++)
					acc[i] += ms[t].out[i];
			}
			for (size_t i = 0; i < count; i++)
				x[i] += acc[i];
		}
	for (int t = 0; t < T; t++)
		sb_model_advance(&ms[t], r, n);
	free(acc);
	return rc;
}

/* Largest |a - b| relative to the largest |b|. */
static double rel_diff(const float *a, const float *b, size_t n)
{
	double d = 0, m = 0;
	for (size_t i = 0; i < n; i++) {
		d = fmax(d, fabs((double)a[i] - b[i]));
		m = fmax(m, fabs((double)b[i]));
	}
	return m > 0 ? d / m : d;
}

/* The steps compared: a prefill of three prompts of different lengths, a decode step of the
 * three, then continuous batching's mix (two decoding, a fourth request's prompt). */
#define NSTEPS 3
static const struct sb_model_req steps[NSTEPS][4] = {
    {{0, 0, 5}, {1, 0, 3}, {2, 0, 7}},
    {{0, 5, 1}, {1, 3, 1}, {2, 7, 1}},
    {{0, 6, 1}, {2, 8, 1}, {3, 0, 4}},
};
static const int nreq[NSTEPS] = {3, 3, 3};
static const char *step_name[NSTEPS] = {"prefill", "decode", "decode + prefill"};

static void check_tp(int T)
{
	struct sb_model ref, ms[4];
	const uint64_t seed = 42;
	int rc = sb_model_init(&ref, &small_shape, 1, 0, 4, 16, seed);
	for (int t = 0; t < T; t++)
		rc |= sb_model_init(&ms[t], &small_shape, T, t, 4, 16, seed);
	if (rc)
		tap_bail("model init");
	/* The shards hold exactly the T=1 matrices' columns (W_qkv: Q, K, V of their heads). */
	size_t H = 32, Hl = H / (size_t)T;
	int same = 1;
	for (int t = 0; t < T; t++)
		for (size_t i = 0; i < H; i++)
			for (size_t j = 0; j < 3 * Hl; j++)
				same &= ms[t].layer[1].qkv[i * 3 * Hl + j] ==
				        ref.layer[1]
				            .qkv[i * 3 * H + j / Hl * H + (size_t)t * Hl + j % Hl];
	ok(same, "TP=%d: W_qkv shards are the columns of the unsharded matrix", T);
	float x[16 * 32], xr[16 * 32];
	for (int s = 0; s < NSTEPS; s++) {
		size_t count = sb_model_tokens(steps[s], nreq[s]) * H;
		sb_model_input(&small_shape, steps[s], nreq[s], seed, x);
		memcpy(xr, x, count * sizeof *x);
		rc = step_shards(ms, T, steps[s], nreq[s], x);
		rc |= sb_model_step(&ref, NULL, steps[s], nreq[s], xr, NULL);
		double d = rel_diff(x, xr, count);
		ok(rc == 0 && d < 1e-5, "TP=%d %s step equals TP=1 (relative difference %.2g)", T,
		   step_name[s], d);
	}
	for (int t = 0; t < T; t++)
		sb_model_free(&ms[t]);
	sb_model_free(&ref);
}

static void check_shapes(void)
{
	struct sb_model_shape s;
	ok(sb_model_preset("tiny", &s) == 0 && s.hidden == 256 && s.ffn == 1024 && s.heads == 8 &&
	       s.layers == 2,
	   "preset tiny");
	ok(sb_model_preset("8b", &s) == 0 && s.hidden == 4096 && s.ffn == 14336 && s.heads == 32,
	   "preset 8b");
	ok(sb_model_preset("70b", &s) == 0 && s.hidden == 8192 && s.ffn == 28672 && s.heads == 64,
	   "preset 70b");
	is_int(sb_model_preset("13b", &s), SB_EINVAL, "unknown preset rejected");
	sb_model_preset("tiny", &s);
	ok(!sb_model_shape_check(&s, 1) && !sb_model_shape_check(&s, 2) &&
	       !sb_model_shape_check(&s, 8),
	   "tiny cuts over 1, 2 and 8 ranks");
	const char *e = sb_model_shape_check(&s, 3);
	ok(e && strstr(e, "heads"), "heads not divisible by T: %s", e ? e : "(accepted)");
	struct sb_model_shape b = {250, 1024, 8, 2};
	e = sb_model_shape_check(&b, 1);
	ok(e && strstr(e, "hidden"), "hidden not divisible by heads: %s", e ? e : "(accepted)");
	b = (struct sb_model_shape){256, 1022, 8, 2};
	e = sb_model_shape_check(&b, 4);
	ok(e && strstr(e, "ffn"), "ffn not divisible by T: %s", e ? e : "(accepted)");
	b = (struct sb_model_shape){256, 1024, 8, 0};
	ok(sb_model_shape_check(&b, 1) != NULL, "zero layers rejected");
	ok(sb_model_shape_check(&s, 0) != NULL, "T = 0 rejected");
	struct sb_model m;
	is_int(sb_model_init(&m, &s, 3, 0, 1, 8, 1), SB_EINVAL, "init rejects a bad cut");
	is_int(sb_model_init(&m, &s, 2, 2, 1, 8, 1), SB_EINVAL,
	       "init rejects a shard out of range");
}

static void check_kv(void)
{
	struct sb_model m;
	if (sb_model_init(&m, &small_shape, 2, 1, 2, 8, 7))
		tap_bail("model init");
	float x[8 * 32];
	struct sb_model_req p[2] = {{0, 0, 5}, {1, 0, 2}};
	sb_model_input(&small_shape, p, 2, 7, x);
	/* T=2 alone (a rank's shard, its all-reduce skipped by hand): the cache still grows. */
	for (int l = 0; l < 2; l++) {
		sb_model_attention(&m, l, p, 2, x);
		sb_model_mlp(&m, l, 7, x);
	}
	sb_model_advance(&m, p, 2);
	ok(sb_model_kv_len(&m, 0) == 5 && sb_model_kv_len(&m, 1) == 2,
	   "prefill: slots hold 5 and 2");
	/* The new tokens' K went into the cache: row 4 of slot 0, layer 1, is this shard's K of
	 * the last prompt token (the QKV scratch still holds layer 1's projection). */
	size_t Hl = 16;
	ok(memcmp(m.layer[1].kv + 4 * Hl, m.qkv + 4 * 3 * Hl + Hl, Hl * sizeof(float)) == 0,
	   "K of the new token appended at its position");
	struct sb_model_req d[2] = {{0, 5, 1}, {1, 2, 1}};
	for (int s = 0; s < 3; s++) {
		sb_model_advance(&m, d, 2);
		d[0].ctx++, d[1].ctx++;
	}
	ok(sb_model_kv_len(&m, 0) == 8 && sb_model_kv_len(&m, 1) == 5,
	   "three decode steps: +1 each, 8 and 5");
	struct sb_model_req bad[][2] = {
	    {{0, 9, 1}}, /* past the slot's length */
	    {{1, 5, 4}}, /* past max_context */
	    {{0, 0, 1}, {0, 0, 1}}, /* one slot twice */
	    {{2, 0, 1}}, /* no such slot */
	    {{0, 0, 0}}, /* no token */
	};
	int nb[] = {1, 1, 2, 1, 1}, rejected = 1;
	for (size_t i = 0; i < 5; i++)
		rejected &= sb_model_reqs_check(&m, bad[i], nb[i]) == SB_EINVAL;
	ok(rejected, "bad requests rejected (context, length, slot twice, slot, no token)");
	ok(sb_model_reqs_check(&m, (struct sb_model_req[]){{0, 0, 8}}, 1) == 0,
	   "a slot restarted from 0 is accepted");
	sb_model_free(&m);
}

static void check_counts(void)
{
	/* H 8, F 16, N 2, L 1, T 2; requests: one decoding at context 3, one prefilling 2.
	 * GEMMs: 2 x 3 tokens x 8 x (3x8 + 8 + 2x16) / 2 = 1536. Attention pairs: 3 + 1 = 4 for
	 * the decode, 1 + 2 = 3 for the prefill: 4 x (8/2) x 7 = 112. Weights: (4 x 64 + 2 x 128)
	 * / 2 = 256 floats, 1024 bytes. KV: K and V of 4 + 2 rows, 4 wide: 48 floats, 192 bytes. */
	struct sb_model_shape s = {8, 16, 2, 1};
	struct sb_model_req r[2] = {{0, 3, 1}, {1, 0, 2}};
	is_double(sb_model_flops(&s, 2, r, 2), 1648, 1e-9, "FLOPs of a step by hand");
	is_double(sb_model_weight_bytes(&s, 2, 4), 1024, 1e-9, "weight bytes, fp32");
	is_double(sb_model_weight_bytes(&s, 2, 2), 512, 1e-9, "weight bytes, bf16");
	is_double(sb_model_kv_bytes(&s, 2, r, 2, 4), 192, 1e-9, "KV bytes by hand");
	s.layers = 3;
	is_double(sb_model_flops(&s, 1, r, 2), 3 * (2 * 3 * 8 * 64 + 4 * 8 * 7), 1e-9,
	          "FLOPs scale with layers, T=1");
}

/* The step through a communicator, and the check, on the fake backend. */
static void check_fake(void)
{
	const struct sb_backend *fake = sb_backend_find("fake");
	struct sb_comm w = {0};
	w.be = fake;
	setenv("SB_FAKE_RANKS", "1", 1);
	if (!fake || fake->init(&w))
		tap_bail("fake init");
	struct sb_model a, b;
	if (sb_model_init(&a, &small_shape, 1, 0, 4, 16, 3) ||
	    sb_model_init(&b, &small_shape, 1, 0, 4, 16, 3))
		tap_bail("model init");
	float x[16 * 32], y[16 * 32];
	sb_model_input(&small_shape, steps[0], 3, 3, x);
	memcpy(y, x, sizeof x);
	struct sb_model_times t = {-1, -1, -1};
	int rc = sb_model_step(&a, &w, steps[0], 3, x, &t);
	rc |= sb_model_step(&b, NULL, steps[0], 3, y, NULL);
	ok(rc == 0 && memcmp(x, y, 15 * 32 * sizeof *x) == 0,
	   "a one-rank group's step equals the step without one");
	/* Fake clock: alpha 1e-6 + beta 1e-10 x 15 x 32 x 4 bytes, four all-reduces. */
	is_double(t.allreduce, 4 * (1e-6 + 1e-10 * 1920), 1e-9,
	          "all-reduce time from the fake clock");
	is_double(t.allreduce_elems, 4 * 15 * 32, 0, "four all-reduces of tokens x H elements");
	ok(t.compute >= 0, "compute time %.3g s", t.compute);
	struct sb_model two;
	if (sb_model_init(&two, &small_shape, 2, 0, 4, 16, 3))
		tap_bail("model init");
	is_int(sb_model_step(&two, NULL, steps[0], 3, x, NULL), SB_EINVAL,
	       "a shard of T=2 without its group is refused");
	is_int(sb_model_step(&two, &w, steps[0], 3, x, NULL), SB_EINVAL,
	       "a shard of T=2 with a group of 1 is refused");
	sb_model_free(&two);
	double err = -1;
	is_int(sb_model_check(&w, &small_shape, 9, 2, 6, 3, &err), 0, "-c passes on one rank");
	ok(err >= 0 && err < 1e-6, "its error %.2g", err);
	fake->fini(&w);
	sb_model_free(&a), sb_model_free(&b);

	setenv("SB_FAKE_RANKS", "2", 1);
	memset(&w, 0, sizeof w);
	w.be = fake;
	if (fake->init(&w))
		tap_bail("fake init");
	is_int(sb_model_check(&w, &small_shape, 9, 2, 6, 1, &err), SB_ECHECK,
	       "-c fails on 2 fake ranks (the all-reduce doubles instead of summing shards)");
	fake->fini(&w);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Decode steps of the tiny model at batch 1 and 8 (context 128), against OpenBLAS's GEMM rate
 * and memcpy's bandwidth measured here: diagnostics only. */
static void timing(void)
{
	struct sb_gemm g;
	double rate = 0;
	if (sb_gemm_init(&g, 256, 1024) == 0) {
		sb_gemm_forward(&g);
		double best = INFINITY;
		for (int i = 0; i < 5; i++) {
			double t0 = sb_now();
			sb_gemm_forward(&g);
			best = fmin(best, sb_now() - t0);
		}
		rate = sb_gemm_flops(&g) / best;
		sb_gemm_free(&g);
	}
	size_t nb = (size_t)64 << 20;
	char *src = malloc(nb), *dst = malloc(nb);
	double bw = 0;
	if (src && dst) {
		memset(src, 1, nb), memset(dst, 0, nb);
		double best = INFINITY;
		for (int i = 0; i < 3; i++) {
			double t0 = sb_now();
			memcpy(dst, src, nb);
			best = fmin(best, sb_now() - t0);
		}
		bw = 2.0 * (double)nb / best; /* read + write */
	}
	free(src), free(dst);
	tap_diag("OpenBLAS sgemm 256x1024x1024, one thread: %.2f GFLOP/s; memcpy %.2f GB/s (r+w)",
	         rate / 1e9, bw / 1e9);
	struct sb_model_shape s;
	sb_model_preset("tiny", &s);
	const int ctx = 128;
	for (int bi = 0; bi < 2; bi++) {
		int B = bi ? 8 : 1;
		struct sb_model m;
		if (sb_model_init(&m, &s, 1, 0, B, ctx + 1, 1))
			tap_bail("tiny init");
		struct sb_model_req r[8];
		float *x = malloc((size_t)B * ctx * 256 * sizeof *x);
		for (int i = 0; i < B; i++)
			r[i] = (struct sb_model_req){i, 0, ctx};
		sb_model_input(&s, r, B, 1, x);
		sb_model_step(&m, NULL, r, B, x, NULL);
		for (int i = 0; i < B; i++)
			r[i] = (struct sb_model_req){i, ctx, 1};
		double t[101];
		for (int k = 0; k < 101; k++) {
			struct sb_model_times st;
			sb_model_input(&s, r, B, 1, x);
			sb_model_step(&m, NULL, r, B, x, &st);
			t[k] = st.compute + st.allreduce;
		}
		qsort(t, 101, sizeof t[0], cmp_double);
		double med = t[50], fl = sb_model_flops(&s, 1, r, B);
		double by = sb_model_weight_bytes(&s, 1, 4) + sb_model_kv_bytes(&s, 1, r, B, 4);
		double bound = fmax(rate > 0 ? fl / rate : 0, bw > 0 ? by / bw : 0);
		tap_diag(
		    "tiny decode B=%d ctx=%d: %.1f us/step (min %.1f), %.2f GFLOP/s, %.2f GB/s; "
		    "bound max(FLOPs/GEMM rate, bytes/memcpy bw) %.1f us: %.2fx",
		    B, ctx, med * 1e6, t[0] * 1e6, fl / med / 1e9, by / med / 1e9, bound * 1e6,
		    bound > 0 ? med / bound : 0);
		free(x);
		sb_model_free(&m);
	}
}

int main(void)
{
	tap_plan(PLAN);
	check_shapes();
	check_tp(2);
	check_tp(4);
	check_tp(1);
	check_kv();
	check_counts();
	check_fake();
	timing();
	return tap_done();
}
