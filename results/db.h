/* The history of runs in SQLite. One row per run (keyed by its run id, so ingesting a file twice
 * adds nothing) and one per point, with the point's configuration, machine class and samples.
 * The database carries its own schema version; an ingest is one transaction, so an ingest
 * that fails or is interrupted leaves the database as it was. */
#ifndef SBR_DB_H
#define SBR_DB_H

#include "runread.h"
#include "table.h"

#define SBR_DB_SCHEMA 1
#define SBR_DB_DEFAULT "runs/history.sqlite"

struct sbr_db;

/* Open (creating it and its schema if need be) the database at path. */
int sbr_db_open(const char *path, struct sbr_db **db, char *err, size_t errlen);
void sbr_db_close(struct sbr_db *db);

/* Ingest runs, all or none: begin, add each run (*added is incremented for a run new to the
 * database; one already there is left as it is), then end with commit = 1, or commit = 0 to
 * leave the database as it was. Runs can be read and added one at a time, so an ingest of
 * thousands of files holds one in memory. */
int sbr_db_begin(struct sbr_db *db, char *err, size_t errlen);
int sbr_db_add(struct sbr_db *db, const struct sbr_run *r, size_t *added, char *err, size_t errlen);
int sbr_db_end(struct sbr_db *db, int commit, char *err, size_t errlen);

/* The rolling baseline of one configuration: the pooled samples of its points in the newest
 * `nruns` runs of the machine class that started before `before` (ISO time), other than run
 * `exclude`, whose checks passed. */
struct sbr_base {
	double *samples;
	size_t n;
	int runs; /* how many runs contributed */
	double *run_medians; /* each one's median, newest first */
	char oldest[40], newest[40]; /* their start times */
};
int sbr_db_baseline(struct sbr_db *db, const char *machine_class, const char *config,
                    const char *exclude, const char *before, int nruns, struct sbr_base *b,
                    char *err, size_t errlen);
void sbr_base_free(struct sbr_base *b);

/* History queries: runs (and how many of their points match) by benchmark, configuration
 * (a substring of the configuration key), machine class, software (a substring of the MPI,
 * NCCL or scalebench version strings) and start time. NULL fields do not filter. */
struct sbr_query {
	const char *benchmark, *config, *machine, *software, *since, *until;
};
int sbr_db_query(struct sbr_db *db, const struct sbr_query *q, struct sbr_table *t, char *err,
                 size_t errlen);

#endif
