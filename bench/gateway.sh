#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gateway benchmark (issue 7), side by side in one run: `vncgate proxy` / `vncgate serve` vs websockify
# (Debian; one forked Python process per connection). Viewers are vncgate_viewer_load, always over ws://.
#   busy     Xvnc 1280x800 with an xterm scrolling a line every 50 ms, watched by 1 and by VIEWERS viewers through
#            `vncgate proxy` (one upstream connection) and through websockify (one child process and one
#            upstream connection per viewer). CPU seconds over the same window of the gateway + Xvnc vs every
#            websockify process (parent and forked children, /proc/PID/stat) + Xvnc.
#   flood    the same with the xterm scrolling as fast as it can (the update rate is then the machine's).
#   pair     the busy scene on two Xvnc at once, one viewer each: one through `vncgate proxy`, the other through
#            websockify, at the same time; then the desktops swap for a second window. Whatever the machine does
#            meanwhile falls on both sides (the busy part's rows are measured one after the other). Twice: viewers
#            with noVNC's encodings, then with vncgate_viewer_load's default (lossless Tight, compression 6).
#   latency  an idle Xvnc screen: LATENCY_N non-incremental 64x64 requests, one at a time, direct, through the
#            gateway and through websockify; added latency = percentile minus the direct one.
#   bandwidth  payload bytes to one viewer straight at Xvnc and to one through `vncgate proxy` at the same
#            time, for a slow scroll, an operator session and a scroll flood (noVNC's encodings, lossless Tight)
#   idle     SESSIONS idle sessions, each with its own upstream connection and one idle viewer: `vncgate serve`
#            (POST /api/v1/sessions with a distinct target string per session) vs websockify. PSS
#            (smaps_rollup) of the gateway process vs the sum over all websockify processes; CPU over IDLE_S.
# Writes a table to stdout and BUILD/bench/gateway.txt. Only the PIDs started here are killed.
# Usage: bench/gateway.sh BUILD
#   env: VIEWERS (20), SECONDS (20, the busy window), SESSIONS (1000), IDLE_S (30), LATENCY_N (2000),
#        IDLE_GEOMETRY (640x480), BW_S (20, the bandwidth window), WS_SHARD (400 sessions per websockify
#        instance), XVNC_SHARD (900 gateway sessions per Xvnc), HEARTBEAT_S (30: gateway.heartbeat_s of the idle
#        part), VNCGATE (BUILD/src/cli/vncgate), PARTS ("busy pair flood latency bandwidth idle": which measurements to run),
#        IDLE_FRONTS ("gateway websockify": whom the idle part measures; websockify forks a process per viewer,
#        ~3 MiB each, so 10 000 sessions are gateway only)
set -euo pipefail
# SECONDS is bash's own clock: take it from the environment only when it was really given.
busy_s=$(printenv SECONDS || echo 20)
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
load=$build/bench/vncgate_viewer_load
viewers=${VIEWERS:-20}
sessions=${SESSIONS:-1000}
idle_s=${IDLE_S:-30}
latency_n=${LATENCY_N:-2000}
idle_geometry=${IDLE_GEOMETRY:-640x480}
heartbeat_s=${HEARTBEAT_S:-30}
bw_s=${BW_S:-20}
ws_shard=${WS_SHARD:-400}
xvnc_shard=${XVNC_SHARD:-900}
# shellcheck disable=SC2034  # read by part() (common.sh)
parts=" ${PARTS:-busy pair flood latency bandwidth idle} "
idle_fronts=${IDLE_FRONTS:-gateway websockify}
bench_need Xvnc xterm websockify curl python3 "$vncgate" "$load"
# Two sockets per session in the gateway, one per connection in Xvnc and the load client.
# Raise the hard limit where allowed (CAP_SYS_RESOURCE; 10 000 sessions need ~20 100).
want_fds=$((2 * sessions + 1000))
[ "$(ulimit -Hn)" -ge "$want_fds" ] || ulimit -Hn "$want_fds" 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((2 * sessions + 100)) ] || { echo "bench: ulimit -n too low for $sessions sessions" >&2; exit 2; }
bench_report gateway
clk=$(getconf CLK_TCK)
free_tcp_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# utime + stime in ticks of the given PIDs (fields after the "(comm)", which may hold spaces).
ticks() {
  local p sum=0 t
  for p in "$@"; do
    t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}
