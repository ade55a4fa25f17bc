/* Importers (results/import.h) on hand-written logs in tests/fixtures/import, each following
 * its tool's documented output format:
 *
 *   nccl_all_reduce_2r.txt        nccl-tests 2.17 all_reduce_perf, 2 ranks on one host, checked,
 *                                 NCCL_DEBUG=INFO lines before the header
 *   nccl_all_reduce_c0.txt        the same with -c 0 (#wrong is N/A), ranks on two hosts
 *   nccl_sendrecv_perf.txt        sendrecv_perf from before 2.17: no version or name lines, so the
 *                                 name comes from the file name; old [0x..] bus ids
 *   nccl_all_reduce_truncated.txt killed mid-row: no trailer, last line cut, no newline
 *   nccl_all_reduce.json          -J output of an 8-rank run on two hosts, one line as written
 *   nccl_all_reduce_truncated.json  the same killed mid-result, never closed
 *   osu_latency.txt, osu_bw.txt, osu_allreduce.txt, osu_allreduce_full.txt (-f)
 *   osu_bibw_cuda.txt             -d cuda D D with -c: a Validation column, one row Fail
 *   bad_missing_column.txt        a row lost its last column (line 15)
 *   bad_text_number.txt           "abc" in the Min Latency column (line 10)
 *   random.json                   JSON that is not nccl-tests'
 * Empty, binary and other broken inputs are written to a scratch directory by the test.
 *
 * Fixtures are found under $SB_SOURCE_DIR/tests/fixtures/import, else next to this file, else
 * from the executable (<repo>/build*\/tests/import.t). */
#include "import.h"
#include "tap.h"

#include <dirent.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAN 243

static char fixdir[1024];
static char scratch[64];

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void find_fixtures(void)
{
	char cand[3][1024] = {"", "", ""}, file[1024], exe[1024];
	const char *src = getenv("SB_SOURCE_DIR");
	if (src && *src)
		snprintf(cand[0], sizeof cand[0], "%s/tests/fixtures/import", src);
	snprintf(file, sizeof file, "%s", __FILE__);
	snprintf(cand[1], sizeof cand[1], "%s/fixtures/import", dirname(file));
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(cand[2], sizeof cand[2], "%s/../../tests/fixtures/import", dirname(exe));
	}
	for (int i = 0; i < 3; i++) {
		char probe[1200];
		snprintf(probe, sizeof probe, "%.1000s/nccl_all_reduce_2r.txt", cand[i]);
		if (cand[i][0] && exists(probe)) {
			snprintf(fixdir, sizeof fixdir, "%.1000s", cand[i]);
			return;
		}
	}
	tap_bail("fixtures not found (set SB_SOURCE_DIR to the source tree)");
}

static const char *fx(const char *name)
{
	static char buf[4][1200];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", fixdir, name);
	return buf[k];
}

static const char *tmp_write(const char *name, const void *data, size_t len)
{
	static char buf[4][200];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", scratch, name);
	FILE *f = fopen(buf[k], "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		tap_bail("cannot write %s", buf[k]);
	return buf[k];
}

static const char *tmp_text(const char *name, const char *text)
{
	return tmp_write(name, text, strlen(text));
}

/* The value at a dotted path ("summary.mean", "metrics.algbw.value"), or NULL. */
static json_t *at(json_t *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *s = buf, *dot; o && s; s = dot) {
		dot = strchr(s, '.');
		if (dot)
			*dot++ = '\0';
		o = json_object_get(o, s);
	}
	return o;
}

static double num(json_t *o, const char *path)
{
	json_t *j = at(o, path);
	return json_is_number(j) ? json_number_value(j) : NAN;
}

static long long integer(json_t *o, const char *path)
{
	json_t *j = at(o, path);
	return json_is_integer(j) ? (long long)json_integer_value(j) : -999;
}

static const char *str(json_t *o, const char *path)
{
	const char *s = json_string_value(at(o, path));
	return s ? s : "(not a string)";
}

static int is_null(json_t *o, const char *path)
{
	return json_is_null(at(o, path));
}

