/* The cost models (results/model.c, results/fit.c): synthetic runs timed by each all-reduce
 * formula with known alpha, beta and gamma, fitted back through sbr_model_build, exactly and
 * with 5% noise; bootstrap coverage counted over 100 seeds; the extrapolation checked against
 * numbers worked out by hand; hold-out, eager/rendezvous split, recorded algorithms, drift. */
#include "fit.h"
#include "model.h"
#include "rng.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALPHA 5e-6 /* 5 us a message */
#define BETA 1e-10 /* 10 GB/s */
#define GAMMA 2.5e-10 /* 4 GB/s reduction */
#define NSIZES 24 /* 8 B .. 64 MiB, x2 */
#define MAXRUNS 16

static const int ps[] = {2, 4, 8, 16};

static double size_at(int i)
{
	return 8.0 * (double)(1u << i);
}

/* A standard normal by Box-Muller. */
static double normal(struct sb_rng *r)
{
	double u = sb_rng_uniform(r), v = sb_rng_uniform(r);
	return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

/* Time of benchmark bench at p, n with the true parameters (sendrecv: alpha + n beta). */
static double truth(enum sbr_algo a, double p, double n, double al, double be, double ga)
{
	double ca, cb, cc;
	sbr_algo_terms(a, p, n, &ca, &cb, &cc);
	return ca * al + cb * be + cc * ga;
}

/* One run: its run record (backend, p ranks, `hosts` hosts, environment env_json or NULL), a
 * point per size with time t[i] (its median; the 95% interval +-1%), and the end record. */
static int make_run(struct sbr_run *r, const char *bench, const char *backend, int p, int hosts,
                    const char *env_json, const double *n, const double *t, size_t k,
                    const char *schedule)
{
	static int id;
	char rid[40];
	snprintf(rid, sizeof rid, "%032x", ++id);
	json_t *recs = json_array(), *hl = json_array();
	for (int h = 0; h < hosts; h++)
		json_array_append_new(hl, json_pack("{s:s+}", "host", "h", h ? "1" : "0"));
	json_t *env = env_json ? json_loads(env_json, 0, NULL) : json_object();
	json_array_append_new(recs,
	                      json_pack("{s:s,s:i,s:s,s:s,s:{s:s,s:i,s:s,s:o},s:{s:o}}", "type",
	                                "run", "schema", 1, "run_id", rid, "command", bench,
	                                "provenance", "backend", backend, "ranks", p, "mpi_library",
	                                "Open MPI v4.1.4", "env", env, "topology", "hosts", hl));
	for (size_t i = 0; i < k; i++) {
		json_t *params = json_pack("{s:I}", "bytes", (json_int_t)n[i]);
		if (schedule)
			json_object_set_new(params, "schedule", json_string(schedule));
		json_array_append_new(
		    recs, json_pack("{s:s,s:s,s:s,s:i,s:s,s:o,s:{s:f,s:[f,f]},s:{s:s}}", "type",
		                    "point", "benchmark", bench, "backend", backend, "ranks", p,
		                    "span", hosts > 1 ? "cross-host" : "same-numa", "params",
		                    params, "summary", "median", t[i], "median_ci95", 0.99 * t[i],
		                    1.01 * t[i], "check", "status", "ok"));
	}
	json_array_append_new(recs, json_pack("{s:s,s:s}", "type", "end", "status", "ok"));
	char err[256] = "";
	int rc = sbr_run_from_records("synthetic.jsonl", recs, r, err, sizeof err);
	json_decref(recs);
	if (rc)
		tap_diag("make_run: %s", err);
	return rc;
}

/* Runs of all-reduce a (one per p) with the true parameters and relative noise sd (0: exact),
 * and with p2p a send/recv run per p as well. */
static size_t series(struct sbr_run *runs, enum sbr_algo a, double noise, struct sb_rng *rng,
                     int p2p, const char *env)
{
	size_t nr = 0;
	double n[NSIZES], t[NSIZES];
	for (int b = 0; b < (p2p ? 2 : 1); b++)
		for (size_t j = 0; j < sizeof ps / sizeof *ps; j++) {
			for (int i = 0; i < NSIZES; i++) {
				n[i] = size_at(i);
				t[i] = truth(b ? SBR_P2P : a, ps[j], n[i], ALPHA, BETA, GAMMA);
				if (noise > 0)
					t[i] *= 1 + noise * normal(rng);
			}
			if (make_run(&runs[nr], b ? "sendrecv" : "allreduce", "mpi", ps[j], 1, env,
			             n, t, NSIZES, NULL) == 0)
				nr++;
		}
	return nr;
}

static int build(struct sbr_run *runs, size_t nr, struct sbr_model_opts o, struct sbr_model *m)
{
	struct sbr_run *rp[MAXRUNS];
	for (size_t i = 0; i < nr; i++)
		rp[i] = &runs[i];
	char err[512] = "";
	int rc = sbr_model_build(rp, nr, &o, m, err, sizeof err);
	if (rc)
		tap_diag("sbr_model_build: %d %s", rc, err);
	return rc;
}

static void free_runs(struct sbr_run *runs, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		sbr_run_free(&runs[i]);
}

static double rel(double got, double want)
{
	return fabs(got - want) / fabs(want);
}

/* The all-reduce fit of a model that has one range (split above every size). */
static const struct sbr_fit *ar_fit(const struct sbr_model *m)
{
	return sbr_model_fit_for(m, "allreduce", 1e6);
}

static void test_terms(void)
{
	double a, b, c;
	sbr_algo_terms(SBR_RING, 4, 1000, &a, &b, &c);
	ok(a == 6 && b == 1500 && c == 750, "ring at p = 4, n = 1000: 6, 1500, 750");
	sbr_algo_terms(SBR_RECDOUB, 5, 1000, &a, &b, &c);
	ok(a == 3 && b == 3000 && c == 3000, "recursive doubling at p = 5: ceil(lg 5) = 3 rounds");
	sbr_algo_terms(SBR_RABENSEIFNER, 8, 800, &a, &b, &c);
	ok(a == 6 && b == 1400 && c == 700, "Rabenseifner at p = 8, n = 800: 6, 1400, 700");
	sbr_algo_terms(SBR_TREE, 1024, 1, &a, &b, &c);
	ok(a == 20 && b == 20 && c == 10, "tree at p = 1024: 2 lg p = 20 (an exact power of two)");
	sbr_algo_terms(SBR_P2P, 64, 100, &a, &b, &c);
	ok(a == 1 && b == 100 && c == 0, "point to point: alpha + n beta, whatever p");
}

static void test_numerics(void)
{
	/* y = 2 + 3x on x = 1..4 exactly; and with a negative intercept, which is dropped. */
	double x[8] = {1, 1, 1, 2, 1, 3, 1, 4}, y[4] = {5, 8, 11, 14}, s[4] = {5, 8, 11, 14},
	       th[2] = {0, 0}, rss;
	unsigned used;
	ok(sbr_nnls(x, y, s, 4, 2, th, &used, &rss) == 0 && used == 3 && rel(th[0], 2) < 1e-12 &&
	       rel(th[1], 3) < 1e-12 && rss < 1e-20,
	   "nnls: an exact line recovered (%g, %g)", th[0], th[1]);
	double y2[4] = {2, 5, 8, 11};
	ok(sbr_nnls(x, y2, y2, 4, 2, th, &used, &rss) == 0 && used == 2 && th[0] == 0 && th[1] > 0,
	   "nnls: a negative intercept (-1) is left out, the slope refitted alone");
	double xs[4] = {1, 5, 1, 5};
	ok(sbr_nnls(xs, y, s, 2, 2, th, &used, &rss) != 0 || used != 3,
	   "nnls: one distinct row cannot fix two parameters");
	double v[5] = {5, 1, 4, 2, 3};
	is_double(sbr_quantile(v, 5, 0.5), 3, 0, "quantile: the median of 1..5");
	is_double(sbr_quantile(v, 5, 0.25), 2, 0, "quantile: the first quartile of 1..5");
	double w[4] = {1, 2, 3, 4};
	is_double(sbr_quantile(w, 4, 0.975), 3.925, 1e-12, "quantile: type 7 interpolation");
}

/* Exact data of each formula: the parameters come back to 1e-6 (the solver's own error is near
 * 1e-12; 1e-6 leaves room for the columns' scaling). */
static void test_exact(void)
{
	struct sbr_run runs[MAXRUNS];
	for (int a = 0; a < 4; a++) {
		const char *name = sbr_algo_name((enum sbr_algo)a);
		double share = a == SBR_RECDOUB ? 1 : 0.5;
		struct sbr_model m;
		struct sbr_pred pr;
		double want = truth((enum sbr_algo)a, 1000, 1048576, ALPHA, BETA, GAMMA);
		/* Not recorded, no send/recv: the best of four is the true one (tree and recursive
		 * doubling are one family: tree data may come back as recursive doubling at half
		 * the parameters, which predicts the same). */
		size_t nr = series(runs, (enum sbr_algo)a, 0, NULL, 0, NULL);
		struct sbr_model_opts o = {.split = 1e15, .boot = 50, .algo = -1};
		if (build(runs, nr, o, &m) == 0) {
			const struct sbr_fit *f = ar_fit(&m);
			ok(f && !f->algo_recorded &&
			       ((int)f->algo == a || (a == SBR_TREE && f->algo == SBR_RECDOUB &&
			                              strstr(f->note, "same curves"))),
			   "%s, not recorded: chosen as the best of four (%s)", name,
			   f ? sbr_algo_name(f->algo) : "none");
			/* the prediction first: the order of evaluation of arguments is open */
			int prc = f ? sbr_model_predict(&m, f, 1000, 1048576, &pr) : -1;
			ok(prc == 0 && rel(pr.t, want) < 1e-6,
			   "%s, chosen: predicts p = 1000, 1 MiB exactly (%.9g s, truth %.9g s)",
			   name, prc ? NAN : pr.t, want);
			sbr_model_free(&m);
		} else {
			tap_skip(2, "no model");
		}
		/* Held at the true algorithm: alpha and the effective beta come back, gamma NAN. */
		o.algo = a;
		if (build(runs, nr, o, &m) == 0) {
			const struct sbr_fit *f = ar_fit(&m);
			ok(f && rel(f->alpha.v, ALPHA) < 1e-6 &&
			       rel(f->beta.v, BETA + share * GAMMA) < 1e-6 && isnan(f->gamma.v) &&
			       f->beta_effective,
			   "%s without send/recv: alpha %.9g, effective beta %.9g (beta + %g "
			   "gamma), "
			   "gamma NAN",
			   name, f ? f->alpha.v : NAN, f ? f->beta.v : NAN, share);
			ok(f && strstr(f->note, "not separable"), "%s: the note says why", name);
			ok(f && f->holdout_p == 16 && f->holdout_err < 1e-9,
			   "%s: hold out p = 16, error %.3g on exact data", name,
			   f ? f->holdout_err : NAN);
			ok(f && f->alpha_spread < 1e-6 && f->beta_spread < 1e-6 && !*f->drift,
			   "%s: the same parameters at every p, no drift", name);
			sbr_model_free(&m);
		} else {
			tap_skip(4, "no model");
		}
		free_runs(runs, nr);
		/* With send/recv runs beside: beta from them, gamma fitted. */
		nr = series(runs, (enum sbr_algo)a, 0, NULL, 1, NULL);
		if (build(runs, nr, o, &m) == 0) {
			const struct sbr_fit *f = ar_fit(&m);
			ok(f && rel(f->alpha.v, ALPHA) < 1e-6 && rel(f->beta.v, BETA) < 1e-6 &&
			       rel(f->gamma.v, GAMMA) < 1e-6 && !f->beta_effective,
			   "%s with send/recv: alpha %.9g, beta %.9g, gamma %.9g", name,
			   f ? f->alpha.v : NAN, f ? f->beta.v : NAN, f ? f->gamma.v : NAN);
			sbr_model_free(&m);
		} else {
			tap_skip(1, "no model");
		}
		free_runs(runs, nr);
	}
}

/* 5% multiplicative noise (sd) on 96 points: a parameter's standard error is about 5% over the
 * root of the points it dominates (alpha: the ~13 sizes below alpha/beta = 50 KB at 4 p, about
 * 0.7%; beta: the ~11 above, about 1%); gamma, a difference of two fits, about 2-3%. The
 * tolerances, 5% for alpha and beta and 12% for gamma, are 4-7 standard errors: a failure
 * means a biased fit, not bad luck. */
static void test_noise(void)
{
	struct sbr_run runs[MAXRUNS];
	struct sb_rng rng;
	sb_rng_seed(&rng, 7, 0);
	size_t nr = series(runs, SBR_RING, 0.05, &rng, 1, NULL);
	struct sbr_model m;
	struct sbr_model_opts o = {.split = 1e15, .boot = 200, .algo = -1};
	if (build(runs, nr, o, &m) == 0) {
		const struct sbr_fit *f = ar_fit(&m);
		ok(f && f->algo == SBR_RING, "5%% noise: ring still the best of four");
		ok(f && rel(f->alpha.v, ALPHA) < 0.05, "5%% noise: alpha %.4g within 5%%",
		   f ? f->alpha.v : NAN);
		ok(f && rel(f->beta.v, BETA) < 0.05, "5%% noise: beta %.4g within 5%%",
		   f ? f->beta.v : NAN);
		ok(f && rel(f->gamma.v, GAMMA) < 0.12, "5%% noise: gamma %.4g within 12%%",
		   f ? f->gamma.v : NAN);
		ok(f && f->rms_rel > 0.03 && f->rms_rel < 0.07,
		   "5%% noise: the rms relative residual %.3g is about the noise",
		   f ? f->rms_rel : NAN);
		/* beta's uncertainty carries into the all-reduce's: replicate b of it uses
		 * replicate b of the send/recv fit's beta. */
		const struct sbr_fit *sr = sbr_model_fit_for(&m, "sendrecv", 1e6);
		int same = f && sr && f->nboot == 200 && sr->nboot == 200;
		for (size_t b = 0; same && b < f->nboot; b++)
			same = f->boot[3 * b + 1] == sr->boot[3 * b + 1];
		ok(same && f->beta.lo == sr->beta.lo && f->beta.hi == sr->beta.hi &&
		       f->beta.lo < f->beta.hi,
		   "5%% noise: the all-reduce's replicates carry the send/recv fit's beta");
		sbr_model_free(&m);
	} else {
		tap_skip(6, "no model");
	}
	free_runs(runs, nr);
}

/* The bootstrap's 95% intervals over 100 noisy data sets: each should hold the truth about 95
 * times; a percentile interval from a few dozen points runs a little short, so at least 85. */
static void test_coverage(void)
{
	int cov[5] = {0}, runs_ok = 0;
	double ptrue = truth(SBR_RING, 1000, 268435456.0, ALPHA, BETA, GAMMA);
	for (int seed = 1; seed <= 100; seed++) {
		struct sbr_run runs[MAXRUNS];
		struct sb_rng rng;
		sb_rng_seed(&rng, (uint64_t)seed, 1);
		size_t nr = series(runs, SBR_RING, 0.05, &rng, 1, NULL);
		struct sbr_model m;
		struct sbr_model_opts o = {
		    .split = 1e15, .boot = 400, .seed = (unsigned long long)seed, .algo = SBR_RING};
		if (build(runs, nr, o, &m) == 0) {
			const struct sbr_fit *f = ar_fit(&m);
			const struct sbr_fit *s = sbr_model_fit_for(&m, "sendrecv", 1e6);
			struct sbr_pred pr;
			runs_ok++;
			cov[0] += f->alpha.lo <= ALPHA && ALPHA <= f->alpha.hi;
			cov[1] += s->beta.lo <= BETA && BETA <= s->beta.hi;
			cov[2] += f->gamma.lo <= GAMMA && GAMMA <= f->gamma.hi;
			cov[3] += s->alpha.lo <= ALPHA && ALPHA <= s->alpha.hi;
			if (sbr_model_predict(&m, f, 1000, 268435456.0, &pr) == 0)
				cov[4] += pr.lo <= ptrue && ptrue <= pr.hi;
			sbr_model_free(&m);
		}
		free_runs(runs, nr);
	}
	is_int(runs_ok, 100, "coverage: 100 noisy data sets fitted");
	static const char *const what[] = {"all-reduce alpha", "send/recv beta", "all-reduce gamma",
	                                   "send/recv alpha",
	                                   "prediction at p = 1000, 256 MiB (ring)"};
	for (int i = 0; i < 5; i++)
		ok(cov[i] >= 85, "coverage: the 95%% interval of %s holds the truth in %d of 100",
		   what[i], cov[i]);
}

/* The extrapolation by hand, ring, alpha 5 us, beta 1e-10 s/B, gamma 2.5e-10 s/B, p = 1000,
 * n = 256 MiB = 268435456 B:
 *   latency   2 (p-1) alpha           = 2 * 999 * 5e-6                     = 0.00999 s
 *   bandwidth 2 (p-1)/p n beta        = 2 * 0.999 * 268435456 * 1e-10      = 0.0536334041088 s
 *   reduction (p-1)/p n gamma         = 0.999 * 268435456 * 2.5e-10        = 0.067041755136 s
 *   total                                                                  = 0.1306651592448 s
 * Two levels, g = 8 per host, so 125 hosts each all-reducing n/8 = 33554432 B:
 *   latency   2 * 7 * 5e-6 + 2 * 124 * 5e-6                 = 0.00007 + 0.00124  = 0.00131 s
 *   bandwidth 2 * 7/8 * n * 1e-10 + 2 * 124/125 * n/8 * 1e-10
 *             = 0.0469762048 + 0.0066571993088                                = 0.0536334041088 s
 *   reduction 7/8 * n * 2.5e-10 + 124/125 * n/8 * 2.5e-10
 *             = 0.058720256 + 0.008321499136                                  = 0.067041755136 s
 *   total                                                                     = 0.1219851592448 s
 * (for ring the two levels save latency only: 2(1 - 1/g) + 2(1 - g/p)/g = 2(1 - 1/p)). */
static void test_extrapolation(void)
{
	struct sbr_run runs[MAXRUNS];
	size_t nr = series(runs, SBR_RING, 0, NULL, 1, NULL);
	struct sbr_model m;
	struct sbr_model_opts o = {.split = 1e15, .boot = 50, .algo = -1};
	if (build(runs, nr, o, &m) != 0) {
		tap_skip(9, "no model");
		free_runs(runs, nr);
		return;
	}
	const struct sbr_fit *f = ar_fit(&m);
	struct sbr_pred pr;
	ok(sbr_model_predict(&m, f, 1000, 268435456.0, &pr) == 0, "predict p = 1000, 256 MiB");
	is_double(pr.t_alpha, 0.00999, 1e-9, "flat latency term by hand");
	is_double(pr.t_beta, 0.0536334041088, 1e-9, "flat bandwidth term by hand");
	is_double(pr.t_gamma, 0.067041755136, 1e-9, "flat reduction term by hand");
	is_double(pr.t, 0.1306651592448, 1e-9, "flat total by hand");
	int prc = sbr_model_predict_hier(&m, f, 1000, 8, 268435456.0, &pr);
	ok(prc == 0 && fabs(pr.t_alpha - 0.00131) < 1e-9 &&
	       fabs(pr.t_beta - 0.0536334041088) < 1e-9 && fabs(pr.t_gamma - 0.067041755136) < 1e-9,
	   "two-level terms by hand: %.12g %.12g %.12g", pr.t_alpha, pr.t_beta, pr.t_gamma);
	is_double(pr.t, 0.1219851592448, 1e-9, "two-level total by hand");
	ok(pr.lo <= pr.t && pr.t <= pr.hi, "the prediction lies in its interval");
	ok(sbr_model_predict_hier(&m, f, 4, 8, 1024, &pr) != 0 &&
	       sbr_model_predict(&m, f, 0.5, 1024, &pr) != 0,
	   "fewer ranks than a host, or p < 1: SB_EINVAL");
	sbr_model_free(&m);
	free_runs(runs, nr);
}

/* Send/recv with one latency and bandwidth below 64 KiB and another above (OpenMPI's eager
 * and rendezvous protocols): fitted apart, each recovered. */
static void test_split(void)
{
	struct sbr_run runs[4];
	size_t nr = 0;
	for (int j = 0; j < 2; j++) {
		double n[NSIZES], t[NSIZES];
		for (int i = 0; i < NSIZES; i++) {
			n[i] = size_at(i);
			t[i] = n[i] < 65536 ? 2e-6 + n[i] * 2e-10 : 8e-6 + n[i] * 1e-10;
		}
		nr +=
		    make_run(&runs[nr], "sendrecv", "mpi", ps[j], 1, NULL, n, t, NSIZES, NULL) == 0;
	}
	struct sbr_model m;
	struct sbr_model_opts o = {.boot = 50, .algo = -1};
	if (build(runs, nr, o, &m) == 0) {
		const struct sbr_fit *e = sbr_model_fit_for(&m, "sendrecv", 1000),
		                     *r = sbr_model_fit_for(&m, "sendrecv", 1e6);
		is_int((long long)m.nfits, 2, "eager and rendezvous: two fits");
		ok(e && e->range_lo == 0 && e->range_hi == 65536 && e->n_max == 32768,
		   "the eager fit covers [0, 64 KiB)");
		ok(e && rel(e->alpha.v, 2e-6) < 1e-6 && rel(e->beta.v, 2e-10) < 1e-6,
		   "eager: alpha 2 us, beta 2e-10 recovered");
		ok(r && r != e && rel(r->alpha.v, 8e-6) < 1e-6 && rel(r->beta.v, 1e-10) < 1e-6,
		   "rendezvous: alpha 8 us, beta 1e-10 recovered");
		sbr_model_free(&m);
	} else {
		tap_skip(4, "no model");
	}
	/* One straight line over both: wrong, and visibly so. */
	o.split = 1e15;
	if (build(runs, nr, o, &m) == 0) {
		ok(m.nfits == 1 && m.fits[0].rms_rel > 0.05,
		   "one fit over both protocols misfits (rms %.3g)", m.fits[0].rms_rel);
		sbr_model_free(&m);
	} else {
		tap_skip(1, "no model");
	}
	free_runs(runs, nr);
}

/* What the runs record: OpenMPI's forced algorithm (with dynamic rules), NCCL_ALGO; without
 * dynamic rules OpenMPI ignores the setting, and so does the model. */
static void test_recorded(void)
{
	static const struct {
		const char *backend, *env;
		enum sbr_algo data;
		int want, recorded;
		const char *what;
	} cases[] = {
	    {"mpi",
	     "{\"OMPI_MCA_coll_tuned_use_dynamic_rules\":\"1\","
	     "\"OMPI_MCA_coll_tuned_allreduce_algorithm\":\"6\"}",
	     SBR_RABENSEIFNER, SBR_RABENSEIFNER, 1, "coll_tuned 6: Rabenseifner, recorded"},
	    {"mpi",
	     "{\"OMPI_MCA_coll_tuned_use_dynamic_rules\":\"true\","
	     "\"OMPI_MCA_coll_tuned_allreduce_algorithm\":\"recursive_doubling\"}",
	     SBR_RECDOUB, SBR_RECDOUB, 1, "coll_tuned by name: recursive doubling, recorded"},
	    {"mpi", "{\"OMPI_MCA_coll_tuned_allreduce_algorithm\":\"4\"}", SBR_RABENSEIFNER,
	     SBR_RABENSEIFNER, 0,
	     "coll_tuned 4 without dynamic rules: not recorded, the best fit chosen"},
	    {"nccl", "{\"NCCL_ALGO\":\"Tree\"}", SBR_TREE, SBR_TREE, 1, "NCCL_ALGO=Tree, recorded"},
	    {"mpi",
	     "{\"OMPI_MCA_coll_tuned_use_dynamic_rules\":\"1\","
	     "\"OMPI_MCA_coll_tuned_allreduce_algorithm\":\"4\"}",
	     SBR_TREE, SBR_RING, 1, "a recorded ring is held even where tree fits better"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		struct sbr_run runs[4];
		size_t nr = 0;
		for (int j = 0; j < 3; j++) {
			double n[NSIZES], t[NSIZES];
			for (int i = 0; i < NSIZES; i++) {
				n[i] = size_at(i);
				t[i] = truth(cases[c].data, ps[j], n[i], ALPHA, BETA, GAMMA);
			}
			nr += make_run(&runs[nr], "allreduce", cases[c].backend, ps[j], 1,
			               cases[c].env, n, t, NSIZES, NULL) == 0;
		}
		struct sbr_model m;
		struct sbr_model_opts o = {.split = 1e15, .boot = 20, .algo = -1};
		if (build(runs, nr, o, &m) == 0) {
			const struct sbr_fit *f = ar_fit(&m);
			ok(f && (int)f->algo == cases[c].want &&
			       f->algo_recorded == cases[c].recorded,
			   "%s (got %s, recorded %d)", cases[c].what,
			   f ? sbr_algo_name(f->algo) : "none", f ? f->algo_recorded : -1);
			ok(m.obs[0].algo == (cases[c].recorded ? cases[c].want : -1),
			   "the observations carry what was recorded");
			sbr_model_free(&m);
		} else {
			tap_skip(2, "no model");
		}
		free_runs(runs, nr);
	}
	/* --algo forces one. */
	struct sbr_run runs[MAXRUNS];
	size_t nr = series(runs, SBR_RING, 0, NULL, 0, NULL);
	struct sbr_model m;
	struct sbr_model_opts o = {.split = 1e15, .boot = 20, .algo = SBR_TREE};
	if (build(runs, nr, o, &m) == 0) {
		const struct sbr_fit *f = ar_fit(&m);
		ok(f && f->algo == SBR_TREE && strstr(f->note, "forced") && f->rms_rel > 0.01,
		   "--algo tree on ring data: held, and it misfits (rms %.3g)",
		   f ? f->rms_rel : NAN);
		sbr_model_free(&m);
	} else {
		tap_skip(1, "no model");
	}
	free_runs(runs, nr);
}

/* p = 1: a local copy, fitted as alpha + n beta and said so; nothing to extrapolate. */
static void test_local(void)
{
	struct sbr_run run;
	double n[NSIZES], t[NSIZES];
	for (int i = 0; i < NSIZES; i++) {
		n[i] = size_at(i);
		t[i] = 1e-5 + n[i] * 5e-13;
	}
	if (make_run(&run, "allreduce", "nccl", 1, 1, NULL, n, t, NSIZES, NULL)) {
		tap_skip(3, "no run");
		return;
	}
	struct sbr_run *rp = &run;
	struct sbr_model m;
	struct sbr_model_opts o = {.split = 1e15, .boot = 20, .algo = -1};
	char err[256];
	if (sbr_model_build(&rp, 1, &o, &m, err, sizeof err) == 0) {
		const struct sbr_fit *f = ar_fit(&m);
		ok(f && f->algo == SBR_P2P && rel(f->alpha.v, 1e-5) < 1e-6 &&
		       rel(f->beta.v, 5e-13) < 1e-6,
		   "p = 1: alpha + n beta recovered");
		ok(f && strstr(f->note, "local copy"), "p = 1: labelled a local copy");
		struct sbr_pred pr;
		ok(sbr_model_predict_hier(&m, f, 1000, 8, 1024, &pr) != 0,
		   "p = 1: no collective to extrapolate hierarchically");
		sbr_model_free(&m);
	} else {
		tap_skip(3, "no model");
	}
	sbr_run_free(&run);
}

/* Parameters that change with p (alpha growing with p, as under oversubscription) are said to
 * drift; one size, and no usable point, are input errors; a negative intercept is dropped. */
static void test_checks(void)
{
	struct sbr_run runs[4];
	size_t nr = 0;
	for (int j = 0; j < 3; j++) {
		double n[NSIZES], t[NSIZES];
		for (int i = 0; i < NSIZES; i++) {
			n[i] = size_at(i);
			t[i] = truth(SBR_RING, ps[j], n[i], ALPHA * ps[j], BETA, 0);
		}
		nr += make_run(&runs[nr], "allreduce", "mpi", ps[j], 1, NULL, n, t, NSIZES, NULL) ==
		      0;
	}
	struct sbr_model m;
	struct sbr_model_opts o = {.split = 1e15, .boot = 20, .algo = SBR_RING};
	struct sbr_run *rp[4] = {&runs[0], &runs[1], &runs[2], &runs[3]};
	char err[256] = "";
	if (build(runs, nr, o, &m) == 0) {
		const struct sbr_fit *f = ar_fit(&m);
		ok(f && f->alpha_spread > 0.25 && strstr(f->drift, "alpha drifts"),
		   "alpha x p: a drift sentence (%s)", f ? f->drift : "");
		/* The hold-out by hand: a model of the p = 2 and 4 runs alone, its predictions at
		 * p = 8, the median relative error. */
		struct sbr_model m2;
		double e[NSIZES], want = NAN;
		if (f && build(runs, 2, o, &m2) == 0) {
			const struct sbr_fit *f2 = ar_fit(&m2);
			for (int i = 0; i < NSIZES; i++) {
				struct sbr_pred pr;
				double t = truth(SBR_RING, 8, size_at(i), ALPHA * 8, BETA, 0);
				sbr_model_predict(&m2, f2, 8, size_at(i), &pr);
				e[i] = fabs(pr.t - t) / t;
			}
			want = sbr_quantile(e, NSIZES, 0.5);
			sbr_model_free(&m2);
		}
		ok(f && f->holdout_p == 8 && want > 0.1 && rel(f->holdout_err, want) < 1e-9,
		   "and the held-out p = 8 is predicted badly: %.4g, by hand %.4g",
		   f ? f->holdout_err : NAN, want);
		sbr_model_free(&m);
	} else {
		tap_skip(2, "no model");
	}
	free_runs(runs, nr);

	double n1[2] = {1024, 1024}, t1[2] = {1e-5, 1.1e-5};
	nr = make_run(&runs[0], "allreduce", "mpi", 2, 1, NULL, n1, t1, 2, NULL) == 0;
	ok(nr && sbr_model_build(rp, 1, &o, &m, err, sizeof err) == SB_EINPUT &&
	       strstr(err, "2 sizes"),
	   "one size only: SB_EINPUT (%s)", err);
	free_runs(runs, nr);
	double n2[3] = {1024, 4096, 16384}, t2[3] = {1e-5, 2e-5, 4e-5};
	nr = make_run(&runs[0], "pipeline", "mpi", 2, 1, NULL, n2, t2, 3, "1f1b") == 0;
	ok(nr && sbr_model_build(rp, 1, &o, &m, err, sizeof err) == SB_EINPUT &&
	       strstr(err, "no point a cost model can use"),
	   "a pipeline schedule alone: no usable point (%s)", err);
	free_runs(runs, nr);
	nr = make_run(&runs[0], "pipeline", "mpi", 2, 1, NULL, n2, t2, 3, "handoff") == 0;
	if (nr && build(runs, 1, o, &m) == 0) {
		ok(m.nfits == 1 && strcmp(m.fits[0].benchmark, "pipeline") == 0 &&
		       m.fits[0].algo == SBR_P2P,
		   "a pipeline handoff: fitted point to point");
		sbr_model_free(&m);
	} else {
		tap_skip(1, "no model");
	}
	free_runs(runs, nr);
	double n3[4] = {1024, 4096, 16384, 32768}, t3[4];
	for (int i = 0; i < 4; i++)
		t3[i] = n3[i] * 1e-10 - 5e-8;
	nr = make_run(&runs[0], "sendrecv", "mpi", 2, 1, NULL, n3, t3, 4, NULL) == 0;
	if (nr && build(runs, 1, o, &m) == 0) {
		ok(m.fits[0].alpha.v == 0 && m.fits[0].beta.v > 0 &&
		       strstr(m.fits[0].note, "alpha came out negative"),
		   "a negative alpha: refitted without it, said so");
		sbr_model_free(&m);
	} else {
		tap_skip(1, "no model");
	}
	free_runs(runs, nr);
}

/* Runs across hosts beside runs inside one: the two-level prediction takes intra-host
 * parameters from the one and inter-host from the other. */
static void test_hier(void)
{
	struct sbr_run runs[4];
	size_t nr = 0;
	double n[NSIZES], t[NSIZES];
	for (int h = 0; h < 2; h++)
		for (int j = 0; j < 2; j++) {
			for (int i = 0; i < NSIZES; i++) {
				n[i] = size_at(i);
				/* across hosts: 10x the latency, a quarter of the bandwidth */
				t[i] = truth(SBR_RING, ps[j], n[i], h ? 10 * ALPHA : ALPHA,
				             h ? 4 * BETA : BETA, 0);
			}
			nr += make_run(&runs[nr], "allreduce", "mpi", ps[j], h ? 2 : 1, NULL, n, t,
			               NSIZES, NULL) == 0;
		}
	struct sbr_model m;
	struct sbr_model_opts o = {.split = 1e15, .boot = 20, .algo = SBR_RING};
	if (build(runs, nr, o, &m) == 0) {
		const struct sbr_fit *f = ar_fit(&m);
		struct sbr_pred pr;
		ok(m.have_hier && f && f->cross_host && rel(m.intra.alpha.v, ALPHA) < 1e-6 &&
		       rel(m.inter.alpha.v, 10 * ALPHA) < 1e-6,
		   "intra- and inter-host parameters apart");
		/* p = 64, g = 8, n = 1 MiB: intra 2*7*5e-6 = 7e-5, 2*7/8*2^20*1e-10 = 1.835008e-4;
		 * inter ring at 8 hosts of 2^17 B: 2*7*5e-5 = 7e-4, 2*7/8*2^17*4e-10 = 9.17504e-5;
		 * total 1.0452512e-3 s. */
		int prc = sbr_model_predict_hier(&m, f, 64, 8, 1048576, &pr);
		ok(prc == 0 && fabs(pr.t - 1.0452512e-3) < 1e-12,
		   "two levels with both fits: %.10g s, by hand 1.0452512e-3 s", prc ? NAN : pr.t);
		sbr_model_free(&m);
	} else {
		tap_skip(2, "no model");
	}
	free_runs(runs, nr);
}

int main(void)
{
	tap_plan(5 + 6 + 28 + 6 + 6 + 9 + 5 + 11 + 3 + 6 + 2);
	test_terms();
	test_numerics();
	test_exact();
	test_noise();
	test_coverage();
	test_extrapolation();
	test_split();
	test_recorded();
	test_local();
	test_checks();
	test_hier();
	return tap_done();
}
