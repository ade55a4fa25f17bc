# shellcheck shell=bash
# Sourced by the sbatch templates in scripts/slurm/ at the start of a job: finds the checkout and
# the binary, picks the backend, checks the job's shape, makes ./runs. Reads (all optional):
#   SB_REPO      the scalebench checkout (default: the directory sbatch was run from)
#   SB_BIN       the scalebench binary (default: $SB_REPO/build/scalebench)
#   SB_BACKEND   how bytes move (default: nccl when Slurm gave the job GPUs, mpi otherwise)
#   SB_BIND      scalebench's --bind (default: auto, cores near each rank's GPU)
#   SB_SRUN_MPI  srun's --mpi plugin (default: pmix, the one Debian's OpenMPI can use)
# Every rank picks its GPU by local rank (the MPI shared-memory split, which is SLURM_LOCALID
# under srun), so every task of a node must see all of the node's GPUs: the templates pass srun
# --gpu-bind=none and expect one task per GPU (--ntasks-per-node=N --gpus-per-node=N).
if [ -z "${SLURM_JOB_ID:-}" ]; then
	echo "scalebench: error: submit this with sbatch (see scripts/slurm/README.md)" >&2
	exit 2
fi
SB_REPO=${SB_REPO:-${SLURM_SUBMIT_DIR:-$PWD}}
SB_BIN=${SB_BIN:-$SB_REPO/build/scalebench}
if [ ! -x "$SB_BIN" ]; then
	echo "scalebench: error: no binary at $SB_BIN (build it with scripts/build, or set SB_BIN)" >&2
	exit 2
fi
gpus=${SLURM_GPUS_ON_NODE:-0}
if [ -z "${SB_BACKEND:-}" ]; then
	SB_BACKEND=mpi
	[ "$gpus" -gt 0 ] 2>/dev/null && SB_BACKEND=nccl
fi
SB_BIND=${SB_BIND:-auto}
SB_SRUN_MPI=${SB_SRUN_MPI:-pmix}
# Tasks on the first node: SLURM_TASKS_PER_NODE reads like "4(x2)" or "4,2".
tpn=${SLURM_TASKS_PER_NODE:-1}
tpn=${tpn%%(*}
tpn=${tpn%%,*}
if [ "$gpus" -gt 0 ] 2>/dev/null && [ "$tpn" != "$gpus" ]; then
	echo "scalebench: warning: $tpn tasks for $gpus GPUs on a node; one task per GPU is expected" \
		"(sbatch --ntasks-per-node=$gpus --gpus-per-node=$gpus)" >&2
fi
mkdir -p runs
echo "# job $SLURM_JOB_ID ($SLURM_JOB_NAME): ${SLURM_NNODES:-1} node(s), ${SLURM_NTASKS:-1} tasks," \
	"$gpus GPU(s) a node, backend $SB_BACKEND, srun --mpi=$SB_SRUN_MPI; run files in $PWD/runs"
export SB_SRUN_MPI # for srun-np
