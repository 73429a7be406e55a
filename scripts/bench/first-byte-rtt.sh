#!/usr/bin/env bash
# First byte through a mount when the peer is across a link with latency: sshfs (aes128-gcm)
# and `wormhole mount`, side by side in one run, alternating. The harness' loopback figure
# (peer-mounts.sh) has no network in it at all; this one puts RTT_MS between client and host.
#
# This kernel has no netem qdisc, so the latency comes from a relay (delay-relay.py, next to this
# script) that holds every byte RTT_MS / 2 in each direction. The "remote" side (sshd and
# `wormhole share`) listens on 127.0.0.2; the relay listens on 127.0.0.3 and forwards there; the
# mounts connect to 127.0.0.3 (the share advertises it). Loopback only; the processes and the
# mounts are removed on exit.
#
#   pnpm run build
#   sudo RTT_MS=10 ROUNDS=10 bash scripts/bench/first-byte-rtt.sh
#
# Each round, per tool: drop the page cache, mount, wait until `stat` of the mount point
# answers, wait 5 ms (as the harness does), time `head -c 1 FILE`, unmount. Prints each time,
# the medians, and Wormhole's as a ratio to sshfs'.
set -euo pipefail
RTT_MS=${RTT_MS:-10}
ROUNDS=${ROUNDS:-10}
FILE_MB=${FILE_MB:-64}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${WORMHOLE_BIN:-$here/../../packages/cli/bin/wormhole.js}
NODE_FLAGS=$(head -1 "$BIN" | sed -E 's/^#!.*[[:space:]/]node([[:space:]]+|$)//')

[[ $EUID == 0 ]] || { echo "run as root (drop_caches, mounts, sshd)" >&2; exit 1; }
for tool in python3 ss sshd sshfs ssh-keygen; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || { echo "missing: $tool" >&2; exit 1; }
done
[[ -f $here/../../packages/cli/dist/main.js ]] || { echo "CLI not built: run pnpm run build" >&2; exit 1; }

R=127.0.0.2  # where the remote side listens
C=127.0.0.3  # the relay, what the mounts connect to
WORK=$(mktemp -d /tmp/wh-rtt.XXXXXX)
PIDS=()

cleanup() {
  set +e
  for m in "$WORK"/mnt-*; do mountpoint -q "$m" 2>/dev/null && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0)); print(s.getsockname()[1])'; }
half=$(awk -v r="$RTT_MS" 'BEGIN { printf "%.3f", r / 2 }')

# --- the data (both tools serve the same directory)
mkdir -p "$WORK/host" "$WORK/mnt-sshfs" "$WORK/mnt-wormhole" "$WORK/ssh"
head -c $((FILE_MB * 1048576)) /dev/urandom >"$WORK/host/big.bin"

# --- sshd for the remote side
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/client"
SSH_PORT=$(free_port)
cp "$WORK/ssh/client.pub" "$WORK/ssh/authorized_keys"
echo "[$C]:$SSH_PORT $(cut -d' ' -f1,2 "$WORK/ssh/host.pub")" >"$WORK/ssh/known_hosts"
cat >"$WORK/ssh/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress $R
HostKey $WORK/ssh/host
PidFile $WORK/ssh/sshd.pid
AuthorizedKeysFile $WORK/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config" 2>"$WORK/sshd.log" &
PIDS+=($!)
SSH_OPTS=(-F /dev/null -o IdentityFile="$WORK/ssh/client" -o IdentitiesOnly=yes
  -o UserKnownHostsFile="$WORK/ssh/known_hosts" -o GlobalKnownHostsFile=/dev/null
  -o StrictHostKeyChecking=yes -o BatchMode=yes)

