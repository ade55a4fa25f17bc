/* pipeline: how fast stage i hands its activations to stage i+1, alone and inside a schedule.
 *
 * Stages are the ranks, in order (with --ranks-per-stage K, stage s is ranks sK..sK+K-1 and
 * each hands off to its peer K ranks on: K chains at once, whose figures each boundary pools).
 * `--mode handoff`: every stage sends S bytes to the next at once (a shift without
 * wrap-around), the baseline; each receiver first sends its sender a 4-byte "ready", and the
 * handoff is timed from the later of the two posts to the receiver's completion, from both
 * ranks' clocks (sb_ctl_clock_offset_prev brings them together across hosts).
 * `--mode schedule`: one timed iteration is one step of a GPipe or 1F1B (non-interleaved,
 * Megatron's order) schedule over M micro-batches: each forward receives the activation from
 * the previous stage, computes, and sends it on; in training each backward does the same in
 * reverse with a gradient of the same size. Compute is calibrated busy work (a spin on the
 * monotonic clock, or a GPU kernel of that duration on device backends) or GEMMs (gemm.h:
 * OpenBLAS, or cuBLAS on the backend's stream), complete before the next transfer, so its time
 * is known and the rest of a step is communication or waiting. GEMMs run in --gemm-dtype: on
 * device backends bf16 with float32 accumulation by default (the tensor cores, as
 * mixed-precision training runs), or fp32; on host backends fp32 only (OpenBLAS). The
 * activation is then S / (E H) tokens of H elements of E bytes. On a device backend rank 0
 * measures cuBLAS's rate for that type once, before the first GEMM point (a square GEMM of
 * 8192, best of 5, the other ranks waiting so that ranks sharing its GPU leave it alone), and
 * the record holds the achieved forward rate against it.
 *
 * Measured per point: the step time (the driver's, slowest rank), throughput, the latency of
 * every handoff on the receiver (from entering the transfer to its completion), per boundary and
 * pooled, the bubble (idle time of a stage / step time, median over stages and steps) beside
 * the ideal (P-1)/(M+P-1), and the exposed communication: step time minus the compute critical
 * path, the schedule played with each stage's measured forward and backward time per
 * micro-batch and no communication ((M+P-1) x (forward + backward) when stages are equal).
 *
 * Checks (-c): a check step runs the same schedule with every payload stamped (a 16-byte
 * header: magic, sending stage, micro-batch, step and direction; the body the sending stage's
 * pattern for that micro-batch), written and read through the backend so device buffers work
 * alike, and verified on receipt; a wrong, out-of-order or corrupt handoff counts as one
 * wrong. SB_PIPE_CORRUPT=1 (tests) corrupts one handoff of stage 0. */
#include "bench.h"
#include "error.h"
#include "gemm.h"
#include "pattern.h"
#include "schedule.h"
#include "sweep.h"
#include "stats.h"
#include "timer.h"
#include "topo.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC 0x5ca1ab1e
#define HEADER 16 /* bytes: four int32 */
#define READY 4 /* bytes of the handoff's "ready" message */
#define MAX_LIST 16 /* values in a --microbatches or --stages list */
/* The reference GEMM (gemm.h sb_gemm_peak): square, large enough for cuBLAS's best kernels on
 * an H100 or H200 (8192: 1.1 TFLOP, about 1.4 ms in bf16, 20 ms in fp32), best of 5. */
#define PEAK_N 8192
#define PEAK_REPS 5

// clang-format off
static const struct sb_opt pipeline_opts[] = {
	{"mode", 0, SB_OPT_CHOICE, "MODE", "schedule", "schedule|handoff", 0, "a step of a schedule, or the isolated handoff i -> i+1"},
	{"schedule", 0, SB_OPT_CHOICE, "NAME", "1f1b", "1f1b|gpipe", 0, "pipeline schedule (non-interleaved)"},
	{"microbatches", 0, SB_OPT_STRING, "M[,M...]", "8", NULL, 0, "micro-batches per step; a list sweeps them"},
	{"stages", 0, SB_OPT_STRING, "P[,P...]", NULL, NULL, 0, "stages: the first P x K ranks (default: as many as the ranks make; others idle); a list sweeps them"},
	{"ranks-per-stage", 0, SB_OPT_INT, "K", "1", NULL, 1, "K ranks per stage (ranks sK..sK+K-1), each handing off to its peer K ranks on: K chains at once, as a stage's tensor-parallel ranks do"},
	{"bytes", 0, SB_OPT_SIZE, "S", NULL, NULL, 1, "activation bytes per handoff (instead of -b/-e/-f; default sweep 16K..64M, x4)"},
	{"compute", 0, SB_OPT_CHOICE, "KIND", "spin", "spin|gemm", 0, "per micro-batch work: spin (busy work of --compute-us) or gemm (the activation by a hidden x hidden weight: OpenBLAS, or cuBLAS on GPU backends)"},
	{"compute-us", 0, SB_OPT_DOUBLE, "T", "0", NULL, 0, "spin: forward compute per micro-batch and stage, microseconds"},
	{"gemm-dtype", 0, SB_OPT_CHOICE, "TYPE", NULL, "bf16|fp32", 0, "gemm: element type, accumulation in fp32 (default: bf16 on GPU backends, fp32 on host backends, which have fp32 only)"},
	{"hidden", 0, SB_OPT_INT, "H", "1024", NULL, 1, "gemm: hidden size; the activation is S / (E H) tokens of H elements of E bytes (--gemm-dtype: 2 or 4)"},
	{"mb-size", 0, SB_OPT_INT, "B", NULL, NULL, 1, "with --seq: S = B x seq x hidden x E bytes (E: 4, or gemm's element size)"},
	{"seq", 0, SB_OPT_INT, "L", NULL, NULL, 1, "with --mb-size: sequence length"},
	{"training", 0, SB_OPT_FLAG, NULL, NULL, NULL, 0, "forward and backward (default: forward only, inference)"},
	{"backward-factor", 0, SB_OPT_DOUBLE, "B", "2", NULL, 0, "backward compute = B x forward compute"},
	{"steps", 0, SB_OPT_INT, "K", NULL, NULL, 1, "timed schedule steps per point (same as -n)"},
	{0},
};
// clang-format on

/* This rank's series of a point (series.h), by index: per timed step its compute (busy, and
 * the forward part of it) and wall time; the handoffs it received from the previous stage
 * (lat_f) and, in training, from the next (lat_b); in handoff mode when each transfer was
 * posted and completed (timestamps: gathered, not written to the record). */
enum { S_BUSY, S_FBUSY, S_WALL, S_LAT_F, S_LAT_B, S_POST, S_DONE, S_COUNT };
static const char *const series_names[S_COUNT] = {
    "step_busy",        "step_forward_busy", "step_wall", "handoff_forward",
    "handoff_backward", "post_time",         "done_time"};

