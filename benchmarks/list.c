/* The explicit list of benchmarks (adding one costs its file and one line here), and the
 * suite the README's main job runs. */
#include "bench.h"

#include <string.h>

extern const struct sb_bench sb_bench_allreduce;
extern const struct sb_bench sb_bench_sendrecv;
extern const struct sb_bench sb_bench_pipeline;
extern const struct sb_bench sb_bench_groups;
extern const struct sb_bench sb_bench_infer;

const struct sb_bench *const sb_benches[] = {
    &sb_bench_allreduce, &sb_bench_sendrecv, &sb_bench_pipeline,
    &sb_bench_infer,     &sb_bench_groups,   NULL,
};

/* `scalebench suite`: the default set, one run file; options given to suite come after each
 * entry's own, so they override them. The all-reduce in 3 interleaved rounds (each with a third
 * of a point's budget: about the time of one sweep, with the between-round spread recorded).
 * The pipeline twice: the isolated handoff, then a 1F1B training step over the same sizes with
 * 250 us of forward compute per micro-batch (backward twice that), so that its bubble is the
 * schedule's where the handoff is cheap and shows the communication where it is not; at most
 * 1 s per point, as its largest points take a tenth of a second a step. The inference server
 * at 20 requests/s, within the tiny model's capacity on a core, for 100 requests. */
const struct sb_suite_entry sb_suite[] = {
    {&sb_bench_allreduce, {"--rounds", "3", NULL}},
    {&sb_bench_pipeline, {"--mode", "handoff", NULL}},
    {&sb_bench_pipeline, {"--training", "--compute-us", "250", "--max-time", "1", NULL}},
    {&sb_bench_infer, {"--rate", "20", "--requests", "100", NULL}},
    {NULL, {NULL}},
};

const struct sb_bench *sb_bench_find(const char *name)
{
	for (size_t i = 0; sb_benches[i]; i++)
		if (strcmp(sb_benches[i]->name, name) == 0)
			return sb_benches[i];
	return NULL;
}
