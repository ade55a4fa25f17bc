/* The claims (results/claims.h): the shipped claims file reads and every quote in it is the
 * seed's text at its offset and line; malformed claims files, one kind at a time, give one
 * message naming the file, the claim and the field; the verdict logic with hand-made numbers,
 * every verdict including INCONCLUSIVE; each measure on hand-made runs.
 *
 * The source tree is $SB_SOURCE_DIR, else the parent of this file's folder, else found from the
 * executable (<repo>/build*\/tests/claims.t). The seeds are read from ../shared/seeds beside the
 * source tree when it is there (and the copy in tests/fixtures/seeds must equal them), else from
 * the copy. */
#include "claims.h"
#include "tap.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAN 145

static char src[1024], seeds[1200], copies[1200], scratch[64];

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void find_source(void)
{
	char cand[3][1024] = {"", "", ""}, file[1024], exe[1024];
	const char *env = getenv("SB_SOURCE_DIR");
	if (env && *env)
		snprintf(cand[0], sizeof cand[0], "%s", env);
	snprintf(file, sizeof file, "%s", __FILE__);
	snprintf(cand[1], sizeof cand[1], "%s/..", dirname(file));
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(cand[2], sizeof cand[2], "%s/../..", dirname(exe));
	}
	for (int i = 0; i < 3; i++) {
		char probe[1200];
		snprintf(probe, sizeof probe, "%.1000s/results/claims/claims.json", cand[i]);
		if (cand[i][0] && exists(probe)) {
			snprintf(src, sizeof src, "%.1000s", cand[i]);
			snprintf(copies, sizeof copies, "%s/tests/fixtures/seeds", src);
			snprintf(seeds, sizeof seeds, "%s/../shared/seeds", src);
			if (!exists(seeds))
				snprintf(seeds, sizeof seeds, "%s", copies);
			return;
		}
	}
	tap_bail("source tree not found (set SB_SOURCE_DIR)");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap + 1);
	size_t got;
	while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *nb = realloc(b, 2 * cap + 1);
			if (!nb) {
				free(b);
				b = NULL;
			}
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (b)
		b[n] = '\0';
	*len = n;
	return b;
}

