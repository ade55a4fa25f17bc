/* The `fake` backend: moves nothing and keeps a virtual clock, so the driver, the statistics
 * and the writers can be tested deterministically without MPI peers or GPUs (fio's null
 * engine). It simulates a world of SB_FAKE_RANKS ranks (default 1) in which every rank holds
 * the data of rank 0: an all-reduce multiplies by the rank count, a send/recv copies.
 *
 * Environment (tests only):
 *   SB_FAKE_RANKS=N          simulated world size
 *   SB_FAKE_ALPHA=S          seconds per operation (default 1e-6)
 *   SB_FAKE_BETA=S           seconds per byte (default 1e-10)
 *   SB_FAKE_NOISE=F          relative noise, uniform in [0, F), from a fixed-seed generator
 *   SB_FAKE_HANG_BYTES=B     operations on >= B bytes never return (for the watchdog)
 *   SB_FAKE_CORRUPT_BYTES=B  results of operations on >= B bytes are off by one element
 *   SB_FAKE_ASYNC=1          an asynchronous data path, as a GPU's: the driver measures
 *                            latency and pipelined time; each sync costs SB_FAKE_SYNC s
 *                            (default 5e-6)
 *   SB_FAKE_DRIFT=N:F        after N operations every operation costs F times as much (a
 *                            machine that changes state during the run)
 *
 * The control plane sees the one process: max and sum leave the values as they are, a gather
 * gets this rank's data from every simulated rank (as every simulated rank holds rank 0's
 * data), the clocks are one (offsets 0). Control messages are echoed: a message sent to rank d
 * is what a receive from rank d (or from SB_ANY_SOURCE) with its tag gets back, in the order
 * sent, as if d answered each with a copy; a send to rank 0 is one to itself. Each one costs
 * alpha + beta x bytes on the virtual clock, so a benchmark that times itself sees them. A
 * wait for a receive that nothing sent matches is an error (nothing else can run).
 *
 * Split: this process is rank 0 of its group. A color function (sb_comm_split_by) sizes the
 * group; a bare color stands for every simulated rank (each passes the same: the whole
 * parent). The group shares the parent's clock and has its own message queue. */
#include "comm.h"
#include "error.h"
#include "pattern.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The simulated world: its clock and cost model, shared by a communicator and every one split
 * from it. */
struct fake_world {
	int refs;
	double clock, alpha, beta, noise, sync_cost, drift_factor;
	unsigned long long ops, drift_after;
	uint64_t rng;
	size_t hang_bytes, corrupt_bytes;
};

/* A control message sent and not yet received. */
struct fake_msg {
	struct fake_msg *next;
	int peer, tag;
	size_t bytes;
	unsigned char data[];
};

/* A posted control message (struct sb_req): a send is complete when posted; a receive when
 * progress() has matched it. Pending receives are listed in the order posted. */
struct fake_req {
	struct fake_req *next;
	int send, done, err, peer, tag;
	void *buf;
	size_t cap;
	struct sb_status st;
};

struct fake_priv {
	struct fake_world *w;
	struct fake_msg *msgs; /* sent, not yet received, in the order sent */
	struct fake_req *recvs; /* receives not yet matched, in the order posted */
};

static double env_double(const char *name, double def)
{
	const char *v = getenv(name);
	return v && *v ? strtod(v, NULL) : def;
}

static int fake_init(struct sb_comm *c)
{
	struct fake_priv *p = calloc(1, sizeof *p);
	struct fake_world *w = calloc(1, sizeof *w);
	if (!p || !w) {
		free(p), free(w);
		return SB_ENOMEM;
	}
	c->rank = 0;
	c->size = (int)env_double("SB_FAKE_RANKS", 1);
	if (c->size < 1)
		c->size = 1;
	w->refs = 1;
	w->clock = 1000.0;
	w->alpha = env_double("SB_FAKE_ALPHA", 1e-6);
	w->beta = env_double("SB_FAKE_BETA", 1e-10);
	w->noise = env_double("SB_FAKE_NOISE", 0);
	w->hang_bytes = (size_t)env_double("SB_FAKE_HANG_BYTES", 0);
	w->corrupt_bytes = (size_t)env_double("SB_FAKE_CORRUPT_BYTES", 0);
	w->rng = 0x9e3779b97f4a7c15ull;
	c->async = env_double("SB_FAKE_ASYNC", 0) != 0;
	w->sync_cost = c->async ? env_double("SB_FAKE_SYNC", 5e-6) : 0;
	const char *d = getenv("SB_FAKE_DRIFT");
	if (d && *d) {
		char *end;
		w->drift_after = strtoull(d, &end, 10);
		w->drift_factor = *end == ':' ? strtod(end + 1, NULL) : 1;
	}
	p->w = w;
	c->priv = p;
	return 0;
}

