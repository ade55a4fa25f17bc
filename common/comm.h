/* Communication backends: how bytes move. A benchmark reaches the network only through these
 * hooks, so one benchmark runs on host MPI, on GPUs, or on the fake backend used by the tests.
 *
 * Every hook returns 0 or a negative SB_E* code. "Control" hooks (ctl_*) carry the driver's
 * own small host-memory traffic (per-iteration times, error counts, host names) and are never
 * timed. */
#ifndef SB_COMM_H
#define SB_COMM_H

#include <jansson.h>
#include <stddef.h>

enum sb_dtype { SB_FLOAT, SB_DOUBLE, SB_INT32, SB_DTYPE_COUNT };
#define SB_DTYPE_CHOICES "float|double|int32"

size_t sb_dtype_size(enum sb_dtype t);
const char *sb_dtype_name(enum sb_dtype t);

enum sb_op { SB_SUM };

#define SB_NO_PEER (-1)

/* Capability flags. */
#define SB_CAP_HOST_MEM 0x1u /* buffers in host memory */
#define SB_CAP_DEVICE_MEM 0x2u /* buffers in GPU memory */
#define SB_CAP_TEST_ONLY 0x4u /* not a real network; tests only */

struct sb_comm;

struct sb_backend {
	const char *name;
	const char *summary;
	unsigned caps;
	/* Why the backend cannot run in this build or on this machine, or NULL when it can. */
	const char *(*unavailable)(void);
	/* Join the world: fill c->rank, c->size, c->host. */
	int (*init)(struct sb_comm *c);
	void (*fini)(struct sb_comm *c);
	/* Buffers for data-path hooks; zero-filled. NULL on failure. */
	void *(*alloc)(struct sb_comm *c, size_t bytes);
	void (*free)(struct sb_comm *c, void *p);
	/* Fill buf with the check pattern of this rank for seed (see pattern.h). */
	int (*fill)(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, unsigned seed);
	/* Count elements of buf that differ from the all-reduce (sum) of every rank's pattern. */
	int (*check_sum)(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
	                 unsigned seed, size_t *wrong);
	/* Fill buf with the pattern of rank `peer` / count mismatches against it. */
	int (*fill_rank)(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, int rank,
	                 unsigned seed);
	int (*check_rank)(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
	                  int rank, unsigned seed, size_t *wrong);
	/* Data path. send == recv means in place. Counts are size_t; backends split what their
	 * library cannot take in one call. */
	int (*allreduce)(struct sb_comm *c, const void *send, void *recv, size_t count,
	                 enum sb_dtype t, enum sb_op op);
	/* Send `bytes` to dst while receiving `bytes` from src (a shift when all ranks call it).
	 * Either peer may be SB_NO_PEER: that side is skipped (a pipeline's first and last
	 * stages). */
	int (*sendrecv)(struct sb_comm *c, const void *send, int dst, void *recv, int src,
	                size_t bytes);
	int (*barrier)(struct sb_comm *c);
	/* Wait until the data-path work issued so far is complete (GPU streams); NULL when
	 * every call is complete on return (host MPI). */
	int (*sync)(struct sb_comm *c);
	/* The clock the driver reads, in seconds, and its name for the record; NULL for the
	 * host's monotonic clock (sb_now(), read inline: no call in the timed region). */
	double (*now)(struct sb_comm *c);
	const char *timer;
	/* Optional device-side timing of a step: events recorded around it on the backend's
	 * stream (start after the host clock's t0, stop after the step), read after the sync. */
	int (*event_start)(struct sb_comm *c);
	int (*event_stop)(struct sb_comm *c);
	int (*event_read)(struct sb_comm *c, double *seconds);
	/* Optional (device backends): hold the backend's stream with a kernel that spins on a
	 * host-mapped flag, so that what is enqueued behind it (events, steps) starts only at
	 * release() and the events time the GPU work alone, not its launches (the blocking-kernel
	 * technique of NVIDIA's nvbench). The spin gives up by itself after a bounded time, so a
	 * missing release cannot hang the GPU; every hold is followed by one release. */
	int (*hold)(struct sb_comm *c);
	int (*release)(struct sb_comm *c);
	/* Control plane: element-wise max / sum over ranks, result everywhere. */
	int (*ctl_max)(struct sb_comm *c, double *v, size_t n);
	int (*ctl_sum)(struct sb_comm *c, long long *v, size_t n);
	/* Gather one string of any length per rank at rank 0: there *out is a malloc'd array of
	 * size malloc'd strings (free with sb_strv_free); elsewhere *out is NULL. */
	int (*ctl_gatherv)(struct sb_comm *c, const char *mine, char ***out);
	/* Collective: how far rank r-d's host clock (sb_now()) is ahead of this rank's, in
	 * seconds, so one-way times across the boundary r-d -> r can be taken from two clocks
	 * (d >= 1: the pipeline's ranks per stage). 0 on ranks below d and where both ranks are
	 * on one host (one monotonic clock); otherwise estimated from round trips. NULL: every
	 * rank reads one clock. */
	int (*ctl_clock_offset)(struct sb_comm *c, int d, double *prev);
	/* Copy a few bytes between host memory and a data-path buffer (the pipeline's check
	 * headers), complete on return; NULL where buffers are host memory (memcpy). */
	int (*put)(struct sb_comm *c, void *buf, const void *src, size_t bytes);
	int (*get)(struct sb_comm *c, void *dst, const void *buf, size_t bytes);
	/* Device backends: the GPU stream the data path runs on, for a benchmark's own GPU work
	 * (the pipeline's compute); NULL hook on host backends. */
	void *(*stream)(struct sb_comm *c);
	/* Where the data went, for every point record ("host memory", "device memory, NCCL",
	 * "device memory staged through pinned host buffers"...); NULL: host memory. */
	const char *(*data_path)(struct sb_comm *c);
	/* End the whole job now with this exit status (a fault on one rank that the others cannot
	 * learn of: they wait in a collective it will never join). NULL for one-process worlds. */
	void (*abort)(struct sb_comm *c, int status);
	/* Optional (device backends): bytes of buffer memory this rank can have, the device's
	 * free memory shared by the ranks on that device; NULL: host memory (MemAvailable shared
	 * by the host's ranks). */
	int (*mem_free)(struct sb_comm *c, double *bytes);
	/* Provenance: library versions and the like, added to the run record. */
	void (*describe)(struct sb_comm *c, json_t *obj);
};

