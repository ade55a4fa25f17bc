/* The `mpi` backend: host buffers, MPI collectives and point-to-point on a duplicate of
 * MPI_COMM_WORLD (so our traffic never matches anyone else's). */
#include "comm.h"
#include "error.h"
#include "timer.h"
#include "world.h"

#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_mpi.h"

#define mpi_priv sb__mpi

MPI_Datatype sb__mpi_type(enum sb_dtype t)
{
	switch (t) {
	case SB_FLOAT:
		return MPI_FLOAT;
	case SB_DOUBLE:
		return MPI_DOUBLE;
	default:
		return MPI_INT32_T;
	}
}

int sb__mpi_fail(const char *what, int rc)
{
	char msg[MPI_MAX_ERROR_STRING];
	int len = 0;
	MPI_Error_string(rc, msg, &len);
	sb_log_fault("%s failed: %s", what, msg);
	return SB_ECOMM;
}

int sb__mpi_join(struct sb_comm *c, struct sb__mpi *p)
{
	p->comm = p->ctl = MPI_COMM_NULL;
	if (MPI_Comm_dup(MPI_COMM_WORLD, &p->comm) != MPI_SUCCESS ||
	    MPI_Comm_dup(MPI_COMM_WORLD, &p->ctl) != MPI_SUCCESS)
		return SB_ECOMM;
	MPI_Comm_set_errhandler(p->comm, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(p->ctl, MPI_ERRORS_RETURN);
	MPI_Comm_rank(p->comm, &c->rank);
	MPI_Comm_size(p->comm, &c->size);
	/* MPI-3 counts are int. Larger messages go in pieces of at most max_count elements;
	 * SB_MPI_MAX_COUNT lowers the limit so the tests exercise the split on small buffers. */
	p->max_count = INT_MAX;
	const char *env = getenv("SB_MPI_MAX_COUNT");
	if (env && atol(env) > 0 && (size_t)atol(env) < p->max_count)
		p->max_count = (size_t)atol(env);
	return 0;
}

int sb__mpi_split(struct sb_comm *parent, int color, int key, struct sb_comm *child,
                  struct sb__mpi *p)
{
	struct sb__mpi *pp = parent->priv;
	int col = color < 0 ? MPI_UNDEFINED : color, rc;
	p->comm = p->ctl = MPI_COMM_NULL;
	p->max_count = pp->max_count;
	child->rank = -1;
	child->size = 0;
	if ((rc = MPI_Comm_split(pp->comm, col, key, &p->comm)) != MPI_SUCCESS ||
	    (rc = MPI_Comm_split(pp->ctl, col, key, &p->ctl)) != MPI_SUCCESS) {
		sb__mpi_leave(p);
		return sb__mpi_fail("MPI_Comm_split", rc);
	}
	if (p->comm == MPI_COMM_NULL)
		return 0;
	MPI_Comm_set_errhandler(p->comm, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(p->ctl, MPI_ERRORS_RETURN);
	MPI_Comm_rank(p->comm, &child->rank);
	MPI_Comm_size(p->comm, &child->size);
	return 0;
}

void sb__mpi_leave(struct sb__mpi *p)
{
	if (p->comm != MPI_COMM_NULL)
		MPI_Comm_free(&p->comm);
	if (p->ctl != MPI_COMM_NULL)
		MPI_Comm_free(&p->ctl);
}

int sb__mpi_nomem(struct sb_comm *c, const char *what)
{
	sb_log_fault("out of memory %s", what);
	if (c->size > 1)
		sb_ctl_abort(c, sb_exit_status(SB_ENOMEM));
	return SB_ENOMEM;
}

static int mpi_init(struct sb_comm *c)
{
	struct sb__mpi *p = calloc(1, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	int rc = sb__mpi_join(c, p);
	if (rc) {
		free(p);
		return rc;
	}
	c->priv = p;
	return 0;
}

static void mpi_fini(struct sb_comm *c)
{
	if (!c->priv)
		return;
	sb__mpi_leave(c->priv);
	free(c->priv);
	c->priv = NULL;
}

static int mpi_split(struct sb_comm *parent, int color, int key, int group, struct sb_comm *child)
{
	(void)group;
	struct sb__mpi *p = calloc(1, sizeof *p);
	if (!p)
		return sb__mpi_nomem(parent, "splitting the world");
	int rc = sb__mpi_split(parent, color, key, child, p);
	if (rc || p->comm == MPI_COMM_NULL) {
		free(p);
		return rc;
	}
	child->priv = p;
	return 0;
}

int sb__mpi_allreduce(struct sb_comm *c, const void *send, void *recv, size_t count,
                      enum sb_dtype t, enum sb_op op)
{
	struct mpi_priv *p = c->priv;
	(void)op; /* only SB_SUM so far */
	size_t esz = sb_dtype_size(t);
	size_t off = 0;
	do {
		size_t n = count - off < p->max_count ? count - off : p->max_count;
		char *r = (char *)recv + off * esz;
		const void *s = send == recv ? MPI_IN_PLACE : (const char *)send + off * esz;
		int rc = MPI_Allreduce(s, r, (int)n, sb__mpi_type(t), MPI_SUM, p->comm);
		if (rc != MPI_SUCCESS)
			return sb__mpi_fail("MPI_Allreduce", rc);
		off += n;
	} while (off < count);
	return 0;
}

int sb__mpi_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                     size_t bytes)
{
	struct mpi_priv *p = c->priv;
	size_t off = 0;
	do {
		size_t n = bytes - off < p->max_count ? bytes - off : p->max_count;
		int rc;
		const char *what;
		/* One side only (a pipeline's end stages, every one-way handoff): the plain call,
		 * which costs less than MPI_Sendrecv with MPI_PROC_NULL on the other side. */
		if (src < 0 && dst >= 0) {
			what = "MPI_Send";
			rc = MPI_Send((const char *)send + off, (int)n, MPI_BYTE, dst, 0, p->comm);
		} else if (dst < 0 && src >= 0) {
			what = "MPI_Recv";
			rc = MPI_Recv((char *)recv + off, (int)n, MPI_BYTE, src, 0, p->comm,
			              MPI_STATUS_IGNORE);
		} else if (dst < 0) {
			return 0;
		} else {
			what = "MPI_Sendrecv";
			rc = MPI_Sendrecv((const char *)send + off, (int)n, MPI_BYTE, dst, 0,
			                  (char *)recv + off, (int)n, MPI_BYTE, src, 0, p->comm,
			                  MPI_STATUS_IGNORE);
		}
		if (rc != MPI_SUCCESS)
			return sb__mpi_fail(what, rc);
		off += n;
	} while (off < bytes);
	return 0;
}

static int mpi_barrier(struct sb_comm *c)
{
	struct mpi_priv *p = c->priv;
	int rc = MPI_Barrier(p->ctl);
	return rc == MPI_SUCCESS ? 0 : sb__mpi_fail("MPI_Barrier", rc);
}

/* Clock offsets by Cristian's method: a rank asks another for its clock ROUNDS times and keeps
 * the answer of the shortest round trip, taken to be read at the trip's midpoint (the error is
 * at most half that round trip). Ranks on one host share CLOCK_MONOTONIC and skip it, unless
 * SB_CLOCK_ESTIMATE=1 (tests: the estimate on one host must come out near 0). The round trips
 * go over the data path's communicator, where nothing is ever pending between calls: on the
 * control one a receive of SB_ANY_TAG a benchmark has posted could take them. */
#define CLOCK_TAG 0x5bc
#define CLOCK_ROUNDS 32

static int clock_always(void)
{
	const char *env = getenv("SB_CLOCK_ESTIMATE");
	return env && atoi(env) > 0;
}

/* The asking side: ROUNDS round trips with `peer`; *offset = its clock minus ours, taken
 * from the shortest round trip. The peer read its clock somewhere inside that round trip, so
 * the estimate is off by at most half of it: *err. */
static int clock_ask(MPI_Comm comm, int peer, double *offset, double *err)
{
	double best = INFINITY;
	int rc = MPI_SUCCESS;
	for (int i = 0; i < CLOCK_ROUNDS && rc == MPI_SUCCESS; i++) {
		double theirs = 0, t0 = sb_now();
		rc = MPI_Send(NULL, 0, MPI_BYTE, peer, CLOCK_TAG, comm);
		if (rc == MPI_SUCCESS)
			rc = MPI_Recv(&theirs, 1, MPI_DOUBLE, peer, CLOCK_TAG, comm,
			              MPI_STATUS_IGNORE);
		double t1 = sb_now();
		if (rc == MPI_SUCCESS && t1 - t0 < best) {
			best = t1 - t0;
			*offset = theirs - 0.5 * (t0 + t1);
		}
	}
	if (err && best < INFINITY)
		*err = 0.5 * best;
	return rc;
}

/* The answering side: ROUNDS times, a ping from `peer` answered with this rank's clock. */
static int clock_answer(MPI_Comm comm, int peer)
{
	int rc = MPI_SUCCESS;
	for (int i = 0; i < CLOCK_ROUNDS && rc == MPI_SUCCESS; i++) {
		rc = MPI_Recv(NULL, 0, MPI_BYTE, peer, CLOCK_TAG, comm, MPI_STATUS_IGNORE);
		double t = sb_now();
		if (rc == MPI_SUCCESS)
			rc = MPI_Send(&t, 1, MPI_DOUBLE, peer, CLOCK_TAG, comm);
	}
	return rc;
}

/* Every rank off ref's host asks ref, one after the other in rank order: ref tells each when
 * to start (a rank that asked while ref served another would time its wait in the queue). */
static int mpi_clock_offset(struct sb_comm *c, int ref, double *offset, double *err)
{
	struct mpi_priv *p = c->priv;
	int r = c->rank, n = c->size, rc, *ask = NULL;
	*offset = 0;
	if (err)
		*err = 0;
	if (ref < 0 || ref >= n) {
		sb_log_fault("clock offset to rank %d of %d", ref, n);
		return SB_EINVAL;
	}
	if (r == ref && !(ask = calloc((size_t)n, sizeof *ask)))
		return sb__mpi_nomem(c, "for the clock offsets");
	char host[sizeof c->host];
	snprintf(host, sizeof host, "%s", c->host);
	int mine = 0;
	if ((rc = MPI_Bcast(host, sizeof host, MPI_CHAR, ref, p->comm)) == MPI_SUCCESS) {
		mine = r != ref && (clock_always() || strcmp(host, c->host) != 0);
		rc = MPI_Gather(&mine, 1, MPI_INT, ask, 1, MPI_INT, ref, p->comm);
	}
	for (int q = 0; r == ref && q < n && rc == MPI_SUCCESS; q++)
		if (ask[q] &&
		    (rc = MPI_Send(NULL, 0, MPI_BYTE, q, CLOCK_TAG, p->comm)) == MPI_SUCCESS)
			rc = clock_answer(p->comm, q);
	free(ask);
	if (rc == MPI_SUCCESS && mine &&
	    (rc = MPI_Recv(NULL, 0, MPI_BYTE, ref, CLOCK_TAG, p->comm, MPI_STATUS_IGNORE)) ==
	        MPI_SUCCESS)
		rc = clock_ask(p->comm, ref, offset, err);
	return rc == MPI_SUCCESS ? 0 : sb__mpi_fail("clock offset round trip", rc);
}

/* Between neighbours d apart: rank r asks rank r-d. Ranks r with r/d even ask first, then the
 * others, so no rank asks and answers at once and all pairs run together. */
static int mpi_clock_offset_prev(struct sb_comm *c, int d, double *prev, double *err)
{
	struct mpi_priv *p = c->priv;
	int r = c->rank, n = c->size, rc = MPI_SUCCESS;
	char mine[sizeof c->host], before[sizeof c->host] = "", after[sizeof c->host] = "";
	snprintf(mine, sizeof mine, "%s", c->host);
	int up = r + d < n ? r + d : MPI_PROC_NULL, down = r - d >= 0 ? r - d : MPI_PROC_NULL;
	*prev = 0;
	if (err)
		*err = 0;
	rc = MPI_Sendrecv(mine, sizeof mine, MPI_CHAR, up, CLOCK_TAG, before, sizeof before,
	                  MPI_CHAR, down, CLOCK_TAG, p->comm, MPI_STATUS_IGNORE);
	if (rc == MPI_SUCCESS)
		rc = MPI_Sendrecv(mine, sizeof mine, MPI_CHAR, down, CLOCK_TAG, after, sizeof after,
		                  MPI_CHAR, up, CLOCK_TAG, p->comm, MPI_STATUS_IGNORE);
	if (rc != MPI_SUCCESS)
		return sb__mpi_fail("MPI_Sendrecv (host names)", rc);
	int always = clock_always();
	int ask = r - d >= 0 && (always || strcmp(before, mine) != 0),
	    answer = r + d < n && (always || strcmp(after, mine) != 0);
	for (int phase = 0; phase < 2 && rc == MPI_SUCCESS; phase++) {
		if (ask && (r / d) % 2 == phase)
			rc = clock_ask(p->comm, down, prev, err);
		if (rc == MPI_SUCCESS && answer && (r / d + 1) % 2 == phase)
			rc = clock_answer(p->comm, up);
	}
	return rc == MPI_SUCCESS ? 0 : sb__mpi_fail("clock offset round trip", rc);
}

static int mpi_max(struct sb_comm *c, double *v, size_t n)
{
	struct mpi_priv *p = c->priv;
	for (size_t off = 0; off < n; off += p->max_count) {
		size_t k = n - off < p->max_count ? n - off : p->max_count;
		int rc = MPI_Allreduce(MPI_IN_PLACE, v + off, (int)k, MPI_DOUBLE, MPI_MAX, p->ctl);
		if (rc != MPI_SUCCESS)
			return sb__mpi_fail("MPI_Allreduce (control)", rc);
	}
	return 0;
}

static int mpi_sum(struct sb_comm *c, long long *v, size_t n)
{
	struct mpi_priv *p = c->priv;
	for (size_t off = 0; off < n; off += p->max_count) {
		size_t k = n - off < p->max_count ? n - off : p->max_count;
		int rc =
		    MPI_Allreduce(MPI_IN_PLACE, v + off, (int)k, MPI_LONG_LONG, MPI_SUM, p->ctl);
		if (rc != MPI_SUCCESS)
			return sb__mpi_fail("MPI_Allreduce (control)", rc);
	}
	return 0;
}

static int mpi_gatherv(struct sb_comm *c, const char *mine, char ***out)
{
	struct mpi_priv *p = c->priv;
	int len = (int)strlen(mine) + 1, rc;
	int *lens = NULL, *offs = NULL;
	char *all = NULL;
	*out = NULL;
	if (c->rank == 0) {
		lens = calloc((size_t)c->size, sizeof *lens);
		offs = calloc((size_t)c->size, sizeof *offs);
		if (!lens || !offs)
			goto nomem;
	}
	if ((rc = MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, p->ctl)) != MPI_SUCCESS)
		return sb__mpi_fail("MPI_Gather (control)", rc);
	size_t total = 0;
	if (c->rank == 0) {
		for (int r = 0; r < c->size; r++) {
			offs[r] = (int)total;
			total += (size_t)lens[r];
		}
		if (!(all = malloc(total)))
			goto nomem;
	}
	rc = MPI_Gatherv(mine, len, MPI_CHAR, all, lens, offs, MPI_CHAR, 0, p->ctl);
	if (rc != MPI_SUCCESS) {
		free(all), free(lens), free(offs);
		return sb__mpi_fail("MPI_Gatherv (control)", rc);
	}
	if (c->rank == 0) {
		char **v = calloc((size_t)c->size, sizeof *v);
		for (int r = 0; v && r < c->size; r++)
			if (!(v[r] = strdup(all + offs[r]))) {
				sb_strv_free(v, c->size);
				v = NULL;
			}
		free(all), free(lens), free(offs);
		if (!v)
			return SB_ENOMEM;
		*out = v;
	}
	return 0;
nomem:
	free(lens), free(offs);
	/* The other ranks are already in the gather. */
	return sb__mpi_nomem(c, "gathering strings");
}

/* Every rank learns every length (an all-gather), so all take the same path: one
 * MPI_Gatherv while the total fits an int count (and max_count), else each rank's bytes
 * sent to rank 0 in pieces of at most max_count, in rank order, over the data path's
 * communicator (as the clock's round trips, out of reach of a pending SB_ANY_TAG receive). */
#define GATHER_TAG 0x5bd

static int mpi_gather(struct sb_comm *c, const void *mine, size_t bytes, void **all, size_t *lens)
{
	struct mpi_priv *p = c->priv;
	int n = c->size, root = c->rank == 0, rc;
	unsigned long long me = bytes, *cnt = calloc((size_t)n, sizeof *cnt);
	int *ilen = NULL, *ioff = NULL;
	char *buf = NULL;
	*all = NULL;
	if (!cnt)
		return sb__mpi_nomem(c, "gathering bytes");
	if ((rc = MPI_Allgather(&me, 1, MPI_UNSIGNED_LONG_LONG, cnt, 1, MPI_UNSIGNED_LONG_LONG,
	                        p->ctl)) != MPI_SUCCESS) {
		free(cnt);
		return sb__mpi_fail("MPI_Allgather (control)", rc);
	}
	size_t total = 0;
	for (int r = 0; r < n; r++)
		total += (size_t)cnt[r];
	int whole = total <= p->max_count && total <= INT_MAX;
	if (root && !lens) {
		free(cnt);
		sb_log_fault("gather: no array for the lengths at rank 0");
		if (n > 1)
			sb_ctl_abort(c, sb_exit_status(SB_EINVAL));
		return SB_EINVAL;
	}
	if (root && (!(buf = malloc(total ? total : 1)) ||
	             (whole && (!(ilen = calloc((size_t)n, sizeof *ilen)) ||
	                        !(ioff = calloc((size_t)n, sizeof *ioff)))))) {
		free(buf), free(ilen), free(ioff), free(cnt);
		return sb__mpi_nomem(c, "gathering bytes");
	}
	rc = MPI_SUCCESS;
	if (whole) {
		for (int r = 0, off = 0; root && r < n; off += (int)cnt[r], r++)
			ilen[r] = (int)cnt[r], ioff[r] = off;
		rc = MPI_Gatherv(mine, (int)bytes, MPI_BYTE, buf, ilen, ioff, MPI_BYTE, 0, p->ctl);
	} else if (root) {
		size_t off = 0;
		for (int r = 0; r < n && rc == MPI_SUCCESS; off += (size_t)cnt[r], r++) {
			if (r == 0) {
				memcpy(buf, mine, bytes);
				continue;
			}
			for (size_t got = 0; got < cnt[r] && rc == MPI_SUCCESS;) {
				size_t k =
				    cnt[r] - got < p->max_count ? cnt[r] - got : p->max_count;
				rc = MPI_Recv(buf + off + got, (int)k, MPI_BYTE, r, GATHER_TAG,
				              p->comm, MPI_STATUS_IGNORE);
				got += k;
			}
		}
	} else {
		for (size_t sent = 0; sent < bytes && rc == MPI_SUCCESS;) {
			size_t k = bytes - sent < p->max_count ? bytes - sent : p->max_count;
			rc = MPI_Send((const char *)mine + sent, (int)k, MPI_BYTE, 0, GATHER_TAG,
			              p->comm);
			sent += k;
		}
	}
	free(ilen), free(ioff);
	if (rc != MPI_SUCCESS) {
		free(buf), free(cnt);
		return sb__mpi_fail(whole ? "MPI_Gatherv (control)" : "gather in pieces", rc);
	}
	for (int r = 0; root && r < n; r++)
		lens[r] = (size_t)cnt[r];
	free(cnt);
	*all = buf;
	return 0;
}

/* A non-blocking message, and what its status will say. */
struct mpi_req {
	MPI_Request r;
	int send, peer, tag;
	size_t bytes;
};

static int mpi_isend(struct sb_comm *c, const void *buf, size_t bytes, int dst, int tag,
                     struct sb_req **req)
{
	struct mpi_priv *p = c->priv;
	struct mpi_req *q;
	int rc;
	*req = NULL;
	if ((rc = sb__ctl_post_check(c, "control send", bytes, dst, 0, tag)))
		return rc;
	if (!(q = calloc(1, sizeof *q)))
		return SB_ENOMEM;
	*q = (struct mpi_req){.send = 1, .peer = dst, .tag = tag, .bytes = bytes};
	if ((rc = MPI_Isend(buf, (int)bytes, MPI_BYTE, dst, tag, p->ctl, &q->r)) != MPI_SUCCESS) {
		free(q);
		return sb__mpi_fail("MPI_Isend (control)", rc);
	}
	*req = (struct sb_req *)q;
	return 0;
}

static int mpi_irecv(struct sb_comm *c, void *buf, size_t bytes, int src, int tag,
                     struct sb_req **req)
{
	struct mpi_priv *p = c->priv;
	struct mpi_req *q;
	int rc;
	*req = NULL;
	if ((rc = sb__ctl_post_check(c, "control receive", bytes, src, 1, tag)))
		return rc;
	if (!(q = calloc(1, sizeof *q)))
		return SB_ENOMEM;
	*q = (struct mpi_req){.peer = src, .tag = tag, .bytes = bytes};
	rc = MPI_Irecv(buf, (int)bytes, MPI_BYTE, src == SB_ANY_SOURCE ? MPI_ANY_SOURCE : src,
	               tag == SB_ANY_TAG ? MPI_ANY_TAG : tag, p->ctl, &q->r);
	if (rc != MPI_SUCCESS) {
		free(q);
		return sb__mpi_fail("MPI_Irecv (control)", rc);
	}
	*req = (struct sb_req *)q;
	return 0;
}

/* A completed request: its status, and it is freed. */
static void finish(struct sb_req **req, const MPI_Status *ms, struct sb_status *st)
{
	struct mpi_req *q = (struct mpi_req *)*req;
	if (st && q->send) {
		*st = (struct sb_status){.source = q->peer, .tag = q->tag, .bytes = q->bytes};
	} else if (st) {
		int got = 0;
		MPI_Get_count(ms, MPI_BYTE, &got);
		*st = (struct sb_status){
		    .source = ms->MPI_SOURCE, .tag = ms->MPI_TAG, .bytes = (size_t)got};
	}
	free(q);
	*req = NULL;
}

/* A request that completed with an error (a message longer than the receive) is gone too. */
static int failed(struct sb_req **req, const char *what, int rc)
{
	struct mpi_req *q = (struct mpi_req *)*req;
	if (q->r == MPI_REQUEST_NULL) {
		free(q);
		*req = NULL;
	}
	return sb__mpi_fail(what, rc);
}

static void none(struct sb_status *st)
{
	if (st)
		*st = (struct sb_status){.source = SB_NO_PEER, .tag = SB_ANY_TAG, .bytes = 0};
}

static int mpi_test(struct sb_comm *c, struct sb_req **req, int *done, struct sb_status *st)
{
	(void)c;
	struct mpi_req *q = (struct mpi_req *)*req;
	MPI_Status ms;
	*done = 0;
	if (!q) {
		*done = 1;
		none(st);
		return 0;
	}
	int rc = MPI_Test(&q->r, done, &ms);
	if (rc != MPI_SUCCESS)
		return failed(
		    req, q->send ? "MPI_Test (control send)" : "MPI_Test (control receive)", rc);
	if (*done)
		finish(req, &ms, st);
	return 0;
}

static int mpi_wait(struct sb_comm *c, struct sb_req **req, struct sb_status *st)
{
	(void)c;
	struct mpi_req *q = (struct mpi_req *)*req;
	MPI_Status ms;
	if (!q) {
		none(st);
		return 0;
	}
	int rc = MPI_Wait(&q->r, &ms);
	if (rc != MPI_SUCCESS)
		return failed(
		    req, q->send ? "MPI_Wait (control send)" : "MPI_Wait (control receive)", rc);
	finish(req, &ms, st);
	return 0;
}

static int mpi_cancel(struct sb_comm *c, struct sb_req **req)
{
	struct mpi_req *q = (struct mpi_req *)*req;
	MPI_Status ms;
	int rc, cancelled = 0;
	if (!q)
		return 0;
	if (q->send)
		return (rc = mpi_wait(c, req, NULL)) ? rc : 1;
	if ((rc = MPI_Cancel(&q->r)) != MPI_SUCCESS || (rc = MPI_Wait(&q->r, &ms)) != MPI_SUCCESS) {
		free(q);
		*req = NULL;
		return sb__mpi_fail("MPI_Cancel (control receive)", rc);
	}
	MPI_Test_cancelled(&ms, &cancelled);
	free(q);
	*req = NULL;
	return !cancelled;
}

static void mpi_abort(struct sb_comm *c, int status)
{
	(void)c; /* a split communicator would end its group alone: the whole job ends */
	MPI_Abort(MPI_COMM_WORLD, status);
}

void sb__mpi_describe(struct sb_comm *c, json_t *obj)
{
	struct mpi_priv *p = c->priv;
	int major, minor;
	MPI_Get_version(&major, &minor);
	json_object_set_new(obj, "mpi_library", json_string(sb_world_mpi_version()));
	json_object_set_new(obj, "mpi_standard", json_sprintf("%d.%d", major, minor));
	json_object_set_new(obj, "mpi_max_count", json_integer((json_int_t)p->max_count));
}

const struct sb_ctl sb__mpi_ctl = {
    .barrier = mpi_barrier,
    .max = mpi_max,
    .sum = mpi_sum,
    .gatherv = mpi_gatherv,
    .gather = mpi_gather,
    .isend = mpi_isend,
    .irecv = mpi_irecv,
    .test = mpi_test,
    .wait = mpi_wait,
    .cancel = mpi_cancel,
    .clock_offset = mpi_clock_offset,
    .clock_offset_prev = mpi_clock_offset_prev,
    .abort = mpi_abort,
};

const struct sb_backend sb_backend_mpi = {
    .name = "mpi",
    .summary = "MPI on host memory (the CPU path)",
    .caps = SB_CAP_HOST_MEM,
    .init = mpi_init,
    .fini = mpi_fini,
    .alloc = sb__host_alloc,
    .free = sb__host_free,
    .fill = sb__host_fill,
    .check_sum = sb__host_check_sum,
    .fill_rank = sb__host_fill_rank,
    .check_rank = sb__host_check_rank,
    .allreduce = sb__mpi_allreduce,
    .sendrecv = sb__mpi_sendrecv,
    .describe = sb__mpi_describe,
    .ctl = &sb__mpi_ctl,
    .split = mpi_split,
    .split_free = mpi_fini,
};
