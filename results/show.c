#include "show.h"

#include "plot.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The bandwidth a point reports: busbw (collectives), else the pipeline's bandwidth, else
 * algbw; B/s or NAN. */
static double bandwidth(const struct sbr_point *p, const char **name)
{
	static const char *const names[] = {"busbw", "bandwidth", "algbw"};
	for (int i = 0; i < 3; i++) {
		double v = sbr_point_metric(p, names[i]);
		if (isfinite(v)) {
			*name = names[i];
			return v;
		}
	}
	*name = NULL;
	return NAN;
}

static int is_schedule(const struct sbr_point *p)
{
	const char *s = sbr_point_str(p, "schedule");
	return s && strcmp(s, "handoff") != 0;
}

static int is_infer(const struct sbr_point *p)
{
	return p->benchmark && strcmp(p->benchmark, "infer") == 0;
}

/* A run given twice (the same run id as an earlier one): that one's index + 1, else 0. Its
 * numbers are the same numbers, so its lines would hide under the first run's without a word. */
static size_t same_id(struct sbr_run *const *runs, size_t k)
{
	for (size_t j = 0; j < k; j++)
		if (runs[j]->run_id && runs[k]->run_id &&
		    strcmp(runs[j]->run_id, runs[k]->run_id) == 0)
			return j + 1;
	return 0;
}

/* Two infer points of one run that differ in one parameter alone (`free`: "batch" for the
 * knee's sweep, "rate" for the highest rate within the SLOs). */
static int same_but(const struct sbr_point *a, const struct sbr_point *b, const char *free)
{
	static const char *const keys[] = {"rate",          "concurrency",   "batch",    "tp",
	                                   "prompt_tokens", "output_tokens", "batching", NULL};
	for (int k = 0; keys[k]; k++) {
		if (strcmp(keys[k], free) == 0)
			continue;
		json_t *x = json_object_get(json_object_get(a->rec, "params"), keys[k]),
		       *y = json_object_get(json_object_get(b->rec, "params"), keys[k]);
		if (!json_equal(x, y) && !(json_is_null(x) && json_is_null(y)) && (x || y))
			return 0;
	}
	return 1;
}

/* A series' title from its first point: benchmark, backend, ranks and the parameters that
 * are not the size. */
static void series_title(char *buf, size_t len, const struct sbr_point *p)
{
	size_t l;
	if (p->ranks > 0)
		l = (size_t)snprintf(buf, len, "%s, %s, %d rank%s", p->benchmark, p->backend,
		                     p->ranks, p->ranks == 1 ? "" : "s");
	else
		l = (size_t)snprintf(buf, len, "%s, %s, ranks unknown", p->benchmark, p->backend);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(p->rec, "params"), k, v)
	{
		if (l >= len || strcmp(k, "bytes") == 0 || strcmp(k, "count") == 0 ||
		    json_is_null(v))
			continue;
		if (strcmp(k, "inplace") == 0)
			l += (size_t)snprintf(buf + l, len - l, ", %s",
			                      json_is_true(v) ? "in place" : "out of place");
		else if (json_is_string(v) && strcmp(json_string_value(v), "-") != 0)
			l += (size_t)snprintf(buf + l, len - l, ", %s %s", k, json_string_value(v));
		else if (json_is_true(v))
			l += (size_t)snprintf(buf + l, len - l, ", %s", k);
		else if (json_is_integer(v) && json_integer_value(v) != 0)
			l += (size_t)snprintf(buf + l, len - l, ", %s %lld", k,
			                      (long long)json_integer_value(v));
		else if (json_is_real(v) && json_real_value(v) != 0)
			l += (size_t)snprintf(buf + l, len - l, ", %s %g", k, json_real_value(v));
	}
}

