/* The `fake` backend: moves nothing and keeps a virtual clock, so the driver, the statistics
 * and the writers can be tested deterministically without MPI peers or GPUs (fio's null
 * engine). It simulates a world of SB_FAKE_RANKS ranks (default 1) in which every rank holds
 * the data of rank 0: an all-reduce multiplies by the rank count, a send/recv copies.
 *
 * Environment (tests only):
 *   SB_FAKE_RANKS=N          simulated world size
 *   SB_FAKE_ALPHA=S          seconds per operation (default 1e-6)
 *   SB_FAKE_BETA=S           seconds per byte (default 1e-10)
 *   SB_FAKE_NOISE=F          relative noise, uniform in [0, F), from a fixed-seed generator
 *   SB_FAKE_HANG_BYTES=B     operations on >= B bytes never return (for the watchdog)
 *   SB_FAKE_CORRUPT_BYTES=B  results of operations on >= B bytes are off by one element
 *   SB_FAKE_ASYNC=1          an asynchronous data path, as a GPU's: the driver measures
 *                            latency and pipelined time; each sync costs SB_FAKE_SYNC s
 *                            (default 5e-6)
 *   SB_FAKE_DRIFT=N:F        after N operations every operation costs F times as much (a
 *                            machine that changes state during the run) */
#include "comm.h"
#include "error.h"
#include "pattern.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fake_priv {
	double clock, alpha, beta, noise, sync_cost, drift_factor;
	unsigned long long ops, drift_after;
	uint64_t rng;
	size_t hang_bytes, corrupt_bytes;
};

static double env_double(const char *name, double def)
{
	const char *v = getenv(name);
	return v && *v ? strtod(v, NULL) : def;
}

static int fake_init(struct sb_comm *c)
{
	struct fake_priv *p = calloc(1, sizeof *p);
	if (!p)
		return SB_ENOMEM;
	c->rank = 0;
	c->size = (int)env_double("SB_FAKE_RANKS", 1);
	if (c->size < 1)
		c->size = 1;
	p->clock = 1000.0;
	p->alpha = env_double("SB_FAKE_ALPHA", 1e-6);
	p->beta = env_double("SB_FAKE_BETA", 1e-10);
	p->noise = env_double("SB_FAKE_NOISE", 0);
	p->hang_bytes = (size_t)env_double("SB_FAKE_HANG_BYTES", 0);
	p->corrupt_bytes = (size_t)env_double("SB_FAKE_CORRUPT_BYTES", 0);
	p->rng = 0x9e3779b97f4a7c15ull;
	c->async = env_double("SB_FAKE_ASYNC", 0) != 0;
	p->sync_cost = c->async ? env_double("SB_FAKE_SYNC", 5e-6) : 0;
	const char *d = getenv("SB_FAKE_DRIFT");
	if (d && *d) {
		char *end;
		p->drift_after = strtoull(d, &end, 10);
		p->drift_factor = *end == ':' ? strtod(end + 1, NULL) : 1;
	}
	c->priv = p;
	return 0;
}

static void fake_fini(struct sb_comm *c)
{
	free(c->priv);
	c->priv = NULL;
}

/* Advance the virtual clock by the cost of one operation on `bytes`. */
static void tick(struct fake_priv *p, size_t bytes)
{
	if (p->hang_bytes && bytes >= p->hang_bytes)
		for (;;)
			pause(); /* a hung collective; only the watchdog ends this */
	double t = p->alpha + p->beta * (double)bytes;
	if (p->drift_after && ++p->ops > p->drift_after)
		t *= p->drift_factor;
	if (p->noise > 0) {
		p->rng ^= p->rng << 13;
		p->rng ^= p->rng >> 7;
		p->rng ^= p->rng << 17;
		t *= 1.0 + p->noise * (double)(p->rng >> 11) / 9007199254740992.0;
	}
	p->clock += t;
}

static int fake_fill(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, unsigned seed)
{
	(void)c;
	sb_pattern_fill(buf, count, t, 0, seed);
	return 0;
}

static int fake_fill_rank(struct sb_comm *c, void *buf, size_t count, enum sb_dtype t, int rank,
                          unsigned seed)
{
	(void)c;
	sb_pattern_fill(buf, count, t, rank, seed);
	return 0;
}

