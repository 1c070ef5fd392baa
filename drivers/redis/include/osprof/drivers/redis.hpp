// The redis driver (CMake target osprof::redis): redis://, rediss://, redissentinel://, rediscluster:// OSProfiler's Redis layout.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_redis();

}  // namespace osprof::drivers
