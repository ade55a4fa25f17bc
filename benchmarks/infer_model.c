/* The infer benchmark's model step: a tensor-parallel transformer step on the CPU (see
 * infer_model.h). */
#include "infer_model.h"

#include "comm.h"
#include "error.h"
#include "infer_hash.h"
#include "timer.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	struct sb_model_shape s;
} presets[] = {
    {"tiny", {256, 1024, 8, 2}},
    {"8b", {4096, 14336, 32, 32}},
    {"70b", {8192, 28672, 64, 80}},
};

int sb_model_preset(const char *name, struct sb_model_shape *s)
{
	for (size_t i = 0; name && i < sizeof presets / sizeof presets[0]; i++)
		if (strcmp(name, presets[i].name) == 0) {
			*s = presets[i].s;
			return 0;
		}
	return SB_EINVAL;
}

const char *sb_model_shape_check(const struct sb_model_shape *s, int tp)
{
	if (s->hidden < 1 || s->ffn < 1 || s->heads < 1 || s->layers < 1)
		return "hidden, ffn, heads and layers must be at least 1";
	if (tp < 1)
		return "the tensor-parallel degree must be at least 1";
	if (s->hidden % s->heads)
		return "hidden must be divisible by heads";
	if (s->heads % tp)
		return "heads must be divisible by the tensor-parallel degree";
	if (s->ffn % tp)
		return "ffn must be divisible by the tensor-parallel degree";
	return NULL;
}

size_t sb_model_tokens(const struct sb_model_req *r, int n)
{
	size_t t = 0;
	for (int i = 0; i < n; i++)
		t += (size_t)r[i].ntok;
	return t;
}

/* 2^-e near 1 / (8 sqrt(fan_in)): outputs of a normalised input stay of order 1. */
float sb_model_weight_scale(int fan_in)
{
	return ldexpf(1.0f, -(int)lrint(log2(8.0 * sqrt((double)fan_in))));
}

/* Fill rows x cols of this shard: element (i, j) is the global matrix's (grow(i), gcol(j)),
 * the shard being a block of rows (row0) or of columns (col_of maps a local column). */
static void fill_weights(float *w, size_t rows, size_t cols, uint64_t seed, int l, int mat,
                         size_t row0, const size_t *col_of, float scale)
{
	for (size_t i = 0; i < rows; i++) {
		uint64_t base = sb_infer_row_base(seed, l, mat, row0 + i);
		for (size_t j = 0; j < cols; j++)
			w[i * cols + j] = scale * sb_infer_small(sb_infer_mix(base + col_of[j]));
	}
}

void sb_model_free(struct sb_model *m)
{
	if (m->layer)
		for (int l = 0; l < m->s.layers; l++) {
			free(m->layer[l].qkv), free(m->layer[l].o);
			free(m->layer[l].w1), free(m->layer[l].w2), free(m->layer[l].kv);
		}
	free(m->layer), free(m->len);
	free(m->h), free(m->qkv), free(m->a), free(m->mid), free(m->out), free(m->score);
	memset(m, 0, sizeof *m);
}

