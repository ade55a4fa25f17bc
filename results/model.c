/* The cost models (model.h): observations from the run files, the all-reduce algorithm a run
 * pinned, the fits per series and size range (send/recv and handoff first, so that their beta
 * can separate gamma in the all-reduces), their bootstrap, hold-out and per-p checks, and the
 * predictions, flat and two-level. The output is model_write.c's. */
#include "model.h"

#include "fit.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_SPLIT 65536.0 /* OpenMPI's TCP eager limit (CLUSTER.md) */
#define DEFAULT_BOOT 1000
#define DEFAULT_G 8
#define DRIFT_LIMIT 0.25
/* Weights 1/T^2, T first the measured time, then the fitted one (refitted twice: the third pass
 * changes nothing visible). Weighting by the measured time alone biases a fit low by about
 * 2 s^2 (s the relative noise: E[1/T_obs] = (1 + s^2)/T, E[1/T_obs^2] = (1 + 3 s^2)/T^2), half a
 * percent at 5% noise, a standard error of alpha here, and the bootstrap intervals missed
 * (83 of 100 against 89, tests/t_model.c). fit_once keeps the first pass where the model
 * misfits. */
#define IRLS_PASSES 3

const char *sbr_algo_name(enum sbr_algo a)
{
	static const char *const names[] = {"ring", "recursive-doubling", "rabenseifner", "tree",
	                                    "p2p"};
	return (int)a >= 0 && a < SBR_ALGO_COUNT ? names[a] : "?";
}

/* ceil(log2 p): the rounds of recursive doubling and the depth of a binary tree. The epsilon
 * keeps an exact power of two from rounding up. */
static double lg(double p)
{
	return p <= 1 ? 0 : ceil(log2(p) - 1e-12);
}

void sbr_algo_terms(enum sbr_algo a, double p, double n, double *ca, double *cb, double *cc)
{
	double f = p > 1 ? (p - 1) / p : 0, l = lg(p);
	switch (a) {
	case SBR_RING: /* reduce-scatter then all-gather, p-1 steps each of n/p bytes */
		*ca = 2 * (p - 1), *cb = 2 * f * n, *cc = f * n;
		break;
	case SBR_RECDOUB: /* lg p exchanges of the whole vector, each reduced */
		*ca = l, *cb = l * n, *cc = l * n;
		break;
	case SBR_RABENSEIFNER: /* reduce-scatter by recursive halving, all-gather by doubling */
		*ca = 2 * l, *cb = 2 * f * n, *cc = f * n;
		break;
	case SBR_TREE: /* binary-tree reduce, then broadcast down the same tree */
		*ca = 2 * l, *cb = 2 * l * n, *cc = l * n;
		break;
	default: /* one message of n bytes, nothing reduced */
		*ca = 1, *cb = n, *cc = 0;
		break;
	}
}

/* c/b of the all-reduce formulas: the same for every p and n, which is why gamma cannot be told
 * from beta by all-reduce times alone (beta_eff = beta + share * gamma). */
static double gamma_share(enum sbr_algo a)
{
	return a == SBR_RECDOUB ? 1 : a == SBR_P2P ? 0 : 0.5;
}

/* ---- reading the observations ---- */

static const char *env_get(const struct sbr_run *r, const char *name)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(r->run, "provenance"), "env"), name));
}

static int truthy(const char *v)
{
	return v &&
	       (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
	        strcasecmp(v, "t") == 0 || strcasecmp(v, "y") == 0);
}

/* The all-reduce algorithm a run pinned, from the environment it recorded: NCCL_ALGO for NCCL;
 * OpenMPI's coll_tuned forced algorithm (used only with coll_tuned_use_dynamic_rules; 4.1's
 * numbering, `ompi_info --param coll tuned --level 9`: 1 basic linear, 2 nonoverlapping (reduce
 * then broadcast), 3 recursive doubling, 4 ring, 5 segmented ring, 6 Rabenseifner) for MPI.
 * -1 when it pinned none, or one without a formula here; why says so. OpenMPI's own decision
 * (the fixed rules) depends on its version and component priorities: not guessed. */
