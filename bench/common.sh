# SPDX-License-Identifier: Apache-2.0
# What the whole-program benchmarks share. Source it first thing (after `set -euo pipefail`), with the script's
# own arguments: it checks the one argument (BUILD) and sets
#   build    the build directory (absolute),
#   vncgate  its CLI (VNCGATE: another build's, for before/after comparisons),
# and sources scripts/lib/peers.sh (start, wait_port, …; the PIDs started here are killed at exit). Then:
#   bench_need TOOL…   exits 2 naming the first tool that is missing;
#   bench_report NAME  BUILD/bench/NAME.txt, emptied, is where `say` writes;
#   say LINE…          prints to stdout and to the report.
if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
vncgate=${VNCGATE:-$build/src/cli/vncgate}
peers_tag=${peers_tag:-bench}
# shellcheck source=../scripts/lib/peers.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/peers.sh"

bench_need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing (scripts/install-deps.sh, make build)" >&2; exit 2; }
  done
}
bench_report() {
  mkdir -p "$build/bench"
  report=$build/bench/$1.txt
  : > "$report"
}
say() { echo "$*" | tee -a "$report"; }

# True when measurement $1 is among the script's $parts (" busy idle "; set from PARTS by the script).
part() { [[ $parts == *" $1 "* ]]; }
