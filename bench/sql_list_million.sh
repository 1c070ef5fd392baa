#!/usr/bin/env bash
# `osprof trace list` (and --error-trace, and `trace show`) on a `data` table of a million rows
# (10,000 traces of 100 events, one trace in 10 with an error), in the table and indexes osprof
# and Python's SQLAlchemy driver create, on a private server on loopback.
#
#   bench/sql_list_million.sh postgresql|mysql <osprof CLI> [rows]
#
# First the driver's sustained zero-drop rate into that table (`osprof bench --overflow block`).
# Then the rows are made by the server (INSERT ... SELECT: its own insert rate, no client),
# then ANALYZEd; each command runs three times and the times are printed.
set -euo pipefail

kind="${1:?usage: sql_list_million.sh postgresql|mysql <osprof CLI> [rows]}"
cli="$(realpath "${2:?osprof CLI missing}")"
rows="${3:-1000000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d /tmp/osprof-list-XXXXXX)"
chmod 755 "$dir"  # PostgreSQL runs as user postgres and must reach it
trap 'bash "$root/tests/servers/$kind.sh" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT

bash "$root/tests/servers/$kind.sh" start-fresh "$dir" >/dev/null
port="$(cat "$dir/port")"
if [[ "$kind" == postgresql ]]; then
  cs="postgresql://osprof:osprof-secret@127.0.0.1:$port/traces"
  "$cli" trace list --connection-string "$cs" >/dev/null 2>&1 || true  # no table yet
  run_sql() { runuser -u postgres -- psql -X -q -h "$dir" -p "$port" -U postgres -d traces -v ON_ERROR_STOP=1 -c "$1"; }
else
  cs="mysql+pymysql://osprof:osprof-secret@127.0.0.1:$port/traces"
  run_sql() { mariadb --no-defaults -S "$dir/sock" -uroot traces -e "$1"; }
fi
# The table and indexes as osprof creates them: one event written through the driver.
"$cli" bench --connection-string "$cs" --duration 0.1 --rate 10 >/dev/null 2>&1
# The driver's sustained zero-drop rate into that table, for comparison with the server's own
# rate below (the same server, minutes apart at most).
"$cli" bench --connection-string "$cs" --duration 4 --overflow block --block-timeout 60000 --drain-timeout 120 \
  --json "$dir/bench.json" >/dev/null 2>&1
echo "$kind: osprof bench, zero drops: $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["throughput"]["written_events_per_s"]))' "$dir/bench.json") events/s"
run_sql "DELETE FROM data"

started=$(date +%s.%N)
if [[ "$kind" == postgresql ]]; then
  run_sql "INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data)
    SELECT to_char(timestamp '2025-01-01' + i * interval '1 millisecond', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),
           md5((i / 100)::text)::uuid::text, md5((i / 100)::text)::uuid::text, md5(i::text)::uuid::text,
           'demo', 'vm', 'api', CASE WHEN i % 2 = 0 THEN 'point-start' ELSE 'point-stop' END,
           to_json(CASE WHEN i % 1000 = 1 THEN '{\"info\": {\"etype\": \"E\", \"message\": \"m\", \"host\": \"vm\"}}'
                        ELSE '{\"info\": {\"db\": {\"statement\": \"SELECT 1\"}, \"host\": \"vm\"}}' END)
    FROM generate_series(0, $rows - 1) i; ANALYZE data;"
else
  run_sql "INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data)
    SELECT DATE_FORMAT(TIMESTAMP'2025-01-01 00:00:00' + INTERVAL seq * 1000 MICROSECOND, '%Y-%m-%dT%H:%i:%s.%f'),
           INSERT(INSERT(INSERT(INSERT(MD5(seq DIV 100), 9, 0, '-'), 14, 0, '-'), 19, 0, '-'), 24, 0, '-'),
           INSERT(INSERT(INSERT(INSERT(MD5(seq DIV 100), 9, 0, '-'), 14, 0, '-'), 19, 0, '-'), 24, 0, '-'),
           INSERT(INSERT(INSERT(INSERT(MD5(seq), 9, 0, '-'), 14, 0, '-'), 19, 0, '-'), 24, 0, '-'),
           'demo', 'vm', 'api', IF(seq % 2 = 0, 'point-start', 'point-stop'),
           JSON_QUOTE(IF(seq % 1000 = 1, '{\"info\": {\"etype\": \"E\", \"message\": \"m\", \"host\": \"vm\"}}',
                         '{\"info\": {\"db\": {\"statement\": \"SELECT 1\"}, \"host\": \"vm\"}}'))
    FROM seq_0_to_$((rows - 1)); ANALYZE TABLE data;" >/dev/null
fi
made_s="$(python3 -c "print(round($(date +%s.%N) - $started, 1))")"
echo "$kind: $rows rows made in $made_s s by the server itself ($(python3 -c "print(round($rows / $made_s))") rows/s)"

time_it() {  # label, command...
  local label="$1"; shift
  local times=()
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >"$dir/out.txt"
    t1=$(date +%s%N)
    times+=("$(( (t1 - t0) / 1000000 )) ms")
  done
  echo "$kind: $label: ${times[*]} ($(wc -l <"$dir/out.txt") lines)"
}
time_it "trace list" "$cli" trace list --connection-string "$cs" --json
time_it "trace list --error-trace" "$cli" trace list --connection-string "$cs" --error-trace --json
trace="$("$cli" trace list --connection-string "$cs" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["base_id"])')"
time_it "trace show (100 events)" "$cli" trace show "$trace" --connection-string "$cs" --json
