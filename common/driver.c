#include "driver.h"

#include "error.h"
#include "report.h"
#include "timer.h"
#include "watchdog.h"

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
    {"timeout", 0, SB_OPT_DOUBLE, "SEC", "0", NULL, 0,
     "end the job if one point takes longer than SEC (0: no watchdog)"},
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
	/* A benchmark's own name for a fixed count (the pipeline's --steps). */
	if (sb_arg_exists(a, "steps") && sb_arg_given(a, "steps"))
		m->iters = (size_t)sb_arg_int(a, "steps");
	m->checks = (size_t)sb_arg_int(a, "check");
	m->precision = sb_arg_double(a, "precision") / 100.0;
	m->max_time = sb_arg_double(a, "max-time");
	m->max_iters = (size_t)sb_arg_int(a, "max-iters");
	if (m->iters > m->max_iters)
		m->max_iters = m->iters;
	m->timeout = sb_arg_double(a, "timeout");
}

/* 1e9 samples are 8 GB of doubles, three times over (samples, scratch, batch). */
#define SB_MAX_SAMPLES 1000000000LL

int sb_method_validate(const struct sb_args *a, char *err, size_t errlen)
{
	static const char *const counts[] = {"iters", "max-iters", "warmup", "check"};
	for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
		if (sb_arg_int(a, counts[i]) > SB_MAX_SAMPLES) {
			snprintf(err, errlen, "--%s %lld is more than %lld", counts[i],
			         sb_arg_int(a, counts[i]), SB_MAX_SAMPLES);
			return SB_EINVAL;
		}
	return 0;
}

int sb_sizes_from_args(const struct sb_args *a, size_t align, size_t **out, size_t *n, char *err,
                       size_t errlen)
{
	size_t b = sb_arg_size(a, "min-bytes"), e = sb_arg_size(a, "max-bytes");
	size_t f = (size_t)sb_arg_int(a, "step-factor");
	char sb[32], se[32];
	if (b > e) {
		snprintf(err, errlen, "-b %s is larger than -e %s",
		         sb_format_size(b, sb, sizeof sb), sb_format_size(e, se, sizeof se));
		return SB_EINVAL;
	}
	if (e < align) {
		snprintf(err, errlen, "-e %s is smaller than one element (%zu bytes)",
		         sb_format_size(e, se, sizeof se), align);
		return SB_EINVAL;
	}
	size_t cap = 8, k = 0;
	size_t *v = malloc(cap * sizeof *v);
	if (!v)
		return SB_ENOMEM;
	for (size_t s = b;; s *= f) {
		size_t r = s / align * align;
		if (r >= align && (k == 0 || v[k - 1] != r)) {
			if (k == cap) {
				size_t *nv = realloc(v, (cap *= 2) * sizeof *v);
				if (!nv) {
					free(v);
					return SB_ENOMEM;
				}
				v = nv;
			}
			v[k++] = r;
		}
		if (s > e / f) /* the next size would pass e (or overflow) */
			break;
	}
	if (k == 0) {
		free(v);
		snprintf(err, errlen,
		         "no size from -b %s to -e %s is a whole number of %zu-byte elements",
		         sb_format_size(b, sb, sizeof sb), sb_format_size(e, se, sizeof se), align);
		return SB_EINVAL;
	}
	*out = v;
	*n = k;
	return 0;
}

/* Timed iterations are taken in batches; between batches one control reduction turns the
 * batch's per-rank times into per-iteration maxima over ranks and carries the slowest rank's
 * elapsed time, so every rank holds identical data and takes the same stop decision without a
 * separate broadcast. */
