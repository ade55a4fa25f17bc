/* What the GPU backends (nccl, mpi-gpu) share: their device buffers, check patterns, stream,
 * events and holds, written once here (as comm_host.c is for the host backends). Internal:
 * GPU backends only (it needs MPI and a CUDA build). */
#ifndef SB_COMM_GPU_H
#define SB_COMM_GPU_H

#include "comm.h"
#include "comm_mpi.h"

#include <jansson.h>
#include <stddef.h>

/* A rank's GPU: made by the backend's init, shared (by pointer) with every communicator split
 * from it, destroyed with the world's. */
struct sb__gpu {
	void *stream; /* the data path's stream */
	int dev;
	int local; /* ranks of this host on this rank's GPU */
	int shared; /* most ranks on one GPU, over the job's hosts */
	struct sb_gpu_timer *timer; /* the event hooks */
	struct sb_gpu_hold *hold; /* the hold and release hooks */
	/* Staging (mpi-gpu without CUDA-aware MPI): pinned host buffers as large as the largest
	 * device buffer allocated, grown by sb__gpu_alloc. */
	int staged;
	void *hsend, *hrecv;
	size_t hcap;
	int pending; /* work queued on the stream (fills) that a host-side reader must wait for */
	int inflight; /* a host-to-device copy from a staging buffer may still be running */
};

/* First member of a GPU backend's private state: the MPI control plane and the GPU, so the
 * functions below (and comm_mpi.c's) work on any of them. */
struct sb__gpucomm {
	struct sb__mpi mpi; /* first: comm_mpi.h */
	struct sb__gpu *gpu;
};

static inline struct sb__gpu *sb__gpu_of(struct sb_comm *c)
{
	return ((struct sb__gpucomm *)c->priv)->gpu;
}

/* The stream, its timer and hold on the current device (g->dev chosen), for a backend's init;
 * sb__gpu_close frees them, the staging buffers and g. */
int sb__gpu_open(struct sb__gpu *g);
void sb__gpu_close(struct sb__gpu *g);

/* A host wait for the stream (it ends a hold first: gpu.h): after it nothing queued before
 * touches a buffer. */
int sb__gpu_wait(struct sb__gpu *g);

/* The buffer hooks of struct sb_backend, for both GPU backends. */
void *sb__gpu_alloc(struct sb_comm *c, size_t bytes);
void sb__gpu_free(struct sb_comm *c, void *ptr);
int sb__gpu_fill(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, unsigned seed);
int sb__gpu_fill_rank(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, int rank,
                      unsigned seed);
int sb__gpu_check_sum(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                      unsigned seed, size_t *wrong);
int sb__gpu_check_rank(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t, int rank,
                       unsigned seed, size_t *wrong);
void *sb__gpu_stream(struct sb_comm *c);
int sb__gpu_put(struct sb_comm *c, void *buf, const void *src, size_t bytes);
int sb__gpu_get(struct sb_comm *c, void *dst, const void *buf, size_t bytes);
int sb__gpu_event_start(struct sb_comm *c);
int sb__gpu_event_stop(struct sb_comm *c);
int sb__gpu_event_read(struct sb_comm *c, double *seconds);
int sb__gpu_hold(struct sb_comm *c);
int sb__gpu_release(struct sb_comm *c);
/* The device's free memory, shared by this host's ranks on it. */
int sb__gpu_mem_free(struct sb_comm *c, double *bytes);
/* The device's description with its copy bandwidth, for a backend's describe. */
json_t *sb__gpu_describe(struct sb__gpu *g);

/* How many ranks of this host use the GPU of PCI bus id `bus` (at least 1, this rank), and in
 * *other the lowest local rank other than this one on it (-1 when none), by an all-gather of
 * bus ids among the host's ranks (a launcher may give each rank its own CUDA_VISIBLE_DEVICES,
 * so device indices do not tell). Collective over c's MPI communicator: every rank calls it,
 * whether or not it has a GPU (bus ""). */
int sb__gpu_ranks_sharing(struct sb_comm *c, const char *bus, int *other);

#endif
