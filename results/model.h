/* Cost models of the collectives (issue 13): alpha-beta(-gamma) fits of measured all-reduce,
 * send/recv and pipeline-handoff times, by weighted least squares, with bootstrap intervals, a
 * hold-out check and extrapolation to large rank counts, flat and two-level hierarchical.
 *
 * Notation: p ranks, n bytes per rank, alpha seconds per message (latency), beta seconds per
 * byte moved (inverse bandwidth), gamma seconds per byte reduced (the local sum). The formulas
 * (Thakur, Rabenseifner and Gropp 2005; Chan et al. 2007), T = a(p) alpha + b(p, n) beta +
 * c(p, n) gamma:
 *   ring              2(p-1) alpha + 2 (p-1)/p n beta + (p-1)/p n gamma
 *   recursive doubling  lg p alpha +     lg p n beta  +   lg p n gamma
 *   Rabenseifner      2 lg p alpha + 2 (p-1)/p n beta + (p-1)/p n gamma
 *   binary tree       2 lg p alpha + 2 lg p n beta   +   lg p n gamma   (reduce then broadcast)
 *   point to point        alpha    +        n beta                       (send/recv, handoff)
 * with lg p = ceil(log2 p). At p = 1 an all-reduce moves nothing: its time is a local copy,
 * fitted as alpha + n beta of the point-to-point form and labelled so.
 *
 * This header is the contract between the model (model.c), the claims (claims.c) and the HTML
 * report: they use these types and functions only. */
#ifndef SBR_MODEL_H
#define SBR_MODEL_H

#include "runread.h"
#include "table.h"

#include <stddef.h>
#include <stdio.h>

enum sbr_algo { SBR_RING, SBR_RECDOUB, SBR_RABENSEIFNER, SBR_TREE, SBR_P2P, SBR_ALGO_COUNT };
const char *sbr_algo_name(enum sbr_algo a); /* "ring", "recursive-doubling", ... "p2p" */

/* The coefficients a, b, c of alpha, beta, gamma for algorithm a at p ranks and n bytes. */
void sbr_algo_terms(enum sbr_algo a, double p, double n, double *ca, double *cb, double *cc);

/* One measurement: what ran (benchmark "allreduce", "sendrecv", "pipeline"), where the run
 * recorded it (the algorithm, when the run pinned it: OpenMPI's coll_tuned, NCCL_ALGO; else
 * -1), at p ranks and n bytes, its median time and 95% interval (seconds), and whether it
 * crossed hosts (several hosts in the run's topology). */
struct sbr_obs {
	const char *benchmark;
	int algo; /* enum sbr_algo, or -1: not recorded */
	double p, n, t, t_lo, t_hi;
	int cross_host;
	const struct sbr_point *pt; /* where it came from */
	size_t run; /* index of its run in the runs given to sbr_model_build */
};

/* A fitted model: parameters with 95% bootstrap intervals (NAN where not fitted: gamma when
 * it cannot be told from beta), for one algorithm and one size range. */
struct sbr_param {
	double v, lo, hi;
};
struct sbr_fit {
	const char *benchmark; /* "allreduce", "sendrecv", "pipeline" (its handoff points) */
	const char *backend; /* the points' backend (points into the runs) */
	int cross_host; /* the points crossed hosts */
	enum sbr_algo algo;
	int algo_recorded; /* 1: the runs pinned it; 0: chosen as the best fit of the four, or
	                    * forced by the options (note says which) */
	/* The sizes it stands for, [range_lo, range_hi) bytes: eager or rendezvous. */
	double range_lo, range_hi;
	double n_min, n_max; /* the sizes measured in that range */
	double p_min, p_max; /* the rank counts in the data */
	size_t nobs;
	size_t *idx; /* its observations: indices into the model's obs (owned by the model) */
	int group; /* the eager and rendezvous fits of one series share it: same benchmark,
	            * backend, place (p = 1, one host, across hosts) and recorded algorithm */
	/* gamma NAN: not separable from beta in these data, and beta is then the effective
	 * beta + gamma c/b (beta + gamma/2 for ring), beta_effective 1. */
	struct sbr_param alpha, beta, gamma;
	int beta_effective;
	double rms_rel; /* root mean square relative residual */
	/* Hold-out: fitted without the largest p, the median relative error of the predictions at
	 * that p (NAN when only one p was measured). */
	double holdout_p, holdout_err;
	/* Stability: the same model fitted at each p alone; the largest relative spread of alpha
	 * and of beta across p (NAN with one p), and a sentence when they drift (else ""). */
	double alpha_spread, beta_spread;
	char drift[256];
	char note[512]; /* caveats of this fit ("p = 1 only: a local copy, no network") */
	/* The bootstrap replicates, (alpha, beta, gamma) each, nboot of them (owned by the
	 * model; the predictions' intervals come from them). */
	double *boot;
	size_t nboot;
};

