/* Board power per point (power.h) with fake GPU meters: the energy counter's begin/end
 * arithmetic, power samples from the sampling thread, ranks sharing a GPU counted once (the
 * aggregation with hand-made per-rank figures, and a fake world whose ranks all share one), the
 * rounds of a point merged, the record's field; NVML missing fails cleanly with a reason. On a
 * machine with a GPU, NVML's reader of that GPU gives a plausible power. */
#include "bench.h"
#include "comm.h"
#include "driver.h"
#include "error.h"
#include "gpu_info.h"
#include "power.h"
#include "tap.h"
#include "timer.h"

#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef SB_HAVE_CUDA
#include "gpu.h"
#endif

#define BUS "0000:3b:00.0"

/* A counter advancing at 300 W by the host clock: the span's power must come out 300 W
 * whatever its length (to the counter's millijoule). */
#define FAKE_W 300.0
static double origin;

static int counter_energy(void *arg, unsigned long long *mj)
{
	(void)arg;
	*mj = 5000000ULL + (unsigned long long)llround((sb_now() - origin) * FAKE_W * 1e3);
	return 0;
}

/* A counter that never moves (a span shorter than its update period). */
static int frozen_energy(void *arg, unsigned long long *mj)
{
	(void)arg;
	*mj = 123456;
	return 0;
}

static int no_energy(void *arg, unsigned long long *mj)
{
	(void)arg, (void)mj;
	return SB_ENOTSUP;
}

/* Power readings: 200 W, but 400 W at the third; every value handed out is summed, so the
 * expected mean is known however many samples the thread took. */
static atomic_int calls;
static double handed_mw, handed_n;

static int seq_power(void *arg, unsigned *mw)
{
	(void)arg;
	int k = atomic_fetch_add(&calls, 1);
	*mw = k == 2 ? 400000 : 200000;
	handed_mw += *mw; /* one span's thread and its caller never read at once */
	handed_n += 1;
	return 0;
}