int sbr_show_runs(struct sbr_run *const *runs, size_t n, enum sbr_format fmt, FILE *out)
{
	static const char *const head[] = {"run",    "run id",   "command", "start", "origin",
	                                   "hosts",  "machine",  "class",   "ranks", "status",
	                                   "points", "software", NULL};
	struct sbr_table t;
	int rc = sbr_table_init(&t, "runs", head);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct sbr_run *r = runs[i];
		json_t *prov = json_object_get(r->run, "provenance");
		char id[24], ranks[24], pts[24], soft[256], hosts[256] = "";
		/* Host names: the first three, and how many more. */
		json_t *hl = json_object_get(prov, "hosts"), *h;
		size_t hi, hn = json_array_size(hl), hlen = 0;
		json_array_foreach(hl, hi, h)
		{
			const char *name = json_string_value(json_object_get(h, "host"));
			if (hi == 3) {
				snprintf(hosts + hlen, sizeof hosts - hlen, " +%zu", hn - 3);
				break;
			}
			hlen += (size_t)snprintf(hosts + hlen, sizeof hosts - hlen, "%s%.60s",
			                         hi ? " " : "", name ? name : "?");
			if (hlen >= sizeof hosts)
				break;
		}
		snprintf(id, sizeof id, "R%zu", i + 1);
		snprintf(ranks, sizeof ranks, "%lld",
		         (long long)json_integer_value(json_object_get(prov, "ranks")));
		snprintf(pts, sizeof pts, "%zu", r->npts);
		const char *mpi = json_string_value(json_object_get(prov, "mpi_library"));
		const char *nccl = json_string_value(json_object_get(prov, "nccl_runtime"));
		const char *ver = json_string_value(
		    json_object_get(json_object_get(r->run, "origin"), "version"));
		snprintf(soft, sizeof soft, "%.120s%s%.60s",
		         mpi   ? mpi
		         : ver ? ver
		               : "",
		         nccl ? "; NCCL " : "", nccl ? nccl : "");
		/* The MPI library string runs long: its first clause says enough. */
		char *comma = strchr(soft, ',');
		if (comma && mpi)
			*comma = '\0';
		/* The run's drift check found the machine changed state during it: its figures
		 * stand, but the status says so. */
		char status[160];
		json_int_t drifted = json_integer_value(json_object_get(r->end, "drifted"));
		size_t dup = same_id(runs, i);
		int sl = snprintf(status, sizeof status, "%s%s",
		                  r->complete ? r->status : "incomplete (no end record)",
		                  r->complete && drifted > 0 ? " (drift)" : "");
		if (dup) {
			snprintf(status + sl, sizeof status - (size_t)sl,
			         "; same run id as R%zu: given twice?", dup);
			fprintf(stderr,
			        "scalebench-report: warning: R%zu has the same run id as R%zu: the "
			        "same run given twice?\n",
			        i + 1, dup);
		}
		const char *cells[] = {
		    id,        r->run_id, r->command, r->start_time ? r->start_time : "",
		    r->origin, hosts,     r->machine, r->machine_class,
		    ranks,     status,    pts,        soft};
		rc = sbr_table_add(&t, cells);
		if (rc == 0 && dup)
			sbr_table_mark(&t, t.nrows - 1);
	}
	if (rc == 0) {
		if (fmt == SBR_HTML)
			sbr_html_heading(out, "Runs");
		rc = sbr_table_write(&t, out, fmt);
		if (fmt == SBR_CSV)
			fputs("\r\n", out);
	}
	sbr_table_free(&t);
	return rc;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

static const struct sbr_point *find(const struct sbr_run *r, const char *series, size_t bytes)
{
	for (size_t i = 0; i < r->npts; i++)
		if (r->pts[i].bytes == bytes && strcmp(r->pts[i].series, series) == 0)
			return &r->pts[i];
	return NULL;
}

/* A series' plots: time and bandwidth against size, one line per run, in the units of its
 * table (us, GB/s). A run given twice is drawn dashed with open circles over the first, and the
 * legend says so. ys and bw: ns values per run. */
