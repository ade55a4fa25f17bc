/* GPU buffers, check patterns, streams and events behind a C interface: the only CUDA the
 * rest of scalebench sees. Implemented in gpu_cuda.cu (nvcc); a build without CUDA has none of
 * these and no GPU backends. Every function returns 0 or a negative SB_E* code, after printing
 * a rank-tagged message naming the CUDA call that failed. */
#ifndef SB_GPU_H
#define SB_GPU_H

#include "comm.h"

#include <jansson.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Choose the device: `device` if >= 0, else local_rank modulo the device count; make it
 * current. *dev gets the index. SB_ENOTSUP with the reason in why when there is none. */
int sb_gpu_select(int local_rank, int device, int *dev, char *why, size_t len);

/* The device's name, UUID, PCI bus id, and the driver and runtime versions. */
json_t *sb_gpu_describe_device(int dev);
/* PCI bus id of the device, "0000:3b:00.0" (lower case, as hwloc writes it). */
int sb_gpu_bus_id(int dev, char *out, size_t len);

void *sb_gpu_malloc(size_t bytes); /* device memory, zeroed; NULL on failure */
void sb_gpu_free(void *p);
void *sb_gpu_malloc_host(size_t bytes); /* pinned host memory; NULL on failure */
void sb_gpu_free_host(void *p);

/* A stream of the current device, as an opaque handle. */
int sb_gpu_stream_create(void **stream);
void sb_gpu_stream_destroy(void *stream);
int sb_gpu_stream_sync(void *stream);
/* 1 when the stream's work is done, 0 when not yet, negative on an error. */
int sb_gpu_stream_query(void *stream);

/* Copies on the stream (asynchronous). */
int sb_gpu_copy_to_host(void *dst, const void *src, size_t bytes, void *stream);
int sb_gpu_copy_to_device(void *dst, const void *src, size_t bytes, void *stream);
int sb_gpu_copy_device(void *dst, const void *src, size_t bytes, void *stream);

/* The check patterns of pattern.h, on device buffers, on the stream. The checks synchronise
 * the stream and return the count of wrong elements. */
int sb_gpu_fill(void *buf, size_t count, enum sb_dtype t, int rank, unsigned seed, void *stream);
int sb_gpu_check_rank(const void *buf, size_t count, enum sb_dtype t, int rank, unsigned seed,
                      void *stream, size_t *wrong);
int sb_gpu_check_sum(const void *buf, size_t count, enum sb_dtype t, int nranks, unsigned seed,
                     void *stream, size_t *wrong);

/* A pair of events timing the work between them on the stream. */
struct sb_gpu_timer;
int sb_gpu_timer_create(struct sb_gpu_timer **t);
void sb_gpu_timer_destroy(struct sb_gpu_timer *t);
int sb_gpu_timer_start(struct sb_gpu_timer *t, void *stream);
int sb_gpu_timer_stop(struct sb_gpu_timer *t, void *stream);
/* Seconds between start and stop; the stream must have passed stop. */
int sb_gpu_timer_read(struct sb_gpu_timer *t, double *seconds);

/* CUDA graphs: capture what `issue` puts on the stream, then replay it. */
struct sb_gpu_graph;
int sb_gpu_graph_capture(void *stream, int (*issue)(void *arg), void *arg, struct sb_gpu_graph **g);
int sb_gpu_graph_launch(struct sb_gpu_graph *g, void *stream);
void sb_gpu_graph_destroy(struct sb_gpu_graph *g);

/* Compute for the pipeline's stages, on the stream (asynchronous). A busy kernel that runs for
 * `sec` seconds by the GPU's global timer (one thread: the duration is the point, not the
 * FLOPs). */
int sb_gpu_spin(double sec, void *stream);
/* Fill a float buffer with one value. */
int sb_gpu_fill_float(float *buf, size_t count, float v, void *stream);
/* cuBLAS: a handle bound to the stream; C = op(A) op(B) in row-major storage, C is m x n and
 * op(A) m x k, trans_a / trans_b 1 for the transpose. */
int sb_gpu_blas_create(void *stream, void **handle);
void sb_gpu_blas_destroy(void *handle);
int sb_gpu_sgemm(void *handle, int trans_a, int trans_b, int m, int n, int k, const float *a,
                 int lda, const float *b, int ldb, float *c, int ldc);
/* The cuBLAS version, for the record ("cuBLAS 13.0.0"). */
const char *sb_gpu_blas_version(void);

/* Device-to-device copy bandwidth of the current device (bytes per copy, iterations), for
 * the record: B/s, by CUDA events. */
int sb_gpu_copy_bandwidth(size_t bytes, int iters, double *bps);

#ifdef __cplusplus
}
#endif

#endif
