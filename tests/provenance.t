#!/usr/bin/env bash
# What a run file may hold (results/README.md, provenance): scalebench under mpirun with hostile
# variables in its environment, and the run record's provenance.env checked with jq: tuning
# variables kept as set, mpirun's wiring, the job's identity, rank 0's own place and anything
# outside the tuning prefixes dropped, credentials and endpoints redacted; and no secret's value
# anywhere in the run file.
. "$(dirname "$0")/lib.sh"

command -v "${MPIRUN:-mpirun}" >/dev/null || skip_all "no mpirun"
command -v jq >/dev/null || skip_all "no jq"
[ -x "$SB" ] || skip_all "no $SB (set SB_BUILD)"
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-120}

plan 31

fake_key=5856cee288a7e40e-24d4024b93d56859
token=ghp_Zq81xT0pLm4Vb7Ck2Nw9Hs5Yd3Rf6Ju0Ae1
# SLURM_JOBID (the old name) is left out: OpenMPI's mpirun takes it for a Slurm allocation.
# tests/slurm.t sees it dropped under a real Slurm.
hostile=(
	"OMPI_MCA_orte_precondition_transports=$fake_key"
	OMPI_MCA_orte_hnp_uri="1.0;tcp://192.0.2.9:4711"
	PMIX_SERVER_URI4="pmix-server.1;tcp4://127.0.0.1:4712"
	OMPI_COMM_WORLD_RANK=7
	NCCL_DEBUG=INFO
	"NCCL_IB_HCA=mlx5_0:1,mlx5_1:1"
	NCCL_COMM_ID=10.1.2.3:5555
	"OMPI_MCA_btl=self,vader"
	OMPI_MCA_coll_tuned_use_dynamic_rules=1
	OMPI_MCA_btl_tcp_if_include=10.0.0.0/8
	"UCX_TLS=rc_x,sm,self"
	UCX_SOCKADDR_PEER="tcp://198.51.100.7:13337"
	CUDA_VISIBLE_DEVICES=GPU-8e6f0f6a-1c2d-4e5f-9abc-def012345678
	"MY_API_TOKEN=$token"
	"SB_NOTE=$token"
	SB_API_KEY=short
	SB_MASK=0x00000000000000000000ff
	SB_SEED_HEX=5856cee288a7e40e
	SLURM_NTASKS=2
	SLURM_TASKS_PER_NODE=2
	SLURM_JOB_PARTITION=gpu
	SLURM_JOB_ID=4242
	SLURM_ARRAY_JOB_ID=4241
	SLURM_JOB_USER=alice
	SLURM_PROCID=0
	SLURM_SRUN_COMM_HOST=192.0.2.10
	SLURM_WORKING_CLUSTER=c1:192.0.2.11:6817:9728:109
)
# An MCA parameter given on mpirun's command line reaches the ranks as OMPI_MCA_mpi_leave_pinned.
env "${hostile[@]}" SB_MPIRUN_FLAGS="--mca mpi_leave_pinned 0" \
	"$TOP/scripts/mpirun" 2 "$SB" allreduce -b 4 -e 4 --max-time 0.05 --out "$TMP/runs" -q \
	>"$TMP/out" 2>"$TMP/err"
rc=$?
is "$rc" 0 "scalebench ran under mpirun with hostile variables set"
[ "$rc" = 0 ] || diag "$(tail -20 "$TMP/err")"
f=$(runfile_in "$TMP/runs") || {
	skip 30 "no run file"
	done_testing
}
env_json=$(head -1 "$f" | jq -c '.provenance.env')
val() { jq -r --arg k "$1" 'if has($k) then .[$k] else "(absent)" end' <<<"$env_json"; }

# Kept as set: what explains a result.
is "$(val NCCL_DEBUG)" INFO "NCCL_DEBUG kept"
is "$(val NCCL_IB_HCA)" mlx5_0:1,mlx5_1:1 "a device:port list is not an endpoint: kept"
is "$(val OMPI_MCA_btl)" self,vader "OMPI_MCA_btl the user set: kept"
is "$(val OMPI_MCA_coll_tuned_use_dynamic_rules)" 1 "OMPI_MCA_coll_tuned_*: kept"
is "$(val OMPI_MCA_mpi_leave_pinned)" 0 "an --mca given to mpirun: kept"
is "$(val OMPI_MCA_btl_tcp_if_include)" 10.0.0.0/8 "a subnet choosing the network: kept"
is "$(val UCX_TLS)" rc_x,sm,self "UCX_TLS kept"
is "$(val CUDA_VISIBLE_DEVICES)" GPU-8e6f0f6a-1c2d-4e5f-9abc-def012345678 "a GPU UUID is not a key: kept"
is "$(val SB_MASK)" 0x00000000000000000000ff "a 0x mask is not a key: kept"
is "$(val SLURM_NTASKS)/$(val SLURM_TASKS_PER_NODE)/$(val SLURM_JOB_PARTITION)" 2/2/gpu \
	"the Slurm job's shape: kept"

