/* The explicit list of backends compiled into this build. */
#include "comm.h"
#include "error.h"
#include "timer.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

extern const struct sb_backend sb_backend_mpi;
extern const struct sb_backend sb_backend_fake;
#ifdef SB_HAVE_CUDA
extern const struct sb_backend sb_backend_mpigpu;
#endif
#ifdef SB_HAVE_NCCL
extern const struct sb_backend sb_backend_nccl;
#endif

const struct sb_backend *const sb_backends[] = {
    &sb_backend_mpi,
#ifdef SB_HAVE_NCCL
    &sb_backend_nccl,
#endif
#ifdef SB_HAVE_CUDA
    &sb_backend_mpigpu,
#endif
    &sb_backend_fake,   NULL,
};

/* The GPU backends a build without the CUDA toolkit (or NCCL) leaves out, for `list` and a
 * clear message when one is asked for. */
const char *sb_backend_missing(const char *name)
{
#ifndef SB_HAVE_NCCL
	if (strcmp(name, "nccl") == 0)
		return "not compiled into this build (configure with the CUDA toolkit and NCCL: "
		       "CUDA_HOME, NCCL_HOME)";
#endif
#ifndef SB_HAVE_CUDA
	if (strcmp(name, "mpi-gpu") == 0)
		return "not compiled into this build (configure with the CUDA toolkit: CUDA_HOME)";
#endif
	(void)name;
	return NULL;
}

const struct sb_backend *sb_backend_find(const char *name)
{
	for (size_t i = 0; sb_backends[i]; i++)
		if (strcmp(sb_backends[i]->name, name) == 0)
			return sb_backends[i];
	return NULL;
}

int sb_comm_put(struct sb_comm *c, void *buf, const void *src, size_t bytes)
{
	if (c->be->put)
		return c->be->put(c, buf, src, bytes);
	memcpy(buf, src, bytes);
	return 0;
}

int sb_comm_get(struct sb_comm *c, void *dst, const void *buf, size_t bytes)
{
	if (c->be->get)
		return c->be->get(c, dst, buf, bytes);
	memcpy(dst, buf, bytes);
	return 0;
}

double sb_comm_now(struct sb_comm *c)
{
	return c->be->now ? c->be->now(c) : sb_now();
}

static int split(struct sb_comm *parent, int color, int key, int group, struct sb_comm *child)
{
	if (child == parent) {
		sb_log_fault("sb_comm_split: the child must be another struct than its parent");
		return SB_EINVAL;
	}
	*child = *parent; /* backend, host, device, options: the parent's */
	child->priv = NULL;
	child->rank = -1;
	child->size = 0;
	if (!parent->be->split) {
		sb_log_usage("backend %s cannot split its world into groups", parent->be->name);
		return SB_ENOTSUP;
	}
	return parent->be->split(parent, color < 0 ? SB_COMM_UNDEFINED : color, key, group, child);
}

int sb_comm_split(struct sb_comm *parent, int color, int key, struct sb_comm *child)
{
	return split(parent, color, key, 0, child);
}

int sb_comm_split_by(struct sb_comm *parent, int (*color_of)(int rank, void *arg), void *arg,
                     struct sb_comm *child)
{
	int mine = color_of(parent->rank, arg), group = 0;
	for (int r = 0; mine >= 0 && r < parent->size; r++)
		group += color_of(r, arg) == mine;
	int rc = split(parent, mine, parent->rank, group, child);
	if (rc == 0 && mine >= 0 && child->size != group) {
		/* The function answered differently on another rank. */
		sb_log_fault("sb_comm_split_by: a group of %d ranks, its color function counts %d",
		             child->size, group);
		sb_comm_free(child);
		return SB_EINVAL;
	}
	return rc;
}

void sb_comm_free(struct sb_comm *child)
{
	if (child->priv && child->be && child->be->split_free)
		child->be->split_free(child);
	child->priv = NULL;
	child->rank = -1;
	child->size = 0;
}

void sb_strv_free(char **v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int sb__ctl_post_check(struct sb_comm *c, const char *what, size_t bytes, int peer, int any,
                       int tag)
{
	if (bytes > INT_MAX || tag < (any ? SB_ANY_TAG : 0) || tag > SB_TAG_MAX ||
	    peer >= c->size || peer < (any ? SB_ANY_SOURCE : 0) || (any && peer == SB_NO_PEER)) {
		sb_log_fault("%s: %zu bytes, peer %d of %d, tag %d: out of range", what, bytes,
		             peer, c->size, tag);
		return SB_EINVAL;
	}
	return 0;
}
