#include "claims.h"

#include "claims_impl.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- The claims file ---- */

const char *sbr_claims_default_path(void)
{
	/* The sources this collector was built from hold the file (CMake gives __FILE__ as an
	 * absolute path); else results/ beside the build directory holding the program; else
	 * the current directory's. */
	static char path[4200];
	const char *src = __FILE__, *slash = strrchr(src, '/');
	if (slash && src[0] == '/') {
		snprintf(path, sizeof path, "%.*s/claims/claims.json", (int)(slash - src), src);
		if (access(path, R_OK) == 0)
			return path;
	}
	char exe[4000];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *e = strrchr(exe, '/');
		if (e) {
			*e = '\0';
			snprintf(path, sizeof path, "%s/../results/claims/claims.json", exe);
			if (access(path, R_OK) == 0)
				return path;
		}
	}
	return "results/claims/claims.json";
}

static const char *const class_names[] = {"T", "C", "U"};
static const char *const kind_names[] = {"direct", "derived", "extrapolated", "untestable"};
static const char *const claim_fields[] = {
    "id",     "quote", "offset",    "line", "more_quotes", "seed",      "verbatim", "class",
    "metric", "scope", "reference", "kind", "params",      "rationale", NULL};

/* One message for a bad field: "FILE: claim C07: field 'offset': not an integer". */
static int bad_field(char *err, size_t errlen, const char *path, const char *id, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int bad_field(char *err, size_t errlen, const char *path, const char *id, const char *field,
                     const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return sbr_fail(err, errlen, SB_EINPUT, "%s: claim %s: field '%s': %s", path, id, field,
	                why);
}

static int pick(const char *s, const char *const *names, int n)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* A non-empty string field, or NULL (the caller says which field). */
static const char *text_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : NULL;
}

/* A quote's three fields (prefix: "" for the claim's own, "more_quotes[i]." for the others). */
static int quote_of(json_t *o, const char *prefix, struct sbr_claim_quote *q, const char *path,
                    const char *id, char *err, size_t errlen)
{
	char f[64];
	json_t *v = json_object_get(o, "quote");
	snprintf(f, sizeof f, "%squote", prefix);
	if (!v)
		return bad_field(err, errlen, path, id, f, "missing");
	if (!json_is_string(v))
		return bad_field(err, errlen, path, id, f, "not a string");
	if (!*(q->text = json_string_value(v)))
		return bad_field(err, errlen, path, id, f, "empty");
	static const char *const ints[] = {"offset", "line"};
	for (int k = 0; k < 2; k++) {
		snprintf(f, sizeof f, "%s%s", prefix, ints[k]);
		v = json_object_get(o, ints[k]);
		if (!v)
			return bad_field(err, errlen, path, id, f, "missing");
		if (!json_is_integer(v))
			return bad_field(err, errlen, path, id, f, "not an integer");
		json_int_t x = json_integer_value(v);
		if (x < k || x > 1000000000)
			return bad_field(err, errlen, path, id, f, "%s",
			                 k ? "not a line (from 1)" : "negative or too large");
		*(k ? &q->line : &q->offset) = (long)x;
	}
	return 0;
}

