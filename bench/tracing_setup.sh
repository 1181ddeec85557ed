# tracing_setup.sh: what compare-tracing.sh and thread-cpu.sh share; sourced, not run.
#
# tracing_setup NAME PORT   temp dir, cleanup trap, credentials, the wrk scripts; checks the
#                           release build and wrk ($server, $work, $port, $password, $auth)
# start_receiver            tests/otlp-receiver --count-only at idle priority ($grpc_port)
# start_server CONFIG       a fresh server on $port: off | store | export | dead (below)
# stop_server
# wrk_rate                  wrk's output on stdin -> requests/s; exits on any error answer
#
# Configurations:
#   off     [logging.traces] enabled = false: nothing is recorded
#   store   100% of requests traced into the server's own store (the shipped default), no OTLP
#   export  100% traced into the store and exported over OTLP/gRPC to the live receiver
#           (start_receiver first)
#   export-http  the same over OTLP/HTTP (protobuf POST /v1/traces) to the same receiver
#   dead    100% traced, exporting to an endpoint where nothing listens
# The server runs with one worker (WORKERS=N overrides; see compare-tracing.sh for why);
# SERVER_ENV="KALAMDB_TRACES_MAX_TRACES=100 ..." adds environment overrides to every start.
# Workloads: $work/single.lua (single-row INSERTs with increasing ids into b.single) and
# $work/parallel.lua (single-row INSERTs into the AUTO_INCREMENT table b.parallel).

tracing_setup() {
  server=${SERVER_BIN:-build/release/kalamdb-server}  # SERVER_BIN: another build to measure
  [[ -x $server ]] || { echo "build the release preset first (./dev.sh build)" >&2; exit 1; }
  command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  port=$2
  server_pid=""
  receiver_pid=""
  trap tracing_cleanup EXIT
  password=bench-pass-123
  auth=$(printf 'root:%s' "$password" | base64)
  cat >"$work/single.lua" <<EOS
local n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/api/sql", nil,
    '{"sql":"INSERT INTO b.single (id, value) VALUES (' .. n .. ", 'v" .. n .. "')\"}")
end
EOS
  cat >"$work/parallel.lua" <<EOS
wrk.method = "POST"
wrk.path = "/v1/api/sql"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"sql":"INSERT INTO b.parallel (worker, value) VALUES (1, \'x\')"}'
EOS
}

tracing_cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n $receiver_pid ]] && kill "$receiver_pid" 2>/dev/null && wait "$receiver_pid" 2>/dev/null
  rm -rf "$work"
}

# The receiver stands in for a collector on another machine, so it runs at idle priority
# (SCHED_IDLE): it handles what it receives on CPU time the server and wrk leave unused,
# instead of taking a third of the two cores from them. RECEIVER_PRIORITY=normal runs it as
# an ordinary process.
start_receiver() {
  [[ -d tests/otlp-receiver/node_modules ]] ||
    { echo "run npm ci in tests/otlp-receiver first" >&2; exit 1; }
  mkfifo "$work/receiver.out"
  local cmd=(node tests/otlp-receiver/receiver.js --count-only --ignore-stdin)
  [[ ${RECEIVER_PRIORITY:-idle} == idle ]] && cmd=(chrt --idle 0 "${cmd[@]}")
  "${cmd[@]}" >"$work/receiver.out" &
  receiver_pid=$!
  local ports
  read -r ports <"$work/receiver.out"
  grpc_port=$(echo "$ports" | sed 's/.*"grpc":\([0-9]*\).*/\1/')
  http_port=$(echo "$ports" | sed 's/.*"http":\([0-9]*\).*/\1/')
}

start_server() {
  rm -rf "$work/data"
  local env=(KALAMDB_SERVER_PORT=$port KALAMDB_SERVER_WORKERS=${WORKERS:-1}
    KALAMDB_ROOT_PASSWORD=$password KALAMDB_DATA_DIR="$work/data"
    KALAMDB_LOGS_DIR="$work/logs" KALAMDB_LOG_TO_CONSOLE=false)
  case "$1" in
    off) env+=(KALAMDB_TRACES_ENABLED=false) ;;
    store) ;;
    export) env+=(KALAMDB_OTLP_ENABLED=true KALAMDB_OTLP_ENDPOINT=http://127.0.0.1:$grpc_port) ;;
    export-http)
      env+=(KALAMDB_OTLP_ENABLED=true KALAMDB_OTLP_PROTOCOL=http
        KALAMDB_OTLP_ENDPOINT=http://127.0.0.1:$http_port/v1/traces)
      ;;
    dead) env+=(KALAMDB_OTLP_ENABLED=true KALAMDB_OTLP_ENDPOINT=http://127.0.0.1:1) ;;
  esac
  # SERVER_ENV="KALAMDB_X=1 ..." adds to (or overrides) the configuration's environment.
  env "${env[@]}" ${SERVER_ENV:-} "$server" >"$work/server.log" 2>&1 &
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

wrk_rate() {
  local out
  out=$(cat)
  if grep -q "Non-2xx" <<<"$out"; then
    echo "error answers from the server:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out"
}
