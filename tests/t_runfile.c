/* The run file: JSON Lines written record by record, read back with jansson; unique names for
 * runs started in the same second; failures to create; random ids; and the point record built
 * from a hand-made result. */
#include "bench.h"
#include "comm.h"
#include "driver.h"
#include "error.h"
#include "report.h"
#include "runfile.h"
#include "stats.h"
#include "tap.h"

#include <ftw.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAN 59

static char top[64]; /* the scratch directory, removed at the end */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Every line of path, parsed; NULL when a line is not JSON. *nlines counts the lines. */
static json_t *read_lines(const char *path, size_t *nlines, int *ascii_only, int *newline_ended)
{
	FILE *f = fopen(path, "r");
	*nlines = 0;
	*ascii_only = 1;
	*newline_ended = 1;
	if (!f)
		return NULL;
	json_t *all = json_array();
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		(*nlines)++;
		if (line[len - 1] != '\n')
			*newline_ended = 0;
		for (ssize_t i = 0; i < len; i++)
			if ((unsigned char)line[i] >= 0x80)
				*ascii_only = 0;
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		if (!j) {
			tap_diag("line %zu is not JSON: %s", *nlines, je.text);
			json_decref(all);
			all = NULL;
			break;
		}
		json_array_append_new(all, j);
	}
	free(line);
	fclose(f);
	return all;
}

static void test_round_trip(void)
{
	char dir[256], err[512] = "";
	snprintf(dir, sizeof dir, "%s/nested/deeper/runs", top);
	struct sb_runfile *rf = sb_runfile_open(dir, "unit", "host-1", err, sizeof err);
	ok(rf != NULL, "open in a nested directory that does not exist yet (%s)", err);
	if (!rf) {
		tap_skip(12, "no run file");
		return;
	}
	const char *path = sb_runfile_path(rf);
	char prefix[300];
	snprintf(prefix, sizeof prefix, "%s/unit-", dir);
	ok(strncmp(path, prefix, strlen(prefix)) == 0, "path %s is <dir>/<stem>-...", path);
	ok(strstr(path, "-host-1-") != NULL, "the host is in the name");
	size_t pl = strlen(path);
	ok(pl > 6 && strcmp(path + pl - 6, ".jsonl") == 0, "the name ends in .jsonl");
	ok(is_file(path), "the file exists right after open");

	/* Strings that need escaping, integers beyond 2^53, reals with at most 9 significant
	 * digits (what the writer keeps), nesting, booleans and null. */
	json_t *rec[4];
	rec[0] = json_pack("{s:s,s:s,s:I,s:i}", "type", "run", "text",
	                   "quote \" backslash \\ newline \n tab \t bell \x07 e-acute \xc3\xa9 "
	                   "check \xe2\x9c\x93",
	                   "big", (json_int_t)9007199254740993LL, "neg", -7);
	rec[1] = json_pack("{s:s,s:f,s:f,s:f,s:[i,[i,[f,s]],{s:n}],s:b,s:b}", "type", "point", "x",
	                   0.5, "y", 1.25e-06, "z", -3.14159265, "arr", 1, 2, 3.5, "four", "k", "t",
	                   1, "f", 0);
	rec[2] = json_pack("{s:s}", "key with \"quotes\"\nand a newline", "value");
	rec[3] = json_object();
	int wrc = 0;
	for (int i = 0; i < 4; i++)
		wrc |= sb_runfile_write(rf, rec[i]);
	is_int(wrc, 0, "four records written");

	/* Flushed record by record: the lines are there before close. */
	size_t n;
	int ascii, nl;
	json_t *early = read_lines(path, &n, &ascii, &nl);
	is_int(n, 4, "four lines on disk before close");
	json_decref(early);

	char saved[4096];
	snprintf(saved, sizeof saved, "%s", path);
	is_int(sb_runfile_close(rf), 0, "close");

	json_t *back = read_lines(saved, &n, &ascii, &nl);
	is_int(n, 4, "one line per record");
	ok(back != NULL, "every line is one JSON document");
	ok(nl, "every line ends in a newline");
	ok(ascii, "the file is ASCII (non-ASCII characters escaped)");
	int same = back && json_array_size(back) == 4;
	for (size_t i = 0; same && i < 4; i++)
		if (!json_equal(json_array_get(back, i), rec[i])) {
			char *s = json_dumps(json_array_get(back, i), 0);
			tap_diag("record %zu came back as %s", i, s);
			free(s);
			same = 0;
		}
	ok(same, "every record reads back equal to what was written");
	json_decref(back);
	for (int i = 0; i < 4; i++)
		json_decref(rec[i]);
}

