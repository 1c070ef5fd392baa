#!/usr/bin/env bash
# Starts and stops a MariaDB 10.11 server (Debian's mariadb-server) for the test suite, on
# loopback, with its data in a state directory. CTest runs it as FIXTURES_SETUP /
# FIXTURES_CLEANUP tests; the fault tests run it themselves to kill and restart a private one.
#
#   mysql.sh start <dir>   start mariadbd; its port goes to <dir>/port (kept on a restart:
#                          <dir>/port and <dir>/data, if there, are used again). A new data
#                          directory is copied from $OSPROF_MYSQL_TEMPLATE when that is set (an
#                          installed, stopped data directory: quicker than mariadb-install-db).
#   mysql.sh start-fresh <dir>   the same on new data and a new port, copied from <dir>/template
#                          (made by mariadb-install-db the first time, then kept: the fault tests
#                          copy it too)
#   mysql.sh stop  <dir>   a clean shutdown (SIGTERM), by the recorded PID
#   mysql.sh kill  <dir>   SIGKILL (a crash: InnoDB recovers at the next start)
#
# The server: TCP on 127.0.0.1 only (TLS or not), its socket <dir>/sock; `root` with password
# `root-secret` over TCP and none on the socket; `osprof` with password `osprof-secret` (all
# privileges, from 127.0.0.1 and on the socket), a database `traces` in utf8mb4. The server's
# character set is utf8mb4, as Debian's packaged configuration sets it. TLS files (a private CA,
# the server's certificate for 127.0.0.1 and localhost) are in <dir>/tls.
set -euo pipefail

cmd="${1:?usage: mysql.sh start|stop|kill <dir>}"
dir="$(realpath -m "${2:?state directory missing}")"
server="${OSPROF_MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}"
client="$(command -v mariadb || true)"

die() { echo "mysql.sh: $*" >&2; exit 1; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

[[ -x "$server" && -n "$client" ]] || die "mariadbd and mariadb are needed (apt-get install mariadb-server)"

make_tls() {
  local t="$dir/tls"
  [[ -f "$t/server.crt" ]] && return 0
  # A template's files, when there is one (new keys take a while on a busy machine).
  if [[ -n "${OSPROF_MYSQL_TEMPLATE:-}" && -f "${OSPROF_MYSQL_TEMPLATE}/../tls/server.crt" ]]; then
    cp -r "${OSPROF_MYSQL_TEMPLATE}/../tls" "$t"
    return 0
  fi
  mkdir -p "$t"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=osprof test CA" \
    -keyout "$t/ca.key" -out "$t/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$t/san.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
    -extfile "$t/san.ext" -out "$t/server.crt" 2>/dev/null
  # A CA that signed nothing here: trusting it must fail verification.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
    -keyout "$t/other-ca.key" -out "$t/other-ca.crt" 2>/dev/null
}

ours() {  # the PID of the mariadbd we started, if it still runs
  local pid
  [[ -f "$dir/pid" ]] || return 1
  pid="$(cat "$dir/pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  gone "$pid" && return 1
  # Only the server we started: the PID may have been reused since.
  [[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$server")" ]] || return 1
  echo "$pid"
}

# run_server <port> [extra args]: mariadbd in the background, PID in <dir>/pid.
run_server() {
  local port="$1"; shift
  # setsid: the server outlives this script (CTest's fixture), in a session of its own.
  setsid "$server" --no-defaults --user=root --datadir="$dir/data" --socket="$dir/sock" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" --skip-name-resolve --skip-log-bin \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=16M --innodb-buffer-pool-size=128M \
    --max-connections=200 --ssl-ca="$dir/tls/ca.crt" --ssl-cert="$dir/tls/server.crt" --ssl-key="$dir/tls/server.key" \
    "$@" >>"$dir/server.log" 2>&1 </dev/null &
  echo $! > "$dir/pid"
}

wait_ready() {
  local pid="$1"
  for _ in $(seq 1 300); do
    "$client" --no-defaults -S "$dir/sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && return 0
    gone "$pid" && return 1
    sleep 0.05
  done
  return 1
}

init_data() {  # into $1 (default <dir>/data)
  local data="${1:-$dir/data}"
  if [[ -n "${OSPROF_MYSQL_TEMPLATE:-}" && -d "$OSPROF_MYSQL_TEMPLATE/mysql" ]]; then
    cp -a "$OSPROF_MYSQL_TEMPLATE" "$data"
    return 0
  fi
  mariadb-install-db --no-defaults --datadir="$data" --auth-root-authentication-method=normal --user=root \
    --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
  # Users and the database, on a socket-only start.
  run_server 0 --skip-networking --datadir="$data"
  local pid; pid="$(cat "$dir/pid")"
  wait_ready "$pid" || { tail -20 "$dir/server.log" >&2; die "mariadbd did not start (see $dir/server.log)"; }
  "$client" --no-defaults -S "$dir/sock" -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY 'root-secret';
GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER 'osprof'@'127.0.0.1' IDENTIFIED BY 'osprof-secret';
CREATE USER 'osprof'@'localhost' IDENTIFIED BY 'osprof-secret';
GRANT ALL ON *.* TO 'osprof'@'127.0.0.1';
GRANT ALL ON *.* TO 'osprof'@'localhost';
CREATE DATABASE traces CHARACTER SET utf8mb4;
SQL
  kill -TERM "$pid"
  for _ in $(seq 1 200); do gone "$pid" && break; sleep 0.05; done
  rm -f "$dir/pid"
}

start() {
  mkdir -p "$dir"
  make_tls
  [[ -d "$dir/data/mysql" ]] || init_data
  local port
  for _ in $(seq 1 30); do
    if [[ -s "$dir/port" ]]; then
      port="$(cat "$dir/port")"
    else
      port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 9000 ))
      port_in_use "$port" && continue
    fi
    run_server "$port"
    if wait_ready "$(cat "$dir/pid")"; then
      echo "$port" > "$dir/port"
      echo "mysql.sh: MariaDB on 127.0.0.1:$port (data $dir/data)"
      return 0
    fi
    stop_server KILL
    [[ -s "$dir/port" ]] && break  # a fixed port that does not work: no point trying others
  done
  tail -20 "$dir/server.log" >&2 2>/dev/null || true
  die "could not start mariadbd (see $dir/server.log)"
}

stop_server() {  # signal
  local pid
  pid="$(ours)" || { rm -f "$dir/pid"; return 0; }
  kill "-$1" "$pid" 2>/dev/null || true
  for _ in $(seq 1 400); do gone "$pid" && break; sleep 0.05; done
  gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do gone "$pid" && break; sleep 0.02; done
  rm -f "$dir/pid"
}

case "$cmd" in
  start) start ;;
  start-fresh)
    stop_server TERM
    mkdir -p "$dir"
    make_tls
    [[ -d "$dir/template/mysql" ]] || { rm -rf "$dir/template"; OSPROF_MYSQL_TEMPLATE="" init_data "$dir/template"; }
    rm -rf "$dir/data" "$dir/port"
    OSPROF_MYSQL_TEMPLATE="$dir/template" start
    ;;
  stop) stop_server TERM; echo "mysql.sh: stopped the server of $dir" ;;
  kill) stop_server KILL ;;
  *) die "unknown command '$cmd'" ;;
esac
