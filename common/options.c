#include "options.h"

#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sb_parse_size(const char *text, size_t *out)
{
	if (!text || !*text)
		return SB_EINVAL;
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return SB_EINVAL; /* rejects "-4", "+4", "" */
	errno = 0;
	char *end;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno == ERANGE)
		return SB_EINVAL;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		end++;
		break;
	case 'M':
		shift = 20;
		end++;
		break;
	case 'G':
		shift = 30;
		end++;
		break;
	case 'T':
		shift = 40;
		end++;
		break;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return SB_EINVAL;
	if (shift && v > (SIZE_MAX >> shift))
		return SB_EINVAL;
	if (v > SIZE_MAX)
		return SB_EINVAL;
	*out = (size_t)(v << shift);
	return 0;
}

const char *sb_format_size(size_t bytes, char *buf, size_t len)
{
	static const char suffix[] = "KMGT";
	int i = -1;
	size_t v = bytes;
	while (v >= 1024 && v % 1024 == 0 && i < 3) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%zu", bytes);
	else
		snprintf(buf, len, "%zu%c", v, suffix[i]);
	return buf;
}

static int find(const struct sb_args *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->rows[i]->name, name) == 0)
			return (int)i;
	return -1;
}

static const struct sb_val *val(const struct sb_args *a, const char *name)
{
	int i = find(a, name);
	if (i < 0) {
		fprintf(stderr, "scalebench: internal error: no option '%s'\n", name);
		abort();
	}
	return &a->vals[i];
}

/* Position of word in a '|'-separated list, or -1. */
static int choice_index(const char *choices, const char *word)
{
	size_t wl = strlen(word);
	int idx = 0;
	for (const char *p = choices; p && *p; idx++) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		if (l == wl && strncmp(p, word, l) == 0)
			return idx;
		p = bar ? bar + 1 : NULL;
	}
	return -1;
}

static const char *optname(const struct sb_opt *o, char *buf, size_t len)
{
	if (o->key)
		snprintf(buf, len, "-%c/--%s", o->key, o->name);
	else
		snprintf(buf, len, "--%s", o->name);
	return buf;
}

/* Convert text into v per the row's type. */
static int set_value(struct sb_args *a, size_t i, const char *text, char *err, size_t errlen)
{
	const struct sb_opt *o = a->rows[i];
	struct sb_val *v = &a->vals[i];
	char nm[64];
	char *end;
	v->s = text;
	switch (o->type) {
	case SB_OPT_FLAG:
		v->i = 1;
		break;
	case SB_OPT_INT:
		errno = 0;
		v->i = strtoll(text, &end, 10);
		if (!*text || *end || errno) {
			snprintf(err, errlen, "%s: '%s' is not an integer",
			         optname(o, nm, sizeof nm), text);
			return SB_EINVAL;
		}
		if ((double)v->i < o->min) {
			snprintf(err, errlen, "%s: %s is below the minimum of %g",
			         optname(o, nm, sizeof nm), text, o->min);
			return SB_EINVAL;
		}
		break;
	case SB_OPT_SIZE:
		if (sb_parse_size(text, &v->size)) {
			snprintf(
			    err, errlen,
			    "%s: '%s' is not a size (bytes, with an optional K, M, G or T suffix)",
			    optname(o, nm, sizeof nm), text);
			return SB_EINVAL;
		}
		if ((double)v->size < o->min) {
			snprintf(err, errlen, "%s: %s is below the minimum of %g bytes",
			         optname(o, nm, sizeof nm), text, o->min);
			return SB_EINVAL;
		}
		break;
	case SB_OPT_DOUBLE:
		errno = 0;
		v->d = strtod(text, &end);
		if (!*text || *end || errno || !isfinite(v->d)) {
			snprintf(err, errlen, "%s: '%s' is not a number", optname(o, nm, sizeof nm),
			         text);
			return SB_EINVAL;
		}
		if (v->d < o->min) {
			snprintf(err, errlen, "%s: %s is below the minimum of %g",
			         optname(o, nm, sizeof nm), text, o->min);
			return SB_EINVAL;
		}
		break;
	case SB_OPT_STRING:
		break;
	case SB_OPT_CHOICE:
		if (choice_index(o->choices, text) < 0) {
			snprintf(err, errlen, "%s: '%s' is not one of %s",
			         optname(o, nm, sizeof nm), text, o->choices);
			return SB_EINVAL;
		}
		break;
	}
	v->have = 1;
	return 0;
}

