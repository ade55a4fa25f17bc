#include "driver.h"
#include "rng.h"

#include "error.h"
#include "power.h"
#include "report.h"
#include "timer.h"
#include "watchdog.h"
#include "world.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct sb_opt sb_common_opts[] = {
    {"min-bytes", 'b', SB_OPT_SIZE, "SIZE", "4", NULL, 1,
     "smallest message size (K/M/G = 2^10/2^20/2^30)"},
    {"max-bytes", 'e', SB_OPT_SIZE, "SIZE", "64M", NULL, 1, "largest message size"},
    {"step-factor", 'f', SB_OPT_INT, "F", "2", NULL, 2,
     "multiply the size by F from one point to the next"},
    {"iters", 'n', SB_OPT_INT, "N", NULL, NULL, 1,
     "fixed number of timed iterations per point (default: adaptive)"},
    {"warmup", 'w', SB_OPT_INT, "N", "10", NULL, 0,
     "warm-up iterations per point (fewer once a fifth of --max-time has passed)"},
    {"check", 'c', SB_OPT_INT, "N", "1", NULL, 0,
     "check iterations per point, outside the timed loop (0: off)"},
    {"precision", 0, SB_OPT_DOUBLE, "PCT", "2", NULL, 0.001,
     "stop when the 95% CI of the median is within PCT% of it"},
    {"max-time", 0, SB_OPT_DOUBLE, "SEC", "3", NULL, 0.001,
     "stop a point after SEC seconds of timed iterations"},
    {"max-iters", 0, SB_OPT_INT, "N", "100000", NULL, 1,
     "never take more than N samples of one point"},
    {"min-iters", 0, SB_OPT_INT, "N", "100", NULL, 1,
     "samples a point needs before the precision target may end it"},
    {"min-time", 0, SB_OPT_DOUBLE, "SEC", "0.01", NULL, 0,
     "seconds of timed iterations a point needs before the precision target may end it"},
    {"rounds", 0, SB_OPT_INT, "K", "1", NULL, 1,
     "repeat the whole sweep K times, interleaved (shuffled, the last in sweep order), each "
     "round with 1/K of a point's minimums and limits; the headline is the median of the "
     "pooled samples"},
    {"seed", 0, SB_OPT_INT, "N", "1", NULL, 0, "seed of the rounds' point order"},
    {"timeout", 0, SB_OPT_DOUBLE, "SEC", "0", NULL, 0,
     "end the job if one point takes longer than SEC (0: no watchdog)"},
    {"timeout-grace", 0, SB_OPT_DOUBLE, "SEC", "0", NULL, 0,
     "after a point's --timeout, every rank (its record written) waits SEC seconds more "
     "before it ends, so that the launcher's own failure detection can end the job first and "
     "name a lost host; the default is $SB_TIMEOUT_GRACE where set (scripts/netns-cluster "
     "sets it from its keepalive)"},
    {"series-samples", 0, SB_OPT_FLAG, NULL, NULL, NULL, 0,
     "self-timed benchmarks: every value of their series in the record, not only summaries"},
    {"gpu-timing", 0, SB_OPT_CHOICE, "MODE", "pipelined", "pipelined|latency", 0,
     "GPU backends' headline: pipelined (K operations back to back between syncs, per "
     "operation: nccl-tests' method) or latency (a sync after each operation); both are "
     "measured"},
    {"batch", 0, SB_OPT_INT, "K", "0", NULL, 0,
     "operations per pipelined sample (0: enough for 100 us, at least 20)"},
    {"mpi-thread", 0, SB_OPT_CHOICE, "LEVEL", "single", SB_THREAD_CHOICES, 0,
     "MPI thread level to ask for (levels above single cost time in Open MPI's message path)"},
    {"hugepages", 0, SB_OPT_FLAG, NULL, NULL, NULL, 0,
     "host buffers 2 MiB aligned and madvise(MADV_HUGEPAGE)"},
    {"bind", 0, SB_OPT_CHOICE, "MODE", "keep", SB_BIND_CHOICES, 0,
     "keep mpirun's binding, auto (cores near the rank's GPU, or NUMA nodes round-robin), none"},
    {"device", 0, SB_OPT_INT, "N", "-1", NULL, -1,
     "GPU to use (GPU backends; default: local rank modulo the host's GPUs)"},
    {"cuda-graph", 'G', SB_OPT_FLAG, NULL, NULL, NULL, 0,
     "replay each step from a CUDA graph (nccl backend; for launch-bound small sizes)"},
    {"backend", 0, SB_OPT_STRING, "NAME", "mpi", NULL, 0, "how bytes move: see 'scalebench list'"},
    {"out", 0, SB_OPT_STRING, "DIR", "runs", NULL, 0, "directory for the run file"},
    {"json", 0, SB_OPT_FLAG, NULL, NULL, NULL, 0,
     "print the point records as JSON Lines on stdout instead of the table"},
    {"quiet", 'q', SB_OPT_FLAG, NULL, NULL, NULL, 0, "no progress messages on stderr"},
    {"help", 'h', SB_OPT_FLAG, NULL, NULL, NULL, 0, "this help"},
    {0},
};

