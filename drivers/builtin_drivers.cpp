#include "drivers/builtin.hpp"

namespace osprof::detail {

void register_builtin_drivers(driver_registry& registry) {
  register_sqlite_driver(registry);
  register_null_driver(registry);
  register_memory_driver(registry);
  register_redis_driver(registry);
  register_elasticsearch_driver(registry);
  register_otlp_driver(registry);
  register_influxdb_driver(registry);
  register_clickhouse_driver(registry);
}

}  // namespace osprof::detail
