/* Option tables: one row per option drives getopt_long, the defaults, --help and the echo of
 * every option's value into the run file. A benchmark has its own table; the common table
 * (driver, backend, output) is appended to it when a command line is parsed. */
#ifndef SB_OPTIONS_H
#define SB_OPTIONS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

enum sb_opt_type {
	SB_OPT_FLAG, /* no argument; value 1 when given */
	SB_OPT_INT, /* decimal integer */
	SB_OPT_SIZE, /* bytes: integer with optional K/M/G/T suffix, powers of 1024 */
	SB_OPT_DOUBLE, /* decimal number */
	SB_OPT_STRING, /* any text */
	SB_OPT_CHOICE, /* one of the '|'-separated words in choices */
};

struct sb_opt {
	const char *name; /* long name and lookup key */
	int key; /* short letter, 0 for none */
	enum sb_opt_type type;
	const char *metavar; /* shown in --help */
	const char *def; /* default as typed on a command line; NULL: unset */
	const char *choices; /* SB_OPT_CHOICE: "float|double|int32" */
	double min; /* smallest accepted value for INT, SIZE and DOUBLE */
	const char *help;
};

struct sb_val {
	int given; /* on the command line */
	int have; /* given or defaulted */
	long long i;
	size_t size;
	double d;
	const char
	    *s; /* STRING/CHOICE (points into argv or the table), also the text of any value */
};

#define SB_OPTS_MAX 64

struct sb_args {
	size_t n;
	const struct sb_opt *rows[SB_OPTS_MAX];
	struct sb_val vals[SB_OPTS_MAX];
};

/* Parse a size ("4", "64K", "2G", "1MiB"): powers of 1024. Returns 0 or SB_EINVAL (empty,
 * negative, junk after the number, overflow of size_t). */
int sb_parse_size(const char *text, size_t *out);

/* Format bytes for humans with a binary suffix when exact ("64M"), else plain. */
const char *sb_format_size(size_t bytes, char *buf, size_t len);

/* Parse argv[first..argc-1] against the NULL-terminated list of tables. On bad input returns
 * SB_EINVAL with a one-line message in err. Stray (non-option) arguments are rejected, as are
 * unknown options, missing or malformed values and values below a row's min. */
int sb_args_parse(struct sb_args *a, const struct sb_opt *const *tables, int argc, char **argv,
                  int first, char *err, size_t errlen);

/* Lookups by long name. Asking for a name that is not in the parsed tables is a programming
 * error and aborts. */
int sb_arg_given(const struct sb_args *a, const char *name);
/* Whether the parsed tables have an option of that name at all. */
int sb_arg_exists(const struct sb_args *a, const char *name);
int sb_arg_flag(const struct sb_args *a, const char *name);
long long sb_arg_int(const struct sb_args *a, const char *name);
size_t sb_arg_size(const struct sb_args *a, const char *name);
double sb_arg_double(const struct sb_args *a, const char *name);
const char *sb_arg_str(const struct sb_args *a, const char *name); /* NULL when unset */

/* Index of a CHOICE value in its choices list (0-based), or -1 when unset. */
int sb_arg_choice(const struct sb_args *a, const char *name);

/* --help text for the tables, one line per option, defaults shown. */
void sb_opts_help(FILE *f, const struct sb_opt *const *tables);

/* Every option with its effective value (unset ones as null), for the run file. */
json_t *sb_args_to_json(const struct sb_args *a);

#endif