struct pipe {
	int handoff, gpipe, training, gemm;
	int K; /* ranks per stage */
	int P, M; /* the prepared point's stages and micro-batches */
	size_t hidden;
	enum sb_gemm_dtype dtype; /* gemm: the element type (the activation's with --mb-size) */
	struct sb_gemm g; /* gemm compute, sized for the current point */
	/* gemm on a device backend: cuBLAS's rate for dtype (rank 0; 0 when not measured) and
	 * the size it ran; peak_tried once per run. */
	double peak;
	int peak_n, peak_tried;
	int micro[MAX_LIST], nmicro, stages[MAX_LIST], nstages;
	double fwd, bwd;
	struct sb_bufs act, grad; /* send: outgoing; recv: incoming */
	struct sb_bufs ready; /* handoff mode: the receiver's 4-byte "ready" to the sender */
	/* This rank's record of timed steps: busy and wall time per step; the handoffs it
	 * received from the previous stage (lat_f) and, in training, from the next (lat_b); in
	 * handoff mode, when each transfer was posted and completed (host clock). */
	struct sb_series ser[S_COUNT]; /* the driver empties and gathers them (bench.h) */
	double t_post, t_done; /* of the last transfer */
	double offset[2]; /* the previous stage's clock minus ours, before and after the point */
	double offset_err[2]; /* and the bounds on their errors (half a round trip) */
	/* Check steps. */
	int checking, corrupt;
	unsigned step_id;
	size_t wrong;
};

/* "4,8,16" -> values, each in [lo, hi]; the count, or SB_EINVAL with a message. */
static int parse_list(const char *name, const char *text, int lo, int hi, int *out, char *err,
                      size_t errlen)
{
	int n = 0;
	for (const char *p = text; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || (*end && *end != ',') || v < lo || v > hi || n == MAX_LIST) {
			snprintf(
			    err, errlen,
			    "--%s '%s': a comma-separated list of up to %d numbers from %d to %d",
			    name, text, MAX_LIST, lo, hi);
			return SB_EINVAL;
		}
		out[n++] = (int)v;
		p = *end ? end + 1 : end;
	}
	if (n == 0) {
		snprintf(err, errlen, "--%s needs at least one number", name);
		return SB_EINVAL;
	}
	return n;
}

static int pipe_sizes(const struct sb_args *a, size_t **out, size_t *n, char *err, size_t errlen);

/* Whether --backend keeps buffers in GPU memory (its compute runs on the GPU). */
static int device_backend(const struct sb_args *a)
{
	const char *name = sb_arg_exists(a, "backend") ? sb_arg_str(a, "backend") : NULL;
	const struct sb_backend *be = name ? sb_backend_find(name) : NULL;
	return be && (be->caps & SB_CAP_DEVICE_MEM);
}

/* The GEMMs' element type: --gemm-dtype, else bf16 on device backends (what mixed-precision
 * training runs) and fp32 on host ones. */
static enum sb_gemm_dtype gemm_dtype(const struct sb_args *a)
{
	int k = sb_arg_choice(a, "gemm-dtype");
	if (k < 0)
		return device_backend(a) ? SB_GEMM_BF16 : SB_GEMM_FP32;
	return k == 0 ? SB_GEMM_BF16 : SB_GEMM_FP32;
}

/* Bytes per element of the activation: the GEMMs' type, or float32 with busy work. */
static size_t elem_size(const struct sb_args *a)
{
	return sb_arg_choice(a, "compute") == 1 ? sb_gemm_dtype_size(gemm_dtype(a)) : 4;
}

static int pipeline_validate(const struct sb_args *a, int nranks, char *err, size_t errlen)
{
	int list[MAX_LIST];
	if (parse_list("microbatches", sb_arg_str(a, "microbatches"), 1, 1 << 20, list, err,
	               errlen) < 0)
		return SB_EINVAL;
	long long rps = sb_arg_int(a, "ranks-per-stage");
	if (rps > nranks / 2) {
		snprintf(err, errlen,
		         "--ranks-per-stage %lld: 2 stages of %lld ranks need %lld ranks; the job "
		         "has %d",
		         rps, rps, 2 * rps, nranks);
		return SB_EINVAL;
	}
	int K = (int)rps;
	if (sb_arg_str(a, "stages") &&
	    parse_list("stages", sb_arg_str(a, "stages"), 2, nranks / K, list, err, errlen) < 0) {
		if (K > 1) { /* say why the limit is lower than the job's ranks */
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " (%d ranks, %d per stage)", nranks, K);
		}
		return SB_EINVAL;
	}
	if (sb_arg_given(a, "mb-size") != sb_arg_given(a, "seq")) {
		snprintf(err, errlen, "--mb-size and --seq go together (S = B x L x hidden x %zu)",
		         elem_size(a));
		return SB_EINVAL;
	}
	if (sb_arg_given(a, "mb-size") && sb_arg_given(a, "bytes")) {
		snprintf(err, errlen,
		         "give the activation as --bytes or as --mb-size/--seq, not both");
		return SB_EINVAL;
	}
	if (sb_arg_choice(a, "compute") == 1 && sb_arg_given(a, "compute-us")) {
		snprintf(err, errlen,
		         "--compute-us is for --compute spin; gemm takes what it takes");
		return SB_EINVAL;
	}
	if (sb_arg_choice(a, "compute") != 1 && sb_arg_given(a, "gemm-dtype")) {
		snprintf(err, errlen, "--gemm-dtype is for --compute gemm");
		return SB_EINVAL;
	}
	if (sb_arg_choice(a, "compute") == 1 && gemm_dtype(a) == SB_GEMM_BF16 &&
	    !device_backend(a)) {
		snprintf(err, errlen,
		         "--gemm-dtype bf16 needs a GPU backend (nccl, mpi-gpu): the host's GEMMs "
		         "(OpenBLAS) are fp32 only");
		return SB_EINVAL;
	}
	if (sb_arg_given(a, "steps") && sb_arg_given(a, "iters")) {
		snprintf(err, errlen, "--steps and -n say the same thing: give one");
		return SB_EINVAL;
	}
	size_t *sizes, k;
	int rc = pipe_sizes(a, &sizes, &k, err, errlen);
	free(sizes);
	return rc;
}

