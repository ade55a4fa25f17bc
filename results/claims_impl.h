/* What the claims file's reader (claims.c) and the measures (claims_measure.c) share. Internal:
 * the public API is claims.h. */
#ifndef SBR_CLAIMS_IMPL_H
#define SBR_CLAIMS_IMPL_H

#include "claims.h"

/* A measure: the `metric` a claim names, the unit its reference must be in, the params it
 * reads (the reader checks they are there), and the function that fills a result from the
 * runs: value, lo, hi (NAN, or +-INFINITY for an open side) in unit, inputs; note only when
 * there is nothing to judge (why) or a caveat. */
struct sbr__claim_measure;
typedef void (*sbr__claim_measure_fn)(const struct sbr__claim_measure *ms,
                                      const struct sbr_claim *c, struct sbr_run *const *runs,
                                      size_t nruns, const struct sbr_model *m,
                                      struct sbr_claim_result *r);
struct sbr__claim_measure {
	const char *name, *unit;
	const char *params[4];
	sbr__claim_measure_fn fn;
};

/* The measure of that name, or NULL. */
const struct sbr__claim_measure *sbr__claims_measure(const char *name);

#endif
