#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make run`: starts the demo VM console (the QEMU text-console guest) on 127.0.0.1:5990 and `vncgate serve` on
# 127.0.0.1:8090 with SQLite + local storage and a direct target named `demo`, then prints how to record it and
# how to open it in a browser.
# Ctrl-C stops everything it started.
set -euo pipefail
build=${1:-build}
guest="$build/guest"
vnc_port=${VNCGATE_DEMO_PORT:-5990}
api_port=${VNCGATE_DEMO_API_PORT:-8090}
data_dir=${VNCGATE_DEMO_DIR:-$PWD/vncgate-data}
vncgate="$(cd "$build" && pwd)/src/cli/vncgate"
mkdir -p "$data_dir"
qemu_pid="" serve_pid=""
cleanup() {
  trap - EXIT INT TERM
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null || true
  echo "demo stopped"
}
trap cleanup EXIT INT TERM

for port in "$vnc_port" "$api_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use; set VNCGATE_DEMO_PORT / VNCGATE_DEMO_API_PORT" >&2
    exit 1
  fi
done

# A fresh log each run: the previous run's "ready" would end the wait below before this guest has booted.
rm -f "$data_dir/demo-console.log"
(exec qemu-system-x86_64 -accel tcg -m 256 -display none -nic none -vnc "127.0.0.1:$((vnc_port - 5900))" \
  -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" \
  -append "console=ttyS0 console=tty0 consoleblank=0 loglevel=1 MODE=tick" \
  -serial "file:$data_dir/demo-console.log" -no-reboot) &
qemu_pid=$!
echo "demo console: QEMU guest (pid $qemu_pid) on vnc://127.0.0.1:$vnc_port — booting…"
for _ in $(seq 1 200); do grep -q ready "$data_dir/demo-console.log" 2>/dev/null && break; sleep 0.1; done

# A local demo: no API keys (an explicit, logged choice; refused through a proxy) and a loopback target.
(cd "$data_dir" && exec "$vncgate" serve --port "$api_port" --target "demo=vnc://127.0.0.1:$vnc_port" \
  --set server.allow_no_auth=true --set providers.allow_loopback=true \
  --db "$data_dir/vncgate.db" --work-dir "$data_dir/work" --storage "file://$data_dir/recordings") &
serve_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

cat <<MSG

vncgate serve is running on http://127.0.0.1:$api_port with the demo console as target "demo".
Record it (three 10-second MP4 segments, the seed's call):

  curl -s -X POST http://127.0.0.1:$api_port/record -H 'Content-Type: application/json' -d '{"server": "demo", "duration": 10, "count": 3}'

Follow the job and fetch a segment:

  curl -s http://127.0.0.1:$api_port/api/v1/recordings | python3 -m json.tool
  curl -s -o segment-001.mp4 http://127.0.0.1:$api_port/api/v1/recordings/JOB_ID/segments/1

The files appear in $data_dir/recordings/BUCKET_ID/ (segment-001.mp4, segment-001.json, …).

Dashboard (recordings, thumbnails, playback, live sessions): http://127.0.0.1:$api_port/
Open the console in a browser through a one-time link:

  curl -s -X POST http://127.0.0.1:$api_port/api/v1/sessions -H 'Content-Type: application/json' -d '{"target": "demo"}'
  # then open http://127.0.0.1:$api_port + the "url" it returns

Press Ctrl-C to stop the service and the demo console.
MSG
wait "$serve_pid"