int sb_model_init(struct sb_model *m, const struct sb_model_shape *s, int tp, int shard,
                  int max_batch, int max_context, uint64_t seed)
{
	memset(m, 0, sizeof *m);
	if (sb_model_shape_check(s, tp) || shard < 0 || shard >= tp || max_batch < 1 ||
	    max_context < 1)
		return SB_EINVAL;
	/* One thread: every rank owns a core (as sb_gemm_init). */
	openblas_set_num_threads(1);
	m->s = *s;
	m->tp = tp, m->shard = shard;
	m->max_batch = max_batch, m->max_context = max_context;
	size_t H = (size_t)s->hidden, Hl = H / (size_t)tp, Fl = (size_t)s->ffn / (size_t)tp;
	size_t ncol = 3 * Hl > H ? 3 * Hl : H;
	ncol = ncol > Fl ? ncol : Fl;
	size_t *col = malloc(ncol * sizeof *col);
	m->layer = calloc((size_t)s->layers, sizeof *m->layer);
	m->len = calloc((size_t)max_batch, sizeof *m->len);
	if (!col || !m->layer || !m->len)
		goto nomem;
	size_t kv = (size_t)max_batch * 2 * (size_t)max_context * Hl;
	for (int l = 0; l < s->layers; l++) {
		struct sb_model_layer *y = &m->layer[l];
		y->qkv = malloc(H * 3 * Hl * sizeof(float));
		y->o = malloc(Hl * H * sizeof(float));
		y->w1 = malloc(H * Fl * sizeof(float));
		y->w2 = malloc(Fl * H * sizeof(float));
		y->kv = calloc(kv, sizeof(float));
		if (!y->qkv || !y->o || !y->w1 || !y->w2 || !y->kv)
			goto nomem;
		/* W_qkv: local column j is part j / Hl (Q, K, V) of the global H x 3H, this
		 * shard's heads: global column part H + shard Hl + j mod Hl. */
		for (size_t j = 0; j < 3 * Hl; j++)
			col[j] = j / Hl * H + (size_t)shard * Hl + j % Hl;
		fill_weights(y->qkv, H, 3 * Hl, seed, l, SB_MAT_QKV, 0, col,
		             sb_model_weight_scale(s->hidden));
		/* W_o and W_2: a block of rows, every column. */
		for (size_t j = 0; j < H; j++)
			col[j] = j;
		fill_weights(y->o, Hl, H, seed, l, SB_MAT_O, (size_t)shard * Hl, col,
		             sb_model_weight_scale(s->hidden));
		fill_weights(y->w2, Fl, H, seed, l, SB_MAT_W2, (size_t)shard * Fl, col,
		             sb_model_weight_scale(s->ffn));
		/* W_1: a block of columns. */
		for (size_t j = 0; j < Fl; j++)
			col[j] = (size_t)shard * Fl + j;
		fill_weights(y->w1, H, Fl, seed, l, SB_MAT_W1, 0, col,
		             sb_model_weight_scale(s->hidden));
	}
	free(col);
	return 0;
nomem:
	free(col);
	sb_model_free(m);
	return SB_ENOMEM;
}

int sb_model_kv_len(const struct sb_model *m, int slot)
{
	return slot >= 0 && slot < m->max_batch ? m->len[slot] : -1;
}

int sb_model_reqs_check(const struct sb_model *m, const struct sb_model_req *r, int n)
{
	if (n < 0 || n > m->max_batch)
		return SB_EINVAL;
	for (int i = 0; i < n; i++) {
		if (r[i].slot < 0 || r[i].slot >= m->max_batch || r[i].ntok < 1 || r[i].ctx < 0 ||
		    r[i].ctx > m->len[r[i].slot] || r[i].ctx > m->max_context - r[i].ntok)
			return SB_EINVAL;
		for (int j = 0; j < i; j++)
			if (r[j].slot == r[i].slot)
				return SB_EINVAL;
	}
	return 0;
}

void sb_model_input(const struct sb_model_shape *s, const struct sb_model_req *r, int n,
                    uint64_t seed, float *x)
{
	size_t H = (size_t)s->hidden;
	for (int i = 0; i < n; i++)
		for (int t = 0; t < r[i].ntok; t++, x += H)
			for (size_t j = 0; j < H; j++)
				x[j] = sb_infer_input(seed, r[i].slot, r[i].ctx + t, j);
}

