/* scalebench-report: the collector. Reads run files (and other tools' logs), keeps the history
 * in SQLite, gives regression verdicts and prints tables. No MPI.
 *
 *   scalebench-report ingest RUN... [--db FILE]
 *   scalebench-report compare CURRENT [--baseline RUN | --history N] [--db FILE] [--alpha P]
 *                     [--threshold PCT] [--format F] [-o FILE] [--changes-only]
 *                     [--series NAME[,NAME...]|none]
 *   scalebench-report show RUN... [--format md|csv|html|text] [-o FILE]
 *   scalebench-report history [--db FILE] [--benchmark B] [--config TEXT] [--machine M]
 *                     [--software TEXT] [--since T] [--until T] [--format F]
 *   scalebench-report import FILE [-o RUN]
 *   scalebench-report model RUN... [--format F] [--split BYTES] [--boot N] [--seed S]
 *                     [--algo NAME] [-o FILE]
 *   scalebench-report claims RUN... [--claims FILE] [--format text|md|csv|html] [-o FILE]
 *   scalebench-report report RUN... [-o FILE.html] [--claims FILE]
 *
 * Exit status (common/error.h): SB_EXIT_OK 0 fine (compare: no regression), SB_EXIT_REGRESSION 1
 * compare found a regression, SB_EXIT_BAD_INPUT 2 bad input (command line, run files, logs, a
 * file that is not a history database), SB_EXIT_FAULT 3 the database or an output could not be
 * written, or memory ran out. */
#include "claims.h"
#include "compare.h"
#include "db.h"
#include "import.h"
#include "model.h"
#include "report.h"
#include "runread.h"
#include "show.h"
#include "table.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: scalebench-report COMMAND ...\n"
    "  ingest RUN... [--db FILE]          add runs to the history (default " SBR_DB_DEFAULT ")\n"
    "  compare CURRENT [--baseline RUN | --history N] [--db FILE] [--alpha P]\n"
    "          [--threshold PCT] [--format F] [-o FILE] [--changes-only]\n"
    "          [--series NAME[,NAME...]|none]\n"
    "                                     regression verdicts; exit 1 on a regression;\n"
    "                                     --series: which series of a point are judged too\n"
    "                                     (default " SBR_SERIES_DEFAULT " where a point has them)\n"
    "  show RUN... [--format md|csv|html|text] [-o FILE]\n"
    "                                     runs side by side\n"
    "  history [--db FILE] [--benchmark B] [--config TEXT] [--machine M] [--software TEXT]\n"
    "          [--since T] [--until T] [--format F]\n"
    "                                     runs in the history\n"
    "  import FILE [-o RUN]               nccl-tests (text or -J JSON) or OSU Micro-Benchmarks\n"
    "                                     output as a run file\n"
    "  model RUN... [--format F] [--split BYTES] [--boot N] [--seed S] [--algo NAME] [-o FILE]\n"
    "                                     alpha-beta(-gamma) cost models of the all-reduce,\n"
    "                                     send/recv and handoff points, and their\n"
    "                                     extrapolation to 1e3..1e6 ranks\n"
    "  claims RUN... [--claims FILE] [--format md|csv|html|text] [-o FILE]\n"
    "                                     a verdict per scaling claim (default claims file:\n"
    "                                     results/claims/claims.json); exit 0 whatever the\n"
    "                                     verdicts\n"
    "  report RUN... [-o FILE.html] [--claims FILE]\n"
    "                                     one self-contained HTML page: runs, claims, cost\n"
    "                                     model with plots, benchmark tables\n"
    "RUN: a scalebench run file (JSON Lines); show and compare also read what import reads.\n";

