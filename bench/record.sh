#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Recording benchmark, side by side in one run (shared TESTING.md "Peers for benchmarks"):
#   busy   Xvnc 1280x800 with an xterm scrolling one line every 50 ms (the whole screen moves 20 times a
#          second, so both recorders get 10 changed frames a second). `vncgate record` and GStreamer
#          `rfbsrc ! videorate ! x264enc ! mp4mux` record the same screen at the same time with the same fps
#          cap (10), x264 preset (veryfast) and quantizer (23); then ffmpeg/libx264 encodes raw frames of the
#          same scene (x11grab) with the same settings: the encode floor. CPU seconds from /usr/bin/time.
#   idle   a QEMU text console that does not change: CPU share of one recording, then IDLE_N recordings at
#          once (the capacity of 2 cores follows).
#   convert  `record --fbs` of an operator at a shell (bench/terminal_session.sh, CONVERT_S) and of the busy
#          listing, then `convert` on one core (taskset) and on all cores: times real time; then the time to
#          show random instants of the session with and without its checkpoints and a thumbnail at t from
#          them (vncgate_seek_bench: the frame endpoint of a job with FBS), and in its MP4 files: a thumbnail
#          at t (vncgate_seek_bench --mp4-length: a job without) and Chromium's seek (bench/video_seek.mjs).
# Writes a table to stdout and BUILD/bench/record.txt. Only the PIDs started here are killed.
# Usage: bench/record.sh BUILD    env: SECONDS_BUSY (20), SECONDS_IDLE (60), IDLE_N (50), CONVERT_S (180),
#   PARTS ("busy transcript idle convert": which measurements to run)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
busy_s=${SECONDS_BUSY:-20}
idle_s=${SECONDS_IDLE:-60}
idle_n=${IDLE_N:-50}
# shellcheck disable=SC2034  # read by part() (common.sh)
parts=" ${PARTS:-busy transcript idle convert} "
bench_need Xvnc xterm gst-launch-1.0 ffmpeg qemu-system-x86_64 node chromium "$vncgate"
bench_report record
cpu_of() { tail -1 "$1" | awk '{print $1 + $2}'; }  # "user sys" (last line of /usr/bin/time -f "%U %S")

# Xvnc 1280x800 with an xterm listing /usr/bin over and over, pausing $1 s between listings; sets $display
# and $port.
start_busy_desktop() {
  start_terminal_desktop "while :; do ls -l /usr/bin | head -60; sleep $1; done"
}

# Xvnc 1280x800 with an xterm that scrolls by one line of `ls -l /usr/bin` every 50 ms: a change rate set by
# the scene (20/s, over any 10 fps cap), not by how fast xterm and ls happen to run.
start_steady_scroll_desktop() {
  ls -l /usr/bin >"$tmp/lines"
  start_terminal_desktop "n=\$(wc -l <'$tmp/lines'); i=0
    while :; do i=\$((i % n + 1)); sed -n \"\${i}p\" '$tmp/lines'; sleep 0.05; done"
}

# Xvnc 1280x800 with a 160x50 xterm running the shell command $1; sets $display and $port.
start_terminal_desktop() {
  display=$(free_display)
  port=$((5900 + display))
  start "$tmp/xvnc-$display.log" Xvnc ":$display" -rfbport "$port" -localhost -SecurityTypes None \
    -geometry 1280x800 -depth 24 -nolisten tcp -AlwaysShared -BlacklistThreshold=100000
  wait_port "$port"
  DISPLAY=:$display start "$tmp/xterm-$display.log" xterm -fa Monospace -fs 10 -geometry 160x50+0+0 \
    -e sh -c "$1"
  sleep 2
}

# --- busy -------------------------------------------------------------------------------------------
if part busy; then
start_steady_scroll_desktop

# The encode floor: raw frames of the same scene (captured first), encoded by ffmpeg/libx264 with the same
# settings while the two recorders run, so all three see the same machine load.
floor_s=10
ffmpeg -v error -f x11grab -framerate 10 -video_size 1280x800 -i ":$display" -t "$floor_s" -f rawvideo \
  -pix_fmt bgr0 "$tmp/frames.raw"
/usr/bin/time -f "%U %S" -o "$tmp/vg.time" "$vncgate" record "vnc://127.0.0.1:$port" -o "$tmp/vg" -q \
  --duration "$busy_s" --fps 10 --preset veryfast --qp 23 --tune '' --chroma 420 &
vg=$!
(sleep 2; /usr/bin/time -f "%U %S" -o "$tmp/floor.time" ffmpeg -v error -f rawvideo -pix_fmt bgr0 -s 1280x800 \
  -r 10 -i "$tmp/frames.raw" -c:v libx264 -preset veryfast -qp 23 -tune zerolatency -threads 1 -pix_fmt yuv420p \
  -f mp4 -y "$tmp/floor.mp4") &
