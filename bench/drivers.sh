# The drivers bench/run-suite.sh measures: one line each, fields separated by '|':
#
#   name | connection string | command that starts its server | command that stops it [| osprof bench options]
#
# The commands run from the repository root with $dir set to a fresh directory of the driver's
# own; a start command that writes $dir/port makes $port available to the connection string
# (tests/servers/*.sh do). "-" means no server. The optional last field is added to the
# throughput runs' `osprof bench` options (later options win). Adding a driver is adding its line.
bench_drivers=(
  'null|null://|-|-'
  'sqlite|sqlite:///$dir/bench.db|-|-'
  'redis|redis://127.0.0.1:$port|bash tests/servers/redis.sh start-single $dir|bash tests/servers/redis.sh stop $dir'
  # Loopback protocol servers in Python (no real Elasticsearch or collector here): their rows
  # measure the caller's cost truly, but throughput is the Python server's limit, not the driver's.
  'elasticsearch-loopback|elasticsearch://127.0.0.1:$port?index=bench-events&error_index=bench-errors|bash tests/servers/loopback.sh start tests/servers/fake_elasticsearch.py $dir|bash tests/servers/loopback.sh stop $dir|--duration 1'
  'otlp-loopback|otlp://127.0.0.1:$port|bash tests/servers/loopback.sh start tests/servers/otlp_receiver.py $dir|bash tests/servers/loopback.sh stop $dir|--duration 1'
)
# InfluxDB 1.6 and ClickHouse 18.16 (drivers/influxdb, drivers/clickhouse). ClickHouse makes a
# MergeTree part per INSERT and takes 512-event batches at well under 100,000 events/s here,
# 4,096-event batches at over that (drivers/clickhouse/README.md, Performance).
bench_drivers+=(
  'influxdb|influxdb://127.0.0.1:$port/bench|bash tests/servers/influxdb.sh start-fresh $dir|bash tests/servers/influxdb.sh stop $dir'
  'clickhouse|clickhouse://127.0.0.1:$port/default|bash tests/servers/clickhouse.sh start-fresh $dir|bash tests/servers/clickhouse.sh stop $dir|--batch-size 4096'
)
# PostgreSQL 15 and MariaDB 10.11 (drivers/postgresql, drivers/mysql): OSProfiler's SQL layout,
# a transaction per batch; the servers' index upkeep (eight indexes) sets the pace.
bench_drivers+=(
  'postgresql|postgresql://osprof:osprof-secret@127.0.0.1:$port/traces|bash tests/servers/postgresql.sh start-fresh $dir|bash tests/servers/postgresql.sh stop $dir'
  'mysql|mysql+pymysql://osprof:osprof-secret@127.0.0.1:$port/traces|bash tests/servers/mysql.sh start-fresh $dir|bash tests/servers/mysql.sh stop $dir'
)
# MongoDB (drivers/mongodb): no MongoDB server on Debian, so the loopback protocol server
# (mockupdb + mongomock, Python): the caller's cost is measured truly, the throughput is the
# Python server's limit, not the driver's or MongoDB's.
bench_drivers+=(
  'mongodb-loopback|mongodb://127.0.0.1:$port/bench|bash tests/servers/loopback.sh start tests/servers/fake_mongodb.py $dir|bash tests/servers/loopback.sh stop $dir|--duration 1'
)
# RabbitMQ 3.10 (drivers/messaging): oslo.messaging notifications with publisher confirms.
bench_drivers+=(
  'messaging|rabbit://guest:guest@127.0.0.1:$port/|bash tests/servers/rabbitmq.sh start $dir|bash tests/servers/rabbitmq.sh stop $dir'
)
