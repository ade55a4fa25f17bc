/* Communication backends: how bytes move. A benchmark reaches the network only through these
 * hooks, so one benchmark runs on host MPI, on GPUs, or on the fake backend used by the tests.
 *
 * Every hook returns 0 or a negative SB_E* code. Two planes: the data path (struct sb_backend:
 * buffers, all-reduce, send/recv, on host or device memory, what is timed) and the control
 * plane (struct sb_ctl, reached through the sb_ctl_* wrappers: small host-memory traffic such as
 * per-iteration times, error counts, host names, series, a load generator's requests; never
 * timed by the driver). The real backends share one control plane over MPI (comm_mpi.c); the
 * fake backend has its own. A communicator can be split into groups (sb_comm_split) that run
 * both planes among their members. */
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

/* A pending non-blocking control message: opaque, each backend has its own. */
struct sb_req;

/* What a completed control message was: for a receive, its sender, tag and length; for a
 * send, its destination, tag and length. */
struct sb_status {
	int source, tag;
	size_t bytes;
};

#define SB_ANY_SOURCE (-2) /* a receive from whichever rank sends first */
#define SB_ANY_TAG (-1) /* a receive of any tag */
#define SB_TAG_MAX 32767 /* tags are 0..SB_TAG_MAX (MPI guarantees at least this much) */
#define SB_COMM_UNDEFINED (-1) /* a color that joins no group (sb_comm_split) */

/* The control plane: one object per kind of world (MPI for the real backends, one process
 * for the fake one), pointed to by the backend. Hooks work on any communicator of the
 * backend, split ones included; every one but abort and the point-to-point hooks is
 * collective over c. Reach them through the sb_ctl_* wrappers below. */
struct sb_ctl {
	/* Every rank has reached it. */
	int (*barrier)(struct sb_comm *c);
	/* Element-wise max / sum over ranks, result everywhere. */
	int (*max)(struct sb_comm *c, double *v, size_t n);
	int (*sum)(struct sb_comm *c, long long *v, size_t n);
	/* Gather one string of any length per rank at rank 0: there *out is a malloc'd array of
	 * size malloc'd strings (free with sb_strv_free); elsewhere *out is NULL. */
	int (*gatherv)(struct sb_comm *c, const char *mine, char ***out);
	/* Gather `bytes` bytes of any length per rank at rank 0 (binary: series of doubles).
	 * There *all is a malloc'd concatenation in rank order (free()), and lens, an array of
	 * c->size entries the caller provides, gets each rank's length; elsewhere *all is NULL
	 * and lens is not touched (it may be NULL). Any total size (larger ones go in pieces). */
	int (*gather)(struct sb_comm *c, const void *mine, size_t bytes, void **all, size_t *lens);
	/* Non-blocking messages between two ranks, matched by (source, tag) in the order they
	 * were posted, as MPI's: post a send or a receive, then test or wait for it, so that one
	 * rank can feed and collect from many without blocking on any. A send's buffer must stay
	 * untouched and a receive's unread until the request completes. A receive of `bytes`
	 * takes a message of at most that many (more is an error); src may be SB_ANY_SOURCE and
	 * tag SB_ANY_TAG. Messages are of at most INT_MAX bytes, tags 0..SB_TAG_MAX; their own
	 * channel, not the data path's, so they never match a benchmark's send/recv. */
	int (*isend)(struct sb_comm *c, const void *buf, size_t bytes, int dst, int tag,
	             struct sb_req **req);
	int (*irecv)(struct sb_comm *c, void *buf, size_t bytes, int src, int tag,
	             struct sb_req **req);
	/* *done = 1 when the request has completed: it is freed, *req set to NULL and st (may be
	 * NULL) filled; *done = 0 otherwise. A NULL *req is complete (st->source SB_NO_PEER). A
	 * request that completes with an error (a message longer than its receive, which takes
	 * the first bytes; Open MPI truncates one a rank sends itself silently) returns the
	 * error, freed and *req NULL all the same. */
	int (*test)(struct sb_comm *c, struct sb_req **req, int *done, struct sb_status *st);
	/* Block until the request completes; then as test. */
	int (*wait)(struct sb_comm *c, struct sb_req **req, struct sb_status *st);
	/* Withdraw a receive nobody has matched (a send is waited for): 0 when it was withdrawn,
	 * 1 when it had completed after all (the buffer holds the message); *req is freed and set
	 * to NULL either way. */
	int (*cancel)(struct sb_comm *c, struct sb_req **req);
	/* How far rank `ref`'s host clock (sb_now()) is ahead of this rank's, in seconds: 0 on
	 * ref and on ranks of ref's host (one monotonic clock), else estimated from round trips
	 * with ref (the shortest of several, its error at most half that round trip: *err, when
	 * not NULL, gets that bound, 0 where nothing was estimated). */
	int (*clock_offset)(struct sb_comm *c, int ref, double *offset, double *err);
	/* The same between neighbours d apart (d >= 1: the pipeline's ranks per stage): how far
	 * rank r-d's clock is ahead of this rank's, 0 on ranks below d, pairs estimated at once,
	 * so that one-way times across the boundary r-d -> r can be taken from two clocks. */
	int (*clock_offset_prev)(struct sb_comm *c, int d, double *prev, double *err);
	/* End the whole job now with this exit status (a fault on one rank that the others cannot
	 * learn of: they wait in a collective it will never join). NULL for one-process worlds. */
	void (*abort)(struct sb_comm *c, int status);
};

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
	/* Wait until the data-path work issued so far is complete (GPU streams); NULL when
	 * every call is complete on return (host MPI). */
	int (*sync)(struct sb_comm *c);
	/* The clock the driver reads, in seconds, and its name for the record; NULL for the
	 * host's monotonic clock (sb_now(), read inline: no call in the timed region). */
	double (*now)(struct sb_comm *c);
	/* Optional: `sec` seconds of a benchmark's local work (busy compute) on the backend's
	 * clock: the fake backend advances its virtual clock; NULL: the work takes real time. */
	void (*spend)(struct sb_comm *c, double sec);
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
	/* The control plane (never NULL). */
	const struct sb_ctl *ctl;
	/* Split the world (sb_comm_split): fill child->rank, child->size and child->priv, the
	 * group of the ranks of parent that passed the same color, ordered by key then parent rank;
	 * color < 0 (SB_COMM_UNDEFINED): no group, child->priv NULL, rank -1, size 0. Collective
	 * over parent. `group` is the group's size when the caller knows it (sb_comm_split_by),
	 * else 0: the fake backend, which cannot see the other ranks' colors, takes it from there.
	 * split_free releases a child (not the state it shares with its parent). NULL: the backend
	 * cannot split. */
	int (*split)(struct sb_comm *parent, int color, int key, int group, struct sb_comm *child);
	void (*split_free)(struct sb_comm *child);
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

