/* The pipeline's schedule model, apart from the benchmark that measures it (pipeline.c) so it
 * can be unit-tested (tests/t_schedule.c). */
#ifndef SB_SCHEDULE_H
#define SB_SCHEDULE_H

/* The compute-only makespan of a pipeline: P stages, M micro-batches,
 * stage r's forward f[r] and backward b[r] per micro-batch (b unused unless training), played
 * in GPipe's order (fwd_first; also any forward-only run) or 1F1B's, with free transfers. NAN
 * if memory runs out. */
double sb_pipeline_makespan(int P, int M, int fwd_first, int training, const double *f,
                            const double *b);

#endif
