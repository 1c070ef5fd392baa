#!/usr/bin/env bash
# Starts and stops a PostgreSQL 15 server (Debian's postgresql-15) for the test suite, on
# loopback, with its data in a state directory. CTest runs it as FIXTURES_SETUP /
# FIXTURES_CLEANUP tests; the fault tests run it themselves to kill and restart a private one.
#
#   postgresql.sh start <dir>   start a server; its port goes to <dir>/port (kept on a restart:
#                               <dir>/port and <dir>/data, if there, are used again). A new data
#                               directory is copied from $OSPROF_PG_TEMPLATE when that is set
#                               (an initialised, stopped cluster: quicker than initdb).
#   postgresql.sh start-fresh <dir>   the same on new data and a new port, copied from
#                               <dir>/template (made by initdb the first time, then kept: the
#                               fault tests copy it too)
#   postgresql.sh stop  <dir>   a fast shutdown
#   postgresql.sh kill  <dir>   an immediate shutdown (a crash: no checkpoint, recovery at start)
#
# The server: TCP on 127.0.0.1 only (TLS or not), its socket in <dir>; superuser `postgres`
# (trusted on the socket only), role `osprof` with password `osprof-secret` and CREATEDB, and a
# database `traces` owned by it. Over TCP every role needs its password (scram-sha-256).
# TLS files (a private CA, the server's certificate for 127.0.0.1 and localhost, a client
# certificate for `osprof`) are in <dir>/tls.
set -euo pipefail

cmd="${1:?usage: postgresql.sh start|stop|kill <dir>}"
dir="$(realpath -m "${2:?state directory missing}")"
bin="${OSPROF_PG_BIN:-/usr/lib/postgresql/15/bin}"

die() { echo "postgresql.sh: $*" >&2; exit 1; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

[[ -x "$bin/postgres" ]] || die "no PostgreSQL server in $bin (apt-get install postgresql-15)"

make_tls() {
  local t="$dir/tls"
  [[ -f "$t/server.crt" ]] && return 0
  # A template's files, when there is one (new keys take a while on a busy machine).
  if [[ -n "${OSPROF_PG_TEMPLATE:-}" && -f "${OSPROF_PG_TEMPLATE}/../tls/server.crt" ]]; then
    cp -r "${OSPROF_PG_TEMPLATE}/../tls" "$t"
    return 0
  fi
  mkdir -p "$t"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=osprof test CA" \
    -keyout "$t/ca.key" -out "$t/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$t/san.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
    -extfile "$t/san.ext" -out "$t/server.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=osprof" -keyout "$t/client.key" -out "$t/client.csr" 2>/dev/null
  openssl x509 -req -in "$t/client.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
    -out "$t/client.crt" 2>/dev/null
  # A CA that signed nothing here: trusting it must fail verification.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
    -keyout "$t/other-ca.key" -out "$t/other-ca.crt" 2>/dev/null
  chmod 600 "$t"/*.key
  chmod 755 "$t"
}

# A new cluster in $1: from the template, or initdb, then the roles and the database.
init_cluster() {
  local data="$1"
  if [[ -n "${OSPROF_PG_TEMPLATE:-}" && -f "$OSPROF_PG_TEMPLATE/PG_VERSION" ]]; then
    cp -a "$OSPROF_PG_TEMPLATE" "$data"
    return 0
  fi
  mkdir -p "$data"
  chown postgres: "$data" 2>/dev/null || true
  echo "postgres-secret" > "$dir/pwfile"
  chmod 644 "$dir/pwfile"
  as_postgres "$bin/initdb" -D "$data" -U postgres --pwfile="$dir/pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  rm -f "$dir/pwfile"
  # Roles and the database, on a private socket-only start.
  as_postgres "$bin/pg_ctl" -D "$data" -l "$dir/init.log" -o "-c listen_addresses= -k $dir" -w start >/dev/null
  as_postgres "$bin/psql" -X -q -h "$dir" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE ROLE osprof LOGIN CREATEDB PASSWORD 'osprof-secret';
CREATE DATABASE traces OWNER osprof;
SQL
  as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
}

# The state directory: the server (user postgres) writes its log and socket there.
prepare_dir() {
  mkdir -p "$dir"
  chmod 755 "$dir"
  chown postgres: "$dir" 2>/dev/null || true
  as_postgres test -x "$dir" || die "user postgres cannot reach $dir (a parent directory is not searchable, e.g. mktemp -d's mode 700)"
}

start() {
  prepare_dir
  make_tls
  # The server reads its key as postgres and wants it private.
  cp "$dir/tls/server.key" "$dir/tls/server-pg.key"
  chown postgres: "$dir/tls/server-pg.key" 2>/dev/null || true
  chmod 600 "$dir/tls/server-pg.key"
  [[ -f "$dir/data/PG_VERSION" ]] || init_cluster "$dir/data"
  local port tries
  for tries in $(seq 1 30); do
    if [[ -s "$dir/port" ]]; then
      port="$(cat "$dir/port")"
    else
      port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 9000 ))
      port_in_use "$port" && continue
    fi
    # One line: pg_ctl hands -o to a shell, where a newline would end the command.
    local server_options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off"
    server_options+=" -c full_page_writes=off -c max_connections=200 -c ssl=on -c ssl_cert_file=$dir/tls/server.crt"
    server_options+=" -c ssl_key_file=$dir/tls/server-pg.key -c ssl_ca_file=$dir/tls/ca.crt"
    if as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -t 30 -w start -o "$server_options" >/dev/null 2>&1; then
      echo "$port" > "$dir/port"
      echo "postgresql.sh: PostgreSQL on 127.0.0.1:$port (data $dir/data)"
      return 0
    fi
    [[ -s "$dir/port" ]] && break  # a fixed port that does not work: no point trying others
  done
  tail -20 "$dir/server.log" >&2 2>/dev/null || true
  die "could not start PostgreSQL (see $dir/server.log)"
}

stop() {  # mode
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m "$1" -w -t 30 stop >/dev/null 2>&1 || true
}

case "$cmd" in
  start) start ;;
  start-fresh)
    stop fast
    prepare_dir
    [[ -f "$dir/template/PG_VERSION" ]] || { rm -rf "$dir/template"; OSPROF_PG_TEMPLATE="" init_cluster "$dir/template"; }
    rm -rf "$dir/data" "$dir/port"
    OSPROF_PG_TEMPLATE="$dir/template" start
    ;;
  stop) stop fast; echo "postgresql.sh: stopped the server of $dir" ;;
  kill) stop immediate ;;
  *) die "unknown command '$cmd'" ;;
esac
