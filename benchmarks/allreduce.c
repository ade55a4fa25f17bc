/* all-reduce: every rank contributes `count` elements and receives their sum.
 *
 * Bus bandwidth: a ring all-reduce moves 2(n-1)/n of the buffer through each rank's link
 * (n-1 steps of reduce-scatter and n-1 of all-gather, each carrying 1/n of it), so
 * busbw = algbw x 2(n-1)/n is comparable across rank counts and with the link's speed
 * (nccl-tests' definition). */
#include "bench.h"
#include "error.h"
#include "sweep.h"

#include <stdint.h>
#include <stdlib.h>

struct allreduce {
	enum sb_dtype dtype;
	int inplace;
	struct sb_bufs buf;
};

// clang-format off
static const struct sb_opt allreduce_opts[] = {
	{"dtype", 0, SB_OPT_CHOICE, "TYPE", "float", SB_DTYPE_CHOICES, 0, "element type"},
	{"inplace", 0, SB_OPT_FLAG, NULL, NULL, NULL, 0, "reduce in place (one buffer) instead of out of place"},
	{0},
};
// clang-format on

static int allreduce_validate(const struct sb_args *a, int nranks, char *err, size_t errlen)
{
	(void)nranks;
	enum sb_dtype dtype = (enum sb_dtype)sb_arg_choice(a, "dtype");
	size_t *sizes, k;
	int rc = sb_sizes_from_args(a, sb_dtype_size(dtype), &sizes, &k, err, errlen);
	if (rc == 0)
		free(sizes);
	return rc;
}

static int allreduce_setup(struct sb_ctx *x)
{
	struct allreduce *s = calloc(1, sizeof *s);
	if (!s)
		return SB_ENOMEM;
	s->dtype = (enum sb_dtype)sb_arg_choice(x->args, "dtype");
	s->inplace = sb_arg_flag(x->args, "inplace");
	x->state = s;
	return 0;
}

static int allreduce_points(struct sb_ctx *x, struct sb_point **pts, size_t *n)
{
	struct allreduce *s = x->state;
	return sb_sweep_points(x->args, "allreduce", s->dtype, "sum", s->inplace, pts, n);
}

/* Both buffers hold the pattern, so the timed loop reduces real data (in place, the values
 * grow from one iteration to the next, which costs nothing on IEEE hardware and never
 * produces subnormals). */
static int allreduce_prepare(struct sb_ctx *x, const struct sb_point *pt)
{
	struct allreduce *s = x->state;
	struct sb_comm *c = x->comm;
	int rc = sb_bufs_reserve(c, &s->buf, pt->bytes, s->inplace, pt->label);
	return rc ? rc : c->be->fill(c, s->buf.send, pt->count, pt->dtype, 0);
}

static int allreduce_step(struct sb_ctx *x, const struct sb_point *pt)
{
	struct allreduce *s = x->state;
	void *recv = s->inplace ? s->buf.send : s->buf.recv;
	return x->comm->be->allreduce(x->comm, s->buf.send, recv, pt->count, pt->dtype, SB_SUM);
}

static int allreduce_check(struct sb_ctx *x, const struct sb_point *pt, unsigned iter,
                           size_t *wrong)
{
	struct allreduce *s = x->state;
	struct sb_comm *c = x->comm;
	void *recv = s->inplace ? s->buf.send : s->buf.recv;
	int rc;
	/* Out of place, the result buffer first gets another rank's pattern, so a result that is
	 * never written cannot pass. */
	if (!s->inplace &&
	    (rc = c->be->fill_rank(c, recv, pt->count, pt->dtype, c->rank + 3, iter)))
		return rc;
	if ((rc = c->be->fill(c, s->buf.send, pt->count, pt->dtype, iter)) ||
	    (rc = allreduce_step(x, pt)) || (rc = sb_comm_sync(c)))
		return rc;
	return c->be->check_sum(c, recv, pt->count, pt->dtype, iter, wrong);
}

static int allreduce_metrics(struct sb_ctx *x, const struct sb_point *pt,
                             const struct sb_summary *s, struct sb_metrics *m)
{
	int n = x->comm->size, rc;
	double algbw = (double)pt->bytes / s->median;
	if ((rc = sb_metric_add(m, "algbw", "B/s", algbw)))
		return rc;
	return sb_metric_add(m, "busbw", "B/s", algbw * 2.0 * (n - 1) / n);
}

/* The buffers, and a temporary of the message's size that MPI libraries' reduction
 * algorithms allocate (recursive doubling, ring); counted on every backend. */
static size_t allreduce_mem_need(struct sb_ctx *x, const struct sb_point *pt)
{
	struct allreduce *s = x->state;
	size_t k = s->inplace ? 2 : 3;
	return pt->bytes > SIZE_MAX / k ? SIZE_MAX : k * pt->bytes;
}

static void allreduce_teardown(struct sb_ctx *x)
{
	struct allreduce *s = x->state;
	if (!s)
		return;
	sb_bufs_release(x->comm, &s->buf);
	free(s);
	x->state = NULL;
}

const struct sb_bench sb_bench_allreduce = {
    .name = "allreduce",
    .summary = "sum of every rank's buffer, result on every rank",
    .min_ranks = 1,
    .flags = SB_BENCH_CAN_CHECK | SB_BENCH_CAN_GRAPH,
    .opts = allreduce_opts,
    .validate = allreduce_validate,
    .setup = allreduce_setup,
    .points = allreduce_points,
    .prepare = allreduce_prepare,
    .step = allreduce_step,
    .check = allreduce_check,
    .metrics = allreduce_metrics,
    .teardown = allreduce_teardown,
    .mem_need = allreduce_mem_need,
};
