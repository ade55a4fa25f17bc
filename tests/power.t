#!/usr/bin/env bash
# Board power in the point records (common/power.h): none on a host backend; on a GPU, a short
# NCCL all-reduce point has a plausible power per GPU and energy per operation, and two ranks
# sharing one GPU count it once. The GPU part skips without a usable GPU (`scalebench list`
# says why, as gpu_backends.t reads it).
. "$(dirname "$0")/lib.sh"
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-300}
plan 10

"$SB" allreduce --backend fake -e 1K --out "$TMP/f" -q >/dev/null 2>&1
is $? 0 "allreduce on the fake (host) backend: exit 0"
f=$(runfile_in "$TMP/f")
jq -s -e '[.[] | select(.type == "point")] | length > 0 and all(has("power") | not)' "$f" >/dev/null
ok $? "no point record of a host backend has a power field"
jq -s -e '.[0].provenance | has("power") | not' "$f" >/dev/null
ok $? "nor does its provenance"

ngpu=$("$SB" list | sed -n 's/^GPUs: \([0-9]*\) .*/\1/p')
if [ -z "$ngpu" ]; then
	skip 7 "$("$SB" list | sed -n 's/^GPUs: //p')"
	done_testing
fi

# One rank, one point of a bit over a second (the energy counter updates every 20-100 ms).
sbrun 1 allreduce --backend nccl -b 64M -e 64M -c 0 --min-time 1 --out "$TMP/n" >/dev/null
is $? 0 "nccl all-reduce, one 64 MiB point of at least 1 s: exit 0"
f=$(runfile_in "$TMP/n")
is "$(jq -r 'select(.type == "run") | .provenance.power.meter // .provenance.power.why' "$f")" \
	nvml "provenance: the meter is NVML"
jq -s -e '[.[] | select(.type == "point") | .power | .watts_mean > 0 and .watts_mean < 2000 and
	.gpus == 1 and .joules > 0 and .joules_per_op > 0 and .seconds >= 1 and
	(.source | startswith("nvml"))] | length == 1 and all' "$f" >/dev/null
ok $? "the point's power: 0 < W per GPU < 2000, J and J/op positive, one GPU" ||
	diag "$(jq -c 'select(.type == "point") | .power' "$f")"
jq -s -e '[.[] | select(.type == "point") | .power |
	(.joules_per_op * .operations - .joules) as $d | ($d * $d) < 1e-12 * .joules * .joules] |
	length == 1 and all' "$f" >/dev/null
ok $? "J/op x operations = J"

# Two ranks: on one GPU (this machine has one) it is counted once; on two, twice.
want=$((ngpu >= 2 ? 2 : 1))
sbrun 2 allreduce --backend mpi-gpu -b 16M -e 16M -c 0 --min-time 1 --out "$TMP/m" >/dev/null
is $? 0 "mpi-gpu all-reduce on 2 ranks: exit 0"
f=$(runfile_in "$TMP/m")
is "$(jq -r 'select(.type == "point") | .power.gpus' "$f")" "$want" \
	"2 ranks on $ngpu GPU(s): $want GPU(s) in the power figure"
jq -s -e '[.[] | select(.type == "point") | .power.watts_mean > 0 and .power.watts_mean < 2000] |
	length == 1 and all' "$f" >/dev/null
ok $? "and a plausible power per GPU" || diag "$(jq -c 'select(.type == "point") | .power' "$f")"
done_testing
