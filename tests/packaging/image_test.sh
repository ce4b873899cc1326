#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make image-test`: the container image from `make image` (root; minutes: not part of `make test`).
# Runs it as the Containerfile says (configuration by environment, an API key, the port published on host
# loopback only) with podman's default bridge network; the demo console is an Xvnc on the host listening on
# the bridge's gateway address only. Checks: the process is not root, /healthz through the published port,
# `podman healthcheck run` (the image's HEALTHCHECK), a 2-second job ends done with a 2-second MP4 in the
# state volume, and SIGTERM (podman stop) exits 0. Removes its container and volume.
# Usage: tests/packaging/image_test.sh DEB_BUILD
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
export CONTAINERS_CONF=$src/packaging/container/containers.conf
image=localhost/vncgate:latest
[ "$(id -u)" -eq 0 ] || { echo "image-test: needs root (podman with the bridge network)" >&2; exit 2; }
podman image exists "$image" || { echo "image-test: no $image (make image)" >&2; exit 2; }
peers_tag=image-test
# shellcheck source=../../scripts/lib/peers.sh
source "$src/scripts/lib/peers.sh"
name=vncgate-image-test-$$
trap 'podman rm -f -v "$name" >/dev/null 2>&1 || true; peers_cleanup; rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  podman logs "$name" 2>&1 | tail -20 >&2 || true
  exit 1
}
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

gateway=$(podman network inspect podman | json '[0]["plugins"][0]["ipam"]["ranges"][0][0]["gateway"]' 2>/dev/null ||
  podman network inspect podman | json '[0]["subnets"][0]["gateway"]')
# The bridge (and its gateway address on the host) exists once a container has used it.
ip -4 addr | grep -q "inet $gateway/" || podman run --rm "$image" true
display=$(free_display)
vnc_port=$((5900 + display))
start "$tmp/xvnc.log" Xvnc ":$display" -rfbport "$vnc_port" -interface "$gateway" -SecurityTypes None \
  -geometry 640x480 -depth 24 -nolisten tcp
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$gateway/$vnc_port") 2>/dev/null && break; sleep 0.05; done
api_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
api=http://127.0.0.1:$api_port
key=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')

podman run -d --name "$name" -p "127.0.0.1:$api_port:8090" -e VNCGATE_SERVER_API_KEYS="$key" \
  -e VNCGATE_TARGETS_DEMO="vnc://$gateway:$vnc_port" -e VNCGATE_PROVIDERS_ALLOW="$gateway/32" "$image" > /dev/null
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$api/healthz" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$api/healthz" || fail "/healthz through the published port"
uid=$(podman exec "$name" id -u)
[ "$uid" != 0 ] || fail "the service runs as root"
[ "$(podman exec "$name" id -un)" = vncgate ] || fail "the service does not run as vncgate"
podman healthcheck run "$name" || fail "HEALTHCHECK"
echo "ok: /healthz on 127.0.0.1:$api_port, runs as vncgate (uid $uid), HEALTHCHECK healthy"

auth=(-H "Authorization: Bearer $key")
[ "$(curl -s -o /dev/null -w '%{http_code}' "$api/api/v1/recordings")" = 401 ] || fail "the API answers without a key"
job=$(curl -fsS "${auth[@]}" -X POST "$api/api/v1/recordings" -d '{"server": "demo", "duration": 2, "count": 1}' |
  json '["job_id"]')
state=
for _ in $(seq 1 300); do
  state=$(curl -fsS "${auth[@]}" "$api/api/v1/recordings/$job" | json '["state"]')
  case $state in done | failed | cancelled) break ;; esac
  sleep 0.1
done
[ "$state" = done ] || fail "job $job ended $state"
mp4=$(podman exec "$name" sh -c 'ls /var/lib/vncgate/recordings/*/segment-001.mp4' | head -1)
[ -n "$mp4" ] || fail "no segment-001.mp4 in the state volume"
podman cp "$name:$mp4" "$tmp/segment.mp4"
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/segment.mp4")
awk -v d="$duration" 'BEGIN {exit !(d >= 1.5 && d <= 2.5)}' || fail "$mp4 lasts $duration s, not 2"
echo "ok: job $job done, $mp4 ($(stat -c %s "$tmp/segment.mp4") bytes, $duration s)"

podman stop -t 30 "$name" > /dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
echo "ok: SIGTERM exits 0"
echo "image-test: passed"
