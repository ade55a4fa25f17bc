/* Fuzz target: the run-file reader (results/runread.c), then show and the claims on what it
 * read. Seeds: tests/fixtures/runs and the shared baselines; dictionary: runread.dict. */
#include "fuzz.h"
#include "fuzz_impl.h"

#include "runread.h"

int sb_fuzz_runread(const uint8_t *data, size_t size, char *err, size_t errlen)
{
	const char *path = sb_fuzz_file(data, size);
	struct sbr_run r;
	int rc = sbr_run_read(path, &r, err, errlen);
	if (rc == 0) {
		/* The format from the bytes, so the fuzzer reaches every writer. */
		int urc = sb__fuzz_use_run(&r, (enum sbr_format)(size % 4));
		sbr_run_free(&r);
		if (urc)
			rc = urc;
	}
	sb_fuzz_file_close();
	return rc;
}
