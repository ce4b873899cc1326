#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Soak (issue 14 item 6): one `vncgate serve` under every kind of load at once for SOAK_S seconds.
#   consoles    one QEMU test guest (MODE=tick) and three Xvnc + xterm displays: "clock1" and "clock2" tick
#               once a second and are killed and restarted on the same display every KILL_EVERY_S seconds (in
#               turn); "idle" holds still (the latency measurements use it).
#   storage     s3rver reached through bench/stall_proxy.py, which stops forwarding for STALL_S seconds every
#               STALL_PERIOD_S seconds (the service's S3 traffic hangs; it is not refused).
#   recordings  RECORDINGS jobs at a time (SEGMENT_S-second segments, SEGMENTS ± 1 of them), spread over the
#               consoles, replaced as they finish until the last ones can end before SOAK_S.
#   sessions    SESSIONS console sessions over the run, in batches of 5: POST /api/v1/sessions (a distinct target
#               string each, so each has its own upstream) → a viewer per link (vncgate_viewer_load, asking
#               continuously like noVNC) → DELETE after a while.
#   downloads   DOWNLOADERS slow clients (curl --limit-rate DOWNLOAD_RATE) fetching uploaded segments through
#               GET /api/v1/recordings/{id}/segments/{n}, each checked against the segment's SHA-256.
#   latency     every LATENCY_EVERY_S seconds (every 5 s during a stall), vncgate_viewer_load --latency on the
#               idle console directly and through a fresh gateway session: added latency = gateway − direct.
# Every 5 s the serve process's RSS, open descriptors and threads go to BUILD/bench/soak.csv; the summary goes
# to stdout and BUILD/bench/soak.txt. Checks (exit 1 when one fails): serve still running and its log free of
# "abort"/"Assertion"; RSS and descriptors flat after WARMUP_S (drift over the steady window); every job
# terminal, `done`, with all its segments uploaded; no download delivered wrong bytes; the median added p99
# latency below LATENCY_P99_US, with S3 flowing and while it stalls. Only the PIDs started here are killed.
# Usage: bench/soak.sh BUILD
#   env: SOAK_S (1800), WARMUP_S (min(300, SOAK_S/5)), RECORDINGS (20), SEGMENT_S (20), SEGMENTS (3),
#        SESSIONS (200), DOWNLOADERS (4), DOWNLOAD_RATE (16k), STALL_PERIOD_S (120), STALL_S (20),
#        KILL_EVERY_S (90), LATENCY_EVERY_S (20), LATENCY_N (2000), LATENCY_P99_US (1000), DRAIN_S (240),
#        RSS_DRIFT_MIB (16), FD_DRIFT (16)
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
vncgate=$build/src/cli/vncgate
load=$build/bench/vncgate_viewer_load
guest=$build/guest
s3rver=$here/../tests/storage/node_modules/.bin/s3rver
soak_s=${SOAK_S:-1800}
warmup_s=${WARMUP_S:-$((soak_s / 5 < 300 ? soak_s / 5 : 300))}
recordings=${RECORDINGS:-20}
segment_s=${SEGMENT_S:-20}
segments=${SEGMENTS:-3}
sessions=${SESSIONS:-200}
downloaders=${DOWNLOADERS:-4}
download_rate=${DOWNLOAD_RATE:-16k}
stall_period=${STALL_PERIOD_S:-120}
stall_s=${STALL_S:-20}
kill_every=${KILL_EVERY_S:-90}
latency_every=${LATENCY_EVERY_S:-20}
latency_n=${LATENCY_N:-2000}
latency_p99_us=${LATENCY_P99_US:-1000}
drain_s=${DRAIN_S:-240}
rss_drift_mib=${RSS_DRIFT_MIB:-16}
fd_drift=${FD_DRIFT:-16}
for tool in Xvnc xterm qemu-system-x86_64 curl python3 node "$vncgate" "$load" "$s3rver"; do
  command -v "$tool" >/dev/null || { echo "soak: $tool missing (scripts/install-deps.sh, make build)" >&2; exit 2; }
