#!/usr/bin/env bash
# End-to-end runs under Open MPI: all-reduce at 1, 2 and 4 ranks, other element types, in place,
# the chunked (> INT_MAX elements) path on small buffers, and sendrecv. Each run's file is read
# back record by record with jq, and the table on stdout is checked against it.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v "${MPIRUN:-mpirun}" >/dev/null || skip_all "no mpirun"
[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"

# A run that hangs must not hang prove: Open MPI's mpirun ends the job after this long.
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-120}

plan 209

# Sizes the sweep -b B -e E (factor 2) measures for elements of ESZ bytes, as a JSON array.
sizes() {
	local b=$1 e=$2 esz=$3 s r last=0 out=""
	for ((s = b; ; s *= 2)); do
		r=$((s / esz * esz))
		if [ "$r" -ge "$esz" ] && [ "$r" != "$last" ]; then
			out+="${out:+,}$r"
			last=$r
		fi
		[ $((s * 2)) -le "$e" ] || break
	done
	echo "[$out]"
}

# jq over the run file; prints the result (compact).
q() { jq -c -s "$2" "$1"; }

# Run `sbrun NP ARGS...` into $TMP/NAME and check the exit status and the run file.
#   run_and_check NAME NP BENCH DTYPE INPLACE CHECKS -- ARGS...
# Every ARGS list must contain -b and -e as its first four words (the expected sweep is derived
# from them). 18 checks.
run_and_check() {
	local name=$1 np=$2 bench=$3 dtype=$4 inplace=$5 checks=$6
	shift 7
	local args=("$@") dir=$TMP/$name
	local b e esz
	b=$(sbparse_size "${args[1]}")
	e=$(sbparse_size "${args[3]}")
	case $dtype in double) esz=8 ;; *) esz=4 ;; esac
	local want npts
	want=$(sizes "$b" "$e" "$esz")
	npts=$(jq length <<<"$want")

	sbrun "$np" "$bench" "${args[@]}" --out "$dir" >"$dir.out" 2>"$dir.err"
	local st=$?
	is "$st" 0 "$name: exit status 0"
	if [ "$st" != 0 ]; then
		diag "stderr:" && sed 's/^/#   /' "$dir.err" | head -20 >&2
	fi
	local f
	if ! f=$(runfile_in "$dir"); then
		ok 1 "$name: exactly one run file in --out"
		skip 16 "$name: no run file"
		return
	fi
	ok 0 "$name: exactly one run file in --out"

	# Every line is one JSON object, and there are no other lines.
	local lines parsed
	lines=$(wc -l <"$f")
	parsed=$(jq -c 'type' "$f" 2>/dev/null | grep -c '^"object"$')
	is "$parsed/$lines" "$((npts + 2))/$((npts + 2))" \
		"$name: $((npts + 2)) lines, each a JSON object (run, $npts points, end)"

	is "$(q "$f" '.[0] | [.type, .schema]')" '["run",1]' "$name: first record: type run, schema 1"
	is "$(q "$f" '.[0].provenance | [.backend, .ranks]')" "[\"mpi\",$np]" \
		"$name: provenance: backend mpi, ranks $np"
	is "$(q "$f" '.[0].provenance.mpi_library | type == "string" and test("Open MPI")')" true \
		"$name: provenance.mpi_library names Open MPI"
	# hosts: every rank exactly once over the host list, rank_hosts one per rank.
	is "$(q "$f" "[.[0].provenance | ([.hosts[].ranks[]] | sort) == [range($np)],
		(.rank_hosts | length) == $np, all(.hosts[]; .host | type == \"string\" and length > 0)]
		| all")" true "$name: provenance.hosts covers ranks 0..$((np - 1)) once, rank_hosts has $np"
	is "$(q "$f" '.[0].suite.git_commit | type == "string" and test("^([0-9a-f]{40}|unknown)$")')" \
		true "$name: suite.git_commit is a commit hash (or 'unknown')"
	local argv_want
	argv_want=$(printf '%s\n' "$bench" "${args[@]}" --out "$dir" | jq -R . | jq -c -s .)
	is "$(q "$f" '.[0].argv[1:]')" "$argv_want" "$name: argv recorded as given"

	# Points.
	is "$(q "$f" '[.[] | select(.type == "point") | .params.bytes]')" "$want" \
		"$name: one point per size ($npts), in order"
	is "$(q "$f" "[.[] | select(.type == \"point\") | .params | .dtype == \"$dtype\" and
		.inplace == $inplace and .count * $esz == .bytes] | all")" true \
		"$name: params: dtype $dtype, inplace $inplace, count x $esz == bytes"
	is "$(q "$f" "[.[] | select(.type == \"point\") | .check |
		.status == \"ok\" and .wrong == 0 and .iterations == $checks] | all")" true \
		"$name: every point: check.status ok, wrong 0, $checks check iterations"
	# A fast point can reach --max-iters before --min-time: fine once its interval is within
	# the target. One of a few clock steps stops at the step's limit.
	is "$(q "$f" '[.[] | select(.type == "point") | select(.method.stop != "precision" and
		.method.stop != "max-time" and .method.stop != "clock-step" and
		(.method.stop != "max-iterations" or
		.method.precision_reached > .method.precision_target)) | .method.stop]')" '[]' \
		"$name: every point stopped at precision, max-time, clock-step, or max-iterations within the target"
	is "$(q "$f" '[.[] | select(.type == "point") |
		(.samples | length) == .summary.n and .summary.n == .method.iterations and .summary.n > 0]
		| all')" true "$name: length(samples) == summary.n == method.iterations > 0"
	is "$(q "$f" '[.[] | select(.type == "point") | .summary |
		.min <= .median and .median <= .max and .min > 0] | all')" true \
		"$name: 0 < summary.min <= median <= max"
	# busbw = algbw x factor: 2(n-1)/n for all-reduce, 1 for sendrecv; algbw = bytes / median.
	local factor
	if [ "$bench" = allreduce ]; then factor="(2 * ($np - 1) / $np)"; else factor=1; fi
	is "$(q "$f" "[.[] | select(.type == \"point\") | .metrics.algbw.value as \$a |
		.metrics.busbw.value as \$b | (\$a * $factor) as \$w |
		((\$b - \$w) | fabs) <= 1e-6 * (\$w | fabs) and
		((\$a - .params.bytes / .summary.median) | fabs) <= 1e-6 * \$a] | all")" true \
		"$name: busbw == algbw x $factor and algbw == bytes/median (1e-6 relative)"

	is "$(q "$f" ".[-1] | [.type, .status, .points]")" "[\"end\",\"ok\",$npts]" \
		"$name: last record: end, status ok, points $npts"

	# The table on stdout: one header naming busbw(GB/s), one row per point, sizes in order.
	local rows
	rows=$(awk '/^  [0-9]/ {print $1}' "$dir.out" | jq -c -s .)
	is "$(grep -c '^#.*busbw(GB/s)' "$dir.out")/$rows" "1/$want" \
		"$name: stdout table: one header with busbw(GB/s), one row per point"
}