/* Expected: size x rank 0's pattern (every simulated rank holds rank 0's data). */
static int fake_check_sum(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                          unsigned seed, size_t *wrong)
{
	size_t esz = sb_dtype_size(t);
	char *want = malloc(count * esz + 1);
	if (!want)
		return SB_ENOMEM;
	sb_pattern_fill(want, count, t, 0, seed);
	*wrong = 0;
	for (size_t i = 0; i < count; i++) {
		double w, g;
		switch (t) {
		case SB_FLOAT:
			w = ((float *)want)[i] * c->size, g = ((const float *)buf)[i];
			break;
		case SB_DOUBLE:
			w = ((double *)want)[i] * c->size, g = ((const double *)buf)[i];
			break;
		default:
			w = ((int32_t *)want)[i] * c->size, g = ((const int32_t *)buf)[i];
			break;
		}
		*wrong += w != g;
	}
	free(want);
	return 0;
}

static int fake_check_rank(struct sb_comm *c, const void *buf, size_t count, enum sb_dtype t,
                           int rank, unsigned seed, size_t *wrong)
{
	(void)c;
	(void)rank; /* the simulated peer holds rank 0's data */
	*wrong = sb_pattern_check_rank(buf, count, t, 0, seed);
	return 0;
}

static void corrupt(struct fake_priv *p, void *recv, size_t bytes, size_t esz)
{
	if (p->corrupt_bytes && bytes >= p->corrupt_bytes && bytes >= esz)
		((unsigned char *)recv)[(bytes / esz / 2) * esz] ^= 0x5a;
}

static int fake_allreduce(struct sb_comm *c, const void *send, void *recv, size_t count,
                          enum sb_dtype t, enum sb_op op)
{
	struct fake_priv *p = c->priv;
	(void)op;
	size_t esz = sb_dtype_size(t);
	if (send != recv)
		memcpy(recv, send, count * esz);
	for (size_t i = 0; i < count; i++)
		switch (t) {
		case SB_FLOAT:
			((float *)recv)[i] *= (float)c->size;
			break;
		case SB_DOUBLE:
			((double *)recv)[i] *= c->size;
			break;
		default:
			((int32_t *)recv)[i] *= c->size;
			break;
		}
	corrupt(p, recv, count * esz, esz);
	tick(p, count * esz);
	return 0;
}

static int fake_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                         size_t bytes)
{
	struct fake_priv *p = c->priv;
	if (src >= 0 && dst >= 0 && send && recv)
		memcpy(recv, send, bytes);
	if (src >= 0 && recv)
		corrupt(p, recv, bytes, 1);
	tick(p, bytes);
	return 0;
}

static int fake_nop(struct sb_comm *c)
{
	(void)c;
	return 0;
}

static int fake_sync(struct sb_comm *c)
{
	struct fake_priv *p = c->priv;
	p->clock += p->sync_cost;
	return 0;
}

static double fake_now(struct sb_comm *c)
{
	return ((struct fake_priv *)c->priv)->clock;
}

static int fake_ctl_max(struct sb_comm *c, double *v, size_t n)
{
	(void)c, (void)v, (void)n;
	return 0;
}

static int fake_ctl_sum(struct sb_comm *c, long long *v, size_t n)
{
	(void)c, (void)v, (void)n;
	return 0;
}

static int fake_ctl_gatherv(struct sb_comm *c, const char *mine, char ***out)
{
	char **v = calloc((size_t)c->size, sizeof *v);
	for (int r = 0; v && r < c->size; r++)
		if (!(v[r] = strdup(mine))) {
			sb_strv_free(v, c->size);
			v = NULL;
		}
	*out = v;
	return v ? 0 : SB_ENOMEM;
}

static void fake_describe(struct sb_comm *c, json_t *obj)
{
	struct fake_priv *p = c->priv;
	json_object_set_new(obj, "fake_alpha", json_real(p->alpha));
	json_object_set_new(obj, "fake_beta", json_real(p->beta));
	json_object_set_new(obj, "fake_noise", json_real(p->noise));
}

const struct sb_backend sb_backend_fake = {
    .name = "fake",
    .summary = "moves nothing, virtual clock (for testing scalebench itself)",
    .caps = SB_CAP_HOST_MEM | SB_CAP_TEST_ONLY,
    .init = fake_init,
    .fini = fake_fini,
    .alloc = sb__host_alloc,
    .free = sb__host_free,
    .fill = fake_fill,
    .check_sum = fake_check_sum,
    .fill_rank = fake_fill_rank,
    .check_rank = fake_check_rank,
    .allreduce = fake_allreduce,
    .sendrecv = fake_sendrecv,
    .barrier = fake_nop,
    .sync = fake_sync,
    .now = fake_now,
    .timer = "virtual clock (fake backend)",
    .ctl_max = fake_ctl_max,
    .ctl_sum = fake_ctl_sum,
    .ctl_gatherv = fake_ctl_gatherv,
    .describe = fake_describe,
};
