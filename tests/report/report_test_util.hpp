// Helpers for the report tests: stored events built from parts, and lookups in a report.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/time_format.hpp"
#include <osprof/render.hpp>
#include <osprof/report.hpp>

namespace osprof::test {

inline constexpr const char* base_id = "11111111-2222-3333-4444-555555555555";
inline constexpr std::int64_t t0 = 1'795'000'000'000'000;  // 2026-11-18T...; any instant works

/// A stored event as Python's drivers store it.
inline std::string event(const std::string& name, const std::string& trace_id, const std::string& parent_id,
                         std::int64_t time_us, const std::string& info = R"({"host": "vm"})",
                         const std::string& service = "api", const std::string& project = "demo",
                         const std::string& base = base_id) {
  return "{\"name\": \"" + name + "\", \"base_id\": \"" + base + "\", \"trace_id\": \"" + trace_id +
         "\", \"parent_id\": \"" + parent_id + "\", \"timestamp\": \"" + detail::format_timestamp(time_us) +
         "\", \"info\": " + info + ", \"project\": \"" + project + "\", \"service\": \"" + service + "\"}";
}

/// The first node (preorder) whose trace_id is `id`, or null.
inline const report_node* find_node(const std::vector<report_node>& nodes, const std::string& id) {
  for (const auto& n : nodes) {
    if (n.trace_id == id) return &n;
    if (const auto* found = find_node(n.children, id)) return found;
  }
  return nullptr;
}

inline std::size_t count_nodes(const std::vector<report_node>& nodes) {
  std::size_t count = 0;
  for (const auto& n : nodes) count += 1 + count_nodes(n.children);
  return count;
}

inline std::size_t count_substr(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace osprof::test
