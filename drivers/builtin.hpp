// Registration functions of the drivers shipped with osprof, called by
// register_builtin_drivers() (drivers/builtin_drivers.cpp).
#pragma once

#include "driver/registry.hpp"

namespace osprof::detail {

void register_null_driver(driver_registry& registry);
void register_memory_driver(driver_registry& registry);
void register_sqlite_driver(driver_registry& registry);
void register_redis_driver(driver_registry& registry);
void register_elasticsearch_driver(driver_registry& registry);
void register_otlp_driver(driver_registry& registry);
void register_influxdb_driver(driver_registry& registry);
void register_clickhouse_driver(driver_registry& registry);

}  // namespace osprof::detail
