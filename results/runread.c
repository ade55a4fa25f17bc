#include "runread.h"

#include "stats.h"
#include "util.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbr_run_free(struct sbr_run *r)
{
	for (size_t i = 0; i < r->npts; i++) {
		free(r->pts[i].config);
		free(r->pts[i].series);
		free(r->pts[i].samples);
	}
	free(r->pts);
	free(r->path);
	free(r->machine);
	json_decref(r->records);
	memset(r, 0, sizeof *r);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The machine class: the hardware of every host (hwloc's XML hash, which leaves out host
 * names, so identical machines hash alike; else the counts), the GPU model and the host
 * count. Runs of one class are compared with each other. */
static int machine_class(struct sbr_run *r)
{
	json_t *hosts = json_object_get(json_object_get(r->run, "topology"), "hosts");
	size_t n = json_array_size(hosts);
	char **keys = calloc(n ? n : 1, sizeof *keys);
	if (!keys)
		return SB_ENOMEM;
	long long cores = 0, gpus = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_array_get(hosts, i);
		const char *x = json_string_value(json_object_get(h, "xml_fnv1a64"));
		char buf[160];
		snprintf(buf, sizeof buf, "%s/%lld/%lld/%lld/%lld", x ? x : "",
		         (long long)json_integer_value(json_object_get(h, "packages")),
		         (long long)json_integer_value(json_object_get(h, "numa_nodes")),
		         (long long)json_integer_value(json_object_get(h, "cores")),
		         (long long)json_integer_value(json_object_get(h, "gpus")));
		cores += json_integer_value(json_object_get(h, "cores"));
		gpus += json_integer_value(json_object_get(h, "gpus"));
		keys[i] = sbr_strdup(buf);
	}
	qsort(keys, n, sizeof *keys, cmp_str);
	json_t *prov = json_object_get(r->run, "provenance");
	const char *gpu = json_string_value(json_object_get(json_object_get(prov, "gpu"), "name"));
	uint64_t h = SBR_FNV_OFFSET;
	h = sbr_fnv1a(h, r->origin);
	h = sbr_fnv1a(h, "|");
	for (size_t i = 0; i < n; i++) {
		h = sbr_fnv1a(h, keys[i] ? keys[i] : "?");
		h = sbr_fnv1a(h, ";");
		free(keys[i]);
	}
	free(keys);
	h = sbr_fnv1a(h, gpu ? gpu : "");
	snprintf(r->machine_class, sizeof r->machine_class, "m%016llx", (unsigned long long)h);
	char desc[512];
	if (n)
		snprintf(desc, sizeof desc, "%zu host%s, %lld cores, %lld GPU%s%s%s", n,
		         n == 1 ? "" : "s", cores, gpus, gpus == 1 ? "" : "s", gpu ? " " : "",
		         gpu ? gpu : "");
	else
		snprintf(desc, sizeof desc, "unknown hardware (%s%s%s)", r->origin, gpu ? ", " : "",
		         gpu ? gpu : "");
	r->machine = sbr_strdup(desc);
	return r->machine ? 0 : SB_ENOMEM;
}

/* A deep copy of params with every whole real number (100.0) made an integer (100), so that
 * configurations compare by value (jansson keeps the two apart; jq and others rewrite one as
 * the other). NULL when out of memory. */
static json_t *by_value(json_t *v)
{
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d == floor(d) && fabs(d) < 9e15)
			return json_integer((json_int_t)d);
		return json_real(d);
	}
	if (json_is_object(v)) {
		json_t *o = json_object(), *e;
		const char *k;
		json_object_foreach(v, k, e)
		{
			if (!o || json_object_set_new(o, k, by_value(e))) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	if (json_is_array(v)) {
		json_t *a = json_array(), *e;
		size_t i;
		json_array_foreach(v, i, e)
		{
			if (!a || json_array_append_new(a, by_value(e))) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	return json_deep_copy(v);
}

/* Fields that matter, with their types; anything else is ignored. */
static int want(const char *path, size_t line, json_t *o, const char *key, json_type t,
                int optional, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (optional)
			return 0;
		return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: no \"%s\"", path, line, key);
	}
	int okk = t == JSON_REAL ? json_is_number(v) : json_typeof(v) == t;
	if (!okk)
		return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: \"%s\" is not %s", path, line, key,
		                t == JSON_STRING    ? "a string"
		                : t == JSON_INTEGER ? "an integer"
		                : t == JSON_REAL    ? "a number"
		                : t == JSON_OBJECT  ? "an object"
		                : t == JSON_ARRAY   ? "an array"
		                                    : "of the right type");
	return 0;
}

