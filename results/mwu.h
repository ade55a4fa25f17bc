/* The Mann-Whitney U test (Wilcoxon rank-sum): do two samples of times come from the same
 * distribution? The collector uses it to tell a real change between two runs from noise
 * without assuming the times are normal (they rarely are: long right tails, several modes). */
#ifndef SBR_MWU_H
#define SBR_MWU_H

#include <stddef.h>

/* The exact null distribution is used when neither sample holds more values than this and no
 * value repeats; otherwise the normal approximation. Its cost is about (n1 n2)^2 / 2 steps,
 * 3 million at 50 x 50. */
#define SBR_MWU_EXACT_MAX 50

enum sbr_mwu_method { SBR_MWU_EXACT, SBR_MWU_NORMAL };

struct sbr_mwu {
	double u1; /* U of sample a: pairs (a_i, b_j) with a_i > b_j, plus half the ties */
	double u2; /* n1*n2 - u1 */
	double u; /* min(u1, u2) */
	double z; /* normal statistic (tie and continuity corrected), > 0 when a tends to be
	           * larger; 0 for exact */
	double p; /* two-sided p-value */
	double effect; /* common-language effect size u1 / (n1 n2): P(a > b) + P(a = b)/2 */
	enum sbr_mwu_method method;
	int ties; /* 1 when some value occurs more than once, within a sample or across both */
};

/* Two-sided Mann-Whitney U test of a against b, as SciPy's mannwhitneyu computes it with
 * method='exact' (chosen here when there are no ties and both samples are small) or
 * method='asymptotic' with use_continuity=True (otherwise). O((na + nb) log(na + nb)) on the
 * normal path. Returns 0, SB_EINPUT when a sample is empty or holds NaN (infinities are
 * ordinary values), or SB_ENOMEM; out is written only on success. The inputs are not
 * modified. */
int sbr_mwu(const double *a, size_t na, const double *b, size_t nb, struct sbr_mwu *out);

/* "exact" or "normal". */
const char *sbr_mwu_method_name(enum sbr_mwu_method m);

#endif