/* The reference: {"value" > 0, "lower" null or in [-1, 0], "upper" null or >= 0, "unit"}. */
static int reference_of(json_t *ref, struct sbr_claim *c, const struct sbr__claim_measure *ms,
                        const char *path, char *err, size_t errlen)
{
	const char *id = c->id;
	if (!json_is_object(ref))
		return bad_field(err, errlen, path, id, "reference",
		                 "not an object {value, lower, upper, unit}");
	json_t *v = json_object_get(ref, "value");
	if (!json_is_number(v) || !(json_number_value(v) > 0) || !isfinite(json_number_value(v)))
		return bad_field(err, errlen, path, id, "reference.value", "not a number above 0");
	c->ref_value = json_number_value(v);
	static const char *const sides[] = {"lower", "upper"};
	for (int k = 0; k < 2; k++) {
		char f[32];
		snprintf(f, sizeof f, "reference.%s", sides[k]);
		v = json_object_get(ref, sides[k]);
		if (!v)
			return bad_field(err, errlen, path, id, f, "missing (null: no bound)");
		double x = json_number_value(v);
		if (json_is_null(v))
			x = NAN;
		else if (!json_is_number(v) || (k == 0 && !(x >= -1 && x <= 0)) ||
		         (k == 1 && !(x >= 0 && isfinite(x))))
			return bad_field(err, errlen, path, id, f, "%s",
			                 k ? "not null or a threshold >= 0 (relative to value)"
			                   : "not null or a threshold in [-1, 0] (relative to "
			                     "value)");
		*(k ? &c->ref_upper : &c->ref_lower) = x;
	}
	if (isnan(c->ref_lower) && isnan(c->ref_upper))
		return bad_field(err, errlen, path, id, "reference",
		                 "no bound on either side (lower and upper null)");
	v = json_object_get(ref, "unit");
	if (!json_is_string(v))
		return bad_field(err, errlen, path, id, "reference.unit", "not a string");
	c->ref_unit = json_string_value(v);
	if (strcmp(c->ref_unit, ms->unit) != 0)
		return bad_field(err, errlen, path, id, "reference.unit",
		                 "'%s', but %s is measured in '%s'", c->ref_unit, ms->name,
		                 ms->unit);
	c->has_ref = 1;
	return 0;
}

