// The elasticsearch driver (CMake target osprof::elasticsearch): elasticsearch://, elasticsearch+https:// OSProfiler's Elasticsearch layout.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_elasticsearch();

}  // namespace osprof::drivers
