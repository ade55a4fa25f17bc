#!/usr/bin/env bash
# A fault on one rank only (here: rank 1 cannot allocate its buffers) must end the whole job
# with status 3 and a message from that rank, not leave the other ranks waiting in a collective;
# rank 0 keeps the finished points and closes the run file.
. "$(dirname "$0")/lib.sh"
# AddressSanitizer reserves terabytes of address space, which a ulimit -v cannot leave room for.
ldd "$SB" 2>/dev/null | grep -q libasan && skip_all "address-space limits do not work under ASan"
plan 5
cat >"$TMP/limit" <<'SH'
#!/usr/bin/env bash
[ "${OMPI_COMM_WORLD_RANK:-0}" = 1 ] && ulimit -v 1500000
exec "$@"
SH
chmod +x "$TMP/limit"
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-60}
start=$(date +%s)
"$TOP/scripts/mpirun" 2 "$TMP/limit" "$SB" allreduce -b 64M -e 1G -f 16 -n 3 -w 1 -c 0 \
	--out "$TMP/runs" >/dev/null 2>"$TMP/err"
rc=$?
took=$(($(date +%s) - start))
is "$rc" 3 "the job exits with status 3"
ok $((took > 30)) "it ends promptly (${took} s)"
grep -q "^\[rank 1 .*\] scalebench: error: cannot allocate" "$TMP/err"
ok $? "rank 1 says what failed"
f=$(runfile_in "$TMP/runs")
is "$(jq -r 'select(.type == "point") | .params.bytes' "$f" | head -n1)" 67108864 \
	"the point measured before the fault is kept"
is "$(tail -n1 "$f" | jq -r .type)" end "rank 0 closed the run file with an end record"
done_testing
