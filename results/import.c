/* Importers: nccl-tests (text and -J JSON) and OSU Micro-Benchmarks logs as run records.
 *
 * Both tools print one table row per message size and keep no per-iteration samples, so a point
 * carries the tool's own summary: the mean time it printed (converted from microseconds to
 * seconds), the bandwidths it printed (GB/s = 1e9 B/s for nccl-tests, MB/s = 1e6 B/s for OMB),
 * and its check result. Nothing is recomputed: an imported number is the tool's number.
 *
 * Tables are read by their column header line, not by fixed positions, because both tools add
 * columns with options (nccl-tests -S timestamps and per-iteration statistics, OMB -f, -c and
 * tail percentiles). A line is a data row when it follows a column header and its first word is
 * a number; any other line is the tool's commentary or interleaved noise (NCCL_DEBUG output, MPI
 * warnings) and is skipped. A data row must then be whole: a missing column or a word where a
 * number belongs is an error naming the line, except on a last line cut short by a killed job,
 * which is dropped and marks the import incomplete. */
#include "import_impl.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BYTES ((size_t)256 << 20) /* larger is no benchmark log */

const char *sbr_import_kind_name(enum sbr_import_kind kind)
{
	switch (kind) {
	case SBR_IMPORT_NCCL_TEXT:
		return "nccl-tests text";
	case SBR_IMPORT_NCCL_JSON:
		return "nccl-tests json";
	case SBR_IMPORT_OSU_TEXT:
		return "osu text";
	}
	return "?";
}

/* ------------------------------------------------------------------ small pieces */