static int bad(const char *fmt, const char *a)
{
	fprintf(stderr, "scalebench-report: error: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, " (scalebench-report --help)\n");
	return SB_EXIT_BAD_INPUT;
}

/* The message of a failed call (err, or the code's text when the call left none) and the exit
 * status of its code. */
static int report(int rc, const char *err)
{
	if (rc == SB_ENOMEM || !err || !*err)
		fprintf(stderr, "scalebench-report: error: %s\n", sb_strerror(rc));
	else {
		/* Messages quote run files: no control characters to the terminal. */
		fputs("scalebench-report: error: ", stderr);
		for (const char *c = err; *c; c++)
			fputc((unsigned char)*c < 0x20 ? '?' : *c, stderr);
		fputc('\n', stderr);
	}
	return sb_exit_status(rc);
}

/* A scalebench run file when its first record says so; otherwise another tool's log, imported
 * on the fly. */
static int load(const char *path, struct sbr_run *r, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return sbr_fail(err, errlen, SB_EINPUT, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t len = 0;
	ssize_t got;
	int ours = 0;
	while ((got = getline(&line, &len, f)) >= 0 && strspn(line, " \t\r\n") == (size_t)got)
		;
	if (got > 0) {
		json_t *j = json_loadb(line, (size_t)got, 0, NULL);
		ours = j && json_is_string(json_object_get(j, "type"));
		json_decref(j);
	}
	free(line);
	fclose(f);
	if (ours)
		return sbr_run_read(path, r, err, errlen);
	json_t *recs = NULL;
	enum sbr_import_kind kind;
	int rc = sbr_import(path, &recs, &kind, err, errlen);
	if (rc == 0)
		rc = sbr_run_from_records(path, recs, r, err, errlen);
	json_decref(recs);
	return rc;
}

/* Run files given on the command line, read all or none, and pointers to them (what show,
 * claims, model and report take). */
struct loaded {
	struct sbr_run *runs;
	struct sbr_run **rp;
	size_t n;
};

static void loaded_free(struct loaded *l)
{
	for (size_t i = 0; l->runs && i < l->n; i++)
		sbr_run_free(&l->runs[i]);
	free(l->runs);
	free(l->rp);
	memset(l, 0, sizeof *l);
}

static int load_all(char **paths, size_t n, struct loaded *l, char *err, size_t errlen)
{
	memset(l, 0, sizeof *l);
	l->runs = calloc(n ? n : 1, sizeof *l->runs);
	l->rp = calloc(n ? n : 1, sizeof *l->rp);
	if (!l->runs || !l->rp) {
		loaded_free(l);
		return SB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = load(paths[i], &l->runs[i], err, errlen);
		if (rc) {
			l->n = i;
			loaded_free(l);
			return rc;
		}
		l->rp[i] = &l->runs[i];
	}
	l->n = n;
	return 0;
}

/* The default database lives in ./runs/, which may not exist yet. */
static void make_parent(const char *path)
{
	/* It may be there; any other failure shows when the database is opened. */
	if (strcmp(path, SBR_DB_DEFAULT) == 0)
		(void)mkdir("runs", 0777);
}

static FILE *open_out(const char *path)
{
	if (!path || strcmp(path, "-") == 0)
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "scalebench-report: error: %s: %s\n", path, strerror(errno));
	return f;
}

static int close_out(FILE *f, const char *path)
{
	int bad_write = ferror(f) | fflush(f);
	if (f != stdout)
		bad_write |= fclose(f);
	if (bad_write) {
		fprintf(stderr, "scalebench-report: error: %s: %s\n",
		        path && strcmp(path, "-") ? path : "standard output", strerror(errno));
		return SB_EXIT_FAULT;
	}
	return SB_EXIT_OK;
}

enum {
	OPT_DB = 256,
	OPT_BASELINE,
	OPT_HISTORY,
	OPT_ALPHA,
	OPT_THRESHOLD,
	OPT_FORMAT,
	OPT_CHANGES,
	OPT_BENCH,
	OPT_CONFIG,
	OPT_MACHINE,
	OPT_SOFTWARE,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_SERIES,
	OPT_CLAIMS,
	OPT_SPLIT,
	OPT_BOOT,
	OPT_SEED,
	OPT_ALGO,
};

struct cli {
	const char *db, *baseline, *out, *benchmark, *config, *machine, *software, *since, *until;
	const char *series; /* compare --series, as given; NULL: the default */
	int history, changes_only;
	double alpha, threshold;
	enum sbr_format fmt;
	const char *claims; /* claims, report: --claims FILE; NULL: the shipped one */
	struct sbr_model_opts mo; /* model: --split, --boot, --seed, --algo */
};

static double number(const char *s, const char *opt, int *ok)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v)) {
		bad("%s needs a number", opt);
		*ok = 0;
	}
	return v;
}