static int recorded_algo(const struct sbr_run *r, const char *backend, char *why, size_t len)
{
	*why = '\0';
	if (strncmp(backend, "nccl", 4) == 0) {
		const char *v = env_get(r, "NCCL_ALGO");
		if (!v)
			return -1;
		if (strcasecmp(v, "ring") == 0)
			return (snprintf(why, len, "NCCL_ALGO=%.20s", v), SBR_RING);
		if (strcasecmp(v, "tree") == 0)
			return (snprintf(why, len, "NCCL_ALGO=%.20s", v), SBR_TREE);
		snprintf(why, len, "NCCL_ALGO=%.40s has no formula here", v);
		return -1;
	}
	const char *lib = json_string_value(
	    json_object_get(json_object_get(r->run, "provenance"), "mpi_library"));
	const char *v = env_get(r, "OMPI_MCA_coll_tuned_allreduce_algorithm");
	if (!v || (lib && !strstr(lib, "Open MPI")))
		return -1;
	if (!truthy(env_get(r, "OMPI_MCA_coll_tuned_use_dynamic_rules"))) {
		snprintf(why, len,
		         "coll_tuned_allreduce_algorithm=%.20s without use_dynamic_rules: OpenMPI "
		         "ignores it",
		         v);
		return -1;
	}
	static const struct {
		const char *num, *name;
		int algo;
	} map[] = {
	    {"0", "ignore", -1},
	    {"1", "basic_linear", -1},
	    {"2", "nonoverlapping", SBR_TREE},
	    {"3", "recursive_doubling", SBR_RECDOUB},
	    {"4", "ring", SBR_RING},
	    {"5", "segmented_ring", SBR_RING},
	    {"6", "rabenseifner", SBR_RABENSEIFNER},
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strcmp(v, map[i].num) == 0 || strcasecmp(v, map[i].name) == 0) {
			if (map[i].algo < 0)
				snprintf(why, len, "coll_tuned allreduce %s: no formula here",
				         map[i].name);
			else
				snprintf(why, len, "OpenMPI coll_tuned allreduce %s%s", map[i].name,
				         map[i].algo == SBR_TREE ? " (reduce + bcast: tree form)"
				                                 : "");
			return map[i].algo;
		}
	snprintf(why, len, "coll_tuned_allreduce_algorithm=%.20s is not one OpenMPI 4.1 knows", v);
	return -1;
}

/* Whether a point's ranks crossed hosts: its span where it has one (the widest pair of its
 * ranks), else the run's topology (more than one host). */
static int crosses_hosts(const struct sbr_run *r, const struct sbr_point *pt)
{
	const char *span = json_string_value(json_object_get(pt->rec, "span"));
	if (span)
		return strcmp(span, "cross-host") == 0;
	json_t *h = json_object_get(json_object_get(r->run, "topology"), "hosts");
	if (!json_is_array(h))
		h = json_object_get(json_object_get(r->run, "provenance"), "hosts");
	return json_array_size(h) > 1;
}

/* ---- fitting ---- */

/* A series: the points one formula should describe. */
struct key {
	const char *benchmark, *backend;
	int cross_host, local, rec;
	char why[128]; /* how rec was recorded */
};

static int same_key(const struct key *a, const struct key *b)
{
	return strcmp(a->benchmark, b->benchmark) == 0 && strcmp(a->backend, b->backend) == 0 &&
	       a->cross_host == b->cross_host && a->local == b->local && a->rec == b->rec;
}

/* Fitted in this order: send/recv, handoff, local copies, then all-reduces, which take beta
 * from a send/recv fit made before them. */
static int key_rank(const struct key *k)
{
	if (strcmp(k->benchmark, "sendrecv") == 0)
		return 0;
	if (strcmp(k->benchmark, "pipeline") == 0)
		return 1;
	return k->local ? 2 : 3;
}

static int distinct_sizes(const struct sbr_obs *o, const size_t *idx, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (o[idx[i]].n != o[idx[0]].n)
			return 1;
	return 0;
}

/* The model's time with parameters th (alpha, beta, gamma; gamma NAN: folded into beta). */
static double model_t(enum sbr_algo a, double p, double n, const double th[3])
{
	double ca, cb, cc;
	sbr_algo_terms(a, p, n, &ca, &cb, &cc);
	return ca * th[0] + cb * th[1] + (isnan(th[2]) ? 0 : cc * th[2]);
}

/* Fit algorithm a to the observations idx[0..n): alpha and beta (gamma folded into beta: its
 * coefficient is proportional to beta's), or with beta fixed (isfinite(beta)) alpha and gamma,
 * by non-negative least squares weighted 1/T^2. th gets alpha, beta, gamma; *rms the root mean
 * square relative residual; *used which of the two free parameters survived. 0, -1 (singular),
 * SB_ENOMEM. */
/* The root mean square of (T - model) / T over the observations. */
static double rel_rms(const struct sbr_obs *o, const size_t *idx, size_t n, enum sbr_algo a,
                      const double th[3])
{
	double ss = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sbr_obs *ob = &o[idx[i]];
		double e = (ob->t - model_t(a, ob->p, ob->n, th)) / ob->t;
		ss += e * e;
	}
	return sqrt(ss / (double)n);
}

