#!/usr/bin/env bash
# scalebench-report compare on the series a point carries (infer's per-request ttft, tpot): two
# infer runs on the fake backend (deterministic) whose time to first token differs, through
# every output format, the --series option and its bad input, the history (which keeps no
# series), a run file without the series' values, and runs without series (unchanged output).
. "$(dirname "$0")/lib.sh"
[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"
plan 26
R=$SB_BUILD/scalebench-report
F=$TOP/tests/fixtures/runs

# Dynamic batching holds a lone request up to --max-delay-us (200) for company: at 100
# requests/s the batches start on that timer, so TTFT = 200 us + the prefill (100 us + 128 x
# the cost per token) and TPOT = a decode step (100 us + 1 x the cost per token). The slow
# run's model costs 16 us a token instead of 2 (SB_FAKE_INFER_STEP, not a parameter of the
# point: the same configuration on a slower machine): TTFT 556 -> 2348 us, TPOT 102 -> 116 us.
infer() { # infer DIR COST [ARGS...]
	local dir=$1 cost=$2
	shift 2
	SB_FAKE_INFER_STEP=$cost "$SB" infer --backend fake --batching dynamic --max-delay-us 200 \
		--requests 100 --out "$TMP/$dir" -q "$@" >/dev/null 2>&1 && runfile_in "$TMP/$dir"
}
fast=$(infer fast 100e-6:2e-6) && slow=$(infer slow 100e-6:16e-6)
is $? 0 "two infer runs on the fake backend"
# A run file of before (series summaries only, scalebench wrote no values by default then),
# rewritten by jq (which writes the rate 100.0 as 100: the same configuration still).
jq -c 'if .type == "point" then del(.series[].samples) else . end' "$slow" >"$TMP/summ.jsonl"
summ=$TMP/summ.jsonl

# The rows of a CSV comparison (CRLF lines): metric,baseline,current,change,verdict.
rows() { tr -d '\r' <"$TMP/out" | awk -F, 'NR > 1 { print $3 "," $7 "," $8 "," $10 "," $12 }'; }

"$R" compare "$slow" --baseline "$fast" --format csv >"$TMP/out" 2>"$TMP/err"
is $? 1 "a slower TTFT: exit 1 (a regression)"
is "$(head -1 "$TMP/out" | tr -d '\r')" \
	"benchmark,point,metric,bytes,ranks,baseline runs,baseline (us),current (us),ratio,change,p,verdict,why" \
	"with series, the table names the metric of each row and the change of its median"
is "$(rows | sed 's/^time,.*,/time,...,/')" "time,...,not comparable
ttft,556.0,2348,+322.3%,regressed
tpot,102.0,116.0,+13.7%,regressed" \
	"ttft and tpot regressed (556 -> 2348 us, 102 -> 116 us), the headline (one sample) not comparable"
grep -q '^infer,.*,ttft,.*,regressed,slower by 322.3% (p = ' "$TMP/out"
ok $? "the why gives the change and p"

"$R" compare "$fast" --baseline "$slow" --format csv >"$TMP/out"
is "$? $(rows | grep '^ttft' | cut -d, -f5)" "0 improved" "the other way: ttft improved, exit 0"

"$R" compare "$slow" --baseline "$slow" --format csv >"$TMP/out"
is "$? $(rows | cut -d, -f1,5 | tr '\n' ' ')" \
	"0 time,not comparable ttft,unchanged tpot,unchanged " "a run against itself: unchanged, exit 0"

"$R" compare "$slow" --baseline "$fast" --format csv --changes-only >"$TMP/out"
is "$(rows | cut -d, -f1 | tr '\n' ' ')" "ttft tpot " "--changes-only keeps the series rows that changed"

# Every format compare writes.
"$R" compare "$slow" --baseline "$fast" >"$TMP/out"
grep -Eq '^infer +infer .* +ttft +0 +1 +1 +556.0 +2348 +4.223 +\+322.3% .* regressed ' "$TMP/out"
ok $? "text: the ttft row"
"$R" compare "$slow" --baseline "$fast" --format md >"$TMP/out"
grep -q '^| infer | .* | ttft | 0 | 1 | 1 | 556.0 | 2348 | 4.223 | +322.3% | .* | regressed |' "$TMP/out"
ok $? "md: the ttft row"
"$R" compare "$slow" --baseline "$fast" --format html >"$TMP/out"
grep -q '<td>ttft</td>' "$TMP/out" && grep -q '<td>regressed</td>' "$TMP/out"
ok $? "html: the ttft row"

# --series
"$R" compare "$slow" --baseline "$fast" --format csv --series none >"$TMP/out"
is "$? $(head -1 "$TMP/out" | grep -c metric) $(grep -c -e ',ttft,' -e ',tpot,' "$TMP/out")" "0 0 0" \
	"--series none: no series rows, no metric column, no regression"
"$R" compare "$slow" --baseline "$fast" --format csv --series tpot >"$TMP/out"
is "$? $(rows | cut -d, -f1,5 | tr '\n' ' ')" "1 time,not comparable tpot,regressed " \
	"--series tpot: only tpot, regressed"
"$R" compare "$slow" --baseline "$fast" --format csv --series queue,ttft,queue >"$TMP/out"
is "$? $(rows | cut -d, -f1,5 | tr '\n' ' ')" "1 time,not comparable queue,not comparable ttft,regressed " \
	"--series queue,ttft,queue: in that order, each once (queue's values only with --series-samples)"

bad() { one_error "$1" "$2" "$R" "${@:3}"; } # bad DESCRIPTION PATTERN ARGS...
bad "an unknown series" "--series ttft,foo: no point of .* has a series 'foo' (its series: ttft, tpot" \
	compare "$slow" --baseline "$fast" --series ttft,foo
bad "a series the run does not have" "has a series 'ttft' (it has no series)" \
	compare "$F/mini.jsonl" --baseline "$F/mini.jsonl" --series ttft
bad "an empty name" "--series ttft,: an empty name" compare "$slow" --baseline "$fast" --series ttft,
bad "none among names" "none stands alone" compare "$slow" --baseline "$fast" --series none,ttft
bad "--series without its value" "missing value" compare "$slow" --baseline "$fast" --series
bad "--series on show" "does not take that option" show "$slow" --series ttft

# Without the values (scalebench writes only the summary without --series-samples): the
# summaries' medians, not judged.
"$R" compare "$summ" --baseline "$fast" --format csv >"$TMP/out" 2>/dev/null
is "$? $(rows | grep '^ttft')" "0 ttft,556.0,2348,+322.3%,not comparable" \
	"a run file without the values: medians from the summaries, not comparable, exit 0"
grep -q 'its ttft values are not in the run file (scalebench --series-samples)' "$TMP/out"
ok $? "and the why says how to get them"
"$R" compare "$slow" --baseline "$summ" --format csv >"$TMP/out" 2>/dev/null
grep -q ',ttft,.*,not comparable,the baseline.s ttft values are not in its run file' "$TMP/out"
ok $? "a baseline without them: not comparable, and why"

# The history keeps the headline samples only.
"$R" ingest --db "$TMP/h.sqlite" "$fast" >/dev/null
"$R" compare "$slow" --db "$TMP/h.sqlite" --format csv >"$TMP/out" 2>/dev/null
is "$? $(grep -c ',not comparable,the history keeps no series: compare with --baseline RUN' "$TMP/out")" \
	"0 2" "against the history: series not comparable, and why"

# A series value that is not a time is bad input naming the file and line.
jq -c 'if .type == "point" then .series.ttft.samples[2] = "slow" else . end' "$slow" >"$TMP/badval.jsonl"
bad "a series value that is not a number" 'badval.jsonl:2: series.ttft.samples\[2\] is not' \
	compare "$TMP/badval.jsonl" --baseline "$fast"

# Runs without series: the same output whatever --series says (the table of before).
"$R" compare "$F/real-allreduce-2.jsonl" --baseline "$F/real-allreduce-1.jsonl" --format csv >"$TMP/a" 2>&1
"$R" compare "$F/real-allreduce-2.jsonl" --baseline "$F/real-allreduce-1.jsonl" --format csv \
	--series none >"$TMP/b" 2>&1
cmp -s "$TMP/a" "$TMP/b" && ! grep -q metric "$TMP/a"
ok $? "a run without series: no metric column, the same table with --series none"

done_testing
