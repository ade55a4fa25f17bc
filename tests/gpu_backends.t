#!/usr/bin/env bash
# The GPU backends. Without a usable GPU (CI, this project's machines): asking for one is bad
# input with one clear message. With one: all-reduce and sendrecv on nccl and mpi-gpu, checked.
. "$(dirname "$0")/lib.sh"
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-300}
ngpu=$("$SB" list | sed -n 's/^GPUs: \([0-9]*\) .*/\1/p')

if [ -z "$ngpu" ]; then
	plan 10
	for be in nccl mpi-gpu; do
		for np in 1 2; do
			sbrun "$np" allreduce --backend "$be" -e 64 --out "$TMP/x" >/dev/null 2>"$TMP/err"
			is "$? $(grep -c '^scalebench: error' "$TMP/err")" "2 1" \
				"--backend $be without a GPU, $np rank(s): exit 2, one message"
		done
	done
	for be in nccl mpi-gpu; do
		sbrun 2 pipeline --backend "$be" --bytes 64K --out "$TMP/x" >/dev/null 2>"$TMP/err"
		is "$? $(grep -c '^scalebench: error' "$TMP/err")" "2 1" \
			"pipeline --backend $be without a GPU: exit 2, one message"
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
# mpi-gpu, checks on, results exact; the pipeline on device buffers with GPU compute.
plan 24
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

# The pipeline on device buffers: isolated handoff and a 1F1B training schedule with cuBLAS
# GEMMs, then a spin-kernel GPipe, payloads checked. mpi-gpu on 2 ranks (one GPU may be
# shared); nccl on 2 ranks where there are 2 GPUs.
sbrun 2 pipeline --backend mpi-gpu --mode handoff -b 16K -e 4M -c 2 --max-time 0.3 \
	--out "$TMP/ph" >/dev/null
is $? 0 "pipeline handoff on mpi-gpu: exit 0"
check_run "$TMP/ph" "mpi-gpu handoff"
sbrun 2 pipeline --backend mpi-gpu --training --compute gemm --hidden 1024 --bytes 4M \
	--microbatches 4,8 -c 2 -n 20 --out "$TMP/pg" >/dev/null
is $? 0 "1F1B with cuBLAS GEMMs on mpi-gpu: exit 0"
check_run "$TMP/pg" "mpi-gpu gemm schedule"
jq -s -e '[.[] | select(.type == "point") | .compute.on == "gpu" and
	(.compute.library | startswith("cuBLAS"))] | all' "$(runfile_in "$TMP/pg")" >/dev/null
ok $? "its records say the compute ran on the GPU, by cuBLAS"
if [ "$np" = 2 ]; then
	sbrun 2 pipeline --backend nccl --schedule gpipe --training --compute-us 200 --bytes 1M \
		-c 2 -n 20 --out "$TMP/pn" >/dev/null
	is $? 0 "GPipe with spin kernels on nccl: exit 0"
	check_run "$TMP/pn" "nccl spin schedule"
	jq -s -e '[.[] | select(.type == "point") | .metrics.bubble.value > 0.5 * .metrics.bubble_ideal.value] | all' \
		"$(runfile_in "$TMP/pn")" >/dev/null
	ok $? "a bubble is measured"
	sbrun 2 pipeline --backend nccl --mode handoff -b 16K -e 4M -c 1 --max-time 0.3 \
		--out "$TMP/pnh" >/dev/null
	is $? 0 "pipeline handoff on nccl: exit 0"
else
	skip 5 "nccl pipeline needs 2 GPUs here"
fi
SB_PIPE_CORRUPT=1 sbrun 2 pipeline --backend mpi-gpu --bytes 64K -c 1 -n 5 --out "$TMP/pc" \
	>/dev/null 2>&1
is $? 1 "a corrupted device handoff is caught: exit 1"
done_testing
