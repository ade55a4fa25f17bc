/* Importers: logs of other benchmark tools turned into run records of our schema
 * (results/README.md), so numbers measured before scalebench, or beside it, land in the same
 * tables. Read: nccl-tests' text output and its -J JSON file, and the text output of the OSU
 * Micro-Benchmarks (osu_latency, osu_bw, osu_bibw, the collectives, with or without -f). */
#ifndef SBR_IMPORT_H
#define SBR_IMPORT_H

#include "sbr.h"

#include <jansson.h>
#include <stddef.h>

/* What a file looked like. */
enum sbr_import_kind { SBR_IMPORT_NCCL_TEXT, SBR_IMPORT_NCCL_JSON, SBR_IMPORT_OSU_TEXT };

/* Read `path` (the format is told from its content, never its name), and return in *records a
 * new JSON array of records in our run-file schema: one `run`, one `point` per data row (for
 * nccl-tests one per row and per out-of-place/in-place half), one `end`. The run_id is derived
 * from the bytes of the file, so importing the same log twice gives the same id. end.status is
 * "incomplete-import" for a log that stops early (nccl-tests without its closing "# Avg bus
 * bandwidth" line, a last line cut short, a -J file that was never closed), "check-failed" when
 * the tool reported wrong results, else "ok".
 *
 * Returns 0, or SB_EINPUT with "path:line: why" in err for a file that is none of the formats or
 * is malformed (a data row with the wrong number of columns, text where a number must be, no data
 * rows at all), SB_ENOMEM. *kind is set as soon as the format is recognised, so it names the
 * parser that failed too; kind may be NULL. */
int sbr_import(const char *path, json_t **records, enum sbr_import_kind *kind, char *err,
               size_t errlen);

/* "nccl-tests text", "nccl-tests json", "osu text". */
const char *sbr_import_kind_name(enum sbr_import_kind kind);

#endif
