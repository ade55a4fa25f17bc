/* scalebench: the MPI program. `scalebench <benchmark|suite|list> [options]`.
 *
 * Exit status: 0 success, 1 a result check failed, 2 bad input, 3 a fault (communication,
 * memory, I/O), 4 a point timed out (--timeout), 128+N stopped by signal N. */
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
		printf("  %-12s %s (needs %d+ rank%s)\n", sb_benches[i]->name,
		       sb_benches[i]->summary, sb_benches[i]->min_ranks,
		       sb_benches[i]->min_ranks == 1 ? "" : "s");
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
		status = sb_exit_status(SB_ETIMEOUT);
	} else {
		sb_sig_str(&msg, "stopped by ");
		sb_sig_str(&msg, signame(sig));
		if (sig == SIGTERM)
			sb_sig_str(&msg, " (mpirun sends it when another rank fails or the job is "
			                 "cancelled)");
		status = 128 + sig;
	}
	if (job.rank != 0) {
		if (point) {
			struct timespec one = {1, 0};
			nanosleep(&one, NULL); /* let rank 0 say it and close the file first */
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
		sb_runfile_write_last_sigsafe(rf, line.p, line.len);
		sb_sig_str(&msg, "; the ");
		sb_sig_uint(&msg, points);
		sb_sig_str(&msg,
		           points == 1 ? " finished point is in " : " finished points are in ");
		sb_sig_str(&msg, sb_runfile_path(rf));
	}
	sb_log_fault_sigsafe(msg.p);
	return status;
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

/* Topology discovery for a run: every rank takes part; rank 0 gets the result and prints
 * the warnings once. */
static int discover(struct sb_comm *c, const char *bind, const char *gpu, struct sb_topo **topo)
{
	int lr = 0, ls = 1;
	if (!(c->be->caps & SB_CAP_TEST_ONLY))
		sb_world_local(&lr, &ls);
	int rc = sb_topo_discover(c, lr, ls, bind, gpu, topo);
	if (rc == 0 && *topo) {
		for (size_t i = 0; i < (*topo)->nwarnings; i++)
			sb_log_warn("[%s] host %s: %s", (*topo)->warnings[i].kind,
			            (*topo)->warnings[i].host, (*topo)->warnings[i].message);
		for (int r = 0; r < (*topo)->nranks; r++)
			if ((*topo)->ranks[r].bind_action[0])
				sb_log_info("--bind %s: rank %d %s", bind, r,
				            (*topo)->ranks[r].bind_action);
	}
	return rc;
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

/* `scalebench topo`: the topology alone, as a readable map (or JSON) and a run file holding
 * the run record (with the topology) and the end record. */
static int run_topo(int argc, char **argv, int rank)
{
	const struct sb_opt *tables[] = {topo_opts, NULL};
	struct sb_args a;
	char err[512];
	if (sb_args_parse(&a, tables, argc, argv, 2, err, sizeof err)) {
		sb_log_usage("%s (try 'scalebench topo --help')", err);
		return finish(2);
	}
	if (sb_arg_flag(&a, "help")) {
		if (rank == 0) {
			printf("usage: mpirun [-np N] scalebench topo [options]\nwhere every rank "
			       "sits: cores, NUMA node, package, GPU, nearest NICs.\n\noptions:\n");
			sb_opts_help(stdout, tables);
		}
		return finish(0);
	}
	sb_log_set_quiet(sb_arg_flag(&a, "quiet"));
	if (!*sb_arg_str(&a, "out")) {
		sb_log_usage("--out needs a directory name");
		return finish(2);
	}
	struct sb_comm comm = {.be = sb_backend_find("mpi")};
	snprintf(comm.host, sizeof comm.host, "%s", sb_log_host());
	int rc = comm.be->init(&comm);
	struct sb_topo *topo = NULL;
	const char *gpus = strcmp(sb_arg_str(&a, "gpus"), "local") == 0 ? SB_TOPO_GPU_LOCAL : NULL;
	if (rc == 0 && (rc = discover(&comm, sb_arg_str(&a, "bind"), gpus, &topo)))
		comm.be->fini(&comm);
	if (rc)
		return finish(sb_exit_status(rc));
	int status = 0;
	if (rank == 0) {
		struct sb_report rep = {.t0 = job.t0};
		rep.rf = sb_runfile_open(sb_arg_str(&a, "out"), "topo", comm.host, err, sizeof err);
		if (!rep.rf) {
			sb_log_fault("%s", err);
			status = 3;
		} else {
			char id[33];
			sb_random_id(id);
			json_t *run = sb_run_record(id, "topo", argc, argv, &a, &comm, topo);
			json_t *end = sb_end_record(&rep, "ok", NULL);
			if (sb_runfile_write(rep.rf, run) || sb_runfile_write_last(rep.rf, end))
				status = 3;
			if (sb_runfile_close(rep.rf))
				status = 3;
			json_decref(run);
			json_decref(end);
		}
		if (strcmp(sb_arg_str(&a, "format"), "json") == 0) {
			json_t *j = sb_topo_json(topo);
			json_dumpf(j, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
			json_decref(j);
		} else {
			sb_topo_print(stdout, topo);
		}
		fflush(stdout);
	}
	double st = status;
	comm.be->ctl_max(&comm, &st, 1);
	sb_topo_free(topo);
	comm.be->fini(&comm);
	return finish((int)st);
}

/* Bytes this rank's buffers can have: the device's share (GPU backends) or the host's
 * available memory shared by the host's ranks. */
static double memory_limit(struct sb_comm *c)
{
	double bytes = 0;
	if (c->be->mem_free && c->be->mem_free(c, &bytes) == 0)
		return bytes;
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

static int check_memory(const struct sb_bench *const *benches, const char *const *const *extras,
                        const struct sb_bench *single, const struct sb_args *args,
                        struct sb_comm *c, const struct sb_topo *topo, int argc, char **argv)
{
	/* The tightest rank: the smallest limit, and the lowest rank that has it. */
	double mine = memory_limit(c), v[2] = {-mine, 0};
	c->be->ctl_max(c, v, 1);
	double limit = -v[0];
	v[1] = mine == limit ? -(double)c->rank : -1e18;
	v[0] = 0;
	c->be->ctl_max(c, v, 2);
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
		int rc =
		    ba ? sb_driver_check_memory(benches[i], c, ba, limit, where, err, sizeof err)
		       : SB_EINVAL;
		if (rc) {
			if (ba)
				sb_log_usage("%s", err);
			return rc;
		}
	}
	return 0;
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
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		if (launcher_rank() == 0)
			print_version();
		return 0;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		if (launcher_rank() == 0)
			usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "list")) {
		if (launcher_rank() == 0)
			print_list();
		return 0;
	}
	const struct sb_bench *single = sb_bench_find(cmd);
	int is_topo = strcmp(cmd, "topo") == 0;
	if (!single && !is_topo && strcmp(cmd, "suite") != 0) {
		if (launcher_rank() == 0)
			fprintf(stderr,
			        "scalebench: error: unknown benchmark or command '%s' (see "
			        "'scalebench list')\n",
			        cmd);
		return 2;
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
		return 3;
	}
	job.rank = rank;
	job.t0 = sb_now();
	if (is_topo)
		return run_topo(argc, argv, rank);

	struct sb_args args;
	if (parse(&args, single, argc, argv))
		return finish(2);
	/* MPI was initialised at the level a scan of argv found before parsing; an abbreviated
	 * option the parser accepts (--mpi=funneled) escapes that scan. */
	int treq0, tgot0;
	sb_world_thread_levels(&treq0, &tgot0);
	if (sb_arg_choice(&args, "mpi-thread") != treq0) {
		sb_log_usage("--mpi-thread: write it in full (--mpi-thread LEVEL or "
		             "--mpi-thread=LEVEL): MPI was initialised at %s",
		             sb_thread_level_name(treq0));
		return finish(2);
	}
	if (sb_arg_flag(&args, "help")) {
		if (rank == 0)
			print_help(single, cmd);
		return finish(0);
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
		return finish(2);
	}
	if (sb_arg_flag(&args, "cuda-graph") && strcmp(be->name, "nccl") != 0) {
		sb_log_usage("-G/--cuda-graph needs the nccl backend");
		return finish(2);
	}
	if (single && sb_arg_flag(&args, "cuda-graph") && !(single->flags & SB_BENCH_CAN_GRAPH)) {
		sb_log_usage("-G/--cuda-graph: %s cannot be replayed from a graph", single->name);
		return finish(2);
	}
	if (why) {
		sb_log_usage("backend '%s' is unavailable: %s", bname, why);
		return finish(2);
	}
	if ((be->caps & SB_CAP_TEST_ONLY) && size > 1) {
		sb_log_usage(
		    "the '%s' backend simulates its world in one process; run it with 1 rank",
		    bname);
		return finish(2);
	}
	if (single && size < single->min_ranks) {
		sb_log_usage("%s needs at least %d ranks, got %d (mpirun -np %d ...)", single->name,
		             single->min_ranks, size, single->min_ranks);
		return finish(2);
	}
	/* The suite runs what it can: entries needing more ranks, or a graph they cannot be
	 * replayed from (-G), are left out with a note. */
	size_t kept = 0;
	for (size_t i = 0; !single && benches[i]; i++) {
		const struct sb_bench *b = benches[i];
		int graph = sb_arg_flag(&args, "cuda-graph") && !(b->flags & SB_BENCH_CAN_GRAPH);
		if (size < b->min_ranks || graph) {
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
		return finish(2);
	}
	if (!*sb_arg_str(&args, "out")) {
		sb_log_usage("--out needs a directory name");
		return finish(2);
	}
	for (size_t i = 0; benches[i]; i++) {
		struct sb_args bargs;
		char err[512];
		const struct sb_args *ba =
		    bench_args(benches[i], extras[i], single, &args, &bargs, argc, argv);
		if (!ba || (benches[i]->validate &&
		            benches[i]->validate(ba, size, err, sizeof err) == SB_EINVAL)) {
			if (ba)
				sb_log_usage("%s: %s", benches[i]->name, err);
			return finish(2);
		}
	}

	struct sb_comm comm = {.be = be,
	                       .device = (int)sb_arg_int(&args, "device"),
	                       .graph = sb_arg_flag(&args, "cuda-graph"),
	                       .hugepages = sb_arg_flag(&args, "hugepages")};
	snprintf(comm.host, sizeof comm.host, "%s", host);
	int rc = be->init(&comm);
	if (rc) {
		sb_log_fault("backend '%s' failed to start: %s", bname, sb_strerror(rc));
		return finish(sb_exit_status(rc));
	}

	/* Where every rank sits (and --bind), gathered at rank 0. */
	struct sb_topo *topo = NULL;
	/* GPU backends chose the rank's GPU at init: the topology places it. */
	if ((rc = discover(&comm, sb_arg_str(&args, "bind"), comm.gpu[0] ? comm.gpu : NULL,
	                   &topo))) {
		comm.be->fini(&comm);
		return finish(sb_exit_status(rc));
	}

	/* The largest point of every benchmark against the memory its ranks can have: bad
	 * input before anything is written. */
	if ((rc = check_memory(benches, extras, single, &args, &comm, topo, argc, argv))) {
		sb_topo_free(topo);
		comm.be->fini(&comm);
		return finish(sb_exit_status(rc));
	}

	/* The clock's step, the same figure on every rank (their stop decisions must agree). */
	double res = sb_clock_resolution();
	comm.be->ctl_max(&comm, &res, 1);

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
	comm.be->ctl_sum(&comm, &open_failed, 1);
	if (open_failed) {
		comm.be->fini(&comm);
		return finish(3);
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
		rc = sb_runfile_write(rep.rf, run);
		json_decref(run);
		if (rc && comm.size > 1 && comm.be->abort)
			comm.be->abort(&comm,
			               3); /* the others are on their way into the benchmark */
		sb_log_info("run file: %s", sb_runfile_path(rep.rf));
	}
	job.rf = rep.rf;
	job.rep = &rep;
	if (sb_watchdog_start(on_watchdog, NULL) && rank == 0)
		sb_log_warn("no POSIX timer: --timeout and the signal handlers are off");

	int status = rc ? sb_exit_status(rc) : 0;
	for (size_t i = 0; benches[i] && status < 3; i++) {
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
		int st = sb_exit_status(rc);
		if (st > status)
			status = st;
	}
	sb_watchdog_disarm();
	/* Every rank exits with the same status. */
	double dmax = status;
	comm.be->ctl_max(&comm, &dmax, 1);
	status = (int)dmax;
	sb_watchdog_stop();

	if (rank == 0) {
		const char *s = status == 0   ? "ok"
		                : status == 1 ? "check-failed"
		                : status == 2 ? "bad-input"
		                              : "error";
		json_t *e = sb_end_record(&rep, s, NULL);
		json_decref(rep.drift);
		rep.drift = NULL;
		json_object_set_new(e, "points_at_precision",
		                    json_integer((json_int_t)rep.points_at_precision));
		json_object_set_new(e, "points_at_clock_step",
		                    json_integer((json_int_t)rep.points_at_clock));
		sb_runfile_write_last(rep.rf, e);
		json_decref(e);
		char path[4096];
		snprintf(path, sizeof path, "%s", sb_runfile_path(rep.rf));
		job.rf = NULL;
		if (sb_runfile_close(rep.rf) && status == 0)
			status = 3;
		char clk[64] = "";
		if (rep.points_at_clock)
			snprintf(clk, sizeof clk, ", %zu the clock step's limit",
			         rep.points_at_clock);
		if (rep.table)
			printf("# %zu point%s, %zu reached the precision target%s, %.1f s%s; run "
			       "file %s\n",
			       rep.points, rep.points == 1 ? "" : "s", rep.points_at_precision, clk,
			       sb_now() - job.t0,
			       rep.drifted ? "; DRIFT: the machine changed state during the run"
			                   : "",
			       path);
		if (status == 1)
			sb_log_fault("wrong results found: see the 'wrong' column");
	}
	sb_topo_free(topo);
	comm.be->fini(&comm);
	return finish(status);
}