struct sb_comm {
	const struct sb_backend *be;
	int rank, size;
	char host[256];
	int device; /* --device: the GPU to use, -1 to choose by local rank */
	int graph; /* -G: replay the step from a CUDA graph */
	char gpu[32]; /* set by GPU backends at init: PCI bus id of this rank's GPU */
	/* The data path is asynchronous (operations return before they complete, sync waits):
	 * the driver measures per-operation latency and pipelined time. Backends with device
	 * memory are; the fake one is with SB_FAKE_ASYNC=1. */
	int async;
	int hugepages; /* --hugepages: host buffers 2 MiB aligned, MADV_HUGEPAGE */
	void *priv;
};

static inline int sb_comm_sync(struct sb_comm *c)
{
	return c->be->sync ? c->be->sync(c) : 0;
}

/* put/get for any backend: memcpy where the backend has none. */
int sb_comm_put(struct sb_comm *c, void *buf, const void *src, size_t bytes);
int sb_comm_get(struct sb_comm *c, void *dst, const void *buf, size_t bytes);

/* The time as the driver sees it: the backend's clock, or the host's monotonic clock. */
double sb_comm_now(struct sb_comm *c);

void sb_strv_free(char **v, int n);

/* The explicit list of backends compiled in, NULL-terminated. */
extern const struct sb_backend *const sb_backends[];
const struct sb_backend *sb_backend_find(const char *name);
/* Why a known backend is not in this build ("nccl" without NCCL...), or NULL. */
const char *sb_backend_missing(const char *name);

/* Host buffers' alignment (4 KiB, or 2 MiB with --hugepages) and the kernel's transparent
 * huge page mode ("always", "madvise", "never", or "unknown"), for the run record. */
#define SB_HUGEPAGE ((size_t)2 << 20)
size_t sb_host_alignment(const struct sb_comm *c);
const char *sb_host_thp_mode(char *buf, size_t len);

/* Host-memory implementations shared by host backends. */
void *sb__host_alloc(struct sb_comm *c, size_t bytes);
void sb__host_free(struct sb_comm *c, void *p);
int sb__host_fill(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, unsigned seed);
int sb__host_check_sum(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                       unsigned seed, size_t *wrong);
int sb__host_fill_rank(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, int rank,
                       unsigned seed);
int sb__host_check_rank(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t, int rank,
                        unsigned seed, size_t *wrong);

#endif