static int pipeline_setup(struct sb_ctx *x)
{
	struct pipe *s = calloc(1, sizeof *s);
	if (!s)
		return SB_ENOMEM;
	for (int j = 0; j < S_COUNT; j++)
		sb_series_init(&s->ser[j], series_names[j], "s");
	s->ser[S_POST].internal = s->ser[S_DONE].internal = 1; /* timestamps */
	x->series = s->ser;
	x->nseries = S_COUNT;
	const struct sb_args *a = x->args;
	s->handoff = sb_arg_choice(a, "mode") == 1;
	s->gpipe = sb_arg_choice(a, "schedule") == 1;
	s->gemm = sb_arg_choice(a, "compute") == 1;
	s->hidden = (size_t)sb_arg_int(a, "hidden");
	s->dtype = gemm_dtype(a);
	s->training = sb_arg_flag(a, "training");
	char err[256];
	s->nmicro = parse_list("microbatches", sb_arg_str(a, "microbatches"), 1, 1 << 20, s->micro,
	                       err, sizeof err);
	s->K = (int)sb_arg_int(a, "ranks-per-stage");
	s->nstages = 1;
	s->stages[0] = x->comm->size / s->K;
	if (sb_arg_str(a, "stages"))
		s->nstages = parse_list("stages", sb_arg_str(a, "stages"), 2, x->comm->size / s->K,
		                        s->stages, err, sizeof err);
	if (s->nmicro < 1 || s->nstages < 1) { /* validated before: cannot happen */
		free(s);
		return SB_EINVAL;
	}
	s->fwd = sb_arg_double(a, "compute-us") * 1e-6;
	s->bwd = s->fwd * sb_arg_double(a, "backward-factor");
	const char *c = getenv("SB_PIPE_CORRUPT");
	s->corrupt = c && atoi(c) > 0;
	x->state = s;
	return 0;
}

/* The activation sizes of the run: --bytes, or --mb-size x --seq x --hidden x E (E: the
 * element size, elem_size), or the -b/-e/-f range (16 KiB..64 MiB x4 by default), less sizes
 * below the check header or not a multiple of its 4-byte words, and for gemm compute less
 * sizes that are not whole rows of --hidden elements. */
static int pipe_sizes(const struct sb_args *a, size_t **out, size_t *n, char *err, size_t errlen)
{
	size_t *sizes = NULL, k = 0, es = elem_size(a), row = es * (size_t)sb_arg_int(a, "hidden");
	int gemm = sb_arg_choice(a, "compute") == 1;
	*out = NULL;
	*n = 0;
	if (sb_arg_given(a, "bytes") || sb_arg_given(a, "mb-size")) {
		if (!(sizes = malloc(sizeof *sizes)))
			return SB_ENOMEM;
		sizes[0] = sb_arg_given(a, "bytes") ? sb_arg_size(a, "bytes")
		                                    : (size_t)sb_arg_int(a, "mb-size") *
		                                          (size_t)sb_arg_int(a, "seq") * row;
		k = 1;
	} else if (!sb_arg_given(a, "min-bytes") && !sb_arg_given(a, "max-bytes") &&
	           !sb_arg_given(a, "step-factor")) {
		/* The common 4 B..64 MiB x2 default is the all-reduce's; activations start larger.
		 */
		for (size_t b = 16 << 10; b <= (64u << 20); b *= 4) {
			size_t *v = realloc(sizes, (k + 1) * sizeof *v);
			if (!v) {
				free(sizes);
				return SB_ENOMEM;
			}
			sizes = v;
			sizes[k++] = b;
		}
	} else {
		int rc = sb_sizes_from_args(a, 4, &sizes, &k, err, errlen);
		if (rc)
			return rc;
	}
	size_t j = 0;
	for (size_t i = 0; i < k; i++)
		if (sizes[i] >= HEADER && sizes[i] % 4 == 0 && (!gemm || sizes[i] % row == 0))
			sizes[j++] = sizes[i];
	if (j == 0) {
		if (gemm)
			snprintf(err, errlen,
			         "no activation size is a whole number of rows of %zu %s elements "
			         "(--hidden) and a multiple of 4 bytes",
			         row / es, sb_gemm_dtype_name(gemm_dtype(a)));
		else
			snprintf(
			    err, errlen,
			    "no activation size is a multiple of 4 bytes and at least %zu (the "
			    "check header)",
			    (size_t)HEADER);
		free(sizes);
		return SB_EINVAL;
	}
	*out = sizes;
	*n = j;
	return 0;
}

static int pipeline_points(struct sb_ctx *x, struct sb_point **pts, size_t *n)
{
	struct pipe *s = x->state;
	size_t *sizes = NULL, k = 0;
	char err[256];
	int rc = pipe_sizes(x->args, &sizes, &k, err, sizeof err);
	if (rc)
		return rc;
	/* Stages x micro-batches x sizes (the handoff has no micro-batches). */
	int nm = s->handoff ? 1 : s->nmicro;
	size_t total = (size_t)s->nstages * (size_t)nm * k, q = 0;
	struct sb_point *p = calloc(total ? total : 1, sizeof *p);
	if (!p) {
		free(sizes);
		return SB_ENOMEM;
	}
	const char *sched = s->handoff ? "handoff" : s->gpipe ? "gpipe" : "1f1b";
	for (int ip = 0; ip < s->nstages; ip++)
		for (int im = 0; im < nm; im++)
			for (size_t i = 0; i < k; i++, q++) {
				int P = s->stages[ip], M = s->handoff ? 1 : s->micro[im];
				p[q].bytes = sizes[i];
				p[q].count = sizes[i] / 4;
				p[q].dtype = SB_INT32;
				p[q].op = "-";
				/* The record's params (schema as before the result model). */
				json_t *pa = json_pack(
				    "{s:i,s:i,s:s,s:b,s:f}", "stages", P, "microbatches", M,
				    "schedule", sched, "training", !s->handoff && s->training,
				    "compute", s->handoff || s->gemm ? 0.0 : s->fwd);
				if (pa && s->K > 1)
					json_object_set_new(pa, "ranks_per_stage",
					                    json_integer(s->K));
				if (pa && s->gemm)
					json_object_update_new(
					    pa,
					    json_pack("{s:s,s:i,s:I,s:s}", "compute_kind", "gemm",
					              "hidden", (int)s->hidden, "tokens",
					              (json_int_t)(sizes[i] /
					                           sb_gemm_dtype_size(s->dtype) /
					                           s->hidden),
					              "gemm_dtype", sb_gemm_dtype_name(s->dtype)));
				if (!(p[q].params = pa)) {
					sb_points_free(p, q);
					free(sizes);
					return SB_ENOMEM;
				}
				char ks[24] = "";
				if (s->K > 1)
					snprintf(ks, sizeof ks, " of %d ranks", s->K);
				if (s->handoff)
					snprintf(p[q].label, sizeof p[q].label,
					         "pipeline handoff %zu B, %d stages%s", sizes[i], P,
					         ks);
				else
					snprintf(p[q].label, sizeof p[q].label,
					         "pipeline %s %s %zu B, %d stages%s, M=%d%s%s",
					         sched, s->training ? "training" : "inference",
					         sizes[i], P, ks, M, s->gemm ? ", gemm " : "",
					         s->gemm ? sb_gemm_dtype_name(s->dtype) : "");
			}
	k = total;
	free(sizes);
	*pts = p;
	*n = k;
	return 0;
}

