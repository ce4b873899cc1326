#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make package`: builds OUT/vncgate_VERSION_ARCH.deb with dpkg-buildpackage from packaging/debian, then runs
# lintian on it. The staging tree OUT/vncgate-VERSION holds only debian/; debian/rules builds the source tree
# in OUT/cmake (kept between runs: ninja and ccache make a rebuild take seconds, the first one minutes).
# Usage: packaging/build-deb.sh [OUT]   (default: build-deb)   env: JOBS (2)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/build-deb}" && cd "${1:-$src/build-deb}" && pwd)
version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
cmake_version=$(sed -n 's/^project(vncgate VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
if [ "${version%%-*}" != "$cmake_version" ]; then
  echo "package: debian/changelog says $version, CMakeLists.txt $cmake_version: add a changelog entry" >&2
  exit 1
fi

stage=$out/vncgate-$version
rm -rf "$stage" "$out"/vncgate_"$version"_*
mkdir -p "$stage"
cp -r "$src/packaging/debian" "$stage/debian"
cp "$src/packaging/systemd/vncgate.service" "$stage/debian/vncgate.service"
(
  cd "$stage"
  export VNCGATE_SRC=$src VNCGATE_CMAKE_BUILD=$out/cmake DEB_BUILD_OPTIONS="parallel=${JOBS:-2}"
  dpkg-buildpackage -b -us -uc
) > "$out/build.log" 2>&1 || {
  tail -40 "$out/build.log" >&2
  echo "package: dpkg-buildpackage failed; whole log: $out/build.log" >&2
  exit 1
}
deb=$(ls "$out"/vncgate_"$version"_*.deb)
echo "package: $deb"
# Lintian clean: no error or warning (overrides in packaging/debian/vncgate.lintian-overrides say why).
lintian --fail-on error,warning --display-info "$out"/vncgate_"$version"_*.changes