# Seconds of the CPU ticks that arithmetic expression $1 comes to.
tick_s() { echo "($1) / $clk" | bc -l; }
pss_kib() {
  local p sum=0 k
  for p in "$@"; do
    k=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || k=0
    sum=$((sum + ${k:-0}))
  done
  echo "$sum"
}
tree() { echo "$1" $(ps -o pid= --ppid "$1"); }  # websockify: the parent and its forked children
# Stops the most recently started peer (the gateway or websockify of one measurement).
stop_last() {
  local p=${pids[-1]} i
  kill "$p" 2>/dev/null || true
  # websockify sometimes ignores SIGTERM while a child is around: give it 5 s, then SIGKILL.
  for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset 'pids[-1]'
}
field() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

# Xvnc of size $1 with an xterm running $2; sets $port and $xvnc_pid.
start_desktop() {
  local display
  display=$(free_display)
  port=$((5900 + display))
  start "$tmp/xvnc-$display.log" Xvnc ":$display" -rfbport "$port" -localhost -SecurityTypes None \
    -geometry "$1" -depth 24 -nolisten tcp -AlwaysShared -BlacklistThreshold=100000
  xvnc_pid=${pids[-1]}
  wait_port "$port"
  DISPLAY=:$display start "$tmp/xterm-$display.log" xterm -fa Monospace -fs 10 -geometry 160x50+0+0 -e sh -c "$2"
  sleep 2
}
# Starts the gateway (proxy) or websockify in front of $port; sets $ws_url and $front_pid.
start_front() {
  local ws
  ws=$(free_tcp_port)
  if [ "$1" = gateway ]; then
    start "$tmp/proxy-$ws.log" "$vncgate" proxy -q --listen "127.0.0.1:$(free_tcp_port)" --ws "127.0.0.1:$ws" \
      --target "vnc://127.0.0.1:$port"
  else
    start "$tmp/websockify-$ws.log" websockify "127.0.0.1:$ws" "127.0.0.1:$port"
  fi
  front_pid=${pids[-1]}
  ws_url=ws://127.0.0.1:$ws/
  wait_port "$ws"
}
front_pids() { front_pids_of "$1" "$front_pid"; }
front_pids_of() { if [ "$1" = gateway ]; then echo "$2"; else tree "$2"; fi; }

# --- busy and flood ---------------------------------------------------------------------------------
# One console, watched by 1 and by $viewers viewers through each proxy in turn; $1 labels the scene.
measure_busy() {
local label=$1 warm=4 n front load_pid procs t0 x0 t1 x1
declare -gA cpu upd xcpu
for n in 1 "$viewers"; do
  for front in gateway websockify; do
    start_front "$front"
    "$load" --viewers "$n" --warmup "$warm" --seconds "$((busy_s + 2))" "$ws_url" >"$tmp/load-$front-$n.txt" &
    load_pid=$!
    sleep "$warm"
    procs=$(front_pids "$front")
    # shellcheck disable=SC2086
    t0=$(ticks $procs)
    x0=$(ticks "$xvnc_pid")
    sleep "$busy_s"
    # shellcheck disable=SC2086
    t1=$(ticks $procs)
    x1=$(ticks "$xvnc_pid")
    wait "$load_pid" || echo "bench: some $front viewers failed (see above)" >&2
    cpu[$front-$n]=$(tick_s "$t1 - $t0 + $x1 - $x0")
    xcpu[$front-$n]=$(tick_s "$x1 - $x0")
    # The viewers stay 2 s past the window (websockify's children exit with them): their count is scaled to it.
    upd[$front-$n]=$(echo "$(field "$tmp/load-$front-$n.txt" updates_avg) * $busy_s / ($busy_s + 2)" | bc)
    stop_last
  done
done
say "== $label, ${busy_s} s; viewers over ws:// ask continuously"
say "$(printf '%-9s %-34s %10s %10s %10s %14s %16s\n' viewers path 'cpu s' 'of it Xvnc' 'cpu/s' 'updates/viewer' \
  'cpu ms/delivered')"
for n in 1 "$viewers"; do
  busy_row "$n" gateway 'vncgate proxy + Xvnc'
  busy_row "$n" websockify "websockify ($((n + 1)) procs) + Xvnc"
done
say "$(printf 'ratio gateway/websockify, 1 viewer   = %.2f  (target <= 0.9)\n' \
  "$(echo "${cpu[gateway-1]} / ${cpu[websockify-1]}" | bc -l)")"
say "$(printf 'ratio gateway/websockify, %s viewers = %.2f  (target <= 0.2)\n' "$viewers" \
  "$(echo "${cpu[gateway-$viewers]} / ${cpu[websockify-$viewers]}" | bc -l)")"
# Xvnc draws the scrolling xterm whoever watches: the proxies' own CPU, without it, side by side too.
say "$(printf 'proxies alone (without Xvnc), 1 viewer: %.2f vs %.2f s = %.2f; %s viewers: %.2f vs %.2f s = %.2f (target <= 1)\n' \
  "$(own gateway-1)" "$(own websockify-1)" "$(echo "$(own gateway-1) / $(own websockify-1)" | bc -l)" "$viewers" \
  "$(own gateway-$viewers)" "$(own websockify-$viewers)" \
  "$(echo "$(own gateway-$viewers) / $(own websockify-$viewers)" | bc -l)")"
}
# cpu ms/delivered: CPU per update that reached a viewer (the two paths need not deliver as many).
busy_row() {
  local n=$1 key=$2-$1 label=$3
  say "$(printf '%-9s %-34s %10.2f %10.2f %10.3f %14s %16.2f\n' "$n" "$label" "${cpu[$key]}" "${xcpu[$key]}" \
    "$(echo "${cpu[$key]} / $busy_s" | bc -l)" "${upd[$key]}" \
    "$(echo "${cpu[$key]} * 1000 / (${upd[$key]} * $n + 0.000001)" | bc -l)")"
}
own() { echo "${cpu[$1]} - ${xcpu[$1]}" | bc -l; }

