/* The `nccl` backend: device buffers, NCCL collectives and grouped send/recv on one GPU per
 * rank, chosen by local rank (an MPI shared-memory split, not SLURM_PROCID) or --device. MPI
 * carries the control plane and the ncclUniqueId. The communicator is non-blocking, so every
 * wait polls for asynchronous NCCL errors (a peer that died) and the watchdog can abort it.
 *
 * Timing: the driver's host clock around the enqueue and a stream wait (max over ranks), and
 * CUDA events around the step(s) on the stream. With the hold hooks (gpu.h: a blocking kernel
 * holds the stream while the start event, the NCCL calls and the stop event are enqueued, then
 * is released) the events time the device's work alone; without a hold, on an idle stream, the
 * start event fires at once and the event time includes the host's enqueue of the NCCL call.
 *
 * Groups (sb_comm_split): ncclCommSplit of the world's communicator (NCCL 2.18 and later), or
 * before that a communicator of the group's own from a new ncclUniqueId; the group shares the
 * world's GPU, stream, events and hold. */
#include "comm.h"
#include "comm_gpu.h"
#include "comm_mpi.h"
#include "error.h"
#include "gpu.h"
#include "gpu_info.h"
#include "world.h"

#include <nccl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nccl_priv {
	struct sb__gpucomm base; /* first: comm_gpu.h (the MPI control plane, the GPU) */
	ncclComm_t nccl;
	char bus[32];
	/* -G: the last captured all-reduce and what it was captured for. */
	struct sb_gpu_graph *graph;
	const void *g_send;
	void *g_recv;
	size_t g_count;
	enum sb_dtype g_type;
};

static ncclDataType_t nccl_type(enum sb_dtype t)
{
	switch (t) {
	case SB_FLOAT:
		return ncclFloat32;
	case SB_DOUBLE:
		return ncclFloat64;
	default:
		return ncclInt32;
	}
}

static int nccl_fail(const char *what, ncclResult_t r, ncclComm_t comm)
{
	const char *last = comm ? ncclGetLastError(comm) : NULL;
	sb_log_fault("%s failed: %s%s%s", what, ncclGetErrorString(r), last && *last ? ": " : "",
	             last ? last : "");
	return SB_ECOMM;
}

/* A non-blocking call returns ncclInProgress until the communicator(s) have taken it: comm,
 * and also `more` where not NULL (a split: parent and child). */
static int nccl_wait2(ncclComm_t comm, ncclComm_t more, ncclResult_t r, const char *what)
{
	while (r == ncclInProgress) {
		ncclResult_t a = ncclSuccess, b = ncclSuccess;
		if (ncclCommGetAsyncError(comm, &a) != ncclSuccess)
			a = ncclInternalError;
		if (more && ncclCommGetAsyncError(more, &b) != ncclSuccess)
			b = ncclInternalError;
		r = a != ncclSuccess && a != ncclInProgress      ? a
		    : b != ncclSuccess && b != ncclInProgress    ? b
		    : a == ncclInProgress || b == ncclInProgress ? ncclInProgress
		                                                 : ncclSuccess;
		if (r == ncclInProgress)
			sched_yield();
	}
	return r == ncclSuccess ? 0 : nccl_fail(what, r, comm);
}

static int nccl_wait(struct nccl_priv *p, ncclResult_t r, const char *what)
{
	return nccl_wait2(p->nccl, NULL, r, what);
}

/* A failure on this rank after the others have gone on: end the whole job. */
static int late_fail(struct sb_comm *c, int rc)
{
	if (rc && c->size > 1)
		sb_ctl_abort(c, sb_exit_status(rc));
	return rc;
}

