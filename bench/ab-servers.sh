#!/usr/bin/env bash
# ab-servers.sh: `kalam bench insert` against two server binaries, alternating A B A B, each
# started fresh on an empty data directory: the before/after figures of an optimisation round.
#
# Usage: bench/ab-servers.sh BEFORE_BIN AFTER_BIN [--rounds N] [--seconds S]
#   e.g. cp build/release/kalamdb-server /tmp/before; (change, rebuild);
#        bench/ab-servers.sh /tmp/before build/release/kalamdb-server
# Prints each run's summary lines; the JSON of each run stays in the temporary directory
# printed at the end (kalam bench insert --compare can diff two of them).
set -euo pipefail
cd "$(dirname "$0")/.."
usage="BEFORE_BIN AFTER_BIN [--rounds N] [--seconds S]"
source bench/options.sh
(($# >= 2)) || bench_usage
before=$1
after=$2
shift 2
rounds=2
seconds=4
parse_bench_options "$@"
kalam=build/release/kalam
[[ -x $kalam ]] || { echo "build the release preset first" >&2; exit 1; }
work=$(mktemp -d /tmp/ab-servers.XXXXXX)
port=18600
password=bench-pass-123
pid=""
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; true' EXIT

for round in $(seq "$rounds"); do
  for side in before after; do
    bin=$before
    [[ $side == after ]] && bin=$after
    rm -rf "$work/data"
    KALAMDB_SERVER_PORT=$port KALAMDB_ROOT_PASSWORD=$password KALAMDB_DATA_DIR="$work/data" \
      KALAMDB_LOGS_DIR="$work/logs" KALAMDB_LOG_TO_CONSOLE=false "$bin" >"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
      curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
      sleep 0.05
    done
    echo "== $side, round $round"
    "$kalam" bench insert --url "http://127.0.0.1:$port" --password "$password" \
      --duration "$seconds" --json "$work/$side-$round.json" | grep -E "^(workload|single|batched|parallel) "
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=""
  done
done
echo "runs saved in $work"
