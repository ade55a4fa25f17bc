#!/usr/bin/env bash
# scalebench-report claims: a verdict for every claim of the claims file on runs made here (a
# suite on 2 ranks; an infer run on the fake backend, whose virtual clock gives exact
# latencies) and on the H200 baselines; every format; a broken claims file is one message and
# exit 2; a claim without a measurement is never a pass. The claims file, the seeds and the
# verdict logic themselves are tested in t_claims.c.
. "$(dirname "$0")/lib.sh"
[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"
plan 25
R=$SB_BUILD/scalebench-report
CL=$TOP/results/claims/claims.json
H200=$TOP/../shared/baselines/nvidia-h200
VERDICT='(PASS|FAIL|INCONCLUSIVE|NO_MEASUREMENT|UNTESTABLE)'

# Rows of the text table: "C06  T  direct  PASS  0.356 ms ...".
row() { grep -E "^$1 " "$2" | head -1; }
verdict() { row "$1" "$2" | awk '{print $4}'; }
# Claims given a verdict, one row each, in the first table.
verdicts() { sed '/^# claims: inputs/,$d' "$1" | grep -cE "^C[0-9]{2} +[TCU] +[a-z]+ +$VERDICT "; }
# Rows that pass without a value: must be none.
pass_without_value() { sed '/^# claims: inputs/,$d' "$1" | awk '$4 == "PASS" && $5 == "-"' | wc -l; }

# --- runs made here ---
# One request at a time on the fake backend: TTFT 356 us and TPOT 102 us, every request
# (infer.t works them out), 700 of them so that a p99 is reported (662).
"$SB" infer --backend fake --concurrency 1 --requests 700 -w 1 --out "$TMP/f" >/dev/null 2>&1
F=$(runfile_in "$TMP/f")
ok $? "a fake-backend infer run"
sbrun 2 suite -e 64K --max-time 0.2 --out "$TMP/su" >/dev/null 2>&1
S=$(runfile_in "$TMP/su")
ok $? "a suite run on 2 ranks"

"$R" claims "$S" "$F" >"$TMP/out" 2>"$TMP/err"
is $? 0 "claims on the two runs: exit 0"
is "$(verdicts "$TMP/out")" 30 "every claim has a verdict"
is "$(grep -c '^# 30 claims: ' "$TMP/out")" 1 "and the count of each verdict under the table"
is "$(row C06 "$TMP/out" | awk '{print $4, $5, $6, $7, $8}')" "PASS 0.356 ms [0.356, 0.356]" \
	"C06: the fake run's TTFT p99 356 us against 5 ms: PASS"
is "$(row C15 "$TMP/out" | awk '{print $4, $5, $6}')" "FAIL 1020 ms" \
	"C15: 10,000 decode steps at TPOT 102 us take 1020 ms, not a few: FAIL"
grep -qE '^C03 .*run [0-9a-f]{8} .*f = ' "$TMP/out"
ok $? "C03's inputs name the run, the point and the measured fraction"
is "$(verdict C07 "$TMP/out") $(verdict C17 "$TMP/out") $(verdict C01 "$TMP/out")" \
	"NO_MEASUREMENT NO_MEASUREMENT NO_MEASUREMENT" \
	"one host, no power, one generation: C07, C17, C01 have no measurement"
is "$(verdict C04 "$TMP/out")" UNTESTABLE "a class U claim is UNTESTABLE"
is "$(pass_without_value "$TMP/out")" 0 "no claim passes without a value"

# Only the suite run: no infer point with a p99 (100 requests), so C06 is at best
# INCONCLUSIVE, never a pass.
"$R" claims "$S" >"$TMP/s.out" 2>&1
v=$(verdict C06 "$TMP/s.out")
case $v in FAIL | INCONCLUSIVE) r=0 ;; *) r=1 ;; esac
ok $r "the suite's 100 requests give no p99: C06 $v (FAIL or INCONCLUSIVE, not PASS)"

# Every format, to a file too.
"$R" claims "$S" "$F" --format csv -o "$TMP/c.csv" 2>/dev/null
is "$? $(grep -cE "^C[0-9]{2},[TCU],[a-z]+,$VERDICT," "$TMP/c.csv")" "0 30" "csv: a row per claim"
"$R" claims "$S" "$F" --format md >"$TMP/c.md" 2>/dev/null
is "$(grep -cE "^\| C[0-9]{2} \| [TCU] \| [a-z]+ \| $VERDICT \|" "$TMP/c.md")" 30 "md: a row per claim"
"$R" claims "$S" "$F" --format html >"$TMP/c.html" 2>/dev/null
is "$(grep -c '<tr><td>C[0-9][0-9]</td>' "$TMP/c.html") $(grep -c "Amdahl&#39;s Law" "$TMP/c.html")" \
	"30 1" "html: a row per claim, the quotes escaped"

# From another directory, the default claims file is still found.
(cd "$TMP" && "$R" claims "$F" >"$TMP/cd.out" 2>&1)
is "$? $(verdicts "$TMP/cd.out")" "0 30" "the default claims file, run from elsewhere"

# --- the H200 baselines (NCCL and staged MPI all-reduce, a cuBLAS pipeline) ---
if [ -d "$H200" ]; then
	"$R" claims "$H200"/*.jsonl >"$TMP/h.out" 2>"$TMP/h.err"
	is "$? $(verdicts "$TMP/h.out")" "0 30" "the H200 baselines: every claim has a verdict"
	is "$(verdict C06 "$TMP/h.out")" NO_MEASUREMENT "no infer point there: C06 NO_MEASUREMENT"
	v=$(verdict C03 "$TMP/h.out")
	[ "$v" != NO_MEASUREMENT ] && [ "$v" != "" ]
	ok $? "the cuBLAS pipeline gives C03 its phase fraction ($v)"
	is "$(pass_without_value "$TMP/h.out")" 0 "no claim passes without a value"
else
	skip 4 "no baselines at $H200"
fi

# --- bad input: one message, exit 2 ---
bad() { one_error "$1" "$2" "$R" "${@:3}"; } # bad DESCRIPTION PATTERN ARGS...
sed 's/"offset": 18129,/"offset": "18129",/' "$CL" >"$TMP/broken.json"
bad "an offset that is a string" "broken.json: claim C07: field 'offset': not an integer" \
	claims "$F" --claims "$TMP/broken.json"
sed 's/"class": "T",/"class": "X",/' "$CL" >"$TMP/class.json"
bad "a bad class" "class.json: claim C03: field 'class'" claims "$F" --claims "$TMP/class.json"
bad "a missing claims file" "nothere.json" claims "$F" --claims "$TMP/nothere.json"
bad "no run" "needs run files" claims --claims "$CL"
bad "a bad format" "--format pdf" claims "$F" --format pdf

done_testing