/* Import a file that must import; the records, or bail. */
static json_t *load(const char *path, enum sbr_import_kind want)
{
	json_t *r = NULL;
	enum sbr_import_kind k = (enum sbr_import_kind) - 1;
	char err[512] = "";
	int rc = sbr_import(path, &r, &k, err, sizeof err);
	if (rc || !r)
		tap_bail("cannot import %s: %s", path, err);
	if (k != want)
		tap_diag("%s: kind %d, wanted %d", path, (int)k, (int)want);
	ok(k == want, "%s read as %s", strrchr(path, '/') + 1, sbr_import_kind_name(want));
	return r;
}

static json_t *point(json_t *r, size_t seq)
{
	return json_array_get(r, 1 + seq);
}

static json_t *end_of(json_t *r)
{
	return json_array_get(r, json_array_size(r) - 1);
}

/* Relative closeness for converted values (us -> s and so on). */
static void near(double got, double want, const char *what)
{
	is_double(got, want, fabs(want) * 1e-9 + 1e-18, "%s", what);
}

/* ---------------------------------------------------------------- nccl-tests text */

static void test_nccl_allreduce(void)
{
	json_t *r = load(fx("nccl_all_reduce_2r.txt"), SBR_IMPORT_NCCL_TEXT);
	json_t *run = json_array_get(r, 0);
	is_int(json_array_size(r), 20, "9 rows x 2 halves: run, 18 points, end");
	is_string(str(run, "type"), "run", "the first record is the run");
	is_int(integer(run, "schema"), 1, "schema 1");
	const char *id = str(run, "run_id");
	ok(strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32, "run_id: 32 hex digits (%s)",
	   id);
	is_string(str(run, "command"), "allreduce", "all_reduce_perf is our allreduce");
	ok(is_null(run, "start_time"), "no start time in a text log");
	is_string(str(run, "origin.tool"), "nccl-tests", "origin tool");
	is_string(str(run, "origin.format"), "text", "origin format");
	is_string(str(run, "origin.version"), "2.17.1", "nccl-tests version from its header");
	is_string(str(run, "origin.file"), fx("nccl_all_reduce_2r.txt"), "the file as given");
	is_string(str(run, "provenance.backend"), "nccl", "backend nccl");
	is_int(integer(run, "provenance.ranks"), 2, "ranks: two '#  Rank' lines");
	json_t *hosts = at(run, "provenance.hosts");
	is_int(json_array_size(hosts), 1, "one host");
	is_string(str(json_array_get(hosts, 0), "host"), "gpu-node-1", "its name");
	is_int(json_array_size(json_object_get(json_array_get(hosts, 0), "ranks")), 2,
	       "with both ranks");
	is_string(str(run, "provenance.gpu.name"), "NVIDIA H100 80GB HBM3", "GPU of rank 0");
	is_string(str(run, "provenance.gpu.pci_bus_id"), "0000:1b:00.0", "its bus id");
	is_string(str(run, "provenance.nccl_runtime"), "2.27.3", "nccl-library=22703");
	is_int(integer(run, "options.iterations"), 20, "iters from the nThread line");
	is_int(integer(run, "options.warmup_iters"), 5, "warmup iters");
	ok(is_null(run, "topology"), "no topology");

	/* line 20: 2097152 524288 float sum -1 | 52.31 40.09 40.09 0 | 52.02 40.31 40.31 0 */
	json_t *o = point(r, 12), *i = point(r, 13);
	is_string(str(o, "type"), "point", "a point");
	is_int(integer(o, "seq"), 12, "seq in order");
	is_string(str(o, "benchmark"), "allreduce", "benchmark");
	is_int(integer(o, "ranks"), 2, "point ranks");
	is_int(integer(o, "params.bytes"), 2097152, "bytes");
	is_int(integer(o, "params.count"), 524288, "count");
	is_string(str(o, "params.dtype"), "float", "dtype as printed");
	is_string(str(o, "params.op"), "sum", "op");
	ok(json_is_false(at(o, "params.inplace")), "the first half is out-of-place");
	ok(json_is_true(at(i, "params.inplace")), "the second half is in-place");
	is_string(str(o, "label"), "allreduce 2097152 B float sum out-of-place", "label");
	is_string(str(o, "unit"), "s", "unit s");
	is_int(json_array_size(at(o, "samples")), 0, "no samples: the tool keeps none");
	near(num(o, "summary.mean"), 52.31e-6, "out-of-place time 52.31 us in s");
	near(num(i, "summary.mean"), 52.02e-6, "in-place time 52.02 us in s");
	ok(is_null(o, "summary.median"), "no median");
	is_int(integer(o, "summary.n"), 20, "n: the iterations");
	near(num(o, "metrics.algbw.value"), 40.09e9, "algbw 40.09 GB/s in B/s");
	near(num(i, "metrics.busbw.value"), 40.31e9, "in-place busbw 40.31 GB/s in B/s");
	is_string(str(o, "metrics.algbw.unit"), "B/s", "bandwidth unit");
	is_string(str(o, "check.status"), "ok", "#wrong 0: ok");
	is_int(integer(i, "check.wrong"), 0, "wrong count");
	is_int(integer(o, "origin_row"), 20, "the source line");
	is_int(integer(i, "origin_row"), 20, "both halves from one line");

	json_t *last = point(r, 17);
	is_int(integer(last, "params.bytes"), 134217728, "last row: 128 MiB");
	near(num(last, "summary.mean"), 1665.90e-6, "1665.90 us");
	near(num(last, "metrics.busbw.value"), 80.57e9, "80.57 GB/s");
	is_string(str(end_of(r), "type"), "end", "the last record is the end");
	is_string(str(end_of(r), "status"), "ok", "complete: the trailer is there");
	is_int(integer(end_of(r), "points"), 18, "end counts the points");
	json_decref(r);
}