done
[ -s "$guest/vmlinuz" ] || { echo "soak: no test guest in $guest (make guest)" >&2; exit 2; }
job_s=$((segment_s * segments))
[ "$soak_s" -ge $((warmup_s + job_s + 60)) ] || { echo "soak: SOAK_S too short for WARMUP_S + one job + 60 s" >&2; exit 2; }
peers_tag=soak
# shellcheck source=../scripts/lib/peers.sh
source "$here/../scripts/lib/peers.sh"
mkdir -p "$build/bench"
out=$build/bench
report=$out/soak.txt
: >"$report"
# The serve log and the raw measurements outlive $tmp: they are what to read when a check fails. set +e first: a
# file that was never written (keeper.log when no job was refused) must not stop the trap before peers_cleanup.
trap 'set +e; cp "$tmp/serve.log" "$out/soak-serve.log" 2>/dev/null; for f in lat.csv downloads.log sessions.log keeper.log \
  jobs.txt kills.log; do [ ! -e "$tmp/$f" ] || cp "$tmp/$f" "$out/"; done; cp "$tmp/proxy.log" "$out/stall-proxy.log" 2>/dev/null; peers_cleanup; rm -rf "$tmp"' EXIT
say() { echo "$*" | tee -a "$report"; }
free_tcp_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s; }
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- consoles ---------------------------------------------------------------------------------------
declare -A display xvnc_pid port
xterm_cmd() {
  if [ "$1" = idle ]; then echo 'ls -l /usr/bin | head -35; sleep 100000'; else echo 'while :; do date; sleep 1; done'; fi
}
start_xvnc() {
  local name=$1 d=${display[$1]}
  start "$tmp/xvnc-$name.log" Xvnc ":$d" -rfbport "${port[$name]}" -localhost -SecurityTypes None -geometry 800x600 \
    -depth 24 -nolisten tcp -AlwaysShared -BlacklistThreshold=100000
  xvnc_pid[$name]=${pids[-1]}
  wait_port "${port[$name]}"
  DISPLAY=:$d start "$tmp/xterm-$name.log" xterm -fa Monospace -fs 10 -geometry 100x35+0+0 -e sh -c "$(xterm_cmd "$name")"
}
for name in idle clock1 clock2; do
  display[$name]=$(free_display)
  port[$name]=$((5900 + display[$name]))
  start_xvnc "$name"
done
qemu_display=$(free_display)
port[qemu]=$((5900 + qemu_display))
start "$tmp/qemu.log" qemu-system-x86_64 -accel tcg -m 256 -display none -nic none -vnc "127.0.0.1:$qemu_display" \
  -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" \
  -append "console=ttyS0 console=tty0 consoleblank=0 loglevel=1 MODE=tick" -serial "file:$tmp/qemu-serial.txt" -no-reboot
for _ in $(seq 1 600); do grep -qx 'ready.*' "$tmp/qemu-serial.txt" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$tmp/qemu-serial.txt" || { echo "soak: the QEMU guest did not boot" >&2; exit 1; }
consoles=(qemu idle clock1 clock2)

# Stops an Xvnc (and with it its xterm) and starts it again on the same display and port.
restart_xvnc() {
  local name=$1 p=${xvnc_pid[$1]} i keep=()
  kill "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  for i in "${pids[@]}"; do [ "$i" = "$p" ] || keep+=("$i"); done
  pids=("${keep[@]}")
  for i in $(seq 1 50); do port_free "${port[$name]}" && [ ! -e "/tmp/.X${display[$name]}-lock" ] && break; sleep 0.1; done
  start_xvnc "$name"
}

