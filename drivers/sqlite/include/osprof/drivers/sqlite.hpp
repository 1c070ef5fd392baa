// The sqlite driver (CMake target osprof::sqlite): sqlite:// the embedded default: a SQLite file in OSProfiler's SQL layout.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_sqlite();

}  // namespace osprof::drivers
