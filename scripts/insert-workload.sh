#!/usr/bin/env bash
# insert-workload.sh: the insert-throughput workload of spec/benchmarks.md against a running
# server, over HTTP/1.1 keep-alive, with curl only.
#
#   scripts/insert-workload.sh [--url http://127.0.0.1:8080] [--user root] [--password ...]
#
# Defaults: --url $KALAMDB_SERVER_URL (else http://127.0.0.1:8080), --user root,
# --password $KALAMDB_ROOT_PASSWORD. The user needs the dba or system role.
#
# It logs in (Bearer token), creates a fresh namespace wl_<random>, the three tables, then runs
#   single-row: 200 sequential single-row INSERTs on one connection,
#   batched:    20 sequential INSERTs of 100 tuples on one connection,
#   parallel:   10 background curl workers, each on its own connection, 100 single-row INSERTs
#               without id (AUTO_INCREMENT),
# prints rows and seconds per part and the three SELECT COUNT(*) results, and drops the
# namespace on exit. Exit status 1 when a request failed or a count is off.
#
# Each part is one curl process whose transfers share a connection (curl config with "next"),
# so the figures include no process start-up per request. The credentials and the token are
# passed in config files, never on a command line.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

url=${KALAMDB_SERVER_URL:-http://127.0.0.1:8080}
user=root
password=${KALAMDB_ROOT_PASSWORD:-}
while (($# > 0)); do
  case $1 in
    --url) url=${2:?--url needs a value}; shift 2 ;;
    --url=*) url=${1#*=}; shift ;;
    --user) user=${2:?--user needs a value}; shift 2 ;;
    --user=*) user=${1#*=}; shift ;;
    --password) password=${2?--password needs a value}; shift 2 ;;
    --password=*) password=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "insert-workload.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
url=${url%/}
sql_url="$url/v1/api/sql"

readonly kSingleRows=200 kBatches=20 kBatchRows=100 kWorkers=10 kPerWorker=100

tmp=$(mktemp -d "${TMPDIR:-/tmp}/insert-workload.XXXXXX")
ns=""
failed=0
pids=()  # background curl workers

# Sets REPLY to $1 escaped for a JSON string (backslash, quote, control characters we may meet).
json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  REPLY=$s
}

# Sets REPLY to $1 escaped for a double-quoted curl config value.
cfg_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  REPLY=$s
}

# Appends to file $1 one transfer that POSTs statement $2 to the SQL endpoint; the response
# body is followed by " HTTP<status>" and a newline. $3 = 1 when a "next" must come first.
add_request() {
  local file=$1 statement=$2 after=$3
  json_escape "$statement"
  cfg_escape "{\"sql\":\"$REPLY\"}"
  {
    ((after)) && echo next
    echo "url = \"$cfg_url\""
    echo 'header = "Content-Type: application/json"'
    echo "header = \"$cfg_auth\""
    echo "data-binary = \"$REPLY\""
    # shellcheck disable=SC2028  # "\n" is for curl, which expands it
    echo 'write-out = " HTTP%{http_code}\n"'
    echo 'silent'
    echo 'show-error'
  } >>"$file"
}

# Runs statement $1 on a connection of its own; sets REPLY to the body. Fails unless HTTP 200.
run_sql() {
  local file="$tmp/one.cfg" out
  : >"$file"
  add_request "$file" "$1" 0
  out=$(curl -K "$file") || { echo "request failed: $1" >&2; return 1; }
  REPLY=${out% HTTP*}
  if [[ $out != *" HTTP200" ]]; then
    echo "statement failed: $1" >&2
    echo "  -> $out" >&2
    return 1
  fi
}

# Counts the lines of file $1 that report "Inserted $2 row(s)" with HTTP 200; sets REPLY.
count_inserted() {
  local line n=0
  while IFS= read -r line; do
    [[ $line == *"\"message\":\"Inserted $2 row(s)\""*" HTTP200" ]] && n=$((n + 1))
  done <"$1"
  REPLY=$n
}

# Prints the first line of file $1 that is not a success (for diagnosing failures).
first_failure() {
  local line
  while IFS= read -r line; do
    if [[ $line != *" HTTP200" ]]; then
      echo "  first failure: ${line:0:300}" >&2
      return
    fi
  done <"$1"
}

now_us() { REPLY=${EPOCHREALTIME/./}; }

# Prints "<part>: <ok>/<expected> rows in <s> s (<rows/s> rows/s)" from a start time in us.
report() {
  local part=$1 ok=$2 expected=$3 start=$4 end us rate
  now_us
  end=$REPLY
  us=$((end - start))
  ((us > 0)) || us=1
  rate=$((ok * 1000000 / us))
  printf '%-11s %5d/%-5d rows in %d.%03d s (%d rows/s)\n' "$part:" "$ok" "$expected" \
    $((us / 1000000)) $((us % 1000000 / 1000)) "$rate"
  if ((ok != expected)); then failed=1; fi
}

# The script's own stdout: a signal may run the traps while a redirection is in effect.
exec 3>&1