/* A size in bytes, with K/M/G (2^10, 2^20, 2^30) as scalebench takes them; -1 when it is not
 * one above 0. */
static double model_size(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !isfinite(v))
		return -1;
	if (*end == 'K' || *end == 'k')
		v *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1048576, end++;
	else if (*end == 'G' || *end == 'g')
		v *= 1073741824.0, end++;
	return *end || !(v > 0) || v > 1e15 ? -1 : v;
}

/* Options of every command; each command refuses the ones it has no use for. */
static int parse(int argc, char **argv, const char *allowed, struct cli *o)
{
	static const struct option longs[] = {
	    {"db", required_argument, NULL, OPT_DB},
	    {"baseline", required_argument, NULL, OPT_BASELINE},
	    {"history", required_argument, NULL, OPT_HISTORY},
	    {"alpha", required_argument, NULL, OPT_ALPHA},
	    {"threshold", required_argument, NULL, OPT_THRESHOLD},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"changes-only", no_argument, NULL, OPT_CHANGES},
	    {"benchmark", required_argument, NULL, OPT_BENCH},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"machine", required_argument, NULL, OPT_MACHINE},
	    {"software", required_argument, NULL, OPT_SOFTWARE},
	    {"since", required_argument, NULL, OPT_SINCE},
	    {"until", required_argument, NULL, OPT_UNTIL},
	    {"series", required_argument, NULL, OPT_SERIES},
	    {"claims", required_argument, NULL, OPT_CLAIMS},
	    {"split", required_argument, NULL, OPT_SPLIT},
	    {"boot", required_argument, NULL, OPT_BOOT},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"algo", required_argument, NULL, OPT_ALGO},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	*o = (struct cli){.db = SBR_DB_DEFAULT,
	                  .alpha = 0.01,
	                  .threshold = 0.05,
	                  .fmt = SBR_TEXT,
	                  .mo = {.algo = -1}};
	int c, ok = 1, idx = 0;
	opterr = 0;
	optind = 2;
	while (ok && (c = getopt_long(argc, argv, "o:h", longs, &idx)) != -1) {
		if (c == '?') {
			bad("unknown option or missing value: %s", argv[optind - 1]);
			return -1;
		}
		if (c == 'h') {
			fputs(usage, stdout);
			exit(close_out(stdout, NULL));
		}
		const char *name = c == 'o' ? "o" : longs[idx].name;
		/* Which options the command takes: a space-separated list. */
		char key[32];
		snprintf(key, sizeof key, " %s ", name);
		char list[256];
		snprintf(list, sizeof list, " %s ", allowed);
		if (!strstr(list, key)) {
			bad("%s does not take that option", argv[1]);
			return -1;
		}
		switch (c) {
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_BASELINE:
			o->baseline = optarg;
			break;
		case OPT_HISTORY: {
			double v = number(optarg, "--history", &ok);
			if (ok && (v < 1 || v > 1000 || v != floor(v))) {
				bad("--history %s: a number of runs from 1 to 1000", optarg);
				ok = 0;
			}
			o->history = (int)v;
			break;
		}
		case OPT_ALPHA:
			o->alpha = number(optarg, "--alpha", &ok);
			if (ok && !(o->alpha > 0 && o->alpha < 1)) {
				bad("--alpha %s: a p-value between 0 and 1", optarg);
				ok = 0;
			}
			break;
		case OPT_THRESHOLD:
			o->threshold = number(optarg, "--threshold", &ok) / 100;
			if (ok && !(o->threshold >= 0 && o->threshold < 10)) {
				bad("--threshold %s: a percentage from 0 to 1000", optarg);
				ok = 0;
			}
			break;
		case OPT_FORMAT: {
			int f = sbr_format_parse(optarg);
			if (f < 0) {
				bad("--format %s: one of " SBR_FORMAT_CHOICES, optarg);
				ok = 0;
			}
			o->fmt = (enum sbr_format)f;
			break;
		}
		case OPT_CHANGES:
			o->changes_only = 1;
			break;
		case OPT_BENCH:
			o->benchmark = optarg;
			break;
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_MACHINE:
			o->machine = optarg;
			break;
		case OPT_SOFTWARE:
			o->software = optarg;
			break;
		case OPT_SINCE:
			o->since = optarg;
			break;
		case OPT_UNTIL:
			o->until = optarg;
			break;
		case OPT_SERIES:
			o->series = optarg;
			break;
		case OPT_CLAIMS:
			o->claims = optarg;
			break;
		case OPT_SPLIT:
			if ((o->mo.split = model_size(optarg)) < 0) {
				bad("--split %s: a size in bytes above 0 (K, M, G allowed)",
				    optarg);
				ok = 0;
			}
			break;
		case OPT_BOOT: {
			double v = number(optarg, "--boot", &ok);
			if (ok && (v < 20 || v > 100000 || v != floor(v))) {
				bad("--boot %s: a number of replicates from 20 to 100000", optarg);
				ok = 0;
			}
			o->mo.boot = (int)v;
			break;
		}
		case OPT_SEED: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (end == optarg || *end || errno || *optarg == '-') {
				bad("--seed %s: a non-negative integer", optarg);
				ok = 0;
			}
			o->mo.seed = v;
			break;
		}
		case OPT_ALGO:
			o->mo.algo = -2;
			for (int a = 0; a < SBR_P2P; a++)
				if (strcmp(optarg, sbr_algo_name((enum sbr_algo)a)) == 0)
					o->mo.algo = a;
			if (strcmp(optarg, "auto") == 0)
				o->mo.algo = -1;
			if (o->mo.algo == -2) {
				bad("--algo %s: one of ring, recursive-doubling, rabenseifner, "
				    "tree, "
				    "auto",
				    optarg);
				ok = 0;
			}
			break;
		case 'o':
			o->out = optarg;
			break;
		}
	}
	return ok ? optind : -1;
}

