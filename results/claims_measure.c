/* The measures of the claims (results/claims/README.md lists them): what each asks of the
 * runs, and the arithmetic from the points to a value, its interval and the inputs shown. */
#include "claims_impl.h"

#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- What the runs say: helpers ---- */

/* Append to a result's text (truncated, never overflowing). */
static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	size_t at = strlen(buf);
	if (at + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
}

static double param(const struct sbr_claim *c, const char *name)
{
	json_t *v = json_object_get(c->params, name);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int is(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static json_t *path_get(json_t *o, const char *a, const char *b, const char *c)
{
	o = json_object_get(o, a);
	if (b)
		o = json_object_get(o, b);
	if (c)
		o = json_object_get(o, c);
	return o;
}

static double num(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* An interval [lo, hi] from a JSON pair, else NANs. */
static void pair_of(json_t *a, double *lo, double *hi)
{
	*lo = json_array_size(a) == 2 ? num(json_array_get(a, 0)) : NAN;
	*hi = json_array_size(a) == 2 ? num(json_array_get(a, 1)) : NAN;
}

/* A point's headline median and its 95% interval. */
static void median_of(const struct sbr_point *p, double *t, double *lo, double *hi)
{
	*t = is(p->time_kind, "median") ? p->time : NAN;
	pair_of(path_get(p->rec, "summary", "median_ci95", NULL), lo, hi);
}

/* A run's id, shortened for the inputs; a few buffers in turn, for several in one message. */
static const char *short_id(const struct sbr_run *r)
{
	static char buf[4][12];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%.8s", r->run_id ? r->run_id : "?");
	return buf[k];
}

/* "12.3 [12.1, 12.6]" for the inputs. */
static void fmt_ci(char *buf, size_t len, double v, double lo, double hi, double scale)
{
	char a[24], b[24], c[24];
	sbr_fmt(a, sizeof a, v * scale, 3);
	if (isnan(lo) && isnan(hi)) {
		snprintf(buf, len, "%s", a);
		return;
	}
	sbr_fmt(b, sizeof b, lo * scale, 3);
	sbr_fmt(c, sizeof c, hi * scale, 3);
	snprintf(buf, len, "%s [%s, %s]", a, isinf(lo) ? "-inf" : b, isinf(hi) ? "inf" : c);
}

/* The 95% interval of quantile q from samples, by order statistics (Le Boudec's ranks for the
 * median, generalised: floor(nq - 1.96 sqrt(nq(1-q))) and ceil(1 + nq + 1.96 sqrt(nq(1-q)))):
 * a side whose rank falls outside 1..n is open (-inf or inf). Sorts v. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}
static void quantile_ci(double *v, size_t n, double q, double *lo, double *hi)
{
	*lo = -INFINITY;
	*hi = INFINITY;
	if (!n)
		return;
	qsort(v, n, sizeof *v, cmp_double);
	double d = 1.96 * sqrt(n * q * (1 - q));
	double j = floor(n * q - d), k = ceil(1 + n * q + d);
	if (j >= 1)
		*lo = v[(size_t)j - 1];
	if (k <= n)
		*hi = v[(size_t)k - 1];
}

/* The year each GPU model became available, for annualised ratios: NVIDIA's launches (V100
 * 2017, A100 2020, H100 2022; H200 and B200 were announced the year before they shipped, in
 * 2024 and 2025). A run's model is found in its provenance's GPU name. */
static int gpu_year(const struct sbr_run *r, const char **model)
{
	static const struct {
		const char *model;
		int year;
	} years[] = {
	    {"V100", 2017}, {"A100", 2020}, {"H100", 2022}, {"H200", 2024}, {"B200", 2025}};
	const char *name = json_string_value(path_get(r->run, "provenance", "gpu", "name"));
	for (size_t i = 0; name && i < sizeof years / sizeof years[0]; i++)
		if (strstr(name, years[i].model)) {
			*model = years[i].model;
			return years[i].year;
		}
	*model = name;
	return 0;
}

/* Ratios of medians between pairs of points, put together as a geometric mean (of the values
 * and of each end of the intervals, so the interval is as wide as its pairs'); the first pair
 * is shown. */
struct ratios {
	double slog, slo, shi;
	size_t n, nci;
	char first[200];
};

static void ratio_add(struct ratios *a, double v, double lo, double hi, const char *what)
{
	if (!(v > 0) || !isfinite(v))
		return;
	a->slog += log(v);
	if (lo > 0 && isfinite(hi)) {
		a->slo += log(lo);
		a->shi += log(hi);
		a->nci++;
	}
	if (a->n++ == 0)
		snprintf(a->first, sizeof a->first, "%s", what);
}

static void ratio_result(const struct ratios *a, struct sbr_claim_result *r)
{
	if (!a->n)
		return;
	r->value = exp(a->slog / a->n);
	if (a->nci == a->n) {
		r->lo = exp(a->slo / a->n);
		r->hi = exp(a->shi / a->n);
	}
	say(r->inputs, sizeof r->inputs, "%zu pair%s, geometric mean; first: %s", a->n,
	    a->n == 1 ? "" : "s", a->first);
}

/* Ratio of medians t_a / t_b with the widest interval their intervals allow. */
static void ratio_of(double ta, double alo, double ahi, double tb, double blo, double bhi,
                     double *v, double *lo, double *hi)
{
	*v = ta / tb;
	*lo = alo > 0 && bhi > 0 ? alo / bhi : NAN;
	*hi = ahi > 0 && blo > 0 ? ahi / blo : NAN;
}

static int is_infer(const struct sbr_point *p)
{
	return is(p->benchmark, "infer");
}

static int is_schedule(const struct sbr_point *p)
{
	const char *s = sbr_point_str(p, "schedule");
	return is(p->benchmark, "pipeline") && s && !is(s, "handoff");
}

/* An infer point's latency series NAME ("ttft", "tpot"): p50 (infer.latency, else the
 * metric NAME_p50) and the median's interval from the series' summary. */
static void infer_p50(const struct sbr_point *p, const char *name, double *v, double *lo,
                      double *hi)
{
	*v = num(json_object_get(path_get(p->rec, "infer", "latency", name), "p50"));
	if (isnan(*v)) {
		char m[32];
		snprintf(m, sizeof m, "%s_p50", name);
		*v = sbr_point_metric(p, m);
	}
	json_t *sum = path_get(p->rec, "series", name, "summary");
	pair_of(json_object_get(sum, "median_ci95"), lo, hi);
}

/* ---- The measures ---- */

static void no_input(struct sbr_claim_result *r, const char *why)
{
	snprintf(r->note, sizeof r->note, "%s", why);
}

/* C06: the lowest TTFT p99 over the infer points. A p99 is reported from 662 completed
 * requests (MLPerf LoadGen's count for a 99th percentile); below that the run gives none, and
 * since p99 >= p90 >= p50 the lower end of the p90's interval (from the samples, 64 or more)
 * or the median's bounds it from below, with nothing above: FAIL when even that is over the
 * bound, else INCONCLUSIVE. A point with a p99 is preferred to one without. */
struct ttft {
	int has_p99;
	double key, value, lo, hi;
	char what[320];
};

static void ttft_of(const struct sbr_run *run, const struct sbr_point *p, struct ttft *t)
{
	json_t *lat = path_get(p->rec, "infer", "latency", "ttft");
	double p99 = num(json_object_get(lat, "p99")), n = num(json_object_get(lat, "n"));
	if (isnan(p99))
		p99 = sbr_point_metric(p, "ttft_p99");
	struct sbr_point_series s;
	char e[256];
	int have = sbr_point_series_read(run->path, p, "ttft", &s, e, sizeof e) == 1 && s.nv;
	const char *label = p->label ? p->label : "?";
	t->value = t->lo = t->hi = NAN;
	if ((t->has_p99 = isfinite(p99))) {
		if (have)
			quantile_ci(s.v, s.nv, 0.99, &t->lo, &t->hi);
		t->key = t->value = p99;
		char f[128];
		fmt_ci(f, sizeof f, p99, t->lo, t->hi, 1e3);
		snprintf(t->what, sizeof t->what,
		         "run %s '%s': TTFT p99 %s ms from %.0f requests%s", short_id(run), label,
		         f, n, have ? "" : " (no samples kept: no interval)");
	} else {
		double p50, l50, h50, l90 = NAN, h90;
		infer_p50(p, "ttft", &p50, &l50, &h50);
		const char *from = "p50";
		double b = isnan(l50) ? p50 : l50;
		if (have && s.nv >= 64) {
			quantile_ci(s.v, s.nv, 0.90, &l90, &h90);
			if (l90 > b || isnan(b)) {
				b = l90;
				from = "p90";
			}
		}
		t->key = t->lo = b;
		t->hi = INFINITY;
		double missing = num(json_object_get(lat, "p99_missing"));
		char f[32];
		sbr_fmt(f, sizeof f, b * 1e3, 3);
		snprintf(t->what, sizeof t->what,
		         "run %s '%s': no TTFT p99 (%.0f requests, %.0f short of 662); p99 >= %s, "
		         "whose interval starts at %s ms",
		         short_id(run), label, n, isnan(missing) ? 662 - n : missing, from, f);
	}
	if (have)
		sbr_point_series_free(&s);
}

static void m_ttft_p99(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                       struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                       struct sbr_claim_result *r)
{
	(void)ms, (void)c, (void)m;
	size_t npts = 0;
	struct ttft best = {.key = NAN}, t;
	for (size_t i = 0; i < nruns; i++)
		for (size_t j = 0; j < runs[i]->npts; j++) {
			const struct sbr_point *p = &runs[i]->pts[j];
			if (!is_infer(p))
				continue;
			npts++;
			ttft_of(runs[i], p, &t);
			if (isnan(t.key))
				continue;
			if (isnan(best.key) || t.has_p99 > best.has_p99 ||
			    (t.has_p99 == best.has_p99 && t.key < best.key))
				best = t;
		}
	if (!npts)
		return no_input(r, "no infer point in the runs");
	if (isnan(best.key))
		return no_input(r, "the infer points have no TTFT");
	r->value = best.value * 1e3;
	r->lo = best.lo * 1e3;
	r->hi = best.hi * 1e3;
	snprintf(r->inputs, sizeof r->inputs, "%s; best of %zu infer point%s", best.what, npts,
	         npts == 1 ? "" : "s");
	if (!best.has_p99)
		snprintf(r->note, sizeof r->note,
		         "no p99 (fewer than 662 requests): judged on its lower bound; --requests "
		         "662 or more gives it");
}

/* C07: TTFT p50 of a tensor-parallel infer configuration (T >= 2) whose point crossed hosts,
 * over the same configuration inside one host. */
static const char *span_of(const struct sbr_point *p)
{
	return json_string_value(json_object_get(p->rec, "span"));
}

static void m_tp_cross(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                       struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                       struct sbr_claim_result *r)
{
	(void)ms, (void)c, (void)m;
	struct ratios a = {0};
	int any_cross = 0;
	for (size_t i = 0; i < nruns; i++)
		for (size_t j = 0; j < runs[i]->npts; j++) {
			const struct sbr_point *x = &runs[i]->pts[j];
			if (!is_infer(x) || sbr_point_int(x, "tp", 1) < 2 ||
			    !is(span_of(x), "cross-host"))
				continue;
			any_cross = 1;
			for (size_t k = 0; k < nruns; k++)
				for (size_t l = 0; l < runs[k]->npts; l++) {
					const struct sbr_point *y = &runs[k]->pts[l];
					const char *span = span_of(y);
					if (!is_infer(y) || !span || is(span, "cross-host") ||
					    !is(x->config, y->config))
						continue;
					double tx, xl, xh, ty, yl, yh, v, lo, hi;
					infer_p50(x, "ttft", &tx, &xl, &xh);
					infer_p50(y, "ttft", &ty, &yl, &yh);
					ratio_of(tx, xl, xh, ty, yl, yh, &v, &lo, &hi);
					char what[200], f1[32], f2[32];
					sbr_fmt(f1, sizeof f1, tx * 1e3, 3);
					sbr_fmt(f2, sizeof f2, ty * 1e3, 3);
					snprintf(
					    what, sizeof what,
					    "'%s' TTFT p50 %s ms across hosts (run %s) / %s ms %s "
					    "(run %s)",
					    x->label ? x->label : "?", f1, short_id(runs[i]), f2,
					    span, short_id(runs[k]));
					ratio_add(&a, v, lo, hi, what);
				}
		}
	if (!a.n)
		return no_input(r, any_cross ? "no infer point of the same configuration inside "
		                               "one host to set against those across hosts"
		                             : "no tensor-parallel infer point across hosts (the "
		                               "runs' topology spans one host)");
	ratio_result(&a, r);
}

/* C03: Amdahl's bound for making a step's communication s times faster, 1 / ((1 - f) + f/s),
 * from the measured fraction f: exposed handoff over the step of a pipeline schedule (its
 * interval from the step's: f = (t - compute) / t grows with t), or an infer step's all-reduce
 * share (no interval). The largest bound over the points: where acceleration pays most. */
static double amdahl(double f, double s)
{
	return 1 / ((1 - f) + f / s);
}

static void m_amdahl(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                     struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                     struct sbr_claim_result *r)
{
	(void)ms, (void)m;
	double s = param(c, "phase_speedup"), f0 = param(c, "example_fraction");
	size_t npts = 0;
	for (size_t i = 0; i < nruns; i++)
		for (size_t j = 0; j < runs[i]->npts; j++) {
			const struct sbr_point *p = &runs[i]->pts[j];
			double f, flo = NAN, fhi = NAN;
			char what[320];
			if (is_schedule(p)) {
				double t, lo, hi, ex = sbr_point_metric(p, "exposed");
				median_of(p, &t, &lo, &hi);
				if (!(t > 0) || !(ex >= 0))
					continue;
				double cp = t - ex;
				f = ex / t;
				if (lo > 0 && hi > 0) {
					flo = fmax(0, (lo - cp) / lo);
					fhi = fmin(1, (hi - cp) / hi);
				}
				char a[32], b[32];
				sbr_fmt(a, sizeof a, ex * 1e3, 3);
				sbr_fmt(b, sizeof b, t * 1e3, 3);
				snprintf(what, sizeof what,
				         "run %s '%s': f = exposed %s ms / step %s ms = %.3f",
				         short_id(runs[i]), p->label ? p->label : "?", a, b, f);
			} else if (is_infer(p)) {
				f = sbr_point_metric(p, "allreduce_share");
				if (!(f >= 0 && f <= 1))
					continue;
				snprintf(what, sizeof what,
				         "run %s '%s': f = all-reduce share %.3f",
				         short_id(runs[i]), p->label ? p->label : "?", f);
			} else {
				continue;
			}
			npts++;
			double v = amdahl(f, s);
			if (!isnan(r->value) && v <= r->value)
				continue;
			r->value = v;
			r->lo = isnan(flo) ? NAN : amdahl(flo, s);
			r->hi = isnan(fhi) ? NAN : amdahl(fhi, s);
			snprintf(r->inputs, sizeof r->inputs, "%s; 1/((1 - f) + f/%g) = %.3f", what,
			         s, v);
		}
	if (!npts)
		return no_input(r,
		                "no pipeline schedule or infer point: no measured phase fraction");
	say(r->inputs, sizeof r->inputs,
	    "; the largest of %zu point%s; the seed's example: 1/((1 - %g) + %g/%g) = %.3f", npts,
	    npts == 1 ? "" : "s", f0, f0, s, amdahl(f0, s));
}

/* C15: steps sequential decode steps at the lowest measured TPOT p50, in ms. */
static void m_decode(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                     struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                     struct sbr_claim_result *r)
{
	(void)ms, (void)m;
	double steps = param(c, "steps"), best = INFINITY;
	size_t npts = 0;
	for (size_t i = 0; i < nruns; i++)
		for (size_t j = 0; j < runs[i]->npts; j++) {
			const struct sbr_point *p = &runs[i]->pts[j];
			if (!is_infer(p))
				continue;
			double t, lo, hi;
			infer_p50(p, "tpot", &t, &lo, &hi);
			if (!(t > 0))
				continue;
			npts++;
			if (t >= best)
				continue;
			best = t;
			r->value = steps * t * 1e3;
			r->lo = steps * lo * 1e3;
			r->hi = steps * hi * 1e3;
			char f[128], g[32];
			fmt_ci(f, sizeof f, t, lo, hi, 1e3);
			sbr_fmt(g, sizeof g, steps * t, 3);
			snprintf(r->inputs, sizeof r->inputs,
			         "run %s '%s': TPOT p50 %s ms; %g steps x TPOT = %s s",
			         short_id(runs[i]), p->label ? p->label : "?", f, steps, g);
		}
	if (!npts)
		return no_input(r, "no infer point with a TPOT (requests of two or more tokens)");
	say(r->inputs, sizeof r->inputs, "; the lowest TPOT of %zu infer point%s", npts,
	    npts == 1 ? "" : "s");
}

/* C09, C12, C13: the all-reduce of the gradients at p ranks, from the fitted model, as a share
 * of a step with the stated compute (not overlapped): T / (T + compute), in %. */
static void m_step_share(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                         struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                         struct sbr_claim_result *r)
{
	(void)ms, (void)runs, (void)nruns;
	double p = param(c, "gpus"), n = param(c, "grad_bytes"), comp = param(c, "step_compute_s"),
	       g = param(c, "gpus_per_host");
	if (!m)
		return no_input(r, "no cost model: the runs have no point a model can use");
	const struct sbr_fit *f = sbr_model_fit_for(m, "allreduce", n);
	if (!f)
		return no_input(r, "the model has no all-reduce fit for gradients of this size");
	struct sbr_pred flat, hier;
	int okf = sbr_model_predict(m, f, p, n, &flat) == 0;
	int okh = sbr_model_predict_hier(m, f, p, g, n, &hier) == 0;
	if (!okf && !okh)
		return no_input(r, "the model cannot predict at this p and size");
	const struct sbr_pred *use = okh ? &hier : &flat;
	r->value = 100 * use->t / (use->t + comp);
	r->lo = isfinite(use->lo) ? 100 * use->lo / (use->lo + comp) : NAN;
	r->hi = isfinite(use->hi) ? 100 * use->hi / (use->hi + comp) : NAN;
	char a[32], b[32], cb[32], t1[128], t2[128];
	snprintf(a, sizeof a, "%.3g", f->alpha.v);
	snprintf(b, sizeof b, "%.3g", f->beta.v);
	snprintf(cb, sizeof cb, "%g", f->p_max);
	fmt_ci(t1, sizeof t1, use->t, use->lo, use->hi, 1);
	snprintf(r->inputs, sizeof r->inputs,
	         "all-reduce fit %s (%s), alpha %s s, beta %s s/B, measured to p = %s; at p = %g, "
	         "n = %g GB of gradients (%g params in bf16, assumed), %g GPUs a host: %s T = %s s",
	         sbr_algo_name(f->algo), f->algo_recorded ? "recorded" : "best fit", a, b, cb, p,
	         n / 1e9, n / 2, g, okh ? "hierarchical" : "flat", t1);
	if (okh && okf) {
		fmt_ci(t2, sizeof t2, flat.t, flat.lo, flat.hi, 1);
		say(r->inputs, sizeof r->inputs, ", flat %s s", t2);
	}
	say(r->inputs, sizeof r->inputs, "; compute %g s a step (assumed); share = T / (T + %g)",
	    comp, comp);
	say(r->note, sizeof r->note,
	    "extrapolated from p <= %s: stragglers, fabric taper and failures not in it%s%s%s", cb,
	    okh && !m->have_hier ? "; hierarchical with the flat parameters (one host)" : "",
	    f->note[0] ? "; " : "", f->note);
}

/* C01, C08: the annualised ratio across GPU generations: (t_old / t_new)^(1 / years), of
 * performance (C01) or performance per watt (C08: t x W per GPU). */
static void generations(const struct sbr_claim *c, struct sbr_run *const *runs, size_t nruns,
                        int per_watt, struct sbr_claim_result *r)
{
	(void)c;
	struct ratios a = {0};
	char seen[128] = "";
	for (size_t i = 0; i < nruns; i++) {
		const char *mi;
		int yi = gpu_year(runs[i], &mi);
		if (mi && !strstr(seen, mi))
			say(seen, sizeof seen, "%s%s", seen[0] ? ", " : "", mi);
		for (size_t k = i + 1; yi && k < nruns; k++) {
			const char *mk;
			int yk = gpu_year(runs[k], &mk);
			if (!yk || yk == yi)
				continue;
			/* o: the older generation, w: the newer. */
			struct sbr_run *o = yi < yk ? runs[i] : runs[k],
			               *w = yi < yk ? runs[k] : runs[i];
			double years = abs(yk - yi);
			for (size_t j = 0; j < o->npts; j++)
				for (size_t l = 0; l < w->npts; l++) {
					const struct sbr_point *po = &o->pts[j], *pw = &w->pts[l];
					if (!po->config || !is(po->config, pw->config))
						continue;
					double to, ol, oh, tw, wl, wh, v, lo, hi;
					median_of(po, &to, &ol, &oh);
					median_of(pw, &tw, &wl, &wh);
					double wo = 1, ww = 1;
					if (per_watt) {
						wo = num(
						    path_get(po->rec, "power", "watts_mean", NULL));
						ww = num(
						    path_get(pw->rec, "power", "watts_mean", NULL));
						if (!(wo > 0 && ww > 0))
							continue;
					}
					ratio_of(to * wo, ol * wo, oh * wo, tw * ww, wl * ww,
					         wh * ww, &v, &lo, &hi);
					char what[200];
					snprintf(what, sizeof what,
					         "'%s' %s on %s (run %s) over %s (run %s): %.3gx "
					         "in %g years",
					         po->label ? po->label : "?",
					         per_watt ? "time x W" : "time", yi < yk ? mi : mk,
					         short_id(o), yi < yk ? mk : mi, short_id(w), v,
					         years);
					ratio_add(&a, pow(v, 1 / years), pow(lo, 1 / years),
					          pow(hi, 1 / years), what);
				}
		}
	}
	if (!a.n) {
		snprintf(r->note, sizeof r->note,
		         "needs one configuration measured on two GPU generations%s (GPUs in the "
		         "runs: %s)",
		         per_watt ? " with board power" : "", seen[0] ? seen : "none");
		return;
	}
	ratio_result(&a, r);
	say(r->inputs, sizeof r->inputs,
	    "; years: V100 2017, A100 2020, H100 2022, H200 2024, B200 2025");
}

static void m_gen(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                  struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                  struct sbr_claim_result *r)
{
	(void)ms, (void)m;
	generations(c, runs, nruns, 0, r);
}

static void m_gen_watt(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                       struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                       struct sbr_claim_result *r)
{
	(void)ms, (void)m;
	generations(c, runs, nruns, 1, r);
}

/* The software a run measured: MPI library, NCCL, CUDA runtime and driver. */
static void software(const struct sbr_run *r, char *buf, size_t len)
{
	json_t *p = json_object_get(r->run, "provenance");
	const char *v[4] = {json_string_value(json_object_get(p, "mpi_library")),
	                    json_string_value(json_object_get(p, "nccl_runtime")),
	                    json_string_value(path_get(p, "gpu", "cuda_runtime", NULL)),
	                    json_string_value(path_get(p, "gpu", "cuda_driver", NULL))};
	snprintf(buf, len, "%s|%s|%s|%s", v[0] ? v[0] : "", v[1] ? v[1] : "", v[2] ? v[2] : "",
	         v[3] ? v[3] : "");
}

/* NCCL_NET_GDR_LEVEL of a run: 0 off (LOC or 0), 1 on (any other level), -1 not set. */
static int gdr(const struct sbr_run *r)
{
	const char *v =
	    json_string_value(path_get(r->run, "provenance", "env", "NCCL_NET_GDR_LEVEL"));
	if (!v)
		return -1;
	return !(is(v, "LOC") || is(v, "0"));
}

/* C05 and C22: ratios of medians between two runs on one machine class that differ in one
 * thing: the software stack (older run over newer), or GPUDirect RDMA (off over on). */
static void pairs_on_class(struct sbr_run *const *runs, size_t nruns, int by_gdr,
                           struct sbr_claim_result *r)
{
	struct ratios a = {0};
	for (size_t i = 0; i < nruns; i++)
		for (size_t k = i + 1; k < nruns; k++) {
			struct sbr_run *x = runs[i], *y = runs[k];
			if (strcmp(x->machine_class, y->machine_class) != 0)
				continue;
			struct sbr_run *num_run, *den_run;
			char why[160];
			if (by_gdr) {
				int gx = gdr(x), gy = gdr(y);
				if (gx < 0 || gy < 0 || gx == gy)
					continue;
				num_run = gx ? y : x;
				den_run = gx ? x : y;
				snprintf(why, sizeof why, "GDR off (run %s) over on (run %s)",
				         short_id(num_run), short_id(den_run));
			} else {
				char sx[512], sy[512];
				software(x, sx, sizeof sx);
				software(y, sy, sizeof sy);
				if (strcmp(sx, sy) == 0)
					continue;
				int x_first = strcmp(x->start_time ? x->start_time : "",
				                     y->start_time ? y->start_time : "") <= 0;
				num_run = x_first ? x : y;
				den_run = x_first ? y : x;
				snprintf(why, sizeof why,
				         "older stack (run %s) over newer (run %s)",
				         short_id(num_run), short_id(den_run));
			}
			for (size_t j = 0; j < num_run->npts; j++)
				for (size_t l = 0; l < den_run->npts; l++) {
					const struct sbr_point *pn = &num_run->pts[j],
					                       *pd = &den_run->pts[l];
					if (!pn->config || !is(pn->config, pd->config))
						continue;
					if (by_gdr &&
					    (!is(pn->benchmark, "pipeline") ||
					     !is(sbr_point_str(pn, "schedule"), "handoff")))
						continue;
					double tn, nl, nh, td, dl, dh, v, lo, hi;
					median_of(pn, &tn, &nl, &nh);
					median_of(pd, &td, &dl, &dh);
					ratio_of(tn, nl, nh, td, dl, dh, &v, &lo, &hi);
					char what[200];
					snprintf(what, sizeof what, "'%s' %s: %.3gx",
					         pn->label ? pn->label : "?", why, v);
					ratio_add(&a, v, lo, hi, what);
				}
		}
	if (!a.n)
		return no_input(r, by_gdr ? "needs pipeline handoff runs of one configuration and "
		                            "machine with NCCL_NET_GDR_LEVEL off and on"
		                          : "needs one configuration measured on one machine class "
		                            "under two software stacks");
	ratio_result(&a, r);
}

static void m_stack(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                    struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                    struct sbr_claim_result *r)
{
	(void)ms, (void)c, (void)m;
	pairs_on_class(runs, nruns, 0, r);
}

static void m_gdr(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                  struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                  struct sbr_claim_result *r)
{
	(void)ms, (void)c, (void)m;
	pairs_on_class(runs, nruns, 1, r);
}

/* W per GPU: the largest power.watts_mean over the points (the workload that draws most, so
 * the fewest GPUs a site holds); 0 when no point has power. */
static double watts(struct sbr_run *const *runs, size_t nruns, char *what, size_t len)
{
	double w = 0;
	size_t n = 0;
	for (size_t i = 0; i < nruns; i++)
		for (size_t j = 0; j < runs[i]->npts; j++) {
			const struct sbr_point *p = &runs[i]->pts[j];
			double x = num(path_get(p->rec, "power", "watts_mean", NULL));
			if (!(x > 0))
				continue;
			n++;
			if (x <= w)
				continue;
			w = x;
			snprintf(what, len, "run %s '%s': %.4g W per GPU (mean over the point)",
			         short_id(runs[i]), p->label ? p->label : "?", x);
		}
	if (n)
		say(what, len, ", the largest of %zu point%s with power", n, n == 1 ? "" : "s");
	return w;
}

/* The all-in power of one GPU: the measured board power x k_node x PUE (assumed, from the
 * claim's params), the inputs said; 0 (and NO_MEASUREMENT) when no point has board power. */
static double all_in_watts(const struct sbr_claim *c, struct sbr_run *const *runs, size_t nruns,
                           struct sbr_claim_result *r)
{
	double w = watts(runs, nruns, r->inputs, sizeof r->inputs);
	if (!(w > 0)) {
		no_input(r, "no point has board power (GPU backends with NVML give it; CPU runs do "
		            "not)");
		return 0;
	}
	double k = param(c, "k_node"), pue = param(c, "pue");
	say(r->inputs, sizeof r->inputs, "; x k_node %g x PUE %g (assumed k, PUE)", k, pue);
	return w * k * pue;
}

/* C17, C24: GPUs a site of site_watts holds. */
static void m_site(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                   struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                   struct sbr_claim_result *r)
{
	(void)ms, (void)m;
	double w = all_in_watts(c, runs, nruns, r), site = param(c, "site_watts");
	if (w > 0) {
		r->value = site / w;
		say(r->inputs, sizeof r->inputs, "; %g W of site / that", site);
	}
}

/* C26: the power of gpus GPUs, in TW. */
static void m_fleet(const struct sbr__claim_measure *ms, const struct sbr_claim *c,
                    struct sbr_run *const *runs, size_t nruns, const struct sbr_model *m,
                    struct sbr_claim_result *r)
{
	(void)ms, (void)m;
	double w = all_in_watts(c, runs, nruns, r), gpus = param(c, "gpus");
	if (w > 0) {
		r->value = gpus * w / 1e12;
		say(r->inputs, sizeof r->inputs, "; x %g GPUs", gpus);
	}
}

static const struct sbr__claim_measure measures[] = {
    {"infer.ttft_p99", "ms", {NULL}, m_ttft_p99},
    {"infer.tp_cross_over_inside", "x", {NULL}, m_tp_cross},
    {"amdahl.bound", "x", {"phase_speedup", "example_fraction", NULL}, m_amdahl},
    {"decode.sequential_time", "ms", {"steps", NULL}, m_decode},
    {"allreduce.step_share",
     "%",
     {"gpus", "grad_bytes", "step_compute_s", "gpus_per_host"},
     m_step_share},
    {"gen.perf_per_year", "x/yr", {NULL}, m_gen},
    {"gen.perf_per_watt_per_year", "x/yr", {NULL}, m_gen_watt},
    {"stack.ratio", "x", {NULL}, m_stack},
    {"handoff.gdr_ratio", "x", {NULL}, m_gdr},
    {"power.gpus_per_site", "GPUs", {"site_watts", "k_node", "pue", NULL}, m_site},
    {"power.fleet_watts", "TW", {"gpus", "k_node", "pue", NULL}, m_fleet},
};

const struct sbr__claim_measure *sbr__claims_measure(const char *name)
{
	for (size_t i = 0; name && i < sizeof measures / sizeof measures[0]; i++)
		if (strcmp(measures[i].name, name) == 0)
			return &measures[i];
	return NULL;
}
