#include "runfile.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct sb_runfile {
	int fd;
	off_t good; /* end of the last complete record */
	int failed;
	volatile sig_atomic_t sealed; /* the `end` record is written */
	volatile sig_atomic_t writing; /* a record is going out: it may be partial */
	volatile off_t expect; /* where the file ends once the record going out is whole */
	pthread_mutex_t lock;
	char path[4096];
};

/* mkdir -p */
static int make_dirs(const char *dir)
{
	char buf[4096];
	if (!*dir) {
		errno = ENOENT;
		return -1;
	}
	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0777) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(buf, 0777) && errno != EEXIST)
		return -1;
	return 0;
}

void sb_utc_now(char *out, size_t len)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06ldZ", base, (long)tv.tv_usec);
}

void sb_random_id(char out[33])
{
	unsigned char b[16];
	FILE *f = fopen("/dev/urandom", "rb");
	if (!f || fread(b, 1, sizeof b, f) != sizeof b) {
		/* No /dev/urandom: time and pid still make a collision unlikely. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long x = (unsigned long long)ts.tv_nsec ^
		                       ((unsigned long long)ts.tv_sec << 20) ^
		                       ((unsigned long long)getpid() << 40);
		for (int i = 0; i < 16;
		     i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
			b[i] = (unsigned char)(x >> 56);
	}
	if (f)
		fclose(f);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

struct sb_runfile *sb_runfile_open(const char *dir, const char *stem, const char *host, char *err,
                                   size_t errlen)
{
	if (make_dirs(dir)) {
		snprintf(err, errlen, "cannot create directory '%s': %s", dir, strerror(errno));
		return NULL;
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
	char h[64];
	size_t k = 0;
	for (const char *p = host; *p && k < sizeof h - 1;
	     p++) /* host names into safe file names */
		h[k++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		                        (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
		                    ? *p
		                    : '_');
	h[k] = '\0';

	struct sb_runfile *rf = calloc(1, sizeof *rf);
	if (!rf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rf->fd = -1;
	for (int n = 0; n < 1000; n++) {
		if (n == 0)
			snprintf(rf->path, sizeof rf->path, "%s/%s-%s-%s-%ld.jsonl", dir, stem, ts,
			         h, (long)getpid());
		else
			snprintf(rf->path, sizeof rf->path, "%s/%s-%s-%s-%ld-%d.jsonl", dir, stem,
			         ts, h, (long)getpid(), n);
		rf->fd = open(rf->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_APPEND, 0644);
		if (rf->fd >= 0)
			break;
		if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create run file '%s': %s", rf->path,
			         strerror(errno));
			free(rf);
			return NULL;
		}
	}
	if (rf->fd < 0) {
		snprintf(err, errlen, "cannot create a run file in '%s'", dir);
		free(rf);
		return NULL;
	}
	pthread_mutex_init(&rf->lock, NULL);
	return rf;
}

const char *sb_runfile_path(const struct sb_runfile *rf)
{
	return rf->path;
}

static int write_locked(struct sb_runfile *rf, json_t *rec, int last)
{
	if (!rf)
		return 0;
	if (last) {
		/* The end record may come from the watchdog while the main thread is stuck in a
		 * write (a hung file system): give up on it after 2 s rather than hang the exit. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 2;
		if (pthread_mutex_timedlock(&rf->lock, &ts) != 0) {
			sb_log_fault("run file '%s' is busy; the end record is not written",
			             rf->path);
			return SB_EIO;
		}
	} else {
		pthread_mutex_lock(&rf->lock);
	}
	int rc = 0;
	if (rf->sealed) {
		rc = 0; /* the run is over; what comes after the end record is dropped */
	} else if (rf->failed) {
		rc = SB_EIO;
	} else {
		/* Compact, keys in insertion order, reals with 9 significant digits (ns resolution
		 * of second-valued samples). One write(2) per record, no stdio buffer: a record is
		 * in the kernel when this returns, and a failed one is cut off again so the file
		 * stays whole lines (a full disk loses the point in flight, nothing before it). */
		char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER |
		                                 JSON_REAL_PRECISION(9) | JSON_ENSURE_ASCII);
		int err = line ? 0 : ENOMEM;
		if (line) {
			size_t len = strlen(line);
			line[len++] = '\n'; /* replaces the NUL: json_dumps allocates len + 1 */
			rf->expect = rf->good + (off_t)len;
			rf->writing = 1;
			for (size_t off = 0; off < len && !err;) {
				ssize_t w = write(rf->fd, line + off, len - off);
				if (w < 0 && errno != EINTR)
					err = errno;
				else if (w > 0)
					off += (size_t)w;
			}
		}
		if (err) {
			if (ftruncate(rf->fd, rf->good) != 0) {
				/* nothing more to do: the message below still names the file */
			}
			sb_log_fault("cannot write run file '%s': %s", rf->path, strerror(err));
			rf->failed = 1;
			rc = SB_EIO;
		} else {
			rf->good = lseek(rf->fd, 0, SEEK_CUR);
			if (last) /* before writing ends: a signal now must not add a second end */
				rf->sealed = 1;
		}
		rf->writing = 0;
		free(line);
	}
	if (last)
		rf->sealed = 1;
	pthread_mutex_unlock(&rf->lock);
	return rc;
}

int sb_runfile_write(struct sb_runfile *rf, json_t *rec)
{
	return write_locked(rf, rec, 0);
}

int sb_runfile_write_last(struct sb_runfile *rf, json_t *rec)
{
	return write_locked(rf, rec, 1);
}

int sb_runfile_write_last_sigsafe(struct sb_runfile *rf, const char *line, size_t len)
{
	if (!rf || rf->sealed || rf->failed)
		return -1;
	rf->sealed = 1;
	/* A record in flight: kept if it is whole (the signal came as its write returned),
	 * else cut off. */
	if (rf->writing && lseek(rf->fd, 0, SEEK_END) != rf->expect &&
	    ftruncate(rf->fd, rf->good) != 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(rf->fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

int sb_runfile_close(struct sb_runfile *rf)
{
	if (!rf)
		return 0;
	pthread_mutex_lock(&rf->lock);
	int rc = rf->failed ? SB_EIO : 0;
	if (close(rf->fd) != 0 && !rf->failed) {
		sb_log_fault("cannot write run file '%s': %s", rf->path, strerror(errno));
		rc = SB_EIO;
	}
	pthread_mutex_unlock(&rf->lock);
	pthread_mutex_destroy(&rf->lock);
	free(rf);
	return rc;
}
