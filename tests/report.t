#!/usr/bin/env bash
# scalebench-report: reading run files (real ones recorded on this project's machine and small
# hand-made ones), malformed input, ingest, compare, show, history and import, through the
# command line. The Mann-Whitney U test itself is tested in t_mwu.c, the importers in t_import.c.
. "$(dirname "$0")/lib.sh"
plan 64
R=$SB_BUILD/scalebench-report
F=$TOP/tests/fixtures/runs
G=$TOP/tests/fixtures/golden
I=$TOP/tests/fixtures/import
DB=$TMP/h.sqlite

# One message on stderr and exit 2.
bad() { one_error "$1" "$2" "$R" "${@:3}"; } # bad DESCRIPTION PATTERN ARGS...

# --- reading ---
"$R" show "$F/mini.jsonl" >"$TMP/out" 2>"$TMP/err"
is $? 0 "show a hand-made run: exit 0"
grep -q '^# allreduce, mpi, 2 ranks, dtype float, op sum, out of place' "$TMP/out"
ok $? "its series table is titled by what was measured"
"$R" show "$F/mini-incomplete.jsonl" >"$TMP/out" 2>&1
grep -q 'incomplete (no end record)' "$TMP/out"
ok $? "a run without its end record is read and said to be incomplete"

# A run whose drift check found the machine changed state: read, and its status says so.
sed '5s/"points":3}/"points":3,"drifted":1,"drift":[{"benchmark":"allreduce","drifted":true}]}/' \
	"$F/mini.jsonl" >"$TMP/drift.jsonl"
"$R" show "$TMP/drift.jsonl" >"$TMP/out" 2>&1
grep -q 'ok (drift)' "$TMP/out"
ok $? "a run with drift reads, its status 'ok (drift)'"

# Malformed inputs, each made from the hand-made run.
m=$F/mini.jsonl
head -c 700 "$m" >"$TMP/trunc.jsonl"
bad "a truncated line" "trunc.jsonl:2: not JSON" show "$TMP/trunc.jsonl"
sed '2s/"bytes":1024/"bytes":"1024"/' "$m" >"$TMP/type.jsonl"
bad "bytes as a string" 'type.jsonl:2: "bytes" is not an integer' show "$TMP/type.jsonl"
sed '3s/2.0e-6,/"fast",/' "$m" >"$TMP/sample.jsonl"
bad "a sample that is not a number" 'sample.jsonl:3: samples\[0\] is not a time' show "$TMP/sample.jsonl"
sed '2s/1.0e-6,/NaN,/' "$m" >"$TMP/nan.jsonl"
bad "NaN in the samples" "nan.jsonl:2: not JSON" show "$TMP/nan.jsonl"
sed '2s/"bytes":1024/"bytes":1024000000000000000000000/' "$m" >"$TMP/huge.jsonl"
bad "an integer too large" "huge.jsonl:2: not JSON" show "$TMP/huge.jsonl"
sed '2s/1.0e-6,/1e999,/' "$m" >"$TMP/inf.jsonl"
bad "a real too large" "inf.jsonl:2: not JSON" show "$TMP/inf.jsonl"
sed '1s/"schema":1/"schema":2/' "$m" >"$TMP/v2.jsonl"
bad "an unknown schema version" "v2.jsonl:1: run-file schema 2 is not one" show "$TMP/v2.jsonl"
tail -n +2 "$m" >"$TMP/norun.jsonl"
bad "no run record first" 'norun.jsonl:1: the first record must be the "run" record' show "$TMP/norun.jsonl"
: >"$TMP/empty.jsonl"
bad "an empty file" "empty.jsonl" show "$TMP/empty.jsonl"
bad "a missing file" "nothere.jsonl: No such file" show "$TMP/nothere.jsonl"
head -c 3000 /dev/urandom >"$TMP/binary.jsonl"
"$R" show "$TMP/binary.jsonl" >/dev/null 2>"$TMP/err"
is "$? $(grep -c . "$TMP/err")" "2 1" "random bytes: exit 2, one message"
bad "an unknown option" "unknown option" show --colour "$m"
bad "an unknown format" "--format pdf" show --format pdf "$m"
bad "an unknown command" "unknown command 'fly'" fly