/* Reading runs ahead of the ingest: parsing JSON is most of an ingest's time and every file is
 * independent, so worker threads read files in order into a ring of slots while the main thread
 * adds them to the database (SQLite wants one writer) in the order given. A few runs are in
 * memory at a time. */
#define RING 8

struct prefetch {
	char **paths;
	size_t n, next; /* next file for a worker */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	struct slot {
		int state; /* 0 free, 1 loading, 2 ready */
		size_t index;
		int rc;
		struct sbr_run run;
		char err[1024];
	} slot[RING];
};

static void *prefetch_worker(void *arg)
{
	struct prefetch *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && q->next < q->n && q->slot[q->next % RING].state != 0)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop || q->next >= q->n)
			break;
		size_t i = q->next++;
		struct slot *s = &q->slot[i % RING];
		s->state = 1;
		s->index = i;
		pthread_mutex_unlock(&q->mu);
		s->rc = load(q->paths[i], &s->run, s->err, sizeof s->err);
		pthread_mutex_lock(&q->mu);
		s->state = 2;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static int cmd_ingest(int argc, char **argv)
{
	struct cli o;
	int first = parse(argc, argv, "db", &o);
	if (first < 0)
		return SB_EXIT_BAD_INPUT;
	if (first >= argc)
		return bad("%s needs run files", "ingest");
	char err[1024] = "";
	size_t n = (size_t)(argc - first), added = 0, incomplete = 0;
	struct sbr_db *db = NULL;
	make_parent(o.db);
	int rc = sbr_db_open(o.db, &db, err, sizeof err);
	if (rc == 0 && (rc = sbr_db_begin(db, err, sizeof err)) == 0) {
		/* One transaction: all of it or none. */
		struct prefetch *q = calloc(1, sizeof *q);
		pthread_t th[4];
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		int nth = cpus < 1 ? 1 : cpus > 4 ? 4 : (int)cpus, started = 0;
		if (!q) {
			rc = SB_ENOMEM;
		} else {
			q->paths = argv + first;
			q->n = n;
			pthread_mutex_init(&q->mu, NULL);
			pthread_cond_init(&q->cv, NULL);
			for (int t = 0; t < nth; t++)
				started +=
				    pthread_create(&th[started], NULL, prefetch_worker, q) == 0;
			if (!started)
				rc = sbr_fail(err, sizeof err, SB_ESYS, "cannot start a thread");
		}
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct slot *s = &q->slot[i % RING];
			pthread_mutex_lock(&q->mu);
			while (!(s->state == 2 && s->index == i))
				pthread_cond_wait(&q->cv, &q->mu);
			pthread_mutex_unlock(&q->mu);
			if ((rc = s->rc)) {
				snprintf(err, sizeof err, "%s", s->err);
			} else {
				rc = sbr_db_add(db, &s->run, &added, err, sizeof err);
				if (!s->run.complete) {
					incomplete++;
					fprintf(stderr,
					        "scalebench-report: %s: incomplete run (no end "
					        "record)\n",
					        s->run.path);
				}
				sbr_run_free(&s->run);
			}
			pthread_mutex_lock(&q->mu);
			s->state = 0;
			pthread_cond_broadcast(&q->cv);
			pthread_mutex_unlock(&q->mu);
		}
		if (q) {
			pthread_mutex_lock(&q->mu);
			q->stop = 1;
			pthread_cond_broadcast(&q->cv);
			pthread_mutex_unlock(&q->mu);
			for (int t = 0; t < started; t++)
				pthread_join(th[t], NULL);
			for (int k = 0; k < RING; k++) /* loaded but never added (after an error) */
				if (q->slot[k].state == 2 && q->slot[k].rc == 0)
					sbr_run_free(&q->slot[k].run);
			pthread_mutex_destroy(&q->mu);
			pthread_cond_destroy(&q->cv);
			free(q);
		}
		int erc = sbr_db_end(db, rc == 0, rc ? NULL : err, sizeof err);
		if (rc == 0)
			rc = erc;
	}
	sbr_db_close(db);
	if (rc)
		return report(rc, err);
	printf("%zu run%s: %zu added to %s, %zu already there%s\n", n, n == 1 ? "" : "s", added,
	       o.db, n - added, incomplete ? " (incomplete runs marked so)" : "");
	return close_out(stdout, NULL);
}

