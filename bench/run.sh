#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Decoder benchmark against real streams (shared TESTING.md recipes): starts Xvnc 1280x800 depth 24 on a free
# display, records CAPTURE_SECONDS of each encoding with vncgate_capture for two scenes, stops the servers,
# then replays every capture with vncgate_decoder_bench (console table + BUILD/bench/decoders.json).
#   text   a scrolling xterm (160x50, `ls -l /usr/bin` in a loop): CopyRect and text-like content
#   image  plasma fractals cycled on the root window behind a scrolling xterm: photo-like content
# Xvnc (TigerVNC) has no Zlib encoder, so Zlib is recorded through x11vnc attached to the same display.
# Only the PIDs started here are killed (trap on exit).
#
# The captures are then replayed through libvncclient too (vncgate_libvncclient_replay, when built).
#
# Usage: bench/run.sh BUILD
#   env: CAPTURE_SECONDS (5), BENCH_CPU (0: the core the replays are pinned to), REUSE_CAPTURES=1 (replay the
#   captures already in BUILD/bench/captures instead of recording new ones)
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=${CAPTURE_SECONDS:-5}
capture=$build/bench/vncgate_capture
bench=$build/bench/vncgate_decoder_bench
out=$build/bench
caps=$out/captures
for b in "$capture" "$bench"; do
  [ -x "$b" ] || { echo "bench: $b missing (build with -DVNCGATE_BENCH=ON)" >&2; exit 2; }
done
for tool in Xvnc xterm x11vnc /usr/bin/convert display; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

peers_tag=bench
# shellcheck source=../scripts/lib/peers.sh
source "$(dirname "$0")/../scripts/lib/peers.sh"

record_all() {
  local display= p i port zport xterm_pid kept
  display=$(free_display) || true
  [ -n "$display" ] || { echo "bench: no free X display in :40..:99" >&2; exit 1; }
  port=$((5900 + display))
  zport=$((6900 + display))
  export DISPLAY=:$display

  start "$tmp/xvnc.log" Xvnc ":$display" -rfbport "$port" -localhost -SecurityTypes None -geometry 1280x800 \
    -depth 24 -nolisten tcp -AlwaysShared
  wait_port "$port"
  start "$tmp/x11vnc.log" x11vnc -display ":$display" -rfbport "$zport" -localhost -nopw -forever -shared -quiet
  wait_port "$zport"

  mkdir -p "$caps"
  rm -f "$caps"/*.vgcap
  # encoding list name (file-name safe) -> --encodings value
  encodings=(raw:raw copyrect+raw:copyrect,raw rre:rre hextile:hextile zlib:zlib tight:tight zrle:zrle)
  record_scene() {
    local scene=$1 pair name list target
    for pair in "${encodings[@]}"; do
      name=${pair%%:*}
      list=${pair#*:}
      target=vnc://127.0.0.1:$port
      [ "$name" = zlib ] && target=vnc://127.0.0.1:$zport
      "$capture" "$target" --encodings "$list" --seconds "$seconds" -o "$caps/$scene-$name.vgcap"
    done
  }

  scroll='while :; do ls -l /usr/bin | head -60; done'
  start "$tmp/xterm-text.log" xterm -fa Monospace -fs 10 -geometry 160x50+0+0 -e sh -c "$scroll"
  xterm_pid=${pids[-1]}
  sleep 1
  echo "== scene text (display :$display)"
  record_scene text
  kill "$xterm_pid"
  wait "$xterm_pid" 2>/dev/null || true
  kept=()
  for p in "${pids[@]}"; do [ "$p" = "$xterm_pid" ] || kept+=("$p"); done
  pids=("${kept[@]}")

  for i in 1 2 3; do /usr/bin/convert -size 1280x800 -seed "$i" plasma:fractal "$tmp/plasma$i.png"; done
  # display(1) exits non-zero after painting the root window; each repaint is a full-screen update.
  start "$tmp/images.log" bash -c "while :; do for i in 1 2 3; do display -window root $tmp/plasma\$i.png || true; sleep 0.3; done; done"
  start "$tmp/xterm-image.log" xterm -fa Monospace -fs 10 -geometry 80x24+300+200 -e sh -c "$scroll"
  sleep 1
  echo "== scene image"
  record_scene image
  peers_cleanup
}

if [ "${REUSE_CAPTURES:-0}" = 1 ] && compgen -G "$caps/*.vgcap" >/dev/null; then
  echo "== reusing the captures in $caps"
else
  record_all
fi

echo "== replay (pinned to CPU ${BENCH_CPU:-0})"
taskset -c "${BENCH_CPU:-0}" "$bench" --captures "$caps" --benchmark_format=console \
  --benchmark_out="$out/decoders.json" --benchmark_out_format=json

# The same captures through libvncclient (when built), for comparison.
rm -f "$out/libvncclient.txt"
if [ -x "$build/bench/vncgate_libvncclient_replay" ]; then
  echo "== libvncclient replay (best of 3, CPU time)"
  for c in "$caps"/*.vgcap; do
    taskset -c "${BENCH_CPU:-0}" "$build/bench/vncgate_libvncclient_replay" "$c" 3 | tee -a "$out/libvncclient.txt" || true
  done
fi

# encoding x scene table in Mpx/s: vncgate, the ratio to the 200 Mpx/s bar, libvncclient (docs/performance.md)
python3 - "$out/decoders.json" "$out/libvncclient.txt" >"$out/decoders.md" <<'PY'
import json, os, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
rate = {b["name"]: b.get("Mpx/s", 0) for b in runs if b.get("run_type") != "aggregate"}
peer = {}
if os.path.exists(sys.argv[2]):
    for line in open(sys.argv[2]):
        f = line.split()
        if len(f) == 4: peer[f[0]] = float(f[2])
floor = next((v for k, v in rate.items() if k.startswith("memcpy")), 0)
print("| encoding | scene | vncgate Mpx/s | / 200 bar | libvncclient Mpx/s | vncgate / libvncclient |")
print("|---|---|---:|---:|---:|---:|")
for enc in ["raw", "copyrect+raw", "rre", "hextile", "zlib", "tight", "zrle"]:
    for scene in ["text", "image"]:
        name = f"{scene}-{enc}"
        v, p = rate.get("replay/" + name), peer.get(name)
        if v is None: continue
        ps = f"{p:.0f}" if p else "-"
        ratio = f"{v / p:.2f}" if p else "-"
        print(f"| {enc} | {scene} | {v:.0f} | {v / 200:.2f} | {ps} | {ratio} |")
print(f"| memcpy 1280x800 (floor) | - | {floor:.0f} | {floor / 200:.2f} | | |")
PY
cat "$out/decoders.md"
echo "results: $out/decoders.json, $out/decoders.md, $out/libvncclient.txt"
