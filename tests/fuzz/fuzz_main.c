/* libFuzzer's entry for one target (SB_FUZZ_TARGET: sb_fuzz_runread, ...; CMake builds one
 * binary per target with SB_FUZZ=ON). An input that breaks the contract (fuzz.h: read, or
 * rejected with SB_EINPUT and one line naming the file) aborts, so libFuzzer keeps it as a
 * crash, as it does the sanitizers' reports. */
#include "fuzz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef SB_FUZZ_TARGET
#error "SB_FUZZ_TARGET names the entry point (sb_fuzz_runread, sb_fuzz_import, sb_fuzz_claims)"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1); /* the same hash order every run: the same paths for an input */
	sb_fuzz_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024] = "";
	int rc = SB_FUZZ_TARGET(data, size, err, sizeof err);
	const char *why = sb_fuzz_judge(rc, err);
	if (why) {
		fprintf(stderr, "sb_fuzz: %s (code %d): %s\n", why, rc, err);
		abort();
	}
	return 0;
}