# The samples are read by a fast path; what it reads must equal what a JSON parser reads, and
# it must not be fooled by the same text inside a string or by spaces.
jq -c 'if .type == "point" then .label = "x\"samples\":[9,9] \"samples\":[" else . end' "$m" |
	sed '2s/"samples":\[/"samples" : [ /; 2s/1.1e-6,/1.1E-6 ,/' >"$TMP/tricky.jsonl"
"$R" show --format csv "$TMP/tricky.jsonl" >"$TMP/t1" && "$R" show --format csv "$m" >"$TMP/t2"
is "$(tail -n +5 "$TMP/t1" | md5sum)" "$(tail -n +5 "$TMP/t2" | md5sum)" "samples read alike through spaces, E exponents and look-alike strings"
"$R" compare "$TMP/tricky.jsonl" --baseline "$m" --format csv | grep -c ',unchanged,no significant difference (p = 1)' >"$TMP/n"
is "$(cat "$TMP/n")" 3 "and compare as identical to the original"
sed '2s/1.0e-6,/-1.0e-6,/' "$m" >"$TMP/neg.jsonl"
bad "a negative time" 'neg.jsonl:2: samples\[0\] is not a time' show "$TMP/neg.jsonl"
sed '2s/1.0e-6,/0x10,/' "$m" >"$TMP/hex.jsonl"
bad "a hexadecimal number" "hex.jsonl:2: not JSON" show "$TMP/hex.jsonl"
# The summary is recomputed from the samples: one that disagrees (beyond the writer's 9 digits)
# is refused, as is a key given twice, whose value jansson would take from the last.
sed '3s/"median":2.45e-6/"median":1.5e-5/' "$m" >"$TMP/summary.jsonl"
bad "a summary that disagrees with its samples" \
	'summary.jsonl:3: summary.median 1.5e-05 disagrees with the median of its samples 2.45e-06' \
	show "$TMP/summary.jsonl"
sed '3s/"summary":{/"summary":{"median":1.5e-5},"summary":{/' "$m" >"$TMP/twice.jsonl"
bad "a key given twice" 'twice.jsonl:3: a duplicate key in the record' show "$TMP/twice.jsonl"
sed '4s/"median":4.45e-6/"median":4.45000004e-6/' "$m" >"$TMP/rounded.jsonl"
"$R" show "$TMP/rounded.jsonl" >/dev/null 2>"$TMP/err"
is "$? $(wc -c <"$TMP/err")" "0 0" "a median 9e-9 off, the writer's rounding: read"

# --- ingest ---
"$R" ingest --db "$DB" "$F/mini.jsonl" "$F/real-allreduce-1.jsonl" >"$TMP/out" 2>&1
is "$? $(cat "$TMP/out")" "0 2 runs: 2 added to $DB, 0 already there" "ingest two runs"
"$R" ingest --db "$DB" "$F/mini.jsonl" "$F/real-allreduce-1.jsonl" "$F/mini-incomplete.jsonl" >"$TMP/out" 2>"$TMP/err"
is "$? $(cat "$TMP/out")" "0 3 runs: 1 added to $DB, 2 already there (incomplete runs marked so)" \
	"ingest again: nothing twice, the new incomplete run added"
grep -q "mini-incomplete.jsonl: incomplete run" "$TMP/err"
ok $? "and the incomplete run is named"
is "$(sqlite3 "$DB" 'select count(*) from runs; select count(*) from points; select complete from runs where run_id like "fedc%"' | tr '\n' ' ')" \
	"3 $((3 + $(grep -c '"type":"point"' "$F/real-allreduce-1.jsonl") + 2)) 0 " "3 runs, their points once each, the incomplete one marked"
