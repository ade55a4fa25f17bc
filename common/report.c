#include "report.h"

#include "power.h"
#include "series.h"

#include "build_info.h"
#include "envrule.h"
#include "error.h"
#include "timer.h"

#include <hwloc.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

extern char **environ;

/* The leading columns when a benchmark names none. */
static const struct sb_column default_columns[] = {
    {"size(B)", "bytes", -10, NULL, NULL}, {"count(elts)", "count", 11, NULL, NULL},
    {"type", "dtype", 8, NULL, NULL},      {"op", "op", 5, NULL, NULL},
    {"place", "inplace", 5, "in", "out"},  {NULL, NULL, 0, NULL, NULL},
};

static const struct sb_column *columns(const struct sb_bench *b)
{
	return b->columns ? b->columns : default_columns;
}

/* The metrics' names and units, asked of the hook without state (no traffic). */
static void metric_names(const struct sb_bench *b, struct sb_comm *c, struct sb_metrics *m)
{
	struct sb_point dummy = {.bytes = 1, .count = 1};
	struct sb_summary s = {.median = 1};
	struct sb_ctx x = {.comm = c};
	if (b->metrics(&x, &dummy, &s, m)) /* names only: no traffic, only memory can fail */
		m->n = 0;
}

/* Column layout of the table: the benchmark's leading columns, then the statistics of the
 * slowest rank's per-iteration time, then the benchmark's metrics. */
static void header(FILE *f, const struct sb_bench *b, struct sb_comm *c, int rounds)
{
	fprintf(f, "#");
	for (const struct sb_column *k = columns(b); k->title; k++)
		fprintf(f, " %*s", k->width, k->title);
	fprintf(f, " %12s %6s %7s %10s %10s %7s", "span", "n", "stop", "min(us)", "p50(us)",
	        "ci95(%)");
	if (rounds > 1)
		fprintf(f, " %9s", "rounds(%)");
	fprintf(f, " %10s %10s %10s %6s", "p95(us)", "p99(us)", "max(us)", "cov(%)");
	struct sb_metrics m = {0};
	metric_names(b, c, &m);
	for (size_t i = 0; i < m.n; i++) {
		char h[40];
		const char *u = m.v[i].unit;
		if (strcmp(u, "1") == 0)
			snprintf(h, sizeof h, "%s", m.v[i].name);
		else
			snprintf(h, sizeof h, "%s(%s)", m.v[i].name,
			         strcmp(u, "B/s") == 0 ? "GB/s"
			         : strcmp(u, "s") == 0 ? "us"
			                               : u);
		fprintf(f, " %12s", h);
	}
	sb_metrics_free(&m);
	fprintf(f, " %6s\n", "wrong");
}

/* A leading column's cell from the record's params. */
static void cell(FILE *f, const struct sb_column *k, const json_t *params)
{
	const json_t *v = json_object_get(params, k->key);
	char buf[64];
	if (json_is_boolean(v))
		snprintf(buf, sizeof buf, "%s",
		         json_is_true(v) ? (k->yes ? k->yes : "yes") : (k->no ? k->no : "no"));
	else if (json_is_integer(v))
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof buf, "%g", json_real_value(v));
	else if (json_is_string(v))
		snprintf(buf, sizeof buf, "%s", json_string_value(v));
	else
		snprintf(buf, sizeof buf, "-");
	fprintf(f, " %*s", k->width, buf);
}

/* Whether b has a metric of this name. */
static int has_metric(const struct sb_bench *b, struct sb_comm *c, const char *name)
{
	struct sb_metrics m = {0};
	metric_names(b, c, &m);
	int has = 0;
	for (size_t i = 0; i < m.n; i++)
		has |= strcmp(m.v[i].name, name) == 0;
	sb_metrics_free(&m);
	return has;
}