# A scroll by one line every 50 ms: the change rate is the scene's, so both proxies can deliver every change.
busy_scene="n=\$(wc -l <'$tmp/lines'); i=0
  while :; do i=\$((i % n + 1)); sed -n \"\${i}p\" '$tmp/lines'; sleep 0.05; done"
ls -l /usr/bin >"$tmp/lines"

if part busy; then
start_desktop 1280x800 "$busy_scene"
measure_busy "busy console: Xvnc 1280x800, xterm scrolling a line every 50 ms"
peers_cleanup
fi

# --- pair: both proxies at once ----------------------------------------------------------------------
# On this 2-core VM Xvnc's own share of the same scene moves by more between the busy part's windows than the 10 %
# the 1-viewer target leaves. Here the gateway and websockify each serve one viewer of their own Xvnc at the same
# time (same scene), and swap desktops for a second window: the sums over both windows are compared.
# CPU ticks so far of a front (its processes) and of the Xvnc it serves, in the current window.
# shellcheck disable=SC2046
proxy_ticks() { ticks $(front_pids_of "$1" "${front_of[$1]}"); }
xvnc_ticks() { ticks "${desk_xvnc[${desk_of[$1]}]}"; }
# Both windows for viewers asking $1 (vncgate_viewer_load --encodings: "novnc" or "" for its own default list).
measure_pair() {
local encodings=$1 label=$2 window front desk
declare -gA pair_own=([gateway]=0 [websockify]=0) pair_x=([gateway]=0 [websockify]=0)
say ""
say "== pair, $label: the busy scene on two Xvnc at once, one viewer each, ${busy_s} s per window, desktops swapped"
say "$(printf '%-8s %-12s %10s %8s %12s %12s\n' window path 'Xvnc port' 'own s' 'Xvnc s' updates)"
for window in 0 1; do
  declare -A front_of=() url_of=() load_of=() desk_of=() pair_t0=() pair_x0=()
  for front in gateway websockify; do
    if [ "$front" = gateway ]; then desk=$window; else desk=$((1 - window)); fi
    port=${desk_port[$desk]}
    start_front "$front"
    front_of[$front]=$front_pid
    url_of[$front]=$ws_url
    desk_of[$front]=$desk
  done
  for front in gateway websockify; do
    "$load" --viewers 1 ${encodings:+--encodings "$encodings"} --warmup 4 --seconds "$((busy_s + 2))" \
      "${url_of[$front]}" >"$tmp/pair-$front-$window.txt" &
    load_of[$front]=$!
  done
  sleep 4
  for front in gateway websockify; do
    pair_t0[$front]=$(proxy_ticks "$front")
    pair_x0[$front]=$(xvnc_ticks "$front")
  done
  sleep "$busy_s"
  declare -A own_t=() x_t=()
  for front in gateway websockify; do  # both before the viewers leave (websockify's child goes with its viewer)
    own_t[$front]=$(($(proxy_ticks "$front") - pair_t0[$front]))
    x_t[$front]=$(($(xvnc_ticks "$front") - pair_x0[$front]))
  done
  for front in gateway websockify; do
    wait "${load_of[$front]}" || echo "bench: the $front viewer failed (see above)" >&2
    pair_own[$front]=$((pair_own[$front] + own_t[$front]))
    pair_x[$front]=$((pair_x[$front] + x_t[$front]))
    say "$(printf '%-8s %-12s %10s %8.2f %12.2f %12s\n' "$window" "$front" "${desk_port[${desk_of[$front]}]}" \
      "$(tick_s "${own_t[$front]}")" "$(tick_s "${x_t[$front]}")" \
      "$(field "$tmp/pair-$front-$window.txt" updates_avg)")"
  done
  stop_last
  stop_last
done
say "$(printf 'pair, 1 viewer, %s: gateway %.2f + Xvnc %.2f s vs websockify %.2f + Xvnc %.2f s: ratio = %.2f  (target <= 0.9)\n' \
  "$label" "$(tick_s "${pair_own[gateway]}")" "$(tick_s "${pair_x[gateway]}")" \
  "$(tick_s "${pair_own[websockify]}")" "$(tick_s "${pair_x[websockify]}")" \
  "$(echo "(${pair_own[gateway]} + ${pair_x[gateway]}) / (${pair_own[websockify]} + ${pair_x[websockify]})" | bc -l)")"
}
if part pair; then
start_desktop 1280x800 "$busy_scene"
desk_port=("$port")
desk_xvnc=("$xvnc_pid")
start_desktop 1280x800 "$busy_scene"
desk_port+=("$port")
desk_xvnc+=("$xvnc_pid")
# The viewer websockify serves in practice (noVNC: Tight, JPEG quality 6, compression 2), then vncgate's own
# client's default (Tight, compression 6, lossless: Xvnc and the gateway both deflate every changed pixel).
measure_pair novnc "noVNC's encodings"
measure_pair "" "lossless Tight c6 (vncgate's client default)"
peers_cleanup
fi

