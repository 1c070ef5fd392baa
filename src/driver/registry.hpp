// Maps a connection string's scheme to the factory of its driver. Built-in drivers are
// registered explicitly by register_builtin_drivers(), defined in drivers/ (the core knows
// the interface, the drivers know the core, only that one function knows the list).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "driver/connection_string.hpp"
#include "driver/driver.hpp"

namespace osprof::detail {

using driver_factory = std::function<std::unique_ptr<driver>(const connection_string&, const driver_context&)>;

class driver_registry {
 public:
  /// The process-wide registry, with the built-in drivers registered.
  static driver_registry& instance();

  /// Adds (or replaces) the factory for `scheme`. `summary` is one line for `--help` and errors.
  void add(std::string scheme, driver_factory factory, std::string summary);

  /// Parses `text` and builds its driver. Throws osprof::error for a malformed string, an
  /// unknown scheme (listing the known ones) or an option the driver rejects.
  std::unique_ptr<driver> create(std::string_view text, const driver_context& context) const;

  struct entry {
    std::string scheme;
    std::string summary;
  };
  std::vector<entry> list() const;

 private:
  struct registered {
    std::string scheme;
    driver_factory factory;
    std::string summary;
  };
  mutable std::mutex mutex_;
  std::vector<registered> drivers_;
};

/// Registers every driver shipped with osprof. Defined in drivers/builtin_drivers.cpp.
void register_builtin_drivers(driver_registry& registry);

}  // namespace osprof::detail
