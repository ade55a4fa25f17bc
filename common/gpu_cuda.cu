/* The CUDA side of gpu.h: buffers, the check-pattern kernels, streams, events and graphs. */
/* The project's headers are C: their functions have C linkage. */
extern "C" {
#include "error.h"
#include "gpu.h"
#include "pattern.h"
}
#include "gpu_cu.h"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM(s) ((cudaStream_t)(s))

static void holds_release(cudaStream_t s, int all);

int sb_gpu_select(int local_rank, int device, int *dev, char *why, size_t len)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n == 0) {
		snprintf(why, len, "no usable CUDA device (%s)",
		         e != cudaSuccess ? cudaGetErrorString(e) : "none found");
		return SB_ENOTSUP;
	}
	int d = device >= 0 ? device : local_rank % n;
	if (d >= n) {
		snprintf(why, len, "--device %d, but this host has %d device%s", d, n,
		         n == 1 ? "" : "s");
		return SB_EINVAL;
	}
	if ((e = cudaSetDevice(d)) != cudaSuccess) {
		snprintf(why, len, "cudaSetDevice(%d): %s", d, cudaGetErrorString(e));
		return SB_ENOTSUP;
	}
	*dev = d;
	return 0;
}

int sb_gpu_bus_id(int dev, char *out, size_t len)
{
	char bus[32] = "";
	CU(cudaDeviceGetPCIBusId(bus, sizeof bus, dev));
	for (char *p = bus; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	snprintf(out, len, "%s", bus);
	return 0;
}

json_t *sb_gpu_describe_device(int dev)
{
	json_t *o = json_object();
	struct cudaDeviceProp p;
	int rt = 0, drv = 0;
	cudaRuntimeGetVersion(&rt);
	cudaDriverGetVersion(&drv);
	json_object_set_new(o, "device", json_integer(dev));
	if (cudaGetDeviceProperties(&p, dev) == cudaSuccess) {
		char uuid[64];
		const unsigned char *u = (const unsigned char *)p.uuid.bytes;
		snprintf(uuid, sizeof uuid,
		         "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		         u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		         u[12], u[13], u[14], u[15]);
		json_object_set_new(o, "name", json_string(p.name));
		json_object_set_new(o, "uuid", json_string(uuid));
		json_object_set_new(o, "compute_capability",
		                    json_sprintf("%d.%d", p.major, p.minor));
		json_object_set_new(o, "memory", json_integer((json_int_t)p.totalGlobalMem));
	}
	char bus[32];
	if (sb_gpu_bus_id(dev, bus, sizeof bus) == 0)
		json_object_set_new(o, "pci_bus_id", json_string(bus));
	json_object_set_new(o, "cuda_runtime", json_sprintf("%d.%d", rt / 1000, rt % 1000 / 10));
	json_object_set_new(o, "cuda_driver", json_sprintf("%d.%d", drv / 1000, drv % 1000 / 10));
	return o;
}

int sb_gpu_mem_info(int dev, size_t *free_bytes, size_t *total_bytes)
{
	int cur = -1;
	CU(cudaGetDevice(&cur));
	if (cur != dev)
		CU(cudaSetDevice(dev));
	size_t f = 0, t = 0;
	cudaError_t e = cudaMemGetInfo(&f, &t);
	if (cur != dev)
		cudaSetDevice(cur);
	if (e != cudaSuccess) {
		sb_log_fault("cudaMemGetInfo on device %d failed: %s", dev, cudaGetErrorString(e));
		return SB_ECOMM;
	}
	*free_bytes = f;
	*total_bytes = t;
	return 0;
}

void *sb_gpu_malloc(size_t bytes)
{
	void *p = NULL;
	holds_release(NULL, 1); /* the device synchronisation below would wait for a hold */
	if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess)
		return NULL;
	/* cudaMemset runs on the legacy stream, unordered with the backends' non-blocking
	 * streams: finish it here, outside any timed loop. */
	if (cudaMemset(p, 0, bytes) != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) {
		cudaFree(p);
		return NULL;
	}
	return p;
}

void sb_gpu_free(void *p)
{
	if (p) {
		holds_release(NULL, 1); /* cudaFree synchronises the device */
		cudaFree(p);
	}
}

void *sb_gpu_malloc_host(size_t bytes)
{
	void *p = NULL;
	if (cudaMallocHost(&p, bytes ? bytes : 1) != cudaSuccess)
		return NULL;
	memset(p, 0, bytes);
	return p;
}

void sb_gpu_free_host(void *p)
{
	if (p)
		cudaFreeHost(p);
}

int sb_gpu_stream_create(void **stream)
{
	cudaStream_t s;
	CU(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
	*stream = s;
	return 0;
}

void sb_gpu_stream_destroy(void *stream)
{
	if (stream)
		cudaStreamDestroy(STREAM(stream));
}

int sb_gpu_stream_sync(void *stream)
{
	holds_release(STREAM(stream), 0);
	CU(cudaStreamSynchronize(STREAM(stream)));
	return 0;
}

int sb_gpu_stream_query(void *stream)
{
	holds_release(STREAM(stream), 0);
	cudaError_t e = cudaStreamQuery(STREAM(stream));
	if (e == cudaSuccess)
		return 1;
	if (e == cudaErrorNotReady)
		return 0;
	sb_log_fault("cudaStreamQuery failed: %s", cudaGetErrorString(e));
	return SB_ECOMM;
}

static const struct {
	const char *name;
	unsigned flag;
} sync_modes[] = {
    {"auto", cudaDeviceScheduleAuto},
    {"spin", cudaDeviceScheduleSpin},
    {"yield", cudaDeviceScheduleYield},
    {"block", cudaDeviceScheduleBlockingSync},
};

/* On a device whose primary context is active (cudaSetDevice made it so), cudaSetDeviceFlags
 * replaces its flags: the mode holds from the next wait on. */
int sb_gpu_sync_mode_set(const char *mode)
{
	for (size_t i = 0; i < sizeof sync_modes / sizeof *sync_modes; i++)
		if (strcmp(mode, sync_modes[i].name) == 0) {
			unsigned flags = 0;
			CU(cudaGetDeviceFlags(&flags));
			flags = (flags & ~(unsigned)cudaDeviceScheduleMask) | sync_modes[i].flag;
			CU(cudaSetDeviceFlags(flags));
			return 0;
		}
	return SB_EINVAL;
}

const char *sb_gpu_sync_mode(void)
{
	unsigned flags = 0;
	if (cudaGetDeviceFlags(&flags) != cudaSuccess)
		return "unknown";
	for (size_t i = 0; i < sizeof sync_modes / sizeof *sync_modes; i++)
		if ((flags & cudaDeviceScheduleMask) == sync_modes[i].flag)
			return sync_modes[i].name;
	return "unknown";
}

int sb_gpu_mps(int dev)
{
	int v = 0;
	if (cudaDeviceGetAttribute(&v, cudaDevAttrMpsEnabled, dev) != cudaSuccess) {
		cudaGetLastError(); /* not sticky, but leave no error behind */
		return -1;
	}
	return v != 0;
}

int sb_gpu_copy_to_host(void *dst, const void *src, size_t bytes, void *stream)
{
	CU(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, STREAM(stream)));
	return 0;
}

int sb_gpu_copy_to_device(void *dst, const void *src, size_t bytes, void *stream)
{
	CU(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, STREAM(stream)));
	return 0;
}