static int fit_once(const struct sbr_obs *o, const size_t *idx, size_t n, enum sbr_algo a,
                    double beta, double th[3], double *rms, unsigned *used)
{
	double *x = malloc(n * 4 * sizeof *x);
	if (!x)
		return SB_ENOMEM;
	double *y = x + 2 * n, *s = x + 3 * n, t[2], th1[3] = {NAN, NAN, NAN};
	int fixed = isfinite(beta), rc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sbr_obs *ob = &o[idx[i]];
		double ca, cb, cc;
		sbr_algo_terms(a, ob->p, ob->n, &ca, &cb, &cc);
		x[2 * i] = ca;
		x[2 * i + 1] = fixed ? cc : cb;
		y[i] = fixed ? ob->t - beta * cb : ob->t;
		s[i] = ob->t;
	}
	unsigned u = 0, u1 = 0;
	for (int pass = 0; pass < IRLS_PASSES && rc == 0; pass++) {
		if ((rc = sbr_nnls(x, y, s, n, 2, t, &u, NULL)) != 0)
			break;
		th[0] = t[0];
		th[1] = fixed ? beta : t[1];
		th[2] = fixed ? t[1] : NAN;
		if (pass == 0)
			memcpy(th1, th, sizeof th1), u1 = u;
		for (size_t i = 0; i < n; i++) {
			const struct sbr_obs *ob = &o[idx[i]];
			double f = model_t(a, ob->p, ob->n, th);
			s[i] = f > 0 ? f : ob->t;
		}
	}
	free(x);
	if (rc)
		return rc;
	*rms = rel_rms(o, idx, n, a, th);
	/* Reweighting corrects the bias of noise about a model that holds; where it moves the
	 * residuals more than that could (10%), the model misfits, the fitted times are no
	 * measure of the errors, and the weights of the measured times stand. */
	double rms1 = rel_rms(o, idx, n, a, th1);
	if (*rms > 1.1 * rms1) {
		memcpy(th, th1, sizeof th1);
		*rms = rms1, u = u1;
	}
	if (used)
		*used = u;
	return 0;
}

/* Bootstrap: resample the observations with replacement and refit, B times (a resample with
 * one size alone is drawn again: it fixes no line). With beta fixed, replicate b takes replicate
 * b of the fit beta came from, so its uncertainty carries over. */
static int bootstrap(struct sbr_model *m, struct sbr_fit *f, double beta,
                     const struct sbr_fit *from, uint64_t stream)
{
	size_t B = (size_t)m->opts.boot, n = f->nobs;
	f->boot = malloc(B * 3 * sizeof *f->boot);
	size_t *idx = malloc(n * sizeof *idx);
	double *v = malloc(B * sizeof *v);
	int rc = 0;
	if (!f->boot || !idx || !v)
		rc = SB_ENOMEM;
	struct sbr_rand rng;
	sbr_rand_seed(&rng, m->opts.seed, stream);
	for (size_t b = 0; b < B && rc == 0; b++) {
		double *th = f->boot + 3 * b;
		int tries = 0;
		do
			for (size_t i = 0; i < n; i++)
				idx[i] = f->idx[sbr_rand_below(&rng, n)];
		while (!distinct_sizes(m->obs, idx, n) && ++tries < 100);
		double bt = from && from->boot ? from->boot[3 * b + 1] : beta, rms;
		int r = tries < 100 && !(from && isnan(bt))
		            ? fit_once(m->obs, idx, n, f->algo, bt, th, &rms, NULL)
		            : -1;
		if (r == SB_ENOMEM)
			rc = r;
		else if (r)
			th[0] = th[1] = th[2] = NAN;
	}
	if (rc == 0) {
		f->nboot = B;
		struct sbr_param *ps[3] = {&f->alpha, &f->beta, &f->gamma};
		for (int j = 0; j < 3; j++) {
			for (size_t b = 0; b < B; b++)
				v[b] = f->boot[3 * b + (size_t)j];
			ps[j]->lo = isnan(ps[j]->v) ? NAN : sbr_quantile(v, B, 0.025);
			ps[j]->hi = isnan(ps[j]->v) ? NAN : sbr_quantile(v, B, 0.975);
		}
	}
	free(idx);
	free(v);
	return rc;
}

/* Hold out the largest p: fit the rest, predict it, the median relative error. */
static int holdout(struct sbr_model *m, struct sbr_fit *f, double beta)
{
	f->holdout_p = f->holdout_err = NAN;
	if (f->p_min == f->p_max)
		return 0;
	size_t *tr = malloc(f->nobs * sizeof *tr), ntr = 0, nte = 0;
	double *err = malloc(f->nobs * sizeof *err);
	int rc = 0;
	if (!tr || !err) {
		rc = SB_ENOMEM;
	} else {
		for (size_t i = 0; i < f->nobs; i++)
			if (m->obs[f->idx[i]].p < f->p_max)
				tr[ntr++] = f->idx[i];
		double th[3], rms;
		if (ntr > 1 && distinct_sizes(m->obs, tr, ntr) &&
		    (rc = fit_once(m->obs, tr, ntr, f->algo, beta, th, &rms, NULL)) == 0) {
			for (size_t i = 0; i < f->nobs; i++) {
				const struct sbr_obs *ob = &m->obs[f->idx[i]];
				if (ob->p == f->p_max)
					err[nte++] =
					    fabs(model_t(f->algo, ob->p, ob->n, th) - ob->t) /
					    ob->t;
			}
			f->holdout_p = f->p_max;
			f->holdout_err = sbr_quantile(err, nte, 0.5);
		}
		if (rc == -1)
			rc = 0;
	}
	free(tr);
	free(err);
	return rc;
}

