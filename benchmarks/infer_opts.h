/* The infer benchmark's options and their validation (issue 12's interface), apart from the
 * benchmark so the bad-input rules can be tested alone. */
#ifndef SB_INFER_OPTS_H
#define SB_INFER_OPTS_H

#include "options.h"

#include <stddef.h>

#define SB_INFER_MAX_LIST 16 /* values in a --batch, --rate, --tp or --prompt-tokens list */
#define SB_INFER_MAX_BATCH 256 /* the largest --batch: a step's plan has room for this many */

extern const struct sb_opt sb_infer_opts[];

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
	int prompt[SB_INFER_MAX_LIST], nprompt;
	int output;
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