/* The stream for this stage's GPU work on a device backend, or NULL (host work). */
static void *gpu_stream(struct sb_comm *c)
{
	return c->be->stream ? c->be->stream(c) : NULL;
}

static int pipeline_prepare(struct sb_ctx *x, const struct sb_point *pt)
{
	struct pipe *s = x->state;
	struct sb_comm *c = x->comm;
	int rc = sb_bufs_reserve(c, &s->act, pt->bytes, 0, pt->label);
	if (rc == 0 && s->training && !s->handoff)
		rc = sb_bufs_reserve(c, &s->grad, pt->bytes, 0, pt->label);
	if (rc == 0 && s->handoff)
		rc = sb_bufs_reserve(c, &s->ready, READY, 0, pt->label);
	if (rc == 0)
		rc = c->be->fill(c, s->act.send, pt->count, SB_INT32, 0);
	s->P = (int)sb_param_int(pt, "stages");
	s->M = (int)sb_param_int(pt, "microbatches");
	for (int j = 0; j < S_COUNT; j++) /* a new point */
		sb_series_reset(&s->ser[j]);
	s->offset[0] = s->offset[1] = s->offset_err[0] = s->offset_err[1] = 0;
	if (rc == 0 && s->handoff)
		rc = sb_ctl_clock_offset_prev(c, s->K, &s->offset[0], &s->offset_err[0]);
	size_t tokens = pt->bytes / (sb_gemm_dtype_size(s->dtype) * s->hidden);
	void *stream = gpu_stream(c);
	if (rc == 0 && s->gemm && !s->handoff && s->g.tokens != tokens) {
		sb_gemm_free(&s->g);
		if (!stream && s->dtype != SB_GEMM_FP32) /* validate rejects it */
			rc = SB_EINVAL;
		else
			rc = stream
			         ? sb_gemm_init_device(&s->g, tokens, s->hidden, s->dtype, stream)
			         : sb_gemm_init(&s->g, tokens, s->hidden);
		if (rc)
			sb_log_fault("cannot allocate the %s GEMM of %zu x %zu for %s",
			             sb_gemm_dtype_name(s->dtype), tokens, s->hidden, pt->label);
	}
	if (s->gemm && !s->handoff && stream && !s->peak_tried) {
		/* Every rank takes part, a failed one too (the others would wait for it). */
		s->peak_tried = 1;
		int brc = sb_ctl_barrier(c);
		if (rc == 0 && brc == 0 && c->rank == 0 &&
		    sb_gemm_peak(stream, s->dtype, PEAK_N, PEAK_REPS, &s->peak, &s->peak_n)) {
			sb_log_warn(
			    "cuBLAS's %s GEMM rate could not be measured: the record leaves "
			    "it out",
			    sb_gemm_dtype_name(s->dtype));
			s->peak = 0;
		}
		if (brc == 0)
			brc = sb_ctl_barrier(c);
		if (rc == 0)
			rc = brc;
	}
	return rc;
}

/* A timed step's record: its compute (forward, backward) and wall time. */
static int record_step(struct pipe *s, const double busy[2], double wall)
{
	int rc = sb_series_add(&s->ser[S_BUSY], busy[0] + busy[1]);
	if (rc == 0 && (rc = sb_series_add(&s->ser[S_FBUSY], busy[0])) == 0)
		rc = sb_series_add(&s->ser[S_WALL], wall);
	return rc;
}

/* One micro-batch's forward or backward work on this stage, complete on return; its time is
 * added to busy[backward]. */
static int work(struct sb_ctx *x, int backward, double *busy)
{
	struct pipe *s = x->state;
	double t = 0;
	int rc;
	if (!s->gemm && x->comm->be->spend) { /* a virtual clock: the work takes no real time */
		t = backward ? s->bwd : s->fwd;
		x->comm->be->spend(x->comm, t);
		rc = 0;
	} else if (!s->gemm) {
		rc = sb_spin(gpu_stream(x->comm), backward ? s->bwd : s->fwd, &t);
	} else {
		double t0 = sb_comm_now(x->comm);
		rc = backward ? sb_gemm_backward(&s->g) : sb_gemm_forward(&s->g);
		t = sb_comm_now(x->comm) - t0;
	}
	busy[backward] += t;
	return rc;
}

/* Stamp an outgoing payload (check steps): the sender's pattern for mb after the header, then
 * the header. Both go through the backend, so device buffers are stamped alike. */
static int stamp(struct pipe *s, struct sb_comm *c, void *buf, const struct sb_point *pt, int mb,
                 int dir)
{
	int32_t h[HEADER / 4] = {(int32_t)MAGIC, c->rank, mb,
	                         (int32_t)(s->step_id * 2 + (unsigned)dir)};
	int rc = c->be->fill_rank(c, (char *)buf + HEADER, pt->count - HEADER / 4, SB_INT32,
	                          c->rank, (unsigned)mb);
	if (rc == 0)
		rc = sb_comm_put(c, buf, h, HEADER);
	if (rc == 0 && s->corrupt && c->rank == 0 && mb == 0 && dir == 0) {
		/* Test switch: one corrupt handoff, its last byte flipped. */
		unsigned char last;
		char *at = (char *)buf + pt->bytes - 1;
		if ((rc = sb_comm_get(c, &last, at, 1)) == 0) {
			last ^= 0x5a;
			rc = sb_comm_put(c, at, &last, 1);
		}
	}
	return rc;
}

/* Verify a received payload; a wrong header or body counts one wrong handoff. */
static int verify(struct pipe *s, struct sb_comm *c, const void *buf, const struct sb_point *pt,
                  int mb, int dir, int from)
{
	int32_t h[HEADER / 4];
	size_t body = 0;
	int rc = sb_comm_get(c, h, buf, HEADER);
	if (rc == 0)
		rc = c->be->check_rank(c, (const char *)buf + HEADER, pt->count - HEADER / 4,
		                       SB_INT32, from, (unsigned)mb, &body);
	if (rc == 0 && (h[0] != (int32_t)MAGIC || h[1] != from || h[2] != mb ||
	                h[3] != (int32_t)(s->step_id * 2 + (unsigned)dir) || body))
		s->wrong++;
	return rc;
}

/* One transfer, as Megatron pairs them: send `out` (micro-batch mb_out) to `to` while
 * receiving `in` (micro-batch mb_in) from `from`; either peer may be SB_NO_PEER. dir_*: 0 for
 * activations, 1 for gradients. The receive side's time is a handoff latency. */