/* Grow the scratch to a step of `tokens` rows and `score` attention scores. */
static int reserve(struct sb_model *m, size_t tokens, size_t score)
{
	size_t H = (size_t)m->s.hidden, Hl = H / (size_t)m->tp;
	size_t Fl = (size_t)m->s.ffn / (size_t)m->tp;
	if (tokens > m->cap_tokens) {
		float **bufs[] = {&m->h, &m->qkv, &m->a, &m->mid, &m->out};
		size_t width[] = {H, 3 * Hl, Hl, Fl, H};
		for (size_t i = 0; i < 5; i++) {
			float *p = realloc(*bufs[i], tokens * width[i] * sizeof(float));
			if (!p)
				return SB_ENOMEM;
			*bufs[i] = p;
		}
		m->cap_tokens = tokens;
	}
	if (score > m->cap_score) {
		float *p = realloc(m->score, score * sizeof(float));
		if (!p)
			return SB_ENOMEM;
		m->score = p;
		m->cap_score = score;
	}
	return 0;
}

/* RMS norm without weight, row by row: h = x / sqrt(mean(x^2) + eps). */
static void rmsnorm(float *h, const float *x, size_t rows, size_t H)
{
	for (size_t i = 0; i < rows; i++, x += H, h += H) {
		float ss = 0;
		for (size_t j = 0; j < H; j++)
			ss += x[j] * x[j];
		float inv = 1.0f / sqrtf(ss / (float)H + 1e-5f);
		for (size_t j = 0; j < H; j++)
			h[j] = x[j] * inv;
	}
}

/* New tokens per request up to which attention runs on rows, not GEMMs. */
#define SMALL_STEP 4

/* OpenBLAS (0.3.17 and later, x86-64) runs a GEMM of at most SMALL_MNK multiply-adds by its
 * small-matrix kernels, which read the operands where they lie; a larger one first packs them
 * into panels. For the few rows of a decode step that packing of the weights costs more than
 * the multiply (a step of batch 8 here: 3x), so a GEMM of at most SMALL_M rows goes in blocks
 * of columns and of the inner dimension that stay under the threshold. Where the library has
 * no such kernels the blocks cost what the whole did. */
#define SMALL_MNK 1e6
#define SMALL_M 32

/* C (m x n) = alpha A (m x k) op(B), op(B) k x n, row-major, leading dimensions as stored. */
static void gemm(size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda, int trans_b,
                 const float *b, size_t ldb, float *c, size_t ldc)
{
	if (m > SMALL_M || trans_b || (double)m * (double)n * (double)k <= SMALL_MNK) {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
		            (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, 0.0f, c,
		            (int)ldc);
		return;
	}
	size_t kb = k < 256 ? k : 256;
	size_t nb = (size_t)(SMALL_MNK / ((double)m * (double)kb)) / 16 * 16;
	nb = nb < 16 ? 16 : nb;
	for (size_t j = 0; j < n; j += nb)
		for (size_t p = 0; p < k; p += kb)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m,
			            (int)(n - j < nb ? n - j : nb), (int)(k - p < kb ? k - p : kb),
			            alpha, a + p, (int)lda, b + p * ldb + j, (int)ldb,
			            p ? 1.0f : 0.0f, c + j, (int)ldc);
}

/* Softmax of row[0..see), zeros after it up to len. */
static void softmax(float *row, size_t see, size_t len)
{
	float mx = -INFINITY, sum = 0;
	for (size_t j = 0; j < see; j++)
		mx = row[j] > mx ? row[j] : mx;
	for (size_t j = 0; j < see; j++)
		sum += row[j] = expf(row[j] - mx);
	for (size_t j = 0; j < see; j++)
		row[j] /= sum;
	for (size_t j = see; j < len; j++)
		row[j] = 0;
}

/* Attention of a request's nt new tokens (queries q, rows 3 Hl apart) over its cache k, v
 * (ctx + nt rows of Hl), into a (rows Hl apart), by GEMMs per head: the prefill's way. */
