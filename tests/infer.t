#!/usr/bin/env bash
# The infer benchmark: on the fake backend (a deterministic step cost on the virtual clock,
# STEP_A = 100 us + STEP_B = 2 us per token) the latencies of hand-worked cases; on the mpi
# backend with 2-3 ranks a serving run with a replica per worker, and a tensor-parallel one
# whose all-reduces take a share of the step.
. "$(dirname "$0")/lib.sh"
[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"
plan 17

point() { jq -c -s '[.[] | select(.type == "point")][0]' "$(runfile_in "$1")"; }

# One request at a time (closed loop, concurrency 1), continuous batching: the prefill of 128
# tokens is one step of 100 + 2 x 128 = 356 us, each of the 15 decode steps 102 us, so
# TTFT = 356 us, TPOT = 102 us, E2E = 356 + 15 x 102 = 1886 us, no queueing.
"$SB" infer --backend fake --concurrency 1 --requests 20 -w 1 --out "$TMP/c1" >/dev/null 2>&1
is $? 0 "fake, concurrency 1: exit 0"
is "$(point "$TMP/c1" | jq -c '[.infer.latency.ttft.p50, .infer.latency.tpot.p50,
	.infer.latency.e2e.p50, .infer.latency.queue.p50, .series.ttft.n, .method.stop]')" \
	'[0.000356,0.000102,0.001886,0,20,"min-duration"]' \
	"TTFT 356 us, TPOT 102 us, E2E 1886 us, no queue, 20 measured requests"

# Dynamic batching holds a lone request for --max-delay-us (500 us) hoping for company.
"$SB" infer --backend fake --concurrency 1 --batching dynamic --max-delay-us 500 \
	--requests 20 -w 1 --out "$TMP/d1" >/dev/null 2>&1
is "$(point "$TMP/d1" | jq -c '[.infer.latency.ttft.p50, .infer.latency.queue.p50]')" \
	'[0.000856,0.0005]' "dynamic batching: TTFT = D + prefill, queue = D"

# Batching pays when the per-step cost dominates: 8 in flight beat 1 in throughput.
for b in 1 8; do
	"$SB" infer --backend fake --concurrency 8 --batch "$b" --prompt-tokens 4 \
		--output-tokens 32 --requests 80 -w 1 --out "$TMP/b$b" >/dev/null 2>&1
done
t1=$(point "$TMP/b1" | jq '.metrics.tokens_per_s.value')
t8=$(point "$TMP/b8" | jq '.metrics.tokens_per_s.value')
ok "$(awk -v a="$t1" -v b="$t8" 'BEGIN { print !(b > 4 * a) }')" \
	"B=8 serves over 4x the tokens/s of B=1 ($t8 vs $t1)"
is "$(point "$TMP/b8" | jq -c '.infer.batch_sizes | length')" 9 "batch sizes 0..8 recorded"

# The collector's inference table: one row per point, the batch knee of a 1,8 sweep at 8.
"$SB" infer --backend fake --concurrency 8 --batch 1,8 --prompt-tokens 4 --output-tokens 32 \
	--requests 80 -w 1 --out "$TMP/sw" >/dev/null 2>&1
"$SB_BUILD/scalebench-report" show "$(runfile_in "$TMP/sw")" >"$TMP/sw.txt" 2>&1
is "$(awk '/^# inference serving/ { on = 1; next } on && /^R1/ { print $3 "/" $(NF - 1) }' "$TMP/sw.txt" |
	tr '\n' ' ')" "1/8 8/8 " "report show: an inference table, knee B = 8"

# Latency against offered load, and the highest rate within the SLOs (TTFT 5 ms, TPOT 0.2 ms):
# one request alone takes 1.9 ms, so 200/s keeps them all, 500/s (near B=1's 530/s) does not.
"$SB" infer --backend fake --rate 200,500,1000 --batch 1 --requests 100 --duration 0 \
	--slo-ttft-ms 5 --slo-tpot-ms 0.2 -w 1 --out "$TMP/slo" >/dev/null 2>&1