# --- storage behind the stalling proxy --------------------------------------------------------------
s3_port=$(free_tcp_port)
start "$tmp/s3rver.log" "$s3rver" -d "$tmp/s3" -a 127.0.0.1 -p "$s3_port" --no-vhost-buckets
wait_port "$s3_port"
proxy_port=$(free_tcp_port)
start "$tmp/proxy.log" python3 "$here/stall_proxy.py" "$proxy_port" "$s3_port" "$stall_period" "$stall_s"
wait_port "$proxy_port"
stalled() { tail -n 1 "$tmp/proxy.log" | grep -q '^stall start'; }

# --- the service ------------------------------------------------------------------------------------
api_port=$(free_tcp_port)
api=http://127.0.0.1:$api_port
cat >"$tmp/vncgate.toml" <<TOML
[server]
port = $api_port
allow_no_auth = true
[providers]
allow_loopback = true
[jobs]
database = "$tmp/vncgate.db"
work_dir = "$tmp/work"
max_concurrent = $((recordings + 4))
upload_retry_s = 10
[storage]
url = "s3://127.0.0.1:$proxy_port?tls=off"
[targets]
qemu = "vnc://127.0.0.1:${port[qemu]}"
idle = "vnc://127.0.0.1:${port[idle]}"
clock1 = "vnc://127.0.0.1:${port[clock1]}"
clock2 = "vnc://127.0.0.1:${port[clock2]}"
TOML
# One named target per session (API targets may not carry credentials): a distinct password makes a distinct
# target string, so each session is a new one; the consoles ignore it.
for i in $(seq 1 "$sessions"); do
  echo "s$i = \"vnc://:s$i@127.0.0.1:${port[${consoles[i % 3]}]}\"" >>"$tmp/vncgate.toml"
done
VNCGATE_S3_ACCESS_KEY=S3RVER VNCGATE_S3_SECRET_KEY=S3RVER start "$tmp/serve.log" "$vncgate" serve --config "$tmp/vncgate.toml"
serve_pid=${pids[-1]}
wait_port "$api_port"
t0=$(now)
t_end=$((t0 + soak_s))
fd0=$(find "/proc/$serve_pid/fd" -mindepth 1 | wc -l)
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$serve_pid/status")

# --- recordings: RECORDINGS at a time ---------------------------------------------------------------
# From the API, not /metrics: the job gauges there are refreshed by the thread that also checks the storage, so
# they stand still while S3 hangs.
active_jobs() {
  local state n sum=0
  for state in queued connecting recording; do
    n=$(curl -fs --max-time 10 "$api/api/v1/recordings?state=$state&limit=500" | json 'len(d["recordings"])') || return 1
    sum=$((sum + n))
  done
  echo "$sum"
}
keeper() {
  # Counts SEGMENTS-1 .. SEGMENTS+1 in turn: jobs end at different times, so the load does not come in waves.
  local i=0 active code stop=$((t_end - job_s - segment_s - 10))
  while [ "$(now)" -lt "$stop" ]; do
    active=$(active_jobs) || active=$recordings
    while [ "$active" -lt "$recordings" ]; do
      code=$(curl -s --max-time 10 -o "$tmp/job.json" -w '%{http_code}' -X POST "$api/api/v1/recordings" \
        -H 'Content-Type: application/json' -d "{\"server\": \"${consoles[i % ${#consoles[@]}]}\", \"duration\": $segment_s, \"count\": $((segments - 1 + i % 3))}") || code=000
      if [ "$code" = 202 ]; then
        json 'd["job_id"]' <"$tmp/job.json" >>"$tmp/jobs.txt"
      else
        echo "$(($(now) - t0)) create $code $(head -c 200 "$tmp/job.json" 2>/dev/null)" >>"$tmp/keeper.log"
        break
      fi
      i=$((i + 1))
      active=$((active + 1))
    done
    sleep 2
  done
}