void sb_method_from_args(struct sb_method *m, const struct sb_args *a)
{
	memset(m, 0, sizeof *m);
	m->warmup = (size_t)sb_arg_int(a, "warmup");
	m->iters = sb_arg_given(a, "iters") ? (size_t)sb_arg_int(a, "iters") : 0;
	m->checks = (size_t)sb_arg_int(a, "check");
	m->precision = sb_arg_double(a, "precision") / 100.0;
	m->max_time = sb_arg_double(a, "max-time");
	m->max_iters = (size_t)sb_arg_int(a, "max-iters");
	if (m->iters > m->max_iters)
		m->max_iters = m->iters;
	m->timeout = sb_arg_double(a, "timeout");
	m->min_iters = (size_t)sb_arg_int(a, "min-iters");
	m->min_time = sb_arg_double(a, "min-time");
	/* A limit below a default minimum lowers the minimum (--max-time 0.005 alone still lets
	 * the precision target end a point); both given and crossed is bad input (validate). */
	if (m->min_time > m->max_time)
		m->min_time = m->max_time;
	if (m->min_iters > m->max_iters)
		m->min_iters = m->max_iters;
	m->rounds = (int)sb_arg_int(a, "rounds");
	m->seed = (unsigned long long)sb_arg_int(a, "seed");
	m->gpu_latency = strcmp(sb_arg_str(a, "gpu-timing"), "latency") == 0;
	m->batch = (size_t)sb_arg_int(a, "batch");
	m->series_samples = sb_arg_flag(a, "series-samples");
}

static long long clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double sb_clock_resolution(void)
{
	/* The step: the largest s such that nearly all (90%) differences between reads are
	 * whole multiples of s. A TSC clock steps by 1 ns; some virtual clocks advance
	 * in 10 ns steps with an odd nanosecond now and then (20, 30, and a few 21 and 31 ns
	 * here), which a plain gcd over every difference would take for a 1 ns step. */
	enum { N = 20000 };
	static long long d[N];
	long long prev = clock_ns(), least = 0;
	for (int i = 0; i < N; i++) {
		/* Reads spaced by varying work, so a steady read cost (every gap 20 ns on a quiet
		 * core) cannot pass for the step of a 1 ns clock. */
		for (volatile int k = 0; k < (i % 13) * 3; k++)
			;
		long long a = clock_ns();
		d[i] = a - prev;
		prev = a;
		if (d[i] > 0 && (least == 0 || d[i] < least))
			least = d[i];
	}
	if (least > 1000) /* a coarse clock: the least difference is the step */
		return 1e-9 * (double)least;
	for (long long st = least; st > 1; st--) {
		int pos = 0, mult = 0;
		for (int i = 0; i < N; i++)
			if (d[i] > 0) {
				pos++;
				mult += d[i] % st == 0;
			}
		if (mult >= pos - pos / 10)
			return 1e-9 * (double)st;
	}
	return 1e-9;
}

/* 1e9 samples are 8 GB of doubles, three times over (samples, scratch, batch). */
#define SB_MAX_SAMPLES 1000000000LL

int sb_method_validate(const struct sb_args *a, char *err, size_t errlen)
{
	static const char *const counts[] = {"iters", "max-iters", "warmup",
	                                     "check", "min-iters", "batch"};
	for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
		if (sb_arg_int(a, counts[i]) > SB_MAX_SAMPLES) {
			snprintf(err, errlen, "--%s %lld is more than %lld", counts[i],
			         sb_arg_int(a, counts[i]), SB_MAX_SAMPLES);
			return SB_EINVAL;
		}
	if (sb_arg_int(a, "rounds") > 1000) {
		snprintf(err, errlen, "--rounds %lld is more than 1000", sb_arg_int(a, "rounds"));
		return SB_EINVAL;
	}
	if (sb_arg_given(a, "min-time") && sb_arg_given(a, "max-time") &&
	    sb_arg_double(a, "min-time") > sb_arg_double(a, "max-time")) {
		snprintf(err, errlen, "--min-time %g is more than --max-time %g",
		         sb_arg_double(a, "min-time"), sb_arg_double(a, "max-time"));
		return SB_EINVAL;
	}
	return 0;
}

/* Timed iterations are taken in batches; between batches one control reduction turns the
 * batch's per-rank times into per-iteration maxima over ranks and carries the slowest rank's
 * elapsed time, so every rank holds identical data and takes the same stop decision without a
 * separate broadcast.
 *
 * buf holds k headline samples, then (asynchronous backends) k device-event samples and k
 * samples of the other timing, then the elapsed time: 1 + k x nser values. */
struct timing {
	int async, events, hold, piped; /* what this point measures (see sb_driver_measure) */
	size_t K; /* steps per pipelined sample */
	size_t nser; /* series per sample: 1, or 3 on asynchronous backends */
};

/* Operations timed by events behind one hold: a pipelined sample's, at most 128 (a full
 * launch queue would block the host in the launch until the hold gives up: gpu.h). */
static size_t held(size_t K)
{
	return K < 128 ? K : 128;
}

static int steps(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt, size_t n)
{
	int rc = 0;
	for (size_t j = 0; j < n && rc == 0; j++)
		rc = b->step(x, pt);
	return rc;
}

