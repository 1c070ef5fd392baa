// One event as drivers receive it: OSProfiler's notification, already formatted by the
// worker, with its columns broken out for backends that store them separately.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <osprof/uuid.hpp>

namespace osprof::detail {

struct event_record {
  std::string name;         ///< "<point>-start" or "<point>-stop"
  uuid base_id;
  uuid trace_id;
  uuid parent_id;
  std::int64_t time_us = 0;  ///< microseconds since the Unix epoch (UTC)
  std::array<char, 26> timestamp{};  ///< "%Y-%m-%dT%H:%M:%S.%f", UTC, no zone
  bool is_stop = false;
  bool has_error = false;   ///< a stop event whose info carries `etype`
  std::string info;         ///< the info object as JSON, `host` last
  std::string json;         ///< the whole notification, `project` and `service` included

  std::string_view timestamp_text() const noexcept { return {timestamp.data(), timestamp.size()}; }
  /// The point name: `name` without its final "-start"/"-stop".
  std::string_view point_name() const noexcept {
    return std::string_view(name).substr(0, name.size() - (is_stop ? 5 : 6));
  }
};

}  // namespace osprof::detail
