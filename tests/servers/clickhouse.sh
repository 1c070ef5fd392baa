#!/usr/bin/env bash
# Starts and stops a ClickHouse server (Debian's clickhouse-server 18.16) for the test suite,
# on loopback, with its data in a state directory. CTest runs it as FIXTURES_SETUP /
# FIXTURES_CLEANUP tests; the fault tests run it themselves to kill, freeze and restart a
# private server.
#
#   clickhouse.sh start <dir>   start clickhouse-server; the HTTP port goes to <dir>/port. When
#                               <dir>/port and <dir>/tcp-port exist (a restart, or ports chosen
#                               beforehand) they are used, with the data kept.
#   clickhouse.sh start-fresh <dir>   the same on an emptied <dir> (new ports, no data)
#   clickhouse.sh stop  <dir>   SIGTERM, then SIGKILL after 10 s, by the recorded PID
#   clickhouse.sh kill  <dir>   SIGKILL now (a crash)
#
# A cluster `osprof_two_shards` names this server twice, with default databases osprof_shard1
# and osprof_shard2, so a Distributed table can be tested on one server.
# Users (users.xml): `default` without a password; with password `secret`: `writer`, `reader`
# (readonly=1: it can neither insert, nor create tables, nor change settings) and `inserter`
# (allow_ddl=0: it may insert but not create tables).
set -euo pipefail

cmd="${1:?usage: clickhouse.sh start|start-fresh|stop|kill <dir>}"
dir="$(realpath -m "${2:?state directory missing}")"
server="${CLICKHOUSE_SERVER:-$(command -v clickhouse-server || true)}"
[[ -n "$server" ]] || server="$(command -v /usr/sbin/clickhouse-server || true)"

die() { echo "clickhouse.sh: $*" >&2; exit 1; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

ours() {
  local pid
  [[ -f "$dir/pid" ]] || return 1
  pid="$(cat "$dir/pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  gone "$pid" && return 1
  # Only the server we started: the PID may have been reused since.
  [[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$server")" ]] || return 1
  echo "$pid"
}

stop_server() {  # signal
  local pid
  pid="$(ours)" || { rm -f "$dir/pid"; return 0; }
  kill "-$1" "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do gone "$pid" && break; sleep 0.05; done
  gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do gone "$pid" && break; sleep 0.02; done
  rm -f "$dir/pid"
}

write_config() {  # http_port tcp_port
  mkdir -p "$dir/log" "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
  cat > "$dir/config.xml" <<CONF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$1</http_port>
  <tcp_port>$2</tcp_port>
  <max_connections>256</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mark_cache_size>67108864</mark_cache_size>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <!-- Two shards on this one server (databases osprof_shard1/2): for a Distributed table test. -->
  <remote_servers>
    <osprof_two_shards>
      <shard><replica><host>127.0.0.1</host><port>$2</port><default_database>osprof_shard1</default_database></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>$2</port><default_database>osprof_shard2</default_database></replica></shard>
    </osprof_two_shards>
  </remote_servers>
</yandex>
CONF
  cat > "$dir/users.xml" <<'CONF'
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>2000000000</max_memory_usage></default>
    <readonly><readonly>1</readonly></readonly>
    <no_ddl><allow_ddl>0</allow_ddl></no_ddl>
  </profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile><quota>default</quota></default>
    <writer><password>secret</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile><quota>default</quota></writer>
    <reader><password>secret</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>readonly</profile><quota>default</quota></reader>
    <inserter><password>secret</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>no_ddl</profile><quota>default</quota></inserter>
  </users>
  <quotas><default></default></quotas>
</yandex>
CONF
}

launch() {  # http_port
  local port="$1"
  cd "$dir"  # the server resolves some paths against its working directory
  nohup "$server" --config-file="$dir/config.xml" >>"$dir/stdout.log" 2>&1 &
  echo $! > "$dir/pid"
  for _ in $(seq 1 500); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/ping"; then return 0; fi
    gone "$(cat "$dir/pid")" && return 1
    sleep 0.02
  done
  return 1
}

random_base() { echo $(( 20000 + (RANDOM * 32768 + RANDOM) % 9000 )); }

[[ -n "$server" ]] || die "clickhouse-server is needed (apt-get install clickhouse-server)"

case "$cmd" in
  start-fresh)  # a new server with empty data on new ports (the CTest fixture)
    stop_server TERM
    rm -rf "$dir"
    exec bash "$0" start "$dir"
    ;;
  start)
    stop_server TERM
    mkdir -p "$dir"
    if [[ -f "$dir/port" ]]; then
      port="$(cat "$dir/port")"
      write_config "$port" "$(cat "$dir/tcp-port")"
      launch "$port" || die "could not start clickhouse-server on port $port (see $dir/log/server.err.log)"
      echo "clickhouse.sh: clickhouse-server on 127.0.0.1:$port (pid $(cat "$dir/pid"), chosen port)"
      exit 0
    fi
    for _ in $(seq 1 30); do
      port="$(random_base)"; tcp=$((port + 1))
      port_in_use "$port" && continue
      port_in_use "$tcp" && continue
      write_config "$port" "$tcp"
      if launch "$port"; then
        echo "$port" > "$dir/port"
        echo "$tcp" > "$dir/tcp-port"
        echo "clickhouse.sh: clickhouse-server on 127.0.0.1:$port (pid $(cat "$dir/pid"))"
        exit 0
      fi
      stop_server KILL
    done
    die "could not start clickhouse-server (see $dir/log/server.err.log)"
    ;;
  stop)
    stop_server TERM
    echo "clickhouse.sh: stopped the server of $dir"
    ;;
  kill)
    stop_server KILL
    ;;
  *) die "unknown command '$cmd'" ;;
esac
