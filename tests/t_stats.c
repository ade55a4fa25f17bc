/* Statistics: nearest-rank percentiles, the median, the ranks of the median's confidence
 * interval, mean/stddev/cov and the relative CI half-width, each against values worked out
 * by hand in the comments. */
#include "error.h"
#include "stats.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PLAN 113

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_percentile(void)
{
	/* n = 0: no value. */
	ok(isnan(sb_stats_percentile(NULL, 0, 50)), "p50 of nothing is NaN");
	ok(isnan(sb_stats_median(NULL, 0)), "median of nothing is NaN");

	/* n = 1: every percentile is the value. */
	const double one[] = {7};
	is_double(sb_stats_percentile(one, 1, 1), 7, 0, "n=1 p1");
	is_double(sb_stats_percentile(one, 1, 50), 7, 0, "n=1 p50");
	is_double(sb_stats_percentile(one, 1, 100), 7, 0, "n=1 p100");
	is_double(sb_stats_median(one, 1), 7, 0, "n=1 median");

	/* n = 4: rank ceil(p/100 * 4): p1 -> ceil(0.04) = 1, p25 -> 1, p26 -> ceil(1.04) = 2,
	 * p50 -> 2 (the 2nd, not the mean of the middle two), p75 -> 3, p100 -> 4.
	 * Median (even n): (2 + 3) / 2 = 2.5. */
	const double four[] = {1, 2, 3, 4};
	is_double(sb_stats_percentile(four, 4, 1), 1, 0, "n=4 p1 is rank 1");
	is_double(sb_stats_percentile(four, 4, 25), 1, 0, "n=4 p25 is rank 1");
	is_double(sb_stats_percentile(four, 4, 26), 2, 0, "n=4 p26 is rank 2");
	is_double(sb_stats_percentile(four, 4, 50), 2, 0, "n=4 p50 is rank 2");
	is_double(sb_stats_percentile(four, 4, 75), 3, 0, "n=4 p75 is rank 3");
	is_double(sb_stats_percentile(four, 4, 100), 4, 0, "n=4 p100 is rank 4");
	is_double(sb_stats_median(four, 4), 2.5, 0, "n=4 median is the mean of ranks 2 and 3");

	/* n = 5: p20 -> ceil(1.0) = 1, p21 -> ceil(1.05) = 2, p50 -> ceil(2.5) = 3,
	 * p60 -> ceil(3.0) = 3, p61 -> ceil(3.05) = 4, p100 -> 5. Median (odd n): rank 3. */
	const double five[] = {10, 20, 30, 40, 50};
	is_double(sb_stats_percentile(five, 5, 20), 10, 0, "n=5 p20 is rank 1");
	is_double(sb_stats_percentile(five, 5, 21), 20, 0, "n=5 p21 is rank 2");
	is_double(sb_stats_percentile(five, 5, 50), 30, 0, "n=5 p50 is rank 3");
	is_double(sb_stats_percentile(five, 5, 60), 30, 0, "n=5 p60 is rank 3");
	is_double(sb_stats_percentile(five, 5, 61), 40, 0, "n=5 p61 is rank 4");
	is_double(sb_stats_percentile(five, 5, 100), 50, 0, "n=5 p100 is rank 5");
	is_double(sb_stats_median(five, 5), 30, 0, "n=5 median is rank 3");

	/* n = 20, values 1..20 (value = rank): p5 -> 1, p25 -> 5, p50 -> 10, p75 -> 15,
	 * p95 -> 19 (0.95 * 20 is 19 exactly, however the product rounds), p99 -> ceil(19.8) = 20.
	 * Median: (10 + 11) / 2 = 10.5. */
	double twenty[20];
	for (int i = 0; i < 20; i++)
		twenty[i] = i + 1;
	is_double(sb_stats_percentile(twenty, 20, 5), 1, 0, "n=20 p5");
	is_double(sb_stats_percentile(twenty, 20, 25), 5, 0, "n=20 p25");
	is_double(sb_stats_percentile(twenty, 20, 50), 10, 0, "n=20 p50");
	is_double(sb_stats_percentile(twenty, 20, 75), 15, 0, "n=20 p75");
	is_double(sb_stats_percentile(twenty, 20, 95), 19, 0, "n=20 p95 is rank 19, not 20");
	is_double(sb_stats_percentile(twenty, 20, 90), 18, 0, "n=20 p90 is rank 18");
	is_double(sb_stats_percentile(twenty, 20, 99), 20, 0, "n=20 p99");
	is_double(sb_stats_median(twenty, 20), 10.5, 0, "n=20 median");

	/* n = 100, values 1..100: p = rank for integer p; p0.5 -> ceil(0.5) = 1,
	 * p7 -> 7 (0.07 * 100 = 7.000000000000001 in doubles), p99.5 -> ceil(99.5) = 100.
	 * Median: (50 + 51) / 2 = 50.5. */
	double hundred[100];
	for (int i = 0; i < 100; i++)
		hundred[i] = i + 1;
	is_double(sb_stats_percentile(hundred, 100, 0.5), 1, 0, "n=100 p0.5 is rank 1");
	is_double(sb_stats_percentile(hundred, 100, 5), 5, 0, "n=100 p5");
	is_double(sb_stats_percentile(hundred, 100, 7), 7, 0, "n=100 p7 (rounding guard)");
	is_double(sb_stats_percentile(hundred, 100, 50), 50, 0, "n=100 p50");
	is_double(sb_stats_percentile(hundred, 100, 95), 95, 0, "n=100 p95");
	is_double(sb_stats_percentile(hundred, 100, 99), 99, 0, "n=100 p99");
	is_double(sb_stats_percentile(hundred, 100, 99.5), 100, 0, "n=100 p99.5 is rank 100");
	is_double(sb_stats_median(hundred, 100), 50.5, 0, "n=100 median");

	/* Ranks are clamped to 1..n. */
	is_double(sb_stats_percentile(hundred, 100, 0), 1, 0, "p0 is clamped to rank 1");
	is_double(sb_stats_percentile(four, 4, 125), 4, 0,
	          "p125 (rank 5 of 4) is clamped to rank n");
}

