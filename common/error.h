/* Errors and rank-aware logging.
 *
 * One convention for the whole project: functions return 0 or a negative SB_E* code; functions
 * that return pointers return NULL. Only main() calls exit(). User errors (bad input) are
 * reported once, by rank 0, without a rank tag; faults are reported by the rank that saw them,
 * tagged "[rank R host]" so a log of many ranks says who failed. */
#ifndef SB_ERROR_H
#define SB_ERROR_H

#include <stdarg.h>

/* X-macro: code, value, process exit status, message. */
#define SB_ERRNO_MAP(X)                                                                            \
	X(EINVAL, -1, 2, "invalid argument")                                                       \
	X(ENOMEM, -2, 3, "out of memory")                                                          \
	X(EIO, -3, 3, "input/output error")                                                        \
	X(ECOMM, -4, 3, "communication error")                                                     \
	X(ECHECK, -5, 1, "result check failed")                                                    \
	X(ETIMEOUT, -6, 4, "timed out")                                                            \
	X(ENOTSUP, -7, 2, "not available in this build or on this machine")                        \
	X(ESYS, -8, 3, "system call failed")

enum sb_errno {
#define SB__ERR_ENUM(name, val, status, msg) SB_##name = (val),
	SB_ERRNO_MAP(SB__ERR_ENUM)
#undef SB__ERR_ENUM
};

/* Text for a negative code ("unknown error" for anything else). */
const char *sb_strerror(int err);

/* Exit status for a code: 0 for 0, 2 for bad input, 1 for a failed check, 4 for a timeout,
 * 3 for other faults. */
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
/* Progress information on stderr, rank 0 only, silenced by sb_log_quiet. */
void sb_log_info(const char *fmt, ...) SB_PRINTF(1, 2);
void sb_log_set_quiet(int quiet);

#endif
