/* For the CUDA sources only (gpu_cuda.cu, benchmarks/infer_gpu.cu): a failed CUDA call returns
 * SB_ECOMM from the calling function after a message naming the call. */
#ifndef SB_GPU_CU_H
#define SB_GPU_CU_H

extern "C" {
#include "error.h"
}

#include <cuda_runtime.h>

#define CU(call)                                                                                   \
	do {                                                                                       \
		cudaError_t e_ = (call);                                                           \
		if (e_ != cudaSuccess) {                                                           \
			sb_log_fault("%s failed: %s", #call, cudaGetErrorString(e_));              \
			return SB_ECOMM;                                                           \
		}                                                                                  \
	} while (0)

#endif