static int cmd_compare(int argc, char **argv)
{
	struct cli o;
	int first = parse(argc, argv,
	                  "db baseline history alpha threshold format o changes-only series", &o);
	if (first < 0)
		return SB_EXIT_BAD_INPUT;
	if (first != argc - 1)
		return bad("%s needs exactly one current run", "compare");
	if (o.baseline && o.history)
		return bad("%s: give --baseline RUN or --history N, not both", "compare");
	if (!o.baseline && !o.history)
		o.history = 5;
	char err[1024] = "";
	struct sbr_run cur, base;
	int rc = load(argv[first], &cur, err, sizeof err);
	if (rc)
		return report(rc, err);
	struct sbr_compare c = {.alpha = o.alpha, .threshold = o.threshold, .series = o.series};
	if (sbr_compare_check_series(&c, &cur, err, sizeof err)) {
		sbr_run_free(&cur);
		return bad("%s", err);
	}
	char title[512];
	if (o.baseline) {
		if ((rc = load(o.baseline, &base, err, sizeof err)) == 0) {
			rc = sbr_compare_run(&c, &cur, &base, err, sizeof err);
			snprintf(title, sizeof title, "%s against %s", cur.path, base.path);
			if (strcmp(cur.machine_class, base.machine_class) != 0)
				fprintf(
				    stderr,
				    "scalebench-report: warning: the runs are of different machine "
				    "classes (%s: %s, %s; %s: %s, %s)\n",
				    cur.path, cur.machine_class, cur.machine, base.path,
				    base.machine_class, base.machine);
			sbr_run_free(&base);
		}
	} else {
		struct sbr_db *db = NULL;
		struct stat sb;
		if (stat(o.db, &sb) != 0)
			rc = sbr_fail(
			    err, sizeof err, SB_EINPUT,
			    "%s: no history database (scalebench-report ingest RUN... --db "
			    "%s)",
			    o.db, o.db);
		else if ((rc = sbr_db_open(o.db, &db, err, sizeof err)) == 0)
			rc = sbr_compare_history(&c, &cur, db, o.history, err, sizeof err);
		sbr_db_close(db);
		snprintf(title, sizeof title, "%s against the last %d runs of %s", cur.path,
		         o.history, cur.machine);
	}
	int status = SB_EXIT_OK;
	if (rc == 0) {
		struct sbr_table t;
		FILE *out = open_out(o.out);
		if (!out) {
			status = SB_EXIT_FAULT; /* open_out said why */
		} else if ((rc = sbr_compare_table(&c, title, o.changes_only, &t)) != 0) {
			sbr_table_free(&t);
			(void)close_out(out, o.out); /* rc is the error to tell */
		} else {
			if (o.fmt == SBR_HTML)
				sbr_html_begin(out, "scalebench comparison");
			rc = sbr_table_write(&t, out, o.fmt);
			if (o.fmt == SBR_HTML)
				sbr_html_end(out);
			sbr_table_free(&t);
			status = close_out(out, o.out);
		}
		if (!cur.complete)
			fprintf(stderr, "scalebench-report: note: %s is an incomplete run\n",
			        cur.path);
		if (c.n && c.not_comparable == c.n)
			fprintf(
			    stderr,
			    "scalebench-report: note: no point could be compared (see 'why')\n");
	}
	size_t regressed = c.regressed;
	sbr_compare_free(&c);
	sbr_run_free(&cur);
	if (rc)
		return report(rc, err);
	if (status)
		return status;
	return regressed ? SB_EXIT_REGRESSION : SB_EXIT_OK;
}