static int series_plots(struct sbr_run *const *runs, size_t n, size_t idx, const double *xs,
                        const double *ys, const double *bw, size_t ns, const char *bwname,
                        FILE *out)
{
	struct sbr_series *se = calloc(n, sizeof *se);
	char(*names)[64] = calloc(n, sizeof *names);
	int rc = 0;
	if (!se || !names)
		rc = SB_ENOMEM;
	for (size_t k = 0; k < n && rc == 0; k++) {
		size_t dup = same_id(runs, k), has = 0;
		for (size_t j = 0; j < ns; j++)
			has += isfinite(ys[k * ns + j]);
		if (dup)
			snprintf(names[k], sizeof names[k], "R%zu (same run id as R%zu)", k + 1,
			         dup);
		else
			snprintf(names[k], sizeof names[k], "R%zu", k + 1);
		/* Colours follow the run from plot to plot; the legend lists the runs drawn. */
		se[k] = (struct sbr_series){
		    .name = has ? names[k] : NULL,
		    .color = (int)k,
		    .style = SBR_PLOT_POINTS | SBR_PLOT_LINE |
		             (dup ? SBR_PLOT_DASHED | SBR_PLOT_HOLLOW : 0u),
		    .x = xs,
		    .y = ys + k * ns,
		    .n = ns,
		};
	}
	char id[48];
	snprintf(id, sizeof id, "series-%zu-time", idx);
	struct sbr_plot p = {
	    .title = "time per iteration",
	    .id = id,
	    .x = {.label = "message size", .kind = SBR_AXIS_BYTES},
	    .y = {.label = "time", .kind = SBR_AXIS_SECONDS, .unit = "us"},
	    .series = se,
	    .nseries = n,
	};
	if (rc == 0)
		rc = sbr_plot_svg(out, &p);
	if (rc == 0 && bwname) {
		for (size_t k = 0; k < n; k++)
			se[k].y = bw + k * ns;
		snprintf(id, sizeof id, "series-%zu-%s", idx, bwname);
		p.title = strcmp(bwname, "busbw") == 0   ? "bus bandwidth"
		          : strcmp(bwname, "algbw") == 0 ? "algorithm bandwidth"
		                                         : "bandwidth";
		/* The axis is named as the table's columns are. */
		p.y = (struct sbr_axis){.label = bwname, .kind = SBR_AXIS_RATE, .unit = "GB/s"};
		rc = sbr_plot_svg(out, &p);
	}
	free(se);
	free(names);
	return rc;
}

/* One series: sizes down, runs across. idx: its place on the page (for the plots' ids). */
static int series(struct sbr_run *const *runs, size_t n, const struct sbr_point *first, size_t idx,
                  enum sbr_format fmt, FILE *out)
{
	const char *series = first->series;
	size_t *sizes = NULL, ns = 0, cap = 0;
	int rc = 0;
	for (size_t k = 0; k < n && rc == 0; k++)
		for (size_t i = 0; i < runs[k]->npts; i++) {
			const struct sbr_point *p = &runs[k]->pts[i];
			if (strcmp(p->series, series) != 0)
				continue;
			size_t j = 0;
			while (j < ns && sizes[j] != p->bytes)
				j++;
			if (j < ns)
				continue;
			if (ns == cap) {
				size_t nc = cap ? 2 * cap : 32;
				size_t *v = realloc(sizes, nc * sizeof *v);
				if (!v) {
					rc = SB_ENOMEM;
					break;
				}
				sizes = v;
				cap = nc;
			}
			sizes[ns++] = p->bytes;
		}
	if (rc) {
		free(sizes);
		return rc;
	}
	qsort(sizes, ns, sizeof *sizes, cmp_size);
	const char *bwname = NULL;
	for (size_t k = 0; k < n && !bwname; k++)
		for (size_t j = 0; j < ns && !bwname; j++) {
			const struct sbr_point *p = find(runs[k], series, sizes[j]);
			if (p)
				bandwidth(p, &bwname);
		}
	/* Columns: size, then per run its time (and bandwidth), and from the second run on the
	 * ratio of its time to the first run's. */
	size_t nh = 1 + n * (bwname ? 2 : 1) + (n - 1);
	char **head = calloc(nh + 1, sizeof *head);
	const char **cells = calloc(nh, sizeof *cells);
	char(*buf)[48] = calloc(nh, sizeof *buf);
	if (!head || !cells || !buf)
		rc = SB_ENOMEM;
	size_t h = 0;
	if (rc == 0) {
		head[h++] = sbr_strdup("bytes");
		for (size_t k = 0; k < n; k++) {
			char s[64];
			snprintf(s, sizeof s, "R%zu time (us)", k + 1);
			head[h++] = sbr_strdup(s);
			if (bwname) {
				snprintf(s, sizeof s, "R%zu %s (GB/s)", k + 1, bwname);
				head[h++] = sbr_strdup(s);
			}
			if (k) {
				snprintf(s, sizeof s, "R%zu/R1", k + 1);
				head[h++] = sbr_strdup(s);
			}
		}
	}
	struct sbr_table t = {0};
	char title[512];
	series_title(title, sizeof title, first);
	if (rc == 0)
		rc = sbr_table_init(&t, title, (const char *const *)head);
	double *xs = calloc(ns ? ns : 1, sizeof *xs), *ys = calloc((ns ? ns : 1) * n, sizeof *ys),
	       *bw = calloc((ns ? ns : 1) * n, sizeof *bw);
	if (!xs || !ys || !bw)
		rc = rc ? rc : SB_ENOMEM;
	const char *kind = first->time_kind ? first->time_kind : "median";
	for (size_t j = 0; j < ns && rc == 0; j++) {
		size_t c = 0;
		snprintf(buf[c], sizeof buf[c], "%zu", sizes[j]);
		cells[c] = buf[c];
		c++;
		xs[j] = (double)sizes[j];
		double t1 = NAN;
		for (size_t k = 0; k < n; k++) {
			const struct sbr_point *p = find(runs[k], series, sizes[j]);
			double tm = p ? p->time : NAN, b = NAN;
			const char *bn;
			if (p)
				b = bandwidth(p, &bn);
			ys[k * ns + j] = tm;
			bw[k * ns + j] = b;
			if (k == 0)
				t1 = tm;
			sbr_fmt(buf[c], sizeof buf[c], tm * 1e6, 4);
			cells[c] = buf[c];
			c++;
			if (bwname) {
				sbr_fmt(buf[c], sizeof buf[c], b / 1e9, 4);
				cells[c] = buf[c];
				c++;
			}
			if (k) {
				sbr_fmt(buf[c], sizeof buf[c], tm / t1, 3);
				cells[c] = buf[c];
				c++;
			}
		}
		rc = sbr_table_add(&t, cells);
	}
	if (rc == 0) {
		char note[160];
		snprintf(
		    note, sizeof note,
		    "time: the %s per iteration (slowest rank for scalebench runs); R%s/R1: ratio "
		    "of times, below 1 is faster",
		    kind, n > 1 ? "k" : "1");
		if (n > 1)
			rc = sbr_table_set_note(&t, note);
	}
	if (rc == 0 && fmt == SBR_HTML) {
		sbr_html_heading(out, title);
		rc = series_plots(runs, n, idx, xs, ys, bw, ns, bwname, out);
	}
	if (rc == 0) {
		rc = sbr_table_write(&t, out, fmt);
		if (fmt == SBR_CSV)
			fputs("\r\n", out);
	}
	sbr_table_free(&t);
	for (size_t i = 0; head && i < nh; i++)
		free(head[i]);
	free(head);
	free(cells);
	free(buf);
	free(xs);
	free(ys);
	free(bw);
	free(sizes);
	return rc;
}

