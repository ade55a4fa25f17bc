#!/usr/bin/env bash
# Topology in real runs: scalebench topo and the allreduce run record under mpirun, with and
# without binding, --bind, the fixtures through HWLOC_XMLFILE, and bad input.
. "$(dirname "$0")/lib.sh"
plan 36
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-120}
FIX=$TOP/tests/fixtures
cores=$(hwloc-calc --number-of core all)
topo_of() { jq -c 'select(.type == "run") | .topology' "$(runfile_in "$1")"; }
warnings_of() { jq -r 'select(.type == "run") | [.topology.warnings[].kind] | sort | join(",")' "$(runfile_in "$1")"; }

# 2 ranks as mpirun places them (bound to a core each on this machine).
sbrun 2 topo --out "$TMP/a" >"$TMP/a.out" 2>"$TMP/a.err"
is $? 0 "topo at 2 ranks: exit 0"
t=$(topo_of "$TMP/a")
is "$(jq '.ranks | length' <<<"$t")" 2 "the run record holds both ranks"
is "$(jq -r '[.ranks[].bound] | all' <<<"$t")" true "mpirun bound both ranks, and the record says so"
is "$(jq -r '.hosts[0].cores' <<<"$t")" "$cores" "the host summary counts this machine's cores"
is "$(jq -r '[.ranks[].cpuset] | unique | length' <<<"$t")" 2 "the two ranks sit on different PUs"
is "$(warnings_of "$TMP/a")" "" "no warnings for a clean placement"
grep -q "^host " "$TMP/a.out" && grep -q "^pairs: 1 " "$TMP/a.out"
ok $? "the readable map names the host and the pair"
ok "$(jq -r '.discovery_seconds < 0.5' <<<"$t" | grep -qx true; echo $?)" \
	"discovery took $(jq -r .discovery_seconds <<<"$t") s (< 0.5 s)"
for k in packages numa_nodes pus memory gpus nics synthetic xml_fnv1a64; do
	jq -e ".hosts[0] | has(\"$k\")" <<<"$t" >/dev/null
	ok $? "host summary has $k"
done

# Unbound ranks, and --bind auto fixing it.
SB_MPIRUN_FLAGS="--bind-to none" sbrun 2 topo --out "$TMP/b" -q >/dev/null 2>"$TMP/b.err"
is "$(warnings_of "$TMP/b")" "unbound" "--bind-to none: the unbound warning"
is "$(grep -c "warning: \[unbound\]" "$TMP/b.err")" 1 "said once on stderr"
SB_MPIRUN_FLAGS="--bind-to none" sbrun 2 topo --bind auto --out "$TMP/c" -q >/dev/null 2>&1
t=$(topo_of "$TMP/c")
is "$(jq -r '[.ranks[].bound] | all' <<<"$t")" true "--bind auto binds unbound ranks"
is "$(jq -r '[.ranks[].cpuset] | unique | length' <<<"$t")" 2 "on different cores"
jq -r '.ranks[].bind_action' <<<"$t" | grep -q "^bound to NUMA node"
ok $? "and says what it did"
sbrun 2 topo --bind none --out "$TMP/d" -q >/dev/null 2>&1
is "$(warnings_of "$TMP/d")" "unbound" "--bind none unbinds"

# More ranks than cores.
sbrun 4 topo --out "$TMP/e" -q >/dev/null 2>&1
warnings_of "$TMP/e" | grep -q oversubscribed
ok $? "4 ranks on $cores cores: the oversubscribed warning"

# The benchmark's run record and points carry the topology and the span.
sbrun 2 allreduce -b 4 -e 64 --max-time 0.2 --out "$TMP/f" >"$TMP/f.out" 2>/dev/null
f=$(runfile_in "$TMP/f")
span=$(jq -r 'select(.type == "run") | .topology.span' "$f")
ok "$(case $span in same-core | same-numa | same-package | same-host) echo 0 ;; *) echo 1 ;; esac)" \
	"one host: the span is within the host ($span)"
is "$(jq -r 'select(.type == "point") | .span' "$f" | sort -u)" "$span" "every point is labelled with it"
grep -q " span " "$TMP/f.out" && grep -q " $span " "$TMP/f.out"
ok $? "so is every row of the table"

# --format json.
sbrun 2 topo --format json --out "$TMP/g" 2>/dev/null >"$TMP/g.json"
is "$(jq '.ranks | length' "$TMP/g.json")" 2 "--format json prints the topology record"

# Fixtures: a DGX-like machine, 8 ranks with a GPU each, --bind auto (planned placement).
HWLOC_XMLFILE=$FIX/dgx-2p4n8g4nic.xml sbrun 8 topo --bind auto --gpus local --out "$TMP/h" -q \
	>"$TMP/h.out" 2>/dev/null
is $? 0 "topo on the DGX fixture: exit 0"
t=$(topo_of "$TMP/h")
is "$(jq -r '[.ranks[].gpu] | unique | length' <<<"$t")" 8 "8 ranks, 8 different GPUs"
is "$(warnings_of "$TMP/h")" "" "a rank per GPU near its GPU: no warnings"
is "$(jq -c '.pairs.counts | [."same-numa", ."same-package", ."same-host"]' <<<"$t")" "[4,8,16]" \
	"pairs: 4 same-numa, 8 same-package, 16 same-host"
# Fixture: 4 ranks on 2 GPUs.
HWLOC_XMLFILE=$FIX/1p1n-2gpu.xml sbrun 4 topo --gpus local --out "$TMP/i" -q >/dev/null 2>&1
warnings_of "$TMP/i" | grep -q shared-gpu
ok $? "4 ranks on 2 GPUs: the shared-gpu warning"

# Bad input: one message, exit 2, no run file.
for bad in "--bind sideways" "--gpus all"; do
	# shellcheck disable=SC2086
	sbrun 2 topo $bad --out "$TMP/x" >/dev/null 2>"$TMP/x.err"
	is "$? $(grep -c '^scalebench: error' "$TMP/x.err")" "2 1" "topo $bad: exit 2, one message"
done
HWLOC_XMLFILE=$TMP/missing.xml sbrun 2 allreduce -e 64 --out "$TMP/y" >/dev/null 2>"$TMP/y.err"
is "$? $(grep -c "^scalebench: error: cannot read HWLOC_XMLFILE" "$TMP/y.err")" "2 1" \
	"an unreadable HWLOC_XMLFILE: exit 2, one message"
echo "not xml" >"$TMP/junk.xml"
HWLOC_XMLFILE=$TMP/junk.xml "$SB" topo --out "$TMP/z" >/dev/null 2>"$TMP/z.err"
is "$? $(grep -c "^scalebench: error" "$TMP/z.err")" "2 1" "an HWLOC_XMLFILE that is not XML: exit 2, one message"
done_testing