static int cmd_show(int argc, char **argv)
{
	struct cli o;
	struct loaded l;
	char err[1024] = "";
	int first = parse(argc, argv, "format o", &o);
	if (first < 0)
		return SB_EXIT_BAD_INPUT;
	if (first >= argc)
		return bad("%s needs run files", "show");
	int rc = load_all(argv + first, (size_t)(argc - first), &l, err, sizeof err);
	if (rc)
		return report(rc, err);
	int status = SB_EXIT_OK;
	FILE *out = open_out(o.out);
	if (!out)
		status = SB_EXIT_FAULT;
	else {
		rc = sbr_show(l.rp, l.n, o.fmt, out, err, sizeof err);
		status = close_out(out, o.out);
	}
	loaded_free(&l);
	return rc ? report(rc, err) : status;
}

/* The page is made in memory and written once it is whole: a claims file that cannot be read
 * leaves no half page behind. */
static int cmd_report(int argc, char **argv)
{
	struct cli o;
	struct loaded l;
	char err[1024] = "";
	int first = parse(argc, argv, "claims o", &o);
	if (first < 0)
		return SB_EXIT_BAD_INPUT;
	if (first >= argc)
		return bad("%s needs run files", "report");
	int rc = load_all(argv + first, (size_t)(argc - first), &l, err, sizeof err);
	if (rc)
		return report(rc, err);
	char *page = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&page, &len);
	if (!mem)
		rc = SB_ENOMEM;
	if (rc == 0)
		rc = sbr_report(l.rp, l.n, o.claims, mem, err, sizeof err);
	if (mem && fclose(mem) != 0 && rc == 0)
		rc = SB_ENOMEM;
	int status = SB_EXIT_OK;
	if (rc == 0) {
		FILE *out = open_out(o.out);
		if (!out) {
			status = SB_EXIT_FAULT;
		} else {
			fwrite(page, 1, len, out);
			status = close_out(out, o.out);
		}
	}
	free(page);
	loaded_free(&l);
	return rc ? report(rc, err) : status;
}

