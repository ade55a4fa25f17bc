/* The fuzz corpus replayed without libFuzzer (issue 14, hostile input): every file of
 * tests/fuzz/corpus/<target>/ through the same entry points as the fuzzers (tests/fuzz/fuzz.h),
 * each in a child process of its own with a time limit, so that a crash, a hang, a sanitizer
 * report or a leak fails the test and names the file. Every input must be read, or rejected
 * with SB_EINPUT and one line naming the file (or SB_ENOMEM). In the ASan+UBSan tree of
 * scripts/test this is the corpus under the sanitizers, with leak detection on whatever
 * ASAN_OPTIONS say (no MPI here, so no leaks of MPI's own to forgive).
 *
 * Then the regression inputs whose verdict matters, in process, with their messages.
 *
 * `fuzz_replay.t TARGET FILE...` replays just those files (a crash file from a fuzzer, on a
 * machine without clang) and prints each verdict.
 *
 * The corpus is found under $SB_SOURCE_DIR/tests/fuzz/corpus, else the source tree this was
 * built from. */
#include "error.h"
#include "fuzz.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_ASAN 1
#endif
#endif

/* A child's exit statuses; a sanitizer's are others (1 for ASan and its leak check). */
enum { READ = 0, REJECTED = 3, BROKEN = 4, UNREADABLE = 5 };
#define LIMIT_S 60 /* per input: the largest takes well under a second under ASan */

/* One of the regression inputs, and what it must give. */
static const struct expect {
	const char *target, *file;
	int rc;
	const char *text; /* in the message */
} expects[] = {
    {"runread", "regress-summary-median.jsonl", SB_EINPUT,
     ":3: summary.median 1.5e-05 disagrees with the median of its samples 2.1e-05"},
    {"runread", "regress-summary-max.jsonl", SB_EINPUT,
     ":3: summary.max 3e-05 disagrees with the max of its samples 2.2e-05"},
    {"runread", "regress-duplicate-key.jsonl", SB_EINPUT, ":3: a duplicate key"},
    {"runread", "regress-duplicate-samples.jsonl", SB_EINPUT, ":3: a duplicate key"},
    {"runread", "regress-summary-rounded.jsonl", 0, ""},
    {"claims", "regress-duplicate-key.json", SB_EINPUT, "duplicate object key"},
    /* found by fuzz_import: the JSON parser's "near '...'" quoted a line break of the file
     * into the message; control characters are escaped now (results/util.c) */
    {"import", "regress-multiline-message.json", SB_EINPUT,
     ":2: not valid JSON: invalid escape near '\"\\/tmp\\\\n'"},
};
#define NEXPECT (sizeof expects / sizeof expects[0])

static char corpus[4096];

static void find_corpus(void)
{
	const char *src = getenv("SB_SOURCE_DIR");
	snprintf(corpus, sizeof corpus, "%s/tests/fuzz/corpus",
	         src && *src ? src : sb_fuzz_source_dir());
	struct stat st;
	if (stat(corpus, &st) != 0 || !S_ISDIR(st.st_mode))
		tap_bail("no fuzz corpus at %s (set SB_SOURCE_DIR to the source tree)", corpus);
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 1 << 16, n = 0, k;
	uint8_t *b = malloc(cap);
	while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap) {
			uint8_t *nb = realloc(b, cap *= 2);
			if (!nb)
				free(b);
			b = nb;
		}
	}
	int bad = ferror(f) || !b;
	fclose(f);
	if (bad) {
		free(b);
		return -1;
	}
	*data = b;
	*size = n;
	return 0;
}

/* Run one input through fn in this process: its code, message and the contract's verdict. */
static int replay_here(sb_fuzz_fn fn, const char *file, char *err, size_t errlen, const char **why)
{
	uint8_t *data;
	size_t size;
	*why = NULL;
	err[0] = '\0';
	if (read_file(file, &data, &size)) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return UNREADABLE;
	}
	int rc = fn(data, size, err, errlen);
	free(data);
	*why = sb_fuzz_judge(rc, err);
	return rc;
}

