#!/usr/bin/env bash
# compare-postgres.sh: the insert workloads of shared/spec/benchmarks.md against PostgreSQL 15
# (pgbench, prepared protocol) and kalamdb (kalam bench insert, duration mode), side by side in
# one run, without and with durable commits:
#   PostgreSQL synchronous_commit = off  vs  kalamdb sync_writes = false
#   PostgreSQL synchronous_commit = on   vs  kalamdb sync_writes = true
# Rounds alternate A B A B (pg off, kalam off, pg on, kalam on, ...); medians are printed with
# the kalamdb/PostgreSQL ratio per workload. Everything runs on loopback in a temporary
# directory and is stopped at the end.
#
# Usage: bench/compare-postgres.sh [--rounds N] [--seconds S] [--markdown]
# Needs: a release build (build/release/kalamdb-server, build/release/kalam) and Debian's
# postgresql-15 (installed with apt-get when missing). PostgreSQL refuses to run as root, so its
# server and pgbench run as the `postgres` user when this script runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
seconds=5
markdown=0
usage="[--rounds N] [--seconds S] [--markdown]"
source bench/options.sh
parse_bench_options "$@"

server=build/release/kalamdb-server
kalam=build/release/kalam
[[ -x $server && -x $kalam ]] || { echo "build the release preset first (./dev.sh build)" >&2; exit 1; }
pgbin=/usr/lib/postgresql/15/bin
if [[ ! -x $pgbin/pg_ctl ]]; then
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
fi
as_pg=()
[[ $(id -u) -eq 0 ]] && as_pg=(runuser -u postgres --)

