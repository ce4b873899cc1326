#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the ThreadSanitizer build's tests: the unit tests, then the given integration tests (each runs TSan
# builds of `vncgate serve` / `vncgate proxy` against real consoles). Every process writes its reports to
# BUILD/tsan-logs/ (a test can pass while a child process reported a race): any report fails the run.
# Usage: scripts/run-tsan-tests.sh BUILD TEST...
set -euo pipefail
build=$(cd "$1" && pwd)
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
logs="$build/tsan-logs"
rm -rf "$logs"
mkdir -p "$logs"
export TSAN_OPTIONS="log_path=$logs/report second_deadlock_stack=1 suppressions=$repo/tsan.supp"

status=0
(cd "$build" && ctest --output-on-failure -L unit -j 2) || status=1
pattern="^($(IFS='|'; echo "$*"))\$"
(cd "$build" && ctest --output-on-failure -R "$pattern" -j 1 --timeout 900) || status=1

reports=("$logs"/report*)
if [[ -e "${reports[0]}" ]]; then
  echo "Sanitizers reported ${#reports[@]} process(es) with warnings:" >&2
  for r in "${reports[@]}"; do
    echo "== $r" >&2
    head -n 60 "$r" >&2
  done
  status=1
else
  echo "ThreadSanitizer: no reports"
fi
exit $status
