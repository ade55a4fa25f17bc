/* Work for a pipeline stage. Real work: the GEMMs of a linear layer on an activation of
 * `tokens` rows and `hidden` columns (float32), by OpenBLAS on one thread (a rank owns one
 * core) or by cuBLAS on the GPU of a device backend. Forward: Y = X W. Backward: dX = dY W^T
 * and dW = X^T dY, twice the forward's FLOPs. Busy work: a spin of a given duration, on the CPU
 * or as a GPU kernel. GPU work is complete when these return (the stream is synchronised), so
 * the caller's clock around them times it. */
#ifndef SB_GEMM_H
#define SB_GEMM_H

#include <stddef.h>

struct sb_gemm {
	size_t tokens, hidden;
	float *x, *w, *y, *dy, *dx, *dw;
	void *stream; /* device: the stream the GEMMs run on; NULL on the host */
	void *blas; /* device: the cuBLAS handle */
};

/* Allocate and fill with small values (no subnormals); SB_ENOMEM on failure. */
int sb_gemm_init(struct sb_gemm *g, size_t tokens, size_t hidden);
/* The same on the current GPU, on `stream`; SB_ENOTSUP in a build without CUDA. */
int sb_gemm_init_device(struct sb_gemm *g, size_t tokens, size_t hidden, void *stream);
void sb_gemm_free(struct sb_gemm *g);
int sb_gemm_forward(struct sb_gemm *g);
int sb_gemm_backward(struct sb_gemm *g);
/* FLOPs of one forward (2 tokens hidden^2). */
double sb_gemm_flops(const struct sb_gemm *g);
/* The BLAS in use, for the record ("OpenBLAS 0.3.21 ...", "cuBLAS 13.0.0"). */
const char *sb_gemm_library(const struct sb_gemm *g);

/* Busy work for `sec` seconds: a spin on the monotonic clock, or with a stream a GPU kernel of
 * that duration, waited for. *spent gets the time it took. */
int sb_spin(void *stream, double sec, double *spent);

#endif