static void attend_gemm(struct sb_model *m, const float *q, const float *k, const float *v,
                        size_t nt, size_t ctx, float *a, float scale)
{
	size_t Hl = (size_t)m->s.hidden / (size_t)m->tp,
	       d = (size_t)m->s.hidden / (size_t)m->s.heads;
	size_t heads = Hl / d, kvlen = ctx + nt;
	for (size_t hh = 0; hh < heads; hh++) {
		float *s = m->score;
		/* Scores (nt x kvlen) = Q_h K_h^T / sqrt(d); new token t sees ctx + t + 1. */
		gemm(nt, kvlen, d, scale, q + hh * d, 3 * Hl, 1, k + hh * d, Hl, s, kvlen);
		for (size_t t = 0; t < nt; t++)
			softmax(s + t * kvlen, ctx + t + 1, kvlen);
		/* A_h (nt x d) = P V_h. */
		gemm(nt, d, kvlen, 1.0f, s, kvlen, 0, v + hh * d, Hl, a + hh * d, Hl);
	}
}

/* The same for a few new tokens (decode), per head by two matrix-vector products over the
 * cache's rows (no packing: a GEMM call per head and token costs more than the work here):
 * scores = K_h q_h, then a_h = V_h^T softmax(scores). */
static void attend_rows(struct sb_model *m, const float *q, const float *k, const float *v,
                        size_t nt, size_t ctx, float *a, float scale)
{
	size_t Hl = (size_t)m->s.hidden / (size_t)m->tp,
	       d = (size_t)m->s.hidden / (size_t)m->s.heads;
	size_t heads = Hl / d;
	float *s = m->score;
	for (size_t t = 0; t < nt; t++, q += 3 * Hl, a += Hl) {
		size_t see = ctx + t + 1;
		for (size_t hh = 0; hh < heads; hh++) {
			cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)see, (int)d, scale,
			            k + hh * d, (int)Hl, q + hh * d, 1, 0.0f, s, 1);
			softmax(s, see, see);
			cblas_sgemv(CblasRowMajor, CblasTrans, (int)see, (int)d, 1.0f, v + hh * d,
			            (int)Hl, s, 1, 0.0f, a + hh * d, 1);
		}
	}
}

int sb_model_attention(struct sb_model *m, int l, const struct sb_model_req *r, int n,
                       const float *x)
{
	size_t H = (size_t)m->s.hidden, Hl = H / (size_t)m->tp, d = H / (size_t)m->s.heads;
	size_t tokens = sb_model_tokens(r, n), score = 0;
	for (int i = 0; i < n; i++) {
		/* attend_gemm's nt x kvlen scores, attend_rows's kvlen */
		size_t s = (size_t)r[i].ntok * (size_t)(r[i].ctx + r[i].ntok);
		score = s > score ? s : score;
	}
	int rc = reserve(m, tokens, score);
	if (rc)
		return rc;
	struct sb_model_layer *y = &m->layer[l];
	rmsnorm(m->h, x, tokens, H);
	/* One GEMM for the batch: QKV = h W_qkv. */
	gemm(tokens, 3 * Hl, H, 1.0f, m->h, H, 0, y->qkv, 3 * Hl, m->qkv, 3 * Hl);
	float scale = 1.0f / sqrtf((float)d);
	size_t row0 = 0;
	for (int i = 0; i < n; i++) {
		size_t nt = (size_t)r[i].ntok, ctx = (size_t)r[i].ctx;
		float *k = y->kv + (size_t)r[i].slot * 2 * (size_t)m->max_context * Hl;
		float *v = k + (size_t)m->max_context * Hl;
		const float *q = m->qkv + row0 * 3 * Hl;
		for (size_t t = 0; t < nt; t++) {
			memcpy(k + (ctx + t) * Hl, q + t * 3 * Hl + Hl, Hl * sizeof(float));
			memcpy(v + (ctx + t) * Hl, q + t * 3 * Hl + 2 * Hl, Hl * sizeof(float));
		}
		if (nt <= SMALL_STEP)
			attend_rows(m, q, k, v, nt, ctx, m->a + row0 * Hl, scale);
		else
			attend_gemm(m, q, k, v, nt, ctx, m->a + row0 * Hl, scale);
		row0 += nt;
	}
	/* Row-parallel output projection: this shard's partial sum. */
	gemm(tokens, H, Hl, 1.0f, m->a, Hl, 0, y->o, H, m->out, H);
	return 0;
}

