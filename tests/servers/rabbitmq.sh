#!/usr/bin/env bash
# Starts and stops the RabbitMQ broker of the test suite on loopback, with everything (Erlang
# cookie, epmd, database, logs) in a state directory. CTest runs it as FIXTURES_SETUP /
# FIXTURES_CLEANUP tests; the fault tests call it to kill and restart the broker.
#
#   rabbitmq.sh start <dir>    new broker: AMQP port in <dir>/port, TLS port in <dir>/tls_port,
#                              the TLS CA in <dir>/tls/ca.pem (the server certificate names
#                              127.0.0.1 and localhost); user guest/guest
#   rabbitmq.sh restart <dir>  starts the broker of <dir> again (same ports, same database)
#   rabbitmq.sh kill <dir>     kill -9 of the broker (its database stays for a restart)
#   rabbitmq.sh ctl <dir> ARGS rabbitmqctl against the broker of <dir>
#   rabbitmq.sh running <dir>  exit 0 if the broker of <dir> runs and listens (no rabbitmqctl:
#                              cheap enough to check after every test)
#   rabbitmq.sh stop <dir>     stops the broker and its epmd
#
# Ports are chosen free at start (several builds may run the suite on one machine at once);
# epmd runs on a port of its own so it never meets a system's epmd on 4369.
set -euo pipefail

cmd="${1:?usage: rabbitmq.sh start|restart|kill|ctl|running|stop <dir>}"
dir="$(realpath -m "${2:?state directory missing}")"
bin=/usr/lib/rabbitmq/bin

die() { echo "rabbitmq.sh: $*" >&2; exit 1; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

[[ -x "$bin/rabbitmq-server" ]] || die "rabbitmq-server is needed (apt-get install rabbitmq-server)"

write_config() {  # base port
  local base="$1"
  mkdir -p "$dir/tls" "$dir/log" "$dir/mnesia"
  cat > "$dir/env.sh" <<EOF
export HOME="$dir"
export RABBITMQ_NODENAME=osprof_$base@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$base
export RABBITMQ_DIST_PORT=$((base + 2))
export ERL_EPMD_ADDRESS=127.0.0.1
export ERL_EPMD_PORT=$((base + 3))
export RABBITMQ_MNESIA_BASE="$dir/mnesia"
export RABBITMQ_LOG_BASE="$dir/log"
export RABBITMQ_LOGS=-
export RABBITMQ_PID_FILE="$dir/rabbit.pid"
export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
export RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
  touch "$dir/rabbitmq-env.conf"
  echo '[].' > "$dir/enabled_plugins"
  # A private CA and a server certificate for the TLS listener.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=osprof test CA" \
    -keyout "$dir/tls/ca.key" -out "$dir/tls/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$dir/tls/server.key" -out "$dir/tls/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$dir/tls/san.ext"
  openssl x509 -req -in "$dir/tls/server.csr" -CA "$dir/tls/ca.pem" -CAkey "$dir/tls/ca.key" \
    -CAcreateserial -days 30 -extfile "$dir/tls/san.ext" -out "$dir/tls/server.pem" >/dev/null 2>&1
  cat > "$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$base
listeners.ssl.default = 127.0.0.1:$((base + 1))
ssl_options.cacertfile = $dir/tls/ca.pem
ssl_options.certfile = $dir/tls/server.pem
ssl_options.keyfile = $dir/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
loopback_users = none
EOF
  echo "$base" > "$dir/port"
  echo "$((base + 1))" > "$dir/tls_port"
}

launch() {
  local port tls_port
  port="$(cat "$dir/port")"
  tls_port="$(cat "$dir/tls_port")"
  rm -f "$dir/rabbit.pid"
  # setsid: the broker outlives this script (CTest waits for the fixture test only).
  ( . "$dir/env.sh"; exec setsid "$bin/rabbitmq-server" >>"$dir/server.log" 2>&1 </dev/null ) &
  echo $! > "$dir/launcher.pid"
  for _ in $(seq 1 600); do
    if port_in_use "$port" && port_in_use "$tls_port"; then
      return 0
    fi
    gone "$(cat "$dir/launcher.pid")" && break
    sleep 0.05
  done
  return 1
}

beam_pid() {
  local pid
  [[ -s "$dir/rabbit.pid" ]] || return 1
  pid="$(cat "$dir/rabbit.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  grep -q "beam" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

kill_broker() {  # signal
  local pid
  pid="$(beam_pid)" || return 0
  kill "-$1" "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    gone "$pid" && return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_epmd() {
  [[ -f "$dir/env.sh" ]] || return 0
  ( . "$dir/env.sh"; epmd -kill >/dev/null 2>&1 ) || true
}

case "$cmd" in
  start)
    if [[ -f "$dir/env.sh" ]]; then kill_broker TERM; stop_epmd; fi
    rm -rf "$dir"; mkdir -p "$dir"
    for _ in $(seq 1 20); do
      base=$(( 20000 + (RANDOM * 32768 + RANDOM) % 9000 ))
      busy=0
      for p in $base $((base + 1)) $((base + 2)) $((base + 3)); do port_in_use "$p" && busy=1; done
      ((busy)) && continue
      write_config "$base"
      if launch; then
        echo "rabbitmq.sh: rabbitmq-server on 127.0.0.1:$base (TLS $((base + 1)), pid $(beam_pid || echo '?'))"
        exit 0
      fi
      kill_broker KILL; stop_epmd
      tail -20 "$dir/server.log" >&2 || true
      rm -rf "$dir"; mkdir -p "$dir"
    done
    die "could not start rabbitmq-server"
    ;;
  restart)
    [[ -f "$dir/env.sh" ]] || die "no broker was started in $dir"
    beam_pid >/dev/null && die "the broker of $dir is running"
    launch || { tail -20 "$dir/server.log" >&2; die "could not restart rabbitmq-server"; }
    echo "rabbitmq.sh: rabbitmq-server restarted on 127.0.0.1:$(cat "$dir/port")"
    ;;
  kill)
    kill_broker KILL
    ;;
  running)
    beam_pid >/dev/null && port_in_use "$(cat "$dir/port")"
    ;;
  ctl)
    shift 2
    ( . "$dir/env.sh"; exec "$bin/rabbitmqctl" -q "$@" )
    ;;
  stop)
    kill_broker TERM
    stop_epmd
    echo "rabbitmq.sh: stopped the broker of $dir"
    ;;
  *) die "unknown command '$cmd'" ;;
esac