static void test_nccl_nocheck(void)
{
	json_t *r = load(fx("nccl_all_reduce_c0.txt"), SBR_IMPORT_NCCL_TEXT);
	json_t *run = json_array_get(r, 0);
	is_int(json_array_size(r), 20, "-c 0: still 18 points");
	is_string(str(point(r, 0), "check.status"), "off", "N/A: check off");
	ok(is_null(point(r, 0), "check.wrong"), "N/A: wrong null");
	is_string(str(point(r, 17), "check.status"), "off", "in-place too");
	near(num(point(r, 17), "summary.mean"), 1665.90e-6, "the time still read");
	is_int(json_array_size(at(run, "provenance.hosts")), 2, "two hosts");
	is_string(str(point(r, 0), "span"), "cross-host", "ranks on two hosts: cross-host");
	is_int(integer(run, "options.validation"), 0, "validation: 0");
	is_string(str(end_of(r), "status"), "ok", "complete");
	json_decref(r);
}

static void test_nccl_sendrecv(void)
{
	json_t *r = load(fx("nccl_sendrecv_perf.txt"), SBR_IMPORT_NCCL_TEXT);
	json_t *run = json_array_get(r, 0);
	is_int(json_array_size(r), 10, "4 rows: 8 points");
	is_string(str(run, "command"), "sendrecv", "name from the file name (the log has none)");
	is_string(str(point(r, 0), "benchmark"), "sendrecv", "point benchmark");
	ok(is_null(run, "origin.version"), "no version line");
	is_string(str(run, "provenance.gpu.name"), "Tesla V100-SXM2-32GB", "GPU name");
	ok(!at(run, "provenance.gpu.pci_bus_id"), "[0x07] is no full bus id");
	/* 131072 32768 float none -1 | 27.62 4.75 4.75 0 | 27.48 4.77 4.77 0 */
	json_t *o = point(r, 4), *i = point(r, 5);
	is_int(integer(o, "params.bytes"), 131072, "bytes");
	is_string(str(o, "params.op"), "-", "redop none: -");
	near(num(o, "summary.mean"), 27.62e-6, "27.62 us");
	near(num(o, "metrics.algbw.value"), 4.75e9, "algbw");
	near(num(o, "metrics.busbw.value"), 4.75e9, "busbw = algbw for sendrecv");
	near(num(i, "summary.mean"), 27.48e-6, "in-place 27.48 us");
	is_string(str(i, "label"), "sendrecv 131072 B float in-place", "label without an op");
	is_string(str(end_of(r), "status"), "ok", "complete");
	json_decref(r);
}

