#include "gemm.h"

#include "error.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

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

void sb_gemm_free(struct sb_gemm *g)
{
	free(g->x);
	free(g->w);
	free(g->y);
	free(g->dy);
	free(g->dx);
	free(g->dw);
	memset(g, 0, sizeof *g);
}

void sb_gemm_forward(struct sb_gemm *g)
{
	int t = (int)g->tokens, h = (int)g->hidden;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, h, h, 1.0f, g->x, h, g->w, h,
	            0.0f, g->y, h);
}

void sb_gemm_backward(struct sb_gemm *g)
{
	int t = (int)g->tokens, h = (int)g->hidden;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, h, h, 1.0f, g->dy, h, g->w, h, 0.0f,
	            g->dx, h);
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, h, t, 1.0f, g->x, h, g->dy, h, 0.0f,
	            g->dw, h);
}

double sb_gemm_flops(const struct sb_gemm *g)
{
	return 2.0 * (double)g->tokens * (double)g->hidden * (double)g->hidden;
}

const char *sb_gemm_library(void)
{
	return openblas_get_config();
}
