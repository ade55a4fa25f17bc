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
#include "import.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BYTES ((size_t)256 << 20) /* larger is no benchmark log */
#define MAX_TOK 64

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
		return sbr_fail(err, errlen, SBR_EINPUT, "%s: cannot open: %s", path,
		                strerror(errno));
	size_t cap = 1 << 16, n = 0, k;
	char *b = malloc(cap + 1);
	if (!b) {
		fclose(f);
		return SBR_ENOMEM;
	}
	while ((k = fread(b + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n < cap)
			continue;
		if (cap >= MAX_BYTES) {
			fclose(f);
			free(b);
			return sbr_fail(err, errlen, SBR_EINPUT,
			                "%s: larger than %zu MiB, not a benchmark log", path,
			                MAX_BYTES >> 20);
		}
		char *nb = realloc(b, 2 * cap + 1);
		if (!nb) {
			fclose(f);
			free(b);
			return SBR_ENOMEM;
		}
		b = nb;
		cap *= 2;
	}
	int bad = ferror(f);
	int e = errno;
	fclose(f);
	if (bad) {
		free(b);
		return sbr_fail(err, errlen, SBR_EINPUT, "%s: cannot read: %s", path, strerror(e));
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
static json_t *jstr(const char *s)
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

static json_t *jint(long long v)
{
	return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

/* Whole-word numbers: the word must be all number. */
static int num_u64(const char *s, unsigned long long *v)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	char *e;
	errno = 0;
	*v = strtoull(s, &e, 10);
	return *e || errno ? -1 : 0;
}

static int num_i64(const char *s, long long *v)
{
	if (!isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
		return -1;
	char *e;
	errno = 0;
	*v = strtoll(s, &e, 10);
	return *e || errno ? -1 : 0;
}

static int num_dbl(const char *s, double *v)
{
	char *e;
	if (!*s || isspace((unsigned char)*s))
		return -1;
	*v = strtod(s, &e);
	return *e ? -1 : 0;
}

/* Split s in place at blanks; returns the number of words, of which the first max are kept. */
static int split(char *s, char **tok, int max)
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

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* The lines of a text file, split in place: no '\n', no trailing '\r'. */
struct text {
	char **line;
	size_t n, maxlen;
	int cut; /* the last line has no newline: the file may end mid-line */
	char *scratch; /* maxlen + 1 bytes for tokenizing a copy of a line */
};

static int text_split(char *buf, size_t len, struct text *t)
{
	memset(t, 0, sizeof *t);
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	t->line = malloc(n * sizeof *t->line);
	if (!t->line)
		return SBR_ENOMEM;
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
	return t->scratch ? 0 : SBR_ENOMEM;
}

static void text_free(struct text *t)
{
	free(t->line);
	free(t->scratch);
}

/* The words of line i, in t->scratch (valid until the next call). */
static int words(struct text *t, size_t i, char **tok)
{
	memcpy(t->scratch, t->line[i], strlen(t->line[i]) + 1);
	return split(t->scratch, tok, MAX_TOK);
}

/* A data row is mostly numbers: nccl-tests rows hold two words (type, redop) among eleven or
 * more numbers, OMB rows at most a Pass/Fail; a launcher's "3 total processes killed (some
 * possibly by mpirun during cleanup)" starts with a number too but is words. */
static int mostly_numbers(char **tok, int nt)
{
	int num = 0, m = nt < MAX_TOK ? nt : MAX_TOK;
	for (int i = 0; i < m; i++) {
		const char *w = tok[i];
		num += isdigit((unsigned char)w[*w == '-' || *w == '.']) || !strcmp(w, "N/A") ||
		       !strcmp(w, "nan") || !strcmp(w, "inf");
	}
	return 2 * num > nt;
}

static int is_comment(const char *l)
{
	while (*l == ' ' || *l == '\t')
		l++;
	return *l == '#';
}

/* Lines by which a launcher says the job died; the table before them stands, but is partial. */
static const char *death_note(const char *l)
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

struct imp {
	const char *path;
	char *err;
	size_t errlen;
	char bench[64], family[32]; /* family: OMB's "MPI", "NCCL"..., lower case */
	const char *backend;
	long long ranks; /* -1: unknown */
	const char *span;
	json_t *method; /* copied into every point */
	json_t *points;
	int failed; /* some point's check failed */
	char why[200]; /* why the import is incomplete; "" when it is not */
	json_t *end; /* what the log says at its end (end_time, the tool's verdicts) */
};

/* One point as the tools print it; NAN and -1 for what the log does not show. */
struct pt {
	size_t line;
	long long bytes, count, root; /* root: -1 none */
	const char *dtype, *op, *place; /* place: "out-of-place"/"in-place" (nccl-tests), NULL */
	double mean, min, max, median, p5, p25, p75, p95, p99, stddev, cov; /* s */
	long long n;
	json_t *samples; /* s, or NULL; taken */
	json_t *metrics; /* or NULL; taken */
	json_t *params; /* extra params, or NULL; taken */
	const char *check; /* "ok", "failed", "off", "unknown" */
	long long wrong, check_iters;
	double max_error;
};

static void pt_init(struct pt *p, size_t line)
{
	memset(p, 0, sizeof *p);
	p->line = line;
	p->bytes = p->count = p->root = p->n = p->wrong = p->check_iters = -1;
	p->mean = p->min = p->max = p->median = p->p5 = p->p25 = p->p75 = p->p95 = p->p99 =
	    p->stddev = p->cov = p->max_error = NAN;
	p->check = "off";
}

static void metric(json_t *m, const char *name, double v, const char *unit)
{
	json_object_set_new(m, name, json_pack("{s:o,s:s}", "value", jnum(v), "unit", unit));
}

static void emit(struct imp *im, struct pt *p)
{
	json_t *r = json_object();
	json_object_set_new(r, "type", json_string("point"));
	json_object_set_new(r, "seq", json_integer((json_int_t)json_array_size(im->points)));
	json_object_set_new(r, "benchmark", jstr(im->bench));
	json_object_set_new(r, "backend", json_string(im->backend));
	json_object_set_new(r, "ranks", jint(im->ranks));

	char label[200];
	int nl = snprintf(label, sizeof label, "%s %lld B", im->bench, p->bytes < 0 ? 0 : p->bytes);
	if (p->place && nl > 0 && (size_t)nl < sizeof label)
		snprintf(label + nl, sizeof label - (size_t)nl, " %s%s%s %s",
		         p->dtype ? p->dtype : "?", strcmp(p->op, "-") ? " " : "",
		         strcmp(p->op, "-") ? p->op : "", p->place);
	json_object_set_new(r, "label", jstr(label));
	json_object_set_new(r, "span", json_string(im->span ? im->span : "unknown"));

	json_t *par = json_object();
	json_object_set_new(par, "bytes", json_integer(p->bytes < 0 ? 0 : p->bytes));
	json_object_set_new(par, "count", jint(p->count));
	json_object_set_new(par, "dtype", jstr(p->dtype));
	json_object_set_new(par, "op", jstr(p->op));
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
	json_object_set_new(s, "n", jint(p->n));
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
	json_object_set_new(c, "wrong", jint(p->wrong));
	json_object_set_new(c, "iterations", jint(p->check_iters));
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

static void pt_drop(struct pt *p)
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
	                              "version", "file", jstr(path)));
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
		json_object_set_new(end, "message", jstr(im->why));
	json_object_update(end, im->end);
	json_t *all = json_array();
	json_array_append_new(all, run);
	json_array_extend(all, im->points);
	json_array_append_new(all, end);
	return all;
}

static void incomplete(struct imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first reason wins: it is the earliest thing that went wrong. */
static void incomplete(struct imp *im, const char *fmt, ...)
{
	if (im->why[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(im->why, sizeof im->why, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ nccl-tests: names, ranks */

/* nccl-tests binaries are <op>_perf (some builds add _mpi); our names drop the suffix, and
 * all_reduce is our allreduce. */
static void nccl_bench(const char *prog, char *out, size_t n)
{
	snprintf(out, n, "%s", base_name(prog));
	char *s = strstr(out, "_perf");
	if (s)
		*s = '\0';
	if (!strcmp(out, "all_reduce"))
		snprintf(out, n, "allreduce");
}

/* A binary name from a file name when the log does not print one (nccl-tests before 2.17). */
static int name_from_path(const char *path, const char *const (*tab)[2], size_t ntab, char *out,
                          size_t n)
{
	const char *b = base_name(path);
	for (size_t i = 0; i < ntab; i++)
		if (strstr(b, tab[i][0])) {
			snprintf(out, n, "%s", tab[i][1]);
			return 1;
		}
	return 0;
}

/* The longer names first: all_reduce holds reduce. */
static const char *const nccl_files[][2] = {{"all_reduce", "allreduce"},
                                            {"allreduce", "allreduce"},
                                            {"all_gather", "all_gather"},
                                            {"allgather", "all_gather"},
                                            {"reduce_scatter", "reduce_scatter"},
                                            {"alltoall", "alltoall"},
                                            {"sendrecv", "sendrecv"},
                                            {"broadcast", "broadcast"},
                                            {"hypercube", "hypercube"},
                                            {"gather", "gather"},
                                            {"scatter", "scatter"},
                                            {"reduce", "reduce"}};

/* One rank as nccl-tests lists it under "# Using devices". */
struct nrank {
	long long rank, pid, device;
	char host[256], pci[64], name[256];
};

/* "#  Rank  0 Group  0 Pid  48211 on gpu-node-1 device  0 [0000:1b:00] NVIDIA H100 80GB HBM3";
 * before 2.13 without "Group", and with "[0x1b]" for the bus. */
static int nccl_rank_line(const char *line, char **tok, int nt, struct nrank *r)
{
	memset(r, 0, sizeof *r);
	r->rank = r->pid = r->device = -1;
	if (nt < 4 || strcmp(tok[0], "#") || strcmp(tok[1], "Rank") || num_i64(tok[2], &r->rank))
		return -1;
	int m = nt < MAX_TOK ? nt : MAX_TOK;
	for (int i = 3; i + 1 < m; i++) {
		if (!strcmp(tok[i], "on"))
			snprintf(r->host, sizeof r->host, "%s", tok[i + 1]);
		else if (!strcmp(tok[i], "Pid"))
			num_i64(tok[i + 1], &r->pid);
		else if (!strcmp(tok[i], "device"))
			num_i64(tok[i + 1], &r->device);
	}
	const char *lb = strchr(line, '['), *rb = lb ? strchr(lb, ']') : NULL;
	if (lb && rb) {
		snprintf(r->pci, sizeof r->pci, "%.*s", (int)(rb - lb - 1), lb + 1);
		const char *nm = rb + 1;
		while (*nm == ' ')
			nm++;
		snprintf(r->name, sizeof r->name, "%s", nm);
		size_t k = strlen(r->name);
		while (k && isspace((unsigned char)r->name[k - 1]))
			r->name[--k] = '\0';
	}
	return r->host[0] ? 0 : -1;
}

/* Hosts in order of first rank, each with its ranks; the host of every rank; every device. */
static void nccl_ranks_to(json_t *prov, const struct nrank *rk, size_t n)
{
	json_t *hosts = json_array(), *rank_hosts = json_array(), *devs = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *h = NULL;
		for (size_t j = 0; j < json_array_size(hosts) && !h; j++) {
			json_t *c = json_array_get(hosts, j);
			if (!strcmp(json_string_value(json_object_get(c, "host")), rk[i].host))
				h = c;
		}
		if (!h) {
			h = json_pack("{s:o,s:[]}", "host", jstr(rk[i].host), "ranks");
			json_array_append_new(hosts, h);
		}
		json_array_append_new(json_object_get(h, "ranks"), json_integer(rk[i].rank));
		json_array_append_new(rank_hosts, jstr(rk[i].host));
		json_array_append_new(devs, json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "rank",
		                                      (json_int_t)rk[i].rank, "host",
		                                      jstr(rk[i].host), "pid", jint(rk[i].pid),
		                                      "device", jint(rk[i].device), "bus",
		                                      jstr(rk[i].pci), "name", jstr(rk[i].name)));
	}
	json_object_set_new(prov, "hosts", hosts);
	json_object_set_new(prov, "rank_hosts", rank_hosts);
	json_object_set_new(prov, "devices", devs);
	if (n && rk[0].name[0]) {
		json_t *gpu = json_pack("{s:o}", "name", jstr(rk[0].name));
		unsigned dom, bus, dev;
		char tail;
		/* Since 2.13 nccl-tests prints domain:bus:device; ours adds the function. */
		if (sscanf(rk[0].pci, "%x:%x:%x%c", &dom, &bus, &dev, &tail) == 3) {
			char id[32];
			snprintf(id, sizeof id, "%04x:%02x:%02x.0", dom & 0xffff, bus & 0xff,
			         dev & 0xff);
			json_object_set_new(gpu, "pci_bus_id", json_string(id));
		}
		json_object_set_new(prov, "gpu", gpu);
	}
}

/* The widest pair class the log proves: several hosts, or a single rank. */
static const char *nccl_span(const struct nrank *rk, size_t n)
{
	if (n == 1)
		return "self";
	for (size_t i = 1; i < n; i++)
		if (strcmp(rk[i].host, rk[0].host))
			return "cross-host";
	return "unknown";
}

/* NCCL_VERSION_CODE: 2.9 on is major*10000 + minor*100 + patch, before it major*1000 + ... */
static json_t *nccl_version_str(long long code)
{
	char v[64];
	if (code <= 0)
		return json_null();
	if (code >= 10000)
		snprintf(v, sizeof v, "%lld.%lld.%lld", code / 10000, code / 100 % 100, code % 100);
	else
		snprintf(v, sizeof v, "%lld.%lld.%lld", code / 1000, code / 100 % 10, code % 100);
	return json_string(v);
}

/* ------------------------------------------------------------------ nccl-tests text */

enum ncol {
	N_OTHER,
	N_SIZE,
	N_COUNT,
	N_TYPE,
	N_REDOP,
	N_ROOT,
	N_TIME,
	N_ALGBW,
	N_BUSBW,
	N_WRONG,
	N_ERROR,
	N_IMIN,
	N_IMAX,
	N_IP99,
	N_ICV
};

#define NMAXCOL 16

/* A table's layout, from its column header line:
 * "#  size  count  type  redop  root  time  algbw  busbw  #wrong  time  algbw  busbw  #wrong"
 * with -C "cputime" for "time", with per-iteration timing i_min i_max i_p99 i_cv% in each half,
 * with -S a "timestamp" (two words in a row) at the end; before 2.x no root, "error" for
 * "#wrong". The first half is out-of-place, the second in-place. */
struct nlayout {
	size_t line;
	int npre, pre[NMAXCOL];
	int ngroups, gw[2], g[2][NMAXCOL];
	int inplace[2];
	int ts;
	int total;
};

static int nccl_layout(char **tok, int nt, const char *prev, size_t line, struct nlayout *L)
{
	memset(L, 0, sizeof *L);
	L->line = line;
	int have = 0;
	for (int i = 1; i < nt && i < MAX_TOK; i++) {
		const char *w = tok[i];
		if (!strcmp(w, "time") || !strcmp(w, "cputime")) {
			if (L->ngroups == 2)
				return -1;
			L->g[L->ngroups][0] = N_TIME;
			L->gw[L->ngroups++] = 1;
			continue;
		}
		if (!strcmp(w, "timestamp")) {
			L->ts = 1;
			break;
		}
		int k = N_OTHER;
		if (!L->ngroups) {
			k = !strcmp(w, "size")    ? N_SIZE
			    : !strcmp(w, "count") ? N_COUNT
			    : !strcmp(w, "type")  ? N_TYPE
			    : !strcmp(w, "redop") ? N_REDOP
			    : !strcmp(w, "root")  ? N_ROOT
			                          : N_OTHER;
			have |= k == N_SIZE;
			if (L->npre == NMAXCOL)
				return -1;
			L->pre[L->npre++] = k;
			continue;
		}
		k = !strcmp(w, "algbw")    ? N_ALGBW
		    : !strcmp(w, "busbw")  ? N_BUSBW
		    : !strcmp(w, "#wrong") ? N_WRONG
		    : !strcmp(w, "error")  ? N_ERROR
		    : !strcmp(w, "i_min")  ? N_IMIN
		    : !strcmp(w, "i_max")  ? N_IMAX
		    : !strcmp(w, "i_p99")  ? N_IP99
		    : !strcmp(w, "i_cv%")  ? N_ICV
		                           : N_OTHER;
		int g = L->ngroups - 1;
		if (L->gw[g] == NMAXCOL)
			return -1;
		L->g[g][L->gw[g]++] = k;
	}
	if (!have || !L->ngroups)
		return -1;
	L->inplace[0] = 0;
	L->inplace[1] = 1;
	/* One half only: the line above names it. */
	if (L->ngroups == 1 && prev && strstr(prev, "in-place") && !strstr(prev, "out-of-place"))
		L->inplace[0] = 1;
	L->total = L->npre + L->gw[0] + (L->ngroups > 1 ? L->gw[1] : 0) + 2 * L->ts;
	return 0;
}

struct nhead {
	char prog[256], version[64];
	long long headers, library;
	char runtime[64];
	json_t *options;
	long long iters, warmup, check, graph;
	struct nrank *rk;
	size_t nrk;
	size_t trailer; /* line of "# Avg bus bandwidth" (the last one), 0: none */
	double avg_busbw;
	long long oob;
};

/* "# nThread 1 nGpus 1 minBytes 8 maxBytes 134217728 step: 2(factor) warmup iters: 5 iters: 20
 * agg iters: 1 validation: 1 graph: 0": the options, named as in nccl-tests' own -J output. */
static void nccl_params_line(char **tok, int nt, struct nhead *h)
{
	int m = nt < MAX_TOK ? nt : MAX_TOK;
	for (int i = 1; i + 1 < m; i++) {
		const char *w = tok[i], *key = NULL;
		long long v;
		if (!strcmp(w, "nThread"))
			key = "nthreads";
		else if (!strcmp(w, "nGpus"))
			key = "ngpus";
		else if (!strcmp(w, "minBytes"))
			key = "minimum_bytes";
		else if (!strcmp(w, "maxBytes"))
			key = "maximum_bytes";
		else if (!strcmp(w, "iters:"))
			key = !strcmp(tok[i - 1], "warmup") ? "warmup_iters"
			      : !strcmp(tok[i - 1], "agg")  ? "aggregated_iterations"
			                                    : "iterations";
		else if (!strcmp(w, "validation:"))
			key = "validation";
		else if (!strcmp(w, "graph:"))
			key = "graph";
		else if (!strcmp(w, "unalign:"))
			key = "unalign";
		else if (!strcmp(w, "step:")) {
			char unit[16];
			if (sscanf(tok[i + 1], "%lld(%15[a-z])", &v, unit) == 2)
				json_object_set_new(h->options,
				                    !strcmp(unit, "factor") ? "step_factor"
				                                            : "step_bytes",
				                    json_integer(v));
			continue;
		}
		if (!key || num_i64(tok[i + 1], &v))
			continue;
		json_object_set_new(h->options, key, json_integer(v));
		if (!strcmp(key, "iterations"))
			h->iters = v;
		else if (!strcmp(key, "warmup_iters"))
			h->warmup = v;
		else if (!strcmp(key, "validation"))
			h->check = v;
		else if (!strcmp(key, "graph"))
			h->graph = v;
	}
}

/* The first pass: what the log says about the run, wherever it says it. */
static int nccl_head(struct imp *im, struct text *t, struct nhead *h)
{
	char *tok[MAX_TOK];
	for (size_t i = 0; i < t->n; i++) {
		const char *l = t->line[i], *s;
		int nt = words(t, i, tok);
		if (!nt)
			continue;
		if ((s = strstr(l, "# Collective test starting:")) ||
		    (s = strstr(l, "# Collective test concluded:"))) {
			if (!h->prog[0] && nt >= 5)
				snprintf(h->prog, sizeof h->prog, "%s", tok[4]);
		} else if (strstr(l, "# nccl-tests version")) {
			if (nt >= 4)
				snprintf(h->version, sizeof h->version, "%s", tok[3]);
			for (int k = 4; k < nt && k < MAX_TOK; k++) {
				if (!strncmp(tok[k], "nccl-headers=", 13))
					h->headers = atoll(tok[k] + 13);
				else if (!strncmp(tok[k], "nccl-library=", 13))
					h->library = atoll(tok[k] + 13);
			}
		} else if (nt > 2 && !strcmp(tok[0], "#") && !strcmp(tok[1], "nThread")) {
			nccl_params_line(tok, nt, h);
		} else if (nt > 2 && !strcmp(tok[0], "#") && !strcmp(tok[1], "Rank")) {
			struct nrank r;
			if (nccl_rank_line(l, tok, nt, &r) == 0) {
				struct nrank *nr = realloc(h->rk, (h->nrk + 1) * sizeof *nr);
				if (!nr)
					return SBR_ENOMEM;
				h->rk = nr;
				h->rk[h->nrk++] = r;
			}
		} else if ((s = strstr(l, "Avg bus bandwidth")) && is_comment(l)) {
			h->trailer = i + 1;
			const char *c = strchr(s, ':');
			h->avg_busbw = c ? strtod(c + 1, NULL) : NAN;
		} else if ((s = strstr(l, "Out of bounds values")) && is_comment(l)) {
			const char *c = strchr(s, ':');
			h->oob = c ? atoll(c + 1) : -1;
		} else if ((s = strstr(l, "NCCL version ")) && !h->runtime[0]) {
			/* NCCL_DEBUG=INFO (or VERSION): "NCCL INFO NCCL version 2.27.3+cuda12.9" */
			sscanf(s + 13, "%63[0-9.]", h->runtime);
		} else if (!is_comment(l) && !h->prog[0]) {
			/* a launcher's echo of the command line */
			for (int k = 0; k < nt && k < MAX_TOK; k++) {
				const char *b = base_name(tok[k]);
				size_t bl = strlen(b);
				if ((bl > 5 && !strcmp(b + bl - 5, "_perf")) ||
				    (bl > 9 && !strcmp(b + bl - 9, "_perf_mpi"))) {
					snprintf(h->prog, sizeof h->prog, "%s", b);
					break;
				}
			}
		}
		const char *d = death_note(l);
		if (d)
			incomplete(im, "the job died (\"%s\", line %zu)", d, i + 1);
	}
	return 0;
}

/* One half of a row (out-of-place or in-place) from words w[0..gw-1]. */
static int nccl_half(struct imp *im, const struct nlayout *L, int g, char **w, struct pt *p,
                     const struct nhead *h)
{
	const int *k = L->g[g];
	double algbw = NAN, busbw = NAN;
	p->place = L->inplace[g] ? "in-place" : "out-of-place";
	p->n = h->iters;
	p->check_iters = h->check;
	for (int c = 0; c < L->gw[g]; c++) {
		double v;
		if (k[c] == N_OTHER)
			continue;
		if (k[c] == N_WRONG && !strcmp(w[c], "N/A")) {
			p->check = "off";
			continue;
		}
		if (num_dbl(w[c], &v))
			return sbr_fail(im->err, im->errlen, SBR_EINPUT,
			                "%s:%zu: \"%s\" where the %s %s column (header line %zu) "
			                "wants a number",
			                im->path, p->line, w[c], p->place,
			                k[c] == N_TIME    ? "time"
			                : k[c] == N_ALGBW ? "algbw"
			                : k[c] == N_BUSBW ? "busbw"
			                : k[c] == N_WRONG ? "#wrong"
			                                  : "statistics",
			                L->line);
		switch (k[c]) {
		case N_TIME:
			p->mean = v * 1e-6;
			break;
		case N_ALGBW:
			algbw = v * 1e9;
			break;
		case N_BUSBW:
			busbw = v * 1e9;
			break;
		case N_WRONG:
			/* printed with %g: large counts come as 1e+06 */
			p->wrong = v < 0 ? -1 : (long long)llround(v);
			p->check = v > 0 ? "failed" : "ok";
			if (p->check_iters < 0)
				p->check_iters = 1;
			break;
		case N_ERROR:
			/* before #wrong: the largest difference seen, judged against a tolerance
			 * the log does not print, so only an exact zero is known to be right */
			p->max_error = v;
			p->check = v == 0 ? "ok" : "unknown";
			break;
		case N_IMIN:
			p->min = v * 1e-6;
			break;
		case N_IMAX:
			p->max = v * 1e-6;
			break;
		case N_IP99:
			p->p99 = v * 1e-6;
			break;
		case N_ICV:
			p->cov = v / 100;
			break;
		default:
			break;
		}
	}
	p->metrics = json_object();
	metric(p->metrics, "algbw", algbw, "B/s");
	metric(p->metrics, "busbw", busbw, "B/s");
	return 0;
}

/* A data row: one point per half it has. */
static int nccl_row(struct imp *im, const struct nlayout *L, char **tok, int nt, size_t line,
                    const struct nhead *h)
{
	int halves = L->ngroups, first = 0;
	if (nt != L->total) {
		/* trace replay prints blanks for the out-of-place half */
		if (L->ngroups == 2 && nt == L->total - L->gw[0]) {
			first = 1;
		} else {
			return sbr_fail(
			    im->err, im->errlen, SBR_EINPUT,
			    "%s:%zu: a data row of %d columns; the header (line %zu) has %d",
			    im->path, line, nt, L->line, L->total);
		}
	}

	struct pt base;
	pt_init(&base, line);
	base.op = "-";
	for (int c = 0; c < L->npre; c++) {
		const char *w = tok[c];
		unsigned long long u;
		long long v;
		switch (L->pre[c]) {
		case N_SIZE:
		case N_COUNT:
			if (num_u64(w, &u) || u > LLONG_MAX)
				return sbr_fail(
				    im->err, im->errlen, SBR_EINPUT,
				    "%s:%zu: \"%s\" where the %s column wants a whole number",
				    im->path, line, w, L->pre[c] == N_SIZE ? "size" : "count");
			*(L->pre[c] == N_SIZE ? &base.bytes : &base.count) = (long long)u;
			break;
		case N_TYPE:
			base.dtype = w;
			break;
		case N_REDOP:
			base.op = strcmp(w, "none") ? w : "-";
			break;
		case N_ROOT:
			if (num_i64(w, &v))
				return sbr_fail(im->err, im->errlen, SBR_EINPUT,
				                "%s:%zu: \"%s\" where the root column wants a rank",
				                im->path, line, w);
			base.root = v < 0 ? -1 : v;
			break;
		default:
			break;
		}
	}
	struct pt half[2];
	int off = L->npre;
	for (int g = first; g < halves; g++) {
		half[g] = base;
		int rc = nccl_half(im, L, g, tok + off, &half[g], h);
		off += L->gw[g];
		if (rc) {
			for (int k = first; k <= g; k++)
				pt_drop(&half[k]);
			return rc;
		}
	}
	for (int g = first; g < halves; g++)
		emit(im, &half[g]);
	return 0;
}

static int import_nccl_text(struct imp *im, struct text *t, json_t *run)
{
	struct nhead h = {
	    .iters = -1, .warmup = -1, .check = -1, .graph = -1, .oob = -1, .avg_busbw = NAN};
	h.options = json_object();
	int rc = nccl_head(im, t, &h);
	if (rc)
		goto out;

	if (h.prog[0])
		nccl_bench(h.prog, im->bench, sizeof im->bench);
	else if (!name_from_path(im->path, nccl_files, sizeof nccl_files / sizeof *nccl_files,
	                         im->bench, sizeof im->bench))
		snprintf(im->bench, sizeof im->bench, "unknown");
	im->backend = "nccl";
	im->ranks = h.nrk ? (long long)h.nrk : -1;
	im->span = nccl_span(h.rk, h.nrk);
	im->method = json_pack("{s:s,s:s,s:o,s:o}", "timer", "nccl-tests", "data_path",
	                       h.graph > 0 ? "device memory, NCCL, replayed from a CUDA graph"
	                                   : "device memory, NCCL",
	                       "warmup", jint(h.warmup), "iterations", jint(h.iters));

	json_t *prov = json_object_get(run, "provenance");
	json_object_set_new(prov, "backend", json_string("nccl"));
	json_object_set_new(prov, "ranks", jint(im->ranks));
	nccl_ranks_to(prov, h.rk, h.nrk);
	json_object_set_new(prov, "nccl_compiled", nccl_version_str(h.headers));
	json_object_set_new(prov, "nccl_runtime",
	                    h.library > 0  ? nccl_version_str(h.library)
	                    : h.runtime[0] ? jstr(h.runtime)
	                                   : json_null());
	json_object_set_new(run, "command", jstr(im->bench));
	json_object_set_new(run, "options", json_incref(h.options));
	json_t *origin = json_object_get(run, "origin");
	json_object_set_new(origin, "version", h.version[0] ? jstr(h.version) : json_null());
	json_object_set_new(origin, "program", h.prog[0] ? jstr(h.prog) : json_null());

	struct nlayout L = {0};
	int have = 0;
	size_t last_row = 0;
	char *tok[MAX_TOK];
	for (size_t i = 0; i < t->n; i++) {
		int nt = words(t, i, tok);
		if (!nt)
			continue;
		if (!strcmp(tok[0], "#")) {
			int sz = 0, ct = 0;
			for (int k = 1; k < nt && k < MAX_TOK; k++) {
				sz |= !strcmp(tok[k], "size");
				ct |= !strcmp(tok[k], "count");
			}
			if (sz && ct) {
				if (nccl_layout(tok, nt, i ? t->line[i - 1] : NULL, i + 1, &L)) {
					rc = sbr_fail(
					    im->err, im->errlen, SBR_EINPUT,
					    "%s:%zu: a column header nccl-tests never prints",
					    im->path, i + 1);
					goto out;
				}
				have = 1;
			}
			continue;
		}
		unsigned long long u;
		if (!have || num_u64(tok[0], &u) || !mostly_numbers(tok, nt))
			continue;
		rc = nccl_row(im, &L, tok, nt, i + 1, &h);
		if (rc && i + 1 == t->n && t->cut) {
			/* killed while printing the row */
			incomplete(im, "the last line (%zu) is cut short", i + 1);
			rc = 0;
			break;
		}
		if (rc)
			goto out;
		last_row = i + 1;
	}
	if (!json_array_size(im->points)) {
		rc = sbr_fail(im->err, im->errlen, SBR_EINPUT, "%s:%zu: no data rows%s", im->path,
		              t->n, have ? "" : " (no \"size count type ...\" column header)");
		goto out;
	}
	if (h.trailer < last_row)
		incomplete(im,
		           "no \"# Avg bus bandwidth\" line after the last row (line %zu): the run "
		           "did not finish",
		           last_row);
	/* the tool's own verdicts, as it printed them */
	if (isfinite(h.avg_busbw) && h.trailer)
		json_object_set_new(im->end, "avg_busbw", json_real(h.avg_busbw * 1e9));
	if (h.oob >= 0)
		json_object_set_new(im->end, "out_of_bounds", json_integer(h.oob));
out:
	json_decref(h.options);
	free(h.rk);
	return rc;
}

/* ------------------------------------------------------------------ nccl-tests -J JSON */

/* Where the elements of the top-level "results" list start, and the longest prefix of a document
 * cut off mid-way that closes into valid JSON: nccl-tests writes its JSON as it goes and closes
 * it at exit, so a killed run leaves every finished row on disk without the closing brackets. */
struct jscan {
	size_t *elem, nelem;
	size_t safe; /* prefix length */
	const char *close; /* what closes it; NULL: nothing safe found */
};

static int json_scan(const char *b, size_t n, struct jscan *s)
{
	memset(s, 0, sizeof *s);
	size_t cap = 0, key0 = 0, key1 = 0;
	int depth = 0, instr = 0, esc = 0, iskey = 0, expect_key = 0, inres = 0, want_elem = 0;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		if (instr) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"') {
				instr = 0;
				if (iskey)
					key1 = i;
			}
			continue;
		}
		if (isspace((unsigned char)c))
			continue;
		if (inres && depth == 2 && want_elem && c != ']') {
			if (s->nelem == cap) {
				cap = cap ? 2 * cap : 64;
				size_t *ne = realloc(s->elem, cap * sizeof *ne);
				if (!ne)
					return SBR_ENOMEM;
				s->elem = ne;
			}
			s->elem[s->nelem++] = i;
		}
		want_elem = 0;
		switch (c) {
		case '"':
			instr = 1;
			iskey = depth == 1 && expect_key;
			if (iskey)
				key0 = i + 1;
			expect_key = 0;
			break;
		case '{':
		case '[':
			depth++;
			if (depth == 1)
				expect_key = c == '{';
			if (depth == 2 && c == '[' && key1 - key0 == 7 &&
			    !strncmp(b + key0, "results", 7))
				inres = want_elem = 1;
			break;
		case '}':
		case ']':
			depth--;
			if (depth == 2 && inres) {
				s->safe = i + 1;
				s->close = "]}";
			} else if (depth == 1) {
				s->safe = i + 1;
				s->close = "}";
				inres = 0;
			}
			break;
		case ',':
			if (depth == 1) {
				s->safe = i;
				s->close = "}";
				expect_key = 1;
			} else if (depth == 2 && inres) {
				want_elem = 1;
			}
			break;
		default:
			break;
		}
		if (depth < 0)
			break;
	}
	return 0;
}

static size_t line_of(const char *b, size_t off)
{
	size_t l = 1;
	for (size_t i = 0; i < off; i++)
		l += b[i] == '\n';
	return l;
}

/* A number the writer printed with %lf, or "nan" (it writes NaN as that string). */
static int jget_num(json_t *o, const char *k, double *v)
{
	json_t *j = json_object_get(o, k);
	if (json_is_number(j)) {
		*v = json_number_value(j);
		return 1;
	}
	if (json_is_string(j) && !strcmp(json_string_value(j), "nan")) {
		*v = NAN;
		return 1;
	}
	*v = NAN;
	return j && !json_is_null(j) ? -1 : 0;
}

static long long jget_int(json_t *o, const char *k)
{
	json_t *j = json_object_get(o, k);
	if (json_is_integer(j))
		return (long long)json_integer_value(j);
	if (json_is_real(j) && json_real_value(j) >= 0 && json_real_value(j) < 9e18)
		return (long long)json_real_value(j);
	if (json_is_string(j)) {
		long long v;
		const char *s = json_string_value(j);
		while (*s == ' ')
			s++;
		if (!num_i64(s, &v))
			return v;
	}
	return LLONG_MIN;
}

/* "2025-06-02 14:03:17" (the writer's local time, zone unknown) as ISO 8601 without a zone. */
static json_t *json_time(json_t *j)
{
	const char *s = json_string_value(j);
	if (!s)
		return json_null();
	char buf[64];
	snprintf(buf, sizeof buf, "%s", s);
	if (strlen(buf) == 19 && buf[10] == ' ')
		buf[10] = 'T';
	return jstr(buf);
}

static int json_half(struct imp *im, json_t *res, size_t idx, const char *key, struct pt *p,
                     long long check_iters)
{
	json_t *o = json_object_get(res, key);
	if (!o || json_is_null(o))
		return 1;
	if (!json_is_object(o))
		return sbr_fail(im->err, im->errlen, SBR_EINPUT,
		                "%s:%zu: results[%zu].%s is not an object", im->path, p->line, idx,
		                key);
	double t, alg, bus, wrong;
	const char *tk = json_object_get(o, "cpu_time") ? "cpu_time" : "time";
	int a = jget_num(o, tk, &t), b = jget_num(o, "alg_bw", &alg),
	    c = jget_num(o, "bus_bw", &bus), d = jget_num(o, "nwrong", &wrong);
	if (a <= 0 || b < 0 || c < 0 || d < 0)
		return sbr_fail(im->err, im->errlen, SBR_EINPUT,
		                "%s:%zu: results[%zu].%s: %s is not a number", im->path, p->line,
		                idx, key,
		                a <= 0  ? tk
		                : b < 0 ? "alg_bw"
		                : c < 0 ? "bus_bw"
		                        : "nwrong");
	p->place = !strcmp(key, "in_place") ? "in-place" : "out-of-place";
	p->mean = t * 1e-6;
	p->metrics = json_object();
	metric(p->metrics, "algbw", alg * 1e9, "B/s");
	metric(p->metrics, "busbw", bus * 1e9, "B/s");
	if (d && isfinite(wrong)) {
		p->wrong = (long long)llround(wrong);
		p->check = wrong > 0 ? "failed" : "ok";
		p->check_iters = check_iters > 0 ? check_iters : 1;
	}

	/* -R per-iteration timing (JSON version 2): the samples themselves */
	char pk[32];
	snprintf(pk, sizeof pk, "%s_per_iter", key);
	json_t *pi = json_object_get(res, pk);
	if (json_is_object(pi)) {
		double v;
		if (jget_num(pi, "min_us", &v) > 0)
			p->min = v * 1e-6;
		if (jget_num(pi, "max_us", &v) > 0)
			p->max = v * 1e-6;
		if (jget_num(pi, "p50_us", &v) > 0)
			p->median = v * 1e-6;
		if (jget_num(pi, "p95_us", &v) > 0)
			p->p95 = v * 1e-6;
		if (jget_num(pi, "p99_us", &v) > 0)
			p->p99 = v * 1e-6;
		if (jget_num(pi, "stdev_us", &v) > 0)
			p->stddev = v * 1e-6;
		if (jget_num(pi, "cv_pct", &v) > 0)
			p->cov = v / 100;
		json_t *ts = json_object_get(pi, "times_us"), *x;
		size_t i;
		/* samples are times: a list with anything else is left out whole */
		int good = json_is_array(ts) && json_array_size(ts);
		json_array_foreach(ts, i, x)
		{
			good &= json_is_number(x) && isfinite(json_number_value(x)) &&
			        json_number_value(x) >= 0;
		}
		if (good) {
			p->samples = json_array();
			json_array_foreach(ts, i, x)
			{
				json_array_append_new(p->samples,
				                      json_real(json_number_value(x) * 1e-6));
			}
			p->n = (long long)json_array_size(ts);
		}
	}
	return 0;
}

static int import_nccl_json(struct imp *im, json_t *doc, const struct jscan *sc, const char *buf,
                            json_t *run)
{
	json_t *results = json_object_get(doc, "results");
	json_t *cfg = json_object_get(doc, "config");
	json_t *devs = json_object_get(json_is_object(cfg) ? cfg : doc, "devices");
	json_t *args = json_object_get(doc, "args");
	const char *a0 = json_string_value(json_array_get(args, 0));

	if (a0)
		nccl_bench(a0, im->bench, sizeof im->bench);
	else if (!name_from_path(im->path, nccl_files, sizeof nccl_files / sizeof *nccl_files,
	                         im->bench, sizeof im->bench))
		snprintf(im->bench, sizeof im->bench, "unknown");
	im->backend = "nccl";

	size_t nrk = 0;
	struct nrank *rk = NULL;
	if (json_is_array(devs) && json_array_size(devs)) {
		rk = calloc(json_array_size(devs), sizeof *rk);
		if (!rk)
			return SBR_ENOMEM;
		size_t i;
		json_t *d;
		json_array_foreach(devs, i, d)
		{
			struct nrank *r = &rk[nrk++];
			long long v = jget_int(d, "rank");
			r->rank = v == LLONG_MIN ? (long long)i : v;
			v = jget_int(d, "pid");
			r->pid = v == LLONG_MIN ? -1 : v;
			v = jget_int(d, "device");
			r->device = v == LLONG_MIN ? -1 : v;
			const char *s = json_string_value(json_object_get(d, "hostname"));
			snprintf(r->host, sizeof r->host, "%s", s ? s : "?");
			s = json_string_value(json_object_get(d, "device_hex"));
			snprintf(r->pci, sizeof r->pci, "%s", s ? s : "");
			s = json_string_value(json_object_get(d, "device_info"));
			snprintf(r->name, sizeof r->name, "%s", s ? s : "");
		}
	}
	im->ranks = nrk ? (long long)nrk : -1;
	im->span = nccl_span(rk, nrk);
	long long iters = json_is_object(cfg) ? jget_int(cfg, "iterations") : LLONG_MIN;
	long long warm = json_is_object(cfg) ? jget_int(cfg, "warmup_iters") : LLONG_MIN;
	long long check = json_is_object(cfg) ? jget_int(cfg, "validation") : LLONG_MIN;
	long long graph = json_is_object(cfg) ? jget_int(cfg, "graph") : LLONG_MIN;
	im->method = json_pack("{s:s,s:s,s:o,s:o}", "timer", "nccl-tests", "data_path",
	                       graph > 0 && graph != LLONG_MIN
	                           ? "device memory, NCCL, replayed from a CUDA graph"
	                           : "device memory, NCCL",
	                       "warmup", jint(warm == LLONG_MIN ? -1 : warm), "iterations",
	                       jint(iters == LLONG_MIN ? -1 : iters));

	json_t *prov = json_object_get(run, "provenance");
	json_object_set_new(prov, "backend", json_string("nccl"));
	json_object_set_new(prov, "ranks", jint(im->ranks));
	nccl_ranks_to(prov, rk, nrk);
	free(rk);
	long long nv = jget_int(doc, "nccl_version");
	json_object_set_new(prov, "nccl_runtime", nccl_version_str(nv == LLONG_MIN ? 0 : nv));
	json_object_set_new(run, "command", jstr(im->bench));
	json_object_set_new(run, "start_time", json_time(json_object_get(doc, "start_time")));
	if (json_is_array(args))
		json_object_set_new(run, "argv", json_deep_copy(args));
	if (json_is_array(json_object_get(doc, "env")))
		json_object_set_new(prov, "env", json_deep_copy(json_object_get(doc, "env")));
	if (json_is_object(cfg)) {
		json_t *opt = json_deep_copy(cfg);
		json_object_del(opt, "devices");
		json_object_set_new(run, "options", opt);
	}
	json_t *origin = json_object_get(run, "origin");
	long long fv = jget_int(doc, "version");
	json_object_set_new(origin, "json_version", jint(fv == LLONG_MIN ? -1 : fv));
	json_object_set_new(origin, "program", a0 ? jstr(base_name(a0)) : json_null());

	size_t i;
	json_t *res;
	json_array_foreach(results, i, res)
	{
		size_t line = i < sc->nelem ? line_of(buf, sc->elem[i]) : 1;
		if (!json_is_object(res))
			return sbr_fail(im->err, im->errlen, SBR_EINPUT,
			                "%s:%zu: results[%zu] is not an object", im->path, line, i);
		struct pt base;
		pt_init(&base, line);
		base.bytes = jget_int(res, "size");
		base.count = jget_int(res, "count");
		if (base.bytes == LLONG_MIN || base.bytes < 0)
			return sbr_fail(im->err, im->errlen, SBR_EINPUT,
			                "%s:%zu: results[%zu] has no size in bytes", im->path, line,
			                i);
		if (base.count == LLONG_MIN)
			base.count = -1;
		base.dtype = json_string_value(json_object_get(res, "type"));
		const char *op = json_string_value(json_object_get(res, "redop"));
		base.op = op && strcmp(op, "none") ? op : "-";
		long long root = jget_int(res, "root");
		base.root = root == LLONG_MIN || root < 0 ? -1 : root;
		long long ai = jget_int(res, "actual_iterations");
		base.n = ai != LLONG_MIN ? ai : iters != LLONG_MIN ? iters : -1;

		static const char *const keys[2] = {"out_of_place", "in_place"};
		struct pt half[2];
		int got = 0;
		for (int g = 0; g < 2; g++) {
			half[g] = base;
			int rc = json_half(im, res, i, keys[g], &half[g],
			                   check == LLONG_MIN ? -1 : check);
			if (rc < 0) {
				for (int k = 0; k <= g; k++)
					pt_drop(&half[k]);
				return rc;
			}
			if (rc == 0)
				got |= 1 << g;
		}
		if (!got)
			return sbr_fail(
			    im->err, im->errlen, SBR_EINPUT,
			    "%s:%zu: results[%zu] has neither out_of_place nor in_place", im->path,
			    line, i);
		for (int g = 0; g < 2; g++)
			if (got & 1 << g)
				emit(im, &half[g]);
	}
	if (!json_array_size(im->points))
		return sbr_fail(im->err, im->errlen, SBR_EINPUT, "%s:1: no results", im->path);
	if (!json_object_get(doc, "average_bus_bandwidth"))
		incomplete(im, "no average_bus_bandwidth (line %zu): the run did not finish",
		           line_of(buf, strlen(buf)));
	json_t *bw = json_object_get(json_object_get(doc, "average_bus_bandwidth"), "bandwidth");
	if (json_is_number(bw))
		json_object_set_new(im->end, "avg_busbw", json_real(json_number_value(bw) * 1e9));
	json_t *oob = json_object_get(json_object_get(doc, "out_of_bounds"), "count");
	if (json_is_integer(oob))
		json_object_set_new(im->end, "out_of_bounds", json_incref(oob));
	if (json_object_get(doc, "end_time"))
		json_object_set_new(im->end, "end_time",
		                    json_time(json_object_get(doc, "end_time")));
	return 0;
}

/* ------------------------------------------------------------------ OSU Micro-Benchmarks */

/* "# OSU MPI-CUDA Allreduce Latency Test v7.4": the family (MPI, with the accelerator after a
 * dash), the title words, the version. Our benchmark names are the binaries' without "osu_":
 * the title words name it (Broadcast is osu_bcast, Bi-Directional Bandwidth osu_bibw,
 * Non-blocking X osu_iX). */
struct otitle {
	char family[32], accel[32], version[32], bench[64];
};

static void omb_title(const char *line, struct otitle *o)
{
	char buf[512], *tok[MAX_TOK];
	memset(o, 0, sizeof *o);
	snprintf(buf, sizeof buf, "%s", line);
	int nt = split(buf, tok, MAX_TOK);
	if (nt > MAX_TOK)
		nt = MAX_TOK;
	if (nt < 3)
		return;
	/* tok[0] "#", tok[1] "OSU", tok[2] family[-ACCEL] */
	char *dash = strchr(tok[2], '-');
	if (dash) {
		*dash = '\0';
		snprintf(o->accel, sizeof o->accel, "%s", dash + 1);
	}
	snprintf(o->family, sizeof o->family, "%s", tok[2]);
	int i = 3;
	if (i < nt && !strcmp(tok[i], "MANAGED"))
		i++;
	int nonblocking = 0, persistent = 0;
	char body[256] = "";
	/* one-sided titles carry the call in the family: "OSU MPI_Put Latency Test" */
	const char *us = strchr(o->family, '_');
	if (us)
		snprintf(body, sizeof body, "%s", us + 1);
	for (; i < nt; i++) {
		char *w = tok[i];
		if (w[0] == 'v' && isdigit((unsigned char)w[1])) {
			snprintf(o->version, sizeof o->version, "%s", w + 1);
			continue;
		}
		for (char *c = w; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!strcmp(w, "non-blocking"))
			nonblocking = 1;
		else if (!strcmp(w, "persistent"))
			persistent = 1;
		else if (strcmp(w, "test") && (us || strcmp(w, "latency")) &&
		         strcmp(w, "personalized") && strcmp(w, "exchange") && strcmp(w, "w/") &&
		         strcmp(w, "integrity") && strcmp(w, "check")) {
			size_t bl = strlen(body);
			snprintf(body + bl, sizeof body - bl, "%s%s", bl ? "_" : "", w);
		}
	}
	for (char *c = body; *c; c++)
		*c = *c == '-' || *c == '/' ? '_' : (char)tolower((unsigned char)*c);
	static const char *const map[][2] = {{"", "latency"},
	                                     {"bandwidth", "bandwidth"},
	                                     {"bi_directional_bandwidth", "bibw"},
	                                     {"broadcast", "bcast"},
	                                     {"all_to_all", "alltoall"},
	                                     {"all_to_allv", "alltoallv"},
	                                     {"all_to_allw", "alltoallw"},
	                                     {"multiple_bandwidth___message_rate", "mbw_mr"},
	                                     {"multi", "multi_lat"},
	                                     {"multi_threaded", "latency_mt"},
	                                     {"multi_process", "latency_mp"}};
	const char *name = body;
	for (size_t k = 0; k < sizeof map / sizeof *map; k++)
		if (!strcmp(body, map[k][0]))
			name = map[k][1];
	/* one-sided: "put_bandwidth" is osu_put_bw, "put_bi_directional_bandwidth" osu_put_bibw */
	size_t bl = strlen(body);
	if (us && bl > 25 && !strcmp(body + bl - 25, "_bi_directional_bandwidth"))
		memcpy(body + bl - 25, "_bibw", 6);
	else if (us && bl > 10 && !strcmp(body + bl - 10, "_bandwidth"))
		memcpy(body + bl - 10, "_bw", 4);
	snprintf(o->bench, sizeof o->bench, "%s%.48s%s", nonblocking ? "i" : "", name,
	         persistent ? "_persistent" : "");
}

enum ocol { O_OTHER, O_SIZE, O_MEAN, O_MIN, O_MAX, O_ITERS, O_BW, O_RATE, O_VALID, O_TAIL, O_XMIT };

struct ocolumn {
	int kind, pct; /* pct: the percentile of a tail column */
	int bw; /* a tail column in MB/s rather than us */
	char name[64];
	double scale; /* to our unit */
	const char *unit;
};

/* Columns from a header line: words are gathered until one ends a column name, at ")" or at a
 * name of one word; OMB pads names to a field width, sometimes with a single blank, so blanks
 * alone cannot tell where a name ends. */
static int omb_columns(char **tok, int nt, struct ocolumn *col, int max)
{
	int n = 0;
	char name[128] = "";
	for (int i = 1; i < nt && i < MAX_TOK; i++) {
		size_t l = strlen(name);
		snprintf(name + l, sizeof name - l, "%s%s", l ? " " : "", tok[i]);
		const char *w = tok[i];
		size_t wl = strlen(w);
		if (!(wl && w[wl - 1] == ')') && strcasecmp(w, "Size") &&
		    strcasecmp(w, "Iterations") && strcasecmp(w, "Validation") &&
		    strcasecmp(w, "MB/s") && strcasecmp(w, "Messages/s") && i + 1 < nt)
			continue;
		if (n == max)
			return -1;
		struct ocolumn *c = &col[n++];
		memset(c, 0, sizeof *c);
		snprintf(c->name, sizeof c->name, "%.63s", name);
		c->scale = 1;
		c->unit = "";
		int pct;
		if (!strcasecmp(name, "Size"))
			c->kind = O_SIZE;
		else if (!strcmp(name, "Transmit Size"))
			c->kind = O_XMIT;
		else if (!strcmp(name, "Iterations"))
			c->kind = O_ITERS;
		else if (!strcmp(name, "Validation"))
			c->kind = O_VALID;
		else if (!strcmp(name, "Messages/s"))
			c->kind = O_RATE;
		else if (strstr(name, "MB/s") && !strstr(name, "Tail"))
			c->kind = O_BW;
		else if (sscanf(name, "P%d Tail", &pct) == 1) {
			c->kind = O_TAIL;
			c->pct = pct;
			c->bw = strstr(name, "MB/s") != NULL;
		} else if (!strncmp(name, "Min Latency", 11))
			c->kind = O_MIN;
		else if (!strncmp(name, "Max Latency", 11))
			c->kind = O_MAX;
		else if (strstr(name, "Latency") || !strcmp(name, "Overall(us)"))
			c->kind = O_MEAN;
		else
			c->kind = O_OTHER;
		if (c->kind == O_OTHER) {
			/* a metric named after the column: "Pure Comm.(us)" is pure_comm, in s */
			char *p = c->name, *q = c->name;
			int sep = 0;
			if (strstr(name, "(us)")) {
				c->scale = 1e-6;
				c->unit = "s";
			} else if (strstr(name, "(%)")) {
				c->unit = "%";
			}
			char *paren = strchr(p, '(');
			if (paren)
				*paren = '\0';
			for (; *p; p++) {
				if (isalnum((unsigned char)*p)) {
					if (sep && q > c->name)
						*q++ = '_';
					*q++ = (char)tolower((unsigned char)*p);
					sep = 0;
				} else {
					sep = 1;
				}
			}
			*q = '\0';
		}
		name[0] = '\0';
	}
	return n;
}

struct ohead {
	struct otitle t;
	int have_title;
	char title[256];
	char buffers[2][16]; /* "host", "device", "managed": send, receive */
};

static const char *omb_buffer(const char *s)
{
	return !strncmp(s, "DEVICE", 6) ? "device" : !strncmp(s, "MANAGED", 7) ? "managed" : "host";
}

static int import_osu_text(struct imp *im, struct text *t, json_t *run)
{
	struct ohead h;
	memset(&h, 0, sizeof h);
	char *tok[MAX_TOK];
	for (size_t i = 0; i < t->n; i++) {
		const char *l = t->line[i], *s;
		if (!h.have_title && !strncmp(l, "# OSU ", 6)) {
			omb_title(l, &h.t);
			snprintf(h.title, sizeof h.title, "%s", l + 2);
			h.have_title = 1;
		} else if ((s = strstr(l, "# Send Buffer on ")) ||
		           (s = strstr(l, "# Rank 0 Memory on "))) {
			const char *a = strstr(s, " on ");
			const char *b = a ? strstr(a + 4, " on ") : NULL;
			if (a && b) {
				snprintf(h.buffers[0], sizeof h.buffers[0], "%s",
				         omb_buffer(a + 4));
				snprintf(h.buffers[1], sizeof h.buffers[1], "%s",
				         omb_buffer(b + 4));
			}
		}
		const char *d = death_note(l);
		if (d)
			incomplete(im, "the job died (\"%s\", line %zu)", d, i + 1);
	}
	static const char *const osu_files[][2] = {{"osu_latency", "latency"},
	                                           {"osu_bibw", "bibw"},
	                                           {"osu_bw", "bandwidth"},
	                                           {"osu_allreduce", "allreduce"},
	                                           {"osu_allgather", "allgather"},
	                                           {"osu_alltoall", "alltoall"},
	                                           {"osu_reduce_scatter", "reduce_scatter"},
	                                           {"osu_reduce", "reduce"},
	                                           {"osu_bcast", "bcast"},
	                                           {"osu_barrier", "barrier"},
	                                           {"osu_gather", "gather"},
	                                           {"osu_scatter", "scatter"}};
	if (h.have_title && h.t.bench[0])
		snprintf(im->bench, sizeof im->bench, "%s", h.t.bench);
	else if (!name_from_path(im->path, osu_files, sizeof osu_files / sizeof *osu_files,
	                         im->bench, sizeof im->bench))
		snprintf(im->bench, sizeof im->bench, "unknown");

	/* Device buffers: the title says -CUDA/-ROCM/-OPENACC; point-to-point tests also say which
	 * side, and may still use host memory on both. */
	int device =
	    h.t.accel[0] && strcmp(h.t.accel, "CXL") &&
	    !(h.buffers[0][0] && !strcmp(h.buffers[0], "host") && !strcmp(h.buffers[1], "host"));
	char *fam = im->family;
	snprintf(fam, sizeof im->family, "%s", h.t.family[0] ? h.t.family : "MPI");
	fam[strcspn(fam, "_")] = '\0';
	for (char *c = fam; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	im->backend = !strcmp(fam, "mpi") ? (device ? "mpi-gpu" : "mpi") : fam;
	/* osu_latency, osu_bw and osu_bibw refuse to run on other than two processes */
	im->ranks = !strcmp(im->bench, "latency") || !strcmp(im->bench, "bandwidth") ||
	                    !strcmp(im->bench, "bibw")
	                ? 2
	                : -1;
	im->span = "unknown";
	im->method = json_pack("{s:s,s:s}", "timer", "osu-micro-benchmarks", "data_path",
	                       device ? "device memory, CUDA-aware MPI" : "host memory");
	if (device && strcmp(h.t.accel, "CUDA") && strcmp(h.t.accel, "MANAGED")) {
		char dp[64];
		snprintf(dp, sizeof dp, "device memory (%s), GPU-aware MPI", h.t.accel);
		json_object_set_new(im->method, "data_path", jstr(dp));
	}

	json_t *prov = json_object_get(run, "provenance");
	json_object_set_new(prov, "backend", json_string(im->backend));
	json_object_set_new(prov, "ranks", jint(im->ranks));
	if (h.t.accel[0])
		json_object_set_new(prov, "accelerator", jstr(h.t.accel));
	if (h.buffers[0][0])
		json_object_set_new(
		    prov, "buffers",
		    json_pack("{s:s,s:s}", "send", h.buffers[0], "recv", h.buffers[1]));
	json_object_set_new(run, "command", jstr(im->bench));
	json_t *origin = json_object_get(run, "origin");
	json_object_set_new(origin, "version", h.t.version[0] ? jstr(h.t.version) : json_null());
	json_object_set_new(origin, "title", h.have_title ? jstr(h.title) : json_null());

	/* OMB's reductions are MPI_SUM; its point-to-point tests move bytes */
	const char *op = strstr(im->bench, "reduce") ? "sum" : "-";
	int pt2pt = im->ranks == 2;
	char dtype[32] = "";
	struct ocolumn col[24];
	int ncol = 0;
	size_t hline = 0;
	for (size_t i = 0; i < t->n; i++) {
		const char *l = t->line[i];
		int nt = words(t, i, tok);
		if (!nt)
			continue;
		if (is_comment(l)) {
			const char *s = strstr(l, "Datatype: ");
			if (s) {
				/* "# Datatype: MPI_CHAR." */
				sscanf(s + 10, "%31[A-Za-z0-9_]", dtype);
				if (!strncmp(dtype, "MPI_", 4))
					memmove(dtype, dtype + 4, strlen(dtype + 4) + 1);
				for (char *c = dtype; *c; c++)
					*c = (char)tolower((unsigned char)*c);
				continue;
			}
			if (!strncmp(l, "# OSU ", 6) || strstr(l, " on ") || strchr(l, '='))
				continue;
			struct ocolumn c[24];
			int n = omb_columns(tok, nt, c, 24);
			int useful = 0;
			for (int k = 0; k < n; k++)
				useful |= c[k].kind == O_MEAN || c[k].kind == O_BW;
			if (useful) {
				memcpy(col, c, sizeof c);
				ncol = n;
				hline = i + 1;
			}
			continue;
		}
		double first;
		if (!ncol || num_dbl(tok[0], &first) || !mostly_numbers(tok, nt))
			continue;
		int rc = 0;
		if (nt != ncol) {
			rc = sbr_fail(
			    im->err, im->errlen, SBR_EINPUT,
			    "%s:%zu: a data row of %d columns; the header (line %zu) has %d",
			    im->path, i + 1, nt, hline, ncol);
		}
		struct pt p;
		pt_init(&p, i + 1);
		p.op = op;
		p.bytes = 0;
		p.metrics = json_object();
		double v;
		for (int k = 0; k < ncol && !rc; k++) {
			const char *w = tok[k];
			if (col[k].kind == O_VALID) {
				if (!strcasecmp(w, "Pass") || !strcasecmp(w, "Fail")) {
					p.check = !strcasecmp(w, "Pass") ? "ok" : "failed";
					continue;
				}
				rc = sbr_fail(
				    im->err, im->errlen, SBR_EINPUT,
				    "%s:%zu: \"%s\" where the Validation column wants Pass or Fail",
				    im->path, i + 1, w);
				break;
			}
			unsigned long long u;
			int bad =
			    col[k].kind == O_SIZE || col[k].kind == O_ITERS || col[k].kind == O_XMIT
			        ? num_u64(w, &u) || u > LLONG_MAX
			        : num_dbl(w, &v);
			if (bad) {
				rc = sbr_fail(im->err, im->errlen, SBR_EINPUT,
				              "%s:%zu: \"%s\" where the \"%s\" column (header line "
				              "%zu) wants "
				              "a number",
				              im->path, i + 1, w, col[k].name, hline);
				break;
			}
			switch (col[k].kind) {
			case O_SIZE:
				p.bytes = (long long)u;
				break;
			case O_ITERS:
				p.n = (long long)u;
				break;
			case O_XMIT:
				p.params = json_pack("{s:I}", "transmit_bytes", (json_int_t)u);
				break;
			case O_MEAN:
				p.mean = v * 1e-6;
				break;
			case O_MIN:
				p.min = v * 1e-6;
				break;
			case O_MAX:
				p.max = v * 1e-6;
				break;
			case O_BW:
				metric(p.metrics, "bandwidth", v * 1e6, "B/s");
				break;
			case O_RATE:
				metric(p.metrics, "message_rate", v, "1/s");
				break;
			case O_TAIL: {
				char nm[32];
				if (col[k].bw) {
					snprintf(nm, sizeof nm, "bandwidth_p%d", col[k].pct);
					metric(p.metrics, nm, v * 1e6, "B/s");
					break;
				}
				double *slot = col[k].pct == 50   ? &p.median
				               : col[k].pct == 5  ? &p.p5
				               : col[k].pct == 25 ? &p.p25
				               : col[k].pct == 75 ? &p.p75
				               : col[k].pct == 95 ? &p.p95
				               : col[k].pct == 99 ? &p.p99
				                                  : NULL;
				if (slot) {
					*slot = v * 1e-6;
				} else {
					snprintf(nm, sizeof nm, "p%d", col[k].pct);
					metric(p.metrics, nm, v * 1e-6, "s");
				}
				break;
			}
			default:
				if (col[k].name[0])
					metric(p.metrics, col[k].name, v * col[k].scale,
					       col[k].unit);
				break;
			}
		}
		if (rc && i + 1 == t->n && t->cut) {
			pt_drop(&p);
			incomplete(im, "the last line (%zu) is cut short", i + 1);
			break;
		}
		if (rc) {
			pt_drop(&p);
			return rc;
		}
		p.dtype = dtype[0] ? dtype : pt2pt ? "byte" : NULL;
		int esz = !p.dtype                                                 ? 0
		          : !strcmp(p.dtype, "byte") || !strcmp(p.dtype, "char")   ? 1
		          : !strcmp(p.dtype, "int") || !strcmp(p.dtype, "float")   ? 4
		          : !strcmp(p.dtype, "double") || !strcmp(p.dtype, "long") ? 8
		                                                                   : 0;
		p.count = esz ? p.bytes / esz : -1;
		emit(im, &p);
	}
	if (!json_array_size(im->points))
		return sbr_fail(im->err, im->errlen, SBR_EINPUT, "%s:%zu: no data rows%s", im->path,
		                t->n, ncol ? "" : " (no \"# Size ...\" column header)");
	return 0;
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
		if (!is_comment(l))
			continue;
		int nt = words(t, i, tok), sz = 0, ct = 0, bw = 0;
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
		rc = sbr_fail(err, errlen, SBR_EINPUT, "%s:1: empty file", path);
	} else if (nul) {
		rc = sbr_fail(err, errlen, SBR_EINPUT,
		              "%s:%zu: binary data (a NUL byte), not a benchmark log", path,
		              line_of(buf, (size_t)(nul - buf)));
	} else if (buf[p0] == '{' || buf[p0] == '[') {
		if (kind)
			*kind = SBR_IMPORT_NCCL_JSON;
		json_error_t je;
		rc = json_scan(buf, len, &sc);
		if (rc)
			goto out;
		doc = json_loadb(buf, len, 0, &je);
		if (!doc && sc.close && sc.nelem) {
			/* a run killed before nccl-tests closed its file: keep the finished rows */
			size_t cl = strlen(sc.close);
			char *fix = malloc(sc.safe + cl + 1);
			if (!fix) {
				rc = SBR_ENOMEM;
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
				incomplete(&im,
				           "the JSON stops at line %zu: read up to the last "
				           "complete result",
				           line_of(buf, len));
		}
		if (!doc) {
			rc = sbr_fail(err, errlen, SBR_EINPUT, "%s:%d: not valid JSON: %s", path,
			              je.line > 0 ? je.line : 1, je.text);
			goto out;
		}
		if (!json_is_object(doc) || !json_is_array(json_object_get(doc, "results"))) {
			rc = sbr_fail(
			    err, errlen, SBR_EINPUT,
			    "%s:1: JSON, but not nccl-tests -J output (no \"results\" list)", path);
			goto out;
		}
		run = run_new(id, "nccl-tests", "json", path);
		rc = import_nccl_json(&im, doc, &sc, buf, run);
	} else {
		rc = text_split(buf, len, &t);
		if (rc)
			goto out;
		int k = text_kind(&t);
		if (k < 0) {
			rc =
			    sbr_fail(err, errlen, SBR_EINPUT,
			             "%s:1: neither nccl-tests nor OSU Micro-Benchmarks output (no "
			             "header line of either)",
			             path);
			goto out;
		}
		if (kind)
			*kind = (enum sbr_import_kind)k;
		if (k == SBR_IMPORT_NCCL_TEXT) {
			run = run_new(id, "nccl-tests", "text", path);
			rc = import_nccl_text(&im, &t, run);
		} else {
			run = run_new(id, "osu-micro-benchmarks", "text", path);
			rc = import_osu_text(&im, &t, run);
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
