/* Sub-communicators and the control plane on the mpi backend, under mpirun at any rank count
 * (tests/split_mpi.t runs it at 2, 3 and 4 ranks): groups by a color function and by a bare
 * color with keys, all-reduce, send/recv, barrier, sum and the binary gather on a group and on
 * the world, non-blocking messages from one rank to many polled with test, cancel, and clock
 * offsets to a reference rank. Rank 0 prints TAP; every check holds on every rank (a sum of
 * failures over the world). Run alone, outside a launcher, it skips. SB_TEST_BACKEND names
 * another MPI-based backend (mpi-gpu, nccl: the data path then runs on device buffers). */
#include "comm.h"
#include "error.h"
#include "tap.h"
#include "world.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN 27

static struct sb_comm w;

/* One check over every rank: passes when cond holds on all of them (collective). */
static int all_ok(int cond, const char *what)
{
	long long bad = !cond;
	if (sb_ctl_sum(&w, &bad, 1))
		bad = 1;
	if (bad && w.rank == 0)
		tap_diag("failed on %lld rank(s)", bad);
	return ok(bad == 0, "%s", what);
}

static int strided(int rank, void *arg)
{
	(void)arg;
	return rank % 2;
}

static int not_zero(int rank, void *arg)
{
	(void)arg;
	return rank == 0 ? SB_COMM_UNDEFINED : 0;
}

static void test_groups(void)
{
	int n = w.size, r = w.rank;
	struct sb_comm g, h, z;
	int rc = sb_comm_split_by(&w, strided, NULL, &g);
	int gs = (n - r % 2 + 1) / 2; /* ranks of my parity */
	all_ok(rc == 0 && g.size == gs && g.rank == r / 2,
	       "split_by rank % 2: a group of my parity, ordered by world rank");

	/* All-reduce on the group: sum of (world rank + 1) over my parity. Data-path buffers
	 * from the backend (device memory on a GPU backend). */
	double v[3], want = 0;
	for (int q = r % 2; q < n; q += 2)
		want += q + 1;
	for (int i = 0; i < 3; i++)
		v[i] = r + 1;
	void *buf = g.be->alloc(&g, sizeof v), *buf2 = g.be->alloc(&g, sizeof v);
	if (!buf || !buf2)
		tap_bail("alloc");
	if ((rc = sb_comm_put(&g, buf, v, sizeof v)) == 0 &&
	    (rc = g.be->allreduce(&g, buf, buf, 3, SB_DOUBLE, SB_SUM)) == 0 &&
	    (rc = sb_comm_sync(&g)) == 0)
		rc = sb_comm_get(&g, v, buf, sizeof v);
	all_ok(rc == 0 && v[0] == want && v[2] == want, "all-reduce on the group");
	long long s = r;
	rc = sb_ctl_sum(&g, &s, 1);
	all_ok(rc == 0 && s == (long long)(want - gs), "control sum on the group");
	double m = r;
	rc = sb_ctl_max(&g, &m, 1);
	all_ok(rc == 0 && m == (double)(r % 2 + 2 * (gs - 1)), "control max on the group");

	/* A shift around the group's ring. */
	int to = (g.rank + 1) % g.size, from = (g.rank + g.size - 1) % g.size;
	int mine = r, got = -1;
	if ((rc = sb_comm_put(&g, buf, &mine, sizeof mine)) == 0 &&
	    (rc = g.be->sendrecv(&g, buf, to, buf2, from, sizeof mine)) == 0 &&
	    (rc = sb_comm_sync(&g)) == 0)
		rc = sb_comm_get(&g, &got, buf2, sizeof got);
	all_ok(rc == 0 && got == r % 2 + 2 * from, "send/recv around the group");
	all_ok(sb_ctl_barrier(&g) == 0, "barrier on the group");

	/* Gather on the group: group rank k sends k doubles of value k (rank 0 none). */
	double *mine_v = malloc(sizeof(double) * (size_t)(g.rank + 1));
	for (int i = 0; i < g.rank; i++)
		mine_v[i] = g.rank;
	size_t *lens = calloc((size_t)g.size, sizeof *lens);
	void *all = NULL;
	rc = sb_ctl_gather(&g, mine_v, sizeof(double) * (size_t)g.rank, &all, lens);
	int good = rc == 0;
	if (g.rank == 0) {
		const double *d = all;
		for (int k = 0, off = 0; good && k < g.size; off += k, k++) {
			good = lens[k] == sizeof(double) * (size_t)k;
			for (int i = 0; good && i < k; i++)
				good = d[off + i] == k;
		}
	} else {
		good = good && all == NULL;
	}
	all_ok(good, "binary gather on the group: lengths and bytes at its rank 0");
	free(all);
	free(lens);
	free(mine_v);

	/* A group of a group, and a bare color with keys that reverse the order. */
	rc = sb_comm_split(&g, 0, -g.rank, &h);
	all_ok(rc == 0 && h.size == g.size && h.rank == g.size - 1 - g.rank,
	       "split of a group by key: the order reversed");
	double one = 1;
	if ((rc = sb_comm_put(&h, buf, &one, sizeof one)) == 0 &&
	    (rc = h.be->allreduce(&h, buf, buf, 1, SB_DOUBLE, SB_SUM)) == 0 &&
	    (rc = sb_comm_sync(&h)) == 0)
		rc = sb_comm_get(&h, &one, buf, sizeof one);
	all_ok(rc == 0 && one == g.size, "all-reduce on the group's group");
	g.be->free(&g, buf);
	g.be->free(&g, buf2);
	sb_comm_free(&h);

	rc = sb_comm_split_by(&w, not_zero, NULL, &z);
	all_ok(rc == 0 && (r == 0 ? z.size == 0 && z.rank == -1 && z.priv == NULL
	                          : z.size == n - 1 && z.rank == r - 1),
	       "rank 0 in no group, the others in one");
	if (r != 0) {
		long long c = 1;
		sb_ctl_sum(&z, &c, 1);
		good = c == n - 1;
	} else {
		good = 1;
	}
	all_ok(good, "the group without rank 0 sums without it");
	sb_comm_free(&z);
	sb_comm_free(&g);
	all_ok(g.priv == NULL && g.size == 0, "freed");
}

