/* The explicit list of backends compiled into this build. */
#include "comm.h"
#include "timer.h"

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

void sb_strv_free(char **v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}