/* The same in a child: READ, REJECTED or BROKEN from it, else how it died (in *how). */
static int replay_child(sb_fuzz_fn fn, const char *file, char *how, size_t howlen)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		alarm(LIMIT_S);
		char err[1024];
		const char *why;
		int rc = replay_here(fn, file, err, sizeof err, &why);
		if (rc == UNREADABLE) {
			fprintf(stderr, "# %s\n", err);
			exit(UNREADABLE);
		}
		if (why)
			fprintf(stderr, "# %s: %s (code %d): %s\n", file, why, rc, err);
		exit(why ? BROKEN : rc ? REJECTED : READ); /* exit: the leak check runs */
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			tap_bail("waitpid: %s", strerror(errno));
	if (WIFEXITED(st)) {
		int c = WEXITSTATUS(st);
		if (c == READ || c == REJECTED)
			return c;
		snprintf(how, howlen,
		         c == BROKEN       ? "broke the contract (read or SB_EINPUT with one line)"
		         : c == UNREADABLE ? "could not be read from the corpus"
		                           : "exit %d: a sanitizer's report (above)",
		         c);
		return -1;
	}
	int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	snprintf(how, howlen, "killed by signal %d (%s)%s", sig, strsignal(sig),
	         sig == SIGALRM ? ": a hang" : "");
	return -1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus of one target: every input in a child. */
static void replay_target(const struct sb_fuzz_target *t)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/%s", corpus, t->name);
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn)
				tap_bail("out of memory");
			names = nn;
		}
		if (!(names[n++] = strdup(e->d_name)))
			tap_bail("out of memory");
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof *names, cmp_name);
	ok(n > 0, "corpus/%s: %zu inputs", t->name, n);
	size_t nread = 0, nrej = 0, nbad = 0;
	for (size_t i = 0; i < n; i++) {
		char file[4500], how[200];
		snprintf(file, sizeof file, "%s/%s", dir, names[i]);
		int r = replay_child(t->fn, file, how, sizeof how);
		if (r == READ)
			nread++;
		else if (r == REJECTED)
			nrej++;
		else {
			nbad++;
			tap_diag("%s/%s: %s", t->name, names[i], how);
		}
		free(names[i]);
	}
	free(names);
	ok(nbad == 0 && n > 0,
	   "%s: every input read (%zu) or rejected with one line (%zu); no crash, hang, "
	   "sanitizer report or leak (%zu)",
	   t->name, nread, nrej, nbad);
}

static const struct sb_fuzz_target *target_named(const char *name)
{
	for (const struct sb_fuzz_target *t = sb_fuzz_targets; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static void expect(const struct expect *x)
{
	char file[4500], err[1024];
	snprintf(file, sizeof file, "%s/%s/%s", corpus, x->target, x->file);
	const char *why;
	int rc = replay_here(target_named(x->target)->fn, file, err, sizeof err, &why);
	is_int(rc, x->rc, "%s/%s: %s", x->target, x->file, x->rc ? "rejected" : "read");
	ok(strstr(err, x->text) != NULL, "%s/%s: the message says \"%s\"", x->target, x->file,
	   x->text);
	if (!strstr(err, x->text))
		tap_diag("got: %s", err);
}

/* Leak detection on in the children, whatever the caller's ASAN_OPTIONS (scripts/test turns
 * it off for MPI's sake): this process runs once more with it on. */
static void leaks_on(char **argv)
{
#ifdef SB_ASAN
	if (getenv("SB_FUZZ_REPLAY_LEAKS"))
		return;
	const char *old = getenv("ASAN_OPTIONS");
	char opts[2048];
	snprintf(opts, sizeof opts, "%s%sdetect_leaks=1", old ? old : "", old && *old ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
	setenv("SB_FUZZ_REPLAY_LEAKS", "1", 1);
	execv("/proc/self/exe", argv);
	tap_diag("cannot run again with leak detection (%s): leaks are not checked",
	         strerror(errno));
#else
	(void)argv;
#endif
}

int main(int argc, char **argv)
{
	leaks_on(argv);
	json_object_seed(1);
	sb_fuzz_init(); /* once, in this process: the children inherit it */
	if (argc > 1) {
		/* fuzz_replay.t TARGET FILE...: a verdict per file */
		const struct sb_fuzz_target *t = target_named(argv[1]);
		if (!t || argc < 3) {
			fprintf(stderr, "usage: %s runread|import|claims FILE...\n", argv[0]);
			return 2;
		}
		tap_plan(argc - 2);
		for (int i = 2; i < argc; i++) {
			char how[200];
			int r = replay_child(t->fn, argv[i], how, sizeof how);
			ok(r == READ || r == REJECTED, "%s: %s", argv[i],
			   r == READ       ? "read"
			   : r == REJECTED ? "rejected"
			                   : how);
		}
		return tap_done();
	}
	find_corpus();
	size_t ntargets = 0;
	while (sb_fuzz_targets[ntargets].name)
		ntargets++;
	tap_plan((int)(2 * ntargets + 2 * NEXPECT));
	for (size_t i = 0; i < ntargets; i++)
		replay_target(&sb_fuzz_targets[i]);
	for (size_t i = 0; i < NEXPECT; i++)
		expect(&expects[i]);
	return tap_done();
}