/* Also a split child's: the world goes with its last communicator. Requests still pending
 * are the caller's (complete or cancel them first); the queued messages go. */
static void fake_fini(struct sb_comm *c)
{
	struct fake_priv *p = c->priv;
	if (!p)
		return;
	for (struct fake_msg *m = p->msgs, *next; m; m = next) {
		next = m->next;
		free(m);
	}
	if (--p->w->refs == 0)
		free(p->w);
	free(p);
	c->priv = NULL;
}

static int fake_split(struct sb_comm *parent, int color, int key, int group, struct sb_comm *child)
{
	struct fake_priv *pp = parent->priv, *p;
	(void)key; /* this process is rank 0 of its group whatever the order */
	if (color < 0)
		return 0;
	if (!(p = calloc(1, sizeof *p)))
		return SB_ENOMEM;
	p->w = pp->w;
	p->w->refs++;
	child->priv = p;
	child->rank = 0;
	child->size = group > 0 ? group : parent->size;
	return 0;
}

/* Advance the virtual clock by the cost of one operation on `bytes`. */
static void tick(struct fake_world *w, size_t bytes)
{
	if (w->hang_bytes && bytes >= w->hang_bytes)
		for (;;)
			pause(); /* a hung collective; only the watchdog ends this */
	double t = w->alpha + w->beta * (double)bytes;
	if (w->drift_after && ++w->ops > w->drift_after)
		t *= w->drift_factor;
	if (w->noise > 0) {
		w->rng ^= w->rng << 13;
		w->rng ^= w->rng >> 7;
		w->rng ^= w->rng << 17;
		t *= 1.0 + w->noise * (double)(w->rng >> 11) / 9007199254740992.0;
	}
	w->clock += t;
}

static int fake_fill(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, unsigned seed)
{
	(void)c;
	sb_pattern_fill(buf, count, t, 0, seed);
	return 0;
}

static int fake_fill_rank(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, int rank,
                          unsigned seed)
{
	(void)c;
	sb_pattern_fill(buf, count, t, rank, seed);
	return 0;
}

/* Expected: size x rank 0's pattern (every simulated rank holds rank 0's data). */
static int fake_check_sum(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                          unsigned seed, size_t *wrong)
{
	size_t esz = sb_dtype_size(t);
	char *want = malloc(count * esz + 1);
	if (!want)
		return SB_ENOMEM;
	sb_pattern_fill(want, count, t, 0, seed);
	*wrong = 0;
	for (size_t i = 0; i < count; i++) {
		double w, g;
		switch (t) {
		case SB_FLOAT:
			w = ((float *)want)[i] * c->size, g = ((const float *)buf)[i];
			break;
		case SB_DOUBLE:
			w = ((double *)want)[i] * c->size, g = ((const double *)buf)[i];
			break;
		default:
			w = ((int32_t *)want)[i] * c->size, g = ((const int32_t *)buf)[i];
			break;
		}
		*wrong += w != g;
	}
	free(want);
	return 0;
}

static int fake_check_rank(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                           int rank, unsigned seed, size_t *wrong)
{
	(void)c;
	(void)rank; /* the simulated peer holds rank 0's data */
	*wrong = sb_pattern_check_rank(buf, count, t, 0, seed);
	return 0;
}

static void corrupt(struct fake_world *p, void *recv, size_t bytes, size_t esz)
{
	if (p->corrupt_bytes && bytes >= p->corrupt_bytes && bytes >= esz)
		((unsigned char *)recv)[(bytes / esz / 2) * esz] ^= 0x5a;
}

static int fake_allreduce(struct sb_comm *c, const void *send, void *recv, size_t count,
                          enum sb_dtype t, enum sb_op op)
{
	struct fake_priv *p = c->priv;
	(void)op;
	size_t esz = sb_dtype_size(t);
	if (send != recv)
		memcpy(recv, send, count * esz);
	for (size_t i = 0; i < count; i++)
		switch (t) {
		case SB_FLOAT:
			((float *)recv)[i] *= (float)c->size;
			break;
		case SB_DOUBLE:
			((double *)recv)[i] *= c->size;
			break;
		default:
			((int32_t *)recv)[i] *= c->size;
			break;
		}
	corrupt(p->w, recv, count * esz, esz);
	tick(p->w, count * esz);
	return 0;
}

