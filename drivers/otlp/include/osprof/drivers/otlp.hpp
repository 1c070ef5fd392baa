// The otlp driver (CMake target osprof::otlp): otlp://, otlp+https:// OTLP/HTTP JSON to a collector (write-only).
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_otlp();

}  // namespace osprof::drivers
