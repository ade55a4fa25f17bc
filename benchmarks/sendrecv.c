/* sendrecv: a shift, every rank sends `bytes` to rank+1 while receiving from rank-1 (modulo the
 * rank count), all at once. Each link carries the buffer once, so busbw = algbw (nccl-tests'
 * factor 1 for sendrecv). It needs two ranks: with one, the "shift" is a local copy. */
#include "bench.h"
#include "error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct sendrecv {
	void *send, *recv;
	size_t cap;
};

static int sendrecv_setup(struct sb_ctx *x, char *err, size_t errlen)
{
	size_t *sizes, k;
	int rc = sb_sizes_from_args(x->args, sizeof(int32_t), &sizes, &k, err, errlen);
	if (rc)
		return rc;
	free(sizes);
	x->state = calloc(1, sizeof(struct sendrecv));
	return x->state ? 0 : SB_ENOMEM;
}

static int sendrecv_points(struct sb_ctx *x, struct sb_point **pts, size_t *n)
{
	size_t *sizes, k;
	char err[256];
	int rc = sb_sizes_from_args(x->args, sizeof(int32_t), &sizes, &k, err, sizeof err);
	if (rc)
		return rc;
	struct sb_point *p = calloc(k ? k : 1, sizeof *p);
	if (!p) {
		free(sizes);
		return SB_ENOMEM;
	}
	for (size_t i = 0; i < k; i++) {
		p[i].bytes = sizes[i];
		p[i].count = sizes[i] / sizeof(int32_t);
		p[i].dtype = SB_INT32;
		p[i].op = "-";
		snprintf(p[i].label, sizeof p[i].label, "sendrecv %zu B", sizes[i]);
	}
	free(sizes);
	*pts = p;
	*n = k;
	return 0;
}

static int sendrecv_prepare(struct sb_ctx *x, const struct sb_point *pt)
{
	struct sendrecv *s = x->state;
	struct sb_comm *c = x->comm;
	if (pt->bytes > s->cap) {
		c->be->free(c, s->send);
		c->be->free(c, s->recv);
		s->send = c->be->alloc(c, pt->bytes);
		s->recv = c->be->alloc(c, pt->bytes);
		if (!s->send || !s->recv) {
			sb_log_fault("cannot allocate 2 x %zu bytes for %s", pt->bytes, pt->label);
			s->cap = 0;
			return SB_ENOMEM;
		}
		s->cap = pt->bytes;
	}
	return c->be->fill(c, s->send, pt->count, pt->dtype, 0);
}

static int sendrecv_step(struct sb_ctx *x, const struct sb_point *pt)
{
	struct sendrecv *s = x->state;
	struct sb_comm *c = x->comm;
	int next = (c->rank + 1) % c->size, prev = (c->rank + c->size - 1) % c->size;
	return c->be->sendrecv(c, s->send, next, s->recv, prev, pt->bytes);
}

static int sendrecv_check(struct sb_ctx *x, const struct sb_point *pt, unsigned iter, size_t *wrong)
{
	struct sendrecv *s = x->state;
	struct sb_comm *c = x->comm;
	int prev = (c->rank + c->size - 1) % c->size;
	int rc;
	if ((rc = c->be->fill_rank(c, s->recv, pt->count, pt->dtype, c->rank, iter)) ||
	    (rc = c->be->fill(c, s->send, pt->count, pt->dtype, iter)) ||
	    (rc = sendrecv_step(x, pt)) || (rc = c->be->sync(c)))
		return rc;
	return c->be->check_rank(c, s->recv, pt->count, pt->dtype, prev, iter, wrong);
}

static size_t sendrecv_metrics(struct sb_ctx *x, const struct sb_point *pt,
                               const struct sb_summary *s, struct sb_metric *m)
{
	(void)x;
	double algbw = (double)pt->bytes / s->median;
	m[0] = (struct sb_metric){"algbw", "B/s", algbw};
	m[1] = (struct sb_metric){"busbw", "B/s", algbw};
	return 2;
}

static void sendrecv_teardown(struct sb_ctx *x)
{
	struct sendrecv *s = x->state;
	if (!s)
		return;
	x->comm->be->free(x->comm, s->send);
	x->comm->be->free(x->comm, s->recv);
	free(s);
	x->state = NULL;
}

const struct sb_bench sb_bench_sendrecv = {
    .name = "sendrecv",
    .summary = "shift: every rank sends to rank+1 and receives from rank-1 at once",
    .min_ranks = 2,
    .flags = SB_BENCH_CAN_CHECK,
    .opts = NULL,
    .setup = sendrecv_setup,
    .points = sendrecv_points,
    .prepare = sendrecv_prepare,
    .step = sendrecv_step,
    .check = sendrecv_check,
    .metrics = sendrecv_metrics,
    .teardown = sendrecv_teardown,
};