static void test_gather_world(void)
{
	int n = w.size, r = w.rank;
	/* 1000 doubles from each rank: in pieces when SB_MPI_MAX_COUNT is below the total. */
	double *v = malloc(sizeof(double) * 1000);
	for (int i = 0; i < 1000; i++)
		v[i] = r * 1000 + i;
	size_t *lens = r == 0 ? calloc((size_t)n, sizeof *lens) : NULL;
	void *all = NULL;
	int rc = sb_ctl_gather(&w, v, sizeof(double) * 1000, &all, lens);
	int good = rc == 0;
	if (r == 0) {
		const double *d = all;
		for (int i = 0; good && i < n * 1000; i++)
			good = d[i] == i;
		for (int q = 0; good && q < n; q++)
			good = lens[q] == 8000;
	}
	all_ok(good, "binary gather of 8000 bytes per rank on the world");
	free(all);
	free(lens);
	free(v);
	rc = sb_ctl_gather(&w, NULL, 0, &all, r == 0 ? (size_t[64]){0} : NULL);
	all_ok(rc == 0 && (r == 0) == (all != NULL), "gather of nothing");
	free(all);
	char **sv = NULL;
	char text[32];
	snprintf(text, sizeof text, "rank %d", r);
	rc = sb_ctl_gatherv(&w, text, &sv);
	good = rc == 0 && (r == 0) == (sv != NULL);
	for (int q = 0; good && r == 0 && q < n; q++) {
		snprintf(text, sizeof text, "rank %d", q);
		good = strcmp(sv[q], text) == 0;
	}
	all_ok(good, "string gather on the world");
	sb_strv_free(sv, r == 0 ? n : 0);
}

/* Rank 0 sends every other rank a request and collects the answers as they come, never
 * blocking on one; the others answer. */
#define TAG_ASK 3
#define TAG_ANSWER 7

