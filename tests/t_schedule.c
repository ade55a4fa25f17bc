/* The pipeline's compute-only makespan (sb_pipeline_makespan), against schedules worked out by
 * hand in the comments: equal stages give (M+P-1) x (f + b); unequal ones follow each
 * schedule's order. */
#include "../benchmarks/schedule.h"
#include "tap.h"

#include <math.h>

#define PLAN 13

int main(void)
{
	tap_plan(PLAN);
	const double f1[] = {1, 1, 1, 1}, b2[] = {2, 2, 2, 2};

	/* Equal stages: (M+P-1) x (f + b), for both orders; forward only (M+P-1) x f. */
	is_double(sb_pipeline_makespan(2, 4, 0, 1, f1, b2), 15, 1e-12, "P=2 M=4 1F1B: 5 x 3");
	is_double(sb_pipeline_makespan(2, 4, 1, 1, f1, b2), 15, 1e-12, "P=2 M=4 GPipe: 5 x 3");
	is_double(sb_pipeline_makespan(4, 8, 0, 1, f1, b2), 33, 1e-12, "P=4 M=8 1F1B: 11 x 3");
	is_double(sb_pipeline_makespan(4, 8, 1, 1, f1, b2), 33, 1e-12, "P=4 M=8 GPipe: 11 x 3");
	is_double(sb_pipeline_makespan(4, 8, 1, 0, f1, b2), 11, 1e-12, "P=4 M=8 forward: 11 x 1");
	/* Fewer micro-batches than stages: 1F1B's warm-up is cut to M. */
	is_double(sb_pipeline_makespan(4, 2, 0, 1, f1, b2), 15, 1e-12, "P=4 M=2 1F1B: 5 x 3");

	/* Forward only, unequal (a flow shop of identical jobs): sum + (M-1) x max =
	 * (1 + 3 + 1) + 3 x 3 = 14. */
	const double fu[] = {1, 3, 1};
	is_double(sb_pipeline_makespan(3, 4, 1, 0, fu, b2), 14, 1e-12, "forward f=1,3,1 M=4: 14");

	/* GPipe training, f = 1,2 and b = 2,4, M = 3. Forwards: stage 1 ends F2 at
	 * 1 + 3 x 2 = 7. Backwards: stage 1 B0..B2 end at 11, 15, 19; stage 0 B0 at 11 + 2 = 13,
	 * B1 at max(13, 15) + 2 = 17, B2 at max(17, 19) + 2 = 21. */
	const double fg[] = {1, 2}, bg[] = {2, 4};
	is_double(sb_pipeline_makespan(2, 3, 1, 1, fg, bg), 21, 1e-12, "GPipe f=1,2 b=2,4 M=3: 21");

	/* 1F1B, the first stage slow: f = 2,1, b = 4,2, M = 3. Stage 0 runs F0 F1 B0 F2 B1 B2,
	 * stage 1 F0 B0 F1 B1 F2 B2. Stage 0: F0 0-2, F1 2-4; stage 1: F0 2-3, B0 3-5, F1 5-6,
	 * B1 6-8; stage 0: B0 5-9, F2 9-11, B1 11-15; stage 1: F2 11-12, B2 12-14; stage 0:
	 * B2 15-19. 19, where sum + (M-1) x max = 9 + 12 = 21 would overstate it. */
	const double fs[] = {2, 1}, bs[] = {4, 2};
	is_double(sb_pipeline_makespan(2, 3, 0, 1, fs, bs), 19, 1e-12, "1F1B f=2,1 b=4,2 M=3: 19");
	/* The same stages in GPipe's order: forwards end 2, 4, 6 on stage 0 and 7 on stage 1;
	 * stage 1 B0..B2 end 9, 11, 13; stage 0 B0 13, B1 17, B2 21. */
	is_double(sb_pipeline_makespan(2, 3, 1, 1, fs, bs), 21, 1e-12, "GPipe f=2,1 b=4,2 M=3: 21");
	/* 1F1B with three unequal stages: f = 1,2,1, b = 2,3,2, M = 4. Stage 2 (no warm-up) runs
	 * F0 B0 F1 B1 ..., stage 1 (one warm-up forward) F0 F1 B0 F2 B1 F3 B2 B3, stage 0 (two)
	 * F0 F1 F2 B0 F3 B1 B2 B3. Stage 0: F0 0-1, F1 1-2, F2 2-3; stage 1: F0 1-3, F1 3-5;
	 * stage 2: F0 3-4, B0 4-6, F1 6-7, B1 7-9; stage 1: B0 6-9, F2 9-11, B1 11-14; stage 0:
	 * B0 9-11, F3 11-12, B1 14-16; stage 2: F2 11-12, B2 12-14; stage 1: F3 14-16, B2 16-19;
	 * stage 2: F3 16-17, B3 17-19; stage 1: B3 19-22; stage 0: B2 19-21, B3 22-24. */
	const double f3[] = {1, 2, 1}, b3[] = {2, 3, 2};
	is_double(sb_pipeline_makespan(3, 4, 0, 1, f3, b3), 24, 1e-12,
	          "1F1B f=1,2,1 b=2,3,2 M=4: 24");
	/* Forward only, whatever order is asked: GPipe's, backwards unread. f = 1,1 with b = 5,5
	 * (ignored), M = 3: (M+P-1) x 1 = 4. */
	const double b5[] = {5, 5};
	is_double(sb_pipeline_makespan(2, 3, 0, 0, f1, b5), 4, 1e-12,
	          "forward only, 1F1B asked: 4");
	is_double(sb_pipeline_makespan(2, 3, 1, 0, f1, b5), 4, 1e-12, "forward only, GPipe: 4");
	return tap_done();
}