if part flood; then
# As fast as xterm can scroll: the rate depends on the machine, and a proxy that delivers more updates
# spends more (compare cpu ms/delivered).
start_desktop 1280x800 'while :; do ls -l /usr/bin | head -60; done'
measure_busy "scroll flood: Xvnc 1280x800, xterm scrolling as fast as it can"
peers_cleanup
fi

# --- latency ----------------------------------------------------------------------------------------
if part latency; then
start_desktop 1280x800 'ls -l /usr/bin | head -45; sleep 100000'
"$load" --latency "$latency_n" "vnc://127.0.0.1:$port" >"$tmp/lat-direct.txt"
for front in gateway websockify; do
  start_front "$front"
  "$load" --latency "$latency_n" "$ws_url" >"$tmp/lat-$front.txt"
  stop_last
done
say ""
say "== latency: idle Xvnc 1280x800, ${latency_n} non-incremental 64x64 requests one at a time (µs)"
say "$(printf '%-22s %8s %8s %8s %14s %14s\n' path p50 p99 max 'p50 added' 'p99 added')"
d50=$(field "$tmp/lat-direct.txt" p50_us)
d99=$(field "$tmp/lat-direct.txt" p99_us)
for what in direct gateway websockify; do
  f=$tmp/lat-$what.txt
  say "$(printf '%-22s %8s %8s %8s %14s %14s\n' "$what" "$(field "$f" p50_us)" "$(field "$f" p99_us)" \
    "$(field "$f" max_us)" "$(($(field "$f" p50_us) - d50))" "$(($(field "$f" p99_us) - d99))")"
done
say "(target: p99 added through the gateway < 1000 µs)"
peers_cleanup
fi

