#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gateway benchmark, side by side in one run, `vncgate proxy --ws` (one upstream connection fanned out) vs
# websockify (one forked Python process and one upstream connection per viewer), noVNC-style viewers
# (WebSocket, `binary`, bench/idle_viewers.py) of one 1280x800 Xvnc desktop:
#   idle  N viewers that finish the RFB handshake and stay silent: PSS (/proc/PID/smaps_rollup), summed over
#         websockify's process tree. The cost per *viewer*; per *session* needs `vncgate serve`.
#   busy  an xterm scrolling text; 1 and 20 viewers asking for Raw updates back to back: CPU seconds of the
#         server (process tree) + Xvnc over BUSY_S seconds.
# Usage: bench/gateway.sh BUILD    env: N (200), BUSY_S (10)
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
vncgate=$build/src/cli/vncgate
n=${N:-200}
busy_s=${BUSY_S:-10}
for tool in Xvnc xterm websockify python3 "$vncgate"; do
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
ticks() {  # utime + stime of PIDs and their descendants, clock ticks
  local total=0 p kids
  for p in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    kids=$(pgrep -P "$p" || true)
    if [ -n "$kids" ]; then
      # shellcheck disable=SC2086
      total=$((total + $(ticks $kids)))
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

start_proxy() {  # sets server_pid, ws
  ws=$(free_port)
  start "$tmp/proxy.log" "$vncgate" proxy --target "vnc://127.0.0.1:$port" --listen "127.0.0.1:$(free_port)" \
    --ws "127.0.0.1:$ws" -q
  server_pid=${pids[-1]}
  wait_port "$ws"
  sleep 1
}
start_websockify() {
  ws=$(free_port)
  start "$tmp/websockify.log" websockify "127.0.0.1:$ws" "127.0.0.1:$port"
  server_pid=${pids[-1]}
  wait_port "$ws"
}

echo "== idle: $n viewers"
start_proxy
measure "vncgate proxy" "$server_pid" "$ws"
kill "$server_pid"
start_websockify
measure "websockify" "$server_pid" "$ws"
kill "$server_pid"

echo "== busy: xterm scrolling ~100 new lines a second, viewers asking for Raw updates back to back, ${busy_s} s"
DISPLAY=:$display start "$tmp/xterm.log" xterm -fa Monospace -fs 10 -geometry 160x50+0+0 \
  -e sh -c 'i=0; while :; do i=$((i+1)); echo "line $i: the quick brown fox jumps over the lazy dog"; sleep 0.01; done'
sleep 2
hz=$(getconf CLK_TCK)
busy() {  # name viewers
  local name=$1 count=$2 s0 x0 s1 x1
  coproc VIEWERS { python3 "$here/idle_viewers.py" "$ws" "$count" 600 active; }
  local viewers_pid=$VIEWERS_PID
  read -r line <&"${VIEWERS[0]}"
  [ "$line" = ready ] || { echo "bench: $name viewers failed" >&2; exit 1; }
  sleep 1
  s0=$(ticks "$server_pid"); x0=$(ticks "$xvnc_pid")
  sleep "$busy_s"
  s1=$(ticks "$server_pid"); x1=$(ticks "$xvnc_pid")
  printf '%-24s %3d viewers  server %6.2f s CPU  Xvnc %6.2f s CPU  total %6.2f s in %s s\n' "$name" "$count" \
    "$(echo "($s1-$s0)/$hz" | bc -l)" "$(echo "($x1-$x0)/$hz" | bc -l)" "$(echo "($s1-$s0+$x1-$x0)/$hz" | bc -l)" \
    "$busy_s"
  eval "exec ${VIEWERS[1]}>&-"
  wait "$viewers_pid" || true
}
for count in 1 20; do
  start_proxy
  busy "vncgate proxy" "$count"
  kill "$server_pid"
  start_websockify
  busy "websockify" "$count"
  kill "$server_pid"
done
