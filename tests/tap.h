/* A small TAP producer for the tests (Test Anything Protocol, read by prove).
 *
 * Declare the plan first (no lazy plans: an early exit must show as a failure), then check;
 * main returns tap_done(), the number of failed checks (capped at 254), so a failed test file
 * never exits 0. On failure the file, line and both values are printed as diagnostics (on
 * stderr, so prove shows them without -v). Under
 * MPI, ranks other than 0 call tap_silence() and print nothing. */
#ifndef SB_TAP_H
#define SB_TAP_H

#include <stddef.h>

#if defined(__GNUC__)
#define TAP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TAP_PRINTF(a, b)
#endif

void tap_plan(int n);
void tap_skip_all(const char *fmt, ...) TAP_PRINTF(1, 2); /* prints 1..0 # SKIP and exits 0 */
void tap_bail(const char *fmt, ...) TAP_PRINTF(1, 2); /* Bail out! and exit 255 */
void tap_diag(const char *fmt, ...) TAP_PRINTF(1, 2);
void tap_skip(int n, const char *reason);
void tap_silence(void);
int tap_done(void);

int tap_ok_at(const char *file, int line, int cond, const char *fmt, ...) TAP_PRINTF(4, 5);
int tap_is_int_at(const char *file, int line, long long got, long long want, const char *fmt, ...)
    TAP_PRINTF(5, 6);
int tap_is_double_at(const char *file, int line, double got, double want, double tol,
                     const char *fmt, ...) TAP_PRINTF(6, 7);
int tap_is_string_at(const char *file, int line, const char *got, const char *want, const char *fmt,
                     ...) TAP_PRINTF(5, 6);

#define ok(cond, ...) tap_ok_at(__FILE__, __LINE__, !!(cond), __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int_at(__FILE__, __LINE__, (got), (want), __VA_ARGS__)
#define is_double(got, want, tol, ...)                                                             \
	tap_is_double_at(__FILE__, __LINE__, (got), (want), (tol), __VA_ARGS__)
#define is_string(got, want, ...) tap_is_string_at(__FILE__, __LINE__, (got), (want), __VA_ARGS__)

#endif