/* One asynchronous sample: per-operation latency, pipelined time and the events of the
 * headline's timing with the stream held, so the events see the GPU work alone. */
static int async_sample(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt,
                        const struct timing *tm, int latency_first, double *lat, double *pip,
                        double *dev)
{
	struct sb_comm *c = x->comm;
	const struct sb_backend *be = c->be;
	int rc;
	if ((rc = sb_ctl_barrier(c)))
		return rc;
	double t0 = sb_comm_now(c);
	if ((rc = b->step(x, pt)) || (rc = sb_comm_sync(c)))
		return rc;
	*lat = sb_comm_now(c) - t0;
	if (tm->piped) {
		if ((rc = sb_ctl_barrier(c)))
			return rc;
		t0 = sb_comm_now(c);
		if ((rc = steps(b, x, pt, tm->K)) || (rc = sb_comm_sync(c)))
			return rc;
		*pip = (sb_comm_now(c) - t0) / (double)tm->K;
	}
	if (tm->events) {
		size_t kk = latency_first || !tm->piped ? 1 : held(tm->K);
		if (tm->hold && (rc = be->hold(c)))
			return rc;
		rc = be->event_start(c);
		if (rc == 0)
			rc = steps(b, x, pt, kk);
		if (rc == 0)
			rc = be->event_stop(c);
		int rr = tm->hold ? be->release(c) : 0;
		if (rc == 0)
			rc = rr;
		if (rc == 0)
			rc = sb_comm_sync(c);
		double d = 0;
		if (rc == 0)
			rc = be->event_read(c, &d);
		/* A hold that gave up before its release: the events still timed the
		 * operations, with some of their launches (gpu.h warns once); keep the sample. */
		if (rc == SB_ETIMEOUT)
			rc = 0;
		if (rc)
			return rc;
		*dev = d / (double)kk;
	}
	return 0;
}

static int run_batch(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt,
                     const struct timing *tm, int latency, double *buf, size_t k, double t_start)
{
	struct sb_comm *c = x->comm;
	const struct sb_backend *be = c->be;
	int rc = 0;
	if (!tm->async && !be->now && !be->sync) {
		/* Host backends: nothing in the timed region but the step itself and two inline
		 * clock reads; errors are looked at after the second one. */
		for (size_t i = 0; i < k && rc == 0; i++) {
			if ((rc = sb_ctl_barrier(c)))
				return rc;
			double t0 = sb_now();
			rc = b->step(x, pt);
			buf[i] = sb_now() - t0;
		}
	} else if (!tm->async) {
		/* A backend with its own clock or sync but no asynchronous data path (the fake
		 * one): the step and the wait for it. */
		for (size_t i = 0; i < k && rc == 0; i++) {
			if ((rc = sb_ctl_barrier(c)))
				return rc;
			double t0 = sb_comm_now(c);
			if ((rc = b->step(x, pt)) == 0)
				rc = sb_comm_sync(c);
			buf[i] = sb_comm_now(c) - t0;
		}
	} else {
		for (size_t i = 0; i < k && rc == 0; i++) {
			double lat = 0, pip = 0, dev = 0;
			rc = async_sample(b, x, pt, tm, latency, &lat, &pip, &dev);
			int head_lat = latency || !tm->piped;
			buf[i] = head_lat ? lat : pip;
			buf[k + i] = dev;
			buf[2 * k + i] = head_lat ? pip : lat;
		}
	}
	if (rc)
		return rc;
	buf[tm->nser * k] = sb_comm_now(c) - t_start;
	return sb_ctl_max(c, buf, tm->nser * k + 1);
}

/* The interval never narrower than what the clock can tell apart: samples on a grid of
 * step `res` put the true median anywhere within half a step of the observed one. */
static int floor_ci(struct sb_summary *s, double res)
{
	res /= 2;
	if (!s->ci_valid || !(res > 0))
		return 0;
	int lo = s->ci_lo >= s->median - res, hi = s->ci_hi <= s->median + res;
	if (lo)
		s->ci_lo = s->median - res;
	if (hi)
		s->ci_hi = s->median + res;
	return lo && hi; /* the interval is the clock's alone */
}

static int grow(double **v, size_t n)
{
	double *p = realloc(*v, (n ? n : 1) * sizeof **v);
	if (!p)
		return SB_ENOMEM;
	*v = p;
	return 0;
}

