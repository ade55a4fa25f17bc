/* Helpers for benchmarks that sweep a message size: the points of the -b/-e/-f range and a
 * pair of buffers that grows with the sweep. */
#ifndef SB_SWEEP_H
#define SB_SWEEP_H

#include "bench.h"

/* Sizes from the common -b/-e/-f options: b, b*f, b*f^2, ... <= e, each rounded down to a
 * multiple of `align`; sizes below align are skipped. *out is malloc'd. */
int sb_sizes_from_args(const struct sb_args *a, size_t align, size_t **out, size_t *n, char *err,
                       size_t errlen);

/* One point per size of the -b/-e/-f range (sb_sizes_from_args, aligned to the element size),
 * labelled "<name> <bytes> B <dtype> <in-place|out-of-place>" (or "<name> <bytes> B" when op
 * is "-"). *pts is malloc'd. */
int sb_sweep_points(const struct sb_args *a, const char *name, enum sb_dtype t, const char *op,
                    int inplace, struct sb_point **pts, size_t *n);

/* Send and receive buffers from the backend, reallocated only when a point needs more. */
struct sb_bufs {
	void *send, *recv;
	size_t cap;
};

/* Make both buffers (only `send` when one_buffer) hold at least bytes; on failure a fault
 * message naming the point and SB_ENOMEM. */
int sb_bufs_reserve(struct sb_comm *c, struct sb_bufs *b, size_t bytes, int one_buffer,
                    const char *label);
void sb_bufs_release(struct sb_comm *c, struct sb_bufs *b);

#endif