static int claim_of(json_t *o, size_t index, struct sbr_claim *c, struct sbr_claim_quote **q,
                    const char *path, char *err, size_t errlen)
{
	char idbuf[32];
	snprintf(idbuf, sizeof idbuf, "#%zu", index + 1);
	if (!json_is_object(o))
		return sbr_fail(err, errlen, SB_EINPUT, "%s: claim %s: not an object", path, idbuf);
	memset(c, 0, sizeof *c);
	c->ref_value = c->ref_lower = c->ref_upper = NAN;
	/* The id first, so that every later message names it. */
	json_t *v = json_object_get(o, "id");
	c->id = json_string_value(v);
	if (!v)
		return bad_field(err, errlen, path, idbuf, "id", "missing");
	if (!c->id)
		return bad_field(err, errlen, path, idbuf, "id", "not a string");
	if (c->id[0] != 'C' || strlen(c->id) < 3 || strlen(c->id) > 8 ||
	    strspn(c->id + 1, "0123456789") != strlen(c->id) - 1)
		return bad_field(err, errlen, path, idbuf, "id",
		                 "'%.16s' is not C and two or more "
		                 "digits (C01)",
		                 c->id);
	const char *id = c->id, *key;
	json_object_foreach(o, key, v)
	{
		int known = 0;
		for (int k = 0; claim_fields[k]; k++)
			known |= strcmp(key, claim_fields[k]) == 0;
		if (!known)
			return bad_field(err, errlen, path, id, key, "not a field of a claim");
	}
	int rc;
	struct sbr_claim_quote *first = *q;
	if ((rc = quote_of(o, "", first, path, id, err, errlen)))
		return rc;
	(*q)++;
	json_t *more = json_object_get(o, "more_quotes");
	if (more && !json_is_array(more))
		return bad_field(err, errlen, path, id, "more_quotes", "not an array");
	for (size_t k = 0; k < json_array_size(more); k++) {
		char prefix[40];
		snprintf(prefix, sizeof prefix, "more_quotes[%zu].", k);
		if (!json_is_object(json_array_get(more, k)))
			return bad_field(err, errlen, path, id, "more_quotes",
			                 "item %zu: not an object", k);
		if ((rc = quote_of(json_array_get(more, k), prefix, (*q)++, path, id, err, errlen)))
			return rc;
	}
	c->quotes = first;
	c->nquotes = (size_t)(*q - first);
	c->quote = first->text;
	c->offset = first->offset;
	c->line = first->line;
	if (!(c->seed = text_of(o, "seed")) || strchr(c->seed, '/'))
		return bad_field(err, errlen, path, id, "seed", "not a file name");
	v = json_object_get(o, "verbatim");
	if (!json_is_boolean(v))
		return bad_field(err, errlen, path, id, "verbatim", "not true or false");
	c->verbatim = json_is_true(v);
	int cls = pick(json_string_value(json_object_get(o, "class")), class_names, 3);
	if (cls < 0)
		return bad_field(err, errlen, path, id, "class", "not \"T\", \"C\" or \"U\"");
	c->cls = (enum sbr_claim_class)cls;
	int kind = pick(json_string_value(json_object_get(o, "kind")), kind_names, 4);
	if (kind < 0)
		return bad_field(err, errlen, path, id, "kind",
		                 "not direct, derived, extrapolated or untestable");
	c->kind = (enum sbr_claim_kind)kind;
	if ((c->cls == SBR_CLASS_U) != (c->kind == SBR_UNTESTABLE_KIND))
		return bad_field(err, errlen, path, id, "kind",
		                 "untestable goes with class U, and only with it");
	if (!(c->metric = text_of(o, "metric")))
		return bad_field(err, errlen, path, id, "metric", "not a non-empty string");
	if (!(c->scope = text_of(o, "scope")))
		return bad_field(err, errlen, path, id, "scope", "not a non-empty string");
	if (!(c->rationale = text_of(o, "rationale")))
		return bad_field(err, errlen, path, id, "rationale", "not a non-empty string");
	json_t *params = json_object_get(o, "params");
	if (params) {
		if (!json_is_object(params))
			return bad_field(err, errlen, path, id, "params", "not an object");
		json_object_foreach(params, key, v)
		{
			if (!json_is_number(v) || !isfinite(json_number_value(v)))
				return bad_field(err, errlen, path, id, "params",
				                 "'%s' is not a number", key);
		}
		c->params = params;
	}
	json_t *ref = json_object_get(o, "reference");
	if (!ref)
		return bad_field(err, errlen, path, id, "reference", "missing (null: none)");
	if (c->cls == SBR_CLASS_U) {
		if (!json_is_null(ref))
			return bad_field(err, errlen, path, id, "reference",
			                 "a class U claim has none (null)");
		return 0;
	}
	const struct sbr__claim_measure *ms = sbr__claims_measure(c->metric);
	if (!ms)
		return bad_field(
		    err, errlen, path, id, "metric",
		    "'%s' is no measure this collector knows (results/claims/README.md)",
		    c->metric);
	for (int k = 0; k < 4 && ms->params[k]; k++)
		if (!json_is_number(json_object_get(params, ms->params[k])))
			return bad_field(err, errlen, path, id, "params", "%s needs '%s'", ms->name,
			                 ms->params[k]);
	return reference_of(ref, c, ms, path, err, errlen);
}