/* Stability: alpha and beta (gamma folded in) fitted at each p alone; the spread of each,
 * (max - min) / mean, and a sentence when either passes DRIFT_LIMIT. */
static int stability(struct sbr_model *m, struct sbr_fit *f)
{
	f->alpha_spread = f->beta_spread = NAN;
	size_t *idx = malloc(f->nobs * sizeof *idx);
	double(*pv)[3] = malloc(f->nobs * sizeof *pv);
	if (!idx || !pv) {
		free(idx);
		free(pv);
		return SB_ENOMEM;
	}
	size_t np = 0;
	int rc = 0;
	for (size_t i = 0; i < f->nobs && rc == 0; i++) {
		double p = m->obs[f->idx[i]].p;
		int seen = 0;
		for (size_t k = 0; k < np && !seen; k++)
			seen = pv[k][0] == p;
		if (seen)
			continue;
		size_t n = 0;
		for (size_t j = 0; j < f->nobs; j++)
			if (m->obs[f->idx[j]].p == p)
				idx[n++] = f->idx[j];
		double th[3], rms;
		if (n < 2 || !distinct_sizes(m->obs, idx, n))
			continue;
		rc = fit_once(m->obs, idx, n, f->algo, NAN, th, &rms, NULL);
		if (rc == 0) {
			pv[np][0] = p, pv[np][1] = th[0], pv[np][2] = th[1];
			np++;
		} else if (rc == -1) {
			rc = 0;
		}
	}
	if (rc == 0 && np > 1) {
		double sp[2];
		size_t lo[2] = {0, 0}, hi[2] = {0, 0};
		for (int j = 0; j < 2; j++) {
			double mean = 0;
			for (size_t k = 0; k < np; k++) {
				mean += pv[k][j + 1] / (double)np;
				if (pv[k][j + 1] < pv[lo[j]][j + 1])
					lo[j] = k;
				if (pv[k][j + 1] > pv[hi[j]][j + 1])
					hi[j] = k;
			}
			sp[j] = mean > 0 ? (pv[hi[j]][j + 1] - pv[lo[j]][j + 1]) / mean : NAN;
		}
		f->alpha_spread = sp[0];
		f->beta_spread = sp[1];
		if (sp[0] > DRIFT_LIMIT)
			sbr_append(
			    f->drift, sizeof f->drift,
			    "alpha drifts %.0f%% across p (%.3g us at p = %g, %.3g us at p = %g)",
			    100 * sp[0], pv[lo[0]][1] * 1e6, pv[lo[0]][0], pv[hi[0]][1] * 1e6,
			    pv[hi[0]][0]);
		if (sp[1] > DRIFT_LIMIT)
			sbr_append(f->drift, sizeof f->drift,
			           "beta drifts %.0f%% (%.3g GB/s at p = %g, %.3g GB/s at p = %g)",
			           100 * sp[1], 1e-9 / pv[hi[1]][2], pv[hi[1]][0],
			           1e-9 / pv[lo[1]][2], pv[lo[1]][0]);
		if (*f->drift)
			sbr_append(f->drift, sizeof f->drift,
			           "one set of parameters does not describe every p");
	}
	free(idx);
	free(pv);
	return rc == -1 ? 0 : rc;
}

/* The beta of the send/recv (else handoff) fit for this all-reduce series: same backend, same
 * place, same size range; NULL when there is none or its beta came out 0. */
static const struct sbr_fit *p2p_for(const struct sbr_model *m, const struct key *k, int range)
{
	static const char *const order[] = {"sendrecv", "pipeline"};
	for (int b = 0; b < 2; b++)
		for (size_t i = 0; i < m->nfits; i++) {
			const struct sbr_fit *f = &m->fits[i];
			if (strcmp(f->benchmark, order[b]) == 0 &&
			    strcmp(f->backend, k->backend) == 0 && f->cross_host == k->cross_host &&
			    f->range_lo == (range ? m->opts.split : 0) && f->beta.v > 0)
				return f;
		}
	return NULL;
}