/* The samples are most of a run file's bytes, and a generic JSON parser spends most of its
 * time on them (a value object per number). So a point's top-level "samples" array is read
 * here with strtod, and the rest of the line, with that array emptied, by jansson. Anything
 * unusual (a number that is not plain JSON, an overflow, odd nesting) falls back to jansson on
 * the whole line, so errors are reported alike. Returns the count, or -1 to fall back; *at and
 * *end delimit the array's contents. */
static int json_number_ok(const char *b, const char *e)
{
	const char *p = b;
	if (p < e && *p == '-')
		p++;
	if (p >= e || *p < '0' || *p > '9')
		return 0;
	if (*p == '0')
		p++;
	else
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	if (p < e && *p == '.') {
		if (++p >= e || *p < '0' || *p > '9')
			return 0;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return 0;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	return p == e;
}

static long fast_samples(const char *line, size_t len, double **out, size_t *cap, size_t *at,
                         size_t *end)
{
	static const char key[] = "\"samples\"";
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = line[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			depth--;
		} else if (ch == '"') {
			if (depth != 1 || len - i < sizeof key - 1 ||
			    memcmp(line + i, key, sizeof key - 1) != 0) {
				in_str = 1;
				continue;
			}
			size_t j = i + sizeof key - 1;
			while (j < len && (line[j] == ' ' || line[j] == '\t'))
				j++;
			if (j >= len || line[j] != ':')
				return -1;
			j++;
			while (j < len && (line[j] == ' ' || line[j] == '\t'))
				j++;
			if (j >= len || line[j] != '[')
				return -1;
			*at = ++j;
			size_t n = 0;
			for (;;) {
				while (j < len && (line[j] == ' ' || line[j] == '\t'))
					j++;
				if (j < len && line[j] == ']' && n == 0)
					break;
				char *e;
				double d = strtod(line + j, &e);
				if (e == line + j || !json_number_ok(line + j, e) || !isfinite(d))
					return -1;
				if (!memchr(line + j, '.', (size_t)(e - line - j)) &&
				    !memchr(line + j, 'e', (size_t)(e - line - j)) &&
				    !memchr(line + j, 'E', (size_t)(e - line - j))) {
					/* An integer: jansson refuses one beyond 64 bits. */
					errno = 0;
					strtoll(line + j, NULL, 10);
					if (errno == ERANGE)
						return -1;
				}
				if (n == *cap) {
					size_t nc = *cap ? 2 * *cap : 256;
					double *v = realloc(*out, nc * sizeof *v);
					if (!v)
						return -1;
					*out = v;
					*cap = nc;
				}
				(*out)[n++] = d;
				j = (size_t)(e - line);
				while (j < len && (line[j] == ' ' || line[j] == '\t'))
					j++;
				if (j < len && line[j] == ',') {
					j++;
					continue;
				}
				if (j < len && line[j] == ']')
					break;
				return -1;
			}
			*end = j; /* the ']' */
			/* A second "samples" key: the slow way, which rejects the line (a
			 * duplicate key). */
			for (size_t k = j + 1; k < len; k++) {
				ch = line[k];
				if (in_str) {
					if (ch == '\\')
						k++;
					else if (ch == '"')
						in_str = 0;
				} else if (ch == '{' || ch == '[') {
					depth++;
				} else if (ch == '}' || ch == ']') {
					depth--;
				} else if (ch == '"') {
					if (depth == 1 && len - k >= sizeof key - 1 &&
					    memcmp(line + k, key, sizeof key - 1) == 0)
						return -1;
					in_str = 1;
				}
			}
			return (long)n;
		}
	}
	return -1;
}

