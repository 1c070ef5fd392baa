#!/usr/bin/env bash
# Starts and stops the Redis servers of the test suite, on loopback, with their data in a
# state directory. CTest runs it as FIXTURES_SETUP / FIXTURES_CLEANUP tests.
#
#   redis.sh start-single  <dir>   one server; its port goes to <dir>/port
#   redis.sh start-cluster <dir>   3 masters as a Redis Cluster; ports in <dir>/ports (one per line)
#   redis.sh start-tls     <dir>   one TLS-only server requiring client certificates, on
#                                  127.0.0.1 and 127.0.0.2 (its certificate names only the
#                                  first); port in <dir>/port, CA/client certificates in <dir>/tls/
#   redis.sh stop          <dir>   stops every server started in <dir>, by the PIDs it recorded
#
# Ports are chosen free at start (several builds may run the suite on one machine at once).
set -euo pipefail

cmd="${1:?usage: redis.sh start-single|start-cluster|start-tls|stop <dir>}"
dir="$(realpath -m "${2:?state directory missing}")"  # absolute: redis-server chdirs to --dir
server="${REDIS_SERVER:-$(command -v redis-server || true)}"
cli="${REDIS_CLI:-$(command -v redis-cli || true)}"

die() { echo "redis.sh: $*" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A PID that is gone or a zombie (daemonized servers are reparented; the reaper may be slow).
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# Stops every server whose PID file is in $dir: TERM to all, then KILL what is left after 5 s.
stop_all() {
  [[ -d "$dir" ]] || return 0
  local f pid pids=()
  for f in "$dir"/*.pid "$dir"/*/*.pid; do
    [[ -e "$f" ]] || continue
    pid="$(cat "$f")"
    rm -f "$f"
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    gone "$pid" && continue
    # Only a redis-server we started: the PID may have been reused since.
    grep -q "redis-server" "/proc/$pid/cmdline" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do
      gone "$pid" && break
      sleep 0.05
    done
    gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  done
  return 0
}

wait_ping() {  # port [tls args...]
  local port="$1"; shift
  for _ in $(seq 1 200); do
    if "$cli" -h 127.0.0.1 -p "$port" "$@" ping 2>/dev/null | grep -q PONG; then return 0; fi
    sleep 0.025
  done
  return 1
}

# start_server <name> <port> [extra redis-server args...]: daemonized, PID in <dir>/<name>.pid.
start_server() {
  local name="$1" port="$2"; shift 2
  mkdir -p "$dir/$name"
  "$server" --port "$port" --bind 127.0.0.1 --dir "$dir/$name" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/$name.pid" --logfile "$dir/$name/redis.log" \
    --enable-debug-command local "$@" >/dev/null 2>&1 || return 1
}

random_base() { echo $(( 20000 + (RANDOM * 32768 + RANDOM) % 9000 )); }

[[ -n "$server" && -n "$cli" ]] || die "redis-server and redis-cli are needed (apt-get install redis-server redis-tools)"

case "$cmd" in
  start-single)
    stop_all; rm -rf "$dir"; mkdir -p "$dir"
    for _ in $(seq 1 30); do
      port="$(random_base)"
      port_in_use "$port" && continue
      if start_server single "$port" && wait_ping "$port"; then
        echo "$port" > "$dir/port"
        echo "redis.sh: redis-server on 127.0.0.1:$port (pid $(cat "$dir/single.pid"))"
        exit 0
      fi
      stop_all
    done
    die "could not start redis-server (see $dir/single/redis.log)"
    ;;

  start-cluster)
    stop_all; rm -rf "$dir"; mkdir -p "$dir"
    for _ in $(seq 1 30); do
      base="$(random_base)"
      busy=0
      for p in $base $((base + 1)) $((base + 2)) $((base + 3)) $((base + 4)) $((base + 5)); do
        port_in_use "$p" && busy=1
      done
      ((busy)) && continue
      ok=1
      for i in 0 1 2; do
        p=$((base + i))
        # Bus ports next to the client ports (cluster-port, Redis 7), not port+10000.
        start_server "node$i" "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
          --cluster-node-timeout 2000 --cluster-port $((base + 3 + i)) || { ok=0; break; }
      done
      if ((ok)); then
        for i in 0 1 2; do wait_ping $((base + i)) || ok=0; done
      fi
      if ((ok)) && "$cli" --cluster create 127.0.0.1:$base 127.0.0.1:$((base + 1)) 127.0.0.1:$((base + 2)) \
          --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1; then
        for _ in $(seq 1 200); do
          if "$cli" -p "$base" cluster info 2>/dev/null | grep -q cluster_state:ok; then
            printf '%s\n%s\n%s\n' "$base" $((base + 1)) $((base + 2)) > "$dir/ports"
            echo "redis.sh: Redis Cluster on 127.0.0.1:$base-$((base + 2))"
            exit 0
          fi
          sleep 0.05
        done
      fi
      stop_all; rm -rf "$dir"; mkdir -p "$dir"
    done
    die "could not start the Redis Cluster"
    ;;

  start-tls)
    stop_all; rm -rf "$dir"; mkdir -p "$dir/tls"
    t="$dir/tls"
    # A private CA, a server certificate for 127.0.0.1 and localhost, and a client certificate.
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=osprof test CA" \
      -keyout "$t/ca.key" -out "$t/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$t/san.ext"
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
      -extfile "$t/san.ext" -out "$t/server.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=osprof client" -keyout "$t/client.key" -out "$t/client.csr" 2>/dev/null
    openssl x509 -req -in "$t/client.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
      -out "$t/client.crt" 2>/dev/null
    # A second CA that signed nothing here: trusting it must fail verification.
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
      -keyout "$t/other-ca.key" -out "$t/other-ca.crt" 2>/dev/null
    for _ in $(seq 1 30); do
      port="$(random_base)"
      port_in_use "$port" && continue
      if start_server tls 0 --tls-port "$port" --tls-cert-file "$t/server.crt" --tls-key-file "$t/server.key" \
          --tls-ca-cert-file "$t/ca.crt" --tls-auth-clients yes --bind 127.0.0.1 127.0.0.2 &&
         wait_ping "$port" --tls --cacert "$t/ca.crt" --cert "$t/client.crt" --key "$t/client.key"; then
        echo "$port" > "$dir/port"
        echo "redis.sh: TLS redis-server on 127.0.0.1:$port"
        exit 0
      fi
      stop_all
    done
    die "could not start the TLS redis-server (see $dir/tls/redis.log)"
    ;;

  stop)
    stop_all
    echo "redis.sh: stopped the servers of $dir"
    ;;

  *) die "unknown command '$cmd'" ;;
esac
