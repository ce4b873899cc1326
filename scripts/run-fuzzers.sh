#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target of a VNCGATE_FUZZ=ON build for SECONDS each, one after the other, on a copy of
# its committed seed corpus (tests/fuzz/corpus/<target>, which stays untouched) plus the committed crash
# reproducers (tests/fuzz/regressions/<target>, read-only: a regression that still crashes fails at once).
# Exits non-zero when any target crashes, leaks, times out or runs out of memory; reproducers land in
# BUILD/fuzz-work/artifacts/<target>/ and the logs in BUILD/fuzz-work/logs/<target>.log.
#
# Usage: scripts/run-fuzzers.sh BUILD SECONDS [TARGET...]
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD SECONDS [TARGET...]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/tests/fuzz
work=$build/fuzz-work

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(find "$bin" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x -printf '%f\n' | sort)
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run-fuzzers: no fuzz targets in $bin (configure with -DVNCGATE_FUZZ=ON and build first)" >&2
  exit 2
fi

# UBSan findings must stop the run (the build does not make them fatal by itself).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}

failed=()
summary=()
mkdir -p "$work/logs"
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "run-fuzzers: $bin/$t missing" >&2; failed+=("$t"); continue; }
  corpus=$work/corpus/$t
  artifacts=$work/artifacts/$t
  log=$work/logs/$t.log
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  [ -d "$src/tests/fuzz/corpus/$t" ] && cp -r "$src/tests/fuzz/corpus/$t/." "$corpus/"
  dirs=("$corpus")
  [ -d "$src/tests/fuzz/regressions/$t" ] && dirs+=("$src/tests/fuzz/regressions/$t")
  echo "== $t: ${seconds}s on $(find "${dirs[@]}" -type f | wc -l) seed files"
  rc=0
  "$bin/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dirs[@]}" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  found=$(find "$artifacts" -type f | wc -l)
  line="$t: exit $rc, ${execs:-?} executions, ${cov:-no coverage line}, corpus $(find "$corpus" -type f | wc -l) files"
  if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
    line="$line, FAILED ($found artifacts in $artifacts; log $log)"
    failed+=("$t")
    grep -E -m1 -A30 '^==[0-9]+==ERROR|runtime error|invariant broken|contract broken|Deadly signal' "$log" || tail -40 "$log"
  fi
  echo "$line"
  summary+=("$line")
done

echo
echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run-fuzzers: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