# --- sessions: SESSIONS over the run, in batches of 5 -----------------------------------------------
batch=5
batches=$((sessions / batch))
batch_every=$(((soak_s - 40) / batches))
session_life=$((2 * batch_every < 60 ? 2 * batch_every : 60))
[ "$session_life" -ge 3 ] || session_life=3
session_batch() {
  local b=$1 i k target code ids=() sid
  : >"$tmp/urls-$b.txt"
  for k in $(seq 1 "$batch"); do
    i=$((b * batch + k))
    target=${consoles[i % 3]}  # qemu, idle, clock1: the last is killed now and then
    # ttl 600: a batch's five POSTs may take long on a loaded machine; the link must outlive them.
    code=$(curl -s --max-time 30 -o "$tmp/sess-$b.json" -w '%{http_code} %{time_total}' -X POST "$api/api/v1/sessions" \
      -H 'Content-Type: application/json' -d "{\"target\": \"s$i\", \"ttl\": 600}") || code="000 30"
    echo "$(($(now) - t0)) session $i $target create $code" >>"$tmp/sessions.log"
    code=${code% *}
    [ "$code" = 201 ] || continue
    sid=$(json 'd["session_id"]' <"$tmp/sess-$b.json")
    ids+=("$sid")
    json "'ws://127.0.0.1:$api_port/ws/' + d['url'].rsplit('/', 1)[1]" <"$tmp/sess-$b.json" >>"$tmp/urls-$b.txt"
  done
  if [ -s "$tmp/urls-$b.txt" ]; then
    r=$(timeout $((session_life + 60)) "$load" --urls-file "$tmp/urls-$b.txt" --origin "$api" --warmup 1 \
      --seconds "$session_life" 2>>"$tmp/sessions.log") || true
    echo "$(($(now) - t0)) batch $b viewers $r" >>"$tmp/sessions.log"
  fi
  for sid in "${ids[@]}"; do
    code=$(curl -s --max-time 15 -o /dev/null -w '%{http_code}' -X DELETE "$api/api/v1/sessions/$sid") || code=000
    echo "$(($(now) - t0)) session $sid delete $code" >>"$tmp/sessions.log"
  done
}
churn() {
  local b=0 next=$t0
  while [ "$b" -lt "$batches" ] && [ $(($(now) + session_life + 20)) -lt "$t_end" ]; do
    session_batch "$b" &
    b=$((b + 1))
    next=$((next + batch_every))
    while [ "$(now)" -lt "$next" ]; do sleep 1; done
  done
  wait
}

# --- slow downloaders -------------------------------------------------------------------------------
# Prints "JOB INDEX BYTES SHA256" of a random uploaded segment, or nothing.
pick_segment() {
  curl -fs --max-time 10 "$api/api/v1/recordings?state=done&limit=100" |
    python3 -c '
import json, random, sys, urllib.request
jobs = json.load(sys.stdin)["recordings"]
random.shuffle(jobs)
for j in jobs[:5]:
    job = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/recordings/" + j["job_id"], timeout=10))
    segs = [s for s in job["segments"] if s["state"] == "uploaded"]
    if segs:
        s = random.choice(segs)
        print(j["job_id"], s["index"], s["bytes"], s["sha256"])
        break' "$api" 2>/dev/null || true
}
downloader() {
  local n=$1 seg job idx bytes sha r t got
  while [ $(($(now) + 60)) -lt "$t_end" ]; do
    seg=$(pick_segment)
    if [ -z "$seg" ]; then sleep 5; continue; fi
    read -r job idx bytes sha <<<"$seg"
    t=$(now)
    r=$(curl -s --limit-rate "$download_rate" --max-time 120 -o "$tmp/dl-$n" -w '%{http_code} %{size_download}' \
      "$api/api/v1/recordings/$job/segments/$idx") || true
    got=$(sha256sum "$tmp/dl-$n" 2>/dev/null | cut -d' ' -f1)
    echo "$((t - t0)) $(($(now) - t)) $job $idx $bytes ${r:-000 0} $([ "$got" = "$sha" ] && echo ok || echo bad)" >>"$tmp/downloads.log"
    rm -f "$tmp/dl-$n"
  done
}

