/* sb_fidelity: does the harness add anything to what it measures? In one MPI job, for each
 * size, ROUNDS rounds in alternating order of: (a) scalebench's driver measuring the all-reduce
 * benchmark on the mpi backend with a fixed iteration count (-n ITERS -w 10 -c 0; set up once
 * per size, as a sweep reuses its buffers); (b) a bare loop timing the same MPI_Allreduce the
 * simplest trustworthy way (barrier; t0; MPI_Allreduce; t1; per-iteration maximum over ranks;
 * median) on buffers allocated and filled the same way. One job, so the run-to-run
 * differences of a fresh launch hit both alike. Rank 0 prints per size the median over rounds
 * of each side's median and of the per-round ratio scalebench / bare, with the smallest and
 * largest ratio.
 *
 * With --handoff, the same for the pipeline's isolated handoff (--mode handoff, 2 stages: its
 * handoff_p50) against a bare ping-pong's one-way time (half the round trip, barrier before
 * each, separate send and receive buffers as in OSU's osu_latency), sizes x4.
 *
 * usage: sb_fidelity [--handoff] MIN MAX ITERS_SMALL ITERS_LARGE ROUNDS
 *        sb_fidelity [--handoff] SIZE,SIZE,... ITERS_SMALL ITERS_LARGE ROUNDS
 *        (ITERS_LARGE from 1 MiB up) */
#include "bench.h"
#include "comm.h"
#include "driver.h"
#include "error.h"
#include "options.h"
#include "pattern.h"
#include "stats.h"
#include "timer.h"
#include "world.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct sb_backend sb_backend_mpi;
extern const struct sb_bench sb_bench_allreduce;
extern const struct sb_bench sb_bench_pipeline;

static const struct sb_bench *bench = &sb_bench_allreduce;

