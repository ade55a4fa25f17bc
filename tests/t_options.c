/* Options: size parsing and formatting, the table-driven command-line parser with the common
 * table appended, the -b/-e/-f size sweep, and the echo of every option into JSON. */
#include "bench.h"
#include "driver.h"
#include "error.h"
#include "options.h"
#include "sweep.h"
#include "tap.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAN 195

/* A table of our own, one row per type. */
static const struct sb_opt test_opts[] = {
    {"count", 'k', SB_OPT_INT, "N", "3", NULL, 1, "a count"},
    {"ratio", 'r', SB_OPT_DOUBLE, "X", "0.5", NULL, 0, "a ratio"},
    {"buf", 0, SB_OPT_SIZE, "SIZE", "1K", NULL, 16, "a buffer size"},
    {"name", 'N', SB_OPT_STRING, "S", NULL, NULL, 0, "a name"},
    {"mode", 'm', SB_OPT_CHOICE, "M", "fast", "fast|slow|exact", 0, "a mode"},
    {"verbose", 'v', SB_OPT_FLAG, NULL, NULL, NULL, 0, "a flag"},
    {0},
};

static const struct sb_opt *const tables[] = {test_opts, sb_common_opts, NULL};
static const struct sb_opt *const common_only[] = {sb_common_opts, NULL};

static char err[512];

/* Parse the NULL-terminated words after a program name. */
static int parse_with(struct sb_args *a, const struct sb_opt *const *t, ...)
{
	char *argv[64];
	int argc = 0;
	argv[argc++] = "t_options";
	va_list ap;
	va_start(ap, t);
	for (char *w; (w = va_arg(ap, char *)) != NULL;)
		argv[argc++] = w;
	va_end(ap);
	argv[argc] = NULL;
	return sb_args_parse(a, t, argc, argv, 1, err, sizeof err);
}

#define parse(a, ...) parse_with((a), tables, __VA_ARGS__, (char *)NULL)
#define parse_common(a, ...) parse_with((a), common_only, __VA_ARGS__, (char *)NULL)

/* err contains needle (with a diagnostic when it does not). */
static int err_has(const char *needle)
{
	if (strstr(err, needle))
		return 1;
	tap_diag("error message '%s' lacks '%s'", err, needle);
	return 0;
}

