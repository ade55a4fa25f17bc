#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions called through wait_for, trap and eval
# Faults: a point that outlives --timeout (fake backend hang, an MPI point too long, a stalled
# MPI peer), a rank killed mid-run, SIGTERM, wrong results, an unwritable --out, and two runs
# sharing a directory. In each, the exit status says what happened and the run file keeps every
# point that finished.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v "${MPIRUN:-mpirun}" >/dev/null || skip_all "no mpirun"
[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"

export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-60}
sb1() { timeout -k 5 60 "$SB" "$@"; }

plan 69

# Background processes this file started, and ranks it stopped: all are ended at exit.
BG=()
STOPPED=()
descendants() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		descendants "$c"
		echo "$c"
	done
}
# Is PID still one of our scalebench processes (not a recycled PID)?
is_sb() { [ "$(tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline" | head -1)" = "$SB" ]; }
cleanup() {
	local p c
	for p in "${STOPPED[@]}"; do
		is_sb "$p" && kill -KILL "$p" 2>/dev/null
	done
	for p in "${BG[@]}"; do
		# Only a child still running (or unreaped): a reaped PID may belong to someone else.
		[ "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" = "$$" ] || continue
		for c in $(descendants "$p"); do kill -KILL "$c" 2>/dev/null; done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

elapsed_since() { echo "$(now) - $1" | bc; }

# Wait for our child PID at most SECS seconds (then kill it and its descendants); its exit
# status goes to $WST (not a subshell: only this shell can wait for its children).
wait_child() {
	local pid=$1 secs=$2 c
	if ! wait_for "$secs" is_done "$pid"; then
		for c in $(descendants "$pid"); do kill -KILL "$c" 2>/dev/null; done
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
	WST=$?
}
is_done() { # a child that has exited is a zombie until waited for
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}
# PID of MPI rank R among the descendants of PID (by OMPI_COMM_WORLD_RANK in its environment).
rank_pid() {
	local c
	for c in $(descendants "$1"); do
		if is_sb "$c" && tr '\0' '\n' 2>/dev/null <"/proc/$c/environ" |
			grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
			echo "$c"
			return 0
		fi
	done
	return 1
}
# Every line of FILE is a JSON object, and every point record is complete.
records_ok() {
	local n good
	n=$(wc -l <"$1")
	good=$(jq -c 'type == "object" and (.type != "point" or (
		(.params.bytes | type) == "number" and (.samples | length) == .summary.n and
		.summary.n > 0 and (.summary.median | type) == "number" and
		(.metrics.busbw.value | type) == "number" and
		(.check.status | IN("ok", "off", "failed"))))' "$1" 2>/dev/null | grep -c '^true$')
	[ "$n" -gt 0 ] && [ "$good" = "$n" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ]
}
errlines() { grep -c 'scalebench: error' "$1"; }

# --- (a) timeout, fake backend: operations on >= 1024 B never return -------------------------
d=$TMP/t
t0=$(now)
SB_FAKE_HANG_BYTES=1024 sb1 allreduce --backend fake -b 4 -e 4K --timeout 1 --max-time 0.01 \
	--out "$d" >"$d.out" 2>"$d.err"
st=$?
el=$(elapsed_since "$t0")
is "$st" 4 "timeout (fake): exit status 4"
lt "$el" 20
ok $? "timeout (fake): the job ended soon after --timeout 1 (${el}s)"
is "$(errlines "$d.err")" 1 "timeout (fake): one error line"
grep 'scalebench: error' "$d.err" | grep -q "1024 B.*--timeout 1"
ok $? "timeout (fake): the error names the point (1024 B) and the timeout"
f=$(runfile_in "$d") || f=/dev/null
records_ok "$f"
ok $? "timeout (fake): the run file parses, every point record complete"
is "$(jq -c -s '[.[] | select(.type == "point") | .params.bytes]' "$f")" \
	'[4,8,16,32,64,128,256,512]' "timeout (fake): the 8 points below 1024 B are kept (4..512)"
is "$(jq -c -s '.[-1] | [.type, .status, .points]' "$f")" '["end","timeout",8]' \
	"timeout (fake): end record, status timeout, points 8"
jq -e -s '.[-1].message | test("1024 B")' "$f" >/dev/null
ok $? "timeout (fake): the end record's message names the point"

# --- (b) timeout under MPI: a point with far more fixed iterations than --timeout allows -----
d=$TMP/tm
t0=$(now)
sbrun 2 allreduce -b 4K -e 8K -n 10000000 --timeout 1 --out "$d" >"$d.out" 2>"$d.err"
st=$?
el=$(elapsed_since "$t0")
is "$st" 4 "timeout (mpi, 2 ranks): exit status 4"
lt "$el" 20
ok $? "timeout (mpi): the job ended soon after --timeout 1 (${el}s)"
is "$(errlines "$d.err")" 1 "timeout (mpi): one error line (rank 0's)"
grep 'scalebench: error' "$d.err" | grep -q "allreduce 4096 B.*--timeout 1"
ok $? "timeout (mpi): the error names the point"
f=$(runfile_in "$d") || f=/dev/null
records_ok "$f"
ok $? "timeout (mpi): the run file parses"
is "$(jq -c -s '[.[0].type, .[-1].type, .[-1].status, .[-1].points, length]' "$f")" \
	'["run","end","timeout",0,2]' "timeout (mpi): run record, then end record with status timeout"

# --- (b1) the same with --timeout-grace 2: the ranks wait 2 s more, the record already written -
d=$TMP/tg
t0=$(now)
sbrun 2 allreduce -b 4K -e 4K -n 10000000 --timeout 1 --timeout-grace 2 --out "$d" \
	>"$d.out" 2>"$d.err"
st=$?
el=$(elapsed_since "$t0")
f=$(runfile_in "$d") || f=/dev/null
diag "timeout with a 2 s grace: exit status $st after ${el}s; the end record says $(jq -s -r '.[-1] | "\(.status) after \(.duration) s"' "$f")"
is "$st" 4 "timeout + grace: exit status 4"
lt 3 "$el" && lt "$el" 20
ok $? "timeout + grace: the job ended after --timeout 1 + the 2 s grace, not before (${el}s)"
jq -e -s '.[-1] | .type == "end" and .status == "timeout" and .duration < 2.5' "$f" >/dev/null
ok $? "timeout + grace: the end record was written at the timeout, before the grace"
SB_TIMEOUT_GRACE=soon sbrun 2 allreduce -b 8 -e 8 --timeout 1 --out "$TMP/tge" >"$TMP/tge.out" \
	2>"$TMP/tge.err"
is "$?" 2 "SB_TIMEOUT_GRACE=soon: bad input, exit 2"
is "$(grep -c "^scalebench: error: SB_TIMEOUT_GRACE must be seconds" "$TMP/tge.err")" 1 \
	"SB_TIMEOUT_GRACE=soon: one message, from rank 0"

# --- (b2) a stalled peer: rank 1 stopped (SIGSTOP) mid-sweep, rank 0's watchdog ends the job ---
d=$TMP/stall
sbrun 2 allreduce -b 4 -e 64M --max-time 0.5 --timeout 3 --out "$d" >"$d.out" 2>"$d.err" &
job=$!
BG+=("$job")
wait_for 30 has_points "$d" 3
ok $? "stalled peer: the run wrote 3 points"
r1=$(rank_pid "$job" 1)
ok $? "stalled peer: found rank 1 (pid ${r1:-?})"
if [ -n "$r1" ]; then
	STOPPED+=("$r1")
	kill -STOP "$r1"
fi
t0=$(now)
wait_child "$job" 30
st=$WST
el=$(elapsed_since "$t0")
is "$st" 4 "stalled peer: exit status 4 (timeout) after ${el}s"
f=$(runfile_in "$d") || f=/dev/null
records_ok "$f"
ok $? "stalled peer: the run file parses, every point record complete"
np=$(npoints "$d")
is "$(jq -c -s '.[-1] | [.type, .status, .points]' "$f")" "[\"end\",\"timeout\",$np]" \
	"stalled peer: end record, status timeout, points == the $np point records"
# The stopped rank outlives mpirun here (Open MPI's SIGTERM waits behind SIGSTOP); let it go.
if [ -n "$r1" ]; then
	kill -CONT "$r1" 2>/dev/null
	wait_for 10 eval "! is_sb $r1"
	ok $? "stalled peer: rank 1 is gone once continued"
else
	ok 1 "stalled peer: rank 1 is gone once continued"
fi

# --- (c) a rank killed mid-run -------------------------------------------------------------
d=$TMP/k
sbrun 2 allreduce -b 4 -e 64M --max-time 0.5 --out "$d" >"$d.out" 2>"$d.err" &
job=$!
BG+=("$job")
wait_for 30 has_points "$d" 3
ok $? "killed rank: the run wrote 3 points"
r0=$(rank_pid "$job" 0)
r1=$(rank_pid "$job" 1)
ok $? "killed rank: found rank 1 (pid ${r1:-?})"
[ -n "$r1" ] && kill -KILL "$r1"
t0=$(now)
wait_child "$job" 30
st=$WST
el=$(elapsed_since "$t0")
diag "killed rank: mpirun exited with $st, ${el}s after SIGKILL to rank 1"
[ "$st" != 0 ]
ok $? "killed rank: non-zero exit status ($st)"
lt "$el" 15
ok $? "killed rank: the job ended within ~10 s (${el}s)"
f=$(runfile_in "$d") || f=/dev/null
records_ok "$f"
ok $? "killed rank: the run file parses line by line, every point record complete"
np=$(npoints "$d")
[ "$np" -ge 3 ]
ok $? "killed rank: the points finished before the kill are kept ($np)"
last=$(tail -n 1 "$f" | jq -c '[.type, .status, .points]')
case $last in
'["end",'*)
	diag "killed rank: rank 0 wrote an end record: $last"
	is "$last" "[\"end\",\"killed\",$np]" "killed rank: the end record says killed, points $np"
	;;
