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

/* The verdict of one row from its samples (cur, ncur; nocur says why there are none) and the
 * baseline's (pooled over its runs, whose medians lie in [v->base_lo, v->base_hi]). 0, or
 * SB_ENOMEM: memory is a fault, not a verdict. */
static int judge(struct sbr_compare *c, struct sbr_verdict *v, const double *cur, size_t ncur,
                 const char *nocur, const double *base, size_t nb)
{
	const struct sbr_point *p = v->point;
	v->ncur = ncur;
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
	if (!ncur) {
		snprintf(v->why, sizeof v->why, "%s", nocur);
		return 0;
	}
	if (!nb) {
		snprintf(v->why, sizeof v->why, "%s", why[0] ? why : "no baseline samples");
		return 0;
	}
	int rc;
	if ((rc = sb_stats_median_of(cur, ncur, &v->cur_median)) ||
	    (rc = sb_stats_median_of(base, nb, &v->base_median)))
		return rc;
	v->ratio = v->cur_median / v->base_median;
	double least = min_p(nb, ncur);
	if (least >= c->alpha) {
		snprintf(v->why, sizeof v->why,
		         "too few samples (%zu and %zu): the test cannot reach p < %g", nb, ncur,
		         c->alpha);
		return 0;
	}
	struct sbr_mwu u;
	if ((rc = sbr_mwu(cur, ncur, base, nb, &u)) == SB_ENOMEM)
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

/* The headline's verdict of point p from its own samples. */
static int judge_point(struct sbr_compare *c, struct sbr_verdict *v, const double *base, size_t nb)
{
	const struct sbr_point *p = v->point;
	return judge(c, v, p->samples, p->nsamples,
	             p->time_kind && strcmp(p->time_kind, "mean") == 0
	                 ? "no per-iteration samples (an imported result keeps only a mean)"
	                 : "no per-iteration samples (none recorded)",
	             base, nb);
}

/* Series names: up to this many characters. */
#define NAME_MAX_LEN (sizeof((struct sbr_verdict *)0)->metric - 1)

/* The names of c->series (the default when NULL, none for "none"), each once: *n of them in
 * *out, to free. Malformed names are left out (sbr_compare_check_series refuses them). */
static int series_names(const struct sbr_compare *c, char (**out)[64], size_t *n)
{
	const char *list = c->series ? c->series : SBR_SERIES_DEFAULT;
	*out = NULL;
	*n = 0;
	if (strcmp(list, "none") == 0)
		return 0;
	size_t most = 1;
	for (const char *q = list; *q; q++)
		most += *q == ',';
	char(*v)[64] = calloc(most, sizeof *v);
	if (!v)
		return SB_ENOMEM;
	for (const char *q = list;;) {
		size_t len = strcspn(q, ",");
		int seen = len == 0 || len > NAME_MAX_LEN;
		for (size_t k = 0; k < *n && !seen; k++)
			seen = strlen(v[k]) == len && memcmp(v[k], q, len) == 0;
		if (!seen) {
			memcpy(v[*n], q, len);
			v[(*n)++][len] = '\0';
		}
		if (!q[len])
			break;
		q += len + 1;
	}
	*out = v;
	return 0;
}

static int has_series(const struct sbr_point *p, const char *name)
{
	const char *k;
	for (size_t i = 0; (k = sbr_point_series_name(p, i)); i++)
		if (strcmp(k, name) == 0)
			return 1;
	return 0;
}

int sbr_compare_check_series(const struct sbr_compare *c, const struct sbr_run *cur, char *err,
                             size_t errlen)
{
	const char *list = c->series;
	if (!list || strcmp(list, "none") == 0)
		return 0;
	for (const char *q = list;;) {
		size_t len = strcspn(q, ",");
		char name[64];
		if (len == 0)
			return sbr_fail(err, errlen, SB_EINPUT,
			                "--series %s: an empty name (NAME[,NAME...] or none)",
			                list);
		if (len > NAME_MAX_LEN)
			return sbr_fail(err, errlen, SB_EINPUT,
			                "--series: a name longer than %zu characters",
			                NAME_MAX_LEN);
		memcpy(name, q, len);
		name[len] = '\0';
		if (strcmp(name, "none") == 0)
			return sbr_fail(err, errlen, SB_EINPUT,
			                "--series %s: none stands alone, without names", list);
		int found = 0;
		for (size_t i = 0; i < cur->npts && !found; i++)
			found = has_series(&cur->pts[i], name);
		if (!found) {
			/* Name the series the run has, in first-seen order. */
			char have[256] = "";
			size_t at = 0;
			for (size_t i = 0; i < cur->npts; i++) {
				const char *k;
				for (size_t j = 0; (k = sbr_point_series_name(&cur->pts[i], j));
				     j++) {
					char word[80];
					snprintf(word, sizeof word, " %s,", k);
					if (strstr(have, word) || at + strlen(word) >= sizeof have)
						continue;
					at += (size_t)snprintf(have + at, sizeof have - at, "%s",
					                       word);
				}
			}
			if (at)
				have[at - 1] = '\0'; /* the last comma */
			return sbr_fail(err, errlen, SB_EINPUT,
			                "--series %s: no point of %s has a series '%s' (%s%s)",
			                list, cur->path, name,
			                at ? "its series:" : "it has no series", have);
		}
		if (!q[len])
			return 0;
		q += len + 1;
	}
}

/* Room for a verdict per point and per series of it; *names as series_names gives them. */
static int begin(struct sbr_compare *c, const struct sbr_run *cur, char (**names)[64],
                 size_t *nnames)
{
	c->regressed = c->improved = c->unchanged = c->not_comparable = 0;
	c->n = c->series_rows = 0;
	c->v = NULL;
	int rc = series_names(c, names, nnames);
	if (rc)
		return rc;
	size_t rows = cur->npts;
	for (size_t i = 0; i < cur->npts; i++)
		for (size_t k = 0; k < *nnames; k++)
			rows += (size_t)has_series(&cur->pts[i], (*names)[k]);
	if (!(c->v = calloc(rows ? rows : 1, sizeof *c->v))) {
		free(*names);
		*names = NULL;
		return SB_ENOMEM;
	}
	return 0;
}

/* The verdict of series v->metric of point v->point (of the run file cpath) against the same
 * series of the baseline point b (of bpath; NULL with v->why saying why there is none). A
 * series that is not a time is not judged: higher is worse only for times. */
static int judge_series(struct sbr_compare *c, struct sbr_verdict *v, const char *cpath,
                        const struct sbr_point *b, const char *bpath, char *err, size_t errlen)
{
	const char *name = v->metric;
	struct sbr_point_series s, bs = {.median = NAN};
	int rc = sbr_point_series_read(cpath, v->point, name, &s, err, errlen);
	if (rc < 0)
		return rc;
	int in_base = 0;
	if (b && !b->check_failed) {
		if ((in_base = sbr_point_series_read(bpath, b, name, &bs, err, errlen)) < 0) {
			sbr_point_series_free(&s);
			return in_base;
		}
		if (!in_base)
			snprintf(v->why, sizeof v->why, "the baseline point has no %s series",
			         name);
		else if (!bs.v)
			snprintf(v->why, sizeof v->why,
			         "the baseline's %s values are not in its run file (scalebench "
			         "--series-samples)",
			         name);
	} else if (b) {
		snprintf(v->why, sizeof v->why, "the baseline point's check failed");
	}
	char nocur[sizeof v->why];
	if (!b) /* no baseline at all: that says more than whether this run has values */
		snprintf(nocur, sizeof nocur, "%s", v->why);
	else
		snprintf(nocur, sizeof nocur,
		         s.v ? "an empty %s series"
		             : "its %s values are not in the run file (scalebench "
		               "--series-samples)",
		         name);
	if (s.unit && strcmp(s.unit, "s") != 0) {
		snprintf(nocur, sizeof nocur, "%s is not a time (unit %s): no better or worse",
		         name, s.unit);
		rc = judge(c, v, NULL, 0, nocur, NULL, 0);
	} else {
		rc = judge(c, v, s.v, s.nv, nocur, bs.v, bs.nv);
	}
	if (rc == 0 && !isfinite(v->cur_median) && !isfinite(v->base_median)) {
		/* Not judged: still the medians the summaries give, for a reader. */
		v->cur_median = s.median;
		v->base_median = bs.median;
		v->ratio = v->cur_median / v->base_median;
	}
	sbr_point_series_free(&s);
	sbr_point_series_free(&bs);
	return rc;
}

/* The series rows of point p (at v[c->n] on), each judged by judge_series against b. */
static int judge_all_series(struct sbr_compare *c, const struct sbr_point *p, const char *cpath,
                            const struct sbr_point *b, const char *bpath, int base_runs,
                            const char *nobase, char (*names)[64], size_t nnames, char *err,
                            size_t errlen)
{
	int rc = 0;
	for (size_t k = 0; k < nnames && rc == 0; k++) {
		if (!has_series(p, names[k]))
			continue;
		struct sbr_verdict *v = &c->v[c->n++];
		c->series_rows++;
		v->point = p;
		v->base_runs = base_runs;
		snprintf(v->metric, sizeof v->metric, "%s", names[k]);
		if (!b)
			snprintf(v->why, sizeof v->why, "%s", nobase);
		rc = judge_series(c, v, cpath, b, bpath, err, errlen);
	}
	return rc;
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
	char(*names)[64];
	size_t nnames;
	int rc = begin(c, cur, &names, &nnames);
	if (rc)
		return rc;
	for (size_t i = 0; i < cur->npts && rc == 0; i++) {
		struct sbr_verdict *v = &c->v[c->n++];
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
		rc = judge_point(c, v, b && !b->check_failed ? b->samples : NULL,
		                 b && !b->check_failed ? b->nsamples : 0);
		if (rc == 0)
			rc = judge_all_series(c, v->point, cur->path, b, base->path, v->base_runs,
			                      "the baseline run has no point of this configuration",
			                      names, nnames, err, errlen);
	}
	free(names);
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
	char(*names)[64];
	size_t nnames;
	int rc = begin(c, cur, &names, &nnames);
	if (rc)
		return rc;
	/* The history keeps each point's headline samples, not its series. */
	static const char noseries[] =
	    "the history keeps no series: compare with --baseline RUN for them";
	if (!cur->start_time) {
		/* Without a start time the run has no place in the history. */
		static const char notime[] = "the run has no start time to place it in the history";
		for (size_t i = 0; i < cur->npts && rc == 0; i++) {
			struct sbr_verdict *v = &c->v[c->n++];
			v->point = &cur->pts[i];
			snprintf(v->why, sizeof v->why, "%s", notime);
			if ((rc = judge_point(c, v, NULL, 0)) == 0)
				rc = judge_all_series(c, v->point, cur->path, NULL, NULL, 0, notime,
				                      names, nnames, err, errlen);
		}
		free(names);
		count(c);
		return rc;
	}
	for (size_t i = 0; i < cur->npts && rc == 0; i++) {
		struct sbr_verdict *v = &c->v[c->n++];
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
			rc = judge_point(c, v, b.samples, b.n);
		sbr_base_free(&b);
		if (rc == 0)
			rc = judge_all_series(c, v->point, cur->path, NULL, NULL, 0, noseries,
			                      names, nnames, err, errlen);
	}
	free(names);
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
	/* With series rows: what each row judges, and the change of its median. */
	static const char *const head_series[] = {
	    "benchmark",    "point", "metric", "bytes", "ranks",   "baseline runs", "baseline (us)",
	    "current (us)", "ratio", "change", "p",     "verdict", "why",           NULL};
	int series = c->series_rows > 0;
	int rc = sbr_table_init(t, title, series ? head_series : head);
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		const struct sbr_verdict *v = &c->v[i];
		if (only_changes && v->kind != SBR_REGRESSED && v->kind != SBR_IMPROVED)
			continue;
		char bytes[24], ranks[16], bm[32], cm[32], ratio[32], change[32], p[32], runs[16];
		snprintf(bytes, sizeof bytes, "%zu", v->point->bytes);
		snprintf(runs, sizeof runs, "%d", v->base_runs);
		snprintf(ranks, sizeof ranks, "%d", v->point->ranks);
		sbr_fmt(bm, sizeof bm, v->base_median * 1e6, 4);
		sbr_fmt(cm, sizeof cm, v->cur_median * 1e6, 4);
		sbr_fmt(ratio, sizeof ratio, v->ratio, 4);
		if (isfinite(v->ratio))
			snprintf(change, sizeof change, "%+.1f%%", 100 * (v->ratio - 1));
		else
			snprintf(change, sizeof change, "-");
		if (isfinite(v->p))
			snprintf(p, sizeof p, "%.2g", v->p);
		else
			snprintf(p, sizeof p, "-");
		const char *label = v->point->label ? v->point->label : "";
		const char *metric = v->metric[0] ? v->metric : "time";
		const char *cells[] = {
		    v->point->benchmark,       label, bytes, ranks, runs, bm, cm, ratio, p,
		    sbr_verdict_name(v->kind), v->why};
		const char *cells_series[] = {v->point->benchmark,
		                              label,
		                              metric,
		                              bytes,
		                              ranks,
		                              runs,
		                              bm,
		                              cm,
		                              ratio,
		                              change,
		                              p,
		                              sbr_verdict_name(v->kind),
		                              v->why};
		rc = sbr_table_add(t, series ? cells_series : cells);
	}
	if (rc == 0) {
		char note[320];
		snprintf(note, sizeof note,
		         "%zu regressed, %zu improved, %zu unchanged, %zu not comparable "
		         "(Mann-Whitney U, p < %g and medians beyond %g%%)%s",
		         c->regressed, c->improved, c->unchanged, c->not_comparable, c->alpha,
		         100 * c->threshold,
		         series ? "; metric time: the point's per-iteration samples, others its "
		                  "series' values (a higher median is worse)"
		                : "");
		rc = sbr_table_set_note(t, note);
	}
	return rc;
}