int sb_gpu_copy_device(void *dst, const void *src, size_t bytes, void *stream)
{
	CU(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, STREAM(stream)));
	return 0;
}

/* ---- the check patterns (pattern.h) on the device ---- */

struct sums {
	long long v[7];
};

template <typename T> __global__ void fill_kernel(T *p, size_t n, unsigned k0)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		p[i] = (T)((int)((k0 + i % 7) % 7) - 2);
}

template <typename T>
__global__ void check_rank_kernel(const T *p, size_t n, unsigned k0, unsigned long long *wrong)
{
	unsigned long long w = 0;
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		w += p[i] != (T)((int)((k0 + i % 7) % 7) - 2);
	if (w)
		atomicAdd(wrong, w);
}

template <typename T>
__global__ void check_sum_kernel(const T *p, size_t n, unsigned k0, struct sums s,
                                 unsigned long long *wrong)
{
	unsigned long long w = 0;
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		w += p[i] != (T)s.v[(k0 + i % 7) % 7];
	if (w)
		atomicAdd(wrong, w);
}

static unsigned blocks(size_t n)
{
	size_t b = (n + 255) / 256;
	return (unsigned)(b < 1 ? 1 : b > 4096 ? 4096 : b);
}

int sb_gpu_fill(void *buf, size_t count, enum sb_dtype t, int rank, unsigned seed, void *stream)
{
	unsigned k0 = (unsigned)(((size_t)rank % 7 + seed % 7) % 7);
	switch (t) {
	case SB_FLOAT:
		fill_kernel<<<blocks(count), 256, 0, STREAM(stream)>>>((float *)buf, count, k0);
		break;
	case SB_DOUBLE:
		fill_kernel<<<blocks(count), 256, 0, STREAM(stream)>>>((double *)buf, count, k0);
		break;
	default:
		fill_kernel<<<blocks(count), 256, 0, STREAM(stream)>>>((int32_t *)buf, count, k0);
		break;
	}
	CU(cudaGetLastError());
	return 0;
}

