# shellcheck shell=bash
# Shared by tests/cluster*.t, sourced after lib.sh: an emulated cluster (scripts/netns-cluster)
# under a name prefix of the test process's own (set SB_CLUSTER_PREFIX first: the test file's
# number and the pid), so that a user's cluster, the other cluster tests and the same test run
# at once from another checkout are left alone; it is taken down at exit.
#
# cluster ARGS...          scripts/netns-cluster
# cluster_require [--shaper]  skip the file, saying why, where the cluster cannot be made
# cl_mpirun NP ARGS...     mpirun on the cluster's first host (at most CL_LIMIT seconds)
# now, since T0            wall clock, seconds since T0 (awk: bc is not always there)
# npoints DIR              point records in the one run file of DIR so far

: "${SB_CLUSTER_PREFIX:?set SB_CLUSTER_PREFIX before sourcing cluster_lib.sh}"
export SB_CLUSTER_PREFIX
export SB_NETNS_DELAYD=${SB_NETNS_DELAYD:-$SB_BUILD/netns-delayd}
# A job that outlives this is a failure, not a hang of the test.
export MPIEXEC_TIMEOUT=${MPIEXEC_TIMEOUT:-120}
CL_LIMIT=${CL_LIMIT:-150}
# shellcheck disable=SC2034 # for the tests
P=$SB_CLUSTER_PREFIX

cluster() { "$TOP/scripts/netns-cluster" "$@"; }

cluster_require() {
	[ "$(id -u)" = 0 ] || skip_all "the emulated cluster needs root (network namespaces)"
	if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
		skip_all "no 'ip netns' here (iproute2)"
	fi
	command -v jq >/dev/null || skip_all "jq is not installed"
	[ -x "$SB" ] || skip_all "no scalebench at $SB (set SB_BUILD)"
	mpirun --version 2>/dev/null | grep -q "Open MPI" ||
		skip_all "the emulated cluster launches ranks with Open MPI's mpirun"
	local why
	why=$(cluster check "$@" 2>&1) || skip_all "${why#netns-cluster: }"
	trap 'cluster down >/dev/null 2>&1; rm -rf "$TMP"' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

cl_mpirun() {
	local np=$1
	shift
	# shellcheck disable=SC2046 # the options are words
	timeout -k 5 "$CL_LIMIT" "$TOP/scripts/netns-cluster" exec \
		mpirun $(cluster mpirun-args) -np "$np" "$@"
}

since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.2f", a - b}'; }

