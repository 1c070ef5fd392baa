// The drivers shipped with osprof, registered in one call (CMake target osprof::drivers,
// which links the drivers the build selected with OSPROF_DRIVERS). A program calls it once in
// main(), before it creates an emitter or reads a trace:
//
//   int main() {
//     osprof::register_builtin_drivers();
//     osprof::emitter tracing{osprof::options{.service = "api"}};
//     ...
//   }
//
// A program that links only some drivers (find_package(osprof COMPONENTS redis)) calls their
// own registration instead: osprof::drivers::register_redis() (<osprof/drivers/redis.hpp>).
#pragma once

#include <string>
#include <vector>

namespace osprof {
inline namespace v1 {

/// Registers every driver of this build with osprof::register_driver(). Calling it again
/// does no harm. @note Thread safe.
void register_builtin_drivers();

/// The names of the drivers in this build (as OSPROF_DRIVERS selected them).
std::vector<std::string> builtin_driver_names();

}  // namespace v1
}  // namespace osprof
