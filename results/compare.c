#include "compare.h"

#include "mwu.h"
#include "stats.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sbr_verdict_name(enum sbr_verdict_kind k)
{
	switch (k) {
	case SBR_REGRESSED:
		return "regressed";
	case SBR_IMPROVED:
		return "improved";
	case SBR_UNCHANGED:
		return "unchanged";
	default:
		return "not comparable";
	}
}

/* The smallest two-sided p the U test can give with these sample sizes (every value of one
 * sample above every value of the other): 2 / C(n1 + n2, n1). */
static double min_p(size_t n1, size_t n2)
{
	double lc = lgamma((double)(n1 + n2) + 1) - lgamma((double)n1 + 1) - lgamma((double)n2 + 1);
	return fmin(1, 2 * exp(-lc));
}

/* The verdict of one point from its samples and the baseline's (pooled over its runs, whose
 * medians lie in [v->base_lo, v->base_hi]). 0, or SB_ENOMEM: memory is a fault, not a verdict. */
static int judge(struct sbr_compare *c, struct sbr_verdict *v, const double *base, size_t nb)
{
	const struct sbr_point *p = v->point;
	v->ncur = p->nsamples;
	v->nbase = nb;
	v->base_median = v->cur_median = v->ratio = v->p = NAN;
	if (v->base_runs < 2)
		v->base_lo = v->base_hi = NAN;
	v->kind = SBR_NOT_COMPARABLE;
	char why[sizeof v->why];
	snprintf(why, sizeof why, "%s", v->why); /* the caller's reason, if any */
	v->why[0] = '\0';
	if (p->check_failed) {
		snprintf(v->why, sizeof v->why, "its check failed: wrong results are not timed");
		return 0;
	}
	if (!p->nsamples) {
		snprintf(v->why, sizeof v->why, "no per-iteration samples (%s)",
		         p->time_kind && strcmp(p->time_kind, "mean") == 0
		             ? "an imported result keeps only a mean"
		             : "none recorded");
		return 0;
	}
	if (!nb) {
		snprintf(v->why, sizeof v->why, "%s", why[0] ? why : "no baseline samples");
		return 0;
	}
	int rc;
	if ((rc = sb_stats_median_of(p->samples, p->nsamples, &v->cur_median)) ||
	    (rc = sb_stats_median_of(base, nb, &v->base_median)))
		return rc;
	v->ratio = v->cur_median / v->base_median;
	double least = min_p(nb, p->nsamples);
	if (least >= c->alpha) {
		snprintf(v->why, sizeof v->why,
		         "too few samples (%zu and %zu): the test cannot reach p < %g", nb,
		         p->nsamples, c->alpha);
		return 0;
	}
	struct sbr_mwu u;
	if ((rc = sbr_mwu(p->samples, p->nsamples, base, nb, &u)) == SB_ENOMEM)
		return rc;
	if (rc) {
		snprintf(v->why, sizeof v->why, "the samples cannot be tested");
		return 0;
	}
	v->p = u.p;
	int significant = u.p < c->alpha;
	if (!isfinite(v->base_lo))
		v->base_lo = v->base_hi = v->base_median;
	double up = v->cur_median / v->base_hi, down = v->cur_median / v->base_lo;
	if (significant && v->ratio > 1 + c->threshold && up > 1 + c->threshold) {
		v->kind = SBR_REGRESSED;
		snprintf(v->why, sizeof v->why, "slower by %.1f%% (p = %.2g)%s",
		         100 * (v->ratio - 1), u.p,
		         v->base_runs > 1 ? ", beyond every baseline run" : "");
	} else if (significant && v->ratio < 1 - c->threshold && down < 1 - c->threshold) {
		v->kind = SBR_IMPROVED;
		snprintf(v->why, sizeof v->why, "faster by %.1f%% (p = %.2g)%s",
		         100 * (1 - v->ratio), u.p,
		         v->base_runs > 1 ? ", beyond every baseline run" : "");
	} else {
		v->kind = SBR_UNCHANGED;
		if (!significant)
			snprintf(v->why, sizeof v->why, "no significant difference (p = %.2g)",
			         u.p);
		else if (fabs(v->ratio - 1) <= c->threshold)
			snprintf(v->why, sizeof v->why,
			         "significant (p = %.2g) but within %.3g%% (%+.1f%%)", u.p,
			         100 * c->threshold, 100 * (v->ratio - 1));
		else
			snprintf(v->why, sizeof v->why,
			         "%+.1f%% (p = %.2g), but within %.3g%% of the baseline runs' "
			         "range of medians",
			         100 * (v->ratio - 1), u.p, 100 * c->threshold);
	}
	return 0;
}

static int begin(struct sbr_compare *c, const struct sbr_run *cur)
{
	c->regressed = c->improved = c->unchanged = c->not_comparable = 0;
	c->n = 0;
	if (!(c->v = calloc(cur->npts ? cur->npts : 1, sizeof *c->v)))
		return SB_ENOMEM;
	c->n = cur->npts;
	return 0;
}

static void count(struct sbr_compare *c)
{
	for (size_t i = 0; i < c->n; i++)
		switch (c->v[i].kind) {
		case SBR_REGRESSED:
			c->regressed++;
			break;
		case SBR_IMPROVED:
			c->improved++;
			break;
		case SBR_UNCHANGED:
			c->unchanged++;
			break;
		default:
			c->not_comparable++;
		}
}

