#!/usr/bin/env bash
# Starts and stops an InfluxDB 1.x server (Debian's influxd) for the test suite, on loopback,
# with its data in a state directory. CTest runs it as FIXTURES_SETUP / FIXTURES_CLEANUP
# tests; the fault tests run it themselves to kill, freeze and restart a private server.
#
#   influxdb.sh start <dir> [config lines...]   start influxd; the HTTP port goes to <dir>/port.
#                                               When <dir>/port and <dir>/rpc-port exist (a
#                                               restart, or ports chosen beforehand) they are
#                                               used, with the data kept. Extra lines go into the
#                                               [http] or [data] section: "data.key = value".
#   influxdb.sh start-fresh <dir> [...]        the same on an emptied <dir> (new ports, no data)
#   influxdb.sh stop  <dir>                     SIGTERM, then SIGKILL after 5 s, by the recorded PID
#   influxdb.sh kill  <dir>                     SIGKILL now (a crash)
#
# Ports are chosen free at start (several builds may run the suite on one machine at once).
set -euo pipefail

cmd="${1:?usage: influxdb.sh start|start-fresh|stop|kill <dir> [section.key = value ...]}"
dir="$(realpath -m "${2:?state directory missing}")"
shift 2
server="${INFLUXD:-$(command -v influxd || true)}"

die() { echo "influxdb.sh: $*" >&2; exit 1; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A PID that is gone or a zombie (background servers are reparented; the reaper may be slow).
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

ours() {  # prints the PID recorded in <dir>/pid if it is still our influxd
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
  for _ in $(seq 1 100); do gone "$pid" && break; sleep 0.05; done
  gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do gone "$pid" && break; sleep 0.02; done
  rm -f "$dir/pid"
}

write_config() {  # http_port rpc_port extra...
  local http="$1" rpc="$2"; shift 2
  local http_extra="" data_extra="" line
  for line in "$@"; do
    case "$line" in
      http.*) http_extra+="  ${line#http.}"$'\n' ;;
      data.*) data_extra+="  ${line#data.}"$'\n' ;;
      *) die "extra setting '$line' must start with http. or data." ;;
    esac
  done
  # Unlimited tag values (one per trace for base_id) unless a test sets its own limit.
  [[ "$data_extra" == *max-values-per-tag* ]] || data_extra="  max-values-per-tag = 0"$'\n'"$data_extra"
  cat > "$dir/influxdb.conf" <<CONF
reporting-enabled = false
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
$data_extra[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$http"
  log-enabled = false
$http_extra[logging]
  level = "warn"
CONF
}

launch() {  # http_port: starts influxd and waits for /ping (returns 1 if it does not come up)
  local port="$1"
  nohup "$server" run -config "$dir/influxdb.conf" >>"$dir/influxd.log" 2>&1 &
  echo $! > "$dir/pid"
  for _ in $(seq 1 250); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/ping"; then return 0; fi
    gone "$(cat "$dir/pid")" && return 1
    sleep 0.02
  done
  return 1
}

random_base() { echo $(( 20000 + (RANDOM * 32768 + RANDOM) % 9000 )); }

[[ -n "$server" ]] || die "influxd is needed (apt-get install influxdb)"

case "$cmd" in
  start-fresh)  # a new server with empty data on new ports (the CTest fixture)
    stop_server TERM
    rm -rf "$dir"
    exec bash "$0" start "$dir" "$@"
    ;;
  start)
    stop_server TERM
    mkdir -p "$dir"
    if [[ -f "$dir/port" ]]; then  # a restart: same port and data
      port="$(cat "$dir/port")"
      write_config "$port" "$(cat "$dir/rpc-port")" "$@"
      launch "$port" || die "could not start influxd on port $port (see $dir/influxd.log)"
      echo "influxdb.sh: influxd on 127.0.0.1:$port (pid $(cat "$dir/pid"), chosen port)"
      exit 0
    fi
    for _ in $(seq 1 30); do
      port="$(random_base)"; rpc=$((port + 1))
      port_in_use "$port" && continue
      port_in_use "$rpc" && continue
      write_config "$port" "$rpc" "$@"
      if launch "$port"; then
        echo "$port" > "$dir/port"
        echo "$rpc" > "$dir/rpc-port"
        echo "influxdb.sh: influxd on 127.0.0.1:$port (pid $(cat "$dir/pid"))"
        exit 0
      fi
      stop_server KILL
    done
    die "could not start influxd (see $dir/influxd.log)"
    ;;
  stop)
    stop_server TERM
    echo "influxdb.sh: stopped the server of $dir"
    ;;
  kill)
    stop_server KILL
    ;;
  *) die "unknown command '$cmd'" ;;
esac