static int run_batch(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt,
                     double *buf, double *dbuf, size_t k, double t_start)
{
	struct sb_comm *c = x->comm;
	const struct sb_backend *be = c->be;
	int rc = 0;
	if (!be->now && !be->sync) {
		/* Host backends: nothing in the timed region but the step itself and two inline
		 * clock reads; errors are looked at after the second one. */
		for (size_t i = 0; i < k && rc == 0; i++) {
			if ((rc = be->barrier(c)))
				return rc;
			double t0 = sb_now();
			rc = b->step(x, pt);
			buf[i] = sb_now() - t0;
		}
	} else {
		/* Device backends: the host clock around the step and the wait for it (the
		 * headline), and where the backend has them, events around the step on its stream.
		 */
		for (size_t i = 0; i < k && rc == 0; i++) {
			if ((rc = be->barrier(c)))
				return rc;
			double t0 = sb_comm_now(c);
			if (dbuf)
				rc = be->event_start(c);
			if (rc == 0)
				rc = b->step(x, pt);
			if (rc == 0 && dbuf)
				rc = be->event_stop(c);
			if (rc == 0)
				rc = sb_comm_sync(c);
			buf[i] = sb_comm_now(c) - t0;
			if (rc == 0 && dbuf)
				rc = be->event_read(c, &dbuf[i]);
		}
	}
	if (rc)
		return rc;
	buf[k] = sb_comm_now(c) - t_start;
	if (dbuf && (rc = be->ctl_max(c, dbuf, k)))
		return rc;
	return be->ctl_max(c, buf, k + 1);
}

