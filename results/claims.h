/* The scaling claims of the source material (../shared/CLAIMS.md, the seeds) against the runs
 * (issue 13): the claims file (results/claims/claims.json, its format in
 * results/claims/README.md), its checked reader, and a verdict per claim.
 *
 * This header is the contract between the claims (claims.c), `scalebench-report claims`, and
 * the HTML report: they use these types and functions only. */
#ifndef SBR_CLAIMS_H
#define SBR_CLAIMS_H

#include "model.h"
#include "runread.h"
#include "table.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* T testable with measured numbers, C context only (a measured number feeds its arithmetic),
 * U untestable by a benchmark. */
enum sbr_claim_class { SBR_CLASS_T, SBR_CLASS_C, SBR_CLASS_U };
/* How a claim meets a measurement: directly, through arithmetic on measured inputs, through
 * the fitted cost model's extrapolation, or not at all. */
enum sbr_claim_kind { SBR_DIRECT, SBR_DERIVED, SBR_EXTRAPOLATED, SBR_UNTESTABLE_KIND };

/* One verbatim part of a claim, where the seed has it. */
struct sbr_claim_quote {
	const char *text;
	long offset; /* characters (code points) from the start of the seed, from 0 */
	long line; /* the line of that character, from 1 */
};

struct sbr_claim {
	const char *id; /* "C01".. */
	const char *quote; /* verbatim (or the metadata's paraphrase, verbatim 0) */
	const char *seed; /* seed file name */
	long offset; /* character offset of the quote in the seed (quotes[0]) */
	long line; /* its line */
	/* Every part: quotes[0] is quote, offset and line; then the file's more_quotes (a claim
	 * quoted with an ellipsis or said twice keeps each verbatim part). */
	const struct sbr_claim_quote *quotes;
	size_t nquotes;
	int verbatim;
	enum sbr_claim_class cls;
	const char *metric, *scope;
	int has_ref; /* a reference (value, lower, upper, unit) applies */
	double ref_value, ref_lower, ref_upper;
	const char *ref_unit;
	enum sbr_claim_kind kind;
	const json_t *params; /* the file's named assumptions (an object), or NULL */
	const char *rationale;
};

struct sbr_claims {
	json_t *root; /* owns the strings */
	struct sbr_claim *c;
	size_t n;
	struct sbr_claim_quote *q; /* the claims' quotes */
};

/* The claims file shipped with the sources (results/claims/claims.json of this checkout). */
const char *sbr_claims_default_path(void);
/* Read and check a claims file: a malformed one is SB_EINPUT with one message naming the file,
 * the claim's id and the field ("claims.json: claim C07: field 'offset': not an integer"). */
int sbr_claims_load(const char *path, struct sbr_claims *cl, char *err, size_t errlen);
void sbr_claims_free(struct sbr_claims *cl);

enum sbr_claim_verdict {
	SBR_PASS,
	SBR_FAIL,
	SBR_INCONCLUSIVE, /* the measured value's CI straddles the bound */
	SBR_NO_MEASUREMENT, /* testable, but the runs hold no input for it: never a pass */
	SBR_UNTESTABLE
};
const char *sbr_claim_verdict_name(enum sbr_claim_verdict v); /* "PASS", ... */

/* The absolute bounds of c's reference (ReFrame's relative thresholds applied to its value):
 * NAN on an open side, both NAN without a reference. */
void sbr_claim_bounds(const struct sbr_claim *c, double *bound_lo, double *bound_hi);
/* The decision alone: value and its interval [lo, hi] (NAN: no interval, the value alone is
 * judged; -INFINITY / INFINITY: open on that side) against [bound_lo, bound_hi] (NAN: no bound
 * on that side). PASS when the interval lies within the bounds, FAIL when wholly outside,
 * INCONCLUSIVE when it straddles one; NO_MEASUREMENT when nothing is known (value and interval
 * NAN). A value may be NAN beside a known interval (a percentile the run did not report,
 * bounded by another). */
enum sbr_claim_verdict sbr_claim_judge(double value, double lo, double hi, double bound_lo,
                                       double bound_hi);
/* Relative distance of value from the nearer bound, positive inside: (bound_hi - v) / |bound_hi|
 * or (v - bound_lo) / |bound_lo|, the smaller; NAN without a value or a bound. */
double sbr_claim_margin(double value, double bound_lo, double bound_hi);

struct sbr_claim_result {
	const struct sbr_claim *claim;
	enum sbr_claim_verdict verdict;
	double value, lo, hi; /* the measured (or derived) value and its 95% CI; NAN when none */
	double bound_lo, bound_hi; /* the bound it is held against; NAN on an open side */
	double margin; /* relative distance from the bound (positive: inside); NAN */
	char unit[16];
	char inputs[512]; /* what it was computed from: run ids, points, figures */
	char note[256]; /* why this verdict, in a sentence */
};

/* A verdict for every claim from the runs (and the fitted model m, NULL when none could be
 * built). *out gets cl->n results in the file's order (free()). 0, or SB_ENOMEM. */
int sbr_claims_evaluate(const struct sbr_claims *cl, struct sbr_run *const *runs, size_t nruns,
                        const struct sbr_model *m, struct sbr_claim_result **out);
/* The claims table in any format: id, class, verdict, value [CI], bound, margin, inputs, and
 * the quote (shortened in text; whole in md, csv and html). */
int sbr_claims_write(const struct sbr_claim_result *r, size_t n, enum sbr_format fmt, FILE *out);

#endif
