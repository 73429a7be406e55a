# shellcheck shell=bash
# Wormhole's mount as a config of /work/shared/bench/peer-mounts.sh (sourced by it through
# BENCH_PLUGIN), so Wormhole is measured side by side with local disk, sshfs and rclone in one
# run on the same data:
#
#   pnpm run build     # the plugin runs the built CLI
#   RUNS=1 FIO_RUNTIME=5 BIG_MB=1024 CONFIGS=local,sshfs-gcm,rclone-full,wormhole \
#     BENCH_PLUGIN=$PWD/scripts/bench/wormhole-mount-plugin.sh bash /work/shared/bench/peer-mounts.sh
#
# One `wormhole share $HOST_DIR` (embedded signal server, loopback) runs for the whole benchmark;
# every "cold" step is a fresh `wormhole mount` with an empty chunk cache (L1 is per process; the
# L2 database and the whole-file copies are deleted at each unmount), after the harness dropped the kernel caches.
# Knobs: WORMHOLE_BIN (default: this checkout's packages/cli/bin/wormhole.js),
# WORMHOLE_TRANSPORTS (default: the CLI's transport race), WORMHOLE_MOUNT_NODE_ARGS (node flags
# for the mount process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).

WORMHOLE_BIN=${WORMHOLE_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/packages/cli/bin/wormhole.js}
WORMHOLE_TRANSPORTS=${WORMHOLE_TRANSPORTS:-}
WH_HOME=$BENCH_DIR/wormhole-home
WH_CODE=""
WH_SHARE_PID=""

[[ -f $WORMHOLE_BIN ]] || die "wormhole CLI not found at $WORMHOLE_BIN (run pnpm run build)"
[[ -f $(dirname "$WORMHOLE_BIN")/../dist/main.js ]] || die "CLI not built: run pnpm run build"

# The node flags of the bin's shebang (`#!/usr/bin/env -S node FLAGS`): measure what the installed
# `wormhole` command runs.
WH_NODE_FLAGS=$(head -1 "$WORMHOLE_BIN" | sed -E 's/^#!.*[[:space:]/]node([[:space:]]+|$)//')

wh_exec() {  # becomes the CLI (exec), so `wh_exec ... &` leaves $! = node's PID for track_pid;
  # the benchmark's own HOME (config, state, cache), loopback only
  # shellcheck disable=SC2086  # flag lists, split on purpose
  exec env HOME="$WH_HOME" XDG_CONFIG_HOME= XDG_CACHE_HOME= XDG_STATE_HOME= WORMHOLE_CONFIG= \
    WORMHOLE_POLICY="$WH_HOME/no-policy.toml" WORMHOLE_ADVERTISE_HOST=127.0.0.1 WORMHOLE_LISTEN_HOST=127.0.0.1 \
    node $WH_NODE_FLAGS ${WORMHOLE_NODE_ARGS:-} "$WORMHOLE_BIN" "$@"
}

wh_start_share() {  # once per benchmark; the host serves every mount
  [[ -n $WH_SHARE_PID ]] && kill -0 "$WH_SHARE_PID" 2>/dev/null && return 0
  mkdir -p "$WH_HOME"
  local log=$RUN_DIR/wormhole-share.log i
  : >"$log"
  local args=(--json share "$HOST_DIR")
  [[ -n $WORMHOLE_TRANSPORTS ]] && args+=(--transports "$WORMHOLE_TRANSPORTS")
  wh_exec "${args[@]}" >>"$log" 2>&1 &
  WH_SHARE_PID=$!; track_pid "$WH_SHARE_PID" wormhole-share
  for ((i = 0; i < 300; i++)); do
    WH_CODE=$(sed -n 's/.*"event":"code","code":"\([^"]*\)".*/\1/p' "$log" | tail -1)
    [[ -n $WH_CODE ]] && break
    kill -0 "$WH_SHARE_PID" 2>/dev/null || die "wormhole share exited: $(tail -5 "$log")"
    sleep 0.1
  done
  [[ -n $WH_CODE ]] || die "wormhole share printed no code ($log)"
  log "wormhole share up (pid $WH_SHARE_PID, code $WH_CODE)"
}

mount_wormhole() {  # $1 = mountpoint
  wh_start_share || return 1
  local args=(--json mount "$WH_CODE" "$1")
  [[ -n $WORMHOLE_TRANSPORTS ]] && args+=(--transports "$WORMHOLE_TRANSPORTS")
  WORMHOLE_NODE_ARGS=${WORMHOLE_MOUNT_NODE_ARGS:-} wh_exec "${args[@]}" >>"$RUN_DIR/wormhole-mount.log" 2>&1 &
  MOUNT_PID=$!; track_pid "$MOUNT_PID" wormhole-mount
  wait_mounted "$1" "$MOUNT_PID"
}

umount_wormhole() {  # $1 = mountpoint; the next mount starts with an empty chunk cache
  umount_fuse "$1"; local rc=$?
  rm -f "$WH_HOME/.cache/wormhole/chunks.db" "$WH_HOME/.cache/wormhole/chunks.db-wal" \
    "$WH_HOME/.cache/wormhole/chunks.db-shm"
  rm -rf "$WH_HOME/.cache/wormhole/copies"  # whole-file copies (FUSE passthrough)
  return $rc
}

add_config wormhole "$MNT_ROOT/wormhole" mount_wormhole umount_wormhole "wormhole share + wormhole mount (in-process FUSE, chunk cache)"

# The share runs before any timed step, as sshd does for sshfs: `mount ms` is the mount alone.
# (Started lazily by the first mount before, its start-up landed in that mount's time.)
if [[ -z ${CONFIGS:-} || ,$CONFIGS, == *,wormhole,* ]]; then wh_start_share || die "wormhole share did not start"; fi
