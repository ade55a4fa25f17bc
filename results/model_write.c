/* `scalebench-report model`'s output (model.h): the fits, their checks and notes, and the
 * extrapolation tables with their caveats, through table.h in any format. */
#include "model.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int covers(const struct sbr_fit *f, double n)
{
	return n >= f->range_lo && n < f->range_hi;
}

/* A time for a cell: seconds as a number in CSV (for programs), else with a unit that keeps
 * three significant digits readable. */
static void time_cell(char *buf, size_t len, double s, enum sbr_format fmt)
{
	static const struct {
		double below, scale;
		const char *unit;
	} u[] = {{1e-6, 1e9, "ns"}, {1e-3, 1e6, "us"},      {1, 1e3, "ms"},
	         {600, 1, "s"},     {7200, 1. / 60, "min"}, {INFINITY, 1. / 3600, "h"}};
	if (!isfinite(s)) {
		snprintf(buf, len, "-");
		return;
	}
	if (fmt == SBR_CSV) {
		snprintf(buf, len, "%.4g", s);
		return;
	}
	size_t i = 0;
	while (fabs(s) >= u[i].below)
		i++;
	char num[24];
	sbr_fmt(num, sizeof num, s * u[i].scale, 3);
	snprintf(buf, len, "%s %s", num, u[i].unit);
}

static void interval_cell(char *buf, size_t len, double lo, double hi, double scale, int invert)
{
	if (isnan(lo) || isnan(hi)) {
		snprintf(buf, len, "-");
		return;
	}
	char a[24], b[24];
	double x = invert ? (hi > 0 ? scale / hi : INFINITY) : lo * scale,
	       y = invert ? (lo > 0 ? scale / lo : INFINITY) : hi * scale;
	sbr_fmt(a, sizeof a, x, 3);
	if (isinf(y))
		snprintf(b, sizeof b, "inf");
	else
		sbr_fmt(b, sizeof b, y, 3);
	snprintf(buf, len, "[%s, %s]", a, b);
}

static int is_local(const struct sbr_fit *f)
{
	return strcmp(f->benchmark, "allreduce") == 0 && f->algo == SBR_P2P;
}

static int is_collective(const struct sbr_fit *f)
{
	return strcmp(f->benchmark, "allreduce") == 0 && f->algo != SBR_P2P;
}

static const char *place(const struct sbr_fit *f)
{
	return is_local(f) ? "local copy (p = 1)" : f->cross_host ? "across hosts" : "one host";
}

/* The rank counts of a fit's points: "2, 4". */
static void ranks_text(const struct sbr_model *m, const struct sbr_fit *f, char *buf, size_t len)
{
	double last = 0;
	*buf = '\0';
	for (;;) {
		double next = INFINITY;
		for (size_t i = 0; i < f->nobs; i++) {
			double p = m->obs[f->idx[i]].p;
			if (p > last && p < next)
				next = p;
		}
		if (isinf(next))
			break;
		size_t l = strlen(buf);
		snprintf(buf + l, len - l, "%s%g", l ? ", " : "", next);
		last = next;
	}
}

static int emit(struct sbr_table *t, enum sbr_format fmt, FILE *out)
{
	int rc = sbr_table_write(t, out, fmt);
	if (fmt == SBR_CSV)
		fputs("\r\n", out);
	sbr_table_free(t);
	return rc;
}

static void para(FILE *out, enum sbr_format fmt, const char *text)
{
	if (fmt == SBR_HTML)
		sbr_html_para(out, text);
	else if (fmt == SBR_TEXT)
		fprintf(out, "# %s\n\n", text);
	else if (fmt == SBR_MD)
		fprintf(out, "%s\n\n", text);
}

