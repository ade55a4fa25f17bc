#!/usr/bin/env bash
# The GPU backends. Without a usable GPU (CI, this project's machines): asking for one is bad
# input with one clear message. With one: all-reduce and the pipeline on nccl and mpi-gpu,
# checked; both GPU timings (pipelined, nccl-tests' method and the default, and per-operation
# latency) with their record fields; the check of the largest point against GPU memory.
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
plan 36
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

# Both timings of every sample: the headline pipelined by default (K operations back to back
# between syncs, per operation; K at least nccl-tests' 20), per-operation latency beside it.
# A pipelined operation cannot take longer than one synchronised alone, nor the held events
# (the GPU's work without launches) longer than the latency; 5% for noise at large sizes,
# where all three are the kernel's time.
timing_fields() { # timing_fields RUNFILE HEADLINE ALT BATCH(or "auto")
	jq -s -e --arg h "$2" --arg a "$3" --arg b "$4" '[.[] | select(.type == "point") |
		.method.timing == $h and
		(if $b == "auto" then .method.batch >= 20 else .method.batch == ($b | tonumber) end) and
		(.["samples_" + $a] | length) == (.samples | length) and
		.["summary_" + $a].median > 0 and .summary.median > 0] | all' "$1" >/dev/null
}
f=$(runfile_in "$TMP/n")
timing_fields "$f" pipelined latency auto
ok $? "nccl, default: headline pipelined, K >= 20, latency samples and summary beside it"
jq -s -e '[.[] | select(.type == "point") | .summary.median <= 1.05 * .summary_latency.median and
	.summary_device.median <= 1.05 * .summary_latency.median] | all' "$f" >/dev/null
ok $? "nccl: pipelined and held-event times at or below the per-operation latency" ||
	diag "$(jq -r 'select(.type == "point") | "\(.params.bytes) B: pipelined \(.summary.median)" +
		" latency \(.summary_latency.median) events \(.summary_device.median)"' "$f")"
sbrun "$np" allreduce --backend nccl --gpu-timing latency --batch 50 -b 8 -e 1M -c 1 \
	--max-time 0.3 --out "$TMP/nl" >/dev/null
is $? 0 "nccl --gpu-timing latency --batch 50: exit 0"
f=$(runfile_in "$TMP/nl")
timing_fields "$f" latency pipelined 50
ok $? "nccl --gpu-timing latency: headline latency, K = 50, pipelined samples and summary beside it"
jq -s -e '[.[] | select(.type == "point") | .summary_pipelined.median <= 1.05 * .summary.median] |
	all' "$f" >/dev/null
ok $? "and the pipelined time at or below the latency"
sbrun "$np" allreduce --backend nccl -G -b 8 -e 1M -c 1 --max-time 0.3 --out "$TMP/g" >/dev/null
is $? 0 "nccl with -G (CUDA graphs): exit 0"
check_run "$TMP/g" "nccl -G"
sbrun 2 allreduce --backend mpi-gpu -b 8 -e 16M -c 2 --max-time 0.3 --out "$TMP/m" >/dev/null
is $? 0 "mpi-gpu all-reduce on 2 ranks: exit 0"
check_run "$TMP/m" "mpi-gpu all-reduce"
jq -r 'select(.type == "point") | .method.data_path' "$(runfile_in "$TMP/m")" | sort -u |
	grep -Eq "staged|CUDA-aware"
ok $? "every mpi-gpu record says whether it was staged"
timing_fields "$(runfile_in "$TMP/m")" pipelined latency auto
ok $? "mpi-gpu, default: headline pipelined, latency beside it"
sbrun 2 allreduce --backend mpi-gpu --gpu-timing latency --batch 10 -b 8 -e 64K -c 1 \
	--max-time 0.3 --out "$TMP/ml" >/dev/null
is $? 0 "mpi-gpu --gpu-timing latency --batch 10: exit 0"
timing_fields "$(runfile_in "$TMP/ml")" latency pipelined 10
ok $? "mpi-gpu --gpu-timing latency: headline latency, K = 10, pipelined beside it"

# Beyond the GPU's memory: bad input before anything is written, one message from rank 0.
sbrun "$np" allreduce --backend nccl -b 1T -e 1T --out "$TMP/big" >/dev/null 2>"$TMP/err"
is "$? $(grep -c '^scalebench: error' "$TMP/err") $(grep -c 'GPU memory' "$TMP/err")" "2 1 1" \
	"nccl -b 1T: exit 2, one message, naming GPU memory"
sbrun 2 allreduce --backend mpi-gpu -b 64G -e 1T --out "$TMP/big" >/dev/null 2>"$TMP/err"
is "$? $(grep -c '^scalebench: error' "$TMP/err")" "2 1" \
	"mpi-gpu, 2 ranks on $ngpu GPU(s), -b 64G -e 1T: exit 2, one message"
ls "$TMP/big" 2>/dev/null | grep -q . && r=1 || r=0
is "$r" 0 "and no run file"

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
	(.compute.library | startswith("cuBLAS")) and .compute.dtype == "bf16" and
	.compute.peak_flop_rate > 0 and .compute.peak_fraction > 0] | all' \
	"$(runfile_in "$TMP/pg")" >/dev/null
ok $? "its records say the compute ran on the GPU, by cuBLAS, in bf16, against a measured peak"
# The pipeline times itself (a step is a schedule, not one operation): latency, no batch.
jq -s -e '[.[] | select(.type == "point") | .method.timing == "latency" and .method.batch == null
	and .samples_pipelined == null] | all' "$(runfile_in "$TMP/pg")" >/dev/null
ok $? "the pipeline's records: latency timing, no pipelined batch"
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