/* GELU, tanh approximation: 0.5 v (1 + tanh z) with z = sqrt(2/pi) (v + 0.044715 v^3), written
 * as v / (1 + exp(-2z)), the same function (0.5 (1 + tanh z) is the logistic of 2z) at the cost
 * of one expf instead of tanhf. */
static float gelu(float v)
{
	return v / (1.0f + expf(-1.5957691216f * (v + 0.044715f * v * v * v)));
}

int sb_model_mlp(struct sb_model *m, int l, size_t tokens, const float *x)
{
	size_t H = (size_t)m->s.hidden, Fl = (size_t)m->s.ffn / (size_t)m->tp;
	int rc = reserve(m, tokens, 0);
	if (rc)
		return rc;
	struct sb_model_layer *y = &m->layer[l];
	rmsnorm(m->h, x, tokens, H);
	gemm(tokens, Fl, H, 1.0f, m->h, H, 0, y->w1, Fl, m->mid, Fl);
	for (size_t i = 0; i < tokens * Fl; i++)
		m->mid[i] = gelu(m->mid[i]);
	gemm(tokens, H, Fl, 1.0f, m->mid, Fl, 0, y->w2, H, m->out, H);
	return 0;
}

void sb_model_advance(struct sb_model *m, const struct sb_model_req *r, int n)
{
	for (int i = 0; i < n; i++)
		m->len[r[i].slot] = r[i].ctx + r[i].ntok;
}

/* All-reduce m->out over tp and add it to x; *ar gets the all-reduce's time on the backend's
 * clock, *host its time on the host's (taken off the compute). */
static int reduce_add(struct sb_model *m, struct sb_comm *tp, float *x, size_t count, double *ar,
                      double *host, double *elems)
{
	if (tp) {
		*elems += (double)count;
		double h0 = sb_now(), t0 = sb_comm_now(tp);
		int rc = tp->be->allreduce(tp, m->out, m->out, count, SB_FLOAT, SB_SUM);
		if (rc == 0)
			rc = sb_comm_sync(tp);
		*ar += sb_comm_now(tp) - t0;
		*host += sb_now() - h0;
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < count; i++)
		x[i] += m->out[i];
	return 0;
}

int sb_model_step(struct sb_model *m, struct sb_comm *tp, const struct sb_model_req *r, int n,
                  float *x, struct sb_model_times *t)
{
	if (sb_model_reqs_check(m, r, n) || (tp && tp->size != m->tp) || (!tp && m->tp != 1))
		return SB_EINVAL;
	size_t tokens = sb_model_tokens(r, n), count = tokens * (size_t)m->s.hidden;
	double ar = 0, host = 0, elems = 0, t0 = sb_now();
	int rc = 0;
	for (int l = 0; l < m->s.layers && rc == 0; l++) {
		if ((rc = sb_model_attention(m, l, r, n, x)) == 0 &&
		    (rc = reduce_add(m, tp, x, count, &ar, &host, &elems)) == 0 &&
		    (rc = sb_model_mlp(m, l, tokens, x)) == 0)
			rc = reduce_add(m, tp, x, count, &ar, &host, &elems);
	}
	if (rc == 0)
		sb_model_advance(m, r, n);
	if (t) {
		t->compute = sb_now() - t0 - host;
		t->allreduce = ar;
		t->allreduce_elems = elems;
	}
	return rc;
}

