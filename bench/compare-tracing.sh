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

server=build/release/kalamdb-server
[[ -x $server ]] || { echo "build the release preset first (./dev.sh build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
[[ -d tests/otlp-receiver/node_modules ]] ||
  { echo "run npm ci in tests/otlp-receiver first" >&2; exit 1; }

work=$(mktemp -d /tmp/compare-tracing.XXXXXX)
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
port=18191

# The receiver, for the "export" configuration. It stands in for a collector on another
# machine, so it runs at idle priority (SCHED_IDLE): it decodes what it receives on CPU time
# the server and wrk leave unused, instead of taking a third of the two cores from them.
# RECEIVER_PRIORITY=normal runs it as an ordinary process.
mkfifo "$work/receiver.out"
receiver_cmd=(node tests/otlp-receiver/receiver.js --count-only --ignore-stdin)
[[ ${RECEIVER_PRIORITY:-idle} == idle ]] && receiver_cmd=(chrt --idle 0 "${receiver_cmd[@]}")
"${receiver_cmd[@]}" >"$work/receiver.out" &
receiver_pid=$!
read -r ports <"$work/receiver.out"
grpc_port=$(echo "$ports" | sed 's/.*"grpc":\([0-9]*\).*/\1/')

cat >"$work/single.lua" <<EOF
local n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/api/sql", nil,
    '{"sql":"INSERT INTO b.single (id, value) VALUES (' .. n .. ", 'v" .. n .. "')\"}")
end
EOF
cat >"$work/parallel.lua" <<EOF
wrk.method = "POST"
wrk.path = "/v1/api/sql"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"sql":"INSERT INTO b.parallel (worker, value) VALUES (1, \'x\')"}'
EOF

start_server() {  # $1 = configuration
  rm -rf "$work/data"
  local env=(KALAMDB_SERVER_PORT=$port KALAMDB_SERVER_WORKERS=${WORKERS:-1}
    KALAMDB_ROOT_PASSWORD=$password KALAMDB_DATA_DIR="$work/data"
    KALAMDB_LOGS_DIR="$work/logs" KALAMDB_LOG_TO_CONSOLE=false)
  case "$1" in
    off) env+=(KALAMDB_TRACES_ENABLED=false) ;;
    store) ;;
    export) env+=(KALAMDB_OTLP_ENABLED=true KALAMDB_OTLP_ENDPOINT=http://127.0.0.1:$grpc_port) ;;
    dead) env+=(KALAMDB_OTLP_ENABLED=true KALAMDB_OTLP_ENDPOINT=http://127.0.0.1:1) ;;
  esac
  env "${env[@]}" "$server" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
    sleep 0.05
  done
  curl -sf -o /dev/null -u "root:$password" -d '{"sql":"CREATE NAMESPACE b; CREATE TABLE b.single (id BIGINT PRIMARY KEY, value TEXT NOT NULL); CREATE TABLE b.parallel (id BIGINT PRIMARY KEY AUTO_INCREMENT, worker INT, value TEXT)"}' \
    "http://127.0.0.1:$port/v1/api/sql"
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

rate() {  # wrk output -> requests/s as an integer; fails on any error answer
  local out
  out=$(cat)
  if grep -q "Non-2xx" <<<"$out"; then
    echo "error answers from the server:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out"
}

declare -A results
configs=(${CONFIGS:-off store export dead})  # CONFIGS="off store" runs a subset
for round in $(seq "$rounds"); do
  for config in "${configs[@]}"; do
    start_server "$config"
    single=$(wrk -t1 -c1 -d"${seconds}s" -s "$work/single.lua" "http://127.0.0.1:$port/" | rate)
    parallel=$(wrk -t1 -c10 -d"${seconds}s" -s "$work/parallel.lua" "http://127.0.0.1:$port/" | rate)
    exported=""
    if [[ $config == export ]]; then  # what really left: exported vs dropped spans
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
