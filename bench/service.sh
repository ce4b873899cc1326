#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Service benchmark (issue 6): `vncgate serve` on 2 cores.
#   api    wrk against GET /api/v1/recordings (a page of 50 out of ~200 jobs) and against job creation
#          (POST /api/v1/recordings; the target refuses connections, so each job ends at once and the numbers are
#          the API's, not the encoder's). Requests/s and latency percentiles from wrk --latency.
#   idle   IDLE_N recordings at once of an idle desktop (Xvnc + xterm) through the service: CPU share and RSS
#          per recording in steady state (/proc of the serve process, sampled over SAMPLE_S seconds after a
#          warm-up).
# Writes a table to stdout and BUILD/bench/service.txt. Only the PIDs started here are killed.
# Usage: bench/service.sh BUILD    env: IDLE_N (50), SAMPLE_S (30), WRK_S (10)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
idle_n=${IDLE_N:-50}
sample_s=${SAMPLE_S:-30}
wrk_s=${WRK_S:-10}
bench_need Xvnc xterm wrk curl "$vncgate"
# shellcheck source=wrk_summary.sh
source "$(dirname "$0")/wrk_summary.sh"
bench_report service
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

display=$(free_display)
port=$((5900 + display))
start "$tmp/xvnc.log" Xvnc ":$display" -rfbport "$port" -localhost -SecurityTypes None -geometry 1024x768 \
  -depth 24 -nolisten tcp -AlwaysShared -BlacklistThreshold=100000
wait_port "$port"
DISPLAY=:$display start "$tmp/xterm.log" xterm -fa Monospace -fs 10 -geometry 120x40+0+0 -e sh -c "ls -l /usr/bin | head -40; sleep 100000"
sleep 1

api_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dead_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
api=http://127.0.0.1:$api_port
start "$tmp/serve.log" "$vncgate" serve -q --port "$api_port" --max-jobs $((idle_n + 10)) --db "$tmp/vncgate.db" \
  --work-dir "$tmp/work" --storage "file://$tmp/recordings" --target "idle=vnc://127.0.0.1:$port" \
  --target "dead=vnc://127.0.0.1:$dead_port" --set jobs.max_count=100000 --set server.allow_no_auth=true \
  --set providers.allow_loopback=true
serve_pid=${pids[-1]}
wait_port "$api_port"
clk=$(getconf CLK_TCK)

# --- api ---------------------------------------------------------------------------------------------
for _ in $(seq 1 200); do
  curl -fs -o /dev/null -X POST "$api/api/v1/recordings" -H 'Content-Type: application/json' -d '{"server": "dead", "duration": 1, "count": 1}'
done
sleep 2
cat > "$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"server": "dead", "duration": 1, "count": 1}'
wrk.headers["Content-Type"] = "application/json"
LUA
say "== API latency (wrk, 2 threads, 16 connections, ${wrk_s} s each)"
for what in list create; do
  if [ "$what" = list ]; then
    wrk -t2 -c16 -d"${wrk_s}s" --latency "$api/api/v1/recordings?limit=50" > "$tmp/wrk-$what.txt"
  else
    wrk -t2 -c16 -d"${wrk_s}s" --latency -s "$tmp/post.lua" "$api/api/v1/recordings" > "$tmp/wrk-$what.txt"
  fi
  wrk_summary "$what" "$tmp/wrk-$what.txt" | tee -a "$report"
done
# Let the created jobs drain before the idle run measures CPU.
for _ in $(seq 1 600); do
  queued=$(curl -fs "$api/metrics" | awk '/^vncgate_jobs\{state="(queued|connecting)"\}/ {s += $2} END {print s + 0}')
  [ "$queued" = 0 ] && break
  sleep 0.5
done

# --- idle --------------------------------------------------------------------------------------------
rss0=$(rss_kib "$serve_pid")
for _ in $(seq 1 "$idle_n"); do
  curl -fs -o /dev/null -X POST "$api/record" -H 'Content-Type: application/json' -d '{"server": "idle", "duration": 3600, "count": 1}'
done
for _ in $(seq 1 120); do
  active=$(curl -fs "$api/metrics" | awk '/^vncgate_active_recordings / {print $2}')
  recording=$(curl -fs "$api/metrics" | awk '/^vncgate_jobs\{state="recording"\}/ {print $2}')
  [ "${recording:-0}" = "$idle_n" ] && break
  sleep 0.5
done
sleep 10  # warm-up: connections, x264 set-up, first frames
t0=$(ticks "$serve_pid")
sleep "$sample_s"
t1=$(ticks "$serve_pid")
rss1=$(rss_kib "$serve_pid")
cpu_pct=$(echo "($t1 - $t0) / $clk / $sample_s * 100" | bc -l)
say "== ${idle_n} idle recordings through vncgate serve (Xvnc 1024x768, defaults), ${sample_s} s steady state"
say "$(printf 'recording      %d of %d jobs\n' "${recording:-0}" "$idle_n")"
say "$(printf 'CPU            %.2f %% of a core in total, %.3f %% per recording\n' "$cpu_pct" "$(echo "$cpu_pct / $idle_n" | bc -l)")"
say "$(printf 'RSS            %.1f MiB before, %.1f MiB with them: %.2f MiB per recording\n' "$(echo "$rss0 / 1024" | bc -l)" \
  "$(echo "$rss1 / 1024" | bc -l)" "$(echo "($rss1 - $rss0) / 1024 / $idle_n" | bc -l)")"