# --- latency ----------------------------------------------------------------------------------------
echo "t_s,s3_stalled,direct_p50_us,direct_p99_us,gateway_p50_us,gateway_p99_us,added_p50_us,added_p99_us" >"$tmp/lat.csv"
latency_sample() {
  local s0 s1 direct gw sid link d50 d99 g50 g99
  stalled && s0=1 || s0=0
  direct=$(timeout 60 "$load" --latency "$latency_n" "vnc://127.0.0.1:${port[idle]}" 2>>"$tmp/lat.err") || return 0
  link=$(curl -fs --max-time 15 -X POST "$api/api/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"target\": \"idle\", \"ttl\": 60}") || return 0
  sid=$(json 'd["session_id"]' <<<"$link")
  gw=$(timeout 60 "$load" --latency "$latency_n" --origin "$api" \
    "ws://127.0.0.1:$api_port/ws/$(json "d['url'].rsplit('/', 1)[1]" <<<"$link")" 2>>"$tmp/lat.err") || gw=""
  curl -s --max-time 15 -o /dev/null -X DELETE "$api/api/v1/sessions/$sid" || true
  stalled && s1=1 || s1=0
  [ -n "$gw" ] || { echo "$(($(now) - t0)) gateway latency run failed" >>"$tmp/lat.err"; return 0; }
  d50=$(field "$direct" p50_us) d99=$(field "$direct" p99_us) g50=$(field "$gw" p50_us) g99=$(field "$gw" p99_us)
  echo "$(($(now) - t0)),$((s0 | s1)),$d50,$d99,$g50,$g99,$((g50 - d50)),$((g99 - d99))" >>"$tmp/lat.csv"
}

# --- the run ----------------------------------------------------------------------------------------
loops=()
keeper &
loops+=($!)
churn &
loops+=($!)
for n in $(seq 1 "$downloaders"); do
  downloader "$n" &
  loops+=($!)
done
pids+=("${loops[@]}")
echo "t_s,rss_kib,fds,threads,cpu_s,active_recordings,sessions,s3_stalled,healthz_ms,list_ms" >"$out/soak.csv"
say "== soak: ${soak_s} s, warm-up ${warmup_s} s; serve pid $serve_pid on $api; S3 stalls ${stall_s} s every ${stall_period} s"
lat_pid="" next_sample=$t0 next_latency=$((t0 + 10)) next_kill=$((t0 + kill_every)) last_latency=0 kills=0 victim=clock1
while [ "$(now)" -lt "$t_end" ]; do
  kill -0 "$serve_pid" 2>/dev/null || { say "soak: vncgate serve died"; break; }
  t=$(now)
  if [ "$t" -ge "$next_sample" ]; then
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$serve_pid/status")
    cpu=$(sed 's/.*) //' "/proc/$serve_pid/stat" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($12 + $13) / hz}')
    threads=$(awk '/^Threads/ {print $2}' "/proc/$serve_pid/status")
    fds=$(find "/proc/$serve_pid/fd" -mindepth 1 | wc -l)
    metrics=$(curl -fs --max-time 5 "$api/metrics" || true)
    # How long the API takes to answer (an io-thread route and one run on the blocking pool), in ms.
    health_ms=$(curl -s --max-time 30 -o /dev/null -w '%{time_total}' "$api/healthz" | awk '{printf "%d", $1 * 1000}') || health_ms=30000
    list_ms=$(curl -s --max-time 30 -o /dev/null -w '%{time_total}' "$api/api/v1/recordings?limit=1" |
      awk '{printf "%d", $1 * 1000}') || list_ms=30000
    rec=$(awk '/^vncgate_active_recordings / {print $2}' <<<"$metrics")
    ses=$(awk '/^vncgate_sessions[{ ]/ {s += $NF} END {print s + 0}' <<<"$metrics")
    echo "$((t - t0)),$rss,$fds,$threads,$cpu,${rec:-},${ses:-},$(stalled && echo 1 || echo 0),$health_ms,$list_ms" >>"$out/soak.csv"
    next_sample=$((next_sample + 5))
  fi
  if [ "$t" -ge "$next_kill" ]; then
    restart_xvnc "$victim"
    echo "$((t - t0)) restarted $victim" >>"$tmp/kills.log"
    kills=$((kills + 1))
    victim=$([ "$victim" = clock1 ] && echo clock2 || echo clock1)
    next_kill=$((next_kill + kill_every))
  fi
  # One latency run at a time, in the background: sampling keeps its 5 s pace whatever the run takes.
  if { [ "$t" -ge "$next_latency" ] || { stalled && [ $((t - last_latency)) -ge 5 ]; }; } &&
     ! kill -0 "$lat_pid" 2>/dev/null; then
    latency_sample &
    lat_pid=$!
    last_latency=$t
    next_latency=$((t + latency_every))
  fi
  sleep 1