double sb_model_flops(const struct sb_model_shape *s, int tp, const struct sb_model_req *r, int n)
{
	double H = s->hidden, F = s->ffn, T = tp, attn = 0;
	for (int i = 0; i < n; i++) {
		double nt = r[i].ntok, ctx = r[i].ctx;
		attn += nt * ctx + nt * (nt + 1) / 2;
	}
	double tokens = (double)sb_model_tokens(r, n);
	double gemm = 2 * tokens * H * (3 * H + H + 2 * F) / T;
	return s->layers * (gemm + 4 * (H / T) * attn);
}

double sb_model_weight_bytes(const struct sb_model_shape *s, int tp, size_t elem)
{
	double H = s->hidden, F = s->ffn;
	return s->layers * (4 * H * H + 2 * H * F) / tp * (double)elem;
}

double sb_model_kv_bytes(const struct sb_model_shape *s, int tp, const struct sb_model_req *r,
                         int n, size_t elem)
{
	double rows = 0;
	for (int i = 0; i < n; i++)
		rows += r[i].ctx + r[i].ntok;
	return s->layers * 2 * rows * ((double)s->hidden / tp) * (double)elem;
}

/* Largest |a - b| and largest |b| over n. */
static void compare(const float *a, const float *b, size_t n, double *diff, double *mag)
{
	for (size_t i = 0; i < n; i++) {
		double dd = fabs((double)a[i] - b[i]), mm = fabs((double)b[i]);
		*diff = dd > *diff ? dd : *diff;
		*mag = mm > *mag ? mm : *mag;
	}
}

int sb_model_check(struct sb_comm *tp, const struct sb_model_shape *s, uint64_t seed, int batch,
                   int prompt, int decode, double *err)
{
	if (sb_model_shape_check(s, tp->size) || batch < 1 || prompt < 1 || decode < 0)
		return SB_EINVAL;
	struct sb_model m, ref;
	int root = tp->rank == 0, ctx = prompt + decode, rc, rrc = 0;
	if ((rc = sb_model_init(&m, s, tp->size, tp->rank, batch, ctx, seed)) != 0)
		return rc; /* deterministic in the shapes: the same on every rank but for memory */
	memset(&ref, 0, sizeof ref);
	if (root)
		rrc = sb_model_init(&ref, s, 1, 0, batch, ctx, seed);
	struct sb_model_req *r = malloc((size_t)batch * sizeof *r);
	size_t H = (size_t)s->hidden, cap = (size_t)batch * (size_t)prompt * H;
	float *x = malloc(cap * sizeof *x), *xr = malloc(cap * sizeof *xr);
	if (!r || !x || !xr)
		rc = SB_ENOMEM;
	double worst = 0;
	for (int step = 0; step <= decode && rc == 0; step++) {
		for (int i = 0; i < batch; i++)
			r[i] = (struct sb_model_req){i, step ? prompt + step - 1 : 0,
			                             step ? 1 : prompt};
		size_t count = sb_model_tokens(r, batch) * H;
		sb_model_input(s, r, batch, seed, x);
		memcpy(xr, x, count * sizeof *x);
		if ((rc = sb_model_step(&m, tp, r, batch, x, NULL)) != 0)
			break;
		if (root && rrc == 0 &&
		    (rrc = sb_model_step(&ref, NULL, r, batch, xr, NULL)) == 0) {
			double diff = 0, mag = 0;
			compare(x, xr, count, &diff, &mag);
			diff /= mag > 0 ? mag : 1;
			worst = diff > worst ? diff : worst;
		}
	}
	/* Every rank learns the verdict: the error, and whether rank 0 could run the reference. */
	double v[2] = {worst, rrc ? 1 : 0};
	if (rc == 0)
		rc = sb_ctl_max(tp, v, 2);
	if (rc == 0 && v[1] > 0)
		rc = SB_ENOMEM;
	if (rc == 0 && err)
		*err = v[0];
	if (rc == 0 && !(v[0] <= 1e-4))
		rc = SB_ECHECK;
	free(r), free(x), free(xr);
	sb_model_free(&m);
	sb_model_free(&ref);
	return rc;
}