static int ws(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* Is q the seed's text at character offset off (code points, UTF-8), on line `line`? A run of
 * white space in q stands for a run in the seed (results/claims/README.md); why not, in why. */
static int quote_at(const char *seed, size_t len, long off, long line, const char *q, char *why,
                    size_t wlen)
{
	size_t b = 0;
	long chars = 0, lines = 1;
	while (b < len && chars < off) {
		if (seed[b] == '\n')
			lines++;
		/* A character starts at every byte that is not a continuation byte. */
		b++;
		while (b < len && ((unsigned char)seed[b] & 0xc0) == 0x80)
			b++;
		chars++;
	}
	if (chars != off || b >= len) {
		snprintf(why, wlen, "offset %ld is past the seed's end", off);
		return 0;
	}
	if (lines != line) {
		snprintf(why, wlen, "offset %ld is on line %ld, not %ld", off, lines, line);
		return 0;
	}
	const char *s = seed + b, *end = seed + len;
	for (const char *p = q; *p;) {
		if (ws(*p)) {
			if (s >= end || !ws(*s))
				break;
			while (ws(*p))
				p++;
			while (s < end && ws(*s))
				s++;
		} else if (s < end && *s == *p) {
			s++;
			p++;
		} else {
			snprintf(why, wlen, "differs at quote character %ld: seed has \"%.30s\"",
			         (long)(p - q), s);
			return 0;
		}
	}
	return 1;
}

/* ---- malformed files ---- */

/* A valid claims file of two claims, with `field` of claim C02 replaced by `value` (raw JSON;
 * NULL removes it). */
static void write_broken(const char *path, const char *field, const char *value)
{
	json_t *root = json_loads(
	    "{\"schema\": 1, \"claims\": ["
	    "{\"id\": \"C01\", \"quote\": \"q\", \"offset\": 0, \"line\": 1, \"seed\": \"s.txt\","
	    " \"verbatim\": true, \"class\": \"U\", \"metric\": \"none\", \"scope\": \"x\","
	    " \"reference\": null, \"kind\": \"untestable\", \"rationale\": \"r\"},"
	    "{\"id\": \"C02\", \"quote\": \"q\", \"offset\": 10, \"line\": 2, \"seed\": \"s.txt\","
	    " \"more_quotes\": [{\"quote\": \"p\", \"offset\": 20, \"line\": 3}],"
	    " \"verbatim\": true, \"class\": \"T\", \"metric\": \"infer.ttft_p99\", \"scope\": "
	    "\"x\","
	    " \"reference\": {\"value\": 5, \"lower\": null, \"upper\": 0, \"unit\": \"ms\"},"
	    " \"kind\": \"direct\", \"rationale\": \"r\"}]}",
	    0, NULL);
	json_t *c = json_array_get(json_object_get(root, "claims"), 1);
	if (field) {
		json_t *v = value ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;
		/* A dotted name reaches into an object or the first more_quotes item. */
		const char *dot = strchr(field, '.');
		json_t *o = c;
		char key[64];
		snprintf(key, sizeof key, "%s", field);
		if (dot) {
			key[dot - field] = '\0';
			o = json_object_get(c, key);
			if (json_is_array(o))
				o = json_array_get(o, 0);
			snprintf(key, sizeof key, "%s", dot + 1);
		}
		if (v)
			json_object_set_new(o, key, v);
		else
			json_object_del(o, key);
	}
	json_dump_file(root, path, JSON_INDENT(1));
	json_decref(root);
}

/* The file must fail to load with one line naming the file, `who` ("claim C02") and `what`. */
static void broken(const char *field, const char *value, const char *who, const char *what,
                   const char *desc)
{
	char path[128], err[512] = "";
	snprintf(path, sizeof path, "%s/broken.json", scratch);
	write_broken(path, field, value);
	struct sbr_claims cl;
	int rc = sbr_claims_load(path, &cl, err, sizeof err);
	int good = rc == SB_EINPUT && strstr(err, path) && strstr(err, who) && strstr(err, what) &&
	           !strchr(err, '\n');
	if (!ok(good, "%s: one message naming the file, %s and %s", desc, who, what))
		tap_diag("rc %d, message: %s", rc, err);
	if (rc == 0)
		sbr_claims_free(&cl);
}

/* ---- hand-made runs ---- */

/* A run: GPU name (NULL: none), MPI library, start time, NCCL_NET_GDR_LEVEL (NULL: unset),
 * topology hosts, and its point records (a JSON array's text). */
static int mkrun(struct sbr_run *r, const char *gpu, const char *mpi, const char *start,
                 const char *gdr, int hosts, const char *points)
{
	static int serial;
	char id[40];
	snprintf(id, sizeof id, "hand%04d", ++serial);
	json_t *prov = json_pack("{s:s}", "mpi_library", mpi);
	if (gpu)
		json_object_set_new(prov, "gpu", json_pack("{s:s}", "name", gpu));
	if (gdr)
		json_object_set_new(prov, "env", json_pack("{s:s}", "NCCL_NET_GDR_LEVEL", gdr));
	json_t *h = json_array();
	for (int i = 0; i < hosts; i++)
		json_array_append_new(
		    h, json_pack("{s:s,s:i,s:i}", "host", i ? "h1" : "h0", "cores", 8, "gpus", 1));
	json_t *run = json_pack("{s:s,s:i,s:s,s:s,s:s,s:o,s:{s:o}}", "type", "run", "schema", 1,
	                        "run_id", id, "command", "x", "start_time", start, "provenance",
	                        prov, "topology", "hosts", h);
	json_error_t je;
	json_t *pts = json_loads(points, 0, &je);
	if (!run || !pts) {
		tap_diag("mkrun: %s", je.text);
		return -1;
	}
	json_t *recs = json_array();
	json_array_append_new(recs, run);
	size_t i;
	json_t *p;
	json_array_foreach(pts, i, p)
	{
		json_object_set_new(p, "type", json_string("point"));
		json_array_append(recs, p);
	}
	json_array_append_new(recs, json_pack("{s:s,s:s}", "type", "end", "status", "ok"));
	json_decref(pts);
	char err[256];
	char path[32];
	snprintf(path, sizeof path, "hand-%d.jsonl", serial);
	int rc = sbr_run_from_records(path, recs, r, err, sizeof err);
	json_decref(recs);
	if (rc)
		tap_diag("mkrun: %s", err);
	return rc;
}

/* An infer point: TTFT p50 and its interval, p99 (negative: not reported, n requests), TPOT
 * p50, all-reduce share, tp, span. */
static void infer_point(char *buf, size_t len, double p50, double lo, double hi, double p99, int n,
                        double tpot, double share, int tp, const char *span)
{
	char p99s[32];
	if (p99 < 0)
		snprintf(p99s, sizeof p99s, "null");
	else
		snprintf(p99s, sizeof p99s, "%g", p99);
	snprintf(
	    buf, len,
	    "{\"benchmark\": \"infer\", \"backend\": \"mpi\", \"ranks\": 4, \"label\": \"inf\","
	    " \"span\": \"%s\", \"params\": {\"bytes\": 0, \"tp\": %d, \"rate\": 10},"
	    " \"summary\": {\"median\": 1}, \"metrics\": {\"allreduce_share\": {\"value\": %g},"
	    " \"tpot_p50\": {\"value\": %g}},"
	    " \"series\": {\"ttft\": {\"unit\": \"s\", \"summary\": {\"median\": %g,"
	    " \"median_ci95\": [%g, %g]}}},"
	    " \"infer\": {\"latency\": {\"ttft\": {\"n\": %d, \"p50\": %g, \"p99\": %s,"
	    " \"p99_missing\": %d}}}}",
	    span, tp, share, tpot, p50, lo, hi, n, p50, p99s, n >= 662 ? 0 : 662 - n);
}

static const struct sbr_claim_result *find(const struct sbr_claim_result *r, size_t n,
                                           const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].claim->id, id) == 0)
			return &r[i];
	tap_bail("no claim %s", id);
	return NULL;
}

