#!/usr/bin/env bash
# The GPU backends. Without a usable GPU (CI, this project's machines): asking for one is bad
# input with one clear message. With one: all-reduce and sendrecv on nccl and mpi-gpu, checked.
. "$(dirname "$0")/lib.sh"
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-300}
ngpu=$("$SB" list | sed -n 's/^GPUs: \([0-9]*\) .*/\1/p')

if [ -z "$ngpu" ]; then
	plan 8
	for be in nccl mpi-gpu; do
		for np in 1 2; do
			sbrun "$np" allreduce --backend "$be" -e 64 --out "$TMP/x" >/dev/null 2>"$TMP/err"
			is "$? $(grep -c '^scalebench: error' "$TMP/err")" "2 1" \
				"--backend $be without a GPU, $np rank(s): exit 2, one message"
		done
	done
	"$SB" allreduce -G -e 64 --out "$TMP/x" >/dev/null 2>"$TMP/err"
	is "$? $(grep -c 'needs the nccl backend' "$TMP/err")" "2 1" "-G on the mpi backend: exit 2"
	"$SB" list | grep -Eq '^  nccl .*(unavailable|not compiled)'
	ok $? "list says why nccl cannot run here"
	"$SB" list | grep -Eq '^  mpi-gpu .*(unavailable|not compiled)'
	ok $? "list says why mpi-gpu cannot run here"
	ls "$TMP/x" 2>/dev/null | grep -q . && r=1 || r=0
	is "$r" 0 "and no run file was written"
	done_testing
fi

# A GPU machine: one rank per GPU for NCCL (at most 2 here), 2 ranks (sharing if need be) for
# mpi-gpu, checks on, results exact.
plan 11
np=$((ngpu >= 2 ? 2 : 1))
check_run() { # check_run DIR DESCRIPTION
	local f
	f=$(runfile_in "$1")
	is "$(jq -r 'select(.type == "point") | .check.status' "$f" | sort -u)" ok "$2: every check passed"
	is "$(jq -r 'select(.type == "end") | .status' "$f")" ok "$2: the run ended ok"
}
sbrun "$np" allreduce --backend nccl -b 8 -e 64M -c 2 --max-time 0.5 --out "$TMP/n" >/dev/null
is $? 0 "nccl all-reduce on $np rank(s): exit 0"
check_run "$TMP/n" "nccl all-reduce"
jq -s -e '[.[] | select(.type == "point") | (.samples_device | length) > 0] | all' \
	"$(runfile_in "$TMP/n")" >/dev/null
ok $? "CUDA-event times are recorded beside the host clock"
sbrun "$np" allreduce --backend nccl -G -b 8 -e 1M -c 1 --max-time 0.3 --out "$TMP/g" >/dev/null
is $? 0 "nccl with -G (CUDA graphs): exit 0"
check_run "$TMP/g" "nccl -G"
sbrun 2 allreduce --backend mpi-gpu -b 8 -e 16M -c 2 --max-time 0.3 --out "$TMP/m" >/dev/null
is $? 0 "mpi-gpu all-reduce on 2 ranks: exit 0"
check_run "$TMP/m" "mpi-gpu all-reduce"
jq -r 'select(.type == "point") | .method.data_path' "$(runfile_in "$TMP/m")" | sort -u |
	grep -Eq "staged|CUDA-aware"
ok $? "every mpi-gpu record says whether it was staged"
done_testing
