#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The packaging files, checked without building a package (seconds; ctest vncgate_packaging_files_test):
#   - the systemd units (vncgate.service, vncgate@api/worker): `systemd-analyze verify`, and
#     `systemd-analyze security --offline=true` rates each at most MAX_EXPOSURE (2.5, "OK")
#     (tests/packaging/package_test.sh verifies the installed units verbatim);
#   - packaging/vncgate.toml (the conffile) loads: `vncgate serve --config … --print-config`;
#   - packaging/prometheus/*.yml: `promtool check rules`;
#   - the man page comes out of help2man without groff warnings;
#   - packaging/container/compose.yaml passes `docker-compose config` (the Compose schema; no daemon needed).
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

# The units as shipped: vncgate.service, and the role template vncgate@.service (derived from it) checked as
# its instances vncgate@api and vncgate@worker. verify needs the ExecStart binary: it reads copies with
# /usr/bin/vncgate replaced by BINARY; security reads the units themselves.
mkdir "$tmp/units" "$tmp/verify"
cp "$src"/packaging/systemd/*.service "$tmp/units/"
"$src/packaging/systemd/make-role-unit.sh" "$src/packaging/systemd/vncgate.service" "$tmp/units/vncgate@.service"
for file in "$tmp"/units/*.service; do
  sed "s|^ExecStart=/usr/bin/vncgate |ExecStart=$binary |" "$file" > "$tmp/verify/$(basename "$file")"
  grep -q "^ExecStart=$binary " "$tmp/verify/$(basename "$file")" || fail "$(basename "$file"): no ExecStart=/usr/bin/vncgate"
done
for name in vncgate.service vncgate@api.service vncgate@worker.service; do
  unit=$tmp/units/$name
  systemd-analyze verify --man=no "$tmp/verify/$name" > "$tmp/verify.txt" 2>&1 || {
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

# The conffile names the key file postinst generates (/etc/vncgate/api-keys): here a copy names a test one.
grep -q '^api_keys_file = "/etc/vncgate/api-keys"$' "$src/packaging/vncgate.toml" ||
  fail "the conffile does not name /etc/vncgate/api-keys (postinst generates it)"
printf '# test\ntest-key-0123456789\n' > "$tmp/api-keys"
sed "s|^api_keys_file = .*|api_keys_file = \"$tmp/api-keys\"|" "$src/packaging/vncgate.toml" > "$tmp/vncgate.toml"
"$binary" serve --config "$tmp/vncgate.toml" --print-config > "$tmp/config.txt" ||
  fail "packaging/vncgate.toml does not load"
grep -q '^bind = "127.0.0.1"' "$tmp/config.txt" || fail "the conffile's default bind is not loopback"
grep -q '^api_keys = \[' "$tmp/config.txt" || fail "the conffile's key file gives no api_keys"
echo "ok: packaging/vncgate.toml loads, binds loopback, reads its API key file"

for rules in "$src"/packaging/prometheus/*.yml; do
  promtool check rules "$rules" || fail "$rules"
done

# Placeholder secrets: the file refuses to load without them (`${VAR:?…}`).
POSTGRES_PASSWORD=placeholder VNCGATE_API_KEY=placeholder docker-compose --project-directory "$tmp" \
  -f "$src/packaging/container/compose.yaml" config > "$tmp/compose.txt" || fail "compose.yaml: docker-compose config"
grep -q 'VNCGATE_SERVER_API_KEYS: placeholder' "$tmp/compose.txt" || fail "compose.yaml: vncgate gets no API key"
echo "ok: compose.yaml passes docker-compose config"

"$src/packaging/make-manpage.sh" "$binary" "$tmp/vncgate.1"
warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$tmp/vncgate.1" 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "man page: $warnings"
grep -q '^\.SS "vncgate serve"' "$tmp/vncgate.1" || fail "man page lacks the serve subcommand"
echo "ok: vncgate.1 ($(wc -l < "$tmp/vncgate.1") lines) has no groff warnings"
