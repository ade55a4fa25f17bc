/* The `mpi-gpu` backend: MPI on device buffers. Where the MPI library is CUDA-aware
 * (MPIX_Query_cuda_support, at run time) device pointers go straight to MPI; otherwise every
 * message is staged through pinned host buffers (device to host, MPI, host to device) and every
 * record says so. One GPU per rank by local rank, or --device; several ranks may share one.
 *
 * The staged path is the latency of a small message: a device-to-host copy, a host wait for it,
 * the MPI call, a host-to-device copy the driver's sync waits for. Every copy is
 * cudaMemcpyAsync on the backend's stream between pinned buffers (a pageable buffer would add
 * a staging copy inside CUDA and a synchronous wait), and there is one host wait per step
 * inside it: the stream orders the copy after any queued fill and after the previous step's
 * host-to-device copy. The host waits by spinning (cudaDeviceScheduleSpin) while the host's
 * ranks fit on its cores: a sleeping wait costs a wake-up per message (tens to hundreds of
 * microseconds in a VM). SB_GPU_SYNC=auto|spin|yield|block overrides it, to compare. Ranks
 * that share one GPU without MPS take turns on it (each process has its own context, and the
 * GPU time-slices between contexts): every record's data path says so, with how many share.
 *
 * Events and holds: the step is host-driven (MPI runs on the host between the copies), so the
 * device cannot time it alone. The hold ends where the step hands the data to MPI (at the host
 * wait for the device-to-host copy, or before the MPI call): the events then run from the
 * step's first device operation to its last, the MPI call between them included, without the
 * launch of the first. */
#include "comm.h"
#include "comm_gpu.h"
#include "comm_mpi.h"
#include "error.h"
#include "gpu.h"
#include "gpu_info.h"
#include "world.h"

#include <mpi.h>
#if defined(__has_include)
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h> /* Open MPI: MPIX_CUDA_AWARE_SUPPORT, MPIX_Query_cuda_support */
#endif
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mpigpu_priv {
	struct sb__gpucomm base; /* first: comm_gpu.h (the MPI communicators, the GPU) */
	int aware;
	int mps; /* this rank's GPU shares contexts through MPS: 1, 0, or -1 unknown */
	char path[256]; /* the data path, for every record */
};

static int cuda_aware(void)
{
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
	return MPIX_Query_cuda_support() == 1;
#else
	return 0;
#endif
}