/* A communicator of c's ranks from a new unique id, made by c's rank 0 and sent over MPI. */
static int nccl_from_id(struct sb_comm *c, struct nccl_priv *p)
{
	ncclUniqueId id;
	ncclResult_t r = ncclSuccess;
	if (c->rank == 0 && (r = ncclGetUniqueId(&id)) != ncclSuccess)
		return late_fail(c, nccl_fail("ncclGetUniqueId", r, NULL));
	int mrc = MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, p->base.mpi.ctl);
	if (mrc != MPI_SUCCESS)
		return late_fail(c, sb__mpi_fail("MPI_Bcast (ncclUniqueId)", mrc));
	ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
	cfg.blocking = 0;
	r = ncclCommInitRankConfig(&p->nccl, c->size, id, c->rank, &cfg);
	if (r != ncclSuccess && r != ncclInProgress)
		return late_fail(c, nccl_fail("ncclCommInitRankConfig", r, NULL));
	return late_fail(c, nccl_wait(p, r, "ncclCommInitRankConfig"));
}

static int nccl_init(struct sb_comm *c)
{
	struct nccl_priv *p = calloc(1, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	c->priv = p;
	int rc = sb__mpi_join(c, &p->base.mpi);
	if (rc)
		return rc;
	struct sb__gpu *g = p->base.gpu = calloc(1, sizeof *g);

	/* Device: every rank must have one, and with NCCL before 2.30 a GPU of its own. */
	int lr, ls, ver = 0;
	sb_world_local(&lr, &ls);
	ncclGetVersion(&ver);
	char why[512] = "";
	rc = g ? sb_gpu_select(lr, c->device, &g->dev, why, sizeof why) : SB_ENOMEM;
	if (!g)
		snprintf(why, sizeof why, "out of memory");
	if (rc == 0)
		rc = sb_gpu_bus_id(g->dev, p->bus, sizeof p->bus);
	/* Ranks of this host on one bus id (every rank takes part: a collective). */
	int other = -1;
	int local = sb__gpu_ranks_sharing(c, rc == 0 ? p->bus : "", &other);
	if (rc == 0 && local > 1 && ver < 23000 && !getenv("NCCL_MULTI_RANK_GPU_ENABLE")) {
		snprintf(why, sizeof why,
		         "local ranks %d and %d of host %.64s both on GPU %s: NCCL %d.%d.%d needs "
		         "one GPU per rank (2.30 and later share one with "
		         "NCCL_MULTI_RANK_GPU_ENABLE=1)",
		         lr < other ? lr : other, lr < other ? other : lr, c->host, p->bus,
		         ver / 10000, ver / 100 % 100, ver % 100);
		rc = SB_EINVAL;
	}
	long long bad = rc != 0;
	sb_ctl_sum(c, &bad, 1);
	if (bad) {
		/* Bad input or a machine without GPUs: one message, from rank 0 (its own reason,
		 * or that another rank had none). */
		if (rc)
			sb_log_usage("backend nccl: %s", why);
		else
			sb_log_usage(
			    "backend nccl: %lld rank(s) cannot use a GPU (see 'scalebench list' "
			    "there)",
			    bad);
		return rc ? rc : SB_ENOTSUP;
	}
	snprintf(c->gpu, sizeof c->gpu, "%s", p->bus);
	g->local = local;
	double shared = local;
	sb_ctl_max(c, &shared, 1);
	g->shared = (int)shared;
	/* From here a failure on one rank leaves the others in a collective: end the job. */
	if ((rc = sb__gpu_open(g)))
		return late_fail(c, rc);
	return nccl_from_id(c, p);
}

/* The communicator and the -G graph of one communicator (the world's or a group's). */
static void nccl_close(struct nccl_priv *p)
{
	sb_gpu_graph_destroy(p->graph);
	p->graph = NULL;
	if (p->nccl) {
		ncclResult_t r = ncclCommFinalize(p->nccl);
		if ((r == ncclSuccess || r == ncclInProgress) &&
		    nccl_wait(p, r, "ncclCommFinalize") == 0)
			ncclCommDestroy(p->nccl);
		else
			ncclCommAbort(p->nccl);
		p->nccl = NULL;
	}
}

static void nccl_fini(struct sb_comm *c)
{
	struct nccl_priv *p = c->priv;
	if (!p)
		return;
	nccl_close(p);
	sb__gpu_close(p->base.gpu); /* after the communicator that used its stream */
	sb__mpi_leave(&p->base.mpi);
	free(p);
	c->priv = NULL;
}

/* ncclCommSplit where the headers and the library both have it (2.18 and later): 0 or an
 * error; 1 when it is not there to call. Config NULL: the parent's (non-blocking). */
static int comm_split(struct nccl_priv *pp, int color, int key, struct nccl_priv *p)
{
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 18, 0)
	int ver = 0;
	ncclGetVersion(&ver);
	if (ver >= 21800) {
		ncclResult_t r = ncclCommSplit(pp->nccl, color < 0 ? NCCL_SPLIT_NOCOLOR : color,
		                               key, &p->nccl, NULL);
		if (r != ncclSuccess && r != ncclInProgress)
			return nccl_fail("ncclCommSplit", r, pp->nccl);
		return nccl_wait2(pp->nccl, p->nccl, r, "ncclCommSplit");
	}
#endif
	(void)pp, (void)color, (void)key, (void)p;
	return 1;
}

