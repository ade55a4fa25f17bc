/* What the fuzz targets share: the input as a file, the contract, and a run used the way
 * scalebench-report uses one (fuzz.h). */
#include "fuzz.h"
#include "fuzz_impl.h"

#include "error.h"
#include "show.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef SB_FUZZ_SOURCE_DIR
#define SB_FUZZ_SOURCE_DIR "."
#endif

const struct sb_fuzz_target sb_fuzz_targets[] = {
    {"runread", sb_fuzz_runread},
    {"import", sb_fuzz_import},
    {"claims", sb_fuzz_claims},
    {NULL, NULL},
};

void sb_fuzz_init(void)
{
	struct sbr_run **rp;
	(void)sb__fuzz_default_claims();
	(void)sb__fuzz_runs(&rp);
}

const char *sb_fuzz_source_dir(void)
{
	return SB_FUZZ_SOURCE_DIR;
}

static int fd = -1;
static char path[64];

const char *sb_fuzz_file(const uint8_t *data, size_t size)
{
	sb_fuzz_file_close();
	fd = memfd_create("sbfuzz", MFD_CLOEXEC);
	if (fd < 0) {
		perror("sb_fuzz_file: memfd_create");
		abort();
	}
	for (size_t at = 0; at < size;) {
		ssize_t k = write(fd, data + at, size - at);
		if (k <= 0) {
			perror("sb_fuzz_file: write");
			abort();
		}
		at += (size_t)k;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return path;
}

void sb_fuzz_file_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

const char *sb_fuzz_judge(int rc, const char *err)
{
	if (rc == 0 || rc == SB_ENOMEM)
		return NULL;
	if (rc != SB_EINPUT)
		return "rejected with a code other than SB_EINPUT or SB_ENOMEM";
	if (!err || !*err)
		return "rejected without a message";
	for (const char *c = err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "a control character in the message (more than one line, or an "
			       "escape sequence for the terminal)";
	/* The input's path, or its base name (claims name the file so). */
	const char *base = strrchr(path, '/');
	if (strncmp(err, path, strlen(path)) != 0 &&
	    !(base && strncmp(err, base + 1, strlen(base + 1)) == 0))
		return "a message that does not name the file";
	return NULL;
}

static FILE *devnull(void)
{
	static FILE *f;
	if (!f && !(f = fopen("/dev/null", "w"))) {
		perror("/dev/null");
		abort();
	}
	return f;
}

const struct sbr_claims *sb__fuzz_default_claims(void)
{
	static struct sbr_claims cl;
	static int state; /* 0 not tried, 1 read, -1 failed */
	if (!state) {
		char err[1024];
		state = sbr_claims_load(sbr_claims_default_path(), &cl, err, sizeof err) ? -1 : 1;
	}
	return state > 0 ? &cl : NULL;
}

int sb__fuzz_claims_table(const struct sbr_claims *cl, struct sbr_run *const *runs, size_t n)
{
	struct sbr_claim_result *res = NULL;
	int rc = sbr_claims_evaluate(cl, runs, n, NULL, &res);
	if (rc == 0)
		rc = sbr_claims_write(res, cl->n, SBR_TEXT, devnull());
	free(res);
	return rc;
}

int sb__fuzz_use_run(struct sbr_run *r, enum sbr_format fmt)
{
	/* What the tables and the claims ask of every point. */
	volatile double sink = 0;
	for (size_t i = 0; i < r->npts; i++) {
		const struct sbr_point *p = &r->pts[i];
		sink += sbr_point_metric(p, "busbw") + sbr_point_metric(p, "algbw");
		sink += (double)sbr_point_int(p, "count", 0);
		const char *s = sbr_point_str(p, "dtype");
		sink += s ? (double)strlen(s) : 0;
		const char *name;
		for (size_t k = 0; (name = sbr_point_series_name(p, k)); k++) {
			struct sbr_point_series ser;
			char err[1024];
			if (sbr_point_series_read(r->path, p, name, &ser, err, sizeof err) > 0) {
				sink += ser.median + (double)ser.nv;
				sbr_point_series_free(&ser);
			}
		}
	}
	(void)sink;
	struct sbr_run *one[1] = {r};
	int rc = sbr_show(one, 1, fmt, devnull(), (char[256]){0}, 256);
	const struct sbr_claims *cl = sb__fuzz_default_claims();
	if (rc == 0 && cl)
		rc = sb__fuzz_claims_table(cl, one, 1);
	return rc;
}
