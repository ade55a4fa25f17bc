/* sendrecv: a shift, every rank sends `bytes` to rank+1 while receiving from rank-1 (modulo the
 * rank count), all at once. Each link carries the buffer once, so busbw = algbw (nccl-tests'
 * factor 1 for sendrecv). It needs two ranks: with one, the "shift" is a local copy. */
#include "bench.h"
#include "error.h"
#include "sweep.h"

#include <stdint.h>
#include <stdlib.h>

static int sendrecv_validate(const struct sb_args *a, int nranks, char *err, size_t errlen)
{
	(void)nranks;
	size_t *sizes, k;
	int rc = sb_sizes_from_args(a, sb_dtype_size(SB_INT32), &sizes, &k, err, errlen);
	if (rc == 0)
		free(sizes);
	return rc;
}

static int sendrecv_setup(struct sb_ctx *x)
{
	x->state = calloc(1, sizeof(struct sb_bufs));
	return x->state ? 0 : SB_ENOMEM;
}

static int sendrecv_points(struct sb_ctx *x, struct sb_point **pts, size_t *n)
{
	return sb_sweep_points(x->args, "sendrecv", SB_INT32, "-", 0, pts, n);
}

static int sendrecv_prepare(struct sb_ctx *x, const struct sb_point *pt)
{
	struct sb_bufs *b = x->state;
	struct sb_comm *c = x->comm;
	int rc = sb_bufs_reserve(c, b, pt->bytes, 0, pt->label);
	return rc ? rc : c->be->fill(c, b->send, pt->count, pt->dtype, 0);
}

static int sendrecv_step(struct sb_ctx *x, const struct sb_point *pt)
{
	struct sb_bufs *b = x->state;
	struct sb_comm *c = x->comm;
	int next = (c->rank + 1) % c->size, prev = (c->rank + c->size - 1) % c->size;
	return c->be->sendrecv(c, b->send, next, b->recv, prev, pt->bytes);
}

static int sendrecv_check(struct sb_ctx *x, const struct sb_point *pt, unsigned iter, size_t *wrong)
{
	struct sb_bufs *b = x->state;
	struct sb_comm *c = x->comm;
	int prev = (c->rank + c->size - 1) % c->size;
	int rc;
	/* The receive buffer first holds a pattern that differs from the sender's (patterns
	 * repeat every 7 ranks, so not our own: rank 0's predecessor may share it). */
	if ((rc = c->be->fill_rank(c, b->recv, pt->count, pt->dtype, prev + 3, iter)) ||
	    (rc = c->be->fill(c, b->send, pt->count, pt->dtype, iter)) ||
	    (rc = sendrecv_step(x, pt)) || (rc = sb_comm_sync(c)))
		return rc;
	return c->be->check_rank(c, b->recv, pt->count, pt->dtype, prev, iter, wrong);
}

static int sendrecv_metrics(struct sb_ctx *x, const struct sb_point *pt, const struct sb_summary *s,
                            struct sb_metrics *m)
{
	(void)x;
	double algbw = (double)pt->bytes / s->median;
	int rc = sb_metric_add(m, "algbw", "B/s", algbw);
	return rc ? rc : sb_metric_add(m, "busbw", "B/s", algbw);
}

/* A send and a receive buffer of the message's size. */
static size_t sendrecv_mem_need(struct sb_ctx *x, const struct sb_point *pt)
{
	(void)x;
	return pt->bytes > SIZE_MAX / 2 ? SIZE_MAX : 2 * pt->bytes;
}

static void sendrecv_teardown(struct sb_ctx *x)
{
	struct sb_bufs *b = x->state;
	if (!b)
		return;
	sb_bufs_release(x->comm, b);
	free(b);
	x->state = NULL;
}

const struct sb_bench sb_bench_sendrecv = {
    .name = "sendrecv",
    .summary = "shift: every rank sends to rank+1 and receives from rank-1 at once",
    .min_ranks = 2,
    .flags = SB_BENCH_CAN_CHECK,
    .opts = NULL,
    .validate = sendrecv_validate,
    .setup = sendrecv_setup,
    .points = sendrecv_points,
    .prepare = sendrecv_prepare,
    .step = sendrecv_step,
    .check = sendrecv_check,
    .metrics = sendrecv_metrics,
    .teardown = sendrecv_teardown,
    .mem_need = sendrecv_mem_need,
};
