/* Fuzz target: the importers (results/import*.c: nccl-tests text, nccl-tests -J JSON, OSU
 * text; sbr_import tells the format from the content, so one target takes all three), then the
 * records through the run reader, show and the claims, as `show LOG` does. Seeds:
 * tests/fixtures/import; dictionary: import.dict. */
#include "fuzz.h"
#include "fuzz_impl.h"

#include "import.h"
#include "runread.h"

int sb_fuzz_import(const uint8_t *data, size_t size, char *err, size_t errlen)
{
	const char *path = sb_fuzz_file(data, size);
	json_t *recs = NULL;
	enum sbr_import_kind kind;
	int rc = sbr_import(path, &recs, &kind, err, errlen);
	if (rc == 0) {
		struct sbr_run r;
		rc = sbr_run_from_records(path, recs, &r, err, errlen);
		if (rc == 0) {
			rc = sb__fuzz_use_run(&r, (enum sbr_format)(size % 4));
			sbr_run_free(&r);
		}
	}
	json_decref(recs);
	sb_fuzz_file_close();
	return rc;
}
