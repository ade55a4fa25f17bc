/* Fuzz target: the claims reader (results/claims.c), then every claim judged against recorded
 * runs (tests/fixtures/runs: all-reduce, 1F1B, the handoff) and the table written, as
 * `scalebench-report claims --claims FILE RUN...` does. Seed: results/claims/claims.json;
 * dictionary: claims.dict. */
#include "fuzz.h"
#include "fuzz_impl.h"

#include "claims.h"

#include <stdio.h>

#define NRUNS 3

size_t sb__fuzz_runs(struct sbr_run ***out)
{
	static struct sbr_run run[NRUNS], *rp[NRUNS];
	static size_t n;
	static int done;
	static const char *const name[NRUNS] = {"real-allreduce-1.jsonl", "real-1f1b.jsonl",
	                                        "real-handoff.jsonl"};
	if (!done) {
		done = 1;
		for (size_t i = 0; i < NRUNS; i++) {
			char p[4096], err[1024];
			snprintf(p, sizeof p, "%s/tests/fixtures/runs/%s", sb_fuzz_source_dir(),
			         name[i]);
			if (sbr_run_read(p, &run[n], err, sizeof err) == 0) {
				rp[n] = &run[n];
				n++;
			}
		}
	}
	*out = rp;
	return n;
}

int sb_fuzz_claims(const uint8_t *data, size_t size, char *err, size_t errlen)
{
	struct sbr_run **rp;
	size_t n = sb__fuzz_runs(&rp);
	const char *path = sb_fuzz_file(data, size);
	struct sbr_claims cl;
	int rc = sbr_claims_load(path, &cl, err, errlen);
	if (rc == 0) {
		rc = sb__fuzz_claims_table(&cl, rp, n);
		sbr_claims_free(&cl);
	}
	sb_fuzz_file_close();
	return rc;
}