cleanup() {
  local status=$? pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n $ns ]]; then
    if run_sql "DROP NAMESPACE IF EXISTS $ns CASCADE" 2>/dev/null; then
      echo "dropped namespace $ns" >&3
    else
      echo "could not drop namespace $ns" >&3
    fi
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- log in ---------------------------------------------------------------------------------
if [[ -z $password ]]; then
  echo "insert-workload.sh: no password (--password or KALAMDB_ROOT_PASSWORD)" >&2
  exit 2
fi
json_escape "$user"
login_user=$REPLY
json_escape "$password"
cfg_escape "{\"user\":\"$login_user\",\"password\":\"$REPLY\"}"
login_body=$REPLY
cfg_escape "$url/v1/api/auth/login"
{
  echo "url = \"$REPLY\""
  echo 'header = "Content-Type: application/json"'
  echo "data-binary = \"$login_body\""
  echo 'write-out = " HTTP%{http_code}"'
  echo 'silent'
  echo 'show-error'
} >"$tmp/login.cfg"
login=$(curl -K "$tmp/login.cfg") || { echo "cannot reach $url" >&2; exit 1; }
if [[ $login != *" HTTP200" || ! $login =~ \"access_token\":\"([^\"]+)\" ]]; then
  echo "login as $user failed: $login" >&2
  exit 1
fi
token=${BASH_REMATCH[1]}
cfg_escape "Authorization: Bearer $token"
cfg_auth=$REPLY
cfg_escape "$sql_url"
cfg_url=$REPLY

# ---- namespace and tables -------------------------------------------------------------------
printf -v ns 'wl_%04x%04x' "$RANDOM" "$RANDOM"
echo "namespace $ns on $url as $user"
run_sql "CREATE NAMESPACE $ns"
run_sql "CREATE TABLE $ns.single (id BIGINT PRIMARY KEY, value TEXT NOT NULL, created_at TIMESTAMP DEFAULT NOW())"
run_sql "CREATE TABLE $ns.batch (id BIGINT PRIMARY KEY, value TEXT NOT NULL, batch_id INT)"
run_sql "CREATE TABLE $ns.parallel (id BIGINT PRIMARY KEY AUTO_INCREMENT, worker INT, value TEXT)"

# ---- the requests, written before any clock starts ------------------------------------------
for ((i = 0; i < kSingleRows; ++i)); do
  add_request "$tmp/single.cfg" "INSERT INTO $ns.single (id, value) VALUES ($i, 'v$i')" $((i > 0))
done
for ((b = 0; b < kBatches; ++b)); do
  statement="INSERT INTO $ns.batch (id, value, batch_id) VALUES "
  for ((k = 0; k < kBatchRows; ++k)); do
    id=$((b * kBatchRows + k))
    ((k > 0)) && statement+=", "
    statement+="($id, 'batch_value_$id', $b)"
  done
  add_request "$tmp/batch.cfg" "$statement" $((b > 0))
done
for ((w = 0; w < kWorkers; ++w)); do
  for ((i = 0; i < kPerWorker; ++i)); do
    add_request "$tmp/worker$w.cfg" \
      "INSERT INTO $ns.parallel (worker, value) VALUES ($w, 'w${w}_$i')" $((i > 0))
  done
done

# ---- single-row -----------------------------------------------------------------------------
now_us
start=$REPLY
curl -K "$tmp/single.cfg" >"$tmp/single.out" || true
count_inserted "$tmp/single.out" 1
single_ok=$REPLY
report single-row "$single_ok" "$kSingleRows" "$start"
((single_ok == kSingleRows)) || first_failure "$tmp/single.out"

# ---- batched --------------------------------------------------------------------------------
now_us
start=$REPLY
curl -K "$tmp/batch.cfg" >"$tmp/batch.out" || true
count_inserted "$tmp/batch.out" "$kBatchRows"
batch_ok=$((REPLY * kBatchRows))
report batched "$batch_ok" $((kBatches * kBatchRows)) "$start"
((batch_ok == kBatches * kBatchRows)) || first_failure "$tmp/batch.out"

# ---- parallel -------------------------------------------------------------------------------
now_us
start=$REPLY
for ((w = 0; w < kWorkers; ++w)); do
  curl -K "$tmp/worker$w.cfg" >"$tmp/worker$w.out" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
parallel_ok=0
for ((w = 0; w < kWorkers; ++w)); do
  count_inserted "$tmp/worker$w.out" 1
  parallel_ok=$((parallel_ok + REPLY))
  ((REPLY == kPerWorker)) || first_failure "$tmp/worker$w.out"
done
report parallel "$parallel_ok" $((kWorkers * kPerWorker)) "$start"

# ---- counts ---------------------------------------------------------------------------------
for table in single:$kSingleRows batch:$((kBatches * kBatchRows)) parallel:$((kWorkers * kPerWorker)); do
  name=${table%%:*}
  expected=${table#*:}
  run_sql "SELECT COUNT(*) FROM $ns.$name"
  if [[ $REPLY =~ \"rows\":\[\[\"([0-9]+)\"\]\] ]]; then
    count=${BASH_REMATCH[1]}
  else
    count="? ($REPLY)"
  fi
  printf 'SELECT COUNT(*) FROM %s -> %s\n' "$ns.$name" "$count"
  [[ $count == "$expected" ]] || failed=1
done

if ((failed)); then
  echo "FAILED: some inserts were not acknowledged or a count is off" >&2
  exit 1
fi
