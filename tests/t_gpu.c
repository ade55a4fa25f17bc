/* The GPU pieces (gpu.h): check-pattern kernels against the host's pattern code, copies,
 * events, graphs, the pipeline's GEMMs (fp32 and bf16) and spin kernel, cuBLAS's peak, the
 * stream hold and the device's memory. Skips where the build has no CUDA or the machine no
 * GPU. */
#include "comm.h"
#include "gemm.h"
#include "gpu_info.h"
#include "pattern.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SB_HAVE_CUDA
int main(void)
{
	tap_skip_all("this build has no CUDA");
}
#else
#include "error.h"
#include "gpu.h"

static int issue_copy(void *arg)
{
	void **a = arg;
	return sb_gpu_copy_device(a[1], a[0], 4096, a[2]);
}

static float bf16_to_float(uint16_t b)
{
	uint32_t u = (uint32_t)b << 16;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* |got - want| within bf16's rounding of want: 8 significant bits, so half a unit in the last
 * place is 2^-9 of it; 2^-8 leaves room for a rounding mode other than to nearest. */
static size_t bf16_off(const uint16_t *got, const float *want, size_t n)
{
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += fabsf(bf16_to_float(got[i]) - want[i]) > fabsf(want[i]) / 256 + 1e-7f;
	return bad;
}

/* bf16 GEMMs on the tensor cores against OpenBLAS's fp32 on the same values: both sides fill
 * scale x ((i mod 7) - 3) with scale 1/64, exact in bf16; the products and their sums are
 * exact in the float32 accumulator, so the only difference is the rounding of the result to
 * bf16. */
static void gemm_bf16(void *s, size_t tok, size_t hid)
{
	struct sb_gemm hg, dg;
	const size_t an = tok * hid, wn = hid * hid;
	int rd = sb_gemm_init_device(&dg, tok, hid, SB_GEMM_BF16, s);
	is_int(rd, 0, "a bf16 device GEMM of %zu x %zu", tok, hid);
	int rh = sb_gemm_init(&hg, tok, hid);
	is_int(rh, 0, "its fp32 reference on the host");
	if (rd || rh) {
		tap_skip(3, "no GEMM to compare");
		if (rd == 0)
			sb_gemm_free(&dg);
		if (rh == 0)
			sb_gemm_free(&hg);
		return;
	}
	int rf = sb_gemm_forward(&dg), rb = sb_gemm_backward(&dg);
	is_int(rf == 0 && rb == 0, 1, "bf16 forward and backward on the GPU");
	sb_gemm_forward(&hg);
	sb_gemm_backward(&hg);
	uint16_t *y = calloc(an, 2), *dx = calloc(an, 2), *dw = calloc(wn, 2);
	if (rf == 0 && rb == 0 && y && dx && dw) {
		sb_gpu_copy_to_host(y, dg.y, an * 2, s);
		sb_gpu_copy_to_host(dx, dg.dx, an * 2, s);
		sb_gpu_copy_to_host(dw, dg.dw, wn * 2, s);
		sb_gpu_stream_sync(s);
	}
	size_t bad = bf16_off(y, hg.y, an) + bf16_off(dx, hg.dx, an) + bf16_off(dw, hg.dw, wn);
	is_int(bad, 0, "bf16 Y, dX and dW agree with OpenBLAS's fp32 within bf16 rounding (2^-8)");
	/* Not all zero: a GEMM that did nothing would pass the comparison nowhere but here. */
	float y0 = 0;
	for (size_t i = 0; i < an; i++)
		y0 = fabsf(((const float *)hg.y)[i]) > y0 ? fabsf(((const float *)hg.y)[i]) : y0;
	ok(y0 > 0.01f, "the reference is not trivially zero (max |Y| %.4f)", y0);
	free(y);
	free(dx);
	free(dw);
	sb_gemm_free(&dg);
	sb_gemm_free(&hg);
}

/* cuBLAS's rate, the pipeline's reference. The floors are far below what sm_80 and later
 * reach (A100: ~280 TFLOP/s bf16, ~19 fp32; H100/H200: ~600-750 and ~50): a result under them
 * is a wrong measurement (a GEMM counted that did not run, a unit off), not a slow GPU. bf16's
 * tensor cores are several times float32's rate on every such GPU. */
static void gemm_peak(void *s)
{
	double bf = 0, fp = 0;
	int nb = 0, nf = 0;
	int rb = sb_gemm_peak(s, SB_GEMM_BF16, 8192, 5, &bf, &nb);
	int rf = sb_gemm_peak(s, SB_GEMM_FP32, 4096, 3, &fp, &nf);
	is_int(rb, 0, "cuBLAS bf16 peak measured (n %d): %.1f TFLOP/s", nb, bf / 1e12);
	ok(bf > 50e12 && nb >= 1024, "bf16 peak above 50 TFLOP/s");
	is_int(rf, 0, "cuBLAS fp32 peak measured (n %d): %.1f TFLOP/s", nf, fp / 1e12);
	ok(fp > 5e12 && bf > 4 * fp, "fp32 peak above 5 TFLOP/s, bf16's over 4 times it (%.1fx)",
	   fp > 0 ? bf / fp : 0);
}

static void sleep_s(double sec)
{
	struct timespec ts = {(time_t)sec, (long)((sec - (double)(time_t)sec) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* The stream hold: what is enqueued behind it starts at the release, so events around a spin
 * kernel time the kernel, not the host's pause before launching it; a hold never released
 * gives up by itself after its timeout and says so; the next hold is fine again. */
static void holds(void *s)
{
	struct sb_gpu_hold *h = NULL;
	struct sb_gpu_timer *t = NULL;
	if (!ok(sb_gpu_hold_create(&h) == 0 && sb_gpu_timer_create(&t) == 0,
	        "a hold and a timer")) {
		tap_skip(7, "no hold");
		return;
	}
	/* Held: start event, 20 ms of host sleep, a 1 ms spin, stop event, release. Without the
	 * hold the start event would fire at once and the events measure about 21 ms. */
	double d = 0;
	int rc = sb_gpu_hold_begin(h, s, SB_GPU_HOLD_TIMEOUT);
	if (rc == 0 && (rc = sb_gpu_timer_start(t, s)) == 0) {
		sleep_s(0.02);
		if ((rc = sb_gpu_spin(1e-3, s)) == 0 && (rc = sb_gpu_timer_stop(t, s)) == 0 &&
		    (rc = sb_gpu_hold_release(h)) == 0 && (rc = sb_gpu_stream_sync(s)) == 0)
			rc = sb_gpu_timer_read(t, &d);
	}
	is_int(rc, 0, "hold, start event, host pause, 1 ms spin, stop event, release");
	ok(d >= 0.99e-3 && d < 1.5e-3, "the events time the spin alone: %.3f ms", d * 1e3);
	is_int(sb_gpu_hold_status(h), 0, "the hold was released in time");

	/* Never released: an event before the hold and one after it measure the hold itself,
	 * which must end after its 50 ms timeout (by the GPU's clock), long before the host's
	 * 300 ms wait. */
	rc = sb_gpu_timer_start(t, s);
	if (rc == 0 && (rc = sb_gpu_hold_begin(h, s, 0.05)) == 0 &&
	    (rc = sb_gpu_timer_stop(t, s)) == 0) {
		sleep_s(0.3);
		if ((rc = sb_gpu_stream_sync(s)) == 0)
			rc = sb_gpu_timer_read(t, &d);
	}
	is_int(rc, 0, "a hold of 50 ms timeout, never released");
	ok(d >= 0.049 && d < 0.25, "it gave up by itself after %.1f ms", d * 1e3);
	tap_diag("a message about a stream hold that gave up is expected here");
	is_int(sb_gpu_hold_status(h), SB_ETIMEOUT, "hold status: SB_ETIMEOUT");

	/* The next hold is numbered past the one that gave up: released in time, status 0. */
	rc = sb_gpu_hold_begin(h, s, SB_GPU_HOLD_TIMEOUT);
	if (rc == 0 && (rc = sb_gpu_spin(1e-4, s)) == 0 && (rc = sb_gpu_hold_release(h)) == 0)
		rc = sb_gpu_stream_sync(s);
	is_int(rc == 0 ? sb_gpu_hold_status(h) : rc, 0, "a later hold, released: status 0 again");
	sb_gpu_timer_destroy(t);
	sb_gpu_hold_destroy(h);
}

static void mem_info(int dev)
{
	size_t fr = 0, tot = 0;
	is_int(sb_gpu_mem_info(dev, &fr, &tot), 0, "device memory: %.1f GiB free of %.1f",
	       (double)fr / (1 << 30), (double)tot / (1 << 30));
	ok(tot >= (size_t)1 << 30 && fr > 0 && fr <= tot,
	   "free in (0, total], total at least 1 GiB");
	/* Taking 256 MiB shows in the free figure (other processes may move it a little). */
	size_t fr2 = 0, tot2 = 0;
	void *p = sb_gpu_malloc((size_t)256 << 20);
	int rc = sb_gpu_mem_info(dev, &fr2, &tot2);
	ok(p && rc == 0 && tot2 == tot && fr2 + ((size_t)200 << 20) <= fr,
	   "256 MiB allocated: free down by %.0f MiB", ((double)fr - (double)fr2) / (1 << 20));
	sb_gpu_free(p);
}

int main(void)
{
	char why[256];
	if (sb_gpu_count(why, sizeof why) <= 0)
		tap_skip_all("%s", why);
	tap_plan(43);
	int dev = -1;
	is_int(sb_gpu_select(0, -1, &dev, why, sizeof why), 0, "a device is selected");
	char bus[32] = "";
	is_int(sb_gpu_bus_id(dev, bus, sizeof bus), 0, "its PCI bus id: %s", bus);
	json_t *d = sb_gpu_describe_device(dev);
	ok(json_string_value(json_object_get(d, "name")) != NULL, "its name: %s",
	   json_string_value(json_object_get(d, "name")));
	json_decref(d);

	void *s = NULL;
	is_int(sb_gpu_stream_create(&s), 0, "a stream");
	const size_t n = 1000003; /* not a multiple of 7 or of a block */
	static const enum sb_dtype types[] = {SB_FLOAT, SB_DOUBLE, SB_INT32};
	for (size_t k = 0; k < 3; k++) {
		enum sb_dtype t = types[k];
		size_t bytes = n * sb_dtype_size(t), wrong = 1;
		void *dbuf = sb_gpu_malloc(bytes);
		char *host = malloc(bytes), *want = malloc(bytes);
		sb_gpu_fill(dbuf, n, t, 5, 3, s);
		sb_gpu_copy_to_host(host, dbuf, bytes, s);
		sb_gpu_stream_sync(s);
		sb_pattern_fill(want, n, t, 5, 3);
		ok(memcmp(host, want, bytes) == 0, "%s: the device fill equals the host pattern",
		   sb_dtype_name(t));
		sb_gpu_check_rank(dbuf, n, t, 5, 3, s, &wrong);
		is_int(wrong, 0, "%s: check_rank passes it", sb_dtype_name(t));
		/* One element changed: the sum check of 3 ranks must count exactly one. */
		long long sums[7];
		sb_pattern_sums(3, sums);
		for (size_t i = 0; i < n; i++) {
			double v = (double)sums[(i + 2) % 7] + (i == n / 2);
			if (t == SB_FLOAT)
				((float *)host)[i] = (float)v;
			else if (t == SB_DOUBLE)
				((double *)host)[i] = v;
			else
				((int *)host)[i] = (int)v;
		}
		sb_gpu_copy_to_device(dbuf, host, bytes, s);
		sb_gpu_check_sum(dbuf, n, t, 3, 2, s, &wrong);
		is_int(wrong, 1, "%s: check_sum counts the one wrong element", sb_dtype_name(t));
		free(host);
		free(want);
		sb_gpu_free(dbuf);
	}
	/* Called before the check that prints its result: the arguments of one call are
	 * evaluated in no set order, so bps in the same call may be read before it is written. */
	double bps = 0;
	int rc = sb_gpu_copy_bandwidth(64 << 20, 20, &bps);
	is_int(rc, 0, "device copy bandwidth measured");
	/* Read + write counted: an H100 or H200 gives 3-4 TB/s, any GPU of sm_80 or later over
	 * 1 TB/s; 50 GB/s is PCIe's order, what a copy through the host would give. */
	ok(bps > 50e9, "device copy bandwidth %.1f GB/s, above 50", bps / 1e9);
	/* A graph replaying a copy. */
	void *a = sb_gpu_malloc(4096), *b = sb_gpu_malloc(4096);
	void *args[3] = {a, b, s};
	struct sb_gpu_graph *g = NULL;
	sb_gpu_fill(a, 1024, SB_FLOAT, 1, 0, s);
	is_int(sb_gpu_graph_capture(s, issue_copy, args, &g), 0, "a copy captured in a graph");
	size_t wrong = 1;
	if (g && sb_gpu_graph_launch(g, s) == 0)
		sb_gpu_check_rank(b, 1024, SB_FLOAT, 1, 0, s, &wrong);
	is_int(wrong, 0, "replaying it copies");
	sb_gpu_graph_destroy(g);
	sb_gpu_free(a);
	sb_gpu_free(b);

	/* The pipeline's GPU compute: cuBLAS GEMMs equal OpenBLAS's on the same inputs (small
	 * exact values: products of multiples of 1/64 sum exactly in float), and the spin kernel
	 * lasts what it was asked. */
	struct sb_gemm hg, dg;
	const size_t tok = 48, hid = 96, an = tok * hid, wn = hid * hid;
	is_int(sb_gemm_init_device(&dg, tok, hid, SB_GEMM_FP32, s), 0, "a device GEMM of %zu x %zu",
	       tok, hid);
	sb_gemm_init(&hg, tok, hid);
	/* The same inputs on both sides: the host's, copied over. */
	sb_gpu_copy_to_device(dg.x, hg.x, an * sizeof(float), s);
	sb_gpu_copy_to_device(dg.w, hg.w, wn * sizeof(float), s);
	sb_gpu_copy_to_device(dg.dy, hg.dy, an * sizeof(float), s);
	is_int(sb_gemm_forward(&dg), 0, "forward on the GPU");
	sb_gemm_forward(&hg);
	is_int(sb_gemm_backward(&dg), 0, "backward on the GPU");
	sb_gemm_backward(&hg);
	float *y = malloc(an * sizeof *y), *dw = malloc(wn * sizeof *dw);
	const float *hy = hg.y, *hdw = hg.dw;
	sb_gpu_copy_to_host(y, dg.y, an * sizeof(float), s);
	sb_gpu_copy_to_host(dw, dg.dw, wn * sizeof(float), s);
	sb_gpu_stream_sync(s);
	size_t bad = 0;
	for (size_t i = 0; i < an; i++)
		bad += fabsf(y[i] - hy[i]) > 1e-4f * (1 + fabsf(hy[i]));
	for (size_t i = 0; i < wn; i++)
		bad += fabsf(dw[i] - hdw[i]) > 1e-4f * (1 + fabsf(hdw[i]));
	is_int(bad, 0, "Y = XW and dW = X^T dY agree with OpenBLAS (%s)", sb_gemm_library(&dg));
	free(y);
	free(dw);
	sb_gemm_free(&dg);
	sb_gemm_free(&hg);
	gemm_bf16(s, tok, hid);
	gemm_peak(s);
	double spent = 0;
	is_int(sb_spin(s, 2e-3, &spent), 0, "a 2 ms spin kernel");
	ok(spent >= 2e-3 && spent < 0.2, "it lasted %.3f ms", spent * 1e3);
	holds(s);
	mem_info(dev);
	sb_gpu_stream_destroy(s);
	return tap_done();
}
#endif
