/* What the targets share inside tests/fuzz (fuzz.c); the public side is fuzz.h. */
#ifndef SB_FUZZ_IMPL_H
#define SB_FUZZ_IMPL_H

#include "claims.h"
#include "runread.h"
#include "table.h"

/* Use a run read from hostile bytes as scalebench-report does: every point's metrics, params
 * and series, `show` in format fmt, and the shipped claims judged against it, written out (to
 * /dev/null). 0 or SB_ENOMEM. */
int sb__fuzz_use_run(struct sbr_run *r, enum sbr_format fmt);
/* The recorded runs the claims target judges claims against (tests/fixtures/runs), read once;
 * those that cannot be read are left out. Their count. */
size_t sb__fuzz_runs(struct sbr_run ***out);
/* The claims file shipped with the sources, read once; NULL when it cannot be. */
const struct sbr_claims *sb__fuzz_default_claims(void);
/* The claims table of cl against runs[0..n-1] (to /dev/null). 0 or SB_ENOMEM. */
int sb__fuzz_claims_table(const struct sbr_claims *cl, struct sbr_run *const *runs, size_t n);

#endif
