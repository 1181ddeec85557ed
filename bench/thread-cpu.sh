#!/usr/bin/env bash
# thread-cpu.sh: where the CPU goes, per server thread, per request, under single-row INSERTs
# on 10 connections (wrk), for one tracing configuration of compare-tracing.sh:
#   off | store | export (to tests/otlp-receiver --count-only, at idle priority) | dead
# For each named server thread (kalam-http-N, kalam-traces, kalam-otlp, ...; unnamed ones
# are RocksDB's and gRPC's), and for wrk and the receiver: CPU seconds over the run, the share
# of one core, and microseconds per request. The rate alone cannot say whether the worker,
# the exporter or the receiver took the time; this can. One worker, as compare-tracing.sh.
#
# Usage: bench/thread-cpu.sh off|store|export|dead [--seconds S]
# Needs: a release build, wrk, and for export node with tests/otlp-receiver's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

config=${1:-}
[[ $config =~ ^(off|store|export|dead)$ ]] || { echo "usage: $0 off|store|export|dead [--seconds S]" >&2; exit 64; }
shift
rounds=1
seconds=5
usage="off|store|export|dead [--seconds S]"
source bench/options.sh
parse_bench_options "$@"

server=build/release/kalamdb-server
[[ -x $server ]] || { echo "build the release preset first (./dev.sh build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d /tmp/thread-cpu.XXXXXX)
server_pid=""
receiver_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n $receiver_pid ]] && kill "$receiver_pid" 2>/dev/null && wait "$receiver_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

password=bench-pass-123
auth=$(printf 'root:%s' "$password" | base64)
port=18192
env=(KALAMDB_SERVER_PORT=$port KALAMDB_SERVER_WORKERS=1 KALAMDB_ROOT_PASSWORD=$password
  KALAMDB_DATA_DIR="$work/data" KALAMDB_LOGS_DIR="$work/logs" KALAMDB_LOG_TO_CONSOLE=false)
case $config in
  off) env+=(KALAMDB_TRACES_ENABLED=false) ;;
  export)
    [[ -d tests/otlp-receiver/node_modules ]] ||
      { echo "run npm ci in tests/otlp-receiver first" >&2; exit 1; }
    mkfifo "$work/receiver.out"
    chrt --idle 0 node tests/otlp-receiver/receiver.js --count-only --ignore-stdin \
      >"$work/receiver.out" &
    receiver_pid=$!
    read -r ports <"$work/receiver.out"
    grpc_port=$(echo "$ports" | sed 's/.*"grpc":\([0-9]*\).*/\1/')
    env+=(KALAMDB_OTLP_ENABLED=true KALAMDB_OTLP_ENDPOINT=http://127.0.0.1:$grpc_port)
    ;;
  dead) env+=(KALAMDB_OTLP_ENABLED=true KALAMDB_OTLP_ENDPOINT=http://127.0.0.1:1) ;;
esac
env "${env[@]}" "$server" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
  sleep 0.05
done
curl -sf -o /dev/null -u "root:$password" -d '{"sql":"CREATE NAMESPACE b; CREATE TABLE b.parallel (id BIGINT PRIMARY KEY AUTO_INCREMENT, worker INT, value TEXT)"}' \
  "http://127.0.0.1:$port/v1/api/sql"
cat >"$work/parallel.lua" <<EOS
wrk.method = "POST"
wrk.path = "/v1/api/sql"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"sql":"INSERT INTO b.parallel (worker, value) VALUES (1, \'x\')"}'
EOS

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
grep -q "Non-2xx" "$work/wrk.out" && { echo "error answers from the server:" >&2; cat "$work/wrk.out" >&2; exit 1; }
rate=$(awk '/Requests\/sec/ {printf "%d", $2}' "$work/wrk.out")
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
if [[ $config == export ]]; then
  curl -s "http://127.0.0.1:$port/metrics" | awk '
    /^kalamdb_otlp_exported_spans_total / {e = $2}
    /^kalamdb_otlp_dropped_traces_total / {t = $2}
    END {printf "exported %d spans, dropped %d traces\n", e, t}'
fi