static int build_fit(struct sbr_model *m, const struct key *k, int group, int range, size_t *idx,
                     size_t n, struct sbr_fit *f)
{
	memset(f, 0, sizeof *f);
	f->benchmark = k->benchmark;
	f->backend = k->backend;
	f->cross_host = k->cross_host;
	f->group = group;
	f->range_lo = range ? m->opts.split : 0;
	f->range_hi = range ? INFINITY : m->opts.split;
	f->idx = idx;
	f->nobs = n;
	f->n_min = f->p_min = INFINITY;
	for (size_t i = 0; i < n; i++) {
		const struct sbr_obs *ob = &m->obs[idx[i]];
		f->n_min = fmin(f->n_min, ob->n), f->n_max = fmax(f->n_max, ob->n);
		f->p_min = fmin(f->p_min, ob->p), f->p_max = fmax(f->p_max, ob->p);
	}
	int collective = strcmp(k->benchmark, "allreduce") == 0 && !k->local;
	const struct sbr_fit *from = collective ? p2p_for(m, k, range) : NULL;
	double beta = from ? from->beta.v : NAN, th[3], rms;
	unsigned used = 0;
	int rc;
	if (!collective) {
		f->algo = SBR_P2P;
		if (k->local)
			sbr_append(
			    f->note, sizeof f->note,
			    "p = 1 only: a local copy, no network (fitted as alpha + n beta)");
	} else if (m->opts.algo >= 0) {
		f->algo = (enum sbr_algo)m->opts.algo;
		sbr_append(f->note, sizeof f->note, "algorithm forced (--algo %s)%s%s",
		           sbr_algo_name(f->algo), k->rec >= 0 ? "; the runs pinned " : "",
		           k->rec >= 0 ? sbr_algo_name((enum sbr_algo)k->rec) : "");
	} else if (k->rec >= 0) {
		f->algo = (enum sbr_algo)k->rec;
		f->algo_recorded = 1;
		sbr_append(f->note, sizeof f->note, "algorithm recorded: %s", k->why);
	} else {
		/* Not recorded: the best (least weighted residual) of the four, said so. */
		double r[4];
		int best = -1, second = -1;
		for (int a = 0; a < 4; a++) {
			rc = fit_once(m->obs, idx, n, (enum sbr_algo)a, beta, th, &r[a], NULL);
			if (rc == SB_ENOMEM)
				return rc;
			if (rc)
				r[a] = INFINITY;
			/* Strictly better beyond rounding: an exact tie keeps the earlier. */
			if (best < 0 || r[a] < r[best] * (1 - 1e-6) - 1e-12) {
				second = best;
				best = a;
			} else if (second < 0 || r[a] < r[second]) {
				second = a;
			}
		}
		if (!isfinite(r[best]))
			return -1;
		f->algo = (enum sbr_algo)best;
		sbr_append(f->note, sizeof f->note,
		           "algorithm not recorded%s%s%s: %s is the best fit of the four",
		           *k->why ? " (" : "", k->why, *k->why ? ")" : "", sbr_algo_name(f->algo));
		if (f->p_min == f->p_max)
			sbr_append(
			    f->note, sizeof f->note,
			    "one p: the four forms coincide, so the choice is arbitrary (and sets "
			    "the extrapolation)");
		else if (best == SBR_RECDOUB && second == SBR_TREE &&
		         r[second] <= r[best] * (1 + 1e-6) + 1e-12)
			/* T_tree(alpha, beta_eff) = T_recdoub(2 alpha, 2 beta_eff) at every p and
			 * n (and with beta fixed, tree(alpha, beta, gamma) = recursive doubling
			 * (2 alpha, beta, gamma + beta)): one family, told apart by no data. */
			sbr_append(f->note, sizeof f->note,
			           "tree is the same curves (recursive doubling at twice alpha and "
			           "beta): not told apart, the extrapolation is the same");
		else if (r[second] <= r[best] * 1.01)
			sbr_append(f->note, sizeof f->note, "%s fits as well (within 1%%)",
			           sbr_algo_name((enum sbr_algo)second));
	}
	if ((rc = fit_once(m->obs, idx, n, f->algo, beta, th, &rms, &used)) != 0)
		return rc;
	f->alpha.v = th[0];
	f->beta.v = th[1];
	f->gamma.v = th[2];
	f->rms_rel = rms;
	f->beta_effective = collective && !from;
	if (!(used & 1u))
		sbr_append(f->note, sizeof f->note,
		           "alpha came out negative: refitted without it (0)");
	if (!(used & 2u))
		sbr_append(f->note, sizeof f->note, "%s came out negative: refitted without it (0)",
		           from ? "gamma" : "beta");
	if (from)
		sbr_append(f->note, sizeof f->note,
		           "beta fixed from the %s fit; alpha and gamma fitted", from->benchmark);
	else if (collective)
		sbr_append(
		    f->note, sizeof f->note,
		    "gamma not separable from beta (c/b is fixed): beta is the effective %s, no "
		    "send/recv fit to fix beta",
		    gamma_share(f->algo) == 1 ? "beta + gamma" : "beta + gamma/2");
	/* Resamples of a handful of points are mostly the same two sizes, which any line fits
	 * exactly: the intervals shrink instead of widening. */
	if (n < 8)
		sbr_append(f->note, sizeof f->note,
		           "%zu points: too few for trustworthy bootstrap intervals", n);
	if ((rc = bootstrap(m, f, beta, from, (uint64_t)(m->nfits + 1))) != 0 ||
	    (rc = holdout(m, f, beta)) != 0 || (rc = stability(m, f)) != 0)
		return rc;
	return 0;
}