static int mpigpu_init(struct sb_comm *c)
{
	struct mpigpu_priv *p = calloc(1, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	c->priv = p;
	int rc = sb__mpi_join(c, &p->base.mpi);
	if (rc)
		return rc;
	struct sb__gpu *g = p->base.gpu = calloc(1, sizeof *g);
	int lr, ls;
	sb_world_local(&lr, &ls);
	char why[256] = "";
	rc = g ? sb_gpu_select(lr, c->device, &g->dev, why, sizeof why) : SB_ENOMEM;
	if (!g)
		snprintf(why, sizeof why, "out of memory");
	/* How the host waits for the GPU: spinning while this host's ranks fit on its cores (a
	 * core each), else yielding it. */
	const char *sync = getenv("SB_GPU_SYNC");
	if (!sync || !*sync)
		sync = ls <= sysconf(_SC_NPROCESSORS_ONLN) ? "spin" : "yield";
	if (rc == 0 && (rc = sb_gpu_sync_mode_set(sync)))
		snprintf(why, sizeof why,
		         rc == SB_EINVAL ? "SB_GPU_SYNC=%.64s: auto, spin, yield or block"
		                         : "cannot set how the host waits for the GPU (%.64s)",
		         sync);
	long long bad = rc != 0;
	sb_ctl_sum(c, &bad, 1);
	if (bad) {
		if (rc)
			sb_log_usage("backend mpi-gpu: %s", why);
		else
			sb_log_usage("backend mpi-gpu: %lld rank(s) have no usable GPU", bad);
		return rc ? rc : SB_ENOTSUP;
	}
	sb_gpu_bus_id(g->dev, c->gpu, sizeof c->gpu);
	p->aware = cuda_aware();
	if (getenv("SB_MPIGPU_STAGED")) /* force the staged path (tests, comparisons) */
		p->aware = 0;
	g->staged = !p->aware;
	int other;
	g->local = sb__gpu_ranks_sharing(c, c->gpu, &other);
	double shared = g->local;
	p->mps = sb_gpu_mps(g->dev);
	rc = sb_ctl_max(c, &shared, 1);
	g->shared = (int)shared;
	if (p->aware)
		snprintf(p->path, sizeof p->path, "device memory, CUDA-aware MPI");
	else
		snprintf(p->path, sizeof p->path,
		         "device memory staged through pinned host buffers (MPI not CUDA-aware; "
		         "cudaMemcpyAsync on the stream, host waits: %s)",
		         sb_gpu_sync_mode());
	if (g->shared > 1) {
		size_t l = strlen(p->path);
		snprintf(p->path + l, sizeof p->path - l, "; %d ranks share one GPU, %s", g->shared,
		         p->mps == 1 ? "through MPS"
		                     : "taking turns on it (one context each, no MPS)");
	}
	if (rc == 0)
		rc = sb__gpu_open(g);
	if (rc && c->size > 1) /* the others have gone on into the next collective */
		sb_ctl_abort(c, sb_exit_status(rc));
	return rc;
}

static void mpigpu_fini(struct sb_comm *c)
{
	struct mpigpu_priv *p = c->priv;
	if (!p)
		return;
	sb__gpu_close(p->base.gpu);
	sb__mpi_leave(&p->base.mpi);
	free(p);
	c->priv = NULL;
}

/* A group: the parent's GPU and settings on split MPI communicators. */
static int mpigpu_split(struct sb_comm *parent, int color, int key, int group,
                        struct sb_comm *child)
{
	struct mpigpu_priv *p = malloc(sizeof *p);
	(void)group;
	if (!p)
		return sb__mpi_nomem(parent, "splitting the world");
	*p = *(struct mpigpu_priv *)parent->priv;
	int rc = sb__mpi_split(parent, color, key, child, &p->base.mpi);
	if (rc || p->base.mpi.comm == MPI_COMM_NULL) {
		free(p);
		return rc;
	}
	child->priv = p;
	return 0;
}

static void mpigpu_split_free(struct sb_comm *child)
{
	struct mpigpu_priv *p = child->priv;
	sb__mpi_leave(&p->base.mpi);
	free(p);
	child->priv = NULL;
}

/* Before MPI is handed the data: the hold ends (what MPI does runs outside the stream, so the
 * events must be running already), and MPI waits for nothing queued on the stream that uses
 * its memory: with CUDA-aware MPI the device buffers (a queued fill), when staged the staging
 * buffers (the previous step's host-to-device copy). */
static int before_mpi(struct mpigpu_priv *p)
{
	struct sb__gpu *g = p->base.gpu;
	sb_gpu_hold_release(g->hold);
	if (p->aware ? g->pending : g->inflight)
		return sb__gpu_wait(g);
	return 0;
}

static int staging_fits(const struct sb__gpu *g, size_t bytes)
{
	if (bytes <= g->hcap)
		return 1;
	sb_log_fault("staging buffers of %zu bytes for a %zu-byte message", g->hcap, bytes);
	return 0;
}

static int mpigpu_allreduce(struct sb_comm *c, const void *send, void *recv, size_t count,
                            enum sb_dtype t, enum sb_op op)
{
	struct mpigpu_priv *p = c->priv;
	struct sb__gpu *g = p->base.gpu;
	size_t bytes = count * sb_dtype_size(t);
	int rc;
	if (p->aware)
		return (rc = before_mpi(p)) ? rc : sb__mpi_allreduce(c, send, recv, count, t, op);
	if (!staging_fits(g, bytes))
		return SB_ENOMEM;
	/* The copy queues behind a fill and the previous step's copy back: one wait for all. */
	void *hout = send == recv ? g->hsend : g->hrecv;
	if ((rc = sb_gpu_copy_to_host(g->hsend, send, bytes, g->stream)) ||
	    (rc = sb__gpu_wait(g)) || (rc = before_mpi(p)) ||
	    (rc = sb__mpi_allreduce(c, g->hsend, hout, count, t, op)) ||
	    (rc = sb_gpu_copy_to_device(recv, hout, bytes, g->stream)))
		return rc;
	g->inflight = 1;
	return 0;
}

static int mpigpu_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                           size_t bytes)
{
	struct mpigpu_priv *p = c->priv;
	struct sb__gpu *g = p->base.gpu;
	int rc;
	if (p->aware)
		return (rc = before_mpi(p)) ? rc : sb__mpi_sendrecv(c, send, dst, recv, src, bytes);
	if (!staging_fits(g, bytes))
		return SB_ENOMEM;
	if (dst >= 0 && ((rc = sb_gpu_copy_to_host(g->hsend, send, bytes, g->stream)) ||
	                 (rc = sb__gpu_wait(g))))
		return rc;
	if ((rc = before_mpi(p)) || (rc = sb__mpi_sendrecv(c, g->hsend, dst, g->hrecv, src, bytes)))
		return rc;
	if (src < 0)
		return 0;
	if ((rc = sb_gpu_copy_to_device(recv, g->hrecv, bytes, g->stream)) == 0)
		g->inflight = 1;
	return rc;
}

