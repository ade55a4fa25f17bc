#include "gpu_info.h"

#include "error.h"

#include <stdio.h>

const char *sb_gpu_unavailable(void)
{
	static char why[256];
	return sb_gpu_count(why, sizeof why) > 0 ? NULL : why;
}

#ifdef SB_HAVE_CUDA
#include <cuda_runtime_api.h>

int sb_gpu_count(char *why, size_t len)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess) {
		snprintf(why, len, "no usable CUDA driver or device (cudaGetDeviceCount: %s)",
		         cudaGetErrorString(e));
		return SB_ENOTSUP;
	}
	if (n == 0) {
		snprintf(why, len, "no CUDA device");
		return SB_ENOTSUP;
	}
	return n;
}

json_t *sb_gpu_describe(void)
{
	json_t *o = json_object();
	int rt = 0, drv = 0, n = 0;
	cudaRuntimeGetVersion(&rt);
	cudaDriverGetVersion(&drv);
	json_object_set_new(o, "cuda_runtime", json_sprintf("%d.%d", rt / 1000, rt % 1000 / 10));
	json_object_set_new(o, "cuda_driver", json_sprintf("%d.%d", drv / 1000, drv % 1000 / 10));
	json_t *devs = json_array();
	if (cudaGetDeviceCount(&n) == cudaSuccess)
		for (int d = 0; d < n; d++) {
			struct cudaDeviceProp p;
			char bus[32] = "";
			if (cudaGetDeviceProperties(&p, d) != cudaSuccess)
				continue;
			cudaDeviceGetPCIBusId(bus, sizeof bus, d);
			json_array_append_new(devs, json_pack("{s:i,s:s,s:s}", "index", d, "name",
			                                      p.name, "pci_bus_id", bus));
		}
	json_object_set_new(o, "devices", devs);
	return o;
}
#else
int sb_gpu_count(char *why, size_t len)
{
	snprintf(why, len, "this build has no CUDA (configure with SB_CUDA=ON and the toolkit)");
	return SB_ENOTSUP;
}

json_t *sb_gpu_describe(void)
{
	return json_object();
}
#endif
