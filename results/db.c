#include "db.h"

#include "util.h"
#include "stats.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sbr_db {
	sqlite3 *h;
	char *path;
	sqlite3_stmt *has, *ins, *pt; /* during an ingest */
};

/* Samples are stored as a BLOB of doubles in the machine's byte order (every machine this
 * runs on is little-endian; the schema version would change with that). */
static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs("
    " run_id TEXT PRIMARY KEY, path TEXT, origin TEXT, command TEXT, start_time TEXT,"
    " status TEXT, complete INTEGER, machine_class TEXT, machine TEXT, hosts INTEGER,"
    " ranks INTEGER, backend TEXT, software TEXT, git_commit TEXT, ingested TEXT);"
    "CREATE TABLE IF NOT EXISTS points("
    " run_id TEXT NOT NULL REFERENCES runs(run_id), seq INTEGER NOT NULL,"
    " benchmark TEXT, backend TEXT, ranks INTEGER, bytes INTEGER, config TEXT, label TEXT,"
    " time REAL, time_kind TEXT, n INTEGER, check_failed INTEGER, samples BLOB,"
    " machine_class TEXT, start_time TEXT," /* the run's, so a baseline is one index range */
    " config_hash INTEGER," /* FNV-1a 64 of config: a small key for the index */
    " PRIMARY KEY(run_id, seq));"
    "CREATE INDEX IF NOT EXISTS points_history ON points(config_hash, machine_class, "
    " start_time, run_id);"
    "CREATE INDEX IF NOT EXISTS runs_class ON runs(machine_class, start_time);";

#define BUSY_MS (10 * 60 * 1000)

static int db_fail(struct sbr_db *db, char *err, size_t errlen, const char *what)
{
	char busy[80] = "";
	if (sqlite3_errcode(db->h) == SQLITE_BUSY)
		snprintf(busy, sizeof busy, " (another process holds it; waited %d minutes)",
		         BUSY_MS / 60000);
	return sbr_fail(err, errlen, SB_EDB, "%s: %s: %s%s", db->path, what, sqlite3_errmsg(db->h),
	                busy);
}

void sbr_db_close(struct sbr_db *db)
{
	if (!db)
		return;
	sqlite3_close(db->h);
	free(db->path);
	free(db);
}

int sbr_db_open(const char *path, struct sbr_db **out, char *err, size_t errlen)
{
	struct sbr_db *db = calloc(1, sizeof *db);
	*out = NULL;
	if (!db || !(db->path = sbr_strdup(path))) {
		free(db);
		return SB_ENOMEM;
	}
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		int rc = sbr_fail(err, errlen, SB_EDB, "%s: cannot open the database: %s", path,
		                  db->h ? sqlite3_errmsg(db->h) : "out of memory");
		sbr_db_close(db);
		return rc;
	}
	/* One writer at a time: an ingest holds the write lock for its whole transaction (all
	 * or none), and another ingest into the same history waits for it rather than failing
	 * with "database is locked". An ingest reads about 1,000 run files a second here, so a
	 * history's worth of them can take minutes; one held longer than BUSY_MS is a writer that
	 * is stuck (stopped, or on a dead file system), and then the error says so. */
	sqlite3_busy_timeout(db->h, BUSY_MS);
	char *msg = NULL;
	/* 32 MiB of page cache (the default 2 MiB makes large ingests spill index pages). */
	if (sqlite3_exec(db->h, "PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768;", NULL, NULL,
	                 &msg) != SQLITE_OK ||
	    sqlite3_exec(db->h, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
		/* Not a database (bad input) or one that cannot be written (a fault). */
		int code = sqlite3_errcode(db->h);
		int rc = code == SQLITE_NOTADB || code == SQLITE_CORRUPT
		             ? sbr_fail(err, errlen, SB_EINPUT,
		                        "%s: not a scalebench history database (%s)", path,
		                        msg ? msg : "?")
		             : sbr_fail(err, errlen, SB_EDB, "%s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		sbr_db_close(db);
		return rc;
	}
	/* The schema version: written by the first open, checked by every later one. */
	sqlite3_stmt *st = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(db->h, "SELECT value FROM meta WHERE key = 'schema'", -1, &st,
	                       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = atoi((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (version < 0) {
		char sql[96];
		snprintf(sql, sizeof sql,
		         "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '%d')",
		         SBR_DB_SCHEMA);
		if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK) {
			int rc = db_fail(db, err, errlen, "writing the schema version");
			sbr_db_close(db);
			return rc;
		}
	} else if (version != SBR_DB_SCHEMA) {
		int rc = sbr_fail(err, errlen, SB_EINPUT,
		                  "%s: history schema %d, this scalebench-report knows %d", path,
		                  version, SBR_DB_SCHEMA);
		sbr_db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

/* The software a run used, as one searchable string. */
static char *software_of(const struct sbr_run *r)
{
	json_t *prov = json_object_get(r->run, "provenance");
	const char *keys[] = {"mpi_library", "nccl_runtime", "nccl_compiled", NULL};
	char buf[2048] = "";
	size_t l = 0;
	json_t *suite = json_object_get(r->run, "suite");
	const char *v = json_string_value(json_object_get(suite, "version"));
	if (v)
		l += (size_t)snprintf(buf + l, sizeof buf - l, "scalebench %s; ", v);
	for (int i = 0; keys[i] && l < sizeof buf; i++) {
		json_t *x = json_object_get(prov, keys[i]);
		if (json_is_string(x))
			l +=
			    (size_t)snprintf(buf + l, sizeof buf - l, "%s; ", json_string_value(x));
		else if (json_is_integer(x))
			l += (size_t)snprintf(buf + l, sizeof buf - l, "%s %lld; ", keys[i],
			                      (long long)json_integer_value(x));
	}
	json_t *org = json_object_get(r->run, "origin");
	const char *ov = json_string_value(json_object_get(org, "version"));
	if (ov && l < sizeof buf)
		snprintf(buf + l, sizeof buf - l, "%s %s; ", r->origin, ov);
	return sbr_strdup(buf);
}

static sqlite3_int64 config_hash(const char *s)
{
	return (sqlite3_int64)sbr_fnv1a(SBR_FNV_OFFSET, s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int sbr_db_begin(struct sbr_db *db, char *err, size_t errlen)
{
	if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, err, errlen, "starting the ingest");
	if (sqlite3_prepare_v2(db->h, "SELECT 1 FROM runs WHERE run_id = ?", -1, &db->has, NULL) ||
	    sqlite3_prepare_v2(db->h,
	                       "INSERT INTO runs VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
	                       "strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
	                       -1, &db->ins, NULL) ||
	    sqlite3_prepare_v2(db->h, "INSERT INTO points VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	                       -1, &db->pt, NULL)) {
		int rc = db_fail(db, err, errlen, "preparing the ingest");
		/* The rollback; the first error is the one to tell. */
		(void)sbr_db_end(db, 0, NULL, 0);
		return rc;
	}
	return 0;
}

int sbr_db_end(struct sbr_db *db, int commit, char *err, size_t errlen)
{
	sqlite3_finalize(db->has);
	sqlite3_finalize(db->ins);
	sqlite3_finalize(db->pt);
	db->has = db->ins = db->pt = NULL;
	if (commit && sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	int rc = commit ? db_fail(db, err, errlen, "committing the ingest") : 0;
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int sbr_db_add(struct sbr_db *db, const struct sbr_run *r, size_t *added, char *err, size_t errlen)
{
	sqlite3_stmt *has = db->has, *ins = db->ins, *pt = db->pt;
	int rc = 0;
	sqlite3_reset(has);
	bind_text(has, 1, r->run_id);
	int step = sqlite3_step(has);
	if (step == SQLITE_ROW)
		return 0; /* ingested before */
	if (step != SQLITE_DONE)
		return db_fail(db, err, errlen, "looking up a run");
	json_t *prov = json_object_get(r->run, "provenance");
	char *soft = software_of(r);
	const char *commit =
	    json_string_value(json_object_get(json_object_get(r->run, "suite"), "git_commit"));
	sqlite3_reset(ins);
	bind_text(ins, 1, r->run_id);
	bind_text(ins, 2, r->path);
	bind_text(ins, 3, r->origin);
	bind_text(ins, 4, r->command);
	bind_text(ins, 5, r->start_time);
	bind_text(ins, 6, r->status);
	sqlite3_bind_int(ins, 7, r->complete);
	bind_text(ins, 8, r->machine_class);
	bind_text(ins, 9, r->machine);
	sqlite3_bind_int64(ins, 10, (sqlite3_int64)json_array_size(json_object_get(prov, "hosts")));
	sqlite3_bind_int64(ins, 11,
	                   (sqlite3_int64)json_integer_value(json_object_get(prov, "ranks")));
	bind_text(ins, 12, json_string_value(json_object_get(prov, "backend")));
	bind_text(ins, 13, soft);
	bind_text(ins, 14, commit);
	if (sqlite3_step(ins) != SQLITE_DONE)
		rc = db_fail(db, err, errlen, "adding a run");
	free(soft);
	for (size_t i = 0; i < r->npts && rc == 0; i++) {
		const struct sbr_point *p = &r->pts[i];
		sqlite3_reset(pt);
		bind_text(pt, 1, r->run_id);
		sqlite3_bind_int64(pt, 2, (sqlite3_int64)i);
		bind_text(pt, 3, p->benchmark);
		bind_text(pt, 4, p->backend);
		sqlite3_bind_int(pt, 5, p->ranks);
		sqlite3_bind_int64(pt, 6, (sqlite3_int64)p->bytes);
		bind_text(pt, 7, p->config);
		bind_text(pt, 8, p->label);
		if (p->time == p->time)
			sqlite3_bind_double(pt, 9, p->time);
		else
			sqlite3_bind_null(pt, 9);
		bind_text(pt, 10, p->time_kind);
		sqlite3_bind_int64(pt, 11, (sqlite3_int64)p->nsamples);
		sqlite3_bind_int(pt, 12, p->check_failed);
		if (p->nsamples)
			sqlite3_bind_blob64(pt, 13, p->samples,
			                    (sqlite3_uint64)(p->nsamples * sizeof(double)),
			                    SQLITE_STATIC);
		else
			sqlite3_bind_null(pt, 13);
		bind_text(pt, 14, r->machine_class);
		bind_text(pt, 15, r->start_time);
		sqlite3_bind_int64(pt, 16, config_hash(p->config));
		if (sqlite3_step(pt) != SQLITE_DONE)
			rc = db_fail(db, err, errlen, "adding a point");
	}
	if (rc == 0)
		(*added)++;
	return rc;
}

void sbr_base_free(struct sbr_base *b)
{
	free(b->samples);
	free(b->run_medians);
	memset(b, 0, sizeof *b);
}

int sbr_db_baseline(struct sbr_db *db, const char *machine_class, const char *config,
                    const char *exclude, const char *before, int nruns, struct sbr_base *b,
                    char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	sqlite3_stmt *st = NULL;
	/* Rows newest first; a run with several points of the configuration gives several rows,
	 * pooled: N counts runs, not rows. */
	if (sqlite3_prepare_v2(db->h,
	                       "SELECT samples, start_time, run_id FROM points INDEXED BY "
	                       "points_history WHERE config_hash = ?6 AND config = ?1 AND "
	                       "machine_class = ?2 AND run_id <> ?3 AND check_failed = 0 AND "
	                       "n > 0 AND start_time < ?4 ORDER BY start_time DESC, run_id DESC",
	                       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, errlen, "preparing a baseline query");
	bind_text(st, 1, config);
	bind_text(st, 2, machine_class);
	bind_text(st, 3, exclude ? exclude : "");
	bind_text(st, 4, before);
	sqlite3_bind_int64(st, 6, config_hash(config));
	int rc = 0, step;
	size_t cap = 0, first_of_run = 0;
	char last[80] = "";
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		size_t bytes = (size_t)sqlite3_column_bytes(st, 0), k = bytes / sizeof(double);
		const void *blob = sqlite3_column_blob(st, 0);
		const char *t = (const char *)sqlite3_column_text(st, 1);
		const char *id = (const char *)sqlite3_column_text(st, 2);
		int same = id && strcmp(id, last) == 0;
		if (!same && b->runs == nruns)
			break;
		if (b->n + k > cap) {
			size_t nc = cap ? 2 * cap : 1024;
			while (nc < b->n + k)
				nc *= 2;
			double *v = realloc(b->samples, nc * sizeof *v);
			if (!v) {
				rc = SB_ENOMEM;
				break;
			}
			b->samples = v;
			cap = nc;
		}
		if (k)
			memcpy(b->samples + b->n, blob, k * sizeof(double));
		b->n += k;
		if (!same) {
			double *rm = realloc(b->run_medians, (size_t)(b->runs + 1) * sizeof *rm);
			if (!rm) {
				rc = SB_ENOMEM;
				break;
			}
			b->run_medians = rm;
			first_of_run = b->n - k;
			snprintf(last, sizeof last, "%s", id ? id : "");
			if (b->runs++ == 0)
				snprintf(b->newest, sizeof b->newest, "%s", t ? t : "?");
			snprintf(b->oldest, sizeof b->oldest, "%s", t ? t : "?");
		}
		/* This run's median over all of its rows so far. */
		if ((rc = sb_stats_median_of(b->samples + first_of_run, b->n - first_of_run,
		                             &b->run_medians[b->runs - 1])))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = rc ? rc : db_fail(db, err, errlen, "reading a baseline");
	sqlite3_finalize(st);
	if (rc)
		sbr_base_free(b);
	return rc;
}

int sbr_db_query(struct sbr_db *db, const struct sbr_query *q, struct sbr_table *t, char *err,
                 size_t errlen)
{
	static const char *const head[] = {"start",         "run",     "command", "status",
	                                   "machine class", "machine", "ranks",   "points",
	                                   "software",      NULL};
	int rc = sbr_table_init(t, "runs in the history", head);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(
	        db->h,
	        "SELECT r.start_time, r.run_id, r.command, r.status, r.machine_class, r.machine, "
	        "r.ranks, count(p.seq), r.software FROM runs r JOIN points p USING (run_id) "
	        "WHERE (?1 IS NULL OR p.benchmark = ?1) AND (?2 IS NULL OR instr(p.config, ?2) > "
	        "0) "
	        "AND (?3 IS NULL OR r.machine_class = ?3 OR instr(r.machine, ?3) > 0) "
	        "AND (?4 IS NULL OR instr(r.software, ?4) > 0) "
	        "AND (?5 IS NULL OR r.start_time >= ?5) AND (?6 IS NULL OR r.start_time <= ?6) "
	        "GROUP BY r.run_id ORDER BY r.start_time, r.run_id",
	        -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, errlen, "preparing a query");
	bind_text(st, 1, q->benchmark);
	bind_text(st, 2, q->config);
	bind_text(st, 3, q->machine);
	bind_text(st, 4, q->software);
	bind_text(st, 5, q->since);
	bind_text(st, 6, q->until);
	int step;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cells[9];
		char ranks[24], pts[24];
		snprintf(ranks, sizeof ranks, "%d", sqlite3_column_int(st, 6));
		snprintf(pts, sizeof pts, "%d", sqlite3_column_int(st, 7));
		for (int i = 0; i < 9; i++)
			cells[i] = (const char *)sqlite3_column_text(st, i);
		cells[6] = ranks;
		cells[7] = pts;
		rc = sbr_table_add(t, cells);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_fail(db, err, errlen, "running a query");
	sqlite3_finalize(st);
	return rc;
}
