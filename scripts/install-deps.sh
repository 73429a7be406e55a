#!/usr/bin/env bash
# Installs everything Wormhole needs to build and test on Debian/Ubuntu: system packages
# (FUSE runtime, test servers), pnpm, the workspace's npm dependencies, and a build.
# Idempotent. Without root it skips the system packages and says which are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libfuse2 fuse3                 # fuse-native's addon links libfuse.so.2; fuse3 ships fusermount
  libfuse3-dev pkg-config gcc    # the project's libfuse3 binding (packages/fuse/native) is built here
  redis-server                   # signal server scale-out tests
  coturn                         # STUN/TURN for NAT tests
  prometheus                     # promtool: checks /metrics output and alert rules
  yamllint                       # deploy file lint
  iproute2 iptables              # network-namespace NAT lab
  openssh-server sshfs fio       # benchmarks against sshfs
  rsync sqlite3                  # the mount end-to-end test runs them on the mounted share
  python3 make g++               # better-sqlite3 builds from source
)

if [ "$(id -u)" = 0 ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # Installing a server package must not start it: tests start their own instances.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
  fi
else
  echo "install-deps: not root, skipping apt packages (${APT_PACKAGES[*]})" >&2
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "12.4.2" ]; then
  npm install -g pnpm@12.4.2 >/dev/null
fi
# better-sqlite3 has no reachable prebuilt: node-gyp must use the installed Node headers.
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
pnpm install --frozen-lockfile
pnpm run build