/* Collective over parent: the MPI split, then ncclCommSplit (every parent rank calls it, those
 * of no group with NCCL_SPLIT_NOCOLOR) or, before NCCL 2.18, a new unique id per group. */
static int nccl_split(struct sb_comm *parent, int color, int key, int group, struct sb_comm *child)
{
	struct nccl_priv *pp = parent->priv, *p = calloc(1, sizeof *p);
	(void)group;
	if (!p)
		return sb__mpi_nomem(parent, "splitting the world");
	p->base.gpu = pp->base.gpu;
	snprintf(p->bus, sizeof p->bus, "%s", pp->bus);
	int rc = sb__mpi_split(parent, color, key, child, &p->base.mpi);
	if (rc) {
		free(p);
		return late_fail(parent, rc);
	}
	if ((rc = comm_split(pp, color, key, p)) == 1)
		rc = color >= 0 ? nccl_from_id(child, p) : 0;
	else
		rc = late_fail(parent, rc);
	if (rc || color < 0) {
		nccl_close(p);
		sb__mpi_leave(&p->base.mpi);
		free(p);
		return rc;
	}
	child->priv = p;
	return 0;
}

static void nccl_split_free(struct sb_comm *child)
{
	struct nccl_priv *p = child->priv;
	nccl_close(p);
	sb__mpi_leave(&p->base.mpi);
	free(p);
	child->priv = NULL;
}

static int issue_allreduce(struct nccl_priv *p, const void *send, void *recv, size_t count,
                           enum sb_dtype t)
{
	ncclResult_t r = ncclAllReduce(send, recv, count, nccl_type(t), ncclSum, p->nccl,
	                               (cudaStream_t)p->base.gpu->stream);
	return nccl_wait(p, r, "ncclAllReduce");
}

static int issue_graph_allreduce(void *arg)
{
	struct nccl_priv *p = arg;
	return issue_allreduce(p, p->g_send, p->g_recv, p->g_count, p->g_type);
}

static int nccl_allreduce(struct sb_comm *c, const void *send, void *recv, size_t count,
                          enum sb_dtype t, enum sb_op op)
{
	struct nccl_priv *p = c->priv;
	(void)op;
	if (!c->graph)
		return issue_allreduce(p, send, recv, count, t);
	/* -G: one all-reduce captured in a CUDA graph, replayed per step; captured again when
	 * the buffers or the count change (a new point). */
	void *stream = p->base.gpu->stream;
	if (!p->graph || p->g_send != send || p->g_recv != recv || p->g_count != count ||
	    p->g_type != t) {
		sb_gpu_graph_destroy(p->graph);
		p->graph = NULL;
		p->g_send = send, p->g_recv = recv, p->g_count = count, p->g_type = t;
		int rc = sb_gpu_graph_capture(stream, issue_graph_allreduce, p, &p->graph);
		if (rc)
			return rc;
	}
	return sb_gpu_graph_launch(p->graph, stream);
}

