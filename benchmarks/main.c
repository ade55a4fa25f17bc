/* scalebench: the MPI program. `scalebench <benchmark|suite|list> [options]`.
 *
 * Exit status (enum sb_exit, common/error.h): 0 success, 1 a result check failed, 2 bad input,
 * 3 a fault (communication, memory, I/O), 4 a point timed out (--timeout), 128+N stopped by
 * signal N. Every rank exits with the same status: the worst over the ranks, agreed on the
 * control plane after each benchmark, so a fault that one rank alone saw ends the job's
 * status too (and rank 0 names that rank). */
#include "bench.h"
#include "build_info.h"
#include "driver.h"
#include "error.h"
#include "gpu_info.h"
#include "report.h"
#include "runfile.h"
#include "sigsafe.h"
#include "timer.h"
#include "topo.h"
#include "watchdog.h"
#include "world.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What the watchdog's signal handler needs to close the run file. */
static struct {
	int rank;
	struct sb_runfile *rf;
	struct sb_report *rep;
	double t0;
	double grace; /* --timeout-grace */
} job;

static void usage(FILE *f)
{
	fprintf(f, "usage: scalebench <command> [options]\n\n"
	           "commands:\n"
	           "  suite            the default set of benchmarks, one run file\n");
	for (size_t i = 0; sb_benches[i]; i++)
		fprintf(f, "  %-16s %s\n", sb_benches[i]->name, sb_benches[i]->summary);
	fprintf(
	    f,
	    "  topo             where every rank sits: cores, NUMA node, GPU, nearest NICs\n"
	    "  list             benchmarks and backends in this build\n"
	    "  --version        version, git commit and build\n\n"
	    "'scalebench <command> --help' lists a command's options. Launch with mpirun or srun;\n"
	    "exit status: 0 ok, 1 wrong results, 2 bad input, 3 fault, 4 timeout.\n");
}

/* Rank before MPI is up, from the launcher's environment, so that commands that need no MPI
 * (list, --version, --help) print once under mpirun. */
static int launcher_rank(void)
{
	static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK",
	                                   "SLURM_PROCID", NULL};
	for (size_t i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return atoi(v);
	}
	return 0;
}

static void print_version(void)
{
	printf("scalebench %s (git %s%s)\n", SB_VERSION, SB_GIT_COMMIT,
	       SB_GIT_DIRTY ? ", modified" : "");
	printf("built with %s, %s, flags: %s\n", SB_COMPILER, SB_BUILD_TYPE, SB_C_FLAGS);
	printf("schema %d; CUDA: %s%s%s\n", SB_SCHEMA_VERSION,
	       SB_CUDA_ENABLED ? "yes, archs " : "no", SB_CUDA_ENABLED ? SB_CUDA_ARCHS : "", "");
}

static void print_list(void)
{
	printf("benchmarks:\n");
	for (size_t i = 0; sb_benches[i]; i++)
		printf("  %-12s %s (needs %d+ rank%s)%s\n", sb_benches[i]->name,
		       sb_benches[i]->summary,
		       sb_benches[i]->min_ranks > 1 ? sb_benches[i]->min_ranks : 1,
		       sb_benches[i]->min_ranks > 1 ? "s" : "",
		       sb_benches[i]->flags & SB_BENCH_TEST_ONLY ? " (tests only)" : "");
	printf("suite (in order, one run file):\n");
	for (size_t i = 0; sb_suite[i].bench; i++) {
		printf("  %s", sb_suite[i].bench->name);
		for (size_t k = 0; k < SB_SUITE_ARGS && sb_suite[i].args[k]; k++)
			printf(" %s", sb_suite[i].args[k]);
		printf("\n");
	}
	printf("backends:\n");
	for (size_t i = 0; sb_backends[i]; i++) {
		const struct sb_backend *be = sb_backends[i];
		const char *why = be->unavailable ? be->unavailable() : NULL;
		printf("  %-12s %s: %s%s\n", be->name, be->summary,
		       why ? "unavailable: " : "available",
		       why ? why : (be->caps & SB_CAP_TEST_ONLY ? " (tests only)" : ""));
	}
	static const char *const gpu_backends[] = {"nccl", "mpi-gpu", NULL};
	for (size_t i = 0; gpu_backends[i]; i++)
		if (sb_backend_missing(gpu_backends[i]))
			printf("  %-12s %s\n", gpu_backends[i],
			       sb_backend_missing(gpu_backends[i]));
	char why[256];
	int n = sb_gpu_count(why, sizeof why);
	if (n > 0)
		printf("GPUs: %d (CUDA archs %s)\n", n, SB_CUDA_ARCHS);
	else
		printf("GPUs: none usable: %s\n", why);
}

static const char *signame(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	case SIGHUP:
		return "SIGHUP";
	}
	return "a signal";
}

/* In the watchdog's signal handler (async-signal-safe: sigsafe.h and write(2) only): the job
 * is ending; keep what was measured. */
