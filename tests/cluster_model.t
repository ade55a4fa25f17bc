#!/usr/bin/env bash
# Model recovery: on an emulated link of known delay and rate, the alpha-beta fits of
# `scalebench-report model` give back the link. Two hosts, one rank each; links of 1000 Mbit/s with
# a one-way delay of 0, then 200 us (scripts/netns-cluster: netem, or netns-delayd on kernels
# without it); a send/recv and an all-reduce sweep (8 B .. 4 MiB) in each, fitted:
#   alpha (eager fit, 8 B .. 32 KiB): alpha(200 us) - alpha(0) = the injected 200 us. The zero-delay
#     run calibrates what the software path costs (20-95 us here: the user-space link, nested-VM
#     wake-ups, the load of the machine); only the difference is the link's.
#   1/beta (fit from 64 KiB): the rate, less what TCP carries besides the data: of each 1514-byte
#     frame 1448 are payload (IP, TCP with timestamps, Ethernet headers: 4.4%), and in an exchange
#     (both ranks send at once) each link also carries the ACKs of the other direction (a 66-byte
#     frame per two segments: 2.2%): 1000 x 0.956 x 0.978 = 936 Mbit/s expected.
# The all-reduce is pinned to recursive doubling (OpenMPI's coll_tuned, recorded in the run file
# and read by the model): with 2 ranks one exchange, so the same alpha as a send/recv.
#
# Open MPI's eager limit is raised above the largest size for these runs: with the default
# (64 KiB) a message is sent after a rendezvous handshake, and in an exchange a rank's handshake
# reply can wait behind its own bulk data (the one TCP connection, OpenMPI's progress), so one
# direction waits for the other: the point takes 2x, in 30-50% of the 2-4 MiB points at 200 us
# (and under load at 0 us), in no fixed pattern. That is the protocol, not the link, and it makes
# the rate fit anything from 600 to 1050 Mbit/s run to run; eager, the fits scatter by a few %.
#
# Tolerances, from 10 interleaved runs per setting and benchmark on this kind of machine (2 cores
# shared with other work), eager limit raised: alpha(200) - alpha(0) came out 189-284 us run by
# run (medians 238, lowest alphas 213): the link daemon releases packets ~10 us late on average
# and the ranks' wake-ups add more, never less; so 200 -30/+70 us. 1/beta came out 766-944
# Mbit/s (median 896, 0.96 x the 936 expected): 0.85-1.00 x the rate (it cannot beat the line).
# Each setting's alpha is the lowest of the attempts (load only ever adds latency), its 1/beta
# the median of the attempts (a fit errs either way); while a check fails the runs are made
# again, 5 attempts at most: OpenMPI's TCP transport now and then serves a whole run at a 10 ms
# tick (2 of 20 runs at 200 us; such a run's 1/beta is left out; none in 35 runs since), and a
# neighbour's load comes and goes. The link's latency is also bimodal from run to run: 35 runs of
# an 8-byte send/recv at 200 us had medians of 222-249 us (20 runs) or 288-328 us (15), the mode
# fixed for a run (how the ranks' and the link daemon's wake-ups fall on the 2 cores); the lowest
# of the attempts finds the low mode.
. "$(dirname "$0")/lib.sh"
SB_CLUSTER_PREFIX=${SB_CLUSTER_PREFIX:-t2$(printf %04x $(($$ % 65536)))}
. "$(dirname "$0")/cluster_lib.sh"
ldd "$SB" 2>/dev/null | grep -q libasan &&
	skip_all "a timing test: the sanitizer build's timings are not the product's"
[ -x "$SB_BUILD/scalebench-report" ] || skip_all "no scalebench-report in $SB_BUILD"
cluster_require --shaper

plan 9

RATE=1000 # Mbit/s
DELAY=200 # us
TOL_LO=30 TOL_HI=70 # us: alpha(DELAY) - alpha(0) in [DELAY - TOL_LO, DELAY + TOL_HI]
BW_LO=0.85 BW_HI=1.00
ATTEMPTS=${SB_MODEL_ATTEMPTS:-5}
MPI_ENV=(-x OMPI_MCA_btl_tcp_eager_limit=8388608 -x OMPI_MCA_btl_tcp_rndv_eager_limit=8388608
	-x OMPI_MCA_btl_tcp_max_send_size=8388608
	-x OMPI_MCA_coll_tuned_use_dynamic_rules=1 -x OMPI_MCA_coll_tuned_allreduce_algorithm=3)

# fit FILE: "alpha_us beta_mbit" of the run: the eager fit's alpha (F1), the next fit's 1/beta.
fit() {
	"$SB_BUILD/scalebench-report" model "$1" --format md 2>/dev/null | awk -F'|' '
		$2 == " F1 " && !a {a = $10 + 0}
		$2 == " F2 " && !b {b = $12 * 8000}
		END {if (a > 0 && b > 0) printf "%.1f %.0f\n", a, b; else print "nan nan"}'
}

# Per benchmark and delay: the lowest alpha of the attempts (load only ever adds latency), and
# every attempt's 1/beta (the check takes their median: a fit can err either way).
declare -A ALPHA BWS
for b in sendrecv allreduce; do
	for d in 0 "$DELAY"; do
		ALPHA[$b,$d]=1e9
		BWS[$b,$d]=""
	done
done
min() { awk -v x="$1" -v y="$2" 'BEGIN {print (x + 0 < y + 0) ? x : y}'; }
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR] = $1} END {
	if (NR) printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print 0}'; }
within() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN {exit !(x >= lo && x <= hi)}'; }
# The zero-delay offset is the link's (the user-space path and the wake-ups), the same for both
# benchmarks on the one link: its estimate is the lowest zero-delay alpha of either (load only
# adds). Under the load of a full test run one benchmark's zero-delay runs all came out at
# 85-111 us while the other's reached 21 us, and a per-benchmark offset then took 148 us off.
alpha0() { min "${ALPHA[sendrecv,0]}" "${ALPHA[allreduce,0]}"; }
delta() { awk -v x="${ALPHA[$1,$DELAY]}" -v y="$(alpha0)" 'BEGIN {printf "%.1f", x - y}'; }
BW_MIN=$(awk -v r=$RATE -v f=$BW_LO 'BEGIN {print r * f}')
BW_MAX=$(awk -v r=$RATE -v f=$BW_HI 'BEGIN {print r * f}')
all_good() {
	local b d
	for b in sendrecv allreduce; do
		within "$(delta $b)" $((DELAY - TOL_LO)) $((DELAY + TOL_HI)) || return 1
		for d in 0 "$DELAY"; do
			within "$(median "${BWS[$b,$d]}")" "$BW_MIN" "$BW_MAX" || return 1
		done
	done
}

runs_ok=0
nruns=0
T0=$(now)
for ((a = 1; a <= ATTEMPTS; a++)); do
	for d in 0 "$DELAY"; do
		cluster up 2 --rate $RATE --delay "$d" >"$TMP/up" 2>&1 || {
			diag "up --delay $d failed: $(cat "$TMP/up")"
			continue
		}
		for b in sendrecv allreduce; do
			o=$TMP/$a-$d-$b
			cl_mpirun 2 "${MPI_ENV[@]}" "$SB" $b -b 8 -e 4M --max-time 0.3 -q --out "$o" \
				>"$o.out" 2>"$o.err"
			st=$?
			nruns=$((nruns + 1))
			f=$(runfile_in "$o") || f=/dev/null
			[ "$st" = 0 ] && runs_ok=$((runs_ok + 1))
			read -r al bw < <(fit "$f")
			diag "attempt $a, delay $d us, $b: exit $st, alpha $al us, 1/beta $bw Mbit/s"
			[ "$al" = nan ] && continue
			ALPHA[$b,$d]=$(min "$al" "${ALPHA[$b,$d]}")
			# A run at the 10 ms tick: its large sizes are not what the fit is about.
			lt "$al" 5000 && BWS[$b,$d]+=" $bw"
		done
	done
	all_good && break
done
diag "$((a > ATTEMPTS ? ATTEMPTS : a)) attempt(s), $(since "$T0") s"
is "$runs_ok" "$nruns" "every run exits 0 ($nruns runs)"
for b in sendrecv allreduce; do
	diag "$b: lowest alpha ${ALPHA[$b,0]} us at delay 0, ${ALPHA[$b,$DELAY]} us at $DELAY us;" \
		"1/beta (Mbit/s) at 0:${BWS[$b,0]}, at $DELAY:${BWS[$b,$DELAY]}"
	within "$(delta $b)" $((DELAY - TOL_LO)) $((DELAY + TOL_HI))
	ok $? "$b: alpha(delay $DELAY) - alpha(0) = $(delta $b) us: the injected $DELAY -$TOL_LO/+$TOL_HI us"
	for d in 0 "$DELAY"; do
		bw=$(median "${BWS[$b,$d]}")
		within "$bw" "$BW_MIN" "$BW_MAX"
		ok $? "$b, delay $d us: 1/beta $bw Mbit/s (median of the attempts), $BW_LO-$BW_HI x $RATE"
	done
done
# --loss: 5% of the packets dropped; TCP resends them (its count of resent segments over all it
# sent: 4.2-5.4% in trials, binomial noise on ~2000 segments about 0.5%) and the run completes.
cluster up 2 --loss 5 >/dev/null 2>&1
o=$TMP/loss
cl_mpirun 2 "$SB" sendrecv -b 8 -e 64K -f 8 --max-time 0.2 -q --out "$o" >"$o.out" 2>"$o.err"
st=$?
pct=$(for h in 1 2; do ip netns exec "$P-h$h" nstat -saz TcpOutSegs TcpRetransSegs; done |
	awk '$1 == "TcpOutSegs" {o += $2} $1 == "TcpRetransSegs" {r += $2}
	END {if (o) printf "%.1f", 100 * r / o; else print "nan"}')
diag "--loss 5: exit $st, TCP resent ${pct}% of its segments"
[ "$st" = 0 ] && within "$pct" 2 10
ok $? "--loss 5: the run completes (exit $st), TCP resent ${pct}% of its segments (2-10%)"

# The handoff: the same link one way (the pipeline's stages 0 -> 1): its clock offset across the
# two hosts (true: 0, one clock) stays within its stated bound even with the delay.
cluster up 2 --rate $RATE --delay $DELAY >/dev/null 2>&1
o=$TMP/handoff
cl_mpirun 2 "$SB" pipeline --mode handoff -b 4K -e 64K -f 4 --max-time 0.2 -q --out "$o" \
	>"$o.out" 2>"$o.err"
f=$(runfile_in "$o") || f=/dev/null
read -r off err inb hop < <(jq -s -r '[.[] | select(.type == "point")] |
	[(([.[].boundaries[0].clock_offset | fabs] | max) * 1e7 | round / 10),
	 (([.[].boundaries[0].clock_offset_error] | max) * 1e7 | round / 10),
	 ([.[].boundaries[0] | (.clock_offset | fabs) <= .clock_offset_error] | all),
	 (min_by(.params.bytes) | .boundaries[0].handoff_p50) * 1e6] | @tsv' "$f")
diag "handoff across a ${DELAY} us link: largest |clock offset| ${off:-?} us (bound ${err:-?} us), 4 KiB handoff ${hop:-?} us"
is "${inb:-none}" true "handoff: |clock offset| (true 0) within its stated bound at $DELAY us delay"
done_testing