static int gather(struct sbr_run *const *runs, size_t nruns, struct sbr_model *m,
                  struct key **keysp, size_t *nkeys, int **groupof)
{
	size_t cap = 0;
	for (size_t r = 0; r < nruns; r++)
		cap += runs[r]->npts;
	m->obs = calloc(cap ? cap : 1, sizeof *m->obs);
	struct key *keys = calloc(cap ? cap : 1, sizeof *keys);
	int *gof = calloc(cap ? cap : 1, sizeof *gof);
	if (!m->obs || !keys || !gof) {
		free(keys);
		free(gof);
		return SB_ENOMEM;
	}
	size_t failed = 0, schedule = 0, notime = 0, nk = 0;
	for (size_t r = 0; r < nruns; r++) {
		const struct sbr_run *run = runs[r];
		for (size_t i = 0; i < run->npts; i++) {
			const struct sbr_point *pt = &run->pts[i];
			const char *b = pt->benchmark;
			if (!b || (strcmp(b, "allreduce") && strcmp(b, "sendrecv") &&
			           strcmp(b, "pipeline")))
				continue;
			if (strcmp(b, "pipeline") == 0) {
				const char *s = sbr_point_str(pt, "schedule");
				if (!s || strcmp(s, "handoff") != 0) {
					schedule++;
					continue;
				}
			}
			if (pt->check_failed) {
				failed++;
				continue;
			}
			if (!(pt->time > 0) || !isfinite(pt->time) || pt->ranks < 1 ||
			    pt->bytes == 0) {
				notime++;
				continue;
			}
			struct sbr_obs *ob = &m->obs[m->nobs];
			*ob =
			    (struct sbr_obs){.benchmark = strcmp(b, "allreduce") == 0  ? "allreduce"
			                                  : strcmp(b, "sendrecv") == 0 ? "sendrecv"
			                                                               : "pipeline",
			                     .algo = -1,
			                     .p = pt->ranks,
			                     .n = (double)pt->bytes,
			                     .t = pt->time,
			                     .t_lo = NAN,
			                     .t_hi = NAN,
			                     .cross_host = crosses_hosts(run, pt),
			                     .pt = pt,
			                     .run = r};
			json_t *ci =
			    json_object_get(json_object_get(pt->rec, "summary"), "median_ci95");
			if (strcmp(pt->time_kind, "median") == 0 && json_array_size(ci) == 2) {
				ob->t_lo = json_number_value(json_array_get(ci, 0));
				ob->t_hi = json_number_value(json_array_get(ci, 1));
			}
			struct key k = {.benchmark = ob->benchmark,
			                .backend = pt->backend,
			                .cross_host = ob->cross_host,
			                .local =
			                    ob->p == 1 && strcmp(ob->benchmark, "allreduce") == 0,
			                .rec = -1};
			if (strcmp(ob->benchmark, "allreduce") == 0 && !k.local)
				ob->algo = k.rec =
				    recorded_algo(run, pt->backend, k.why, sizeof k.why);
			size_t g = 0;
			while (g < nk && !same_key(&keys[g], &k))
				g++;
			if (g == nk)
				keys[nk++] = k;
			gof[m->nobs++] = (int)g;
		}
	}
	if (schedule)
		sbr_append(
		    m->notes, sizeof m->notes,
		    "%zu pipeline point%s of a schedule left out (a step with compute, not one "
		    "transfer)",
		    schedule, schedule == 1 ? "" : "s");
	if (failed)
		sbr_append(m->notes, sizeof m->notes,
		           "%zu point%s whose result check failed left out", failed,
		           failed == 1 ? "" : "s");
	if (notime)
		sbr_append(m->notes, sizeof m->notes,
		           "%zu point%s without a time or a size left out", notime,
		           notime == 1 ? "" : "s");
	*keysp = keys;
	*nkeys = nk;
	*groupof = gof;
	return 0;
}

void sbr_model_free(struct sbr_model *m)
{
	for (size_t i = 0; m->fits && i < m->nfits; i++) {
		free(m->fits[i].idx);
		free(m->fits[i].boot);
	}
	free(m->fits);
	free(m->obs);
	memset(m, 0, sizeof *m);
}

