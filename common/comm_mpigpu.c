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
	struct sb__mpi mpi; /* first: comm_mpi.h */
	void *stream;
	int dev;
	int aware;
	void *hsend, *hrecv; /* pinned staging buffers */
	size_t hcap;
	int pending; /* work queued on the stream (fills) that MPI must wait for */
	int inflight; /* a host-to-device copy from a staging buffer may still be running */
	struct sb_gpu_timer *timer;
	struct sb_gpu_hold *hold;
	int local; /* ranks of this host on this rank's GPU */
	int shared; /* most ranks on one GPU, over the job's hosts */
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

/* gpu.h. Every rank of the job takes part in the split, whatever its host's rank count: a
 * host with one rank that left it out would leave the others waiting in it. */
int sb__gpu_ranks_sharing(struct sb_comm *c, const char *bus, int *other)
{
	struct sb__mpi *m = c->priv; /* first member of every MPI-based backend's state */
	int n = 1, me = 0, ls = 1;
	*other = -1;
	if (c->size < 2)
		return 1;
	MPI_Comm node;
	if (MPI_Comm_split_type(m->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) !=
	    MPI_SUCCESS)
		return 1;
	MPI_Comm_rank(node, &me);
	MPI_Comm_size(node, &ls);
	char(*all)[32] = calloc((size_t)ls, sizeof *all);
	char mine[32];
	snprintf(mine, sizeof mine, "%s", bus);
	if (!all) { /* the host's other ranks are in the all-gather: end the job */
		sb_log_fault("cannot allocate the bus ids of %d ranks", ls);
		sb__mpi_abort(c, sb_exit_status(SB_ENOMEM));
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

static int mpigpu_init(struct sb_comm *c)
{
	struct mpigpu_priv *p = calloc(1, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	c->priv = p;
	int rc = sb__mpi_join(c, &p->mpi);
	if (rc)
		return rc;
	int lr, ls;
	sb_world_local(&lr, &ls);
	char why[256] = "";
	rc = sb_gpu_select(lr, c->device, &p->dev, why, sizeof why);
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
	sb__mpi_ctl_sum(c, &bad, 1);
	if (bad) {
		if (rc)
			sb_log_usage("backend mpi-gpu: %s", why);
		else
			sb_log_usage("backend mpi-gpu: %lld rank(s) have no usable GPU", bad);
		return rc ? rc : SB_ENOTSUP;
	}
	sb_gpu_bus_id(p->dev, c->gpu, sizeof c->gpu);
	p->aware = cuda_aware();
	if (getenv("SB_MPIGPU_STAGED")) /* force the staged path (tests, comparisons) */
		p->aware = 0;
	int other;
	p->local = sb__gpu_ranks_sharing(c, c->gpu, &other);
	double shared = p->local;
	p->mps = sb_gpu_mps(p->dev);
	rc = sb__mpi_ctl_max(c, &shared, 1);
	p->shared = (int)shared;
	if (p->aware)
		snprintf(p->path, sizeof p->path, "device memory, CUDA-aware MPI");
	else
		snprintf(p->path, sizeof p->path,
		         "device memory staged through pinned host buffers (MPI not CUDA-aware; "
		         "cudaMemcpyAsync on the stream, host waits: %s)",
		         sb_gpu_sync_mode());
	if (p->shared > 1) {
		size_t l = strlen(p->path);
		snprintf(p->path + l, sizeof p->path - l, "; %d ranks share one GPU, %s", p->shared,
		         p->mps == 1 ? "through MPS"
		                     : "taking turns on it (one context each, no MPS)");
	}
	if (rc == 0 && (rc = sb_gpu_stream_create(&p->stream)) == 0 &&
	    (rc = sb_gpu_timer_create(&p->timer)) == 0)
		rc = sb_gpu_hold_create(&p->hold);
	if (rc && c->size > 1) /* the others have gone on into the next collective */
		sb__mpi_abort(c, sb_exit_status(rc));
	return rc;
}

static void mpigpu_fini(struct sb_comm *c)
{
	struct mpigpu_priv *p = c->priv;
	if (!p)
		return;
	sb_gpu_free_host(p->hsend);
	sb_gpu_free_host(p->hrecv);
	sb_gpu_timer_destroy(p->timer);
	sb_gpu_hold_destroy(p->hold); /* before its stream */
	sb_gpu_stream_destroy(p->stream);
	sb__mpi_leave(&p->mpi);
	free(p);
	c->priv = NULL;
}

static void *mpigpu_alloc(struct sb_comm *c, size_t bytes)
{
	struct mpigpu_priv *p = c->priv;
	/* The staging buffers follow the largest device buffer, outside the timed loop. */
	if (!p->aware && bytes > p->hcap) {
		if (p->inflight && sb_gpu_stream_sync(p->stream)) /* a copy may read them */
			return NULL;
		p->inflight = 0;
		sb_gpu_free_host(p->hsend);
		sb_gpu_free_host(p->hrecv);
		p->hsend = sb_gpu_malloc_host(bytes);
		p->hrecv = sb_gpu_malloc_host(bytes);
		p->hcap = p->hsend && p->hrecv ? bytes : 0;
		if (!p->hcap)
			return NULL;
	}
	return sb_gpu_malloc(bytes);
}

static void mpigpu_free(struct sb_comm *c, void *ptr)
{
	(void)c;
	sb_gpu_free(ptr);
}

static int mpigpu_fill(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, unsigned seed)
{
	struct mpigpu_priv *p = c->priv;
	p->pending = 1;
	return sb_gpu_fill(buf, count, t, c->rank, seed, p->stream);
}

static int mpigpu_fill_rank(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, int rank,
                            unsigned seed)
{
	struct mpigpu_priv *p = c->priv;
	p->pending = 1;
	return sb_gpu_fill(buf, count, t, rank, seed, p->stream);
}

static int mpigpu_check_sum(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                            unsigned seed, size_t *wrong)
{
	return sb_gpu_check_sum(buf, count, t, c->size, seed,
	                        ((struct mpigpu_priv *)c->priv)->stream, wrong);
}

static int mpigpu_check_rank(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                             int rank, unsigned seed, size_t *wrong)
{
	return sb_gpu_check_rank(buf, count, t, rank, seed, ((struct mpigpu_priv *)c->priv)->stream,
	                         wrong);
}

/* A host wait for the stream (it ends a hold first: gpu.h): after it nothing queued before
 * touches a buffer. */
static int host_wait(struct mpigpu_priv *p)
{
	int rc = sb_gpu_stream_sync(p->stream);
	if (rc == 0)
		p->pending = p->inflight = 0;
	return rc;
}

/* Before MPI is handed the data: the hold ends (what MPI does runs outside the stream, so the
 * events must be running already), and MPI waits for nothing queued on the stream that uses
 * its memory: with CUDA-aware MPI the device buffers (a queued fill), when staged the staging
 * buffers (the previous step's host-to-device copy). */
static int before_mpi(struct mpigpu_priv *p)
{
	sb_gpu_hold_release(p->hold);
	if (p->aware ? p->pending : p->inflight)
		return host_wait(p);
	return 0;
}

static int staging_fits(const struct mpigpu_priv *p, size_t bytes)
{
	if (bytes <= p->hcap)
		return 1;
	sb_log_fault("staging buffers of %zu bytes for a %zu-byte message", p->hcap, bytes);
	return 0;
}

static int mpigpu_allreduce(struct sb_comm *c, const void *send, void *recv, size_t count,
                            enum sb_dtype t, enum sb_op op)
{
	struct mpigpu_priv *p = c->priv;
	size_t bytes = count * sb_dtype_size(t);
	int rc;
	if (p->aware)
		return (rc = before_mpi(p)) ? rc : sb__mpi_allreduce(c, send, recv, count, t, op);
	if (!staging_fits(p, bytes))
		return SB_ENOMEM;
	/* The copy queues behind a fill and the previous step's copy back: one wait for all. */
	void *hout = send == recv ? p->hsend : p->hrecv;
	if ((rc = sb_gpu_copy_to_host(p->hsend, send, bytes, p->stream)) || (rc = host_wait(p)) ||
	    (rc = before_mpi(p)) || (rc = sb__mpi_allreduce(c, p->hsend, hout, count, t, op)) ||
	    (rc = sb_gpu_copy_to_device(recv, hout, bytes, p->stream)))
		return rc;
	p->inflight = 1;
	return 0;
}

static void *mpigpu_stream(struct sb_comm *c)
{
	return ((struct mpigpu_priv *)c->priv)->stream;
}

static int mpigpu_put(struct sb_comm *c, void *buf, const void *src, size_t bytes)
{
	struct mpigpu_priv *p = c->priv;
	int rc = sb_gpu_copy_to_device(buf, src, bytes, p->stream);
	return rc ? rc : host_wait(p);
}

static int mpigpu_get(struct sb_comm *c, void *dst, const void *buf, size_t bytes)
{
	struct mpigpu_priv *p = c->priv;
	int rc = sb_gpu_copy_to_host(dst, buf, bytes, p->stream);
	return rc ? rc : host_wait(p);
}

static int mpigpu_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                           size_t bytes)
{
	struct mpigpu_priv *p = c->priv;
	int rc;
	if (p->aware)
		return (rc = before_mpi(p)) ? rc : sb__mpi_sendrecv(c, send, dst, recv, src, bytes);
	if (!staging_fits(p, bytes))
		return SB_ENOMEM;
	if (dst >= 0 &&
	    ((rc = sb_gpu_copy_to_host(p->hsend, send, bytes, p->stream)) || (rc = host_wait(p))))
		return rc;
	if ((rc = before_mpi(p)) || (rc = sb__mpi_sendrecv(c, p->hsend, dst, p->hrecv, src, bytes)))
		return rc;
	if (src < 0)
		return 0;
	if ((rc = sb_gpu_copy_to_device(recv, p->hrecv, bytes, p->stream)) == 0)
		p->inflight = 1;
	return rc;
}

static int mpigpu_sync(struct sb_comm *c)
{
	return host_wait(c->priv);
}

static int mpigpu_event_start(struct sb_comm *c)
{
	struct mpigpu_priv *p = c->priv;
	return sb_gpu_timer_start(p->timer, p->stream);
}

static int mpigpu_event_stop(struct sb_comm *c)
{
	struct mpigpu_priv *p = c->priv;
	return sb_gpu_timer_stop(p->timer, p->stream);
}

static int mpigpu_event_read(struct sb_comm *c, double *seconds)
{
	struct mpigpu_priv *p = c->priv;
	int rc = sb_gpu_timer_read(p->timer, seconds);
	return rc ? rc : sb_gpu_hold_status(p->hold);
}

static int mpigpu_hold(struct sb_comm *c)
{
	struct mpigpu_priv *p = c->priv;
	return sb_gpu_hold_begin(p->hold, p->stream, SB_GPU_HOLD_TIMEOUT);
}

static int mpigpu_release(struct sb_comm *c)
{
	return sb_gpu_hold_release(((struct mpigpu_priv *)c->priv)->hold);
}

/* The device's free memory, shared by this host's ranks on it. */
static int mpigpu_mem_free(struct sb_comm *c, double *bytes)
{
	struct mpigpu_priv *p = c->priv;
	size_t f = 0, t = 0;
	int rc = sb_gpu_mem_info(p->dev, &f, &t);
	if (rc == 0)
		*bytes = (double)f / p->local;
	return rc;
}

static const char *mpigpu_data_path(struct sb_comm *c)
{
	struct mpigpu_priv *p = c->priv;
	return p ? p->path : "device memory";
}

static void mpigpu_describe(struct sb_comm *c, json_t *obj)
{
	struct mpigpu_priv *p = c->priv;
	sb__mpi_describe(c, obj);
	json_object_set_new(obj, "mpi_cuda_aware", json_boolean(p->aware));
	json_object_set_new(obj, "staged", json_boolean(!p->aware));
	if (!p->aware)
		json_object_set_new(obj, "staging",
		                    json_string("pinned host buffers (cudaMallocHost); "
		                                "cudaMemcpyAsync on the backend's stream; one host "
		                                "wait per step, after the device-to-host copy"));
	json_object_set_new(obj, "sync_mode", json_string(sb_gpu_sync_mode()));
	json_object_set_new(obj, "gpu_shared_by", json_integer(p->shared));
	json_object_set_new(obj, "mps", p->mps < 0 ? json_null() : json_boolean(p->mps));
	json_object_set_new(obj, "timing",
	                    json_string("host clock around the step and a stream wait (max over "
	                                "ranks); CUDA events from the step's first device "
	                                "operation to its last, the MPI call between them (a hold "
	                                "ends where the step hands the data to MPI)"));
	json_t *gpu = sb_gpu_describe_device(p->dev);
	double bps = 0;
	/* Device-to-device copy of 256 MiB, counted as read + write (2 x bytes per copy). */
	if (sb_gpu_copy_bandwidth((size_t)256 << 20, 20, &bps) == 0)
		json_object_set_new(gpu, "copy_bandwidth", json_real(bps));
	json_object_set_new(obj, "gpu", gpu);
}

const struct sb_backend sb_backend_mpigpu = {
    .name = "mpi-gpu",
    .summary = "MPI on GPU memory (CUDA-aware, or staged through pinned host memory)",
    .caps = SB_CAP_DEVICE_MEM,
    .unavailable = sb_gpu_unavailable,
    .init = mpigpu_init,
    .fini = mpigpu_fini,
    .alloc = mpigpu_alloc,
    .free = mpigpu_free,
    .fill = mpigpu_fill,
    .check_sum = mpigpu_check_sum,
    .fill_rank = mpigpu_fill_rank,
    .check_rank = mpigpu_check_rank,
    .allreduce = mpigpu_allreduce,
    .sendrecv = mpigpu_sendrecv,
    .barrier = sb__mpi_barrier,
    .sync = mpigpu_sync,
    .event_start = mpigpu_event_start,
    .event_stop = mpigpu_event_stop,
    .event_read = mpigpu_event_read,
    .hold = mpigpu_hold,
    .release = mpigpu_release,
    .ctl_max = sb__mpi_ctl_max,
    .ctl_sum = sb__mpi_ctl_sum,
    .ctl_gatherv = sb__mpi_ctl_gatherv,
    .ctl_clock_offset = sb__mpi_ctl_clock_offset,
    .put = mpigpu_put,
    .get = mpigpu_get,
    .stream = mpigpu_stream,
    .abort = sb__mpi_abort,
    .mem_free = mpigpu_mem_free,
    .data_path = mpigpu_data_path,
    .describe = mpigpu_describe,
};
