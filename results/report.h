/* `report`: one self-contained HTML page about a set of runs (inline CSS and SVG, no scripts,
 * nothing fetched): the runs, the claims table with a verdict per claim, the cost model (its
 * plots: measured points, fitted curves, the extrapolation to 10^6 ranks with its bootstrap
 * interval; then its tables), and the benchmark tables of show. */
#ifndef SBR_REPORT_H
#define SBR_REPORT_H

#include "runread.h"

#include <stdio.h>

/* Write the page to out. claims: the claims file (NULL: sbr_claims_default_path()). A claims
 * file that cannot be read is an error (SB_EINPUT, message in err) and nothing is written:
 * a report without its claims table would pass for one without claims. Runs that give the
 * model nothing to fit are not: the page says so where the model would be. 0, SB_EINPUT,
 * SB_ENOMEM. */
int sbr_report(struct sbr_run *const *runs, size_t n, const char *claims, FILE *out, char *err,
               size_t errlen);

#endif