*)
	diag "killed rank: no end record (last record: $last)"
	skip 1 "no end record was written"
	;;
esac
! is_sb "${r0:-0}"
ok $? "killed rank: rank 0 (pid ${r0:-?}) is gone too"

# --- (d) SIGTERM to a singleton ------------------------------------------------------------
d=$TMP/term
SB_FAKE_HANG_BYTES=1024 "$SB" allreduce --backend fake -b 4 -e 4K --max-time 0.01 \
	--out "$d" >"$d.out" 2>"$d.err" &
job=$!
BG+=("$job")
wait_for 30 has_points "$d" 8
ok $? "SIGTERM: the run wrote the 8 points below the hang"
sleep 0.2 # into the hung point
is_sb "$job"
ok $? "SIGTERM: the job is still running (hung)"
kill -TERM "$job"
wait_child "$job" 30
st=$WST
is "$st" 143 "SIGTERM: exit status 143 (128 + 15)"
f=$(runfile_in "$d") || f=/dev/null
records_ok "$f"
ok $? "SIGTERM: the run file parses"
is "$(jq -c -s '.[-1] | [.type, .status, .points, (.message | test("SIGTERM"))]' "$f")" \
	'["end","killed",8,true]' "SIGTERM: end record, status killed, points 8, names SIGTERM"
