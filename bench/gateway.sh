#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gateway memory benchmark, side by side in one run: N idle noVNC-style viewers (WebSocket, RFB handshake done,
# then silent) of one Xvnc desktop, through `vncgate proxy --ws` (one upstream connection fanned out) and
# through websockify (one forked Python process and one upstream connection per viewer). Memory is PSS
# (/proc/PID/smaps_rollup), summed over websockify's process tree. This measures the cost per *viewer*; the
# cost per *session* (each with its own upstream) needs `vncgate serve`'s session manager.
# Usage: bench/gateway.sh BUILD    env: N (200)
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
vncgate=$build/src/cli/vncgate
n=${N:-200}
for tool in Xvnc websockify python3 "$vncgate"; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing (scripts/install-deps.sh, make build)" >&2; exit 2; }
done
peers_tag=bench
# shellcheck source=../scripts/lib/peers.sh
source "$(dirname "$0")/../scripts/lib/peers.sh"
here=$(cd "$(dirname "$0")" && pwd)

pss_kib() {  # PSS of a PID and all its descendants, KiB
  local total=0 p kids
  for p in "$@"; do
    total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
    kids=$(pgrep -P "$p" || true)
    if [ -n "$kids" ]; then
      # shellcheck disable=SC2086
      total=$((total + $(pss_kib $kids)))
    fi
  done
  echo "$total"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

display=$(free_display)
port=$((5900 + display))
start "$tmp/xvnc.log" Xvnc ":$display" -rfbport "$port" -localhost -SecurityTypes None -geometry 1280x800 \
  -depth 24 -nolisten tcp -AlwaysShared -BlacklistThreshold=100000
xvnc_pid=${pids[-1]}
wait_port "$port"

measure() {  # name pid ws_port
  local name=$1 pid=$2 ws=$3 before after
  before=$(pss_kib "$pid")
  coproc VIEWERS { python3 "$here/idle_viewers.py" "$ws" "$n" 600; }
  local viewers_pid=$VIEWERS_PID
  read -r line <&"${VIEWERS[0]}"
  [ "$line" = ready ] || { echo "bench: $name viewers failed" >&2; exit 1; }
  sleep 2
  after=$(pss_kib "$pid")
  printf '%-24s %6d viewers  %8.1f MiB before  %8.1f MiB with them  %7.1f KiB per viewer  (Xvnc %.1f MiB)\n' \
    "$name" "$n" "$(echo "$before/1024" | bc -l)" "$(echo "$after/1024" | bc -l)" \
    "$(echo "($after-$before)/$n" | bc -l)" "$(echo "$(pss_kib "$xvnc_pid")/1024" | bc -l)"
  eval "exec ${VIEWERS[1]}>&-"
  wait "$viewers_pid" || true
}

ws1=$(free_port)
start "$tmp/proxy.log" "$vncgate" proxy --target "vnc://127.0.0.1:$port" --listen "127.0.0.1:$(free_port)" \
  --ws "127.0.0.1:$ws1" -q
proxy_pid=${pids[-1]}
wait_port "$ws1"
sleep 1
measure "vncgate proxy" "$proxy_pid" "$ws1"
kill "$proxy_pid"

ws2=$(free_port)
start "$tmp/websockify.log" websockify "127.0.0.1:$ws2" "127.0.0.1:$port"
ws_pid=${pids[-1]}
wait_port "$ws2"
measure "websockify" "$ws_pid" "$ws2"