/* The inference points: one row per run and point, with the batch knee: the smallest batch
 * whose tokens/s reaches 95% of the best of its sweep (the same load, T and prompt). */
static int infer_summary(struct sbr_run *const *runs, size_t n, enum sbr_format fmt, FILE *out)
{
	static const char *const head[] = {"run",
	                                   "load",
	                                   "B",
	                                   "T",
	                                   "prompt",
	                                   "requests/s",
	                                   "tokens/s",
	                                   "goodput/s",
	                                   "TTFT p50 (ms)",
	                                   "TTFT p99 (ms)",
	                                   "TPOT p50 (ms)",
	                                   "TPOT p99 (ms)",
	                                   "allreduce share",
	                                   "step/bound",
	                                   "knee B",
	                                   "SLO rate",
	                                   NULL};
	enum { NC = 16 };
	struct sbr_table t;
	int rc = sbr_table_init(&t, "inference serving", head), any = 0;
	for (size_t k = 0; k < n && rc == 0; k++)
		for (size_t i = 0; i < runs[k]->npts && rc == 0; i++) {
			const struct sbr_point *p = &runs[k]->pts[i];
			if (!is_infer(p))
				continue;
			any = 1;
			double best = 0, knee = NAN;
			for (int pass = 0; pass < 2; pass++)
				for (size_t j = 0; j < runs[k]->npts; j++) {
					const struct sbr_point *q = &runs[k]->pts[j];
					if (!is_infer(q) || !same_but(p, q, "batch"))
						continue;
					double tok = sbr_point_metric(q, "tokens_per_s");
					long long b = sbr_point_int(q, "batch", 0);
					if (pass == 0 && tok > best)
						best = tok;
					if (pass == 1 && tok >= 0.95 * best &&
					    (isnan(knee) || b < knee))
						knee = (double)b;
				}
			char c[NC][48];
			snprintf(c[0], sizeof c[0], "R%zu", k + 1);
			long long conc = sbr_point_int(p, "concurrency", 0);
			json_t *rate = json_object_get(json_object_get(p->rec, "params"), "rate");
			if (conc > 0)
				snprintf(c[1], sizeof c[1], "C=%lld", conc);
			else
				snprintf(c[1], sizeof c[1], "%g/s", json_number_value(rate));
			snprintf(c[2], sizeof c[2], "%lld", sbr_point_int(p, "batch", 0));
			snprintf(c[3], sizeof c[3], "%lld", sbr_point_int(p, "tp", 0));
			json_t *pr =
			    json_object_get(json_object_get(p->rec, "params"), "prompt_tokens");
			if (json_is_string(pr)) /* drawn per request: "64-256", "8/512" */
				snprintf(c[4], sizeof c[4], "%s", json_string_value(pr));
			else
				snprintf(c[4], sizeof c[4], "%lld",
				         sbr_point_int(p, "prompt_tokens", 0));
			sbr_fmt(c[5], sizeof c[5], sbr_point_metric(p, "requests_per_s"), 4);
			sbr_fmt(c[6], sizeof c[6], sbr_point_metric(p, "tokens_per_s"), 4);
			sbr_fmt(c[7], sizeof c[7], sbr_point_metric(p, "goodput"), 4);
			sbr_fmt(c[8], sizeof c[8], sbr_point_metric(p, "ttft_p50") * 1e3, 4);
			sbr_fmt(c[9], sizeof c[9], sbr_point_metric(p, "ttft_p99") * 1e3, 4);
			sbr_fmt(c[10], sizeof c[10], sbr_point_metric(p, "tpot_p50") * 1e3, 4);
			sbr_fmt(c[11], sizeof c[11], sbr_point_metric(p, "tpot_p99") * 1e3, 4);
			sbr_fmt(c[12], sizeof c[12], sbr_point_metric(p, "allreduce_share"), 3);
			sbr_fmt(c[13], sizeof c[13], sbr_point_metric(p, "step_over_bound"), 3);
			if (isnan(knee))
				snprintf(c[14], sizeof c[14], "-");
			else
				snprintf(c[14], sizeof c[14], "%.0f", knee);
			/* With SLOs: the highest rate of its sweep where 99% of the requests met
			 * them. */
			double slo_rate = NAN;
			int slo =
			    json_object_get(json_object_get(p->rec, "params"), "slo_ttft_ms") ||
			    json_object_get(json_object_get(p->rec, "params"), "slo_tpot_ms");
			for (size_t j = 0; slo && j < runs[k]->npts; j++) {
				const struct sbr_point *q = &runs[k]->pts[j];
				json_t *r =
				    json_object_get(json_object_get(q->rec, "params"), "rate");
				if (!is_infer(q) || !json_is_number(r) || !same_but(p, q, "rate"))
					continue;
				double g = sbr_point_metric(q, "goodput"),
				       a = sbr_point_metric(q, "requests_per_s");
				if (g >= 0.99 * a &&
				    (isnan(slo_rate) || json_number_value(r) > slo_rate))
					slo_rate = json_number_value(r);
			}
			if (isnan(slo_rate))
				snprintf(c[15], sizeof c[15], "-");
			else
				snprintf(c[15], sizeof c[15], "%g/s", slo_rate);
			const char *cells[NC];
			for (int j = 0; j < NC; j++)
				cells[j] = c[j];
			rc = sbr_table_add(&t, cells);
		}
	if (rc == 0 && any)
		rc = sbr_table_set_note(
		    &t, "latency from each request's scheduled arrival; p99 only from 662 "
		        "requests (MLPerf), else '-'; goodput: requests/s meeting the SLOs; "
		        "step/bound: "
		        "replica 0's step time over its time at the measured GEMM rate and copy "
		        "bandwidth (max of the two per step); knee: "
		        "the smallest batch within 95% of its sweep's best tokens/s; SLO rate: the "
		        "highest --rate of its sweep where 99% of the requests met the SLOs");
	if (rc == 0 && any) {
		if (fmt == SBR_HTML)
			sbr_html_heading(out, "Inference serving");
		rc = sbr_table_write(&t, out, fmt);
		if (fmt == SBR_CSV)
			fputs("\r\n", out);
	}
	sbr_table_free(&t);
	return rc;
}

