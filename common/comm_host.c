/* Host-memory buffer hooks shared by the backends whose buffers live in host memory. */
#include "comm.h"
#include "pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *sb__host_alloc(struct sb_comm *c, size_t bytes)
{
	/* 4 KiB alignment: page-aligned like cudaMalloc'd memory; the kernel hands out zero pages,
	 * and the explicit memset touches them so no first-touch cost lands in a timed loop.
	 * --hugepages: 2 MiB aligned and advised before the first touch, so the touch faults in
	 * transparent huge pages (fewer TLB misses on large copies; some applications get them,
	 * others do not, so it is a choice the record shows). */
	size_t align = c && c->hugepages ? SB_HUGEPAGE : 4096;
	void *p = NULL;
	if (posix_memalign(&p, align, bytes ? bytes : 1))
		return NULL;
#ifdef MADV_HUGEPAGE
	if (c && c->hugepages && bytes >= SB_HUGEPAGE)
		madvise(p, (bytes + SB_HUGEPAGE - 1) / SB_HUGEPAGE * SB_HUGEPAGE, MADV_HUGEPAGE);
#endif
	memset(p, 0, bytes);
	return p;
}

size_t sb_host_alignment(const struct sb_comm *c)
{
	return c && c->hugepages ? SB_HUGEPAGE : 4096;
}

const char *sb_host_thp_mode(char *buf, size_t len)
{
	/* "always [madvise] never": the bracketed word is the mode. */
	snprintf(buf, len, "unknown");
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f)
		return buf;
	char line[256];
	if (fgets(line, sizeof line, f)) {
		char *a = strchr(line, '['), *b = a ? strchr(a, ']') : NULL;
		if (a && b)
			snprintf(buf, len, "%.*s", (int)(b - a - 1), a + 1);
	}
	fclose(f);
	return buf;
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
