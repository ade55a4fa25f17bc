/* Series, the seeded generator and a self-timed benchmark on the fake backend: values grow
 * and gather at rank 0 (the fake world holds rank 0's values on every simulated rank), their
 * summaries and record form; the same (seed, stream) gives the same numbers; and the groups
 * test benchmark, timed by itself on the virtual clock, split into groups, runs through the
 * driver to a record written by the generic writers. */
#include "bench.h"
#include "comm.h"
#include "driver.h"
#include "error.h"
#include "report.h"
#include "rng.h"
#include "series.h"
#include "tap.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAN 26

static const struct sb_backend *fake;

static void fake_world(struct sb_comm *c, const char *ranks)
{
	setenv("SB_FAKE_RANKS", ranks, 1);
	setenv("SB_FAKE_ALPHA", "9.5367431640625e-07", 1); /* 2^-20 s */
	setenv("SB_FAKE_BETA", "9.31322574615478515625e-10", 1); /* 2^-30 s per byte */
	unsetenv("SB_FAKE_NOISE");
	memset(c, 0, sizeof *c);
	c->be = fake;
	snprintf(c->host, sizeof c->host, "testhost");
	if (fake->init(c))
		tap_bail("fake backend init failed");
}

static void test_series(void)
{
	struct sb_comm c;
	fake_world(&c, "3");
	struct sb_series s[2];
	sb_series_init(&s[0], "a", "s");
	sb_series_init(&s[1], "b", "1");
	for (int i = 1; i <= 20; i++)
		sb_series_add(&s[0], i);
	sb_series_add(&s[1], 7);
	is_int((int)s[0].n, 20, "20 values added");
	struct sb_series_all all[2];
	is_int(sb_series_gather(&c, s, 2, all), 0, "gathered at rank 0");
	is_int((int)all[0].total, 60, "3 simulated ranks x 20 values");
	is_int((int)all[1].total, 3, "and 3 x 1 of the second series");
	ok(all[0].nranks == 3 && all[0].n[2] == 20 && all[0].off[2] == 40,
	   "per rank: counts and offsets");
	ok(all[0].pool[0] == 1 && all[0].pool[59] == 20 && all[1].pool[2] == 7,
	   "values in rank order");
	struct sb_summary sum;
	is_int(sb_series_summarize(all[0].pool, all[0].total, &sum), 0, "summarised");
	is_double(sum.p90, 18, 0, "p90 by the nearest-rank rule (rank 54 of 60)");
	is_double(sum.median, 10.5, 0, "median");
	json_t *j = sb_series_json("s", all[0].pool, all[0].total, 0);
	ok(json_integer_value(json_object_get(j, "n")) == 60 &&
	       json_real_value(json_object_get(json_object_get(j, "summary"), "p90")) == 18 &&
	       !json_object_get(j, "samples"),
	   "record form: n, summary with p90, no samples unless asked");
	json_decref(j);
	j = sb_series_json("s", NULL, 0, 1);
	ok(json_is_null(json_object_get(j, "summary")) &&
	       json_array_size(json_object_get(j, "samples")) == 0,
	   "an empty series: summary null");
	json_decref(j);
	sb_series_reset(&s[0]);
	is_int((int)s[0].n, 0, "reset empties it");
	for (int k = 0; k < 2; k++) {
		sb_series_all_free(&all[k]);
		sb_series_free(&s[k]);
	}
	fake->fini(&c);
}

static void test_rng(void)
{
	struct sb_rng a, b, d;
	sb_rng_seed(&a, 42, 3);
	sb_rng_seed(&b, 42, 3);
	sb_rng_seed(&d, 42, 4);
	int same = 1, differ = 0, in = 1;
	double mean = 0;
	for (int i = 0; i < 10000; i++) {
		uint64_t x = sb_rng_next(&a), y = sb_rng_next(&b), z = sb_rng_next(&d);
		same &= x == y;
		differ += x != z;
		double u = sb_rng_uniform(&a);
		(void)sb_rng_uniform(&b);
		in &= u >= 0 && u < 1;
		uint64_t k = sb_rng_below(&a, 6);
		(void)sb_rng_below(&b, 6);
		in &= k < 6;
		mean += sb_rng_exponential(&a, 2.0);
		(void)sb_rng_exponential(&b, 2.0);
	}
	ok(same, "the same seed and stream: the same sequence");
	ok(differ > 9990, "another stream: another sequence (%d of 10000 differ)", differ);
	ok(in, "uniform in [0, 1), below(6) in 0..5");
	ok(fabs(mean / 10000 - 2.0) < 0.1, "exponential of mean 2: %.3f", mean / 10000);
}

/* Run b through the driver on c with the NULL-terminated words after the command name (parsed
 * as scalebench would); *point gets the first point record (NULL if none). Returns the
 * driver's code; a parse error is a failed check. */
