/* The control plane and sub-communicators on the fake backend (no MPI): splits by a color
 * function and by a bare color, the data path and the virtual clock of a group, the binary
 * gather, non-blocking messages (echoed by their destination) with test, wait and cancel,
 * and clock offsets. tests/comm_mpi.t runs the same kinds of calls on the mpi backend. */
#include "comm.h"
#include "error.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN 101

static const struct sb_backend *fake;

/* 2^-20 s per operation, 2^-30 s per byte: clock sums are exact. */
#define ALPHA 9.5367431640625e-07
#define BETA 9.31322574615478515625e-10

static int world(struct sb_comm *c, const char *ranks)
{
	setenv("SB_FAKE_RANKS", ranks, 1);
	setenv("SB_FAKE_ALPHA", "9.5367431640625e-07", 1);
	setenv("SB_FAKE_BETA", "9.31322574615478515625e-10", 1);
	memset(c, 0, sizeof *c);
	c->be = fake;
	snprintf(c->host, sizeof c->host, "testhost");
	return fake->init(c);
}

static int pairs(int rank, void *arg)
{
	return rank / *(int *)arg;
}

static int evens_only(int rank, void *arg)
{
	(void)arg;
	return rank % 2 ? SB_COMM_UNDEFINED : 0;
}

static int not_zero(int rank, void *arg)
{
	(void)arg;
	return rank == 0 ? SB_COMM_UNDEFINED : 1;
}

static void test_split(void)
{
	struct sb_comm w, g, h, all, none;
	int two = 2;
	if (world(&w, "6"))
		tap_bail("fake init");
	is_int(sb_comm_split_by(&w, pairs, &two, &g), 0, "split_by rank / 2");
	is_int(g.size, 2, "the group has the color function's size");
	is_int(g.rank, 0, "this process is rank 0 of its group");
	ok(g.be == w.be && strcmp(g.host, "testhost") == 0, "same backend and host as the parent");

	/* All-reduce on the group: every simulated member holds this rank's data. */
	double v[4] = {1, 2, 3, 4}, t0 = sb_comm_now(&w);
	is_int(g.be->allreduce(&g, v, v, 4, SB_DOUBLE, SB_SUM), 0, "all-reduce on the group");
	ok(v[0] == 2 && v[3] == 8, "sums over the group's 2 ranks (%g %g)", v[0], v[3]);
	is_double(sb_comm_now(&g) - t0, ALPHA + BETA * 32, 0, "the operation's cost on the clock");
	is_double(sb_comm_now(&w), sb_comm_now(&g), 0, "one virtual clock for parent and group");
	is_int(w.be->allreduce(&w, v, v, 4, SB_DOUBLE, SB_SUM), 0, "all-reduce on the parent");
	ok(v[0] == 12, "sums over its 6 ranks (%g)", v[0]);
	is_int(g.be->sendrecv(&g, v, 1, v + 2, 1, 16), 0, "send/recv on the group");
	is_int(sb_ctl_barrier(&g), 0, "barrier on the group");

	/* A group of the group, and a bare color (every simulated rank passes it). */
	is_int(sb_comm_split(&g, 0, 0, &h), 0, "split of a group");
	is_int(h.size, 2, "a bare color keeps the whole parent");
	is_int(sb_comm_split(&w, 3, 9, &all), 0, "bare color on the world");
	is_int(all.size, 6, "the whole world");
	is_int(sb_comm_split_by(&w, evens_only, NULL, &none), 0,
	       "split_by with odd ranks in no group");
	is_int(none.size, 3, "3 even ranks");
	sb_comm_free(&none);
	is_int(sb_comm_split_by(&w, not_zero, NULL, &none), 0, "rank 0 in no group");
	is_int(none.size, 0, "no group: size 0");
	is_int(none.rank, -1, "no group: rank -1");
	ok(none.priv == NULL, "no group: nothing held");
	sb_comm_free(&none);
	is_int(sb_comm_split(&w, SB_COMM_UNDEFINED, 0, &none), 0, "bare undefined color");
	is_int(none.size, 0, "no group");
	sb_comm_free(&none);
	is_int(sb_comm_split(&w, 1, 0, &w), SB_EINVAL, "a child must not be its parent");

	/* The parent may go first: the clock lives until its last communicator. */
	sb_comm_free(&h);
	sb_comm_free(&all);
	fake->fini(&w);
	t0 = sb_comm_now(&g);
	is_int(g.be->allreduce(&g, v, v, 1, SB_DOUBLE, SB_SUM), 0, "the group outlives its parent");
	is_double(sb_comm_now(&g) - t0, ALPHA + BETA * 8, 0, "and its clock still runs");
	sb_comm_free(&g);
	ok(g.priv == NULL && g.size == 0, "freed");
}

