#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make package-test`: the .deb on this machine (root needed; minutes with the build, so not in `make test`).
#   1. dpkg -i: the vncgate user, /var/lib/vncgate owned by it, /etc/vncgate/vncgate.toml a conffile, a
#      generated API key in /etc/vncgate/api-keys (root:vncgate 0640), `systemd-analyze verify` of the installed
#      units as shipped (binary and man page now in place);
#   2. the unit's own ExecStart, User, Group and WorkingDirectory (systemd is not PID 1 here, so the unit itself
#      cannot run): READY=1 on $NOTIFY_SOCKET, /healthz, /readyz, the dashboard and noVNC from Debian's novnc;
#      the API refuses requests without the generated key and takes them with it;
#      a 2-second job against an Xvnc console (a target given by environment, as the container does) ends
#      `done` with its MP4 in /var/lib/vncgate/recordings, owned by vncgate; SIGHUP reloads, SIGTERM exits 0;
#   3. dpkg --purge leaves nothing behind (the key file included) but the documented state directory.
# The test then removes /var/lib/vncgate and the vncgate user itself (Debian keeps both on purge).
# Only the server port is changed from the shipped configuration (VNCGATE_SERVER_PORT: 8090 may be taken).
# Usage: tests/packaging/package_test.sh DEB_BUILD
set -euo pipefail
out=$(cd "$1" && pwd)
deb=$(ls "$out"/vncgate_*.deb | head -1)
[ "$(id -u)" -eq 0 ] || { echo "package-test: needs root (dpkg -i)" >&2; exit 2; }
for tool in Xvnc curl ffprobe python3 setpriv systemd-analyze; do
  command -v "$tool" >/dev/null || { echo "package-test: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
peers_tag=package-test
# shellcheck source=../../scripts/lib/peers.sh
source "$(dirname "$0")/../../scripts/lib/peers.sh"
fail() {
  echo "FAIL: $*" >&2
  [ -f "$tmp/serve.log" ] && tail -20 "$tmp/serve.log" >&2
  exit 1
}
step() { echo "== $*"; }
unit_value() { sed -n "s/^$1=//p" /lib/systemd/system/vncgate.service | tail -1; }

if dpkg-query -W -f='${Status}' vncgate 2>/dev/null | grep -q installed; then
  echo "package-test: vncgate is installed already; purging it first"
  dpkg --purge vncgate >/dev/null
fi
fresh_state=1
[ -e /var/lib/vncgate ] && fresh_state=0
dpkg-deb -c "$deb" | awk '{print substr($6, 2)}' | sed 's|/$||' | grep -v '^$' > "$tmp/contents"

step "install $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
dpkg -i "$deb" > "$tmp/dpkg-i.log" 2>&1 || { cat "$tmp/dpkg-i.log" >&2; fail "dpkg -i"; }
getent passwd vncgate > /dev/null || fail "no vncgate user"
[ "$(stat -c %U:%G:%a /var/lib/vncgate)" = vncgate:vncgate:750 ] || fail "/var/lib/vncgate: $(stat -c %U:%G:%a /var/lib/vncgate)"
dpkg-query -W -f='${Conffiles}\n' vncgate | grep -q '/etc/vncgate/vncgate.toml' || fail "vncgate.toml is no conffile"
[ "$(stat -c %U:%G:%a /etc/vncgate/api-keys)" = root:vncgate:640 ] || fail "/etc/vncgate/api-keys: $(stat -c %U:%G:%a /etc/vncgate/api-keys)"
key=$(grep -v '^#' /etc/vncgate/api-keys)
[ ${#key} -ge 32 ] || fail "the generated API key is too short: ${#key} characters"
for unit in vncgate.service vncgate@api.service vncgate@worker.service; do
  systemd-analyze verify "/lib/systemd/system/$unit" || fail "systemd-analyze verify $unit (installed)"
done
man -w vncgate > /dev/null || fail "no man page vncgate(1)"
echo "ok: user, state directory, conffile, API key, unit verifies, man page"

step "run the unit's ExecStart as its User"
exec_start=$(unit_value ExecStart)
user=$(unit_value User)
group=$(unit_value Group)
workdir=$(unit_value WorkingDirectory)
[ "${exec_start%% *}" = /usr/bin/vncgate ] || fail "unexpected ExecStart $exec_start"
display=$(free_display)
vnc_port=$((5900 + display))
start "$tmp/xvnc.log" Xvnc ":$display" -rfbport "$vnc_port" -localhost -SecurityTypes None -geometry 640x480 \
  -depth 24 -nolisten tcp
wait_port "$vnc_port"
api_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
api=http://127.0.0.1:$api_port
# The receiving end of sd_notify, readable by the service's user.
notify=$tmp/notify
chmod 0755 "$tmp"
start "$tmp/notify.log" python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
while True: print(s.recv(4096).decode().replace("\n", " "), flush=True)' "$notify"
for _ in $(seq 1 50); do [ -S "$notify" ] && break; sleep 0.1; done
# shellcheck disable=SC2086  # ExecStart is split into words as systemd does (no quoting in ours)
# The console runs on this host: loopback targets are an explicit choice (docs/security.md).
start "$tmp/serve.log" env -C "$workdir" NOTIFY_SOCKET="$notify" VNCGATE_SERVER_PORT="$api_port" \
  VNCGATE_TARGETS_DEMO="vnc://127.0.0.1:$vnc_port" VNCGATE_PROVIDERS_ALLOW_LOOPBACK=true \
  setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs -- $exec_start
serve_pid=${pids[-1]}
wait_port "$api_port" || fail "serve does not listen"
for _ in $(seq 1 50); do grep -q READY=1 "$tmp/notify.log" && break; sleep 0.1; done
grep -q "READY=1 STATUS=listening on port $api_port" "$tmp/notify.log" || fail "no READY=1: $(cat "$tmp/notify.log")"
[ "$(ps -o user= -p "$serve_pid")" = vncgate ] || fail "serve does not run as vncgate"
curl -fsS "$api/healthz" > /dev/null || fail "/healthz"
curl -fsS "$api/readyz" > /dev/null || fail "/readyz"
curl -fsS "$api/" | grep -qi '<html' || fail "no dashboard at /"
cmp -s <(curl -fsS "$api/novnc/core/rfb.js") /usr/share/novnc/core/rfb.js || fail "/novnc/core/rfb.js is not Debian's"
echo "ok: READY=1, /healthz, /readyz, dashboard, noVNC from /usr/share/novnc"

auth=(-H "Authorization: Bearer $key")
[ "$(curl -s -o /dev/null -w '%{http_code}' "$api/api/v1/recordings")" = 401 ] || fail "the API answers without a key"
job=$(curl -fsS "${auth[@]}" -X POST "$api/api/v1/recordings" -H 'Content-Type: application/json' \
  -d '{"server": "demo", "duration": 2, "count": 1}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["job_id"])')
state=
for _ in $(seq 1 300); do
  state=$(curl -fsS "${auth[@]}" "$api/api/v1/recordings/$job" | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])')
  case $state in done | failed | cancelled) break ;; esac
  sleep 0.1
done
[ "$state" = done ] || fail "job $job ended $state"
echo "ok: the API refuses requests without the generated key"
mp4=$(find /var/lib/vncgate/recordings -name 'segment-001.mp4' | head -1)
[ -n "$mp4" ] || fail "no segment-001.mp4 under /var/lib/vncgate/recordings"
[ "$(stat -c %U "$mp4")" = vncgate ] || fail "$mp4 is not vncgate's"
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$mp4")
awk -v d="$duration" 'BEGIN {exit !(d >= 1.5 && d <= 2.5)}' || fail "$mp4 lasts $duration s, not 2"
echo "ok: job $job done, $mp4 ($(stat -c %s "$mp4") bytes, $duration s)"

kill -HUP "$serve_pid"
for _ in $(seq 1 50); do grep -q "configuration reloaded" "$tmp/serve.log" && break; sleep 0.1; done
grep -q "configuration reloaded" "$tmp/serve.log" || fail "SIGHUP did not reload"
kill -TERM "$serve_pid"
rc=0
wait "$serve_pid" || rc=$?
[ "$rc" = 0 ] || fail "serve exited $rc on SIGTERM"
grep -q STOPPING=1 "$tmp/notify.log" || fail "no STOPPING=1"
echo "ok: SIGHUP reloads, SIGTERM exits 0 with STOPPING=1"

step "purge"
dpkg --purge vncgate > "$tmp/dpkg-purge.log" 2>&1 || { cat "$tmp/dpkg-purge.log" >&2; fail "dpkg --purge"; }
left=()
while read -r path; do
  [ -e "$path" ] || continue
  [ -d "$path" ] && [ -n "$(ls -A "$path")" ] && continue  # a directory shared with other packages (/usr, /lib)
  left+=("$path")
done < "$tmp/contents"
[ -e /etc/vncgate ] && left+=(/etc/vncgate)
[ ${#left[@]} -eq 0 ] || fail "left behind by purge: ${left[*]}"
[ -d /var/lib/vncgate/recordings ] || fail "purge removed the state directory (documented to stay)"
echo "ok: purge left only /var/lib/vncgate"
if [ "$fresh_state" = 1 ]; then
  rm -rf /var/lib/vncgate
  deluser --system --quiet vncgate 2>/dev/null || true
  delgroup --system --quiet vncgate 2>/dev/null || true
fi
echo "package-test: passed"