int sb_driver_measure(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt,
                      const struct sb_method *m, struct sb_point_result *r)
{
	struct sb_comm *c = x->comm;
	const struct sb_backend *be = c->be;
	int rc;
	memset(r, 0, sizeof *r);
	r->point = pt;
	/* Board power over the timed span, on backends with a GPU (power.h). */
	int metered = (be->caps & SB_CAP_DEVICE_MEM) != 0;
	struct sb_power_span ps = {.on = 0};
	for (size_t j = 0; j < x->nseries; j++)
		sb_series_reset(&x->series[j]);

	struct timing tm = {.async = m->async, .K = 1, .nser = 1};
	if (tm.async) {
		/* A self-timed benchmark's events would run its whole step again for nothing
		 * it reports. */
		tm.events = be->event_start && be->event_stop && be->event_read &&
		            !(b->flags & SB_BENCH_SELF_TIMED);
		tm.hold = tm.events && be->hold && be->release;
		tm.piped = !(b->flags & SB_BENCH_SELF_TIMED);
		tm.nser = 3;
	}
	int latency = m->gpu_latency || !tm.piped;

	/* Sample storage first, so that running out of memory happens before any collective. */
	size_t cap = m->iters ? m->iters : 64;
	double *samples = NULL, *scratch = NULL, *batch = NULL, *dsamples = NULL, *asamples = NULL;
	if (grow(&samples, cap) || grow(&scratch, cap) || grow(&batch, tm.nser * cap + 1) ||
	    (tm.async && (grow(&dsamples, cap) || grow(&asamples, cap)))) {
		sb_log_fault("cannot allocate %zu samples for %s", cap, pt->label);
		rc = SB_ENOMEM;
		goto fail;
	}

	/* Warm-up: -w iterations, or fewer once a fifth of --max-time has passed (slowest rank's
	 * clock, so all ranks agree); at least one when -w > 0. The fastest warm-up iteration
	 * sizes the pipelined batch. */
	double t = sb_comm_now(c), fastest = INFINITY;
	for (size_t i = 0; i < m->warmup; i++) {
		double t1 = sb_comm_now(c);
		if ((rc = sb_ctl_barrier(c)) || (rc = b->step(x, pt)) || (rc = sb_comm_sync(c)))
			goto fail;
		double one = sb_comm_now(c) - t1;
		fastest = one < fastest ? one : fastest;
		r->warmup_done++;
		double el[2] = {sb_comm_now(c) - t, fastest};
		if ((rc = sb_ctl_max(c, el, 2)))
			goto fail;
		fastest = el[1];
		if (el[0] > m->max_time / 5)
			break;
	}
	if (tm.piped) {
		if (m->batch)
			tm.K = m->batch;
		else {
			/* Enough operations for 100 us, at least nccl-tests' 20, at most 1000. */
			double want =
			    isfinite(fastest) && fastest > 0 ? ceil(100e-6 / fastest) : 20;
			tm.K = want < 20 ? 20 : want > 1000 ? 1000 : (size_t)want;
		}
		r->batch = tm.K;
	}
	if (tm.async) {
		r->headline = latency ? "latency" : "pipelined";
		r->alt = tm.piped ? (latency ? "pipelined" : "latency") : NULL;
	}
	/* What the clock can tell apart in one headline sample. */
	double res = m->resolution / (latency ? 1.0 : (double)tm.K);

	/* Adaptive: a first batch of 16 (the CI needs n >= 8), then batches that double the
	 * sample count, shrunk to what the remaining time allows at the current median. */
	size_t k = m->iters ? m->iters : b->validity.kind == SB_VALID_DURATION ? 1 : 16;
	if (k > m->max_iters)
		k = m->max_iters;
	if (metered)
		sb_power_begin(&ps, c);
	double t_start = sb_comm_now(c);
	for (;;) {
		if (r->n + k > cap) {
			size_t ncap = cap;
			while (r->n + k > ncap)
				ncap *= 2;
			if (grow(&samples, ncap) || grow(&scratch, ncap) ||
			    grow(&batch, tm.nser * ncap + 1) ||
			    (tm.async && (grow(&dsamples, ncap) || grow(&asamples, ncap)))) {
				sb_log_fault("cannot allocate %zu samples for %s", ncap, pt->label);
				rc = SB_ENOMEM;
				goto fail;
			}
			cap = ncap;
		}
		x->timed = 1;
		rc = run_batch(b, x, pt, &tm, latency, batch, k, t_start);
		x->timed = 0;
		if (rc)
			goto fail;
		memcpy(samples + r->n, batch, k * sizeof *batch);
		if (tm.async) {
			memcpy(dsamples + r->n, batch + k, k * sizeof *batch);
			memcpy(asamples + r->n, batch + 2 * k, k * sizeof *batch);
		}
		r->n += k;
		r->elapsed = batch[tm.nser * k];
		sb_stats_summarize(samples, r->n, scratch, &r->summary);
		int at_clock = floor_ci(&r->summary, res);
		r->rel_ci = sb_stats_rel_ci_halfwidth(&r->summary);

		if (m->iters) {
			r->stop = SB_STOP_ITERS;
			break;
		}
		if (b->validity.kind == SB_VALID_DURATION) {
			/* Enough time, and enough values of every series over all ranks (but the
			 * optional ones). */
			long long least = x->nseries ? LLONG_MAX : 0;
			for (size_t j = 0; j < x->nseries && least; j++) {
				if (x->series[j].optional) /* the same on every rank */
					continue;
				long long cnt = (long long)x->series[j].n;
				if ((rc = sb_ctl_sum(c, &cnt, 1)))
					goto fail;
				least = cnt < least ? cnt : least;
			}
			if (r->elapsed >= b->validity.min_duration &&
			    least >= (long long)b->validity.min_count) {
				r->stop = SB_STOP_DURATION;
				break;
			}
		}
		/* The minimums hold the target back only while the limits leave room for them. */
		int limit = r->n >= m->max_iters || r->elapsed >= m->max_time;
		int enough = (r->n >= m->min_iters && r->elapsed >= m->min_time) || limit;
		if (r->rel_ci <= m->precision && enough && b->validity.kind == SB_VALID_MEDIAN_CI) {
			r->stop = SB_STOP_PRECISION;
			break;
		}
		if (at_clock && enough && b->validity.kind == SB_VALID_MEDIAN_CI) {
			r->stop = SB_STOP_CLOCK;
			break;
		}
		if (r->elapsed >= m->max_time) {
			r->stop = SB_STOP_MAX_TIME;
			break;
		}
		if (r->n >= m->max_iters) {
			r->stop = SB_STOP_MAX_ITERS;
			break;
		}
		/* Iterations that fit in the time left, from the mean cost of one so far
		 * (barrier included); at least one. Where only the minimums keep the point going,
		 * just what they still ask for. */
		double per = r->elapsed / (double)r->n;
		double fit = per > 0 ? (m->max_time - r->elapsed) / per : (double)r->n;
		k = r->n;
		if (r->rel_ci <= m->precision || at_clock) {
			double need = per > 0 ? ceil((m->min_time - r->elapsed) / per) : 0;
			if (r->n < m->min_iters && need < (double)(m->min_iters - r->n))
				need = (double)(m->min_iters - r->n);
			if (need >= 1 && need < (double)k)
				k = (size_t)need;
		}
		if ((double)k > fit)
			k = fit < 1 ? 1 : (size_t)fit;
		if (r->n + k > m->max_iters)
			k = m->max_iters - r->n;
	}
	if (metered) {
		/* Every operation the span ran (the energy of all of them is in it): per sample,
		 * the one step, or async_sample's latency one, K pipelined and the events'. */
		double per = 1;
		if (tm.piped)
			per += (double)tm.K;
		if (tm.events)
			per += latency || !tm.piped ? 1 : (double)held(tm.K);
		if ((rc = sb_power_end(&ps, c, per * (double)r->n, &r->power)))
			goto fail;
	}
	if (tm.async && tm.events) {
		sb_stats_summarize(dsamples, r->n, scratch, &r->dev_summary);
		floor_ci(&r->dev_summary,
		         SB_EVENT_RESOLUTION / (latency ? 1.0 : (double)held(tm.K)));
		r->dev_samples = dsamples;
		dsamples = NULL;
	}
	if (tm.async && tm.piped) {
		sb_stats_summarize(asamples, r->n, scratch, &r->alt_summary);
		floor_ci(&r->alt_summary, m->resolution / (latency ? (double)tm.K : 1.0));
		r->alt_samples = asamples;
		asamples = NULL;
	}
	free(dsamples);
	free(asamples);
	free(scratch);
	free(batch);
	r->samples = samples;
	return 0;
fail:
	sb_power_abandon(&ps);
	free(samples);
	free(scratch);
	free(batch);
	free(dsamples);
	free(asamples);
	return rc;
}