static void test_parse_size(void)
{
	size_t v = 1;
	is_int(sb_parse_size("4", &v), 0, "'4' parses");
	is_int(v, 4, "'4' is 4 bytes");
	is_int(sb_parse_size("0", &v), 0, "'0' parses");
	is_int(v, 0, "'0' is 0 bytes");
	is_int(sb_parse_size("64K", &v), 0, "'64K' parses");
	is_int(v, 65536, "'64K' is 65536");
	is_int(sb_parse_size("64k", &v), 0, "'64k' parses");
	is_int(v, 65536, "'64k' is 65536 too");
	is_int(sb_parse_size("2G", &v), 0, "'2G' parses");
	is_int(v, 2147483648LL, "'2G' is 2^31");
	is_int(sb_parse_size("1MiB", &v), 0, "'1MiB' parses");
	is_int(v, 1048576, "'1MiB' is 2^20");
	is_int(sb_parse_size("3kb", &v), 0, "'3kb' parses");
	is_int(v, 3072, "'3kb' is 3 x 1024");
	is_int(sb_parse_size("7B", &v), 0, "'7B' parses");
	is_int(v, 7, "'7B' is 7 bytes");
	is_int(sb_parse_size("5T", &v), 0, "'5T' parses");
	ok(v == (size_t)5 << 40, "'5T' is 5 x 2^40");
	/* The largest T count that fits: (2^64 - 1) >> 40 = 2^24 - 1 = 16777215. */
	is_int(sb_parse_size("16777215T", &v), 0, "'16777215T' parses (largest T that fits)");
	ok(v == (size_t)16777215 << 40, "'16777215T' is 16777215 x 2^40");
	is_int(sb_parse_size("18446744073709551615", &v), 0, "SIZE_MAX parses");
	ok(v == SIZE_MAX, "SIZE_MAX is SIZE_MAX");

	const char *bad[] = {
	    "",
	    "-4",
	    "4X",
	    "1.5M",
	    "99999999999999999999",
	    "17179869184T",
	    "16777216T",
	    "18446744073709551616",
	    "K",
	    "4KiBx",
	    "4iB",
	    "0x10",
	    "4KK",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		is_int(sb_parse_size(bad[i], &v), SB_EINVAL, "'%s' is rejected", bad[i]);
	is_int(sb_parse_size(NULL, &v), SB_EINVAL, "NULL is rejected");
}

static void test_format_size(void)
{
	char buf[32];
	is_string(sb_format_size(0, buf, sizeof buf), "0", "format 0");
	is_string(sb_format_size(1000, buf, sizeof buf), "1000", "format 1000 (not a power)");
	is_string(sb_format_size(1024, buf, sizeof buf), "1K", "format 1024");
	is_string(sb_format_size(1536, buf, sizeof buf), "1536", "format 1536 (not exact in K)");
	is_string(sb_format_size(65536, buf, sizeof buf), "64K", "format 64K");
	is_string(sb_format_size(1025 * 1024, buf, sizeof buf), "1025K", "format 1025K");
	is_string(sb_format_size((size_t)64 << 20, buf, sizeof buf), "64M", "format 64M");
	is_string(sb_format_size((size_t)3 << 30, buf, sizeof buf), "3G", "format 3G");
	is_string(sb_format_size((size_t)2 << 40, buf, sizeof buf), "2T", "format 2T");
	is_string(sb_format_size((size_t)1 << 50, buf, sizeof buf), "1024T", "format 2^50");
	/* The formatted text parses back to the same size. */
	size_t back = 0;
	sb_parse_size(sb_format_size((size_t)48 << 30, buf, sizeof buf), &back);
	ok(back == (size_t)48 << 30, "format then parse 48G round-trips");
}

static void test_args_parse(void)
{
	struct sb_args a;

	/* Defaults. */
	is_int(parse_with(&a, tables, (char *)NULL), 0, "no arguments: ok");
	is_string(err, "", "no arguments: no message");
	size_t ncommon = 0;
	while (sb_common_opts[ncommon].name)
		ncommon++;
	is_int(a.n, 6 + ncommon, "6 rows of ours + every common row");
	is_int(sb_arg_int(&a, "count"), 3, "default count");
	is_double(sb_arg_double(&a, "ratio"), 0.5, 0, "default ratio");
	is_int(sb_arg_size(&a, "buf"), 1024, "default buf 1K");
	ok(sb_arg_str(&a, "name") == NULL, "name without default: unset");
	is_int(sb_arg_choice(&a, "mode"), 0, "default mode is choice 0");
	is_string(sb_arg_str(&a, "mode"), "fast", "default mode text");
	is_int(sb_arg_flag(&a, "verbose"), 0, "flag off by default");
	is_int(sb_arg_given(&a, "count"), 0, "defaulted count is not 'given'");
	is_int(sb_arg_size(&a, "min-bytes"), 4, "common default -b 4");
	is_int(sb_arg_size(&a, "max-bytes"), 64 << 20, "common default -e 64M");
	is_int(sb_arg_int(&a, "step-factor"), 2, "common default -f 2");
	is_int(sb_arg_int(&a, "warmup"), 10, "common default -w 10");
	is_int(sb_arg_int(&a, "max-iters"), 100000, "common default --max-iters");
	is_double(sb_arg_double(&a, "precision"), 2, 0, "common default --precision 2");
	is_string(sb_arg_str(&a, "backend"), "mpi", "common default --backend mpi");
	ok(sb_arg_str(&a, "iters") == NULL, "-n unset by default (adaptive)");
	is_int(sb_arg_given(&a, "iters"), 0, "-n not given");

	/* Short forms, attached and separate values, a cluster of flags. */
	is_int(parse(&a, "-k", "7", "-r0.25", "-N", "bob", "-m", "slow", "-vq", "-b", "1K", "-e",
	             "2M", "-n", "50"),
	       0, "short forms: ok (%s)", err);
	is_int(sb_arg_int(&a, "count"), 7, "-k 7");
	is_double(sb_arg_double(&a, "ratio"), 0.25, 0, "-r0.25");
	is_string(sb_arg_str(&a, "name"), "bob", "-N bob");
	is_int(sb_arg_choice(&a, "mode"), 1, "-m slow is choice 1");
	is_int(sb_arg_flag(&a, "verbose"), 1, "-v in a cluster");
	is_int(sb_arg_flag(&a, "quiet"), 1, "-q in a cluster");
	is_int(sb_arg_size(&a, "min-bytes"), 1024, "-b 1K");
	is_int(sb_arg_size(&a, "max-bytes"), 2 << 20, "-e 2M");
	is_int(sb_arg_int(&a, "iters"), 50, "-n 50");
	is_int(sb_arg_given(&a, "count"), 1, "-k is given");
	is_int(sb_arg_given(&a, "ratio"), 1, "-r is given");
	is_int(sb_arg_given(&a, "buf"), 0, "--buf is not given");
	is_int(sb_arg_size(&a, "buf"), 1024, "--buf keeps its default");

	/* Long forms, with '=' and separate values; sizes in K, M and G. */
	is_int(parse(&a, "--count=9", "--ratio", "1e-3", "--buf", "64K", "--name=alice", "--mode",
	             "exact", "--verbose", "--max-bytes", "1G", "--min-bytes=8", "--precision",
	             "0.5"),
	       0, "long forms: ok (%s)", err);
	is_int(sb_arg_int(&a, "count"), 9, "--count=9");
	is_double(sb_arg_double(&a, "ratio"), 1e-3, 0, "--ratio 1e-3");
	is_int(sb_arg_size(&a, "buf"), 65536, "--buf 64K");
	is_string(sb_arg_str(&a, "name"), "alice", "--name=alice");
	is_int(sb_arg_choice(&a, "mode"), 2, "--mode exact is choice 2");
	is_int(sb_arg_flag(&a, "verbose"), 1, "--verbose");
	is_int(sb_arg_flag(&a, "quiet"), 0, "-q not given this time");
	ok(sb_arg_size(&a, "max-bytes") == (size_t)1 << 30, "--max-bytes 1G");
	is_int(sb_arg_size(&a, "min-bytes"), 8, "--min-bytes=8");
	is_double(sb_arg_double(&a, "precision"), 0.5, 0, "--precision 0.5");

	/* Given with the default's value still counts as given. */
	is_int(parse(&a, "-k", "3"), 0, "-k 3: ok");
	is_int(sb_arg_given(&a, "count"), 1, "-k 3 (the default) is given");
	is_int(sb_arg_given(&a, "ratio"), 0, "ratio not given, only defaulted");

	/* Unknown options. */
	is_int(parse(&a, "-k", "2", "--bogus"), SB_EINVAL, "unknown long option: SB_EINVAL");
	ok(err_has("--bogus"), "the message names --bogus");
	is_int(parse(&a, "-z"), SB_EINVAL, "unknown short option: SB_EINVAL");
	ok(err_has("-z"), "the message names -z");

	/* Missing values. */
	is_int(parse(&a, "-v", "-k"), SB_EINVAL, "-k without a value: SB_EINVAL");
	ok(err_has("-k"), "the message names -k");
	is_int(parse(&a, "--count"), SB_EINVAL, "--count without a value: SB_EINVAL");
	ok(err_has("--count"), "the message names --count");

	/* Stray arguments, even after valid options (getopt permutes them to the end). */
	is_int(parse(&a, "foo"), SB_EINVAL, "a stray argument alone: SB_EINVAL");
	ok(err_has("foo"), "the message names foo");
	is_int(parse(&a, "-k", "2", "-v", "foo"), SB_EINVAL,
	       "a stray argument after valid options: SB_EINVAL");
	ok(err_has("foo"), "the message names foo");
	is_int(parse(&a, "bar", "-k", "2"), SB_EINVAL,
	       "a stray argument before valid options: SB_EINVAL");
	ok(err_has("bar"), "the message names bar");
	is_int(parse(&a, "-k", "2", "--", "baz"), SB_EINVAL,
	       "a stray argument after --: SB_EINVAL");
	ok(err_has("baz"), "the message names baz");

	/* Malformed values. */
	is_int(parse(&a, "-k", "2x"), SB_EINVAL, "-k 2x: SB_EINVAL");
	ok(err_has("2x"), "the message quotes 2x");
	is_int(parse(&a, "-k", ""), SB_EINVAL, "-k '': SB_EINVAL");
	is_int(parse(&a, "-k", "1.5"), SB_EINVAL, "-k 1.5: SB_EINVAL");
	is_int(parse(&a, "-k", "99999999999999999999"), SB_EINVAL, "-k out of range: SB_EINVAL");
	is_int(parse(&a, "-r", "1.5x"), SB_EINVAL, "-r 1.5x: SB_EINVAL");
	is_int(parse(&a, "-r", "nan"), SB_EINVAL, "-r nan: SB_EINVAL");
	is_int(parse(&a, "-r", "inf"), SB_EINVAL, "-r inf: SB_EINVAL");
	is_int(parse(&a, "--buf", "1.5K"), SB_EINVAL, "--buf 1.5K: SB_EINVAL");
	ok(err_has("--buf"), "the message names --buf");
	is_int(parse(&a, "-e", "4X"), SB_EINVAL, "-e 4X: SB_EINVAL");

	/* Below a row's minimum. */
	is_int(parse(&a, "-k", "0"), SB_EINVAL, "-k 0 below min 1: SB_EINVAL");
	ok(err_has("minimum"), "the message says minimum");
	is_int(parse(&a, "--buf", "8"), SB_EINVAL, "--buf 8 below min 16: SB_EINVAL");
	is_int(parse(&a, "--buf", "16"), 0, "--buf 16 at min: ok");
	is_int(parse(&a, "-f", "1"), SB_EINVAL, "-f 1 below min 2: SB_EINVAL");
	is_int(parse(&a, "-w", "-1"), SB_EINVAL, "-w -1 below min 0: SB_EINVAL");
	is_int(parse(&a, "--precision", "0"), SB_EINVAL, "--precision 0: SB_EINVAL");
	is_int(parse(&a, "-b", "0"), SB_EINVAL, "-b 0: SB_EINVAL");

	/* CHOICE: whole words only. */
	is_int(parse(&a, "-m", "medium"), SB_EINVAL, "-m medium: SB_EINVAL");
	ok(err_has("medium"), "the message quotes medium");
	is_int(parse(&a, "-m", "fas"), SB_EINVAL, "-m fas (a prefix): SB_EINVAL");
	is_int(parse(&a, "-m", "fast|slow"), SB_EINVAL, "-m fast|slow: SB_EINVAL");
	is_int(parse(&a, "-m", "Exact"), SB_EINVAL, "-m Exact (case): SB_EINVAL");

	/* Parsing again after a failure stopped inside a cluster of flags ("-zv" fails at -z
	 * with -v still unread): nothing from the first parse leaks into the second. */
	is_int(parse(&a, "-zv"), SB_EINVAL, "-zv: unknown -z");
	is_int(parse(&a, "-k", "4"), 0, "parse again: ok (%s)", err);
	is_int(sb_arg_int(&a, "count"), 4, "parse again: -k 4");
	is_int(sb_arg_flag(&a, "verbose"), 0, "parse again: -v from the earlier parse is gone");
	is_int(parse(&a, "--bogus"), SB_EINVAL, "unknown long option after an unknown short one");
	ok(err_has("--bogus"), "the message names --bogus, not the earlier -z");
	is_int(parse(&a, "-k", "5", "-v"), 0, "parse a third time: ok");
	is_int(sb_arg_int(&a, "count"), 5, "third parse: -k 5");
	is_int(sb_arg_flag(&a, "verbose"), 1, "third parse: -v");
}

/* Parse the common table, then run the sweep; returns its code, sizes in *v (freed by us). */
static int sweep(size_t align, size_t **v, size_t *n, const char *b, const char *e, const char *f)
{
	struct sb_args a;
	*v = NULL;
	*n = 0;
	if (parse_common(&a, "-b", b, "-e", e, "-f", f)) {
		tap_diag("parse failed: %s", err);
		return -100;
	}
	err[0] = '\0';
	return sb_sizes_from_args(&a, align, v, n, err, sizeof err);
}

static int sizes_are(const size_t *v, size_t n, const size_t *want, size_t nw)
{
	if (n != nw) {
		tap_diag("got %zu sizes, want %zu", n, nw);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i] != want[i]) {
			tap_diag("size %zu: got %zu, want %zu", i, v[i], want[i]);
			return 0;
		}
	return 1;
}