# All or nothing: a bad file in the list leaves the database as it was.
before=$(sqlite3 "$DB" 'select count(*) from runs')
"$R" ingest --db "$DB" "$F/real-allreduce-2.jsonl" "$TMP/type.jsonl" >/dev/null 2>&1
is "$? $(sqlite3 "$DB" 'select count(*) from runs')" "2 $before" "a malformed file in an ingest: exit 2, nothing added"
# An interrupted ingest (killed in its transaction) leaves it as it was too.
for i in $(seq 40); do cp "$F/real-allreduce-2.jsonl" "$TMP/many$i.jsonl"; sed -i "1s/\"run_id\":\"[0-9a-f]*\"/\"run_id\":\"$(printf '%032x' $i)\"/" "$TMP/many$i.jsonl"; done
"$R" ingest --db "$DB" "$TMP"/many*.jsonl >/dev/null 2>&1 &
pid=$!
sleep 0.05
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
n=$(sqlite3 "$DB" 'select count(*) from runs')
ok $([ "$n" = "$before" ] || [ "$n" = $((before + 40)) ] && echo 0 || echo 1) \
	"an ingest killed midway: all of it or none ($n runs)"
is "$(sqlite3 "$DB" 'pragma integrity_check')" ok "and the database is sound"
sqlite3 "$DB" "delete from points where run_id in (select run_id from runs where path like '%many%'); delete from runs where path like '%many%'"

# --- history queries ---
"$R" history --db "$DB" --benchmark allreduce --format csv >"$TMP/out"
is "$(($(wc -l <"$TMP/out") - 1))" 3 "history by benchmark: three runs"
"$R" history --db "$DB" --software "Hand MPI" --format csv >"$TMP/out"
is "$(($(wc -l <"$TMP/out") - 1))" 2 "by software: the two hand-made runs"
"$R" history --db "$DB" --since 2026-11-02 --format csv >"$TMP/out"
is "$(($(wc -l <"$TMP/out") - 1))" 1 "by time: the one recorded here this month"
cls=$(sqlite3 "$DB" "select machine_class from runs where run_id like '0123%'")
"$R" history --db "$DB" --machine "$cls" --config '"bytes":2048' --format csv >"$TMP/out"
is "$(($(wc -l <"$TMP/out") - 1))" 2 "by machine class and configuration"

# --- compare ---
"$R" compare "$F/real-allreduce-1.jsonl" --baseline "$F/real-allreduce-1.jsonl" --format csv >"$TMP/out"
st=$?
is "$st $(grep -c ',unchanged,' "$TMP/out")" "0 $(grep -c '"type":"point"' "$F/real-allreduce-1.jsonl")" \
	"a run against itself: exit 0, every point unchanged"
# A copy 1.3 times slower: every point regressed.
jq -c 'if .type == "point" then .samples |= map(. * 1.3) |
	.summary |= (.median *= 1.3 | .min *= 1.3 | .max *= 1.3 | .mean *= 1.3) else . end |
	if .type == "run" then .run_id = "1111111111111111aaaaaaaaaaaaaaaa" |
	.start_time = "2026-12-01T00:00:00.000000Z" else . end' \
	"$F/real-allreduce-1.jsonl" >"$TMP/slow.jsonl"
"$R" compare "$TMP/slow.jsonl" --baseline "$F/real-allreduce-1.jsonl" --format csv >"$TMP/out"
st=$?
is "$st $(grep -c ',regressed,' "$TMP/out")" "1 $(grep -c '"type":"point"' "$F/real-allreduce-1.jsonl")" \
	"times x1.3: exit 1, every point regressed"
