#include "driver/registry.hpp"

#include <algorithm>

#include <osprof/error.hpp>

namespace osprof::detail {

driver_registry& driver_registry::instance() {
  static driver_registry* registry = [] {
    auto* r = new driver_registry();
    register_builtin_drivers(*r);
    return r;
  }();
  return *registry;
}

void driver_registry::add(std::string scheme, driver_factory factory, std::string summary) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(drivers_.begin(), drivers_.end(), [&](const registered& r) { return r.scheme == scheme; });
  if (it != drivers_.end()) {
    it->factory = std::move(factory);
    it->summary = std::move(summary);
  } else {
    drivers_.push_back({std::move(scheme), std::move(factory), std::move(summary)});
  }
}

std::unique_ptr<driver> driver_registry::create(std::string_view text, const driver_context& context) const {
  const connection_string cs = connection_string::parse(text);
  driver_factory factory;
  std::string known;
  {
    std::lock_guard lock(mutex_);
    for (const auto& r : drivers_) {
      if (r.scheme == cs.scheme) factory = r.factory;
      if (!known.empty()) known += ", ";
      known += r.scheme;
    }
  }
  if (!factory) {
    throw error("invalid connection string '" + cs.redacted + "': unknown backend '" + cs.scheme +
                "'; known backends: " + known);
  }
  return factory(cs, context);
}

std::vector<driver_registry::entry> driver_registry::list() const {
  std::lock_guard lock(mutex_);
  std::vector<entry> out;
  for (const auto& r : drivers_) out.push_back({r.scheme, r.summary});
  return out;
}

}  // namespace osprof::detail
