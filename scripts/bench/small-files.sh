#!/usr/bin/env bash
# Many small files through a mount: `tar cf - TREE | wc -c` over the peer-mounts dataset's
# 10,000 files of 1-8 KiB, Wormhole next to sshfs (aes128-gcm) in the same run. Every run is a
# fresh mount after `echo 3 > /proc/sys/vm/drop_caches`, as in peer-mounts.sh, whose functions
# (sshd, mounts, dataset, cleanup) and Wormhole plugin this script reuses.
#
#   pnpm run build
#   sudo RUNS=3 bash scripts/bench/small-files.sh
#
# Prints seconds per run and the median of each, and Wormhole's median as a ratio to sshfs'.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/bench/peer-bench-setup.sh
source "$here/peer-bench-setup.sh"

declare -A TIMES=()
tar_once() {  # NAME MOUNT_FN UMOUNT_FN
  local name=$1 mnt=$MNT_ROOT/small-$1 t0 n
  mkdir -p "$mnt"
  drop_caches
  "$2" "$mnt" || die "$name did not mount"
  t0=$(us_now)
  n=$(tar cf - -C "$mnt" "$TREE_NAME" | wc -c)
  TIMES[$name]+="$(awk -v u=$(( $(us_now) - t0 )) 'BEGIN { printf "%.2f", u / 1e6 }') "
  "$3" "$mnt"
  (( n > 0 )) || die "$name: tar produced nothing"
}

for ((run = 1; run <= RUNS; run++)); do
  log "run $run: sshfs-gcm"; tar_once sshfs-gcm mount_sshfs_gcm umount_fuse
  log "run $run: wormhole"; tar_once wormhole mount_wormhole umount_wormhole
done
s=$(median_of "${TIMES[sshfs-gcm]}"); w=$(median_of "${TIMES[wormhole]}")
echo "tar of $TREE_FILES files (s): sshfs-gcm ${TIMES[sshfs-gcm]}(median $s); wormhole ${TIMES[wormhole]}(median $w)"
awk -v s="$s" -v w="$w" 'BEGIN { printf "wormhole / sshfs-gcm: %.2fx the time\n", w / s }'