static int fake_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                         size_t bytes)
{
	struct fake_priv *p = c->priv;
	if (src >= 0 && dst >= 0 && send && recv)
		memcpy(recv, send, bytes);
	if (src >= 0 && recv)
		corrupt(p->w, recv, bytes, 1);
	tick(p->w, bytes);
	return 0;
}

static int fake_nop(struct sb_comm *c)
{
	(void)c;
	return 0;
}

static int fake_sync(struct sb_comm *c)
{
	struct fake_priv *p = c->priv;
	p->w->clock += p->w->sync_cost;
	return 0;
}

static double fake_now(struct sb_comm *c)
{
	return ((struct fake_priv *)c->priv)->w->clock;
}

/* Local work on the virtual clock: it takes no real time. */
static void fake_spend(struct sb_comm *c, double sec)
{
	((struct fake_priv *)c->priv)->w->clock += sec;
}

static int fake_max(struct sb_comm *c, double *v, size_t n)
{
	(void)c, (void)v, (void)n;
	return 0;
}

static int fake_sum(struct sb_comm *c, long long *v, size_t n)
{
	(void)c, (void)v, (void)n;
	return 0;
}

static int fake_gatherv(struct sb_comm *c, const char *mine, char ***out)
{
	char **v = calloc((size_t)c->size, sizeof *v);
	for (int r = 0; v && r < c->size; r++)
		if (!(v[r] = strdup(mine))) {
			sb_strv_free(v, c->size);
			v = NULL;
		}
	*out = v;
	return v ? 0 : SB_ENOMEM;
}

static int fake_gather(struct sb_comm *c, const void *mine, size_t bytes, void **all, size_t *lens)
{
	char *buf;
	*all = NULL;
	if (!lens) {
		sb_log_fault("gather: no array for the lengths at rank 0");
		return SB_EINVAL;
	}
	if (!(buf = malloc(bytes * (size_t)c->size + 1)))
		return SB_ENOMEM;
	for (int r = 0; r < c->size; r++) {
		if (bytes)
			memcpy(buf + bytes * (size_t)r, mine, bytes);
		lens[r] = bytes;
	}
	*all = buf;
	return 0;
}

static int fake_clock_offset(struct sb_comm *c, int ref, double *offset, double *err)
{
	*offset = 0;
	if (err)
		*err = 0;
	if (ref < 0 || ref >= c->size) {
		sb_log_fault("clock offset to rank %d of %d", ref, c->size);
		return SB_EINVAL;
	}
	return 0;
}

static int fake_clock_offset_prev(struct sb_comm *c, int d, double *prev, double *err)
{
	(void)c, (void)d;
	*prev = 0;
	if (err)
		*err = 0;
	return 0;
}

/* Match pending receives, in the order posted, with the messages, in the order sent. */
static void progress(struct fake_priv *p)
{
	for (struct fake_req **rp = &p->recvs; *rp;) {
		struct fake_req *q = *rp;
		struct fake_msg **mp = &p->msgs;
		while (*mp && !((q->peer == SB_ANY_SOURCE || q->peer == (*mp)->peer) &&
		                (q->tag == SB_ANY_TAG || q->tag == (*mp)->tag)))
			mp = &(*mp)->next;
		if (!*mp) {
			rp = &q->next;
			continue;
		}
		struct fake_msg *m = *mp;
		size_t n = m->bytes;
		if (n > q->cap) { /* as MPI's truncation: the receive completes with an error */
			sb_log_fault("control message of %zu bytes from rank %d, tag %d, for a "
			             "receive of %zu",
			             m->bytes, m->peer, m->tag, q->cap);
			q->err = SB_ECOMM;
			n = q->cap;
		}
		if (n)
			memcpy(q->buf, m->data, n);
		q->st = (struct sb_status){.source = m->peer, .tag = m->tag, .bytes = m->bytes};
		q->done = 1;
		*mp = m->next;
		free(m);
		*rp = q->next;
	}
}

static int fake_isend(struct sb_comm *c, const void *buf, size_t bytes, int dst, int tag,
                      struct sb_req **req)
{
	struct fake_priv *p = c->priv;
	struct fake_msg *m;
	struct fake_req *q;
	int rc;
	*req = NULL;
	if ((rc = sb__ctl_post_check(c, "control send", bytes, dst, 0, tag)))
		return rc;
	if (!(m = malloc(sizeof *m + bytes)) || !(q = calloc(1, sizeof *q))) {
		free(m);
		return SB_ENOMEM;
	}
	m->next = NULL, m->peer = dst, m->tag = tag, m->bytes = bytes;
	if (bytes)
		memcpy(m->data, buf, bytes);
	struct fake_msg **mp = &p->msgs;
	while (*mp)
		mp = &(*mp)->next;
	*mp = m;
	q->send = q->done = 1;
	q->st = (struct sb_status){.source = dst, .tag = tag, .bytes = bytes};
	p->w->clock += p->w->alpha + p->w->beta * (double)bytes;
	*req = (struct sb_req *)q;
	progress(p);
	return 0;
}