static void test_gather(void)
{
	struct sb_comm w, g;
	int three = 3;
	if (world(&w, "6"))
		tap_bail("fake init");
	double mine[3] = {1.5, -2, 1e300};
	size_t lens[6] = {0};
	void *all = NULL;
	is_int(sb_ctl_gather(&w, mine, sizeof mine, &all, lens), 0, "gather 24 bytes");
	int same = all != NULL;
	for (int r = 0; same && r < 6; r++)
		same =
		    lens[r] == sizeof mine && memcmp((char *)all + r * sizeof mine, mine, 24) == 0;
	ok(same, "every simulated rank's copy, in rank order, with its length");
	free(all);
	is_int(sb_ctl_gather(&w, NULL, 0, &all, lens), 0, "gather nothing");
	ok(all != NULL && lens[0] == 0 && lens[5] == 0, "an empty buffer and zero lengths");
	free(all);
	is_int(sb_ctl_gather(&w, mine, 8, &all, NULL), SB_EINVAL, "rank 0 needs the lengths");
	ok(all == NULL, "and gets no buffer without them");

	is_int(sb_comm_split_by(&w, pairs, &three, &g), 0, "groups of 3");
	size_t gl[3] = {0};
	is_int(sb_ctl_gather(&g, mine, 16, &all, gl), 0, "gather on the group");
	ok(all && gl[0] == 16 && gl[2] == 16 && memcmp((char *)all + 32, mine, 16) == 0,
	   "3 ranks' 16 bytes");
	free(all);

	char **sv = NULL;
	is_int(sb_ctl_gatherv(&g, "text", &sv), 0, "string gather on the group");
	ok(sv && strcmp(sv[2], "text") == 0, "3 strings");
	sb_strv_free(sv, g.size);
	double mx[2] = {1, 2};
	long long sm[2] = {3, 4};
	is_int(sb_ctl_max(&g, mx, 2), 0, "max");
	is_int(sb_ctl_sum(&g, sm, 2), 0, "sum");
	ok(mx[1] == 2 && sm[1] == 4, "one process's values stay as they are");
	sb_comm_free(&g);
	fake->fini(&w);
}

