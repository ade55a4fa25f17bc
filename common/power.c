/* Board power per point (power.h): NVML loaded with dlopen, the energy counter read around the
 * timed span (or power sampled by a thread where a GPU has no counter), the ranks' figures put
 * together at rank 0. */
#include "power.h"

#include "error.h"
#include "timer.h"

#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* NVML's C API, the few entry points used here, declared from NVIDIA's NVML API reference so
 * that no build needs nvml.h (the CUDA toolkit does not always ship it): nvmlReturn_t is an
 * enum (int-sized), nvmlDevice_t an opaque pointer. */
typedef int nvml_return;
typedef struct nvml_device_st *nvml_device;
#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_LIBRARY "libnvidia-ml.so.1" /* the driver's, unversioned name absent without devel */

static struct {
	void *lib;
	nvml_return (*init)(void); /* nvmlInit_v2 */
	nvml_return (*shutdown)(void); /* nvmlShutdown */
	/* nvmlDeviceGetHandleByPciBusId_v2: "domain:bus:device.function", hexadecimal */
	nvml_return (*by_bus)(const char *bus, nvml_device *dev);
	/* nvmlDeviceGetTotalEnergyConsumption: mJ since the driver loaded (Volta and later) */
	nvml_return (*energy)(nvml_device dev, unsigned long long *mj);
	/* nvmlDeviceGetPowerUsage: mW (Ampere and later: averaged over 1 s) */
	nvml_return (*power)(nvml_device dev, unsigned *mw);
	const char *(*error)(nvml_return r); /* nvmlErrorString */
	nvml_device dev;
} nv;

/* This process's meter: NVML opened at first use, or a reader a test put in. */
static struct {
	int tried, ok;
	struct sb_power_reader r;
	char why[256];
} meter;

static const char *nvml_error(nvml_return r)
{
	const char *s = nv.error ? nv.error(r) : NULL;
	return s ? s : "unknown NVML error";
}

static int nvml_energy(void *arg, unsigned long long *mj)
{
	(void)arg;
	nvml_return r = nv.energy(nv.dev, mj);
	return r == NVML_SUCCESS ? 0 : r == NVML_ERROR_NOT_SUPPORTED ? SB_ENOTSUP : SB_EIO;
}

static int nvml_power(void *arg, unsigned *mw)
{
	(void)arg;
	nvml_return r = nv.power(nv.dev, mw);
	return r == NVML_SUCCESS ? 0 : r == NVML_ERROR_NOT_SUPPORTED ? SB_ENOTSUP : SB_EIO;
}

/* dlsym into a function pointer: through memcpy, as ISO C has no conversion between object
 * and function pointers (POSIX guarantees the representation). */
static int sym(const char *name, void *fn, size_t size, char *why, size_t len)
{
	void *p = dlsym(nv.lib, name);
	if (!p) {
		snprintf(why, len, "%s has no %s (a driver older than this build expects)",
		         NVML_LIBRARY, name);
		return SB_ENOTSUP;
	}
	memcpy(fn, &p, size);
	return 0;
}

void sb_power_nvml_close(void)
{
	if (nv.lib) {
		if (nv.shutdown && nv.dev) /* dev is set once init has succeeded */
			nv.shutdown();
		dlclose(nv.lib);
	}
	memset(&nv, 0, sizeof nv);
}

