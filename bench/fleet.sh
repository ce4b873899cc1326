#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fleet benchmark (issue 16): `vncgate serve` processes sharing one real PostgreSQL (Debian's initdb/postgres,
# started here on a free loopback port, as the postgres user when run as root; fsync as configured: PG_FSYNC).
#   claims    N_JOBS jobs queued through an api node, then three worker nodes (jobs.max_concurrent=16 each)
#             started together. The jobs' console refuses connections by design (recording.connect_grace_s=0), so
#             a claimed job fails at once and its worker claims the next: what is measured is claiming. Jobs/s
#             from the first claim to the last (job_transitions into connecting, on the server's clock);
#             duplicates = jobs claimed more than once (a fence_token above 1 or two transitions into
#             connecting) — must be 0.
#   failover  one recording job (Xvnc 640x480, 2 s segments) on one of two workers; kill -9 of that worker in the
#             middle of a segment; seconds until the next segment is recording on the other worker (the API
#             polled every 100 ms). FAILOVER_RUNS runs for each LEASES pair (lease_s:heartbeat_s).
#   api       wrk (2 threads, 16 connections, WRK_S s) on GET /api/v1/recordings/{id} and POST /record against
#             one `serve` node holding ~200 jobs, with SQLite and then with PostgreSQL: req/s, p50/p90/p99.
# Writes a table to stdout and BUILD/bench/fleet.txt. Only the PIDs started here are killed.
# Usage: bench/fleet.sh BUILD
#   env: N_JOBS (1000), FAILOVER_RUNS (3), LEASES ("5:1 20:5"), WRK_S (10), PG_FSYNC (on), PARTS ("claims
#   failover api")
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
n_jobs=${N_JOBS:-1000}
failover_runs=${FAILOVER_RUNS:-3}
leases=${LEASES:-5:1 20:5}  # LEASE_S:HEARTBEAT_S pairs of the failover runs
lease_s=20
heartbeat_s=5
wrk_s=${WRK_S:-10}
parts=${PARTS:-claims failover api}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
bench_need Xvnc wrk curl python3 "$vncgate" "$pg_bin/postgres"
# shellcheck source=wrk_summary.sh
source "$(dirname "$0")/wrk_summary.sh"
bench_report fleet
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

# --- PostgreSQL of its own ----------------------------------------------------------------------------
chmod 755 "$tmp"
pg_dir=$tmp/pg
mkdir -p "$pg_dir"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$pg_dir"
  as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups --)
fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 >"$tmp/initdb.log" 2>&1
pg_port=$(free_port)
start "$tmp/postgres.log" "${as_pg[@]}" "$pg_bin/postgres" -D "$pg_dir/data" -k "$pg_dir" -p "$pg_port" \
  -c listen_addresses=127.0.0.1 -c max_connections=300 -c "fsync=${PG_FSYNC:-on}"
for _ in $(seq 1 200); do
  "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -t 1 && break
  sleep 0.1
done
# psql DATABASE SQL: unaligned rows.
psql_in() { "$pg_bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d "$1" -c "$2"; }
new_database() {  # new_database NAME: an empty database of that name; prints its URL
  psql_in postgres "CREATE DATABASE $1" >/dev/null
  echo "postgresql://postgres@127.0.0.1:$pg_port/$1"
}

# serve NAME ROLE JOBS_URL [more args...]: starts a node in $tmp/NAME; its port in $node_port, PID in $node_pid.
serve() {
  local name=$1 role=$2 url=$3
  shift 3
  node_port=$(free_port)
  mkdir -p "$tmp/$name"
  local jobs_url=()
  [ -n "$url" ] && jobs_url=(--set "jobs.url=$url")
  start "$tmp/$name/serve.log" "$vncgate" serve -q --role "$role" --port "$node_port" --db "$tmp/$name/vncgate.db" \
    --work-dir "$tmp/$name/work" --storage "file://$tmp/recordings" "${jobs_url[@]}" \
    --set "jobs.worker_id=$name" --set "jobs.lease_s=$lease_s" --set "jobs.heartbeat_s=$heartbeat_s" \
    --set server.allow_no_auth=true --set providers.allow_loopback=true --set jobs.max_queued=1000000 \
    --set jobs.max_queued_per_key=1000000 --set recording.connect_grace_s=0 "$@"
  node_pid=${pids[-1]}
  wait_port "$node_port"
}
dead_port=$(free_port)  # nothing listens there: the console of jobs that only measure claiming
dead=(--target "dead=vnc://127.0.0.1:$dead_port")
post_jobs() {  # post_jobs PORT N: N jobs on the dead console
  local i
  for i in $(seq 1 "$2"); do
    curl -fs -o /dev/null -X POST "http://127.0.0.1:$1/record" -H 'Content-Type: application/json' \
      -d '{"server": "dead", "duration": 1, "count": 1}'
  done
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
segments() {  # segments API JOB_ID: how many segments the job has
  curl -fs "$1/api/v1/recordings/$2" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["segments"]))' 2>/dev/null || echo 0
}