int sbr_model_build(struct sbr_run *const *runs, size_t nruns, const struct sbr_model_opts *o,
                    struct sbr_model *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	struct sbr_model_opts d = {.algo = -1};
	m->opts = o ? *o : d;
	if (!(m->opts.split > 0))
		m->opts.split = DEFAULT_SPLIT;
	if (m->opts.boot <= 0)
		m->opts.boot = DEFAULT_BOOT;
	if (!m->opts.seed)
		m->opts.seed = 1;
	if (m->opts.algo < -1)
		m->opts.algo = -1;
	if (m->opts.algo >= SBR_P2P)
		return sbr_fail(err, errlen, SB_EINVAL, "algorithm %d: not an all-reduce's",
		                m->opts.algo);
	if (m->opts.g <= 0)
		m->opts.g = DEFAULT_G;
	struct key *keys = NULL;
	int *gof = NULL;
	size_t nk = 0;
	int rc = gather(runs, nruns, m, &keys, &nk, &gof);
	if (rc == 0 && m->nobs == 0)
		rc = sbr_fail(err, errlen, SB_EINPUT,
		              "no point a cost model can use (all-reduce, send/recv or pipeline "
		              "handoff with a time) in %zu run%s%s%s",
		              nruns, nruns == 1 ? "" : "s", *m->notes ? ": " : "", m->notes);
	if (rc == 0 && !(m->fits = calloc(2 * nk, sizeof *m->fits)))
		rc = SB_ENOMEM;
	for (int rank = 0; rank < 4 && rc == 0; rank++)
		for (size_t g = 0; g < nk && rc == 0; g++) {
			if (key_rank(&keys[g]) != rank)
				continue;
			for (int range = 0; range < 2 && rc == 0; range++) {
				size_t *idx = malloc(m->nobs * sizeof *idx), n = 0;
				if (!idx) {
					rc = SB_ENOMEM;
					break;
				}
				for (size_t i = 0; i < m->nobs; i++)
					if (gof[i] == (int)g &&
					    (m->obs[i].n >= m->opts.split) == (range == 1))
						idx[n++] = i;
				if (n == 0 || !distinct_sizes(m->obs, idx, n)) {
					char sz[32];
					sbr_size_text(sz, sizeof sz, m->opts.split);
					if (n)
						sbr_append(
						    m->notes, sizeof m->notes,
						    "%s/%s%s %s %s: one size only, not fitted",
						    keys[g].benchmark, keys[g].backend,
						    keys[g].cross_host ? " across hosts" : "",
						    range ? "at or above" : "below", sz);
					free(idx);
					continue;
				}
				/* The fit owns idx from here (freed with the model). */
				struct sbr_fit *f = &m->fits[m->nfits++];
				rc = build_fit(m, &keys[g], (int)g, range, idx, n, f);
				if (rc == -1) {
					rc = 0;
					m->nfits--;
					free(f->idx);
					free(f->boot);
					sbr_append(m->notes, sizeof m->notes,
					           "%s/%s: no fit (singular)", keys[g].benchmark,
					           keys[g].backend);
				}
			}
		}
	if (rc == 0 && m->nfits == 0)
		rc = sbr_fail(
		    err, errlen, SB_EINPUT,
		    "no series with the 2 sizes a fit needs (in the eager or the rendezvous "
		    "range, split at %g bytes)",
		    m->opts.split);
	/* Hierarchical parameters: one host and across hosts, the rendezvous fits if any. */
	for (size_t i = 0; rc == 0 && i < m->nfits; i++) {
		const struct sbr_fit *f = &m->fits[i];
		if (strcmp(f->benchmark, "allreduce") || f->algo == SBR_P2P)
			continue;
		struct sbr_fit *slot = f->cross_host ? &m->inter : &m->intra;
		if (!slot->benchmark || f->range_lo > slot->range_lo)
			*slot = *f;
	}
	m->have_hier = m->intra.benchmark && m->inter.benchmark;
	if (!m->have_hier) {
		memset(&m->intra, 0, sizeof m->intra);
		memset(&m->inter, 0, sizeof m->inter);
	}
	free(keys);
	free(gof);
	if (rc)
		sbr_model_free(m);
	return rc;
}

int sbr_fit_covers(const struct sbr_model *m, const struct sbr_fit *f, const struct sbr_obs *o)
{
	if (o < m->obs || o >= m->obs + m->nobs)
		return 0;
	size_t i = (size_t)(o - m->obs);
	for (size_t k = 0; k < f->nobs; k++)
		if (f->idx[k] == i)
			return 1;
	return 0;
}

static int covers(const struct sbr_fit *f, double n)
{
	return n >= f->range_lo && n < f->range_hi;
}

const struct sbr_fit *sbr_model_fit_for(const struct sbr_model *m, const char *benchmark, double n)
{
	const struct sbr_fit *best = NULL;
	int bs = 0;
	for (size_t i = 0; i < m->nfits; i++) {
		const struct sbr_fit *f = &m->fits[i];
		if (strcmp(f->benchmark, benchmark) != 0 || !covers(f, n))
			continue;
		int s = f->cross_host ? 3 : f->p_max > 1 ? 2 : 1;
		if (!best || s > bs || (s == bs && f->nobs > best->nobs))
			best = f, bs = s;
	}
	return best;
}

const struct sbr_fit *sbr_model_series_fit(const struct sbr_model *m, const struct sbr_fit *f,
                                           double n)
{
	for (size_t i = 0; i < m->nfits; i++)
		if (m->fits[i].group == f->group && covers(&m->fits[i], n))
			return &m->fits[i];
	return f;
}

