# SPDX-License-Identifier: Apache-2.0
# Shared by scripts that start real VNC peers (bench/run.sh, tests/fuzz/capture_seeds.sh). Source it; it
# creates $tmp and the pids array, and on EXIT kills exactly the PIDs it started and removes $tmp.
# Set peers_tag (used in messages) before sourcing.
tmp=$(mktemp -d)
pids=()
peers_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'peers_cleanup; rm -rf "$tmp"' EXIT

# Starts a command in the background with its own PID recorded (exec: $! is the command, not a subshell).
start() {
  local log=$1
  shift
  (exec "$@" >"$log" 2>&1 </dev/null) &
  pids+=($!)
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  local i
  for i in $(seq 1 200); do
    port_free "$1" || return 0
    sleep 0.05
  done
  echo "${peers_tag:-peers}: nothing listens on port $1" >&2
  return 1
}
# A display number N in 40..99 with no X lock/socket and ports 5900+N and 6900+N free; prints N.
free_display() {
  local n
  for n in $(seq 40 99); do
    if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ] && port_free $((5900 + n)) &&
       port_free $((6900 + n)); then
      echo "$n"
      return
    fi
  done
  return 1
}
