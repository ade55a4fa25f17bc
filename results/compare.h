/* Regression verdicts: a run's points against a baseline run, or against the rolling baseline
 * of the last N runs of the same configuration on the same machine class. A point regresses
 * only when both hold: a Mann-Whitney U test of its samples against the baseline's (pooled
 * over the baseline's runs) is significant (p < alpha), and its median is slower than the
 * baseline's by more than the threshold, the baseline's median being that of each of its runs
 * in turn: the current median must be beyond the threshold above the slowest of them (below
 * the fastest, to improve); from five baseline runs on, the most extreme one on each side is
 * left out of that range. Per-iteration samples of one run share that run's state of the
 * machine, so the test alone sees any run-to-run difference as significant; the spread of
 * several baseline runs is what tells such a difference from a change (see results/README.md).
 * With one baseline run the rule is the plain ratio of medians.
 *
 * Points that carry named series (infer's per-request ttft, tpot...) get one more verdict per
 * series chosen, by the same rule on the series' values against the same series of the
 * baseline's same point: a higher median is worse. Only a baseline run file has them; the
 * history keeps the headline samples alone. */
#ifndef SBR_COMPARE_H
#define SBR_COMPARE_H

#include "db.h"
#include "runread.h"
#include "table.h"

enum sbr_verdict_kind { SBR_UNCHANGED, SBR_REGRESSED, SBR_IMPROVED, SBR_NOT_COMPARABLE };

struct sbr_verdict {
	const struct sbr_point *point;
	char metric[64]; /* "": the point's headline samples; else the series judged ("ttft") */
	enum sbr_verdict_kind kind;
	char why[200];
	double base_median, cur_median, ratio, p;
	double base_lo, base_hi; /* the smallest and largest median of the baseline's runs */
	size_t nbase, ncur;
	int base_runs;
};

struct sbr_compare {
	double alpha; /* default 0.01 */
	double threshold; /* relative, default 0.05 */
	/* The series judged besides the headline, comma-separated: NULL for the default,
	 * SBR_SERIES_DEFAULT where a point has them; "none" for none. */
	const char *series;
	size_t series_rows; /* verdicts of series among v[] */
	struct sbr_verdict *v;
	size_t n;
	size_t regressed, improved, unchanged, not_comparable;
};

#define SBR_SERIES_DEFAULT "ttft,tpot"

const char *sbr_verdict_name(enum sbr_verdict_kind k);

/* SB_EINPUT, with one message in err, when c->series (as --series gave it) is malformed (an
 * empty or overlong name, "none" among names) or names a series no point of cur has. */
int sbr_compare_check_series(const struct sbr_compare *c, const struct sbr_run *cur, char *err,
                             size_t errlen);

/* Against one baseline run (matched point by point on the configuration). */
int sbr_compare_run(struct sbr_compare *c, const struct sbr_run *cur, const struct sbr_run *base,
                    char *err, size_t errlen);
/* Against the history: the newest `nruns` earlier runs of the machine class in the database. */
int sbr_compare_history(struct sbr_compare *c, const struct sbr_run *cur, struct sbr_db *db,
                        int nruns, char *err, size_t errlen);
void sbr_compare_free(struct sbr_compare *c);

/* The verdicts as a table (every point, or with only_changes the regressed and improved); with
 * series verdicts, a "metric" column names what each row judges and a "change" column gives
 * the change of the median in %. */
int sbr_compare_table(const struct sbr_compare *c, const char *title, int only_changes,
                      struct sbr_table *t);

#endif
