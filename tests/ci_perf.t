#!/usr/bin/env bash
# scripts/ci-perf: the gate's logic on the fake backend, whose virtual clock makes the verdicts
# certain: a first run starts the history, an identical run passes, a run 1.3x slower is
# confirmed by its re-run and fails the gate, and a slow first run that the re-run does not
# confirm passes.
. "$(dirname "$0")/lib.sh"
plan 12
export SB_FAKE_NOISE=0.02
gate() { # gate SUMMARY -> exit status of ci-perf on the fake backend
	"$TOP/scripts/ci-perf" --np 1 --db "$TMP/h.sqlite" --summary "$1" --out "$TMP/runs" \
		-- allreduce --backend fake -b 1K -e 64K -f 4 -n 40 -w 2 >"$TMP/out" 2>&1
}

gate "$TMP/s1.md"
is $? 0 "the first run: exit 0"
grep -q "no history yet" "$TMP/s1.md"
ok $? "its summary says the history starts"
gate "$TMP/s2.md"
is $? 0 "an identical run: exit 0"
is "$(grep -c '| unchanged |' "$TMP/s2.md")" 4 "every point unchanged in the Markdown summary"
SB_FAKE_ALPHA=1.3e-6 SB_FAKE_BETA=1.3e-10 gate "$TMP/s3.md"
is $? 1 "a run 1.3x slower, confirmed by a second: exit 1"
grep -q "confirmed by a second run" "$TMP/s3.md" && [ "$(grep -c '| regressed |' "$TMP/s3.md")" = 8 ]
ok $? "the summary says so, with both runs' tables"
SB_FAKE_ALPHA=1.3e-6 SB_FAKE_BETA=1.3e-10 gate "$TMP/s4.md"
is $? 1 "a confirmed regression is not taken into the history: the next slow run fails again"

# A slow first run that the re-run does not confirm: a wrapper build whose scalebench is slow
# only the first time it is called.
mkdir -p "$TMP/wrap"
ln -s "$SB_BUILD/scalebench-report" "$TMP/wrap/scalebench-report"
cat >"$TMP/wrap/scalebench" <<EOS
#!/usr/bin/env bash
if [ ! -e "$TMP/wrap/called" ]; then
	touch "$TMP/wrap/called"
	export SB_FAKE_ALPHA=2e-6 SB_FAKE_BETA=2e-10
fi
exec "$SB_BUILD/scalebench" "\$@"
EOS
chmod +x "$TMP/wrap/scalebench"
rm -f "$TMP/h.sqlite"
gate "$TMP/t1.md" && gate "$TMP/t2.md"
SB_BUILD=$TMP/wrap gate "$TMP/t3.md"
is $? 0 "a slow first run not confirmed by the re-run: exit 0"
grep -q "did not confirm it: no regression declared" "$TMP/t3.md"
ok $? "and the summary says why"
is "$(sqlite3 "$TMP/h.sqlite" 'select count(*) from runs')" 3 "only the re-run went into the history"
# The confirming comparison failing is a failure of the gate, not a pass.
mkdir -p "$TMP/wrap2"
ln -s "$SB_BUILD/scalebench" "$TMP/wrap2/scalebench"
cat >"$TMP/wrap2/scalebench-report" <<EOS
#!/usr/bin/env bash
if [ "\$1" = compare ] && [ -e "$TMP/wrap2/compared" ]; then exit 3; fi
[ "\$1" = compare ] && touch "$TMP/wrap2/compared" && { "$SB_BUILD/scalebench-report" "\$@"; exit 1; }
exec "$SB_BUILD/scalebench-report" "\$@"
EOS
chmod +x "$TMP/wrap2/scalebench-report"
SB_BUILD=$TMP/wrap2 gate "$TMP/t4.md"
is $? 3 "a confirming comparison that fails: the gate fails (exit 3), not passes"
"$TOP/scripts/ci-perf" --frobnicate >/dev/null 2>&1
is $? 2 "an unknown argument: exit 2"
done_testing
