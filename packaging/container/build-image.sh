#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make image`: localhost/vncgate:VERSION (and :latest) from the .deb that `make package` built.
#   1. the base: mmdebstrap bookworm from this machine's apt sources (no registry is reachable), with the
#      .deb's runtime dependencies (its Depends: line) and curl for the HEALTHCHECK; `podman import` makes it
#      localhost/vncgate-base:bookworm. Rebuilt only when the dependency list changes.
#   2. podman build of packaging/container/Containerfile: dpkg -i the .deb on that base. No compiler, no apt.
# podman runs with packaging/container/containers.conf (runc, ulimits within this machine's hard limits).
# Usage: packaging/container/build-image.sh DEB_BUILD    (root)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(cd "$1" && pwd)
export CONTAINERS_CONF=$src/packaging/container/containers.conf
deb=$(ls "$out"/vncgate_*.deb | head -1)
# An image tag allows [A-Za-z0-9_.-]: a Debian version's epoch colon, ~ and + become _.
version=$(dpkg-deb -f "$deb" Version | tr -c 'A-Za-z0-9_.\n-' '_')
work=$out/image
mkdir -p "$work"

# "libfoo (>= 1), bar | baz" -> "libfoo,bar": the first of each alternative, without versions.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' |
  grep -v '^$' | sort -u | paste -sd, -)
include="$deps,curl,ca-certificates"
if [ "$(cat "$work/base.include" 2>/dev/null)" != "$include" ] ||
   ! podman image exists localhost/vncgate-base:bookworm; then
  echo "image: base bookworm with $include"
  # Documentation, man pages and locales are left out of the base and of what dpkg installs on it later.
  mmdebstrap --variant=essential --include="$include" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$work/base.tar" > "$work/mmdebstrap.log" 2>&1 ||
    { tail -20 "$work/mmdebstrap.log" >&2; exit 1; }
  podman import --quiet "$work/base.tar" localhost/vncgate-base:bookworm > /dev/null
  rm "$work/base.tar"
  echo "$include" > "$work/base.include"
fi

# The image this build replaces, removed afterwards (by ID, if nothing else uses it) instead of left dangling.
previous=$(podman image inspect --format '{{.Id}}' localhost/vncgate:latest 2>/dev/null || true)
rm -rf "$work/context"
mkdir -p "$work/context"
cp "$src/packaging/container/Containerfile" "$work/context/"
cp "$deb" "$work/context/vncgate.deb"
podman build --quiet --format docker --pull=never -t "localhost/vncgate:$version" -t localhost/vncgate:latest \
  "$work/context" > "$work/podman-build.log" 2>&1 || { tail -30 "$work/podman-build.log" >&2; exit 1; }
current=$(podman image inspect --format '{{.Id}}' localhost/vncgate:latest)
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then podman rmi "$previous" > /dev/null 2>&1 || true; fi
echo "image: localhost/vncgate:$version ($(podman image inspect --format '{{.Size}}' localhost/vncgate:latest |
  awk '{printf "%.0f MB", $1 / 1e6}'))"
