/* The GPU backends' shared hooks (comm_gpu.h): device buffers and their check patterns, the
 * stream, events, holds and free memory, on the struct sb__gpu that every communicator of a
 * GPU backend points to (split ones share their parent's). */
#include "comm_gpu.h"
#include "error.h"
#include "gpu.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb__gpu_open(struct sb__gpu *g)
{
	int rc;
	if ((rc = sb_gpu_stream_create(&g->stream)) || (rc = sb_gpu_timer_create(&g->timer)))
		return rc;
	return sb_gpu_hold_create(&g->hold);
}

void sb__gpu_close(struct sb__gpu *g)
{
	if (!g)
		return;
	sb_gpu_free_host(g->hsend);
	sb_gpu_free_host(g->hrecv);
	sb_gpu_timer_destroy(g->timer);
	sb_gpu_hold_destroy(g->hold); /* before its stream */
	sb_gpu_stream_destroy(g->stream);
	free(g);
}

int sb__gpu_wait(struct sb__gpu *g)
{
	int rc = sb_gpu_stream_sync(g->stream);
	if (rc == 0)
		g->pending = g->inflight = 0;
	return rc;
}

void *sb__gpu_alloc(struct sb_comm *c, size_t bytes)
{
	struct sb__gpu *g = sb__gpu_of(c);
	/* The staging buffers follow the largest device buffer, outside the timed loop. */
	if (g->staged && bytes > g->hcap) {
		if (g->inflight && sb_gpu_stream_sync(g->stream)) /* a copy may read them */
			return NULL;
		g->inflight = 0;
		sb_gpu_free_host(g->hsend);
		sb_gpu_free_host(g->hrecv);
		g->hsend = sb_gpu_malloc_host(bytes);
		g->hrecv = sb_gpu_malloc_host(bytes);
		g->hcap = g->hsend && g->hrecv ? bytes : 0;
		if (!g->hcap)
			return NULL;
	}
	return sb_gpu_malloc(bytes);
}

void sb__gpu_free(struct sb_comm *c, void *ptr)
{
	(void)c;
	sb_gpu_free(ptr);
}

int sb__gpu_fill(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, unsigned seed)
{
	return sb__gpu_fill_rank(c, buf, count, t, c->rank, seed);
}

int sb__gpu_fill_rank(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, int rank,
                      unsigned seed)
{
	struct sb__gpu *g = sb__gpu_of(c);
	g->pending = 1;
	return sb_gpu_fill(buf, count, t, rank, seed, g->stream);
}

int sb__gpu_check_sum(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                      unsigned seed, size_t *wrong)
{
	return sb_gpu_check_sum(buf, count, t, c->size, seed, sb__gpu_of(c)->stream, wrong);
}

int sb__gpu_check_rank(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t, int rank,
                       unsigned seed, size_t *wrong)
{
	return sb_gpu_check_rank(buf, count, t, rank, seed, sb__gpu_of(c)->stream, wrong);
}

void *sb__gpu_stream(struct sb_comm *c)
{
	return sb__gpu_of(c)->stream;
}

int sb__gpu_put(struct sb_comm *c, void *buf, const void *src, size_t bytes)
{
	struct sb__gpu *g = sb__gpu_of(c);
	int rc = sb_gpu_copy_to_device(buf, src, bytes, g->stream);
	return rc ? rc : sb__gpu_wait(g);
}

int sb__gpu_get(struct sb_comm *c, void *dst, const void *buf, size_t bytes)
{
	struct sb__gpu *g = sb__gpu_of(c);
	int rc = sb_gpu_copy_to_host(dst, buf, bytes, g->stream);
	return rc ? rc : sb__gpu_wait(g);
}

int sb__gpu_event_start(struct sb_comm *c)
{
	struct sb__gpu *g = sb__gpu_of(c);
	return sb_gpu_timer_start(g->timer, g->stream);
}

int sb__gpu_event_stop(struct sb_comm *c)
{
	struct sb__gpu *g = sb__gpu_of(c);
	return sb_gpu_timer_stop(g->timer, g->stream);
}

int sb__gpu_event_read(struct sb_comm *c, double *seconds)
{
	struct sb__gpu *g = sb__gpu_of(c);
	int rc = sb_gpu_timer_read(g->timer, seconds);
	return rc ? rc : sb_gpu_hold_status(g->hold);
}

int sb__gpu_hold(struct sb_comm *c)
{
	struct sb__gpu *g = sb__gpu_of(c);
	return sb_gpu_hold_begin(g->hold, g->stream, SB_GPU_HOLD_TIMEOUT);
}

int sb__gpu_release(struct sb_comm *c)
{
	return sb_gpu_hold_release(sb__gpu_of(c)->hold);
}

int sb__gpu_mem_free(struct sb_comm *c, double *bytes)
{
	struct sb__gpu *g = sb__gpu_of(c);
	size_t f = 0, t = 0;
	int rc = sb_gpu_mem_info(g->dev, &f, &t);
	if (rc == 0)
		*bytes = (double)f / g->local;
	return rc;
}

json_t *sb__gpu_describe(struct sb__gpu *g)
{
	json_t *gpu = sb_gpu_describe_device(g->dev);
	double bps = 0;
	/* Device-to-device copy of 256 MiB, counted as read + write (2 x bytes per copy). */
	if (sb_gpu_copy_bandwidth((size_t)256 << 20, 20, &bps) == 0)
		json_object_set_new(gpu, "copy_bandwidth", json_real(bps));
	return gpu;
}

/* Every rank of the job takes part in the split, whatever its host's rank count: a host with
 * one rank that left it out would leave the others waiting in it. */
int sb__gpu_ranks_sharing(struct sb_comm *c, const char *bus, int *other)
{
	struct sb__mpi *m = c->priv; /* first member of every MPI-based backend's state */
	int n = 1, me = 0, ls = 1;
	*other = -1;
	if (c->size < 2)
		return 1;
	MPI_Comm node;
	if (MPI_Comm_split_type(m->ctl, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) !=
	    MPI_SUCCESS)
		return 1;
	MPI_Comm_rank(node, &me);
	MPI_Comm_size(node, &ls);
	char(*all)[32] = calloc((size_t)ls, sizeof *all);
	char mine[32];
	snprintf(mine, sizeof mine, "%s", bus);
	if (!all) { /* the host's other ranks are in the all-gather: end the job */
		sb_log_fault("cannot allocate the bus ids of %d ranks", ls);
		sb_ctl_abort(c, sb_exit_status(SB_ENOMEM));
		MPI_Comm_free(&node);
		return 1;
	}
	if (MPI_Allgather(mine, 32, MPI_CHAR, all, 32, MPI_CHAR, node) == MPI_SUCCESS) {
		n = 0;
		for (int r = 0; r < ls; r++)
			if (strcmp(all[r], mine) == 0) {
				n++;
				if (r != me && *other < 0)
					*other = r;
			}
	}
	free(all);
	MPI_Comm_free(&node);
	return n > 0 ? n : 1;
}
