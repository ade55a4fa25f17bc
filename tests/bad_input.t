#!/usr/bin/env bash
# Bad command lines: each is run as a singleton (scalebench started directly) and under mpirun.
# Every one must exit 2, print exactly one "scalebench: error" line (from rank 0 only), print
# nothing on stdout and leave no run file behind. Then the commands that need no benchmark.
. "$(dirname "$0")/lib.sh"

command -v "${MPIRUN:-mpirun}" >/dev/null || skip_all "no mpirun"
[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"

# A run that hangs must not hang prove: mpirun ends the job after this long, and singletons run
# under timeout(1).
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-60}
sb1() { timeout -k 5 60 "$SB" "$@"; }

# NP for the mpirun variant | text the error line must contain | arguments.
# sendrecv needs 2 ranks, so its "mpirun" variant runs it with 1.
cases=(
	"2|'--bogus'|allreduce --bogus"
	"2|-b 1M is larger than -e 1K|allreduce -b 1M -e 1K"
	"2|min-bytes|allreduce -b 0"
	"2|smaller than one element|allreduce --dtype double -b 4 -e 4"
	"2|'-4'|allreduce -e -4"
	"2|'abc'|allreduce -n abc"
	"2|'12Q'|allreduce -e 12Q"
	"2|'x'|allreduce --precision x"
	"2|'nosuch'|nosuch"
	"2|'foo'|allreduce foo"
	"2|'quad'|allreduce --dtype quad"
	"2|'nope'|allreduce --backend nope"
	"1|needs at least 2 ranks|sendrecv"
	"2|'fast' is not one of single|allreduce --mpi-thread fast"
	"2|--mpi-thread: write it in full|allreduce --mpi=funneled"
	"2|--min-time 5 is more than --max-time 1|allreduce --min-time 5 --max-time 1"
	"2|--rounds: 0 is below the minimum|allreduce --rounds 0"
	"2|--rounds 2000 is more than|allreduce --rounds 2000"
	"2|--timeout-grace 61: at most 60|allreduce --timeout-grace 61"
	"2|'bogus' is not one of pipelined|allreduce --gpu-timing bogus"
	"2|the largest size that fits is|allreduce -b 8 -e 4T"
	"2|no size of the sweep fits; the largest that would|allreduce -b 1T -e 1T"
	"2|does not divide the 1 worker rank|infer --tp 2"
	"2|rates above 0|infer --rate 0"
	"2|--batch 0|infer --batch 0"
	"2|not both|infer --rate 5 --concurrency 2"
	"2|--model 13b: unknown|infer --model 13b"
	"2|--slo-ttft-ms 0|infer --slo-ttft-ms 0"
	"2|LO <= HI|infer --prompt-tokens 9-3"
	"2|not even one layer fits|infer --model 70b --batch 256 --prompt-tokens 1000000"
	"2|'--bogus'|topo --bogus"
	"2|'wide' is not one of text|topo --format wide"
)
per_run=5
plan $((${#cases[@]} * 2 * per_run + 2 * per_run + 10))

# check_bad LABEL DIR WANT_TEXT: the files LABEL's run left in $DIR.{rc,out,err}.
check_bad() {
	local label=$1 dir=$2 want=$3
	is "$(cat "$dir.rc")" 2 "$label: exit status 2"
	local errs
	errs=$(grep -c '^scalebench: error' "$dir.err")
	is "$errs" 1 "$label: exactly one 'scalebench: error' line on stderr"
	if [ "$errs" != 1 ]; then
		sed 's/^/#   /' "$dir.err" | head -20
	fi
	local line
	line=$(grep -m1 '^scalebench: error' "$dir.err")
	case $line in
	*"$want"*) ok 0 "$label: the message names the problem ($want)" ;;
	*)
		ok 1 "$label: the message names the problem ($want)"
		diag "got: $line"
		;;
	esac
	is "$(wc -c <"$dir.out")" 0 "$label: nothing on stdout"
	local left
	left=$(find "$dir" -name '*.jsonl' 2>/dev/null | wc -l)
	is "$left" 0 "$label: no run file left in --out"
	if [ "$left" != 0 ]; then
		find "$dir" -name '*.jsonl' -exec sh -c 'echo "# $1:"; sed "s/^/#   /" "$1" | cut -c1-200' _ {} \;
	fi
}

i=0
for c in "${cases[@]}"; do
	i=$((i + 1))
	IFS='|' read -r np want argstr <<<"$c"
	read -ra args <<<"$argstr"

	d=$TMP/s$i
	sb1 "${args[@]}" --out "$d" >"$d.out" 2>"$d.err"
	echo $? >"$d.rc"
	check_bad "singleton: $argstr" "$d" "$want"

	d=$TMP/m$i
	sbrun "$np" "${args[@]}" --out "$d" >"$d.out" 2>"$d.err"
	echo $? >"$d.rc"
	check_bad "mpirun -np $np: $argstr" "$d" "$want"
done

# The fake backend simulates its world in one process: with 2 real ranks it is bad input.
d=$TMP/fake2
sbrun 2 allreduce --backend fake -b 4 -e 1K --out "$d" >"$d.out" 2>"$d.err"
echo $? >"$d.rc"
check_bad "mpirun -np 2: allreduce --backend fake" "$d" "run it with 1 rank"

# Sizes beyond memory on 2 ranks (sendrecv needs 2): rejected before the first point, where the
# kernel's OOM killer once ended the run after 77 s.
d=$TMP/sr2t
sbrun 2 sendrecv -b 8 -e 2T --out "$d" >"$d.out" 2>"$d.err"
echo $? >"$d.rc"
check_bad "mpirun -np 2: sendrecv -b 8 -e 2T" "$d" "needs 4.0 TiB per rank"

# Commands that need no benchmark.
out=$(sb1 list 2>&1)
is $? 0 "scalebench list exits 0"
case $out in *allreduce*sendrecv*mpi*fake*) ok 0 "list names the benchmarks and backends" ;;
*) ok 1 "list names the benchmarks and backends" && diag "$out" ;; esac

out=$(sb1 --version 2>&1)
is $? 0 "scalebench --version exits 0"
case $out in "scalebench "[0-9]*git*) ok 0 "--version prints the version and git commit" ;;
*) ok 1 "--version prints the version and git commit" && diag "$out" ;; esac

out=$(sb1 allreduce --help 2>&1)
is $? 0 "scalebench allreduce --help exits 0"
case $out in *--dtype*--max-bytes*) ok 0 "allreduce --help lists --dtype and --max-bytes" ;;
*) ok 1 "allreduce --help lists --dtype and --max-bytes" && diag "$out" ;; esac

# Under mpirun the help and the list are printed once, not once per rank.
out=$(sbrun 2 allreduce --help 2>/dev/null)
is $? 0 "mpirun -np 2 scalebench allreduce --help exits 0"
is "$(grep -c -- '--max-bytes' <<<"$out")" 1 "mpirun -np 2: the help is printed once"
out=$(sbrun 2 list 2>/dev/null)
is $? 0 "mpirun -np 2 scalebench list exits 0"
is "$(grep -c '^benchmarks:' <<<"$out")" 1 "mpirun -np 2: the list is printed once"

done_testing
