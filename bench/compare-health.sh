#!/usr/bin/env bash
# compare-health.sh: HTTP floor benchmark, kalamdb-server `GET /health` against nginx answering
# the same path with a fixed 200, both measured with wrk in one run. Run with --help for usage.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly BUILD_DIR="$REPO_DIR/build/release"
readonly CONFIG_FILE="$REPO_DIR/server.toml"
readonly NGINX_BODY='{"status":"healthy"}'

rounds=3
connections="1 10"
duration=5
warmup=1
workers=""
server_bin="$BUILD_DIR/kalamdb-server"
markdown=0
require_parity=0

usage() {
    cat <<EOF
Usage: bench/compare-health.sh [options]

Measures the HTTP floor of kalamdb-server: \`GET /health\` on the server against nginx
returning a fixed 200 with a small JSON body on the same path. Both run on loopback with the
same number of worker threads/processes and are loaded one after the other with wrk, in the
order nginx, kalamdb, nginx, kalamdb, ... so slow drifts of the machine hit both alike.

Each measurement is: wrk -t1 -c<C> -d<D>s --latency http://127.0.0.1:<port>/health
(one wrk thread, because wrk and the servers share the CPU cores).

Options:
  --rounds N            Measurements per server and connection count (default: $rounds).
  --connections "C..."  Space-separated wrk connection counts (default: "$connections").
  --duration D          Seconds per measurement (default: $duration).
  --warmup S            Seconds of unrecorded load on each server before the rounds of each
                        connection count; 0 turns it off (default: $warmup).
  --workers N           Server workers (KALAMDB_SERVER_WORKERS) and nginx worker_processes
                        (default: nproc = $(nproc)).
  --server PATH         kalamdb-server binary (default: build/release/kalamdb-server; built
                        with the release preset when missing).
  --markdown            Print the tables as Markdown (for docs/PERFORMANCE.md).
  --require-parity      Exit 2 when kalamdb's median req/s is below nginx's for any connection
                        count.
  -h, --help            Show this help.

Output (stdout): per connection count the median req/s of nginx and kalamdb, the ratio
kalamdb/nginx (above 1 means kalamdb served more), and the median p50/p99 latencies; then every
round's raw figures. Progress goes to stderr.

Missing tools (wrk, nginx-light or nginx, curl) are installed with apt-get (through sudo when
not root). Everything runs from a temporary directory: nginx gets its own nginx.conf, pid file,
logs and temp paths there (the system nginx configuration and service are not touched), and the
server gets a fresh data and logs directory there. All started processes are stopped and the
directory removed on exit, also on failure or Ctrl-C.

Exit status: 0 on success, 1 on error, 2 when --require-parity is given and kalamdb is below
nginx.

Note: the two answers are not byte-identical. nginx sends a 20-byte body; kalamdb sends a
longer JSON body with version fields plus a Date header, so it moves a few more bytes per request.
EOF
}

log() { printf '%s\n' "$*" >&2; }
die() { log "compare-health: $*"; exit 1; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_pos_int() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 >= 1)); }

need_arg() { (($# >= 2)) || die "option $1 needs a value (see --help)"; }

while (($# > 0)); do
    case $1 in
        --rounds) need_arg "$@"; rounds=$2; shift 2 ;;
        --rounds=*) rounds=${1#*=}; shift ;;
        --connections) need_arg "$@"; connections=$2; shift 2 ;;
        --connections=*) connections=${1#*=}; shift ;;
        --duration) need_arg "$@"; duration=$2; shift 2 ;;
        --duration=*) duration=${1#*=}; shift ;;
        --warmup) need_arg "$@"; warmup=$2; shift 2 ;;
        --warmup=*) warmup=${1#*=}; shift ;;
        --workers) need_arg "$@"; workers=$2; shift 2 ;;
        --workers=*) workers=${1#*=}; shift ;;
        --server) need_arg "$@"; server_bin=$2; shift 2 ;;
        --server=*) server_bin=${1#*=}; shift ;;
        --markdown) markdown=1; shift ;;
        --require-parity) require_parity=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

[[ -n $workers ]] || workers=$(nproc)
is_pos_int "$rounds" || die "--rounds must be a positive integer"
is_pos_int "$duration" || die "--duration must be a positive integer (seconds)"
is_uint "$warmup" || die "--warmup must be a non-negative integer (seconds)"
is_pos_int "$workers" || die "--workers must be a positive integer"
read -r -a conn_list <<<"$connections"
((${#conn_list[@]} > 0)) || die "--connections must list at least one connection count"
for c in "${conn_list[@]}"; do
    is_pos_int "$c" || die "--connections: '$c' is not a positive integer"
done
# Base 10 from here on, so a leading zero is not read as octal.
rounds=$((10#$rounds)) duration=$((10#$duration)) warmup=$((10#$warmup)) workers=$((10#$workers))
for i in "${!conn_list[@]}"; do conn_list[i]=$((10#${conn_list[i]})); done
[[ -f $CONFIG_FILE ]] || die "missing $CONFIG_FILE"

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------

nginx_bin=""
find_nginx() {
    nginx_bin=$(command -v nginx 2>/dev/null || true)
    if [[ -z $nginx_bin && -x /usr/sbin/nginx ]]; then
        nginx_bin=/usr/sbin/nginx
    fi
    [[ -n $nginx_bin ]]
}

apt_install() {
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "need root or sudo to install: $*"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these yourself: $*"
    if [[ -z ${apt_updated:-} ]]; then
        log "apt-get update"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        apt_updated=1
    fi
    log "apt-get install $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

install_missing() {
    local pkgs=()
    command -v wrk >/dev/null 2>&1 || pkgs+=(wrk)
    command -v curl >/dev/null 2>&1 || pkgs+=(curl)
    ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
    command -v wrk >/dev/null 2>&1 || die "wrk is still not on PATH after installing it"
    if ! find_nginx; then
        # nginx-light is the small build; newer releases only ship plain nginx.
        apt_install nginx-light || apt_install nginx
        find_nginx || die "nginx is still missing after installing it"
    fi
}

# True while a ninja/make/cmake process works on build/release (somebody else's build).
release_build_running() {
    local pid cwd cmd
    for pid in $(pgrep -x 'ninja|make|cmake' 2>/dev/null || true); do
        cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
        if [[ $cwd == "$BUILD_DIR"* || $cmd == *"$BUILD_DIR"* || $cmd == *build/release* ]]; then
            return 0
        fi
    done
    return 1
}

ensure_server() {
    if [[ ! -x $server_bin && $server_bin == "$BUILD_DIR/kalamdb-server" ]]; then
        if release_build_running; then
            log "a release build is running; waiting for it to finish (up to 30 minutes)"
            local waited=0
            while release_build_running && ((waited < 1800)); do
                sleep 5
                waited=$((waited + 5))
            done
        fi
        if [[ ! -x $server_bin ]]; then
            command -v cmake >/dev/null 2>&1 || die "cmake not found; cannot build $server_bin"
            log "building the release server (cmake --preset release)"
            (cd "$REPO_DIR" && cmake --preset release >&2 && cmake --build --preset release >&2)
        fi
    elif release_build_running; then
        log "warning: a release build is running right now; figures will be noisy"
    fi
    [[ -x $server_bin ]] || die "server binary not found or not executable: $server_bin"
}

install_missing
ensure_server

# ---------------------------------------------------------------------------------------------
# Processes and cleanup
# ---------------------------------------------------------------------------------------------

tmp_dir=""
nginx_pid=""
server_pid=""
wrk_pid=""

# Sends SIGTERM, waits up to $2 tenths of a second, then SIGKILL. Reaps the child.
# shellcheck disable=SC2317  # only reached through the EXIT trap
stop_pid() {
    local pid=$1 tenths=$2 i
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < tenths; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    stop_pid "$wrk_pid" 10
    if [[ -n $nginx_pid ]]; then
        # Remember the workers: if the master has to be SIGKILLed they would outlive it.
        local nginx_workers
        nginx_workers=$(pgrep -P "$nginx_pid" 2>/dev/null)
        stop_pid "$nginx_pid" 50
        local w
        for w in $nginx_workers; do
            kill -KILL "$w" 2>/dev/null
        done
    fi
    stop_pid "$server_pid" 100
    if [[ -n $tmp_dir ]]; then
        local left
        left=$(pgrep -f -- "$tmp_dir" 2>/dev/null)
        [[ -z $left ]] || log "warning: processes still running from $tmp_dir: $left"
        rm -rf -- "$tmp_dir"
    fi
    exit "$status"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/compare-health.XXXXXX")

port_in_use() {
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -Htln "( sport = :$1 )" 2>/dev/null) ]] && return 0
    fi
    # Anything accepting on loopback, including wildcard listeners.
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Prints a loopback port nobody listens on, other than the ones given as arguments.
free_port() {
    local p i taken
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))  # below the ephemeral range (32768+)
        taken=0
        for t in "$@"; do [[ $p == "$t" ]] && taken=1; done
        ((taken == 0)) || continue
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    die "no free loopback port found"
}

# Waits up to $3 tenths of a second for URL $2 to answer while process $1 is alive.
wait_http() {
    local pid=$1 url=$2 tenths=$3 i
    for ((i = 0; i < tenths; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -sf -o /dev/null --max-time 1 "$url" && return 0
        sleep 0.1
    done
    return 1
}

start_nginx() {
    local dir="$tmp_dir/nginx"
    mkdir -p "$dir/temp"
    nginx_port=$(free_port)
    {
        echo "daemon off;"
        echo "master_process on;"
        # Without `user`, a master started as root drops its workers to nobody; keep them root
        # so they can use the private temp dir. As a normal user the directive does not apply.
        if ((EUID == 0)); then echo "user root;"; fi
        echo "worker_processes $workers;"
        echo "pid \"$dir/nginx.pid\";"
        echo "lock_file \"$dir/nginx.lock\";"
        echo "error_log \"$dir/error.log\" warn;"
        echo "events { worker_connections 4096; }"
        echo "http {"
        echo "    access_log off;"
        echo "    keepalive_requests 1000000;"
        echo "    keepalive_timeout 75s;"
        echo "    client_body_temp_path \"$dir/temp/body\";"
        echo "    proxy_temp_path \"$dir/temp/proxy\";"
        echo "    fastcgi_temp_path \"$dir/temp/fastcgi\";"
        echo "    uwsgi_temp_path \"$dir/temp/uwsgi\";"
        echo "    scgi_temp_path \"$dir/temp/scgi\";"
        echo "    server {"
        echo "        listen 127.0.0.1:$nginx_port;"
        echo "        location = /health {"
        echo "            default_type application/json;"
        echo "            return 200 '$NGINX_BODY';"
        echo "        }"
        echo "        location / { return 404; }"
        echo "    }"
        echo "}"
    } >"$dir/nginx.conf"

    local args=(-p "$dir" -c "$dir/nginx.conf")
    # -e (startup error log) exists since nginx 1.19.5; keeps early messages out of /var/log.
    if "$nginx_bin" -h 2>&1 | grep -q -- '-e filename'; then
        args+=(-e "$dir/error.log")
    fi
    "$nginx_bin" "${args[@]}" -t -q >"$dir/config-test.log" 2>&1 || {
        cat "$dir/config-test.log" >&2
        die "nginx rejected the generated configuration"
    }
    "$nginx_bin" "${args[@]}" >"$dir/stdout.log" 2>&1 &
    nginx_pid=$!
    if ! wait_http "$nginx_pid" "http://127.0.0.1:$nginx_port/health" 50; then
        cat "$dir/stdout.log" "$dir/error.log" >&2 2>/dev/null || true
        die "nginx did not answer on port $nginx_port"
    fi
    local body
    body=$(curl -sf --max-time 2 "http://127.0.0.1:$nginx_port/health")
    [[ $body == "$NGINX_BODY" ]] || die "port $nginx_port answered with something other than our nginx: $body"
}

start_server() {
    local dir="$tmp_dir/kalamdb"
    mkdir -p "$dir/data" "$dir/logs"
    server_port=$(free_port "$nginx_port")
    # cd into the temp dir so any relative path left in server.toml also lands there.
    (
        cd "$dir"
        exec env \
            KALAMDB_DATA_DIR="$dir/data" \
            KALAMDB_LOGS_DIR="$dir/logs" \
            KALAMDB_SERVER_HOST=127.0.0.1 \
            KALAMDB_SERVER_PORT="$server_port" \
            KALAMDB_SERVER_WORKERS="$workers" \
            KALAMDB_LOG_LEVEL=warn \
            KALAMDB_ROOT_PASSWORD="bench-$RANDOM$RANDOM" \
            "$server_bin" "$CONFIG_FILE"
    ) >"$dir/console.log" 2>&1 &
    server_pid=$!
    if ! wait_http "$server_pid" "http://127.0.0.1:$server_port/health" 150; then
        tail -n 40 "$dir/console.log" >&2 || true
        kill -0 "$server_pid" 2>/dev/null || die "kalamdb-server exited during startup"
        die "kalamdb-server did not answer /health on port $server_port within 15 s"
    fi
    server_health=$(curl -sf --max-time 2 "http://127.0.0.1:$server_port/health" || true)
}

log "starting nginx ($workers worker processes)"
start_nginx
log "starting kalamdb-server ($workers workers)"
start_server

# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------

# Reads wrk output on stdin; prints "req_per_sec p50_us p99_us errors" or fails.
parse_wrk() {
    awk '
        function to_us(v,   num, unit) {
            num = v; sub(/[a-z]+$/, "", num)
            unit = v; sub(/^[0-9.]+/, "", unit)
            if (unit == "us") return num
            if (unit == "ms") return num * 1000
            if (unit == "s") return num * 1000000
            if (unit == "m") return num * 60000000
            if (unit == "h") return num * 3600000000
            return -1
        }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = to_us($2) }
        $1 == "99%" { p99 = to_us($2) }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ {
            for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { n = $i; sub(/,/, "", n); errors += n }
        }
        END {
            if (rps == "" || p50 == "" || p99 == "" || p50 < 0 || p99 < 0) exit 1
            printf "%s %s %s %d\n", rps, p50, p99, errors
        }'
}

# run_wrk URL CONNECTIONS SECONDS OUTFILE; wrk runs in the background so signals are handled
# at once instead of after the measurement.
run_wrk() {
    wrk -t1 -c"$2" -d"$3"s --latency "$1" >"$4" 2>&1 &
    wrk_pid=$!
    local rc=0
    wait "$wrk_pid" || rc=$?
    wrk_pid=""
    return "$rc"
}

declare -A samples=()  # "<target> <conns> <metric>" -> space-separated values
raw_rows=()            # "conns round target rps p50 p99 errors"
total_errors=0
fmt_us() { awk -v v="$1" 'BEGIN {
    if (v >= 1000000) printf "%.2f s", v / 1000000
    else if (v >= 1000) printf "%.2f ms", v / 1000
    else printf "%.0f us", v }'; }

declare -A urls=(
    [nginx]="http://127.0.0.1:$nginx_port/health"
    [kalamdb]="http://127.0.0.1:$server_port/health"
)
targets=(nginx kalamdb)

for c in "${conn_list[@]}"; do
    if ((warmup > 0)); then
        for t in "${targets[@]}"; do
            log "[c=$c] warm-up $t ${warmup}s"
            run_wrk "${urls[$t]}" "$c" "$warmup" "$tmp_dir/wrk-warmup.txt" ||
                die "wrk failed during warm-up of $t: $(cat "$tmp_dir/wrk-warmup.txt")"
        done
    fi
    for ((r = 1; r <= rounds; r++)); do
        for t in "${targets[@]}"; do
            out="$tmp_dir/wrk-$t-c$c-r$r.txt"
            run_wrk "${urls[$t]}" "$c" "$duration" "$out" || {
                cat "$out" >&2
                die "wrk failed against $t"
            }
            kill -0 "$server_pid" 2>/dev/null || die "kalamdb-server exited during the run"
            kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited during the run"
            fig=$(parse_wrk <"$out") || { cat "$out" >&2; die "could not parse wrk output"; }
            read -r rps p50 p99 errs <<<"$fig"
            samples["$t $c rps"]+="$rps "
            samples["$t $c p50"]+="$p50 "
            samples["$t $c p99"]+="$p99 "
            raw_rows+=("$c $r $t $rps $p50 $p99 $errs")
            total_errors=$((total_errors + errs))
            log "[c=$c round $r/$rounds] $(printf '%-7s' "$t") $(printf '%10.0f' "$rps") req/s" \
                " p50 $(fmt_us "$p50")  p99 $(fmt_us "$p99")$( ((errs == 0)) || echo "  errors $errs")"
        done
    done
done

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

median() {
    # shellcheck disable=SC2086  # word splitting of the value list is intended
    printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

nginx_version=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')
kalamdb_version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' <<<"$server_health")
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
context="wrk -t1 -c<C> -d${duration}s --latency, $rounds round(s) per server (nginx/kalamdb alternating), "
context+="$workers worker(s) each; kalamdb-server ${kalamdb_version:-?} vs $nginx_version; "
context+="$(nproc) CPU(s)${cpu_model:+ ($cpu_model)}; $(date -u '+%Y-%m-%d %H:%M UTC')"

summary_rows=()  # "conns nginx_rps kalamdb_rps ratio n_p50 k_p50 n_p99 k_p99"
parity_failed=0
for c in "${conn_list[@]}"; do
    n_rps=$(median "${samples["nginx $c rps"]}")
    k_rps=$(median "${samples["kalamdb $c rps"]}")
    ratio=$(awk -v k="$k_rps" -v n="$n_rps" 'BEGIN { printf "%.2f", (n > 0 ? k / n : 0) }')
    if awk -v k="$k_rps" -v n="$n_rps" 'BEGIN { exit !(k < n) }'; then parity_failed=1; fi
    summary_rows+=("$c $n_rps $k_rps $ratio $(median "${samples["nginx $c p50"]}") \
$(median "${samples["kalamdb $c p50"]}") $(median "${samples["nginx $c p99"]}") \
$(median "${samples["kalamdb $c p99"]}")")
done

if ((markdown)); then
    echo "Median of $rounds round(s); $context."
    echo
    echo "| connections | nginx req/s | kalamdb req/s | kalamdb/nginx | nginx p50 | kalamdb p50 | nginx p99 | kalamdb p99 |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for row in "${summary_rows[@]}"; do
        read -r c n k ratio np50 kp50 np99 kp99 <<<"$row"
        printf '| %s | %.0f | %.0f | %s | %s | %s | %s | %s |\n' "$c" "$n" "$k" "$ratio" \
            "$(fmt_us "$np50")" "$(fmt_us "$kp50")" "$(fmt_us "$np99")" "$(fmt_us "$kp99")"
    done
    echo
    echo "Raw rounds:"
    echo
    echo "| connections | round | server | req/s | p50 | p99 | errors |"
    echo "|---:|---:|---|---:|---:|---:|---:|"
    for row in "${raw_rows[@]}"; do
        read -r c r t rps p50 p99 errs <<<"$row"
        printf '| %s | %s | %s | %.0f | %s | %s | %s |\n' "$c" "$r" "$t" "$rps" \
            "$(fmt_us "$p50")" "$(fmt_us "$p99")" "$errs"
    done
else
    echo "GET /health floor: kalamdb-server vs nginx (median of $rounds round(s))"
    echo "$context"
    echo
    printf '%11s  %12s  %13s  %13s  %10s  %11s  %10s  %11s\n' connections "nginx req/s" \
        "kalamdb req/s" "kalamdb/nginx" "nginx p50" "kalamdb p50" "nginx p99" "kalamdb p99"
    for row in "${summary_rows[@]}"; do
        read -r c n k ratio np50 kp50 np99 kp99 <<<"$row"
        printf '%11s  %12.0f  %13.0f  %13s  %10s  %11s  %10s  %11s\n' "$c" "$n" "$k" "$ratio" \
            "$(fmt_us "$np50")" "$(fmt_us "$kp50")" "$(fmt_us "$np99")" "$(fmt_us "$kp99")"
    done
    echo
    echo "Raw rounds:"
    printf '%11s  %5s  %-7s  %12s  %10s  %10s  %6s\n' connections round server "req/s" p50 p99 errors
    for row in "${raw_rows[@]}"; do
        read -r c r t rps p50 p99 errs <<<"$row"
        printf '%11s  %5s  %-7s  %12.0f  %10s  %10s  %6s\n' "$c" "$r" "$t" "$rps" \
            "$(fmt_us "$p50")" "$(fmt_us "$p99")" "$errs"
    done
fi

if ((total_errors > 0)); then
    log "warning: wrk reported $total_errors socket errors or non-2xx responses in total (see the errors column)"
fi
if ((require_parity && parity_failed)); then
    log "parity check failed: kalamdb's median req/s is below nginx's for at least one connection count"
    exit 2
fi
exit 0
