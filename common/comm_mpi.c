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
	if (MPI_Comm_dup(MPI_COMM_WORLD, &p->comm) != MPI_SUCCESS)
		return SB_ECOMM;
	MPI_Comm_set_errhandler(p->comm, MPI_ERRORS_RETURN);
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

void sb__mpi_leave(struct sb__mpi *p)
{
	if (p->comm != MPI_COMM_NULL)
		MPI_Comm_free(&p->comm);
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

int sb__mpi_barrier(struct sb_comm *c)
{
	struct mpi_priv *p = c->priv;
	int rc = MPI_Barrier(p->comm);
	return rc == MPI_SUCCESS ? 0 : sb__mpi_fail("MPI_Barrier", rc);
}

/* Cristian's method between neighbours d apart: rank r asks rank r-d for its clock ROUNDS
 * times and keeps the answer of the shortest round trip, taken to be read at the trip's
 * midpoint (the error is at most half that round trip). Ranks r with r/d even ask first,
 * then the others, so no rank asks and answers at once. Ranks on one host share
 * CLOCK_MONOTONIC and skip it, unless SB_CLOCK_ESTIMATE=1 (tests: the estimate on one host must
 * come out near 0). */
#define CLOCK_TAG 0x5bc
#define CLOCK_ROUNDS 32

int sb__mpi_ctl_clock_offset(struct sb_comm *c, int d, double *prev)
{
	struct mpi_priv *p = c->priv;
	int r = c->rank, n = c->size, rc = MPI_SUCCESS;
	char mine[sizeof c->host], before[sizeof c->host] = "", after[sizeof c->host] = "";
	snprintf(mine, sizeof mine, "%s", c->host);
	int up = r + d < n ? r + d : MPI_PROC_NULL, down = r - d >= 0 ? r - d : MPI_PROC_NULL;
	*prev = 0;
	rc = MPI_Sendrecv(mine, sizeof mine, MPI_CHAR, up, CLOCK_TAG, before, sizeof before,
	                  MPI_CHAR, down, CLOCK_TAG, p->comm, MPI_STATUS_IGNORE);
	if (rc == MPI_SUCCESS)
		rc = MPI_Sendrecv(mine, sizeof mine, MPI_CHAR, down, CLOCK_TAG, after, sizeof after,
		                  MPI_CHAR, up, CLOCK_TAG, p->comm, MPI_STATUS_IGNORE);
	if (rc != MPI_SUCCESS)
		return sb__mpi_fail("MPI_Sendrecv (host names)", rc);
	const char *env = getenv("SB_CLOCK_ESTIMATE");
	int always = env && atoi(env) > 0;
	int ask = r - d >= 0 && (always || strcmp(before, mine) != 0),
	    answer = r + d < n && (always || strcmp(after, mine) != 0);
	double best = INFINITY;
	for (int phase = 0; phase < 2 && rc == MPI_SUCCESS; phase++) {
		for (int i = 0;
		     ask && (r / d) % 2 == phase && i < CLOCK_ROUNDS && rc == MPI_SUCCESS; i++) {
			double theirs = 0, t0 = sb_now();
			rc = MPI_Send(NULL, 0, MPI_BYTE, down, CLOCK_TAG, p->comm);
			if (rc == MPI_SUCCESS)
				rc = MPI_Recv(&theirs, 1, MPI_DOUBLE, down, CLOCK_TAG, p->comm,
				              MPI_STATUS_IGNORE);
			double t1 = sb_now();
			if (t1 - t0 < best) {
				best = t1 - t0;
				*prev = theirs - 0.5 * (t0 + t1);
			}
		}
		for (int i = 0;
		     answer && (r / d + 1) % 2 == phase && i < CLOCK_ROUNDS && rc == MPI_SUCCESS;
		     i++) {
			rc = MPI_Recv(NULL, 0, MPI_BYTE, up, CLOCK_TAG, p->comm, MPI_STATUS_IGNORE);
			double t = sb_now();
			if (rc == MPI_SUCCESS)
				rc = MPI_Send(&t, 1, MPI_DOUBLE, up, CLOCK_TAG, p->comm);
		}
	}
	return rc == MPI_SUCCESS ? 0 : sb__mpi_fail("clock offset round trip", rc);
}

int sb__mpi_ctl_max(struct sb_comm *c, double *v, size_t n)
{
	struct mpi_priv *p = c->priv;
	for (size_t off = 0; off < n; off += p->max_count) {
		size_t k = n - off < p->max_count ? n - off : p->max_count;
		int rc = MPI_Allreduce(MPI_IN_PLACE, v + off, (int)k, MPI_DOUBLE, MPI_MAX, p->comm);
		if (rc != MPI_SUCCESS)
			return sb__mpi_fail("MPI_Allreduce (control)", rc);
	}
	return 0;
}

int sb__mpi_ctl_sum(struct sb_comm *c, long long *v, size_t n)
{
	struct mpi_priv *p = c->priv;
	int rc = MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_LONG_LONG, MPI_SUM, p->comm);
	return rc == MPI_SUCCESS ? 0 : sb__mpi_fail("MPI_Allreduce (control)", rc);
}

int sb__mpi_ctl_gatherv(struct sb_comm *c, const char *mine, char ***out)
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
	if ((rc = MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, p->comm)) != MPI_SUCCESS)
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
	rc = MPI_Gatherv(mine, len, MPI_CHAR, all, lens, offs, MPI_CHAR, 0, p->comm);
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
	sb_log_fault("out of memory gathering from %d ranks", c->size);
	if (c->be->abort)
		c->be->abort(c, 3); /* the other ranks are already in the gather */
	return SB_ENOMEM;
}

void sb__mpi_abort(struct sb_comm *c, int status)
{
	struct mpi_priv *p = c->priv;
	MPI_Abort(p ? p->comm : MPI_COMM_WORLD, status);
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
    .ctl_clock_offset = sb__mpi_ctl_clock_offset,
    .barrier = sb__mpi_barrier,
    .ctl_max = sb__mpi_ctl_max,
    .ctl_sum = sb__mpi_ctl_sum,
    .ctl_gatherv = sb__mpi_ctl_gatherv,
    .abort = sb__mpi_abort,
    .describe = sb__mpi_describe,
};
