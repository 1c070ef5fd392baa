#!/usr/bin/env bash
# A build's osprof lists exactly the drivers OSPROF_DRIVERS selected, and links TLS and zlib
# only when a driver needs them: libssl for redis, mongodb, the HTTP drivers and the SQL servers'
# client libraries (libpq, MariaDB Connector/C), libz for the HTTP ones, mongodb and Connector/C.
# The drivers with large client libraries (mongodb, postgresql, mysql) are modules loaded when
# named: the command itself does not link libmongoc, libpq or libmariadb, their modules do.
#   drivers_and_libraries_test.sh <osprof binary> "<driver;driver;...>" <module dir>
set -euo pipefail
cli="$1"
IFS=';' read -r -a wanted <<<"$2"
module_dir="$3"

own_libs=$(ldd "$cli")
for client in libmongoc libpq libmariadb; do
  if grep -q "$client" <<<"$own_libs"; then
    echo "osprof links $client itself; it belongs to a driver module:"$'\n'"$own_libs" >&2
    exit 1
  fi
done
libs="$own_libs"
for d in mongodb postgresql mysql; do
  if printf '%s\n' "${wanted[@]}" | grep -qx "$d"; then
    module="$module_dir/osprof-$d.so"
    [[ -f "$module" ]] || { echo "the build has the $d driver but no module $module" >&2; exit 1; }
    libs+=$'\n'"$(ldd "$module")"
  fi
done

listed=$("$cli" drivers | awk '{print $1}' | sed 's|://$||; s|+.*$||; s|^rediss$|redis|; s|^redissentinel$|redis|; s|^rediscluster$|redis|; s|^rabbits\?$|messaging|; s|^amqps\?$|messaging|' | sort -u)
expected=$(printf '%s\n' "${wanted[@]}" | sort -u)
if [[ "$listed" != "$expected" ]]; then
  echo "osprof drivers lists:"$'\n'"$listed"$'\n'"but the build has:"$'\n'"$expected" >&2
  exit 1
fi

needs_tls=no
needs_zlib=no
for d in "${wanted[@]}"; do
  case "$d" in
    redis | messaging) needs_tls=yes ;;  # messaging: rabbitmq-c links libssl
    influxdb | clickhouse | elasticsearch | otlp | mysql) needs_tls=yes needs_zlib=yes ;;
    postgresql) needs_tls=yes ;;
    mongodb) needs_tls=yes needs_zlib=yes ;;  # through libmongoc (TLS, zlib compression)
  esac
done
has() { grep -q "$1" <<<"$libs" && echo yes || echo no; }
if [[ "$(has 'libssl\.so')" != "$needs_tls" ]]; then
  echo "libssl linked: $(has 'libssl\.so'), expected: $needs_tls"$'\n'"$libs" >&2
  exit 1
fi
if [[ "$(has 'libz\.so')" != "$needs_zlib" ]]; then
  echo "libz linked: $(has 'libz\.so'), expected: $needs_zlib"$'\n'"$libs" >&2
  exit 1
fi
echo "drivers: $(echo $listed); libssl: $needs_tls; libz: $needs_zlib"