/* Check iterations after the timed ones; wrong counts summed over ranks. */
static int run_checks(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt,
                      size_t checks, struct sb_point_result *r)
{
	if (!(b->flags & SB_BENCH_CAN_CHECK) || checks == 0)
		return 0;
	long long wrong = 0;
	for (size_t i = 0; i < checks; i++) {
		size_t w = 0;
		int rc = b->check(x, pt, (unsigned)i + 1, &w);
		if (rc)
			return rc;
		wrong += (long long)w;
		r->checks_done++;
	}
	int rc = sb_ctl_sum(x->comm, &wrong, 1);
	r->wrong = wrong;
	return rc;
}

/* A fault on this rank in the middle of a point: the other ranks wait, or soon will, in a
 * collective this rank never joins, so the job ends here, after rank 0 closed the run file.
 * With one process (or the fake backend) the error is simply returned. */
static int fault(struct sb_comm *c, struct sb_report *rep, const struct sb_point *pt, int rc)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s during point '%s'", sb_strerror(rc), pt->label);
	if (c->rank == 0)
		sb_report_fail(rep, msg);
	if (c->size == 1)
		sb_log_fault("%s", msg); /* nobody else will say it */
	if (c->size > 1 && c->be->ctl->abort) {
		sb_log_fault("%s; ending the job", msg);
		sb_ctl_abort(c, sb_exit_status(rc));
	}
	return rc;
}

/* A point's samples pooled over rounds. */
struct pool {
	double *v[3]; /* headline, device events, the other timing */
	size_t n, cap;
	struct sb_round *rounds;
	struct sb_power power; /* the rounds' together */
};

static int pool_add(struct pool *p, const struct sb_point_result *r, int round, int order)
{
	if (p->n + r->n > p->cap) {
		size_t nc = p->cap ? p->cap : 256;
		while (p->n + r->n > nc)
			nc *= 2;
		for (int s = 0; s < 3; s++)
			if (grow(&p->v[s], nc))
				return SB_ENOMEM;
		p->cap = nc;
	}
	const double *src[3] = {r->samples, r->dev_samples, r->alt_samples};
	for (int s = 0; s < 3; s++)
		if (src[s])
			memcpy(p->v[s] + p->n, src[s], r->n * sizeof *src[s]);
	p->n += r->n;
	sb_power_merge(&p->power, &r->power);
	const struct sb_summary *su = &r->summary;
	p->rounds[round] = (struct sb_round){.n = r->n,
	                                     .median = su->median,
	                                     .ci_lo = su->ci_valid ? su->ci_lo : NAN,
	                                     .ci_hi = su->ci_valid ? su->ci_hi : NAN,
	                                     .rel_ci = r->rel_ci,
	                                     .elapsed = r->elapsed,
	                                     .stop = r->stop,
	                                     .order = order};
	return 0;
}

