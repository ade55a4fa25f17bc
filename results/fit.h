/* The numerics under the cost models (model.c): weighted least squares in a few parameters with
 * the parameters kept non-negative, a seeded generator for the bootstrap, and quantiles. */
#ifndef SBR_FIT_H
#define SBR_FIT_H

#include <stddef.h>
#include <stdint.h>

#define SBR_FIT_MAXK 3

/* Non-negative weighted least squares: the theta >= 0 that minimises
 *   sum_i ((y_i - sum_j x[i][j] theta_j) / s_i)^2,
 * x row-major, n rows of k <= SBR_FIT_MAXK columns; s_i > 0 is the scale of row i (the
 * measured time: weights 1/T^2, relative errors). Columns whose unconstrained estimate would be
 * negative are left out and the rest refitted (every subset is tried: with three columns that
 * is exact NNLS). theta gets 0 for a column left out, *used a bit per column kept, *rss the sum
 * above. 0; -1 when no subset is of full rank (fewer distinct rows than columns); SB_ENOMEM. */
int sbr_nnls(const double *x, const double *y, const double *s, size_t n, int k, double *theta,
             unsigned *used, double *rss);

/* SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): a 64-bit counter through a mixing function.
 * Enough for resampling indices; the same sequence everywhere for the same seed. */
struct sbr_rand {
	uint64_t s;
};
void sbr_rand_seed(struct sbr_rand *r, uint64_t seed, uint64_t stream);
uint64_t sbr_rand_next(struct sbr_rand *r);
/* Uniform in [0, n), 0 < n < 2^32 (a multiply-shift: its bias, below n / 2^32, is nothing
 * beside a bootstrap's own noise). */
size_t sbr_rand_below(struct sbr_rand *r, size_t n);

/* The q-quantile (0..1) of v[0..n-1] by linear interpolation between order statistics
 * (Hyndman and Fan's type 7); sorts v; NAN skipped; NAN when none is left. */
double sbr_quantile(double *v, size_t n, double q);

#endif