int sb_args_parse(struct sb_args *a, const struct sb_opt *const *tables, int argc, char **argv,
                  int first, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	err[0] = '\0';
	for (size_t t = 0; tables[t]; t++)
		for (const struct sb_opt *o = tables[t]; o->name; o++) {
			if (a->n == SB_OPTS_MAX) {
				snprintf(err, errlen, "internal error: too many options");
				return SB_EINVAL;
			}
			a->rows[a->n++] = o;
		}

	struct option longopts[SB_OPTS_MAX + 1];
	char shortopts[3 * SB_OPTS_MAX + 2];
	size_t sl = 0;
	shortopts[sl++] = ':'; /* report a missing argument as ':' rather than '?' */
	for (size_t i = 0; i < a->n; i++) {
		const struct sb_opt *o = a->rows[i];
		int has_arg = o->type == SB_OPT_FLAG ? no_argument : required_argument;
		longopts[i] = (struct option){o->name, has_arg, NULL, 256 + (int)i};
		if (o->key) {
			shortopts[sl++] = (char)o->key;
			if (has_arg == required_argument)
				shortopts[sl++] = ':';
		}
	}
	longopts[a->n] = (struct option){0};
	shortopts[sl] = '\0';

	/* Defaults first, so a bad default is caught by the unit tests, not by users. */
	for (size_t i = 0; i < a->n; i++)
		if (a->rows[i]->def && set_value(a, i, a->rows[i]->def, err, errlen))
			return SB_EINVAL;

	/* argv as getopt sees it: program name, then the words to parse. */
	int n = argc - first + 1;
	char **av = calloc((size_t)n + 1, sizeof *av);
	if (!av)
		return SB_ENOMEM;
	av[0] = argv[0];
	for (int i = 1; i < n; i++)
		av[i] = argv[first + i - 1];

	int rc = 0;
	optind = 0; /* glibc: full re-initialisation, so parsing twice works */
	opterr = 0;
	int c, li;
	while ((c = getopt_long(n, av, shortopts, longopts, &li)) != -1) {
		size_t idx = a->n;
		if (c >= 256) {
			idx = (size_t)(c - 256);
		} else if (c == '?' || c == ':') {
			const char *word = av[optind - 1];
			if (c == ':')
				snprintf(err, errlen, "option '%s' needs a value", word);
			else if (optopt >= 256 && (size_t)(optopt - 256) < a->n)
				snprintf(err, errlen, "option '--%s' takes no value",
				         a->rows[optopt - 256]->name);
			else if (optopt > 0 && optopt < 256)
				snprintf(err, errlen, "unknown option '-%c'", optopt);
			else
				snprintf(err, errlen, "unknown option '%s'", word);
			rc = SB_EINVAL;
			break;
		} else {
			for (size_t i = 0; i < a->n; i++)
				if (a->rows[i]->key == c)
					idx = i;
		}
		if (idx == a->n) {
			snprintf(err, errlen, "internal error: option code %d", c);
			rc = SB_EINVAL;
			break;
		}
		if ((rc = set_value(a, idx, a->rows[idx]->type == SB_OPT_FLAG ? "1" : optarg, err,
		                    errlen)))
			break;
		a->vals[idx].given = 1;
	}
	if (rc == 0 && optind < n) {
		snprintf(err, errlen, "unexpected argument '%s'", av[optind]);
		rc = SB_EINVAL;
	}
	free(av);
	return rc;
}

int sb_arg_exists(const struct sb_args *a, const char *name)
{
	return find(a, name) >= 0;
}

int sb_arg_given(const struct sb_args *a, const char *name)
{
	return val(a, name)->given;
}

int sb_arg_flag(const struct sb_args *a, const char *name)
{
	const struct sb_val *v = val(a, name);
	return v->have && v->i != 0;
}

long long sb_arg_int(const struct sb_args *a, const char *name)
{
	return val(a, name)->i;
}

size_t sb_arg_size(const struct sb_args *a, const char *name)
{
	return val(a, name)->size;
}

double sb_arg_double(const struct sb_args *a, const char *name)
{
	return val(a, name)->d;
}

const char *sb_arg_str(const struct sb_args *a, const char *name)
{
	const struct sb_val *v = val(a, name);
	return v->have ? v->s : NULL;
}

int sb_arg_choice(const struct sb_args *a, const char *name)
{
	int i = find(a, name);
	if (i < 0 || !a->vals[i].have)
		return -1;
	return choice_index(a->rows[i]->choices, a->vals[i].s);
}

/* Whether an earlier table than t has an option of this name (the earlier one is the one
 * parsed: a benchmark's own --batch hides the common one). */
static int shadowed(const struct sb_opt *const *tables, size_t t, const char *name)
{
	for (size_t u = 0; u < t; u++)
		for (const struct sb_opt *o = tables[u]; o->name; o++)
			if (strcmp(o->name, name) == 0)
				return 1;
	return 0;
}

void sb_opts_help(FILE *f, const struct sb_opt *const *tables)
{
	for (size_t t = 0; tables[t]; t++)
		for (const struct sb_opt *o = tables[t]; o->name; o++) {
			if (shadowed(tables, t, o->name))
				continue;
			char key[8] = "    ", left[80];
			if (o->key)
				snprintf(key, sizeof key, "-%c, ", o->key);
			snprintf(left, sizeof left, "%s--%s%s%s", key, o->name,
			         o->type == SB_OPT_FLAG ? "" : " ",
			         o->type == SB_OPT_FLAG     ? ""
			         : o->type == SB_OPT_CHOICE ? o->choices
			                                    : o->metavar);
			fprintf(f, "  %-34s %s", left, o->help);
			if (o->def && o->type != SB_OPT_FLAG)
				fprintf(f, " (default %s)", o->def);
			fputc('\n', f);
		}
}

json_t *sb_args_to_json(const struct sb_args *a)
{
	json_t *obj = json_object();
	for (size_t i = 0; i < a->n; i++) {
		const struct sb_opt *o = a->rows[i];
		const struct sb_val *v = &a->vals[i];
		json_t *j;
		if (!v->have)
			j = o->type == SB_OPT_FLAG ? json_false() : json_null();
		else
			switch (o->type) {
			case SB_OPT_FLAG:
				j = json_boolean(v->i);
				break;
			case SB_OPT_INT:
				j = json_integer(v->i);
				break;
			case SB_OPT_SIZE: /* JSON readers take 64-bit signed integers */
				j = v->size > (size_t)INT64_MAX ? json_real((double)v->size)
				                                : json_integer((json_int_t)v->size);
				break;
			case SB_OPT_DOUBLE:
				j = json_real(v->d);
				break;
			default:
				j = json_string(v->s);
				break;
			}
		json_object_set_new(obj, o->name, j);
	}
	return obj;
}