static int slurp(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return sbr_fail(err, errlen, SB_EINPUT, "%s: cannot open: %s", path,
		                strerror(errno));
	size_t cap = 1 << 16, n = 0, k;
	char *b = malloc(cap + 1);
	if (!b) {
		fclose(f);
		return SB_ENOMEM;
	}
	while ((k = fread(b + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n < cap)
			continue;
		if (cap >= MAX_BYTES) {
			fclose(f);
			free(b);
			return sbr_fail(err, errlen, SB_EINPUT,
			                "%s: larger than %zu MiB, not a benchmark log", path,
			                MAX_BYTES >> 20);
		}
		char *nb = realloc(b, 2 * cap + 1);
		if (!nb) {
			fclose(f);
			free(b);
			return SB_ENOMEM;
		}
		b = nb;
		cap *= 2;
	}
	int bad = ferror(f);
	int e = errno;
	fclose(f);
	if (bad) {
		free(b);
		return sbr_fail(err, errlen, SB_EINPUT, "%s: cannot read: %s", path, strerror(e));
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}

/* Two FNV-1a 64 hashes of the content from different starting values, 128 bits: the same log
 * imported twice (or copied elsewhere) gets the same run_id, so a database keeps one copy, and
 * two different logs sharing an id is vanishingly unlikely. The path is left out on purpose. */
static void content_id(const char *b, size_t n, char out[33])
{
	uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x6c62272e07bb0142ULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		h1 = (h1 ^ c) * 0x100000001b3ULL;
		h2 = (h2 ^ c) * 0x100000001b3ULL;
	}
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

/* A JSON string of s; logs are not always UTF-8 (jansson refuses those), so bytes outside ASCII
 * become '?' when the whole string is not valid. */
json_t *sbr__imp_jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char *c = sbr_strdup(s);
	if (!c)
		return json_null();
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
			*p = '?';
	j = json_string(c);
	free(c);
	return j ? j : json_null();
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *sbr__imp_jint(long long v)
{
	return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

/* Whole-word numbers: the word must be all number. */
int sbr__imp_num_u64(const char *s, unsigned long long *v)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	char *e;
	errno = 0;
	*v = strtoull(s, &e, 10);
	return *e || errno ? -1 : 0;
}

int sbr__imp_num_i64(const char *s, long long *v)
{
	if (!isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
		return -1;
	char *e;
	errno = 0;
	*v = strtoll(s, &e, 10);
	return *e || errno ? -1 : 0;
}

int sbr__imp_num_dbl(const char *s, double *v)
{
	char *e;
	if (!*s || isspace((unsigned char)*s))
		return -1;
	*v = strtod(s, &e);
	return *e ? -1 : 0;
}

/* Split s in place at blanks; returns the number of words, of which the first max are kept. */
int sbr__imp_split(char *s, char **tok, int max)
{
	int n = 0;
	for (char *p = s;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			return n;
		if (n < max)
			tok[n] = p;
		n++;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
}

const char *sbr__imp_base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* A binary name from a file name when the log does not print one (nccl-tests before 2.17). */
int sbr__imp_name_from_path(const char *path, const char *const (*tab)[2], size_t ntab, char *out,
                            size_t n)
{
	const char *b = sbr__imp_base_name(path);
	for (size_t i = 0; i < ntab; i++)
		if (strstr(b, tab[i][0])) {
			snprintf(out, n, "%s", tab[i][1]);
			return 1;
		}
	return 0;
}

size_t sbr__imp_line_of(const char *b, size_t off)
{
	size_t l = 1;
	for (size_t i = 0; i < off; i++)
		l += b[i] == '\n';
	return l;
}

static int text_split(char *buf, size_t len, struct text *t)
{
	memset(t, 0, sizeof *t);
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	t->line = malloc(n * sizeof *t->line);
	if (!t->line)
		return SB_ENOMEM;
	char *p = buf, *end = buf + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		*e = '\0';
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		t->line[t->n++] = p;
		if ((size_t)(e - p) > t->maxlen)
			t->maxlen = (size_t)(e - p);
		t->cut = !nl;
		p = e + 1;
	}
	t->scratch = malloc(t->maxlen + 1);
	return t->scratch ? 0 : SB_ENOMEM;
}

static void text_free(struct text *t)
{
	free(t->line);
	free(t->scratch);
}

/* The words of line i, in t->scratch (valid until the next call). */
int sbr__imp_words(struct text *t, size_t i, char **tok)
{
	memcpy(t->scratch, t->line[i], strlen(t->line[i]) + 1);
	return sbr__imp_split(t->scratch, tok, MAX_TOK);
}

/* A data row is mostly numbers: nccl-tests rows hold two words (type, redop) among eleven or
 * more numbers, OMB rows at most a Pass/Fail; a launcher's "3 total processes killed (some
 * possibly by mpirun during cleanup)" starts with a number too but is words. */
int sbr__imp_mostly_numbers(char **tok, int nt)
{
	int num = 0, m = nt < MAX_TOK ? nt : MAX_TOK;
	for (int i = 0; i < m; i++) {
		const char *w = tok[i];
		num += isdigit((unsigned char)w[*w == '-' || *w == '.']) || !strcmp(w, "N/A") ||
		       !strcmp(w, "nan") || !strcmp(w, "inf");
	}
	return 2 * num > nt;
}

int sbr__imp_is_comment(const char *l)
{
	while (*l == ' ' || *l == '\t')
		l++;
	return *l == '#';
}

/* Lines by which a launcher says the job died; the table before them stands, but is partial. */
const char *sbr__imp_death_note(const char *l)
{
	static const char *const marks[] = {"*** Process received signal ***",
	                                    "MPI_ABORT was invoked",
	                                    "exited on signal",
	                                    "terminate called after",
	                                    "total processes killed",
	                                    "Segmentation fault",
	                                    "Test NCCL failure",
	                                    "Test CUDA failure",
	                                    "Aborted (core dumped)"};
	for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
		if (strstr(l, marks[i]))
			return marks[i];
	return NULL;
}

/* ------------------------------------------------------------------ records */

void sbr__imp_pt_init(struct pt *p, size_t line)
{
	memset(p, 0, sizeof *p);
	p->line = line;
	p->bytes = p->count = p->root = p->n = p->wrong = p->check_iters = -1;
	p->mean = p->min = p->max = p->median = p->p5 = p->p25 = p->p75 = p->p95 = p->p99 =
	    p->stddev = p->cov = p->max_error = NAN;
	p->check = "off";
}

void sbr__imp_metric(json_t *m, const char *name, double v, const char *unit)
{
	json_object_set_new(m, name, json_pack("{s:o,s:s}", "value", jnum(v), "unit", unit));
}

void sbr__imp_emit(struct imp *im, struct pt *p)
{
	json_t *r = json_object();
	json_object_set_new(r, "type", json_string("point"));
	json_object_set_new(r, "seq", json_integer((json_int_t)json_array_size(im->points)));
	json_object_set_new(r, "benchmark", sbr__imp_jstr(im->bench));
	json_object_set_new(r, "backend", json_string(im->backend));
	json_object_set_new(r, "ranks", sbr__imp_jint(im->ranks));

	char label[200];
	int nl = snprintf(label, sizeof label, "%s %lld B", im->bench, p->bytes < 0 ? 0 : p->bytes);
	if (p->place && nl > 0 && (size_t)nl < sizeof label)
		snprintf(label + nl, sizeof label - (size_t)nl, " %s%s%s %s",
		         p->dtype ? p->dtype : "?", strcmp(p->op, "-") ? " " : "",
		         strcmp(p->op, "-") ? p->op : "", p->place);
	json_object_set_new(r, "label", sbr__imp_jstr(label));
	json_object_set_new(r, "span", json_string(im->span ? im->span : "unknown"));

	json_t *par = json_object();
	json_object_set_new(par, "bytes", json_integer(p->bytes < 0 ? 0 : p->bytes));
	json_object_set_new(par, "count", sbr__imp_jint(p->count));
	json_object_set_new(par, "dtype", sbr__imp_jstr(p->dtype));
	json_object_set_new(par, "op", sbr__imp_jstr(p->op));
	json_object_set_new(par, "inplace",
	                    json_boolean(p->place && !strcmp(p->place, "in-place")));
	if (p->root >= 0)
		json_object_set_new(par, "root", json_integer(p->root));
	if (p->params)
		json_object_update(par, p->params);
	json_object_set_new(r, "params", par);
	if (im->method)
		json_object_set_new(r, "method", json_deep_copy(im->method));

	json_object_set_new(r, "unit", json_string("s"));
	json_object_set_new(r, "samples", p->samples ? p->samples : json_array());
	p->samples = NULL;
	json_t *s = json_object();
	json_object_set_new(s, "n", sbr__imp_jint(p->n));
	json_object_set_new(s, "min", jnum(p->min));
	json_object_set_new(s, "p5", jnum(p->p5));
	json_object_set_new(s, "p25", jnum(p->p25));
	json_object_set_new(s, "median", jnum(p->median));
	json_object_set_new(s, "p75", jnum(p->p75));
	json_object_set_new(s, "p95", jnum(p->p95));
	json_object_set_new(s, "p99", jnum(p->p99));
	json_object_set_new(s, "max", jnum(p->max));
	json_object_set_new(s, "mean", jnum(p->mean));
	json_object_set_new(s, "stddev", jnum(p->stddev));
	json_object_set_new(s, "cov", jnum(p->cov));
	json_object_set_new(s, "median_ci95", json_null());
	json_object_set_new(s, "median_ci95_ranks", json_null());
	json_object_set_new(r, "summary", s);
	json_object_set_new(r, "metrics", p->metrics ? p->metrics : json_object());
	p->metrics = NULL;

	json_t *c = json_object();
	json_object_set_new(c, "status", json_string(p->check));
	json_object_set_new(c, "wrong", sbr__imp_jint(p->wrong));
	json_object_set_new(c, "iterations", sbr__imp_jint(p->check_iters));
	if (isfinite(p->max_error))
		json_object_set_new(c, "max_error", json_real(p->max_error));
	json_object_set_new(r, "check", c);
	json_object_set_new(r, "origin_row", json_integer((json_int_t)p->line));
	json_array_append_new(im->points, r);
	if (!strcmp(p->check, "failed"))
		im->failed = 1;
	json_decref(p->params);
	p->params = NULL;
}

void sbr__imp_pt_drop(struct pt *p)
{
	json_decref(p->samples);
	json_decref(p->metrics);
	json_decref(p->params);
	p->samples = p->metrics = p->params = NULL;
}

static json_t *run_new(const char *id, const char *tool, const char *format, const char *path)
{
	json_t *r = json_object();
	json_object_set_new(r, "type", json_string("run"));
	json_object_set_new(r, "schema", json_integer(1));
	json_object_set_new(r, "run_id", json_string(id));
	json_object_set_new(r, "start_time", json_null());
	json_object_set_new(r, "command", json_null());
	json_object_set_new(r, "argv", json_null());
	json_object_set_new(r, "origin",
	                    json_pack("{s:s,s:s,s:n,s:o}", "tool", tool, "format", format,
	                              "version", "file", sbr__imp_jstr(path)));
	json_object_set_new(r, "provenance", json_object());
	json_object_set_new(r, "topology", json_null());
	return r;
}

/* [run, points..., end]; takes run. */
static json_t *finish(struct imp *im, json_t *run)
{
	json_t *end = json_object();
	json_object_set_new(end, "type", json_string("end"));
	const char *st = im->why[0] ? "incomplete-import" : im->failed ? "check-failed" : "ok";
	json_object_set_new(end, "status", json_string(st));
	json_object_set_new(end, "points", json_integer((json_int_t)json_array_size(im->points)));
	if (im->why[0])
		json_object_set_new(end, "message", sbr__imp_jstr(im->why));
	json_object_update(end, im->end);
	json_t *all = json_array();
	json_array_append_new(all, run);
	json_array_extend(all, im->points);
	json_array_append_new(all, end);
	return all;
}

/* The first reason wins: it is the earliest thing that went wrong. */
void sbr__imp_incomplete(struct imp *im, const char *fmt, ...)
{
	if (im->why[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(im->why, sizeof im->why, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ the entry point */

/* Which text format: OMB's title, nccl-tests' own header lines or its column header; OMB
 * without its title by its column header. */
static int text_kind(struct text *t)
{
	char *tok[MAX_TOK];
	int omb_cols = 0;
	for (size_t i = 0; i < t->n; i++) {
		const char *l = t->line[i];
		if (!strncmp(l, "# OSU ", 6))
			return SBR_IMPORT_OSU_TEXT;
		if (strstr(l, "# nccl-tests version") || strstr(l, "# Collective test starting:") ||
		    !strncmp(l, "# nThread ", 10))
			return SBR_IMPORT_NCCL_TEXT;
		if (!sbr__imp_is_comment(l))
			continue;
		int nt = sbr__imp_words(t, i, tok), sz = 0, ct = 0, bw = 0;
		for (int k = 1; k < nt && k < MAX_TOK; k++) {
			sz |= !strcmp(tok[k], "size");
			ct |= !strcmp(tok[k], "count");
			bw |= !strcmp(tok[k], "algbw") || !strcmp(tok[k], "busbw");
		}
		if (sz && ct && bw)
			return SBR_IMPORT_NCCL_TEXT;
		if (nt > 2 && !strcmp(tok[0], "#") && !strcmp(tok[1], "Size") &&
		    (strstr(l, "(us)") || strstr(l, "MB/s")))
			omb_cols = 1;
	}
	return omb_cols ? SBR_IMPORT_OSU_TEXT : -1;
}

int sbr_import(const char *path, json_t **records, enum sbr_import_kind *kind, char *err,
               size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	*records = NULL;
	int rc = slurp(path, &buf, &len, err, errlen);
	if (rc)
		return rc;
	char id[33];
	content_id(buf, len, id);

	struct imp im = {.path = path, .err = err, .errlen = errlen, .ranks = -1};
	im.points = json_array();
	im.end = json_object();
	json_t *run = NULL, *doc = NULL;
	struct text t = {0};
	struct jscan sc = {0};

	const char *nul = memchr(buf, '\0', len);
	size_t p0 = strspn(buf, " \t\r\n");
	if (!len || p0 == len) {
		rc = sbr_fail(err, errlen, SB_EINPUT, "%s:1: empty file", path);
	} else if (nul) {
		rc = sbr_fail(err, errlen, SB_EINPUT,
		              "%s:%zu: binary data (a NUL byte), not a benchmark log", path,
		              sbr__imp_line_of(buf, (size_t)(nul - buf)));
	} else if (buf[p0] == '{' || buf[p0] == '[') {
		if (kind)
			*kind = SBR_IMPORT_NCCL_JSON;
		json_error_t je;
		rc = sbr__imp_json_scan(buf, len, &sc);
		if (rc)
			goto out;
		doc = json_loadb(buf, len, 0, &je);
		if (!doc && sc.close && sc.nelem) {
			/* a run killed before nccl-tests closed its file: keep the finished rows */
			size_t cl = strlen(sc.close);
			char *fix = malloc(sc.safe + cl + 1);
			if (!fix) {
				rc = SB_ENOMEM;
				goto out;
			}
			memcpy(fix, buf, sc.safe);
			memcpy(fix + sc.safe, sc.close, cl + 1);
			json_error_t je2;
			doc = json_loadb(fix, sc.safe + cl, 0, &je2);
			free(fix);
			/* a cut before the first result leaves nothing of nccl-tests' */
			if (doc && !json_is_array(json_object_get(doc, "results"))) {
				json_decref(doc);
				doc = NULL;
			}
			if (doc)
				sbr__imp_incomplete(
				    &im,
				    "the JSON stops at line %zu: read up to the last "
				    "complete result",
				    sbr__imp_line_of(buf, len));
		}
		if (!doc) {
			rc = sbr_fail(err, errlen, SB_EINPUT, "%s:%d: not valid JSON: %s", path,
			              je.line > 0 ? je.line : 1, je.text);
			goto out;
		}
		if (!json_is_object(doc) || !json_is_array(json_object_get(doc, "results"))) {
			rc = sbr_fail(
			    err, errlen, SB_EINPUT,
			    "%s:1: JSON, but not nccl-tests -J output (no \"results\" list)", path);
			goto out;
		}
		run = run_new(id, "nccl-tests", "json", path);
		rc = sbr__imp_nccl_json(&im, doc, &sc, buf, run);
	} else {
		rc = text_split(buf, len, &t);
		if (rc)
			goto out;
		int k = text_kind(&t);
		if (k < 0) {
			rc =
			    sbr_fail(err, errlen, SB_EINPUT,
			             "%s:1: neither nccl-tests nor OSU Micro-Benchmarks output (no "
			             "header line of either)",
			             path);
			goto out;
		}
		if (kind)
			*kind = (enum sbr_import_kind)k;
		if (k == SBR_IMPORT_NCCL_TEXT) {
			run = run_new(id, "nccl-tests", "text", path);
			rc = sbr__imp_nccl_text(&im, &t, run);
		} else {
			run = run_new(id, "osu-micro-benchmarks", "text", path);
			rc = sbr__imp_osu_text(&im, &t, run);
		}
	}
	if (!rc && run) {
		*records = finish(&im, run);
		run = NULL;
		if (err && errlen)
			err[0] = '\0'; /* a row dropped as cut short left its message */
	}
out:
	json_decref(run);
	json_decref(doc);
	json_decref(im.end);
	json_decref(im.points);
	json_decref(im.method);
	free(sc.elem);
	text_free(&t);
	free(buf);
	return rc;
}