# --- bandwidth --------------------------------------------------------------------------------------
# Bytes a viewer gets for the same screen changes: one viewer straight at Xvnc (TigerVNC's own Tight encoder)
# and one through `vncgate proxy` (Raw + CopyRect upstream on loopback, re-encoded), side by side on one
# desktop over the same BW_S seconds; with noVNC 1.3's encodings (JPEG quality 6, compression 2) and with
# lossless Tight at compression 2. A flood of output gives the two paths different update counts (a viewer
# straight at Xvnc gets many partial updates), so that row's ratio is not like for like.
if part bandwidth; then
say ""
say "== bandwidth: Xvnc 1280x800, one viewer direct and one through the gateway at once, ${bw_s} s (payload bytes)"
say "$(printf '%-17s %-14s %12s %8s %12s %8s %7s\n' scene encodings 'Xvnc bytes' updates 'gw bytes' updates ratio)"
session_script="$(cd "$(dirname "$0")" && pwd)/terminal_session.sh 18"
scenes=("slow scroll|ls -l /usr/bin /usr/lib/x86_64-linux-gnu | while read l; do echo \"\$l\"; sleep 0.1; done"
  "operator session|bash $session_script"
  "scroll flood|while :; do ls -l /usr/bin | head -60; done")
for scene in "${scenes[@]}"; do
  for enc in novnc lossless; do  # a fresh desktop each: both encodings see the same stretch of the scene
    start_desktop 1280x800 "${scene#*|}"
    start_front gateway
    args=(--encodings novnc)
    [ "$enc" = novnc ] || args=(--encodings tight --compress 2)
    "$load" --warmup 1 --seconds "$bw_s" "${args[@]}" "vnc://127.0.0.1:$port" >"$tmp/bw-direct.txt" &
    direct_pid=$!
    "$load" --warmup 1 --seconds "$bw_s" "${args[@]}" "$ws_url" >"$tmp/bw-gateway.txt"
    wait "$direct_pid"
    xb=$(field "$tmp/bw-direct.txt" bytes)
    gb=$(field "$tmp/bw-gateway.txt" bytes)
    say "$(printf '%-17s %-14s %12s %8s %12s %8s %7.2f\n' "${scene%%|*}" "$enc" "$xb" \
      "$(field "$tmp/bw-direct.txt" updates)" "$gb" "$(field "$tmp/bw-gateway.txt" updates)" \
      "$(echo "$gb / ($xb + 0.000001)" | bc -l)")"
    peers_cleanup
  done
done
say "(target: gateway bytes <= Xvnc's for the same changes, ratio <= 1)"
fi

