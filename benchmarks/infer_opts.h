/* The infer benchmark's options and their validation (issue 12's interface), apart from the
 * benchmark so the bad-input rules can be tested alone. */
#ifndef SB_INFER_OPTS_H
#define SB_INFER_OPTS_H

#include "infer_load.h"
#include "options.h"

#include <stddef.h>

#define SB_INFER_MAX_LIST 16 /* values in a --batch, --rate, --tp or --prompt-tokens list */
#define SB_INFER_MAX_BATCH 256 /* the largest --batch: a step's plan has room for this many */

extern const struct sb_opt sb_infer_opts[];

/* A request length as the options give it: fixed ("128"), drawn per request uniformly from a
 * range ("64-256") or from a list ("64/128/1024"); every length at least 1. */
struct sb_infer_len {
	enum sb_len_kind kind;
	int a, b; /* FIXED: a = b; UNIFORM: the range; LIST: the smallest and largest */
	int list[SB_INFER_MAX_LIST], nlist;
};
/* Parse one length; SB_EINVAL (message in err, naming the option) when it is not one. */
int sb_infer_len_parse(const char *opt, const char *text, struct sb_infer_len *l, char *err,
                       size_t errlen);
/* The form it was given in, "128", "64-256", "64/128/1024". */
void sb_infer_len_format(const struct sb_infer_len *l, char *out, size_t len);
/* The generator's distribution (its list points into l). */
struct sb_len_dist sb_infer_len_dist(const struct sb_infer_len *l);

/* What the options say, once valid. Lists sweep: every combination is a point. */
struct sb_infer_conf {
	int closed; /* --concurrency given: closed loop */
	double rate[SB_INFER_MAX_LIST];
	int nrate;
	int concurrency;
	double burstiness;
	int continuous; /* --batching continuous */
	int batch[SB_INFER_MAX_LIST], nbatch;
	double max_delay; /* seconds */
	int tp[SB_INFER_MAX_LIST], ntp;
	struct sb_infer_len prompt[SB_INFER_MAX_LIST]; /* a comma list sweeps them */
	int nprompt;
	struct sb_infer_len output;
	int hidden, ffn, heads, layers;
	const char *model; /* preset name, or NULL for explicit shapes */
	long long requests;
	double duration;
	unsigned long long seed;
	double slo_ttft, slo_tpot; /* seconds; 0: none */
};

/* Read and check the options for a world of nranks (rank 0 generates the load, the others form
 * replicas of T ranks; one rank alone is generator and the only replica). Bad input: a message
 * in err and SB_EINVAL. */
int sb_infer_conf_from_args(const struct sb_args *a, int nranks, struct sb_infer_conf *c, char *err,
                            size_t errlen);

#endif