static int xfer(struct sb_ctx *x, const struct sb_point *pt, void *out, int to, int mb_out,
                int dir_out, void *in, int from, int mb_in, int dir_in)
{
	struct pipe *s = x->state;
	struct sb_comm *c = x->comm;
	int rc = 0;
	if (to == SB_NO_PEER && from == SB_NO_PEER)
		return 0;
	if (s->checking && to != SB_NO_PEER && (rc = stamp(s, c, out, pt, mb_out, dir_out)))
		return rc;
	double t0 = sb_comm_now(c);
	rc = c->be->sendrecv(c, to != SB_NO_PEER ? out : NULL, to, from != SB_NO_PEER ? in : NULL,
	                     from, pt->bytes);
	if (rc == 0)
		rc = sb_comm_sync(c);
	double t = sb_comm_now(c);
	s->t_post = t0;
	s->t_done = t;
	if (rc || from == SB_NO_PEER)
		return rc;
	if (s->checking)
		return verify(s, c, in, pt, mb_in, dir_in, from);
	if (x->timed && !s->handoff)
		rc = sb_series_add(&s->ser[dir_in ? S_LAT_B : S_LAT_F], t - t0);
	return rc;
}

static int pipeline_step(struct sb_ctx *x, const struct sb_point *pt)
{
	struct pipe *s = x->state;
	struct sb_comm *c = x->comm;
	/* This rank's stage: r / K, handing off to the same lane of the next stage. */
	int K = s->K, r = c->rank / K, P = s->P, M = s->M, rc = 0;
	int prev = r > 0 ? c->rank - K : SB_NO_PEER, next = r < P - 1 ? c->rank + K : SB_NO_PEER;
	if (r >= P) /* not a stage of this point: idle (its figures leave such ranks out) */
		return 0;
	void *a_out = s->act.send, *a_in = s->act.recv, *g_out = s->grad.send, *g_in = s->grad.recv;
	if (s->handoff) {
		/* First every receiver tells its sender it is ready (a 4-byte message back along
		 * the chain), then the handoff: the receiver waits when the sender posts, as in a
		 * pipeline whose consumer is ahead, and the barrier's exit order stays out of it.
		 */
		rc = c->be->sendrecv(c, s->ready.send, prev, s->ready.recv, next, READY);
		if (rc == 0)
			rc = sb_comm_sync(c);
		if (rc == 0 && (rc = xfer(x, pt, a_out, next, 0, 0, a_in, prev, 0, 0)) == 0 &&
		    x->timed && !s->checking &&
		    (rc = sb_series_add(&s->ser[S_POST], s->t_post)) == 0)
			rc = sb_series_add(&s->ser[S_DONE], s->t_done);
		return rc;
	}

	double t0 = sb_comm_now(c), busy[2] = {0, 0}; /* forward, backward compute */
	int fm = 0, bm = 0; /* forward / backward micro-batches done */
	/* The transfers of the schedules, in Megatron's names; each checks rc first. */
#define RECV_FWD() (rc ? rc : xfer(x, pt, NULL, SB_NO_PEER, 0, 0, a_in, prev, fm, 0))
#define SEND_FWD() (rc ? rc : xfer(x, pt, a_out, next, fm - 1, 0, NULL, SB_NO_PEER, 0, 0))
#define RECV_BWD() (rc ? rc : xfer(x, pt, NULL, SB_NO_PEER, 0, 1, g_in, next, bm, 1))
#define SEND_BWD() (rc ? rc : xfer(x, pt, g_out, prev, bm - 1, 1, NULL, SB_NO_PEER, 0, 1))
#define FWD() (rc ? rc : (fm++, work(x, 0, busy)))
#define BWD() (rc ? rc : (bm++, work(x, 1, busy)))
	if (s->gpipe || !s->training) {
		/* GPipe (and any forward-only schedule): all forwards, then all backwards. */
		for (int m = 0; m < M && rc == 0; m++) {
			rc = RECV_FWD();
			rc = FWD();
			rc = SEND_FWD();
		}
		for (int m = 0; m < M && s->training && rc == 0; m++) {
			rc = RECV_BWD();
			rc = BWD();
			rc = SEND_BWD();
		}
	} else {
		/* 1F1B, Megatron's non-interleaved order: P-r-1 warm-up forwards, then a forward
		 * and a backward in turn, then the remaining backwards. In the steady phase the
		 * transfers are paired (send forward / receive backward with the next stage, send
		 * backward / receive forward with the previous one) as Megatron batches them:
		 * two blocking sends facing each other would deadlock. */
		int warm = P - r - 1 < M ? P - r - 1 : M, steady = M - warm;
		for (int i = 0; i < warm && rc == 0; i++) {
			rc = RECV_FWD();
			rc = FWD();
			rc = SEND_FWD();
		}
		if (steady > 0)
			rc = RECV_FWD();
		for (int i = 0; i < steady && rc == 0; i++) {
			rc = FWD();
			if (rc == 0)
				rc = xfer(x, pt, a_out, next, fm - 1, 0, g_in, next, bm, 1);
			rc = BWD();
			if (rc == 0 && i == steady - 1)
				rc = SEND_BWD();
			else if (rc == 0)
				rc = xfer(x, pt, g_out, prev, bm - 1, 1, a_in, prev, fm, 0);
		}
		for (int i = 0; i < warm && rc == 0; i++) {
			rc = RECV_BWD();
			rc = BWD();
			rc = SEND_BWD();
		}
	}
#undef RECV_FWD
#undef SEND_FWD
#undef RECV_BWD
#undef SEND_BWD
#undef FWD
#undef BWD
	if (rc == 0 && x->timed && !s->checking)
		rc = record_step(s, busy, sb_comm_now(c) - t0);
	return rc;
}

static int pipeline_check(struct sb_ctx *x, const struct sb_point *pt, unsigned iter, size_t *wrong)
{
	struct pipe *s = x->state;
	s->checking = 1;
	s->step_id = iter;
	s->wrong = 0;
	int rc = pipeline_step(x, pt);
	s->checking = 0;
	*wrong = s->wrong;
	return rc;
}

/* k of this point's series of every rank at rank 0, as the driver gathered them
 * (x->gathered): there v[r * k + j] is rank r's values of series idx[j] (n[r * k + j] of
 * them), views into the gathered pools; NULL elsewhere. Free with free_sets. */
struct sets {
	const double **v;
	size_t *n;
};

static void free_sets(struct sets *g)
{
	free(g->v);
	free(g->n);
	memset(g, 0, sizeof *g);
}

static int sets_of(const struct sb_ctx *x, int k, const int *idx, struct sets *g)
{
	memset(g, 0, sizeof *g);
	if (!x->gathered)
		return 0;
	int R = x->gathered[0].nranks;
	g->v = calloc((size_t)R * (size_t)k, sizeof *g->v);
	g->n = calloc((size_t)R * (size_t)k, sizeof *g->n);
	if (!g->v || !g->n) {
		free_sets(g);
		return SB_ENOMEM;
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < k; j++) {
			const struct sb_series_all *a = &x->gathered[idx[j]];
			g->v[r * k + j] = a->pool + a->off[r];
			g->n[r * k + j] = a->n[r];
		}
	return 0;
}

