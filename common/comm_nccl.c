/* The `nccl` backend: device buffers, NCCL collectives and grouped send/recv on one GPU per
 * rank, chosen by local rank (an MPI shared-memory split, not SLURM_PROCID) or --device. MPI
 * carries the control plane and the ncclUniqueId. The communicator is non-blocking, so every
 * wait polls for asynchronous NCCL errors (a peer that died) and the watchdog can abort it.
 *
 * Timing: the driver's host clock around the enqueue and a stream wait (max over ranks), and
 * CUDA events around the step(s) on the stream. With the hold hooks (gpu.h: a blocking kernel
 * holds the stream while the start event, the NCCL calls and the stop event are enqueued, then
 * is released) the events time the device's work alone; without a hold, on an idle stream, the
 * start event fires at once and the event time includes the host's enqueue of the NCCL call. */
#include "comm.h"
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
	struct sb__mpi mpi; /* first: the control plane (comm_mpi.h) */
	ncclComm_t nccl;
	void *stream;
	int dev;
	char bus[32];
	int local; /* ranks of this host on this rank's GPU */
	int shared; /* most ranks on one GPU, over the job's hosts (NCCL 2.30+ may share) */
	struct sb_gpu_timer *timer;
	struct sb_gpu_hold *hold; /* the hold and release hooks */
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

/* A non-blocking call returns ncclInProgress until the communicator has taken it. */
static int nccl_wait(struct nccl_priv *p, ncclResult_t r, const char *what)
{
	while (r == ncclInProgress) {
		ncclResult_t st = ncclInProgress;
		if (ncclCommGetAsyncError(p->nccl, &st) != ncclSuccess)
			st = ncclInternalError;
		r = st;
		if (r == ncclInProgress)
			sched_yield();
	}
	return r == ncclSuccess ? 0 : nccl_fail(what, r, p->nccl);
}

/* A failure on this rank after the others have gone on: end the whole job. */
static int late_fail(struct sb_comm *c, int rc)
{
	if (rc && c->size > 1)
		sb__mpi_abort(c, sb_exit_status(rc));
	return rc;
}

static int nccl_init(struct sb_comm *c)
{
	struct nccl_priv *p = calloc(1, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	c->priv = p;
	int rc = sb__mpi_join(c, &p->mpi);
	if (rc)
		return rc;

	/* Device: every rank must have one, and with NCCL before 2.30 a GPU of its own. */
	int lr, ls, ver = 0;
	sb_world_local(&lr, &ls);
	ncclGetVersion(&ver);
	char why[512] = "";
	rc = sb_gpu_select(lr, c->device, &p->dev, why, sizeof why);
	if (rc == 0)
		rc = sb_gpu_bus_id(p->dev, p->bus, sizeof p->bus);
	/* Ranks of this host on one bus id (every rank takes part: a collective). */
	int other = -1;
	p->local = sb__gpu_ranks_sharing(c, rc == 0 ? p->bus : "", &other);
	if (rc == 0 && p->local > 1 && ver < 23000 && !getenv("NCCL_MULTI_RANK_GPU_ENABLE")) {
		snprintf(why, sizeof why,
		         "local ranks %d and %d of host %.64s both on GPU %s: NCCL %d.%d.%d needs "
		         "one GPU per rank (2.30 and later share one with "
		         "NCCL_MULTI_RANK_GPU_ENABLE=1)",
		         lr < other ? lr : other, lr < other ? other : lr, c->host, p->bus,
		         ver / 10000, ver / 100 % 100, ver % 100);
		rc = SB_EINVAL;
	}
	long long bad = rc != 0;
	sb__mpi_ctl_sum(c, &bad, 1);
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
	double shared = p->local;
	sb__mpi_ctl_max(c, &shared, 1);
	p->shared = (int)shared;
	/* From here a failure on one rank leaves the others in a collective: end the job. */
	if ((rc = sb_gpu_stream_create(&p->stream)) || (rc = sb_gpu_timer_create(&p->timer)) ||
	    (rc = sb_gpu_hold_create(&p->hold)))
		return late_fail(c, rc);

	ncclUniqueId id;
	ncclResult_t r = ncclSuccess;
	if (c->rank == 0 && (r = ncclGetUniqueId(&id)) != ncclSuccess)
		return late_fail(c, nccl_fail("ncclGetUniqueId", r, NULL));
	int mrc = MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, p->mpi.comm);
	if (mrc != MPI_SUCCESS)
		return late_fail(c, sb__mpi_fail("MPI_Bcast (ncclUniqueId)", mrc));
	ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
	cfg.blocking = 0;
	r = ncclCommInitRankConfig(&p->nccl, c->size, id, c->rank, &cfg);
	if (r != ncclSuccess && r != ncclInProgress)
		return late_fail(c, nccl_fail("ncclCommInitRankConfig", r, NULL));
	return late_fail(c, nccl_wait(p, r, "ncclCommInitRankConfig"));
}

