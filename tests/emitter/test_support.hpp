// Shared helpers for the emitter tests: unique memory:// stores and JSON field access.
#pragma once

#include <atomic>
#include <string>

#include <simdjson.h>

#include "support/memory_store.hpp"

namespace osprof_test {

/// A fresh memory:// store name per call, so tests never see each other's events.
inline std::string unique_store(const char* prefix) {
  static std::atomic<int> counter{0};
  return std::string(prefix) + "-" + std::to_string(counter.fetch_add(1));
}

/// Parses a stored event; fails the test if it is not valid JSON.
inline simdjson::dom::element parse_event(simdjson::dom::parser& parser, const std::string& json) {
  return parser.parse(json);
}

}  // namespace osprof_test