static void test_ci_ranks(void)
{
	size_t lo = 0, hi = 0;

	/* lo = floor((n - 1.96 sqrt n) / 2), hi = ceil(1 + (n + 1.96 sqrt n) / 2); valid when
	 * 1 <= lo and hi <= n.
	 * n = 1: sqrt 1 = 1, 1.96 -> lo = floor(-0.48) < 1: invalid.
	 * n = 7: sqrt 7 = 2.6458, 1.96 sqrt 7 = 5.1857; lo = floor(1.8143 / 2 = 0.907) = 0,
	 *        hi = ceil(1 + 12.1857 / 2 = 7.093) = 8 > 7: invalid. */
	is_int(sb_stats_median_ci_ranks(0, &lo, &hi), SB_EINVAL, "n=0: no CI");
	is_int(sb_stats_median_ci_ranks(1, &lo, &hi), SB_EINVAL, "n=1: no CI");
	is_int(sb_stats_median_ci_ranks(7, &lo, &hi), SB_EINVAL,
	       "n=7: no CI (lo would be 0, hi 8)");

	/* n = 8: sqrt 8 = 2.8284, 1.96 sqrt 8 = 5.5437; lo = floor(2.4563 / 2 = 1.228) = 1,
	 *        hi = ceil(1 + 13.5437 / 2 = 7.772) = 8. */
	lo = hi = 0;
	is_int(sb_stats_median_ci_ranks(8, &lo, &hi), 0, "n=8: CI exists");
	is_int(lo, 1, "n=8: lo rank 1");
	is_int(hi, 8, "n=8: hi rank 8");

	/* n = 9: sqrt 9 = 3, 5.88; lo = floor(3.12 / 2 = 1.56) = 1, hi = ceil(1 + 14.88 / 2 = 8.44)
	 *        = 9. */
	is_int(sb_stats_median_ci_ranks(9, &lo, &hi), 0, "n=9: CI exists");
	is_int(lo, 1, "n=9: lo rank 1");
	is_int(hi, 9, "n=9: hi rank 9");

	/* n = 16: sqrt 16 = 4, 7.84; lo = floor(8.16 / 2 = 4.08) = 4,
	 *         hi = ceil(1 + 23.84 / 2 = 12.92) = 13. */
	is_int(sb_stats_median_ci_ranks(16, &lo, &hi), 0, "n=16: CI exists");
	is_int(lo, 4, "n=16: lo rank 4");
	is_int(hi, 13, "n=16: hi rank 13");

	/* n = 20: sqrt 20 = 4.4721, 8.7654; lo = floor(11.2346 / 2 = 5.617) = 5,
	 *         hi = ceil(1 + 28.7654 / 2 = 15.383) = 16. */
	is_int(sb_stats_median_ci_ranks(20, &lo, &hi), 0, "n=20: CI exists");
	is_int(lo, 5, "n=20: lo rank 5");
	is_int(hi, 16, "n=20: hi rank 16");

	/* n = 100: sqrt 100 = 10, 19.6; lo = floor(80.4 / 2 = 40.2) = 40,
	 *          hi = ceil(1 + 119.6 / 2 = 60.8) = 61. */
	is_int(sb_stats_median_ci_ranks(100, &lo, &hi), 0, "n=100: CI exists");
	is_int(lo, 40, "n=100: lo rank 40");
	is_int(hi, 61, "n=100: hi rank 61");

	/* n = 625: sqrt 625 = 25, 1.96 * 25 = 49 exactly; lo = floor(576 / 2) = 288,
	 *          hi = ceil(1 + 674 / 2) = ceil(338) = 338 (whole numbers: floor and ceil agree).
	 */
	is_int(sb_stats_median_ci_ranks(625, &lo, &hi), 0, "n=625: CI exists");
	is_int(lo, 288, "n=625: lo rank 288");
	is_int(hi, 338, "n=625: hi rank 338");

	/* n = 1000: sqrt 1000 = 31.6228, 61.9806; lo = floor(938.0194 / 2 = 469.0097) = 469,
	 *           hi = ceil(1 + 1061.9806 / 2 = 531.9903) = 532. */
	is_int(sb_stats_median_ci_ranks(1000, &lo, &hi), 0, "n=1000: CI exists");
	is_int(lo, 469, "n=1000: lo rank 469");
	is_int(hi, 532, "n=1000: hi rank 532");

	/* The CI exists from n = 8 on, and its ranks stay inside 1..n around the median. */
	int bad = 0;
	for (size_t n = 8; n <= 5000; n++) {
		if (sb_stats_median_ci_ranks(n, &lo, &hi) != 0 || lo < 1 || hi > n ||
		    2 * lo > n + 1 || 2 * hi < n + 1) {
			if (!bad)
				tap_diag("n=%zu: lo %zu hi %zu", n, lo, hi);
			bad++;
		}
	}
	is_int(bad, 0, "n = 8..5000: valid ranks in 1..n on either side of the median");
}