static void test_unique_names(void)
{
	char dir[256], err[512] = "";
	snprintf(dir, sizeof dir, "%s/same", top);
	/* Same directory, stem, host and process, within the same second (almost surely; if the
	 * second turns between two opens the names differ anyway). */
	struct sb_runfile *rf[3];
	char path[3][4096];
	for (int i = 0; i < 3; i++) {
		rf[i] = sb_runfile_open(dir, "twin", "hostA", err, sizeof err);
		snprintf(path[i], sizeof path[i], "%s", rf[i] ? sb_runfile_path(rf[i]) : "");
	}
	ok(rf[0] && rf[1] && rf[2], "three opens with the same stem and host succeed (%s)", err);
	ok(strcmp(path[0], path[1]) && strcmp(path[1], path[2]) && strcmp(path[0], path[2]),
	   "three different names");
	for (int i = 0; i < 3; i++) {
		if (!rf[i])
			continue;
		json_t *r = json_pack("{s:i}", "which", i);
		sb_runfile_write(rf[i], r);
		json_decref(r);
		sb_runfile_close(rf[i]);
	}
	/* Each file holds its own record: no open truncated another's file. */
	int good = 1;
	for (int i = 0; i < 3; i++) {
		size_t n;
		int ascii, nl;
		json_t *b = read_lines(path[i], &n, &ascii, &nl);
		if (!is_file(path[i]) || !b || n != 1 ||
		    json_integer_value(json_object_get(json_array_get(b, 0), "which")) != i) {
			tap_diag("%s does not hold record %d", path[i], i);
			good = 0;
		}
		json_decref(b);
	}
	ok(good, "all three files exist, each with its own record");

	/* A host name cannot put the file elsewhere: unsafe characters become '_'. */
	struct sb_runfile *w = sb_runfile_open(dir, "odd", "../a b/c", err, sizeof err);
	ok(w != NULL, "open with an odd host name (%s)", err);
	if (w) {
		char p[4096], d[4096];
		snprintf(p, sizeof p, "%s", sb_runfile_path(w));
		snprintf(d, sizeof d, "%s", p);
		is_string(dirname(d), dir, "the file is in the directory asked for");
		ok(strstr(p, "a_b_c") != NULL, "'/' and ' ' in the host became '_' (%s)", p);
		sb_runfile_close(w);
	} else {
		tap_skip(2, "no run file");
	}
}

static void test_unwritable(void)
{
	char file[256], dir[300], err[512];
	snprintf(file, sizeof file, "%s/plain", top);
	FILE *f = fopen(file, "w");
	if (f)
		fclose(f);

	/* A directory below a regular file cannot exist. */
	snprintf(dir, sizeof dir, "%s/sub/dir", file);
	err[0] = '\0';
	struct sb_runfile *rf = sb_runfile_open(dir, "x", "h", err, sizeof err);
	ok(rf == NULL, "open under a regular file: NULL");
	ok(err[0] != '\0', "with a message: %s", err);
	ok(strstr(err, "plain/sub") != NULL, "the message names the path");
	if (rf)
		sb_runfile_close(rf);

	/* The directory itself is a regular file. */
	err[0] = '\0';
	rf = sb_runfile_open(file, "x", "h", err, sizeof err);
	ok(rf == NULL, "open with a regular file as the directory: NULL");
	ok(err[0] != '\0', "with a message: %s", err);
	if (rf)
		sb_runfile_close(rf);

	/* A read-only directory (root ignores the mode, so only as another user). */
	if (geteuid() == 0) {
		tap_skip(2, "running as root: permissions are not enforced");
		return;
	}
	snprintf(dir, sizeof dir, "%s/readonly", top);
	mkdir(dir, 0555);
	err[0] = '\0';
	rf = sb_runfile_open(dir, "x", "h", err, sizeof err);
	ok(rf == NULL, "open in a read-only directory: NULL");
	ok(err[0] != '\0', "with a message: %s", err);
	if (rf)
		sb_runfile_close(rf);
}

