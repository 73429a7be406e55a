#!/bin/sh
# Starts coturn with the shared TURN secret read from a file (Docker/Kubernetes secret), so the
# secret is neither in the image, the config in git, nor turnserver's command line.
# Env: TURN_SECRET_FILE (required), TURN_CONFIG (default /etc/coturn/turnserver.conf),
#      TURN_EXTERNAL_IP (optional, "public" or "public/private" for hosts behind 1:1 NAT).
set -eu
conf_in="${TURN_CONFIG:-/etc/coturn/turnserver.conf}"
secret_file="${TURN_SECRET_FILE:?TURN_SECRET_FILE must name the file holding the TURN secret}"
[ -s "$secret_file" ] || { echo "coturn-entrypoint: $secret_file is empty or missing" >&2; exit 1; }
umask 077
conf_out="$(mktemp /tmp/turnserver.XXXXXX.conf)"
cp "$conf_in" "$conf_out"
printf 'static-auth-secret=%s\n' "$(tr -d '\r\n' <"$secret_file")" >>"$conf_out"
if [ -n "${TURN_EXTERNAL_IP:-}" ]; then
  printf 'external-ip=%s\n' "$TURN_EXTERNAL_IP" >>"$conf_out"
fi
exec turnserver -c "$conf_out" "$@"