static int write_fits(const struct sbr_model *m, enum sbr_format fmt, FILE *out)
{
	static const char *const head[] = {"fit",
	                                   "benchmark",
	                                   "backend",
	                                   "place",
	                                   "sizes",
	                                   "p",
	                                   "points",
	                                   "algorithm",
	                                   "alpha (us)",
	                                   "alpha 95%",
	                                   "1/beta (GB/s)",
	                                   "1/beta 95%",
	                                   "1/gamma (GB/s)",
	                                   "1/gamma 95%",
	                                   "rms resid (%)",
	                                   NULL};
	struct sbr_table t;
	int rc = sbr_table_init(
	    &t, "cost-model fits: T = a(p) alpha + b(p, n) beta + c(p, n) gamma", head);
	for (size_t i = 0; i < m->nfits && rc == 0; i++) {
		const struct sbr_fit *f = &m->fits[i];
		char id[24], sizes[64], lo[24], hi[24], ps[96], pts[24], algo[64], a[32], ai[64],
		    b[32], bi[64], g[32], gi[64], r[32];
		snprintf(id, sizeof id, "F%zu", i + 1);
		sbr_size_text(lo, sizeof lo, f->n_min);
		sbr_size_text(hi, sizeof hi, f->n_max);
		snprintf(sizes, sizeof sizes, "%s..%s", lo, hi);
		ranks_text(m, f, ps, sizeof ps);
		snprintf(pts, sizeof pts, "%zu", f->nobs);
		snprintf(algo, sizeof algo, "%s%s", sbr_algo_name(f->algo),
		         !is_collective(f)   ? ""
		         : f->algo_recorded  ? " (recorded)"
		         : m->opts.algo >= 0 ? " (forced)"
		                             : " (chosen)");
		sbr_fmt(a, sizeof a, f->alpha.v * 1e6, 3);
		interval_cell(ai, sizeof ai, f->alpha.lo, f->alpha.hi, 1e6, 0);
		sbr_fmt(b, sizeof b, f->beta.v > 0 ? 1e-9 / f->beta.v : INFINITY, 3);
		if (!(f->beta.v > 0))
			snprintf(b, sizeof b, "inf");
		else if (f->beta_effective)
			strncat(b, " (eff.)", sizeof b - strlen(b) - 1);
		interval_cell(bi, sizeof bi, f->beta.lo, f->beta.hi, 1e-9, 1);
		if (isnan(f->gamma.v))
			snprintf(g, sizeof g, is_collective(f) ? "- (in beta)" : "-");
		else if (!(f->gamma.v > 0))
			snprintf(g, sizeof g, "inf");
		else
			sbr_fmt(g, sizeof g, 1e-9 / f->gamma.v, 3);
		interval_cell(gi, sizeof gi, f->gamma.lo, f->gamma.hi, 1e-9, 1);
		sbr_fmt(r, sizeof r, 100 * f->rms_rel, 3);
		const char *cells[] = {id, f->benchmark, f->backend, place(f), sizes, ps, pts, algo,
		                       a,  ai,           b,          bi,       g,     gi, r};
		rc = sbr_table_add(&t, cells);
	}
	char note[256];
	snprintf(
	    note, sizeof note,
	    "weights 1/T^2 (relative errors, T refitted); parameters >= 0; 95%% intervals from %d "
	    "bootstrap replicates (seed %llu); eager and rendezvous apart at %g bytes",
	    m->opts.boot, m->opts.seed, m->opts.split);
	if (rc == 0)
		rc = sbr_table_set_note(&t, note);
	return rc ? (sbr_table_free(&t), rc) : emit(&t, fmt, out);
}

static int write_checks(const struct sbr_model *m, enum sbr_format fmt, FILE *out)
{
	static const char *const head[] = {"fit",
	                                   "hold-out p",
	                                   "hold-out error (%)",
	                                   "alpha spread across p (%)",
	                                   "beta spread across p (%)",
	                                   "drift",
	                                   NULL};
	struct sbr_table t;
	int rc = sbr_table_init(
	    &t, "checks: the largest p held out and predicted; each p fitted alone", head);
	for (size_t i = 0; i < m->nfits && rc == 0; i++) {
		const struct sbr_fit *f = &m->fits[i];
		char id[24], hp[24], he[24], as[24], bs[24];
		snprintf(id, sizeof id, "F%zu", i + 1);
		if (isnan(f->holdout_p))
			snprintf(hp, sizeof hp, "-");
		else
			snprintf(hp, sizeof hp, "%g", f->holdout_p);
		sbr_fmt(he, sizeof he, 100 * f->holdout_err, 3);
		sbr_fmt(as, sizeof as, 100 * f->alpha_spread, 3);
		sbr_fmt(bs, sizeof bs, 100 * f->beta_spread, 3);
		const char *drift = *f->drift                ? f->drift
		                    : isnan(f->alpha_spread) ? "- (one p)"
		                                             : "none (both within 25%)";
		const char *cells[] = {id, hp, he, as, bs, drift};
		rc = sbr_table_add(&t, cells);
	}
	if (rc == 0)
		rc = sbr_table_set_note(&t,
		                        "hold-out error: median |predicted - measured| / measured "
		                        "at the held-out p, from a fit of the smaller p alone");
	if (rc)
		return sbr_table_free(&t), rc;
	rc = emit(&t, fmt, out);

	static const char *const nhead[] = {"fit", "note", NULL};
	if (rc == 0)
		rc = sbr_table_init(&t, "notes", nhead);
	for (size_t i = 0; i < m->nfits && rc == 0; i++) {
		char id[24];
		snprintf(id, sizeof id, "F%zu", i + 1);
		const char *cells[] = {id, m->fits[i].note};
		if (*m->fits[i].note)
			rc = sbr_table_add(&t, cells);
	}
	const char *cells[] = {"all", m->notes};
	if (rc == 0 && *m->notes)
		rc = sbr_table_add(&t, cells);
	return rc ? (sbr_table_free(&t), rc) : emit(&t, fmt, out);
}