int sb_power_nvml_open(const char *bus, struct sb_power_reader *r, char *why, size_t len)
{
	sb_power_nvml_close();
	if (!bus || !*bus) {
		snprintf(why, len, "this rank's GPU has no PCI bus id to find it in NVML by");
		return SB_ENOTSUP;
	}
	if (!(nv.lib = dlopen(NVML_LIBRARY, RTLD_NOW | RTLD_LOCAL))) {
		const char *e = dlerror();
		snprintf(why, len, "cannot load %s (NVML, from the NVIDIA driver): %s",
		         NVML_LIBRARY, e ? e : "dlopen failed");
		return SB_ENOTSUP;
	}
	int rc = sym("nvmlErrorString", &nv.error, sizeof nv.error, why, len);
	if (rc == 0)
		rc = sym("nvmlInit_v2", &nv.init, sizeof nv.init, why, len);
	if (rc == 0)
		rc = sym("nvmlShutdown", &nv.shutdown, sizeof nv.shutdown, why, len);
	if (rc == 0)
		rc =
		    sym("nvmlDeviceGetHandleByPciBusId_v2", &nv.by_bus, sizeof nv.by_bus, why, len);
	if (rc == 0)
		rc = sym("nvmlDeviceGetTotalEnergyConsumption", &nv.energy, sizeof nv.energy, why,
		         len);
	if (rc == 0)
		rc = sym("nvmlDeviceGetPowerUsage", &nv.power, sizeof nv.power, why, len);
	if (rc) {
		sb_power_nvml_close();
		return rc;
	}
	nvml_return e = nv.init();
	if (e != NVML_SUCCESS) {
		snprintf(why, len, "%s: nvmlInit_v2: %s", NVML_LIBRARY, nvml_error(e));
		dlclose(nv.lib);
		memset(&nv, 0, sizeof nv);
		return SB_ENOTSUP;
	}
	nvml_device d = NULL;
	if ((e = nv.by_bus(bus, &d)) != NVML_SUCCESS || !d) {
		snprintf(why, len, "%s: no device of PCI bus id %s: %s", NVML_LIBRARY, bus,
		         nvml_error(e));
		nv.shutdown();
		dlclose(nv.lib);
		memset(&nv, 0, sizeof nv);
		return SB_ENOTSUP;
	}
	nv.dev = d;
	*r = (struct sb_power_reader){.name = "nvml", .energy = nvml_energy, .power = nvml_power};
	return 0;
}

void sb_power_use(const struct sb_power_reader *r)
{
	sb_power_nvml_close();
	memset(&meter, 0, sizeof meter);
	if (r) {
		meter.r = *r;
		meter.tried = meter.ok = 1;
	}
}

/* The meter of c's GPU, opened at first use (every communicator of a process has one GPU). */
static int meter_open(struct sb_comm *c)
{
	if (!meter.tried) {
		meter.tried = 1;
		meter.ok = sb_power_nvml_open(c->gpu, &meter.r, meter.why, sizeof meter.why) == 0;
	}
	return meter.ok;
}

void sb_power_describe(struct sb_comm *c, json_t *prov)
{
	json_t *o;
	if (meter_open(c)) {
		unsigned long long mj;
		unsigned mw;
		char src[64];
		const char *why = NULL;
		if (meter.r.energy(meter.r.arg, &mj) == 0)
			snprintf(src, sizeof src, "%s energy counter", meter.r.name);
		else if (meter.r.power(meter.r.arg, &mw) == 0)
			snprintf(src, sizeof src, "%s power samples", meter.r.name);
		else
			why = "the meter answers neither energy nor power";
		o = why ? json_pack("{s:s,s:n,s:s}", "meter", meter.r.name, "source", "why", why)
		        : json_pack("{s:s,s:s}", "meter", meter.r.name, "source", src);
	} else
		o = json_pack("{s:n,s:s}", "meter", "why", meter.why);
	if (o)
		json_object_set_new(prov, "power", o);
}

static void sample(struct sb_power_span *s)
{
	unsigned mw = 0;
	int rc = meter.r.power(meter.r.arg, &mw);
	pthread_mutex_lock(&s->lock);
	if (rc)
		s->failed = 1;
	else {
		s->mw_sum += mw;
		s->mw_max = s->nsamples == 0 || mw > s->mw_max ? mw : s->mw_max;
		s->nsamples++;
	}
	pthread_mutex_unlock(&s->lock);
}

/* The sampling thread: a power reading every SB_POWER_SAMPLE_INTERVAL until stopped. It calls
 * the meter only: MPI runs at MPI_THREAD_SINGLE unless asked, and nothing here touches it. */
static void *sampler(void *arg)
{
	struct sb_power_span *s = arg;
	const struct timespec gap = {0, (long)(SB_POWER_SAMPLE_INTERVAL * 1e9)};
	for (;;) {
		pthread_mutex_lock(&s->lock);
		int stop = s->stop;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			break;
		nanosleep(&gap, NULL);
		sample(s);
	}
	return NULL;
}