done
echo "$(date +%T) load over; waiting for the loops" >&2
wait "${loops[@]}" 2>/dev/null || true
[ -z "$lat_pid" ] || wait "$lat_pid" 2>/dev/null || true  # each loop ends by itself: none starts work that outlasts SOAK_S

# --- drain: every job terminal, every segment uploaded ----------------------------------------------
touch "$tmp/jobs.txt"
job_report() {
  python3 - "$api" "$tmp/jobs.txt" <<'PY'
import json, sys, urllib.request
api, ids = sys.argv[1], open(sys.argv[2]).read().split()
states, missing, bad, total = {}, 0, [], 0
for i in ids:
    job = json.load(urllib.request.urlopen(f"{api}/api/v1/recordings/{i}", timeout=30))
    expected = job["count"]
    total += expected
    states[job["state"]] = states.get(job["state"], 0) + 1
    up = sum(s["state"] == "uploaded" for s in job["segments"])
    if job["state"] != "done" or up != expected:
        missing += expected - up
        bad.append(f'{i} {job["state"]} uploaded {up}/{expected} reconnects {job.get("reconnects")} '
                   f'reason {job.get("failure_reason")} segments {[(s["index"], s["state"]) for s in job["segments"]]}')
print(len(ids), len(bad), missing, total, " ".join(f"{k}={v}" for k, v in sorted(states.items())))
for b in bad:
    print(b)
PY
}
drain_end=$(($(now) + drain_s))
while :; do
  jobs_out=$(job_report) || jobs_out="0 1 0 0 (API unreachable)"
  read -r n_jobs n_bad _ _ <<<"$(head -n 1 <<<"$jobs_out")"
  [ "$n_bad" = 0 ] || [ "$(now)" -ge "$drain_end" ] || ! kill -0 "$serve_pid" 2>/dev/null && break
  sleep 5
done
drained_s=$(($(now) - t_end))
sleep 2
fd_idle=$(find "/proc/$serve_pid/fd" -mindepth 1 2>/dev/null | wc -l)
rss_idle=$(awk '/^VmRSS/ {print $2}' "/proc/$serve_pid/status" 2>/dev/null || echo 0)