static int broken_power(void *arg, unsigned *mw)
{
	(void)arg, (void)mw;
	return SB_EIO;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

/* A fake world of `ranks` ranks whose GPU is BUS on one host. */
static int world(struct sb_comm *c, const char *ranks)
{
	setenv("SB_FAKE_RANKS", ranks, 1);
	memset(c, 0, sizeof *c);
	c->be = sb_backend_find("fake");
	if (!c->be)
		return SB_ENOTSUP;
	snprintf(c->host, sizeof c->host, "testhost");
	snprintf(c->gpu, sizeof c->gpu, BUS);
	return c->be->init(c);
}

static void counter_spans(void)
{
	struct sb_power_reader r = {.name = "fake", .energy = counter_energy, .power = seq_power};
	sb_power_use(&r);
	origin = sb_now();
	struct sb_comm c;
	if (world(&c, "1")) {
		tap_skip(12, "no fake world");
		return;
	}
	struct sb_power_span s;
	struct sb_power p;
	sb_power_begin(&s, &c);
	sleep_s(0.05);
	int rc = sb_power_end(&s, &c, 1000, &p);
	is_int(rc, 0, "a span on one rank ends");
	is_string(p.source, "fake energy counter", "read by the energy counter");
	is_int(p.gpus, 1, "one GPU");
	ok(p.seconds >= 0.05 && p.seconds < 60, "the span's seconds: %g", p.seconds);
	is_double(p.watts_mean, FAKE_W, FAKE_W * 0.01, "W = the counter's rate (mJ / s)");
	is_double(p.joules, p.watts_mean * p.seconds, 1e-9, "J = W x s");
	is_double(p.joules_per_op, p.joules / 1000, 1e-12, "J/op = J / 1000 operations");
	ok(isnan(p.watts_max), "no maximum without samples");
	ok(p.note && strstr(p.note, "under 1 s"), "a short span says its figures are rough");
	c.be->fini(&c);

	/* Four ranks on one GPU: the fake gather gives rank 0 the same GPU from every rank. */
	world(&c, "4");
	sb_power_begin(&s, &c);
	sleep_s(0.05);
	rc = sb_power_end(&s, &c, 1000, &p);
	is_int(rc == 0 && p.gpus == 1, 1, "four ranks sharing a GPU: one GPU (got %d)", p.gpus);
	is_double(p.watts_mean, FAKE_W, FAKE_W * 0.01, "and its power once, not four times");
	c.be->fini(&c);

	/* A counter that does not move: a figure of nothing, said so. */
	r.energy = frozen_energy;
	sb_power_use(&r);
	world(&c, "1");
	sb_power_begin(&s, &c);
	sb_power_end(&s, &c, 10, &p);
	ok(p.source[0] && p.gpus == 0 && isnan(p.joules) && p.note &&
	       strstr(p.note, "did not move"),
	   "a counter that did not move: no joules, and the note says why");
	c.be->fini(&c);
}

static void sampled_spans(void)
{
	struct sb_power_reader r = {.name = "fake", .energy = no_energy, .power = seq_power};
	sb_power_use(&r);
	atomic_store(&calls, 0);
	handed_mw = handed_n = 0;
	struct sb_comm c;
	if (world(&c, "1")) {
		tap_skip(7, "no fake world");
		return;
	}
	struct sb_power_span s;
	struct sb_power p;
	sb_power_begin(&s, &c);
	/* Until the thread has taken a few samples (the third is the 400 W one), however busy
	 * the machine: not a timing test. */
	for (int i = 0; i < 2000 && atomic_load(&calls) < 5; i++)
		sleep_s(0.005);
	int rc = sb_power_end(&s, &c, 50, &p);
	is_int(rc, 0, "a sampled span ends");
	is_string(p.source, "fake power samples", "without a counter: power samples");
	ok(handed_n >= 5, "the thread sampled (%g readings)", handed_n);
	is_double(p.watts_max, 400, 1e-9, "the largest sample: 400 W");
	is_double(p.watts_mean, handed_mw / handed_n / 1e3, 1e-9,
	          "W = the mean of the samples (%g of them)", handed_n);
	is_double(p.joules_per_op, p.watts_mean * p.seconds / 50, 1e-9, "J/op = W x s / 50");
	c.be->fini(&c);

	/* A meter that fails: no figure from it, no crash. */
	r.power = broken_power;
	sb_power_use(&r);
	world(&c, "1");
	sb_power_begin(&s, &c);
	rc = sb_power_end(&s, &c, 50, &p);
	ok(rc == 0 && !p.source[0] && sb_power_json(&p) == NULL,
	   "a meter whose reads fail: no power figure");
	c.be->fini(&c);
}

static struct sb_power_rank one(const char *host, const char *gpu, int status, double j, double s,
                                double wmax)
{
	struct sb_power_rank v = {
	    .status = status, .counter = isnan(wmax), .joules = j, .seconds = s, .watts_max = wmax};
	snprintf(v.host, sizeof v.host, "%s", host);
	snprintf(v.gpu, sizeof v.gpu, "%s", gpu);
	snprintf(v.meter, sizeof v.meter, "nvml");
	return v;
}

static void aggregation(void)
{
	/* Ranks 0 and 1 share host a's GPU 3b (CUDA writes the bus id in upper case, hwloc in
	 * lower): counted once, the mean of the two. Host b's GPU of the same bus id is another
	 * GPU. Rank 3 has no meter. */
	struct sb_power_rank v[] = {
	    one("a", "0000:3b:00.0", SB_POWER_MEASURED, 100, 1.00, NAN),
	    one("a", "0000:3B:00.0", SB_POWER_MEASURED, 102, 1.02, NAN),
	    one("b", "0000:3b:00.0", SB_POWER_MEASURED, 200, 2.00, NAN),
	    one("a", "0000:5e:00.0", SB_POWER_NONE, 0, 0, NAN),
	};
	struct sb_power p;
	sb_power_aggregate(v, 4, 1000, &p);
	is_int(p.gpus, 2, "two distinct GPUs of four ranks");
	is_double(p.joules, 101 + 200, 1e-9, "J: the shared GPU's mean once, plus the other");
	is_double(p.seconds, 2, 1e-12, "seconds: the longest span");
	is_double(p.watts_mean, (101 / 1.01 + 200 / 2.0) / 2, 1e-9, "W per GPU: 100");
	is_double(p.joules_per_op, 0.301, 1e-12, "J/op: 301 J over 1000 operations");
	is_string(p.source, "nvml energy counter", "source");
	ok(p.note && strstr(p.note, "no meter"), "the rank without a meter is mentioned");

	/* Samples: the largest of every GPU's maximum. */
	struct sb_power_rank w[] = {
	    one("a", "0000:3b:00.0", SB_POWER_MEASURED, 250, 1, 260),
	    one("a", "0000:5e:00.0", SB_POWER_MEASURED, 300, 1, 320),
	};
	sb_power_aggregate(w, 2, 0, &p);
	is_double(p.watts_max, 320, 1e-12, "watts_max: the largest sample of any GPU");
	is_string(p.source, "nvml power samples", "source: samples");
	ok(isnan(p.joules_per_op), "no operations: no J/op");

	/* Nobody had a meter: no figure at all, and nothing in the record. */
	struct sb_power_rank x[] = {one("a", "0000:3b:00.0", SB_POWER_NONE, 0, 0, NAN)};
	sb_power_aggregate(x, 1, 10, &p);
	ok(!p.source[0] && sb_power_json(&p) == NULL, "no meter anywhere: no power field");

	/* Rounds of one point: J, s and operations add up; W weighted by time. */
	struct sb_power a = {.source = "nvml energy counter",
	                     .watts_mean = 100,
	                     .watts_max = NAN,
	                     .joules = 100,
	                     .seconds = 1,
	                     .ops = 10,
	                     .gpus = 1};
	struct sb_power b = a, into = {0};
	b.watts_mean = 200, b.joules = 600, b.seconds = 3, b.ops = 30;
	sb_power_merge(&into, &a);
	sb_power_merge(&into, &b);
	is_double(into.watts_mean, 175, 1e-9, "two rounds: W weighted by their seconds");
	is_double(into.joules_per_op, 700.0 / 40, 1e-9, "J/op of the rounds together");

	json_t *o = sb_power_json(&into);
	ok(o && json_is_real(json_object_get(o, "watts_mean")) &&
	       json_is_null(json_object_get(o, "watts_max")) &&
	       json_integer_value(json_object_get(o, "gpus")) == 1 &&
	       json_is_real(json_object_get(o, "joules_per_op")) &&
	       json_is_real(json_object_get(o, "seconds")) &&
	       strcmp(json_string_value(json_object_get(o, "source")), "nvml energy counter") == 0,
	   "the record's power field: watts_mean, watts_max null, joules_per_op, gpus, source");
	json_decref(o);
}

static void no_nvml(void)
{
	/* No NVML on this machine (or, on one with it, no GPU at this bus id): a clean failure,
	 * with a reason naming the library. */
	struct sb_power_reader r;
	char why[256] = "";
	int rc = sb_power_nvml_open("0000:ff:1f.7", &r, why, sizeof why);
	is_int(rc, SB_ENOTSUP, "NVML for a GPU that is not here: SB_ENOTSUP");
	ok(strstr(why, "libnvidia-ml") != NULL, "the reason names libnvidia-ml: %s", why);
	rc = sb_power_nvml_open("", &r, why, sizeof why);
	ok(rc == SB_ENOTSUP && strstr(why, "bus id"), "no bus id: %s", why);

	/* The default meter (NVML) on that GPU: the provenance says why once, spans measure
	 * nothing and the points carry no power field. */
	sb_power_use(NULL);
	struct sb_comm c;
	if (world(&c, "1")) {
		tap_skip(2, "no fake world");
		return;
	}
	snprintf(c.gpu, sizeof c.gpu, "0000:ff:1f.7");
	json_t *prov = json_object();
	sb_power_describe(&c, prov);
	json_t *pw = json_object_get(prov, "power");
	const char *w = json_string_value(json_object_get(pw, "why"));
	ok(json_is_null(json_object_get(pw, "meter")) && w && strstr(w, "libnvidia-ml"),
	   "provenance: no meter, and why: %s", w ? w : "(none)");
	json_decref(prov);
	struct sb_power_span s;
	struct sb_power p;
	sb_power_begin(&s, &c);
	int e = sb_power_end(&s, &c, 10, &p);
	ok(e == 0 && !p.source[0], "a span without a meter: no figure, no error");
	c.be->fini(&c);
}

/* The driver's hook: a point measured on the fake backend dressed as a GPU one (device memory)
 * carries a power figure over the operations it timed; on the host backend as it is, none. */
static int measure(const struct sb_backend *be, int async, struct sb_point_result *r)
{
	const struct sb_bench *b = sb_bench_find("allreduce");
	const struct sb_opt *const tables[] = {b->opts, sb_common_opts, NULL};
	char *argv[] = {"t_power", "-b", "1K", "-e", "1K",      "-n", "20",
	                "-w",      "1",  "-c", "0",  "--batch", "20", NULL};
	struct sb_args a;
	char err[512];
	struct sb_comm c;
	setenv("SB_FAKE_ASYNC", async ? "1" : "0", 1);
	int rc = world(&c, "2");
	unsetenv("SB_FAKE_ASYNC");
	if (rc)
		return rc;
	c.be = be;
	if ((rc = sb_args_parse(&a, tables, 13, argv, 1, err, sizeof err))) {
		tap_diag("parse: %s", err);
		return rc;
	}
	struct sb_method m;
	sb_method_from_args(&m, &a);
	m.async = c.async;
	struct sb_ctx x = {.comm = &c, .args = &a};
	struct sb_point *pts = NULL;
	size_t n = 0;
	if ((rc = b->setup(&x)) == 0) {
		if ((rc = b->points(&x, &pts, &n)) == 0 && n > 0 &&
		    (rc = b->prepare(&x, &pts[0])) == 0)
			rc = sb_driver_measure(b, &x, &pts[0], &m, r);
		sb_points_free(pts, n);
		b->teardown(&x);
	}
	r->point = NULL;
	c.be->fini(&c);
	return rc;
}

static void driver_hook(void)
{
	struct sb_power_reader rd = {.name = "fake", .energy = counter_energy, .power = seq_power};
	sb_power_use(&rd);
	const struct sb_backend *fake = sb_backend_find("fake");
	struct sb_backend gpu = *fake;
	gpu.caps = (fake->caps & ~SB_CAP_HOST_MEM) | SB_CAP_DEVICE_MEM;
	struct sb_point_result r;
	int rc = measure(fake, 0, &r);
	ok(rc == 0 && !r.power.source[0], "a host backend's point: no power figure");
	sb_point_result_free(&r);
	rc = measure(&gpu, 0, &r);
	ok(rc == 0 && strcmp(r.power.source, "fake energy counter") == 0 && r.power.gpus == 1,
	   "a device backend's point: a power figure from the meter (%s)", r.power.source);
	is_double(r.power.ops, (double)r.n, 0, "over the %zu operations timed", r.n);
	sb_point_result_free(&r);
	rc = measure(&gpu, 1, &r);
	double per = 1 + (double)r.batch + (r.dev_samples ? (double)r.batch : 0);
	ok(rc == 0 && r.batch == 20 && r.power.source[0], "an asynchronous one too (batch %zu)",
	   r.batch);
	is_double(r.power.ops, per * (double)r.n, 0,
	          "its operations: per sample, the latency one and the %zu pipelined", r.batch);
	sb_point_result_free(&r);
}

/* A real GPU's meter (skips as t_gpu.c does where there is none). */
static void real_gpu(void)
{
	char why[256];
	if (sb_gpu_count(why, sizeof why) <= 0) {
		tap_skip(3, why);
		return;
	}
#ifdef SB_HAVE_CUDA
	int dev = -1;
	char bus[32] = "";
	struct sb_power_reader r;
	if (sb_gpu_select(0, -1, &dev, why, sizeof why) || sb_gpu_bus_id(dev, bus, sizeof bus)) {
		tap_skip(3, "no device selected");
		return;
	}
	int rc = sb_power_nvml_open(bus, &r, why, sizeof why);
	is_int(rc, 0, "NVML opens GPU %s%s%s", bus, rc ? ": " : "", rc ? why : "");
	unsigned mw = 0;
	unsigned long long mj = 0;
	int pr = rc ? rc : r.power(r.arg, &mw);
	ok(pr == 0 && mw > 0 && mw < 2000000, "its board power: %.1f W", mw / 1e3);
	int er = rc ? rc : r.energy(r.arg, &mj);
	ok(er == 0 || er == SB_ENOTSUP, "its energy counter: %llu mJ (%s)", mj,
	   er == 0 ? "read" : "not supported: spans sample power");
	sb_power_nvml_close();
#else
	tap_skip(3, "this build has no CUDA");
#endif
}

int main(void)
{
	tap_plan(46);
	counter_spans();
	sampled_spans();
	aggregation();
	no_nvml();
	driver_hook();
	real_gpu();
	sb_power_use(NULL);
	return tap_done();
}
