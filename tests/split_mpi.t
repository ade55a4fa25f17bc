#!/usr/bin/env bash
# Sub-communicators, the binary gather, non-blocking control messages and clock offsets on the
# mpi backend: tests/t_comm_mpi.c under mpirun at 2, 3 and 4 ranks (3: groups of unequal sizes),
# and once with SB_MPI_MAX_COUNT small so that gathers go in pieces; on a machine with GPUs, on
# the mpi-gpu and nccl backends too (device buffers). Its TAP (rank 0's) is checked here: an
# exit status of 0 and every planned check passed.
. "$(dirname "$0")/lib.sh"

command -v "${MPIRUN:-mpirun}" >/dev/null || skip_all "no mpirun"
PROG=$SB_BUILD/tests/comm_mpi.t
[ -x "$PROG" ] || skip_all "no $PROG (set SB_BUILD)"
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-120}

plan 16

run() { # run NAME NP [ENV=VALUE...]
	local name=$1 np=$2
	shift 2
	env "$@" "$TOP/scripts/mpirun" "$np" "$PROG" >"$TMP/$name.out" 2>"$TMP/$name.err"
	local rc=$?
	is "$rc" 0 "$np ranks${*:+ ($*)}: exit 0"
	is "$(grep -c '^ok ' "$TMP/$name.out")" "$(sed -n 's/^1\.\.//p' "$TMP/$name.out")" \
		"$np ranks: every planned check passed"
	if grep -q '^not ok' "$TMP/$name.out" || [ "$rc" != 0 ]; then
		diag "$(grep '^not ok' "$TMP/$name.out")" "$(tail -20 "$TMP/$name.err")"
	fi
}

run two 2
run three 3
run four 4
run pieces 3 SB_MPI_MAX_COUNT=1000
# GPU backends: where the machine has GPUs (one rank per GPU for NCCL before 2.30).
ngpu=$("$SB" list | sed -n 's/^GPUs: \([0-9]*\) .*/\1/p')
for be in mpi-gpu nccl; do
	if [ -z "$ngpu" ] || "$SB" list | grep -Eq "^  $be .*(unavailable|not compiled)"; then
		skip 2 "no usable GPU for $be"
	elif [ $be = nccl ]; then
		run nccl $((ngpu >= 2 ? 2 : 1)) SB_TEST_BACKEND=nccl
	else
		run mpigpu 2 SB_TEST_BACKEND=mpi-gpu
	fi
done
"$PROG" >"$TMP/alone.out" 2>&1
is "$?" 0 "alone, outside a launcher: exit 0"
grep -q '^1\.\.0 # SKIP' "$TMP/alone.out"
ok $? "and skips"
grep -rq "estimated offset" "$TMP/four.err"
ok $? "the estimated clock offset is reported"
grep -q "MPI_Gatherv\|gather in pieces" "$TMP/pieces.err"
is $? 1 "gathers in pieces without a fault"
done_testing