void sb_report_begin(struct sb_report *rep, const struct sb_bench *b, struct sb_comm *c,
                     const struct sb_method *m)
{
	if (!rep->table)
		return;
	FILE *f = rep->table;
	fprintf(f, "# scalebench %s: %s\n", b->name, b->summary);
	fprintf(f, "# backend %s, %d rank%s; %s\n", c->be->name, c->size, c->size == 1 ? "" : "s",
	        rep->mpi_version ? rep->mpi_version : "");
	if (m->async && !(b->flags & SB_BENCH_SELF_TIMED))
		fprintf(f,
		        "# time of an operation = slowest rank's, barrier before each sample; "
		        "headline %s\n",
		        m->gpu_latency ? "latency: a stream sync after each operation (pipelined "
		                         "time, K back to back, in the record)"
		                       : "pipelined: K operations back to back between syncs, per "
		                         "operation, as nccl-tests (latency, a sync after each, in "
		                         "the record)");
	else
		fprintf(f, "# time of an iteration = slowest rank's, barrier before each\n");
	fprintf(f, "# ");
	if (m->iters)
		fprintf(f, "%zu iterations per point", m->iters);
	else
		fprintf(f,
		        "iterate until the 95%% CI of the median is within %g%% (after %zu samples "
		        "and %g s) or %g s",
		        100 * m->precision, m->min_iters, m->min_time, m->max_time);
	fprintf(f, "; %zu check iteration%s; clock step %.0f ns\n", m->checks,
	        m->checks == 1 ? "" : "s", m->resolution * 1e9);
	if (m->rounds > 1) {
		struct sb_method mr;
		sb_method_per_round(m, &mr);
		fprintf(f,
		        "# %d rounds, interleaved (shuffled with seed %llu, the last in sweep "
		        "order), each with 1/%d of the minimums and limits (%zu samples, %g s, at "
		        "most %g s): statistics of the pooled samples; rounds(%%) = spread of the "
		        "round medians, (max - min) / median\n",
		        m->rounds, m->seed, m->rounds, mr.min_iters, mr.min_time, mr.max_time);
	}
	if (has_metric(b, c, "busbw"))
		fprintf(f, "# GB/s = 1e9 B/s; busbw = algbw x 2(n-1)/n (nccl-tests' definition)\n");
	else
		fprintf(f, "# GB/s = 1e9 B/s\n");
	header(f, b, c, m->rounds);
	fflush(f);
}

/* (max - min) of the round medians over the pooled median, or NAN with one round. */
static double round_spread(const struct sb_point_result *r)
{
	if (r->nrounds < 2 || !(r->summary.median > 0))
		return NAN;
	double lo = INFINITY, hi = -INFINITY;
	for (size_t k = 0; k < r->nrounds; k++) {
		lo = r->rounds[k].median < lo ? r->rounds[k].median : lo;
		hi = r->rounds[k].median > hi ? r->rounds[k].median : hi;
	}
	return (hi - lo) / r->summary.median;
}

void sb_report_drift(struct sb_report *rep, const struct sb_bench *b, const struct sb_drift *d)
{
	json_t *o = json_pack("{s:s,s:s,s:f,s:[f,f],s:f,s:[f,f],s:b}", "benchmark", b->name,
	                      "point", d->label, "start_median", d->start, "start_ci95",
	                      d->start_lo, d->start_hi, "end_median", d->end, "end_ci95", d->end_lo,
	                      d->end_hi, "drifted", d->drifted);
	if (!rep->drift)
		rep->drift = json_array();
	if (o)
		json_array_append_new(rep->drift, o);
	if (d->drifted)
		rep->drifted++;
	if (rep->table) {
		const double us = 1e6;
		fprintf(
		    rep->table,
		    "# drift check (%s, measured again at the end): %.3f us [%.3f, %.3f] at the "
		    "start, %.3f us [%.3f, %.3f] at the end: %s\n",
		    d->label, d->start * us, d->start_lo * us, d->start_hi * us, d->end * us,
		    d->end_lo * us, d->end_hi * us,
		    d->drifted ? "DRIFT: the intervals do not overlap, the machine changed "
		                 "state during the run"
		               : "no drift");
		fflush(rep->table);
	}
	if (d->drifted)
		sb_log_warn("%s: the first point measured %.3f us at the start and %.3f us at the "
		            "end (95%% intervals apart): the machine changed state during the run",
		            b->name, d->start * 1e6, d->end * 1e6);
}