# Bytes of a size as scalebench reads it (4, 64K, 1M).
sbparse_size() {
	case $1 in
	*K) echo $((${1%K} * 1024)) ;;
	*M) echo $((${1%M} * 1048576)) ;;
	*) echo "$1" ;;
	esac
}

for np in 1 2 4; do
	run_and_check "allreduce-np$np" "$np" allreduce float false 2 -- \
		-b 4 -e 256K -c 2 --max-time 0.2
done
run_and_check allreduce-double 2 allreduce double false 2 -- \
	-b 4 -e 64K -c 2 --max-time 0.2 --dtype double
run_and_check allreduce-int32 2 allreduce int32 false 2 -- \
	-b 4 -e 64K -c 2 --max-time 0.2 --dtype int32
run_and_check allreduce-inplace 2 allreduce float true 2 -- \
	-b 4 -e 64K -c 2 --max-time 0.2 --inplace

# The chunked path: SB_MPI_MAX_COUNT=1000 splits each call into pieces of 1000 elements.
# 64K floats = 16384 elements (17 pieces); 40008 B of doubles = 5001 elements, so the last piece
# is a single element, in place.
SB_MPI_MAX_COUNT=1000 run_and_check chunked 2 allreduce float false 3 -- \
	-b 64K -e 64K -c 3 --max-time 0.2
f=$(runfile_in "$TMP/chunked") || f=/dev/null
is "$(jq -c 'select(.type == "run") | .provenance.mpi_max_count' "$f")" 1000 \
	"chunked: the run record shows mpi_max_count 1000 (the limit reached the ranks)"