/* A prediction at (p, n): the time and its 95% interval (from the bootstrap replicates), and
 * its terms: latency (alpha), bandwidth (beta), reduction (gamma). */
struct sbr_pred {
	double p, n, t, lo, hi;
	double t_alpha, t_beta, t_gamma;
};

struct sbr_model_opts {
	double split; /* bytes where eager ends and rendezvous begins; 0: 65536 */
	int boot; /* bootstrap replicates; 0: 1000 */
	unsigned long long seed; /* of the bootstrap; 0: 1 */
	int algo; /* -1: as recorded, else the best of the four; or force one enum sbr_algo */
	int g; /* ranks per host of the hierarchical extrapolation; 0: 8 */
};

struct sbr_model {
	struct sbr_model_opts opts; /* as used, defaults filled in */
	struct sbr_obs *obs;
	size_t nobs;
	struct sbr_fit *fits; /* per benchmark and size range */
	size_t nfits;
	/* Hierarchical: intra-host and inter-host parameters when the runs span hosts (else
	 * have_hier 0 and the hierarchical extrapolation uses the flat parameters, said so). */
	int have_hier;
	struct sbr_fit intra, inter; /* copies of two of fits (the rendezvous ones if any) */
	char notes[1024]; /* what was left out and why: points, size ranges ("" when nothing) */
};

/* Gather the observations of runs (all-reduce, send/recv, pipeline handoff points) and fit
 * them. The model points into the runs: free it first. 0; SB_EINPUT with a message in err when
 * no run has a point a model can use, or no series has the 2 sizes a fit needs; SB_ENOMEM. */
int sbr_model_build(struct sbr_run *const *runs, size_t nruns, const struct sbr_model_opts *o,
                    struct sbr_model *m, char *err, size_t errlen);
void sbr_model_free(struct sbr_model *m);

/* The fit for benchmark (e.g. "allreduce") that covers n bytes, or NULL: for an all-reduce,
 * one across hosts before one inside a host before a local copy (p = 1). */
const struct sbr_fit *sbr_model_fit_for(const struct sbr_model *m, const char *benchmark, double n);
/* The fit of f's series (same benchmark, backend, place and recorded algorithm) for n bytes:
 * f or its eager / rendezvous counterpart; f when neither covers n. */
const struct sbr_fit *sbr_model_series_fit(const struct sbr_model *m, const struct sbr_fit *f,
                                           double n);
/* Whether observation o (one of m->obs) is one of those fit f was fitted to. */
int sbr_fit_covers(const struct sbr_model *m, const struct sbr_fit *f, const struct sbr_obs *o);

/* Predict at p ranks and n bytes with fit f (flat), or two-level hierarchical with g ranks per
 * host (reduce-scatter inside the host, all-reduce of n/g across p/g hosts, all-gather inside;
 * intra and inter parameters from m when it has them): 0, or SB_EINVAL. */
int sbr_model_predict(const struct sbr_model *m, const struct sbr_fit *f, double p, double n,
                      struct sbr_pred *out);
int sbr_model_predict_hier(const struct sbr_model *m, const struct sbr_fit *f, double p, double g,
                           double n, struct sbr_pred *out);

/* `scalebench-report model`'s output: the fits, the hold-out and stability checks, and the
 * extrapolation table (p = 1e3, 1e4, 1e5, 3e5, 1e6; 16 KiB, 256 MiB, 10 GiB; term by term, flat
 * and hierarchical) with the caveats beside it, in any format. HTML: headings and tables only,
 * for the caller's page (sbr_html_begin / sbr_html_end around it). 0, or SB_ENOMEM. */
int sbr_model_write(const struct sbr_model *m, enum sbr_format fmt, FILE *out);

#endif
