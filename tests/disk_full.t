#!/usr/bin/env bash
# A full disk under the run file: a clear message, exit status 3, and a file that still holds
# every record written before the disk filled, as whole lines.
. "$(dirname "$0")/lib.sh"
full=$TMP/full
mkdir -p "$full"
mount -t tmpfs -o size=32k tmpfs "$full" 2>/dev/null || skip_all "cannot mount a small tmpfs here (needs root)"
trap 'umount "$full" 2>/dev/null; rm -rf "$TMP"' EXIT
plan 12

check_file() { # check_file DIR WHAT
	local f
	f=$(runfile_in "$1")
	ok $? "$2: one run file"
	jq -e . "$f" >/dev/null 2>&1
	ok $? "$2: every line of it is a whole JSON record"
	is "$(head -n1 "$f" | jq -r .type)" run "$2: it starts with the run record"
	[ "$(jq -r 'select(.type == "point") | .type' "$f" | wc -l)" -ge 1 ]
	ok $? "$2: the points measured before the disk filled are kept"
}

# No minimum time per point: records of a few samples, so several fit before the disk fills.
timeout 120 "$SB" allreduce --backend fake -b 4 -e 1G --min-iters 16 --min-time 0 --out "$full" \
	>/dev/null 2>"$TMP/err1"
is $? 3 "singleton: exit status 3"
is "$(grep -c "No space left on device" "$TMP/err1")" 1 "singleton: one message naming the cause"
check_file "$full" singleton
rm -f "$full"/*.jsonl

export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-120}
sbrun 2 allreduce -b 4 -e 1G -n 20 -w 2 -c 0 --out "$full" >/dev/null 2>"$TMP/err2"
rc=$?
ok $((rc == 0)) "2 ranks: non-zero exit ($rc)"
is "$(grep -c "scalebench: error: cannot write run file" "$TMP/err2")" 1 "2 ranks: one message"
check_file "$full" "2 ranks"
done_testing
