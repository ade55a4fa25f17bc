/* The infer benchmark's model step (issue 12, "Model step, real work"): a decoder-only
 * transformer cut by Megatron's tensor parallelism over T ranks of a TP group, each holding 1/T
 * of every layer, run in float32 by OpenBLAS on one thread.
 *
 * Per layer (pre-norm, as Llama): h = rmsnorm(x); the attention block QKV = h W_qkv
 * (column-parallel, this rank's N/T heads), K and V of the new tokens appended to each
 * request's KV cache slot, attention per request and head over its context (causal within the
 * new tokens), out = A W_o (row-parallel: a partial sum), all-reduce of tokens x H, x += out;
 * then the MLP block h = rmsnorm(x), GELU(h W_1) W_2 (column- then row-parallel), all-reduce,
 * x += out. The norms carry no weight and run on every rank (x is replicated); they keep x
 * bounded over many layers, so long and short models alike check within float tolerance.
 * GELU is the tanh approximation (GPT-2's). Embedding and the LM head are left out: the step
 * takes and returns the residual stream x. */
#ifndef SB_INFER_MODEL_H
#define SB_INFER_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct sb_comm;

/* A model's shape: hidden H, MLP width F, heads N (head dimension H / N; K and V have N heads
 * too, no grouped-query attention), layers L. */
struct sb_model_shape {
	int hidden, ffn, heads, layers;
};

/* The shape of a preset: "tiny" (H 256, F 1024, N 8, L 2: a decode step of a small batch in
 * well under a millisecond on one core), "8b" (H 4096, F 14336, N 32, L 32: Llama 3 8B's
 * layer, its 8 KV heads made 32) and "70b" (H 8192, F 28672, N 64, L 80). SB_EINVAL for an
 * unknown name. The names, for messages: SB_MODEL_PRESETS. */
#define SB_MODEL_PRESETS "tiny|8b|70b"
int sb_model_preset(const char *name, struct sb_model_shape *s);

/* Why shape s cannot be cut over tp ranks (sizes < 1, H not divisible by N, N or F not
 * divisible by T), as a message; NULL when it can. */
const char *sb_model_shape_check(const struct sb_model_shape *s, int tp);

/* One request of a step: its KV cache slot, its context length before the step (tokens
 * already in the slot; 0 starts it afresh) and its new tokens (the prompt's in prefill, 1 in
 * decode). */
struct sb_model_req {
	int slot, ctx, ntok;
};

/* Tokens of a step: the sum of ntok, the rows of its x. */
size_t sb_model_tokens(const struct sb_model_req *r, int n);

/* One TP rank's shard of the model, its KV cache and its scratch. */
struct sb_model {
	struct sb_model_shape s;
	int tp, shard; /* T and this rank's place in the group, 0..T-1 */
	int max_batch, max_context; /* KV cache slots and tokens per slot */
	struct sb_model_layer {
		float *qkv; /* H x 3H/T: [Q | K | V] of this shard's heads, each H x H/T */
		float *o; /* H/T x H */
		float *w1; /* H x F/T */
		float *w2; /* F/T x H */
		float *kv; /* per slot: K then V, each max_context x H/T */
	} * layer;
	int *len; /* tokens in each slot's cache */
	/* Scratch, grown to the largest step: rmsnorm(x), QKV, attention output, MLP middle,
	 * a partial sum to be all-reduced, attention scores. */
	float *h, *qkv, *a, *mid, *out, *score;
	size_t cap_tokens, cap_score;
};

/* Build shard `shard` of `tp` of shape s (checked), with a KV cache of max_batch slots of
 * max_context tokens each. The weights are a function of (seed, layer, matrix, global row,
 * global column) alone, so every rank builds its shard without communication and the shards
 * of T ranks are exactly the columns / rows of the T=1 model's matrices. Values are small
 * multiples of a power of two (k / 2^e, |k| <= 8, scaled by about 1 / (8 sqrt(fan-in))): no
 * subnormals, exact in bf16. SB_EINVAL for a bad shape or sizes, SB_ENOMEM. */
int sb_model_init(struct sb_model *m, const struct sb_model_shape *s, int tp, int shard,
                  int max_batch, int max_context, uint64_t seed);
void sb_model_free(struct sb_model *m);

