#include "stats.h"

#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void sb_stats_sort(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
}

double sb_stats_percentile(const double *sorted, size_t n, double p)
{
	if (n == 0)
		return NAN;
	/* Nearest rank: the smallest value such that at least p% of the samples are <= it. */
	double r = ceil(p / 100.0 * (double)n - 1e-9); /* guard 0.95*20 = 19.000000000000004 */
	size_t rank = r < 1.0 ? 1 : (size_t)r;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

double sb_stats_median(const double *sorted, size_t n)
{
	if (n == 0)
		return NAN;
	if (n % 2)
		return sorted[n / 2];
	return 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

int sb_stats_median_ci_ranks(size_t n, size_t *lo, size_t *hi)
{
	if (n == 0)
		return SB_EINVAL;
	double h = 1.96 * sqrt((double)n);
	double l = floor(((double)n - h) / 2.0);
	double u = ceil(1.0 + ((double)n + h) / 2.0);
	if (l < 1.0 || u > (double)n)
		return SB_EINVAL;
	*lo = (size_t)l;
	*hi = (size_t)u;
	return 0;
}

int sb_stats_summarize(const double *samples, size_t n, double *scratch, struct sb_summary *s)
{
	memset(s, 0, sizeof *s);
	if (n == 0)
		return SB_EINVAL;
	memcpy(scratch, samples, n * sizeof *scratch);
	sb_stats_sort(scratch, n);
	s->n = n;
	s->min = scratch[0];
	s->max = scratch[n - 1];
	s->p5 = sb_stats_percentile(scratch, n, 5);
	s->p25 = sb_stats_percentile(scratch, n, 25);
	s->median = sb_stats_median(scratch, n);
	s->p75 = sb_stats_percentile(scratch, n, 75);
	s->p90 = sb_stats_percentile(scratch, n, 90);
	s->p95 = sb_stats_percentile(scratch, n, 95);
	s->p99 = sb_stats_percentile(scratch, n, 99);

	/* Welford: one pass, no cancellation for samples that are close together. */
	double mean = 0.0, m2 = 0.0;
	for (size_t i = 0; i < n; i++) {
		double d = samples[i] - mean;
		mean += d / (double)(i + 1);
		m2 += d * (samples[i] - mean);
	}
	s->mean = mean;
	s->stddev = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0.0;
	s->cov = mean != 0.0 ? s->stddev / mean : 0.0;

	if (sb_stats_median_ci_ranks(n, &s->ci_lo_rank, &s->ci_hi_rank) == 0) {
		s->ci_valid = 1;
		s->ci_lo = scratch[s->ci_lo_rank - 1];
		s->ci_hi = scratch[s->ci_hi_rank - 1];
	}
	return 0;
}

double sb_stats_rel_ci_halfwidth(const struct sb_summary *s)
{
	if (!s->ci_valid || !(s->median > 0.0))
		return INFINITY;
	double a = s->median - s->ci_lo, b = s->ci_hi - s->median;
	return (a > b ? a : b) / s->median;
}

int sb_stats_median_of(const double *v, size_t n, double *median)
{
	*median = NAN;
	if (n == 0)
		return 0;
	double *c = malloc(n * sizeof *c);
	if (!c)
		return SB_ENOMEM;
	memcpy(c, v, n * sizeof *c);
	sb_stats_sort(c, n);
	*median = sb_stats_median(c, n);
	free(c);
	return 0;
}