static int on_watchdog(const char *point, double timeout, int sig, void *arg)
{
	(void)arg;
	char mbuf[512], lbuf[1024];
	struct sb_sigbuf msg, line;
	sb_sig_init(&msg, mbuf, sizeof mbuf);
	int status;
	if (point) {
		sb_sig_str(&msg, "point '");
		sb_sig_str(&msg, point);
		sb_sig_str(&msg, "' did not finish within --timeout ");
		sb_sig_num(&msg, timeout);
		sb_sig_str(&msg, " s");
		status = SB_EXIT_TIMEOUT;
	} else {
		sb_sig_str(&msg, "stopped by ");
		sb_sig_str(&msg, signame(sig));
		if (sig == SIGTERM)
			sb_sig_str(&msg, " (mpirun sends it when another rank fails or the job is "
			                 "cancelled)");
		status = SB_EXIT_SIGNAL + sig;
	}
	/* After a timeout every rank waits out the grace (rank 0 once its record is written, the
	 * others a second longer so that rank 0 says it and closes the file first): the first
	 * rank to end sets off the launcher's teardown, which on a cut link waits for TCP to give
	 * up on the lost host (tcp_retries2: 13 s to 15 min); within the grace its keepalive can
	 * find the host lost first and end the job at once, naming the host. */
	struct timespec grace = {(time_t)job.grace,
	                         (long)((job.grace - (double)(time_t)job.grace) * 1e9)};
	if (job.rank != 0) {
		if (point) {
			grace.tv_sec += 1;
			while (nanosleep(&grace, &grace) == -1 && errno == EINTR)
				;
		}
		return status;
	}
	struct sb_runfile *rf = job.rf;
	if (rf) {
		size_t points = job.rep ? job.rep->points : 0;
		sb_sig_init(&line, lbuf, sizeof lbuf);
		sb_sig_str(&line, "{\"type\":\"end\",\"status\":");
		sb_sig_str(&line, point ? "\"timeout\"" : "\"killed\"");
		sb_sig_str(&line, ",\"end_time\":\"");
		sb_sig_utc(&line);
		sb_sig_str(&line, "\",\"points\":");
		sb_sig_uint(&line, points);
		sb_sig_str(&line, ",\"duration\":");
		sb_sig_fixed(&line, sb_sig_now() - job.t0, 6);
		sb_sig_str(&line, ",\"message\":");
		sb_sig_json_str(&line, msg.p);
		sb_sig_str(&line, "}\n");
		/* -1: the file has its end record already, or failed earlier (said then); the
		 * finished points are in it either way. */
		(void)sb_runfile_write_last_sigsafe(rf, line.p, line.len);
		sb_sig_str(&msg, "; the ");
		sb_sig_uint(&msg, points);
		sb_sig_str(&msg,
		           points == 1 ? " finished point is in " : " finished points are in ");
		sb_sig_str(&msg, sb_runfile_path(rf));
	}
	sb_log_fault_sigsafe(msg.p);
	while (point && nanosleep(&grace, &grace) == -1 && errno == EINTR)
		;
	return status;
}

/* --timeout-grace, or where not given $SB_TIMEOUT_GRACE (set by a launcher that knows how
 * long its failure detection takes); 0..60 s. Nonzero (message printed) on bad input. */
static int timeout_grace(const struct sb_args *a, double *out)
{
	const char *env = getenv("SB_TIMEOUT_GRACE");
	double g = sb_arg_double(a, "timeout-grace");
	if (!sb_arg_given(a, "timeout-grace") && env && *env) {
		char *end;
		errno = 0;
		g = strtod(env, &end);
		if (errno || *end || end == env || !(g >= 0 && g <= 60)) {
			sb_log_usage("SB_TIMEOUT_GRACE must be seconds from 0 to 60, got '%s'",
			             env);
			return 1;
		}
	}
	if (!(g <= 60)) {
		sb_log_usage("--timeout-grace %g: at most 60 seconds", g);
		return 1;
	}
	*out = g;
	return 0;
}

/* Parse argv[2..] for benchmark b (NULL: the common options only, for `suite`). */
static int parse(struct sb_args *a, const struct sb_bench *b, int argc, char **argv)
{
	const struct sb_opt *tables[3] = {0};
	size_t k = 0;
	if (b && b->opts)
		tables[k++] = b->opts;
	tables[k++] = sb_common_opts;
	char err[512];
	int rc = sb_args_parse(a, tables, argc, argv, 2, err, sizeof err);
	if (rc)
		sb_log_usage("%s (try 'scalebench %s --help')", err, argv[1]);
	return rc;
}

/* The options of benchmark b: the parsed command line for a single benchmark; for `suite`,
 * whose command line holds common options only, the suite entry's own options followed by the
 * command line, parsed with b's table so b gets its own defaults for the rest. NULL (message
 * printed) on bad input. */
