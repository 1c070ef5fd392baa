// The mongodb driver (CMake target osprof::mongodb): mongodb:// MongoDB through libmongoc, in Python OSProfiler's layout.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's scheme with osprof::register_driver(). @note Thread safe.
void register_mongodb();

}  // namespace osprof::drivers