/* The stored summary against the samples it summarises. scalebench writes both (common/report.c,
 * runfile.c) with JSON_REAL_PRECISION(9), "%.9g": a printed number is within half a unit of its
 * 9th significant digit, 5e-9 of itself. Rounding keeps the order of the samples, so min, max
 * and median (the middle one, or the mean of the two middle ones) of the printed samples are
 * each within 5e-9 of the true ones, and so is the mean (samples >= 0; the same Welford pass,
 * whose own error is ~n * 1e-16); the stored figure is printed too: 5e-9 more. Agreement is
 * within 1e-8 of the larger; 2e-8 allows the arithmetic (and a subnormal, DBL_MIN), while a
 * wrong summary (a duplicate key written by hand, an edited sample) is off in the first digits.
 * Imported points keep the tool's own summary (nccl-tests' p50 is not our median): only runs
 * of scalebench's are checked. */
#define SUMMARY_RTOL 2e-8

static int summary_agrees(const char *path, size_t line, json_t *sum, const double *v, size_t n,
                          char *err, size_t errlen)
{
	double *scratch = malloc(n * sizeof *scratch);
	if (!scratch)
		return SB_ENOMEM;
	struct sb_summary s;
	sb_stats_summarize(v, n, scratch, &s);
	free(scratch);
	json_t *sn = json_object_get(sum, "n");
	if (json_is_integer(sn) && json_integer_value(sn) != (json_int_t)n)
		return sbr_fail(err, errlen, SB_EINPUT,
		                "%s:%zu: summary.n %lld disagrees with the %zu samples", path, line,
		                (long long)json_integer_value(sn), n);
	static const char *const key[] = {"median", "min", "max", "mean"};
	const double mine[] = {s.median, s.min, s.max, s.mean};
	for (size_t i = 0; i < sizeof key / sizeof key[0]; i++) {
		json_t *x = json_object_get(sum, key[i]);
		if (!json_is_number(x))
			continue; /* null: not finite when written; want() checked the type */
		double stored = json_number_value(x);
		double scale = fmax(fabs(stored), fabs(mine[i]));
		if (!(fabs(stored - mine[i]) <= SUMMARY_RTOL * scale + DBL_MIN))
			return sbr_fail(
			    err, errlen, SB_EINPUT,
			    "%s:%zu: summary.%s %.9g disagrees with the %s of its samples "
			    "%.9g",
			    path, line, key[i], stored, key[i], mine[i]);
	}
	return 0;
}

/* pre, npre: the samples read by fast_samples (npre >= 0; the record's array is then empty),
 * or npre < 0 to take them from the record. */