static const double extra_p[] = {1e3, 1e4, 1e5, 3e5, 1e6};
static const double extra_n[] = {16384, 268435456, 10737418240.0};
static const char *const extra_what[] = {"decode activations", "a gradient bucket",
                                         "full gradients"};

static int write_extrapolation(const struct sbr_model *m, const struct sbr_fit *rep,
                               enum sbr_format fmt, FILE *out)
{
	static const char *const head[] = {
	    "bytes", "p",         "model", "latency",         "bandwidth", "reduction",
	    "total", "total 95%", "fit",   "beyond the data", NULL};
	/* Its fits, eager and rendezvous, each with its algorithm (they may differ when chosen). */
	char title[320], ids[160] = "";
	for (size_t i = 0; i < m->nfits; i++)
		if (m->fits[i].group == rep->group)
			sbr_append(ids, sizeof ids, "F%zu %s", i + 1,
			           sbr_algo_name(m->fits[i].algo));
	snprintf(title, sizeof title, "extrapolation: all-reduce on %s, %s (%s; %s)", rep->backend,
	         place(rep), ids,
	         rep->algo_recorded  ? "recorded"
	         : m->opts.algo >= 0 ? "forced"
	                             : "chosen, not recorded");
	struct sbr_table t;
	int rc = sbr_table_init(&t, title, head);
	double g = m->opts.g;
	for (size_t k = 0; k < 3 && rc == 0; k++)
		for (size_t j = 0; j < 5 && rc == 0; j++)
			for (int hier = 0; hier < 2 && rc == 0; hier++) {
				double n = extra_n[k], p = extra_p[j];
				const struct sbr_fit *f = sbr_model_series_fit(m, rep, n);
				struct sbr_pred pr;
				rc = hier ? sbr_model_predict_hier(m, f, p, g, n, &pr)
				          : sbr_model_predict(m, f, p, n, &pr);
				if (rc)
					break;
				char sz[48], pc[24], model[32], ta[32], tb[32], tc[32], tt[32],
				    ci[80], lo[32], hi[32], id[24], beyond[128] = "";
				sbr_size_text(sz, sizeof sz, n);
				if (fmt != SBR_CSV)
					snprintf(sz + strlen(sz), sizeof sz - strlen(sz), " (%s)",
					         extra_what[k]);
				snprintf(pc, sizeof pc, "%.0f", p);
				snprintf(model, sizeof model, hier ? "2-level, %g/host" : "flat",
				         g);
				time_cell(ta, sizeof ta, pr.t_alpha, fmt);
				time_cell(tb, sizeof tb, pr.t_beta, fmt);
				if (isnan(pr.t_gamma))
					snprintf(tc, sizeof tc,
					         fmt == SBR_CSV ? "" : "(in bandwidth)");
				else
					time_cell(tc, sizeof tc, pr.t_gamma, fmt);
				time_cell(tt, sizeof tt, pr.t, fmt);
				time_cell(lo, sizeof lo, pr.lo, fmt);
				time_cell(hi, sizeof hi, pr.hi, fmt);
				snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
				for (size_t i = 0; i < m->nfits; i++)
					if (&m->fits[i] == f)
						snprintf(id, sizeof id, "F%zu", i + 1);
				sbr_append(beyond, sizeof beyond, "p x%.3g", p / f->p_max);
				if (!covers(f, n))
					sbr_append(beyond, sizeof beyond, "size range not fitted");
				if (n > f->n_max)
					sbr_append(beyond, sizeof beyond, "n x%.3g", n / f->n_max);
				else if (n < f->n_min)
					sbr_append(beyond, sizeof beyond, "n /%.3g", f->n_min / n);
				const char *cells[] = {sz, pc, model, ta, tb,
				                       tc, tt, ci,    id, beyond};
				rc = sbr_table_add(&t, cells);
			}
	char note[400];
	if (m->have_hier)
		snprintf(
		    note, sizeof note,
		    "2-level: reduce-scatter inside each host of %g ranks, all-reduce of n/%g "
		    "across p/%g hosts, all-gather inside; intra-host parameters from the runs "
		    "on one host, inter-host from the runs across hosts",
		    g, g, g);
	else
		snprintf(
		    note, sizeof note,
		    "2-level: reduce-scatter inside each host of %g ranks, all-reduce of n/%g "
		    "across p/%g hosts, all-gather inside; the runs did not span hosts, so both "
		    "levels use these flat parameters (a real host's links are faster than its "
		    "network)",
		    g, g, g);
	if (rc == 0)
		rc = sbr_table_set_note(&t, note);
	return rc ? (sbr_table_free(&t), rc) : emit(&t, fmt, out);
}

