#include "gemm.h"

#include "error.h"
#include "timer.h"
#ifdef SB_HAVE_CUDA
#include "gpu.h"
#endif

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *sb_gemm_dtype_name(enum sb_gemm_dtype t)
{
	return t == SB_GEMM_BF16 ? "bf16" : "fp32";
}

size_t sb_gemm_dtype_size(enum sb_gemm_dtype t)
{
	return t == SB_GEMM_BF16 ? 2 : 4;
}

/* The values of every operand, host and device alike: scale x ((i mod 7) - 3). Varied data,
 * as a model's are: constant operands draw less power and would flatter the rate. */
static float *fill(size_t n, float scale)
{
	float *p = malloc(n * sizeof *p + 1);
	for (size_t i = 0; p && i < n; i++)
		p[i] = scale * (float)((int)(i % 7) - 3);
	return p;
}

int sb_gemm_init(struct sb_gemm *g, size_t tokens, size_t hidden)
{
	memset(g, 0, sizeof *g);
	g->tokens = tokens;
	g->hidden = hidden;
	g->dtype = SB_GEMM_FP32;
	/* One thread: every rank already owns a core; OpenBLAS's pool would oversubscribe. */
	openblas_set_num_threads(1);
	size_t a = tokens * hidden, w = hidden * hidden;
	g->x = fill(a, 1.0f / 64);
	g->w = fill(w, 1.0f / 64);
	g->y = fill(a, 0);
	g->dy = fill(a, 1.0f / 64);
	g->dx = fill(a, 0);
	g->dw = fill(w, 0);
	if (!g->x || !g->w || !g->y || !g->dy || !g->dx || !g->dw) {
		sb_gemm_free(g);
		return SB_ENOMEM;
	}
	return 0;
}

int sb_gemm_init_device(struct sb_gemm *g, size_t tokens, size_t hidden, enum sb_gemm_dtype t,
                        void *stream)
{
	memset(g, 0, sizeof *g);
#ifdef SB_HAVE_CUDA
	g->tokens = tokens;
	g->hidden = hidden;
	g->dtype = t;
	g->stream = stream;
	size_t a = tokens * hidden, w = hidden * hidden, es = sb_gemm_dtype_size(t);
	void **bufs[] = {&g->x, &g->w, &g->y, &g->dy, &g->dx, &g->dw};
	size_t sizes[] = {a, w, a, a, a, w};
	int rc = 0;
	for (size_t i = 0; i < 6 && rc == 0; i++)
		if (!(*bufs[i] = sb_gpu_malloc(sizes[i] * es)))
			rc = SB_ENOMEM;
	/* Small values as on the host (the zeroed outputs stay as they are). */
	if (rc == 0)
		rc = sb_gpu_fill_ramp(g->x, a, t, 1.0f / 64, stream);
	if (rc == 0)
		rc = sb_gpu_fill_ramp(g->w, w, t, 1.0f / 64, stream);
	if (rc == 0)
		rc = sb_gpu_fill_ramp(g->dy, a, t, 1.0f / 64, stream);
	if (rc == 0)
		rc = sb_gpu_blas_create(stream, &g->blas);
	if (rc == 0)
		rc = sb_gpu_stream_sync(stream);
	if (rc)
		sb_gemm_free(g);
	return rc;
#else
	(void)g, (void)tokens, (void)hidden, (void)t, (void)stream;
	return SB_ENOTSUP;
#endif
}

void sb_gemm_free(struct sb_gemm *g)
{
#ifdef SB_HAVE_CUDA
	if (g->stream) {
		void *bufs[] = {g->x, g->w, g->y, g->dy, g->dx, g->dw};
		for (size_t i = 0; i < 6; i++)
			sb_gpu_free(bufs[i]);
		sb_gpu_blas_destroy(g->blas);
		memset(g, 0, sizeof *g);
		return;
	}
#endif
	free(g->x);
	free(g->w);
	free(g->y);
	free(g->dy);
	free(g->dx);
	free(g->dw);
	memset(g, 0, sizeof *g);
}

