#!/usr/bin/env bash
# Every benchmark across hosts, on an emulated cluster (scripts/netns-cluster: network namespaces
# with their own hostnames, Open MPI over TCP between them): all-reduce, send/recv, the pipeline
# (handoff and a training schedule) and inference serving, ranks on 2 to 4 hosts. Each run exits
# 0, its topology names the hosts the ranks ran on, and its points and pipeline boundaries are
# labelled cross-host where their ranks are on different hosts (same-host where not).
#
# Clock offsets: the pipeline's handoff measures each boundary's clock offset across hosts (from
# the best of 32 round trips). The hosts here share one clock, so the true offset is 0 and the
# measured one is the error. That estimator's error is at most half its best round trip (all of
# the asymmetry on one side), and half a round trip is one one-way message: the test holds every
# offset to the median time of an 8-byte send/recv across the same hosts (one one-way message,
# measured in the same cluster just before), and says the figures.
. "$(dirname "$0")/lib.sh"
SB_CLUSTER_PREFIX=${SB_CLUSTER_PREFIX:-t1$(printf %04x $(($$ % 65536)))}
. "$(dirname "$0")/cluster_lib.sh"
# shellcheck disable=SC2119 # no --shaper: links without emulation
cluster_require

plan 38

# --- the script itself -----------------------------------------------------------------------
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TOP/scripts/netns-cluster" up 2 2>&1)
st=$?
is "$st $(grep -c 'must run as root' <<<"$out")" "1 1" "up as a user: exit 1, 'must run as root'"
cluster up 2 >/dev/null && cluster up 4 --slots 2 >"$TMP/up" 2>&1
ok $? "up 2, then up 4 again over it (idempotent)"
is "$(ip netns list | awk -v p="^$P-" '$1 ~ p' | wc -l)" 5 "4 hosts and the switch, no more"
is "$(cluster hostfile | tr '\n' ' ')" "$P-h1 slots=2 $P-h2 slots=2 $P-h3 slots=2 $P-h4 slots=2 " \
	"the hostfile names the 4 hosts"
is "$(cluster exec cat /proc/sys/kernel/hostname)" "$P-h1" "exec runs on the first host, by its name"
cluster link h9 down >/dev/null 2>"$TMP/err"
is "$? $(grep -c "no host 'h9'" "$TMP/err")" "1 1" "link: an unknown host is an error"

# Ranks one per host (--map-by node), or packed two per host (the hostfile's order).
SPREAD=(--map-by node)

# The run file of DIR: exit status 0 and one run file, else a failed test says so.
run_ok() { # LABEL DIR STATUS
	local f
	f=$(runfile_in "$2") || f=/dev/null
	is "$3 $(tail -n1 "$f" | jq -r .status)" "0 ok" "$1: exit 0, end record ok"
	RF=$f
}
# Host of each rank, from the run record's topology.
rank_hosts() { head -n1 "$1" | jq -r '[.topology.ranks[].host] | join(" ")'; }
# The point labels (span) of every point, unique.
spans() { jq -r 'select(.type == "point") | .span' "$1" | sort -u | tr '\n' ' '; }

# --- all-reduce and send/recv, 4 ranks on 4 hosts -----------------------------------------------
for b in allreduce sendrecv; do
	d=$TMP/$b
	cl_mpirun 4 "${SPREAD[@]}" "$SB" $b -b 8 -e 256K -f 8 --max-time 0.1 -q --out "$d" \
		>"$d.out" 2>"$d.err"
	run_ok "$b, 4 hosts" "$d" $?
	is "$(rank_hosts "$RF")" "$P-h1 $P-h2 $P-h3 $P-h4" "$b: the topology puts rank r on host r+1"
	is "$(head -n1 "$RF" | jq '.topology.hosts | length')" 4 "$b: the topology has 4 hosts"
	is "$(spans "$RF")" "cross-host " "$b: every point is labelled cross-host"
done
# One one-way message across hosts (us): the bound on a clock offset's error.
oneway=$(jq -r 'select(.type == "point" and .params.bytes == 8) | .summary.median * 1e7 | round / 10' "$RF")
diag "8-byte send/recv across hosts: median ${oneway:-?} us (for scale beside the offsets' bounds below)"

# --- the pipeline's handoff, 4 stages on 4 hosts: boundaries and clock offsets ------------------
d=$TMP/handoff
cl_mpirun 4 "${SPREAD[@]}" "$SB" pipeline --mode handoff -b 4K -e 64K -f 4 --max-time 0.2 -q \
	--out "$d" >"$d.out" 2>"$d.err"
run_ok "pipeline handoff, 4 hosts" "$d" $?
is "$(jq -c 'select(.type == "point") | [.boundaries[].span]' "$RF" | sort -u)" \
	'["cross-host","cross-host","cross-host"]' "handoff: the 3 boundaries of every point cross hosts"
# Per boundary: the largest |offset| over the points and the largest stated error bound, us.
# The hosts share one clock, so the true offset is 0 and every estimate must lie within its own
# bound (half the shortest round trip it was taken from).
jq -s -r '[.[] | select(.type == "point")] as $p | range(0; 3) as $b |
	[$b, (([$p[].boundaries[$b].clock_offset | fabs] | max) * 1e7 | round / 10),
	 (([$p[].boundaries[$b].clock_offset_error] | max) * 1e7 | round / 10),
	 ([$p[].boundaries[$b] | (.clock_offset | fabs) <= .clock_offset_error and
	   .clock_offset_error > 0] | all)] | @tsv' "$RF" >"$TMP/off"
while read -r b off err _; do
	diag "handoff boundary $b->$((b + 1)): largest |clock offset| $off us, largest bound $err us (true: 0)"