void sb_power_begin(struct sb_power_span *s, struct sb_comm *c)
{
	memset(s, 0, sizeof *s);
	if (!meter_open(c))
		return;
	pthread_mutex_init(&s->lock, NULL);
	s->on = 1;
	int rc = meter.r.energy(meter.r.arg, &s->e0);
	if (rc == 0) {
		s->counter = 1;
		s->t0 = sb_now();
		return;
	}
	if (rc != SB_ENOTSUP) {
		s->failed = 1;
		return;
	}
	/* No counter: a sample now (so a span has at least one), then the thread. Signals stay
	 * with the other threads (the watchdog's handlers expect the main one). */
	s->t0 = sb_now();
	sample(s);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	s->threaded = pthread_create(&s->thread, NULL, sampler, s) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void span_stop(struct sb_power_span *s)
{
	if (s->threaded) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		s->threaded = 0;
	}
}

void sb_power_abandon(struct sb_power_span *s)
{
	if (!s->on)
		return;
	span_stop(s);
	pthread_mutex_destroy(&s->lock);
	s->on = 0;
}

/* This rank's figure from its span. */
static void span_figure(struct sb_power_span *s, struct sb_comm *c, struct sb_power_rank *me)
{
	memset(me, 0, sizeof *me);
	snprintf(me->host, sizeof me->host, "%s", c->host);
	snprintf(me->gpu, sizeof me->gpu, "%s", c->gpu);
	snprintf(me->meter, sizeof me->meter, "%s", meter.r.name ? meter.r.name : "");
	me->watts_max = NAN;
	if (!s->on)
		return;
	s->t1 = sb_now();
	me->seconds = s->t1 - s->t0;
	if (s->counter && !s->failed) {
		me->counter = 1;
		if (meter.r.energy(meter.r.arg, &s->e1) != 0 || s->e1 < s->e0)
			s->failed = 1; /* a read failed, or the driver reloaded in between */
		else if (s->e1 == s->e0)
			me->status = SB_POWER_STALE;
		else {
			me->status = SB_POWER_MEASURED;
			me->joules = (double)(s->e1 - s->e0) / 1e3;
		}
	} else if (!s->failed) {
		span_stop(s);
		sample(s);
		if (!s->failed && s->nsamples) {
			/* Samples at a fixed interval: their mean is the span's mean power. */
			me->status = SB_POWER_MEASURED;
			me->joules = s->mw_sum / (double)s->nsamples / 1e3 * me->seconds;
			me->watts_max = s->mw_max / 1e3;
		}
	}
	sb_power_abandon(s);
}

int sb_power_end(struct sb_power_span *s, struct sb_comm *c, double ops, struct sb_power *out)
{
	struct sb_power_rank me;
	span_figure(s, c, &me);
	memset(out, 0, sizeof *out);
	void *all = NULL;
	size_t *lens = c->rank == 0 ? calloc((size_t)c->size, sizeof *lens) : NULL;
	/* Without lens rank 0's gather fails with a message (and ends a job of several ranks). */
	int rc = sb_ctl_gather(c, &me, sizeof me, &all, lens);
	if (rc == 0 && c->rank == 0) {
		/* Every rank sent one whole entry (the same build). */
		int n = c->size;
		for (int r = 0; r < c->size; r++)
			if (lens[r] != sizeof me)
				n = 0;
		sb_power_aggregate(all, n, ops, out);
	}
	free(all);
	free(lens);
	return rc;
}

static const char *const note_stale =
    "the energy counter did not move during the span (shorter than its update period, 20 to "
    "100 ms): no figure";
static const char *const note_some_stale =
    "the energy counter of some GPUs did not move during the span: they are left out";
static const char *const note_some_none =
    "some ranks' GPUs had no meter: the figures are of the GPUs measured";
static const char *const note_short =
    "a span under 1 s: the energy counter updates every 20 to 100 ms, so these figures are "
    "rough";

