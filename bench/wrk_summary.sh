# SPDX-License-Identifier: Apache-2.0
# Sourced by the benchmarks that drive the API with wrk (bench/service.sh, bench/fleet.sh).
# wrk_summary LABEL FILE: one line of requests/s, latency percentiles and non-2xx answers from wrk --latency output.
wrk_summary() {
  awk -v what="$1" '
    /Requests\/sec/ {rps = $2}
    /^ +50%/ {p50 = $2} /^ +90%/ {p90 = $2} /^ +99%/ {p99 = $2}
    /Non-2xx/ {bad = $NF}
    END {printf "%-16s %9s req/s   p50 %8s   p90 %8s   p99 %8s   non-2xx %s\n", what, rps, p50, p90, p99, bad ? bad : 0}' \
    "$2"
}