int sbr_claims_load(const char *path, struct sbr_claims *cl, char *err, size_t errlen)
{
	memset(cl, 0, sizeof *cl);
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		FILE *f = fopen(path, "r");
		if (!f)
			return sbr_fail(err, errlen, SB_EINPUT, "%s: %s", path, strerror(errno));
		fclose(f);
		return sbr_fail(err, errlen, SB_EINPUT, "%s:%d: not JSON (%s)", path, je.line,
		                je.text);
	}
	cl->root = root;
	json_t *schema = json_object_get(root, "schema"), *claims = json_object_get(root, "claims");
	int rc = 0;
	if (!json_is_object(root))
		rc = sbr_fail(err, errlen, SB_EINPUT, "%s: not a claims file (an object)", path);
	else if (!json_is_integer(schema) || json_integer_value(schema) != 1)
		rc = sbr_fail(err, errlen, SB_EINPUT,
		              "%s: field 'schema': not 1 (the claims-file version this collector "
		              "reads)",
		              path);
	else if (!json_is_array(claims) || json_array_size(claims) == 0)
		rc = sbr_fail(err, errlen, SB_EINPUT, "%s: field 'claims': not a non-empty array",
		              path);
	if (rc) {
		sbr_claims_free(cl);
		return rc;
	}
	size_t n = json_array_size(claims), nq = 0;
	for (size_t i = 0; i < n; i++)
		nq +=
		    1 + json_array_size(json_object_get(json_array_get(claims, i), "more_quotes"));
	cl->c = calloc(n, sizeof *cl->c);
	cl->q = calloc(nq, sizeof *cl->q);
	if (!cl->c || !cl->q) {
		sbr_claims_free(cl);
		return SB_ENOMEM;
	}
	struct sbr_claim_quote *q = cl->q;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = claim_of(json_array_get(claims, i), i, &cl->c[i], &q, path, err, errlen);
		for (size_t j = 0; j < i && rc == 0; j++)
			if (strcmp(cl->c[j].id, cl->c[i].id) == 0)
				rc = bad_field(err, errlen, path, cl->c[i].id, "id",
				               "given twice (claims %zu and %zu)", j + 1, i + 1);
		cl->n = i + 1;
	}
	if (rc)
		sbr_claims_free(cl);
	return rc;
}

void sbr_claims_free(struct sbr_claims *cl)
{
	free(cl->c);
	free(cl->q);
	json_decref(cl->root);
	memset(cl, 0, sizeof *cl);
}

/* ---- Verdicts ---- */

const char *sbr_claim_verdict_name(enum sbr_claim_verdict v)
{
	static const char *const names[] = {"PASS", "FAIL", "INCONCLUSIVE", "NO_MEASUREMENT",
	                                    "UNTESTABLE"};
	return (unsigned)v < 5 ? names[v] : "?";
}

void sbr_claim_bounds(const struct sbr_claim *c, double *bound_lo, double *bound_hi)
{
	/* ReFrame's reference (value, lower, upper): the thresholds are fractions of the value. */
	*bound_lo = c->has_ref && !isnan(c->ref_lower) ? c->ref_value * (1 + c->ref_lower) : NAN;
	*bound_hi = c->has_ref && !isnan(c->ref_upper) ? c->ref_value * (1 + c->ref_upper) : NAN;
}

static int inside(double x, double blo, double bhi)
{
	return (isnan(blo) || x >= blo) && (isnan(bhi) || x <= bhi);
}

enum sbr_claim_verdict sbr_claim_judge(double value, double lo, double hi, double bound_lo,
                                       double bound_hi)
{
	if (isnan(lo))
		lo = value;
	if (isnan(hi))
		hi = value;
	if (isnan(lo) || isnan(hi))
		return SBR_NO_MEASUREMENT;
	if (isnan(bound_lo) && isnan(bound_hi))
		return SBR_NO_MEASUREMENT; /* nothing to hold it against: never a pass */
	/* The bounds are an interval, so both ends inside means all of it is. */
	if (inside(lo, bound_lo, bound_hi) && inside(hi, bound_lo, bound_hi))
		return SBR_PASS;
	if ((!isnan(bound_lo) && hi < bound_lo) || (!isnan(bound_hi) && lo > bound_hi))
		return SBR_FAIL;
	return SBR_INCONCLUSIVE;
}

double sbr_claim_margin(double value, double bound_lo, double bound_hi)
{
	double m = NAN;
	if (!isfinite(value))
		return NAN;
	if (!isnan(bound_hi) && bound_hi != 0)
		m = (bound_hi - value) / fabs(bound_hi);
	if (!isnan(bound_lo) && bound_lo != 0) {
		double l = (value - bound_lo) / fabs(bound_lo);
		m = isnan(m) || l < m ? l : m;
	}
	return m;
}

