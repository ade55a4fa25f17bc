#include "report.h"

#include "claims.h"
#include "model.h"
#include "plot.h"
#include "show.h"
#include "table.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The sizes the model's extrapolation table is about (model.h): a decode step's activations
 * and a gradient bucket. The plot of time against ranks draws the first two that a fit
 * covers. */
static const double extrap_sizes[] = {16384, 268435456.0};
#define P_FAR 1e6 /* the extrapolation's end, as the model's table */

/* A fitted curve for the plot module: the flat prediction of fit f with p or n held fixed. */
struct curve {
	const struct sbr_model *m;
	const struct sbr_fit *f;
	double fixed; /* p when the curve runs over n, n when over p */
	int over_p;
};

static int curve_at(void *ctx, double x, double *y, double *lo, double *hi)
{
	const struct curve *c = ctx;
	struct sbr_pred pr;
	/* Ranks come whole: the formulas' ceil(log2 p) and (p-1)/p make no sense between. */
	double p = c->over_p ? round(x) : c->fixed, n = c->over_p ? c->fixed : x;
	if (sbr_model_predict(c->m, c->f, p, n, &pr) != 0 || !(pr.t > 0) || !isfinite(pr.t))
		return -1;
	*y = pr.t;
	*lo = pr.lo;
	*hi = pr.hi;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void size_name(char *buf, size_t len, double n)
{
	struct sbr_axis a = {.kind = SBR_AXIS_BYTES};
	sbr_plot_format(buf, len, &a, n);
}

/* Everything one benchmark's plots need, gathered from the model. */
struct bench {
	const struct sbr_model *m;
	const char *name;
	const struct sbr_obs **obs; /* its observations */
	size_t nobs;
	const struct sbr_fit *fits[8]; /* the fits that cover them (per size range) */
	size_t nfits;
	double ps[64]; /* its rank counts, sorted (the first 64 of them) */
	size_t nps;
};

/* Time against message size: the measured points per rank count (with their 95% intervals
 * as bars) and each fit's prediction at that rank count over the sizes it was fitted on. */
static int plot_sizes(const struct bench *b, size_t idx, FILE *out)
{
	size_t np = b->nps, ns = np * (1 + b->nfits);
	struct sbr_series *se = calloc(ns, sizeof *se);
	struct curve *cv = calloc(ns, sizeof *cv);
	/* The points of each rank count, one after the other in four arrays. */
	size_t no = b->nobs ? b->nobs : 1;
	double *X = calloc(4 * no, sizeof *X), *Y = X + no, *LO = Y + no, *HI = LO + no;
	char(*names)[48] = calloc(ns, sizeof *names);
	int rc = 0;
	if (!se || !cv || !X || !names)
		rc = SB_ENOMEM;
	size_t k = 0, used = 0;
	for (size_t i = 0; i < np && rc == 0; i++) {
		double p = b->ps[i];
		size_t c = 0;
		for (size_t j = 0; j < b->nobs; j++)
			if (b->obs[j]->p == p) {
				X[used + c] = b->obs[j]->n;
				Y[used + c] = b->obs[j]->t;
				LO[used + c] = b->obs[j]->t_lo;
				HI[used + c] = b->obs[j]->t_hi;
				c++;
			}
		snprintf(names[k], sizeof names[k], "%g rank%s, measured", p, p == 1 ? "" : "s");
		se[k] = (struct sbr_series){.name = names[k],
		                            .color = (int)i,
		                            .style = SBR_PLOT_POINTS,
		                            .x = X + used,
		                            .y = Y + used,
		                            .lo = LO + used,
		                            .hi = HI + used,
		                            .n = c};
		k++;
		used += c;
		for (size_t fi = 0; fi < b->nfits; fi++) {
			const struct sbr_fit *f = b->fits[fi];
			if (p < f->p_min || p > f->p_max)
				continue;
			double n0 = INFINITY, n1 = 0;
			for (size_t j = 0; j < b->nobs; j++)
				if (b->obs[j]->p == p &&
				    sbr_model_fit_for(b->m, b->name, b->obs[j]->n) == f) {
					n0 = fmin(n0, b->obs[j]->n);
					n1 = fmax(n1, b->obs[j]->n);
				}
			if (!(n0 <= n1))
				continue;
			cv[k] = (struct curve){b->m, f, p, 0};
			snprintf(names[k], sizeof names[k], "%g rank%s, fit", p, p == 1 ? "" : "s");
			se[k] = (struct sbr_series){.name = fi == 0 ? names[k] : NULL,
			                            .color = (int)i,
			                            .style = SBR_PLOT_LINE,
			                            .fn = curve_at,
			                            .ctx = &cv[k],
			                            .x0 = n0,
			                            .x1 = n1};
			k++;
		}
	}
	char id[160], title[160];
	snprintf(id, sizeof id, "model-%zu-size", idx);
	snprintf(title, sizeof title, "%.100s: time against message size, measured and fitted",
	         b->name);
	struct sbr_plot pl = {
	    .title = title,
	    .id = id,
	    .x = {.label = "message size (bytes per rank)", .kind = SBR_AXIS_BYTES},
	    .y = {.label = "time", .kind = SBR_AXIS_SECONDS},
	    .series = se,
	    .nseries = k,
	};
	if (rc == 0)
		rc = sbr_plot_svg(out, &pl);
	free(se);
	free(cv);
	free(X);
	free(names);
	return rc;
}

/* Time against ranks for one or two sizes: the measured points, the fit over the measured rank
 * counts, and the extrapolation to 10^6 ranks, dashed, with its 95% bootstrap interval. */
static int plot_ranks(const struct bench *b, size_t idx, FILE *out)
{
	double sizes[2];
	const struct sbr_fit *fit[2];
	size_t nsz = 0;
	for (size_t i = 0; i < 2; i++) {
		const struct sbr_fit *f = sbr_model_fit_for(b->m, b->name, extrap_sizes[i]);
		if (f && f->algo != SBR_P2P && f->p_max > 1) {
			sizes[nsz] = extrap_sizes[i];
			fit[nsz++] = f;
		}
	}
	/* Neither size covered: the largest measured one that is. */
	for (size_t j = b->nobs; nsz == 0 && j-- > 0;) {
		const struct sbr_fit *f = sbr_model_fit_for(b->m, b->name, b->obs[j]->n);
		if (f && f->algo != SBR_P2P && f->p_max > 1) {
			sizes[0] = b->obs[j]->n;
			fit[nsz++] = f;
		}
	}
	if (nsz == 0)
		return 0;
	struct sbr_series se[6];
	struct curve cv[6];
	char names[6][96];
	double *buf = calloc(2 * 4 * (b->nobs ? b->nobs : 1), sizeof *buf);
	if (!buf)
		return SB_ENOMEM;
	size_t k = 0;
	double pmax = 0;
	for (size_t s = 0; s < nsz; s++) {
		const struct sbr_fit *f = fit[s];
		double *x = buf + s * 4 * b->nobs, *y = x + b->nobs, *lo = y + b->nobs,
		       *hi = lo + b->nobs;
		size_t c = 0;
		for (size_t j = 0; j < b->nobs; j++)
			if (b->obs[j]->n == sizes[s]) {
				x[c] = b->obs[j]->p;
				y[c] = b->obs[j]->t;
				lo[c] = b->obs[j]->t_lo;
				hi[c] = b->obs[j]->t_hi;
				c++;
			}
		char sz[32];
		size_name(sz, sizeof sz, sizes[s]);
		pmax = fmax(pmax, f->p_max);
		snprintf(names[k], sizeof names[k], "%s measured", sz);
		se[k] = (struct sbr_series){.name = c ? names[k] : NULL,
		                            .color = (int)s,
		                            .style = SBR_PLOT_POINTS,
		                            .x = x,
		                            .y = y,
		                            .lo = lo,
		                            .hi = hi,
		                            .n = c};
		k++;
		cv[k] = (struct curve){b->m, f, sizes[s], 1};
		snprintf(names[k], sizeof names[k], "%s fit (%s)", sz, sbr_algo_name(f->algo));
		se[k] = (struct sbr_series){.name = names[k],
		                            .color = (int)s,
		                            .style = SBR_PLOT_LINE,
		                            .fn = curve_at,
		                            .ctx = &cv[k],
		                            .x0 = f->p_min,
		                            .x1 = f->p_max};
		k++;
		cv[k] = (struct curve){b->m, f, sizes[s], 1};
		snprintf(names[k], sizeof names[k], "%s extrapolated", sz);
		se[k] =
		    (struct sbr_series){.name = names[k],
		                        .color = (int)s,
		                        .style = SBR_PLOT_LINE | SBR_PLOT_DASHED | SBR_PLOT_BAND,
		                        .fn = curve_at,
		                        .ctx = &cv[k],
		                        .x0 = f->p_max,
		                        .x1 = P_FAR};
		k++;
	}
	char id[160], title[160];
	snprintf(id, sizeof id, "model-%zu-ranks", idx);
	snprintf(title, sizeof title, "%.100s: time against ranks, extrapolated to 10\u2076",
	         b->name);
	struct sbr_plot pl = {
	    .title = title,
	    .id = id,
	    .x = {.label = "ranks (p)", .kind = SBR_AXIS_COUNT, .max = P_FAR},
	    .y = {.label = "time", .kind = SBR_AXIS_SECONDS},
	    .series = se,
	    .nseries = k,
	    .extrap_from = pmax,
	};
	int rc = sbr_plot_svg(out, &pl);
	free(buf);
	return rc;
}

/* A line under the plots saying what was fitted, in the plots' terms; the numbers are in the
 * model's tables below. */
static void fits_note(FILE *out, const struct bench *b)
{
	fputs("<p class=\"note\">Fitted (weights 1/T&sup2;): ", out);
	for (size_t i = 0; i < b->nfits; i++) {
		const struct sbr_fit *f = b->fits[i];
		char n0[32], n1[32], line[256];
		size_name(n0, sizeof n0, f->n_min);
		size_name(n1, sizeof n1, f->n_max);
		snprintf(line, sizeof line, "%s%s (%s) over %s..%s at %g..%g ranks, %zu points",
		         i ? "; " : "", sbr_algo_name(f->algo),
		         f->algo_recorded ? "as the runs recorded" : "best fit of four", n0, n1,
		         f->p_min, f->p_max, f->nobs);
		sbr_html_escape(out, line);
	}
	fputs(". Bars on the points and the band around the extrapolation: 95% intervals. The "
	      "extrapolation is the flat model's: it knows nothing of stragglers, fabric taper or "
	      "failures (the caveats are beside the extrapolation table below).</p>\n",
	      out);
}

/* The model's plots, one pair per benchmark it fitted, in the order of its observations. */
static int model_plots(const struct sbr_model *m, FILE *out)
{
	int rc = 0;
	size_t idx = 0;
	const struct sbr_obs **obs = calloc(m->nobs ? m->nobs : 1, sizeof *obs);
	if (!obs)
		return SB_ENOMEM;
	for (size_t i = 0; i < m->nobs && rc == 0; i++) {
		const char *name = m->obs[i].benchmark;
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(m->obs[j].benchmark, name) == 0;
		if (seen)
			continue;
		struct bench b = {.m = m, .name = name, .obs = obs};
		for (size_t j = i; j < m->nobs; j++) {
			const struct sbr_obs *o = &m->obs[j];
			if (strcmp(o->benchmark, name) != 0)
				continue;
			b.obs[b.nobs++] = o;
			const struct sbr_fit *f = sbr_model_fit_for(m, name, o->n);
			size_t k = 0;
			while (k < b.nfits && b.fits[k] != f)
				k++;
			if (f && k == b.nfits && b.nfits < 8)
				b.fits[b.nfits++] = f;
			size_t q = 0;
			while (q < b.nps && b.ps[q] != o->p)
				q++;
			if (q == b.nps && b.nps < 64)
				b.ps[b.nps++] = o->p;
		}
		qsort(b.ps, b.nps, sizeof *b.ps, cmp_double);
		if (b.nfits == 0)
			continue;
		idx++;
		rc = plot_sizes(&b, idx, out);
		if (rc == 0)
			rc = plot_ranks(&b, idx, out);
		if (rc == 0)
			fits_note(out, &b);
	}
	free(obs);
	return rc;
}

/* The verdicts at a glance, above the claims table. */
static void verdict_counts(FILE *out, const struct sbr_claim_result *r, size_t n)
{
	size_t count[SBR_UNTESTABLE + 1] = {0};
	for (size_t i = 0; i < n; i++)
		if (r[i].verdict <= SBR_UNTESTABLE)
			count[r[i].verdict]++;
	char line[256];
	size_t l = (size_t)snprintf(line, sizeof line, "%zu claim%s:", n, n == 1 ? "" : "s");
	for (int v = SBR_PASS; v <= SBR_UNTESTABLE && l < sizeof line; v++)
		l += (size_t)snprintf(line + l, sizeof line - l, "%s %zu %s", v ? "," : "",
		                      count[v], sbr_claim_verdict_name((enum sbr_claim_verdict)v));
	sbr_html_para(out, line);
}

int sbr_report(struct sbr_run *const *runs, size_t n, const char *claims, FILE *out, char *err,
               size_t errlen)
{
	const char *cpath = claims ? claims : sbr_claims_default_path();
	struct sbr_claims cl = {0};
	int rc = sbr_claims_load(cpath, &cl, err, errlen);
	if (rc)
		return rc;
	/* No model is a finding, not a failure: the page says why in its place. */
	struct sbr_model m = {0};
	struct sbr_model_opts mo = {.algo = -1};
	char merr[512] = "";
	int mrc = sbr_model_build(runs, n, &mo, &m, merr, sizeof merr);
	if (mrc == SB_ENOMEM) {
		sbr_claims_free(&cl);
		return mrc;
	}
	struct sbr_claim_result *res = NULL;
	rc = sbr_claims_evaluate(&cl, runs, n, mrc == 0 ? &m : NULL, &res);

	if (rc == 0) {
		sbr_html_begin(out, "scalebench report");
		char line[512];
		snprintf(line, sizeof line,
		         "%zu run%s. Claims from %.300s; the cost model fitted on these runs.", n,
		         n == 1 ? "" : "s", cpath);
		sbr_html_para(out, line);
		rc = sbr_show_runs(runs, n, SBR_HTML, out);
	}
	if (rc == 0) {
		sbr_html_heading(out, "Claims");
		verdict_counts(out, res, cl.n);
		rc = sbr_claims_write(res, cl.n, SBR_HTML, out);
	}
	if (rc == 0) {
		sbr_html_heading(out, "Cost model");
		if (mrc) {
			fputs("<p class=\"warn\">No model: ", out);
			sbr_html_escape(out, *merr ? merr : sb_strerror(mrc));
			fputs("</p>\n", out);
		} else {
			rc = model_plots(&m, out);
			if (rc == 0)
				rc = sbr_model_write(&m, SBR_HTML, out);
		}
	}
	if (rc == 0) {
		sbr_html_heading(out, "Benchmarks");
		rc = sbr_show_tables(runs, n, SBR_HTML, out);
	}
	if (rc == 0)
		sbr_html_end(out);
	free(res);
	if (mrc == 0)
		sbr_model_free(&m);
	sbr_claims_free(&cl);
	return rc;
}
