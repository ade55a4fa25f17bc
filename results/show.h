/* `show`: runs side by side. An overview of the runs, then per series (benchmark, backend, rank
 * count and parameters other than the size) a table of time and bandwidth against size with
 * one column group per run and the ratio to the first run, then the pipeline schedules'
 * summary. HTML adds log-log plots per series (one line per run) in the tables' units, inline
 * SVG (plot.h). */
#ifndef SBR_SHOW_H
#define SBR_SHOW_H

#include "runread.h"
#include "table.h"

#include <stdio.h>

/* The whole of show: the HTML page around it, or the tables in the other formats. */
int sbr_show(struct sbr_run *const *runs, size_t n, enum sbr_format fmt, FILE *out, char *err,
             size_t errlen);

/* Its sections, for a page that holds them among others (the report). The runs overview; a run
 * with the same run id as an earlier one is flagged in it and on stderr ("R2 has the same run
 * id as R1: the same run given twice?"), since its numbers would otherwise pass for a second
 * measurement. Then the benchmark tables (with plots in HTML). 0 or SB_ENOMEM. */
int sbr_show_runs(struct sbr_run *const *runs, size_t n, enum sbr_format fmt, FILE *out);
int sbr_show_tables(struct sbr_run *const *runs, size_t n, enum sbr_format fmt, FILE *out);

#endif
