#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Re-records the fuzz seeds that come from real servers (the hand-built ones come from make_seeds.py):
#   corpus/fuzz_decoder_<enc>/{xvnc,qemu}-*.bin   rect payloads (vncgate_capture --rects-dir), layout
#                                                 tests/fuzz/fuzz_input.hpp
#   corpus/fuzz_server_messages/{xvnc,qemu}-*.bin  whole streams, handshake included, cut to 48 KiB
# Xvnc runs at 256x256 so every rectangle fits the decoder targets' framebuffer; the scene is a scrolling
# xterm over a tiled 48x48 plasma background that changes twice a second (photo-like but compressible, so
# zlib-stream seeds stay small). Whole-stream seeds come from canonical-format captures only: the target's
# client always asks for the canonical format. QEMU boots the test guest (scripts/make-guest.sh) in its 720x400 text console.
# Only PIDs started here are killed. Needs a VNCGATE_BENCH build (for vncgate_capture).
#
# Usage: tests/fuzz/capture_seeds.sh BENCH_BUILD
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BENCH_BUILD" >&2; exit 2; }
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/corpus
capture=$build/bench/vncgate_capture
[ -x "$capture" ] || { echo "capture_seeds: $capture missing" >&2; exit 2; }
seconds=${CAPTURE_SECONDS:-2}
stream_bytes=49152

peers_tag=capture_seeds
# shellcheck source=../../scripts/lib/peers.sh
source "$here/../../scripts/lib/peers.sh"

# Moves rect seeds from a --rects-dir into the decoder targets' corpora as <prefix>-<file>.
collect_rects() {
  local dir=$1 prefix=$2 f name enc
  for f in "$dir"/*.bin; do
    [ -e "$f" ] || continue
    name=$(basename "$f")
    enc=${name%%-*}
    [ -d "$corpus/fuzz_decoder_$enc" ] || continue
    cp "$f" "$corpus/fuzz_decoder_$enc/$prefix-$name"
  done
}
# A capture minus its two header lines, cut short: a whole-stream seed for fuzz_server_messages.
collect_stream() {
  tail -n +3 "$1" >"$tmp/stream"
  head -c "$stream_bytes" "$tmp/stream" >"$corpus/fuzz_server_messages/$2.bin"
}

rm -f "$corpus"/*/xvnc-*.bin "$corpus"/*/qemu-*.bin
mkdir -p "$corpus/fuzz_server_messages"

# --- Xvnc 256x256 (and x11vnc on the same display for Zlib) ---------------------------------------------
display=$(free_display) || { echo "capture_seeds: no free X display" >&2; exit 1; }
port=$((5900 + display))
zport=$((6900 + display))
export DISPLAY=:$display
start "$tmp/xvnc.log" Xvnc ":$display" -rfbport "$port" -localhost -SecurityTypes None -geometry 256x256 -depth 24 \
  -nolisten tcp -AlwaysShared
wait_port "$port"
start "$tmp/x11vnc.log" x11vnc -display ":$display" -rfbport "$zport" -localhost -nopw -forever -shared -quiet
wait_port "$zport"
for i in 1 2; do /usr/bin/convert -size 48x48 -seed "$i" plasma:fractal "$tmp/plasma$i.png"; done
start "$tmp/images.log" bash -c "while :; do for i in 1 2; do display -window root $tmp/plasma\$i.png || true; sleep 0.4; done; done"
start "$tmp/xterm.log" xterm -fa Monospace -fs 8 -geometry 30x10+40+60 -e sh -c 'while :; do ls -l /usr/bin | head -30; done'
sleep 1

n=0
grab() {  # grab TARGET_PORT ENCODINGS FORMAT [extra args]
  local p=$1 list=$2 fmt=$3 name
  shift 3
  name=xvnc-$fmt-${list//,/+}$([ $# -gt 0 ] && echo "-q" || true)
  n=$((n + 1))
  "$capture" "vnc://127.0.0.1:$p" --encodings "$list" --pixel-format "$fmt" --seconds "$seconds" \
    -o "$tmp/$name.vgcap" --rects-dir "$tmp/rects$n" --max-seeds 4 --max-seed-bytes 32768 "$@"
  collect_rects "$tmp/rects$n" "$name"
  if [ "$fmt" = canonical ] && [ "$list" != raw ]; then collect_stream "$tmp/$name.vgcap" "$name"; fi
}
for fmt in canonical rgb565; do
  for list in raw copyrect,raw rre hextile tight zrle; do grab "$port" "$list" "$fmt"; done
  grab "$zport" zlib "$fmt"
done
grab "$port" tight canonical --quality 5  # Tight JPEG
grab "$port" hextile bgr233
grab "$port" zrle canonical-be
peers_cleanup

# --- QEMU text console (720x400) -----------------------------------------------------------------------
guest=$build/guest
bash "$here/../../scripts/make-guest.sh" "$guest" >/dev/null
display=$(free_display) || { echo "capture_seeds: no free VNC display" >&2; exit 1; }
start "$tmp/qemu.log" qemu-system-x86_64 -accel tcg -m 256 -display none -nic none -vnc "127.0.0.1:$display" \
  -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "console=ttyS0 console=tty0 consoleblank=0" \
  -serial "file:$tmp/qemu.serial" -no-reboot
wait_port $((5900 + display))
for i in $(seq 1 100); do grep -q ready "$tmp/qemu.serial" 2>/dev/null && break; sleep 0.1; done
for list in raw hextile zlib tight zrle; do
  n=$((n + 1))
  "$capture" "vnc://127.0.0.1:$((5900 + display))" --encodings "$list" --seconds 3 -o "$tmp/qemu-$list.vgcap" \
    --rects-dir "$tmp/rects$n" --max-seeds 4 --max-seed-bytes 32768
  collect_rects "$tmp/rects$n" "qemu-$list"
  [ "$list" = raw ] || collect_stream "$tmp/qemu-$list.vgcap" "qemu-$list"
done
peers_cleanup

du -sh "$corpus"
