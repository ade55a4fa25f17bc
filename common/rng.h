/* A seeded random-number generator, the same sequence on every machine and run for the same
 * (seed, stream): xoshiro256** (Blackman and Vigna), its state filled by splitmix64 from the
 * seed and the stream number. Streams give each rank, round or request its own sequence
 * without drawing from a shared one (stream = rank: independent, reproducible per rank). */
#ifndef SB_RNG_H
#define SB_RNG_H

#include <stdint.h>

struct sb_rng {
	uint64_t s[4];
};

void sb_rng_seed(struct sb_rng *r, uint64_t seed, uint64_t stream);
uint64_t sb_rng_next(struct sb_rng *r);
/* Uniform in [0, 1), 53 random bits. */
double sb_rng_uniform(struct sb_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t sb_rng_below(struct sb_rng *r, uint64_t n);
/* Exponentially distributed with this mean (a Poisson process's gaps). */
double sb_rng_exponential(struct sb_rng *r, double mean);

#endif