int sb_gemm_forward(struct sb_gemm *g)
{
	int t = (int)g->tokens, h = (int)g->hidden;
#ifdef SB_HAVE_CUDA
	if (g->stream) {
		int rc = sb_gpu_gemm(g->blas, g->dtype, 0, 0, t, h, h, g->x, h, g->w, h, g->y, h);
		return rc ? rc : sb_gpu_stream_sync(g->stream);
	}
#endif
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, h, h, 1.0f, g->x, h, g->w, h,
	            0.0f, g->y, h);
	return 0;
}

int sb_gemm_backward(struct sb_gemm *g)
{
	int t = (int)g->tokens, h = (int)g->hidden;
#ifdef SB_HAVE_CUDA
	if (g->stream) {
		int rc = sb_gpu_gemm(g->blas, g->dtype, 0, 1, t, h, h, g->dy, h, g->w, h, g->dx, h);
		if (rc == 0)
			rc = sb_gpu_gemm(g->blas, g->dtype, 1, 0, h, h, t, g->x, h, g->dy, h, g->dw,
			                 h);
		return rc ? rc : sb_gpu_stream_sync(g->stream);
	}
#endif
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, h, h, 1.0f, g->dy, h, g->w, h, 0.0f,
	            g->dx, h);
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, h, t, 1.0f, g->x, h, g->dy, h, 0.0f,
	            g->dw, h);
	return 0;
}

double sb_gemm_flops(const struct sb_gemm *g)
{
	return 2.0 * (double)g->tokens * (double)g->hidden * (double)g->hidden;
}

const char *sb_gemm_library(const struct sb_gemm *g)
{
#ifdef SB_HAVE_CUDA
	if (g && g->stream)
		return sb_gpu_blas_version();
#endif
	(void)g;
	return openblas_get_config();
}

int sb_gemm_peak(void *stream, enum sb_gemm_dtype t, int n, int reps, double *flops, int *used)
{
	if (stream) {
#ifdef SB_HAVE_CUDA
		return sb_gpu_gemm_peak(t, n, reps, stream, flops, used);
#else
		return SB_ENOTSUP;
#endif
	}
	if (t != SB_GEMM_FP32)
		return SB_ENOTSUP;
	struct sb_gemm g;
	int rc = sb_gemm_init(&g, (size_t)n, (size_t)n);
	if (rc)
		return rc;
	double best = INFINITY;
	sb_gemm_forward(&g); /* warm-up */
	for (int i = 0; i < reps; i++) {
		double t0 = sb_now();
		sb_gemm_forward(&g);
		double dt = sb_now() - t0;
		best = dt < best ? dt : best;
	}
	*flops = best > 0 && isfinite(best) ? sb_gemm_flops(&g) / best : 0;
	*used = n;
	sb_gemm_free(&g);
	return 0;
}

int sb_copy_rate(void *stream, size_t bytes, int reps, double *bps)
{
	if (stream) {
#ifdef SB_HAVE_CUDA
		return sb_gpu_copy_bandwidth(bytes, reps, bps);
#else
		return SB_ENOTSUP;
#endif
	}
	char *a = malloc(bytes), *b = malloc(bytes);
	if (!a || !b) {
		free(a), free(b);
		return SB_ENOMEM;
	}
	memset(a, 1, bytes), memset(b, 0, bytes); /* both mapped before the clock runs */
	double best = INFINITY;
	for (int i = 0; i < reps; i++) {
		double t0 = sb_now();
		memcpy(b, a, bytes);
		double dt = sb_now() - t0;
		best = dt < best ? dt : best;
	}
	/* A copy reads and writes every byte. b's first byte keeps the copy from being elided. */
	*bps = best > 0 && isfinite(best) && b[0] == 1 ? 2.0 * (double)bytes / best : 0;
	free(a), free(b);
	return 0;
}

int sb_spin(void *stream, double sec, double *spent)
{
	double t0 = sb_now(), t = t0;
	int rc = 0;
	if (sec > 0 && stream) {
#ifdef SB_HAVE_CUDA
		if ((rc = sb_gpu_spin(sec, stream)) == 0)
			rc = sb_gpu_stream_sync(stream);
		t = sb_now();
#else
		rc = SB_ENOTSUP;
#endif
	} else if (sec > 0) {
		while ((t = sb_now()) - t0 < sec)
			;
	}
	*spent = t - t0;
	return rc;
}