is "$(errlines "$d.err")" 1 "SIGTERM: one error line"

# --- (e) wrong results ---------------------------------------------------------------------
d=$TMP/w
SB_FAKE_CORRUPT_BYTES=64 sb1 allreduce --backend fake -b 4 -e 4K -c 1 --max-time 0.01 \
	--out "$d" >"$d.out" 2>"$d.err"
is "$?" 1 "wrong results: exit status 1"
f=$(runfile_in "$d") || f=/dev/null
records_ok "$f"
ok $? "wrong results: the run file parses"
is "$(jq -c -s '[.[] | select(.type == "point" and .params.bytes < 64) | .check |
	[.status, .wrong]] | unique' "$f")" '[["ok",0]]' "wrong results: points below 64 B pass"
is "$(jq -c -s '[.[] | select(.type == "point" and .params.bytes >= 64) | .check |
	[.status, .wrong > 0]] | unique' "$f")" '[["failed",true]]' \
	"wrong results: points of 64 B and more have check.status failed, wrong > 0"
is "$(jq -c -s '[.[] | select(.type == "point")] | length' "$f")" 11 \
	"wrong results: the sweep went on (11 points)"
is "$(jq -c -s '.[-1] | [.type, .status, .points]' "$f")" '["end","check-failed",11]' \
	"wrong results: end record, status check-failed"