/* Nearest-rank percentile of v (sorted in place). */
static double pct(double *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	sb_stats_sort(v, n);
	return sb_stats_percentile(v, n, p);
}

/* Append n values to a pool (rank 0). */
static int pool_add(double **pool, size_t *n, size_t *cap, const double *v, size_t k)
{
	if (*n + k > *cap) {
		size_t nc = *cap ? *cap : 256;
		while (*n + k > nc)
			nc *= 2;
		double *p = realloc(*pool, nc * sizeof *p);
		if (!p)
			return SB_ENOMEM;
		*pool = p;
		*cap = nc;
	}
	if (k)
		memcpy(*pool + *n, v, k * sizeof *v);
	*n += k;
	return 0;
}

static void set_num(json_t *o, const char *key, double v)
{
	if (isfinite(v))
		json_object_set_new(o, key, json_real(v));
}

/* The isolated handoff from rank snd to rank rcv in each timed iteration: from the moment both
 * sides had posted (the later of the two posts) to the completion on the receiver, with the
 * sender's clock brought onto the receiver's by the measured offset. Posting order varies with the
 * barrier's exit skew; counting from the later post keeps that skew out, as a ping-pong's
 * half round trip does. */
static size_t handoff_lat(const struct sets *g, int snd, int rcv, double off, double *lat)
{
	const double *sp = g->v[snd * 2 + 0], *rp = g->v[rcv * 2 + 0], *rd = g->v[rcv * 2 + 1];
	size_t n = g->n[snd * 2 + 0];
	if (g->n[rcv * 2 + 0] < n)
		n = g->n[rcv * 2 + 0];
	if (g->n[rcv * 2 + 1] < n)
		n = g->n[rcv * 2 + 1];
	for (size_t i = 0; i < n; i++) {
		double start = sp[i] - off > rp[i] ? sp[i] - off : rp[i];
		lat[i] = rd[i] - start;
	}
	return n;
}

/* The pair class boundary b -> b+1 crosses: the widest of its K rank pairs (rank 0, from
 * where the ranks sit; NULL where that is unknown). */
static const char *boundary_span(const struct sb_ctx *x, int b)
{
	const struct pipe *s = x->state;
	const struct sb_topo *t = x->topo;
	if (!t || t->nranks < (b + 2) * s->K)
		return NULL;
	enum sb_pair w = SB_PAIR_SAME_CORE;
	for (int j = 0; j < s->K; j++) {
		enum sb_pair q =
		    sb_topo_pair(&t->ranks[b * s->K + j], &t->ranks[(b + 1) * s->K + j]);
		w = q > w ? q : w;
	}
	return sb_pair_name(w);
}

/* A boundary's record: from, to, the pair class, then its figures. */
static json_t *boundary_new(const struct sb_ctx *x, int b)
{
	json_t *o = json_pack("{s:i,s:i}", "from", b, "to", b + 1);
	const char *span = boundary_span(x, b);
	if (o && span)
		json_object_set_new(o, "span", json_string(span));
	return o;
}

static int handoff_metrics(struct sb_ctx *x, const struct sb_point *pt, struct sb_metric *m)
{
	struct pipe *s = x->state;
	struct sb_comm *c = x->comm;
	int P = s->P, K = s->K, rc = 0;
	double off = 0, err = 0;
	if ((rc = sb_ctl_clock_offset_prev(c, s->K, &s->offset[1], &s->offset_err[1])) == 0) {
		off = 0.5 * (s->offset[0] + s->offset[1]);
		err = 0.5 * (s->offset_err[0] + s->offset_err[1]);
	}
	if (rc)
		return rc;
	/* Every rank's clock offset at rank 0, beside the posts and completions the driver
	 * gathered. */
	struct sb_series os;
	struct sb_series_all oa = {0};
	sb_series_init(&os, "clock_offset", "s");
	static const int idx[2] = {S_POST, S_DONE};
	struct sets g = {0};
	if ((rc = sb_series_add(&os, off)) == 0 && (rc = sb_series_add(&os, err)) == 0 &&
	    (rc = sb_series_gather(c, &os, 1, &oa)) == 0 && c->rank == 0)
		rc = sets_of(x, 2, idx, &g);
	sb_series_free(&os);
	if (rc || c->rank != 0) {
		sb_series_all_free(&oa);
		return rc;
	}
	double *pool = NULL, *lat = NULL;
	size_t np = 0, cap = 0;
	json_t *bl = json_array();
	for (int b = 0; b + 1 < P && rc == 0; b++) {
		/* The boundary's K pairs (one per lane), pooled; its clock offset the largest, with
		 * that pair's bound on the error. */
		size_t k = 0, most = 0;
		double o = 0, oe = 0;
		for (int j = 0; j < K; j++)
			most += g.n[(b * K + j) * 2];
		free(lat);
		if (!(lat = malloc((most + 1) * sizeof *lat))) {
			rc = SB_ENOMEM;
			break;
		}
		for (int j = 0; j < K; j++) {
			int snd = b * K + j, rcv = snd + K;
			double oj = oa.n[rcv] ? oa.pool[oa.off[rcv]] : 0,
			       ej = oa.n[rcv] > 1 ? oa.pool[oa.off[rcv] + 1] : 0;
			if (j == 0 || fabs(oj) > fabs(o))
				o = oj, oe = ej;
			k += handoff_lat(&g, snd, rcv, oj, lat + k);
		}
		rc = pool_add(&pool, &np, &cap, lat, k);
		json_t *bo = boundary_new(x, b);
		double p50 = pct(lat, k, 50);
		set_num(bo, "handoff_p50", p50);
		set_num(bo, "handoff_p99", pct(lat, k, 99));
		set_num(bo, "bandwidth", (double)pt->bytes / p50);
		json_object_set_new(bo, "n", json_integer((json_int_t)k));
		set_num(bo, "clock_offset", o);
		set_num(bo, "clock_offset_error", oe);
		json_array_append_new(bl, bo);
	}
	m[0].value = pct(pool, np, 50);
	m[1].value = pct(pool, np, 99);
	m[2].value = (double)pt->bytes / m[0].value;
	x->detail = json_pack("{s:o}", "boundaries", bl);
	free(lat);
	free(pool);
	free_sets(&g);
	sb_series_all_free(&oa);
	return rc;
}

/* A schedule's handoffs per boundary b -> b+1: the forward receipts of stage b+1 and, in
 * training, the backward receipts of stage b; pooled for the point's own figures. */
