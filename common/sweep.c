#include "sweep.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_sweep_points(const struct sb_args *a, const char *name, enum sb_dtype t, const char *op,
                    int inplace, struct sb_point **pts, size_t *n)
{
	size_t *sizes, k;
	char err[256];
	size_t esz = sb_dtype_size(t);
	int rc = sb_sizes_from_args(a, esz, &sizes, &k, err, sizeof err);
	if (rc)
		return rc;
	struct sb_point *p = calloc(k ? k : 1, sizeof *p);
	if (!p) {
		free(sizes);
		return SB_ENOMEM;
	}
	for (size_t i = 0; i < k; i++) {
		p[i].bytes = sizes[i];
		p[i].count = sizes[i] / esz;
		p[i].dtype = t;
		p[i].op = op;
		p[i].inplace = inplace;
		if (strcmp(op, "-") == 0)
			snprintf(p[i].label, sizeof p[i].label, "%s %zu B", name, sizes[i]);
		else
			snprintf(p[i].label, sizeof p[i].label, "%s %zu B %s %s", name, sizes[i],
			         sb_dtype_name(t), inplace ? "in-place" : "out-of-place");
	}
	free(sizes);
	*pts = p;
	*n = k;
	return 0;
}

int sb_bufs_reserve(struct sb_comm *c, struct sb_bufs *b, size_t bytes, int one_buffer,
                    const char *label)
{
	if (bytes <= b->cap)
		return 0;
	sb_bufs_release(c, b);
	b->send = c->be->alloc(c, bytes);
	b->recv = one_buffer ? NULL : c->be->alloc(c, bytes);
	if (!b->send || (!one_buffer && !b->recv)) {
		sb_log_fault("cannot allocate %d x %zu bytes for %s", one_buffer ? 1 : 2, bytes,
		             label);
		sb_bufs_release(c, b);
		return SB_ENOMEM;
	}
	b->cap = bytes;
	return 0;
}

void sb_bufs_release(struct sb_comm *c, struct sb_bufs *b)
{
	if (b->send)
		c->be->free(c, b->send);
	if (b->recv)
		c->be->free(c, b->recv);
	b->send = b->recv = NULL;
	b->cap = 0;
}
