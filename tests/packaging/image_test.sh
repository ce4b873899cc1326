#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make image-test`: the container image from `make image` (root; minutes: not part of `make test`).
#   1. Without an API key the image refuses to start (it binds 0.0.0.0), and it carries no key of its own.
#   2. It runs as packaging/container/compose.yaml runs the vncgate service: the environment `docker-compose
#      config` gives that service (API key, public_url, a PostgreSQL job store with PGPASSWORD), a read-only
#      root file system, /tmp on tmpfs, all capabilities dropped, no-new-privileges, its ulimits. compose's
#      postgres image needs a registry, so a PostgreSQL 15 from Debian runs on the host instead (the URL's
#      host `postgres:5432` becomes it). Podman's default bridge network; the port published on host loopback
#      only; the demo console is an Xvnc on the host listening on the bridge's gateway address only.
#   3. Checks: the process is vncgate, not root; /healthz through the published port; `podman healthcheck run`
#      (the image's HEALTHCHECK); a foreign Host gets 421; the API wants the key; a 2-second job ends done,
#      in PostgreSQL, with a 2-second MP4 in the state volume; SIGTERM (podman stop) exits 0.
# Removes its containers and their volumes; the images stay (make image's).
# Usage: tests/packaging/image_test.sh DEB_BUILD
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
export CONTAINERS_CONF=$src/packaging/container/containers.conf
image=localhost/vncgate:latest
[ "$(id -u)" -eq 0 ] || { echo "image-test: needs root (podman with the bridge network)" >&2; exit 2; }
podman image exists "$image" || { echo "image-test: no $image (make image)" >&2; exit 2; }
for tool in Xvnc curl ffprobe docker-compose setpriv; do
  command -v "$tool" >/dev/null || { echo "image-test: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
peers_tag=image-test
# shellcheck source=../../scripts/lib/peers.sh
source "$src/scripts/lib/peers.sh"
name=vncgate-image-test-$$
remove_containers() { for c in "$name" "$name-nokey"; do podman rm -f -v "$c" > /dev/null 2>&1 || true; done; }
trap 'remove_containers; peers_cleanup; rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  podman logs "$name" 2>&1 | tail -20 >&2 || true
  exit 1
}
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
free_port() { python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"; }
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
# podman's timer for health checks needs systemd as PID 1, which the build machines lack: it logs "unable to
# get systemd connection to add healthchecks" at each start, and the test runs the check itself.
run=(podman run)

"${run[@]}" --rm "$image" test ! -e /etc/vncgate/api-keys || fail "the image carries an API key file"
if "${run[@]}" --name "$name-nokey" "$image" > "$tmp/nokey.log" 2>&1; then fail "the image started without an API key"; fi
grep -q 'api_keys' "$tmp/nokey.log" || { cat "$tmp/nokey.log" >&2; fail "no api_keys error without a key"; }
podman rm -v "$name-nokey" > /dev/null
echo "ok: without an API key the image refuses to start; it carries no key"

network=$(podman network inspect podman)
gateway=$(json '[0]["subnets"][0]["gateway"]' <<< "$network")
subnet=$(json '[0]["subnets"][0]["subnet"]' <<< "$network")
# The bridge (and its gateway address on the host) exists once a container has used it: it has by now.
ip -4 addr | grep -q "inet $gateway/" || fail "no bridge address $gateway on the host"

# The console: an Xvnc on the host, reachable from containers only.
display=$(free_display)
vnc_port=$((5900 + display))
start "$tmp/xvnc.log" Xvnc ":$display" -rfbport "$vnc_port" -interface "$gateway" -SecurityTypes None \
  -geometry 640x480 -depth 24 -nolisten tcp
# The job store: PostgreSQL on the bridge address, password authentication for the containers' subnet.
chmod 0755 "$tmp"
install -d -o postgres -g postgres "$tmp/pg"
pg_password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
echo "$pg_password" > "$tmp/pg/password"
chown postgres "$tmp/pg/password"
as_postgres "$pg_bin/initdb" -D "$tmp/pg/data" -U vncgate --pwfile="$tmp/pg/password" --auth-local=trust \
  --auth-host=scram-sha-256 -E UTF8 --no-sync > "$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; fail initdb; }
echo "host all all $subnet scram-sha-256" >> "$tmp/pg/data/pg_hba.conf"
pg_port=$(free_port "$gateway")
start "$tmp/postgres.log" setpriv --reuid=postgres --regid=postgres --init-groups -- "$pg_bin/postgres" \
  -D "$tmp/pg/data" -c listen_addresses="$gateway" -c port="$pg_port" -c unix_socket_directories="$tmp/pg" \
  -c fsync=off
for _ in $(seq 1 100); do as_postgres "$pg_bin/pg_isready" -q -h "$tmp/pg" -p "$pg_port" && break; sleep 0.1; done
as_postgres "$pg_bin/createdb" -h "$tmp/pg" -p "$pg_port" -U vncgate vncgate || fail "createdb"
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$gateway/$vnc_port") 2>/dev/null && break; sleep 0.05; done
psql() { as_postgres "$pg_bin/psql" -h "$tmp/pg" -p "$pg_port" -U vncgate -d vncgate -tAc "$1"; }

# The vncgate service of compose.yaml: its environment and its run options, as `docker-compose config` has them.
key=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
POSTGRES_PASSWORD=$pg_password VNCGATE_API_KEY=$key docker-compose --project-directory "$tmp" \
  -f "$src/packaging/container/compose.yaml" config > "$tmp/compose.yaml"
mapfile -t compose_args < <(python3 - "$tmp/compose.yaml" "$gateway:$pg_port" <<'EOF'
import sys, yaml
service = yaml.safe_load(open(sys.argv[1]))["services"]["vncgate"]
for name, value in service["environment"].items():
    print(f"--env={name}={str(value).replace('@postgres:5432/', '@' + sys.argv[2] + '/')}")
if service.get("read_only"):
    print("--read-only")
for path in service.get("tmpfs", []):
    print(f"--tmpfs={path}")
for cap in service.get("cap_drop", []):
    print(f"--cap-drop={cap}")
for option in service.get("security_opt", []):
    print(f"--security-opt={option.replace(':true', '')}")
for name, limit in service.get("ulimits", {}).items():
    print(f"--ulimit={name}={limit['soft']}:{limit['hard']}")
EOF
)
# Any --ulimit replaces containers.conf's default_ulimits, and podman's default for processes is above this
# machine's hard limit (containers.conf): keep that one.
compose_args+=(--ulimit=nproc=32768:32768)
printf '%s\n' "${compose_args[@]}" | grep -q -- "--env=VNCGATE_JOBS_DATABASE=postgresql://vncgate@$gateway:$pg_port/" ||
  fail "compose.yaml's vncgate has no PostgreSQL job store: ${compose_args[*]}"

api_port=$(free_port 127.0.0.1)
api=http://127.0.0.1:$api_port
"${run[@]}" -d --name "$name" -p "127.0.0.1:$api_port:8090" "${compose_args[@]}" \
  -e VNCGATE_TARGETS_DEMO="vnc://$gateway:$vnc_port" -e VNCGATE_PROVIDERS_ALLOW="$gateway/32" "$image" > /dev/null
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$api/healthz" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$api/healthz" || fail "/healthz through the published port"
uid=$(podman exec "$name" id -u)
[ "$uid" != 0 ] || fail "the service runs as root"
[ "$(podman exec "$name" id -un)" = vncgate ] || fail "the service does not run as vncgate"
podman healthcheck run "$name" || fail "HEALTHCHECK"
[ "$(podman inspect --format '{{.State.Health.Status}}' "$name")" = healthy ] || fail "not healthy"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: rebind.example' "$api/healthz")
[ "$code" = 421 ] || fail "a foreign Host got $code, not 421"
echo "ok: /healthz on 127.0.0.1:$api_port, runs as vncgate (uid $uid), HEALTHCHECK healthy, foreign Host 421"

auth=(-H "Authorization: Bearer $key")
[ "$(curl -s -o /dev/null -w '%{http_code}' "$api/api/v1/recordings")" = 401 ] || fail "the API answers without a key"
job=$(curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -X POST "$api/api/v1/recordings" \
  -d '{"server": "demo", "duration": 2, "count": 1}' | json '["job_id"]')
state=
for _ in $(seq 1 300); do
  state=$(curl -fsS "${auth[@]}" "$api/api/v1/recordings/$job" | json '["state"]')
  case $state in done | failed | cancelled) break ;; esac
  sleep 0.1
done
[ "$state" = done ] || fail "job $job ended $state"
[ "$(psql "SELECT state FROM jobs WHERE id = '$job'")" = done ] || fail "job $job is not done in PostgreSQL"
mp4=$(podman exec "$name" sh -c 'ls /var/lib/vncgate/recordings/*/segment-001.mp4' | head -1)
[ -n "$mp4" ] || fail "no segment-001.mp4 in the state volume"
podman cp "$name:$mp4" "$tmp/segment.mp4"
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/segment.mp4")
awk -v d="$duration" 'BEGIN {exit !(d >= 1.5 && d <= 2.5)}' || fail "$mp4 lasts $duration s, not 2"
echo "ok: job $job done (PostgreSQL), $mp4 ($(stat -c %s "$tmp/segment.mp4") bytes, $duration s)"

podman stop -t 30 "$name" > /dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
echo "ok: SIGTERM exits 0"
echo "image-test: passed ($image, $(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}'))"