static int cmd_history(int argc, char **argv)
{
	struct cli o;
	int first =
	    parse(argc, argv, "db benchmark config machine software since until format o", &o);
	if (first < 0)
		return SB_EXIT_BAD_INPUT;
	if (first != argc)
		return bad("history takes options only, not '%s'", argv[first]);
	char err[1024] = "";
	struct stat sb;
	if (stat(o.db, &sb) != 0)
		return report(SB_EINPUT,
		              (snprintf(err, sizeof err, "%s: no history database", o.db), err));
	struct sbr_db *db = NULL;
	struct sbr_table t = {0};
	struct sbr_query q = {o.benchmark, o.config, o.machine, o.software, o.since, o.until};
	int rc = sbr_db_open(o.db, &db, err, sizeof err), status = SB_EXIT_OK;
	if (rc == 0)
		rc = sbr_db_query(db, &q, &t, err, sizeof err);
	sbr_db_close(db);
	if (rc == 0) {
		FILE *out = open_out(o.out);
		if (!out) {
			status = SB_EXIT_FAULT;
		} else {
			if (o.fmt == SBR_HTML)
				sbr_html_begin(out, "scalebench history");
			rc = sbr_table_write(&t, out, o.fmt);
			if (o.fmt == SBR_HTML)
				sbr_html_end(out);
			status = close_out(out, o.out);
		}
	}
	sbr_table_free(&t);
	return rc ? report(rc, err) : status;
}

static int cmd_import(int argc, char **argv)
{
	struct cli o;
	int first = parse(argc, argv, "o", &o);
	if (first < 0)
		return SB_EXIT_BAD_INPUT;
	if (first != argc - 1)
		return bad("%s needs exactly one file", "import");
	char err[1024] = "";
	json_t *recs = NULL;
	enum sbr_import_kind kind;
	int rc = sbr_import(argv[first], &recs, &kind, err, sizeof err);
	struct sbr_run r;
	/* What we write must read back as a run. */
	if (rc == 0 && (rc = sbr_run_from_records(argv[first], recs, &r, err, sizeof err)) == 0)
		sbr_run_free(&r);
	if (rc) {
		json_decref(recs);
		return report(rc, err);
	}
	char path[4096];
	if (o.out) {
		snprintf(path, sizeof path, "%s", o.out);
	} else {
		/* Default: runs/import-<tool>-<first 8 of the run id>.jsonl; the same log gives
		 * the same name. */
		json_t *run = json_array_get(recs, 0);
		(void)mkdir("runs", 0777); /* as make_parent */
		snprintf(path, sizeof path, "runs/import-%s-%.8s.jsonl",
		         json_string_value(json_object_get(json_object_get(run, "origin"), "tool")),
		         json_string_value(json_object_get(run, "run_id")));
	}
	FILE *f = open_out(path);
	if (!f) {
		json_decref(recs);
		return SB_EXIT_FAULT;
	}
	size_t i;
	json_t *rec;
	rc = 0;
	json_array_foreach(recs, i, rec)
	{
		char *line =
		    json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
		if (!line) {
			rc = SB_ENOMEM; /* a run file without one of its records is no run file */
			break;
		}
		fprintf(f, "%s\n", line);
		free(line);
	}
	size_t n = json_array_size(recs);
	json_decref(recs);
	int st = close_out(f, path);
	if (rc)
		return report(rc, NULL);
	if (st == 0 && f != stdout)
		fprintf(stderr, "scalebench-report: %zu point%s imported into %s\n", n - 2,
		        n - 2 == 1 ? "" : "s", path);
	return st;
}

/* Write to path (stdout for NULL) by writer, an HTML page around it for html; the exit
 * status of the output, *rc the writer's code. */
static int write_framed(const char *path, enum sbr_format fmt, const char *title,
                        int (*writer)(FILE *out, enum sbr_format fmt, void *arg), void *arg,
                        int *rc)
{
	FILE *out = open_out(path);
	if (!out)
		return SB_EXIT_FAULT;
	if (fmt == SBR_HTML)
		sbr_html_begin(out, title);
	*rc = writer(out, fmt, arg);
	if (fmt == SBR_HTML)
		sbr_html_end(out);
	return close_out(out, path);
}

