/* Fuzz targets of the collector's readers (issue 14, hostile input): the run-file reader, the
 * importers (nccl-tests text and JSON, OSU; the format is told from the content, so one target
 * takes all three) and the claims reader. Each target takes bytes, hands them to the reader as a
 * file (a memfd opened by its /proc path, as a user's file would be), uses what was read the way
 * scalebench-report does (show, claims), and returns the reader's code.
 *
 * The same sources are built twice: with libFuzzer (SB_FUZZ=ON, clang; fuzz_main.c, one binary
 * per target) and into the replay test (tests/t_fuzz_replay.c), which runs the committed corpus
 * (tests/fuzz/corpus/<target>/) through these entry points in every build tree, so the
 * sanitizer tree of scripts/test replays it under ASan+UBSan.
 *
 * Fuzzing (claims: -max_len=32768, its file is 24 KB):
 *   CC=clang cmake -DSB_FUZZ=ON -S . -B build-fuzz && cmake --build build-fuzz -t fuzz_runread
 *   build-fuzz/fuzz/fuzz_runread -dict=tests/fuzz/runread.dict -max_len=20000 \
 *       NEW tests/fuzz/corpus/runread
 * then fold what it found into the committed corpus (the fewest files for the same edges):
 *   build-fuzz/fuzz/fuzz_runread -set_cover_merge=1 -use_counters=0 -max_len=20000 \
 *       tests/fuzz/corpus/runread NEW
 * A crash file replays without clang: build/tests/fuzz_replay.t runread FILE. */
#ifndef SB_FUZZ_H
#define SB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* An entry point: 0 when the input was read, else the reader's negative SB_E* code with its
 * message in err. */
typedef int (*sb_fuzz_fn)(const uint8_t *data, size_t size, char *err, size_t errlen);

int sb_fuzz_runread(const uint8_t *data, size_t size, char *err, size_t errlen);
int sb_fuzz_import(const uint8_t *data, size_t size, char *err, size_t errlen);
int sb_fuzz_claims(const uint8_t *data, size_t size, char *err, size_t errlen);

/* The targets by name ("runread", "import", "claims"); NULL-terminated. */
struct sb_fuzz_target {
	const char *name;
	sb_fuzz_fn fn;
};
extern const struct sb_fuzz_target sb_fuzz_targets[];

/* The contract every input must meet, whatever its bytes: read (0), or rejected with SB_EINPUT
 * and one line naming the file (the path the input was given as), or SB_ENOMEM. NULL when rc
 * and err meet it, else what is wrong. */
const char *sb_fuzz_judge(int rc, const char *err);

/* The input as a file the readers open by path: its path ("/proc/self/fd/N"). The file lives
 * until the next call or sb_fuzz_file_close. A machine that cannot make one (no memfd, no
 * /proc) is no input's fault: the process aborts saying so. */
const char *sb_fuzz_file(const uint8_t *data, size_t size);
void sb_fuzz_file_close(void);

/* Read what the targets read once for all inputs (the shipped claims, the recorded runs):
 * before the first input, so that each input costs only itself (the replay forks per input). */
void sb_fuzz_init(void);

/* Where the source tree is (compiled in), for the fixtures the claims target evaluates
 * against. */
const char *sb_fuzz_source_dir(void);

#endif