/* The last round's result becomes the pooled one: samples of every round, summaries of the
 * pool (the headline is the median of the pooled samples), the per-round figures. */
static int pool_finish(struct pool *p, struct sb_point_result *r, const struct sb_method *m,
                       int nrounds)
{
	double *scratch = malloc((p->n ? p->n : 1) * sizeof *scratch);
	if (!scratch)
		return SB_ENOMEM;
	size_t total = 0;
	double elapsed = 0;
	for (int k = 0; k < nrounds; k++) {
		total += p->rounds[k].n;
		elapsed += p->rounds[k].elapsed;
	}
	free(r->samples);
	r->samples = p->v[0];
	p->v[0] = NULL;
	r->n = total;
	r->elapsed = elapsed;
	int latency = !r->headline || strcmp(r->headline, "latency") == 0;
	double K = r->batch ? (double)r->batch : 1.0;
	sb_stats_summarize(r->samples, r->n, scratch, &r->summary);
	floor_ci(&r->summary, m->resolution / (latency ? 1.0 : K));
	r->rel_ci = sb_stats_rel_ci_halfwidth(&r->summary);
	if (r->dev_samples) {
		free(r->dev_samples);
		r->dev_samples = p->v[1];
		p->v[1] = NULL;
		sb_stats_summarize(r->dev_samples, r->n, scratch, &r->dev_summary);
		floor_ci(&r->dev_summary,
		         SB_EVENT_RESOLUTION /
		             (latency ? 1.0 : (double)held(r->batch ? r->batch : 1)));
	}
	if (r->alt_samples) {
		free(r->alt_samples);
		r->alt_samples = p->v[2];
		p->v[2] = NULL;
		sb_stats_summarize(r->alt_samples, r->n, scratch, &r->alt_summary);
		floor_ci(&r->alt_summary, m->resolution / (latency ? K : 1.0));
	}
	free(scratch);
	/* The pool's stop: the precision target where every round reached it, else the first
	 * other reason a round stopped for. */
	r->stop = p->rounds[0].stop;
	for (int k = 0; k < nrounds; k++)
		if (strcmp(p->rounds[k].stop, SB_STOP_PRECISION) != 0) {
			r->stop = p->rounds[k].stop;
			break;
		}
	r->rounds = p->rounds;
	r->nrounds = (size_t)nrounds;
	r->power = p->power;
	p->rounds = NULL;
	return 0;
}

static void pool_free(struct pool *p)
{
	for (int s = 0; s < 3; s++)
		free(p->v[s]);
	free(p->rounds);
	memset(p, 0, sizeof *p);
}

/* The last round in sweep order (it writes the records, so the table reads as a sweep);
 * earlier rounds a Fisher-Yates shuffle from (seed, round). */
static void round_order(size_t *ord, size_t n, int round, int rounds, unsigned long long seed)
{
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	if (round == rounds - 1)
		return;
	struct sb_rng r;
	sb_rng_seed(&r, seed, (uint64_t)round);
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)sb_rng_below(&r, i);
		size_t tmp = ord[i - 1];
		ord[i - 1] = ord[j];
		ord[j] = tmp;
	}
}

/* One line on stderr, rewritten in place: where the sweep is and how long is left. */
static void progress(const struct sb_bench *b, size_t done, size_t total, double t0, int end)
{
	if (end) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		return;
	}
	double el = sb_now() - t0;
	fprintf(stderr, "\r\033[K%s: point %zu of %zu, %.1f s elapsed", b->name, done + 1, total,
	        el);
	if (done > 0)
		fprintf(stderr, ", ~%.0f s left", el / (double)done * (double)(total - done));
	fflush(stderr);
}

static int drift_check(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt,
                       const struct sb_method *m, const struct sb_summary *first,
                       struct sb_drift *d)
{
	struct sb_point_result r;
	int rc;
	if ((rc = b->prepare(x, pt)) || (rc = sb_driver_measure(b, x, pt, m, &r)))
		return rc;
	json_decref(x->detail);
	x->detail = NULL;
	*d = (struct sb_drift){.label = pt->label,
	                       .start = first->median,
	                       .start_lo = first->ci_lo,
	                       .start_hi = first->ci_hi,
	                       .end = r.summary.median,
	                       .end_lo = r.summary.ci_lo,
	                       .end_hi = r.summary.ci_hi};
	/* Drifted: the two intervals apart, and by more than the precision asked for (a
	 * difference the run could not have resolved within one point is not news). */
	double rel = fabs(d->end - d->start) / fmin(d->end, d->start);
	d->drifted = first->ci_valid && r.summary.ci_valid &&
	             (d->end_lo > d->start_hi || d->end_hi < d->start_lo) && rel > m->precision;
	sb_point_result_free(&r);
	return 0;
}

/* A self-timed benchmark's series after its point: gathered at rank 0 for the metrics hook,
 * and their summaries (values too with --series-samples) for the record. Collective. */