floor=$!
/usr/bin/time -f "%U %S" -o "$tmp/gst.time" timeout -s INT "$busy_s" gst-launch-1.0 -q -e \
  rfbsrc host=127.0.0.1 port="$port" shared=true ! videorate ! video/x-raw,framerate=10/1 ! videoconvert ! \
  video/x-raw,format=I420 ! x264enc speed-preset=veryfast pass=quant quantizer=23 ! mp4mux ! \
  filesink location="$tmp/gst.mp4" >"$tmp/gst.log" 2>&1 || true
wait "$vg" "$floor"
rm -f "$tmp/frames.raw"

vg_cpu=$(cpu_of "$tmp/vg.time")
gst_cpu=$(cpu_of "$tmp/gst.time")
floor_cpu=$(cpu_of "$tmp/floor.time")
vg_frames=$(python3 -c "import json;print(json.load(open('$tmp/vg/segment-001.json'))['frames'])")
gst_frames="$((busy_s * 10))"  # videorate makes the rate constant
say "== busy console: Xvnc 1280x800, xterm scrolling a line every 50 ms, 10 fps cap, x264 veryfast qp 23, ${busy_s} s"
say "$(printf '%-34s %10s %10s %10s\n' recorder 'cpu s' 'cpu/s' frames)"
say "$(printf '%-34s %10.2f %10.3f %10s\n' 'vncgate record' "$vg_cpu" "$(echo "$vg_cpu / $busy_s" | bc -l)" "$vg_frames")"
say "$(printf '%-34s %10.2f %10.3f %10s\n' 'GStreamer rfbsrc+x264enc+mp4mux' "$gst_cpu" "$(echo "$gst_cpu / $busy_s" | bc -l)" "$gst_frames")"
say "$(printf '%-34s %10.2f %10.3f %10s\n' "ffmpeg libx264 floor (${floor_s} s raw)" "$floor_cpu" "$(echo "$floor_cpu / $floor_s" | bc -l)" "$((floor_s * 10))")"
say "$(printf 'ratio vncgate/GStreamer  = %.2f  (target <= 0.5)\n' "$(echo "$vg_cpu / $gst_cpu" | bc -l)")"
say "$(printf 'ratio vncgate/floor      = %.2f  per frame (target <= 1.1): %.1f ms against %.1f ms\n' \
  "$(echo "($vg_cpu / $vg_frames) / ($floor_cpu / ($floor_s * 10))" | bc -l)" \
  "$(echo "$vg_cpu / $vg_frames * 1000" | bc -l)" "$(echo "$floor_cpu / ($floor_s * 10) * 1000" | bc -l)")"
peers_cleanup
fi

# --- transcript cost ----------------------------------------------------------------------------------
if part transcript; then
# The same busy screen in a bitmap font (misc-fixed 9x15, which the transcriber reads) recorded twice at once,
# with and without the transcript: what reading the console's text adds to a recording (issue: <= 5 %).
display=$(free_display)
port=$((5900 + display))
start "$tmp/xvnc-text.log" Xvnc ":$display" -rfbport "$port" -localhost -SecurityTypes None \
  -geometry 1280x800 -depth 24 -nolisten tcp -AlwaysShared -BlacklistThreshold=100000
wait_port "$port"
DISPLAY=:$display start "$tmp/xterm-text.log" xterm -fn 9x15 -geometry 140x52+0+0 \
  -e sh -c "while :; do ls -l /usr/bin | head -60; sleep 0; done"
