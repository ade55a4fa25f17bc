/* scalebench-report, the collector: what its parts share. No MPI here. Functions that can fail
 * return 0 or a negative SBR_E* code and write one line into err (errlen bytes) that names the
 * file, and the line where there is one: "runs/x.jsonl:3: ...". */
#ifndef SBR_H
#define SBR_H

#include <stddef.h>

#define SBR_EINPUT (-2) /* bad input: malformed or unreadable file, unknown schema, bad option */
#define SBR_EIO (-3) /* the database or an output file could not be written */
#define SBR_ENOMEM (-4)

/* Exit statuses of scalebench-report. */
#define SBR_EXIT_OK 0
#define SBR_EXIT_REGRESSION 1
#define SBR_EXIT_BAD_INPUT 2
#define SBR_EXIT_FAULT 3

/* The run-file schema versions this collector reads (results/README.md). */
#define SBR_SCHEMA_MIN 1
#define SBR_SCHEMA_MAX 1

#endif