"$R" compare "$F/real-allreduce-1.jsonl" --baseline "$TMP/slow.jsonl" --format csv >"$TMP/out"
is "$? $(grep -c ',improved,' "$TMP/out")" "0 $(grep -c '"type":"point"' "$F/real-allreduce-1.jsonl")" \
	"the other way round: every point improved, exit 0"
# Real runs of one configuration, recorded one after the other on this machine (2 ranks, 1 KiB
# to 1 MiB): the fifth against the rolling baseline of the four before it raises no false
# alarm. (Single runs differ here by 5-30% from run to run as the VM changes state, and the U
# test on per-iteration samples finds any such difference significant; the spread of several
# baseline runs is what keeps that from being called a regression: results/README.md.)
"$R" ingest --db "$TMP/real.sqlite" "$F"/real-allreduce-[1-4].jsonl >/dev/null
"$R" compare "$F/real-allreduce-5.jsonl" --db "$TMP/real.sqlite" --format csv >"$TMP/out"
is "$? $(grep -c ',regressed,' "$TMP/out") $(grep -c ',4,' "$TMP/out")" "0 0 6" \
	"a real run against the 4 before it (the default --history 5): no regression, 6 points compared" ||
	diag "$(cat "$TMP/out")"
# Not comparable, with why.
"$R" compare "$F/mini.jsonl" --baseline "$F/real-handoff.jsonl" --format csv >"$TMP/out" 2>/dev/null
is "$? $(grep -c 'not comparable,the baseline run has no point of this configuration' "$TMP/out")" "0 3" \
	"different configurations: not comparable, with why"
sed '3s/"status":"ok"/"status":"failed"/' "$m" >"$TMP/failed.jsonl"
"$R" compare "$TMP/failed.jsonl" --baseline "$m" --format csv >"$TMP/out"
grep -q 'not comparable,its check failed' "$TMP/out"
ok $? "a point whose check failed is not comparable"
# The rolling baseline from the history.
"$R" ingest --db "$DB" "$F/real-allreduce-2.jsonl" >/dev/null
"$R" compare "$TMP/slow.jsonl" --history 5 --db "$DB" --format csv >"$TMP/out"
is "$? $(grep -c ',regressed,' "$TMP/out")" "1 $(grep -c '"type":"point"' "$F/real-allreduce-1.jsonl")" \
	"against the last runs in the history: the slow copy regresses everywhere"
"$R" compare "$F/mini.jsonl" --history 5 --db "$DB" --format csv >"$TMP/out" 2>/dev/null
grep -q 'too few samples (10 and 10)' "$TMP/out" || grep -q 'no earlier run' "$TMP/out"
ok $? "10 samples a side against the history: not comparable, with why"
bad "--baseline and --history together" "not both" compare "$m" --baseline "$m" --history 3
bad "--alpha out of range" "--alpha 2" compare "$m" --baseline "$m" --alpha 2
bad "no database" "no history database" compare "$m" --db "$TMP/none.sqlite"

# --- exit statuses: 0 and 1 above (compare), 2 bad input (bad), 3 a fault ---
# One message on stderr and exit 3 (what the command writes goes to OUT, /dev/null unless set).
fault() { # fault DESCRIPTION PATTERN ARGS...
	local what=$1 pat=$2
	shift 2
	"$R" "$@" >"${OUT:-/dev/null}" 2>"$TMP/err"
	local st=$?
	is "$st $(grep -c . "$TMP/err") $(grep -c -- "$pat" "$TMP/err")" "3 1 1" "$what: exit 3, one message"
}
echo "not a database, some text to fill its first page" >"$TMP/text.sqlite"
bad "a history that is not a database (compare)" "text.sqlite: not a scalebench history database" \
	compare "$m" --db "$TMP/text.sqlite"
bad "a history that is not a database (history)" "text.sqlite: not a scalebench history database" \
	history --db "$TMP/text.sqlite"
fault "a database that cannot be created" "nodir/h.sqlite: cannot open the database" \
	ingest --db "$TMP/nodir/h.sqlite" "$m"