# Redacted: the name stays, the value does not.
is "$(val NCCL_COMM_ID)" "<redacted>" "NCCL_COMM_ID (the bootstrap's host:port): redacted"
is "$(val UCX_SOCKADDR_PEER)" "<redacted>" "a value holding a URI: redacted"
is "$(val SB_NOTE)" "<redacted>" "a value that looks like a token: redacted"
is "$(val SB_API_KEY)" "<redacted>" "a name that says key: redacted"
is "$(val SB_SEED_HEX)" "<redacted>" "16 hex digits: redacted"

# Dropped: mpirun's wiring, the job's identity, rank 0's own place, and everything else.
is "$(val OMPI_MCA_orte_precondition_transports)" "(absent)" "the transport key: dropped"
is "$(val OMPI_MCA_orte_hnp_uri)" "(absent)" "the daemon's URI: dropped"
is "$(val OMPI_MCA_ess_base_jobid)" "(absent)" "OpenMPI's job id (set by mpirun): dropped"
is "$(jq -r 'keys[] | select(startswith("OMPI_MCA_orte_") or startswith("OMPI_MCA_ess")
	or startswith("OMPI_MCA_pmix"))' <<<"$env_json" | tr '\n' ' ')" "" \
	"no OMPI_MCA_orte_*, ess*, pmix* (set by mpirun)"
is "$(jq -r 'keys[] | select(startswith("OMPI_MCA_") | not) | select(startswith("OMPI_"))' \
	<<<"$env_json" | tr '\n' ' ')" "" "no OMPI_* other than OMPI_MCA_* (COMM_WORLD_*, APP_CTX_*, ...)"
is "$(jq -r 'keys[] | select(startswith("PMIX_") or startswith("PRTE_") or startswith("PMI_"))' \
	<<<"$env_json" | tr '\n' ' ')" "" "no PMIX_*, PRTE_*, PMI_*"
is "$(val MY_API_TOKEN)" "(absent)" "a variable outside the tuning prefixes: dropped"
is "$(val SLURM_JOB_ID)/$(val SLURM_ARRAY_JOB_ID)/$(val SLURM_JOB_USER)" \
	"(absent)/(absent)/(absent)" "the Slurm job's identity and user: dropped"
is "$(val SLURM_PROCID)" "(absent)" "rank 0's own place: dropped"
is "$(val SLURM_SRUN_COMM_HOST)/$(val SLURM_WORKING_CLUSTER)" "(absent)/(absent)" \
	"srun's and slurmctld's addresses: dropped"

# Nowhere in the file: no secret's value, no endpoint, no key.
is "$(grep -c -F -e "$fake_key" -e "$token" -e 198.51.100.7 -e 127.0.0.1:4712 "$f")" 0 \
	"no secret's value anywhere in the run file"
is "$(grep -c -i -e precondition_transports -e hnp_uri -e PMIX_SERVER_URI "$f")" 0 \
	"no internal's name anywhere in the run file"
is "$(jq -r '.[]' <<<"$env_json" | grep -c -E '://|([0-9]{1,3}\.){3}[0-9]{1,3}:[0-9]')" 0 \
	"no kept value holds an endpoint"

# Without mpirun's wiring too: a singleton keeps the same rule (the fake backend, no peers).
env "${hostile[@]}" "$SB" allreduce --backend fake -b 4 -e 4 --out "$TMP/one" -q \
	>/dev/null 2>"$TMP/err1"
f1=$(runfile_in "$TMP/one") || f1=/dev/null # then both fail
is "$(head -1 "$f1" | jq -c '.provenance.env | [.NCCL_DEBUG, .SB_NOTE,
	has("OMPI_MCA_orte_precondition_transports"), has("MY_API_TOKEN"), has("SLURM_JOB_ID")]')" \
	'["INFO","<redacted>",false,false,false]' "a singleton run: the same rule"
is "$(grep -c -e "$fake_key" -e "$token" "$f1")" 0 "a singleton run: no secret's value"

done_testing
