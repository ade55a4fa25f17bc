/* The infer benchmark's options and their validation (infer_opts.h). */
#include "infer_opts.h"

#include "error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// clang-format off
const struct sb_opt sb_infer_opts[] = {
	{"rate", 0, SB_OPT_STRING, "R[,R...]", NULL, NULL, 0, "open loop: requests per second, Poisson arrivals (a list sweeps them); the default when neither --rate nor --concurrency is given: 100"},
	{"concurrency", 0, SB_OPT_INT, "C", NULL, NULL, 1, "closed loop instead: C requests in the system, a new one when one completes"},
	{"burstiness", 0, SB_OPT_DOUBLE, "K", "1", NULL, 0, "open loop: Gamma-distributed gaps of shape K (1: Poisson; below 1 burstier)"},
	{"batching", 0, SB_OPT_CHOICE, "MODE", "continuous", "dynamic|continuous", 0, "dynamic (a batch starts full or after --max-delay-us and runs to its end) or continuous (requests join and leave at decode-step boundaries)"},
	{"batch", 0, SB_OPT_STRING, "B[,B...]", "8", NULL, 0, "largest batch a replica forms (a list sweeps them)"},
	{"max-delay-us", 0, SB_OPT_DOUBLE, "D", "1000", NULL, 0, "dynamic batching: the longest the oldest waiting request waits for a fuller batch"},
	{"tp", 0, SB_OPT_STRING, "T[,T...]", "1", NULL, 0, "tensor-parallel ranks per replica; T must divide the ranks after rank 0 (a list sweeps them)"},
	{"prompt-tokens", 0, SB_OPT_STRING, "N[,N...]", "128", NULL, 0, "prompt length per request: N, or drawn per request from a range LO-HI or a list A/B/C (a comma list sweeps them)"},
	{"output-tokens", 0, SB_OPT_STRING, "N", "16", NULL, 0, "output tokens per request: N, LO-HI or A/B/C as --prompt-tokens"},
	{"model", 0, SB_OPT_STRING, "NAME", NULL, NULL, 0, "shapes of a preset: tiny (the default), 8b, 70b (per-layer dimensions; --layers to fit memory)"},
	{"hidden", 0, SB_OPT_INT, "H", NULL, NULL, 0, "hidden size (instead of --model)"},
	{"ffn", 0, SB_OPT_INT, "F", NULL, NULL, 0, "MLP inner size (instead of --model)"},
	{"heads", 0, SB_OPT_INT, "N", NULL, NULL, 0, "attention heads (instead of --model)"},
	{"layers", 0, SB_OPT_INT, "L", NULL, NULL, 0, "layers (overrides a preset's)"},
	{"requests", 0, SB_OPT_INT, "N", "200", NULL, 0, "measured requests per point (after the warm-up ones)"},
	{"duration", 0, SB_OPT_DOUBLE, "SEC", "1", NULL, 0, "open loop: and as many as arrive in SEC seconds at --rate, if more"},
	{"slo-ttft-ms", 0, SB_OPT_DOUBLE, "X", NULL, NULL, 0, "goodput: time to first token at most X ms"},
	{"slo-tpot-ms", 0, SB_OPT_DOUBLE, "Y", NULL, NULL, 0, "goodput: time per output token at most Y ms"},
	{0},
};
// clang-format on

/* The presets' shapes: hidden, ffn, heads, layers. The 8B and 70B ones are the per-layer
 * dimensions of the Llama 3 models of those sizes (query heads; key/value heads taken equal). */
static const struct {
	const char *name;
	int hidden, ffn, heads, layers;
} presets[] = {
    {"tiny", 256, 1024, 8, 2},
    {"8b", 4096, 14336, 32, 32},
    {"70b", 8192, 28672, 64, 80},
};

/* "4,8,16" -> values > 0 (ints) */
static int int_list(const char *name, const char *text, int *out, char *err, size_t errlen)
{
	int n = 0;
	for (const char *p = text; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || (*end && *end != ',') || v < 1 || v > 1 << 24 ||
		    n == SB_INFER_MAX_LIST) {
			snprintf(err, errlen, "--%s %s: a list of up to %d integers of at least 1",
			         name, text, SB_INFER_MAX_LIST);
			return -1;
		}
		out[n++] = (int)v;
		p = *end ? end + 1 : end;
	}
	if (n == 0)
		snprintf(err, errlen, "--%s: empty", name);
	return n ? n : -1;
}