void sb_power_aggregate(const struct sb_power_rank *v, int n, double ops, struct sb_power *out)
{
	memset(out, 0, sizeof *out);
	out->watts_mean = out->watts_max = out->joules = out->joules_per_op = out->seconds = NAN;
	out->ops = ops;
	int stale = 0, none = 0, counters = 0, samples = 0;
	const char *name = NULL; /* the meter's, the first rank's with one */
	double watts = 0, joules = 0, seconds = 0, wmax = NAN;
	for (int i = 0; i < n; i++) {
		if (v[i].status == SB_POWER_NONE) {
			none++;
			continue;
		}
		/* The first rank of each GPU speaks for it, with the mean of its ranks. */
		int first = 1;
		for (int j = 0; j < i && first; j++)
			if (v[j].status != SB_POWER_NONE && strcmp(v[j].host, v[i].host) == 0 &&
			    strcasecmp(v[j].gpu, v[i].gpu) == 0)
				first = 0;
		if (!first)
			continue;
		if (!name)
			name = v[i].meter;
		double j_sum = 0, s_sum = 0, w = NAN;
		int k = 0, counter = 1;
		for (int j = i; j < n; j++)
			if (v[j].status == SB_POWER_MEASURED && strcmp(v[j].host, v[i].host) == 0 &&
			    strcasecmp(v[j].gpu, v[i].gpu) == 0) {
				j_sum += v[j].joules;
				s_sum += v[j].seconds;
				w = isnan(w) || v[j].watts_max > w ? v[j].watts_max : w;
				counter &= v[j].counter;
				k++;
			}
		if (k == 0) { /* every rank of this GPU saw a counter that did not move */
			stale++;
			continue;
		}
		double gj = j_sum / k, gs = s_sum / k;
		out->gpus++;
		joules += gj;
		watts += gs > 0 ? gj / gs : 0;
		seconds = gs > seconds ? gs : seconds;
		if (!isnan(w))
			wmax = isnan(wmax) || w > wmax ? w : wmax;
		counter ? counters++ : samples++;
	}
	if (out->gpus == 0 && stale == 0)
		return; /* no meter anywhere: no figure, no source */
	snprintf(out->source, sizeof out->source, "%.15s %s", name,
	         samples == 0    ? "energy counter"
	         : counters == 0 ? "power samples"
	                         : "energy counter and power samples");
	if (out->gpus == 0) {
		out->note = note_stale;
		return;
	}
	out->joules = joules;
	out->seconds = seconds;
	out->watts_mean = watts / out->gpus;
	out->watts_max = wmax;
	out->joules_per_op = ops > 0 ? joules / ops : NAN;
	out->note = stale                     ? note_some_stale
	            : none                    ? note_some_none
	            : counters && seconds < 1 ? note_short
	                                      : NULL;
}

void sb_power_merge(struct sb_power *into, const struct sb_power *more)
{
	if (!more->source[0])
		return;
	if (!into->source[0] || into->gpus == 0) {
		*into = *more;
		return;
	}
	if (more->gpus == 0) {
		into->note = note_some_stale;
		return;
	}
	double s = into->seconds + more->seconds;
	/* Per-GPU power over the rounds together: weighted by each round's time. */
	into->watts_mean =
	    s > 0 ? (into->watts_mean * into->seconds + more->watts_mean * more->seconds) / s
	          : into->watts_mean;
	if (!isnan(more->watts_max))
		into->watts_max = isnan(into->watts_max) || more->watts_max > into->watts_max
		                      ? more->watts_max
		                      : into->watts_max;
	into->joules += more->joules;
	into->seconds = s;
	into->ops += more->ops;
	into->joules_per_op = into->ops > 0 ? into->joules / into->ops : NAN;
	if (!into->note)
		into->note = more->note;
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *sb_power_json(const struct sb_power *p)
{
	if (!p->source[0])
		return NULL;
	json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:s}", "watts_mean", num(p->watts_mean),
	                      "watts_max", num(p->watts_max), "joules", num(p->joules),
	                      "joules_per_op", num(p->joules_per_op), "seconds", num(p->seconds),
	                      "operations", num(p->ops), "gpus", p->gpus, "source", p->source);
	if (o && p->note)
		json_object_set_new(o, "note", json_string(p->note));
	return o;
}
