/* What the CUDA runtime says about this machine's GPUs, for `scalebench list` and the run
 * record. Built against the CUDA runtime when the toolkit was found; otherwise it reports
 * that the build has no CUDA. Nothing here includes a CUDA header. */
#ifndef SB_GPU_INFO_H
#define SB_GPU_INFO_H

#include <jansson.h>
#include <stddef.h>

/* Number of usable GPUs, or a negative SB_E* code with the reason in why. */
int sb_gpu_count(char *why, size_t len);
/* Why no GPU backend can run here, or NULL when a GPU is usable (the backends' unavailable
 * hook). */
const char *sb_gpu_unavailable(void);
/* CUDA runtime and driver versions and each device's name and PCI bus id (empty object without
 * CUDA or without a device). */
json_t *sb_gpu_describe(void);

#endif