done <"$TMP/off"
is "$(wc -l <"$TMP/off")" 3 "handoff: a clock offset for each boundary"
is "$(awk '$4 != "true"' "$TMP/off" | wc -l)" 0 \
	"handoff: every |clock offset| (true 0: one clock) is within its stated bound, and every bound > 0"

# --- the pipeline in a training schedule, 4 stages on 4 hosts -----------------------------------
d=$TMP/sched
cl_mpirun 4 "${SPREAD[@]}" "$SB" pipeline --training --microbatches 4 --bytes 64K \
	--compute-us 100 --max-time 0.2 -q --out "$d" >"$d.out" 2>"$d.err"
run_ok "pipeline 1f1b training, 4 hosts" "$d" $?
is "$(jq -c 'select(.type == "point") | [.params.training, .params.stages, .span,
	[.boundaries[].span]]' "$RF")" '[true,4,"cross-host",["cross-host","cross-host","cross-host"]]' \
	"schedule: 4 stages, point and boundaries cross-host"

# --- two ranks per host: 4 stages on 2 hosts ---------------------------------------------------
d=$TMP/packed
cl_mpirun 4 "$SB" pipeline --mode handoff --bytes 16K --max-time 0.2 -q --out "$d" \
	>"$d.out" 2>"$d.err"
run_ok "pipeline handoff, 2 ranks on each of 2 hosts" "$d" $?
is "$(rank_hosts "$RF")" "$P-h1 $P-h1 $P-h2 $P-h2" "packed: ranks 0,1 on host 1, ranks 2,3 on host 2"
is "$(jq -c 'select(.type == "point") | [.span, [.boundaries[].span | . == "cross-host"]]' "$RF")" \
	'["cross-host",[false,true,false]]' \
	"packed: only the middle boundary (host 1 -> host 2) is cross-host; the point is"
is "$(jq -c 'select(.type == "point") | [.boundaries[0].clock_offset, .boundaries[2].clock_offset,
	.boundaries[0].clock_offset_error, .boundaries[2].clock_offset_error,
	(.boundaries[1] | (.clock_offset | fabs) <= .clock_offset_error and .clock_offset_error > 0)]' \
	"$RF")" "[0,0,0,0,true]" \
	"packed: no clock offset within a host (not measured), the cross-host one within its bound"
diag "packed: cross-host clock offset $(jq -r 'select(.type == "point") | .boundaries[1] |
	"\(.clock_offset * 1e6) us, bound \(.clock_offset_error * 1e6) us"' "$RF")"
d=$TMP/packed-ar
cl_mpirun 4 "$SB" allreduce -b 8 -e 64K -f 8 --max-time 0.1 -q --out "$d" >"$d.out" 2>"$d.err"
run_ok "allreduce, 2 ranks on each of 2 hosts" "$d" $?
is "$(head -n1 "$RF" | jq -c '[(.topology.hosts | length), (.topology.ranks | map(.local_size) | unique)]')" \
	"[2,[2]]" "packed all-reduce: 2 hosts of 2 ranks each"
is "$(spans "$RF")" "cross-host " "packed all-reduce: cross-host"

# --- inference serving: rank 0 generates on host 1, replicas on the others ----------------------
d=$TMP/infer
cl_mpirun 3 "${SPREAD[@]}" "$SB" infer --rate 200 --requests 40 --duration 0.2 -q --out "$d" \
	>"$d.out" 2>"$d.err"
run_ok "infer, 3 hosts" "$d" $?
is "$(rank_hosts "$RF")" "$P-h1 $P-h2 $P-h3" "infer: rank 0 (the load generator) on host 1"
is "$(jq -c 'select(.type == "point") | [.span, .infer.roles.replicas, .infer.roles.tp,
	.infer.load.issued == .infer.load.completed]' "$RF")" '["cross-host",2,1,true]' \
	"infer: 2 replicas on hosts 2 and 3, every request completed, cross-host"
d=$TMP/infer-tp
cl_mpirun 3 "${SPREAD[@]}" "$SB" infer --tp 2 --rate 100 --requests 20 --duration 0.2 -q \
	--out "$d" >"$d.out" 2>"$d.err"
run_ok "infer --tp 2, one replica across hosts 2 and 3" "$d" $?
is "$(jq -c 'select(.type == "point") | [.span, .infer.roles.replicas, .infer.roles.tp,
	.infer.load.issued == .infer.load.completed, .metrics.allreduce_share.value > 0]' "$RF")" \
	'["cross-host",1,2,true,true]' \
	"infer --tp 2: one replica of 2 ranks, its all-reduces across hosts take time, all completed"
is "$(rank_hosts "$RF")" "$P-h1 $P-h2 $P-h3" "infer --tp 2: the replica's ranks on hosts 2 and 3"

# No sanitizer report anywhere (when run against a sanitizer build).
is "$(cat "$TMP"/*.err | grep -c -E 'ERROR: (Address|Leak)Sanitizer|runtime error:')" 0 \
	"no sanitizer report in any run"

# --- down removes everything ----------------------------------------------------------------
cluster down >/dev/null
ok $? "down"
is "$(ip netns list | awk -v p="^$P-" '$1 ~ p' | wc -l)" 0 "down: no namespace of the prefix left"
is "$( (find /etc/netns -maxdepth 1 -name "$P-*" 2>/dev/null; ls -d /run/"$P"-cluster 2>/dev/null) |
	wc -l)" 0 "down: no /etc/netns/$P-* and no state (/run/$P-cluster) left"
cluster down >/dev/null
ok $? "down again (nothing to do) is not an error"
done_testing