static void test_nccl_truncated(void)
{
	json_t *r = load(fx("nccl_all_reduce_truncated.txt"), SBR_IMPORT_NCCL_TEXT);
	is_int(json_array_size(r), 12, "5 whole rows: 10 points, the cut row dropped");
	is_string(str(end_of(r), "status"), "incomplete-import", "marked incomplete");
	ok(strstr(str(end_of(r), "message"), "cut short") != NULL, "saying why: %s",
	   str(end_of(r), "message"));
	is_int(integer(point(r, 9), "params.bytes"), 32768, "the last whole row");
	ok(json_is_true(at(point(r, 9), "params.inplace")), "its in-place half");
	json_decref(r);

	/* the cut after a whole row: no trailer is enough */
	static const char head[] =
	    "# nThread 1 nGpus 1 minBytes 8 maxBytes 64 step: 2(factor) warmup iters: 5 iters: 20 "
	    "agg iters: 1 validation: 1 graph: 0\n"
	    "#  Rank  0 Group  0 Pid   1 on h device  0 [0000:1b:00] GPU\n"
	    "#       size         count      type   redop    root     time   algbw   busbw  #wrong "
	    "    time   algbw   busbw  #wrong\n"
	    "           8             2     float     sum      -1     5.00    0.00    0.00       0 "
	    "    5.00    0.00    0.00       0\n";
	r = load(tmp_text("all_reduce_perf.log", head), SBR_IMPORT_NCCL_TEXT);
	is_string(str(end_of(r), "status"), "incomplete-import", "no trailer: incomplete");
	is_string(str(json_array_get(r, 0), "command"), "allreduce", "name from the file name");
	is_string(str(point(r, 0), "span"), "self", "one rank: self");
	json_decref(r);
}

/* Columns nccl-tests adds with options: -S timestamps, per-iteration statistics. */
static void test_nccl_columns(void)
{
	static const char ts[] =
	    "# Collective test starting: all_gather_perf\n"
	    "# nThread 1 nGpus 1 minBytes 1024 maxBytes 1024 step: 2(factor) warmup iters: 5 "
	    "iters: 20 agg iters: 1 validation: 1 graph: 0\n"
	    "#       size         count      type   redop    root     time   algbw   busbw  #wrong "
	    "    time   algbw   busbw  #wrong           timestamp\n"
	    "        1024           128     float    none      -1    12.00    0.09    0.08       0 "
	    "   11.00    0.09    0.08       2  2025-06-02 14:03:17\n"
	    "# Out of bounds values : 2 FAILED\n# Avg bus bandwidth    : 0.08 \n";
	json_t *r = load(tmp_text("ts.txt", ts), SBR_IMPORT_NCCL_TEXT);
	is_int(json_array_size(r), 4, "a timestamped row: 2 points");
	is_string(str(point(r, 0), "benchmark"), "all_gather", "other names kept");
	near(num(point(r, 1), "summary.mean"), 11e-6, "in-place time before the timestamp");
	is_string(str(point(r, 1), "check.status"), "failed", "#wrong 2: failed");
	is_int(integer(point(r, 1), "check.wrong"), 2, "2 wrong");
	is_string(str(end_of(r), "status"), "check-failed", "the run reports the failure");
	json_decref(r);

	static const char pi[] =
	    "# Collective test starting: all_reduce_perf\n"
	    "# nThread 1 nGpus 1 minBytes 1024 maxBytes 1024 step: 2(factor) warmup iters: 5 "
	    "iters: 20 agg iters: 1 validation: 0 graph: 0\n"
	    "#       size         count      type   redop    root     time   algbw   busbw  #wrong "
	    "  i_min    i_max    i_p99    i_cv%     time   algbw   busbw  #wrong    i_min    i_max "
	    "   i_p99    i_cv%\n"
	    "        1024           256     float     sum      -1    12.00    0.09    0.09     N/A "
	    "  10.00    20.00    19.00     5.00    11.00    0.09    0.09     N/A    9.00    18.00 "
	    "   17.00     4.00\n"
	    "# Avg bus bandwidth    : 0.09 \n";
	r = load(tmp_text("periter.txt", pi), SBR_IMPORT_NCCL_TEXT);
	is_int(json_array_size(r), 4, "per-iteration columns: 2 points");
	near(num(point(r, 0), "summary.min"), 10e-6, "i_min");
	near(num(point(r, 1), "summary.max"), 18e-6, "in-place i_max");
	near(num(point(r, 1), "summary.p99"), 17e-6, "in-place i_p99");
	near(num(point(r, 0), "summary.cov"), 0.05, "i_cv% as a fraction");
	json_decref(r);
}

/* ---------------------------------------------------------------- nccl-tests -J */