/* Evaluate the shipped claims on runs and check one claim's verdict (and value, when want is
 * not NAN). */
static void verdict_is(const struct sbr_claims *cl, struct sbr_run **runs, size_t n, const char *id,
                       enum sbr_claim_verdict v, double want, double tol, const char *desc)
{
	struct sbr_claim_result *res = NULL;
	if (sbr_claims_evaluate(cl, runs, n, NULL, &res) != 0)
		tap_bail("evaluate failed");
	const struct sbr_claim_result *r = find(res, cl->n, id);
	if (!is_string(sbr_claim_verdict_name(r->verdict), sbr_claim_verdict_name(v), "%s: %s %s",
	               desc, id, sbr_claim_verdict_name(v)))
		tap_diag("value %g [%g, %g], inputs: %s; note: %s", r->value, r->lo, r->hi,
		         r->inputs, r->note);
	if (!isnan(want))
		is_double(r->value, want, tol, "%s: %s value", desc, id);
	free(res);
}

int main(void)
{
	tap_plan(PLAN);
	find_source();
	snprintf(scratch, sizeof scratch, "/tmp/sbclaims.XXXXXX");
	if (!mkdtemp(scratch))
		tap_bail("no scratch directory");
	char err[512] = "", path[1400];

	/* ---- the shipped file ---- */
	snprintf(path, sizeof path, "%s/results/claims/claims.json", src);
	struct sbr_claims cl;
	int rc = sbr_claims_load(path, &cl, err, sizeof err);
	if (!is_int(rc, 0, "the shipped claims file validates"))
		tap_bail("%s", err);
	is_int((long long)cl.n, 30, "it has the 30 claims of CLAIMS.md");
	int ids = 1, cls = 1, verb = 1;
	for (size_t i = 0; i < cl.n; i++) {
		char id[24];
		snprintf(id, sizeof id, "C%02zu", i + 1);
		ids &= strcmp(cl.c[i].id, id) == 0;
		cls &= (cl.c[i].cls == SBR_CLASS_U) == (cl.c[i].kind == SBR_UNTESTABLE_KIND);
		cls &= (cl.c[i].cls == SBR_CLASS_U) == !cl.c[i].has_ref;
		verb &= cl.c[i].verbatim == (strncmp(cl.c[i].seed, "001_", 4) == 0);
	}
	ok(ids, "ids C01..C30 in order");
	ok(cls, "class U exactly when untestable and without a reference");
	ok(verb, "verbatim for the transcript (001), not for the metadata seed (000)");
	ok(exists(sbr_claims_default_path()), "the default path names a file: %s",
	   sbr_claims_default_path());

	/* Every quote of every claim, at its offset and line. */
	const char *names[2] = {"000_a91bf0c07ab28800.txt", "001_2a55265f7cb17ed2.txt"};
	char *text[2];
	size_t len[2];
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof path, "%s/%s", seeds, names[k]);
		if (!(text[k] = slurp(path, &len[k])))
			tap_bail("cannot read %s", path);
	}
	tap_diag("seeds from %s", seeds);
	size_t nq = 0;
	for (size_t i = 0; i < cl.n; i++) {
		const struct sbr_claim *c = &cl.c[i];
		int k = strcmp(c->seed, names[0]) == 0   ? 0
		        : strcmp(c->seed, names[1]) == 0 ? 1
		                                         : -1;
		int good = k >= 0;
		char why[256] = "unknown seed";
		for (size_t j = 0; good && j < c->nquotes; j++, nq++)
			good = quote_at(text[k], len[k], c->quotes[j].offset, c->quotes[j].line,
			                c->quotes[j].text, why, sizeof why);
		if (!ok(good, "%s: every quote (%zu) verbatim at its offset and line in %s", c->id,
		        c->nquotes, c->seed))
			tap_diag("%s", why);
	}
	is_int((long long)nq, 43, "every part of every claim checked");
	/* A quote that is not there is found out (the check can fail). */
	char why[256];
	ok(!quote_at(text[1], len[1], cl.c[0].offset + 1, cl.c[0].line, cl.c[0].quote, why,
	             sizeof why),
	   "a quote one character off is not at its offset");
	/* The copies kept for a checkout without ../shared equal the seeds. */
	if (strcmp(seeds, copies) != 0) {
		for (int k = 0; k < 2; k++) {
			size_t l;
			snprintf(path, sizeof path, "%s/%s", copies, names[k]);
			char *copy = slurp(path, &l);
			ok(copy && l == len[k] && memcmp(copy, text[k], l) == 0,
			   "tests/fixtures/seeds/%s is the seed", names[k]);
			free(copy);
		}
	} else {
		tap_skip(2, "no ../shared/seeds: the copies are the seeds");
	}
	free(text[0]);
	free(text[1]);
	sbr_claims_free(&cl);

	/* ---- malformed files ---- */
	broken("id", NULL, "claim #2", "field 'id'", "a claim without an id");
	broken("id", "7", "claim #2", "field 'id'", "an id that is not a string");
	broken("id", "\"claim-2\"", "claim #2", "field 'id'", "an id not C and digits");
	broken("id", "\"C01\"", "claim C01", "given twice", "two claims with one id");
	broken("class", "\"X\"", "claim C02", "field 'class'", "a bad class");
	broken("class", NULL, "claim C02", "field 'class'", "no class");
	broken("offset", "\"10\"", "claim C02", "field 'offset': not an integer",
	       "an offset that is a string");
	broken("offset", "10.5", "claim C02", "field 'offset': not an integer",
	       "an offset that is a real");
	broken("offset", "-1", "claim C02", "field 'offset'", "a negative offset");
	broken("line", "0", "claim C02", "field 'line'", "line 0");
	broken("quote", "[\"q\"]", "claim C02", "field 'quote': not a string",
	       "a quote that is not a string");
	broken("quote", NULL, "claim C02", "field 'quote': missing", "no quote");
	broken("quote", "\"\"", "claim C02", "field 'quote': empty", "an empty quote");
	broken("more_quotes.offset", "\"x\"", "claim C02", "field 'more_quotes[0].offset'",
	       "a second part's offset not an integer");
	broken("more_quotes", "{}", "claim C02", "field 'more_quotes'", "more_quotes not an array");
	broken("seed", "\"../x.txt\"", "claim C02", "field 'seed'", "a seed with a directory");
	broken("verbatim", "\"yes\"", "claim C02", "field 'verbatim'", "verbatim not a boolean");
	broken("kind", "\"guessed\"", "claim C02", "field 'kind'", "a bad kind");
	broken("kind", "\"untestable\"", "claim C02", "field 'kind'",
	       "untestable for a class T claim");
	broken("metric", "\"infer.ttft_p98\"", "claim C02", "field 'metric'", "an unknown measure");
	broken("scope", "3", "claim C02", "field 'scope'", "a scope that is not a string");
	broken("rationale", NULL, "claim C02", "field 'rationale'", "no rationale");
	broken("reference", NULL, "claim C02", "field 'reference'", "no reference");
	broken("reference", "[5]", "claim C02", "field 'reference'", "a reference not an object");
	broken("reference.value", "\"5\"", "claim C02", "field 'reference.value'",
	       "a reference value that is a string");
	broken("reference.lower", "0.5", "claim C02", "field 'reference.lower'",
	       "a lower threshold above 0");
	broken("reference.upper", NULL, "claim C02", "field 'reference.upper'",
	       "no upper threshold (null is none)");
	broken("reference.unit", "\"s\"", "claim C02", "field 'reference.unit'",
	       "a unit other than the measure's");
	broken("params", "{\"steps\": \"many\"}", "claim C02", "field 'params'",
	       "a param that is not a number");
	broken("metric", "\"decode.sequential_time\"", "claim C02", "needs 'steps'",
	       "a measure without its params");
	broken("color", "\"red\"", "claim C02", "field 'color'", "a field no claim has");
	/* Whole-file errors. */
	snprintf(path, sizeof path, "%s/notjson.json", scratch);
	FILE *f = fopen(path, "w");
	fputs("{\"schema\": 1, \"claims\": [", f);
	fclose(f);
	struct sbr_claims none;
	rc = sbr_claims_load(path, &none, err, sizeof err);
	ok(rc == SB_EINPUT && strstr(err, "not JSON") && strstr(err, path), "not JSON: %s", err);
	snprintf(path, sizeof path, "%s/nothere.json", scratch);
	rc = sbr_claims_load(path, &none, err, sizeof err);
	ok(rc == SB_EINPUT && strstr(err, "No such file"), "a missing file: %s", err);

	/* ---- the decision ---- */
	double N = NAN, I = INFINITY;
	struct {
		double v, lo, hi, blo, bhi;
		enum sbr_claim_verdict want;
		const char *what;
	} j[] = {
	    {4, 3.5, 4.5, N, 5, SBR_PASS, "interval under an upper bound"},
	    {6, 5.5, 6.5, N, 5, SBR_FAIL, "interval over an upper bound"},
	    {5, 4.5, 5.5, N, 5, SBR_INCONCLUSIVE, "interval straddling an upper bound"},
	    {4.9, 4.2, 5.1, N, 5, SBR_INCONCLUSIVE, "value inside, interval reaching past"},
	    {4, N, N, N, 5, SBR_PASS, "a value without an interval, inside"},
	    {6, N, N, N, 5, SBR_FAIL, "a value without an interval, outside"},
	    {2, 1.9, 2.1, 1.58, N, SBR_PASS, "over a lower bound"},
	    {1.6, 1.5, 1.7, 1.58, N, SBR_INCONCLUSIVE, "straddling a lower bound"},
	    {1.2, 1.1, 1.3, 1.58, N, SBR_FAIL, "under a lower bound"},
	    {2.5, 2.2, 2.8, 2, 3, SBR_PASS, "inside two bounds"},
	    {3.5, 3.2, 3.9, 2, 3, SBR_FAIL, "above two bounds"},
	    {1.5, 1.2, 1.8, 2, 3, SBR_FAIL, "below two bounds"},
	    {2.5, 1.5, 3.5, 2, 3, SBR_INCONCLUSIVE, "wider than both bounds"},
	    {N, 7.9, I, N, 5, SBR_FAIL, "no value, open interval above the bound"},
	    {N, 4, I, N, 5, SBR_INCONCLUSIVE, "no value, open interval from under the bound"},
	    {N, N, N, N, 5, SBR_NO_MEASUREMENT, "nothing measured"},
	    {N, N, N, 1, 2, SBR_NO_MEASUREMENT, "nothing measured, two bounds"},
	    {4, 3, 5, N, N, SBR_NO_MEASUREMENT, "no bound to hold it against"},
	};
	for (size_t i = 0; i < sizeof j / sizeof j[0]; i++)
		is_string(sbr_claim_verdict_name(
		              sbr_claim_judge(j[i].v, j[i].lo, j[i].hi, j[i].blo, j[i].bhi)),
		          sbr_claim_verdict_name(j[i].want), "judge: %s", j[i].what);
	is_double(sbr_claim_margin(4, N, 5), 0.2, 1e-12, "margin under an upper bound");
	is_double(sbr_claim_margin(6, N, 5), -0.2, 1e-12, "margin over an upper bound");
	is_double(sbr_claim_margin(2.5, 2, 3), 1.0 / 6, 1e-12, "margin: the nearer of two bounds");
	ok(isnan(sbr_claim_margin(N, N, 5)), "no margin without a value");

	/* Bounds from the references (ReFrame's relative thresholds). */
	snprintf(path, sizeof path, "%s/results/claims/claims.json", src);
	if (sbr_claims_load(path, &cl, err, sizeof err))
		tap_bail("%s", err);
	double lo, hi;
	sbr_claim_bounds(&cl.c[5], &lo, &hi);
	ok(isnan(lo) && hi == 5, "C06: p99 TTFT <= 5 ms (got %g, %g)", lo, hi);
	sbr_claim_bounds(&cl.c[7], &lo, &hi);
	ok(fabs(lo - 2) < 1e-9 && fabs(hi - 3) < 1e-9, "C08: 2 to 3 x a year (got %g, %g)", lo, hi);
	sbr_claim_bounds(&cl.c[0], &lo, &hi);
	ok(fabs(lo - 1.58) < 1e-9 && isnan(hi), "C01: at least Moore's 1.58 x a year (got %g, %g)",
	   lo, hi);
	sbr_claim_bounds(&cl.c[2], &lo, &hi);
	ok(isnan(lo) && fabs(hi - 1.25) < 1e-12, "C03: the seed's Amdahl 1.25 x (got %g, %g)", lo,
	   hi);

	/* ---- verdicts from runs ---- */
	struct sbr_claim_result *res = NULL;
	rc = sbr_claims_evaluate(&cl, NULL, 0, NULL, &res);
	int none_pass = rc == 0, u_ok = rc == 0, tc_nom = rc == 0;
	for (size_t i = 0; rc == 0 && i < cl.n; i++) {
		none_pass &= res[i].verdict != SBR_PASS;
		if (cl.c[i].cls == SBR_CLASS_U)
			u_ok &= res[i].verdict == SBR_UNTESTABLE;
		else
			tc_nom &= res[i].verdict == SBR_NO_MEASUREMENT && res[i].note[0] &&
			          isnan(res[i].value);
	}
	ok(none_pass, "no runs: no claim passes");
	ok(u_ok, "no runs: class U claims UNTESTABLE");
	ok(tc_nom, "no runs: class T and C claims NO_MEASUREMENT, each with a reason");
	free(res);

	struct sbr_run runs[8];
	struct sbr_run *rp[8];
	for (int i = 0; i < 8; i++)
		rp[i] = &runs[i];
	char pt[2048], pts[4200];

	/* C06 and C15 and C03 from infer points. */
	infer_point(pt, sizeof pt, 0.002, 0.0019, 0.0021, 0.003, 700, 4e-7, 0.2, 1, "same-numa");
	snprintf(pts, sizeof pts, "[%s]", pt);
	if (mkrun(&runs[0], NULL, "M 1", "2026-01-01", NULL, 1, pts))
		tap_bail("mkrun");
	verdict_is(&cl, rp, 1, "C06", SBR_PASS, 3, 1e-9, "p99 3 ms from 700 requests");
	verdict_is(&cl, rp, 1, "C15", SBR_PASS, 4, 1e-9, "TPOT 0.4 us x 10,000 = 4 ms");
	verdict_is(&cl, rp, 1, "C03", SBR_PASS, 1 / (0.8 + 0.2 / 3), 1e-9,
	           "all-reduce share 0.2, 3x faster");
	verdict_is(&cl, rp, 1, "C09", SBR_NO_MEASUREMENT, NAN, 0, "no model");
	verdict_is(&cl, rp, 1, "C17", SBR_NO_MEASUREMENT, NAN, 0, "no power");
	sbr_run_free(&runs[0]);
	infer_point(pt, sizeof pt, 0.002, 0.0019, 0.0021, 0.007, 700, 2e-5, 0.5, 1, "same-numa");
	snprintf(pts, sizeof pts, "[%s]", pt);
	mkrun(&runs[0], NULL, "M 1", "2026-01-01", NULL, 1, pts);
	verdict_is(&cl, rp, 1, "C06", SBR_FAIL, 7, 1e-9, "p99 7 ms");
	verdict_is(&cl, rp, 1, "C15", SBR_FAIL, 200, 1e-9, "TPOT 20 us x 10,000 = 200 ms");
	verdict_is(&cl, rp, 1, "C03", SBR_FAIL, 1 / (0.5 + 0.5 / 3), 1e-9, "all-reduce share 0.5");
	sbr_run_free(&runs[0]);
	/* No p99 (100 requests): the median's interval bounds it from below. */
	infer_point(pt, sizeof pt, 0.0042, 0.004, 0.0045, -1, 100, 0.001, 0, 1, "same-numa");
	snprintf(pts, sizeof pts, "[%s]", pt);
	mkrun(&runs[0], NULL, "M 1", "2026-01-01", NULL, 1, pts);
	verdict_is(&cl, rp, 1, "C06", SBR_INCONCLUSIVE, NAN, 0,
	           "no p99, the median's interval under 5 ms");
	sbr_run_free(&runs[0]);
	infer_point(pt, sizeof pt, 0.0065, 0.006, 0.007, -1, 100, 0.001, 0, 1, "same-numa");
	snprintf(pts, sizeof pts, "[%s]", pt);
	mkrun(&runs[0], NULL, "M 1", "2026-01-01", NULL, 1, pts);
	verdict_is(&cl, rp, 1, "C06", SBR_FAIL, NAN, 0, "no p99, the median's interval over 5 ms");
	sbr_run_free(&runs[0]);

	/* C07: the same tensor-parallel configuration across hosts and inside one. */
	char pt2[2048];
	infer_point(pt, sizeof pt, 0.012, 0.0115, 0.0125, -1, 100, 0.001, 0, 2, "cross-host");
	infer_point(pt2, sizeof pt2, 0.008, 0.0078, 0.0082, -1, 100, 0.001, 0, 2, "same-host");
	snprintf(pts, sizeof pts, "[%s]", pt);
	mkrun(&runs[0], NULL, "M 1", "2026-01-01", NULL, 2, pts);
	verdict_is(&cl, rp, 1, "C07", SBR_NO_MEASUREMENT, NAN, 0, "across hosts alone");
	snprintf(pts, sizeof pts, "[%s]", pt2);
	mkrun(&runs[1], NULL, "M 1", "2026-01-01", NULL, 1, pts);
	verdict_is(&cl, rp, 2, "C07", SBR_PASS, 1.5, 1e-9, "across 12 ms over inside 8 ms");
	sbr_run_free(&runs[0]);
	sbr_run_free(&runs[1]);

	/* C01, C08: one configuration on an A100 (2020) and an H100 (2022): 10 ms and 2.5 ms, at
	 * 400 W and 700 W. */
	const char *ar = "[{\"benchmark\": \"allreduce\", \"backend\": \"nccl\", \"ranks\": 8,"
	                 " \"label\": \"ar\", \"params\": {\"bytes\": 1048576},"
	                 " \"summary\": {\"median\": %g, \"median_ci95\": [%g, %g]},"
	                 " \"power\": {\"watts_mean\": %g}}]";
	snprintf(pts, sizeof pts, ar, 0.010, 0.0099, 0.0101, 400.0);
	mkrun(&runs[0], "NVIDIA A100-SXM4-80GB", "M 1", "2026-01-01", NULL, 1, pts);
	snprintf(pts, sizeof pts, ar, 0.0025, 0.00249, 0.00251, 700.0);
	mkrun(&runs[1], "NVIDIA H100 80GB HBM3", "M 1", "2026-01-02", NULL, 1, pts);
	verdict_is(&cl, rp, 2, "C01", SBR_PASS, 2, 1e-9, "4x in two years: 2x a year");
	verdict_is(&cl, rp, 2, "C08", SBR_FAIL, sqrt(10 * 400 / (2.5 * 700)), 1e-9,
	           "per watt 2.29x in two years: 1.51x a year");
	verdict_is(&cl, rp, 1, "C01", SBR_NO_MEASUREMENT, NAN, 0, "one generation");
	/* C17, C24, C26 from the largest W per GPU (700). */
	verdict_is(&cl, rp, 2, "C17", SBR_PASS, 2.5e8 / (700 * 1.8 * 1.2), 1e-6,
	           "GPUs in 250 MW at 700 W");
	verdict_is(&cl, rp, 2, "C24", SBR_PASS, 1e9 / (700 * 1.8 * 1.2), 1e-6,
	           "GPUs in a gigawatt at 700 W");
	verdict_is(&cl, rp, 2, "C26", SBR_PASS, 1e10 * 700 * 1.8 * 1.2 / 1e12, 1e-9,
	           "10^10 GPUs at 700 W, in TW");
	sbr_run_free(&runs[0]);
	sbr_run_free(&runs[1]);

	/* C05: one machine, two software stacks, 10 ms then 4 ms; C22: GDR off 3 ms, on 2 ms. */
	snprintf(pts, sizeof pts, ar, 0.010, 0.0099, 0.0101, 0.0);
	mkrun(&runs[0], "NVIDIA H100", "M 1", "2026-01-01", NULL, 1, pts);
	snprintf(pts, sizeof pts, ar, 0.004, 0.0039, 0.0041, 0.0);
	mkrun(&runs[1], "NVIDIA H100", "M 2", "2026-02-01", NULL, 1, pts);
	verdict_is(&cl, rp, 2, "C05", SBR_PASS, 2.5, 1e-9, "older stack 10 ms over newer 4 ms");
	verdict_is(&cl, rp, 2, "C17", SBR_NO_MEASUREMENT, NAN, 0, "power 0: none");
	sbr_run_free(&runs[0]);
	sbr_run_free(&runs[1]);
	const char *ho = "[{\"benchmark\": \"pipeline\", \"backend\": \"nccl\", \"ranks\": 2,"
	                 " \"label\": \"ho\", \"params\": {\"bytes\": 65536, \"schedule\": "
	                 "\"handoff\"}, \"summary\": {\"median\": %g, \"median_ci95\": [%g, %g]}}]";
	snprintf(pts, sizeof pts, ho, 0.003, 0.0029, 0.0031);
	mkrun(&runs[0], "NVIDIA H100", "M 1", "2026-01-01", "LOC", 1, pts);
	snprintf(pts, sizeof pts, ho, 0.002, 0.0019, 0.0021);
	mkrun(&runs[1], "NVIDIA H100", "M 1", "2026-01-02", "SYS", 1, pts);
	verdict_is(&cl, rp, 2, "C22", SBR_PASS, 1.5, 1e-9, "GDR off 3 ms over on 2 ms");
	verdict_is(&cl, rp, 2, "C05", SBR_NO_MEASUREMENT, NAN, 0, "one software stack");
	sbr_run_free(&runs[0]);
	sbr_run_free(&runs[1]);

	/* C03 from a pipeline schedule: step 10 ms [9.9, 10.1], exposed 2 ms: f = 0.2, and its
	 * interval from the step's. */
	snprintf(pts, sizeof pts,
	         "[{\"benchmark\": \"pipeline\", \"backend\": \"mpi\", \"ranks\": 2, \"label\": "
	         "\"1f1b\", \"params\": {\"bytes\": 65536, \"schedule\": \"1f1b\"}, \"summary\": "
	         "{\"median\": 0.010, \"median_ci95\": [0.0099, 0.0101]}, \"metrics\": "
	         "{\"exposed\": {\"value\": 0.002}}}]");
	mkrun(&runs[0], NULL, "M 1", "2026-01-01", NULL, 1, pts);
	res = NULL;
	sbr_claims_evaluate(&cl, rp, 1, NULL, &res);
	const struct sbr_claim_result *r3 = find(res, cl.n, "C03");
	is_double(r3->value, 1 / (0.8 + 0.2 / 3), 1e-9, "C03: f = exposed / step = 0.2");
	ok(r3->lo < r3->value && r3->value < r3->hi && r3->verdict == SBR_PASS,
	   "C03: an interval around it (%g, %g), under 1.25: PASS", r3->lo, r3->hi);
	ok(strstr(r3->inputs, "1f1b") && strstr(r3->inputs, "0.200"),
	   "C03: the inputs name the point and f: %s", r3->inputs);
	/* Every format writes every claim. */
	static const char *const fmts[] = {"text", "md", "csv", "html"};
	for (int k = 0; k < 4; k++) {
		char *buf = NULL;
		size_t blen = 0;
		FILE *mem = open_memstream(&buf, &blen);
		rc = sbr_claims_write(res, cl.n, (enum sbr_format)sbr_format_parse(fmts[k]), mem);
		fclose(mem);
		int all = rc == 0;
		for (size_t i = 0; i < cl.n; i++)
			all &= strstr(buf, cl.c[i].id) != NULL;
		ok(all && strstr(buf, "PASS") && strstr(buf, "UNTESTABLE"),
		   "%s: every claim with its verdict", fmts[k]);
		free(buf);
	}
	free(res);
	sbr_run_free(&runs[0]);
	sbr_claims_free(&cl);

	snprintf(path, sizeof path, "%s/broken.json", scratch);
	remove(path);
	snprintf(path, sizeof path, "%s/notjson.json", scratch);
	remove(path);
	rmdir(scratch);
	return tap_done();
}