int sb_infer_len_parse(const char *opt, const char *text, struct sb_infer_len *l, char *err,
                       size_t errlen)
{
	memset(l, 0, sizeof *l);
	const char *p = text;
	char sep = strchr(text, '-') ? '-' : strchr(text, '/') ? '/' : 0;
	l->kind = sep == '-' ? SB_LEN_UNIFORM : sep == '/' ? SB_LEN_LIST : SB_LEN_FIXED;
	for (;;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || (*end && *end != sep) || v < 1 || v > 1 << 24 ||
		    l->nlist == SB_INFER_MAX_LIST || (sep == '-' && l->nlist == 2)) {
			snprintf(err, errlen,
			         "--%s %s: a length of at least 1 (N), a range LO-HI or a list "
			         "A/B/C of up to %d",
			         opt, text, SB_INFER_MAX_LIST);
			return SB_EINVAL;
		}
		l->list[l->nlist++] = (int)v;
		if (!*end)
			break;
		p = end + 1;
	}
	l->a = l->b = l->list[0];
	for (int i = 1; i < l->nlist; i++) {
		l->a = l->list[i] < l->a ? l->list[i] : l->a;
		l->b = l->list[i] > l->b ? l->list[i] : l->b;
	}
	if ((sep == '-' && (l->nlist != 2 || l->list[0] > l->list[1])) ||
	    (sep == '/' && l->nlist < 2)) {
		snprintf(err, errlen, "--%s %s: a range LO-HI needs LO <= HI, a list two or more",
		         opt, text);
		return SB_EINVAL;
	}
	if (sep != '/')
		l->nlist = 0;
	return 0;
}

void sb_infer_len_format(const struct sb_infer_len *l, char *out, size_t len)
{
	if (l->kind == SB_LEN_FIXED)
		snprintf(out, len, "%d", l->a);
	else if (l->kind == SB_LEN_UNIFORM)
		snprintf(out, len, "%d-%d", l->a, l->b);
	else
		for (int i = 0, o = 0; i < l->nlist && o >= 0 && (size_t)o < len; i++)
			o += snprintf(out + o, len - (size_t)o, "%s%d", i ? "/" : "", l->list[i]);
}

struct sb_len_dist sb_infer_len_dist(const struct sb_infer_len *l)
{
	return (struct sb_len_dist){l->kind, l->a, l->b, l->kind == SB_LEN_LIST ? l->list : NULL,
	                            l->kind == SB_LEN_LIST ? (size_t)l->nlist : 0};
}

/* "128,64-256" -> the lengths of a sweep. */
static int len_list(const char *opt, const char *text, struct sb_infer_len *out, char *err,
                    size_t errlen)
{
	int n = 0;
	char item[256];
	for (const char *p = text;;) {
		size_t k = strcspn(p, ",");
		if (n == SB_INFER_MAX_LIST || k >= sizeof item) {
			snprintf(err, errlen, "--%s %s: at most %d lengths", opt, text,
			         SB_INFER_MAX_LIST);
			return -1;
		}
		memcpy(item, p, k);
		item[k] = 0;
		if (sb_infer_len_parse(opt, item, &out[n++], err, errlen))
			return -1;
		if (!p[k])
			break;
		p += k + 1;
	}
	return n;
}

static int rate_list(const char *text, double *out, char *err, size_t errlen)
{
	int n = 0;
	for (const char *p = text; *p;) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || (*end && *end != ',') || !(v > 0) || !isfinite(v) ||
		    n == SB_INFER_MAX_LIST) {
			snprintf(err, errlen,
			         "--rate %s: a list of up to %d request rates above 0 (per second)",
			         text, SB_INFER_MAX_LIST);
			return -1;
		}
		out[n++] = v;
		p = *end ? end + 1 : end;
	}
	return n;
}