SB_MPI_MAX_COUNT=1000 run_and_check chunked-double-inplace 2 allreduce double true 3 -- \
	-b 40008 -e 40008 -c 3 --max-time 0.2 --dtype double --inplace

for np in 2 4; do
	run_and_check "sendrecv-np$np" "$np" sendrecv int32 false 2 -- \
		-b 4 -e 256K -c 2 --max-time 0.2
done
# sendrecv in pieces too (bytes, 1000 per piece: 16 full pieces and one of 5).
SB_MPI_MAX_COUNT=1000 run_and_check sendrecv-chunked 2 sendrecv int32 false 2 -- \
	-b 16004 -e 16004 -c 2 --max-time 0.2

# The progress line: on stderr when it is a terminal (script(1) gives the run one), one per
# point, not with --quiet, and never when stderr is not a terminal.
if command -v script >/dev/null; then
	script -qc "$SB allreduce --backend fake -b 8 -e 1K --out $TMP/prog" /dev/null |
		tr '\r' '\n' >"$TMP/prog.tty"
	is "$(grep -c 'allreduce: point [0-9] of 8' "$TMP/prog.tty")" 8 "progress on a terminal: one line per point"
	script -qc "$SB allreduce --backend fake -b 8 -e 1K -q --out $TMP/prog" /dev/null |
		tr '\r' '\n' >"$TMP/progq.tty"
	is "$(grep -c 'point [0-9] of' "$TMP/progq.tty")" 0 "progress: none with --quiet"
	"$SB" allreduce --backend fake -b 8 -e 1K --out "$TMP/prog" 2>"$TMP/prog.err" >/dev/null
	is "$(grep -c 'point [0-9] of' "$TMP/prog.err")" 0 "progress: none when stderr is not a terminal"
else
	skip 3 "no script(1) for a terminal"
fi

# The thread level: single by default, as asked with --mpi-thread, recorded.
"$SB" allreduce -b 8 -e 8 -n 5 --out "$TMP/thr1" >/dev/null 2>&1
f=$(runfile_in "$TMP/thr1") || f=/dev/null
is "$(jq -r 'select(.type == "run") | .provenance.mpi_thread | "\(.requested) \(.provided)"' "$f")" \
	"single single" "the thread level: single by default, recorded"
"$SB" allreduce -b 8 -e 8 -n 5 --mpi-thread funneled --out "$TMP/thr2" >/dev/null 2>&1
f=$(runfile_in "$TMP/thr2") || f=/dev/null
is "$(jq -r 'select(.type == "run") | .provenance.mpi_thread.requested' "$f")" funneled \
	"--mpi-thread funneled: asked for and recorded"
"$SB" allreduce -b 8 -e 8 -n 5 --hugepages --out "$TMP/huge" >/dev/null 2>&1
f=$(runfile_in "$TMP/huge") || f=/dev/null
is "$(jq -r 'select(.type == "run") | .provenance.host_memory | "\(.alignment) \(.hugepages)"' "$f")" \
	"2097152 true" "--hugepages: 2 MiB alignment recorded"

# A self-timed benchmark on a split world (the groups test benchmark): 4 ranks in groups of 2,
# its series gathered from every rank, the generic writers' record.
sbrun 4 groups -b 64 -e 128 --group 2 --out "$TMP/groups" >/dev/null 2>"$TMP/groups.err"
is $? 0 "groups on 4 ranks: exit 0"
f=$(runfile_in "$TMP/groups") || f=/dev/null
is "$(jq -c '[.[] | select(.type == "point") | .method.stop == "min-duration" and
	.params.group == 2 and .series.group_allreduce.n >= 100 and
	.series.group_allreduce.n % 4 == 0 and .metrics.group_p50.value > 0] | all' -s "$f")" true \
	"groups: every point met its duration rule, its series gathered from 4 ranks"

# No error lines from any successful run.
is "$(cat "$TMP"/*.err | grep -c 'scalebench: error')" 0 "no 'scalebench: error' line in any run"
# Under a sanitizer build, nothing it reports may pass silently.
is "$(cat "$TMP"/*.err | grep -c -E 'ERROR: (Address|Leak)Sanitizer|runtime error:')" 0 \
	"no sanitizer report in any run"

done_testing