/* A pipeline's per-boundary figures, one comment line each under the point's row. */
int sb_report_point(struct sb_report *rep, const struct sb_bench *b, struct sb_comm *c,
                    const struct sb_method *m, const struct sb_point_result *r)
{
	const struct sb_summary *s = &r->summary;
	if (strcmp(r->stop, SB_STOP_PRECISION) == 0)
		rep->points_at_precision++;
	else if (strcmp(r->stop, SB_STOP_CLOCK) == 0)
		rep->points_at_clock++;
	else if (strcmp(r->stop, SB_STOP_DURATION) == 0)
		rep->points_at_duration++;
	json_t *rec = sb_point_record(b, c, m, r, rep->points, rep->span);
	if (rep->table) {
		FILE *f = rep->table;
		const double us = 1e6;
		char ci[16];
		if (isfinite(r->rel_ci))
			snprintf(ci, sizeof ci, "%.2f", 100 * r->rel_ci);
		else
			snprintf(ci, sizeof ci, "-");
		fprintf(f, " ");
		for (const struct sb_column *k = columns(b); k->title; k++)
			cell(f, k, json_object_get(rec, "params"));
		fprintf(f, " %12s %6zu %7s %10.2f %10.2f %7s", rep->span ? rep->span : "?", s->n,
		        strcmp(r->stop, SB_STOP_PRECISION) == 0   ? "prec"
		        : strcmp(r->stop, SB_STOP_MAX_TIME) == 0  ? "time"
		        : strcmp(r->stop, SB_STOP_MAX_ITERS) == 0 ? "cap"
		        : strcmp(r->stop, SB_STOP_CLOCK) == 0     ? "clock"
		        : strcmp(r->stop, SB_STOP_DURATION) == 0  ? "dur"
		                                                  : "iters",
		        s->min * us, s->median * us, ci);
		if (m->rounds > 1) {
			double sp = round_spread(r);
			if (isfinite(sp))
				fprintf(f, " %9.2f", 100 * sp);
			else
				fprintf(f, " %9s", "-");
		}
		fprintf(f, " %10.2f %10.2f %10.2f %6.1f", s->p95 * us, s->p99 * us, s->max * us,
		        100 * s->cov);
		for (size_t i = 0; i < r->metrics.n; i++) {
			/* The table's units: GB/s for B/s, microseconds for seconds. */
			const struct sb_metric *mt = &r->metrics.v[i];
			double v = strcmp(mt->unit, "B/s") == 0 ? mt->value / 1e9
			           : strcmp(mt->unit, "s") == 0 ? mt->value * 1e6
			                                        : mt->value;
			if (isfinite(v))
				fprintf(f, " %12.3f", v);
			else
				fprintf(f, " %12s", "-");
		}
		if (r->checks_done)
			fprintf(f, " %6lld\n", r->wrong);
		else
			fprintf(f, " %6s\n", "-");
		if (b->table_extra)
			b->table_extra(f, rec);
		fflush(f);
	}
	int rc = 0;
	if (rep->json) {
		char *line =
		    json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
		if (line)
			fprintf(rep->json, "%s\n", line);
		fflush(rep->json);
		free(line);
	}
	if (rep->rf)
		rc = sb_runfile_write(rep->rf, rec);
	json_decref(rec);
	rep->points++;
	return rc;
}

void sb_report_end_bench(struct sb_report *rep, const struct sb_bench *b)
{
	(void)b;
	if (rep->table) {
		fprintf(rep->table, "#\n");
		fflush(rep->table);
	}
}