int sbr_compare_run(struct sbr_compare *c, const struct sbr_run *cur, const struct sbr_run *base,
                    char *err, size_t errlen)
{
	(void)err, (void)errlen;
	int rc = begin(c, cur);
	if (rc)
		return rc;
	for (size_t i = 0; i < cur->npts && rc == 0; i++) {
		struct sbr_verdict *v = &c->v[i];
		v->point = &cur->pts[i];
		const struct sbr_point *b = NULL;
		for (size_t j = 0; j < base->npts && !b; j++)
			if (strcmp(base->pts[j].config, v->point->config) == 0)
				b = &base->pts[j];
		v->base_runs = b ? 1 : 0;
		if (!b)
			snprintf(v->why, sizeof v->why,
			         "the baseline run has no point of this configuration");
		else if (b->check_failed)
			snprintf(v->why, sizeof v->why, "the baseline point's check failed");
		else if (!b->nsamples)
			snprintf(v->why, sizeof v->why, "the baseline point has no samples");
		rc = judge(c, v, b && !b->check_failed ? b->samples : NULL,
		           b && !b->check_failed ? b->nsamples : 0);
	}
	count(c);
	return rc;
}

/* The range of the baseline runs' medians that a change must leave: all of them up to four
 * runs; from five on (the default window), without the single most extreme on each side, so
 * that one run caught in a bad state, or one that regressed and went into the history, does
 * not hide a change. (Trimming from three on would drop a state of the machine seen once in
 * four runs, and call its next appearance a regression: results/README.md.) */
static int range(const double *m, int k, double *lo, double *hi)
{
	*lo = *hi = NAN;
	if (k <= 0)
		return 0;
	double *c = malloc((size_t)k * sizeof *c);
	if (!c)
		return SB_ENOMEM;
	memcpy(c, m, (size_t)k * sizeof *c);
	sb_stats_sort(c, (size_t)k);
	*lo = k >= 5 ? c[1] : c[0];
	*hi = k >= 5 ? c[k - 2] : c[k - 1];
	free(c);
	return 0;
}

int sbr_compare_history(struct sbr_compare *c, const struct sbr_run *cur, struct sbr_db *db,
                        int nruns, char *err, size_t errlen)
{
	int rc = begin(c, cur);
	if (rc == 0 && !cur->start_time) {
		/* Without a start time the run has no place in the history. */
		for (size_t i = 0; i < cur->npts; i++) {
			c->v[i].point = &cur->pts[i];
			snprintf(c->v[i].why, sizeof c->v[i].why,
			         "the run has no start time to place it in the history");
			if ((rc = judge(c, &c->v[i], NULL, 0)))
				break;
		}
		count(c);
		return rc;
	}
	for (size_t i = 0; i < cur->npts && rc == 0; i++) {
		struct sbr_verdict *v = &c->v[i];
		v->point = &cur->pts[i];
		struct sbr_base b;
		rc = sbr_db_baseline(db, cur->machine_class, v->point->config, cur->run_id,
		                     cur->start_time, nruns, &b, err, errlen);
		if (rc)
			break;
		v->base_runs = b.runs;
		rc = range(b.run_medians, b.runs, &v->base_lo, &v->base_hi);
		if (!b.runs)
			snprintf(v->why, sizeof v->why,
			         "no earlier run of this configuration on this machine class");
		if (rc == 0)
			rc = judge(c, v, b.samples, b.n);
		sbr_base_free(&b);
	}
	count(c);
	return rc;
}

void sbr_compare_free(struct sbr_compare *c)
{
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

int sbr_compare_table(const struct sbr_compare *c, const char *title, int only_changes,
                      struct sbr_table *t)
{
	static const char *const head[] = {
	    "benchmark",    "point", "bytes", "ranks",   "baseline runs", "baseline (us)",
	    "current (us)", "ratio", "p",     "verdict", "why",           NULL};
	int rc = sbr_table_init(t, title, head);
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		const struct sbr_verdict *v = &c->v[i];
		if (only_changes && v->kind != SBR_REGRESSED && v->kind != SBR_IMPROVED)
			continue;
		char bytes[24], ranks[16], bm[32], cm[32], ratio[32], p[32], runs[16];
		snprintf(bytes, sizeof bytes, "%zu", v->point->bytes);
		snprintf(runs, sizeof runs, "%d", v->base_runs);
		snprintf(ranks, sizeof ranks, "%d", v->point->ranks);
		sbr_fmt(bm, sizeof bm, v->base_median * 1e6, 4);
		sbr_fmt(cm, sizeof cm, v->cur_median * 1e6, 4);
		sbr_fmt(ratio, sizeof ratio, v->ratio, 4);
		if (isfinite(v->p))
			snprintf(p, sizeof p, "%.2g", v->p);
		else
			snprintf(p, sizeof p, "-");
		const char *cells[] = {v->point->benchmark,
		                       v->point->label ? v->point->label : "",
		                       bytes,
		                       ranks,
		                       runs,
		                       bm,
		                       cm,
		                       ratio,
		                       p,
		                       sbr_verdict_name(v->kind),
		                       v->why};
		rc = sbr_table_add(t, cells);
	}
	if (rc == 0) {
		char note[256];
		snprintf(note, sizeof note,
		         "%zu regressed, %zu improved, %zu unchanged, %zu not comparable "
		         "(Mann-Whitney U, p < %g and medians beyond %g%%)",
		         c->regressed, c->improved, c->unchanged, c->not_comparable, c->alpha,
		         100 * c->threshold);
		rc = sbr_table_set_note(t, note);
	}
	return rc;
}
