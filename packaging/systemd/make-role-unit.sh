#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vncgate@.service, the unit per role (`vncgate@api`, `vncgate@worker`: `serve --role %i`, docs/operations.md),
# derived from vncgate.service so that the two units cannot drift apart: the same sandbox, readiness and
# reload; it conflicts with the all-in-one unit. Used by packaging/debian/rules and tests/packaging.
# Usage: packaging/systemd/make-role-unit.sh vncgate.service OUT
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 vncgate.service OUT" >&2; exit 2; }
sed -e 's|^Description=.*|& (role %i)|' \
    -e 's|^ExecStart=/usr/bin/vncgate serve .*|& --role %i|' \
    -e 's|^After=.*|&\nConflicts=vncgate.service|' \
    -e 's|^# `vncgate serve` as a hardened systemd service|# `vncgate serve --role %i` (vncgate@api, vncgate@worker; generated from vncgate.service) as a hardened service|' "$1" > "$2"
grep -q -- '--role %i$' "$2" && grep -q '^Conflicts=vncgate.service' "$2" || { echo "$0: could not derive $2" >&2; exit 1; }