static int point_of(struct sbr_run *r, json_t *rec, size_t line, const double *pre, long npre,
                    struct sbr_point *p, char *err, size_t errlen)
{
	const char *path = r->path;
	int rc;
	if ((rc = want(path, line, rec, "benchmark", JSON_STRING, 0, err, errlen)) ||
	    (rc = want(path, line, rec, "backend", JSON_STRING, 1, err, errlen)) ||
	    (rc = want(path, line, rec, "ranks", JSON_INTEGER, 1, err, errlen)) ||
	    (rc = want(path, line, rec, "params", JSON_OBJECT, 0, err, errlen)) ||
	    (rc = want(path, line, rec, "samples", JSON_ARRAY, 1, err, errlen)) ||
	    (rc = want(path, line, rec, "summary", JSON_OBJECT, 1, err, errlen)) ||
	    (rc = want(path, line, rec, "metrics", JSON_OBJECT, 1, err, errlen)) ||
	    (rc = want(path, line, rec, "check", JSON_OBJECT, 1, err, errlen)))
		return rc;
	json_t *params = json_object_get(rec, "params");
	if ((rc = want(path, line, params, "bytes", JSON_INTEGER, 0, err, errlen)))
		return rc;
	json_int_t bytes = json_integer_value(json_object_get(params, "bytes"));
	if (bytes < 0)
		return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: negative \"bytes\"", path, line);
	json_t *sum = json_object_get(rec, "summary");
	if ((rc = want(path, line, sum, "median", JSON_REAL, 1, err, errlen)) ||
	    (rc = want(path, line, sum, "mean", JSON_REAL, 1, err, errlen)))
		return rc;
	memset(p, 0, sizeof *p);
	p->rec = rec;
	p->line = line;
	p->benchmark = json_string_value(json_object_get(rec, "benchmark"));
	p->backend = json_string_value(json_object_get(rec, "backend"));
	if (!p->backend)
		p->backend = "?";
	p->label = json_string_value(json_object_get(rec, "label"));
	p->ranks = (int)json_integer_value(json_object_get(rec, "ranks"));
	p->bytes = (size_t)bytes;
	json_t *med = json_object_get(sum, "median"), *mean = json_object_get(sum, "mean");
	p->time = NAN;
	if (json_is_number(med)) {
		p->time = json_number_value(med);
		p->time_kind = "median";
	} else if (json_is_number(mean)) {
		p->time = json_number_value(mean);
		p->time_kind = "mean";
	}
	json_t *samples = json_object_get(rec, "samples");
	size_t n = npre >= 0 ? (size_t)npre : json_array_size(samples);
	if (n) {
		if (!(p->samples = malloc(n * sizeof *p->samples)))
			return SB_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			json_t *v = npre >= 0 ? NULL : json_array_get(samples, i);
			double d = npre >= 0 ? pre[i] : json_number_value(v);
			if ((npre < 0 && !json_is_number(v)) || !isfinite(d) || d < 0) {
				free(p->samples);
				p->samples = NULL;
				return sbr_fail(err, errlen, SB_EINPUT,
				                "%s:%zu: samples[%zu] is not a time in seconds",
				                path, line, i);
			}
			p->samples[i] = d;
		}
		p->nsamples = n;
		if (strcmp(r->origin, "scalebench") == 0 &&
		    (rc = summary_agrees(path, line, sum, p->samples, n, err, errlen))) {
			free(p->samples);
			p->samples = NULL;
			return rc;
		}
	}
	const char *st =
	    json_string_value(json_object_get(json_object_get(rec, "check"), "status"));
	p->check_failed = st && strcmp(st, "failed") == 0;
	/* Identity: what was measured, how, by how many ranks, with which parameters (numbers by
	 * value: 100.0 and 100 are one rate, whichever tool last wrote the file). */
	json_t *key = json_pack("{s:s,s:s,s:i,s:o}", "benchmark", p->benchmark, "backend",
	                        p->backend, "ranks", p->ranks, "params", by_value(params));
	p->config = key ? json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (key) {
		/* The record's own params are shared with the key: the series gets a copy. */
		json_t *pp = by_value(params);
		json_object_del(pp, "bytes");
		json_object_del(pp, "count");
		json_object_set_new(key, "params", pp);
		p->series = json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS);
	}
	json_decref(key);
	if (!p->config || !p->series) {
		free(p->samples);
		free(p->config);
		free(p->series);
		return SB_ENOMEM;
	}
	return 0;
}

static int add_record(struct sbr_run *r, json_t *rec, size_t line, size_t *cap, const double *pre,
                      long npre, char *err, size_t errlen)
{
	const char *path = r->path;
	if (!json_is_object(rec))
		return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: a record must be a JSON object",
		                path, line);
	const char *type = json_string_value(json_object_get(rec, "type"));
	if (!type)
		return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: a record without a \"type\"", path,
		                line);
	if (!r->run && strcmp(type, "run") != 0)
		return sbr_fail(err, errlen, SB_EINPUT,
		                "%s:%zu: the first record must be the \"run\" record, not \"%s\"",
		                path, line, type);
	if (r->end)
		return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: a record after the \"end\" record",
		                path, line);
	int rc;
	if (strcmp(type, "run") == 0) {
		if (r->run)
			return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: a second \"run\" record",
			                path, line);
		if ((rc = want(path, line, rec, "schema", JSON_INTEGER, 0, err, errlen)))
			return rc;
		json_int_t schema = json_integer_value(json_object_get(rec, "schema"));
		if (schema < SBR_SCHEMA_MIN || schema > SBR_SCHEMA_MAX)
			return sbr_fail(
			    err, errlen, SB_EINPUT,
			    "%s:%zu: run-file schema %lld is not one this scalebench-report "
			    "reads (%d to %d): a newer scalebench wrote it",
			    path, line, (long long)schema, SBR_SCHEMA_MIN, SBR_SCHEMA_MAX);
		if ((rc = want(path, line, rec, "run_id", JSON_STRING, 0, err, errlen)) ||
		    (rc = want(path, line, rec, "command", JSON_STRING, 0, err, errlen)) ||
		    (rc = want(path, line, rec, "start_time", JSON_STRING, 1, err, errlen)) ||
		    (rc = want(path, line, rec, "provenance", JSON_OBJECT, 1, err, errlen)) ||
		    (rc = want(path, line, rec, "topology", JSON_OBJECT, 1, err, errlen)))
			return rc;
		r->run = rec;
		r->schema = (int)schema;
		r->run_id = json_string_value(json_object_get(rec, "run_id"));
		if (!*r->run_id || strlen(r->run_id) > 64)
			return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: a bad \"run_id\"", path,
			                line);
		r->command = json_string_value(json_object_get(rec, "command"));
		r->start_time = json_string_value(json_object_get(rec, "start_time"));
		const char *tool =
		    json_string_value(json_object_get(json_object_get(rec, "origin"), "tool"));
		r->origin = tool ? tool : "scalebench";
		return machine_class(r);
	}
	if (strcmp(type, "point") == 0) {
		if (r->npts == *cap) {
			size_t nc = *cap ? 2 * *cap : 64;
			struct sbr_point *v = realloc(r->pts, nc * sizeof *v);
			if (!v)
				return SB_ENOMEM;
			r->pts = v;
			*cap = nc;
		}
		if ((rc = point_of(r, rec, line, pre, npre, &r->pts[r->npts], err, errlen)))
			return rc;
		r->npts++;
		return 0;
	}
	if (strcmp(type, "end") == 0) {
		if ((rc = want(path, line, rec, "status", JSON_STRING, 0, err, errlen)))
			return rc;
		r->end = rec;
		r->complete = 1;
		r->status = json_string_value(json_object_get(rec, "status"));
		return 0;
	}
	return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: unknown record type \"%s\"", path, line,
	                type);
}

