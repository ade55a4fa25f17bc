#!/usr/bin/env bash
# scalebench must configure and build against MPICH as well as OpenMPI, and run under it.
. "$(dirname "$0")/lib.sh"
command -v mpicc.mpich >/dev/null && command -v mpirun.mpich >/dev/null ||
	skip_all "MPICH is not installed (apt-get install libmpich-dev mpich)"
plan 4
b=$TMP/build-mpich
cmake -S "$TOP" -B "$b" -DMPI_C_COMPILER="$(command -v mpicc.mpich)" -DSB_CUDA=OFF -DSB_WERROR=ON \
	>"$TMP/cfg.log" 2>&1
ok $? "configures against MPICH"
grep -q "libmpich" "$b/CMakeCache.txt"
ok $? "the MPI found is MPICH's"
cmake --build "$b" -j2 --target scalebench >"$TMP/build.log" 2>&1
ok $? "builds with -Werror" || tail -20 "$TMP/build.log" | sed 's/^/# /'
mpirun.mpich -np 2 "$b/scalebench" allreduce -b 4 -e 64K -c 2 --max-time 0.2 --out "$TMP/runs" -q \
	>"$TMP/out" 2>&1
rc=$?
f=$(runfile_in "$TMP/runs")
is "$rc:$(jq -r 'select(.type=="run") | .provenance.mpi_library' "$f" | grep -c MPICH)" "0:1" \
	"runs 2 ranks under mpirun.mpich and records the MPICH library"
done_testing