static void test_nccl_json(void)
{
	json_t *r = load(fx("nccl_all_reduce.json"), SBR_IMPORT_NCCL_JSON);
	json_t *run = json_array_get(r, 0);
	is_int(json_array_size(r), 8, "3 results x 2 halves");
	is_string(str(run, "origin.format"), "json", "origin format json");
	is_string(str(run, "command"), "allreduce", "name from args[0]");
	is_string(str(run, "start_time"), "2025-06-02T14:03:17", "start time from the file");
	is_int(json_array_size(at(run, "argv")), 11, "argv from args");
	is_int(integer(run, "provenance.ranks"), 8, "8 devices");
	is_int(json_array_size(at(run, "provenance.hosts")), 2, "on two hosts");
	is_string(str(run, "provenance.nccl_runtime"), "2.27.3", "nccl_version 22703");
	is_string(str(run, "provenance.gpu.name"), "NVIDIA H200", "device_info");
	json_t *o = point(r, 0), *i = point(r, 5);
	near(num(o, "summary.mean"), 30.512e-6, "time 30.512 us");
	near(num(o, "metrics.algbw.value"), 34.366020e9, "alg_bw in B/s");
	near(num(o, "metrics.busbw.value"), 60.140535e9, "bus_bw in B/s");
	is_int(integer(o, "summary.n"), 50, "actual_iterations");
	is_string(str(o, "check.status"), "ok", "nwrong 0: ok");
	ok(json_is_true(at(i, "params.inplace")), "in_place");
	is_int(integer(i, "params.bytes"), 134217728, "size");
	near(num(i, "summary.mean"), 1668.512e-6, "in-place time");
	is_string(str(end_of(r), "status"), "ok", "complete");
	is_string(str(end_of(r), "end_time"), "2025-06-02T14:03:25", "end time");
	json_decref(r);

	/* The peer's environment under the provenance rule, as ours: tuning kept, a per-job key,
	 * daemon URIs and other variables dropped, credentials redacted. */
	json_t *doc = json_load_file(fx("nccl_all_reduce.json"), 0, NULL);
	json_object_set_new(doc, "env",
	                    json_pack("[s,s,s,s,s,s,s,i]", "NCCL_IB_HCA=mlx5_0:1",
	                              "OMPI_MCA_orte_precondition_transports=0123abcd4567ef89-fedc",
	                              "PMIX_SERVER_URI2=pmix-server.1234;tcp4://127.0.0.1:4411",
	                              "HOME=/root", "NCCL_NET_TOKEN=hunter2", "NCCL_ALGO=Ring",
	                              "no equals sign", 7));
	const char *envf = tmp_text("env.json", "");
	json_dump_file(doc, envf, JSON_COMPACT);
	json_decref(doc);
	r = load(envf, SBR_IMPORT_NCCL_JSON);
	json_t *env = at(json_array_get(r, 0), "provenance.env");
	char *got = json_dumps(env, JSON_SORT_KEYS | JSON_COMPACT);
	is_string(got,
	          "{\"NCCL_ALGO\":\"Ring\",\"NCCL_IB_HCA\":\"mlx5_0:1\",\"NCCL_NET_TOKEN\":"
	          "\"<redacted>\"}",
	          "imported env: tuning kept, per-job key and the rest dropped, a token redacted");
	free(got);
	json_decref(r);

	r = load(fx("nccl_all_reduce_truncated.json"), SBR_IMPORT_NCCL_JSON);
	is_int(json_array_size(r), 6, "never closed: the two whole results, 4 points");
	is_string(str(end_of(r), "status"), "incomplete-import", "marked incomplete");
	near(num(point(r, 3), "summary.mean"), 233.201e-6, "the last whole half");
	json_decref(r);

	/* pretty-printed (jq), -c 0 (nwrong null), NaN written as "nan", per-iteration samples */
	static const char pretty[] =
	    "{\n  \"version\": 2,\n  \"args\": [\"./sendrecv_perf\"],\n  \"results\": [\n"
	    "    {\"size\": 1024, \"count\": 256, \"type\": \"float\", \"redop\": \"none\",\n"
	    "     \"root\": \"    -1\", \"out_of_place\": {\"time\": 10.0, \"alg_bw\": 0.1,\n"
	    "     \"bus_bw\": 0.1, \"nwrong\": null},\n"
	    "     \"out_of_place_per_iter\": {\"min_us\": 9.0, \"p50_us\": 10.0, \"times_us\": "
	    "[9.0, 10.0, 11.0]},\n"
	    "     \"in_place\": {\"time\": \"nan\", \"alg_bw\": 0, \"bus_bw\": 0, \"nwrong\": 0}}\n"
	    "  ],\n  \"average_bus_bandwidth\": {\"bandwidth\": 0.1, \"okay\": \"unchecked\"}\n}\n";
	r = load(tmp_text("pretty.json", pretty), SBR_IMPORT_NCCL_JSON);
	is_int(json_array_size(r), 4, "pretty-printed: 2 points");
	is_string(str(point(r, 0), "benchmark"), "sendrecv", "sendrecv");
	is_string(str(point(r, 0), "check.status"), "off", "nwrong null: off");
	is_int(integer(point(r, 0), "origin_row"), 5, "the line the result starts on");
	is_int(json_array_size(at(point(r, 0), "samples")), 3, "per-iteration times as samples");
	near(json_number_value(json_array_get(at(point(r, 0), "samples"), 2)), 11e-6,
	     "samples in s");
	near(num(point(r, 0), "summary.median"), 10e-6, "p50 as the median");
	ok(is_null(point(r, 1), "summary.mean"), "\"nan\": null");
	json_decref(r);
}

