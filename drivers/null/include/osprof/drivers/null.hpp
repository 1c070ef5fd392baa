// The null driver (CMake target osprof::null): null:// discards every event.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_null();

}  // namespace osprof::drivers