static int gather_series(struct sb_ctx *x, const struct sb_method *m, struct sb_point_result *r)
{
	if (!x->nseries)
		return 0;
	struct sb_series_all *all = calloc(x->nseries, sizeof *all);
	long long bad = !all;
	int rc = sb_ctl_sum(x->comm, &bad, 1);
	if (rc == 0 && bad)
		rc = SB_ENOMEM;
	if (rc == 0)
		rc = sb_series_gather(x->comm, x->series, x->nseries, all);
	if (rc) {
		free(all);
		return rc;
	}
	if (x->comm->rank != 0) {
		free(all);
		return 0;
	}
	x->gathered = all;
	r->series = json_object();
	for (size_t j = 0; j < x->nseries; j++)
		if (!x->series[j].internal)
			json_object_set_new(
			    r->series, x->series[j].name,
			    sb_series_json(x->series[j].unit, all[j].pool, all[j].total,
			                   m->series_samples || x->series[j].values));
	return 0;
}

static void release_series(struct sb_ctx *x)
{
	struct sb_series_all *all = (struct sb_series_all *)x->gathered;
	for (size_t j = 0; all && j < x->nseries; j++)
		sb_series_all_free(&all[j]);
	free(all);
	x->gathered = NULL;
}

int sb_driver_run(const struct sb_bench *b, struct sb_comm *c, const struct sb_args *a,
                  struct sb_report *rep)
{
	struct sb_ctx x = {.comm = c, .args = a, .topo = rep ? rep->topo : NULL};
	struct sb_method m;
	sb_method_from_args(&m, a);
	if (b->iters_opt && sb_arg_given(a, b->iters_opt)) /* its own name for -n */
		m.iters = (size_t)sb_arg_int(a, b->iters_opt);
	if (m.iters > m.max_iters)
		m.max_iters = m.iters;
	m.resolution = rep ? rep->resolution : 0;
	m.async = rep ? rep->async : 0;
	m.progress = rep && rep->progress;
	if (b->flags & SB_BENCH_SELF_TIMED)
		m.rounds = 1;
	struct sb_method mr;
	sb_method_per_round(&m, &mr);
	int rc = b->setup(&x);
	int set_up = rc == 0;
	struct sb_point *pts = NULL;
	size_t npts = 0;
	if (rc == 0)
		rc = b->points(&x, &pts, &npts);
	struct pool *pool = NULL;
	size_t *ord = NULL;
	if (rc == 0 && (!(ord = malloc(npts * sizeof *ord)) ||
	                (m.rounds > 1 && !(pool = calloc(npts, sizeof *pool)))))
		rc = SB_ENOMEM;
	for (size_t i = 0; rc == 0 && pool && i < npts; i++)
		if (!(pool[i].rounds = calloc((size_t)m.rounds, sizeof *pool[i].rounds)))
			rc = SB_ENOMEM;
	if (rc) {
		struct sb_point none = {.label = "(setup)"};
		rc = fault(c, rep, &none, rc);
		goto out;
	}
	if (c->rank == 0)
		sb_report_begin(rep, b, c, &m);

	int failed_check = 0;
	struct sb_summary first = {0}; /* the first point measured, to measure again at the end */
	size_t ifirst = 0;
	double t0 = sb_now();
	size_t total = npts * (size_t)m.rounds, done = 0;
	for (int round = 0; round < m.rounds && rc == 0; round++) {
		int last = round == m.rounds - 1;
		round_order(ord, npts, round, m.rounds, m.seed);
		for (size_t o = 0; o < npts && rc == 0; o++, done++) {
			size_t i = ord[o];
			struct sb_point_result r;
			if (m.progress && c->rank == 0)
				progress(b, done, total, t0, 0);
			sb_watchdog_arm(pts[i].label, m.timeout);
			if ((rc = b->prepare(&x, &pts[i])) ||
			    (rc = sb_driver_measure(b, &x, &pts[i], &mr, &r))) {
				rc = fault(c, rep, &pts[i], rc);
				goto out;
			}
			if (round == 0 && o == 0) {
				first = r.summary;
				ifirst = i;
			}
			if (pool && (rc = pool_add(&pool[i], &r, round, (int)o))) {
				sb_point_result_free(&r);
				rc = fault(c, rep, &pts[i], rc);
				goto out;
			}
			if (!last) {
				/* Only the last round writes: its record pools every round. */
				json_decref(x.detail);
				x.detail = NULL;
				sb_point_result_free(&r);
				sb_watchdog_disarm();
				continue;
			}
			if (pool && (rc = pool_finish(&pool[i], &r, &m, m.rounds))) {
				sb_point_result_free(&r);
				rc = fault(c, rep, &pts[i], rc);
				goto out;
			}
			if ((rc = run_checks(b, &x, &pts[i], m.checks, &r))) {
				sb_point_result_free(&r);
				rc = fault(c, rep, &pts[i], rc);
				goto out;
			}
			if ((rc = gather_series(&x, &m, &r)) ||
			    (rc = b->metrics(&x, &pts[i], &r.summary, &r.metrics))) {
				release_series(&x);
				sb_point_result_free(&r);
				rc = fault(c, rep, &pts[i], rc);
				goto out;
			}
			release_series(&x);
			r.detail = x.detail;
			x.detail = NULL;
			if (r.wrong)
				failed_check = 1;
			if (m.progress && c->rank == 0)
				progress(b, 0, 0, 0, 1);
			if (c->rank == 0)
				rc = sb_report_point(rep, b, c, &m, &r);
			sb_point_result_free(&r);
			/* A failed write must stop every rank, not just rank 0. */
			long long st = rc;
			int rs = sb_ctl_sum(c, &st, 1);
			rc = rs ? rs : st < 0 ? SB_EIO : 0;
			sb_watchdog_disarm();
		}
	}
	if (m.progress && c->rank == 0)
		progress(b, 0, 0, 0, 1);
	/* Drift: the first point measured, again, now that the sweep is over. Not for a benchmark
	 * whose point is one long run (validity by duration: one sample, no interval to set
	 * against another, and measuring it again would double the run). */
	if (rc == 0 && npts > 0 && !m.iters && b->validity.kind != SB_VALID_DURATION) {
		struct sb_drift d;
		sb_watchdog_arm(pts[ifirst].label, m.timeout);
		if ((rc = drift_check(b, &x, &pts[ifirst], &mr, &first, &d))) {
			rc = fault(c, rep, &pts[ifirst], rc);
			goto out;
		}
		sb_watchdog_disarm();
		if (c->rank == 0)
			sb_report_drift(rep, b, &d);
	}
	if (c->rank == 0)
		sb_report_end_bench(rep, b);
	if (rc == 0 && failed_check)
		rc = SB_ECHECK;
out:
	/* Every way out: no watchdog left running, the benchmark's buffers released (a suite
	 * goes on to its next benchmark in one process). */
	sb_watchdog_disarm();
	if (m.progress && c->rank == 0)
		progress(b, 0, 0, 0, 1);
	json_decref(x.detail);
	x.detail = NULL;
	if (set_up)
		b->teardown(&x);
	sb_points_free(pts, npts);
	free(ord);
	for (size_t i = 0; pool && i < npts; i++)
		pool_free(&pool[i]);
	free(pool);
	return rc;
}