/* ---------------------------------------------------------------- OSU Micro-Benchmarks */

static void test_osu(void)
{
	json_t *r = load(fx("osu_latency.txt"), SBR_IMPORT_OSU_TEXT);
	json_t *run = json_array_get(r, 0);
	is_int(json_array_size(r), 16, "osu_latency: 14 points");
	is_string(str(run, "command"), "latency", "osu_latency is latency");
	is_string(str(run, "origin.tool"), "osu-micro-benchmarks", "origin tool");
	is_string(str(run, "origin.version"), "7.4", "version from the title");
	is_string(str(run, "provenance.backend"), "mpi", "host memory: mpi");
	is_int(integer(run, "provenance.ranks"), 2, "osu_latency: two ranks");
	is_int(integer(point(r, 0), "params.bytes"), 0, "first size 0");
	json_t *p = point(r, 13);
	is_int(integer(p, "params.bytes"), 4096, "last size 4096");
	near(num(p, "summary.mean"), 5.21e-6, "5.21 us");
	is_string(str(p, "params.dtype"), "byte", "bytes");
	ok(json_is_false(at(p, "params.inplace")), "not in place");
	ok(is_null(p, "summary.n"), "iterations not shown");
	is_string(str(p, "check.status"), "off", "no validation: off");
	is_int(integer(p, "origin_row"), 17, "source line");
	json_decref(r);

	r = load(fx("osu_bw.txt"), SBR_IMPORT_OSU_TEXT);
	is_int(json_array_size(r), 25, "osu_bw: 23 points");
	is_string(str(json_array_get(r, 0), "command"), "bandwidth", "osu_bw is bandwidth");
	p = point(r, 22);
	is_int(integer(p, "params.bytes"), 4194304, "4 MiB");
	near(num(p, "metrics.bandwidth.value"), 12397.40e6, "12397.40 MB/s in B/s");
	is_string(str(p, "metrics.bandwidth.unit"), "B/s", "unit");
	ok(is_null(p, "summary.mean"), "a bandwidth test has no time");
	json_decref(r);

	r = load(fx("osu_bibw_cuda.txt"), SBR_IMPORT_OSU_TEXT);
	run = json_array_get(r, 0);
	is_string(str(run, "command"), "bibw", "Bi-Directional Bandwidth is bibw");
	is_string(str(run, "provenance.backend"), "mpi-gpu", "device buffers: mpi-gpu");
	is_string(str(run, "provenance.buffers.send"), "device", "send buffer on the device");
	is_string(str(run, "provenance.accelerator"), "CUDA", "MPI-CUDA");
	is_string(str(point(r, 0), "check.status"), "ok", "Pass: ok");
	is_string(str(point(r, 2), "check.status"), "failed", "Fail: failed");
	near(num(point(r, 2), "metrics.bandwidth.value"), 38211.70e6, "bibw in B/s");
	is_string(str(end_of(r), "status"), "check-failed", "end: check-failed");
	json_decref(r);

	r = load(fx("osu_allreduce.txt"), SBR_IMPORT_OSU_TEXT);
	is_int(json_array_size(r), 21, "osu_allreduce: 19 points");
	is_string(str(json_array_get(r, 0), "command"), "allreduce", "allreduce");
	p = point(r, 8);
	is_int(integer(p, "params.bytes"), 1024, "1 KiB");
	near(num(p, "summary.mean"), 8.86e-6, "8.86 us");
	is_string(str(p, "params.op"), "sum", "MPI_SUM");
	ok(is_null(p, "ranks"), "ranks not in the log");
	json_decref(r);

	r = load(fx("osu_allreduce_full.txt"), SBR_IMPORT_OSU_TEXT);
	is_int(json_array_size(r), 21, "-f: 19 points");
	p = point(r, 18);
	is_int(integer(p, "params.bytes"), 1048576, "1 MiB");
	near(num(p, "summary.mean"), 3497.50e-6, "avg");
	near(num(p, "summary.min"), 3182.72e-6, "min");
	near(num(p, "summary.max"), 3952.17e-6, "max");
	is_int(integer(p, "summary.n"), 100, "Iterations");
	is_int(integer(point(r, 0), "summary.n"), 1000, "more iterations for small sizes");
	json_decref(r);

	/* tail percentiles (a single blank before "P99 ..."), an MPI datatype, and the job dying */
	static const char tail[] =
	    "# OSU MPI Allgather Latency Test v7.4\n"
	    "# Datatype: MPI_INT.\n"
	    "# Size       Avg Latency(us)  P50 Tail Lat(us) P99 Tail Lat(us)\n"
	    "4                       3.00              2.90             "
	    "4.10\n"
	    "8                       3.10              3.00             "
	    "4.20\n"
	    "3 total processes killed (some possibly by mpirun during "
	    "cleanup)\n";
	r = load(tmp_text("tail.txt", tail), SBR_IMPORT_OSU_TEXT);
	is_int(json_array_size(r), 4, "the launcher's line is no row");
	is_string(str(point(r, 1), "benchmark"), "allgather", "allgather");
	near(num(point(r, 1), "summary.median"), 3.00e-6, "P50 as the median");
	near(num(point(r, 1), "summary.p99"), 4.20e-6, "P99");
	is_string(str(point(r, 1), "params.dtype"), "int", "MPI_INT: int");
	is_int(integer(point(r, 1), "params.count"), 2, "8 B of int: 2");
	is_string(str(end_of(r), "status"), "incomplete-import", "the job died: incomplete");
	json_decref(r);

	/* one-sided tests name the call in the title's family */
	static const char put[] = "# OSU MPI_Put Bandwidth Test v7.4\n"
	                          "# Window creation: MPI_Win_allocate\n"
	                          "# Synchronization: MPI_Win_flush\n"
	                          "# Size      Bandwidth (MB/s)\n"
	                          "1                       1.25\n";
	r = load(tmp_text("put.txt", put), SBR_IMPORT_OSU_TEXT);
	is_string(str(point(r, 0), "benchmark"), "put_bw", "MPI_Put Bandwidth is put_bw");
	is_string(str(point(r, 0), "backend"), "mpi", "backend mpi");
	near(num(point(r, 0), "metrics.bandwidth.value"), 1.25e6, "1.25 MB/s");
	json_decref(r);
}