if [ -w /dev/full ]; then
	fault "an output file that cannot be written" "/dev/full: No space left" show "$m" -o /dev/full
	OUT=/dev/full fault "a standard output that cannot be written (show)" "standard output" show "$m"
	OUT=/dev/full fault "a standard output that cannot be written (compare)" "standard output" \
		compare "$m" --baseline "$m"
	OUT=/dev/full fault "a standard output that cannot be written (--help)" "standard output" --help
else
	skip 4 "no /dev/full"
fi

# --- show: formats ---
for fmt in md csv; do
	"$R" show --format $fmt "$F/mini.jsonl" "$F/mini-incomplete.jsonl" >"$TMP/show.$fmt"
	cmp -s "$TMP/show.$fmt" "$G/mini.$fmt"
	ok $? "show --format $fmt matches its golden file" || diag "$(diff "$G/mini.$fmt" "$TMP/show.$fmt" | head -20)"
done
"$R" show --format html -o "$TMP/page.html" "$F/real-allreduce-1.jsonl" "$F/real-allreduce-2.jsonl" "$F/real-handoff.jsonl" "$F/real-1f1b.jsonl"
is $? 0 "show --format html of four real runs"
is "$(grep -c '<svg' "$TMP/page.html")" 4 "one time and one bandwidth plot per series (all-reduce, handoff)"
grep -q 'Pipeline schedules' "$TMP/page.html" && ! grep -qi '<script\|src=\|href=' "$TMP/page.html"
ok $? "with the pipeline summary, and nothing fetched from elsewhere (no scripts, no links)"
# A hostile host name in a run file is escaped everywhere.
jq -c 'if .type == "run" then .provenance.hosts[0].host = "<script>alert(1)</script>&\"x" |
	.provenance.mpi_library = "<img src=x onerror=alert(2)>" else . end |
	if .type == "point" then .label = "<b>bold</b>" else . end' "$m" >"$TMP/hostile.jsonl"
"$R" show --format html "$TMP/hostile.jsonl" >"$TMP/h.html"
! grep -q '<script>\|<img\|<b>' "$TMP/h.html" && grep -q '&lt;img src=x onerror=alert(2)&gt;' "$TMP/h.html" &&
	grep -q '&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;x' "$TMP/h.html"
ok $? "hostile strings from a run file are escaped in HTML"
"$R" show --format md "$TMP/hostile.jsonl" >"$TMP/h.md"
! grep -q '<img\|<b>' "$TMP/h.md" && grep -q '&lt;img src=x onerror=alert(2)&gt;' "$TMP/h.md"
ok $? "and in Markdown, which a CI summary renders as HTML"

# --- import ---
if [ -d "$I" ] && ls "$I"/* >/dev/null 2>&1; then
	n=0
	for log in "$I"/*; do
		case $log in *bad* | *malformed* | *truncated*) continue ;; esac
		"$R" import "$log" -o "$TMP/imp.jsonl" 2>/dev/null || continue
		n=$((n + 1))
		"$R" show "$TMP/imp.jsonl" >/dev/null 2>&1 || n=1000
	done
	ok $([ "$n" -ge 3 ] && [ "$n" -lt 1000 ] && echo 0 || echo 1) "$n logs of other tools import, and the imports show"
	f=$(ls "$I"/* | grep -i nccl | grep -v -i 'bad\|json\|trunc' | head -1)
	"$R" show "$f" >"$TMP/out" 2>&1
	is $? 0 "show reads an nccl-tests log directly"
	"$R" compare "$f" --baseline "$f" --format csv >"$TMP/out" 2>/dev/null
	grep -q 'not comparable,no per-iteration samples (an imported result keeps only a mean)' "$TMP/out"
	ok $? "an imported result is not comparable by the U test, and says why"
else
	skip 3 "no import fixtures"
fi
done_testing
