#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The packaging files, checked without building a package (seconds; ctest vncgate_packaging_files_test):
#   - packaging/systemd/*.service: `systemd-analyze verify`, and `systemd-analyze security --offline=true`
#     rates each unit at most MAX_EXPOSURE (2.5, "OK"). verify needs the ExecStart binary: the unit is checked
#     as shipped, with only /usr/bin/vncgate replaced by BINARY (tests/packaging/package_test.sh verifies the
#     installed unit verbatim);
#   - packaging/vncgate.toml (the conffile) loads: `vncgate serve --config … --print-config`;
#   - packaging/prometheus/*.yml: `promtool check rules`;
#   - the man page comes out of help2man without groff warnings.
# Usage: tests/packaging/check_packaging.sh SOURCE_DIR BINARY
set -euo pipefail
src=$1
binary=$(realpath "$2")
max_exposure=${MAX_EXPOSURE:-2.5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

for unit in "$src"/packaging/systemd/*.service; do
  name=$(basename "$unit")
  sed "s|/usr/bin/vncgate |$binary |" "$unit" > "$tmp/$name"
  grep -q "^ExecStart=$binary " "$tmp/$name" || fail "$name: no ExecStart=/usr/bin/vncgate"
  systemd-analyze verify --man=no "$tmp/$name" > "$tmp/verify.txt" 2>&1 || {
    cat "$tmp/verify.txt" >&2
    fail "$name: systemd-analyze verify"
  }
  [ -s "$tmp/verify.txt" ] && { cat "$tmp/verify.txt" >&2; fail "$name: systemd-analyze verify warned"; }
  systemd-analyze security --offline=true --no-pager "$unit" > "$tmp/security.txt" 2>&1 || true
  exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security.txt")
  [ -n "$exposure" ] || { cat "$tmp/security.txt" >&2; fail "$name: no exposure level"; }
  awk -v e="$exposure" -v m="$max_exposure" 'BEGIN {exit !(e <= m)}' ||
    { grep '✗' "$tmp/security.txt" >&2; fail "$name: exposure $exposure > $max_exposure"; }
  echo "ok: $name verifies; exposure $exposure (at most $max_exposure)"
done

"$binary" serve --config "$src/packaging/vncgate.toml" --print-config > "$tmp/config.txt" ||
  fail "packaging/vncgate.toml does not load"
grep -q '^bind = "127.0.0.1"' "$tmp/config.txt" || fail "the conffile's default bind is not loopback"
echo "ok: packaging/vncgate.toml loads, binds loopback"

for rules in "$src"/packaging/prometheus/*.yml; do
  promtool check rules "$rules" || fail "$rules"
done

"$src/packaging/make-manpage.sh" "$binary" "$tmp/vncgate.1"
warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$tmp/vncgate.1" 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "man page: $warnings"
grep -q '^\.SS "vncgate serve"' "$tmp/vncgate.1" || fail "man page lacks the serve subcommand"
echo "ok: vncgate.1 ($(wc -l < "$tmp/vncgate.1") lines) has no groff warnings"
