#include "tap.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int planned = -1, run = 0, failed = 0, quiet = 0;

void tap_silence(void)
{
	quiet = 1;
}

void tap_plan(int n)
{
	planned = n;
	if (!quiet)
		printf("1..%d\n", n);
	fflush(stdout);
}

void tap_skip_all(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!quiet) {
		printf("1..0 # SKIP ");
		vprintf(fmt, ap);
		printf("\n");
	}
	va_end(ap);
	fflush(stdout);
	exit(0);
}

void tap_bail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("Bail out! ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	exit(255);
}

void tap_diag(const char *fmt, ...)
{
	if (quiet)
		return;
	/* To stderr, as Test::More does, so prove shows it without -v (CI logs). */
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fprintf(stderr, "# ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	fflush(stderr);
}

void tap_skip(int n, const char *reason)
{
	for (int i = 0; i < n; i++) {
		run++;
		if (!quiet)
			printf("ok %d # skip %s\n", run, reason);
	}
	fflush(stdout);
}

static int report(const char *file, int line, int cond, const char *fmt, va_list ap)
{
	run++;
	if (!cond)
		failed++;
	if (quiet)
		return cond;
	printf("%sok %d - ", cond ? "" : "not ", run);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond)
		tap_diag("  Failed test at %s line %d.", file, line);
	fflush(stdout);
	return cond;
}

int tap_ok_at(const char *file, int line, int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(file, line, cond, fmt, ap);
	va_end(ap);
	return cond;
}

int tap_is_int_at(const char *file, int line, long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int cond = report(file, line, got == want, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_diag("         got: %lld\n#     expected: %lld", got, want);
	return cond;
}

int tap_is_double_at(const char *file, int line, double got, double want, double tol,
                     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int eq = (isnan(got) && isnan(want)) || fabs(got - want) <= tol;
	int cond = report(file, line, eq, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_diag("         got: %.17g\n#     expected: %.17g (tolerance %g)", got, want,
		         tol);
	return cond;
}

int tap_is_string_at(const char *file, int line, const char *got, const char *want, const char *fmt,
                     ...)
{
	va_list ap;
	va_start(ap, fmt);
	int eq = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);
	int cond = report(file, line, eq, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_diag("         got: '%s'\n#     expected: '%s'", got ? got : "(null)",
		         want ? want : "(null)");
	return cond;
}

int tap_done(void)
{
	if (planned >= 0 && run != planned) {
		tap_diag("planned %d tests but ran %d", planned, run);
		if (!failed)
			failed = 1;
	}
	fflush(stdout);
	return failed > 254 ? 254 : failed;
}
