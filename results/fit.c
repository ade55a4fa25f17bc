#include "fit.h"

#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Least squares on the columns in mask, by Householder QR. The rows are divided by s first
 * (the weights), then every column by its norm: the columns of a cost model differ by ten
 * orders of magnitude (a message count beside a byte count), and QR of the normalised matrix
 * keeps the small one. Returns 0, or -1 when a column is (numerically) a combination of the
 * others. */
static int lsq(const double *x, const double *y, const double *s, size_t n, int k, unsigned mask,
               double *theta, double *work)
{
	int cols[SBR_FIT_MAXK], m = 0;
	for (int j = 0; j < k; j++)
		if (mask & (1u << j))
			cols[m++] = j;
	if (m == 0 || (size_t)m > n)
		return -1;
	double *a[SBR_FIT_MAXK], *b = work + (size_t)m * n, norm[SBR_FIT_MAXK];
	for (int c = 0; c < m; c++) {
		a[c] = work + (size_t)c * n;
		double ss = 0;
		for (size_t i = 0; i < n; i++) {
			a[c][i] = x[i * (size_t)k + (size_t)cols[c]] / s[i];
			ss += a[c][i] * a[c][i];
		}
		norm[c] = sqrt(ss);
		if (!(norm[c] > 0) || !isfinite(norm[c]))
			return -1;
		for (size_t i = 0; i < n; i++)
			a[c][i] /= norm[c];
	}
	for (size_t i = 0; i < n; i++)
		b[i] = y[i] / s[i];
	double r[SBR_FIT_MAXK][SBR_FIT_MAXK] = {{0}};
	for (int c = 0; c < m; c++) {
		double ss = 0;
		for (size_t i = (size_t)c; i < n; i++)
			ss += a[c][i] * a[c][i];
		double nv = sqrt(ss);
		/* Unit columns: a diagonal this small means the column lies in the span of the
		 * ones before it (two sizes alone cannot fix three parameters). */
		if (nv < 1e-9)
			return -1;
		double alpha = a[c][c] > 0 ? -nv : nv;
		/* v = a[c][c..] - alpha e1, kept in a[c]; v'v = 2 nv (nv + |a_cc|). */
		a[c][c] -= alpha;
		double vv = 2 * nv * (nv + fabs(a[c][c] + alpha));
		for (int l = c + 1; l < m; l++) {
			double d = 0;
			for (size_t i = (size_t)c; i < n; i++)
				d += a[c][i] * a[l][i];
			d = 2 * d / vv;
			for (size_t i = (size_t)c; i < n; i++)
				a[l][i] -= d * a[c][i];
			r[c][l] = a[l][c];
		}
		double d = 0;
		for (size_t i = (size_t)c; i < n; i++)
			d += a[c][i] * b[i];
		d = 2 * d / vv;
		for (size_t i = (size_t)c; i < n; i++)
			b[i] -= d * a[c][i];
		r[c][c] = alpha;
	}
	double z[SBR_FIT_MAXK];
	for (int c = m - 1; c >= 0; c--) {
		double v = b[c];
		for (int l = c + 1; l < m; l++)
			v -= r[c][l] * z[l];
		z[c] = v / r[c][c];
	}
	for (int j = 0; j < k; j++)
		theta[j] = 0;
	for (int c = 0; c < m; c++)
		theta[cols[c]] = z[c] / norm[c];
	return 0;
}

static double weighted_rss(const double *x, const double *y, const double *s, size_t n, int k,
                           const double *theta)
{
	double rss = 0;
	for (size_t i = 0; i < n; i++) {
		double f = 0;
		for (int j = 0; j < k; j++)
			f += x[i * (size_t)k + (size_t)j] * theta[j];
		double e = (y[i] - f) / s[i];
		rss += e * e;
	}
	return rss;
}

int sbr_nnls(const double *x, const double *y, const double *s, size_t n, int k, double *theta,
             unsigned *used, double *rss)
{
	if (k < 1 || k > SBR_FIT_MAXK)
		return -1;
	double *work = malloc(((size_t)k + 1) * (n ? n : 1) * sizeof *work);
	if (!work)
		return SB_ENOMEM;
	double best = INFINITY, t[SBR_FIT_MAXK];
	unsigned best_mask = 0;
	/* Every subset of the columns, the largest first: the feasible one (all >= 0) of least
	 * residual is the non-negative solution, since the optimum of a problem with bounds is
	 * the unconstrained optimum over the columns it leaves free. */
	for (unsigned mask = (1u << k) - 1; mask > 0; mask--) {
		if (lsq(x, y, s, n, k, mask, t, work) != 0)
			continue;
		int feasible = 1;
		for (int j = 0; j < k; j++)
			feasible &= t[j] >= 0;
		if (!feasible)
			continue;
		double e = weighted_rss(x, y, s, n, k, t);
		/* A smaller subset must do strictly better: ties keep the larger model. */
		if (e < best * (1 - 1e-12)) {
			best = e;
			best_mask = mask;
			memcpy(theta, t, (size_t)k * sizeof *t);
		}
	}
	free(work);
	if (!best_mask)
		return -1;
	if (used)
		*used = best_mask;
	if (rss)
		*rss = best;
	return 0;
}

void sbr_rand_seed(struct sbr_rand *r, uint64_t seed, uint64_t stream)
{
	r->s = seed ^ (stream * 0xd1342543de82ef95ull);
	(void)sbr_rand_next(r);
}

uint64_t sbr_rand_next(struct sbr_rand *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

size_t sbr_rand_below(struct sbr_rand *r, size_t n)
{
	/* The top 32 bits times n, shifted: Lemire's multiply-shift without the rejection step;
	 * for the sample sizes here (hundreds) the bias is far below the bootstrap's own noise. */
	return (size_t)(((sbr_rand_next(r) >> 32) * (uint64_t)n) >> 32);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double sbr_quantile(double *v, size_t n, double q)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[m++] = v[i];
	if (m == 0)
		return NAN;
	qsort(v, m, sizeof *v, cmp_double);
	double h = (double)(m - 1) * q;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= m)
		return v[m - 1];
	return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}