/* The pipeline schedules: one row per run and point. */
static int pipeline_summary(struct sbr_run *const *runs, size_t n, enum sbr_format fmt, FILE *out)
{
	static const char *const head[] = {
	    "run",    "schedule",     "training",     "stages",
	    "M",      "bytes",        "step (us)",    "handoff p50 (us)",
	    "bubble", "ideal bubble", "exposed (us)", "micro-batches/s",
	    NULL};
	struct sbr_table t;
	int rc = sbr_table_init(&t, "pipeline schedules", head), any = 0;
	for (size_t k = 0; k < n && rc == 0; k++)
		for (size_t i = 0; i < runs[k]->npts && rc == 0; i++) {
			const struct sbr_point *p = &runs[k]->pts[i];
			if (!is_schedule(p))
				continue;
			any = 1;
			char c[12][48];
			snprintf(c[0], sizeof c[0], "R%zu", k + 1);
			snprintf(c[1], sizeof c[1], "%s", sbr_point_str(p, "schedule"));
			snprintf(c[2], sizeof c[2], "%s",
			         sbr_point_int(p, "training", 0) ? "yes" : "no");
			long long K = sbr_point_int(p, "ranks_per_stage", 1);
			if (K > 1) /* stages x ranks per stage */
				snprintf(c[3], sizeof c[3], "%lldx%lld",
				         sbr_point_int(p, "stages", 0), K);
			else
				snprintf(c[3], sizeof c[3], "%lld", sbr_point_int(p, "stages", 0));
			snprintf(c[4], sizeof c[4], "%lld", sbr_point_int(p, "microbatches", 0));
			snprintf(c[5], sizeof c[5], "%zu", p->bytes);
			sbr_fmt(c[6], sizeof c[6], p->time * 1e6, 4);
			sbr_fmt(c[7], sizeof c[7], sbr_point_metric(p, "handoff_p50") * 1e6, 4);
			sbr_fmt(c[8], sizeof c[8], sbr_point_metric(p, "bubble"), 3);
			sbr_fmt(c[9], sizeof c[9], sbr_point_metric(p, "bubble_ideal"), 3);
			sbr_fmt(c[10], sizeof c[10], sbr_point_metric(p, "exposed") * 1e6, 4);
			sbr_fmt(c[11], sizeof c[11], sbr_point_metric(p, "microbatch_rate"), 4);
			const char *cells[12];
			for (int j = 0; j < 12; j++)
				cells[j] = c[j];
			rc = sbr_table_add(&t, cells);
		}
	if (rc == 0 && any)
		rc = sbr_table_set_note(
		    &t, "stages: P, or PxK with K ranks per stage; bubble: a stage's "
		        "idle share of the step (median over stages and steps); "
		        "ideal: (P-1)/(M+P-1); exposed: step time minus the compute "
		        "critical path");
	if (rc == 0 && any) {
		if (fmt == SBR_HTML)
			sbr_html_heading(out, "Pipeline schedules");
		rc = sbr_table_write(&t, out, fmt);
		if (fmt == SBR_CSV)
			fputs("\r\n", out);
	}
	sbr_table_free(&t);
	return rc;
}