json_t *sb_end_record(const struct sb_report *rep, const char *status, const char *message)
{
	char now[64];
	sb_utc_now(now, sizeof now);
	json_t *e = json_pack("{s:s,s:s,s:s,s:I,s:f}", "type", "end", "status", status, "end_time",
	                      now, "points", (json_int_t)(rep ? rep->points : 0), "duration",
	                      rep ? sb_now() - rep->t0 : 0.0);
	if (message)
		json_object_set_new(e, "message", json_string(message));
	if (rep && rep->drift) {
		json_object_set(e, "drift", rep->drift);
		json_object_set_new(e, "drifted", json_integer((json_int_t)rep->drifted));
	}
	return e;
}

void sb_report_fail(struct sb_report *rep, const char *message)
{
	if (!rep || !rep->rf)
		return;
	json_t *e = sb_end_record(rep, "error", message);
	/* A failed write has said so (runfile.c); the fault being reported decides the exit. */
	if (sb_runfile_write_last(rep->rf, e) != 0 && !e)
		sb_log_fault("cannot build the end record");
	json_decref(e);
}

json_t *sb_point_record(const struct sb_bench *b, struct sb_comm *c, const struct sb_method *m,
                        const struct sb_point_result *r, size_t seq, const char *span)
{
	const struct sb_point *pt = r->point;
	json_t *rec = json_object();
	json_object_set_new(rec, "type", json_string("point"));
	json_object_set_new(rec, "seq", json_integer((json_int_t)seq));
	json_object_set_new(rec, "benchmark", json_string(b->name));
	json_object_set_new(rec, "backend", json_string(c->be->name));
	json_object_set_new(rec, "ranks", json_integer(c->size));
	json_object_set_new(rec, "label", json_string(pt->label));
	json_object_set_new(rec, "span", json_string(span ? span : "unknown"));
	json_object_set_new(rec, "params",
	                    json_pack("{s:I,s:I,s:s,s:s,s:b}", "bytes", (json_int_t)pt->bytes,
	                              "count", (json_int_t)pt->count, "dtype",
	                              sb_dtype_name(pt->dtype), "op", pt->op, "inplace",
	                              pt->inplace));
	/* The benchmark's own parameters after the common ones. */
	if (pt->params)
		json_object_update(json_object_get(rec, "params"), pt->params);

	json_t *meth = json_object();
	json_object_set_new(meth, "timer",
	                    json_string(c->be->timer ? c->be->timer : SB_TIMER_NAME));
	json_object_set_new(meth, "sync", json_string("barrier before each iteration"));
	json_object_set_new(meth, "data_path",
	                    json_string(c->be->data_path ? c->be->data_path(c) : "host memory"));
	json_object_set_new(meth, "reduction", json_string("max over ranks per iteration"));
	json_object_set_new(meth, "warmup", json_integer((json_int_t)r->warmup_done));
	json_object_set_new(meth, "iterations", json_integer((json_int_t)r->n));
	json_object_set_new(meth, "stop", json_string(r->stop));
	json_object_set_new(meth, "precision_target", json_real(m->precision));
	json_object_set_new(meth, "precision_reached",
	                    isfinite(r->rel_ci) ? json_real(r->rel_ci) : json_null());
	json_object_set_new(meth, "max_time", json_real(m->max_time));
	json_object_set_new(meth, "fixed_iterations",
	                    m->iters ? json_integer((json_int_t)m->iters) : json_null());
	json_object_set_new(meth, "elapsed", json_real(r->elapsed));
	json_object_set_new(meth, "min_iterations", json_integer((json_int_t)m->min_iters));
	json_object_set_new(meth, "min_time", json_real(m->min_time));
	json_object_set_new(meth, "timer_resolution", json_real(m->resolution));
	json_object_set_new(meth, "timing", json_string(r->headline ? r->headline : "host"));
	if (r->batch)
		json_object_set_new(meth, "batch", json_integer((json_int_t)r->batch));
	json_object_set_new(rec, "method", meth);

	json_t *samples = json_array();
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(samples, json_real(r->samples[i]));
	json_object_set_new(rec, "unit", json_string("s"));
	json_object_set_new(rec, "samples", samples);
	json_object_set_new(rec, "summary", sb_summary_json(&r->summary));
	if (r->dev_samples) {
		/* CUDA events around each step on the backend's stream, max over ranks: the
		 * device's view, without the host's wait for the stream (for small messages the
		 * start event, on an idle stream, still counts the enqueue). */
		json_t *d = json_array();
		for (size_t i = 0; i < r->n; i++)
			json_array_append_new(d, json_real(r->dev_samples[i]));
		json_object_set_new(rec, "samples_device", d);
		json_object_set_new(rec, "summary_device", sb_summary_json(&r->dev_summary));
	}
	if (r->alt_samples && r->alt) {
		/* The other GPU timing of the same samples (latency or pipelined). */
		char k1[64], k2[64];
		snprintf(k1, sizeof k1, "samples_%s", r->alt);
		snprintf(k2, sizeof k2, "summary_%s", r->alt);
		json_t *d = json_array();
		for (size_t i = 0; i < r->n; i++)
			json_array_append_new(d, json_real(r->alt_samples[i]));
		json_object_set_new(rec, k1, d);
		json_object_set_new(rec, k2, sb_summary_json(&r->alt_summary));
	}
	if (r->nrounds > 1) {
		json_t *med = json_array(), *ci = json_array(), *n = json_array(),
		       *stop = json_array(), *pos = json_array();
		for (size_t k = 0; k < r->nrounds; k++) {
			const struct sb_round *q = &r->rounds[k];
			json_array_append_new(med, json_real(q->median));
			json_array_append_new(ci, isfinite(q->ci_lo)
			                              ? json_pack("[f,f]", q->ci_lo, q->ci_hi)
			                              : json_null());
			json_array_append_new(n, json_integer((json_int_t)q->n));
			json_array_append_new(stop, json_string(q->stop));
			json_array_append_new(pos, json_integer(q->order));
		}
		double sp = round_spread(r);
		struct sb_method mr;
		sb_method_per_round(m, &mr);
		json_object_set_new(
		    rec, "rounds",
		    json_pack("{s:i,s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:I,s:f,s:f,s:I}}", "count",
		              (int)r->nrounds, "seed", (json_int_t)m->seed, "order",
		              "shuffled, the last in sweep order", "medians", med, "ci95", ci, "n",
		              n, "stop", stop, "position", pos, "spread",
		              isfinite(sp) ? json_real(sp) : json_null(), "per_round",
		              "min_iterations", (json_int_t)mr.min_iters, "min_time", mr.min_time,
		              "max_time", mr.max_time, "max_iterations", (json_int_t)mr.max_iters));
	}

	json_t *met = json_object();
	for (size_t i = 0; i < r->metrics.n; i++) {
		const struct sb_metric *mt = &r->metrics.v[i];
		json_object_set_new(
		    met, mt->name,
		    json_pack("{s:o,s:s}", "value",
		              isfinite(mt->value) ? json_real(mt->value) : json_null(), "unit",
		              mt->unit));
	}
	json_object_set_new(rec, "metrics", met);

	json_t *chk = json_object();
	json_object_set_new(chk, "iterations", json_integer((json_int_t)r->checks_done));
	json_object_set_new(chk, "wrong", json_integer(r->wrong));
	json_object_set_new(chk, "status",
	                    json_string(r->checks_done == 0 ? "off"
	                                : r->wrong          ? "failed"
	                                                    : "ok"));
	json_object_set_new(rec, "check", chk);
	/* GPU backends with a meter: board power over the timed span (power.h). */
	json_t *pw = sb_power_json(&r->power);
	if (pw)
		json_object_set_new(rec, "power", pw);
	if (r->series)
		json_object_set(rec, "series", r->series);
	/* The benchmark's own fields (a pipeline's boundaries and compute). */
	if (r->detail)
		json_object_update(rec, r->detail);
	return rec;
}