"$SB_BUILD/scalebench-report" show "$(runfile_in "$TMP/slo")" >"$TMP/slo.txt" 2>&1
is "$(awk '/^# inference serving/ { on = 1; next } on && /^R1/ { print $2 "/" $NF }' "$TMP/slo.txt" |
	tr '\n' ' ')" "200/s/200/s 500/s/200/s 1000/s/200/s " "report show: the highest rate within the SLOs, 200/s"

# Open loop beyond capacity (each request ~1.9 ms alone, B=1: ~530/s): latency grows with
# the run's length (no coordinated omission: it counts from the scheduled arrival).
for n in 100 400; do
	"$SB" infer --backend fake --rate 2000 --batch 1 --requests "$n" --duration 0 -w 1 \
		--out "$TMP/o$n" >/dev/null 2>&1
done
e1=$(point "$TMP/o100" | jq '.infer.latency.e2e.mean')
e4=$(point "$TMP/o400" | jq '.infer.latency.e2e.mean')
ok "$(awk -v a="$e1" -v b="$e4" 'BEGIN { print !(b > 2 * a) }')" \
	"overload: mean E2E grows with the run ($e1 s at 100 requests, $e4 s at 400)"

# Prompt lengths drawn per request from a list 8/512: alone (C=1) a request's TTFT is its
# prefill, 100 us + 2 us x 8 or x 512: both kinds appear, nothing else.
"$SB" infer --backend fake --concurrency 1 --prompt-tokens 8/512 --output-tokens 2 \
	--requests 40 -w 1 --out "$TMP/dl" >/dev/null 2>&1
is "$(point "$TMP/dl" | jq -c '[.series.ttft.summary.min, .series.ttft.summary.max,
	.params.prompt_tokens]')" '[0.000116,0.001124,"8/512"]' \
	"prompt lengths drawn from a list: TTFTs of 8 and 512 tokens"

# One-token requests have no TPOT nor inter-token gaps: the point is still one serving run.
"$SB" infer --backend fake --concurrency 4 --output-tokens 1 --requests 40 -w 1 \
	--out "$TMP/one" >/dev/null 2>&1
is "$(point "$TMP/one" | jq -c '[(.samples | length), .series.tpot.n, .series.ttft.n]')" \
	'[1,0,40]' "output 1: one serving run, TPOT empty, every TTFT"

# MPI: rank 0 generates, ranks 1-2 serve (2 replicas), then one replica of T=2.
command -v "${MPIRUN:-mpirun}" >/dev/null || {
	skip 7 "no mpirun"
	done_testing
	exit 0
}
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-120}
sbrun 3 infer --rate 20 --requests 40 -w 1 --out "$TMP/m2" >/dev/null 2>&1
is $? 0 "3 ranks, 2 replicas: exit 0"
is "$(point "$TMP/m2" | jq -c '[.infer.roles.replicas, .infer.load.completed >= 40,
	.metrics.requests_per_s.value > 0]')" '[2,true,true]' "2 replicas served every request"
sbrun 3 infer --rate 20 --requests 40 --tp 2 -w 1 --out "$TMP/t2" >/dev/null 2>&1
is $? 0 "3 ranks, one replica of T=2: exit 0"
p=$(point "$TMP/t2")
is "$(jq -c '[.infer.roles.replicas, .infer.roles.tp, .check.status, .check.wrong]' <<<"$p")" \
	'[1,2,"ok",0]' "one replica of 2 ranks; its sharded steps check against the unsharded model"
ok "$(jq '.metrics.allreduce_share.value > 0 and .metrics.allreduce_share.value < 1' <<<"$p" |
	grep -qx true; echo $?)" "the TP all-reduces take a share of the step"
# Two all-reduces per layer of the step's tokens x H (tiny: 2 layers, H 256).
is "$(jq -c '.infer.step | [.allreduce_elements == 2 * 2 * 256 * .tokens, .tokens > 0]' <<<"$p")" \
	'[true,true]' "the TP all-reduces carry tokens x H elements, two per layer"
is "$(jq -c '.infer.step | [.gemm_rate > 0, .copy_rate > 0, .over_bound > 0,
	((.time / .bound_time) - .over_bound | fabs) < 1e-6]' <<<"$p")" '[true,true,true,true]' \
	"the step against the GEMM rate and copy bandwidth measured in the run"
done_testing
