/* The GPU pieces (gpu.h): check-pattern kernels against the host's pattern code, copies,
 * events, graphs. Skips where the build has no CUDA or the machine no GPU. */
#include "comm.h"
#include "gemm.h"
#include "gpu_info.h"
#include "pattern.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SB_HAVE_CUDA
int main(void)
{
	tap_skip_all("this build has no CUDA");
}
#else
#include "gpu.h"

static int issue_copy(void *arg)
{
	void **a = arg;
	return sb_gpu_copy_device(a[1], a[0], 4096, a[2]);
}

int main(void)
{
	char why[256];
	if (sb_gpu_count(why, sizeof why) <= 0)
		tap_skip_all("%s", why);
	tap_plan(22);
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
	double bps = 0;
	is_int(sb_gpu_copy_bandwidth(64 << 20, 20, &bps), 0, "device copy bandwidth: %.1f GB/s",
	       bps / 1e9);
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
	is_int(sb_gemm_init_device(&dg, tok, hid, s), 0, "a device GEMM of %zu x %zu", tok, hid);
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
	sb_gpu_copy_to_host(y, dg.y, an * sizeof(float), s);
	sb_gpu_copy_to_host(dw, dg.dw, wn * sizeof(float), s);
	sb_gpu_stream_sync(s);
	size_t bad = 0;
	for (size_t i = 0; i < an; i++)
		bad += fabsf(y[i] - hg.y[i]) > 1e-4f * (1 + fabsf(hg.y[i]));
	for (size_t i = 0; i < wn; i++)
		bad += fabsf(dw[i] - hg.dw[i]) > 1e-4f * (1 + fabsf(hg.dw[i]));
	is_int(bad, 0, "Y = XW and dW = X^T dY agree with OpenBLAS (%s)", sb_gemm_library(&dg));
	free(y);
	free(dw);
	sb_gemm_free(&dg);
	sb_gemm_free(&hg);
	double spent = 0;
	is_int(sb_spin(s, 2e-3, &spent), 0, "a 2 ms spin kernel");
	ok(spent >= 2e-3 && spent < 0.2, "it lasted %.3f ms", spent * 1e3);
	sb_gpu_stream_destroy(s);
	return tap_done();
}
#endif
