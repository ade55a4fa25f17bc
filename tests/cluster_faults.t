#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions called through wait_for
# Faults across hosts, on an emulated cluster of 3 hosts (scripts/netns-cluster), one rank each,
# an all-reduce sweep with --timeout 5 (20 for the flap):
#   (a) the rank on host 3 killed (SIGKILL) mid-sweep;
#   (b) host 3's cable cut mid-sweep (link down);
#   (b2) host 3's cable cut late in a long point, 1.5 s before its --timeout: the watchdog
#       fires before the launcher's keepalive has found the host lost, and the ranks' grace
#       (SB_TIMEOUT_GRACE from mpirun-args) must let the keepalive end the job in time;
#   (c) host 3's cable out for 2 s, shorter than the timeout and the keepalive's 3 s (a flap);
#   (d) the Open MPI daemon (orted) on host 3 killed.
# (a), (b), (b2), (d): the job ends within --timeout + 5 s with a non-zero status and a message naming
# what failed, every point finished before the fault is intact in the run file, the collector
# shows the run incomplete (or ended by the timeout), and nothing of the job is left running.
# (c): the run finishes (exit 0) and the point that was running shows the outage as its slowest
# sample. Each fault's time to exit, exit status and points kept are printed (diag).
. "$(dirname "$0")/lib.sh"
SB_CLUSTER_PREFIX=${SB_CLUSTER_PREFIX:-t3$(printf %04x $(($$ % 65536)))}
. "$(dirname "$0")/cluster_lib.sh"
# shellcheck disable=SC2119 # no --shaper: links without emulation
cluster_require

plan 45

T=5
# Ends a job the test lost control of: a failure, not a hang.
LIMIT=60
cluster up 3 >"$TMP/up" 2>&1
ok $? "up 3 hosts" || {
	diag "$(cat "$TMP/up")"
	done_testing
}

# start DIR ARGS...: an all-reduce sweep, one rank per host, in the background (pid in JOB).
start() {
	local d=$1
	shift
	# shellcheck disable=SC2046 # the options are words
	timeout -k 5 "$LIMIT" "$TOP/scripts/netns-cluster" exec mpirun $(cluster mpirun-args) \
		-np 3 --map-by node "$SB" allreduce --timeout "$T" --out "$d" "$@" >"$d.out" 2>"$d.err" &
	JOB=$!
}
has_runfile() { runfile_in "$1" >/dev/null 2>&1; }
# The pid of the process named COMM in HOST.
pid_in() {
	local p
	for p in $(ip netns pids "$P-$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p" && return 0
	done
	return 1
}
# Nothing of a job left in the hosts (ranks, daemons, mpirun), within 5 s.
none_left() { [ -z "$(for h in 1 2 3; do ip netns pids "$P-h$h"; done)" ]; }
# Every line of FILE is a JSON object, every point record complete, the last line whole.
records_ok() {
	local n good
	n=$(wc -l <"$1")
	good=$(jq -c 'type == "object" and (.type != "point" or (
		(.samples | length) == .summary.n and .summary.n > 0 and
		(.summary.median | type) == "number"))' "$1" 2>/dev/null | grep -c '^true$')
	[ "$n" -gt 0 ] && [ "$good" = "$n" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ]
}
# The run's status as the collector shows it (the runs table's status column).
shown_status() { "$SB_BUILD/scalebench-report" show "$1" 2>/dev/null | awk '$1 == "R1"'; }

# fault LABEL DIR WHAT [MIN]: the checks of a fault that ends the job; WHAT: a pattern the
# messages must match (naming the failed host); MIN: the points it must keep (3). The time is
# counted from T1.
fault() {
	local label=$1 d=$2 what=$3 min=${4:-3} st took f np
	wait "$JOB"
	st=$?
	took=$(since "$T1")
	f=$(runfile_in "$d") || f=/dev/null
	np=$(npoints "$d")
	diag "$label: exit status $st after $took s, $np points kept, last record:" \
		"  $(tail -n1 "$f" | jq -c 'if .type == "end" then del(.drift) else {type: .type, point: .["label"]} end')"
	[ "$st" != 0 ] && [ "$st" != 124 ]
	ok $? "$label: the job ends with a non-zero status ($st)"
	lt "$took" $((T + 5))
	ok $? "$label: within --timeout + 5 s ($took s)"
	grep -Eq "$what" "$d.err"
	ok $? "$label: a message names it: /$what/"
	records_ok "$f"
	ok $? "$label: the run file parses, every point record complete"
	[ "$np" -ge "$min" ]
	ok $? "$label: the points finished before the fault are kept ($np)"
	shown_status "$f" | grep -Eq "incomplete|timeout|killed"
	ok $? "$label: the collector shows the run $(shown_status "$f" | grep -Eo 'incomplete \([^)]*\)|timeout|killed' | head -n1)"
	wait_for 5 none_left
	ok $? "$label: nothing of the job is left running in the hosts"
	cluster kill >/dev/null
}