static const struct sb_args *bench_args(const struct sb_bench *b, const char *const *extra,
                                        const struct sb_bench *single, const struct sb_args *args,
                                        struct sb_args *store, int argc, char **argv)
{
	if (single)
		return args;
	char err[512], *av[SB_SUITE_ARGS + 64];
	int ac = 0;
	av[ac++] = argv[0];
	av[ac++] = argv[1];
	for (size_t k = 0; extra && k < SB_SUITE_ARGS && extra[k]; k++)
		av[ac++] = (char *)extra[k];
	for (int i = 2; i < argc && ac < (int)(sizeof av / sizeof *av) - 1; i++)
		av[ac++] = argv[i];
	av[ac] = NULL;
	const struct sb_opt *tables[3] = {b->opts ? b->opts : sb_common_opts,
	                                  b->opts ? sb_common_opts : NULL, NULL};
	if (sb_args_parse(store, tables, ac, av, 2, err, sizeof err)) {
		sb_log_usage("%s", err);
		return NULL;
	}
	return store;
}

static void print_help(const struct sb_bench *b, const char *cmd)
{
	if (b)
		printf("usage: mpirun [-np N] scalebench %s [options]\n%s.\n\noptions:\n", b->name,
		       b->summary);
	else
		printf("usage: mpirun [-np N] scalebench %s [options]\nthe default set of "
		       "benchmarks, one run file.\n\noptions:\n",
		       cmd);
	const struct sb_opt *tables[3] = {0};
	size_t k = 0;
	if (b && b->opts)
		tables[k++] = b->opts;
	tables[k++] = sb_common_opts;
	sb_opts_help(stdout, tables);
}

static int agree(struct sb_comm *c, int own, int *who);

/* Topology discovery for a run: every rank takes part; rank 0 gets the result and prints
 * the warnings once. Returns the exit status, the same on every rank: bad input (rank 0 said
 * why) or a fault of any rank (it says so here). */
static int discover(struct sb_comm *c, const char *bind, const char *gpu, struct sb_topo **topo)
{
	int lr = 0, ls = 1;
	if (!(c->be->caps & SB_CAP_TEST_ONLY))
		sb_world_local(&lr, &ls);
	int rc = sb_topo_discover(c, lr, ls, bind, gpu, topo), who;
	if (rc && rc != SB_EINVAL)
		sb_log_fault("cannot discover the topology: %s", sb_strerror(rc));
	int st = agree(c, sb_exit_status(rc), &who);
	if (st) {
		sb_topo_free(*topo);
		*topo = NULL;
		return st;
	}
	if (*topo) {
		for (size_t i = 0; i < (*topo)->nwarnings; i++)
			sb_log_warn("[%s] host %s: %s", (*topo)->warnings[i].kind,
			            (*topo)->warnings[i].host, (*topo)->warnings[i].message);
		for (int r = 0; r < (*topo)->nranks; r++)
			if ((*topo)->ranks[r].bind_action[0])
				sb_log_info("--bind %s: rank %d %s", bind, r,
				            (*topo)->ranks[r].bind_action);
	}
	return SB_EXIT_OK;
}

/* The label of every point: the widest pair class among all ranks. */
static const char *span_of(const struct sb_topo *t, int size)
{
	if (!t)
		return NULL;
	if (size == 1)
		return "self";
	int *all = malloc((size_t)t->nranks * sizeof *all);
	if (!all)
		return NULL;
	for (int i = 0; i < t->nranks; i++)
		all[i] = i;
	enum sb_pair p = sb_topo_span(t, all, t->nranks);
	free(all);
	return sb_pair_name(p);
}

// clang-format off
static const struct sb_opt topo_opts[] = {
	{"bind", 0, SB_OPT_CHOICE, "MODE", "keep", SB_BIND_CHOICES, 0, "keep mpirun's binding, auto (near the GPU, or NUMA nodes round-robin), none"},
	{"format", 0, SB_OPT_CHOICE, "FMT", "text", "text|json", 0, "the map on stdout as text or as the JSON topology record"},
	{"gpus", 0, SB_OPT_CHOICE, "WHICH", "none", "none|local", 0, "none, or local: each rank uses GPU (local rank mod GPUs), as the GPU backends choose"},
	{"out", 0, SB_OPT_STRING, "DIR", "runs", NULL, 0, "directory for the run file"},
	{"quiet", 'q', SB_OPT_FLAG, NULL, NULL, NULL, 0, "no progress messages on stderr"},
	{"help", 'h', SB_OPT_FLAG, NULL, NULL, NULL, 0, "this help"},
	{0},
};
// clang-format on

static int finish(int status);

/* A control-plane call in main failed: this rank says so and ends the job (the other ranks
 * may be waiting in the next collective); the status, where the world is one process. */
static int ctl_failed(struct sb_comm *c, const char *what, int rc)
{
	sb_log_fault("%s: %s", what, sb_strerror(rc));
	if (c->size > 1)
		sb_ctl_abort(c, sb_exit_status(rc));
	return sb_exit_status(rc);
}

