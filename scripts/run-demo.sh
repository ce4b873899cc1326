#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make run`: starts the demo VM console (the QEMU text-console guest) on 127.0.0.1:5990, takes a snapshot of it
# with vncgate and keeps the console running so you can try the CLI; Ctrl-C stops everything it started.
set -euo pipefail
build=${1:-build}
guest="$build/guest"
port=${VNCGATE_DEMO_PORT:-5990}
run_dir=$(mktemp -d /tmp/vncgate-demo.XXXXXX)
qemu_pid=""
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null || true
  echo "demo stopped"
}
trap cleanup EXIT INT TERM

(exec qemu-system-x86_64 -accel tcg -m 256 -display none -nic none -vnc "127.0.0.1:$((port - 5900))" \
  -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "console=ttyS0 console=tty0 consoleblank=0 loglevel=1 MODE=tick" \
  -serial "file:$run_dir/serial.log" -no-reboot) &
qemu_pid=$!
echo "demo console: QEMU guest (pid $qemu_pid) on vnc://127.0.0.1:$port — booting…"
for _ in $(seq 1 200); do grep -q ready "$run_dir/serial.log" 2>/dev/null && break; sleep 0.1; done
"$build/src/cli/vncgate" snapshot "vnc://127.0.0.1:$port" "$run_dir/demo.png"
cat <<MSG

vncgate is built: $build/src/cli/vncgate
A snapshot of the demo console is in $run_dir/demo.png. Try:
  $build/src/cli/vncgate snapshot vnc://127.0.0.1:$port /tmp/console.png --encodings zrle
  $build/src/cli/vncgate snapshot vnc://127.0.0.1:$port /tmp/console.png --cursor -v

The demo console keeps running; press Ctrl-C to stop it.
MSG
wait "$qemu_pid"
