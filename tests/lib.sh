# TAP helpers for the shell tests (sourced). Same contract as tests/tap.h: declare a plan,
# check, end with `done_testing`, which exits with the number of failures.
#
# SB_BUILD: the build directory (default ./build next to tests/); $SB is its scalebench.
# sbrun NP ARGS...: scalebench under scripts/mpirun with NP ranks.
# A scratch directory $TMP is made per test file and removed at exit.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SB_BUILD=${SB_BUILD:-$TOP/build}
SB_BUILD=$(cd "$SB_BUILD" 2>/dev/null && pwd || echo "$SB_BUILD") # absolute: tests change directory
SB=$SB_BUILD/scalebench
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sbtest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

_tap_n=0
_tap_fail=0
_tap_plan=-1

plan() {
	_tap_plan=$1
	echo "1..$1"
}
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
# Diagnostics go to stderr, as Test::More's do: prove shows them without -v (CI logs).
diag() { printf '# %s\n' "$@" >&2; }
ok() { # ok COND_STATUS DESCRIPTION  (0 = pass)
	_tap_n=$((_tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		diag "  Failed test at ${BASH_SOURCE[1]} line ${BASH_LINENO[0]}."
		_tap_fail=$((_tap_fail + 1))
	fi
}
is() { # is GOT WANT DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		diag "  Failed test at ${BASH_SOURCE[1]} line ${BASH_LINENO[0]}." \
			"         got: '$1'" "    expected: '$2'"
		_tap_fail=$((_tap_fail + 1))
	fi
}
skip() { # skip N REASON
	for _ in $(seq "$1"); do
		_tap_n=$((_tap_n + 1))
		echo "ok $_tap_n # skip $2"
	done
}
done_testing() {
	if [ "$_tap_plan" -ge 0 ] && [ "$_tap_n" != "$_tap_plan" ]; then
		diag "planned $_tap_plan tests but ran $_tap_n"
		[ $_tap_fail -gt 0 ] || _tap_fail=1
	fi
	exit $((_tap_fail > 254 ? 254 : _tap_fail))
}

sbrun() {
	local np=$1
	shift
	"$TOP/scripts/mpirun" "$np" "$SB" "$@"
}

# The one run file in a directory (fails when there is not exactly one).
runfile_in() {
	local files=("$1"/*.jsonl)
	[ ${#files[@]} = 1 ] && [ -f "${files[0]}" ] || return 1
	echo "${files[0]}"
}

# one_error DESCRIPTION PATTERN CMD ARGS...: CMD is bad input: exit 2, one line on stderr, and
# that line matches PATTERN (one test).
one_error() {
	local what=$1 pat=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	local st=$?
	is "$st $(grep -c . "$TMP/err") $(grep -c -- "$pat" "$TMP/err")" "2 1 1" "$what: exit 2, one message"
}

now() { date +%s.%N; }
# Is X < Y (decimal numbers)?
lt() { awk -v x="$1" -v y="$2" 'BEGIN {exit !(x < y)}'; }
# Poll until "$@" succeeds; fail after SECS seconds.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt "$end" ] || return 1
		sleep 0.05
	done
}
# Point records written so far to the one run file in DIR.
npoints() {
	local f
	f=$(runfile_in "$1" 2>/dev/null) || {
		echo 0
		return
	}
	grep -c '^{"type":"point"' "$f"
}
# At least N point records in DIR's run file.
has_points() { [ "$(npoints "$1")" -ge "$2" ]; }
