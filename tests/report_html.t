#!/usr/bin/env bash
# The HTML pages of scalebench-report (`report`, `show --format html`) in a real headless
# browser (Debian's chromium; scripts/bootstrap installs it): the page renders, the SVG plots
# have one circle per measured point, ticks read in the tables' units (us, GB/s, KiB), a page
# at 1400 px is no wider than the window, two runs with one run id are flagged, and a hostile
# string from a run file is text in the DOM, never an element. The grep-level escaping checks
# are in report.t; this one looks at what a browser makes of the page.
#
# A screenshot of each page stays in $SB_BUILD (report_html-report.png, report_html-show.png)
# for a person to look at.
. "$(dirname "$0")/lib.sh"
[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"
command -v jq >/dev/null || skip_all "no jq (scripts/bootstrap installs it)"
CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || skip_all "no chromium (scripts/bootstrap installs Debian's chromium)"
plan 27
R=$SB_BUILD/scalebench-report

# --no-sandbox: chromium refuses to run as root with its sandbox, and the page is our own.
# Its own profile, so that nothing of the user's is read or written; a minute at most.
browse() { # browse FILE ARGS...: chromium's headless output of a local page
	local page=$1
	shift
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$TMP/profile" "$@" "file://$page" 2>>"$TMP/chromium.log"
}
# The page as the browser built it (the DOM after parsing, serialised).
dom() { browse "$1" --dump-dom; }
# Layout, measured by the browser on a copy of the page with a probe script added (the page
# itself has no script): the document's scroll width, and each svg's drawn width.
layout() { # layout FILE WIDTH
	sed 's#</body>#<script>document.body.setAttribute("data-sw",document.documentElement.scrollWidth);document.body.setAttribute("data-svg",[...document.querySelectorAll("svg")].map(s=>Math.round(s.getBoundingClientRect().width)).join(" "))</script></body>#' \
		"$1" >"$1.probe.html"
	browse "$1.probe.html" --dump-dom --window-size="$2",1000 | grep -o '<body[^>]*>'
}
# The circles (measured points) of the plot with this data-plot id.
circles() { # circles DOMFILE ID
	awk -v id="data-plot=\"$2\"" 'index($0, id) {on = 1} on {print} on && /<\/svg>/ {exit}' "$1" |
		grep -o '<circle class="pt"' | wc -l
}
# The tick labels of one axis (x or y) of that plot, one a line.
ticks() { # ticks DOMFILE ID AXIS
	awk -v id="data-plot=\"$2\"" 'index($0, id) {on = 1} on {print} on && /<\/svg>/ {exit}' "$1" |
		grep -o "<text class=\"tick $3\"[^>]*>[^<]*" | sed 's/.*>//'
}

# --- runs: all-reduce on the fake backend at 2 and 4 simulated ranks (a model fits across p),
# and an inference run; the 2-rank run carries a hostile string in its host name, a
# parameter (so in a series title) and a label.
for p in 2 4; do
	SB_FAKE_RANKS=$p SB_FAKE_NOISE=0.02 "$SB" allreduce --backend fake -e 64K -q \
		--out "$TMP/ar$p" >/dev/null 2>&1
done
"$SB" infer --backend fake --concurrency 4 --batch 1,4 --prompt-tokens 4 --output-tokens 8 \
	--requests 40 -w 1 -q --out "$TMP/inf" >/dev/null 2>&1
a2=$(runfile_in "$TMP/ar2") && a4=$(runfile_in "$TMP/ar4") && inf=$(runfile_in "$TMP/inf")
is $? 0 "two fake all-reduce runs (2 and 4 ranks) and a fake inference run"
H='<script>document.title=1337</script><img src=x onerror=document.title=4242>&"x'
jq -c --arg h "$H" 'if .type == "run" then .provenance.hosts[0].host = $h
	elif .type == "point" then .params.tag = $h | .label = $h else . end' "$a2" >"$TMP/hostile.jsonl"
# The same text as a browser serialises a text node: & < > as entities, quotes as they are.
Htext='&lt;script&gt;document.title=1337&lt;/script&gt;&lt;img src=x onerror=document.title=4242&gt;&amp;"x'
npts=$(jq -s '[.[] | select(.type == "point" and .benchmark == "allreduce")] | length' \
	"$TMP/hostile.jsonl" "$a4")
n16k=$(jq -s '[.[] | select(.type == "point" and .params.bytes == 16384)] | length' \
	"$TMP/hostile.jsonl" "$a4")
n1=$(jq -s '[.[] | select(.type == "point")] | length' "$a4")

# --- report ---
"$R" report "$TMP/hostile.jsonl" "$a4" "$inf" -o "$TMP/report.html" 2>"$TMP/err"
is $? 0 "report of three runs: exit 0"
dom "$TMP/report.html" >"$TMP/report.dom"
grep -q '<title>scalebench report</title>' "$TMP/report.dom" &&
	grep -q '<h2>Claims</h2>' "$TMP/report.dom" && grep -q '<h2>Cost model</h2>' "$TMP/report.dom" &&
	grep -q '<h2>Benchmarks</h2>' "$TMP/report.dom"
ok $? "the page renders: its title and sections in the browser's DOM"
ntab=$(grep -o '<table' "$TMP/report.dom" | wc -l)
[ "$ntab" -ge 5 ] && grep -Eq '<td>(PASS|FAIL|INCONCLUSIVE|NO_MEASUREMENT|UNTESTABLE)</td>' "$TMP/report.dom"
ok $? "with its tables ($ntab), the claims table with verdicts among them"
is "$(circles "$TMP/report.dom" model-1-size)" "$npts" \
	"the model's size plot: a circle per measured all-reduce point ($npts)"
is "$(circles "$TMP/report.dom" model-1-ranks)" "$n16k" \
	"the model's rank plot: a circle per run measured at 16 KiB ($n16k)"
awk 'index($0, "data-plot=\"model-1-ranks\"") {on = 1} on {print} on && /<\/svg>/ {exit}' \
	"$TMP/report.dom" | grep -q '<polygon class="band"[^>]*points="[0-9]' &&
	grep -q 'class="extrap"' "$TMP/report.dom"
ok $? "the extrapolation: a shaded region and an interval band"
ticks "$TMP/report.dom" model-1-ranks x | grep -qx '1M'
ok $? "the rank axis runs to 1M"
bad=$(ticks "$TMP/report.dom" model-1-size y | grep -Evx '[0-9.]+ (ns|us|ms|s)')
is "$bad" "" "the model's time ticks carry units (1 us, 10 ms), no exponents"
bad=$(ticks "$TMP/report.dom" model-1-size x | grep -Evx '[0-9.]+ (B|KiB|MiB|GiB)')
is "$bad" "" "its size ticks read as 4 B, 1 KiB, 64 KiB"
is "$(circles "$TMP/report.dom" series-1-time)" "$((npts - n1))" \
	"the benchmark tables' first time plot: a circle per point of its run"
# In the serialised DOM a '<' of text is "&lt;": any "<img" is an element.
elements='<img\|<script\|<[a-z][^>]* onerror='
grep -q "$elements" "$TMP/report.dom"
is $? 1 "no element from the hostile string in the DOM (no img, no script, no onerror)"
n=$(grep -o -F "$Htext" "$TMP/report.dom" | wc -l)
grep -q -F '&lt;script&gt;document.title=1337&lt;/script&gt;&lt;img src=x' "$TMP/report.dom" &&
	[ "$n" -ge 2 ]
ok $? "the hostile string shows as text (the host name, cut; whole in a series' heading and caption: $n)"
grep -q '<title>scalebench report</title>' "$TMP/report.dom" && ! grep -q '1337\|4242' <(grep -o '<title>[^<]*' "$TMP/report.dom")
ok $? "and ran nothing (the title is untouched)"
l=$(layout "$TMP/report.html" 1400)
sw=$(echo "$l" | sed -n 's/.*data-sw="\([0-9]*\)".*/\1/p')
[ -n "$sw" ] && [ "$sw" -le 1400 ]
ok $? "at 1400 px the page is no wider than the window (scroll width $sw)"
narrow=$(echo "$l" | sed -n 's/.*data-svg="\([0-9 ]*\)".*/\1/p' | tr ' ' '\n' | awk '$1 < 800' | wc -l)
nsvg=$(echo "$l" | sed -n 's/.*data-svg="\([0-9 ]*\)".*/\1/p' | wc -w)
[ "$nsvg" -ge 4 ] && [ "$narrow" = 0 ]
ok $? "its $nsvg plots are drawn 800 px wide or more"
browse "$TMP/report.html" --screenshot="$SB_BUILD/report_html-report.png" --window-size=1400,1000 \
	--hide-scrollbars >/dev/null
[ -s "$SB_BUILD/report_html-report.png" ]
ok $? "a screenshot: $SB_BUILD/report_html-report.png"

# --- show --format html ---
"$R" show --format html -o "$TMP/show.html" "$TMP/hostile.jsonl" "$a4" "$inf" 2>"$TMP/err"
is $? 0 "show --format html of the same runs"
dom "$TMP/show.html" >"$TMP/show.dom"
is "$(grep -o '<circle class="pt"' "$TMP/show.dom" | wc -l)" "$((2 * npts))" \
	"a circle per point in the time and the bandwidth plots ($((2 * npts)))"
bad=$(ticks "$TMP/show.dom" series-1-time y | grep -Evx '[0-9.]+')
[ -z "$bad" ] && grep -q '<text class="label y"[^>]*>time (us)<' "$TMP/show.dom"
ok $? "time ticks in us, as the tables (axis 'time (us)')"
bad=$(ticks "$TMP/show.dom" series-1-busbw y | grep -Evx '[0-9.]+')
[ -z "$bad" ] && grep -q '<text class="label y"[^>]*>busbw (GB/s)<' "$TMP/show.dom"
ok $? "bandwidth ticks in GB/s, as the tables"
! grep -q "$elements" "$TMP/show.dom" && grep -q -F "$Htext" "$TMP/show.dom"
ok $? "the hostile string is text here too"
l=$(layout "$TMP/show.html" 1400)
sw=$(echo "$l" | sed -n 's/.*data-sw="\([0-9]*\)".*/\1/p')
[ -n "$sw" ] && [ "$sw" -le 1400 ]
ok $? "at 1400 px no wider than the window, the runs table included (scroll width $sw)"

# --- the same run given twice ---
"$R" show --format html -o "$TMP/dup.html" "$a4" "$a4" 2>"$TMP/err"
grep -q 'R2 has the same run id as R1: the same run given twice?' "$TMP/err"
ok $? "a run given twice: said on stderr"
dom "$TMP/dup.html" >"$TMP/dup.dom"
grep -q '<tr class="warn">' "$TMP/dup.dom" && grep -q 'same run id as R1: given twice?' "$TMP/dup.dom"
ok $? "flagged in the runs table"
awk 'index($0, "data-plot=\"series-1-time\"") {on = 1} on {print} on && /<\/svg>/ {exit}' \
	"$TMP/dup.dom" >"$TMP/dup.svg"
grep -q 'R2 (same run id as R1)' "$TMP/dup.svg" && grep -q '<polyline class="line"[^>]*stroke-dasharray' "$TMP/dup.svg"
ok $? "and in the plot: its line dashed, the legend says why"
browse "$TMP/show.html" --screenshot="$SB_BUILD/report_html-show.png" --window-size=1400,1000 \
	--hide-scrollbars >/dev/null

# --- a claims file that cannot be read: an error, and no page ---
"$R" report "$a4" --claims "$TMP/none.json" -o "$TMP/no.html" >/dev/null 2>"$TMP/err"
st=$?
is "$st $([ -e "$TMP/no.html" ] && echo page || echo none)" "2 none" \
	"a missing claims file: exit 2, no page written"
done_testing