/* Run a counting kernel and bring the count back. */
static int count_wrong(void *stream, size_t *wrong, int (*launch)(unsigned long long *, void *),
                       void *arg)
{
	unsigned long long *d = NULL, h = 0;
	CU(cudaMallocAsync((void **)&d, sizeof *d, STREAM(stream)));
	int rc = cudaMemsetAsync(d, 0, sizeof *d, STREAM(stream)) == cudaSuccess ? 0 : SB_ECOMM;
	if (rc == 0)
		rc = launch(d, arg);
	if (rc == 0)
		rc = cudaMemcpyAsync(&h, d, sizeof h, cudaMemcpyDeviceToHost, STREAM(stream)) ==
		             cudaSuccess
		         ? 0
		         : SB_ECOMM;
	cudaFreeAsync(d, STREAM(stream));
	CU(cudaStreamSynchronize(STREAM(stream)));
	*wrong = (size_t)h;
	return rc;
}

struct check_args {
	const void *buf;
	size_t count;
	enum sb_dtype t;
	unsigned k0;
	struct sums s;
	void *stream;
};

static int launch_rank(unsigned long long *d, void *arg)
{
	struct check_args *a = (struct check_args *)arg;
	cudaStream_t s = STREAM(a->stream);
	switch (a->t) {
	case SB_FLOAT:
		check_rank_kernel<<<blocks(a->count), 256, 0, s>>>((const float *)a->buf, a->count,
		                                                   a->k0, d);
		break;
	case SB_DOUBLE:
		check_rank_kernel<<<blocks(a->count), 256, 0, s>>>((const double *)a->buf, a->count,
		                                                   a->k0, d);
		break;
	default:
		check_rank_kernel<<<blocks(a->count), 256, 0, s>>>((const int32_t *)a->buf,
		                                                   a->count, a->k0, d);
		break;
	}
	CU(cudaGetLastError());
	return 0;
}

static int launch_sum(unsigned long long *d, void *arg)
{
	struct check_args *a = (struct check_args *)arg;
	cudaStream_t s = STREAM(a->stream);
	switch (a->t) {
	case SB_FLOAT:
		check_sum_kernel<<<blocks(a->count), 256, 0, s>>>((const float *)a->buf, a->count,
		                                                  a->k0, a->s, d);
		break;
	case SB_DOUBLE:
		check_sum_kernel<<<blocks(a->count), 256, 0, s>>>((const double *)a->buf, a->count,
		                                                  a->k0, a->s, d);
		break;
	default:
		check_sum_kernel<<<blocks(a->count), 256, 0, s>>>((const int32_t *)a->buf, a->count,
		                                                  a->k0, a->s, d);
		break;
	}
	CU(cudaGetLastError());
	return 0;
}

