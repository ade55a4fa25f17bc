/* The infer benchmark's options: the bad-input rules of issue 12 (each one message) and what
 * valid ones give. */
#include "../benchmarks/infer_opts.h"
#include "driver.h"
#include "error.h"
#include "tap.h"

#include <stdarg.h>
#include <string.h>

#define PLAN 43

static int conf(int nranks, struct sb_infer_conf *c, char *err, size_t errlen, ...)
{
	const struct sb_opt *tables[] = {sb_infer_opts, sb_common_opts, NULL};
	char *argv[32];
	int argc = 0;
	argv[argc++] = "t_infer_opts";
	argv[argc++] = "infer";
	va_list ap;
	va_start(ap, errlen);
	for (char *w; (w = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = w;
	va_end(ap);
	argv[argc] = NULL;
	static struct sb_args a; /* what the conf points into lives as long as the test */
	int rc = sb_args_parse(&a, tables, argc, argv, 2, err, errlen);
	return rc ? rc : sb_infer_conf_from_args(&a, nranks, c, err, errlen);
}

/* Bad input: SB_EINVAL and a message naming the problem. */
static void bad(int nranks, const char *want, const char *what, ...)
{
	const struct sb_opt *tables[] = {sb_infer_opts, sb_common_opts, NULL};
	char *argv[32], err[512] = "";
	int argc = 0;
	argv[argc++] = "t_infer_opts";
	argv[argc++] = "infer";
	va_list ap;
	va_start(ap, what);
	for (char *w; (w = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = w;
	va_end(ap);
	argv[argc] = NULL;
	struct sb_args a;
	struct sb_infer_conf c;
	int rc = sb_args_parse(&a, tables, argc, argv, 2, err, sizeof err);
	if (rc == 0)
		rc = sb_infer_conf_from_args(&a, nranks, &c, err, sizeof err);
	ok(rc == SB_EINVAL && strstr(err, want), "%s: bad input naming '%s' (%s)", what, want, err);
}

int main(void)
{
	tap_plan(PLAN);
	struct sb_infer_conf c;
	char err[512];
	is_int(conf(1, &c, err, sizeof err, (char *)NULL), 0, "defaults on 1 rank");
	ok(!c.closed && c.nrate == 1 && c.rate[0] == 100, "open loop at 100 requests/s");
	ok(c.continuous && c.nbatch == 1 && c.batch[0] == 8, "continuous batching up to 8");
	ok(c.hidden == 256 && c.ffn == 1024 && c.heads == 8 && c.layers == 2 &&
	       strcmp(c.model, "tiny") == 0,
	   "the tiny model");
	ok(c.ntp == 1 && c.tp[0] == 1 && c.prompt[0].kind == SB_LEN_FIXED && c.prompt[0].a == 128 &&
	       c.output.kind == SB_LEN_FIXED && c.output.b == 16,
	   "T 1, 128 prompt and 16 output tokens");
	is_int(conf(5, &c, err, sizeof err, "--tp", "1,2,4", "--batch", "1,8,32", "--rate",
	            "50,200", "--model", "8b", "--layers", "2", "--slo-ttft-ms", "200",
	            "--slo-tpot-ms", "40", (char *)NULL),
	       0, "lists on 5 ranks");
	ok(c.ntp == 3 && c.tp[2] == 4 && c.nbatch == 3 && c.batch[2] == 32 && c.nrate == 2 &&
	       c.rate[1] == 200,
	   "the lists read");
	ok(c.hidden == 4096 && c.heads == 32 && c.layers == 2, "8b shapes, 2 layers");
	ok(c.slo_ttft == 0.2 && c.slo_tpot == 0.04, "SLOs in seconds");
	is_int(conf(3, &c, err, sizeof err, "--concurrency", "4", "--batching", "dynamic",
	            "--max-delay-us", "500", (char *)NULL),
	       0, "closed loop, dynamic batching");
	ok(c.closed && c.concurrency == 4 && !c.continuous && c.max_delay == 500e-6,
	   "concurrency 4, 0.5 ms delay");
	is_int(conf(1, &c, err, sizeof err, "--hidden", "64", "--ffn", "128", "--heads", "4",
	            (char *)NULL),
	       0, "explicit shapes");
	ok(!c.model && c.layers == 1, "no preset, one layer");

	bad(4, "does not divide the 3 worker ranks", "--tp 2 on 4 ranks", "--tp", "2", NULL);
	bad(3, "does not divide", "--tp 1,4 on 3 ranks", "--tp", "1,4", NULL);
	bad(1, "at least 1", "--batch 0", "--batch", "0", NULL);
	bad(1, "rates above 0", "--rate 0", "--rate", "0", NULL);
	bad(1, "rates above 0", "--rate -5", "--rate", "-5", NULL);
	bad(1, "concurrency", "--concurrency 0", "--concurrency", "0", NULL);
	bad(1, "not both", "--rate and --concurrency", "--rate", "5", "--concurrency", "2", NULL);
	bad(1, "slo-ttft-ms 0", "--slo-ttft-ms 0", "--slo-ttft-ms", "0", NULL);
	bad(1, "slo-tpot-ms", "--slo-tpot-ms -1", "--slo-tpot-ms", "-1", NULL);
	bad(1, "prompt-tokens", "--prompt-tokens 0", "--prompt-tokens", "0", NULL);
	bad(1, "output-tokens 0", "--output-tokens 0", "--output-tokens", "0", NULL);
	bad(5, "heads and the ffn", "6 heads, --tp 4 on 5 ranks", "--heads", "6", "--hidden", "60",
	    "--ffn", "128", "--tp", "4", NULL);
	bad(1, "unknown", "--model 13b", "--model", "13b", NULL);
	bad(1, "batching", "--batching static", "--batching", "static", NULL);
	bad(1, "go together", "--hidden alone", "--hidden", "64", NULL);
	bad(1, "not both", "--model and --hidden", "--model", "tiny", "--hidden", "64", "--ffn",
	    "128", "--heads", "4", NULL);
	bad(1, "dividing the hidden", "heads not dividing hidden", "--hidden", "100", "--ffn",
	    "128", "--heads", "3", NULL);
	bad(1, "burstiness", "--burstiness 0", "--burstiness", "0", NULL);
	bad(1, "at least 1 request", "--requests 0", "--requests", "0", NULL);
	bad(1, "a list", "--batch 8,x", "--batch", "8,x", NULL);
	bad(1, "at most 256", "--batch 257", "--batch", "8,257", NULL);
	/* Lengths drawn per request: a range or a list; a comma list of them sweeps. */
	is_int(conf(1, &c, err, sizeof err, "--prompt-tokens", "16,64-256,8/32/512",
	            "--output-tokens", "4-32", (char *)NULL),
	       0, "prompt lengths 16,64-256,8/32/512, output 4-32");
	ok(c.nprompt == 3 && c.prompt[0].kind == SB_LEN_FIXED &&
	       c.prompt[1].kind == SB_LEN_UNIFORM && c.prompt[1].a == 64 && c.prompt[1].b == 256 &&
	       c.prompt[2].kind == SB_LEN_LIST && c.prompt[2].nlist == 3 && c.prompt[2].a == 8 &&
	       c.prompt[2].b == 512 && c.output.kind == SB_LEN_UNIFORM && c.output.a == 4 &&
	       c.output.b == 32,
	   "fixed, uniform range and list, read as such");
	char f[64];
	sb_infer_len_format(&c.prompt[2], f, sizeof f);
	is_string(f, "8/32/512", "a list written back as given");
	struct sb_len_dist d = sb_infer_len_dist(&c.prompt[2]);
	ok(d.kind == SB_LEN_LIST && d.nlist == 3 && d.list[2] == 512, "the generator's list");
	bad(1, "LO <= HI", "--prompt-tokens 9-3", "--prompt-tokens", "9-3", NULL);
	bad(1, "a range LO-HI", "--prompt-tokens 1-2-3", "--prompt-tokens", "1-2-3", NULL);
	bad(1, "at least 1", "--prompt-tokens 0-8", "--prompt-tokens", "0-8", NULL);
	bad(1, "output-tokens", "--output-tokens 4/", "--output-tokens", "4/", NULL);
	bad(1, "output-tokens", "--output-tokens 4,8 (no sweep)", "--output-tokens", "4,8", NULL);
	return tap_done();
}