grep 'scalebench: error' "$d.err" | grep -q 'wrong results'
ok $? "wrong results: stderr says wrong results"
is "$(errlines "$d.err")" 1 "wrong results: one error line"
is "$(awk '/^  [0-9]/ {print ($1 >= 64) == ($NF > 0)}' "$d.out" | sort -u | tr -d '\n')" 1 \
	"wrong results: the table's wrong column is non-zero exactly from 64 B"

# --- (f) an unwritable --out ---------------------------------------------------------------
: >"$TMP/afile"
check_unwritable() { # LABEL DIR-BASE WANT
	local label=$1 d=$2 want=$3 st
	st=$(cat "$d.rc")
	[ "$st" != 0 ]
	ok $? "$label: non-zero exit status ($st)"
	is "$st" 3 "$label: exit status 3 (an I/O fault)"
	is "$(errlines "$d.err")" 1 "$label: exactly one error line"
	grep 'scalebench: error' "$d.err" | grep -qF "$want"
	ok $? "$label: the message names '$want'"
	is "$(grep -c '^  [0-9]' "$d.out")" 0 "$label: no table rows on stdout"
}
d=$TMP/u1
sb1 allreduce --backend fake -b 4 -e 1K --max-time 0.01 --out "$TMP/afile/sub" \
	>"$d.out" 2>"$d.err"
echo $? >"$d.rc"
check_unwritable "--out below a file (singleton)" "$d" "$TMP/afile/sub"
d=$TMP/u2
sbrun 2 allreduce -b 4 -e 1K --max-time 0.01 --out "$TMP/afile/sub" >"$d.out" 2>"$d.err"
echo $? >"$d.rc"
check_unwritable "--out below a file (mpirun -np 2)" "$d" "$TMP/afile/sub"
d=$TMP/u3
sb1 allreduce --backend fake -b 4 -e 1K --max-time 0.01 --out "$TMP/afile" \
	>"$d.out" 2>"$d.err"
echo $? >"$d.rc"
check_unwritable "--out is a file (singleton)" "$d" "$TMP/afile"
is "$(wc -c <"$TMP/afile")" 0 "--out is a file: the file is untouched"

# --- (g) two runs at once into one directory -----------------------------------------------
d=$TMP/g
sb1 allreduce --backend fake -b 4 -e 1K --max-time 0.01 --out "$d" >"$d.1.out" 2>"$d.1.err" &
j1=$!
sb1 allreduce --backend fake -b 4 -e 1K --max-time 0.01 --out "$d" >"$d.2.out" 2>"$d.2.err" &
j2=$!
BG+=("$j1" "$j2")
wait "$j1"
s1=$?
wait "$j2"
s2=$?
is "$s1/$s2" 0/0 "two runs at once: both exit 0"
files=("$d"/*.jsonl)
is "${#files[@]}" 2 "two runs at once: two run files"
diag "two runs at once: ${files[*]##*/}"
good=0
for f in "${files[@]}"; do
	records_ok "$f" && [ "$(jq -c -s '.[-1] | [.type, .status, .points]' "$f")" = '["end","ok",9]' ] &&
		good=$((good + 1))
done
is "$good" 2 "two runs at once: both files complete (9 points, end ok)"
is "$(cat "${files[@]}" | jq -r 'select(.type == "run") | .run_id' | sort -u | wc -l)" 2 \
	"two runs at once: distinct run ids"

# No sanitizer report anywhere (when run against a sanitizer build).
is "$(cat "$TMP"/*.err | grep -c -E 'ERROR: (Address|Leak)Sanitizer|runtime error:')" 0 \
	"no sanitizer report in any run"

done_testing
