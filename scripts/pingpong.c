/* sb_pingpong: the bare reference for the pipeline's isolated handoff. Ranks 0 and 1 bounce
 * a message; one-way time = half the round trip, per iteration, median over ITERS (the usual
 * OSU/IMB definition). As in OSU's latency test, each rank sends from one buffer and receives
 * into another, so a message is never the one that has just arrived.
 *
 * usage: sb_pingpong MIN MAX FACTOR ITERS   -> rank 0 prints "bytes one_way_median_s" */
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
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc != 5 || size < 2) {
		if (rank == 0)
			fprintf(stderr, "usage: mpirun -np 2 sb_pingpong MIN MAX FACTOR ITERS\n");
		MPI_Finalize();
		return 2;
	}
	size_t min = strtoull(argv[1], NULL, 10), max = strtoull(argv[2], NULL, 10);
	size_t f = strtoull(argv[3], NULL, 10);
	int iters = atoi(argv[4]);
	if (min < 1 || max < min || f < 2 || iters < 1) {
		if (rank == 0)
			fprintf(stderr,
			        "sb_pingpong: need 1 <= MIN <= MAX, FACTOR >= 2, ITERS >= 1\n");
		MPI_Finalize();
		return 2;
	}
	char *sbuf = malloc(max), *rbuf = malloc(max);
	double *t = malloc((size_t)iters * sizeof *t);
	memset(sbuf, 1, max);
	memset(rbuf, 0, max);
	for (size_t bytes = min; bytes <= max; bytes *= f) {
		int n = (int)bytes;
		for (int i = -10; i < iters; i++) { /* 10 warm-up round trips */
			MPI_Barrier(MPI_COMM_WORLD);
			double t0 = now();
			if (rank == 0) {
				MPI_Send(sbuf, n, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
				MPI_Recv(rbuf, n, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			} else if (rank == 1) {
				MPI_Recv(rbuf, n, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				MPI_Send(sbuf, n, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
			}
			if (i >= 0)
				t[i] = (now() - t0) / 2;
		}
		qsort(t, (size_t)iters, sizeof *t, cmp);
		if (rank == 0)
			printf("%zu %.9e\n", bytes,
			       iters % 2 ? t[iters / 2] : 0.5 * (t[iters / 2 - 1] + t[iters / 2]));
		fflush(stdout);
	}
	free(sbuf);
	free(rbuf);
	free(t);
	MPI_Finalize();
	return 0;
}
