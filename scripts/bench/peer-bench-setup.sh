# shellcheck shell=bash
# What a benchmark built on ../shared/bench/peer-mounts.sh sets up before it measures (sourced by
# small-files.sh and get.sh): the harness and its cleanup trap, the dataset, the loopback sshd,
# and Wormhole's plugin. The caller sets `here` (its own folder) first; RUNS defaults to 3.
SHARED=${SHARED_BENCH:-$here/../../../shared/bench/peer-mounts.sh}
[[ -f $SHARED ]] || { echo "peer-mounts.sh not found at $SHARED (set SHARED_BENCH)" >&2; exit 1; }
RUNS=${RUNS:-3}
CONFIGS=wormhole
# shellcheck source=/dev/null
source "$SHARED"
bench_init
trap cleanup EXIT
[[ $SKIP_INSTALL == 1 ]] || install_deps
make_dataset
start_sshd
# shellcheck source=/dev/null
source "$here/wormhole-mount-plugin.sh"

# Median of a space-separated list of numbers.
median_of() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