static int run_bench(const struct sb_bench *b, struct sb_comm *c, char **words,
                     struct sb_report *rep, json_t **point)
{
	const struct sb_opt *tables[] = {b->opts, sb_common_opts, NULL};
	char *argv[32] = {"t_series", (char *)b->name};
	int argc = 2;
	while (words[argc - 2] && argc < 31) {
		argv[argc] = words[argc - 2];
		argc++;
	}
	struct sb_args a;
	char err[256];
	*point = NULL;
	memset(rep, 0, sizeof *rep);
	int rc = sb_args_parse(&a, tables, argc, argv, 2, err, sizeof err);
	if (rc) {
		tap_diag("%s: %s", b->name, err);
		return rc;
	}
	char *recs = NULL;
	size_t len;
	rep->json = open_memstream(&recs, &len);
	rc = sb_driver_run(b, c, &a, rep);
	fclose(rep->json);
	for (const char *line = recs; line && *line && !*point;) {
		const char *eol = strchr(line, '\n');
		json_t *j = json_loadb(line, eol ? (size_t)(eol - line) : strlen(line), 0, NULL);
		const char *type = json_string_value(json_object_get(j, "type"));
		if (type && strcmp(type, "point") == 0)
			*point = j;
		else
			json_decref(j);
		line = eol ? eol + 1 : NULL;
	}
	free(recs);
	return rc;
}

static void test_groups(void)
{
	extern const struct sb_bench sb_bench_groups;
	struct sb_comm c;
	fake_world(&c, "4");
	char *words[] = {"-b", "64", "-e", "128", "--group", "2", "--series-samples", NULL};
	struct sb_report rep;
	json_t *p;
	int rc = run_bench(&sb_bench_groups, &c, words, &rep, &p);
	is_int(rc, 0, "groups on 4 simulated ranks: run");
	is_int((int)rep.points_at_duration, 2, "both points met the duration rule");
	json_t *g = json_object_get(json_object_get(p, "series"), "group_allreduce");
	double t = ldexp(1, -20) + 64 * ldexp(1, -30);
	is_string(json_string_value(json_object_get(json_object_get(p, "method"), "stop")),
	          SB_STOP_DURATION, "stop: min-duration");
	ok(json_integer_value(json_object_get(json_object_get(p, "params"), "group")) == 2,
	   "the benchmark's own parameter in params");
	ok(fabs(json_real_value(json_object_get(json_object_get(g, "summary"), "median")) - t) <
	       1e-8 * t,
	   "the series' median is the virtual all-reduce time within a group");
	ok(json_integer_value(json_object_get(g, "n")) >= 100 &&
	       json_array_size(json_object_get(g, "samples")) ==
	           (size_t)json_integer_value(json_object_get(g, "n")),
	   "at least 100 values, all in the record with --series-samples");
	json_decref(p);
	json_decref(rep.drift);
	fake->fini(&c);
}

/* The pipeline on the fake backend (2 simulated ranks, this process stage 0): its own timing
 * reads the virtual clock and its busy work advances it, so every step takes the same virtual
 * time and the recorded compute is exactly what was asked. */
static void test_pipeline_virtual(void)
{
	extern const struct sb_bench sb_bench_pipeline;
	struct sb_comm c;
	fake_world(&c, "2");
	char *words[] = {"--bytes", "1K", "--compute-us", "100", "--training",
	                 "--steps", "30", "-c",           "0",   NULL};
	struct sb_report rep;
	json_t *p;
	is_int(run_bench(&sb_bench_pipeline, &c, words, &rep, &p), 0,
	       "pipeline on the fake backend: run");
	json_t *su = json_object_get(p, "summary");
	double lo = json_real_value(json_object_get(su, "min")),
	       hi = json_real_value(json_object_get(su, "max"));
	ok(lo > 0 && lo == hi, "every step the same virtual time: %.9g .. %.9g s", lo, hi);
	double fwd = json_real_value(json_object_get(
	    json_array_get(json_object_get(json_object_get(p, "compute"), "stages"), 0),
	    "forward_s"));
	ok(fabs(fwd - 100e-6) < 1e-12, "stage 0's forward compute: 100 us of virtual time (%.9g)",
	   fwd);
	ok(lo >= 8 * 3 * 100e-6, "a step holds its 8 forwards and 8 backwards (%.9g s)", lo);
	json_decref(p);
	json_decref(rep.drift);
	fake->fini(&c);
}

int main(void)
{
	alarm(60);
	tap_plan(PLAN);
	fake = sb_backend_find("fake");
	if (!fake)
		tap_bail("no fake backend");
	test_series();
	test_rng();
	test_groups();
	test_pipeline_virtual();
	return tap_done();
}