static int nccl_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                         size_t bytes)
{
	struct nccl_priv *p = c->priv;
	cudaStream_t s = (cudaStream_t)p->base.gpu->stream;
	ncclResult_t r = ncclGroupStart();
	if (r == ncclSuccess && dst >= 0)
		r = ncclSend(send, bytes, ncclInt8, dst, p->nccl, s);
	if ((r == ncclSuccess || r == ncclInProgress) && src >= 0)
		r = ncclRecv(recv, bytes, ncclInt8, src, p->nccl, s);
	ncclResult_t e = ncclGroupEnd();
	if (r == ncclSuccess || r == ncclInProgress)
		r = e;
	return nccl_wait(p, r, "ncclSend/ncclRecv");
}

/* Wait for the stream, watching for asynchronous NCCL errors (a remote rank that died) instead
 * of blocking in cudaStreamSynchronize. */
static int nccl_sync(struct sb_comm *c)
{
	struct nccl_priv *p = c->priv;
	for (unsigned spin = 0;; spin++) {
		int done = sb_gpu_stream_query(p->base.gpu->stream);
		if (done < 0)
			return done;
		if (done)
			return 0;
		ncclResult_t st = ncclSuccess;
		ncclCommGetAsyncError(p->nccl, &st);
		if (st != ncclSuccess && st != ncclInProgress)
			return nccl_fail("NCCL (asynchronous)", st, p->nccl);
		if (spin > 1000)
			sched_yield();
	}
}

static const char *nccl_data_path(struct sb_comm *c)
{
	return c->graph ? "device memory, NCCL, replayed from a CUDA graph" : "device memory, NCCL";
}

static void nccl_describe(struct sb_comm *c, json_t *obj)
{
	struct nccl_priv *p = c->priv;
	int ver = 0;
	ncclGetVersion(&ver);
	sb__mpi_describe(c, obj);
	json_object_set_new(obj, "nccl_compiled",
	                    json_sprintf("%d.%d.%d", NCCL_MAJOR, NCCL_MINOR, NCCL_PATCH));
	json_object_set_new(obj, "nccl_runtime",
	                    json_sprintf("%d.%d.%d", ver / 10000, ver / 100 % 100, ver % 100));
	json_object_set_new(obj, "gpu", sb__gpu_describe(p->base.gpu));
	json_object_set_new(
	    obj, "timing",
	    json_string("host clock around the enqueue and a stream wait (max over "
	                "ranks); CUDA events on the stream, held by a blocking "
	                "kernel while the step is enqueued where the driver holds it"));
	json_object_set_new(obj, "sync_mode", json_string(sb_gpu_sync_mode()));
	/* Ranks sharing a GPU take turns on it: such figures are no multi-GPU scaling. */
	json_object_set_new(obj, "gpu_shared_by", json_integer(p->base.gpu->shared));
}

/* A fault on one rank ends the job through the control plane (sb__mpi_ctl's abort). The
 * communicator is not aborted there or from the watchdog thread: ncclCommAbort frees it under a
 * main thread that may be polling it, and can itself block; process exit tears down the CUDA
 * context, which ends any kernel left running. */
const struct sb_backend sb_backend_nccl = {
    .name = "nccl",
    .summary = "NCCL on GPU memory, one GPU per rank",
    .caps = SB_CAP_DEVICE_MEM,
    .unavailable = sb_gpu_unavailable,
    .init = nccl_init,
    .fini = nccl_fini,
    .alloc = sb__gpu_alloc,
    .free = sb__gpu_free,
    .fill = sb__gpu_fill,
    .check_sum = sb__gpu_check_sum,
    .fill_rank = sb__gpu_fill_rank,
    .check_rank = sb__gpu_check_rank,
    .allreduce = nccl_allreduce,
    .sendrecv = nccl_sendrecv,
    .sync = nccl_sync,
    .event_start = sb__gpu_event_start,
    .event_stop = sb__gpu_event_stop,
    .event_read = sb__gpu_event_read,
    .hold = sb__gpu_hold,
    .release = sb__gpu_release,
    .put = sb__gpu_put,
    .get = sb__gpu_get,
    .stream = sb__gpu_stream,
    .mem_free = sb__gpu_mem_free,
    .data_path = nccl_data_path,
    .describe = nccl_describe,
    .ctl = &sb__mpi_ctl,
    .split = nccl_split,
    .split_free = nccl_split_free,
};
