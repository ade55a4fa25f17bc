#include "sweep.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_sizes_from_args(const struct sb_args *a, size_t align, size_t **out, size_t *n, char *err,
                       size_t errlen)
{
	size_t b = sb_arg_size(a, "min-bytes"), e = sb_arg_size(a, "max-bytes");
	size_t f = (size_t)sb_arg_int(a, "step-factor");
	char sb[32], se[32];
	if (b > e) {
		snprintf(err, errlen, "-b %s is larger than -e %s",
		         sb_format_size(b, sb, sizeof sb), sb_format_size(e, se, sizeof se));
		return SB_EINVAL;
	}
	if (e < align) {
		snprintf(err, errlen, "-e %s is smaller than one element (%zu bytes)",
		         sb_format_size(e, se, sizeof se), align);
		return SB_EINVAL;
	}
	size_t cap = 8, k = 0;
	size_t *v = malloc(cap * sizeof *v);
	if (!v)
		return SB_ENOMEM;
	for (size_t s = b;; s *= f) {
		size_t r = s / align * align;
		if (r >= align && (k == 0 || v[k - 1] != r)) {
			if (k == cap) {
				size_t *nv = realloc(v, (cap *= 2) * sizeof *v);
				if (!nv) {
					free(v);
					return SB_ENOMEM;
				}
				v = nv;
			}
			v[k++] = r;
		}
		if (s > e / f) /* the next size would pass e (or overflow) */
			break;
	}
	if (k == 0) {
		free(v);
		snprintf(err, errlen,
		         "no size from -b %s to -e %s is a whole number of %zu-byte elements",
		         sb_format_size(b, sb, sizeof sb), sb_format_size(e, se, sizeof se), align);
		return SB_EINVAL;
	}
	*out = v;
	*n = k;
	return 0;
}

int sb_sweep_points(const struct sb_args *a, const char *name, enum sb_dtype t, const char *op,
                    int inplace, struct sb_point **pts, size_t *n)
{
	size_t *sizes, k;
	char err[256] = "";
	size_t esz = sb_dtype_size(t);
	int rc = sb_sizes_from_args(a, esz, &sizes, &k, err, sizeof err);
	if (rc) {
		/* The options passed the benchmark's validate: what fails here is this rank's own
		 * (memory), reported by the rank that saw it. */
		sb_log_fault("%s: cannot list the sizes of -b/-e/-f: %s", name,
		             err[0] ? err : sb_strerror(rc));
		return rc;
	}
	struct sb_point *p = calloc(k ? k : 1, sizeof *p);
	if (!p) {
		sb_log_fault("%s: cannot allocate %zu points", name, k);
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