json_t *sb_run_record(const char *run_id, const char *command, int argc, char **argv,
                      const struct sb_args *a, struct sb_comm *c, const struct sb_topo *topo)
{
	char now[64];
	sb_utc_now(now, sizeof now);
	json_t *rec = json_object();
	json_object_set_new(rec, "type", json_string("run"));
	json_object_set_new(rec, "schema", json_integer(SB_SCHEMA_VERSION));
	json_object_set_new(rec, "run_id", json_string(run_id));
	json_object_set_new(rec, "start_time", json_string(now));
	json_object_set_new(rec, "command", json_string(command));
	json_t *av = json_array();
	for (int i = 0; i < argc; i++)
		json_array_append_new(av, json_string(argv[i]));
	json_object_set_new(rec, "argv", av);
	json_object_set_new(rec, "options", a ? sb_args_to_json(a) : json_object());

	json_object_set_new(rec, "suite",
	                    json_pack("{s:s,s:s,s:b}", "version", SB_VERSION, "git_commit",
	                              SB_GIT_COMMIT, "git_dirty", SB_GIT_DIRTY));
	json_object_set_new(rec, "build",
	                    json_pack("{s:s,s:s,s:s,s:s,s:s}", "compiler", SB_COMPILER, "flags",
	                              SB_C_FLAGS, "build_type", SB_BUILD_TYPE, "cuda",
	                              SB_CUDA_ENABLED ? "yes" : "no", "cuda_archs", SB_CUDA_ARCHS));

	json_t *prov = json_object();
	json_object_set_new(prov, "backend", json_string(c->be->name));
	json_object_set_new(prov, "ranks", json_integer(c->size));
	if (c->be->describe)
		c->be->describe(c, prov);
	if (c->be->caps & SB_CAP_DEVICE_MEM) /* whether points will have power, and why not */
		sb_power_describe(c, prov);
	char hv[32];
	unsigned v = hwloc_get_api_version();
	snprintf(hv, sizeof hv, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
	json_object_set_new(prov, "hwloc", json_string(hv));
	struct utsname u;
	if (uname(&u) == 0)
		json_object_set_new(prov, "os",
		                    json_pack("{s:s,s:s,s:s}", "sysname", u.sysname, "release",
		                              u.release, "machine", u.machine));

	/* Hosts in order of first rank, each with its ranks (the details are under topology). */
	json_t *hosts = json_array();
	json_t *rank_host = json_array();
	for (int h = 0; h < topo->nhosts; h++) {
		json_t *rl = json_array();
		for (int r = 0; r < topo->nranks; r++)
			if (topo->host_of[r] == h)
				json_array_append_new(rl, json_integer(r));
		json_array_append_new(
		    hosts, json_pack("{s:s,s:o}", "host", topo->hosts[h].host, "ranks", rl));
	}
	for (int r = 0; r < topo->nranks; r++)
		json_array_append_new(rank_host, json_string(topo->ranks[r].host));
	json_object_set_new(prov, "hosts", hosts);
	json_object_set_new(prov, "rank_hosts", rank_host);

	json_t *env = json_object();
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		char key[256];
		if (!eq || eq - *e >= (ptrdiff_t)sizeof key) /* no tuning variable is that long */
			continue;
		snprintf(key, sizeof key, "%.*s", (int)(eq - *e), *e);
		enum sb_env_verdict v = sb_env_rule(key, eq + 1);
		if (v != SB_ENV_DROP)
			json_object_set_new(env, key,
			                    json_string(v == SB_ENV_KEEP ? eq + 1 : "<redacted>"));
	}
	json_object_set_new(prov, "env", env);
	json_object_set_new(rec, "provenance", prov);
	json_object_set_new(rec, "topology", sb_topo_json(topo));
	return rec;
}
