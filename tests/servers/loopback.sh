#!/usr/bin/env bash
# Starts and stops a loopback protocol server of the test suite (fake_elasticsearch.py,
# otlp_receiver.py, fake_mongodb.py) on a free 127.0.0.1 port. CTest runs it as FIXTURES_SETUP /
# FIXTURES_CLEANUP.
#
#   loopback.sh start <server.py> <dir>   the port goes to <dir>/port, the PID to <dir>/server.pid
#   loopback.sh stop  <dir>               stops the server started in <dir>, by its recorded PID
set -euo pipefail

cmd="${1:?usage: loopback.sh start <server.py> <dir> | stop <dir>}"
die() { echo "loopback.sh: $*" >&2; exit 1; }

stop_in() {
  local dir="$1" pid
  [[ -f "$dir/server.pid" ]] || return 0
  pid="$(cat "$dir/server.pid")"
  rm -f "$dir/server.pid"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  # Only the server we started: the PID may have been reused since.
  grep -q -e "fake_elasticsearch.py" -e "otlp_receiver.py" -e "fake_mongodb.py" "/proc/$pid/cmdline" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
}

case "$cmd" in
  start)
    script="$(realpath "${2:?server script missing}")"
    dir="$(realpath -m "${3:?state directory missing}")"
    stop_in "$dir"
    rm -rf "$dir"; mkdir -p "$dir"
    # Debian's python3: fake_mongodb.py needs its python3-mockupdb and python3-mongomock.
    /usr/bin/python3 "$script" --port-file "$dir/port" >"$dir/server.log" 2>&1 </dev/null &
    echo $! > "$dir/server.pid"
    for _ in $(seq 1 200); do
      if [[ -s "$dir/port" ]]; then
        echo "loopback.sh: $(basename "$script") on 127.0.0.1:$(cat "$dir/port") (pid $(cat "$dir/server.pid"))"
        exit 0
      fi
      kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || break
      sleep 0.05
    done
    cat "$dir/server.log" >&2 || true
    stop_in "$dir"
    die "could not start $(basename "$script")"
    ;;
  stop)
    dir="$(realpath -m "${2:?state directory missing}")"
    stop_in "$dir"
    echo "loopback.sh: stopped the server of $dir"
    ;;
  *) die "unknown command '$cmd'" ;;
esac
