/* The nccl-tests text importer, and the names and ranks it shares with the -J JSON importer
 * (import_nccl_json.c). What they share with the OMB importer, and how tables are read, is in
 * import.c. */
#include "import_impl.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ nccl-tests: names, ranks */

/* nccl-tests binaries are <op>_perf (some builds add _mpi); our names drop the suffix, and
 * all_reduce is our allreduce. */
void sbr__imp_nccl_bench(const char *prog, char *out, size_t n)
{
	snprintf(out, n, "%s", sbr__imp_base_name(prog));
	char *s = strstr(out, "_perf");
	if (s)
		*s = '\0';
	if (!strcmp(out, "all_reduce"))
		snprintf(out, n, "allreduce");
}

/* The longer names first: all_reduce holds reduce. */
const char *const sbr__imp_nccl_files[][2] = {{"all_reduce", "allreduce"},
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
const size_t sbr__imp_nccl_nfiles = sizeof sbr__imp_nccl_files / sizeof *sbr__imp_nccl_files;

/* "#  Rank  0 Group  0 Pid  48211 on gpu-node-1 device  0 [0000:1b:00] NVIDIA H100 80GB HBM3";
 * before 2.13 without "Group", and with "[0x1b]" for the bus. */
static int nccl_rank_line(const char *line, char **tok, int nt, struct nrank *r)
{
	memset(r, 0, sizeof *r);
	r->rank = r->pid = r->device = -1;
	if (nt < 4 || strcmp(tok[0], "#") || strcmp(tok[1], "Rank") ||
	    sbr__imp_num_i64(tok[2], &r->rank))
		return -1;
	int m = nt < MAX_TOK ? nt : MAX_TOK;
	for (int i = 3; i + 1 < m; i++) {
		if (!strcmp(tok[i], "on"))
			snprintf(r->host, sizeof r->host, "%s", tok[i + 1]);
		else if (!strcmp(tok[i], "Pid"))
			sbr__imp_num_i64(tok[i + 1], &r->pid);
		else if (!strcmp(tok[i], "device"))
			sbr__imp_num_i64(tok[i + 1], &r->device);
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
void sbr__imp_nccl_ranks_to(json_t *prov, const struct nrank *rk, size_t n)
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
			h = json_pack("{s:o,s:[]}", "host", sbr__imp_jstr(rk[i].host), "ranks");
			json_array_append_new(hosts, h);
		}
		json_array_append_new(json_object_get(h, "ranks"), json_integer(rk[i].rank));
		json_array_append_new(rank_hosts, sbr__imp_jstr(rk[i].host));
		json_array_append_new(
		    devs,
		    json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "rank", (json_int_t)rk[i].rank, "host",
		              sbr__imp_jstr(rk[i].host), "pid", sbr__imp_jint(rk[i].pid), "device",
		              sbr__imp_jint(rk[i].device), "bus", sbr__imp_jstr(rk[i].pci), "name",
		              sbr__imp_jstr(rk[i].name)));
	}
	json_object_set_new(prov, "hosts", hosts);
	json_object_set_new(prov, "rank_hosts", rank_hosts);
	json_object_set_new(prov, "devices", devs);
	if (n && rk[0].name[0]) {
		json_t *gpu = json_pack("{s:o}", "name", sbr__imp_jstr(rk[0].name));
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
const char *sbr__imp_nccl_span(const struct nrank *rk, size_t n)
{
	if (n == 1)
		return "self";
	for (size_t i = 1; i < n; i++)
		if (strcmp(rk[i].host, rk[0].host))
			return "cross-host";
	return "unknown";
}

/* NCCL_VERSION_CODE: 2.9 on is major*10000 + minor*100 + patch, before it major*1000 + ... */
json_t *sbr__imp_nccl_version_str(long long code)
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
		if (!key || sbr__imp_num_i64(tok[i + 1], &v))
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
		int nt = sbr__imp_words(t, i, tok);
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
					return SB_ENOMEM;
				h->rk = nr;
				h->rk[h->nrk++] = r;
			}
		} else if ((s = strstr(l, "Avg bus bandwidth")) && sbr__imp_is_comment(l)) {
			h->trailer = i + 1;
			const char *c = strchr(s, ':');
			h->avg_busbw = c ? strtod(c + 1, NULL) : NAN;
		} else if ((s = strstr(l, "Out of bounds values")) && sbr__imp_is_comment(l)) {
			const char *c = strchr(s, ':');
			h->oob = c ? atoll(c + 1) : -1;
		} else if ((s = strstr(l, "NCCL version ")) && !h->runtime[0]) {
			/* NCCL_DEBUG=INFO (or VERSION): "NCCL INFO NCCL version 2.27.3+cuda12.9" */
			sscanf(s + 13, "%63[0-9.]", h->runtime);
		} else if (!sbr__imp_is_comment(l) && !h->prog[0]) {
			/* a launcher's echo of the command line */
			for (int k = 0; k < nt && k < MAX_TOK; k++) {
				const char *b = sbr__imp_base_name(tok[k]);
				size_t bl = strlen(b);
				if ((bl > 5 && !strcmp(b + bl - 5, "_perf")) ||
				    (bl > 9 && !strcmp(b + bl - 9, "_perf_mpi"))) {
					snprintf(h->prog, sizeof h->prog, "%s", b);
					break;
				}
			}
		}
		const char *d = sbr__imp_death_note(l);
		if (d)
			sbr__imp_incomplete(im, "the job died (\"%s\", line %zu)", d, i + 1);
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
		if (sbr__imp_num_dbl(w[c], &v))
			return sbr_fail(im->err, im->errlen, SB_EINPUT,
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
	sbr__imp_metric(p->metrics, "algbw", algbw, "B/s");
	sbr__imp_metric(p->metrics, "busbw", busbw, "B/s");
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
			    im->err, im->errlen, SB_EINPUT,
			    "%s:%zu: a data row of %d columns; the header (line %zu) has %d",
			    im->path, line, nt, L->line, L->total);
		}
	}

	struct pt base;
	sbr__imp_pt_init(&base, line);
	base.op = "-";
	for (int c = 0; c < L->npre; c++) {
		const char *w = tok[c];
		unsigned long long u;
		long long v;
		switch (L->pre[c]) {
		case N_SIZE:
		case N_COUNT:
			if (sbr__imp_num_u64(w, &u) || u > LLONG_MAX)
				return sbr_fail(
				    im->err, im->errlen, SB_EINPUT,
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
			if (sbr__imp_num_i64(w, &v))
				return sbr_fail(im->err, im->errlen, SB_EINPUT,
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
				sbr__imp_pt_drop(&half[k]);
			return rc;
		}
	}
	for (int g = first; g < halves; g++)
		sbr__imp_emit(im, &half[g]);
	return 0;
}

int sbr__imp_nccl_text(struct imp *im, struct text *t, json_t *run)
{
	struct nhead h = {
	    .iters = -1, .warmup = -1, .check = -1, .graph = -1, .oob = -1, .avg_busbw = NAN};
	h.options = json_object();
	int rc = nccl_head(im, t, &h);
	if (rc)
		goto out;

	if (h.prog[0])
		sbr__imp_nccl_bench(h.prog, im->bench, sizeof im->bench);
	else if (!sbr__imp_name_from_path(im->path, sbr__imp_nccl_files, sbr__imp_nccl_nfiles,
	                                  im->bench, sizeof im->bench))
		snprintf(im->bench, sizeof im->bench, "unknown");
	im->backend = "nccl";
	im->ranks = h.nrk ? (long long)h.nrk : -1;
	im->span = sbr__imp_nccl_span(h.rk, h.nrk);
	im->method = json_pack(
	    "{s:s,s:s,s:o,s:o}", "timer", "nccl-tests", "data_path",
	    h.graph > 0 ? "device memory, NCCL, replayed from a CUDA graph" : "device memory, NCCL",
	    "warmup", sbr__imp_jint(h.warmup), "iterations", sbr__imp_jint(h.iters));

	json_t *prov = json_object_get(run, "provenance");
	json_object_set_new(prov, "backend", json_string("nccl"));
	json_object_set_new(prov, "ranks", sbr__imp_jint(im->ranks));
	sbr__imp_nccl_ranks_to(prov, h.rk, h.nrk);
	json_object_set_new(prov, "nccl_compiled", sbr__imp_nccl_version_str(h.headers));
	json_object_set_new(prov, "nccl_runtime",
	                    h.library > 0  ? sbr__imp_nccl_version_str(h.library)
	                    : h.runtime[0] ? sbr__imp_jstr(h.runtime)
	                                   : json_null());
	json_object_set_new(run, "command", sbr__imp_jstr(im->bench));
	json_object_set_new(run, "options", json_incref(h.options));
	json_t *origin = json_object_get(run, "origin");
	json_object_set_new(origin, "version",
	                    h.version[0] ? sbr__imp_jstr(h.version) : json_null());
	json_object_set_new(origin, "program", h.prog[0] ? sbr__imp_jstr(h.prog) : json_null());

	struct nlayout L = {0};
	int have = 0;
	size_t last_row = 0;
	char *tok[MAX_TOK];
	for (size_t i = 0; i < t->n; i++) {
		int nt = sbr__imp_words(t, i, tok);
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
					    im->err, im->errlen, SB_EINPUT,
					    "%s:%zu: a column header nccl-tests never prints",
					    im->path, i + 1);
					goto out;
				}
				have = 1;
			}
			continue;
		}
		unsigned long long u;
		if (!have || sbr__imp_num_u64(tok[0], &u) || !sbr__imp_mostly_numbers(tok, nt))
			continue;
		rc = nccl_row(im, &L, tok, nt, i + 1, &h);
		if (rc && i + 1 == t->n && t->cut) {
			/* killed while printing the row */
			sbr__imp_incomplete(im, "the last line (%zu) is cut short", i + 1);
			rc = 0;
			break;
		}
		if (rc)
			goto out;
		last_row = i + 1;
	}
	if (!json_array_size(im->points)) {
		rc = sbr_fail(im->err, im->errlen, SB_EINPUT, "%s:%zu: no data rows%s", im->path,
		              t->n, have ? "" : " (no \"size count type ...\" column header)");
		goto out;
	}
	if (h.trailer < last_row)
		sbr__imp_incomplete(
		    im,
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
