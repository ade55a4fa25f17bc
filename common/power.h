/* Board power and energy of the GPUs during a point: each rank reads its own GPU's meter around
 * the timed span, rank 0 puts the GPUs together (a GPU shared by several ranks once) into the
 * point's `power` figure (result.h). The meter is a reader, a pair of functions, so that the
 * tests put a fake GPU in; the default is NVML, loaded at run time from the driver's
 * libnvidia-ml.so.1, so that no build needs it and a machine without it only loses the power
 * figures (the run record's provenance says why, once).
 *
 * Functions return 0 or a negative SB_E* code, as everywhere. */
#ifndef SB_POWER_H
#define SB_POWER_H

#include "comm.h"
#include "result.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

/* One GPU's meter. energy: the board's energy counter in millijoules since some fixed origin
 * (NVML: since the driver loaded; Volta and later), SB_ENOTSUP where the GPU has none, which
 * makes the span sample power instead. power: the board's power now, in milliwatts. Both may
 * be called from a thread of the power module's own (never the one running MPI). */
struct sb_power_reader {
	const char *name; /* for the record: "nvml" */
	int (*energy)(void *arg, unsigned long long *mj);
	int (*power)(void *arg, unsigned *mw);
	void *arg;
};

/* Use r (copied) as this process's meter from now on, instead of NVML; NULL goes back to NVML,
 * opened again at the next use. Closes NVML if it was open. For the tests. */
void sb_power_use(const struct sb_power_reader *r);

/* Open NVML for the GPU of this PCI bus id ("0000:3b:00.0") and fill r with its reader. On
 * failure SB_ENOTSUP, and why (naming what was missing: the library, a symbol, the device)
 * gets the reason. */
int sb_power_nvml_open(const char *bus, struct sb_power_reader *r, char *why, size_t len);
/* Shut NVML down and unload it (nothing when it is not open). */
void sb_power_nvml_close(void);

/* Provenance (rank 0, device backends): "power": {"meter": "nvml", "source": what a span
 * will read} or {"meter": null, "why": the reason there is none}. Opens the meter of c's GPU
 * if nothing has yet. */
void sb_power_describe(struct sb_comm *c, json_t *prov);

/* Powers are sampled this often where the GPU has no energy counter. */
#define SB_POWER_SAMPLE_INTERVAL 0.01 /* s */

/* One rank's measurement of its GPU over one timed span. */
struct sb_power_span {
	int on; /* the meter was read at the start */
	int counter; /* by the energy counter; else by power samples */
	double t0, t1; /* sb_now() at the start and the end */
	unsigned long long e0, e1; /* the counter at the start and the end (mJ) */
	/* Samples (mW), summed by the sampling thread until `stop`. */
	pthread_t thread;
	int threaded;
	pthread_mutex_t lock;
	int stop;
	double mw_sum, mw_max;
	size_t nsamples;
	int failed; /* a read failed during the span: no figure from this rank */
};

/* Start measuring c's GPU: local, no traffic, cannot fail (without a meter the span is off and
 * end says so). Opens the meter on first use. */
void sb_power_begin(struct sb_power_span *s, struct sb_comm *c);
/* End the span, after `ops` operations ran in it, and put every rank's measurement together at
 * rank 0 into *out (elsewhere *out is zeroed). Collective over c: every rank that began a span
 * calls it. Returns 0 or the control plane's error. */
int sb_power_end(struct sb_power_span *s, struct sb_comm *c, double ops, struct sb_power *out);
/* Stop a span that will not end (the point failed): no traffic. */
void sb_power_abandon(struct sb_power_span *s);

/* What one rank sends rank 0 about its GPU over a span. */
struct sb_power_rank {
	char host[256];
	char gpu[32]; /* PCI bus id */
	char meter[16]; /* the reader's name: "nvml" */
	int status; /* SB_POWER_MEASURED, _NONE or _STALE */
	int counter; /* by the energy counter (1) or power samples (0) */
	double joules, seconds;
	double watts_max; /* the largest sample, NAN with the counter */
};
#define SB_POWER_NONE 0 /* no meter, or a read failed */
#define SB_POWER_MEASURED 1
#define SB_POWER_STALE 2 /* the counter did not move: a span shorter than its update period */

/* The point's figure from n ranks' measurements: one entry per distinct GPU (host and bus id,
 * without case), the mean of its ranks' (they read one meter over nearly one span); joules of
 * all GPUs summed, watts_mean the mean of the GPUs' joules / seconds, seconds the longest span,
 * watts_max the largest sample. out->source is NULL when no rank had a meter. */
void sb_power_aggregate(const struct sb_power_rank *v, int n, double ops, struct sb_power *out);

/* Add `more` (another round of the same point, the same GPUs) to *into. */
void sb_power_merge(struct sb_power *into, const struct sb_power *more);

/* The record's "power" object, or NULL when p has no source (write nothing). */
json_t *sb_power_json(const struct sb_power *p);

#endif
