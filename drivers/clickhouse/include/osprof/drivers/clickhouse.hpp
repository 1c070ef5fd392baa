// The clickhouse driver (CMake target osprof::clickhouse): clickhouse://, clickhouse+https:// a ClickHouse table.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_clickhouse();

}  // namespace osprof::drivers