int sbr_claims_evaluate(const struct sbr_claims *cl, struct sbr_run *const *runs, size_t nruns,
                        const struct sbr_model *m, struct sbr_claim_result **out)
{
	struct sbr_claim_result *res = calloc(cl->n ? cl->n : 1, sizeof *res);
	if (!res)
		return SB_ENOMEM;
	for (size_t i = 0; i < cl->n; i++) {
		const struct sbr_claim *c = &cl->c[i];
		struct sbr_claim_result *r = &res[i];
		r->claim = c;
		r->value = r->lo = r->hi = r->margin = NAN;
		sbr_claim_bounds(c, &r->bound_lo, &r->bound_hi);
		const struct sbr__claim_measure *ms = sbr__claims_measure(c->metric);
		if (c->cls == SBR_CLASS_U || !ms) {
			r->verdict = SBR_UNTESTABLE;
			snprintf(r->note, sizeof r->note, "class U: no benchmark can test it (%s)",
			         c->scope);
			continue;
		}
		snprintf(r->unit, sizeof r->unit, "%s", ms->unit);
		ms->fn(ms, c, runs, nruns, m, r);
		r->verdict = sbr_claim_judge(r->value, r->lo, r->hi, r->bound_lo, r->bound_hi);
		r->margin = sbr_claim_margin(r->value, r->bound_lo, r->bound_hi);
		if (r->verdict == SBR_NO_MEASUREMENT)
			r->value = r->lo = r->hi = r->margin = NAN;
		if (r->note[0])
			continue;
		int no_ci = isnan(r->lo) && isnan(r->hi);
		snprintf(r->note, sizeof r->note, "%s",
		         r->verdict == SBR_NO_MEASUREMENT ? "no input for it in the runs"
		         : r->verdict == SBR_INCONCLUSIVE ? "the 95% interval straddles the bound"
		         : no_ci                          ? "no interval: judged on the value alone"
		         : r->verdict == SBR_PASS         ? "within the bound, interval included"
		                                          : "outside the bound, interval included");
	}
	*out = res;
	return 0;
}

/* ---- The table ---- */

static void fmt_bound(char *buf, size_t len, double lo, double hi, const char *unit)
{
	char a[24], b[24];
	sbr_fmt(a, sizeof a, lo, 3);
	sbr_fmt(b, sizeof b, hi, 3);
	if (isnan(lo) && isnan(hi))
		snprintf(buf, len, "-");
	else if (isnan(lo))
		snprintf(buf, len, "<= %s %s", b, unit);
	else if (isnan(hi))
		snprintf(buf, len, ">= %s %s", a, unit);
	else
		snprintf(buf, len, "%s .. %s %s", a, b, unit);
}

/* The claim's words: every part, joined by "[...]"; in text, the first words only. */
static char *quote_cell(const struct sbr_claim *c, int shorten)
{
	size_t len = 16;
	for (size_t i = 0; i < c->nquotes; i++)
		len += strlen(c->quotes[i].text) + 8;
	char *s = malloc(len), *o = s;
	if (!s)
		return NULL;
	for (size_t i = 0; i < c->nquotes; i++) {
		if (i)
			o += sprintf(o, " [...] ");
		/* White space as one space: the seed's paragraph breaks are not the table's. */
		for (const char *q = c->quotes[i].text; *q; q++) {
			int ws = *q == ' ' || *q == '\n' || *q == '\t' || *q == '\r';
			if (!ws || (o > s && o[-1] != ' '))
				*o++ = ws ? ' ' : *q;
		}
	}
	*o = '\0';
	if (shorten && o - s > 60) {
		char *cut = s + 56;
		while (cut > s + 30 && *cut != ' ')
			cut--;
		strcpy(cut, " ...");
	}
	return s;
}