static int mpigpu_sync(struct sb_comm *c)
{
	return sb__gpu_wait(sb__gpu_of(c));
}

static const char *mpigpu_data_path(struct sb_comm *c)
{
	struct mpigpu_priv *p = c->priv;
	return p ? p->path : "device memory";
}

static void mpigpu_describe(struct sb_comm *c, json_t *obj)
{
	struct mpigpu_priv *p = c->priv;
	struct sb__gpu *g = p->base.gpu;
	sb__mpi_describe(c, obj);
	json_object_set_new(obj, "mpi_cuda_aware", json_boolean(p->aware));
	json_object_set_new(obj, "staged", json_boolean(!p->aware));
	if (!p->aware)
		json_object_set_new(obj, "staging",
		                    json_string("pinned host buffers (cudaMallocHost); "
		                                "cudaMemcpyAsync on the backend's stream; one host "
		                                "wait per step, after the device-to-host copy"));
	json_object_set_new(obj, "sync_mode", json_string(sb_gpu_sync_mode()));
	json_object_set_new(obj, "gpu_shared_by", json_integer(g->shared));
	json_object_set_new(obj, "mps", p->mps < 0 ? json_null() : json_boolean(p->mps));
	json_object_set_new(obj, "timing",
	                    json_string("host clock around the step and a stream wait (max over "
	                                "ranks); CUDA events from the step's first device "
	                                "operation to its last, the MPI call between them (a hold "
	                                "ends where the step hands the data to MPI)"));
	json_object_set_new(obj, "gpu", sb__gpu_describe(g));
}

const struct sb_backend sb_backend_mpigpu = {
    .name = "mpi-gpu",
    .summary = "MPI on GPU memory (CUDA-aware, or staged through pinned host memory)",
    .caps = SB_CAP_DEVICE_MEM,
    .unavailable = sb_gpu_unavailable,
    .init = mpigpu_init,
    .fini = mpigpu_fini,
    .alloc = sb__gpu_alloc,
    .free = sb__gpu_free,
    .fill = sb__gpu_fill,
    .check_sum = sb__gpu_check_sum,
    .fill_rank = sb__gpu_fill_rank,
    .check_rank = sb__gpu_check_rank,
    .allreduce = mpigpu_allreduce,
    .sendrecv = mpigpu_sendrecv,
    .sync = mpigpu_sync,
    .event_start = sb__gpu_event_start,
    .event_stop = sb__gpu_event_stop,
    .event_read = sb__gpu_event_read,
    .hold = sb__gpu_hold,
    .release = sb__gpu_release,
    .put = sb__gpu_put,
    .get = sb__gpu_get,
    .stream = sb__gpu_stream,
    .mem_free = sb__gpu_mem_free,
    .data_path = mpigpu_data_path,
    .describe = mpigpu_describe,
    .ctl = &sb__mpi_ctl,
    .split = mpigpu_split,
    .split_free = mpigpu_split_free,
};