struct claims_out {
	const struct sbr_claim_result *res;
	size_t n;
};

static int claims_writer(FILE *out, enum sbr_format fmt, void *arg)
{
	const struct claims_out *c = arg;
	return sbr_claims_write(c->res, c->n, fmt, out);
}

static int model_writer(FILE *out, enum sbr_format fmt, void *arg)
{
	return sbr_model_write(arg, fmt, out);
}

/* A verdict per claim of the claims file from the runs (and the cost model fitted on them, for
 * the extrapolated claims; none when they give it nothing to fit). A report: exit 0 whatever the
 * verdicts; 2 for a bad claims file or run. */
static int cmd_claims(int argc, char **argv)
{
	struct cli o;
	struct loaded l;
	char err[1024] = "";
	int first = parse(argc, argv, "claims format o", &o);
	if (first < 0)
		return SB_EXIT_BAD_INPUT;
	if (first >= argc)
		return bad("%s needs run files", "claims");
	struct sbr_claims cl;
	int rc =
	    sbr_claims_load(o.claims ? o.claims : sbr_claims_default_path(), &cl, err, sizeof err);
	if (rc)
		return report(rc, err);
	if ((rc = load_all(argv + first, (size_t)(argc - first), &l, err, sizeof err))) {
		sbr_claims_free(&cl);
		return report(rc, err);
	}
	struct sbr_claim_result *res = NULL;
	struct sbr_model model;
	int status = SB_EXIT_OK;
	/* No model (no point it can use) is no error: those claims get NO_MEASUREMENT. */
	char merr[512];
	int mrc = sbr_model_build(l.rp, l.n, &o.mo, &model, merr, sizeof merr);
	rc = mrc == SB_ENOMEM ? mrc : 0;
	if (rc == 0)
		rc = sbr_claims_evaluate(&cl, l.rp, l.n, mrc == 0 ? &model : NULL, &res);
	if (rc == 0)
		status = write_framed(o.out, o.fmt, "scalebench claims", claims_writer,
		                      &(struct claims_out){res, cl.n}, &rc);
	free(res);
	if (mrc == 0)
		sbr_model_free(&model);
	sbr_claims_free(&cl);
	loaded_free(&l);
	return rc ? report(rc, err) : status;
}

static int cmd_model(int argc, char **argv)
{
	struct cli o;
	struct loaded l;
	char err[1024] = "";
	int first = parse(argc, argv, "format split boot seed algo o", &o);
	if (first < 0)
		return SB_EXIT_BAD_INPUT;
	if (first >= argc)
		return bad("%s needs run files", "model");
	int rc = load_all(argv + first, (size_t)(argc - first), &l, err, sizeof err);
	if (rc)
		return report(rc, err);
	struct sbr_model m;
	int status = SB_EXIT_OK;
	if ((rc = sbr_model_build(l.rp, l.n, &o.mo, &m, err, sizeof err)) == 0) {
		status =
		    write_framed(o.out, o.fmt, "scalebench cost models", model_writer, &m, &rc);
		sbr_model_free(&m);
	}
	loaded_free(&l);
	return rc ? report(rc, err) : status;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return (fputs(usage, stderr), SB_EXIT_BAD_INPUT);
	/* jansson's hash seed, set once before any thread parses (ingest reads in threads). */
	json_object_seed(0);
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
		return (fputs(usage, stdout), close_out(stdout, NULL));
	if (strcmp(cmd, "ingest") == 0)
		return cmd_ingest(argc, argv);
	if (strcmp(cmd, "compare") == 0)
		return cmd_compare(argc, argv);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(argc, argv);
	if (strcmp(cmd, "history") == 0)
		return cmd_history(argc, argv);
	if (strcmp(cmd, "import") == 0)
		return cmd_import(argc, argv);
	if (strcmp(cmd, "model") == 0)
		return cmd_model(argc, argv);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(argc, argv);
	if (strcmp(cmd, "claims") == 0)
		return cmd_claims(argc, argv);
	return bad("unknown command '%s'", cmd);
}