int sb_infer_conf_from_args(const struct sb_args *a, int nranks, struct sb_infer_conf *c, char *err,
                            size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (sb_arg_given(a, "rate") && sb_arg_given(a, "concurrency")) {
		snprintf(err, errlen,
		         "--rate (open loop) or --concurrency (closed loop), not both");
		return SB_EINVAL;
	}
	c->closed = sb_arg_given(a, "concurrency");
	if (c->closed)
		c->concurrency = (int)sb_arg_int(a, "concurrency");
	else if ((c->nrate = rate_list(sb_arg_given(a, "rate") ? sb_arg_str(a, "rate") : "100",
	                               c->rate, err, errlen)) < 0)
		return SB_EINVAL;
	c->burstiness = sb_arg_double(a, "burstiness");
	if (!(c->burstiness > 0)) {
		snprintf(err, errlen, "--burstiness %g: the Gamma shape must be above 0",
		         c->burstiness);
		return SB_EINVAL;
	}
	c->continuous = sb_arg_choice(a, "batching") == 1;
	if ((c->nbatch = int_list("batch", sb_arg_str(a, "batch"), c->batch, err, errlen)) < 0 ||
	    (c->ntp = int_list("tp", sb_arg_str(a, "tp"), c->tp, err, errlen)) < 0 ||
	    (c->nprompt = len_list("prompt-tokens", sb_arg_str(a, "prompt-tokens"), c->prompt, err,
	                           errlen)) < 0 ||
	    sb_infer_len_parse("output-tokens", sb_arg_str(a, "output-tokens"), &c->output, err,
	                       errlen))
		return SB_EINVAL;
	for (int i = 0; i < c->nbatch; i++)
		if (c->batch[i] > SB_INFER_MAX_BATCH) {
			snprintf(err, errlen, "--batch %d: at most %d requests in a batch",
			         c->batch[i], SB_INFER_MAX_BATCH);
			return SB_EINVAL;
		}
	c->max_delay = sb_arg_double(a, "max-delay-us") * 1e-6;
	/* Shapes: a preset (tiny by default) or all three of --hidden, --ffn, --heads. */
	int explicit =
	    sb_arg_given(a, "hidden") + sb_arg_given(a, "ffn") + sb_arg_given(a, "heads");
	if (explicit && sb_arg_given(a, "model")) {
		snprintf(err, errlen, "--model or --hidden/--ffn/--heads, not both");
		return SB_EINVAL;
	}
	if (explicit && explicit != 3) {
		snprintf(err, errlen, "--hidden, --ffn and --heads go together");
		return SB_EINVAL;
	}
	if (explicit) {
		c->hidden = (int)sb_arg_int(a, "hidden");
		c->ffn = (int)sb_arg_int(a, "ffn");
		c->heads = (int)sb_arg_int(a, "heads");
		c->layers = 1;
	} else {
		c->model = sb_arg_given(a, "model") ? sb_arg_str(a, "model") : "tiny";
		size_t i = 0, np = sizeof presets / sizeof *presets;
		while (i < np && strcmp(presets[i].name, c->model) != 0)
			i++;
		if (i == np) {
			snprintf(err, errlen, "--model %s: unknown (tiny, 8b, 70b)", c->model);
			return SB_EINVAL;
		}
		c->hidden = presets[i].hidden;
		c->ffn = presets[i].ffn;
		c->heads = presets[i].heads;
		c->layers = presets[i].layers;
	}
	if (sb_arg_given(a, "layers"))
		c->layers = (int)sb_arg_int(a, "layers");
	if (c->hidden < 1 || c->ffn < 1 || c->heads < 1 || c->layers < 1 || c->hidden % c->heads) {
		snprintf(err, errlen,
		         "shapes: hidden %d, ffn %d, heads %d, layers %d: each at least 1, and the "
		         "heads dividing the hidden size",
		         c->hidden, c->ffn, c->heads, c->layers);
		return SB_EINVAL;
	}
	int workers = nranks > 1 ? nranks - 1 : 1;
	for (int i = 0; i < c->ntp; i++) {
		int T = c->tp[i];
		if (workers % T) {
			snprintf(
			    err, errlen,
			    "--tp %d does not divide the %d worker rank%s (ranks 1..%d; rank 0 "
			    "generates the load)",
			    T, workers, workers == 1 ? "" : "s", nranks - 1);
			return SB_EINVAL;
		}
		if (c->heads % T || c->ffn % T) {
			snprintf(err, errlen,
			         "--tp %d: the %d heads and the ffn size %d must both divide by it",
			         T, c->heads, c->ffn);
			return SB_EINVAL;
		}
	}
	c->requests = sb_arg_int(a, "requests");
	c->duration = sb_arg_double(a, "duration");
	if (c->requests < 1 || !(c->duration >= 0)) {
		snprintf(err, errlen, "--requests %lld, --duration %g: at least 1 request",
		         c->requests, c->duration);
		return SB_EINVAL;
	}
	c->seed = (unsigned long long)sb_arg_int(a, "seed");
	const char *slo[2] = {"slo-ttft-ms", "slo-tpot-ms"};
	double *dst[2] = {&c->slo_ttft, &c->slo_tpot};
	for (int k = 0; k < 2; k++)
		if (sb_arg_given(a, slo[k])) {
			double v = sb_arg_double(a, slo[k]);
			if (!(v > 0)) {
				snprintf(err, errlen, "--%s %g: a target above 0", slo[k], v);
				return SB_EINVAL;
			}
			*dst[k] = v * 1e-3;
		}
	return 0;
}