int sb_gpu_check_rank(const void *buf, size_t count, enum sb_dtype t, int rank, unsigned seed,
                      void *stream, size_t *wrong)
{
	struct check_args a = {buf,   count, t, (unsigned)(((size_t)rank % 7 + seed % 7) % 7),
	                       {{0}}, stream};
	return count_wrong(stream, wrong, launch_rank, &a);
}

int sb_gpu_check_sum(const void *buf, size_t count, enum sb_dtype t, int nranks, unsigned seed,
                     void *stream, size_t *wrong)
{
	struct check_args a = {buf, count, t, seed % 7, {{0}}, stream};
	sb_pattern_sums(nranks, a.s.v);
	return count_wrong(stream, wrong, launch_sum, &a);
}

/* ---- events ---- */

struct sb_gpu_timer {
	cudaEvent_t start, stop;
};

int sb_gpu_timer_create(struct sb_gpu_timer **t)
{
	struct sb_gpu_timer *p = (struct sb_gpu_timer *)calloc(1, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	if (cudaEventCreate(&p->start) != cudaSuccess || cudaEventCreate(&p->stop) != cudaSuccess) {
		sb_log_fault("cudaEventCreate failed");
		free(p);
		return SB_ECOMM;
	}
	*t = p;
	return 0;
}

void sb_gpu_timer_destroy(struct sb_gpu_timer *t)
{
	if (!t)
		return;
	cudaEventDestroy(t->start);
	cudaEventDestroy(t->stop);
	free(t);
}

int sb_gpu_timer_start(struct sb_gpu_timer *t, void *stream)
{
	CU(cudaEventRecord(t->start, STREAM(stream)));
	return 0;
}

int sb_gpu_timer_stop(struct sb_gpu_timer *t, void *stream)
{
	CU(cudaEventRecord(t->stop, STREAM(stream)));
	return 0;
}

int sb_gpu_timer_read(struct sb_gpu_timer *t, double *seconds)
{
	float ms = 0;
	CU(cudaEventElapsedTime(&ms, t->start, t->stop));
	*seconds = 1e-3 * ms;
	return 0;
}

/* ---- the stream hold (gpu.h) ---- */

/* Host memory the device reads and writes through the mapping: the host writes `release`, the
 * kernel `gave_up`. Both are sequence numbers (see gpu.h). */
struct hold_flags {
	unsigned long long release; /* the last hold the host let go */
	unsigned long long gave_up; /* the last hold whose kernel stopped waiting by itself */
};

struct sb_gpu_hold {
	struct hold_flags *host; /* cudaHostAllocMapped */
	struct hold_flags *dev; /* the same memory, as the device addresses it */
	unsigned long long seq; /* of the last hold enqueued */
	int pending; /* enqueued and not released */
	int told; /* a hold that gave up was reported */
	cudaStream_t stream; /* of the last hold */
	struct sb_gpu_hold *next; /* every hold of the process, for the host waits */
};

static struct sb_gpu_hold *holds; /* host waits happen on the main thread only */

/* One thread reads the flag with volatile loads, each a read of host memory across the bus
 * (about a microsecond: the hold ends that soon after the release), and the global timer in
 * nanoseconds, so it gives up on its own. */
__global__ void hold_kernel(const volatile unsigned long long *release,
                            volatile unsigned long long *gave_up, unsigned long long seq,
                            unsigned long long timeout_ns)
{
	unsigned long long t0, t;
	asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
	while (*release < seq) {
		asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
		if (t - t0 > timeout_ns) {
			*gave_up = seq;
			__threadfence_system();
			return;
		}
	}
}

int sb_gpu_hold_create(struct sb_gpu_hold **h)
{
	struct sb_gpu_hold *p = (struct sb_gpu_hold *)calloc(1, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	cudaError_t e = cudaHostAlloc((void **)&p->host, sizeof *p->host, cudaHostAllocMapped);
	if (e == cudaSuccess) {
		memset(p->host, 0, sizeof *p->host);
		e = cudaHostGetDevicePointer((void **)&p->dev, p->host, 0);
		if (e != cudaSuccess)
			cudaFreeHost(p->host);
	}
	if (e != cudaSuccess) {
		sb_log_fault("mapped host memory for a stream hold: %s", cudaGetErrorString(e));
		free(p);
		return SB_ECOMM;
	}
	p->next = holds;
	holds = p;
	*h = p;
	return 0;
}

void sb_gpu_hold_destroy(struct sb_gpu_hold *h)
{
	if (!h)
		return;
	sb_gpu_hold_release(h);
	/* The kernel reads the flags until it has seen the release: it must be gone before they
	 * are freed. */
	if (h->seq)
		cudaStreamSynchronize(h->stream);
	for (struct sb_gpu_hold **p = &holds; *p; p = &(*p)->next)
		if (*p == h) {
			*p = h->next;
			break;
		}
	cudaFreeHost(h->host);
	free(h);
}

int sb_gpu_hold_begin(struct sb_gpu_hold *h, void *stream, double timeout)
{
	sb_gpu_hold_release(h);
	unsigned long long seq = h->seq + 1;
	hold_kernel<<<1, 1, 0, STREAM(stream)>>>(&h->dev->release, &h->dev->gave_up, seq,
	                                         (unsigned long long)(timeout * 1e9));
	CU(cudaGetLastError());
	h->seq = seq;
	h->stream = STREAM(stream);
	h->pending = 1;
	return 0;
}

int sb_gpu_hold_release(struct sb_gpu_hold *h)
{
	if (!h || !h->pending)
		return 0;
	/* A sequentially consistent store: it leaves the CPU's store buffer now, and the kernel's
	 * next read across the bus sees it. */
	__atomic_store_n(&h->host->release, h->seq, __ATOMIC_SEQ_CST);
	h->pending = 0;
	return 0;
}

int sb_gpu_hold_status(struct sb_gpu_hold *h)
{
	if (!h || !h->seq || __atomic_load_n(&h->host->gave_up, __ATOMIC_ACQUIRE) != h->seq)
		return 0;
	if (!h->told++) /* once: a caller that marks such samples and goes on is not flooded */
		sb_log_fault(
		    "a stream hold gave up after its timeout before it was released: the "
		    "host took that long to enqueue the work behind it (too many operations "
		    "for the launch queue?); that sample's events include launches");
	return SB_ETIMEOUT;
}

/* Before a host wait: release the holds on stream s, or all of them. */
static void holds_release(cudaStream_t s, int all)
{
	for (struct sb_gpu_hold *h = holds; h; h = h->next)
		if (h->pending && (all || h->stream == s))
			sb_gpu_hold_release(h);
}

/* ---- graphs ---- */

struct sb_gpu_graph {
	cudaGraph_t graph;
	cudaGraphExec_t exec;
};

int sb_gpu_graph_capture(void *stream, int (*issue)(void *arg), void *arg, struct sb_gpu_graph **g)
{
	struct sb_gpu_graph *p = (struct sb_gpu_graph *)calloc(1, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	CU(cudaStreamBeginCapture(STREAM(stream), cudaStreamCaptureModeThreadLocal));
	int rc = issue(arg);
	cudaError_t e = cudaStreamEndCapture(STREAM(stream), &p->graph);
	if (rc || e != cudaSuccess) {
		if (e != cudaSuccess)
			sb_log_fault("cudaStreamEndCapture failed: %s", cudaGetErrorString(e));
		else
			cudaGraphDestroy(p->graph);
		free(p);
		return rc ? rc : SB_ECOMM;
	}
	if ((e = cudaGraphInstantiate(&p->exec, p->graph, 0)) != cudaSuccess) {
		sb_log_fault("cudaGraphInstantiate failed: %s", cudaGetErrorString(e));
		cudaGraphDestroy(p->graph);
		free(p);
		return SB_ECOMM;
	}
	*g = p;
	return 0;
}

int sb_gpu_graph_launch(struct sb_gpu_graph *g, void *stream)
{
	CU(cudaGraphLaunch(g->exec, STREAM(stream)));
	return 0;
}

void sb_gpu_graph_destroy(struct sb_gpu_graph *g)
{
	if (!g)
		return;
	cudaGraphExecDestroy(g->exec);
	cudaGraphDestroy(g->graph);
	free(g);
}

int sb_gpu_copy_bandwidth(size_t bytes, int iters, double *bps)
{
	void *a = sb_gpu_malloc(bytes), *b = sb_gpu_malloc(bytes), *s = NULL;
	struct sb_gpu_timer *t = NULL;
	int rc = SB_ENOMEM;
	if (a && b && (rc = sb_gpu_stream_create(&s)) == 0 && (rc = sb_gpu_timer_create(&t)) == 0) {
		for (int i = 0; i < 3 && rc == 0; i++) /* warm-up */
			rc = sb_gpu_copy_device(b, a, bytes, s);
		double sec = 0;
		if (rc == 0 && (rc = sb_gpu_timer_start(t, s)) == 0) {
			for (int i = 0; i < iters && rc == 0; i++)
				rc = sb_gpu_copy_device(b, a, bytes, s);
			if (rc == 0 && (rc = sb_gpu_timer_stop(t, s)) == 0 &&
			    (rc = sb_gpu_stream_sync(s)) == 0 &&
			    (rc = sb_gpu_timer_read(t, &sec)) == 0)
				/* A copy reads and writes every byte: 2 x bytes cross the memory
				 * bus. */
				*bps = sec > 0 ? 2.0 * (double)bytes * iters / sec : 0;
		}
	}
	sb_gpu_timer_destroy(t);
	sb_gpu_stream_destroy(s);
	sb_gpu_free(a);
	sb_gpu_free(b);
	return rc;
}

/* The pipeline's compute. */

__global__ void spin_kernel(unsigned long long ns)
{
	unsigned long long t0, t;
	asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
	do
		asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
	while (t - t0 < ns);
}

int sb_gpu_spin(double sec, void *stream)
{
	if (sec <= 0)
		return 0;
	spin_kernel<<<1, 1, 0, STREAM(stream)>>>((unsigned long long)(sec * 1e9));
	CU(cudaGetLastError());
	return 0;
}

template <typename T> __global__ void fill_ramp_kernel(T *b, size_t n, float scale)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		b[i] = (T)(scale * (float)((int)(i % 7) - 3));
}

int sb_gpu_fill_ramp(void *buf, size_t count, enum sb_gemm_dtype t, float scale, void *stream)
{
	if (t == SB_GEMM_BF16)
		fill_ramp_kernel<<<blocks(count), 256, 0, STREAM(stream)>>>((__nv_bfloat16 *)buf,
		                                                            count, scale);
	else
		fill_ramp_kernel<<<blocks(count), 256, 0, STREAM(stream)>>>((float *)buf, count,
		                                                            scale);
	CU(cudaGetLastError());
	return 0;
}

#define BLAS(call)                                                                                 \
	do {                                                                                       \
		cublasStatus_t st_ = (call);                                                       \
		if (st_ != CUBLAS_STATUS_SUCCESS) {                                                \
			sb_log_fault("%s failed: %s", #call, cublasGetStatusString(st_));          \
			return SB_ECOMM;                                                           \
		}                                                                                  \
	} while (0)

int sb_gpu_blas_create(void *stream, void **handle)
{
	cublasHandle_t h;
	BLAS(cublasCreate(&h));
	cublasStatus_t st = cublasSetStream(h, STREAM(stream));
	if (st != CUBLAS_STATUS_SUCCESS) {
		cublasDestroy(h);
		sb_log_fault("cublasSetStream failed: %s", cublasGetStatusString(st));
		return SB_ECOMM;
	}
	*handle = h;
	return 0;
}

void sb_gpu_blas_destroy(void *handle)
{
	if (handle)
		cublasDestroy((cublasHandle_t)handle);
}

/* Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the same call with the
 * operands swapped and m, n exchanged. */
int sb_gpu_gemm(void *handle, enum sb_gemm_dtype t, int trans_a, int trans_b, int m, int n, int k,
                const void *a, int lda, const void *b, int ldb, void *c, int ldc)
{
	const float one = 1.0f, zero = 0.0f;
	cublasHandle_t h = (cublasHandle_t)handle;
	cublasOperation_t oa = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
	cublasOperation_t ob = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
	if (t == SB_GEMM_BF16)
		/* bf16 operands and result, float32 accumulation and scalars: what mixed-precision
		 * training runs, on the tensor cores. */
		BLAS(cublasGemmEx(h, ob, oa, n, m, k, &one, b, CUDA_R_16BF, ldb, a, CUDA_R_16BF,
		                  lda, &zero, c, CUDA_R_16BF, ldc, CUBLAS_COMPUTE_32F,
		                  CUBLAS_GEMM_DEFAULT));
	else
		BLAS(cublasSgemm(h, ob, oa, n, m, k, &one, (const float *)b, ldb, (const float *)a,
		                 lda, &zero, (float *)c, ldc));
	return 0;
}

int sb_gpu_gemm_peak(enum sb_gemm_dtype t, int n, int reps, void *stream, double *flops, int *used)
{
	size_t es = sb_gemm_dtype_size(t);
	void *m[3] = {NULL, NULL, NULL}, *blas = NULL;
	struct sb_gpu_timer *tm = NULL;
	int rc = 0;
	for (;; n /= 2) {
		size_t bytes = (size_t)n * (size_t)n * es;
		for (int i = 0; i < 3; i++)
			m[i] = sb_gpu_malloc(bytes);
		if (m[0] && m[1] && m[2])
			break;
		for (int i = 0; i < 3; i++) {
			sb_gpu_free(m[i]);
			m[i] = NULL;
		}
		if (n / 2 < 1024) {
			sb_log_fault("no device memory for a GEMM of %d x %d (%s)", n, n,
			             sb_gemm_dtype_name(t));
			return SB_ENOMEM;
		}
	}
	size_t count = (size_t)n * (size_t)n;
	if ((rc = sb_gpu_fill_ramp(m[0], count, t, 1.0f / 64, stream)) == 0 &&
	    (rc = sb_gpu_fill_ramp(m[1], count, t, 1.0f / 64, stream)) == 0 &&
	    (rc = sb_gpu_blas_create(stream, &blas)) == 0 && (rc = sb_gpu_timer_create(&tm)) == 0)
		/* The warm-up: cuBLAS picks its kernel and loads it on the first call. */
		rc = sb_gpu_gemm(blas, t, 0, 0, n, n, n, m[0], n, m[1], n, m[2], n);
	if (rc == 0)
		rc = sb_gpu_stream_sync(stream);
	double best = 0;
	for (int r = 0; r < reps && rc == 0; r++) {
		double sec = 0;
		if ((rc = sb_gpu_timer_start(tm, stream)) == 0 &&
		    (rc = sb_gpu_gemm(blas, t, 0, 0, n, n, n, m[0], n, m[1], n, m[2], n)) == 0 &&
		    (rc = sb_gpu_timer_stop(tm, stream)) == 0 &&
		    (rc = sb_gpu_stream_sync(stream)) == 0 &&
		    (rc = sb_gpu_timer_read(tm, &sec)) == 0 && sec > 0 && (best == 0 || sec < best))
			best = sec;
	}
	if (rc == 0) {
		*flops = best > 0 ? 2.0 * (double)n * (double)n * (double)n / best : 0;
		*used = n;
	}
	sb_gpu_timer_destroy(tm);
	sb_gpu_blas_destroy(blas);
	for (int i = 0; i < 3; i++)
		sb_gpu_free(m[i]);
	return rc;
}

const char *sb_gpu_blas_version(void)
{
	static char v[32];
	int ma = 0, mi = 0, pa = 0;
	if (!v[0]) {
		if (cublasGetProperty(MAJOR_VERSION, &ma) == CUBLAS_STATUS_SUCCESS &&
		    cublasGetProperty(MINOR_VERSION, &mi) == CUBLAS_STATUS_SUCCESS &&
		    cublasGetProperty(PATCH_LEVEL, &pa) == CUBLAS_STATUS_SUCCESS)
			snprintf(v, sizeof v, "cuBLAS %d.%d.%d", ma, mi, pa);
		else
			snprintf(v, sizeof v, "cuBLAS (version unknown)");
	}
	return v;
}
