/* The `mpi-gpu` backend: MPI on device buffers. Where the MPI library is CUDA-aware
 * (MPIX_Query_cuda_support, at run time) device pointers go straight to MPI; otherwise every
 * message is staged through pinned host buffers (device to host, MPI, host to device) and every
 * record says so. One GPU per rank by local rank, or --device; several ranks may share one. */
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

struct mpigpu_priv {
	struct sb__mpi mpi; /* first: comm_mpi.h */
	void *stream;
	int dev;
	int aware;
	void *hsend, *hrecv; /* pinned staging buffers */
	size_t hcap;
	int pending; /* work queued on the stream (fills) that MPI must wait for */
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
	int rc = sb__mpi_join(c, &p->mpi);
	if (rc)
		return rc;
	int lr, ls;
	sb_world_local(&lr, &ls);
	char why[256] = "";
	rc = sb_gpu_select(lr, c->device, &p->dev, why, sizeof why);
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
	rc = sb_gpu_stream_create(&p->stream);
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

static int mpigpu_allreduce(struct sb_comm *c, const void *send, void *recv, size_t count,
                            enum sb_dtype t, enum sb_op op)
{
	struct mpigpu_priv *p = c->priv;
	size_t bytes = count * sb_dtype_size(t);
	int rc;
	/* Work queued on the stream (a fill) must be done before MPI reads the buffer; after
	 * the driver's own sync there is none, and no wait lands in the timed step. */
	if (p->pending && (rc = sb_gpu_stream_sync(p->stream)))
		return rc;
	p->pending = 0;
	if (p->aware)
		return sb__mpi_allreduce(c, send, recv, count, t, op);
	if (bytes > p->hcap) {
		sb_log_fault("staging buffers of %zu bytes for a %zu-byte message", p->hcap, bytes);
		return SB_ENOMEM;
	}
	if ((rc = sb_gpu_copy_to_host(p->hsend, send, bytes, p->stream)) ||
	    (rc = sb_gpu_stream_sync(p->stream)) ||
	    (rc = sb__mpi_allreduce(c, p->hsend, send == recv ? p->hsend : p->hrecv, count, t, op)))
		return rc;
	return sb_gpu_copy_to_device(recv, send == recv ? p->hsend : p->hrecv, bytes, p->stream);
}

static void *mpigpu_stream(struct sb_comm *c)
{
	return ((struct mpigpu_priv *)c->priv)->stream;
}

static int mpigpu_put(struct sb_comm *c, void *buf, const void *src, size_t bytes)
{
	struct mpigpu_priv *p = c->priv;
	int rc = sb_gpu_copy_to_device(buf, src, bytes, p->stream);
	if (rc == 0 && (rc = sb_gpu_stream_sync(p->stream)) == 0)
		p->pending = 0;
	return rc;
}

static int mpigpu_get(struct sb_comm *c, void *dst, const void *buf, size_t bytes)
{
	struct mpigpu_priv *p = c->priv;
	int rc = sb_gpu_copy_to_host(dst, buf, bytes, p->stream);
	if (rc == 0 && (rc = sb_gpu_stream_sync(p->stream)) == 0)
		p->pending = 0;
	return rc;
}

static int mpigpu_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                           size_t bytes)
{
	struct mpigpu_priv *p = c->priv;
	int rc;
	if (p->pending && (rc = sb_gpu_stream_sync(p->stream)))
		return rc;
	p->pending = 0;
	if (p->aware)
		return sb__mpi_sendrecv(c, send, dst, recv, src, bytes);
	if (bytes > p->hcap) {
		sb_log_fault("staging buffers of %zu bytes for a %zu-byte message", p->hcap, bytes);
		return SB_ENOMEM;
	}
	if (dst >= 0 && ((rc = sb_gpu_copy_to_host(p->hsend, send, bytes, p->stream)) ||
	                 (rc = sb_gpu_stream_sync(p->stream))))
		return rc;
	if ((rc = sb__mpi_sendrecv(c, p->hsend, dst, p->hrecv, src, bytes)))
		return rc;
	return src >= 0 ? sb_gpu_copy_to_device(recv, p->hrecv, bytes, p->stream) : 0;
}

static int mpigpu_sync(struct sb_comm *c)
{
	struct mpigpu_priv *p = c->priv;
	p->pending = 0;
	return sb_gpu_stream_sync(p->stream);
}

static const char *mpigpu_data_path(struct sb_comm *c)
{
	struct mpigpu_priv *p = c->priv;
	return p && p->aware
	           ? "device memory, CUDA-aware MPI"
	           : "device memory staged through pinned host buffers (MPI not CUDA-aware)";
}

static void mpigpu_describe(struct sb_comm *c, json_t *obj)
{
	struct mpigpu_priv *p = c->priv;
	sb__mpi_describe(c, obj);
	json_object_set_new(obj, "mpi_cuda_aware", json_boolean(p->aware));
	json_object_set_new(obj, "staged", json_boolean(!p->aware));
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
    .ctl_max = sb__mpi_ctl_max,
    .ctl_sum = sb__mpi_ctl_sum,
    .ctl_gatherv = sb__mpi_ctl_gatherv,
    .ctl_clock_offset = sb__mpi_ctl_clock_offset,
    .put = mpigpu_put,
    .get = mpigpu_get,
    .stream = mpigpu_stream,
    .abort = sb__mpi_abort,
    .data_path = mpigpu_data_path,
    .describe = mpigpu_describe,
};
