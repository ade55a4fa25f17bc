/* groups (tests only): the world split into groups of --group ranks, each step an all-reduce
 * in every group, timed by the benchmark on the backend's clock (virtual on the fake one) into
 * a series; valid after 0.01 s and 100 values. Tests sub-communicators, series, the writers. */
#include "bench.h"
#include "error.h"
#include "sweep.h"
#include <math.h>
#include <stdlib.h>
static const struct sb_opt groups_opts[] = {
    {"group", 0, SB_OPT_INT, "G", "2", NULL, 1, "ranks per group (the last may be smaller)"},
    {NULL, 0, 0, NULL, NULL, NULL, 0, NULL},
};

struct groups {
	int g; /* ranks per group */
	struct sb_comm sub; /* this rank's group */
	struct sb_bufs buf;
	struct sb_series t; /* seconds per all-reduce */
};

static int color_of(int rank, void *arg)
{
	return rank / *(int *)arg;
}

static int groups_setup(struct sb_ctx *x)
{
	struct groups *s = calloc(1, sizeof *s);
	if (!(x->state = s))
		return SB_ENOMEM;
	s->g = (int)sb_arg_int(x->args, "group");
	sb_series_init(&s->t, "group_allreduce", "s");
	x->series = &s->t;
	x->nseries = 1;
	return sb_comm_split_by(x->comm, color_of, &s->g, &s->sub);
}

static int groups_points(struct sb_ctx *x, struct sb_point **pts, size_t *n)
{
	struct groups *s = x->state;
	int rc = sb_sweep_points(x->args, "groups", SB_FLOAT, "sum", 0, pts, n);
	for (size_t i = 0; rc == 0 && i < *n; i++)
		if (!((*pts)[i].params = json_pack("{s:i}", "group", s->g)))
			rc = SB_ENOMEM;
	return rc;
}

static int groups_prepare(struct sb_ctx *x, const struct sb_point *pt)
{
	struct groups *s = x->state;
	return sb_bufs_reserve(&s->sub, &s->buf, pt->bytes, 0, pt->label);
}

static int groups_step(struct sb_ctx *x, const struct sb_point *pt)
{
	struct groups *s = x->state;
	double t0 = sb_comm_now(x->comm);
	int rc =
	    s->sub.be->allreduce(&s->sub, s->buf.send, s->buf.recv, pt->count, pt->dtype, SB_SUM);
	if (rc == 0 && (rc = sb_comm_sync(&s->sub)) == 0 && x->timed)
		rc = sb_series_add(&s->t, sb_comm_now(x->comm) - t0);
	return rc;
}

static int groups_metrics(struct sb_ctx *x, const struct sb_point *pt, const struct sb_summary *sum,
                          struct sb_metrics *m)
{
	struct sb_summary g = {.median = NAN, .p90 = NAN}; /* every rank's values, pooled */
	int rc = x->state && x->gathered && x->gathered[0].total
	             ? sb_series_summarize(x->gathered[0].pool, x->gathered[0].total, &g)
	             : 0;
	rc = rc ? rc : sb_metric_add(m, "group_p50", "s", g.median);
	rc = rc ? rc : sb_metric_add(m, "group_p90", "s", g.p90);
	rc = rc ? rc : sb_metric_add(m, "group_algbw", "B/s", (double)pt->bytes / g.median);
	return rc ? rc : sb_metric_add(m, "step_p50", "s", sum->median); /* the driver's */
}

static void groups_teardown(struct sb_ctx *x)
{
	struct groups *s = x->state;
	sb_bufs_release(&s->sub, &s->buf);
	sb_comm_free(&s->sub);
	sb_series_free(&s->t);
	free(s);
}

const struct sb_bench sb_bench_groups = {
    .name = "groups",
    .summary = "all-reduce within groups of a split world, self-timed (tests the harness)",
    .flags = SB_BENCH_SELF_TIMED | SB_BENCH_TEST_ONLY,
    .validity = {SB_VALID_DURATION, 0.01, 100},
    .opts = groups_opts,
    .setup = groups_setup,
    .points = groups_points,
    .prepare = groups_prepare,
    .step = groups_step,
    .metrics = groups_metrics,
    .teardown = groups_teardown,
};