/* The control plane of c's backend (struct sb_ctl above has each contract). */
static inline int sb_ctl_barrier(struct sb_comm *c)
{
	return c->be->ctl->barrier(c);
}

static inline int sb_ctl_max(struct sb_comm *c, double *v, size_t n)
{
	return c->be->ctl->max(c, v, n);
}

static inline int sb_ctl_sum(struct sb_comm *c, long long *v, size_t n)
{
	return c->be->ctl->sum(c, v, n);
}

static inline int sb_ctl_gatherv(struct sb_comm *c, const char *mine, char ***out)
{
	return c->be->ctl->gatherv(c, mine, out);
}

static inline int sb_ctl_gather(struct sb_comm *c, const void *mine, size_t bytes, void **all,
                                size_t *lens)
{
	return c->be->ctl->gather(c, mine, bytes, all, lens);
}

static inline int sb_ctl_isend(struct sb_comm *c, const void *buf, size_t bytes, int dst, int tag,
                               struct sb_req **req)
{
	return c->be->ctl->isend(c, buf, bytes, dst, tag, req);
}

static inline int sb_ctl_irecv(struct sb_comm *c, void *buf, size_t bytes, int src, int tag,
                               struct sb_req **req)
{
	return c->be->ctl->irecv(c, buf, bytes, src, tag, req);
}

static inline int sb_ctl_test(struct sb_comm *c, struct sb_req **req, int *done,
                              struct sb_status *st)
{
	return c->be->ctl->test(c, req, done, st);
}

static inline int sb_ctl_wait(struct sb_comm *c, struct sb_req **req, struct sb_status *st)
{
	return c->be->ctl->wait(c, req, st);
}

static inline int sb_ctl_cancel(struct sb_comm *c, struct sb_req **req)
{
	return c->be->ctl->cancel(c, req);
}

static inline int sb_ctl_clock_offset(struct sb_comm *c, int ref, double *offset, double *err)
{
	return c->be->ctl->clock_offset(c, ref, offset, err);
}

static inline int sb_ctl_clock_offset_prev(struct sb_comm *c, int d, double *prev, double *err)
{
	return c->be->ctl->clock_offset_prev(c, d, prev, err);
}

/* End the job (see struct sb_ctl); returns where the world is one process (nothing waits). */
static inline void sb_ctl_abort(struct sb_comm *c, int status)
{
	if (c->be->ctl->abort)
		c->be->ctl->abort(c, status);
}

/* Split parent into groups, as MPI_Comm_split: the ranks that pass the same color (>= 0) form
 * one group, ordered by key (ties by parent rank); child gets its own rank and size and the
 * same backend, and runs the data path (all-reduce, send/recv) and the control plane among
 * the group alone. Collective over parent. A negative color (SB_COMM_UNDEFINED) joins no
 * group: child->size is 0 and it must not be used (but may be freed). Free children with
 * sb_comm_free before the parent's fini. On the fake backend, which cannot see what the other
 * simulated ranks pass, every rank is taken to pass this rank's color (the child is the whole
 * parent): use sb_comm_split_by there. SB_ENOTSUP where the backend cannot split. */
int sb_comm_split(struct sb_comm *parent, int color, int key, struct sb_comm *child);
/* The same with the color a function of the parent rank (the same function on every rank),
 * the key the parent rank: the fake backend evaluates it for every simulated rank, so its
 * child has the group's size there too. */
int sb_comm_split_by(struct sb_comm *parent, int (*color_of)(int rank, void *arg), void *arg,
                     struct sb_comm *child);
/* Release a child of sb_comm_split; nothing when it joined no group. */
void sb_comm_free(struct sb_comm *child);

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

/* A control message's bytes, peer and tag within what every backend takes (any: a receive,
 * which may name SB_ANY_SOURCE and SB_ANY_TAG); SB_EINVAL with a message otherwise. */
int sb__ctl_post_check(struct sb_comm *c, const char *what, size_t bytes, int peer, int any,
                       int tag);

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
