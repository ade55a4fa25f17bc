/* scalebench-report, the collector: what its parts share. No MPI here. Functions that can fail
 * return 0 or a negative SB_E* code (common/error.h, shared with scalebench: SB_EINPUT for bad
 * input, SB_EDB for the database, SB_EIO for an output, SB_ENOMEM) and write one line into err
 * (errlen bytes) that names the file, and the line where there is one: "runs/x.jsonl:3: ...".
 * main() exits with an SB_EXIT_* status: sb_exit_status of the code, or SB_EXIT_REGRESSION. */
#ifndef SBR_H
#define SBR_H

#include "error.h"

#include <stddef.h>

/* The run-file schema versions this collector reads (results/README.md). */
#define SBR_SCHEMA_MIN 1
#define SBR_SCHEMA_MAX 1

#endif
