#!/usr/bin/env bash
# scalebench's exit statuses (enum sb_exit, common/error.h) where no other test reaches them, and
# a fault that one rank alone sees: the job's status is the worst over the ranks, that rank says
# what failed, rank 0 says which rank it was, and the run file's end record says so too.
# (Bad input, 2: bad_input.t; wrong results, 1, and timeouts, 4: faults.t; a rank that cannot
# allocate, 3: rank_fault.t; a full disk, 3: disk_full.t.)
. "$(dirname "$0")/lib.sh"

command -v "${MPIRUN:-mpirun}" >/dev/null || skip_all "no mpirun"
[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"
plan 15
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-60}
sb1() { timeout -k 5 60 "$SB" "$@"; }
cd "$TMP" || exit 1

# No command: the usage on stderr, bad input.
sb1 >"$TMP/out" 2>"$TMP/err"
is "$? $(wc -c <"$TMP/out")" "2 0" "no command: exit status 2, nothing on stdout"
grep -q '^usage: scalebench' "$TMP/err"
ok $? "and the usage on stderr"

# Standard output that cannot be written: a fault, said once.
if [ -w /dev/full ]; then
	sb1 list >/dev/full 2>"$TMP/err"
	is "$? $(grep -c 'scalebench: error: cannot write the standard output' "$TMP/err")" "3 1" \
		"list on a full standard output: exit status 3, one message"
	sb1 allreduce --backend fake -b 8 -e 64 -n 3 -w 1 --out "$TMP/full" >/dev/full 2>"$TMP/err"
	is "$? $(grep -c 'scalebench: error: cannot write the standard output' "$TMP/err")" "3 1" \
		"a run whose table cannot be written: exit status 3, one message"
	f=$(runfile_in "$TMP/full") || f=/dev/null
	is "$(tail -n1 "$f" | jq -c '[.type, .status, .points]')" '["end","error",4]' \
		"its run file keeps the points and ends with status error"
else
	skip 3 "no /dev/full"
fi

# A rank without POSIX timers (RLIMIT_SIGPENDING 0: timer_create fails with EAGAIN) cannot keep
# --timeout. Only rank 1 lacks them, so only rank 1 knows.
cat >"$TMP/notimer" <<'SH'
#!/usr/bin/env bash
[ "${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}" = "${NOTIMER_RANK:-1}" ] && ulimit -i 0
exec "$@"
SH
chmod +x "$TMP/notimer"
if ! (ulimit -i 0 && "$SB" allreduce --backend fake -b 8 -e 8 -n 3 --timeout 30 \
	--out "$TMP/probe" >/dev/null 2>&1); then
	"$TOP/scripts/mpirun" 2 "$TMP/notimer" "$SB" allreduce -b 4 -e 64 -n 5 -w 1 -q \
		--timeout 30 --out "$TMP/nt" >"$TMP/out" 2>"$TMP/err"
	is "$?" 3 "--timeout with rank 1 without a timer: exit status 3"
	grep -q '^\[rank 1 [^]]*\] scalebench: error: --timeout 30 cannot be kept' "$TMP/err"
	ok $? "rank 1 says what failed"
	grep -q '^\[rank 0 [^]]*\] scalebench: error: rank 1 failed (exit status 3)' "$TMP/err"
	ok $? "rank 0 says which rank failed" || diag "$(cat "$TMP/err")"
	is "$(grep -c 'scalebench: error' "$TMP/err")" 2 "two error lines, no more"
	f=$(runfile_in "$TMP/nt") || f=/dev/null
	is "$(tail -n1 "$f" | jq -c '[.type, .status, .points, (.message | test("rank 1"))]')" \
		'["end","error",0,true]' "the end record: status error, no point, names rank 1"

	# The same on rank 0.
	NOTIMER_RANK=0 "$TOP/scripts/mpirun" 2 "$TMP/notimer" "$SB" allreduce -b 4 -e 64 -n 5 \
		-w 1 -q --timeout 30 --out "$TMP/nt0" >"$TMP/out" 2>"$TMP/err"
	is "$?" 3 "--timeout with rank 0 without a timer: exit status 3"
	is "$(grep -c 'scalebench: error' "$TMP/err")" 1 "one error line, rank 0's own"

	# Without --timeout the timer is not needed: the run goes on, silently.
	"$TOP/scripts/mpirun" 2 "$TMP/notimer" "$SB" allreduce -b 4 -e 64 -n 5 -w 1 -q \
		--out "$TMP/nt2" >"$TMP/out" 2>"$TMP/err"
	is "$? $(grep -c 'scalebench: error' "$TMP/err")" "0 0" \
		"no --timeout, rank 1 without a timer: exit status 0, no error"
	f=$(runfile_in "$TMP/nt2") || f=/dev/null
	is "$(tail -n1 "$f" | jq -c '[.type, .status, .points]')" '["end","ok",5]' \
		"its run file ends with status ok after the 5 points"

	# One process: the same fault, its own message.
	(ulimit -i 0 && exec "$SB" allreduce --backend fake -b 8 -e 8 -n 3 --timeout 30 \
		--out "$TMP/nt1") >/dev/null 2>"$TMP/err"
	is "$? $(grep -c 'scalebench: error: --timeout 30 cannot be kept' "$TMP/err")" "3 1" \
		"one process without a timer, --timeout: exit status 3, one message"
else
	skip 10 "ulimit -i 0 does not take POSIX timers away here"
fi
done_testing
