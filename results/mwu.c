/* The Mann-Whitney U test: U by a merge of the two sorted samples, the p-value from the exact
 * null distribution for small samples without ties, from the normal approximation otherwise. */
#include "mwu.h"
#include "sbr.h"
#include "stats.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* P(U <= k) under the null hypothesis for samples of m and n values without ties, where every
 * one of the C(m+n, m) orders of the merged sample is equally likely.
 *
 * P(i, j, k), the probability that U = k for i values of a and j of b, follows from where the
 * largest value comes from: from a with probability i / (i+j), and then it beats all j values
 * of b; from b otherwise, and it beats none:
 *     P(i, j, k) = i/(i+j) P(i-1, j, k-j) + j/(i+j) P(i, j-1, k)
 *     P(i, 0, k) = P(0, j, k) = 1 if k = 0, else 0.
 * This is the usual counting recurrence for the number of orders with U = k, divided by
 * C(i+j, i) as it goes: every term is positive, so nothing cancels and nothing overflows (the
 * counts reach 1e29 at 50 x 50). Only k <= kmax is needed.
 *
 * One table p[j][k] holds layer i: walking j upwards and k downwards, p[j][k - j] is still
 * layer i-1 when it is read and p[j-1][k] is already layer i. Time m n kmax, memory
 * (n+1)(kmax+1) doubles. */
static int exact_cdf(size_t m, size_t n, size_t kmax, double *cdf)
{
	size_t w = kmax + 1;
	double *p = calloc((n + 1) * w, sizeof(*p));
	if (!p)
		return SB_ENOMEM;
	for (size_t j = 0; j <= n; j++)
		p[j * w] = 1; /* i = 0: U = 0 */
	for (size_t i = 1; i <= m; i++) {
		/* j = 0 keeps U = 0. */
		for (size_t j = 1; j <= n; j++) {
			double fa = (double)i / (double)(i + j), fb = (double)j / (double)(i + j);
			double *row = p + j * w, *below = p + (j - 1) * w;
			for (size_t k = kmax + 1; k-- > 0;)
				row[k] = (k >= j ? fa * row[k - j] : 0) + fb * below[k];
		}
	}
	double s = 0;
	for (size_t k = 0; k <= kmax; k++)
		s += p[n * w + k];
	free(p);
	*cdf = s;
	return 0;
}

int sbr_mwu(const double *a, size_t na, const double *b, size_t nb, struct sbr_mwu *out)
{
	if (!a || !b || !out || na == 0 || nb == 0)
		return SB_EINPUT;
	for (size_t i = 0; i < na; i++)
		if (isnan(a[i]))
			return SB_EINPUT;
	for (size_t i = 0; i < nb; i++)
		if (isnan(b[i]))
			return SB_EINPUT;
	if (na > SIZE_MAX / sizeof(double) - nb)
		return SB_ENOMEM;

	double *x = malloc((na + nb) * sizeof(*x));
	if (!x)
		return SB_ENOMEM;
	double *y = x + na;
	memcpy(x, a, na * sizeof(*x));
	memcpy(y, b, nb * sizeof(*y));
	sb_stats_sort(x, na);
	sb_stats_sort(y, nb);

	/* Walk both sorted samples one distinct value v at a time: ca values of a and cb of b
	 * equal v, and j values of b lie below it. Each of those a values beats j values of b and
	 * ties cb, so U1 gains ca (j + cb/2). This is R1 - n1(n1+1)/2 with average ranks for
	 * ties, counted directly; every term is a multiple of 1/2 below 2^52, so U1 is exact.
	 * The tie correction of the variance needs t^3 - t for each group of t equal values. */
	double u1 = 0, tie_sum = 0;
	size_t i = 0, j = 0, groups = 0;
	int ties = 0;
	while (i < na || j < nb) {
		double v = (j >= nb || (i < na && x[i] <= y[j])) ? x[i] : y[j];
		size_t ca = 0, cb = 0;
		while (i + ca < na && x[i + ca] == v)
			ca++;
		while (j + cb < nb && y[j + cb] == v)
			cb++;
		u1 += (double)ca * ((double)j + 0.5 * (double)cb);
		double t = (double)(ca + cb);
		if (ca + cb > 1) {
			ties = 1;
			tie_sum += (t - 1) * t * (t + 1);
		}
		groups++;
		i += ca;
		j += cb;
	}
	free(x);

	double n1 = (double)na, n2 = (double)nb, n = n1 + n2;
	struct sbr_mwu r = {.u1 = u1, .u2 = n1 * n2 - u1, .ties = ties};
	r.u = r.u1 < r.u2 ? r.u1 : r.u2;
	r.effect = u1 / (n1 * n2);

	if (!ties && na <= SBR_MWU_EXACT_MAX && nb <= SBR_MWU_EXACT_MAX) {
		/* Without ties U is an integer; the distribution is symmetric about n1 n2 / 2, so
		 * P(U >= max(u1, u2)) = P(U <= u) and the two-sided p doubles it. At the middle
		 * that passes 1, which means no evidence at all. */
		double cdf;
		size_t m = na < nb ? na : nb, big = na < nb ? nb : na;
		int rc = exact_cdf(m, big, (size_t)r.u, &cdf);
		if (rc)
			return rc;
		r.method = SBR_MWU_EXACT;
		r.p = fmin(1, 2 * cdf);
	} else {
		/* Mean n1 n2 / 2; variance n1 n2 / 12 ((n+1) - sum(t^3 - t) / (n (n-1))), the tie
		 * correction removing the rank variance that tied groups lack. The 0.5 continuity
		 * correction moves |u1 - mean| toward 0 (never past it): U moves in steps of at
		 * least 1/2 and the normal curve is continuous. With every value equal there is no
		 * variance and no evidence: p = 1 (the sum rounds, so this is decided by counting
		 * groups rather than by testing the variance for 0). */
		r.method = SBR_MWU_NORMAL;
		double d = u1 - n1 * n2 / 2;
		double var = n1 * n2 / 12 * ((n + 1) - tie_sum / (n * (n - 1)));
		double adj = fmax(fabs(d) - 0.5, 0);
		if (groups > 1 && var > 0 && adj > 0) {
			r.z = copysign(adj / sqrt(var), d);
			r.p = erfc(fabs(r.z) / sqrt(2));
		} else {
			r.z = 0;
			r.p = 1;
		}
	}
	*out = r;
	return 0;
}

const char *sbr_mwu_method_name(enum sbr_mwu_method m)
{
	switch (m) {
	case SBR_MWU_EXACT:
		return "exact";
	case SBR_MWU_NORMAL:
		return "normal";
	}
	return "?";
}
