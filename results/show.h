/* `show`: runs side by side. An overview of the runs, then per series (benchmark, backend, rank
 * count and parameters other than the size) a table of time and bandwidth against size with
 * one column group per run and the ratio to the first run, then the pipeline schedules'
 * summary. HTML adds a log-log plot per series (one line per run), inline SVG. */
#ifndef SBR_SHOW_H
#define SBR_SHOW_H

#include "runread.h"
#include "table.h"

#include <stdio.h>

int sbr_show(struct sbr_run *const *runs, size_t n, enum sbr_format fmt, FILE *out, char *err,
             size_t errlen);

#endif
