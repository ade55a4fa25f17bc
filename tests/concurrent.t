#!/usr/bin/env bash
# Two of a kind at once (issue 14): runs into one --out, ingests into one history. Nothing is
# lost: every run file complete and its own, every run in the history once, no "database is
# locked".
#
# faults.t (g) has two singleton runs into one --out; here: MPI jobs beside singletons, runs
# whose file names collide (each in a PID namespace of its own, where all have one pid, with the
# names it would take already there), ingests into one new history, ingests of the same runs,
# and an ingest that waits for a writer holding the history longer than SQLite's usual 10 s.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v sqlite3 >/dev/null || skip_all "sqlite3 is not installed"
command -v "${MPIRUN:-mpirun}" >/dev/null || skip_all "no mpirun"
[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"
R=$SB_BUILD/scalebench-report
F=$TOP/tests/fixtures/runs

export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-120}
sb1() { timeout -k 5 120 "$SB" "$@"; }
plan 17

# A run file whole: a run record first, an end record "ok" last that counts the points the
# file holds, and every line a JSON object.
complete() {
	[ "$(jq -c -s '(.[0].type == "run") and (.[-1].type == "end") and (.[-1].status == "ok")
		and (.[-1].points == ([.[] | select(.type == "point")] | length))
		and (.[-1].points > 0)' "$1" 2>/dev/null)" = true ]
}
# The exit statuses of the background jobs PIDS..., waited for in turn, as one string ("000")
# in st (not through $(...): a subshell cannot wait for its parent's children).
statuses() {
	local p
	st=""
	for p in "$@"; do
		wait "$p"
		st="$st$?"
	done
}
count_complete() {
	local n=0 f
	for f in "$@"; do complete "$f" && n=$((n + 1)); done
	echo "$n"
}
run_ids() { jq -r 'select(.type == "run") | .run_id' "$@" | sort -u | wc -l; }

# Runs with new run ids: copies of a recorded run (SET-N.jsonl in DIR).
make_runs() { # make_runs DIR SET N
	local i id
	mkdir -p "$1"
	for i in $(seq "$3"); do
		id=$(printf '%s%030x' "$2" "$i")
		sed "1s/\"run_id\":\"[0-9a-f]*\"/\"run_id\":\"$id\"/" "$F/real-allreduce-2.jsonl" \
			>"$1/$2-$i.jsonl"
	done
}
make_runs "$TMP/r" aa 20
make_runs "$TMP/r" bb 20
make_runs "$TMP/r" cc 20
make_runs "$TMP/r" dd 20
per_run=$(grep -c '"type":"point"' "$F/real-allreduce-2.jsonl")

# --- a writer that holds the history for 12 s, and an ingest started meanwhile ---------------
# (started first, so that its wait overlaps the rest; checked at the end)
HELD=$TMP/held.sqlite
"$R" ingest --db "$HELD" "$F/mini.jsonl" >/dev/null 2>&1
{
	echo "BEGIN IMMEDIATE;"
	echo "INSERT INTO meta(key, value) VALUES('held', '1');"
	sleep 12
	echo "COMMIT;"
} | sqlite3 "$HELD" &
holder=$!
sleep 0.5
t0=$SECONDS
"$R" ingest --db "$HELD" "$TMP"/r/aa-*.jsonl >"$TMP/held.out" 2>"$TMP/held.err" &
waiter=$!

# --- runs into one --out at once: two MPI jobs and two singletons ----------------------------
d=$TMP/out1
pids=()
for i in 1 2; do
	sbrun 2 allreduce -b 4 -e 1K --max-time 0.01 --out "$d" >"$TMP/m$i.out" 2>"$TMP/m$i.err" &
	pids+=($!)
	sb1 allreduce --backend fake -b 4 -e 1K --max-time 0.01 --out "$d" \
		>"$TMP/s$i.out" 2>"$TMP/s$i.err" &
	pids+=($!)
done
statuses "${pids[@]}"
is "$st" 0000 "four runs into one --out at once (2 x mpirun -np 2, 2 singletons): all exit 0"
files=("$d"/*.jsonl)
is "${#files[@]}" 4 "four run files"
is "$(count_complete "${files[@]}")" 4 "every one complete: its end record counts the points it holds"
is "$(run_ids "${files[@]}")" 4 "four distinct run ids"
"$R" show "${files[@]}" >/dev/null 2>"$TMP/show.err"
is "$? $(grep -c 'same run id' "$TMP/show.err")" "0 0" "the collector reads all four, none taken for another"

# --- runs whose file names collide -----------------------------------------------------------
# A run file is named BENCH-TIME-HOST-PID.jsonl and opened with O_EXCL, taking -PID-1, -PID-2...
# when the name exists. Runs in PID namespaces of their own all have one pid, so on one host
# within one second they want one name; with the names of the next 60 s already taken (empty
# decoys), every one must take another, and none may write into another's file.
if [ "$(id -u)" = 0 ] && unshare --pid --fork true 2>/dev/null; then
	d=$TMP/out2
	# Each with its own TMPDIR: OpenMPI keeps a singleton's session (and PMIx's shared memory)
	# under TMPDIR by pid, and these share one.
	ns1() {
		mkdir -p "$TMP/ns$1"
		TMPDIR=$TMP/ns$1 unshare --pid --fork timeout -k 5 120 "$SB" "${@:2}"
	}
	# The name such a run takes: its host and pid (timeout(1) is pid 1, the run pid 2).
	ns1 0 allreduce --backend fake -b 4 -e 4 --max-time 0.01 --out "$TMP/probe" >/dev/null 2>&1
	probe=$(runfile_in "$TMP/probe")
	rest=${probe##*/}
	rest=${rest#allreduce-*Z-}
	nspid=${rest##*-}
	nspid=${nspid%.jsonl}
	host=${rest%-*}
	mkdir -p "$d"
	now=$(date +%s)
	for t in $(seq "$now" $((now + 60))); do
		: >"$d/allreduce-$(date -u -d "@$t" +%Y%m%dT%H%M%SZ)-$host-$nspid.jsonl"
	done
	pids=()
	for i in 1 2 3; do
		ns1 "$i" allreduce --backend fake -b 4 -e 1K --max-time 0.01 --out "$d" \
			>"$TMP/ns$i.out" 2>"$TMP/ns$i.err" &
		pids+=($!)
	done
	statuses "${pids[@]}"
	is "$st" 000 "three runs with one pid into one --out, their names taken: all exit 0"
	mapfile -t made < <(find "$d" -name '*.jsonl' -size +0 | sort)
	is "${#made[@]}" 3 "three run files besides the 61 decoys"
	diag "colliding runs wrote: ${made[*]##*/}"
	is "$(printf '%s\n' "${made[@]}" | grep -c -E -- "-$host-$nspid-[0-9]+\.jsonl$")" 3 \
		"each took a name of its own (-$nspid-N)"
	is "$(count_complete "${made[@]}") $(run_ids "${made[@]}")" "3 3" \
		"all three complete, three run ids"
	is "$(find "$d" -name '*.jsonl' -size 0 | wc -l)" 61 "the decoys untouched"
else
	skip 5 "needs root and unshare --pid (runs in PID namespaces of their own)"
fi

# --- ingests into one history at once --------------------------------------------------------
# Four ingests of 20 runs each into a history that does not exist yet (they race to create
# it), five times over.
bad_rounds=0
for round in 1 2 3 4 5; do
	db=$TMP/h$round.sqlite
	pids=()
	for s in aa bb cc dd; do
		"$R" ingest --db "$db" "$TMP"/r/$s-*.jsonl >"$TMP/i$s.out" 2>"$TMP/i$s.err" &
		pids+=($!)
	done
	statuses "${pids[@]}"
	got="$st $(cat "$TMP"/i*.err | grep -c -i 'locked') $(sqlite3 "$db" \
		'select count(*) from runs; select count(*) from points; pragma integrity_check' | tr '\n' ' ')"
	if [ "$got" != "0000 0 80 $((80 * per_run)) ok " ]; then
		bad_rounds=$((bad_rounds + 1))
		diag "round $round: exit statuses, 'locked' lines, runs, points, integrity: $got"
		cat "$TMP"/i*.err >&2
	fi
done
is "$bad_rounds" 0 "four ingests into one new history at once, 5 times: all exit 0, no 'database is locked', 80 runs and all their points, integrity ok"

# Two ingests of the same runs at once: each run once, and the two say so between them.
db=$TMP/same.sqlite
"$R" ingest --db "$db" "$TMP"/r/aa-*.jsonl >"$TMP/x1.out" 2>"$TMP/x1.err" &
p1=$!
"$R" ingest --db "$db" "$TMP"/r/aa-*.jsonl >"$TMP/x2.out" 2>"$TMP/x2.err" &
p2=$!
wait $p1
s1=$?
wait $p2
s2=$?
is "$s1$s2 $(sqlite3 "$db" 'select count(*) from runs')" "00 20" \
	"two ingests of the same 20 runs at once: both exit 0, 20 runs"
added=$(cat "$TMP/x1.out" "$TMP/x2.out" | sed -n 's/.*: \([0-9]*\) added to .*/\1/p' | paste -sd+ | bc)
is "$added" 20 "and their counts of runs added sum to 20"

# The ingest that waited for the writer holding the history.
wait $waiter
ws=$?
waited=$((SECONDS - t0))
wait $holder
is "$ws $(cat "$TMP/held.out")" "0 20 runs: 20 added to $HELD, 0 already there" \
	"an ingest while another writer holds the history for 12 s: it waits, exit 0"
ok "$([ $waited -ge 10 ] && echo 0 || echo 1)" "it waited for the writer (${waited} s)"
is "$(sqlite3 "$HELD" "select count(*) from runs; select value from meta where key = 'held'" | tr '\n' ' ')" \
	"21 1 " "both writes are in the history"

# No sanitizer report anywhere (when run against a sanitizer build).
is "$(cat "$TMP"/*.err | grep -c -E 'ERROR: (Address|Leak)Sanitizer|runtime error:')" 0 \
	"no sanitizer report in any run or ingest"

done_testing
