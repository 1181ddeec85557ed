#!/usr/bin/env bash
# ab-tracing.sh: what tracing costs on the INSERT path, with tracing on and off measured inside
# one server process, within the same seconds.
#
# compare-tracing.sh starts a server per configuration in turn; on a shared machine the rate
# swings by 20-40% from one minute to the next, more than the few percent being measured. Here
# each configuration's server runs with [logging.traces] ab_period_ms = PERIOD_MS (default
# 250): tracing is on for one period, off for the next, and so on, and /metrics counts the
# requests begun in the second half of each traced and each untraced period (the first half is
# left out, so that work a traced period leaves behind, such as the export of its traces, is
# not counted against the untraced one). Each wrk run lasts a whole number of on/off cycles, so
# both phases are counted for the same time, and the ratio of the two counts is the throughput
# ratio, tracing on against off.
#
# Configurations (as in compare-tracing.sh): store export export-http dead. Workloads (wrk,
# keep-alive, Basic auth): single-row INSERT on 1 connection, and into an AUTO_INCREMENT table
# on 10 connections. Prints, per configuration and workload, the median over the rounds of the
# on/off ratio (and its range), and the median rates of both phases.
#
# Usage: [CONFIGS="store dead ..."] [PERIOD_MS=250] bench/ab-tracing.sh [--rounds N]
#        [--seconds S] [--markdown]     (S: whole seconds; PERIOD_MS must divide 500 * S)
# Needs: a release build, wrk, node with tests/otlp-receiver's packages (for export). Stops
# everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
seconds=10
markdown=0
usage="[--rounds N] [--seconds S] [--markdown]"
source bench/options.sh
parse_bench_options "$@"
period_ms=${PERIOD_MS:-250}
if ((period_ms <= 0 || (500 * seconds) % period_ms != 0)); then
  echo "PERIOD_MS ($period_ms) must divide 500 x --seconds ($seconds): whole on/off cycles" >&2
  exit 64
fi

source bench/tracing_setup.sh
tracing_setup ab-tracing 18198
configs=(${CONFIGS:-store export dead})
for config in "${configs[@]}"; do
  [[ $config =~ ^(store|export|export-http|dead)$ ]] ||
    { echo "unknown configuration $config (store export export-http dead)" >&2; exit 64; }
done
[[ " ${configs[*]} " == *" export"* ]] && start_receiver
SERVER_ENV="${SERVER_ENV:-} KALAMDB_TRACES_AB_PERIOD_MS=$period_ms"

# "traced untraced" request counts from /metrics.
ab_counts() {
  curl -sf "http://127.0.0.1:$port/metrics" | awk '
    /^kalamdb_traces_ab_traced_requests_total / {t = $2}
    /^kalamdb_traces_ab_untraced_requests_total / {u = $2}
    END {printf "%d %d\n", t, u}'
}

workloads=(single parallel)
titles=("single-row, 1 connection" "single-row, 10 connections")
declare -A ratios on_rates off_rates
for round in $(seq "$rounds"); do
  for config in "${configs[@]}"; do
    start_server "$config"
    line="round $round $config:"
    for w in "${workloads[@]}"; do
      connections=1
      [[ $w == parallel ]] && connections=10
      read -r t0 u0 < <(ab_counts)
      wrk -t1 -c"$connections" -d"${seconds}s" -s "$work/$w.lua" "http://127.0.0.1:$port/" |
        wrk_rate >/dev/null
      read -r t1 u1 < <(ab_counts)
      # Each phase was counted for a quarter of the run (half of each of its periods).
      on=$(((t1 - t0) * 4 / seconds))
      off=$(((u1 - u0) * 4 / seconds))
      ((off > 0)) || { echo "no untraced requests counted ($config $w)" >&2; exit 1; }
      ratio=$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')
      ratios[$config.$w]+="$ratio "
      on_rates[$config.$w]+="$on "
      off_rates[$config.$w]+="$off "
      line+=" $w on $on/s off $off/s ($ratio)"
    done
    stop_server
    echo "$line" >&2
  done
done

range() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {print lo "-" hi}'; }
if ((markdown)); then
  header="| configuration |"
  rule="|---|"
  for t in "${titles[@]}"; do
    header+=" $t: on / off | ratio (range) |"
    rule+="---:|---:|"
  done
  echo "$header"
  echo "$rule"
fi
for config in "${configs[@]}"; do
  row="| $config |"
  text=$(printf '%-12s' "$config")
  for w in "${workloads[@]}"; do
    r=$(echo "${ratios[$config.$w]}" | median)
    span=$(echo "${ratios[$config.$w]}" | range)
    on=$(echo "${on_rates[$config.$w]}" | median)
    off=$(echo "${off_rates[$config.$w]}" | median)
    row+=" $on/s / $off/s | $r ($span) |"
    text+=$(printf ' %8s %-13s (on %s/s, off %s/s)' "$w" "$r" "$on" "$off")
  done
  if ((markdown)); then echo "$row"; else echo "$text"; fi
done
echo "(medians of $rounds rounds of ${seconds}s per workload, tracing alternating every" \
  "${period_ms} ms inside each server)" >&2