int sb_driver_measure(const struct sb_bench *b, struct sb_ctx *x, const struct sb_point *pt,
                      const struct sb_method *m, struct sb_point_result *r)
{
	struct sb_comm *c = x->comm;
	const struct sb_backend *be = c->be;
	int rc;
	memset(r, 0, sizeof *r);
	r->point = pt;

	/* Sample storage first, so that running out of memory happens before any collective. */
	size_t cap = m->iters ? m->iters : 64;
	double *samples = malloc(cap * sizeof *samples);
	double *scratch = malloc(cap * sizeof *scratch);
	double *batch = malloc((cap + 1) * sizeof *batch);
	int events = be->event_start && be->event_stop && be->event_read;
	double *dsamples = events ? malloc(cap * sizeof *dsamples) : NULL;
	double *dbatch = events ? malloc(cap * sizeof *dbatch) : NULL;
	if (!samples || !scratch || !batch || (events && (!dsamples || !dbatch))) {
		sb_log_fault("cannot allocate %zu samples for %s", cap, pt->label);
		rc = SB_ENOMEM;
		goto fail;
	}

	/* Warm-up: -w iterations, or fewer once a fifth of --max-time has passed (slowest rank's
	 * clock, so all ranks agree); at least one when -w > 0. */
	double t = sb_comm_now(c);
	for (size_t i = 0; i < m->warmup; i++) {
		if ((rc = be->barrier(c)) || (rc = b->step(x, pt)) || (rc = sb_comm_sync(c)))
			goto fail;
		r->warmup_done++;
		double el = sb_comm_now(c) - t;
		if ((rc = be->ctl_max(c, &el, 1)))
			goto fail;
		if (el > m->max_time / 5)
			break;
	}

	/* Adaptive: a first batch of 16 (the CI needs n >= 8), then batches that double the
	 * sample count, shrunk to what the remaining time allows at the current median. */
	size_t k = m->iters ? m->iters : 16;
	if (k > m->max_iters)
		k = m->max_iters;
	double t_start = sb_comm_now(c);
	for (;;) {
		if (r->n + k > cap) {
			size_t ncap = cap;
			while (r->n + k > ncap)
				ncap *= 2;
			double *s2 = realloc(samples, ncap * sizeof *samples);
			if (s2)
				samples = s2;
			double *c2 = realloc(scratch, ncap * sizeof *scratch);
			if (c2)
				scratch = c2;
			double *b2 = realloc(batch, (ncap + 1) * sizeof *batch);
			if (b2)
				batch = b2;
			double *d2 = events ? realloc(dsamples, ncap * sizeof *dsamples) : NULL;
			if (d2)
				dsamples = d2;
			double *e2 = events ? realloc(dbatch, ncap * sizeof *dbatch) : NULL;
			if (e2)
				dbatch = e2;
			if (!s2 || !c2 || !b2 || (events && (!d2 || !e2))) {
				sb_log_fault("cannot allocate %zu samples for %s", ncap, pt->label);
				rc = SB_ENOMEM;
				goto fail;
			}
			cap = ncap;
		}
		x->timed = 1;
		rc = run_batch(b, x, pt, batch, dbatch, k, t_start);
		x->timed = 0;
		if (rc)
			goto fail;
		memcpy(samples + r->n, batch, k * sizeof *batch);
		if (events)
			memcpy(dsamples + r->n, dbatch, k * sizeof *dbatch);
		r->n += k;
		r->elapsed = batch[k];
		sb_stats_summarize(samples, r->n, scratch, &r->summary);
		r->rel_ci = sb_stats_rel_ci_halfwidth(&r->summary);

		if (m->iters) {
			r->stop = SB_STOP_ITERS;
			break;
		}
		if (r->rel_ci <= m->precision) {
			r->stop = SB_STOP_PRECISION;
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
		 * (barrier included); at least one. */
		double per = r->elapsed / (double)r->n;
		double fit = per > 0 ? (m->max_time - r->elapsed) / per : (double)r->n;
		k = r->n;
		if ((double)k > fit)
			k = fit < 1 ? 1 : (size_t)fit;
		if (r->n + k > m->max_iters)
			k = m->max_iters - r->n;
	}
	if (events) {
		sb_stats_summarize(dsamples, r->n, scratch, &r->dev_summary);
		r->dev_samples = dsamples;
	}
	free(scratch);
	free(batch);
	free(dbatch);
	r->samples = samples;
	return 0;
fail:
	free(samples);
	free(scratch);
	free(batch);
	free(dsamples);
	free(dbatch);
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
	int rc = x->comm->be->ctl_sum(x->comm, &wrong, 1);
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
	if (c->size > 1 && c->be->abort) {
		sb_log_fault("%s; ending the job", msg);
		c->be->abort(c, sb_exit_status(rc));
	}
	return rc;
}

int sb_driver_run(const struct sb_bench *b, struct sb_comm *c, const struct sb_args *a,
                  struct sb_report *rep)
{
	struct sb_ctx x = {.comm = c, .args = a};
	struct sb_method m;
	sb_method_from_args(&m, a);
	int rc = b->setup(&x);
	struct sb_point *pts = NULL;
	size_t npts = 0;
	if (rc == 0)
		rc = b->points(&x, &pts, &npts);
	if (rc) {
		struct sb_point none = {.label = "(setup)"};
		return fault(c, rep, &none, rc);
	}
	if (c->rank == 0)
		sb_report_begin(rep, b, c, &m);

	int failed_check = 0;
	for (size_t i = 0; i < npts && rc == 0; i++) {
		struct sb_point_result r;
		sb_watchdog_arm(pts[i].label, m.timeout);
		if ((rc = b->prepare(&x, &pts[i])) ||
		    (rc = sb_driver_measure(b, &x, &pts[i], &m, &r)))
			return fault(c, rep, &pts[i], rc);
		if ((rc = run_checks(b, &x, &pts[i], m.checks, &r))) {
			free(r.samples);
			free(r.dev_samples);
			return fault(c, rep, &pts[i], rc);
		}
		r.nmetrics = b->metrics(&x, &pts[i], &r.summary, r.metrics);
		r.detail = x.detail;
		x.detail = NULL;
		if (r.wrong)
			failed_check = 1;
		if (c->rank == 0)
			rc = sb_report_point(rep, b, c, &m, &r);
		free(r.samples);
		free(r.dev_samples);
		json_decref(r.detail);
		/* A failed write must stop every rank, not just rank 0. */
		long long st = rc;
		c->be->ctl_sum(c, &st, 1);
		rc = st < 0 ? SB_EIO : 0;
		sb_watchdog_disarm();
	}
	if (c->rank == 0)
		sb_report_end_bench(rep, b);
	b->teardown(&x);
	free(pts);
	if (rc == 0 && failed_check)
		rc = SB_ECHECK;
	return rc;
}
