/* Helpers for benchmarks that sweep a message size: the points of the -b/-e/-f range and a
 * pair of buffers that grows with the sweep. */
#ifndef SB_SWEEP_H
#define SB_SWEEP_H

#include "bench.h"

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