static int schedule_handoffs(struct sb_ctx *x, struct sb_metric *m)
{
	struct pipe *s = x->state;
	struct sb_comm *c = x->comm;
	int P = s->P, K = s->K, rc = 0;
	static const int idx[2] = {S_LAT_F, S_LAT_B};
	struct sets g;
	if (c->rank != 0 || (rc = sets_of(x, 2, idx, &g)))
		return c->rank != 0 ? 0 : rc;
	double *pool = NULL;
	size_t np = 0, cap = 0;
	json_t *bl = json_array();
	double *f = NULL, *bw = NULL;
	size_t capf = 0, capb = 0;
	for (int b = 0; b + 1 < P && rc == 0; b++) {
		/* Pooled over the boundary's K lanes. */
		size_t nf = 0, nb = 0;
		for (int j = 0; j < K && rc == 0; j++) {
			int snd = b * K + j, rcv = snd + K;
			if ((rc = pool_add(&f, &nf, &capf, g.v[rcv * 2 + 0], g.n[rcv * 2 + 0])) ==
			    0)
				rc = pool_add(&bw, &nb, &capb, g.v[snd * 2 + 1], g.n[snd * 2 + 1]);
		}
		if (rc == 0 && (rc = pool_add(&pool, &np, &cap, f, nf)) == 0)
			rc = pool_add(&pool, &np, &cap, bw, nb);
		json_t *bo = boundary_new(x, b);
		set_num(bo, "handoff_p50", pct(f, nf, 50));
		set_num(bo, "handoff_p99", pct(f, nf, 99));
		json_object_set_new(bo, "n", json_integer((json_int_t)nf));
		if (s->training) {
			set_num(bo, "backward_p50", pct(bw, nb, 50));
			set_num(bo, "backward_p99", pct(bw, nb, 99));
			json_object_set_new(bo, "backward_n", json_integer((json_int_t)nb));
		}
		json_array_append_new(bl, bo);
	}
	m[0].value = pct(pool, np, 50);
	m[1].value = pct(pool, np, 99);
	x->detail = json_pack("{s:o}", "boundaries", bl);
	free(pool);
	free(f);
	free(bw);
	free_sets(&g);
	return rc;
}

/* Per step i of the point, from every stage's record at rank 0: the step's time T_i (the
 * slowest rank's), each rank's idle share (T_i - busy) / T_i, and the compute critical path
 * C_i, the schedule played with each stage's mean forward and backward of that step and no
 * communication (with K ranks per stage, each lane's chain apart, the slowest lane's). Then
 * bubble = median of the idle shares over ranks and steps, exposed = median over steps of
 * T_i - C_i. Step by step, since compute times are not constant: on a shared core a GEMM is
 * slower while the other stage computes too, and a preempted step must not shift the others.
 * The compute description (x->detail) gives each stage's median per micro-batch (over its
 * ranks and the steps), the slowest stage's, and the median C_i. */
static int schedule_figures(struct sb_ctx *x, struct sb_metric *m)
{
	struct pipe *s = x->state;
	struct sb_comm *c = x->comm;
	int P = s->P, M = s->M, K = s->K, R = P * K, rc = 0;
	static const int idx[3] = {S_BUSY, S_FBUSY, S_WALL};
	struct sets g;
	if (c->rank != 0 || (rc = sets_of(x, 3, idx, &g)))
		return c->rank != 0 ? 0 : rc;
	size_t ns = SIZE_MAX;
	for (int r = 0; r < R; r++)
		for (int j = 0; j < 3; j++)
			ns = g.n[r * 3 + j] < ns ? g.n[r * 3 + j] : ns;
	size_t nr = (size_t)R, nsafe = ns ? ns : 1;
	/* sf, sb: per rank and step (rank-major), a micro-batch's forward and backward. */
	double *f = malloc((size_t)P * sizeof *f), *b = malloc((size_t)P * sizeof *b),
	       *idle = malloc(nr * nsafe * sizeof *idle), *crit = malloc(nsafe * sizeof *crit),
	       *expo = malloc(nsafe * sizeof *expo), *sf = malloc(nr * nsafe * sizeof *sf),
	       *sb = malloc(nr * nsafe * sizeof *sb);
	if (!f || !b || !idle || !crit || !expo || !sf || !sb) {
		rc = SB_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ns; i++) {
		double t = 0;
		for (int r = 0; r < R; r++)
			t = g.v[r * 3 + 2][i] > t ? g.v[r * 3 + 2][i] : t;
		for (int r = 0; r < R; r++) {
			double busy = g.v[r * 3 + 0][i], fwd = g.v[r * 3 + 1][i];
			idle[(size_t)r * ns + i] = t > 0 ? (t - busy) / t : NAN;
			sf[(size_t)r * ns + i] = fwd / M;
			sb[(size_t)r * ns + i] = s->training ? (busy - fwd) / M : 0;
		}
		crit[i] = 0;
		for (int j = 0; j < K; j++) {
			for (int st = 0; st < P; st++) {
				f[st] = sf[(size_t)(st * K + j) * ns + i];
				b[st] = sb[(size_t)(st * K + j) * ns + i];
			}
			double cj =
			    sb_pipeline_makespan(P, M, s->gpipe || !s->training, s->training, f, b);
			crit[i] = j == 0 || cj > crit[i] || isnan(cj) ? cj : crit[i];
		}
		expo[i] = t - crit[i];
	}
	m[3].value = pct(idle, nr * ns, 50);
	m[5].value = pct(expo, ns, 50);
	json_t *o = json_pack("{s:s,s:s}", "kind", s->gemm ? "gemm" : "spin", "on",
	                      gpu_stream(c) ? "gpu" : "cpu");
	json_t *sts = json_array();
	double fmax = 0, bmax = 0;
	for (int st = 0; st < P; st++) {
		/* A stage's ranks are adjacent: its K x ns values lie together. */
		size_t at = (size_t)st * K * ns, cnt = (size_t)K * ns;
		double fr = pct(sf + at, cnt, 50), br = pct(sb + at, cnt, 50);
		fmax = fr > fmax ? fr : fmax;
		bmax = br > bmax ? br : bmax;
		json_t *e = json_object();
		set_num(e, "forward_s", fr);
		if (s->training)
			set_num(e, "backward_s", br);
		json_array_append_new(sts, e);
	}
	set_num(o, "forward_s", fmax);
	if (s->training)
		set_num(o, "backward_s", bmax);
	set_num(o, "critical_path_s", pct(crit, ns, 50));
	json_object_set_new(o, "stages", sts);
	if (s->gemm) {
		json_object_set_new(o, "library", json_string(sb_gemm_library(&s->g)));
		json_object_set_new(o, "tokens", json_integer((json_int_t)s->g.tokens));
		json_object_set_new(o, "hidden", json_integer((json_int_t)s->g.hidden));
		json_object_set_new(o, "dtype", json_string(sb_gemm_dtype_name(s->g.dtype)));
		set_num(o, "forward_flops", sb_gemm_flops(&s->g));
		double rate = sb_gemm_flops(&s->g) / fmax;
		set_num(o, "forward_flop_rate", rate);
		if (s->peak > 0) {
			/* The slowest stage's forward (host clock: launch and wait included)
			 * against cuBLAS's best on one large square GEMM of the same type. */
			set_num(o, "peak_flop_rate", s->peak);
			json_object_set_new(o, "peak_gemm_n", json_integer(s->peak_n));
			set_num(o, "peak_fraction", rate / s->peak);
		}
	}
	if (!x->detail)
		x->detail = json_object();
	json_object_set_new(x->detail, "compute", o);
out:
	free(f);
	free(b);
	free(idle);
	free(crit);
	free(expo);
	free(sf);
	free(sb);
	free_sets(&g);
	return rc;
}

