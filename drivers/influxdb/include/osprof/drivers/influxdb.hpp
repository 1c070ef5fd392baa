// The influxdb driver (CMake target osprof::influxdb): influxdb://, influxdb+https:// InfluxDB 1.x.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_influxdb();

}  // namespace osprof::drivers