static void test_sizes(void)
{
	size_t *v, n;

	is_int(sweep(1, &v, &n, "4", "64", "2"), 0, "-b 4 -e 64 -f 2: ok");
	ok(sizes_are(v, n, (size_t[]){4, 8, 16, 32, 64}, 5), "4 8 16 32 64");
	free(v);

	is_int(sweep(8, &v, &n, "4", "64", "2"), 0, "align 8: ok");
	ok(sizes_are(v, n, (size_t[]){8, 16, 32, 64}, 4), "align 8 skips 4");
	free(v);

	/* Rounded down to the alignment: 3 -> 0 (skipped), 6 -> 4, 12, 24, 48, 96. */
	is_int(sweep(4, &v, &n, "3", "100", "2"), 0, "-b 3 -e 100 align 4: ok");
	ok(sizes_are(v, n, (size_t[]){4, 12, 24, 48, 96}, 5), "rounded down to multiples of 4");
	free(v);

	is_int(sweep(1, &v, &n, "1", "1K", "4"), 0, "factor 4: ok");
	ok(sizes_are(v, n, (size_t[]){1, 4, 16, 64, 256, 1024}, 6), "1 4 16 64 256 1024");
	free(v);

	is_int(sweep(1, &v, &n, "1", "1000", "10"), 0, "factor 10: ok");
	ok(sizes_are(v, n, (size_t[]){1, 10, 100, 1000}, 4), "1 10 100 1000 (e included)");
	free(v);

	is_int(sweep(1, &v, &n, "5", "5", "2"), 0, "-b = -e: ok");
	ok(sizes_are(v, n, (size_t[]){5}, 1), "one size");
	free(v);

	is_int(sweep(1, &v, &n, "128", "64", "2"), SB_EINVAL, "-b 128 -e 64: SB_EINVAL");
	ok(err_has("-b 128") && err_has("-e 64"), "the message names both sizes");
	ok(v == NULL, "no sizes on error");

	is_int(sweep(1, &v, &n, "2K", "1K", "2"), SB_EINVAL, "-b 2K -e 1K: SB_EINVAL");
	ok(err_has("2K") && err_has("1K"), "the message shows sizes with suffixes");

	is_int(sweep(4, &v, &n, "1", "2", "2"), SB_EINVAL, "-e 2 with 4-byte elements: SB_EINVAL");
	ok(err_has("-e 2") && err_has("element"), "the message says -e is below one element");

	/* -b 3 -e 5 with 4-byte elements: 3 rounds down to 0 and is skipped, 6 is past -e. A
	 * range with no whole element must not pass as an empty sweep (a run that measures
	 * nothing and exits 0): either an error or at least one size (4). */
	int rc = sweep(4, &v, &n, "3", "5", "2");
	ok(rc != 0 || n > 0,
	   "-b 3 -e 5 with 4-byte elements: an error or a size, not nothing "
	   "(rc %d, %zu sizes)",
	   rc, n);
	free(v);

	/* 1, 2, 4, ..., 2^43 = 8T: 44 sizes. */
	is_int(sweep(1, &v, &n, "1", "8T", "2"), 0, "-b 1 -e 8T: ok");
	is_int(n, 44, "-b 1 -e 8T: 44 sizes");
	ok(n == 44 && v[43] == (size_t)1 << 43, "last size is 8T");
	free(v);

	/* Near SIZE_MAX: -e (2^24 - 1)T = 2^64 - 2^40. Doubling from 1 reaches 2^63 (64 sizes);
	 * 2^64 would overflow. */
	is_int(sweep(1, &v, &n, "1", "16777215T", "2"), 0, "-e 16777215T: ok");
	is_int(n, 64, "-e 16777215T: 64 sizes, no wrap-around");
	ok(n == 64 && v[63] == (size_t)1 << 63, "last size is 2^63");
	free(v);

	/* Factor 3: 3^40 = 12157665459056928801 <= 2^64 - 2^40 < 3^41, and 3^41 overflows. */
	is_int(sweep(1, &v, &n, "1", "16777215T", "3"), 0, "factor 3 to the top: ok");
	is_int(n, 41, "factor 3: 41 sizes");
	ok(n == 41 && v[40] == 12157665459056928801ull, "last size is 3^40");
	free(v);

	/* -e SIZE_MAX from 4: 4 .. 2^63, 62 sizes. */
	is_int(sweep(1, &v, &n, "4", "18446744073709551615", "2"), 0, "-e SIZE_MAX: ok");
	is_int(n, 62, "-e SIZE_MAX: 62 sizes");
	free(v);

	is_int(sweep(1, &v, &n, "16777215T", "16777215T", "2"), 0, "-b = -e at the top: ok");
	ok(n == 1 && v[0] == (size_t)16777215 << 40, "one size at the top");
	free(v);
}