/* The scale of a matrix's weights (infer_hash.h) with fan-in `fan_in` (H for W_qkv, W_o and
 * W_1, F for W_2): a power of two near 1 / (8 sqrt(fan_in)). */
float sb_model_weight_scale(int fan_in);

/* Tokens in slot's KV cache (its context after the steps run so far). */
int sb_model_kv_len(const struct sb_model *m, int slot);

/* The requests of a step fit the model: slots in range and distinct, 0 <= ctx <= the slot's
 * length, ntok >= 1, ctx + ntok <= max_context. SB_EINVAL otherwise. */
int sb_model_reqs_check(const struct sb_model *m, const struct sb_model_req *r, int n);

/* Deterministic input activations for a step (tokens x H): a function of (seed, slot, token
 * position), so a sharded and an unsharded run of the same steps see the same x. */
void sb_model_input(const struct sb_model_shape *s, const struct sb_model_req *r, int n,
                    uint64_t seed, float *x);

/* The two halves of a layer, for sb_model_step and for tests that run the T shards in one
 * process: each reads x (tokens x H, not modified) and leaves this shard's partial output in
 * m->out (tokens x H), which summed over the T shards is what x gets added. The attention
 * block appends the new tokens' K and V to the cache of layer l (the slot lengths move on in
 * sb_model_step, or by sb_model_advance). Requests must pass sb_model_reqs_check. */
int sb_model_attention(struct sb_model *m, int l, const struct sb_model_req *r, int n,
                       const float *x);
int sb_model_mlp(struct sb_model *m, int l, size_t tokens, const float *x);
/* After every layer of a step: each request's slot length becomes ctx + ntok. */
void sb_model_advance(struct sb_model *m, const struct sb_model_req *r, int n);

/* Times of one step, seconds: the all-reduces (the sum of their durations on sb_comm_now's
 * clock) and the rest (the compute, on the host's clock); and the elements all-reduced (two
 * all-reduces of tokens x H per layer when T > 1, else none). */
struct sb_model_times {
	double compute, allreduce, allreduce_elems;
};

/* Run one step of the n requests on x (tokens x H, replicated on the TP group's ranks, updated
 * in place to the step's output), all-reducing each block's partial sums over tp (a
 * communicator of m->tp ranks, this one m->shard of them, host memory; NULL when m->tp is 1).
 * t (may be NULL) gets the times. SB_EINVAL for bad requests; a backend's error. */
int sb_model_step(struct sb_model *m, struct sb_comm *tp, const struct sb_model_req *r, int n,
                  float *x, struct sb_model_times *t);

/* Work per step and TP rank, for achieved FLOP/s and bytes/s. FLOPs: the four GEMMs of every
 * layer (2 m n k each: 2 tokens H (3H + H + 2F) / T) and the attention's causal work (q.k and
 * p.v, 2 x 2 d per query-key pair: 4 (H/T) sum over requests of (ntok ctx + ntok (ntok+1)/2));
 * the prefill's masked half of the scores is computed but not counted. Bytes: the shard's
 * weights, each read once per step (L (3H^2 + H^2 + 2HF) / T elements), and the KV cache read
 * by the attention (K and V of ctx + ntok tokens, H/T wide, per request and layer), elem bytes
 * an element (4 for float32, 2 for bf16). Multiply by T for the group. */
double sb_model_flops(const struct sb_model_shape *s, int tp, const struct sb_model_req *r, int n);
double sb_model_weight_bytes(const struct sb_model_shape *s, int tp, size_t elem);
double sb_model_kv_bytes(const struct sb_model_shape *s, int tp, const struct sb_model_req *r,
                         int n, size_t elem);

/* The check (-c), collective over tp (T ranks): every rank builds its shard of shape s from
 * seed, runs a prefill of `batch` requests of `prompt` tokens then `decode` decode steps, and
 * rank 0 of tp runs the same steps unsharded (T=1) and compares x after every step. *err (may
 * be NULL) gets the largest difference relative to the step's largest |x|, the same on every
 * rank. SB_ECHECK when it passes 1e-4; a backend's error, SB_ENOMEM. On the fake backend with
 * T > 1 the all-reduce multiplies by T instead of summing shards: there the check fails. */
int sb_model_check(struct sb_comm *tp, const struct sb_model_shape *s, uint64_t seed, int batch,
                   int prompt, int decode, double *err);

#endif
