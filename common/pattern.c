#include "pattern.h"

#include "error.h"

#include <stdint.h>
#include <stdlib.h>

size_t sb_dtype_size(enum sb_dtype t)
{
	switch (t) {
	case SB_FLOAT:
		return sizeof(float);
	case SB_DOUBLE:
		return sizeof(double);
	case SB_INT32:
		return sizeof(int32_t);
	default:
		return 0;
	}
}

const char *sb_dtype_name(enum sb_dtype t)
{
	static const char *const names[] = {"float", "double", "int32"};
	return t < SB_DTYPE_COUNT ? names[t] : "?";
}

int sb_pattern_value(int rank, size_t i, unsigned seed)
{
	return (int)(((size_t)rank % 7 + i % 7 + seed % 7) % 7) - 2;
}

void sb_pattern_sums(int nranks, long long sums[7])
{
	/* Residue k = (i + seed) mod 7; rank r contributes ((r + k) mod 7) - 2. A whole cycle of 7
	 * ranks contributes 0+1+...+6 - 14 = 7, then the nranks mod 7 remaining ranks. */
	for (int k = 0; k < 7; k++) {
		long long s = 7LL * (nranks / 7);
		for (int r = 0; r < nranks % 7; r++)
			s += (r + k) % 7 - 2;
		sums[k] = s;
	}
}

#define FOR_TYPE(t, buf, body)                                                                     \
	switch (t) {                                                                               \
	case SB_FLOAT: {                                                                           \
		typedef float T;                                                                   \
		T *p = (T *)(buf);                                                                 \
		body;                                                                              \
		break;                                                                             \
	}                                                                                          \
	case SB_DOUBLE: {                                                                          \
		typedef double T;                                                                  \
		T *p = (T *)(buf);                                                                 \
		body;                                                                              \
		break;                                                                             \
	}                                                                                          \
	case SB_INT32: {                                                                           \
		typedef int32_t T;                                                                 \
		T *p = (T *)(buf);                                                                 \
		body;                                                                              \
		break;                                                                             \
	}                                                                                          \
	default:                                                                                   \
		break;                                                                             \
	}

void sb_pattern_fill(void *buf, size_t count, enum sb_dtype t, int rank, unsigned seed)
{
	size_t k0 = ((size_t)rank % 7 + seed % 7) % 7;
	FOR_TYPE(t, buf, {
		size_t k = k0;
		for (size_t i = 0; i < count; i++) {
			p[i] = (T)((int)k - 2);
			k = k == 6 ? 0 : k + 1;
		}
	})
}

size_t sb_pattern_check_rank(const void *buf, size_t count, enum sb_dtype t, int rank,
                             unsigned seed)
{
	size_t wrong = 0;
	size_t k0 = ((size_t)rank % 7 + seed % 7) % 7;
	FOR_TYPE(t, (void *)buf, {
		size_t k = k0;
		for (size_t i = 0; i < count; i++) {
			wrong += p[i] != (T)((int)k - 2);
			k = k == 6 ? 0 : k + 1;
		}
	})
	return wrong;
}

size_t sb_pattern_check_sum(const void *buf, size_t count, enum sb_dtype t, int nranks,
                            unsigned seed)
{
	long long sums[7];
	sb_pattern_sums(nranks, sums);
	size_t wrong = 0;
	size_t k0 = seed % 7;
	FOR_TYPE(t, (void *)buf, {
		size_t k = k0;
		for (size_t i = 0; i < count; i++) {
			wrong += p[i] != (T)sums[k];
			k = k == 6 ? 0 : k + 1;
		}
	})
	return wrong;
}
