/* Work for a pipeline stage. Real work: the GEMMs of a linear layer on an activation of
 * `tokens` rows and `hidden` columns, by OpenBLAS on one thread (a rank owns one core, float32
 * only) or by cuBLAS on the GPU of a device backend (float32, or bfloat16 with float32
 * accumulation on the tensor cores, as mixed-precision training runs). Forward: Y = X W.
 * Backward: dX = dY W^T and dW = X^T dY, twice the forward's FLOPs. Busy work: a spin of a
 * given duration, on the CPU or as a GPU kernel. GPU work is complete when these return (the
 * stream is synchronised), so the caller's clock around them times it. */
#ifndef SB_GEMM_H
#define SB_GEMM_H

#include <stddef.h>

/* Element type of the GEMMs' operands and results; accumulation is float32 in both. */
enum sb_gemm_dtype { SB_GEMM_FP32, SB_GEMM_BF16 };

const char *sb_gemm_dtype_name(enum sb_gemm_dtype t); /* "fp32", "bf16" */
size_t sb_gemm_dtype_size(enum sb_gemm_dtype t); /* bytes per element: 4, 2 */

struct sb_gemm {
	size_t tokens, hidden;
	enum sb_gemm_dtype dtype;
	/* Row-major matrices of dtype: float * on the host, device memory on a GPU. */
	void *x, *w, *y, *dy, *dx, *dw;
	void *stream; /* device: the stream the GEMMs run on; NULL on the host */
	void *blas; /* device: the cuBLAS handle */
};

/* Allocate and fill with small values (multiples of 1/64, no subnormals, exact in bf16 too);
 * float32 on the host. SB_ENOMEM on failure. */
int sb_gemm_init(struct sb_gemm *g, size_t tokens, size_t hidden);
/* The same on the current GPU, of type t, on `stream`; SB_ENOTSUP in a build without CUDA. */
int sb_gemm_init_device(struct sb_gemm *g, size_t tokens, size_t hidden, enum sb_gemm_dtype t,
                        void *stream);
void sb_gemm_free(struct sb_gemm *g);
int sb_gemm_forward(struct sb_gemm *g);
int sb_gemm_backward(struct sb_gemm *g);
/* FLOPs of one forward (2 tokens hidden^2). */
double sb_gemm_flops(const struct sb_gemm *g);
/* The BLAS in use, for the record ("OpenBLAS 0.3.21 ...", "cuBLAS 13.0.0"). */
const char *sb_gemm_library(const struct sb_gemm *g);

/* The GEMM rate for type t, the reference a step's GEMMs are held against: one square GEMM
 * of about n (smaller where memory is short; *used gets the size run), best of `reps` after a
 * warm-up, in FLOP/s. On the GPU of `stream` timed by CUDA events (SB_ENOTSUP without CUDA);
 * with stream NULL on the host by OpenBLAS on one thread, float32 only (SB_ENOTSUP for bf16). */
int sb_gemm_peak(void *stream, enum sb_gemm_dtype t, int n, int reps, double *flops, int *used);

/* Memory copy bandwidth, the reference for a step's bytes: the best of `reps` copies of
 * `bytes`, counted as read + write (2 bytes per byte copied), in B/s; device to device on the
 * current GPU where stream is not NULL, else memcpy on the host. */
int sb_copy_rate(void *stream, size_t bytes, int reps, double *bps);

/* Busy work for `sec` seconds: a spin on the monotonic clock, or with a stream a GPU kernel of
 * that duration, waited for. *spent gets the time it took. */
int sb_spin(void *stream, double sec, double *spent);

#endif