static void test_messages(void)
{
	struct sb_comm w, g;
	struct sb_req *s = NULL, *r = NULL, *r2 = NULL;
	struct sb_status st;
	int done = -1, two = 2;
	char in[16] = "", in2[16] = "";
	if (world(&w, "4"))
		tap_bail("fake init");

	double t0 = sb_comm_now(&w);
	is_int(sb_ctl_isend(&w, "hello", 6, 3, 5, &s), 0, "send to rank 3, tag 5");
	is_double(sb_comm_now(&w) - t0, ALPHA + BETA * 6, 0,
	          "a message costs alpha + beta x bytes");
	is_int(sb_ctl_test(&w, &s, &done, &st), 0, "test the send");
	ok(done && s == NULL, "a send completes at once and is freed");
	ok(st.source == 3 && st.tag == 5 && st.bytes == 6, "its status: destination, tag, length");
	is_int(sb_ctl_irecv(&w, in, sizeof in, 3, 5, &r), 0, "receive from rank 3, tag 5");
	is_int(sb_ctl_wait(&w, &r, &st), 0, "wait for it");
	is_string(in, "hello", "rank 3 echoed the message");
	ok(r == NULL && st.source == 3 && st.tag == 5 && st.bytes == 6,
	   "status: source, tag, length");

	/* A receive posted first, matched by a later send; another tag does not match. */
	is_int(sb_ctl_irecv(&w, in, sizeof in, SB_ANY_SOURCE, 9, &r), 0,
	       "receive any source, tag 9");
	is_int(sb_ctl_test(&w, &r, &done, &st), 0, "test before any send");
	ok(!done && r != NULL, "not done");
	is_int(sb_ctl_isend(&w, "other", 6, 1, 8, &s), 0, "send tag 8");
	sb_ctl_wait(&w, &s, NULL);
	is_int(sb_ctl_test(&w, &r, &done, &st), 0, "test again");
	ok(!done, "tag 8 does not match tag 9");
	is_int(sb_ctl_isend(&w, "nine", 5, 2, 9, &s), 0, "send tag 9 to rank 2");
	sb_ctl_wait(&w, &s, NULL);
	is_int(sb_ctl_test(&w, &r, &done, &st), 0, "test");
	ok(done && st.source == 2 && strcmp(in, "nine") == 0, "matched from rank 2 (%d)",
	   st.source);
	is_int(sb_ctl_irecv(&w, in, sizeof in, 1, SB_ANY_TAG, &r), 0, "any tag from rank 1");
	is_int(sb_ctl_wait(&w, &r, &st), 0, "wait");
	ok(st.tag == 8 && strcmp(in, "other") == 0, "the tag 8 message");

	/* Order: receives matched in the order posted, messages in the order sent. */
	sb_ctl_irecv(&w, in, sizeof in, SB_ANY_SOURCE, SB_ANY_TAG, &r);
	sb_ctl_irecv(&w, in2, sizeof in2, SB_ANY_SOURCE, SB_ANY_TAG, &r2);
	sb_ctl_isend(&w, "first", 6, 1, 1, &s);
	sb_ctl_wait(&w, &s, NULL);
	sb_ctl_isend(&w, "second", 7, 1, 1, &s);
	sb_ctl_wait(&w, &s, NULL);
	is_int(sb_ctl_wait(&w, &r2, &st), 0, "wait for the second receive first");
	is_string(in2, "second", "it has the second message");
	is_int(sb_ctl_wait(&w, &r, &st), 0, "then the first");
	is_string(in, "first", "which has the first");

	/* Zero bytes, a message to itself. */
	sb_ctl_isend(&w, NULL, 0, 0, 0, &s);
	sb_ctl_wait(&w, &s, NULL);
	is_int(sb_ctl_irecv(&w, NULL, 0, 0, 0, &r), 0, "empty message to itself");
	is_int(sb_ctl_wait(&w, &r, &st), 0, "received");
	ok(st.source == 0 && st.bytes == 0, "from rank 0, 0 bytes");

	/* Errors. */
	is_int(sb_ctl_irecv(&w, in, sizeof in, 2, 4, &r), 0, "a receive nothing will match");
	is_int(sb_ctl_wait(&w, &r, &st), SB_ECOMM, "waiting for it is an error, not a hang");
	is_int(sb_ctl_cancel(&w, &r), 0, "cancel it: withdrawn");
	ok(r == NULL, "and freed");
	sb_ctl_irecv(&w, in, 2, 1, 3, &r);
	sb_ctl_isend(&w, "toolong", 8, 1, 3, &s);
	ok(s != NULL, "the send completes whatever the receive");
	sb_ctl_wait(&w, &s, NULL);
	is_int(sb_ctl_wait(&w, &r, &st), SB_ECOMM, "a message longer than the receive: an error");
	ok(r == NULL && strncmp(in, "to", 2) == 0,
	   "it completed all the same, with the first bytes");
	sb_ctl_irecv(&w, in, sizeof in, 1, 3, &r);
	sb_ctl_test(&w, &r, &done, &st);
	ok(!done, "the message was taken");
	sb_ctl_cancel(&w, &r);
	is_int(sb_ctl_isend(&w, "x", 1, 4, 0, &s), SB_EINVAL, "no rank 4 in a world of 4");
	is_int(sb_ctl_isend(&w, "x", 1, 1, SB_TAG_MAX + 1, &s), SB_EINVAL, "tag beyond SB_TAG_MAX");
	is_int(sb_ctl_isend(&w, "x", 1, SB_ANY_SOURCE, 0, &s), SB_EINVAL, "no send to any");
	ok(s == NULL, "no request after an error");
	is_int(sb_ctl_test(&w, &s, &done, &st), 0, "test a NULL request");
	ok(done && st.source == SB_NO_PEER, "complete, from nobody");
	sb_ctl_irecv(&w, in, sizeof in, 1, 7, &r);
	sb_ctl_isend(&w, "late", 5, 1, 7, &s);
	sb_ctl_wait(&w, &s, NULL);
	is_int(sb_ctl_cancel(&w, &r), 1, "cancel a receive already matched: 1");
	is_string(in, "late", "its buffer holds the message");
	is_int(sb_ctl_isend(&w, "y", 2, 1, 6, &s), 0, "a send");
	is_int(sb_ctl_cancel(&w, &s), 1, "cancelling a send completes it");

	/* A group's messages are its own. */
	is_int(sb_comm_split_by(&w, pairs, &two, &g), 0, "groups of 2");
	sb_ctl_isend(&g, "grp", 4, 1, 11, &s);
	sb_ctl_wait(&g, &s, NULL);
	sb_ctl_irecv(&w, in, sizeof in, 1, 11, &r);
	sb_ctl_test(&w, &r, &done, &st);
	ok(!done, "the world does not see the group's message");
	sb_ctl_cancel(&w, &r);
	is_int(sb_ctl_irecv(&g, in, sizeof in, 1, 11, &r), 0, "the group's receive");
	is_int(sb_ctl_wait(&g, &r, &st), 0, "gets it");
	is_int(sb_ctl_isend(&g, "x", 1, 2, 0, &s), SB_EINVAL, "no rank 2 in a group of 2");
	sb_ctl_isend(&g, "left", 5, 1, 0, &s); /* queued at the end: freed with the group */
	sb_ctl_wait(&g, &s, NULL);
	sb_comm_free(&g);
	fake->fini(&w);
}

static void test_clock(void)
{
	struct sb_comm w;
	double off = -1, err = -1;
	if (world(&w, "3"))
		tap_bail("fake init");
	is_int(sb_ctl_clock_offset(&w, 2, &off, &err), 0, "clock offset to rank 2");
	is_double(off, 0, 0, "one clock: 0");
	is_double(err, 0, 0, "nothing estimated: no error");
	off = -1;
	is_int(sb_ctl_clock_offset(&w, 3, &off, NULL), SB_EINVAL, "no rank 3");
	off = -1, err = -1;
	is_int(sb_ctl_clock_offset_prev(&w, 1, &off, &err), 0, "pairwise offsets");
	is_double(off, 0, 0, "0");
	is_double(err, 0, 0, "0 error");
	ok(w.be->ctl->abort == NULL, "no abort in a one-process world");
	sb_ctl_abort(&w, 3); /* returns */
	fake->fini(&w);
}

int main(void)
{
	tap_plan(PLAN);
	fake = sb_backend_find("fake");
	if (!fake)
		tap_bail("no fake backend");
	test_split();
	test_gather();
	test_messages();
	test_clock();
	return tap_done();
}
