/* Check patterns whose all-reduce is exact in every type.
 *
 * Element i of rank r for seed s is v(r, i, s) = ((r + i + s) mod 7) - 2, an integer in
 * [-2, 4]. A sum over n ranks is an integer of magnitude <= 4n, exact in float (24-bit
 * mantissa) up to n = 2^22 ranks, and independent of the order the reduction adds in. Each
 * full cycle of 7 ranks adds 7, so the sums are not all zero for any n (a zero-filled buffer
 * never passes). The expected sum depends only on (i + s) mod 7, so the check
 * precomputes seven values instead of looping over ranks. A mismatch can also be located:
 * neighbouring elements differ, so a shifted or truncated buffer does not pass. */
#ifndef SB_PATTERN_H
#define SB_PATTERN_H

#include "comm.h"

#include <stddef.h>

int sb_pattern_value(int rank, size_t i, unsigned seed);
/* Sum over ranks 0..n-1 of sb_pattern_value for each residue (i + seed) mod 7. */
void sb_pattern_sums(int nranks, long long sums[7]);

void sb_pattern_fill(void *buf, size_t count, enum sb_dtype t, int rank, unsigned seed);
size_t sb_pattern_check_rank(const void *buf, size_t count, enum sb_dtype t, int rank,
                             unsigned seed);
size_t sb_pattern_check_sum(const void *buf, size_t count, enum sb_dtype t, int nranks,
                            unsigned seed);

#endif