static void test_messages(void)
{
	int n = w.size, r = w.rank, rc = 0, good = 1;
	if (r == 0) {
		int *ask = calloc((size_t)n, sizeof *ask),
		    *answer = calloc((size_t)n, sizeof *answer);
		struct sb_req **sends = calloc((size_t)n, sizeof *sends),
		              **recvs = calloc((size_t)n, sizeof *recvs);
		for (int q = 1; q < n && rc == 0; q++) {
			ask[q] = 100 + q;
			if ((rc = sb_ctl_irecv(&w, &answer[q], sizeof answer[q], SB_ANY_SOURCE,
			                       TAG_ANSWER, &recvs[q])) == 0)
				rc =
				    sb_ctl_isend(&w, &ask[q], sizeof ask[q], q, TAG_ASK, &sends[q]);
		}
		int left = 2 * (n - 1), seen = 0;
		long polls = 0;
		while (rc == 0 && left > 0 && polls < 100000000L) {
			for (int q = 1; q < n && rc == 0; q++) {
				int done = 0;
				struct sb_status st;
				if (sends[q] &&
				    (rc = sb_ctl_test(&w, &sends[q], &done, &st)) == 0 && done) {
					left--;
					good = good && st.source == q && st.tag == TAG_ASK;
				}
				if (rc == 0 && recvs[q] &&
				    (rc = sb_ctl_test(&w, &recvs[q], &done, &st)) == 0 && done) {
					left--;
					/* Any source: the answer says who sent it. */
					good = good && st.tag == TAG_ANSWER &&
					       st.bytes == sizeof(int) &&
					       answer[q] == 1000 * st.source + 100 + st.source;
					seen |= 1 << (st.source % 30);
				}
			}
			polls++;
		}
		good = good && rc == 0 && left == 0;
		for (int q = 1; q < n && q < 30; q++)
			good = good && (seen >> q & 1);
		free(ask), free(answer), free(sends), free(recvs);
	} else {
		int ask = 0, answer;
		struct sb_req *req = NULL;
		struct sb_status st;
		if ((rc = sb_ctl_irecv(&w, &ask, sizeof ask, 0, TAG_ASK, &req)) == 0)
			rc = sb_ctl_wait(&w, &req, &st);
		good = rc == 0 && st.source == 0 && ask == 100 + r;
		answer = 1000 * r + ask;
		if (rc == 0 &&
		    (rc = sb_ctl_isend(&w, &answer, sizeof answer, 0, TAG_ANSWER, &req)) == 0)
			rc = sb_ctl_wait(&w, &req, NULL);
		good = good && rc == 0;
	}
	all_ok(good, "rank 0 feeds and collects from every rank, polling");

	/* A receive nobody sends to is withdrawn. */
	struct sb_req *req = NULL;
	int x;
	rc = sb_ctl_irecv(&w, &x, sizeof x, SB_ANY_SOURCE, 99, &req);
	all_ok(rc == 0 && sb_ctl_cancel(&w, &req) == 0 && req == NULL,
	       "cancel an unmatched receive");
	all_ok(sb_ctl_isend(&w, &x, sizeof x, n, 0, &req) == SB_EINVAL && req == NULL,
	       "a send to a rank outside the world is refused");

	/* Messages to itself. */
	int hello = 42 + r, back = 0;
	struct sb_req *s = NULL, *q = NULL;
	rc = sb_ctl_isend(&w, &hello, sizeof hello, r, 1, &s);
	if (rc == 0)
		rc = sb_ctl_irecv(&w, &back, sizeof back, r, 1, &q);
	if (rc == 0)
		rc = sb_ctl_wait(&w, &q, NULL);
	if (rc == 0)
		rc = sb_ctl_wait(&w, &s, NULL);
	all_ok(rc == 0 && back == 42 + r, "a message to itself");

	/* A message longer than the receive, around the world's ring (Open MPI truncates one
	 * that a rank sends itself without an error): an error, and the request is gone. */
	char big[64] = "", small[8];
	int next = (r + 1) % n, prev = (r + n - 1) % n;
	rc = sb_ctl_irecv(&w, small, sizeof small, prev, 2, &q);
	if (rc == 0)
		rc = sb_ctl_isend(&w, big, sizeof big, next, 2, &s);
	int wrc = rc ? rc : sb_ctl_wait(&w, &q, NULL);
	if (rc == 0)
		rc = sb_ctl_wait(&w, &s, NULL);
	all_ok(rc == 0 && (n == 1 || (wrc == SB_ECOMM && q == NULL)),
	       "truncation: an error, the request freed");
	sb_ctl_cancel(&w, &q);

	struct sb_comm g;
	rc = sb_comm_split_by(&w, strided, NULL, &g);
	int peer = (g.rank + 1) % g.size, src = (g.rank + g.size - 1) % g.size;
	/* A group's messages do not reach the world's receives. */
	int v = 5, got = -1, done = 0;
	struct sb_req *wq = NULL;
	rc = sb_ctl_irecv(&w, &got, sizeof got, SB_ANY_SOURCE, 4, &wq);
	if (rc == 0)
		rc = sb_ctl_isend(&g, &v, sizeof v, peer, 4, &s);
	if (rc == 0)
		rc = sb_ctl_irecv(&g, &got, sizeof got, src, 4, &q);
	if (rc == 0)
		rc = sb_ctl_wait(&g, &q, NULL);
	if (rc == 0)
		rc = sb_ctl_wait(&g, &s, NULL);
	if (rc == 0)
		rc = sb_ctl_test(&w, &wq, &done, NULL);
	all_ok(rc == 0 && got == 5 && !done, "a group's message stays in the group");
	sb_ctl_cancel(&w, &wq);
	sb_comm_free(&g);
}

