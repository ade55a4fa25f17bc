/* The reference scripts/bench-fidelity sets scalebench against: the simplest trustworthy
 * MPI_Allreduce timing loop, with no harness. For each size, ITERS iterations of
 * (barrier; t0; MPI_Allreduce; t1), the per-iteration times reduced to their maximum over ranks,
 * and the median printed by rank 0 as "bytes median_seconds".
 *
 * usage: bare_allreduce MIN MAX ITERS (float elements, out of place, sizes doubling) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	int rank;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (argc != 4) {
		if (rank == 0)
			fprintf(stderr, "usage: bare_allreduce MIN MAX ITERS\n");
		MPI_Finalize();
		return 2;
	}
	size_t min = strtoull(argv[1], NULL, 10), max = strtoull(argv[2], NULL, 10);
	int iters = atoi(argv[3]);
	float *s = malloc(max), *r = malloc(max);
	double *t = malloc((size_t)iters * sizeof *t);
	memset(s, 1, max);
	memset(r, 0, max);
	for (size_t bytes = min; bytes <= max; bytes *= 2) {
		int count = (int)(bytes / sizeof(float));
		for (int i = 0; i < 10; i++)
			MPI_Allreduce(s, r, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
		for (int i = 0; i < iters; i++) {
			MPI_Barrier(MPI_COMM_WORLD);
			double t0 = now();
			MPI_Allreduce(s, r, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
			t[i] = now() - t0;
		}
		MPI_Allreduce(MPI_IN_PLACE, t, iters, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
		qsort(t, (size_t)iters, sizeof *t, cmp);
		double med = iters % 2 ? t[iters / 2] : 0.5 * (t[iters / 2 - 1] + t[iters / 2]);
		if (rank == 0)
			printf("%zu %.9e\n", bytes, med);
	}
	free(s);
	free(r);
	free(t);
	MPI_Finalize();
	return 0;
}
