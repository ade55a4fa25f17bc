/* The OSU Micro-Benchmarks importer: the text output of osu_latency, osu_bw, osu_bibw and the
 * collectives, with or without -f. What it shares with the nccl-tests importers, and how tables
 * are read, is in import.c. */
#include "import_impl.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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
	int nt = sbr__imp_split(buf, tok, MAX_TOK);
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

int sbr__imp_osu_text(struct imp *im, struct text *t, json_t *run)
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
		const char *d = sbr__imp_death_note(l);
		if (d)
			sbr__imp_incomplete(im, "the job died (\"%s\", line %zu)", d, i + 1);
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
	else if (!sbr__imp_name_from_path(im->path, osu_files, sizeof osu_files / sizeof *osu_files,
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
		json_object_set_new(im->method, "data_path", sbr__imp_jstr(dp));
	}

	json_t *prov = json_object_get(run, "provenance");
	json_object_set_new(prov, "backend", json_string(im->backend));
	json_object_set_new(prov, "ranks", sbr__imp_jint(im->ranks));
	if (h.t.accel[0])
		json_object_set_new(prov, "accelerator", sbr__imp_jstr(h.t.accel));
	if (h.buffers[0][0])
		json_object_set_new(
		    prov, "buffers",
		    json_pack("{s:s,s:s}", "send", h.buffers[0], "recv", h.buffers[1]));
	json_object_set_new(run, "command", sbr__imp_jstr(im->bench));
	json_t *origin = json_object_get(run, "origin");
	json_object_set_new(origin, "version",
	                    h.t.version[0] ? sbr__imp_jstr(h.t.version) : json_null());
	json_object_set_new(origin, "title", h.have_title ? sbr__imp_jstr(h.title) : json_null());

	/* OMB's reductions are MPI_SUM; its point-to-point tests move bytes */
	const char *op = strstr(im->bench, "reduce") ? "sum" : "-";
	int pt2pt = im->ranks == 2;
	char dtype[32] = "";
	struct ocolumn col[24];
	int ncol = 0;
	size_t hline = 0;
	for (size_t i = 0; i < t->n; i++) {
		const char *l = t->line[i];
		int nt = sbr__imp_words(t, i, tok);
		if (!nt)
			continue;
		if (sbr__imp_is_comment(l)) {
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
		if (!ncol || sbr__imp_num_dbl(tok[0], &first) || !sbr__imp_mostly_numbers(tok, nt))
			continue;
		int rc = 0;
		if (nt != ncol) {
			rc = sbr_fail(
			    im->err, im->errlen, SB_EINPUT,
			    "%s:%zu: a data row of %d columns; the header (line %zu) has %d",
			    im->path, i + 1, nt, hline, ncol);
		}
		struct pt p;
		sbr__imp_pt_init(&p, i + 1);
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
				    im->err, im->errlen, SB_EINPUT,
				    "%s:%zu: \"%s\" where the Validation column wants Pass or Fail",
				    im->path, i + 1, w);
				break;
			}
			unsigned long long u;
			int bad =
			    col[k].kind == O_SIZE || col[k].kind == O_ITERS || col[k].kind == O_XMIT
			        ? sbr__imp_num_u64(w, &u) || u > LLONG_MAX
			        : sbr__imp_num_dbl(w, &v);
			if (bad) {
				rc = sbr_fail(im->err, im->errlen, SB_EINPUT,
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
				sbr__imp_metric(p.metrics, "bandwidth", v * 1e6, "B/s");
				break;
			case O_RATE:
				sbr__imp_metric(p.metrics, "message_rate", v, "1/s");
				break;
			case O_TAIL: {
				char nm[32];
				if (col[k].bw) {
					snprintf(nm, sizeof nm, "bandwidth_p%d", col[k].pct);
					sbr__imp_metric(p.metrics, nm, v * 1e6, "B/s");
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
					sbr__imp_metric(p.metrics, nm, v * 1e-6, "s");
				}
				break;
			}
			default:
				if (col[k].name[0])
					sbr__imp_metric(p.metrics, col[k].name, v * col[k].scale,
					                col[k].unit);
				break;
			}
		}
		if (rc && i + 1 == t->n && t->cut) {
			sbr__imp_pt_drop(&p);
			sbr__imp_incomplete(im, "the last line (%zu) is cut short", i + 1);
			break;
		}
		if (rc) {
			sbr__imp_pt_drop(&p);
			return rc;
		}
		p.dtype = dtype[0] ? dtype : pt2pt ? "byte" : NULL;
		int esz = !p.dtype                                                 ? 0
		          : !strcmp(p.dtype, "byte") || !strcmp(p.dtype, "char")   ? 1
		          : !strcmp(p.dtype, "int") || !strcmp(p.dtype, "float")   ? 4
		          : !strcmp(p.dtype, "double") || !strcmp(p.dtype, "long") ? 8
		                                                                   : 0;
		p.count = esz ? p.bytes / esz : -1;
		sbr__imp_emit(im, &p);
	}
	if (!json_array_size(im->points))
		return sbr_fail(im->err, im->errlen, SB_EINPUT, "%s:%zu: no data rows%s", im->path,
		                t->n, ncol ? "" : " (no \"# Size ...\" column header)");
	return 0;
}