/* The job's exit status from this rank's own: the worst over the ranks, and in *who the lowest
 * rank that has it (-1 when all are SB_EXIT_OK). One reduction of status x (size+1) + (size -
 * rank): its maximum is the worst status, and among the ranks that have it the lowest. */
static int agree(struct sb_comm *c, int own, int *who)
{
	double n = (double)c->size + 1;
	double v = own * n + (own ? (double)(c->size - c->rank) : 0);
	int rc = sb_ctl_max(c, &v, 1);
	if (rc) {
		*who = c->rank;
		int st = ctl_failed(c, "cannot agree on the job's status", rc);
		return st > own ? st : own;
	}
	int st = (int)(v / n);
	*who = st ? c->size - (int)(v - st * n) : -1;
	return st;
}

/* The end record's status for an exit status. */
static const char *end_status(int status)
{
	switch (status) {
	case SB_EXIT_OK:
		return "ok";
	case SB_EXIT_CHECK:
		return "check-failed";
	case SB_EXIT_BAD_INPUT:
		return "bad-input";
	case SB_EXIT_TIMEOUT:
		return "timeout";
	}
	return "error";
}

/* Rank 0's standard output (the table, the topology): a write that failed is a fault, said
 * once. */
static int stdout_status(void)
{
	static int said;
	int e = fflush(stdout) ? errno : 0;
	if (!e && !ferror(stdout))
		return SB_EXIT_OK;
	if (!said++)
		sb_log_fault("cannot write the standard output: %s",
		             e ? strerror(e) : "a write failed");
	return SB_EXIT_FAULT;
}

/* `scalebench topo`: the topology alone, as a readable map (or JSON) and a run file holding
 * the run record (with the topology) and the end record. */
static int run_topo(int argc, char **argv, int rank)
{
	const struct sb_opt *tables[] = {topo_opts, NULL};
	struct sb_args a;
	char err[512];
	if (sb_args_parse(&a, tables, argc, argv, 2, err, sizeof err)) {
		sb_log_usage("%s (try 'scalebench topo --help')", err);
		return finish(SB_EXIT_BAD_INPUT);
	}
	if (sb_arg_flag(&a, "help")) {
		if (rank == 0) {
			printf("usage: mpirun [-np N] scalebench topo [options]\nwhere every rank "
			       "sits: cores, NUMA node, package, GPU, nearest NICs.\n\noptions:\n");
			sb_opts_help(stdout, tables);
		}
		return finish(rank == 0 ? stdout_status() : SB_EXIT_OK);
	}
	sb_log_set_quiet(sb_arg_flag(&a, "quiet"));
	if (!*sb_arg_str(&a, "out")) {
		sb_log_usage("--out needs a directory name");
		return finish(SB_EXIT_BAD_INPUT);
	}
	struct sb_comm comm = {.be = sb_backend_find("mpi")};
	snprintf(comm.host, sizeof comm.host, "%s", sb_log_host());
	int rc = comm.be->init(&comm);
	/* A rank whose start failed must not leave the others waiting in the next collective. */
	int status = sb_world_max_status(sb_exit_status(rc));
	if (rc)
		sb_log_fault("the mpi backend failed to start: %s", sb_strerror(rc));
	if (status) {
		if (rc == 0)
			comm.be->fini(&comm);
		return finish(status);
	}
	struct sb_topo *topo = NULL;
	const char *gpus = strcmp(sb_arg_str(&a, "gpus"), "local") == 0 ? SB_TOPO_GPU_LOCAL : NULL;
	if ((status = discover(&comm, sb_arg_str(&a, "bind"), gpus, &topo))) {
		comm.be->fini(&comm);
		return finish(status);
	}
	if (rank == 0) {
		struct sb_report rep = {.t0 = job.t0};
		rep.rf = sb_runfile_open(sb_arg_str(&a, "out"), "topo", comm.host, err, sizeof err);
		if (!rep.rf) {
			sb_log_fault("%s", err);
			status = SB_EXIT_FAULT;
		} else {
			char id[33];
			sb_random_id(id);
			json_t *run = sb_run_record(id, "topo", argc, argv, &a, &comm, topo);
			json_t *end = sb_end_record(&rep, "ok", NULL);
			/* A failed write said why (runfile.c). */
			if (sb_runfile_write(rep.rf, run) || sb_runfile_write_last(rep.rf, end))
				status = SB_EXIT_FAULT;
			if (sb_runfile_close(rep.rf))
				status = SB_EXIT_FAULT;
			json_decref(run);
			json_decref(end);
		}
		if (strcmp(sb_arg_str(&a, "format"), "json") == 0) {
			json_t *j = sb_topo_json(topo);
			/* A failed write is said by stdout_status below; memory here. */
			if (!j || (json_dumpf(j, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER) &&
			           !ferror(stdout))) {
				sb_log_fault("cannot write the topology as JSON");
				status = SB_EXIT_FAULT;
			}
			fputc('\n', stdout);
			json_decref(j);
		} else {
			sb_topo_print(stdout, topo);
		}
		if (stdout_status() > status)
			status = SB_EXIT_FAULT;
	}
	int who;
	status = agree(&comm, status, &who);
	sb_topo_free(topo);
	comm.be->fini(&comm);
	return finish(status);
}