/* The figures, in the table's order, filled by the helpers above by index. */
static int pipeline_metrics(struct sb_ctx *x, const struct sb_point *pt,
                            const struct sb_summary *sum, struct sb_metrics *out)
{
	struct pipe *s = x->state;
	static const char *const names[] = {"handoff_p50",    "handoff_p99",  "bandwidth",
	                                    "bubble",         "bubble_ideal", "exposed",
	                                    "microbatch_rate"};
	static const char *const units[] = {"s", "s", "B/s", "1", "1", "s", "1/s"};
	enum { K = sizeof names / sizeof *names };
	struct sb_metric m[K];
	for (size_t i = 0; i < K; i++)
		m[i] = (struct sb_metric){names[i], units[i], NAN};
	int rc = 0;
	if (!s) {
		/* asked for the names only (the table's header) */
	} else if (s->handoff) {
		/* The isolated handoff: every boundary at once; the step is one handoff. Its
		 * latency is taken per boundary from both sides' clocks (handoff_lat). */
		rc = handoff_metrics(x, pt, m);
	} else {
		int P = s->P, M = s->M;
		double step = sum->median;
		double handoffs = (double)(P - 1) * s->K * M * (s->training ? 2 : 1);
		m[2].value = handoffs * (double)pt->bytes / step;
		m[4].value = (double)(P - 1) / (M + P - 1);
		m[6].value = M / step;
		/* From the series the driver gathered (rank 0); a fault is the point's. */
		if ((rc = schedule_handoffs(x, m)) == 0)
			rc = schedule_figures(x, m);
	}
	for (size_t i = 0; i < K && rc == 0; i++)
		rc = sb_metric_add(out, m[i].name, m[i].unit, m[i].value);
	return rc;
}

/* Under a row of more than one boundary: each boundary's figures (the table_extra hook). */
static void pipeline_table_extra(FILE *f, const json_t *rec)
{
	const json_t *bl = json_object_get(rec, "boundaries");
	if (json_array_size(bl) < 2)
		return;
	static const struct {
		const char *key, *unit;
		double scale;
	} cols[] = {
	    {"handoff_p50", "us", 1e6},
	    {"handoff_p99", "us", 1e6},
	    {"bandwidth", "GB/s", 1e-9},
	    {"n", "", 1},
	    {"backward_p50", "us", 1e6},
	    {"backward_p99", "us", 1e6},
	    {"backward_n", "", 1},
	    {"clock_offset", "us", 1e6},
	    {"clock_offset_error", "us", 1e6},
	};
	size_t i;
	const json_t *bo;
	json_array_foreach(bl, i, bo)
	{
		const char *span = json_string_value(json_object_get(bo, "span"));
		fprintf(f, "#   boundary %zu->%zu %-12s", i, i + 1, span ? span : "?");
		for (size_t k = 0; k < sizeof cols / sizeof *cols; k++) {
			const json_t *v = json_object_get(bo, cols[k].key);
			if (json_is_number(v))
				fprintf(f, " %s %.*f%s%s", cols[k].key, *cols[k].unit ? 3 : 0,
				        json_number_value(v) * cols[k].scale,
				        *cols[k].unit ? " " : "", cols[k].unit);
		}
		fputc('\n', f);
	}
	fflush(f);
}

/* Data-path memory of a rank at pt: the activation's send and receive buffers (the gradient's
 * too in training) and, with gemm compute, the GEMM's operands: X, Y, dY and dX of the
 * activation's size, W and dW of hidden^2 elements. On device backends these are all device
 * memory; the reference GEMM of the peak measurement shrinks itself to what is left. */
static size_t pipeline_mem_need(struct sb_ctx *x, const struct sb_point *pt)
{
	struct pipe *s = x->state;
	double b = (double)pt->bytes, n = 2 * b;
	if (!s->handoff && s->training)
		n += 2 * b;
	if (!s->handoff && s->gemm)
		n += 4 * b + 2 * (double)s->hidden * (double)s->hidden *
		                 (double)sb_gemm_dtype_size(s->dtype);
	return n >= (double)SIZE_MAX ? SIZE_MAX : (size_t)n;
}

static void pipeline_teardown(struct sb_ctx *x)
{
	struct pipe *s = x->state;
	if (!s)
		return;
	sb_bufs_release(x->comm, &s->act);
	sb_bufs_release(x->comm, &s->grad);
	sb_bufs_release(x->comm, &s->ready);
	sb_gemm_free(&s->g);
	for (int j = 0; j < S_COUNT; j++)
		sb_series_free(&s->ser[j]);
	free(s);
	x->state = NULL;
}

/* The table's leading columns: what a point is. */
static const struct sb_column pipeline_columns[] = {
    {"size(B)", "bytes", -10, NULL, NULL}, {"stages", "stages", 6, NULL, NULL},
    {"M", "microbatches", 4, NULL, NULL},  {"schedule", "schedule", 8, NULL, NULL},
    {"train", "training", 5, "yes", "no"}, {NULL, NULL, 0, NULL, NULL},
};

const struct sb_bench sb_bench_pipeline = {
    .name = "pipeline",
    .summary = "pipeline stage handoff, isolated or inside a GPipe / 1F1B schedule",
    .min_ranks = 2,
    .flags = SB_BENCH_CAN_CHECK | SB_BENCH_SELF_TIMED,
    .opts = pipeline_opts,
    .iters_opt = "steps",
    .columns = pipeline_columns,
    .validate = pipeline_validate,
    .setup = pipeline_setup,
    .points = pipeline_points,
    .prepare = pipeline_prepare,
    .step = pipeline_step,
    .check = pipeline_check,
    .metrics = pipeline_metrics,
    .table_extra = pipeline_table_extra,
    .teardown = pipeline_teardown,
    .mem_need = pipeline_mem_need,
};
