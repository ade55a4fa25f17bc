#!/usr/bin/env bash
# scripts/slurm/ against a real Slurm on this host: a one-node cluster (slurm.conf, state,
# spool and logs under the test's scratch directory; auth/none, so no munge; SlurmUser=root;
# ports of its own), slurmctld and slurmd started in the foreground here, the suite, all-reduce
# and CI perf templates submitted with sbatch (2 tasks, srun --mpi=pmix, small sizes) and their
# run files checked: complete, 2 ranks, local ranks 0 and 1, the job's shape in provenance and
# its identity and srun's wiring not. The daemons are stopped and everything removed at exit.
# Installs nothing (scripts/bootstrap installs slurmctld and slurmd); skips, saying why, where
# the daemons cannot run.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (slurmd runs jobs as root here)"
for c in slurmctld slurmd sbatch srun sinfo squeue scontrol scancel jq; do
	command -v $c >/dev/null || skip_all "no $c (scripts/bootstrap installs slurmctld, slurmd)"
done
[ -x "$SB" ] || skip_all "no $SB (set SB_BUILD)"
[ "$(nproc)" -ge 2 ] || skip_all "needs 2 CPUs for 2 tasks"

S=$TMP/slurm
mkdir -p "$S/state" "$S/spool" "$S/log" "$TMP/work"
daemons=()
cleanup() {
	if [ ${#daemons[@]} -gt 0 ]; then
		scancel --quiet --partition=sbtest 2>/dev/null
		for _ in $(seq 20); do
			[ -z "$(squeue -h -p sbtest 2>/dev/null)" ] && break
			sleep 0.25
		done
		kill "${daemons[@]}" 2>/dev/null
		for _ in $(seq 20); do
			kill -0 "${daemons[@]}" 2>/dev/null || break
			sleep 0.25
		done
		kill -9 "${daemons[@]}" 2>/dev/null
		wait "${daemons[@]}" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# Two free TCP ports for slurmctld and slurmd (none listed in /proc/net/tcp*), below the
# ephemeral range, starting from one derived from the pid so that parallel runs differ.
port_free() { ! grep -qi ":$(printf %04X "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
port=$((20000 + ($$ % 4000) * 2))
until port_free $port && port_free $((port + 1)); do port=$((port + 2)); done

host=$(hostname -s)
mem=$(awk '/^MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
export SLURM_CONF=$S/slurm.conf
: >"$S/plugstack.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=sbtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
PlugStackConfig=$S/plugstack.conf
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=1
NodeName=sb1 NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=sbtest Nodes=sb1 Default=YES MaxTime=10 State=UP
EOF
srun --mpi=list 2>&1 | grep -q pmix || skip_all "Slurm has no PMIx plugin (srun --mpi=list)"

t0=$(date +%s)
slurmctld -D -f "$SLURM_CONF" >"$S/log/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" -N sb1 >"$S/log/slurmd.out" 2>&1 &
daemons+=($!)
state=
for _ in $(seq 120); do
	state=$(sinfo -h -N -n sb1 -o %T 2>/dev/null)
	[ "$state" = idle ] && break
	for p in "${daemons[@]}"; do
		kill -0 "$p" 2>/dev/null || break 2
	done
	sleep 0.25
done
if [ "$state" != idle ]; then
	why=$(cat "$S/log/slurmctld.out" "$S/log/slurmd.out" 2>/dev/null | grep -iE 'error|fatal' |
		tail -2 | tr '\n' ' ' | cut -c1-300)
	skip_all "the Slurm daemons did not bring the node up (state '${state:-none}'): ${why:-no error logged}"
fi
diag "slurmctld and slurmd up, node idle, in $(($(date +%s) - t0)) s (ports $port, $((port + 1)))"

plan 27

# run_job NAME TEMPLATE [ARGS...]: submit from the scratch work directory (sbatch -n 2; the
# checkout and binary from SB_REPO, SB_BIN), wait for the job to leave the queue (at most 150 s),
# and set JOB (its id) and DONE ("STATE EXIT" as scontrol tells them, e.g. COMPLETED 0:0).
run_job() {
	local name=$1 tpl=$2
	shift 2
	local t=$SECONDS
	JOB=$(cd "$TMP/work" && SB_REPO=$TOP SB_BIN=$SB SB_BUILD=$SB_BUILD \
		sbatch --parsable --nodes=1 --ntasks=2 --time=5 "$TOP/scripts/slurm/$tpl" "$@" \
		2>"$TMP/$name.sbatch.err")
	DONE="not submitted: $(head -c 300 "$TMP/$name.sbatch.err")"
	[ -n "$JOB" ] || return
	for _ in $(seq 600); do
		[ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break
		sleep 0.25
	done
	DONE=$(scontrol -o show job "$JOB" 2>/dev/null |
		sed -n 's/.*JobState=\([A-Z_]*\) .*ExitCode=\([0-9:]*\).*/\1 \2/p')
	[ -n "$DONE" ] || DONE="left the queue, state unknown"
	diag "$name: job $JOB $DONE in $((SECONDS - t)) s from sbatch to the end ($(scontrol -o show \
		job "$JOB" 2>/dev/null | grep -o 'RunTime=[^ ]*'))"
	if [ "$DONE" != "COMPLETED 0:0" ]; then
		scancel "$JOB" 2>/dev/null
		diag "$(tail -15 "$TMP/work/sb-$name-$JOB.out" 2>/dev/null)"
	fi
}

# The suite, small: the run file is checked in full.
run_job suite suite.sbatch -b 1K -e 4K -f 4 --max-time 0.1 --timeout 60
is "$DONE" "COMPLETED 0:0" "suite.sbatch: the job completed, exit 0"
is "$(grep -c '^# job .* 2 tasks, 0 GPU(s) a node, backend mpi, srun --mpi=pmix' \
	"$TMP/work/sb-suite-$JOB.out" 2>/dev/null)" 1 "its output names the shape and the backend"
f=$(runfile_in "$TMP/work/runs") || f=/dev/null
ok $? "one run file under ./runs of the job's working directory"
run=$(head -1 "$f")
env_json=$(jq -c '.provenance.env' <<<"$run")
val() { jq -r --arg k "$1" 'if has($k) then .[$k] else "(absent)" end' <<<"$env_json"; }
is "$(tail -1 "$f" | jq -r '.type + " " + .status')" "end ok" "the run file is complete: end, ok"
is "$(jq -r '.command' <<<"$run")" suite "the suite ran"
is "$(jq -r 'select(.type == "point") | .benchmark' "$f" | sort -u | tr '\n' ' ')" \
	"allreduce infer pipeline " "every benchmark of the suite has points"
is "$(jq -r '.provenance.ranks' <<<"$run") $(jq -r '.provenance.rank_hosts | length' <<<"$run")" \
	"2 2" "2 ranks, from srun's 2 tasks"
is "$(jq -r '[.topology.ranks[] | "\(.local_rank)/\(.local_size)"] | join(" ")' <<<"$run")" \
	"0/2 1/2" "local ranks 0 and 1 (SLURM_LOCALID; the GPU backends pick their GPU by it)"
is "$(jq -r '.options.backend + " " + .options.bind' <<<"$run")" "mpi auto" \
	"backend mpi (no GPUs in the job), --bind auto"
is "$(val SLURM_NTASKS)/$(val SLURM_NNODES)/$(val SLURM_TASKS_PER_NODE)" 2/1/2 \
	"provenance: the job's shape (SLURM_NTASKS, SLURM_NNODES, SLURM_TASKS_PER_NODE)"
is "$(val SLURM_JOB_PARTITION)/$(val SLURM_CLUSTER_NAME)/$(val SLURM_MPI_TYPE)" \
	sbtest/sbtest/pmix "provenance: partition, cluster, srun's MPI plugin"
is "$(val SLURM_JOB_ID)/$(val SLURM_JOBID)/$(val SLURM_STEP_ID)/$(val SLURM_JOB_USER)" \
	"(absent)/(absent)/(absent)/(absent)" "provenance: no job id, step id or user"
is "$(val SLURM_PROCID)/$(val SLURM_LOCALID)/$(val SLURM_NODEID)" "(absent)/(absent)/(absent)" \
	"provenance: not rank 0's own place"
is "$(jq -r 'keys[] | select(test("^SLURM_(SRUN_COMM|LAUNCH_NODE|STEP_LAUNCHER|PMIX|WORKING|CONF|SUBMIT)"))' \
	<<<"$env_json" | tr '\n' ' ')" "" "provenance: no srun or slurmctld address, port or path"
is "$(jq -r 'keys[] | select(startswith("PMIX_") or startswith("OMPI_MCA_orte_")
	or (startswith("OMPI_") and (startswith("OMPI_MCA_") | not)))' <<<"$env_json" |
	tr '\n' ' ')" "" "provenance: none of PMIx's or OpenMPI's wiring"
is "$(jq -r '.[]' <<<"$env_json" | grep -c -E '://|([0-9]{1,3}\.){3}[0-9]{1,3}:[0-9]')" 0 \
	"provenance: no value holds an endpoint"

# The all-reduce sweep: the arguments given to sbatch override the template's sizes.
run_job allreduce allreduce.sbatch -b 4 -e 64 --max-time 0.05 --timeout 60
is "$DONE" "COMPLETED 0:0" "allreduce.sbatch: the job completed, exit 0"
fa=$(printf '%s\n' "$TMP"/work/runs/allreduce-*.jsonl | head -1)
is "$(tail -1 "${fa:-/dev/null}" | jq -r '.status')" ok "its run file is complete"
is "$(jq -r 'select(.type == "point") | .params.bytes' "${fa:-/dev/null}" | sort -n | sed -n '1p;$p' |
	tr '\n' ' ')" "4 64 " "sizes 4 to 64 B: sbatch's arguments win over the template's"
is "$(head -1 "${fa:-/dev/null}" | jq -r '.provenance.ranks')" 2 "2 ranks"

# The CI perf gate: the first run starts the history; the command replaced by sbatch's arguments.
run_job ci-perf ci-perf.sbatch allreduce -b 4 -e 64 --max-time 0.05 --timeout 60
is "$DONE" "COMPLETED 0:0" "ci-perf.sbatch: the job completed, verdict 0"
fc=$(runfile_in "$TMP/work/runs/ci-perf") || fc=/dev/null
is "$(tail -1 "$fc" | jq -r '.status') $(head -1 "$fc" | jq -r '.provenance.ranks')" "ok 2" \
	"one complete run file of 2 ranks under ./runs/ci-perf"
ok "$([ -s "$TMP/work/runs/history.sqlite" ] && [ -s "$TMP/work/runs/ci-perf.md" ]; echo $?)" \
	"the history and the summary under ./runs"
is "$(grep -c 'no regression' "$TMP/work/sb-ci-perf-$JOB.out" 2>/dev/null)" 1 \
	"its output gives the verdict"
is "$(find "$TOP/runs/ci-perf" -newer "$SLURM_CONF" -name '*.jsonl' 2>/dev/null | wc -l)" 0 \
	"nothing written into the checkout's runs/"

# Outside a Slurm job the templates refuse, saying how to submit them.
(cd "$TMP/work" && env -u SLURM_JOB_ID SB_REPO="$TOP" bash "$TOP/scripts/slurm/suite.sbatch" \
	>/dev/null 2>"$TMP/nojob.err")
is "$? $(grep -c 'submit this with sbatch' "$TMP/nojob.err")" "2 1" \
	"a template run outside Slurm: exit 2, one message"
is "$(SB_REPO=$TOP "$TOP/scripts/slurm/srun-np" --version | cut -d' ' -f1)" slurm-wlm \
	"srun-np --version answers as srun (scripts/mpirun asks)"

done_testing
