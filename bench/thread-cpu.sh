#!/usr/bin/env bash
# thread-cpu.sh: where the CPU goes, per server thread, per request, under single-row INSERTs
# on 10 connections (wrk), for one tracing configuration of compare-tracing.sh:
#   off | store | export (to tests/otlp-receiver --count-only, at idle priority) |
#   export-http (the same over OTLP/HTTP) | dead
# For each named server thread (kalam-http-N, kalam-traces, kalam-otlp, ...; unnamed ones
# are RocksDB's and gRPC's), and for wrk and the receiver: CPU seconds over the run, the share
# of one core, and microseconds per request. The rate alone cannot say whether the worker,
# the exporter or the receiver took the time; this can. One worker, as compare-tracing.sh.
#
# Usage: bench/thread-cpu.sh off|store|export|export-http|dead [--seconds S]
# Needs: a release build, wrk, and for export node with tests/otlp-receiver's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

config=${1:-}
[[ $config =~ ^(off|store|export|export-http|dead)$ ]] ||
  { echo "usage: $0 off|store|export|export-http|dead [--seconds S]" >&2; exit 64; }
shift
rounds=1
seconds=5
usage="off|store|export|export-http|dead [--seconds S]"
source bench/options.sh
parse_bench_options "$@"

source bench/tracing_setup.sh
tracing_setup thread-cpu 18192
[[ $config == export* ]] && start_receiver
start_server "$config"

ticks_per_s=$(getconf CLK_TCK)
# "tid name ticks" for every thread of a process (utime + stime).
thread_ticks() {
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s\n' "${t##*/}" "$(tr ' ' '_' <"$t/comm")" \
      "$(awk '{print $14 + $15}' "$t/stat")"
  done
}
process_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

wrk -t1 -c10 -d1s -s "$work/parallel.lua" "http://127.0.0.1:$port/" >/dev/null  # warm up
thread_ticks "$server_pid" | LC_ALL=C sort -k1,1 >"$work/before"
[[ -n $receiver_pid ]] && receiver_before=$(process_ticks "$receiver_pid")
TIMEFORMAT='%U %S'  # bash's `time`: the client's user and system CPU seconds
{ time wrk -t1 -c10 -d"${seconds}s" -s "$work/parallel.lua" "http://127.0.0.1:$port/" \
  >"$work/wrk.out"; } 2>"$work/wrk.time"
wrk_ticks=$(awk -v hz="$ticks_per_s" '{printf "%d", ($1 + $2) * hz}' "$work/wrk.time")
thread_ticks "$server_pid" | LC_ALL=C sort -k1,1 >"$work/after"
[[ -n $receiver_pid ]] && receiver_after=$(process_ticks "$receiver_pid")
rate=$(wrk_rate <"$work/wrk.out")
requests=$((rate * seconds))

echo "$config: $rate requests/s over ${seconds}s (one worker, wrk -t1 -c10)"
printf '%-18s %10s %8s %14s\n' thread cpu_s core% us_per_request
line() {  # name ticks
  awk -v n="$1" -v t="$2" -v hz="$ticks_per_s" -v s="$seconds" -v r="$requests" \
    'BEGIN {per = r > 0 ? 1e6 * t / hz / r : 0
           printf "%-18s %10.2f %7.1f%% %14.2f\n", n, t / hz, 100 * t / hz / s, per}'
}
LC_ALL=C join "$work/before" "$work/after" | awk '{d = $5 - $3; if (d > 0) print $2, d}' | sort -k2 -n -r |
  while read -r name ticks; do line "$name" "$ticks"; done
line "wrk (client)" "$wrk_ticks"
[[ -n $receiver_pid ]] && line "receiver" "$((receiver_after - receiver_before))"
if [[ $config == export* ]]; then
  curl -s "http://127.0.0.1:$port/metrics" | awk '
    /^kalamdb_otlp_exported_spans_total / {e = $2}
    /^kalamdb_otlp_dropped_traces_total / {t = $2}
    END {printf "exported %d spans, dropped %d traces\n", e, t}'
fi