static int fake_irecv(struct sb_comm *c, void *buf, size_t bytes, int src, int tag,
                      struct sb_req **req)
{
	struct fake_priv *p = c->priv;
	struct fake_req *q;
	int rc;
	*req = NULL;
	if ((rc = sb__ctl_post_check(c, "control receive", bytes, src, 1, tag)))
		return rc;
	if (!(q = calloc(1, sizeof *q)))
		return SB_ENOMEM;
	q->peer = src, q->tag = tag, q->buf = buf, q->cap = bytes;
	struct fake_req **rp = &p->recvs;
	while (*rp)
		rp = &(*rp)->next;
	*rp = q;
	*req = (struct sb_req *)q;
	progress(p);
	return 0;
}

static void fake_status_none(struct sb_status *st)
{
	if (st)
		*st = (struct sb_status){.source = SB_NO_PEER, .tag = SB_ANY_TAG, .bytes = 0};
}

/* Take a request off the pending list (if there) and free it. */
static void fake_req_free(struct fake_priv *p, struct fake_req *q)
{
	for (struct fake_req **rp = &p->recvs; *rp; rp = &(*rp)->next)
		if (*rp == q) {
			*rp = q->next;
			break;
		}
	free(q);
}

static int fake_test(struct sb_comm *c, struct sb_req **req, int *done, struct sb_status *st)
{
	struct fake_priv *p = c->priv;
	struct fake_req *q = (struct fake_req *)*req;
	int rc;
	*done = 0;
	if (!q) {
		*done = 1;
		fake_status_none(st);
		return 0;
	}
	progress(p);
	if (!q->done)
		return 0;
	if (st)
		*st = q->st;
	rc = q->err;
	fake_req_free(p, q);
	*req = NULL;
	*done = 1;
	return rc;
}

static int fake_wait(struct sb_comm *c, struct sb_req **req, struct sb_status *st)
{
	struct fake_req *q = (struct fake_req *)*req;
	int done, rc = fake_test(c, req, &done, st);
	if (rc || done)
		return rc;
	sb_log_fault("fake backend: waiting for a control message from rank %d, tag %d, that "
	             "nothing sent (a send to rank %d with that tag is what comes back)",
	             q->peer, q->tag, q->peer);
	return SB_ECOMM;
}

static int fake_cancel(struct sb_comm *c, struct sb_req **req)
{
	struct fake_priv *p = c->priv;
	struct fake_req *q = (struct fake_req *)*req;
	if (!q)
		return 0;
	progress(p);
	int rc = q->err, done = q->done;
	fake_req_free(p, q);
	*req = NULL;
	return rc ? rc : done;
}

static void fake_describe(struct sb_comm *c, json_t *obj)
{
	struct fake_priv *p = c->priv;
	json_object_set_new(obj, "fake_alpha", json_real(p->w->alpha));
	json_object_set_new(obj, "fake_beta", json_real(p->w->beta));
	json_object_set_new(obj, "fake_noise", json_real(p->w->noise));
}

static const struct sb_ctl fake_ctl = {
    .barrier = fake_nop,
    .max = fake_max,
    .sum = fake_sum,
    .gatherv = fake_gatherv,
    .gather = fake_gather,
    .isend = fake_isend,
    .irecv = fake_irecv,
    .test = fake_test,
    .wait = fake_wait,
    .cancel = fake_cancel,
    .clock_offset = fake_clock_offset,
    .clock_offset_prev = fake_clock_offset_prev,
};

const struct sb_backend sb_backend_fake = {
    .name = "fake",
    .summary = "moves nothing, virtual clock (for testing scalebench itself)",
    .caps = SB_CAP_HOST_MEM | SB_CAP_TEST_ONLY,
    .init = fake_init,
    .fini = fake_fini,
    .alloc = sb__host_alloc,
    .free = sb__host_free,
    .fill = fake_fill,
    .check_sum = fake_check_sum,
    .fill_rank = fake_fill_rank,
    .check_rank = fake_check_rank,
    .allreduce = fake_allreduce,
    .sendrecv = fake_sendrecv,
    .sync = fake_sync,
    .now = fake_now,
    .spend = fake_spend,
    .timer = "virtual clock (fake backend)",
    .describe = fake_describe,
    .ctl = &fake_ctl,
    .split = fake_split,
    .split_free = fake_fini,
};