static void nccl_fini(struct sb_comm *c)
{
	struct nccl_priv *p = c->priv;
	if (!p)
		return;
	sb_gpu_graph_destroy(p->graph);
	if (p->nccl) {
		ncclResult_t r = ncclCommFinalize(p->nccl);
		if ((r == ncclSuccess || r == ncclInProgress) &&
		    nccl_wait(p, r, "ncclCommFinalize") == 0)
			ncclCommDestroy(p->nccl);
		else
			ncclCommAbort(p->nccl);
	}
	sb_gpu_timer_destroy(p->timer);
	sb_gpu_hold_destroy(p->hold); /* before its stream */
	sb_gpu_stream_destroy(p->stream);
	sb__mpi_leave(&p->mpi);
	free(p);
	c->priv = NULL;
}

static void *nccl_alloc(struct sb_comm *c, size_t bytes)
{
	(void)c;
	return sb_gpu_malloc(bytes);
}

static void nccl_free(struct sb_comm *c, void *ptr)
{
	(void)c;
	sb_gpu_free(ptr);
}

static int nccl_fill(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, unsigned seed)
{
	return sb_gpu_fill(buf, count, t, c->rank, seed, ((struct nccl_priv *)c->priv)->stream);
}

static int nccl_fill_rank(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, int rank,
                          unsigned seed)
{
	return sb_gpu_fill(buf, count, t, rank, seed, ((struct nccl_priv *)c->priv)->stream);
}

static int nccl_check_sum(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                          unsigned seed, size_t *wrong)
{
	return sb_gpu_check_sum(buf, count, t, c->size, seed, ((struct nccl_priv *)c->priv)->stream,
	                        wrong);
}

static int nccl_check_rank(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                           int rank, unsigned seed, size_t *wrong)
{
	return sb_gpu_check_rank(buf, count, t, rank, seed, ((struct nccl_priv *)c->priv)->stream,
	                         wrong);
}

static int issue_allreduce(struct nccl_priv *p, const void *send, void *recv, size_t count,
                           enum sb_dtype t)
{
	ncclResult_t r = ncclAllReduce(send, recv, count, nccl_type(t), ncclSum, p->nccl,
	                               (cudaStream_t)p->stream);
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
	if (!p->graph || p->g_send != send || p->g_recv != recv || p->g_count != count ||
	    p->g_type != t) {
		sb_gpu_graph_destroy(p->graph);
		p->graph = NULL;
		p->g_send = send, p->g_recv = recv, p->g_count = count, p->g_type = t;
		int rc = sb_gpu_graph_capture(p->stream, issue_graph_allreduce, p, &p->graph);
		if (rc)
			return rc;
	}
	return sb_gpu_graph_launch(p->graph, p->stream);
}

