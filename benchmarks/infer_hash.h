/* The infer model's deterministic values, shared by the host model (infer_model.c) and the GPU
 * one (infer_gpu.cu) so that both build the same weights and inputs element for element: a
 * value is a hash of where it sits in the unsharded model, so a shard is exactly its block of
 * the T=1 model's matrices whichever device builds it. */
#ifndef SB_INFER_HASH_H
#define SB_INFER_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define SB_HD __host__ __device__
#else
#define SB_HD
#endif

/* The matrices of a layer, for the hash. */
enum { SB_MAT_QKV, SB_MAT_O, SB_MAT_W1, SB_MAT_W2 };

/* splitmix64's finaliser. */
SB_HD static inline uint64_t sb_infer_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* k in -8..8 from a hash. */
SB_HD static inline float sb_infer_small(uint64_t h)
{
	return (float)((int)(h % 17) - 8);
}

/* The hash of global row `row` of matrix `mat` of layer l; element (row, col) is then
 * scale x sb_infer_small(sb_infer_mix(base + col)), scale from sb_infer_weight_scale. */
SB_HD static inline uint64_t sb_infer_row_base(uint64_t seed, int l, int mat, uint64_t row)
{
	return sb_infer_mix(sb_infer_mix(seed ^ ((uint64_t)l << 40) ^ ((uint64_t)mat << 56)) + row);
}

/* Element j of the input activation of the token at position pos of the request in slot. */
SB_HD static inline float sb_infer_input(uint64_t seed, int slot, int pos, size_t j)
{
	uint64_t base = sb_infer_mix(sb_infer_mix(seed ^ 0x5851f42d4c957f2dull) +
	                             ((uint64_t)slot << 32) + (uint64_t)pos);
	return sb_infer_small(sb_infer_mix(base + j)) / 8;
}

#endif