int sbr_claims_write(const struct sbr_claim_result *r, size_t n, enum sbr_format fmt, FILE *out)
{
	int text = fmt == SBR_TEXT;
	static const char *const head_text[] = {"claim",  "class", "kind",   "verdict", "value",
	                                        "95% CI", "bound", "margin", "quote",   NULL};
	static const char *const head_full[] = {
	    "claim",  "class", "kind", "verdict", "value", "95% CI",   "bound", "margin",
	    "inputs", "why",   "seed", "offset",  "line",  "verbatim", "quote", NULL};
	static const char *const head_detail[] = {"claim", "inputs -- why", NULL};
	struct sbr_table t, d = {0};
	int rc = sbr_table_init(&t, "claims", text ? head_text : head_full);
	if (rc == 0 && text)
		rc = sbr_table_init(&d, "claims: inputs and reasons", head_detail);
	size_t counts[5] = {0};
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct sbr_claim *c = r[i].claim;
		char value[48], ci[64], bound[96], margin[16], off[24], line[24];
		char a[24], b[24];
		counts[r[i].verdict < 5 ? r[i].verdict : 0]++;
		sbr_fmt(a, sizeof a, r[i].value, 3);
		snprintf(value, sizeof value, "%s%s%s", a, isnan(r[i].value) ? "" : " ",
		         isnan(r[i].value) ? "" : r[i].unit);
		if (isnan(r[i].lo) && isnan(r[i].hi)) {
			snprintf(ci, sizeof ci, "-");
		} else {
			sbr_fmt(a, sizeof a, r[i].lo, 3);
			sbr_fmt(b, sizeof b, r[i].hi, 3);
			snprintf(ci, sizeof ci, "[%s, %s]", isinf(r[i].lo) ? "-inf" : a,
			         isinf(r[i].hi) ? "inf" : b);
		}
		fmt_bound(bound, sizeof bound, r[i].bound_lo, r[i].bound_hi,
		          c->ref_unit ? c->ref_unit : "");
		if (isnan(r[i].margin))
			snprintf(margin, sizeof margin, "-");
		else
			snprintf(margin, sizeof margin, "%+.0f%%", 100 * r[i].margin);
		snprintf(off, sizeof off, "%ld", c->offset);
		snprintf(line, sizeof line, "%ld", c->line);
		char *q = quote_cell(c, text);
		if (!q) {
			rc = SB_ENOMEM;
			break;
		}
		const char *cls = class_names[c->cls], *kind = kind_names[c->kind],
		           *verdict = sbr_claim_verdict_name(r[i].verdict);
		const char *inputs = r[i].inputs[0] ? r[i].inputs : "-";
		if (text) {
			/* The details of the claims a run could speak to (class U's reason is its
			 * class). */
			const char *row[] = {c->id, cls,   kind,   verdict, value,
			                     ci,    bound, margin, q};
			char det[sizeof r[i].inputs + sizeof r[i].note + 8];
			snprintf(det, sizeof det, "%s%s%s", r[i].inputs,
			         r[i].inputs[0] ? " -- " : "", r[i].note);
			const char *drow[] = {c->id, det};
			rc = sbr_table_add(&t, row);
			if (rc == 0 && r[i].verdict != SBR_UNTESTABLE)
				rc = sbr_table_add(&d, drow);
		} else {
			const char *row[] = {c->id,   cls,
			                     kind,    verdict,
			                     value,   ci,
			                     bound,   margin,
			                     inputs,  r[i].note,
			                     c->seed, off,
			                     line,    c->verbatim ? "yes" : "no",
			                     q};
			rc = sbr_table_add(&t, row);
		}
		free(q);
	}
	char note[256];
	snprintf(note, sizeof note,
	         "%zu claims: %zu PASS, %zu FAIL, %zu INCONCLUSIVE, %zu NO_MEASUREMENT, %zu "
	         "UNTESTABLE; a claim without a measurement is never a pass",
	         n, counts[SBR_PASS], counts[SBR_FAIL], counts[SBR_INCONCLUSIVE],
	         counts[SBR_NO_MEASUREMENT], counts[SBR_UNTESTABLE]);
	if (rc == 0)
		rc = sbr_table_set_note(&t, note);
	if (rc == 0)
		rc = sbr_table_write(&t, out, fmt);
	if (rc == 0 && text)
		rc = sbr_table_write(&d, out, fmt);
	sbr_table_free(&t);
	if (text)
		sbr_table_free(&d);
	return rc;
}