work=$(mktemp -d /tmp/compare-postgres.XXXXXX)
chmod 0777 "$work"
pg_port=15499
kalam_port=18195
kalam_pid=""
cleanup() {
  [[ -n $kalam_pid ]] && kill "$kalam_pid" 2>/dev/null && wait "$kalam_pid" 2>/dev/null
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- PostgreSQL -----------------------------------------------------------------------------
"${as_pg[@]}" "$pgbin/initdb" -D "$work/pg" -U bench --auth=trust >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=50 -c autovacuum=off" \
  start >/dev/null
psql_cmd=("${as_pg[@]}" psql -q -h 127.0.0.1 -p "$pg_port" -U bench -d postgres -v ON_ERROR_STOP=1)

value="'value-' || 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
cat >"$work/single.sql" <<EOF
\\set n :n + 1
\\set id :client_id * 1000000000 + :n
INSERT INTO bench (id, value) VALUES (:id, $value);
EOF
{
  echo '\set n :n + 1'
  printf 'INSERT INTO bench (id, value) VALUES '
  for k in $(seq 0 99); do
    ((k > 0)) && printf ', '
    printf '(:client_id * 1000000000 + :n * 100 + %d, %s)' "$k" "$value"
  done
  echo ';'
} >"$work/batch.sql"
chmod 0644 "$work"/*.sql

# Before each timed run: PostgreSQL writes back what earlier runs left dirty (CHECKPOINT), and
# the OS flushes its dirty pages, so that neither system's run competes with the other's
# deferred writes for the disk (PostgreSQL keeps running between its runs; its checkpointer
# otherwise writes during kalamdb's durable runs and doubles their fsync latency). For the
# same reason PostgreSQL runs with autovacuum off: a vacuum of the freshly filled table would
# start during kalamdb's runs, not during its own 4-second ones.
quiesce() {
  "${psql_cmd[@]}" -c "CHECKPOINT" >/dev/null
  sync
}

pg_rate() {  # $1 = off|on, $2 = single|batched|parallel -> rows/s
  "${psql_cmd[@]}" -c "SET client_min_messages = warning; DROP TABLE IF EXISTS bench;
    CREATE TABLE bench (id BIGINT PRIMARY KEY, value TEXT NOT NULL)"
  quiesce
  local script=$work/single.sql clients=1 rows=1
  case "$2" in
    batched) script=$work/batch.sql rows=100 ;;
    parallel) clients=10 ;;
  esac
  local tps
  tps=$(PGOPTIONS="-c synchronous_commit=$1" "${as_pg[@]}" env PGOPTIONS="-c synchronous_commit=$1" \
    "$pgbin/pgbench" -n -M prepared -h 127.0.0.1 -p "$pg_port" -U bench -D n=0 \
    -c "$clients" -j "$((clients > 1 ? 2 : 1))" -T "$seconds" -f "$script" postgres 2>&1 |
    awk '/^tps = / {print $3; exit}')
  [[ -n $tps ]] || { echo "pgbench failed" >&2; exit 1; }
  awk -v t="$tps" -v r="$rows" 'BEGIN {printf "%d", t * r}'
}

# --- kalamdb --------------------------------------------------------------------------------
kalam_rates() {  # $1 = false|true (sync_writes) -> "single batched parallel" rows/s
  rm -rf "$work/kdata"
  quiesce
  KALAMDB_SERVER_PORT=$kalam_port KALAMDB_ROOT_PASSWORD=bench-pass-123 KALAMDB_DATA_DIR="$work/kdata" \
    KALAMDB_LOGS_DIR="$work/klogs" KALAMDB_LOG_TO_CONSOLE=false KALAMDB_SYNC_WRITES="$1" \
    "$server" >"$work/kalam.log" 2>&1 &
  kalam_pid=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$kalam_port/health" && break
    sleep 0.05
  done
  "$kalam" bench insert --url "http://127.0.0.1:$kalam_port" --password bench-pass-123 \
    --duration "$seconds" --json "$work/kalam.json" >/dev/null
  kill "$kalam_pid"
  wait "$kalam_pid" 2>/dev/null || true
  kalam_pid=""
  python3 -c "import json; d=json.load(open('$work/kalam.json')); print(' '.join(str(int(d[w]['rows_per_sec'])) for w in ('single','batched','parallel')))"
}

declare -A results
workloads=(single batched parallel)
for round in $(seq "$rounds"); do
  for sync in off on; do
    pg_round=""
    for w in "${workloads[@]}"; do
      r=$(pg_rate "$sync" "$w")
      results[pg.$sync.$w]+="$r "
      pg_round+="$r "
    done
    kalam_sync=false
    [[ $sync == on ]] && kalam_sync=true
    read -r ks kb kp <<<"$(kalam_rates "$kalam_sync")"
    results[kalam.$sync.single]+="$ks "
    results[kalam.$sync.batched]+="$kb "
    results[kalam.$sync.parallel]+="$kp "
    echo "round $round sync=$sync: pg ${pg_round}| kalam $ks $kb $kp (single batched parallel)" >&2
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
names=([0]="single-row, 1 connection" [1]="100-row INSERT, 1 connection" [2]="single-row, 10 connections")
if ((markdown)); then
  echo "| workload | PostgreSQL, no sync | kalamdb, sync_writes=false | ratio | PostgreSQL, sync | kalamdb, sync_writes=true | ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
else
  printf '%-30s %12s %12s %6s %12s %12s %6s\n' workload pg-nosync kalam-nosync ratio pg-sync kalam-sync ratio
fi
for i in 0 1 2; do
  w=${workloads[$i]}
  po=$(echo "${results[pg.off.$w]}" | median)
  ko=$(echo "${results[kalam.off.$w]}" | median)
  pn=$(echo "${results[pg.on.$w]}" | median)
  kn=$(echo "${results[kalam.on.$w]}" | median)
  if ((markdown)); then
    echo "| ${names[$i]} | $po | $ko | $(ratio "$ko" "$po") | $pn | $kn | $(ratio "$kn" "$pn") |"
  else
    printf '%-30s %12s %12s %6s %12s %12s %6s\n' "${names[$i]}" "$po" "$ko" "$(ratio "$ko" "$po")" \
      "$pn" "$kn" "$(ratio "$kn" "$pn")"
  fi
done
echo "(rows/s, medians of $rounds rounds of ${seconds}s per workload; kalam bench insert --duration, pgbench -M prepared)" >&2
