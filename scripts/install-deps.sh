#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package the build, tests and benchmarks use. Idempotent: does nothing when all
# packages are present already.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang lld libclang-rt-14-dev clang-format clang-tidy
  libboost1.81-dev libssl-dev zlib1g-dev libisal-dev libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev nlohmann-json3-dev
  libspdlog-dev libfmt-dev libsqlite3-dev libpq-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libyaml-dev
  libtomlplusplus-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libyuv-dev
  # real peers for integration tests and benchmarks
  qemu-system-x86 busybox-static tigervnc-standalone-server tigervnc-tools x11vnc xvfb xterm xfonts-base
  x11-utils x11-apps x11-xserver-utils imagemagick websockify curl libvncserver-dev socat netcat-openbsd time
  # console text (src/text): glyphs from the VGA BIOS QEMU loads, the Linux console fonts (also copied into
  # the test guest), X misc-fixed (xfonts-base above)
  seabios console-setup-linux kbd
  # recordings: ffprobe/ffmpeg decode what we wrote; GStreamer rfbsrc + x264enc is the benchmark peer
  bc ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly
  # service benchmark (bench/service.sh): HTTP load generator
  wrk
  # job store: a real PostgreSQL 15 (initdb/pg_ctl as an unprivileged user) for its tests and benchmark;
  # nginx (light) as the round-robin load balancer in front of three nodes (tests/integration/cluster_sessions_test)
  postgresql nginx-light
  # providers: real Keystone (SQLite, uwsgi); node runs the Nova/Proxmox emulators (tests/emulators, no npm
  # packages); openssl makes their test certificates
  python3-keystone uwsgi-plugin-python3 python3-openstackclient sqlite3 nodejs openssl
  # docs: tests/docs/check_openapi.py reads docs/openapi.yaml
  python3-yaml
  # web: noVNC is vendored into the web root at build time (web/CMakeLists.txt); chromium runs the Playwright
  # checks of tests/web
  novnc chromium
  # packaging (make package, tests/packaging): the .deb, its man page and lint; systemd-analyze for the units,
  # promtool for the alert rules
  debhelper help2man lintian systemd prometheus
  # container image (make image, tests/packaging/image_test.sh): a local base and podman with runc;
  # docker-compose checks compose.yaml against the Compose schema (config needs no daemon)
  mmdebstrap podman runc docker-compose
)
# Storage and web tests: npm installs s3rver, the minio client and playwright-core (tests/*/package-lock.json). Debian's nodejs
# comes without npm; a NodeSource nodejs bundles it and conflicts with Debian's npm package, so ask only when
# there is none.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 \
    "${missing[@]}" >/dev/null
fi

# npm packages of the node test folders (storage: s3rver + minio; web: playwright-core), pinned by their lock
# files. A stamp with the lock file's hash makes each a no-op until its lock file changes.
root="$(cd "$(dirname "$0")/.." && pwd)"
for node_dir in "$root/tests/storage" "$root/tests/web"; do
  lock_hash="$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$node_dir/node_modules/.vncgate-lock-sha256" 2>/dev/null)" != "$lock_hash" ]; then
    echo "install-deps: npm ci in $node_dir"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$lock_hash" > "$node_dir/node_modules/.vncgate-lock-sha256"
  fi
done