# --- claims ---------------------------------------------------------------------------------------------------
if [[ " $parts " == *" claims "* ]]; then
  url=$(new_database claims)
  serve api api "$url" "${dead[@]}"
  api_port=$node_port
  api_pid=$node_pid
  post_jobs "$api_port" "$n_jobs"
  workers=()
  for w in 1 2 3; do
    serve "worker-$w" worker "$url" "${dead[@]}" --set jobs.max_concurrent=16
    workers+=("$node_pid")
  done
  for _ in $(seq 1 1200); do
    left=$(psql_in "${url##*/}" "SELECT count(*) FROM jobs WHERE state IN ('queued', 'connecting', 'recording')")
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  read -r first last < <(psql_in "${url##*/}" "SELECT min(at_unix_ms), max(at_unix_ms) FROM job_transitions
    WHERE state = 'connecting'" | tr '|' ' ')
  claimed=$(psql_in "${url##*/}" "SELECT count(DISTINCT job_id) FROM job_transitions WHERE state = 'connecting'")
  twice=$(psql_in "${url##*/}" "SELECT count(*) FROM (SELECT job_id FROM job_transitions WHERE state = 'connecting'
    GROUP BY job_id HAVING count(*) > 1) t")
  refenced=$(psql_in "${url##*/}" "SELECT count(*) FROM jobs WHERE fence_token > 1")
  per_worker=$(psql_in "${url##*/}" "SELECT owner || ' ' || count(*) FROM jobs GROUP BY owner ORDER BY owner" | paste -sd, -)
  say "== claims: $n_jobs queued jobs, 3 worker nodes (max_concurrent 16 each), PostgreSQL fsync=${PG_FSYNC:-on}"
  say "$(printf 'claimed        %d of %d jobs in %.2f s: %.0f jobs/s\n' "$claimed" "$n_jobs" \
    "$(echo "($last - $first) / 1000" | bc -l)" "$(echo "$claimed * 1000 / ($last - $first)" | bc -l)")"
  say "duplicates     $twice claimed twice, $refenced with a fence token above 1 (last owner: $per_worker)"
  for p in "${workers[@]}" "$api_pid"; do stop_pid "$p"; done
fi

# --- failover -------------------------------------------------------------------------------------------------
if [[ " $parts " == *" failover "* ]]; then
  display=$(free_display)
  vnc_port=$((5900 + display))
  start "$tmp/xvnc.log" Xvnc ":$display" -rfbport "$vnc_port" -localhost -SecurityTypes None -geometry 640x480 \
    -depth 24 -nolisten tcp -AlwaysShared
  wait_port "$vnc_port"
  for pair in $leases; do
    lease_s=${pair%%:*}
    heartbeat_s=${pair##*:}
    say "== failover: kill -9 of the recording worker, lease ${lease_s} s, heartbeat ${heartbeat_s} s (2 s segments)"
    for run in $(seq 1 "$failover_runs"); do
      url=$(new_database "failover_${lease_s}_$run")
      console=(--target "demo=vnc://127.0.0.1:$vnc_port")
      serve "f${lease_s}-$run-api" api "$url" "${console[@]}"
      api_pid=$node_pid
      api=http://127.0.0.1:$node_port
      serve "f${lease_s}-$run-worker-1" worker "$url" "${console[@]}"
      first=$node_pid
      id=$(curl -fs -X POST "$api/record" -H 'Content-Type: application/json' \
        -d '{"server": "demo", "duration": 2, "count": 60}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
      serve "f${lease_s}-$run-worker-2" worker "$url" "${console[@]}"
      second=$node_pid
      # Half-way through segment 2.
      until [ "$(segments "$api" "$id")" -ge 2 ]; do sleep 0.1; done
      sleep 1
      before=$(segments "$api" "$id")
      killed=$(now_ms)
      { kill -9 "$first" && wait "$first"; } 2>/dev/null || true
      until [ "$(segments "$api" "$id")" -gt "$before" ]; do sleep 0.1; done
      took=$(($(now_ms) - killed))
      say "$(printf 'run %d          %.1f s from kill -9 to the next segment on the other worker\n' "$run" \
        "$(echo "$took / 1000" | bc -l)")"
      for p in "$second" "$api_pid"; do stop_pid "$p"; done
    done
  done
fi

# --- api ------------------------------------------------------------------------------------------------------
if [[ " $parts " == *" api "* ]]; then
  cat > "$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"server": "dead", "duration": 1, "count": 1}'
wrk.headers["Content-Type"] = "application/json"
LUA
  say "== API latency, one serve node (role all), wrk 2 threads, 16 connections, ${wrk_s} s each"
  for backend in sqlite postgresql; do
    url=""
    [ "$backend" = postgresql ] && url=$(new_database api)
    serve "api-$backend" all "$url" "${dead[@]}"
    node=$node_pid
    api=http://127.0.0.1:$node_port
    post_jobs "$node_port" 200
    id=$(curl -fs "$api/api/v1/recordings?limit=1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["recordings"][0]["job_id"])')
    sleep 2
    for what in get post; do
      if [ "$what" = get ]; then
        wrk -t2 -c16 -d"${wrk_s}s" --latency "$api/api/v1/recordings/$id" > "$tmp/wrk-$what.txt"
      else
        wrk -t2 -c16 -d"${wrk_s}s" --latency -s "$tmp/post.lua" "$api/record" > "$tmp/wrk-$what.txt"
      fi
      wrk_summary "$backend $what" "$tmp/wrk-$what.txt" | tee -a "$report"
    done
    stop_pid "$node"
  done
fi
say "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