int sbr_show_tables(struct sbr_run *const *runs, size_t n, enum sbr_format fmt, FILE *out)
{
	int rc = 0;
	size_t idx = 0;
	/* Series in order of first appearance over the runs; a schedule's points are in the
	 * pipeline summary instead. */
	for (size_t k = 0; k < n && rc == 0; k++)
		for (size_t i = 0; i < runs[k]->npts && rc == 0; i++) {
			const struct sbr_point *p = &runs[k]->pts[i];
			if (is_schedule(p) || is_infer(p))
				continue;
			int seen = 0;
			for (size_t kk = 0; kk <= k && !seen; kk++)
				for (size_t ii = 0; ii < (kk == k ? i : runs[kk]->npts) && !seen;
				     ii++)
					seen = strcmp(runs[kk]->pts[ii].series, p->series) == 0;
			if (!seen)
				rc = series(runs, n, p, ++idx, fmt, out);
		}
	if (rc == 0)
		rc = pipeline_summary(runs, n, fmt, out);
	if (rc == 0)
		rc = infer_summary(runs, n, fmt, out);
	return rc;
}

int sbr_show(struct sbr_run *const *runs, size_t n, enum sbr_format fmt, FILE *out, char *err,
             size_t errlen)
{
	(void)err, (void)errlen;
	if (fmt == SBR_HTML)
		sbr_html_begin(out, n == 1 ? "scalebench run" : "scalebench runs side by side");
	int rc = sbr_show_runs(runs, n, fmt, out);
	if (rc == 0)
		rc = sbr_show_tables(runs, n, fmt, out);
	if (fmt == SBR_HTML)
		sbr_html_end(out);
	return rc;
}