sleep 2
# The transcript is read on a thread of its own ("vg-transcript"): its CPU against the rest of the process,
# sampled after a 10 s warm-up (fonts loaded once a process, the grid searched once) for busy_s seconds.
# (The frame copy handed to it, on the encoder thread, is counted in the rest.)
"$vncgate" record "vnc://127.0.0.1:$port" -o "$tmp/tr" -q --duration $((busy_s + 14)) --fps 10 &
tr_pid=$!
ticks() {  # CPU time of the whole process and of its transcript thread, in ns (schedstat: not 10 ms ticks)
  local all=0 text=0 t v
  for t in /proc/"$tr_pid"/task/*; do
    v=$(awk '{print $1}' "$t/schedstat" 2>/dev/null || echo 0)
    all=$((all + v))
    [ "$(cat "$t/comm" 2>/dev/null)" = vg-transcript ] && text=$((text + v))
  done
  echo "$all $text"
}
sleep 10
read -r all0 text0 < <(ticks)
sleep "$busy_s"
read -r all1 text1 < <(ticks)
wait "$tr_pid"
text_cpu=$(echo "($text1 - $text0) / 1000000000" | bc -l)
rest_cpu=$(echo "($all1 - $all0 - $text1 + $text0) / 1000000000" | bc -l)
frames=$(python3 -c "import json;print(sum(json.load(open(f))['frames'] for f in __import__('glob').glob('$tmp/tr/segment-*.json')))")
text_rows=$(cat "$tmp"/tr/segment-*.transcript.jsonl | grep -c '"rows"' || true)
say ""
say "== transcript cost: Xvnc 1280x800, xterm misc-fixed 9x15 scrolling, 10 fps, default encoder, ${busy_s} s"
say "$(printf 'transcript thread %.2f cpu s, the rest of the recording %.2f cpu s: +%.1f %% (target <= 5 %%)\n' \
  "$text_cpu" "$rest_cpu" "$(echo "$text_cpu / $rest_cpu * 100" | bc -l)")"
say "   ($frames frames recorded in all, $text_rows transcript lines of changed rows)"
peers_cleanup
fi

# --- idle -------------------------------------------------------------------------------------------
if part idle; then
guest=$build/guest
[ -s "$guest/vmlinuz" ] || bash "$(dirname "$0")/../scripts/make-guest.sh" "$guest"
display=$(free_display)
port=$((5900 + display))
start "$tmp/qemu.log" qemu-system-x86_64 -accel tcg -m 256 -display none -nic none -vnc "127.0.0.1:$display" \
  -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -serial "file:$tmp/serial.log" -no-reboot \
  -append "console=ttyS0 console=tty0 consoleblank=0 loglevel=1 MODE=text"
for _ in $(seq 1 300); do grep -q ready "$tmp/serial.log" 2>/dev/null && break; sleep 0.1; done
# Steady-state cost of one idle recording: a long run minus a short one (start-up, x264 set-up and the first
# keyframe are paid once).
for len in 10 "$idle_s"; do
  /usr/bin/time -f "%U %S" -o "$tmp/idle-$len.time" "$vncgate" record "vnc://127.0.0.1:$port" -o "$tmp/idle-$len" \
    -q --duration "$len"
done
short=$(cpu_of "$tmp/idle-10.time")
long=$(cpu_of "$tmp/idle-$idle_s.time")
peers_cleanup
# Many idle recordings at once, of an idle desktop (Xvnc serves many clients; one QEMU VNC server drops some
# when dozens connect in the same second).
display=$(free_display)
port=$((5900 + display))
# (TigerVNC blacklists a host after a burst of connections unless told otherwise.)
start "$tmp/xvnc-idle.log" Xvnc ":$display" -rfbport "$port" -localhost -SecurityTypes None -geometry 1024x768 \
  -depth 24 -nolisten tcp -AlwaysShared -BlacklistThreshold=100000
wait_port "$port"
DISPLAY=:$display start "$tmp/xterm-idle.log" xterm -fa Monospace -fs 10 -geometry 120x40+0+0 \
  -e sh -c 'ls -l /usr/bin | head -38; sleep 100000'
sleep 2
many_pids=()
for i in $(seq 1 "$idle_n"); do
  /usr/bin/time -f "%U %S" -o "$tmp/idle-n$i.time" "$vncgate" record "vnc://127.0.0.1:$port" -o "$tmp/idle-n$i" \
    -q --duration 30 --timeout 60 &
  many_pids+=($!)
  sleep 0.05
done
ok=0
for p in "${many_pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
many=$(cat "$tmp"/idle-n*.time | grep -v Command | awk '{s += $1 + $2} END {print s}')
each=$(echo "$many / 30 / $idle_n" | bc -l)
say ""
say "== idle consoles, default settings"
say "$(printf 'one recording (QEMU text console): %.2f cpu s for 10 s, %.2f for %s s -> %.3f %% of a core steady\n' \
  "$short" "$long" "$idle_s" "$(echo "($long - $short) / ($idle_s - 10) * 100" | bc -l)")"
say "$(printf '%s at once (Xvnc 1024x768 desktop), 30 s, %s ok: %.2f cpu s in all = %.3f %% of a core each\n' \
  "$idle_n" "$ok" "$many" "$(echo "$each * 100" | bc -l)")"
say "$(printf '   -> about %d idle recordings fit on 2 cores (target >= 200)\n' "$(echo "2 / $each" | bc -l | cut -d. -f1)")"
fi

# --- convert ----------------------------------------------------------------------------------------
if part convert; then
# Recordings with --fbs converted on one core: how many times faster than real time. Two scenes: an operator
# at a shell (bench/terminal_session.sh: typing, output, pauses; the target's "terminal recording") for
# CONVERT_S seconds, and the worst case, a listing scrolling twice a second, for SECONDS_BUSY. The fixed cost
# (process start, libav and x264 set-up, the first keyframe) is measured apart (--to 1): a 1-hour recording
# pays it once.
convert_one() {  # NAME: converts $tmp/NAME/recording.fbs, prints "length wall fixed"
  /usr/bin/time -f "%e" -o "$tmp/$1.time" taskset -c 0 "$vncgate" convert -q "$tmp/$1/recording.fbs" \
    "$tmp/$1/converted.mp4"
  /usr/bin/time -f "%e" -o "$tmp/$1.fixed" taskset -c 0 "$vncgate" convert -q --to 1 "$tmp/$1/recording.fbs" \
    "$tmp/$1/first-second.mp4"
  echo "$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/$1/converted.mp4") \
$(tail -1 "$tmp/$1.time") $(tail -1 "$tmp/$1.fixed")"
}
convert_report() {  # LABEL "length wall fixed"
  read -r len wall fixed <<<"$2"
  say "$(printf '%s: %.0f s in %.2f s -> %.0fx real time; without the fixed %.2f s: %.0fx\n' "$1" "$len" "$wall" \
    "$(echo "$len / $wall" | bc -l)" "$fixed" "$(echo "$len / ($wall - $fixed + 0.001)" | bc -l)")"
}
convert_s=${CONVERT_S:-180}
peers_cleanup
start_terminal_desktop "$(cd "$(dirname "$0")" && pwd)/terminal_session.sh 18"
"$vncgate" record "vnc://127.0.0.1:$port" -o "$tmp/session" -q --duration "$convert_s" --fbs
peers_cleanup
start_busy_desktop 0.5
"$vncgate" record "vnc://127.0.0.1:$port" -o "$tmp/scroll" -q --duration "$busy_s" --fbs
say ""
say "== convert on one core (1280x800 terminal recordings; target >= 100x for an operator's session)"
session=$(convert_one session)
convert_report "operator session" "$session"
convert_report "listing scrolling twice a second" "$(convert_one scroll)"
# The same session on every core (parts encoded at once, joined: docs/fbs.md §8).
/usr/bin/time -f "%e" -o "$tmp/session-all.time" "$vncgate" convert -q "$tmp/session/recording.fbs" \
  "$tmp/session/all-cores.mp4"
say "$(printf 'operator session on all %d cores: %.2f s -> %.0fx real time\n' "$(nproc)" \
  "$(tail -1 "$tmp/session-all.time")" "$(echo "${session%% *} / $(tail -1 "$tmp/session-all.time")" | bc -l)")"
# Instant seek (docs/fbs.md §7; target: any instant of a 1-hour recording in <= 50 ms): the session's
# checkpoint sidecar rebuilt, then random instants shown with it and a few without.
say ""
say "== seek in the operator session (vncgate_seek_bench; target <= 50 ms at any instant of a 1-hour recording)"
# With s3rver (tests/storage) the thumbnails are timed again from the recording kept only in S3.
s3rver=$(dirname "$0")/../tests/storage/node_modules/.bin/s3rver
seek_storage=()
if [ -x "$s3rver" ]; then
  s3_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  start "$tmp/s3rver.log" "$s3rver" -d "$tmp/s3" -a 127.0.0.1 -p "$s3_port" --no-vhost-buckets
  wait_port "$s3_port"
  seek_storage=(--storage "s3://127.0.0.1:$s3_port?tls=off")
fi
VNCGATE_S3_ACCESS_KEY=S3RVER VNCGATE_S3_SECRET_KEY=S3RVER \
  "$build/bench/vncgate_seek_bench" "$tmp/session/recording.fbs" "${seek_storage[@]}" |
  while read -r line; do say "$line"; done
# The MP4 paths of the same session: a search hit's thumbnail (GET .../segments/{n}/frame?t=: the keyframe
# before t, then forward) and the dashboard player's seek (Chromium: currentTime to 'seeked'), on the segment
# the recorder wrote and on the conversion of the FBS file.
say ""
say "== seek in the session's MP4 files (thumbnail at t; the dashboard player in Chromium)"
for mp4 in segment-001 converted; do
  length=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/session/$mp4.mp4")
  say "$mp4.mp4 ($(du -k "$tmp/session/$mp4.mp4" | cut -f1) KiB, \
$(ffprobe -v error -select_streams v -show_entries packet=flags -of csv=p=0 "$tmp/session/$mp4.mp4" | grep -c K) keyframes):"
  say "  $("$build/bench/vncgate_seek_bench" "$tmp/session/$mp4.mp4" --mp4-length "$length" --samples 100)"
  say "  Chromium seek: $(node "$(dirname "$0")/video_seek.mjs" --file "$tmp/session/$mp4.mp4" --samples 100 |
    /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print("median %.1f ms, p95 %.1f ms, max %.1f ms" % (r["median_ms"], r["p95_ms"], r["max_ms"]) if r["ok"] else "failed: " + r["reason"])')"
done
fi