/* ---------------------------------------------------------------- ids */

static const char *run_id(const char *path, char *buf, size_t len)
{
	json_t *r = NULL;
	char err[256];
	snprintf(buf, len, "(failed)");
	if (sbr_import(path, &r, NULL, err, sizeof err) == 0)
		snprintf(buf, len, "%s", str(json_array_get(r, 0), "run_id"));
	json_decref(r);
	return buf;
}

static void test_ids(void)
{
	char a[40], b[40], c[40], d[40];
	run_id(fx("osu_allreduce.txt"), a, sizeof a);
	run_id(fx("osu_allreduce.txt"), b, sizeof b);
	is_string(a, b, "the same log twice: the same run_id");
	run_id(fx("osu_allreduce_full.txt"), c, sizeof c);
	ok(strcmp(a, c) != 0, "a different log: a different run_id");
	run_id(fx("nccl_all_reduce.json"), c, sizeof c);
	run_id(fx("nccl_all_reduce_truncated.json"), d, sizeof d);
	ok(strcmp(c, d) != 0, "a log and its truncated copy differ");

	FILE *f = fopen(fx("osu_allreduce.txt"), "rb");
	char buf[4096];
	size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
	if (f)
		fclose(f);
	run_id(tmp_write("copy.txt", buf, n), d, sizeof d);
	is_string(d, a, "a copy elsewhere: the same run_id (content, not path)");
	buf[n - 3] = buf[n - 3] == '5' ? '6' : '5';
	run_id(tmp_write("edited.txt", buf, n), d, sizeof d);
	ok(strcmp(d, a) != 0, "one digit changed: a different run_id");
}