/* Bytes this rank's buffers can have: the device's share (GPU backends) or the host's
 * available memory shared by the host's ranks. */
static double memory_limit(struct sb_comm *c)
{
	double bytes = 0;
	if (c->be->mem_free) {
		int rc = c->be->mem_free(c, &bytes);
		if (rc == 0)
			return bytes;
		sb_log_warn_rank("cannot read the GPU's free memory (%s): sizes are checked "
		                 "against host memory",
		                 sb_strerror(rc));
	}
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	if (kb == 0)
		return INFINITY; /* not Linux: nothing to check against */
	int lr = 0, ls = 1;
	if (!(c->be->caps & SB_CAP_TEST_ONLY))
		sb_world_local(&lr, &ls);
	return (double)kb * 1024.0 / (ls > 0 ? ls : 1);
}

/* Every benchmark's largest point against the tightest rank's memory. Returns the exit status,
 * the same on every rank: bad input (rank 0 said why) or a fault of any rank (it said why). */
static int check_memory(const struct sb_bench *const *benches, const char *const *const *extras,
                        const struct sb_bench *single, const struct sb_args *args,
                        struct sb_comm *c, const struct sb_topo *topo, int argc, char **argv)
{
	/* The tightest rank: the smallest limit, and the lowest rank that has it. */
	double mine = memory_limit(c), v[2] = {-mine, 0};
	int rc = sb_ctl_max(c, v, 1);
	double limit = -v[0];
	v[1] = mine == limit ? -(double)c->rank : -1e18;
	v[0] = 0;
	if (rc || (rc = sb_ctl_max(c, v, 2)))
		return ctl_failed(c, "cannot compare the ranks' memory", rc);
	int who = (int)-v[1];
	char where[320];
	const char *host = topo && who >= 0 && who < topo->nranks ? topo->ranks[who].host : c->host;
	snprintf(where, sizeof where, "%s on host %s",
	         c->be->mem_free ? "GPU memory each rank" : "available memory each rank", host);
	for (size_t i = 0; benches[i]; i++) {
		struct sb_args bargs;
		const struct sb_args *ba =
		    bench_args(benches[i], extras[i], single, args, &bargs, argc, argv);
		char err[512];
		rc = ba ? sb_driver_check_memory(benches[i], c, ba, limit, where, err, sizeof err)
		        : SB_EINVAL;
		if (rc == SB_EINVAL && ba)
			sb_log_usage("%s", err);
		else if (rc && ba)
			sb_log_fault("%s", err); /* this rank's own, memory perhaps */
		if (rc)
			break;
	}
	int culprit;
	return agree(c, sb_exit_status(rc), &culprit);
}

static int finish(int status)
{
	sb_watchdog_stop();
	sb_world_fini();
	return status;
}