/* An all-reduce fit across ranks of this backend, inside a host or across hosts, for n bytes. */
static const struct sbr_fit *level(const struct sbr_model *m, const char *backend, int cross,
                                   double n)
{
	const struct sbr_fit *any = NULL;
	for (size_t i = 0; i < m->nfits; i++) {
		const struct sbr_fit *f = &m->fits[i];
		if (strcmp(f->benchmark, "allreduce") || f->algo == SBR_P2P ||
		    f->cross_host != cross || strcmp(f->backend, backend))
			continue;
		if (covers(f, n))
			return f;
		any = any ? any : f;
	}
	return any;
}

static void param_vec(const struct sbr_fit *f, double th[3])
{
	th[0] = f->alpha.v, th[1] = f->beta.v, th[2] = f->gamma.v;
}

/* Terms of a flat all-reduce (or a message) with parameters th. */
static void flat_terms(const struct sbr_fit *f, const double th[3], double p, double n, double t[3])
{
	double ca, cb, cc;
	sbr_algo_terms(f->algo, p, n, &ca, &cb, &cc);
	t[0] = ca * th[0];
	t[1] = cb * th[1];
	t[2] = isnan(th[2]) || f->algo == SBR_P2P ? NAN : cc * th[2];
}

/* Two levels: a ring reduce-scatter of n inside the host (g ranks: (g-1) alpha, (g-1)/g n beta
 * and gamma), the all-reduce of the n/g-byte shards across the p/g hosts with the inter-host
 * fit's algorithm, and a ring all-gather inside the host ((g-1) alpha, (g-1)/g n beta). With an
 * effective beta (gamma folded in), the two intra-host steps together are a ring all-reduce,
 * whose effective beta is exactly beta + gamma/2. */
static void hier_terms(const double ti[3], const struct sbr_fit *fx, const double tx[3], double p,
                       double g, double n, double t[3])
{
	double f = (g - 1) / g, x[3];
	flat_terms(fx, tx, p / g, n / g, x);
	t[0] = 2 * (g - 1) * ti[0] + x[0];
	t[1] = 2 * f * n * ti[1] + x[1];
	t[2] = isnan(ti[2]) || isnan(x[2]) ? NAN : f * n * ti[2] + x[2];
}

static double total(const double t[3])
{
	return t[0] + t[1] + (isnan(t[2]) ? 0 : t[2]);
}

/* The interval of a prediction: the prediction of every bootstrap replicate (both levels take
 * replicate b), its 2.5% and 97.5% quantiles. */
static int interval(const struct sbr_fit *fi, const struct sbr_fit *fx, double p, double g,
                    double n, struct sbr_pred *out)
{
	out->lo = out->hi = NAN;
	size_t B = fx ? (fi->nboot < fx->nboot ? fi->nboot : fx->nboot) : fi->nboot;
	if (!B || !fi->boot || (fx && !fx->boot))
		return 0;
	double *v = malloc(B * sizeof *v);
	if (!v)
		return SB_ENOMEM;
	for (size_t b = 0; b < B; b++) {
		double t[3];
		if (fx)
			hier_terms(fi->boot + 3 * b, fx, fx->boot + 3 * b, p, g, n, t);
		else
			flat_terms(fi, fi->boot + 3 * b, p, n, t);
		v[b] = total(t);
	}
	out->lo = sbr_quantile(v, B, 0.025);
	out->hi = sbr_quantile(v, B, 0.975);
	free(v);
	return 0;
}

int sbr_model_predict(const struct sbr_model *m, const struct sbr_fit *f, double p, double n,
                      struct sbr_pred *out)
{
	(void)m;
	if (!f || !(p >= 1) || !(n >= 0) || !isfinite(p) || !isfinite(n))
		return SB_EINVAL;
	double th[3], t[3];
	param_vec(f, th);
	flat_terms(f, th, p, n, t);
	*out = (struct sbr_pred){.p = p, .n = n, .t_alpha = t[0], .t_beta = t[1], .t_gamma = t[2]};
	out->t = total(t);
	return interval(f, NULL, p, 1, n, out);
}

int sbr_model_predict_hier(const struct sbr_model *m, const struct sbr_fit *f, double p, double g,
                           double n, struct sbr_pred *out)
{
	if (!f || f->algo == SBR_P2P || !(g >= 1) || !(p >= g) || !(n >= 0) || !isfinite(p) ||
	    !isfinite(n))
		return SB_EINVAL;
	const struct sbr_fit *fi = NULL, *fx = NULL;
	if (m->have_hier) {
		fi = level(m, f->backend, 0, n);
		fx = level(m, f->backend, 1, n / g);
	}
	if (!fi || !fx) /* no runs across hosts: the flat parameters at both levels */
		fi = sbr_model_series_fit(m, f, n), fx = sbr_model_series_fit(m, f, n / g);
	double ti[3], tx[3], t[3];
	param_vec(fi, ti);
	param_vec(fx, tx);
	hier_terms(ti, fx, tx, p, g, n, t);
	*out = (struct sbr_pred){.p = p, .n = n, .t_alpha = t[0], .t_beta = t[1], .t_gamma = t[2]};
	out->t = total(t);
	return interval(fi, fx, p, g, n, out);
}
