/* Host-memory buffer hooks shared by the backends whose buffers live in host memory. */
#include "comm.h"
#include "pattern.h"

#include <stdlib.h>
#include <string.h>

void *sb__host_alloc(struct sb_comm *c, size_t bytes)
{
	(void)c;
	/* 4 KiB alignment: page-aligned like cudaMalloc'd memory; the kernel hands out zero pages,
	 * and the explicit memset touches them so no first-touch cost lands in a timed loop. */
	void *p = NULL;
	if (posix_memalign(&p, 4096, bytes ? bytes : 1))
		return NULL;
	memset(p, 0, bytes);
	return p;
}

void sb__host_free(struct sb_comm *c, void *p)
{
	(void)c;
	free(p);
}

int sb__host_fill(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, unsigned seed)
{
	sb_pattern_fill(buf, count, t, c->rank, seed);
	return 0;
}

int sb__host_fill_rank(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, int rank,
                       unsigned seed)
{
	(void)c;
	sb_pattern_fill(buf, count, t, rank, seed);
	return 0;
}

int sb__host_check_sum(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                       unsigned seed, size_t *wrong)
{
	*wrong = sb_pattern_check_sum(buf, count, t, c->size, seed);
	return 0;
}

int sb__host_check_rank(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t, int rank,
                        unsigned seed, size_t *wrong)
{
	(void)c;
	*wrong = sb_pattern_check_rank(buf, count, t, rank, seed);
	return 0;
}
