/* The infer benchmark's model step on a GPU (see infer_gpu.h): the kernels, the cuBLAS calls
 * and the host code that issues them, all on the model's stream. */
#include "infer_gpu.h" /* C linkage for it and infer_model.h */

extern "C" {
#include "comm.h"
#include "error.h"
#include "gpu.h"
#include "timer.h"
}
#include "gpu_cu.h"
#include "infer_hash.h"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __nv_bfloat16 bf16;

/* New tokens per request up to which attention runs in the decode kernel, not by GEMMs: the
 * host model's SMALL_STEP, so both take the same path for the same requests. */
#define SMALL_STEP 4
/* The decode kernel's block, and the fewest keys a block of a split context takes: below
 * that, a split's fixed cost (its share of q, the combine) outweighs its keys. */
#define DEC_THREADS 128
#define DEC_MIN_KEYS 256
/* Bytes of the prefill's scores (float32) and probabilities (bf16) for one group of heads:
 * an 8192-token prompt's nt x kvlen is 64 Mi elements a head, so heads go in groups. */
#define SCORE_BUDGET ((size_t)1 << 30)

struct sb_model_gpu {
	struct sb_model_shape s;
	int tp, shard, max_batch, max_context;
	int dev, sms; /* the device and its multiprocessors (the decode kernel's split) */
	uint64_t seed;
	cudaStream_t stream;
	cublasHandle_t blas;
	bf16 *w; /* per layer W_qkv (H x 3Hl), W_o (Hl x H), W_1 (H x Fl), W_2 (Fl x H) */
	bf16 *kv; /* per layer, per slot: K then V, max_context x Hl each */
	size_t wlayer, kvlayer; /* elements of a layer's weights and of its cache */
	int *len; /* tokens in each slot's cache, on the host */
	/* Scratch, grown to the largest step: the residual stream x and the all-reduced partial
	 * sums out (float32), rmsnorm(x), QKV, attention output (bf16), the MLP middle before
	 * (float32) and after (bf16) GELU; the prefill's scores and probabilities; the decode
	 * splits' partial results; the token table on the host and the device. */
	float *x, *out, *mid, *score, *part;
	bf16 *h, *qkv, *a, *midb, *prob;
	int4 *tab, *htab;
	size_t cap_tokens, cap_score, cap_part, cap_tab;
	size_t last_tokens; /* rows of x after the last step that ran */
	cudaEvent_t *ev; /* two per all-reduce of a step: 4 per layer */
};

/* ---- kernels ---- */

static unsigned grid_for(const struct sb_model_gpu *g, size_t n)
{
	size_t b = (n + 255) / 256, most = (size_t)g->sms * 16;
	return (unsigned)(b < most ? (b ? b : 1) : most);
}

/* Element (i, j) of a shard's rows x cols block is the global matrix's (row0 + i, gcol(j)),
 * gcol(j) = j / part * pstride + coff + j % part: for W_qkv (part Hl, pstride H, coff shard Hl)
 * column j is of part Q, K or V, this shard's heads; for W_1 (part Fl, coff shard Fl) a block of
 * columns; for W_o and W_2 (part cols, coff 0) every column. The values are infer_model.c's
 * fill_weights': scale x k, exact in bf16. */
static __global__ void fill_weights(bf16 *w, size_t rows, size_t cols, uint64_t seed, int l,
                                    int mat, size_t row0, size_t part, size_t pstride, size_t coff,
                                    float scale)
{
	size_t n = rows * cols;
	for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < n;
	     idx += (size_t)gridDim.x * blockDim.x) {
		size_t i = idx / cols, j = idx % cols;
		uint64_t base = sb_infer_row_base(seed, l, mat, row0 + i);
		size_t gc = j / part * pstride + coff + j % part;
		w[idx] = __float2bfloat16(scale * sb_infer_small(sb_infer_mix(base + gc)));
	}
}

/* The token table: for each token row of the step, {row, slot, position, 0}. */

/* x's rows: sb_model_input's values for the token's (slot, position). One block a row. */
static __global__ void make_input(float *x, const int4 *tab, int H, uint64_t seed)
{
	int4 e = tab[blockIdx.x];
	float *xr = x + (size_t)blockIdx.x * H;
	for (int j = threadIdx.x; j < H; j += blockDim.x)
		xr[j] = sb_infer_input(seed, e.y, e.z, (size_t)j);
}

/* Sum and max over the block (blockDim a multiple of 32, at most 1024); every thread gets
 * the result. sh: 32 floats. */