static void test_to_json(void)
{
	struct sb_args a;
	is_int(parse(&a, "-k", "7", "-v", "--name", "x", "-e", "1M"), 0, "parse for json: ok");
	json_t *j = sb_args_to_json(&a);
	ok(json_is_object(j), "an object");
	is_int(json_object_size(j), a.n, "one key per option");

	size_t missing = 0, mistyped = 0;
	for (size_t i = 0; i < a.n; i++) {
		const struct sb_opt *o = a.rows[i];
		json_t *v = json_object_get(j, o->name);
		if (!v) {
			tap_diag("missing %s", o->name);
			missing++;
			continue;
		}
		int good;
		switch (o->type) {
		case SB_OPT_FLAG:
			good = json_is_boolean(v);
			break;
		case SB_OPT_INT:
		case SB_OPT_SIZE:
			good = json_is_integer(v) || json_is_null(v);
			break;
		case SB_OPT_DOUBLE:
			good = json_is_real(v) || json_is_null(v);
			break;
		default:
			good = json_is_string(v) || json_is_null(v);
			break;
		}
		if (!good) {
			tap_diag("%s has the wrong JSON type", o->name);
			mistyped++;
		}
	}
	is_int(missing, 0, "every option present");
	is_int(mistyped, 0, "every value typed by its row");

	is_int(json_integer_value(json_object_get(j, "count")), 7, "count: 7");
	ok(json_is_true(json_object_get(j, "verbose")), "verbose: true");
	ok(json_is_false(json_object_get(j, "quiet")), "unset flag quiet: false");
	is_double(json_real_value(json_object_get(j, "ratio")), 0.5, 0, "ratio: 0.5 (default)");
	is_int(json_integer_value(json_object_get(j, "buf")), 1024, "buf: 1024, not \"1K\"");
	is_int(json_integer_value(json_object_get(j, "max-bytes")), 1 << 20, "max-bytes: 2^20");
	is_string(json_string_value(json_object_get(j, "name")), "x", "name: \"x\"");
	is_string(json_string_value(json_object_get(j, "mode")), "fast", "mode: \"fast\"");
	ok(json_is_null(json_object_get(j, "iters")), "unset iters: null");
	is_double(json_real_value(json_object_get(j, "precision")), 2, 0, "precision: real 2");
	is_string(json_string_value(json_object_get(j, "backend")), "mpi", "backend: \"mpi\"");
	json_decref(j);
}

/* Help lists an option once: a benchmark's own of a common name (infer's --batch) hides the
 * common one, which the parser never reaches. */
static void test_help_shadowed(void)
{
	static const struct sb_opt mine[] = {
	    {"batch", 0, SB_OPT_STRING, "B[,B...]", "8", NULL, 0, "the benchmark's"},
	    {0},
	};
	static const struct sb_opt common[] = {
	    {"batch", 0, SB_OPT_INT, "K", "0", NULL, 0, "the common one"},
	    {"other", 0, SB_OPT_INT, "N", "1", NULL, 0, "another"},
	    {0},
	};
	const struct sb_opt *tables[] = {mine, common, NULL};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	sb_opts_help(f, tables);
	fclose(f);
	ok(buf && strstr(buf, "the benchmark's") && !strstr(buf, "the common one"),
	   "help: the benchmark's --batch, not the common one it hides");
	ok(buf && strstr(buf, "another"), "help: the other common options still listed");
	free(buf);
}

int main(void)
{
	alarm(60); /* a sweep that never ends fails instead of hanging */
	tap_plan(PLAN);
	test_parse_size();
	test_format_size();
	test_args_parse();
	test_sizes();
	test_to_json();
	test_help_shadowed();
	return tap_done();
}
