/* Errors, exit statuses and rank-aware logging, for both programs (scalebench and the
 * collector, scalebench-report).
 *
 * One convention for the whole project: functions return 0 or a negative SB_E* code; functions
 * that return pointers return NULL. Only main() calls exit(), with an SB_EXIT_* status. User
 * errors (bad input) are reported once, by rank 0, without a rank tag; faults are reported by
 * the rank that saw them, tagged "[rank R host]" so a log of many ranks says who failed.
 *
 * The codes, sb_strerror and sb_exit_status are in error.c, which uses nothing else (the
 * collector links it without MPI); the logging is in log.c, scalebench's only. */
#ifndef SB_ERROR_H
#define SB_ERROR_H

#include <stdarg.h>

/* Exit statuses. scalebench: 0 ok, 1 a result check failed, 2 bad input, 3 a fault, 4 a point
 * timed out, 128+N stopped by signal N. scalebench-report: 0 ok (compare: no regression), 1
 * compare found a regression, 2 bad input, 3 a fault (the database, an output, memory). */
enum sb_exit {
	SB_EXIT_OK = 0,
	SB_EXIT_CHECK = 1, /* scalebench: wrong results */
	SB_EXIT_REGRESSION = 1, /* scalebench-report compare: a point regressed */
	SB_EXIT_BAD_INPUT = 2, /* command line, options, input files */
	SB_EXIT_FAULT = 3, /* communication, memory, I/O, database */
	SB_EXIT_TIMEOUT = 4, /* a point passed --timeout */
	SB_EXIT_SIGNAL = 128, /* + the signal's number */
};

/* X-macro: code, value, exit status, message. */
#define SB_ERRNO_MAP(X)                                                                            \
	X(EINVAL, -1, SB_EXIT_BAD_INPUT, "invalid argument")                                       \
	X(ENOMEM, -2, SB_EXIT_FAULT, "out of memory")                                              \
	X(EIO, -3, SB_EXIT_FAULT, "input/output error")                                            \
	X(ECOMM, -4, SB_EXIT_FAULT, "communication error")                                         \
	X(ECHECK, -5, SB_EXIT_CHECK, "result check failed")                                        \
	X(ETIMEOUT, -6, SB_EXIT_TIMEOUT, "timed out")                                              \
	X(ENOTSUP, -7, SB_EXIT_BAD_INPUT, "not available in this build or on this machine")        \
	X(ESYS, -8, SB_EXIT_FAULT, "system call failed")                                           \
	X(EINPUT, -9, SB_EXIT_BAD_INPUT, "malformed or unreadable input")                          \
	X(EDB, -10, SB_EXIT_FAULT, "database error")

enum sb_errno {
#define SB__ERR_ENUM(name, val, status, msg) SB_##name = (val),
	SB_ERRNO_MAP(SB__ERR_ENUM)
#undef SB__ERR_ENUM
};

/* Text for a negative code ("unknown error" for anything else). */
const char *sb_strerror(int err);

/* Exit status for a code (the map above): SB_EXIT_OK for 0, SB_EXIT_FAULT for a code it does
 * not know. Async-signal-safe. */
int sb_exit_status(int err);

/* Tell the logger who we are; before this, messages carry no tag. */
void sb_log_set_rank(int rank, int size, const char *host);
int sb_log_rank(void);
const char *sb_log_host(void);

#if defined(__GNUC__)
#define SB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SB_PRINTF(a, b)
#endif

/* A fault seen by this rank: "[rank R host] scalebench: error: ..." on stderr. */
void sb_log_fault(const char *fmt, ...) SB_PRINTF(1, 2);
/* The same line for a signal handler (one write(2), no stdio, no malloc). */
void sb_log_fault_sigsafe(const char *msg);
/* A user error: printed by rank 0 only, "scalebench: error: ...". */
void sb_log_usage(const char *fmt, ...) SB_PRINTF(1, 2);
/* A warning, printed by rank 0 only. */
void sb_log_warn(const char *fmt, ...) SB_PRINTF(1, 2);
/* A warning seen by this rank, whichever it is: "[rank R host] scalebench: warning: ...". */
void sb_log_warn_rank(const char *fmt, ...) SB_PRINTF(1, 2);
/* Progress information on stderr, rank 0 only, silenced by sb_log_quiet. */
void sb_log_info(const char *fmt, ...) SB_PRINTF(1, 2);
void sb_log_set_quiet(int quiet);

#endif
