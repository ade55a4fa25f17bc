/* What the importers share (import.c, import_nccl.c, import_nccl_json.c, import_osu.c): a log's
 * lines, the import in progress, one point, and the helpers that turn them into records. Internal:
 * the public API is import.h. Each helper's contract is at its definition. */
#ifndef SBR_IMPORT_IMPL_H
#define SBR_IMPORT_IMPL_H

#include "import.h"

#include <stddef.h>

#define MAX_TOK 64

/* The lines of a text file, split in place: no '\n', no trailing '\r'. */
struct text {
	char **line;
	size_t n, maxlen;
	int cut; /* the last line has no newline: the file may end mid-line */
	char *scratch; /* maxlen + 1 bytes for tokenizing a copy of a line */
};

/* One import in progress: what every point repeats, the points so far, how the log ended. */
struct imp {
	const char *path;
	char *err;
	size_t errlen;
	char bench[64], family[32]; /* family: OMB's "MPI", "NCCL"..., lower case */
	const char *backend;
	long long ranks; /* -1: unknown */
	const char *span;
	json_t *method; /* copied into every point */
	json_t *points;
	int failed; /* some point's check failed */
	char why[200]; /* why the import is incomplete; "" when it is not */
	json_t *end; /* what the log says at its end (end_time, the tool's verdicts) */
};

/* One point as the tools print it; NAN and -1 for what the log does not show. */
struct pt {
	size_t line;
	long long bytes, count, root; /* root: -1 none */
	const char *dtype, *op, *place; /* place: "out-of-place"/"in-place" (nccl-tests), NULL */
	double mean, min, max, median, p5, p25, p75, p95, p99, stddev, cov; /* s */
	long long n;
	json_t *samples; /* s, or NULL; taken */
	json_t *metrics; /* or NULL; taken */
	json_t *params; /* extra params, or NULL; taken */
	const char *check; /* "ok", "failed", "off", "unknown" */
	long long wrong, check_iters;
	double max_error;
};

/* One rank as nccl-tests lists it under "# Using devices". */
struct nrank {
	long long rank, pid, device;
	char host[256], pci[64], name[256];
};

/* Where the elements of the top-level "results" list start, and the longest prefix of a document
 * cut off mid-way that closes into valid JSON: nccl-tests writes its JSON as it goes and closes
 * it at exit, so a killed run leaves every finished row on disk without the closing brackets. */
struct jscan {
	size_t *elem, nelem;
	size_t safe; /* prefix length */
	const char *close; /* what closes it; NULL: nothing safe found */
};

int sbr__imp_json_scan(const char *b, size_t n, struct jscan *s); /* import_nccl_json.c */

/* import.c: words and numbers */
json_t *sbr__imp_jstr(const char *s);
json_t *sbr__imp_jint(long long v);
int sbr__imp_num_u64(const char *s, unsigned long long *v);
int sbr__imp_num_i64(const char *s, long long *v);
int sbr__imp_num_dbl(const char *s, double *v);
int sbr__imp_split(char *s, char **tok, int max);
const char *sbr__imp_base_name(const char *p);
int sbr__imp_name_from_path(const char *path, const char *const (*tab)[2], size_t ntab, char *out,
                            size_t n);
size_t sbr__imp_line_of(const char *b, size_t off);
int sbr__imp_words(struct text *t, size_t i, char **tok);
int sbr__imp_mostly_numbers(char **tok, int nt);
int sbr__imp_is_comment(const char *l);
const char *sbr__imp_death_note(const char *l);

/* import.c: points */
void sbr__imp_pt_init(struct pt *p, size_t line);
void sbr__imp_metric(json_t *m, const char *name, double v, const char *unit);
void sbr__imp_emit(struct imp *im, struct pt *p);
void sbr__imp_pt_drop(struct pt *p);
void sbr__imp_incomplete(struct imp *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* import_nccl.c: nccl-tests names and ranks, for its text and JSON importers */
void sbr__imp_nccl_bench(const char *prog, char *out, size_t n);
extern const char *const sbr__imp_nccl_files[][2];
extern const size_t sbr__imp_nccl_nfiles;
void sbr__imp_nccl_ranks_to(json_t *prov, const struct nrank *rk, size_t n);
const char *sbr__imp_nccl_span(const struct nrank *rk, size_t n);
json_t *sbr__imp_nccl_version_str(long long code);

/* The parsers, called by sbr_import with im and run set up; each fills in the run's provenance
 * and origin and emits the points. 0, SB_EINPUT (message in im->err) or SB_ENOMEM. */
int sbr__imp_nccl_text(struct imp *im, struct text *t, json_t *run);
int sbr__imp_nccl_json(struct imp *im, json_t *doc, const struct jscan *sc, const char *buf,
                       json_t *run);
int sbr__imp_osu_text(struct imp *im, struct text *t, json_t *run);

#endif
