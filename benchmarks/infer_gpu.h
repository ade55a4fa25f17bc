/* The infer benchmark's model step on a GPU: the host model of infer_model.h (the same
 * Megatron tensor-parallel layer, the same weights and inputs element for element) with bf16
 * weights, activations and KV cache, float32 accumulation (cuBLAS on the tensor cores), the
 * residual stream, norms, softmax and the all-reduced partial sums in float32. Everything runs
 * on one stream, the TP backend's (be->stream), so the backend's all-reduces and these kernels
 * are ordered without host waits; the host keeps only the slot lengths.
 *
 * Only in builds with CUDA (SB_HAVE_CUDA): guard the include. Every function returns 0 or a
 * negative SB_E* code, after a rank-tagged message naming the CUDA or cuBLAS call that failed. */
#ifndef SB_INFER_GPU_H
#define SB_INFER_GPU_H

#ifndef SB_HAVE_CUDA
#error "infer_gpu.h: this build has no CUDA (include it under #ifdef SB_HAVE_CUDA)"
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "infer_model.h"

struct sb_model_gpu;

/* Shard `shard` of `tp` of shape s (sb_model_shape_check) on the current device, all its work
 * on `stream` (a cudaStream_t; NULL is the legacy default stream). The bf16 weights are filled
 * by a kernel with exactly the host model's values (infer_hash.h scaled by
 * sb_model_weight_scale: exact in bf16); the bf16 KV cache has max_batch slots of max_context
 * tokens. The step's inputs come from seed too. SB_EINVAL for a bad shape, shard or sizes, or a
 * head dimension the attention kernel does not take (not a multiple of 8 and over 256, or over
 * 1024); SB_ENOMEM when the device's free memory is short (the message says how much was
 * needed and how much is free). */
int sb_model_gpu_init(struct sb_model_gpu **g, const struct sb_model_shape *s, int tp, int shard,
                      int max_batch, int max_context, uint64_t seed, void *stream);
/* Waits for the model's stream (which must still exist), then frees everything; NULL is
 * allowed. */
void sb_model_gpu_free(struct sb_model_gpu *g);

/* Tokens in slot's KV cache; -1 for a slot out of range. */
int sb_model_gpu_kv_len(const struct sb_model_gpu *g, int slot);

/* One step of the n requests (sb_model_reqs_check's rules, SB_EINVAL otherwise): the input x
 * (tokens x H, sb_model_input's values) is generated on the device, then every layer as
 * sb_model_step, the partial sums all-reduced in place through tp->be->allreduce on device
 * memory. tp: the TP group (g's tp ranks, this one its shard), or NULL when g is unsharded.
 * The backend must take device memory (nccl, mpi-gpu): SB_EINVAL otherwise, but for a group of
 * one rank, whose all-reduce is then skipped (the identity). The scratch grows to the step
 * (SB_ENOMEM as init). Returns after waiting for the stream; the slot lengths then move on.
 * t (may be NULL) gets the times: allreduce, the sum of CUDA-event intervals recorded on the
 * stream around each all-reduce (0 when there is none); compute, the step's host wall time
 * less that; allreduce_elems, the elements all-reduced (tokens x H, two per layer, when
 * there are all-reduces). */
int sb_model_gpu_step(struct sb_model_gpu *g, struct sb_comm *tp, const struct sb_model_req *r,
                      int n, struct sb_model_times *t);

/* Copy the first count floats of the last step's output x (tokens x H, row-major) to host
 * memory, complete on return. SB_EINVAL when count exceeds that step's tokens x H. */
int sb_model_gpu_output(struct sb_model_gpu *g, float *x, size_t count);

/* sb_model_check on the GPU (collective over tp): every rank runs its shard of shape s from
 * seed on `stream` (the backend's), a prefill of `batch` requests of `prompt` tokens then
 * `decode` decode steps; tp's rank 0 also runs the unsharded model on the same GPU and
 * compares x after every step. *err (may be NULL) gets the largest difference relative to the
 * step's largest |x|, the same on every rank. SB_ECHECK when it passes 2e-2: the shards sum
 * the row-parallel products in another order (and cuBLAS picks other kernels for their
 * shapes), and a float32 difference that flips the rounding of a bf16 intermediate (QKV,
 * attention, MLP middle) grows to bf16's 2^-9, so the bound is bf16's, not float32's 1e-4. */
int sb_model_gpu_check(struct sb_comm *tp, const struct sb_model_shape *s, uint64_t seed, int batch,
                       int prompt, int decode, void *stream, double *err);

#ifdef __cplusplus
}
#endif

#endif