# --- summary ----------------------------------------------------------------------------------------
fail=0
check() { if [ "$1" = ok ]; then say "  ok    $2"; else say "  FAIL  $2"; fail=1; fi; }
alive=ok
kill -0 "$serve_pid" 2>/dev/null || alive=dead
crash_lines=$(grep -c -E 'abort|Assertion' "$tmp/serve.log" || true)
say "$(python3 - "$out/soak.csv" "$warmup_s" "$((soak_s - job_s - segment_s))" "$recordings" 2>>"$tmp/marks" <<'PY'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
lo, hi = int(sys.argv[2]), int(sys.argv[3])
win = [r for r in rows if lo <= int(r["t_s"]) <= hi]
def line(key, unit, scale):
    v = [int(r[key]) / scale for r in win]
    q = max(1, len(v) // 5)
    drift = statistics.median(v[-q:]) - statistics.median(v[:q])
    print(f"{key:8s} steady window {lo}-{hi} s ({len(v)} samples): first {v[0]:.1f}, last {v[-1]:.1f}, "
          f"min {min(v):.1f}, max {max(v):.1f} {unit}; drift (median of last fifth - first fifth) {drift:+.1f} {unit}")
    print(f"DRIFT_{key} {drift:.1f}", file=sys.stderr)
active = sorted(int(r["active_recordings"] or 0) for r in win)
if active:
    print(f"load     recordings live in the steady window: median {active[len(active) // 2]}, min {active[0]}, max {active[-1]}"
          f" (asked: {sys.argv[4]}); a drift is only meaningful when this held steady")
line("rss_kib", "MiB", 1024)
line("fds", "fds", 1)
for label, flag in (("flowing", "0"), ("stalled", "1")):
    ms = sorted(int(r["list_ms"]) for r in rows if r["s3_stalled"] == flag)
    hz = sorted(int(r["healthz_ms"]) for r in rows if r["s3_stalled"] == flag)
    if ms:
        print(f"api      S3 {label}: GET /healthz median {hz[len(hz) // 2]} ms, max {hz[-1]} ms; "
              f"GET /api/v1/recordings?limit=1 median {ms[len(ms) // 2]} ms, max {ms[-1]} ms ({len(ms)} samples)")
print(f"peak     RSS {max(int(r['rss_kib']) for r in rows) / 1024:.1f} MiB, fds {max(int(r['fds']) for r in rows)}, "
      f"threads {max(int(r['threads']) for r in rows)} over the whole run")
PY
)"
rss_drift=$(awk '/^DRIFT_rss_kib/ {print $2}' "$tmp/marks")
fd_drift_v=$(awk '/^DRIFT_fds/ {print $2}' "$tmp/marks")
say "idle     before the load: $fd0 fds, RSS $((rss0 / 1024)) MiB; after the drain (no sessions, no jobs): $fd_idle fds, RSS $((rss_idle / 1024)) MiB"
say "$(python3 - "$tmp/lat.csv" "$latency_n" 2>>"$tmp/marks" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for label, part in (("S3 flowing", [r for r in rows if r["s3_stalled"] == "0"]),
                    ("S3 stalled", [r for r in rows if r["s3_stalled"] == "1"])):
    if not part:
        print(f"latency  {label}: no samples")
        print(f"LAT {label.split()[1]} none", file=sys.stderr)
        continue
    a50 = [int(r["added_p50_us"]) for r in part]
    a99 = [int(r["added_p99_us"]) for r in part]
    d50 = [int(r["direct_p50_us"]) for r in part]
    print(f"latency  {label}: {len(part)} runs of {sys.argv[2]} requests; added p50 median {statistics.median(a50):.0f} µs "
          f"(direct p50 median {statistics.median(d50):.0f} µs); added p99 median {statistics.median(a99):.0f} µs, "
          f"worst {max(a99)} µs")
    print(f"LAT {label.split()[1]} {statistics.median(a99):.0f}", file=sys.stderr)