static int nccl_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                         size_t bytes)
{
	struct nccl_priv *p = c->priv;
	cudaStream_t s = (cudaStream_t)p->stream;
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

static void *nccl_stream(struct sb_comm *c)
{
	return ((struct nccl_priv *)c->priv)->stream;
}

static int nccl_put(struct sb_comm *c, void *buf, const void *src, size_t bytes)
{
	struct nccl_priv *p = c->priv;
	int rc = sb_gpu_copy_to_device(buf, src, bytes, p->stream);
	return rc ? rc : sb_gpu_stream_sync(p->stream);
}

static int nccl_get(struct sb_comm *c, void *dst, const void *buf, size_t bytes)
{
	struct nccl_priv *p = c->priv;
	int rc = sb_gpu_copy_to_host(dst, buf, bytes, p->stream);
	return rc ? rc : sb_gpu_stream_sync(p->stream);
}

/* Wait for the stream, watching for asynchronous NCCL errors (a remote rank that died) instead
 * of blocking in cudaStreamSynchronize. */
static int nccl_sync(struct sb_comm *c)
{
	struct nccl_priv *p = c->priv;
	for (unsigned spin = 0;; spin++) {
		int done = sb_gpu_stream_query(p->stream);
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

static int nccl_event_start(struct sb_comm *c)
{
	struct nccl_priv *p = c->priv;
	return sb_gpu_timer_start(p->timer, p->stream);
}

static int nccl_event_stop(struct sb_comm *c)
{
	struct nccl_priv *p = c->priv;
	return sb_gpu_timer_stop(p->timer, p->stream);
}

static int nccl_event_read(struct sb_comm *c, double *seconds)
{
	struct nccl_priv *p = c->priv;
	int rc = sb_gpu_timer_read(p->timer, seconds);
	return rc ? rc : sb_gpu_hold_status(p->hold);
}

static int nccl_hold(struct sb_comm *c)
{
	struct nccl_priv *p = c->priv;
	return sb_gpu_hold_begin(p->hold, p->stream, SB_GPU_HOLD_TIMEOUT);
}

static int nccl_release(struct sb_comm *c)
{
	return sb_gpu_hold_release(((struct nccl_priv *)c->priv)->hold);
}

/* A fault on one rank: end the job. The communicator is not aborted here or from the
 * watchdog thread: ncclCommAbort frees it under a main thread that may be polling it, and can
 * itself block; process exit tears down the CUDA context, which ends any kernel left running. */
static void nccl_abort(struct sb_comm *c, int status)
{
	sb__mpi_abort(c, status);
}

/* The device's free memory, shared by this host's ranks on it. */
static int nccl_mem_free(struct sb_comm *c, double *bytes)
{
	struct nccl_priv *p = c->priv;
	size_t f = 0, t = 0;
	int rc = sb_gpu_mem_info(p->dev, &f, &t);
	if (rc == 0)
		*bytes = (double)f / p->local;
	return rc;
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
	json_t *gpu = sb_gpu_describe_device(p->dev);
	double bps = 0;
	/* Device-to-device copy of 256 MiB, counted as read + write (2 x bytes per copy). */
	if (sb_gpu_copy_bandwidth((size_t)256 << 20, 20, &bps) == 0)
		json_object_set_new(gpu, "copy_bandwidth", json_real(bps));
	json_object_set_new(obj, "gpu", gpu);
	json_object_set_new(
	    obj, "timing",
	    json_string("host clock around the enqueue and a stream wait (max over "
	                "ranks); CUDA events on the stream, held by a blocking "
	                "kernel while the step is enqueued where the driver holds it"));
	json_object_set_new(obj, "sync_mode", json_string(sb_gpu_sync_mode()));
	/* Ranks sharing a GPU take turns on it: such figures are no multi-GPU scaling. */
	json_object_set_new(obj, "gpu_shared_by", json_integer(p->shared));
}

const struct sb_backend sb_backend_nccl = {
    .name = "nccl",
    .summary = "NCCL on GPU memory, one GPU per rank",
    .caps = SB_CAP_DEVICE_MEM,
    .unavailable = sb_gpu_unavailable,
    .init = nccl_init,
    .fini = nccl_fini,
    .alloc = nccl_alloc,
    .free = nccl_free,
    .fill = nccl_fill,
    .check_sum = nccl_check_sum,
    .fill_rank = nccl_fill_rank,
    .check_rank = nccl_check_rank,
    .allreduce = nccl_allreduce,
    .sendrecv = nccl_sendrecv,
    .barrier = sb__mpi_barrier,
    .sync = nccl_sync,
    .event_start = nccl_event_start,
    .event_stop = nccl_event_stop,
    .event_read = nccl_event_read,
    .hold = nccl_hold,
    .release = nccl_release,
    .ctl_max = sb__mpi_ctl_max,
    .ctl_sum = sb__mpi_ctl_sum,
    .ctl_gatherv = sb__mpi_ctl_gatherv,
    .ctl_clock_offset = sb__mpi_ctl_clock_offset,
    .put = nccl_put,
    .get = nccl_get,
    .stream = nccl_stream,
    .abort = nccl_abort,
    .mem_free = nccl_mem_free,
    .data_path = nccl_data_path,
    .describe = nccl_describe,
};
