/* The Mann-Whitney U test: U, the exact p-value and the tie-corrected normal one against values
 * worked out by hand in the comments; symmetry, degenerate samples, large samples, bad input. */
#include "mwu.h"
#include "sbr.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PLAN 96

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A fixed-seed 64-bit LCG (Knuth's MMIX constants): the same numbers on every machine, so the
 * large-sample checks cannot flake. Uniform in [0, 1) from the top 53 bits. */
static uint64_t lcg_state;

static void lcg_seed(uint64_t s)
{
	lcg_state = s;
}

static double lcg_uniform(void)
{
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(lcg_state >> 11) * 0x1.0p-53;
}

static void test_exact(void)
{
	struct sbr_mwu r;

	/* a = {1,2,3} below b = {4,5,6}: no pair with a > b, U1 = 0, U2 = 9. Of the C(6,3) = 20
	 * equally likely orders only aaabbb gives U = 0, so p = 2 * 1/20 = 0.1. */
	const double a1[] = {1, 2, 3}, b1[] = {4, 5, 6};
	is_int(sbr_mwu(a1, 3, b1, 3, &r), 0, "3 vs 3 separated: ok");
	is_int(r.method, SBR_MWU_EXACT, "small without ties: exact");
	is_string(sbr_mwu_method_name(r.method), "exact", "method name");
	is_double(r.u1, 0, 0, "u1 = 0");
	is_double(r.u2, 9, 0, "u2 = 9");
	is_double(r.u, 0, 0, "u = 0");
	is_double(r.p, 0.1, 1e-15, "p = 2/20");
	is_double(r.z, 0, 0, "z = 0 when exact");
	is_double(r.effect, 0, 0, "effect 0: a never above b");
	is_int(r.ties, 0, "no ties");

	/* a = {1,3,5}, b = {2,4,6}: the order is ababab, U1 = 0 + 1 + 2 = 3 (pairs 3>2, 5>2,
	 * 5>4), U2 = 6. Writing an order of three a and three b from the smallest, U1 is the sum
	 * over the a of the b before them, a partition in a 3 x 3 box:
	 *   U=0: aaabbb (1)   U=1: aababb (1)   U=2: aabbab, abaabb (2)
	 *   U=3: aabbba (3), ababab (2+1), baaabb (1+1+1): 3
	 * and by symmetry 3, 3, 2, 1, 1 for U = 4..9; 1+1+2+3+3+3+3+2+1+1 = 20 orders.
	 * P(U <= 3) = 7/20 = 0.35, p = 0.7. */
	const double a2[] = {1, 3, 5}, b2[] = {2, 4, 6};
	is_int(sbr_mwu(a2, 3, b2, 3, &r), 0, "3 vs 3 interleaved: ok");
	is_double(r.u1, 3, 0, "interleaved u1 = 3");
	is_double(r.u2, 6, 0, "interleaved u2 = 6");
	is_double(r.p, 0.7, 1e-15, "interleaved p = 2 * 7/20");
	is_double(r.effect, 1.0 / 3, 1e-15, "interleaved effect 3/9");

	/* SciPy's documented example (males vs females, diagnosis ages): U1 = 17 (19 beats 11, 12,
	 * 17; 22, 29 and 24 beat all four; 16 beats 11, 12: 3+4+2+4+4), U2 = 3. Every partition
	 * of k <= 3 fits a 5 x 4 box: 1, 1, 2, 3 of them, 7 orders of C(9,4) = 126, p = 2 * 7/126
	 * = 1/9 (SciPy prints 0.1111111111111111 for method="exact"). */
	const double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
	is_int(sbr_mwu(males, 5, females, 4, &r), 0, "5 vs 4: ok");
	is_int(r.method, SBR_MWU_EXACT, "5 vs 4: exact");
	is_double(r.u1, 17, 0, "5 vs 4 u1 = 17");
	is_double(r.u, 3, 0, "5 vs 4 u = 3");
	is_double(r.p, 1.0 / 9, 1e-15, "5 vs 4 p = 1/9 (as SciPy)");
	is_double(r.effect, 0.85, 1e-15, "5 vs 4 effect 17/20");

	/* 10 vs 10, a = 1..10, b = {5.5, 20..28}: only 5.5 is beaten, by 6..10: U1 = 5. The
	 * partitions of k = 0..5 (all fit a 10 x 10 box) number 1, 1, 2, 3, 5, 7 = 19, of
	 * C(20,10) = 184756 orders: p = 38/184756 = 2.0567667626e-4. */
	double a3[10], b3[10];
	for (int i = 0; i < 10; i++) {
		a3[i] = i + 1;
		b3[i] = 19 + i;
	}
	b3[0] = 5.5;
	is_int(sbr_mwu(a3, 10, b3, 10, &r), 0, "10 vs 10: ok");
	is_double(r.u1, 5, 0, "10 vs 10 u1 = 5");
	is_double(r.p, 38.0 / 184756, 1e-17, "10 vs 10 p = 38/184756");

	/* The largest exact case, 50 vs 50 separated: p = 2 / C(100,50), C(100,50) =
	 * 100891344545564193334812497256 ~ 1.0089134454556e29; checked relatively. */
	double a4[51], b4[51];
	for (int i = 0; i < 51; i++) {
		a4[i] = i;
		b4[i] = 100 + i;
	}
	is_int(sbr_mwu(a4, 50, b4, 50, &r), 0, "50 vs 50: ok");
	is_int(r.method, SBR_MWU_EXACT, "50 vs 50: exact");
	is_double(r.p / (2 / 1.00891344545564193e29), 1, 1e-9, "50 vs 50 p = 2/C(100,50)");
	/* One more value and the normal approximation takes over. */
	is_int(sbr_mwu(a4, 51, b4, 50, &r), 0, "51 vs 50: ok");
	is_int(r.method, SBR_MWU_NORMAL, "51 vs 50: normal");
	is_string(sbr_mwu_method_name(r.method), "normal", "method name normal");

	/* 1 vs 1: U is 0 or 1 with probability 1/2 each: p = min(1, 2 * 1/2) = 1. */
	const double one_a[] = {1}, one_b[] = {2};
	is_int(sbr_mwu(one_a, 1, one_b, 1, &r), 0, "1 vs 1: ok");
	is_double(r.p, 1, 0, "1 vs 1: p = 1");
}

static void test_ties(void)
{
	struct sbr_mwu r;

	/* a = {1,2,2,3,5}, b = {2,3,4,4,6,7}, n1 = 5, n2 = 6, n = 11. Merged, with ranks:
	 *   1a:1  2a 2a 2b: (2+3+4)/3 = 3  3a 3b: 5.5  4b 4b: 7.5  5a:9  6b:10  7b:11
	 * R1 = 1 + 3 + 3 + 5.5 + 9 = 21.5, U1 = R1 - 5*6/2 = 6.5 (by pairs: 1: 0; each 2 ties
	 * one b: 0.5 + 0.5; 3 beats 2 and ties 3: 1.5; 5 beats 2,3,4,4: 4; total 6.5), U2 = 23.5.
	 * Ties: groups of 3, 2, 2: sum(t^3 - t) = 24 + 6 + 6 = 36.
	 * var = 30/12 * (12 - 36/110) = 2.5 * 642/55 = 321/11 = 29.181818..., sd = 5.4020198243
	 * d = 6.5 - 15 = -8.5, continuity: |d| - 0.5 = 8, z = -8/5.4020198243 = -1.4809275531
	 * p = erfc(1.4809275531 / sqrt 2) = 0.1386258799 (2 (1 - Phi(1.48093))). */
	const double a[] = {1, 2, 2, 3, 5}, b[] = {2, 3, 4, 4, 6, 7};
	double a_copy[N(a)], b_copy[N(b)];
	memcpy(a_copy, a, sizeof(a));
	memcpy(b_copy, b, sizeof(b));
	is_int(sbr_mwu(a, N(a), b, N(b), &r), 0, "ties: ok");
	is_int(r.method, SBR_MWU_NORMAL, "ties: normal");
	is_int(r.ties, 1, "ties: flagged");
	is_double(r.u1, 6.5, 0, "ties u1 = 6.5");
	is_double(r.u2, 23.5, 0, "ties u2 = 23.5");
	is_double(r.u, 6.5, 0, "ties u = 6.5");
	is_double(r.z, -1.4809275531, 1e-9, "ties z = -8/sqrt(321/11)");
	is_double(r.p, 0.1386258799, 1e-9, "ties p");
	is_double(r.effect, 6.5 / 30, 1e-15, "ties effect 6.5/30");
	ok(memcmp(a, a_copy, sizeof(a)) == 0 && memcmp(b, b_copy, sizeof(b)) == 0,
	   "inputs not modified");

	/* Swapping the samples swaps u1 and u2, negates z, keeps p, and the effect becomes
	 * 1 - 6.5/30. */
	struct sbr_mwu s;
	is_int(sbr_mwu(b, N(b), a, N(a), &s), 0, "ties swapped: ok");
	is_double(s.u1, 23.5, 0, "swapped u1 = old u2");
	is_double(s.u2, 6.5, 0, "swapped u2 = old u1");
	is_double(s.z, -r.z, 1e-15, "swapped z negated");
	is_double(s.p, r.p, 1e-15, "swapped p kept");
	is_double(s.effect, 1 - r.effect, 1e-15, "swapped effect 1 - effect");

	/* The exact path is symmetric too: b2 vs a2 from the 3 x 3 case above. */
	const double a2[] = {1, 3, 5}, b2[] = {2, 4, 6};
	is_int(sbr_mwu(b2, 3, a2, 3, &s), 0, "exact swapped: ok");
	is_double(s.u1, 6, 0, "exact swapped u1 = 6");
	is_double(s.u, 3, 0, "exact swapped u = 3");
	is_double(s.p, 0.7, 1e-15, "exact swapped p = 0.7");

	/* A tie inside one sample only is a tie too: a = {1,1,2}, b = {3,4}. U1 = 0, mean 3,
	 * var = 6/12 * (6 - 6/20) = 2.85, z = -2.5/sqrt(2.85) = -1.4808721944,
	 * p = erfc(1.4808721944 / sqrt 2) = 0.1386406338. */
	const double a5[] = {1, 1, 2}, b5[] = {3, 4};
	is_int(sbr_mwu(a5, 3, b5, 2, &r), 0, "tie within a: ok");
	is_int(r.ties, 1, "tie within a: flagged");
	is_int(r.method, SBR_MWU_NORMAL, "tie within a: normal");
	is_double(r.z, -1.4808721944, 1e-9, "tie within a: z");
	is_double(r.p, 0.1386406338, 1e-9, "tie within a: p");

	/* Identical samples: each value ties once across, U1 = 5*5/2 = 12.5 = the mean, so
	 * |d| - 0.5 < 0 clamps to 0: z = 0, p = 1. */
	const double same[] = {1, 2, 3, 4, 5};
	is_int(sbr_mwu(same, 5, same, 5, &r), 0, "identical: ok");
	is_double(r.u1, 12.5, 0, "identical u1 = n1 n2 / 2");
	is_double(r.z, 0, 0, "identical z = 0");
	is_double(r.p, 1, 0, "identical p = 1");
	is_double(r.effect, 0.5, 0, "identical effect 1/2");

	/* Every value equal: U1 = 3*2/2 = 3, variance 6/12 (6 - 120/20) = 0: no evidence. */
	const double sev[] = {7, 7, 7};
	is_int(sbr_mwu(sev, 3, sev, 2, &r), 0, "all equal: ok");
	is_double(r.u1, 3, 0, "all equal u1 = 3");
	is_double(r.p, 1, 0, "all equal p = 1");
	is_double(r.z, 0, 0, "all equal z = 0");
	ok(isfinite(r.z) && isfinite(r.p), "all equal: finite");

	/* Infinities are ordinary values: +inf beats everything, two of them tie. */
	const double ia[] = {INFINITY, INFINITY}, ib[] = {0, 1};
	is_int(sbr_mwu(ia, 2, ib, 2, &r), 0, "infinities: ok");
	is_double(r.u1, 4, 0, "infinities u1 = 4");
	is_int(r.ties, 1, "infinities tie");
}

/* The exact p-value against brute force: every order of m values of a and n of b among the
 * positions 0..m+n-1 is one bit mask; counting U over all masks gives the null distribution,
 * and each mask, turned into samples, must get p = min(1, 2 P(U <= u)) from sbr_mwu. */
static int bits(unsigned x)
{
	int c = 0;
	for (; x; x &= x - 1)
		c++;
	return c;
}

static void test_exact_enumerated(int m, int n)
{
	int total = m + n, umax = m * n, bad = 0, orders = 0;
	double count[64] = {0}, a[16], b[16];

	for (unsigned mask = 0; mask < 1u << total; mask++) {
		if (bits(mask) != m)
			continue;
		int u = 0, below = 0;
		for (int pos = 0; pos < total; pos++) {
			if (mask >> pos & 1)
				u += below;
			else
				below++;
		}
		count[u]++;
		orders++;
	}
	for (unsigned mask = 0; mask < 1u << total; mask++) {
		if (bits(mask) != m)
			continue;
		int na = 0, nb = 0;
		for (int pos = 0; pos < total; pos++) {
			if (mask >> pos & 1)
				a[na++] = pos;
			else
				b[nb++] = pos;
		}
		struct sbr_mwu r;
		if (sbr_mwu(a, na, b, nb, &r) != 0 || r.method != SBR_MWU_EXACT) {
			bad++;
			continue;
		}
		double le = 0;
		for (int k = 0; k <= (int)r.u; k++)
			le += count[k];
		double want = fmin(1, 2 * le / orders);
		if (fabs(r.p - want) > 1e-12 || r.u1 + r.u2 != umax)
			bad++;
	}
	is_int(bad, 0, "%d vs %d: all %d orders match enumeration", m, n, orders);
}

/* The normal approximation with continuity correction, written out here independently of
 * mwu.c, for samples without ties. */
static double normal_p(double u1, double n1, double n2)
{
	double d = fabs(u1 - n1 * n2 / 2) - 0.5;
	double sd = sqrt(n1 * n2 * (n1 + n2 + 1) / 12);
	return d <= 0 ? 1 : erfc(d / sd / sqrt(2));
}

static void test_exact_vs_normal(void)
{
	/* 20 vs 20 without ties, shifted by 0 to 0.45: at this size the normal curve is within
	 * about 0.01 of the exact tail. */
	for (int s = 0; s < 4; s++) {
		double a[20], b[20];
		lcg_seed(1000 + s);
		for (int i = 0; i < 20; i++) {
			a[i] = lcg_uniform();
			b[i] = lcg_uniform() + 0.15 * s;
		}
		struct sbr_mwu r;
		int rc = sbr_mwu(a, 20, b, 20, &r);
		double pn = normal_p(r.u1, 20, 20);
		ok(rc == 0 && r.method == SBR_MWU_EXACT && fabs(r.p - pn) < 0.02,
		   "20 vs 20 shift %.2f: exact %.6f vs normal %.6f", 0.15 * s, r.p, pn);
	}
}

static void test_large(void)
{
	enum { n = 2000, big = 100000 };
	struct sbr_mwu r;

	/* b = 1.3 a: a in [1, 2), b in [1.3, 2.6). For a and an independent a', P(a > 1.3 a') =
	 * integral over a from 1.3 to 2 of (a/1.3 - 1) = [a^2/2.6 - a] = 0.1885, so z is near
	 * (0.1885 - 0.5) * 2000^2 / sqrt(2000^2 * 4001 / 12) ~ -34. */
	double *a = malloc(big * sizeof(*a)), *b = malloc(big * sizeof(*b));
	if (!a || !b)
		tap_bail("out of memory");
	lcg_seed(42);
	for (int i = 0; i < n; i++) {
		a[i] = 1 + lcg_uniform();
		b[i] = 1.3 * a[i];
	}
	is_int(sbr_mwu(a, n, b, n, &r), 0, "2000 shifted: ok");
	is_int(r.method, SBR_MWU_NORMAL, "2000: normal");
	ok(r.p < 1e-10, "2000 shifted: p = %g < 1e-10", r.p);
	ok(r.z < -10, "2000 shifted: z = %g, a below b", r.z);
	ok(r.effect > 0.16 && r.effect < 0.22, "2000 shifted: effect %g near 0.1885", r.effect);

	/* The same distribution: b from the same stream. */
	for (int i = 0; i < n; i++)
		b[i] = 1 + lcg_uniform();
	is_int(sbr_mwu(a, n, b, n, &r), 0, "2000 same: ok");
	ok(r.p > 0.001, "2000 same distribution: p = %g not small", r.p);
	ok(fabs(r.effect - 0.5) < 0.05, "2000 same: effect %g near 1/2", r.effect);

	/* The collector's largest case, once: 100000 vs 100000 must go the O(n log n) way. */
	lcg_seed(7);
	for (int i = 0; i < big; i++) {
		a[i] = lcg_uniform();
		b[i] = lcg_uniform();
	}
	is_int(sbr_mwu(a, big, b, big, &r), 0, "100000 vs 100000: ok");
	is_int(r.method, SBR_MWU_NORMAL, "100000: normal");
	ok(r.p >= 0 && r.p <= 1 && fabs(r.effect - 0.5) < 0.01, "100000: p %g, effect %g", r.p,
	   r.effect);
	free(a);
	free(b);
}

static void test_bad_input(void)
{
	struct sbr_mwu r = {.p = -1};
	const double a[] = {1, 2, 3}, b[] = {4, NAN};

	is_int(sbr_mwu(a, 0, a, 3, &r), SB_EINPUT, "empty a");
	is_int(sbr_mwu(a, 3, a, 0, &r), SB_EINPUT, "empty b");
	is_int(sbr_mwu(a, 3, b, 2, &r), SB_EINPUT, "NaN in b");
	is_int(sbr_mwu(b, 2, a, 3, &r), SB_EINPUT, "NaN in a");
	is_int(sbr_mwu(NULL, 3, a, 3, &r), SB_EINPUT, "NULL sample");
	is_int(sbr_mwu(a, 3, a, 3, NULL), SB_EINPUT, "NULL result");
	is_double(r.p, -1, 0, "result untouched on error");
}

int main(void)
{
	tap_plan(PLAN);
	test_exact();
	test_ties();
	test_exact_enumerated(6, 6);
	test_exact_enumerated(4, 9);
	test_exact_enumerated(9, 4);
	test_exact_enumerated(1, 7);
	test_exact_vs_normal();
	test_large();
	test_bad_input();
	return tap_done();
}