# kill_mid_sweep LABEL DIR COMM WHAT: a sweep; once it has 3 points, the process named COMM on
# host 3 killed (SIGKILL), then the checks of fault.
kill_mid_sweep() {
	local label=$1 d=$2 comm=$3 what=$4 pid
	start "$d" -b 4 -e 64M --max-time 0.5
	wait_for 60 has_points "$d" 3
	ok $? "$label: the run wrote 3 points"
	pid=$(pid_in h3 "$comm")
	ok $? "$label: found $comm on host 3 (pid ${pid:-?})"
	T1=$(now)
	[ -n "$pid" ] && kill -KILL "$pid"
	fault "$label" "$d" "$what"
}

# --- (a) the rank on host 3 killed mid-sweep -------------------------------------------------
kill_mid_sweep "killed rank" "$TMP/a" scalebench "rank 2 .*$P-h3.*signal 9"

# --- (b) host 3's cable cut mid-sweep ------------------------------------------------------
d=$TMP/b
start "$d" -b 4 -e 64M --max-time 0.5
wait_for 60 has_points "$d" 3
ok $? "cut link: the run wrote 3 points"
T1=$(now)
cluster link h3 down >/dev/null
fault "cut link" "$d" "lost communication with a remote daemon"
grep -q "on node $P-h3" "$d.err"
ok $? "cut link: the message names host 3"
cluster link h3 up >/dev/null

# --- (b2) the cable cut 3.5 s into a 4 s point, 1.5 s before its --timeout -------------------
# The watchdog fires 1.5 s after the cut, while the keepalive needs 3-4 s to find the host lost.
# Were the ranks to end at once, mpirun's order to end the job would sit in TCP's
# retransmissions to the lost host (12.6 s): the grace keeps them until the keepalive ends the
# job, by the host's name. Timed from the point's start (the run file's first line) too.
d=$TMP/b2
start "$d" -b 8M -e 8M --min-time 4 --max-time 4
wait_for 60 has_runfile "$d"
T0=$(now)
sleep 3.5
T1=$(now)
cluster link h3 down >/dev/null
fault "late cut" "$d" "lost communication with a remote daemon" 0
diag "late cut: the job ended $(since "$T0") s after its only point started (--timeout $T)"
lt "$(since "$T0")" $((T + 5))
ok $? "late cut: within --timeout + 5 s of the point's start too"
grep -q "on node $P-h3" "$d.err"
ok $? "late cut: the message names host 3"
is "$(tail -n1 "$(runfile_in "$d")" | jq -r .status)" timeout \
	"late cut: the run file ends with the watchdog's timeout record"
cluster link h3 up >/dev/null

# --- (c) a 2 s flap, shorter than the timeout -------------------------------------------------
# Two points of 4 s each (large enough that a transfer, not the barrier between samples, is
# what the outage stops); the cable goes out 1.5 s after the run starts, within the first.
# The keepalive survives outages shorter than 3 s; the timeout here is 20 s.
d=$TMP/c
T0=$(now)
T=20 start "$d" -b 4M -e 8M --min-time 4 --max-time 4
wait_for 60 has_runfile "$d"
sleep 1.5
cluster link h3 down >/dev/null
sleep 2
cluster link h3 up >/dev/null
wait "$JOB"
st=$?
f=$(runfile_in "$d") || f=/dev/null
jq -c 'select(.type == "point") | [.params.bytes, .summary.n, .summary.median, .summary.max]' \
	"$f" >"$TMP/c.points"
diag "flap: exit status $st after $(since "$T0") s; points [bytes, n, median s, max s]:" \
	"$(tr '\n' ' ' <"$TMP/c.points")"
is "$st" 0 "flap: the run finishes, exit 0"
is "$(tail -n1 "$f" | jq -c '[.type, .status, .points]')" '["end","ok",2]' \
	"flap: end record ok, 2 points"
# The outage (2 s) stalls one sample of the point that was running: its slowest sample.
is "$(jq -r 'select(.type == "point" and .summary.max > 1.5) | .params.bytes' "$f")" 4194304 \
	"flap: the point running during the outage (4 MiB) has a sample of more than 1.5 s"
is "$(jq -r 'select(.type == "point" and .summary.max > 1.5) | .summary.max > 50 * .summary.median' \
	"$f")" true "flap: that sample is an outlier (> 50 x the point's median)"
records_ok "$f"
ok $? "flap: the run file parses"
cluster kill >/dev/null

# --- (d) the daemon (orted) on host 3 killed --------------------------------------------------
d=$TMP/d
kill_mid_sweep "killed orted" "$d" orted "lost communication with a remote daemon"
grep -q "on node $P-h3" "$d.err"
ok $? "killed orted: the message names host 3"

is "$(cat "$TMP"/*.err | grep -c -E 'ERROR: (Address|Leak)Sanitizer|runtime error:')" 0 \
	"no sanitizer report in any run"
done_testing
