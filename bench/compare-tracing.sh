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
# Usage: bench/compare-tracing.sh [--rounds N] [--seconds S] [--markdown]
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

declare -A results
configs=(${CONFIGS:-off store export dead})  # CONFIGS="off store" runs a subset
for round in $(seq "$rounds"); do
  for config in "${configs[@]}"; do
    start_server "$config"
    single=$(wrk -t1 -c1 -d"${seconds}s" -s "$work/single.lua" "http://127.0.0.1:$port/" | wrk_rate)
    parallel=$(wrk -t1 -c10 -d"${seconds}s" -s "$work/parallel.lua" "http://127.0.0.1:$port/" | wrk_rate)
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
    results[$config.single]+="$single "
    results[$config.parallel]+="$parallel "
    echo "round $round $config: single $single/s, parallel $parallel/s$exported" >&2
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A med
for config in "${configs[@]}"; do
  for w in single parallel; do med[$config.$w]=$(echo "${results[$config.$w]}" | median); done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

if ((markdown)); then
  echo "| configuration | single-row, 1 connection | ratio to off | single-row, 10 connections | ratio to off |"
  echo "|---|---:|---:|---:|---:|"
else
  printf '%-8s %12s %8s %12s %8s\n' config single ratio parallel ratio
fi
for config in "${configs[@]}"; do
  s=${med[$config.single]}
  p=${med[$config.parallel]}
  rs=$(ratio "$s" "${med[off.single]}")
  rp=$(ratio "$p" "${med[off.parallel]}")
  if ((markdown)); then
    echo "| $config | $s/s | $rs | $p/s | $rp |"
  else
    printf '%-8s %10s/s %8s %10s/s %8s\n' "$config" "$s" "$rs" "$p" "$rp"
  fi
done
echo "(medians of $rounds rounds x ${seconds}s each; rounds alternate off, store, export, dead)" >&2