static void test_clock(void)
{
	int n = w.size, r = w.rank;
	double off = -1, err = -1;
	int rc = sb_ctl_clock_offset(&w, n - 1, &off, &err);
	all_ok(rc == 0 && off == 0 && err == 0, "clock offset on one host: 0 without estimating");
	setenv("SB_CLOCK_ESTIMATE", "1", 1);
	off = 1, err = -1;
	rc = sb_ctl_clock_offset(&w, n - 1, &off, &err);
	/* One host, one clock (true offset 0): the estimate is within its stated bound, half the
	 * shortest round trip, of 0. */
	all_ok(rc == 0 &&
	           (r == n - 1 ? off == 0 && err == 0 : fabs(off) <= err && err > 0 && err < 1e-3),
	       "estimated offset to the last rank within its bound of 0, the bound > 0");
	if (r == 0)
		tap_diag("rank 0's estimated offset to rank %d: %.3g s, +- %.3g s", n - 1, off,
		         err);
	off = 1, err = -1;
	rc = sb_ctl_clock_offset_prev(&w, 1, &off, &err);
	all_ok(rc == 0 && (r == 0 ? off == 0 && err == 0 : fabs(off) <= err && err > 0),
	       "pairwise offsets within their bounds of 0");
	off = 1;
	rc = sb_ctl_clock_offset_prev(&w, 1, &off, NULL);
	all_ok(rc == 0 && fabs(off) < 1e-3, "pairwise offsets without asking for the bound");
	unsetenv("SB_CLOCK_ESTIMATE");
	struct sb_comm g;
	rc = sb_comm_split_by(&w, strided, NULL, &g);
	off = -1;
	if (rc == 0)
		rc = sb_ctl_clock_offset(&g, 0, &off, NULL);
	all_ok(rc == 0 && off == 0, "clock offset on a group");
	sb_comm_free(&g);
}

int main(int argc, char **argv)
{
	if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK"))
		tap_skip_all("run under mpirun (tests/split_mpi.t does)");
	char host[256];
	int rank, size;
	if (sb_world_init(&argc, &argv, SB_THREAD_SINGLE, &rank, &size, host, sizeof host))
		tap_bail("MPI init");
	if (rank != 0)
		tap_silence();
	tap_plan(PLAN);
	const char *name = getenv("SB_TEST_BACKEND");
	w.be = sb_backend_find(name && *name ? name : "mpi");
	w.device = -1;
	snprintf(w.host, sizeof w.host, "%s", host);
	if (!w.be || w.be->init(&w))
		tap_bail("backend %s", name && *name ? name : "mpi");
	all_ok(w.size == size && w.rank == rank, "the world");
	test_groups();
	test_gather_world();
	test_messages();
	test_clock();
	long long fails = tap_done();
	w.be->fini(&w);
	sb_world_fini();
	return (int)fails;
}
