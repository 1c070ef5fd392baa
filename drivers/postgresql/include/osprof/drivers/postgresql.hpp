// The postgresql driver (CMake target osprof::postgresql): postgresql:// and postgresql+psycopg2://,
// OSProfiler's SQL layout on a PostgreSQL server through libpq's non-blocking pipeline API.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_postgresql();

}  // namespace osprof::drivers
