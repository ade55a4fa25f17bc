/* The nccl-tests importers: its text output and its -J JSON file. What they share with the OMB
 * importer, and how tables are read, is in import.c. */
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
static void nccl_bench(const char *prog, char *out, size_t n)
{
	snprintf(out, n, "%s", sbr__imp_base_name(prog));
	char *s = strstr(out, "_perf");
	if (s)
		*s = '\0';
	if (!strcmp(out, "all_reduce"))
		snprintf(out, n, "allreduce");
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
					return SBR_ENOMEM;
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
			    im->err, im->errlen, SBR_EINPUT,
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
			if (sbr__imp_num_i64(w, &v))
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
		nccl_bench(h.prog, im->bench, sizeof im->bench);
	else if (!sbr__imp_name_from_path(im->path, nccl_files,
	                                  sizeof nccl_files / sizeof *nccl_files, im->bench,
	                                  sizeof im->bench))
		snprintf(im->bench, sizeof im->bench, "unknown");
	im->backend = "nccl";
	im->ranks = h.nrk ? (long long)h.nrk : -1;
	im->span = nccl_span(h.rk, h.nrk);
	im->method = json_pack(
	    "{s:s,s:s,s:o,s:o}", "timer", "nccl-tests", "data_path",
	    h.graph > 0 ? "device memory, NCCL, replayed from a CUDA graph" : "device memory, NCCL",
	    "warmup", sbr__imp_jint(h.warmup), "iterations", sbr__imp_jint(h.iters));

	json_t *prov = json_object_get(run, "provenance");
	json_object_set_new(prov, "backend", json_string("nccl"));
	json_object_set_new(prov, "ranks", sbr__imp_jint(im->ranks));
	nccl_ranks_to(prov, h.rk, h.nrk);
	json_object_set_new(prov, "nccl_compiled", nccl_version_str(h.headers));
	json_object_set_new(prov, "nccl_runtime",
	                    h.library > 0  ? nccl_version_str(h.library)
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
		rc = sbr_fail(im->err, im->errlen, SBR_EINPUT, "%s:%zu: no data rows%s", im->path,
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

/* ------------------------------------------------------------------ nccl-tests -J JSON */

int sbr__imp_json_scan(const char *b, size_t n, struct jscan *s)
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
		if (!sbr__imp_num_i64(s, &v))
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
	return sbr__imp_jstr(buf);
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
	sbr__imp_metric(p->metrics, "algbw", alg * 1e9, "B/s");
	sbr__imp_metric(p->metrics, "busbw", bus * 1e9, "B/s");
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

int sbr__imp_nccl_json(struct imp *im, json_t *doc, const struct jscan *sc, const char *buf,
                       json_t *run)
{
	json_t *results = json_object_get(doc, "results");
	json_t *cfg = json_object_get(doc, "config");
	json_t *devs = json_object_get(json_is_object(cfg) ? cfg : doc, "devices");
	json_t *args = json_object_get(doc, "args");
	const char *a0 = json_string_value(json_array_get(args, 0));

	if (a0)
		nccl_bench(a0, im->bench, sizeof im->bench);
	else if (!sbr__imp_name_from_path(im->path, nccl_files,
	                                  sizeof nccl_files / sizeof *nccl_files, im->bench,
	                                  sizeof im->bench))
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
	                       "warmup", sbr__imp_jint(warm == LLONG_MIN ? -1 : warm), "iterations",
	                       sbr__imp_jint(iters == LLONG_MIN ? -1 : iters));

	json_t *prov = json_object_get(run, "provenance");
	json_object_set_new(prov, "backend", json_string("nccl"));
	json_object_set_new(prov, "ranks", sbr__imp_jint(im->ranks));
	nccl_ranks_to(prov, rk, nrk);
	free(rk);
	long long nv = jget_int(doc, "nccl_version");
	json_object_set_new(prov, "nccl_runtime", nccl_version_str(nv == LLONG_MIN ? 0 : nv));
	json_object_set_new(run, "command", sbr__imp_jstr(im->bench));
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
	json_object_set_new(origin, "json_version", sbr__imp_jint(fv == LLONG_MIN ? -1 : fv));
	json_object_set_new(origin, "program",
	                    a0 ? sbr__imp_jstr(sbr__imp_base_name(a0)) : json_null());

	size_t i;
	json_t *res;
	json_array_foreach(results, i, res)
	{
		size_t line = i < sc->nelem ? sbr__imp_line_of(buf, sc->elem[i]) : 1;
		if (!json_is_object(res))
			return sbr_fail(im->err, im->errlen, SBR_EINPUT,
			                "%s:%zu: results[%zu] is not an object", im->path, line, i);
		struct pt base;
		sbr__imp_pt_init(&base, line);
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
					sbr__imp_pt_drop(&half[k]);
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
				sbr__imp_emit(im, &half[g]);
	}
	if (!json_array_size(im->points))
		return sbr_fail(im->err, im->errlen, SBR_EINPUT, "%s:1: no results", im->path);
	if (!json_object_get(doc, "average_bus_bandwidth"))
		sbr__imp_incomplete(im,
		                    "no average_bus_bandwidth (line %zu): the run did not finish",
		                    sbr__imp_line_of(buf, strlen(buf)));
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