static int start(struct sbr_run *r, const char *path)
{
	memset(r, 0, sizeof *r);
	r->path = sbr_strdup(path);
	r->records = json_array();
	r->status = "incomplete";
	return r->path && r->records ? 0 : SB_ENOMEM;
}

static int finish(struct sbr_run *r, int rc, char *err, size_t errlen)
{
	if (rc == 0 && !r->run)
		rc = sbr_fail(err, errlen, SB_EINPUT, "%s: no records: not a run file", r->path);
	if (rc)
		sbr_run_free(r);
	return rc;
}

int sbr_run_read(const char *path, struct sbr_run *r, char *err, size_t errlen)
{
	int rc = start(r, path);
	if (rc)
		return finish(r, rc, err, errlen);
	FILE *f = fopen(path, "r");
	if (!f) {
		rc = sbr_fail(err, errlen, SB_EINPUT, "%s: %s", path, strerror(errno));
		return finish(r, rc, err, errlen);
	}
	char *buf = NULL;
	double *pre = NULL; /* a point's samples, read by fast_samples */
	char *tmp = NULL; /* the line without them */
	size_t len = 0, line = 0, cap = 0, precap = 0, tmpcap = 0;
	ssize_t got;
	while (rc == 0 && (got = getline(&buf, &len, f)) >= 0) {
		line++;
		if (strspn(buf, " \t\r\n") == (size_t)got)
			continue; /* blank */
		if (memchr(buf, '\0', (size_t)got)) {
			rc = sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: a NUL byte: not a run file",
			              path, line);
			break;
		}
		json_error_t je;
		size_t at = 0, end = 0;
		long npre = fast_samples(buf, (size_t)got, &pre, &precap, &at, &end);
		json_t *rec = NULL;
		if (npre >= 0 && (size_t)got + 1 > tmpcap) {
			char *t = realloc(tmp, (size_t)got + 1);
			if (t)
				tmp = t, tmpcap = (size_t)got + 1;
			else
				npre = -1;
		}
		if (npre >= 0) {
			/* A copy of the line with its samples array emptied: "...[" + "]..." */
			memcpy(tmp, buf, at);
			memcpy(tmp + at, buf + end, (size_t)got - end);
			rec =
			    json_loadb(tmp, (size_t)got - (end - at), JSON_REJECT_DUPLICATES, &je);
			if (!rec || json_array_size(json_object_get(rec, "samples")) != 0) {
				/* Not what it seemed: the line itself, read the usual way. */
				json_decref(rec);
				rec = NULL;
				npre = -1;
			}
		}
		if (!rec)
			rec = json_loadb(buf, (size_t)got, JSON_REJECT_DUPLICATES, &je);
		if (!rec && json_error_code(&je) == json_error_duplicate_key) {
			/* jansson would keep the last value: which one the writer meant is
			 * unknown (a sample array and a summary that disagree, say). */
			const char *near = strstr(je.text, "near ");
			rc = sbr_fail(
			    err, errlen, SB_EINPUT,
			    "%s:%zu: a duplicate key in the record%s%s: which of its values "
			    "is meant cannot be told",
			    path, line, near ? ", " : "", near ? near : "");
			break;
		}
		if (!rec) {
			rc = sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: not JSON (%s)%s", path, line,
			              je.text,
			              buf[got - 1] != '\n' ? "; the line is cut short" : "");
			break;
		}
		if (json_array_append_new(r->records, rec)) {
			rc = SB_ENOMEM;
			break;
		}
		rc = add_record(r, rec, line, &cap, pre, npre, err, errlen);
	}
	if (rc == 0 && ferror(f))
		rc = sbr_fail(err, errlen, SB_EINPUT, "%s: %s", path, strerror(errno));
	free(buf);
	free(pre);
	free(tmp);
	fclose(f);
	return finish(r, rc, err, errlen);
}