static __device__ float block_sum(float v, float *sh)
{
	for (int o = 16; o; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	__syncthreads(); /* sh may still be read from a previous reduction */
	if ((threadIdx.x & 31) == 0)
		sh[threadIdx.x >> 5] = v;
	__syncthreads();
	v = (threadIdx.x & 31) < (blockDim.x >> 5) ? sh[threadIdx.x & 31] : 0.0f;
	for (int o = 16; o; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

static __device__ float block_max(float v, float *sh)
{
	for (int o = 16; o; o >>= 1)
		v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	__syncthreads();
	if ((threadIdx.x & 31) == 0)
		sh[threadIdx.x >> 5] = v;
	__syncthreads();
	v = (threadIdx.x & 31) < (blockDim.x >> 5) ? sh[threadIdx.x & 31] : -INFINITY;
	for (int o = 16; o; o >>= 1)
		v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}

/* x += add (when add is not NULL: the previous block's all-reduced output), then h =
 * rmsnorm(x) in bf16 (when h is not NULL), as infer_model.c's rmsnorm. One block a row: the
 * add fused into the norm reads x once instead of twice. */
static __global__ void add_rmsnorm(float *x, const float *add, bf16 *h, int H)
{
	__shared__ float sh[32];
	size_t r = blockIdx.x;
	float *xr = x + r * H, ss = 0;
	for (int j = threadIdx.x; j < H; j += blockDim.x) {
		float v = xr[j];
		if (add) {
			v += add[r * H + j];
			xr[j] = v;
		}
		ss += v * v;
	}
	if (!h)
		return;
	ss = block_sum(ss, sh);
	float inv = 1.0f / sqrtf(ss / (float)H + 1e-5f);
	for (int j = threadIdx.x; j < H; j += blockDim.x)
		h[r * H + j] = __float2bfloat16(xr[j] * inv);
}

/* The new tokens' K and V (parts 2 and 3 of their QKV row) into their slot's cache at their
 * position. One block a token. */
static __global__ void kv_append(const bf16 *qkv, bf16 *kv, const int4 *tab, int Hl,
                                 size_t slot_stride, size_t v_off)
{
	int4 e = tab[blockIdx.x];
	const bf16 *src = qkv + (size_t)e.x * 3 * Hl;
	bf16 *k = kv + (size_t)e.y * slot_stride + (size_t)e.z * Hl, *v = k + v_off;
	for (int j = threadIdx.x; j < Hl; j += blockDim.x) {
		k[j] = src[Hl + j];
		v[j] = src[2 * Hl + j];
	}
}

/* VEC bf16 from p (VEC 8: one 16-byte load, p 16-byte aligned) as floats. */
template <int VEC> static __device__ inline void load_vec(const bf16 *p, float *f)
{
	if constexpr (VEC == 8) {
		uint4 u = __ldg(reinterpret_cast<const uint4 *>(p));
		const __nv_bfloat162 *b = reinterpret_cast<const __nv_bfloat162 *>(&u);
		for (int i = 0; i < 4; i++) {
			float2 t = __bfloat1622float2(b[i]);
			f[2 * i] = t.x;
			f[2 * i + 1] = t.y;
		}
	} else {
		for (int i = 0; i < VEC; i++)
			f[i] = __bfloat162float(p[i]);
	}
}

/* Decode attention: one block per (token of a small request, head, split of its context).
 * The block's DEC_THREADS threads form groups of G lanes (G a power of two <= 32, the fewest
 * that cover the head's d / VEC vectors; each lane holds up to NC of them), one key per group
 * at a time: the group's lanes read the key's K and V rows of the head (d contiguous bf16:
 * coalesced 16-byte loads), reduce q.k over the group by shuffles, and keep an online softmax
 * (running max m, sum l, and the unnormalised sum of p v in registers), so the context costs
 * no memory but the keys' reads, whatever its length. The groups' states are merged through
 * shared memory (ngroups x (d + 2) floats) at the end. With one split the block writes the
 * head's output (bf16); with several it writes its (m, l, acc) to part, and attend_combine
 * merges the splits. The token sees positions 0..pos (its own K included: causal). */
template <int VEC, int NC>
static __global__ void __launch_bounds__(DEC_THREADS)
    attend_decode(const bf16 *qkv, const bf16 *kv, bf16 *a, const int4 *tab, int Hl, int d, int G,
                  size_t slot_stride, size_t v_off, float scale, int chunk, float *part)
{
	extern __shared__ float sh[];
	const int ngroups = DEC_THREADS / G, C = d / VEC;
	float *sm = sh, *sl = sh + ngroups, *sacc = sh + 2 * ngroups;
	const int4 e = tab[blockIdx.x];
	const int hh = blockIdx.y, gl = threadIdx.x & (G - 1), grp = threadIdx.x / G;
	const int see = e.z + 1, j0 = blockIdx.z * chunk, j1 = min(see, j0 + chunk);
	const bf16 *q = qkv + (size_t)e.x * 3 * Hl + (size_t)hh * d;
	const bf16 *k = kv + (size_t)e.y * slot_stride + (size_t)hh * d, *v = k + v_off;
	float qf[NC][VEC], acc[NC][VEC];
	for (int i = 0; i < NC; i++) {
		int c = gl + i * G;
		if (c < C)
			load_vec<VEC>(q + c * VEC, qf[i]);
		for (int u = 0; u < VEC; u++) {
			qf[i][u] = c < C ? qf[i][u] : 0.0f;
			acc[i][u] = 0.0f;
		}
	}
	float m = -INFINITY, l = 0.0f;
	/* Every lane of a warp runs the same iterations (the shuffles need them all): the warp's
	 * first group sets the bound, lanes past the split's end load nothing. */
	const int wfirst = (int)(threadIdx.x >> 5) * (32 / G);
	for (int jb = j0 + wfirst; jb < j1; jb += ngroups) {
		const int j = jb + (grp - wfirst);
		const bool in = j < j1;
		float kf[NC][VEC], vf[NC][VEC];
		for (int i = 0; i < NC; i++) {
			int c = gl + i * G;
			if (in && c < C) {
				load_vec<VEC>(k + (size_t)j * Hl + c * VEC, kf[i]);
				load_vec<VEC>(v + (size_t)j * Hl + c * VEC, vf[i]);
			} else {
				for (int u = 0; u < VEC; u++)
					kf[i][u] = vf[i][u] = 0.0f;
			}
		}
		float s = 0.0f;
		for (int i = 0; i < NC; i++)
			for (int u = 0; u < VEC; u++)
				s += qf[i][u] * kf[i][u];
		for (int o = G / 2; o; o >>= 1)
			s += __shfl_xor_sync(0xffffffffu, s, o);
		if (in) {
			s *= scale;
			float mn = fmaxf(m, s), corr = expf(m - mn), p = expf(s - mn);
			l = l * corr + p;
			for (int i = 0; i < NC; i++)
				for (int u = 0; u < VEC; u++)
					acc[i][u] = acc[i][u] * corr + p * vf[i][u];
			m = mn;
		}
	}
	if (gl == 0) {
		sm[grp] = m;
		sl[grp] = l;
	}
	for (int i = 0; i < NC; i++) {
		int c = gl + i * G;
		if (c < C)
			for (int u = 0; u < VEC; u++)
				sacc[grp * d + c * VEC + u] = acc[i][u];
	}
	__syncthreads();
	float M = -INFINITY;
	for (int gi = 0; gi < ngroups; gi++)
		M = fmaxf(M, sm[gi]);
	float *pp = part ? part + (((size_t)blockIdx.x * gridDim.y + hh) * gridDim.z + blockIdx.z) *
	                              (size_t)(d + 2)
	                 : NULL;
	for (int x = threadIdx.x; x < d; x += DEC_THREADS) {
		float L = 0.0f, o = 0.0f;
		for (int gi = 0; gi < ngroups; gi++)
			if (sm[gi] != -INFINITY) { /* a group that saw no key */
				float wgt = expf(sm[gi] - M);
				L += sl[gi] * wgt;
				o += sacc[gi * d + x] * wgt;
			}
		if (pp) {
			pp[2 + x] = o;
			if (x == 0)
				pp[0] = M, pp[1] = L;
		} else {
			a[(size_t)e.x * Hl + (size_t)hh * d + x] = __float2bfloat16(o / L);
		}
	}
}

/* The splits of attend_decode merged: one block per (token, head), the same weights as the
 * merge of groups within a block. A split past the token's context saw no key (m -inf). */
static __global__ void attend_combine(const float *part, bf16 *a, const int4 *tab, int Hl, int d,
                                      int splits)
{
	const int4 e = tab[blockIdx.x];
	const int hh = blockIdx.y;
	const size_t w = (size_t)d + 2;
	const float *p = part + ((size_t)blockIdx.x * gridDim.y + hh) * splits * w;
	float M = -INFINITY;
	for (int s = 0; s < splits; s++)
		M = fmaxf(M, p[s * w]);
	for (int x = threadIdx.x; x < d; x += blockDim.x) {
		float L = 0.0f, o = 0.0f;
		for (int s = 0; s < splits; s++)
			if (p[s * w] != -INFINITY) {
				float wgt = expf(p[s * w] - M);
				L += p[s * w + 1] * wgt;
				o += p[s * w + 2 + x] * wgt;
			}
		a[(size_t)e.x * Hl + (size_t)hh * d + x] = __float2bfloat16(o / L);
	}
}

/* The prefill's causal softmax: row (head y of the group, new token t) of nt x kvlen scores,
 * softmax over the ctx + t + 1 keys it sees (float32), as infer_model.c's softmax, into bf16
 * probabilities, zeros after them. One block a row. */
static __global__ void softmax_causal(const float *score, bf16 *prob, int nt, int kvlen, int ctx)
{
	__shared__ float sh[32];
	const int t = blockIdx.x, see = ctx + t + 1;
	const size_t row = ((size_t)blockIdx.y * nt + t) * kvlen;
	const float *sr = score + row;
	bf16 *pr = prob + row;
	float mx = -INFINITY;
	for (int j = threadIdx.x; j < see; j += blockDim.x)
		mx = fmaxf(mx, sr[j]);
	mx = block_max(mx, sh);
	float sum = 0.0f;
	for (int j = threadIdx.x; j < see; j += blockDim.x)
		sum += expf(sr[j] - mx);
	sum = block_sum(sum, sh);
	for (int j = threadIdx.x; j < kvlen; j += blockDim.x)
		pr[j] = __float2bfloat16(j < see ? expf(sr[j] - mx) / sum : 0.0f);
}

/* GELU (tanh approximation through one expf, as infer_model.c's gelu) of the MLP middle, into
 * bf16 for the W_2 GEMM. */
static __global__ void gelu(const float *in, bf16 *out, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		float v = in[i];
		out[i] = __float2bfloat16(
		    v / (1.0f + expf(-1.5957691216f * (v + 0.044715f * v * v * v))));
	}
}

/* ---- host side ---- */

static int launched(const char *kernel)
{
	cudaError_t e = cudaGetLastError();
	if (e != cudaSuccess) {
		sb_log_fault("kernel %s: launch failed: %s", kernel, cudaGetErrorString(e));
		return SB_ECOMM;
	}
	return 0;
}

/* A GEMM operand: its device memory, CUDA type, leading dimension (row-major: elements
 * between rows) and, for a batch, elements between its matrices. */
struct mat {
	void *p;
	cudaDataType_t t;
	int ld;
	long long stride;
};

/* Row-major C (m x n) = alpha A op(B), A m x k, B k x n (n x k when trans_b): column-major
 * C^T = op(B)^T A^T, as sb_gpu_gemm, with each operand's type of its own (bf16 x bf16 into
 * bf16 or float32) and float32 accumulation (tensor cores); `batch` of them when batch > 1. */
static int gemm(cublasHandle_t h, const char *what, int trans_b, int m, int n, int k, float alpha,
                struct mat a, struct mat b, struct mat c, int batch)
{
	const float beta = 0.0f;
	cublasOperation_t ob = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
	cublasStatus_t st;
	if (batch == 1)
		st = cublasGemmEx(h, ob, CUBLAS_OP_N, n, m, k, &alpha, b.p, b.t, b.ld, a.p, a.t,
		                  a.ld, &beta, c.p, c.t, c.ld, CUBLAS_COMPUTE_32F,
		                  CUBLAS_GEMM_DEFAULT);
	else
		st = cublasGemmStridedBatchedEx(h, ob, CUBLAS_OP_N, n, m, k, &alpha, b.p, b.t, b.ld,
		                                b.stride, a.p, a.t, a.ld, a.stride, &beta, c.p, c.t,
		                                c.ld, c.stride, batch, CUBLAS_COMPUTE_32F,
		                                CUBLAS_GEMM_DEFAULT);
	if (st != CUBLAS_STATUS_SUCCESS) {
		sb_log_fault("%s (%s, %d x %d x %d, batch %d) failed: %s",
		             batch == 1 ? "cublasGemmEx" : "cublasGemmStridedBatchedEx", what, m, n,
		             k, batch, cublasGetStatusString(st));
		return SB_ECOMM;
	}
	return 0;
}

static const double GiB = 1024.0 * 1024.0 * 1024.0;

/* SB_ENOMEM, after saying what needed how much and what the device has free. */
static int short_of(const struct sb_model_gpu *g, const char *what, double need)
{
	size_t fr = 0, tot = 0;
	if (sb_gpu_mem_info(g->dev, &fr, &tot) == 0)
		sb_log_fault(
		    "infer GPU model: %s needs %.2f GiB of device memory; %.2f GiB of %.2f "
		    "are free",
		    what, need / GiB, (double)fr / GiB, (double)tot / GiB);
	else
		sb_log_fault("infer GPU model: %s needs %.2f GiB of device memory", what,
		             need / GiB);
	return SB_ENOMEM;
}

static size_t hidden_local(const struct sb_model_gpu *g)
{
	return (size_t)g->s.hidden / (size_t)g->tp;
}

static size_t ffn_local(const struct sb_model_gpu *g)
{
	return (size_t)g->s.ffn / (size_t)g->tp;
}

static int head_dim(const struct sb_model_gpu *g)
{
	return g->s.hidden / g->s.heads;
}

/* Layer l's matrices and cache. */
static bf16 *w_qkv(const struct sb_model_gpu *g, int l)
{
	return g->w + (size_t)l * g->wlayer;
}

static bf16 *w_o(const struct sb_model_gpu *g, int l)
{
	return w_qkv(g, l) + (size_t)g->s.hidden * 3 * hidden_local(g);
}

static bf16 *w_1(const struct sb_model_gpu *g, int l)
{
	return w_o(g, l) + hidden_local(g) * (size_t)g->s.hidden;
}

static bf16 *w_2(const struct sb_model_gpu *g, int l)
{
	return w_1(g, l) + (size_t)g->s.hidden * ffn_local(g);
}

static int fill(struct sb_model_gpu *g, bf16 *w, size_t rows, size_t cols, int l, int mat,
                size_t row0, size_t part, size_t pstride, size_t coff, int fan_in)
{
	fill_weights<<<grid_for(g, rows * cols), 256, 0, g->stream>>>(
	    w, rows, cols, g->seed, l, mat, row0, part, pstride, coff,
	    sb_model_weight_scale(fan_in));
	return launched("fill_weights");
}

void sb_model_gpu_free(struct sb_model_gpu *g)
{
	if (!g)
		return;
	sb_gpu_stream_sync(g->stream); /* nothing of ours may still run on what is freed */
	if (g->ev)
		for (int i = 0; i < 4 * g->s.layers; i++)
			if (g->ev[i])
				cudaEventDestroy(g->ev[i]);
	free(g->ev);
	sb_gpu_blas_destroy(g->blas);
	void *dev[] = {g->w, g->kv,  g->x, g->out,  g->mid,  g->score, g->part,
	               g->h, g->qkv, g->a, g->midb, g->prob, g->tab};
	for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
		sb_gpu_free(dev[i]);
	free(g->htab);
	free(g->len);
	free(g);
}

int sb_model_gpu_init(struct sb_model_gpu **gp, const struct sb_model_shape *s, int tp, int shard,
                      int max_batch, int max_context, uint64_t seed, void *stream)
{
	*gp = NULL;
	if (sb_model_shape_check(s, tp) || shard < 0 || shard >= tp || max_batch < 1 ||
	    max_context < 1)
		return SB_EINVAL;
	int d = s->hidden / s->heads;
	if (d > 1024 || (d % 8 && d > 256)) {
		sb_log_usage("infer GPU model: head dimension %d not supported (at most 1024, and "
		             "a multiple of 8 above 256)",
		             d);
		return SB_EINVAL;
	}
	struct sb_model_gpu *g = (struct sb_model_gpu *)calloc(1, sizeof *g);
	if (!g)
		return SB_ENOMEM;
	g->s = *s;
	g->tp = tp, g->shard = shard;
	g->max_batch = max_batch, g->max_context = max_context;
	g->seed = seed;
	g->stream = (cudaStream_t)stream;
	g->len = (int *)calloc((size_t)max_batch, sizeof *g->len);
	g->ev = (cudaEvent_t *)calloc((size_t)4 * s->layers, sizeof *g->ev);
	int rc = 0;
	if (!g->len || !g->ev) {
		sb_model_gpu_free(g);
		return SB_ENOMEM;
	}
	cudaError_t e = cudaGetDevice(&g->dev);
	if (e == cudaSuccess)
		e = cudaDeviceGetAttribute(&g->sms, cudaDevAttrMultiProcessorCount, g->dev);
	if (e != cudaSuccess) {
		sb_log_fault("cudaGetDevice / cudaDeviceGetAttribute failed: %s",
		             cudaGetErrorString(e));
		sb_model_gpu_free(g);
		return SB_ECOMM;
	}
	size_t H = (size_t)s->hidden, Hl = hidden_local(g), Fl = ffn_local(g);
	g->wlayer = H * 3 * Hl + Hl * H + H * Fl + Fl * H;
	/* In double first: max_batch x max_context x Hl may pass size_t's range. */
	double wbytes = (double)s->layers * (double)g->wlayer * sizeof(bf16);
	double kvbytes =
	    (double)s->layers * max_batch * 2.0 * max_context * (double)Hl * sizeof(bf16);
	size_t fr = 0, tot = 0;
	if ((rc = sb_gpu_mem_info(g->dev, &fr, &tot)) != 0) {
		sb_model_gpu_free(g);
		return rc;
	}
	char what[160];
	snprintf(what, sizeof what, "%d layers' weights (%.2f GiB) and KV cache (%.2f GiB)",
	         s->layers, wbytes / GiB, kvbytes / GiB);
	if (wbytes + kvbytes > (double)fr) {
		rc = short_of(g, what, wbytes + kvbytes);
		sb_model_gpu_free(g);
		return rc;
	}
	g->kvlayer = (size_t)max_batch * 2 * (size_t)max_context * Hl;
	g->w = (bf16 *)sb_gpu_malloc((size_t)wbytes);
	g->kv = (bf16 *)sb_gpu_malloc((size_t)kvbytes);
	if (!g->w || !g->kv) {
		rc = short_of(g, what, wbytes + kvbytes);
		sb_model_gpu_free(g);
		return rc;
	}
	for (int i = 0; i < 4 * s->layers && rc == 0; i++)
		if ((e = cudaEventCreate(&g->ev[i])) != cudaSuccess) {
			g->ev[i] = NULL;
			sb_log_fault("cudaEventCreate failed: %s", cudaGetErrorString(e));
			rc = SB_ECOMM;
		}
	if (rc == 0)
		rc = sb_gpu_blas_create(stream, (void **)&g->blas);
	for (int l = 0; l < s->layers && rc == 0; l++) {
		size_t sh = (size_t)shard;
		if ((rc = fill(g, w_qkv(g, l), H, 3 * Hl, l, SB_MAT_QKV, 0, Hl, H, sh * Hl,
		               s->hidden)) == 0 &&
		    (rc = fill(g, w_o(g, l), Hl, H, l, SB_MAT_O, sh * Hl, H, 0, 0, s->hidden)) ==
		        0 &&
		    (rc = fill(g, w_1(g, l), H, Fl, l, SB_MAT_W1, 0, Fl, 0, sh * Fl, s->hidden)) ==
		        0)
			rc = fill(g, w_2(g, l), Fl, H, l, SB_MAT_W2, sh * Fl, H, 0, 0, s->ffn);
	}
	if (rc == 0)
		rc = sb_gpu_stream_sync(stream);
	if (rc) {
		sb_model_gpu_free(g);
		return rc;
	}
	*gp = g;
	return 0;
}

int sb_model_gpu_kv_len(const struct sb_model_gpu *g, int slot)
{
	return slot >= 0 && slot < g->max_batch ? g->len[slot] : -1;
}

/* A device buffer of at least n elements of `size` bytes: reallocated (contents lost) when
 * smaller. */
static int grow(struct sb_model_gpu *g, void **p, size_t *cap, size_t n, size_t size,
                const char *what)
{
	if (n <= *cap)
		return 0;
	sb_gpu_free(*p);
	*cap = 0;
	if (!(*p = sb_gpu_malloc(n * size)))
		return short_of(g, what, (double)n * (double)size);
	*cap = n;
	return 0;
}

/* Scratch for a step of `tokens` rows, `score` prefill scores, `part` decode partials and a
 * token table of `tab` entries. */
static int reserve(struct sb_model_gpu *g, size_t tokens, size_t score, size_t part, size_t tab)
{
	size_t H = (size_t)g->s.hidden, Hl = hidden_local(g), Fl = ffn_local(g);
	if (tokens > g->cap_tokens) {
		void **bufs[] = {(void **)&g->x,   (void **)&g->out, (void **)&g->mid,
		                 (void **)&g->h,   (void **)&g->qkv, (void **)&g->a,
		                 (void **)&g->midb};
		size_t bytes[] = {H * 4, H * 4, Fl * 4, H * 2, 3 * Hl * 2, Hl * 2, Fl * 2}, row = 0;
		for (size_t i = 0; i < 7; i++) {
			sb_gpu_free(*bufs[i]);
			*bufs[i] = NULL;
			row += bytes[i];
		}
		g->cap_tokens = 0;
		for (size_t i = 0; i < 7; i++)
			if (!(*bufs[i] = sb_gpu_malloc(tokens * bytes[i]))) {
				char what[96];
				snprintf(what, sizeof what, "the activations of a %zu-token step",
				         tokens);
				return short_of(g, what, (double)tokens * (double)row);
			}
		g->cap_tokens = tokens;
	}
	int rc;
	if (score > g->cap_score) {
		size_t cs = g->cap_score;
		if ((rc = grow(g, (void **)&g->score, &cs, score, sizeof(float),
		               "the prefill's attention scores")) ||
		    (rc = grow(g, (void **)&g->prob, &g->cap_score, score, sizeof(bf16),
		               "the prefill's attention probabilities")))
			return rc;
	}
	if ((rc = grow(g, (void **)&g->part, &g->cap_part, part, sizeof(float),
	               "the decode attention's splits")))
		return rc;
	if (tab > g->cap_tab) {
		size_t ct = g->cap_tab;
		if ((rc = grow(g, (void **)&g->tab, &ct, tab, sizeof(int4), "the token table")))
			return rc;
		/* Pageable on purpose: cudaMemcpyAsync has read it when it returns, so it may be
		 * rewritten for the next step even when this one ended early on an error. */
		int4 *p = (int4 *)realloc(g->htab, tab * sizeof(int4));
		if (!p)
			return SB_ENOMEM;
		g->htab = p;
		g->cap_tab = tab;
	}
	return 0;
}

/* What a step needs besides its tokens: the decode kernel's tokens and split, the prefill's
 * head groups and score buffer. */
struct plan {
	size_t tokens, nsmall;
	int maxsee, splits, chunk;
	size_t score, part;
};

/* Heads of a prefill of nt tokens over kvlen keys per group: the scores and probabilities of
 * a group within SCORE_BUDGET (one head at least). */
static int head_group(const struct sb_model_gpu *g, size_t nt, size_t kvlen)
{
	size_t heads = hidden_local(g) / (size_t)head_dim(g);
	size_t per = nt * kvlen * (sizeof(float) + sizeof(bf16));
	size_t gh = SCORE_BUDGET / (per ? per : 1);
	return (int)(gh < 1 ? 1 : gh > heads ? heads : gh);
}

static void plan_step(const struct sb_model_gpu *g, const struct sb_model_req *r, int n,
                      struct plan *p)
{
	memset(p, 0, sizeof *p);
	int heads = (int)(hidden_local(g) / (size_t)head_dim(g));
	for (int i = 0; i < n; i++) {
		size_t nt = (size_t)r[i].ntok, kvlen = (size_t)r[i].ctx + nt;
		p->tokens += nt;
		if (nt <= SMALL_STEP) {
			p->nsmall += nt;
			p->maxsee =
			    r[i].ctx + r[i].ntok > p->maxsee ? r[i].ctx + r[i].ntok : p->maxsee;
		} else {
			size_t sc = (size_t)head_group(g, nt, kvlen) * nt * kvlen;
			p->score = sc > p->score ? sc : p->score;
		}
	}
	/* Split the context when the (token, head) blocks are too few to fill the device: about
	 * four blocks a multiprocessor, each split DEC_MIN_KEYS keys at least. */
	p->splits = 1;
	size_t blocks = p->nsmall * (size_t)heads, want = (size_t)4 * (size_t)g->sms;
	if (p->nsmall && blocks < want) {
		size_t s = (want + blocks - 1) / blocks;
		size_t most = ((size_t)p->maxsee + DEC_MIN_KEYS - 1) / DEC_MIN_KEYS;
		s = s < most ? s : most;
		p->splits = s > 1 ? (int)s : 1;
	}
	p->chunk = p->maxsee ? (p->maxsee + p->splits - 1) / p->splits : 0;
	if (p->splits > 1)
		p->part = p->nsmall * (size_t)heads * (size_t)p->splits * (size_t)(head_dim(g) + 2);
}

/* The decode kernel for the head dimension: 16-byte loads where d is a multiple of 8 (rows
 * and heads then 16-byte aligned), else one bf16 a lane. */
static int attend_small(struct sb_model_gpu *g, const bf16 *kv, const struct plan *p)
{
	int d = head_dim(g), Hl = (int)hidden_local(g), heads = Hl / d;
	int vec = d % 8 == 0 ? 8 : 1, C = d / vec, G = 1;
	while (G < C && G < 32)
		G <<= 1;
	int nc = (C + G - 1) / G, ngroups = DEC_THREADS / G;
	size_t shm = (size_t)(2 * ngroups + ngroups * d) * sizeof(float);
	size_t slot_stride = 2 * (size_t)g->max_context * (size_t)Hl;
	size_t v_off = (size_t)g->max_context * (size_t)Hl;
	float scale = 1.0f / sqrtf((float)d), *part = p->splits > 1 ? g->part : NULL;
	dim3 grid((unsigned)p->nsmall, (unsigned)heads, (unsigned)p->splits);
	const int4 *tab = g->tab + p->tokens; /* the small requests' tokens follow the step's */
#define DECODE(V, N)                                                                               \
	attend_decode<V, N><<<grid, DEC_THREADS, shm, g->stream>>>(                                \
	    g->qkv, kv, g->a, tab, Hl, d, G, slot_stride, v_off, scale, p->chunk, part)
	if (vec == 8 && nc == 1)
		DECODE(8, 1);
	else if (vec == 8 && nc == 2)
		DECODE(8, 2);
	else if (vec == 8)
		DECODE(8, 4); /* d <= 1024 (init) */
	else if (nc == 1)
		DECODE(1, 1);
	else
		DECODE(1, 8); /* d <= 256 (init) */
#undef DECODE
	int rc = launched("attend_decode");
	if (rc == 0 && part) {
		attend_combine<<<dim3((unsigned)p->nsmall, (unsigned)heads), 128, 0, g->stream>>>(
		    part, g->a, tab, Hl, d, p->splits);
		rc = launched("attend_combine");
	}
	return rc;
}

/* The prefill's attention of request q (its new tokens from QKV row row0) by GEMMs, heads in
 * groups: S = Q K^T / sqrt(d) (float32), causal softmax, A = P V (bf16). */
static int attend_prefill(struct sb_model_gpu *g, bf16 *kv, const struct sb_model_req *q,
                          size_t row0)
{
	int d = head_dim(g), Hl = (int)hidden_local(g), heads = Hl / d;
	int nt = q->ntok, ctx = q->ctx, kvlen = ctx + nt;
	int gh = head_group(g, (size_t)nt, (size_t)kvlen), rc = 0;
	bf16 *k = kv + (size_t)q->slot * 2 * (size_t)g->max_context * (size_t)Hl;
	bf16 *v = k + (size_t)g->max_context * (size_t)Hl;
	long long sst = (long long)nt * kvlen;
	float scale = 1.0f / sqrtf((float)d);
	for (int h0 = 0; h0 < heads && rc == 0; h0 += gh) {
		int nh = heads - h0 < gh ? heads - h0 : gh;
		struct mat qm = {g->qkv + row0 * 3 * Hl + (size_t)h0 * d, CUDA_R_16BF, 3 * Hl, d};
		struct mat km = {k + (size_t)h0 * d, CUDA_R_16BF, Hl, d};
		struct mat vm = {v + (size_t)h0 * d, CUDA_R_16BF, Hl, d};
		struct mat sm = {g->score, CUDA_R_32F, kvlen, sst};
		struct mat pm = {g->prob, CUDA_R_16BF, kvlen, sst};
		struct mat am = {g->a + row0 * Hl + (size_t)h0 * d, CUDA_R_16BF, Hl, d};
		if ((rc = gemm(g->blas, "prefill scores", 1, nt, kvlen, d, scale, qm, km, sm, nh)))
			break;
		softmax_causal<<<dim3((unsigned)nt, (unsigned)nh), 256, 0, g->stream>>>(
		    g->score, g->prob, nt, kvlen, ctx);
		if ((rc = launched("softmax_causal")) == 0)
			rc = gemm(g->blas, "prefill P V", 0, nt, d, kvlen, 1.0f, pm, vm, am, nh);
	}
	return rc;
}

static int attention(struct sb_model_gpu *g, int l, const struct sb_model_req *r, int n,
                     const struct plan *p)
{
	int H = g->s.hidden, Hl = (int)hidden_local(g), tok = (int)p->tokens;
	bf16 *kv = g->kv + (size_t)l * g->kvlayer;
	struct mat h = {g->h, CUDA_R_16BF, H, 0}, wq = {w_qkv(g, l), CUDA_R_16BF, 3 * Hl, 0};
	struct mat qkv = {g->qkv, CUDA_R_16BF, 3 * Hl, 0};
	int rc = gemm(g->blas, "QKV", 0, tok, 3 * Hl, H, 1.0f, h, wq, qkv, 1);
	if (rc)
		return rc;
	kv_append<<<tok, 128, 0, g->stream>>>(g->qkv, kv, g->tab, Hl,
	                                      2 * (size_t)g->max_context * (size_t)Hl,
	                                      (size_t)g->max_context * (size_t)Hl);
	if ((rc = launched("kv_append")))
		return rc;
	if (p->nsmall && (rc = attend_small(g, kv, p)))
		return rc;
	size_t row0 = 0;
	for (int i = 0; i < n && rc == 0; row0 += (size_t)r[i].ntok, i++)
		if (r[i].ntok > SMALL_STEP)
			rc = attend_prefill(g, kv, &r[i], row0);
	if (rc)
		return rc;
	/* Row-parallel output projection: this shard's partial sum, float32 for the all-reduce. */
	struct mat a = {g->a, CUDA_R_16BF, Hl, 0}, wo = {w_o(g, l), CUDA_R_16BF, H, 0};
	struct mat out = {g->out, CUDA_R_32F, H, 0};
	return gemm(g->blas, "attention output", 0, tok, H, Hl, 1.0f, a, wo, out, 1);
}

static int mlp(struct sb_model_gpu *g, int l, size_t tokens)
{
	int H = g->s.hidden, Fl = (int)ffn_local(g), tok = (int)tokens, rc;
	struct mat h = {g->h, CUDA_R_16BF, H, 0}, w1 = {w_1(g, l), CUDA_R_16BF, Fl, 0};
	struct mat mid = {g->mid, CUDA_R_32F, Fl, 0}, midb = {g->midb, CUDA_R_16BF, Fl, 0};
	struct mat w2 = {w_2(g, l), CUDA_R_16BF, H, 0}, out = {g->out, CUDA_R_32F, H, 0};
	if ((rc = gemm(g->blas, "MLP W_1", 0, tok, Fl, H, 1.0f, h, w1, mid, 1)))
		return rc;
	gelu<<<grid_for(g, tokens * (size_t)Fl), 256, 0, g->stream>>>(g->mid, g->midb,
	                                                              tokens * (size_t)Fl);
	if ((rc = launched("gelu")))
		return rc;
	return gemm(g->blas, "MLP W_2", 0, tok, H, Fl, 1.0f, midb, w2, out, 1);
}

/* All-reduce g->out in place over tp, the k-th of the step, between events k on the stream.
 * NCCL runs on the stream, ordered after the kernels that wrote out; MPI (mpi-gpu, CUDA-aware)
 * reads the device memory outside it, so the stream is waited for first. */
static int reduce(struct sb_model_gpu *g, struct sb_comm *tp, size_t count, int k)
{
	int rc;
	if (strcmp(tp->be->name, "nccl") != 0 && (rc = sb_gpu_stream_sync(g->stream)))
		return rc;
	CU(cudaEventRecord(g->ev[2 * k], g->stream));
	if ((rc = tp->be->allreduce(tp, g->out, g->out, count, SB_FLOAT, SB_SUM)))
		return rc;
	CU(cudaEventRecord(g->ev[2 * k + 1], g->stream));
	return 0;
}

/* The requests' validity, by the host model's own rules: sb_model_reqs_check reads only the
 * slots, the context bound and the slot lengths, which a host model struct carries as ours. */
static int reqs_check(const struct sb_model_gpu *g, const struct sb_model_req *r, int n)
{
	struct sb_model m;
	memset(&m, 0, sizeof m);
	m.s = g->s;
	m.tp = g->tp, m.shard = g->shard;
	m.max_batch = g->max_batch, m.max_context = g->max_context;
	m.len = g->len;
	return sb_model_reqs_check(&m, r, n);
}

int sb_model_gpu_step(struct sb_model_gpu *g, struct sb_comm *tp, const struct sb_model_req *r,
                      int n, struct sb_model_times *t)
{
	if (reqs_check(g, r, n) || (tp && tp->size != g->tp) || (!tp && g->tp != 1))
		return SB_EINVAL;
	/* Device memory goes to the backend: a host-memory one (fake, mpi) cannot take it, but
	 * a group of one rank, whose all-reduce is the identity, needs none. */
	int reducing = tp && (tp->be->caps & SB_CAP_DEVICE_MEM);
	if (tp && !reducing && tp->size > 1) {
		sb_log_usage("infer GPU model: backend %s moves host memory; the GPU model's "
		             "all-reduces need a device-memory backend (nccl, mpi-gpu)",
		             tp->be->name);
		return SB_EINVAL;
	}
	if (reducing && tp->be->stream && tp->be->stream(tp) != (void *)g->stream) {
		sb_log_fault("infer GPU model: its stream is not backend %s's: the all-reduces "
		             "would not be ordered with its kernels",
		             tp->be->name);
		return SB_EINVAL;
	}
	double t0 = sb_now();
	struct plan p;
	plan_step(g, r, n, &p);
	if (t)
		t->compute = t->allreduce = t->allreduce_elems = 0;
	g->last_tokens = 0;
	if (p.tokens == 0)
		return 0;
	int rc = reserve(g, p.tokens, p.score, p.part, p.tokens + p.nsmall);
	if (rc)
		return rc;
	/* The token table: every token of the step, then the small requests' tokens again for
	 * the decode kernel. */
	size_t k = 0, ks = p.tokens;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < r[i].ntok; j++, k++) {
			g->htab[k] = make_int4((int)k, r[i].slot, r[i].ctx + j, 0);
			if (r[i].ntok <= SMALL_STEP)
				g->htab[ks++] = g->htab[k];
		}
	CU(cudaMemcpyAsync(g->tab, g->htab, ks * sizeof(int4), cudaMemcpyHostToDevice, g->stream));
	int H = g->s.hidden, tok = (int)p.tokens;
	size_t count = p.tokens * (size_t)H;
	make_input<<<tok, 256, 0, g->stream>>>(g->x, g->tab, H, g->seed);
	if ((rc = launched("make_input")))
		return rc;
	int nred = 0;
	for (int l = 0; l < g->s.layers; l++) {
		/* The previous block's output is added to x in the norm's kernel. */
		add_rmsnorm<<<tok, 256, 0, g->stream>>>(g->x, l ? g->out : NULL, g->h, H);
		if ((rc = launched("add_rmsnorm")) || (rc = attention(g, l, r, n, &p)) ||
		    (reducing && (rc = reduce(g, tp, count, nred++))))
			return rc;
		add_rmsnorm<<<tok, 256, 0, g->stream>>>(g->x, g->out, g->h, H);
		if ((rc = launched("add_rmsnorm")) || (rc = mlp(g, l, p.tokens)) ||
		    (reducing && (rc = reduce(g, tp, count, nred++))))
			return rc;
	}
	add_rmsnorm<<<tok, 256, 0, g->stream>>>(g->x, g->out, NULL, H);
	if ((rc = launched("add_rmsnorm")))
		return rc;
	/* The backend's wait first where it has one: NCCL's polls for a peer's failure, where
	 * cudaStreamSynchronize would wait for ever. */
	if ((reducing && (rc = sb_comm_sync(tp))) || (rc = sb_gpu_stream_sync(g->stream)))
		return rc;
	double ar = 0;
	for (int i = 0; i < nred; i++) {
		float ms = 0;
		CU(cudaEventElapsedTime(&ms, g->ev[2 * i], g->ev[2 * i + 1]));
		ar += 1e-3 * ms;
	}
	for (int i = 0; i < n; i++)
		g->len[r[i].slot] = r[i].ctx + r[i].ntok;
	g->last_tokens = p.tokens;
	if (t) {
		t->allreduce = ar;
		t->allreduce_elems = (double)nred * (double)count;
		t->compute = sb_now() - t0 - ar;
	}
	return 0;
}

int sb_model_gpu_output(struct sb_model_gpu *g, float *x, size_t count)
{
	if (count > g->last_tokens * (size_t)g->s.hidden)
		return SB_EINVAL;
	if (count == 0)
		return 0;
	int rc = sb_gpu_copy_to_host(x, g->x, count * sizeof *x, g->stream);
	return rc ? rc : sb_gpu_stream_sync(g->stream);
}

int sb_model_gpu_check(struct sb_comm *tp, const struct sb_model_shape *s, uint64_t seed, int batch,
                       int prompt, int decode, void *stream, double *err)
{
	if (sb_model_shape_check(s, tp->size) || batch < 1 || prompt < 1 || decode < 0)
		return SB_EINVAL;
	struct sb_model_gpu *m = NULL, *ref = NULL;
	int root = tp->rank == 0, ctx = prompt + decode, rc, rrc = 0;
	rc = sb_model_gpu_init(&m, s, tp->size, tp->rank, batch, ctx, seed, stream);
	if (rc == 0 && root)
		rc = sb_model_gpu_init(&ref, s, 1, 0, batch, ctx, seed, stream);
	/* Device memory differs between ranks: all go on, or none (a rank that left would leave
	 * the others waiting in an all-reduce). The code is the worst rank's. */
	double bad = -rc;
	int crc = sb_ctl_max(tp, &bad, 1);
	if (crc || bad > 0) {
		sb_model_gpu_free(m);
		sb_model_gpu_free(ref);
		return crc ? crc : rc ? rc : -(int)bad;
	}
	struct sb_model_req *r = (struct sb_model_req *)malloc((size_t)batch * sizeof *r);
	size_t H = (size_t)s->hidden, cap = (size_t)batch * (size_t)prompt * H;
	float *x = root ? (float *)malloc(cap * sizeof *x) : NULL;
	float *xr = root ? (float *)malloc(cap * sizeof *xr) : NULL;
	if (!r || (root && (!x || !xr)))
		rc = SB_ENOMEM;
	double worst = 0;
	for (int step = 0; step <= decode && rc == 0; step++) {
		for (int i = 0; i < batch; i++)
			r[i] = (struct sb_model_req){i, step ? prompt + step - 1 : 0,
			                             step ? 1 : prompt};
		size_t count = sb_model_tokens(r, batch) * H;
		if ((rc = sb_model_gpu_step(m, tp, r, batch, NULL)) != 0)
			break;
		if (!root || rrc)
			continue;
		if ((rrc = sb_model_gpu_step(ref, NULL, r, batch, NULL)) == 0 &&
		    (rrc = sb_model_gpu_output(m, x, count)) == 0 &&
		    (rrc = sb_model_gpu_output(ref, xr, count)) == 0) {
			double diff = 0, mag = 0;
			for (size_t i = 0; i < count; i++) {
				diff = fmax(diff, fabs((double)x[i] - xr[i]));
				mag = fmax(mag, fabs((double)xr[i]));
			}
			diff /= mag > 0 ? mag : 1;
			worst = diff > worst ? diff : worst;
		}
	}
	/* Every rank learns the verdict: the error, and rank 0's failure to run the reference
	 * (its code, negated). */
	double v[2] = {worst, (double)-rrc};
	if (rc == 0)
		rc = sb_ctl_max(tp, v, 2);
	if (rc == 0 && v[1] > 0)
		rc = -(int)v[1];
	if (rc == 0 && err)
		*err = v[0];
	if (rc == 0 && !(v[0] <= 2e-2))
		rc = SB_ECHECK;
	free(r), free(x), free(xr);
	sb_model_gpu_free(m);
	sb_model_gpu_free(ref);
	return rc;
}
