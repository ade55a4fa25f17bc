/* xoshiro256** seeded by splitmix64 (rng.h). The published algorithms, written from their
 * definitions: https://prng.di.unimi.it/ */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sb_rng_seed(struct sb_rng *r, uint64_t seed, uint64_t stream)
{
	/* The stream enters through its own splitmix step, so (seed, stream) pairs that are
	 * close give unrelated states. */
	uint64_t x = seed, y = stream ^ 0x6a09e667f3bcc909ull;
	uint64_t mixed = splitmix64(&x) ^ splitmix64(&y);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&mixed);
}

uint64_t sb_rng_next(struct sb_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double sb_rng_uniform(struct sb_rng *r)
{
	return (double)(sb_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t sb_rng_below(struct sb_rng *r, uint64_t n)
{
	/* Rejection of the top partial block: every value equally likely. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
	do
		x = sb_rng_next(r);
	while (x >= limit);
	return x % n;
}

double sb_rng_exponential(struct sb_rng *r, double mean)
{
	return -mean * log1p(-sb_rng_uniform(r));
}
