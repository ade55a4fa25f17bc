/* The nccl-tests -J JSON importer, and the scan that finds the results of a JSON file the run left
 * unclosed. The names and ranks it shares with the text importer are in import_nccl.c. */
#include "envrule.h"
#include "import_impl.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
					return SB_ENOMEM;
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
		return sbr_fail(im->err, im->errlen, SB_EINPUT,
		                "%s:%zu: results[%zu].%s is not an object", im->path, p->line, idx,
		                key);
	double t, alg, bus, wrong;
	const char *tk = json_object_get(o, "cpu_time") ? "cpu_time" : "time";
	int a = jget_num(o, tk, &t), b = jget_num(o, "alg_bw", &alg),
	    c = jget_num(o, "bus_bw", &bus), d = jget_num(o, "nwrong", &wrong);
	if (a <= 0 || b < 0 || c < 0 || d < 0)
		return sbr_fail(im->err, im->errlen, SB_EINPUT,
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

/* One variable of an imported environment into out, by the provenance rule (envrule.h). */
static void env_put(json_t *out, const char *name, size_t n, const char *value)
{
	char key[256];
	if (n == 0 || n >= sizeof key || !value)
		return;
	memcpy(key, name, n);
	key[n] = 0;
	enum sb_env_verdict v = sb_env_rule(key, value);
	if (v != SB_ENV_DROP)
		json_object_set_new(out, key, json_string(v == SB_ENV_KEEP ? value : "<redacted>"));
}

/* The peer's environment as provenance.env holds ours: an object of the variables the
 * provenance rule keeps. It comes as an array of "NAME=VALUE" strings or as an object of
 * strings; anything else in it is left out. NULL when there is none. */
static json_t *imported_env(const json_t *env)
{
	if (!json_is_array(env) && !json_is_object(env))
		return NULL;
	json_t *out = json_object();
	size_t i;
	const json_t *v;
	if (json_is_array(env)) {
		json_array_foreach(env, i, v)
		{
			const char *e = json_string_value(v), *eq = e ? strchr(e, '=') : NULL;
			if (eq)
				env_put(out, e, (size_t)(eq - e), eq + 1);
		}
	} else {
		const char *k;
		json_object_foreach((json_t *)env, k, v)
		    env_put(out, k, strlen(k), json_string_value(v));
	}
	return out;
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
		sbr__imp_nccl_bench(a0, im->bench, sizeof im->bench);
	else if (!sbr__imp_name_from_path(im->path, sbr__imp_nccl_files, sbr__imp_nccl_nfiles,
	                                  im->bench, sizeof im->bench))
		snprintf(im->bench, sizeof im->bench, "unknown");
	im->backend = "nccl";

	size_t nrk = 0;
	struct nrank *rk = NULL;
	if (json_is_array(devs) && json_array_size(devs)) {
		rk = calloc(json_array_size(devs), sizeof *rk);
		if (!rk)
			return SB_ENOMEM;
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
	im->span = sbr__imp_nccl_span(rk, nrk);
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
	sbr__imp_nccl_ranks_to(prov, rk, nrk);
	free(rk);
	long long nv = jget_int(doc, "nccl_version");
	json_object_set_new(prov, "nccl_runtime",
	                    sbr__imp_nccl_version_str(nv == LLONG_MIN ? 0 : nv));
	json_object_set_new(run, "command", sbr__imp_jstr(im->bench));
	json_object_set_new(run, "start_time", json_time(json_object_get(doc, "start_time")));
	if (json_is_array(args))
		json_object_set_new(run, "argv", json_deep_copy(args));
	json_t *env = imported_env(json_object_get(doc, "env"));
	if (env)
		json_object_set_new(prov, "env", env);
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
			return sbr_fail(im->err, im->errlen, SB_EINPUT,
			                "%s:%zu: results[%zu] is not an object", im->path, line, i);
		struct pt base;
		sbr__imp_pt_init(&base, line);
		base.bytes = jget_int(res, "size");
		base.count = jget_int(res, "count");
		if (base.bytes == LLONG_MIN || base.bytes < 0)
			return sbr_fail(im->err, im->errlen, SB_EINPUT,
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
			    im->err, im->errlen, SB_EINPUT,
			    "%s:%zu: results[%zu] has neither out_of_place nor in_place", im->path,
			    line, i);
		for (int g = 0; g < 2; g++)
			if (got & 1 << g)
				sbr__imp_emit(im, &half[g]);
	}
	if (!json_array_size(im->points))
		return sbr_fail(im->err, im->errlen, SB_EINPUT, "%s:1: no results", im->path);
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