static double median(double *v, size_t n)
{
	sb_stats_sort(v, n);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The reference: nothing but the MPI calls and the clock. */
static double bare(const float *s, float *r, size_t count, int iters, double *t)
{
	for (int i = 0; i < 10; i++)
		MPI_Allreduce(s, r, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
	for (int i = 0; i < iters; i++) {
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = sb_now();
		MPI_Allreduce(s, r, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
		t[i] = sb_now() - t0;
	}
	MPI_Allreduce(MPI_IN_PLACE, t, iters, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
	return median(t, (size_t)iters);
}

/* The reference for the handoff: one-way time = half a round trip between ranks 0 and 1. */
static double pingpong(const char *s, char *r, size_t bytes, int iters, double *t)
{
	int rank, n = (int)bytes;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	for (int i = -10; i < iters; i++) {
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = sb_now();
		if (rank == 0) {
			MPI_Send(s, n, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
			MPI_Recv(r, n, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else if (rank == 1) {
			MPI_Recv(r, n, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			MPI_Send(s, n, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
		}
		if (i >= 0)
			t[i] = (sb_now() - t0) / 2;
	}
	/* Rank 0 timed the round trips; everyone gets its figure. */
	double m = median(t, (size_t)iters);
	MPI_Bcast(&m, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
	return m;
}

/* The harness, set up for one size. */
struct harness {
	struct sb_args a;
	struct sb_method m;
	struct sb_ctx x;
	struct sb_point *pts;
	size_t np;
	char b[32], n[32];
};

static void harness_setup(struct harness *h, struct sb_comm *c, size_t bytes, int iters)
{
	snprintf(h->b, sizeof h->b, "%zu", bytes);
	snprintf(h->n, sizeof h->n, "%d", iters);
	char *argv[] = {"sb_fidelity", (char *)bench->name,
	                "-b",          h->b,
	                "-e",          h->b,
	                "-n",          h->n,
	                "-w",          "10",
	                "-c",          "0",
	                "--mode",      "handoff",
	                NULL};
	const struct sb_opt *tables[] = {bench->opts, sb_common_opts, NULL};
	char err[256];
	if (sb_args_parse(&h->a, tables, bench == &sb_bench_pipeline ? 14 : 12, argv, 2, err,
	                  sizeof err)) {
		fprintf(stderr, "sb_fidelity: %s\n", err);
		MPI_Abort(MPI_COMM_WORLD, SB_EXIT_BAD_INPUT);
	}
	sb_method_from_args(&h->m, &h->a);
	h->x = (struct sb_ctx){.comm = c, .args = &h->a};
	h->pts = NULL;
	h->np = 0;
	if (bench->setup(&h->x) || bench->points(&h->x, &h->pts, &h->np) || h->np != 1 ||
	    bench->prepare(&h->x, &h->pts[0]))
		MPI_Abort(MPI_COMM_WORLD, SB_EXIT_FAULT);
}

static double harness_measure(struct harness *h)
{
	struct sb_point_result r;
	if (sb_driver_measure(bench, &h->x, &h->pts[0], &h->m, &r))
		MPI_Abort(MPI_COMM_WORLD, SB_EXIT_FAULT);
	double v = r.summary.median;
	if (bench == &sb_bench_pipeline) {
		/* The handoff's own figure, at rank 0, shared. */
		struct sb_metrics m = {0};
		if (bench->metrics(&h->x, &h->pts[0], &r.summary, &m))
			MPI_Abort(MPI_COMM_WORLD, SB_EXIT_FAULT);
		json_decref(h->x.detail);
		h->x.detail = NULL;
		v = sb_metric_get(&m, "handoff_p50");
		sb_metrics_free(&m);
		MPI_Bcast(&v, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
	}
	free(r.samples);
	return v;
}

static void harness_teardown(struct harness *h)
{
	sb_points_free(h->pts, h->np);
	bench->teardown(&h->x);
}

int main(int argc, char **argv)
{
	int rank, size;
	char host[256];
	if (sb_world_init(&argc, &argv, sb_thread_level_from_argv(argc, argv), &rank, &size, host,
	                  sizeof host)) {
		fprintf(stderr, "sb_fidelity: MPI_Init failed\n");
		return SB_EXIT_FAULT;
	}
	if (argc > 1 && strcmp(argv[1], "--handoff") == 0) {
		bench = &sb_bench_pipeline;
		argv++;
		argc--;
	}
	/* The sizes: a comma-separated list, or MIN MAX (x2, x4 for the handoff). */
	int handoff = bench == &sb_bench_pipeline;
	size_t sizes[64], nsizes = 0;
	int list = argc == 5 && strchr(argv[1], ',');
	if (argc != 6 && !list) {
		if (rank == 0)
			fprintf(stderr, "usage: sb_fidelity [--handoff] MIN MAX ITERS_SMALL "
			                "ITERS_LARGE ROUNDS\n       sb_fidelity [--handoff] "
			                "SIZE,SIZE,... ITERS_SMALL ITERS_LARGE ROUNDS\n");
		sb_world_fini();
		return SB_EXIT_BAD_INPUT;
	}
	int bad = 0;
	if (list) {
		for (char *p = argv[1]; *p && nsizes < 64;) {
			char *end;
			sizes[nsizes] = strtoull(p, &end, 10);
			bad |= end == p || sizes[nsizes] < 4;
			nsizes++;
			p = *end == ',' ? end + 1 : end;
			if (end == p && *p)
				break;
		}
		argv--; /* the counts follow at argv[3..5], as after MIN MAX */
	} else {
		size_t min = strtoull(argv[1], NULL, 10), max = strtoull(argv[2], NULL, 10);
		bad |= min < 4 || max < min;
		for (size_t b = min; !bad && b <= max && nsizes < 64; b *= handoff ? 4 : 2)
			sizes[nsizes++] = b;
	}
	int it_small = atoi(argv[3]), it_large = atoi(argv[4]), rounds = atoi(argv[5]);
	if (bad || it_small < 1 || it_large < 1 || rounds < 1) {
		if (rank == 0)
			fprintf(stderr, "sb_fidelity: need sizes >= 4 (MIN <= MAX) and ITERS, "
			                "ROUNDS >= 1\n");
		sb_world_fini();
		return SB_EXIT_BAD_INPUT;
	}
	struct sb_comm c = {.be = &sb_backend_mpi};
	if (c.be->init(&c))
		MPI_Abort(MPI_COMM_WORLD, SB_EXIT_FAULT);
	double *t = malloc((size_t)(it_small > it_large ? it_small : it_large) * sizeof *t);
	double *hs = malloc((size_t)rounds * sizeof *hs), *bs = malloc((size_t)rounds * sizeof *bs),
	       *rs = malloc((size_t)rounds * sizeof *rs);
	if (rank == 0)
		printf("# bytes harness_median_s bare_median_s ratio ratio_min ratio_max\n");
	for (size_t si = 0; si < nsizes; si++) {
		size_t bytes = sizes[si];
		int iters = bytes >= (1u << 20) ? it_large : it_small;
		size_t count = bytes / sizeof(float);
		/* The bare loop's buffers come from the same allocator and fill as the harness's.
		 */
		float *s = sb__host_alloc(&c, bytes), *r = sb__host_alloc(&c, bytes);
		sb_pattern_fill(s, count, SB_FLOAT, rank, 0);
		struct harness h;
		harness_setup(&h, &c, bytes, iters);
		for (int k = 0; k < rounds; k++) {
			if (k % 2) {
				bs[k] = handoff ? pingpong((char *)s, (char *)r, bytes, iters, t)
				                : bare(s, r, count, iters, t);
				hs[k] = harness_measure(&h);
			} else {
				hs[k] = harness_measure(&h);
				bs[k] = handoff ? pingpong((char *)s, (char *)r, bytes, iters, t)
				                : bare(s, r, count, iters, t);
			}
			rs[k] = hs[k] / bs[k];
		}
		harness_teardown(&h);
		sb__host_free(&c, s);
		sb__host_free(&c, r);
		double rmed = median(rs, (size_t)rounds);
		if (rank == 0)
			printf("%zu %.6e %.6e %.4f %.4f %.4f\n", bytes, median(hs, (size_t)rounds),
			       median(bs, (size_t)rounds), rmed, rs[0], rs[rounds - 1]);
		fflush(stdout);
	}
	free(t);
	free(hs);
	free(bs);
	free(rs);
	c.be->fini(&c);
	sb_world_fini();
	return 0;
}