# --- idle sessions ----------------------------------------------------------------------------------
part idle || exit 0
declare -A pss0 pss1 idle_cpu ok
idle_warm=$((15 + sessions / 50))
# The gateway: `vncgate serve`, one session per distinct named target (the same Xvnc, told apart by a
# password that security None leaves unused; the API refuses credentials in target URLs, the configuration may
# hold them), so each session opens its own upstream connection. Sets $procs.
idle_gateway() {
  local api_port api i
  # The safe defaults cap sessions (256), connections (1024, 256 per client) and the pictures' memory (2 GiB, 5
  # bytes a pixel each): room for SESSIONS sessions and their viewers, all from 127.0.0.1.
  local w=${idle_geometry%x*} h=${idle_geometry#*x}
  local capacity=(--set "gateway.max_sessions=$sessions" --set "server.max_connections=$((sessions + 100))"
    --set "server.max_connections_per_client=$((sessions + 100))"
    --set "gateway.picture_memory=$((w * h * 5 * sessions / 1048576 + 1024))MiB")
  api_port=$(free_tcp_port)
  api=http://127.0.0.1:$api_port
  { echo "[targets]"; for i in $(seq 1 "$sessions"); do
    echo "s$i = \"vnc://:s$i@127.0.0.1:${idle_ports[$(((i - 1) % ${#idle_ports[@]}))]}\""
  done; } >"$tmp/targets.toml"
  start "$tmp/serve.log" "$vncgate" serve -q --config "$tmp/targets.toml" --port "$api_port" --db "$tmp/vncgate.db" \
    --work-dir "$tmp/work" --storage "file://$tmp/recordings" --set server.allow_no_auth=true \
    --set providers.allow_loopback=true --set "gateway.heartbeat_s=$heartbeat_s" "${capacity[@]}"
  procs=${pids[-1]}
  wait_port "$api_port"
  sleep 1
  pss0[gateway]=$(pss_kib "$procs")
  # One answer per line, turned into ws:// URLs by one Python at the end (a Python per session is 0.5 s each).
  for i in $(seq 1 "$sessions"); do
    curl -fs -X POST "$api/api/v1/sessions" -H "Content-Type: application/json" -d "{\"target\": \"s$i\", \"ttl\": 3600}"
    echo
  done | python3 -c "
import json, sys
for line in sys.stdin:
    if line.strip():
        print('ws://127.0.0.1:$api_port/ws/' + json.loads(line)['url'].rsplit('/', 1)[1])" >"$tmp/urls.txt"
  "$load" --urls-file "$tmp/urls.txt" --origin "$api" --warmup "$idle_warm" --seconds "$((idle_s + 2))" \
    >"$tmp/idle-gateway.txt" &
  load_pid=$!
  sleep "$idle_warm"
  sessions_up=$(curl -fs "$api/api/v1/sessions" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))')
}
# websockify 0.10 serves a connection with select(), which fails on descriptors >= 1024 ("filedescriptor out of
# range"): one instance holds about 500 connections, so one instance per WS_SHARD (400) sessions. Sets $procs.
idle_websockify() {
  local ws_pids=() i
  shards=$(((sessions + ws_shard - 1) / ws_shard))
  for _ in $(seq 1 "$shards"); do
    start_front websockify
    ws_pids+=("$front_pid")
    echo "$ws_url"
  done >"$tmp/ws-urls.txt"
  pss0[websockify]=$(pss_kib "${ws_pids[@]}")
  for i in $(seq 0 $((sessions - 1))); do sed -n "$((i % shards + 1))p" "$tmp/ws-urls.txt"; done >"$tmp/ws-all.txt"
  "$load" --urls-file "$tmp/ws-all.txt" --warmup "$idle_warm" --seconds "$((idle_s + 2))" >"$tmp/idle-websockify.txt" &
  load_pid=$!
  sleep "$idle_warm"
  procs=$(for p in "${ws_pids[@]}"; do tree "$p"; done)
}
# Each side gets a fresh Xvnc (one that has just seen 1000 connections close answers new ones slowly).
# Xvnc serves its clients with select(): beyond descriptor 1023 it aborts (glibc's FD_SET check), so the gateway's
# sessions are spread over one Xvnc per XVNC_SHARD (900); websockify's side keeps one (its own limit is lower).
for front in $idle_fronts; do
  idle_ports=()
  desktops=1
  [ "$front" != gateway ] || desktops=$(((sessions + xvnc_shard - 1) / xvnc_shard))
  for _ in $(seq 1 "$desktops"); do
    start_desktop "$idle_geometry" 'ls -l /usr/bin | head -25; sleep 100000'
    idle_ports+=("$port")
  done
  "idle_$front"
  # shellcheck disable=SC2086
  pss1[$front]=$(pss_kib $procs)
  # shellcheck disable=SC2086
  t0=$(ticks $procs)
  sleep "$idle_s"
  # shellcheck disable=SC2086
  t1=$(ticks $procs)
  wait "$load_pid" || echo "bench: some $front idle viewers failed" >&2
  ok[$front]=$(field "$tmp/idle-$front.txt" connected)
  idle_cpu[$front]=$(echo "($t1 - $t0) / $clk / $idle_s * 100" | bc -l)
  peers_cleanup
done
say ""
say "== ${sessions} idle sessions (Xvnc ${idle_geometry}, idle xterm), one upstream connection + one ws:// viewer each"
say "$(printf '%-30s %10s %12s %14s %12s\n' path viewers 'PSS MiB' 'MiB/session' 'cpu % core')"
for front in $idle_fronts; do
  label=$([ "$front" = gateway ] && echo "vncgate serve ($sessions_up sessions)" || echo "websockify ($shards x, all procs)")
  say "$(printf '%-30s %10s %12.1f %14.3f %12.2f\n' "$label" "${ok[$front]}" "$(echo "${pss1[$front]} / 1024" | bc -l)" \
    "$(echo "(${pss1[$front]} - ${pss0[$front]}) / 1024 / $sessions" | bc -l)" "${idle_cpu[$front]}")"
done
[ -z "${pss1[websockify]:-}" ] ||
  say "$(printf 'ratio gateway/websockify PSS = %.3f  (target < 0.1; gateway < 200 MiB for 1000)\n' \
    "$(echo "${pss1[gateway]} / ${pss1[websockify]}" | bc -l)")"
say "(an idle session hibernates after gateway.hibernate_after_s = 10 s: its picture compressed, buffers freed)"