/* ---------------------------------------------------------------- bad input */

static void bad(const char *path, const char *where, const char *what)
{
	json_t *r = (json_t *)1;
	char err[512] = "";
	int rc = sbr_import(path, &r, NULL, err, sizeof err);
	is_int(rc, SB_EINPUT, "%s: SB_EINPUT", what);
	ok(strstr(err, where) != NULL, "%s: the message names \"%s\": %s", what, where, err);
	ok(r == NULL, "%s: no records", what);
}

static void test_bad(void)
{
	bad(fx("bad_missing_column.txt"), "bad_missing_column.txt:15:", "a row missing a column");
	bad(fx("bad_text_number.txt"), "bad_text_number.txt:10:", "text in a number column");
	bad(tmp_text("empty.txt", ""), "empty.txt:1:", "an empty file");
	bad(tmp_text("blank.txt", "\n  \n\n"), "blank.txt:1:", "a file of blank lines");
	bad(fx("random.json"), "random.json:1:", "JSON that is not nccl-tests'");
	static const unsigned char bin[] = {0x7f, 'E',  'L',  'F',  '\n', 0x02, 0x01,
	                                    '\n', 0x01, 0x00, 0x00, 0xff, 0xfe, '\n'};
	bad(tmp_write("binary.bin", bin, sizeof bin), "binary.bin:3:", "a binary file");
	bad(tmp_text("broken.json", "{\"version\": 1,\n\"args\": [\"x\",\n}\n"),
	    "broken.json:3:", "broken JSON");
	bad(tmp_text("notes.txt", "results of monday\nall good\n"),
	    "notes.txt:1:", "text that is neither log");
	bad(tmp_text("norows.txt", "# Collective test starting: all_reduce_perf\n"
	                           "#       size         count      type   redop    root     time "
	                           "  algbw   busbw  #wrong     time   algbw   busbw  #wrong\n"),
	    "norows.txt:2:", "a header and no rows");
	bad(tmp_text("noresults.json", "{\"version\":1,\"results\":[]}"),
	    "noresults.json:1:", "-J with no results");
	bad(tmp_text("badtime.json", "{\"results\":[{\"size\":8,\"count\":2,\"out_of_place\":"
	                             "{\"time\":\"fast\",\"alg_bw\":1,\"bus_bw\":1}}]}"),
	    "badtime.json:1:", "-J with a time that is no number");
	bad(tmp_text("cutearly.json", "{\"version\":1,\"start_time\":\"2025-06-02 14:03:17\","
	                              "\"results\":[{\"size\":8,\"cou"),
	    "cutearly.json:1:", "-J cut inside its first result");
	bad(tmp_text("osubad.txt", "# OSU MPI Latency Test v7.4\n# Size          Latency (us)\n"
	                           "1                       1.50\n"
	                           "2                       1.50      1.70\n"
	                           "4                       1.60\n"),
	    "osubad.txt:4:", "an OMB row with a column too many");
	bad("/nonexistent/dir/log.txt", "/nonexistent/dir/log.txt", "a missing file");
	bad(scratch, scratch, "a directory");
}

/* Everything the test wrote: the scratch directory and its files. */
static void cleanup(void)
{
	DIR *d = opendir(scratch);
	struct dirent *e;
	char p[400];
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", scratch, e->d_name);
			remove(p);
		}
	if (d)
		closedir(d);
	rmdir(scratch);
}

int main(void)
{
	find_fixtures();
	snprintf(scratch, sizeof scratch, "/tmp/sb-import-XXXXXX");
	if (!mkdtemp(scratch))
		tap_bail("cannot make a scratch directory");
	tap_plan(PLAN);
	test_nccl_allreduce();
	test_nccl_nocheck();
	test_nccl_sendrecv();
	test_nccl_truncated();
	test_nccl_columns();
	test_nccl_json();
	test_osu();
	test_ids();
	test_bad();
	cleanup();
	return tap_done();
}
