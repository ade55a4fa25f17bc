/* GPU buffers, check patterns, streams and events behind a C interface: the only CUDA the
 * rest of scalebench sees. Implemented in gpu_cuda.cu (nvcc); a build without CUDA has none of
 * these and no GPU backends (whose shared hooks, over these, are comm_gpu.c's).
 * Every function returns 0 or a negative SB_E* code, after printing a rank-tagged message
 * naming the CUDA call that failed. */
#ifndef SB_GPU_H
#define SB_GPU_H

#include "comm.h"
#include "gemm.h"

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

/* The device's free and total memory in bytes (cudaMemGetInfo; the current device is left as
 * it was). Free memory is what every process on the device has left, their contexts counted. */
int sb_gpu_mem_info(int dev, size_t *free_bytes, size_t *total_bytes);

/* Device memory, zeroed; NULL on failure. Both synchronise the device (first ending any hold,
 * below, so they cannot wait for one to give up). */
void *sb_gpu_malloc(size_t bytes);
void sb_gpu_free(void *p);
void *sb_gpu_malloc_host(size_t bytes); /* pinned host memory; NULL on failure */
void sb_gpu_free_host(void *p);

/* A stream of the current device, as an opaque handle. */
int sb_gpu_stream_create(void **stream);
void sb_gpu_stream_destroy(void *stream);
/* Wait for the stream. A hold on it (below) is released first: a host that waits for a held
 * stream would otherwise wait for the hold to give up. */
int sb_gpu_stream_sync(void *stream);
/* 1 when the stream's work is done, 0 when not yet, negative on an error; releases a hold on
 * the stream first, as sb_gpu_stream_sync does (a caller polling it is waiting). */
int sb_gpu_stream_query(void *stream);

/* How this process's host threads wait for the current device in blocking CUDA calls
 * (cudaStreamSynchronize and the like): "spin" (lowest latency, a core busy), "yield" (spin
 * with sched_yield), "block" (sleep until an interrupt: cheapest, slowest to wake, tens to
 * hundreds of microseconds in a VM) or "auto" (CUDA's choice: spin unless the process has more
 * contexts than the machine has cores). SB_EINVAL for another name. */
int sb_gpu_sync_mode_set(const char *mode);
/* The current device's mode as set, one of the names above ("auto" when CUDA chooses). */
const char *sb_gpu_sync_mode(void);
/* 1 when contexts on the device are shared through MPS (kernels of several processes run at
 * once), 0 when each process has its own context and processes sharing the GPU take turns on
 * it (time-slicing), negative when the driver cannot tell. */
int sb_gpu_mps(int dev);

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

/* A stream hold: NVIDIA nvbench's blocking kernel. sb_gpu_hold_begin enqueues on a stream a
 * one-thread kernel that spins on host memory mapped into the device until
 * sb_gpu_hold_release writes it, so whatever is enqueued behind the hold (an event, the
 * operations, another event) starts only then, back to back on the device, and events around
 * it time the device's work without the host's launches between them. The kernel gives up by
 * itself `timeout` seconds after it started (by the GPU's global timer), so a hold that is never
 * released cannot hang the GPU; sb_gpu_hold_status then says so. Holds are numbered: hold k
 * ends when the released number reaches k, so nothing is reset between holds (no race with a
 * kernel still reading) and a late release cannot end a later hold. A host wait on the held
 * stream (sb_gpu_stream_sync, sb_gpu_stream_query, sb_gpu_malloc, sb_gpu_free) releases it
 * first: work that needs the host to wait for the stream cannot run behind a hold, and from
 * there it runs as without one. Enqueue at most a few hundred operations behind one hold: a
 * full launch queue blocks the host in the launch until the hold gives up. */
#define SB_GPU_HOLD_TIMEOUT 2.0 /* seconds: far beyond any launch sequence, short for a hang */
struct sb_gpu_hold;
int sb_gpu_hold_create(struct sb_gpu_hold **h);
/* Releases a pending hold and waits for its stream, which must still exist. */
void sb_gpu_hold_destroy(struct sb_gpu_hold *h);
/* Enqueue the hold on the stream (a hold still pending is released first). */
int sb_gpu_hold_begin(struct sb_gpu_hold *h, void *stream, double timeout);
/* Let the last hold end; 0 also when there is none pending (already released, or never). */
int sb_gpu_hold_release(struct sb_gpu_hold *h);
/* After the stream has passed the last hold: 0 when it was released in time, SB_ETIMEOUT when
 * the kernel gave up first (what followed it was then timed with some of its launches; the
 * message is printed for the first such hold only). */
int sb_gpu_hold_status(struct sb_gpu_hold *h);

/* CUDA graphs: capture what `issue` puts on the stream, then replay it. */
struct sb_gpu_graph;
int sb_gpu_graph_capture(void *stream, int (*issue)(void *arg), void *arg, struct sb_gpu_graph **g);
int sb_gpu_graph_launch(struct sb_gpu_graph *g, void *stream);
void sb_gpu_graph_destroy(struct sb_gpu_graph *g);

/* Compute for the pipeline's stages, on the stream (asynchronous). A busy kernel that runs for
 * `sec` seconds by the GPU's global timer (one thread: the duration is the point, not the
 * FLOPs). */
int sb_gpu_spin(double sec, void *stream);
/* Fill a GEMM operand of type t: element i = scale x ((i mod 7) - 3), as gemm.c's host fill. */
int sb_gpu_fill_ramp(void *buf, size_t count, enum sb_gemm_dtype t, float scale, void *stream);
/* cuBLAS: a handle bound to the stream; C = op(A) op(B) in row-major storage, C is m x n and
 * op(A) m x k, trans_a / trans_b 1 for the transpose; A, B and C of type t, accumulation in
 * float32 (bf16: cublasGemmEx on the tensor cores; fp32: plain float32, no TF32). */
int sb_gpu_blas_create(void *stream, void **handle);
void sb_gpu_blas_destroy(void *handle);
int sb_gpu_gemm(void *handle, enum sb_gemm_dtype t, int trans_a, int trans_b, int m, int n, int k,
                const void *a, int lda, const void *b, int ldb, void *c, int ldc);
/* The device's rate for one square GEMM of type t, n x n x n (2 n^3 FLOPs) on the stream: one
 * warm-up, then the best of `reps` each timed by events, in FLOP/s. Where 3 n x n matrices do
 * not fit, n is halved (down to 1024); *used gets the n run. Its buffers and cuBLAS handle are
 * its own, freed on return. */
int sb_gpu_gemm_peak(enum sb_gemm_dtype t, int n, int reps, void *stream, double *flops, int *used);
/* The cuBLAS version, for the record ("cuBLAS 13.0.0"). */
const char *sb_gpu_blas_version(void);

/* Device-to-device copy bandwidth of the current device (bytes per copy, iterations), for
 * the record: B/s, by CUDA events. */
int sb_gpu_copy_bandwidth(size_t bytes, int iters, double *bps);

#ifdef __cplusplus
}
#endif

#endif