PY
)"
lat_flowing=$(awk '$1 == "LAT" && $2 == "flowing" {print $3}' "$tmp/marks")
lat_stalled=$(awk '$1 == "LAT" && $2 == "stalled" {print $3}' "$tmp/marks")
read -r n_jobs n_bad n_missing n_segments job_states <<<"$(head -n 1 <<<"$jobs_out")"
say "jobs     $n_jobs created ($job_states); $n_segments segments expected, $n_missing not uploaded; drain took ${drained_s} s"
[ "$n_bad" = 0 ] || tail -n +2 <<<"$jobs_out" | head -20 | sed 's/^/         /' | tee -a "$report"
say "         job creations refused (storage stalled): $(grep -c ' create 503' "$tmp/keeper.log" 2>/dev/null || echo 0), other refusals: $(grep -v -c ' create 503' "$tmp/keeper.log" 2>/dev/null || echo 0)"
created=$(grep -c ' create 201 ' "$tmp/sessions.log" 2>/dev/null || true)
say "sessions $created of $(grep -c ' create ' "$tmp/sessions.log" 2>/dev/null || true) created ($(grep ' create ' "$tmp/sessions.log" | awk '{print $6}' | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')POST time p50/max $(grep ' create ' "$tmp/sessions.log" | awk '{print $7}' | sort -n | awk '{v[NR] = $1} END {printf "%.2f/%.2f s", v[int((NR + 1) / 2)], v[NR]}')), deleted $(grep -c ' delete 204$' "$tmp/sessions.log" || true); viewers connected $(grep -o 'connected=[0-9]*' "$tmp/sessions.log" | awk -F= '{s += $2} END {print s + 0}'), failed $(grep -o 'failed=[0-9]*' "$tmp/sessions.log" | awk -F= '{s += $2} END {print s + 0}')"
touch "$tmp/downloads.log"
say "downloads $(wc -l <"$tmp/downloads.log") at $download_rate/s: $(awk '$NF == "ok"' "$tmp/downloads.log" | wc -l) complete and identical, $(awk '$NF == "bad" && $6 == 200 && $7 == $5' "$tmp/downloads.log" | wc -l) wrong bytes, $(awk '$NF == "bad" && !($6 == 200 && $7 == $5)' "$tmp/downloads.log" | wc -l) incomplete (status ≠ 200 or short; see downloads.log); longest $(awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}' "$tmp/downloads.log") s"
say "consoles restarted $kills times; S3 stalls: $(grep -c '^stall start' "$tmp/proxy.log" || true)"
say "serve    $alive; log lines with abort/Assertion: $crash_lines; log warnings $(grep -c -i '\bwarn' "$tmp/serve.log" || true), errors $(grep -c -i '\berror\b' "$tmp/serve.log" || true)"
say "== checks"
check "$([ "$alive" = ok ] && [ "$crash_lines" = 0 ] && echo ok)" "serve still running, no abort/Assertion in its log"
check "$(awk -v d="$rss_drift" -v m="$rss_drift_mib" 'BEGIN {print (d != "" && d <= m) ? "ok" : "no"}')" "RSS drift ${rss_drift} MiB <= ${rss_drift_mib} MiB"
check "$(awk -v d="$fd_drift_v" -v m="$fd_drift" 'BEGIN {print (d != "" && d <= m) ? "ok" : "no"}')" "descriptor drift ${fd_drift_v} <= ${fd_drift}"
check "$([ "$fd_idle" -le $((fd0 + 4)) ] && echo ok)" "descriptors back to the idle count after the drain ($fd_idle <= $fd0 + 4)"
check "$([ "$n_bad" = 0 ] && [ "$n_jobs" -gt 0 ] && echo ok)" "every job done with all its segments uploaded"
check "$([ "$(awk '$NF == "bad" && $6 == 200 && $7 == $5' "$tmp/downloads.log" | wc -l)" = 0 ] && echo ok)" "no download delivered wrong bytes"
for what in flowing stalled; do
  v=$([ "$what" = flowing ] && echo "$lat_flowing" || echo "$lat_stalled")
  check "$([ "$v" != none ] && [ -n "$v" ] && [ "$v" -lt "$latency_p99_us" ] && echo ok)" \
    "median added p99 latency with S3 $what ${v:-none} µs < $latency_p99_us µs"
done
say "(time series: $out/soak.csv; latency runs: $out/lat.csv; serve log: $out/soak-serve.log)"
exit "$fail"