# --- wormhole share (tls only: no ICE gathering, no STUN servers), advertising the relay
wh() {  # HOME LISTEN ADVERTISE ARGS...
  local home=$1 listen=$2 advertise=$3
  shift 3
  mkdir -p "$home"
  # shellcheck disable=SC2086  # the shebang's flags, split on purpose
  exec env HOME="$home" XDG_CONFIG_HOME= XDG_CACHE_HOME= XDG_STATE_HOME= WORMHOLE_CONFIG= \
    WORMHOLE_POLICY="$home/no-policy.toml" WORMHOLE_LISTEN_HOST="$listen" WORMHOLE_ADVERTISE_HOST="$advertise" \
    node $NODE_FLAGS "$BIN" "$@"
}
# The share reaches its own signal server at the advertised address, the relay: that port is
# chosen here and relayed before the share starts; its TLS listener's port is relayed after.
SIGNAL_PORT=$(free_port)
python3 "$here/delay-relay.py" "$half" "$C" "$R" "$SSH_PORT" "$SIGNAL_PORT" >"$WORK/relay1.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$WORK/relay1.log" && break; sleep 0.05; done
wh "$WORK/wh-host" "$R" "$C" --json share --transports tls --signal-port "$SIGNAL_PORT" "$WORK/host" \
  >"$WORK/share.log" 2>&1 &
SHARE_PID=$!
PIDS+=("$SHARE_PID")
code=""
for _ in $(seq 300); do
  code=$(sed -n 's/.*"event":"code","code":"\([^"]*\)".*/\1/p' "$WORK/share.log" | tail -1)
  [[ -n $code ]] && break
  sleep 0.1
done
[[ -n $code ]] || { echo "wormhole share printed no code: $(tail -3 "$WORK/share.log")" >&2; exit 1; }
# The other ports the share listens on (its TLS listener).
mapfile -t ports < <(ss -Hltnp | awk -v pid="pid=$SHARE_PID," -v sig="$SIGNAL_PORT" \
  '$0 ~ pid { n = split($4, a, ":"); if (a[n] != sig) print a[n] }' | sort -u)
((${#ports[@]})) || { echo "the share listens on no port besides its signal server" >&2; exit 1; }
python3 "$here/delay-relay.py" "$half" "$C" "$R" "${ports[@]}" >"$WORK/relay2.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$WORK/relay2.log" && break; sleep 0.05; done

wait_mounted() {  # MNT PID
  for _ in $(seq 1000); do
    if mountpoint -q "$1" && stat "$1" >/dev/null 2>&1; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.005
  done
  return 1
}
mount_sshfs() {
  sshfs -f "root@$C:$WORK/host" "$1" -p "$SSH_PORT" "${SSH_OPTS[@]}" -o Ciphers=aes128-gcm@openssh.com \
    -o max_read=65536 -o ro 2>>"$WORK/sshfs.log" &
  MPID=$!
}
mount_wormhole() {
  rm -rf "$WORK/wh-client/.cache/wormhole"
  (wh "$WORK/wh-client" 127.0.0.1 127.0.0.1 --json mount --transports tls "$code" "$1") >>"$WORK/mount.log" 2>&1 &
  MPID=$!
}

declare -A TIMES
us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
for ((r = 1; r <= ROUNDS; r++)); do
  for tool in sshfs wormhole; do
    mnt=$WORK/mnt-$tool
    sync
    echo 3 >/proc/sys/vm/drop_caches
    "mount_$tool" "$mnt"
    if ! wait_mounted "$mnt" "$MPID"; then echo "$tool: mount failed" >&2; exit 1; fi
    sleep 0.005
    t0=$(us)
    head -c 1 "$mnt/big.bin" >/dev/null
    t1=$(us)
    ms=$(awk -v u=$((t1 - t0)) 'BEGIN { printf "%.2f", u / 1000 }')
    TIMES[$tool]+="$ms "
    echo "round $r $tool ${ms} ms"
    fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt"
    wait "$MPID" 2>/dev/null || true
  done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
range() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
ms=$(median <<<"${TIMES[sshfs]}")
mw=$(median <<<"${TIMES[wormhole]}")
echo
echo "first byte after mount, ${RTT_MS} ms of round trip added by the relay (${half} ms each way), ${ROUNDS} rounds each, file ${FILE_MB} MiB"
echo "| tool | median ms | min-max ms |"
echo "|---|---:|---:|"
echo "| sshfs (aes128-gcm) | $ms | $(range <<<"${TIMES[sshfs]}") |"
echo "| wormhole (tls) | $mw | $(range <<<"${TIMES[wormhole]}") |"
echo "wormhole / sshfs: $(awk -v w="$mw" -v s="$ms" 'BEGIN { printf "%.2f", w / s }')x"