int main(int argc, char **argv)
{
	sb_watchdog_block_signals();
	if (argc < 2) {
		if (launcher_rank() == 0)
			usage(stderr);
		return SB_EXIT_BAD_INPUT;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		if (launcher_rank() != 0)
			return SB_EXIT_OK;
		print_version();
		return stdout_status();
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		if (launcher_rank() != 0)
			return SB_EXIT_OK;
		usage(stdout);
		return stdout_status();
	}
	if (!strcmp(cmd, "list")) {
		if (launcher_rank() != 0)
			return SB_EXIT_OK;
		print_list();
		return stdout_status();
	}
	const struct sb_bench *single = sb_bench_find(cmd);
	int is_topo = strcmp(cmd, "topo") == 0;
	if (!single && !is_topo && strcmp(cmd, "suite") != 0) {
		if (launcher_rank() == 0)
			fprintf(stderr,
			        "scalebench: error: unknown benchmark or command '%s' (see "
			        "'scalebench list')\n",
			        cmd);
		return SB_EXIT_BAD_INPUT;
	}
	/* What runs: the one benchmark, or the suite's entries with their own options. */
	const struct sb_bench *benches[16] = {single};
	const char *const *extras[16] = {NULL};
	for (size_t i = 0; !single && sb_suite[i].bench && i < 15; i++) {
		benches[i] = sb_suite[i].bench;
		extras[i] = sb_suite[i].args;
	}

	int rank, size;
	char host[256];
	if (sb_world_init(&argc, &argv, sb_thread_level_from_argv(argc, argv), &rank, &size, host,
	                  sizeof host)) {
		fprintf(stderr, "scalebench: error: MPI_Init failed\n");
		return SB_EXIT_FAULT;
	}
	job.rank = rank;
	job.t0 = sb_now();
	if (is_topo)
		return run_topo(argc, argv, rank);

	struct sb_args args;
	if (parse(&args, single, argc, argv))
		return finish(SB_EXIT_BAD_INPUT);
	/* MPI was initialised at the level a scan of argv found before parsing; an abbreviated
	 * option the parser accepts (--mpi=funneled) escapes that scan. */
	int treq0, tgot0;
	sb_world_thread_levels(&treq0, &tgot0);
	if (sb_arg_choice(&args, "mpi-thread") != treq0) {
		sb_log_usage("--mpi-thread: write it in full (--mpi-thread LEVEL or "
		             "--mpi-thread=LEVEL): MPI was initialised at %s",
		             sb_thread_level_name(treq0));
		return finish(SB_EXIT_BAD_INPUT);
	}
	if (sb_arg_flag(&args, "help")) {
		if (rank == 0)
			print_help(single, cmd);
		return finish(rank == 0 ? stdout_status() : SB_EXIT_OK);
	}
	sb_log_set_quiet(sb_arg_flag(&args, "quiet"));
	int treq, tgot;
	sb_world_thread_levels(&treq, &tgot);
	if (tgot < treq)
		sb_log_warn("--mpi-thread %s: the MPI library gives %s", sb_thread_level_name(treq),
		            sb_thread_level_name(tgot));

	const char *bname = sb_arg_str(&args, "backend");
	const struct sb_backend *be = sb_backend_find(bname);
	const char *why = be && be->unavailable ? be->unavailable() : NULL;
	if (!be) {
		if (sb_backend_missing(bname))
			sb_log_usage("backend '%s' is %s", bname, sb_backend_missing(bname));
		else
			sb_log_usage("unknown backend '%s' (see 'scalebench list')", bname);
		return finish(SB_EXIT_BAD_INPUT);
	}
	if (sb_arg_flag(&args, "cuda-graph") && strcmp(be->name, "nccl") != 0) {
		sb_log_usage("-G/--cuda-graph needs the nccl backend");
		return finish(SB_EXIT_BAD_INPUT);
	}
	if (single && sb_arg_flag(&args, "cuda-graph") && !(single->flags & SB_BENCH_CAN_GRAPH)) {
		sb_log_usage("-G/--cuda-graph: %s cannot be replayed from a graph", single->name);
		return finish(SB_EXIT_BAD_INPUT);
	}
	if (why) {
		sb_log_usage("backend '%s' is unavailable: %s", bname, why);
		return finish(SB_EXIT_BAD_INPUT);
	}
	if ((be->caps & SB_CAP_TEST_ONLY) && size > 1) {
		sb_log_usage(
		    "the '%s' backend simulates its world in one process; run it with 1 rank",
		    bname);
		return finish(SB_EXIT_BAD_INPUT);
	}
	/* The world a benchmark sees: the fake backend simulates SB_FAKE_RANKS in one process. */
	int world = size;
	const char *fr = getenv("SB_FAKE_RANKS");
	if ((be->caps & SB_CAP_TEST_ONLY) && fr && atoi(fr) > 0)
		world = atoi(fr);
	if (single && world < single->min_ranks) {
		sb_log_usage("%s needs at least %d ranks, got %d (mpirun -np %d ...)", single->name,
		             single->min_ranks, world, single->min_ranks);
		return finish(SB_EXIT_BAD_INPUT);
	}
	/* The suite runs what it can: entries needing more ranks, or a graph they cannot be
	 * replayed from (-G), are left out with a note. */
	size_t kept = 0;
	for (size_t i = 0; !single && benches[i]; i++) {
		const struct sb_bench *b = benches[i];
		int graph = sb_arg_flag(&args, "cuda-graph") && !(b->flags & SB_BENCH_CAN_GRAPH);
		if (world < b->min_ranks || graph) {
			if (rank == 0 && graph)
				sb_log_info("suite: %s left out: it cannot be replayed from a CUDA "
				            "graph (-G)",
				            b->name);
			else if (rank == 0)
				sb_log_info("suite: %s left out: it needs at least %d ranks",
				            b->name, b->min_ranks);
			continue;
		}
		benches[kept] = b;
		extras[kept++] = extras[i];
	}
	if (!single)
		benches[kept] = NULL;
	char merr[256];
	if (sb_method_validate(&args, merr, sizeof merr)) {
		sb_log_usage("%s", merr);
		return finish(SB_EXIT_BAD_INPUT);
	}
	if (timeout_grace(&args, &job.grace))
		return finish(SB_EXIT_BAD_INPUT);
	if (!*sb_arg_str(&args, "out")) {
		sb_log_usage("--out needs a directory name");
		return finish(SB_EXIT_BAD_INPUT);
	}
	/* Each benchmark's options. Bad input is the same on every rank (rank 0 says it); a fault
	 * here (memory) may be one rank's own: it says so, and the ranks agree before they part
	 * ways. */
	int vst = SB_EXIT_OK;
	for (size_t i = 0; benches[i] && vst == SB_EXIT_OK; i++) {
		struct sb_args bargs;
		char err[512] = "";
		const struct sb_args *ba =
		    bench_args(benches[i], extras[i], single, &args, &bargs, argc, argv);
		int rc = !ba                    ? SB_EINVAL
		         : benches[i]->validate ? benches[i]->validate(ba, world, err, sizeof err)
		                                : 0;
		vst = sb_exit_status(rc);
		if (rc && ba && vst == SB_EXIT_BAD_INPUT)
			sb_log_usage("%s: %s", benches[i]->name, err);
		else if (rc && ba)
			sb_log_fault("%s: %s while checking its options%s%s", benches[i]->name,
			             sb_strerror(rc), err[0] ? ": " : "", err);
	}
	if ((vst = sb_world_max_status(vst)))
		return finish(vst);

	struct sb_comm comm = {.be = be,
	                       .device = (int)sb_arg_int(&args, "device"),
	                       .graph = sb_arg_flag(&args, "cuda-graph"),
	                       .hugepages = sb_arg_flag(&args, "hugepages")};
	snprintf(comm.host, sizeof comm.host, "%s", host);
	int rc = be->init(&comm);
	if (rc)
		sb_log_fault("backend '%s' failed to start: %s", bname, sb_strerror(rc));
	/* A rank whose backend failed must not leave the others waiting in the next collective
	 * (backends whose start is itself collective end the job from the failing rank). */
	int st = sb_world_max_status(sb_exit_status(rc));
	if (st) {
		if (rc == 0)
			comm.be->fini(&comm);
		return finish(st);
	}

	/* Where every rank sits (and --bind), gathered at rank 0. */
	struct sb_topo *topo = NULL;
	/* GPU backends chose the rank's GPU at init: the topology places it. */
	if ((st = discover(&comm, sb_arg_str(&args, "bind"), comm.gpu[0] ? comm.gpu : NULL,
	                   &topo))) {
		comm.be->fini(&comm);
		return finish(st);
	}

	/* The largest point of every benchmark against the memory its ranks can have: bad
	 * input before anything is written. */
	if ((st = check_memory(benches, extras, single, &args, &comm, topo, argc, argv))) {
		sb_topo_free(topo);
		comm.be->fini(&comm);
		return finish(st);
	}

	/* The clock's step, the same figure on every rank (their stop decisions must agree). */
	double res = sb_clock_resolution();
	if ((rc = sb_ctl_max(&comm, &res, 1))) {
		st = ctl_failed(&comm, "cannot agree on the clock's step", rc);
		sb_topo_free(topo);
		comm.be->fini(&comm);
		return finish(st);
	}

	/* Rank 0 opens the run file; every rank learns whether that worked. */
	struct sb_report rep = {.t0 = job.t0,
	                        .span = span_of(topo, size),
	                        .topo = topo,
	                        .resolution = res,
	                        .async = (be->caps & SB_CAP_DEVICE_MEM) || comm.async,
	                        .progress = rank == 0 && isatty(2) &&
	                                    !sb_arg_flag(&args, "quiet") &&
	                                    !sb_arg_flag(&args, "json")};
	char err[512] = "";
	long long open_failed = 0;
	if (rank == 0) {
		rep.table = sb_arg_flag(&args, "json") ? NULL : stdout;
		rep.json = sb_arg_flag(&args, "json") ? stdout : NULL;
		rep.mpi_version = be == sb_backend_find("mpi") ? sb_world_mpi_version() : NULL;
		rep.rf = sb_runfile_open(sb_arg_str(&args, "out"), single ? single->name : "suite",
		                         host, err, sizeof err);
		if (!rep.rf) {
			sb_log_fault("%s", err);
			open_failed = 1;
		}
	}
	if ((rc = sb_ctl_sum(&comm, &open_failed, 1)))
		st = ctl_failed(&comm, "cannot learn whether the run file opened", rc);
	else if (open_failed)
		st = SB_EXIT_FAULT; /* rank 0 said why */
	if (st) {
		if (rep.rf)
			(void)sb_runfile_close(rep.rf); /* the run file holds nothing yet */
		sb_topo_free(topo);
		comm.be->fini(&comm);
		return finish(st);
	}

	char run_id[33];
	sb_random_id(run_id);
	if (rank == 0) {
		json_t *run = sb_run_record(run_id, cmd, argc, argv, &args, &comm, topo);
		int treq, tgot;
		sb_world_thread_levels(&treq, &tgot);
		json_t *prov = json_object_get(run, "provenance");
		json_object_set_new(prov, "mpi_thread",
		                    json_pack("{s:s,s:s}", "requested", sb_thread_level_name(treq),
		                              "provided", sb_thread_level_name(tgot)));
		char thp[32];
		json_object_set_new(prov, "host_memory",
		                    json_pack("{s:I,s:b,s:s}", "alignment",
		                              (json_int_t)sb_host_alignment(&comm), "hugepages",
		                              comm.hugepages, "thp",
		                              sb_host_thp_mode(thp, sizeof thp)));
		json_object_set_new(prov, "timer",
		                    json_pack("{s:s,s:f,s:f}", "name", SB_TIMER_NAME,
		                              "resolution_reported", sb_timer_resolution(),
		                              "resolution_measured", res));
		rc = sb_runfile_write(rep.rf, run); /* a failed write said why */
		json_decref(run);
		if (rc && comm.size > 1) /* the others are on their way into the benchmark */
			sb_ctl_abort(&comm, sb_exit_status(rc));
		sb_log_info("run file: %s", sb_runfile_path(rep.rf));
	}
	job.rf = rep.rf;
	job.rep = &rep;
	/* Worst exit status: this rank's own (own), the job's (status, agreed over the ranks). */
	int own = sb_exit_status(rc), who = -1;
	/* The watchdog closes the run file on a signal and keeps --timeout. A rank where part of
	 * it is missing says so; without its timer --timeout cannot be kept, a fault when it was
	 * asked for. */
	double timeout = sb_arg_double(&args, "timeout");
	unsigned missing = 0;
	if (sb_watchdog_start(on_watchdog, NULL, &missing)) {
		if ((missing & SB_WATCHDOG_NO_TIMER) && timeout > 0) {
			sb_log_fault("--timeout %g cannot be kept: this rank has no POSIX timer "
			             "(timer_create failed)",
			             timeout);
			if (own < SB_EXIT_FAULT)
				own = SB_EXIT_FAULT;
		}
		if (missing & SB_WATCHDOG_NO_SIGNALS)
			sb_log_warn_rank(
			    "no signal handler: SIGTERM, SIGINT or SIGHUP will end this "
			    "rank without closing the run file");
	}
	int status = agree(&comm, own, &who);

	for (size_t i = 0; benches[i] && status < SB_EXIT_FAULT; i++) {
		struct sb_args bargs;
		if (rank == 0 && rep.table && extras[i] && extras[i][0]) {
			printf("#\n# suite entry: %s", benches[i]->name);
			for (size_t k = 0; k < SB_SUITE_ARGS && extras[i][k]; k++)
				printf(" %s", extras[i][k]);
			printf("\n");
		}
		rc = sb_driver_run(
		    benches[i], &comm,
		    bench_args(benches[i], extras[i], single, &args, &bargs, argc, argv), &rep);
		if (sb_exit_status(rc) > own)
			own = sb_exit_status(rc);
		/* Every rank goes on to the next benchmark, or stops, together. */
		status = agree(&comm, own, &who);
	}
	sb_watchdog_disarm();
	sb_watchdog_stop();

	if (rank == 0) {
		/* The table so far: a failed write is a fault, in the end record too. */
		char msg[160] = "";
		if (rep.table && stdout_status() > status) {
			status = own = SB_EXIT_FAULT;
			snprintf(msg, sizeof msg, "cannot write the standard output");
		}
		/* A fault that another rank alone saw: it said what; rank 0 says who, in the end
		 * record too. */
		if (status > own && who > 0) {
			snprintf(msg, sizeof msg,
			         "rank %d failed (exit status %d): its message says why", who,
			         status);
			sb_log_fault("%s", msg);
		}
		json_t *e = sb_end_record(&rep, end_status(status), msg[0] ? msg : NULL);
		json_decref(rep.drift);
		rep.drift = NULL;
		json_object_set_new(e, "points_at_precision",
		                    json_integer((json_int_t)rep.points_at_precision));
		json_object_set_new(e, "points_at_clock_step",
		                    json_integer((json_int_t)rep.points_at_clock));
		json_object_set_new(e, "points_at_duration",
		                    json_integer((json_int_t)rep.points_at_duration));
		/* A run file that could not be finished is a fault (runfile.c said why). */
		int werr = sb_runfile_write_last(rep.rf, e);
		json_decref(e);
		char path[4096];
		snprintf(path, sizeof path, "%s", sb_runfile_path(rep.rf));
		job.rf = NULL;
		if ((sb_runfile_close(rep.rf) || werr) && status < SB_EXIT_FAULT)
			status = SB_EXIT_FAULT;
		char clk[128] = "";
		if (rep.points_at_clock)
			snprintf(clk, sizeof clk, ", %zu the clock step's limit",
			         rep.points_at_clock);
		if (rep.points_at_duration) {
			size_t l = strlen(clk);
			snprintf(clk + l, sizeof clk - l, ", %zu their duration and count",
			         rep.points_at_duration);
		}
		if (rep.table)
			printf("# %zu point%s, %zu reached the precision target%s, %.1f s%s; run "
			       "file %s\n",
			       rep.points, rep.points == 1 ? "" : "s", rep.points_at_precision, clk,
			       sb_now() - job.t0,
			       rep.drifted ? "; DRIFT: the machine changed state during the run"
			                   : "",
			       path);
		if (status == SB_EXIT_CHECK)
			sb_log_fault("wrong results found: see the 'wrong' column");
		if (stdout_status() > status)
			status = SB_EXIT_FAULT;
	}
	sb_topo_free(topo);
	comm.be->fini(&comm);
	return finish(status);
}
