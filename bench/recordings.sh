#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Recordings inside one `vncgate serve` (issue 18, item 2): memory and CPU per idle and per busy recording.
#   idle   IDLE_N recordings of idle consoles: DISPLAYS Xvnc servers (GEOMETRY, an xterm showing a still
#          listing each), the recordings spread over them round robin, each with its own RFB connection,
#          framebuffer and encoder, as recordings of distinct consoles have. Added in STEPS (e.g. "10 50"):
#          after each step and a WARMUP_S settle, RSS and PSS of the serve process (/proc/PID/status,
#          smaps_rollup) and its CPU over SAMPLE_S.
#   busy   then BUSY_N recordings of one busy console (an Xvnc of GEOMETRY with an xterm scrolling without
#          pause) on top: the same figures again, per busy recording.
# Memory per recording = (figure with them - figure before) / count; "marginal" = between the last two steps.
# Writes a table to stdout and BUILD/bench/recordings.txt. Only the PIDs started here are killed.
# Usage: bench/recordings.sh BUILD
#   env: IDLE_N (50), STEPS ("10 $IDLE_N"), DISPLAYS (4), BUSY_N (4), GEOMETRY (1024x768), WARMUP_S (15),
#        SAMPLE_S (20), SERVE_ARGS (more `serve` options, e.g. "--set recording.x264_params=subme=0")
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
idle_n=${IDLE_N:-50}
steps=${STEPS:-"10 $idle_n"}
displays=${DISPLAYS:-4}
busy_n=${BUSY_N:-4}
geometry=${GEOMETRY:-1024x768}
warmup_s=${WARMUP_S:-15}
sample_s=${SAMPLE_S:-20}
bench_need Xvnc xterm curl bc "$vncgate"
# A socket, an FBS-less MP4 and a few more descriptors per recording in serve.
ulimit -n "$(ulimit -Hn)"
bench_report recordings
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$1/status"; }
free_tcp_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# An Xvnc of GEOMETRY on a free display with an xterm running `sh -c "$1"`; sets xvnc_port. Not in a
# subshell: `start` records the PIDs for the exit trap.
xvnc_with_xterm() {
  local display port
  display=$(free_display)
  port=$((5900 + display))
  start "$tmp/xvnc-$display.log" Xvnc ":$display" -rfbport "$port" -localhost -SecurityTypes None \
    -geometry "$geometry" -depth 24 -nolisten tcp -AlwaysShared -BlacklistThreshold=100000
  wait_port "$port"
  DISPLAY=:$display start "$tmp/xterm-$display.log" xterm -fa Monospace -fs 10 -geometry 120x40+0+0 -e sh -c "$1"
  xvnc_port=$port
}

targets=()
for i in $(seq 1 "$displays"); do
  xvnc_with_xterm "ls -l /usr/bin | head -40; sleep 100000"
  targets+=(--target "idle$i=vnc://127.0.0.1:$xvnc_port")
done
xvnc_with_xterm "while :; do ls -l /usr/bin; done"
targets+=(--target "busy=vnc://127.0.0.1:$xvnc_port")
sleep 1

api_port=$(free_tcp_port)
api=http://127.0.0.1:$api_port
# shellcheck disable=SC2086  # SERVE_ARGS is a list of options
start "$tmp/serve.log" "$vncgate" serve -q --port "$api_port" --max-jobs $((idle_n + busy_n + 10)) \
  --db "$tmp/vncgate.db" --work-dir "$tmp/work" --storage "file://$tmp/recordings" "${targets[@]}" \
  --set jobs.max_count=100000 --set jobs.max_queued=100000 --set jobs.max_queued_per_key=100000 \
  --set server.allow_no_auth=true --set providers.allow_loopback=true ${SERVE_ARGS:-}
serve_pid=${pids[-1]}
wait_port "$api_port"
clk=$(getconf CLK_TCK)
sleep 2

recording_jobs() {
  curl -fs "$api/metrics" | awk '/^vncgate_jobs\{state="recording"\}/ {print $2 + 0}'
}
# Posts recordings of target $1 until `recording` jobs reach $2 more than $3.
add_recordings() {
  local server=$1 count=$2 base=$3 i
  for i in $(seq 1 "$count"); do
    local s=$server
    [ "$server" = idle ] && s=idle$(( (base + i - 1) % displays + 1 ))
    curl -fs -o /dev/null -X POST "$api/record" -H 'Content-Type: application/json' \
      -d "{\"server\": \"$s\", \"duration\": 3600, \"count\": 1}"
  done
  for _ in $(seq 1 600); do
    [ "$(recording_jobs)" -ge $((base + count)) ] && return 0
    sleep 0.5
  done
  echo "bench: only $(recording_jobs) of $((base + count)) recordings started (see $tmp/serve.log)" >&2
  return 1
}
# Settles, then prints "rss_kib pss_kib cpu_percent threads" of the serve process over SAMPLE_S.
measure() {
  sleep "$warmup_s"
  local t0 t1
  t0=$(ticks "$serve_pid")
  sleep "$sample_s"
  t1=$(ticks "$serve_pid")
  echo "$(rss_kib "$serve_pid") $(pss_kib "$serve_pid") $(echo "($t1 - $t0) * 100 / $clk / $sample_s" | bc -l) $(threads "$serve_pid")"
}
mib() { echo "$1 / 1024" | bc -l; }

read -r rss0 pss0 cpu0 threads0 <<< "$(measure)"
say "== vncgate serve, recordings of ${geometry} consoles (${displays} idle Xvnc + 1 busy), defaults ${SERVE_ARGS:-}"
say "$(printf '%-28s %9s %9s %8s %12s %12s %10s\n' "state" "RSS MiB" "PSS MiB" "threads" "RSS/rec MiB" "PSS/rec MiB" "CPU %/rec")"
row() {  # label count rss pss cpu threads base_rss base_pss base_cpu
  say "$(printf '%-28s %9.1f %9.1f %8d %12.2f %12.2f %10.3f\n' "$1" "$(mib "$3")" "$(mib "$4")" "$6" \
    "$(echo "($3 - $7) / 1024 / $2" | bc -l)" "$(echo "($4 - $8) / 1024 / $2" | bc -l)" \
    "$(echo "($5 - $9) / $2" | bc -l)")"
}
say "$(printf '%-28s %9.1f %9.1f %8d %12s %12s %10s\n' "no recordings" "$(mib "$rss0")" "$(mib "$pss0")" "$threads0" - - "($(printf '%.3f' "$cpu0") total)")"
n=0
prev=""
for step in $steps; do
  add_recordings idle $((step - n)) "$n"
  n=$step
  read -r rss pss cpu thr <<< "$(measure)"
  row "$n idle" "$n" "$rss" "$pss" "$cpu" "$thr" "$rss0" "$pss0" "$cpu0"
  [ -n "$prev" ] && {
    read -r pn prss ppss pcpu <<< "$prev"
    row "  marginal ($pn → $n)" $((n - pn)) "$rss" "$pss" "$cpu" "$thr" "$prss" "$ppss" "$pcpu"
  }
  prev="$n $rss $pss $cpu"
done
if [ "$busy_n" -gt 0 ]; then
  read -r _ irss ipss icpu <<< "$prev"
  add_recordings busy "$busy_n" "$n"
  read -r rss pss cpu thr <<< "$(measure)"
  row "+ $busy_n busy (per busy)" "$busy_n" "$rss" "$pss" "$cpu" "$thr" "$irss" "$ipss" "$icpu"
fi
say "jobs failed: $(curl -fs "$api/metrics" | awk '/^vncgate_jobs\{state="failed"\}/ {print $2 + 0}')"