static void test_ids(void)
{
	char a[33], b[33];
	memset(a, 'x', sizeof a);
	memset(b, 'x', sizeof b);
	sb_random_id(a);
	sb_random_id(b);
	is_int(strnlen(a, sizeof a), 32, "an id is 32 characters, NUL-terminated");
	ok(strspn(a, "0123456789abcdef") == 32, "an id is lower-case hex: %s", a);
	ok(strspn(b, "0123456789abcdef") == 32, "so is the next: %s", b);
	ok(strcmp(a, b) != 0, "two ids differ");

	char now[64];
	sb_utc_now(now, sizeof now);
	/* 2026-11-23T01:02:03.123456Z */
	int y, mo, d, h, mi, s, us;
	char z = 0;
	int k = sscanf(now, "%4d-%2d-%2dT%2d:%2d:%2d.%6d%c", &y, &mo, &d, &h, &mi, &s, &us, &z);
	ok(k == 8 && z == 'Z' && strlen(now) == 27, "UTC time as ISO 8601 with microseconds: %s",
	   now);
}

static void test_point_record(void)
{
	const struct sb_backend *be = sb_backend_find("fake");
	const struct sb_bench *b = sb_bench_find("allreduce");
	ok(be != NULL && b != NULL, "the fake backend and the allreduce benchmark exist");
	if (!be || !b) {
		tap_skip(27, "missing fake backend or allreduce");
		return;
	}
	setenv("SB_FAKE_RANKS", "4", 1);
	struct sb_comm c = {.be = be};
	is_int(be->init(&c), 0, "fake backend init");
	unsetenv("SB_FAKE_RANKS");
	is_int(c.size, 4, "4 simulated ranks");

	struct sb_point pt = {.bytes = 1024, .count = 256, .dtype = SB_FLOAT, .op = "sum"};
	snprintf(pt.label, sizeof pt.label, "allreduce 1024 B float out-of-place");
	/* Ten samples 1..10 us: median 5.5 us; CI ranks for n = 10: sqrt 10 = 3.1623,
	 * 1.96 sqrt 10 = 6.1981, lo = floor(3.8019 / 2 = 1.90) = 1, hi = ceil(1 + 16.198 / 2 =
	 * 9.10) = 10. algbw = 1024 / 5.5e-6 B/s, busbw = algbw x 2 x 3 / 4. */
	double samples[10], scratch[10];
	for (int i = 0; i < 10; i++)
		samples[i] = (10 - i) * 1e-6;
	struct sb_point_result r = {.point = &pt, .samples = samples, .n = 10, .warmup_done = 3};
	r.stop = SB_STOP_PRECISION;
	sb_stats_summarize(samples, 10, scratch, &r.summary);
	r.rel_ci = sb_stats_rel_ci_halfwidth(&r.summary);
	r.elapsed = 55e-6;
	struct sb_ctx x = {.comm = &c};
	b->metrics(&x, &pt, &r.summary, &r.metrics);
	r.checks_done = 1;
	struct sb_method m = {.warmup = 3, .precision = 0.02, .max_time = 1, .max_iters = 100};

	json_t *rec = sb_point_record(b, &c, &m, &r, 7, "same-numa");
	ok(json_is_object(rec), "a point record");
	json_t *params = json_object_get(rec, "params");
	json_t *meth = json_object_get(rec, "method");
	json_t *sam = json_object_get(rec, "samples");
	json_t *sum = json_object_get(rec, "summary");
	json_t *busbw = json_object_get(json_object_get(rec, "metrics"), "busbw");
	json_t *chk = json_object_get(rec, "check");
	is_string(json_string_value(json_object_get(rec, "type")), "point", "type: point");
	is_int(json_integer_value(json_object_get(rec, "seq")), 7, "seq");
	is_string(json_string_value(json_object_get(rec, "benchmark")), "allreduce", "benchmark");
	is_string(json_string_value(json_object_get(rec, "backend")), "fake", "backend");
	is_int(json_integer_value(json_object_get(rec, "ranks")), 4, "ranks");
	is_int(json_integer_value(json_object_get(params, "bytes")), 1024, "params.bytes");
	is_int(json_integer_value(json_object_get(params, "count")), 256, "params.count");
	is_string(json_string_value(json_object_get(params, "dtype")), "float", "params.dtype");
	is_string(json_string_value(json_object_get(params, "op")), "sum", "params.op");
	ok(json_is_false(json_object_get(params, "inplace")), "params.inplace: false");
	is_string(json_string_value(json_object_get(meth, "stop")), "precision", "method.stop");
	is_int(json_integer_value(json_object_get(meth, "iterations")), 10, "method.iterations");
	is_int(json_integer_value(json_object_get(meth, "warmup")), 3, "method.warmup");
	is_int(json_array_size(sam), 10, "samples: 10 of them");
	int in_order = json_array_size(sam) == 10;
	for (size_t i = 0; in_order && i < 10; i++)
		in_order = json_real_value(json_array_get(sam, i)) == samples[i];
	ok(in_order, "samples in measurement order");
	is_int(json_integer_value(json_object_get(sum, "n")), 10, "summary.n");
	is_double(json_real_value(json_object_get(sum, "median")), 5.5e-6, 1e-18, "summary.median");
	json_t *ranks = json_object_get(sum, "median_ci95_ranks");
	ok(json_integer_value(json_array_get(ranks, 0)) == 1 &&
	       json_integer_value(json_array_get(ranks, 1)) == 10,
	   "summary.median_ci95_ranks: [1, 10]");
	is_double(json_real_value(json_object_get(busbw, "value")), 1024 / 5.5e-6 * 2 * 3 / 4, 1e-3,
	          "metrics.busbw.value = algbw x 2(n-1)/n");
	is_string(json_string_value(json_object_get(busbw, "unit")), "B/s", "metrics.busbw.unit");
	is_string(json_string_value(json_object_get(chk, "status")), "ok", "check.status: ok");
	json_decref(rec);

	/* Wrong elements: failed. No check iterations: off. No CI: null. */
	r.wrong = 3;
	rec = sb_point_record(b, &c, &m, &r, 8, NULL);
	is_string(json_string_value(json_object_get(json_object_get(rec, "check"), "status")),
	          "failed", "check.status: failed when elements were wrong");
	json_decref(rec);
	r.wrong = 0;
	r.checks_done = 0;
	r.n = 5;
	sb_stats_summarize(samples, 5, scratch, &r.summary);
	r.rel_ci = sb_stats_rel_ci_halfwidth(&r.summary);
	rec = sb_point_record(b, &c, &m, &r, 9, NULL);
	is_string(json_string_value(json_object_get(json_object_get(rec, "check"), "status")),
	          "off", "check.status: off without check iterations");
	ok(json_is_null(json_object_get(json_object_get(rec, "summary"), "median_ci95")),
	   "summary.median_ci95: null for n=5");
	json_decref(rec);
	be->fini(&c);
}

int main(void)
{
	tap_plan(PLAN);
	snprintf(top, sizeof top, "/tmp/sb-t-runfile.XXXXXX");
	if (!mkdtemp(top))
		tap_bail("mkdtemp failed");
	test_round_trip();
	test_unique_names();
	test_unwritable();
	test_ids();
	test_point_record();
	nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
