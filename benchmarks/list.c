/* The explicit list of benchmarks (adding one costs its file and one line here), and the
 * suite the README's main job runs. */
#include "bench.h"

#include <string.h>

extern const struct sb_bench sb_bench_allreduce;
extern const struct sb_bench sb_bench_sendrecv;
extern const struct sb_bench sb_bench_pipeline;

const struct sb_bench *const sb_benches[] = {
    &sb_bench_allreduce,
    &sb_bench_sendrecv,
    &sb_bench_pipeline,
    NULL,
};

/* `scalebench suite`: the default set, one run file. The pipeline twice: the isolated
 * handoff, then a 1F1B training step over the same sizes (no compute: all communication). */
const struct sb_suite_entry sb_suite[] = {
    {&sb_bench_allreduce, {NULL}},
    {&sb_bench_pipeline, {"--mode", "handoff", NULL}},
    {&sb_bench_pipeline, {"--training", NULL}},
    {NULL, {NULL}},
};

const struct sb_bench *sb_bench_find(const char *name)
{
	for (size_t i = 0; sb_benches[i]; i++)
		if (strcmp(sb_benches[i]->name, name) == 0)
			return sb_benches[i];
	return NULL;
}
