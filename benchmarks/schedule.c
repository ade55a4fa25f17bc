/* The pipeline's schedule model (schedule.h): the compute-only makespan of GPipe and 1F1B. */
#include "schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The compute-only makespan (schedule.h). Each stage runs its operations in the schedule's
 * order (GPipe: all forwards, then all backwards; 1F1B: warm-up forwards, steady pairs,
 * cool-down backwards); a forward waits for the previous stage's forward of that micro-batch, a
 * backward for the next stage's backward. Exact for unequal stages too, where (M+P-1) x (f + b)
 * is only the equal-stage case. */
double sb_pipeline_makespan(int P, int M, int fwd_first, int training, const double *f,
                            const double *b)
{
	if (!training) /* forwards only: every order is GPipe's */
		fwd_first = 1;
	size_t n = (size_t)P * (size_t)M;
	double *ff = malloc(n * sizeof *ff), *fbk = malloc(n * sizeof *fbk),
	       *clock = calloc((size_t)P, sizeof *clock);
	int *pos = calloc((size_t)P, sizeof *pos), nops = training ? 2 * M : M;
	double span = NAN;
	if (!ff || !fbk || !clock || !pos)
		goto out;
	for (size_t i = 0; i < n; i++)
		ff[i] = fbk[i] = -1;
	for (int progress = 1, left = P * nops; progress && left > 0;) {
		progress = 0;
		for (int r = 0; r < P; r++) {
			int warm = P - r - 1 < M ? P - r - 1 : M;
			while (pos[r] < nops) {
				/* The k-th operation of stage r: backward (1) or forward (0), mb.
				 */
				int k = pos[r], bwd, mb;
				if (fwd_first || k < warm) {
					bwd = k >= M, mb = bwd ? k - M : k;
				} else if (k < warm + 2 * (M - warm)) {
					int j = k - warm; /* steady: F(warm + j/2), B(j/2) */
					bwd = j % 2, mb = bwd ? j / 2 : warm + j / 2;
				} else {
					bwd = 1, mb = k - warm - (M - warm); /* cool-down */
				}
				double dep = 0;
				if (!bwd && r > 0)
					dep = ff[(size_t)(r - 1) * M + mb];
				else if (bwd && r < P - 1)
					dep = fbk[(size_t)(r + 1) * M + mb];
				if (dep < 0)
					break;
				double t = (clock[r] > dep ? clock[r] : dep) + (bwd ? b[r] : f[r]);
				(bwd ? fbk : ff)[(size_t)r * M + mb] = t;
				clock[r] = t;
				pos[r]++, left--, progress = 1;
			}
		}
		if (left == 0)
			for (int r = 0; r < P; r++)
				span = r == 0 || clock[r] > span ? clock[r] : span;
	}
out:
	free(ff);
	free(fbk);
	free(clock);
	free(pos);
	return span;
}
