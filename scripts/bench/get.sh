#!/usr/bin/env bash
# Copying one file out of a share: `wormhole get` (the transport race, and webtransport forced)
# next to `scp` (aes128-gcm, through the loopback sshd of peer-mounts.sh) and a local `cp` of the
# same file, in the same run. Every copy starts after `echo 3 > /proc/sys/vm/drop_caches` (the
# file is read cold) and one untimed start of the same tool (its own code is read warm, as on a
# machine in use: node and node_modules are ~100 MB, ssh a few); each writes a new file and is
# checked against the source with `cmp` (outside the timing). Times are whole commands.
# Reuses peer-mounts.sh (dataset, sshd, cleanup) and the Wormhole plugin (one share for the run).
#
#   pnpm run build
#   sudo RUNS=3 BIG_MB=1024 bash scripts/bench/get.sh
#
# Prints MB/s (1e6 bytes) per run, the medians, and Wormhole's medians as ratios to scp and cp.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/bench/peer-bench-setup.sh
source "$here/peer-bench-setup.sh"
wh_start_share || die "wormhole share did not start"

OUT=$BENCH_DIR/get-out
mkdir -p "$OUT"
SRC=$HOST_DIR/$BIG_NAME
BYTES=$(stat -c %s "$SRC")

warm_cp()       { cp --version >/dev/null; }
warm_scp()      { ssh -V 2>/dev/null; scp 2>/dev/null; true; }
warm_wormhole() { (wh_exec --json doctor) >/dev/null 2>&1; true; }
copy_cp()       { cp "$SRC" "$OUT/$BIG_NAME"; }
copy_scp()      { scp -q -P "$SSH_PORT" "${SSH_OPTS[@]}" -o Ciphers=aes128-gcm@openssh.com \
                    "root@127.0.0.1:$SRC" "$OUT/$BIG_NAME"; }
copy_wormhole() { (wh_exec get "$WH_CODE" "/$BIG_NAME" "$OUT/$BIG_NAME") >/dev/null; }
copy_wormhole_wt() { (wh_exec get --transports webtransport "$WH_CODE" "/$BIG_NAME" "$OUT/$BIG_NAME") >/dev/null; }

declare -A RATES=()
copy_once() {  # NAME FN WARM_FN
  local t0 us
  rm -f "$OUT/$BIG_NAME"
  drop_caches
  "$3"
  t0=$(us_now)
  "$2" || die "$1: copy failed"
  us=$(( $(us_now) - t0 ))
  cmp -s "$SRC" "$OUT/$BIG_NAME" || die "$1: the copy differs from the source"
  RATES[$1]+="$(awk -v b="$BYTES" -v u="$us" 'BEGIN { printf "%.0f", b / u }') "
}

NAMES=(cp scp-gcm wormhole wormhole-webtransport)
for ((run = 1; run <= RUNS; run++)); do
  log "run $run"
  copy_once cp copy_cp warm_cp
  copy_once scp-gcm copy_scp warm_scp
  copy_once wormhole copy_wormhole warm_wormhole
  copy_once wormhole-webtransport copy_wormhole_wt warm_wormhole
done
rm -f "$OUT/$BIG_NAME"

echo "copy of a $(awk -v b="$BYTES" 'BEGIN { printf "%.0f", b / 1048576 }') MiB file, MB/s per run (median):"
for n in "${NAMES[@]}"; do echo "  $n: ${RATES[$n]}(median $(median_of "${RATES[$n]}"))"; done
c=$(median_of "${RATES[cp]}"); s=$(median_of "${RATES[scp-gcm]}")
for n in wormhole wormhole-webtransport; do
  w=$(median_of "${RATES[$n]}")
  awk -v n="$n" -v w="$w" -v s="$s" -v c="$c" 'BEGIN { printf "%s: %.2fx scp-gcm, %.2fx local cp\n", n, w / s, w / c }'
done