int sbr_run_from_records(const char *path, json_t *records, struct sbr_run *r, char *err,
                         size_t errlen)
{
	int rc = start(r, path);
	size_t cap = 0, i;
	json_t *rec;
	json_array_foreach(records, i, rec)
	{
		if (rc)
			break;
		json_array_append(r->records, rec);
		rc = add_record(r, rec, i + 1, &cap, NULL, -1, err, errlen);
	}
	return finish(r, rc, err, errlen);
}

double sbr_point_metric(const struct sbr_point *p, const char *name)
{
	json_t *v =
	    json_object_get(json_object_get(json_object_get(p->rec, "metrics"), name), "value");
	return json_is_number(v) ? json_number_value(v) : NAN;
}

long long sbr_point_int(const struct sbr_point *p, const char *name, long long def)
{
	json_t *v = json_object_get(json_object_get(p->rec, "params"), name);
	return json_is_integer(v) ? (long long)json_integer_value(v)
	       : json_is_true(v)  ? 1
	       : json_is_false(v) ? 0
	                          : def;
}

const char *sbr_point_str(const struct sbr_point *p, const char *name)
{
	return json_string_value(json_object_get(json_object_get(p->rec, "params"), name));
}

int sbr_point_series_read(const char *path, const struct sbr_point *p, const char *name,
                          struct sbr_point_series *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->median = NAN;
	json_t *o = json_object_get(json_object_get(p->rec, "series"), name);
	if (!json_is_object(o))
		return 0;
	s->unit = json_string_value(json_object_get(o, "unit"));
	json_t *med = json_object_get(json_object_get(o, "summary"), "median");
	if (json_is_number(med))
		s->median = json_number_value(med);
	json_t *samples = json_object_get(o, "samples");
	if (!samples || json_is_null(samples))
		return 1;
	if (!json_is_array(samples))
		return sbr_fail(err, errlen, SB_EINPUT, "%s:%zu: series.%s.samples is not an array",
		                path, p->line, name);
	size_t n = json_array_size(samples);
	if (n && !(s->v = malloc(n * sizeof *s->v)))
		return SB_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(samples, i);
		double d = json_number_value(v);
		if (!json_is_number(v) || !isfinite(d) || d < 0) {
			sbr_point_series_free(s);
			return sbr_fail(
			    err, errlen, SB_EINPUT,
			    "%s:%zu: series.%s.samples[%zu] is not a non-negative number", path,
			    p->line, name, i);
		}
		s->v[i] = d;
	}
	s->nv = n;
	return 1;
}

void sbr_point_series_free(struct sbr_point_series *s)
{
	free(s->v);
	s->v = NULL;
	s->nv = 0;
}

const char *sbr_point_series_name(const struct sbr_point *p, size_t i)
{
	json_t *all = json_object_get(p->rec, "series");
	const char *key;
	json_t *v;
	json_object_foreach(all, key, v)
	{
		if (json_is_object(v) && i-- == 0)
			return key;
	}
	return NULL;
}
