/* The run file: JSON Lines, one record per line, written by rank 0 and flushed record by
 * record so a crash loses at most the point in flight. The schema is in results/README.md. */
#ifndef SB_RUNFILE_H
#define SB_RUNFILE_H

#include <jansson.h>
#include <stddef.h>

#define SB_SCHEMA_VERSION 1

struct sb_runfile;

/* Create dir (and parents) if needed and a new file in it named
 * <stem>-<UTC time>-<host>-<pid>[-N].jsonl, never reusing an existing name (O_EXCL), so two
 * runs started in the same second into the same directory both survive. NULL on failure with
 * a message in err. */
struct sb_runfile *sb_runfile_open(const char *dir, const char *stem, const char *host, char *err,
                                   size_t errlen);
const char *sb_runfile_path(const struct sb_runfile *rf);

/* Append rec as one line and flush it to the kernel. Safe to call from the watchdog thread
 * (serialised by a lock). Returns 0, or SB_EIO with the reason printed once (disk full...). */
int sb_runfile_write(struct sb_runfile *rf, json_t *rec);

/* Append the last record (`end`): later writes, from any thread, are dropped, so nothing
 * follows it even when the watchdog and the main thread race at the end of a job. */
int sb_runfile_write_last(struct sb_runfile *rf, json_t *rec);

/* The last record from a signal handler (async-signal-safe): `line` is one complete JSON
 * record ending in '\n'. If the handler interrupted a record being written, that partial
 * record is cut off first (it was the point in flight). Nothing is written after an end
 * record or a failed write. Returns 0 or -1. */
int sb_runfile_write_last_sigsafe(struct sb_runfile *rf, const char *line, size_t len);
/* Close; returns SB_EIO when the final flush or close failed. */
int sb_runfile_close(struct sb_runfile *rf);

/* A random identifier of 32 hex digits (from /dev/urandom). */
void sb_random_id(char out[33]);
/* Current UTC time as ISO 8601 with microseconds ("2026-11-23T01:02:03.123456Z"). */
void sb_utc_now(char *out, size_t len);

#endif
