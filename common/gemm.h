/* Real work for a pipeline stage: the GEMMs of a linear layer on an activation of `tokens` rows
 * and `hidden` columns (float32), by OpenBLAS on one thread (a rank owns one core). Forward:
 * Y = X W. Backward: dX = dY W^T and dW = X^T dY, twice the forward's FLOPs. */
#ifndef SB_GEMM_H
#define SB_GEMM_H

#include <stddef.h>

struct sb_gemm {
	size_t tokens, hidden;
	float *x, *w, *y, *dy, *dx, *dw;
};

/* Allocate and fill with small values (no subnormals); SB_ENOMEM on failure. */
int sb_gemm_init(struct sb_gemm *g, size_t tokens, size_t hidden);
void sb_gemm_free(struct sb_gemm *g);
void sb_gemm_forward(struct sb_gemm *g);
void sb_gemm_backward(struct sb_gemm *g);
/* FLOPs of one forward (2 tokens hidden^2). */
double sb_gemm_flops(const struct sb_gemm *g);
/* The BLAS in use, for the record ("OpenBLAS 0.3.21 ..."). */
const char *sb_gemm_library(void);

#endif
