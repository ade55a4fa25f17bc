/* Summary statistics of one point's samples.
 *
 * Percentiles use the nearest-rank rule (see sb_stats_percentile); the confidence interval of
 * the median is the distribution-free one from order statistics (Le Boudec, "Performance
 * Evaluation of Computer and Communication Systems", 2.1; used by Hoefler & Belli, SC15). */
#ifndef SB_STATS_H
#define SB_STATS_H

#include <stddef.h>

struct sb_summary {
	size_t n;
	double min, p5, p25, median, p75, p90, p95, p99, max;
	double mean, stddev, cov; /* stddev with n-1; cov = stddev / mean */
	/* 95% CI of the median; valid only when ci_valid (n >= 8 for the ranks to exist). */
	int ci_valid;
	size_t ci_lo_rank, ci_hi_rank; /* 1-based order statistics */
	double ci_lo, ci_hi;
};

/* Nearest-rank percentile of sorted[0..n-1], 0 < p <= 100: the value of rank ceil(p/100 * n)
 * (1-based), so p50 of 4 values is the 2nd, p100 the largest. Returns NaN for n == 0. */
double sb_stats_percentile(const double *sorted, size_t n, double p);

/* Sort v[0..n-1] ascending, in place (the one comparator of doubles). */
void sb_stats_sort(double *v, size_t n);

/* Median of sorted[0..n-1]: the middle value, or the mean of the two middle values. */
double sb_stats_median(const double *sorted, size_t n);

/* Median of v[0..n-1] in any order (v untouched) into *median, NAN when n is 0: 0 or
 * SB_ENOMEM. */
int sb_stats_median_of(const double *v, size_t n, double *median);

/* Ranks (1-based) of the 95% CI of the median for n samples:
 *   lo = floor((n - 1.96 sqrt(n)) / 2),  hi = ceil(1 + (n + 1.96 sqrt(n)) / 2).
 * (Le Boudec's Theorem 2.1. The floor makes lo + hi = n + 1, symmetric around the median, and
 * keeps the exact binomial coverage >= 95% for every n >= 8; a ceiling for lo, as DESIGN.md
 * writes it, falls short at n = 21, 26, 31, ...)
 * Returns 0 and fills lo/hi when 1 <= lo and hi <= n (n >= 8), SB_EINVAL otherwise. */
int sb_stats_median_ci_ranks(size_t n, size_t *lo, size_t *hi);

/* Summarise samples[0..n-1] (any order; not modified). scratch must hold n doubles.
 * Returns SB_EINVAL for n == 0. */
int sb_stats_summarize(const double *samples, size_t n, double *scratch, struct sb_summary *out);

/* Half-width of the median CI relative to the median: max(median - lo, hi - median) / median,
 * or +inf when the CI is not valid. This is what --precision is compared with. */
double sb_stats_rel_ci_halfwidth(const struct sb_summary *s);

#endif