/* "11.5 GiB": for sizes that are not round. */
static const char *human(double bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	int u = 0;
	while (bytes >= 1024 && u < 6) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
	return buf;
}

int sb_driver_check_memory(const struct sb_bench *b, struct sb_comm *c, const struct sb_args *a,
                           double limit, const char *where, char *err, size_t errlen)
{
	if (!b->mem_need)
		return 0;
	struct sb_ctx x = {.comm = c, .args = a};
	struct sb_point *pts = NULL;
	size_t npts = 0;
	int rc = b->setup(&x);
	if (rc == 0)
		rc = b->points(&x, &pts, &npts);
	if (rc) {
		if (x.state)
			b->teardown(&x);
		sb_points_free(pts, npts);
		snprintf(err, errlen, "%s: %s while listing its points", b->name, sb_strerror(rc));
		return rc;
	}
	size_t worst = 0, fits = 0;
	double worst_need = 0;
	int have_fit = 0;
	for (size_t i = 0; i < npts; i++) {
		double need = (double)b->mem_need(&x, &pts[i]);
		if (need > worst_need) {
			worst_need = need;
			worst = i;
		}
		if (need <= limit && (!have_fit || pts[i].bytes > fits)) {
			fits = pts[i].bytes;
			have_fit = 1;
		}
	}
	rc = 0;
	if (npts && worst_need > limit) {
		char n1[32], n2[32], n3[32];
		int w = snprintf(err, errlen,
		                 "%s: the point '%s' needs %s per rank, more than the %s %s can "
		                 "have; ",
		                 b->name, pts[worst].label, human(worst_need, n1, sizeof n1),
		                 human(limit, n2, sizeof n2), where);
		if (w > 0 && (size_t)w < errlen) {
			if (b->mem_hint)
				b->mem_hint(&x, &pts[worst], limit, err + w, errlen - (size_t)w);
			else if (have_fit)
				snprintf(err + w, errlen - (size_t)w,
				         "the largest size that fits is %s (-e %s)",
				         human((double)fits, n1, sizeof n1),
				         sb_format_size(fits, n3, sizeof n3));
			else {
				/* No size of the sweep fits: the largest power of two that would.
				 */
				struct sb_point probe = pts[worst];
				size_t esz = probe.count ? probe.bytes / probe.count : 1;
				size_t p2 = 0;
				for (size_t sz = (size_t)1 << 62; sz >= esz && !p2; sz >>= 1) {
					probe.bytes = sz;
					probe.count = sz / (esz ? esz : 1);
					if ((double)b->mem_need(&x, &probe) <= limit)
						p2 = sz;
				}
				if (p2)
					snprintf(
					    err + w, errlen - (size_t)w,
					    "no size of the sweep fits; the largest that would "
					    "is %s (-e %s)",
					    human((double)p2, n1, sizeof n1),
					    sb_format_size(p2, n3, sizeof n3));
				else
					snprintf(err + w, errlen - (size_t)w,
					         "not even one element fits");
			}
		}
		rc = SB_EINVAL;
	}
	b->teardown(&x);
	sb_points_free(pts, npts);
	return rc;
}