static void test_summary(void)
{
	struct sb_summary s;
	double scratch[32];

	is_int(sb_stats_summarize(NULL, 0, scratch, &s), SB_EINVAL, "summarize n=0: SB_EINVAL");

	/* {2, 4, 4, 4, 5, 5, 7, 9}, shuffled: mean 40 / 8 = 5; squared deviations
	 * 9 + 1 + 1 + 1 + 0 + 0 + 4 + 16 = 32; stddev (n-1) = sqrt(32 / 7) = 2.1380899353;
	 * cov = 2.1380899353 / 5 = 0.4276179871. Sorted: 2 4 4 4 5 5 7 9; median (4 + 5) / 2 =
	 * 4.5; n = 8 -> CI ranks (1, 8) -> ci_lo = 2, ci_hi = 9; nearest-rank p25 = rank 2 = 4,
	 * p75 = rank 6 = 5, p5 = rank 1 = 2, p95 = rank ceil(7.6) = 8 = 9.
	 * Relative half-width: max(4.5 - 2, 9 - 4.5) / 4.5 = 4.5 / 4.5 = 1. */
	const double set[] = {5, 9, 4, 2, 7, 4, 5, 4};
	double copy[N(set)];
	memcpy(copy, set, sizeof set);
	is_int(sb_stats_summarize(set, N(set), scratch, &s), 0, "summarize 8 values");
	ok(memcmp(copy, set, sizeof set) == 0, "the samples are not modified");
	is_int(s.n, 8, "n");
	is_double(s.min, 2, 0, "min");
	is_double(s.max, 9, 0, "max");
	is_double(s.mean, 5, 1e-15, "mean");
	is_double(s.stddev, 2.1380899352993950, 1e-12, "stddev uses n-1: sqrt(32/7)");
	is_double(s.cov, 0.42761798705987900, 1e-12, "cov = stddev / mean");
	is_double(s.median, 4.5, 0, "median of unsorted input");
	is_double(s.p5, 2, 0, "p5");
	is_double(s.p25, 4, 0, "p25");
	is_double(s.p75, 5, 0, "p75");
	is_double(s.p95, 9, 0, "p95");
	is_int(s.ci_valid, 1, "CI valid at n=8");
	is_int(s.ci_lo_rank, 1, "ci_lo_rank");
	is_int(s.ci_hi_rank, 8, "ci_hi_rank");
	is_double(s.ci_lo, 2, 0, "ci_lo is the smallest");
	is_double(s.ci_hi, 9, 0, "ci_hi is the 8th smallest");
	is_double(sb_stats_rel_ci_halfwidth(&s), 1.0, 1e-15, "rel CI half-width");

	/* Welford with a large offset: 1e9 + {4, 7, 13, 16}: mean 1e9 + 10, squared deviations
	 * 36 + 9 + 9 + 36 = 90, stddev sqrt(90 / 3) = sqrt(30) = 5.4772255751. A sum-of-squares
	 * formula loses this to cancellation. */
	const double off[] = {1e9 + 4, 1e9 + 16, 1e9 + 7, 1e9 + 13};
	sb_stats_summarize(off, N(off), scratch, &s);
	is_double(s.mean, 1e9 + 10, 1e-6, "mean with an offset of 1e9");
	is_double(s.stddev, 5.4772255750516611, 1e-6, "stddev with an offset of 1e9");

	/* Unsorted 1..10 (a permutation): p5 = rank ceil(0.5) = 1, p25 = rank ceil(2.5) = 3,
	 * median (5 + 6) / 2 = 5.5, p75 = rank ceil(7.5) = 8, p95 = rank ceil(9.5) = 10,
	 * p99 = rank 10. */
	const double perm[] = {5, 3, 9, 1, 7, 2, 8, 6, 4, 10};
	sb_stats_summarize(perm, N(perm), scratch, &s);
	is_double(s.min, 1, 0, "permutation: min");
	is_double(s.p5, 1, 0, "permutation: p5");
	is_double(s.p25, 3, 0, "permutation: p25");
	is_double(s.median, 5.5, 0, "permutation: median");
	is_double(s.p75, 8, 0, "permutation: p75");
	is_double(s.p95, 10, 0, "permutation: p95");
	is_double(s.p99, 10, 0, "permutation: p99");
	is_double(s.max, 10, 0, "permutation: max");

	/* 20 down to 1, the values above 10 doubled (40, 38, ..., 22, 10, 9, ..., 1): median
	 * (10 + 22) / 2 = 16, p95 = rank 19 = 38, CI ranks (5, 16) -> ci_lo = 5, ci_hi = 32. The
	 * upper side is the wider: max(16 - 5 = 11, 32 - 16 = 16) / 16 = 1. */
	double desc[20];
	for (int i = 0; i < 20; i++)
		desc[i] = 20 - i > 10 ? 2 * (20 - i) : 20 - i;
	sb_stats_summarize(desc, 20, scratch, &s);
	is_double(s.median, 16, 0, "n=20 descending: median");
	is_double(s.p90, 36, 0, "n=20 descending: p90 (rank 18)");
	is_double(s.p95, 38, 0, "n=20 descending: p95");
	is_double(s.ci_lo, 5, 0, "n=20: ci_lo is the 5th smallest");
	is_double(s.ci_hi, 32, 0, "n=20: ci_hi is the 16th smallest");
	is_double(sb_stats_rel_ci_halfwidth(&s), 1.0, 1e-15,
	          "rel CI half-width takes the upper side when it is wider");

	/* {1, 2, 10, ..., 15}: median (11 + 12) / 2 = 11.5, CI ranks (1, 8): ci_lo = 1,
	 * ci_hi = 15. The lower side is the wider: max(10.5, 3.5) / 11.5 = 0.9130434783. */
	const double skew[] = {12, 15, 1, 11, 14, 2, 13, 10};
	sb_stats_summarize(skew, N(skew), scratch, &s);
	is_double(s.median, 11.5, 0, "skewed: median");
	is_double(s.ci_lo, 1, 0, "skewed: ci_lo");
	is_double(s.ci_hi, 15, 0, "skewed: ci_hi");
	is_double(sb_stats_rel_ci_halfwidth(&s), 10.5 / 11.5, 1e-15,
	          "rel CI half-width takes the lower side when it is wider");

	/* Identical samples: a zero-width CI. */
	const double flat[] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
	sb_stats_summarize(flat, N(flat), scratch, &s);
	is_double(s.stddev, 0, 0, "identical samples: stddev 0");
	is_double(sb_stats_rel_ci_halfwidth(&s), 0, 0, "identical samples: rel CI 0");

	/* n = 7 and n = 1: no CI, so the half-width is +inf (never "precise enough"). */
	const double seven[] = {1, 2, 3, 4, 5, 6, 7};
	sb_stats_summarize(seven, 7, scratch, &s);
	is_int(s.ci_valid, 0, "n=7: CI not valid");
	ok(isinf(sb_stats_rel_ci_halfwidth(&s)) && sb_stats_rel_ci_halfwidth(&s) > 0,
	   "n=7: rel CI half-width is +inf");
	is_double(s.median, 4, 0, "n=7: median");

	/* n = 1: stddev 0 (no n-1 division by zero), no CI. */
	const double single[] = {2.5};
	is_int(sb_stats_summarize(single, 1, scratch, &s), 0, "summarize 1 value");
	is_double(s.median, 2.5, 0, "n=1: median");
	is_double(s.stddev, 0, 0, "n=1: stddev 0");
	is_int(s.ci_valid, 0, "n=1: CI not valid");
	ok(isinf(sb_stats_rel_ci_halfwidth(&s)), "n=1: rel CI half-width is inf");
}

int main(void)
{
	tap_plan(PLAN);
	test_percentile();
	test_ci_ranks();
	test_summary();
	return tap_done();
}
