#!/usr/bin/env bash
# scalebench-report model through the command line: the recorded H200 baselines (NCCL on one
# rank, staged MPI on two), runs made here (all-reduce and send/recv on 2 ranks, and with the
# ring pinned through OpenMPI's coll_tuned), every output format, and bad input. The fitting
# itself is tested on synthetic data in t_model.c.
. "$(dirname "$0")/lib.sh"
plan 31
R=$SB_BUILD/scalebench-report
F=$TOP/tests/fixtures/runs
H200=$TOP/../shared/baselines/nvidia-h200

# One message on stderr and exit 2.
bad() { one_error "$1" "$2" "$R" "${@:3}"; } # bad DESCRIPTION PATTERN ARGS...

# --- the H200 baselines ---
if [ -d "$H200" ]; then
	"$R" model "$H200"/*.jsonl --boot 200 >"$TMP/h200" 2>"$TMP/err"
	is $? 0 "the H200 baselines: exit 0"
	grep -q '^F[0-9]  *allreduce  *nccl  *local copy (p = 1)' "$TMP/h200"
	ok $? "NCCL on one rank: fitted as a local copy"
	grep -q '^F[0-9]  *allreduce  *mpi-gpu  *one host .* ring (chosen)' "$TMP/h200"
	ok $? "staged MPI on two ranks: an all-reduce fit, its algorithm chosen (not recorded)"
	grep -q 'pipeline points of a schedule left out' "$TMP/h200"
	ok $? "the training pipeline's points are left out, said so"
	grep -q '^# extrapolation: all-reduce on mpi-gpu' "$TMP/h200" &&
		[ "$(grep -c '^10 GiB (full gradients) *1000000 ' "$TMP/h200")" = 2 ]
	ok $? "the extrapolation table: 10 GiB at 1e6 ranks, flat and two-level"
	grep -q '^Stragglers and jitter' "$TMP/h200" && grep -q '^Fit range: the runs measured p up to 2' "$TMP/h200"
	ok $? "the caveats printed beside it"
else
	skip 6 "no ../shared/baselines/nvidia-h200"
fi

# --- recorded runs of this project (2 ranks, all-reduce and a handoff) ---
"$R" model "$F"/real-allreduce-1.jsonl "$F"/real-handoff.jsonl --boot 100 >"$TMP/fix" 2>&1
is $? 0 "the recorded fixtures: exit 0"
grep -q 'beta fixed from the pipeline fit' "$TMP/fix"
ok $? "the handoff's beta fixes the all-reduce's, gamma fitted"
"$R" model "$F"/real-allreduce-1.jsonl --boot 100 --seed 5 >"$TMP/a" 2>&1 &&
	"$R" model "$F"/real-allreduce-1.jsonl --boot 100 --seed 5 >"$TMP/b" 2>&1 &&
	"$R" model "$F"/real-allreduce-1.jsonl --boot 100 --seed 6 >"$TMP/c" 2>&1
ok $? "three seeded runs"
cmp -s "$TMP/a" "$TMP/b" && ! cmp -s "$TMP/a" "$TMP/c"
ok $? "the same seed gives the same output, another seed other intervals"
"$R" model "$F"/real-allreduce-1.jsonl --boot 100 --algo tree >"$TMP/out" 2>&1
grep -q 'tree (forced)' "$TMP/out"
ok $? "--algo tree holds the tree formula"
"$R" model "$F"/real-allreduce-1.jsonl --boot 100 --split 1M >"$TMP/out" 2>&1
grep -q '1 KiB..256 KiB' "$TMP/out" && grep -q 'at or above 1 MiB: one size only' "$TMP/out"
ok $? "--split 1M moves the eager range's end"
for fmt in md csv html; do
	"$R" model "$F"/real-allreduce-1.jsonl --boot 50 --format $fmt -o "$TMP/out.$fmt" 2>"$TMP/err"
	is "$? $(grep -c . "$TMP/err")" "0 0" "--format $fmt: exit 0, nothing on stderr"
done
grep -q '^| F1 | allreduce |' "$TMP/out.md" && grep -q '^fit,benchmark,backend' "$TMP/out.csv" &&
	grep -q '^<!DOCTYPE html>' "$TMP/out.html" && [ "$(grep -c '<table>' "$TMP/out.html")" -ge 4 ]
ok $? "md, csv and html each carry the tables"

# --- runs made here: 2 ranks, all-reduce and send/recv, and a ring pinned by the environment ---
mkdir -p "$TMP/ar" "$TMP/sr" "$TMP/ring"
sbrun 2 allreduce -b 8 -e 1M -f 4 --max-time 0.1 -q --out "$TMP/ar" >/dev/null 2>&1 &&
	sbrun 2 sendrecv -b 8 -e 1M -f 4 --max-time 0.1 -q --out "$TMP/sr" >/dev/null 2>&1 &&
	OMPI_MCA_coll_tuned_use_dynamic_rules=1 OMPI_MCA_coll_tuned_allreduce_algorithm=4 \
		sbrun 2 allreduce -b 8 -e 1M -f 4 --max-time 0.1 -q --out "$TMP/ring" >/dev/null 2>&1
ok $? "three runs on 2 ranks"
ar=$(runfile_in "$TMP/ar") sr=$(runfile_in "$TMP/sr") ring=$(runfile_in "$TMP/ring")
"$R" model "$ar" "$sr" "$ring" --boot 200 >"$TMP/here" 2>"$TMP/err"
is $? 0 "a model of the runs made here: exit 0"
grep -q '^F[0-9]  *sendrecv  *mpi  *one host' "$TMP/here"
ok $? "send/recv fitted"
grep -q 'beta fixed from the sendrecv fit' "$TMP/here"
ok $? "the all-reduce's beta from the send/recv fit, gamma fitted"
grep -q 'ring (recorded)' "$TMP/here" && grep -q 'algorithm recorded: OpenMPI coll_tuned allreduce ring' "$TMP/here"
ok $? "the pinned ring is recorded and held"
grep -q 'ring (chosen)' "$TMP/here"
ok $? "the unpinned run's algorithm is chosen, not claimed recorded"
grep -q '^# extrapolation: all-reduce on mpi, one host' "$TMP/here" &&
	grep -q '^16 KiB (decode activations) *1000 *flat' "$TMP/here"
ok $? "the extrapolation table for the runs made here"

# --- bad input ---
bad "a training pipeline alone" "no point a cost model can use" model "$F/real-1f1b.jsonl"
bad "--split not a size" "--split abc: a size in bytes" model "$F/real-allreduce-1.jsonl" --split abc
bad "--split 0" "--split 0: a size in bytes" model "$F/real-allreduce-1.jsonl" --split 0
bad "an unknown --algo" "--algo butterfly: one of ring" model "$F/real-allreduce-1.jsonl" --algo butterfly
bad "--boot too few" "--boot 5: a number of replicates" model "$F/real-allreduce-1.jsonl" --boot 5
bad "no run files" "model needs run files" model --boot 100
bad "an unknown option" "unknown option" model "$F/real-allreduce-1.jsonl" --bogus
bad "a missing file" "nothere.jsonl" model "$TMP/nothere.jsonl"

done_testing