static int write_caveats(const struct sbr_model *m, double pmax, enum sbr_format fmt, FILE *out)
{
	static const char *const head[] = {"caveat", NULL};
	char range[320];
	snprintf(range, sizeof range,
	         "Fit range: the runs measured p up to %g; p = 1e3..1e6 is %.1f to %.1f orders of "
	         "magnitude beyond, and a library switches algorithms with p and n while this "
	         "table holds the fitted one throughout",
	         pmax, log10(1e3 / pmax), log10(1e6 / pmax));
	const char *rows[] = {
	    range,
	    "Stragglers and jitter: each step waits for the slowest rank, and operating-system "
	    "noise costs more the more ranks synchronise (Petrini, Kerbyson and Pakin, SC 2003; "
	    "Hoefler, Schneider and Lumsdaine, SC 2010); the model has no term for it",
	    "Fabric: the model gives every rank the measured beta; real networks taper or are "
	    "oversubscribed above the first switch level, and other jobs share the links",
	    "Failures: the mean time between failures of a machine falls with its size; at 1e5-1e6 "
	    "ranks a job sees failures within hours, and a collective that loses a rank does not "
	    "complete",
	    "Group size: a data-parallel group is a slice of the machine (tensor and pipeline "
	    "parallelism divide the ranks), so a gradient all-reduce spans fewer ranks than the "
	    "machine has",
	    "Sizes: 10 GiB (and 256 MiB where the runs stopped below it) extrapolates in n too; "
	    "a real gradient all-reduce is split into buckets and overlapped with compute",
	};
	(void)m;
	struct sbr_table t;
	int rc = sbr_table_init(&t, "caveats of the extrapolation", head);
	for (size_t i = 0; i < sizeof rows / sizeof *rows && rc == 0; i++)
		rc = sbr_table_add(&t, &rows[i]);
	return rc ? (sbr_table_free(&t), rc) : emit(&t, fmt, out);
}

int sbr_model_write(const struct sbr_model *m, enum sbr_format fmt, FILE *out)
{
	if (fmt == SBR_HTML)
		sbr_html_heading(out, "Cost models");
	int rc = write_fits(m, fmt, out);
	if (rc == 0)
		rc = write_checks(m, fmt, out);
	if (rc)
		return rc;
	if (fmt == SBR_HTML)
		sbr_html_heading(out, "Extrapolation");
	double pmax = 0;
	int any = 0;
	for (size_t i = 0; i < m->nfits && rc == 0; i++) {
		const struct sbr_fit *f = &m->fits[i];
		if (!is_collective(f))
			continue;
		pmax = fmax(pmax, f->p_max);
		int first = 1;
		for (size_t k = 0; k < i; k++)
			first &= m->fits[k].group != f->group;
		if (first) {
			rc = write_extrapolation(m, f, fmt, out);
			any = 1;
		}
	}
	if (rc == 0 && any)
		rc = write_caveats(m, pmax, fmt, out);
	else if (rc == 0)
		para(out, fmt,
		     "No extrapolation: no all-reduce across ranks was measured (a p = 1 run times "
		     "a "
		     "local copy, and a point-to-point fit has no collective's algorithm).");
	return rc;
}
