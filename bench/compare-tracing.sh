#!/usr/bin/env bash
# compare-tracing.sh: what tracing costs on the INSERT path, side by side in one run.
#
# Four server configurations, each run in turn (A B C D A B C D ...) so that machine noise hits
# them alike:
#   off     [logging.traces] enabled = false: nothing is recorded
#   store   100% of requests traced into the server's own store (the shipped default), no OTLP
#   export  100% of requests traced into the store and exported over OTLP/gRPC to a live
#           receiver (tests/otlp-receiver --count-only: it accepts and counts, keeps nothing)
#   dead    100% traced, exporting to an endpoint where nothing listens
# Workloads (wrk, keep-alive, Basic auth): single-row INSERT on 1 connection, and single-row
# INSERT into an AUTO_INCREMENT table on 10 connections. Prints the median rate of each and the
# ratios to "off".
#
# The server runs with one worker (WORKERS=1; override with WORKERS=N): with two, whether wrk's
# 10 connections land on one worker or spread over both depends on the worker's load at the
# moment they connect (http: lowest-numbered worker under half load), and two busy workers
# plus wrk on two cores run ~40% slower than one: that placement coin flip, not tracing,
# would decide the comparison.
#
# Usage: [CONFIGS="off store ..."] [CLIENT=wrk|kalam] bench/compare-tracing.sh [--rounds N]
#        [--seconds S] [--markdown]   (configurations: off store export export-http dead)
# Needs: a release build (build/release/kalamdb-server), wrk, node with tests/otlp-receiver's
# packages (npm ci there). Stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
seconds=5
markdown=0
usage="[--rounds N] [--seconds S] [--markdown]"
source bench/options.sh
parse_bench_options "$@"

source bench/tracing_setup.sh
tracing_setup compare-tracing 18191
start_receiver  # for the "export" configuration

# CLIENT=kalam measures with the product's own benchmark instead of wrk: `kalam bench insert
# --duration S` (single-row, 100-row batches, 10 parallel workers; its client runs on the same
# two cores too).
client=${CLIENT:-wrk}
case $client in
  wrk)
    workloads=(single parallel)
    titles=("single-row, 1 connection" "single-row, 10 connections")
    ;;
  kalam)
    kalam=build/release/kalam
    [[ -x $kalam ]] || { echo "build the release preset first (./dev.sh build)" >&2; exit 1; }
    workloads=(single batched parallel)
    titles=("single-row (rows/s)" "100-row batches (rows/s)" "10 parallel workers (rows/s)")
    ;;
  *) echo "CLIENT is wrk or kalam" >&2; exit 64 ;;
esac
# rows_per_sec of one workload in kalam bench's --json output.
kalam_rate() {
  grep -o "\"$1\":{[^}]*}" "$work/bench.json" | grep -o '"rows_per_sec":[0-9.]*' |
    awk -F: '{printf "%d", $2}'
}

declare -A results
configs=(${CONFIGS:-off store export dead})  # CONFIGS="off store" runs a subset
for round in $(seq "$rounds"); do
  for config in "${configs[@]}"; do
    start_server "$config"
    declare -A rate_of=()
    if [[ $client == wrk ]]; then
      rate_of[single]=$(wrk -t1 -c1 -d"${seconds}s" -s "$work/single.lua" "http://127.0.0.1:$port/" | wrk_rate)
      rate_of[parallel]=$(wrk -t1 -c10 -d"${seconds}s" -s "$work/parallel.lua" "http://127.0.0.1:$port/" | wrk_rate)
    else
      "$kalam" bench insert --url "http://127.0.0.1:$port" -p "$password" --duration "$seconds" \
        --json "$work/bench.json" >/dev/null
      for w in "${workloads[@]}"; do rate_of[$w]=$(kalam_rate "$w"); done
    fi
    exported=""
    if [[ $config == export* ]]; then  # what really left: exported vs dropped spans
      sleep 1  # one more export interval
      exported=$(curl -s "http://127.0.0.1:$port/metrics" | awk '
        /^kalamdb_otlp_exported_spans_total / {e = $2}
        /^kalamdb_otlp_dropped_spans_total / {d = $2}
        /^kalamdb_otlp_dropped_traces_total / {t = $2}
        END {printf " (exported %d spans, dropped %d spans + %d traces)", e, d, t}')
    fi
    stop_server
    line="round $round $config:"
    for w in "${workloads[@]}"; do
      results[$config.$w]+="${rate_of[$w]} "
      line+=" $w ${rate_of[$w]}/s"
    done
    echo "$line$exported" >&2
  done
done

declare -A med
for config in "${configs[@]}"; do
  for w in "${workloads[@]}"; do med[$config.$w]=$(echo "${results[$config.$w]}" | median); done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

if ((markdown)); then
  header="| configuration |"
  rule="|---|"
  for t in "${titles[@]}"; do
    header+=" $t | ratio to off |"
    rule+="---:|---:|"
  done
  echo "$header"
  echo "$rule"
else
  printf '%-12s' config
  for w in "${workloads[@]}"; do printf ' %12s %8s' "$w" ratio; done
  printf '\n'
fi
for config in "${configs[@]}"; do
  if ((markdown)); then
    row="| $config |"
    for w in "${workloads[@]}"; do
      row+=" ${med[$config.$w]}/s | $(ratio "${med[$config.$w]}" "${med[off.$w]}") |"
    done
    echo "$row"
  else
    printf '%-12s' "$config"
    for w in "${workloads[@]}"; do
      printf ' %10s/s %8s' "${med[$config.$w]}" "$(ratio "${med[$config.$w]}" "${med[off.$w]}")"
    done
    printf '\n'
  fi
done
echo "(medians of $rounds rounds x ${seconds}s each; rounds alternate ${configs[*]}; client $client)" >&2
